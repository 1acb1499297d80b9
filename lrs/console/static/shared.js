// "Shared with me" (manager): the live grants to them (/api/v1/shared), one grant's evidence
// (each read logged for the learner) and an assessment recorded against it. Text only.
import {$, apiJson, clearError, element, fillTable, failedTable, say, showError,
        when} from "./common.js";

let current = null;

function evidenceItem(item) {
  const kinds = {entry: "An entry of their space", statement: "A kept xAPI statement",
                 file: "A file"};
  return element("li", {class: "card"}, element("h4", {}, item.title),
    element("p", {class: "muted"}, kinds[item.kind] || item.kind,
            item.when ? `, ${when(item.when)}` : ""),
    ...(item.text || []).map((part) => element("p", {},
      part.label ? element("strong", {}, `${part.label}: `) : null, part.value)),
    item.kind === "statement" ? element("p", {}, element("code", {class: "iri"}, item.ref))
      : null);
}

async function read(grant) {
  clearError();
  try {
    const shared = await apiJson("GET", `/api/v1/shared/${encodeURIComponent(grant.id)}`);
    current = shared;
    const snapshot = shared.evidence;
    $("reading-title").textContent = `${shared.learner}: ${shared.objective_title}`;
    $("reading-about").textContent = `Shared with you until ${when(shared.expires)}. `
      + `Objective ${shared.objective}.`;
    $("reading-rating").replaceChildren(snapshot.rating
      ? element("p", {class: "rating"}, `Their own rating: ${snapshot.rating.level} of 4, `
                + `${snapshot.rating.label}`, snapshot.rating.note
                  ? element("span", {class: "muted"}, ` (${snapshot.rating.note})`) : null)
      : element("p", {class: "muted"}, "They have not rated themselves."));
    const items = snapshot.evidence || [];
    $("reading-evidence").replaceChildren(...(items.length ? items.map(evidenceItem)
      : [element("li", {class: "muted"}, "No evidence was linked.")]));
    $("reading").hidden = false;
    $("reading").focus();
  } catch (exc) {
    $("reading").hidden = true;
    current = null;
    showError(exc, "Reading the evidence");
    await load();
  }
}

async function load() {
  try {
    const grants = await apiJson("GET", "/api/v1/shared");
    fillTable($("shared"), grants, [
      (g) => g.learner, (g) => g.objective_title, (g) => when(g.expires),
      (g) => {
        const button = element("button", {type: "button"}, "Read the evidence");
        button.setAttribute("aria-label", `Read ${g.learner}'s evidence: ${g.objective_title}`);
        button.addEventListener("click", () => read(g));
        return button;
      },
    ], "Nothing is shared with you now.");
  } catch (exc) {
    failedTable($("shared"), "Could not load them.");
    showError(exc, "Loading what was shared with you");
  }
}

$("assess-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  if (current === null) return;
  const data = new FormData(event.target);
  try {
    await apiJson("POST", `/api/v1/shared/${encodeURIComponent(current.id)}/assessment`, {
      json: {outcome: data.get("outcome"), comment: data.get("comment")}});
    say(`Assessment recorded for ${current.learner}: `
        + `${data.get("outcome") === "met" ? "met" : "not yet"}.`);
    $("a-comment").value = "";
  } catch (exc) {
    showError(exc, "Recording the assessment");
    await load();
  }
});

await load();
say("");
