//! Team sync against a local PostgreSQL (issue 19's goals): the first push of 100,000 notes
//! (≥ 20,000 notes/s), an incremental sync of 100 changed notes (≤ 200 ms), and the pull of
//! the 100,000 notes into an empty archive, indexed (≥ 20,000 notes/s).
//!
//!     cargo bench --bench sync              # 100,000 notes
//!     cargo bench --bench sync -- --quick   # 10,000 notes
//!
//! It starts its own throwaway server like the tests (`tests/common/pg.rs`); without
//! PostgreSQL installed it says so and ends. Making the first archive is not timed.

#[path = "../tests/common/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use fieldnotes::Archive;
use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::store::{NewSession, NoteRecord};

const STUDY: &str = "Checkout journey";

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let notes: usize = if quick { 10_000 } else { 100_000 };
    let Some(server) = pg::Postgres::start() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut sql = server.admin();
    let mut first = Archive::open(&tmp.path().join("first")).expect("archive");
    first
        .add_remote("team", &server.url("postgres"))
        .expect("remote");
    first.init_remote("team", None).expect("init");
    sql.batch_execute(&format!(
        "CREATE ROLE ana LOGIN IN ROLE fieldnotes; INSERT INTO members VALUES ('{STUDY}', 'ana');"
    ))
    .expect("membership");
    first.remove_remote("team").expect("remove");
    first
        .add_remote("team", &server.url("ana"))
        .expect("remote");

    // 100 sessions of notes with a few tags each, as an import writes them.
    let words = [
        "queue", "till", "staff", "card", "receipt", "basket", "price", "app",
    ];
    let tags = [
        "#checkout",
        "!frustrated",
        "@busy-parent",
        "+quick-pickup",
        "=wait",
    ];
    let start = chrono::Utc::now() - chrono::Duration::days(30);
    first
        .import(
            |sink| {
                for s in 0..100 {
                    let id = format!("01K{s:023}");
                    sink.session(&NewSession {
                        id: Some(id.clone()),
                        started_at: Some(start),
                        ..NewSession::new(STUDY, SessionKind::Interview)
                    })?;
                    for n in 0..notes / 100 {
                        let i = s * (notes / 100) + n;
                        let body = format!(
                            "note {i}: the {} at the {} took long {} {}",
                            words[i % 8],
                            words[(i / 8) % 8],
                            tags[i % 5],
                            tags[(i / 5) % 5]
                        );
                        sink.note(&NoteRecord::written(
                            format!("01K{i:023}"),
                            id.clone(),
                            NoteKind::Observation,
                            body,
                            start + chrono::Duration::seconds(i as i64),
                        ))?;
                    }
                }
                Ok(())
            },
            |_| {},
        )
        .expect("import");

    let began = Instant::now();
    let report = first.sync(Some("team"), None).expect("first push");
    let push = began.elapsed();
    assert_eq!(report.pushed as usize, notes);

    let ids: Vec<String> = (0..100).map(|i| format!("01K{:023}", i * 97)).collect();
    for id in &ids {
        first
            .edit_note(id, "edited on the train #delivery", None)
            .expect("edit");
    }
    let began = Instant::now();
    let report = first.sync(Some("team"), None).expect("incremental sync");
    let incremental = began.elapsed();
    assert_eq!(report.pushed, 100);

    let mut second = Archive::open(&tmp.path().join("second")).expect("archive");
    second
        .add_remote("team", &server.url("ana"))
        .expect("remote");
    let began = Instant::now();
    let report = second.sync(Some("team"), None).expect("pull");
    let pull = began.elapsed();
    // Every note's two states (first and edited), and the 100 sessions' records.
    assert_eq!(report.pulled as usize, notes + 100 + 100);
    assert_eq!(
        second.store().live_note_count().expect("count") as usize,
        notes
    );
    let found = second
        .search("edited train", &fieldnotes::query::Filters::default(), 10)
        .expect("search");
    assert_eq!(found.total, 100, "the pulled notes are searchable");

    let rate = |d: Duration| notes as f64 / d.as_secs_f64();
    println!("sync with a local PostgreSQL, {notes} notes");
    println!(
        "  first push        {:>10.0} notes/s  ({:.2} s)   goal ≥ 20,000 notes/s",
        rate(push),
        push.as_secs_f64()
    );
    println!(
        "  incremental sync  {:>10.1} ms    (100 changed notes)   goal ≤ 200 ms",
        incremental.as_secs_f64() * 1000.0
    );
    println!(
        "  pull, indexed     {:>10.0} notes/s  ({:.2} s)   goal ≥ 20,000 notes/s",
        rate(pull),
        pull.as_secs_f64()
    );
}
