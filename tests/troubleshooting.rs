//! Every diagnostic summary the provider can emit has an entry (cause and fix) in
//! the troubleshooting guide, and every entry there is a summary the code emits.
//!
//! Summaries are found in the source: the first argument of `Diagnostics::error`,
//! `add_error`, `add_warning`, `warnings.add` and the `refuse` helper, the second of
//! the `_at` forms (after the path), the third of `read_stored`; a literal or a
//! `format!` string, whose `{name}` placeholders the guide writes as `<name>`.
//! Summaries built another way are listed in `BUILT_ELSEWHERE`.

use std::collections::BTreeSet;
use std::path::Path;

mod source;

/// Calls that take a summary, and which argument (0-based) it is.
const SUMMARY_CALLS: &[(&str, usize)] = &[
    ("Diagnostics::error(", 0),
    ("Diagnostics::error_at(", 1),
    (".add_error(", 0),
    (".add_error_at(", 1),
    (".add_warning(", 0),
    (".add_warning_at(", 1),
    ("warnings.add(", 0),
    ("refuse(", 0),
    ("read_stored(", 2),
];

/// Summaries not passed to one of the calls above (the IAM error mapping).
const BUILT_ELSEWHERE: &[&str] = &["IAM <operation> failed (<code>)", "IAM <operation> failed", "Operation cancelled"];

/// The arguments of the call whose opening parenthesis ends `text[..start]`, split at
/// top-level commas (strings and nesting respected).
fn arguments(text: &str) -> Vec<&str> {
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0);
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') => in_string = false,
            (true, _) => {}
            (false, '"') => in_string = true,
            (false, '(' | '[' | '{') => depth += 1,
            (false, ')' | ']' | '}') if depth == 0 => {
                out.push(text[start..i].trim());
                return out;
            }
            (false, ')' | ']' | '}') => depth -= 1,
            (false, ',') if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// A summary argument as the guide writes it: literal text, `{name}` as `<name>`.
fn summary(argument: &str) -> Option<String> {
    let literal = argument.strip_prefix("format!(").unwrap_or(argument);
    let literal = literal.strip_prefix('"')?;
    let literal = &literal[..literal.find("\",").or_else(|| literal.rfind('"'))?];
    let mut text = literal.replace("\\\"", "\"");
    while let (Some(open), Some(close)) = (text.find('{'), text.find('}')) {
        text.replace_range(open..=close, &format!("<{}>", &text[open + 1..close]));
    }
    Some(text)
}

fn emitted() -> BTreeSet<String> {
    let files = source::files().into_iter().filter(|(path, _)| !path.ends_with("tests.rs") && !path.ends_with("testing.rs"));
    // Unit tests at the end of a file emit nothing.
    let files: Vec<String> = files.map(|(_, text)| text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default().to_string()).collect();
    let mut found: BTreeSet<String> = BUILT_ELSEWHERE.iter().map(|s| s.to_string()).collect();
    for text in &files {
        for (call, index) in SUMMARY_CALLS {
            for (at, _) in text.match_indices(call) {
                if text[..at].ends_with("fn ") || text[..at].trim_end().ends_with("fn") {
                    continue; // the helper's own definition
                }
                if let Some(summary) = arguments(&text[at + call.len()..]).get(*index).and_then(|a| summary(a)) {
                    found.insert(summary);
                }
            }
        }
    }
    found
}

fn documented() -> BTreeSet<String> {
    let guide = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/guides/troubleshooting.md")).unwrap();
    guide.lines().filter_map(|l| l.strip_prefix("### ")).map(|h| h.trim_matches('`').to_string()).collect()
}

#[test]
fn every_diagnostic_has_a_troubleshooting_entry_and_every_entry_a_diagnostic() {
    let (emitted, documented) = (emitted(), documented());
    assert!(emitted.len() > 40 && emitted.contains("Access key quota would be exceeded"), "the scan reads the source: {emitted:?}");
    let missing: Vec<_> = emitted.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&emitted).collect();
    assert!(missing.is_empty(), "diagnostics without an entry in templates/guides/troubleshooting.md: {missing:#?}");
    assert!(stale.is_empty(), "entries for diagnostics the code no longer emits: {stale:#?}");
}
