//! Stamped records: everything a team shares that is not a note (the codebook, participants'
//! consent and details, masked names, curated themes, insights, measure scales, session
//! measures, sessions themselves, mystery-shop scorecards, visits and answers, and codings so
//! that taking one off travels), as registers of `schema/0014_sync_records.sql`.
//!
//! A record is named by its kind and a key the same on every laptop; its value is JSON, and
//! JSON null means "removed" (a masked name taken off, a theme or insight deleted), so a
//! removal travels like any change. The newest stamp wins, whichever side is which and in
//! whatever order records arrive: a sync and a JSONL merge apply them with the same
//! [`Store::merge_records_in`].
//!
//! Two rules need more than "newest wins":
//! - Hierarchy. Each tag's record names the parent its researcher chose. Two laptops can
//!   each make a choice that alone is fine and together a cycle (A puts `=a` under `=b`, B
//!   puts `=b` under `=a`). The parents the codebook shows are worked out from all records at
//!   once: taken oldest stamp first, a parent that would close a cycle is left out (that tag
//!   stays at the top), so every archive with the same records shows the same tree.
//! - Links to notes. A theme's or insight's evidence, or a session's measure, can arrive
//!   before its note or session; such records are applied again after every merge that
//!   brought notes, so the links appear whatever came first.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::sessions::{NewSession, insert_session, participant_id, study_id};
use super::tags::tag_id;
use super::{Store, hlc};
use crate::error::{Error, Result};
use crate::model::{MeasureScale, Participant, SessionKind, Tag};
use crate::time;

/// One stamped record as it travels (a JSONL line `{"record": …}`, a server event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StampedRecord {
    pub kind: String,
    pub key: String,
    pub hlc: String,
    pub value: Value,
}

/// The kinds, in the order they are written and sent: what a record refers to comes first.
const KINDS: [&str; 13] = [
    "session",
    "participant",
    "tag",
    "masked",
    "scale",
    "measure",
    "scorecard",
    "visit",
    "answer",
    "theme",
    "insight",
    "coding",
    "passage",
];

/// Kinds whose value links to notes, sessions or scorecards that may arrive after them.
const LINKING: &str = "'measure', 'theme', 'insight', 'visit', 'answer'";

fn kind_rank(kind: &str) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(KINDS.len())
}

/// A two-part key (study or session, name), joined by the unit separator.
fn split_key(key: &str) -> Result<(&str, &str)> {
    key.split_once('\u{1f}')
        .ok_or_else(|| Error::BadValue(format!("{key:?} is not a two-part record key")))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagValue {
    description: Option<String>,
    valence: Option<i64>,
    stage: Option<String>,
    statement: Option<String>,
    colour: Option<String>,
    memo: Option<String>,
    parent: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantValue {
    consent: bool,
    consent_date: Option<String>,
    contact: Option<String>,
}

/// A session's own details (its participants by pseudonym: their details are records of
/// their own, so a consent change does not make every session a different value).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionValue {
    study: String,
    kind: SessionKind,
    title: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    researcher: Option<String>,
    location: Option<String>,
    channel: Option<String>,
    participants: Vec<String>,
    hlc: Option<String>,
}

/// Where a passage was when its record was written (where to look for its words first) and
/// when it was coded.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassageValue {
    start: usize,
    end: usize,
    created_at: String,
}

/// A coding's key: (note, tag, coder, and for a passage its coded words).
struct CodingKey<'a> {
    note: &'a str,
    tag: Tag,
    coder: &'a str,
    words: Option<&'a str>,
}

fn coding_key<'a>(kind: &str, key: &'a str) -> Result<CodingKey<'a>> {
    let bad = || Error::BadValue(format!("{key:?} is not a {kind} record's key"));
    // The words may hold anything, the separator too: they are the rest of the key.
    let parts = if kind == "passage" { 4 } else { 3 };
    let mut parts = key.splitn(parts, '\u{1f}');
    let note = parts.next().ok_or_else(bad)?;
    let tag = parts.next().and_then(Tag::parse_token).ok_or_else(bad)?;
    let coder = parts.next().ok_or_else(bad)?;
    let words = if kind == "passage" {
        Some(parts.next().filter(|w| !w.is_empty()).ok_or_else(bad)?)
    } else {
        None
    };
    Ok(CodingKey {
        note,
        tag,
        coder,
        words,
    })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScorecardValue {
    /// The validated template (the JSON the archive keeps).
    definition: Value,
    source: String,
    created_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitValue {
    scorecard: String,
    version: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerValue {
    value: Option<f64>,
    na: bool,
    note: Option<String>,
    answered_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeValue {
    status: String,
    label: String,
    phrases: Vec<String>,
    notes: Vec<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InsightValue {
    statement: String,
    theme: Option<String>,
    notes: Vec<String>,
    created_at: String,
    confidence: Option<String>,
}

fn decode<T: serde::de::DeserializeOwned>(kind: &str, key: &str, value: &Value) -> Result<T> {
    serde_json::from_value(value.clone())
        .map_err(|e| Error::BadValue(format!("the {kind} record {key:?} is not one: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Corrupt(format!("cannot write a record: {e}")))
}

fn strings(conn: &Connection, sql: &str, key: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map([key], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A record's value as the archive holds it now (null: there is none).
fn read_value(conn: &Connection, kind: &str, key: &str) -> Result<Value> {
    match kind {
        "tag" => {
            let Some(tag) = Tag::parse_token(key) else {
                return Ok(Value::Null);
            };
            let row = conn
                .prepare_cached(
                    "SELECT t.description, t.valence, t.stage, t.statement, t.colour, t.memo, p.key \
                     FROM tags t LEFT JOIN tag_keys p ON p.id = t.parent_id \
                     WHERE t.facet = ?1 AND t.name = ?2",
                )?
                .query_row(params![tag.facet.as_str(), tag.name], |r| {
                    Ok(TagValue {
                        description: r.get(0)?,
                        valence: r.get(1)?,
                        stage: r.get(2)?,
                        statement: r.get(3)?,
                        colour: r.get(4)?,
                        memo: r.get(5)?,
                        parent: r.get(6)?,
                    })
                })
                .optional()?;
            row.map_or(Ok(Value::Null), |v| encode(&v))
        }
        "participant" => {
            let row = conn
                .prepare_cached(
                    "SELECT consent, consent_date, contact FROM participants WHERE pseudonym = ?1",
                )?
                .query_row([key], |r| {
                    Ok(ParticipantValue {
                        consent: r.get(0)?,
                        consent_date: r.get(1)?,
                        contact: r.get(2)?,
                    })
                })
                .optional()?;
            row.map_or(Ok(Value::Null), |v| encode(&v))
        }
        "session" => {
            let row = conn
                .prepare_cached(
                    "SELECT st.name, s.kind, s.title, s.started_at, s.ended_at, s.researcher, \
                       s.location, s.channel, s.hlc \
                     FROM sessions s JOIN studies st ON st.id = s.study_id WHERE s.id = ?1",
                )?
                .query_row([key], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        [r.get(2)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                })
                .optional()?;
            let Some((
                study,
                kind,
                [title, ended_at, researcher, location, channel],
                started,
                stamp,
            )) = row
            else {
                return Ok(Value::Null);
            };
            encode(&SessionValue {
                study,
                kind: kind.parse().map_err(Error::Corrupt)?,
                title,
                started_at: started,
                ended_at,
                researcher,
                location,
                channel,
                participants: strings(
                    conn,
                    "SELECT p.pseudonym FROM session_participants sp \
                     JOIN participants p ON p.id = sp.participant_id \
                     WHERE sp.session_id = ?1 ORDER BY p.pseudonym",
                    key,
                )?,
                hlc: stamp,
            })
        }
        "masked" => {
            let (study, name) = split_key(key)?;
            let found = conn
                .prepare_cached(
                    "SELECT 1 FROM masked_names m JOIN studies s ON s.id = m.study_id \
                     WHERE s.name = ?1 AND m.name = ?2",
                )?
                .query_row(params![study, name], |_| Ok(()))
                .optional()?;
            Ok(if found.is_some() {
                json!(true)
            } else {
                Value::Null
            })
        }
        "scale" => {
            let (study, name) = split_key(key)?;
            let row = conn
                .prepare_cached(
                    "SELECT m.name, m.min, m.max, m.higher_is_better, m.whole, m.description \
                     FROM measure_scales m JOIN studies s ON s.id = m.study_id \
                     WHERE s.name = ?1 AND m.name = ?2",
                )?
                .query_row(params![study, name], super::measures::scale_from_row)
                .optional()?;
            row.map_or(Ok(Value::Null), |v| encode(&v))
        }
        "measure" => {
            let (session, name) = split_key(key)?;
            let value: Option<f64> = conn
                .prepare_cached(
                    "SELECT value FROM session_measures WHERE session_id = ?1 AND name = ?2",
                )?
                .query_row(params![session, name], |r| r.get(0))
                .optional()?;
            Ok(value.map_or(Value::Null, |v| json!(v)))
        }
        "theme" => {
            let row = conn
                .prepare_cached(
                    "SELECT status, label, phrases, created_at, updated_at FROM themes WHERE id = ?1",
                )?
                .query_row([key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let Some((status, label, phrases, created_at, updated_at)) = row else {
                return Ok(Value::Null);
            };
            encode(&ThemeValue {
                status,
                label,
                phrases: serde_json::from_str(&phrases)
                    .map_err(|e| Error::Corrupt(format!("theme {key} has broken phrases: {e}")))?,
                notes: strings(
                    conn,
                    "SELECT note_id FROM theme_notes WHERE theme_id = ?1 ORDER BY note_id",
                    key,
                )?,
                created_at,
                updated_at,
            })
        }
        "insight" => {
            let row = conn
                .prepare_cached(
                    "SELECT id, statement, theme_id, created_at, confidence FROM insights \
                     WHERE uid = ?1 ORDER BY id LIMIT 1",
                )?
                .query_row([key], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                })
                .optional()?;
            let Some((id, statement, theme, created_at, confidence)) = row else {
                return Ok(Value::Null);
            };
            encode(&InsightValue {
                statement,
                theme,
                notes: strings(
                    conn,
                    "SELECT note_id FROM insight_notes WHERE insight_id = ?1 ORDER BY note_id",
                    &id.to_string(),
                )?,
                created_at,
                confidence,
            })
        }
        "scorecard" => {
            let (name, version) = split_key(key)?;
            let row = conn
                .prepare_cached(
                    "SELECT definition, source, created_at FROM scorecards \
                     WHERE name = ?1 AND version = ?2",
                )?
                .query_row(params![name, version], |r| {
                    Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((definition, source, created_at)) = row else {
                return Ok(Value::Null);
            };
            encode(&ScorecardValue {
                definition: serde_json::from_str(&definition).map_err(|e| {
                    Error::Corrupt(format!("scorecard {name} v{version} is broken: {e}"))
                })?,
                source,
                created_at,
            })
        }
        "visit" => {
            let row = conn
                .prepare_cached(
                    "SELECT c.name, c.version FROM visits v JOIN scorecards c ON c.id = v.scorecard_id \
                     WHERE v.session_id = ?1",
                )?
                .query_row([key], |r| {
                    Ok(VisitValue {
                        scorecard: r.get(0)?,
                        version: r.get(1)?,
                    })
                })
                .optional()?;
            row.map_or(Ok(Value::Null), |v| encode(&v))
        }
        "answer" => {
            let (session, criterion) = split_key(key)?;
            let row = conn
                .prepare_cached(
                    "SELECT value, na, note_id, answered_at FROM visit_answers \
                     WHERE session_id = ?1 AND criterion = ?2",
                )?
                .query_row(params![session, criterion], |r| {
                    Ok(AnswerValue {
                        value: r.get(0)?,
                        na: r.get(1)?,
                        note: r.get(2)?,
                        answered_at: r.get(3)?,
                    })
                })
                .optional()?;
            row.map_or(Ok(Value::Null), |v| encode(&v))
        }
        "coding" => {
            let k = coding_key(kind, key)?;
            let found = conn
                .prepare_cached(
                    "SELECT 1 FROM note_codings c JOIN tags t ON t.id = c.tag_id \
                     WHERE c.note_id = ?1 AND t.facet = ?2 AND t.name = ?3 AND c.coder = ?4",
                )?
                .query_row(
                    params![k.note, k.tag.facet.as_str(), k.tag.name, k.coder],
                    |_| Ok(()),
                )
                .optional()?;
            Ok(if found.is_some() {
                json!(true)
            } else {
                Value::Null
            })
        }
        "passage" => {
            let k = coding_key(kind, key)?;
            let row = conn
                .prepare_cached(
                    "SELECT p.start, p.end, p.created_at FROM passages p JOIN tags t ON t.id = p.tag_id \
                     WHERE p.note_id = ?1 AND t.facet = ?2 AND t.name = ?3 AND p.coder = ?4 \
                       AND p.text = ?5 ORDER BY p.start LIMIT 1",
                )?
                .query_row(
                    params![k.note, k.tag.facet.as_str(), k.tag.name, k.coder, k.words],
                    |r| {
                        Ok(PassageValue {
                            start: r.get::<_, i64>(0)?.max(0) as usize,
                            end: r.get::<_, i64>(1)?.max(0) as usize,
                            created_at: r.get(2)?,
                        })
                    },
                )
                .optional()?;
            row.map_or(Ok(Value::Null), |v| encode(&v))
        }
        // A kind a newer fieldnotes writes: nothing here holds it.
        _ => Ok(Value::Null),
    }
}

/// Applies a coding or passage record to its note; a note not here yet is left alone (its
/// records are applied again when it comes: see `reapply_codings_in`).
fn apply_coding(tx: &Connection, kind: &str, key: &str, value: &Value) -> Result<()> {
    let k = coding_key(kind, key)?;
    let body: Option<String> = tx
        .prepare_cached("SELECT body FROM notes WHERE id = ?1")?
        .query_row([k.note], |r| r.get(0))
        .optional()?;
    let Some(body) = body else {
        return Ok(());
    };
    let changed = match (k.words, value.is_null()) {
        (None, true) => {
            let tag_id: Option<i64> = tx
                .prepare_cached("SELECT id FROM tags WHERE facet = ?1 AND name = ?2")?
                .query_row(params![k.tag.facet.as_str(), k.tag.name], |r| r.get(0))
                .optional()?;
            if let Some(id) = tag_id {
                let typed = crate::model::tags_of(&body).contains(&k.tag);
                super::passages::uncode_note_in(tx, k.note, id, Some(k.coder), typed)?;
            }
            // `uncode_note_in` marks the note changed itself.
            false
        }
        (None, false) => {
            super::passages::code_note_in(tx, k.note, &k.tag, k.coder)?;
            false
        }
        (Some(words), true) => {
            tx.prepare_cached(
                "DELETE FROM passages WHERE note_id = ?1 AND coder = ?4 AND text = ?5 \
                   AND tag_id = (SELECT id FROM tags WHERE facet = ?2 AND name = ?3)",
            )?
            .execute(params![
                k.note,
                k.tag.facet.as_str(),
                k.tag.name,
                k.coder,
                words
            ])? > 0
        }
        (Some(words), false) => {
            let present = tx
                .prepare_cached(
                    "SELECT 1 FROM passages WHERE note_id = ?1 AND coder = ?4 AND text = ?5 \
                       AND tag_id = (SELECT id FROM tags WHERE facet = ?2 AND name = ?3)",
                )?
                .exists(params![
                    k.note,
                    k.tag.facet.as_str(),
                    k.tag.name,
                    k.coder,
                    words
                ])?;
            if present {
                false
            } else {
                let v: PassageValue = decode(kind, key, value)?;
                let passage = super::PassageRecord {
                    tag: k.tag.clone(),
                    start: v.start,
                    end: v.end.max(v.start + 1),
                    text: Some(words.to_owned()),
                    coder: k.coder.to_owned(),
                    lost: false,
                    created_at: time::from_db(&v.created_at)?,
                };
                super::passages::insert_passages_in(tx, k.note, &body, &[passage])? > 0
            }
        }
    };
    if changed {
        super::passages::touch_note(tx, k.note)?;
    }
    Ok(())
}

/// Whether any coding or passage is a record here (else no note has records to apply again).
pub(crate) fn codings_recorded(tx: &Connection) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM sync_records WHERE kind IN ('coding', 'passage') LIMIT 1")?
        .exists([])?)
}

/// Applies again the coding and passage records of a note a merge just wrote: what the
/// note's payload carried (a union of both sides' codings) gives way to what the newest
/// coding or removal says.
pub(crate) fn reapply_codings_in(tx: &Connection, note: &str) -> Result<()> {
    let records: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT kind, key, value FROM sync_records \
             WHERE kind IN ('coding', 'passage') AND key > ?1 AND key < ?2 AND value IS NOT NULL",
        )?;
        stmt.query_map(
            params![format!("{note}\u{1f}"), format!("{note}\u{20}")],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<Result<_, _>>()?
    };
    for (kind, key, value) in records {
        let value: Value = serde_json::from_str(&value)
            .map_err(|e| Error::Corrupt(format!("the {kind} record {key:?} is broken: {e}")))?;
        apply_coding(tx, &kind, &key, &value)?;
    }
    Ok(())
}

/// Writes a record's value into the archive (inside a merge, while its stamps are kept).
fn apply_value(tx: &Connection, kind: &str, key: &str, value: &Value) -> Result<()> {
    match kind {
        "tag" => {
            let tag = Tag::parse_token(key)
                .ok_or_else(|| Error::BadValue(format!("{key:?} in a tag record is not a tag")))?;
            if value.is_null() {
                // A tag renamed or merged away elsewhere goes when nothing here uses it.
                tx.execute(
                    "DELETE FROM tags WHERE facet = ?1 AND name = ?2 \
                       AND NOT EXISTS (SELECT 1 FROM note_tags n WHERE n.tag_id = tags.id) \
                       AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.tag_id = tags.id) \
                       AND NOT EXISTS (SELECT 1 FROM bulk_codings b WHERE b.tag_id = tags.id) \
                       AND NOT EXISTS (SELECT 1 FROM tags c WHERE c.parent_id = tags.id)",
                    params![tag.facet.as_str(), tag.name],
                )?;
                return Ok(());
            }
            let v: TagValue = decode(kind, key, value)?;
            if v.valence.is_some_and(|x| !(-2..=2).contains(&x)) {
                return Err(Error::BadValue(format!(
                    "the tag record {key:?} gives a valence outside -2…2"
                )));
            }
            let id = tag_id(tx, &tag)?;
            // The parent is set by `resolve_hierarchy`, from every tag's record at once.
            tx.execute(
                "UPDATE tags SET description = ?2, valence = ?3, stage = ?4, statement = ?5, \
                   colour = ?6, memo = ?7 WHERE id = ?1",
                params![
                    id,
                    v.description,
                    v.valence,
                    v.stage,
                    v.statement,
                    v.colour,
                    v.memo
                ],
            )?;
        }
        "participant" => {
            if value.is_null() {
                return Ok(());
            }
            let v: ParticipantValue = decode(kind, key, value)?;
            let p = Participant {
                pseudonym: key.to_owned(),
                consent: v.consent,
                consent_date: v.consent_date,
                contact: v.contact,
            };
            let id = participant_id(tx, &p)?;
            tx.execute(
                "UPDATE participants SET consent = ?2, consent_date = ?3, contact = ?4 WHERE id = ?1",
                params![id, p.consent, p.consent_date, p.contact],
            )?;
        }
        "session" => {
            if value.is_null() {
                return Ok(());
            }
            let v: SessionValue = decode(kind, key, value)?;
            let session = NewSession {
                id: Some(key.to_owned()),
                study: v.study,
                kind: v.kind,
                title: v.title,
                started_at: Some(time::from_db(&v.started_at)?),
                ended_at: v.ended_at.as_deref().map(time::from_db).transpose()?,
                researcher: v.researcher,
                location: v.location,
                channel: v.channel,
                participants: v
                    .participants
                    .into_iter()
                    .map(|pseudonym| Participant {
                        pseudonym,
                        consent: false,
                        consent_date: None,
                        contact: None,
                    })
                    .collect(),
                measures: Vec::new(),
                stamp: v.hlc,
            };
            let existed = tx
                .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?
                .query_row([key], |_| Ok(()))
                .optional()?
                .is_some();
            insert_session(tx, &session)?;
            if existed {
                super::merge::unify_session(tx, key, &session)?;
            }
        }
        "masked" => {
            let (study, name) = split_key(key)?;
            if value.is_null() {
                tx.execute(
                    "DELETE FROM masked_names WHERE name = ?2 \
                       AND study_id = (SELECT id FROM studies WHERE name = ?1)",
                    params![study, name],
                )?;
            } else {
                let sid = study_id(tx, study)?;
                tx.execute(
                    "INSERT OR IGNORE INTO masked_names (study_id, name) VALUES (?1, ?2)",
                    params![sid, name],
                )?;
            }
        }
        "scale" => {
            let (study, name) = split_key(key)?;
            if value.is_null() {
                tx.execute(
                    "DELETE FROM measure_scales WHERE name = ?2 \
                       AND study_id = (SELECT id FROM studies WHERE name = ?1)",
                    params![study, name],
                )?;
            } else {
                let s: MeasureScale = decode(kind, key, value)?;
                // (NaN included: it is no bound.)
                if s.max.partial_cmp(&s.min) != Some(std::cmp::Ordering::Greater) {
                    return Err(Error::BadValue(format!(
                        "the scale record {key:?} ends before it starts"
                    )));
                }
                let sid = study_id(tx, study)?;
                tx.execute(
                    "INSERT OR REPLACE INTO measure_scales \
                       (study_id, name, min, max, higher_is_better, whole, description) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        sid,
                        name,
                        s.min,
                        s.max,
                        s.higher_is_better,
                        s.whole,
                        s.description
                    ],
                )?;
            }
        }
        "measure" => {
            let (session, name) = split_key(key)?;
            if value.is_null() {
                tx.execute(
                    "DELETE FROM session_measures WHERE session_id = ?1 AND name = ?2",
                    params![session, name],
                )?;
            } else {
                let v: f64 = decode(kind, key, value)?;
                // A session not here yet: applied again once it is (see the module's rules).
                tx.execute(
                    "INSERT OR REPLACE INTO session_measures (session_id, name, value) \
                     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?1)",
                    params![session, name, v],
                )?;
            }
        }
        "theme" => {
            if value.is_null() {
                tx.execute("DELETE FROM themes WHERE id = ?1", [key])?;
                return Ok(());
            }
            let v: ThemeValue = decode(kind, key, value)?;
            if !matches!(v.status.as_str(), "kept" | "dismissed") {
                return Err(Error::BadValue(format!(
                    "the theme record {key:?} is neither kept nor dismissed"
                )));
            }
            let phrases = serde_json::to_string(&v.phrases)
                .map_err(|e| Error::Corrupt(format!("cannot write a theme's phrases: {e}")))?;
            tx.execute(
                "INSERT INTO themes (id, status, label, phrases, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET status = ?2, label = ?3, phrases = ?4, \
                   created_at = ?5, updated_at = ?6",
                params![key, v.status, v.label, phrases, v.created_at, v.updated_at],
            )?;
            tx.execute("DELETE FROM theme_notes WHERE theme_id = ?1", [key])?;
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO theme_notes (theme_id, note_id) SELECT ?1, id FROM notes WHERE id = ?2",
            )?;
            for note in &v.notes {
                link.execute(params![key, note])?;
            }
        }
        "insight" => {
            let mut id: Option<i64> = tx
                .prepare_cached("SELECT id FROM insights WHERE uid = ?1 ORDER BY id LIMIT 1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            if id.is_none() && !value.is_null() {
                // The same insight read from a file's curation line, which names it by its
                // statement now: it takes the record's key.
                let v: InsightValue = decode(kind, key, value)?;
                id = tx
                    .prepare_cached(
                        "SELECT id FROM insights WHERE created_at = ?1 AND statement = ?2 \
                         ORDER BY id LIMIT 1",
                    )?
                    .query_row(params![v.created_at, v.statement], |r| r.get(0))
                    .optional()?;
                if let Some(id) = id {
                    tx.execute(
                        "UPDATE insights SET uid = ?2 WHERE id = ?1",
                        params![id, key],
                    )?;
                }
            }
            if value.is_null() {
                if let Some(id) = id {
                    tx.execute("DELETE FROM insights WHERE id = ?1", [id])?;
                }
                return Ok(());
            }
            let v: InsightValue = decode(kind, key, value)?;
            if let Some(c) = &v.confidence {
                c.parse::<crate::model::InsightConfidence>()
                    .map_err(Error::BadValue)?;
            }
            let id = match id {
                Some(id) => {
                    tx.execute(
                        "UPDATE insights SET statement = ?2, created_at = ?3, confidence = ?4, \
                           theme_id = (SELECT id FROM themes WHERE id = ?5) WHERE id = ?1",
                        params![id, v.statement, v.created_at, v.confidence, v.theme],
                    )?;
                    id
                }
                None => {
                    tx.execute(
                        "INSERT INTO insights (statement, theme_id, created_at, confidence, uid) \
                         VALUES (?1, (SELECT id FROM themes WHERE id = ?2), ?3, ?4, ?5)",
                        params![v.statement, v.theme, v.created_at, v.confidence, key],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            tx.execute("DELETE FROM insight_notes WHERE insight_id = ?1", [id])?;
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO insight_notes (insight_id, note_id) SELECT ?1, id FROM notes WHERE id = ?2",
            )?;
            for note in &v.notes {
                link.execute(params![id, note])?;
            }
        }
        "scorecard" => {
            if value.is_null() {
                return Ok(());
            }
            let (name, version) = split_key(key)?;
            let version: i64 = version
                .parse()
                .map_err(|_| Error::BadValue(format!("{key:?} names no scorecard version")))?;
            let v: ScorecardValue = decode(kind, key, value)?;
            // Read as the archive reads a kept template, so a bad record cannot break a visit.
            serde_json::from_value::<crate::mystery_shop::Scorecard>(v.definition.clone())
                .map_err(|e| {
                    Error::BadValue(format!("the scorecard record {key:?} is not one: {e}"))
                })?;
            tx.execute(
                "INSERT INTO scorecards (name, version, definition, source, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name, version) DO UPDATE \
                 SET definition = ?3, source = ?4, created_at = ?5",
                params![
                    name,
                    version,
                    v.definition.to_string(),
                    v.source,
                    v.created_at
                ],
            )?;
        }
        "visit" => {
            if value.is_null() {
                return Ok(());
            }
            let v: VisitValue = decode(kind, key, value)?;
            // A session or scorecard not here yet: applied again once they are.
            tx.execute(
                "INSERT INTO visits (session_id, scorecard_id) \
                 SELECT ?1, c.id FROM scorecards c WHERE c.name = ?2 AND c.version = ?3 \
                   AND EXISTS (SELECT 1 FROM sessions WHERE id = ?1) \
                 ON CONFLICT (session_id) DO UPDATE SET scorecard_id = excluded.scorecard_id",
                params![key, v.scorecard, v.version],
            )?;
        }
        "answer" => {
            let (session, criterion) = split_key(key)?;
            if value.is_null() {
                tx.execute(
                    "DELETE FROM visit_answers WHERE session_id = ?1 AND criterion = ?2",
                    params![session, criterion],
                )?;
                return Ok(());
            }
            let v: AnswerValue = decode(kind, key, value)?;
            // A visit not here yet: applied again once it is; its evidence note likewise.
            tx.execute(
                "INSERT INTO visit_answers (session_id, criterion, value, na, note_id, answered_at) \
                 SELECT ?1, ?2, ?3, ?4, (SELECT id FROM notes WHERE id = ?5), ?6 \
                 WHERE EXISTS (SELECT 1 FROM visits WHERE session_id = ?1) \
                 ON CONFLICT (session_id, criterion) DO UPDATE SET value = ?3, na = ?4, \
                   note_id = excluded.note_id, answered_at = ?6",
                params![session, criterion, v.value, v.na, v.note, v.answered_at],
            )?;
        }
        "coding" | "passage" => apply_coding(tx, kind, key, value)?,
        // A kind a newer fieldnotes writes: kept as a record, nothing here to write.
        _ => {}
    }
    Ok(())
}

/// The codebook's parents, worked out from every tag's record (see the module's rules).
fn resolve_hierarchy(tx: &Connection) -> Result<()> {
    let ids: HashMap<String, i64> = {
        let mut stmt = tx.prepare("SELECT key, id FROM tag_keys")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut parent: HashMap<i64, Option<i64>> = {
        let mut stmt = tx.prepare("SELECT id, parent_id FROM tags")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let before = parent.clone();
    let mut edges: Vec<(String, i64, Option<i64>)> = Vec::new();
    {
        let mut stmt = tx.prepare(
            "SELECT key, hlc, value FROM sync_records WHERE kind = 'tag' AND value IS NOT NULL",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (key, stamp, value) in rows {
            let Some(&child) = ids.get(&key) else {
                continue;
            };
            let wanted = serde_json::from_str::<Value>(&value)
                .ok()
                .and_then(|v| v.get("parent").and_then(Value::as_str).map(str::to_owned))
                // A parent of another facet is not one (see `Store::set_parent`).
                .filter(|p| p.chars().next() == key.chars().next())
                .and_then(|p| ids.get(&p).copied());
            parent.insert(child, None);
            edges.push((stamp, child, wanted));
        }
    }
    edges.sort();
    for (_, child, wanted) in edges {
        let Some(wanted) = wanted else { continue };
        // Walk up from the parent wanted: meeting the child would close a cycle.
        let mut at = Some(wanted);
        let mut steps = 0;
        while let Some(node) = at {
            if node == child || steps > parent.len() {
                break;
            }
            at = parent.get(&node).copied().flatten();
            steps += 1;
        }
        if at.is_none() {
            parent.insert(child, Some(wanted));
        }
    }
    let mut set = tx.prepare_cached("UPDATE tags SET parent_id = ?2 WHERE id = ?1")?;
    for (id, p) in parent {
        if before.get(&id) != Some(&p) {
            set.execute(params![id, p])?;
        }
    }
    Ok(())
}

/// The records changed here whose value is still to be read: through their own index
/// (`sync_records_unfrozen`), since every imported record line asks.
const UNFROZEN: &str = "SELECT kind, key FROM sync_records WHERE value IS NULL";

/// Gives every record changed here its value as the archive holds it now, so nothing a merge
/// writes later can change a value under a stamp already taken.
pub(crate) fn freeze_records_in(tx: &Connection) -> Result<()> {
    let changed: Vec<(String, String)> = {
        let mut stmt = tx.prepare_cached(UNFROZEN)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut set =
        tx.prepare_cached("UPDATE sync_records SET value = ?3 WHERE kind = ?1 AND key = ?2")?;
    for (kind, key) in changed {
        let value = read_value(tx, &kind, &key)?;
        set.execute(params![kind, key, value.to_string()])?;
    }
    Ok(())
}

impl Store {
    /// The studies a record goes to on a team server: a session's, masked name's, scale's or
    /// measure's own study; a participant's sessions' studies; a theme's or insight's notes'
    /// studies (what it says is of them: a login outside those studies must not read it); the
    /// codebook (and a participant in no session, a theme or insight citing no note) to every
    /// study here.
    pub(crate) fn record_studies(&self, r: &StampedRecord) -> Result<Vec<String>> {
        let conn = self.conn();
        let studies = match r.kind.as_str() {
            "session" => r
                .value
                .get("study")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .into_iter()
                .collect(),
            "masked" | "scale" => vec![split_key(&r.key)?.0.to_owned()],
            "visit" | "answer" => strings(
                conn,
                "SELECT st.name FROM sessions s JOIN studies st ON st.id = s.study_id WHERE s.id = ?1",
                r.key.split('\u{1f}').next().unwrap_or_default(),
            )?,
            "coding" | "passage" => strings(
                conn,
                "SELECT st.name FROM notes n JOIN sessions s ON s.id = n.session_id \
                 JOIN studies st ON st.id = s.study_id WHERE n.id = ?1",
                split_key(&r.key)?.0,
            )?,
            "measure" => strings(
                conn,
                "SELECT st.name FROM sessions s JOIN studies st ON st.id = s.study_id WHERE s.id = ?1",
                split_key(&r.key)?.0,
            )?,
            "theme" | "insight" => {
                let mut stmt = conn.prepare_cached(
                    "SELECT st.name FROM notes n JOIN sessions s ON s.id = n.session_id \
                     JOIN studies st ON st.id = s.study_id WHERE n.id = ?1",
                )?;
                let mut names = BTreeSet::new();
                let notes = r.value.get("notes").and_then(Value::as_array);
                for note in notes.into_iter().flatten().filter_map(Value::as_str) {
                    if let Some(name) = stmt.query_row([note], |row| row.get(0)).optional()? {
                        names.insert(name);
                    }
                }
                names.into_iter().collect()
            }
            "participant" => strings(
                conn,
                "SELECT DISTINCT st.name FROM participants p \
                 JOIN session_participants sp ON sp.participant_id = p.id \
                 JOIN sessions s ON s.id = sp.session_id JOIN studies st ON st.id = s.study_id \
                 WHERE p.pseudonym = ?1 ORDER BY st.name",
                &r.key,
            )?,
            _ => Vec::new(),
        };
        if !studies.is_empty()
            || matches!(
                r.kind.as_str(),
                "session" | "measure" | "visit" | "answer" | "coding" | "passage"
            )
        {
            return Ok(studies);
        }
        let mut stmt = conn.prepare_cached("SELECT name FROM studies ORDER BY name")?;
        let all = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(all)
    }

    /// Every record (those with seq after `after` when given), in kind order then key.
    pub(crate) fn stamped_records(&self, after: Option<i64>) -> Result<Vec<(i64, StampedRecord)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT kind, key, hlc, value, seq FROM sync_records WHERE seq > ?1 ORDER BY kind, key",
        )?;
        let rows = stmt
            .query_map([after.unwrap_or(-1)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut records = rows
            .into_iter()
            .map(|(kind, key, stamp, value, seq)| {
                let value = match value {
                    Some(text) => serde_json::from_str(&text).map_err(|e| {
                        Error::Corrupt(format!("the {kind} record {key:?} is broken: {e}"))
                    })?,
                    None => read_value(conn, &kind, &key)?,
                };
                Ok((
                    seq,
                    StampedRecord {
                        kind,
                        key,
                        hlc: stamp,
                        value,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        records.sort_by(|(_, a), (_, b)| {
            (kind_rank(&a.kind), &a.kind, &a.key).cmp(&(kind_rank(&b.kind), &b.kind, &b.key))
        });
        Ok(records)
    }
}

/// Applies records another archive stamped, inside a merge's transaction (stamps kept):
/// each one newer than this archive's record of the same kind and key replaces it. With
/// `restore` (an import of a file) the file's records replace this archive's whatever
/// their stamps. `linked`: the merge brought notes or sessions, so records that link to
/// them are applied again. Returns how many records changed here.
pub(crate) fn merge_records_in(
    tx: &Connection,
    incoming: &[StampedRecord],
    restore: bool,
    linked: bool,
) -> Result<u64> {
    freeze_records_in(tx)?;
    let mut applied = 0;
    let mut tags = false;
    for r in incoming {
        if hlc::parts(&r.hlc).is_none() {
            return Err(Error::BadValue(format!(
                "the {} record {:?} has no stamp ({:?})",
                r.kind, r.key, r.hlc
            )));
        }
        // Every stamp seen moves the clock, applied or not: what is written here next is
        // newer than anything this archive has seen.
        hlc::observe_in(tx, &r.hlc)?;
        let local: Option<String> = tx
            .prepare_cached("SELECT hlc FROM sync_records WHERE kind = ?1 AND key = ?2")?
            .query_row(params![r.kind, r.key], |row| row.get(0))
            .optional()?;
        if !restore && local.as_deref().is_some_and(|l| l >= r.hlc.as_str()) {
            continue;
        }
        apply_value(tx, &r.kind, &r.key, &r.value)?;
        let seq: i64 = tx
            .prepare_cached(
                "UPDATE sync_clock SET records_seq = records_seq + 1 RETURNING records_seq",
            )?
            .query_row([], |row| row.get(0))?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO sync_records (kind, key, hlc, value, seq) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![r.kind, r.key, r.hlc, r.value.to_string(), seq])?;
        tags |= r.kind == "tag";
        applied += 1;
    }
    if tags {
        resolve_hierarchy(tx)?;
    }
    if linked || (applied > 0 && !restore) {
        let again: Vec<(String, String, String)> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT kind, key, value FROM sync_records \
                 WHERE kind IN ({LINKING}) AND value IS NOT NULL AND value <> 'null'"
            ))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        for (kind, key, value) in again {
            let value: Value = serde_json::from_str(&value)
                .map_err(|e| Error::Corrupt(format!("the {kind} record {key:?} is broken: {e}")))?;
            apply_value(tx, &kind, &key, &value)?;
        }
    }
    Ok(applied)
}

/// Whether a participant's details are a record here (then a session line's copy of them,
/// which carries no stamp, changes nothing).
pub(crate) fn participant_recorded(tx: &Connection, pseudonym: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM sync_records WHERE kind = 'participant' AND key = ?1")?
        .query_row([pseudonym], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_records_to_freeze_are_read_from_their_own_index() {
        let tmp = tempfile::tempdir().unwrap();
        let store = super::Store::open(&tmp.path().join("fieldnotes.db")).unwrap();
        let steps: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {}", super::UNFROZEN))
            .unwrap()
            .query_map([], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            steps.iter().any(|s| s.contains("sync_records_unfrozen")),
            "every record would be read for each one imported: {steps:?}"
        );
    }
}
