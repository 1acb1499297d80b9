// The catalogue of mandatory activities (admin): list with what each entry matched, add one,
// import a file, remove, through /api/v1/catalogue and /api/v1/catalogue/matches.
import {$, api, apiJson, clearError, confirmAction, element, failedTable, fillTable, say,
        showError} from "./common.js";

const API = "/api/v1/catalogue";
const KINDS = {activity: "Activity", prefix: "Prefix", type: "Type"};

async function load() {
  const catalogue = await apiJson("GET", API);
  const entries = catalogue.entries;
  const matched = new Map();
  fillTable($("entries"), entries, [
    (e) => KINDS[e.kind] || e.kind,
    (e) => element("code", {class: "iri"}, e.value),
    (e) => e.name || "—",
    (e) => (e.retention_days ? `${e.retention_days} days` : "the default period"),
    (e) => ruleText(e.completion),
    (e) => (e.valid_for ? `${e.valid_for}${e.warn_before ? `, expiring within ${e.warn_before}` : ""}`
                        : "no expiry"),
    (e) => {
      const cell = element("span", {class: "matches"}, "counting…");
      matched.set(e, cell);
      return cell;
    },
    (e) => removeButton(e),
  ], "No mandatory activities yet: every statement is counted anonymously unless its "
     + "credential keeps it.");
  for (const [entry, cell] of matched) await countMatches(entry, cell);
  return entries.length;
}

function ruleText(rule) {
  if (!rule) return "the default rule";
  const parts = [];
  if (rule.verbs) parts.push(`verb ${rule.verbs.map((v) => v.replace(/\/$/, "").split("/").pop()).join(" or ")}`);
  else parts.push("the default rule");
  if (rule.success_required) parts.push("success");
  if (rule.min_score !== undefined) parts.push(`score ≥ ${rule.min_score}`);
  return parts.join(", ");
}

async function countMatches(entry, cell) {
  try {
    const found = await apiJson("GET", `${API}/matches`,
                                {query: {kind: entry.kind, value: entry.value}});
    const activities = found.activities || [];
    cell.replaceChildren(`${found.statements} ${found.statements === 1 ? "statement" : "statements"}`);
    if (activities.length) {
      const list = element("ul", {class: "matched"});
      for (const activity of activities.slice(0, 5)) {
        list.append(element("li", {}, element("code", {}, activity.id), ` (${activity.statements})`));
      }
      if (activities.length > 5) list.append(element("li", {}, `and ${activities.length - 5} more`));
      cell.append(list);
    }
  } catch (exc) {
    cell.textContent = `not counted: ${exc.message}`;
  }
}

function removeButton(entry) {
  const button = element("button", {type: "button", class: "danger"}, "Remove");
  button.setAttribute("aria-label", `Remove ${entry.kind} ${entry.value}`);
  button.addEventListener("click", async () => {
    clearError();
    const sure = await confirmAction(`Remove ${entry.value}?`,
      "Statements about it that arrive from now on are counted anonymously instead of kept. "
      + "Statements already kept stay.", "Remove");
    if (!sure) return;
    try {
      await api("DELETE", API, {query: {kind: entry.kind, value: entry.value}});
      say(`Removed ${entry.value}.`);
      await load();
    } catch (exc) {
      showError(exc, "Could not remove the entry");
    }
  });
  return button;
}

async function add(event) {
  event.preventDefault();
  clearError();
  const form = event.target;
  const data = new FormData(form);
  const entry = {kind: data.get("kind"), value: data.get("value").trim()};
  if (data.get("name").trim()) entry.name = data.get("name").trim();
  const days = data.get("retention_days").trim();
  if (days) entry.retention_days = Number(days);
  const completion = {};
  const verbs = data.get("verbs").split(/\r?\n/).map((v) => v.trim()).filter(Boolean);
  if (verbs.length) completion.verbs = verbs;
  if (data.get("success_required")) completion.success_required = true;
  if (data.get("min_score").trim()) completion.min_score = Number(data.get("min_score"));
  if (Object.keys(completion).length) entry.completion = completion;
  for (const name of ["valid_for", "warn_before"]) {
    const text = data.get(name).trim();
    if (text) entry[name] = text;
  }
  try {
    const done = await apiJson("POST", API, {json: {version: 1, entries: [entry]}});
    form.reset();
    say(`Added ${done.added} ${done.added === 1 ? "entry" : "entries"}: ${entry.value}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not add the entry");
  }
}

async function importFile(event) {
  event.preventDefault();
  clearError();
  const file = $("i-file").files[0];
  if (!file) {
    showError({message: "Choose a catalogue file first.", problems: []});
    $("i-file").focus();
    return;
  }
  const yaml = /\.ya?ml$/i.test(file.name);
  try {
    const done = await apiJson("POST", API, {body: await file.text(),
                                             contentType: yaml ? "application/yaml" : "application/json"});
    event.target.reset();
    say(`Imported ${done.added} ${done.added === 1 ? "entry" : "entries"} from ${file.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not import the file");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("add-form").addEventListener("submit", add);
  $("import-form").addEventListener("submit", importFile);
  load().then((count) => {
    say(`${count} ${count === 1 ? "entry" : "entries"} in the catalogue.`);
  }).catch((exc) => {
    failedTable($("entries"), "Could not load the catalogue.");
    showError(exc, "Could not load the catalogue");
  });
});
