//! Capturing notes from the CLI: sessions, inline tags, edits with revisions, trash.

mod common;

use common::TestArchive;

#[test]
fn add_parses_inline_tags_and_stores_them() {
    let a = TestArchive::new();
    let session = a.start_session();
    let note = a.json(&[
        "add",
        "--kind",
        "quote",
        "Waited 6 min at the counter, staff on phones #checkout !frustrated @busy-parent +quick-pickup =wait-time, mail a@b.com C# 1+1 Wow!",
    ]);
    assert_eq!(note["kind"], "quote");
    assert_eq!(note["session"], session.as_str());
    assert_eq!(note["tags"]["persona"], serde_json::json!(["busy-parent"]));
    assert_eq!(note["tags"]["touchpoint"], serde_json::json!(["checkout"]));
    assert_eq!(note["tags"]["emotion"], serde_json::json!(["frustrated"]));
    assert_eq!(note["tags"]["job"], serde_json::json!(["quick-pickup"]));
    assert_eq!(note["tags"]["code"], serde_json::json!(["wait-time"]));
    let id = note["id"].as_str().unwrap();
    // In the database, not only in the output.
    let stored: Vec<String> = {
        let db = a.db();
        let mut stmt = db
            .prepare("SELECT t.facet || ':' || t.name FROM note_tags nt JOIN tags t ON t.id = nt.tag_id WHERE nt.note_id = ?1 ORDER BY 1")
            .unwrap();
        stmt.query_map([id], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        stored,
        [
            "code:wait-time",
            "emotion:frustrated",
            "job:quick-pickup",
            "persona:busy-parent",
            "touchpoint:checkout"
        ]
    );
    // The emotion came from the seeded vocabulary, with its valence.
    assert_eq!(
        a.count("SELECT valence FROM tags WHERE facet = 'emotion' AND name = 'frustrated'"),
        -2
    );
    // The note has an offset into its session.
    assert!(note["offset_ms"].as_i64().unwrap() >= 0);
}

#[test]
fn add_without_an_open_session_says_what_to_do() {
    let a = TestArchive::new();
    let out = a.fails(&["add", "a note"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("session start"), "{err}");
}

#[test]
fn add_goes_to_the_latest_open_session_and_end_closes_it() {
    let a = TestArchive::new();
    let first = a.start_session();
    let second = a.ok(&[
        "session",
        "start",
        "--kind",
        "mystery-shop",
        "--study",
        "Visits",
        "--location",
        "Old Town",
    ]);
    let second = second.trim();
    let note = a.json(&["add", "seen at the door"]);
    assert_eq!(note["session"], second);
    a.ok(&["session", "end"]);
    let note = a.json(&["add", "back to the interview"]);
    assert_eq!(note["session"], first.as_str());
    let note = a.json(&[
        "add",
        "--session",
        second,
        "late memo",
        "--kind",
        "interpretation",
    ]);
    assert_eq!(note["session"], second);
    let sessions = a.json(&["session", "list"]);
    let listed: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [second, first.as_str()]);
    assert_eq!(sessions[0]["note_count"], 2);
    assert!(sessions[0]["ended_at"].is_string());
    assert_eq!(sessions[1]["participants"], serde_json::json!(["Maya"]));
}

#[test]
fn add_reads_standard_input() {
    let a = TestArchive::new();
    a.start_session();
    let out = a
        .cmd()
        .args(["add", "--kind", "interpretation", "-", "--json"])
        .write_stdin("Memo over\nseveral lines #checkout\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let note: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(note["body"], "Memo over\nseveral lines #checkout");
    assert_eq!(note["tags"]["touchpoint"], serde_json::json!(["checkout"]));
}

#[test]
fn edit_keeps_the_old_revision_and_the_index_shows_only_the_new_text() {
    let a = TestArchive::new();
    a.start_session();
    let id = a.add(&["The queue was long #checkout !annoyed"]);
    let edited = a.json(&["edit", &id, "The queue was enormous #checkout !angry"]);
    assert_eq!(edited["tags"]["emotion"], serde_json::json!(["angry"]));
    let history = a.json(&["history", &id]);
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["body"], "The queue was long #checkout !annoyed");
    assert_eq!(
        versions[0]["tags"]["emotion"],
        serde_json::json!(["annoyed"])
    );
    assert_eq!(
        versions[1]["body"],
        "The queue was enormous #checkout !angry"
    );
    assert_eq!(a.count("SELECT count(*) FROM note_revisions"), 1);
    assert!(a.hit_ids(&["long"]).is_empty());
    assert_eq!(a.hit_ids(&["enormous"]), [id.as_str()]);
    assert!(a.hit_ids(&["!annoyed"]).is_empty());
    assert_eq!(a.hit_ids(&["!angry"]), [id.as_str()]);
}

#[test]
fn rm_hides_a_note_and_restore_brings_it_back() {
    let a = TestArchive::new();
    a.start_session();
    let id = a.add(&["Self-checkout froze twice #self-checkout"]);
    a.add(&["Another note about the tills"]);
    assert_eq!(a.hit_ids(&["froze"]), [id.as_str()]);
    a.ok(&["rm", &id]);
    assert!(a.hit_ids(&["froze"]).is_empty());
    assert!(a.hit_ids(&["#self-checkout"]).is_empty());
    let trash = a.json(&["trash"]);
    assert_eq!(trash[0]["id"], id.as_str());
    let out = a.fails(&["edit", &id, "new text"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("trash"));
    a.ok(&["restore", &id]);
    assert_eq!(a.hit_ids(&["froze"]), [id.as_str()]);
    a.ok(&["check"]);
}

#[test]
fn ids_can_be_shortened_but_not_ambiguously_or_wrongly() {
    let a = TestArchive::new();
    a.start_session();
    let id = a.add(&["a note"]);
    let shown = a.json(&["show", &id[..12]]);
    assert_eq!(shown["id"], id.as_str());
    let out = a.fails(&["show", "ZZZZZZZZ"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no note with id ZZZZZZZZ"));
    let out = a.fails(&["show", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least its first 4"));
}

#[test]
fn tags_lists_counts_per_facet() {
    let a = TestArchive::new();
    a.start_session();
    a.add(&["one #checkout @student"]);
    a.add(&["two #checkout"]);
    a.add(&["three #delivery-email"]);
    let tags = a.json(&["tags", "--facet", "touchpoint"]);
    let list: Vec<(String, i64)> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["notes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        list,
        [("checkout".to_owned(), 2), ("delivery-email".to_owned(), 1)]
    );
    let out = a.fails(&["tags", "--facet", "mood"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let a = TestArchive::new();
    assert_eq!(a.fails(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        a.fails(&["session", "start", "--kind", "party", "--study", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(a.fails(&["show", "01ABCDEFGH"]).status.code(), Some(1));
    // Options that do not go together are usage errors too, even when clap cannot tell.
    let md = a.path("notes.md");
    common::write(&md, "A paragraph about the queue.\n");
    let out = a.fails(&["import", md.to_str().unwrap(), "--text", "Answer"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("are for CSV files"));
}

#[test]
fn a_five_megabyte_note_is_kept_whole() {
    let a = TestArchive::new();
    a.start_session();
    let big = "transcript words about waiting #checkout ".repeat(5 * 1024 * 1024 / 41);
    let out = a
        .cmd()
        .args(["add", "--json", "-"])
        .write_stdin(big.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let len = a.count(&format!(
        "SELECT length(body) FROM notes WHERE id = '{}'",
        id["id"].as_str().unwrap()
    ));
    assert_eq!(len as usize, big.len());
    assert_eq!(a.hit_ids(&["waited"]).len(), 1);
}

#[cfg(unix)]
#[test]
fn the_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let a = TestArchive::new();
    a.start_session();
    let mode = std::fs::metadata(a.dir.join("fieldnotes.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
