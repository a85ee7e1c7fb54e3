//! The real binary in a real terminal (tmux): start a session, type tagged notes, find them,
//! lose the app to `kill -9` mid-note, and get the draft back. Needs `tmux` (`.ci/run`
//! installs it).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::TestArchive;

struct Tmux {
    name: String,
    /// Which server this is: each stop moves on to a fresh one, so a restarted app never
    /// lands on a server that is still shutting down (and would take the app with it).
    generation: std::cell::Cell<u32>,
}

impl Tmux {
    /// A private tmux server, or None (the test is skipped) where tmux is not installed.
    fn new(name: &str) -> Option<Tmux> {
        common::tool("tmux", "-V", "tmux").then(|| Tmux {
            name: format!("fieldnotes-test-{name}-{}", std::process::id()),
            generation: std::cell::Cell::new(0),
        })
    }

    fn socket(&self) -> String {
        format!("{}-{}", self.name, self.generation.get())
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(self.socket())
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
        self.run_with(archive, prefix, "", args);
    }

    /// The same, with more environment (`NAME=value …`) for the app.
    fn run_with(&self, archive: &TestArchive, prefix: &str, env: &str, args: &str) {
        let bin = assert_cmd::cargo::cargo_bin("fieldnotes");
        let command = format!(
            "{prefix} env -u FIELDNOTES_CONFIG NO_COLOR=1 FIELDNOTES_LOG_DIR={} XDG_CONFIG_HOME={} {env} {} --archive {} {args}",
            archive.log_dir().display(),
            archive.config_dir().display(),
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
        // A server with no session left may still be going away: the next start on its
        // socket could find it and show nothing (seen under load). A new socket cannot.
        self.stop_server();
    }

    /// From the session list the app starts on, into the newest session's editor.
    fn open_newest_session(&self) {
        // The list's frame is drawn before its rows arrive: wait for a row (its start date at
        // the frame's edge), or Enter finds nothing to open.
        self.wait_for("Sessions, newest first");
        self.wait_for("┃20");
        self.keys(&["Enter"]);
        self.wait_for("New observation");
    }

    /// `kill -9` on the app, as a crash or a dead battery would stop it.
    fn kill_app(&self) {
        let pid = self.app_pid();
        assert!(!pid.is_empty());
        let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
        assert!(killed.success());
        self.stop_server();
    }

    /// Stops this test's tmux server; the next command starts a fresh one on a new socket
    /// (waiting for the old one to go was not enough: it could still take the app with it).
    fn stop_server(&self) {
        self.tmux(&["kill-server"]);
        self.generation.set(self.generation.get() + 1);
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
            .args(["-L", &self.socket(), "kill-server"])
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
    // The draft is written within a second: wait for it in the database, not for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(15);
    while archive.count("SELECT count(*) FROM drafts WHERE body LIKE '%not saved yet%'") == 0 {
        assert!(Instant::now() < deadline, "no draft was written");
        std::thread::sleep(Duration::from_millis(50));
    }
    tmux.kill_app();

    // A new start brings the draft back and says so.
    tmux.start(&archive);
    let screen = tmux.wait_for("Draft restored");
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

/// An archive with one open interview holding notes tagged `#checkout` and `#self-checkout`.
fn archive_with_checkout_tags() -> TestArchive {
    let archive = TestArchive::new();
    archive.start_session();
    archive.add(&["Long queue at the staffed tills #checkout"]);
    archive.add(&["Scanner shouted 'unexpected item' #self-checkout"]);
    archive
}

/// Every note the archive holds, by id, as `export` writes it (body, kind, tags, trash).
fn notes_by_id(archive: &TestArchive) -> std::collections::BTreeMap<String, serde_json::Value> {
    archive
        .ok(&["export"])
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["body"].is_string())
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v))
        .collect()
}

/// Finding 1: a tag typed in full is saved as typed, even while the list offers a longer one.
#[test]
fn a_tag_typed_in_full_is_saved_as_typed() {
    let archive = archive_with_checkout_tags();
    let Some(tmux) = Tmux::new("exact") else {
        return;
    };
    tmux.start(&archive);
    tmux.open_newest_session();
    tmux.type_text("Queued again at #checkout");
    // The list is open, the exact tag first and the longer one after it.
    let screen = tmux.wait_for("Tab takes");
    let list = screen.find("Tab takes").unwrap();
    let (exact, longer) = (
        screen[list..].find("#checkout"),
        screen[list..].find("#self-checkout"),
    );
    assert!(exact.is_some() && exact < longer, "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Saved observation");
    let found = archive.json(&["search", "again"]);
    assert_eq!(
        found["hits"][0]["body"], "Queued again at #checkout",
        "{found}"
    );
    // Tab, by contrast, takes a completion.
    tmux.type_text("Scanner again #self");
    tmux.wait_for("Tab takes");
    tmux.keys(&["Tab"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Scanner again #self-checkout");
    tmux.keys(&["C-q"]);
    tmux.wait_exit();
    let found = archive.json(&["search", "scanner again"]);
    // The completion leaves a space after the tag, as if it had been typed.
    assert_eq!(
        found["hits"][0]["body"], "Scanner again #self-checkout ",
        "{found}"
    );
}

/// Finding 2: after a stray Esc, ordinary typing (including t, e, d, u, r and q) changes no
/// stored note: the words go on in the editor.
#[test]
fn letters_after_a_stray_escape_change_no_stored_note() {
    let archive = archive_with_checkout_tags();
    let before = notes_by_id(&archive);
    let Some(tmux) = Tmux::new("stray") else {
        return;
    };
    tmux.start(&archive);
    tmux.open_newest_session();
    tmux.type_text("She said the ");
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    tmux.type_text("tedious queue drove her out; every time, quietly, she reruns it");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Saved observation");
    tmux.keys(&["C-q"]);
    tmux.wait_exit();

    let after = notes_by_id(&archive);
    for (id, note) in &before {
        assert_eq!(after.get(id), Some(note), "note {id} changed");
    }
    let new: Vec<&serde_json::Value> = after
        .iter()
        .filter(|(id, _)| !before.contains_key(*id))
        .map(|(_, n)| n)
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        new[0]["body"],
        "She said the tedious queue drove her out; every time, quietly, she reruns it"
    );
}

/// Finding 3: five seconds of steady typing, then `kill -9`: the draft holds all but (at
/// most) the last second of it.
#[test]
fn steady_typing_is_drafted_within_a_second() {
    let archive = archive_with_checkout_tags();
    let Some(tmux) = Tmux::new("steady") else {
        return;
    };
    tmux.start(&archive);
    tmux.open_newest_session();
    let start = Instant::now();
    let mut typed = String::new();
    // What had been typed a second before the end: the draft must hold at least that.
    let mut a_second_before_the_end = String::new();
    let mut word = 0;
    while start.elapsed() < Duration::from_secs(5) {
        let w = format!("word{word} ");
        tmux.type_text(&w);
        typed.push_str(&w);
        word += 1;
        if start.elapsed() <= Duration::from_secs(4) {
            a_second_before_the_end = typed.clone();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux.kill_app();
    let draft: String = archive
        .db()
        .query_row("SELECT body FROM drafts WHERE note_id = ''", [], |r| {
            r.get(0)
        })
        .expect("a draft was written while typing");
    assert!(
        draft.starts_with(a_second_before_the_end.trim_end()),
        "the draft lost more than a second of typing:\n  typed by then: {a_second_before_the_end}\n  draft: {draft}"
    );
    // And the next start brings it back, saying it is a new note's draft.
    tmux.start(&archive);
    let screen = tmux.wait_for("Draft restored (a new note");
    assert!(screen.contains("word0 word1"), "{screen}");
}

/// Finding 4: Esc leaves search after a trip to the themes and back, and a reopened search
/// starts from the old query selected, so typing replaces it.
#[test]
fn search_after_themes_and_reopened() {
    let archive = archive_with_checkout_tags();
    let Some(tmux) = Tmux::new("search") else {
        return;
    };
    tmux.start(&archive);
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["/"]);
    tmux.wait_for("Search");
    tmux.type_text("queue");
    tmux.wait_for("1 note ");
    tmux.keys(&["F3"]);
    tmux.wait_for("Contrast by persona");
    tmux.escape();
    tmux.wait_for("1 note ");
    tmux.escape();
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["/"]);
    tmux.wait_for("Search");
    tmux.type_text("scanner");
    // Not "1 note ": the themes' status ("… over 1 note (…") may still be on screen before
    // the typing is.
    tmux.wait_for("┃scanner");
    let screen = tmux.wait_for(" 1 note ·");
    assert!(screen.contains("┃scanner"), "{screen}");
    assert!(!screen.contains("queuescanner"), "{screen}");
}

/// Finding 5: F2 goes from a visit's scorecard to the session's notes, and F2 there comes back.
#[test]
fn f2_goes_to_the_notes_and_back_in_a_visit() {
    let archive = TestArchive::new();
    let card = archive.path("card.toml");
    common::write(&card, VISIT_CARD);
    archive.ok(&["scorecard", "import", card.to_str().unwrap()]);
    archive.ok(&[
        "session",
        "start",
        "--kind",
        "mystery-shop",
        "--study",
        "Store visits",
        "--location",
        "Old Town",
        "--scorecard",
        "Quick visit",
    ]);
    let Some(tmux) = Tmux::new("f2") else {
        return;
    };
    tmux.start(&archive);
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["Enter"]);
    tmux.wait_for("0/3 answered");
    tmux.keys(&["F2"]);
    tmux.wait_for("New observation");
    tmux.keys(&["F2"]);
    tmux.wait_for("0/3 answered");
    // From the note list too.
    tmux.keys(&["F2"]);
    tmux.wait_for("New observation");
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    tmux.keys(&["F2"]);
    tmux.wait_for("Were you greeted?");
}

/// What a researcher reaches for within the first hour: $EDITOR, tags without retyping, the
/// clipboard, undo, the trash view, consent in the participants view, export of the session.
#[test]
fn editor_tags_clipboard_trash_consent_and_export_from_the_app() {
    let Some(tmux) = Tmux::new("extras") else {
        return;
    };
    let archive = archive_with_checkout_tags();
    // An "editor" that appends to the file it is given, as a person would.
    let editor = archive.path("editor.sh");
    common::write(&editor, "#!/bin/sh\nprintf ' (checked later)' >> \"$1\"\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o700)).unwrap();
    tmux.run_with(
        &archive,
        "exec",
        &format!("EDITOR={}", editor.display()),
        "",
    );
    tmux.tmux(&["set", "-g", "set-clipboard", "on"]);
    tmux.open_newest_session();
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    // The newest note is selected: the scanner one.
    tmux.keys(&["C-o"]);
    tmux.wait_for("(checked later)");
    tmux.keys(&["C-g"]);
    tmux.wait_for("The note's tags");
    tmux.keys(&["End"]);
    tmux.type_text(" =scanner-error");
    tmux.keys(&["Enter"]);
    tmux.wait_for("=scanner-error");
    // The screen shows the tag as typed before the save lands: wait for the archive.
    let want = "Scanner shouted 'unexpected item' #self-checkout (checked later) =scanner-error";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let found = loop {
        let found = archive.json(&["search", "=scanner-error"]);
        if found["hits"][0]["body"] == want || std::time::Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(found["hits"][0]["body"], want);
    // Copy it: tmux keeps what the app sent in its paste buffer.
    tmux.keys(&["C-y"]);
    tmux.wait_for("Copied the note");
    let copied = tmux.tmux(&["show-buffer"]);
    assert!(
        copied.contains("(checked later) =scanner-error"),
        "{copied:?}"
    );
    // Undo twice: the tags, then the editor's change.
    tmux.keys(&["C-z"]);
    tmux.keys(&["C-z"]);
    let body = || {
        archive.json(&["search", "unexpected"])["hits"][0]["body"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while body() != "Scanner shouted 'unexpected item' #self-checkout" {
        assert!(
            Instant::now() < deadline,
            "undo did not go back: {}",
            body()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Trash it, and bring it back from the trash view.
    tmux.keys(&["C-d"]);
    tmux.wait_for("Moved the note to the trash");
    tmux.escape();
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["x"]);
    tmux.wait_for("Trash (1)");
    tmux.keys(&["C-z"]);
    tmux.wait_for("Trash (0)");
    assert_eq!(archive.json(&["search", "unexpected"])["total"], 1);
    // Consent, recorded in the participants view.
    tmux.escape();
    tmux.keys(&["p"]);
    tmux.wait_for("Participants (1)");
    tmux.keys(&["Space"]);
    tmux.wait_for("consent recorded");
    let consent: i64 = archive.count("SELECT consent FROM participants WHERE pseudonym = 'Maya'");
    assert_eq!(consent, 1);
    // Export the session from its note list.
    tmux.escape();
    tmux.keys(&["Enter"]);
    tmux.wait_for("New observation");
    tmux.escape();
    tmux.keys(&["C-s"]);
    tmux.wait_for("Export to");
    let out = archive.path("session.csv");
    tmux.keys(&["C-a", "C-k"]);
    tmux.type_text(out.to_str().unwrap());
    tmux.keys(&["Enter"]);
    tmux.wait_for("Exported 2 notes");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.contains("Long queue at the staffed tills"), "{csv}");
}

/// Keys rebound in the config file work in the real app, and its hints say the new keys.
#[test]
fn keys_from_the_config_file() {
    let archive = TestArchive::new();
    let Some(tmux) = Tmux::new("config-keys") else {
        return;
    };
    let file = archive.config_dir().join("fieldnotes/config.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "[keys.home]\nnew-session = \"a\"\n\n[keys.note-list]\ntrash-note = \"ctrl+w\"\n",
    )
    .unwrap();
    tmux.start(&archive);
    let screen = tmux.wait_for("No sessions yet");
    assert!(screen.contains("a start a new session"), "{screen}");
    tmux.keys(&["n"]);
    tmux.keys(&["a"]);
    tmux.wait_for("Start a session");
    tmux.keys(&["Tab"]);
    tmux.type_text("Keys");
    tmux.keys(&["Enter"]);
    tmux.wait_for("New observation");
    tmux.type_text("A note to throw away");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Saved observation");
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    // The old key does nothing now (the help opening after it shows it was read), and the
    // help lists the new one.
    tmux.keys(&["C-d", "F1"]);
    let help = tmux.wait_for("Ctrl+W");
    assert!(!help.contains("Ctrl+D "), "{help}");
    assert_eq!(
        archive.count("SELECT count(*) FROM notes WHERE deleted_at IS NOT NULL"),
        0
    );
    tmux.escape();
    tmux.wait_for("Ctrl+E edit the selected note");
    tmux.keys(&["C-w"]);
    tmux.wait_for("Moved the note to the trash");
    assert_eq!(
        archive.count("SELECT count(*) FROM notes WHERE deleted_at IS NOT NULL"),
        1
    );
}

/// Coding a passage with the keyboard alone, in the real app: find the note, open it, move
/// by words past an emoji, CJK and a combining accent, select three words, code them with
/// `=wait-time` (the coder from FIELDNOTES_CODER), and find the passage in SQLite at the
/// right code points.
#[test]
fn coding_a_passage_from_the_keyboard_in_a_real_terminal() {
    let archive = TestArchive::new();
    archive.start_session();
    let note = archive.add(&["😀 排队 cafe\u{301}: we queued for ages at the till #checkout"]);
    let Some(tmux) = Tmux::new("coding") else {
        return;
    };
    tmux.run_with(&archive, "exec", "FIELDNOTES_CODER=Ana", "");
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["/"]);
    tmux.type_text("queued");
    tmux.wait_for(" 1 note ·");
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("v selects, c codes");
    // Past 😀, 排队, café and "we" by word, then one character on to "queued".
    tmux.keys(&["w", "w", "w", "w", "Right", "v", "w", "w", "w"]);
    tmux.wait_for("15 characters selected (15..30)");
    tmux.keys(&["c"]);
    tmux.wait_for("Code “queued for ages” with");
    tmux.type_text("wait-time");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Passages (1)");
    assert!(
        screen.contains("=wait-time Ana “queued for ages” 15..30"),
        "{screen}"
    );
    let passage: (String, i64, i64, String, String) = archive
        .db()
        .query_row(
            "SELECT p.note_id, p.start, p.end, p.text, p.coder FROM passages p",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        passage,
        (note, 15, 30, "queued for ages".into(), "Ana".into())
    );
    // The passage list: Tab, then d takes it off again.
    tmux.keys(&["Tab", "d"]);
    tmux.wait_for("Passages (0)");
    assert_eq!(archive.count("SELECT count(*) FROM passages"), 0);
}

#[test]
fn an_encrypted_archive_asks_for_its_passphrase_and_keeps_a_draft_through_kill_9() {
    const PASSPHRASE: &str = "sesame xyzzy plugh";
    let archive = TestArchive::new().with_env("FIELDNOTES_PASSPHRASE", PASSPHRASE);
    let Some(tmux) = Tmux::new("encrypted") else {
        return;
    };
    archive.ok(&["init", "--encrypt"]);
    archive.start_session();

    // The app asks before it takes the terminal, and what is typed is not shown.
    tmux.start(&archive);
    tmux.wait_for("passphrase for the archive at");
    tmux.type_text(PASSPHRASE);
    assert!(!tmux.screen().contains("xyzzy"), "{}", tmux.screen());
    tmux.keys(&["Enter"]);
    tmux.open_newest_session();
    tmux.type_text("Half a note, zqsecretword when the lid closed");
    let key = fieldnotes::crypt::unlock(
        &archive.dir,
        &fieldnotes::crypt::Passphrase::new(PASSPHRASE.into()).unwrap(),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reader =
            fieldnotes::Archive::open_unlocked(&archive.dir, key.as_ref(), |_| {}).unwrap();
        if reader
            .store()
            .drafts()
            .unwrap()
            .iter()
            .any(|d| d.body.contains("zqsecretword"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no draft was written");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.kill_app();

    // With the passphrase from the environment the app opens at once, the draft restored.
    tmux.run_with(
        &archive,
        "exec",
        &format!("FIELDNOTES_PASSPHRASE='{PASSPHRASE}'"),
        "",
    );
    let screen = tmux.wait_for("Draft restored");
    assert!(screen.contains("zqsecretword"), "{screen}");
    tmux.kill_app();
    for entry in std::fs::read_dir(&archive.dir).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !bytes.windows(12).any(|w| w == b"zqsecretword"),
                "{} holds the draft in plain text",
                entry.path().display()
            );
        }
    }
}

/// The co-occurrence heat map from the keyboard: o on the session list counts which codes
/// go together, l moves the cursor to =staff-help × =wait-time, Enter lists the one note
/// behind that cell, Enter reads it, Esc comes back to the heat map. Needs `tmux`.
#[test]
fn cooccurrence_from_the_keyboard_in_a_real_terminal() {
    let archive = TestArchive::new();
    archive.start_session();
    archive.add(&["Queued ages at the till, nobody to help =wait-time =staff-help"]);
    archive.add(&["Nobody at the collection desk =wait-time"]);
    let Some(tmux) = Tmux::new("cooccurrence") else {
        return;
    };
    tmux.start(&archive);
    tmux.wait_for("Sessions, newest first");
    tmux.keys(&["o"]);
    tmux.wait_for("Co-occurrence of every facet's codes");
    // The cursor starts on =staff-help's own cell; one column right is the pair.
    tmux.wait_for("=staff-help: 1 note");
    tmux.keys(&["l"]);
    tmux.wait_for("=staff-help × =wait-time: 1 note together (of 1 and 2)");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("=staff-help × =wait-time · 1 note ·");
    assert!(screen.contains("Queued ages at the till"), "{screen}");
    assert!(!screen.contains("collection desk"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("v selects, c codes");
    tmux.escape();
    tmux.wait_for("Co-occurrence of every facet's codes");
    // v shows the c-coefficient instead of the count: 1 / (1 + 2 − 1).
    tmux.keys(&["v"]);
    tmux.wait_for("cells: c-coefficient");
    tmux.wait_for("0.50");
}
