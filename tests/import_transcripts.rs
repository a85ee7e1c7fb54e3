//! Transcripts as Zoom, Teams, caption tools and subtitle editors write them: WebVTT's parsing
//! rules, SRT as players read it, speakers that are names, and no giant notes.

mod common;

use std::path::PathBuf;

use common::TestArchive;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/transcripts")
        .join(name)
}

/// Imports a fixture and returns its notes in order: (speaker or "", body).
fn notes(a: &TestArchive, name: &str, more: &[&str]) -> (serde_json::Value, Vec<(String, String)>) {
    let path = fixture(name);
    let mut args = vec!["import", path.to_str().unwrap(), "--study", name];
    args.extend_from_slice(more);
    let counts = a.json(&args);
    let mut stmt_notes = Vec::new();
    let db = a.db();
    let mut stmt = db
        .prepare(
            "SELECT coalesce(p.pseudonym, ''), n.body FROM notes n \
             JOIN sessions s ON s.id = n.session_id JOIN studies st ON st.id = s.study_id \
             LEFT JOIN participants p ON p.id = n.participant_id \
             WHERE st.name = ?1 ORDER BY n.offset_ms, n.rowid",
        )
        .unwrap();
    let rows = stmt
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    for row in rows {
        stmt_notes.push(row.unwrap());
    }
    (counts, stmt_notes)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, b)| (s.to_string(), b.to_string()))
        .collect()
}

#[test]
fn zoom_names_each_cue_and_sentences_before_a_colon_are_not_speakers() {
    let a = TestArchive::new();
    let (counts, got) = notes(&a, "zoom.vtt", &["--researcher", "Ana Ruiz"]);
    assert_eq!(
        got,
        pairs(&[
            (
                "",
                "Thanks for joining. Can you tell me about your last visit?"
            ),
            (
                "Maya Okafor",
                "Sure. I went on Saturday & the queue was huge. I waited maybe twenty minutes > that's too long."
            ),
            ("", "What did you do while you waited?"),
            (
                "Maya Okafor",
                "Rule number one: never shop on a Saturday. [laughs]"
            ),
        ])
    );
    assert_eq!(counts["participants"], serde_json::json!(["Maya Okafor"]));
}

#[test]
fn teams_voices_with_a_bom_crlf_and_two_voices_in_one_cue() {
    let a = TestArchive::new();
    let (_, got) = notes(&a, "teams.vtt", &["--researcher", "Ana Ruiz"]);
    assert_eq!(
        got,
        pairs(&[
            ("", "So what happened at the till?"),
            (
                "Maya Okafor",
                "The scanner kept beeping and the assistant didn't come for ages."
            ),
            ("", "Did it work in the end?"),
            ("Maya Okafor", "No. I left the basket."),
        ])
    );
}

#[test]
fn a_timing_line_starts_a_cue_whatever_comes_before_it() {
    let a = TestArchive::new();
    let (_, got) = notes(&a, "glued.vtt", &["--no-speakers"]);
    let bodies: Vec<&str> = got.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(
        bodies.join(" | "),
        "First cue, no blank line after it Second cue right after | \
         Third after a line of spaces | Fourth after a tab"
    );
    // Lone CR line ends: four cues were read, no timing line is in a note.
    assert!(bodies.iter().all(|b| !b.contains("-->")), "{bodies:?}");
}

#[test]
fn a_broken_cue_is_left_out_and_reported_the_rest_comes_in() {
    let a = TestArchive::new();
    let path = fixture("malformed.vtt");
    let out = a
        .cmd()
        .args(["import", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 6") && err.contains("\"00:00:xx.000\" is not a time"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 left out"), "{stdout}");
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE body LIKE '%fine%'"),
        2
    );
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE body LIKE '%broken%'"),
        0
    );
}

#[test]
fn character_references_markup_and_timestamps_are_decoded_or_dropped() {
    let a = TestArchive::new();
    let (_, got) = notes(&a, "references.vtt", &[]);
    assert_eq!(
        got,
        pairs(&[
            ("Maya", "Fish & chips <3 – café 😀 yes"),
            // Text after a voice span in the same cue goes on in that voice.
            ("Ana", "Why \"yes\"? really"),
        ])
    );
}

#[test]
fn sounds_and_sentences_are_not_speakers_in_srt() {
    let a = TestArchive::new();
    let (counts, got) = notes(&a, "sounds.srt", &[]);
    let speakers: Vec<&str> = got
        .iter()
        .map(|(s, _)| s.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert!(
        speakers.iter().all(|s| ["MAYA", "Ana"].contains(s)),
        "{got:?}"
    );
    assert_eq!(counts["participants"], serde_json::json!(["MAYA", "Ana"]));
    let all: Vec<&str> = got.iter().map(|(_, b)| b.as_str()).collect();
    assert!(
        all.contains(&"J'ai dit: pas de queue le dimanche."),
        "{all:?}"
    );
    assert!(
        got.contains(&(
            "MAYA".to_string(),
            "I always go on Sundays. [laughs] It's quieter then.".to_string()
        )),
        "{got:?}"
    );
    assert!(
        all.iter()
            .any(|b| b.contains("Rule number one: never trust the scanner.")),
        "{all:?}"
    );
}

#[test]
fn srt_keeps_text_that_only_looks_like_markup() {
    let a = TestArchive::new();
    let (_, got) = notes(&a, "markup.srt", &[]);
    assert_eq!(
        got,
        pairs(&[(
            "",
            "She said the price 2<3,5>1 was odd and the sign was wrong Then she left."
        )])
    );
}

#[test]
fn a_transcript_without_names_is_not_one_giant_note() {
    let a = TestArchive::new();
    let (_, got) = notes(&a, "unnamed.vtt", &[]);
    assert!(got.len() >= 12, "only {} notes", got.len());
    let longest = got.iter().map(|(_, b)| b.chars().count()).max().unwrap();
    assert!(longest <= 700, "a note of {longest} characters");
    // Every cue's words arrived once, in order.
    let all: String = got
        .iter()
        .map(|(_, b)| b.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for i in [0, 19, 20, 119] {
        assert_eq!(
            all.matches(&format!("number {i} without")).count(),
            1,
            "{i}"
        );
    }
}

#[test]
fn speakers_can_be_listed_or_left_out() {
    let a = TestArchive::new();
    let (counts, got) = notes(
        &a,
        "zoom.vtt",
        &["--speakers", "Ana Ruiz=researcher,Maya Okafor=P07"],
    );
    assert_eq!(counts["participants"], serde_json::json!(["P07"]));
    assert_eq!(got[0].0, "");
    assert_eq!(got[1].0, "P07");
    assert!(!got[1].1.starts_with("Maya Okafor:"));

    let b = TestArchive::new();
    let (counts, got) = notes(&b, "teams.vtt", &["--no-speakers"]);
    assert!(counts.get("participants").is_none(), "{counts}");
    assert!(got.iter().all(|(s, _)| s.is_empty()));
    assert_eq!(b.count("SELECT count(*) FROM participants"), 0);

    let bad = b.fails(&[
        "import",
        fixture("zoom.vtt").to_str().unwrap(),
        "--speakers",
        "=x",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Every fixture in, every note clean: no timing line, no reference, no markup; every
/// speaker a name.
#[test]
fn every_transcript_fixture_imports_clean() {
    let a = TestArchive::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 8);
    for name in &names {
        let (_, got) = notes(&a, name, &[]);
        assert!(!got.is_empty(), "{name}: no notes");
        for (speaker, body) in &got {
            for bad in [
                "-->", "&amp;", "&lt;", "&gt;", "&nbsp;", "&lrm;", "&#", "<v", "</", "<i>", "<b>",
                "<c", "WEBVTT", "{\\",
            ] {
                assert!(!body.contains(bad), "{name}: {bad:?} in {body:?}");
            }
            assert!(
                body.chars().count() <= 1_600,
                "{name}: a note of {} characters",
                body.len()
            );
            if !speaker.is_empty() {
                assert!(
                    fieldnotes::io::transcript::looks_like_name(speaker),
                    "{name}: speaker {speaker:?}"
                );
            }
        }
    }
}

#[test]
fn meet_and_otter_text_transcripts_are_transcripts_and_plain_text_is_notes() {
    let a = TestArchive::new();
    let (_, got) = notes(&a, "meet.txt", &["--researcher", "Ana Ruiz"]);
    let maya: Vec<&str> = got
        .iter()
        .filter(|(s, _)| s == "Maya Okafor")
        .map(|(_, b)| b.as_str())
        .collect();
    assert_eq!(
        maya,
        [
            "Happy to help.",
            "The app said the order was ready but it was not, so I waited.",
            "Twenty minutes. [laughs] I timed it."
        ]
    );
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE offset_ms = 125000"),
        1
    );
    let (counts, got) = notes(
        &a,
        "otter.txt",
        &["--speakers", "Speaker 1=researcher,Speaker 2=P03"],
    );
    assert_eq!(counts["participants"], serde_json::json!(["P03"]));
    assert!(got.contains(&(
        "P03".to_string(),
        "It came a day late and nobody called. I had to chase it twice.".to_string()
    )));

    // Text without times is notes, a paragraph each.
    let plain = a.path("notes.txt");
    common::write(
        &plain,
        "Queue at the door #entrance\n\nShe asked twice for help !annoyed\n",
    );
    let counts = a.json(&["import", plain.to_str().unwrap(), "--study", "Plain"]);
    assert_eq!(counts["added"], 2);
    assert_eq!(a.count("SELECT count(*) FROM notes WHERE kind = 'observation' AND participant_id IS NULL AND body = 'Queue at the door #entrance'"), 1);
}
