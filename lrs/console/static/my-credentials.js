// "My credentials" (learner): download the record as signed credentials
// (/api/v1/space/export), import another LRS's export, verified (/api/v1/space/import), and
// the credentials imported so far (/api/v1/space/credentials).
import {$, api, apiJson, clearError, element, failedTable, fillTable, say, saveResponse,
        showError, when} from "./common.js";

const KINDS = {OpenBadgeCredential: "Open Badge", ClrCredential: "Learner record (CLR)"};

function show(credentials) {
  fillTable($("imported"), credentials, [
    (item) => item.name || item.id,
    (item) => KINDS[item.type[item.type.length - 1]] || item.type.join(", "),
    (item) => element("code", {class: "iri"}, item.issuer),
    (item) => item.proofs.join(", "),
    (item) => when(item.verified),
  ], "None yet: import a record from another employer above.");
}

async function load() {
  try {
    show((await apiJson("GET", "/api/v1/space/credentials")).credentials);
  } catch (exc) {
    const locked = exc.status === 409;
    failedTable($("imported"), locked ? "Your space is sealed and locked: unlock it on the "
                + "My space page to see them." : "Could not load them.");
    if (!locked) showError(exc, "Your credentials could not be listed");
  }
}

$("export-button").addEventListener("click", async () => {
  clearError();
  say("Signing your credentials…");
  try {
    const response = await api("GET", "/api/v1/space/export", {accept: "application/zip"});
    await saveResponse(response, "learning-record.zip");
    say("Your record is downloaded.");
  } catch (exc) {
    say("");
    showError(exc, "Your record could not be exported");
  }
});

$("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const file = $("import-file").files[0];
  if (!file) {
    showError(new Error("choose the zip file first"), "Nothing to import");
    $("import-file").focus();
    return;
  }
  say("Verifying every credential…");
  try {
    const response = await api("POST", "/api/v1/space/import",
                               {body: file, contentType: "application/zip"});
    const imported = (await response.json()).imported;
    say(`${imported.length} credential(s) verified and kept in your space.`);
    await load();
  } catch (exc) {
    say("");
    showError(exc, "Nothing was imported");
  }
});

load();
