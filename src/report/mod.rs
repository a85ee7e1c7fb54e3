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

/// The most notes the analyses of words (themes, what sets personas apart) read: a larger
/// scope is read through an even sample of this many, so that a report of any archive is
/// written in seconds. Counts of tags, feelings, visits and insights are over every note.
pub const TEXT_SAMPLE: usize = 10_000;
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
/// Touchpoints the measures table shows.
pub const MEASURE_GROUPS: usize = 12;
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
    /// How many notes the themes and the persona contrast read, when they read an even
    /// sample ([`TEXT_SAMPLE`]) rather than every note of the report.
    pub sampled: Option<usize>,
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
    /// NPS, satisfaction, effort and confidence, over all and by touchpoint (groups cut to
    /// [`MEASURE_GROUPS`]), with the moments of truth.
    pub measures: crate::analysis::MeasuresReport,
    /// What redaction masked, by kind (empty when open).
    #[serde(skip_serializing)]
    pub masked: std::collections::BTreeMap<String, u64>,
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
    /// How sure the researchers are of it.
    pub confidence: Option<crate::model::InsightConfidence>,
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
            mask_names: options.mask_names.clone(),
        },
    )?;
    out.write_all(markdown::document(&data).as_bytes())
        .map_err(|e| crate::Error::io("cannot write the report", e))?;
    Ok(crate::io::ExportSummary {
        notes: data.figures.notes as u64,
        withheld: data.figures.withheld as u64,
        masked: data.masked.clone(),
    })
}

/// The largest measures a report shows: every built-in measure in every group, the moments
/// of truth as many as kept.
#[cfg(test)]
fn worst_measures(name: String) -> crate::analysis::MeasuresReport {
    use crate::analysis::measures::{Bucket, MeasureGroup, MeasureSummary, MomentOfTruth, Nps};
    let scales = crate::model::built_in_scales();
    let summary = |s: &crate::model::MeasureScale| MeasureSummary {
        name: s.name.clone(),
        n: 1_000_000,
        mean: 3.333,
        margin: 0.001,
        distribution: (0..=10)
            .map(|v| Bucket {
                value: f64::from(v),
                count: 100_000,
            })
            .collect(),
        top_two: Some(0.5),
        nps: Some(Nps {
            promoters: 333_333,
            passives: 333_333,
            detractors: 333_334,
            score: -0.0,
            margin: 0.19,
        }),
        goodness: 0.5,
        notes: Vec::new(),
    };
    crate::analysis::MeasuresReport {
        by: Some(crate::analysis::MeasureBy::Touchpoint),
        groups: (0..=MEASURE_GROUPS)
            .map(|_| MeasureGroup {
                group: name.clone(),
                measures: scales.iter().map(summary).collect(),
            })
            .collect(),
        moments_of_truth: (0..MEASURE_GROUPS)
            .map(|_| MomentOfTruth {
                touchpoint: name.clone(),
                effort: 1.0,
                effort_values: 1_000_000,
                valence: -2.0,
                felt_notes: 1_000_000,
                severity: 2.0,
            })
            .collect(),
        scales,
        ignored: 1_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::contrast::{ContrastBy, Distinctive, GroupContrast};

    /// `n` characters that HTML escaping makes longest (`"` becomes six bytes).
    fn worst(n: usize) -> String {
        "\"".repeat(n)
    }

    fn quote() -> Quote {
        Quote {
            id: "01K4A000000000000000000000".into(),
            kind: NoteKind::Quote,
            text: worst(QUOTE_CHARS),
            speaker: Some(worst(NAME_CHARS)),
            session: format!("{} (2026-09-03)", worst(NAME_CHARS)),
            created_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        }
    }

    fn group(name: String) -> ReportGroup {
        ReportGroup {
            group: name,
            visits: 1_000_000,
            mean: Some(55.5),
            spread: Some(20.0),
            min: Some(0.0),
            max: Some(100.0),
            criteria: Vec::new(),
        }
    }

    /// A report with every list at its limit and every text at its length, all of it the
    /// characters escaping lengthens most: the largest page any archive can give.
    fn largest() -> ReportData {
        let distinctive = |_| Distinctive {
            term: worst(NAME_CHARS),
            z: 99.99,
            log_odds: 9.99,
            in_group: 1_000_000,
            in_rest: 1_000_000,
        };
        let stages: Vec<String> = crate::store::JOURNEY_STAGES
            .iter()
            .map(|s| s.to_string())
            .chain(["no stage".to_owned()])
            .collect();
        let months: Vec<ReportGroup> = (0..MONTHS_SHOWN)
            .map(|m| group(format!("2026-{m:02}")))
            .collect();
        ReportData {
            title: worst(NAME_CHARS),
            selection: (0..12).map(|_| worst(NAME_CHARS + 10)).collect(),
            privacy: Privacy::ConsentedNames,
            sampled: Some(TEXT_SAMPLE),
            figures: Figures {
                notes: 1_000_000_000,
                withheld: 1_000_000_000,
                sessions: 1_000_000,
                participants: 1_000_000,
                studies: (0..1000).map(|_| (worst(NAME_CHARS), 1_000_000)).collect(),
                first: Some(DateTime::from_timestamp(0, 0).unwrap()),
                last: Some(DateTime::from_timestamp(1_790_000_000, 0).unwrap()),
                note_kinds: NoteKind::ALL.iter().map(|k| (*k, 1_000_000)).collect(),
                session_kinds: SessionKind::ALL.iter().map(|k| (*k, 1_000_000)).collect(),
            },
            themes: Themes {
                total_notes: 1_000_000_000,
                notes_in_themes: 1_000_000_000,
                more: 1000,
                shown: (0..THEMES_SHOWN)
                    .map(|i| ThemeFinding {
                        id: format!("t{i:08x}"),
                        label: worst(NAME_CHARS),
                        kept: true,
                        phrases: (0..3).map(|_| worst(NAME_CHARS)).collect(),
                        notes: 1_000_000,
                        sessions: 1_000_000,
                        participants: 1_000_000,
                        share: 1.0,
                        mean_valence: Some(-2.0),
                        personas: (0..5).map(|_| (worst(NAME_CHARS), 1_000_000)).collect(),
                        touchpoints: (0..5).map(|_| (worst(NAME_CHARS), 1_000_000)).collect(),
                        quotes: (0..3).map(|_| quote()).collect(),
                    })
                    .collect(),
            },
            pains: Pains {
                emotions: (0..HEAT_COLUMNS)
                    .map(|_| (worst(NAME_CHARS), Some(-2)))
                    .collect(),
                rows: (0..HEAT_ROWS)
                    .map(|_| PainRow {
                        touchpoint: worst(NAME_CHARS),
                        stage: Some("consider".into()),
                        notes: 1_000_000,
                        negative_notes: 1_000_000,
                        mean_valence: Some(-1.25),
                        cells: vec![1_000_000; HEAT_COLUMNS],
                    })
                    .collect(),
                more: 1000,
                worst: (0..3)
                    .map(|_| {
                        (
                            worst(NAME_CHARS),
                            (0..PAIN_QUOTES).map(|_| quote()).collect(),
                        )
                    })
                    .collect(),
            },
            journey: Journey {
                points: (0..JOURNEY_ROWS)
                    .map(|_| JourneyPoint {
                        stage: Some("consider".into()),
                        touchpoint: Some(worst(NAME_CHARS)),
                        notes: 1_000_000,
                        rated_notes: 1_000_000,
                        mean_valence: Some(-1.25),
                        lanes: [("onstage".into(), -1.5), ("backstage".into(), 1.5)].into(),
                        mean_effort: Some(3.25),
                        effort_values: 1_000_000,
                    })
                    .collect(),
                more: 1000,
                series: (0..4)
                    .map(|k| Series {
                        name: worst(NAME_CHARS),
                        values: vec![Some(-1.25); stages.len()],
                        scale: if k == 3 {
                            Scale {
                                min: 1.0,
                                max: 7.0,
                                signed: false,
                            }
                        } else {
                            Scale::VALENCE
                        },
                    })
                    .collect(),
                stages,
            },
            personas: ContrastReport {
                by: ContrastBy::Persona,
                total_notes: 1_000_000_000,
                ungrouped_notes: 0,
                groups: (0..PERSONAS_SHOWN)
                    .map(|_| GroupContrast {
                        group: worst(NAME_CHARS),
                        notes: 1_000_000,
                        phrases: (0..TERMS_PER_PERSONA).map(distinctive).collect(),
                        tags: (0..TERMS_PER_PERSONA).map(distinctive).collect(),
                    })
                    .collect(),
            },
            visits: Visits {
                visits: 1_000_000,
                locations: (0..LOCATIONS_SHOWN)
                    .map(|_| group(worst(NAME_CHARS)))
                    .collect(),
                more_locations: 1000,
                by_location_and_month: (0..6)
                    .map(|_| Series {
                        name: worst(NAME_CHARS),
                        values: vec![Some(55.5); months.len()],
                        scale: Scale::SCORE,
                    })
                    .collect(),
                months,
                worst_criteria: (0..5)
                    .map(|_| (worst(NAME_CHARS), worst(QUOTE_CHARS), 12.5, 1_000_000))
                    .collect(),
                low_notes: (0..LOW_NOTES_SHOWN)
                    .map(|_| (worst(NAME_CHARS), 12.5, quote()))
                    .collect(),
            },
            insights: Insights {
                more: 1000,
                shown: (0..INSIGHTS_SHOWN)
                    .map(|i| InsightFinding {
                        id: i as i64,
                        statement: worst(STATEMENT_CHARS),
                        theme: Some(worst(NAME_CHARS)),
                        notes: 1_000_000,
                        quotes: (0..NOTES_PER_INSIGHT).map(|_| quote()).collect(),
                        confidence: Some(crate::model::InsightConfidence::Medium),
                    })
                    .collect(),
            },
            sessions: Vec::new(),
            notes: Vec::new(),
            tags: Vec::new(),
            measures: worst_measures(worst(NAME_CHARS)),
            masked: Default::default(),
        }
    }

    #[test]
    fn no_archive_makes_an_html_report_over_two_megabytes() {
        let page = html::page(&largest());
        assert!(page.len() < 2_000_000, "{} bytes", page.len());
        // And the page is that large because it holds all of it, escaped.
        assert!(page.len() > 500_000, "{} bytes", page.len());
        assert!(!page.contains("\"\"\""));
        // A scope larger than the sample says where its themes and contrasts come from.
        assert_eq!(
            page.matches("Found in an even sample of 10,000 of the 1,000,000,000 notes")
                .count(),
            2
        );
        assert!(page.contains("found in an even sample of them (every k-th note)"));
        println!("the largest report page: {} bytes", page.len());
    }
}
