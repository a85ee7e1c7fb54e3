//! The demo archive: realistic field notes written for fieldnotes, embedded in the binary so a
//! new user sees a living archive at once. Seeding is idempotent: ids derive from the content.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::archive::Archive;
use crate::error::{Error, Result};
use crate::io::stable_ulid;
use crate::model::{Facet, NoteKind, Participant, SessionKind, Tag, tags_of};
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
        .map_err(|e| Error::Invalid(format!("the embedded demo data is broken: {e}")))?;
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
                    sink.session(&new)?;
                    for (i, n) in s.notes.iter().enumerate() {
                        let at = s.started_at
                            + Duration::minutes(n.offset_min)
                            + Duration::seconds(i as i64);
                        let speaker = match (&s.participant, n.kind) {
                            (Some(p), NoteKind::Quote) => Some(p.pseudonym.clone()),
                            _ => None,
                        };
                        sink.note(&NoteRecord {
                            id: stable_ulid(
                                Some(at),
                                &["demo-note", &session_id, &i.to_string(), &n.text],
                            ),
                            session: session_id.clone(),
                            kind: n.kind,
                            body: n.text.clone(),
                            tags: tags_of(&n.text),
                            participant: speaker,
                            created_at: at,
                            updated_at: at,
                            offset_ms: Some((at - s.started_at).num_milliseconds()),
                            source: Some("demo".into()),
                            feedback: None,
                            deleted_at: None,
                            revisions: Vec::new(),
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
                .ok_or_else(|| Error::Invalid(format!("demo {facet} without a name")))?;
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
    Ok(counts)
}
