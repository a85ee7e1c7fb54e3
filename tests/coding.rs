//! Coding in depth, end to end through the real binary: passages that survive edits (and are
//! reported when lost), the codebook's tree, renames and merges that are all or nothing, and
//! coding every result of a search with one undo. Checked in the output and in SQLite.

mod common;

use common::TestArchive;

/// (start, end, text, coder, lost) of every passage of `note`, by start.
fn passages(a: &TestArchive, note: &str) -> Vec<(i64, i64, String, String, bool)> {
    let db = a.db();
    let mut stmt = db
        .prepare("SELECT start, end, text, coder, lost FROM passages WHERE note_id = ?1 ORDER BY start, coder")
        .unwrap();
    stmt.query_map([note], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn body(a: &TestArchive, note: &str) -> String {
    a.db()
        .query_row("SELECT body FROM notes WHERE id = ?1", [note], |r| r.get(0))
        .unwrap()
}

#[test]
fn passages_are_found_again_after_an_edit_and_lost_ones_are_reported() {
    let a = TestArchive::new();
    a.start_session();
    // An emoji, CJK and a combining mark before the coded words: offsets are code points.
    let note = a.add(&["😀 排队 cafe\u{301}: we queued for ages at the till #checkout"]);
    let p = a.json(&[
        "code",
        &note,
        "=wait-time",
        "--quote",
        "queued for ages",
        "--coder",
        "Ana",
    ]);
    assert_eq!(
        (p["start"].as_i64(), p["end"].as_i64()),
        (Some(15), Some(30))
    );
    a.ok(&[
        "code", &note, "=staff", "--span", "34..42", "--coder", "Ben",
    ]);
    assert_eq!(
        passages(&a, &note),
        [
            (15, 30, "queued for ages".into(), "Ana".into(), false),
            (34, 42, "the till".into(), "Ben".into(), false),
        ]
    );
    // A passage's code finds its note in search, like a whole-note tag.
    assert_eq!(a.hit_ids(&["--code", "wait-time"]), vec![note.clone()]);

    // Words before the passages: both move with their text.
    let out = a
        .cmd()
        .args([
            "edit",
            &note,
            "Honestly, 😀 排队 cafe\u{301}: we queued for ages at the till #checkout",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
    assert_eq!(
        passages(&a, &note),
        [
            (25, 40, "queued for ages".into(), "Ana".into(), false),
            (44, 52, "the till".into(), "Ben".into(), false),
        ]
    );

    // The coded words edited away: the passage stays where it was, marked lost, reported.
    let out = a
        .cmd()
        .args(["edit", &note, "Honestly, we waited at the till #checkout"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("queued for ages") && stderr.contains("lost"),
        "{stderr}"
    );
    assert!(!stderr.contains("the till"), "{stderr}");
    assert_eq!(
        passages(&a, &note),
        [
            (23, 31, "the till".into(), "Ben".into(), false),
            (25, 40, "queued for ages".into(), "Ana".into(), true),
        ]
    );
    let lost = a.json(&["spans", "--lost"]);
    assert_eq!(lost.as_array().unwrap().len(), 1);
    assert_eq!(lost[0]["text"], "queued for ages");
    assert_eq!(lost[0]["tag"], "=wait-time");
    assert!(a.ok(&["spans", &note]).contains("LOST"));
    // A lost passage no longer codes the note for search.
    assert!(a.hit_ids(&["--code", "wait-time"]).is_empty());
    // It can still be taken off by its words.
    a.ok(&["uncode", &note, "=wait-time", "--quote", "queued for ages"]);
    assert_eq!(a.count("SELECT count(*) FROM passages WHERE lost = 1"), 0);
}

#[test]
fn a_span_must_be_inside_the_note_and_a_quote_found_once() {
    let a = TestArchive::new();
    a.start_session();
    let note = a.add(&["queue here, queue there"]);
    let out = a.fails(&["code", &note, "=q", "--quote", "queue", "--coder", "Ana"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0..5, 12..17"), "{err}");
    let out = a.fails(&["code", &note, "=q", "--span", "20..40", "--coder", "Ana"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("23 characters"));
    let out = a.fails(&["code", &note, "=q", "--span", "5-9", "--coder", "Ana"]);
    assert_eq!(out.status.code(), Some(2));
    a.ok(&["rm", &note]);
    let out = a.fails(&["code", &note, "=q", "--span", "0..5", "--coder", "Ana"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("trash"));
    assert_eq!(a.count("SELECT count(*) FROM passages"), 0);
}

#[test]
fn the_coder_comes_from_the_flag_the_environment_or_the_config_file() {
    let a = TestArchive::new();
    a.start_session();
    let note = a.add(&["Waited at the desk"]);
    // Nobody named anywhere: refused, nothing written.
    let out = a
        .cmd()
        .env_remove("USER")
        .env_remove("USERNAME")
        .args(["code", &note, "=a", "--quote", "Waited"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--coder"));
    std::fs::create_dir_all(a.config_dir().join("fieldnotes")).unwrap();
    common::write(
        &a.config_dir().join("fieldnotes/config.toml"),
        "coder = \"Cleo\"\n",
    );
    a.ok(&["code", &note, "=a", "--quote", "Waited"]);
    let out = a
        .cmd()
        .env("FIELDNOTES_CODER", "Dev")
        .args(["code", &note, "=b", "--quote", "desk"])
        .output()
        .unwrap();
    assert!(out.status.success());
    a.ok(&["code", &note, "=c", "--coder", "Eve"]);
    let coders: Vec<String> = a
        .db()
        .prepare("SELECT coder FROM passages ORDER BY start")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(coders, ["Cleo", "Dev"]);
    assert_eq!(
        a.count("SELECT count(*) FROM note_codings WHERE coder = 'Eve'"),
        1
    );
}

/// Makes the archive's SQLite refuse to rewrite `note`'s text, as a full disk or a crash
/// would stop a write half-way.
fn break_writes_to(a: &TestArchive, note: &str) {
    a.db()
        .execute_batch(&format!(
            "CREATE TRIGGER boom BEFORE UPDATE OF body ON notes WHEN OLD.id = '{note}' \
             BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;"
        ))
        .unwrap();
}

/// Everything a rename or merge may touch, to compare before and after.
fn snapshot(a: &TestArchive) -> String {
    let db = a.db();
    let mut out = String::new();
    for sql in [
        "SELECT id || ' ' || body || ' ' || updated_at FROM notes ORDER BY id",
        "SELECT facet || name || ' ' || coalesce(parent_id, '-') FROM tags ORDER BY id",
        "SELECT note_id || ' ' || tag_id || ' ' || origin FROM note_tags ORDER BY note_id, tag_id",
        "SELECT note_id || ' ' || tag_id || ' ' || coder FROM note_codings ORDER BY 1",
        "SELECT note_id || ' ' || body FROM note_revisions ORDER BY id",
        "SELECT note_id || ' ' || tag_id || ' ' || start FROM passages ORDER BY id",
    ] {
        let mut stmt = db.prepare(sql).unwrap();
        for row in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

#[test]
fn a_rename_rewrites_every_note_in_one_transaction_keeping_revisions() {
    let a = TestArchive::new();
    a.start_session();
    let one = a.add(&["Queued at the till =Wait_Time #checkout"]);
    let two = a.add(&["=wait-time again, at the desk"]);
    let three = a.add(&["Long wait =wait-time =wait-time"]);
    a.ok(&[
        "code",
        &two,
        "=wait-time",
        "--quote",
        "at the desk",
        "--coder",
        "Ana",
    ]);
    // A failure at the last note leaves the first ones, the tag and the revisions as they were.
    let before = snapshot(&a);
    break_writes_to(&a, &three);
    let out = a.fails(&["codebook", "rename", "=wait-time", "=waiting"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("disk is full"));
    assert_eq!(snapshot(&a), before);
    a.db().execute_batch("DROP TRIGGER boom").unwrap();

    // A name another tag has is refused: that is a merge.
    a.add(&["=queueing"]);
    let before = snapshot(&a);
    let out = a.fails(&["codebook", "rename", "=wait-time", "=queueing"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("merge"));
    assert_eq!(snapshot(&a), before);

    let done = a.json(&["codebook", "rename", "=wait-time", "waiting"]);
    assert_eq!(done["notes_rewritten"], 3);
    assert_eq!(body(&a, &one), "Queued at the till =waiting #checkout");
    assert_eq!(body(&a, &two), "=waiting again, at the desk");
    assert_eq!(body(&a, &three), "Long wait =waiting =waiting");
    // One revision per rewritten note, holding the text as it was.
    let history = &a.json(&["history", &one])["versions"];
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(
        history[0]["body"],
        "Queued at the till =Wait_Time #checkout"
    );
    assert_eq!(a.count("SELECT count(*) FROM note_revisions"), 3);
    assert_eq!(a.hit_ids(&["--code", "waiting"]).len(), 3);
    assert!(a.hit_ids(&["--code", "wait-time"]).is_empty());
    // The passage kept its place and now carries the new name.
    assert_eq!(a.json(&["spans", &two])[0]["tag"], "=waiting");
}

#[test]
fn a_merge_moves_notes_passages_and_children_all_or_nothing() {
    let a = TestArchive::new();
    a.start_session();
    let one = a.add(&["We queued =queueing #checkout"]);
    let two = a.add(&["Waited ages =waiting"]);
    a.ok(&[
        "code",
        &two,
        "=queueing",
        "--quote",
        "Waited ages",
        "--coder",
        "Ana",
    ]);
    a.ok(&["codebook", "parent", "=short-queue", "=queueing"]);
    a.ok(&[
        "codebook",
        "describe",
        "=queueing",
        "--description",
        "Standing in line",
    ]);

    let before = snapshot(&a);
    break_writes_to(&a, &one);
    a.fails(&["codebook", "merge", "=queueing", "=waiting"]);
    assert_eq!(snapshot(&a), before);
    a.db().execute_batch("DROP TRIGGER boom").unwrap();

    let done = a.json(&["codebook", "merge", "=queueing", "=waiting"]);
    assert_eq!(done["notes"], 2);
    assert_eq!(done["passages"], 1);
    assert_eq!(body(&a, &one), "We queued =waiting #checkout");
    assert_eq!(
        a.json(&["history", &one])["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        a.count("SELECT count(*) FROM tags WHERE name = 'queueing'"),
        0
    );
    let tree = a.json(&["codebook"]);
    let waiting = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["tag"] == "=waiting")
        .expect("=waiting at the top");
    assert_eq!(waiting["description"], "Standing in line");
    assert_eq!(waiting["children"][0]["tag"], "=short-queue");
    assert_eq!(waiting["passages"], 1);
    assert_eq!(a.hit_ids(&["--code", "waiting"]).len(), 2);
    // Merging across facets is refused.
    a.fails(&["codebook", "merge", "=waiting", "#checkout"]);
}

#[test]
fn parents_make_a_tree_and_cycles_are_refused() {
    let a = TestArchive::new();
    a.ok(&["codebook", "parent", "=wait-time", "=friction"]);
    a.ok(&["codebook", "parent", "=friction", "=pain"]);
    let before = snapshot(&a);
    let out = a.fails(&["codebook", "parent", "=pain", "=wait-time"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cycle"));
    a.fails(&["codebook", "parent", "=pain", "=pain"]);
    let out = a.fails(&["codebook", "parent", "=pain", "#checkout"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("own facet"));
    assert_eq!(snapshot(&a), before);
    let tree = a.ok(&["codebook"]);
    assert!(
        tree.contains(
            "=pain  0 notes, 0 passages\n  =friction  0 notes, 0 passages\n    =wait-time"
        ),
        "{tree}"
    );
    a.ok(&["codebook", "parent", "=friction", "--top"]);
    let out = a.fails(&["codebook", "describe", "=pain", "--colour", "red"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("#rrggbb"));
    a.ok(&[
        "codebook", "describe", "=pain", "--colour", "#D95F02", "--memo", "check",
    ]);
    assert_eq!(
        a.count("SELECT count(*) FROM tags WHERE colour = '#d95f02' AND memo = 'check' AND parent_id IS NULL"),
        1
    );
}

#[test]
fn code_all_results_previews_codes_in_one_go_and_undoes() {
    let a = TestArchive::new();
    a.start_session();
    let one = a.add(&["Long queue at the till"]);
    let two = a.add(&["The queue moved fast =wait-time"]);
    let three = a.add(&["Queueing for the lift"]);
    a.add(&["Nothing to see"]);
    let preview = a.json(&[
        "code",
        "--search",
        "queue*",
        "=wait-time",
        "--dry-run",
        "--coder",
        "Ana",
    ]);
    assert_eq!(
        (preview["coded"].as_u64(), preview["already"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(a.count("SELECT count(*) FROM bulk_codings"), 0);
    assert_eq!(a.hit_ids(&["--code", "wait-time"]), vec![two.clone()]);

    let done = a.json(&["code", "--search", "queue*", "=wait-time", "--coder", "Ana"]);
    assert_eq!(done["coded"], 2);
    let mut coded = a.hit_ids(&["--code", "wait-time"]);
    coded.sort();
    let mut expected = vec![one.clone(), two.clone(), three.clone()];
    expected.sort();
    assert_eq!(coded, expected);
    assert_eq!(
        a.count("SELECT count(*) FROM note_codings WHERE coder = 'Ana'"),
        2
    );
    // An empty search would code everything: refused.
    let out = a.fails(&["code", "--search", "", "=x", "--coder", "Ana"]);
    assert_eq!(out.status.code(), Some(2));
    // A filter narrows a search: on one note it is a mistake, said so.
    let out = a.fails(&["code", &one, "=x", "--persona", "parent", "--coder", "Ana"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("go with --search"));

    a.ok(&["code", "--undo"]);
    assert_eq!(a.hit_ids(&["--code", "wait-time"]), vec![two.clone()]);
    assert_eq!(body(&a, &two), "The queue moved fast =wait-time");
    let out = a.fails(&["code", "--undo"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no bulk coding"));
}

#[test]
fn codings_travel_through_jsonl_and_a_merge_keeps_both_coders() {
    let a = TestArchive::new();
    a.start_session();
    let note = a.add(&["We queued for ages at the till"]);
    let shared = a.path("shared.jsonl");
    a.ok(&["export", "-o", shared.to_str().unwrap()]);
    let b = TestArchive::new();
    b.ok(&["import", shared.to_str().unwrap()]);

    // Ana codes on her laptop, Ben on his, and Ben edits the text.
    a.ok(&[
        "code",
        &note,
        "=wait-time",
        "--quote",
        "queued for ages",
        "--coder",
        "Ana",
    ]);
    a.ok(&["code", &note, "=slow", "--coder", "Ana"]);
    b.ok(&[
        "code",
        &note,
        "=wait-time",
        "--quote",
        "queued for ages",
        "--coder",
        "Ben",
    ]);
    b.ok(&["edit", &note, "Honestly, we queued for ages at the till"]);

    let merged = a.json(&["merge", b.dir.to_str().unwrap()]);
    assert_eq!(merged["updated"], 1);
    assert_eq!(
        passages(&a, &note),
        [
            (13, 28, "queued for ages".into(), "Ana".into(), false),
            (13, 28, "queued for ages".into(), "Ben".into(), false),
        ]
    );
    assert_eq!(
        a.count("SELECT count(*) FROM note_codings WHERE coder = 'Ana'"),
        1
    );
    // Merging again changes nothing.
    assert_eq!(a.json(&["merge", b.dir.to_str().unwrap()])["unchanged"], 1);

    // A lost passage travels too, still lost.
    let other = a.add(&["Staff were rude"]);
    a.ok(&[
        "code", &other, "=staff", "--quote", "rude", "--coder", "Ana",
    ]);
    a.ok(&["edit", &other, "Staff were busy"]);
    let all = a.path("all.jsonl");
    a.ok(&["export", "-o", all.to_str().unwrap()]);
    let c = TestArchive::new();
    c.ok(&["import", all.to_str().unwrap()]);
    assert_eq!(passages(&c, &note), passages(&a, &note));
    assert_eq!(
        passages(&c, &other),
        [(11, 15, "rude".into(), "Ana".into(), true)]
    );
    assert_eq!(
        c.count("SELECT count(*) FROM note_codings WHERE coder = 'Ana'"),
        1
    );
    // Lossless: exporting the copy gives the same file.
    let again = c.path("again.jsonl");
    c.ok(&["export", "-o", again.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&all).unwrap()
    );
}

#[test]
fn a_coders_whole_note_coding_outlives_the_tag_typed_in_the_text() {
    let a = TestArchive::new();
    a.start_session();
    let note = a.add(&["Queued for ages =queueing"]);
    a.ok(&["code", &note, "=wait-time", "--coder", "Ana"]);
    // After the merge the text types =wait-time, which Ana had also coded as a whole.
    a.ok(&["codebook", "merge", "=queueing", "=wait-time"]);
    assert_eq!(body(&a, &note), "Queued for ages =wait-time");
    // Editing the typed tag away keeps Ana's coding, and with it the tag.
    a.ok(&["edit", &note, "Queued for ages"]);
    assert_eq!(
        a.count("SELECT count(*) FROM note_codings WHERE coder = 'Ana'"),
        1
    );
    assert_eq!(
        a.count("SELECT count(*) FROM note_tags WHERE origin = 'explicit'"),
        1
    );
    a.ok(&["uncode", &note, "=wait-time"]);
    assert_eq!(a.count("SELECT count(*) FROM note_tags"), 0);
}

#[test]
fn two_coders_of_a_whole_note_both_travel_through_jsonl() {
    let a = TestArchive::new();
    a.start_session();
    let note = a.add(&["We queued for ages at the till"]);
    for coder in ["Ana", "Ben"] {
        a.ok(&["code", &note, "=slow", "--coder", coder]);
    }
    assert_eq!(a.count("SELECT count(*) FROM note_codings"), 2);
    let out = a.path("both.jsonl");
    a.ok(&["export", "-o", out.to_str().unwrap()]);
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["coders"]["=slow"], serde_json::json!(["Ana", "Ben"]));
    let b = TestArchive::new();
    b.ok(&["import", out.to_str().unwrap()]);
    assert_eq!(
        b.count("SELECT count(*) FROM note_codings WHERE coder IN ('Ana', 'Ben')"),
        2
    );
    // A file written when a tag kept one coder reads too.
    let old = a.path("old.jsonl");
    let mut line = line;
    line["coders"]["=slow"] = "Ana".into();
    common::write(&old, format!("{line}\n"));
    let c = TestArchive::new();
    c.ok(&["import", old.to_str().unwrap()]);
    assert_eq!(
        c.count("SELECT count(*) FROM note_codings WHERE coder = 'Ana'"),
        1
    );
}
