//! The front ends write through `Archive`, never straight to the store: a write that skips
//! the index (or a multi-step operation's transaction) should not be possible from the CLI or
//! the app. Store methods that open a write transaction are found in `src/store` itself, so a
//! new write is covered without editing this test.

use std::path::Path;

fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    files
}

/// Names of the store's public methods whose body opens a write transaction.
fn store_writes(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for (_, text) in rust_files(&root.join("src/store")) {
        for piece in text.split("pub fn ").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The body runs to the next method; what opens a write is `self.write()`.
            let body = piece.split("\n    pub fn ").next().unwrap_or(piece);
            let body = body.split("\n    fn ").next().unwrap_or(body);
            if body.contains("self.write()") && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn no_front_end_writes_to_the_store_directly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let writes = store_writes(root);
    assert!(
        writes.iter().any(|w| w == "save_draft") && writes.iter().any(|w| w == "end_session"),
        "the scan of src/store found no writes: {writes:?}"
    );
    let mut found = Vec::new();
    for dir in ["src/cli", "src/tui"] {
        for (path, text) in rust_files(&root.join(dir)) {
            let flat: String = text.split_whitespace().collect();
            for w in &writes {
                if flat.contains(&format!("store().{w}(")) {
                    found.push(format!("{path}: store().{w}(…)"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "front ends must write through Archive:\n{}",
        found.join("\n")
    );
}
