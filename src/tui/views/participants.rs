//! The participants: every pseudonym with its consent and private contact details.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::common::{editor, move_sel};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::model::Participant;
use crate::tui::app::{App, Level, Prompt, PromptFor};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::block;
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "participants",
    context: |_| Context::Participants,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// Every participant, and the one selected.
#[derive(Default)]
pub struct Participants {
    pub list: Vec<Participant>,
    pub sel: usize,
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let selected = app.participants.list.get(app.participants.sel).cloned();
    match action {
        Action::Back => {
            app.view = View::Home;
            vec![Request::Sessions]
        }
        Action::ToggleConsent => match selected {
            Some(p) => vec![Request::SetConsent {
                pseudonym: p.pseudonym,
                consent: !p.consent,
            }],
            None => Vec::new(),
        },
        Action::EditContact => {
            if let Some(p) = selected {
                let mut input = editor("e-mail or phone (private: never exported)");
                input.insert_str(p.contact.unwrap_or_default());
                app.prompt = Some(Prompt::new(
                    PromptFor::Contact {
                        pseudonym: p.pseudonym.clone(),
                    },
                    format!("Contact for {}", p.pseudonym),
                    input,
                ));
            }
            Vec::new()
        }
        nav => {
            let ps = &mut app.participants;
            move_sel(&mut ps.sel, ps.list.len(), nav);
            Vec::new()
        }
    }
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn listed(app: &mut App, list: Vec<Participant>) -> Vec<Request> {
    let ps = &mut app.participants;
    ps.list = list;
    ps.sel = ps.sel.min(ps.list.len().saturating_sub(1));
    Vec::new()
}

pub(crate) fn saved(app: &mut App, p: Participant) -> Vec<Request> {
    let msg = match (&p.consent, &p.consent_date) {
        (true, Some(date)) => format!("{}: consent recorded ({date})", p.pseudonym),
        (true, None) => format!("{}: consent recorded", p.pseudonym),
        (false, _) => format!("{}: no consent recorded", p.pseudonym),
    };
    if let Some(old) = app
        .participants
        .list
        .iter_mut()
        .find(|o| o.pseudonym == p.pseudonym)
    {
        *old = p;
    }
    app.say(Level::Ok, msg);
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

/// Every participant with their consent and private contact details.
fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let ps = &app.participants;
    let b = block(
        t,
        format!(
            " Participants ({}) · Space records consent · Enter edits the contact ",
            ps.list.len()
        ),
        true,
    );
    if ps.list.is_empty() {
        let inner = b.inner(area);
        frame.render_widget(b, area);
        frame.render_widget(
            Paragraph::new("No participants yet: the new-session form records them.")
                .style(t.dim()),
            inner,
        );
        return;
    }
    let rows: Vec<Row> = ps
        .list
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
    let mut state = TableState::default().with_selected(Some(ps.sel));
    frame.render_stateful_widget(table, area, &mut state);
}
