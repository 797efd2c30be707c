// Content script: the add-on's presence in Treeherder's page.
//
// It loads the Rust core (WebAssembly) next to the page, finds Treeherder's
// Retrigger button (current React markup and the 2015 markup) and puts a
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
      era: "legacy2015",
      retrigger: '#job-details-actionbar ul.actionbar-nav a[title="Retrigger this job"]',
      build: buildLegacyButton,
    },
  ];

  let core = null; // the wasm module's exports once loaded
  let coreInfo = null; // {version} reported by the background's own core

  const coreReady = import(browser.runtime.getURL("pkg/mozci.js"))
    .then(async (module) => {
      await module.default({ module_or_path: browser.runtime.getURL("pkg/mozci_bg.wasm") });
      core = module;
      refreshAll();
    })
    .catch((err) => console.error("mozci: could not load the core", err));

  browser.runtime
    .sendMessage({ type: "core-info" })
    .then((info) => {
      coreInfo = info;
      refreshAll();
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
    button.title = state.title;
    button.setAttribute("aria-label", state.title);
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

  function onBackfillClick(event) {
    event.preventDefault();
    // Only a real user's click acts: a page script calling element.click()
    // produces an untrusted event and must never trigger CI jobs.
    if (!event.isTrusted) {
      return;
    }
  }

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
