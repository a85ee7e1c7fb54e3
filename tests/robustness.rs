//! The archive under stress: concurrent writers, a lost index, a killed import, a second
//! process holding the index writer, a foreign index.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::TestArchive;
use fieldnotes::Archive;

#[test]
fn two_processes_adding_at_once_lose_nothing() {
    let a = TestArchive::new();
    a.start_session();
    std::thread::scope(|s| {
        for writer in 0..2 {
            let a = &a;
            s.spawn(move || {
                for i in 0..50 {
                    a.add(&[&format!("writer{writer} note{i} about the queue #checkout")]);
                }
            });
        }
    });
    assert_eq!(a.count("SELECT count(*) FROM notes"), 100);
    // The next open catches the index up with whatever the other process could not index.
    a.ok(&["check"]);
    assert_eq!(a.json(&["search", "queue"])["total"], 100);
    assert_eq!(a.json(&["search", "writer0"])["total"], 50);
}

#[test]
fn a_deleted_index_is_rebuilt_by_any_command() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    std::fs::remove_dir_all(a.dir.join("index")).unwrap();
    assert!(a.json(&["search", "#checkout"])["total"].as_u64().unwrap() > 0);
    a.ok(&["check"]);
    // Copying fieldnotes.db alone is a whole backup.
    let b = TestArchive::new();
    std::fs::create_dir_all(&b.dir).unwrap();
    std::fs::copy(a.dir.join("fieldnotes.db"), b.dir.join("fieldnotes.db")).unwrap();
    assert_eq!(
        b.json(&["search", "#checkout"])["total"],
        a.json(&["search", "#checkout"])["total"]
    );
    b.ok(&["check"]);
}

#[test]
fn an_index_from_another_archive_is_replaced() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let b = TestArchive::new();
    b.start_session();
    b.add(&["only note in b"]);
    std::fs::remove_dir_all(b.dir.join("index")).unwrap();
    copy_dir(&a.dir.join("index"), &b.dir.join("index"));
    assert_eq!(b.json(&["search"])["total"], 1);
    b.ok(&["check"]);
}

#[test]
fn reindex_rebuilds_from_scratch() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let out = a.json(&["reindex"]);
    assert_eq!(out["indexed"], 390);
    a.ok(&["check"]);
}

#[test]
fn reindex_of_a_missing_index_builds_it_once() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    std::fs::remove_dir_all(a.dir.join("index")).unwrap();
    // Opening the archive makes the missing index from the database; reindex must not make
    // it a second time (each note added is one operation of the index: its opstamp).
    let out = a.json(&["reindex"]);
    assert_eq!(out["indexed"], 390);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.dir.join("index/meta.json")).unwrap()).unwrap();
    let operations = meta["opstamp"].as_u64().unwrap();
    assert!(
        (390..2 * 390).contains(&operations),
        "{operations} operations for 390 notes"
    );
    a.ok(&["check"]);
    // And a reindex of an index that was there rebuilds it.
    a.json(&["reindex"]);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.dir.join("index/meta.json")).unwrap()).unwrap();
    assert!(meta["opstamp"].as_u64().unwrap() >= operations + 390);
    a.ok(&["check"]);
}

#[test]
fn reindex_remakes_an_index_copied_from_elsewhere_without_its_watermark() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let b = TestArchive::new();
    b.start_session();
    b.add(&["zebra crossing that is not in a"]);
    // A's index replaced by B's, with the record of how far it is gone: it holds notes A
    // does not have, and opening A only catches it up.
    std::fs::remove_dir_all(a.dir.join("index")).unwrap();
    copy_dir(&b.dir.join("index"), &a.dir.join("index"));
    let meta_path = a.dir.join("index/meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["payload"] = serde_json::Value::Null;
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    a.ok(&["reindex"]);
    assert_eq!(a.json(&["search", "zebra"])["total"], 0);
    a.ok(&["check"]);
}

#[test]
fn check_reports_an_index_that_lies_and_exits_1() {
    let a = TestArchive::new();
    a.start_session();
    let id = a.add(&["a note #checkout"]);
    // Change the truth behind the index's back, as a bug or a bad restore would.
    a.db()
        .execute(
            "UPDATE notes SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    let out = a.fails(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("deleted, trashed or duplicated") && text.contains(&id),
        "{text}"
    );
    a.ok(&["reindex"]);
    a.ok(&["check"]);
}

#[test]
fn a_second_process_without_the_index_writer_still_saves() {
    let a = TestArchive::new();
    let session = a.start_session();
    let holder = Archive::open(&a.dir).unwrap();
    assert!(holder.index().is_writer());
    let id = a.add(&[
        "--session",
        &session,
        "written while another process holds the index",
    ]);
    assert_eq!(
        a.count(&format!("SELECT count(*) FROM notes WHERE id = '{id}'")),
        1
    );
    let out = a.fails(&["check"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("another fieldnotes process is writing it")
    );
    drop(holder);
    assert_eq!(a.hit_ids(&["holds"]), [id.as_str()]);
    a.ok(&["check"]);
}

/// Kills an import of `n` notes once it is writing; returns whether it was still running then,
/// after checking that the archive holds all of it or none.
fn kill_an_import_of(n: usize) -> bool {
    let a = TestArchive::new();
    a.start_session();
    a.add(&["a note from before the import"]);
    let big = a.path("big.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        for i in 0..n {
            let id = ulid::Ulid::from_parts(1_700_000_000_000 + i as u64, i as u128).to_string();
            writeln!(
                f,
                r#"{{"id":"{id}","kind":"observation","body":"bulk note {i} about waiting at the counter #checkout","created_at":"2026-01-01T00:00:00Z","session":{{"id":"BULK","study":"Bulk","kind":"diary","started_at":"2026-01-01T00:00:00Z"}}}}"#
            )
            .unwrap();
        }
    }
    let mut child = a
        .process()
        .args(["import", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the import is writing, then pull the plug.
    let wal = a.dir.join("fieldnotes.db-wal");
    let start = Instant::now();
    while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) < 2 * 1024 * 1024
        && start.elapsed() < Duration::from_secs(60)
        && child.try_wait().unwrap().is_none()
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed_mid_way = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    a.ok(&["check"]);
    let bulk = a.count("SELECT count(*) FROM notes WHERE session_id = 'BULK'") as usize;
    assert!(
        bulk == 0 || bulk == n,
        "a partial import survived: {bulk} of {n}"
    );
    assert_eq!(a.json(&["search", "bulk"])["total"], bulk);
    assert_eq!(a.json(&["search", "before"])["total"], 1);
    killed_mid_way
}

#[test]
fn a_killed_import_leaves_all_or_nothing() {
    // A machine fast enough to finish before the kill gets a bigger file, rather than a
    // test that depends on its speed.
    let killed = [60_000, 240_000, 960_000]
        .into_iter()
        .any(kill_an_import_of);
    assert!(killed, "every import finished before it could be killed");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
