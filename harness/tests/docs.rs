//! The README, the guide in docs/ and the changelog hold together: every relative link
//! reaches a file (and a heading, when it names one), every code block says its language
//! (an untagged block would be compiled as Rust by the doc tests, or not checked at all),
//! the README stays a page, and the guide keeps its pages. The Rust blocks themselves
//! run as doc tests (the README's in `spikegrad`, the guide's in `spikegrad-train`), the
//! Python blocks under pytest (`python/tests/test_docs.py`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ is in the root").to_path_buf()
}

/// README.md, CHANGELOG.md and every Markdown page of docs/.
fn pages() -> Vec<PathBuf> {
    let root = root();
    let mut pages = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    let mut guide: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    guide.sort();
    pages.extend(guide);
    pages
}

/// GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped, spaces
/// as '-'.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The lines of `text` outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut inside = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                inside = !inside;
                return false;
            }
            !inside
        })
        .collect()
}

/// The anchors of a page's headings.
fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .into_iter()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| slug(heading.trim_start_matches('#')))
        .collect()
}

/// The targets of the inline links `[text](target)` of a page's prose.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn every_relative_link_reaches_a_file_and_heading() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).expect("a page is readable");
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().expect("a page has a folder").join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", page.display()));
            } else if !anchor.is_empty() {
                let target_text = fs::read_to_string(&target).expect("a linked page is readable");
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{}: {link}: no such heading", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_code_block_names_its_language() {
    let known = ["rust", "sh", "python", "text", "toml", "json"];
    let mut untagged = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).expect("a page is readable");
        let mut inside = false;
        for (number, line) in text.lines().enumerate() {
            let Some(tag) = line.trim_start().strip_prefix("```") else { continue };
            if !inside && !known.contains(&tag.trim()) {
                untagged.push(format!("{}:{}: ```{tag}", page.display(), number + 1));
            }
            inside = !inside;
        }
        assert!(!inside, "{}: a code block is not closed", page.display());
    }
    assert!(untagged.is_empty(), "blocks without a known language:\n{}", untagged.join("\n"));
}

#[test]
fn the_readme_is_a_page_and_the_guide_has_its_pages() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 250, "README.md has {lines} lines: the rest belongs in docs/");
    let guide = [
        "getting-started.md",
        "model.md",
        "training.md",
        "your-data.md",
        "python.md",
        "library.md",
        "benchmarks.md",
        "testing.md",
        "fuzzing.md",
        "formats.md",
    ];
    for page in guide {
        assert!(root().join("docs").join(page).exists(), "docs/{page} is missing");
        assert!(readme.contains(&format!("docs/{page}")), "README.md does not link docs/{page}");
    }
}
