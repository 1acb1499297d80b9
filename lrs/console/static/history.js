// "My history" (learner): keep a sealed copy of one's own tallied statements
// (/api/v1/space/history), stop, delete the copy, and read it once the space is unlocked
// (/api/v1/space/unlock). Text only, never innerHTML: statements carry anyone's text.
import {$, apiJson, clearError, confirmAction, display, element, fillTable, say, showError,
        when} from "./common.js";

const BASE = "/api/v1/space/history";

function activityName(statement) {
  const object = statement.object || {};
  const name = display(object.definition && object.definition.name, null);
  return element("span", {class: "activity"}, name ? element("strong", {}, name) : null,
                 name ? " " : null, element("code", {class: "iri"}, object.id || "—"));
}

function stateText(status) {
  if (status.keeping) {
    const batches = status.batches === 1 ? "1 daily batch" : `${status.batches} daily batches`;
    return `You keep your own history, since ${when(status.since)}. Your space holds `
      + `${batches} of it.`;
  }
  if (status.batches) {
    return `You do not keep your history now. Your space still holds ${status.batches} `
      + "daily batches of it, until you delete them.";
  }
  return "You do not keep your history (it is off unless you turn it on).";
}

function show(status) {
  $("state").textContent = stateText(status);
  $("needs-seal").hidden = status.sealed;
  $("start").hidden = status.keeping || !status.sealed;
  $("stop-form").hidden = !status.keeping;
  $("delete-copy").hidden = !status.batches;
  $("unlock-form").hidden = !status.sealed || status.unlocked;
}

async function readHistory() {
  const found = await apiJson("GET", `${BASE}/statements`);
  const rows = found.statements.slice().reverse();  // the latest first
  fillTable($("history"), rows, [
    (s) => when(s.timestamp || s.stored),
    (s) => display(s.verb.display, s.verb.id.split("/").pop()),
    activityName,
    (s) => (s.context && s.context.platform) || null,
  ], "Nothing in your history yet: it is added once a day.");
  say(`Your history: ${rows.length} statement${rows.length === 1 ? "" : "s"}.`);
}

async function refresh() {
  const status = await apiJson("GET", BASE);
  show(status);
  if (status.unlocked) await readHistory();
  else say(stateText(status));
  return status;
}

async function act(work) {
  clearError();
  try {
    await work();
  } catch (exc) {
    showError(exc);
  }
}

$("start").addEventListener("click", () => act(async () => {
  await apiJson("POST", BASE);
  await refresh();
  say("Keeping your history from now on.");
}));

$("stop-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    const also = $("stop-delete").checked;
    const sure = await confirmAction(
      "Stop keeping your history?",
      also ? "Nothing more is copied, and the copy in your space is deleted for good."
        : "Nothing more is copied; what is waiting for the next batch is deleted.",
      also ? "Stop and delete" : "Stop");
    if (!sure) return;
    await apiJson("DELETE", BASE, {query: {copy: also ? "delete" : "keep"}});
    await refresh();
    say("You no longer keep your history.");
  });
});

$("delete-copy").addEventListener("click", () => act(async () => {
  const sure = await confirmAction("Delete your copy?",
                                   "The batches of your history in your space are deleted "
                                   + "for good.", "Delete");
  if (!sure) return;
  await apiJson("DELETE", `${BASE}/copy`);
  $("history").tBodies[0].replaceChildren();
  await refresh();
  say("Your copy is deleted.");
}));

$("unlock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    await apiJson("POST", "/api/v1/space/unlock", {json: {passphrase: $("passphrase").value}});
    $("passphrase").value = "";
    await refresh();
  });
});

act(refresh);
