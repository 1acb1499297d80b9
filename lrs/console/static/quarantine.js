// The quarantine (admin): rejected statements by error kind, from /api/v1/admin/quarantine,
// and their download as JSON Lines.
import {$, api, apiJson, element, fillTable, say, saveResponse, showError, when} from "./common.js";

let kind = null;

function problem(entry) {
  const first = entry.problems[0];
  if (!first) return entry.message;
  return element("span", {}, element("code", {}, first.path), `: ${first.message}`);
}

async function load() {
  const found = await apiJson("GET", "/api/v1/admin/quarantine",
                              kind === null ? {} : {query: {kind}});
  const kinds = Object.entries(found.kinds);
  fillTable($("kinds"), kinds, [
    ([name]) => element("code", {}, name),
    ([, count]) => String(count),
    ([name]) => {
      const show = element("button", {type: "button", class: "quiet"}, "Show");
      show.setAttribute("aria-label", `Show the statements of kind ${name}`);
      show.onclick = () => { kind = name; refresh(); };
      return show;
    },
  ], "Nothing is quarantined.");
  $("shown-kind").textContent = kind === null ? "" : `of kind ${kind}`;
  fillTable($("entries"), found.entries, [
    (e) => when(new Date(e.at_ms).toISOString()),
    (e) => element("code", {}, e.kind),
    problem,
    (e) => element("code", {}, e.id),
  ], "No entries.");
  const total = kinds.reduce((sum, [, count]) => sum + count, 0);
  say(`${total} quarantined ${total === 1 ? "statement" : "statements"}.`);
}

function refresh() {
  load().catch((exc) => { say(""); showError(exc, "Could not load the quarantine"); });
}

document.addEventListener("DOMContentLoaded", () => {
  $("download").onclick = async () => {
    try {
      const response = await api("GET", "/api/v1/admin/quarantine/download", {
        accept: "application/x-ndjson", ...(kind === null ? {} : {query: {kind}})});
      await saveResponse(response, "quarantine.jsonl");
    } catch (exc) { showError(exc, "Could not download the quarantine"); }
  };
  refresh();
});
