//! The codebook: tags, their descriptions and what each facet adds (valence, stage, statement).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Store;
use crate::error::{Error, Result};
use crate::model::{Facet, Tag};

/// A tag with how many live notes carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagCount {
    pub facet: Facet,
    pub name: String,
    pub notes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valence: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

/// What a researcher can say about a tag in the codebook.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagInfo {
    pub description: Option<String>,
    pub valence: Option<i64>,
    pub stage: Option<String>,
    pub statement: Option<String>,
}

/// Journey stages in the order a customer meets them.
pub const JOURNEY_STAGES: &[&str] = &["aware", "consider", "buy", "receive", "use", "support"];

impl Store {
    /// Tags with their live note counts, most used first; one facet only when given.
    pub fn tag_counts(&self, facet: Option<Facet>) -> Result<Vec<TagCount>> {
        let mut stmt = self.conn().prepare(
            "SELECT t.facet, t.name, t.description, t.valence, t.stage, t.statement, \
               (SELECT count(*) FROM note_tags nt JOIN notes n ON n.id = nt.note_id \
                  WHERE nt.tag_id = t.id AND n.deleted_at IS NULL) AS used \
             FROM tags t WHERE ?1 IS NULL OR t.facet = ?1 \
             ORDER BY used DESC, t.facet, t.name",
        )?;
        let rows = stmt
            .query_map([facet.map(Facet::as_str)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    TagCount {
                        facet: Facet::Code,
                        name: r.get(1)?,
                        description: r.get(2)?,
                        valence: r.get(3)?,
                        stage: r.get(4)?,
                        statement: r.get(5)?,
                        notes: r.get(6)?,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(facet, mut t)| {
                t.facet = facet.parse().map_err(Error::Corrupt)?;
                Ok(t)
            })
            .collect()
    }

    /// Every tag in the codebook, by facet then name: what completion offers.
    pub fn tag_names(&self) -> Result<Vec<Tag>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT facet, name FROM tags ORDER BY facet, name")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(facet, name)| {
                Ok(Tag {
                    facet: facet.parse().map_err(Error::Corrupt)?,
                    name,
                })
            })
            .collect()
    }

    /// Records what a tag means (creating it if new); `None` fields stay as they were.
    pub(crate) fn set_tag_info(&self, tag: &Tag, info: &TagInfo) -> Result<()> {
        check_tag_info(tag, info)?;
        let tx = self.write()?;
        let id = tag_id(&tx, tag)?;
        tx.execute(
            "UPDATE tags SET description = coalesce(?2, description), valence = coalesce(?3, valence), \
             stage = coalesce(?4, stage), statement = coalesce(?5, statement) WHERE id = ?1",
            params![id, info.description, info.valence, info.stage, info.statement],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every tag's valence (emotions only carry one), for analysis.
    pub fn valences(&self) -> Result<HashMap<String, i64>> {
        let mut stmt = self.conn().prepare(
            "SELECT name, valence FROM tags WHERE facet = 'emotion' AND valence IS NOT NULL",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(rows)
    }
}

/// Refuses a valence out of range or an unknown journey stage.
fn check_tag_info(tag: &Tag, info: &TagInfo) -> Result<()> {
    if let Some(v) = info.valence
        && !(-2..=2).contains(&v)
    {
        return Err(Error::BadValue(format!(
            "valence {v} for {tag} is out of range: use -2 to 2"
        )));
    }
    if let Some(stage) = &info.stage
        && !JOURNEY_STAGES.contains(&stage.as_str())
    {
        return Err(Error::BadValue(format!(
            "unknown journey stage {stage:?} for {tag}: use one of {}",
            JOURNEY_STAGES.join(", ")
        )));
    }
    Ok(())
}

/// What an imported codebook entry did to the archive's codebook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilled {
    /// The tag is new, or something it did not say before was filled in.
    pub changed: bool,
    /// What the archive already says differently (kept): `description`, `valence`, …
    pub kept: Vec<&'static str>,
}

/// Records what an imported codebook says about a tag, inside the import's transaction: the
/// tag is created if new, and only what the archive does not say yet is filled in, so an
/// import never overwrites the researcher's own words.
pub(crate) fn fill_tag_info_in(tx: &Connection, tag: &Tag, info: &TagInfo) -> Result<TagFilled> {
    check_tag_info(tag, info)?;
    let existed: Option<i64> = tx
        .prepare_cached("SELECT id FROM tags WHERE facet = ?1 AND name = ?2")?
        .query_row(params![tag.facet.as_str(), tag.name], |r| r.get(0))
        .optional()?;
    let id = match existed {
        Some(id) => id,
        None => tag_id(tx, tag)?,
    };
    let (description, valence, stage, statement): (
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    ) = tx.query_row(
        "SELECT description, valence, stage, statement FROM tags WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut filled = TagFilled {
        changed: existed.is_none(),
        kept: Vec::new(),
    };
    let mut fill = |field: &'static str, has: bool, same: bool, given: bool| {
        if !given {
            return false;
        }
        if has {
            if !same {
                filled.kept.push(field);
            }
            return false;
        }
        filled.changed = true;
        true
    };
    let set_description = fill(
        "description",
        description.is_some(),
        description == info.description,
        info.description.is_some(),
    );
    let set_valence = fill(
        "valence",
        valence.is_some(),
        valence == info.valence,
        info.valence.is_some(),
    );
    let set_stage = fill(
        "stage",
        stage.is_some(),
        stage == info.stage,
        info.stage.is_some(),
    );
    let set_statement = fill(
        "statement",
        statement.is_some(),
        statement == info.statement,
        info.statement.is_some(),
    );
    tx.execute(
        "UPDATE tags SET description = coalesce(description, ?2), valence = coalesce(valence, ?3), \
         stage = coalesce(stage, ?4), statement = coalesce(statement, ?5) WHERE id = ?1",
        params![
            id,
            info.description.as_ref().filter(|_| set_description),
            info.valence.filter(|_| set_valence),
            info.stage.as_ref().filter(|_| set_stage),
            info.statement.as_ref().filter(|_| set_statement)
        ],
    )?;
    Ok(filled)
}

/// The id of `tag`, created in the codebook on first use.
pub(crate) fn tag_id(tx: &Connection, tag: &Tag) -> Result<i64> {
    let mut find = tx.prepare_cached("SELECT id FROM tags WHERE facet = ?1 AND name = ?2")?;
    if let Some(id) = find
        .query_row(params![tag.facet.as_str(), tag.name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    let mut insert = tx.prepare_cached("INSERT INTO tags (facet, name) VALUES (?1, ?2)")?;
    insert.execute(params![tag.facet.as_str(), tag.name])?;
    Ok(tx.last_insert_rowid())
}
