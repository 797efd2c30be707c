// Treeherder job view as served by the mozci sandbox: the push list with job
// buttons, and a details panel that is thrown away and rebuilt on every
// selection, the way Treeherder's React app re-renders it.
// Every string that comes from the API is inserted with textContent or
// setAttribute; nothing from the network ever reaches innerHTML.
"use strict";

(function jobView() {
  const POLL_INTERVAL_MS = 60 * 1000;
  const PUSH_COUNT = 10;
  const POLL_PUSH_COUNT = 100;
  // Treeherder commits the new details panel only after its fetches settle;
  // the short pause keeps the "old panel, then new panel" sequence observable.
  const RENDER_DELAY_MS = 40;
  const NOTICE_LIFETIME_MS = 6000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TASK_RUN_PATTERN = /^([A-Za-z0-9_-]{22})\.(\d+)$/;
  const RETRIGGER_TITLE = "Retrigger job (r)";
  const EXPIRED_SUFFIX = " (unavailable — Taskcluster task expired)";
  const NAV_BUTTON_CLASS = "actionbar-nav-btn bg-transparent border-0 btn btn-primary";
  const NAV_BUTTON_GREEN_CLASS = "actionbar-nav-btn bg-transparent border-0 icon-green btn btn-primary";

  // Result or state -> job button colour class.
  const STATUS_CLASSES = {
    success: "btn-green",
    testfailed: "btn-orange",
    busted: "btn-red",
    exception: "btn-purple",
    retry: "btn-dkblue",
    usercancel: "btn-pink",
    superseded: "btn-ltblue",
    pending: "btn-gray",
    unscheduled: "btn-gray",
    running: "btn-ltgray",
    unknown: "btn-black",
  };
  const FAILURE_RESULTS = new Set(["testfailed", "busted", "exception"]);

  // Icons drawn for this page (512×512 grid), named after the FontAwesome
  // icons Treeherder renders so the data-icon/class attributes match.
  const ICONS = {
    "arrow-rotate-right": [
      ["path", { d: "M430 256a174 174 0 1 1-51-123", fill: "none", stroke: "currentColor", "stroke-width": "64", "stroke-linecap": "round" }],
      ["path", { d: "M464 40v176H288z", fill: "currentColor" }],
    ],
    thumbtack: [
      ["path", { d: "M144 32h224v48l-32 16v128l72 64v48H104v-48l72-64V96l-32-16z", fill: "currentColor" }],
      ["path", { d: "M232 336h48l-16 160h-16z", fill: "currentColor" }],
    ],
    crosshairs: [
      ["circle", { cx: "256", cy: "256", r: "160", fill: "none", stroke: "currentColor", "stroke-width": "56" }],
      ["path", { d: "M228 16h56v128h-56zM228 368h56v128h-56zM16 228h128v56H16zM368 228h128v56H368z", fill: "currentColor" }],
    ],
    "circle-xmark": [
      ["circle", { cx: "256", cy: "256", r: "240", fill: "currentColor" }],
      ["path", { d: "M176 176l160 160M336 176L176 336", stroke: "#252c33", "stroke-width": "56", "stroke-linecap": "round" }],
    ],
    "ellipsis-vertical": [
      ["circle", { cx: "256", cy: "96", r: "56", fill: "currentColor" }],
      ["circle", { cx: "256", cy: "256", r: "56", fill: "currentColor" }],
      ["circle", { cx: "256", cy: "416", r: "56", fill: "currentColor" }],
    ],
    "file-lines": [
      ["path", { d: "M96 16h224l112 112v368H96z", fill: "none", stroke: "currentColor", "stroke-width": "48", "stroke-linejoin": "round" }],
      ["path", { d: "M168 232h176v40H168zM168 312h176v40H168zM168 392h176v40H168z", fill: "currentColor" }],
    ],
    "list-check": [
      ["path", { d: "M40 96l40 40 72-88M40 256l40 40 72-88M40 416l40 40 72-88", fill: "none", stroke: "currentColor", "stroke-width": "40" }],
      ["path", { d: "M208 72h272v56H208zM208 232h272v56H208zM208 392h272v56H208z", fill: "currentColor" }],
    ],
    xmark: [
      ["path", { d: "M112 112l288 288M400 112L112 400", stroke: "currentColor", "stroke-width": "64", "stroke-linecap": "round" }],
    ],
  };

  const state = {
    repoName: "",
    urlRevision: "",
    repo: null,
    failureClassifications: new Map(),
    pushes: [], // newest first
    jobs: new Map(), // job id -> job object mapped from job_property_names
    selectedJobId: null,
    selectionSerial: 0,
    selectedDetails: null,
    newestLastModified: "",
    pinnedJobIds: new Set(),
    pollInFlight: false,
  };

  // ---------------------------------------------------------------- helpers

  /** Build an element; `text` becomes textContent, functions become listeners. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    applyAttributes(node, attrs);
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function applyAttributes(node, attrs) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (typeof value === "function") node.addEventListener(name, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
  }

  /** An inline SVG icon carrying FontAwesome's rendered attributes. */
  function icon(name) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("data-prefix", "fas");
    svg.setAttribute("data-icon", name);
    svg.setAttribute("class", `svg-inline--fa fa-${name}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("viewBox", "0 0 512 512");
    for (const [shape, attrs] of ICONS[name] || []) {
      const part = document.createElementNS(SVG_NS, shape);
      for (const [k, v] of Object.entries(attrs)) part.setAttribute(k, v);
      svg.append(part);
    }
    return svg;
  }

  /** The URL if it is http(s), else null: API strings never become javascript: links. */
  function safeHttpUrl(value) {
    try {
      const url = new URL(String(value), location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  class HttpError extends Error {
    constructor(url, status, body) {
      super(`${url} answered ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function fetchJson(url, options) {
    const response = await fetch(url, options);
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (parseError) {
      if (response.ok) throw new Error(`${url} did not answer JSON`);
    }
    if (!response.ok) throw new HttpError(url, response.status, body);
    return body;
  }

  function withQuery(path, params) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== null && v !== undefined && v !== "") query.set(k, String(v));
    }
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  }

  function projectPath(rest) {
    return `/api/project/${encodeURIComponent(state.repoName)}/${rest}`;
  }

  function tcRootUrl() {
    const root = state.repo && typeof state.repo.tc_root_url === "string" ? state.repo.tc_root_url : "";
    return root.replace(/\/+$/, "");
  }

  function shortRevision(revision) {
    return typeof revision === "string" ? revision.slice(0, 12) : "";
  }

  function formatPushTime(unixSeconds) {
    if (typeof unixSeconds !== "number") return "";
    const date = new Date(unixSeconds * 1000);
    return date.toLocaleString("en-US", {
      weekday: "short", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: "UTC",
    }) + " UTC";
  }

  function jobStatus(job) {
    return job.state === "completed" ? String(job.result || "unknown") : String(job.state || "unknown");
  }

  function jobDurationMinutes(job) {
    return typeof job.duration === "number" ? job.duration : null;
  }

  function jobTitle(job) {
    const duration = jobDurationMinutes(job);
    const suffix = duration === null ? "" : ` (${duration} mins)`;
    return `${jobStatus(job)} | ${job.job_type_name || job.job_type_symbol || "job"}${suffix}`;
  }

  function jobTaskRun(job) {
    if (typeof job.task_id !== "string" || !job.task_id) return null;
    const run = Number.isInteger(job.retry_id) ? job.retry_id : 0;
    return `${job.task_id}.${run}`;
  }

  function compareSymbols(a, b) {
    return String(a).localeCompare(String(b), "en", { numeric: true });
  }

  // ---------------------------------------------------------- notifications

  function notify(message, severity) {
    const box = document.getElementById("notification-box");
    const level = severity || "info";
    const close = el("button", { type: "button", class: "btn-close", title: "Dismiss", "aria-label": "Close", text: "×" });
    const alert = el("div", { class: `alert alert-${level}`, role: "alert" }, el("span", { class: "alert-text", text: message }), close);
    close.addEventListener("click", () => alert.remove());
    box.append(alert);
    if (level !== "danger") setTimeout(() => alert.remove(), NOTICE_LIFETIME_MS);
  }

  function setGlobalStatus(message) {
    const status = document.getElementById("th-global-status");
    status.textContent = message || "";
    status.hidden = !message;
  }

  // ------------------------------------------------------------------- URL

  /** Rewrite old `/#/jobs?…` URLs and read repo, revision and selection. */
  function readLocation() {
    if (location.hash.startsWith("#/jobs")) {
      const query = location.hash.slice("#/jobs".length);
      history.replaceState(null, "", `/jobs${query.startsWith("?") ? query : ""}`);
    }
    const params = new URLSearchParams(location.search);
    const taskRun = TASK_RUN_PATTERN.exec(params.get("selectedTaskRun") || "");
    const jobId = Number.parseInt(params.get("selectedJob") || "", 10);
    return {
      repo: params.get("repo") || "",
      revision: params.get("revision") || "",
      taskRun: taskRun ? { taskId: taskRun[1], run: Number(taskRun[2]) } : null,
      jobId: Number.isSafeInteger(jobId) && jobId > 0 ? jobId : null,
    };
  }

  /** The URL Treeherder shows for a selection (null clears it). */
  function urlForSelection(job) {
    const params = new URLSearchParams(location.search);
    params.set("repo", state.repoName);
    params.delete("selectedJob");
    params.delete("selectedTaskRun");
    if (job) {
      const taskRun = jobTaskRun(job);
      if (taskRun) params.set("selectedTaskRun", taskRun);
      else params.set("selectedJob", String(job.id));
    }
    return `/jobs?${params.toString()}`;
  }

  function findJobForLocation(where) {
    for (const job of state.jobs.values()) {
      if (where.taskRun && job.task_id === where.taskRun.taskId && (job.retry_id || 0) === where.taskRun.run) return job;
      if (!where.taskRun && where.jobId !== null && job.id === where.jobId) return job;
    }
    return null;
  }

  // ---------------------------------------------------------------- data

  /** Map the list form (`job_property_names` + arrays) to objects. */
  function mapJobRows(payload) {
    const names = Array.isArray(payload && payload.job_property_names) ? payload.job_property_names : [];
    const rows = Array.isArray(payload && payload.results) ? payload.results : [];
    const jobs = [];
    for (const row of rows) {
      if (!Array.isArray(row)) continue;
      const job = {};
      names.forEach((name, index) => {
        job[name] = row[index];
      });
      if (Number.isSafeInteger(job.id)) jobs.push(job);
    }
    return jobs;
  }

  /** `/api/jobs/` with the given filters, following `next` page by page. */
  async function fetchJobList(filters) {
    const jobs = [];
    let params = { ...filters };
    for (let pages = 0; pages < 1000; pages += 1) {
      const payload = await fetchJson(withQuery("/api/jobs/", params));
      jobs.push(...mapJobRows(payload));
      if (!payload || typeof payload.next !== "string" || !payload.next) break;
      // `next` may be absolute or relative; only its query matters, and the
      // request stays on this origin.
      const nextQuery = new URLSearchParams(payload.next.split("?")[1] || "");
      const page = nextQuery.get("page");
      if (!page) break;
      params = { ...filters, page };
    }
    return jobs;
  }

  function rememberJobs(jobs) {
    const changedPushIds = new Set();
    for (const job of jobs) {
      const known = state.jobs.get(job.id);
      // Unchanged or older copies (polls may repeat a job) cause no re-render.
      if (known && known.last_modified && String(known.last_modified) >= String(job.last_modified || "")) continue;
      state.jobs.set(job.id, known ? { ...known, ...job } : job);
      changedPushIds.add(job.push_id);
      if (typeof job.last_modified === "string" && job.last_modified > state.newestLastModified) {
        state.newestLastModified = job.last_modified;
      }
    }
    return changedPushIds;
  }

  async function fetchPushes(params) {
    const payload = await fetchJson(withQuery(projectPath("push/"), { full: "true", ...params }));
    return Array.isArray(payload && payload.results) ? payload.results.filter((p) => p && Number.isSafeInteger(p.id)) : [];
  }

  function pushHasRevision(push, revision) {
    const wanted = revision.toLowerCase();
    const matches = (rev) => typeof rev === "string" && rev.toLowerCase().startsWith(wanted);
    return matches(push.revision) || (Array.isArray(push.revisions) && push.revisions.some((r) => r && matches(r.revision)));
  }

  /** The first page of pushes; with a revision, its push and those before it. */
  async function loadInitialPushes() {
    if (!state.urlRevision) return fetchPushes({ count: PUSH_COUNT });
    let pushes = await fetchPushes({ count: PUSH_COUNT, tochange: state.urlRevision });
    if (!pushes.some((p) => pushHasRevision(p, state.urlRevision))) {
      // The revision may be a non-tip changeset of a push: ask by revision.
      pushes = await fetchPushes({ count: PUSH_COUNT, revision: state.urlRevision });
    }
    return pushes;
  }

  function addPushes(pushes) {
    const known = new Set(state.pushes.map((p) => p.id));
    const fresh = pushes.filter((p) => !known.has(p.id));
    state.pushes = state.pushes.concat(fresh).sort((a, b) => b.id - a.id);
    return fresh;
  }

  async function loadJobsOfPush(push) {
    try {
      rememberJobs(await fetchJobList({ push_id: push.id }));
    } catch (error) {
      notify(`Could not load the jobs of push ${shortRevision(push.revision)}: ${error.message}`, "danger");
    }
    renderPushJobs(push.id);
  }

  // ------------------------------------------------------------ push list

  function renderPushList() {
    const list = document.getElementById("push-list");
    const existing = new Map(Array.from(list.children).map((node) => [node.getAttribute("data-push-id"), node]));
    const ordered = state.pushes.map((push) => existing.get(String(push.id)) || buildPush(push));
    list.replaceChildren(...ordered);
  }

  function buildPush(push) {
    const revisionHref = `/jobs?repo=${encodeURIComponent(state.repoName)}&revision=${encodeURIComponent(push.revision || "")}`;
    const header = el("div", { class: "push-header" },
      el("span", { class: "push-title-left" },
        el("a", { class: "revision-link push-revision", href: revisionHref, title: "View only this push", text: shortRevision(push.revision) }),
        el("span", { class: "push-author", text: push.author || "" }),
        el("span", { class: "push-date", text: formatPushTime(push.push_timestamp) })),
      el("span", { class: "push-counts", "data-push-counts": String(push.id) }));
    const revisions = el("ul", { class: "revision-list list-unstyled" });
    for (const rev of Array.isArray(push.revisions) ? push.revisions : []) {
      if (!rev) continue;
      const comment = String(rev.comments || rev.comment || "").split("\n")[0];
      revisions.append(el("li", { class: "revision", "data-revision": rev.revision || "" },
        el("span", { class: "revision-holder", text: shortRevision(rev.revision) }),
        el("span", { class: "revision-author", text: String(rev.author || "").replace(/\s*<.*>$/, "") }),
        el("span", { class: "revision-comment", title: comment, text: comment })));
    }
    const count = Number.isInteger(push.revision_count) ? push.revision_count : revisions.childElementCount;
    if (count > revisions.childElementCount) {
      revisions.append(el("li", { class: "revision more-revisions", text: `…and ${count - revisions.childElementCount} more` }));
    }
    const jobTable = el("table", { id: `push-${push.id}`, class: "push-jobs-table" }, el("tbody"));
    return el("div", { class: "push", "data-push-id": String(push.id), "data-revision": push.revision || "" },
      header,
      el("div", { class: "push-body" },
        el("div", { class: "revision-list-pane" }, revisions),
        el("div", { class: "job-list-pane" }, jobTable)));
  }

  function jobsOfPush(pushId) {
    return Array.from(state.jobs.values()).filter((job) => job.push_id === pushId);
  }

  /** Rebuild one push's platform rows from the jobs known for it. */
  function renderPushJobs(pushId) {
    const table = document.getElementById(`push-${pushId}`);
    if (!table) return;
    const platforms = new Map();
    const counts = { total: 0, failed: 0, inProgress: 0 };
    for (const job of jobsOfPush(pushId)) {
      const platformName = `${job.platform || "unknown"} ${job.platform_option || ""}`.trim();
      if (!platforms.has(platformName)) platforms.set(platformName, new Map());
      const groupSymbol = job.job_group_symbol && job.job_group_symbol !== "?" ? job.job_group_symbol : "";
      const groups = platforms.get(platformName);
      if (!groups.has(groupSymbol)) groups.set(groupSymbol, { name: job.job_group_name || "", jobs: [] });
      groups.get(groupSymbol).jobs.push(job);
      counts.total += 1;
      if (job.state === "completed" && FAILURE_RESULTS.has(job.result)) counts.failed += 1;
      if (job.state === "pending" || job.state === "running") counts.inProgress += 1;
    }
    const rows = Array.from(platforms.keys()).sort(compareSymbols).map((platformName) => {
      const groups = platforms.get(platformName);
      const cells = Array.from(groups.keys()).sort(compareSymbols).map((symbol) => {
        const group = groups.get(symbol);
        const buttons = group.jobs
          .sort((a, b) => compareSymbols(a.job_type_symbol, b.job_type_symbol) || a.id - b.id)
          .map(buildJobButton);
        if (!symbol) return el("span", { class: "group-content ungrouped" }, ...buttons);
        return el("span", { class: "platform-group", "data-group-key": symbol },
          el("span", { class: "group-symbol", title: group.name, text: `${symbol}(` }),
          el("span", { class: "group-content" }, ...buttons),
          el("span", { class: "group-symbol", text: ")" }));
      });
      return el("tr", { "data-testid": "platform-row" },
        el("td", { class: "platform" }, el("span", { title: platformName, text: platformName })),
        el("td", { class: "job-row" }, ...cells));
    });
    table.tBodies[0].replaceChildren(...rows);
    const countNode = document.querySelector(`[data-push-counts="${pushId}"]`);
    if (countNode) {
      countNode.textContent = counts.total
        ? `${counts.total} jobs · ${counts.failed} failed · ${counts.inProgress} in progress`
        : "no jobs yet";
    }
  }

  function buildJobButton(job) {
    const status = jobStatus(job);
    const selected = job.id === state.selectedJobId;
    const classes = ["btn", "job-btn", "filter-shown", STATUS_CLASSES[status] || "btn-gray"];
    if (selected) classes.push("selected-job", "btn-lg-xform");
    return el("button", {
      type: "button",
      class: classes.join(" "),
      "data-job-id": String(job.id),
      "data-status": status,
      "data-tier": Number.isInteger(job.tier) ? String(job.tier) : null,
      title: jobTitle(job),
      text: job.job_type_symbol || "?",
      click: () => selectJob(job.id, { updateUrl: "push" }),
    });
  }

  function markSelectedButton() {
    for (const button of document.querySelectorAll("#push-list .job-btn")) {
      const selected = button.getAttribute("data-job-id") === String(state.selectedJobId);
      button.classList.toggle("selected-job", selected);
      button.classList.toggle("btn-lg-xform", selected);
    }
  }

  // ------------------------------------------------------------ selection

  async function selectJob(jobId, options) {
    const job = state.jobs.get(jobId);
    if (!job) return;
    const serial = ++state.selectionSerial;
    state.selectedJobId = jobId;
    markSelectedButton();
    if (options.updateUrl === "push") history.pushState(null, "", urlForSelection(job));
    else if (options.updateUrl === "replace") history.replaceState(null, "", urlForSelection(job));
    showLoadingOverlay();
    const details = await fetchJobDetails(job);
    if (serial !== state.selectionSerial) return; // a newer selection won
    await sleep(RENDER_DELAY_MS);
    if (serial !== state.selectionSerial) return;
    state.selectedDetails = details;
    replaceDetailsPanel(buildDetailsPanel(details));
  }

  function clearSelection(options) {
    state.selectionSerial += 1;
    state.selectedJobId = null;
    state.selectedDetails = null;
    markSelectedButton();
    const panel = document.getElementById("details-panel");
    if (panel) panel.remove();
    document.getElementById("details-pane-slot").classList.remove("open");
    if (options.updateUrl === "push") history.pushState(null, "", urlForSelection(null));
  }

  function showLoadingOverlay() {
    const panel = document.getElementById("details-panel");
    if (panel && !panel.querySelector(".overlay")) {
      panel.append(el("div", { class: "overlay" }, el("div", { class: "spinner", title: "Loading…" })));
    }
  }

  /** Fetch everything Treeherder's details panel asks for; failures are tolerated. */
  async function fetchJobDetails(job) {
    const optional = (promise, fallback) => promise.catch(() => fallback);
    const [detail, logs, notes, bugs, perf, suggestions] = await Promise.all([
      optional(fetchJson(projectPath(`jobs/${job.id}/`)), null),
      optional(fetchJson(withQuery(projectPath("job-log-url/"), { job_id: job.id })), []),
      optional(fetchJson(withQuery(projectPath("note/"), { job_id: job.id })), []),
      optional(fetchJson(withQuery(projectPath("bug-job-map/"), { job_id: job.id })), []),
      optional(fetchJson(withQuery(projectPath("performance/job-data/"), { job_id: job.id })), []),
      optional(fetchJson(projectPath(`jobs/${job.id}/bug_suggestions/`)), []),
    ]);
    const merged = { ...(detail && typeof detail === "object" ? detail : {}), ...job };
    const metadata = detail && detail.taskcluster_metadata;
    if (!merged.task_id && metadata && typeof metadata.task_id === "string") {
      merged.task_id = metadata.task_id;
      merged.retry_id = Number.isInteger(metadata.retry_id) ? metadata.retry_id : 0;
    }
    const details = {
      job: merged,
      logs: Array.isArray(logs) ? logs : [],
      notes: Array.isArray(notes) ? notes : [],
      bugs: Array.isArray(bugs) ? bugs : [],
      perf: Array.isArray(perf) ? perf : [],
      suggestions: Array.isArray(suggestions) ? suggestions : [],
      task: null,
      taskExpired: false,
    };
    if (merged.task_id && tcRootUrl()) {
      const run = Number.isInteger(merged.retry_id) ? merged.retry_id : 0;
      const taskUrl = `${tcRootUrl()}/api/queue/v1/task/${encodeURIComponent(merged.task_id)}`;
      try {
        const [task] = await Promise.all([fetchJson(taskUrl), fetchJson(`${taskUrl}/runs/${run}/artifacts`)]);
        details.task = task;
        const expires = task && Date.parse(task.expires);
        details.taskExpired = Number.isFinite(expires) && expires < Date.now();
      } catch (error) {
        // Treeherder treats an unreachable task as expired.
        details.taskExpired = true;
      }
    }
    return details;
  }

  // --------------------------------------------------------- details panel

  function replaceDetailsPanel(panel) {
    const slot = document.getElementById("details-pane-slot");
    const old = document.getElementById("details-panel");
    if (old) old.remove();
    slot.append(panel);
    slot.classList.add("open");
  }

  function navItem(child, extraClass) {
    return el("li", extraClass ? { class: extraClass } : {}, child);
  }

  function navButton(id, title, iconName, className, onClick, disabled) {
    return el("button", {
      type: "button", id, title, class: className, disabled: Boolean(disabled), click: onClick,
    }, icon(iconName));
  }

  function rawLogOf(details) {
    const preferred = ["live_backing_log", "builds-4h", "buildbot_text"];
    const logs = details.logs.filter((log) => log && safeHttpUrl(log.url));
    return logs.find((log) => preferred.includes(log.name)) || logs[0] || null;
  }

  function buildActionBar(details) {
    const job = details.job;
    const isTry = Boolean(state.repo && state.repo.is_try_repo);
    const rawLog = rawLogOf(details);
    const items = [];
    const logViewerAttrs = rawLog
      ? { class: "logviewer-btn", title: "Open the log viewer in a new window", target: "_blank", rel: "noopener noreferrer",
          href: withQuery("/logviewer", { job_id: job.id, repo: state.repoName }) }
      : { class: "logviewer-btn disabled", title: "No logs available for this job", "aria-disabled": "true" };
    items.push(navItem(el("a", logViewerAttrs, icon("list-check"))));
    const rawAttrs = rawLog
      ? { class: "logviewer-btn rawlog-btn", title: "Open the raw log in a new window", target: "_blank", rel: "noopener noreferrer", href: safeHttpUrl(rawLog.url) }
      : { class: "logviewer-btn rawlog-btn disabled", title: "No logs available for this job", "aria-disabled": "true" };
    items.push(navItem(el("a", rawAttrs, icon("file-lines"))));
    items.push(navItem(navButton("pin-job-btn", "Add this job to the pinboard", "thumbtack", NAV_BUTTON_CLASS, () => pinJob(job))));
    items.push(navItem(navButton("retrigger-btn", details.taskExpired ? RETRIGGER_TITLE + EXPIRED_SUFFIX : RETRIGGER_TITLE,
      "arrow-rotate-right", NAV_BUTTON_GREEN_CLASS, () => retriggerJob(state.jobs.get(job.id) || job), details.taskExpired)));
    items.push(navItem(navButton("find-job-btn", "Scroll to selection", "crosshairs", NAV_BUTTON_CLASS, scrollToSelection)));
    if (job.state === "pending" || job.state === "running") {
      items.push(navItem(navButton("cancel-job-btn", "Cancel job", "circle-xmark", `${NAV_BUTTON_CLASS} hover-warning`,
        () => notify("Cancelling jobs is not offered by the sandbox page.", "warning"))));
    }
    items.push(navItem(buildActionMenu(details, isTry), "ms-auto"));
    return el("div", { id: "actionbar" },
      el("nav", { class: "navbar navbar-dark details-panel-navbar" },
        el("ul", { class: "nav actionbar-nav" }, ...items)));
  }

  function menuItem(id, label, title, disabled) {
    const attrs = { class: disabled ? "dropdown-item disabled" : "dropdown-item", role: "button", href: "#", title, text: label };
    if (id) attrs.id = id;
    if (disabled) {
      attrs["aria-disabled"] = "true";
      attrs.tabindex = "-1";
    }
    const item = el("a", attrs);
    item.addEventListener("click", (event) => {
      event.preventDefault();
      closeMenus();
      if (!disabled) notify(`“${label}” is not offered by the sandbox page.`, "warning");
    });
    return item;
  }

  function backfillTitle(details, isTry) {
    const reasons = [];
    if (isTry) reasons.push("Backfill not available in this repository");
    if (details.taskExpired) reasons.push("Backfill unavailable — Taskcluster task expired");
    return reasons.length ? reasons.join("; ") : "Trigger jobs of this type on prior pushes to fill in gaps where the job was not run";
  }

  function buildActionMenu(details, isTry) {
    const job = details.job;
    const isTaskcluster = Boolean(job.task_id);
    const failed = job.state === "completed" && FAILURE_RESULTS.has(job.result);
    const toggle = el("button", {
      type: "button", id: "actionbar-menu-btn", title: "Other job actions", "aria-haspopup": "true", "aria-expanded": "false",
      class: "actionbar-nav-btn bg-transparent border-0 dropdown-toggle btn btn-primary",
    }, icon("ellipsis-vertical"));
    const menu = el("div", { class: "actionbar-menu dropdown-menu dropdown-menu-end", "aria-labelledby": "actionbar-menu-btn" },
      menuItem("backfill-btn", "Backfill", backfillTitle(details, isTry), isTry || details.taskExpired),
      menuItem("confirm-failures-btn", "Confirm Test Failures", failed ? "Rerun the failing tests to confirm them" : "Only failed test jobs can be confirmed", !failed || !isTaskcluster),
      menuItem(null, "Create Interactive Task", isTaskcluster ? "Create an interactive task for this job" : "Only for Taskcluster jobs", !isTaskcluster || details.taskExpired),
      menuItem(null, "Edit and Create New Task", "Edit the task definition and create a new task", !isTaskcluster || details.taskExpired),
      menuItem(null, "Custom Action…", "Choose one of the push's actions", !isTaskcluster || details.taskExpired));
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      const open = !menu.classList.contains("show");
      closeMenus();
      menu.classList.toggle("show", open);
      toggle.setAttribute("aria-expanded", String(open));
    });
    return el("div", { class: "dropdown" }, toggle, menu);
  }

  function closeMenus() {
    for (const menu of document.querySelectorAll(".dropdown-menu.show")) {
      menu.classList.remove("show");
      const toggle = menu.parentElement && menu.parentElement.querySelector(".dropdown-toggle");
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    }
  }

  function infoRow(label, value, href) {
    const valueNode = href
      ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: value })
      : el("span", { text: value });
    return el("li", {}, el("strong", { text: `${label}: ` }), valueNode);
  }

  function formatDuration(job) {
    const start = Number(job.start_timestamp);
    const end = Number(job.end_timestamp);
    if (start > 0 && end >= start) return `${Math.round((end - start) / 60)} minutes`;
    const minutes = jobDurationMinutes(job);
    return minutes === null ? "" : `${minutes} minutes`;
  }

  function buildJobSummary(details) {
    const job = details.job;
    const status = jobStatus(job);
    const rows = [
      infoRow("Job", job.job_type_name || ""),
      el("li", {}, el("strong", { text: "Result: " }), el("span", { class: `result-status ${STATUS_CLASSES[status] || ""}`, text: status })),
      infoRow("State", job.state || ""),
      infoRow("Platform", `${job.platform || ""} ${job.platform_option || ""}`.trim()),
      infoRow("Symbol", `${job.job_group_symbol && job.job_group_symbol !== "?" ? job.job_group_symbol + "(" + (job.job_type_symbol || "") + ")" : job.job_type_symbol || ""}`),
    ];
    if (job.machine_name) rows.push(infoRow("Machine", job.machine_name));
    const duration = formatDuration(job);
    if (duration) rows.push(infoRow("Duration", duration));
    if (job.push_revision || job.push_id) {
      const push = state.pushes.find((p) => p.id === job.push_id);
      const revision = job.push_revision || (push && push.revision) || "";
      rows.push(infoRow("Push revision", shortRevision(revision), `/jobs?repo=${encodeURIComponent(state.repoName)}&revision=${encodeURIComponent(revision)}`));
    }
    if (job.task_id) {
      const taskRun = jobTaskRun(job) || job.task_id;
      const taskHref = tcRootUrl() ? safeHttpUrl(`${tcRootUrl()}/tasks/${encodeURIComponent(job.task_id)}`) : null;
      rows.push(infoRow("Task", taskRun, taskHref));
    }
    if (details.taskExpired) rows.push(el("li", { class: "task-expired", text: "Taskcluster task expired" }));
    if (job.build_system_type) rows.push(infoRow("Build system", job.build_system_type));
    if (job.build_system_type === "buildbot" && job.ref_data_name) rows.push(infoRow("Builder", job.ref_data_name));
    const classification = state.failureClassifications.get(job.failure_classification_id);
    if (classification && job.failure_classification_id !== 1) rows.push(infoRow("Classification", classification));
    if (details.notes.length) rows.push(infoRow("Notes", String(details.notes.length)));
    if (details.bugs.length) rows.push(infoRow("Bugs", details.bugs.map((b) => b && b.bug_id).filter(Boolean).join(", ")));
    if (details.perf.length) rows.push(infoRow("Performance data", `${details.perf.length} series`));
    return el("div", { class: "summary-panel-content" }, el("ul", { id: "job-info", class: "list-unstyled" }, ...rows));
  }

  function buildFailureSummary(details) {
    const list = el("ul", { class: "failure-summary-list list-unstyled" });
    for (const suggestion of details.suggestions) {
      if (!suggestion || typeof suggestion.search !== "string") continue;
      const bugList = el("ul", { class: "failure-summary-bugs list-unstyled" });
      const bugs = suggestion.bugs && typeof suggestion.bugs === "object" ? suggestion.bugs : {};
      const openRecent = Array.isArray(bugs.open_recent) ? bugs.open_recent : [];
      for (const bug of openRecent.slice(0, 3)) {
        if (!bug || !Number.isSafeInteger(bug.id)) continue;
        bugList.append(el("li", {},
          el("a", { href: `https://bugzilla.mozilla.org/show_bug.cgi?id=${bug.id}`, target: "_blank", rel: "noopener noreferrer", text: String(bug.id) }),
          el("span", { class: "bug-summary", text: ` ${bug.summary || ""}` })));
      }
      list.append(el("li", { class: "failure-summary-line" },
        el("span", { class: "failure-summary-line-text", text: suggestion.search }),
        suggestion.failure_new_in_rev ? el("span", { class: "badge new-failure", text: "NEW" }) : null,
        bugList.childElementCount ? bugList : null));
    }
    const body = list.childElementCount ? list : el("div", { class: "failure-summary-empty", text: "Failure summary is empty" });
    const closeButton = el("button", { type: "button", class: "details-panel-close-btn bg-transparent border-0", title: "Close", click: () => clearSelection({ updateUrl: "push" }) }, icon("xmark"));
    return el("div", { id: "tabs-panel" },
      el("nav", { class: "tab-headers" },
        el("span", { class: "tab-header selected-tab", text: "Failure Summary" }),
        closeButton),
      el("div", { class: "tab-content failure-summary" }, body));
  }

  function buildDetailsPanel(details) {
    return el("div", { id: "details-panel", class: "details-panel-slide", "data-job-id": String(details.job.id) },
      el("div", { id: "details-panel-content" },
        el("div", { id: "summary-panel" }, buildActionBar(details), buildJobSummary(details)),
        buildFailureSummary(details)));
  }

  // -------------------------------------------------------------- actions

  function pinJob(job) {
    state.pinnedJobIds.add(job.id);
    const count = document.getElementById("pinned-count");
    count.hidden = false;
    count.textContent = `Pinboard: ${state.pinnedJobIds.size}`;
    notify(`Pinned ${job.job_type_symbol || job.id} to the pinboard`, "info");
  }

  function scrollToSelection() {
    const button = document.querySelector("#push-list .job-btn.selected-job");
    if (button) button.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  /** Taskcluster credentials Treeherder keeps for a root URL, if still valid. */
  function storedCredentials(rootUrl) {
    let all = null;
    try {
      all = JSON.parse(localStorage.getItem("userCredentials") || "null");
    } catch (error) {
      return null;
    }
    const entry = all && typeof all === "object" ? all[rootUrl] : null;
    const credentials = entry && entry.credentials;
    if (!credentials || typeof credentials.clientId !== "string" || typeof credentials.accessToken !== "string") return null;
    const expires = Date.parse(entry.expires);
    if (!Number.isFinite(expires) || expires <= Date.now()) return null;
    return credentials;
  }

  /** First action of `name` whose context matches the task's tags. */
  function findTaskAction(actionsJson, name, tags) {
    const actions = actionsJson && Array.isArray(actionsJson.actions) ? actionsJson.actions : [];
    const taskTags = tags && typeof tags === "object" ? tags : {};
    return actions.find((action) => {
      if (!action || action.name !== name || !Array.isArray(action.context) || action.context.length === 0) return false;
      return action.context.some((tagSet) =>
        tagSet && typeof tagSet === "object" && Object.entries(tagSet).every(([k, v]) => taskTags[k] === v));
    }) || null;
  }

  /** Look up the push's `retrigger` action the way Treeherder does. */
  async function lookUpRetriggerAction(job) {
    const decision = await fetchJson(withQuery(projectPath("push/decisiontask/"), { push_ids: job.push_id }));
    const entry = decision && decision[String(job.push_id)];
    if (!entry || typeof entry.id !== "string") throw new Error("this push has no decision task");
    const queue = `${tcRootUrl()}/api/queue/v1/task`;
    const actions = await fetchJson(`${queue}/${encodeURIComponent(entry.id)}/artifacts/public/actions.json`);
    const selected = state.selectedDetails;
    const task = selected && selected.job.id === job.id && selected.task
      ? selected.task
      : await fetchJson(`${queue}/${encodeURIComponent(job.task_id)}`);
    const action = findTaskAction(actions, "retrigger", task && task.tags);
    if (!action) throw new Error("the decision task offers no retrigger action for this task");
    return { decisionTaskId: entry.id, action };
  }

  /**
   * Retrigger through the sandbox's stand-in for Treeherder's retrigger
   * (POST /__sandbox/retrigger), after the same action lookup Treeherder does.
   */
  async function retriggerJob(job) {
    if (!job) return;
    const details = state.selectedDetails;
    if (details && details.job.id === job.id && details.taskExpired) {
      notify("Retrigger unavailable — Taskcluster task expired", "danger");
      return;
    }
    const body = { repo: state.repoName, job_id: job.id };
    if (job.task_id) {
      const credentials = storedCredentials(tcRootUrl());
      if (!credentials) {
        notify("You must be logged in to Taskcluster to retrigger a job (use “Log in” above).", "danger");
        return;
      }
      try {
        const { decisionTaskId, action } = await lookUpRetriggerAction(job);
        body.client_id = credentials.clientId;
        body.decision_task_id = decisionTaskId;
        body.action = { name: action.name, hookGroupId: action.hookGroupId || null, hookId: action.hookId || null };
      } catch (error) {
        notify(`Unable to retrigger ${job.job_type_symbol || job.id}: ${error.message}`, "danger");
        return;
      }
    }
    try {
      const answer = await fetchJson("/__sandbox/retrigger", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const detail = answer && typeof answer.msg === "string" ? answer.msg : "";
      notify(`Request sent to retrigger 1 job${detail ? `: ${detail}` : ""}`, "success");
    } catch (error) {
      const reason = error.body && typeof error.body.msg === "string" ? error.body.msg : error.message;
      notify(`Retrigger failed: ${reason}`, "danger");
    }
  }

  // ------------------------------------------------------------ login

  function renderUserMenu() {
    const menu = document.getElementById("user-menu");
    const root = tcRootUrl();
    const credentials = root ? storedCredentials(root) : null;
    if (credentials) {
      menu.replaceChildren(
        el("span", { class: "navbar-text user-client-id", title: `Taskcluster credentials for ${root}`, text: credentials.clientId }),
        el("button", { type: "button", id: "logout-btn", class: "btn btn-view-nav nav-menu-btn", text: "Log out", click: logOut }));
    } else {
      menu.replaceChildren(el("button", {
        type: "button", id: "login-btn", class: "btn btn-view-nav nav-menu-btn", text: "Log in",
        title: root ? `Store demo Taskcluster credentials for ${root}` : "This repository has no Taskcluster root URL",
        disabled: !root, click: logIn,
      }));
    }
  }

  function readCredentialStore() {
    try {
      const all = JSON.parse(localStorage.getItem("userCredentials") || "{}");
      return all && typeof all === "object" && !Array.isArray(all) ? all : {};
    } catch (error) {
      return {};
    }
  }

  async function logIn() {
    const root = tcRootUrl();
    try {
      const demo = await fetchJson("/__sandbox/demo-credentials");
      if (!demo || typeof demo.clientId !== "string" || typeof demo.accessToken !== "string") {
        throw new Error("the sandbox answered without clientId/accessToken");
      }
      const all = readCredentialStore();
      all[root] = {
        credentials: { clientId: demo.clientId, accessToken: demo.accessToken },
        expires: new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString(),
      };
      localStorage.setItem("userCredentials", JSON.stringify(all));
      notify(`Logged in to ${root} as ${demo.clientId}`, "success");
    } catch (error) {
      notify(`Login failed: ${error.message}`, "danger");
    }
    renderUserMenu();
  }

  function logOut() {
    const all = readCredentialStore();
    delete all[tcRootUrl()];
    localStorage.setItem("userCredentials", JSON.stringify(all));
    renderUserMenu();
  }

  // ------------------------------------------------------------ keyboard

  function visibleJobButtons() {
    return Array.from(document.querySelectorAll("#push-list .job-btn"));
  }

  function moveSelection(step) {
    const buttons = visibleJobButtons();
    if (!buttons.length) return;
    const current = buttons.findIndex((b) => b.getAttribute("data-job-id") === String(state.selectedJobId));
    const next = current === -1 ? (step > 0 ? 0 : buttons.length - 1) : (current + step + buttons.length) % buttons.length;
    const jobId = Number(buttons[next].getAttribute("data-job-id"));
    selectJob(jobId, { updateUrl: "push" });
    buttons[next].scrollIntoView({ block: "nearest" });
  }

  function onKeyDown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    switch (event.key) {
      case "r": {
        const job = state.jobs.get(state.selectedJobId);
        if (job) window.dispatchEvent(new CustomEvent("job-retrigger-EVT", { detail: { job } }));
        break;
      }
      case "j":
      case "ArrowRight":
        moveSelection(1);
        break;
      case "k":
      case "ArrowLeft":
        moveSelection(-1);
        break;
      case "Escape":
        closeMenus();
        if (state.selectedJobId !== null) clearSelection({ updateUrl: "push" });
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  function onRetriggerEvent(event) {
    const job = event.detail && event.detail.job;
    if (job && Number.isSafeInteger(job.id)) retriggerJob(state.jobs.get(job.id) || job);
  }

  // ------------------------------------------------------------- polling

  /** Treeherder's 60-second poll: new pushes, then jobs modified since. */
  async function poll() {
    if (state.pollInFlight || !state.repo) return;
    state.pollInFlight = true;
    try {
      const knownPushIds = state.pushes.map((p) => p.id);
      const newest = state.pushes[0];
      const pushes = await fetchPushes({ count: POLL_PUSH_COUNT, fromchange: newest ? newest.revision : null });
      const fresh = addPushes(pushes);
      if (fresh.length) {
        renderPushList();
        await Promise.all(fresh.map(loadJobsOfPush));
      }
      if (knownPushIds.length) {
        const filters = { push_id__in: knownPushIds.join(",") };
        if (state.newestLastModified) filters.last_modified__gt = state.newestLastModified;
        const changed = rememberJobs(await fetchJobList(filters));
        for (const pushId of changed) renderPushJobs(pushId);
        const selected = state.jobs.get(state.selectedJobId);
        if (selected && changed.has(selected.push_id) && state.selectedDetails
            && state.selectedDetails.job.last_modified !== selected.last_modified) {
          selectJob(selected.id, { updateUrl: "none" });
        }
      }
    } catch (error) {
      notify(`Polling for updates failed: ${error.message}`, "warning");
    } finally {
      state.pollInFlight = false;
    }
  }

  // -------------------------------------------------------------- start

  function selectFromLocation(options) {
    const where = readLocation();
    if (!where.taskRun && where.jobId === null) {
      if (state.selectedJobId !== null) clearSelection({ updateUrl: "none" });
      return;
    }
    const job = findJobForLocation(where);
    if (!job) {
      notify("The selected job is not within the loaded pushes.", "warning");
      return;
    }
    // Legacy `selectedJob=` URLs are rewritten to `selectedTaskRun=`.
    const rewrite = where.taskRun === null && jobTaskRun(job) ? "replace" : "none";
    if (job.id !== state.selectedJobId || options.force) selectJob(job.id, { updateUrl: rewrite });
    const button = document.querySelector(`#push-list .job-btn[data-job-id="${job.id}"]`);
    if (button) button.scrollIntoView({ block: "center" });
  }

  async function start() {
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("click", closeMenus);
    window.addEventListener("job-retrigger-EVT", onRetriggerEvent);
    window.addEventListener("popstate", () => selectFromLocation({ force: false }));
    const where = readLocation();
    state.urlRevision = /^[0-9a-fA-F]{12,40}$/.test(where.revision) ? where.revision : "";
    try {
      const [repos, , classifications] = await Promise.all([
        fetchJson("/api/repository/"),
        fetchJson("/api/user/").catch(() => []),
        fetchJson("/api/failureclassification/").catch(() => []),
        fetchJson("/api/performance/framework/").catch(() => []),
      ]);
      const repoList = Array.isArray(repos) ? repos.filter((r) => r && typeof r.name === "string") : [];
      const fallback = repoList.find((r) => r.name === "autoland") || repoList[0];
      state.repoName = where.repo || (fallback ? fallback.name : "");
      state.repo = repoList.find((r) => r.name === state.repoName) || null;
      for (const fc of Array.isArray(classifications) ? classifications : []) {
        if (fc && Number.isInteger(fc.id)) state.failureClassifications.set(fc.id, String(fc.name || ""));
      }
    } catch (error) {
      setGlobalStatus(`Could not load repositories: ${error.message}`);
      return;
    }
    document.getElementById("repo-name").textContent = state.repoName;
    document.title = `${state.repoName} – Treeherder`;
    if (!state.repo) {
      setGlobalStatus(`Unknown repository: ${state.repoName}`);
      return;
    }
    renderUserMenu();
    try {
      addPushes(await loadInitialPushes());
    } catch (error) {
      setGlobalStatus(`Could not load pushes: ${error.message}`);
      return;
    }
    renderPushList();
    setGlobalStatus(state.pushes.length ? "" : "No pushes found.");
    await Promise.all(state.pushes.map(loadJobsOfPush));
    selectFromLocation({ force: true });
    setInterval(poll, POLL_INTERVAL_MS);
    // Scripted tests wait for this: pushes and their jobs are on the page.
    document.body.setAttribute("data-th-ready", "true");
    // Lets scripted tests trigger the 60-second poll at once.
    window.thSandboxPage = { poll };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
