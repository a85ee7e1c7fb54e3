//! Team merge of two researchers' archives: concurrent edits, deletes on one side, repeated
//! merges, and both directions converging to the same notes.

mod common;

use common::TestArchive;

/// Two researchers who started from the same notes: A wrote them, B imported A's export.
fn two_laptops() -> (TestArchive, TestArchive, Vec<String>) {
    let a = TestArchive::new();
    a.start_session();
    let ids: Vec<String> = [
        "Waited ages at the till #checkout !frustrated",
        "Staff restocked during the rush =backstage",
        "Self-checkout shouted at her #self-checkout",
    ]
    .iter()
    .map(|t| a.add(&["--kind", "quote", t]))
    .collect();
    let shared = a.path("shared.jsonl");
    a.ok(&["export", "-o", shared.to_str().unwrap()]);
    let b = TestArchive::new();
    b.ok(&["import", shared.to_str().unwrap()]);
    (a, b, ids)
}

/// Waits until the clock has passed the last change to note `id` in `t`, so the next event
/// (in either archive) is newer than it whatever the machine's speed and clock resolution.
fn after_last_change(t: &TestArchive, id: &str) {
    let at: String = t
        .db()
        .query_row(
            "SELECT max(coalesce(deleted_at, ''), updated_at) FROM notes WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while chrono::Utc::now() <= at + chrono::Duration::milliseconds(1) {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock stands still"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn dir(t: &TestArchive) -> &str {
    t.dir.to_str().unwrap()
}

/// Every note with its versions and trash, in a form to compare across archives.
fn notes_of(t: &TestArchive) -> Vec<String> {
    let mut lines: Vec<String> = t.ok(&["export"]).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn concurrent_edits_are_all_kept_and_both_directions_agree() {
    let (a, b, ids) = two_laptops();
    a.ok(&["edit", &ids[0], "A's edit #checkout !angry"]);
    after_last_change(&a, &ids[0]);
    b.ok(&["edit", &ids[0], "B's later edit #checkout !furious"]);
    b.start_session();
    let b_only = b.add(&["Only on B's laptop @student"]);

    let into_a = a.json(&["merge", dir(&b)]);
    assert_eq!(into_a["added"], 1);
    assert_eq!(into_a["updated"], 1);
    assert_eq!(into_a["unchanged"], 2);
    let into_b = b.json(&["merge", dir(&a)]);
    assert_eq!(into_b["added"], 0);
    assert_eq!(notes_of(&a), notes_of(&b), "A and B converge");

    for t in [&a, &b] {
        let versions = t.json(&["history", &ids[0]])["versions"].clone();
        let bodies: Vec<&str> = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["body"].as_str().unwrap())
            .collect();
        assert_eq!(
            bodies,
            [
                "Waited ages at the till #checkout !frustrated",
                "A's edit #checkout !angry",
                "B's later edit #checkout !furious"
            ]
        );
        // The index caught up: the newest text is found, the old ones are not.
        assert_eq!(t.hit_ids(&["!furious"]), ids[..1]);
        assert!(t.hit_ids(&["!angry"]).is_empty());
        assert_eq!(t.hit_ids(&["@student"]), std::slice::from_ref(&b_only));
        t.ok(&["check"]);
    }
    // One participant, one tag of each name, on both sides.
    assert_eq!(a.count("SELECT count(*) FROM participants"), 1);
    assert_eq!(
        a.count("SELECT count(*) FROM tags WHERE name = 'checkout'"),
        1
    );

    // Merging again, either way, changes nothing.
    for (x, y) in [(&a, &b), (&b, &a)] {
        let again = x.json(&["merge", dir(y)]);
        assert_eq!(again["added"], 0);
        assert_eq!(again["updated"], 0);
    }
    assert_eq!(a.count("SELECT count(*) FROM notes"), 4);
    assert_eq!(a.count("SELECT count(*) FROM note_revisions"), 2);
}

#[test]
fn a_delete_on_one_side_follows_the_newest_event() {
    let (a, b, ids) = two_laptops();
    // A deletes note 0; B edited note 0 before that: the delete is newer and wins.
    b.ok(&["edit", &ids[0], "B's edit, before A's delete"]);
    after_last_change(&b, &ids[0]);
    a.ok(&["rm", &ids[0]]);
    // A deletes note 1; B edits it afterwards: the edit is newer and brings it back.
    a.ok(&["rm", &ids[1]]);
    after_last_change(&a, &ids[1]);
    b.ok(&["edit", &ids[1], "B's edit, after A's delete"]);

    b.ok(&["merge", dir(&a)]);
    a.ok(&["merge", dir(&b)]);
    assert_eq!(notes_of(&a), notes_of(&b));
    for t in [&a, &b] {
        let trash = t.json(&["trash"]);
        let trashed: Vec<&str> = trash
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        assert_eq!(trashed, [ids[0].as_str()]);
        assert_eq!(
            t.json(&["show", &ids[1]])["body"],
            "B's edit, after A's delete"
        );
        // The deleted note's edit is kept in its history, not lost.
        assert_eq!(
            t.json(&["history", &ids[0]])["versions"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(t.hit_ids(&["before"]).is_empty());
        t.ok(&["check"]);
    }
}

#[test]
fn merging_a_jsonl_export_or_an_archive_never_writes_to_it() {
    let (a, b, ids) = two_laptops();
    b.ok(&["edit", &ids[2], "B's edit #self-checkout !confused"]);
    let b_db = b.dir.join("fieldnotes.db");
    let before = std::fs::read(&b_db).unwrap();
    a.ok(&["merge", b_db.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&b_db).unwrap(),
        before,
        "B's database is untouched"
    );
    assert_eq!(
        a.json(&["show", &ids[2]])["body"],
        "B's edit #self-checkout !confused"
    );

    let export = b.path("b.jsonl");
    b.ok(&["export", "-o", export.to_str().unwrap()]);
    let again = a.json(&["merge", export.to_str().unwrap()]);
    assert_eq!(again["updated"], 0);
    assert_eq!(again["added"], 0);

    let err = a.fails(&["merge", a.path("nowhere").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(
        err.contains("nowhere") && err.contains("neither an archive"),
        "{err}"
    );
    let err = a.fails(&["merge", dir(&a)]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("is this archive"));
}
