//! Every repository path the project's own text cites (comments in the source,
//! scripts, design notes, templates, configuration) exists, so a move or a rename
//! cannot leave a note pointing nowhere. A path of another repository is written
//! `owner/repo:path` and is not checked; `*`, `<name>` and folders ending in `/` are
//! patterns, not paths.

use std::path::Path;
use std::process::Command;

/// Where cited paths start.
const ROOTS: &[&str] = &["src/", "tests/", "scripts/", "design/", "docs/", "examples/", "templates/", "benches/", "proto/", ".cargo/", ".ci/"];

/// The repository paths cited in `text`.
fn cited(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for root in ROOTS {
        for (at, _) in text.match_indices(root) {
            // Part of a longer path, a URL, or another repository's path: not ours.
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || "/.-_:".contains(c)) {
                continue;
            }
            let path: String = text[at..].chars().take_while(|c| c.is_alphanumeric() || "/._-*<>".contains(*c)).collect();
            let path = path.trim_end_matches(['.', '-']);
            if !path.contains(['*', '<']) && !path.ends_with('/') && path.len() > root.len() {
                found.push(path.to_string());
            }
        }
    }
    found
}

#[test]
fn every_cited_repository_path_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = Command::new("git").args(["ls-files"]).current_dir(root).output().expect("git ls-files");
    assert!(listed.status.success(), "the check reads the repository's files with git");
    let files: Vec<String> = String::from_utf8(listed.stdout).unwrap().lines().map(str::to_string).collect();
    let text_files = files.iter().filter(|f| {
        // docs/ is generated from templates/ (checked there); tests build paths of their own.
        let generated_or_fixture = f.starts_with("docs/") || f.starts_with("tests/");
        !generated_or_fixture && [".rs", ".sh", ".md", ".toml", ".py", ".tmpl", ".tf", ".hcl"].iter().any(|x| f.ends_with(x))
    });
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in text_files {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        // A unit test module's fixture paths are not citations.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for path in cited(text) {
            checked += 1;
            if !root.join(&path).exists() {
                missing.push(format!("{file}: {path}"));
            }
        }
    }
    assert!(checked > 50, "the check finds citations ({checked})");
    assert!(missing.is_empty(), "paths cited but not in the repository:\n{}", missing.join("\n"));
}

#[test]
fn citations_are_found_and_other_repositories_paths_are_not() {
    assert_eq!(cited("see `src/aws/iam.rs`, and scripts/test.sh."), ["src/aws/iam.rs", "scripts/test.sh"]);
    assert!(cited("hashicorp/terraform:docs/plugin-protocol/tfplugin6.proto").is_empty());
    assert!(cited("https://example.com/src/x.rs and examples/<name>/ and src/*.rs").is_empty());
}
