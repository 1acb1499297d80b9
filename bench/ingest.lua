-- wrk script of bench/ingest.py: POST statement batches, each statement with a fresh random id.
--
-- Arguments after `--`: the bodies file (one JSON body per line, every statement id replaced
-- by the placeholder), the Authorization header, the most requests one thread may complete,
-- the placeholder, and a random number of the run (two runs must never make the same ids).
-- The run ends at wrk's -d duration or as soon as one thread has completed its quota,
-- whichever comes first. done() prints one line, `BENCH-RESULT {json}`, for the harness.
local ffi = require("ffi")
ffi.cdef [[
  int kill(int pid, int sig);
  int getpid(void);
]]
local SIGINT = 2

local threads = {}

function setup(thread)
  thread:set("index", #threads + 1)
  table.insert(threads, thread)
end

local templates = {}
local quota = 0
local completed, counter, next_template, run = 0, 0, 1, 0
non200 = 0
statuses = {}

function init(args)
  local placeholder = args[4]
  local file = assert(io.open(args[1], "rb"))
  for line in file:lines() do
    local parts, from = {}, 1
    while true do
      local at = line:find(placeholder, from, true)
      if not at then break end
      parts[#parts + 1] = line:sub(from, at - 1)
      from = at + #placeholder
    end
    parts[#parts + 1] = line:sub(from)
    templates[#templates + 1] = parts
  end
  file:close()
  wrk.method = "POST"
  wrk.headers["Authorization"] = args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Experience-API-Version"] = "2.0.0"
  quota = tonumber(args[3])
  -- Neither threads nor runs may share a random sequence; the id's last part (thread, run,
  -- counter) keeps ids unique within a run regardless.
  run = tonumber(args[5])
  math.randomseed(run + index * 7919)
  next_template = (index * 97) % #templates + 1
end

-- A version 4 UUID: 74 random bits, then this thread's number, the run's and a counter. The
-- random head keeps inserts spread over the id index, as real clients' uuid4s are.
local function uuid()
  counter = counter + 1
  return string.format("%04x%04x-%04x-4%03x-%04x-%02x%04x%06x",
    math.random(0, 0xffff), math.random(0, 0xffff), math.random(0, 0xffff),
    math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), index % 256,
    run % 0x10000, counter % 0x1000000)
end

function request()
  local parts = templates[next_template]
  next_template = next_template % #templates + 1
  local pieces = {}
  for i = 1, #parts - 1 do
    pieces[#pieces + 1] = parts[i]
    pieces[#pieces + 1] = uuid()
  end
  pieces[#pieces + 1] = parts[#parts]
  return wrk.format(nil, nil, nil, table.concat(pieces))
end

function response(status, headers, body)
  completed = completed + 1
  if status ~= 200 then
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
  if completed >= quota then
    -- wrk's main thread sleeps for the whole -d duration; SIGINT wakes it to stop every
    -- thread and report (wrk's own Ctrl-C handling).
    ffi.C.kill(ffi.C.getpid(), SIGINT)
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, by_status = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    for code, count in pairs(thread:get("statuses")) do
      by_status[code] = (by_status[code] or 0) + count
    end
  end
  local codes = {}
  for code, count in pairs(by_status) do
    codes[#codes + 1] = string.format('"%d":%d', code, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"non200":%d,"statuses":{%s},'
    .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,'
    .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad, table.concat(codes, ","),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
