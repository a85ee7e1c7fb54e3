//! A mystery-shop visit being filled in: the scorecard's criteria, the answer to the one
//! selected and a note beside it (the note box is the session's capture editor).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::mystery_shop::score_label;
use crate::tui::app::{App, VisitFocus};
use crate::tui::ui::block;

pub(crate) fn draw(frame: &mut Frame, app: &App, area: Rect) {
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
