//! Team sync through the one door: remotes, `remote init`, and `sync` (push, then pull, then
//! index what the pull changed). See `crate::sync` for how it stays safe when stopped.

use std::collections::HashMap;

use super::Archive;
use crate::error::{Error, Result};
use crate::io::export::{SessionLine, session_line};
use crate::io::jsonl;
use crate::store::{Incoming, PulledBatch, Remote, SyncStatus};
use crate::sync::{self, Limits, OutEvent, Server, SyncReport};

/// A batch sent to the server and not yet acknowledged: its study, its notes (with the
/// change numbers they were read at) and how many events it carries.
type InFlight<'a> = (&'a str, &'a [(String, i64)], u64);

impl Archive {
    /// Adds a team server; the URL is kept without its password.
    pub fn add_remote(&self, name: &str, url: &str) -> Result<Remote> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(Error::Usage(format!(
                "{name:?} cannot name a remote: one word, such as `team`"
            )));
        }
        // Checked now, so a typo is found when adding, not at the first sync.
        sync::check_url(url)?;
        self.store.add_remote(name, &sync::redact_url(url))?;
        self.store.remote(Some(name))
    }

    pub fn remove_remote(&self, name: &str) -> Result<()> {
        self.store.remove_remote(name)
    }

    pub fn remotes(&self) -> Result<Vec<Remote>> {
        self.store.remotes()
    }

    /// The sync state of the remote the app shows (the first).
    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.store.sync_status()
    }

    /// Creates or updates the server's schema; returns the migrations applied now. `url`
    /// overrides the saved one (an administrator's login rather than the researcher's).
    pub fn init_remote(&self, name: &str, url: Option<&str>) -> Result<Vec<String>> {
        let remote = self.store.remote(Some(name))?;
        let mut server = sync::connect(&remote.name, url.unwrap_or(&remote.url))?;
        sync::init(&mut server)
    }

    /// Pushes this archive's changes to the remote (`None`: the only one) and pulls everyone
    /// else's, for one study or all. When the server cannot be reached nothing changes here
    /// but the remembered error (which the app shows as "offline").
    pub fn sync(&mut self, name: Option<&str>, study: Option<&str>) -> Result<SyncReport> {
        let remote = self.store.remote(name)?;
        let synced = self.sync_with(&remote, study);
        let error = synced.as_ref().err().map(ToString::to_string);
        self.store.record_sync(&remote.name, error.as_deref())?;
        // Whatever was pulled before a failure is in SQLite: the index takes it now.
        self.sync_index()?;
        synced
    }

    fn sync_with(&mut self, remote: &Remote, study: Option<&str>) -> Result<SyncReport> {
        let mut server = sync::connect(&remote.name, &remote.url)?;
        crate::sync::check_schema(&mut server)?;
        let mut limits = Limits::from_env();
        let mut report = SyncReport {
            remote: remote.name.clone(),
            ..SyncReport::default()
        };
        self.push(&mut server, remote, study, &mut limits, &mut report)?;
        let studies = match study {
            Some(s) => vec![s.to_owned()],
            None => server.studies()?,
        };
        for study in studies {
            self.pull(&mut server, remote, &study, &mut limits, &mut report)?;
        }
        Ok(report)
    }

    fn push(
        &self,
        server: &mut Server,
        remote: &Remote,
        only: Option<&str>,
        limits: &mut Limits,
        report: &mut SyncReport,
    ) -> Result<()> {
        let (up_to, by_study) = self.store.to_push(&remote.name, only)?;
        let origin = self.store.archive_id()?;
        let batches: Vec<(&str, &[(String, i64)])> = by_study
            .iter()
            .flat_map(|(study, notes)| {
                notes
                    .chunks(limits.batch)
                    .map(move |batch| (study.as_str(), batch))
            })
            .collect();
        // The next batch is read here while the one before is on its way to the server, on
        // a thread of its own: reading SQLite and the server's writing overlap. A batch is
        // marked as pushed only once the server has committed it, in order, so a push
        // stopped anywhere sends again at most what the server holds (and adds nothing).
        std::thread::scope(|scope| -> Result<()> {
            let (outbox, inbox) = std::sync::mpsc::sync_channel::<(&str, Vec<OutEvent>)>(1);
            let (acks, acked) = std::sync::mpsc::channel::<Result<bool>>();
            let origin = origin.as_str();
            let sender = &mut *server;
            scope.spawn(move || {
                for (study, events) in inbox {
                    let pushed = sender.push(study, origin, &events);
                    let failed = pushed.is_err();
                    if acks.send(pushed).is_err() || failed {
                        break;
                    }
                }
            });
            let stopped = || Error::Server {
                remote: remote.name.clone(),
                reason: "the push stopped before the server answered".into(),
            };
            let mut sessions: HashMap<String, SessionLine> = HashMap::new();
            let mut in_flight: std::collections::VecDeque<InFlight<'_>> =
                std::collections::VecDeque::new();
            let mut settle =
                |(study, batch, count): InFlight<'_>, report: &mut SyncReport| -> Result<()> {
                    if acked.recv().map_err(|_| stopped())?? {
                        self.store.mark_pushed(&remote.name, batch)?;
                        report.pushed += count;
                        limits.batch_done();
                    } else if !report.refused.iter().any(|s| s == study) {
                        report.refused.push(study.to_owned());
                    }
                    Ok(())
                };
            for (study, batch) in batches {
                if report.refused.iter().any(|s| s == study) {
                    continue;
                }
                let events = self.events(batch, &mut sessions)?;
                let count = events.len() as u64;
                // A sender that stopped left its error in the acknowledgements.
                let _ = outbox.send((study, events));
                in_flight.push_back((study, batch, count));
                while in_flight.len() > 1 {
                    let oldest = in_flight.pop_front().expect("two in flight");
                    settle(oldest, report)?;
                }
            }
            drop(outbox);
            while let Some(oldest) = in_flight.pop_front() {
                settle(oldest, report)?;
            }
            Ok(())
        })?;
        // Then the records (codebook, consent, curation…), after the notes they may name.
        let (records_up_to, by_study) = self.store.records_to_push(&remote.name, only)?;
        for (study, records) in &by_study {
            for batch in records.chunks(limits.batch) {
                if report.refused.iter().any(|s| s == study) {
                    break;
                }
                let events = batch
                    .iter()
                    .map(|(_, r, _)| {
                        let payload = jsonl::record_line(r).map_err(|e| {
                            Error::Corrupt(format!("cannot write a record for the server: {e}"))
                        })?;
                        Ok(OutEvent {
                            kind: "record",
                            entity: format!("{}:{}", r.kind, r.key),
                            digest: sync::digest(&payload),
                            payload,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if server.push(study, &origin, &events)? {
                    report.records_pushed += events.len() as u64;
                    let alone: Vec<(i64, &crate::store::StampedRecord)> = batch
                        .iter()
                        .filter(|(_, _, alone)| *alone)
                        .map(|(seq, r, _)| (*seq, r))
                        .collect();
                    self.store.mark_records_pushed(&remote.name, &alone)?;
                    limits.batch_done();
                } else {
                    report.refused.push(study.clone());
                }
            }
        }
        // Only a push of every study (none refused) says the server holds everything up to
        // here; otherwise what was sent is remembered note by note (and records are sent
        // again next time: the server keeps one copy of each).
        if only.is_none() && report.refused.is_empty() {
            self.store.finish_push(&remote.name, up_to, records_up_to)?;
        }
        Ok(())
    }

    /// A batch's notes as the server keeps them: each note's JSONL line, with its session.
    fn events(
        &self,
        batch: &[(String, i64)],
        sessions: &mut HashMap<String, SessionLine>,
    ) -> Result<Vec<OutEvent>> {
        let mut events = Vec::with_capacity(batch.len());
        for (id, _) in batch {
            let Some(record) = self.store.note_record(id)? else {
                continue;
            };
            if !sessions.contains_key(&record.session) {
                let (line, _) = session_line(&self.store, &record.session, None)?;
                sessions.insert(record.session.clone(), line);
            }
            let line = jsonl::note_line(&sessions[&record.session], record);
            let payload = serde_json::to_string(&line).map_err(|e| {
                Error::Corrupt(format!("cannot write note {id} for the server: {e}"))
            })?;
            events.push(OutEvent {
                kind: "note",
                entity: id.clone(),
                digest: sync::digest(&payload),
                payload,
            });
        }
        Ok(events)
    }

    fn pull(
        &mut self,
        server: &mut Server,
        remote: &Remote,
        study: &str,
        limits: &mut Limits,
        report: &mut SyncReport,
    ) -> Result<()> {
        let origin = self.store.archive_id()?;
        let first = self.store.pulled_seq(&remote.name, study)?;
        let batch = limits.batch;
        let remote_name = remote.name.as_str();
        // The next batch is fetched and read (JSON) on a thread of its own while this one is
        // merged: each batch still goes into SQLite with its cursor in one transaction, in
        // order, so a pull stopped anywhere goes on from the last batch applied.
        std::thread::scope(|scope| -> Result<()> {
            let (outbox, inbox) = std::sync::mpsc::sync_channel::<Result<PulledBatch>>(1);
            let fetcher = &mut *server;
            let origin = origin.as_str();
            scope.spawn(move || {
                let mut after = first;
                loop {
                    let fetched = fetch(fetcher, remote_name, study, origin, after, batch);
                    let next = match &fetched {
                        Ok(Some(b)) => Some(b.last_seq),
                        _ => None,
                    };
                    let Some(sent) = fetched.transpose() else {
                        return;
                    };
                    if outbox.send(sent).is_err() {
                        return;
                    }
                    match next {
                        Some(seq) => after = seq,
                        None => return,
                    }
                }
            });
            for pulled in inbox {
                let pulled = pulled?;
                let fetched = pulled.incoming.len() as u64;
                let before = self.store.change_seq()?;
                self.store.apply_pulled(remote_name, &pulled)?;
                report.pulled += fetched;
                report.changed += self.store.changed_since(before)?;
                limits.batch_done();
            }
            Ok(())
        })
    }
}

/// Up to `batch` events of a study after `after`, read as notes and records; `None` when
/// there are none.
fn fetch(
    server: &mut Server,
    remote: &str,
    study: &str,
    origin: &str,
    after: i64,
    batch: usize,
) -> Result<Option<PulledBatch>> {
    let events = server.pull(study, origin, after, batch)?;
    let Some(&(last_seq, _, _)) = events.last() else {
        return Ok(None);
    };
    let mut incoming = Incoming::default();
    for (seq, kind, payload) in &events {
        let Some(payload) = payload.as_deref() else {
            continue;
        };
        let bad = |reason: String| Error::Server {
            remote: remote.to_owned(),
            reason: format!("event {seq} of study {study:?} is not a {kind}: {reason}"),
        };
        match kind.as_str() {
            "record" => incoming
                .records
                .push(jsonl::parse_record(payload).map_err(bad)?),
            _ => incoming
                .notes
                .push(jsonl::parse_note(payload).map_err(bad)?),
        }
    }
    Ok(Some(PulledBatch {
        study: study.to_owned(),
        last_seq,
        incoming,
    }))
}
