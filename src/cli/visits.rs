//! Mystery shopping from the command line: scorecards, visit answers, reports.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};

use fieldnotes::Archive;
use fieldnotes::mystery_shop::{GroupBy, ReportGroup, report as group, score_label, template};

use super::output::Out;

#[derive(Subcommand)]
pub enum ScorecardCommand {
    /// Import a TOML template; a changed template becomes its next version
    #[command(
        after_help = "The format is documented in the README (Mystery shopping). Visits keep the\n\
        version they were made with, so editing a template never changes old scores."
    )]
    Import { file: PathBuf },
    /// List scorecards (latest versions)
    List,
    /// Show a scorecard's sections and criteria
    Show {
        name: String,
        #[arg(long)]
        version: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum VisitCommand {
    /// Answer one criterion: yes/no, 1-5, 0-10, a time (90, 90s, 2m, 1:30) or na
    #[command(
        after_help = "Examples:\n  fieldnotes visit answer 01JD4… wait-before-greeting 2m --note \"Two staff chatting at the till\"\n  \
        fieldnotes visit answer 01JD4… loyalty-offered no"
    )]
    Answer {
        /// The visit's session id (or its first characters)
        session: String,
        criterion: String,
        value: String,
        /// An evidence note saved beside the answer (inline tags work)
        #[arg(long)]
        note: Option<String>,
    },
    /// A visit's progress and scores [default: the most recent open session]
    Show { session: Option<String> },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum By {
    Location,
    Criterion,
    Month,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Markdown,
    Csv,
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value = "location")]
    by: By,
    /// text, markdown or csv
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Write to this file instead of standard output
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn scorecard(archive: &Archive, cmd: ScorecardCommand, out: &Out) -> Result<()> {
    match cmd {
        ScorecardCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let card = template::parse(&text).map_err(|e| {
                anyhow::anyhow!(
                    "cannot import {}: line {}: {}",
                    file.display(),
                    e.line,
                    e.reason
                )
            })?;
            let imported = archive.import_scorecard(&card, &text)?;
            let message = if imported.new_version {
                format!(
                    "imported {:?} as version {}",
                    imported.name, imported.version
                )
            } else {
                format!(
                    "{:?} is unchanged (version {})",
                    imported.name, imported.version
                )
            };
            out.done(&imported, &message)
        }
        ScorecardCommand::List => {
            let cards = archive.store().scorecards()?;
            if out.json {
                return out.print_json(&cards);
            }
            let mut text = String::new();
            for c in &cards {
                text.push_str(&format!(
                    "{}  (version {}, {} criteria)\n",
                    c.card.name,
                    c.version,
                    c.card.criteria().count()
                ));
            }
            if cards.is_empty() {
                text.push_str("no scorecards yet: `fieldnotes scorecard import FILE`\n");
            }
            out.print(&text)
        }
        ScorecardCommand::Show { name, version } => {
            let c = archive.store().scorecard(&name, version)?;
            if out.json {
                return out.print_json(&c);
            }
            let mut text = format!("{} (version {})\n", c.card.name, c.version);
            for s in &c.card.sections {
                text.push_str(&format!("\n{}\n", s.name));
                for k in &s.criteria {
                    text.push_str(&format!(
                        "  {:<24} w{:<4} {:<8} {}{}{}\n",
                        k.id,
                        k.weight,
                        scale_name(&k.scale),
                        k.question,
                        if k.na_allowed { " [N/A allowed]" } else { "" },
                        if k.evidence_required {
                            " [note required]"
                        } else {
                            ""
                        },
                    ));
                }
            }
            out.print(&text)
        }
    }
}

fn scale_name(s: &template::Scale) -> String {
    match s {
        template::Scale::YesNo => "yes/no".into(),
        template::Scale::OneToFive => "1-5".into(),
        template::Scale::ZeroToTen => "0-10".into(),
        template::Scale::Time { unit, .. } => format!("{unit:?}").to_lowercase(),
    }
}

pub fn visit(archive: &mut Archive, cmd: VisitCommand, out: &Out) -> Result<()> {
    match cmd {
        VisitCommand::Answer {
            session,
            criterion,
            value,
            note,
        } => {
            let session = archive.store().resolve_session(&session)?;
            archive.answer_visit(&session, &criterion, &value, note.as_deref(), false)?;
            show(archive, &session, out)
        }
        VisitCommand::Show { session } => {
            let session = match session {
                Some(s) => archive.store().resolve_session(&s)?,
                None => archive
                    .store()
                    .latest_open_session()?
                    .context("no open session: name the visit's session id")?,
            };
            show(archive, &session, out)
        }
    }
}

fn show(archive: &Archive, session: &str, out: &Out) -> Result<()> {
    let state = archive.visit_state(session)?;
    if out.json {
        return out.print_json(&state);
    }
    let (card, score) = (state.scorecard, state.score);
    let mut text = format!(
        "{} v{} · {}/{} answered · score {}\n",
        card.card.name,
        card.version,
        score.answered,
        score.total,
        score_label(score.score)
    );
    for s in &score.sections {
        text.push_str(&format!(
            "\n{} ({}/{}) {}\n",
            s.name,
            s.answered,
            s.total,
            score_label(s.score)
        ));
        for c in score.criteria.iter().filter(|c| c.section == s.name) {
            let answer = match (c.answered, c.na, c.value) {
                (false, _, _) => "·".to_owned(),
                (_, true, _) => "N/A".to_owned(),
                // As it was given: `yes`, `4`, `3 min`.
                (_, _, Some(v)) => card
                    .card
                    .criterion(&c.id)
                    .map_or_else(|| v.to_string(), |d| d.scale.show(v)),
                _ => "?".to_owned(),
            };
            text.push_str(&format!(
                "  {:<24} {:<6} {:>4}  {}\n",
                c.id,
                answer,
                score_label(c.score),
                c.question
            ));
        }
    }
    out.print(&text)
}

pub fn report(archive: &Archive, args: ReportArgs, out: &Out) -> Result<()> {
    let visits = archive.store().scored_visits()?;
    let by = match args.by {
        By::Location => GroupBy::Location,
        By::Criterion => GroupBy::Criterion,
        By::Month => GroupBy::Month,
    };
    let groups = group(&visits, by);
    let label = match args.by {
        By::Location => "Location",
        By::Criterion => "Criterion",
        By::Month => "Month",
    };
    let json = serde_json::json!({ "visits": visits.len(), "groups": groups });
    let text = match (out.json, args.format) {
        (true, _) if args.output.is_none() => return out.print_json(&json),
        // With -o, --json chooses what the file holds.
        (true, _) => serde_json::to_string_pretty(&json)? + "\n",
        (false, ReportFormat::Text) => text_report(&groups, label, visits.len()),
        (false, ReportFormat::Markdown) => markdown_report(&groups, label, visits.len()),
        (false, ReportFormat::Csv) => csv_report(&groups, label)?,
    };
    match args.output {
        Some(path) => {
            fieldnotes::io::write_atomically(&path, |w| {
                w.write_all(text.as_bytes()).map_err(|e| {
                    fieldnotes::Error::io(format!("cannot write {}", path.display()), e)
                })
            })?;
            out.status(&format!("wrote the report to {}", path.display()));
            Ok(())
        }
        None => out.print(&text),
    }
}

fn text_report(groups: &[ReportGroup], label: &str, visits: usize) -> String {
    let mut text = format!(
        "{visits} visits\n\n{label:<28} visits  mean  spread   min   max  worst criteria\n"
    );
    for g in groups {
        text.push_str(&format!(
            "{:<28} {:>6} {:>5} {:>7} {:>5} {:>5}  {}\n",
            g.group,
            g.visits,
            score_label(g.mean),
            score_label(g.spread),
            score_label(g.min),
            score_label(g.max),
            g.worst_criteria(3)
        ));
        for c in g.criteria.iter().take(3) {
            for (_, note, score) in c.low_notes.iter().take(2) {
                text.push_str(&format!("    {} {:.0}: {}\n", c.id, score, note));
            }
        }
    }
    text
}

fn markdown_report(groups: &[ReportGroup], label: &str, visits: usize) -> String {
    let mut md = format!(
        "# Mystery-shopping report\n\n{visits} visits, worst first.\n\n| {label} | Visits | Mean | Spread | Min | Max |\n|---|---:|---:|---:|---:|---:|\n"
    );
    for g in groups {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            g.group.replace('|', "\\|"),
            g.visits,
            score_label(g.mean),
            score_label(g.spread),
            score_label(g.min),
            score_label(g.max)
        ));
    }
    for g in groups {
        md.push_str(&format!("\n## {}\n\n", g.group));
        for c in &g.criteria {
            md.push_str(&format!(
                "- **{}** {:.0} over {} visits — {}\n",
                c.id, c.mean, c.visits, c.question
            ));
            for (_, note, score) in &c.low_notes {
                md.push_str(&format!(
                    "  - scored {score:.0}: > {}\n",
                    note.replace('\n', " ")
                ));
            }
        }
    }
    md
}

fn csv_report(groups: &[ReportGroup], label: &str) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        label,
        "visits",
        "mean",
        "spread",
        "min",
        "max",
        "criterion",
        "criterion_mean",
        "criterion_visits",
    ])?;
    let f = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    for g in groups {
        for c in &g.criteria {
            w.write_record([
                g.group.clone(),
                g.visits.to_string(),
                f(g.mean),
                f(g.spread),
                f(g.min),
                f(g.max),
                c.id.clone(),
                format!("{:.1}", c.mean),
                c.visits.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
