//! The home view: every session, newest first (the list is `App::sessions`, shared with the
//! views that look sessions up; the selection is `App::home_sel`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::tui::app::{App, View};
use crate::tui::ui::{block, when};

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
