// The options page: a custom Treeherder instance's endpoints, the local
// sandbox (development build only), the BuildAPI (LDAP) credentials and the
// defaults. Credentials go to storage.session unless "remember" is ticked
// (then storage.local); Taskcluster credentials are never asked for here:
// they come from the Treeherder login. The core checks every endpoint again
// before use; the checks here only say early what it would refuse.

import { fillChoices } from "./choices.js";

const $ = (id) => document.getElementById(id);
const CUSTOM = ["treeherder", "hg", "buildapi", "taskcluster"];

let developmentBuild = false;

const isLoopback = (url) => ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) || /^127\./.test(url.hostname);

// Why `text` is not acceptable as an endpoint of this build, or null.
function endpointProblem(label, text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return `${label}: not a URL`;
  }
  if (url.protocol === "https:" && url.hostname) {
    return null;
  }
  if (developmentBuild && url.protocol === "http:" && isLoopback(url)) {
    return null;
  }
  return developmentBuild ? `${label} must be https:// (or http:// on this machine)` : `${label} must be https://`;
}

// Each sandbox's four origins from its start-up line (one per line), or a reason.
function sandboxesFromLines(text) {
  const sandboxes = [];
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const read = sandboxFromLine(line);
    if (read.problem) {
      return read;
    }
    sandboxes.push(read.origins);
  }
  return sandboxes.length ? { sandboxes } : { problem: "Paste the sandbox's start-up line first." };
}

function sandboxFromLine(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: "The sandbox's start-up line is not JSON." };
  }
  const origins = {};
  for (const key of CUSTOM) {
    let url;
    try {
      url = new URL(String(parsed?.[key] ?? ""));
    } catch {
      return { problem: `The sandbox's start-up line has no ${key} origin.` };
    }
    if (!/^https?:$/.test(url.protocol) || !isLoopback(url)) {
      return { problem: `The sandbox's ${key} origin is not on this machine.` };
    }
    origins[key] = url.origin;
  }
  return { origins };
}

async function load() {
  try {
    const info = await browser.runtime.sendMessage({ type: "core-info" });
    developmentBuild = info?.variant === "development";
  } catch {
    developmentBuild = false;
  }
  document.body.dataset.variant = developmentBuild ? "development" : "release";
  for (const node of document.querySelectorAll(".dev-only")) {
    node.hidden = !developmentBuild;
  }
  const local = await browser.storage.local.get(["custom", "sandboxes", "buildapi", "choice"]);
  const session = await browser.storage.session.get("buildapi");
  const custom = local.custom || {};
  for (const key of CUSTOM) {
    $(`custom-${key}`).value = custom[key] || "";
  }
  if (developmentBuild && Array.isArray(local.sandboxes) && local.sandboxes.length) {
    $("sandbox-enabled").checked = true;
    $("sandbox-line").value = local.sandboxes.map((s) => JSON.stringify(s)).join("\n");
  }
  const buildapi = session.buildapi || local.buildapi || {};
  $("buildapi-user").value = buildapi.user || "";
  $("buildapi-password").value = buildapi.password || "";
  $("buildapi-remember").checked = Boolean(local.buildapi);
  const { offered, chosen } = await browser.runtime.sendMessage({ type: "choices" });
  fillChoices({ times: $("times"), mode: $("mode"), depth: $("depth") }, offered, chosen);
  // Filled in: typing before this point would be overwritten.
  document.body.dataset.ready = "true";
}

async function save(event) {
  event.preventDefault();
  const custom = {};
  for (const key of CUSTOM) {
    custom[key] = $(`custom-${key}`).value.trim();
  }
  const anyCustom = CUSTOM.some((key) => custom[key]);
  if (anyCustom && !CUSTOM.every((key) => custom[key])) {
    $("status").textContent = "A custom instance needs all four endpoints.";
    return;
  }
  if (anyCustom) {
    const problem = CUSTOM.map((key) => endpointProblem(`The ${key} endpoint`, custom[key])).find(Boolean);
    if (problem) {
      $("status").textContent = `${problem}.`;
      return;
    }
  }
  let sandboxes = [];
  if (developmentBuild && $("sandbox-enabled").checked) {
    const read = sandboxesFromLines($("sandbox-line").value);
    if (read.problem) {
      $("status").textContent = read.problem;
      return;
    }
    sandboxes = read.sandboxes;
  }
  const user = $("buildapi-user").value.trim();
  const buildapi = user ? { user, password: $("buildapi-password").value } : null;
  const remember = $("buildapi-remember").checked;
  await browser.storage.local.set({ custom: anyCustom ? custom : null, sandboxes });
  // The core checks the choice's bounds (an invalid field keeps the stored one).
  await browser.runtime.sendMessage({
    type: "save-choice",
    times: $("times").value,
    depth: $("depth").value,
    mode: $("mode").value,
  });
  if (buildapi && remember) {
    await browser.storage.local.set({ buildapi });
    await browser.storage.session.remove("buildapi");
  } else {
    await browser.storage.local.remove("buildapi");
    if (buildapi) {
      await browser.storage.session.set({ buildapi });
    } else {
      await browser.storage.session.remove("buildapi");
    }
  }
  $("status").textContent = "Saved.";
}

async function forget() {
  await browser.storage.local.remove("buildapi");
  await browser.storage.session.remove("buildapi");
  $("buildapi-user").value = "";
  $("buildapi-password").value = "";
  $("status").textContent = "BuildAPI credentials forgotten.";
}

$("options").addEventListener("submit", (event) => save(event));
$("forget").addEventListener("click", () => forget());
load();
