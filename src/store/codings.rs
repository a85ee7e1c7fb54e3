//! The codings of notes as the analyses of coding read them: co-occurrence, code matrices and
//! inter-coder agreement (see `crate::analysis::{cooccurrence, matrix, agreement}`).

use std::collections::HashMap;

use super::Store;
use crate::analysis::cooccurrence::Coding;
use crate::error::{Error, Result};
use crate::model::Facet;

impl Store {
    /// The codings of the live notes among `ids` (every live note for `None`): each tag on a
    /// whole note (typed in it or given beside it; one coding per coder who gave it, else one
    /// with no coder) and each passage still found on its words, with its coder. Sorted by
    /// note, so the analyses can walk notes in order.
    pub fn codings(&self, ids: Option<&[String]>) -> Result<Vec<Coding>> {
        let tx = self.conn().unchecked_transaction()?;
        let among = super::join_selected(&tx, "coding_ids", ids)?;
        let code = |facet: String, name: String| -> rusqlite::Result<String> {
            let facet = Facet::from_name(&facet).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    format!("unknown facet {facet}").into(),
                )
            })?;
            Ok(format!("{}{name}", facet.sigil()))
        };
        let mut codings = Vec::new();
        let mut stmt = tx.prepare(&format!(
            "SELECT nt.note_id, t.facet, t.name, c.coder FROM note_tags nt \
             JOIN tags t ON t.id = nt.tag_id JOIN notes n ON n.id = nt.note_id {among} \
             LEFT JOIN note_codings c ON c.note_id = nt.note_id AND c.tag_id = nt.tag_id \
             WHERE n.deleted_at IS NULL"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(Coding {
                note: r.get(0)?,
                code: code(r.get(1)?, r.get(2)?)?,
                span: None,
                coder: r.get(3)?,
            })
        })?;
        for row in rows {
            codings.push(row.map_err(corrupt)?);
        }
        let mut stmt = tx.prepare(&format!(
            "SELECT p.note_id, t.facet, t.name, p.start, p.end, p.coder FROM passages p \
             JOIN tags t ON t.id = p.tag_id JOIN notes n ON n.id = p.note_id {among} \
             WHERE n.deleted_at IS NULL AND p.lost = 0"
        ))?;
        let rows = stmt.query_map([], |r| {
            let (start, end): (i64, i64) = (r.get(3)?, r.get(4)?);
            Ok(Coding {
                note: r.get(0)?,
                code: code(r.get(1)?, r.get(2)?)?,
                span: Some((start.max(0) as usize, end.max(0) as usize)),
                coder: Some(r.get(5)?),
            })
        })?;
        for row in rows {
            codings.push(row.map_err(corrupt)?);
        }
        codings.sort_by(|a, b| a.note.cmp(&b.note));
        Ok(codings)
    }

    /// Each session's kind (`interview`, `mystery-shop`, …) by session id.
    pub fn session_kinds(&self) -> Result<HashMap<String, String>> {
        let mut stmt = self.conn().prepare("SELECT id, kind FROM sessions")?;
        let kinds = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(kinds)
    }
}

fn corrupt(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::FromSqlConversionFailure(_, _, why) => Error::Corrupt(why.to_string()),
        e => e.into(),
    }
}
