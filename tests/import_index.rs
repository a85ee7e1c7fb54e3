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
