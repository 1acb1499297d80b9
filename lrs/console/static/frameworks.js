// Frameworks of objectives (admin): load a CASE package, a CSV or JSON file; list; read one
// as a tree; assign it to groups; delete, through /api/v1/objectives/frameworks.
import {$, apiJson, clearError, confirmAction, element, failedTable, fillTable, say,
        showError, when} from "./common.js";

const API = "/api/v1/objectives/frameworks";
const FORMATS = {case: "CASE", csv: "CSV", json: "JSON"};

async function load() {
  const frameworks = await apiJson("GET", API);
  fillTable($("frameworks"), frameworks, [
    (f) => f.title,
    (f) => element("code", {}, f.id),
    (f) => FORMATS[f.format] || f.format,
    (f) => String(f.objective_count),
    (f) => (f.groups.length ? f.groups.join(", ") : "nobody"),
    (f) => when(f.loaded),
    (f) => actions(f),
  ], "No frameworks yet: load a CASE package, a CSV or a JSON file above.");
  return frameworks.length;
}

function actions(framework) {
  const view = element("button", {type: "button", class: "quiet"}, "Open");
  view.setAttribute("aria-label", `Open ${framework.title}`);
  view.addEventListener("click", () => open(framework.id).catch(
    (exc) => showError(exc, "Could not open the framework")));
  const remove = element("button", {type: "button", class: "danger"}, "Delete");
  remove.setAttribute("aria-label", `Delete ${framework.title}`);
  remove.addEventListener("click", () => removeFramework(framework));
  return element("span", {class: "row-actions"}, view, remove);
}

// The objectives as nested lists: an objective with children is a <details> (opened and
// closed from the keyboard like any disclosure), the others a plain item.
function tree(objectives) {
  const children = new Map();
  for (const objective of objectives) {
    const parent = objective.parent || "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(objective);
  }
  const list = (parent) => {
    const ul = element("ul", {class: "tree"});
    for (const objective of children.get(parent) || []) {
      const label = element("span", {class: "objective"},
        objective.code ? element("code", {}, objective.code) : null,
        objective.code ? " " : null, objective.title);
      const about = [];
      if (objective.kind) about.push(element("span", {class: "muted"}, ` (${objective.kind})`));
      const iri = element("p", {class: "help"}, element("code", {class: "iri"}, objective.iri));
      const detail = objective.description && objective.description !== objective.title
        ? element("p", {class: "help"}, objective.description) : null;
      if (children.has(objective.iri)) {
        const summary = element("summary", {}, label, ...about);
        ul.append(element("li", {}, element("details", {open: true}, summary, detail, iri,
                                            list(objective.iri))));
      } else {
        ul.append(element("li", {}, label, ...about, detail, iri));
      }
    }
    return ul;
  };
  return list("");
}

async function open(id) {
  clearError();
  const framework = await apiJson("GET", `${API}/${encodeURIComponent(id)}`);
  const panel = $("framework");
  panel.dataset.id = framework.id;
  $("framework-title").textContent = framework.title;
  const facts = $("framework-facts");
  facts.replaceChildren();
  for (const [name, value] of [["Id", framework.id], ["IRI", framework.iri],
                               ["Format", FORMATS[framework.format]],
                               ["Publisher", framework.publisher], ["Version", framework.version],
                               ["Licence", framework.licence], ["Loaded", when(framework.loaded)]]) {
    if (value) facts.append(element("dt", {}, name), element("dd", {}, value));
  }
  $("g-groups").value = framework.groups.join(", ");
  $("tree").replaceChildren(tree(framework.objectives));
  panel.hidden = false;
  panel.focus();
}

async function upload(event) {
  event.preventDefault();
  clearError();
  const file = $("u-file").files[0];
  if (!file) {
    showError({message: "Choose a framework file first.", problems: []});
    $("u-file").focus();
    return;
  }
  const csv = $("u-format").value === "csv" || (!$("u-format").value && /\.csv$/i.test(file.name));
  const query = {source: file.name};
  if ($("u-format").value) query.format = $("u-format").value;
  if (csv) {
    query.title = $("u-title").value.trim();
    if ($("u-id").value.trim()) query.id = $("u-id").value.trim();
  }
  if ($("u-replace").checked) query.replace = "true";
  try {
    const done = await apiJson("POST", API, {
      body: await file.arrayBuffer(), query,
      contentType: csv ? "text/csv" : "application/json"});
    event.target.reset();
    say(`Loaded ${done.title}: ${done.objective_count} objectives.`);
    await load();
    await open(done.id);
  } catch (exc) {
    showError(exc, `Could not load ${file.name}`);
  }
}

async function saveGroups(event) {
  event.preventDefault();
  clearError();
  const id = $("framework").dataset.id;
  const groups = $("g-groups").value.split(",").map((g) => g.trim()).filter(Boolean);
  try {
    const done = await apiJson("PUT", `${API}/${encodeURIComponent(id)}/groups`,
                               {json: {groups}});
    say(done.groups.length ? `Assigned to ${done.groups.join(", ")}.` : "Assigned to nobody.");
    await load();
  } catch (exc) {
    showError(exc, "Could not save the groups");
  }
}

async function removeFramework(framework) {
  clearError();
  const sure = await confirmAction(`Delete ${framework.title}?`,
    "Its objectives are no longer shown to anyone. The assessments already recorded stay: "
    + "they are kept statements.", "Delete");
  if (!sure) return;
  try {
    await apiJson("DELETE", `${API}/${encodeURIComponent(framework.id)}`);
    if ($("framework").dataset.id === framework.id) $("framework").hidden = true;
    say(`Deleted ${framework.title}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not delete the framework");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("upload-form").addEventListener("submit", upload);
  $("groups-form").addEventListener("submit", saveGroups);
  load().then((count) => {
    say(`${count} ${count === 1 ? "framework" : "frameworks"} loaded.`);
  }).catch((exc) => {
    failedTable($("frameworks"), "Could not load the frameworks.");
    showError(exc, "Could not load the frameworks");
  });
});
