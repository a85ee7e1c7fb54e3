//! The participants: every pseudonym with its consent and private contact details.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::tui::app::App;
use crate::tui::ui::block;

/// Every participant with their consent and private contact details.
pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
