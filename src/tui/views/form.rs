//! The new-session form, drawn over the session list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::tui::app::{App, FORM_FIELDS, FORM_SLOTS, FormSlot};
use crate::tui::ui::{block, centered};

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
