//! The core's architecture, checked on its source: the layers of
//! `docs/architecture.md` import only downward, no two modules import each
//! other (directly or round a longer loop), and `engine/` and `plan/` name
//! no CI system.
//!
//! Read from the text of `src/` (paths after `crate::` and `super::` outside
//! the files' `#[cfg(test)]` modules) rather than from the compiler, so that
//! it runs with the other tests and names the offending file.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every module of `src/` (`engine::culprit`, `plan`, …) with its product
/// source: the file's text before its `#[cfg(test)]` module.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (module_name(&root, &path), product_part(&text).to_string())
        })
        .collect()
}

fn module_name(root: &Path, file: &Path) -> String {
    let relative: PathBuf = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The text before the unit tests (by convention the last item of a file).
fn product_part(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]"
            && text[offset + line.len()..].trim_start().starts_with("mod ")
        {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

/// The modules `source` (the text of module `from`) refers to: the longest
/// known module prefix of each `crate::…` and `super::…` path, other than
/// `from` itself and its own ancestors (a child naming its parent's types is
/// how Rust modules are built, not a loop).
fn references(from: &str, source: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut paths = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent_parts(from))] {
        for (at, _) in source.match_indices(prefix) {
            let preceded_by_ident = source[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            if preceded_by_ident {
                continue;
            }
            let rest = &source[at + prefix.len()..];
            paths.push((base.clone(), rest));
        }
    }
    for (base, rest) in paths {
        // `a::b::{c, d::e}` names a::b::c and a::b::d::e.
        for tail in expand(rest) {
            let mut parts = base.clone();
            parts.extend(tail.split("::").map(str::to_string));
            while !parts.is_empty() {
                let candidate = parts.join("::");
                if known.contains(&candidate) {
                    // The crate root only re-exports (`crate::Error`).
                    if !candidate.is_empty() && candidate != from && !is_ancestor(&candidate, from)
                    {
                        found.insert(candidate);
                    }
                    break;
                }
                parts.pop();
            }
        }
    }
    found
}

fn parent_parts(module: &str) -> Vec<String> {
    let mut parts: Vec<String> = module.split("::").map(str::to_string).collect();
    parts.pop();
    parts
}

fn is_ancestor(candidate: &str, of: &str) -> bool {
    of.starts_with(&format!("{candidate}::"))
}

/// The paths a `use` tail names: `a::b` → [a::b]; `a::{b, c::d}` → [a::b, a::c::d].
fn expand(rest: &str) -> Vec<String> {
    let ident_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    let head = rest[..ident_end].trim_end_matches(':');
    if rest[ident_end..].starts_with('{') {
        let mut depth = 0;
        let mut end = ident_end;
        for (i, c) in rest[ident_end..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = ident_end + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &rest[ident_end + 1..end];
        return split_top_level(inner)
            .into_iter()
            .flat_map(|item| expand(item.trim()))
            .map(|tail| format!("{head}::{tail}"))
            .collect();
    }
    vec![head.to_string()]
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, source)| (name.clone(), references(name, source, &known)))
        .collect()
}

/// The layer a module belongs to, lowest first; a module may use its own
/// layer and those below it.
fn layer(module: &str) -> usize {
    const LAYERS: [&[&str]; 9] = [
        &["error", "url_text"],
        &["model"],
        &["http"],
        &["sources"],
        &["plan"],
        &["services"],
        &["ci"],
        &["engine"],
        &["addon", "wasm", "wasm_page", ""],
    ];
    let top = module.split("::").next().unwrap_or("");
    LAYERS
        .iter()
        .position(|names| names.contains(&top))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS"))
}

#[test]
fn layers_import_only_downward() {
    let mut upward = Vec::new();
    for (from, targets) in graph() {
        for to in targets {
            if layer(&to) > layer(&from) {
                upward.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that go up a layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = graph();
    // Tarjan would name each loop once; a depth-first search per module is
    // plenty for a hundred files and names the loop it finds.
    let mut loops = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    let mut cycle = path.clone();
                    let smallest = (0..cycle.len())
                        .min_by_key(|&i| cycle[i].clone())
                        .unwrap_or(0);
                    cycle.rotate_left(smallest);
                    loops.insert(cycle.join(" -> "));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        loops.is_empty(),
        "import loops:\n{}",
        loops.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_loops() {
    let known: BTreeSet<String> = ["a", "a::b", "a::c", "d", "d::e"]
        .into_iter()
        .map(str::to_string)
        .collect();
    let source = "use crate::a::{b::Thing, c};\nuse super::e::Other;\nfn f() { crate::d::g(); }";
    assert_eq!(
        references("d::x", source, &known),
        ["a::b", "a::c", "d::e"]
            .into_iter()
            .map(str::to_string)
            .collect(),
        "crate::d is d::x's ancestor and is left out"
    );
    assert_eq!(
        product_part("use crate::a;\n#[cfg(test)]\nmod tests {\n use crate::d;\n}\n"),
        "use crate::a;\n"
    );
    assert_eq!(layer("engine::culprit"), 7);
}

#[test]
fn the_engine_and_the_plans_name_no_ci_system() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut named = Vec::new();
    let mut pending = vec![root.join("engine"), root.join("plan")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            // The whole file, tests included: their fixtures use neutral values.
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            for (number, line) in text.lines().enumerate() {
                if ["buildbot", "taskcluster", "buildapi", "hook"]
                    .iter()
                    .any(|name| line.contains(name))
                {
                    named.push(format!("{relative}:{}: {}", number + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        named.is_empty(),
        "engine/ and plan/ name a CI system (ask ci/ instead):\n{}",
        named.join("\n")
    );
}
