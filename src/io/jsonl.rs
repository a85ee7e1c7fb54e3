//! JSONL: one note per line with its session, participant, tags and revisions, then the
//! curation (kept and dismissed themes, insights; see `curation`). Lossless: export, import
//! into an empty archive, export again, and the two files are the same.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Facet, Feedback, NoteKind, Revision, Tag, group_tags};
use crate::store::{ImportSink, Incoming, NewSession, NoteRecord, PassageRecord, StampedRecord};

use super::export::{ExportSummary, ExportView, SessionLine};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteLine {
    pub id: String,
    pub kind: NoteKind,
    pub body: String,
    #[serde(default)]
    pub tags: BTreeMap<Facet, Vec<String>>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub offset_ms: Option<i64>,
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// direct, indirect or inferred; absent when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
    pub session: SessionLine,
    #[serde(default)]
    pub revisions: Vec<RevisionLine>,
    /// Coded passages, lost ones included (absent when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passages: Vec<PassageLine>,
    /// Who gave each tag given beside the text (`{"=wait-time": ["Ana", "Ben"]}`), where
    /// recorded: every coder, so agreement survives the trip. (A single name, as files written
    /// before two coders per tag were kept, reads too.)
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "coders_by_tag"
    )]
    pub coders: BTreeMap<String, Vec<String>>,
    /// The hybrid-clock stamp of the current version (see `store::hlc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<String>,
    /// The stamp of its last trash or restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trash_hlc: Option<String>,
}

fn coders_by_tag<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let map: BTreeMap<String, OneOrMany> = Deserialize::deserialize(d)?;
    Ok(map
        .into_iter()
        .map(|(tag, c)| match c {
            OneOrMany::One(c) => (tag, vec![c]),
            OneOrMany::Many(c) => (tag, c),
        })
        .collect())
}

/// A passage: `tag` on code points `start..end` of the body (end excluded), by `coder`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassageLine {
    pub tag: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub coder: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lost: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionLine {
    pub kind: NoteKind,
    pub body: String,
    #[serde(default)]
    pub tags: BTreeMap<Facet, Vec<String>>,
    pub written_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<String>,
}

fn tags_from_map(map: &BTreeMap<Facet, Vec<String>>) -> std::result::Result<Vec<Tag>, String> {
    let mut tags = Vec::new();
    for (facet, names) in map {
        for name in names {
            tags.push(Tag::new(*facet, name).ok_or_else(|| format!("empty {facet} tag name"))?);
        }
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// Writes every note in the view (trash included) as one JSON object per line.
pub fn export(view: &ExportView<'_>, out: &mut dyn Write) -> Result<ExportSummary> {
    view.for_each_note(true, |session, rec| {
        let line = note_line(session, rec);
        serde_json::to_writer(&mut *out, &line)
            .map_err(|e| Error::io("cannot write the export", e.into()))?;
        out.write_all(b"\n")
            .map_err(|e| Error::io("cannot write the export", e))
    })
    .and_then(|summary| {
        // Kept and dismissed themes and insights follow the notes they cite; a part of the
        // archive (one session or study) goes without them.
        if matches!(view.scope(), super::export::Scope::All) {
            super::curation::export(view.store(), view.redactor(), out)?;
            // Then every stamped record, for a merge (not in a redacted export: they carry
            // contact details and the names it masks).
            if view.redactor().is_none() {
                for (_, record) in view.store().stamped_records(None)? {
                    let line = record_line(&record).map_err(|e| {
                        Error::io("cannot write the export", std::io::Error::other(e))
                    })?;
                    out.write_all(line.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(|e| Error::io("cannot write the export", e))?;
                }
            }
        }
        Ok(summary)
    })
}

/// A stamped record as one JSONL line, `{"record": {…}}`: what an export writes and a team
/// sync pushes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordLine {
    record: StampedRecord,
}

pub fn record_line(record: &StampedRecord) -> serde_json::Result<String> {
    serde_json::to_string(&RecordLine {
        record: record.clone(),
    })
}

pub fn parse_record(text: &str) -> std::result::Result<StampedRecord, String> {
    serde_json::from_str::<RecordLine>(text)
        .map(|l| l.record)
        .map_err(|e| e.to_string())
}

fn is_record_line(text: &str) -> bool {
    text.starts_with("{\"record\"")
}

/// A note as one JSONL line: what an export writes and a team sync pushes.
pub fn note_line(session: &SessionLine, rec: NoteRecord) -> NoteLine {
    NoteLine {
        tags: group_tags(&rec.tags),
        passages: rec
            .passages
            .iter()
            .map(|p| PassageLine {
                tag: p.tag.to_string(),
                start: p.start,
                end: p.end,
                text: p.text.clone().unwrap_or_default(),
                coder: p.coder.clone(),
                lost: p.lost,
                created_at: p.created_at,
            })
            .collect(),
        coders: rec.coders.iter().fold(BTreeMap::new(), |mut m, (t, c)| {
            let coders: &mut Vec<String> = m.entry(t.to_string()).or_default();
            coders.push(c.clone());
            coders.sort();
            m
        }),
        session: session.clone(),
        revisions: rec
            .revisions
            .into_iter()
            .map(|r| RevisionLine {
                kind: r.kind,
                tags: group_tags(&r.tags),
                body: r.body,
                written_at: r.written_at,
                hlc: r.stamp,
            })
            .collect(),
        id: rec.id,
        kind: rec.kind,
        body: rec.body,
        created_at: rec.created_at,
        updated_at: Some(rec.updated_at),
        offset_ms: rec.offset_ms,
        participant: rec.participant,
        source: rec.source,
        feedback: rec.feedback,
        deleted_at: rec.deleted_at,
        hlc: rec.stamp,
        trash_hlc: rec.trash_stamp,
    }
}

/// Reads JSONL notes (and curation) into the import's transaction; the first bad line stops
/// it, naming the line.
pub fn import(name: &str, input: impl BufRead, sink: &mut ImportSink<'_>) -> Result<()> {
    for_each_line(name, input, |at, text| {
        if let Some(curation) = super::curation::import_line(text, sink) {
            return curation.map_err(at);
        }
        if is_record_line(text) {
            let record = parse_record(text).map_err(at)?;
            return sink.record(&record).map_err(|e| at(e.to_string()));
        }
        let (session, record) = parse_note(text).map_err(at)?;
        let located = |e: Error| match e {
            Error::Sqlite(e) => at(e.to_string()),
            e if e.is_refusal() => at(e.to_string()),
            other => other,
        };
        sink.session(&session).map_err(located)?;
        sink.note(&record).map_err(located)?;
        Ok(())
    })
}

/// Every note of a JSONL file with its session, and every stamped record, as a merge takes
/// them (curation lines are left to an import: the records carry the same, stamped).
pub fn read_records(name: &str, input: impl BufRead) -> Result<Incoming> {
    let mut incoming = Incoming::default();
    for_each_line(name, input, |at, text| {
        if is_record_line(text) {
            incoming.records.push(parse_record(text).map_err(at)?);
        } else if !super::curation::is_curation_line(text) {
            incoming.notes.push(parse_note(text).map_err(at)?);
        }
        Ok(())
    })?;
    Ok(incoming)
}

/// Calls `f` with each non-empty line and a way to name that line in an error.
fn for_each_line(
    name: &str,
    input: impl BufRead,
    mut f: impl FnMut(&dyn Fn(String) -> Error, &str) -> Result<()>,
) -> Result<()> {
    for (i, line) in input.split(b'\n').enumerate() {
        let at = |reason: String| Error::Import {
            file: name.to_owned(),
            location: format!("line {}", i + 1),
            reason,
        };
        let bytes = line.map_err(|e| Error::io(format!("cannot read {name}"), e))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| at(super::encoding::not_utf8_reason(&bytes)))?
            .trim();
        if !text.is_empty() {
            f(&at, text)?;
        }
    }
    Ok(())
}

pub fn parse_note(text: &str) -> std::result::Result<(NewSession, NoteRecord), String> {
    let line: NoteLine = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let session = new_session(&line.session);
    Ok((session, to_record(line)?))
}

fn to_record(line: NoteLine) -> std::result::Result<NoteRecord, String> {
    if line.body.trim().is_empty() {
        return Err("the note's body is empty".into());
    }
    if line.session.id.trim().is_empty() {
        return Err("the note's session has no id".into());
    }
    if ulid::Ulid::from_string(&line.id).is_err() {
        return Err(format!(
            "{:?} is not a note id (a 26-character ULID)",
            line.id
        ));
    }
    let tags = tags_from_map(&line.tags)?;
    let revisions = line
        .revisions
        .into_iter()
        .map(|r| {
            Ok(Revision {
                kind: r.kind,
                tags: tags_from_map(&r.tags)?,
                body: r.body,
                written_at: r.written_at,
                stamp: r.hlc,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    Ok(NoteRecord {
        id: line.id,
        session: line.session.id,
        kind: line.kind,
        body: line.body,
        tags,
        participant: line.participant,
        created_at: line.created_at,
        updated_at: line.updated_at.unwrap_or(line.created_at),
        offset_ms: line.offset_ms,
        source: line.source,
        feedback: line.feedback,
        deleted_at: line.deleted_at,
        stamp: line.hlc,
        trash_stamp: line.trash_hlc,
        revisions,
        passages: line
            .passages
            .into_iter()
            .map(|p| {
                Ok(PassageRecord {
                    tag: Tag::parse_token(&p.tag)
                        .ok_or_else(|| format!("a passage's tag {:?} is not a tag", p.tag))?,
                    start: p.start,
                    end: p.end,
                    text: Some(p.text),
                    coder: p.coder,
                    lost: p.lost,
                    created_at: p.created_at,
                })
            })
            .collect::<std::result::Result<_, String>>()?,
        coders: line
            .coders
            .into_iter()
            .map(|(t, coders)| {
                Tag::parse_token(&t)
                    .map(|tag| coders.into_iter().map(move |c| (tag.clone(), c)))
                    .ok_or_else(|| format!("{t:?} in coders is not a tag"))
            })
            .collect::<std::result::Result<Vec<_>, String>>()?
            .into_iter()
            .flatten()
            .collect(),
    })
}

/// The session a JSONL line belongs to, as the import creates it when new.
pub fn new_session(s: &SessionLine) -> NewSession {
    NewSession {
        id: Some(s.id.clone()),
        study: s.study.clone(),
        kind: s.kind,
        title: s.title.clone(),
        started_at: Some(s.started_at),
        ended_at: s.ended_at,
        researcher: s.researcher.clone(),
        location: s.location.clone(),
        channel: s.channel.clone(),
        participants: s.participants.clone(),
        measures: s.measures.clone(),
        stamp: s.hlc.clone(),
    }
}
