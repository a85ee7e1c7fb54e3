//! Notes: capture, edit (keeping revisions), trash and restore, and bulk import.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::passages::{PassageRecord, fill_tag_links_in, insert_passages_in, reanchor_in};
use super::sessions::{NewSession, insert_session, participant_id, resolve_id};
use super::tags::{TagInfo, fill_tag_info_in, tag_id};
use super::{Store, next_change};
use crate::error::{Error, Result};
use crate::model::{Facet, Feedback, Note, NoteKind, Participant, Passage, Revision, Tag, tags_of};
use crate::time;

/// A note as typed: its tags come from the text plus any given beside it.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub session: String,
    pub kind: NoteKind,
    pub body: String,
    pub extra_tags: Vec<Tag>,
    /// Clear the session's autosaved draft in the same transaction (the app saving what it
    /// drafted), so a crash can never bring back a draft of a note already saved.
    pub clears_draft: bool,
}

/// A note with everything the archive keeps about it: what imports write and exports read.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteRecord {
    pub id: String,
    pub session: String,
    pub kind: NoteKind,
    pub body: String,
    /// All its tags; those not written in the body are kept as given beside it. A record on
    /// its way in may leave out the tags its body carries: storing it reads them from the text.
    pub tags: Vec<Tag>,
    pub participant: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub offset_ms: Option<i64>,
    pub source: Option<String>,
    /// Direct, indirect or inferred feedback, when the import knew.
    pub feedback: Option<Feedback>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Earlier versions, oldest first.
    pub revisions: Vec<Revision>,
    /// Its coded passages, lost ones included.
    pub passages: Vec<PassageRecord>,
    /// Who coded the note as a whole with which tag, one pair per coder and tag (a tag
    /// here is carried by the note even when `tags` leaves it out).
    pub coders: Vec<(Tag, String)>,
    /// The hybrid-clock stamp of the current version (`None`: written before stamps).
    pub stamp: Option<String>,
    /// The stamp of its last trash or restore (`None`: never, or before stamps).
    pub trash_stamp: Option<String>,
}

impl NoteRecord {
    /// A note as an import or a capture first writes it: written at `at`, never edited or
    /// trashed, with no tags beyond those in its text and nothing else known yet.
    pub fn written(
        id: String,
        session: String,
        kind: NoteKind,
        body: String,
        at: DateTime<Utc>,
    ) -> NoteRecord {
        NoteRecord {
            id,
            session,
            kind,
            body,
            tags: Vec::new(),
            participant: None,
            created_at: at,
            updated_at: at,
            offset_ms: None,
            source: None,
            feedback: None,
            deleted_at: None,
            revisions: Vec::new(),
            passages: Vec::new(),
            coders: Vec::new(),
            stamp: None,
            trash_stamp: None,
        }
    }
}

/// What the search index needs of a note, read in change order.
#[derive(Debug, Clone)]
pub struct IndexRecord {
    pub id: String,
    pub session: String,
    pub study: i64,
    pub kind: NoteKind,
    pub body: String,
    /// As written: `@busy-parent`, `#checkout`, …
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
    pub change_seq: i64,
}

/// How much an import added and how much it already had, what it left out and why, and (for
/// a dry run) what the first notes would look like.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub added: u64,
    pub already_present: u64,
    /// Rows, cues or paragraphs the format's own rules leave out (blank rows, broken cues).
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: u64,
    /// What the researcher should know: each skipped part with its line, a guessed encoding…
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Codebook entries the import added to the archive or said more about (a REFI-QDA
    /// codebook's codes).
    #[serde(skip_serializing_if = "is_zero")]
    pub tags: u64,
    /// Participants the notes are credited to (speakers found in a transcript, people in a
    /// survey), in the order first seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// The first notes, as they would be written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<PreviewNote>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A note as an import would write it, for `import --dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PreviewNote {
    pub kind: NoteKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_ms: Option<i64>,
    pub body: String,
}

/// How many notes a dry run shows.
const PREVIEW_NOTES: usize = 5;

const RECORD_SELECT: &str = "SELECT n.id, n.session_id, n.kind, n.body, p.pseudonym, n.created_at, \
       n.updated_at, n.offset_ms, n.source, n.deleted_at, n.feedback, n.hlc, n.trash_hlc \
     FROM notes n LEFT JOIN participants p ON p.id = n.participant_id";

const NOTE_COLUMNS: &str =
    "n.id, n.session_id, n.kind, n.body, n.created_at, n.updated_at, n.offset_ms, n.deleted_at";

fn raw_note(r: &Row<'_>) -> rusqlite::Result<[Option<String>; 8]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get::<_, Option<i64>>(6)?.map(|v| v.to_string()),
        r.get(7)?,
    ])
}

fn note_from_raw(raw: [Option<String>; 8], tags: Vec<Tag>) -> Result<Note> {
    let [id, session, kind, body, created, updated, offset, deleted] = raw;
    let need = |v: Option<String>| v.unwrap_or_default();
    Ok(Note {
        id: need(id),
        session: need(session),
        kind: need(kind).parse().map_err(Error::Corrupt)?,
        body: need(body),
        tags,
        created_at: time::from_db(&need(created))?,
        updated_at: time::from_db(&need(updated))?,
        offset_ms: offset.and_then(|o| o.parse().ok()),
        deleted_at: deleted.as_deref().map(time::from_db).transpose()?,
    })
}

fn parse_tag_text(facet: &str, name: String) -> Result<Tag> {
    Ok(Tag {
        facet: facet.parse().map_err(Error::Corrupt)?,
        name,
    })
}

/// Tags written as `@a #b`, the way revisions keep them.
pub(super) fn tags_to_text(tags: &[Tag]) -> String {
    tags.iter()
        .map(Tag::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `touchpoint:checkout` as the token `#checkout`.
fn tag_token(stored: &str) -> Option<String> {
    let (facet, name) = stored.split_once(':')?;
    let sigil = Facet::from_name(facet)?.sigil();
    let mut token = String::with_capacity(name.len() + 1);
    token.push(sigil);
    token.push_str(name);
    Some(token)
}

fn tags_from_text(text: &str) -> Vec<Tag> {
    text.split_whitespace()
        .filter_map(Tag::parse_token)
        .collect()
}

impl Store {
    /// Saves a new note in its own transaction; when this returns, the note is durable.
    pub(crate) fn add_note(&self, new: &NewNote) -> Result<Note> {
        let tx = self.write()?;
        let id = add_note_in(&tx, new)?;
        tx.commit()?;
        self.note(&id)
    }

    pub fn note(&self, id: &str) -> Result<Note> {
        let sql = format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id = ?1");
        // Cached: a search reads up to 50 notes per key typed.
        let raw = self
            .conn()
            .prepare_cached(&sql)?
            .query_row([id], raw_note)
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("no note with id {id}")))?;
        note_from_raw(raw, self.note_tags(id)?)
    }

    /// Finds a note by its id or a unique start of it.
    pub fn resolve_note(&self, prefix: &str) -> Result<String> {
        resolve_id(self.conn(), "notes", "note", prefix)
    }

    pub fn note_tags(&self, id: &str) -> Result<Vec<Tag>> {
        note_tags(self.conn(), id)
    }

    /// The live notes of a session in the order they were written.
    pub fn session_notes(&self, session: &str) -> Result<Vec<Note>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.session_id = ?1 AND n.deleted_at IS NULL \
             ORDER BY n.created_at, n.id"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let raws = stmt
            .query_map([session], raw_note)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter()
            .map(|raw| {
                let tags = self.note_tags(raw[0].as_deref().unwrap_or_default())?;
                note_from_raw(raw, tags)
            })
            .collect()
    }

    /// Replaces a note's text (and kind), keeping the version it replaces as a revision.
    /// Tags typed in the text follow the new text; tags given beside it stay; passages are
    /// found again by their text, and those whose text is gone are returned (marked lost).
    pub(crate) fn edit_note(
        &self,
        id: &str,
        body: &str,
        kind: Option<NoteKind>,
    ) -> Result<(Note, Vec<Passage>)> {
        if body.trim().is_empty() {
            return Err(Error::Empty(
                "a note cannot be emptied: move it to the trash with `rm` instead",
            ));
        }
        let tx = self.write()?;
        let (old_kind, old_body, old_updated, deleted): (String, String, String, Option<String>) =
            tx.query_row(
                "SELECT kind, body, updated_at, deleted_at FROM notes WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("no note with id {id}")))?;
        if deleted.is_some() {
            return Err(Error::InTrash { id: id.to_owned() });
        }
        let old_tags = note_tags(&tx, id)?;
        let session: String =
            tx.query_row("SELECT session_id FROM notes WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        super::measures::check_note_measures(&tx, &session, body)?;
        let new_kind = kind.unwrap_or(old_kind.parse().map_err(Error::Corrupt)?);
        // The app's draft of this edit is done with, whichever way the edit goes.
        tx.execute("DELETE FROM drafts WHERE note_id = ?1", [id])?;
        if body == old_body && new_kind.as_str() == old_kind {
            tx.commit()?;
            return Ok((self.note(id)?, Vec::new()));
        }
        tx.execute(
            "INSERT INTO note_revisions (note_id, kind, body, tags, written_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, old_kind, old_body, tags_to_text(&old_tags), old_updated],
        )?;
        let seq = next_change(&tx)?;
        let now = time::now();
        tx.execute(
            "UPDATE notes SET body = ?2, kind = ?3, updated_at = ?4, change_seq = ?5 WHERE id = ?1",
            params![id, body, new_kind.as_str(), time::to_db(&now), seq],
        )?;
        // A typed tag that coders also gave beside the text stays, as theirs.
        tx.execute(
            "UPDATE note_tags SET origin = 'explicit' WHERE note_id = ?1 AND origin = 'inline' \
             AND EXISTS (SELECT 1 FROM note_codings c \
                         WHERE c.note_id = note_tags.note_id AND c.tag_id = note_tags.tag_id)",
            [id],
        )?;
        tx.execute(
            "DELETE FROM note_tags WHERE note_id = ?1 AND origin = 'inline'",
            [id],
        )?;
        let mut ids = HashMap::new();
        link_tags(&tx, id, &tags_of(body), &[], &mut ids)?;
        let lost = reanchor_in(&tx, id, body)?;
        tx.commit()?;
        Ok((self.note(id)?, lost))
    }

    /// Every version of a note, oldest first, ending with the current one.
    pub fn history(&self, id: &str) -> Result<Vec<Revision>> {
        let mut out = self.revisions(id)?;
        let current = self.note(id)?;
        let stamp: Option<String> = self
            .conn()
            .prepare_cached("SELECT hlc FROM notes WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        out.push(Revision {
            kind: current.kind,
            body: current.body,
            tags: current.tags,
            written_at: current.updated_at,
            stamp,
        });
        Ok(out)
    }

    /// A note's earlier versions, oldest first, without the current one (a record has that
    /// in its own columns: reading it again cost a push three statements per note).
    fn revisions(&self, id: &str) -> Result<Vec<Revision>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT kind, body, tags, written_at, hlc FROM note_revisions WHERE note_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(kind, body, tags, written, stamp)| {
                Ok(Revision {
                    kind: kind.parse().map_err(Error::Corrupt)?,
                    body,
                    tags: tags_from_text(&tags),
                    written_at: time::from_db(&written)?,
                    stamp,
                })
            })
            .collect()
    }

    /// Moves a note to the trash: hidden from search and analysis, restorable.
    pub(crate) fn trash_note(&self, id: &str) -> Result<Note> {
        self.set_deleted(id, Some(time::now()))
    }

    pub(crate) fn restore_note(&self, id: &str) -> Result<Note> {
        self.set_deleted(id, None)
    }

    fn set_deleted(&self, id: &str, at: Option<DateTime<Utc>>) -> Result<Note> {
        let tx = self.write()?;
        let deleted: Option<String> = tx
            .query_row("SELECT deleted_at FROM notes WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("no note with id {id}")))?;
        match (&deleted, &at) {
            (Some(_), Some(_)) => {
                return Err(Error::AlreadyInTrash { id: id.to_owned() });
            }
            (None, None) => return Err(Error::NotInTrash { id: id.to_owned() }),
            _ => {}
        }
        let seq = next_change(&tx)?;
        tx.execute(
            "UPDATE notes SET deleted_at = ?2, change_seq = ?3 WHERE id = ?1",
            params![id, at.as_ref().map(time::to_db), seq],
        )?;
        tx.commit()?;
        self.note(id)
    }

    /// Notes in the trash, most recently deleted first.
    pub fn trashed_notes(&self) -> Result<Vec<Note>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM notes n WHERE n.deleted_at IS NOT NULL ORDER BY n.deleted_at DESC"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let raws = stmt
            .query_map([], raw_note)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter()
            .map(|raw| {
                let tags = self.note_tags(raw[0].as_deref().unwrap_or_default())?;
                note_from_raw(raw, tags)
            })
            .collect()
    }

    /// Everything about every note (trash included), in creation order, for exports.
    pub fn for_each_note_record(&self, mut f: impl FnMut(NoteRecord) -> Result<()>) -> Result<()> {
        let sql = format!("{RECORD_SELECT} ORDER BY n.created_at, n.id");
        let mut stmt = self.conn().prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(self.record_from_row(r)?)?;
        }
        Ok(())
    }

    /// Everything about one note, trash included; `None` when there is no such note.
    pub fn note_record(&self, id: &str) -> Result<Option<NoteRecord>> {
        let sql = format!("{RECORD_SELECT} WHERE n.id = ?1");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(self.record_from_row(r)?)),
            None => Ok(None),
        }
    }

    fn record_from_row(&self, r: &Row<'_>) -> Result<NoteRecord> {
        let id: String = r.get(0)?;
        let kind: String = r.get(2)?;
        let deleted: Option<String> = r.get(9)?;
        let feedback: Option<String> = r.get(10)?;
        let revisions = self.revisions(&id)?;
        Ok(NoteRecord {
            tags: self.note_tags(&id)?,
            passages: self
                .passages(&id)?
                .into_iter()
                .map(PassageRecord::from)
                .collect(),
            coders: self.note_coders(&id)?,
            id,
            session: r.get(1)?,
            kind: kind.parse().map_err(Error::Corrupt)?,
            body: r.get(3)?,
            participant: r.get(4)?,
            created_at: time::from_db(&r.get::<_, String>(5)?)?,
            updated_at: time::from_db(&r.get::<_, String>(6)?)?,
            offset_ms: r.get(7)?,
            source: r.get(8)?,
            feedback: feedback
                .map(|f| f.parse().map_err(Error::Corrupt))
                .transpose()?,
            deleted_at: deleted.as_deref().map(time::from_db).transpose()?,
            revisions,
            stamp: r.get(11)?,
            trash_stamp: r.get(12)?,
        })
    }

    /// Who coded the note as a whole with which tag: one pair per coder and tag.
    pub fn note_coders(&self, id: &str) -> Result<Vec<(Tag, String)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT t.facet, t.name, c.coder FROM note_codings c JOIN tags t ON t.id = c.tag_id \
             WHERE c.note_id = ?1 ORDER BY t.facet, t.name, c.coder",
        )?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(f, n, coder)| Ok((parse_tag_text(&f, n)?, coder)))
            .collect()
    }

    /// Notes changed after `seq`, in change order: what the index must catch up on.
    pub fn for_each_change_since(
        &self,
        seq: i64,
        f: impl FnMut(IndexRecord) -> Result<()>,
    ) -> Result<()> {
        self.for_each_change_between(seq, i64::MAX, f)
    }

    /// Notes whose last change is after `after` and no later than `up_to`, in change order.
    pub fn for_each_change_between(
        &self,
        after: i64,
        up_to: i64,
        mut f: impl FnMut(IndexRecord) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn().prepare(
            "SELECT n.id, n.session_id, s.study_id, n.kind, n.body, n.created_at, \
               n.deleted_at IS NOT NULL, n.change_seq, \
               (SELECT group_concat(token, ' ') FROM ( \
                  SELECT t.facet || ':' || t.name AS token \
                  FROM note_tags nt JOIN tags t ON t.id = nt.tag_id WHERE nt.note_id = n.id \
                  UNION SELECT t.facet || ':' || t.name \
                  FROM passages p JOIN tags t ON t.id = p.tag_id \
                  WHERE p.note_id = n.id AND p.lost = 0)) \
             FROM notes n JOIN sessions s ON s.id = n.session_id \
             WHERE n.change_seq > ?1 AND n.change_seq <= ?2 ORDER BY n.change_seq",
        )?;
        let mut rows = stmt.query([after, up_to])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(3)?;
            let tags: Option<String> = r.get(8)?;
            f(IndexRecord {
                id: r.get(0)?,
                session: r.get(1)?,
                study: r.get(2)?,
                kind: kind.parse().map_err(Error::Corrupt)?,
                body: r.get(4)?,
                created_at: time::from_db(&r.get::<_, String>(5)?)?,
                deleted: r.get(6)?,
                change_seq: r.get(7)?,
                // Written as the index wants them (`#checkout`), by the tag grammar's sigils.
                tags: tags
                    .map(|t| t.split(' ').filter_map(tag_token).collect())
                    .unwrap_or_default(),
            })?;
        }
        Ok(())
    }

    /// Ids of every note not in the trash, sorted.
    pub fn live_note_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id FROM notes WHERE deleted_at IS NULL ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    pub fn live_note_count(&self) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM notes WHERE deleted_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Runs a whole import in one transaction: if `fill` fails, nothing of it is kept.
    pub(crate) fn import<F>(&self, fill: F) -> Result<ImportCounts>
    where
        F: FnOnce(&mut ImportSink<'_>) -> Result<()>,
    {
        self.import_observed(fill, None).map(|done| done.counts)
    }

    /// Runs an import and rolls it back: what it would add, skip and warn about, and its
    /// first notes, with nothing written.
    pub(crate) fn import_dry_run<F>(&self, fill: F) -> Result<ImportCounts>
    where
        F: FnOnce(&mut ImportSink<'_>) -> Result<()>,
    {
        let tx = self.write()?;
        let seq: i64 = tx.query_row("SELECT seq FROM change_counter WHERE id = 1", [], |r| {
            r.get(0)
        })?;
        let mut sink = ImportSink::new(&tx, seq, None);
        sink.preview = true;
        fill(&mut sink)?;
        let counts = sink.counts;
        tx.rollback()?;
        Ok(counts)
    }

    /// Like [`Store::import`], handing each note it adds to `observe` while the transaction is
    /// still open, so the index can take the notes as they are written rather than reading
    /// them back afterwards. When the import fails, whatever `observe` was given is void.
    pub(crate) fn import_observed<F>(
        &self,
        fill: F,
        observe: Option<&mut dyn FnMut(IndexRecord) -> Result<()>>,
    ) -> Result<ImportDone>
    where
        F: FnOnce(&mut ImportSink<'_>) -> Result<()>,
    {
        let tx = self.write()?;
        // Holding the write lock, the import can number its changes itself and store the
        // counter once, instead of updating it for every note.
        let seq: i64 = tx.query_row("SELECT seq FROM change_counter WHERE id = 1", [], |r| {
            r.get(0)
        })?;
        // A larger cache keeps the b-trees' growing edges in memory instead of spilling them
        // to the log again and again. 64 MB, not the 256 it was: with the secondary indexes
        // built at the end (below) the edges are few, and it cost 4% more CPU to keep the
        // import's peak memory at 260 MB instead of 460 (300,000 notes).
        tx.execute_batch("PRAGMA cache_size = -65536")?;
        let deferred = defer_indexes(&tx)?;
        let lifted = lift(&tx, "trigger", &LIFTED_TRIGGERS)?;
        // Shortened to the transaction's life (an Option does not coerce by itself).
        let mut sink = ImportSink::new(
            &tx,
            seq,
            observe.map(|o| o as &mut dyn FnMut(IndexRecord) -> Result<()>),
        );
        let filled = fill(&mut sink).and_then(|()| sink.store_clock());
        let (counts, last_seq) = (sink.counts, sink.seq);
        let done = filled.and_then(|()| {
            // Built again inside the transaction: a crash before the commit leaves the old
            // indexes, and the commit has them complete. Their sorts size themselves by the
            // page cache: with the index writer still holding the notes it was given, the
            // import's 64 MB cache here set the peak memory of a whole import.
            if !deferred.is_empty() {
                tx.execute_batch("PRAGMA cache_size = -8192")?;
            }
            for sql in deferred.iter().chain(&lifted) {
                tx.execute_batch(sql)?;
            }
            tx.execute(
                "UPDATE change_counter SET seq = ?1 WHERE id = 1",
                [last_seq],
            )?;
            Ok(tx.commit()?)
        });
        let _ = self.conn().execute_batch("PRAGMA cache_size = -2000");
        done.map(|()| ImportDone {
            counts,
            seq_before: seq,
            seq_after: last_seq,
        })
    }
}

/// Secondary indexes an import into an empty or small archive drops and builds again at its
/// end, inside its transaction: one sort of every row instead of a b-tree insert per row.
/// Nothing an import runs reads them; the unique ones (primary keys) stay, as the import
/// relies on them to skip what the archive already has.
const DEFERRED_INDEXES: [&str; 3] = [
    "notes_by_change",
    "notes_by_session_state",
    "note_tags_by_tag",
];

/// Below this many notes an archive is small: building its indexes again costs a few
/// milliseconds, and a large import gains more than that.
const SMALL_ARCHIVE: i64 = 20_000;

/// Drops the deferred indexes when the archive is small; returns the statements that make
/// them again (as the schema wrote them).
fn defer_indexes(tx: &Connection) -> Result<Vec<String>> {
    // The largest rowid bounds the number of notes without counting them.
    let notes: i64 = tx.query_row("SELECT coalesce(max(rowid), 0) FROM notes", [], |r| {
        r.get(0)
    })?;
    if notes >= SMALL_ARCHIVE {
        return Ok(Vec::new());
    }
    lift(tx, "index", &DEFERRED_INDEXES)
}

/// Drops the schema's `kind` ("index", "trigger") of each name there is; returns the
/// statements that make them again, as the schema wrote them.
fn lift(tx: &Connection, kind: &str, names: &[&str]) -> Result<Vec<String>> {
    let mut sqls = Vec::new();
    for name in names {
        let sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = ?1 AND name = ?2",
                [kind, name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(sql) = sql {
            tx.execute_batch(&format!("DROP {} {name}", kind.to_uppercase()))?;
            sqls.push(sql);
        }
    }
    Ok(sqls)
}

/// The triggers on notes, which an import lifts while it writes and puts back before it
/// commits (inside its transaction, as the deferred indexes). It stamps its notes itself
/// (see [`ImportSink::note`]) and edits none, so they would do nothing; but a table with
/// triggers makes SQLite journal every insert's pages in case the statement has to be undone
/// halfway (about a seventh of a large import).
const LIFTED_TRIGGERS: [&str; 3] = ["notes_stamp_new", "notes_stamp_edit", "notes_stamp_trash"];

/// What an import did, and which change numbers it took: those after `seq_before`, up to and
/// including `seq_after`.
#[derive(Debug, Clone)]
pub struct ImportDone {
    pub counts: ImportCounts,
    pub seq_before: i64,
    pub seq_after: i64,
}

/// Where an import writes, inside its one transaction.
pub struct ImportSink<'a> {
    pub(super) tx: &'a Connection,
    tag_ids: HashMap<Tag, i64>,
    known_sessions: BTreeSet<String>,
    /// Each session's study, for what the index is handed.
    session_study: HashMap<String, i64>,
    counts: ImportCounts,
    /// The last change number taken.
    seq: i64,
    observe: Option<&'a mut dyn FnMut(IndexRecord) -> Result<()>>,
    /// A dry run: keep the first notes to show.
    preview: bool,
    /// The clock, while notes are being stamped (see [`super::hlc::Ticker`]); stored before
    /// any other write, whose triggers tick the stored clock.
    clock: Option<super::hlc::Ticker>,
}

impl<'a> ImportSink<'a> {
    fn new(
        tx: &'a Connection,
        seq: i64,
        observe: Option<&'a mut dyn FnMut(IndexRecord) -> Result<()>>,
    ) -> ImportSink<'a> {
        ImportSink {
            tx,
            tag_ids: HashMap::new(),
            known_sessions: BTreeSet::new(),
            session_study: HashMap::new(),
            counts: ImportCounts::default(),
            seq,
            observe,
            preview: false,
            clock: None,
        }
    }

    /// Stores the clock the notes ticked, before a write that ticks it in SQL.
    fn store_clock(&mut self) -> Result<()> {
        match self.clock.take() {
            Some(clock) => clock.store_in(self.tx),
            None => Ok(()),
        }
    }

    /// The scales a study's notes may use (the built-ins when the study is new).
    pub fn measure_scales(&self, study: &str) -> Result<Vec<crate::model::MeasureScale>> {
        super::measures::scales_of_study_named(self.tx, study)
    }

    /// Something the researcher should know about the import (a part left out, with its line).
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.counts.warnings.push(warning.into());
    }

    /// A row, cue or paragraph the format's rules leave out, with why (and where).
    pub fn skip(&mut self, why: impl Into<String>) {
        self.counts.skipped += 1;
        self.warn(why);
    }

    /// A part left out that needs no line of its own (a blank row): only counted.
    pub fn skip_quietly(&mut self) {
        self.counts.skipped += 1;
    }

    /// A stamped record from a file: an import restores it as the file has it (a merge
    /// keeps the newer of the two instead).
    pub fn record(&mut self, record: &super::StampedRecord) -> Result<()> {
        self.store_clock()?;
        super::hlc::applying_in(self.tx, true)?;
        super::records::merge_records_in(self.tx, std::slice::from_ref(record), true, false)?;
        super::hlc::applying_in(self.tx, false)
    }

    /// Makes sure a session exists (an existing one with the same id is kept as it is).
    pub fn session(&mut self, session: &NewSession) -> Result<String> {
        if let Some(id) = &session.id
            && self.known_sessions.contains(id)
        {
            return Ok(id.clone());
        }
        self.store_clock()?;
        let id = insert_session(self.tx, session)?;
        self.known_sessions.insert(id.clone());
        Ok(id)
    }

    /// The id of a session with this study and title, if an earlier import made one.
    pub fn session_titled(&self, study: &str, title: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT s.id FROM sessions s JOIN studies st ON st.id = s.study_id \
                 WHERE st.name = ?1 AND s.title = ?2 ORDER BY s.started_at LIMIT 1",
                params![study, title],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The session with exactly this id, if there is one.
    pub fn session_with_id(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT id FROM sessions WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    /// Records that a participant (created if new) took part in a session.
    pub fn session_participant(&mut self, session: &str, p: &Participant) -> Result<()> {
        self.store_clock()?;
        let pid = participant_id(self.tx, p)?;
        self.tx.execute(
            "INSERT OR IGNORE INTO session_participants (session_id, participant_id) VALUES (?1, ?2)",
            params![session, pid],
        )?;
        Ok(())
    }

    /// Makes sure a participant exists (created if new): an import that knows the order its
    /// participants were first recorded in keeps it.
    pub fn participant(&mut self, p: &Participant) -> Result<()> {
        self.store_clock()?;
        participant_id(self.tx, p).map(|_| ())
    }

    /// Records what an imported codebook says about a tag (created if new). Only what the
    /// archive does not say yet is filled in; returns the fields where the archive already
    /// says something else and keeps its own.
    pub fn tag_info(&mut self, tag: &Tag, info: &TagInfo) -> Result<Vec<&'static str>> {
        self.store_clock()?;
        let filled = fill_tag_info_in(self.tx, tag, info)?;
        if filled.changed {
            self.counts.tags += 1;
        }
        Ok(filled.kept)
    }

    /// When a session started, if it exists.
    pub fn session_start(&self, id: &str) -> Result<Option<DateTime<Utc>>> {
        let started: Option<String> = self
            .tx
            .query_row("SELECT started_at FROM sessions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        started.as_deref().map(time::from_db).transpose()
    }

    /// Puts a tag under its parent and gives it its colour where the archive says nothing
    /// yet (a REFI-QDA codebook's nesting and colours).
    pub fn tag_links(
        &mut self,
        tag: &Tag,
        parent: Option<&Tag>,
        colour: Option<&str>,
    ) -> Result<()> {
        self.store_clock()?;
        if fill_tag_links_in(self.tx, tag, parent, colour)? {
            self.counts.tags += 1;
        }
        Ok(())
    }

    /// Adds a note (with its passages) unless one with its id is already in the archive,
    /// which is kept as it is.
    pub fn note(&mut self, record: &NoteRecord) -> Result<bool> {
        // A file's words are kept whatever its measures say; a measure that does not fit its
        // scale is reported and left as text (analysis reads values against their scales).
        match super::measures::check_note_measures(self.tx, &record.session, &record.body) {
            Ok(()) => {}
            Err(Error::BadValue(why)) => self.warn(format!(
                "note \"{}\": {why}; kept as text, not counted",
                crate::text::excerpt(&record.body, 40)
            )),
            Err(e) => return Err(e),
        }
        let ticked;
        let stamp = match &record.stamp {
            Some(stamp) => Some(stamp.as_str()),
            None => {
                if self.clock.is_none() {
                    self.clock = Some(super::hlc::Ticker::load_in(self.tx)?);
                }
                ticked = self.clock.as_mut().expect("loaded above").tick();
                Some(ticked.as_str())
            }
        };
        let Some(tags) = insert_note(self.tx, record, stamp, &mut self.tag_ids, self.seq + 1)?
        else {
            self.counts.already_present += 1;
            return Ok(false);
        };
        self.seq += 1;
        self.counts.added += 1;
        if let Some(p) = &record.participant
            && !self.counts.participants.contains(p)
        {
            self.counts.participants.push(p.clone());
        }
        if self.preview && self.counts.preview.len() < PREVIEW_NOTES {
            self.counts.preview.push(PreviewNote {
                kind: record.kind,
                participant: record.participant.clone(),
                offset_ms: record.offset_ms,
                body: record.body.clone(),
            });
        }
        if self.observe.is_some() {
            let study = self.study_of(&record.session)?;
            let observe = self.observe.as_mut().expect("checked above");
            observe(IndexRecord {
                id: record.id.clone(),
                session: record.session.clone(),
                study,
                kind: record.kind,
                body: record.body.clone(),
                tags: tags.iter().map(Tag::to_string).collect(),
                created_at: record.created_at,
                deleted: record.deleted_at.is_some(),
                change_seq: self.seq,
            })?;
        }
        Ok(true)
    }

    fn study_of(&mut self, session: &str) -> Result<i64> {
        if let Some(study) = self.session_study.get(session) {
            return Ok(*study);
        }
        let study: i64 = self.tx.query_row(
            "SELECT study_id FROM sessions WHERE id = ?1",
            [session],
            |r| r.get(0),
        )?;
        self.session_study.insert(session.to_owned(), study);
        Ok(study)
    }
}

/// Inserts a note with its tags and revisions, returning the tags it linked; `None` when its
/// id is already there. `stamp` is the note's (its record's, or one an import ticked); without
/// one the stamping trigger gives it the next tick.
pub(super) fn insert_note(
    tx: &Connection,
    n: &NoteRecord,
    stamp: Option<&str>,
    tag_ids: &mut HashMap<Tag, i64>,
    seq: i64,
) -> Result<Option<Vec<Tag>>> {
    let participant = match &n.participant {
        Some(p) => Some(participant_id(
            tx,
            &Participant {
                pseudonym: p.clone(),
                consent: false,
                consent_date: None,
                contact: None,
            },
        )?),
        None => None,
    };
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO notes (id, session_id, kind, body, participant_id, created_at, updated_at, \
           offset_ms, source, deleted_at, change_seq, hlc, trash_hlc) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    let added = insert.execute(params![
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
        seq,
        stamp,
        n.trash_stamp
    ])?;
    if added == 0 {
        return Ok(None);
    }
    // Apart, so a note without it is written the same way on every schema version.
    if let Some(feedback) = n.feedback {
        tx.prepare_cached("UPDATE notes SET feedback = ?2 WHERE id = ?1")?
            .execute(params![n.id, feedback.as_str()])?;
    }
    let mut tags = write_tags_and_revisions(tx, n, tag_ids)?;
    insert_passages_in(tx, &n.id, &n.body, &n.passages)?;
    // The index files the note under its passages' codes too.
    for p in n.passages.iter().filter(|p| !p.lost) {
        if !tags.contains(&p.tag) {
            tags.push(p.tag.clone());
        }
    }
    Ok(Some(tags))
}

/// Links a note's tags (those in its text as inline, the rest as explicit) and stores its
/// earlier versions: what an insert and a merge both write once the note row is in place.
pub(super) fn write_tags_and_revisions(
    tx: &Connection,
    n: &NoteRecord,
    tag_ids: &mut HashMap<Tag, i64>,
) -> Result<Vec<Tag>> {
    let mut inline = tags_of(&n.body);
    let mut explicit: Vec<Tag> = n
        .tags
        .iter()
        .chain(n.coders.iter().map(|(t, _)| t))
        .filter(|t| !inline.contains(t))
        .cloned()
        .collect();
    explicit.sort();
    explicit.dedup();
    link_tags(tx, &n.id, &inline, &explicit, tag_ids)?;
    for (tag, coder) in &n.coders {
        if let Some(id) = tag_ids.get(tag) {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO note_codings (note_id, tag_id, coder) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![n.id, id, coder])?;
        }
    }
    let mut revision = tx.prepare_cached(
        "INSERT INTO note_revisions (note_id, kind, body, tags, written_at, hlc) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in &n.revisions {
        revision.execute(params![
            n.id,
            r.kind.as_str(),
            r.body,
            tags_to_text(&r.tags),
            time::to_db(&r.written_at),
            r.stamp
        ])?;
    }
    inline.extend(explicit);
    Ok(inline)
}

fn link_tags(
    tx: &Connection,
    note: &str,
    inline: &[Tag],
    explicit: &[Tag],
    ids: &mut HashMap<Tag, i64>,
) -> Result<()> {
    let mut links: Vec<(i64, &str)> = Vec::with_capacity(inline.len() + explicit.len());
    for (tags, origin) in [(inline, "inline"), (explicit, "explicit")] {
        for tag in tags {
            let id = match ids.get(tag) {
                Some(id) => *id,
                None => {
                    let id = tag_id(tx, tag)?;
                    ids.insert(tag.clone(), id);
                    id
                }
            };
            links.push((id, origin));
        }
    }
    // A note's links in one statement (a few rows at most): one statement of several rows
    // costs little more than one of one, and a bulk import writes millions of links.
    for chunk in links.chunks(LINKS_PER_STATEMENT) {
        let mut link = tx.prepare_cached(link_sql(chunk.len()))?;
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(1 + 2 * chunk.len());
        values.push(&note);
        for (id, origin) in chunk {
            values.push(id);
            values.push(origin);
        }
        link.execute(values.as_slice())?;
    }
    Ok(())
}

/// The most tag links one statement writes.
const LINKS_PER_STATEMENT: usize = 6;

/// The statement that links a note (`?1`) to `rows` tags, each a tag id and an origin.
fn link_sql(rows: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        (1..=LINKS_PER_STATEMENT)
            .map(|n| {
                let values: Vec<String> = (0..n)
                    .map(|i| format!("(?1, ?{}, ?{})", 2 + 2 * i, 3 + 2 * i))
                    .collect();
                format!(
                    "INSERT OR IGNORE INTO note_tags (note_id, tag_id, origin) VALUES {}",
                    values.join(", ")
                )
            })
            .collect()
    });
    &all[rows.clamp(1, LINKS_PER_STATEMENT) - 1]
}

pub(super) fn note_tags(conn: &Connection, id: &str) -> Result<Vec<Tag>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.facet, t.name FROM note_tags nt JOIN tags t ON t.id = nt.tag_id WHERE nt.note_id = ?1",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut tags = rows
        .into_iter()
        .map(|(f, n)| parse_tag_text(&f, n))
        .collect::<Result<Vec<_>>>()?;
    tags.sort();
    Ok(tags)
}

/// Writes a new note inside a write transaction that may hold more (a visit's answer);
/// returns its id.
pub(crate) fn add_note_in(tx: &Connection, new: &NewNote) -> Result<String> {
    if new.body.trim().is_empty() {
        return Err(Error::Empty("a note needs some text"));
    }
    super::measures::check_note_measures(tx, &new.session, &new.body)?;
    let (started, ended): (String, Option<String>) = tx
        .query_row(
            "SELECT started_at, ended_at FROM sessions WHERE id = ?1",
            [&new.session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no session with id {}", new.session)))?;
    let now = time::now();
    let started = time::from_db(&started)?;
    let ended = ended.as_deref().map(time::from_db).transpose()?;
    // Notes written after the session (memos, write-ups) have no offset into it.
    let offset_ms = (now >= started && ended.is_none_or(|e| now <= e))
        .then(|| (now - started).num_milliseconds());
    let record = NoteRecord {
        tags: new.extra_tags.clone(),
        offset_ms,
        ..NoteRecord::written(
            ulid::Ulid::new().to_string(),
            new.session.clone(),
            new.kind,
            new.body.clone(),
            now,
        )
    };
    let mut tag_ids = HashMap::new();
    let seq = next_change(tx)?;
    insert_note(tx, &record, None, &mut tag_ids, seq)?;
    if new.clears_draft {
        tx.execute(
            "DELETE FROM drafts WHERE session_id = ?1 AND note_id = ''",
            [&new.session],
        )?;
    }
    Ok(record.id)
}
