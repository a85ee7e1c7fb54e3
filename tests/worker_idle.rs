//! The app's workers: the capture lane folds the write-ahead log into the database once nobody
//! is waiting on it (so saving a note never pays for a checkpoint and the log does not grow
//! all day), and a save never waits behind an analysis on the other lane.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::store::NewSession;
use fieldnotes::tui::worker::{self, Lanes, Request, Response};

/// The app's three lanes, served as the app serves them; the senders of capture and analysis.
/// The search lane's sender is dropped at once: that lane is not used here.
fn serve(
    dir: &std::path::Path,
) -> (
    mpsc::Sender<Request>,
    mpsc::Sender<Request>,
    mpsc::Receiver<Response>,
    std::thread::JoinHandle<()>,
) {
    let (ask, capture) = mpsc::channel();
    let (_, search) = mpsc::channel();
    let (analyse, analysis) = mpsc::channel();
    let (reply, responses) = mpsc::channel();
    let dir = dir.to_path_buf();
    let serving = std::thread::spawn(move || {
        worker::run(
            dir,
            Lanes {
                capture,
                search,
                analysis,
            },
            move |r| {
                let _ = reply.send(r);
            },
        )
    });
    (ask, analyse, responses, serving)
}

fn database_holds(db: &std::path::Path, marker: &[u8]) -> bool {
    let bytes = std::fs::read(db).unwrap();
    bytes.windows(marker.len()).any(|w| w == marker)
}

#[test]
fn an_idle_worker_checkpoints_what_was_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let (ask, analyse, responses, serving) = serve(&dir);
    let next = |what: &str| {
        responses
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no answer to {what}"))
    };
    next("opening");
    ask.send(Request::StartSession {
        new: NewSession::new("Idle", SessionKind::Observation),
        scorecard: None,
    })
    .unwrap();
    let session = loop {
        if let Response::SessionStarted(s) = next("starting a session") {
            break s.id;
        }
    };
    let marker = "a marker only this note carries 7f3a9c";
    ask.send(Request::SaveNote {
        session,
        kind: NoteKind::Observation,
        body: marker.into(),
    })
    .unwrap();
    while !matches!(next("saving"), Response::NoteSaved(_)) {}

    // Saved means in the write-ahead log; the database file gets it when the worker is idle.
    let db = dir.join("fieldnotes.db");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !database_holds(&db, marker.as_bytes()) {
        assert!(
            Instant::now() < deadline,
            "the note never reached the database file while the app stayed open"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(ask);
    drop(analyse);
    serving.join().unwrap();
}

#[test]
fn a_save_does_not_wait_behind_an_analysis() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    // Enough notes that the themes take far longer than a save.
    let csv = tmp.path().join("notes.csv");
    let mut text = String::from("text,persona\n");
    for i in 0..30_000 {
        text.push_str(&format!(
            "Note {i}: the queue at till {} was long and staff {} helped with scanner {},p{}\n",
            i % 7,
            i % 11,
            i % 13,
            i % 5
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let imported = assert_cmd::Command::cargo_bin("fieldnotes")
        .unwrap()
        .args([
            "--archive",
            dir.to_str().unwrap(),
            "import",
            csv.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");

    let (ask, analyse, responses, serving) = serve(&dir);
    let next = || {
        responses
            .recv_timeout(Duration::from_secs(120))
            .expect("the workers answer")
    };
    // The app lists the sessions from the database before the search index has opened.
    assert!(matches!(next(), Response::EarlySessions { .. }));
    assert!(matches!(next(), Response::Opened { .. }));
    ask.send(Request::StartSession {
        new: NewSession::new("Busy", SessionKind::Interview),
        scorecard: None,
    })
    .unwrap();
    let session = loop {
        if let Response::SessionStarted(s) = next() {
            break s.id;
        }
    };
    analyse
        .send(Request::Analyse {
            query: String::new(),
            filters: Default::default(),
            study: None,
        })
        .unwrap();
    // Give the analysis a moment to start, then save.
    std::thread::sleep(Duration::from_millis(50));
    ask.send(Request::SaveNote {
        session,
        kind: NoteKind::Quote,
        body: "saved while the themes were running".into(),
    })
    .unwrap();
    let mut order = Vec::new();
    while order.len() < 2 {
        match next() {
            Response::NoteSaved(_) => order.push("saved"),
            Response::Analysed(_) => order.push("analysed"),
            Response::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    assert_eq!(
        order,
        ["saved", "analysed"],
        "the save waited for the analysis"
    );
    drop(ask);
    drop(analyse);
    serving.join().unwrap();
}
