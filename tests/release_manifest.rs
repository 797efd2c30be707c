//! The two add-on builds' manifests against the README's "Permissions, and
//! why" table: the release manifest (what `scripts/release-manifest.mjs`
//! makes of the root manifest.json, and the built one in dist/release/addon
//! when there is one) must have no loopback match or permission, and
//! neither manifest may hold an entry the table does not justify for its
//! build, nor lack one the table gives it.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{bail, ensure, Context, Result};
use mozci_harness::repo_root;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// One manifest entry: the key path it is under and its value.
type Entry = (String, String);

/// The table's rows: (key, entry) and whether each build has it.
struct Table {
    rows: Vec<(Entry, bool, bool)>,
}

impl Table {
    fn read() -> Result<Table> {
        let readme = std::fs::read_to_string(repo_root().join("README.md"))?;
        let section = readme
            .split("### Permissions, and why")
            .nth(1)
            .context("README.md has no \"Permissions, and why\" section")?;
        let section = section.split("\n#").next().unwrap_or(section);
        let mut lines = section.lines().filter(|l| l.trim_start().starts_with('|'));
        let cells = |line: &str| -> Vec<String> {
            line.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        };
        let header = cells(lines.next().context("no table in the section")?);
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .with_context(|| format!("the table has no `{name}` column: {header:?}"))
        };
        let (key, entry, dev, release) = (
            column("manifest key")?,
            column("entry")?,
            column("development")?,
            column("release")?,
        );
        let yes = |cell: &str| match cell {
            "yes" => Ok(true),
            "no" => Ok(false),
            other => bail!("a build column says `{other}`, not yes or no"),
        };
        let mut rows = Vec::new();
        for line in lines.skip(1) {
            let c = cells(line);
            ensure!(
                c.len() == header.len(),
                "row {line:?} has {} cells",
                c.len()
            );
            rows.push((
                (c[key].clone(), c[entry].clone()),
                yes(&c[dev])?,
                yes(&c[release])?,
            ));
        }
        ensure!(!rows.is_empty(), "the permissions table is empty");
        Ok(Table { rows })
    }

    fn for_build(&self, release: bool) -> BTreeSet<Entry> {
        self.rows
            .iter()
            .filter(|(_, dev, rel)| if release { *rel } else { *dev })
            .map(|(e, _, _)| e.clone())
            .collect()
    }
}

/// Top-level keys that grant nothing (names, icons, where the scripts are).
const INERT_KEYS: &[&str] = &[
    "manifest_version",
    "name",
    "version",
    "description",
    "homepage_url",
    "icons",
    "background",
];

fn strings(value: &Value, what: &str) -> Result<Vec<String>> {
    value
        .as_array()
        .with_context(|| format!("{what} is not a list"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .with_context(|| format!("{what} holds a non-string"))
        })
        .collect()
}

/// Every entry of `manifest` that grants the add-on something; fails on a
/// key this test does not know (a new kind of permission must be added to
/// the table and here).
fn entries(manifest: &Value) -> Result<BTreeSet<Entry>> {
    let top = manifest
        .as_object()
        .context("the manifest is not an object")?;
    let mut out = BTreeSet::new();
    let mut add = |key: &str, values: Vec<String>| {
        for v in values {
            out.insert((key.to_string(), v));
        }
    };
    for (key, value) in top {
        match key.as_str() {
            k if INERT_KEYS.contains(&k) => {}
            "content_scripts" => {
                for script in value.as_array().context("content_scripts")? {
                    add(
                        "content_scripts.matches",
                        strings(&script["matches"], "content_scripts.matches")?,
                    );
                    ensure!(
                        script.get("all_frames").is_none_or(|v| v == false),
                        "a content script runs in frames: a framing page could overlay its panel"
                    );
                }
            }
            "web_accessible_resources" => {
                for resources in value.as_array().context("web_accessible_resources")? {
                    add(
                        "web_accessible_resources.resources",
                        strings(&resources["resources"], "resources")?,
                    );
                    add(
                        "web_accessible_resources.matches",
                        strings(&resources["matches"], "matches")?,
                    );
                }
            }
            "content_security_policy" => {
                for (k, v) in value.as_object().context("content_security_policy")? {
                    let v = v.as_str().context("a CSP is not a string")?.to_string();
                    add(&format!("content_security_policy.{k}"), vec![v]);
                }
            }
            "permissions"
            | "host_permissions"
            | "optional_permissions"
            | "optional_host_permissions" => add(key, strings(value, key)?),
            "action" => add(
                "action",
                vec![value["default_popup"]
                    .as_str()
                    .context("action without a popup")?
                    .to_string()],
            ),
            "options_ui" => add(
                "options_ui",
                vec![value["page"]
                    .as_str()
                    .context("options_ui without a page")?
                    .to_string()],
            ),
            "browser_specific_settings" => {
                let gecko = &value["gecko"];
                for k in gecko.as_object().context("gecko settings")?.keys() {
                    ensure!(
                        ["id", "strict_min_version", "data_collection_permissions"]
                            .contains(&k.as_str()),
                        "gecko setting `{k}` is not in the permissions table"
                    );
                }
                let data = &gecko["data_collection_permissions"];
                add(
                    "data_collection_permissions.required",
                    strings(&data["required"], "data_collection_permissions.required")?,
                );
                if let Some(optional) = data.get("optional") {
                    add(
                        "data_collection_permissions.optional",
                        strings(optional, "optional")?,
                    );
                }
            }
            other => bail!("manifest key `{other}` is not in the permissions table"),
        }
    }
    Ok(out)
}

fn check(manifest: &Value, table: &Table, release: bool, name: &str) -> Result<()> {
    let found = entries(manifest)?;
    let justified = table.for_build(release);
    let unjustified: Vec<_> = found.difference(&justified).collect();
    ensure!(
        unjustified.is_empty(),
        "{name}: entries the README's permissions table does not justify for this build: {unjustified:?}"
    );
    let missing: Vec<_> = justified.difference(&found).collect();
    ensure!(
        missing.is_empty(),
        "{name}: entries the README's table gives this build but the manifest lacks: {missing:?}"
    );
    Ok(())
}

/// Whether `text` names this machine (any loopback form, any port).
fn loopback(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["localhost", "127.", "[::1]", "0.0.0.0", "http://*"]
        .iter()
        .any(|needle| lower.contains(needle))
}

fn release_manifest_from_source() -> Result<Value> {
    let root = repo_root();
    let output = Command::new("node")
        .arg(root.join("scripts/release-manifest.mjs"))
        .arg(root.join("manifest.json"))
        .output()
        .context("running node scripts/release-manifest.mjs (scripts/setup installs Node)")?;
    ensure!(
        output.status.success(),
        "scripts/release-manifest.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn assert_release_reach(manifest: &Value, name: &str) -> Result<()> {
    let all = entries(manifest)?;
    let near: Vec<_> = all.iter().filter(|(_, v)| loopback(v)).collect();
    ensure!(near.is_empty(), "{name}: loopback entries {near:?}");
    let text = manifest.to_string();
    ensure!(
        !loopback(&text),
        "{name} names a loopback address somewhere"
    );
    for (key, value) in &all {
        if key.ends_with("matches") || key.contains("host_permissions") {
            let host = value
                .strip_prefix("https://")
                .and_then(|rest| rest.strip_suffix("/*"));
            ensure!(
                host.is_some_and(|h| !h.is_empty() && !h.contains(['*', '/'])),
                "{name}: {key} `{value}` is not all of one https host"
            );
        }
    }
    Ok(())
}

#[test]
fn the_release_manifest_reaches_only_mozilla_services_the_readme_justifies() -> Result<()> {
    let table = Table::read()?;
    let manifest = release_manifest_from_source()?;
    assert_release_reach(&manifest, "release manifest")?;
    check(&manifest, &table, true, "release manifest")?;
    // The one actually packaged, when the release build has run.
    let built = repo_root().join("dist/release/addon/manifest.json");
    if built.is_file() {
        let built: Value = serde_json::from_str(&std::fs::read_to_string(&built)?)?;
        assert_release_reach(&built, "dist/release/addon/manifest.json")?;
        check(&built, &table, true, "dist/release/addon/manifest.json")?;
    }
    Ok(())
}

#[test]
fn the_development_manifest_matches_its_column_of_the_table() -> Result<()> {
    let table = Table::read()?;
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("manifest.json"))?)?;
    check(
        &manifest,
        &table,
        false,
        "manifest.json (development build)",
    )
}

/// The `connect-src` sources of a manifest's extension-page policy.
fn connect_sources(manifest: &Value) -> Result<Vec<String>> {
    let policy = manifest["content_security_policy"]["extension_pages"]
        .as_str()
        .context("no extension_pages policy")?;
    let directive = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src "))
        .context("no connect-src: the pages could connect anywhere")?;
    Ok(directive
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect())
}

#[test]
fn the_pages_connect_over_tls_only_and_the_development_build_to_loopback_too() -> Result<()> {
    let release = connect_sources(&release_manifest_from_source()?)?;
    ensure!(
        release == ["'self'", "https:", "wss:"],
        "release connect-src: {release:?}"
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("manifest.json"))?)?;
    let development = connect_sources(&manifest)?;
    for source in &development {
        ensure!(
            release.contains(source) || loopback(source),
            "development connect-src reaches {source}, neither TLS nor this machine"
        );
    }
    ensure!(
        development.iter().any(|s| s == "ws://127.0.0.1:*"),
        "the development build's live events from a local sandbox: {development:?}"
    );
    Ok(())
}

#[test]
fn the_table_check_catches_an_unjustified_or_loopback_entry() -> Result<()> {
    let table = Table::read()?;
    let mut manifest = release_manifest_from_source()?;
    manifest["permissions"]
        .as_array_mut()
        .context("permissions")?
        .push("tabs".into());
    let unjustified = check(&manifest, &table, true, "altered");
    ensure!(
        unjustified.is_err_and(|e| e.to_string().contains("\"tabs\"")),
        "an extra permission went unnoticed"
    );
    let mut manifest = release_manifest_from_source()?;
    manifest["host_permissions"]
        .as_array_mut()
        .context("host_permissions")?
        .push("http://127.0.0.1:8000/*".into());
    ensure!(
        assert_release_reach(&manifest, "altered").is_err(),
        "a loopback host permission went unnoticed"
    );
    Ok(())
}
