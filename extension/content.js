// Content script: the add-on's presence in Treeherder's page.
//
// It loads the Rust core (WebAssembly) next to the page, finds Treeherder's
// Retrigger button (current React markup and both 2015 markups) and puts a
// Backfill button right after it. Every decision (does backfill apply, what
// the tooltip says) is the core's; this file only touches the DOM. Network
// goes through the background page: MV3 content scripts obey page CORS.
"use strict";

(() => {
  const BUTTON_ID = "mozci-backfill-btn";

  // Where Treeherder's own Retrigger button lives, newest markup first.
  const MARKUPS = [
    {
      era: "current",
      retrigger: "#actionbar ul.actionbar-nav button#retrigger-btn",
      build: buildCurrentButton,
    },
    {
      // Until September 2015: a plain link.
      era: "legacy2015",
      retrigger: '#job-details-actionbar ul.actionbar-nav > li > a[title="Retrigger this job"]',
      build: buildLegacyButton,
    },
    {
      // From September 2015 (treeherder e4a24d4c1): a dropdown titled
      // "Retrigger or backfill this job" (or "Must be logged in…"), whose
      // menu holds Retrigger and Treeherder's own backfill. The button goes
      // after the whole dropdown item, never into its menu.
      era: "legacy2015-09",
      retrigger: "#job-details-actionbar ul.actionbar-nav > li.dropdown > a#retriggerLabel",
      build: buildLegacyButton,
    },
  ];

  let core = null; // the wasm module's exports once loaded
  // The Backfill buttons this script made, held by reference: Shift+B acts
  // only through one of them, never through an element the page made with
  // the same id.
  const ownButtons = new WeakSet();
  let coreInfo = null; // {version} reported by the background's own core

  // When loading the module started, its glue was evaluated and its wasm
  // was instantiated (performance.now()): read by the load benchmark
  // (scripts/bench-addon) through `publishLoadTimings`.
  const loadTimings = { start: performance.now(), glue: null, ready: null, published: false };

  // The page's own small module (page/): the engine stays in the background.
  const coreReady = import(browser.runtime.getURL("pkg-page/mozci_page.js"))
    .then(async (module) => {
      loadTimings.glue = performance.now();
      await module.default({ module_or_path: browser.runtime.getURL("pkg-page/mozci_page_bg.wasm") });
      loadTimings.ready = performance.now();
      core = module;
      refreshAll();
      publishLoadTimings();
    })
    .catch((err) => console.error("mozci: could not load the core", err));

  // A development build only (never the release one, so Treeherder's page
  // never sees these) puts the module's load times into the page's
  // performance timeline, as standard measures a benchmark can read:
  //   mozci:page-glue    import() of pkg-page/mozci_page.js
  //   mozci:page-wasm    fetch + compile + instantiate of the wasm module
  //   mozci:page-module  both
  function publishLoadTimings() {
    if (coreInfo?.variant !== "development" || loadTimings.ready === null || loadTimings.published) {
      return;
    }
    loadTimings.published = true;
    const { start, glue, ready } = loadTimings;
    performance.measure("mozci:page-glue", { start, end: glue });
    performance.measure("mozci:page-wasm", { start: glue, end: ready });
    performance.measure("mozci:page-module", { start, end: ready });
  }

  browser.runtime
    .sendMessage({ type: "core-info" })
    .then((info) => {
      coreInfo = info;
      refreshAll();
      publishLoadTimings();
    })
    .catch((err) => console.error("mozci: background unavailable", err));

  const SVG_NS = "http://www.w3.org/2000/svg";

  // An arrow-down-to-line icon, drawn like FontAwesome's inline SVGs so it
  // sits on the same baseline as its neighbours.
  function backfillIcon(classes) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", classes);
    svg.setAttribute("viewBox", "0 0 384 512");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("data-icon", "mozci-backfill");
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute(
      "d",
      "M32 448h320a32 32 0 0 1 0 64H32a32 32 0 0 1 0-64zM214.6 374.6a32 32 0 0 1-45.3 0l-128-128a32 32 0 0 1 45.3-45.3L160 274.7V32a32 32 0 0 1 64 0v242.7l73.4-73.4a32 32 0 0 1 45.3 45.3l-128 128z",
    );
    svg.appendChild(path);
    return svg;
  }

  function buildCurrentButton(retrigger) {
    const button = document.createElement("button");
    button.type = "button";
    button.id = BUTTON_ID;
    // Same classes as Retrigger so Treeherder's styles apply; icon-cyan is
    // what Treeherder's own 2016 backfill button used.
    button.className = retrigger.className.replace(/\bicon-green\b/, "icon-cyan").replace(/\bmozci-\S+/g, "").trim();
    button.appendChild(backfillIcon("svg-inline--fa fa-mozci-backfill"));
    return button;
  }

  function buildLegacyButton() {
    const link = document.createElement("a");
    link.id = BUTTON_ID;
    link.className = "icon-cyan";
    link.href = "";
    link.setAttribute("role", "button");
    link.appendChild(backfillIcon("fa mozci-legacy-icon"));
    return link;
  }

  function applyState(button) {
    let state = { enabled: false, title: "Backfill (loading the mozci core…)" };
    if (core) {
      state = core.backfillButtonState(window.location.href);
    }
    const title = state.enabled ? `${state.title} (Shift+B)` : state.title;
    button.title = title;
    button.setAttribute("aria-label", title);
    button.setAttribute("aria-disabled", String(!state.enabled));
    button.classList.toggle("mozci-disabled", !state.enabled);
    if (button.tagName === "BUTTON") {
      button.disabled = !state.enabled;
    }
    if (core) {
      button.dataset.mozciCore = core.coreVersion();
    }
    if (coreInfo) {
      button.dataset.mozciBackgroundCore = coreInfo.version;
    }
  }

  // ---- the plan and progress panel --------------------------------------

  const PANEL_ID = "mozci-panel";
  let activeKey = null; // the run this page started or found running
  let progressTimer = null;
  let busy = false; // a plan or an execution is on its way

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function panel() {
    let node = document.getElementById(PANEL_ID);
    if (!node) {
      node = element("section", "mozci-panel");
      node.id = PANEL_ID;
      node.setAttribute("role", "dialog");
      node.setAttribute("aria-label", "mozci backfill");
      document.body.appendChild(node);
    }
    // A fresh panel: nothing of the previous content or state carries over.
    node.replaceChildren();
    delete node.dataset.auth;
    const close = element("button", "mozci-close", "×");
    close.type = "button";
    close.title = "Close (monitoring goes on in the background)";
    close.addEventListener("click", () => node.remove());
    node.appendChild(close);
    return node;
  }

  function showMessage(text, state) {
    const node = panel();
    node.dataset.state = state;
    node.appendChild(element("p", "mozci-message", text));
    return node;
  }

  function showFailure(failure) {
    const node = showMessage(failure.message, "failed");
    node.dataset.auth = failure.auth || "";
    if (failure.auth === "log_in_in_options" || failure.auth === "no_access") {
      const link = element("a", "mozci-options-link", "Open the mozci options");
      link.href = "#";
      link.addEventListener("click", (event) => {
        event.preventDefault();
        if (event.isTrusted) {
          browser.runtime.sendMessage({ type: "open-options" });
        }
      });
      node.appendChild(link);
    }
  }

  function table(headers, rows) {
    const tbl = element("table", "mozci-table");
    const head = element("tr");
    for (const h of headers) {
      head.appendChild(element("th", "", h));
    }
    tbl.appendChild(head);
    for (const row of rows) {
      const tr = element("tr");
      tr.dataset.pushId = String(row.pushId);
      for (const cell of row.cells) {
        tr.appendChild(element("td", "", cell));
      }
      tbl.appendChild(tr);
    }
    return tbl;
  }

  function showPlan(answer) {
    const plan = answer.value;
    const node = panel();
    node.dataset.state = "plan";
    node.appendChild(element("h3", "", `${plan.title || `Backfill ${plan.job_type.name} on ${plan.repo}`} (${plan.job_type.ci})`));
    node.appendChild(element("p", "mozci-summary", plan.summary));
    node.appendChild(
      element("p", "mozci-counts", `${plan.jobs_started_now} job(s) to start on ${plan.rows.length} push(es)`),
    );
    for (const note of plan.notes) {
      node.appendChild(element("p", "mozci-note", note));
    }
    // The selected job's failures, each with its kind and line (texts from the core).
    const failureLines = plan.failure_lines || [];
    if (failureLines.length) {
      const list = element("ul", "mozci-failures");
      for (const row of failureLines) {
        const item = element("li", "mozci-failure", row.text);
        item.dataset.kind = row.kind;
        list.appendChild(item);
      }
      node.appendChild(list);
    }
    node.appendChild(
      table(
        ["push", "to do", "runs now"],
        plan.rows.map((r) => ({ pushId: r.push_id, cells: [r.revision, r.action, r.runs] })),
      ),
    );
    const change = element("a", "mozci-options-link", "Change times, depth or mode");
    change.href = "#";
    change.addEventListener("click", (event) => {
      event.preventDefault();
      if (event.isTrusted) {
        browser.runtime.sendMessage({ type: "open-options" });
      }
    });
    node.appendChild(change);
    if (plan.jobs_started_now === 0) {
      node.appendChild(element("p", "mozci-message", "Nothing to trigger."));
      return;
    }
    // Every plan started from a page waits for this Confirm, whatever its
    // size (docs/threat-model.md): nothing starts on a click or a key alone.
    const confirm = element("button", "btn btn-sm btn-primary mozci-confirm", `Confirm: start ${plan.jobs_started_now} job(s)`);
    confirm.type = "button";
    confirm.addEventListener("click", (event) => {
      if (event.isTrusted && !busy) {
        confirm.disabled = true;
        startRun(answer.token);
      }
    });
    node.appendChild(confirm);
  }

  function showProgress(watch) {
    const node = panel();
    node.dataset.state = watch.settled ? "done" : "running";
    node.dataset.runKey = watch.key;
    node.appendChild(element("h3", "", watch.title || `Backfill ${watch.job_type.name} on ${watch.repo}`));
    if (watch.problem) {
      node.dataset.auth = watch.problem.auth || "";
      if (!watch.settled) {
        node.appendChild(element("p", "mozci-note", watch.problem.message));
      }
      if (!watch.settled && watch.problem.auth === "log_in_to_treeherder") {
        node.appendChild(continueButton(watch));
      }
    }
    if (watch.notice) {
      // Triggers whose answer was lost: counted as asked, never resent.
      node.appendChild(element("p", "mozci-note mozci-unknown", watch.notice));
    }
    node.appendChild(
      element("p", "mozci-verdict", watch.verdict_text || (watch.settled ? "finished" : "triggered: waiting for the runs")),
    );
    if (watch.live_mode) {
      // How the background follows the run: Taskcluster's live events, or
      // its one-minute poll (always the fallback).
      node.appendChild(element("p", `mozci-mode mozci-mode-${watch.live_mode}`, modeText(watch.live_mode)));
    }
    node.appendChild(
      table(
        ["push", "progress"],
        watch.rows.map((r) => ({ pushId: r.push_id, cells: [r.revision, r.text] })),
      ),
    );
    const link = element("a", "mozci-range-link", "See these pushes on Treeherder");
    link.href = watch.range_url;
    node.appendChild(link);
    if (!watch.settled) {
      // The background polls every minute; this asks for a poll right away.
      const check = element("button", "btn btn-sm btn-secondary mozci-check-now", "Check now");
      check.type = "button";
      check.addEventListener("click", async (event) => {
        if (!event.isTrusted) {
          return;
        }
        check.disabled = true;
        const runs = await browser.runtime.sendMessage({ type: "poll-now" });
        const run = runs.find((w) => w.key === watch.key);
        if (run) {
          showProgress(run);
        }
      });
      node.appendChild(check);
    }
  }

  function modeText(mode) {
    return mode === "live"
      ? "live: job changes show as Taskcluster reports them"
      : "polling: checked every minute";
  }

  // A run whose next triggers wait for the Treeherder login (the background
  // lost it: the add-on or the browser restarted) goes on with this page's.
  function continueButton(watch) {
    const button = element("button", "btn btn-sm btn-primary mozci-continue", "Continue with my Treeherder login");
    button.type = "button";
    button.addEventListener("click", async (event) => {
      if (!event.isTrusted) {
        return;
      }
      const userCredentials = window.localStorage.getItem("userCredentials");
      if (!userCredentials) {
        showFailure({ message: "log in to Treeherder first, then continue", auth: "log_in_to_treeherder" });
        return;
      }
      button.disabled = true;
      const runs = await browser.runtime.sendMessage({ type: "resume", key: watch.key, userCredentials });
      const run = Array.isArray(runs) ? runs.find((w) => w.key === watch.key) : null;
      if (run) {
        showProgress(run);
        followProgress(run.key);
      }
    });
    return button;
  }

  function followProgress(key) {
    activeKey = key;
    clearInterval(progressTimer);
    progressTimer = setInterval(async () => {
      const runs = await browser.runtime.sendMessage({ type: "runs" });
      const run = runs.find((w) => w.key === activeKey);
      if (run && document.getElementById(PANEL_ID)?.dataset.runKey === run.key) {
        showProgress(run);
      }
      if (!run || run.settled) {
        clearInterval(progressTimer);
      }
    }, 3000);
  }

  async function startRun(token) {
    busy = true;
    try {
      // The page's Taskcluster login, read only now that something is sent,
      // passed to the background for this run and never stored.
      const userCredentials = window.localStorage.getItem("userCredentials");
      let answer;
      try {
        answer = await browser.runtime.sendMessage({ type: "execute", token, userCredentials });
      } catch (err) {
        answer = { ok: false, failure: { message: `mozci: ${err.message}`, auth: null } };
      }
      if (!answer.ok) {
        showFailure(answer.failure);
        return;
      }
      if (answer.value) {
        showProgress(answer.value);
        followProgress(answer.value.key);
      }
    } finally {
      busy = false;
    }
  }

  async function backfill() {
    if (busy) {
      return;
    }
    // A run of this page already going: show it instead of starting another.
    if (activeKey) {
      const runs = await browser.runtime.sendMessage({ type: "runs" });
      const run = runs.find((w) => w.key === activeKey && !w.settled);
      if (run) {
        showProgress(run);
        return;
      }
    }
    busy = true;
    let answer;
    try {
      showMessage("Working out the plan…", "planning");
      answer = await browser.runtime.sendMessage({ type: "plan", pageUrl: window.location.href });
    } catch (err) {
      answer = { ok: false, failure: { message: `mozci: ${err.message}`, auth: null } };
    }
    busy = false;
    if (!answer.ok) {
      showFailure(answer.failure);
    } else if (answer.running) {
      showProgress(answer.running);
      followProgress(answer.running.key);
    } else {
      showPlan(answer);
    }
  }

  browser.runtime.onMessage.addListener((message) => {
    if (message && message.type === "progress" && message.watch && message.watch.key === activeKey) {
      showProgress(message.watch);
    }
  });

  function onBackfillClick(event) {
    event.preventDefault();
    // Only a real user's click acts: a page script calling element.click()
    // produces an untrusted event and must never trigger CI jobs.
    if (!event.isTrusted || event.currentTarget.getAttribute("aria-disabled") === "true") {
      return;
    }
    backfill();
  }

  // Shift+B: Treeherder's own shortcuts use b (related bug) unshifted and
  // no Shift+letter, so this one is free.
  document.addEventListener("keydown", (event) => {
    if (!event.isTrusted || !event.shiftKey || event.ctrlKey || event.altKey || event.metaKey || event.key !== "B") {
      return;
    }
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    const button = [...document.querySelectorAll(`#${BUTTON_ID}`)].find((b) => ownButtons.has(b) && b.isConnected);
    // Whether Backfill applies is the core's answer, not the button's
    // attributes, which the page can change.
    if (button && core && core.backfillButtonState(window.location.href).enabled) {
      event.preventDefault();
      backfill();
    }
  });

  // Insert the button after Retrigger wherever it is missing. Idempotent:
  // called on every DOM mutation, it never inserts twice.
  function ensureButtons() {
    for (const markup of MARKUPS) {
      for (const retrigger of document.querySelectorAll(markup.retrigger)) {
        const item = retrigger.closest("li");
        if (!item || !item.parentElement) {
          continue;
        }
        const next = item.nextElementSibling;
        if (next && next.querySelector(`#${BUTTON_ID}`)) {
          continue;
        }
        // A stale copy elsewhere (Treeherder re-rendered around it) goes.
        for (const old of item.parentElement.querySelectorAll(`#${BUTTON_ID}`)) {
          old.closest("li")?.remove();
        }
        const li = document.createElement("li");
        li.className = "mozci-backfill-item";
        const button = markup.build(retrigger);
        ownButtons.add(button);
        button.dataset.mozciEra = markup.era;
        button.addEventListener("click", onBackfillClick);
        applyState(button);
        li.appendChild(button);
        item.after(li);
      }
    }
  }

  function refreshAll() {
    for (const button of document.querySelectorAll(`#${BUTTON_ID}`)) {
      applyState(button);
    }
  }

  let lastUrl = window.location.href;
  const observer = new MutationObserver(() => {
    ensureButtons();
    // In-app navigation (pushState) changes the selection without a load.
    if (window.location.href !== lastUrl) {
      lastUrl = window.location.href;
      refreshAll();
    }
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("popstate", refreshAll);
  window.addEventListener("hashchange", refreshAll);
  ensureButtons();
  coreReady.then(ensureButtons);
})();
