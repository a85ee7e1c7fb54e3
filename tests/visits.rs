//! Mystery shopping end to end: templates, visits, answers, scores and reports.

mod common;

use common::{STORE_VISIT_CARD as CARD_V1, TestArchive, write};

/// A new archive holding the example scorecard.
fn archive_with_card() -> TestArchive {
    let a = TestArchive::new();
    let file = a.path("card.toml");
    write(&file, CARD_V1);
    a.ok(&["scorecard", "import", file.to_str().unwrap()]);
    a
}

fn visit(a: &TestArchive, location: &str) -> String {
    a.ok(&[
        "session",
        "start",
        "--kind",
        "mystery-shop",
        "--study",
        "Visits",
        "--location",
        location,
        "--scorecard",
        "Store visit",
    ])
    .trim()
    .to_owned()
}

fn score(a: &TestArchive, session: &str) -> f64 {
    a.json(&["visit", "show", session])["score"]["score"]
        .as_f64()
        .unwrap()
}

#[test]
fn template_errors_name_the_line_and_reason() {
    let a = TestArchive::new();
    let file = a.path("bad.toml");
    write(&file, CARD_V1.replace("scale = \"1-5\"", "scale = \"1-7\""));
    let out = a.fails(&["scorecard", "import", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml: line 30") && err.contains("unknown scale \"1-7\""),
        "{err}"
    );
    write(&file, "name = \"x\"\n[[section]\n");
    let err = String::from_utf8_lossy(
        &a.fails(&["scorecard", "import", file.to_str().unwrap()])
            .stderr,
    )
    .into_owned();
    assert!(err.contains("line 2"), "{err}");
    assert_eq!(a.json(&["scorecard", "list"]), serde_json::json!([]));
}

#[test]
fn scores_weigh_criteria_leave_out_na_and_read_times() {
    let a = archive_with_card();
    let s = visit(&a, "Old Town");
    a.ok(&["visit", "answer", &s, "greeted", "yes"]);
    // A time that needs evidence is refused without a note.
    let out = a.fails(&["visit", "answer", &s, "wait-before-greeting", "3m"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs an evidence note"));
    a.ok(&[
        "visit",
        "answer",
        &s,
        "wait-before-greeting",
        "3m",
        "--note",
        "Two staff chatting at the till #checkout",
    ]);
    a.ok(&["visit", "answer", &s, "knowledge", "na"]);
    // greeted 1×1, wait 180 s → (300-180)/240 = 0.5 × 2, knowledge N/A: (1 + 1) / 3.
    assert!((score(&a, &s) - 200.0 / 3.0).abs() < 1e-6);
    let shown = a.json(&["visit", "show", &s]);
    assert_eq!(shown["score"]["answered"], 3);
    let wait = shown["score"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "wait-before-greeting")
        .unwrap()
        .clone();
    assert_eq!(wait["value"], 180.0);
    assert!(
        wait["note"][1]
            .as_str()
            .unwrap()
            .contains("Two staff chatting")
    );
    // The evidence note is an ordinary note of the session, found by search.
    assert_eq!(a.json(&["search", "chatting"])["total"], 1);
    // Bad answers are refused with the scale named.
    let err = String::from_utf8_lossy(&a.fails(&["visit", "answer", &s, "knowledge", "7"]).stderr)
        .into_owned();
    assert!(err.contains("1 to 5"), "{err}");
    let err = String::from_utf8_lossy(&a.fails(&["visit", "answer", &s, "smile", "yes"]).stderr)
        .into_owned();
    assert!(err.contains("no criterion \"smile\""), "{err}");
    let err = String::from_utf8_lossy(&a.fails(&["visit", "answer", &s, "greeted", "na"]).stderr)
        .into_owned();
    assert!(err.contains("cannot be answered N/A"), "{err}");
}

#[test]
fn editing_a_template_never_changes_old_visits() {
    let a = TestArchive::new();
    let file = a.path("card.toml");
    write(&file, CARD_V1);
    assert_eq!(
        a.json(&["scorecard", "import", file.to_str().unwrap()])["version"],
        1
    );
    assert_eq!(
        a.json(&["scorecard", "import", file.to_str().unwrap()])["new_version"],
        false
    );
    let old = visit(&a, "Riverside");
    a.ok(&["visit", "answer", &old, "greeted", "no"]);
    a.ok(&["visit", "answer", &old, "knowledge", "5"]);
    assert!((score(&a, &old) - 50.0).abs() < 1e-6);
    // Version 2 weighs greeting far more.
    write(&file, CARD_V1.replacen("weight = 1", "weight = 9", 1));
    assert_eq!(
        a.json(&["scorecard", "import", file.to_str().unwrap()])["version"],
        2
    );
    assert!(
        (score(&a, &old) - 50.0).abs() < 1e-6,
        "the old visit kept version 1"
    );
    let new = visit(&a, "Riverside");
    a.ok(&["visit", "answer", &new, "greeted", "no"]);
    a.ok(&["visit", "answer", &new, "knowledge", "5"]);
    assert!((score(&a, &new) - 10.0).abs() < 1e-6);
    assert_eq!(a.json(&["visit", "show", &new])["scorecard"]["version"], 2);
    assert_eq!(
        a.json(&["scorecard", "show", "Store visit", "--version", "1"])["version"],
        1
    );
}

#[test]
fn a_scorecard_only_goes_on_a_mystery_shop_session() {
    let a = archive_with_card();
    let out = a.fails(&[
        "session",
        "start",
        "--kind",
        "interview",
        "--study",
        "X",
        "--scorecard",
        "Store visit",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("mystery-shop"));
    let out = a.fails(&[
        "session",
        "start",
        "--kind",
        "mystery-shop",
        "--study",
        "X",
        "--scorecard",
        "Nope",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scorecard named \"Nope\""));
    assert_eq!(
        a.count("SELECT count(*) FROM sessions"),
        0,
        "nothing half-made"
    );
}

#[test]
fn the_report_groups_orders_worst_first_and_exports() {
    let a = archive_with_card();
    for (location, greeted, knowledge) in [
        ("Riverside", "yes", "5"),
        ("Old Town", "no", "2"),
        ("Old Town", "no", "1"),
        ("Riverside", "yes", "4"),
    ] {
        let s = visit(&a, location);
        a.ok(&["visit", "answer", &s, "greeted", greeted]);
        let note = format!("Knowledge answer {knowledge} because of the shelf labels");
        a.ok(&[
            "visit",
            "answer",
            &s,
            "knowledge",
            knowledge,
            "--note",
            &note,
        ]);
    }
    let r = a.json(&["visits", "--by", "location"]);
    assert_eq!(r["visits"], 4);
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups[0]["group"], "Old Town");
    assert_eq!(groups[0]["visits"], 2);
    // Old Town: (0 + 0.25)/2 = 12.5 and (0 + 0)/2 = 0 → mean 6.25, spread 6.25.
    assert!((groups[0]["mean"].as_f64().unwrap() - 6.25).abs() < 1e-6);
    assert!((groups[0]["spread"].as_f64().unwrap() - 6.25).abs() < 1e-6);
    assert_eq!(groups[0]["criteria"][0]["id"], "greeted");
    let low = &groups[0]["criteria"][1]["low_notes"];
    assert_eq!(
        low.as_array().unwrap().len(),
        2,
        "the notes behind the low scores"
    );
    let by_criterion = a.json(&["visits", "--by", "criterion"]);
    assert_eq!(by_criterion["groups"][0]["group"], "greeted");
    let months = a.json(&["visits", "--by", "month"]);
    assert_eq!(months["groups"].as_array().unwrap().len(), 1);

    let md = a.path("report.md");
    a.ok(&["visits", "--format", "markdown", "-o", md.to_str().unwrap()]);
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.starts_with("# Mystery-shopping report") && md.contains("| Old Town | 2 | 6 |"),
        "{md}"
    );
    let csv = a.path("report.csv");
    a.ok(&["visits", "--format", "csv", "-o", csv.to_str().unwrap()]);
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(csv.starts_with("Location,visits,mean"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 2 * 2);
}

#[test]
fn the_demo_compares_three_stores() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let r = a.json(&["visits"]);
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    let means: Vec<f64> = groups.iter().map(|g| g["mean"].as_f64().unwrap()).collect();
    assert!(
        means.windows(2).all(|w| w[0] <= w[1]),
        "worst first: {means:?}"
    );
    // Seeding again adds nothing.
    a.ok(&["demo", "--seed-only"]);
    assert_eq!(a.json(&["visits"])["visits"], r["visits"]);
    assert_eq!(a.count("SELECT count(*) FROM scorecards"), 1);
}

/// Makes the next write to `table` fail inside SQLite, as a full disk or a crash mid-way
/// would: what a multi-step write did before it must not stay.
fn fail_writes_to(a: &TestArchive, table: &str) {
    a.db()
        .execute_batch(&format!(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ))
        .unwrap();
}

#[test]
fn a_visit_that_fails_to_get_its_scorecard_leaves_no_session() {
    let a = archive_with_card();
    fail_writes_to(&a, "visits");
    let out = a.fails(&[
        "session",
        "start",
        "--kind",
        "mystery-shop",
        "--study",
        "Visits",
        "--scorecard",
        "Store visit",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("injected failure"),
        "{out:?}"
    );
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
    assert_eq!(a.count("SELECT count(*) FROM studies"), 0);
    // A scorecard on a session of another kind is refused before anything is written.
    a.db()
        .execute_batch("DROP TRIGGER injected_failure")
        .unwrap();
    a.fails(&[
        "session",
        "start",
        "--kind",
        "interview",
        "--study",
        "Visits",
        "--scorecard",
        "Store visit",
    ]);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
}

#[test]
fn an_answer_that_fails_leaves_no_evidence_note() {
    let a = archive_with_card();
    let s = visit(&a, "Old Town");
    fail_writes_to(&a, "visit_answers");
    a.fails(&[
        "visit",
        "answer",
        &s,
        "wait-before-greeting",
        "3m",
        "--note",
        "Nobody looked up for three minutes",
    ]);
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.json(&["search", "looked"])["total"], 0);
}

#[test]
fn visits_json_goes_to_the_file_asked_for() {
    let a = archive_with_card();
    let s = visit(&a, "Old Town");
    a.ok(&["visit", "answer", &s, "greeted", "yes"]);
    let file = a.path("visits.json");
    a.ok(&["visits", "--json", "-o", file.to_str().unwrap()]);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["visits"], 1);
    assert_eq!(written["groups"][0]["group"], "Old Town");
    // A yes is shown as a yes.
    let shown = a.ok(&["visit", "show", &s]);
    assert!(
        shown
            .lines()
            .any(|l| l.contains("greeted") && l.contains("yes")),
        "{shown}"
    );
}
