//! The analysis commands on small archives where the right answer is known: recurring
//! themes, segment contrast, pain points, the journey curve, change between waves, and
//! curation (keep, rename, merge, dismiss, insights).

mod common;

use common::{TestArchive, write};
use serde_json::Value;

/// Imports CSV rows (`text,kind,persona,touchpoint,emotion,session,created_at`).
fn import(a: &TestArchive, rows: &[[&str; 7]], study: &str) {
    let mut csv = String::from("text,kind,persona,touchpoint,emotion,session,created_at\n");
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let path = a.path(&format!("{study}.csv"));
    write(&path, csv);
    a.ok(&["import", path.to_str().unwrap(), "--study", study]);
}

/// Whether a theme's label or one of the phrases shown beside it holds `word`.
fn names(theme: &Value, word: &str) -> bool {
    theme["label"].as_str().unwrap().contains(word)
        || theme["phrases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains(word))
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_str().expect("a string").to_owned())
        .collect()
}

/// Twenty notes about loyalty points from one session, and a queue complaint in five.
fn spread_archive() -> TestArchive {
    let a = TestArchive::new();
    let mut rows = Vec::new();
    let bodies: Vec<String> = (0..20)
        .map(|i| format!("Loyalty points missing again, receipt number {i}"))
        .collect();
    for b in &bodies {
        rows.push([
            b.as_str(),
            "quote",
            "",
            "loyalty-card",
            "annoyed",
            "Visit one",
            "2026-09-01",
        ]);
    }
    let sessions = [
        "Visit two",
        "Visit three",
        "Visit four",
        "Visit five",
        "Visit six",
    ];
    for s in sessions {
        rows.push([
            "The queue at the till barely moved",
            "observation",
            "busy-parent",
            "checkout",
            "frustrated",
            s,
            "2026-09-02",
        ]);
    }
    import(&a, &rows, "Checkout");
    a
}

#[test]
fn a_phrase_in_five_sessions_outranks_one_repeated_in_one() {
    let a = spread_archive();
    let r = a.json(&["themes"]);
    let phrases: Vec<&str> = r["key_phrases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["stem"].as_str().unwrap())
        .collect();
    let pos = |s: &str| {
        phrases
            .iter()
            .position(|p| *p == s)
            .unwrap_or_else(|| panic!("{s} missing from {phrases:?}"))
    };
    assert!(pos("queue") < pos("loyalti point"), "{phrases:?}");
    let queue = &r["key_phrases"][pos("queue")];
    assert_eq!(queue["sessions"], 5);
    assert_eq!(queue["notes"], 5);
    // The themes follow the same order: the queue theme, spread widest, comes first.
    let first = &r["themes"][0];
    assert!(names(first, "queue"), "{first}");
    assert_eq!(first["sessions"], 5);
}

#[test]
fn each_theme_reports_its_evidence_in_full() {
    let a = spread_archive();
    let r = a.json(&["themes"]);
    assert_eq!(r["total_notes"], 25);
    let themes = r["themes"].as_array().unwrap();
    assert_eq!(themes.len(), 2, "{r:#}");
    let loyalty = themes
        .iter()
        .find(|t| names(t, "loyalty"))
        .expect("a loyalty theme");
    assert_eq!(loyalty["note_count"], 20);
    assert_eq!(ids(&loyalty["notes"]).len(), 20);
    assert_eq!(loyalty["sessions"], 1);
    assert_eq!(loyalty["share"], 0.8);
    assert_eq!(loyalty["mean_valence"], -1.0);
    assert_eq!(loyalty["touchpoints"][0]["name"], "loyalty-card");
    let reps = loyalty["representative"].as_array().unwrap();
    assert_eq!(reps.len(), 3);
    assert!(reps.iter().all(|e| e["kind"] == "quote"));
    // The tag names themselves are not key phrases; stop words never are.
    for k in r["key_phrases"].as_array().unwrap() {
        let stem = k["stem"].as_str().unwrap();
        assert!(!["checkout", "the", "at"].contains(&stem), "{stem}");
    }
    let queue = themes.iter().find(|t| names(t, "queue")).unwrap();
    assert_eq!(queue["personas"][0]["name"], "busy-parent");
    // Every note is in the theme its words belong to.
    let text = a.ok(&["themes"]);
    assert!(text.contains("2 themes in 25 notes"), "{text}");
    assert!(text.contains("5 notes · 5 sessions"), "{text}");
}

#[test]
fn themes_take_the_same_filters_as_search() {
    let a = spread_archive();
    let r = a.json(&["themes", "--persona", "busy-parent"]);
    assert_eq!(r["total_notes"], 5);
    let r = a.json(&["themes", "barely"]);
    assert_eq!(r["total_notes"], 5);
    let r = a.json(&["themes", "--limit", "1"]);
    assert_eq!(r["themes"].as_array().unwrap().len(), 1);
    let out = a.fails(&["themes", "--since", "yesterday-ish"]);
    assert_eq!(out.status.code(), Some(1));
    let out = a.fails(&["themes", "contrast", "--by", "colour"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn a_personas_distinctive_word_is_found() {
    let a = TestArchive::new();
    let mut rows: Vec<[String; 7]> = Vec::new();
    for i in 0..10 {
        rows.push(row(
            &format!("The print on the shelf label is too small, visit {i}"),
            "retiree",
            "shelf",
            "",
            &format!("R{i}"),
        ));
        rows.push(row(
            &format!("Compared the shelf price with the app, visit {i}"),
            "student",
            "shelf",
            "",
            &format!("S{i}"),
        ));
        rows.push(row(
            &format!("The app price was fine but the shelf was empty, visit {i}"),
            "commuter",
            "shelf",
            "",
            &format!("C{i}"),
        ));
    }
    import_owned(&a, &rows, "Shelves");
    let r = a.json(&["themes", "contrast", "--by", "persona"]);
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    let retiree = groups.iter().find(|g| g["group"] == "retiree").unwrap();
    let top = &retiree["phrases"][0];
    assert!(
        ["print", "label", "small", "shelf label"].contains(&top["term"].as_str().unwrap()),
        "{retiree:#}"
    );
    assert_eq!(top["in_group"], 10);
    assert_eq!(top["in_rest"], 0);
    assert!(top["z"].as_f64().unwrap() > 1.96);
    // Words every group uses are not distinctive of any.
    for g in groups {
        for p in g["phrases"].as_array().unwrap() {
            assert_ne!(p["term"], "visit", "{g:#}");
        }
    }
    let text = a.ok(&["themes", "contrast", "--by", "persona"]);
    assert!(text.contains("retiree (10 notes)"), "{text}");
}

fn row(text: &str, persona: &str, touchpoint: &str, emotion: &str, session: &str) -> [String; 7] {
    [
        text.into(),
        "quote".into(),
        persona.into(),
        touchpoint.into(),
        emotion.into(),
        session.into(),
        "2026-09-01".into(),
    ]
}

fn import_owned(a: &TestArchive, rows: &[[String; 7]], study: &str) {
    let refs: Vec<[&str; 7]> = rows
        .iter()
        .map(|r| std::array::from_fn(|i| r[i].as_str()))
        .collect();
    import(a, &refs, study);
}

#[test]
fn the_worst_touchpoint_is_the_one_with_the_most_negative_notes() {
    let a = TestArchive::new();
    let rows = vec![
        row(
            "Waited an age at the till",
            "",
            "checkout",
            "frustrated",
            "A",
        ),
        row("Card reader failed twice", "", "checkout", "annoyed", "B"),
        row("Nobody on the tills", "", "checkout", "angry", "C"),
        row("Parcel came a day late", "", "delivery", "anxious", "A"),
        row("Driver was lovely", "", "delivery", "delighted", "B"),
        row("Driver rang ahead", "", "delivery", "pleased", "C"),
        row(
            "Found the aisle at once",
            "",
            "store-layout",
            "satisfied",
            "A",
        ),
    ];
    import_owned(&a, &rows, "Pains");
    let r = a.json(&["themes", "pains"]);
    let tps = r["touchpoints"].as_array().unwrap();
    assert_eq!(tps[0]["touchpoint"], "checkout");
    assert_eq!(tps[0]["negative_notes"], 3);
    assert_eq!(tps[1]["touchpoint"], "delivery");
    assert_eq!(r["worst"][0]["touchpoint"], "checkout");
    assert_eq!(r["worst"][0]["quotes"].as_array().unwrap().len(), 3);
    let text = a.ok(&["themes", "pains"]);
    assert!(text.contains("#checkout:"), "{text}");
    assert!(
        text.lines().nth(3).unwrap().starts_with("checkout"),
        "{text}"
    );
}

#[test]
fn the_journey_runs_in_stage_order_with_mean_valence() {
    let a = TestArchive::new();
    let rows = vec![
        row("Parcel came a day late", "", "delivery", "anxious", "A"),
        row(
            "Waited an age at the till",
            "",
            "checkout",
            "frustrated",
            "A",
        ),
        row("Till was quick today", "", "checkout", "pleased", "B"),
    ];
    import_owned(&a, &rows, "Journey");
    // Stages come from the codebook; set them as a researcher would, in the database.
    let db = a.db();
    db.execute_batch(
        "UPDATE tags SET stage = 'buy' WHERE facet = 'touchpoint' AND name = 'checkout';
         UPDATE tags SET stage = 'receive' WHERE facet = 'touchpoint' AND name = 'delivery';",
    )
    .unwrap();
    let r = a.json(&["themes", "journey"]);
    let points = r["points"].as_array().unwrap();
    let order: Vec<(Value, Value)> = points
        .iter()
        .map(|p| (p["stage"].clone(), p["touchpoint"].clone()))
        .collect();
    assert_eq!(order[0], ("buy".into(), Value::Null));
    assert_eq!(order[1], ("buy".into(), "checkout".into()));
    assert_eq!(order[2], ("receive".into(), Value::Null));
    assert_eq!(points[1]["mean_valence"], -0.5);
    assert_eq!(points[1]["notes"], 2);
    assert_eq!(points[3]["mean_valence"], -1.0);
}

#[test]
fn a_theme_only_in_the_later_wave_shows_as_grown() {
    let a = TestArchive::new();
    let dated = |text: String, touchpoint: &str, session: String, date: &str| {
        let mut r = row(&text, "", touchpoint, "", &session);
        r[6] = date.into();
        r
    };
    let mut rows = Vec::new();
    for i in 0..8 {
        let staff = format!("Friendly staff helped at the till, visit {i}");
        rows.push(dated(
            staff.clone(),
            "checkout",
            format!("June {i}"),
            "2026-06-10",
        ));
        rows.push(dated(staff, "checkout", format!("Sept {i}"), "2026-09-10"));
        rows.push(dated(
            format!("The locker code never arrived, visit {i}"),
            "click-and-collect",
            format!("Sept {i}"),
            "2026-09-11",
        ));
    }
    import_owned(&a, &rows, "Waves");
    let r = a.json(&[
        "themes",
        "trend",
        "--from",
        "2026-06-01..2026-06-30",
        "--to",
        "2026-09-01..2026-09-30",
    ]);
    assert_eq!(r["before_notes"], 8);
    assert_eq!(r["after_notes"], 16);
    let grown = r["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains("code"))
        .expect("the locker theme");
    assert_eq!(grown["before"], 0);
    assert_eq!(grown["after"], 8);
    assert_eq!(grown["direction"], "grew");
    assert!(grown["p"].as_f64().unwrap() < 0.05);
    let tag = r["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "#click-and-collect")
        .unwrap();
    assert_eq!(tag["direction"], "grew");
    // Studies work as waves too.
    let out = a.fails(&[
        "themes",
        "trend",
        "--from",
        "No such study",
        "--to",
        "Waves",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no study named"));
}

#[test]
fn kept_themes_survive_new_notes_and_dismissed_ones_stay_away() {
    let a = spread_archive();
    let r = a.json(&["themes"]);
    let queue = r["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| names(t, "queue"))
        .unwrap()
        .clone();
    let loyalty = r["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| names(t, "loyalty"))
        .unwrap()
        .clone();
    let qid = queue["id"].as_str().unwrap();
    let kept = a.json(&["themes", "keep", qid, "--label", "Queues at the till"]);
    assert_eq!(kept["notes"].as_array().unwrap().len(), 5);
    a.ok(&["themes", "dismiss", loyalty["id"].as_str().unwrap()]);

    // A new note that carries the kept theme's phrase counts toward it.
    let s = a.start_session();
    let new = a.add(&["Another long queue at the till tonight #checkout"]);
    let r = a.json(&["themes"]);
    let themes = r["themes"].as_array().unwrap();
    let first = &themes[0];
    assert_eq!(first["id"], qid);
    assert_eq!(first["status"], "kept");
    assert_eq!(first["label"], "Queues at the till");
    assert!(ids(&first["notes"]).contains(&new), "{first:#}");
    assert!(
        themes.iter().all(|t| t["id"] != loyalty["id"]),
        "dismissed stays away"
    );
    let _ = s;

    a.ok(&["themes", "rename", qid, "Till queues"]);
    let r = a.json(&["themes"]);
    assert_eq!(r["themes"][0]["label"], "Till queues");

    // Insights link a statement to its evidence.
    let evidence = ids(&queue["notes"]);
    let added = a.json(&[
        "insight",
        "add",
        "Parents give up on the till queue",
        "--note",
        &evidence[0],
        "--note",
        &evidence[1],
        "--theme",
        qid,
    ]);
    let n = added["id"].as_i64().unwrap().to_string();
    let shown = a.json(&["insight", "show", &n]);
    assert_eq!(shown["statement"], "Parents give up on the till queue");
    assert_eq!(shown["evidence"].as_array().unwrap().len(), 2);
    assert_eq!(a.json(&["insight", "list"]).as_array().unwrap().len(), 1);
    let out = a.fails(&[
        "insight",
        "add",
        "No evidence",
        "--note",
        "01ZZZZZZZZZZZZZZZZZZZZZZZZ",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no note"),
        "{out:?}"
    );
}

/// The suggested themes' ids, in order.
fn theme_ids(a: &TestArchive) -> Vec<String> {
    a.json(&["themes"])["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn merging_kept_themes_joins_their_evidence() {
    let a = spread_archive();
    let t = theme_ids(&a);
    let merged = a.json(&["themes", "merge", &t[0], &t[1]]);
    assert_eq!(merged["notes"].as_array().unwrap().len(), 25);
    let r = a.json(&["themes"]);
    let themes = r["themes"].as_array().unwrap();
    assert_eq!(themes[0]["id"], t[0].as_str());
    assert_eq!(themes[0]["note_count"], 25);
    assert!(themes.iter().all(|x| x["id"] != t[1].as_str()));
}

#[test]
fn the_demo_archive_has_recurring_themes_with_quotes() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let r = a.json(&["themes", "--limit", "5"]);
    assert_eq!(r["total_notes"], 390);
    let themes = r["themes"].as_array().unwrap();
    assert_eq!(themes.len(), 5);
    for t in themes {
        assert!(t["sessions"].as_u64().unwrap() >= 3, "{t:#}");
        assert!(t["note_count"].as_u64().unwrap() >= 10, "{t:#}");
        assert!(!t["representative"].as_array().unwrap().is_empty());
    }
    assert!(r["coverage"].as_f64().unwrap() > 0.5);
}

#[test]
fn analysis_notes_load_in_bulk_with_people_study_and_valence() {
    use fieldnotes::Archive;
    use fieldnotes::model::{Facet, NoteKind, Participant, SessionKind, Tag};
    use fieldnotes::query::Filters;
    use fieldnotes::store::{NewNote, NewSession};

    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(&tmp.path().join("a")).unwrap();
    let mut new = NewSession::new("Checkout Q3", SessionKind::FocusGroup);
    new.participants = ["Maya", "Omar"]
        .map(|p| Participant {
            pseudonym: p.into(),
            consent: true,
            consent_date: None,
            contact: None,
        })
        .to_vec();
    let session = archive.start_session(&new, None).unwrap().id;
    let add = |archive: &mut Archive, body: &str| {
        archive
            .add_note(&NewNote {
                session: session.clone(),
                kind: NoteKind::Quote,
                body: body.into(),
                extra_tags: vec![],
                clears_draft: false,
            })
            .unwrap()
            .id
    };
    let sad = add(&mut archive, "Too slow #checkout !frustrated !confused");
    let glad = add(&mut archive, "Lovely staff #checkout !delighted");
    let gone = add(&mut archive, "Trashed #checkout");
    archive.trash_note(&gone).unwrap();

    let all = archive.analysis_notes("", &Filters::default()).unwrap();
    assert_eq!(all.len(), 2);
    let first = all.iter().find(|n| n.id == sad).unwrap();
    assert_eq!(first.study, "Checkout Q3");
    assert_eq!(first.participants, ["Maya", "Omar"]);
    assert_eq!(
        first.valence,
        Some(-1.5),
        "mean of frustrated (-2) and confused (-1)"
    );
    assert_eq!(first.tags.len(), 3);
    let filtered = archive
        .analysis_notes(
            "",
            &Filters {
                tags: vec![Tag::new(Facet::Emotion, "delighted").unwrap()],
                ..Filters::default()
            },
        )
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].id, glad);
    assert_eq!(filtered[0].valence, Some(2.0));
    let by_query = archive.analysis_notes("slow", &Filters::default()).unwrap();
    assert_eq!(by_query.len(), 1);
    assert_eq!(by_query[0].id, sad);
}

#[test]
fn curation_travels_in_the_jsonl_export() {
    let a = spread_archive();
    let r = a.json(&["themes"]);
    let queue = r["themes"][0]["id"].as_str().unwrap().to_owned();
    let other = r["themes"][1]["id"].as_str().unwrap().to_owned();
    a.ok(&["themes", "keep", &queue, "--label", "Queues at the till"]);
    a.ok(&["themes", "dismiss", &other]);
    let evidence = ids(&r["themes"][0]["notes"]);
    a.ok(&[
        "insight",
        "add",
        "Queues lose parents",
        "--note",
        &evidence[0],
        "--theme",
        &queue,
    ]);
    let file = a.path("all.jsonl");
    a.ok(&["export", "-o", file.to_str().unwrap()]);

    let b = TestArchive::new();
    b.ok(&["import", file.to_str().unwrap()]);
    let themes = b.json(&["themes"]);
    assert_eq!(themes["themes"][0]["label"], "Queues at the till");
    assert_eq!(themes["themes"][0]["status"], "kept");
    assert!(
        themes["themes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != other.as_str())
    );
    let insights = b.json(&["insight", "list"]);
    assert_eq!(insights.as_array().unwrap().len(), 1);
    assert_eq!(insights[0]["theme"], queue.as_str());
    assert_eq!(ids(&insights[0]["notes"]), [evidence[0].clone()]);
    // Importing again adds nothing, and the export round-trips exactly.
    b.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(b.json(&["insight", "list"]).as_array().unwrap().len(), 1);
    let again = b.path("again.jsonl");
    b.ok(&["export", "-o", again.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(&again).unwrap()
    );
}

#[test]
fn a_merge_that_fails_half_way_leaves_both_themes_as_they_were() {
    let a = spread_archive();
    let t = theme_ids(&a);
    a.ok(&["themes", "keep", &t[0]]);
    a.ok(&["themes", "keep", &t[1]]);
    let evidence = |id: &str| {
        a.count(&format!(
            "SELECT count(*) FROM theme_notes WHERE theme_id = '{id}'"
        ))
    };
    let before = (evidence(&t[0]), evidence(&t[1]));
    // The last step of a merge (dismissing the merged-away theme) fails inside SQLite.
    a.db()
        .execute_batch(
            "CREATE TRIGGER injected_failure BEFORE UPDATE ON themes \
             WHEN NEW.status = 'dismissed' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    a.fails(&["themes", "merge", &t[0], &t[1]]);
    assert_eq!((evidence(&t[0]), evidence(&t[1])), before);
    assert_eq!(
        a.count("SELECT count(*) FROM themes WHERE status = 'kept'"),
        2
    );
}

#[test]
fn the_notes_in_no_theme_can_be_read() {
    let a = spread_archive();
    let rows = [[
        "A lone remark about the weather outside",
        "observation",
        "",
        "",
        "",
        "Visit seven",
        "2026-09-03",
    ]];
    import(&a, &rows, "Weather");
    let r = a.json(&["themes"]);
    let outside = r["total_notes"].as_u64().unwrap() - r["notes_in_themes"].as_u64().unwrap();
    assert!(outside >= 1, "{r}");
    let listed = a.json(&["themes", "unthemed"]);
    assert_eq!(listed["unthemed"].as_u64().unwrap(), outside);
    let bodies: Vec<&str> = listed["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"A lone remark about the weather outside"),
        "{bodies:?}"
    );
    let text = a.ok(&["themes"]);
    assert!(
        text.contains("in no theme: `fieldnotes themes unthemed`"),
        "{text}"
    );
}

/// Four findings told across eight sessions.
fn findings_archive() -> TestArchive {
    let a = TestArchive::new();
    let topics = [
        "the click and collect desk was hard to find",
        "the self checkout kept calling for an attendant",
        "the locker code never arrived by text",
        "the shelf label price did not match the till",
    ];
    let mut rows = Vec::new();
    let bodies: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("{} (visit {i})", topics[i % 4]),
                format!("Visit {}", i % 8),
            )
        })
        .collect();
    for (body, session) in &bodies {
        rows.push([
            body.as_str(),
            "observation",
            "",
            "",
            "",
            session.as_str(),
            "2026-09-01",
        ]);
    }
    import(&a, &rows, "Store");
    a
}

fn labels(r: &Value) -> Vec<String> {
    r["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn themes_start_from_what_was_last_shown_and_keep_their_names() {
    let a = findings_archive();
    let first = a.json(&["themes"]);
    assert!(labels(&first).len() >= 4, "{first}");
    assert_eq!(a.count("SELECT count(*) FROM theme_memory"), 1);

    // The researcher was shown a theme under its second phrase: it keeps that name, and its id.
    let theme = first["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["phrases"].as_array().unwrap().len() >= 2)
        .expect("a theme with two phrases")
        .clone();
    let (label, second) = (
        theme["label"].as_str().unwrap(),
        theme["phrases"][1].as_str().unwrap(),
    );
    let memory: String = a
        .db()
        .query_row("SELECT themes FROM theme_memory", [], |r| r.get(0))
        .unwrap();
    let mut memory: Value = serde_json::from_str(&memory).unwrap();
    let remembered = memory
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["label"] == label)
        .unwrap();
    remembered["label"] = second.into();
    remembered["stem"] = theme["stems"][1].clone();
    a.db()
        .execute(
            "UPDATE theme_memory SET themes = ?1",
            [serde_json::to_string(&memory).unwrap()],
        )
        .unwrap();
    let named = |r: &Value, label: &str| {
        r["themes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["label"] == label)
            .map(|t| t["notes"].clone())
    };
    let again = a.json(&["themes"]);
    assert_eq!(
        named(&again, second),
        Some(theme["notes"].clone()),
        "{again}"
    );

    // More notes arrive: every theme shown before is there under the same name.
    let shown = labels(&again);
    import(
        &a,
        &[[
            "the locker code arrived an hour late",
            "quote",
            "",
            "",
            "",
            "Visit 9",
            "2026-09-02",
        ]],
        "Store",
    );
    let later = labels(&a.json(&["themes"]));
    for l in &shown {
        assert!(later.contains(l), "{l} is gone: {later:?}");
    }

    // --fresh starts from the notes alone; a memory that no longer reads is only ignored.
    let fresh = a.json(&["themes", "--fresh"]);
    assert!(named(&fresh, label).is_some(), "{fresh}");
    a.db()
        .execute("UPDATE theme_memory SET themes = 'not json'", [])
        .unwrap();
    assert_eq!(labels(&a.json(&["themes"])), labels(&fresh));
}

/// An analysis of more notes than it can hold at once says how to narrow them, and runs on
/// the narrower selection (the limit lowered here to a few notes).
#[test]
fn an_analysis_over_too_many_notes_asks_for_a_narrower_selection() {
    let a = TestArchive::new().with_env("FIELDNOTES_ANALYSIS_LIMIT", "4");
    let row = |text, session| [text, "quote", "student", "checkout", "", session, ""];
    import(
        &a,
        &[
            row("the queue at the till was long", "s1"),
            row("the queue never moved", "s1"),
            row("staff opened a second till", "s2"),
        ],
        "Wave A",
    );
    import(
        &a,
        &[
            row("the queue at the till again", "s3"),
            row("a long queue at lunch", "s3"),
        ],
        "Wave B",
    );
    for args in [
        &["themes"][..],
        &["report", "-o", "r.html"],
        &["themes", "contrast", "--by", "persona"],
    ] {
        let out = a.fails(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("5 notes are more than an analysis reads at once (4")
                && err.contains("--study"),
            "{args:?}: {err}"
        );
    }
    let narrowed = a.json(&["themes", "--study", "Wave A"]);
    assert_eq!(narrowed["total_notes"], 3, "{narrowed}");
    let searched = a.json(&["themes", "queue"]);
    assert_eq!(searched["total_notes"], 4, "{searched}");
}
