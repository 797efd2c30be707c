//! Server-side Hawk verification, as Taskcluster's auth service does it, for
//! tests and fuzzing only: the product signs requests
//! (`mozci::sources::taskcluster::hawk_auth`) and never verifies one.
//!
//! Written independently of the core's signer (RustCrypto's `hmac`/`sha2`
//! over Hawk's normalised string), so that a round trip checks the signer
//! against a second reading of the specification, not against itself. Its
//! header parser is its own because the `hawk` crate's panics on an
//! out-of-range `ts`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use mozci::sources::taskcluster::hawk_auth::HawkPayload;
use mozci::url_text::parse_url;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Timestamps past this (year 5138) are refused as implausible.
const MAX_TS_SECS: u64 = 100_000_000_000;

/// Hawk's payload hash (hawk lib/crypto.js `calculatePayloadHash`): SHA-256
/// over `hawk.1.payload\n<content type>\n<body>\n`, the content type
/// lower-cased and without parameters.
fn payload_hash(payload: HawkPayload<'_>) -> Vec<u8> {
    let content_type = payload
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Sha256::new()
        .chain_update(b"hawk.1.payload\n")
        .chain_update(content_type.as_bytes())
        .chain_update(b"\n")
        .chain_update(payload.body)
        .chain_update(b"\n")
        .finalize()
        .to_vec()
}

/// How strict [`verify_hawk_request`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HawkPolicy {
    /// Largest accepted distance between the header's `ts` and the server's clock.
    pub max_skew_secs: u64,
    /// Refuse requests with a body whose header carries no payload hash.
    pub require_payload_hash: bool,
}

impl Default for HawkPolicy {
    /// Hawk's own default skew (60 s); payload hashes checked when present.
    fn default() -> Self {
        HawkPolicy {
            max_skew_secs: 60,
            require_payload_hash: false,
        }
    }
}

/// Why a server refuses a Hawk request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HawkRejection {
    #[error("the Authorization header is not a Hawk header: {0}")]
    Malformed(String),
    #[error("unknown client id {0:?}")]
    UnknownClient(String),
    #[error("the Hawk MAC does not match the request")]
    BadMac,
    #[error("the request body does not match the Hawk payload hash")]
    PayloadHashMismatch,
    #[error("the request has a body but its Hawk header has no payload hash")]
    MissingPayloadHash,
    #[error("the Hawk timestamp is {skew_secs} s away from the server's clock")]
    StaleTimestamp { skew_secs: u64 },
}

/// What a verified header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHawk {
    pub client_id: String,
    pub ts_secs: u64,
    pub nonce: String,
    /// Raw `ext` (base64 JSON for Taskcluster clients with a certificate).
    pub ext: Option<String>,
}

/// Check a Hawk `Authorization` header against the request a server received:
/// the MAC with the access token `access_token_of(client_id)` returns, the
/// payload hash against `payload` (pass the body as received), and the
/// timestamp against `now_secs`. Nonce replay tracking is left to the caller.
pub fn verify_hawk_request(
    authorization: &str,
    method: &str,
    url: &str,
    payload: HawkPayload<'_>,
    access_token_of: impl Fn(&str) -> Option<String>,
    now_secs: u64,
    policy: HawkPolicy,
) -> Result<VerifiedHawk, HawkRejection> {
    let header = ParsedHeader::parse(authorization)?;
    let access_token = access_token_of(&header.id)
        .ok_or_else(|| HawkRejection::UnknownClient(header.id.clone()))?;
    let parsed_url =
        parse_url(url).map_err(|e| HawkRejection::Malformed(format!("request URL: {e}")))?;
    let (host, port) = match (parsed_url.host_str(), parsed_url.port_or_known_default()) {
        (Some(host), Some(port)) => (host, port),
        _ => {
            return Err(HawkRejection::Malformed(
                "request URL has no host or port".into(),
            ))
        }
    };
    if header.ts_secs > MAX_TS_SECS {
        return Err(HawkRejection::Malformed("implausible `ts`".into()));
    }
    // Hawk's normalised request string (hawk lib/crypto.js
    // `generateNormalizedString`): one field per line, then HMAC-SHA-256
    // under the client's access token.
    let normalized = format!(
        "hawk.1.header\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        header.ts_secs,
        header.nonce,
        method,
        &parsed_url[url::Position::BeforePath..],
        host,
        port,
        header
            .hash
            .as_deref()
            .map(|h| BASE64.encode(h))
            .unwrap_or_default(),
        header.ext.as_deref().unwrap_or(""),
    );
    let mut mac = HmacSha256::new_from_slice(access_token.as_bytes())
        .map_err(|e| HawkRejection::Malformed(e.to_string()))?;
    mac.update(normalized.as_bytes());
    // `verify_slice` compares in constant time.
    if mac.verify_slice(&header.mac).is_err() {
        return Err(HawkRejection::BadMac);
    }
    match &header.hash {
        Some(claimed) if payload_hash(payload).as_slice() != claimed.as_slice() => {
            return Err(HawkRejection::PayloadHashMismatch)
        }
        Some(_) => {}
        None if policy.require_payload_hash && !payload.body.is_empty() => {
            return Err(HawkRejection::MissingPayloadHash)
        }
        None => {}
    }
    let skew_secs = now_secs.abs_diff(header.ts_secs);
    if skew_secs > policy.max_skew_secs {
        return Err(HawkRejection::StaleTimestamp { skew_secs });
    }
    Ok(VerifiedHawk {
        client_id: header.id,
        ts_secs: header.ts_secs,
        nonce: header.nonce,
        ext: header.ext,
    })
}

/// The attributes of a `Hawk k="v", …` header. Parsed here rather than with
/// the `hawk` crate's parser, which panics on an out-of-range `ts`.
struct ParsedHeader {
    id: String,
    ts_secs: u64,
    nonce: String,
    mac: Vec<u8>,
    hash: Option<Vec<u8>>,
    ext: Option<String>,
}

impl ParsedHeader {
    fn parse(authorization: &str) -> Result<ParsedHeader, HawkRejection> {
        let malformed = |msg: &str| HawkRejection::Malformed(msg.to_string());
        let attributes = authorization
            .trim()
            .strip_prefix("Hawk ")
            .ok_or_else(|| malformed("it does not start with `Hawk `"))?;
        let (mut id, mut ts, mut nonce, mut mac, mut hash, mut ext) =
            (None, None, None, None, None, None);
        let mut rest = attributes.trim();
        while !rest.is_empty() {
            let (name, after_name) = rest
                .split_once('=')
                .ok_or_else(|| malformed("expected `name=\"value\"`"))?;
            let quoted = after_name
                .trim_start()
                .strip_prefix('"')
                .ok_or_else(|| malformed("expected an opening quote"))?;
            let (value, after_value) = quoted
                .split_once('"')
                .ok_or_else(|| malformed("expected a closing quote"))?;
            let slot = match name.trim() {
                "id" => &mut id,
                "ts" => &mut ts,
                "nonce" => &mut nonce,
                "mac" => &mut mac,
                "hash" => &mut hash,
                "ext" => &mut ext,
                // `app` and `dlg` (Oz) are not used by Taskcluster.
                other => {
                    return Err(HawkRejection::Malformed(format!(
                        "unknown attribute `{other}`"
                    )))
                }
            };
            if slot.replace(value).is_some() {
                return Err(malformed("an attribute appears twice"));
            }
            rest = after_value.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        }
        let decode = |value: &str, what: &str| {
            BASE64
                .decode(value)
                .map_err(|_| HawkRejection::Malformed(format!("`{what}` is not base64")))
        };
        let ts_text = ts.ok_or_else(|| malformed("missing `ts`"))?;
        Ok(ParsedHeader {
            id: id.ok_or_else(|| malformed("missing `id`"))?.to_string(),
            ts_secs: ts_text
                .parse()
                .map_err(|_| malformed("`ts` is not a number"))?,
            nonce: nonce
                .ok_or_else(|| malformed("missing `nonce`"))?
                .to_string(),
            mac: decode(mac.ok_or_else(|| malformed("missing `mac`"))?, "mac")?,
            hash: hash.map(|h| decode(h, "hash")).transpose()?,
            ext: ext.map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mozci::http::HttpRequest;
    use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
    use mozci::sources::taskcluster::hawk_auth::{
        hawk_authorization, hawk_payload_hash, sign_request,
    };

    const URL: &str = "https://tc.example/api/hooks/v1/hooks/project-gecko/in-tree%2Fabc/trigger";
    const BODY: &[u8] = br#"{"a":1}"#;
    const NOW: u64 = 1_700_000_000;

    /// The credentials of the Hawk specification's README examples.
    fn spec_credentials() -> TaskclusterCredentials {
        TaskclusterCredentials {
            client_id: "dh37fgj492je".into(),
            access_token: "werxhqb98rpaxn39848xrunpaoq5x5".into(),
            certificate: None,
        }
    }

    fn attribute<'h>(header: &'h str, name: &str) -> Option<&'h str> {
        let start = header.find(&format!("{name}=\""))? + name.len() + 2;
        let len = header.get(start..)?.find('"')?;
        header.get(start..start + len)
    }

    fn json_payload(body: &[u8]) -> HawkPayload<'_> {
        HawkPayload {
            content_type: "application/json",
            body,
        }
    }

    fn token_of(id: &str) -> Option<String> {
        (id == "dh37fgj492je").then(|| "werxhqb98rpaxn39848xrunpaoq5x5".to_string())
    }

    fn signed_post() -> String {
        hawk_authorization(
            &spec_credentials(),
            "POST",
            URL,
            Some(json_payload(BODY)),
            NOW,
            "n0nce",
        )
        .unwrap()
    }

    #[test]
    fn both_readings_of_the_payload_hash_agree() {
        for (content_type, body) in [
            ("application/json", BODY),
            ("Application/JSON; charset=utf-8", BODY),
            ("text/plain", &b"Thank you for flying Hawk"[..]),
            ("", &b""[..]),
        ] {
            let payload = HawkPayload { content_type, body };
            assert_eq!(
                payload_hash(payload),
                hawk_payload_hash(payload).unwrap(),
                "{content_type}"
            );
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let header = signed_post();
        assert!(header.starts_with("Hawk id=\"dh37fgj492je\", ts=\"1700000000\", nonce=\"n0nce\""));
        assert!(attribute(&header, "hash").is_some(), "{header}");
        let verified = verify_hawk_request(
            &header,
            "POST",
            URL,
            json_payload(BODY),
            token_of,
            NOW + 30,
            HawkPolicy {
                require_payload_hash: true,
                ..HawkPolicy::default()
            },
        )
        .unwrap();
        assert_eq!(verified.client_id, "dh37fgj492je");
        assert_eq!(verified.ts_secs, NOW);
        assert_eq!(verified.nonce, "n0nce");
        assert_eq!(verified.ext, None);
    }

    #[test]
    fn tampering_is_rejected() {
        let header = signed_post();
        let verify = |header: &str, method: &str, url: &str, body: &[u8], now: u64| {
            verify_hawk_request(
                header,
                method,
                url,
                json_payload(body),
                token_of,
                now,
                HawkPolicy::default(),
            )
        };
        assert_eq!(
            verify(&header, "POST", URL, br#"{"a":2}"#, NOW),
            Err(HawkRejection::PayloadHashMismatch)
        );
        assert_eq!(
            verify(&header, "PUT", URL, BODY, NOW),
            Err(HawkRejection::BadMac)
        );
        assert_eq!(
            verify(&header, "POST", &URL.replace("abc", "abd"), BODY, NOW),
            Err(HawkRejection::BadMac)
        );
        assert_eq!(
            verify(&header, "POST", URL, BODY, NOW + 61),
            Err(HawkRejection::StaleTimestamp { skew_secs: 61 })
        );
        assert_eq!(
            verify(&header, "POST", URL, BODY, NOW - 120),
            Err(HawkRejection::StaleTimestamp { skew_secs: 120 })
        );
        let moved_ts = header.replace("ts=\"1700000000\"", "ts=\"1700000001\"");
        assert_eq!(
            verify(&moved_ts, "POST", URL, BODY, NOW),
            Err(HawkRejection::BadMac)
        );
    }

    #[test]
    fn wrong_key_and_unknown_client_are_rejected() {
        let wrong_key = TaskclusterCredentials {
            access_token: "not-the-key".into(),
            ..spec_credentials()
        };
        let header = hawk_authorization(&wrong_key, "GET", URL, None, NOW, "n").unwrap();
        let empty = json_payload(b"");
        assert_eq!(
            verify_hawk_request(
                &header,
                "GET",
                URL,
                empty,
                token_of,
                NOW,
                HawkPolicy::default()
            ),
            Err(HawkRejection::BadMac)
        );
        assert_eq!(
            verify_hawk_request(
                &header,
                "GET",
                URL,
                empty,
                |_| None,
                NOW,
                HawkPolicy::default()
            ),
            Err(HawkRejection::UnknownClient("dh37fgj492je".into()))
        );
    }

    #[test]
    fn unhashed_bodies_are_refused_only_when_required() {
        let header = hawk_authorization(&spec_credentials(), "POST", URL, None, NOW, "n").unwrap();
        let verify = |require_payload_hash| {
            verify_hawk_request(
                &header,
                "POST",
                URL,
                json_payload(BODY),
                token_of,
                NOW,
                HawkPolicy {
                    max_skew_secs: 60,
                    require_payload_hash,
                },
            )
        };
        assert!(verify(false).is_ok());
        assert_eq!(verify(true), Err(HawkRejection::MissingPayloadHash));
    }

    #[test]
    fn a_certificate_in_ext_is_covered_by_the_mac() {
        let credentials = TaskclusterCredentials {
            certificate: Some(r#"{"version":1,"seed":"s","start":1,"expiry":2}"#.into()),
            ..spec_credentials()
        };
        let header = hawk_authorization(&credentials, "GET", URL, None, NOW, "n").unwrap();
        let ext = attribute(&header, "ext").unwrap();
        let verified = verify_hawk_request(
            &header,
            "GET",
            URL,
            json_payload(b""),
            token_of,
            NOW,
            HawkPolicy::default(),
        )
        .unwrap();
        assert_eq!(verified.ext.as_deref(), Some(ext));
    }

    #[test]
    fn sign_request_covers_the_request_as_built() {
        let request = HttpRequest::post_json(URL, &serde_json::json!({"a": 1}));
        let signed = sign_request(request, &spec_credentials(), NOW, "abc").unwrap();
        let authorization = signed.header_value("authorization").unwrap();
        let body = signed.body.as_deref().unwrap();
        assert!(verify_hawk_request(
            authorization,
            "POST",
            URL,
            json_payload(body),
            token_of,
            NOW,
            HawkPolicy {
                require_payload_hash: true,
                ..HawkPolicy::default()
            },
        )
        .is_ok());
    }

    #[test]
    fn malformed_headers_are_rejected_without_panicking() {
        for header in [
            "",
            "Basic abc",
            "Hawk ",
            "Hawk id=\"a\"",
            "Hawk id=\"a\", ts=\"99999999999999999999999\", nonce=\"n\", mac=\"AA==\"",
            "Hawk id=\"a\", ts=\"18446744073709551615\", nonce=\"n\", mac=\"AA==\"",
            "Hawk id=\"a\", ts=\"1\", nonce=\"n\", mac=\"***\"",
            "Hawk id=\"a\", id=\"b\", ts=\"1\", nonce=\"n\", mac=\"AA==\"",
            "Hawk id=\"a\", ts=\"1\", nonce=\"n\", mac=\"AA==\", dlg=\"x\"",
            "Hawk id=a",
            "Hawk id=\"unterminated",
        ] {
            let result = verify_hawk_request(
                header,
                "GET",
                URL,
                json_payload(b""),
                |_| Some("k".into()),
                NOW,
                HawkPolicy::default(),
            );
            assert!(
                matches!(result, Err(HawkRejection::Malformed(_))),
                "{header:?} gave {result:?}"
            );
        }
    }
}
