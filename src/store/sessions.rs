//! Studies, sessions and participants.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Store;
use crate::error::{Error, Result};
use crate::model::{Participant, Session, SessionKind};
use crate::time;

/// What `session start` (and imports) need to open a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Given by imports that carry their own ids; a new ULID otherwise.
    pub id: Option<String>,
    pub study: String,
    pub kind: SessionKind,
    pub title: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub researcher: Option<String>,
    pub location: Option<String>,
    pub channel: Option<String>,
    pub participants: Vec<Participant>,
    /// Measures the whole session carries (checked by whoever typed them; an import keeps
    /// what its file holds, and analysis reads values against their scales).
    pub measures: Vec<crate::model::Measure>,
    /// The hybrid-clock stamp of its details (see `store::hlc`), when another archive gave
    /// one: a merge keeps the newest details. `None` for a new session: it is stamped now.
    pub stamp: Option<String>,
}

impl NewSession {
    pub fn new(study: impl Into<String>, kind: SessionKind) -> NewSession {
        NewSession {
            id: None,
            study: study.into(),
            kind,
            title: None,
            started_at: None,
            ended_at: None,
            researcher: None,
            location: None,
            channel: None,
            participants: Vec::new(),
            measures: Vec::new(),
            stamp: None,
        }
    }
}

const SESSION_COLUMNS: &str = "s.id, st.name, s.kind, s.title, s.started_at, s.ended_at, \
     s.researcher, s.location, s.channel, \
     (SELECT group_concat(p.pseudonym, char(31)) FROM session_participants sp \
        JOIN participants p ON p.id = sp.participant_id WHERE sp.session_id = s.id), \
     (SELECT count(*) FROM notes n WHERE n.session_id = s.id AND n.deleted_at IS NULL)";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<(Session, String, String, Option<String>)> {
    let participants: Option<String> = r.get(9)?;
    let kind: String = r.get(2)?;
    let session = Session {
        id: r.get(0)?,
        study: r.get(1)?,
        kind: SessionKind::Interview,
        title: r.get(3)?,
        started_at: DateTime::<Utc>::MIN_UTC,
        ended_at: None,
        researcher: r.get(6)?,
        location: r.get(7)?,
        channel: r.get(8)?,
        participants: participants
            .map(|p| p.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        note_count: r.get(10)?,
    };
    Ok((session, kind, r.get(4)?, r.get(5)?))
}

fn finish_session(raw: (Session, String, String, Option<String>)) -> Result<Session> {
    let (mut s, kind, started, ended) = raw;
    s.kind = kind.parse().map_err(Error::Corrupt)?;
    s.started_at = time::from_db(&started)?;
    s.ended_at = ended.as_deref().map(time::from_db).transpose()?;
    Ok(s)
}

impl Store {
    pub(crate) fn end_session(&self, id: &str, at: DateTime<Utc>) -> Result<Session> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE sessions SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
            params![id, time::to_db(&at)],
        )?;
        tx.commit()?;
        let session = self.session(id)?;
        if changed == 0 {
            return Err(Error::SessionEnded {
                id: id.to_owned(),
                at: session
                    .ended_at
                    .map(|t| time::to_db(&t))
                    .unwrap_or_default(),
            });
        }
        Ok(session)
    }

    /// The hybrid-clock stamp of a session's details (`None`: written before stamps).
    pub fn session_stamp(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT hlc FROM sessions WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    pub fn session(&self, id: &str) -> Result<Session> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN studies st ON st.id = s.study_id WHERE s.id = ?1"
        );
        let raw = self
            .conn()
            .prepare_cached(&sql)?
            .query_row([id], session_from_row)
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("no session with id {id}")))?;
        finish_session(raw)
    }

    /// Sessions, newest first; only those of `study` when given.
    pub fn sessions(&self, study: Option<&str>) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN studies st ON st.id = s.study_id \
             WHERE ?1 IS NULL OR st.name = ?1 ORDER BY s.started_at DESC, s.id DESC"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt
            .query_map([study], session_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish_session).collect()
    }

    /// The newest `limit` sessions (newest first), how many there are in all, and every study
    /// by its latest session (newest first): what the app lists, without reading every
    /// session of a large archive.
    pub fn recent_sessions(&self, limit: usize) -> Result<SessionList> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN studies st ON st.id = s.study_id \
             ORDER BY s.started_at DESC, s.id DESC LIMIT ?1"
        );
        let sessions = self
            .conn()
            .prepare(&sql)?
            .query_map([limit as i64], session_from_row)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(finish_session)
            .collect::<Result<Vec<_>>>()?;
        let total: i64 = self
            .conn()
            .query_row("SELECT n FROM session_count", [], |r| r.get(0))?;
        let studies = self
            .conn()
            .prepare(
                // Each study's latest start from the index by study (a grouping read all
                // 500,000 sessions of a large archive: 94 ms, against 1).
                "SELECT name FROM (SELECT st.name, \
                   (SELECT max(s.started_at) FROM sessions s WHERE s.study_id = st.id) AS latest \
                   FROM studies st) \
                 WHERE latest IS NOT NULL ORDER BY latest DESC, name",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(SessionList {
            sessions,
            total: total.max(0) as usize,
            studies,
        })
    }

    /// The session `add` writes to when none is named: the most recently started open one.
    pub fn latest_open_session(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY started_at DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Finds a session by its id or a unique start of it (`01JD4` is enough when unambiguous).
    pub fn resolve_session(&self, prefix: &str) -> Result<String> {
        resolve_id(self.conn(), "sessions", "session", prefix)
    }

    /// Every study name with its number of sessions and live notes.
    pub fn studies(&self) -> Result<Vec<(String, i64, i64)>> {
        let mut stmt = self.conn().prepare(
            "SELECT st.name, \
               (SELECT count(*) FROM sessions s WHERE s.study_id = st.id), \
               (SELECT count(*) FROM notes n JOIN sessions s ON s.id = n.session_id \
                  WHERE s.study_id = st.id AND n.deleted_at IS NULL) \
             FROM studies st ORDER BY st.name",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every participant, in the order they were first recorded.
    pub fn participants(&self) -> Result<Vec<Participant>> {
        let mut stmt = self.conn().prepare(
            "SELECT pseudonym, consent, consent_date, contact FROM participants ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Participant {
                    pseudonym: r.get(0)?,
                    consent: r.get(1)?,
                    consent_date: r.get(2)?,
                    contact: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records a participant's consent as given on `at`'s date, or withdrawn.
    pub(crate) fn set_consent(
        &self,
        pseudonym: &str,
        consent: bool,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Participant> {
        let date = consent.then(|| at.format("%Y-%m-%d").to_string());
        self.update_participant(
            pseudonym,
            "UPDATE participants SET consent = ?2, consent_date = ?3 WHERE pseudonym = ?1",
            params![pseudonym, consent, date],
        )
    }

    /// Replaces a participant's private contact details (empty clears them).
    pub(crate) fn set_contact(&self, pseudonym: &str, contact: &str) -> Result<Participant> {
        let contact = contact.trim();
        self.update_participant(
            pseudonym,
            "UPDATE participants SET contact = ?2 WHERE pseudonym = ?1",
            params![pseudonym, (!contact.is_empty()).then_some(contact)],
        )
    }

    fn update_participant(
        &self,
        pseudonym: &str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Participant> {
        let tx = self.write()?;
        if tx.execute(sql, params)? == 0 {
            return Err(Error::NotFound(format!(
                "no participant called {pseudonym:?}"
            )));
        }
        tx.commit()?;
        self.participant(pseudonym)?
            .ok_or_else(|| Error::NotFound(format!("no participant called {pseudonym:?}")))
    }

    pub fn participant(&self, pseudonym: &str) -> Result<Option<Participant>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT pseudonym, consent, consent_date, contact FROM participants WHERE pseudonym = ?1",
            )?
            .query_row([pseudonym], |r| {
                    Ok(Participant {
                        pseudonym: r.get(0)?,
                        consent: r.get(1)?,
                        consent_date: r.get(2)?,
                        contact: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}

/// Resolves a full id or a unique prefix of one in `table`.
pub(crate) fn resolve_id(
    conn: &Connection,
    table: &str,
    what: &str,
    prefix: &str,
) -> Result<String> {
    let wanted = prefix.trim().to_uppercase();
    if wanted.len() < 4 || !wanted.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::NotFound(format!(
            "{prefix:?} is not a {what} id: give the id, or at least its first 4 characters"
        )));
    }
    // A bound GLOB pattern with a literal prefix lets SQLite walk the primary key index.
    let sql = format!("SELECT id FROM {table} WHERE id GLOB ?1 LIMIT 2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids: Vec<String> = stmt
        .query_map([format!("{wanted}*")], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::NotFound(format!("no {what} with id {prefix}"))),
        _ => Err(Error::NotFound(format!(
            "{prefix} is the start of more than one {what} id: give more characters"
        ))),
    }
}

pub(crate) fn study_id(tx: &Connection, name: &str) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Empty("a study needs a name"));
    }
    if let Some(id) = tx
        .prepare_cached("SELECT id FROM studies WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    tx.execute(
        "INSERT INTO studies (name, created_at) VALUES (?1, ?2)",
        params![name, time::to_db(&time::now())],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Finds a participant by pseudonym, creating them (with what is known) when new.
pub(crate) fn participant_id(tx: &Connection, p: &Participant) -> Result<i64> {
    let name = p.pseudonym.trim();
    if name.is_empty() {
        return Err(Error::Empty("a participant needs a pseudonym"));
    }
    // Cached: a merge or a pull asks for every note that names a participant.
    if let Some(id) = tx
        .prepare_cached("SELECT id FROM participants WHERE pseudonym = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    tx.prepare_cached(
        "INSERT INTO participants (pseudonym, consent, consent_date, contact, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![name, p.consent, p.consent_date, p.contact, time::to_db(&time::now())])?;
    Ok(tx.last_insert_rowid())
}

/// Inserts a session unless one with its id exists; returns its id either way.
pub(crate) fn insert_session(tx: &Connection, new: &NewSession) -> Result<String> {
    let id = new
        .id
        .clone()
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    let study = study_id(tx, &new.study)?;
    let started = new.started_at.unwrap_or_else(time::now);
    if let Some(end) = new.ended_at
        && end < started
    {
        return Err(Error::BadValue(format!(
            "session {id} would end ({}) before it starts ({})",
            time::to_db(&end),
            time::to_db(&started)
        )));
    }
    // Cached: a pull meets each of its batch's sessions again.
    let inserted = tx.prepare_cached(
        "INSERT OR IGNORE INTO sessions (id, study_id, kind, title, started_at, ended_at, researcher, location, channel, hlc) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(
        params![
            id,
            study,
            new.kind.as_str(),
            new.title,
            time::to_db(&started),
            new.ended_at.as_ref().map(time::to_db),
            new.researcher,
            new.location,
            new.channel,
            new.stamp
        ],
    )?;
    if inserted == 1 {
        for p in &new.participants {
            let pid = participant_id(tx, p)?;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO session_participants (session_id, participant_id) VALUES (?1, ?2)",
            )?
            .execute(params![id, pid])?;
        }
        for m in &new.measures {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO session_measures (session_id, name, value) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, m.name, m.value])?;
        }
    }
    Ok(id)
}

/// A page of the sessions: the newest ones, the number of all, and every study's name.
#[derive(Debug, Clone, Default)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    pub total: usize,
    /// Every study with a session, the one with the latest session first.
    pub studies: Vec<String>,
}

impl Store {
    /// A study's id by its name.
    /// The names a study's redacted exports mask (every study's when `None`), sorted.
    pub fn masked_names(&self, study: Option<&str>) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare(
            "SELECT DISTINCT m.name FROM masked_names m JOIN studies s ON s.id = m.study_id \
             WHERE ?1 IS NULL OR s.name = ?1 ORDER BY m.name",
        )?;
        let names = stmt
            .query_map([study], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    /// Adds names to (and takes names off) a study's list of names to mask.
    pub(crate) fn edit_masked_names(
        &self,
        study: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>> {
        let tx = self.write()?;
        let id = study_id(&tx, study)?;
        for name in add.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            tx.execute(
                "INSERT OR IGNORE INTO masked_names (study_id, name) VALUES (?1, ?2)",
                params![id, name],
            )?;
        }
        for name in remove {
            tx.execute(
                "DELETE FROM masked_names WHERE study_id = ?1 AND name = ?2",
                params![id, name.trim()],
            )?;
        }
        tx.commit()?;
        self.masked_names(Some(study))
    }

    pub fn study_id(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM studies WHERE name = ?1",
                [name.trim()],
                |r| r.get(0),
            )
            .optional()?)
    }
}
