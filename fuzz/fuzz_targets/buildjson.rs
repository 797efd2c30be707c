//! buildjson dumps: finished builds (plain and gzip, streamed with filters),
//! running and pending. Properties: the gzip path reads what the plain path
//! reads, and a filtered parse keeps a subset of the unfiltered one.
#![no_main]

use flate2::{write::GzEncoder, Compression};
use libfuzzer_sys::fuzz_target;
use mozci::sources::buildjson::{
    parse_builds_pending, parse_builds_running, parse_finished_builds_bytes,
    parse_finished_builds_gz, BuildFilter,
};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let _ = parse_builds_running(data);
    let _ = parse_builds_pending(data);
    // Raw fuzz bytes also reach the gzip decoder directly (truncated or
    // corrupt streams must be errors, not panics).
    let _ = parse_finished_builds_gz(data, &BuildFilter::all());

    let plain = parse_finished_builds_bytes(data, &BuildFilter::all());
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    let compressed = encoder.finish().expect("writing to a Vec cannot fail");
    let unzipped = parse_finished_builds_bytes(&compressed, &BuildFilter::all());
    match (&plain, &unzipped) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "gzip and plain parses differ"),
        // Bytes that happen to start with the gzip magic are read as gzip
        // in the plain call, so only a successful pair is compared.
        _ => assert!(
            data.starts_with(&[0x1f, 0x8b]) || plain.is_err() == unzipped.is_err(),
            "gzip and plain disagree on validity"
        ),
    }
    let Ok(all) = plain else { return };
    let Some(first) = all.first() else { return };
    let filters = [
        BuildFilter::branch(first.branch.clone().unwrap_or_default()),
        BuildFilter::request_ids(first.request_ids.iter().copied()),
        BuildFilter {
            buildername: Some(first.buildername.clone()),
            ..BuildFilter::default()
        },
    ];
    for filter in &filters {
        let kept = parse_finished_builds_bytes(data, filter).expect("parsed unfiltered");
        assert!(
            kept.iter().all(|b| all.contains(b)),
            "a filter added a build"
        );
        for request_id in &first.request_ids {
            let _ = first.served_request(*request_id);
        }
    }
});
