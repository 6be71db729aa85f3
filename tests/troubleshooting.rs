//! Every diagnostic summary the provider can emit has an entry (cause and fix) in
//! the troubleshooting guide, and every entry there is a summary the code emits.
//!
//! The summaries are the declarations of `src/value/summary.rs`: a diagnostic
//! cannot be made with any other (the summary argument is a declared `Summary`,
//! not a string). A `{name}` part is written `<name>` in the guide.

use std::collections::BTreeSet;
use std::path::Path;

fn declared() -> BTreeSet<String> {
    iamkey::value::summary::ALL.iter().map(|s| s.template().replace('{', "<").replace('}', ">")).collect()
}

fn documented() -> BTreeSet<String> {
    let guide = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/guides/troubleshooting.md")).unwrap();
    guide.lines().filter_map(|l| l.strip_prefix("### ")).map(|h| h.trim_matches('`').to_string()).collect()
}

#[test]
fn every_diagnostic_has_a_troubleshooting_entry_and_every_entry_a_diagnostic() {
    let (declared, documented) = (declared(), documented());
    assert!(declared.len() > 40 && declared.contains("Access key quota would be exceeded"), "{declared:?}");
    let missing: Vec<_> = declared.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&declared).collect();
    assert!(missing.is_empty(), "diagnostics without an entry in templates/guides/troubleshooting.md: {missing:#?}");
    assert!(stale.is_empty(), "entries for diagnostics the code no longer emits: {stale:#?}");
}

#[test]
fn every_declared_summary_is_emitted_somewhere() {
    // A declaration no code names is an entry for a diagnostic that cannot happen.
    let mut source = String::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            match path.is_dir() {
                true => stack.push(path),
                false if path.ends_with("summary.rs") => {}
                false => source.push_str(&std::fs::read_to_string(&path).unwrap()),
            }
        }
    }
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/value/summary.rs")).unwrap();
    let names: Vec<&str> = text.lines().filter_map(|l| l.trim().split_once(" = \"").map(|(name, _)| name)).collect();
    assert_eq!(names.len(), iamkey::value::summary::ALL.len(), "every declaration is read");
    let unused: Vec<_> = names.iter().filter(|n| !source.contains(&format!("summary::{n}"))).collect();
    assert!(unused.is_empty(), "declared but never emitted: {unused:?}");
}
