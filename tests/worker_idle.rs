//! The app's worker folds the write-ahead log into the database once nobody is waiting on it,
//! so saving a note never pays for a checkpoint and the log does not grow all day.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::store::NewSession;
use fieldnotes::tui::worker::{self, Request, Response};

fn database_holds(db: &std::path::Path, marker: &[u8]) -> bool {
    let bytes = std::fs::read(db).unwrap();
    bytes.windows(marker.len()).any(|w| w == marker)
}

#[test]
fn an_idle_worker_checkpoints_what_was_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let (ask, requests) = mpsc::channel();
    let (reply, responses) = mpsc::channel();
    let serving = std::thread::spawn({
        let dir = dir.clone();
        move || worker::run(dir, requests, move |r| reply.send(r).unwrap())
    });
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
    serving.join().unwrap();
}
