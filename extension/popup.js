// The toolbar popup: the times / depth / mode choice (stored as the default
// for the page's Backfill button), a preview of the plan for the active
// tab's selected job, and every run in flight. Plans and texts come from the
// core through the background; this file only renders them with textContent.

const $ = (id) => document.getElementById(id);

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

async function activeTabUrl() {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab && typeof tab.url === "string" ? tab.url : null;
}

function currentChoice() {
  return { times: $("times").value, depth: $("depth").value, mode: $("mode").value };
}

async function preview() {
  const pageUrl = await activeTabUrl();
  const rows = $("plan-rows");
  rows.replaceChildren();
  $("plan-summary").classList.remove("failed");
  if (!pageUrl) {
    $("plan-summary").textContent = "Open a Treeherder job view with a job selected.";
    return;
  }
  $("plan-summary").textContent = "Working out the plan…";
  const answer = await browser.runtime.sendMessage({ type: "plan", pageUrl, ...currentChoice() });
  if (!answer.ok) {
    $("plan-summary").textContent = answer.failure.message;
    $("plan-summary").classList.add("failed");
    return;
  }
  const plan = answer.value;
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
    link.textContent = `${watch.job_type.name} on ${watch.repo}`;
    li.appendChild(link);
    const state = document.createElement("div");
    state.textContent = watch.verdict_text || (watch.settled ? "finished" : `${watch.rows.filter((r) => !r.done).length} push(es) still running`);
    li.appendChild(state);
    list.appendChild(li);
  }
}

async function saveAndPreview() {
  await browser.runtime.sendMessage({ type: "save-choice", ...currentChoice() });
  await preview();
}

async function main() {
  for (let n = 1; n <= 10; n += 1) {
    const option = document.createElement("option");
    option.value = String(n);
    option.textContent = String(n);
    $("times").appendChild(option);
  }
  const { choice = {} } = await browser.storage.local.get("choice");
  $("times").value = String(choice.times || 3);
  $("depth").value = String(choice.depth || 20);
  $("mode").value = choice.mode || "to_last_good";
  $("choice").addEventListener("change", () => saveAndPreview());
  $("poll-now").addEventListener("click", async () => showRuns(await browser.runtime.sendMessage({ type: "poll-now" })));
  $("open-options").addEventListener("click", (event) => {
    event.preventDefault();
    browser.runtime.openOptionsPage();
  });
  showRuns(await browser.runtime.sendMessage({ type: "runs" }));
  await preview();
}

main().catch((err) => {
  $("plan-summary").textContent = `mozci: ${err.message}`;
});
