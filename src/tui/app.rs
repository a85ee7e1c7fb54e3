//! The app's state and how it changes: keys and worker responses come in, requests for the
//! worker go out. No disk or index work happens here, so every function is testable without a
//! terminal or an archive.
//!
//! Each view's state, keys, answers and drawing live in its module under `views`; the `App`
//! holds them, keeps what spans views (which view is shown, the overlays and prompts, the
//! status bar, the data several views read) and hands keys and answers to the view concerned.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEventKind};
use ratatui_textarea::TextArea;

use super::complete;
use super::keymap::{self, Action, Context};
use super::theme::Palette;
use super::views::capture::{self, Capture};
use super::views::codebook::{self, CodebookView};
use super::views::common::{count, editor, move_sel, text_of};
use super::views::cooccurrence::{self, CooccurrenceView};
use super::views::form::{self, FormSlot, SessionForm};
use super::views::matrix::{self, MatrixView};
use super::views::measures::{self, MeasuresView};
use super::views::note::{self, NoteView};
use super::views::participants::{self, Participants};
use super::views::report::{self, ReportView};
use super::views::search::{self, SearchState};
use super::views::themes::{self, ThemesScope, ThemesView};
use super::views::trash::{self, Trash};
use super::views::visit::{self, VisitView};
use super::views::{View, home};
use super::worker::{Request, Response};
use crate::model::{Note, Revision, Session, Tag, retag};

/// The session with the newest unsaved draft reopens, draft and all.
fn restore_draft(drafts: &[crate::store::Draft]) -> Option<Request> {
    drafts.first().map(|d| Request::Session(d.session.clone()))
}

/// What the status bar says while the sessions are listed and the search index still opens.
const OPENING_INDEX: &str = "Opening the search index…";

/// How long a status message stays before the bar shows only the keys again.
pub const STATUS_LIFETIME: Duration = Duration::from_secs(6);

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    /// The notes behind a theme; Enter opens the selected one in the note view.
    Evidence {
        title: String,
        notes: Vec<Note>,
        sel: usize,
    },
    /// A note's versions, oldest first; `sel` is the one a restore would bring back.
    History {
        id: String,
        versions: Vec<Revision>,
        sel: usize,
    },
}

/// What a one-line prompt is asking for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptFor {
    /// A note's inline tags, as one line of `@x #y`.
    Tags { note: Note },
    /// A participant's private contact details.
    Contact { pseudonym: String },
    /// The file an export writes (its extension picks the format).
    ExportPath { options: crate::io::ExportOptions },
    /// The tags that code a passage: code points `range` of `note`.
    Code {
        note: String,
        range: std::ops::Range<usize>,
    },
    /// A codebook edit of `tag` (see `views::codebook`).
    Codebook { tag: Tag, edit: codebook::Ask },
}

impl PromptFor {
    /// Whether the prompt asks for tags, so it offers the codebook's as you type.
    fn completes_tags(&self) -> bool {
        match self {
            PromptFor::Tags { .. } | PromptFor::Code { .. } => true,
            PromptFor::Codebook { edit, .. } => edit.wants_tag(),
            _ => false,
        }
    }
}

pub struct Prompt {
    pub purpose: PromptFor,
    pub title: String,
    pub input: TextArea<'static>,
    /// Tags matching the word being typed (tag prompts only), best first.
    pub suggestions: Vec<Tag>,
}

impl Prompt {
    pub fn new(purpose: PromptFor, title: impl Into<String>, input: TextArea<'static>) -> Prompt {
        Prompt {
            purpose,
            title: title.into(),
            input,
            suggestions: Vec::new(),
        }
    }

    /// After the text changed: the suggestions follow the tag word under the cursor (the
    /// same completion as the note editor's).
    pub(crate) fn text_changed(&mut self, tags: &[Tag]) {
        if self.purpose.completes_tags() {
            self.suggestions = complete::at_cursor(&self.input, tags);
        }
    }

    /// Replaces the tag word being typed with the first suggestion.
    fn take_suggestion(&mut self) {
        if let Some(tag) = self.suggestions.first().cloned() {
            complete::take(&mut self.input, &tag);
            self.suggestions.clear();
        }
    }
}

/// The tags typed in a prompt, one a word; an error names the first word that is not one.
pub(crate) fn typed_tags(text: &str) -> Result<Vec<Tag>, String> {
    text.split_whitespace()
        .map(|word| {
            Tag::parse_token(word).ok_or_else(|| {
                format!("{word:?} is not a tag: start it with @ # ! + or = and a letter")
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub text: String,
    pub level: Level,
    pub at: Instant,
}

/// Something for the event loop to hand to `$EDITOR`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalEdit {
    pub note: Note,
    pub body: String,
}

pub struct App {
    pub palette: Palette,
    /// How old the draft may get while the researcher keeps typing: it is written this long
    /// after the first unsaved change (not after a pause), checked at every tick of the loop
    /// (250 ms), so what a crash can take is under a second of typing (config: draft-interval-ms).
    pub draft_interval: Duration,
    pub view: View,
    pub overlay: Option<Overlay>,
    pub prompt: Option<Prompt>,
    pub opened: bool,
    /// The draft's session was asked for with the early session list: not again on `Opened`.
    drafts_restored: bool,
    pub fatal: Option<String>,
    /// Every session, newest first: the home view's list, where other views look them up.
    pub sessions: Vec<Session>,
    /// How many sessions the archive has (`sessions` holds the newest of them).
    pub sessions_total: usize,
    /// Every study with a session, the one with the latest first.
    pub study_names: Vec<String>,
    /// The team sync's state (no remote: nothing to show).
    pub sync: crate::store::SyncStatus,
    pub tags: Vec<Tag>,
    pub scorecards: Vec<String>,
    pub status: Option<Status>,
    pub now: DateTime<Utc>,
    /// The researcher's time zone, for every time shown.
    pub tz: chrono::FixedOffset,
    pub quit: bool,
    /// Text for the event loop to put on the clipboard.
    pub clipboard: Option<String>,
    /// A note for the event loop to open in `$EDITOR`.
    pub external: Option<ExternalEdit>,
    // Each view's own state (src/tui/views).
    /// The home view's selection in `sessions`.
    pub home_sel: usize,
    pub form: SessionForm,
    pub capture: Capture,
    pub search: SearchState,
    pub visit: Option<VisitView>,
    pub report: Option<ReportView>,
    pub themes: Option<ThemesView>,
    pub themes_scope: ThemesScope,
    pub trash: Trash,
    pub participants: Participants,
    /// The note open in the note view (to select and code passages).
    pub note: Option<NoteView>,
    pub codebook: CodebookView,
    pub cooccurrence: CooccurrenceView,
    pub measures: MeasuresView,
    pub matrix: MatrixView,
    /// Who codes passages (config `coder`), or why nobody can: said when coding is tried.
    pub coder: Result<String, String>,
}

impl App {
    pub fn new(palette: Palette) -> App {
        App {
            palette,
            draft_interval: crate::config::DEFAULT_DRAFT_INTERVAL,
            view: View::Home,
            overlay: None,
            prompt: None,
            opened: false,
            drafts_restored: false,
            fatal: None,
            sessions: Vec::new(),
            sessions_total: 0,
            study_names: Vec::new(),
            sync: crate::store::SyncStatus::default(),
            tags: Vec::new(),
            scorecards: Vec::new(),
            status: None,
            now: Utc::now(),
            tz: *chrono::Local::now().offset(),
            quit: false,
            clipboard: None,
            external: None,
            home_sel: 0,
            form: SessionForm::new(),
            capture: Capture::new(palette),
            search: SearchState::new(),
            visit: None,
            report: None,
            themes: None,
            themes_scope: ThemesScope::new(),
            trash: Trash::default(),
            participants: Participants::default(),
            note: None,
            codebook: CodebookView::default(),
            cooccurrence: CooccurrenceView::default(),
            measures: MeasuresView::default(),
            matrix: MatrixView::default(),
            coder: Err(
                "who is coding? set `coder` in config.toml or FIELDNOTES_CODER, then restart"
                    .into(),
            ),
        }
    }

    /// Puts a message in the status bar (errors go to the log too).
    pub(crate) fn say(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        if level == Level::Error {
            // What the researcher saw go wrong is in the log too, with where it happened.
            tracing::warn!(view = ?self.view, "{text}");
        }
        self.status = Some(Status {
            text,
            level,
            at: Instant::now(),
        });
    }

    /// No analysis is running any more (one failed, or its worker stopped): no view says it
    /// is still counting.
    fn analyses_stopped(&mut self) {
        self.themes_scope.analysing = false;
        self.cooccurrence.grid.computing = false;
        self.matrix.grid.computing = false;
        self.measures.computing = false;
    }

    /// Where keys go right now.
    pub fn context(&self) -> Context {
        if self.prompt.is_some() {
            return Context::Prompt;
        }
        match self.overlay {
            Some(Overlay::History { .. }) => Context::History,
            Some(Overlay::Evidence { .. }) => Context::Evidence,
            Some(_) => Context::Overlay,
            None => self.base_context(),
        }
    }

    /// The view's own context, under any overlay: what the help overlay describes.
    pub fn base_context(&self) -> Context {
        (self.view.spec().context)(self)
    }

    /// The studies with a session, the one with the latest session first.
    pub fn studies(&self) -> Vec<String> {
        self.study_names.clone()
    }

    /// The study after `now` in the list, then none (every study), then the first again.
    pub(crate) fn next_study(&self, now: Option<&str>) -> Option<String> {
        let studies = self.studies();
        match now {
            None => studies.first().cloned(),
            Some(now) => studies
                .iter()
                .position(|s| s == now)
                .and_then(|i| studies.get(i + 1))
                .cloned(),
        }
    }

    // ---- events --------------------------------------------------------------------------

    pub fn handle_event(&mut self, event: Event) -> Vec<Request> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(key),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::ScrollUp => self.act(Action::Up),
                MouseEventKind::ScrollDown => self.act(Action::Down),
                _ => Vec::new(),
            },
            Event::Paste(text) => self.paste(&text),
            _ => Vec::new(),
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Request> {
        if self.fatal.is_some() {
            self.quit = true;
            return Vec::new();
        }
        let ctx = self.context();
        let mut action = keymap::action_for(ctx, &key);
        if action == Some(Action::Cycle) && matches!(self.form.slot(), FormSlot::Text(_)) {
            action = None; // ← and → move the cursor inside a text field
        }
        if action != Some(Action::Quit) {
            self.capture.quit_armed = false;
        }
        match action {
            Some(action) if ctx == Context::TagList => capture::tag_list_action(self, action),
            Some(action) => self.act(action),
            None => self.type_key(ctx, key),
        }
    }

    fn paste(&mut self, text: &str) -> Vec<Request> {
        match self.context() {
            Context::Prompt => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.insert_str(text.replace('\n', " "));
                    p.text_changed(&self.tags);
                }
                Vec::new()
            }
            Context::Overlay | Context::Evidence | Context::History => Vec::new(),
            _ => (self.view.spec().paste)(self, text),
        }
    }

    /// Keys that no binding claims: text for the focused input.
    fn type_key(&mut self, ctx: Context, key: KeyEvent) -> Vec<Request> {
        match ctx {
            Context::Prompt => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.input(key);
                    p.text_changed(&self.tags);
                }
                Vec::new()
            }
            Context::Overlay | Context::Evidence | Context::History => Vec::new(),
            _ => (self.view.spec().type_key)(self, key),
        }
    }

    /// Called every few hundred milliseconds: keeps the draft at most `draft_interval` (plus
    /// a tick) behind the typing, and lets old status messages go (but the index's opening,
    /// which a rebuild makes last minutes, until it is open).
    pub fn tick(&mut self, now: Instant) -> Vec<Request> {
        self.now = Utc::now();
        if self
            .status
            .as_ref()
            .is_some_and(|s| now.duration_since(s.at) >= STATUS_LIFETIME && s.text != OPENING_INDEX)
        {
            self.status = None;
        }
        match self.capture.dirty_since {
            Some(at) if now.duration_since(at) >= self.draft_interval => {
                self.capture.draft_request()
            }
            _ => Vec::new(),
        }
    }

    /// What a bound key does: the prompt's or the overlay's if one is open, then the keys
    /// that work everywhere, then the focused view's.
    pub(crate) fn act(&mut self, action: Action) -> Vec<Request> {
        if self.prompt.is_some() {
            return self.prompt_action(action);
        }
        if self.overlay.is_some() {
            return self.overlay_action(action);
        }
        match action {
            Action::Quit => self.quit_action(),
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                Vec::new()
            }
            Action::OpenSearch => search::open(self),
            _ => (self.view.spec().act)(self, action),
        }
    }

    fn overlay_action(&mut self, action: Action) -> Vec<Request> {
        let Some(overlay) = &mut self.overlay else {
            return Vec::new();
        };
        match (overlay, action) {
            (_, Action::Back) => self.overlay = None,
            (Overlay::History { id, versions, sel }, Action::RestoreSelected) => {
                let (id, len) = (id.clone(), versions.len());
                let Some(v) = versions.get(*sel).cloned() else {
                    return Vec::new();
                };
                if *sel + 1 == len {
                    self.say(
                        Level::Info,
                        "That is the current version: ↑ picks an earlier one",
                    );
                    return Vec::new();
                }
                self.overlay = None;
                return capture::change_note(self, &id, v.body, v.kind, "Restoring that version…");
            }
            (Overlay::History { versions, sel, .. }, nav) => move_sel(sel, versions.len(), nav),
            (Overlay::Evidence { notes, sel, .. }, Action::Open) => {
                let Some(id) = notes.get(*sel).map(|n| n.id.clone()) else {
                    return Vec::new();
                };
                // The overlay closes: Esc in the note comes back to the themes view.
                self.overlay = None;
                return note::open(&id);
            }
            (Overlay::Evidence { notes, sel, .. }, nav) => move_sel(sel, notes.len(), nav),
            _ => {}
        }
        Vec::new()
    }

    /// Quits, except from the capture view with text in the editor, where a second Ctrl+Q is
    /// needed (the text is kept as a draft either way).
    fn quit_action(&mut self) -> Vec<Request> {
        let typed = !text_of(&self.capture.editor).trim().is_empty();
        if matches!(self.view, View::Capture | View::Visit) && typed && !self.capture.quit_armed {
            self.capture.quit_armed = true;
            self.say(
                Level::Info,
                "Ctrl+Q again quits, keeping the unsaved note as a draft",
            );
            return self.capture.draft_request();
        }
        self.quit = true;
        self.capture.draft_request()
    }

    /// Asks for the file an export writes, `name` offered.
    pub(crate) fn ask_export(&mut self, options: crate::io::ExportOptions, name: &str) {
        let mut input = editor("file name: .md, .csv, .jsonl or .qdpx");
        input.insert_str(name);
        self.prompt = Some(Prompt::new(
            PromptFor::ExportPath { options },
            "Export to (the extension picks the format: .md .csv .jsonl .qdpx)",
            input,
        ));
    }

    /// What the event loop reports after `$EDITOR` exits.
    pub fn external_edit_done(
        &mut self,
        edit: ExternalEdit,
        result: Result<String, String>,
    ) -> Vec<Request> {
        capture::external_edit_done(self, edit, result)
    }

    fn prompt_action(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Back => {
                self.prompt = None;
                Vec::new()
            }
            Action::TakeTag => {
                if let Some(p) = self.prompt.as_mut() {
                    p.take_suggestion();
                }
                Vec::new()
            }
            Action::Submit => {
                let Some(prompt) = self.prompt.take() else {
                    return Vec::new();
                };
                let text = text_of(&prompt.input).trim().to_owned();
                match self.submit(prompt.purpose.clone(), &text) {
                    Ok(requests) => requests,
                    // The prompt stays with what was typed, to be put right.
                    Err(why) => {
                        self.say(Level::Error, why);
                        self.prompt = Some(prompt);
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        }
    }

    /// A prompt's Enter; an error keeps the prompt open and is said in the status bar.
    fn submit(&mut self, purpose: PromptFor, text: &str) -> Result<Vec<Request>, String> {
        Ok(match purpose {
            PromptFor::Tags { note } => {
                let body = retag(&note.body, &typed_tags(text)?);
                if body == note.body {
                    self.say(Level::Info, "The tags are unchanged");
                    return Ok(Vec::new());
                }
                capture::change_note(self, &note.id, body, note.kind, "Saving the new tags…")
            }
            PromptFor::Contact { pseudonym } => vec![Request::SetContact {
                pseudonym,
                contact: text.to_owned(),
            }],
            PromptFor::Code { note, range } => note::code_submitted(self, note, range, text)?,
            PromptFor::Codebook { tag, edit } => codebook::submitted(self, tag, edit, text)?,
            PromptFor::ExportPath { options } => {
                if text.is_empty() {
                    return Err("Give the file a name".into());
                }
                let path = std::path::PathBuf::from(text);
                self.say(Level::Info, format!("Exporting to {}…", path.display()));
                vec![Request::Export { path, options }]
            }
        })
    }

    // ---- worker responses ----------------------------------------------------------------

    /// A worker's answer: the app's own, or handed to the view it concerns.
    pub fn handle_response(&mut self, response: Response) -> Vec<Request> {
        match response {
            Response::Opened {
                drafts,
                tags,
                scorecards,
            } => {
                self.opened = true;
                if self
                    .status
                    .as_ref()
                    .is_some_and(|s| s.text == OPENING_INDEX)
                {
                    self.status = None;
                }
                self.tags = tags;
                self.scorecards = scorecards;
                let mut reqs = vec![Request::Sessions, Request::SyncState];
                if !std::mem::take(&mut self.drafts_restored) {
                    reqs.extend(restore_draft(&drafts));
                }
                reqs
            }
            Response::Sessions(sessions) => home::listed(self, sessions),
            Response::EarlySessions { sessions, drafts } => {
                self.opened = true;
                self.say(Level::Info, OPENING_INDEX);
                let mut reqs = home::listed(self, sessions);
                // Asked now, the draft's session comes before any session the researcher
                // opens while the index opens, not after it.
                reqs.extend(restore_draft(&drafts));
                self.drafts_restored = true;
                reqs
            }
            Response::Synced(done) => home::synced(self, done),
            Response::SyncState(state) => {
                self.sync = state;
                Vec::new()
            }
            Response::SessionEnded(s) => home::ended(self, s),
            Response::SessionStarted(session) => form::started(self, session),
            Response::SessionLoaded {
                session,
                notes,
                drafts,
                visit,
            } => capture::session_loaded(self, session, notes, drafts, visit),
            Response::NoteSaved(note) => capture::note_saved(self, note),
            Response::NoteEdited { note, lost } => capture::note_edited(self, note, lost),
            Response::NoteTrashed(note) => capture::note_trashed(self, note),
            Response::SaveFailed { body, message } => capture::save_failed(self, body, message),
            Response::NoteRestored(note) => trash::restored(self, note),
            Response::TrashList(notes) => trash::listed(self, notes),
            Response::Participants(list) => participants::listed(self, list),
            Response::ParticipantSaved(p) => participants::saved(self, p),
            Response::Answered { visit, note } => visit::answered(self, *visit, note),
            Response::VisitReport {
                by_location,
                by_month,
                visits,
            } => report::loaded(
                self,
                ReportView {
                    by_location,
                    by_month,
                    visits,
                },
            ),
            Response::Analysed(analysis) => themes::analysed(self, *analysis),
            Response::Searched {
                generation,
                results,
                millis,
                counted,
            } => search::searched(self, generation, results, millis, counted),
            Response::SearchFailed {
                generation,
                message,
            } => search::failed(self, generation, message),
            Response::Exported { path, summary } => {
                let mut msg = format!(
                    "Exported {} to {}",
                    count(summary.notes as usize, "note"),
                    path.display()
                );
                if summary.withheld > 0 {
                    msg.push_str(&format!(
                        " ({} left out: no consent)",
                        count(summary.withheld as usize, "note")
                    ));
                }
                self.say(Level::Ok, msg);
                Vec::new()
            }
            Response::Evidence { title, notes } => {
                self.overlay = Some(Overlay::Evidence {
                    title,
                    notes,
                    sel: 0,
                });
                Vec::new()
            }
            Response::History { id, versions } => {
                let sel = versions.len().saturating_sub(1);
                self.overlay = Some(Overlay::History { id, versions, sel });
                Vec::new()
            }
            Response::Tags(tags) => {
                self.tags = tags;
                Vec::new()
            }
            Response::NoteOpened {
                note,
                passages,
                said,
            } => note::opened(self, note, passages, said),
            Response::Codebook { entries, said } => codebook::listed(self, entries, said),
            Response::MergePreview { from, into, notes } => {
                codebook::merge_preview(self, from, into, notes)
            }
            Response::Measures { generation, report } => {
                measures::counted(self, generation, *report)
            }
            Response::Cooccurrence {
                generation,
                report,
                codings,
            } => cooccurrence::counted(self, generation, *report, codings),
            Response::Matrix {
                generation,
                matrix,
                codings,
                groups,
            } => matrix::counted(self, generation, *matrix, codings, groups),
            Response::DraftSaved => Vec::new(),
            Response::Failed(message) => {
                self.analyses_stopped();
                self.say(Level::Error, message);
                Vec::new()
            }
            Response::Fatal(message) => {
                tracing::error!("{message}");
                self.fatal = Some(message);
                Vec::new()
            }
            Response::WorkerDied { lane, message } => {
                tracing::error!(lane = lane.name(), "a worker stopped: {message}");
                if lane == super::worker::Lane::Capture {
                    self.fatal = Some(format!(
                        "the archive worker stopped on a bug ({message}). Every saved note is safe; the draft is as of its last save."
                    ));
                } else {
                    self.analyses_stopped();
                    self.say(
                        Level::Error,
                        format!(
                            "the {} worker stopped on a bug ({message}): restart the app to use it; capture still works",
                            lane.name()
                        ),
                    );
                }
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn evidence_moves_up_with_up_and_down_with_down_and_opens_a_note() {
        let mut app = App::new(Palette::plain());
        let note = |id: &str| Note {
            id: id.into(),
            session: "s".into(),
            kind: crate::model::NoteKind::Quote,
            body: format!("note {id}"),
            tags: Vec::new(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            offset_ms: None,
            deleted_at: None,
        };
        app.overlay = Some(Overlay::Evidence {
            title: "t".into(),
            notes: (0..20).map(|i| note(&i.to_string())).collect(),
            sel: 5,
        });
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let sel = |app: &App| match &app.overlay {
            Some(Overlay::Evidence { sel, .. }) => *sel,
            _ => unreachable!(),
        };
        app.handle_key(key(KeyCode::Up));
        assert_eq!(sel(&app), 4);
        app.handle_key(key(KeyCode::Char('k')));
        assert_eq!(sel(&app), 3);
        app.handle_key(key(KeyCode::Down));
        app.handle_key(key(KeyCode::Char('j')));
        assert_eq!(sel(&app), 5);
        app.handle_key(key(KeyCode::PageUp));
        assert_eq!(sel(&app), 0);
        let asked = app.handle_key(key(KeyCode::Enter));
        assert!(app.overlay.is_none());
        assert!(matches!(&asked[..], [Request::OpenNote(id)] if id == "0"));
    }
}
