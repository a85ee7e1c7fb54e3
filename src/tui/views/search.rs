//! The search view: the query box (search as you type), the results, the selected note and
//! the tag counts that filter them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::model::Tag;
use crate::tui::app::{App, SINCE_DAYS, SearchFocus, count};
use crate::tui::theme::{Palette, kind_marker};
use crate::tui::ui::{block, tagged_line, when, wrap};

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
