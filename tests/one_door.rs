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

/// Names of the store's methods whose body opens a write transaction, and those of them the
/// store makes public outside the crate.
fn store_writes(root: &Path) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut public = Vec::new();
    for (_, text) in rust_files(&root.join("src/store")) {
        // Methods start at four spaces of indentation; a body runs to the next one.
        let mut current: Option<(String, bool)> = None;
        let mut body = String::new();
        let mut finish = |current: &Option<(String, bool)>, body: &str| {
            if let Some((name, is_pub)) = current
                && body.contains("self.write()")
                && !names.contains(name)
            {
                names.push(name.clone());
                if *is_pub {
                    public.push(name.clone());
                }
            }
        };
        for piece in text.split("\n    ") {
            let head = methods_head(piece);
            if let Some(head) = head {
                finish(&current, &body);
                current = Some(head);
                body.clear();
            }
            body.push_str(piece);
        }
        finish(&current, &body);
    }
    (names, public)
}

/// The method a line at method indentation starts, with whether it is `pub` (outside the crate).
fn methods_head(line: &str) -> Option<(String, bool)> {
    let (rest, is_pub) = if let Some(r) = line.strip_prefix("pub fn ") {
        (r, true)
    } else if let Some(r) = line.strip_prefix("pub(crate) fn ") {
        (r, false)
    } else {
        (line.strip_prefix("fn ")?, false)
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    Some((name, is_pub))
}

#[test]
fn the_store_writes_only_for_the_library() {
    let (writes, public) = store_writes(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        writes.len() > 10,
        "the scan found too few writes: {writes:?}"
    );
    assert!(
        public.is_empty(),
        "store writes must be pub(crate), reached through Archive: {public:?}"
    );
}

#[test]
fn no_front_end_writes_to_the_store_directly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (writes, _) = store_writes(root);
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
