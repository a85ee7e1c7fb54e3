//! Transcript, Markdown and mapped-CSV imports, and the Markdown report.

mod common;

use common::{TestArchive, write};

const VTT: &str = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Ana Ruiz>How was the checkout today?</v>\n\n\
2\n00:00:05.500 --> 00:00:09.000\n<v Maya>Slow. I waited ages at the till #checkout</v>\n\n\
3\n00:00:09.000 --> 00:00:12.000\n<v Maya>and nobody came !frustrated</v>\n\n\
4\n00:01:02.000 --> 00:01:05.000\n<v Ana Ruiz>Thanks.</v>\n";

#[test]
fn a_vtt_transcript_becomes_quotes_by_speaker_turn() {
    let a = TestArchive::new();
    let vtt = a.path("call.vtt");
    write(&vtt, VTT);
    let args = [
        "import",
        vtt.to_str().unwrap(),
        "--study",
        "Checkout Q3",
        "--researcher",
        "Ana Ruiz",
        "--started-at",
        "2026-09-03 10:00",
    ];
    assert_eq!(a.json(&args)["added"], 3);
    assert_eq!(a.json(&args)["added"], 0, "importing again adds nothing");
    let notes = a.json(&["search", "", "--limit", "10"]);
    let maya = notes["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["body"].as_str().unwrap().starts_with("Slow"))
        .unwrap();
    assert_eq!(
        maya["body"],
        "Slow. I waited ages at the till #checkout and nobody came !frustrated"
    );
    assert_eq!(maya["kind"], "quote");
    assert_eq!(maya["created_at"], "2026-09-03T10:00:05.500Z");
    assert_eq!(maya["tags"]["emotion"], serde_json::json!(["frustrated"]));
    assert_eq!(
        a.count("SELECT count(*) FROM notes n JOIN participants p ON p.id = n.participant_id WHERE p.pseudonym = 'Maya' AND n.feedback = 'direct'"),
        1
    );
    assert_eq!(
        a.count("SELECT count(*) FROM participants"),
        1,
        "the researcher is no participant"
    );
    assert_eq!(
        a.count("SELECT count(*) FROM sessions WHERE researcher = 'Ana Ruiz'"),
        1
    );
    a.ok(&["check"]);
}

#[test]
fn srt_and_markdown_imports_and_their_errors() {
    let a = TestArchive::new();
    let srt = a.path("talk.srt");
    write(
        &srt,
        "1\r\n00:00:01,000 --> 00:00:02,000\r\nJo: Delivery was late #delivery\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n[Ana] Why?\r\n",
    );
    assert_eq!(
        a.json(&["import", srt.to_str().unwrap(), "--researcher", "Ana"])["added"],
        2
    );

    write(
        &srt,
        "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:0x,000 --> 00:00:03,000\nbad\n",
    );
    // A cue that cannot be read is left out and reported; the rest comes in.
    let out = a
        .cmd()
        .args(["import", srt.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("talk.srt: line 6"), "{err}");
    assert_eq!(a.count("SELECT count(*) FROM notes WHERE body = 'bad'"), 0);

    let md = a.path("visit.md");
    write(
        &md,
        "---\nstudy: Store visits\nsession: Riverside visit\nkind: observation\ndate: 2026-09-04 09:00\nresearcher: Sam\nfeedback: inferred\n---\n\
         # Entrance\n\nNo map at the door #store-layout\nwalked past twice\n\n- Kettles next to batteries =wayfinding\n- Shelf empty !disappointed\n\n> Where is everything?\n",
    );
    assert_eq!(a.json(&["import", md.to_str().unwrap()])["added"], 4);
    assert_eq!(a.json(&["import", md.to_str().unwrap()])["added"], 0);
    let quotes = a.json(&["search", "", "--study", "Store visits", "--kind", "quote"]);
    assert_eq!(quotes["hits"][0]["body"], "Where is everything?");
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE feedback = 'inferred'"),
        4
    );

    // A key fieldnotes does not use is left out with a warning naming its line.
    write(&md, "---\nstudy: X\nmood: sunny\n---\nA note\n");
    let out = a
        .cmd()
        .args(["import", md.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("visit.md: line 3") && err.contains("mood"),
        "{err}"
    );
    // Front matter that is not YAML is an error naming its line.
    write(&md, "---\nstudy: [unclosed\n---\nA note\n");
    let err = a.fails(&["import", md.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(err.contains("not YAML"), "{err}");
}

#[test]
fn csv_columns_can_be_mapped() {
    let a = TestArchive::new();
    let csv = a.path("survey.csv");
    write(
        &csv,
        "Respondent,Comment,Segment,Channel,Submitted\nr1,The app logged me out,Student,App login,2026-09-01\nr2,Great staff,Retiree,Store,2026-09-02\n",
    );
    let args = [
        "import",
        csv.to_str().unwrap(),
        "--study",
        "Survey",
        "--text",
        "Comment",
        "--persona",
        "Segment",
        "--touchpoint",
        "Channel",
        "--created-at",
        "Submitted",
        "--kind",
        "quote",
        "--feedback",
        "direct",
        "--session",
        "Autumn survey",
    ];
    assert_eq!(a.json(&args)["added"], 2);
    assert_eq!(a.json(&args)["added"], 0);
    let hit = &a.json(&["search", "logged"])["hits"][0];
    assert_eq!(hit["tags"]["persona"], serde_json::json!(["student"]));
    assert_eq!(hit["tags"]["touchpoint"], serde_json::json!(["app-login"]));
    assert_eq!(hit["kind"], "quote");
    assert_eq!(
        a.count("SELECT count(*) FROM sessions WHERE title = 'Autumn survey'"),
        1
    );
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE feedback = 'direct'"),
        2
    );

    let err = a.fails(&["import", csv.to_str().unwrap(), "--text", "Answer"]);
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(err.contains("no column `Answer`"), "{err}");

    // CSV out and back in: the same notes, feedback and all.
    let out = a.path("out.csv");
    a.ok(&["export", "-o", out.to_str().unwrap()]);
    let b = TestArchive::new();
    assert_eq!(b.json(&["import", out.to_str().unwrap()])["added"], 2);
    assert_eq!(
        b.count("SELECT count(*) FROM notes WHERE feedback = 'direct'"),
        2
    );
}

#[test]
fn markdown_report_golden() {
    let a = TestArchive::new();
    a.ok(&[
        "import",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/two_sessions.jsonl"
        ),
    ]);
    let report = a.ok(&["export", "--format", "markdown", "--study", "Checkout Q3"]);
    insta::assert_snapshot!("report", report);
    let redacted = a.ok(&["export", "--format", "md", "--redact"]);
    insta::assert_snapshot!("report_redacted", redacted);
}

/// The library's one import door: a front end gives a path and options, the library picks
/// the reader and refuses what it cannot read with an error the caller can branch on.
#[test]
fn the_library_chooses_the_reader_and_types_its_refusals() {
    use fieldnotes::io::{ImportFile, ImportOptions, import_format};
    use fieldnotes::model::{NoteKind, SessionKind};
    use fieldnotes::{Archive, Error};

    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(&tmp.path().join("a")).unwrap();
    let vtt = tmp.path().join("call.vtt");
    write(&vtt, VTT);

    assert!(matches!(
        import_format(&tmp.path().join("notes.rtf"), None),
        Err(Error::UnknownFormat { .. })
    ));
    assert!(matches!(
        import_format(&tmp.path().join("p.qdpx"), None),
        Ok(fieldnotes::io::Format::Qdpx)
    ));
    let format = import_format(&vtt, None).unwrap();
    let mut options = ImportOptions::new("Checkout Q3", SessionKind::Interview, NoteKind::Quote);
    options.researcher = Some("Ana Ruiz".into());

    let mut mapped = options.clone();
    mapped.columns = vec![("text".into(), "Comment".into())];
    let input = fieldnotes::io::open_input(&vtt).unwrap();
    assert!(matches!(
        ImportFile::new(&vtt, format, mapped, input),
        Err(Error::Usage(_))
    ));

    let input = fieldnotes::io::open_input(&vtt).unwrap();
    let file = ImportFile::new(&vtt, format, options, input).unwrap();
    let counts = archive.import_file(file, |_| {}).unwrap();
    assert_eq!(counts.added, 3);
    let found = archive.search("till", &Default::default(), 10).unwrap();
    assert_eq!(found.total, 1);

    // Editing a note in the trash is refused with a variant, not a sentence to parse.
    let id = found.hits[0].id.clone();
    archive.trash_note(&id).unwrap();
    assert!(matches!(
        archive.edit_note(&id, "changed", None),
        Err(Error::InTrash { .. })
    ));
    assert!(matches!(
        archive.trash_note(&id),
        Err(Error::AlreadyInTrash { .. })
    ));
}

#[test]
fn a_dry_run_shows_what_would_come_in_and_writes_nothing() {
    let a = TestArchive::new();
    let vtt = a.path("call.vtt");
    write(&vtt, VTT);
    let args = [
        "import",
        vtt.to_str().unwrap(),
        "--researcher",
        "Ana Ruiz",
        "--dry-run",
    ];
    let shown = a.json(&args);
    assert_eq!(shown["added"], 3);
    assert_eq!(shown["participants"], serde_json::json!(["Maya"]));
    assert_eq!(shown["preview"][0]["body"], "How was the checkout today?");
    assert_eq!(shown["preview"][1]["participant"], "Maya");
    let text = a.ok(&args[..args.len()]);
    assert!(text.contains("nothing was written"), "{text}");
    assert!(text.contains("+00:05 Maya: Slow."), "{text}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
    assert_eq!(a.count("SELECT count(*) FROM participants"), 0);
    // Then for real: the same notes.
    let done = a.json(&["import", vtt.to_str().unwrap(), "--researcher", "Ana Ruiz"]);
    assert_eq!(done["added"], 3);
}

#[test]
fn legacy_encodings_import_when_named_and_the_error_says_how() {
    let a = TestArchive::new();
    let csv = a.path("menu.csv");
    // Windows-1252, as Excel on Windows saves "CSV".
    write(
        &csv,
        b"text\nCr\xe8me br\xfbl\xe9e was \x8020 #dessert\n".as_slice(),
    );
    let err = a.fails(&["import", csv.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(
        err.contains("line 2") && err.contains("--encoding windows-1252"),
        "{err}"
    );
    let done = a.json(&[
        "import",
        csv.to_str().unwrap(),
        "--encoding",
        "windows-1252",
    ]);
    assert_eq!(done["added"], 1);
    let hits = a.json(&["search", "brûlée"]);
    assert_eq!(hits["hits"][0]["body"], "Crème brûlée was €20 #dessert");
    // UTF-16 with a byte-order mark (Excel's "Unicode text") needs no flag.
    let md = a.path("notes.md");
    let mut bytes = vec![0xFF, 0xFE];
    for u in "Waited at the kiosk 漢字 #kiosk\n".encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    write(&md, bytes);
    assert_eq!(a.json(&["import", md.to_str().unwrap()])["added"], 1);
    let unknown = a.fails(&["import", md.to_str().unwrap(), "--encoding", "klingon"]);
    assert_eq!(unknown.status.code(), Some(2));
}

fn markdown_fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/markdown")
        .join(name)
}

fn bodies_in(a: &TestArchive, study: &str) -> Vec<String> {
    let db = a.db();
    let mut stmt = db
        .prepare(
            "SELECT n.body FROM notes n JOIN sessions s ON s.id = n.session_id \
             JOIN studies st ON st.id = s.study_id WHERE st.name = ?1 ORDER BY n.created_at",
        )
        .unwrap();
    stmt.query_map([study], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn obsidian_front_matter_is_yaml_and_tables_html_and_comments_are_not_notes() {
    let a = TestArchive::new();
    let page = markdown_fixture("obsidian-visit.md");
    let out = a
        .cmd()
        .args(["import", page.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts["added"], 4);
    assert_eq!(counts["skipped"], 2, "{counts}");
    let warnings = counts["warnings"].to_string();
    for expected in [
        "line 10: front matter `aliases`",
        "`mood`",
        "a table left out",
        "an HTML block left out",
    ] {
        assert!(warnings.contains(expected), "{expected}: {warnings}");
    }
    assert_eq!(
        bodies_in(&a, "Store visits"),
        [
            "No map at the door #store-layout walked past twice",
            "Kettles next to batteries =wayfinding",
            "Shelf empty !disappointed",
            "Where is everything?",
        ]
    );
    // Quoted values lose their quotes; lists are lists; tags: go on every note.
    assert_eq!(
        a.count("SELECT count(*) FROM sessions WHERE title = 'Riverside visit, Saturday' AND researcher = 'Sam O''Neill'"),
        1
    );
    assert_eq!(
        a.count("SELECT count(*) FROM participants WHERE pseudonym IN ('Maya', 'Jo')"),
        2
    );
    for tag in ["code:checkout", "touchpoint:queue", "persona:busy-parent"] {
        let (facet, name) = tag.split_once(':').unwrap();
        assert_eq!(
            a.count(&format!(
                "SELECT count(*) FROM note_tags nt JOIN tags t ON t.id = nt.tag_id \
                 WHERE t.facet = '{facet}' AND t.name = '{name}'"
            )),
            4,
            "{tag}"
        );
    }
}

#[test]
fn a_notion_page_without_front_matter_skips_its_table_and_html() {
    let a = TestArchive::new();
    let page = markdown_fixture("notion-export.md");
    let counts = a.json(&["import", page.to_str().unwrap(), "--study", "Notion"]);
    assert_eq!(counts["skipped"], 2, "{counts}");
    let bodies = bodies_in(&a, "Notion");
    assert!(
        bodies.iter().all(|b| !b.contains('|') && !b.contains('<')),
        "{bodies:?}"
    );
    assert!(
        bodies.contains(&"Jo said the courier never rang the bell !annoyed #delivery".to_owned())
    );
    assert!(bodies.contains(&"She tracks every parcel in the app now +track-parcel".to_owned()));
}

#[test]
fn a_front_matter_tag_is_one_whole_tag_or_the_page_is_refused() {
    let a = TestArchive::new();
    let page = a.path("visit.md");
    // `=a.b` would read as the tag `=a` followed by text: the writer meant something else.
    write(
        &page,
        "---\nstudy: Tags\ntags: [queue, \"#till\", wait.time]\n---\nLong queue\n",
    );
    let out = a.fails(&["import", page.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("\"wait.time\" is not a tag"),
        "{err}"
    );
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    write(
        &page,
        "---\nstudy: Tags\ntags: [queue, \"#till\", Wait_Time]\n---\nLong queue\n",
    );
    assert_eq!(a.json(&["import", page.to_str().unwrap()])["added"], 1);
    for (facet, name) in [
        ("code", "queue"),
        ("touchpoint", "till"),
        ("code", "wait-time"),
    ] {
        assert_eq!(
            a.count(&format!(
                "SELECT count(*) FROM note_tags nt JOIN tags t ON t.id = nt.tag_id \
                 WHERE t.facet = '{facet}' AND t.name = '{name}'"
            )),
            1,
            "{facet}:{name}"
        );
    }
}

#[test]
fn a_jsonl_file_that_is_not_utf8_says_which_encoding_to_name() {
    let a = TestArchive::new();
    a.start_session();
    a.add(&["Crème brûlée was cold #dessert"]);
    let file = a.path("notes.jsonl");
    a.ok(&["export", "-o", file.to_str().unwrap()]);
    // The same export as an old tool would save it, in Windows-1252.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.chars().all(|c| (c as u32) < 0x80 || "èûé".contains(c)));
    write(
        &file,
        text.chars().map(|c| c as u32 as u8).collect::<Vec<_>>(),
    );
    let b = TestArchive::new();
    let err = b.fails(&["import", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(
        err.contains("line 1") && err.contains("--encoding windows-1252"),
        "{err}"
    );
    let done = b.json(&[
        "import",
        file.to_str().unwrap(),
        "--encoding",
        "windows-1252",
    ]);
    assert_eq!(done["added"], 1);
}
