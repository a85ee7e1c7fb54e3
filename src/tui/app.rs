//! The app's state and how it changes: keys and worker responses come in, requests for the
//! worker go out. No disk or index work happens here, so every function is testable without a
//! terminal or an archive.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEventKind};
use ratatui_textarea::{CursorMove, TextArea, WrapMode};

use super::complete::{self, Partial};
use super::keymap::{self, Action, Context};
use super::theme::Theme;
use super::worker::{Analysis, Request, Response};
use crate::archive::{SearchResults, VisitState};
use crate::model::{Facet, Note, NoteKind, Participant, Revision, Session, SessionKind, Tag};
use crate::mystery_shop::ReportGroup;
use crate::query::Filters;
use crate::store::NewSession;

/// How long typing must pause before the draft is written to the archive.
pub const DRAFT_DELAY: Duration = Duration::from_millis(700);
pub const SEARCH_LIMIT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Home,
    NewSession,
    Capture,
    Search,
    Visit,
    Report,
    Themes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    /// The notes behind a theme.
    Evidence {
        title: String,
        notes: Vec<Note>,
        scroll: u16,
    },
    History {
        id: String,
        versions: Vec<Revision>,
        scroll: u16,
    },
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
}

pub const FORM_FIELDS: [&str; 5] = [
    "Study",
    "Participant",
    "Location",
    "Channel",
    "Scorecard (mystery-shop visits)",
];
const SCORECARD_FIELD: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitFocus {
    Answer,
    Note,
}

/// A mystery-shop visit being filled in; its note box is the session's capture editor.
pub struct VisitView {
    pub state: VisitState,
    /// The criterion shown, by position in the scorecard.
    pub sel: usize,
    pub answer: TextArea<'static>,
    pub focus: VisitFocus,
}

/// The themes view: the analyses of one selection of notes, in tabs.
pub struct ThemesView {
    pub analysis: Analysis,
    /// 0 themes, 1 contrast, 2 pains, 3 journey.
    pub tab: usize,
    pub sel: usize,
}

pub const THEME_TABS: [&str; 4] = ["Themes", "Contrast by persona", "Pains", "Journey"];

/// The mystery-shopping report view.
pub struct ReportView {
    pub by_location: Vec<ReportGroup>,
    pub by_month: Vec<ReportGroup>,
    pub visits: usize,
}

pub struct SessionForm {
    pub kind: SessionKind,
    pub default_study: Option<String>,
    pub fields: Vec<TextArea<'static>>,
    /// 0 is the kind; 1.. are `fields`.
    pub focus: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFocus {
    Editor,
    Notes,
}

pub struct Capture {
    pub session: Option<Session>,
    pub notes: Vec<Note>,
    pub editor: TextArea<'static>,
    pub kind: NoteKind,
    pub focus: CaptureFocus,
    pub sel: usize,
    /// The note being edited, and what the editor held before.
    pub editing: Option<(String, String, NoteKind)>,
    pub suggestions: Vec<Tag>,
    pub suggestion_sel: usize,
    /// When the editor last changed without the draft being written since.
    pub dirty_at: Option<Instant>,
    pub last_trashed: Option<String>,
    /// Select this note once the session's notes arrive (a jump from search).
    pub focus_note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchFocus {
    Query,
    Results,
    Facets,
}

pub struct SearchState {
    pub query: TextArea<'static>,
    pub results: SearchResults,
    pub sel: usize,
    pub focus: SearchFocus,
    pub facet_sel: usize,
    pub filters: Vec<Tag>,
    pub generation: u64,
    pub millis: Option<u128>,
    pub error: Option<String>,
    pub searching: bool,
}

pub struct App {
    pub theme: Theme,
    pub view: View,
    /// Where Esc from search returns to.
    pub back_to: View,
    pub overlay: Option<Overlay>,
    pub opened: bool,
    pub fatal: Option<String>,
    pub sessions: Vec<Session>,
    pub home_sel: usize,
    pub form: SessionForm,
    pub capture: Capture,
    pub search: SearchState,
    pub tags: Vec<Tag>,
    pub scorecards: Vec<String>,
    pub visit: Option<VisitView>,
    pub report: Option<ReportView>,
    pub themes: Option<ThemesView>,
    /// Set while an analysis runs on the worker.
    pub analysing: bool,
    pub status: Option<Status>,
    pub now: DateTime<Utc>,
    /// The researcher's time zone, for every time shown.
    pub tz: chrono::FixedOffset,
    pub quit: bool,
    /// Say so when the session opened on start had a draft to bring back.
    restoring: bool,
}

fn editor(placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text(placeholder);
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t
}

fn text_of(t: &TextArea<'_>) -> String {
    t.lines().join("\n")
}

fn set_text(t: &mut TextArea<'static>, text: &str) {
    t.select_all();
    t.cut();
    t.insert_str(text);
}

/// Search-as-you-type: a plain word still being typed (no space after it yet) also matches
/// as a prefix, so results appear before the word is finished.
pub fn while_typing(query: &str) -> String {
    let start = query
        .rfind(|c: char| c.is_whitespace() || c == '(')
        .map_or(0, |i| i + 1);
    let last = &query[start..];
    let open_quote = query.matches('"').count() % 2 == 1;
    let plain = last.chars().count() >= 2
        && last.chars().all(char::is_alphanumeric)
        && !matches!(last, "AND" | "OR" | "NOT");
    if plain && !open_quote {
        format!("{}({last} OR {last}*)", &query[..start])
    } else {
        query.to_owned()
    }
}

impl App {
    pub fn new(theme: Theme) -> App {
        let mut capture_editor = editor("Type a note: @persona #touchpoint !emotion +job =code");
        capture_editor.set_search_style(theme.typed_tag());
        // Colours tags as they are typed; what counts as a tag is still decided by the parser.
        let _ = capture_editor
            .set_search_pattern(r"(?:^|\s)[@#!+=]\p{L}[\p{L}\p{N}]*(?:[-_][\p{L}\p{N}]+)*");
        App {
            theme,
            view: View::Home,
            back_to: View::Home,
            overlay: None,
            opened: false,
            fatal: None,
            sessions: Vec::new(),
            home_sel: 0,
            form: SessionForm {
                kind: SessionKind::Interview,
                default_study: None,
                fields: FORM_FIELDS.iter().map(|_| editor("")).collect(),
                focus: 0,
            },
            capture: Capture {
                session: None,
                notes: Vec::new(),
                editor: capture_editor,
                kind: NoteKind::Observation,
                focus: CaptureFocus::Editor,
                sel: 0,
                editing: None,
                suggestions: Vec::new(),
                suggestion_sel: 0,
                dirty_at: None,
                last_trashed: None,
                focus_note: None,
            },
            search: SearchState {
                query: editor(
                    "Search: words, \"phrases\", prefix*, OR, -not, @persona #touchpoint",
                ),
                results: SearchResults::default(),
                sel: 0,
                focus: SearchFocus::Query,
                facet_sel: 0,
                filters: Vec::new(),
                generation: 0,
                millis: None,
                error: None,
                searching: false,
            },
            tags: Vec::new(),
            scorecards: Vec::new(),
            visit: None,
            report: None,
            themes: None,
            analysing: false,
            status: None,
            now: Utc::now(),
            tz: *chrono::Local::now().offset(),
            quit: false,
            restoring: false,
        }
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            level,
        });
    }

    /// Where keys go right now.
    pub fn context(&self) -> Context {
        if self.overlay.is_some() {
            return Context::Overlay;
        }
        self.base_context()
    }

    /// The view's own context, under any overlay: what the help overlay describes.
    pub fn base_context(&self) -> Context {
        match self.view {
            View::Home => Context::Home,
            View::NewSession => Context::SessionForm,
            View::Capture => match self.capture.focus {
                CaptureFocus::Editor => Context::Editor,
                CaptureFocus::Notes => Context::NoteList,
            },
            View::Search => match self.search.focus {
                SearchFocus::Query => Context::SearchQuery,
                SearchFocus::Results => Context::SearchResults,
                SearchFocus::Facets => Context::SearchFacets,
            },
            View::Visit => Context::Visit,
            View::Report => Context::Report,
            View::Themes => Context::Themes,
        }
    }

    /// The facet counts as a flat list, persona to job, most frequent first within a facet.
    pub fn facet_rows(&self) -> Vec<(Tag, u64, bool)> {
        let mut rows = Vec::new();
        for facet in [
            Facet::Persona,
            Facet::Touchpoint,
            Facet::Emotion,
            Facet::Job,
        ] {
            let Some(counts) = self.search.results.facets.get(&facet) else {
                continue;
            };
            let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (name, n) in sorted {
                let tag = Tag {
                    facet,
                    name: name.clone(),
                };
                let active = self.search.filters.contains(&tag);
                rows.push((tag, *n, active));
            }
        }
        rows
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
        if ctx == Context::Editor
            && !self.capture.suggestions.is_empty()
            && let Some(reqs) = self.suggestion_key(&key)
        {
            return reqs;
        }
        match keymap::action_for(ctx, &key) {
            Some(action) => self.act(action),
            None => self.type_key(ctx, key),
        }
    }

    fn paste(&mut self, text: &str) -> Vec<Request> {
        match self.context() {
            Context::Editor => {
                self.capture.editor.insert_str(text);
                self.editor_changed();
                Vec::new()
            }
            Context::SearchQuery => {
                self.search.query.insert_str(text.replace('\n', " "));
                self.query_changed()
            }
            _ => Vec::new(),
        }
    }

    /// Keys that no binding claims: text for the focused input.
    fn type_key(&mut self, ctx: Context, key: KeyEvent) -> Vec<Request> {
        match ctx {
            Context::Editor => {
                if self.capture.editor.input(key) {
                    self.editor_changed();
                }
                Vec::new()
            }
            Context::SearchQuery => {
                if self.search.query.input(key) {
                    return self.query_changed();
                }
                Vec::new()
            }
            Context::SessionForm if self.form.focus > 0 => {
                self.form.fields[self.form.focus - 1].input(key);
                Vec::new()
            }
            Context::Visit => {
                let focus = self.visit.as_ref().map(|v| v.focus);
                if focus == Some(VisitFocus::Answer) {
                    if let Some(v) = self.visit.as_mut() {
                        v.answer.input(key);
                    }
                } else if focus == Some(VisitFocus::Note) && self.capture.editor.input(key) {
                    self.editor_changed();
                    // The tag list belongs to the full editor.
                    self.capture.suggestions.clear();
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Up, Down, Tab, Enter and Esc while the tag list is open.
    fn suggestion_key(&mut self, key: &KeyEvent) -> Option<Vec<Request>> {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        if !key.modifiers.difference(KeyModifiers::SHIFT).is_empty() {
            return None;
        }
        let n = self.capture.suggestions.len();
        match key.code {
            KeyCode::Up => self.capture.suggestion_sel = (self.capture.suggestion_sel + n - 1) % n,
            KeyCode::Down => self.capture.suggestion_sel = (self.capture.suggestion_sel + 1) % n,
            KeyCode::Tab | KeyCode::Enter => self.accept_suggestion(),
            KeyCode::Esc => self.capture.suggestions.clear(),
            _ => return None,
        }
        Some(Vec::new())
    }

    fn accept_suggestion(&mut self) {
        let Some(tag) = self
            .capture
            .suggestions
            .get(self.capture.suggestion_sel)
            .cloned()
        else {
            return;
        };
        let ratatui_textarea::DataCursor(row, col) = self.capture.editor.cursor();
        if let Some(partial) = complete::partial_at(&self.capture.editor.lines()[row], col) {
            for _ in 0..partial.typed.chars().count() {
                self.capture.editor.delete_char();
            }
            self.capture.editor.insert_str(format!("{} ", tag.name));
        }
        self.capture.suggestions.clear();
        self.editor_changed();
    }

    fn editor_changed(&mut self) {
        self.capture.dirty_at = Some(Instant::now());
        let ratatui_textarea::DataCursor(row, col) = self.capture.editor.cursor();
        let partial: Option<Partial> = self
            .capture
            .editor
            .lines()
            .get(row)
            .and_then(|line| complete::partial_at(line, col));
        self.capture.suggestions = partial
            .map(|p| complete::suggest(&self.tags, &p))
            .unwrap_or_default();
        self.capture.suggestion_sel = 0;
    }

    fn query_changed(&mut self) -> Vec<Request> {
        self.search.generation += 1;
        self.search.searching = true;
        self.search.sel = 0;
        vec![Request::Search {
            generation: self.search.generation,
            query: while_typing(&text_of(&self.search.query)),
            filters: Filters {
                tags: self.search.filters.clone(),
                ..Filters::default()
            },
            limit: SEARCH_LIMIT,
        }]
    }

    /// Called every few hundred milliseconds: writes the draft once typing pauses.
    pub fn tick(&mut self, now: Instant) -> Vec<Request> {
        self.now = Utc::now();
        match self.capture.dirty_at {
            Some(at) if now.duration_since(at) >= DRAFT_DELAY => self.draft_request(),
            _ => Vec::new(),
        }
    }

    /// The draft of what is in the editor, now (also before leaving a session or quitting).
    pub fn draft_request(&mut self) -> Vec<Request> {
        let Some(session) = &self.capture.session else {
            return Vec::new();
        };
        if self.capture.dirty_at.take().is_none() || self.capture.editing.is_some() {
            return Vec::new();
        }
        vec![Request::SaveDraft {
            session: session.id.clone(),
            kind: self.capture.kind,
            body: text_of(&self.capture.editor),
        }]
    }

    fn act(&mut self, action: Action) -> Vec<Request> {
        if let Some(overlay) = &mut self.overlay {
            match action {
                Action::Back => self.overlay = None,
                Action::Down | Action::Up => {
                    if let Overlay::History { scroll, .. } | Overlay::Evidence { scroll, .. } =
                        overlay
                    {
                        *scroll = if action == Action::Down {
                            scroll.saturating_add(1)
                        } else {
                            scroll.saturating_sub(1)
                        };
                    }
                }
                _ => {}
            }
            return Vec::new();
        }
        match action {
            Action::Quit => {
                self.quit = true;
                self.draft_request()
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                Vec::new()
            }
            Action::OpenSearch => self.open_search(),
            _ => match self.view {
                View::Home => self.home_action(action),
                View::NewSession => self.form_action(action),
                View::Capture => self.capture_action(action),
                View::Search => self.search_action(action),
                View::Visit => self.visit_action(action),
                View::Report => {
                    if action == Action::Back {
                        self.view = View::Home;
                    }
                    Vec::new()
                }
                View::Themes => self.themes_action(action),
            },
        }
    }

    fn open_search(&mut self) -> Vec<Request> {
        let mut reqs = self.draft_request();
        if self.view != View::Search {
            self.back_to = self.view;
        }
        self.view = View::Search;
        self.search.focus = SearchFocus::Query;
        if self.search.generation == 0 {
            reqs.extend(self.query_changed());
        }
        reqs
    }

    fn move_sel(sel: &mut usize, len: usize, action: Action) {
        if len == 0 {
            *sel = 0;
            return;
        }
        *sel = match action {
            Action::Up => sel.saturating_sub(1),
            Action::Down => (*sel + 1).min(len - 1),
            Action::Top => 0,
            Action::Bottom => len - 1,
            Action::PageUp => sel.saturating_sub(10),
            Action::PageDown => (*sel + 10).min(len - 1),
            _ => *sel,
        }
    }

    fn home_action(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Open => match self.sessions.get(self.home_sel) {
                Some(s) => vec![Request::Session(s.id.clone())],
                None => {
                    self.say(Level::Info, "No sessions yet: press n to start one");
                    Vec::new()
                }
            },
            Action::NewSession => {
                self.open_form();
                Vec::new()
            }
            Action::EndSession => match self.sessions.get(self.home_sel) {
                Some(s) if s.ended_at.is_none() => vec![Request::EndSession(s.id.clone())],
                Some(_) => {
                    self.say(Level::Info, "That session has already ended");
                    Vec::new()
                }
                None => Vec::new(),
            },
            Action::Report => vec![Request::VisitReport],
            Action::Themes => self.analyse(String::new(), Filters::default()),
            Action::Back => Vec::new(),
            nav => {
                Self::move_sel(&mut self.home_sel, self.sessions.len(), nav);
                Vec::new()
            }
        }
    }

    fn open_form(&mut self) {
        self.view = View::NewSession;
        self.form.focus = 0;
        self.form.kind = SessionKind::Interview;
        // The last study is offered (greyed); typing replaces it, leaving it empty keeps it.
        self.form.default_study = self.sessions.first().map(|s| s.study.clone());
        for (i, f) in self.form.fields.iter_mut().enumerate() {
            set_text(f, "");
            if i == 0 {
                f.set_placeholder_text(match &self.form.default_study {
                    Some(study) => format!("{study} (leave empty to keep it)"),
                    None => "the study this session belongs to".into(),
                });
            }
        }
    }

    fn form_action(&mut self, action: Action) -> Vec<Request> {
        let n = FORM_FIELDS.len() + 1;
        match action {
            Action::NextField => self.form.focus = (self.form.focus + 1) % n,
            Action::PrevField => self.form.focus = (self.form.focus + n - 1) % n,
            Action::Cycle if self.form.focus == 0 => {
                let all = SessionKind::ALL;
                let i = all.iter().position(|k| *k == self.form.kind).unwrap_or(0);
                self.form.kind = all[(i + 1) % all.len()];
                let field = &mut self.form.fields[SCORECARD_FIELD];
                if self.form.kind == SessionKind::MysteryShop
                    && text_of(field).trim().is_empty()
                    && let Some(first) = self.scorecards.first()
                {
                    set_text(field, first);
                }
            }
            Action::Cycle => {
                // Left and right move the cursor inside a text field.
                return Vec::new();
            }
            Action::Back => self.view = View::Home,
            Action::Submit => {
                let value = |i: usize| {
                    let v = text_of(&self.form.fields[i]).trim().to_owned();
                    (!v.is_empty()).then_some(v)
                };
                let Some(study) = value(0).or_else(|| self.form.default_study.clone()) else {
                    self.form.focus = 1;
                    self.say(Level::Error, "A session needs a study: type its name");
                    return Vec::new();
                };
                let mut new = NewSession::new(study, self.form.kind);
                new.participants = value(1)
                    .map(|p| {
                        vec![Participant {
                            pseudonym: p,
                            consent: false,
                            consent_date: None,
                            contact: None,
                        }]
                    })
                    .unwrap_or_default();
                new.location = value(2);
                new.channel = value(3);
                new.researcher = std::env::var("USER").ok();
                let scorecard = (self.form.kind == SessionKind::MysteryShop)
                    .then(|| value(SCORECARD_FIELD))
                    .flatten();
                return vec![Request::StartSession { new, scorecard }];
            }
            _ => {}
        }
        Vec::new()
    }

    fn capture_action(&mut self, action: Action) -> Vec<Request> {
        let c = &mut self.capture;
        match (c.focus, action) {
            (CaptureFocus::Editor, Action::SaveNote) => return self.save_note(),
            (CaptureFocus::Editor, Action::Newline) => {
                c.editor.insert_newline();
                self.editor_changed();
            }
            (CaptureFocus::Editor, Action::CycleKind) => {
                c.kind = c.kind.next();
                c.dirty_at = Some(Instant::now());
            }
            (_, Action::VisitView) => {
                if self.visit.is_some() {
                    self.view = View::Visit;
                } else {
                    self.say(Level::Info, "This session has no scorecard");
                }
            }
            (CaptureFocus::Editor, Action::FocusNext) => c.focus = CaptureFocus::Notes,
            (CaptureFocus::Editor, Action::Back) => {
                if let Some((_, before, kind)) = c.editing.take() {
                    set_text(&mut c.editor, &before);
                    c.kind = kind;
                    self.say(Level::Info, "Edit cancelled");
                } else {
                    c.focus = CaptureFocus::Notes;
                }
            }
            (CaptureFocus::Notes, Action::FocusNext) => c.focus = CaptureFocus::Editor,
            (CaptureFocus::Notes, Action::Back) => {
                let reqs = self.draft_request();
                self.view = View::Home;
                let mut all = vec![Request::Sessions];
                all.extend(reqs);
                return all;
            }
            (CaptureFocus::Notes, Action::EditNote) => {
                if let Some(note) = c.notes.get(c.sel).cloned() {
                    let before = text_of(&c.editor);
                    c.editing = Some((note.id.clone(), before, c.kind));
                    set_text(&mut c.editor, &note.body);
                    c.kind = note.kind;
                    c.focus = CaptureFocus::Editor;
                    self.say(
                        Level::Info,
                        "Editing: Enter saves a new version, Esc cancels",
                    );
                }
            }
            (CaptureFocus::Notes, Action::ChangeKind) => {
                if let Some(note) = c.notes.get(c.sel) {
                    return vec![Request::EditNote {
                        id: note.id.clone(),
                        body: note.body.clone(),
                        kind: Some(note.kind.next()),
                    }];
                }
            }
            (CaptureFocus::Notes, Action::TrashNote) => {
                if let Some(note) = c.notes.get(c.sel) {
                    return vec![Request::Trash(note.id.clone())];
                }
            }
            (CaptureFocus::Notes, Action::UndoTrash) => match c.last_trashed.take() {
                Some(id) => return vec![Request::Restore(id)],
                None => self.say(Level::Info, "Nothing to undo"),
            },
            (CaptureFocus::Notes, Action::History) => {
                if let Some(note) = c.notes.get(c.sel) {
                    return vec![Request::History(note.id.clone())];
                }
            }
            (CaptureFocus::Notes, nav) => Self::move_sel(&mut c.sel, c.notes.len(), nav),
            _ => {}
        }
        Vec::new()
    }

    fn save_note(&mut self) -> Vec<Request> {
        let c = &mut self.capture;
        let body = text_of(&c.editor);
        if body.trim().is_empty() {
            self.say(Level::Info, "Nothing to save: type a note first");
            return Vec::new();
        }
        let Some(session) = &c.session else {
            return Vec::new();
        };
        let request = match c.editing.take() {
            Some((id, before, kind)) => {
                let req = Request::EditNote {
                    id,
                    body,
                    kind: Some(c.kind),
                };
                set_text(&mut c.editor, &before);
                c.kind = kind;
                req
            }
            None => {
                set_text(&mut c.editor, "");
                Request::SaveNote {
                    session: session.id.clone(),
                    kind: c.kind,
                    body,
                }
            }
        };
        c.suggestions.clear();
        // Saving clears the stored draft itself; nothing is left to write.
        c.dirty_at = None;
        self.say(Level::Info, "Saving…");
        vec![request]
    }

    fn analyse(&mut self, query: String, filters: Filters) -> Vec<Request> {
        if self.view != View::Themes {
            self.back_to = self.view;
        }
        self.view = View::Themes;
        self.analysing = true;
        self.say(Level::Info, "Analysing…");
        vec![Request::Analyse { query, filters }]
    }

    fn themes_action(&mut self, action: Action) -> Vec<Request> {
        if action == Action::Back {
            self.view = if self.back_to == View::Themes {
                View::Home
            } else {
                self.back_to
            };
            return Vec::new();
        }
        let Some(t) = self.themes.as_mut() else {
            return Vec::new();
        };
        let rows = match t.tab {
            0 => t.analysis.themes.themes.len(),
            1 => t.analysis.contrast.groups.len(),
            2 => t.analysis.pains.touchpoints.len(),
            _ => t.analysis.journey.points.len(),
        };
        match action {
            Action::NextTab => {
                t.tab = (t.tab + 1) % THEME_TABS.len();
                t.sel = 0;
            }
            Action::PrevTab => {
                t.tab = (t.tab + THEME_TABS.len() - 1) % THEME_TABS.len();
                t.sel = 0;
            }
            Action::Open if t.tab == 0 => {
                if let Some(theme) = t.analysis.themes.themes.get(t.sel) {
                    return vec![Request::Evidence {
                        title: theme.label.clone(),
                        ids: theme.notes.clone(),
                    }];
                }
            }
            nav => Self::move_sel(&mut t.sel, rows, nav),
        }
        Vec::new()
    }

    fn visit_action(&mut self, action: Action) -> Vec<Request> {
        let Some(v) = self.visit.as_mut() else {
            self.view = View::Home;
            return Vec::new();
        };
        let total = v.state.score.criteria.len();
        match action {
            Action::Down => v.sel = (v.sel + 1).min(total.saturating_sub(1)),
            Action::Up => v.sel = v.sel.saturating_sub(1),
            Action::FocusNext => {
                v.focus = match v.focus {
                    VisitFocus::Answer => VisitFocus::Note,
                    VisitFocus::Note => VisitFocus::Answer,
                }
            }
            Action::Notes => {
                self.view = View::Capture;
                self.capture.focus = CaptureFocus::Editor;
            }
            Action::Back => {
                let mut reqs = self.draft_request();
                self.view = View::Home;
                reqs.push(Request::Sessions);
                return reqs;
            }
            Action::Submit => {
                let Some(criterion) = v.state.score.criteria.get(v.sel) else {
                    return Vec::new();
                };
                let value = text_of(&v.answer).trim().to_owned();
                if value.is_empty() {
                    let hint = v
                        .state
                        .scorecard
                        .card
                        .criterion(&criterion.id)
                        .map(|c| c.scale.hint())
                        .unwrap_or_default();
                    let na = if v
                        .state
                        .scorecard
                        .card
                        .criterion(&criterion.id)
                        .is_some_and(|c| c.na_allowed)
                    {
                        ", or na"
                    } else {
                        ""
                    };
                    self.say(Level::Info, format!("Type the answer: {hint}{na}"));
                    return Vec::new();
                }
                let note = text_of(&self.capture.editor);
                let request = Request::Answer {
                    session: v.state.session.clone(),
                    criterion: criterion.id.clone(),
                    value,
                    note: (!note.trim().is_empty()).then_some(note),
                };
                self.say(Level::Info, "Saving the answer…");
                return vec![request];
            }
            _ => {}
        }
        Vec::new()
    }

    fn search_action(&mut self, action: Action) -> Vec<Request> {
        let s = &mut self.search;
        match (s.focus, action) {
            (_, Action::Back) => {
                self.view = self.back_to;
                if self.view == View::Home {
                    return vec![Request::Sessions];
                }
            }
            (_, Action::Themes) => {
                let query = text_of(&s.query);
                let filters = Filters {
                    tags: s.filters.clone(),
                    ..Filters::default()
                };
                return self.analyse(query, filters);
            }
            (SearchFocus::Query, Action::FocusNext) => s.focus = SearchFocus::Results,
            (SearchFocus::Results, Action::FocusNext) => s.focus = SearchFocus::Facets,
            (SearchFocus::Facets, Action::FocusNext) => s.focus = SearchFocus::Query,
            (SearchFocus::Results, Action::FocusPrev) => s.focus = SearchFocus::Query,
            (SearchFocus::Facets, Action::FocusPrev) => s.focus = SearchFocus::Results,
            (SearchFocus::Results, Action::Open) => {
                if let Some(hit) = s.results.hits.get(s.sel) {
                    self.capture.focus_note = Some(hit.id.clone());
                    return vec![Request::Session(hit.session.clone())];
                }
            }
            (SearchFocus::Results, nav) => Self::move_sel(&mut s.sel, s.results.hits.len(), nav),
            (SearchFocus::Facets, Action::ToggleFacet) => {
                let rows = self.facet_rows();
                if let Some((tag, _, active)) = rows.get(self.search.facet_sel) {
                    if *active {
                        self.search.filters.retain(|t| t != tag);
                    } else {
                        self.search.filters.push(tag.clone());
                    }
                    return self.query_changed();
                }
            }
            (SearchFocus::Facets, Action::ClearFilters) if !s.filters.is_empty() => {
                s.filters.clear();
                return self.query_changed();
            }
            (SearchFocus::Facets, nav) => {
                let len = self.facet_rows().len();
                Self::move_sel(&mut self.search.facet_sel, len, nav);
            }
            _ => {}
        }
        Vec::new()
    }

    // ---- worker responses ----------------------------------------------------------------

    pub fn handle_response(&mut self, response: Response) -> Vec<Request> {
        match response {
            Response::Opened {
                drafts,
                tags,
                scorecards,
            } => {
                self.opened = true;
                self.tags = tags;
                self.scorecards = scorecards;
                let mut reqs = vec![Request::Sessions];
                if let Some(draft) = drafts.first() {
                    self.restoring = true;
                    reqs.push(Request::Session(draft.session.clone()));
                }
                return reqs;
            }
            Response::Sessions(sessions) => {
                self.sessions = sessions;
                self.home_sel = self.home_sel.min(self.sessions.len().saturating_sub(1));
            }
            Response::SessionLoaded {
                session,
                notes,
                draft,
                visit,
            } => {
                let mut reqs = Vec::new();
                if self
                    .capture
                    .session
                    .as_ref()
                    .is_some_and(|s| s.id != session.id)
                {
                    reqs.extend(self.draft_request());
                }
                let c = &mut self.capture;
                let same = c.session.as_ref().is_some_and(|s| s.id == session.id);
                c.sel = notes.len().saturating_sub(1);
                if let Some(id) = c.focus_note.take()
                    && let Some(i) = notes.iter().position(|n| n.id == id)
                {
                    c.sel = i;
                    c.focus = CaptureFocus::Notes;
                } else {
                    c.focus = CaptureFocus::Editor;
                }
                c.notes = notes;
                c.session = Some(session);
                if !same {
                    c.editing = None;
                    c.suggestions.clear();
                    c.dirty_at = None;
                    match &draft {
                        Some(d) => {
                            set_text(&mut c.editor, &d.body);
                            c.kind = d.kind;
                        }
                        None => {
                            set_text(&mut c.editor, "");
                            c.kind = NoteKind::Observation;
                        }
                    }
                }
                if let Some(d) = draft
                    && (self.restoring || !same)
                {
                    let at = d.updated_at.with_timezone(&self.tz).format("%H:%M");
                    self.say(
                        Level::Ok,
                        format!("Restored your unsaved draft from {at}: Enter saves it"),
                    );
                }
                self.restoring = false;
                self.view = View::Capture;
                if let Some(state) = visit {
                    let state = *state;
                    // Open at the first criterion still to answer.
                    let sel = state
                        .score
                        .criteria
                        .iter()
                        .position(|c| !c.answered)
                        .unwrap_or(0);
                    self.visit = Some(VisitView {
                        state,
                        sel,
                        answer: editor("answer"),
                        focus: VisitFocus::Answer,
                    });
                    if self.capture.focus_note.is_none()
                        && self.capture.focus != CaptureFocus::Notes
                    {
                        self.view = View::Visit;
                    }
                } else {
                    self.visit = None;
                }
                return reqs;
            }
            Response::SessionStarted(session) => {
                self.say(
                    Level::Ok,
                    format!("Started {} in {}", session.kind, session.study),
                );
                return vec![Request::Session(session.id), Request::Sessions];
            }
            Response::SessionEnded(s) => {
                self.say(
                    Level::Ok,
                    format!("Ended the session ({} notes)", s.note_count),
                );
                return vec![Request::Sessions];
            }
            Response::NoteSaved(note) => {
                let c = &mut self.capture;
                let tags: Vec<String> = note.tags.iter().map(Tag::to_string).collect();
                let msg = format!(
                    "Saved {}{}{}",
                    note.kind,
                    if tags.is_empty() { "" } else { " · " },
                    tags.join(" ")
                );
                if c.session.as_ref().is_some_and(|s| s.id == note.session) {
                    c.notes.push(note);
                    c.sel = c.notes.len() - 1;
                }
                self.say(Level::Ok, msg);
            }
            Response::NoteEdited(note) => {
                if let Some(n) = self.capture.notes.iter_mut().find(|n| n.id == note.id) {
                    *n = note;
                }
                self.say(Level::Ok, "Saved a new version (r shows the history)");
            }
            Response::NoteTrashed(note) => {
                let c = &mut self.capture;
                c.notes.retain(|n| n.id != note.id);
                c.sel = c.sel.min(c.notes.len().saturating_sub(1));
                c.last_trashed = Some(note.id);
                self.say(Level::Ok, "Moved the note to the trash: u brings it back");
            }
            Response::NoteRestored(note) => {
                let c = &mut self.capture;
                if c.session.as_ref().is_some_and(|s| s.id == note.session) {
                    let at = c
                        .notes
                        .iter()
                        .position(|n| (n.created_at, &n.id) > (note.created_at, &note.id))
                        .unwrap_or(c.notes.len());
                    c.notes.insert(at, note);
                    c.sel = at;
                }
                self.say(Level::Ok, "Brought the note back from the trash");
            }
            Response::Answered { visit, note } => {
                let state = *visit;
                if let Some(note) = note {
                    if self
                        .capture
                        .session
                        .as_ref()
                        .is_some_and(|s| s.id == note.session)
                    {
                        self.capture.notes.push(note);
                        self.capture.sel = self.capture.notes.len() - 1;
                    }
                    set_text(&mut self.capture.editor, "");
                    self.capture.dirty_at = None;
                }
                if let Some(v) = self.visit.as_mut()
                    && v.state.session == state.session
                {
                    let answered = v
                        .state
                        .score
                        .criteria
                        .get(v.sel)
                        .map(|c| c.id.clone())
                        .unwrap_or_default();
                    let total = state.score.criteria.len();
                    // On to the next criterion still open, after this one first.
                    let next = (1..=total)
                        .map(|k| (v.sel + k) % total)
                        .find(|&i| !state.score.criteria[i].answered);
                    let msg = format!(
                        "Answered {answered} · {}/{} answered · score {}",
                        state.score.answered,
                        state.score.total,
                        state.score.score.map_or("–".into(), |s| format!("{s:.0}"))
                    );
                    v.sel = next.unwrap_or(v.sel);
                    v.state = state;
                    set_text(&mut v.answer, "");
                    v.focus = VisitFocus::Answer;
                    let done = next.is_none();
                    self.say(
                        Level::Ok,
                        if done {
                            format!("{msg} · every criterion answered")
                        } else {
                            msg
                        },
                    );
                }
            }
            Response::VisitReport {
                by_location,
                by_month,
                visits,
            } => {
                self.report = Some(ReportView {
                    by_location,
                    by_month,
                    visits,
                });
                self.view = View::Report;
            }
            Response::Analysed(analysis) => {
                self.analysing = false;
                let a = *analysis;
                self.say(
                    Level::Ok,
                    format!(
                        "{} themes over {} notes ({:.0}% of them in a theme)",
                        a.themes.themes.len(),
                        a.themes.total_notes,
                        a.themes.coverage * 100.0
                    ),
                );
                self.themes = Some(ThemesView {
                    analysis: a,
                    tab: 0,
                    sel: 0,
                });
            }
            Response::Evidence { title, notes } => {
                self.overlay = Some(Overlay::Evidence {
                    title,
                    notes,
                    scroll: 0,
                });
            }
            Response::Tags(tags) => self.tags = tags,
            Response::DraftSaved => {}
            Response::Searched {
                generation,
                results,
                millis,
            } => {
                if generation == self.search.generation {
                    self.search.results = results;
                    self.search.millis = Some(millis);
                    self.search.error = None;
                    self.search.searching = false;
                    self.search.sel = self
                        .search
                        .sel
                        .min(self.search.results.hits.len().saturating_sub(1));
                    let rows = self.facet_rows().len();
                    self.search.facet_sel = self.search.facet_sel.min(rows.saturating_sub(1));
                }
            }
            Response::SearchFailed {
                generation,
                message,
            } => {
                if generation == self.search.generation {
                    self.search.error = Some(message);
                    self.search.searching = false;
                }
            }
            Response::History { id, versions } => {
                self.overlay = Some(Overlay::History {
                    id,
                    versions,
                    scroll: 0,
                });
            }
            Response::SaveFailed { body, message } => {
                // The note goes back into the editor, before anything typed since: no word is lost.
                let c = &mut self.capture;
                let current = text_of(&c.editor);
                let text = if current.trim().is_empty() {
                    body
                } else {
                    format!("{body}\n{current}")
                };
                set_text(&mut c.editor, &text);
                c.editor.move_cursor(CursorMove::Bottom);
                c.dirty_at = Some(Instant::now());
                self.say(Level::Error, message);
            }
            Response::Failed(message) => self.say(Level::Error, message),
            Response::Fatal(message) => self.fatal = Some(message),
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::while_typing;

    #[test]
    fn the_word_being_typed_also_matches_as_a_prefix() {
        assert_eq!(while_typing("long wai"), "long (wai OR wai*)");
        assert_eq!(while_typing("wai"), "(wai OR wai*)");
        assert_eq!(while_typing("long wait "), "long wait ");
        assert_eq!(while_typing("#checkout"), "#checkout");
        assert_eq!(while_typing("\"long wai"), "\"long wai");
        assert_eq!(while_typing("w"), "w");
        assert_eq!(while_typing("queue OR"), "queue OR");
        assert_eq!(while_typing(""), "");
    }
}
