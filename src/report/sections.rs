//! The report's sections, in order: each a pure function from the [`ReportData`] to HTML
//! and one to Markdown, so the two formats say the same things. A section without one of
//! them is left out of that format (the list of every note is Markdown only).

use std::fmt::Write as _;

use super::html::escape;
use super::markdown::cell;
use super::svg::{self, Bar};
use super::{Privacy, Quote, ReportData, Scale};
use crate::analysis::contrast::Distinctive;
use crate::model::NoteKind;
use crate::mystery_shop::{ReportGroup, score_label};

/// A section: its anchor, its heading and how each format writes what is under the heading.
pub(super) struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub html: Option<fn(&ReportData, &mut String)>,
    pub markdown: Option<fn(&ReportData, &mut String)>,
}

/// Every section, in the order both formats show them.
pub(super) const SECTIONS: &[Section] = &[
    Section {
        id: "scope",
        title: "Scope and method",
        html: Some(scope_html),
        markdown: Some(scope_md),
    },
    Section {
        id: "themes",
        title: "Themes",
        html: Some(themes_html),
        markdown: Some(themes_md),
    },
    Section {
        id: "pains",
        title: "Pain points",
        html: Some(pains_html),
        markdown: Some(pains_md),
    },
    Section {
        id: "journey",
        title: "Journey",
        html: Some(journey_html),
        markdown: Some(journey_md),
    },
    Section {
        id: "personas",
        title: "Personas",
        html: Some(personas_html),
        markdown: Some(personas_md),
    },
    Section {
        id: "measures",
        title: "Measures",
        html: Some(measures_html),
        markdown: Some(measures_md),
    },
    Section {
        id: "visits",
        title: "Mystery-shop scores",
        html: Some(visits_html),
        markdown: Some(visits_md),
    },
    Section {
        id: "insights",
        title: "Insights",
        html: Some(insights_html),
        markdown: Some(insights_md),
    },
    Section {
        id: "sessions",
        title: "Sessions",
        html: None,
        markdown: Some(sessions_md),
    },
    Section {
        id: "notes",
        title: "Notes",
        html: None,
        markdown: Some(notes_md),
    },
    Section {
        id: "tags",
        title: "Tags",
        html: None,
        markdown: Some(tags_md),
    },
];

// ---- shared wording ------------------------------------------------------------------------

/// A number as people read it: `12,345`.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

fn feeling(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| Scale::VALENCE.label(v))
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// The first line under the title: the scope in one sentence.
pub(super) fn lede(data: &ReportData) -> String {
    let f = &data.figures;
    let mut s = format!(
        "{} from {} with {}",
        plural(f.notes, "note", "notes"),
        plural(f.sessions, "session", "sessions"),
        plural(f.participants, "participant", "participants")
    );
    if let (Some(a), Some(b)) = (f.first, f.last) {
        let (a, b) = (a.format("%Y-%m-%d"), b.format("%Y-%m-%d"));
        if a.to_string() == b.to_string() {
            let _ = write!(s, ", written on {a}");
        } else {
            let _ = write!(s, ", written {a} to {b}");
        }
    }
    s.push('.');
    s
}

/// The findings at a glance, under the title: the largest theme, the touchpoint that hurts
/// most, the lowest-scoring location, the insights; each only when there is one.
pub(super) fn at_a_glance(data: &ReportData) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(t) = data.themes.shown.first() {
        out.push((
            "Leading theme",
            format!("{} ({})", t.label, plural(t.notes, "note", "notes")),
        ));
    }
    if let Some(p) = data.pains.rows.first().filter(|p| p.negative_notes > 0) {
        out.push((
            "Hurts most at",
            format!(
                "#{} ({} negative of {})",
                p.touchpoint,
                count(p.negative_notes),
                plural(p.notes, "note", "notes")
            ),
        ));
    }
    if let Some(l) = data.visits.locations.first() {
        out.push((
            "Lowest-scoring location",
            format!("{} ({} of 100)", l.group, score_label(l.mean)),
        ));
    }
    let insights = data.insights.shown.len() + data.insights.more;
    if insights > 0 {
        out.push((
            "Insights",
            format!("{} from the team", plural(insights, "insight", "insights")),
        ));
    }
    out
}

/// Whom the report names and what it leaves out.
pub(super) fn privacy_line(data: &ReportData) -> String {
    let withheld = match data.figures.withheld {
        0 => "no note was left out".to_owned(),
        n => format!("{} left out", plural(n, "note was", "notes were")),
    };
    match data.privacy {
        Privacy::Open => "Names and contact details are shown as the archive holds them.".into(),
        Privacy::Pseudonyms => format!(
            "Participants appear under pseudonyms (P1, P2…); e-mail addresses, phone and card \
             numbers and street addresses are masked; notes of participants without recorded \
             consent are left out ({withheld})."
        ),
        Privacy::ConsentedNames => format!(
            "Participants who gave consent appear by name, the others under pseudonyms; e-mail \
             addresses, phone and card numbers and street addresses are masked; notes of \
             participants without recorded consent are left out ({withheld})."
        ),
    }
}

/// How the findings were reached, and what was read of a large scope.
fn method(data: &ReportData) -> String {
    match data.sampled {
        None => METHOD.to_owned(),
        Some(n) => format!(
            "{METHOD} With more than {} notes in scope, the themes and what sets personas apart \
             are found in an even sample of them (every k-th note), so that the report is written \
             in seconds; every other figure counts all the notes.",
            count(n)
        ),
    }
}

/// Says that the analyses of words read a sample, when they did.
fn sample_line(data: &ReportData) -> Option<String> {
    data.sampled.map(|n| {
        format!(
            "Found in an even sample of {} of the {}: the counts here are the sample's.",
            count(n),
            plural(data.figures.notes, "note", "notes")
        )
    })
}

const METHOD: &str = "Themes are phrases that recur across notes and sessions: notes are \
grouped by the phrases they share, each theme is named by its most telling phrase, and its \
quotes are the notes closest to its centre. Feelings are the valence of the notes' emotion \
tags, from −2 to +2, averaged over the notes that carry one. What sets a persona apart is the \
weighted log-odds of each phrase and tag in its notes against all the others (z of 1.96 or \
more, p < 0.05, in at least three of its notes). A mystery-shop visit scores the weighted mean \
of its answered criteria, from 0 to 100.";

fn who(q: &Quote) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(s) = &q.speaker {
        parts.push(s.clone());
    }
    parts.push(q.kind.to_string());
    parts.push(q.session.clone());
    parts.join(", ")
}

fn quote_html(out: &mut String, q: &Quote) {
    let _ = writeln!(
        out,
        "<blockquote data-note=\"{}\"><p>{}</p><span class=\"who\">— {}</span></blockquote>",
        escape(&q.id),
        escape(&q.text),
        escape(&who(q))
    );
}

fn quote_md(out: &mut String, q: &Quote) {
    let _ = writeln!(out, "> {}\n>\n> — {}\n", q.text, who(q));
}

/// A theme or an insight: its heading, a line of figures, more lines, and its quotes.
fn article_html(
    out: &mut String,
    attributes: &str,
    heading: &str,
    meta: &str,
    lines: &[String],
    quotes: &[Quote],
) {
    let _ = writeln!(
        out,
        "<article {attributes}>\n<h3>{}</h3>\n<p class=\"meta\">{}</p>",
        escape(heading),
        escape(meta)
    );
    if !lines.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(&lines.join(" ")));
    }
    for q in quotes {
        quote_html(out, q);
    }
    out.push_str("</article>\n");
}

/// A table's head, with the numeric columns (`n`) aligned right.
fn thead(out: &mut String, caption: &str, columns: &[(&str, bool)]) {
    let _ = write!(
        out,
        "<table><caption>{}</caption><thead><tr>",
        escape(caption)
    );
    for (c, numeric) in columns {
        let class = if *numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>\n");
}

/// A row: the first cell a row header, `n` cells right-aligned.
fn row(out: &mut String, cells: &[(String, bool)]) {
    row_with(out, "", cells);
}

/// A row with attributes (` data-notes="3"`).
fn row_with(out: &mut String, attributes: &str, cells: &[(String, bool)]) {
    let _ = write!(out, "<tr{attributes}>");
    for (i, (c, numeric)) in cells.iter().enumerate() {
        let tag = if i == 0 { "th scope=\"row\"" } else { "td" };
        let end = if i == 0 { "th" } else { "td" };
        let class = if *numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<{tag}{class}>{}</{end}>", escape(c));
    }
    out.push_str("</tr>\n");
}

fn md_table(out: &mut String, columns: &[(&str, bool)], rows: &[Vec<String>]) {
    out.push('|');
    for (c, _) in columns {
        let _ = write!(out, " {} |", cell(c));
    }
    out.push_str("\n|");
    for (_, numeric) in columns {
        out.push_str(if *numeric { "---:|" } else { "---|" });
    }
    out.push('\n');
    for r in rows {
        out.push('|');
        for c in r {
            let _ = write!(out, " {} |", cell(c));
        }
        out.push('\n');
    }
    out.push('\n');
}

fn figure(out: &mut String, svg: &str, caption: &str) {
    let _ = writeln!(
        out,
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        escape(caption)
    );
}

/// The line that says how much a list left out, if it left out any.
fn left_out(more: usize, what: &str) -> Option<String> {
    (more > 0).then(|| {
        format!(
            "…and {} more {what}, left out to keep the report short.",
            count(more)
        )
    })
}

fn more_html(out: &mut String, more: usize, what: &str) {
    if let Some(line) = left_out(more, what) {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&line));
    }
}

fn more_md(out: &mut String, more: usize, what: &str) {
    if let Some(line) = left_out(more, what) {
        let _ = writeln!(out, "{line}\n");
    }
}

// ---- scope and method ----------------------------------------------------------------------

/// Each kind (of note, of session) named, with its count.
fn counted<K: std::fmt::Display>(list: &[(K, usize)]) -> Vec<(String, usize)> {
    list.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// One way the scope is broken down: a table in HTML, a line in Markdown.
struct Breakdown {
    caption: &'static str,
    /// What is counted, and in what.
    key: &'static str,
    unit: &'static str,
    counts: Vec<(String, usize)>,
}

/// The scope by note kind, session kind and study.
fn breakdowns(data: &ReportData) -> [Breakdown; 3] {
    let f = &data.figures;
    [
        Breakdown {
            caption: "Notes by kind",
            key: "kind",
            unit: "notes",
            counts: counted(&f.note_kinds),
        },
        Breakdown {
            caption: "Sessions by kind",
            key: "kind",
            unit: "sessions",
            counts: counted(&f.session_kinds),
        },
        Breakdown {
            caption: "Studies",
            key: "study",
            unit: "notes",
            counts: f
                .studies
                .iter()
                .take(super::STUDIES_SHOWN)
                .cloned()
                .collect(),
        },
    ]
}

fn scope_rows(data: &ReportData) -> Vec<(&'static str, &'static str, String)> {
    let f = &data.figures;
    let dates = match (f.first, f.last) {
        (Some(a), Some(b)) => format!("{} – {}", a.format("%Y-%m-%d"), b.format("%Y-%m-%d")),
        _ => "–".into(),
    };
    vec![
        ("notes", "notes", count(f.notes)),
        ("sessions", "sessions", count(f.sessions)),
        ("participants", "participants", count(f.participants)),
        ("studies", "studies", count(f.studies.len())),
        ("dates", "written", dates),
    ]
}

fn selection_line(data: &ReportData) -> String {
    if data.selection.is_empty() {
        "Every note in the archive.".into()
    } else {
        format!("Notes chosen by {}.", data.selection.join("; "))
    }
}

fn scope_html(data: &ReportData, out: &mut String) {
    let f = &data.figures;
    out.push_str("<ul class=\"figures\">\n");
    for (key, label, value) in scope_rows(data) {
        let wide = if key == "dates" {
            " class=\"wide\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<li{wide}><strong data-count=\"{key}\">{}</strong>{label}</li>",
            escape(&value)
        );
    }
    out.push_str("</ul>\n");
    let _ = writeln!(out, "<p>{}</p>", escape(&selection_line(data)));
    out.push_str("<div class=\"tables\">\n");
    for b in breakdowns(data) {
        let rows: Vec<Vec<String>> = b
            .counts
            .into_iter()
            .map(|(k, n)| vec![k, count(n)])
            .collect();
        html_table(out, b.caption, &[(b.key, false), (b.unit, true)], &rows);
    }
    out.push_str("</div>\n");
    more_html(
        out,
        f.studies.len().saturating_sub(super::STUDIES_SHOWN),
        "studies",
    );
    let _ = writeln!(out, "<h3>Method</h3>\n<p>{}</p>", escape(&method(data)));
    let _ = writeln!(
        out,
        "<h3>Privacy</h3>\n<p data-withheld=\"{}\">{}</p>",
        f.withheld,
        escape(&privacy_line(data))
    );
}

fn scope_md(data: &ReportData, out: &mut String) {
    for (_, label, value) in scope_rows(data) {
        let _ = writeln!(out, "- {label}: {value}");
    }
    out.push('\n');
    let _ = writeln!(out, "{}\n", selection_line(data));
    for b in breakdowns(data) {
        let items: Vec<String> = b
            .counts
            .into_iter()
            .map(|(k, n)| format!("{k} ({})", count(n)))
            .collect();
        let _ = writeln!(out, "{}: {}.", b.caption, or_none(&items));
    }
    out.push('\n');
    let _ = writeln!(out, "**Method.** {}\n", method(data));
    let _ = writeln!(out, "**Privacy.** {}\n", privacy_line(data));
}

fn or_none(list: &[String]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

// ---- themes --------------------------------------------------------------------------------

fn themes_lead(data: &ReportData) -> String {
    let t = &data.themes;
    let found = t.shown.len() + t.more;
    if found == 0 {
        return if t.total_notes == 0 {
            "No notes in scope.".into()
        } else {
            "No theme recurs in these notes yet: a theme needs a phrase shared by enough notes \
             across sessions."
                .into()
        };
    }
    format!(
        "{} hold {} of the {} ({}).",
        plural(found, "theme", "themes"),
        count(t.notes_in_themes),
        plural(t.total_notes, "note", "notes"),
        percent(if t.total_notes == 0 {
            0.0
        } else {
            t.notes_in_themes as f64 / t.total_notes as f64
        })
    )
}

fn theme_meta(t: &super::ThemeFinding) -> String {
    let mut parts = vec![
        plural(t.notes, "note", "notes"),
        plural(t.sessions, "session", "sessions"),
        plural(t.participants, "participant", "participants"),
        format!("{} of the notes", percent(t.share)),
        format!("mean feeling {}", feeling(t.mean_valence)),
    ];
    if t.kept {
        parts.push("kept by the team".into());
    }
    parts.join(" · ")
}

fn tag_list(sigil: char, list: &[(String, usize)]) -> String {
    list.iter()
        .map(|(name, n)| format!("{sigil}{name} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What else names a theme, and whom and where it concerns.
fn theme_also(th: &super::ThemeFinding) -> Vec<String> {
    let mut lines = Vec::new();
    if !th.phrases.is_empty() {
        lines.push(format!("Also: {}.", th.phrases.join(", ")));
    }
    if !th.personas.is_empty() {
        lines.push(format!("Personas: {}.", tag_list('@', &th.personas)));
    }
    if !th.touchpoints.is_empty() {
        lines.push(format!("Touchpoints: {}.", tag_list('#', &th.touchpoints)));
    }
    lines
}

fn themes_html(data: &ReportData, out: &mut String) {
    let t = &data.themes;
    let _ = writeln!(
        out,
        "<p data-themes=\"{}\" data-in-themes=\"{}\">{}</p>",
        t.shown.len() + t.more,
        t.notes_in_themes,
        escape(&themes_lead(data))
    );
    if let Some(line) = sample_line(data) {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&line));
    }
    if t.shown.is_empty() {
        return;
    }
    let bars: Vec<Bar> = t
        .shown
        .iter()
        .map(|th| Bar {
            label: th.label.clone(),
            value: th.notes as f64,
            shown: count(th.notes),
        })
        .collect();
    let max = t.shown.iter().map(|th| th.notes).max().unwrap_or(0) as f64;
    let desc = t
        .shown
        .iter()
        .map(|th| format!("{}: {}", th.label, plural(th.notes, "note", "notes")))
        .collect::<Vec<_>>()
        .join("; ");
    figure(
        out,
        &svg::bars("themes-chart", "Notes in each theme", &desc, &bars, max),
        "Notes in each theme, in the order below.",
    );
    for (i, th) in t.shown.iter().enumerate() {
        article_html(
            out,
            &format!(
                "class=\"theme\" data-theme=\"{}\" data-notes=\"{}\"",
                escape(&th.id),
                th.notes
            ),
            &format!("{}. {}", i + 1, th.label),
            &theme_meta(th),
            &theme_also(th),
            &th.quotes,
        );
    }
    more_html(out, t.more, "themes");
}

fn themes_md(data: &ReportData, out: &mut String) {
    let t = &data.themes;
    let _ = writeln!(out, "{}\n", themes_lead(data));
    if let Some(line) = sample_line(data) {
        let _ = writeln!(out, "{line}\n");
    }
    for (i, th) in t.shown.iter().enumerate() {
        let _ = writeln!(out, "### {}. {}\n\n{}.\n", i + 1, th.label, theme_meta(th));
        for line in theme_also(th) {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
        for q in &th.quotes {
            quote_md(out, q);
        }
    }
    more_md(out, t.more, "themes");
}

// ---- pains ---------------------------------------------------------------------------------

/// The heat map's fills, each with the colour its number is written in: negative feelings in
/// reds, positive in blues, feelings without a valence in greys, darker for more notes.
pub(super) const HEAT_CELLS: [(&str, &str); 15] = [
    ("#fde7e4", "#1b1b1b"),
    ("#f8b9b0", "#1b1b1b"),
    ("#ee8374", "#1b1b1b"),
    ("#c9372b", "#ffffff"),
    ("#8f1a12", "#ffffff"),
    ("#e6eefa", "#1b1b1b"),
    ("#b9cff0", "#1b1b1b"),
    ("#85abe3", "#1b1b1b"),
    ("#2f69b8", "#ffffff"),
    ("#163f7a", "#ffffff"),
    ("#f0f0f0", "#1b1b1b"),
    ("#d6d6d6", "#1b1b1b"),
    ("#b3b3b3", "#1b1b1b"),
    ("#6b6b6b", "#ffffff"),
    ("#3d3d3d", "#ffffff"),
];

fn heat_cell(valence: Option<i64>, n: usize, max: usize) -> (&'static str, &'static str) {
    if n == 0 || max == 0 {
        return ("#ffffff", svg::MUTED);
    }
    let ramp = match valence {
        Some(v) if v < 0 => 0,
        Some(v) if v > 0 => 5,
        _ => 10,
    };
    let step = (n * 5).div_ceil(max).clamp(1, 5) - 1;
    HEAT_CELLS[ramp + step]
}

/// An emotion's valence as its column says it: `−2`, `+1`, `0`.
fn valence_label(v: i64) -> String {
    match v {
        0 => "0".into(),
        v if v < 0 => format!("−{}", -v),
        v => format!("+{v}"),
    }
}

fn emotion_heading(name: &str, valence: Option<i64>) -> String {
    match valence {
        Some(v) => format!("!{name} ({})", valence_label(v)),
        None => format!("!{name}"),
    }
}

fn pains_lead(data: &ReportData) -> String {
    let p = &data.pains;
    match p.rows.first() {
        None => {
            "No notes carry a touchpoint: tag them with #touchpoint to see where it hurts.".into()
        }
        Some(worst) => format!(
            "Touchpoints, worst first (most negative notes, then lowest mean feeling). The worst \
             is #{}: {} negative of {}, mean feeling {}.",
            worst.touchpoint,
            count(worst.negative_notes),
            plural(worst.notes, "note", "notes"),
            feeling(worst.mean_valence)
        ),
    }
}

fn pains_html(data: &ReportData, out: &mut String) {
    let p = &data.pains;
    let _ = writeln!(out, "<p>{}</p>", escape(&pains_lead(data)));
    if p.rows.is_empty() {
        return;
    }
    let max = p
        .rows
        .iter()
        .flat_map(|r| r.cells.iter().copied())
        .max()
        .unwrap_or(0);
    out.push_str(
        "<p>Each cell counts a touchpoint's notes that carry an emotion: reds for negative \
         feelings, blues for positive, greys for emotions without a valence, darker for more \
         notes.</p>\n<div class=\"scroll\"><table class=\"heat\"><caption>Notes by touchpoint \
         and emotion</caption><thead><tr><th scope=\"col\">touchpoint</th>",
    );
    for (e, v) in &p.emotions {
        let valence = v
            .map(|v| format!("<small>{}</small>", escape(&valence_label(v))))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"e\">{}{valence}</th>",
            escape(e)
        );
    }
    out.push_str(
        "<th scope=\"col\" class=\"n\">negative</th><th scope=\"col\" class=\"n\">feeling</th></tr></thead><tbody>\n",
    );
    for r in &p.rows {
        let notes = plural(r.notes, "note", "notes");
        let stage = match r.stage.as_deref() {
            Some(s) => format!("<small>{} · {notes}</small>", escape(s)),
            None => format!("<small>{notes}</small>"),
        };
        let _ = write!(
            out,
            "<tr data-touchpoint=\"{}\" data-negative=\"{}\"><th scope=\"row\"><span class=\"tag\">#{}</span>{stage}</th>",
            escape(&r.touchpoint),
            r.negative_notes,
            escape(&r.touchpoint)
        );
        for (n, (_, v)) in r.cells.iter().zip(&p.emotions) {
            let (fill, ink) = heat_cell(*v, *n, max);
            let shown = if *n == 0 { "·".to_owned() } else { count(*n) };
            let _ = write!(
                out,
                "<td class=\"c\" style=\"background:{fill};color:{ink}\">{shown}</td>"
            );
        }
        let _ = writeln!(
            out,
            "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            count(r.negative_notes),
            escape(&feeling(r.mean_valence))
        );
    }
    out.push_str("</tbody></table></div>\n");
    more_html(out, p.more, "touchpoints");
    for (tp, quotes) in &p.worst {
        if quotes.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3>At <span class=\"tag\">#{}</span></h3>",
            escape(tp)
        );
        for q in quotes {
            quote_html(out, q);
        }
    }
}

fn pains_md(data: &ReportData, out: &mut String) {
    let p = &data.pains;
    let _ = writeln!(out, "{}\n", pains_lead(data));
    if p.rows.is_empty() {
        return;
    }
    let mut columns: Vec<(String, bool)> = vec![("touchpoint".into(), false)];
    columns.extend(
        p.emotions
            .iter()
            .map(|(e, v)| (emotion_heading(e, *v), true)),
    );
    columns.extend([
        ("notes".into(), true),
        ("negative".into(), true),
        ("mean feeling".into(), true),
    ]);
    let columns: Vec<(&str, bool)> = columns.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    let rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![format!("#{}", r.touchpoint)];
            cells.extend(r.cells.iter().map(|n| count(*n)));
            cells.extend([
                count(r.notes),
                count(r.negative_notes),
                feeling(r.mean_valence),
            ]);
            cells
        })
        .collect();
    md_table(out, &columns, &rows);
    more_md(out, p.more, "touchpoints");
    for (tp, quotes) in &p.worst {
        if quotes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### At #{tp}\n");
        for q in quotes {
            quote_md(out, q);
        }
    }
}

// ---- journey -------------------------------------------------------------------------------

fn journey_desc(data: &ReportData) -> String {
    let j = &data.journey;
    j.series
        .iter()
        .map(|s| {
            let points: Vec<String> = j
                .stages
                .iter()
                .zip(&s.values)
                .map(|(stage, v)| match v {
                    Some(v) => format!("{stage} {}", s.scale.label(*v)),
                    None => format!("{stage} none"),
                })
                .collect();
            let mut name = s.name.clone();
            if let Some(first) = name.get(..1) {
                name.replace_range(..1, &first.to_uppercase());
            }
            format!("{name} by stage: {}", points.join(", "))
        })
        .collect::<Vec<_>>()
        .join(". ")
}

fn point_name(p: &crate::analysis::journey::JourneyPoint) -> String {
    match (&p.touchpoint, &p.stage) {
        (Some(tp), _) => format!("#{tp}"),
        (None, Some(s)) => s.clone(),
        (None, None) => "no stage".into(),
    }
}

fn lanes(p: &crate::analysis::journey::JourneyPoint) -> String {
    p.lanes
        .iter()
        .map(|(l, v)| format!("{l} {}", Scale::VALENCE.label(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

const JOURNEY_EMPTY: &str =
    "No notes carry a touchpoint: tag them with #touchpoint to see the journey.";

fn journey_html(data: &ReportData, out: &mut String) {
    let j = &data.journey;
    if j.points.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(JOURNEY_EMPTY));
        return;
    }
    out.push_str(
        "<p>The mean feeling of the notes at each stage of the journey (−2 to +2), in journey \
         order; touchpoints without a stage come last.</p>\n",
    );
    figure(
        out,
        &svg::lines(
            "journey-chart",
            "The journey's emotion curve",
            &journey_desc(data),
            &j.stages,
            &j.series,
        ),
        "Mean feeling by stage; the table below gives every stage and touchpoint.",
    );
    thead(
        out,
        "Stages and their touchpoints",
        &[
            ("stage / touchpoint", false),
            ("notes", true),
            ("with a feeling", true),
            ("mean feeling", true),
            ("lanes", false),
        ],
    );
    for p in &j.points {
        let name = point_name(p);
        let attributes = format!(
            " class=\"{}\" data-point=\"{}\" data-notes=\"{}\"",
            if p.touchpoint.is_some() {
                "touchpoint"
            } else {
                "stage"
            },
            escape(&name),
            p.notes
        );
        let cells = [
            (name, false),
            (count(p.notes), true),
            (count(p.rated_notes), true),
            (feeling(p.mean_valence), true),
            (lanes(p), false),
        ];
        row_with(out, &attributes, &cells);
    }
    out.push_str("</tbody></table>\n");
    more_html(out, j.more, "stages and touchpoints");
}

fn journey_md(data: &ReportData, out: &mut String) {
    let j = &data.journey;
    if j.points.is_empty() {
        let _ = writeln!(out, "{JOURNEY_EMPTY}\n");
        return;
    }
    let _ = writeln!(out, "{}.\n", journey_desc(data));
    let rows: Vec<Vec<String>> = j
        .points
        .iter()
        .map(|p| {
            let name = match p.touchpoint {
                Some(_) => format!("  {}", point_name(p)),
                None => point_name(p).to_uppercase(),
            };
            vec![
                name,
                count(p.notes),
                count(p.rated_notes),
                feeling(p.mean_valence),
                lanes(p),
            ]
        })
        .collect();
    md_table(
        out,
        &[
            ("stage / touchpoint", false),
            ("notes", true),
            ("with a feeling", true),
            ("mean feeling", true),
            ("lanes", false),
        ],
        &rows,
    );
    more_md(out, j.more, "stages and touchpoints");
}

// ---- personas ------------------------------------------------------------------------------

const PERSONAS_LEAD: &str = "The phrases and tags that most set each persona's notes apart \
from all the others (weighted log-odds; z of 1.96 or more is a clear difference).";
const PERSONAS_EMPTY: &str = "No notes carry a persona: tag them with @persona to compare them.";

fn distinctive_rows(phrases: &[Distinctive], tags: &[Distinctive]) -> Vec<Vec<String>> {
    phrases
        .iter()
        .map(|d| (d, "phrase"))
        .chain(tags.iter().map(|d| (d, "tag")))
        .map(|(d, what)| {
            vec![
                d.term.clone(),
                what.to_owned(),
                format!("{:.2}", d.z),
                count(d.in_group),
                count(d.in_rest),
            ]
        })
        .collect()
}

const DISTINCTIVE_COLUMNS: [(&str, bool); 5] = [
    ("phrase or tag", false),
    ("", false),
    ("z", true),
    ("in its notes", true),
    ("in the others", true),
];

fn personas_html(data: &ReportData, out: &mut String) {
    let c = &data.personas;
    if c.groups.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(PERSONAS_EMPTY));
        return;
    }
    let _ = writeln!(
        out,
        "<p data-personas=\"{}\">{}</p>",
        c.groups.len(),
        escape(PERSONAS_LEAD)
    );
    if let Some(line) = sample_line(data) {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&line));
    }
    for g in &c.groups {
        let _ = writeln!(
            out,
            "<h3 data-persona=\"{}\" data-notes=\"{}\"><span class=\"tag\">@{}</span> <span class=\"meta\">({})</span></h3>",
            escape(&g.group),
            g.notes,
            escape(&g.group),
            plural(g.notes, "note", "notes")
        );
        let rows = distinctive_rows(&g.phrases, &g.tags);
        if rows.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"meta\">Nothing sets @{} clearly apart yet.</p>",
                escape(&g.group)
            );
            continue;
        }
        thead(
            out,
            &format!("What sets @{} apart", g.group),
            &DISTINCTIVE_COLUMNS,
        );
        for r in rows {
            let cells: Vec<(String, bool)> = r
                .into_iter()
                .zip(DISTINCTIVE_COLUMNS)
                .map(|(c, (_, n))| (c, n))
                .collect();
            row(out, &cells);
        }
        out.push_str("</tbody></table>\n");
    }
}

fn personas_md(data: &ReportData, out: &mut String) {
    let c = &data.personas;
    if c.groups.is_empty() {
        let _ = writeln!(out, "{PERSONAS_EMPTY}\n");
        return;
    }
    let _ = writeln!(out, "{PERSONAS_LEAD}\n");
    if let Some(line) = sample_line(data) {
        let _ = writeln!(out, "{line}\n");
    }
    for g in &c.groups {
        let _ = writeln!(
            out,
            "### @{} ({})\n",
            g.group,
            plural(g.notes, "note", "notes")
        );
        let rows = distinctive_rows(&g.phrases, &g.tags);
        if rows.is_empty() {
            let _ = writeln!(out, "Nothing sets @{} clearly apart yet.\n", g.group);
        } else {
            md_table(out, &DISTINCTIVE_COLUMNS, &rows);
        }
    }
}

// ---- mystery-shop scores -------------------------------------------------------------------

const VISITS_EMPTY: &str = "No mystery-shop visits in this scope.";

fn score_rows(rows: &[ReportGroup]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                r.group.clone(),
                count(r.visits),
                score_label(r.mean),
                score_label(r.spread),
                score_label(r.min),
                score_label(r.max),
            ]
        })
        .collect()
}

fn score_columns(first: &'static str) -> [(&'static str, bool); 6] {
    [
        (first, false),
        ("visits", true),
        ("mean", true),
        ("spread", true),
        ("lowest", true),
        ("highest", true),
    ]
}

fn visits_lead(data: &ReportData) -> String {
    format!(
        "{}, each scored from 0 to 100; locations worst first.",
        plural(
            data.visits.visits,
            "mystery-shop visit",
            "mystery-shop visits"
        )
    )
}

fn html_table(out: &mut String, caption: &str, columns: &[(&str, bool)], rows: &[Vec<String>]) {
    thead(out, caption, columns);
    for r in rows {
        let cells: Vec<(String, bool)> =
            r.iter().cloned().zip(columns.iter().map(|c| c.1)).collect();
        row(out, &cells);
    }
    out.push_str("</tbody></table>\n");
}

fn criteria_rows(data: &ReportData) -> Vec<Vec<String>> {
    data.visits
        .worst_criteria
        .iter()
        .map(|(id, question, mean, visits)| {
            vec![
                id.clone(),
                question.clone(),
                score_label(Some(*mean)),
                count(*visits),
            ]
        })
        .collect()
}

const CRITERIA_COLUMNS: [(&str, bool); 4] = [
    ("criterion", false),
    ("question", false),
    ("mean", true),
    ("visits", true),
];

fn visits_html(data: &ReportData, out: &mut String) {
    let v = &data.visits;
    if v.visits == 0 {
        let _ = writeln!(out, "<p data-visits=\"0\">{}</p>", escape(VISITS_EMPTY));
        return;
    }
    let _ = writeln!(
        out,
        "<p data-visits=\"{}\">{}</p>",
        v.visits,
        escape(&visits_lead(data))
    );
    let bars: Vec<Bar> = v
        .locations
        .iter()
        .map(|l| Bar {
            label: l.group.clone(),
            value: l.mean.unwrap_or(0.0),
            shown: format!(
                "{} ({})",
                score_label(l.mean),
                plural(l.visits, "visit", "visits")
            ),
        })
        .collect();
    let desc = v
        .locations
        .iter()
        .map(|l| format!("{}: {}", l.group, score_label(l.mean)))
        .collect::<Vec<_>>()
        .join("; ");
    figure(
        out,
        &svg::bars(
            "visits-chart",
            "Mean score by location",
            &desc,
            &bars,
            100.0,
        ),
        "Mean visit score by location, 0 to 100.",
    );
    html_table(
        out,
        "Scores by location",
        &score_columns("location"),
        &score_rows(&v.locations),
    );
    more_html(out, v.more_locations, "locations");
    if v.months.len() > 1 {
        let months: Vec<String> = v.months.iter().map(|m| m.group.clone()).collect();
        let desc = v
            .by_location_and_month
            .iter()
            .map(|s| {
                let points: Vec<String> = months
                    .iter()
                    .zip(&s.values)
                    .filter_map(|(m, x)| x.map(|x| format!("{m} {x:.0}")))
                    .collect();
                format!("{}: {}", s.name, points.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        figure(
            out,
            &svg::lines(
                "visits-months",
                "Mean score by location and month",
                &desc,
                &months,
                &v.by_location_and_month,
            ),
            "Mean visit score of each location by month (the worst six locations).",
        );
    }
    html_table(
        out,
        "Scores by month",
        &score_columns("month"),
        &score_rows(&v.months),
    );
    html_table(
        out,
        "The worst criteria over all visits",
        &CRITERIA_COLUMNS,
        &criteria_rows(data),
    );
    if !v.low_notes.is_empty() {
        out.push_str("<h3>Beside the lowest answers</h3>\n");
        for (criterion, score, q) in &v.low_notes {
            let _ = writeln!(
                out,
                "<p class=\"meta\">{} scored {score:.0}:</p>",
                escape(criterion)
            );
            quote_html(out, q);
        }
    }
}

fn visits_md(data: &ReportData, out: &mut String) {
    let v = &data.visits;
    if v.visits == 0 {
        let _ = writeln!(out, "{VISITS_EMPTY}\n");
        return;
    }
    let _ = writeln!(out, "{}\n", visits_lead(data));
    md_table(out, &score_columns("location"), &score_rows(&v.locations));
    more_md(out, v.more_locations, "locations");
    md_table(out, &score_columns("month"), &score_rows(&v.months));
    let _ = writeln!(out, "The worst criteria over all visits:\n");
    md_table(out, &CRITERIA_COLUMNS, &criteria_rows(data));
    for (criterion, score, q) in &v.low_notes {
        let _ = writeln!(out, "{criterion} scored {score:.0}:\n");
        quote_md(out, q);
    }
}

// ---- insights ------------------------------------------------------------------------------

const INSIGHTS_EMPTY: &str = "No insights about these notes yet: `fieldnotes insight add \
\"…\" --note ID` writes one, backed by the notes that support it.";

fn insight_meta(i: &super::InsightFinding) -> String {
    let mut s = format!(
        "Insight {} · supported by {}",
        i.id,
        plural(i.notes, "note", "notes")
    );
    if let Some(t) = &i.theme {
        let _ = write!(s, " · theme: {t}");
    }
    if let Some(c) = i.confidence {
        let _ = write!(s, " · {c} confidence");
    }
    s
}

const MEASURES_EMPTY: &str = "No measures among these notes: type them as %nps=9 %csat=4 %ces=6 %confidence=3 in a note, or give a session its own.";

/// The measures as table rows: a group, its values, NPS with its interval, and the means.
fn measure_rows(data: &ReportData) -> Vec<Vec<String>> {
    data.measures
        .groups
        .iter()
        .map(|g| {
            let find = |name: &str| g.measures.iter().find(|m| m.name == name);
            let values: usize = g.measures.iter().map(|m| m.n).sum();
            let nps = find("nps")
                .and_then(|m| m.nps.as_ref().map(|n| (m.n, n)))
                .map_or("–".to_owned(), |(count, n)| {
                    format!("{:+.0} ± {:.0} (n={count})", n.score, n.margin)
                });
            let mean = |name: &str| {
                find(name).map_or("–".to_owned(), |m| format!("{:.2} (n={})", m.mean, m.n))
            };
            vec![
                g.group.clone(),
                values.to_string(),
                nps,
                mean("csat"),
                mean("ces"),
                mean("confidence"),
            ]
        })
        .collect()
}

const MEASURE_COLUMNS: [(&str, bool); 6] = [
    ("Group", false),
    ("Values", true),
    ("NPS (95% interval)", true),
    ("CSAT 1–5", true),
    ("Effort (CES 1–7, 7 easy)", true),
    ("Confidence 1–5", true),
];

fn measures_lead(data: &ReportData) -> String {
    let all = &data.measures.groups[0];
    let values: usize = all.measures.iter().map(|m| m.n).sum();
    let mut lead = format!(
        "{} from notes (%nps, %csat, %ces, %confidence) and sessions; NPS is % promoters (9–10) − % detractors (0–6).",
        plural(values, "value", "values")
    );
    if !data.measures.moments_of_truth.is_empty() {
        let worst: Vec<String> = data
            .measures
            .moments_of_truth
            .iter()
            .take(3)
            .map(|m| {
                format!(
                    "{} (effort {:.1}, feeling {:+.1})",
                    m.touchpoint, m.effort, m.valence
                )
            })
            .collect();
        let _ = write!(
            lead,
            " Moments of truth, where effort is poor and feeling negative: {}.",
            worst.join("; ")
        );
    }
    lead
}

fn has_measures(data: &ReportData) -> bool {
    data.measures.groups[0].measures.iter().any(|m| m.n > 0)
}

fn measures_html(data: &ReportData, out: &mut String) {
    let values: usize = data.measures.groups[0].measures.iter().map(|m| m.n).sum();
    if !has_measures(data) {
        let _ = writeln!(out, "<p data-measures=\"0\">{}</p>", escape(MEASURES_EMPTY));
        return;
    }
    let _ = writeln!(
        out,
        "<p data-measures=\"{values}\">{}</p>",
        escape(&measures_lead(data))
    );
    html_table(
        out,
        "Measures over all the notes, then by touchpoint",
        &MEASURE_COLUMNS,
        &measure_rows(data),
    );
}

fn measures_md(data: &ReportData, out: &mut String) {
    if !has_measures(data) {
        let _ = writeln!(out, "{MEASURES_EMPTY}\n");
        return;
    }
    let _ = writeln!(out, "{}\n", measures_lead(data));
    md_table(out, &MEASURE_COLUMNS, &measure_rows(data));
    out.push('\n');
}

fn insights_html(data: &ReportData, out: &mut String) {
    let ins = &data.insights;
    let _ = writeln!(
        out,
        "<p data-insights=\"{}\">{}</p>",
        ins.shown.len() + ins.more,
        escape(&if ins.shown.is_empty() {
            INSIGHTS_EMPTY.to_owned()
        } else {
            format!(
                "{} written by the team, each with the notes that support it.",
                plural(ins.shown.len() + ins.more, "insight", "insights")
            )
        })
    );
    for i in &ins.shown {
        article_html(
            out,
            &format!("class=\"insight\" data-insight=\"{}\"", i.id),
            &i.statement,
            &insight_meta(i),
            &[],
            &i.quotes,
        );
    }
    more_html(out, ins.more, "insights");
}

fn insights_md(data: &ReportData, out: &mut String) {
    let ins = &data.insights;
    if ins.shown.is_empty() {
        let _ = writeln!(out, "{INSIGHTS_EMPTY}\n");
        return;
    }
    for i in &ins.shown {
        let _ = writeln!(out, "### {}\n\n{}.\n", i.statement, insight_meta(i));
        for q in &i.quotes {
            quote_md(out, q);
        }
    }
    more_md(out, ins.more, "insights");
}

// ---- the Markdown appendix: sessions, every note, tags -------------------------------------

fn sessions_md(data: &ReportData, out: &mut String) {
    for s in &data.sessions {
        let mut line = format!(
            "- **{}** — {}, {}",
            super::read::session_label(s),
            s.kind,
            s.study
        );
        for v in [&s.location, &s.channel, &s.researcher]
            .into_iter()
            .flatten()
        {
            let _ = write!(line, ", {v}");
        }
        if !s.participants.is_empty() {
            let _ = write!(line, "; with {}", s.participant_names());
        }
        let _ = writeln!(out, "{line}");
    }
    if !data.sessions.is_empty() {
        out.push('\n');
    }
}

fn notes_md(data: &ReportData, out: &mut String) {
    let several_sessions = data.sessions.len() > 1;
    for kind in NoteKind::ALL {
        let of_kind: Vec<&Quote> = data.notes.iter().filter(|n| n.kind == *kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let heading = match kind {
            NoteKind::Observation => "Observations",
            NoteKind::Quote => "Quotes",
            NoteKind::Interpretation => "Interpretations",
        };
        let _ = writeln!(out, "### {heading} ({})\n", of_kind.len());
        for n in of_kind {
            let body = n.text.replace('\n', " ");
            let mut from = Vec::new();
            if let Some(p) = &n.speaker {
                from.push(p.clone());
            }
            if several_sessions {
                from.push(n.session.clone());
            }
            if *kind == NoteKind::Quote {
                let _ = writeln!(out, "> {body}");
                if !from.is_empty() {
                    let _ = writeln!(out, ">\n> — {}", from.join(", "));
                }
            } else {
                let _ = writeln!(out, "- {body}");
                if !from.is_empty() {
                    let _ = writeln!(out, "  — {}", from.join(", "));
                }
            }
            out.push('\n');
        }
    }
}

fn tags_md(data: &ReportData, out: &mut String) {
    if data.tags.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = data
        .tags
        .iter()
        .map(|(facet, tag, n)| vec![facet.to_string(), format!("`{tag}`"), count(*n)])
        .collect();
    md_table(
        out,
        &[("facet", false), ("tag", false), ("notes", true)],
        &rows,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_thousands_separated() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn heat_cells_darken_with_the_count_and_take_the_feelings_colour() {
        assert_eq!(heat_cell(Some(-2), 10, 10), HEAT_CELLS[4]);
        assert_eq!(heat_cell(Some(-1), 1, 10), HEAT_CELLS[0]);
        assert_eq!(heat_cell(Some(2), 10, 10), HEAT_CELLS[9]);
        assert_eq!(heat_cell(None, 6, 10), HEAT_CELLS[12]);
        assert_eq!(heat_cell(Some(-2), 0, 10).0, "#ffffff");
    }
}
