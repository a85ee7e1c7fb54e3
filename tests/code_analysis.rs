//! The analyses of coding from the command line, on small archives worked out by hand:
//! co-occurrence with the c-coefficient, a code matrix, and agreement between two coders.

mod common;

use common::TestArchive;

/// Four notes: =wait-time on 1, 2 and 4, =staff-help on 1, 3 and 4; @parent on 1 and 2,
/// @student on 3 and 4.
fn coded() -> (TestArchive, Vec<String>) {
    let a = TestArchive::new();
    a.start_session();
    let ids = [
        "The queue was long and a clerk helped =wait-time =staff-help @parent",
        "Waited twenty minutes =wait-time @parent",
        "A clerk walked her to the lockers =staff-help @student",
        "Long wait until someone came =wait-time =staff-help @student",
    ]
    .iter()
    .map(|text| a.add(&[text]))
    .collect();
    (a, ids)
}

#[test]
fn codes_applied_together_are_counted_with_their_c_coefficient() {
    let (a, ids) = coded();
    let r = a.json(&["cooccurrence", "--facet", "code"]);
    let codes: Vec<&str> = r["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["=staff-help", "=wait-time"]);
    // Both on notes 1 and 4; each on three notes: c = 2 / (3 + 3 − 2) = 0.5.
    assert_eq!(r["notes"][0][1], 2);
    assert_eq!(r["c"][0][1], 0.5);
    assert_eq!(r["notes"][0][0], 3);
    let behind = a.json(&["cooccurrence", "--pair", "=wait-time", "=staff-help"]);
    let mut notes: Vec<&str> = behind
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["note"].as_str().unwrap())
        .collect();
    notes.sort();
    let mut want = vec![ids[0].as_str(), ids[3].as_str()];
    want.sort();
    assert_eq!(notes, want);
    let text = a.ok(&["cooccurrence", "--facet", "code"]);
    assert!(text.contains("=staff-help"), "{text}");
    assert!(text.contains("0.50"), "{text}");
}

#[test]
fn a_code_by_persona_matrix_counts_notes_and_participants() {
    let (a, _) = coded();
    let m = a.json(&["matrix", "--by", "persona", "--facet", "code"]);
    assert_eq!(m["groups"], serde_json::json!(["parent", "student"]));
    assert_eq!(m["codes"], serde_json::json!(["=staff-help", "=wait-time"]));
    // =wait-time: notes 1 and 2 are @parent, note 4 @student; all from one participant.
    assert_eq!(m["cells"][1][0]["notes"], 2);
    assert_eq!(m["cells"][1][1]["notes"], 1);
    assert_eq!(m["cells"][1][0]["participants"], 1);
    // Of the notes coded =wait-time (3), two thirds are @parent.
    let share = m["cells"][1][0]["row_share"].as_f64().unwrap();
    assert!((share - 2.0 / 3.0).abs() < 1e-9, "{share}");
    let csv = a.ok(&["matrix", "--by", "persona", "--facet", "code", "--csv"]);
    assert!(csv.lines().count() >= 5, "{csv}");
    assert!(csv.contains("=wait-time"), "{csv}");
    a.fails(&["matrix", "--by", "weather"]);
}

#[test]
fn two_coders_agreement_matches_the_hand_computed_figures() {
    let a = TestArchive::new();
    a.start_session();
    let ids: Vec<String> = [
        "The price was higher than online",
        "The price tag was missing",
        "The price felt fair for the size",
        "No one mentioned money at all",
    ]
    .iter()
    .map(|t| a.add(&[t]))
    .collect();
    // Ana codes =price on notes 1 and 2, Ben on 1 and 3 (a passage each).
    for (coder, notes) in [("Ana", [0, 1]), ("Ben", [0, 2])] {
        for n in notes {
            a.ok(&[
                "code", &ids[n], "=price", "--quote", "price", "--coder", coder,
            ]);
        }
    }
    // Every note judged by both: agree on notes 1 and 4, not on 2 and 3. Agreement 50%;
    // kappa (0.5 − 0.5) / (1 − 0.5) = 0; alpha = 1 − 7 · 4 / (2 · 4 · 4) = 0.125.
    let r = a.json(&[
        "agreement",
        "--coders",
        "Ana,Ben",
        "--all-notes",
        "--only",
        "=price",
    ]);
    let notes = &r["overall"]["notes"];
    assert_eq!(notes["units"], 4);
    assert_eq!(notes["percent_agreement"], 50.0);
    assert_eq!(notes["kappa"].as_f64().unwrap().abs(), 0.0);
    assert!(
        (notes["alpha"].as_f64().unwrap() - 0.125).abs() < 1e-9,
        "{r}"
    );
    assert_eq!(r["disagreements"].as_array().unwrap().len(), 2);
    let text = a.ok(&["agreement", "--coders", "Ana,Ben", "--all-notes"]);
    assert!(text.contains("2 disagreements"), "{text}");
    // A coder who coded nothing here is a clear error, not a table of dashes.
    let out = a.fails(&["agreement", "--coders", "Ana,Zoe"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no note was coded by two"),
        "{out:?}"
    );
}

/// Four notes; Ana codes =price on the whole of notes 1 and 2, Ben on 1 and 3.
fn coded_whole_by_two(a: &TestArchive) -> Vec<String> {
    a.start_session();
    let ids: Vec<String> = [
        "The price was higher than online",
        "The price tag was missing",
        "The price felt fair for the size",
        "No one mentioned money at all",
    ]
    .iter()
    .map(|t| a.add(&[t]))
    .collect();
    for (coder, notes) in [("Ana", [0, 1]), ("Ben", [0, 2])] {
        for n in notes {
            a.ok(&["code", &ids[n], "=price", "--coder", coder]);
        }
    }
    ids
}

#[test]
fn two_coders_coding_the_same_whole_note_are_both_counted() {
    let a = TestArchive::new();
    let ids = coded_whole_by_two(&a);
    // As with passages: agree on notes 1 and 4, not on 2 and 3 (Ben's coding of note 1,
    // which Ana had coded already, counts).
    let r = a.json(&[
        "agreement",
        "--coders",
        "Ana,Ben",
        "--all-notes",
        "--only",
        "=price",
    ]);
    assert_eq!(r["overall"]["notes"]["percent_agreement"], 50.0, "{r}");
    // Ben taking his coding back leaves Ana's.
    a.ok(&["uncode", &ids[0], "=price", "--coder", "Ben"]);
    let r = a.json(&["agreement", "--coders", "Ana,Ben", "--all-notes"]);
    assert_eq!(r["overall"]["notes"]["percent_agreement"], 25.0, "{r}");
    let out = a.fails(&["uncode", &ids[0], "=price", "--coder", "Ben"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not coded =price as a whole by Ben"),
        "{out:?}"
    );
}

#[test]
fn a_merge_keeps_each_coders_whole_note_codings() {
    // Ana and Ben each code a copy of the same note as a whole; the merge keeps both codings.
    let a = TestArchive::new();
    a.start_session();
    let note = a.add(&["The price was higher than online"]);
    let other = a.add(&["No one mentioned money at all"]);
    let shared = a.path("shared.jsonl");
    a.ok(&["export", "-o", shared.to_str().unwrap()]);
    let b = TestArchive::new();
    b.ok(&["import", shared.to_str().unwrap()]);
    a.ok(&["code", &note, "=price", "--coder", "Ana"]);
    a.ok(&["code", &other, "=money", "--coder", "Ana"]);
    b.ok(&["code", &note, "=price", "--coder", "Ben"]);
    b.ok(&["code", &other, "=money", "--coder", "Ben"]);
    assert_eq!(a.json(&["merge", b.dir.to_str().unwrap()])["updated"], 2);
    let r = a.json(&["agreement", "--coders", "Ana,Ben"]);
    assert_eq!(r["notes"], 2, "{r}");
    assert_eq!(r["overall"]["notes"]["percent_agreement"], 100.0, "{r}");
    assert_eq!(a.json(&["merge", b.dir.to_str().unwrap()])["unchanged"], 2);
}

#[test]
fn agreement_over_one_facet_still_knows_which_notes_each_coder_judged() {
    let a = TestArchive::new();
    a.start_session();
    let one = a.add(&["The price was higher than online"]);
    let two = a.add(&["A parent asked about the price of nappies"]);
    // Ana codes =price on note 1 and only a persona on note 2; Ben codes =price on both.
    a.ok(&["code", &one, "=price", "--coder", "Ana"]);
    a.ok(&["code", &two, "@parent", "--coder", "Ana"]);
    a.ok(&["code", &one, "=price", "--coder", "Ben"]);
    a.ok(&["code", &two, "=price", "--coder", "Ben"]);
    // Ana judged note 2 (she coded it) and did not find =price there: a disagreement.
    let r = a.json(&["agreement", "--coders", "Ana,Ben", "--facet", "code"]);
    assert_eq!(r["notes"], 2, "{r}");
    let codes: Vec<&str> = r["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["=price"], "{r}");
    assert_eq!(r["overall"]["notes"]["percent_agreement"], 50.0, "{r}");
    // --only and --facet together compare the codes both allow.
    let r = a.json(&[
        "agreement",
        "--coders",
        "Ana,Ben",
        "--facet",
        "persona",
        "--only",
        "=price",
    ]);
    assert_eq!(r["codes"].as_array().unwrap().len(), 0, "{r}");
}

#[test]
fn the_analyses_read_only_the_codings_of_the_notes_a_search_selects() {
    let (a, _) = coded();
    // "clerk" finds notes 1 and 3: the two codes meet on note 1 only.
    let r = a.json(&["cooccurrence", "--facet", "code", "clerk"]);
    assert_eq!(r["notes"][0][1], 1, "{r}");
    assert_eq!(r["notes"][0][0], 2, "{r}");
    assert_eq!(r["coded_notes"], 2, "{r}");
}
