//! Hawk `Authorization` headers: verification of arbitrary header strings
//! against arbitrary requests, and sign-then-verify, which must succeed for
//! every request the signer accepts.
//! Input: `<header> NUL <method> NUL <url> NUL <content type> NUL <body>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
use mozci::sources::taskcluster::hawk_auth::{
    certificate_ext, hawk_authorization, hawk_payload_hash, HawkPayload,
};
use mozci_testkit::hawk_verify::{verify_hawk_request, HawkPolicy};
use mozci_fuzz::{fields, text};

const CLIENT_ID: &str = "fuzz-client";
const ACCESS_TOKEN: &str = "fuzz-access-token";
const NOW_SECS: u64 = 1_700_000_000;

fn access_token_of(client_id: &str) -> Option<String> {
    (client_id == CLIENT_ID).then(|| ACCESS_TOKEN.to_string())
}

fuzz_target!(|data: &[u8]| {
    let [header, method, url, content_type, body] = fields::<5>(data);
    let (header, method, url, content_type) =
        (text(header), text(method), text(url), text(content_type));
    let payload = HawkPayload {
        content_type: &content_type,
        body,
    };
    let _ = hawk_payload_hash(payload);
    let _ = certificate_ext(&header);
    for policy in [
        HawkPolicy::default(),
        HawkPolicy {
            max_skew_secs: 0,
            require_payload_hash: true,
        },
    ] {
        let _ = verify_hawk_request(
            &header,
            &method,
            &url,
            payload,
            |_| Some(header.clone()),
            NOW_SECS,
            policy,
        );
        let _ = verify_hawk_request(
            &header,
            &method,
            &url,
            payload,
            access_token_of,
            NOW_SECS,
            policy,
        );
    }

    let credentials = TaskclusterCredentials {
        client_id: CLIENT_ID.into(),
        access_token: ACCESS_TOKEN.into(),
        certificate: None,
    };
    let Ok(signed) = hawk_authorization(
        &credentials,
        &method,
        &url,
        Some(payload),
        NOW_SECS,
        "fuzz-nonce",
    ) else {
        return;
    };
    let verified = verify_hawk_request(
        &signed,
        &method,
        &url,
        payload,
        access_token_of,
        NOW_SECS,
        HawkPolicy {
            max_skew_secs: 0,
            require_payload_hash: true,
        },
    );
    match verified {
        Ok(verified) => assert_eq!(verified.client_id, CLIENT_ID),
        Err(e) => panic!("our own header for {method:?} {url:?} was refused: {e}"),
    }
});
