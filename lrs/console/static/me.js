// "My record" (learner): their completions and kept statements (/api/v1/portfolio), and what
// the LRS keeps about them and for how long (/api/v1/retention), in plain words.
import {$, apiJson, display, element, failedTable, fillTable, say, showError,
        when} from "./common.js";

const COMPLETING = new Set(["http://adlnet.gov/expapi/verbs/completed",
                            "http://adlnet.gov/expapi/verbs/passed"]);

function verbName(verb) {
  return display(verb.display, verb.id.split("/").pop());
}

function activityName(statement) {
  const object = statement.object || {};
  const name = display(object.definition && object.definition.name, null);
  return element("span", {class: "activity"}, name ? element("strong", {}, name) : null,
                 name ? " " : null, element("code", {class: "iri"}, object.id || "—"));
}

function completed(statement) {
  const result = statement.result || {};
  return result.completion === true || result.success === true
    || COMPLETING.has(statement.verb.id);
}

function resultText(statement) {
  const result = statement.result || {};
  const parts = [verbName(statement.verb)];
  if (result.success === true) parts.push("passed");
  if (result.success === false) parts.push("not passed");
  if (result.score && typeof result.score.scaled === "number") {
    parts.push(`score ${Math.round(result.score.scaled * 100)} %`);
  } else if (result.score && typeof result.score.raw === "number") {
    parts.push(`score ${result.score.raw}`);
  }
  return parts.join(", ");
}

function days(n) {
  return n === null || n === undefined ? "until it is erased (no period is set)"
    : `for ${n} days after it arrived`;
}

function policy(retention) {
  const place = $("policy");
  place.replaceChildren();
  const kept = element("ul");
  const mandatory = retention.catalogue;
  if (mandatory.length) {
    const list = element("ul");
    for (const entry of mandatory) {
      const what = entry.name || entry.value;
      const how = entry.kind === "prefix" ? " (and everything under it)"
        : entry.kind === "type" ? " (every activity of this type)" : "";
      list.append(element("li", {}, element("strong", {}, what), how, ": kept ",
                          days(entry.retention_days ?? retention.default_days)));
    }
    kept.append(element("li", {}, "What you do in mandatory training is kept in full, with "
                        + "your identity, as proof that you did it:", list));
  }
  kept.append(element("li", {}, "Statements sent by a platform set to keep everything are "
                      + `kept in full, ${days(retention.default_days)}.`));
  for (const [verb, n] of Object.entries(retention.verb_days)) {
    kept.append(element("li", {}, "Statements with the verb ", element("code", {}, verb),
                        ` are kept for ${n} days, unless a mandatory activity says otherwise.`));
  }
  place.append(element("h3", {}, "Kept: yours to see and download"), kept,
    element("h3", {}, "Tallied: anonymous, and not yours to get back"),
    element("p", {}, "Everything else (reading an intranet page, watching a video, liking a "
      + "post) is reduced on arrival to an anonymous count: which resource, which platform, "
      + "which hour. Your identity is thrown away before anything is stored, so nobody, you "
      + `included, can find out afterwards what you did. Counts under ${retention.suppression_threshold} `
      + "are never shown. This is why tallied activity is not in your portfolio."),
    element("p", {}, "A short fingerprint of each tallied statement (its id and a hash, with "
      + `no identity in it) is kept for ${retention.fingerprint_days} days so that a platform `
      + "that sends a statement twice is not counted twice."));
}

async function load() {
  const [me, statements, retention] = await Promise.all([
    apiJson("GET", "/api/v1/me").catch(() => ({agent: null, unknown: true})),
    apiJson("GET", "/api/v1/portfolio", {query: {format: "json"}}),
    apiJson("GET", "/api/v1/retention")]);
  if (!me.agent && !me.unknown) {
    say("Your sign-in does not say which xAPI agent you are, so no statement can be "
        + "shown as yours. Ask your administrator to map your identity.");
  }
  statements.sort((a, b) => String(b.timestamp || b.stored).localeCompare(String(a.timestamp || a.stored)));
  fillTable($("completions"), statements.filter(completed), [
    activityName, resultText, (s) => when(s.timestamp || s.stored),
  ], "No completion kept yet.");
  fillTable($("statements"), statements, [
    (s) => when(s.timestamp || s.stored), (s) => verbName(s.verb), activityName,
    (s) => (s.context && s.context.platform) || "—",
  ], "No statement is kept about you.");
  policy(retention);
  if (me.agent || me.unknown) {
    say(`${statements.length} ${statements.length === 1 ? "statement is" : "statements are"} `
        + "kept about you.");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  load().catch((exc) => {
    say("");
    failedTable($("completions"), "Could not load your record.");
    failedTable($("statements"), "Could not load your record.");
    showError(exc, "Could not load your record");
  });
});
