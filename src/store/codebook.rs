//! The codebook as a tree: parents, colours and memos, and renames and merges that rewrite
//! every note carrying the tag in one transaction, keeping a revision of each note changed.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::notes::{note_tags, tags_to_text};
use super::passages::{reanchor_in, touch_note};
use super::tags::tag_id;
use super::{Store, next_change};
use crate::error::{Error, Result};
use crate::model::{Facet, Passage, Tag, rename_inline};
use crate::time;

/// One code of the codebook with what it says, how much it is used and its children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodebookEntry {
    /// Written with its sigil: `=wait-time`.
    pub tag: String,
    pub facet: Facet,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Live notes carrying the tag as a whole (typed or given beside the text).
    pub notes: i64,
    /// Passages of live notes coded with it (lost ones included).
    pub passages: i64,
    pub children: Vec<CodebookEntry>,
}

/// What a researcher can write about a code; `None` leaves a field as it is, `Some("")`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeNotes {
    pub description: Option<String>,
    pub memo: Option<String>,
    /// `#rrggbb`.
    pub colour: Option<String>,
}

/// A tag's parent's name and its own colour, each when it has one.
pub type TagLinks = (Option<String>, Option<String>);

/// What a rename or merge changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recoded {
    pub from: String,
    pub to: String,
    /// Notes whose text was rewritten (each keeps its old version as a revision).
    pub notes_rewritten: usize,
    /// Notes that carry the tag now, rewritten or not.
    pub notes: usize,
    pub passages: usize,
    /// Passages whose text the rewrite changed, so they could not be found again.
    pub lost: Vec<Passage>,
}

/// `#RRGGBB` or `#rrggbb`, as REFI-QDA writes colours; returned lowercase.
fn check_colour(colour: &str) -> Result<String> {
    let c = colour.trim();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if !ok {
        return Err(Error::BadValue(format!(
            "colour {colour:?} is not #rrggbb (e.g. #d95f02)"
        )));
    }
    Ok(c.to_ascii_lowercase())
}

/// The id of a tag the codebook already has, or a NotFound naming it.
fn existing_tag(tx: &Connection, tag: &Tag) -> Result<i64> {
    tx.query_row(
        "SELECT id FROM tags WHERE facet = ?1 AND name = ?2",
        params![tag.facet.as_str(), tag.name],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| {
        Error::NotFound(format!(
            "the codebook has no {tag}: `fieldnotes codebook` lists the tags"
        ))
    })
}

impl Store {
    /// The whole codebook as a tree: top-level tags by facet then name, children by name.
    pub fn codebook(&self) -> Result<Vec<CodebookEntry>> {
        let mut stmt = self.conn().prepare(
            "SELECT t.id, t.parent_id, t.facet, t.name, t.description, t.memo, t.colour, \
               (SELECT count(*) FROM note_tags nt JOIN notes n ON n.id = nt.note_id \
                  WHERE nt.tag_id = t.id AND n.deleted_at IS NULL), \
               (SELECT count(*) FROM passages p JOIN notes n ON n.id = p.note_id \
                  WHERE p.tag_id = t.id AND n.deleted_at IS NULL) \
             FROM tags t ORDER BY t.facet, t.name",
        )?;
        type Row = (i64, Option<i64>, String, CodebookEntry);
        let rows: Vec<Row> = stmt
            .query_map([], |r| {
                let name: String = r.get(3)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    CodebookEntry {
                        tag: String::new(),
                        facet: Facet::Code,
                        name,
                        description: r.get(4)?,
                        memo: r.get(5)?,
                        colour: r.get(6)?,
                        notes: r.get(7)?,
                        passages: r.get(8)?,
                        children: Vec::new(),
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut children: HashMap<Option<i64>, Vec<(i64, CodebookEntry)>> = HashMap::new();
        for (id, parent, facet, mut entry) in rows {
            entry.facet = facet.parse().map_err(Error::Corrupt)?;
            entry.tag = format!("{}{}", entry.facet.sigil(), entry.name);
            children.entry(parent).or_default().push((id, entry));
        }
        fn build(
            parent: Option<i64>,
            children: &mut HashMap<Option<i64>, Vec<(i64, CodebookEntry)>>,
        ) -> Vec<CodebookEntry> {
            let mine = children.remove(&parent).unwrap_or_default();
            mine.into_iter()
                .map(|(id, mut entry)| {
                    entry.children = build(Some(id), children);
                    entry
                })
                .collect()
        }
        Ok(build(None, &mut children))
    }

    /// Every tag's parent's name and colour, where it has one of them: what exports nest and
    /// paint codes by.
    pub fn tag_parents_and_colours(&self) -> Result<HashMap<Tag, TagLinks>> {
        let mut stmt = self.conn().prepare(
            "SELECT t.facet, t.name, p.name, t.colour FROM tags t \
             LEFT JOIN tags p ON p.id = t.parent_id \
             WHERE t.parent_id IS NOT NULL OR t.colour IS NOT NULL",
        )?;
        let rows: Vec<(String, String, Option<String>, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(facet, name, parent, colour)| {
                let facet = facet.parse().map_err(Error::Corrupt)?;
                Ok((Tag { facet, name }, (parent, colour)))
            })
            .collect()
    }

    /// How many notes (trash included) type `tag` in their text: what a rename or merge of it
    /// would rewrite, for the app to say before it asks to go on.
    pub fn notes_typing(&self, tag: &Tag) -> Result<usize> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM note_tags nt JOIN tags t ON t.id = nt.tag_id \
             WHERE t.facet = ?1 AND t.name = ?2 AND nt.origin = 'inline'",
            params![tag.facet.as_str(), tag.name],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Writes a code's description, memo and colour (creating the tag if new).
    pub(crate) fn describe_code(&self, tag: &Tag, notes: &CodeNotes) -> Result<()> {
        let colour = match notes.colour.as_deref() {
            Some("") => Some(String::new()),
            Some(c) => Some(check_colour(c)?),
            None => None,
        };
        let tx = self.write()?;
        let id = tag_id(&tx, tag)?;
        for (column, value) in [
            ("description", &notes.description),
            ("memo", &notes.memo),
            ("colour", &colour),
        ] {
            if let Some(v) = value {
                let v = v.trim();
                tx.execute(
                    &format!("UPDATE tags SET {column} = ?2 WHERE id = ?1"),
                    params![id, (!v.is_empty()).then_some(v)],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Puts `tag` under `parent` (both created if new), or at the top with `None`. The parent
    /// is of the same facet; a tag cannot be put under itself or one of its descendants.
    pub(crate) fn set_parent(&self, tag: &Tag, parent: Option<&Tag>) -> Result<()> {
        if let Some(p) = parent
            && p.facet != tag.facet
        {
            // See schema/0008: REFI-QDA nests a facet's codes under the facet.
            return Err(Error::BadValue(format!(
                "{tag} is a {} and {p} a {}: a tag's parent is a tag of its own facet",
                tag.facet, p.facet
            )));
        }
        let tx = self.write()?;
        let id = tag_id(&tx, tag)?;
        let parent_id = match parent {
            Some(p) => {
                let pid = tag_id(&tx, p)?;
                // Walk up from the new parent: meeting `tag` on the way would make a cycle.
                let mut at = Some(pid);
                while let Some(node) = at {
                    if node == id {
                        return Err(Error::BadValue(if p == tag {
                            format!("{tag} cannot be its own parent")
                        } else {
                            format!(
                                "{p} is under {tag} already: putting {tag} under it would make a cycle"
                            )
                        }));
                    }
                    at = tx.query_row("SELECT parent_id FROM tags WHERE id = ?1", [node], |r| {
                        r.get(0)
                    })?;
                }
                Some(pid)
            }
            None => None,
        };
        tx.execute(
            "UPDATE tags SET parent_id = ?2 WHERE id = ?1",
            params![id, parent_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Renames a tag, rewriting every note that types it (trash included) in one
    /// transaction; each rewritten note keeps its old version as a revision. Refuses a name
    /// another tag of the facet has (merge them instead).
    pub(crate) fn rename_tag(&self, from: &Tag, to: &Tag) -> Result<Recoded> {
        if from.facet != to.facet {
            return Err(Error::BadValue(format!(
                "{from} is a {} and {to} a {}: a rename keeps the facet",
                from.facet, to.facet
            )));
        }
        let tx = self.write()?;
        let id = existing_tag(&tx, from)?;
        if from == to {
            return Err(Error::BadValue(format!("{from} is already called that")));
        }
        if existing_tag(&tx, to).is_ok() {
            return Err(Error::BadValue(format!(
                "the codebook has {to} already: merge {from} into it with `fieldnotes codebook merge {from} {to}`"
            )));
        }
        let (rewritten, lost) = rewrite_notes(&tx, id, from, to)?;
        tx.execute(
            "UPDATE tags SET name = ?2 WHERE id = ?1",
            params![id, to.name],
        )?;
        let notes = count(&tx, "SELECT count(*) FROM note_tags WHERE tag_id = ?1", id)?;
        let passages = count(&tx, "SELECT count(*) FROM passages WHERE tag_id = ?1", id)?;
        tx.commit()?;
        Ok(Recoded {
            from: from.to_string(),
            to: to.to_string(),
            notes_rewritten: rewritten,
            notes,
            passages,
            lost,
        })
    }

    /// Folds tag `from` into `into`: every note, passage, child and bulk coding of `from`
    /// goes to `into`, notes typing it are rewritten (keeping revisions), what `from`'s
    /// description, memo and colour say fills what `into` lacks, and `from` leaves the
    /// codebook. One transaction.
    pub(crate) fn merge_tags(&self, from: &Tag, into: &Tag) -> Result<Recoded> {
        if from == into {
            return Err(Error::BadValue(format!(
                "{from} cannot be merged into itself"
            )));
        }
        if from.facet != into.facet {
            return Err(Error::BadValue(format!(
                "{from} is a {} and {into} a {}: merge tags of one facet",
                from.facet, into.facet
            )));
        }
        let tx = self.write()?;
        let from_id = existing_tag(&tx, from)?;
        let into_id = existing_tag(&tx, into)?;
        let (rewritten, lost) = rewrite_notes(&tx, from_id, from, into)?;
        // Whole-note codings: a tag typed in the text stays typed (inline wins).
        tx.execute(
            "INSERT INTO note_tags (note_id, tag_id, origin) \
               SELECT note_id, ?2, origin FROM note_tags WHERE tag_id = ?1 \
             ON CONFLICT (note_id, tag_id) DO UPDATE SET origin = 'inline' \
               WHERE excluded.origin = 'inline'",
            params![from_id, into_id],
        )?;
        // Each coder's codings with both are one coding now.
        tx.execute(
            "INSERT OR IGNORE INTO note_codings (note_id, tag_id, coder) \
               SELECT note_id, ?2, coder FROM note_codings WHERE tag_id = ?1",
            params![from_id, into_id],
        )?;
        tx.execute("DELETE FROM note_codings WHERE tag_id = ?1", [from_id])?;
        tx.execute("DELETE FROM note_tags WHERE tag_id = ?1", [from_id])?;
        // A passage the same coder coded with both is one passage now.
        tx.execute(
            "UPDATE OR IGNORE passages SET tag_id = ?2 WHERE tag_id = ?1",
            params![from_id, into_id],
        )?;
        tx.execute("DELETE FROM passages WHERE tag_id = ?1", [from_id])?;
        tx.execute(
            "UPDATE bulk_codings SET tag_id = ?2 WHERE tag_id = ?1",
            params![from_id, into_id],
        )?;
        // `from`'s children go to `into`; `into` itself, if under `from`, takes its place.
        tx.execute(
            "UPDATE tags SET parent_id = (SELECT parent_id FROM tags WHERE id = ?1) WHERE id = ?2 AND parent_id = ?1",
            params![from_id, into_id],
        )?;
        tx.execute(
            "UPDATE tags SET parent_id = ?2 WHERE parent_id = ?1",
            params![from_id, into_id],
        )?;
        tx.execute(
            "UPDATE tags SET description = coalesce(description, (SELECT description FROM tags WHERE id = ?1)), \
               memo = coalesce(memo, (SELECT memo FROM tags WHERE id = ?1)), \
               colour = coalesce(colour, (SELECT colour FROM tags WHERE id = ?1)) WHERE id = ?2",
            params![from_id, into_id],
        )?;
        tx.execute("DELETE FROM tags WHERE id = ?1", [from_id])?;
        let notes = count(
            &tx,
            "SELECT count(*) FROM note_tags WHERE tag_id = ?1",
            into_id,
        )?;
        let passages = count(
            &tx,
            "SELECT count(*) FROM passages WHERE tag_id = ?1",
            into_id,
        )?;
        // Every note that carried either tag is reindexed.
        let touched: Vec<String> = tx
            .prepare("SELECT note_id FROM note_tags WHERE tag_id = ?1 UNION SELECT note_id FROM passages WHERE tag_id = ?1")?
            .query_map([into_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for note in &touched {
            touch_note(&tx, note)?;
        }
        tx.commit()?;
        Ok(Recoded {
            from: from.to_string(),
            to: into.to_string(),
            notes_rewritten: rewritten,
            notes,
            passages,
            lost,
        })
    }
}

fn count(tx: &Connection, sql: &str, id: i64) -> Result<usize> {
    Ok(tx.query_row(sql, [id], |r| r.get::<_, i64>(0))? as usize)
}

/// Rewrites every note carrying tag `id` whose text types `from` so it types `to`, keeping
/// the old version as a revision and finding its passages again. Returns how many notes were
/// rewritten and the passages the rewrite lost.
fn rewrite_notes(tx: &Connection, id: i64, from: &Tag, to: &Tag) -> Result<(usize, Vec<Passage>)> {
    let notes: Vec<(String, String, String, String)> = tx
        .prepare(
            "SELECT n.id, n.kind, n.body, n.updated_at FROM note_tags nt JOIN notes n ON n.id = nt.note_id \
             WHERE nt.tag_id = ?1 AND nt.origin = 'inline' ORDER BY n.id",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let now = time::to_db(&time::now());
    let mut rewritten = 0;
    let mut lost = Vec::new();
    for (note, kind, body, updated) in notes {
        let Some(new_body) = rename_inline(&body, from, to) else {
            continue;
        };
        let tags = note_tags(tx, &note)?;
        tx.prepare_cached(
            "INSERT INTO note_revisions (note_id, kind, body, tags, written_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![note, kind, body, tags_to_text(&tags), updated])?;
        let seq = next_change(tx)?;
        tx.prepare_cached(
            "UPDATE notes SET body = ?2, updated_at = ?3, change_seq = ?4 WHERE id = ?1",
        )?
        .execute(params![note, new_body, now, seq])?;
        // A passage whose words hold the tag's token follows the rename too.
        let texts: Vec<(i64, String)> = tx
            .prepare_cached("SELECT id, text FROM passages WHERE note_id = ?1")?
            .query_map([&note], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (passage, text) in texts {
            if let Some(renamed) = rename_inline(&text, from, to) {
                tx.prepare_cached("UPDATE passages SET text = ?2 WHERE id = ?1")?
                    .execute(params![passage, renamed])?;
            }
        }
        lost.extend(reanchor_in(tx, &note, &new_body)?);
        rewritten += 1;
    }
    Ok((rewritten, lost))
}
