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
use fieldnotes::analysis::KeptTheme;
use fieldnotes::error::Error;
use fieldnotes::io::{ExportOptions, Format};
use fieldnotes::model::{
    InsightConfidence, Measure, NoteKind, Participant, SessionKind, SpanSpec, Tag,
};
use fieldnotes::query::Filters;
use fieldnotes::store::CodeNotes;
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

fn tag(token: &str) -> Tag {
    Tag::parse_token(token).unwrap()
}

/// The codebook's tree and colours, sorted: what must be the same on every laptop.
fn tree(archive: &Archive) -> Vec<(String, Option<String>, Option<String>)> {
    let mut links: Vec<_> = archive
        .store()
        .tag_parents_and_colours()
        .unwrap()
        .into_iter()
        .map(|(t, (parent, colour))| (t.to_string(), parent, colour))
        .collect();
    links.sort();
    links
}

/// Two exports are the same; if not, the first lines that differ say how.
fn assert_same(left: &str, right: &str, what: &str) {
    if left == right {
        return;
    }
    let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    let at = l
        .iter()
        .zip(&r)
        .position(|(x, y)| x != y)
        .unwrap_or(l.len().min(r.len()));
    panic!(
        "{what} differ at line {at} ({} and {} lines):\n{}\n{}",
        l.len(),
        r.len(),
        l.get(at).unwrap_or(&"(end)"),
        r.get(at).unwrap_or(&"(end)")
    );
}

/// Every coding of the live notes, sorted.
fn codings(archive: &Archive) -> Vec<String> {
    let mut all: Vec<String> = archive
        .store()
        .codings(None)
        .unwrap()
        .into_iter()
        .map(|c| format!("{} {} {:?} {:?}", c.note, c.code, c.span, c.coder))
        .collect();
    all.sort();
    all
}

/// Every parent chain ends: no tag is its own ancestor.
fn assert_no_cycle(archive: &Archive) {
    let links = tree(archive);
    let parent = |name: &str| {
        links
            .iter()
            .find(|(t, _, _)| &t[1..] == name)
            .and_then(|(_, p, _)| p.clone())
    };
    for (t, _, _) in &links {
        let mut at = Some(t[1..].to_owned());
        for _ in 0..=links.len() {
            at = at.and_then(|n| parent(&n));
        }
        assert_eq!(at, None, "{t} is in a cycle: {links:?}");
    }
}

/// One researcher's random change to something that is not a note's text.
fn edit_records(archive: &mut Archive, rng: &mut Rng, who: usize, round: usize, notes: &[String]) {
    let codes = ["=wait", "=queue", "=staff"];
    let label = format!("r{round} by {who}");
    match rng.below(9) {
        0 => {
            let notes = CodeNotes {
                description: Some(format!("described {label}")),
                memo: None,
                colour: Some(["#aa0000", "#00aa00"][rng.below(2)].to_owned()),
            };
            archive
                .describe_code(&tag(codes[rng.below(3)]), &notes)
                .unwrap();
        }
        1 => {
            let child = tag(codes[rng.below(3)]);
            let parent = tag(codes[rng.below(3)]);
            // A cycle made here alone is refused here; one made across laptops is the merge's.
            let _ = archive.set_code_parent(&child, (rng.below(3) > 0).then_some(&parent));
        }
        2 => {
            archive.set_consent("P1", rng.below(2) == 0).unwrap();
        }
        3 => {
            let name = vec!["Maria".to_owned()];
            let (add, remove) = if rng.below(2) == 0 {
                (name, Vec::new())
            } else {
                (Vec::new(), name)
            };
            archive
                .edit_masked_names("Checkout", &add, &remove)
                .unwrap();
        }
        4 => {
            let evidence = vec![notes[rng.below(notes.len())].clone()];
            archive
                .keep_theme(&KeptTheme {
                    id: "t-waiting".into(),
                    label: format!("waiting {label}"),
                    phrases: vec!["wait".into()],
                    notes: evidence,
                })
                .unwrap();
        }
        5 => {
            let _ = archive.rename_theme("t-waiting", &format!("renamed {label}"));
        }
        6 => {
            let id = match archive.store().insights().unwrap().first() {
                Some(i) => i.id,
                None => {
                    archive
                        .add_insight("Queues cost sales", &notes[..2], None, None)
                        .unwrap()
                        .id
                }
            };
            let confidence = [
                InsightConfidence::Low,
                InsightConfidence::Medium,
                InsightConfidence::High,
            ][rng.below(3)];
            archive
                .set_insight_confidence(id, Some(confidence))
                .unwrap();
        }
        7 => {
            let session = archive.store().note(&notes[0]).unwrap().session;
            let nps = Measure {
                name: "nps".into(),
                value: rng.below(11) as f64,
            };
            archive.set_session_measures(&session, &[nps]).unwrap();
        }
        _ => {
            let note = &notes[rng.below(notes.len())];
            let (code, span) = (tag("=coded"), tag("=span"));
            // Whole-note codings and passages (on words every version of the note has),
            // coded and taken off; refused ones (a trashed note) change nothing.
            let _ = match rng.below(4) {
                0 => archive.code_note(note, &code, "ana").map(drop),
                1 => archive.uncode_note(note, &code, Some("ana")),
                2 => archive
                    .code_span(note, &span, &SpanSpec::Quote("seed".into()), "ana")
                    .map(drop),
                _ => archive
                    .uncode_span(note, &span, None, Some("ana"))
                    .map(drop),
            };
        }
    }
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
        let s = a
            .start_session(
                &NewSession {
                    participants: vec![Participant {
                        pseudonym: "P1".into(),
                        consent: true,
                        consent_date: Some("2026-09-01".into()),
                        contact: None,
                    }],
                    ..NewSession::new("Checkout", SessionKind::Interview)
                },
                None,
            )
            .unwrap()
            .id;
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
                    // And the codebook, consent, masked names, curation, insights, measures
                    // and codings, concurrently.
                    edit_records(archive, &mut rng, who, round, &ids);
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
        assert_same(&ea, &eb, &format!("seed {seed}: a and b"));
        assert_same(&eb, &ec, &format!("seed {seed}: b and c"));
        // The records made it into the exports (so the comparison above covers them).
        for kind in [
            "tag",
            "participant",
            "theme",
            "insight",
            "measure",
            "masked",
        ] {
            assert!(
                ea.contains(&format!("{{\"record\":{{\"kind\":\"{kind}\"")),
                "seed {seed}: no {kind} record in the export"
            );
        }
        // What the records make of the archive is the same too.
        assert_eq!(tree(&a), tree(&b), "seed {seed}: codebooks differ");
        assert_eq!(tree(&b), tree(&c), "seed {seed}: codebooks differ");
        assert_no_cycle(&a);
        for archive in [&b, &c] {
            assert_eq!(
                archive.store().participant("P1").unwrap(),
                a.store().participant("P1").unwrap()
            );
            assert_eq!(
                archive.store().masked_names(None).unwrap(),
                a.store().masked_names(None).unwrap()
            );
            assert_eq!(codings(archive), codings(&a));
        }
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
    // Her note and her session (a record) wait.
    assert_eq!(e.sync_status().unwrap().pending, 2);
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
    // The note and its session (a record).
    assert_eq!(status.pending, 2);
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

/// Ana's and Ben's archives, both members of `study` (the folder they are in goes first).
fn ana_and_ben(pg: &Postgres, study: &str) -> (tempfile::TempDir, Archive, Archive) {
    team(pg, &[study], &["ana", "ben"]);
    let tmp = tempfile::tempdir().unwrap();
    let a = archive(&tmp.path().join("a"), pg, "ana");
    let b = archive(&tmp.path().join("b"), pg, "ben");
    (tmp, a, b)
}

fn with_participant(study: &str, pseudonym: &str) -> NewSession {
    NewSession {
        participants: vec![Participant {
            pseudonym: pseudonym.into(),
            consent: true,
            consent_date: Some("2026-09-01".into()),
            contact: None,
        }],
        ..NewSession::new(study, SessionKind::Interview)
    }
}

#[test]
fn consent_withdrawn_on_one_laptop_is_withdrawn_on_every_laptop() {
    let Some(pg) = Postgres::start() else { return };
    let (_tmp, mut a, mut b) = ana_and_ben(&pg, "Consent");
    let s = a
        .start_session(&with_participant("Consent", "P7"), None)
        .unwrap()
        .id;
    note(&mut a, &s, "first words");
    sync(&mut a);
    sync(&mut b);
    assert!(b.store().participant("P7").unwrap().unwrap().consent);
    // Ben withdraws; Ana, who has not heard yet, writes another note, whose session line
    // still says "consent given" (with no stamp of its own).
    b.set_consent("P7", false).unwrap();
    // The withdrawal waits for the next sync, and the app says so.
    assert_eq!(b.sync_status().unwrap().pending, 1);
    note(&mut a, &s, "more words");
    sync(&mut b);
    assert_eq!(b.sync_status().unwrap().pending, 0);
    sync(&mut a);
    sync(&mut b);
    for archive in [&a, &b] {
        let p = archive.store().participant("P7").unwrap().unwrap();
        assert!(!p.consent, "consent came back: {p:?}");
    }
    assert_eq!(export(&a), export(&b));
    // Given again later, it travels again.
    a.set_consent("P7", true).unwrap();
    sync(&mut a);
    sync(&mut b);
    assert!(b.store().participant("P7").unwrap().unwrap().consent);
}

#[test]
fn a_hierarchy_cycle_made_on_two_laptops_cannot_form() {
    let Some(pg) = Postgres::start() else { return };
    let (_tmp, mut a, mut b) = ana_and_ben(&pg, "Codebook");
    let s = session(&mut a, "Codebook");
    note(&mut a, &s, "queue at the till =waiting =queueing");
    sync(&mut a);
    sync(&mut b);
    // Each alone is fine; together they are a cycle. Ana's comes first.
    a.set_code_parent(&tag("=waiting"), Some(&tag("=queueing")))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    b.set_code_parent(&tag("=queueing"), Some(&tag("=waiting")))
        .unwrap();
    sync(&mut b);
    sync(&mut a);
    sync(&mut b);
    assert_eq!(tree(&a), tree(&b));
    assert_no_cycle(&a);
    // The older choice stays; the one that would close the cycle is left out.
    let waiting = tree(&a)
        .into_iter()
        .find(|(t, _, _)| t == "=waiting")
        .unwrap();
    assert_eq!(waiting.1.as_deref(), Some("queueing"));
    assert!(
        !tree(&a)
            .iter()
            .any(|(t, p, _)| t == "=queueing" && p.is_some())
    );
    assert_eq!(export(&a), export(&b));
    // A description travels with the codebook.
    b.describe_code(
        &tag("=waiting"),
        &CodeNotes {
            description: Some("time before being served".into()),
            memo: None,
            colour: None,
        },
    )
    .unwrap();
    sync(&mut b);
    sync(&mut a);
    let entry = a
        .codebook()
        .unwrap()
        .into_iter()
        .find(|e| e.tag == "=waiting")
        .unwrap();
    assert_eq!(
        entry.description.as_deref(),
        Some("time before being served")
    );
}

#[test]
fn an_untag_on_one_laptop_travels_to_the_others() {
    let Some(pg) = Postgres::start() else { return };
    let (_tmp, mut a, mut b) = ana_and_ben(&pg, "Untag");
    let s = session(&mut a, "Untag");
    let id = note(&mut a, &s, "waited six minutes at the counter");
    a.code_note(&id, &tag("=wait-time"), "ana").unwrap();
    a.code_span(
        &id,
        &tag("=staff"),
        &SpanSpec::Quote("at the counter".into()),
        "ana",
    )
    .unwrap();
    sync(&mut a);
    sync(&mut b);
    assert_eq!(codings(&b).len(), 2, "{:?}", codings(&b));
    b.uncode_note(&id, &tag("=wait-time"), Some("ana")).unwrap();
    b.uncode_span(&id, &tag("=staff"), None, Some("ana"))
        .unwrap();
    sync(&mut b);
    sync(&mut a);
    sync(&mut b);
    assert_eq!(codings(&a), Vec::<String>::new());
    assert_eq!(codings(&b), Vec::<String>::new());
    assert_eq!(export(&a), export(&b));
    // Coded again afterwards, the newer coding wins.
    a.code_note(&id, &tag("=wait-time"), "ana").unwrap();
    sync(&mut a);
    sync(&mut b);
    assert_eq!(codings(&b).len(), 1);
    assert_eq!(export(&a), export(&b));
}

#[test]
fn a_curated_theme_and_an_empty_session_travel() {
    let Some(pg) = Postgres::start() else { return };
    let (_tmp, mut a, mut b) = ana_and_ben(&pg, "Themes");
    let s = session(&mut a, "Themes");
    let id = note(&mut a, &s, "the queue was long again");
    a.keep_theme(&KeptTheme {
        id: "t-queue".into(),
        label: "Long queues".into(),
        phrases: vec!["queue".into()],
        notes: vec![id.clone()],
    })
    .unwrap();
    // A session planned with its details, no notes yet.
    let planned = a
        .start_session(
            &NewSession {
                title: Some("Store visit, Leeds".into()),
                location: Some("Leeds".into()),
                ..NewSession::new("Themes", SessionKind::Observation)
            },
            None,
        )
        .unwrap()
        .id;
    sync(&mut a);
    sync(&mut b);
    let visit = b.store().session(&planned).unwrap();
    assert_eq!(visit.title.as_deref(), Some("Store visit, Leeds"));
    assert_eq!(visit.location.as_deref(), Some("Leeds"));
    b.rename_theme("t-queue", "Queues at the till").unwrap();
    sync(&mut b);
    sync(&mut a);
    let themes = a.store().curated_themes().unwrap();
    assert_eq!(themes.len(), 1);
    assert_eq!(themes[0].label, "Queues at the till");
    assert_eq!(themes[0].notes, [id]);
    assert_eq!(export(&a), export(&b));
}

#[test]
fn a_mystery_shop_visit_travels_with_its_scorecard_and_answers() {
    let Some(pg) = Postgres::start() else { return };
    let (_tmp, mut a, mut b) = ana_and_ben(&pg, "Visits");
    let card = fieldnotes::mystery_shop::parse(common::STORE_VISIT_CARD).unwrap();
    a.import_scorecard(&card, "card.toml").unwrap();
    let s = a
        .start_session(
            &NewSession {
                location: Some("Leeds".into()),
                ..NewSession::new("Visits", SessionKind::MysteryShop)
            },
            Some("Store visit"),
        )
        .unwrap()
        .id;
    a.answer_visit(&s, "greeted", "yes", None, false).unwrap();
    sync(&mut a);
    sync(&mut b);
    let on_b = b.visit_state(&s).unwrap();
    assert_eq!(on_b.scorecard.card, card);
    assert_eq!(on_b.answers, a.visit_state(&s).unwrap().answers);
    // Ben answers the rest, with a note beside it; Ana sees it.
    b.answer_visit(&s, "knowledge", "4", Some("knew every model"), false)
        .unwrap();
    sync(&mut b);
    sync(&mut a);
    let on_a = a.visit_state(&s).unwrap();
    assert_eq!(on_a.answers, b.visit_state(&s).unwrap().answers);
    assert_eq!(on_a.answers.len(), 2);
    assert_eq!(export(&a), export(&b));
}

#[test]
fn sslmode_require_encrypts_and_verify_full_checks_the_certificate_and_host() {
    let Some(pg) = Postgres::start_tls() else {
        return;
    };
    team(&pg, &["Tls"], &["ana"]);
    let tmp = tempfile::tempdir().unwrap();
    let root = pg.root_cert();
    let root = root.to_str().unwrap();
    let url =
        |host: &str, options: &str| format!("postgres://ana@{host}:{}/postgres?{options}", pg.port);
    // Connects, and the server says the connection is encrypted.
    let encrypted = |url: &str| -> Result<bool, Error> {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Archive::open(&dir.path().join("a")).unwrap();
        a.add_remote("team", url).unwrap();
        a.sync(Some("team"), None)?;
        let mut server = fieldnotes::sync::connect("team", url)?;
        server.encrypted()
    };
    assert!(!encrypted(&url("127.0.0.1", "sslmode=disable")).unwrap());
    // require: encrypted, the self-signed certificate not checked.
    assert!(encrypted(&url("127.0.0.1", "sslmode=require")).unwrap());
    // verify-full: the certificate is checked against its root and names the host.
    let full = format!("sslmode=verify-full&sslrootcert={root}");
    assert!(encrypted(&url("localhost", &full)).unwrap());
    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca not.
    let err = encrypted(&url("127.0.0.1", &full)).unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    let ca = format!("sslmode=verify-ca&sslrootcert={root}");
    assert!(encrypted(&url("127.0.0.1", &ca)).unwrap());
    // A root the certificate does not come from is refused.
    let other = tmp.path().join("other.crt");
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(tmp.path().join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success());
    let wrong = format!("sslmode=verify-full&sslrootcert={}", other.display());
    assert!(encrypted(&url("localhost", &wrong)).is_err());
    // verify-full with no root certificate to check against says what to give.
    let err = fieldnotes::sync::connect("team", &url("localhost", "sslmode=verify-full"));
    if std::env::var_os("PGSSLROOTCERT").is_none() {
        let err = err.err().expect("no root certificate");
        assert!(err.to_string().contains("sslrootcert"), "{err}");
    }
}

#[test]
fn the_jsonl_merge_carries_records_by_the_same_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(&tmp.path().join("a")).unwrap();
    let s = a
        .start_session(&with_participant("Files", "P3"), None)
        .unwrap()
        .id;
    let id = note(&mut a, &s, "the queue went out of the door");
    a.code_note(&id, &tag("=queue"), "ana").unwrap();
    let file = tmp.path().join("a.jsonl");
    a.export_file(&file, Format::Jsonl, ExportOptions::default())
        .unwrap();
    let mut b = Archive::open(&tmp.path().join("b")).unwrap();
    b.merge(&fieldnotes::io::read_for_merge(&file, None).unwrap())
        .unwrap();
    assert_eq!(codings(&b).len(), 1);
    // Later, on A: consent withdrawn, the code described and taken off the note.
    a.set_consent("P3", false).unwrap();
    a.describe_code(
        &tag("=queue"),
        &CodeNotes {
            description: Some("waiting in line".into()),
            memo: None,
            colour: Some("#aa0000".into()),
        },
    )
    .unwrap();
    a.uncode_note(&id, &tag("=queue"), Some("ana")).unwrap();
    a.export_file(&file, Format::Jsonl, ExportOptions::default())
        .unwrap();
    let counts = b
        .merge(&fieldnotes::io::read_for_merge(&file, None).unwrap())
        .unwrap();
    assert!(counts.records >= 3, "{counts:?}");
    assert!(!b.store().participant("P3").unwrap().unwrap().consent);
    assert_eq!(codings(&b), Vec::<String>::new());
    assert_eq!(tree(&b), tree(&a));
    // And back: A takes in B's file and nothing changes; both export the same.
    let b_file = tmp.path().join("b.jsonl");
    b.export_file(&b_file, Format::Jsonl, ExportOptions::default())
        .unwrap();
    a.merge(&fieldnotes::io::read_for_merge(&b_file, None).unwrap())
        .unwrap();
    assert_same(&export(&a), &export(&b), "a and b");
    // An import of the export into an empty archive restores the records as they are.
    let mut c = Archive::open(&tmp.path().join("c")).unwrap();
    let format = fieldnotes::io::import_format(&file, None).unwrap();
    let options =
        fieldnotes::io::ImportOptions::new("Files", SessionKind::Interview, NoteKind::Quote);
    let input = fieldnotes::io::open_input(&file).unwrap();
    let import = fieldnotes::io::ImportFile::new(&file, format, options, input).unwrap();
    c.import_file(import, |_| {}).unwrap();
    assert_same(
        &export(&c),
        &std::fs::read_to_string(&file).unwrap(),
        "the copy",
    );
}

#[test]
fn a_hierarchy_cycle_cannot_form_through_jsonl_files_either() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(&tmp.path().join("a")).unwrap();
    let s = session(&mut a, "Files");
    note(&mut a, &s, "queue at the till =waiting =queueing");
    let publish = |archive: &Archive, name: &str| {
        let file = tmp.path().join(name);
        archive
            .export_file(&file, Format::Jsonl, ExportOptions::default())
            .unwrap();
        fieldnotes::io::read_for_merge(&file, None).unwrap()
    };
    let mut b = Archive::open(&tmp.path().join("b")).unwrap();
    b.merge(&publish(&a, "base.jsonl")).unwrap();
    a.set_code_parent(&tag("=waiting"), Some(&tag("=queueing")))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    b.set_code_parent(&tag("=queueing"), Some(&tag("=waiting")))
        .unwrap();
    let (from_a, from_b) = (publish(&a, "a.jsonl"), publish(&b, "b.jsonl"));
    a.merge(&from_b).unwrap();
    b.merge(&from_a).unwrap();
    assert_eq!(tree(&a), tree(&b));
    assert_no_cycle(&a);
    assert!(tree(&a).contains(&("=waiting".into(), Some("queueing".into()), None)));
    assert_same(&export(&a), &export(&b), "a and b");
}

/// A theme or an insight says something of the notes it cites: a login outside their study
/// gets neither, while the study it shares receives what is of it.
#[test]
fn themes_and_insights_go_only_to_their_notes_studies() {
    let Some(pg) = Postgres::start() else { return };
    team(&pg, &["Private", "Shared"], &["ana"]);
    team(&pg, &["Shared"], &["ben"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut a = archive(&tmp.path().join("ana"), &pg, "ana");
    let mut b = archive(&tmp.path().join("ben"), &pg, "ben");
    let private = session(&mut a, "Private");
    let secret = note(&mut a, &private, "the pharmacy refused the prescription");
    let shared = session(&mut a, "Shared");
    let open = note(&mut a, &shared, "the queue at the till was long");
    a.keep_theme(&KeptTheme {
        id: "t-refusals".into(),
        label: "Refused prescriptions".into(),
        phrases: vec!["prescription".into()],
        notes: vec![secret.clone()],
    })
    .unwrap();
    a.add_insight(
        "Refusals drive people away",
        std::slice::from_ref(&secret),
        None,
        None,
    )
    .unwrap();
    a.add_insight(
        "Queues cost promoters",
        std::slice::from_ref(&open),
        None,
        None,
    )
    .unwrap();
    sync(&mut a);
    sync(&mut b);
    assert!(b.store().curated_themes().unwrap().is_empty());
    let statements: Vec<String> = b
        .store()
        .insights()
        .unwrap()
        .into_iter()
        .map(|i| i.statement)
        .collect();
    assert_eq!(statements, ["Queues cost promoters"]);
    // On the server too: nothing of the private theme or insight under the shared study.
    let mut sql = pg.admin();
    let leaked: i64 = sql
        .query_one(
            "SELECT count(*) FROM events WHERE study = 'Shared' \
             AND (payload LIKE '%Refus%' OR payload LIKE '%prescription%')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leaked, 0);
}
