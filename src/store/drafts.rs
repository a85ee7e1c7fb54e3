//! The app's autosave: the text being typed, kept per session until it is saved as a note.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::{Error, Result};
use crate::model::NoteKind;
use crate::time;

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub session: String,
    pub kind: NoteKind,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Keeps the text being typed; an empty text clears the draft.
    pub fn save_draft(&self, session: &str, kind: NoteKind, body: &str) -> Result<()> {
        let tx = self.write()?;
        if body.trim().is_empty() {
            tx.execute("DELETE FROM drafts WHERE session_id = ?1", [session])?;
        } else {
            tx.execute(
                "INSERT INTO drafts (session_id, kind, body, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (session_id) DO UPDATE SET kind = ?2, body = ?3, updated_at = ?4",
                params![session, kind.as_str(), body, time::to_db(&time::now())],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn draft(&self, session: &str) -> Result<Option<Draft>> {
        let raw: Option<(String, String, String)> = self
            .conn()
            .query_row(
                "SELECT kind, body, updated_at FROM drafts WHERE session_id = ?1",
                [session],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        raw.map(|(kind, body, updated)| {
            Ok(Draft {
                session: session.to_owned(),
                kind: kind.parse().map_err(Error::Invalid)?,
                body,
                updated_at: time::from_db(&updated)?,
            })
        })
        .transpose()
    }

    /// Every unsaved draft, newest first: what the app offers back after a crash.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT session_id FROM drafts ORDER BY updated_at DESC")?;
        let sessions = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(sessions
            .iter()
            .map(|s| self.draft(s))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect())
    }
}
