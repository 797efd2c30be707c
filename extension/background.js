// Background event page: owns the add-on's network access and all in-flight
// work. Plans, triggers and monitoring steps are the Rust core's (`Core`);
// this file stores what the core returns (browser.storage), schedules polls
// (browser.alarms), holds the live-events WebSockets whose frames the core
// reads (`LiveEvents`), and tells the user (notifications, messages to tabs).
import init, {
  buildVariant,
  choiceOver,
  coreVersion,
  jobViewSelection,
  mergeLedgers,
  offeredChoices,
  planConflict,
  Core,
  LiveEvents,
} from "../pkg/mozci.js";

// Start-up times of this event page (performance.now(): 0 is when Firefox
// began loading it), for the cold-start benchmark (scripts/bench-addon).
// This script runs once its imports (the core's glue) are loaded.
const startup = { scriptStart: performance.now(), coreReady: null, firstMessage: null, firstAnswer: null };

const ready = init({ module_or_path: new URL("../pkg/mozci_bg.wasm", import.meta.url) });
ready.then(() => {
  startup.coreReady = performance.now();
  publishStartup();
});

// A development build only puts them into this page's own performance
// timeline (no web page can read it) as standard marks:
//   mozci:script-start   this script began to run (its imports loaded)
//   mozci:core-ready     the wasm core is fetched, compiled and instantiated
//   mozci:first-message  the first message this page answers arrived
//   mozci:first-answer   its answer was ready
function publishStartup() {
  const { scriptStart, coreReady, firstMessage, firstAnswer } = startup;
  if (coreReady === null || firstAnswer === null || buildVariant() !== "development") {
    return;
  }
  performance.mark("mozci:script-start", { startTime: scriptStart });
  performance.mark("mozci:core-ready", { startTime: coreReady });
  performance.mark("mozci:first-message", { startTime: firstMessage.received, detail: firstMessage.type });
  performance.mark("mozci:first-answer", { startTime: firstAnswer });
}

// `listener`, noting when the first message it answers arrived and when
// its answer was ready.
function timingFirstAnswer(listener) {
  return (message, sender) => {
    const received = performance.now();
    const answer = listener(message, sender);
    if (answer !== undefined && startup.firstMessage === null) {
      startup.firstMessage = { type: message.type, received };
      const answered = () => {
        startup.firstAnswer = performance.now();
        publishStartup();
      };
      Promise.resolve(answer).then(answered, answered);
    }
    return answer;
  };
}

const POLL_ALARM = "mozci-poll";

// Taskcluster credentials come from the page for one run and stay in memory
// only (never in storage): after a restart, monitoring goes on without them.
const userCredentialsByRun = new Map();
// Plans being sent right now, by run key: a second Confirm must not send
// twice, and a plan overlapping one of them waits.
const executing = new Map();

// ---- storage -------------------------------------------------------------

async function loadState() {
  const { ledger = null, runs = {} } = await browser.storage.local.get(["ledger", "runs"]);
  return { ledger, runs };
}

// Every change to the ledger and the runs goes through this queue, one at a
// time: an execution and a poll never interleave their read-modify-writes,
// so neither overwrites the other's records.
let storageQueue = Promise.resolve();

function serialized(change) {
  const done = storageQueue.then(change);
  storageQueue = done.catch(() => {});
  return done;
}

// Inside the queue: the core merges `incoming` records into the stored
// ledger (an outcome replaces its intent; nobody's records are dropped).
async function mergeIntoLedger(incoming) {
  await ready;
  const { ledger = null } = await browser.storage.local.get("ledger");
  await browser.storage.local.set({ ledger: mergeLedgers(ledger, incoming) });
}

// The core's journal: each trigger's record is in storage before its
// request is sent (its intent), then again with the answer.
function journal(record) {
  return serialized(() => mergeIntoLedger({ records: [record] }));
}

// Inside the queue: `update(run)` applied to the stored run `key`.
async function updateRun(key, update) {
  const { runs } = await loadState();
  const run = update(runs[key]);
  if (run) {
    runs[key] = run;
    await browser.storage.local.set({ runs });
  }
  return run;
}

async function settings() {
  const local = await browser.storage.local.get(["custom", "sandboxes", "buildapi", "choice"]);
  const session = await browser.storage.session.get(["buildapi"]);
  const buildapi = session.buildapi || local.buildapi || {};
  return {
    core: {
      custom: local.custom || null,
      // Read by a development build's core only (see the options page).
      sandboxes: local.sandboxes || [],
      buildapiUser: buildapi.user || null,
      buildapiPassword: buildapi.password || null,
    },
    // The stored choice over the core's default (invalid fields dropped).
    choice: choiceOver(local.choice || null, null),
  };
}

async function core() {
  await ready;
  return new Core((await settings()).core);
}

// ---- planning and executing ------------------------------------------------

function activeRunFor(runs, plan) {
  const run = runs[plan.key];
  return run && !run.watch.settled ? run : null;
}

// Plans wait for their Confirm in session storage: they survive the event
// page being unloaded in between, and no longer than the browser session.
// Only the latest few are kept.
const KEPT_PLANS = 10;

async function keepPlan(plan) {
  const { pendingPlans = [] } = await browser.storage.session.get("pendingPlans");
  const token = crypto.randomUUID();
  const kept = [{ token, plan, createdAt: Date.now() }, ...pendingPlans].slice(0, KEPT_PLANS);
  await browser.storage.session.set({ pendingPlans: kept });
  return token;
}

async function takePlan(token) {
  const { pendingPlans = [] } = await browser.storage.session.get("pendingPlans");
  const found = pendingPlans.find((entry) => entry.token === token);
  await browser.storage.session.set({ pendingPlans: pendingPlans.filter((entry) => entry.token !== token) });
  return found || null;
}

// The test whose failures a culprit search counts is chosen per job (in
// the popup): stored with the job's selection, used only for that job.
async function selectionKey(pageUrl) {
  await ready;
  try {
    const selection = jobViewSelection(pageUrl);
    return selection ? JSON.stringify([selection.origin, selection.repo, selection.selected]) : null;
  } catch {
    return null;
  }
}

async function culpritTestFor(pageUrl) {
  const { culpritTest = null } = await browser.storage.local.get("culpritTest");
  const key = await selectionKey(pageUrl);
  return culpritTest && key && culpritTest.selection === key ? culpritTest.test : "";
}

async function saveCulpritTest(pageUrl, test) {
  const selection = typeof pageUrl === "string" ? await selectionKey(pageUrl) : null;
  if (selection && typeof test === "string" && test.length <= 1000) {
    await browser.storage.local.set({ culpritTest: { selection, test } });
  }
}

async function plan(request) {
  const { choice } = await settings();
  const chosen = choiceOver(request, choice);
  const { ledger, runs } = await loadState();
  const culprit = offeredChoices().culpritModes.includes(chosen.mode);
  const test = culprit ? (await culpritTestFor(request.pageUrl)) || null : null;
  const times = chosen.times === "auto" ? null : chosen.times;
  const answer = await (await core()).plan({ pageUrl: request.pageUrl, ...chosen, times, test }, ledger);
  if (!answer.ok) {
    return answer;
  }
  const running = activeRunFor(runs, answer.value);
  // A preview (the popup) is never executed: it is not kept.
  const token = request.preview ? null : await keepPlan(answer.value);
  return { ok: true, value: answer.value, token, choice: chosen, running: running ? running.watch : null };
}

async function execute(token, userCredentials, tabId) {
  const kept = await takePlan(token);
  if (!kept) {
    return { ok: false, failure: { message: "this plan is no longer available: click Backfill again", auth: null } };
  }
  const stored = kept.plan;
  const runKey = stored.key;
  const { runs: before } = await loadState();
  if (executing.has(runKey) || activeRunFor(before, stored)) {
    return { ok: true, value: (before[runKey] || { watch: null }).watch, alreadyRunning: true };
  }
  await ready;
  // A plan kept too long, or overlapping a run in flight (or a plan being
  // sent, not stored yet), is not replayed: the user plans again.
  const conflict = planConflict(
    stored,
    kept.createdAt || 0,
    Object.values(before).map((run) => run.watch),
    [...executing.values()],
  );
  if (conflict) {
    return { ok: false, failure: { message: conflict, auth: null } };
  }
  executing.set(runKey, stored);
  try {
    const { ledger } = await loadState();
    const answer = await (await core()).execute(stored, userCredentials, ledger, journal);
    if (!answer.ok) {
      return answer;
    }
    const { watch, ledger: updated } = answer.value;
    if (userCredentials) {
      userCredentialsByRun.set(watch.key, userCredentials);
    }
    await serialized(async () => {
      await mergeIntoLedger(updated);
      await updateRun(watch.key, () => ({ watch, tabId, startedAt: Date.now(), notified: false }));
    });
    await ensureAlarm();
    if (watch.settled) {
      await finish(watch.key);
    }
    syncLive().catch((err) => console.error("mozci: live events", err));
    return { ok: true, value: withMode(watch) };
  } finally {
    executing.delete(runKey);
  }
}

// ---- monitoring ------------------------------------------------------------

async function ensureAlarm() {
  const { runs } = await loadState();
  const active = Object.values(runs).some((run) => !run.watch.settled);
  if (active) {
    browser.alarms.create(POLL_ALARM, { periodInMinutes: 1 });
  } else {
    await browser.alarms.clear(POLL_ALARM);
  }
}

let polling = null;

// One poll of every unsettled run; overlapping polls share one pass.
function pollAll() {
  if (!polling) {
    polling = pollOnce().finally(() => {
      polling = null;
    });
  }
  return polling;
}

async function pollOnce() {
  lastPollAt = Date.now();
  const { runs } = await loadState();
  const coreNow = await core();
  for (const [key, run] of Object.entries(runs)) {
    if (run.watch.settled) {
      continue;
    }
    const { ledger } = await loadState();
    const answer = await coreNow.watchStep(run.watch, userCredentialsByRun.get(key) || null, ledger, journal);
    if (!answer.ok) {
      console.warn("mozci: monitoring", key, answer.failure.message);
      continue;
    }
    const current = await serialized(async () => {
      await mergeIntoLedger(answer.value.ledger);
      return updateRun(key, (stored) => ({ ...(stored || run), watch: answer.value.watch }));
    });
    tellTab(current);
    if (current.watch.settled) {
      await finish(key);
    }
  }
  await ensureAlarm();
  // A socket problem must not fail the poll: the alarm covers every run.
  await syncLive().catch((err) => console.error("mozci: live events", err));
}

// A poll that starts after everything seen so far: one under way may have
// read the runs before the news arrived.
function pollAfterNews() {
  const underway = polling;
  return underway ? underway.then(pollAll) : pollAll();
}

function tellTab(run) {
  if (typeof run.tabId === "number") {
    browser.tabs.sendMessage(run.tabId, { type: "progress", watch: withMode(run.watch) }).catch(() => {
      // The tab is gone or elsewhere: the popup still shows the run.
    });
  }
}

async function finish(key) {
  let first = false;
  const run = await serialized(() =>
    updateRun(key, (stored) => {
      if (!stored || stored.notified) {
        return null;
      }
      first = true;
      return { ...stored, notified: true };
    }),
  );
  if (!first || !run) {
    return;
  }
  userCredentialsByRun.delete(key);
  tellTab(run);
  const title = run.watch.title || `Backfill of ${run.watch.job_type.name} on ${run.watch.repo}`;
  const message = run.watch.verdict_text || "finished";
  await browser.notifications.create(`mozci-${key}`, {
    type: "basic",
    iconUrl: browser.runtime.getURL("extension/icons/mozci.svg"),
    title,
    message,
  });
  // The browser console keeps a trace of every answer given to the user.
  console.info(`mozci: notified "${title}": ${message}`);
}

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === POLL_ALARM) {
    onAlarm().catch((err) => console.error("mozci: poll failed", err));
  }
});

// The alarm is the fallback and the reconciler: it polls every minute
// unless every run in flight hears live events (then every
// LIVE_FALLBACK_MS), and it (re)opens the sockets the runs need.
async function onAlarm() {
  const { runs } = await loadState();
  const active = Object.values(runs).filter((run) => !run.watch.settled);
  const allLive = active.length > 0 && active.every((run) => liveMode(run.watch) === "live");
  if (allLive && Date.now() - lastPollAt < LIVE_FALLBACK_MS) {
    await syncLive();
    return;
  }
  await pollAll();
}

// ---- live events -------------------------------------------------------------

// Taskcluster's GraphQL subscriptions (the web-server's /subscription
// WebSocket): this page owns the sockets, one per Taskcluster root URL the
// runs in flight use (`watch.live.socket_url`, which the core derives from
// the settings' endpoints, never from a page); the core's `LiveEvents`
// reads every frame and says what to send and when the screen needs a
// fresh poll. A socket that drops is reopened with backoff; meanwhile the
// alarm polls every minute, and every (re)connection is followed by one
// reconciling poll, so a change missed while deaf is still seen.
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 60 * 1000;
// News arriving together costs one poll.
const REFRESH_GATHER_MS = 250;
const LIVE_FALLBACK_MS = 10 * 60 * 1000;

const liveSockets = new Map();
let lastPollAt = 0;
let refreshTimer = null;

function liveMode(watch) {
  if (watch.settled) {
    return null;
  }
  const url = watch.live && watch.live.socket_url;
  const entry = url ? liveSockets.get(url) : null;
  return entry && entry.live ? "live" : "polling";
}

// What the panel and the popup show: the run and how it is followed.
function withMode(watch) {
  return { ...watch, live_mode: liveMode(watch) };
}

async function syncLive() {
  await ready;
  const { runs } = await loadState();
  const wanted = new Map();
  for (const run of Object.values(runs)) {
    const live = run.watch.live;
    if (!run.watch.settled && live && typeof live.socket_url === "string") {
      wanted.set(live.socket_url, [...(wanted.get(live.socket_url) || []), live]);
    }
  }
  for (const entry of [...liveSockets.values()]) {
    if (!wanted.has(entry.url)) {
      closeLive(entry);
    }
  }
  for (const [url, targets] of wanted) {
    let entry = liveSockets.get(url);
    if (!entry) {
      entry = { url, session: new LiveEvents(), socket: null, live: false, retryMs: RECONNECT_FIRST_MS, timer: null };
      liveSockets.set(url, entry);
      openLive(entry);
    }
    sendAll(entry, entry.session.want(targets));
  }
}

function sendAll(entry, messages) {
  if (entry.socket && entry.socket.readyState === WebSocket.OPEN) {
    for (const text of messages) {
      entry.socket.send(text);
    }
  }
}

function openLive(entry) {
  let socket;
  try {
    socket = new WebSocket(entry.url, entry.session.protocol);
  } catch (err) {
    console.warn(`mozci: live events: cannot open ${entry.url}: ${err.message}`);
    reconnectLater(entry);
    return;
  }
  entry.socket = socket;
  socket.onopen = () => sendAll(entry, entry.session.opened());
  socket.onmessage = (event) => onLiveFrame(entry, event.data);
  socket.onclose = () => onLiveClosed(entry, socket);
}

function onLiveFrame(entry, data) {
  if (typeof data !== "string") {
    return;
  }
  const reception = entry.session.receive(data);
  sendAll(entry, reception.send);
  if (reception.note) {
    console.info(`mozci: live events: ${reception.kind}: ${reception.note}`);
  }
  if (reception.kind === "ack") {
    entry.live = true;
    entry.retryMs = RECONNECT_FIRST_MS;
    console.info(`mozci: live events from ${entry.url}; reconciling with one poll`);
    tellTabsMode().catch(() => {});
    pollAfterNews().catch((err) => console.error("mozci: poll failed", err));
  } else if (reception.kind === "connection_error" && !entry.live) {
    entry.socket.close();
  }
  if (reception.refresh && !refreshTimer) {
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      pollAfterNews().catch((err) => console.error("mozci: poll failed", err));
    }, REFRESH_GATHER_MS);
  }
}

function onLiveClosed(entry, socket) {
  if (entry.socket !== socket) {
    return;
  }
  const wasLive = entry.live;
  entry.socket = null;
  entry.live = false;
  entry.session.closed();
  if (liveSockets.get(entry.url) !== entry) {
    return;
  }
  if (wasLive) {
    console.warn(`mozci: live events from ${entry.url} lost; polling every minute until they are back`);
    tellTabsMode().catch(() => {});
  }
  reconnectLater(entry);
}

function reconnectLater(entry) {
  clearTimeout(entry.timer);
  entry.timer = setTimeout(() => {
    entry.timer = null;
    if (liveSockets.get(entry.url) === entry && !entry.socket) {
      openLive(entry);
    }
  }, entry.retryMs);
  entry.retryMs = Math.min(entry.retryMs * 2, RECONNECT_MAX_MS);
}

function closeLive(entry) {
  liveSockets.delete(entry.url);
  clearTimeout(entry.timer);
  if (entry.socket) {
    entry.socket.close(1000);
  }
}

async function tellTabsMode() {
  // The popup, if open, shows it too (nobody listening is fine).
  browser.runtime.sendMessage({ type: "live-mode" }).catch(() => {});
  const { runs } = await loadState();
  for (const run of Object.values(runs)) {
    if (!run.watch.settled) {
      tellTab(run);
    }
  }
}

// On first install the options open: the BuildAPI login, a custom
// instance and (development build) the local sandbox are set there.
browser.runtime.onInstalled.addListener(({ reason }) => {
  console.info(`mozci: installed (${reason})`);
  if (reason === "install") {
    browser.runtime.openOptionsPage().catch((err) => console.error("mozci: options", err));
  }
});

// After a browser restart or an add-on reload: carry on with stored runs.
browser.runtime.onStartup.addListener(() => {
  ensureAlarm().catch((err) => console.error("mozci: resume failed", err));
});
ensureAlarm()
  .then(syncLive)
  .catch((err) => console.error("mozci: resume failed", err));

// ---- messages ----------------------------------------------------------------

// Where this build's content script runs (the manifest's match patterns,
// "scheme://host/*", any port): messages from other tabs are not ours. The
// release manifest has no loopback pattern, so no loopback page is heard.
const CONTENT_SCRIPT_HOSTS = browser.runtime
  .getManifest()
  .content_scripts.flatMap((script) => script.matches)
  .map((pattern) => new URL(pattern.replace(/\/\*$/, "/")))
  .map((url) => `${url.protocol}//${url.hostname}`);

function fromContentScript(sender) {
  if (!sender.tab || typeof sender.url !== "string") {
    return false;
  }
  const url = new URL(sender.url);
  return CONTENT_SCRIPT_HOSTS.includes(`${url.protocol}//${url.hostname}`);
}

function fromExtensionPage(sender) {
  return typeof sender.url === "string" && sender.url.startsWith(browser.runtime.getURL("extension/"));
}

async function runsList() {
  const { runs } = await loadState();
  return Object.values(runs)
    .sort((a, b) => b.startedAt - a.startedAt)
    .map((run) => withMode(run.watch));
}

// Messages come from a page-adjacent context (the content script) or our own
// pages (popup, options): each type is accepted only from where it belongs,
// and its fields are checked before use.
browser.runtime.onMessage.addListener(timingFirstAnswer((message, sender) => {
  if (!message || typeof message !== "object" || sender.id !== browser.runtime.id) {
    return undefined;
  }
  const content = fromContentScript(sender);
  const page = fromExtensionPage(sender);
  switch (message.type) {
    case "core-info":
      return ready.then(() => ({ version: coreVersion(), variant: buildVariant() }));
    case "plan":
      if ((content || page) && typeof message.pageUrl === "string") {
        return plan({ ...message, preview: page });
      }
      return undefined;
    case "execute":
      if ((content || page) && typeof message.token === "string") {
        const credentials = typeof message.userCredentials === "string" ? message.userCredentials : null;
        return execute(message.token, credentials, content ? sender.tab.id : null);
      }
      return undefined;
    case "job-failures":
      if ((content || page) && typeof message.pageUrl === "string") {
        return core().then((c) => c.jobFailures(message.pageUrl));
      }
      return undefined;
    case "known-pages":
      // The popup plans only for job views of Treeherders the core knows.
      if (page && Array.isArray(message.urls)) {
        return core().then((c) => message.urls.filter((url) => typeof url === "string" && c.knowsPage(url)));
      }
      return undefined;
    case "culprit-test":
      if (page) {
        return culpritTestFor(typeof message.pageUrl === "string" ? message.pageUrl : "").then((test) => ({ test }));
      }
      return undefined;
    case "resume":
      // Only the page holds the Treeherder login: a run waiting for it
      // goes on with this one (kept in memory only), polled right away.
      if (content && typeof message.key === "string" && typeof message.userCredentials === "string") {
        return loadState().then(({ runs }) => {
          if (runs[message.key] && !runs[message.key].watch.settled) {
            userCredentialsByRun.set(message.key, message.userCredentials);
          }
          // A pass already under way started without the login: poll again after it.
          const underway = polling;
          return (underway ? underway.then(pollAll) : pollAll()).then(runsList);
        });
      }
      return undefined;
    case "runs":
      return content || page ? runsList() : undefined;
    case "poll-now":
      return content || page ? pollAll().then(runsList) : undefined;
    case "open-options":
      return content || page ? browser.runtime.openOptionsPage() : undefined;
    case "choices":
      // The popup's and the options page's controls, filled from the core.
      if (page) {
        return settings().then(({ choice }) => ({ offered: offeredChoices(), chosen: choice }));
      }
      return undefined;
    case "save-choice":
      if (page) {
        return settings().then(async ({ choice }) => {
          await browser.storage.local.set({ choice: choiceOver(message, choice) });
          await saveCulpritTest(message.pageUrl, message.test);
        });
      }
      return undefined;
    default:
      return undefined;
  }
}));
