// Forwarding (admin): delivery status, dead letters to replay or discard, destinations and
// rules, through /api/v1/admin/forwarding. A destination's secret is sent once, never shown.
import {$, apiJson, clearError, confirmAction, element, failedTable, fillTable, say,
        showError, when} from "./common.js";

const API = "/api/v1/admin/forwarding";
let destinations = [];

function lag(seconds) {
  if (!seconds) return "none";
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

function button(label, text, cls, action) {
  const made = element("button", {type: "button", class: cls}, text);
  made.setAttribute("aria-label", label);
  made.addEventListener("click", action);
  return made;
}

async function load() {
  const [found, status, rules] = await Promise.all([
    apiJson("GET", `${API}/destinations`), apiJson("GET", `${API}/status`),
    apiJson("GET", `${API}/rules`)]);
  destinations = found;
  const byId = Object.fromEntries(found.map((d) => [d.id, d]));
  fillTable($("delivery"), status, [
    (s) => element("strong", {}, s.name),
    (s) => (byId[s.destination] || {}).kind || "",
    (s) => String(s.queued),
    (s) => (s.dead ? element("span", {class: "revoked"}, String(s.dead)) : "0"),
    (s) => String(s.delivered),
    (s) => lag(s.lag_seconds),
    (s) => (s.last_error ? `${s.last_error} (${when(s.last_error_at)})` : "none"),
    (s) => element("span", {class: "row-actions"},
      ...(s.dead ? [button(`Replay the dead letters of ${s.name}`, "Replay", "quiet",
                           () => deadLetters(s, "replay")),
                    button(`Discard the dead letters of ${s.name}`, "Discard", "danger",
                           () => deadLetters(s, "discard"))] : []),
      button(`Remove ${s.name}`, "Remove", "danger", () => removeDestination(s))),
  ], "No destinations yet: add the first one below.");
  fillTable($("rules"), rules, [
    (r) => (byId[r.destination] || {}).name || r.destination,
    (r) => (r.decision === "kept" ? "kept statements" : "anonymous hits"),
    (r) => (r.verbs.length ? element("span", {class: "scopes"},
                                     ...r.verbs.map((v) => element("code", {}, v))) : "any"),
    (r) => (r.activity ? element("code", {}, r.activity) : "any"),
    (r) => (r.credentials.length ? r.credentials.join(", ") : "any"),
    (r) => button(`Remove the rule to ${(byId[r.destination] || {}).name || r.destination}`,
                  "Remove", "danger", () => removeRule(r)),
  ], "No rules yet: nothing is forwarded.");
  const select = $("r-destination");
  select.replaceChildren(...found.map((d) => element("option", {value: d.name}, d.name)));
}

async function deadLetters(status, what) {
  clearError();
  const sure = await confirmAction(
    `${what === "replay" ? "Replay" : "Discard"} ${status.dead} dead letters of ${status.name}?`,
    what === "replay" ? "They are sent again now, with their attempts counted from zero."
                      : "They are deleted and never sent. This cannot be undone.",
    what === "replay" ? "Replay" : "Discard");
  if (!sure) return;
  try {
    const done = await apiJson("POST", `${API}/destinations/${encodeURIComponent(status.destination)}/dead/${what}`,
                               {json: {}});
    say(`${what === "replay" ? "Replayed" : "Discarded"} ${done.replayed ?? done.discarded} dead letters of ${status.name}.`);
    await load();
  } catch (exc) {
    showError(exc, `Could not ${what} the dead letters`);
  }
}

async function removeDestination(status) {
  clearError();
  const sure = await confirmAction(`Remove ${status.name}?`,
    "Its rules and everything still queued for it are removed too.", "Remove");
  if (!sure) return;
  try {
    await apiJson("DELETE", `${API}/destinations/${encodeURIComponent(status.destination)}`);
    say(`Removed ${status.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not remove the destination");
  }
}

async function removeRule(rule) {
  clearError();
  try {
    await apiJson("DELETE", `${API}/rules/${encodeURIComponent(rule.id)}`);
    say("Removed the rule.");
    await load();
  } catch (exc) {
    showError(exc, "Could not remove the rule");
  }
}

async function addDestination(event) {
  event.preventDefault();
  clearError();
  const form = event.target;
  const data = new FormData(form);
  const body = {name: data.get("name").trim(), kind: data.get("kind"),
                url: data.get("url").trim(), secret: data.get("secret")};
  if (body.kind === "xapi") {
    body.username = data.get("username").trim();
    body.xapi_version = data.get("xapi_version");
  }
  try {
    const made = await apiJson("POST", `${API}/destinations`, {json: body});
    form.reset();
    say(`Added the destination ${made.name}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not add the destination");
  }
}

async function addRule(event) {
  event.preventDefault();
  clearError();
  const data = new FormData(event.target);
  const lines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
  const body = {destination: data.get("destination"), decision: data.get("decision"),
                verbs: lines(data.get("verbs")), activity: data.get("activity").trim(),
                credentials: lines(data.get("credentials"))};
  try {
    await apiJson("POST", `${API}/rules`, {json: body});
    event.target.reset();
    say(`Added a rule to ${body.destination}.`);
    await load();
  } catch (exc) {
    showError(exc, "Could not add the rule");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("destination-form").addEventListener("submit", addDestination);
  $("rule-form").addEventListener("submit", addRule);
  $("refresh").addEventListener("click", () => load().then(() => say("Refreshed.")));
  load().catch((exc) => {
    failedTable($("delivery"), "Could not load the forwarding status.");
    showError(exc, "Could not load the forwarding status");
  });
});
