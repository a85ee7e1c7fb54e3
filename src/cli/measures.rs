//! `fieldnotes measures …`: NPS, CSAT, effort and confidence over the notes a search and
//! filters select (by group, between waves), the scales a study defines, and a session's own
//! measures.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use fieldnotes::Archive;
use fieldnotes::analysis::measures::{MeasureGroup, MeasureSummary, MeasuresTrend};
use fieldnotes::analysis::{MeasureBy, MeasuresReport, measures, measures_trend};
use fieldnotes::model::{Measure, MeasureScale, number, parse_assignment};

use super::output::Out;
use super::themes::Wave;
use super::{FilterArgs, to_filters, usage};

#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Measures are typed in a note as %name=value at a word's start: %nps=9 %csat=4 \
    %ces=2 %confidence=3. Built in: nps 0–10, csat 1–5, ces 1–7 (\"it was easy\": 7 is \
    effortless), confidence 1–5 (the customer's, that the issue will be resolved). A study \
    defines more with `fieldnotes measures define`; a whole session carries some with \
    `fieldnotes measures set`.\n\n\
    NPS is % promoters (9–10) − % detractors (0–6), with its 95% interval; the other measures \
    show their mean with its 95% interval, how many gave each value and the share in the good \
    end's top two points. Moments of truth are touchpoints whose mean effort is worse than the \
    scale's middle and whose notes feel negative.\n\n\
    Examples:\n  fieldnotes measures\n  \
    fieldnotes measures --by touchpoint\n  \
    fieldnotes measures --study \"Checkout study\" --by month --json\n  \
    fieldnotes measures trend --from \"Checkout Q2\" --to \"Checkout Q3\"\n  \
    fieldnotes measures define wait-minutes --scale 0..60 --lower-is-better --fractions --study \"Checkout study\"\n  \
    fieldnotes measures set 01J9Z nps=9 csat=4"
)]
pub(crate) struct MeasuresArgs {
    #[command(subcommand)]
    command: Option<MeasuresCommand>,
    #[command(flatten)]
    scope: Selection,
    /// Also show the figures per touchpoint, persona, study or month
    #[arg(long)]
    by: Option<MeasureBy>,
}

/// Which notes: the same query and filters as `search`.
#[derive(Args, Default)]
struct Selection {
    /// A search query narrowing the notes (see `fieldnotes search --help`); empty: all notes
    query: Vec<String>,
    #[command(flatten)]
    filters: FilterArgs,
    /// How many groups to show (--json gives them all)
    #[arg(long, short = 'n', default_value_t = 12)]
    limit: usize,
}

#[derive(Subcommand)]
enum MeasuresCommand {
    /// How each measure moved between two waves, with a z-test on the change
    #[command(
        after_help = "A wave is a date range (2026-06-01..2026-06-30; either side may be left open) or a study name.\n\
        Example:\n  fieldnotes measures trend --from 2026-06-01..2026-06-30 --to 2026-09-01.."
    )]
    Trend {
        /// The earlier wave: DATE..DATE or a study name
        #[arg(long, value_name = "WAVE")]
        from: String,
        /// The later wave: DATE..DATE or a study name
        #[arg(long, value_name = "WAVE")]
        to: String,
        #[command(flatten)]
        scope: Box<Selection>,
    },
    /// Define a measure of a study's own (or change its scale)
    Define {
        /// Its name, typed after % in notes (%wait-minutes=12)
        name: String,
        /// The study whose notes use it
        #[arg(long)]
        study: String,
        /// Its scale, lowest..highest: 1..10
        #[arg(long, value_name = "MIN..MAX", value_parser = parse_scale)]
        scale: (f64, f64),
        /// A lower value is the better experience (a wait in minutes); by default higher is better
        #[arg(long)]
        lower_is_better: bool,
        /// Values may have decimals (7.5); by default whole numbers only
        #[arg(long)]
        fractions: bool,
        /// What the number asks, for reports and help
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The scales notes can use: the built-in ones and a study's own
    Scales {
        /// Include this study's own measures
        #[arg(long)]
        study: Option<String>,
    },
    /// Give a whole session measures (a participant's NPS at the end of an interview)
    Set {
        /// The session's id (or a unique start of it)
        session: String,
        /// name=value, one or more: nps=9 csat=4
        #[arg(required = true, value_name = "NAME=VALUE")]
        measures: Vec<String>,
    },
}

fn parse_scale(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?} is not a scale: write MIN..MAX, as 1..10"))?;
    let read = |x: &str| {
        x.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{x:?} in {s:?} is not a number"))
    };
    let (min, max) = (read(a)?, read(b)?);
    if max <= min {
        return Err(format!("{s:?}: the scale must run from low to high"));
    }
    Ok((min, max))
}

pub(crate) fn run(archive: &mut Archive, args: MeasuresArgs, out: &Out) -> Result<()> {
    match args.command {
        None => {
            let scope = args.scope;
            let selected = archive.measure_values(
                &scope.query.join(" "),
                &to_filters(archive, scope.filters.clone())?,
            )?;
            let report = measures(&selected.values, &selected.notes, &selected.scales, args.by);
            let text = report_text(&report, selected.notes.len(), scope.limit);
            out.done(&report, &text)
        }
        Some(MeasuresCommand::Trend { from, to, scope }) => {
            let selected = archive.measure_values(
                &scope.query.join(" "),
                &to_filters(archive, scope.filters.clone())?,
            )?;
            let before_wave = Wave::parse(archive, &from).context("--from")?;
            let after_wave = Wave::parse(archive, &to).context("--to")?;
            let wave = |w: &Wave| {
                selected
                    .values
                    .iter()
                    .filter(|v| w.holds_at(&v.study, v.at))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            let (before, after) = (wave(&before_wave), wave(&after_wave));
            if before.is_empty() || after.is_empty() {
                bail!(
                    "no measures in the {} wave ({}): check the dates or study name",
                    if before.is_empty() { "--from" } else { "--to" },
                    if before.is_empty() { &from } else { &to }
                );
            }
            let report = measures_trend(&before, &after, &selected.scales);
            out.done(&report, &trend_text(&report, &from, &to))
        }
        Some(MeasuresCommand::Define {
            name,
            study,
            scale: (min, max),
            lower_is_better,
            fractions,
            description,
        }) => {
            let scale = MeasureScale {
                name,
                min,
                max,
                higher_is_better: !lower_is_better,
                whole: !fractions,
                description,
            };
            archive.define_measure(&study, &scale)?;
            let name = fieldnotes::model::normalize_name(&scale.name);
            let defined = archive
                .store()
                .measure_scales(Some(&study))?
                .into_iter()
                .find(|s| s.name == name)
                .context("the measure was not kept")?;
            out.done(
                &defined,
                &format!(
                    "defined %{}= for {study}: {}\ntype it in a note as %{}=N",
                    defined.name,
                    scale_text(&defined),
                    defined.name
                ),
            )
        }
        Some(MeasuresCommand::Scales { study }) => {
            if let Some(s) = &study {
                archive.study_id(s)?;
            }
            let scales = archive.store().measure_scales(study.as_deref())?;
            let mut text = String::new();
            for s in &scales {
                let _ = writeln!(
                    text,
                    "%{:<12} {}{}",
                    s.name,
                    scale_text(s),
                    if s.description.is_empty() {
                        String::new()
                    } else {
                        format!("\n              {}", s.description)
                    }
                );
            }
            out.done(&scales, text.trim_end())
        }
        Some(MeasuresCommand::Set { session, measures }) => {
            let id = archive.store().resolve_session(&session)?;
            let study = archive.store().session(&id)?.study;
            let scales = archive.store().measure_scales(Some(&study))?;
            let parsed = measures
                .iter()
                .map(|m| parse_assignment(m, &scales))
                .collect::<std::result::Result<Vec<Measure>, String>>();
            let parsed = match parsed {
                Ok(p) => p,
                Err(e) => usage!("{e}"),
            };
            archive.set_session_measures(&id, &parsed)?;
            let now = archive.store().measures_of_session(&id)?;
            let shown: Vec<String> = now.iter().map(Measure::to_string).collect();
            out.done(&now, &format!("session {id}: {}", shown.join(" ")))
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn scale_text(s: &MeasureScale) -> String {
    format!(
        "{}, {}{}",
        s.range_text(),
        if s.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        },
        if s.whole { "" } else { ", decimals allowed" }
    )
}

/// `+12 ± 18` for NPS, `3.8 ± 0.3` for a mean.
fn headline(m: &MeasureSummary) -> String {
    // One value has no interval to show.
    match (&m.nps, m.n > 1) {
        (Some(nps), true) => format!("{:+.0} ± {:.0}", nps.score, nps.margin),
        (Some(nps), false) => format!("{:+.0}", nps.score),
        (None, true) => format!("{:.2} ± {:.2}", m.mean, m.margin),
        (None, false) => format!("{:.2}", m.mean),
    }
}

fn detail(m: &MeasureSummary, scales: &[MeasureScale]) -> String {
    if let Some(nps) = &m.nps {
        return format!(
            "promoters {} · passives {} · detractors {}",
            nps.promoters, nps.passives, nps.detractors
        );
    }
    let mut parts = Vec::new();
    if let (Some(top), Some(scale)) = (m.top_two, scales.iter().find(|s| s.name == m.name)) {
        let (a, b) = if scale.higher_is_better {
            (scale.max - 1.0, scale.max)
        } else {
            (scale.min, scale.min + 1.0)
        };
        parts.push(format!("{}–{}: {:.0}%", number(a), number(b), top * 100.0));
    }
    if !m.distribution.is_empty() {
        let counts: Vec<String> = m
            .distribution
            .iter()
            .map(|b| format!("{}:{}", number(b.value), b.count))
            .collect();
        parts.push(format!("[{}]", counts.join(" ")));
    }
    parts.join("  ")
}

fn group_text(text: &mut String, g: &MeasureGroup, scales: &[MeasureScale]) {
    for m in &g.measures {
        let _ = writeln!(
            text,
            "  {:<12} {:>12}  n={:<5} {}",
            m.name,
            headline(m),
            m.n,
            detail(m, scales)
        );
    }
}

fn report_text(r: &MeasuresReport, notes: usize, limit: usize) -> String {
    let values: usize = r.groups[0].measures.iter().map(|m| m.n).sum();
    let mut text = format!("Measures over {notes} notes: {values} values");
    if r.ignored > 0 {
        let _ = write!(
            text,
            " ({} outside their scale or of no known measure, left out)",
            r.ignored
        );
    }
    text.push('\n');
    if values == 0 {
        text.push_str(
            "no measures yet: type %nps=9 %csat=4 %ces=6 in a note, or `fieldnotes measures set SESSION nps=9`\n",
        );
        return text;
    }
    group_text(&mut text, &r.groups[0], &r.scales);
    let groups = &r.groups[1..];
    if let Some(by) = r.by {
        let _ = writeln!(text, "\nby {}", by.as_str());
        for g in groups.iter().take(limit) {
            let _ = writeln!(text, "{}", g.group);
            group_text(&mut text, g, &r.scales);
        }
        if groups.len() > limit {
            let _ = writeln!(
                text,
                "… {} more groups (-n to show more)",
                groups.len() - limit
            );
        }
    }
    if !r.moments_of_truth.is_empty() {
        text.push_str(
            "\nMoments of truth (effort worse than the scale's middle, negative feeling)\n",
        );
        for m in &r.moments_of_truth {
            let _ = writeln!(
                text,
                "  #{:<18} effort {:.1} ({})   feeling {:+.2} ({})",
                m.touchpoint,
                m.effort,
                plural(m.effort_values, "score"),
                m.valence,
                plural(m.felt_notes, "note")
            );
        }
    }
    text.trim_end().to_owned()
}

fn trend_text(t: &MeasuresTrend, from: &str, to: &str) -> String {
    let mut text = format!(
        "{from} ({} values) → {to} ({} values)\n",
        t.before_values, t.after_values
    );
    for m in &t.measures {
        let side = |s: &Option<MeasureSummary>| {
            s.as_ref()
                .map_or("–".to_owned(), |s| format!("{} (n={})", headline(s), s.n))
        };
        let change = match (m.change, m.p) {
            (Some(c), Some(p)) => format!(
                "{c:+.2}, p={p:.2}{}",
                if p < 0.05 { "" } else { " (no clear change)" }
            ),
            (Some(c), None) => format!("{c:+.2}"),
            _ => "only in one wave".to_owned(),
        };
        let _ = writeln!(
            text,
            "  {:<12} {:>20} → {:<20} {}",
            m.name,
            side(&m.before),
            side(&m.after),
            change
        );
    }
    text.trim_end().to_owned()
}
