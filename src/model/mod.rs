//! Domain types in the researcher's words (see DESIGN.md).

mod kinds;
mod measures;
mod passage;
mod tags;

pub use kinds::{Feedback, InsightConfidence, NoteKind, SessionKind};
pub use measures::{
    BUILT_IN as BUILT_IN_MEASURES, Measure, MeasureScale, MeasureSpan, built_in_scales,
    check_measures, measures_of, number, parse_assignment, read_list,
};
pub(crate) use passage::tag_as_token;
pub use passage::{Passage, SpanSpec, byte_range, char_len, occurrences, reanchor, resolve_span};
pub use tags::{
    Facet, MEASURE_SIGIL, PartialTag, Tag, TagSpan, distinct_tags, inline_token_pattern,
    normalize_name, parse_inline, parse_measures, partial_tag_at, rename_inline, retag, tags_of,
    token_ranges,
};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A stored note as the library hands it out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub id: String,
    pub session: String,
    pub kind: NoteKind,
    pub body: String,
    #[serde(serialize_with = "tags_by_facet")]
    pub tags: Vec<Tag>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Milliseconds from the start of the session; `None` for notes written afterwards.
    pub offset_ms: Option<i64>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Groups tags as `{"persona": ["busy-parent"], ...}`, the shape every JSON output uses.
pub fn group_tags(tags: &[Tag]) -> BTreeMap<Facet, Vec<String>> {
    let mut map: BTreeMap<Facet, Vec<String>> = BTreeMap::new();
    for t in tags {
        map.entry(t.facet).or_default().push(t.name.clone());
    }
    map
}

fn tags_by_facet<S: serde::Serializer>(tags: &[Tag], s: S) -> Result<S::Ok, S::Error> {
    group_tags(tags).serialize(s)
}

/// A field activity: an interview, an observation, a mystery-shop visit, …
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub id: String,
    pub study: String,
    pub kind: SessionKind,
    pub title: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub researcher: Option<String>,
    pub location: Option<String>,
    pub channel: Option<String>,
    pub participants: Vec<String>,
    pub note_count: i64,
}

/// A real person, kept under a pseudonym.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Participant {
    pub pseudonym: String,
    #[serde(default)]
    pub consent: bool,
    #[serde(default)]
    pub consent_date: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

/// One earlier version of a note, kept when it was edited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub kind: NoteKind,
    pub body: String,
    #[serde(serialize_with = "tags_by_facet")]
    pub tags: Vec<Tag>,
    /// When this version was written (the note's `updated_at` at the time).
    pub written_at: DateTime<Utc>,
    /// Its hybrid-clock stamp (see `store::hlc`), which orders versions between laptops;
    /// `None` for a version written before stamps, which stands for its time.
    #[serde(skip)]
    pub stamp: Option<String>,
}
