//! The app's state machine under random keys, with no archive: the worker's answers are
//! made up here (the message seam). Whatever is typed, the app never panics (nor does drawing
//! it, at any size), and no key sequence without an explicit note-action key asks the worker
//! to change a stored note. The heat maps (o, m, F4, F5) are answered too, so random keys
//! move their cursors, cycle their figures and open their cells.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use fieldnotes::analysis::{AnalysisNote, Coding, NoteGroups};
use fieldnotes::archive::SearchResults;
use fieldnotes::model::{Facet, Note, NoteKind, Session, SessionKind, Tag};
use fieldnotes::tui::app::App;
use fieldnotes::tui::theme::Palette;
use fieldnotes::tui::ui;
use fieldnotes::tui::worker::{Request, Response};

fn session() -> Session {
    Session {
        id: "S1".into(),
        study: "Checkout Q3".into(),
        kind: SessionKind::Interview,
        title: None,
        started_at: Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap(),
        ended_at: None,
        researcher: Some("ana".into()),
        location: Some("Riverside".into()),
        channel: None,
        participants: vec!["Maya".into()],
        note_count: 3,
    }
}

fn note(i: usize, body: &str) -> Note {
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 10, i as u32, 0).unwrap();
    Note {
        id: format!("N{i}"),
        session: "S1".into(),
        kind: NoteKind::Observation,
        body: body.into(),
        tags: fieldnotes::model::tags_of(body),
        created_at: at,
        updated_at: at,
        offset_ms: Some(i as i64 * 60_000),
        deleted_at: None,
    }
}

/// An app with a session open on three notes, as after the worker answered.
fn app_in_a_session() -> App {
    let mut app = App::new(Palette::plain());
    let tags = ["checkout", "self-checkout"]
        .iter()
        .map(|n| Tag::new(Facet::Touchpoint, n).unwrap())
        .collect();
    let mut pending = app.handle_response(Response::Opened {
        drafts: Vec::new(),
        tags,
        scorecards: Vec::new(),
    });
    pending.clear();
    app.handle_response(Response::Sessions(listed()));
    app.handle_response(Response::SessionLoaded {
        session: session(),
        notes: vec![
            note(1, "Queue at the till #checkout !frustrated"),
            note(2, "Memo: waiting is fine when predictable"),
            note(3, "Scanner shouted 'unexpected item' #self-checkout"),
        ],
        drafts: Vec::new(),
        visit: None,
    });
    app
}

/// Keys a researcher types without meaning to act on a note: text in many scripts (and the
/// spaces that are not ASCII), Enter, Esc, Tab, arrows, Backspace, function keys, the editor's
/// own Ctrl keys and the quit key.
fn ordinary_key() -> impl Strategy<Value = KeyEvent> {
    let none = KeyModifiers::NONE;
    prop_oneof![
        6 => prop_oneof![
            proptest::char::range('a', 'z'),
            Just(' '),
            Just('#'),
            Just('@'),
            Just('!'),
            Just('='),
            Just('/'),
            Just('?'),
            Just('\u{3000}'),
            Just('\u{a0}'),
            Just('é'),
            Just('漢'),
            Just('😀'),
        ]
        .prop_map(move |c| KeyEvent::new(KeyCode::Char(c), none)),
        3 => prop_oneof![
            Just(KeyCode::Enter),
            Just(KeyCode::Esc),
            Just(KeyCode::Tab),
            Just(KeyCode::BackTab),
            Just(KeyCode::Up),
            Just(KeyCode::Down),
            Just(KeyCode::Left),
            Just(KeyCode::Right),
            Just(KeyCode::Backspace),
            Just(KeyCode::Home),
            Just(KeyCode::End),
            Just(KeyCode::PageUp),
            Just(KeyCode::PageDown),
            Just(KeyCode::F(1)),
            Just(KeyCode::F(2)),
            Just(KeyCode::F(3)),
            Just(KeyCode::F(4)),
            Just(KeyCode::F(5)),
            Just(KeyCode::F(6)),
            Just(KeyCode::Char('%')),
            Just(KeyCode::Char('b')),
        ]
        .prop_map(move |k| KeyEvent::new(k, none)),
        1 => prop_oneof![
            Just(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
            Just(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL)),
            Just(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)),
            Just(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Just(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
        ],
    ]
}

/// Every key, the note actions included.
fn any_key() -> impl Strategy<Value = KeyEvent> {
    prop_oneof![
        8 => ordinary_key(),
        2 => proptest::char::range('a', 'z')
            .prop_map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        1 => Just(KeyEvent::new(KeyCode::Delete, KeyModifiers::NONE)),
    ]
}

/// Codings of the three notes: whole-note tags and a passage.
fn codings() -> Vec<Coding> {
    vec![
        Coding::whole("N1", "#checkout"),
        Coding::whole("N1", "!frustrated"),
        Coding::passage("N1", "=wait-time", 0, 5),
        Coding::whole("N3", "#self-checkout"),
        Coding::whole("N3", "=wait-time"),
    ]
}

/// What the worker would answer, made up: enough for the app to move between its views.
fn answer(request: &Request) -> Option<Response> {
    match request {
        Request::Search { generation, .. } => Some(Response::Searched {
            generation: *generation,
            results: SearchResults::default(),
            millis: 1,
            counted: true,
        }),
        Request::Session(_) => Some(Response::SessionLoaded {
            session: session(),
            notes: vec![note(1, "Queue at the till #checkout")],
            drafts: Vec::new(),
            visit: None,
        }),
        Request::Sessions => Some(Response::Sessions(listed())),
        Request::TrashList => Some(Response::TrashList(vec![note(9, "gone #checkout")])),
        Request::Participants => Some(Response::Participants(Vec::new())),
        // The heat maps: a few codes over the three notes, and a cell's notes.
        Request::Cooccurrence { generation, .. } => Some(Response::Cooccurrence {
            generation: *generation,
            report: Box::new(fieldnotes::analysis::cooccurrence(&codings())),
            codings: Arc::new(codings()),
        }),
        Request::Matrix { generation, by, .. } => {
            let groups: Vec<NoteGroups> = ["N1", "N2", "N3"]
                .iter()
                .map(|id| NoteGroups {
                    note: (*id).into(),
                    groups: vec!["busy-parent".into(), format!("group-{id}")],
                    participants: vec!["Maya".into()],
                })
                .collect();
            Some(Response::Matrix {
                generation: *generation,
                matrix: Box::new(fieldnotes::analysis::code_matrix(*by, &codings(), &groups)),
                codings: Arc::new(codings()),
                groups: Arc::new(groups),
            })
        }
        // The measures: a few notes' values, grouped as asked.
        Request::Measures { generation, by, .. } => {
            let notes: Vec<AnalysisNote> = [
                ("N1", "Queue at the till #checkout %ces=2 %nps=3"),
                ("N2", "Easy #app %ces=7 %nps=10 %csat=5"),
            ]
            .iter()
            .map(|(id, body)| AnalysisNote {
                id: (*id).into(),
                body: (*body).into(),
                kind: NoteKind::Observation,
                tags: fieldnotes::model::tags_of(body),
                session: "S1".into(),
                study: "Study".into(),
                speaker: None,
                participants: Vec::new(),
                created_at: Utc::now(),
                valence: Some(-1.0),
            })
            .collect();
            let values = fieldnotes::analysis::measure_values(&notes, &[]);
            Some(Response::Measures {
                generation: *generation,
                report: Box::new(fieldnotes::analysis::measures(
                    &values,
                    &notes,
                    &fieldnotes::model::built_in_scales(),
                    *by,
                )),
            })
        }
        Request::CellNotes { title, .. } => Some(Response::Evidence {
            title: title.clone(),
            notes: vec![note(1, "Queue at the till #checkout !frustrated")],
        }),
        _ => None,
    }
}

/// Feeds `keys` to the app, answering the worker's part, drawing now and then; returns every
/// request the app made.
fn drive(keys: &[KeyEvent]) -> Vec<Request> {
    let mut app = app_in_a_session();
    let mut asked = Vec::new();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    for (i, key) in keys.iter().enumerate() {
        let mut queue: Vec<Request> = app.handle_key(*key);
        while let Some(request) = queue.pop() {
            if let Some(response) = answer(&request) {
                queue.extend(app.handle_response(response));
            }
            asked.push(request);
        }
        asked.extend(app.tick(std::time::Instant::now() + std::time::Duration::from_secs(1)));
        if i % 7 == 0 {
            terminal.draw(|f| ui::render(f, &mut app)).unwrap();
        }
        if app.quit {
            break;
        }
    }
    for (w, h) in [(120, 40), (44, 10), (20, 5)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| ui::render(f, &mut app)).unwrap();
    }
    asked
}

fn changes_a_stored_note(r: &Request) -> bool {
    matches!(
        r,
        Request::EditNote { .. } | Request::Trash(_) | Request::Restore(_)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn ordinary_typing_never_changes_a_stored_note(keys in prop::collection::vec(ordinary_key(), 1..120)) {
        let asked = drive(&keys);
        let changes: Vec<&Request> = asked.iter().filter(|r| changes_a_stored_note(r)).collect();
        prop_assert!(changes.is_empty(), "keys {:?} asked {:?}", keys, changes);
    }

    #[test]
    fn no_key_sequence_panics(keys in prop::collection::vec(any_key(), 1..150)) {
        drive(&keys);
    }
}

#[test]
fn an_explicit_action_key_does_change_a_note() {
    // The property above can fail: Ctrl+K on the note list changes the selected note's kind.
    let asked = drive(&[
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL),
    ]);
    assert!(asked.iter().any(changes_a_stored_note), "{asked:?}");
}

fn listed() -> fieldnotes::store::SessionList {
    let session = session();
    fieldnotes::store::SessionList {
        studies: vec![session.study.clone()],
        sessions: vec![session],
        total: 1,
    }
}
