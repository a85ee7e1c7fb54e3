//! Drawing: a function of the app's state, nothing else. This is the frame (title bar, the
//! focused view's body, status bar, overlays and prompts) and the helpers the views draw
//! with; each view draws its body in its own module (`views`).

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::app::{App, Level, Overlay};
use super::keymap::{self, Context};
use super::theme::{Palette, kind_marker};
use crate::model::{Note, parse_inline};

/// Below this the app shows a message instead of its views.
pub const MIN_WIDTH: u16 = 44;
pub const MIN_HEIGHT: u16 = 10;

pub fn render(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "fieldnotes: the window is {}x{}; make it at least {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    prepare_inputs(app);
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    title_bar(frame, app, top);
    if let Some(message) = &app.fatal {
        let p = Paragraph::new(format!("{message}\n\nPress any key to quit."))
            .style(app.palette.error())
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" cannot continue "));
        frame.render_widget(p, body);
        return;
    }
    if !app.opened {
        frame.render_widget(
            Paragraph::new("Opening the archive…").alignment(Alignment::Center),
            body,
        );
    } else {
        (app.view.spec().draw)(frame, app, body);
    }
    status_bar(frame, app, bottom);
    match &app.overlay {
        Some(Overlay::Help) => help(frame, app, body),
        Some(Overlay::History { id, versions, sel }) => {
            history(frame, app, body, id, versions, *sel)
        }
        Some(Overlay::Evidence { title, notes, sel }) => {
            evidence(frame, app, body, title, notes, *sel)
        }
        None => {}
    }
    if let Some(p) = &app.prompt {
        // A tag prompt shows its suggestions on a line under the text.
        let extra = u16::from(!p.suggestions.is_empty());
        let rect = overlay_rect(body, 80, 3 + extra);
        frame.render_widget(Clear, rect);
        let cancel = keymap::key_of(Context::Prompt, keymap::Action::Back);
        let b = block(
            app.palette,
            format!(" {} · {cancel} cancels ", p.title),
            true,
        );
        let inner = b.inner(rect);
        frame.render_widget(b, rect);
        let [input, list] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(extra)]).areas(inner);
        frame.render_widget(&p.input, input);
        if extra > 0 {
            let take = keymap::key_of(Context::Prompt, keymap::Action::TakeTag);
            let mut spans = vec![Span::styled(format!("{take} "), app.palette.key())];
            for tag in &p.suggestions {
                spans.push(Span::styled(tag.to_string(), app.palette.facet(tag.facet)));
                spans.push(Span::raw("  "));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), list);
        }
    }
}

/// The text inputs draw their own cursor: only the focused one shows it.
fn prepare_inputs(app: &mut App) {
    let ctx = app.context();
    let on = Style::new().add_modifier(Modifier::REVERSED);
    let off = Style::new();
    app.capture
        .show_cursor(matches!(ctx, Context::Editor | Context::TagList), on, off);
    app.search.show_cursor(ctx == Context::SearchQuery, on, off);
    app.form.show_cursor(ctx == Context::SessionForm, on, off);
    if let Some(p) = app.prompt.as_mut() {
        p.input.set_cursor_line_style(Style::new());
        p.input.set_cursor_style(on);
    }
}

fn title_bar(frame: &mut Frame, app: &App, area: Rect) {
    let view = app.view.spec().title;
    let line = Line::from(vec![
        Span::styled(
            " fieldnotes ",
            app.palette.title().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(format!(" {view}")),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// The status message (until it expires) and the view's main keys. The keys come first in
/// the space: a long message is cut rather than pushing them off the bar.
fn status_bar(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let mut hints = Vec::new();
    for (key, what) in keymap::hints(app.context()) {
        hints.push(Span::styled(format!(" {key}"), t.key()));
        hints.push(Span::raw(format!(" {what} ")));
    }
    let hints_width: usize = hints.iter().map(|s| s.content.width()).sum();
    let mut spans = Vec::new();
    if let Some(status) = &app.status {
        let style = match status.level {
            Level::Info => Style::new(),
            Level::Ok => t.ok(),
            Level::Error => t.error(),
        };
        // At least 30 columns for the message, even if that cuts the last hints.
        let room = (area.width as usize)
            .saturating_sub(hints_width + 3)
            .max(30);
        spans.push(Span::styled(
            format!(" {} ", fit(&status.text, room)),
            style,
        ));
        spans.push(Span::styled("│", t.dim()));
    }
    spans.extend(hints);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `text` cut to `width` columns, with `…` where it was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

pub(crate) fn block<'a>(palette: Palette, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    let b = Block::bordered().title(title);
    if focused {
        b.border_style(palette.focused_border())
            .border_type(BorderType::Thick)
    } else {
        b.border_style(palette.dim())
    }
}

pub(crate) fn when(tz: chrono::FixedOffset, t: &DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Word-wraps `text` to `width` columns.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let needed = if line.is_empty() {
                word.width()
            } else {
                line.width() + 1 + word.width()
            };
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if word.width() > width {
                for c in word.chars() {
                    if line.width() + c.to_string().width() > width {
                        lines.push(std::mem::take(&mut line));
                    }
                    line.push(c);
                }
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A line of note text with its inline tags coloured by facet (found by the one parser).
pub(crate) fn tagged_line<'a>(palette: Palette, text: &str, base: Style) -> Line<'a> {
    let mut spans = Vec::new();
    let mut at = 0;
    for span in parse_inline(text) {
        if span.range.start > at {
            spans.push(Span::styled(text[at..span.range.start].to_owned(), base));
        }
        spans.push(Span::styled(
            text[span.range.clone()].to_owned(),
            palette.facet(span.tag.facet),
        ));
        at = span.range.end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_owned(), base));
    }
    Line::from(spans)
}

fn overlay_rect(area: Rect, width: u16, height: u16) -> Rect {
    centered(
        area,
        width.min(area.width.saturating_sub(2)),
        height.min(area.height),
    )
}

fn help(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let ctx = app.base_context();
    // The names in brackets are the config file's, for rebinding a key (see the README).
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("Keys in {}", context_name(ctx)), t.title()),
            Span::styled(format!("  [keys.{}]", keymap::name_of(&ctx)), t.dim()),
        ]),
        Line::raw(""),
    ];
    for b in keymap::bindings(ctx) {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", b.label), t.key()),
            Span::styled(format!("{:<17}", keymap::name_of(&b.action)), t.dim()),
            Span::raw(b.help),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Everywhere: ? or F1 help · Esc back · q quit (Ctrl+Q while typing) · search: / or Ctrl+F",
        t.dim(),
    ));
    if matches!(ctx, Context::Editor | Context::TagList) {
        lines.push(Line::styled(
            "Typing @ # ! + = opens a list of existing tags: Tab takes the first (or the one chosen with ↑/↓); Enter takes it only after ↑/↓, otherwise it saves what you typed.",
            t.dim(),
        ));
        lines.push(Line::styled(
            "The draft is saved as you type (never more than a second behind) and comes back after a crash, edits of old notes included.",
            t.dim(),
        ));
    }
    let rect = overlay_rect(area, 90, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, " Help · Esc closes ", true)),
        rect,
    );
}

fn context_name(ctx: Context) -> &'static str {
    match ctx {
        Context::Home => "the session list",
        Context::SessionForm => "the new-session form",
        Context::Editor => "the note editor",
        Context::TagList => "the note editor, with the tag list open",
        Context::NoteList => "the session's notes",
        Context::SearchQuery => "the search box",
        Context::SearchResults => "the search results",
        Context::SearchFacets => "the tag counts",
        Context::Visit => "the visit's scorecard",
        Context::Report => "the mystery-shopping report",
        Context::Themes => "the themes view",
        Context::Trash => "the trash",
        Context::Participants => "the participants",
        Context::NoteText => "the note's text",
        Context::NotePassages => "the note's passages",
        Context::Codebook => "the codebook",
        Context::Cooccurrence => "the co-occurrence heat map",
        Context::Matrix => "the code matrix",
        Context::Measures => "the measures",
        Context::Overlay => "this window",
        Context::Evidence => "the notes behind a theme or a cell",
        Context::History => "the note's history",
        Context::Prompt => "this prompt",
    }
}

fn history(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    id: &str,
    versions: &[crate::model::Revision],
    sel: usize,
) {
    let t = app.palette;
    // The text is wrapped to the window it is drawn in, so no line is cut.
    let text_width = overlay_rect(area, 90, area.height).width.saturating_sub(6) as usize;
    let mut lines = vec![
        Line::styled(
            format!("Note {id} · ↑/↓ choose a version · Ctrl+R restores it"),
            t.dim(),
        ),
        Line::raw(""),
    ];
    let mut selected_line = 0;
    for (i, v) in versions.iter().enumerate() {
        let label = if i + 1 == versions.len() {
            "current"
        } else {
            "earlier"
        };
        let mut head = Line::from(vec![Span::styled(
            format!(
                "{} {label} · {} · {}",
                if i == sel { "▶" } else { " " },
                when(app.tz, &v.written_at),
                v.kind
            ),
            t.title(),
        )]);
        if i == sel {
            head = head.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(head);
        for piece in wrap(&v.body, text_width) {
            lines.push(tagged_line(t, &format!("  {piece}"), Style::new()));
        }
        lines.push(Line::raw(""));
    }
    let rect = overlay_rect(area, 90, lines.len() as u16 + 2);
    let visible = rect.height.saturating_sub(2) as usize;
    let scroll = selected_line.saturating_sub(visible.saturating_sub(4)) as u16;
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(block(t, " History · Esc closes ", true)),
        rect,
    );
}

fn evidence(frame: &mut Frame, app: &App, area: Rect, title: &str, notes: &[Note], sel: usize) {
    let t = app.palette;
    let width = area.width.saturating_sub(10) as usize;
    let mut lines = Vec::new();
    let mut selected_line = 0;
    for (i, n) in notes.iter().enumerate() {
        if i == sel {
            selected_line = lines.len();
        }
        for (j, piece) in wrap(&n.body, width).into_iter().enumerate() {
            let lead = if j == 0 {
                format!("[{}] ", kind_marker(n.kind))
            } else {
                "    ".into()
            };
            let mut line = tagged_line(t, &format!("{lead}{piece}"), Style::new());
            if i == sel && j == 0 {
                line = line.style(t.selected());
            }
            lines.push(line);
        }
        lines.push(Line::styled(
            format!("    {} · {}", when(app.tz, &n.created_at), n.id),
            t.dim(),
        ));
    }
    let rect = overlay_rect(area, area.width, area.height);
    // The selected note stays in sight, with a few lines of the ones before it.
    let visible = rect.height.saturating_sub(2) as usize;
    let scroll = selected_line.saturating_sub(visible.saturating_sub(4).min(3));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll as u16, 0))
            .block(block(
                t,
                format!(
                    " {title} · {} · ↑/↓ choose · Enter reads it · Esc closes ",
                    super::views::common::count(notes.len(), "note")
                ),
                true,
            )),
        rect,
    );
}
