//! The layer rule of `src/lib.rs`, checked on the source: each module uses only
//! the modules below it (A → B: a `crate::B` path appears in A's files).

use std::collections::{BTreeMap, BTreeSet};

mod source;

/// Which modules each module may use (besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("value", &[]),
    ("secret", &[]),
    ("testhooks", &[]),
    ("framework", &["value", "testhooks"]),
    ("protocol", &["framework", "value", "testhooks"]),
    ("host", &["protocol"]),
    ("aws", &["secret", "testhooks"]),
    ("crypto", &["secret"]),
    ("functions", &["framework", "crypto", "value", "secret"]),
    ("resources", &["framework", "aws", "crypto", "value", "secret", "testhooks"]),
    ("provider", &["framework", "resources", "functions", "aws", "value", "secret", "testhooks"]),
    // The docs generator (run by the iamkey-docs binary) renders the provider's schemas.
    ("docs", &["framework", "provider", "value"]),
];

/// The modules each top-level module uses, from its `crate::NAME` paths.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in source::files() {
        let module = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        let used = uses.entry(module.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let name: String = text[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if !name.is_empty() && name != module {
                used.insert(name);
            }
        }
    }
    uses
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let uses = uses();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut violations = Vec::new();
    for &(module, _) in ALLOWED {
        let used = uses.get(module).unwrap_or_else(|| panic!("no module {module} in src/"));
        for name in used.iter().filter(|name| !allowed[module].contains(&name.as_str())) {
            violations.push(format!("{module} -> {name}"));
        }
    }
    assert!(violations.is_empty(), "imports against the layer rule: {violations:?}");
    assert!(uses["protocol"].contains("framework") && uses["resources"].contains("framework"), "the check reads the source");
}

/// The attribute names the types declare with `fields!` (identifiers in
/// `fields! { ... mod NAME { a, b, c } }`).
fn declared_attribute_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (_, text) in source::files() {
        for (at, _) in text.match_indices("fields! {") {
            let block = &text[at..];
            let list = &block[block.find(" mod ").unwrap()..];
            let list = &list[list.find('{').unwrap() + 1..list.find('}').unwrap()];
            names.extend(list.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
        }
    }
    names
}

/// A type reads and writes its attributes through its `fields!` accessors, so a
/// misspelled name does not compile: outside the declarations (and unit tests,
/// which build values by name), no string literal in src/resources is an
/// attribute name.
#[test]
fn resources_name_attributes_only_through_their_fields() {
    let names = declared_attribute_names();
    assert!(names.contains("user") && names.contains("secret_destination") && names.contains("ttl_minutes"), "{names:?}");
    let mut found = Vec::new();
    for (relative, text) in source::files() {
        if !relative.starts_with("resources") || relative.ends_with("tests.rs") {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            // The odd pieces between quotes are the literals (no escaped quote is a name).
            let literals = line.split('"').skip(1).step_by(2);
            found.extend(literals.filter(|l| names.contains(*l)).map(|l| format!("{}:{}: \"{l}\"", relative.display(), number + 1)));
        }
    }
    assert!(found.is_empty(), "attribute names as strings, not fields:\n{}", found.join("\n"));
}
