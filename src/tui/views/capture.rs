//! The capture view: a session's notes and the editor a new note is typed in, with the tag
//! list that completes tags as they are typed; edits, kinds, trash and undo of stored notes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::model::{Note, parse_inline};
use crate::tui::app::{App, CaptureFocus, a_or_an};
use crate::tui::theme::{Palette, kind_marker};
use crate::tui::ui::{block, tagged_line, when, wrap};

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
