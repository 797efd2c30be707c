// The options page: a custom Treeherder instance's endpoints, the BuildAPI
// (LDAP) credentials and the defaults. Credentials go to storage.session
// unless "remember" is ticked (then storage.local); Taskcluster credentials
// are never asked for here: they come from the Treeherder login.

import { DEFAULT_CHOICE, fillChoices } from "./choices.js";

const $ = (id) => document.getElementById(id);
const CUSTOM = ["treeherder", "hg", "buildapi", "taskcluster"];

async function load() {
  const local = await browser.storage.local.get(["custom", "buildapi", "choice"]);
  const session = await browser.storage.session.get("buildapi");
  const custom = local.custom || {};
  for (const key of CUSTOM) {
    $(`custom-${key}`).value = custom[key] || "";
  }
  const buildapi = session.buildapi || local.buildapi || {};
  $("buildapi-user").value = buildapi.user || "";
  $("buildapi-password").value = buildapi.password || "";
  $("buildapi-remember").checked = Boolean(local.buildapi);
  const chosen = fillChoices($("times"), $("mode"), local.choice);
  $("depth").value = String(chosen.depth);
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
  const user = $("buildapi-user").value.trim();
  const buildapi = user ? { user, password: $("buildapi-password").value } : null;
  const remember = $("buildapi-remember").checked;
  const { choice = {} } = await browser.storage.local.get("choice");
  await browser.storage.local.set({
    custom: anyCustom ? custom : null,
    choice: {
      ...choice,
      times: $("times").value === "auto" ? "auto" : Number($("times").value) || DEFAULT_CHOICE.times,
      depth: Number($("depth").value) || DEFAULT_CHOICE.depth,
      mode: $("mode").value,
    },
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
