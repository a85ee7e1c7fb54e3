//! Analysis: pure functions from notes to insight — recurring themes, segment contrast, pain
//! points, the journey curve and change between waves. No SQL, no index, no I/O: the CLI, the
//! app and the tests call the same code with notes loaded by [`crate::Archive::analysis_notes`].
//!
//! Every result is deterministic (ties are broken by name or id) and serialisable, and every
//! claim carries the ids of the notes behind it.

pub mod agreement;
pub mod contrast;
pub mod cooccurrence;
pub mod journey;
pub mod lexicon;
pub mod matrix;
pub mod measures;
pub mod text;
pub mod themes;
pub mod trend;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{Facet, NoteKind, Tag};

pub use agreement::{AgreementReport, AgreementSettings, agreement};
pub use contrast::{ContrastBy, ContrastReport, contrast};
pub use cooccurrence::{Coding, CooccurrenceReport, cooccurrence, notes_behind};
pub use journey::{JourneyReport, PainsReport, journey, pains};
pub use matrix::{CodeMatrix, MatrixBy, NoteGroups, code_matrix};
pub use measures::{
    MeasureBy, MeasureValue, MeasuresReport, MeasuresTrend, measure_values, measures,
    measures_trend,
};
pub use themes::{
    Curation, KeptTheme, RememberedTheme, Theme, ThemeSettings, ThemesReport, remember, themes,
};
pub use trend::{TrendReport, trend};

/// What analysis needs of a note: loaded in bulk by the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisNote {
    pub id: String,
    pub body: String,
    pub kind: NoteKind,
    #[serde(serialize_with = "tags_by_facet")]
    pub tags: Vec<Tag>,
    pub session: String,
    pub study: String,
    /// Who spoke, for a quote whose speaker is known.
    pub speaker: Option<String>,
    /// The people the note is about: its speaker, else its session's participants.
    pub participants: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The mean valence (−2…+2) of its emotion tags; `None` when it has none with a valence.
    pub valence: Option<f64>,
}

fn tags_by_facet<S: serde::Serializer>(tags: &[Tag], s: S) -> Result<S::Ok, S::Error> {
    crate::model::group_tags(tags).serialize(s)
}

impl AnalysisNote {
    /// Its tag names in one facet.
    pub fn tagged(&self, facet: Facet) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .filter(move |t| t.facet == facet)
            .map(|t| t.name.as_str())
    }

    pub fn has_tag(&self, facet: Facet, name: &str) -> bool {
        self.tagged(facet).any(|n| n == name)
    }

    /// A short form of the body for tables: one line, at most `max` characters.
    pub fn excerpt(&self, max: usize) -> String {
        excerpt(&self.body, max)
    }
}

/// The journey stage of each touchpoint that has one (set in the tag registry), for the
/// pains and journey reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageMap {
    /// Touchpoint name → journey stage (aware, consider, buy, receive, use, support).
    pub stages: BTreeMap<String, String>,
}

/// A note cited as evidence: its id, kind and text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub id: String,
    pub kind: NoteKind,
    pub quote: String,
    pub session: String,
}

impl Evidence {
    pub fn of(note: &AnalysisNote) -> Evidence {
        Evidence {
            id: note.id.clone(),
            kind: note.kind,
            quote: note.body.clone(),
            session: note.session.clone(),
        }
    }
}

/// A tag with how many notes of a group carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagShare {
    pub name: String,
    pub notes: usize,
}

/// Tags of one facet over some notes, most common first (ties by name).
pub(crate) fn tag_shares<'a>(
    notes: impl IntoIterator<Item = &'a AnalysisNote>,
    facet: Facet,
) -> Vec<TagShare> {
    let mut counts: text::FxMap<&str, usize> = text::FxMap::default();
    for n in notes {
        // A note's tags are sorted and distinct, as the store and the parser keep them.
        let mut last = None;
        for name in n.tagged(facet) {
            if last != Some(name) {
                *counts.entry(name).or_default() += 1;
            }
            last = Some(name);
        }
    }
    let mut shares: Vec<TagShare> = counts
        .into_iter()
        .map(|(name, notes)| TagShare {
            name: name.to_owned(),
            notes,
        })
        .collect();
    shares.sort_by(|a, b| b.notes.cmp(&a.notes).then_with(|| a.name.cmp(&b.name)));
    shares
}

/// At most `at_most` of `items`, spread evenly over them: every k-th, from the first.
pub fn even_sample<T>(items: &[T], at_most: usize) -> impl Iterator<Item = &T> {
    let stride = items.len().div_ceil(at_most.max(1)).max(1);
    items.iter().step_by(stride)
}

/// Mean valence over the notes that have one.
pub(crate) fn mean_valence<'a>(notes: impl IntoIterator<Item = &'a AnalysisNote>) -> Option<f64> {
    let (sum, n) = notes
        .into_iter()
        .filter_map(|n| n.valence)
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (n > 0).then(|| round2(sum / n as f64))
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(crate) use crate::text::excerpt;

/// A two-sided p-value for a standard normal z (Abramowitz–Stegun erfc approximation).
pub(crate) fn p_value(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    (poly * (-x * x).exp()).clamp(0.0, 1.0)
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A note for unit tests: tags come from the text as when typed.
    pub fn note(id: &str, session: &str, body: &str) -> AnalysisNote {
        let tags = crate::model::tags_of(body);
        AnalysisNote {
            id: id.to_owned(),
            body: body.to_owned(),
            kind: NoteKind::Observation,
            tags,
            session: session.to_owned(),
            study: "Study".into(),
            speaker: None,
            participants: vec![format!("p-{session}")],
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            valence: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_sample_spreads_over_the_whole() {
        let items: Vec<usize> = (0..100).collect();
        let picked: Vec<usize> = even_sample(&items, 10).copied().collect();
        assert_eq!(picked, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
        assert_eq!(even_sample(&items, 30).count(), 25);
        assert_eq!(even_sample(&items, 1000).count(), 100);
        assert_eq!(even_sample(&items[..0], 10).count(), 0);
    }

    #[test]
    fn p_values_of_familiar_z_scores() {
        assert!((p_value(1.96) - 0.05).abs() < 0.001);
        assert!((p_value(0.0) - 1.0).abs() < 0.001);
        assert!(p_value(5.0) < 1e-5);
    }
}
