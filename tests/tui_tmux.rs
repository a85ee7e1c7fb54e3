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
    fn new(name: &str) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "tmux is needed for this test (apt-get install tmux)"
        );
        Tmux {
            socket: format!("fieldnotes-test-{name}-{}", std::process::id()),
        }
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
        let bin = assert_cmd::cargo::cargo_bin("fieldnotes");
        let command = format!(
            "exec env NO_COLOR=1 {} --archive {}",
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
    let tmux = Tmux::new("flow");
    tmux.start(&archive);
    tmux.wait_for("No sessions yet");

    // Start a session from the form.
    tmux.keys(&["n"]);
    tmux.wait_for("Start a session");
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
    tmux.keys(&["Escape", "/"]);
    tmux.wait_for("Search");
    tmux.type_text("twelve");
    tmux.wait_for("1 notes");
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
    tmux.keys(&["Escape", "i"]);
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
    tmux.keys(&["Escape", "q"]);
    let start = Instant::now();
    while !tmux.tmux(&["list-sessions"]).is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }

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
