//! The capture view: a session's notes and the editor a new note is typed in, with the tag
//! list that completes tags as they are typed; edits, kinds, trash and undo of stored notes.

use std::time::Instant;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui_textarea::{CursorMove, TextArea};
use unicode_width::UnicodeWidthStr;

use super::common::{a_or_an, count, editor, move_sel, set_text, text_of};
use super::{View, ViewSpec, home, visit};
use crate::archive::VisitState;
use crate::model::{Note, NoteKind, Session, Tag, parse_inline};
use crate::store::Draft;
use crate::tui::app::{App, ExternalEdit, Level, Prompt, PromptFor};
use crate::tui::complete;
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::{Palette, kind_marker};
use crate::tui::ui::{block, tagged_line, when, wrap};
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "capture",
    context,
    act,
    type_key,
    paste,
    draw,
};

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

impl Capture {
    pub fn new(palette: Palette) -> Capture {
        let mut editor = editor("Type a note: @persona #touchpoint !emotion +job =code");
        editor.set_search_style(palette.typed_tag());
        // Colours tags as they are typed, by the tag grammar's own pattern.
        let _ = editor.set_search_pattern(crate::model::inline_token_pattern());
        Capture {
            session: None,
            notes: Vec::new(),
            editor,
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
        }
    }

    /// The draft of what is in the editor, now (also before leaving a session or quitting):
    /// of the new note, or of the edit in progress.
    pub fn draft_request(&mut self) -> Vec<Request> {
        let Some(session) = &self.session else {
            return Vec::new();
        };
        if self.dirty_since.take().is_none() {
            return Vec::new();
        }
        vec![Request::SaveDraft {
            session: session.id.clone(),
            note: self.editing.as_ref().map(|e| e.id.clone()),
            kind: self.kind,
            body: text_of(&self.editor),
        }]
    }

    /// After the editor's text changed: a draft is due, and the tag list follows the cursor.
    pub fn editor_changed(&mut self, tags: &[Tag]) {
        self.dirty_since.get_or_insert_with(Instant::now);
        self.suggestions = complete::at_cursor(&self.editor, tags);
        self.suggestion_sel = None;
    }

    fn accept_suggestion(&mut self, pick: usize, tags: &[Tag]) {
        let Some(tag) = self.suggestions.get(pick).cloned() else {
            return;
        };
        complete::take(&mut self.editor, &tag);
        self.editor_changed(tags);
        self.suggestions.clear();
    }

    fn remember(&mut self, step: Undo) {
        if self.undo.len() == UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push(step);
    }

    /// Puts a note the worker just stored in place in the session's list.
    pub fn place_note(&mut self, note: Note) {
        if self.session.as_ref().is_none_or(|s| s.id != note.session) {
            return;
        }
        self.notes.retain(|n| n.id != note.id);
        let at = self
            .notes
            .iter()
            .position(|n| (n.created_at, &n.id) > (note.created_at, &note.id))
            .unwrap_or(self.notes.len());
        self.notes.insert(at, note);
        self.sel = at;
    }

    /// Adds a note the worker saved to the list, if it is this session's.
    pub fn push_note(&mut self, note: Note) {
        if self.session.as_ref().is_some_and(|s| s.id == note.session) {
            self.notes.push(note);
            self.sel = self.notes.len() - 1;
        }
    }

    /// Only the focused editor shows its cursor.
    pub fn show_cursor(&mut self, focused: bool, on: Style, off: Style) {
        self.editor.set_cursor_style(if focused { on } else { off });
        self.editor.set_cursor_line_style(Style::new());
    }
}

fn context(app: &App) -> Context {
    let c = &app.capture;
    match c.focus {
        CaptureFocus::Editor if !c.suggestions.is_empty() => Context::TagList,
        CaptureFocus::Editor => Context::Editor,
        CaptureFocus::Notes => Context::NoteList,
    }
}

fn paste(app: &mut App, text: &str) -> Vec<Request> {
    app.capture.focus = CaptureFocus::Editor;
    app.capture.editor.insert_str(text);
    app.capture.editor_changed(&app.tags);
    Vec::new()
}

/// Keys that no binding claims: text for the editor.
fn type_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let ctx = context(app);
    let c = &mut app.capture;
    match ctx {
        // Typing in the note list goes on in the editor: a stray Esc never turns words
        // into commands on old notes.
        Context::NoteList => {
            let printable = matches!(key.code, KeyCode::Char(_))
                && !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
            if printable || key.code == KeyCode::Backspace {
                c.focus = CaptureFocus::Editor;
                c.editor.move_cursor(CursorMove::Bottom);
                c.editor.move_cursor(CursorMove::End);
                if c.editor.input(key) {
                    c.editor_changed(&app.tags);
                }
            }
        }
        _ => {
            if c.editor.input(key) {
                c.editor_changed(&app.tags);
            }
        }
    }
    Vec::new()
}

/// The tag list's keys (see `keymap`): Enter takes a tag only once the researcher has
/// moved into the list; otherwise the note is saved as typed.
pub(crate) fn tag_list_action(app: &mut App, action: Action) -> Vec<Request> {
    let c = &mut app.capture;
    let n = c.suggestions.len();
    match action {
        Action::Up => {
            c.suggestion_sel = Some(c.suggestion_sel.map_or(n - 1, |i| (i + n - 1) % n));
        }
        Action::Down => c.suggestion_sel = Some(c.suggestion_sel.map_or(0, |i| (i + 1) % n)),
        Action::TakeTag => {
            let pick = c.suggestion_sel.unwrap_or(0);
            c.accept_suggestion(pick, &app.tags);
        }
        Action::SaveNote => match c.suggestion_sel {
            Some(pick) => c.accept_suggestion(pick, &app.tags),
            None => {
                c.suggestions.clear();
                return app.act(Action::SaveNote);
            }
        },
        Action::Back => c.suggestions.clear(),
        other => return app.act(other),
    }
    Vec::new()
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let c = &mut app.capture;
    let selected = c.notes.get(c.sel).cloned();
    match (c.focus, action) {
        (CaptureFocus::Editor, Action::SaveNote) => return save_note(app),
        (CaptureFocus::Editor, Action::Newline) => {
            c.editor.insert_newline();
            c.editor_changed(&app.tags);
        }
        (CaptureFocus::Editor, Action::CycleKind) => {
            c.kind = c.kind.next();
            c.dirty_since.get_or_insert_with(Instant::now);
        }
        (_, Action::VisitView) => {
            if app.visit.is_some() {
                let reqs = c.draft_request();
                app.view = View::Visit;
                return reqs;
            }
            app.say(Level::Info, "This session has no scorecard");
        }
        (_, Action::EndSession) => {
            if let Some(s) = c.session.clone() {
                return home::end_session(app, &s);
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
                app.say(Level::Info, "Edit cancelled: the note is as it was");
                return clear.into_iter().collect();
            } else {
                c.focus = CaptureFocus::Notes;
            }
        }
        (CaptureFocus::Notes, Action::FocusNext) => c.focus = CaptureFocus::Editor,
        (CaptureFocus::Notes, Action::Back) => {
            let reqs = c.draft_request();
            app.view = View::Home;
            let mut all = vec![Request::Sessions];
            all.extend(reqs);
            return all;
        }
        (CaptureFocus::Notes, Action::EditNote) => {
            if let Some(note) = selected {
                if c.editing.is_some() {
                    app.say(
                        Level::Info,
                        "Finish the edit in the editor first (Enter saves, Esc cancels)",
                    );
                    return Vec::new();
                }
                // What was being typed is drafted first, then set aside for the edit.
                let reqs = c.draft_request();
                c.editing = Some(Editing {
                    id: note.id.clone(),
                    before: text_of(&c.editor),
                    before_kind: c.kind,
                });
                set_text(&mut c.editor, &note.body);
                c.kind = note.kind;
                c.focus = CaptureFocus::Editor;
                c.suggestions.clear();
                app.say(
                    Level::Info,
                    "Editing: Enter saves a new version, Esc cancels",
                );
                return reqs;
            }
        }
        (CaptureFocus::Notes, Action::ChangeKind) => {
            if let Some(note) = selected {
                let kind = note.kind.next();
                return change_note(
                    app,
                    &note.id,
                    note.body,
                    kind,
                    &format!("Changing it to {} {kind}…", a_or_an(kind.as_str())),
                );
            }
        }
        (CaptureFocus::Notes, Action::TrashNote) => {
            if let Some(note) = selected {
                c.remember(Undo::Trashed {
                    id: note.id.clone(),
                });
                return vec![Request::Trash(note.id)];
            }
        }
        (CaptureFocus::Notes, Action::Undo) => return undo(app),
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
                app.prompt = Some(Prompt::new(
                    PromptFor::Tags { note },
                    "The note's tags (Enter saves a new version)",
                    input,
                ));
            }
        }
        (CaptureFocus::Notes, Action::CopyNote) => {
            if let Some(note) = selected {
                app.clipboard = Some(note.body);
                app.say(Level::Ok, "Copied the note to the clipboard");
            }
        }
        (CaptureFocus::Notes, Action::ExternalEdit) => {
            if let Some(note) = selected {
                app.external = Some(ExternalEdit {
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
                    s.started_at.with_timezone(&app.tz).format("%Y-%m-%d")
                );
                app.ask_export(
                    crate::io::ExportOptions {
                        scope: crate::io::Scope::Session(s.id),
                        redact: false,
                        ..Default::default()
                    },
                    &name,
                );
            }
        }
        (CaptureFocus::Notes, nav) => move_sel(&mut c.sel, c.notes.len(), nav),
        _ => {}
    }
    Vec::new()
}

fn save_note(app: &mut App) -> Vec<Request> {
    let c = &mut app.capture;
    let body = text_of(&c.editor);
    if body.trim().is_empty() {
        app.say(Level::Info, "Nothing to save: type a note first");
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
                c.remember(step);
            }
            req
        }
        None => {
            let session = session.id.clone();
            set_text(&mut c.editor, "");
            Request::SaveNote {
                session,
                kind: c.kind,
                body,
            }
        }
    };
    c.suggestions.clear();
    // Saving clears the stored draft itself; nothing is left to write.
    c.dirty_since = None;
    app.say(Level::Info, "Saving…");
    vec![request]
}

/// A change to a stored note's text or kind, undoable (also from the history overlay, the
/// tags prompt and `$EDITOR`).
pub(crate) fn change_note(
    app: &mut App,
    id: &str,
    body: String,
    kind: NoteKind,
    say: &str,
) -> Vec<Request> {
    let c = &mut app.capture;
    let Some(before) = c.notes.iter().find(|n| n.id == id) else {
        app.say(
            Level::Error,
            "That note is not in this session's list any more",
        );
        return Vec::new();
    };
    let step = Undo::Changed {
        id: id.to_owned(),
        body: before.body.clone(),
        kind: before.kind,
    };
    c.remember(step);
    app.say(Level::Info, say);
    vec![Request::EditNote {
        id: id.to_owned(),
        body,
        kind: Some(kind),
    }]
}

fn undo(app: &mut App) -> Vec<Request> {
    match app.capture.undo.pop() {
        Some(Undo::Changed { id, body, kind }) => {
            app.say(
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
            app.say(Level::Info, "Undoing: the note comes back from the trash");
            vec![Request::Restore(id)]
        }
        None => {
            app.say(Level::Info, "Nothing to undo");
            Vec::new()
        }
    }
}

/// What the event loop reports after `$EDITOR` exits.
pub(crate) fn external_edit_done(
    app: &mut App,
    edit: ExternalEdit,
    result: Result<String, String>,
) -> Vec<Request> {
    match result {
        Err(message) => {
            app.say(Level::Error, message);
            Vec::new()
        }
        Ok(text) if text == edit.note.body => {
            app.say(Level::Info, "No change from the editor");
            Vec::new()
        }
        Ok(text) if text.trim().is_empty() => {
            app.say(
                Level::Error,
                "The editor left the note empty: nothing changed (Ctrl+D trashes a note)",
            );
            Vec::new()
        }
        Ok(text) => change_note(
            app,
            &edit.note.id,
            text,
            edit.note.kind,
            "Saving the edited note…",
        ),
    }
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn session_loaded(
    app: &mut App,
    session: Session,
    notes: Vec<Note>,
    drafts: Vec<Draft>,
    visit: Option<Box<VisitState>>,
) -> Vec<Request> {
    let mut reqs = Vec::new();
    let c = &mut app.capture;
    if c.session.as_ref().is_some_and(|s| s.id != session.id) {
        reqs.extend(c.draft_request());
    }
    let tz = app.tz;
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
        app.say(Level::Ok, msg);
    }
    app.view = View::Capture;
    visit::session_loaded(app, visit);
    reqs
}

pub(crate) fn note_saved(app: &mut App, note: Note) -> Vec<Request> {
    let tags: Vec<String> = note.tags.iter().map(Tag::to_string).collect();
    let msg = format!(
        "Saved {}{}{}",
        note.kind,
        if tags.is_empty() { "" } else { " · " },
        tags.join(" ")
    );
    app.capture.push_note(note);
    app.say(Level::Ok, msg);
    Vec::new()
}

pub(crate) fn note_edited(app: &mut App, note: Note, lost: usize) -> Vec<Request> {
    if let Some(n) = app.capture.notes.iter_mut().find(|n| n.id == note.id) {
        *n = note;
    }
    if lost > 0 {
        // Said as a warning: coded work is at stake, and undo brings the words back.
        app.say(
            Level::Error,
            format!(
                "Saved a new version; the edit lost {} (their words are gone): Ctrl+Z undoes it",
                count(lost, "coded passage")
            ),
        );
    } else {
        app.say(
            Level::Ok,
            "Saved a new version (Ctrl+Z undoes it, Ctrl+R shows the history)",
        );
    }
    Vec::new()
}

pub(crate) fn note_trashed(app: &mut App, note: Note) -> Vec<Request> {
    let c = &mut app.capture;
    c.notes.retain(|n| n.id != note.id);
    c.sel = c.sel.min(c.notes.len().saturating_sub(1));
    app.say(
        Level::Ok,
        "Moved the note to the trash: Ctrl+Z brings it back",
    );
    Vec::new()
}

pub(crate) fn save_failed(app: &mut App, body: String, message: String) -> Vec<Request> {
    // The note goes back into the editor, before anything typed since: no word is lost.
    let c = &mut app.capture;
    let current = text_of(&c.editor);
    let text = if current.trim().is_empty() {
        body
    } else {
        format!("{body}\n{current}")
    };
    set_text(&mut c.editor, &text);
    c.editor.move_cursor(CursorMove::Bottom);
    c.dirty_since = Some(Instant::now());
    app.say(Level::Error, message);
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let c = &app.capture;
    let Some(session) = &c.session else {
        return;
    };
    let editor_lines = (c.editor.lines().len() as u16).clamp(3, 8);
    let [header, notes_area, editor_area, tags_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(editor_lines + 2),
        Constraint::Length(1),
    ])
    .areas(area);

    let mut head = vec![
        Span::styled(
            format!(" {} ", session.kind),
            t.title().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(format!(" {}", session.study)),
    ];
    for part in [
        session.participants.join(", "),
        session.location.clone().unwrap_or_default(),
        session.channel.clone().unwrap_or_default(),
    ] {
        if !part.is_empty() {
            head.push(Span::styled(" · ", t.dim()));
            head.push(Span::raw(part));
        }
    }
    let clock = match session.ended_at {
        None => {
            let secs = (app.now - session.started_at).num_seconds().max(0);
            format!(
                "  ⏱ {:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            )
        }
        Some(end) => format!("  ended {}", when(app.tz, &end)),
    };
    head.push(Span::styled(clock, t.dim()));
    frame.render_widget(Paragraph::new(Line::from(head)), header);

    let focused = c.focus == CaptureFocus::Notes;
    let notes_block = block(t, format!(" Notes ({}) ", c.notes.len()), focused);
    let inner = notes_block.inner(notes_area);
    frame.render_widget(notes_block, notes_area);
    if c.notes.is_empty() {
        frame.render_widget(
            Paragraph::new("No notes yet: type below and press Enter.").style(t.dim()),
            inner,
        );
    } else {
        render_notes(frame, t, inner, &c.notes, c.sel, focused);
    }

    let title = match (&c.editing, c.kind) {
        (Some(_), kind) => format!(
            " Editing {} {kind} · Enter saves a new version · Esc cancels ",
            a_or_an(kind.as_str())
        ),
        (None, kind) => format!(" New {kind} · Ctrl+T changes kind "),
    };
    let editor_block = block(t, title, c.focus == CaptureFocus::Editor).title_style(t.kind(c.kind));
    let inner = editor_block.inner(editor_area);
    frame.render_widget(editor_block, editor_area);
    frame.render_widget(&c.editor, inner);

    let typed = c.editor.lines().join("\n");
    let mut tags: Vec<Span> = vec![Span::styled(" tags: ", t.dim())];
    let found = parse_inline(&typed);
    if found.is_empty() {
        tags.push(Span::styled(
            "none yet (@persona #touchpoint !emotion +job =code)",
            t.dim(),
        ));
    }
    for s in found {
        tags.push(Span::styled(s.tag.to_string(), t.facet(s.tag.facet)));
        tags.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(tags)), tags_area);

    if !c.suggestions.is_empty() && c.focus == CaptureFocus::Editor {
        let height = c.suggestions.len() as u16 + 2;
        let width = c
            .suggestions
            .iter()
            .map(|s| s.to_string().width())
            .max()
            .unwrap_or(8) as u16
            + 4;
        let ratatui_textarea::ScreenCursor { row, col, .. } = c.editor.screen_cursor();
        let x = (inner.x + col.min(200) as u16).min(area.right().saturating_sub(width));
        let y = (inner.y + row.min(50) as u16)
            .saturating_sub(height)
            .max(area.y);
        let rect = Rect {
            x,
            y,
            width: width.min(area.width),
            height: height.min(area.height),
        };
        frame.render_widget(Clear, rect);
        let lines: Vec<Line> = c
            .suggestions
            .iter()
            .enumerate()
            .map(|(i, tag)| {
                let style = if Some(i) == c.suggestion_sel {
                    t.selected()
                } else {
                    t.facet(tag.facet)
                };
                Line::styled(tag.to_string(), style)
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Tab takes · ↑↓ ")),
            rect,
        );
    }
}

/// How far into the session a note was taken, or that it is a memo.
fn offset(ms: Option<i64>) -> String {
    ms.map_or_else(|| "  memo".into(), crate::text::offset_label)
}

/// Notes as wrapped entries, scrolled so the selected one shows; the newest is at the bottom.
fn render_notes(
    frame: &mut Frame,
    t: Palette,
    area: Rect,
    notes: &[Note],
    sel: usize,
    focused: bool,
) {
    let offsets: Vec<String> = notes.iter().map(|n| offset(n.offset_ms)).collect();
    let offset_width = offsets.iter().map(String::len).max().unwrap_or(6);
    let prefix_width = 3 + offset_width + 1;
    let text_width = (area.width as usize).saturating_sub(prefix_width).max(8);
    let mut entries: Vec<Vec<Line>> = Vec::with_capacity(notes.len());
    for (i, n) in notes.iter().enumerate() {
        let selected = i == sel && focused;
        let base = if selected { t.selected() } else { Style::new() };
        let mut lines = Vec::new();
        for (j, piece) in wrap(&n.body, text_width).into_iter().enumerate() {
            let prefix = if j == 0 {
                vec![
                    Span::styled(format!("[{}]", kind_marker(n.kind)), t.kind(n.kind)),
                    Span::styled(format!("{:>offset_width$} ", offsets[i]), t.dim()),
                ]
            } else {
                vec![Span::raw(" ".repeat(prefix_width))]
            };
            let mut line = tagged_line(t, &piece, base);
            let mut spans = prefix;
            spans.append(&mut line.spans);
            line.spans = spans;
            lines.push(line);
        }
        entries.push(lines);
    }
    // Show the selected entry and as many before it as fit, newest at the bottom.
    let height = area.height as usize;
    let mut end = (sel + 1).min(entries.len());
    let mut used: usize = entries[..end]
        .iter()
        .rev()
        .scan(0, |acc, e| {
            *acc += e.len();
            Some(*acc)
        })
        .take_while(|&h| h <= height)
        .count();
    // Fill the space after the selection with the following notes when they fit.
    while end < entries.len()
        && entries[end - used..=end]
            .iter()
            .map(Vec::len)
            .sum::<usize>()
            <= height
    {
        end += 1;
        used += 1;
    }
    let start = end - used.max(1).min(end);
    let lines: Vec<Line> = entries[start..end].iter().flatten().cloned().collect();
    let skip = lines.len().saturating_sub(height);
    frame.render_widget(
        Paragraph::new(Text::from(lines.into_iter().skip(skip).collect::<Vec<_>>())),
        area,
    );
}
