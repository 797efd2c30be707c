//! Mercurial pushlog (`json-pushes`): query URLs and response parsing.
//!
//! Owns the pushlog's range rules (`startID`/`fromchange` exclusive,
//! `endID`/`tochange` inclusive), both response versions, and the
//! `changeset=<node>` lookup used to follow a merge into its source repository.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use crate::model::{Changeset, Push, Revision};
use crate::url_text::parse_url;
use serde_json::{Map, Value};

/// Name used in parse errors.
const SOURCE: &str = "hg pushlog (json-pushes)";

/// Which response layout to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushlogVersion {
    /// No `version` parameter: the pushes dict is the whole response.
    V1,
    /// `version=2`: `{"lastpushid": N, "pushes": {…}}`.
    #[default]
    V2,
}

/// A repository's pushlog location: an hg server and a repository path on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushlogRepo {
    base: url::Url,
    repo_path: String,
}

impl PushlogRepo {
    /// `hg_base` is the server (`https://hg.mozilla.org`, or a sandbox origin,
    /// possibly with a path prefix); `repo_path` is e.g. `integration/autoland`.
    pub fn new(hg_base: &str, repo_path: &str) -> Result<Self> {
        let base = parse_url(hg_base)
            .map_err(|e| Error::Invalid(format!("hg base URL `{hg_base}`: {e}")))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Invalid(format!(
                "hg base URL `{hg_base}` must be an http(s) URL"
            )));
        }
        let repo_path = repo_path.trim_matches('/').to_string();
        if repo_path.is_empty() || repo_path.split('/').any(|s| s.is_empty() || s == "..") {
            return Err(Error::Invalid(format!(
                "hg repository path `{repo_path}` is empty or malformed"
            )));
        }
        Ok(PushlogRepo { base, repo_path })
    }

    /// The repository path, e.g. `integration/autoland`.
    pub fn repo_path(&self) -> &str {
        &self.repo_path
    }

    /// The `json-pushes` URL for `query`.
    pub fn json_pushes_url(&self, query: &JsonPushesQuery) -> String {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(self.repo_path.split('/'))
                .push("json-pushes");
        }
        let pairs = query.query_pairs();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

/// The parameters of one `json-pushes` request. Build it with the range
/// constructors, which encode the exclusive/inclusive rules once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonPushesQuery {
    /// `version`: the response format asked for.
    pub version: PushlogVersion,
    /// `full=1`: changesets as objects (author, desc, …) instead of node strings.
    pub full: bool,
    /// `startID`: pushes with an id GREATER than this (exclusive).
    pub start_id: Option<u64>,
    /// `endID`: pushes with an id up to and including this.
    pub end_id: Option<u64>,
    /// `fromchange`: pushes AFTER the one containing this changeset (exclusive).
    pub fromchange: Option<String>,
    /// `tochange`: pushes up to and including the one containing this changeset.
    pub tochange: Option<String>,
    /// `changeset`: the push that contains this changeset.
    pub changeset: Option<String>,
    /// `tipsonly=1`: list only each push's tip changeset.
    pub tipsonly: bool,
}

impl JsonPushesQuery {
    /// Pushes `first..=last` by pushlog id.
    pub fn id_range_inclusive(first: u64, last: u64) -> Result<Self> {
        if first == 0 || first > last {
            return Err(Error::Invalid(format!(
                "push id range {first}..={last} is empty (pushlog ids start at 1)"
            )));
        }
        Ok(JsonPushesQuery {
            start_id: Some(first - 1),
            end_id: Some(last),
            ..Self::default()
        })
    }

    /// The `count` pushes immediately before push `push_id` (not including it);
    /// fewer when the repository has fewer earlier pushes.
    pub fn pushes_before(push_id: u64, count: u64) -> Result<Self> {
        if count == 0 || push_id <= 1 {
            return Err(Error::Invalid(format!(
                "there are no {count} pushes before push {push_id}"
            )));
        }
        let last = push_id - 1;
        let first = last.saturating_sub(count - 1).max(1);
        Self::id_range_inclusive(first, last)
    }

    /// Pushes after the one containing `from` up to and including the one
    /// containing `to` (hg's own `fromchange`/`tochange` semantics).
    pub fn revision_range(from: &str, to: &str) -> Self {
        JsonPushesQuery {
            fromchange: Some(from.to_string()),
            tochange: Some(to.to_string()),
            ..Self::default()
        }
    }

    /// The push that contains changeset `node` (the merge-following lookup).
    pub fn containing_changeset(node: &str) -> Self {
        JsonPushesQuery {
            changeset: Some(node.to_string()),
            ..Self::default()
        }
    }

    /// Ask for full changeset objects.
    pub fn with_full(mut self) -> Self {
        self.full = true;
        self
    }

    /// Ask for the given response layout.
    pub fn with_version(mut self, version: PushlogVersion) -> Self {
        self.version = version;
        self
    }

    /// List only each push's tip changeset.
    pub fn with_tipsonly(mut self) -> Self {
        self.tipsonly = true;
        self
    }

    /// Query parameters in a stable order (the order hg's own pulse messages use).
    fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.version == PushlogVersion::V2 {
            pairs.push(("version", "2".to_string()));
        }
        if self.full {
            pairs.push(("full", "1".to_string()));
        }
        if let Some(id) = self.start_id {
            pairs.push(("startID", id.to_string()));
        }
        if let Some(id) = self.end_id {
            pairs.push(("endID", id.to_string()));
        }
        if let Some(rev) = &self.fromchange {
            pairs.push(("fromchange", rev.clone()));
        }
        if let Some(rev) = &self.tochange {
            pairs.push(("tochange", rev.clone()));
        }
        if let Some(rev) = &self.changeset {
            pairs.push(("changeset", rev.clone()));
        }
        if self.tipsonly {
            pairs.push(("tipsonly", "1".to_string()));
        }
        pairs
    }
}

/// A parsed `json-pushes` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPushes {
    /// `lastpushid` (version 2 only): the repository's newest push id.
    pub last_push_id: Option<u64>,
    /// Pushes sorted by id, numerically, oldest first.
    pub pushes: Vec<Push>,
    /// Ids of pushes listed without any changeset (hg hides obsolete
    /// changesets); they have no revision, so they are not in `pushes`.
    pub empty_push_ids: Vec<u64>,
}

/// Parse a `json-pushes` body of either version, with or without `full`.
/// `repository` is the short name stored in each [`Push`].
pub fn parse_json_pushes(body: &[u8], repository: &str) -> Result<JsonPushes> {
    let root: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let Value::Object(root) = root else {
        return Err(Error::parse(SOURCE, "expected a JSON object"));
    };
    // Version 1 keys are all push ids, so a `pushes` key means version 2.
    let (last_push_id, pushes_obj, prefix) = match root.get("pushes") {
        Some(pushes) => {
            let last = match root.get("lastpushid") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or_else(|| {
                    Error::parse_field(SOURCE, "lastpushid", "expected a push id")
                })?),
            };
            let obj = pushes
                .as_object()
                .ok_or_else(|| Error::parse_field(SOURCE, "pushes", "expected an object"))?;
            (last, obj, "pushes.")
        }
        None => (None, &root, ""),
    };
    let mut pushes = Vec::with_capacity(pushes_obj.len());
    let mut empty_push_ids = Vec::new();
    for (key, value) in pushes_obj {
        let path = format!("{prefix}{key}");
        let id: u64 = key
            .parse()
            .map_err(|_| Error::parse_field(SOURCE, &path, "push key is not a numeric id"))?;
        match parse_push(id, value, &path, repository)? {
            Some(push) => pushes.push(push),
            None => empty_push_ids.push(id),
        }
    }
    // Numeric order: sorting the keys as strings put 9999 after 10000 in mozci.
    pushes.sort_by_key(|p| p.id);
    empty_push_ids.sort();
    Ok(JsonPushes {
        last_push_id,
        pushes,
        empty_push_ids,
    })
}

/// Parse the answer to a `changeset=<node>` query and return the push that
/// contains `node` (full id or a prefix of at least 12 digits), if any.
pub fn parse_changeset_lookup(
    body: &[u8],
    repository: &str,
    node: &Revision,
) -> Result<Option<Push>> {
    let parsed = parse_json_pushes(body, repository)?;
    Ok(parsed
        .pushes
        .into_iter()
        .find(|push| push_contains(push, node)))
}

/// Whether one of the push's changesets is `node` (12+ digit prefixes match).
pub fn push_contains(push: &Push, node: &Revision) -> bool {
    push.changesets.iter().any(|c| c.node.matches(node))
}

fn parse_push(id: u64, value: &Value, path: &str, repository: &str) -> Result<Option<Push>> {
    let obj = value
        .as_object()
        .ok_or_else(|| Error::parse_field(SOURCE, path, "expected a push object"))?;
    let date = required(obj, path, "date")?
        .as_i64()
        .ok_or_else(|| Error::parse_field(SOURCE, format!("{path}.date"), "expected an integer"))?;
    let author = required_str(obj, path, "user")?.to_string();
    let changesets_path = format!("{path}.changesets");
    let changesets = required(obj, path, "changesets")?
        .as_array()
        .ok_or_else(|| Error::parse_field(SOURCE, &changesets_path, "expected an array"))?
        .iter()
        .enumerate()
        .map(|(i, c)| parse_changeset(c, &format!("{changesets_path}.{i}")))
        .collect::<Result<Vec<_>>>()?;
    let Some(last) = changesets.last() else {
        return Ok(None);
    };
    Ok(Some(Push {
        id,
        revision: last.node.clone(),
        changesets,
        author,
        date,
        repository: repository.to_string(),
    }))
}

/// Without `full` a changeset is its node string; with `full` an object.
fn parse_changeset(value: &Value, path: &str) -> Result<Changeset> {
    match value {
        Value::String(node) => Ok(Changeset {
            node: Revision(node.clone()),
            author: String::new(),
            desc: String::new(),
        }),
        Value::Object(obj) => Ok(Changeset {
            node: Revision(required_str(obj, path, "node")?.to_string()),
            author: optional_str(obj, path, "author")?,
            desc: optional_str(obj, path, "desc")?,
        }),
        _ => Err(Error::parse_field(
            SOURCE,
            path,
            "expected a node string or a changeset object",
        )),
    }
}

fn required<'a>(obj: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a Value> {
    obj.get(key)
        .ok_or_else(|| Error::parse_field(SOURCE, format!("{path}.{key}"), "missing"))
}

fn required_str<'a>(obj: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a str> {
    required(obj, path, key)?
        .as_str()
        .ok_or_else(|| Error::parse_field(SOURCE, format!("{path}.{key}"), "expected a string"))
}

fn optional_str(obj: &Map<String, Value>, path: &str, key: &str) -> Result<String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::parse_field(
            SOURCE,
            format!("{path}.{key}"),
            "expected a string",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn autoland() -> PushlogRepo {
        PushlogRepo::new("https://hg.mozilla.org", "integration/autoland").unwrap()
    }

    #[test]
    fn id_range_is_sent_with_an_exclusive_start() {
        let q = JsonPushesQuery::id_range_inclusive(10, 12)
            .unwrap()
            .with_full();
        assert_eq!(
            autoland().json_pushes_url(&q),
            "https://hg.mozilla.org/integration/autoland/json-pushes?version=2&full=1&startID=9&endID=12"
        );
        let single = JsonPushesQuery::id_range_inclusive(1, 1).unwrap();
        assert_eq!((single.start_id, single.end_id), (Some(0), Some(1)));
        assert!(JsonPushesQuery::id_range_inclusive(0, 3).is_err());
        assert!(JsonPushesQuery::id_range_inclusive(5, 4).is_err());
    }

    #[test]
    fn pushes_before_excludes_the_push_itself_and_stops_at_the_first_push() {
        let q = JsonPushesQuery::pushes_before(100, 5).unwrap();
        assert_eq!((q.start_id, q.end_id), (Some(94), Some(99)));
        let q = JsonPushesQuery::pushes_before(4, 10).unwrap();
        assert_eq!((q.start_id, q.end_id), (Some(0), Some(3)));
        assert!(JsonPushesQuery::pushes_before(1, 3).is_err());
        assert!(JsonPushesQuery::pushes_before(50, 0).is_err());
    }

    #[test]
    fn version_1_revision_range_and_tipsonly() {
        let q = JsonPushesQuery::revision_range("abc123", "def456")
            .with_version(PushlogVersion::V1)
            .with_tipsonly();
        assert_eq!(
            PushlogRepo::new("https://hg.mozilla.org/", "/mozilla-central/")
                .unwrap()
                .json_pushes_url(&q),
            "https://hg.mozilla.org/mozilla-central/json-pushes?fromchange=abc123&tochange=def456&tipsonly=1"
        );
        let bare = JsonPushesQuery::default().with_version(PushlogVersion::V1);
        assert_eq!(
            autoland().json_pushes_url(&bare),
            "https://hg.mozilla.org/integration/autoland/json-pushes"
        );
    }

    #[test]
    fn values_and_path_segments_are_percent_encoded() {
        let repo = PushlogRepo::new("http://127.0.0.1:8101/hg/", "projects/a b").unwrap();
        let q = JsonPushesQuery::containing_changeset("tip&x=1 #2");
        assert_eq!(
            repo.json_pushes_url(&q),
            "http://127.0.0.1:8101/hg/projects/a%20b/json-pushes?version=2&changeset=tip%26x%3D1+%232"
        );
    }

    #[test]
    fn bad_locations_are_refused() {
        assert!(PushlogRepo::new("hg.mozilla.org", "try").is_err());
        assert!(PushlogRepo::new("ftp://hg.mozilla.org", "try").is_err());
        assert!(PushlogRepo::new("https://hg.mozilla.org", "").is_err());
        assert!(PushlogRepo::new("https://hg.mozilla.org", "a//b").is_err());
        assert!(PushlogRepo::new("https://hg.mozilla.org", "a/../b").is_err());
        assert_eq!(autoland().repo_path(), "integration/autoland");
    }

    #[test]
    fn version_1_without_full_sorts_ids_numerically() {
        let body = br#"{
            "10000": {"changesets": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"], "date": 2, "user": "b@x"},
            "9999": {"changesets": ["cccccccccccccccccccccccccccccccccccccccc"], "date": 1, "user": "a@x"}
        }"#;
        let parsed = parse_json_pushes(body, "autoland").unwrap();
        assert_eq!(parsed.last_push_id, None);
        let ids: Vec<u64> = parsed.pushes.iter().map(|p| p.id).collect();
        assert_eq!(ids, [9999, 10000]);
        assert_eq!(parsed.pushes[1].revision.0, "b".repeat(40));
        assert_eq!(parsed.pushes[1].changesets.len(), 2);
        assert_eq!(parsed.pushes[0].repository, "autoland");
    }

    #[test]
    fn empty_pushes_are_reported_not_invented() {
        let body = br#"{"lastpushid": 3, "pushes": {
            "2": {"changesets": [], "date": 5, "user": "u"},
            "3": {"changesets": [{"node": "dddddddddddd", "author": "A", "desc": "d", "extra": [1]}], "date": 6, "user": "u", "obsolete": true}
        }}"#;
        let parsed = parse_json_pushes(body, "try").unwrap();
        assert_eq!(parsed.last_push_id, Some(3));
        assert_eq!(parsed.empty_push_ids, [2]);
        assert_eq!(parsed.pushes.len(), 1);
        assert_eq!(parsed.pushes[0].changesets[0].author, "A");
    }

    #[test]
    fn errors_name_the_field() {
        let cases: [(&[u8], Option<&str>); 7] = [
            (b"[1,2]", None),
            (br#"{"pushes": []}"#, Some("pushes")),
            (br#"{"lastpushid": "x", "pushes": {}}"#, Some("lastpushid")),
            (br#"{"abc": {}}"#, Some("abc")),
            (
                br#"{"pushes": {"7": {"date": "today", "user": "u", "changesets": []}}}"#,
                Some("pushes.7.date"),
            ),
            (
                br#"{"pushes": {"7": {"date": 1, "changesets": []}}}"#,
                Some("pushes.7.user"),
            ),
            (
                br#"{"7": {"date": 1, "user": "u", "changesets": [{"author": "x"}]}}"#,
                Some("7.changesets.0.node"),
            ),
        ];
        for (body, field) in cases {
            match parse_json_pushes(body, "r") {
                Err(Error::Parse { field: got, .. }) => {
                    assert_eq!(got.as_deref(), field, "{}", String::from_utf8_lossy(body))
                }
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
    }

    #[test]
    fn changeset_lookup_matches_on_a_prefix() {
        let body = br#"{"lastpushid": 9, "pushes": {"8": {"changesets": [
            {"node": "1111111111111111111111111111111111111111"},
            {"node": "2222222222222222222222222222222222222222"}], "date": 1, "user": "u"}}}"#;
        let found = parse_changeset_lookup(body, "autoland", &Revision::from("111111111111"))
            .unwrap()
            .map(|p| p.id);
        assert_eq!(found, Some(8));
        let missing =
            parse_changeset_lookup(body, "autoland", &Revision::from("333333333333")).unwrap();
        assert_eq!(missing, None);
    }
}
