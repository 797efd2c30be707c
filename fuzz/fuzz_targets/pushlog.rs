//! hg pushlog `json-pushes` (v1/v2, with and without `full`) and the
//! `changeset=` lookup built on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::model::Revision;
use mozci::sources::pushlog::{parse_changeset_lookup, parse_json_pushes, push_contains};

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = parse_json_pushes(data, "try") else {
        return;
    };
    // The parser promises numeric order, oldest first.
    assert!(parsed.pushes.windows(2).all(|w| w[0].id <= w[1].id));
    assert!(parsed.empty_push_ids.windows(2).all(|w| w[0] <= w[1]));
    // Looking up a changeset the body lists finds a push that contains it
    // (lookups compare at least 12 digits, so shorter nodes never match).
    let listed = parsed
        .pushes
        .iter()
        .flat_map(|p| p.changesets.iter())
        .map(|c| c.node.clone())
        .find(|node| node.0.len() >= 12);
    if let Some(node) = listed {
        let found = parse_changeset_lookup(data, "try", &node)
            .expect("a body that parsed once parses again");
        let push = found.expect("a listed changeset is found");
        assert!(push_contains(&push, &node));
    }
    let _ = parse_changeset_lookup(data, "try", &Revision("0".repeat(12)));
});
