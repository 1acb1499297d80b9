// "My credentials" (learner): download the record as signed credentials
// (/api/v1/space/export) and import another LRS's export, verified (/api/v1/space/import).
import {$, api, clearError, element, fillTable, say, saveResponse, showError} from "./common.js";

const KINDS = {OpenBadgeCredential: "Open Badge", ClrCredential: "Learner record (CLR)"};

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
    const table = $("imported");
    table.hidden = false;
    $("imported-title").hidden = false;
    fillTable(table, imported, [
      (item) => item.name || item.id,
      (item) => KINDS[item.type[item.type.length - 1]] || item.type.join(", "),
      (item) => element("code", {class: "iri"}, item.issuer),
      (item) => item.proofs.join(", "),
    ], "Nothing was imported.");
    say(`${imported.length} credential(s) verified and kept in your space.`);
  } catch (exc) {
    say("");
    showError(exc, "Nothing was imported");
  }
});
