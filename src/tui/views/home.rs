//! The home view: every session, newest first (the list is `App::sessions`, shared with the
//! views that look sessions up; the selection is `App::home_sel`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::common::{count, move_sel};
use super::{View, ViewSpec, form, no_paste, no_typing, themes};
use crate::model::Session;
use crate::query::Filters;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::{block, when};
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "sessions",
    context: |_| Context::Home,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

fn act(app: &mut App, action: Action) -> Vec<Request> {
    match action {
        Action::Open => match app.sessions.get(app.home_sel) {
            Some(s) => vec![Request::Session(s.id.clone())],
            None => {
                app.say(Level::Info, "No sessions yet: press n to start one");
                Vec::new()
            }
        },
        Action::NewSession => {
            form::open(app);
            Vec::new()
        }
        Action::EndSession => match app.sessions.get(app.home_sel) {
            Some(s) => end_session(app, &s.clone()),
            None => Vec::new(),
        },
        Action::Report => vec![Request::VisitReport],
        Action::Codebook => super::codebook::open(app),
        Action::Cooccurrence => super::cooccurrence::open(app),
        Action::Matrix => super::matrix::open(app),
        Action::Measures => super::measures::open(app),
        Action::Themes => {
            let study = app.themes_scope.study.clone();
            themes::open(app, String::new(), Filters::default(), study)
        }
        Action::Trash => {
            app.view = View::Trash;
            vec![Request::TrashList]
        }
        Action::Participants => {
            app.view = View::Participants;
            vec![Request::Participants]
        }
        Action::SyncNow => {
            if app.sync.remote.is_none() {
                app.say(
                    Level::Info,
                    "No team server yet: `fieldnotes remote add NAME postgres://…` adds one",
                );
                return Vec::new();
            }
            app.say(Level::Info, "Syncing with the team server…");
            vec![Request::Sync]
        }
        Action::Back => Vec::new(),
        nav => {
            move_sel(&mut app.home_sel, app.sessions.len(), nav);
            Vec::new()
        }
    }
}

/// Ends a session (from this list or from the session itself).
pub(crate) fn end_session(app: &mut App, session: &Session) -> Vec<Request> {
    if session.ended_at.is_some() {
        app.say(Level::Info, "That session has already ended");
        return Vec::new();
    }
    vec![Request::EndSession(session.id.clone())]
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn listed(app: &mut App, list: crate::store::SessionList) -> Vec<Request> {
    app.sessions = list.sessions;
    app.sessions_total = list.total;
    app.study_names = list.studies;
    app.home_sel = app.home_sel.min(app.sessions.len().saturating_sub(1));
    // What waits to be pushed changes with every save: counted again when the list is.
    if app.sync.remote.is_some() {
        vec![Request::SyncState]
    } else {
        Vec::new()
    }
}

pub(crate) fn synced(app: &mut App, done: Result<String, String>) -> Vec<Request> {
    match done {
        Ok(message) => app.say(Level::Ok, message),
        Err(e) => app.say(Level::Error, e),
    }
    vec![Request::Sessions, Request::SyncState]
}

/// The list's title, with the team sync's state when there is a remote: the last sync, what
/// waits to be pushed, and "offline" when the last try could not reach the server.
fn title(app: &App) -> String {
    let listed = if app.sessions_total > app.sessions.len() {
        format!(
            " Sessions: the newest {} of {} (search finds notes in every one)",
            app.sessions.len(),
            app.sessions_total
        )
    } else {
        " Sessions, newest first".to_owned()
    };
    let Some(remote) = &app.sync.remote else {
        return format!("{listed} ");
    };
    let last = match (&app.sync.last_error, &app.sync.last_sync) {
        (Some(_), _) => "offline".to_owned(),
        (None, Some(at)) => format!("synced {}", when(app.tz, at)),
        (None, None) => "never synced".to_owned(),
    };
    format!("{listed} · {remote}: {last}, {} to push ", app.sync.pending)
}

pub(crate) fn ended(app: &mut App, s: Session) -> Vec<Request> {
    if let Some(open) = app.capture.session.as_mut()
        && open.id == s.id
    {
        open.ended_at = s.ended_at;
    }
    app.say(
        Level::Ok,
        format!(
            "Ended the session ({})",
            count(s.note_count as usize, "note")
        ),
    );
    vec![Request::Sessions]
}

// ---- drawing -----------------------------------------------------------------------------

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let outer = block(t, title(app), app.view == View::Home);
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
