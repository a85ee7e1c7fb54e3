//! The real binary in a real terminal (tmux): start a session, type tagged notes, find them,
//! lose the app to `kill -9` mid-note, and get the draft back. Needs `tmux` (`.ci/run`
//! installs it).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::TestArchive;

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A private tmux server, or None (the test is skipped) where tmux is not installed.
    fn new(name: &str) -> Option<Tmux> {
        common::tool("tmux", "-V", "tmux").then(|| Tmux {
            socket: format!("fieldnotes-test-{name}-{}", std::process::id()),
        })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts the app in a fresh 120x40 terminal.
    fn start(&self, archive: &TestArchive) {
        // exec: the pane's process is the app itself, for `kill -9`.
        self.run(archive, "exec", "");
    }

    /// Runs `fieldnotes --archive DIR ARGS` in a fresh 120x40 terminal.
    fn run(&self, archive: &TestArchive, prefix: &str, args: &str) {
        let bin = assert_cmd::cargo::cargo_bin("fieldnotes");
        let command = format!(
            "{prefix} env NO_COLOR=1 {} --archive {} {args}",
            bin.display(),
            archive.dir.display()
        );
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            "app",
            "-x",
            "120",
            "-y",
            "40",
            &command,
        ]);
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "app", k]);
        }
    }

    /// Esc alone: a key sent right after it would reach the app as Alt+key.
    fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(150));
    }

    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "app", "-l", text]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "app"])
    }

    /// Waits until the screen shows `text`, or fails showing what it has.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "the screen never showed {text:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the app to quit (its tmux session ends with it).
    fn wait_exit(&self) {
        let start = Instant::now();
        while !self.tmux(&["list-sessions"]).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the app did not quit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn app_pid(&self) -> String {
        self.tmux(&["display-message", "-p", "-t", "app", "#{pane_pid}"])
            .trim()
            .to_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

#[test]
fn capture_find_crash_and_restore_in_a_real_terminal() {
    let archive = TestArchive::new();
    let Some(tmux) = Tmux::new("flow") else {
        return;
    };
    tmux.start(&archive);
    tmux.wait_for("No sessions yet");

    // Start a session from the form.
    tmux.keys(&["n"]);
    tmux.wait_for("Start a session");
    tmux.keys(&["Tab"]);
    tmux.type_text("Checkout Q3");
    tmux.keys(&["Tab"]);
    tmux.type_text("Maya");
    tmux.keys(&["Enter"]);
    tmux.wait_for("New observation");

    // A note with @, # and ! tags, saved with Enter.
    tmux.type_text("Waited twelve minutes at the till #checkout !frustrated @busy-parent today");
    tmux.wait_for("tags: #checkout !frustrated @busy-parent");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Saved observation");

    // Find it by a word…
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    tmux.keys(&["C-f"]);
    tmux.wait_for("Search");
    tmux.type_text("twelve");
    tmux.wait_for("1 note ");
    let screen = tmux.wait_for("Waited twelve minutes");
    assert!(
        screen.contains("@busy-parent 1"),
        "facet counts missing:\n{screen}"
    );
    // …and by a tag filter toggled in the tag counts.
    for _ in 0.."twelve".len() {
        tmux.keys(&["BSpace"]);
    }
    tmux.keys(&["Tab", "Tab", "Space"]);
    let screen = tmux.wait_for("Search [@busy-parent]");
    assert!(screen.contains("Waited twelve minutes"), "{screen}");

    // Back to the session; a second note, drafted but never saved.
    tmux.escape();
    tmux.wait_for("New observation");
    tmux.keys(&["Enter"]);
    tmux.wait_for("New observation");
    tmux.type_text("Second thought, not saved yet #self-checkout");
    std::thread::sleep(Duration::from_millis(1800)); // autosave happens within a second
    let pid = tmux.app_pid();
    assert!(!pid.is_empty());
    let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success());
    tmux.tmux(&["kill-server"]);

    // A new start brings the draft back and says so.
    tmux.start(&archive);
    let screen = tmux.wait_for("Restored your unsaved draft");
    assert!(
        screen.contains("Second thought, not saved yet #self-checkout"),
        "{screen}"
    );
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    // q is text here: quitting takes Ctrl+Q, twice while the editor holds a note.
    tmux.keys(&["C-q"]);
    tmux.wait_for("Ctrl+Q again quits");
    tmux.keys(&["C-q"]);
    tmux.wait_exit();

    // Exactly the saved note is in the archive; the draft is still a draft.
    let found = archive.json(&["search"]);
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(
        found["hits"][0]["body"],
        "Waited twelve minutes at the till #checkout !frustrated @busy-parent today"
    );
    assert_eq!(
        found["hits"][0]["tags"]["emotion"],
        serde_json::json!(["frustrated"])
    );
    assert_eq!(archive.count("SELECT count(*) FROM drafts"), 1);
    archive.ok(&["check"]);
}

const VISIT_CARD: &str = r#"
name = "Quick visit"
[[section]]
name = "Visit"
[[section.criterion]]
id = "greeted"
question = "Were you greeted?"
weight = 1
scale = "yes-no"
[[section.criterion]]
id = "queue-time"
question = "How long did you queue?"
weight = 2
scale = "time"
unit = "minutes"
target = 2
limit = 10
evidence = true
[[section.criterion]]
id = "manner"
question = "How friendly was the colleague?"
weight = 1
scale = "0-10"
"#;

#[test]
fn a_mystery_shop_visit_left_half_way_and_finished_later() {
    let archive = TestArchive::new();
    let card = archive.path("card.toml");
    common::write(&card, VISIT_CARD);
    archive.ok(&["scorecard", "import", card.to_str().unwrap()]);
    let Some(tmux) = Tmux::new("visit") else {
        return;
    };
    tmux.start(&archive);
    tmux.wait_for("No sessions yet");

    // A mystery-shop session with the scorecard, from the form.
    tmux.keys(&["n"]);
    tmux.wait_for("Start a session");
    tmux.keys(&["Right", "Right"]);
    tmux.wait_for("mystery-shop ▶");
    tmux.keys(&["Tab"]);
    tmux.type_text("Store visits");
    tmux.keys(&["Tab", "Tab", "Tab"]);
    tmux.type_text("Old Town");
    tmux.wait_for("Quick visit");
    tmux.keys(&["Enter"]);
    tmux.wait_for("0/3 answered");

    // Two answers, one with a note beside it.
    tmux.type_text("yes");
    tmux.keys(&["Enter"]);
    tmux.wait_for("1/3 answered");
    tmux.type_text("6");
    tmux.keys(&["Tab"]);
    tmux.type_text("Queue of six, one till open #checkout");
    tmux.keys(&["Enter"]);
    tmux.wait_for("2/3 answered");

    // Leave in the middle.
    tmux.escape();
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["q"]);
    tmux.wait_exit();

    // Reopen: the visit resumes at the criterion still open.
    tmux.start(&archive);
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("2/3 answered");
    assert!(
        screen.contains("How friendly was the colleague?"),
        "{screen}"
    );
    tmux.type_text("8");
    tmux.keys(&["Enter"]);
    tmux.wait_for("3/3 answered");
    tmux.escape();
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["q"]);
    tmux.wait_exit();

    // greeted 100 × 1, queue 6 min = 50 × 2, manner 80 × 1 → 70.
    let report = archive.json(&["visits"]);
    assert_eq!(report["visits"], 1);
    let mean = report["groups"][0]["mean"].as_f64().unwrap();
    assert!((mean - 70.0).abs() < 1e-6, "{report}");
    assert_eq!(report["groups"][0]["group"], "Old Town");
    assert_eq!(archive.json(&["search", "till"])["total"], 1);
}

#[test]
fn a_large_import_shows_its_progress_in_a_terminal() {
    let archive = TestArchive::new();
    let csv = archive.path("survey.csv");
    let mut text = String::from("text,persona\n");
    for i in 0..80_000 {
        text.push_str(&format!(
            "Answer {i}: the queue at the till was long again today,student\n"
        ));
    }
    common::write(&csv, text);
    let Some(tmux) = Tmux::new("progress") else {
        return;
    };
    // The shell stays so the last screen can be read.
    tmux.run(&archive, "", &format!("import {}; sleep 30", csv.display()));
    let screen = tmux.wait_for("imported 80000 notes");
    assert!(
        screen.contains("reading… 100% (5.2 of 5.2 MB)\n"),
        "{screen}"
    );
    assert!(screen.contains("indexing… 80000 notes\n"), "{screen}");
}
