// What every console page shares: calling the JSON APIs with the session cookie and the CSRF
// header, showing their errors (message and JSON path), and building tables from text only
// (never innerHTML: statements carry text anyone could have written).
"use strict";

export const $ = (id) => document.getElementById(id);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, message, problems) {
    super(message);
    this.status = status;
    this.problems = problems || [];
  }
}

// fetch() against this LRS: same-origin cookies, the CSRF token on anything that changes
// something, no Basic challenge (X-Requested-With), and the API's error shape unwrapped.
export async function api(method, path, options = {}) {
  const headers = {"X-Requested-With": "console", "Accept": options.accept || "application/json"};
  if (method !== "GET" && method !== "HEAD") headers["x-csrftoken"] = CSRF;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["Content-Type"] = "application/json";
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
  const response = await fetch(path + query, {method, headers, body,
                                               credentials: "same-origin", cache: "no-store"});
  if (response.status === 401) {
    const here = location.pathname + location.search;
    location.assign(`/sign-in?next=${encodeURIComponent(here)}`);
    throw new ApiError(401, "Your session has ended: taking you to sign in again.");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    let problems = [];
    try {
      const error = (await response.json()).error;
      message = error.message || message;
      problems = error.problems || [];
    } catch (_) { /* not the JSON error shape */ }
    throw new ApiError(response.status, message, problems);
  }
  return response;
}

export async function apiJson(method, path, options) {
  const response = await api(method, path, options);
  return response.status === 204 ? null : response.json();
}

// An error in the page's alert region: what failed, the API's message, then each problem
// with its JSON path.
export function showError(exc, context) {
  const region = $("errors");
  region.replaceChildren();
  let text = exc instanceof ApiError || exc.problems ? exc.message
    : `Something went wrong: ${exc.message}`;
  if (typeof context === "string") text = `${context}: ${text}`;
  region.append(element("p", {}, text));
  if (exc.problems && exc.problems.length) {
    const list = element("ul");
    for (const problem of exc.problems) {
      list.append(element("li", {}, element("code", {}, problem.path), ": ", problem.message));
    }
    region.append(list);
  }
}

export function clearError() { $("errors").replaceChildren(); }

export function say(text, region = $("status")) { region.textContent = text; }

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// A table that could not be filled says so, instead of "Loading…".
export function failedTable(table, text) {
  const columns = table.tHead.rows[0].cells.length;
  table.tBodies[0].replaceChildren(
    element("tr", {}, element("td", {colSpan: columns, class: "empty"}, text)));
}

// Rows into a table's body; each cell gets its column's heading as data-label, which the
// phone layout shows beside the value (tables stack into cards on a narrow screen).
export function fillTable(table, rows, columns, empty) {
  const labels = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
  const body = table.tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const td = element("td", {colSpan: labels.length, class: "empty"}, empty || "Nothing yet.");
    body.append(element("tr", {}, td));
    return;
  }
  for (const row of rows) {
    const tr = element("tr");
    columns.forEach((column, i) => {
      const value = column(row);
      tr.append(element("td", {"data-label": labels[i]},
                        value === null || value === undefined ? "—" : value));
    });
    body.append(tr);
  }
}

export function when(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  return moment.toISOString().replace("T", " ").replace(/:\d\d\.\d+Z$|:\d\dZ$/, " UTC");
}

// A response body saved as a file (for POSTs and for errors shown in the page, not a tab).
export async function saveResponse(response, fallback) {
  const disposition = response.headers.get("content-disposition") || "";
  const named = /filename="([^"]+)"/.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const link = element("a", {href: url, download: named ? named[1] : fallback, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// A modal question; resolves true when confirmed. <dialog> keeps the focus inside and Esc
// cancels, so it works from the keyboard alone.
export function confirmAction(title, text, yes) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yes;
  return new Promise((resolve) => {
    const done = (answer) => {
      $("confirm-yes").onclick = $("confirm-no").onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
    dialog.oncancel = (event) => { event.preventDefault(); done(false); };
    dialog.showModal();
    $("confirm-no").focus();
  });
}

// An xAPI Agent from what a person typed: an e-mail address or the Agent as JSON.
export function agentOf(text) {
  const value = text.trim();
  if (value.startsWith("{")) return JSON.parse(value);
  return {mbox: value.startsWith("mailto:") ? value : `mailto:${value}`};
}

// The report's agent key (`mbox:mailto:…`, `account:HOME|NAME`, …) back into an Agent.
export function agentOfKey(key) {
  const colon = key.indexOf(":");
  const kind = key.slice(0, colon);
  const rest = key.slice(colon + 1);
  if (kind === "account") {
    const bar = rest.lastIndexOf("|");
    return {account: {homePage: rest.slice(0, bar), name: rest.slice(bar + 1)}};
  }
  return {[kind]: rest};
}

// A language map's best text for this reader.
export function display(map, fallback) {
  if (!map || typeof map !== "object") return fallback;
  const languages = [...navigator.languages, "en", "en-US", "en-GB", "und"];
  for (const language of languages) if (map[language]) return map[language];
  const values = Object.values(map);
  return values.length ? values[0] : fallback;
}
