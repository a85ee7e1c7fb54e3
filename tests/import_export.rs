//! JSONL and CSV in and out: lossless round trips, all-or-nothing imports, no duplicates.

mod common;

use common::{TestArchive, write};

#[test]
fn jsonl_round_trip_is_lossless() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    a.start_session();
    let id = a.add(&["--kind", "quote", "First words #checkout !annoyed"]);
    a.ok(&["edit", &id, "Second words #checkout !angry =wait-time"]);
    let trashed = a.add(&["Quokkas belong in the trash @student"]);
    a.ok(&["rm", &trashed]);
    let first = a.path("first.jsonl");
    a.ok(&["export", "-o", first.to_str().unwrap()]);

    let b = TestArchive::new();
    let imported = b.json(&["import", first.to_str().unwrap()]);
    assert_eq!(imported["added"], 392);
    let second = b.path("second.jsonl");
    b.ok(&["export", "-o", second.to_str().unwrap()]);
    let (x, y) = (
        std::fs::read_to_string(&first).unwrap(),
        std::fs::read_to_string(&second).unwrap(),
    );
    // One line per note, then the stamped records (codebook, participants, sessions…).
    let records = x.lines().filter(|l| l.starts_with("{\"record\"")).count();
    assert_eq!(x.lines().count() - records, 392);
    assert!(records > 0, "the export carries no records");
    assert!(x == y, "the second export differs from the first");
    // Revisions, trash and participants came across.
    assert_eq!(b.count("SELECT count(*) FROM note_revisions"), 1);
    assert_eq!(
        b.count("SELECT count(*) FROM notes WHERE deleted_at IS NOT NULL"),
        1
    );
    assert_eq!(
        b.json(&["history", &id])["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(b.hit_ids(&["quokkas"]).is_empty());
    b.ok(&["check"]);
}

#[test]
fn importing_the_same_notes_twice_adds_nothing() {
    let a = TestArchive::new();
    let csv = a.path("survey.csv");
    write(
        &csv,
        "text,persona,touchpoint,emotion\nThe app logged me out,student,app-login,frustrated\nGreat,,,\nGreat,,,\n",
    );
    let first = a.json(&["import", csv.to_str().unwrap()]);
    assert_eq!(first["added"], 3, "two identical rows are two notes");
    let again = a.json(&["import", csv.to_str().unwrap()]);
    assert_eq!(again["added"], 0);
    assert_eq!(again["already_present"], 3);
    assert_eq!(a.count("SELECT count(*) FROM notes"), 3);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 1);
    let jsonl = a.path("all.jsonl");
    a.ok(&["export", "-o", jsonl.to_str().unwrap()]);
    assert_eq!(a.json(&["import", jsonl.to_str().unwrap()])["added"], 0);
    a.ok(&["check"]);
}

#[test]
fn csv_columns_become_kind_tags_sessions_and_times() {
    let a = TestArchive::new();
    let csv = a.path("notes.csv");
    write(
        &csv,
        "text,kind,persona,touchpoint,emotion,job,code,session,created_at\n\
         \"Queue, again\",quote,busy-parent; student,checkout,angry,quick-pickup,wait-time,Store visit 1,2026-09-03 10:15\n\
         Signs were clear #store-layout,observation,,,pleased,,,Store visit 1,2026-09-03T10:20:00Z\n\
         Delivery late,,,delivery,,,,Call 2,\n",
    );
    a.ok(&["import", csv.to_str().unwrap(), "--study", "Survey 2026"]);
    let hits = a.json(&["search", "queue"]);
    let hit = &hits["hits"][0];
    assert_eq!(hit["kind"], "quote");
    assert_eq!(
        hit["tags"]["persona"],
        serde_json::json!(["busy-parent", "student"])
    );
    assert_eq!(hit["tags"]["code"], serde_json::json!(["wait-time"]));
    assert_eq!(hit["created_at"], "2026-09-03T10:15:00Z");
    let layout = a.json(&["search", "#store-layout"]);
    assert_eq!(
        layout["hits"][0]["tags"]["emotion"],
        serde_json::json!(["pleased"])
    );
    let sessions = a.json(&["session", "list", "--study", "Survey 2026"]);
    let titles: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2);
    assert!(titles.contains(&"Store visit 1") && titles.contains(&"Call 2"));
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE source LIKE '%notes.csv'"),
        3
    );
}

#[test]
fn a_bad_csv_row_imports_nothing_and_names_its_line() {
    let a = TestArchive::new();
    let csv = a.path("bad.csv");
    write(
        &csv,
        "text,kind,created_at\nfine,quote,2026-09-01\nalso fine,observation,\nbroken,gossip,\n",
    );
    let out = a.fails(&["import", csv.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv: line 4"), "{err}");
    assert!(err.contains("gossip"), "{err}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);

    write(&csv, "text,created_at\nfine,2026-09-01\nlater,yesterday\n");
    let err =
        String::from_utf8_lossy(&a.fails(&["import", csv.to_str().unwrap()]).stderr).into_owned();
    assert!(
        err.contains("line 3") && err.contains("created_at"),
        "{err}"
    );

    write(&csv, "text,kind\nfine,quote\ntoo,many,cells\n");
    let err =
        String::from_utf8_lossy(&a.fails(&["import", csv.to_str().unwrap()]).stderr).into_owned();
    assert!(err.contains("line 3") && err.contains("3 cells"), "{err}");

    write(&csv, "words,kind\nfine,quote\n");
    let err =
        String::from_utf8_lossy(&a.fails(&["import", csv.to_str().unwrap()]).stderr).into_owned();
    assert!(err.contains("no `text` column"), "{err}");

    let mut bytes = b"text\nfine\nbad \xff\xfe bytes\n".to_vec();
    bytes.extend_from_slice(b"more\n");
    write(&csv, bytes);
    let err =
        String::from_utf8_lossy(&a.fails(&["import", csv.to_str().unwrap()]).stderr).into_owned();
    assert!(err.contains("line 3") && err.contains("UTF-8"), "{err}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
}

#[test]
fn a_bad_jsonl_line_imports_nothing() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let good = a.path("good.jsonl");
    a.ok(&["export", "-o", good.to_str().unwrap()]);
    let text = std::fs::read_to_string(&good).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.truncate(20);
    let truncated = lines[19][..lines[19].len() / 2].to_owned();
    lines[19] = &truncated;
    let bad = a.path("bad.jsonl");
    write(&bad, lines.join("\n"));
    let b = TestArchive::new();
    let err =
        String::from_utf8_lossy(&b.fails(&["import", bad.to_str().unwrap()]).stderr).into_owned();
    assert!(err.contains("bad.jsonl: line 20"), "{err}");
    assert_eq!(b.count("SELECT count(*) FROM notes"), 0);
}

#[test]
fn csv_export_reimports_with_its_tags() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let csv = a.path("all.csv");
    a.ok(&["export", "-o", csv.to_str().unwrap()]);
    let b = TestArchive::new();
    assert_eq!(b.json(&["import", csv.to_str().unwrap()])["added"], 390);
    let tag_total = |x: &TestArchive| x.count("SELECT count(*) FROM note_tags");
    assert_eq!(tag_total(&a), tag_total(&b));
}

#[test]
fn export_to_an_unwritable_place_leaves_nothing_behind() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let missing = a.path("no/such/folder/out.jsonl");
    let err =
        String::from_utf8_lossy(&a.fails(&["export", "-o", missing.to_str().unwrap()]).stderr)
            .into_owned();
    assert!(err.contains("cannot write"), "{err}");
    assert!(!missing.exists());
}
