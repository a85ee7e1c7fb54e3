//! The findings report: what the notes of a scope show — the scope and method, the themes
//! with their evidence, the pains heat map, the journey curve, what sets each persona apart,
//! the mystery-shop scores and the researchers' insights — as one self-contained HTML page
//! ([`html`]) or as Markdown ([`markdown`], which also lists every note: `export -o x.md`).
//!
//! Three steps. [`read`] takes what the report needs from the archive and runs each analysis
//! once into a [`ReportData`]: redacted (pseudonyms, masked details, no notes without consent,
//! through the exports' own [`Redactor`](crate::io::redact::Redactor)) and cut to the sizes
//! below. Each section (`sections.rs`) is then a pure function from that data to HTML and to
//! Markdown, so both formats say the same things, and a new section (the measures, once the
//! archive records them) is one more entry in one list.
//!
//! The limits keep an HTML report of any archive under 2 MB: every list shown is cut to a
//! fixed length and every text to a fixed number of characters (see `html::tests`).

pub mod html;
pub mod markdown;
mod read;
mod sections;
mod svg;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::analysis::contrast::ContrastReport;
use crate::analysis::journey::JourneyPoint;
use crate::io::export::SessionLine;
use crate::model::{Facet, NoteKind, SessionKind};
use crate::mystery_shop::ReportGroup;

pub use read::{Privacy, ReportRequest, Selection, read};

/// Themes shown, largest recurrence first.
pub const THEMES_SHOWN: usize = 10;
/// Characters of a quoted note.
pub const QUOTE_CHARS: usize = 400;
/// Characters of a name: a theme's label, a tag, a location, a study, a session.
pub const NAME_CHARS: usize = 80;
/// Touchpoints (rows) and emotions (columns) of the pains heat map.
pub const HEAT_ROWS: usize = 12;
pub const HEAT_COLUMNS: usize = 8;
/// Notes quoted for each of the worst touchpoints.
pub const PAIN_QUOTES: usize = 2;
/// Rows of the journey table (stages and their touchpoints).
pub const JOURNEY_ROWS: usize = 60;
/// Personas contrasted, and phrases and tags shown for each.
pub const PERSONAS_SHOWN: usize = 12;
pub const TERMS_PER_PERSONA: usize = 5;
/// Locations and months of the mystery-shop scores, and low-scoring notes quoted.
pub const LOCATIONS_SHOWN: usize = 20;
pub const MONTHS_SHOWN: usize = 24;
pub const LOW_NOTES_SHOWN: usize = 5;
/// Insights shown, the characters of a statement and the notes quoted for each.
pub const INSIGHTS_SHOWN: usize = 30;
pub const STATEMENT_CHARS: usize = 600;
pub const NOTES_PER_INSIGHT: usize = 3;
/// Studies and sessions listed in the scope.
pub const STUDIES_SHOWN: usize = 20;

/// Everything a report says, computed once, redacted and cut to size.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub title: String,
    /// How the notes were chosen, one item each (`search: wait`, `study: Checkout Q3`);
    /// empty for the whole archive.
    pub selection: Vec<String>,
    pub privacy: Privacy,
    pub figures: Figures,
    pub themes: Themes,
    pub pains: Pains,
    pub journey: Journey,
    /// What sets each persona apart: phrases and tags, by weighted log-odds.
    pub personas: ContrastReport,
    pub visits: Visits,
    pub insights: Insights,
    /// The sessions of the notes, in the order they started.
    pub sessions: Vec<SessionLine>,
    /// Every note, in the order written, when the request asks for them (Markdown).
    #[serde(skip_serializing)]
    pub notes: Vec<Quote>,
    /// Each tag (as typed: `#checkout`) with the number of notes carrying it, by facet, most
    /// used first.
    pub tags: Vec<(Facet, String, usize)>,
}

/// The scope in numbers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub notes: usize,
    /// Notes left out: a participant of theirs has no recorded consent.
    pub withheld: usize,
    pub sessions: usize,
    pub participants: usize,
    /// Each study with its number of notes, most notes first.
    pub studies: Vec<(String, usize)>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub note_kinds: Vec<(NoteKind, usize)>,
    pub session_kinds: Vec<(SessionKind, usize)>,
}

/// A note as a report quotes it.
#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub id: String,
    pub kind: NoteKind,
    /// Redacted, and on one line and cut to [`QUOTE_CHARS`] except in the list of every note.
    pub text: String,
    /// Who said it (a quote's speaker), as the report names them.
    pub speaker: Option<String>,
    /// Its session, as the report names it.
    pub session: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Themes {
    pub total_notes: usize,
    pub notes_in_themes: usize,
    pub shown: Vec<ThemeFinding>,
    /// Themes found but not shown (past [`THEMES_SHOWN`]).
    pub more: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThemeFinding {
    pub id: String,
    pub label: String,
    /// Kept by a researcher (not only suggested).
    pub kept: bool,
    /// Other phrases that name it.
    pub phrases: Vec<String>,
    pub notes: usize,
    pub sessions: usize,
    pub participants: usize,
    /// Share of the report's notes (0–1).
    pub share: f64,
    pub mean_valence: Option<f64>,
    /// The personas and touchpoints of its notes, most common first: (tag name, notes).
    pub personas: Vec<(String, usize)>,
    pub touchpoints: Vec<(String, usize)>,
    pub quotes: Vec<Quote>,
}

/// Where negative feeling concentrates: touchpoints × emotions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pains {
    /// Emotion names with their valence (−2…+2), most negative first: the columns.
    pub emotions: Vec<(String, Option<i64>)>,
    /// Touchpoints, worst first: the rows.
    pub rows: Vec<PainRow>,
    /// Touchpoints with notes but not shown (past [`HEAT_ROWS`]).
    pub more: usize,
    /// The worst touchpoints' most negative notes.
    pub worst: Vec<(String, Vec<Quote>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PainRow {
    pub touchpoint: String,
    pub stage: Option<String>,
    pub notes: usize,
    pub negative_notes: usize,
    pub mean_valence: Option<f64>,
    /// Notes carrying each emotion of [`Pains::emotions`], in that order.
    pub cells: Vec<usize>,
}

/// The journey: feeling (and, given, other measures) along the stages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Journey {
    /// Stage rows, each followed by its touchpoints, in journey order.
    pub points: Vec<JourneyPoint>,
    /// Rows not shown (past [`JOURNEY_ROWS`]).
    pub more: usize,
    /// The curve over the stages: one value per stage of [`Journey::stages`] and series.
    pub stages: Vec<String>,
    pub series: Vec<Series>,
}

/// One line of a chart: a value (or none) per category, on its own scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub scale: Scale,
}

/// The range a series is drawn over, and how its values read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scale {
    pub min: f64,
    pub max: f64,
    /// Values shown with a sign (feelings: +0.5, −1.2).
    pub signed: bool,
}

impl Scale {
    /// Feelings: valence from −2 to +2.
    pub const VALENCE: Scale = Scale {
        min: -2.0,
        max: 2.0,
        signed: true,
    };
    /// Mystery-shop scores: 0 to 100.
    pub const SCORE: Scale = Scale {
        min: 0.0,
        max: 100.0,
        signed: false,
    };

    pub fn label(&self, v: f64) -> String {
        if v.abs() < 0.05 {
            "0".into()
        } else if self.signed {
            format!("{v:+.1}").replace('-', "−")
        } else if self.max - self.min > 20.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    }
}

/// Mystery-shop visits in scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Visits {
    pub visits: usize,
    /// By location, worst mean first (without their criteria: see `worst_criteria`).
    pub locations: Vec<ReportGroup>,
    pub more_locations: usize,
    /// By month, in order.
    pub months: Vec<ReportGroup>,
    /// The mean score of each shown location (series) in each shown month (categories).
    pub by_location_and_month: Vec<Series>,
    /// The worst criteria over all visits: (criterion, question, mean, visits).
    pub worst_criteria: Vec<(String, String, f64, usize)>,
    /// Notes beside answers that scored under half marks: (criterion, score, note).
    pub low_notes: Vec<(String, f64, Quote)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Insights {
    pub shown: Vec<InsightFinding>,
    /// Insights in scope but not shown (past [`INSIGHTS_SHOWN`]).
    pub more: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct InsightFinding {
    pub id: i64,
    pub statement: String,
    /// The kept theme it speaks to (its label).
    pub theme: Option<String>,
    /// Its supporting notes in the report (others are out of scope or withheld).
    pub notes: usize,
    pub quotes: Vec<Quote>,
}

/// What writing a report did: for the command's message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    pub notes: u64,
    pub withheld: u64,
    pub bytes: u64,
}

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Markdown,
}

impl ReportFormat {
    /// From a file name: `.html`/`.htm` or `.md`/`.markdown`.
    pub fn from_path(path: &std::path::Path) -> Option<ReportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "html" | "htm" => Some(ReportFormat::Html),
            "md" | "markdown" => Some(ReportFormat::Markdown),
            _ => None,
        }
    }

    /// The report as this format writes it.
    pub fn render(self, data: &ReportData) -> String {
        match self {
            ReportFormat::Html => html::page(data),
            ReportFormat::Markdown => markdown::document(data),
        }
    }
}

impl ReportData {
    /// The summary a command reports after writing `bytes` of it.
    pub fn summary(&self, bytes: usize) -> ReportSummary {
        ReportSummary {
            notes: self.figures.notes as u64,
            withheld: self.figures.withheld as u64,
            bytes: bytes as u64,
        }
    }
}

/// The Markdown report an export writes (`export -o x.md`): the notes of the export's scope,
/// redacted when it asks, every note listed.
pub fn export_markdown(
    archive: &crate::Archive,
    options: &crate::io::ExportOptions,
    out: &mut dyn std::io::Write,
) -> crate::Result<crate::io::ExportSummary> {
    use crate::io::Scope;
    use crate::query::Filters;
    let search = |filters: Filters| Selection::Search {
        query: String::new(),
        filters,
    };
    let (selection, title) = match &options.scope {
        Scope::All => (search(Filters::default()), None),
        Scope::Session(id) => (
            search(Filters {
                session: Some(id.clone()),
                ..Filters::default()
            }),
            None,
        ),
        Scope::Study(name) => (
            search(Filters {
                study: Some(archive.study_id(name)?),
                ..Filters::default()
            }),
            Some(name.clone()),
        ),
        Scope::Notes(ids) => (Selection::Notes(ids.clone()), None),
    };
    let data = read(
        archive,
        &ReportRequest {
            selection,
            title,
            privacy: if options.redact {
                Privacy::Pseudonyms
            } else {
                Privacy::Open
            },
            every_note: true,
        },
    )?;
    out.write_all(markdown::document(&data).as_bytes())
        .map_err(|e| crate::Error::io("cannot write the report", e))?;
    Ok(crate::io::ExportSummary {
        notes: data.figures.notes as u64,
        withheld: data.figures.withheld as u64,
    })
}
