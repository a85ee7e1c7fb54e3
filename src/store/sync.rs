//! What this archive remembers of its team servers: the remotes, how far each study has been
//! pulled, which local changes each server already holds. The server side is `crate::sync`.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Incoming, StampedRecord, Store};
use crate::error::{Error, Result};
use crate::time;

/// A team server this archive syncs with (its URL without a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remote {
    pub name: String,
    pub url: String,
    pub added_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// What the app's title shows: the last sync, the changes waiting for the next one, and
/// whether the last try could not reach the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub remote: Option<String>,
    pub last_sync: Option<DateTime<Utc>>,
    pub pending: u64,
    pub last_error: Option<String>,
}

/// One study's notes to push: each note's id and the change number it was read at.
pub type StudyPush = (String, Vec<(String, i64)>);

/// One batch pulled from a server for one study: applied with its cursor in one transaction.
pub struct PulledBatch {
    pub study: String,
    pub last_seq: i64,
    pub incoming: Incoming,
}

/// One study's records to push: each with its number, and whether that study is the only
/// one it goes to.
pub type StudyRecords = (String, Vec<(i64, StampedRecord, bool)>);

impl Store {
    pub(crate) fn add_remote(&self, name: &str, url: &str) -> Result<()> {
        let tx = self.write()?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO remotes (name, url, added_at) VALUES (?1, ?2, ?3)",
            params![name, url, time::to_db(&time::now())],
        )?;
        if added == 0 {
            return Err(Error::Usage(format!(
                "a remote named {name:?} exists already: `fieldnotes remote remove {name}` first"
            )));
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn remove_remote(&self, name: &str) -> Result<()> {
        let tx = self.write()?;
        if tx.execute("DELETE FROM remotes WHERE name = ?1", [name])? == 0 {
            return Err(no_remote(name));
        }
        tx.commit()?;
        Ok(())
    }

    pub fn remotes(&self) -> Result<Vec<Remote>> {
        let mut stmt = self.conn().prepare(
            "SELECT name, url, added_at, last_sync, last_error FROM remotes ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Remote {
                    name: r.get(0)?,
                    url: r.get(1)?,
                    added_at: r.get(2)?,
                    last_sync: r.get(3)?,
                    last_error: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The remote named, or the only one when no name is given.
    pub fn remote(&self, name: Option<&str>) -> Result<Remote> {
        let remotes = self.remotes()?;
        match name {
            Some(name) => remotes
                .into_iter()
                .find(|r| r.name == name)
                .ok_or_else(|| no_remote(name)),
            None => match remotes.len() {
                0 => Err(Error::Usage(
                    "no team server yet: `fieldnotes remote add NAME postgres://…` adds one".into(),
                )),
                1 => Ok(remotes.into_iter().next().expect("one remote")),
                _ => Err(Error::Usage(
                    "several remotes: name the one to sync with (`fieldnotes remote list`)".into(),
                )),
            },
        }
    }

    /// Notes and records changed here that `remote` does not hold yet (pushed by nobody,
    /// pulled from it as something else; records made on this laptop only, not those a pull
    /// brought and a push passes on).
    pub fn pending_for(&self, remote: &str) -> Result<u64> {
        let notes: i64 = self.conn().query_row(
            "SELECT count(*) FROM notes n, remotes r WHERE r.name = ?1 AND n.change_seq > r.pushed_seq \
             AND NOT EXISTS (SELECT 1 FROM sync_echoes e WHERE e.remote = r.name \
                             AND e.note_id = n.id AND e.change_seq = n.change_seq)",
            [remote],
            |r| r.get(0),
        )?;
        let records: i64 = self.conn().query_row(
            "SELECT count(*) FROM sync_records s, remotes r \
             WHERE r.name = ?1 AND s.seq > r.records_pushed_seq \
               AND s.hlc LIKE '%-' || (SELECT value FROM archive_meta WHERE key = 'archive_id') \
               AND NOT EXISTS (SELECT 1 FROM sync_record_echoes e WHERE e.remote = r.name \
                               AND e.kind = s.kind AND e.key = s.key AND e.seq = s.seq)",
            [remote],
            |r| r.get(0),
        )?;
        Ok((notes + records).max(0) as u64)
    }

    /// Records that `remote` holds now as they were at their numbers: those of one study
    /// only, sent to it (a push of that study alone does not move the push mark).
    pub(crate) fn mark_records_pushed(
        &self,
        remote: &str,
        records: &[(i64, &StampedRecord)],
    ) -> Result<()> {
        let tx = self.write()?;
        {
            let mut echo = tx.prepare_cached(
                "INSERT OR REPLACE INTO sync_record_echoes (remote, kind, key, seq) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (seq, r) in records {
                echo.execute(params![remote, r.kind, r.key, seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The sync state of the only (or first) remote, for the app's title.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let Some(remote) = self.remotes()?.into_iter().next() else {
            return Ok(SyncStatus::default());
        };
        Ok(SyncStatus {
            pending: self.pending_for(&remote.name)?,
            last_sync: remote.last_sync.as_deref().map(time::from_db).transpose()?,
            last_error: remote.last_error,
            remote: Some(remote.name),
        })
    }

    /// The notes `remote` does not hold yet, by study (of `only` when given), and the change
    /// number they were read at: what a push sends.
    pub(crate) fn to_push(
        &self,
        remote: &str,
        only: Option<&str>,
    ) -> Result<(i64, Vec<StudyPush>)> {
        let up_to = self.change_seq()?;
        let mut stmt = self.conn().prepare(
            "SELECT st.name, n.id, n.change_seq FROM notes n JOIN remotes r ON r.name = ?1 \
               JOIN sessions s ON s.id = n.session_id JOIN studies st ON st.id = s.study_id \
             WHERE n.change_seq > r.pushed_seq AND n.change_seq <= ?2 \
               AND (?3 IS NULL OR st.name = ?3) \
               AND NOT EXISTS (SELECT 1 FROM sync_echoes e WHERE e.remote = r.name \
                               AND e.note_id = n.id AND e.change_seq = n.change_seq) \
             ORDER BY st.name, n.change_seq",
        )?;
        let rows = stmt
            .query_map(params![remote, up_to, only], |r| {
                Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut by_study: Vec<StudyPush> = Vec::new();
        for (study, note) in rows {
            match by_study.last_mut() {
                Some((s, notes)) if *s == study => notes.push(note),
                _ => by_study.push((study, vec![note])),
            }
        }
        Ok((up_to, by_study))
    }

    /// Records that `remote` holds these notes as they were at their change numbers (a
    /// batch pushed): a note changed since stays waiting.
    pub(crate) fn mark_pushed(&self, remote: &str, notes: &[(String, i64)]) -> Result<()> {
        let tx = self.write()?;
        {
            let mut echo = tx.prepare_cached(
                "INSERT OR REPLACE INTO sync_echoes (remote, note_id, change_seq) VALUES (?1, ?2, ?3)",
            )?;
            for (id, seq) in notes {
                echo.execute(params![remote, id, seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// After a whole push: every change up to `up_to` and every record up to `records_up_to`
    /// is on the server (or was left out by a study filter and stays waiting: only an
    /// unfiltered push moves the marks).
    pub(crate) fn finish_push(&self, remote: &str, up_to: i64, records_up_to: i64) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE remotes SET pushed_seq = max(pushed_seq, ?2), \
               records_pushed_seq = max(records_pushed_seq, ?3) WHERE name = ?1",
            params![remote, up_to, records_up_to],
        )?;
        tx.execute(
            "DELETE FROM sync_record_echoes WHERE remote = ?1 AND seq <= ?2",
            params![remote, records_up_to],
        )?;
        tx.execute(
            "DELETE FROM sync_echoes WHERE remote = ?1 AND change_seq <= ?2",
            params![remote, up_to],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The records `remote` does not hold yet, by the study each goes to (only `only` when
    /// given), and the record number they were read up to. Their values are fixed first.
    pub(crate) fn records_to_push(
        &self,
        remote: &str,
        only: Option<&str>,
    ) -> Result<(i64, Vec<StudyRecords>)> {
        let tx = self.write()?;
        super::records::freeze_records_in(&tx)?;
        tx.commit()?;
        let pushed: i64 = self.conn().query_row(
            "SELECT records_pushed_seq FROM remotes WHERE name = ?1",
            [remote],
            |r| r.get(0),
        )?;
        let records = self.stamped_records(Some(pushed))?;
        let up_to = records.iter().map(|(seq, _)| *seq).max().unwrap_or(pushed);
        let mut by_study: std::collections::BTreeMap<String, Vec<(i64, StampedRecord, bool)>> =
            std::collections::BTreeMap::new();
        for (seq, record) in records {
            let studies = self.record_studies(&record)?;
            let alone = studies.len() == 1;
            for study in studies {
                if only.is_none_or(|o| o == study) {
                    by_study
                        .entry(study)
                        .or_default()
                        .push((seq, record.clone(), alone));
                }
            }
        }
        Ok((up_to, by_study.into_iter().collect()))
    }

    /// The last server sequence number pulled of a study.
    pub fn pulled_seq(&self, remote: &str, study: &str) -> Result<i64> {
        Ok(self
            .conn()
            .query_row(
                "SELECT pulled_seq FROM sync_cursors WHERE remote = ?1 AND study = ?2",
                params![remote, study],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Merges a pulled batch and moves the study's cursor past it, in one transaction: a
    /// sync stopped at any point has applied whole batches only, and the next one goes on
    /// from the last.
    pub(crate) fn apply_pulled(&self, remote: &str, batch: &PulledBatch) -> Result<()> {
        let tx = self.write()?;
        self.merge_in(&tx, &batch.incoming, &mut |id| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO sync_echoes (remote, note_id, change_seq) \
                 SELECT ?1, id, change_seq FROM notes WHERE id = ?2",
            )?
            .execute(params![remote, id])?;
            Ok(())
        })?;
        tx.execute(
            "INSERT INTO sync_cursors (remote, study, pulled_seq) VALUES (?1, ?2, ?3) \
             ON CONFLICT (remote, study) DO UPDATE SET pulled_seq = max(pulled_seq, excluded.pulled_seq)",
            params![remote, batch.study, batch.last_seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Remembers how the last sync with `remote` went (`error`: `None` when it finished).
    pub(crate) fn record_sync(&self, remote: &str, error: Option<&str>) -> Result<()> {
        let tx = self.write()?;
        match error {
            None => tx.execute(
                "UPDATE remotes SET last_sync = ?2, last_error = NULL WHERE name = ?1",
                params![remote, time::to_db(&time::now())],
            )?,
            Some(e) => tx.execute(
                "UPDATE remotes SET last_error = ?2 WHERE name = ?1",
                params![remote, e],
            )?,
        };
        tx.commit()?;
        Ok(())
    }
}

fn no_remote(name: &str) -> Error {
    Error::NotFound(format!(
        "no remote named {name:?}: `fieldnotes remote list` shows them"
    ))
}

impl Store {
    /// How many notes changed after change number `seq`.
    pub(crate) fn changed_since(&self, seq: i64) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM notes WHERE change_seq > ?1",
            [seq],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }
}
