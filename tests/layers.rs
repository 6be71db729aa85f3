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
    for module in ["value", "secret", "testhooks", "framework", "protocol", "host", "aws", "crypto", "functions", "resources", "provider"] {
        let used = uses.get(module).unwrap_or_else(|| panic!("no module {module} in src/"));
        for name in used.iter().filter(|name| !allowed[module].contains(&name.as_str())) {
            violations.push(format!("{module} -> {name}"));
        }
    }
    assert!(violations.is_empty(), "imports against the layer rule: {violations:?}");
    assert!(uses["protocol"].contains("framework") && uses["resources"].contains("framework"), "the check reads the source");
}
