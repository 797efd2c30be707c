//! The JavaScript-facing API of the core, used by the add-on's content script
//! and background page. Values cross as plain JSON-shaped JS objects, turned
//! into Rust values through the browser's `JSON` and serde_json (not
//! serde-wasm-bindgen: a second deserializer for every type would double
//! their code, and the module's compile time with it); every decision stays in Rust
//! (`addon`).

use crate::addon::{self, AddonPlan, AddonSettings, LiveTargets, PlanRequest, Problem, WatchState};
use crate::ci::live_events::{LiveSession, LiveWanted};
use crate::engine::ledger::{Ledger, TriggerJournal, TriggerRecord};
use crate::http::{BrowserClient, HttpClient};
use crate::model::CiSystem;
use crate::plan::choices::{Choice, Choices};
use crate::sources::taskcluster::subscriptions;
use crate::wasm_page::to_js;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Requests time out after this long: a hung service must not hold the
/// background page forever. Firefox unloads an idle event page after 30 s
/// (`extensions.background.idle.timeout`), a pending message answer
/// included: a trigger's answer must be given up on, and recorded as
/// unknown, well before that, or the page dies with only its intent kept.
const HTTP_TIMEOUT_MS: u64 = 20_000;

/// Runs when the module is instantiated: panics reach the console.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// `"development"` or `"release"`: whether this core uses a local
/// mozci-sandbox and loopback endpoints (cargo feature `dev-sandbox`).
#[wasm_bindgen(js_name = buildVariant)]
pub fn build_variant() -> String {
    addon::build_variant().to_string()
}

/// What the popup and the options page offer: `{modes: [[value, label]…],
/// maxTimes, maxDepth, defaultChoice}`.
#[wasm_bindgen(js_name = offeredChoices)]
pub fn offered_choices() -> Result<JsValue, JsError> {
    to_js(&Choices::offered())
}

/// `requested` (a popup's or stored choice, possibly partial or out of
/// bounds) over `fallback` (`null`: the default choice): each valid field
/// of `requested` wins.
#[wasm_bindgen(js_name = choiceOver)]
pub fn choice_over(requested: JsValue, fallback: JsValue) -> Result<JsValue, JsError> {
    let requested: serde_json::Value = from_js_or_default(requested)?;
    let fallback: serde_json::Value = from_js_or_default(fallback)?;
    let fallback = Choice::over(&fallback, Choice::default());
    to_js(&Choice::over(&requested, fallback).to_json())
}

/// Merge `incoming` trigger records into the `stored` ledger (either may be
/// `null`): an outcome replaces its intent, never the other way round, and
/// records of every writer are kept. Records past the ledger's window are
/// dropped. The background's storage queue calls this for every change.
#[wasm_bindgen(js_name = mergeLedgers)]
pub fn merge_ledgers(stored: JsValue, incoming: JsValue) -> Result<JsValue, JsError> {
    let mut ledger: Ledger = from_js_or_default(stored)?;
    let incoming: Ledger = from_js_or_default(incoming)?;
    ledger.merge(&incoming);
    ledger.prune(crate::ci::clock::now_ms());
    to_js(&ledger)
}

/// Why a kept plan (made at `createdAt` ms) must not be carried out now, or
/// `null`: too old, or overlapping one of `runs` (watch states) in flight or
/// one of the plans being sent (`sending`).
#[wasm_bindgen(js_name = planConflict)]
pub fn plan_conflict(
    plan: JsValue,
    created_at: f64,
    runs: JsValue,
    sending: JsValue,
) -> Result<JsValue, JsError> {
    let plan: AddonPlan = from_js(plan)?;
    let runs: Vec<WatchState> = from_js_or_default(runs)?;
    let sending: Vec<AddonPlan> = from_js_or_default(sending)?;
    let conflict = addon::plan_conflict(
        &plan,
        created_at.max(0.0) as u64,
        &runs,
        &sending,
        crate::ci::clock::now_ms(),
    );
    to_js(&conflict)
}

/// The background's journal: a JS function that keeps a trigger record in
/// storage and returns a Promise settled once it is kept. The core awaits it
/// before sending the request the record announces.
struct JsJournal(js_sys::Function);

#[async_trait(?Send)]
impl TriggerJournal for JsJournal {
    async fn write(&self, record: &TriggerRecord) -> crate::Result<()> {
        let failed = |e: JsValue| {
            crate::Error::Ledger(format!(
                "the trigger could not be recorded, so it was not sent: {}",
                e.as_string()
                    .or_else(|| js_sys::JSON::stringify(&e).ok().map(String::from))
                    .unwrap_or_default()
            ))
        };
        let value = to_js(record).map_err(|e| failed(e.into()))?;
        let kept = self.0.call1(&JsValue::NULL, &value).map_err(failed)?;
        JsFuture::from(js_sys::Promise::resolve(&kept))
            .await
            .map_err(failed)?;
        Ok(())
    }
}

/// The background's engine: built from the options' settings; every method
/// answers a Promise of `{ok: true, value}` or `{ok: false, failure: {message, auth}}`.
#[wasm_bindgen]
pub struct Core {
    settings: Rc<AddonSettings>,
    http: Rc<dyn HttpClient>,
}

#[wasm_bindgen]
impl Core {
    /// The core for the add-on's saved `settings` (as the options store
    /// them); an error if they do not read.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<Core, JsError> {
        let settings: AddonSettings = from_js(settings)?;
        Ok(Core {
            settings: Rc::new(settings),
            http: Rc::new(BrowserClient::new(HTTP_TIMEOUT_MS)),
        })
    }

    /// Plan for `request` (`{pageUrl, mode, depth, times, test?}`), any mode
    /// (a backfill, runs on one push, a culprit search), with the ledger
    /// applied: `value` is the plan to show and, once confirmed, to execute.
    pub fn plan(&self, request: JsValue, ledger: JsValue) -> js_sys::Promise {
        let (settings, http) = (self.settings.clone(), self.http.clone());
        future_to_promise(async move {
            let request: PlanRequest = from_js(request)?;
            let ledger: Ledger = from_js_or_default(ledger)?;
            answer(addon::plan(http, &settings, &request, &ledger).await, None)
        })
    }

    /// Carry out a plan. `userCredentials`: the page's
    /// `localStorage.userCredentials` text, used for this call only.
    /// `journal(record)`: keeps a trigger record in storage (a Promise); each
    /// request is sent only once its intent is kept.
    /// `value`: `{executions, ledger, watch}`.
    pub fn execute(
        &self,
        plan: JsValue,
        user_credentials: Option<String>,
        ledger: JsValue,
        journal: js_sys::Function,
    ) -> js_sys::Promise {
        let (settings, http) = (self.settings.clone(), self.http.clone());
        future_to_promise(async move {
            let plan: AddonPlan = from_js(plan)?;
            let mut ledger: Ledger = from_js_or_default(ledger)?;
            let result = addon::execute(
                http,
                &settings,
                &plan,
                user_credentials.as_deref(),
                &mut ledger,
                Rc::new(JsJournal(journal)),
            )
            .await;
            answer(result, Some(plan.job_type.ci))
        })
    }

    /// Whether `pageUrl` is a job view of a Treeherder this add-on knows
    /// (production, staging, the custom instance, an enabled sandbox): the
    /// popup plans for no other tab.
    #[wasm_bindgen(js_name = knowsPage)]
    pub fn knows_page(&self, page_url: String) -> bool {
        addon::knows_page(&self.settings, &page_url)
    }

    /// The tests that failed in the job selected on the page at `pageUrl`.
    /// `value`: `{repo, job_id, logs, failures, unavailable}`.
    #[wasm_bindgen(js_name = jobFailures)]
    pub fn job_failures(&self, page_url: String) -> js_sys::Promise {
        let (settings, http) = (self.settings.clone(), self.http.clone());
        future_to_promise(async move {
            answer(
                addon::selected_job_failures(http, &settings, &page_url).await,
                None,
            )
        })
    }

    /// One monitoring poll of a run (triggers it sends are kept through
    /// `journal` first, as in `execute`). `value`: `{watch, ledger, events}`.
    #[wasm_bindgen(js_name = watchStep)]
    pub fn watch_step(
        &self,
        watch: JsValue,
        user_credentials: Option<String>,
        ledger: JsValue,
        journal: js_sys::Function,
    ) -> js_sys::Promise {
        let (settings, http) = (self.settings.clone(), self.http.clone());
        future_to_promise(async move {
            let watch: WatchState = from_js(watch)?;
            let mut ledger: Ledger = from_js_or_default(ledger)?;
            let result = addon::watch(
                http,
                &settings,
                &watch,
                user_credentials.as_deref(),
                &mut ledger,
                Rc::new(JsJournal(journal)),
            )
            .await;
            answer(result, Some(watch.job_type.ci))
        })
    }
}

/// One subscription socket's state (Taskcluster's GraphQL subscriptions):
/// the background owns the WebSocket and hands every event here; what to
/// send, and whether the screen needs a fresh poll, are decided in Rust
/// (`ci::live_events`).
#[wasm_bindgen]
pub struct LiveEvents {
    session: LiveSession,
}

#[wasm_bindgen]
impl LiveEvents {
    /// A socket's state before it opens.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> LiveEvents {
        LiveEvents {
            session: LiveSession::new(),
        }
    }

    /// The WebSocket sub-protocol to ask for.
    #[wasm_bindgen(getter)]
    pub fn protocol(&self) -> String {
        subscriptions::PROTOCOL.to_string()
    }

    /// The socket opened: the messages to send (connection_init).
    pub fn opened(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.session.opened())
    }

    /// The socket closed or failed.
    pub fn closed(&mut self) {
        self.session.closed();
    }

    /// Whether the server acknowledged the socket.
    #[wasm_bindgen(js_name = isLive)]
    pub fn is_live(&self) -> bool {
        self.session.is_live()
    }

    /// The runs' `watch.live` targets for this socket changed: the
    /// messages to send (start and stop operations).
    pub fn want(&mut self, targets: JsValue) -> Result<JsValue, JsError> {
        let targets: Vec<LiveTargets> = from_js_or_default(targets)?;
        let mut wanted = LiveWanted::default();
        for t in targets {
            wanted.task_groups.extend(t.decision_groups.iter().cloned());
            wanted.task_groups.extend(t.action_groups.iter().cloned());
            wanted.action_groups.extend(t.action_groups);
            wanted.tasks.extend(t.tasks);
            wanted.reaction_tasks.extend(t.reaction_tasks);
        }
        to_js(&self.session.want(wanted))
    }

    /// One text frame from the server: `{kind, send, refresh, note}`.
    pub fn receive(&mut self, text: String) -> Result<JsValue, JsError> {
        to_js(&self.session.receive(&text))
    }
}

/// `{ok: true, value}` or `{ok: false, failure}`: failures are answers the
/// add-on shows, not exceptions.
fn answer<T: Serialize>(
    result: crate::Result<T>,
    ci: Option<CiSystem>,
) -> Result<JsValue, JsValue> {
    match result {
        Ok(value) => to_js(&Answer::Ok { ok: true, value }),
        Err(e) => to_js(&Answer::<T>::Failed {
            ok: false,
            failure: Problem::of(&e, ci),
        }),
    }
    .map_err(JsValue::from)
}

/// The shape of [`answer`]'s object, serialized straight to JSON text (not
/// through a `serde_json::Value`, whose serializer would be a second copy of
/// every answer type's `Serialize` code in the wasm module).
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<T> {
    Ok { ok: bool, value: T },
    Failed { ok: bool, failure: Problem },
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, JsError> {
    let text: String = js_sys::JSON::stringify(&value)
        .map_err(|_| JsError::new("the value cannot be written as JSON"))?
        .into();
    // from_slice, like every other parse in the core: each reader type
    // serde_json is used with adds its own copy of every `Deserialize`.
    serde_json::from_slice(text.as_bytes()).map_err(|e| JsError::new(&e.to_string()))
}

/// `null`/`undefined` mean a fresh ledger (the first run ever).
fn from_js_or_default<T: DeserializeOwned + Default>(value: JsValue) -> Result<T, JsError> {
    if value.is_null() || value.is_undefined() {
        return Ok(T::default());
    }
    from_js(value)
}
