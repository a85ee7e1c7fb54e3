//! `fieldnotes report` end to end on real archives: every section with the figures the other
//! commands give, no participant named without consent, every text escaped, nothing to
//! fetch, a size that stays bounded, and one Markdown report shared with `export`.

mod common;

use std::collections::HashSet;

use common::TestArchive;
use serde_json::Value;

const SECTIONS: [(&str, &str); 8] = [
    ("scope", "Scope and method"),
    ("themes", "Themes"),
    ("pains", "Pain points"),
    ("journey", "Journey"),
    ("personas", "Personas"),
    ("measures", "Measures"),
    ("visits", "Mystery-shop scores"),
    ("insights", "Insights"),
];

fn demo() -> TestArchive {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    a
}

/// Writes a report with `args`; returns the file's text and what `--json` said.
fn report(a: &TestArchive, file: &str, args: &[&str]) -> (String, Value) {
    let path = a.path(file);
    let mut all = vec!["report", "-o", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let json = a.json(&all);
    (
        std::fs::read_to_string(&path).expect("report written"),
        json,
    )
}

/// The text after `marker` up to the next `<` or `"`: a figure the page writes.
fn after<'h>(html: &'h str, marker: &str) -> &'h str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} is not in the report"));
    let rest = &html[at + marker.len()..];
    &rest[..rest.find(['<', '"']).unwrap()]
}

fn number(text: &str) -> u64 {
    text.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a number"))
}

/// Participants as the archive records them: (name, consent, contact).
fn participants(a: &TestArchive) -> Vec<(String, bool, Option<String>)> {
    let db = a.db();
    let mut stmt = db
        .prepare("SELECT pseudonym, consent, contact FROM participants")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Whether `name` stands in `text` as whole words, in any case.
fn names(text: &str, name: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let wanted = words(name);
    let all = words(text);
    all.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

/// Where each marker stands in `html`, each after the one before; panics naming the first
/// one out of order or missing.
fn in_order(html: &str, markers: impl IntoIterator<Item = String>, source: &str) -> Vec<usize> {
    let mut at = 0;
    let mut found = Vec::new();
    for marker in markers {
        at += html[at..]
            .find(&marker)
            .unwrap_or_else(|| panic!("{marker} in the order {source} gives"));
        found.push(at);
    }
    found
}

/// The page's headings, in order.
fn headings(html: &str, level: u8) -> Vec<String> {
    let open = format!("<h{level}");
    let close = format!("</h{level}>");
    html.match_indices(&open)
        .map(|(at, _)| {
            let start = at + html[at..].find('>').unwrap() + 1;
            let end = start + html[start..].find(&close).unwrap();
            html[start..end].to_owned()
        })
        .collect()
}

#[test]
fn the_demo_report_has_every_section_with_the_figures_the_cli_gives() {
    let a = demo();
    // An insight backed by a consented participant's note and by one of Rosa's (who gave no
    // consent), and one backed by Rosa's note alone.
    let rosa_note: String = a
        .db()
        .query_row(
            "SELECT n.id FROM notes n JOIN participants p ON p.id = n.participant_id \
             WHERE p.pseudonym = 'Rosa' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let queue_note: String = a
        .db()
        .query_row(
            "SELECT n.id FROM notes n JOIN participants p ON p.id = n.participant_id \
             WHERE p.pseudonym = 'Maya' AND n.body LIKE '%queue%' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    a.ok(&[
        "insight",
        "add",
        "Queues at the till cost more goodwill than prices",
        "--note",
        &queue_note,
        "--note",
        &rosa_note,
    ]);
    a.ok(&[
        "insight",
        "add",
        "Only Rosa said this",
        "--note",
        &rosa_note,
    ]);

    let (html, json) = report(&a, "findings.html", &[]);
    assert_eq!(json["format"], "html");
    assert_eq!(json["bytes"].as_u64().unwrap() as usize, html.len());

    // One title, then the sections in order, each an h2 labelling its section.
    assert_eq!(headings(&html, 1), ["All studies"]);
    let h2: Vec<String> = headings(&html, 2);
    assert_eq!(h2, SECTIONS.map(|(_, title)| title.to_owned()));
    for (id, _) in SECTIONS {
        assert!(html.contains(&format!(
            "<section id=\"{id}\" aria-labelledby=\"{id}-h\">\n<h2 id=\"{id}-h\">"
        )));
        assert!(
            html.contains(&format!("<a href=\"#{id}\">")),
            "{id} in the contents"
        );
    }

    // The measures: the demo's exit intercepts and rated interviews, with the moments of truth.
    let measured: u64 = html
        .split("data-measures=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the measures section says how many values");
    assert!(measured >= 54, "{measured}");
    assert!(html.contains("Moments of truth"));
    assert!(html.contains("NPS (95% interval)"));

    // The notes are the search's, less those of participants without consent, exactly as a
    // redacted export leaves out.
    let all = a.json(&["search", "--limit", "1"])["total"]
        .as_u64()
        .unwrap();
    let export = a.json(&[
        "export",
        "--redact",
        "-o",
        a.path("x.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(json["withheld"], export["withheld"]);
    assert_eq!(json["notes"], export["notes"]);
    assert_eq!(
        json["notes"].as_u64().unwrap() + json["withheld"].as_u64().unwrap(),
        all
    );
    assert!(json["withheld"].as_u64().unwrap() > 0, "the demo has Rosa");
    assert_eq!(number(after(&html, "data-count=\"notes\">")), json["notes"]);
    assert!(html.contains(&format!(
        "data-withheld=\"{}\"",
        json["withheld"].as_u64().unwrap()
    )));

    // Sessions: those with notes, less those of a participant without consent.
    let consented: HashSet<String> = participants(&a)
        .into_iter()
        .filter(|p| p.1)
        .map(|p| p.0)
        .collect();
    let sessions = a.json(&["session", "list"]);
    let shown = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["note_count"].as_u64().unwrap() > 0)
        .filter(|s| {
            s["participants"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| consented.contains(p.as_str().unwrap()))
        })
        .count();
    assert_eq!(
        number(after(&html, "data-count=\"sessions\">")),
        shown as u64
    );
    assert_eq!(number(after(&html, "data-count=\"studies\">")), 4);

    // The mystery-shop visits, as `fieldnotes visits` scores them, by location and month.
    let visits = a.json(&["visits"]);
    assert_eq!(
        number(after(&html, "data-visits=\"")),
        visits["visits"].as_u64().unwrap()
    );
    let locations = visits["groups"].as_array().unwrap();
    assert!(locations.len() >= 2);
    let table = &html[html.find("<caption>Scores by location").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let means: Vec<String> = locations
        .iter()
        .map(|g| format!("{:.0}", g["mean"].as_f64().unwrap()))
        .collect();
    let mut at = 0;
    for mean in &means {
        let found = table[at..]
            .find(&format!("<td class=\"n\">{mean}</td>"))
            .unwrap_or_else(|| panic!("mean {mean} of {means:?} in order in {table}"));
        at += found + 1;
    }
    for month in a.json(&["visits", "--by", "month"])["groups"]
        .as_array()
        .unwrap()
    {
        let label = month["group"].as_str().unwrap();
        assert!(
            html.contains(&format!("<th scope=\"row\">{label}</th>")),
            "month {label}"
        );
    }
    assert!(
        html.contains("id=\"visits-months-title\""),
        "the scores by month as a chart"
    );

    // Insights: the one with a consented note, showing only that note; Rosa's alone is not.
    assert_eq!(a.json(&["insight", "list"]).as_array().unwrap().len(), 2);
    assert_eq!(number(after(&html, "data-insights=\"")), 1);
    assert!(html.contains("Queues at the till cost more goodwill than prices"));
    assert!(html.contains("supported by 1 note"));
    assert!(html.contains(&format!("data-note=\"{queue_note}\"")));
    assert!(!html.contains(&rosa_note));
    assert!(!html.contains("Only Rosa said this"));

    // Every chart is an image labelled by its title and description, with a table beside it.
    let charts = html.matches("<svg").count();
    assert!(charts >= 3, "themes, journey, visits: {charts}");
    for (at, _) in html.match_indices("<svg") {
        let svg = &html[at..at + html[at..].find("</svg>").unwrap()];
        let id = after(svg, "aria-labelledby=\"")
            .split(' ')
            .next()
            .unwrap()
            .trim_end_matches("-title")
            .to_owned();
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains(&format!("<title id=\"{id}-title\">")), "{id}");
        assert!(svg.contains(&format!("<desc id=\"{id}-desc\">")), "{id}");
        assert!(html[at..].contains("<table>"), "a table after {id}");
    }
    // At a glance, under the title: the leading theme, where it hurts, the weakest location.
    let glance = &html[html.find("<dl class=\"glance\">").unwrap()..];
    let glance = &glance[..glance.find("</dl>").unwrap()];
    for what in [
        "Leading theme",
        "Hurts most at",
        "Lowest-scoring location",
        "Insights",
    ] {
        assert!(glance.contains(&format!("<dt>{what}</dt>")), "{what}");
    }
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("<title>All studies · findings</title>"));
}

#[test]
fn a_studys_report_matches_themes_pains_journey_and_personas() {
    let a = demo();
    let study = ["--study", "Mobile app onboarding"];
    // With names: a group's name ("Campus student panel") would otherwise mask its words
    // wherever they stand, persona tags included, as every redacted export does.
    let (html, json) = report(
        &a,
        "study.html",
        &["--study", "Mobile app onboarding", "--names"],
    );
    assert_eq!(headings(&html, 1), ["Mobile app onboarding"]);
    // Everyone in this study consented: the report covers the same notes as the commands.
    assert_eq!(json["withheld"], 0);
    let mut search = vec!["search", "--limit", "1"];
    search.extend(study);
    assert_eq!(json["notes"], a.json(&search)["total"]);

    let mut themes = vec!["themes", "-n", "1000"];
    themes.extend(study);
    let themes = a.json(&themes);
    let found = themes["themes"].as_array().unwrap();
    assert!(!found.is_empty());
    assert_eq!(number(after(&html, "data-themes=\"")), found.len() as u64);
    assert_eq!(
        number(after(&html, "data-in-themes=\"")),
        themes["notes_in_themes"].as_u64().unwrap()
    );
    let shown = &found[..found.len().min(10)];
    let places = in_order(
        &html,
        shown.iter().map(|t| {
            format!(
                "data-theme=\"{}\" data-notes=\"{}\"",
                t["id"].as_str().unwrap(),
                t["note_count"]
            )
        }),
        "`themes`",
    );
    for (t, at) in shown.iter().zip(places) {
        let label = t["label"].as_str().unwrap();
        assert!(html[at..].contains(label), "{label}");
        for e in t["representative"].as_array().unwrap() {
            assert!(html[at..].contains(&format!("data-note=\"{}\"", e["id"].as_str().unwrap())));
        }
    }

    let mut pains = vec!["themes", "pains", "-n", "100"];
    pains.extend(study);
    let pains = a.json(&pains);
    in_order(
        &html,
        pains["touchpoints"]
            .as_array()
            .unwrap()
            .iter()
            .take(12)
            .map(|t| {
                format!(
                    "data-touchpoint=\"{}\" data-negative=\"{}\"",
                    t["touchpoint"].as_str().unwrap(),
                    t["negative_notes"]
                )
            }),
        "`themes pains`",
    );

    let mut journey = vec!["themes", "journey"];
    journey.extend(study);
    let journey = a.json(&journey);
    in_order(
        &html,
        journey["points"].as_array().unwrap().iter().map(|p| {
            let name = match (p["touchpoint"].as_str(), p["stage"].as_str()) {
                (Some(tp), _) => format!("#{tp}"),
                (None, Some(s)) => s.to_owned(),
                (None, None) => "no stage".to_owned(),
            };
            format!("data-point=\"{name}\" data-notes=\"{}\"", p["notes"])
        }),
        "`themes journey`",
    );

    let mut contrast = vec!["themes", "contrast", "--by", "persona", "-n", "5"];
    contrast.extend(study);
    let contrast = a.json(&contrast);
    let groups = contrast["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    assert_eq!(
        number(after(&html, "data-personas=\"")),
        groups.len() as u64
    );
    for g in groups {
        let persona = g["group"].as_str().unwrap();
        let marker = format!("data-persona=\"{persona}\" data-notes=\"{}\"", g["notes"]);
        let at = html.find(&marker).unwrap_or_else(|| panic!("{marker}"));
        let next = html[at + 1..]
            .find("data-persona=")
            .map_or(html.len(), |n| at + 1 + n);
        for d in g["phrases"].as_array().unwrap() {
            let term = d["term"].as_str().unwrap();
            assert!(html[at..next].contains(term), "{term} under @{persona}");
        }
    }
}

#[test]
fn participants_are_pseudonyms_and_only_the_consented_may_be_named() {
    let a = demo();
    let people = participants(&a);
    assert!(
        people.iter().any(|p| !p.1),
        "the demo has a participant without consent"
    );
    for file in ["r.html", "r.md"] {
        let (text, _) = report(&a, file, &[]);
        for (name, _, contact) in &people {
            assert!(!names(&text, name), "{name} is named in {file}");
            if let Some(c) = contact {
                assert!(!text.contains(c.as_str()), "{c} in {file}");
            }
        }
        assert!(text.contains("P1"));
        assert!(!text.contains("@example.com"));
    }
    for file in ["n.html", "n.md"] {
        let (text, _) = report(&a, file, &["--names"]);
        for (name, consent, contact) in &people {
            if !consent {
                assert!(
                    !names(&text, name),
                    "{name} gave no consent and is named in {file}"
                );
            }
            if let Some(c) = contact {
                assert!(!text.contains(c.as_str()), "{c} in {file}");
            }
        }
        assert!(
            text.contains("— Maya, quote"),
            "a consented speaker is named in {file}"
        );
    }
}

#[test]
fn every_text_is_escaped_and_the_page_fetches_nothing() {
    let a = TestArchive::new();
    a.session(&[
        "--study",
        "Tags & <b>bold</b>",
        "--title",
        "\"Quoted\" <i>title</i>",
        "--location",
        "O'Brien's <store>",
    ]);
    let hostile = r#"<script>alert("x")</script> & 'single' <img src="http://example.com/x.png"> <a href='https://example.com'>link</a> waited at the till #checkout !frustrated @busy-parent"#;
    for _ in 0..3 {
        a.add(&["--kind", "quote", hostile]);
    }
    a.add(&["</style><style>body{display:none}</style> queue at the till #checkout !annoyed"]);
    let (html, _) = report(&a, "r.html", &["--title", "<Findings> & \"more\""]);
    let start = html.find("<body>").unwrap();
    let body = &html[start..];
    assert!(!body.contains("<script"));
    assert!(!body.contains("<img"));
    assert!(!body.contains("<a href='"));
    assert!(!body.contains("<i>") && !body.contains("<b>"));
    assert!(!body.contains("</style>"));
    assert!(
        body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;single&#39;")
    );
    assert!(body.contains("<h1>&lt;Findings&gt; &amp; &quot;more&quot;</h1>"));
    assert!(html.contains("<title>&lt;Findings&gt; &amp; &quot;more&quot; · findings</title>"));
    // No markup a note could smuggle in to fetch something.
    for pattern in [
        "src=\"",
        "src='",
        "href=\"http",
        "href='http",
        "<link",
        "<iframe",
        "<object",
        "<embed",
    ] {
        assert!(!html.contains(pattern), "{pattern} in the page");
    }
    // The policy that forbids any request, even one a browser would otherwise make.
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:;"
    ));
    // The page's own markup never refers outside it.
    let demo = demo();
    let (page, _) = report(&demo, "demo.html", &[]);
    for pattern in [
        "src=", "http://", "https://", "@import", "url(", "<script", "<link",
    ] {
        assert!(!page.contains(pattern), "{pattern} in the demo's report");
    }
}

/// A JSONL archive built to break limits: long notes full of characters HTML escapes, and
/// hundreds of studies, sessions, touchpoints, personas and emotions with long names.
fn hostile_archive(notes: usize) -> String {
    let mut out = String::new();
    for i in 0..notes {
        let session = i / 5;
        let long = "x".repeat(90);
        let body = format!(
            "{} note {i} about the \"queue\" & <till> {} #touchpoint-{}-{long} #checkout @persona-{}-{long} !feeling-{}-{long} !frustrated =code-{}",
            "\"<&>'".repeat(500),
            "waited ages at the till ".repeat(20),
            i % 300,
            i % 90,
            i % 40,
            i % 50,
        );
        let kind = ["observation", "quote", "interpretation"][i % 3];
        let line = serde_json::json!({
            "id": format!("01K4A{:021}", i),
            "kind": kind,
            "body": body,
            "created_at": format!("2026-{:02}-{:02}T10:00:00Z", 1 + (i % 12), 1 + (i % 28)),
            "session": {
                "id": format!("01K4B{:021}", session),
                "study": format!("Study {} {}", session % 40, "\"<&>".repeat(40)),
                "kind": "interview",
                "title": format!("Session {session} {}", "<&>\"".repeat(60)),
                "started_at": "2026-01-01T09:00:00Z",
                "location": format!("Store {} {}", session % 70, "&".repeat(200)),
                "participants": [],
            },
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

#[test]
fn the_html_report_stays_small_whatever_the_archive() {
    let a = TestArchive::new();
    let file = a.path("hostile.jsonl");
    common::write(&file, hostile_archive(1500));
    a.ok(&["import", file.to_str().unwrap()]);
    let ids = a.hit_ids(&["queue"]);
    assert!(ids.len() >= 40);
    for i in 0..32 {
        let mut args = vec!["insight".to_owned(), "add".to_owned()];
        args.push(format!("Insight {i} {}", "\"<&>".repeat(400)));
        for id in ids.iter().skip(i).take(8) {
            args.push("--note".into());
            args.push(id.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        a.ok(&args);
    }
    let (html, json) = report(&a, "big.html", &[]);
    assert_eq!(json["notes"], 1500);
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert!(html.matches("<article class=\"theme\"").count() <= 10);
    assert!(html.matches("<article class=\"insight\"").count() <= 30);
    assert!(html.contains("…and 2 more insights"));
    assert!(html.matches("<tr data-touchpoint=").count() <= 12);
    assert!(html.contains("more touchpoints, left out"));
    assert!(html.matches("<h3 data-persona=").count() <= 12);
    // The Markdown report lists every note: it is as long as the notes are.
    let (md, _) = report(&a, "big.md", &[]);
    assert!(md.len() > html.len());
}

#[test]
fn the_markdown_report_has_the_same_sections_and_export_writes_the_same_file() {
    let a = demo();
    let (md, json) = report(&a, "findings.md", &[]);
    assert_eq!(json["format"], "markdown");
    let h2: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    let mut expected: Vec<&str> = SECTIONS.iter().map(|(_, t)| *t).collect();
    expected.extend(["Sessions", "Notes", "Tags"]);
    assert_eq!(h2, expected);
    assert!(md.starts_with("# All studies\n"));
    assert!(md.contains("| touchpoint |"), "the heat map as a table");
    assert!(md.contains("| location | visits | mean |"));
    assert!(md.contains(&format!("- notes: {}", json["notes"].as_u64().unwrap())));
    // One Markdown report: a redacted export writes exactly the report's file.
    let export = a.path("export.md");
    a.ok(&["export", "--redact", "-o", export.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&export).unwrap(), md);
    // `--format` names the format whatever the file is called.
    let txt = a.path("findings.txt");
    a.ok(&[
        "report",
        "--format",
        "markdown",
        "-o",
        txt.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&txt).unwrap(), md);
}

#[test]
fn report_refuses_what_it_cannot_write() {
    let a = demo();
    let out = a.fails(&["report", "-o", a.path("r.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name it .html or .md"));
    let out = a.fails(&[
        "report",
        "--study",
        "Nope",
        "-o",
        a.path("r.html").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no study named \"Nope\""));
    assert!(!a.path("r.html").exists());
    assert_eq!(a.fails(&["report"]).status.code(), Some(2));
}
