//! A mystery-shop visit being filled in: the scorecard's criteria, the answer to the one
//! selected and a note beside it (the note box is the session's capture editor).

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::capture::CaptureFocus;
use super::common::{editor, set_text, text_of};
use super::{View, ViewSpec, no_paste};
use crate::archive::VisitState;
use crate::model::Note;
use crate::mystery_shop::score_label;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::block;
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "mystery-shop visit",
    context: |_| Context::Visit,
    act,
    type_key,
    paste: no_paste,
    draw,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitFocus {
    Answer,
    Note,
}

/// A mystery-shop visit being filled in; its note box is the session's capture editor.
pub struct VisitView {
    pub state: VisitState,
    /// The criterion shown, by position in the scorecard.
    pub sel: usize,
    pub answer: TextArea<'static>,
    pub focus: VisitFocus,
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let Some(v) = app.visit.as_mut() else {
        app.view = View::Home;
        return Vec::new();
    };
    let total = v.state.score.criteria.len();
    match action {
        Action::Down => v.sel = (v.sel + 1).min(total.saturating_sub(1)),
        Action::Up => v.sel = v.sel.saturating_sub(1),
        Action::FocusNext => {
            v.focus = match v.focus {
                VisitFocus::Answer => VisitFocus::Note,
                VisitFocus::Note => VisitFocus::Answer,
            }
        }
        Action::Notes => {
            app.view = View::Capture;
            app.capture.focus = CaptureFocus::Editor;
        }
        Action::Back => {
            let mut reqs = app.capture.draft_request();
            app.view = View::Home;
            reqs.push(Request::Sessions);
            return reqs;
        }
        Action::Submit => {
            let Some(criterion) = v.state.score.criteria.get(v.sel) else {
                return Vec::new();
            };
            let card = v.state.scorecard.card.criterion(&criterion.id);
            let value = text_of(&v.answer).trim().to_owned();
            if value.is_empty() {
                let hint = card.map(|c| c.scale.hint()).unwrap_or_default();
                let na = if card.is_some_and(|c| c.na_allowed) {
                    ", or na"
                } else {
                    ""
                };
                app.say(Level::Info, format!("Type the answer: {hint}{na}"));
                return Vec::new();
            }
            let note = text_of(&app.capture.editor);
            let request = Request::Answer {
                session: v.state.session.clone(),
                criterion: criterion.id.clone(),
                value,
                note: (!note.trim().is_empty()).then_some(note),
            };
            app.say(Level::Info, "Saving the answer…");
            return vec![request];
        }
        _ => {}
    }
    Vec::new()
}

/// Keys no binding claims: text for the answer or for the note beside it.
fn type_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    match app.visit.as_mut() {
        Some(v) if v.focus == VisitFocus::Answer => {
            v.answer.input(key);
        }
        Some(v) if v.focus == VisitFocus::Note => {
            let c = &mut app.capture;
            if c.editor.input(key) {
                c.editor_changed(&app.tags);
                // The tag list belongs to the full editor.
                c.suggestions.clear();
            }
        }
        _ => {}
    }
    Vec::new()
}

// ---- worker responses --------------------------------------------------------------------

/// A session opened: its scorecard, if it has one, opens at the first criterion still to
/// answer (and the visit is shown unless the capture view has something to show).
pub(crate) fn session_loaded(app: &mut App, visit: Option<Box<VisitState>>) {
    let Some(state) = visit else {
        app.visit = None;
        return;
    };
    let state = *state;
    let sel = state
        .score
        .criteria
        .iter()
        .position(|c| !c.answered)
        .unwrap_or(0);
    app.visit = Some(VisitView {
        state,
        sel,
        answer: editor("answer"),
        focus: VisitFocus::Answer,
    });
    let c = &app.capture;
    if c.focus_note.is_none() && c.focus != CaptureFocus::Notes && c.editing.is_none() {
        app.view = View::Visit;
    }
}

pub(crate) fn answered(app: &mut App, state: VisitState, note: Option<Note>) -> Vec<Request> {
    if let Some(note) = note {
        app.capture.push_note(note);
        set_text(&mut app.capture.editor, "");
        app.capture.dirty_since = None;
    }
    let Some(v) = app.visit.as_mut() else {
        return Vec::new();
    };
    if v.state.session != state.session {
        return Vec::new();
    }
    let answered = v.state.score.criteria.get(v.sel).map(|c| {
        let answer = state.answers.iter().find(|a| a.criterion == c.id);
        let shown = match (answer, state.scorecard.card.criterion(&c.id)) {
            (Some(a), _) if a.na => "N/A".to_owned(),
            (Some(a), Some(def)) => a.value.map(|x| def.scale.show(x)).unwrap_or_default(),
            _ => String::new(),
        };
        format!("{}: {shown}", c.id)
    });
    let total = state.score.criteria.len();
    // On to the next criterion still open, after this one first.
    let next = (1..=total)
        .map(|k| (v.sel + k) % total)
        .find(|&i| !state.score.criteria[i].answered);
    let msg = format!(
        "Answered {} · {}/{} answered · score {}",
        answered.unwrap_or_default(),
        state.score.answered,
        state.score.total,
        score_label(state.score.score)
    );
    v.sel = next.unwrap_or(v.sel);
    v.state = state;
    set_text(&mut v.answer, "");
    v.focus = VisitFocus::Answer;
    let done = next.is_none();
    app.say(
        Level::Ok,
        if done {
            format!("{msg} · every criterion answered")
        } else {
            msg
        },
    );
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let (Some(v), Some(session)) = (&app.visit, &app.capture.session) else {
        return;
    };
    let score = &v.state.score;
    let [header, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(5)]).areas(area);
    let head = vec![
        Line::from(vec![
            Span::styled(" mystery-shop ", t.title().add_modifier(Modifier::REVERSED)),
            Span::raw(format!(
                " {} · {} · {} v{}",
                session.study,
                session.location.clone().unwrap_or_default(),
                v.state.scorecard.card.name,
                v.state.scorecard.version
            )),
        ]),
        Line::from(vec![
            Span::styled(
                format!(" {}/{} answered", score.answered, score.total),
                t.title(),
            ),
            Span::raw(format!("  ·  score so far {}", score_label(score.score))),
            Span::styled(
                format!("  ·  {} notes (F2)", app.capture.notes.len()),
                t.dim(),
            ),
        ]),
    ];
    frame.render_widget(Paragraph::new(head), header);

    let [list_area, detail_area] =
        Layout::horizontal([Constraint::Fill(2), Constraint::Fill(3)]).areas(body);
    let lb = block(t, " Criteria ", false);
    let inner = lb.inner(list_area);
    frame.render_widget(lb, list_area);
    let mut lines = Vec::new();
    let mut section = "";
    let mut selected_line = 0;
    for (i, c) in score.criteria.iter().enumerate() {
        if c.section != section {
            section = &c.section;
            let s = score.sections.iter().find(|s| s.name == c.section);
            lines.push(Line::styled(
                format!(
                    "{} {}",
                    c.section,
                    s.map_or(String::new(), |s| format!(
                        "({}/{}) {}",
                        s.answered,
                        s.total,
                        score_label(s.score)
                    ))
                ),
                t.title(),
            ));
        }
        let mark = match (c.answered, c.na) {
            (false, _) => "  ·".to_owned(),
            (true, true) => "N/A".to_owned(),
            (true, false) => format!("{:>3}", score_label(c.score)),
        };
        let mut line = Line::from(vec![
            Span::styled(
                format!(" {mark} "),
                if c.answered { t.ok() } else { t.dim() },
            ),
            Span::raw(c.id.clone()),
            Span::styled(if c.note.is_some() { " ✎" } else { "" }, t.dim()),
        ]);
        if i == v.sel {
            line = line.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(line);
    }
    let skip = selected_line.saturating_sub(inner.height.saturating_sub(2) as usize);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );

    let Some(c) = score.criteria.get(v.sel) else {
        return;
    };
    let def = v.state.scorecard.card.criterion(&c.id);
    let [question_area, answer_area, note_area] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(3),
        Constraint::Length(6),
    ])
    .areas(detail_area);
    let mut q = vec![
        Line::styled(c.question.clone(), t.title()),
        Line::raw(""),
        Line::styled(
            format!(
                "Answer: {}",
                def.map(|d| d.scale.hint()).unwrap_or_default()
            ),
            t.dim(),
        ),
    ];
    if let Some(d) = def {
        let mut extra = vec![format!("weight {}", d.weight)];
        if d.na_allowed {
            extra.push("na allowed".into());
        }
        if d.evidence_required {
            extra.push("needs a note".into());
        }
        q.push(Line::styled(extra.join(" · "), t.dim()));
    }
    if c.answered {
        let given = match (c.na, c.value, def) {
            (true, _, _) => "N/A".to_owned(),
            (false, Some(value), Some(d)) => d.scale.show(value),
            (false, Some(value), None) => value.to_string(),
            (false, None, _) => String::new(),
        };
        q.push(Line::raw(""));
        q.push(Line::styled(
            match c.score {
                Some(points) => format!("Answered: {given} · scores {points:.0} of 100"),
                None => format!("Answered: {given}"),
            },
            t.ok(),
        ));
        if let Some((_, note)) = &c.note {
            q.push(Line::styled(format!("Note: {note}"), t.dim()));
        }
    }
    frame.render_widget(
        Paragraph::new(q)
            .wrap(Wrap { trim: true })
            .block(block(t, format!(" {} ", c.id), false)),
        question_area,
    );
    let ab = block(t, " Answer · Enter saves ", v.focus == VisitFocus::Answer);
    let inner = ab.inner(answer_area);
    frame.render_widget(ab, answer_area);
    frame.render_widget(&v.answer, inner);
    let note_title = if def.is_some_and(|d| d.evidence_required) {
        " Note beside the answer (required for this one) · Tab "
    } else {
        " Note beside the answer (optional) · Tab "
    };
    let nb = block(t, note_title, v.focus == VisitFocus::Note);
    let inner = nb.inner(note_area);
    frame.render_widget(nb, note_area);
    frame.render_widget(&app.capture.editor, inner);
}
