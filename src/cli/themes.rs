//! `fieldnotes themes …` and `fieldnotes insight …`: the analysis commands. Each loads the
//! notes that match the same query and filters as `search`, runs one pure analysis from
//! `fieldnotes::analysis`, and prints it (or all of it as JSON).

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use fieldnotes::Archive;
use fieldnotes::analysis::{
    self, AnalysisNote, ContrastBy, KeptTheme, Theme, ThemeSettings, ThemesReport,
    contrast::ContrastReport, journey::JourneyReport, journey::PainsReport, trend::TrendReport,
};
use fieldnotes::archive::ThemeStart;
use fieldnotes::model::InsightConfidence;
use fieldnotes::query::Filters;
use fieldnotes::store::Insight;
use fieldnotes::text::excerpt;
use fieldnotes::time;

use super::output::Out;
use super::{FilterArgs, to_filters};

#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  fieldnotes themes\n  \
    fieldnotes themes --persona busy-parent --touchpoint checkout --since 2026-09-01\n  \
    fieldnotes themes contrast --by persona\n  \
    fieldnotes themes pains\n  \
    fieldnotes themes trend --from 2026-06-01..2026-06-30 --to 2026-09-01..2026-09-30\n  \
    fieldnotes themes keep t1a2b3c4d --label \"Queues at the till\""
)]
pub(crate) struct ThemesArgs {
    #[command(subcommand)]
    command: Option<ThemesCommand>,
    #[command(flatten)]
    scope: NoteSelection,
    /// Find the themes afresh, ignoring the ones last shown for these notes (by default a run
    /// starts from them, so a theme keeps its name while notes arrive)
    #[arg(long)]
    fresh: bool,
}

/// Which notes to analyse: the same query and filters as `search`.
#[derive(Args, Default)]
struct NoteSelection {
    /// A search query narrowing the notes (see `fieldnotes search --help`); empty: all notes
    query: Vec<String>,
    #[command(flatten)]
    filters: FilterArgs,
    /// How many themes (or groups, touchpoints, changes) to show
    #[arg(long, short = 'n', default_value_t = 10)]
    limit: usize,
}

#[derive(Subcommand)]
enum ThemesCommand {
    /// The phrases and tags that set each group apart (weighted log-odds, z-scores)
    Contrast {
        /// persona, touchpoint, study or kind
        #[arg(long, value_parser = parse_by)]
        by: ContrastBy,
        /// The fewest of a group's notes a phrase or tag must be in to count as distinctive
        #[arg(long, default_value_t = analysis::contrast::DEFAULT_MIN_COUNT)]
        min_count: usize,
        #[command(flatten)]
        scope: NoteSelection,
    },
    /// The notes in no theme: what the themes leave unexplained (-n: how many to show)
    Unthemed {
        #[command(flatten)]
        scope: NoteSelection,
    },
    /// Touchpoint × emotion: where negative feeling concentrates, with quotes
    Pains {
        #[command(flatten)]
        scope: NoteSelection,
    },
    /// Mean valence per journey stage and touchpoint, in journey order
    Journey {
        #[command(flatten)]
        scope: NoteSelection,
    },
    /// Themes and tags that grew or shrank between two waves
    #[command(
        after_help = "A wave is a date range (2026-06-01..2026-06-30; either side may be left open) or a study name.\n\
        Example:\n  fieldnotes themes trend --from \"Checkout Q2\" --to \"Checkout Q3\""
    )]
    Trend {
        /// The earlier wave: DATE..DATE or a study name
        #[arg(long, value_name = "WAVE")]
        from: String,
        /// The later wave: DATE..DATE or a study name
        #[arg(long, value_name = "WAVE")]
        to: String,
        #[command(flatten)]
        scope: NoteSelection,
    },
    /// Keep a suggested theme with its evidence notes (give the filters it was found with)
    Keep {
        /// The theme's id, as `fieldnotes themes` shows it
        id: String,
        /// Name it yourself
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        scope: NoteSelection,
    },
    /// Rename a theme (a suggestion is kept under the new name)
    Rename { id: String, label: String },
    /// Merge the second theme into the first (suggestions are kept first)
    Merge { into: String, from: String },
    /// Dismiss a suggested theme so it is not suggested again
    Dismiss { id: String },
}

#[derive(Subcommand)]
pub(crate) enum InsightCommand {
    /// Write an insight backed by the notes that support it; prints its number
    Add {
        /// The statement
        statement: String,
        /// A supporting note's id (repeat for several)
        #[arg(long = "note", required = true, value_name = "ID")]
        notes: Vec<String>,
        /// The kept theme it speaks to
        #[arg(long)]
        theme: Option<String>,
        /// How sure you are of it: low, medium or high (shown beside its evidence count)
        #[arg(long)]
        confidence: Option<InsightConfidence>,
    },
    /// Set how sure you are of an insight: low, medium, high (or `none` to clear it)
    Confidence {
        id: i64,
        /// low, medium, high or none
        #[arg(value_parser = parse_confidence)]
        confidence: ConfidenceArg,
    },
    /// Every insight
    List,
    /// An insight with its supporting notes
    Show { id: i64 },
}

/// A confidence to set, or none to clear it.
#[derive(Clone)]
pub(crate) struct ConfidenceArg(Option<InsightConfidence>);

fn parse_confidence(s: &str) -> Result<ConfidenceArg, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        Ok(ConfidenceArg(None))
    } else {
        s.parse().map(|c| ConfidenceArg(Some(c)))
    }
}

/// "high confidence, 5 notes": an insight's support as a reader weighs it.
pub(crate) fn support_text(insight: &Insight) -> String {
    let notes = match insight.notes.len() {
        1 => "1 note".to_owned(),
        n => format!("{n} notes"),
    };
    match insight.confidence {
        Some(c) => format!("{c} confidence, {notes}"),
        None => notes,
    }
}

fn parse_by(s: &str) -> Result<ContrastBy, String> {
    s.parse()
}

pub(crate) fn run(archive: &mut Archive, args: ThemesArgs, out: &Out) -> Result<()> {
    match args.command {
        None => {
            let scope = args.scope;
            let start = if args.fresh {
                ThemeStart::Afresh
            } else {
                ThemeStart::FromLastShown
            };
            let (_, mut report) = themes_of(archive, &scope, start)?;
            report.themes.truncate(scope.limit);
            out.done(&report, &themes_text(&report))
        }
        Some(ThemesCommand::Contrast {
            by,
            min_count,
            scope,
        }) => {
            let notes = load(archive, &scope)?;
            let report = analysis::contrast(&notes, by, scope.limit, min_count);
            out.done(&report, &contrast_text(&report))
        }
        Some(ThemesCommand::Unthemed { scope }) => {
            let (notes, report) = themes_of(archive, &scope, ThemeStart::FromLastShown)?;
            let themed: std::collections::HashSet<&str> = report
                .themes
                .iter()
                .flat_map(|t| t.notes.iter().map(String::as_str))
                .collect();
            let unthemed: Vec<&AnalysisNote> = notes
                .iter()
                .filter(|n| !themed.contains(n.id.as_str()))
                .collect();
            let shown: Vec<serde_json::Value> = unthemed
                .iter()
                .take(scope.limit)
                .map(|n| serde_json::json!({ "id": n.id, "kind": n.kind, "body": n.body }))
                .collect();
            let mut text = format!(
                "{} of {} notes are in no theme{}\n",
                unthemed.len(),
                notes.len(),
                if unthemed.len() > shown.len() {
                    format!(" (the first {} shown; -n for more)", shown.len())
                } else {
                    String::new()
                }
            );
            for n in unthemed.iter().take(scope.limit) {
                let _ = writeln!(text, "  {}  [{}] {}", n.id, n.kind, excerpt(&n.body, 100));
            }
            out.done(
                &serde_json::json!({
                    "total_notes": notes.len(),
                    "unthemed": unthemed.len(),
                    "notes": shown,
                }),
                text.trim_end(),
            )
        }
        Some(ThemesCommand::Pains { scope }) => {
            let notes = load(archive, &scope)?;
            let mut report = analysis::pains(&notes, &archive.store().stage_map()?);
            report.touchpoints.truncate(scope.limit);
            out.done(&report, &pains_text(&report))
        }
        Some(ThemesCommand::Journey { scope }) => {
            let notes = load(archive, &scope)?;
            let report = analysis::journey(&notes, &archive.store().stage_map()?);
            out.done(&report, &journey_text(&report))
        }
        Some(ThemesCommand::Trend { from, to, scope }) => {
            let notes = load(archive, &scope)?;
            let before_wave = Wave::parse(archive, &from).context("--from")?;
            let after_wave = Wave::parse(archive, &to).context("--to")?;
            let before: Vec<AnalysisNote> = notes
                .iter()
                .filter(|n| before_wave.holds(n))
                .cloned()
                .collect();
            let after: Vec<AnalysisNote> = notes
                .iter()
                .filter(|n| after_wave.holds(n))
                .cloned()
                .collect();
            if before.is_empty() || after.is_empty() {
                bail!(
                    "no notes in the {} wave ({}): check the dates or study name",
                    if before.is_empty() { "--from" } else { "--to" },
                    if before.is_empty() { &from } else { &to }
                );
            }
            let mut report = analysis::trend(
                &before,
                &after,
                &ThemeSettings::default(),
                &archive.store().curation()?,
            );
            report.themes.truncate(scope.limit);
            report.tags.truncate(scope.limit);
            out.done(&report, &trend_text(&report, &from, &to))
        }
        Some(ThemesCommand::Keep { id, label, scope }) => {
            let theme = suggestion(archive, &scope, &id)?;
            let kept = KeptTheme {
                id: theme.id.clone(),
                label: label.unwrap_or(theme.label.clone()),
                phrases: theme.stems.clone(),
                notes: theme.notes.clone(),
            };
            archive.keep_theme(&kept)?;
            out.done(
                &kept,
                &format!(
                    "kept theme {} \"{}\" with {} evidence notes",
                    kept.id,
                    kept.label,
                    kept.notes.len()
                ),
            )
        }
        Some(ThemesCommand::Rename { id, label }) => {
            let label = label.trim().to_owned();
            if label.is_empty() {
                super::usage!("a theme needs a name with some text in it");
            }
            let kept = ensure_kept(archive, &id)?;
            archive.rename_theme(&kept.id, &label)?;
            let kept = archive
                .store()
                .kept_theme(&kept.id)?
                .context("the theme vanished")?;
            out.done(&kept, &format!("renamed theme {} to \"{label}\"", kept.id))
        }
        Some(ThemesCommand::Merge { into, from }) => {
            let a = ensure_kept(archive, &into)?;
            let b = ensure_kept(archive, &from)?;
            let merged = archive.merge_themes(&a.id, &b.id)?;
            out.done(
                &merged,
                &format!(
                    "merged theme {} into {} \"{}\" ({} evidence notes)",
                    b.id,
                    merged.id,
                    merged.label,
                    merged.notes.len()
                ),
            )
        }
        Some(ThemesCommand::Dismiss { id }) => {
            let label = match archive.store().kept_theme(&id)? {
                Some(k) => k.label,
                None => suggestion(archive, &NoteSelection::default(), &id)?.label,
            };
            archive.dismiss_theme(&id, &label)?;
            out.done(
                &serde_json::json!({ "id": id, "label": label, "status": "dismissed" }),
                &format!("dismissed theme {id} \"{label}\": it will not be suggested again"),
            )
        }
    }
}

pub(crate) fn insight(archive: &mut Archive, cmd: InsightCommand, out: &Out) -> Result<()> {
    match cmd {
        InsightCommand::Add {
            statement,
            notes,
            theme,
            confidence,
        } => {
            let ids = notes
                .iter()
                .map(|n| archive.store().resolve_note(n))
                .collect::<fieldnotes::Result<Vec<_>>>()?;
            let insight = archive.add_insight(&statement, &ids, theme.as_deref(), confidence)?;
            out.done(&insight, &insight.id.to_string())
        }
        InsightCommand::Confidence { id, confidence } => {
            let insight = archive.set_insight_confidence(id, confidence.0)?;
            out.done(
                &insight,
                &format!(
                    "{}. {}  ({})",
                    insight.id,
                    insight.statement,
                    support_text(&insight)
                ),
            )
        }
        InsightCommand::List => {
            let all = archive.store().insights()?;
            let mut text = String::new();
            if all.is_empty() {
                text.push_str(
                    "no insights yet: `fieldnotes insight add \"…\" --note ID` writes one\n",
                );
            }
            for i in &all {
                let _ = writeln!(
                    text,
                    "{:>3}. {}  ({}{})",
                    i.id,
                    i.statement,
                    support_text(i),
                    i.theme
                        .as_ref()
                        .map(|t| format!(", theme {t}"))
                        .unwrap_or_default()
                );
            }
            out.done(&all, text.trim_end())
        }
        InsightCommand::Show { id } => {
            let insight = archive.store().insight(id)?;
            let mut notes = Vec::new();
            for n in &insight.notes {
                notes.push(archive.store().note(n)?);
            }
            let mut text = format!("{}. {}\n", insight.id, insight.statement);
            let _ = writeln!(
                text,
                "written {}",
                insight.created_at.format("%Y-%m-%d %H:%M")
            );
            if let Some(t) = &insight.theme {
                let _ = writeln!(text, "theme {t}");
            }
            if let Some(c) = insight.confidence {
                let _ = writeln!(text, "{c} confidence");
            }
            let _ = writeln!(text, "supported by {} notes:", notes.len());
            for n in &notes {
                let _ = writeln!(text, "  {}  {:<14} {}", n.id, n.kind, excerpt(&n.body, 100));
            }
            #[derive(serde::Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                insight: &'a Insight,
                evidence: &'a [fieldnotes::model::Note],
            }
            out.done(
                &Shown {
                    insight: &insight,
                    evidence: &notes,
                },
                text.trim_end(),
            )
        }
    }
}

/// The search and filters a selection stands for.
fn selection(archive: &Archive, scope: &NoteSelection) -> Result<(String, Filters)> {
    Ok((
        scope.query.join(" "),
        to_filters(archive, scope.filters.clone())?,
    ))
}

fn load(archive: &Archive, scope: &NoteSelection) -> Result<Vec<AnalysisNote>> {
    let (query, filters) = selection(archive, scope)?;
    Ok(archive.analysis_notes(&query, &filters)?)
}

/// The themes of the scope's notes, as `fieldnotes themes` shows them.
fn themes_of(
    archive: &Archive,
    scope: &NoteSelection,
    start: ThemeStart,
) -> Result<(Vec<AnalysisNote>, ThemesReport)> {
    let (query, filters) = selection(archive, scope)?;
    Ok(archive.themes(&query, &filters, &ThemeSettings::default(), start)?)
}

/// The current suggestion with this id (or a unique start of it) among the scope's notes.
fn suggestion(archive: &Archive, scope: &NoteSelection, id: &str) -> Result<Theme> {
    let (_, report) = themes_of(archive, scope, ThemeStart::FromLastShown)?;
    let wanted = id.trim().to_lowercase();
    let mut found: Vec<Theme> = report
        .themes
        .into_iter()
        .filter(|t| t.id.starts_with(&wanted))
        .collect();
    match found.len() {
        1 => Ok(found.pop().expect("one")),
        0 => bail!(
            "no suggested theme {id} among these notes: `fieldnotes themes` (with the filters you used) lists the ids"
        ),
        _ => bail!("{id} is the start of more than one theme id: give more characters"),
    }
}

/// A kept theme by id; a current suggestion (over all notes) is kept first.
fn ensure_kept(archive: &Archive, id: &str) -> Result<KeptTheme> {
    if let Some(k) = archive.store().kept_theme(id)? {
        return Ok(k);
    }
    let theme = suggestion(archive, &NoteSelection::default(), id)?;
    let kept = KeptTheme {
        id: theme.id,
        label: theme.label,
        phrases: theme.stems,
        notes: theme.notes,
    };
    archive.keep_theme(&kept)?;
    Ok(kept)
}

/// One wave of a trend: a date range or a study.
pub(crate) enum Wave {
    Dates {
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
    Study(String),
}

impl Wave {
    pub(crate) fn parse(archive: &Archive, s: &str) -> Result<Wave> {
        if let Some((a, b)) = s.split_once("..") {
            let since = match a.trim() {
                "" => None,
                a => Some(time::parse_user(a).map_err(anyhow::Error::msg)?),
            };
            let until = match b.trim() {
                "" => None,
                b => Some(time::parse_user_until(b).map_err(anyhow::Error::msg)?),
            };
            if since.is_none() && until.is_none() {
                super::usage!("{s:?} leaves both ends of the wave open: give at least one date");
            }
            return Ok(Wave::Dates { since, until });
        }
        archive.study_id(s)?;
        Ok(Wave::Study(s.trim().to_owned()))
    }

    fn holds(&self, n: &AnalysisNote) -> bool {
        self.holds_at(&n.study, n.created_at)
    }

    /// Whether something of `study` written `at` falls in the wave.
    pub(crate) fn holds_at(&self, study: &str, at: chrono::DateTime<chrono::Utc>) -> bool {
        match self {
            Wave::Dates { since, until } => {
                since.is_none_or(|t| at >= t) && until.is_none_or(|t| at <= t)
            }
            Wave::Study(s) => study == s,
        }
    }
}

fn valence(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.2}")).unwrap_or_else(|| "–".into())
}

fn themes_text(r: &ThemesReport) -> String {
    let mut t = String::new();
    if r.total_notes == 0 {
        return "no notes match: nothing to find themes in".into();
    }
    let _ = writeln!(
        t,
        "{} themes in {} notes ({:.0}% of the notes are in a theme)",
        r.themes.len(),
        r.total_notes,
        r.coverage * 100.0
    );
    let outside = r.total_notes - r.notes_in_themes;
    if outside > 0 {
        let _ = writeln!(
            t,
            "{outside} notes are in no theme: `fieldnotes themes unthemed` lists them"
        );
    }
    for (i, th) in r.themes.iter().enumerate() {
        let kept = if th.status == analysis::themes::ThemeStatus::Kept {
            "  (kept)"
        } else {
            ""
        };
        let also: Vec<&str> = th
            .phrases
            .iter()
            .filter(|p| **p != th.label)
            .map(String::as_str)
            .collect();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!("  ({})", also.join(", "))
        };
        let _ = writeln!(t, "\n{}. {}{kept}{also}   [{}]", i + 1, th.label, th.id);
        let _ = writeln!(
            t,
            "   {} notes · {} sessions · {} participants · {:.0}% of notes · mean valence {}",
            th.note_count,
            th.sessions,
            th.participants,
            th.share * 100.0,
            valence(th.mean_valence)
        );
        let tags = |shares: &[analysis::TagShare], sigil: char| {
            shares
                .iter()
                .take(5)
                .map(|s| format!("{sigil}{} {}", s.name, s.notes))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !th.personas.is_empty() {
            let _ = writeln!(t, "   personas: {}", tags(&th.personas, '@'));
        }
        if !th.touchpoints.is_empty() {
            let _ = writeln!(t, "   touchpoints: {}", tags(&th.touchpoints, '#'));
        }
        for e in &th.representative {
            let _ = writeln!(t, "   “{}”  ({} {})", excerpt(&e.quote, 110), e.kind, e.id);
        }
    }
    if !r.key_phrases.is_empty() {
        let _ = writeln!(t, "\nKey phrases, most widely recurring first:");
        let phrases: Vec<String> = r
            .key_phrases
            .iter()
            .take(15)
            .map(|k| format!("{} ({} sessions, {} notes)", k.phrase, k.sessions, k.notes))
            .collect();
        let _ = writeln!(t, "  {}", phrases.join(" · "));
    }
    t.trim_end().to_owned()
}

fn contrast_text(r: &ContrastReport) -> String {
    let mut t = String::new();
    if r.groups.is_empty() {
        return format!("no notes carry a {:?} to group by", r.by).to_lowercase();
    }
    let _ = writeln!(
        t,
        "What sets each group apart ({} notes; weighted log-odds z, above 1.96 is a clear difference)",
        r.total_notes
    );
    for g in &r.groups {
        let _ = writeln!(t, "\n{} ({} notes)", g.group, g.notes);
        for (what, list) in [("phrases", &g.phrases), ("tags", &g.tags)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(t, "  {what}:");
            for d in list {
                let _ = writeln!(
                    t,
                    "    {:<28} z {:>5.2}   {} in group, {} elsewhere",
                    d.term, d.z, d.in_group, d.in_rest
                );
            }
        }
    }
    t.trim_end().to_owned()
}

fn pains_text(r: &PainsReport) -> String {
    let mut t = String::new();
    if r.touchpoints.is_empty() {
        return "no notes carry a touchpoint: tag them with #touchpoint to see pain points".into();
    }
    let _ = writeln!(
        t,
        "Pain points, where negative feeling concentrates first:\n"
    );
    let _ = writeln!(
        t,
        "{:<24} {:<9} {:>5} {:>9} {:>9} {:>8}  emotions",
        "touchpoint", "stage", "notes", "negative", "positive", "valence"
    );
    let row = |t: &mut String, p: &analysis::journey::TouchpointPain| {
        let emotions: Vec<String> = p
            .emotions
            .iter()
            .take(4)
            .map(|(e, c)| format!("!{e} {c}"))
            .collect();
        let _ = writeln!(
            t,
            "{:<24} {:<9} {:>5} {:>9} {:>9} {:>8}  {}",
            p.touchpoint,
            p.stage.as_deref().unwrap_or("–"),
            p.notes,
            p.negative_notes,
            p.positive_notes,
            valence(p.mean_valence),
            emotions.join(", ")
        );
    };
    for p in &r.touchpoints {
        row(&mut t, p);
    }
    for w in &r.worst {
        let _ = writeln!(t, "\n#{}:", w.touchpoint);
        for q in &w.quotes {
            let _ = writeln!(t, "  “{}”  ({} {})", excerpt(&q.quote, 110), q.kind, q.id);
        }
    }
    for lane in &r.lanes {
        let _ = writeln!(t, "\n{} lane:", lane.lane);
        for p in &lane.touchpoints {
            row(&mut t, p);
        }
    }
    t.trim_end().to_owned()
}

fn journey_text(r: &JourneyReport) -> String {
    let mut t = String::new();
    if r.points.is_empty() {
        return "no notes carry a touchpoint: tag them with #touchpoint to see the journey".into();
    }
    let _ = writeln!(
        t,
        "{:<28} {:>5} {:>6} {:>8} {:>7}  curve (−2 … +2)",
        "stage / touchpoint", "notes", "rated", "valence", "effort"
    );
    for p in &r.points {
        let name = match (&p.touchpoint, &p.stage) {
            (None, Some(s)) => s.to_uppercase(),
            (None, None) => "NO STAGE".into(),
            (Some(tp), _) => format!("  #{tp}"),
        };
        let bar = p.mean_valence.map(bar).unwrap_or_default();
        let lanes: Vec<String> = p
            .lanes
            .iter()
            .map(|(l, v)| format!("{l} {v:+.2}"))
            .collect();
        let _ = writeln!(
            t,
            "{:<28} {:>5} {:>6} {:>8} {:>7}  {bar}{}",
            name,
            p.notes,
            p.rated_notes,
            valence(p.mean_valence),
            p.mean_effort.map_or("–".to_owned(), |e| format!("{e:.1}")),
            if lanes.is_empty() {
                String::new()
            } else {
                format!("   ({})", lanes.join(", "))
            }
        );
    }
    t.push_str("effort: mean %ces (1–7, 7 effortless) of the notes that give one\n");
    t.trim_end().to_owned()
}

/// A text bar centred on zero: `····|███ ` for +0.75.
fn bar(v: f64) -> String {
    let cells = (v.clamp(-2.0, 2.0) * 2.0).round() as i32;
    let mut s = String::new();
    for i in -4..=4 {
        s.push(match i {
            0 => '|',
            i if i < 0 && cells <= i => '█',
            i if i > 0 && cells >= i => '█',
            _ => '·',
        });
    }
    s
}

fn trend_text(r: &TrendReport, from: &str, to: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "From {from} ({} notes) to {to} ({} notes); p < 0.05 marks a clear change",
        r.before_notes, r.after_notes
    );
    for (title, list) in [("Themes", &r.themes), ("Tags", &r.tags)] {
        let _ = writeln!(t, "\n{title}:");
        for c in list.iter() {
            let _ = writeln!(
                t,
                "  {:<7} {:<40} {:>4} → {:<4} ({:>3.0}% → {:>3.0}%)  z {:>5.2}  p {:.3}",
                format!("{:?}", c.direction).to_lowercase(),
                excerpt(&c.name, 40),
                c.before,
                c.after,
                c.before_share * 100.0,
                c.after_share * 100.0,
                c.z,
                c.p
            );
        }
    }
    t.trim_end().to_owned()
}
