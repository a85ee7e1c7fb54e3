//! Team merge: bringing another researcher's notes into this archive, from a JSONL file, an
//! archive folder or a team server's sync (the same function for all three).
//!
//! The merge is a union that converges: merging twice changes nothing the second time, and
//! merging A into B gives the same notes as merging B into A, whatever the order of many.
//! Changes are ordered by their hybrid-clock stamps (`store::hlc`), not by laptop clocks.
//!
//! - Same id, same note. Every version either side has of it (the current text and each
//!   revision) is collected; identical versions (same time, kind, text and tags) count once;
//!   they are ordered by stamp, the newest is the note's text and the others are its
//!   revisions. So edits made on both laptops are all kept, the newest winning.
//! - Trash and restore are both stamped events: the newest one decides, so a restore beats
//!   an older delete. An edit stamped after the newest delete brings the note back.
//! - Sessions, participants and tags are matched by id, pseudonym and name; what is missing is
//!   added. A session's details (title, end, researcher, location, channel) are those with the
//!   newest stamp. A participant's consent and details are a stamped record (newest wins, so
//!   a withdrawal travels); only from a file without records does consent count when either
//!   side recorded it.
//! - Everything else that is shared (the codebook, masked names, curation, insights, measure
//!   scales and session measures, sessions without notes) comes as stamped records: see
//!   `store::records`.
//! - Codings are a union: every passage either side coded (found again by its words in the
//!   merged text, or kept as lost), and every tag a coder gave beside the text, with its coder.
//! - The archive's clock moves past every stamp merged in, so what is written next here is
//!   newer than anything seen.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::notes::{insert_note, write_tags_and_revisions};
use super::passages::{insert_passages_in, reanchor_in, touch_note};
use super::records::{
    StampedRecord, codings_recorded, freeze_records_in, merge_records_in, participant_recorded,
    reapply_codings_in,
};
use super::sessions::{NewSession, insert_session, participant_id};
use super::{NoteRecord, Store, hlc, next_change};
use crate::error::Result;
use crate::model::{Participant, Revision, Tag};
use crate::time;

/// What a merge takes in: notes with their sessions, and stamped records.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub notes: Vec<(NewSession, NoteRecord)>,
    pub records: Vec<StampedRecord>,
}

impl Incoming {
    /// How many notes and records.
    pub fn len(&self) -> usize {
        self.notes.len() + self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MergeCounts {
    /// Notes this archive did not have.
    pub added: u64,
    /// Notes both had, changed by what the other side knew (edits, trash).
    pub updated: u64,
    /// Notes both had, already the same.
    pub unchanged: u64,
    pub sessions_added: u64,
    /// Stamped records (codebook, consent, curation…) that changed this archive.
    pub records: u64,
}

/// The smaller of two values when both are there, else whichever is: the same answer
/// whichever side is which.
fn either<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What makes two versions the same version, whatever their stamps say.
fn version_key(v: &Revision) -> (chrono::DateTime<chrono::Utc>, &str, &str, &[Tag]) {
    (v.written_at, v.kind.as_str(), &v.body, &v.tags)
}

/// A version's stamp, its time standing in for one written before stamps.
fn version_stamp(v: &Revision) -> String {
    hlc::effective(v.stamp.as_deref(), v.written_at)
}

/// A note's last trash or restore: (its stamp, whether it put the note in the trash).
fn trash_event(n: &NoteRecord) -> Option<(String, bool)> {
    match (&n.trash_stamp, n.deleted_at) {
        (Some(stamp), at) => Some((stamp.clone(), at.is_some())),
        (None, Some(at)) => Some((hlc::legacy(at), true)),
        (None, None) => None,
    }
}

/// The note both sides' versions make together (see the module's rules). Pure.
pub fn merge_note(local: &NoteRecord, other: &NoteRecord) -> NoteRecord {
    let current = |n: &NoteRecord| Revision {
        kind: n.kind,
        body: n.body.clone(),
        tags: n.tags.clone(),
        written_at: n.updated_at,
        stamp: n.stamp.clone(),
    };
    let coded: Vec<&Tag> = local
        .coders
        .iter()
        .chain(&other.coders)
        .map(|(t, _)| t)
        .collect();
    let mut versions: Vec<Revision> = local
        .revisions
        .iter()
        .cloned()
        .chain([current(local)])
        .chain(other.revisions.iter().cloned())
        .chain([current(other)])
        .map(|mut v| {
            // Coded tags are kept apart from the versions (see below), so one side having
            // coded the note does not make its text a different version.
            v.tags.retain(|t| !coded.contains(&t));
            v.tags.sort();
            v.tags.dedup();
            v
        })
        .collect();
    // The same version met twice keeps its largest stamp (a stamp beats none).
    versions.sort_by(|a, b| {
        version_key(a)
            .cmp(&version_key(b))
            .then(a.stamp.cmp(&b.stamp))
    });
    versions.reverse();
    versions.dedup_by(|a, b| version_key(a) == version_key(b));
    versions.sort_by(|a, b| {
        version_stamp(a)
            .cmp(&version_stamp(b))
            .then_with(|| version_key(a).cmp(&version_key(b)))
    });
    let newest = versions.pop().expect("each side has a current version");
    // The newest trash or restore decides; a tie (the same event) counts as a delete.
    let trash = match (trash_event(local), trash_event(other)) {
        (Some(a), Some(b)) => Some(if b > a { (b, other) } else { (a, local) }),
        (Some(a), None) => Some((a, local)),
        (None, Some(b)) => Some((b, other)),
        (None, None) => None,
    };
    let (deleted_at, trash_stamp) = match trash {
        None => (None, None),
        Some(((stamp, deleted), side)) => {
            let in_trash = deleted && stamp >= version_stamp(&newest);
            let deleted_at = if in_trash { side.deleted_at } else { None };
            (deleted_at, side.trash_stamp.clone())
        }
    };
    // A tag a coder gave beside the text is a coding, not part of a version: like passages,
    // codings from either side are kept.
    let mut tags = newest.tags;
    for tag in coded {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags.sort();
    tags.dedup();
    NoteRecord {
        id: local.id.clone(),
        session: local.session.clone().min(other.session.clone()),
        kind: newest.kind,
        body: newest.body,
        tags,
        participant: either(local.participant.clone(), other.participant.clone()),
        created_at: local.created_at.min(other.created_at),
        updated_at: newest.written_at,
        stamp: newest.stamp,
        trash_stamp,
        offset_ms: either(local.offset_ms, other.offset_ms),
        source: either(local.source.clone(), other.source.clone()),
        feedback: either(local.feedback, other.feedback),
        deleted_at,
        revisions: versions,
        // Codings are a union: every passage either side coded (the store finds each again
        // in the merged text), and every coder's whole-note codings.
        passages: {
            let mut all: Vec<_> = local
                .passages
                .iter()
                .chain(&other.passages)
                .cloned()
                .collect();
            all.sort();
            all.dedup_by(|a, b| {
                (&a.tag, a.start, a.end, &a.coder) == (&b.tag, b.start, b.end, &b.coder)
            });
            all
        },
        coders: {
            let mut all: Vec<_> = local.coders.iter().chain(&other.coders).cloned().collect();
            all.sort();
            all.dedup();
            all
        },
    }
}

impl Store {
    /// Merges another archive's notes (with their sessions) in one transaction.
    pub(crate) fn merge(&self, incoming: &Incoming) -> Result<MergeCounts> {
        let tx = self.write()?;
        let counts = self.merge_in(&tx, incoming, &mut |_| Ok(()))?;
        tx.commit()?;
        Ok(counts)
    }

    /// The merge, inside `tx` (a sync's batch adds its cursor to the same transaction).
    /// `same_as_incoming` is called with each note left exactly as the other side has it.
    pub(crate) fn merge_in(
        &self,
        tx: &rusqlite::Connection,
        all: &Incoming,
        same_as_incoming: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<MergeCounts> {
        // Values of records changed here are taken before the merge writes anything.
        freeze_records_in(tx)?;
        // Asked once: an archive whose codings never were records (most pulls into a new
        // laptop) skips the lookup for each note.
        let codings_recorded = codings_recorded(tx)?;
        let incoming = &all.notes;
        // What this merge writes keeps the other side's stamps.
        hlc::applying_in(tx, true)?;
        let mut newest_seen: Option<&str> = None;
        let mut counts = MergeCounts::default();
        let mut tag_ids = HashMap::new();
        let mut sessions_seen = std::collections::HashSet::new();
        for (session, other) in incoming {
            for stamp in [&session.stamp, &other.stamp, &other.trash_stamp]
                .into_iter()
                .flatten()
            {
                if newest_seen.is_none_or(|n| stamp.as_str() > n) {
                    newest_seen = Some(stamp);
                }
            }
            let id = session.id.clone().unwrap_or_default();
            if sessions_seen.insert(id.clone()) {
                let existed = self.session_exists(&id)?;
                insert_session(tx, session)?;
                if existed {
                    unify_session(tx, &id, session)?;
                } else {
                    counts.sessions_added += 1;
                }
                for p in &session.participants {
                    unify_participant(tx, p)?;
                }
            }
            if let Some(p) = &other.participant {
                participant_id(
                    tx,
                    &Participant {
                        pseudonym: p.clone(),
                        consent: false,
                        consent_date: None,
                        contact: None,
                    },
                )?;
            }
            match self.note_record(&other.id)? {
                None => {
                    let seq = next_change(tx)?;
                    insert_note(tx, other, other.stamp.as_deref(), &mut tag_ids, seq)?;
                    counts.added += 1;
                    same_as_incoming(&other.id)?;
                }
                Some(local) => {
                    let merged = merge_note(&local, other);
                    let rewritten = !same_note(&merged, &local);
                    if rewritten {
                        let seq = next_change(tx)?;
                        rewrite_note(tx, &merged, &mut tag_ids, seq)?;
                        if merged.body != local.body {
                            // This side's passages follow their words into the merged text.
                            reanchor_in(tx, &merged.id, &merged.body)?;
                        }
                    }
                    let coded = insert_passages_in(tx, &merged.id, &merged.body, &other.passages)?;
                    if coded > 0 {
                        touch_note(tx, &merged.id)?;
                    }
                    if same_note(&merged, other) {
                        same_as_incoming(&merged.id)?;
                    }
                    if rewritten || coded > 0 {
                        counts.updated += 1;
                    } else {
                        counts.unchanged += 1;
                    }
                }
            }
            // The union of codings gives way to the newest coding or removal of each (after
            // the echo above: a removal made here is this archive's change to send).
            if codings_recorded {
                reapply_codings_in(tx, &other.id)?;
            }
        }
        if let Some(stamp) = newest_seen {
            hlc::observe_in(tx, stamp)?;
        }
        let linked = counts.added > 0 || counts.sessions_added > 0;
        counts.records = merge_records_in(tx, &all.records, false, linked)?;
        hlc::applying_in(tx, false)?;
        Ok(counts)
    }

    fn session_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

fn same_note(a: &NoteRecord, b: &NoteRecord) -> bool {
    let sorted = |n: &NoteRecord| {
        let mut tags = n.tags.clone();
        tags.sort();
        tags
    };
    let sorted_coders = |n: &NoteRecord| {
        let mut coders = n.coders.clone();
        coders.sort();
        coders
    };
    a.kind == b.kind
        && a.body == b.body
        && sorted(a) == sorted(b)
        && a.updated_at == b.updated_at
        && a.created_at == b.created_at
        && a.deleted_at == b.deleted_at
        && a.participant == b.participant
        && a.offset_ms == b.offset_ms
        && a.source == b.source
        && a.feedback == b.feedback
        && a.session == b.session
        && a.stamp == b.stamp
        && a.trash_stamp == b.trash_stamp
        && sorted_coders(a) == sorted_coders(b)
        && a.revisions.len() == b.revisions.len()
        && a.revisions
            .iter()
            .zip(&b.revisions)
            .all(|(x, y)| version_key(x) == version_key(y) && x.stamp == y.stamp)
}

/// Replaces a note's row, tags and revisions with the merged ones.
fn rewrite_note(
    tx: &rusqlite::Connection,
    n: &NoteRecord,
    tag_ids: &mut HashMap<Tag, i64>,
    seq: i64,
) -> Result<()> {
    let participant: Option<i64> = match &n.participant {
        Some(p) => tx
            .query_row(
                "SELECT id FROM participants WHERE pseudonym = ?1",
                [p],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    tx.execute(
        "UPDATE notes SET session_id = ?2, kind = ?3, body = ?4, participant_id = ?5, \
           created_at = ?6, updated_at = ?7, offset_ms = ?8, source = ?9, deleted_at = ?10, \
           feedback = ?11, change_seq = ?12, hlc = ?13, trash_hlc = ?14 WHERE id = ?1",
        params![
            n.id,
            n.session,
            n.kind.as_str(),
            n.body,
            participant,
            time::to_db(&n.created_at),
            time::to_db(&n.updated_at),
            n.offset_ms,
            n.source,
            n.deleted_at.as_ref().map(time::to_db),
            n.feedback.map(|f| f.as_str()),
            seq,
            n.stamp,
            n.trash_stamp
        ],
    )?;
    tx.execute("DELETE FROM note_codings WHERE note_id = ?1", [&n.id])?;
    tx.execute("DELETE FROM note_tags WHERE note_id = ?1", [&n.id])?;
    tx.execute("DELETE FROM note_revisions WHERE note_id = ?1", [&n.id])?;
    write_tags_and_revisions(tx, n, tag_ids).map(drop)
}

/// An existing session learns what the other side knows: participants, and its details when
/// the other side's are newer (or, both unstamped, an end).
pub(super) fn unify_session(tx: &rusqlite::Connection, id: &str, s: &NewSession) -> Result<()> {
    for p in &s.participants {
        let pid = participant_id(tx, p)?;
        tx.execute(
            "INSERT OR IGNORE INTO session_participants (session_id, participant_id) VALUES (?1, ?2)",
            params![id, pid],
        )?;
    }
    let local: Option<String> = tx
        .prepare_cached("SELECT hlc FROM sessions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    if s.stamp.is_some() && s.stamp > local {
        tx.prepare_cached(
            "UPDATE sessions SET title = ?2, ended_at = ?3, researcher = ?4, location = ?5, \
               channel = ?6, hlc = ?7 WHERE id = ?1",
        )?
        .execute(params![
            id,
            s.title,
            s.ended_at.as_ref().map(time::to_db),
            s.researcher,
            s.location,
            s.channel,
            s.stamp
        ])?;
        return Ok(());
    }
    if s.stamp.is_some() || local.is_some() {
        return Ok(());
    }
    if let Some(end) = &s.ended_at {
        tx.execute(
            "UPDATE sessions SET ended_at = max(coalesce(ended_at, ?2), ?2) WHERE id = ?1",
            params![id, time::to_db(end)],
        )?;
    }
    Ok(())
}

/// Participants are the same person when their pseudonyms are. Their details are a stamped
/// record when either side has one (`store::records`); otherwise (a file written before
/// records) consent counts when either side recorded it (the earliest date), and contact
/// details fill in where missing.
fn unify_participant(tx: &rusqlite::Connection, p: &Participant) -> Result<()> {
    let id = participant_id(tx, p)?;
    if participant_recorded(tx, &p.pseudonym)? {
        return Ok(());
    }
    tx.execute(
        "UPDATE participants SET consent = max(consent, ?2), \
           consent_date = CASE WHEN consent_date IS NULL THEN ?3 WHEN ?3 IS NULL THEN consent_date \
                          ELSE min(consent_date, ?3) END, \
           contact = CASE WHEN contact IS NULL THEN ?4 WHEN ?4 IS NULL THEN contact \
                     ELSE min(contact, ?4) END \
         WHERE id = ?1",
        params![id, p.consent, p.consent_date, p.contact],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NoteKind, tags_of};
    use chrono::{DateTime, Utc};

    fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-09-03T10:{minute:02}:00Z").parse().unwrap()
    }

    fn note(body: &str, updated: u32, revisions: Vec<(&str, u32)>) -> NoteRecord {
        NoteRecord {
            id: "01K4A000000000000000NTE001".into(),
            session: "S".into(),
            kind: NoteKind::Quote,
            body: body.into(),
            tags: tags_of(body),
            participant: None,
            created_at: at(0),
            updated_at: at(updated),
            offset_ms: None,
            source: None,
            feedback: None,
            deleted_at: None,
            revisions: revisions
                .into_iter()
                .map(|(b, m)| Revision {
                    kind: NoteKind::Quote,
                    body: b.into(),
                    tags: tags_of(b),
                    written_at: at(m),
                    stamp: None,
                })
                .collect(),
            passages: Vec::new(),
            coders: Vec::new(),
            stamp: None,
            trash_stamp: None,
        }
    }

    #[test]
    fn concurrent_edits_keep_both_and_the_newest_wins_either_way() {
        let a = note("edited on A #checkout", 5, vec![("first", 0)]);
        let b = note("edited on B", 7, vec![("first", 0)]);
        let ab = merge_note(&a, &b);
        let ba = merge_note(&b, &a);
        assert_eq!(ab, ba);
        assert_eq!(ab.body, "edited on B");
        let bodies: Vec<&str> = ab.revisions.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(bodies, ["first", "edited on A #checkout"]);
        // Merging the result again changes nothing.
        assert_eq!(merge_note(&ab, &a), ab);
        assert_eq!(merge_note(&ab, &ab), ab);
    }

    #[test]
    fn the_newest_event_decides_the_trash() {
        let mut deleted = note("first", 0, vec![]);
        deleted.deleted_at = Some(at(10));
        let edited_before = note("edit", 5, vec![("first", 0)]);
        let edited_after = note("edit", 20, vec![("first", 0)]);
        let m = merge_note(&deleted, &edited_before);
        assert_eq!(m.deleted_at, Some(at(10)));
        assert_eq!(m.body, "edit");
        assert_eq!(m, merge_note(&edited_before, &deleted));
        let m = merge_note(&deleted, &edited_after);
        assert_eq!(m.deleted_at, None);
        assert_eq!(m, merge_note(&edited_after, &deleted));
    }
}

#[cfg(test)]
mod stamped {
    use super::*;
    use crate::model::{NoteKind, tags_of};

    fn at(minute: u32) -> chrono::DateTime<chrono::Utc> {
        format!("2026-09-03T10:{minute:02}:00Z").parse().unwrap()
    }

    fn stamp(ms: i64, archive: &str) -> String {
        format!("{ms:013}-000000-{archive}")
    }

    fn note(body: &str, wall: u32, stamped: String) -> NoteRecord {
        NoteRecord {
            tags: tags_of(body),
            stamp: Some(stamped),
            ..NoteRecord::written(
                "01K4A000000000000000NTE001".into(),
                "S".into(),
                NoteKind::Quote,
                body.into(),
                at(wall),
            )
        }
    }

    #[test]
    fn the_stamp_orders_versions_not_the_laptop_clock() {
        // A's clock runs an hour ahead (wall minute 59), but B wrote after seeing A's version.
        let a = note("from A", 59, stamp(5_000, "A"));
        let b = note("from B", 1, stamp(5_001, "B"));
        let m = merge_note(&a, &b);
        assert_eq!(m.body, "from B");
        assert_eq!(m, merge_note(&b, &a));
        assert_eq!(m.revisions.len(), 1);
    }

    #[test]
    fn a_restore_beats_an_older_delete_and_loses_to_a_newer_one() {
        let base = note("text", 0, stamp(1_000, "A"));
        let mut deleted = base.clone();
        deleted.deleted_at = Some(at(1));
        deleted.trash_stamp = Some(stamp(2_000, "A"));
        let mut restored = base.clone();
        restored.trash_stamp = Some(stamp(3_000, "B"));
        let m = merge_note(&deleted, &restored);
        assert_eq!(m.deleted_at, None);
        assert_eq!(m, merge_note(&restored, &deleted));
        let mut deleted_again = base.clone();
        deleted_again.deleted_at = Some(at(2));
        deleted_again.trash_stamp = Some(stamp(4_000, "C"));
        let m = merge_note(&m, &deleted_again);
        assert_eq!(m.deleted_at, Some(at(2)));
        assert_eq!(
            m,
            merge_note(&deleted_again, &merge_note(&restored, &deleted))
        );
    }
}
