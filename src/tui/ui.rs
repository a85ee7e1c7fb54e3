//! Drawing: a function of the app's state, nothing else.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};
use unicode_width::UnicodeWidthStr;

use super::app::{
    App, CaptureFocus, FORM_FIELDS, FORM_SLOTS, FormSlot, Level, Overlay, SINCE_DAYS, SearchFocus,
    View, VisitFocus, a_or_an, count,
};
use super::keymap::{self, Context};
use super::theme::{Palette, kind_marker};
use crate::model::{Note, Tag, parse_inline};
use crate::mystery_shop::score_label;

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
        match app.view {
            View::Home => home(frame, app, body),
            View::NewSession => {
                home(frame, app, body);
                session_form(frame, app, body);
            }
            View::Capture => capture(frame, app, body),
            View::Search => search(frame, app, body),
            View::Visit => visit(frame, app, body),
            View::Report => report(frame, app, body),
            View::Themes => themes(frame, app, body),
            View::Trash => trash(frame, app, body),
            View::Participants => participants(frame, app, body),
        }
    }
    status_bar(frame, app, bottom);
    match &app.overlay {
        Some(Overlay::Help) => help(frame, app, body),
        Some(Overlay::History { id, versions, sel }) => {
            history(frame, app, body, id, versions, *sel)
        }
        Some(Overlay::Evidence {
            title,
            notes,
            scroll,
        }) => evidence(frame, app, body, title, notes, *scroll),
        None => {}
    }
    if let Some(p) = &app.prompt {
        let rect = overlay_rect(body, 80, 3);
        frame.render_widget(Clear, rect);
        let b = block(app.palette, format!(" {} · Esc cancels ", p.title), true);
        let inner = b.inner(rect);
        frame.render_widget(b, rect);
        frame.render_widget(&p.input, inner);
    }
}

/// The text inputs draw their own cursor: only the focused one shows it.
fn prepare_inputs(app: &mut App) {
    let ctx = app.context();
    let on = Style::new().add_modifier(Modifier::REVERSED);
    let off = Style::new();
    app.capture
        .editor
        .set_cursor_style(if matches!(ctx, Context::Editor | Context::TagList) {
            on
        } else {
            off
        });
    app.capture.editor.set_cursor_line_style(Style::new());
    app.search
        .query
        .set_cursor_style(if ctx == Context::SearchQuery { on } else { off });
    app.search.query.set_cursor_line_style(Style::new());
    let typing_in = app.form.slot();
    for (i, f) in app.form.fields.iter_mut().enumerate() {
        f.set_cursor_line_style(Style::new());
        f.set_cursor_style(
            if ctx == Context::SessionForm && typing_in == FormSlot::Text(i) {
                on
            } else {
                off
            },
        );
    }
    if let Some(p) = app.prompt.as_mut() {
        p.input.set_cursor_line_style(Style::new());
        p.input.set_cursor_style(on);
    }
}

fn title_bar(frame: &mut Frame, app: &App, area: Rect) {
    let view = match app.view {
        View::Home => "sessions",
        View::NewSession => "new session",
        View::Capture => "capture",
        View::Search => "search",
        View::Visit => "mystery-shop visit",
        View::Themes => "themes",
        View::Report => "mystery-shopping report",
        View::Trash => "trash",
        View::Participants => "participants",
    };
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

fn block<'a>(palette: Palette, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    let b = Block::bordered().title(title);
    if focused {
        b.border_style(palette.focused_border())
            .border_type(BorderType::Thick)
    } else {
        b.border_style(palette.dim())
    }
}

fn when(tz: chrono::FixedOffset, t: &DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn home(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let outer = block(t, " Sessions, newest first ", app.view == View::Home);
    if app.sessions.is_empty() {
        let p = Paragraph::new(
            "No sessions yet.\n\nPress n to start one (an interview, an observation, a mystery-shop visit…),\nor quit and run `fieldnotes demo` to explore a sample archive.",
        )
        .wrap(Wrap { trim: true })
        .block(outer);
        frame.render_widget(p, area);
        return;
    }
    let header = Row::new([
        "Started",
        "Kind",
        "Study",
        "Participants",
        "Location",
        "Notes",
        "",
    ])
    .style(t.title());
    let rows = app.sessions.iter().map(|s| {
        Row::new(vec![
            Cell::from(when(app.tz, &s.started_at)),
            Cell::from(s.kind.as_str()),
            Cell::from(s.study.clone()),
            Cell::from(s.participants.join(", ")),
            Cell::from(s.location.clone().unwrap_or_default()),
            Cell::from(format!("{:>5}", s.note_count)),
            Cell::from(if s.ended_at.is_none() { "open" } else { "" }).style(t.ok()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(12),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(4),
        ],
    )
    .header(header)
    .row_highlight_style(t.selected())
    .block(outer);
    let mut state = TableState::default().with_selected(Some(app.home_sel));
    frame.render_stateful_widget(table, area, &mut state);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn session_form(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let rect = centered(area, 60, 3 * FORM_SLOTS.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let outer = block(t, " Start a session ", true);
    let inner = outer.inner(rect);
    frame.render_widget(outer, rect);
    let mut constraints = vec![Constraint::Length(3); FORM_SLOTS.len()];
    constraints.push(Constraint::Min(0));
    let rows = Layout::vertical(constraints).split(inner);
    let choice = |value: &str| {
        Line::from(vec![
            Span::raw("◀ "),
            Span::styled(value.to_owned(), t.title()),
            Span::raw(" ▶"),
        ])
    };
    for (row, slot) in FORM_SLOTS.iter().enumerate() {
        let focused = app.form.focus == row;
        match *slot {
            FormSlot::Kind => frame.render_widget(
                Paragraph::new(choice(app.form.kind.as_str())).block(block(
                    t,
                    " Kind (←/→) ",
                    focused,
                )),
                rows[row],
            ),
            FormSlot::Consent => frame.render_widget(
                Paragraph::new(choice(if app.form.consent {
                    "given today (recorded with the date)"
                } else {
                    "not given (left out of redacted exports)"
                }))
                .block(block(t, " Participant's consent (←/→) ", focused)),
                rows[row],
            ),
            FormSlot::Text(i) => {
                let b = block(t, format!(" {} ", FORM_FIELDS[i]), focused);
                let inner = b.inner(rows[row]);
                frame.render_widget(b, rows[row]);
                frame.render_widget(&app.form.fields[i], inner);
            }
        }
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
fn tagged_line<'a>(palette: Palette, text: &str, base: Style) -> Line<'a> {
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

fn offset(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => {
            let s = ms / 1000;
            if s >= 3600 {
                format!("+{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
            } else {
                format!("+{:02}:{:02}", s / 60, s % 60)
            }
        }
        None => "  memo".into(),
    }
}

fn capture(frame: &mut Frame, app: &App, area: Rect) {
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

fn snippet_line<'a>(t: Palette, snippet: &str) -> Line<'a> {
    let flat: String = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    let spans: Vec<Span> = flat
        .split("**")
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                Span::styled(part.to_owned(), t.highlight())
            } else {
                Span::raw(part.to_owned())
            }
        })
        .collect();
    Line::from(spans)
}

fn tag_spans<'a>(t: Palette, tags: impl Iterator<Item = Tag>) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    for tag in tags {
        spans.push(Span::styled(tag.to_string(), t.facet(tag.facet)));
        spans.push(Span::raw(" "));
    }
    spans
}

fn search(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let s = &app.search;
    let [query_area, body] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let mut title = vec![Span::raw(" Search ")];
    for f in &s.filters {
        title.push(Span::styled(format!("[{f}] "), t.facet(f.facet)));
    }
    if let Some(kind) = s.kind {
        title.push(Span::styled(format!("[{kind}s] "), t.kind(kind)));
    }
    if let Some(study) = &s.study {
        title.push(Span::styled(format!("[{study}] "), t.title()));
    }
    if let Some(days) = SINCE_DAYS[s.since] {
        let when = match days {
            1 => "today".to_owned(),
            365 => "the last year".to_owned(),
            d => format!("the last {d} days"),
        };
        title.push(Span::styled(format!("[{when}] "), t.title()));
    }
    let qb = block(t, Line::from(title), s.focus == SearchFocus::Query);
    let inner = qb.inner(query_area);
    frame.render_widget(qb, query_area);
    frame.render_widget(&s.query, inner);

    // A narrow terminal leaves the preview out: the results need the width more.
    let (results_area, preview_area, facets_area) = if body.width >= 110 {
        let [r, p, f] = Layout::horizontal([
            Constraint::Fill(5),
            Constraint::Fill(4),
            Constraint::Length(28),
        ])
        .areas(body);
        (r, Some(p), f)
    } else {
        let [r, f] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(24)]).areas(body);
        (r, None, f)
    };

    let total = count(s.results.total, "note");
    let count = if s.searching {
        " searching… ".to_owned()
    } else {
        match s.millis {
            Some(ms) => format!(" {total} · {ms} ms "),
            None => format!(" {total} "),
        }
    };
    let rb = block(t, " Results ", s.focus == SearchFocus::Results)
        .title_bottom(Line::from(count).right_aligned());
    let inner = rb.inner(results_area);
    frame.render_widget(rb, results_area);
    if let Some(err) = &s.error {
        frame.render_widget(
            Paragraph::new(err.as_str())
                .style(t.error())
                .wrap(Wrap { trim: true }),
            inner,
        );
    } else if s.results.hits.is_empty() {
        frame.render_widget(Paragraph::new("No notes match.").style(t.dim()), inner);
    } else {
        let per_hit = 3usize;
        let visible = (inner.height as usize / per_hit).max(1);
        let first = s.sel.saturating_sub(visible - 1);
        let mut lines = Vec::new();
        for (i, hit) in s.results.hits.iter().enumerate().skip(first).take(visible) {
            let selected = i == s.sel && s.focus == SearchFocus::Results;
            let mut head = vec![
                Span::styled(format!("[{}] ", kind_marker(hit.kind)), t.kind(hit.kind)),
                Span::styled(format!("{} ", when(app.tz, &hit.created_at)), t.dim()),
            ];
            head.extend(tag_spans(
                t,
                hit.tags.iter().flat_map(|(f, names)| {
                    names.iter().map(|n| Tag {
                        facet: *f,
                        name: n.clone(),
                    })
                }),
            ));
            let mut head = Line::from(head);
            if selected {
                head = head.style(t.selected());
            }
            lines.push(head);
            let width = inner.width as usize;
            let snippet = snippet_line(t, &hit.snippet);
            // Two lines of snippet at most.
            let text: String = snippet.spans.iter().map(|s| s.content.as_ref()).collect();
            if text.width() <= width {
                lines.push(snippet);
            } else {
                lines.push(snippet_line(
                    t,
                    &truncate_marked(&hit.snippet, width.saturating_sub(1)),
                ));
            }
            lines.push(Line::raw(""));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    if let Some(preview_area) = preview_area {
        preview(frame, app, preview_area);
    }
    facets(frame, app, facets_area);
}

/// The whole of the selected search hit.
fn preview(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let s = &app.search;
    let pb = block(t, " Note ", false);
    let inner = pb.inner(area);
    frame.render_widget(pb, area);
    if let Some(hit) = s.results.hits.get(s.sel) {
        let session = app.sessions.iter().find(|x| x.id == hit.session);
        let mut lines = vec![Line::from(vec![
            Span::styled(hit.kind.as_str().to_owned(), t.kind(hit.kind)),
            Span::styled(format!(" · {}", when(app.tz, &hit.created_at)), t.dim()),
        ])];
        if let Some(session) = session {
            let mut who = format!("{} · {}", session.kind, session.study);
            if !session.participants.is_empty() {
                who.push_str(&format!(" · {}", session.participants.join(", ")));
            }
            lines.push(Line::styled(who, t.dim()));
        }
        lines.push(Line::raw(""));
        for piece in wrap(&hit.body, inner.width as usize) {
            lines.push(tagged_line(t, &piece, Style::new()));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("Enter opens its session", t.dim()));
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The tag counts of every hit, to filter by.
fn facets(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let s = &app.search;
    let fb = block(t, " Tags ", s.focus == SearchFocus::Facets);
    let inner = fb.inner(area);
    frame.render_widget(fb, area);
    let rows = app.facet_rows();
    let visible = inner.height as usize;
    let first = s.facet_sel.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, (tag, n, active))| {
            let mark = if *active { "■ " } else { "  " };
            let mut line = Line::from(vec![
                Span::raw(mark),
                Span::styled(tag.to_string(), t.facet(tag.facet)),
                Span::styled(format!(" {n}"), t.dim()),
            ]);
            if i == s.facet_sel && s.focus == SearchFocus::Facets {
                line = line.style(t.selected());
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Cuts a `**`-marked snippet to `width` visible columns, keeping the markers balanced.
fn truncate_marked(snippet: &str, width: usize) -> String {
    let flat: String = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    let mut visible = 0;
    let mut open = false;
    let mut rest = flat.as_str();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**") {
            out.push_str("**");
            open = !open;
            rest = after;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        let w = c.to_string().width();
        if visible + w > width {
            break;
        }
        visible += w;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if open {
        out.push_str("**");
    }
    out.push('…');
    out
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
    let mut lines = vec![
        Line::styled(format!("Keys in {}", context_name(ctx)), t.title()),
        Line::raw(""),
    ];
    for b in keymap::bindings(ctx) {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", b.label), t.key()),
            Span::raw(b.help),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Everywhere: / search · ? or F1 help · Esc back · q quit (Ctrl+F and Ctrl+Q while capturing)",
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
        Context::Overlay => "this window",
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

/// The notes in the trash, newest first, to bring back.
fn trash(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let b = block(
        t,
        format!(
            " Trash ({}) · Ctrl+Z brings the selected note back ",
            app.trash.len()
        ),
        true,
    );
    let inner = b.inner(area);
    frame.render_widget(b, area);
    if app.trash.is_empty() {
        frame.render_widget(Paragraph::new("The trash is empty.").style(t.dim()), inner);
        return;
    }
    let width = inner.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    let mut selected_line = 0;
    for (i, note) in app.trash.iter().enumerate() {
        let session = app.sessions.iter().find(|s| s.id == note.session);
        let mut head = Line::from(vec![
            Span::styled(format!("[{}] ", kind_marker(note.kind)), t.kind(note.kind)),
            Span::styled(
                format!(
                    "trashed {} · {}",
                    note.deleted_at
                        .as_ref()
                        .map(|d| when(app.tz, d))
                        .unwrap_or_default(),
                    session.map_or("", |s| s.study.as_str())
                ),
                t.dim(),
            ),
        ]);
        if i == app.trash_sel {
            head = head.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(head);
        for piece in wrap(&note.body, width).into_iter().take(3) {
            lines.push(tagged_line(t, &format!("  {piece}"), Style::new()));
        }
    }
    let skip = selected_line.saturating_sub(inner.height.saturating_sub(4) as usize);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );
}

/// Every participant with their consent and private contact details.
fn participants(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let b = block(
        t,
        format!(
            " Participants ({}) · Space records consent · Enter edits the contact ",
            app.participants.len()
        ),
        true,
    );
    if app.participants.is_empty() {
        let inner = b.inner(area);
        frame.render_widget(b, area);
        frame.render_widget(
            Paragraph::new("No participants yet: the new-session form records them.")
                .style(t.dim()),
            inner,
        );
        return;
    }
    let rows: Vec<Row> = app
        .participants
        .iter()
        .map(|p| {
            Row::new(vec![
                Cell::from(p.pseudonym.clone()),
                Cell::from(if p.consent { "yes" } else { "no" }).style(if p.consent {
                    t.ok()
                } else {
                    t.error()
                }),
                Cell::from(p.consent_date.clone().unwrap_or_default()),
                Cell::from(p.contact.clone().unwrap_or_default()).style(t.dim()),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(2),
            Constraint::Length(8),
            Constraint::Length(12),
            Constraint::Fill(3),
        ],
    )
    .header(Row::new(vec!["Pseudonym", "Consent", "Since", "Contact (private)"]).style(t.title()))
    .row_highlight_style(t.selected())
    .block(b);
    let mut state = TableState::default().with_selected(Some(app.participants_sel));
    frame.render_stateful_widget(table, area, &mut state);
}

fn visit(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let (Some(v), Some(session)) = (&app.visit, &app.capture.session) else {
        return;
    };
    let score = &v.state.score;
    let [header, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(5)]).areas(area);
    let head = vec![
        Line::from(vec![
            Span::styled(" mystery-shop ", t.title().add_modifier(Modifier::REVERSED)),
            Span::raw(format!(
                " {} · {} · {} v{}",
                session.study,
                session.location.clone().unwrap_or_default(),
                v.state.scorecard.card.name,
                v.state.scorecard.version
            )),
        ]),
        Line::from(vec![
            Span::styled(
                format!(" {}/{} answered", score.answered, score.total),
                t.title(),
            ),
            Span::raw(format!("  ·  score so far {}", score_label(score.score))),
            Span::styled(
                format!("  ·  {} notes (F2)", app.capture.notes.len()),
                t.dim(),
            ),
        ]),
    ];
    frame.render_widget(Paragraph::new(head), header);

    let [list_area, detail_area] =
        Layout::horizontal([Constraint::Fill(2), Constraint::Fill(3)]).areas(body);
    let lb = block(t, " Criteria ", false);
    let inner = lb.inner(list_area);
    frame.render_widget(lb, list_area);
    let mut lines = Vec::new();
    let mut section = "";
    let mut selected_line = 0;
    for (i, c) in score.criteria.iter().enumerate() {
        if c.section != section {
            section = &c.section;
            let s = score.sections.iter().find(|s| s.name == c.section);
            lines.push(Line::styled(
                format!(
                    "{} {}",
                    c.section,
                    s.map_or(String::new(), |s| format!(
                        "({}/{}) {}",
                        s.answered,
                        s.total,
                        score_label(s.score)
                    ))
                ),
                t.title(),
            ));
        }
        let mark = match (c.answered, c.na) {
            (false, _) => "  ·".to_owned(),
            (true, true) => "N/A".to_owned(),
            (true, false) => format!("{:>3}", score_label(c.score)),
        };
        let mut line = Line::from(vec![
            Span::styled(
                format!(" {mark} "),
                if c.answered { t.ok() } else { t.dim() },
            ),
            Span::raw(c.id.clone()),
            Span::styled(if c.note.is_some() { " ✎" } else { "" }, t.dim()),
        ]);
        if i == v.sel {
            line = line.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(line);
    }
    let skip = selected_line.saturating_sub(inner.height.saturating_sub(2) as usize);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );

    let Some(c) = score.criteria.get(v.sel) else {
        return;
    };
    let def = v.state.scorecard.card.criterion(&c.id);
    let [question_area, answer_area, note_area] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(3),
        Constraint::Length(6),
    ])
    .areas(detail_area);
    let mut q = vec![
        Line::styled(c.question.clone(), t.title()),
        Line::raw(""),
        Line::styled(
            format!(
                "Answer: {}",
                def.map(|d| d.scale.hint()).unwrap_or_default()
            ),
            t.dim(),
        ),
    ];
    if let Some(d) = def {
        let mut extra = vec![format!("weight {}", d.weight)];
        if d.na_allowed {
            extra.push("na allowed".into());
        }
        if d.evidence_required {
            extra.push("needs a note".into());
        }
        q.push(Line::styled(extra.join(" · "), t.dim()));
    }
    if c.answered {
        let given = match (c.na, c.value, def) {
            (true, _, _) => "N/A".to_owned(),
            (false, Some(value), Some(d)) => d.scale.show(value),
            (false, Some(value), None) => value.to_string(),
            (false, None, _) => String::new(),
        };
        q.push(Line::raw(""));
        q.push(Line::styled(
            match c.score {
                Some(points) => format!("Answered: {given} · scores {points:.0} of 100"),
                None => format!("Answered: {given}"),
            },
            t.ok(),
        ));
        if let Some((_, note)) = &c.note {
            q.push(Line::styled(format!("Note: {note}"), t.dim()));
        }
    }
    frame.render_widget(
        Paragraph::new(q)
            .wrap(Wrap { trim: true })
            .block(block(t, format!(" {} ", c.id), false)),
        question_area,
    );
    let ab = block(t, " Answer · Enter saves ", v.focus == VisitFocus::Answer);
    let inner = ab.inner(answer_area);
    frame.render_widget(ab, answer_area);
    frame.render_widget(&v.answer, inner);
    let note_title = if def.is_some_and(|d| d.evidence_required) {
        " Note beside the answer (required for this one) · Tab "
    } else {
        " Note beside the answer (optional) · Tab "
    };
    let nb = block(t, note_title, v.focus == VisitFocus::Note);
    let inner = nb.inner(note_area);
    frame.render_widget(nb, note_area);
    frame.render_widget(&app.capture.editor, inner);
}

fn report(frame: &mut Frame, app: &App, area: Rect) {
    use ratatui::widgets::{Bar, BarChart, BarGroup};
    let t = app.palette;
    let Some(r) = &app.report else {
        return;
    };
    if r.visits == 0 {
        frame.render_widget(
            Paragraph::new("No mystery-shop visits yet: start a session of kind mystery-shop with a scorecard.")
                .wrap(Wrap { trim: true })
                .block(block(t, " Mystery-shopping report ", true)),
            area,
        );
        return;
    }
    let [charts, table_area] =
        Layout::vertical([Constraint::Length(12), Constraint::Min(3)]).areas(area);
    let [by_location, by_month] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
    let width = |n: usize, area: Rect| {
        ((area.width.saturating_sub(2) as usize / n.max(1)).saturating_sub(1)).clamp(3, 14) as u16
    };
    let bars = |groups: &[crate::mystery_shop::ReportGroup], width: u16| -> Vec<Bar<'static>> {
        groups
            .iter()
            .map(|g| {
                let mean = g.mean.unwrap_or(0.0).round() as u64;
                Bar::default()
                    .value(mean)
                    .label(Line::from(short_label(&g.group, width as usize)))
                    .text_value(format!("{mean}"))
            })
            .collect()
    };
    frame.render_widget(
        BarChart::default()
            .block(block(t, " Mean score by location (worst first) ", false))
            .data(BarGroup::default().bars(&bars(
                &r.by_location,
                width(r.by_location.len(), by_location),
            )))
            .bar_width(width(r.by_location.len(), by_location))
            .bar_gap(1)
            .max(100)
            .bar_style(t.ok()),
        by_location,
    );
    frame.render_widget(
        BarChart::default()
            .block(block(t, " Trend: mean score by month ", false))
            .data(BarGroup::default().bars(&bars(&r.by_month, width(r.by_month.len(), by_month))))
            .bar_width(width(r.by_month.len(), by_month))
            .bar_gap(1)
            .max(100)
            .bar_style(t.key()),
        by_month,
    );
    let mut lines = vec![Line::styled(
        format!(
            "{:<24} {:>6} {:>5} {:>7}  worst criteria",
            "Location", "visits", "mean", "spread"
        ),
        t.title(),
    )];
    for g in &r.by_location {
        lines.push(Line::raw(format!(
            "{:<24} {:>6} {:>5} {:>7}  {}",
            g.group,
            g.visits,
            score_label(g.mean),
            score_label(g.spread),
            g.worst_criteria(3)
        )));
        // The evidence behind the low scores: the notes beside the worst answers, whichever
        // criteria they are on.
        let mut low: Vec<(&str, &str, f64)> = g
            .criteria
            .iter()
            .flat_map(|c| {
                c.low_notes
                    .iter()
                    .map(move |(_, note, sc)| (c.id.as_str(), note.as_str(), *sc))
            })
            .collect();
        low.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (id, note, sc) in low.into_iter().take(2) {
            lines.push(Line::styled(format!("    {id} {sc:.0}: {note}"), t.dim()));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(block(t, format!(" {} visits ", r.visits), false)),
        table_area,
    );
}

/// A bar's label in `width` columns: a month `2026-07` becomes `07/26` or `Jul` when the
/// bars are narrow, anything else is cut.
fn short_label(group: &str, width: usize) -> String {
    if group.chars().count() <= width {
        return group.to_owned();
    }
    if let Ok(month) = chrono::NaiveDate::parse_from_str(&format!("{group}-01"), "%Y-%m-%d") {
        let numeric = month.format("%m/%y").to_string();
        if numeric.len() <= width {
            return numeric;
        }
        return month.format("%b").to_string();
    }
    group.chars().take(width).collect()
}

fn valence_text(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:+.1}"))
}

fn themes(frame: &mut Frame, app: &App, area: Rect) {
    use super::app::ThemeTab;
    use ratatui::widgets::Tabs;
    let t = app.palette;
    let [tabs_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    let Some(view) = &app.themes else {
        let msg = if app.analysing {
            "Analysing the notes…"
        } else {
            "No analysis yet."
        };
        frame.render_widget(Paragraph::new(msg).block(block(t, " Themes ", true)), body);
        return;
    };
    let a = &view.analysis;
    frame.render_widget(
        Tabs::new(ThemeTab::ALL.map(ThemeTab::title).to_vec())
            .select(view.tab.index())
            .highlight_style(t.selected())
            .divider(" │ "),
        tabs_area,
    );
    let mut scope = if a.query.trim().is_empty() {
        "every note".to_owned()
    } else {
        format!("\"{}\"", a.query)
    };
    scope.push_str(&match &app.themes_study {
        Some(study) => format!(" in {study} (s: next study)"),
        None => " in every study (s: one study)".to_owned(),
    });
    let title = format!(
        " {} notes · {scope}{} ",
        a.themes.total_notes,
        if app.analysing {
            " · analysing…"
        } else {
            ""
        }
    );
    match view.tab {
        ThemeTab::Themes => {
            let [list_area, detail_area] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(body);
            let mut lines = vec![Line::styled(
                format!(
                    "{:>5} {:>5} {:>5} {:>6}  theme",
                    "notes", "sess", "share", "feel"
                ),
                t.title(),
            )];
            for (i, th) in a.themes.themes.iter().enumerate() {
                let mut line = Line::from(vec![
                    Span::raw(format!(
                        "{:>5} {:>5} {:>4.0}% {:>6}  ",
                        th.note_count,
                        th.sessions,
                        th.share * 100.0,
                        valence_text(th.mean_valence)
                    )),
                    Span::styled(th.label.clone(), t.title()),
                ]);
                if i == view.sel {
                    line = line.style(t.selected());
                }
                lines.push(line);
            }
            if a.themes.themes.is_empty() {
                lines.push(Line::styled("No theme recurs in these notes.", t.dim()));
            }
            let skip = view
                .sel
                .saturating_sub(list_area.height.saturating_sub(4) as usize);
            frame.render_widget(
                Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>())
                    .block(block(t, title, true)),
                list_area,
            );
            if let Some(th) = a.themes.themes.get(view.sel) {
                let width = detail_area.width.saturating_sub(4) as usize;
                let mut d = vec![
                    Line::styled(th.label.clone(), t.title()),
                    Line::styled(
                        format!(
                            "{} notes · {} sessions · {} participants · feeling {}",
                            th.note_count,
                            th.sessions,
                            th.participants,
                            valence_text(th.mean_valence)
                        ),
                        t.dim(),
                    ),
                ];
                let shares = |list: &[crate::analysis::TagShare], sigil: char| {
                    list.iter()
                        .take(5)
                        .map(|s| format!("{sigil}{} {}", s.name, s.notes))
                        .collect::<Vec<_>>()
                        .join("  ")
                };
                if !th.personas.is_empty() {
                    d.push(Line::styled(
                        shares(&th.personas, '@'),
                        t.facet(crate::model::Facet::Persona),
                    ));
                }
                if !th.touchpoints.is_empty() {
                    d.push(Line::styled(
                        shares(&th.touchpoints, '#'),
                        t.facet(crate::model::Facet::Touchpoint),
                    ));
                }
                d.push(Line::raw(""));
                for e in &th.representative {
                    for (j, piece) in wrap(&e.quote, width.saturating_sub(2))
                        .into_iter()
                        .enumerate()
                    {
                        let lead = if j == 0 {
                            format!("[{}] ", kind_marker(e.kind))
                        } else {
                            "    ".into()
                        };
                        d.push(tagged_line(t, &format!("{lead}{piece}"), Style::new()));
                    }
                    d.push(Line::raw(""));
                }
                d.push(Line::styled("Enter: every note behind this theme", t.dim()));
                frame.render_widget(
                    Paragraph::new(d).block(block(t, " Evidence ", false)),
                    detail_area,
                );
            }
        }
        ThemeTab::Contrast => {
            let mut lines = Vec::new();
            for (i, g) in a.contrast.groups.iter().enumerate() {
                let style = if i == view.sel {
                    t.selected()
                } else {
                    t.title()
                };
                lines.push(Line::styled(
                    format!("@{} ({} notes)", g.group, g.notes),
                    style,
                ));
                let terms: Vec<String> = g
                    .phrases
                    .iter()
                    .chain(g.tags.iter())
                    .take(8)
                    .map(|d| format!("{} z{:.1} ({}/{})", d.term, d.z, d.in_group, d.in_rest))
                    .collect();
                lines.push(Line::raw(format!(
                    "  {}",
                    if terms.is_empty() {
                        "nothing stands out".into()
                    } else {
                        terms.join(" · ")
                    }
                )));
            }
            if lines.is_empty() {
                lines.push(Line::styled("No persona tags in these notes.", t.dim()));
            }
            let skip = (view.sel * 2).saturating_sub(body.height.saturating_sub(4) as usize);
            frame.render_widget(
                Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>())
                    .wrap(Wrap { trim: false })
                    .block(block(
                        t,
                        format!("{title}· what sets each persona apart (z ≥ 1.96; in group/rest) "),
                        true,
                    )),
                body,
            );
        }
        ThemeTab::Pains => {
            let mut lines = vec![Line::styled(
                format!(
                    "{:<22} {:>6} {:>9} {:>7}  emotions",
                    "touchpoint", "notes", "negative", "feel"
                ),
                t.title(),
            )];
            for (i, p) in a.pains.touchpoints.iter().enumerate() {
                let emotions: Vec<String> = p
                    .emotions
                    .iter()
                    .take(4)
                    .map(|(e, n)| format!("!{e} {n}"))
                    .collect();
                let mut line = Line::raw(format!(
                    "{:<22} {:>6} {:>8.0}% {:>7}  {}",
                    format!("#{}", p.touchpoint),
                    p.notes,
                    p.negative_share * 100.0,
                    valence_text(p.mean_valence),
                    emotions.join(" ")
                ));
                if i == view.sel {
                    line = line.style(t.selected());
                }
                lines.push(line);
            }
            if let Some(worst) = a.pains.worst.first() {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!("Where it hurts most: #{}", worst.touchpoint),
                    t.title(),
                ));
                for e in worst.quotes.iter().take(3) {
                    lines.push(tagged_line(
                        t,
                        &format!("  [{}] {}", kind_marker(e.kind), e.quote),
                        Style::new(),
                    ));
                }
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(t, format!("{title}· worst first "), true)),
                body,
            );
        }
        ThemeTab::Journey => journey_chart(frame, app, body, a, &title),
    }
}

fn journey_chart(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    a: &super::worker::Analysis,
    title: &str,
) {
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
    let t = app.palette;
    let stages: Vec<&crate::analysis::journey::JourneyPoint> = a
        .journey
        .points
        .iter()
        .filter(|p| p.touchpoint.is_none() && p.mean_valence.is_some())
        .collect();
    let [chart_area, table_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let data: Vec<(f64, f64)> = stages
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.mean_valence.unwrap_or(0.0)))
        .collect();
    let labels: Vec<Span> = stages
        .iter()
        .map(|p| Span::raw(p.stage.clone().unwrap_or_else(|| "no stage".into())))
        .collect();
    let zero: Vec<(f64, f64)> = vec![(0.0, 0.0), ((stages.len().max(2) - 1) as f64, 0.0)];
    let datasets = vec![
        Dataset::default()
            .data(&zero)
            .graph_type(GraphType::Line)
            .marker(Marker::Dot)
            .style(t.dim()),
        Dataset::default()
            .name("mean feeling by stage")
            .data(&data)
            .graph_type(GraphType::Line)
            .marker(Marker::Braille)
            .style(t.key()),
    ];
    let chart = Chart::new(datasets)
        .block(block(
            t,
            format!("{title}· the journey's emotion curve "),
            true,
        ))
        .x_axis(
            Axis::default()
                .bounds([0.0, (stages.len().max(2) - 1) as f64])
                .labels(labels),
        )
        .y_axis(Axis::default().bounds([-2.0, 2.0]).labels(vec![
            Span::raw("-2"),
            Span::raw("0"),
            Span::raw("+2"),
        ]));
    frame.render_widget(chart, chart_area);
    let mut lines = vec![Line::styled(
        format!(
            "{:<28} {:>6} {:>7}  lanes",
            "stage / touchpoint", "notes", "feel"
        ),
        t.title(),
    )];
    let sel = app.themes.as_ref().map_or(0, |v| v.sel);
    let mut selected_line = 0;
    for (i, p) in a.journey.points.iter().enumerate() {
        let name = match (&p.stage, &p.touchpoint) {
            (_, Some(tp)) => format!("  #{tp}"),
            (Some(s), None) => s.clone(),
            (None, None) => "no stage".into(),
        };
        let lanes: Vec<String> = p
            .lanes
            .iter()
            .map(|(l, v)| format!("{l} {v:+.1}"))
            .collect();
        let mut line = Line::raw(format!(
            "{name:<28} {:>6} {:>7}  {}",
            p.notes,
            valence_text(p.mean_valence),
            lanes.join(" ")
        ));
        if i == sel {
            line = line.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(line);
    }
    // ↑/↓ move through every stage and touchpoint; the table scrolls to keep it in sight.
    let visible = table_area.height.saturating_sub(2) as usize;
    let scroll = selected_line.saturating_sub(visible.saturating_sub(1)) as u16;
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(block(
            t,
            format!(
                " Stages and touchpoints in journey order ({}) · ↑/↓ ",
                a.journey.points.len()
            ),
            false,
        )),
        table_area,
    );
}

fn evidence(frame: &mut Frame, app: &App, area: Rect, title: &str, notes: &[Note], scroll: u16) {
    let t = app.palette;
    let width = area.width.saturating_sub(10) as usize;
    let mut lines = Vec::new();
    for n in notes {
        for (j, piece) in wrap(&n.body, width).into_iter().enumerate() {
            let lead = if j == 0 {
                format!("[{}] ", kind_marker(n.kind))
            } else {
                "    ".into()
            };
            lines.push(tagged_line(t, &format!("{lead}{piece}"), Style::new()));
        }
        lines.push(Line::styled(
            format!("    {} · {}", when(app.tz, &n.created_at), n.id),
            t.dim(),
        ));
    }
    let rect = overlay_rect(area, area.width, area.height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(block(
            t,
            format!(
                " {title} · {} notes · ↑/↓ scroll · Esc closes ",
                notes.len()
            ),
            true,
        )),
        rect,
    );
}
