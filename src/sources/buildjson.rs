//! buildjson dumps (Buildbot era): where the finished, running and pending
//! builds are published, which file holds a given request, and streaming
//! parsers that keep only the compact fields we need from very large day files.
//!
//! Day files reach hundreds of megabytes once decompressed, so finished
//! builds are read one at a time from any [`Read`] (gzip or plain JSON) and
//! filtered as they stream by; the document is never held as a whole.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use crate::http::gzip::{GzipReader, OutputLimitExceeded, GZIP_MAGIC};
use crate::http::{BodyKind, HttpRequest, HttpResponse};
use crate::sources::buildapi::{parse_buildapi_pending, QueuedRequest};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufReader, Read};

/// Production buildjson directory.
pub(crate) const DEFAULT_BUILDJSON_BASE: &str =
    "https://secure.pub.build.mozilla.org/builddata/buildjson/";

/// How long `builds-4hr.js.gz` covers: a request completed more recently than
/// this is looked up there, older ones in the day file.
pub(crate) const FOUR_HOURS_SECS: i64 = 4 * 3600;

const SECS_PER_DAY: i64 = 86_400;
const READ_BUFFER: usize = 64 * 1024;

/// A calendar date in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UtcDate {
    /// The year (proleptic Gregorian).
    pub year: i64,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
}

impl UtcDate {
    /// The UTC date of a Unix timestamp (seconds; negative ones are before 1970).
    pub fn from_unix(timestamp: i64) -> UtcDate {
        civil_from_days(timestamp.div_euclid(SECS_PER_DAY))
    }
}

impl fmt::Display for UtcDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Proleptic Gregorian date of a day count since 1970-01-01, using the
/// 400-year era decomposition (every era has exactly 146,097 days).
fn civil_from_days(days_since_epoch: i64) -> UtcDate {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days_since_epoch + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    UtcDate { year, month, day }
}

/// One of the files in the buildjson directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "file", content = "date", rename_all = "snake_case")]
pub enum BuildjsonDump {
    /// `builds-4hr.js.gz`: builds finished in the last four hours (rewritten every minute).
    FourHours,
    /// `builds-YYYY-MM-DD.js.gz`: builds finished that UTC day (rewritten every 15 minutes).
    Day(UtcDate),
    /// `builds-running.js`.
    Running,
    /// `builds-pending.js`.
    Pending,
}

impl BuildjsonDump {
    /// The file's name in the buildjson directory.
    pub fn file_name(&self) -> String {
        match self {
            BuildjsonDump::FourHours => "builds-4hr.js.gz".to_string(),
            BuildjsonDump::Day(date) => format!("builds-{date}.js.gz"),
            BuildjsonDump::Running => "builds-running.js".to_string(),
            BuildjsonDump::Pending => "builds-pending.js".to_string(),
        }
    }

    /// `base` is the buildjson directory URL (with or without a trailing slash).
    pub fn url(&self, base: &str) -> String {
        format!("{}/{}", base.trim_end_matches('/'), self.file_name())
    }
}

/// `builds-4hr.js.gz` under `base`.
pub(crate) fn builds_4hr_url(base: &str) -> String {
    BuildjsonDump::FourHours.url(base)
}

/// The day file holding builds finished on the UTC day of `timestamp`.
pub fn builds_day_url(base: &str, timestamp: i64) -> String {
    BuildjsonDump::Day(UtcDate::from_unix(timestamp)).url(base)
}

/// `builds-running.js` under `base`.
pub(crate) fn builds_running_url(base: &str) -> String {
    BuildjsonDump::Running.url(base)
}

/// `builds-pending.js` under `base`.
pub(crate) fn builds_pending_url(base: &str) -> String {
    BuildjsonDump::Pending.url(base)
}

/// Which finished-builds file to read for a request completed at
/// `complete_at`, seen at `now` (both Unix seconds; time is passed in).
pub(crate) fn dump_for_completed_request(complete_at: i64, now: i64) -> BuildjsonDump {
    if now.saturating_sub(complete_at) < FOUR_HOURS_SECS {
        BuildjsonDump::FourHours
    } else {
        BuildjsonDump::Day(UtcDate::from_unix(complete_at))
    }
}

/// The fields of one finished build that decisions use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FinishedBuild {
    /// Buildbot's build id (the build's `id`; BuildAPI's `build_id`).
    pub id: u64,
    /// The id of its builder in the scheduling database.
    pub builder_id: Option<u64>,
    /// Buildbot's per-builder build number.
    pub buildnumber: Option<u64>,
    /// `properties.buildername`; empty when absent.
    pub buildername: String,
    /// `properties.branch`: the BuildAPI branch (`mozilla-inbound`, `try`, …).
    pub branch: Option<String>,
    /// The revision the build ran (often a 12-character prefix).
    pub revision: Option<String>,
    /// Buildbot result code (0 success … 6 cancelled).
    pub result: Option<i64>,
    /// When its request was submitted, Unix seconds.
    pub requesttime: Option<i64>,
    /// When the build started, Unix seconds.
    pub starttime: Option<i64>,
    /// When it finished, Unix seconds.
    pub endtime: Option<i64>,
    /// `properties.request_ids` ∪ `request_ids`, sorted: every request this build served.
    pub request_ids: Vec<u64>,
    /// Why it was scheduled (`scheduler`, `Self-serve: …`).
    pub reason: Option<String>,
    /// `properties.packageUrl`: the build a test job installs (first of a trigger's `files`).
    pub package_url: Option<String>,
    /// `testsUrl`, or `testPackagesUrl` where the build gave that instead.
    pub tests_url: Option<String>,
    /// `properties.testPackagesUrl`, as given.
    pub test_packages_url: Option<String>,
}

impl FinishedBuild {
    /// Whether this build served build request `request_id`.
    pub fn served_request(&self, request_id: u64) -> bool {
        self.request_ids.binary_search(&request_id).is_ok()
    }
}

/// Which finished builds to keep while streaming; the rest are dropped as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildFilter {
    /// Keep builds whose `properties.branch` is this.
    pub branch: Option<String>,
    /// Keep builds that served at least one of these requests.
    pub request_ids: Option<BTreeSet<u64>>,
    /// Keep builds of this builder.
    pub buildername: Option<String>,
}

impl BuildFilter {
    /// Keep every build.
    pub fn all() -> Self {
        BuildFilter::default()
    }

    /// Keep the builds of one branch.
    pub fn branch(branch: impl Into<String>) -> Self {
        BuildFilter {
            branch: Some(branch.into()),
            ..Default::default()
        }
    }

    /// Keep the builds that served any of `ids`.
    pub fn request_ids(ids: impl IntoIterator<Item = u64>) -> Self {
        BuildFilter {
            request_ids: Some(ids.into_iter().collect()),
            ..Default::default()
        }
    }

    fn accepts(&self, build: &FinishedBuild) -> bool {
        let branch_ok = match &self.branch {
            Some(b) => build.branch.as_deref() == Some(b.as_str()),
            None => true,
        };
        let requests_ok = match &self.request_ids {
            Some(ids) => build.request_ids.iter().any(|id| ids.contains(id)),
            None => true,
        };
        let builder_ok = match &self.buildername {
            Some(name) => &build.buildername == name,
            None => true,
        };
        branch_ok && requests_ok && builder_ok
    }
}

/// The build as it appears in the file; unknown fields are skipped unread.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawBuild {
    id: u64,
    builder_id: Option<u64>,
    buildnumber: Option<u64>,
    result: Option<i64>,
    requesttime: Option<i64>,
    starttime: Option<i64>,
    endtime: Option<i64>,
    reason: Option<String>,
    request_ids: Option<Vec<u64>>,
    properties: RawProperties,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawProperties {
    buildername: Option<String>,
    branch: Option<String>,
    revision: Option<String>,
    request_ids: Option<Vec<u64>>,
    #[serde(rename = "packageUrl")]
    package_url: Option<String>,
    #[serde(rename = "testsUrl")]
    tests_url: Option<String>,
    #[serde(rename = "testPackagesUrl")]
    test_packages_url: Option<String>,
}

impl From<RawBuild> for FinishedBuild {
    fn from(raw: RawBuild) -> Self {
        let props = raw.properties;
        let mut request_ids: Vec<u64> = props
            .request_ids
            .into_iter()
            .flatten()
            .chain(raw.request_ids.into_iter().flatten())
            .collect();
        request_ids.sort();
        request_ids.dedup();
        FinishedBuild {
            id: raw.id,
            builder_id: raw.builder_id,
            buildnumber: raw.buildnumber,
            buildername: props.buildername.unwrap_or_default(),
            branch: props.branch,
            revision: props.revision,
            result: raw.result,
            requesttime: raw.requesttime,
            starttime: raw.starttime,
            endtime: raw.endtime,
            request_ids,
            reason: raw.reason,
            package_url: props.package_url,
            tests_url: props.tests_url.clone().or(props.test_packages_url.clone()),
            test_packages_url: props.test_packages_url,
        }
    }
}

/// Visits the top-level object, descending only into `builds`.
struct FinishedFile<'a> {
    filter: &'a BuildFilter,
    out: &'a mut Vec<FinishedBuild>,
}

impl<'de> DeserializeSeed<'de> for FinishedFile<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FinishedFile<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a buildjson object with a `builds` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut saw_builds = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "builds" && !saw_builds {
                saw_builds = true;
                map.next_value_seed(BuildsArray {
                    filter: self.filter,
                    out: &mut *self.out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if saw_builds {
            Ok(())
        } else {
            Err(serde::de::Error::missing_field("builds"))
        }
    }
}

/// Reads builds one at a time, keeping those the filter accepts.
struct BuildsArray<'a> {
    filter: &'a BuildFilter,
    out: &'a mut Vec<FinishedBuild>,
}

impl<'de> DeserializeSeed<'de> for BuildsArray<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for BuildsArray<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of builds")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawBuild>()? {
            let build = FinishedBuild::from(raw);
            if self.filter.accepts(&build) {
                self.out.push(build);
            }
        }
        Ok(())
    }
}

/// Stream the finished builds of a plain-JSON `builds-4hr`/day document.
pub fn parse_finished_builds<R: Read>(
    mut reader: R,
    filter: &BuildFilter,
) -> Result<Vec<FinishedBuild>> {
    parse_finished_from(&mut reader, filter)
}

/// The one parse of finished builds: through `dyn Read`, so that the
/// serde_json reader and the build visitors exist once in the wasm module,
/// whatever the source (plain or gzip). `BufReader` keeps the virtual calls
/// to one per 64 KB.
fn parse_finished_from(reader: &mut dyn Read, filter: &BuildFilter) -> Result<Vec<FinishedBuild>> {
    let mut out = Vec::new();
    let mut de =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BUFFER, reader));
    FinishedFile {
        filter,
        out: &mut out,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| {
        if e.is_io() {
            // A gzip bomb (or a day file past its cap) stops the reader.
            let io = std::io::Error::from(e);
            OutputLimitExceeded::as_body_error("buildjson finished builds", &io)
                .unwrap_or_else(|| Error::parse("buildjson finished builds", io))
        } else {
            Error::json("buildjson finished builds", &e)
        }
    })?;
    Ok(out)
}

/// Stream the finished builds of a gzip-compressed `builds-*.js.gz` file.
pub fn parse_finished_builds_gz<R: Read>(
    reader: R,
    filter: &BuildFilter,
) -> Result<Vec<FinishedBuild>> {
    parse_finished_builds(
        GzipReader::new(reader).max_output(BodyKind::BuildbotDump.limits().max_decoded_bytes),
        filter,
    )
}

/// Finished builds from a downloaded body, gzip or plain (detected by the gzip magic bytes).
pub fn parse_finished_builds_bytes(
    body: &[u8],
    filter: &BuildFilter,
) -> Result<Vec<FinishedBuild>> {
    if is_gzip(body) {
        parse_finished_builds_gz(body, filter)
    } else {
        parse_finished_builds(body, filter)
    }
}

fn is_gzip(body: &[u8]) -> bool {
    body.starts_with(&GZIP_MAGIC)
}

fn decompressed<'a>(body: &'a [u8], source: &str) -> Result<std::borrow::Cow<'a, [u8]>> {
    if is_gzip(body) {
        let mut out = Vec::new();
        GzipReader::new(body)
            .max_output(BodyKind::BuildbotDump.limits().max_decoded_bytes)
            .read_to_end(&mut out)
            .map_err(|e| {
                OutputLimitExceeded::as_body_error(source, &e)
                    .unwrap_or_else(|| Error::parse(source, format!("gzip: {e}")))
            })?;
        Ok(std::borrow::Cow::Owned(out))
    } else {
        Ok(std::borrow::Cow::Borrowed(body))
    }
}

/// A build in progress, from `builds-running.js`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunningBuild {
    /// The branch key it is listed under.
    pub branch: String,
    /// The build's `revision`, or else the revision key it is listed under.
    pub revision: String,
    /// Buildbot's build id.
    pub id: u64,
    /// The Buildbot builder running it; empty when absent.
    pub buildername: String,
    /// Buildbot's per-builder build number.
    pub number: Option<u64>,
    /// The build requests it serves.
    pub request_ids: Vec<u64>,
    /// When its request was submitted, Unix seconds.
    pub submitted_at: Option<i64>,
    /// When the build started, Unix seconds.
    pub start_time: Option<i64>,
    /// The build master's last sign of life for it, Unix seconds.
    pub last_heartbeat: Option<i64>,
    /// The build master running it.
    pub claimed_by_name: Option<String>,
}

#[derive(Deserialize)]
struct RunningRaw {
    id: u64,
    #[serde(default)]
    buildername: String,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    request_ids: Vec<u64>,
    #[serde(default)]
    submitted_at: Option<i64>,
    #[serde(default)]
    start_time: Option<i64>,
    #[serde(default)]
    last_heartbeat: Option<i64>,
    #[serde(default)]
    claimed_by_name: Option<String>,
}

#[derive(Deserialize)]
struct RunningFile {
    running: BTreeMap<String, BTreeMap<String, Vec<RunningRaw>>>,
}

/// Parse `builds-running.js` (`{"running": {branch: {rev: [...]}}}`), gzip or plain.
pub fn parse_builds_running(body: &[u8]) -> Result<Vec<RunningBuild>> {
    const SOURCE: &str = "buildjson builds-running";
    let body = decompressed(body, SOURCE)?;
    let file: RunningFile = serde_json::from_slice(&body).map_err(|e| Error::json(SOURCE, &e))?;
    let mut out = Vec::new();
    for (branch, by_rev) in file.running {
        for (listed_rev, builds) in by_rev {
            out.extend(builds.into_iter().map(|b| RunningBuild {
                branch: branch.clone(),
                revision: b.revision.unwrap_or_else(|| listed_rev.clone()),
                id: b.id,
                buildername: b.buildername,
                number: b.number,
                request_ids: b.request_ids,
                submitted_at: b.submitted_at,
                start_time: b.start_time,
                last_heartbeat: b.last_heartbeat,
                claimed_by_name: b.claimed_by_name,
            }));
        }
    }
    Ok(out)
}

/// Parse `builds-pending.js` (same shape as BuildAPI's `/pending`), gzip or plain.
pub fn parse_builds_pending(body: &[u8]) -> Result<Vec<QueuedRequest>> {
    parse_buildapi_pending(&decompressed(body, "buildjson builds-pending")?)
}

/// A dump fetched with conditional GETs: the `Last-Modified` the server gave
/// and what was parsed from that version. Refreshing sends
/// `If-Modified-Since`, so an unchanged multi-megabyte file costs a 304.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConditionalDump<T> {
    /// The dump's URL.
    pub(crate) url: String,
    /// The `Last-Modified` of the version held in `data`.
    pub(crate) last_modified: Option<String>,
    /// The parsed dump; `None` until a fetch succeeds.
    pub(crate) data: Option<T>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DumpRefresh {
    /// 304: the cached data is current.
    NotModified,
    /// 200: new data was parsed and stored.
    Replaced,
}

impl<T> ConditionalDump<T> {
    /// A dump at `url`, not fetched yet.
    pub(crate) fn new(url: impl Into<String>) -> Self {
        ConditionalDump {
            url: url.into(),
            last_modified: None,
            data: None,
        }
    }

    /// The GET to send; conditional once we hold data and its `Last-Modified`.
    pub(crate) fn request(&self) -> HttpRequest {
        let request = HttpRequest::get(self.url.clone()).body_kind(BodyKind::BuildbotDump);
        match (&self.last_modified, &self.data) {
            (Some(stamp), Some(_)) => request.header("If-Modified-Since", stamp.clone()),
            _ => request,
        }
    }

    /// Take in the answer to [`Self::request`], parsing a new body with `parse`.
    /// On any error the cached data is left as it was.
    pub(crate) fn apply(
        &mut self,
        response: &HttpResponse,
        parse: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<DumpRefresh> {
        if response.status == 304 {
            if self.data.is_some() {
                return Ok(DumpRefresh::NotModified);
            }
            return Err(Error::parse(
                &self.url,
                "304 Not Modified for a file we hold no copy of",
            ));
        }
        if !response.is_success() {
            return Err(Error::from_status(
                &response.url,
                response.status,
                &response.body,
            ));
        }
        let data = parse(&response.body)?;
        self.data = Some(data);
        self.last_modified = response.header("Last-Modified").map(str::to_string);
        Ok(DumpRefresh::Replaced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn utc_dates_from_timestamps() {
        let cases = [
            (0, "1970-01-01"),
            (86_399, "1970-01-01"),
            (86_400, "1970-01-02"),
            (-1, "1969-12-31"),
            (951_782_400, "2000-02-29"),
            (951_868_800, "2000-03-01"),
            (1_376_510_970, "2013-08-14"),
            (1_440_115_199, "2015-08-20"),
            (1_456_704_000, "2016-02-29"),
            (4_102_444_800, "2100-01-01"),
            (-2_208_988_800, "1900-01-01"),
        ];
        for (ts, date) in cases {
            assert_eq!(UtcDate::from_unix(ts).to_string(), date, "{ts}");
        }
        // Extremes do not overflow.
        let _ = UtcDate::from_unix(i64::MAX / 2);
        let _ = UtcDate::from_unix(i64::MIN / 2);
    }

    #[test]
    fn consecutive_days_never_skip_or_repeat() {
        let mut previous = UtcDate::from_unix(-400 * 365 * SECS_PER_DAY);
        for day in -400 * 365 + 1..400 * 365 {
            let date = UtcDate::from_unix(day * SECS_PER_DAY + 12 * 3600);
            assert!(date > previous, "{previous} then {date}");
            assert!((1..=12).contains(&date.month) && (1..=31).contains(&date.day));
            previous = date;
        }
    }

    #[test]
    fn dump_urls() {
        let base = "http://127.0.0.1:8301/builddata/buildjson/";
        assert_eq!(
            builds_4hr_url(base),
            "http://127.0.0.1:8301/builddata/buildjson/builds-4hr.js.gz"
        );
        assert_eq!(
            builds_day_url(base, 1_376_510_970),
            "http://127.0.0.1:8301/builddata/buildjson/builds-2013-08-14.js.gz"
        );
        assert_eq!(
            builds_running_url(DEFAULT_BUILDJSON_BASE),
            "https://secure.pub.build.mozilla.org/builddata/buildjson/builds-running.js"
        );
        assert_eq!(
            builds_pending_url("http://h/b"),
            "http://h/b/builds-pending.js"
        );
    }

    #[test]
    fn four_hour_rule() {
        let now = 1_376_510_970;
        assert_eq!(
            dump_for_completed_request(now, now),
            BuildjsonDump::FourHours
        );
        assert_eq!(
            dump_for_completed_request(now - FOUR_HOURS_SECS + 1, now),
            BuildjsonDump::FourHours
        );
        // A clock skewed into the future still reads the freshest file.
        assert_eq!(
            dump_for_completed_request(now + 60, now),
            BuildjsonDump::FourHours
        );
        let day = BuildjsonDump::Day(UtcDate {
            year: 2013,
            month: 8,
            day: 14,
        });
        assert_eq!(dump_for_completed_request(now - FOUR_HOURS_SECS, now), day);
        assert_eq!(
            dump_for_completed_request(now - 3 * SECS_PER_DAY, now).file_name(),
            "builds-2013-08-11.js.gz"
        );
        // Absurd timestamps saturate instead of overflowing.
        assert!(matches!(
            dump_for_completed_request(i64::MIN, i64::MAX),
            BuildjsonDump::Day(_)
        ));
    }

    const TWO_BUILDS: &str = r#"{"builds": [
        {"id": 1, "result": 0, "request_ids": [10], "endtime": 5, "unknown": {"deep": [1, 2, {"x": null}]},
         "properties": {"buildername": "A", "branch": "try", "revision": "abc", "request_ids": [11, 10],
                        "packageUrl": "p", "testPackagesUrl": "tp", "other": 3}},
        {"id": 2, "result": null, "request_ids": [20], "properties": {"buildername": "B", "branch": "mozilla-inbound"}}
      ], "builders": {"x": {}}, "slaves": {}}"#;

    #[test]
    fn finished_builds_keep_compact_fields() {
        let builds = parse_finished_builds(TWO_BUILDS.as_bytes(), &BuildFilter::all()).unwrap();
        assert_eq!(builds.len(), 2);
        assert_eq!(builds[0].request_ids, vec![10, 11]);
        assert!(builds[0].served_request(11) && !builds[0].served_request(20));
        assert_eq!(builds[0].tests_url.as_deref(), Some("tp"));
        assert_eq!(builds[0].package_url.as_deref(), Some("p"));
        assert_eq!(builds[1].result, None);
        assert_eq!(builds[1].revision, None);
    }

    #[test]
    fn filters_apply_while_streaming() {
        let by_branch = parse_finished_builds(
            TWO_BUILDS.as_bytes(),
            &BuildFilter::branch("mozilla-inbound"),
        )
        .unwrap();
        assert_eq!(by_branch.iter().map(|b| b.id).collect::<Vec<_>>(), vec![2]);
        let by_request =
            parse_finished_builds(TWO_BUILDS.as_bytes(), &BuildFilter::request_ids([11])).unwrap();
        assert_eq!(by_request.iter().map(|b| b.id).collect::<Vec<_>>(), vec![1]);
        let by_builder = BuildFilter {
            buildername: Some("B".into()),
            ..Default::default()
        };
        assert_eq!(
            parse_finished_builds(TWO_BUILDS.as_bytes(), &by_builder)
                .unwrap()
                .len(),
            1
        );
        assert!(
            parse_finished_builds(TWO_BUILDS.as_bytes(), &BuildFilter::request_ids([99]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn gzip_and_plain_bodies_are_both_read() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(TWO_BUILDS.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let a = parse_finished_builds_bytes(&gz, &BuildFilter::all()).unwrap();
        let b = parse_finished_builds_bytes(TWO_BUILDS.as_bytes(), &BuildFilter::all()).unwrap();
        assert_eq!(a, b);
        // A truncated gzip stream is an error, not a partial result.
        assert!(parse_finished_builds_bytes(&gz[..gz.len() / 2], &BuildFilter::all()).is_err());
    }

    #[test]
    fn malformed_finished_files_are_errors() {
        let bad = [
            "",
            "[]",
            "{}",
            r#"{"builds": {}}"#,
            r#"{"builds": [1]}"#,
            r#"{"builds": [{"id": "x"}]}"#,
            r#"{"builds": [{"id": 1, "properties": 3}]}"#,
            r#"{"builds": []} trailing"#,
            r#"{"builds": [{"id": 1"#,
        ];
        for body in bad {
            assert!(
                matches!(
                    parse_finished_builds_bytes(body.as_bytes(), &BuildFilter::all()),
                    Err(Error::Parse { .. })
                ),
                "{body}"
            );
        }
        let deep = format!(
            "{{\"builds\": [], \"x\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        // Skipped values are walked without recursion: deep nesting neither overflows nor matters.
        assert_eq!(
            parse_finished_builds(deep.as_bytes(), &BuildFilter::all()).unwrap(),
            vec![]
        );
        let deep_build = format!(
            "{{\"builds\": [{{\"id\": 1, \"properties\": {}}}]}}",
            "[".repeat(10_000)
        );
        assert!(parse_finished_builds(deep_build.as_bytes(), &BuildFilter::all()).is_err());
        assert!(parse_builds_running(b"{\"running\": 3}").is_err());
        assert!(parse_builds_pending(&[0x1f, 0x8b, 0, 1]).is_err());
    }

    #[test]
    fn conditional_get_round() {
        let mut dump: ConditionalDump<usize> = ConditionalDump::new("http://h/builds-4hr.js.gz");
        assert_eq!(dump.request().header_value("If-Modified-Since"), None);
        let not_modified = HttpResponse {
            status: 304,
            url: dump.url.clone(),
            headers: vec![],
            body: vec![],
        };
        assert!(
            dump.apply(&not_modified, |b| Ok(b.len())).is_err(),
            "304 without a copy"
        );

        let stamp = "Wed, 14 Aug 2013 20:09:30 GMT";
        let fresh = HttpResponse {
            status: 200,
            url: dump.url.clone(),
            headers: vec![("last-modified".into(), stamp.into())],
            body: b"12345".to_vec(),
        };
        assert_eq!(
            dump.apply(&fresh, |b| Ok(b.len())).unwrap(),
            DumpRefresh::Replaced
        );
        assert_eq!(
            (dump.data, dump.last_modified.as_deref()),
            (Some(5), Some(stamp))
        );
        assert_eq!(
            dump.request().header_value("if-modified-since"),
            Some(stamp)
        );

        assert_eq!(
            dump.apply(&not_modified, |_| panic!("must not re-parse"))
                .unwrap(),
            DumpRefresh::NotModified
        );
        assert_eq!(dump.data, Some(5));

        let failing = HttpResponse {
            status: 200,
            url: dump.url.clone(),
            headers: vec![],
            body: vec![],
        };
        assert!(dump
            .apply(&failing, |_| Err(Error::parse("t", "bad")))
            .is_err());
        assert_eq!(dump.data, Some(5), "a failed refresh keeps the old copy");
        let gone = HttpResponse {
            status: 503,
            url: dump.url.clone(),
            headers: vec![],
            body: vec![],
        };
        assert!(matches!(
            dump.apply(&gone, |b| Ok(b.len())),
            Err(Error::Status { status: 503, .. })
        ));
    }
}
