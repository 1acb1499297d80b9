// "My space" (learner): record entries with a reflection, tags, links and files; list, edit,
// delete; seal the space, unlock, lock, recover (/api/v1/space). Text only, never innerHTML:
// entries hold whatever the learner typed.
import {$, api, apiJson, clearError, confirmAction, element, say, showError,
        when} from "./common.js";

const API = "/api/v1/space";
const KINDS = {experience: "Experience", resource: "Resource used", meeting: "Meeting",
               plan: "Plan"};
let space = null;  // GET /api/v1/space
let editing = null;  // the entry being changed, or null

function show(id, visible) { $(id).hidden = !visible; }

function describe() {
  const text = $("mode-text");
  if (!space.exists) {
    text.textContent = "You have no space yet. It is made when you record your first "
      + "entry, or now:";
  } else if (space.mode === "envelope") {
    text.textContent = "Your space is encrypted with a key of its own, which the LRS keeps "
      + "wrapped by its server key. Seal it to make it readable by you alone.";
  } else if (space.unlocked) {
    const minutes = Math.round(space.unlock_idle_seconds / 60);
    text.textContent = "Your space is sealed, and unlocked in this session: it locks "
      + `again after ${minutes} minutes without use, or when you sign out.`;
  } else {
    text.textContent = "Your space is sealed and locked. Unlock it with your passphrase "
      + "to read your entries; you can record new ones while it is locked.";
  }
  const sealed = space.mode === "sealed";
  show("start", !space.exists);
  show("unlock-form", sealed && !space.unlocked && $("recover-form").hidden);
  show("unlocked-actions", sealed && space.unlocked);
  show("seal-details", space.exists && !sealed);
  show("entry-panel", true);
  show("entries-panel", space.exists);
  show("delete-panel", space.exists);
  if (space.file_max_bytes) {
    const mb = (space.file_max_bytes / 1048576).toFixed(1).replace(/\.0$/, "");
    $("e-file-help").textContent = `Encrypted like the entry; at most ${mb} MB.`;
  }
}

function reflectionPart(label, text) {
  if (!text) return null;
  return [element("dt", {}, label), element("dd", {}, text)];
}

function card(entry) {
  const facts = element("dl", {class: "facts compact"});
  for (const part of [reflectionPart("What happened", entry.reflection.happened),
                      reflectionPart("What I learned", entry.reflection.learned),
                      reflectionPart("What I will do", entry.reflection.next)]) {
    if (part) facts.append(...part);
  }
  const item = element("li", {class: "card entry", "data-entry": entry.id});
  const day = entry.occurred || entry.created.slice(0, 10);
  item.append(element("h3", {}, entry.title),
              element("p", {class: "muted"}, `${KINDS[entry.kind]} · ${day}`), facts);
  if (entry.tags.length) {
    item.append(element("p", {class: "scopes", "aria-label": "Tags"},
                        ...entry.tags.map((t) => element("code", {}, t))));
  }
  if (entry.links.length) {
    const list = element("ul", {class: "links"});
    for (const link of entry.links) {
      list.append(element("li", {}, element("a", {href: link, rel: "noopener noreferrer"},
                                            link)));
    }
    item.append(list);
  }
  if (entry.files.length) {
    const list = element("ul", {class: "links", "aria-label": "Files"});
    for (const file of entry.files) {
      const href = `${API}/entries/${entry.id}/files/${file.id}`;
      const remove = element("button", {type: "button", class: "quiet"}, "Remove");
      remove.setAttribute("aria-label", `Remove the file ${file.name}`);
      remove.addEventListener("click", () => removeFile(entry, file));
      list.append(element("li", {}, element("a", {href, download: file.name}, file.name),
                          ` (${file.size} bytes) `, remove));
    }
    item.append(list);
  }
  const edit = element("button", {type: "button", class: "quiet"}, "Edit");
  edit.setAttribute("aria-label", `Edit ${entry.title}`);
  edit.addEventListener("click", () => startEditing(entry));
  const remove = element("button", {type: "button", class: "danger"}, "Delete");
  remove.setAttribute("aria-label", `Delete ${entry.title}`);
  remove.addEventListener("click", () => removeEntry(entry));
  item.append(element("p", {class: "muted"}, `Recorded ${when(entry.created)}`),
              element("div", {class: "row-actions"}, edit, remove));
  return item;
}

async function loadEntries() {
  const list = $("entries");
  if (space.mode === "sealed" && !space.unlocked) {
    list.replaceChildren(element("li", {class: "muted"},
                                 "Locked: unlock your space to read your entries."));
    $("entries-count").textContent = `(${space.entries})`;
    return;
  }
  const {entries} = await apiJson("GET", `${API}/entries`);
  $("entries-count").textContent = `(${entries.length})`;
  list.replaceChildren(...(entries.length ? entries.map(card)
    : [element("li", {class: "muted"}, "Nothing yet: record your first entry above.")]));
}

async function load() {
  space = await apiJson("GET", API);
  describe();
  if (space.exists) await loadEntries();
}

function formBody(form) {
  const data = new FormData(form);
  const body = {
    kind: data.get("kind"), title: data.get("title").trim(),
    reflection: {happened: data.get("happened"), learned: data.get("learned"),
                 next: data.get("next")},
    tags: data.get("tags").split(",").map((t) => t.trim()).filter(Boolean),
    links: data.get("links").split("\n").map((l) => l.trim()).filter(Boolean),
  };
  if (data.get("occurred")) body.occurred = data.get("occurred");
  return body;
}

async function upload(entryId, file) {
  await api("POST", `${API}/entries/${entryId}/files`, {
    query: {name: file.name}, body: file,
    contentType: file.type || "application/octet-stream"});
}

function stopEditing() {
  editing = null;
  $("entry-form").reset();
  $("entry-title").textContent = "Record an entry";
  $("entry-submit").textContent = "Record it";
  show("entry-cancel", false);
}

function startEditing(entry) {
  editing = entry;
  const form = $("entry-form");
  form.elements.kind.value = entry.kind;
  form.elements.title.value = entry.title;
  form.elements.occurred.value = entry.occurred || "";
  form.elements.happened.value = entry.reflection.happened;
  form.elements.learned.value = entry.reflection.learned;
  form.elements.next.value = entry.reflection.next;
  form.elements.tags.value = entry.tags.join(", ");
  form.elements.links.value = entry.links.join("\n");
  $("entry-title").textContent = `Change “${entry.title}”`;
  $("entry-submit").textContent = "Save the changes";
  show("entry-cancel", true);
  $("e-title").focus();
}

async function submitEntry(event) {
  event.preventDefault();
  clearError();
  const form = event.target;
  const file = form.elements.file.files[0];
  try {
    const body = formBody(form);
    const saved = editing
      ? await apiJson("PUT", `${API}/entries/${editing.id}`, {json: body})
      : await apiJson("POST", `${API}/entries`, {json: body});
    if (file) await upload(saved.id, file);
    say(editing ? `Saved the changes to “${saved.title}”.` : `Recorded “${saved.title}”.`);
    stopEditing();
    await load();
  } catch (exc) {
    showError(exc, editing ? "Could not save the changes" : "Could not record the entry");
  }
}

async function removeEntry(entry) {
  clearError();
  if (!await confirmAction(`Delete “${entry.title}”?`,
                           "The entry and its files are deleted. This cannot be undone.",
                           "Delete")) return;
  try {
    await apiJson("DELETE", `${API}/entries/${entry.id}`);
    if (editing && editing.id === entry.id) stopEditing();
    say(`Deleted “${entry.title}”.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not delete the entry");
  }
}

async function removeFile(entry, file) {
  clearError();
  try {
    await apiJson("DELETE", `${API}/entries/${entry.id}/files/${file.id}`);
    say(`Removed ${file.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not remove the file");
  }
}

function showCode(code) {
  $("code-value").value = code;
  show("code-panel", true);
  $("code-panel").focus();
}

async function act(work, done, failed) {
  clearError();
  try {
    const answer = await work();
    say(done);
    await load();
    return answer;
  } catch (exc) {
    showError(exc, failed);
    return null;
  }
}

async function seal(event) {
  event.preventDefault();
  const form = event.target;
  if (form.elements.passphrase.value !== form.elements.again.value) {
    showError({message: "The two passphrases differ.", problems: []}, "Could not seal");
    return;
  }
  const answer = await act(() => apiJson("POST", `${API}/seal`,
                                         {json: {passphrase: form.elements.passphrase.value}}),
                           "Your space is sealed.", "Could not seal your space");
  form.reset();
  if (answer) showCode(answer.recovery_code);
}

async function unlock(event) {
  event.preventDefault();
  const field = event.target.elements.passphrase;
  await act(() => apiJson("POST", `${API}/unlock`, {json: {passphrase: field.value}}),
            "Unlocked.", "Could not unlock your space");
  field.value = "";
}

async function recover(event) {
  event.preventDefault();
  const form = event.target;
  const answer = await act(() => apiJson("POST", `${API}/recover`, {json: {
    recovery_code: form.elements.recovery_code.value,
    passphrase: form.elements.passphrase.value}}),
  "Your new passphrase is set and your space unlocked.", "Could not recover your space");
  if (answer) {
    form.reset();
    show("recover-form", false);
    describe();
    showCode(answer.recovery_code);
  }
}

async function changePassphrase(event) {
  event.preventDefault();
  const form = event.target;
  const answer = await act(() => apiJson("POST", `${API}/passphrase`, {json: {
    passphrase: form.elements.passphrase.value,
    new_passphrase: form.elements.new_passphrase.value}}),
  "Your passphrase is changed; your recovery code still works.",
  "Could not change your passphrase");
  if (answer) {
    form.reset();
    $("passphrase-details").open = false;
  }
}

async function deleteSpace() {
  if (!await confirmAction("Delete your whole space?",
                           "Every entry and file goes, with the key: nothing of it can be "
                           + "read again. This cannot be undone.", "Delete my space")) return;
  await act(() => apiJson("DELETE", API), "Your space is deleted.",
            "Could not delete your space");
}

document.addEventListener("DOMContentLoaded", () => {
  $("start-button").addEventListener("click", () => act(
    () => apiJson("POST", API), "Your space is ready.", "Could not start your space"));
  $("entry-form").addEventListener("submit", submitEntry);
  $("entry-cancel").addEventListener("click", stopEditing);
  $("seal-form").addEventListener("submit", seal);
  $("unlock-form").addEventListener("submit", unlock);
  $("recover-form").addEventListener("submit", recover);
  $("passphrase-form").addEventListener("submit", changePassphrase);
  $("lock-button").addEventListener("click", () => act(
    () => apiJson("POST", `${API}/lock`), "Locked.", "Could not lock your space"));
  $("show-recover").addEventListener("click", () => {
    show("unlock-form", false);
    show("recover-form", true);
    $("recover-code").focus();
  });
  $("cancel-recover").addEventListener("click", () => {
    show("recover-form", false);
    describe();
  });
  $("code-done").addEventListener("click", () => {
    $("code-value").value = "";
    show("code-panel", false);
  });
  $("delete-space").addEventListener("click", deleteSpace);
  load().then(() => say(""), (exc) => {
    say("");
    showError(exc, "Could not open your space");
  });
});
