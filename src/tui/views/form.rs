//! The new-session form, drawn over the session list.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::common::{editor, set_text, text_of};
use super::{View, ViewSpec, home, no_paste};
use crate::model::{Participant, Session, SessionKind};
use crate::store::NewSession;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::{block, centered};
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "new session",
    context: |_| Context::SessionForm,
    act,
    type_key,
    paste: no_paste,
    draw,
};

pub const FORM_FIELDS: [&str; 6] = [
    "Study",
    "Participant",
    "Location",
    "Channel",
    "Scorecard (mystery-shop visits)",
    "Measures (nps=9 csat=4 ces=6)",
];
const SCORECARD_FIELD: usize = 4;
const MEASURES_FIELD: usize = 5;

/// The new-session form's rows, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormSlot {
    Kind,
    Text(usize),
    Consent,
}

pub const FORM_SLOTS: [FormSlot; 8] = [
    FormSlot::Kind,
    FormSlot::Text(0),
    FormSlot::Text(1),
    FormSlot::Consent,
    FormSlot::Text(2),
    FormSlot::Text(3),
    FormSlot::Text(4),
    FormSlot::Text(5),
];

pub struct SessionForm {
    pub kind: SessionKind,
    pub default_study: Option<String>,
    pub fields: Vec<TextArea<'static>>,
    /// Whether the participant has given consent (recorded with today's date).
    pub consent: bool,
    /// A position in `FORM_SLOTS`.
    pub focus: usize,
}

impl SessionForm {
    pub fn new() -> SessionForm {
        SessionForm {
            kind: SessionKind::Interview,
            default_study: None,
            fields: FORM_FIELDS.iter().map(|_| editor("")).collect(),
            consent: false,
            focus: 0,
        }
    }

    pub fn slot(&self) -> FormSlot {
        FORM_SLOTS[self.focus]
    }

    /// Only the field being typed in shows its cursor, and only while the form has the keys.
    pub fn show_cursor(&mut self, focused: bool, on: Style, off: Style) {
        let typing_in = self.slot();
        for (i, f) in self.fields.iter_mut().enumerate() {
            f.set_cursor_line_style(Style::new());
            f.set_cursor_style(if focused && typing_in == FormSlot::Text(i) {
                on
            } else {
                off
            });
        }
    }
}

impl Default for SessionForm {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens the form empty, offering the last study.
pub(crate) fn open(app: &mut App) {
    app.view = View::NewSession;
    let form = &mut app.form;
    form.focus = 0;
    form.kind = SessionKind::Interview;
    form.consent = false;
    // The last study is offered (greyed); typing replaces it, leaving it empty keeps it.
    form.default_study = app.sessions.first().map(|s| s.study.clone());
    for (i, f) in form.fields.iter_mut().enumerate() {
        set_text(f, "");
        if i == 0 {
            f.set_placeholder_text(match &form.default_study {
                Some(study) => format!("{study} (leave empty to keep it)"),
                None => "the study this session belongs to".into(),
            });
        }
    }
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let n = FORM_SLOTS.len();
    let form = &mut app.form;
    match (form.slot(), action) {
        (_, Action::NextField) => form.focus = (form.focus + 1) % n,
        (_, Action::PrevField) => form.focus = (form.focus + n - 1) % n,
        (FormSlot::Kind, Action::Cycle) => {
            let all = SessionKind::ALL;
            let i = all.iter().position(|k| *k == form.kind).unwrap_or(0);
            form.kind = all[(i + 1) % all.len()];
            let field = &mut form.fields[SCORECARD_FIELD];
            if form.kind == SessionKind::MysteryShop
                && text_of(field).trim().is_empty()
                && let Some(first) = app.scorecards.first()
            {
                set_text(field, first);
            }
        }
        (FormSlot::Consent, Action::Cycle) => form.consent = !form.consent,
        (_, Action::Back) => app.view = View::Home,
        (_, Action::Submit) => return submit(app),
        _ => {}
    }
    Vec::new()
}

fn type_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    if let FormSlot::Text(i) = app.form.slot() {
        app.form.fields[i].input(key);
    }
    Vec::new()
}

fn submit(app: &mut App) -> Vec<Request> {
    let form = &app.form;
    let value = |i: usize| {
        let v = text_of(&form.fields[i]).trim().to_owned();
        (!v.is_empty()).then_some(v)
    };
    let Some(study) = value(0).or_else(|| form.default_study.clone()) else {
        app.form.focus = 1;
        app.say(Level::Error, "A session needs a study: type its name");
        return Vec::new();
    };
    let mut new = NewSession::new(study, form.kind);
    let consent = form.consent;
    let today = app
        .now
        .with_timezone(&app.tz)
        .format("%Y-%m-%d")
        .to_string();
    new.participants = value(1)
        .map(|p| {
            vec![Participant {
                pseudonym: p,
                consent,
                consent_date: consent.then_some(today),
                contact: None,
            }]
        })
        .unwrap_or_default();
    new.location = value(2);
    new.channel = value(3);
    new.researcher = std::env::var("USER").ok();
    // A typo is caught here; each value against its study's scale by the library.
    match crate::model::read_list(&value(MEASURES_FIELD).unwrap_or_default()) {
        Ok(measures) => new.measures = measures,
        Err(e) => {
            app.form.focus = FORM_SLOTS.len() - 1;
            app.say(Level::Error, e);
            return Vec::new();
        }
    }
    let form = &app.form;
    let scorecard = (form.kind == SessionKind::MysteryShop)
        .then(|| value(SCORECARD_FIELD))
        .flatten();
    vec![Request::StartSession { new, scorecard }]
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn started(app: &mut App, session: Session) -> Vec<Request> {
    app.say(
        Level::Ok,
        format!("Started {} in {}", session.kind, session.study),
    );
    vec![Request::Session(session.id), Request::Sessions]
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    home::draw(frame, app, area);
    let t = app.palette;
    let rect = centered(area, 60, 3 * FORM_SLOTS.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let outer = block(t, " Start a session ", true);
    let inner = outer.inner(rect);
    frame.render_widget(outer, rect);
    // A short terminal drops each field's bottom border rather than its text.
    let row_height = if inner.height >= 3 * FORM_SLOTS.len() as u16 {
        3
    } else {
        2
    };
    let mut constraints = vec![Constraint::Length(row_height); FORM_SLOTS.len()];
    constraints.push(Constraint::Min(0));
    let rows = Layout::vertical(constraints).split(inner);
    let block = |t, title: String, focused| {
        let b = block(t, title, focused);
        if row_height == 3 {
            b
        } else {
            b.borders(Borders::TOP | Borders::LEFT | Borders::RIGHT)
        }
    };
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
                    " Kind (←/→) ".into(),
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
                .block(block(t, " Participant's consent (←/→) ".into(), focused)),
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
