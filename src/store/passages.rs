//! Codings: passages (a tag on a span of a note's text, by a coder), whole-note codings given
//! beside the text, and bulk codings ("code all results") with their undo.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::tags::tag_id;
use super::{Store, next_change};
use crate::error::{Error, Result};
use crate::model::{Passage, SpanSpec, Tag, reanchor, resolve_span, tags_of};
use crate::time;

/// What a bulk coding did: `coded` notes newly carry the tag, `already` carried it before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkCoding {
    /// The id `code --undo` takes back (none for a dry run).
    pub id: Option<i64>,
    #[serde(serialize_with = "crate::model::tag_as_token")]
    pub tag: Tag,
    pub query: String,
    pub coder: String,
    pub coded: usize,
    pub already: usize,
}

const PASSAGE_SELECT: &str = "SELECT p.id, p.note_id, t.facet, t.name, p.start, p.end, p.text, \
       p.coder, p.lost, p.created_at FROM passages p JOIN tags t ON t.id = p.tag_id";

fn passage_from_row(r: &Row<'_>) -> rusqlite::Result<(Passage, String, String)> {
    Ok((
        Passage {
            id: r.get(0)?,
            note: r.get(1)?,
            tag: Tag {
                facet: crate::model::Facet::Code,
                name: r.get(3)?,
            },
            start: r.get::<_, i64>(4)? as usize,
            end: r.get::<_, i64>(5)? as usize,
            text: r.get(6)?,
            coder: r.get(7)?,
            lost: r.get(8)?,
            created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        },
        r.get(2)?,
        r.get(9)?,
    ))
}

fn query_passages(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Passage>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(args, passage_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(mut p, facet, created)| {
            p.tag.facet = facet.parse().map_err(Error::Corrupt)?;
            p.created_at = time::from_db(&created)?;
            Ok(p)
        })
        .collect()
}

/// A live note's body, or why it cannot be coded.
fn live_body(tx: &Connection, note: &str) -> Result<String> {
    let (body, deleted): (String, Option<String>) = tx
        .query_row(
            "SELECT body, deleted_at FROM notes WHERE id = ?1",
            [note],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no note with id {note}")))?;
    if deleted.is_some() {
        return Err(Error::InTrash {
            id: note.to_owned(),
        });
    }
    Ok(body)
}

/// Marks a note changed, so the index takes its new codings.
pub(super) fn touch_note(tx: &Connection, note: &str) -> Result<()> {
    let seq = next_change(tx)?;
    tx.prepare_cached("UPDATE notes SET change_seq = ?2 WHERE id = ?1")?
        .execute(params![note, seq])?;
    Ok(())
}

fn check_coder(coder: &str) -> Result<&str> {
    let coder = coder.trim();
    if coder.is_empty() {
        return Err(Error::Empty(
            "a coding needs its coder: pass --coder NAME, set FIELDNOTES_CODER or `coder` in config.toml",
        ));
    }
    Ok(coder)
}

impl Store {
    /// Codes a span of a note's text with `tag`, as `coder`. Coding the same span with the
    /// same tag by the same coder again changes nothing and returns the passage.
    pub(crate) fn code_passage(
        &self,
        note: &str,
        tag: &Tag,
        span: &SpanSpec,
        coder: &str,
    ) -> Result<Passage> {
        let coder = check_coder(coder)?;
        let tx = self.write()?;
        let body = live_body(&tx, note)?;
        let (range, text) = resolve_span(&body, span).map_err(Error::BadValue)?;
        let tag_id = tag_id(&tx, tag)?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO passages (note_id, tag_id, start, end, text, coder, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                note,
                tag_id,
                range.start as i64,
                range.end as i64,
                text,
                coder,
                time::to_db(&time::now())
            ],
        )?;
        if added > 0 {
            touch_note(&tx, note)?;
        }
        let id: i64 = tx.query_row(
            "SELECT id FROM passages WHERE note_id = ?1 AND tag_id = ?2 AND start = ?3 AND end = ?4 AND coder = ?5",
            params![note, tag_id, range.start as i64, range.end as i64, coder],
            |r| r.get(0),
        )?;
        tx.commit()?;
        self.passage(id)
    }

    /// Takes `tag` off passages of a note: the one at `span` when given (by any coder, or
    /// only `coder`'s), else every passage of that tag. Returns what was removed; an error
    /// when nothing matched.
    pub(crate) fn uncode_passages(
        &self,
        note: &str,
        tag: &Tag,
        span: Option<&SpanSpec>,
        coder: Option<&str>,
    ) -> Result<Vec<Passage>> {
        let tx = self.write()?;
        let body = live_body(&tx, note)?;
        let range = match span {
            // A quote is looked up among the passages' own texts first: the words may have
            // been edited away (a lost passage) and it must still be removable.
            Some(SpanSpec::Quote(q)) => Some(Err(q.clone())),
            Some(spec) => Some(Ok(resolve_span(&body, spec).map_err(Error::BadValue)?.0)),
            None => None,
        };
        let mut removed = query_passages(
            &tx,
            &format!("{PASSAGE_SELECT} WHERE p.note_id = ?1 ORDER BY p.start, p.id"),
            [note],
        )?;
        removed.retain(|p| {
            &p.tag == tag
                && coder.is_none_or(|c| p.coder == c)
                && match &range {
                    None => true,
                    Some(Ok(r)) => p.start == r.start && p.end == r.end,
                    Some(Err(quote)) => &p.text == quote,
                }
        });
        if removed.is_empty() {
            return Err(Error::NotFound(format!(
                "note {note} has no passage coded {tag}{}{}: `fieldnotes spans {note}` lists them",
                match span {
                    Some(SpanSpec::Range(r)) => format!(" at {}..{}", r.start, r.end),
                    Some(SpanSpec::Quote(q)) => format!(" on {q:?}"),
                    None => String::new(),
                },
                coder.map(|c| format!(" by {c}")).unwrap_or_default()
            )));
        }
        let mut delete = tx.prepare_cached("DELETE FROM passages WHERE id = ?1")?;
        for p in &removed {
            delete.execute([p.id])?;
        }
        drop(delete);
        touch_note(&tx, note)?;
        tx.commit()?;
        Ok(removed)
    }

    /// Codes a note as a whole with `tag` (beside its text) as `coder`. Returns false when
    /// nothing changes: `coder` had coded it so, or the note carries the tag with no coder
    /// (typed in its text, or given by an import that named none).
    pub(crate) fn code_note(&self, note: &str, tag: &Tag, coder: &str) -> Result<bool> {
        let coder = check_coder(coder)?;
        let tx = self.write()?;
        live_body(&tx, note)?;
        let added = code_note_in(&tx, note, tag, coder)?;
        tx.commit()?;
        Ok(added)
    }

    /// Takes `coder`'s whole-note coding with `tag` off a note, or every coder's when `None`;
    /// the note keeps the tag while another coder's coding remains. A tag typed in the text
    /// follows the text: the error says to edit it.
    pub(crate) fn uncode_note(&self, note: &str, tag: &Tag, coder: Option<&str>) -> Result<()> {
        let tx = self.write()?;
        let body = live_body(&tx, note)?;
        if tags_of(&body).contains(tag) {
            return Err(Error::BadValue(format!(
                "{tag} is typed in the note's text: edit the text (`fieldnotes edit {note}`) to take it off"
            )));
        }
        let tag_id: Option<i64> = tx
            .query_row(
                "SELECT id FROM tags WHERE facet = ?1 AND name = ?2",
                params![tag.facet.as_str(), tag.name],
                |r| r.get(0),
            )
            .optional()?;
        let removed = match tag_id {
            Some(id) => uncode_note_in(&tx, note, id, coder, false)?,
            None => false,
        };
        if !removed {
            return Err(Error::NotFound(format!(
                "note {note} is not coded {tag} as a whole{}: `fieldnotes spans {note}` lists its passages",
                coder.map(|c| format!(" by {c}")).unwrap_or_default()
            )));
        }
        tx.commit()?;
        Ok(())
    }

    /// The passages of a note, lost ones included, in text order.
    pub fn passages(&self, note: &str) -> Result<Vec<Passage>> {
        query_passages(
            self.conn(),
            &format!(
                "{PASSAGE_SELECT} WHERE p.note_id = ?1 ORDER BY p.start, p.end, t.facet, t.name, p.coder"
            ),
            [note],
        )
    }

    /// Every passage an edit lost, across the archive's live notes.
    pub fn lost_passages(&self) -> Result<Vec<Passage>> {
        query_passages(
            self.conn(),
            &format!(
                "{PASSAGE_SELECT} JOIN notes n ON n.id = p.note_id \
                 WHERE p.lost = 1 AND n.deleted_at IS NULL ORDER BY p.note_id, p.start"
            ),
            [],
        )
    }

    pub fn passage(&self, id: i64) -> Result<Passage> {
        query_passages(
            self.conn(),
            &format!("{PASSAGE_SELECT} WHERE p.id = ?1"),
            [id],
        )?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("no passage with id {id}")))
    }

    /// How many of `notes` coding them with `tag` as `coder` would leave unchanged (see
    /// [`Store::code_note`]): what a dry run of code all results reports as already coded.
    pub fn notes_coded_already(&self, tag: &Tag, coder: &str, notes: &[String]) -> Result<usize> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT 1 FROM note_tags nt JOIN tags t ON t.id = nt.tag_id \
             WHERE nt.note_id = ?1 AND t.facet = ?2 AND t.name = ?3 \
             AND (EXISTS (SELECT 1 FROM note_codings c WHERE c.note_id = nt.note_id \
                          AND c.tag_id = nt.tag_id AND c.coder = ?4) \
                  OR NOT EXISTS (SELECT 1 FROM note_codings c WHERE c.note_id = nt.note_id \
                                 AND c.tag_id = nt.tag_id))",
        )?;
        let coder = coder.trim();
        let mut n = 0;
        for note in notes {
            if stmt.exists(params![note, tag.facet.as_str(), tag.name, coder])? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The ids among `ids` of notes SQLite holds and are not in the trash.
    pub fn live_among(&self, ids: Vec<String>) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT 1 FROM notes WHERE id = ?1 AND deleted_at IS NULL")?;
        let mut live = Vec::with_capacity(ids.len());
        for id in ids {
            if stmt.exists([&id])? {
                live.push(id);
            }
        }
        Ok(live)
    }

    /// Codes every note in `notes` with `tag` as a whole, in one transaction, remembering
    /// which notes it newly coded so `undo_bulk_coding` can take exactly those back.
    pub(crate) fn code_notes_bulk(
        &self,
        tag: &Tag,
        query: &str,
        notes: &[String],
        coder: &str,
    ) -> Result<BulkCoding> {
        let coder = check_coder(coder)?;
        let tx = self.write()?;
        let tag_id = tag_id(&tx, tag)?;
        tx.execute(
            "INSERT INTO bulk_codings (tag_id, query, coder, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![tag_id, query, coder, time::to_db(&time::now())],
        )?;
        let bulk = tx.last_insert_rowid();
        let mut result = BulkCoding {
            id: Some(bulk),
            tag: tag.clone(),
            query: query.to_owned(),
            coder: coder.to_owned(),
            coded: 0,
            already: 0,
        };
        for note in notes {
            if code_note_in(&tx, note, tag, coder)? {
                tx.prepare_cached(
                    "INSERT INTO bulk_coding_notes (bulk_id, note_id) VALUES (?1, ?2)",
                )?
                .execute(params![bulk, note])?;
                result.coded += 1;
            } else {
                result.already += 1;
            }
        }
        tx.commit()?;
        Ok(result)
    }

    /// Takes back the latest bulk coding not yet undone: the tag comes off exactly the notes
    /// it coded (a note whose text has since gained the tag keeps it, as typed).
    pub(crate) fn undo_bulk_coding(&self) -> Result<BulkCoding> {
        let tx = self.write()?;
        let (bulk, facet, name, query, coder): (i64, String, String, String, String) = tx
            .query_row(
                "SELECT b.id, t.facet, t.name, b.query, b.coder FROM bulk_codings b \
                 JOIN tags t ON t.id = b.tag_id WHERE b.undone_at IS NULL ORDER BY b.id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound("there is no bulk coding to undo".into()))?;
        let tag = Tag {
            facet: facet.parse().map_err(Error::Corrupt)?,
            name,
        };
        let notes: Vec<(String, String)> = tx
            .prepare("SELECT n.id, n.body FROM bulk_coding_notes b JOIN notes n ON n.id = b.note_id WHERE b.bulk_id = ?1")?
            .query_map([bulk], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let tag_id = tag_id(&tx, &tag)?;
        let mut undone = 0;
        for (note, body) in &notes {
            // Typed in the text since: the tag stays, as the text's.
            let typed = tags_of(body).contains(&tag);
            if uncode_note_in(&tx, note, tag_id, Some(&coder), typed)? && !typed {
                undone += 1;
            }
        }
        tx.execute(
            "UPDATE bulk_codings SET undone_at = ?2 WHERE id = ?1",
            params![bulk, time::to_db(&time::now())],
        )?;
        tx.commit()?;
        Ok(BulkCoding {
            id: Some(bulk),
            tag,
            query,
            coder,
            coded: undone,
            already: notes.len() - undone,
        })
    }
}

/// A passage as a note's record carries it through exports, imports and merges.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PassageRecord {
    pub tag: Tag,
    /// Code points into the note's body, end excluded.
    pub start: usize,
    pub end: usize,
    /// The coded words; `None` to read them from the body at `start..end` (a REFI-QDA
    /// selection carries positions only).
    pub text: Option<String>,
    pub coder: String,
    pub lost: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Passage> for PassageRecord {
    fn from(p: Passage) -> PassageRecord {
        PassageRecord {
            tag: p.tag,
            start: p.start,
            end: p.end,
            text: Some(p.text),
            coder: p.coder,
            lost: p.lost,
            created_at: p.created_at,
        }
    }
}

/// Writes a note's passages from its record (an import, a merge) inside that transaction;
/// returns how many were new. A passage whose words are not at its offsets in `body` (the
/// other side of a merge coded an older version) is found again by its words, nearest where
/// it was, or kept as lost; positions outside the body without words to go by are refused.
pub(super) fn insert_passages_in(
    tx: &Connection,
    note: &str,
    body: &str,
    passages: &[PassageRecord],
) -> Result<usize> {
    let mut added = 0;
    for p in passages {
        let coder = check_coder(&p.coder)?;
        let at_offsets = resolve_span(body, &SpanSpec::Range(p.start..p.end));
        let (range, text, lost) = match (&p.text, at_offsets) {
            (None, Ok((range, text))) => (range, text, false),
            (None, Err(e)) => {
                return Err(Error::BadValue(format!("a passage of note {note}: {e}")));
            }
            (Some(words), Ok((range, text))) if !p.lost && *words == text => (range, text, false),
            (Some(words), _) => match reanchor(body, words, p.start) {
                Some(range) => (range, words.clone(), false),
                None if p.start < p.end => (p.start..p.end, words.clone(), true),
                None => {
                    return Err(Error::BadValue(format!(
                        "a passage of note {note} at {}..{} is empty",
                        p.start, p.end
                    )));
                }
            },
        };
        let tag_id = tag_id(tx, &p.tag)?;
        added += tx
            .prepare_cached(
                "INSERT OR IGNORE INTO passages (note_id, tag_id, start, end, text, coder, lost, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                note,
                tag_id,
                range.start as i64,
                range.end as i64,
                text,
                coder,
                lost,
                time::to_db(&p.created_at)
            ])?;
    }
    Ok(added)
}

/// Puts `tag` under `parent` and gives it `colour`, inside an import's transaction, only
/// where the archive says nothing yet (an import never overwrites the researcher's codebook)
/// and never making a cycle or crossing facets. Returns whether anything changed.
pub(super) fn fill_tag_links_in(
    tx: &Connection,
    tag: &Tag,
    parent: Option<&Tag>,
    colour: Option<&str>,
) -> Result<bool> {
    let id = tag_id(tx, tag)?;
    let mut changed = false;
    if let Some(colour) = colour {
        changed |= tx.execute(
            "UPDATE tags SET colour = ?2 WHERE id = ?1 AND colour IS NULL",
            params![id, colour],
        )? > 0;
    }
    if let Some(parent) = parent.filter(|p| p.facet == tag.facet && *p != tag) {
        let has: Option<i64> =
            tx.query_row("SELECT parent_id FROM tags WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        if has.is_none() {
            let pid = tag_id(tx, parent)?;
            let mut at = Some(pid);
            while let Some(node) = at {
                if node == id {
                    return Ok(changed);
                }
                at = tx.query_row("SELECT parent_id FROM tags WHERE id = ?1", [node], |r| {
                    r.get(0)
                })?;
            }
            tx.execute(
                "UPDATE tags SET parent_id = ?2 WHERE id = ?1",
                params![id, pid],
            )?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Records `coder`'s whole-note coding with `tag` (the note carries the tag beside its text);
/// false when nothing changed: `coder` had coded it, or the note carries the tag with no coder,
/// which is nobody's coding to add to.
pub(super) fn code_note_in(tx: &Connection, note: &str, tag: &Tag, coder: &str) -> Result<bool> {
    let tag_id = tag_id(tx, tag)?;
    let carried_before = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO note_tags (note_id, tag_id, origin) VALUES (?1, ?2, 'explicit')",
        )?
        .execute(params![note, tag_id])?
        == 0;
    if carried_before && !coded(tx, note, tag_id)? {
        return Ok(false);
    }
    let added = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO note_codings (note_id, tag_id, coder) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![note, tag_id, coder])?
        > 0;
    if !carried_before {
        touch_note(tx, note)?;
    }
    Ok(added)
}

/// Whether any coder coded the note as a whole with the tag.
fn coded(tx: &Connection, note: &str, tag_id: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM note_codings WHERE note_id = ?1 AND tag_id = ?2")?
        .exists(params![note, tag_id])?)
}

/// Takes `coder`'s whole-note coding with the tag off a note (every coder's when `None`; with
/// `None`, also a tag given beside the text with no coder). When no coding remains, the note
/// stops carrying the tag, unless `typed` in its text: then it carries it as the text's.
/// Returns whether anything was taken off.
pub(super) fn uncode_note_in(
    tx: &Connection,
    note: &str,
    tag_id: i64,
    coder: Option<&str>,
    typed: bool,
) -> Result<bool> {
    let removed = tx
        .prepare_cached(
            "DELETE FROM note_codings WHERE note_id = ?1 AND tag_id = ?2 AND (?3 IS NULL OR coder = ?3)",
        )?
        .execute(params![note, tag_id, coder])?;
    if (removed == 0 && coder.is_some()) || coded(tx, note, tag_id)? {
        return Ok(removed > 0);
    }
    let dropped = if typed {
        tx.prepare_cached(
            "UPDATE note_tags SET origin = 'inline' WHERE note_id = ?1 AND tag_id = ?2",
        )?
        .execute(params![note, tag_id])?;
        0
    } else {
        tx.prepare_cached(
            "DELETE FROM note_tags WHERE note_id = ?1 AND tag_id = ?2 AND origin = 'explicit'",
        )?
        .execute(params![note, tag_id])?
    };
    if removed + dropped > 0 {
        touch_note(tx, note)?;
    }
    Ok(removed + dropped > 0)
}

/// Finds a note's passages again in its new `body` (each by its text, the occurrence nearest
/// where it was); a passage whose text is gone is marked lost and keeps its offsets. Returns
/// the passages this edit lost. Runs inside the edit's transaction.
pub(super) fn reanchor_in(tx: &Connection, note: &str, body: &str) -> Result<Vec<Passage>> {
    let passages = query_passages(
        tx,
        &format!("{PASSAGE_SELECT} WHERE p.note_id = ?1 ORDER BY p.id"),
        [note],
    )?;
    let mut lost = Vec::new();
    for mut p in passages {
        match reanchor(body, &p.text, p.start) {
            // Found where it was: nothing to write.
            Some(r) if (r.start, r.end, false) == (p.start, p.end, p.lost) => {}
            Some(r) => {
                // Another passage of the same tag and coder may already sit there: the two
                // are one coding now.
                let moved = tx.execute(
                    "UPDATE OR IGNORE passages SET start = ?2, end = ?3, lost = 0 WHERE id = ?1",
                    params![p.id, r.start as i64, r.end as i64],
                )?;
                if moved == 0 {
                    tx.execute("DELETE FROM passages WHERE id = ?1", [p.id])?;
                }
            }
            // Reported once, by the edit that lost it; `Store::lost_passages` lists them all.
            None if !p.lost => {
                tx.execute("UPDATE passages SET lost = 1 WHERE id = ?1", [p.id])?;
                p.lost = true;
                lost.push(p);
            }
            None => {}
        }
    }
    Ok(lost)
}
