//! Unstructured task logs: the line classifier, Treeherder's display form,
//! crash signatures, and the streaming parser fed in arbitrary chunk splits.
//! Properties: chunked == whole; the gzip reader == the plain parser.
#![no_main]

use flate2::{write::GzEncoder, Compression};
use libfuzzer_sys::fuzz_target;
use mozci::sources::test_failures::FailureSource;
use mozci::sources::unstructured_log::{
    crash_signature, failures_from_text_log_errors, parse_failure_line, parse_text_log,
    read_text_log, treeherder_display_line, LineFailure, TextLogParser,
};
use mozci_fuzz::{chunk_plan, feed_in_chunks};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let (sizes, log) = chunk_plan(data);
    for line in String::from_utf8_lossy(log).lines() {
        let shown = treeherder_display_line(line);
        assert!(line.ends_with(shown), "the display form is not a suffix");
        match parse_failure_line(shown) {
            Some(LineFailure::Test(test)) => {
                let _ = test.into_failure(Some(0), FailureSource::TextLog);
            }
            Some(LineFailure::Crash(crash)) => {
                let _ = crash.into_crash(None, FailureSource::TextLog);
            }
            Some(LineFailure::TaskTimeout) | None => {}
        }
        let _ = crash_signature(line);
    }

    let whole = parse_text_log(log);
    let mut parser = TextLogParser::new();
    feed_in_chunks(log, &sizes, |chunk| parser.push(chunk));
    assert_eq!(parser.finish(), whole, "chunked != whole");

    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder
        .write_all(log)
        .expect("writing to a Vec cannot fail");
    let compressed = encoder.finish().expect("writing to a Vec cannot fail");
    let unzipped = read_text_log(compressed.as_slice()).expect("our own gzip stream reads");
    assert_eq!(unzipped, whole, "gzip reader != plain parser");

    let _ = failures_from_text_log_errors(&whole.error_lines);
});
