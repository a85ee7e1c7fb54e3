//! Finding notes: words, stems, phrases, prefixes, boolean operators, tags, filters, facets.

mod common;

use common::TestArchive;
use serde_json::json;

/// A small archive where every search has one right answer.
fn archive() -> (TestArchive, Vec<String>) {
    let a = TestArchive::new();
    a.start_session();
    let ids = [
        "Waited twelve minutes in the queue at the till #checkout !frustrated @busy-parent",
        "She was waiting for the delivery email that never came #delivery-email !anxious @student",
        "Long queue again, the self-checkout kept rejecting the bag #self-checkout !annoyed @busy-parent",
        "Staff member Priya walked her to the right aisle #store-layout !grateful @retiree",
        "The loyalty card screen confused him #loyalty-card !confused @retiree +earn-points",
    ]
    .iter()
    .map(|t| a.add(&[t]))
    .collect();
    a.add(&[
        "--kind",
        "quote",
        "I just want to pay and go #checkout @busy-parent",
    ]);
    (a, ids)
}

#[test]
fn a_word_finds_its_stems() {
    let (a, ids) = archive();
    let mut hits = a.hit_ids(&["waiting"]);
    hits.sort();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(hits, want, "waiting finds waited too");
}

#[test]
fn phrase_prefix_and_boolean_queries() {
    let (a, ids) = archive();
    assert_eq!(
        a.hit_ids(&["\"self-checkout kept rejecting\""]),
        [ids[2].as_str()]
    );
    assert!(a.hit_ids(&["\"rejecting kept\""]).is_empty());
    assert_eq!(a.hit_ids(&["loyal*"]), [ids[4].as_str()]);
    let mut either = a.hit_ids(&["Priya OR loyalty"]);
    either.sort();
    let mut want = vec![ids[3].clone(), ids[4].clone()];
    want.sort();
    assert_eq!(either, want);
    assert_eq!(a.hit_ids(&["queue -self"]), [ids[0].as_str()]);
    assert_eq!(a.hit_ids(&["queue NOT bag"]), [ids[0].as_str()]);
    assert_eq!(a.hit_ids(&["queue", "minutes"]), [ids[0].as_str()]);
}

#[test]
fn sigils_in_the_query_filter_by_tag() {
    let (a, ids) = archive();
    assert_eq!(
        a.hit_ids(&["@busy-parent", "#checkout", "queue"]),
        [ids[0].as_str()]
    );
    assert_eq!(a.hit_ids(&["!confused"]), [ids[4].as_str()]);
    assert_eq!(a.hit_ids(&["@Retiree +earn-points"]), [ids[4].as_str()]);
    // Filters as flags do the same.
    assert_eq!(
        a.hit_ids(&[
            "queue",
            "--persona",
            "busy-parent",
            "--emotion",
            "frustrated"
        ]),
        [ids[0].as_str()]
    );
    assert_eq!(
        a.hit_ids(&["--touchpoint", "#delivery-email"]),
        [ids[1].as_str()]
    );
}

#[test]
fn facet_counts_cover_the_whole_result_set() {
    let (a, _) = archive();
    let r = a.json(&["search", "@busy-parent", "--limit", "1"]);
    assert_eq!(r["total"], 3);
    assert_eq!(r["hits"].as_array().unwrap().len(), 1);
    assert_eq!(r["facets"]["persona"], json!({"busy-parent": 3}));
    assert_eq!(
        r["facets"]["touchpoint"],
        json!({"checkout": 2, "self-checkout": 1})
    );
    assert_eq!(
        r["facets"]["emotion"],
        json!({"frustrated": 1, "annoyed": 1})
    );
}

#[test]
fn hits_carry_a_marked_snippet_and_the_note() {
    let (a, ids) = archive();
    let r = a.json(&["search", "Priya"]);
    let hit = &r["hits"][0];
    assert_eq!(hit["id"], ids[3].as_str());
    assert!(
        hit["snippet"].as_str().unwrap().contains("**Priya**"),
        "{hit}"
    );
    assert_eq!(hit["kind"], "observation");
    assert_eq!(hit["tags"]["persona"], json!(["retiree"]));
    assert!(hit["score"].as_f64().unwrap() > 0.0);
    for key in ["body", "session", "created_at"] {
        assert!(hit[key].is_string(), "{key} missing in {hit}");
    }
    let text = a.ok(&["search", "Priya"]);
    assert!(text.starts_with("1 note match"), "{text}");
    assert!(text.contains("**Priya**"), "{text}");
}

#[test]
fn kind_study_and_date_filters() {
    let (a, _) = archive();
    assert_eq!(a.json(&["search", "--kind", "quote"])["total"], 1);
    assert_eq!(a.json(&["search", "--study", "Checkout Q3"])["total"], 6);
    let err = a.fails(&["search", "--study", "Nope"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("no study named \"Nope\""));
    assert_eq!(a.json(&["search", "--since", "2000-01-01"])["total"], 6);
    assert_eq!(a.json(&["search", "--until", "2000-01-01"])["total"], 0);
    let err = a.fails(&["search", "--since", "yesterday"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("\"yesterday\" is not a date"));
}

#[test]
fn an_empty_query_lists_the_newest_first() {
    let (a, _) = archive();
    let r = a.json(&["search"]);
    assert_eq!(r["total"], 6);
    assert_eq!(
        r["hits"][0]["body"],
        "I just want to pay and go #checkout @busy-parent"
    );
}

#[test]
fn a_malformed_query_is_a_clear_error() {
    let (a, _) = archive();
    for q in ["(queue", "\"queue", "queue AND", "*"] {
        let out = a.fails(&["search", q]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("fieldnotes: cannot search for"),
            "{q}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
