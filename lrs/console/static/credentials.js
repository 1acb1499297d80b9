// Credentials (admin): list, create, rotate and revoke, through /api/v1/admin/credentials.
// A secret is shown once, in the page only: it is never stored anywhere by the page.
import {$, agentOf, apiJson, clearError, confirmAction, element, failedTable, fillTable, say,
        showError, when} from "./common.js";

const API = "/api/v1/admin/credentials";

async function load() {
  const credentials = await apiJson("GET", API);
  credentials.sort((a, b) => (b.created || "").localeCompare(a.created || ""));
  fillTable($("credentials"), credentials, [
    (c) => element("strong", {}, c.name),
    (c) => element("code", {}, c.key),
    (c) => element("span", {class: "scopes"}, ...c.scopes.map((s) => element("code", {}, s))),
    (c) => element("span", {}, c.retention, ...settings(c).map((s) => element("small", {class: "setting"}, s))),
    (c) => when(c.created),
    (c) => (c.last_used ? when(c.last_used) : "never"),
    (c) => (c.revoked ? element("span", {class: "revoked"}, `revoked ${when(c.revoked)}`)
                      : element("span", {class: "active"}, "active")),
    (c) => (c.revoked ? "" : actions(c)),
  ], "No credentials yet: create the first one below.");
}

// What differs from the defaults: the door checks (docs/cmi5.md, docs/profiles.md), the
// quarantine (docs/quarantine.md) and document PUTs (docs/compatibility.md).
function settings(c) {
  const out = [];
  if (c.cmi5 && c.cmi5 !== "off") out.push(`cmi5 ${c.cmi5}${c.cmi5_lms ? " (the LMS)" : ""}`);
  if (c.profiles && c.profiles !== "off") out.push(`profiles ${c.profiles}`);
  if (c.quarantine_days) out.push(`quarantine ${c.quarantine_days} d`);
  if (c.document_puts && c.document_puts !== "strict") out.push(`document PUTs ${c.document_puts}`);
  return out;
}

function actions(credential) {
  const rotate = element("button", {type: "button", class: "quiet"}, "Rotate");
  rotate.setAttribute("aria-label", `Rotate the secret of ${credential.name}`);
  rotate.addEventListener("click", () => rotateSecret(credential));
  const revoke = element("button", {type: "button", class: "danger"}, "Revoke");
  revoke.setAttribute("aria-label", `Revoke ${credential.name}`);
  revoke.addEventListener("click", () => revokeCredential(credential));
  return element("span", {class: "row-actions"}, rotate, revoke);
}

function showSecret(name, key, secret) {
  $("secret-name").textContent = name;
  $("secret-key").textContent = key;
  $("secret-value").value = secret;
  $("secret-box").hidden = false;
  $("secret-box").focus();
}

function hideSecret() {
  $("secret-value").value = "";
  $("secret-box").hidden = true;
  say("The secret is no longer shown.");
}

async function copySecret() {
  const field = $("secret-value");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch (_) {  // no clipboard permission: select it for the person to copy
    field.select();
    say("Select and copy the secret: the browser did not allow copying it.");
    return;
  }
  say("The secret is copied to the clipboard.");
}

async function create(event) {
  event.preventDefault();
  clearError();
  const form = event.target;
  const data = new FormData(form);
  const body = {name: data.get("name").trim(), scopes: data.getAll("scopes"),
                retention: data.get("retention")};
  const agent = data.get("agent").trim();
  try {
    if (agent) body.agent = agentOf(agent);
  } catch (exc) {
    showError({message: "The learner is neither an e-mail address nor JSON",
               problems: [{path: "agent", message: exc.message}]});
    $("c-agent").focus();
    return;
  }
  try {
    const created = await apiJson("POST", API, {json: body});
    form.reset();
    showSecret(created.name, created.key, created.secret);
    say(`Created the credential ${created.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not create the credential");
  }
}

async function rotateSecret(credential) {
  clearError();
  const sure = await confirmAction(`Rotate the secret of ${credential.name}?`,
    "Its current secret stops working at once: the platform needs the new one.", "Rotate");
  if (!sure) return;
  try {
    const rotated = await apiJson("POST", `${API}/${encodeURIComponent(credential.key)}/rotate`);
    showSecret(rotated.name, rotated.key, rotated.secret);
    say(`Rotated the secret of ${rotated.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not rotate the secret");
  }
}

async function revokeCredential(credential) {
  clearError();
  const sure = await confirmAction(`Revoke ${credential.name}?`,
    "Every request with it is refused from now on. This cannot be undone.", "Revoke");
  if (!sure) return;
  try {
    await apiJson("DELETE", `${API}/${encodeURIComponent(credential.key)}`);
    say(`Revoked ${credential.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not revoke the credential");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("create-form").addEventListener("submit", create);
  $("copy-secret").addEventListener("click", copySecret);
  $("secret-done").addEventListener("click", hideSecret);
  load().catch((exc) => {
    failedTable($("credentials"), "Could not load the credentials.");
    showError(exc, "Could not load the credentials");
  });
});
