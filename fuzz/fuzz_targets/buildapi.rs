//! Self-Serve BuildAPI answers (mutating-call responses, `/rev/`, `/jobs/`,
//! `/branches`, `/pending`) and the Buildbot job state the `ci` layer derives
//! from a `/rev/` item and the buildjson dumps.
//!
//! Input: `<status byte><body> NUL <finished dump> NUL <running> NUL <pending>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::ci::buildbot::state::{dump_to_consult, job_state, BuildjsonView};
use mozci::http::HttpResponse;
use mozci::sources::buildapi::{
    parse_buildapi_pending, parse_self_serve_branches, parse_self_serve_job,
    parse_self_serve_response, parse_self_serve_rev,
};
use mozci::sources::buildjson::{
    parse_builds_pending, parse_builds_running, parse_finished_builds_bytes, BuildFilter,
};
use mozci_fuzz::fields;

/// Statuses BuildAPI answers with, picked by the first input byte.
const STATUSES: [u16; 8] = [200, 202, 400, 401, 403, 404, 500, 503];

fuzz_target!(|data: &[u8]| {
    let [rev_body, finished, running, pending] = fields::<4>(data);
    let (status, body) = match rev_body.split_first() {
        Some((first, rest)) => (STATUSES[usize::from(*first) % STATUSES.len()], rest),
        None => (200, rev_body),
    };
    let response = HttpResponse {
        status,
        url: "https://secure.pub.build.mozilla.org/buildapi/self-serve/try/builders/x/abc".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
    };
    let _ = parse_self_serve_response(&response);
    let _ = parse_self_serve_job(body);
    let _ = parse_self_serve_branches(body);
    let _ = parse_buildapi_pending(body);
    let _ = parse_buildapi_pending(pending);

    let Ok(items) = parse_self_serve_rev(body) else {
        return;
    };
    let finished = parse_finished_builds_bytes(finished, &BuildFilter::all()).unwrap_or_default();
    let running = parse_builds_running(running).unwrap_or_default();
    let pending = parse_builds_pending(pending).unwrap_or_default();
    let view = BuildjsonView::new(&finished, &running, &pending);
    for item in &items {
        let _ = (item.buildername(), item.revision(), item.request_ids());
        let _ = job_state(item, &view);
        let _ = dump_to_consult(item, 1_400_000_000);
        let _ = dump_to_consult(item, i64::MAX);
        let _ = dump_to_consult(item, i64::MIN);
    }
});
