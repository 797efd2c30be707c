//! Treeherder's `localStorage.userCredentials` JSON, Taskcluster root URLs and
//! ISO 8601 expiry times. Input: `<root URL> NUL <userCredentials JSON>`.
//! Properties: a root URL reparses to itself; credentials found are unexpired
//! and can sign a request (their certificate becomes a Hawk `ext`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::taskcluster::credentials::parse_user_credentials;
use mozci::sources::taskcluster::hawk_auth::hawk_authorization;
use mozci::sources::taskcluster::timestamp::parse_iso8601_ms;
use mozci::sources::taskcluster::RootUrl;
use mozci_fuzz::{fields, text};

/// 2023-11-14T22:13:20Z, the clock the credentials are checked against.
const NOW_MS: i64 = 1_700_000_000_000;

fuzz_target!(|data: &[u8]| {
    let [root, stored] = fields::<2>(data);
    let (root, stored) = (text(root), text(stored));
    let _ = parse_iso8601_ms(&stored);
    let _ = parse_iso8601_ms(&root);
    let Ok(root_url) = RootUrl::parse(&root) else {
        return;
    };
    let reparsed = RootUrl::parse(root_url.as_str()).expect("a normalised root URL parses");
    assert_eq!(
        reparsed, root_url,
        "normalising a root URL twice changed it"
    );
    let _ = parse_user_credentials(None, &root_url, NOW_MS);
    let Ok(login) = parse_user_credentials(Some(&stored), &root_url, NOW_MS) else {
        return;
    };
    assert!(
        login.expires_ms > NOW_MS,
        "expired credentials were accepted"
    );
    let _ = hawk_authorization(
        &login.credentials,
        "POST",
        &format!("{}/api/hooks/v1/hooks/g/h/trigger", root_url.as_str()),
        None,
        (NOW_MS / 1000) as u64,
        "fuzz-nonce",
    );
});
