//! The demo archive: realistic field notes written for fieldnotes, embedded in the binary so a
//! new user sees a living archive at once. Seeding is idempotent: ids derive from the content.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::archive::Archive;
use crate::error::{Error, Result};
use crate::io::stable_ulid;
use crate::model::{Facet, NoteKind, Participant, SessionKind, Tag};
use crate::store::{ImportCounts, NewSession, NoteRecord, TagInfo};

const DEMO_JSON: &str = include_str!("demo/demo.json");

#[derive(Deserialize)]
struct Demo {
    personas: Vec<Described>,
    touchpoints: Vec<Described>,
    jobs: Vec<Described>,
    studies: Vec<Study>,
}

#[derive(Deserialize)]
struct Described {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    statement: Option<String>,
}

#[derive(Deserialize)]
struct Study {
    name: String,
    sessions: Vec<DemoSession>,
}

#[derive(Deserialize)]
struct DemoSession {
    kind: SessionKind,
    researcher: String,
    participant: Option<Participant>,
    location: String,
    channel: String,
    started_at: DateTime<Utc>,
    duration_min: i64,
    notes: Vec<DemoNote>,
    /// What the participant rated at the end (NPS, CSAT, effort, confidence).
    #[serde(default)]
    measures: Vec<crate::model::Measure>,
}

#[derive(Deserialize)]
struct DemoNote {
    kind: NoteKind,
    offset_min: i64,
    text: String,
}

/// Writes the demo studies, sessions and notes into `archive` (again without duplicates).
pub fn seed(archive: &mut Archive) -> Result<ImportCounts> {
    let demo: Demo = serde_json::from_str(DEMO_JSON)
        .map_err(|e| Error::Corrupt(format!("the embedded demo data is broken: {e}")))?;
    let counts = archive.import(
        |sink| {
            for study in &demo.studies {
                for s in &study.sessions {
                    let started = s.started_at.to_rfc3339();
                    let session_id = stable_ulid(
                        Some(s.started_at),
                        &["demo-session", &study.name, &started, &s.location],
                    );
                    let mut new = NewSession::new(study.name.clone(), s.kind);
                    new.id = Some(session_id.clone());
                    new.started_at = Some(s.started_at);
                    new.ended_at = Some(s.started_at + Duration::minutes(s.duration_min));
                    new.researcher = Some(s.researcher.clone());
                    new.location = Some(s.location.clone());
                    new.channel = Some(s.channel.clone());
                    new.participants = s.participant.iter().cloned().collect();
                    new.measures = s.measures.clone();
                    sink.session(&new)?;
                    for (i, n) in s.notes.iter().enumerate() {
                        let at = s.started_at
                            + Duration::minutes(n.offset_min)
                            + Duration::seconds(i as i64);
                        let speaker = match (&s.participant, n.kind) {
                            (Some(p), NoteKind::Quote) => Some(p.pseudonym.clone()),
                            _ => None,
                        };
                        let id = stable_ulid(
                            Some(at),
                            &["demo-note", &session_id, &i.to_string(), &n.text],
                        );
                        sink.note(&NoteRecord {
                            participant: speaker,
                            offset_ms: Some((at - s.started_at).num_milliseconds()),
                            source: Some("demo".into()),
                            ..NoteRecord::written(
                                id,
                                session_id.clone(),
                                n.kind,
                                n.text.clone(),
                                at,
                            )
                        })?;
                    }
                }
            }
            Ok(())
        },
        |_| {},
    )?;
    for (facet, list) in [
        (Facet::Persona, &demo.personas),
        (Facet::Touchpoint, &demo.touchpoints),
        (Facet::Job, &demo.jobs),
    ] {
        for d in list {
            let tag = Tag::new(facet, &d.name)
                .ok_or_else(|| Error::Corrupt(format!("demo {facet} without a name")))?;
            archive.store().set_tag_info(
                &tag,
                &TagInfo {
                    description: d.description.clone(),
                    valence: None,
                    stage: d.stage.clone(),
                    statement: d.statement.clone(),
                },
            )?;
        }
    }
    seed_visits(archive)?;
    Ok(counts)
}

/// The demo's mystery-shop sessions become scored visits with the example scorecard, so the
/// report compares three stores: one improving, one lagging, one steady.
fn seed_visits(archive: &mut Archive) -> Result<()> {
    let card =
        crate::mystery_shop::parse(crate::mystery_shop::template::RETAIL_EXAMPLE).map_err(|e| {
            Error::Corrupt(format!(
                "the demo scorecard is broken: line {}: {}",
                e.line, e.reason
            ))
        })?;
    archive
        .store()
        .import_scorecard(&card, crate::mystery_shop::template::RETAIL_EXAMPLE)?;
    let mut visits: Vec<_> = archive
        .store()
        .sessions(None)?
        .into_iter()
        .filter(|s| s.kind == SessionKind::MysteryShop)
        .collect();
    visits.sort_by_key(|s| s.started_at);
    let mut seen_at: std::collections::HashMap<String, usize> = Default::default();
    for session in visits {
        let location = session.location.clone().unwrap_or_default();
        let nth = seen_at.entry(location.clone()).or_default();
        let visit_no = *nth;
        *nth += 1;
        if !archive.store().answers(&session.id)?.is_empty() {
            continue;
        }
        archive.store().attach_scorecard(&session.id, &card.name)?;
        // (criterion, answer) per store; Riverside's queue and collection improve on the second visit.
        let answers: Vec<(&str, Option<f64>)> = match (location.as_str(), visit_no) {
            (l, n) if l.starts_with("Riverside") => vec![
                ("entrance-clear", Some(1.0)),
                ("wait-before-greeting", Some(45.0)),
                ("found-product", Some(0.0)),
                ("staff-knowledge", Some(4.0)),
                ("staff-manner", Some(8.0)),
                ("queue-time", Some(if n == 0 { 7.0 } else { 3.0 })),
                ("loyalty-offered", Some(1.0)),
                ("receipt-offered", Some(1.0)),
                ("collect-wait", Some(if n == 0 { 12.0 } else { 4.0 })),
                ("collect-ready", Some(if n == 0 { 0.0 } else { 1.0 })),
            ],
            (l, n) if l.starts_with("Old Town") => vec![
                ("entrance-clear", Some(0.0)),
                ("wait-before-greeting", Some(200.0 + 40.0 * n as f64)),
                ("found-product", Some(0.0)),
                ("staff-knowledge", Some(3.0)),
                ("staff-manner", Some(6.0)),
                ("queue-time", Some(8.0)),
                ("loyalty-offered", Some(0.0)),
                ("receipt-offered", Some(1.0)),
                ("collect-wait", None),
                ("collect-ready", None),
            ],
            _ => vec![
                ("entrance-clear", Some(1.0)),
                ("wait-before-greeting", Some(30.0)),
                ("found-product", Some(1.0)),
                ("staff-knowledge", Some(5.0)),
                ("staff-manner", Some(9.0)),
                ("queue-time", Some(2.0)),
                ("loyalty-offered", Some(1.0)),
                ("receipt-offered", Some(0.0)),
                ("collect-wait", Some(5.0)),
                ("collect-ready", Some(1.0)),
            ],
        };
        let notes = archive.store().session_notes(&session.id)?;
        for (criterion, value) in answers {
            // The first word that some note mentions decides: the words are in order of relevance.
            let evidence = evidence_words(criterion).and_then(|words| {
                words
                    .iter()
                    .find_map(|w| notes.iter().find(|n| n.body.to_lowercase().contains(w)))
            });
            archive.store().answer(
                &session.id,
                criterion,
                value,
                evidence.map(|n| n.id.as_str()),
            )?;
        }
    }
    Ok(())
}

/// Words that mark a note as evidence for a criterion of the example scorecard.
fn evidence_words(criterion: &str) -> Option<&'static [&'static str]> {
    match criterion {
        "wait-before-greeting" => Some(&["greet", "hello", "acknowledg", "entrance", "door"]),
        "queue-time" => Some(&["queue", "till"]),
        "collect-wait" | "collect-ready" => Some(&["collect"]),
        "staff-knowledge" | "staff-manner" => Some(&["staff", "colleague"]),
        _ => None,
    }
}
