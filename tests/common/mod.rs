//! Helpers for running the real `fieldnotes` binary on a temporary archive.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A mystery-shopping scorecard template: yes/no, timed (with evidence) and 1-5 criteria.
pub const STORE_VISIT_CARD: &str = r#"
name = "Store visit"

[[section]]
name = "Welcome"

[[section.criterion]]
id = "greeted"
question = "Were you greeted?"
weight = 1
scale = "yes-no"

[[section.criterion]]
id = "wait-before-greeting"
question = "How long before you were greeted?"
weight = 2
scale = "time"
unit = "seconds"
target = 60
limit = 300
evidence = true

[[section]]
name = "Help"

[[section.criterion]]
id = "knowledge"
question = "How well did they know the product?"
weight = 1
scale = "1-5"
na = true
"#;

pub struct TestArchive {
    pub tmp: TempDir,
    pub dir: PathBuf,
    /// Environment every command run here gets (a passphrase, a temporary folder).
    env: Vec<(String, PathBuf)>,
}

impl TestArchive {
    pub fn new() -> TestArchive {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("archive");
        TestArchive {
            tmp,
            dir,
            env: Vec::new(),
        }
    }

    /// The same archive, its commands run with `key` set to `value`.
    pub fn with_env(mut self, key: &str, value: impl Into<PathBuf>) -> TestArchive {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// A `fieldnotes` command on this archive, with no color and no inherited archive.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("fieldnotes").expect("binary builds");
        cmd.env_remove("FIELDNOTES_ARCHIVE")
            .env_remove("FIELDNOTES_CONFIG")
            .env_remove("FIELDNOTES_DRAFT_INTERVAL_MS")
            .env_remove("FIELDNOTES_CODER")
            .env("XDG_CONFIG_HOME", self.config_dir())
            .env("NO_COLOR", "1")
            .env("FIELDNOTES_LOG_DIR", self.log_dir())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("--archive")
            .arg(&self.dir);
        cmd
    }

    /// The platform config folder the commands run here see (empty unless a test writes
    /// `fieldnotes/config.toml` into it), so a developer's own settings never leak in.
    pub fn config_dir(&self) -> PathBuf {
        self.tmp.path().join("config")
    }

    /// Where the commands run here write their log.
    pub fn log_dir(&self) -> PathBuf {
        self.tmp.path().join("logs")
    }

    /// Everything the log files hold.
    pub fn log(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.log_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
        text
    }

    /// The same as a plain `std::process::Command`, for spawning and killing.
    pub fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("fieldnotes"));
        cmd.env_remove("FIELDNOTES_ARCHIVE")
            .env_remove("FIELDNOTES_CONFIG")
            .env_remove("FIELDNOTES_DRAFT_INTERVAL_MS")
            .env_remove("FIELDNOTES_CODER")
            .env("XDG_CONFIG_HOME", self.config_dir())
            .env("NO_COLOR", "1")
            .env("FIELDNOTES_LOG_DIR", self.log_dir())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("--archive")
            .arg(&self.dir);
        cmd
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("runs");
        assert!(
            out.status.success(),
            "fieldnotes {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs with `--json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let text = self.ok(&all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{args:?} printed bad JSON ({e}): {text}"))
    }

    /// Runs and expects failure; returns the whole output.
    pub fn fails(&self, args: &[&str]) -> Output {
        let out = self.cmd().args(args).output().expect("runs");
        assert!(
            !out.status.success(),
            "fieldnotes {args:?} should have failed"
        );
        out
    }

    pub fn start_session(&self) -> String {
        self.ok(&[
            "session",
            "start",
            "--kind",
            "interview",
            "--study",
            "Checkout Q3",
            "--participant",
            "Maya",
        ])
        .trim()
        .to_owned()
    }

    /// Starts an interview session with these options (`--study` among them); returns its id.
    pub fn session(&self, options: &[&str]) -> String {
        let mut all = vec!["session", "start", "--kind", "interview"];
        all.extend_from_slice(options);
        self.ok(&all).trim().to_owned()
    }

    pub fn add(&self, args: &[&str]) -> String {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        self.ok(&all).trim().to_owned()
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.join("fieldnotes.db")).expect("db opens")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .expect("count query")
    }

    /// Ids of the search hits, in order.
    pub fn hit_ids(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--limit", "1000"]);
        self.json(&all)["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["id"].as_str().expect("id").to_owned())
            .collect()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

pub fn write(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::write(path, content).expect("write test file");
}

/// Whether an external tool the test needs is on this machine. Without it the test says
/// "skipped: install …" and passes, so `cargo test` works with only Rust; under
/// `FIELDNOTES_REQUIRE_TOOLS=1` (what `.ci/run` sets) a missing tool fails the test instead.
pub fn tool(name: &str, version_arg: &str, package: &str) -> bool {
    let found = std::process::Command::new(name)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let required = std::env::var("FIELDNOTES_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{name} is required here (FIELDNOTES_REQUIRE_TOOLS=1): apt-get install {package}"
    );
    eprintln!("skipped: install {name} (apt-get install {package}) to run this check");
    false
}
pub mod pg;

/// `text` with the export's own ids and stamps (ULIDs, GUIDs, clock stamps, times) replaced
/// by `#`: they are letters and digits at random, so a leak check that read them would find a
/// "0161" or a "jean" in one now and then.
pub fn without_ids(text: &str) -> String {
    static IDS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        regex::Regex::new(concat!(
            r"\b\d{13}-\d{6}-[0-9A-Z]{26}\b",
            r"|\b[0-9A-Z]{26}\b",
            r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?",
        ))
        .expect("the pattern compiles")
    })
    .replace_all(text, "#")
    .into_owned()
}
