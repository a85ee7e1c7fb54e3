//! Measures the archive keeps beside the notes' text: the scales a study defines, the measures
//! a whole session carries, and the check every written note's `%name=value` tokens pass.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Store;
use crate::error::{Error, Result};
use crate::model::{Measure, MeasureScale, built_in_scales, check_measures, parse_measures};
use crate::time;

/// A session's measures, with what analysis groups them by.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionMeasures {
    pub session: String,
    pub study: String,
    pub started_at: DateTime<Utc>,
    pub measures: Vec<Measure>,
}

impl Store {
    /// The scales a study's notes may use: the built-in ones, then the study's own by name.
    /// `None` (or a study not yet in the archive): the built-ins only.
    pub fn measure_scales(&self, study: Option<&str>) -> Result<Vec<MeasureScale>> {
        let study_id = match study {
            Some(name) => self.study_id(name)?,
            None => None,
        };
        scales_of_study(self.conn(), study_id)
    }

    /// Every scale the archive knows (built-ins, then each study's own, once per name): what
    /// an analysis over several studies reads values against.
    pub fn all_measure_scales(&self) -> Result<Vec<MeasureScale>> {
        let mut scales = built_in_scales();
        let mut stmt = self.conn().prepare(
            "SELECT name, min, max, higher_is_better, whole, description FROM measure_scales \
             ORDER BY name, study_id",
        )?;
        for scale in stmt.query_map([], scale_from_row)? {
            let scale = scale?;
            if !scales.iter().any(|s| s.name == scale.name) {
                scales.push(scale);
            }
        }
        Ok(scales)
    }

    /// Defines (or redefines) a study's own measure. A built-in name cannot be taken.
    pub(crate) fn define_measure(&self, study: &str, scale: &MeasureScale) -> Result<()> {
        let name = crate::model::normalize_name(&scale.name);
        if name.is_empty() {
            return Err(Error::Empty("a measure needs a name"));
        }
        if crate::model::BUILT_IN_MEASURES.contains(&name.as_str()) {
            return Err(Error::BadValue(format!(
                "{name} is a built-in measure ({}): choose another name",
                crate::model::BUILT_IN_MEASURES.join(", ")
            )));
        }
        if !(scale.min.is_finite() && scale.max.is_finite() && scale.max > scale.min) {
            return Err(Error::BadValue(format!(
                "the scale of {name} must run from a lower to a higher number (got {}..{})",
                scale.min, scale.max
            )));
        }
        let tx = self.write()?;
        let study_id = super::sessions::study_id(&tx, study)?;
        tx.execute(
            "INSERT INTO measure_scales (study_id, name, min, max, higher_is_better, whole, description) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (study_id, name) DO UPDATE SET min = ?3, max = ?4, \
               higher_is_better = ?5, whole = ?6, description = ?7",
            params![
                study_id,
                name,
                scale.min,
                scale.max,
                scale.higher_is_better,
                scale.whole,
                scale.description
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets measures on a session (each checked against its study's scales), replacing any
    /// value of the same name.
    pub(crate) fn set_session_measures(&self, session: &str, measures: &[Measure]) -> Result<()> {
        let tx = self.write()?;
        set_session_measures_in(&tx, session, measures)?;
        tx.commit()?;
        Ok(())
    }

    /// Every session's measures (only sessions that carry some), oldest session first; `None`
    /// for every session, else only those listed.
    pub fn session_measures(&self, sessions: Option<&[String]>) -> Result<Vec<SessionMeasures>> {
        let mut stmt = self.conn().prepare(
            "SELECT m.session_id, st.name, s.started_at, m.name, m.value \
             FROM session_measures m JOIN sessions s ON s.id = m.session_id \
             JOIN studies st ON st.id = s.study_id \
             ORDER BY s.started_at, m.session_id, m.name",
        )?;
        let wanted: Option<std::collections::HashSet<&str>> =
            sessions.map(|s| s.iter().map(String::as_str).collect());
        let mut out: Vec<SessionMeasures> = Vec::new();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, f64>(4)?,
            ))
        })?;
        for row in rows {
            let (session, study, started, name, value) = row?;
            if wanted
                .as_ref()
                .is_some_and(|w| !w.contains(session.as_str()))
            {
                continue;
            }
            let measure = Measure { name, value };
            match out.last_mut() {
                Some(last) if last.session == session => last.measures.push(measure),
                _ => out.push(SessionMeasures {
                    session,
                    study,
                    started_at: time::from_db(&started)?,
                    measures: vec![measure],
                }),
            }
        }
        Ok(out)
    }

    /// One session's measures, by name.
    pub fn measures_of_session(&self, session: &str) -> Result<Vec<Measure>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT name, value FROM session_measures WHERE session_id = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([session], |r| {
            Ok(Measure {
                name: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

pub(super) fn scale_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MeasureScale> {
    Ok(MeasureScale {
        name: r.get(0)?,
        min: r.get(1)?,
        max: r.get(2)?,
        higher_is_better: r.get(3)?,
        whole: r.get(4)?,
        description: r.get(5)?,
    })
}

fn scales_of_study(conn: &Connection, study_id: Option<i64>) -> Result<Vec<MeasureScale>> {
    let mut scales = built_in_scales();
    if let Some(id) = study_id {
        let mut stmt = conn.prepare_cached(
            "SELECT name, min, max, higher_is_better, whole, description FROM measure_scales \
             WHERE study_id = ?1 ORDER BY name",
        )?;
        for scale in stmt.query_map([id], scale_from_row)? {
            scales.push(scale?);
        }
    }
    Ok(scales)
}

/// The scales of the study named `study` (the built-ins when there is none of that name).
pub(super) fn scales_of_study_named(conn: &Connection, study: &str) -> Result<Vec<MeasureScale>> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM studies WHERE name = ?1",
            [study.trim()],
            |r| r.get(0),
        )
        .optional()?;
    scales_of_study(conn, id)
}

/// The scales a session's notes may use.
pub(super) fn scales_of_session(conn: &Connection, session: &str) -> Result<Vec<MeasureScale>> {
    let study: Option<i64> = conn
        .query_row(
            "SELECT study_id FROM sessions WHERE id = ?1",
            [session],
            |r| r.get(0),
        )
        .optional()?;
    scales_of_study(conn, study)
}

/// Checks the measures typed in a note about to be written to `session`: a value out of its
/// scale, or a measure no scale names, is refused with one sentence.
pub(super) fn check_note_measures(conn: &Connection, session: &str, body: &str) -> Result<()> {
    // Most notes carry none: no query for them.
    if !body.contains(crate::model::MEASURE_SIGIL) || parse_measures(body).is_empty() {
        return Ok(());
    }
    check_measures(body, &scales_of_session(conn, session)?)
        .map(|_| ())
        .map_err(Error::BadValue)
}

pub(crate) fn set_session_measures_in(
    tx: &Connection,
    session: &str,
    measures: &[Measure],
) -> Result<()> {
    let scales = scales_of_session(tx, session)?;
    for m in measures {
        let scale = scales.iter().find(|s| s.name == m.name).ok_or_else(|| {
            Error::BadValue(format!(
                "no measure is named {} (known: {})",
                m.name,
                scales
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        scale.check(m.value).map_err(Error::BadValue)?;
        let changed = tx.execute(
            "INSERT INTO session_measures (session_id, name, value) \
             SELECT id, ?2, ?3 FROM sessions WHERE id = ?1 \
             ON CONFLICT (session_id, name) DO UPDATE SET value = ?3",
            params![session, m.name, m.value],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(format!("no session with id {session}")));
        }
    }
    Ok(())
}
