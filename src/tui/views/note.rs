//! The note view: one note's whole text with a cursor, to select words and code them as a
//! passage, and the list of the note's passages (lost ones too) to take codes off.
//!
//! Every position here is a Unicode code point of the note's body, as `Archive::code_span`
//! and REFI-QDA count them: an emoji or a CJK character is one step of the cursor.

use std::cell::{Ref, RefCell};
use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::common::{count, editor, move_sel};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::model::{Note, Passage};
use crate::tui::app::{App, Level, Prompt, PromptFor, typed_tags};
use crate::tui::keymap::{self, Action, Context};
use crate::tui::theme::kind_marker;
use crate::tui::ui::{block, fit, when};
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "note",
    context,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteFocus {
    Text,
    Passages,
}

pub struct NoteView {
    pub note: Note,
    /// The body's code points: the cursor and the selection index them.
    chars: Vec<char>,
    pub passages: Vec<Passage>,
    /// Where the cursor is: before code point `cursor` (the body's length: after the end).
    pub cursor: usize,
    /// Where the selection started; it runs to the cursor.
    pub anchor: Option<usize>,
    /// A selection started with `v`: plain motions extend it (as in vi's visual mode).
    visual: bool,
    pub focus: NoteFocus,
    pub passage_sel: usize,
    /// Where Esc returns to.
    pub back: View,
    /// The body's visual lines at the width last drawn: every frame asks for them, and they
    /// change only with the text (a new `NoteView`) or the width.
    wrapped: RefCell<Option<(usize, Vec<Range<usize>>)>>,
}

impl NoteView {
    pub fn new(note: Note, passages: Vec<Passage>, back: View) -> NoteView {
        NoteView {
            chars: note.body.chars().collect(),
            note,
            passages,
            cursor: 0,
            anchor: None,
            visual: false,
            focus: NoteFocus::Text,
            passage_sel: 0,
            back,
            wrapped: RefCell::new(None),
        }
    }

    /// The body's visual lines at `width` columns (see `visual_lines`), wrapped again only
    /// when the width changed.
    fn lines_at(&self, width: usize) -> Ref<'_, [Range<usize>]> {
        let stale = !matches!(&*self.wrapped.borrow(), Some((w, _)) if *w == width);
        if stale {
            *self.wrapped.borrow_mut() = Some((width, visual_lines(&self.chars, width)));
        }
        Ref::map(self.wrapped.borrow(), |w| {
            w.as_ref().map_or(&[][..], |(_, lines)| &lines[..])
        })
    }

    /// The selected code points, without the spaces at either end; None when nothing but
    /// spaces is selected.
    pub fn selection(&self) -> Option<Range<usize>> {
        let anchor = self.anchor?;
        let (mut lo, mut hi) = (anchor.min(self.cursor), anchor.max(self.cursor));
        while lo < hi && self.chars[lo].is_whitespace() {
            lo += 1;
        }
        while hi > lo && self.chars[hi - 1].is_whitespace() {
            hi -= 1;
        }
        (lo < hi).then_some(lo..hi)
    }

    /// Moves the cursor; `extend` keeps (or starts) the selection, otherwise a selection not
    /// started with `v` is dropped.
    fn motion(&mut self, to: usize, extend: bool) {
        if extend {
            self.anchor.get_or_insert(self.cursor);
        } else if !self.visual {
            self.anchor = None;
        }
        self.cursor = to.min(self.chars.len());
    }
}

/// Whether a character belongs to a word for `w`/`b`: letters, digits, marks, emoji and
/// CJK, and the joiners inside words and tags; not spaces or punctuation between words.
fn in_word(c: char) -> bool {
    if c.is_whitespace() {
        return false;
    }
    if c.is_ascii() {
        return c.is_alphanumeric() || matches!(c, '\'' | '-' | '_' | '@' | '#' | '+' | '=');
    }
    !matches!(
        c,
        '“' | '”' | '‘' | '«' | '»' | '…' | '—' | '–' | '。' | '、' | '，' | '！' | '？'
    )
}

/// The end of the word at `at` or of the next one.
pub fn word_end(chars: &[char], at: usize) -> usize {
    let mut i = at;
    while i < chars.len() && !in_word(chars[i]) {
        i += 1;
    }
    while i < chars.len() && in_word(chars[i]) {
        i += 1;
    }
    i
}

/// The start of the word before `at` (or of the one `at` is inside).
pub fn word_start(chars: &[char], at: usize) -> usize {
    let mut i = at.min(chars.len());
    while i > 0 && !in_word(chars[i - 1]) {
        i -= 1;
    }
    while i > 0 && in_word(chars[i - 1]) {
        i -= 1;
    }
    i
}

/// The key for `action` in the text, as the key table (maybe rebound) has it.
fn key(action: Action) -> &'static str {
    keymap::key_of(Context::NoteText, action)
}

fn context(app: &App) -> Context {
    match app.note.as_ref().map(|n| n.focus) {
        Some(NoteFocus::Passages) => Context::NotePassages,
        _ => Context::NoteText,
    }
}

/// Asks the worker for a note and its passages; the view opens when they arrive.
pub(crate) fn open(id: &str) -> Vec<Request> {
    vec![Request::OpenNote(id.to_owned())]
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let Some(n) = app.note.as_mut() else {
        app.view = View::Home;
        return vec![Request::Sessions];
    };
    let len = n.chars.len();
    match (n.focus, action) {
        (_, Action::Back) => {
            app.view = n.back;
            app.note = None;
            if app.view == View::Home {
                return vec![Request::Sessions];
            }
        }
        (NoteFocus::Text, Action::FocusNext) => n.focus = NoteFocus::Passages,
        (NoteFocus::Passages, Action::FocusNext) => n.focus = NoteFocus::Text,
        (NoteFocus::Text, Action::OpenSession) => {
            app.capture.focus_note = Some(n.note.id.clone());
            return vec![Request::Session(n.note.session.clone())];
        }
        (NoteFocus::Text, Action::Select) => {
            if n.anchor.take().is_none() {
                n.anchor = Some(n.cursor);
                n.visual = true;
            } else {
                n.visual = false;
            }
        }
        (NoteFocus::Text, Action::CodeSelection) => return ask_code(app),
        (NoteFocus::Text, motion) => {
            let (to, extend) = match motion {
                Action::CharLeft => (n.cursor.saturating_sub(1), false),
                Action::CharRight => (n.cursor + 1, false),
                Action::WordLeft => (word_start(&n.chars, n.cursor), false),
                Action::WordRight => (word_end(&n.chars, n.cursor), false),
                Action::TextStart => (0, false),
                Action::TextEnd => (len, false),
                Action::ExtendLeft => (n.cursor.saturating_sub(1), true),
                Action::ExtendRight => (n.cursor + 1, true),
                Action::ExtendWordLeft => (word_start(&n.chars, n.cursor), true),
                Action::ExtendWordRight => (word_end(&n.chars, n.cursor), true),
                Action::ExtendStart => (0, true),
                Action::ExtendEnd => (len, true),
                _ => return Vec::new(),
            };
            n.motion(to, extend);
        }
        (NoteFocus::Passages, Action::Uncode) => {
            let Some(p) = n.passages.get(n.passage_sel) else {
                app.say(
                    Level::Info,
                    format!(
                        "The note has no passages yet: select words, then {}",
                        key(Action::CodeSelection)
                    ),
                );
                return Vec::new();
            };
            return vec![Request::Uncode {
                note: p.note.clone(),
                tag: p.tag.clone(),
                range: p.start..p.end,
                coder: p.coder.clone(),
            }];
        }
        (NoteFocus::Passages, Action::Open) => {
            // The passage's words become the selection, in the text.
            if let Some(p) = n.passages.get(n.passage_sel) {
                n.anchor = Some(p.start.min(len));
                n.cursor = p.end.min(len);
                n.visual = true;
                n.focus = NoteFocus::Text;
            }
        }
        (NoteFocus::Passages, nav) => move_sel(&mut n.passage_sel, n.passages.len(), nav),
    }
    Vec::new()
}

/// `c`: the tag prompt for the selected words, or what to do first.
fn ask_code(app: &mut App) -> Vec<Request> {
    let Some(n) = app.note.as_ref() else {
        return Vec::new();
    };
    let Some(range) = n.selection() else {
        app.say(
            Level::Info,
            format!(
                "Select words first: {} (or {}), then move with {} {} {}",
                key(Action::Select),
                key(Action::ExtendRight),
                key(Action::CharRight),
                key(Action::WordRight),
                key(Action::TextEnd)
            ),
        );
        return Vec::new();
    };
    // Without a coder nothing can be coded: said now, before any tag is typed.
    if let Err(why) = &app.coder {
        let why = why.clone();
        app.say(Level::Error, why);
        return Vec::new();
    }
    let quoted: String = n.chars[range.clone()].iter().collect();
    let title = format!("Code “{}” with (e.g. =wait-time)", fit(&quoted, 40));
    let mut input = editor("=code #touchpoint … (Tab takes the suggestion)");
    input.insert_str("=");
    let mut prompt = Prompt::new(
        PromptFor::Code {
            note: n.note.id.clone(),
            range,
        },
        title,
        input,
    );
    prompt.text_changed(&app.tags);
    app.prompt = Some(prompt);
    Vec::new()
}

/// The tag prompt's Enter: one `code_span` per tag typed.
pub(crate) fn code_submitted(
    app: &mut App,
    note: String,
    range: Range<usize>,
    text: &str,
) -> Result<Vec<Request>, String> {
    let tags = typed_tags(text)?;
    if tags.is_empty() {
        app.say(Level::Info, "Nothing coded: type a tag such as =wait-time");
        return Ok(Vec::new());
    }
    let coder = app.coder.clone()?;
    app.say(Level::Info, "Coding…");
    Ok(vec![Request::CodeSpan {
        note,
        tags,
        range,
        coder,
    }])
}

// ---- worker responses --------------------------------------------------------------------

/// A note arrives (opened, or again after a coding change): shown with its passages.
pub(crate) fn opened(
    app: &mut App,
    note: Note,
    passages: Vec<Passage>,
    said: Option<String>,
) -> Vec<Request> {
    match app.note.as_mut() {
        Some(n) if n.note.id == note.id && app.view == View::Note => {
            // The cursor, focus and passage stay where they were; the coded selection is
            // done with.
            let mut fresh = NoteView::new(note, passages, n.back);
            fresh.cursor = n.cursor.min(fresh.chars.len());
            fresh.focus = n.focus;
            fresh.passage_sel = n.passage_sel.min(fresh.passages.len().saturating_sub(1));
            *n = fresh;
        }
        _ => {
            let back = if app.view == View::Note {
                app.note.as_ref().map_or(View::Home, |n| n.back)
            } else {
                app.view
            };
            app.note = Some(NoteView::new(note, passages, back));
            app.view = View::Note;
        }
    }
    if let Some(said) = said {
        app.say(Level::Ok, said);
    }
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

/// The body's visual lines at `width` columns, as code-point ranges (a line's `\n` is in no
/// range). Lines break after the last space that fits, or inside a word longer than a line.
pub fn visual_lines(chars: &[char], width: usize) -> Vec<Range<usize>> {
    let width = width.max(2);
    let cols = |c: char| c.width().unwrap_or(0);
    let mut lines = Vec::new();
    let (mut start, mut col, mut space) = (0, 0, None);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            lines.push(start..i);
            (start, col, space) = (i + 1, 0, None);
            i += 1;
            continue;
        }
        if col + cols(c) > width && i > start {
            let at = match space {
                Some(s) if s + 1 > start => s + 1,
                _ => i,
            };
            lines.push(start..at);
            start = at;
            col = chars[start..i].iter().map(|&c| cols(c)).sum();
            space = None;
            continue;
        }
        if c.is_whitespace() {
            space = Some(i);
        }
        col += cols(c);
        i += 1;
    }
    lines.push(start..chars.len());
    lines
}

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let Some(n) = app.note.as_ref() else {
        return;
    };
    let listed = n.passages.len().max(1) as u16;
    let [head, text_area, list_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length((listed + 2).min(area.height / 2).max(3)),
    ])
    .areas(area);

    let session = app.sessions.iter().find(|s| s.id == n.note.session);
    let mut who = vec![
        Span::styled(
            format!("[{}] {}", kind_marker(n.note.kind), n.note.kind),
            t.kind(n.note.kind),
        ),
        Span::styled(format!(" · {}", when(app.tz, &n.note.created_at)), t.dim()),
    ];
    if let Some(s) = session {
        who.push(Span::styled(
            format!(" · {} · {}", s.kind, s.study),
            t.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(who)), head);

    let focused = n.focus == NoteFocus::Text;
    let code = key(Action::CodeSelection);
    let title = match n.selection() {
        Some(r) => format!(
            " Note · {} selected ({}..{}) · {code} codes it ",
            count(r.len(), "character"),
            r.start,
            r.end
        ),
        None if n.anchor.is_some() => format!(" Note · selecting: move to extend, {code} codes "),
        None => format!(" Note · {} selects, {code} codes ", key(Action::Select)),
    };
    let b = block(t, title, focused);
    let inner = b.inner(text_area);
    frame.render_widget(b, text_area);
    // Only the rows in sight are styled: the cursor's row, and the ones before it that fit.
    let lines = n.lines_at(inner.width as usize);
    let cursor_line = lines
        .partition_point(|r| r.start <= n.cursor)
        .saturating_sub(1);
    let first = cursor_line.saturating_sub(inner.height.saturating_sub(1) as usize);
    let shown = &lines[first..lines.len().min(first + inner.height as usize)];
    let selection = n.anchor.map(|a| a.min(n.cursor)..a.max(n.cursor));
    let style_at = |i: usize| {
        let mut s = Style::new();
        if n.passages
            .iter()
            .any(|p| !p.lost && (p.start..p.end).contains(&i))
        {
            s = s.patch(t.passage());
        }
        if selection.as_ref().is_some_and(|r| r.contains(&i)) {
            s = s.patch(t.selected());
        }
        if focused && i == n.cursor {
            s = s.patch(t.cursor());
        }
        s
    };
    let mut drawn = Vec::with_capacity(shown.len());
    for range in shown {
        let mut spans: Vec<Span> = Vec::new();
        let mut run = String::new();
        let mut run_style = Style::new();
        for i in range.clone() {
            let s = style_at(i);
            if s != run_style && !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), run_style));
            }
            run_style = s;
            run.push(n.chars[i]);
        }
        if !run.is_empty() {
            spans.push(Span::styled(run, run_style));
        }
        // A cursor on a line break or after the last character shows as a block there.
        let ends_here = range.end == n.chars.len() || n.chars.get(range.end) == Some(&'\n');
        if focused && ends_here && n.cursor == range.end {
            spans.push(Span::styled(" ", t.cursor()));
        }
        drawn.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(drawn), inner);

    passages(frame, app, n, list_area);
}

/// The note's passages: code, coder, the coded words, and "lost" for those an edit removed.
fn passages(frame: &mut Frame, app: &App, n: &NoteView, area: Rect) {
    let t = app.palette;
    let focused = n.focus == NoteFocus::Passages;
    let b = block(t, format!(" Passages ({}) ", n.passages.len()), focused);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    if n.passages.is_empty() {
        let how = format!(
            "None yet: select words in the text ({}, then {} {} {}) and press {}.",
            key(Action::Select),
            key(Action::CharRight),
            key(Action::WordRight),
            key(Action::TextEnd),
            key(Action::CodeSelection)
        );
        frame.render_widget(Paragraph::new(how).style(t.dim()), inner);
        return;
    }
    let visible = inner.height.max(1) as usize;
    let first = n.passage_sel.saturating_sub(visible - 1);
    let width = inner.width as usize;
    let lines: Vec<Line> = n
        .passages
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, p)| {
            let tag = p.tag.to_string();
            let coder = format!(" {} ", p.coder);
            let at = format!(" {}..{}", p.start, p.end);
            let lost = if p.lost { " lost" } else { "" };
            // The words on one line, in the columns the rest leaves (quotes included).
            let used = tag.width() + coder.width() + at.len() + lost.len() + 2;
            let words = crate::text::one_line(&p.text);
            let mut line = Line::from(vec![
                Span::styled(tag, t.facet(p.tag.facet)),
                Span::styled(coder, t.dim()),
                Span::raw(format!(
                    "“{}”",
                    fit(&words, width.saturating_sub(used).max(1))
                )),
                Span::styled(at, t.dim()),
                Span::styled(lost, t.error()),
            ]);
            if focused && i == n.passage_sel {
                line = line.style(t.selected());
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn words_are_found_in_code_points() {
        let c = chars("😀 排队 we queued, for ages");
        assert_eq!(word_end(&c, 0), 1, "an emoji is a word of one code point");
        assert_eq!(word_end(&c, 1), 4, "CJK without spaces is one word");
        assert_eq!(word_end(&c, 4), 7);
        assert_eq!(word_end(&c, 7), 14, "the comma is not part of the word");
        assert_eq!(word_start(&c, 14), 8);
        assert_eq!(word_start(&c, 8), 5);
        assert_eq!(word_start(&c, 0), 0);
        assert_eq!(word_end(&c, c.len()), c.len());
    }

    #[test]
    fn lines_wrap_at_spaces_by_display_width() {
        let c = chars("排队排队 ab cd\nef");
        // 排队排队 is 8 columns wide.
        let lines = visual_lines(&c, 9);
        assert_eq!(lines, [0..5, 5..10, 11..13]);
        let long = chars("abcdefgh");
        assert_eq!(visual_lines(&long, 3), [0..3, 3..6, 6..8]);
        assert_eq!(visual_lines(&[], 5), vec![Range { start: 0, end: 0 }]);
    }

    fn note(body: &str) -> Note {
        let now = chrono::Utc::now();
        Note {
            id: "n".into(),
            session: "s".into(),
            kind: crate::model::NoteKind::Observation,
            body: body.into(),
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            offset_ms: None,
            deleted_at: None,
        }
    }

    /// The text panel of a note view drawn at `width` x `height`.
    fn drawn(v: NoteView, width: u16, height: u16) -> String {
        let mut app = App::new(crate::tui::theme::Palette::plain());
        app.opened = true;
        app.view = View::Note;
        app.note = Some(v);
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| crate::tui::ui::render(f, &mut app))
            .unwrap();
        terminal.backend().to_string()
    }

    #[test]
    fn a_long_note_scrolls_to_keep_the_cursor_in_sight() {
        let body: String = (1..=60).map(|i| format!("word{i:02} ")).collect();
        let mut v = NoteView::new(note(body.trim_end()), Vec::new(), View::Home);
        let screen = drawn(
            NoteView::new(v.note.clone(), Vec::new(), View::Home),
            44,
            12,
        );
        assert!(screen.contains("word01"), "{screen}");
        v.cursor = v.chars.len();
        let screen = drawn(v, 44, 12);
        assert!(screen.contains("word60"), "{screen}");
        assert!(!screen.contains("word01"), "{screen}");
    }

    #[test]
    fn a_passage_over_a_line_break_is_listed_on_one_line() {
        let body = "排队排队排队 at the\ntill, again";
        let passage = Passage {
            id: 1,
            note: "n".into(),
            tag: crate::model::Tag::parse_token("=wait-time").unwrap(),
            start: 7,
            end: 18,
            text: "at the\ntill".into(),
            coder: "排队".into(),
            lost: false,
            created_at: chrono::Utc::now(),
        };
        let screen = drawn(NoteView::new(note(body), vec![passage], View::Home), 44, 12);
        assert!(
            screen.contains("│=wait-time 排队 “at the till” 7..18"),
            "{screen}"
        );
    }

    #[test]
    fn a_selection_leaves_out_the_spaces_at_its_ends() {
        let mut v = NoteView::new(note(" a b "), Vec::new(), View::Home);
        v.anchor = Some(0);
        v.cursor = 5;
        assert_eq!(v.selection(), Some(1..4));
        v.cursor = 1;
        assert_eq!(v.selection(), None);
    }
}
