//! The workers own the archive: every disk and index operation runs on one of them, off the
//! keystroke path. Three lanes, each a thread with its own connection: captures (saves,
//! drafts, edits and the small reads around them) never wait behind a search, and neither
//! waits behind an analysis that takes seconds. Within a lane requests are handled in order,
//! except that only the newest search, analysis and draft of a note are worth doing when
//! several wait.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use crate::io::{ExportOptions, Format};

use crate::analysis::{CodeMatrix, Coding, CooccurrenceReport, MatrixBy, NoteGroups};
use crate::archive::{Archive, SearchResults, VisitState};
use crate::model::{Facet, Note, NoteKind, Revision, Session, SessionKind, SpanSpec, Tag};
use crate::mystery_shop::{GroupBy, ReportGroup, report};
use crate::query::Filters;
use crate::store::{Draft, NewNote, NewSession};

#[derive(Debug, Clone)]
pub enum Request {
    Sessions,
    Session(String),
    /// Push and pull with the team server (the analysis lane: saves never wait for it).
    Sync,
    /// The team sync's state for the session list's title; indexes what a sync pulled.
    SyncState,
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
    /// The text being typed: a new note's (`note` is None) or an edit of `note` in progress.
    SaveDraft {
        session: String,
        note: Option<String>,
        kind: NoteKind,
        body: String,
    },
    /// The notes in the trash, newest first.
    TrashList,
    Participants,
    /// Records consent given (today) or withdrawn.
    SetConsent {
        pseudonym: String,
        consent: bool,
    },
    SetContact {
        pseudonym: String,
        contact: String,
    },
    /// Writes a file of the notes in scope; the format comes from the file's extension.
    Export {
        path: PathBuf,
        options: ExportOptions,
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
        /// One study's notes only (a name; resolved by the worker).
        study: Option<String>,
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
        /// One study's notes only (a name; resolved by the worker).
        study: Option<String>,
        limit: usize,
    },
    History(String),
    /// One note and its passages, for the note view.
    OpenNote(String),
    /// Codes code points `range` of a note with each tag, as `coder`.
    CodeSpan {
        note: String,
        tags: Vec<Tag>,
        range: std::ops::Range<usize>,
        coder: String,
    },
    /// Takes one passage's code off (the passage at `range` coded `tag` by `coder`).
    Uncode {
        note: String,
        tag: Tag,
        range: std::ops::Range<usize>,
        coder: String,
    },
    /// The codebook as a tree with counts.
    Codebook,
    /// A codebook edit; the codebook comes back with what was done.
    EditCodebook(CodebookEdit),
    /// How many notes merging `from` into `into` would rewrite, before asking to go on.
    MergePreview {
        from: Tag,
        into: Tag,
    },
    /// Co-occurrence of the codes (one facet's, or all) of the notes a search selects.
    Cooccurrence {
        generation: u64,
        selection: Selection,
        facet: Option<Facet>,
    },
    /// A code matrix of the notes a search selects: codes (one facet's, or all) × `by`.
    Matrix {
        generation: u64,
        selection: Selection,
        facet: Option<Facet>,
        by: MatrixBy,
    },
    /// The measures of the notes a search selects, by a grouping.
    Measures {
        generation: u64,
        selection: Selection,
        by: Option<crate::analysis::MeasureBy>,
    },
    /// The notes behind a cell of the co-occurrence or matrix view, for reading (answered as
    /// `Evidence`).
    CellNotes {
        title: String,
        cell: CellOf,
    },
}

/// The notes a search selects: its query and filters, and one study's notes only (a name;
/// resolved by the worker). The default is every note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub query: String,
    pub filters: Filters,
    pub study: Option<String>,
}

/// A cell of a heat map, with the codings (and groups) it was counted from.
#[derive(Debug, Clone)]
pub enum CellOf {
    /// Codes `a` and `b` on the same note (`a` twice: the code's own notes).
    Pair {
        codings: Arc<Vec<Coding>>,
        a: String,
        b: String,
    },
    /// `code` in the notes of `group`.
    Matrix {
        codings: Arc<Vec<Coding>>,
        groups: Arc<Vec<NoteGroups>>,
        code: String,
        group: String,
    },
}

/// The codebook view's writes, each one `Archive` method.
#[derive(Debug, Clone)]
pub enum CodebookEdit {
    Describe {
        tag: Tag,
        notes: crate::store::CodeNotes,
    },
    Parent {
        tag: Tag,
        parent: Option<Tag>,
    },
    Rename {
        from: Tag,
        to: Tag,
    },
    Merge {
        from: Tag,
        into: Tag,
    },
}

/// Which worker serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Saves, drafts, edits and the small reads the capture view needs.
    Capture,
    /// Searches and reading notes found: quick reads, newest first.
    Search,
    /// Analyses, reports and exports: reads that may take seconds.
    Analysis,
}

impl Lane {
    pub fn name(self) -> &'static str {
        match self {
            Lane::Capture => "archive",
            Lane::Search => "search",
            Lane::Analysis => "analysis",
        }
    }
}

impl Request {
    pub fn lane(&self) -> Lane {
        match self {
            Request::Search { .. } | Request::Evidence { .. } | Request::CellNotes { .. } => {
                Lane::Search
            }
            Request::Analyse { .. }
            | Request::Cooccurrence { .. }
            | Request::Matrix { .. }
            | Request::Measures { .. }
            | Request::VisitReport
            | Request::Sync
            | Request::Export { .. } => Lane::Analysis,
            _ => Lane::Capture,
        }
    }
}

/// The most sessions the app lists: the newest. An organisation's archive has hundreds of
/// thousands; reading them all kept the first list (and captures, on the same lane) waiting
/// for seconds.
pub const SESSIONS_LISTED: usize = 2_000;

#[derive(Debug, Clone)]
pub enum Response {
    Opened {
        drafts: Vec<Draft>,
        tags: Vec<Tag>,
        scorecards: Vec<String>,
    },
    /// The newest sessions (a page of a large archive's), with the number of all and every
    /// study's name.
    Sessions(crate::store::SessionList),
    /// The same, read as soon as the database is open and before the search index is (see
    /// [`Worker::open_listing`]), with the drafts to restore: the app lists the sessions
    /// while the rest opens, and asks for the newest draft's session before anything the
    /// researcher asks meanwhile. `Opened` follows.
    EarlySessions {
        sessions: crate::store::SessionList,
        drafts: Vec<Draft>,
    },
    /// How a sync went: what it did, or why it could not.
    Synced(Result<String, String>),
    SyncState(crate::store::SyncStatus),
    SessionLoaded {
        session: Session,
        notes: Vec<Note>,
        /// The new note's draft first, then any edit in progress.
        drafts: Vec<Draft>,
        visit: Option<Box<VisitState>>,
    },
    TrashList(Vec<Note>),
    Participants(Vec<crate::model::Participant>),
    ParticipantSaved(crate::model::Participant),
    Exported {
        path: PathBuf,
        summary: crate::io::ExportSummary,
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
    /// A saved edit, with how many passages it lost (their words are gone; they are kept,
    /// marked lost, for the researcher to recode or remove).
    NoteEdited {
        note: Note,
        lost: usize,
    },
    NoteTrashed(Note),
    NoteRestored(Note),
    Tags(Vec<Tag>),
    DraftSaved,
    /// A search's results: first its hits alone (`counted` false: no total, no tag counts
    /// yet), then again with every match counted.
    Searched {
        generation: u64,
        results: SearchResults,
        millis: u128,
        counted: bool,
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
    /// A note and its passages, lost ones included (after opening it, or a coding change;
    /// `said` is what the change did, for the status bar).
    NoteOpened {
        note: Note,
        passages: Vec<crate::model::Passage>,
        said: Option<String>,
    },
    /// The codebook, and what the edit that preceded it did.
    Codebook {
        entries: Vec<crate::store::CodebookEntry>,
        said: Option<String>,
    },
    MergePreview {
        from: Tag,
        into: Tag,
        notes: usize,
    },
    /// Co-occurrence counted, with the codings it counted (to list a cell's notes from).
    Cooccurrence {
        generation: u64,
        report: Box<CooccurrenceReport>,
        codings: Arc<Vec<Coding>>,
    },
    /// A code matrix, with the codings and the notes' groups it counted.
    Matrix {
        generation: u64,
        matrix: Box<CodeMatrix>,
        codings: Arc<Vec<Coding>>,
        groups: Arc<Vec<NoteGroups>>,
    },
    /// The measures counted.
    Measures {
        generation: u64,
        report: Box<crate::analysis::MeasuresReport>,
    },
    /// Something failed; the message is for the status bar.
    Failed(String),
    /// The archive could not be opened: the app cannot go on.
    Fatal(String),
    /// A worker thread stopped on a bug (a panic); `message` says what it was.
    WorkerDied {
        lane: Lane,
        message: String,
    },
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
    /// Where this worker's parallel work runs (the analysis lane's smaller pool); rayon's
    /// global pool when none.
    pool: Option<rayon::ThreadPool>,
}

impl Worker {
    /// Opens the archive and says what the app needs first (drafts to restore, tags).
    pub fn open(dir: &std::path::Path) -> crate::Result<(Worker, Response)> {
        Worker::open_unlocked(dir, None)
    }

    /// Like [`Worker::open`], for an encrypted archive with its key.
    pub fn open_unlocked(
        dir: &std::path::Path,
        key: Option<&crate::crypt::ArchiveKey>,
    ) -> crate::Result<(Worker, Response)> {
        Worker::open_listing(dir, key, |_| {})
    }

    /// Like [`Worker::open_unlocked`], giving `early` the session list
    /// ([`Response::EarlySessions`]) as soon as the database is open: the search index of a
    /// 10,000,000-note archive takes about a second to open on a cold disk, the list a tenth
    /// of that.
    pub fn open_listing(
        dir: &std::path::Path,
        key: Option<&crate::crypt::ArchiveKey>,
        early: impl FnOnce(Response),
    ) -> crate::Result<(Worker, Response)> {
        let list = |store: &crate::store::Store| {
            // What cannot be read now is read again, and said, once everything is open.
            match (store.recent_sessions(SESSIONS_LISTED), store.drafts()) {
                (Ok(sessions), Ok(drafts)) => early(Response::EarlySessions { sessions, drafts }),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!("cannot list the sessions before the index opens: {e}")
                }
            }
            Ok(())
        };
        let archive = Archive::open_unlocked_then(dir, key, list, |_| {})?;
        // The app searches again and again: it keeps tag bitsets, a large archive's made
        // beside the opening rather than by the first search with many matches (about 0.1 s
        // of one core at 10,000,000 notes).
        let index = archive.index().reader_handle();
        let _ = std::thread::Builder::new()
            .name("fieldnotes-bitsets".into())
            .spawn(move || index.keep_bitsets());
        let drafts = archive.store().drafts()?;
        let tags = archive.store().tag_names()?;
        let scorecards = archive
            .store()
            .scorecards()?
            .into_iter()
            .map(|c| c.card.name)
            .collect();
        Ok((
            Worker {
                archive,
                pool: None,
            },
            Response::Opened {
                drafts,
                tags,
                scorecards,
            },
        ))
    }

    /// A worker for long reads (searches, analyses, reports) on another thread: its own
    /// connection to the database and the same index reader, so saves never wait behind it.
    pub fn reader(&self) -> crate::Result<Worker> {
        Ok(Worker {
            archive: self.archive.reader()?,
            pool: None,
        })
    }

    /// Serves one request; a save is followed by the refreshed tag list.
    pub fn handle(&mut self, request: Request) -> Vec<Response> {
        let mut out = Vec::new();
        self.handle_streaming(request, &mut |r| out.push(r));
        out
    }

    /// Like [`Worker::handle`], giving each response to `respond` as soon as it is made (a
    /// search's hits before its counts).
    pub fn handle_streaming(&mut self, request: Request, respond: &mut dyn FnMut(Response)) {
        if let Request::Search {
            generation,
            query,
            mut filters,
            study,
            limit,
        } = request
        {
            // On the search lane, which has no pool of its own.
            let archive = &self.archive;
            let start = Instant::now();
            let searched = with_study(archive, &mut filters, study.as_deref()).and_then(|()| {
                archive.search_with(&query, &filters, limit, |first| {
                    respond(Response::Searched {
                        generation,
                        results: first.clone(),
                        millis: start.elapsed().as_millis(),
                        counted: false,
                    })
                })
            });
            respond(match searched {
                Ok(results) => Response::Searched {
                    generation,
                    results,
                    millis: start.elapsed().as_millis(),
                    counted: true,
                },
                Err(e) => Response::SearchFailed {
                    generation,
                    message: e.to_string(),
                },
            });
            return;
        }
        for response in self.handle_one(request) {
            respond(response);
        }
    }

    fn handle_one(&mut self, request: Request) -> Vec<Response> {
        let archive = &mut self.archive;
        let response = match &self.pool {
            Some(pool) => pool.install(|| handle(archive, request)),
            None => handle(archive, request),
        };
        let saved = matches!(
            response,
            Response::NoteSaved(_)
                | Response::NoteEdited { .. }
                | Response::NoteOpened { said: Some(_), .. }
                | Response::Codebook { said: Some(_), .. }
        );
        let mut out = vec![response];
        if saved && let Ok(tags) = self.archive.store().tag_names() {
            out.push(Response::Tags(tags));
        }
        out
    }
}

/// Where each lane's requests arrive.
pub struct Lanes {
    pub capture: Receiver<Request>,
    pub search: Receiver<Request>,
    pub analysis: Receiver<Request>,
}

/// Opens the archive and serves requests until the sending sides are dropped: the capture
/// lane on this thread, the search and analysis lanes on threads of their own.
pub fn run(dir: PathBuf, lanes: Lanes, respond: impl Fn(Response) + Clone + Send + 'static) {
    run_unlocked(dir, None, lanes, respond);
}

/// Like [`run`], for an encrypted archive with its key.
pub fn run_unlocked(
    dir: PathBuf,
    key: Option<crate::crypt::ArchiveKey>,
    lanes: Lanes,
    respond: impl Fn(Response) + Clone + Send + 'static,
) {
    let _guard = DeathNotice {
        lane: Lane::Capture,
        respond: respond.clone(),
    };
    let worker = match Worker::open_listing(&dir, key.as_ref(), &respond) {
        Ok((worker, opened)) => {
            respond(opened);
            worker
        }
        Err(e) => {
            respond(Response::Fatal(format!(
                "cannot open the archive {}: {e}",
                dir.display()
            )));
            return;
        }
    };
    let mut readers = Vec::new();
    for (lane, requests) in [
        (Lane::Search, lanes.search),
        (Lane::Analysis, lanes.analysis),
    ] {
        let reader = match worker.reader() {
            Ok(reader) => reader,
            Err(e) => {
                respond(Response::Fatal(format!(
                    "cannot open a second connection to the archive: {e}"
                )));
                return;
            }
        };
        let mut reader = reader;
        if lane == Lane::Analysis {
            // Analyses leave a core to the capture lane: on a 2-core laptop a themes run on
            // every core made saves wait for the CPU (capture p99 10-12 ms instead of 2 ms at
            // 1,000,000 notes), for a run only about 25% faster.
            reader.pool = analysis_pool();
        }
        let lane_respond = respond.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("fieldnotes-{}", lane.name()))
            .spawn(move || {
                let _guard = DeathNotice {
                    lane,
                    respond: lane_respond.clone(),
                };
                serve(reader, requests, &lane_respond, false);
            });
        match spawned {
            Ok(handle) => readers.push(handle),
            Err(e) => {
                respond(Response::Fatal(format!(
                    "cannot start a worker thread: {e}"
                )));
                return;
            }
        }
    }
    serve(worker, lanes.capture, &respond, true);
    for reader in readers {
        let _ = reader.join();
    }
}

/// A thread pool for analyses with one thread fewer than the machine has cores (at least one).
pub fn analysis_pool() -> Option<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    rayon::ThreadPoolBuilder::new()
        .num_threads(cores.saturating_sub(1).max(1))
        .thread_name(|i| format!("fieldnotes-analysis-{i}"))
        .build()
        .ok()
}

/// Serves one lane until its sender is dropped. The capture lane also does the housekeeping
/// when idle: folding the write-ahead log into the database, and indexing what other
/// processes wrote (so searches on the other lanes find it).
fn serve(
    mut worker: Worker,
    requests: Receiver<Request>,
    respond: &impl Fn(Response),
    writer: bool,
) {
    // Whether anything was asked since the last checkpoint (a checkpoint with nothing to
    // fold is cheap, so reads count too).
    let mut busy = false;
    loop {
        let first = match requests.recv_timeout(IDLE) {
            Ok(request) => request,
            Err(RecvTimeoutError::Timeout) => {
                if writer {
                    let _ = worker.archive.sync_index();
                    // Nobody is waiting: the time to fold the write-ahead log into the database.
                    if std::mem::take(&mut busy) {
                        let _ = worker.archive.checkpoint();
                    }
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        busy = true;
        for request in coalesce(batch) {
            worker.handle_streaming(request, &mut |response| respond(response));
        }
    }
}

/// Tells the app when a worker thread ends on a panic, so it never waits on a dead lane.
struct DeathNotice<F: Fn(Response)> {
    lane: Lane,
    respond: F,
}

impl<F: Fn(Response)> Drop for DeathNotice<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let message = super::last_panic().unwrap_or_else(|| "a bug (a panic)".into());
            (self.respond)(Response::WorkerDied {
                lane: self.lane,
                message,
            });
        }
    }
}

/// How long without a request before the worker does its housekeeping.
const IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Drops searches, analyses and drafts that a newer one in the same batch replaces.
fn coalesce(batch: Vec<Request>) -> Vec<Request> {
    let last = |like: fn(&Request) -> bool| batch.iter().rposition(like);
    let last_search = last(|r| matches!(r, Request::Search { .. }));
    let last_analysis = last(|r| matches!(r, Request::Analyse { .. }));
    let last_cooccurrence = last(|r| matches!(r, Request::Cooccurrence { .. }));
    let last_matrix = last(|r| matches!(r, Request::Matrix { .. }));
    let last_measures = last(|r| matches!(r, Request::Measures { .. }));
    let mut keep = Vec::with_capacity(batch.len());
    for (i, r) in batch.iter().enumerate() {
        let superseded = match r {
            Request::Search { .. } => Some(i) != last_search,
            Request::Analyse { .. } => Some(i) != last_analysis,
            Request::Cooccurrence { .. } => Some(i) != last_cooccurrence,
            Request::Matrix { .. } => Some(i) != last_matrix,
            Request::Measures { .. } => Some(i) != last_measures,
            Request::SaveDraft { session, note, .. } => batch[i + 1..].iter().any(|later| {
                matches!(later, Request::SaveDraft { session: s, note: n, .. } if s == session && n == note)
            }),
            _ => false,
        };
        if !superseded {
            keep.push(r.clone());
        }
    }
    keep
}

/// Narrows `filters` to the study named, if any.
fn with_study(archive: &Archive, filters: &mut Filters, study: Option<&str>) -> crate::Result<()> {
    if let Some(name) = study {
        filters.study = Some(archive.study_id(name)?);
    }
    Ok(())
}

fn handle(archive: &mut Archive, request: Request) -> Response {
    let result = match request {
        Request::Sessions => archive
            .store()
            .recent_sessions(SESSIONS_LISTED)
            .map(Response::Sessions),
        Request::Sync => Ok(Response::Synced(
            archive
                .sync(None, None)
                .map(|r| {
                    format!(
                        "Synced with {}: pushed {} notes and {} records, pulled {}",
                        r.remote, r.pushed, r.records_pushed, r.pulled
                    )
                })
                .map_err(|e| e.to_string()),
        )),
        Request::SyncState => archive
            .sync_index()
            .and_then(|_| archive.sync_status())
            .map(Response::SyncState),
        Request::Session(id) => (|| {
            let session = archive.store().session(&id)?;
            let visit = match session.kind {
                SessionKind::MysteryShop => archive.visit_state(&id).ok().map(Box::new),
                _ => None,
            };
            Ok(Response::SessionLoaded {
                session,
                notes: archive.store().session_notes(&id)?,
                drafts: archive.store().session_drafts(&id)?,
                visit,
            })
        })(),
        Request::StartSession { new, scorecard } => archive
            .start_session(&new, scorecard.as_deref())
            .map(Response::SessionStarted),
        Request::EndSession(id) => archive.end_session(&id).map(Response::SessionEnded),
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
        // The reporting edit, so the app can say how many passages the new text lost.
        Request::EditNote { id, body, kind } => {
            archive
                .edit_note_reporting(&id, &body, kind)
                .map(|edited| Response::NoteEdited {
                    note: edited.note,
                    lost: edited.lost.len(),
                })
        }
        Request::Trash(id) => archive.trash_note(&id).map(Response::NoteTrashed),
        Request::Restore(id) => archive.restore_note(&id).map(Response::NoteRestored),
        Request::SaveDraft {
            session,
            note,
            kind,
            body,
        } => archive
            .save_draft(&session, note.as_deref(), kind, &body)
            .map(|()| Response::DraftSaved),
        Request::TrashList => archive.store().trashed_notes().map(Response::TrashList),
        Request::Participants => archive.store().participants().map(Response::Participants),
        Request::SetConsent { pseudonym, consent } => archive
            .set_consent(&pseudonym, consent)
            .map(Response::ParticipantSaved),
        Request::SetContact { pseudonym, contact } => archive
            .set_contact(&pseudonym, &contact)
            .map(Response::ParticipantSaved),
        Request::Export { path, options } => Format::from_path(&path)
            .ok_or_else(|| {
                crate::Error::Unsupported(format!(
                    "cannot tell the format of {}: end the name with .md, .csv, .jsonl or .qdpx",
                    path.display()
                ))
            })
            .and_then(|format| archive.export_file(&path, format, options))
            .map(|summary| Response::Exported { path, summary }),
        // Answered in two parts by `Worker::handle_streaming`, which never hands it here.
        Request::Search { generation, .. } => Ok(Response::SearchFailed {
            generation,
            message: "a search is answered by the search lane".into(),
        }),
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
        Request::Analyse {
            query,
            mut filters,
            study,
        } => (|| {
            use crate::analysis;
            with_study(archive, &mut filters, study.as_deref())?;
            let (notes, themes) = archive.themes(
                &query,
                &filters,
                &analysis::ThemeSettings::default(),
                crate::archive::ThemeStart::FromLastShown,
            )?;
            let codebook = archive.store().stage_map()?;
            Ok(Response::Analysed(Box::new(Analysis {
                query,
                themes,
                contrast: analysis::contrast(
                    &notes,
                    analysis::ContrastBy::Persona,
                    8,
                    analysis::contrast::DEFAULT_MIN_COUNT,
                ),
                pains: analysis::pains(&notes, &codebook),
                journey: analysis::journey(&notes, &codebook),
            })))
        })(),
        Request::Evidence { title, ids } => evidence(archive, title, &ids),
        Request::Cooccurrence {
            generation,
            selection,
            facet,
        } => coded(archive, selection, facet).map(|(_, codings)| Response::Cooccurrence {
            generation,
            report: Box::new(crate::analysis::cooccurrence(&codings)),
            codings: Arc::new(codings),
        }),
        Request::Matrix {
            generation,
            selection,
            facet,
            by,
        } => coded(archive, selection, facet).and_then(|(notes, codings)| {
            let groups = archive.note_groups(&notes, by)?;
            Ok(Response::Matrix {
                generation,
                matrix: Box::new(crate::analysis::code_matrix(by, &codings, &groups)),
                codings: Arc::new(codings),
                groups: Arc::new(groups),
            })
        }),
        Request::Measures {
            generation,
            selection,
            by,
        } => (|| {
            let Selection {
                query,
                mut filters,
                study,
            } = selection;
            with_study(archive, &mut filters, study.as_deref())?;
            let m = archive.measure_values(&query, &filters)?;
            Ok(Response::Measures {
                generation,
                report: Box::new(crate::analysis::measures(
                    &m.values, &m.notes, &m.scales, by,
                )),
            })
        })(),
        Request::CellNotes { title, cell } => {
            let ids: Vec<String> = match cell {
                CellOf::Pair { codings, a, b } => crate::analysis::notes_behind(&codings, &a, &b)
                    .into_iter()
                    .map(|n| n.note)
                    .collect(),
                CellOf::Matrix {
                    codings,
                    groups,
                    code,
                    group,
                } => crate::analysis::matrix::notes_in_cell(&codings, &groups, &code, &group),
            };
            evidence(archive, title, &ids)
        }
        Request::History(id) => archive
            .store()
            .history(&id)
            .map(|versions| Response::History { id, versions }),
        Request::OpenNote(id) => note_with_passages(archive, &id, None),
        Request::CodeSpan {
            note,
            tags,
            range,
            coder,
        } => (|| {
            let span = SpanSpec::Range(range);
            for tag in &tags {
                archive.code_span(&note, tag, &span, &coder)?;
            }
            let names: Vec<String> = tags.iter().map(Tag::to_string).collect();
            let said = format!("Coded the passage {} as {coder}", names.join(" "));
            note_with_passages(archive, &note, Some(said))
        })(),
        Request::Uncode {
            note,
            tag,
            range,
            coder,
        } => archive
            .uncode_span(&note, &tag, Some(&SpanSpec::Range(range)), Some(&coder))
            .and_then(|_| {
                note_with_passages(archive, &note, Some(format!("Took {tag} off the passage")))
            }),
        Request::Codebook => archive.codebook().map(|entries| Response::Codebook {
            entries,
            said: None,
        }),
        Request::EditCodebook(edit) => edit_codebook(archive, edit).and_then(|said| {
            archive.codebook().map(|entries| Response::Codebook {
                entries,
                said: Some(said),
            })
        }),
        Request::MergePreview { from, into } => archive
            .store()
            .notes_typing(&from)
            .map(|notes| Response::MergePreview { from, into, notes }),
    };
    result.unwrap_or_else(|e| Response::Failed(e.to_string()))
}

/// The most notes a list of evidence shows.
const EVIDENCE_LIMIT: usize = 200;

/// Notes to read, by id (the first `EVIDENCE_LIMIT`; the title says when there were more).
fn evidence(archive: &Archive, mut title: String, ids: &[String]) -> crate::Result<Response> {
    if ids.len() > EVIDENCE_LIMIT {
        title.push_str(&format!(" (the first {EVIDENCE_LIMIT} of {})", ids.len()));
    }
    let notes = ids
        .iter()
        .take(EVIDENCE_LIMIT)
        .map(|id| archive.store().note(id))
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(Response::Evidence { title, notes })
}

/// The notes a selection selects and their codings of `facet` (every facet's when None).
fn coded(
    archive: &Archive,
    selection: Selection,
    facet: Option<Facet>,
) -> crate::Result<(Vec<crate::analysis::AnalysisNote>, Vec<Coding>)> {
    let Selection {
        query,
        mut filters,
        study,
    } = selection;
    with_study(archive, &mut filters, study.as_deref())?;
    let (notes, mut codings) = archive.coded_notes(&query, &filters)?;
    if let Some(f) = facet {
        codings.retain(|c| c.code.starts_with(f.sigil()));
    }
    Ok((notes, codings))
}

/// A note and its passages, for the note view.
fn note_with_passages(
    archive: &Archive,
    id: &str,
    said: Option<String>,
) -> crate::Result<Response> {
    Ok(Response::NoteOpened {
        note: archive.store().note(id)?,
        passages: archive.passages(id)?,
        said,
    })
}

/// Does one codebook edit; says what it did.
fn edit_codebook(archive: &mut Archive, edit: CodebookEdit) -> crate::Result<String> {
    Ok(match edit {
        CodebookEdit::Describe { tag, notes } => {
            archive.describe_code(&tag, &notes)?;
            format!("Saved what {tag} says")
        }
        CodebookEdit::Parent { tag, parent } => {
            archive.set_code_parent(&tag, parent.as_ref())?;
            match parent {
                Some(p) => format!("{tag} is under {p} now"),
                None => format!("{tag} is at the top now"),
            }
        }
        CodebookEdit::Rename { from, to } => {
            let done = archive.rename_tag(&from, &to)?;
            recoded("Renamed", "to", &done)
        }
        CodebookEdit::Merge { from, into } => {
            let done = archive.merge_tags(&from, &into)?;
            recoded("Merged", "into", &done)
        }
    })
}

/// What a rename or merge did: `Renamed =a to =b: 3 notes rewritten (…); 1 passage lost`.
fn recoded(verb: &str, joiner: &str, done: &crate::store::Recoded) -> String {
    use crate::tui::views::common::count;
    let mut said = format!(
        "{verb} {} {joiner} {}: {} rewritten (old text kept as revisions)",
        done.from,
        done.to,
        count(done.notes_rewritten, "note")
    );
    if !done.lost.is_empty() {
        said.push_str(&format!("; {} lost", count(done.lost.len(), "passage")));
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(generation: u64) -> Request {
        Request::Search {
            generation,
            query: format!("q{generation}"),
            filters: Filters::default(),
            study: None,
            limit: 10,
        }
    }

    fn draft(session: &str, body: &str) -> Request {
        Request::SaveDraft {
            session: session.into(),
            note: None,
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
