//! The trash: notes moved out of their sessions, newest first, to bring back.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::common::move_sel;
use super::{View, ViewSpec, no_paste, no_typing};
use crate::model::Note;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::kind_marker;
use crate::tui::ui::{block, tagged_line, when, wrap};
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "trash",
    context: |_| Context::Trash,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// The notes in the trash, newest first, and the one selected.
#[derive(Default)]
pub struct Trash {
    pub notes: Vec<Note>,
    pub sel: usize,
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    match action {
        Action::Back => {
            app.view = View::Home;
            vec![Request::Sessions]
        }
        Action::RestoreSelected => match app.trash.notes.get(app.trash.sel) {
            Some(note) => vec![Request::Restore(note.id.clone())],
            None => {
                app.say(Level::Info, "The trash is empty");
                Vec::new()
            }
        },
        nav => {
            let t = &mut app.trash;
            move_sel(&mut t.sel, t.notes.len(), nav);
            Vec::new()
        }
    }
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn listed(app: &mut App, notes: Vec<Note>) -> Vec<Request> {
    let t = &mut app.trash;
    t.notes = notes;
    t.sel = t.sel.min(t.notes.len().saturating_sub(1));
    Vec::new()
}

/// A note is back from the trash (from this list, or by undo in its session).
pub(crate) fn restored(app: &mut App, note: Note) -> Vec<Request> {
    let t = &mut app.trash;
    t.notes.retain(|n| n.id != note.id);
    t.sel = t.sel.min(t.notes.len().saturating_sub(1));
    app.capture.place_note(note);
    app.say(Level::Ok, "Brought the note back from the trash");
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let trash = &app.trash;
    let b = block(
        t,
        format!(
            " Trash ({}) · {} brings the selected note back ",
            trash.notes.len(),
            crate::tui::keymap::key_of(Context::Trash, Action::RestoreSelected)
        ),
        true,
    );
    let inner = b.inner(area);
    frame.render_widget(b, area);
    if trash.notes.is_empty() {
        frame.render_widget(Paragraph::new("The trash is empty.").style(t.dim()), inner);
        return;
    }
    let width = inner.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    let mut selected_line = 0;
    for (i, note) in trash.notes.iter().enumerate() {
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
        if i == trash.sel {
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
