//! Small HTTP helpers shared by the origins: JSON answers with a status,
//! query-string access, and the authenticated-user marker the request log reads.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Put into a response's extensions by handlers that authenticated a caller.
#[derive(Debug, Clone)]
pub struct AuthUser(pub String);

pub type Query = HashMap<String, String>;

pub fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub fn ok(body: Value) -> Response {
    json(StatusCode::OK, body)
}

pub fn not_found(detail: &str) -> Response {
    json(
        StatusCode::NOT_FOUND,
        serde_json::json!({ "detail": detail }),
    )
}

pub fn bad_request(detail: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "detail": detail }),
    )
}

/// Marks a response as produced for an authenticated user.
pub fn with_user(mut response: Response, user: &str) -> Response {
    response.extensions_mut().insert(AuthUser(user.to_string()));
    response
}

pub fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}

/// A numeric query parameter; Err(response) when present but not a number.
pub fn number(query: &Query, key: &str) -> Result<Option<u64>, Response> {
    match query.get(key) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| bad_request(&format!("{key} must be an integer"))),
    }
}

/// A comma-separated list of numbers (`id__in=1,2`).
pub fn number_list(query: &Query, key: &str) -> Result<Option<Vec<u64>>, Response> {
    let Some(v) = query.get(key) else {
        return Ok(None);
    };
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| bad_request(&format!("{key} must list integers")))
        })
        .collect::<Result<Vec<u64>, Response>>()
        .map(Some)
}

/// ISO 8601 without zone, as Treeherder prints `last_modified`.
pub fn iso(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD[THH:MM[:SS[.ffffff]]]` (Treeherder filter values) to unix seconds.
pub fn parse_iso(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00"));
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    let time = time.trim_end_matches('Z');
    let time = time.split('.').next().unwrap_or("");
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let hh = t.next().flatten().unwrap_or(0);
    let mm = t.next().flatten().unwrap_or(0);
    let ss = t.next().flatten().unwrap_or(0);
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Date (y, m, d) from days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 with milliseconds, as Taskcluster prints times.
pub fn rfc3339(ts: i64) -> String {
    let base = iso(ts);
    format!("{}Z", &base[..base.len().saturating_sub(3)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        for ts in [0, 1_443_700_800, 1_590_619_891] {
            assert_eq!(parse_iso(&iso(ts)), Some(ts));
        }
        assert_eq!(iso(1_590_619_891), "2020-05-27T22:51:31.000000");
        assert_eq!(rfc3339(1_590_619_891), "2020-05-27T22:51:31.000Z");
    }

    #[test]
    fn bad_numbers_are_rejected() {
        let mut q = Query::new();
        q.insert("count".into(), "x".into());
        assert!(number(&q, "count").is_err());
        q.insert("id__in".into(), "1,2".into());
        assert_eq!(number_list(&q, "id__in").ok().flatten(), Some(vec![1, 2]));
    }
}
