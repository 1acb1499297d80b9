-- wrk script of bench/ingest.py for reads and documents: rotate over a list of requests.
--
-- Arguments after `--`: the requests file (one request a line: method, path with its query
-- string, headers as "Name: value" joined by "|", and a one-line body, separated by tabs;
-- headers and body may be empty), the Authorization header, the most
-- requests one thread may complete, and "1" to follow StatementResult `more` links (each
-- `more` of a 200 answer is requested next, before the next line, until a page has none).
-- Any 2xx answer is a success. The run ends at wrk's -d duration or when one thread has
-- completed its quota. done() prints one line, `BENCH-RESULT {json}`, for the harness.
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

local lines = {}
local pending = {}
local quota, follow = 0, false
local completed, next_line = 0, 1
non200 = 0
statuses = {}
pages_followed = 0

function init(args)
  -- Every request carries these (requests formatted below, and `more` follow-ups).
  wrk.headers["Authorization"] = args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Experience-API-Version"] = "2.0.0"
  local file = assert(io.open(args[1], "rb"))
  for line in file:lines() do
    local method, path, fields, body = line:match("^([A-Z]+)\t([^\t]+)\t([^\t]*)\t(.*)$")
    if method then
      -- wrk.format takes the headers given instead of wrk.headers: start from a copy.
      local headers = {}
      for name, value in pairs(wrk.headers) do headers[name] = value end
      for name, value in fields:gmatch("([^|:]+): ([^|]*)") do headers[name] = value end
      if body == "" then body = nil end
      lines[#lines + 1] = wrk.format(method, path, headers, body)
    end
  end
  file:close()
  assert(#lines > 0, "no requests in " .. args[1])
  quota = tonumber(args[3])
  follow = args[4] == "1"
  next_line = (index * 97) % #lines + 1
end

function request()
  if #pending > 0 then
    return wrk.format("GET", table.remove(pending, 1), wrk.headers)
  end
  local out = lines[next_line]
  next_line = next_line % #lines + 1
  return out
end

function response(status, headers, body)
  completed = completed + 1
  if status < 200 or status > 299 then
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
  elseif follow then
    local more = body:match('"more":"([^"]+)"}%s*$')
    if more then
      pending[#pending + 1] = more
      pages_followed = pages_followed + 1
    end
  end
  if completed >= quota then
    ffi.C.kill(ffi.C.getpid(), SIGINT)
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, followed, by_status = 0, 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    followed = followed + thread:get("pages_followed")
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
    .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"followed":%d}\n',
    summary.requests, summary.duration, summary.bytes, bad, table.concat(codes, ","),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, followed))
end
