// The dashboard: reads only the public aggregates API (/api/v1/aggregates/…), either with the
// session of a person signed in with the analyst role (the cookie) or with the credential the
// user types in. The key and secret live in this closure, never in the URL, localStorage or
// sessionStorage; the filters live in the URL so a view can be shared.
"use strict";

(() => {
  const API = "/api/v1/aggregates";
  const DAY_MS = 86400000;
  const HOUR_MS = 3600000;
  const FILTER_KEYS = ["window", "from", "to", "verb", "platform", "type", "by", "limit",
                       "granularity"];
  const DEFAULTS = {window: "week", by: "hits", limit: "10", granularity: "day"};
  const PALETTE = ["#1f5fa6", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#be123c",
                   "#0e7490", "#4d7c0f"];
  const VERB_NAMES = {
    "http://id.tincanapi.com/verb/viewed": "viewed",
    "http://adlnet.gov/expapi/verbs/experienced": "experienced",
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/attempted": "attempted",
    "http://adlnet.gov/expapi/verbs/passed": "passed",
    "http://adlnet.gov/expapi/verbs/failed": "failed",
    "http://activitystrea.ms/schema/1.0/like": "liked",
    "https://w3id.org/xapi/video/verbs/played": "played",
    "http://id.tincanapi.com/verb/downloaded": "downloaded",
    "http://adlnet.gov/expapi/verbs/commented": "commented",
  };

  let auth = null;  // the Authorization header value, in memory only
  let session = false;  // signed in as a person with the analyst role: the cookie is enough
  let charts = [];  // uPlot instances, destroyed before each redraw
  let k = 5;  // the suppression threshold, as the API reports it ({"fewer_than": k})
  const $ = (id) => document.getElementById(id);

  // ---- signing in -------------------------------------------------------------------

  function basic(key, secret) {
    const bytes = new TextEncoder().encode(`${key}:${secret}`);
    let text = "";
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return "Basic " + btoa(text);
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") query.set(name, value);
    }
    const response = await fetch(`${API}/${path}?${query}`, session
      ? {headers: {"X-Requested-With": "dashboard"}, credentials: "same-origin", cache: "no-store"}
      : {headers: {"Authorization": auth, "X-Requested-With": "dashboard"},
         credentials: "omit", cache: "no-store"});
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
      throw new ApiError(response.status, message);
    }
    return response.json();
  }

  async function signIn(event) {
    event.preventDefault();
    const key = $("key").value.trim();
    const secret = $("secret").value;
    const error = $("sign-in-error");
    if (!key || !secret) { error.textContent = "Give both the key and the secret."; return; }
    auth = basic(key, secret);
    try {
      await api("summary", windowParams(readState()));
    } catch (exc) {
      auth = null;
      error.textContent = exc.status === 401 ? "Unknown key or secret, or a revoked credential."
        : exc.status === 403 ? "This credential lacks the aggregates/read scope."
        : `Could not sign in: ${exc.message}`;
      $("secret").focus();
      return;
    }
    $("sign-in-form").reset();
    error.textContent = "";
    $("sign-in").hidden = true;
    $("board").hidden = false;
    $("sign-out").hidden = false;
    showState(readState());
    await load();
    $("main").focus();
  }

  function signOut() {
    auth = null;
    charts.forEach((c) => c.destroy());
    charts = [];
    $("board").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    $("key").focus();
  }

  // ---- the session of a signed-in analyst -----------------------------------------

  function signInUrl() {
    return `/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`;
  }

  // Who the session is (GET /api/v1/me); null when nobody is signed in.
  async function me() {
    try {
      const response = await fetch("/api/v1/me", {headers: {"X-Requested-With": "dashboard"},
                                                   credentials: "same-origin", cache: "no-store"});
      return response.ok ? await response.json() : null;
    } catch (_) {
      return null;
    }
  }

  async function startWithSession(person) {
    session = true;
    $("sign-in").hidden = true;
    $("board").hidden = false;
    $("person").hidden = false;
    $("person-name").textContent = person.name;
    showState(readState());
    await load();
  }

  // ---- filters in the URL -----------------------------------------------------------

  function readState() {
    const query = new URLSearchParams(location.search);
    const state = {...DEFAULTS};
    for (const name of FILTER_KEYS) if (query.get(name)) state[name] = query.get(name);
    return state;
  }

  function showState(state) {
    const form = $("filters");
    for (const name of FILTER_KEYS) {
      const field = form.elements[name];
      if (!field) continue;
      if (field.tagName === "SELECT" && state[name] &&
          ![...field.options].some((o) => o.value === state[name])) {
        field.add(new Option(label(name, state[name]), state[name]));
      }
      field.value = state[name] || "";
    }
    form.classList.toggle("custom", state.window === "custom");
  }

  function label(name, value) {
    return name === "verb" ? verbName(value) : value;
  }

  function formState() {
    const form = $("filters");
    const state = {};
    for (const name of FILTER_KEYS) {
      const value = form.elements[name].value.trim();
      if (value && value !== DEFAULTS[name]) state[name] = value;
    }
    if (state.window !== "custom") { delete state.from; delete state.to; }
    return state;
  }

  async function applyFilters(event) {
    event.preventDefault();
    const query = new URLSearchParams(formState()).toString();
    history.pushState(null, "", `${location.pathname}${query ? "?" + query : ""}`);
    showState(readState());
    await load();
  }

  // ---- windows ----------------------------------------------------------------------

  const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

  function windowParams(state) {
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(),
                           new Date().getUTCDate());
    if (state.window === "custom" && state.from && state.to) {
      return {from: state.from, to: state.to};
    }
    const days = {day: 1, week: 7, month: 30}[state.window] || 7;
    return {from: iso(today - (days - 1) * DAY_MS), to: iso(today)};
  }

  function filterParams(state) {
    return {verb: state.verb, platform: state.platform, activity_type: state.type};
  }

  function buckets(span, hourly) {
    const start = Date.parse(span.from + "T00:00:00Z");
    const end = Date.parse(span.to + "T00:00:00Z") + DAY_MS;
    const step = hourly ? HOUR_MS : DAY_MS;
    const out = [];
    for (let t = start; t < end; t += step) out.push(t);
    return out;
  }

  // ---- figures ----------------------------------------------------------------------

  const suppressed = (value) => typeof value === "object" && value !== null;

  function figure(value) {
    if (suppressed(value)) {
      k = value.fewer_than;
      document.querySelectorAll(".k").forEach((e) => { e.textContent = k; });
      return `fewer than ${value.fewer_than}`;
    }
    return Number(value).toLocaleString("en");
  }

  function figureCell(row, value) {
    const cell = row.insertCell();
    cell.className = "num" + (suppressed(value) ? " suppressed" : "");
    cell.textContent = figure(value);
    return cell;
  }

  function displayName(name, iri) {
    if (!name) return iri;
    const wanted = [...navigator.languages, "en", "en-US", "en-GB"];
    for (const tag of wanted) if (name[tag]) return name[tag];
    const base = wanted.map((t) => t.split("-")[0]);
    for (const [tag, text] of Object.entries(name)) {
      if (base.includes(tag.split("-")[0])) return text;
    }
    return Object.values(name)[0] || iri;
  }

  function verbName(iri) {
    return VERB_NAMES[iri] || iri.replace(/\/+$/, "").split("/").pop() || iri;
  }

  function resourceCell(row, name, iri) {
    const cell = row.insertCell();
    const title = document.createElement("span");
    title.className = "name";
    title.textContent = displayName(name, iri);
    const sub = document.createElement("span");
    sub.className = "iri";
    sub.textContent = iri;
    cell.append(title, sub);
    return cell;
  }

  function clear(id) {
    const body = $(id).tBodies[0];
    body.replaceChildren();
    return body;
  }

  function emptyRow(body, columns, text) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = columns;
    cell.className = "empty";
    cell.textContent = text;
  }

  // ---- loading ----------------------------------------------------------------------

  async function load() {
    const state = readState();
    const span = windowParams(state);
    const filters = filterParams(state);
    // One day has one daily point: show its hours instead.
    const hourly = state.granularity === "hour" || span.from === span.to;
    $("window-label").textContent = `Showing ${span.from} to ${span.to} (UTC)`;
    $("load-error").textContent = "";
    document.body.setAttribute("aria-busy", "true");
    try {
      const [popular, summary, unopened, compliance, unfiltered] = await Promise.all([
        api("popular", {...span, ...filters, by: state.by, limit: state.limit}),
        api("summary", {...span, ...filters}),
        api("unopened", {...span, ...filters, limit: 100}),
        api("compliance", span),
        api("summary", span),
      ]);
      const series = await Promise.all(popular.activities.map((row) => api("series", {
        activity: row.activity, ...span, ...filters,
        granularity: hourly ? "hour" : "day"})));
      charts.forEach((c) => c.destroy());
      charts = [];
      fillFilterOptions(unfiltered);
      showUniques(popular.uniques);
      showPrivacy(popular.privacy);
      showPopular(popular, series, span, hourly);
      showTrends(popular, series, span, hourly);
      showUnopened(unopened);
      showWhere(summary);
      showCompliance(compliance);
    } catch (exc) {
      if (exc.status === 401 && session) { location.assign(signInUrl()); return; }
      if (exc.status === 401) { signOut(); $("sign-in-error").textContent =
        "The credential no longer works: sign in again."; return; }
      $("load-error").textContent = `Could not load the figures: ${exc.message}`;
    } finally {
      document.body.removeAttribute("aria-busy");
    }
  }

  function fillFilterOptions(summary) {
    const state = readState();
    const fill = (id, values, name) => {
      const select = $(id);
      const keep = select.options[0];
      select.replaceChildren(keep);
      for (const value of values) select.add(new Option(name(value), value));
      if (state[select.name] && !values.includes(state[select.name])) {
        select.add(new Option(name(state[select.name]), state[select.name]));
      }
      select.value = state[select.name] || "";
    };
    fill("f-verb", Object.keys(summary.by_verb).sort(), verbName);
    fill("f-platform", Object.keys(summary.by_platform).filter((p) => p !== "(none)").sort(),
         (p) => p);
  }

  function pointsOf(series, times, hourly) {
    const byTime = new Map();
    for (const point of series.points) {
      const t = Date.parse(hourly ? point.bucket : point.bucket + "T00:00:00Z");
      byTime.set(t, suppressed(point.hits) ? null : point.hits);
    }
    return times.map((t) => (byTime.has(t) ? byTime.get(t) : 0));
  }

  function showPopular(popular, series, span, hourly) {
    const body = clear("popular-table");
    if (!popular.activities.length) {
      emptyRow(body, 5, "No hits in this window under these filters.");
      return;
    }
    const times = buckets(span, hourly).map((t) => t / 1000);
    popular.activities.forEach((row, i) => {
      const tr = body.insertRow();
      tr.insertCell().textContent = String(i + 1);
      resourceCell(tr, row.name, row.activity);
      figureCell(tr, row.hits);
      figureCell(tr, row.learner_periods);
      const cell = tr.insertCell();
      const values = pointsOf(series[i], times.map((t) => t * 1000), hourly);
      const spark = document.createElement("div");
      spark.className = "spark";
      spark.setAttribute("role", "img");
      spark.setAttribute("aria-label", `Trend of ${displayName(row.name, row.activity)}: ` +
        values.map((v) => (v === null ? "fewer than k" : v)).join(", "));
      cell.append(spark);
      charts.push(new uPlot({
        width: 140, height: 36, class: "spark-plot", legend: {show: false},
        cursor: {show: false}, select: {show: false},
        scales: {x: {time: false, range: () => [times[0], times[times.length - 1]]},
                 y: {range: (u, min, max) => [0, Math.max(1, max)]}},
        axes: [{show: false}, {show: false}],
        series: [{}, {stroke: PALETTE[0], width: 1.5, fill: "rgba(31,95,166,0.12)",
                      points: {show: false}}],
      }, [times, values], spark));
    });
  }

  // What the learner column counts: true uniques within one key period, else
  // person-periods (a learner counted once in each day, week or month they came).
  function showUniques(uniques) {
    const head = $("learners-head");
    const unit = uniques.true_uniques ? "Unique learners" : `Learner-${uniques.key_period}s`;
    head.textContent = unit;
    head.title = uniques.true_uniques
      ? `Estimated distinct learners: the window lies in one ${uniques.key_period}, the ` +
        "period of the key that hashes learners, so each learner is counted once."
      : `Estimated learners counted once per ${uniques.key_period} they came in ` +
        `(${uniques.periods} ${uniques.key_period}s in this window): a learner who came on ` +
        `two ${uniques.key_period}s counts twice. Not unique learners.`;
    $("uniques-note").textContent = uniques.true_uniques
      ? `Unique learners are estimates from anonymous sketches: the window lies in one ` +
        `key ${uniques.key_period}, so each learner is counted once.`
      : `Learner figures count ${uniques.counted_as}: each learner once per ` +
        `${uniques.key_period} they came (the learner-hash key changes every ` +
        `${uniques.key_period}). Activities with no hits are under “Never opened”.`;
  }

  // With differential privacy on: the epsilon of each release and what is left of the
  // budget of the window's days.
  function showPrivacy(privacy) {
    const note = $("privacy-note");
    note.hidden = !privacy;
    if (!privacy) return;
    note.textContent = `Differential privacy: each closed day's figures are released once ` +
      `with noise, ε = ${privacy.epsilon} per release; budget ${privacy.budget_per_day} ` +
      `per day, ${privacy.remaining} left on the most spent day of this window. ` +
      (privacy.released_through
        ? `Figures cover closed days up to ${privacy.released_through}.`
        : "No closed day in this window yet.");
  }

  function showTrends(popular, series, span, hourly) {
    const options = $("trend-options");
    const previously = new Set([...options.querySelectorAll("input:checked")]
      .map((box) => box.value));
    options.replaceChildren();
    const times = buckets(span, hourly);
    const rows = popular.activities.map((row, i) => ({row, values: pointsOf(series[i], times,
                                                                            hourly)}));
    const wanted = previously.size ? previously
      : new Set(rows.slice(0, 3).map((r) => r.row.activity));
    rows.forEach(({row}, i) => {
      const id = `trend-${i}`;
      const box = Object.assign(document.createElement("input"),
                                {type: "checkbox", id, value: row.activity,
                                 checked: wanted.has(row.activity)});
      const text = Object.assign(document.createElement("label"), {htmlFor: id});
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = PALETTE[i % PALETTE.length];
      text.append(swatch, displayName(row.name, row.activity));
      box.addEventListener("change", () => drawTrend(rows, times, hourly));
      const wrap = document.createElement("div");
      wrap.append(box, text);
      options.append(wrap);
    });
    drawTrend(rows, times, hourly);
  }

  function drawTrend(rows, times, hourly) {
    const picked = rows.map((r, i) => ({...r, color: PALETTE[i % PALETTE.length]}))
      .filter((r) => $("trend-options").querySelector(`input[value="${CSS.escape(
        r.row.activity)}"]`)?.checked);
    const holder = $("trend-chart");
    const old = charts.find((c) => c.root.parentElement === holder);
    if (old) { old.destroy(); charts = charts.filter((c) => c !== old); }
    holder.replaceChildren();
    const names = picked.map((r) => displayName(r.row.name, r.row.activity));
    $("trend-caption").textContent = picked.length
      ? `Hits per ${hourly ? "hour" : "day"} (UTC) of ${names.join(", ")}. Buckets with ` +
        "fewer hits than the threshold are left as gaps; the table below has every figure."
      : "Pick one or more resources above to plot their hits over time.";
    fillTrendTable(picked, names, times, hourly);
    if (!picked.length) return;
    const width = Math.max(280, holder.clientWidth || 600);
    charts.push(new uPlot({
      width, height: 260, legend: {show: true},
      scales: {x: {time: true, range: () => [times[0] / 1000,
                                               times[times.length - 1] / 1000]},
               y: {range: (u, min, max) => [0, Math.max(1, max)]}},
      axes: [{}, {label: "Hits"}],
      series: [{label: hourly ? "Hour" : "Day"}, ...picked.map((r, i) => ({
        label: names[i], stroke: r.color, width: 2, spanGaps: false}))],
    }, [times.map((t) => t / 1000), ...picked.map((r) => r.values)], holder));
  }

  function fillTrendTable(picked, names, times, hourly) {
    const table = $("trend-table");
    const head = table.tHead;
    head.replaceChildren();
    const hr = head.insertRow();
    const first = document.createElement("th");
    first.scope = "col";
    first.textContent = hourly ? "Hour (UTC)" : "Day (UTC)";
    hr.append(first);
    for (const name of names) {
      const th = document.createElement("th");
      th.scope = "col";
      th.className = "num";
      th.textContent = name;
      hr.append(th);
    }
    const body = clear("trend-table");
    times.forEach((t, j) => {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = hourly ? new Date(t).toISOString().slice(0, 13) + ":00" : iso(t);
      tr.append(th);
      for (const r of picked) {
        const value = r.values[j];
        figureCell(tr, value === null ? {fewer_than: k} : value);
      }
    });
  }

  function showUnopened(unopened) {
    const list = $("unopened-list");
    list.replaceChildren();
    const n = unopened.total;
    $("unopened-summary").textContent = n === 0
      ? "Every known resource was opened in this window."
      : `${n} known resource${n === 1 ? " was" : "s were"} not opened in this window` +
        (n > unopened.activities.length ? ` (the first ${unopened.activities.length} shown)`
          : "") + ". Known: in the compliance catalogue, or hit at least once since " +
        `${unopened.known_since}.`;
    for (const row of unopened.activities) {
      const item = document.createElement("li");
      const title = document.createElement("span");
      title.className = "name";
      title.textContent = displayName(row.name, row.activity);
      const sub = document.createElement("span");
      sub.className = "iri";
      sub.textContent = row.activity;
      item.append(title);
      if (row.mandatory) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "mandatory";
        item.append(" ", tag);
      }
      item.append(sub);
      list.append(item);
    }
  }

  function barTable(id, entries, name) {
    const body = clear(id);
    if (!entries.length) { emptyRow(body, 3, "No hits."); return; }
    const numbers = entries.map(([, v]) => (suppressed(v) ? 0 : v));
    const top = Math.max(1, ...numbers);
    entries.sort((a, b) => (suppressed(b[1]) ? 0 : b[1]) - (suppressed(a[1]) ? 0 : a[1]));
    for (const [key, value] of entries) {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name(key);
      th.title = key;
      tr.append(th);
      figureCell(tr, value);
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.setAttribute("aria-hidden", "true");
      bar.style.width = `${suppressed(value) ? 0 : Math.round((value / top) * 100)}%`;
      tr.insertCell().append(bar);
    }
  }

  function showWhere(summary) {
    barTable("platform-table", Object.entries(summary.by_platform),
             (p) => (p === "(none)" ? "(no platform given)" : p));
    barTable("verb-table", Object.entries(summary.by_verb), verbName);
  }

  function showCompliance(compliance) {
    const body = clear("compliance-table");
    if (!compliance.activities.length) {
      emptyRow(body, 3, "The compliance catalogue lists no mandatory activity yet.");
      return;
    }
    for (const row of compliance.activities) {
      const tr = body.insertRow();
      resourceCell(tr, row.name || (row.entry.name ? {en: row.entry.name} : null),
                   row.activity);
      figureCell(tr, row.learners);
      figureCell(tr, row.statements);
    }
  }

  // ---- wiring -----------------------------------------------------------------------

  async function start() {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("filters").addEventListener("submit", applyFilters);
    $("f-window").addEventListener("change", (e) => {
      $("filters").classList.toggle("custom", e.target.value === "custom");
    });
    window.addEventListener("popstate", () => {
      if (auth) { showState(readState()); load(); }
    });
    $("sso").href = signInUrl();
    const person = document.body.hasAttribute("data-session") ? await me() : null;
    if (person && person.roles.includes("analyst")) { await startWithSession(person); return; }
    if (person) {
      $("sso-note").textContent = `You are signed in as ${person.name}, without the analyst `
        + "role: sign in with a credential instead.";
    }
    showState(readState());
    $("key").focus();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
