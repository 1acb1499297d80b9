// The compliance report (compliance): pick a mandatory activity and a window, optionally a
// roster; see who completed, who did not, who has no record; download the CSV; export the
// evidence. Everything goes through /api/v1/compliance/report and /export.
import {$, ApiError, agentOf, agentOfKey, api, apiJson, clearError, element, fillTable, say,
        saveResponse, showError, when} from "./common.js";

const REPORT = "/api/v1/compliance/report";
const EXPORT = "/api/v1/compliance/export";
const OTHER = "other";
const NAMES = new Map();  // activity IRI -> its catalogue name

async function loadCatalogue() {
  const select = $("r-activity");
  let entries = [];
  try {
    entries = (await apiJson("GET", "/api/v1/catalogue")).entries
      .filter((e) => e.kind === "activity" || e.kind === "prefix");
  } catch (exc) {
    showError(exc, "Could not load the catalogue (give the activity's IRI instead)");
  }
  select.replaceChildren(element("option", {value: ""}, "Choose an activity"));
  for (const entry of entries) {
    if (entry.name) NAMES.set(entry.value, entry.name);
    const label = (entry.name || entry.value) + (entry.kind === "prefix" ? " (every activity under it)" : "");
    select.append(element("option", {value: `${entry.kind}:${entry.value}`}, label));
  }
  select.append(element("option", {value: OTHER}, "Another activity IRI…"));
}

function target() {
  const choice = $("r-activity").value;
  if (choice === OTHER) {
    const iri = $("r-other").value.trim();
    return iri ? {activity: iri} : null;
  }
  if (!choice) return null;
  const colon = choice.indexOf(":");
  return {[choice.slice(0, colon)]: choice.slice(colon + 1)};
}

// Days in the form; the API takes instants: the first day from its start, the last to its end.
function windowParams() {
  const params = {};
  if ($("r-since").value) params.since = `${$("r-since").value}T00:00:00Z`;
  if ($("r-until").value) params.until = `${$("r-until").value}T23:59:59.999Z`;
  if ($("r-as-of").value) params.as_of = `${$("r-as-of").value}T23:59:59.999Z`;
  return params;
}

// The roster as typed or loaded, with the line each Agent came from (to name it in errors).
function roster() {
  const text = $("r-roster").value.trim();
  if (!text) return null;
  if (text.startsWith("{") && text.includes('"roster"')) {
    const agents = JSON.parse(text).roster;
    return {agents, lines: agents.map((_, i) => i + 1)};
  }
  const agents = [];
  const lines = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const value = line.trim();
    if (!value) return;
    if (value.startsWith("{")) {
      agents.push(JSON.parse(value));
    } else {
      const first = value.split(",")[0].trim().replace(/^"|"$/g, "");
      if (!first.includes("@")) return;  // a CSV header line, or a column that is no address
      agents.push(agentOf(first));
    }
    lines.push(i + 1);
  });
  return {agents, lines};
}

async function ask(format) {
  const chosen = target();
  if (!chosen) {
    throw new ApiError(400, "Choose a mandatory activity (or give its IRI).",
                       [{path: "activity", message: "required"}]);
  }
  let people;
  try {
    people = roster();
  } catch (exc) {
    throw new ApiError(400, "The roster is not readable", [{path: "roster", message: exc.message}]);
  }
  const query = {...chosen, ...windowParams(), format};
  try {
    if (people) {
      return await api("POST", REPORT, {query, json: {roster: people.agents},
                                        accept: format === "csv" ? "text/csv" : "application/json"});
    }
    return await api("GET", REPORT, {query});
  } catch (exc) {
    if (people && exc.problems) {  // $.roster[3] is the fourth person: say which line
      for (const problem of exc.problems) {
        const at = /^\$\.roster\[(\d+)\]/.exec(problem.path);
        if (at) problem.message += ` (roster line ${people.lines[Number(at[1])]})`;
      }
    }
    throw exc;
  }
}

function person(row) {
  const id = row.agent.replace(/^mbox:mailto:/, "");
  return element("span", {class: "person"},
                 row.agent_name ? element("strong", {}, row.agent_name) : null,
                 row.agent_name ? " " : null, element("code", {}, id));
}

function activityCell(row) {
  const iri = row.activity || row.entry;
  const name = NAMES.get(iri);
  return element("span", {class: "activity"}, name ? element("strong", {}, name) : null,
                 name ? " " : null, element("code", {class: "iri"}, iri));
}

function result(row) {
  if (row.status === "no record") return "—";
  if (!row.latest_statement) return "no result sent";
  const parts = [];
  if (row.success !== null) parts.push(row.success ? "passed" : "failed");
  if (row.completion !== null) parts.push(row.completion ? "completed" : "not completed");
  if (row.score_scaled !== null) parts.push(`score ${Math.round(row.score_scaled * 100)} %`);
  else if (row.score_raw !== null) parts.push(`score ${row.score_raw}${row.score_max !== null ? ` of ${row.score_max}` : ""}`);
  return `${parts.join(", ") || "a result"} on ${when(row.latest_at)}`;
}

// When it was completed, and until when it is valid (entries with a validity period).
function completedCell(row) {
  if (!row.completed_at) return "—";
  if (!row.valid_until) return when(row.completed_at);
  const until = row.status === "expired" ? "expired" : "valid until";
  return `${when(row.completed_at)} (${until} ${when(row.valid_until)})`;
}

// The statement that decided the row, and why: the report explains itself.
function decidedCell(row) {
  if (!row.decided_by) return row.reason || "—";
  const cell = element("span", {class: "decided"}, `${row.reason} (${when(row.decided_at)}) `,
                       element("code", {title: row.decided_verb}, row.decided_by.slice(0, 8)));
  // Flagged by a door check of its credential (docs/cmi5.md, docs/profiles.md).
  if (row.flags) cell.append(" ", element("small", {class: "flags"}, `flagged: ${row.flags}`));
  return cell;
}

function evidenceButton(row) {
  if (!row.evidence.length) return "—";
  const button = element("button", {type: "button", class: "quiet"},
                         `Export (${row.evidence.length})`);
  button.setAttribute("aria-label", `Export the evidence of ${row.agent_name || row.agent}`);
  button.addEventListener("click", () => exportEvidence(
    {agent: JSON.stringify(agentOfKey(row.agent)), activity: row.activity}));
  return button;
}

async function run(event) {
  event.preventDefault();
  clearError();
  say("Running the report…");
  let report;
  try {
    report = await (await ask("json")).json();
  } catch (exc) {
    say("");
    showError(exc, "Could not run the report");
    return;
  }
  // "valid" is "completed" for an entry whose completions expire.
  const groups = {"completed": [], "expiring": [], "expired": [], "not completed": [],
                  "no record": []};
  for (const row of report.rows) groups[row.status === "valid" ? "completed" : row.status].push(row);
  const columns = [person, activityCell, completedCell, decidedCell, result, evidenceButton];
  for (const [status, id] of [["completed", "completed"], ["expiring", "expiring"],
                              ["expired", "expired"], ["not completed", "not-completed"],
                              ["no record", "no-record"]]) {
    fillTable($(id), groups[status], columns,
              status === "no record" && report.roster === null
                ? "Give a roster to see who has no record." : "Nobody.");
    $(`${id}-count`).textContent = `(${groups[status].length})`;
  }
  const lapsing = (groups.expiring.length ? `, ${groups.expiring.length} expiring soon` : "")
    + (groups.expired.length ? `, ${groups.expired.length} expired` : "");
  const summary = `${groups.completed.length} completed${lapsing}, `
    + `${groups["not completed"].length} did not complete` + (report.roster !== null ? `, ${groups["no record"].length} `
                                                 + `${groups["no record"].length === 1 ? "has" : "have"} no record`
                                                 + ` (roster of ${report.roster})` : "") + ".";
  $("summary").textContent = summary;
  $("results").hidden = false;
  say(`Report ready: ${summary}`);
}

async function downloadCsv() {
  clearError();
  try {
    await saveResponse(await ask("csv"), "compliance-report.csv");
    say("The CSV is downloaded.");
  } catch (exc) {
    showError(exc, "Could not download the CSV");
  }
}

async function exportEvidence(query) {
  clearError();
  say("Exporting the evidence…");
  try {
    await saveResponse(await api("GET", EXPORT, {query, accept: "application/zip"}),
                       "evidence-export.zip");
    say("The evidence is downloaded.");
  } catch (exc) {
    say("");
    showError(exc, "Could not export the evidence");
  }
}

function exportForPerson(event) {
  event.preventDefault();
  const typed = $("e-person").value.trim();
  if (!typed) {
    showError(new ApiError(400, "Give the person's e-mail address or Agent.",
                           [{path: "agent", message: "required"}]));
    return;
  }
  let agent;
  try {
    agent = agentOf(typed);
  } catch (exc) {
    showError(new ApiError(400, "The person is not readable", [{path: "agent", message: exc.message}]));
    return;
  }
  exportEvidence({agent: JSON.stringify(agent)});
}

function exportForActivity() {
  const chosen = target();
  if (!chosen || !chosen.activity) {
    showError(new ApiError(400, "Choose one activity above (a prefix cannot be exported).",
                           [{path: "activity", message: "required"}]));
    return;
  }
  exportEvidence({activity: chosen.activity});
}

async function loadRosterFile(event) {
  const file = event.target.files[0];
  if (!file) return;
  $("r-roster").value = (await file.text()).trim();
  say(`Loaded the roster from ${file.name}.`);
}

document.addEventListener("DOMContentLoaded", () => {
  $("report-form").addEventListener("submit", run);
  $("r-csv").addEventListener("click", downloadCsv);
  $("r-activity").addEventListener("change", (e) => {
    $("r-other-field").hidden = e.target.value !== OTHER;
  });
  $("r-roster-file").addEventListener("change", loadRosterFile);
  $("export-form").addEventListener("submit", exportForPerson);
  $("e-activity").addEventListener("click", exportForActivity);
  loadCatalogue();
});
