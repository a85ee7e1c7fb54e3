//! Scorecard versions, visits and their answers.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::{Error, Result};
use crate::model::SessionKind;
use crate::mystery_shop::{Answer, Scorecard, ScoredVisit, score_visit};
use crate::time;

/// A stored scorecard version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScorecardVersion {
    pub id: i64,
    pub version: i64,
    pub card: Scorecard,
}

/// What importing a template did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScorecardImport {
    pub name: String,
    pub version: i64,
    /// False when the same template was already the latest version.
    pub new_version: bool,
}

fn card_from_json(json: &str) -> Result<Scorecard> {
    serde_json::from_str(json)
        .map_err(|e| Error::Corrupt(format!("a stored scorecard is unreadable: {e}")))
}

impl Store {
    /// Stores a template as the next version of its name, unless it equals the latest one.
    pub(crate) fn import_scorecard(
        &self,
        card: &Scorecard,
        source: &str,
    ) -> Result<ScorecardImport> {
        let definition = serde_json::to_string(card).expect("scorecards serialise");
        let tx = self.write()?;
        let latest: Option<(i64, String)> = tx
            .query_row(
                "SELECT version, definition FROM scorecards WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                [&card.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let result = match latest {
            Some((version, existing)) if existing == definition => ScorecardImport {
                name: card.name.clone(),
                version,
                new_version: false,
            },
            other => {
                let version = other.map_or(1, |(v, _)| v + 1);
                tx.execute(
                    "INSERT INTO scorecards (name, version, definition, source, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![card.name, version, definition, source, time::to_db(&time::now())],
                )?;
                ScorecardImport {
                    name: card.name.clone(),
                    version,
                    new_version: true,
                }
            }
        };
        tx.commit()?;
        Ok(result)
    }

    /// A scorecard by name: the given version, or the latest.
    pub fn scorecard(&self, name: &str, version: Option<i64>) -> Result<ScorecardVersion> {
        let row: Option<(i64, i64, String)> = self
            .conn()
            .query_row(
                "SELECT id, version, definition FROM scorecards WHERE name = ?1 AND (?2 IS NULL OR version = ?2) \
                 ORDER BY version DESC LIMIT 1",
                params![name, version],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (id, version, json) = row.ok_or_else(|| {
            Error::NotFound(match version {
                Some(v) => format!("no version {v} of the scorecard {name:?}"),
                None => format!("no scorecard named {name:?}: import one with `fieldnotes scorecard import FILE`"),
            })
        })?;
        Ok(ScorecardVersion {
            id,
            version,
            card: card_from_json(&json)?,
        })
    }

    /// The latest version of every scorecard.
    pub fn scorecards(&self) -> Result<Vec<ScorecardVersion>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, version, definition FROM scorecards s WHERE version = \
               (SELECT max(version) FROM scorecards t WHERE t.name = s.name) ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<(i64, i64, String)>, _>>()?;
        rows.into_iter()
            .map(|(id, version, json)| {
                Ok(ScorecardVersion {
                    id,
                    version,
                    card: card_from_json(&json)?,
                })
            })
            .collect()
    }

    /// Makes a mystery-shop session a visit scored with the latest version of `scorecard`.
    pub(crate) fn attach_scorecard(
        &self,
        session: &str,
        scorecard: &str,
    ) -> Result<ScorecardVersion> {
        let s = self.session(session)?;
        if s.kind != SessionKind::MysteryShop {
            return Err(Error::NotAVisit(format!(
                "session {session} is a {} session: only mystery-shop sessions carry a scorecard",
                s.kind
            )));
        }
        let card = self.scorecard(scorecard, None)?;
        let tx = self.write()?;
        attach_in(&tx, session, card.id)?;
        tx.commit()?;
        self.visit_scorecard(session)
    }

    /// Starts a session and, for a mystery-shop visit, attaches its scorecard, in one
    /// transaction: a failure leaves neither.
    pub(crate) fn start_session_with(
        &self,
        new: &crate::store::NewSession,
        scorecard: Option<&str>,
    ) -> Result<crate::model::Session> {
        let card = match scorecard {
            Some(name) => {
                if new.kind != SessionKind::MysteryShop {
                    return Err(Error::NotAVisit(format!(
                        "a {} session cannot carry a scorecard: only mystery-shop sessions do",
                        new.kind
                    )));
                }
                Some(self.scorecard(name, None)?)
            }
            None => None,
        };
        let tx = self.write()?;
        let id = super::sessions::insert_session(&tx, new)?;
        if let Some(card) = &card {
            attach_in(&tx, &id, card.id)?;
        }
        tx.commit()?;
        self.session(&id)
    }

    /// Fails unless the visit's scorecard has `criterion`.
    fn check_criterion(&self, session: &str, criterion: &str) -> Result<()> {
        let card = self.visit_scorecard(session)?;
        if card.card.criterion(criterion).is_none() {
            return Err(Error::NotFound(format!(
                "the scorecard {:?} has no criterion {criterion:?}",
                card.card.name
            )));
        }
        Ok(())
    }

    /// Answers a criterion and writes its evidence note, in one transaction: the note never
    /// exists without its answer, nor the answer without its note. Returns the note's id.
    pub(crate) fn answer_with_note(
        &self,
        session: &str,
        criterion: &str,
        value: Option<f64>,
        note: Option<&crate::store::NewNote>,
    ) -> Result<Option<String>> {
        self.check_criterion(session, criterion)?;
        let tx = self.write()?;
        let note_id = note
            .map(|n| super::notes::add_note_in(&tx, n))
            .transpose()?;
        answer_in(&tx, session, criterion, value, note_id.as_deref())?;
        tx.commit()?;
        Ok(note_id)
    }

    /// The scorecard version a visit uses.
    pub fn visit_scorecard(&self, session: &str) -> Result<ScorecardVersion> {
        let row: Option<(i64, i64, String)> = self
            .conn()
            .query_row(
                "SELECT c.id, c.version, c.definition FROM visits v JOIN scorecards c ON c.id = v.scorecard_id \
                 WHERE v.session_id = ?1",
                [session],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (id, version, json) = row.ok_or_else(|| {
            Error::NotFound(format!(
                "session {session} has no scorecard: start visits with `session start --kind mystery-shop --scorecard NAME`"
            ))
        })?;
        Ok(ScorecardVersion {
            id,
            version,
            card: card_from_json(&json)?,
        })
    }

    /// Records (or replaces) the answer to one criterion of a visit.
    pub(crate) fn answer(
        &self,
        session: &str,
        criterion: &str,
        value: Option<f64>,
        note: Option<&str>,
    ) -> Result<()> {
        self.check_criterion(session, criterion)?;
        let tx = self.write()?;
        answer_in(&tx, session, criterion, value, note)?;
        tx.commit()?;
        Ok(())
    }

    pub fn answers(&self, session: &str) -> Result<Vec<Answer>> {
        let mut stmt = self.conn().prepare(
            "SELECT a.criterion, a.value, a.na, a.note_id, n.body FROM visit_answers a \
             LEFT JOIN notes n ON n.id = a.note_id AND n.deleted_at IS NULL WHERE a.session_id = ?1",
        )?;
        let rows = stmt
            .query_map([session], |r| {
                let note_id: Option<String> = r.get(3)?;
                let body: Option<String> = r.get(4)?;
                Ok(Answer {
                    criterion: r.get(0)?,
                    value: r.get(1)?,
                    na: r.get(2)?,
                    note: note_id.zip(body),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every visit with its score, oldest first.
    pub fn scored_visits(&self) -> Result<Vec<ScoredVisit>> {
        let mut stmt = self.conn().prepare(
            "SELECT v.session_id FROM visits v JOIN sessions s ON s.id = v.session_id ORDER BY s.started_at",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter()
            .map(|id| {
                let session = self.session(id)?;
                let card = self.visit_scorecard(id)?;
                let score = score_visit(&card.card, &self.answers(id)?);
                Ok(ScoredVisit {
                    session: id.clone(),
                    location: session.location,
                    started_at: session.started_at,
                    scorecard: card.card.name,
                    version: card.version,
                    score,
                })
            })
            .collect()
    }
}

fn attach_in(tx: &rusqlite::Connection, session: &str, card_id: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO visits (session_id, scorecard_id) VALUES (?1, ?2) \
         ON CONFLICT (session_id) DO UPDATE SET scorecard_id = ?2 \
         WHERE NOT EXISTS (SELECT 1 FROM visit_answers WHERE session_id = ?1)",
        params![session, card_id],
    )?;
    Ok(())
}

fn answer_in(
    tx: &rusqlite::Connection,
    session: &str,
    criterion: &str,
    value: Option<f64>,
    note: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO visit_answers (session_id, criterion, value, na, note_id, answered_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (session_id, criterion) DO UPDATE SET value = ?3, na = ?4, \
           note_id = coalesce(?5, note_id), answered_at = ?6",
        params![
            session,
            criterion,
            value,
            value.is_none(),
            note,
            time::to_db(&time::now())
        ],
    )?;
    Ok(())
}
