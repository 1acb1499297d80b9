// The audit log (admin), newest first, from /api/v1/admin/audit.
import {$, apiJson, element, fillTable, say, showError, when} from "./common.js";

const SHOWN = new Set(["at", "action", "operator", "run_id"]);

function details(record) {
  const rest = Object.entries(record).filter(([name, v]) => !SHOWN.has(name)
                                             && v !== null && v !== undefined && v !== "");
  if (!rest.length) return "—";
  const list = element("dl", {class: "facts compact"});
  for (const [name, v] of rest) {
    list.append(element("dt", {}, name.replaceAll("_", " ")),
                element("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v)));
  }
  return list;
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
