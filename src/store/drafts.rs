//! The app's autosave: the text being typed, kept per session until it is saved as a note,
//! and an edit of an existing note in progress, kept until it is saved or cancelled.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Store;
use crate::error::{Error, Result};
use crate::model::NoteKind;
use crate::time;

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub session: String,
    /// The note being edited; `None` for a new note.
    pub note: Option<String>,
    pub kind: NoteKind,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Keeps the text being typed (a new note's, or an edit of `note`'s); an empty text clears
    /// the draft.
    pub(crate) fn save_draft(
        &self,
        session: &str,
        note: Option<&str>,
        kind: NoteKind,
        body: &str,
    ) -> Result<()> {
        let note = note.unwrap_or("");
        let tx = self.write()?;
        if body.trim().is_empty() {
            tx.execute(
                "DELETE FROM drafts WHERE session_id = ?1 AND note_id = ?2",
                [session, note],
            )?;
        } else {
            tx.execute(
                "INSERT INTO drafts (session_id, note_id, kind, body, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (session_id, note_id) DO UPDATE SET kind = ?3, body = ?4, updated_at = ?5",
                params![session, note, kind.as_str(), body, time::to_db(&time::now())],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A session's drafts: the new note's first, then edits in progress.
    pub fn session_drafts(&self, session: &str) -> Result<Vec<Draft>> {
        self.query_drafts(
            "SELECT session_id, note_id, kind, body, updated_at FROM drafts \
             WHERE session_id = ?1 ORDER BY note_id <> '', updated_at DESC",
            [session],
        )
    }

    /// Every unsaved draft, newest first: what the app offers back after a crash.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        self.query_drafts(
            "SELECT session_id, note_id, kind, body, updated_at FROM drafts \
             ORDER BY updated_at DESC",
            [],
        )
    }

    fn query_drafts(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Draft>> {
        let mut stmt = self.conn().prepare(sql)?;
        let raw = stmt
            .query_map(params, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(session, note, kind, body, updated)| {
                Ok(Draft {
                    session,
                    note: (!note.is_empty()).then_some(note),
                    kind: kind.parse().map_err(Error::Corrupt)?,
                    body,
                    updated_at: time::from_db(&updated)?,
                })
            })
            .collect()
    }
}
