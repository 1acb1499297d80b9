// "My objectives" (learner): the objectives assigned to them with their evidence, self-rating
// and history (/api/v1/evidence), linking and rating, grants and share links with the read
// log (/api/v1/grants). Text only, never innerHTML.
import {$, apiJson, clearError, confirmAction, display, element, failedTable, fillTable, say,
        showError, when} from "./common.js";

let objectives = [];
let assessments = [];

function endOfDay(date) { return `${date}T23:59:59Z`; }
function startOfDay(date) { return `${date}T00:00:00Z`; }

function linkItem(link) {
  const remove = element("button", {type: "button", class: "quiet"}, "Remove");
  remove.setAttribute("aria-label", `Remove ${link.title}`);
  remove.addEventListener("click", async () => {
    try {
      clearError();
      await apiJson("DELETE", `/api/v1/evidence/links/${encodeURIComponent(link.id)}`);
      await load();
      say(`Removed ${link.title}.`);
    } catch (exc) { showError(exc, "Removing the evidence"); }
  });
  const kind = {entry: "Entry", statement: "Statement", file: "File"}[link.kind] || link.kind;
  return element("li", {}, `${kind}: `, element("strong", {}, link.title), " ", remove);
}

function assessedList(iri) {
  const mine = assessments.filter((a) => a.objective === iri);
  if (!mine.length) return null;
  return element("ul", {class: "assessments"}, ...mine.map((a) => element("li", {},
    element("strong", {}, a.outcome === "met" ? "Met" : "Not yet"),
    ` (${a.assessor || "a manager"}, ${when(a.timestamp)})`,
    a.comment ? `: ${a.comment}` : "")));
}

function objectiveCard(objective) {
  const rating = objective.rating
    ? element("p", {class: "rating"}, `Your rating: ${objective.rating.level} of 4, `
              + `${objective.rating.label}`, objective.rating.note
                ? element("span", {class: "muted"}, ` (${objective.rating.note})`) : null)
    : element("p", {class: "muted"}, "Not rated yet.");
  const links = objective.links.length
    ? element("ul", {class: "evidence"}, ...objective.links.map(linkItem))
    : element("p", {class: "muted"}, "No evidence linked yet.");
  const history = element("details", {}, element("summary", {}, "History"),
    objective.history.length
      ? element("ul", {}, ...objective.history.map(
        (h) => element("li", {}, `${when(h.at)}: ${h.change} ${h.detail}`)))
      : element("p", {class: "muted"}, "No changes yet."));
  return element("li", {class: "card"}, element("h3", {}, objective.title),
                 element("p", {class: "help"}, element("code", {class: "iri"},
                                                        objective.objective)),
                 rating, assessedList(objective.objective), links, history);
}

function fillObjectiveSelects() {
  for (const id of ["e-objective", "r-objective", "g-objective", "l-objective"]) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(...objectives.map(
      (o) => element("option", {value: o.objective}, o.title)));
    if (chosen) select.value = chosen;
  }
}

async function loadSources() {
  const select = $("e-source");
  const options = [];
  try {
    const status = await apiJson("GET", "/api/v1/space");
    const space = status.exists && status.unlocked
      ? await apiJson("GET", "/api/v1/space/entries") : {entries: []};
    if (status.exists && !status.unlocked) {
      options.push(element("option", {value: "", disabled: true},
                           "Your space is locked: unlock it to link its entries"));
    }
    for (const entry of space.entries) {
      options.push(element("option", {value: `entry:${entry.id}`},
                           `Entry: ${entry.title || entry.id}`));
      for (const file of entry.files || []) {
        options.push(element("option", {value: `file:${file.id}`},
                             `File: ${file.name} (in “${entry.title}”)`));
      }
    }
  } catch (_) { /* no space yet, or it is locked: statements only */ }
  try {
    const statements = await apiJson("GET", "/api/v1/portfolio", {query: {format: "json"}});
    for (const statement of statements) {
      const object = statement.object || {};
      const name = display(object.definition && object.definition.name, object.id);
      const verb = display(statement.verb.display, statement.verb.id.split("/").pop());
      options.push(element("option", {value: `statement:${statement.id}`},
                           `Statement: ${verb} ${name} (${when(statement.timestamp)})`));
    }
  } catch (exc) { showError(exc, "Loading your statements"); }
  select.replaceChildren(...options);
}

async function load() {
  try {
    [objectives, {assessments}] = await Promise.all([
      apiJson("GET", "/api/v1/evidence"), apiJson("GET", "/api/v1/assessments/mine")]);
    const list = $("objectives");
    list.replaceChildren(...(objectives.length ? objectives.map(objectiveCard)
      : [element("li", {class: "muted"}, "No objectives are assigned to you yet.")]));
    fillObjectiveSelects();
  } catch (exc) {
    $("objectives").replaceChildren(element("li", {class: "muted"}, "Could not load them."));
    showError(exc, "Loading your objectives");
  }
  try {
    const shared = await apiJson("GET", "/api/v1/grants");
    fillTable($("grants"), shared.grants, [
      (g) => g.objective_title,
      (g) => g.kind === "link" ? `Share link: ${g.grantee}` : g.grantee,
      (g) => when(g.expires),
      (g) => element("span", {class: g.state === "live" ? "active" : "revoked"}, g.state),
      (g) => g.state === "live" || g.state === "not started" ? revokeButton(g) : null,
    ], "You have shared nothing.");
    fillTable($("reads"), shared.reads, [
      (r) => when(r.at), (r) => r.reader, (r) => r.what,
    ], "Nobody has read anything you shared.");
  } catch (exc) {
    failedTable($("grants"), "Could not load them.");
    failedTable($("reads"), "Could not load it.");
    showError(exc, "Loading what you shared");
  }
}

function revokeButton(grant) {
  const button = element("button", {type: "button", class: "danger"}, "Revoke");
  button.setAttribute("aria-label", `Revoke ${grant.grantee}: ${grant.objective_title}`);
  button.addEventListener("click", async () => {
    const sure = await confirmAction("Revoke this access?",
      `${grant.grantee} will no longer be able to read your evidence of `
      + `“${grant.objective_title}”. Its key is destroyed at once.`, "Revoke");
    if (!sure) return;
    try {
      clearError();
      await apiJson("DELETE", `/api/v1/grants/${encodeURIComponent(grant.id)}`);
      await load();
      say(`Revoked: ${grant.grantee} can no longer read it.`);
    } catch (exc) { showError(exc, "Revoking"); }
  });
  return button;
}

function onSubmit(form, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try { await work(new FormData(form)); } catch (exc) { showError(exc); }
  });
}

onSubmit($("evidence-form"), async (data) => {
  const [kind, ...rest] = String(data.get("source") || "").split(":");
  await apiJson("POST", "/api/v1/evidence/links", {json: {
    objective: data.get("objective"), kind, ref: rest.join(":"), title: data.get("title")}});
  $("e-title").value = "";
  await load();
  say("Evidence linked.");
});

onSubmit($("rate-form"), async (data) => {
  await apiJson("POST", "/api/v1/evidence/ratings", {json: {
    objective: data.get("objective"), level: Number(data.get("level")),
    note: data.get("note")}});
  $("r-note").value = "";
  await load();
  say("Rating saved.");
});

onSubmit($("grant-form"), async (data) => {
  const expires = String(data.get("expires") || "");
  const made = await apiJson("POST", "/api/v1/grants", {json: {
    objective: data.get("objective"), grantee: data.get("grantee"),
    expires: expires ? endOfDay(expires) : ""}});
  $("g-grantee").value = "";
  await load();
  say(`Shared with ${made.grantee} until ${when(made.expires)}.`);
});

onSubmit($("link-form"), async (data) => {
  const starts = String(data.get("starts") || "");
  const ends = String(data.get("ends") || "");
  const made = await apiJson("POST", "/api/v1/grants/links", {json: {
    objective: data.get("objective"), label: data.get("label"),
    starts: starts ? startOfDay(starts) : "", ends: ends ? endOfDay(ends) : ""}});
  $("link-url").value = made.url;
  $("link-box").hidden = false;
  $("link-box").focus();
  await load();
  say("Share link made.");
});

$("copy-link").addEventListener("click", async () => {
  await navigator.clipboard.writeText($("link-url").value);
  say("Link copied.");
});
$("link-done").addEventListener("click", () => {
  $("link-url").value = "";
  $("link-box").hidden = true;
});

const today = new Date().toISOString().slice(0, 10);
$("l-starts").value = today;
await Promise.all([load(), loadSources()]);
say("");
