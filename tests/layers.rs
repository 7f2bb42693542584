//! The architecture as a test: `src/lib.rs` lists the modules in data-flow order, and a module
//! may use only modules listed before it (docs/design.md § Data flow). Inside a module, files must not
//! form an import cycle either. Every `crate::…`, `super::…` and `self::…` path is read from the
//! source text (test code included), so an import that points back up fails here, naming the file
//! and the path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Top-level modules in the order `lib.rs` declares them.
fn layer_order() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs is readable");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').trim().to_string())
        .collect()
}

/// Every `.rs` file under `src/`, except the binary's `main.rs`, which may use everything.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/stats/cox.rs` → [stats, cox]; `src/stats/mod.rs` → [stats].
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).expect("under src/");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Source text without comments and string literals, so that a path in prose is not an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"' (lifetimes have no closing quote two bytes on).
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn ident_at(s: &str) -> String {
    s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The paths a file refers to, each as absolute module segments (leading `crate` dropped):
/// `crate::stats::cox::cox` → [stats, cox, cox]; `use crate::{a::b, c}` → [a, b] and [c];
/// `super::x` and `self::x` resolved against the file's own module.
fn references(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", {
            // In `a/mod.rs` (module a), `super` is a's parent; in `a/b.rs` (module a::b), it is a.
            let mut m = module.to_vec();
            m.pop();
            m
        }),
        ("self::", module.to_vec()),
    ] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(prefix) {
            let at = from + pos;
            from = at + prefix.len();
            // Part of a longer identifier (e.g. `my_crate::`)?
            if at > 0 {
                let c = code.as_bytes()[at - 1];
                if c.is_ascii_alphanumeric() || c == b'_' {
                    continue;
                }
            }
            expand(&code[from..], base.clone(), &mut out);
        }
    }
    out
}

/// Reads `a::b::{c, d::e}` at the start of `rest` onto `base`.
fn expand(rest: &str, base: Vec<String>, out: &mut Vec<Vec<String>>) {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        // Split the group's items at top-level commas.
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&group[start..i], base.clone(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&group[start..i], base.clone(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let id = ident_at(rest);
    if id.is_empty() || id == "self" {
        if !base.is_empty() {
            out.push(base);
        }
        return;
    }
    let mut path = base;
    path.push(id.clone());
    let after = rest[id.len()..].trim_start();
    match after.strip_prefix("::") {
        Some(more) => expand(more, path, out),
        None => out.push(path),
    }
}

/// The lines of the crate root that import (a `use`, or any `crate::` path).
fn root_imports(lib: &str) -> Vec<String> {
    code_only(lib)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("use ") || l.starts_with("pub use ") || l.contains("crate::"))
        .map(str::to_string)
        .collect()
}

/// The file that defines the longest module prefix of `path`, if any.
fn file_of(path: &[String], by_module: &BTreeMap<Vec<String>, PathBuf>) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|k| by_module.get(&path[..k]).cloned())
}

#[test]
fn modules_import_only_earlier_layers() {
    let order = layer_order();
    assert!(order.len() >= 10, "lib.rs lists too few modules: {order:?}");
    let rank: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut violations = Vec::new();
    for file in &all {
        let name = file.file_name().expect("a file name");
        if name == "main.rs" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        if name == "lib.rs" && file.parent() == Some(src().as_path()) {
            // The crate root declares the layers and imports nothing: a `use` there would be an
            // arrow from the root (which every layer sees) to the layer it names.
            violations.extend(
                root_imports(&text).into_iter().map(|l| format!("src/lib.rs: the crate root imports `{l}`")),
            );
            continue;
        }
        let module = module_of(file);
        let own = &module[0];
        let own_rank = *rank.get(own.as_str()).unwrap_or_else(|| panic!("{own} is not listed in lib.rs"));
        for path in references(&code_only(&text), &module) {
            let top = &path[0];
            // Every item lives in a module: the crate root holds none to import.
            let Some(&r) = rank.get(top.as_str()) else {
                violations.push(format!(
                    "{}: `crate::{}` is not in a module listed in lib.rs",
                    file.display(),
                    path.join("::")
                ));
                continue;
            };
            if r > own_rank {
                violations.push(format!(
                    "{}: `{own}` (layer {own_rank}) uses `crate::{}` (layer {r}, later in lib.rs)",
                    file.display(),
                    path.join("::")
                ));
            }
        }
    }
    assert!(violations.is_empty(), "imports against the layer order:\n{}", violations.join("\n"));
}

#[test]
fn files_form_no_import_cycle() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    all.retain(|f| f.file_name().is_some_and(|n| n != "main.rs" && n != "lib.rs"));
    let by_module: BTreeMap<Vec<String>, PathBuf> = all.iter().map(|f| (module_of(f), f.clone())).collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &all {
        let module = module_of(file);
        let text = std::fs::read_to_string(file).expect("readable source");
        let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
        let targets = edges.entry(file.clone()).or_default();
        for path in references(&code_only(&text), &module) {
            if let Some(target) = file_of(&path, &by_module) {
                // A module file re-exporting or declaring its own children is not a use of them.
                let child = target.starts_with(file.parent().expect("in a folder")) && is_mod;
                if target != *file && !child {
                    targets.insert(target);
                }
            }
        }
    }
    // Depth-first search for a back edge; report the cycle it closes.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: BTreeMap<&PathBuf, Mark> = edges.keys().map(|k| (k, Mark::New)).collect();
    fn visit<'a>(
        f: &'a PathBuf,
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        mark: &mut BTreeMap<&'a PathBuf, Mark>,
        stack: &mut Vec<&'a PathBuf>,
    ) -> Option<Vec<String>> {
        mark.insert(f, Mark::Open);
        stack.push(f);
        for g in edges.get(f).into_iter().flatten() {
            match mark.get(g).copied().unwrap_or(Mark::Done) {
                Mark::Open => {
                    let i = stack.iter().position(|s| *s == g).expect("open files are on the stack");
                    let mut cycle: Vec<String> = stack[i..].iter().map(|p| p.display().to_string()).collect();
                    cycle.push(g.display().to_string());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(g, edges, mark, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        mark.insert(f, Mark::Done);
        None
    }
    for f in edges.keys() {
        if mark[f] == Mark::New {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(f, &edges, &mut mark, &mut stack) {
                panic!("import cycle:\n  {}", cycle.join("\n  → "));
            }
        }
    }
}

#[test]
fn the_checker_sees_grouped_and_relative_paths() {
    let code = code_only(
        "use crate::{a::b, c::{d, e::f}};\n// crate::z in a comment\nlet s = \"crate::q\";\nuse super::g;\n",
    );
    let refs = references(&code, &["m".to_string(), "n".to_string()]);
    let want: Vec<Vec<String>> = [vec!["a", "b"], vec!["c", "d"], vec!["c", "e", "f"], vec!["m", "g"]]
        .iter()
        .map(|v| v.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(refs, want);
}

#[test]
fn the_checker_sees_imports_in_the_crate_root() {
    let lib = "//! use crate::x in prose\npub mod time;\npub mod commands;\npub use commands::Error;\n";
    assert_eq!(root_imports(lib), vec!["pub use commands::Error;".to_string()]);
    assert!(root_imports("pub mod time;\n// pub use x;\n").is_empty());
}
