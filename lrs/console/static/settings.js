// The settings in effect (admin, read-only), from /api/v1/admin/settings.
import {$, apiJson, element, say, showError} from "./common.js";

const TITLES = {retention: "Retention", privacy: "Privacy", limits: "Limits",
                metrics: "Metrics"};

function words(name) {
  const text = name.replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function value(v) {
  if (v === null || v === undefined) return element("span", {class: "muted"}, "not set");
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) {
    if (!v.length) return element("span", {class: "muted"}, "none");
    return element("ul", {class: "plain"}, ...v.map((item) => element("li", {}, value(item))));
  }
  if (typeof v === "object") {
    const names = Object.keys(v);
    if (!names.length) return element("span", {class: "muted"}, "none");
    return facts(v);
  }
  return element("code", {}, String(v));
}

function facts(object) {
  const list = element("dl", {class: "facts"});
  for (const [name, v] of Object.entries(object)) {
    list.append(element("dt", {}, words(name)), element("dd", {}, value(v)));
  }
  return list;
}

async function load() {
  const settings = await apiJson("GET", "/api/v1/admin/settings");
  const place = $("settings");
  for (const [section, content] of Object.entries(settings)) {
    const id = `settings-${section}`;
    place.append(element("section", {class: "panel", "aria-labelledby": id},
                         element("h2", {id}, TITLES[section] || words(section)),
                         value(content)));
  }
  say("");
}

document.addEventListener("DOMContentLoaded", () => {
  load().catch((exc) => { say(""); showError(exc, "Could not load the settings"); });
});
