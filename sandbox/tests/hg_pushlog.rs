//! Scenario tests of the hg origin: json-pushes v1/v2, ranges (startID and
//! fromchange exclusive, endID and tochange inclusive), changeset lookups
//! across repositories (merges), tipsonly, errors.

mod common;

use common::Sb;
use serde_json::Value;

fn ids(pushes: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = pushes
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.parse().unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn ranges_follow_the_pushlog_rules() {
    let sb = Sb::start().await;
    let pushes = sb.pushes("autoland").await;
    let first = pushes[0]["pushlog_id"].as_u64().unwrap();
    let url = |q: &str| sb.hg(&format!("/integration/autoland/json-pushes?{q}"));

    let v2 = sb
        .get(&url(&format!(
            "version=2&startID={first}&endID={}",
            first + 3
        )))
        .await;
    assert_eq!(
        ids(&v2["pushes"]),
        vec![first + 1, first + 2, first + 3],
        "startID exclusive, endID inclusive"
    );
    assert_eq!(v2["lastpushid"], first + 7);
    assert!(
        v2["pushes"][(first + 1).to_string()]["changesets"][0].is_string(),
        "without full, nodes only"
    );

    let v1 = sb
        .get(&url(&format!("startID={first}&endID={}", first + 1)))
        .await;
    assert_eq!(
        ids(&v1),
        vec![first + 1],
        "version 1 is the pushes dict itself"
    );

    let from = pushes[1]["revision"].as_str().unwrap();
    let to = pushes[4]["revision"].as_str().unwrap();
    let range = sb
        .get(&url(&format!("version=2&fromchange={from}&tochange={to}")))
        .await;
    assert_eq!(
        ids(&range["pushes"]),
        vec![first + 2, first + 3, first + 4],
        "fromchange exclusive, tochange inclusive"
    );

    let full = sb
        .get(&url(&format!(
            "version=2&full=1&startID={}&endID={}",
            first + 1,
            first + 2
        )))
        .await;
    let push = &full["pushes"][(first + 2).to_string()];
    let changesets = push["changesets"].as_array().unwrap();
    assert_eq!(
        changesets.last().unwrap()["node"],
        pushes[2]["revision"],
        "a push's revision is its last changeset"
    );
    for key in [
        "node", "author", "desc", "branch", "tags", "files", "parents",
    ] {
        assert!(changesets[0].get(key).is_some(), "{key}");
    }
    let tips = sb
        .get(&url(&format!(
            "version=2&full=1&tipsonly=1&startID={}&endID={}",
            first + 1,
            first + 2
        )))
        .await;
    assert_eq!(
        tips["pushes"][(first + 2).to_string()]["changesets"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let default = sb.get(&url("version=2")).await;
    assert_eq!(
        ids(&default["pushes"]).len(),
        8,
        "no range: the latest pushes"
    );
    sb.stop();
}

#[tokio::test]
async fn merged_changesets_are_found_in_their_source_repo() {
    let sb = Sb::start().await;
    let central = sb
        .get(&sb.hg("/mozilla-central/json-pushes?version=2&full=1"))
        .await;
    let (_, merge) = central["pushes"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let changesets = merge["changesets"].as_array().unwrap();
    assert!(changesets.last().unwrap()["desc"]
        .as_str()
        .unwrap()
        .starts_with("Merge autoland"));
    let carried = changesets[0]["node"].as_str().unwrap();
    let source = sb
        .get(&sb.hg(&format!(
            "/integration/autoland/json-pushes?version=2&changeset={carried}"
        )))
        .await;
    assert_eq!(
        ids(&source["pushes"]).len(),
        1,
        "the node was first pushed to autoland"
    );
    sb.stop();
}

#[tokio::test]
async fn unknown_things_are_errors() {
    let sb = Sb::start().await;
    let unknown = sb
        .http
        .get(sb.hg("/integration/autoland/json-pushes?fromchange=0123456789ab"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let repo = sb
        .http
        .get(sb.hg("/nope/json-pushes"))
        .send()
        .await
        .unwrap();
    assert_eq!(repo.status(), 404);
    let bad = sb
        .http
        .get(sb.hg("/integration/autoland/json-pushes?startID=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sb.stop();
}
