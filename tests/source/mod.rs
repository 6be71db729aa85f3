//! The crate's own source, for the tests that check rules on it (layers,
//! troubleshooting entries).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`: its path relative to `src/`, and its text.
pub fn files() -> Vec<(PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    walk(&src, &src, &mut found);
    found
}

fn walk(src: &Path, dir: &Path, found: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            walk(src, &path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push((path.strip_prefix(src).unwrap().to_path_buf(), std::fs::read_to_string(&path).unwrap()));
        }
    }
}
