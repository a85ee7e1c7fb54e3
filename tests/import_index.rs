//! An import hands its notes to the index while its SQLite transaction is open: the index must
//! end up holding exactly what SQLite committed, whatever else happened meanwhile.

use fieldnotes::Archive;
use fieldnotes::io::jsonl;
use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::query::Filters;
use fieldnotes::store::{NewNote, NewSession};

fn line(id_n: u32, body: &str) -> String {
    let id = ulid::Ulid::from_parts(1_767_225_600_000 + u64::from(id_n), 42).to_string();
    format!(
        r#"{{"id":"{id}","kind":"observation","body":"{body}","created_at":"2026-01-01T10:00:00Z","session":{{"id":"S-import","study":"Imported","kind":"observation","started_at":"2026-01-01T09:00:00Z"}}}}"#
    )
}

fn total(archive: &Archive, query: &str) -> usize {
    archive
        .search(query, &Filters::default(), 10)
        .unwrap()
        .total
}

#[test]
fn a_failed_import_leaves_nothing_in_the_index_even_after_later_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(&tmp.path().join("a")).unwrap();
    let file = [
        line(1, "the kiosk froze #checkout"),
        line(2, "the kiosk froze again"),
        "{not json".to_owned(),
    ]
    .join("\n");
    let err = archive
        .import(
            |sink| jsonl::import("bad.jsonl", file.as_bytes(), sink),
            |_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert_eq!(total(&archive, "kiosk"), 0);

    // A later write commits the index again: what the failed import staged must not come back.
    let session = archive
        .start_session(&NewSession::new("Later", SessionKind::Interview), None)
        .unwrap();
    archive
        .add_note(&NewNote {
            session: session.id,
            kind: NoteKind::Observation,
            body: "a kiosk note that did get saved".into(),
            extra_tags: vec![],
            clears_draft: false,
        })
        .unwrap();
    assert_eq!(total(&archive, "kiosk"), 1);
    assert!(archive.check().unwrap().is_empty());
    drop(archive);
    let mut reopened = Archive::open(&tmp.path().join("a")).unwrap();
    assert_eq!(total(&reopened, "kiosk"), 1);
    assert!(reopened.check().unwrap().is_empty());
}

#[test]
fn an_import_also_indexes_what_another_process_wrote_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let mut writer = Archive::open(&dir).unwrap();
    assert!(writer.index().is_writer());
    // A second process: it cannot take the index writer, so its note waits in SQLite.
    let mut other = Archive::open(&dir).unwrap();
    assert!(!other.index().is_writer());
    let session = other
        .start_session(&NewSession::new("Field", SessionKind::Observation), None)
        .unwrap();
    other
        .add_note(&NewNote {
            session: session.id,
            kind: NoteKind::Quote,
            body: "the voucher scanner beeped twice".into(),
            extra_tags: vec![],
            clears_draft: false,
        })
        .unwrap();

    let file = [
        line(1, "voucher refused at the till"),
        line(2, "queue at the till"),
    ]
    .join("\n");
    let counts = writer
        .import(
            |sink| jsonl::import("ok.jsonl", file.as_bytes(), sink),
            |_| {},
        )
        .unwrap();
    assert_eq!(counts.added, 2);
    assert_eq!(total(&writer, "voucher"), 2);
    assert_eq!(total(&writer, "till"), 2);
    assert!(writer.check().unwrap().is_empty());

    // Importing the same file again adds nothing, to SQLite or to the index.
    let again = writer
        .import(
            |sink| jsonl::import("ok.jsonl", file.as_bytes(), sink),
            |_| {},
        )
        .unwrap();
    assert_eq!((again.added, again.already_present), (0, 2));
    assert_eq!(total(&writer, "till"), 2);
    assert!(writer.check().unwrap().is_empty());
}

/// The stamping triggers an import lifts while it writes (it stamps its notes itself).
fn note_triggers(dir: &std::path::Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("fieldnotes.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'notes' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn stamps(dir: &std::path::Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("fieldnotes.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT coalesce(hlc, 'none') FROM notes ORDER BY created_at, id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_import_stamps_its_notes_and_puts_the_stamping_triggers_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let mut archive = Archive::open(&dir).unwrap();
    let before = note_triggers(&dir);
    assert_eq!(
        before,
        ["notes_stamp_edit", "notes_stamp_new", "notes_stamp_trash"]
    );
    // A failed import puts nothing back wrong either: the transaction holds the DDL too.
    let bad = [line(1, "the kiosk froze"), "{not json".to_owned()].join("\n");
    archive
        .import(
            |sink| jsonl::import("bad.jsonl", bad.as_bytes(), sink),
            |_| {},
        )
        .unwrap_err();
    assert_eq!(note_triggers(&dir), before);
    let file = [
        line(1, "the kiosk froze #checkout"),
        line(2, "the kiosk froze again"),
        line(3, "staff helped at last"),
    ]
    .join("\n");
    archive
        .import(
            |sink| jsonl::import("ok.jsonl", file.as_bytes(), sink),
            |_| {},
        )
        .unwrap();
    assert_eq!(note_triggers(&dir), before);
    let imported = stamps(&dir);
    assert_eq!(imported.len(), 3);
    let archive_id: String = rusqlite::Connection::open(dir.join("fieldnotes.db"))
        .unwrap()
        .query_row(
            "SELECT value FROM archive_meta WHERE key = 'archive_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for (i, stamp) in imported.iter().enumerate() {
        assert!(stamp.ends_with(&archive_id), "{stamp}");
        if i > 0 {
            assert!(stamp > &imported[i - 1], "stamps in the order written");
        }
    }
    // A note written after the import ticks after every imported stamp, and an edit of an
    // imported note is stamped by the trigger again.
    let session = archive.store().sessions(None).unwrap()[0].id.clone();
    let new = archive
        .add_note(&NewNote {
            session,
            kind: NoteKind::Observation,
            body: "written after".into(),
            extra_tags: vec![],
            clears_draft: false,
        })
        .unwrap();
    let id = archive
        .search("kiosk again", &Filters::default(), 1)
        .unwrap()
        .hits[0]
        .id
        .clone();
    archive
        .edit_note(&id, "the kiosk froze a third time", None)
        .unwrap();
    let db = rusqlite::Connection::open(dir.join("fieldnotes.db")).unwrap();
    let stamp_of = |id: &str| -> String {
        db.query_row("SELECT hlc FROM notes WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    let newest = imported.iter().max().unwrap();
    assert!(&stamp_of(&new.id) > newest);
    assert!(stamp_of(&id) > stamp_of(&new.id), "the edit ticks after");
}
