//! An archive written by an older fieldnotes opens with every later migration, data intact.

use fieldnotes::Archive;
use fieldnotes::store::{MIGRATIONS, Store};

#[test]
fn an_archive_from_the_first_migration_opens_with_all_of_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("fieldnotes.db");
    // What the first fieldnotes left on disk: schema 1, one session, one note with two tags,
    // written with plain SQL rather than today's store.
    let note_id = "01J0000000000000000000NOTE".to_owned();
    {
        let old = Store::open_migrated_to(&db, 1).unwrap();
        assert_eq!(old.schema_version().unwrap(), 1);
        drop(old);
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "INSERT INTO studies (id, name, created_at) VALUES (1, 'Old study', '2024-01-01T09:00:00Z');
             INSERT INTO sessions (id, study_id, kind, started_at)
                 VALUES ('01J0000000000000000000SESS', 1, 'interview', '2024-01-01T09:00:00Z');
             UPDATE change_counter SET seq = 1;
             INSERT INTO notes (id, session_id, kind, body, created_at, updated_at, change_seq)
                 VALUES ('01J0000000000000000000NOTE', '01J0000000000000000000SESS', 'quote',
                         'Written before the emotions were seeded !frustrated #checkout',
                         '2024-01-01T09:05:00Z', '2024-01-01T09:05:00Z', 1);
             INSERT INTO tags (id, facet, name, valence) VALUES (1, 'emotion', 'frustrated', -1);
             INSERT INTO tags (id, facet, name) VALUES (2, 'touchpoint', 'checkout');
             INSERT INTO note_tags (note_id, tag_id) VALUES ('01J0000000000000000000NOTE', 1);
             INSERT INTO note_tags (note_id, tag_id) VALUES ('01J0000000000000000000NOTE', 2);",
        )
        .unwrap();
    }
    let mut archive = Archive::open(&dir).unwrap();
    assert_eq!(
        archive.store().schema_version().unwrap(),
        MIGRATIONS.len() as i64
    );
    let note = archive.store().note(&note_id).unwrap();
    assert_eq!(note.tags.len(), 2);
    // The seed did not overwrite the tag the old archive already had, and filled the rest.
    let emotions = archive.store().valences().unwrap();
    assert!(emotions.len() >= 20);
    assert!(archive.check().unwrap().is_empty());
    let found = archive.search("seeded", &Default::default(), 10).unwrap();
    assert_eq!(found.total, 1);
}

#[test]
fn a_newer_archive_is_refused_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("fieldnotes.db");
    drop(Store::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = Store::open(&db).err().expect("refused").to_string();
    assert!(
        err.contains("newer fieldnotes") && err.contains("99"),
        "{err}"
    );
}

#[test]
fn every_migration_is_applied_once_and_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("fieldnotes.db");
    for count in 1..=MIGRATIONS.len() {
        let store = Store::open_migrated_to(&db, count).unwrap();
        assert_eq!(store.schema_version().unwrap(), count as i64);
    }
    // Opening again changes nothing.
    let store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
}

/// The steps SQLite plans for `sql`.
fn plan(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn counting_a_sessions_live_notes_reads_only_the_live_index() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = Archive::open(&tmp.path().join("a")).unwrap();
    drop(archive);
    let conn = rusqlite::Connection::open(tmp.path().join("a").join("fieldnotes.db")).unwrap();
    let steps = plan(
        &conn,
        "SELECT count(*) FROM notes n WHERE n.session_id = 'x' AND n.deleted_at IS NULL",
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("COVERING INDEX notes_by_session_state")),
        "{steps:?}"
    );
    // And a session's live notes are read through it, in the order they were written.
    let steps = plan(
        &conn,
        "SELECT n.id FROM notes n WHERE n.session_id = 'x' AND n.deleted_at IS NULL \
         ORDER BY n.created_at, n.id",
    );
    assert!(
        steps.iter().any(|s| s.contains("notes_by_session_state")),
        "{steps:?}"
    );
}

#[test]
fn an_archive_from_before_passages_gains_the_codebook_columns_and_can_code() {
    use fieldnotes::model::{SpanSpec, Tag};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("fieldnotes.db");
    drop(Store::open_migrated_to(&db, 7).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "INSERT INTO studies (id, name, created_at) VALUES (1, 'Old study', '2024-01-01T09:00:00Z');
         INSERT INTO sessions (id, study_id, kind, started_at)
             VALUES ('01J0000000000000000000SESS', 1, 'interview', '2024-01-01T09:00:00Z');
         UPDATE change_counter SET seq = 1;
         INSERT INTO notes (id, session_id, kind, body, created_at, updated_at, change_seq)
             VALUES ('01J0000000000000000000NOTE', '01J0000000000000000000SESS', 'quote',
                     'Queued for ages =wait-time', '2024-01-01T09:05:00Z', '2024-01-01T09:05:00Z', 1);
         INSERT INTO tags (id, facet, name, description) VALUES (900, 'code', 'wait-time', 'Waiting');
         INSERT INTO note_tags (note_id, tag_id) VALUES ('01J0000000000000000000NOTE', 900);",
    )
    .unwrap();
    drop(conn);
    let mut archive = Archive::open(&dir).unwrap();
    assert_eq!(
        archive.store().schema_version().unwrap(),
        MIGRATIONS.len() as i64
    );
    let tree = archive.codebook().unwrap();
    let wait = tree.iter().find(|e| e.tag == "=wait-time").unwrap();
    assert_eq!((wait.notes, wait.passages), (1, 0));
    assert_eq!(wait.description.as_deref(), Some("Waiting"));
    let tag = Tag::parse_token("=wait-time").unwrap();
    let p = archive
        .code_span(
            "01J0000000000000000000NOTE",
            &tag,
            &SpanSpec::Quote("Queued for ages".into()),
            "Ana",
        )
        .unwrap();
    assert_eq!((p.start, p.end), (0, 15));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let coders: i64 = conn
        .query_row("SELECT count(*) FROM note_codings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(coders, 0, "old codings have no recorded coder");
    assert!(archive.check().unwrap().is_empty());
}

#[test]
fn whole_note_codings_move_to_their_own_table_with_their_coder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("fieldnotes.db");
    // As 0009 left it: the coder on the note_tags row.
    drop(Store::open_migrated_to(&db, 9).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "INSERT INTO studies (id, name, created_at) VALUES (1, 'Old study', '2024-01-01T09:00:00Z');
         INSERT INTO sessions (id, study_id, kind, started_at)
             VALUES ('01J0000000000000000000SESS', 1, 'interview', '2024-01-01T09:00:00Z');
         UPDATE change_counter SET seq = 1;
         INSERT INTO notes (id, session_id, kind, body, created_at, updated_at, change_seq)
             VALUES ('01J0000000000000000000NOTE', '01J0000000000000000000SESS', 'quote',
                     'Queued for ages =typed', '2024-01-01T09:05:00Z', '2024-01-01T09:05:00Z', 1);
         INSERT INTO tags (id, facet, name) VALUES (900, 'code', 'wait-time'), (901, 'code', 'typed');
         INSERT INTO note_tags (note_id, tag_id, origin, coder)
             VALUES ('01J0000000000000000000NOTE', 900, 'explicit', 'Ana'),
                    ('01J0000000000000000000NOTE', 901, 'inline', NULL);",
    )
    .unwrap();
    drop(conn);
    let mut archive = Archive::open(&dir).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let codings: Vec<String> = conn
        .prepare("SELECT note_id || ' ' || tag_id || ' ' || coder FROM note_codings")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(codings, ["01J0000000000000000000NOTE 900 Ana"]);
    let tags: i64 = conn
        .query_row("SELECT count(*) FROM note_tags", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tags, 2);
    // A second coder's coding of the same note and tag is recorded beside the first.
    let tag = fieldnotes::model::Tag::parse_token("=wait-time").unwrap();
    assert!(
        archive
            .code_note("01J0000000000000000000NOTE", &tag, "Ben")
            .unwrap()
    );
    let coders: i64 = conn
        .query_row("SELECT count(*) FROM note_codings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(coders, 2);
    assert!(archive.check().unwrap().is_empty());
}

#[test]
fn the_session_count_starts_from_the_old_sessions_and_follows_every_new_one() {
    use fieldnotes::model::SessionKind;
    use fieldnotes::store::NewSession;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("fieldnotes.db");
    {
        drop(Store::open_migrated_to(&db, 15).unwrap());
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "INSERT INTO studies (id, name, created_at) VALUES (1, 'Old study', '2024-01-01T09:00:00Z');
             INSERT INTO sessions (id, study_id, kind, started_at)
                 VALUES ('01J0000000000000000000SES1', 1, 'interview', '2024-01-01T09:00:00Z'),
                        ('01J0000000000000000000SES2', 1, 'observation', '2024-01-02T09:00:00Z');",
        )
        .unwrap();
    }
    let mut archive = Archive::open(&dir).unwrap();
    let counted = |archive: &Archive| {
        let listed = archive.store().recent_sessions(1).unwrap();
        let all: i64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .unwrap();
        let all = all as usize;
        assert_eq!(listed.sessions.len(), 1, "a page of one");
        assert_eq!(listed.total, all, "the kept count is the count");
        all
    };
    assert_eq!(
        counted(&archive),
        2,
        "the old sessions, counted by the migration"
    );
    let started = archive
        .start_session(&NewSession::new("Old study", SessionKind::Interview), None)
        .unwrap();
    assert_eq!(counted(&archive), 3, "a new session");
    // A session that is already there is ignored, and so is its count.
    let mut again = NewSession::new("Old study", SessionKind::Interview);
    again.id = Some(started.id.clone());
    archive.start_session(&again, None).unwrap();
    assert_eq!(counted(&archive), 3, "the same session again");
    // An import brings its own session, counted in its transaction.
    let file = tmp.path().join("notes.csv");
    std::fs::write(&file, "text\nThe queue was long #checkout\n").unwrap();
    let options = fieldnotes::io::ImportOptions::new(
        "Imported",
        SessionKind::Interview,
        fieldnotes::model::NoteKind::Observation,
    );
    let format = fieldnotes::io::import_format(&file, None).unwrap();
    let input = fieldnotes::io::open_input(&file).unwrap();
    let import = fieldnotes::io::ImportFile::new(&file, format, options, input).unwrap();
    archive.import_file(import, |_| {}).unwrap();
    assert_eq!(counted(&archive), 4, "an imported session");
}
