//! The documents a newcomer reads: the README stays short (what it is, the two set-up commands,
//! one worked example, the commands, links), and every relative link in it and in docs/ points
//! to a file of the repository.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The most lines the README may have; the rest belongs in docs/.
const README_LINES: usize = 300;

#[test]
fn the_readme_stays_short() {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md is readable");
    let lines = text.lines().count();
    assert!(
        lines <= README_LINES,
        "README.md has {lines} lines; move detail to docs/ (at most {README_LINES})"
    );
}

/// The targets of Markdown links and images `](target)` in `text`, without any `#anchor`;
/// web addresses and pure anchors are left out.
fn relative_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            out.push(target.to_string());
        }
        rest = &rest[end..];
    }
    out
}

#[test]
fn every_relative_link_in_the_documents_resolves() {
    let mut docs: Vec<PathBuf> = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/ is readable") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    let mut broken = Vec::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).expect("readable");
        let dir = doc.parent().unwrap_or(Path::new("."));
        for target in relative_links(&text) {
            if !dir.join(&target).exists() {
                broken.push(format!("{}: {target}", doc.display()));
            }
        }
    }
    assert!(docs.len() > 5, "docs/ holds the documentation");
    assert!(broken.is_empty(), "links to files that do not exist:\n{}", broken.join("\n"));
}

#[test]
fn the_link_reader_sees_links_and_images_but_not_addresses() {
    let text = "see [a](docs/a.md#x), ![p](results/p.svg), [web](https://x.org/y) and [top](#top)";
    assert_eq!(relative_links(text), vec!["docs/a.md".to_string(), "results/p.svg".to_string()]);
}
