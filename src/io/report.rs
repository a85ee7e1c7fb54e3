//! A Markdown report of a session, a study or the whole archive: its sessions, the notes
//! grouped by kind (observations, quotes, interpretations) with their tags, the tag counts,
//! and the themes summary (see [`themes_section`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use crate::error::{Error, Result};
use crate::model::{Facet, NoteKind, Tag};
use crate::store::NoteRecord;

use super::export::SessionLine;
use super::export::{ExportSummary, ExportView, Scope};

/// The themes the report's notes carry, as Markdown, with evidence quotes taken from the
/// report's own (redacted, when asked) notes; `None` when no theme recurs.
pub fn themes_section(view: &ExportView<'_>, notes: &[&NoteRecord]) -> Result<Option<String>> {
    let live: Vec<&NoteRecord> = notes
        .iter()
        .copied()
        .filter(|n| n.deleted_at.is_none())
        .collect();
    let ids: Vec<String> = live.iter().map(|n| n.id.clone()).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let store = view.store();
    let analysed = store.analysis_notes(Some(&ids))?;
    let report = crate::analysis::themes(
        &analysed,
        &crate::analysis::ThemeSettings::default(),
        &store.curation()?,
    );
    if report.themes.is_empty() {
        return Ok(None);
    }
    let by_id: std::collections::HashMap<&str, &NoteRecord> =
        live.iter().map(|n| (n.id.as_str(), *n)).collect();
    // Labels come from the notes' own words: a redacted report masks them like the notes.
    let clean = |text: &str| match view.redactor() {
        Some(r) => r.text(text),
        None => text.to_owned(),
    };
    let mut md = String::new();
    for theme in report.themes.iter().take(8) {
        let _ = writeln!(
            md,
            "### {}

{} notes ({:.0}% of the report's notes) in {} sessions{}.
",
            clean(&theme.label),
            theme.note_count,
            theme.share * 100.0,
            theme.sessions,
            theme
                .mean_valence
                .map(|v| format!(", mean feeling {v:+.1}"))
                .unwrap_or_default()
        );
        for evidence in &theme.representative {
            if let Some(note) = by_id.get(evidence.id.as_str()) {
                let _ = writeln!(
                    md,
                    "> {}
",
                    note.body.replace('\n', " ")
                );
            }
        }
    }
    Ok(Some(md))
}

fn kind_heading(k: NoteKind) -> &'static str {
    match k {
        NoteKind::Observation => "Observations",
        NoteKind::Quote => "Quotes",
        NoteKind::Interpretation => "Interpretations",
    }
}

/// Writes the report; returns how many notes it covers.
pub fn export(view: &ExportView<'_>, out: &mut dyn Write) -> Result<ExportSummary> {
    let mut sessions: BTreeMap<String, SessionLine> = BTreeMap::new();
    let mut notes: Vec<NoteRecord> = Vec::new();
    let summary = view.for_each_note(false, |session, rec| {
        sessions
            .entry(session.id.clone())
            .or_insert_with(|| session.clone());
        notes.push(rec);
        Ok(())
    })?;
    let mut sessions: Vec<SessionLine> = sessions.into_values().collect();
    sessions.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
    let session_label = |s: &SessionLine| {
        let mut l = s.title.clone().unwrap_or_else(|| s.kind.to_string());
        let _ = write!(l, " ({})", s.started_at.format("%Y-%m-%d"));
        l
    };
    let labels: BTreeMap<&str, String> = sessions
        .iter()
        .map(|s| (s.id.as_str(), session_label(s)))
        .collect();

    let mut md = String::new();
    let title = match view.scope() {
        Scope::Session(_) => sessions
            .first()
            .map(session_label)
            .unwrap_or_else(|| "Session".into()),
        Scope::Study(name) => name.clone(),
        Scope::All => "All studies".into(),
        Scope::Notes(_) => "Selected notes".into(),
    };
    let _ = writeln!(md, "# {title}\n");
    let _ = writeln!(
        md,
        "{} notes from {} sessions{}.\n",
        notes.len(),
        sessions.len(),
        if summary.withheld > 0 {
            format!(
                "; {} notes of participants without recorded consent are left out",
                summary.withheld
            )
        } else {
            String::new()
        }
    );

    md.push_str("## Sessions\n\n");
    for s in &sessions {
        let mut line = format!("- **{}** — {}, {}", labels[s.id.as_str()], s.kind, s.study);
        for v in [&s.location, &s.channel, &s.researcher]
            .into_iter()
            .flatten()
        {
            let _ = write!(line, ", {v}");
        }
        if !s.participants.is_empty() {
            let who: Vec<&str> = s
                .participants
                .iter()
                .map(|p| p.pseudonym.as_str())
                .collect();
            let _ = write!(line, "; with {}", who.join(", "));
        }
        let _ = writeln!(md, "{line}");
    }
    md.push('\n');

    let several_sessions = sessions.len() > 1;
    for kind in NoteKind::ALL {
        let of_kind: Vec<&NoteRecord> = notes.iter().filter(|n| n.kind == *kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let _ = writeln!(md, "## {} ({})\n", kind_heading(*kind), of_kind.len());
        for n in of_kind {
            let body = n.body.replace('\n', " ");
            let text = if *kind == NoteKind::Quote {
                format!("> {body}")
            } else {
                format!("- {body}")
            };
            let mut from = Vec::new();
            if let Some(p) = &n.participant {
                from.push(p.clone());
            }
            if several_sessions {
                from.push(labels[n.session.as_str()].clone());
            }
            let _ = writeln!(md, "{text}");
            if !from.is_empty() {
                let lead = if *kind == NoteKind::Quote {
                    ">\n> — "
                } else {
                    "  — "
                };
                let _ = writeln!(md, "{lead}{}", from.join(", "));
            }
            md.push('\n');
        }
    }

    let mut counts: BTreeMap<Facet, BTreeMap<&Tag, u64>> = BTreeMap::new();
    for n in &notes {
        for t in &n.tags {
            *counts.entry(t.facet).or_default().entry(t).or_default() += 1;
        }
    }
    if !counts.is_empty() {
        md.push_str("## Tags\n\n| facet | tag | notes |\n|---|---|---|\n");
        for (facet, tags) in &counts {
            let mut tags: Vec<(&&Tag, &u64)> = tags.iter().collect();
            tags.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (tag, n) in tags {
                let _ = writeln!(md, "| {facet} | `{tag}` | {n} |");
            }
        }
        md.push('\n');
    }

    let all: Vec<&NoteRecord> = notes.iter().collect();
    if let Some(themes) = themes_section(view, &all)? {
        let _ = writeln!(md, "## Themes\n\n{}\n", themes.trim_end());
    }
    out.write_all(md.trim_end().as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| Error::io("cannot write the report", e))?;
    Ok(summary)
}
