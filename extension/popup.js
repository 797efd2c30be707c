// The toolbar popup: the times / depth / mode choice (stored as the default
// for the page's Backfill button), the selected job's failing tests, a
// preview of the plan for the active tab's selected job, and every run in
// flight (culprit searches with their chart). Plans and texts come from the
// core through the background; this file only renders them with textContent.
import { culpritChart } from "./chart.js";
import { fillChoices, isCulpritMode } from "./choices.js";

const $ = (id) => document.getElementById(id);

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

const isWebPage = (tab) => typeof tab.url === "string" && /^https?:/.test(tab.url);

// The job of the active tab; when this page is open in a tab of its own
// (not as the toolbar popup) or the active tab is not one, the job of the
// Treeherder tab used last. Only job views of Treeherders the add-on knows
// count: the popup plans for no other page, whatever it says it is.
async function activeTabUrl() {
  const [active] = await browser.tabs.query({ active: true, currentWindow: true });
  const recent = (await browser.tabs.query({})).filter(isWebPage).sort((a, b) => b.lastAccessed - a.lastAccessed);
  const candidates = [...new Set([active, ...recent].filter((tab) => tab && isWebPage(tab)).map((tab) => tab.url))];
  if (candidates.length === 0) {
    return null;
  }
  const known = await browser.runtime.sendMessage({ type: "known-pages", urls: candidates });
  return Array.isArray(known) && known.length ? known[0] : null;
}

function currentChoice() {
  return { times: $("times").value, depth: $("depth").value, mode: $("mode").value, test: $("culprit-test").value };
}

// The culprit modes' hint comes from the core with the choices (its
// limits are the core's); the other modes' hint is the popup's own.
const hints = {
  culprit: "",
  other: "Saved as the default for the page's Backfill button (Shift+B).",
};

function showModeFields() {
  const culprit = isCulpritMode($("mode"));
  $("culprit-test-label").hidden = !culprit;
  $("times").disabled = culprit;
  $("mode-hint").textContent = culprit ? hints.culprit : hints.other;
}

// The tests that failed in the selected job; in culprit mode they are the
// choices of which failures count.
async function showFailures(pageUrl, chosenTest) {
  const list = $("failing-tests");
  list.replaceChildren();
  const select = $("culprit-test");
  for (const option of [...select.options].slice(1)) {
    option.remove();
  }
  if (!pageUrl) {
    $("failures-summary").textContent = "—";
    return;
  }
  $("failures-summary").textContent = "Reading the job's logs…";
  const answer = await browser.runtime.sendMessage({ type: "job-failures", pageUrl });
  if (!answer.ok) {
    $("failures-summary").textContent = answer.failure.message;
    return;
  }
  const { failures, failed_tests: names, unavailable, rows = [] } = answer.value;
  const shown = failures.failures.slice(0, 20);
  // The kinds the core found (`crash`, `infrastructure`, …), main one first.
  const kinds = (failures.kinds || []).map((k) => k.replace("_", " ")).join(", ");
  const errorLines = failures.error_lines || [];
  $("failures-summary").textContent =
    names.length === 0
      ? `No failing test found (${errorLines.length} error line(s) in the log${kinds ? `: ${kinds}` : ""}).`
      : `${names.length} failing test(s), from ${failures.source}${kinds ? ` — ${kinds}` : ""}${unavailable.length ? ` (${unavailable.length} source(s) unavailable)` : ""}:`;
  if (names.length === 0) {
    // Build, infrastructure, sanitizer… failures name no test: show their
    // lines, each with its kind (texts from the core).
    for (const row of rows) {
      const li = document.createElement("li");
      li.className = "error-line";
      li.dataset.kind = row.kind;
      li.textContent = row.text;
      list.appendChild(li);
    }
  }
  for (const f of shown) {
    const li = document.createElement("li");
    li.className = "failing-test";
    li.dataset.test = f.test;
    li.textContent = `${f.test}${f.subtest ? ` | ${f.subtest}` : ""} — ${f.status}${f.expected ? ` (expected ${f.expected})` : ""}${f.known_intermittent ? ", known intermittent" : ""}`;
    if (f.message && f.message !== f.subtest) {
      const message = document.createElement("div");
      message.className = "message";
      message.textContent = f.message;
      li.appendChild(message);
    }
    list.appendChild(li);
  }
  for (const c of failures.crashes.slice(0, 5)) {
    const li = document.createElement("li");
    li.textContent = `crash${c.test ? ` in ${c.test}` : ""}${c.signature ? `: ${c.signature}` : ""}`;
    list.appendChild(li);
  }
  for (const name of names) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    select.appendChild(option);
  }
  select.value = names.includes(chosenTest) ? chosenTest : "";
}

// Choices can change faster than plans arrive: only the latest is shown.
let latestPreview = 0;

async function preview() {
  const asked = ++latestPreview;
  const pageUrl = await activeTabUrl();
  if (asked !== latestPreview) {
    return;
  }
  const rows = $("plan-rows");
  rows.replaceChildren();
  $("plan-notes").replaceChildren();
  $("plan-summary").classList.remove("failed");
  if (!pageUrl) {
    $("plan-summary").textContent =
      "Open a Treeherder job view with a job selected (treeherder.mozilla.org, treeherder.allizom.org or the instance in the options).";
    return;
  }
  $("plan-summary").textContent = "Working out the plan…";
  const answer = await browser.runtime.sendMessage({ type: "plan", pageUrl, ...currentChoice() });
  if (asked !== latestPreview) {
    return;
  }
  if (!answer.ok) {
    $("plan-summary").textContent = answer.failure.message;
    $("plan-summary").classList.add("failed");
    return;
  }
  const plan = answer.value;
  for (const note of plan.notes) {
    const p = document.createElement("p");
    p.className = "plan-note";
    p.textContent = note;
    $("plan-notes").appendChild(p);
  }
  $("selected-job").textContent = `${plan.job_type.name} on ${plan.repo}, push ${plan.selected_push.revision.slice(0, 12)} (${plan.job_type.ci})`;
  $("plan-summary").textContent = `${plan.summary}${plan.needs_confirmation ? " — needs confirmation" : ""}`;
  for (const r of plan.rows) {
    const tr = document.createElement("tr");
    cell(tr, r.revision);
    cell(tr, r.action);
    cell(tr, r.runs);
    rows.appendChild(tr);
  }
}

function showRuns(runs) {
  const list = $("runs");
  list.replaceChildren();
  if (runs.length === 0) {
    const li = document.createElement("li");
    li.textContent = "Nothing in flight.";
    list.appendChild(li);
  }
  for (const watch of runs) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = watch.range_url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = watch.title || `${watch.job_type.name} on ${watch.repo}`;
    li.appendChild(link);
    const state = document.createElement("div");
    state.className = "run-state";
    if (watch.culprit) {
      const run = watch.culprit;
      state.textContent =
        watch.verdict_text || `${run.answer_text} — ${run.runs_used} run(s) read, ${run.in_flight} on their way`;
      li.appendChild(state);
      li.appendChild(culpritChart(run));
      const legend = document.createElement("div");
      legend.className = "hint";
      legend.textContent = "Per push, oldest left: green passed, red failed, grey asked for; blue below: P(culprit).";
      li.appendChild(legend);
    } else {
      state.textContent = watch.verdict_text || (watch.settled ? "finished" : `${watch.rows.filter((r) => !r.done).length} push(es) still running`);
      li.appendChild(state);
    }
    if (watch.live_mode) {
      const mode = document.createElement("div");
      mode.className = `hint run-mode run-mode-${watch.live_mode}`;
      mode.textContent =
        watch.live_mode === "live" ? "live: changes show as Taskcluster reports them" : "polling: checked every minute";
      li.appendChild(mode);
    }
    if (watch.problem && !watch.settled) {
      const problem = document.createElement("div");
      problem.className = "failed";
      problem.textContent = watch.problem.message;
      li.appendChild(problem);
    }
    list.appendChild(li);
  }
}

// Answers may come back out of order: only the latest question's is shown,
// so an older list never replaces a newer one.
let runsAsked = 0;

async function latestRuns(type) {
  const asked = ++runsAsked;
  const runs = await browser.runtime.sendMessage({ type });
  if (asked === runsAsked) {
    showRuns(runs);
  }
}

async function saveAndPreview() {
  showModeFields();
  await browser.runtime.sendMessage({ type: "save-choice", pageUrl: await activeTabUrl(), ...currentChoice() });
  await preview();
}

async function main() {
  const { offered, chosen } = await browser.runtime.sendMessage({ type: "choices" });
  fillChoices({ times: $("times"), mode: $("mode"), depth: $("depth") }, offered, chosen);
  hints.culprit = offered.culpritHint;
  showModeFields();
  $("choice").addEventListener("change", () => saveAndPreview());
  $("poll-now").addEventListener("click", () => latestRuns("poll-now"));
  $("open-options").addEventListener("click", (event) => {
    event.preventDefault();
    browser.runtime.openOptionsPage();
  });
  await latestRuns("runs");
  // Runs in flight change as the background hears of them (a poll stored,
  // live events gained or lost): shown without waiting for a click.
  const refreshRuns = () => latestRuns("runs");
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && changes.runs) {
      refreshRuns().catch(() => {});
    }
  });
  browser.runtime.onMessage.addListener((message) => {
    if (message && message.type === "live-mode") {
      refreshRuns().catch(() => {});
    }
  });
  const pageUrl = await activeTabUrl();
  const { test } = await browser.runtime.sendMessage({ type: "culprit-test", pageUrl });
  await showFailures(pageUrl, test);
  await preview();
}

main().catch((err) => {
  $("plan-summary").textContent = `mozci: ${err.message}`;
});
