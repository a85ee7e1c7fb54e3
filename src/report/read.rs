//! The one step that reads the archive: the notes in scope, their sessions, the analyses,
//! the visits and the insights, redacted and cut into a [`ReportData`].

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::*;
use crate::Archive;
use crate::analysis::{self, AnalysisNote, ContrastBy, ThemeSettings};
use crate::archive::{ThemeStart, theme_scope};
use crate::error::Result;
use crate::io::export::session_line;
use crate::io::redact::Redactor;
use crate::model::{Facet, Tag};
use crate::mystery_shop::{GroupBy, ReportGroup, ScoredVisit};
use crate::query::Filters;
use crate::text::{cut, excerpt, one_line};

/// Which notes a report covers.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// The notes a search finds, as `fieldnotes search` and `themes` take it; every live note
    /// when both are empty.
    Search { query: String, filters: Filters },
    /// These notes (the app's search results).
    Notes(Vec<String>),
}

/// Whom a report names and which notes it may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privacy {
    /// Names, contact details and every note as the archive holds them (`export -o x.md`
    /// without `--redact`).
    Open,
    /// Every participant under a pseudonym (P1, P2…), contact details masked, notes of
    /// participants without recorded consent left out: the report's default, and what
    /// `export --redact` does.
    Pseudonyms,
    /// The same, except that participants with recorded consent keep their names
    /// (`report --names`).
    ConsentedNames,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportRequest {
    pub selection: Selection,
    /// The report's title [default: the study or session it covers, else "All studies"].
    pub title: Option<String>,
    pub privacy: Privacy,
    /// List every note too (the Markdown report does; the HTML page keeps to the findings).
    pub every_note: bool,
    /// Other people's names to mask as `[name]` when redacting, beside the studies' lists.
    pub mask_names: Vec<String>,
}

/// Reads the archive for a report and runs its analyses, once.
pub fn read(archive: &Archive, request: &ReportRequest) -> Result<ReportData> {
    let store = archive.store();
    let (ids, theme_start) = match &request.selection {
        Selection::Search { query, filters } => (
            archive.selected_ids(query, filters)?,
            (theme_scope(query, filters), ThemeStart::FromLastShown),
        ),
        Selection::Notes(ids) => (Some(ids.clone()), (String::new(), ThemeStart::Afresh)),
    };
    let whole_archive = ids.is_none();
    let mut notes = store.analysis_notes(ids.as_deref())?;
    let mut other_names = store.masked_names(None)?;
    other_names.extend(request.mask_names.iter().cloned());
    let redactor = match request.privacy {
        Privacy::Open => None,
        Privacy::Pseudonyms => Some(Redactor::new(store, &other_names)?),
        Privacy::ConsentedNames => Some(Redactor::keeping_consented_names(store, &other_names)?),
    };
    let before = notes.len();
    if let Some(r) = &redactor {
        notes.retain(|n| !r.withholds(n.speaker.as_deref(), &n.participants));
    }
    let withheld = before - notes.len();
    // Every analysis reads the tags an export would carry: named after people, under their
    // pseudonym; typed in words redaction masked (a handle), gone with them.
    if let Some(r) = &redactor {
        // Redacting every note's text is most of a large report's time: both cores share it.
        use rayon::prelude::*;
        notes.par_iter_mut().for_each(|n| {
            n.tags = crate::io::export::redact_text_and_tags(r, &n.body, &n.tags).1;
        });
    }
    let clean = Clean(redactor.as_ref());

    let mut sessions = Vec::new();
    let mut labels: HashMap<String, String> = HashMap::new();
    {
        let mut ids: Vec<&str> = notes.iter().map(|n| n.session.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let (line, _) = session_line(store, id, redactor.as_ref())?;
            labels.insert(id.to_owned(), session_label(&line));
            sessions.push(line);
        }
    }
    sessions.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));

    let by_id: HashMap<&str, &AnalysisNote> = notes.iter().map(|n| (n.id.as_str(), n)).collect();
    let quote = |n: &AnalysisNote| Quote {
        id: n.id.clone(),
        kind: n.kind,
        text: cut(&one_line(&clean.text(&n.body)), QUOTE_CHARS),
        speaker: n
            .speaker
            .as_deref()
            .map(|s| cut(&clean.participant(s), NAME_CHARS)),
        session: labels.get(&n.session).cloned().unwrap_or_default(),
        created_at: n.created_at,
    };
    let quote_of = |id: &str| by_id.get(id).map(|n| quote(n));

    let title = match &request.title {
        Some(t) => excerpt(t, NAME_CHARS),
        None => default_title(&request.selection, &sessions),
    };
    let selection = describe(&request.selection, &sessions, &clean);
    let figures = figures(&notes, &sessions, withheld);

    // The analyses of the notes' words read an even sample of a large scope, so a report of
    // any archive is written in seconds; they run beside those of the tags, on two threads.
    let sample: Option<Vec<AnalysisNote>> = (notes.len() > TEXT_SAMPLE).then(|| {
        analysis::even_sample(&notes, TEXT_SAMPLE)
            .cloned()
            .collect()
    });
    let read_words = sample.as_deref().unwrap_or(&notes);
    let curation = archive.theme_curation(&theme_start.0, theme_start.1)?;
    let stages = store.stage_map()?;
    // The themes take longest (on both cores, in parts); the contrast of personas, then the
    // pains and the journey, run beside them on a thread of their own.
    let (found, (mut personas, pains_found, journey_found)) = std::thread::scope(|s| {
        let others = s.spawn(|| {
            let personas = analysis::contrast(
                read_words,
                ContrastBy::Persona,
                TERMS_PER_PERSONA,
                analysis::contrast::DEFAULT_MIN_COUNT,
            );
            let pains = analysis::pains(&notes, &stages);
            let journey = analysis::journey(&notes, &stages);
            (personas, pains, journey)
        });
        let themes = analysis::themes(read_words, &ThemeSettings::default(), &curation);
        let others = others.join().expect("the contrast's thread does not panic");
        (themes, others)
    });
    let themes = Themes {
        total_notes: found.total_notes,
        notes_in_themes: found.notes_in_themes,
        more: found.themes.len().saturating_sub(THEMES_SHOWN),
        shown: found
            .themes
            .iter()
            .take(THEMES_SHOWN)
            .map(|t| ThemeFinding {
                id: t.id.clone(),
                label: clean.name(&t.label),
                kept: t.status == analysis::themes::ThemeStatus::Kept,
                phrases: t
                    .phrases
                    .iter()
                    .filter(|p| **p != t.label)
                    .take(3)
                    .map(|p| clean.name(p))
                    .collect(),
                notes: t.note_count,
                sessions: t.sessions,
                participants: t.participants,
                share: t.share,
                mean_valence: t.mean_valence,
                personas: shares(&t.personas, Facet::Persona, &clean),
                touchpoints: shares(&t.touchpoints, Facet::Touchpoint, &clean),
                quotes: t
                    .representative
                    .iter()
                    .filter_map(|e| quote_of(&e.id))
                    .collect(),
            })
            .collect(),
    };

    let pains = pains(&pains_found, &store.valences()?, &clean, &quote_of);
    let journey = journey(&journey_found, &clean);
    personas.groups.sort_by_key(|g| std::cmp::Reverse(g.notes));
    personas.groups.truncate(PERSONAS_SHOWN);
    for g in &mut personas.groups {
        g.group = clean.tag(Facet::Persona, &g.group);
        for d in &mut g.phrases {
            d.term = clean.name(&d.term);
        }
        for d in &mut g.tags {
            d.term = match Tag::parse_token(&d.term) {
                Some(t) => clean.tag(t.facet, &t.name),
                None => clean.name(&d.term),
            };
        }
    }

    let session_ids: HashSet<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    let scored: Vec<ScoredVisit> = store
        .scored_visits()?
        .into_iter()
        .filter(|v| whole_archive || session_ids.contains(v.session.as_str()))
        .map(|mut v| {
            v.location = v.location.map(|l| clean.name(&l));
            v
        })
        .collect();
    let visits = visits(&scored, &quote_of);

    let mut insights = Insights::default();
    let kept: HashMap<String, String> = store
        .curation()?
        .kept
        .into_iter()
        .map(|k| (k.id, k.label))
        .collect();
    for i in store.insights()? {
        let quotes: Vec<Quote> = i.notes.iter().filter_map(|id| quote_of(id)).collect();
        if quotes.is_empty() {
            continue;
        }
        if insights.shown.len() == INSIGHTS_SHOWN {
            insights.more += 1;
            continue;
        }
        insights.shown.push(InsightFinding {
            id: i.id,
            statement: cut(&one_line(&clean.text(&i.statement)), STATEMENT_CHARS),
            theme: i
                .theme
                .map(|t| clean.name(kept.get(&t).map_or(&t, |label| label))),
            notes: quotes.len(),
            quotes: quotes.into_iter().take(NOTES_PER_INSIGHT).collect(),
            confidence: i.confidence,
        });
    }

    let every_note = if request.every_note {
        let mut all: Vec<&AnalysisNote> = notes.iter().collect();
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        all.into_iter()
            .map(|n| Quote {
                text: clean.text(&n.body),
                ..quote(n)
            })
            .collect()
    } else {
        Vec::new()
    };

    let mut tag_counts: BTreeMap<Tag, usize> = BTreeMap::new();
    for n in &notes {
        for t in &n.tags {
            *tag_counts.entry(t.clone()).or_default() += 1;
        }
    }
    let mut tags: Vec<(Tag, usize)> = tag_counts.into_iter().collect();
    tags.sort_by(|a, b| {
        a.0.facet
            .cmp(&b.0.facet)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    let tags = tags
        .into_iter()
        .map(|(t, n)| (t.facet, t.to_string(), n))
        .collect();

    let measures = {
        let mut sessions: Vec<String> = notes.iter().map(|n| n.session.clone()).collect();
        sessions.sort();
        sessions.dedup();
        let values = analysis::measure_values(&notes, &store.session_measures(Some(&sessions))?);
        let mut report = analysis::measures(
            &values,
            &notes,
            &store.all_measure_scales()?,
            Some(analysis::MeasureBy::Touchpoint),
        );
        report.groups.truncate(1 + super::MEASURE_GROUPS);
        for g in report.groups.iter_mut().skip(1) {
            g.group = clean.name(&g.group);
            for m in &mut g.measures {
                m.notes.clear();
            }
        }
        for m in &mut report.groups[0].measures {
            m.notes.clear();
        }
        report.moments_of_truth.truncate(super::MEASURE_GROUPS);
        for m in &mut report.moments_of_truth {
            m.touchpoint = clean.name(&m.touchpoint);
        }
        report
    };

    Ok(ReportData {
        measures,
        masked: redactor.as_ref().map(|r| r.masked()).unwrap_or_default(),
        title,
        selection,
        sampled: sample.map(|s| s.len()),
        privacy: request.privacy,
        figures,
        themes,
        pains,
        journey,
        personas,
        visits,
        insights,
        sessions,
        notes: every_note,
        tags,
    })
}

/// Redaction as the request asks for it, or none.
struct Clean<'a>(Option<&'a Redactor>);

impl Clean<'_> {
    fn text(&self, text: &str) -> String {
        match self.0 {
            Some(r) => r.text(text),
            None => text.to_owned(),
        }
    }

    /// A label, location or study on one line, cut to [`NAME_CHARS`].
    fn name(&self, text: &str) -> String {
        excerpt(&self.text(text), NAME_CHARS)
    }

    fn participant(&self, name: &str) -> String {
        match self.0 {
            Some(r) => r.participant(name),
            None => name.to_owned(),
        }
    }

    /// A tag's name as the report shows it: named after a participant, their pseudonym.
    fn tag(&self, facet: Facet, name: &str) -> String {
        let shown = match (self.0, Tag::new(facet, name)) {
            (Some(r), Some(tag)) => r.tags(&[tag]).remove(0).name,
            _ => name.to_owned(),
        };
        cut(&shown, NAME_CHARS)
    }
}

/// A session as a report names it: its title (or kind) and the day it started.
pub(super) fn session_label(s: &SessionLine) -> String {
    let name = s.title.clone().unwrap_or_else(|| s.kind.to_string());
    format!(
        "{} ({})",
        excerpt(&name, NAME_CHARS),
        s.started_at.format("%Y-%m-%d")
    )
}

fn default_title(selection: &Selection, sessions: &[SessionLine]) -> String {
    let Selection::Search { query, filters } = selection else {
        return "Selected notes".into();
    };
    let narrowed = !query.trim().is_empty()
        || !filters.tags.is_empty()
        || filters.kind.is_some()
        || filters.since.is_some()
        || filters.until.is_some();
    let base = if filters.session.is_some() {
        sessions
            .first()
            .map_or_else(|| "Session".into(), session_label)
    } else if filters.study.is_some() {
        sessions
            .first()
            .map_or_else(|| "Study".into(), |s| s.study.clone())
    } else if narrowed {
        "Selected notes".into()
    } else {
        "All studies".into()
    };
    excerpt(&base, NAME_CHARS)
}

/// How the notes were chosen, as the report's scope lists it.
fn describe(selection: &Selection, sessions: &[SessionLine], clean: &Clean<'_>) -> Vec<String> {
    let Selection::Search { query, filters } = selection else {
        return vec!["the notes chosen in the app".into()];
    };
    let mut out = Vec::new();
    if !query.trim().is_empty() {
        out.push(format!(
            "search: {}",
            excerpt(&clean.text(query), NAME_CHARS)
        ));
    }
    for t in &filters.tags {
        out.push(format!(
            "tag: {}{}",
            t.facet.sigil(),
            clean.tag(t.facet, &t.name)
        ));
    }
    if let Some(k) = filters.kind {
        out.push(format!("kind: {k}"));
    }
    if filters.study.is_some()
        && let Some(s) = sessions.first()
    {
        out.push(format!("study: {}", excerpt(&s.study, NAME_CHARS)));
    }
    if filters.session.is_some()
        && let Some(s) = sessions.first()
    {
        out.push(format!("session: {}", session_label(s)));
    }
    if let Some(t) = filters.since {
        out.push(format!("since {}", t.format("%Y-%m-%d %H:%M")));
    }
    if let Some(t) = filters.until {
        out.push(format!("until {}", t.format("%Y-%m-%d %H:%M")));
    }
    out
}

fn figures(notes: &[AnalysisNote], sessions: &[SessionLine], withheld: usize) -> Figures {
    let mut studies: BTreeMap<&str, usize> = BTreeMap::new();
    let mut note_kinds: BTreeMap<NoteKind, usize> = BTreeMap::new();
    let mut people: HashSet<&str> = HashSet::new();
    for n in notes {
        *studies.entry(n.study.as_str()).or_default() += 1;
        *note_kinds.entry(n.kind).or_default() += 1;
        people.extend(n.participants.iter().map(String::as_str));
    }
    let mut session_kinds: BTreeMap<SessionKind, usize> = BTreeMap::new();
    for s in sessions {
        *session_kinds.entry(s.kind).or_default() += 1;
    }
    let mut studies: Vec<(String, usize)> = studies
        .into_iter()
        .map(|(s, n)| (excerpt(s, NAME_CHARS), n))
        .collect();
    studies.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Figures {
        notes: notes.len(),
        withheld,
        sessions: sessions.len(),
        participants: people.len(),
        studies,
        first: notes.iter().map(|n| n.created_at).min(),
        last: notes.iter().map(|n| n.created_at).max(),
        note_kinds: note_kinds.into_iter().collect(),
        session_kinds: session_kinds.into_iter().collect(),
    }
}

fn shares(list: &[analysis::TagShare], facet: Facet, clean: &Clean<'_>) -> Vec<(String, usize)> {
    list.iter()
        .take(5)
        .map(|s| (clean.tag(facet, &s.name), s.notes))
        .collect()
}

fn pains(
    report: &analysis::PainsReport,
    valences: &HashMap<String, i64>,
    clean: &Clean<'_>,
    quote_of: &dyn Fn(&str) -> Option<Quote>,
) -> Pains {
    let shown = &report.touchpoints[..report.touchpoints.len().min(HEAT_ROWS)];
    // The columns: the emotions of the rows shown, most negative first, then the most felt.
    let mut felt: BTreeMap<&str, usize> = BTreeMap::new();
    for row in shown {
        for (e, n) in &row.emotions {
            *felt.entry(e.as_str()).or_default() += n;
        }
    }
    let mut emotions: Vec<(&str, usize)> = felt.into_iter().collect();
    emotions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    emotions.truncate(HEAT_COLUMNS);
    emotions.sort_by(|a, b| {
        let v = |e: &str| valences.get(e).copied().unwrap_or(i64::MAX);
        v(a.0)
            .cmp(&v(b.0))
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(b.0))
    });
    let rows = shown
        .iter()
        .map(|p| PainRow {
            touchpoint: clean.tag(Facet::Touchpoint, &p.touchpoint),
            stage: p.stage.clone(),
            notes: p.notes,
            negative_notes: p.negative_notes,
            mean_valence: p.mean_valence,
            cells: emotions
                .iter()
                .map(|(e, _)| {
                    p.emotions
                        .iter()
                        .find(|(name, _)| name == e)
                        .map_or(0, |(_, n)| *n)
                })
                .collect(),
        })
        .collect();
    Pains {
        emotions: emotions
            .iter()
            .map(|(e, _)| (clean.tag(Facet::Emotion, e), valences.get(*e).copied()))
            .collect(),
        rows,
        more: report.touchpoints.len() - shown.len(),
        worst: report
            .worst
            .iter()
            .map(|w| {
                (
                    clean.tag(Facet::Touchpoint, &w.touchpoint),
                    w.quotes
                        .iter()
                        .filter_map(|q| quote_of(&q.id))
                        .take(PAIN_QUOTES)
                        .collect(),
                )
            })
            .collect(),
    }
}

fn journey(report: &analysis::JourneyReport, clean: &Clean<'_>) -> Journey {
    let mut points: Vec<JourneyPoint> = report.points.clone();
    for p in &mut points {
        p.touchpoint = p
            .touchpoint
            .take()
            .map(|t| clean.tag(Facet::Touchpoint, &t));
    }
    let more = points.len().saturating_sub(JOURNEY_ROWS);
    let stage_rows: Vec<&JourneyPoint> = report
        .points
        .iter()
        .filter(|p| p.touchpoint.is_none())
        .collect();
    let stages = stage_rows
        .iter()
        .map(|p| p.stage.clone().unwrap_or_else(|| "no stage".into()))
        .collect();
    let mut series = vec![Series {
        name: "mean feeling".into(),
        values: stage_rows.iter().map(|p| p.mean_valence).collect(),
        scale: Scale::VALENCE,
    }];
    let effort: Vec<Option<f64>> = stage_rows.iter().map(|p| p.mean_effort).collect();
    if effort.iter().any(Option::is_some) {
        series.push(Series {
            name: "mean effort (CES, 7 effortless)".into(),
            values: effort,
            scale: Scale {
                min: 1.0,
                max: 7.0,
                signed: false,
            },
        });
    }
    for lane in analysis::journey::LANES {
        let values: Vec<Option<f64>> = stage_rows
            .iter()
            .map(|p| p.lanes.get(lane).copied())
            .collect();
        if values.iter().any(Option::is_some) {
            series.push(Series {
                name: format!("{lane} lane"),
                values,
                scale: Scale::VALENCE,
            });
        }
    }
    points.truncate(JOURNEY_ROWS);
    Journey {
        points,
        more,
        stages,
        series,
    }
}

/// A group of visits as the report lists it: its name cut, its criteria left to
/// `Visits::worst_criteria`.
fn score_row(g: &ReportGroup) -> ReportGroup {
    ReportGroup {
        group: cut(&g.group, NAME_CHARS),
        criteria: Vec::new(),
        ..g.clone()
    }
}

fn visits(scored: &[ScoredVisit], quote_of: &dyn Fn(&str) -> Option<Quote>) -> Visits {
    use crate::mystery_shop::report;
    let by_location = report(scored, GroupBy::Location);
    let by_month = report(scored, GroupBy::Month);
    let months: Vec<ReportGroup> = by_month
        .iter()
        .rev()
        .take(MONTHS_SHOWN)
        .rev()
        .map(score_row)
        .collect();
    let locations: Vec<ReportGroup> = by_location
        .iter()
        .take(LOCATIONS_SHOWN)
        .map(score_row)
        .collect();
    // A line per location (the worst few, so the chart stays legible) over the months.
    let by_location_and_month = locations
        .iter()
        .take(6)
        .map(|l| {
            let here: Vec<ScoredVisit> = scored
                .iter()
                .filter(|v| v.location.as_deref().unwrap_or("(no location)") == l.group)
                .cloned()
                .collect();
            let means: HashMap<String, Option<f64>> = report(&here, GroupBy::Month)
                .into_iter()
                .map(|g| (g.group, g.mean))
                .collect();
            Series {
                name: l.group.clone(),
                values: months
                    .iter()
                    .map(|m| means.get(&m.group).copied().flatten())
                    .collect(),
                scale: Scale::SCORE,
            }
        })
        .collect();
    let criteria = report(scored, GroupBy::Criterion);
    let mut low_notes: Vec<(String, f64, Quote)> = criteria
        .iter()
        .flat_map(|g| g.criteria.iter())
        .flat_map(|c| {
            c.low_notes
                .iter()
                .filter_map(|(id, _, score)| Some((c.id.clone(), *score, quote_of(id)?)))
        })
        .collect();
    low_notes.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.2.id.cmp(&b.2.id)));
    let mut quoted = HashSet::new();
    low_notes.retain(|(_, _, q)| quoted.insert(q.id.clone()));
    low_notes.truncate(LOW_NOTES_SHOWN);
    Visits {
        visits: scored.len(),
        more_locations: by_location.len() - locations.len(),
        locations,
        months,
        by_location_and_month,
        worst_criteria: criteria
            .iter()
            .filter_map(|g| g.criteria.first())
            .take(5)
            .map(|c| {
                (
                    cut(&c.id, NAME_CHARS),
                    cut(&c.question, QUOTE_CHARS),
                    c.mean,
                    c.visits,
                )
            })
            .collect(),
        low_notes,
    }
}
