//! The worker owns the archive: every disk and index operation runs here, off the keystroke
//! path. Requests are handled in order, except that only the newest search and the newest
//! draft of a session are worth doing when several wait.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use crate::archive::{Archive, SearchResults, VisitState};
use crate::model::{Note, NoteKind, Revision, Session, SessionKind, Tag};
use crate::mystery_shop::{GroupBy, ReportGroup, report};
use crate::query::Filters;
use crate::store::{Draft, NewNote, NewSession};

#[derive(Debug, Clone)]
pub enum Request {
    Sessions,
    Session(String),
    StartSession {
        new: NewSession,
        /// For a mystery-shop visit: the scorecard to fill in.
        scorecard: Option<String>,
    },
    EndSession(String),
    SaveNote {
        session: String,
        kind: NoteKind,
        body: String,
    },
    EditNote {
        id: String,
        body: String,
        kind: Option<NoteKind>,
    },
    Trash(String),
    Restore(String),
    SaveDraft {
        session: String,
        kind: NoteKind,
        body: String,
    },
    /// Answers a visit's criterion, with the editor's text as its evidence note.
    Answer {
        session: String,
        criterion: String,
        value: String,
        note: Option<String>,
    },
    VisitReport,
    /// Themes, persona contrast, pains and the journey over the notes a search selects.
    Analyse {
        query: String,
        filters: Filters,
    },
    /// The notes behind a theme, for reading.
    Evidence {
        title: String,
        ids: Vec<String>,
    },
    Search {
        generation: u64,
        query: String,
        filters: Filters,
        limit: usize,
    },
    History(String),
}

#[derive(Debug, Clone)]
pub enum Response {
    Opened {
        drafts: Vec<Draft>,
        tags: Vec<Tag>,
        scorecards: Vec<String>,
    },
    Sessions(Vec<Session>),
    SessionLoaded {
        session: Session,
        notes: Vec<Note>,
        draft: Option<Draft>,
        visit: Option<Box<VisitState>>,
    },
    Answered {
        visit: Box<VisitState>,
        note: Option<Note>,
    },
    Analysed(Box<Analysis>),
    Evidence {
        title: String,
        notes: Vec<Note>,
    },
    VisitReport {
        by_location: Vec<ReportGroup>,
        by_month: Vec<ReportGroup>,
        visits: usize,
    },
    SessionStarted(Session),
    SessionEnded(Session),
    NoteSaved(Note),
    NoteEdited(Note),
    NoteTrashed(Note),
    NoteRestored(Note),
    Tags(Vec<Tag>),
    DraftSaved,
    Searched {
        generation: u64,
        results: SearchResults,
        millis: u128,
    },
    SearchFailed {
        generation: u64,
        message: String,
    },
    History {
        id: String,
        versions: Vec<Revision>,
    },
    /// A note could not be saved: its text goes back to the editor.
    SaveFailed {
        body: String,
        message: String,
    },
    /// Something failed; the message is for the status bar.
    Failed(String),
    /// The archive could not be opened: the app cannot go on.
    Fatal(String),
}

/// What the themes view shows: every analysis over the same notes.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub query: String,
    pub themes: crate::analysis::ThemesReport,
    pub contrast: crate::analysis::ContrastReport,
    pub pains: crate::analysis::PainsReport,
    pub journey: crate::analysis::JourneyReport,
}

/// The archive with the requests it can serve.
pub struct Worker {
    archive: Archive,
}

impl Worker {
    /// Opens the archive and says what the app needs first (drafts to restore, tags).
    pub fn open(dir: &std::path::Path) -> Result<(Worker, Response), String> {
        let archive = Archive::open(dir)
            .map_err(|e| format!("cannot open the archive {}: {e}", dir.display()))?;
        let drafts = archive.store().drafts().map_err(|e| e.to_string())?;
        let tags = archive.store().tag_names().map_err(|e| e.to_string())?;
        let scorecards = archive
            .store()
            .scorecards()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|c| c.card.name)
            .collect();
        Ok((
            Worker { archive },
            Response::Opened {
                drafts,
                tags,
                scorecards,
            },
        ))
    }

    /// A worker for long reads (searches, analyses, reports) on another thread: its own
    /// connection to the database and the same index reader, so saves never wait behind it.
    pub fn reader(&self) -> Result<Worker, String> {
        let archive = self
            .archive
            .reader()
            .map_err(|e| format!("cannot open a second connection to the archive: {e}"))?;
        Ok(Worker { archive })
    }

    /// Serves one request; a save is followed by the refreshed tag list.
    pub fn handle(&mut self, request: Request) -> Vec<Response> {
        let response = handle(&mut self.archive, request);
        let saved = matches!(response, Response::NoteSaved(_) | Response::NoteEdited(_));
        let mut out = vec![response];
        if saved && let Ok(tags) = self.archive.store().tag_names() {
            out.push(Response::Tags(tags));
        }
        out
    }
}

/// Opens the archive and serves requests until the sending side is dropped.
pub fn run(dir: PathBuf, requests: Receiver<Request>, respond: impl Fn(Response)) {
    let mut worker = match Worker::open(&dir) {
        Ok((worker, opened)) => {
            respond(opened);
            worker
        }
        Err(message) => {
            respond(Response::Fatal(message));
            return;
        }
    };
    // Whether anything was asked since the last checkpoint (a checkpoint with nothing to
    // fold is cheap, so reads count too).
    let mut busy = false;
    loop {
        let first = match requests.recv_timeout(IDLE) {
            Ok(request) => request,
            Err(RecvTimeoutError::Timeout) => {
                // Nobody is waiting: the time to fold the write-ahead log into the database.
                if std::mem::take(&mut busy) {
                    let _ = worker.archive.store().checkpoint();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        busy = true;
        for request in coalesce(batch) {
            for response in worker.handle(request) {
                respond(response);
            }
        }
    }
}

/// How long without a request before the worker does its housekeeping.
const IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Drops searches and drafts that a newer one in the same batch replaces.
fn coalesce(batch: Vec<Request>) -> Vec<Request> {
    let last_search = batch
        .iter()
        .rposition(|r| matches!(r, Request::Search { .. }));
    let mut keep = Vec::with_capacity(batch.len());
    for (i, r) in batch.iter().enumerate() {
        let superseded = match r {
            Request::Search { .. } => Some(i) != last_search,
            Request::SaveDraft { session, .. } => batch[i + 1..].iter().any(
                |later| matches!(later, Request::SaveDraft { session: s, .. } if s == session),
            ),
            _ => false,
        };
        if !superseded {
            keep.push(r.clone());
        }
    }
    keep
}

fn handle(archive: &mut Archive, request: Request) -> Response {
    let result = match request {
        Request::Sessions => archive.store().sessions(None).map(Response::Sessions),
        Request::Session(id) => (|| {
            let session = archive.store().session(&id)?;
            let visit = match session.kind {
                SessionKind::MysteryShop => archive.visit_state(&id).ok().map(Box::new),
                _ => None,
            };
            Ok(Response::SessionLoaded {
                session,
                notes: archive.store().session_notes(&id)?,
                draft: archive.store().draft(&id)?,
                visit,
            })
        })(),
        Request::StartSession { new, scorecard } => (|| {
            if let Some(name) = &scorecard {
                // Checked before the session exists, so a wrong name leaves nothing half-made.
                archive.store().scorecard(name, None)?;
            }
            let session = archive.store().start_session(&new)?;
            if let Some(name) = &scorecard {
                archive.store().attach_scorecard(&session.id, name)?;
            }
            Ok(Response::SessionStarted(session))
        })(),
        Request::EndSession(id) => archive
            .store()
            .end_session(&id, crate::time::now())
            .map(Response::SessionEnded),
        Request::SaveNote {
            session,
            kind,
            body,
        } => Ok(
            match archive.add_note(&NewNote {
                session,
                kind,
                body: body.clone(),
                extra_tags: Vec::new(),
                clears_draft: true,
            }) {
                Ok(note) => Response::NoteSaved(note),
                Err(e) => Response::SaveFailed {
                    body,
                    message: format!("not saved: {e}"),
                },
            },
        ),
        Request::EditNote { id, body, kind } => archive
            .edit_note(&id, &body, kind)
            .map(Response::NoteEdited),
        Request::Trash(id) => archive.trash_note(&id).map(Response::NoteTrashed),
        Request::Restore(id) => archive.restore_note(&id).map(Response::NoteRestored),
        Request::SaveDraft {
            session,
            kind,
            body,
        } => archive
            .store()
            .save_draft(&session, kind, &body)
            .map(|()| Response::DraftSaved),
        Request::Search {
            generation,
            query,
            filters,
            limit,
        } => {
            let start = Instant::now();
            // Notes other processes wrote since the last search become searchable here.
            let searched = archive
                .sync_index()
                .and_then(|_| archive.search(&query, &filters, limit));
            Ok(match searched {
                Ok(results) => Response::Searched {
                    generation,
                    results,
                    millis: start.elapsed().as_millis(),
                },
                Err(e) => Response::SearchFailed {
                    generation,
                    message: e.to_string(),
                },
            })
        }
        Request::Answer {
            session,
            criterion,
            value,
            note,
        } => archive
            .answer_visit(&session, &criterion, &value, note.as_deref(), true)
            .map(|(visit, note)| Response::Answered {
                visit: Box::new(visit),
                note,
            }),
        Request::VisitReport => {
            archive
                .store()
                .scored_visits()
                .map(|visits| Response::VisitReport {
                    by_location: report(&visits, GroupBy::Location),
                    by_month: report(&visits, GroupBy::Month),
                    visits: visits.len(),
                })
        }
        Request::Analyse { query, filters } => (|| {
            use crate::analysis;
            let notes = archive.analysis_notes(&query, &filters)?;
            let codebook = archive.store().codebook()?;
            let themes = analysis::themes(
                &notes,
                &analysis::ThemeSettings::default(),
                &archive.store().curation()?,
            );
            Ok(Response::Analysed(Box::new(Analysis {
                query,
                themes,
                contrast: analysis::contrast(&notes, analysis::ContrastBy::Persona, 8),
                pains: analysis::pains(&notes, &codebook),
                journey: analysis::journey(&notes, &codebook),
            })))
        })(),
        Request::Evidence { title, ids } => ids
            .iter()
            .take(200)
            .map(|id| archive.store().note(id))
            .collect::<crate::Result<Vec<_>>>()
            .map(|notes| Response::Evidence { title, notes }),
        Request::History(id) => archive
            .store()
            .history(&id)
            .map(|versions| Response::History { id, versions }),
    };
    result.unwrap_or_else(|e| Response::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(generation: u64) -> Request {
        Request::Search {
            generation,
            query: format!("q{generation}"),
            filters: Filters::default(),
            limit: 10,
        }
    }

    fn draft(session: &str, body: &str) -> Request {
        Request::SaveDraft {
            session: session.into(),
            kind: NoteKind::Observation,
            body: body.into(),
        }
    }

    #[test]
    fn only_the_newest_search_and_draft_per_session_survive() {
        let kept = coalesce(vec![
            search(1),
            draft("a", "x"),
            Request::SaveNote {
                session: "a".into(),
                kind: NoteKind::Quote,
                body: "saved".into(),
            },
            search(2),
            draft("a", "xy"),
            draft("b", "other"),
            search(3),
        ]);
        let summary: Vec<String> = kept
            .iter()
            .map(|r| match r {
                Request::Search { generation, .. } => format!("search {generation}"),
                Request::SaveDraft { session, body, .. } => format!("draft {session} {body}"),
                Request::SaveNote { body, .. } => format!("save {body}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            ["save saved", "draft a xy", "draft b other", "search 3"]
        );
    }
}
