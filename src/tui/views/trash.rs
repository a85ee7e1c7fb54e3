//! The trash: notes moved out of their sessions, newest first, to bring back.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::theme::kind_marker;
use crate::tui::ui::{block, tagged_line, when, wrap};

/// The notes in the trash, newest first, to bring back.
pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
