//! The app's views, drawn on a `TestBackend` from a real demo archive served by the real
//! worker, and snapshotted; and the capture flows driven key by key.

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tempfile::TempDir;

use fieldnotes::Archive;
use fieldnotes::tui::app::App;
use fieldnotes::tui::theme::Palette;
use fieldnotes::tui::ui;
use fieldnotes::tui::views::View;
use fieldnotes::tui::views::capture::CaptureFocus;
use fieldnotes::tui::worker::{Request, Response, Worker};

struct Harness {
    app: App,
    worker: Worker,
    tmp: TempDir,
}

impl Harness {
    fn new(seed_demo: bool) -> Harness {
        Harness::with(|archive| {
            if seed_demo {
                fieldnotes::demo::seed(archive).unwrap();
            }
        })
    }

    /// An app on an archive `fill` wrote (before the app's worker opens it).
    fn with(fill: impl FnOnce(&mut Archive)) -> Harness {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("archive");
        {
            let mut archive = Archive::open(&dir).unwrap();
            fill(&mut archive);
        }
        let (worker, opened) = Worker::open(&dir).unwrap();
        let mut app = App::new(Palette::plain());
        app.tz = chrono::FixedOffset::east_opt(0).unwrap();
        app.now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let mut h = Harness { app, worker, tmp };
        h.respond(opened);
        h
    }

    fn respond(&mut self, response: Response) {
        let requests = self.app.handle_response(response);
        self.serve(requests);
    }

    /// Hands requests to the worker and its answers back to the app until all is quiet.
    fn serve(&mut self, requests: Vec<Request>) {
        let mut queue: std::collections::VecDeque<Request> = requests.into();
        while let Some(r) = queue.pop_front() {
            for response in self.worker.handle(r) {
                queue.extend(self.app.handle_response(response));
            }
        }
    }

    fn press(&mut self, code: KeyCode) {
        self.press_with(code, KeyModifiers::NONE);
    }

    fn press_with(&mut self, code: KeyCode, mods: KeyModifiers) {
        let requests = self.app.handle_key(KeyEvent::new(code, mods));
        self.serve(requests);
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    fn screen(&mut self, width: u16, height: u16) -> String {
        self.terminal(width, height).backend().to_string()
    }

    fn terminal(&mut self, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| ui::render(f, &mut self.app)).unwrap();
        terminal
    }

    fn status(&self) -> String {
        self.app
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.tmp.path().join("archive/fieldnotes.db")).unwrap()
    }

    /// A new app on the same archive, as after a crash.
    fn restarted(&self) -> Harness {
        let dir = self.tmp.path().join("archive");
        let (worker, opened) = Worker::open(&dir).unwrap();
        let mut again = Harness {
            app: App::new(Palette::plain()),
            worker,
            tmp: tempfile::tempdir().unwrap(),
        };
        again.respond(opened);
        again
    }

    /// Opens the oldest demo session (Maya's interview).
    fn open_oldest_session(&mut self) {
        self.press(KeyCode::Char('G'));
        self.press(KeyCode::Enter);
        assert_eq!(self.app.view, View::Capture);
    }
}

/// Snapshots a screen, with the one thing that varies between runs (search time) masked, and
/// the border before it, which a slower search with one more digit makes shorter.
fn snap(name: &str, screen: String) {
    insta::with_settings!({filters => vec![(r"━* ?(\d+ notes · )?\d+ ms ", "━ $1[t] ms ")]}, {
        insta::assert_snapshot!(name, screen);
    });
}

#[test]
fn home_lists_sessions_newest_first() {
    let mut h = Harness::new(true);
    snap("home", h.screen(110, 24));
}

#[test]
fn the_sessions_are_listed_before_the_search_index_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    fieldnotes::demo::seed(&mut Archive::open(&dir).unwrap()).unwrap();
    // Without its index the archive must make it again from the database: the list comes
    // before any of it.
    std::fs::remove_dir_all(dir.join("index")).unwrap();
    let mut app = App::new(Palette::plain());
    app.tz = chrono::FixedOffset::east_opt(0).unwrap();
    app.now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let mut early = None;
    let (worker, opened) = Worker::open_listing(&dir, None, |response| {
        assert!(
            !dir.join("index").exists(),
            "listed before the index was opened"
        );
        assert!(app.handle_response(response).is_empty());
        let mut terminal = Terminal::new(TestBackend::new(110, 24)).unwrap();
        terminal.draw(|f| ui::render(f, &mut app)).unwrap();
        early = Some(terminal.backend().to_string());
    })
    .unwrap();
    let early = early.expect("the sessions were listed early");
    // It stays said while the index opens, past a status message's lifetime.
    app.tick(std::time::Instant::now() + std::time::Duration::from_secs(60));
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("Opening the search index…")
    );
    assert!(early.contains("Sessions, newest first"), "{early}");
    assert!(early.contains("Fatima"), "{early}");
    assert!(early.contains("Opening the search index…"), "{early}");
    let mut h = Harness { app, worker, tmp };
    h.respond(opened);
    assert_eq!(h.status(), "", "the index is open");
    snap("home", h.screen(110, 24));
}

#[test]
fn a_session_opened_while_the_index_opens_is_not_taken_over_by_the_draft() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    let draft_session = h.app.capture.session.as_ref().unwrap().id.clone();
    h.type_text("Half a thought");
    let r = h
        .app
        .tick(std::time::Instant::now() + std::time::Duration::from_secs(2));
    h.serve(r);
    let Harness { worker, tmp, .. } = h;
    drop(worker);
    let dir = tmp.path().join("archive");
    std::fs::remove_dir_all(dir.join("index")).unwrap();
    // The app starts again: while the index is made, the researcher opens the newest session.
    let mut app = App::new(Palette::plain());
    let mut asked = Vec::new();
    let (worker, opened) = Worker::open_listing(&dir, None, |early| {
        asked.extend(app.handle_response(early));
        asked.extend(app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    })
    .unwrap();
    let chosen = app.sessions[0].id.clone();
    assert_ne!(chosen, draft_session);
    // The worker answers what was asked in order, once the index is open.
    asked.extend(app.handle_response(opened));
    let mut h = Harness { app, worker, tmp };
    h.serve(asked);
    assert_eq!(h.app.capture.session.as_ref().unwrap().id, chosen);
    // And the draft is still there to come back to.
    let drafts: i64 = h
        .db()
        .query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(drafts, 1);
}

#[test]
fn home_of_an_empty_archive_says_how_to_start() {
    let mut h = Harness::new(false);
    snap("home_empty", h.screen(90, 12));
}

#[test]
fn new_session_form() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('n'));
    h.press(KeyCode::Right);
    h.press(KeyCode::Tab);
    h.press(KeyCode::Tab);
    h.type_text("Priya");
    snap("new_session_form", h.screen(100, 24));
}

#[test]
fn capture_view_with_completion_open() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.type_text("Queued behind a pram at the tills #chec");
    snap("capture_completion", h.screen(110, 32));
}

#[test]
fn help_overlay_lists_every_key_of_the_editor() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.press(KeyCode::F(1));
    let screen = h.screen(110, 32);
    for label in ["Enter", "Alt+Enter", "Ctrl+T", "Tab", "Ctrl+F", "Esc", "F1"] {
        assert!(screen.contains(label), "help lacks {label}");
    }
    snap("help_editor", screen);
}

#[test]
fn search_view_with_results_facets_and_preview() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('/'));
    h.type_text("queue");
    h.press(KeyCode::Tab);
    h.press(KeyCode::Down);
    snap("search", h.screen(120, 36));
}

#[test]
fn a_tiny_terminal_gets_a_message_not_a_panic() {
    let mut h = Harness::new(true);
    snap("tiny", h.screen(20, 5));
    let draw = |h: &mut Harness, w: u16, ht: u16| {
        let mut terminal = Terminal::new(TestBackend::new(w, ht)).unwrap();
        terminal.draw(|f| ui::render(f, &mut h.app)).unwrap();
    };
    for (w, ht) in [(1, 1), (0, 0), (44, 10), (43, 9), (200, 3), (44, 200)] {
        draw(&mut h, w, ht);
    }
    h.open_oldest_session();
    h.type_text("#chec");
    draw(&mut h, 44, 10);
    h.press(KeyCode::Char('/'));
    draw(&mut h, 44, 10);
}

#[test]
fn visit_view_and_mystery_shopping_report() {
    let mut h = Harness::new(true);
    // The oldest mystery-shop visit of the demo.
    let at = h
        .app
        .sessions
        .iter()
        .rposition(|s| s.kind == fieldnotes::model::SessionKind::MysteryShop)
        .unwrap();
    h.app.home_sel = at;
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Visit);
    h.press(KeyCode::Down);
    snap("visit", h.screen(110, 30));
    h.press(KeyCode::Esc);
    h.press(KeyCode::Char('v'));
    assert_eq!(h.app.view, View::Report);
    snap("report", h.screen(110, 30));
    // At 80 columns the months still read as months, and the low scores show their notes.
    let narrow = h.screen(80, 30);
    assert!(
        narrow.contains("07/26") || narrow.contains("Jul"),
        "{narrow}"
    );
    assert!(!narrow.contains("2026-0 "), "{narrow}");
}

#[test]
fn themes_view_with_its_tabs_and_evidence() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('t'));
    assert_eq!(h.app.view, View::Themes);
    let view = h.app.themes.as_ref().expect("analysed");
    assert!(!view.analysis.themes.themes.is_empty());
    let first = view.analysis.themes.themes[0].clone();
    snap("themes", h.screen(120, 34));
    // Enter opens every note behind the selected theme.
    h.press(KeyCode::Enter);
    match &h.app.overlay {
        Some(fieldnotes::tui::app::Overlay::Evidence { notes, .. }) => {
            assert_eq!(notes.len(), first.note_count.min(200));
            assert!(notes.iter().all(|n| first.notes.contains(&n.id)));
        }
        other => panic!("no evidence overlay: {:?}", other.is_some()),
    }
    // Enter there reads the selected note in the note view; Esc comes back to the themes.
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Note);
    let opened = h.app.note.as_ref().unwrap().note.id.clone();
    assert!(first.notes.contains(&opened));
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Themes);
    for tab in ["contrast", "pains", "journey"] {
        h.press(KeyCode::Tab);
        let screen = h.screen(120, 34);
        insta::with_settings!({snapshot_suffix => tab}, {
            snap("themes_tab", screen);
        });
    }
}

#[test]
fn themes_from_search_carry_the_query_and_filters() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('/'));
    h.type_text("queue ");
    let total = h.app.search.results.total;
    h.press(KeyCode::F(3));
    assert_eq!(h.app.view, View::Themes);
    let analysis = &h.app.themes.as_ref().unwrap().analysis;
    assert_eq!(analysis.themes.total_notes, total);
    assert_eq!(analysis.query, "queue ");
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Search);
}

#[test]
fn typing_saving_and_finding_a_note() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.type_text("Queued behind a pram at the tills #chec");
    assert!(!h.app.capture.suggestions.is_empty());
    h.press(KeyCode::Tab); // takes #checkout
    h.type_text("!frustrated @busy-parent");
    h.press(KeyCode::Enter);
    let saved: String = h
        .db()
        .query_row(
            "SELECT body FROM notes ORDER BY created_at DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        saved,
        "Queued behind a pram at the tills #checkout !frustrated @busy-parent"
    );
    assert!(h.app.capture.editor.is_empty());
    assert_eq!(h.app.capture.notes.last().unwrap().body, saved);
    // Search finds it by a word and by a tag filter.
    h.press(KeyCode::Esc);
    h.press_with(KeyCode::Char('f'), KeyModifiers::CONTROL);
    h.type_text("pram");
    assert_eq!(h.app.search.results.total, 1);
    assert_eq!(h.app.search.results.hits[0].body, saved);
    for _ in 0..4 {
        h.press(KeyCode::Backspace);
    }
    h.type_text("@busy-parent #checkout pram");
    assert_eq!(h.app.search.results.total, 1);
    // Enter on the hit opens the note; `s` there opens its session with the note selected.
    h.press(KeyCode::Enter);
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Note);
    assert_eq!(h.app.note.as_ref().unwrap().note.body, saved);
    h.press(KeyCode::Char('s'));
    assert_eq!(h.app.view, View::Capture);
    assert_eq!(h.app.capture.focus, CaptureFocus::Notes);
    assert_eq!(h.app.capture.notes[h.app.capture.sel].body, saved);
}

#[test]
fn the_kind_switches_with_one_key_and_alt_enter_makes_a_new_line() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.press_with(KeyCode::Char('t'), KeyModifiers::CONTROL);
    h.type_text("I just want to pay");
    h.press_with(KeyCode::Enter, KeyModifiers::ALT);
    h.type_text("and go");
    h.press(KeyCode::Enter);
    let (kind, body): (String, String) = h
        .db()
        .query_row(
            "SELECT kind, body FROM notes ORDER BY created_at DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kind, "quote");
    assert_eq!(body, "I just want to pay\nand go");
}

#[test]
fn a_draft_is_written_after_a_pause_and_restored_on_the_next_start() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.type_text("Half a thought about the self-checkout");
    let later = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let requests = h.app.tick(later);
    assert!(matches!(requests.as_slice(), [Request::SaveDraft { .. }]));
    h.serve(requests);
    // A new app on the same archive, as after a crash.
    let mut again = h.restarted();
    assert_eq!(again.app.view, View::Capture);
    assert_eq!(
        again.app.capture.editor.lines().join("\n"),
        "Half a thought about the self-checkout"
    );
    let status = again.app.status.as_ref().unwrap().text.clone();
    assert!(status.starts_with("Draft restored (a new note"), "{status}");
    // Saving it clears the draft.
    again.press(KeyCode::Enter);
    let drafts: i64 = h
        .db()
        .query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(drafts, 0);
}

#[test]
fn edit_trash_undo_and_history_from_the_note_list() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.press(KeyCode::Esc); // to the notes, the newest selected
    let id = h.app.capture.notes[h.app.capture.sel].id.clone();
    h.press_with(KeyCode::Char('e'), KeyModifiers::CONTROL);
    assert_eq!(h.app.capture.focus, CaptureFocus::Editor);
    h.press_with(KeyCode::Char('e'), KeyModifiers::CONTROL); // to the end of the line
    h.type_text(" =edited");
    h.press(KeyCode::Enter);
    let revisions: i64 = h
        .db()
        .query_row(
            "SELECT count(*) FROM note_revisions WHERE note_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(revisions, 1);
    h.press(KeyCode::Esc);
    h.press_with(KeyCode::Char('r'), KeyModifiers::CONTROL);
    let screen = h.screen(110, 32);
    assert!(
        screen.contains("earlier") && screen.contains("current") && screen.contains("=edited"),
        "{screen}"
    );
    insta::with_settings!({filters => vec![(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[time]")]}, {
        insta::assert_snapshot!("history", screen);
    });
    h.press(KeyCode::Esc);
    let before = h.app.capture.notes.len();
    h.press_with(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert_eq!(h.app.capture.notes.len(), before - 1);
    let deleted: Option<String> = h
        .db()
        .query_row("SELECT deleted_at FROM notes WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(deleted.is_some());
    h.press_with(KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_eq!(h.app.capture.notes.len(), before);
    let deleted: Option<String> = h
        .db()
        .query_row("SELECT deleted_at FROM notes WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(deleted.is_none());
    // Undo goes on further back: the edit is taken back too (as a new version).
    let edited = h
        .app
        .capture
        .notes
        .iter()
        .find(|n| n.id == id)
        .unwrap()
        .body
        .clone();
    assert!(edited.ends_with(" =edited"), "{edited}");
    h.press_with(KeyCode::Char('z'), KeyModifiers::CONTROL);
    let body: String = h
        .db()
        .query_row("SELECT body FROM notes WHERE id = ?1", [&id], |r| r.get(0))
        .unwrap();
    assert_eq!(body, edited.trim_end_matches(" =edited"));
    h.press_with(KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_eq!(h.app.status.as_ref().unwrap().text, "Nothing to undo");
}

#[test]
fn a_failed_save_gives_the_text_back() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.type_text("Words that must not be lost");
    let requests = h
        .app
        .handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(requests.as_slice(), [Request::SaveNote { .. }]));
    assert!(h.app.capture.editor.is_empty());
    h.respond(Response::SaveFailed {
        body: "Words that must not be lost".into(),
        message: "not saved: database is locked".into(),
    });
    assert_eq!(
        h.app.capture.editor.lines().join("\n"),
        "Words that must not be lost"
    );
}

#[test]
fn starting_a_session_from_the_form_opens_its_capture_view() {
    let mut h = Harness::new(false);
    h.press(KeyCode::Char('n'));
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::NewSession, "a study is required");
    h.type_text("Checkout Q3");
    h.press(KeyCode::Tab);
    h.type_text("Maya");
    // The next field is the participant's consent: → records it as given today.
    h.press(KeyCode::Tab);
    h.press(KeyCode::Right);
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Capture);
    let session = h.app.capture.session.clone().unwrap();
    assert_eq!(session.study, "Checkout Q3");
    assert_eq!(session.participants, ["Maya"]);
    let (consent, date): (bool, Option<String>) = h
        .db()
        .query_row(
            "SELECT consent, consent_date FROM participants WHERE pseudonym = 'Maya'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(consent);
    assert_eq!(date.as_deref(), Some("2026-11-23"));
}

#[test]
fn search_filters_by_kind_study_and_date_and_exports_its_results() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('/'));
    h.type_text("queue ");
    let all = h.app.search.results.total;
    assert!(all > 5, "{all}");
    let ctrl = |h: &mut Harness, c| h.press_with(KeyCode::Char(c), KeyModifiers::CONTROL);
    // Ctrl+K: observations only, then quotes, interpretations, and any kind again.
    ctrl(&mut h, 'k');
    let observations = h.app.search.results.total;
    assert!(
        observations > 0 && observations < all,
        "{observations} of {all}"
    );
    assert!(
        h.app
            .search
            .results
            .hits
            .iter()
            .all(|hit| hit.kind == fieldnotes::model::NoteKind::Observation)
    );
    for _ in 0..3 {
        ctrl(&mut h, 'k');
    }
    assert_eq!(h.app.search.results.total, all);
    // Ctrl+P: the first study, in the order the session list shows them.
    ctrl(&mut h, 'p');
    let study = h.app.search.study.clone().expect("a study");
    let in_study = h.app.search.results.total;
    assert!(in_study > 0 && in_study < all, "{in_study} of {all}");
    for hit in &h.app.search.results.hits {
        let s = h.app.sessions.iter().find(|s| s.id == hit.session).unwrap();
        assert_eq!(s.study, study);
    }
    let studies = h.app.studies().len();
    for _ in 0..studies {
        ctrl(&mut h, 'p');
    }
    assert_eq!(h.app.search.study, None);
    // Ctrl+T: today, 7 days, 30 days (by the app's clock, 2026-11-23).
    for _ in 0..3 {
        ctrl(&mut h, 't');
    }
    let recent = h.app.search.results.total;
    assert!(recent > 0 && recent < all, "{recent} of {all}");
    let since = Utc.with_ymd_and_hms(2026, 10, 24, 12, 0, 0).unwrap();
    assert!(
        h.app
            .search
            .results
            .hits
            .iter()
            .all(|hit| hit.created_at >= since)
    );
    // Ctrl+S: exactly these results to a file, its format from the name.
    let hits: std::collections::BTreeSet<String> = h
        .app
        .search
        .results
        .hits
        .iter()
        .map(|hit| hit.id.clone())
        .collect();
    let out = h.tmp.path().join("recent-queues.jsonl");
    ctrl(&mut h, 's');
    assert!(h.app.prompt.is_some(), "no prompt for the file name");
    ctrl(&mut h, 'a');
    ctrl(&mut h, 'k');
    h.type_text(out.to_str().unwrap());
    h.press(KeyCode::Enter);
    let written = std::fs::read_to_string(&out).expect("the export was written");
    let exported: std::collections::BTreeSet<String> = written
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["body"].is_string())
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported, hits);
    let status = h.app.status.as_ref().unwrap().text.clone();
    assert!(
        status.starts_with(&format!("Exported {} notes", hits.len())),
        "{status}"
    );
}

#[test]
fn an_edit_in_progress_is_drafted_and_comes_back_as_an_edit() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.type_text("A new note, half typed");
    h.press(KeyCode::Esc);
    let id = h.app.capture.notes[h.app.capture.sel].id.clone();
    let old_body = h.app.capture.notes[h.app.capture.sel].body.clone();
    h.press_with(KeyCode::Char('e'), KeyModifiers::CONTROL);
    h.press_with(KeyCode::Char('e'), KeyModifiers::CONTROL); // end of the line
    h.type_text(" =edited-later");
    let later = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let requests = h.app.tick(later);
    assert!(
        matches!(requests.as_slice(), [Request::SaveDraft { note: Some(n), .. }] if *n == id),
        "{requests:?}"
    );
    h.serve(requests);
    // Both drafts are kept: the new note's (written when the edit began) and the edit's.
    let drafts: i64 = h
        .db()
        .query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(drafts, 2);

    // A crash, and a new start: the edit comes back as an edit, the new note behind it.
    let mut again = h.restarted();
    assert_eq!(
        again.app.capture.editor.lines().join("\n"),
        format!("{old_body} =edited-later")
    );
    assert_eq!(again.app.capture.editing.as_ref().unwrap().id, id);
    let status = again.app.status.as_ref().unwrap().text.clone();
    assert!(status.starts_with("Edit restored"), "{status}");
    // Esc cancels the edit, brings the new note's draft back and forgets the edit's draft.
    again.press(KeyCode::Esc);
    assert_eq!(
        again.app.capture.editor.lines().join("\n"),
        "A new note, half typed"
    );
    let (count, body): (i64, String) = h
        .db()
        .query_row("SELECT count(*), body FROM drafts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((count, body.as_str()), (1, "A new note, half typed"));
    let stored: String = h
        .db()
        .query_row("SELECT body FROM notes WHERE id = ?1", [&id], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored, old_body,
        "a cancelled edit leaves the note as it was"
    );
}

#[test]
fn the_draft_interval_comes_from_the_settings() {
    let mut h = Harness::new(true);
    h.app.draft_interval = std::time::Duration::from_secs(3);
    h.open_oldest_session();
    h.type_text("Slower drafts, as the config file asked");
    let start = std::time::Instant::now();
    assert!(
        h.app
            .tick(start + std::time::Duration::from_secs(2))
            .is_empty(),
        "no draft before the interval"
    );
    let requests = h.app.tick(start + std::time::Duration::from_secs(4));
    assert!(matches!(requests.as_slice(), [Request::SaveDraft { .. }]));
}

/// A note with an emoji, CJK and a combining accent before the words to code: offsets are
/// code points, so a byte or column count would land elsewhere.
const MIXED: &str = "😀 排队 cafe\u{301}: we queued for ages at the till #checkout";

fn one_note_archive(archive: &mut Archive) {
    use fieldnotes::model::{NoteKind, SessionKind};
    use fieldnotes::store::{NewNote, NewSession};
    let session = archive
        .start_session(
            &NewSession::new("Checkout Q3", SessionKind::Interview),
            None,
        )
        .unwrap();
    archive
        .add_note(&NewNote {
            session: session.id,
            kind: NoteKind::Quote,
            body: MIXED.into(),
            extra_tags: Vec::new(),
            clears_draft: false,
        })
        .unwrap();
}

/// (start, end, text, coder) of every passage, by start and coder.
fn passages(h: &Harness) -> Vec<(i64, i64, String, String)> {
    let db = h.db();
    let mut stmt = db
        .prepare("SELECT start, end, text, coder FROM passages ORDER BY start, coder")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// From the session list, search a word and open the note it finds.
fn open_note_found_by(h: &mut Harness, word: &str) {
    h.press(KeyCode::Char('/'));
    h.type_text(word);
    h.press(KeyCode::Enter);
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Note, "{}", h.status());
}

#[test]
fn coding_a_passage_from_the_keyboard() {
    let mut h = Harness::with(one_note_archive);
    h.app.coder = Ok("Ana".into());
    open_note_found_by(&mut h, "queued");
    // To "queued": past the emoji, 排队, café and "we" by word, one character on.
    for _ in 0..4 {
        h.press(KeyCode::Char('w'));
    }
    h.press(KeyCode::Right);
    assert_eq!(h.app.note.as_ref().unwrap().cursor, 15);
    h.press(KeyCode::Char('v'));
    for _ in 0..3 {
        h.press(KeyCode::Char('w'));
    }
    assert_eq!(h.app.note.as_ref().unwrap().selection(), Some(15..30));
    h.press(KeyCode::Char('c'));
    assert!(h.app.prompt.is_some(), "c opens the tag prompt");
    // A word that is not a tag: said, and the prompt stays with what was typed.
    h.type_text("wait-time oops");
    h.press(KeyCode::Enter);
    assert!(
        h.status().contains("\"oops\" is not a tag"),
        "{}",
        h.status()
    );
    let kept = h.app.prompt.as_ref().map(|p| p.input.lines().join("\n"));
    assert_eq!(kept.as_deref(), Some("=wait-time oops"));
    assert!(passages(&h).is_empty());
    for _ in 0.." oops".len() {
        h.press(KeyCode::Backspace);
    }
    h.press(KeyCode::Enter);
    assert_eq!(
        passages(&h),
        [(15, 30, "queued for ages".into(), "Ana".into())],
        "{}",
        h.status()
    );
    assert!(h.status().contains("=wait-time"), "{}", h.status());

    // Another coder selects with Shift and Ctrl motions, and completes the tag with Tab.
    h.app.coder = Ok("Ben".into());
    h.press(KeyCode::End);
    for _ in 0..3 {
        h.press_with(KeyCode::Left, KeyModifiers::CONTROL);
    }
    for _ in 0..2 {
        h.press_with(KeyCode::Right, KeyModifiers::CONTROL | KeyModifiers::SHIFT);
    }
    assert_eq!(h.app.note.as_ref().unwrap().selection(), Some(34..42));
    h.press(KeyCode::Char('c'));
    h.type_text("wa");
    let offered: Vec<String> = h
        .app
        .prompt
        .as_ref()
        .unwrap()
        .suggestions
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        offered.first().map(String::as_str),
        Some("=wait-time"),
        "{offered:?}"
    );
    h.press(KeyCode::Tab);
    h.press(KeyCode::Enter);
    assert_eq!(
        passages(&h),
        [
            (15, 30, "queued for ages".into(), "Ana".into()),
            (34, 42, "the till".into(), "Ben".into()),
        ]
    );

    // A selection in progress over the CJK, beside the coded passages.
    h.press(KeyCode::Home);
    h.press(KeyCode::Char('w'));
    h.press(KeyCode::Right);
    h.press(KeyCode::Char('v'));
    h.press(KeyCode::Right);
    h.press(KeyCode::Right);
    assert_eq!(h.app.note.as_ref().unwrap().selection(), Some(2..4));
    // The note was written now: its time is masked.
    let screen = h.screen(80, 20);
    insta::with_settings!({filters => vec![(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[when]")]}, {
        insta::assert_snapshot!("note_coding", screen);
    });
    // Coded words are marked in the text: underlined (the palette's passage style).
    let terminal = h.terminal(80, 20);
    let buffer = terminal.backend().buffer();
    let coded = buffer.content().iter().any(|cell| {
        cell.symbol() == "q" && cell.modifier.contains(ratatui::style::Modifier::UNDERLINED)
    });
    assert!(coded, "the coded words are underlined");

    // The passage list: d takes the selected passage's code off.
    h.press(KeyCode::Tab);
    h.press(KeyCode::Char('d'));
    assert_eq!(
        passages(&h),
        [(34, 42, "the till".into(), "Ben".into())],
        "{}",
        h.status()
    );

    // Without a coder, coding says why in the status line.
    h.app.coder = Err("who is coding? set `coder`".into());
    h.press(KeyCode::Tab);
    h.press(KeyCode::Char('v'));
    h.press(KeyCode::Right);
    h.press(KeyCode::Right);
    h.press(KeyCode::Char('c'));
    assert!(h.app.prompt.is_none());
    assert!(h.status().contains("who is coding"), "{}", h.status());
    // And nothing selected: it says how to select.
    h.press(KeyCode::Char('v'));
    h.press(KeyCode::Char('c'));
    assert!(h.status().contains("Select words first"), "{}", h.status());

    // The new views in tiny terminals: a message or a squeezed view, never a panic.
    for (w, ht) in [(20, 5), (44, 10), (45, 11), (200, 3)] {
        h.terminal(w, ht);
    }
    h.press(KeyCode::Tab);
    h.terminal(44, 10);
}

#[test]
fn an_edit_in_the_app_says_how_many_passages_it_lost() {
    let mut h = Harness::with(one_note_archive);
    h.app.coder = Ok("Ana".into());
    open_note_found_by(&mut h, "queued");
    for _ in 0..4 {
        h.press(KeyCode::Char('w'));
    }
    h.press(KeyCode::Right);
    h.press(KeyCode::Char('v'));
    for _ in 0..3 {
        h.press(KeyCode::Char('w'));
    }
    h.press(KeyCode::Char('c'));
    h.type_text("wait-time");
    h.press(KeyCode::Enter);
    assert_eq!(passages(&h).len(), 1);
    // To the note's session, and edit the coded words away.
    h.press(KeyCode::Char('s'));
    assert_eq!(h.app.view, View::Capture);
    h.press_with(KeyCode::Char('e'), KeyModifiers::CONTROL);
    for _ in 0..MIXED.chars().count() + 5 {
        h.press(KeyCode::Backspace);
    }
    h.type_text("😀 排队 we waited at the till");
    h.press(KeyCode::Enter);
    assert!(
        h.status().contains("lost 1 coded passage"),
        "{}",
        h.status()
    );
}

#[test]
fn the_codebook_as_a_tree_with_its_edits() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('c'));
    assert_eq!(h.app.view, View::Codebook);
    let row = |h: &Harness, tag: &str| {
        h.app
            .codebook
            .rows
            .iter()
            .position(|(_, e)| e.tag == tag)
            .unwrap_or_else(|| panic!("{tag} is not in the codebook"))
    };
    // Describe =wait-time.
    h.app.codebook.sel = row(&h, "=wait-time");
    h.press(KeyCode::Char('d'));
    h.type_text("Time the customer waits");
    h.press(KeyCode::Enter);
    let sel = &h.app.codebook.rows[h.app.codebook.sel].1;
    assert_eq!(sel.description.as_deref(), Some("Time the customer waits"));
    // Move it under =staff-help (completed from the codebook).
    h.press(KeyCode::Char('p'));
    h.type_text("staff-h");
    h.press(KeyCode::Tab);
    h.press(KeyCode::Enter);
    let (depth, sel) = &h.app.codebook.rows[h.app.codebook.sel];
    assert_eq!(
        (*depth, sel.tag.as_str()),
        (1, "=wait-time"),
        "{}",
        h.status()
    );
    let parent = &h.app.codebook.rows[h.app.codebook.sel - 1].1;
    assert_eq!(parent.tag, "=staff-help");
    snap("codebook", h.screen(100, 24));

    // Merge =scanner-error into =wait-time: first it says how many notes change.
    let typing: i64 = h
        .db()
        .query_row(
            "SELECT count(*) FROM notes WHERE body LIKE '%=scanner-error%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(typing > 0);
    h.app.codebook.sel = row(&h, "=scanner-error");
    h.press(KeyCode::Char('M'));
    h.type_text("wait-time");
    h.press(KeyCode::Enter);
    let title = h.app.prompt.as_ref().expect("a confirmation").title.clone();
    assert!(
        title.contains(&format!("{typing} note")),
        "{title} (expected {typing})"
    );
    h.press(KeyCode::Enter);
    assert!(
        h.status()
            .starts_with("Merged =scanner-error into =wait-time"),
        "{}",
        h.status()
    );
    assert!(
        h.app
            .codebook
            .rows
            .iter()
            .all(|(_, e)| e.tag != "=scanner-error")
    );
    let left: i64 = h
        .db()
        .query_row(
            "SELECT count(*) FROM notes WHERE body LIKE '%=scanner-error%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);

    // Rename: every note typing it is rewritten.
    h.app.codebook.sel = row(&h, "=wait-time");
    h.press(KeyCode::Char('r'));
    for _ in 0.."-time".len() {
        h.press(KeyCode::Backspace);
    }
    h.type_text("ing");
    h.press(KeyCode::Enter);
    assert!(
        h.status().starts_with("Renamed =wait-time to =waiting"),
        "{}",
        h.status()
    );
    row(&h, "=waiting");
    // Esc goes home; a tiny terminal draws the codebook without a panic.
    h.terminal(20, 5);
    h.terminal(44, 10);
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Home);
}

/// Two sessions of hand-counted notes for the heat maps (all tags typed, one passage):
///
/// | note | session (participant) | tags                                                  |
/// |------|-----------------------|-------------------------------------------------------|
/// | A1   | interview (Maya)      | #checkout =wait-time =staff-help @busy-parent; =wait-time also on "Queued ages" |
/// | A2   | interview (Maya)      | #checkout =wait-time @busy-parent                     |
/// | B1   | observation (Leo)     | #checkout =staff-help @student                        |
/// | B2   | observation (Leo)     | #delivery-email =wait-time @student                   |
/// | B3   | observation (Leo)     | #checkout @tourist                                    |
///
/// Notes per code: #checkout 4, #delivery-email 1, =staff-help 2, =wait-time 3,
/// @busy-parent 2, @student 2, @tourist 1. =staff-help × =wait-time: 1 note (A1), c = 1 / (2 +
/// 3 − 1) = 0.25, 2 overlapping pairs (the whole-note =staff-help with both =wait-time codings).
/// #checkout × =staff-help: 2 notes, c = 2 / (4 + 2 − 2) = 0.50. =staff-help × #delivery-email:
/// none. By persona: =wait-time × @busy-parent 2 notes, 1 participant (Maya), 67% of the code's
/// 3 notes, 100% of the persona's 2; =wait-time × @student 1 (B2); =staff-help × @tourist none.
fn coded_archive(archive: &mut Archive) {
    use fieldnotes::model::{NoteKind, Participant, SessionKind, SpanSpec, Tag};
    use fieldnotes::store::{NewNote, NewSession};
    let session = |archive: &mut Archive, kind, who: &str, day: u32, hour: u32| {
        let mut new = NewSession::new("Checkout Q3", kind);
        new.started_at = Some(Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap());
        new.participants = vec![Participant {
            pseudonym: who.into(),
            consent: true,
            consent_date: None,
            contact: None,
        }];
        archive.start_session(&new, None).unwrap().id
    };
    let add = |archive: &mut Archive, session: &str, body: &str| {
        archive
            .add_note(&NewNote {
                session: session.into(),
                kind: NoteKind::Observation,
                body: body.into(),
                extra_tags: Vec::new(),
                clears_draft: false,
            })
            .unwrap()
            .id
    };
    let a = session(archive, SessionKind::Interview, "Maya", 2, 10);
    let a1 = add(
        archive,
        &a,
        "Queued ages at the till, nobody on the desk #checkout =wait-time =staff-help @busy-parent",
    );
    add(
        archive,
        &a,
        "We waited while the kids got restless #checkout =wait-time @busy-parent",
    );
    let b = session(archive, SessionKind::Observation, "Leo", 3, 15);
    add(
        archive,
        &b,
        "The assistant packed the bags for her #checkout =staff-help @student",
    );
    add(
        archive,
        &b,
        "The delivery email came a day late #delivery-email =wait-time @student",
    );
    add(archive, &b, "Just browsing the offers #checkout @tourist");
    archive
        .code_span(
            &a1,
            &Tag::parse_token("=wait-time").unwrap(),
            &SpanSpec::Quote("Queued ages".into()),
            "Ana",
        )
        .unwrap();
}

/// The body of the note open in the note view.
fn open_note_body(h: &Harness) -> String {
    h.app
        .note
        .as_ref()
        .expect("a note is open")
        .note
        .body
        .clone()
}

/// The notes listed in the evidence overlay, by body.
fn listed_bodies(h: &Harness) -> Vec<String> {
    match &h.app.overlay {
        Some(fieldnotes::tui::app::Overlay::Evidence { notes, .. }) => {
            notes.iter().map(|n| n.body.clone()).collect()
        }
        _ => panic!("no list of notes is open; the status says {:?}", h.status()),
    }
}

#[test]
fn cooccurrence_heat_map_and_the_notes_behind_a_cell() {
    use fieldnotes::tui::views::cooccurrence::PairFigure;
    let mut h = Harness::with(coded_archive);
    h.press(KeyCode::Char('o'));
    assert_eq!(h.app.view, View::Cooccurrence);
    let v = &h.app.cooccurrence;
    assert!(!v.grid.computing);
    let r = v.report.as_ref().expect("counted");
    let codes: Vec<&str> = r.codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "#checkout",
            "#delivery-email",
            "=staff-help",
            "=wait-time",
            "@busy-parent",
            "@student",
            "@tourist"
        ]
    );
    assert_eq!((r.notes[2][3], r.overlaps[2][3]), (1, 2));
    assert!((r.c[2][3] - 0.25).abs() < 1e-9);
    assert!((r.c[0][2] - 0.5).abs() < 1e-9);
    assert_eq!(h.status(), "7 codes over 5 coded notes");

    // To =staff-help × =wait-time: two rows down, three columns right (h l j k move too).
    for key in ['j', 'j', 'l', 'l', 'l', 'l', 'h'] {
        h.press(KeyCode::Char(key));
    }
    assert_eq!(
        (
            h.app.cooccurrence.grid.cursor.row,
            h.app.cooccurrence.grid.cursor.col
        ),
        (2, 3)
    );
    snap("cooccurrence", h.screen(110, 20));
    h.press(KeyCode::Char('v'));
    assert_eq!(h.app.cooccurrence.figure, PairFigure::C);
    snap("cooccurrence_c", h.screen(110, 20));
    h.press(KeyCode::Char('v'));
    let screen = h.screen(110, 20);
    assert!(screen.contains("overlapping passages"), "{screen}");
    h.press(KeyCode::Char('v'));
    assert_eq!(h.app.cooccurrence.figure, PairFigure::Notes);
    // The narrowest terminal the app draws in keeps the labels of the cursor's row and
    // column; narrower gets the app's message, never a panic.
    snap("cooccurrence_narrow", h.screen(44, 12));
    let tiny = h.screen(40, 12);
    assert!(tiny.contains("the window is 40x12; make it"), "{tiny}");

    // Enter lists the one note behind the cell; Enter there reads it; Esc comes back.
    h.press(KeyCode::Enter);
    let listed = listed_bodies(&h);
    assert_eq!(listed.len(), 1);
    assert!(listed[0].starts_with("Queued ages"), "{listed:?}");
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Note);
    assert!(open_note_body(&h).starts_with("Queued ages"));
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Cooccurrence);
    // The diagonal lists the code's own notes.
    h.press(KeyCode::Char('h'));
    h.press(KeyCode::Enter);
    assert_eq!(listed_bodies(&h).len(), 2, "=staff-help is on two notes");
    h.press(KeyCode::Esc);
    // An empty cell (=staff-help × #delivery-email) lists nothing and says why.
    h.press(KeyCode::Char('h'));
    h.press(KeyCode::Enter);
    assert!(h.app.overlay.is_none());
    assert_eq!(
        h.status(),
        "No note carries both =staff-help and #delivery-email"
    );

    // f: only the =codes.
    h.press(KeyCode::Char('f'));
    let r = h.app.cooccurrence.report.as_ref().unwrap();
    assert_eq!(r.codes.len(), 2);
    assert_eq!(
        h.app.cooccurrence.grid.cursor.row, 1,
        "kept inside the smaller grid"
    );
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Home);

    // From the search, F4 counts over its results only (and Esc returns there).
    h.press(KeyCode::Char('/'));
    h.type_text("restless ");
    assert_eq!(h.app.search.results.total, 1);
    h.press(KeyCode::F(4));
    assert_eq!(h.app.view, View::Cooccurrence);
    let r = h.app.cooccurrence.report.as_ref().unwrap();
    assert_eq!(r.coded_notes, 1);
    let codes: Vec<&str> = r.codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["=wait-time"], "f still keeps the =codes only");
    let screen = h.screen(110, 20);
    assert!(screen.contains("\"restless\""), "{screen}");
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Search);
}

#[test]
fn matrix_of_codes_by_persona_and_session_with_the_notes_behind_a_cell() {
    use fieldnotes::analysis::MatrixBy;
    use fieldnotes::analysis::matrix::CellFigure;
    let mut h = Harness::with(coded_archive);
    h.press(KeyCode::Char('m'));
    assert_eq!(h.app.view, View::Matrix);
    let m = h.app.matrix.matrix.as_ref().expect("counted");
    assert_eq!(m.by, MatrixBy::Persona);
    assert_eq!(m.codes.len(), 7);
    assert_eq!(m.groups, ["busy-parent", "student", "tourist"]);
    // Only the =codes: =staff-help and =wait-time.
    h.press(KeyCode::Char('f'));
    let m = h.app.matrix.matrix.as_ref().unwrap();
    assert_eq!(m.codes, ["=staff-help", "=wait-time"]);
    let cell = m.cells[1][0];
    assert_eq!((cell.notes, cell.participants), (2, 1));
    assert!((cell.row_share - 2.0 / 3.0).abs() < 1e-9);
    assert!((cell.column_share - 1.0).abs() < 1e-9);
    assert_eq!(m.cells[1][1].notes, 1);
    assert_eq!(m.cells[0][2].notes, 0);
    assert_eq!(h.status(), "2 codes × 3 personas over 5 notes");
    h.press(KeyCode::Down);
    snap("matrix", h.screen(110, 20));
    h.press(KeyCode::Char('v'));
    h.press(KeyCode::Char('v'));
    assert_eq!(h.app.matrix.figure, CellFigure::RowShare);
    snap("matrix_row_share", h.screen(110, 20));
    snap("matrix_narrow", h.screen(44, 12));
    h.screen(40, 12);
    h.press(KeyCode::Char('v'));
    h.press(KeyCode::Char('v'));

    // Enter on =wait-time × @busy-parent lists A1 and A2; Enter reads one; Esc comes back.
    h.press(KeyCode::Enter);
    let mut listed = listed_bodies(&h);
    listed.sort();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].starts_with("Queued ages") && listed[1].starts_with("We waited"));
    h.press(KeyCode::Enter);
    assert_eq!(h.app.view, View::Note);
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Matrix);
    // =wait-time × @tourist is empty: said, nothing listed.
    h.press(KeyCode::Char('l'));
    h.press(KeyCode::Char('l'));
    h.press(KeyCode::Char('l'));
    assert_eq!(h.app.matrix.grid.cursor.col, 2, "the last column");
    h.press(KeyCode::Enter);
    assert!(h.app.overlay.is_none());
    assert_eq!(h.status(), "No note of @tourist carries =wait-time");

    // b: by participant, then by session (each session by its day and participant).
    h.press(KeyCode::Char('b'));
    let m = h.app.matrix.matrix.as_ref().unwrap();
    assert_eq!(m.groups, ["Leo", "Maya"]);
    assert_eq!(h.app.matrix.grid.cursor.col, 0);
    h.press(KeyCode::Char('b'));
    assert_eq!(h.app.matrix.matrix.as_ref().unwrap().by, MatrixBy::Session);
    snap("matrix_by_session", h.screen(110, 20));
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Home);
}

#[test]
fn measures_view_by_touchpoint_and_by_study() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('%'));
    assert_eq!(h.app.view, View::Measures);
    let report = h.app.measures.report.as_ref().expect("counted");
    // The same figures as `fieldnotes measures`: the demo's 18 exit intercepts and 19 rated
    // interviews.
    let nps = report.groups[0]
        .measures
        .iter()
        .find(|m| m.name == "nps")
        .unwrap();
    assert_eq!(nps.n, 37);
    assert!(!report.moments_of_truth.is_empty());
    h.press(KeyCode::Down);
    snap("measures", h.screen(120, 34));
    // b: by persona, by study.
    h.press(KeyCode::Char('b'));
    h.press(KeyCode::Char('b'));
    let groups: Vec<String> = h.app.measures.report.as_ref().unwrap().groups[1..]
        .iter()
        .map(|g| g.group.clone())
        .collect();
    assert!(
        groups.contains(&"Exit intercepts, Q3".to_owned()),
        "{groups:?}"
    );
    snap("measures_by_study_narrow", h.screen(80, 30));
    h.press(KeyCode::Esc);
    assert_eq!(h.app.view, View::Home);
}

#[test]
fn a_measure_out_of_its_scale_is_refused_and_the_words_stay() {
    let mut h = Harness::new(true);
    h.open_oldest_session();
    h.type_text("Zanzibar would recommend %nps=11");
    h.press(KeyCode::Enter);
    assert!(h.status().contains("out of scale"), "{}", h.status());
    assert_eq!(
        h.app.capture.editor.lines().join("\n"),
        "Zanzibar would recommend %nps=11"
    );
    let saved: i64 = h
        .db()
        .query_row(
            "SELECT count(*) FROM notes WHERE body LIKE '%Zanzibar%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(saved, 0);
}

#[test]
fn the_session_list_shows_the_sync_state_and_s_syncs_without_blocking_work() {
    // Without a team server, S says how to add one and the title stays as it was.
    let mut plain = Harness::new(false);
    plain.press(KeyCode::Char('S'));
    assert!(
        plain.status().contains("No team server yet"),
        "{}",
        plain.status()
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut h = Harness::with(|archive| {
        fieldnotes::demo::seed(archive).unwrap();
        archive
            .add_remote(
                "team",
                &format!("postgres://ana@127.0.0.1:{closed}/research"),
            )
            .unwrap();
    });
    let pending = h.app.sync.pending;
    assert!(pending > 0, "the demo's notes wait to be pushed");
    let screen = h.screen(110, 24);
    assert!(
        screen.contains(&format!("team: never synced, {pending} to push")),
        "{screen}"
    );
    h.press(KeyCode::Char('S'));
    assert!(
        h.status().contains("cannot reach the team server team"),
        "{}",
        h.status()
    );
    let screen = h.screen(110, 24);
    assert!(
        screen.contains(&format!("team: offline, {pending} to push")),
        "{screen}"
    );
    // The app goes on: a new session and a note are saved offline, and wait for the next sync.
    let sessions = h.app.sessions.len();
    h.press(KeyCode::Enter);
    h.type_text("written offline");
    h.press(KeyCode::Enter);
    h.press(KeyCode::Esc);
    h.press(KeyCode::Esc);
    assert_eq!(h.app.sessions.len(), sessions);
    assert_eq!(h.app.sync.pending, pending + 1);
}

/// An archive with more sessions than the app lists shows the newest page, says how many
/// there are, and still offers every study (one whose sessions are all older included).
#[test]
fn a_large_archive_lists_its_newest_sessions_and_every_study() {
    use fieldnotes::tui::worker::SESSIONS_LISTED;
    let total = SESSIONS_LISTED + 5;
    let mut h = Harness::with(|archive| {
        let lines: Vec<String> = (0..total)
            .map(|i| {
                // The five oldest sessions are the only ones of their study.
                let study = if i < 5 { "Old wave" } else { "Current" };
                let at = Utc.timestamp_opt(1_767_225_600 + i as i64 * 3_600, 0).unwrap();
                format!(
                    r#"{{"id":"{}","kind":"observation","body":"note {i}","created_at":"{}","session":{{"id":"S{i:05}","study":"{study}","kind":"observation","started_at":"{}"}}}}"#,
                    ulid::Ulid::from_parts(at.timestamp_millis() as u64, 1),
                    at.to_rfc3339(),
                    at.to_rfc3339()
                )
            })
            .collect();
        let file = lines.join("\n");
        archive
            .import(
                |sink| fieldnotes::io::jsonl::import("s.jsonl", file.as_bytes(), sink),
                |_| {},
            )
            .unwrap();
    });
    assert_eq!(h.app.sessions.len(), SESSIONS_LISTED);
    assert_eq!(h.app.sessions_total, total);
    assert_eq!(
        h.app.sessions[0].id,
        format!("S{:05}", total - 1),
        "newest first"
    );
    assert_eq!(h.app.studies(), ["Current", "Old wave"]);
    let screen = h.screen(120, 20);
    assert!(
        screen.contains(&format!("the newest {SESSIONS_LISTED} of {total}")),
        "{screen}"
    );
}

/// A search answers twice: its hits first (drawn at once, "counting…" where the total goes),
/// then the same hits with every match and its tags counted.
#[test]
fn search_results_are_drawn_before_their_counts() {
    let mut h = Harness::new(true);
    h.press(KeyCode::Char('/'));
    h.type_text("queue");
    // The same search answered again by hand, to see both parts.
    let search = Request::Search {
        generation: h.app.search.generation,
        query: "queue".into(),
        filters: fieldnotes::query::Filters::default(),
        study: None,
        limit: 50,
    };
    let responses = h.worker.handle(search);
    let [first, last] = responses.as_slice() else {
        panic!("{responses:?}");
    };
    let (
        Response::Searched {
            results: hits,
            counted: false,
            ..
        },
        Response::Searched {
            results: all,
            counted: true,
            ..
        },
    ) = (first, last)
    else {
        panic!("{responses:?}");
    };
    let ids = |r: &fieldnotes::archive::SearchResults| {
        r.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>()
    };
    assert!(!hits.hits.is_empty());
    assert_eq!(ids(hits), ids(all));
    assert!(hits.facets.is_empty() && !all.facets.is_empty());
    assert!(all.total >= all.hits.len());
    h.app.handle_response(first.clone());
    let screen = h.screen(120, 30);
    assert!(screen.contains("counting…"), "{screen}");
    assert!(
        screen.contains(&hits.hits[0].snippet.chars().take(20).collect::<String>())
            || !hits.hits[0].body.is_empty()
    );
    h.app.handle_response(last.clone());
    let screen = h.screen(120, 30);
    assert!(!screen.contains("counting…"), "{screen}");
    assert!(screen.contains(&format!("{} note", all.total)), "{screen}");
}
