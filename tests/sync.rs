//! Team sync against a real PostgreSQL server the harness starts (`common::pg`): archives that
//! edit, trash, restore and re-tag the same notes converge whatever order they sync in; a sync
//! killed at any batch and run again ends as an uninterrupted one; ten syncs at once lose
//! nothing; a login that is not a member of a study reads none of it, even with its own SQL.
//! Without PostgreSQL installed the tests say "skipped" (and fail under
//! FIELDNOTES_REQUIRE_TOOLS=1).

mod common;

use std::path::Path;

use common::pg::Postgres;
use fieldnotes::Archive;
use fieldnotes::error::Error;
use fieldnotes::io::{ExportOptions, Format};
use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::query::Filters;
use fieldnotes::store::{NewNote, NewSession};

/// A small deterministic generator, so a failing seed can be run again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The server's schema, and researchers `logins` who are members of `studies`.
fn team(pg: &Postgres, studies: &[&str], logins: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let admin = Archive::open(&dir.path().join("admin")).unwrap();
    admin.add_remote("team", &pg.url("postgres")).unwrap();
    admin.init_remote("team", None).unwrap();
    // A second init changes nothing.
    assert!(admin.init_remote("team", None).unwrap().is_empty());
    let mut sql = pg.admin();
    for login in logins {
        sql.batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN \
               CREATE ROLE {login} LOGIN IN ROLE fieldnotes; END IF; END $$;"
        ))
        .unwrap();
        for study in studies {
            sql.execute(
                "INSERT INTO members (study, login) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[study, login],
            )
            .unwrap();
        }
    }
}

fn archive(dir: &Path, pg: &Postgres, login: &str) -> Archive {
    let archive = Archive::open(dir).unwrap();
    archive.add_remote("team", &pg.url(login)).unwrap();
    archive
}

fn export(archive: &Archive) -> String {
    let mut out = Vec::new();
    archive
        .export(Format::Jsonl, ExportOptions::default(), &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn session(archive: &mut Archive, study: &str) -> String {
    archive
        .start_session(&NewSession::new(study, SessionKind::Interview), None)
        .unwrap()
        .id
}

fn note(archive: &mut Archive, session: &str, body: &str) -> String {
    archive
        .add_note(&NewNote {
            session: session.to_owned(),
            kind: NoteKind::Observation,
            body: body.to_owned(),
            extra_tags: Vec::new(),
            clears_draft: false,
        })
        .unwrap()
        .id
}

fn sync(archive: &mut Archive) -> fieldnotes::sync::SyncReport {
    archive.sync(Some("team"), None).unwrap()
}

#[test]
fn three_archives_editing_the_same_notes_converge_in_any_sync_order() {
    let Some(pg) = Postgres::start() else { return };
    team(&pg, &["Checkout"], &["ana", "ben", "cai"]);
    for seed in [7_u64, 1_234, 99_991] {
        let tmp = tempfile::tempdir().unwrap();
        let mut rng = Rng(seed);
        let mut a = archive(&tmp.path().join("a"), &pg, "ana");
        let mut b = archive(&tmp.path().join("b"), &pg, "ben");
        let mut c = archive(&tmp.path().join("c"), &pg, "cai");
        let s = session(&mut a, "Checkout");
        let ids: Vec<String> = (0..6)
            .map(|i| note(&mut a, &s, &format!("seed{seed} queue note {i} #checkout")))
            .collect();
        sync(&mut a);
        sync(&mut b);
        sync(&mut c);
        // Pulled notes are searchable at once.
        let found = b.search("queue", &Filters::default(), 50).unwrap();
        assert!(found.total >= 6, "pulled notes are in the index");
        let mut written: Vec<String> = Vec::new();
        let tags = [
            "#checkout",
            "#delivery",
            "!frustrated",
            "@busy-parent",
            "=wait",
        ];
        for round in 0..4 {
            for (who, archive) in [&mut a, &mut b, &mut c].into_iter().enumerate() {
                for _ in 0..4 {
                    let id = &ids[rng.below(ids.len())];
                    match rng.below(4) {
                        0 | 1 => {
                            let body = format!(
                                "seed{seed} round {round} by {who} {}",
                                tags[rng.below(tags.len())]
                            );
                            if archive.edit_note(id, &body, None).is_ok() {
                                written.push(body);
                            }
                        }
                        2 => {
                            let _ = archive.trash_note(id);
                        }
                        _ => {
                            let _ = archive.restore_note(id);
                        }
                    }
                }
            }
            let mut order = [0, 1, 2];
            for i in (1..3).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for i in order {
                match i {
                    0 => sync(&mut a),
                    1 => sync(&mut b),
                    _ => sync(&mut c),
                };
            }
        }
        // Two rounds bring everyone to the same notes; a third pushes what the second merged.
        for _ in 0..3 {
            sync(&mut a);
            sync(&mut b);
            sync(&mut c);
        }
        let (ea, eb, ec) = (export(&a), export(&b), export(&c));
        assert_eq!(ea, eb, "seed {seed}: a and b differ");
        assert_eq!(eb, ec, "seed {seed}: b and c differ");
        // Every version anybody wrote is in the history of its note.
        for body in &written {
            assert!(
                ids.iter().any(|id| a
                    .store()
                    .history(id)
                    .unwrap()
                    .iter()
                    .any(|v| &v.body == body)),
                "seed {seed}: the version {body:?} was lost"
            );
        }
        for archive in [&mut a, &mut b, &mut c] {
            assert_eq!(archive.sync_status().unwrap().pending, 0);
            assert_eq!(archive.check().unwrap(), Vec::<String>::new());
        }
    }
}

#[test]
fn a_sync_killed_at_any_batch_and_run_again_ends_as_an_uninterrupted_one() {
    let Some(pg) = Postgres::start() else { return };
    let studies: Vec<String> = (0..12).map(|s| format!("Kill {s}")).collect();
    let names: Vec<&str> = studies.iter().map(String::as_str).collect();
    team(&pg, &names, &["ana", "ben"]);
    let bin = assert_cmd::cargo::cargo_bin("fieldnotes");
    for (seed, study) in studies.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        // Someone else's notes on the server.
        let mut writer = archive(&tmp.path().join("w"), &pg, "ben");
        let ws = session(&mut writer, study);
        for i in 0..25 {
            note(&mut writer, &ws, &format!("their note {i} #checkout"));
        }
        sync(&mut writer);
        // Two identical copies of an archive with its own notes.
        let template = tmp.path().join("t");
        {
            let mut t = archive(&template, &pg, "ana");
            let ts = session(&mut t, study);
            for i in 0..12 {
                note(&mut t, &ts, &format!("my note {i} !confused"));
            }
        }
        let copy = |name: &str| {
            let to = tmp.path().join(name);
            let status = std::process::Command::new("cp")
                .arg("-r")
                .arg(&template)
                .arg(&to)
                .status()
                .unwrap();
            assert!(status.success());
            to
        };
        let (whole, killed) = (copy("whole"), copy("killed"));
        let run = |dir: &Path, abort_after: Option<u64>| {
            let mut cmd = std::process::Command::new(&bin);
            cmd.arg("--archive")
                .arg(dir)
                .args(["sync", "team", "--study", study])
                .env("FIELDNOTES_SYNC_BATCH", "4")
                .env("FIELDNOTES_LOG_DIR", tmp.path().join("logs"))
                .env_remove("FIELDNOTES_SYNC_ABORT_AFTER");
            if let Some(n) = abort_after {
                cmd.env("FIELDNOTES_SYNC_ABORT_AFTER", n.to_string());
            }
            cmd.output().unwrap()
        };
        let out = run(&whole, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // 3 push batches and 10 pull batches: stop after any of them.
        let abort_after = 1 + (Rng(seed as u64 + 11).next() % 12);
        let out = run(&killed, Some(abort_after));
        assert!(
            !out.status.success(),
            "seed {seed}: the sync was to be stopped"
        );
        let out = run(&killed, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let whole = Archive::open(&whole).unwrap();
        let killed = Archive::open(&killed).unwrap();
        assert_eq!(
            export(&whole),
            export(&killed),
            "seed {seed} (stopped after batch {abort_after})"
        );
        assert_eq!(killed.store().live_note_count().unwrap(), 37);
        assert_eq!(killed.sync_status().unwrap().pending, 0);
    }
    // Nothing was stored twice.
    let mut sql = pg.admin();
    let row = sql
        .query_one(
            "SELECT count(*), count(DISTINCT (study, entity)) FROM events WHERE kind = 'note'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), row.get::<_, i64>(1));
    assert_eq!(row.get::<_, i64>(0), 12 * 37);
}

#[test]
fn ten_syncs_at_once_lose_nothing() {
    let Some(pg) = Postgres::start() else { return };
    team(&pg, &["Crowd"], &["ana"]);
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = (0..10).map(|i| tmp.path().join(format!("a{i}"))).collect();
    for (i, dir) in dirs.iter().enumerate() {
        let mut a = archive(dir, &pg, "ana");
        let s = session(&mut a, "Crowd");
        for n in 0..20 {
            note(&mut a, &s, &format!("laptop {i} note {n}"));
        }
    }
    std::thread::scope(|scope| {
        for dir in &dirs {
            scope.spawn(move || {
                let mut a = Archive::open(dir).unwrap();
                sync(&mut a);
            });
        }
    });
    for dir in &dirs {
        let mut a = Archive::open(dir).unwrap();
        sync(&mut a);
        assert_eq!(a.store().live_note_count().unwrap(), 200);
    }
    let mut sql = pg.admin();
    let events: i64 = sql
        .query_one(
            "SELECT count(DISTINCT entity) FROM events WHERE study = 'Crowd' AND kind = 'note'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(events, 200);
}

#[test]
fn a_login_without_membership_reads_and_writes_nothing_of_a_study() {
    let Some(pg) = Postgres::start() else { return };
    team(&pg, &["Secret"], &["ana"]);
    team(&pg, &[], &["eve"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut a = archive(&tmp.path().join("a"), &pg, "ana");
    let s = session(&mut a, "Secret");
    note(&mut a, &s, "the participant's salary is 40k");
    assert_eq!(sync(&mut a).pushed, 1);

    // Eve's own SQL sees nothing and changes nothing.
    let mut eve = pg.connect("eve");
    for table in ["events", "studies", "members"] {
        let n: i64 = eve
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "eve reads {table}");
    }
    let updated = eve
        .execute(
            "UPDATE studies SET last_seq = 0 WHERE study = 'Secret'",
            &[],
        )
        .unwrap();
    assert_eq!(updated, 0);
    assert!(
        eve.execute(
            "INSERT INTO events (study, seq, entity, kind, digest, payload) \
             VALUES ('Secret', 999, 'x', 'note', 'd', '{}')",
            &[],
        )
        .is_err()
    );
    assert!(
        eve.execute("INSERT INTO members VALUES ('Secret', 'eve')", &[])
            .is_err()
    );

    // Eve's archive pulls nothing, and its notes in the study stay on her laptop.
    let mut e = archive(&tmp.path().join("e"), &pg, "eve");
    let es = session(&mut e, "Secret");
    note(&mut e, &es, "eve's note");
    let report = sync(&mut e);
    assert_eq!(report.pulled, 0);
    assert_eq!(report.refused, ["Secret"]);
    assert_eq!(e.store().live_note_count().unwrap(), 1);
    assert_eq!(e.sync_status().unwrap().pending, 1);
}

#[test]
fn a_laptop_clock_an_hour_ahead_does_not_win_what_others_wrote_after_seeing_it() {
    let Some(pg) = Postgres::start() else { return };
    team(&pg, &["Clock"], &["ana", "ben"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut a = archive(&tmp.path().join("a"), &pg, "ana");
    let mut b = archive(&tmp.path().join("b"), &pg, "ben");
    // Ana's laptop clock runs an hour ahead: its clock has seen that time.
    let ahead = chrono::Utc::now().timestamp_millis() + 3_600_000;
    rusqlite::Connection::open(tmp.path().join("a").join("fieldnotes.db"))
        .unwrap()
        .execute("UPDATE sync_clock SET ms = ?1", [ahead])
        .unwrap();
    let s = session(&mut a, "Clock");
    let id = note(&mut a, &s, "written on the fast laptop");
    sync(&mut a);
    sync(&mut b);
    b.edit_note(&id, "corrected after reading it", None)
        .unwrap();
    sync(&mut b);
    sync(&mut a);
    assert_eq!(
        a.store().note(&id).unwrap().body,
        "corrected after reading it"
    );
    assert_eq!(export(&a), export(&b));
}

#[test]
fn an_unreachable_server_leaves_the_archive_unchanged_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(&tmp.path().join("a")).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    a.add_remote(
        "team",
        &format!("postgres://ana:secret@127.0.0.1:{closed}/research"),
    )
    .unwrap();
    // The password was not kept.
    assert_eq!(
        a.remotes().unwrap()[0].url,
        format!("postgres://ana@127.0.0.1:{closed}/research")
    );
    let s = session(&mut a, "Offline");
    note(&mut a, &s, "written in a customer's kitchen");
    let before = export(&a);
    let err = a.sync(None, None).unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot reach the team server team")
    );
    assert_eq!(export(&a), before);
    let status = a.sync_status().unwrap();
    assert_eq!(status.pending, 1);
    assert!(status.last_error.is_some());
    // And the app's writes go on.
    note(&mut a, &s, "still writing");
}

#[test]
fn the_jsonl_merge_follows_the_same_rules_as_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(&tmp.path().join("a")).unwrap();
    let s = session(&mut a, "Files");
    let id = note(&mut a, &s, "first words");
    let file = tmp.path().join("a.jsonl");
    a.export_file(&file, Format::Jsonl, ExportOptions::default())
        .unwrap();
    let mut b = Archive::open(&tmp.path().join("b")).unwrap();
    b.merge(&fieldnotes::io::read_for_merge(&file, None).unwrap())
        .unwrap();
    // A deletes; B, later, restores after deleting: the restore is newer and wins.
    a.trash_note(&id).unwrap();
    // Later by the clock (one laptop's stamps alone cannot order two laptops' changes made
    // in the same millisecond without having seen each other).
    std::thread::sleep(std::time::Duration::from_millis(5));
    b.trash_note(&id).unwrap();
    b.restore_note(&id).unwrap();
    let a_file = tmp.path().join("a2.jsonl");
    a.export_file(&a_file, Format::Jsonl, ExportOptions::default())
        .unwrap();
    let b_file = tmp.path().join("b2.jsonl");
    b.export_file(&b_file, Format::Jsonl, ExportOptions::default())
        .unwrap();
    b.merge(&fieldnotes::io::read_for_merge(&a_file, None).unwrap())
        .unwrap();
    a.merge(&fieldnotes::io::read_for_merge(&b_file, None).unwrap())
        .unwrap();
    assert_eq!(a.store().note(&id).unwrap().deleted_at, None);
    assert_eq!(export(&a), export(&b));
}
