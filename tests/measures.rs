//! CX measures end to end: typed in notes, given to sessions, read from survey columns,
//! checked against their scales, and summarised by `fieldnotes measures`.

mod common;

use common::{TestArchive, write};
use serde_json::Value;

fn measure<'a>(group: &'a Value, name: &str) -> &'a Value {
    group["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {group}"))
}

fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
        .unwrap_or_else(|| panic!("no group {name} in {report}"))
}

/// Ten NPS answers worked by hand: promoters 9, 10, 10; passives 7, 8, 8; detractors 0, 3, 5,
/// 6. NPS = 30% − 40% = −10, margin 1.96 × 100 × √(0.69 / 10) = 51.48. CSAT 5, 4, 4, 2, 1 on the
/// checkout notes: mean 3.2, top two (4–5) 60%. CES 2 and 3 at the till, where the notes feel
/// frustrated: a moment of truth.
#[test]
fn figures_match_a_hand_computed_archive() {
    let a = TestArchive::new();
    a.start_session();
    let nps = [9, 10, 10, 7, 8, 8, 0, 3, 5, 6];
    let csat = [5, 4, 4, 2, 1];
    for (i, v) in nps.iter().enumerate() {
        let extra = match csat.get(i) {
            Some(c) => format!(" #checkout %csat={c}"),
            None => " #delivery".to_owned(),
        };
        a.add(&[&format!("answer {i} %nps={v}{extra}")]);
    }
    a.add(&["Queued twice at the till #till !frustrated %ces=2"]);
    a.add(&["Till again, card declined #till !angry %ces=3"]);
    a.add(&["Delivery easy #delivery !pleased %ces=7"]);

    let r = a.json(&["measures", "--by", "touchpoint"]);
    let all = group(&r, "all");
    let n = measure(all, "nps");
    assert_eq!(n["n"], 10);
    assert_eq!(n["nps"]["score"], -10.0);
    assert_eq!(n["nps"]["margin"], 51.48);
    assert_eq!(
        (
            &n["nps"]["promoters"],
            &n["nps"]["passives"],
            &n["nps"]["detractors"]
        ),
        (&Value::from(3), &Value::from(3), &Value::from(4))
    );
    let c = measure(group(&r, "checkout"), "csat");
    assert_eq!((c["n"].as_u64(), c["mean"].as_f64()), (Some(5), Some(3.2)));
    assert_eq!(c["top_two"], 0.6);
    let till = &r["moments_of_truth"][0];
    assert_eq!(till["touchpoint"], "till");
    assert_eq!(till["effort"], 2.5);
    assert_eq!(r["moments_of_truth"].as_array().unwrap().len(), 1);

    let text = a.ok(&["measures", "--by", "touchpoint"]);
    assert!(text.contains("-10 ± 51"), "{text}");
    assert!(
        text.contains("promoters 3 · passives 3 · detractors 4"),
        "{text}"
    );
    assert!(text.contains("Moments of truth"), "{text}");
    // A filter narrows the values like any analysis.
    let checkout = a.json(&["measures", "--touchpoint", "checkout"]);
    assert_eq!(measure(group(&checkout, "all"), "nps")["n"], 5);
}

#[test]
fn values_out_of_scale_are_refused_and_nothing_is_written() {
    let a = TestArchive::new();
    a.start_session();
    for (bad, says) in [
        ("too keen %nps=11", "%nps=11 is out of scale: nps runs 0–10"),
        ("%csat=4.5 half", "csat takes whole numbers 1–5"),
        ("%npx=3 typo", "no measure is named npx"),
        ("%ces=easy", "is not a number"),
    ] {
        let out = a.fails(&["add", bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{bad}: {err}");
    }
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    // `50%` and `%d` are words, not measures.
    let id = a.add(&["50% off, printf %d"]);
    let out = a.fails(&["edit", &id, "now %nps=12"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of scale"));
    assert_eq!(a.json(&["show", &id])["body"], "50% off, printf %d");
}

#[test]
fn sessions_carry_measures_and_studies_define_their_own() {
    let a = TestArchive::new();
    let session = a.start_session();
    a.add(&["At the till #checkout @busy-parent"]);
    a.ok(&["measures", "set", &session, "nps=6", "csat=2"]);
    let out = a.fails(&["measures", "set", &session, "csat=9"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("csat runs 1–5"));
    // Setting again replaces the value.
    a.ok(&["measures", "set", &session, "nps=9"]);
    let r = a.json(&["measures", "--by", "persona"]);
    let n = measure(group(&r, "busy-parent"), "nps");
    assert_eq!((n["n"].as_u64(), n["mean"].as_f64()), (Some(1), Some(9.0)));
    assert_eq!(n["notes"].as_array().unwrap().len(), 0, "a session's own");

    let out = a.fails(&[
        "measures",
        "define",
        "nps",
        "--scale",
        "0..5",
        "--study",
        "Checkout Q3",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("built-in"));
    a.ok(&[
        "measures",
        "define",
        "Wait Minutes",
        "--scale",
        "0..60",
        "--lower-is-better",
        "--fractions",
        "--study",
        "Checkout Q3",
    ]);
    a.add(&["Waited %wait-minutes=7.5 #checkout"]);
    let fails = a.fails(&["add", "Waited %wait-minutes=75"]);
    assert!(String::from_utf8_lossy(&fails.stderr).contains("wait-minutes runs 0–60"));
    let scales = a.json(&["measures", "scales", "--study", "Checkout Q3"]);
    let wait = scales
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "wait-minutes")
        .unwrap();
    assert_eq!(wait["higher_is_better"], false);
    let r = a.json(&["measures"]);
    let w = measure(group(&r, "all"), "wait-minutes");
    assert_eq!(
        (w["mean"].as_f64(), w["goodness"].as_f64()),
        (Some(7.5), Some(0.88))
    );
}

#[test]
fn survey_columns_become_measures_and_bad_scores_stop_the_import() {
    let a = TestArchive::new();
    let csv = a.path("survey.csv");
    // As survey tools export them: a score as its choice text, answers without a comment.
    write(
        &csv,
        "Response ID,How likely are you to recommend us?,Why?,Effort\n\
         R_1,10 - Extremely likely,Quick and friendly,7\n\
         R_2,3,Card machine broken,2\n\
         R_3,8,,\n\
         R_4,,,\n",
    );
    a.ok(&[
        "import",
        csv.to_str().unwrap(),
        "--study",
        "Survey",
        "--id",
        "Response ID",
        "--text",
        "Why?",
        "--measure",
        "nps=How likely are you to recommend us?",
        "--measure",
        "ces=Effort",
    ]);
    assert_eq!(
        a.count("SELECT count(*) FROM notes"),
        3,
        "R_4 holds nothing"
    );
    let r = a.json(&["measures"]);
    let all = group(&r, "all");
    assert_eq!(measure(all, "nps")["n"], 3);
    assert_eq!(measure(all, "nps")["nps"]["score"], 0.0);
    assert_eq!(measure(all, "ces")["n"], 2);
    let body: String = a
        .db()
        .query_row(
            "SELECT body FROM notes WHERE source LIKE '%#R_2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(body, "Card machine broken %nps=3 %ces=2");

    let bad = a.path("bad.csv");
    write(&bad, "text,Score\nfine,9\nodd,11\n");
    let before = a.count("SELECT count(*) FROM notes");
    let out = a.fails(&[
        "import",
        bad.to_str().unwrap(),
        "--study",
        "Survey",
        "--measure",
        "nps=Score",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("nps runs 0–10"),
        "{err}"
    );
    assert_eq!(
        a.count("SELECT count(*) FROM notes"),
        before,
        "nothing half-written"
    );
}

#[test]
fn a_files_out_of_scale_measure_is_kept_as_text_and_reported() {
    let a = TestArchive::new();
    let md = a.path("notes.csv");
    write(&md, "text\nImported with %nps=12 in it\nFine %nps=9\n");
    let out = a
        .cmd()
        .args(["import", md.to_str().unwrap(), "--study", "Old"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("%nps=12 is out of scale"), "{err}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 2);
    let r = a.json(&["measures"]);
    assert_eq!(r["ignored"], 1);
    assert_eq!(measure(group(&r, "all"), "nps")["n"], 1);
}

#[test]
fn trend_compares_two_studies() {
    let a = TestArchive::new();
    for (study, values) in [("Wave 1", [10, 10, 0, 0]), ("Wave 2", [10, 10, 10, 0])] {
        a.ok(&["session", "start", "--kind", "interview", "--study", study]);
        for v in values {
            a.add(&[&format!("said %nps={v}")]);
        }
    }
    let t = a.json(&["measures", "trend", "--from", "Wave 1", "--to", "Wave 2"]);
    let nps = &t["measures"][0];
    assert_eq!(nps["change"], 50.0);
    assert_eq!(nps["z"], 0.76);
    let out = a.fails(&["measures", "trend", "--from", "Wave 1", "--to", "Nope"]);
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn insights_carry_the_researchers_confidence_through_an_export() {
    let a = TestArchive::new();
    a.start_session();
    let n1 = a.add(&["Queue at the till #checkout"]);
    let n2 = a.add(&["Queue again #checkout"]);
    a.ok(&[
        "insight",
        "add",
        "Queues drive people away",
        "--note",
        &n1,
        "--note",
        &n2,
        "--confidence",
        "high",
    ]);
    assert!(
        a.ok(&["insight", "list"])
            .contains("(high confidence, 2 notes)")
    );
    a.ok(&["insight", "confidence", "1", "low"]);
    let export = a.path("all.jsonl");
    a.ok(&["export", "-o", export.to_str().unwrap()]);
    let b = TestArchive::new();
    b.ok(&["import", export.to_str().unwrap()]);
    let insights = b.json(&["insight", "list"]);
    assert_eq!(insights[0]["confidence"], "low");
    a.ok(&["insight", "confidence", "1", "none"]);
    assert!(a.ok(&["insight", "list"]).contains("(2 notes)"));
}

#[test]
fn a_visits_measures_are_given_when_it_starts_and_travel_in_an_export() {
    let a = TestArchive::new();
    let out = a.fails(&[
        "session",
        "start",
        "--kind",
        "mystery-shop",
        "--study",
        "Shops",
        "--measure",
        "csat=6",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("csat runs 1–5"));
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
    let visit = a
        .ok(&[
            "session",
            "start",
            "--kind",
            "mystery-shop",
            "--study",
            "Shops",
            "--location",
            "Riverside",
            "--measure",
            "csat=2",
            "--measure",
            "%ces=3",
        ])
        .trim()
        .to_owned();
    a.add(&["Nobody at the counter for 6 minutes #counter !annoyed"]);
    let r = a.json(&["measures", "--by", "study"]);
    assert_eq!(measure(group(&r, "Shops"), "csat")["mean"], 2.0);
    let export = a.path("shops.jsonl");
    a.ok(&["export", "-o", export.to_str().unwrap()]);
    let b = TestArchive::new();
    b.ok(&["import", export.to_str().unwrap()]);
    let r = b.json(&["measures"]);
    let all = group(&r, "all");
    assert_eq!(measure(all, "ces")["mean"], 3.0);
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) FROM session_measures WHERE session_id = '{visit}'"
        )),
        2
    );
}

/// The app's new-session form hands its measures to the library, which checks them against
/// the study's own scales before anything is written.
#[test]
fn the_library_checks_a_new_sessions_measures_against_its_study() {
    use fieldnotes::model::{Measure, SessionKind, read_list};
    use fieldnotes::store::NewSession;
    let a = TestArchive::new();
    a.ok(&["session", "start", "--kind", "interview", "--study", "Q3"]);
    a.ok(&[
        "measures",
        "define",
        "queue-minutes",
        "--scale",
        "0..30",
        "--study",
        "Q3",
    ]);
    let mut archive = fieldnotes::Archive::open(&a.dir).unwrap();
    let mut new = NewSession::new("Q3", SessionKind::Interview);
    new.measures = read_list("nps=9 queue-minutes=45").unwrap();
    let err = archive.start_session(&new, None).unwrap_err().to_string();
    assert_eq!(
        err,
        "%queue-minutes=45 is out of scale: queue-minutes runs 0–30"
    );
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 1);
    new.measures = read_list("%nps=9, queue-minutes=12").unwrap();
    let s = archive.start_session(&new, None).unwrap();
    assert_eq!(
        archive.store().measures_of_session(&s.id).unwrap(),
        [
            Measure {
                name: "nps".into(),
                value: 9.0
            },
            Measure {
                name: "queue-minutes".into(),
                value: 12.0
            }
        ]
    );
}
