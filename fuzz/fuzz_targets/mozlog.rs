//! mozlog raw structured logs and error summaries, fed in arbitrary chunk
//! splits (lines and UTF-8 characters straddling chunks). Property: any
//! split gives what one whole push gives. Input: see `mozci_fuzz::chunk_plan`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::mozlog::{parse_errorsummary_log, parse_raw_structured_log, MozlogParser};
use mozci_fuzz::{chunk_plan, feed_in_chunks};

fuzz_target!(|data: &[u8]| {
    let (sizes, log) = chunk_plan(data);

    let mut raw = MozlogParser::raw_structured();
    feed_in_chunks(log, &sizes, |chunk| raw.push(chunk));
    assert_eq!(
        raw.finish(),
        parse_raw_structured_log(log),
        "raw log: chunked != whole"
    );

    let mut summary = MozlogParser::errorsummary();
    feed_in_chunks(log, &sizes, |chunk| summary.push(chunk));
    let valid_lines = summary.valid_lines();
    let chunked = summary.finish();
    assert_eq!(
        chunked,
        parse_errorsummary_log(log),
        "errorsummary: chunked != whole"
    );
    assert!(
        valid_lines <= chunked.lines_read,
        "more valid lines than lines"
    );
});
