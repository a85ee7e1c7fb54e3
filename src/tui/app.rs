//! The app's state and how it changes: keys and worker responses come in, requests for the
//! worker go out. No disk or index work happens here, so every function is testable without a
//! terminal or an archive.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEventKind};
use ratatui_textarea::{CursorMove, TextArea, WrapMode};

use super::complete;
use super::keymap::{self, Action, Context};
use super::theme::Palette;
use super::worker::{Analysis, Request, Response};
use crate::archive::{SearchResults, VisitState};
use crate::model::{
    Facet, Note, NoteKind, Participant, Revision, Session, SessionKind, Tag, parse_inline,
    partial_tag_at, retag,
};
use crate::mystery_shop::ReportGroup;
use crate::query::Filters;
use crate::store::{Draft, NewSession};

/// How old the draft may get while the researcher keeps typing: it is written this long after
/// the first unsaved change (not after a pause), checked at every tick of the loop (250 ms),
/// so what a crash can take is under a second of typing.
pub const DRAFT_INTERVAL: Duration = Duration::from_millis(500);
/// How long a status message stays before the bar shows only the keys again.
pub const STATUS_LIFETIME: Duration = Duration::from_secs(6);
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
    Trash,
    Participants,
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
}

pub struct Prompt {
    pub purpose: PromptFor,
    pub title: String,
    pub input: TextArea<'static>,
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

pub const FORM_FIELDS: [&str; 5] = [
    "Study",
    "Participant",
    "Location",
    "Channel",
    "Scorecard (mystery-shop visits)",
];
const SCORECARD_FIELD: usize = 4;

/// The new-session form's rows, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormSlot {
    Kind,
    Text(usize),
    Consent,
}

pub const FORM_SLOTS: [FormSlot; 7] = [
    FormSlot::Kind,
    FormSlot::Text(0),
    FormSlot::Text(1),
    FormSlot::Consent,
    FormSlot::Text(2),
    FormSlot::Text(3),
    FormSlot::Text(4),
];

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
    pub tab: ThemeTab,
    pub sel: usize,
}

/// The themes view's tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeTab {
    Themes,
    Contrast,
    Pains,
    Journey,
}

impl ThemeTab {
    pub const ALL: [ThemeTab; 4] = [
        ThemeTab::Themes,
        ThemeTab::Contrast,
        ThemeTab::Pains,
        ThemeTab::Journey,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ThemeTab::Themes => "Themes",
            ThemeTab::Contrast => "Contrast by persona",
            ThemeTab::Pains => "Pains",
            ThemeTab::Journey => "Journey",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The next tab (`step` 1) or the previous one (`step` -1), round the ends.
    fn step(self, step: isize) -> ThemeTab {
        let n = Self::ALL.len() as isize;
        Self::ALL[(self.index() as isize + step).rem_euclid(n) as usize]
    }
}

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
    /// Whether the participant has given consent (recorded with today's date).
    pub consent: bool,
    /// A position in `FORM_SLOTS`.
    pub focus: usize,
}

impl SessionForm {
    pub fn slot(&self) -> FormSlot {
        FORM_SLOTS[self.focus]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFocus {
    Editor,
    Notes,
}

/// An edit of an existing note in the editor.
#[derive(Debug, Clone, PartialEq)]
pub struct Editing {
    pub id: String,
    /// What the editor held before (the new note being written), and its kind.
    pub before: String,
    pub before_kind: NoteKind,
}

/// How to take back one change to a stored note.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// The note's text and kind before the change.
    Changed {
        id: String,
        body: String,
        kind: NoteKind,
    },
    Trashed {
        id: String,
    },
}

/// How many note changes Ctrl+Z can take back.
const UNDO_DEPTH: usize = 100;

/// Something for the event loop to hand to `$EDITOR`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalEdit {
    pub note: Note,
    pub body: String,
}

pub struct Capture {
    pub session: Option<Session>,
    pub notes: Vec<Note>,
    pub editor: TextArea<'static>,
    pub kind: NoteKind,
    pub focus: CaptureFocus,
    pub sel: usize,
    pub editing: Option<Editing>,
    pub suggestions: Vec<Tag>,
    /// The suggestion the researcher moved to with ↑/↓; None until they do, and then Enter
    /// saves the text as typed.
    pub suggestion_sel: Option<usize>,
    /// The first change not yet in a draft.
    pub dirty_since: Option<Instant>,
    pub undo: Vec<Undo>,
    /// Select this note once the session's notes arrive (a jump from search).
    pub focus_note: Option<String>,
    /// Ctrl+Q was pressed once with text in the editor: a second press quits.
    pub quit_armed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchFocus {
    Query,
    Results,
    Facets,
}

/// How far back the search's date filter reaches.
pub const SINCE_DAYS: [Option<i64>; 5] = [None, Some(1), Some(7), Some(30), Some(365)];

pub struct SearchState {
    pub query: TextArea<'static>,
    pub results: SearchResults,
    pub sel: usize,
    pub focus: SearchFocus,
    pub facet_sel: usize,
    pub filters: Vec<Tag>,
    pub kind: Option<NoteKind>,
    pub study: Option<String>,
    /// A position in `SINCE_DAYS`.
    pub since: usize,
    pub generation: u64,
    pub millis: Option<u128>,
    pub error: Option<String>,
    pub searching: bool,
    /// Where Esc returns to.
    pub back: View,
}

pub struct App {
    pub palette: Palette,
    pub view: View,
    /// Where Esc from the themes view returns to.
    pub themes_back: View,
    pub overlay: Option<Overlay>,
    pub prompt: Option<Prompt>,
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
    /// The study the themes view analyses (None: every study).
    pub themes_study: Option<String>,
    pub trash: Vec<Note>,
    pub trash_sel: usize,
    pub participants: Vec<Participant>,
    pub participants_sel: usize,
    /// Set while an analysis runs on the worker.
    pub analysing: bool,
    pub status: Option<Status>,
    pub now: DateTime<Utc>,
    /// The researcher's time zone, for every time shown.
    pub tz: chrono::FixedOffset,
    pub quit: bool,
    /// Text for the event loop to put on the clipboard.
    pub clipboard: Option<String>,
    /// A note for the event loop to open in `$EDITOR`.
    pub external: Option<ExternalEdit>,
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
    // After the last space or parenthesis, whatever its width in bytes (U+3000 is three).
    let start = query
        .char_indices()
        .rfind(|&(_, c)| c.is_whitespace() || c == '(')
        .map_or(0, |(i, c)| i + c.len_utf8());
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
    pub fn new(palette: Palette) -> App {
        let mut capture_editor = editor("Type a note: @persona #touchpoint !emotion +job =code");
        capture_editor.set_search_style(palette.typed_tag());
        // Colours tags as they are typed, by the tag grammar's own pattern.
        let _ = capture_editor.set_search_pattern(crate::model::tag_pattern());
        App {
            palette,
            view: View::Home,
            themes_back: View::Home,
            overlay: None,
            prompt: None,
            opened: false,
            fatal: None,
            sessions: Vec::new(),
            home_sel: 0,
            form: SessionForm {
                kind: SessionKind::Interview,
                default_study: None,
                fields: FORM_FIELDS.iter().map(|_| editor("")).collect(),
                consent: false,
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
                suggestion_sel: None,
                dirty_since: None,
                undo: Vec::new(),
                focus_note: None,
                quit_armed: false,
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
                kind: None,
                study: None,
                since: 0,
                generation: 0,
                millis: None,
                error: None,
                searching: false,
                back: View::Home,
            },
            tags: Vec::new(),
            scorecards: Vec::new(),
            visit: None,
            report: None,
            themes: None,
            themes_study: None,
            trash: Vec::new(),
            trash_sel: 0,
            participants: Vec::new(),
            participants_sel: 0,
            analysing: false,
            status: None,
            now: Utc::now(),
            tz: *chrono::Local::now().offset(),
            quit: false,
            clipboard: None,
            external: None,
        }
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
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

    /// Where keys go right now.
    pub fn context(&self) -> Context {
        if self.prompt.is_some() {
            return Context::Prompt;
        }
        match self.overlay {
            Some(Overlay::History { .. }) => Context::History,
            Some(_) => Context::Overlay,
            None => self.base_context(),
        }
    }

    /// The view's own context, under any overlay: what the help overlay describes.
    pub fn base_context(&self) -> Context {
        match self.view {
            View::Home => Context::Home,
            View::NewSession => Context::SessionForm,
            View::Capture => match self.capture.focus {
                CaptureFocus::Editor if !self.capture.suggestions.is_empty() => Context::TagList,
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
            View::Trash => Context::Trash,
            View::Participants => Context::Participants,
        }
    }

    /// The facet counts as a flat list, persona to code, most frequent first within a facet.
    pub fn facet_rows(&self) -> Vec<(Tag, u64, bool)> {
        let mut rows = Vec::new();
        for facet in [
            Facet::Persona,
            Facet::Touchpoint,
            Facet::Emotion,
            Facet::Job,
            Facet::Code,
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

    /// The studies the app knows of, from the sessions list, in first-seen order.
    pub fn studies(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.sessions {
            if !names.contains(&s.study) {
                names.push(s.study.clone());
            }
        }
        names
    }

    /// The study after `now` in the list, then none (every study), then the first again.
    fn next_study(&self, now: Option<&str>) -> Option<String> {
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
            Some(action) if ctx == Context::TagList => self.tag_list_action(action),
            Some(action) => self.act(action),
            None => self.type_key(ctx, key),
        }
    }

    fn paste(&mut self, text: &str) -> Vec<Request> {
        match self.context() {
            Context::Editor | Context::TagList | Context::NoteList => {
                self.capture.focus = CaptureFocus::Editor;
                self.capture.editor.insert_str(text);
                self.editor_changed();
                Vec::new()
            }
            Context::SearchQuery => {
                self.search.query.insert_str(text.replace('\n', " "));
                self.query_changed()
            }
            Context::Prompt => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.insert_str(text.replace('\n', " "));
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Keys that no binding claims: text for the focused input.
    fn type_key(&mut self, ctx: Context, key: KeyEvent) -> Vec<Request> {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        match ctx {
            Context::Editor | Context::TagList => {
                if self.capture.editor.input(key) {
                    self.editor_changed();
                }
                Vec::new()
            }
            // Typing in the note list goes on in the editor: a stray Esc never turns words
            // into commands on old notes.
            Context::NoteList => {
                let printable = matches!(key.code, KeyCode::Char(_))
                    && !key
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
                if printable || key.code == KeyCode::Backspace {
                    self.capture.focus = CaptureFocus::Editor;
                    self.capture.editor.move_cursor(CursorMove::Bottom);
                    self.capture.editor.move_cursor(CursorMove::End);
                    if self.capture.editor.input(key) {
                        self.editor_changed();
                    }
                }
                Vec::new()
            }
            Context::SearchQuery => {
                if self.search.query.input(key) {
                    return self.query_changed();
                }
                Vec::new()
            }
            Context::SessionForm => {
                if let FormSlot::Text(i) = self.form.slot() {
                    self.form.fields[i].input(key);
                }
                Vec::new()
            }
            Context::Prompt => {
                if let Some(p) = self.prompt.as_mut() {
                    p.input.input(key);
                }
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

    /// The tag list's keys (see `keymap`): Enter takes a tag only once the researcher has
    /// moved into the list; otherwise the note is saved as typed.
    fn tag_list_action(&mut self, action: Action) -> Vec<Request> {
        let n = self.capture.suggestions.len();
        let c = &mut self.capture;
        match action {
            Action::Up => {
                c.suggestion_sel = Some(c.suggestion_sel.map_or(n - 1, |i| (i + n - 1) % n));
            }
            Action::Down => c.suggestion_sel = Some(c.suggestion_sel.map_or(0, |i| (i + 1) % n)),
            Action::TakeTag => {
                let pick = c.suggestion_sel.unwrap_or(0);
                self.accept_suggestion(pick);
            }
            Action::SaveNote => match c.suggestion_sel {
                Some(pick) => self.accept_suggestion(pick),
                None => {
                    c.suggestions.clear();
                    return self.act(Action::SaveNote);
                }
            },
            Action::Back => c.suggestions.clear(),
            other => return self.act(other),
        }
        Vec::new()
    }

    fn accept_suggestion(&mut self, pick: usize) {
        let Some(tag) = self.capture.suggestions.get(pick).cloned() else {
            return;
        };
        let ratatui_textarea::DataCursor(row, col) = self.capture.editor.cursor();
        if let Some(partial) = partial_tag_at(&self.capture.editor.lines()[row], col) {
            for _ in 0..partial.typed.chars().count() {
                self.capture.editor.delete_char();
            }
            self.capture.editor.insert_str(format!("{} ", tag.name));
        }
        self.editor_changed();
        self.capture.suggestions.clear();
    }

    fn editor_changed(&mut self) {
        let c = &mut self.capture;
        c.dirty_since.get_or_insert_with(Instant::now);
        let ratatui_textarea::DataCursor(row, col) = c.editor.cursor();
        let partial = c
            .editor
            .lines()
            .get(row)
            .and_then(|line| partial_tag_at(line, col));
        c.suggestions = partial
            .map(|p| complete::suggest(&self.tags, &p))
            .unwrap_or_default();
        c.suggestion_sel = None;
    }

    /// The search's filters: the tags toggled in the tag counts, the kind and the dates.
    fn search_filters(&self) -> Filters {
        let s = &self.search;
        Filters {
            tags: s.filters.clone(),
            kind: s.kind,
            // The app's clock (kept by `tick`), so the filter is the one the screen shows.
            since: SINCE_DAYS[s.since].map(|days| self.now - chrono::Duration::days(days)),
            ..Filters::default()
        }
    }

    fn query_changed(&mut self) -> Vec<Request> {
        let filters = self.search_filters();
        let s = &mut self.search;
        s.generation += 1;
        s.searching = true;
        s.sel = 0;
        vec![Request::Search {
            generation: s.generation,
            query: while_typing(&text_of(&s.query)),
            filters,
            study: s.study.clone(),
            limit: SEARCH_LIMIT,
        }]
    }

    /// Called every few hundred milliseconds: keeps the draft at most `DRAFT_INTERVAL` (plus
    /// a tick) behind the typing, and lets old status messages go.
    pub fn tick(&mut self, now: Instant) -> Vec<Request> {
        self.now = Utc::now();
        if self
            .status
            .as_ref()
            .is_some_and(|s| now.duration_since(s.at) >= STATUS_LIFETIME)
        {
            self.status = None;
        }
        match self.capture.dirty_since {
            Some(at) if now.duration_since(at) >= DRAFT_INTERVAL => self.draft_request(),
            _ => Vec::new(),
        }
    }

    /// The draft of what is in the editor, now (also before leaving a session or quitting):
    /// of the new note, or of the edit in progress.
    pub fn draft_request(&mut self) -> Vec<Request> {
        let Some(session) = &self.capture.session else {
            return Vec::new();
        };
        if self.capture.dirty_since.take().is_none() {
            return Vec::new();
        }
        vec![Request::SaveDraft {
            session: session.id.clone(),
            note: self.capture.editing.as_ref().map(|e| e.id.clone()),
            kind: self.capture.kind,
            body: text_of(&self.capture.editor),
        }]
    }

    fn act(&mut self, action: Action) -> Vec<Request> {
        if self.prompt.is_some() {
            return self.prompt_action(action);
        }
        if let Some(overlay) = &mut self.overlay {
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
                    return self.change_note(&id, v.body, v.kind, "Restoring that version…");
                }
                (Overlay::History { versions, sel, .. }, nav) => {
                    Self::move_sel(sel, versions.len(), nav);
                }
                (Overlay::Evidence { scroll, .. }, nav) => {
                    *scroll = match nav {
                        Action::Down => scroll.saturating_add(1),
                        Action::Up => scroll.saturating_sub(1),
                        Action::PageDown => scroll.saturating_add(10),
                        Action::PageUp => scroll.saturating_sub(10),
                        _ => *scroll,
                    };
                }
                _ => {}
            }
            return Vec::new();
        }
        match action {
            Action::Quit => self.quit_action(),
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
                View::Trash => self.trash_action(action),
                View::Participants => self.participants_action(action),
            },
        }
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
            return self.draft_request();
        }
        self.quit = true;
        self.draft_request()
    }

    fn open_search(&mut self) -> Vec<Request> {
        let mut reqs = self.draft_request();
        if self.view != View::Search {
            self.search.back = self.view;
        }
        self.view = View::Search;
        self.search.focus = SearchFocus::Query;
        // The old query stays, selected: typing replaces it, Enter goes back to its results.
        self.search.query.move_cursor(CursorMove::Bottom);
        self.search.query.move_cursor(CursorMove::End);
        if !text_of(&self.search.query).is_empty() {
            self.search.query.select_all();
        }
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
                Some(s) => self.end_session(&s.clone()),
                None => Vec::new(),
            },
            Action::Report => vec![Request::VisitReport],
            Action::Themes => {
                let study = self.themes_study.clone();
                self.analyse(String::new(), Filters::default(), study)
            }
            Action::Trash => {
                self.view = View::Trash;
                vec![Request::TrashList]
            }
            Action::Participants => {
                self.view = View::Participants;
                vec![Request::Participants]
            }
            Action::Back => Vec::new(),
            nav => {
                Self::move_sel(&mut self.home_sel, self.sessions.len(), nav);
                Vec::new()
            }
        }
    }

    fn end_session(&mut self, session: &Session) -> Vec<Request> {
        if session.ended_at.is_some() {
            self.say(Level::Info, "That session has already ended");
            return Vec::new();
        }
        vec![Request::EndSession(session.id.clone())]
    }

    fn open_form(&mut self) {
        self.view = View::NewSession;
        self.form.focus = 0;
        self.form.kind = SessionKind::Interview;
        self.form.consent = false;
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
        let n = FORM_SLOTS.len();
        match (self.form.slot(), action) {
            (_, Action::NextField) => self.form.focus = (self.form.focus + 1) % n,
            (_, Action::PrevField) => self.form.focus = (self.form.focus + n - 1) % n,
            (FormSlot::Kind, Action::Cycle) => {
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
            (FormSlot::Consent, Action::Cycle) => self.form.consent = !self.form.consent,
            (_, Action::Back) => self.view = View::Home,
            (_, Action::Submit) => return self.submit_form(),
            _ => {}
        }
        Vec::new()
    }

    fn submit_form(&mut self) -> Vec<Request> {
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
        let consent = self.form.consent;
        let today = self
            .now
            .with_timezone(&self.tz)
            .format("%Y-%m-%d")
            .to_string();
        new.participants = value(1)
            .map(|p| {
                vec![Participant {
                    pseudonym: p,
                    consent,
                    consent_date: consent.then_some(today),
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
        vec![Request::StartSession { new, scorecard }]
    }

    /// A change to a stored note's text or kind, undoable.
    fn change_note(&mut self, id: &str, body: String, kind: NoteKind, say: &str) -> Vec<Request> {
        let Some(before) = self.capture.notes.iter().find(|n| n.id == id) else {
            self.say(
                Level::Error,
                "That note is not in this session's list any more",
            );
            return Vec::new();
        };
        self.remember(Undo::Changed {
            id: id.to_owned(),
            body: before.body.clone(),
            kind: before.kind,
        });
        self.say(Level::Info, say);
        vec![Request::EditNote {
            id: id.to_owned(),
            body,
            kind: Some(kind),
        }]
    }

    fn remember(&mut self, step: Undo) {
        let undo = &mut self.capture.undo;
        if undo.len() == UNDO_DEPTH {
            undo.remove(0);
        }
        undo.push(step);
    }

    fn undo(&mut self) -> Vec<Request> {
        match self.capture.undo.pop() {
            Some(Undo::Changed { id, body, kind }) => {
                self.say(
                    Level::Info,
                    "Undoing: the note's earlier text comes back (as a new version)",
                );
                vec![Request::EditNote {
                    id,
                    body,
                    kind: Some(kind),
                }]
            }
            Some(Undo::Trashed { id }) => {
                self.say(Level::Info, "Undoing: the note comes back from the trash");
                vec![Request::Restore(id)]
            }
            None => {
                self.say(Level::Info, "Nothing to undo");
                Vec::new()
            }
        }
    }

    fn capture_action(&mut self, action: Action) -> Vec<Request> {
        let c = &mut self.capture;
        let selected = c.notes.get(c.sel).cloned();
        match (c.focus, action) {
            (CaptureFocus::Editor, Action::SaveNote) => return self.save_note(),
            (CaptureFocus::Editor, Action::Newline) => {
                c.editor.insert_newline();
                self.editor_changed();
            }
            (CaptureFocus::Editor, Action::CycleKind) => {
                c.kind = c.kind.next();
                c.dirty_since.get_or_insert_with(Instant::now);
            }
            (_, Action::VisitView) => {
                if self.visit.is_some() {
                    let reqs = self.draft_request();
                    self.view = View::Visit;
                    return reqs;
                }
                self.say(Level::Info, "This session has no scorecard");
            }
            (_, Action::EndSession) => {
                if let Some(s) = c.session.clone() {
                    return self.end_session(&s);
                }
            }
            (CaptureFocus::Editor, Action::FocusNext) => c.focus = CaptureFocus::Notes,
            (CaptureFocus::Editor, Action::Back) => {
                if let Some(e) = c.editing.take() {
                    set_text(&mut c.editor, &e.before);
                    c.kind = e.before_kind;
                    c.dirty_since = None;
                    // The edit's draft goes with it.
                    let clear = c.session.as_ref().map(|s| Request::SaveDraft {
                        session: s.id.clone(),
                        note: Some(e.id),
                        kind: e.before_kind,
                        body: String::new(),
                    });
                    self.say(Level::Info, "Edit cancelled: the note is as it was");
                    return clear.into_iter().collect();
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
                if let Some(note) = selected {
                    if c.editing.is_some() {
                        self.say(
                            Level::Info,
                            "Finish the edit in the editor first (Enter saves, Esc cancels)",
                        );
                        return Vec::new();
                    }
                    // What was being typed is drafted first, then set aside for the edit.
                    let reqs = self.draft_request();
                    let c = &mut self.capture;
                    c.editing = Some(Editing {
                        id: note.id.clone(),
                        before: text_of(&c.editor),
                        before_kind: c.kind,
                    });
                    set_text(&mut c.editor, &note.body);
                    c.kind = note.kind;
                    c.focus = CaptureFocus::Editor;
                    c.suggestions.clear();
                    self.say(
                        Level::Info,
                        "Editing: Enter saves a new version, Esc cancels",
                    );
                    return reqs;
                }
            }
            (CaptureFocus::Notes, Action::ChangeKind) => {
                if let Some(note) = selected {
                    let kind = note.kind.next();
                    return self.change_note(
                        &note.id,
                        note.body,
                        kind,
                        &format!("Changing it to {} {kind}…", a_or_an(kind.as_str())),
                    );
                }
            }
            (CaptureFocus::Notes, Action::TrashNote) => {
                if let Some(note) = selected {
                    self.remember(Undo::Trashed {
                        id: note.id.clone(),
                    });
                    return vec![Request::Trash(note.id)];
                }
            }
            (CaptureFocus::Notes, Action::Undo) => return self.undo(),
            (CaptureFocus::Notes, Action::History) => {
                if let Some(note) = selected {
                    return vec![Request::History(note.id)];
                }
            }
            (CaptureFocus::Notes, Action::EditTags) => {
                if let Some(note) = selected {
                    let line: Vec<String> = parse_inline(&note.body)
                        .into_iter()
                        .map(|s| s.tag.to_string())
                        .collect();
                    let mut input = editor("@persona #touchpoint !emotion +job =code");
                    input.insert_str(line.join(" "));
                    self.prompt = Some(Prompt {
                        purpose: PromptFor::Tags { note },
                        title: "The note's tags (Enter saves a new version)".into(),
                        input,
                    });
                }
            }
            (CaptureFocus::Notes, Action::CopyNote) => {
                if let Some(note) = selected {
                    self.clipboard = Some(note.body);
                    self.say(Level::Ok, "Copied the note to the clipboard");
                }
            }
            (CaptureFocus::Notes, Action::ExternalEdit) => {
                if let Some(note) = selected {
                    self.external = Some(ExternalEdit {
                        body: note.body.clone(),
                        note,
                    });
                }
            }
            (CaptureFocus::Notes, Action::Export) => {
                if let Some(s) = c.session.clone() {
                    let name = format!(
                        "{}-{}.md",
                        crate::model::normalize_name(&s.study),
                        s.started_at.with_timezone(&self.tz).format("%Y-%m-%d")
                    );
                    self.ask_export(
                        crate::io::ExportOptions {
                            scope: crate::io::Scope::Session(s.id),
                            redact: false,
                        },
                        &name,
                    );
                }
            }
            (CaptureFocus::Notes, nav) => Self::move_sel(&mut c.sel, c.notes.len(), nav),
            _ => {}
        }
        Vec::new()
    }

    fn ask_export(&mut self, options: crate::io::ExportOptions, name: &str) {
        let mut input = editor("file name: .md, .csv, .jsonl or .qdpx");
        input.insert_str(name);
        self.prompt = Some(Prompt {
            purpose: PromptFor::ExportPath { options },
            title: "Export to (the extension picks the format: .md .csv .jsonl .qdpx)".into(),
            input,
        });
    }

    /// What the event loop reports after `$EDITOR` exits.
    pub fn external_edit_done(
        &mut self,
        edit: ExternalEdit,
        result: Result<String, String>,
    ) -> Vec<Request> {
        match result {
            Err(message) => {
                self.say(Level::Error, message);
                Vec::new()
            }
            Ok(text) if text == edit.note.body => {
                self.say(Level::Info, "No change from the editor");
                Vec::new()
            }
            Ok(text) if text.trim().is_empty() => {
                self.say(
                    Level::Error,
                    "The editor left the note empty: nothing changed (Ctrl+D trashes a note)",
                );
                Vec::new()
            }
            Ok(text) => self.change_note(
                &edit.note.id,
                text,
                edit.note.kind,
                "Saving the edited note…",
            ),
        }
    }

    fn prompt_action(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Back => {
                self.prompt = None;
                Vec::new()
            }
            Action::Submit => {
                let Some(prompt) = self.prompt.take() else {
                    return Vec::new();
                };
                let text = text_of(&prompt.input).trim().to_owned();
                match prompt.purpose {
                    PromptFor::Tags { note } => {
                        let mut tags = Vec::new();
                        for word in text.split_whitespace() {
                            match Tag::parse_token(word) {
                                Some(tag) => tags.push(tag),
                                None => {
                                    self.say(Level::Error, format!("{word:?} is not a tag: start it with @ # ! + or = and a letter"));
                                    self.prompt = Some(Prompt {
                                        purpose: PromptFor::Tags { note },
                                        ..prompt
                                    });
                                    return Vec::new();
                                }
                            }
                        }
                        let body = retag(&note.body, &tags);
                        if body == note.body {
                            self.say(Level::Info, "The tags are unchanged");
                            return Vec::new();
                        }
                        self.change_note(&note.id, body, note.kind, "Saving the new tags…")
                    }
                    PromptFor::Contact { pseudonym } => vec![Request::SetContact {
                        pseudonym,
                        contact: text,
                    }],
                    PromptFor::ExportPath { options } => {
                        if text.is_empty() {
                            self.say(Level::Error, "Give the file a name");
                            return Vec::new();
                        }
                        let path = std::path::PathBuf::from(text);
                        self.say(Level::Info, format!("Exporting to {}…", path.display()));
                        vec![Request::Export { path, options }]
                    }
                }
            }
            _ => Vec::new(),
        }
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
            Some(e) => {
                let before = c
                    .notes
                    .iter()
                    .find(|n| n.id == e.id)
                    .map(|n| Undo::Changed {
                        id: n.id.clone(),
                        body: n.body.clone(),
                        kind: n.kind,
                    });
                let req = Request::EditNote {
                    id: e.id,
                    body,
                    kind: Some(c.kind),
                };
                set_text(&mut c.editor, &e.before);
                c.kind = e.before_kind;
                if let Some(step) = before {
                    self.remember(step);
                }
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
        let c = &mut self.capture;
        c.suggestions.clear();
        // Saving clears the stored draft itself; nothing is left to write.
        c.dirty_since = None;
        self.say(Level::Info, "Saving…");
        vec![request]
    }

    fn analyse(&mut self, query: String, filters: Filters, study: Option<String>) -> Vec<Request> {
        if self.view != View::Themes {
            self.themes_back = self.view;
        }
        self.view = View::Themes;
        self.analysing = true;
        self.say(
            Level::Info,
            match &study {
                Some(s) => format!("Analysing {s}…"),
                None => "Analysing…".into(),
            },
        );
        vec![Request::Analyse {
            query,
            filters,
            study,
        }]
    }

    fn themes_action(&mut self, action: Action) -> Vec<Request> {
        if action == Action::Back {
            self.view = self.themes_back;
            if self.view == View::Home {
                return vec![Request::Sessions];
            }
            return Vec::new();
        }
        if action == Action::StudyScope {
            self.themes_study = self.next_study(self.themes_study.as_deref());
            let (query, filters) = match (&self.themes, self.themes_back) {
                (Some(t), View::Search) => (t.analysis.query.clone(), self.search_filters()),
                _ => (String::new(), Filters::default()),
            };
            let study = self.themes_study.clone();
            return self.analyse(query, filters, study);
        }
        let Some(t) = self.themes.as_mut() else {
            return Vec::new();
        };
        let rows = match t.tab {
            ThemeTab::Themes => t.analysis.themes.themes.len(),
            ThemeTab::Contrast => t.analysis.contrast.groups.len(),
            ThemeTab::Pains => t.analysis.pains.touchpoints.len(),
            ThemeTab::Journey => t.analysis.journey.points.len(),
        };
        match action {
            Action::NextTab => {
                t.tab = t.tab.step(1);
                t.sel = 0;
            }
            Action::PrevTab => {
                t.tab = t.tab.step(-1);
                t.sel = 0;
            }
            Action::Open if t.tab == ThemeTab::Themes => {
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

    fn trash_action(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Back => {
                self.view = View::Home;
                vec![Request::Sessions]
            }
            Action::RestoreSelected => match self.trash.get(self.trash_sel) {
                Some(note) => vec![Request::Restore(note.id.clone())],
                None => {
                    self.say(Level::Info, "The trash is empty");
                    Vec::new()
                }
            },
            nav => {
                Self::move_sel(&mut self.trash_sel, self.trash.len(), nav);
                Vec::new()
            }
        }
    }

    fn participants_action(&mut self, action: Action) -> Vec<Request> {
        let selected = self.participants.get(self.participants_sel).cloned();
        match action {
            Action::Back => {
                self.view = View::Home;
                vec![Request::Sessions]
            }
            Action::ToggleConsent => match selected {
                Some(p) => vec![Request::SetConsent {
                    pseudonym: p.pseudonym,
                    consent: !p.consent,
                }],
                None => Vec::new(),
            },
            Action::EditContact => {
                if let Some(p) = selected {
                    let mut input = editor("e-mail or phone (private: never exported)");
                    input.insert_str(p.contact.unwrap_or_default());
                    self.prompt = Some(Prompt {
                        title: format!("Contact for {}", p.pseudonym),
                        purpose: PromptFor::Contact {
                            pseudonym: p.pseudonym,
                        },
                        input,
                    });
                }
                Vec::new()
            }
            nav => {
                Self::move_sel(&mut self.participants_sel, self.participants.len(), nav);
                Vec::new()
            }
        }
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
                let card = v.state.scorecard.card.criterion(&criterion.id);
                let value = text_of(&v.answer).trim().to_owned();
                if value.is_empty() {
                    let hint = card.map(|c| c.scale.hint()).unwrap_or_default();
                    let na = if card.is_some_and(|c| c.na_allowed) {
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
                self.view = s.back;
                if self.view == View::Home {
                    return vec![Request::Sessions];
                }
            }
            (_, Action::Themes) => {
                let query = text_of(&s.query);
                let study = s.study.clone();
                let filters = self.search_filters();
                return self.analyse(query, filters, study);
            }
            (_, Action::FilterKind) => {
                s.kind = match s.kind {
                    None => Some(NoteKind::Observation),
                    Some(NoteKind::Interpretation) => None,
                    Some(k) => Some(k.next()),
                };
                return self.query_changed();
            }
            (_, Action::FilterStudy) => {
                self.search.study = self.next_study(self.search.study.as_deref());
                return self.query_changed();
            }
            (_, Action::FilterDate) => {
                s.since = (s.since + 1) % SINCE_DAYS.len();
                return self.query_changed();
            }
            (_, Action::Export) => {
                let ids: Vec<String> = s.results.hits.iter().map(|h| h.id.clone()).collect();
                if ids.is_empty() {
                    self.say(Level::Info, "No results to export");
                    return Vec::new();
                }
                let name = format!(
                    "search-{}.md",
                    self.now.with_timezone(&self.tz).format("%Y-%m-%d")
                );
                self.ask_export(
                    crate::io::ExportOptions {
                        scope: crate::io::Scope::Notes(ids),
                        redact: false,
                    },
                    &name,
                );
            }
            (SearchFocus::Query, Action::FocusNext) => {
                s.query.cancel_selection();
                s.focus = SearchFocus::Results;
            }
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

    /// Puts a note the worker just stored in place in the session's list.
    fn place_note(&mut self, note: Note) {
        let c = &mut self.capture;
        if c.session.as_ref().is_none_or(|s| s.id != note.session) {
            return;
        }
        c.notes.retain(|n| n.id != note.id);
        let at = c
            .notes
            .iter()
            .position(|n| (n.created_at, &n.id) > (note.created_at, &note.id))
            .unwrap_or(c.notes.len());
        c.notes.insert(at, note);
        c.sel = at;
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
                // The session with the newest unsaved draft reopens, draft and all.
                if let Some(draft) = drafts.first() {
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
                drafts,
                visit,
            } => return self.session_loaded(session, notes, drafts, visit),
            Response::SessionStarted(session) => {
                self.say(
                    Level::Ok,
                    format!("Started {} in {}", session.kind, session.study),
                );
                return vec![Request::Session(session.id), Request::Sessions];
            }
            Response::SessionEnded(s) => {
                if let Some(open) = self.capture.session.as_mut()
                    && open.id == s.id
                {
                    open.ended_at = s.ended_at;
                }
                self.say(
                    Level::Ok,
                    format!(
                        "Ended the session ({})",
                        count(s.note_count as usize, "note")
                    ),
                );
                return vec![Request::Sessions];
            }
            Response::NoteSaved(note) => {
                let tags: Vec<String> = note.tags.iter().map(Tag::to_string).collect();
                let msg = format!(
                    "Saved {}{}{}",
                    note.kind,
                    if tags.is_empty() { "" } else { " · " },
                    tags.join(" ")
                );
                let c = &mut self.capture;
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
                self.say(
                    Level::Ok,
                    "Saved a new version (Ctrl+Z undoes it, Ctrl+R shows the history)",
                );
            }
            Response::NoteTrashed(note) => {
                let c = &mut self.capture;
                c.notes.retain(|n| n.id != note.id);
                c.sel = c.sel.min(c.notes.len().saturating_sub(1));
                self.say(
                    Level::Ok,
                    "Moved the note to the trash: Ctrl+Z brings it back",
                );
            }
            Response::NoteRestored(note) => {
                self.trash.retain(|n| n.id != note.id);
                self.trash_sel = self.trash_sel.min(self.trash.len().saturating_sub(1));
                self.place_note(note);
                self.say(Level::Ok, "Brought the note back from the trash");
            }
            Response::TrashList(notes) => {
                self.trash = notes;
                self.trash_sel = self.trash_sel.min(self.trash.len().saturating_sub(1));
            }
            Response::Participants(list) => {
                self.participants = list;
                self.participants_sel = self
                    .participants_sel
                    .min(self.participants.len().saturating_sub(1));
            }
            Response::ParticipantSaved(p) => {
                let msg = match (&p.consent, &p.consent_date) {
                    (true, Some(date)) => format!("{}: consent recorded ({date})", p.pseudonym),
                    (true, None) => format!("{}: consent recorded", p.pseudonym),
                    (false, _) => format!("{}: no consent recorded", p.pseudonym),
                };
                if let Some(old) = self
                    .participants
                    .iter_mut()
                    .find(|o| o.pseudonym == p.pseudonym)
                {
                    *old = p;
                }
                self.say(Level::Ok, msg);
            }
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
            }
            Response::Answered { visit, note } => self.answered(*visit, note),
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
                        "{} over {} ({:.0}% of them in a theme)",
                        count(a.themes.themes.len(), "theme"),
                        count(a.themes.total_notes, "note"),
                        a.themes.coverage * 100.0
                    ),
                );
                self.themes = Some(ThemesView {
                    analysis: a,
                    tab: ThemeTab::Themes,
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
                let sel = versions.len().saturating_sub(1);
                self.overlay = Some(Overlay::History { id, versions, sel });
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
                c.dirty_since = Some(Instant::now());
                self.say(Level::Error, message);
            }
            Response::Failed(message) => {
                self.analysing = false;
                self.say(Level::Error, message);
            }
            Response::Fatal(message) => {
                tracing::error!("{message}");
                self.fatal = Some(message);
            }
            Response::WorkerDied { lane, message } => {
                tracing::error!(lane = lane.name(), "a worker stopped: {message}");
                if lane == super::worker::Lane::Capture {
                    self.fatal = Some(format!(
                        "the archive worker stopped on a bug ({message}). Every saved note is safe; the draft is as of its last save."
                    ));
                } else {
                    self.analysing = false;
                    self.say(
                        Level::Error,
                        format!(
                            "the {} worker stopped on a bug ({message}): restart the app to use it; capture still works",
                            lane.name()
                        ),
                    );
                }
            }
        }
        Vec::new()
    }

    fn session_loaded(
        &mut self,
        session: Session,
        notes: Vec<Note>,
        drafts: Vec<Draft>,
        visit: Option<Box<VisitState>>,
    ) -> Vec<Request> {
        let mut reqs = Vec::new();
        if self
            .capture
            .session
            .as_ref()
            .is_some_and(|s| s.id != session.id)
        {
            reqs.extend(self.draft_request());
        }
        let tz = self.tz;
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
        let mut restored = None;
        if !same {
            c.editing = None;
            c.suggestions.clear();
            c.dirty_since = None;
            c.undo.clear();
            let new_note = drafts.iter().find(|d| d.note.is_none());
            let edit = drafts.iter().find(|d| {
                d.note
                    .as_ref()
                    .is_some_and(|id| notes.iter().any(|n| &n.id == id))
            });
            set_text(&mut c.editor, new_note.map_or("", |d| d.body.as_str()));
            c.kind = new_note.map_or(NoteKind::Observation, |d| d.kind);
            if let Some(d) = edit {
                c.editing = Some(Editing {
                    id: d.note.clone().unwrap_or_default(),
                    before: text_of(&c.editor),
                    before_kind: c.kind,
                });
                set_text(&mut c.editor, &d.body);
                c.kind = d.kind;
                c.focus = CaptureFocus::Editor;
                restored = Some(format!(
                    "Edit restored (unsaved, from {}): Enter saves it, Esc cancels",
                    d.updated_at.with_timezone(&tz).format("%H:%M")
                ));
            } else if let Some(d) = new_note {
                restored = Some(format!(
                    "Draft restored (a new note, from {}): Enter saves it",
                    d.updated_at.with_timezone(&tz).format("%H:%M")
                ));
            }
        }
        c.notes = notes;
        c.session = Some(session);
        if let Some(msg) = restored {
            self.say(Level::Ok, msg);
        }
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
                && self.capture.editing.is_none()
            {
                self.view = View::Visit;
            }
        } else {
            self.visit = None;
        }
        reqs
    }

    fn answered(&mut self, state: VisitState, note: Option<Note>) {
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
            self.capture.dirty_since = None;
        }
        let Some(v) = self.visit.as_mut() else {
            return;
        };
        if v.state.session != state.session {
            return;
        }
        let answered = v.state.score.criteria.get(v.sel).map(|c| {
            let answer = state.answers.iter().find(|a| a.criterion == c.id);
            let shown = match (answer, state.scorecard.card.criterion(&c.id)) {
                (Some(a), _) if a.na => "N/A".to_owned(),
                (Some(a), Some(def)) => a.value.map(|x| def.scale.show(x)).unwrap_or_default(),
                _ => String::new(),
            };
            format!("{}: {shown}", c.id)
        });
        let total = state.score.criteria.len();
        // On to the next criterion still open, after this one first.
        let next = (1..=total)
            .map(|k| (v.sel + k) % total)
            .find(|&i| !state.score.criteria[i].answered);
        let msg = format!(
            "Answered {} · {}/{} answered · score {}",
            answered.unwrap_or_default(),
            state.score.answered,
            state.score.total,
            crate::mystery_shop::score_label(state.score.score)
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

/// "1 note", "2 notes".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The article for a word: "an observation", "a quote".
pub fn a_or_an(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn a_wide_space_in_the_search_box_is_a_space() {
        // U+3000 is three bytes, U+00A0 two: the word after them starts after the whole char.
        assert_eq!(
            while_typing("queue\u{3000}wai"),
            "queue\u{3000}(wai OR wai*)"
        );
        assert_eq!(while_typing("long\u{a0}wai"), "long\u{a0}(wai OR wai*)");
        assert_eq!(while_typing("\u{3000}"), "\u{3000}");
        assert_eq!(while_typing("漢字\u{3000}ab"), "漢字\u{3000}(ab OR ab*)");
    }

    #[test]
    fn overlays_scroll_up_with_up_and_down_with_down() {
        let mut app = App::new(Palette { color: false });
        app.overlay = Some(Overlay::Evidence {
            title: "t".into(),
            notes: Vec::new(),
            scroll: 5,
        });
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let scroll = |app: &App| match &app.overlay {
            Some(Overlay::Evidence { scroll, .. }) => *scroll,
            _ => unreachable!(),
        };
        app.handle_key(key(KeyCode::Up));
        assert_eq!(scroll(&app), 4);
        app.handle_key(key(KeyCode::Char('k')));
        assert_eq!(scroll(&app), 3);
        app.handle_key(key(KeyCode::Down));
        app.handle_key(key(KeyCode::Char('j')));
        assert_eq!(scroll(&app), 5);
        app.handle_key(key(KeyCode::PageUp));
        assert_eq!(scroll(&app), 0);
    }

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
