// The audit log (admin), newest first, from /api/v1/admin/audit.
import {$, apiJson, element, fillTable, say, showError, when} from "./common.js";

const SHOWN = new Set(["at", "action", "operator", "run_id"]);

function empty(v) {
  return v === null || v === undefined || v === ""
    || (typeof v === "object" && !Object.keys(v).length);
}

// What else a record says (subject, counts, detail), nested objects flattened one level:
// `counts: {"entries": 2}` reads "entries 2".
function details(record) {
  const list = element("dl", {class: "facts compact"});
  for (const [name, v] of Object.entries(record)) {
    if (SHOWN.has(name) || empty(v)) continue;
    if (typeof v === "object" && !Array.isArray(v)) {
      for (const [inner, w] of Object.entries(v)) {
        if (empty(w)) continue;
        list.append(element("dt", {}, inner.replaceAll("_", " ")),
                    element("dd", {}, typeof w === "object" ? JSON.stringify(w) : String(w)));
      }
    } else {
      list.append(element("dt", {}, name.replaceAll("_", " ")),
                  element("dd", {}, Array.isArray(v) ? v.join(", ") : String(v)));
    }
  }
  return list.childElementCount ? list : "—";
}

async function load() {
  const records = await apiJson("GET", "/api/v1/admin/audit");
  records.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  fillTable($("audit"), records, [
    (r) => when(r.at),
    (r) => element("strong", {}, r.action),
    (r) => element("code", {}, r.operator || "—"),
    details,
  ], "Nothing has been done yet.");
  say(`${records.length} ${records.length === 1 ? "record" : "records"}.`);
}

document.addEventListener("DOMContentLoaded", () => {
  load().catch((exc) => { say(""); showError(exc, "Could not load the audit log"); });
});
