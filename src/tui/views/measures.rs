//! The measures view: NPS, satisfaction, effort and confidence over the notes a search selects
//! (every note from the session list), for all of them and by touchpoint, persona, study or
//! month, with the selected group's distributions and the moments of truth. Counted on the
//! worker with the same analysis as `fieldnotes measures`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::grid::{next_in, selection_of};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::analysis::MeasureBy;
use crate::analysis::measures::{MeasureGroup, MeasureSummary, MeasuresReport};
use crate::model::number;
use crate::tui::app::App;
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::{block, fit};
use crate::tui::worker::{Request, Selection};

pub static SPEC: ViewSpec = ViewSpec {
    title: "measures",
    context: |_| Context::Measures,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// The groupings `b` walks through: none, then each in turn.
const GROUPINGS: [Option<MeasureBy>; 5] = [
    None,
    Some(MeasureBy::Touchpoint),
    Some(MeasureBy::Persona),
    Some(MeasureBy::Study),
    Some(MeasureBy::Month),
];

#[derive(Debug, Clone)]
pub struct MeasuresView {
    pub selection: Selection,
    pub back: View,
    pub by: Option<MeasureBy>,
    pub report: Option<MeasuresReport>,
    /// The selected group (0: all the values).
    pub selected: usize,
    /// The newest request's number: an older answer is dropped.
    pub generation: u64,
    pub computing: bool,
}

impl Default for MeasuresView {
    fn default() -> Self {
        MeasuresView {
            selection: Selection::default(),
            back: View::Home,
            by: Some(MeasureBy::Touchpoint),
            report: None,
            selected: 0,
            generation: 0,
            computing: false,
        }
    }
}

impl MeasuresView {
    fn ask(&mut self) -> Vec<Request> {
        self.generation += 1;
        self.computing = true;
        vec![Request::Measures {
            generation: self.generation,
            selection: self.selection.clone(),
            by: self.by,
        }]
    }

    fn groups(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.groups.len())
    }
}

/// Opens the view over the notes the current view selects.
pub(crate) fn open(app: &mut App) -> Vec<Request> {
    let selection = selection_of(app);
    let v = &mut app.measures;
    if app.view != View::Measures {
        v.back = app.view;
    }
    v.selection = selection;
    v.selected = 0;
    app.view = View::Measures;
    app.measures.ask()
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let v = &mut app.measures;
    match action {
        Action::Back => {
            app.view = v.back;
            v.report = None;
        }
        Action::CycleColumns => {
            v.by = next_in(&GROUPINGS, v.by);
            v.selected = 0;
            return v.ask();
        }
        Action::Down => v.selected = (v.selected + 1).min(v.groups().saturating_sub(1)),
        Action::Up => v.selected = v.selected.saturating_sub(1),
        Action::Top => v.selected = 0,
        Action::Bottom => v.selected = v.groups().saturating_sub(1),
        _ => {}
    }
    Vec::new()
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn counted(app: &mut App, generation: u64, report: MeasuresReport) -> Vec<Request> {
    let v = &mut app.measures;
    if generation != v.generation {
        return Vec::new();
    }
    v.computing = false;
    v.selected = v.selected.min(report.groups.len().saturating_sub(1));
    v.report = Some(report);
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

/// `-39 ±24` for NPS, `3.11` for a mean; `–` when the group has none.
fn figure(group: &MeasureGroup, name: &str) -> String {
    match group.measures.iter().find(|m| m.name == name) {
        Some(MeasureSummary { nps: Some(n), .. }) => format!("{:+.0} ±{:.0}", n.score, n.margin),
        Some(m) => format!("{:.2}", m.mean),
        None => "–".into(),
    }
}

fn values(group: &MeasureGroup) -> usize {
    group.measures.iter().map(|m| m.n).sum()
}

const COLUMNS: [&str; 4] = ["nps", "csat", "ces", "confidence"];

/// Heights of a distribution's columns, lowest first.
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let v = &app.measures;
    let scope = if v.selection == Selection::default() {
        "every note".to_owned()
    } else {
        format!("the search's notes: {}", v.selection.query)
    };
    let by =
        v.by.map_or("all together".to_owned(), |b| format!("by {}", b.as_str()));
    let title = format!(
        " Measures {by} · {scope}{} ",
        if v.computing { " · computing…" } else { "" }
    );
    let Some(r) = &v.report else {
        frame.render_widget(
            Paragraph::new(if v.computing {
                "Counting the measures…"
            } else {
                "Nothing counted yet."
            })
            .block(block(t, title, true)),
            area,
        );
        return;
    };
    if values(&r.groups[0]) == 0 {
        frame.render_widget(
            Paragraph::new(
                "No measures among these notes. Type them in a note as %nps=9 %csat=4 %ces=6 \
                 %confidence=3, or give a whole session some in the new-session form.",
            )
            .wrap(Wrap { trim: true })
            .block(block(t, title, true)),
            area,
        );
        return;
    }
    let [table_area, detail_area] = if area.width >= 100 {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area)
    };
    let name_width = (table_area.width as usize)
        .saturating_sub(2 + 11 + 3 * 7 + 6)
        .clamp(6, 28);
    let mut lines = vec![Line::styled(
        format!(
            "{:<name_width$} {:>6} {:>10} {:>6} {:>6} {:>6}",
            "group", "values", "NPS", "CSAT", "CES", "conf."
        ),
        t.title(),
    )];
    let visible = table_area.height.saturating_sub(3) as usize;
    let first = v.selected.saturating_sub(visible.saturating_sub(1));
    for (i, g) in r.groups.iter().enumerate().skip(first).take(visible) {
        let row = format!(
            "{:<name_width$} {:>6} {:>10} {:>6} {:>6} {:>6}",
            fit(&g.group, name_width),
            values(g),
            figure(g, COLUMNS[0]),
            figure(g, COLUMNS[1]),
            figure(g, COLUMNS[2]),
            figure(g, COLUMNS[3]),
        );
        lines.push(if i == v.selected {
            Line::styled(row, t.selected())
        } else {
            Line::raw(row)
        });
    }
    if let Some(by) = v.by
        && r.groups
            .iter()
            .any(|g| g.group == crate::analysis::measures::NO_GROUP)
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{}: values with no {} (a whole session's, or a note without one)",
                crate::analysis::measures::NO_GROUP,
                by.as_str()
            ),
            t.dim(),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, title, true)),
        table_area,
    );
    draw_detail(frame, app, r, detail_area);
}

/// The selected group's measures as distributions, and the moments of truth.
fn draw_detail(frame: &mut Frame, app: &App, r: &MeasuresReport, area: Rect) {
    let t = app.palette;
    let g = &r.groups[app.measures.selected.min(r.groups.len() - 1)];
    let mut lines: Vec<Line> = Vec::new();
    for m in &g.measures {
        let head = match &m.nps {
            Some(n) => format!(
                "NPS {:+.0} ± {:.0} (n={}): {} promoters · {} passives · {} detractors",
                n.score, n.margin, m.n, n.promoters, n.passives, n.detractors
            ),
            None => format!(
                "{} {:.2} ± {:.2} (n={}){}",
                m.name.to_uppercase(),
                m.mean,
                m.margin,
                m.n,
                m.top_two
                    .map(|s| format!(", top two {:.0}%", s * 100.0))
                    .unwrap_or_default()
            ),
        };
        lines.push(Line::styled(head, t.title()));
        if let (Some(first), Some(last)) = (m.distribution.first(), m.distribution.last()) {
            // One column per point of the scale, as tall as its share of the most given.
            let most = m
                .distribution
                .iter()
                .map(|b| b.count)
                .max()
                .unwrap_or(0)
                .max(1);
            let bars: String = m
                .distribution
                .iter()
                .map(|b| match b.count {
                    0 => '·',
                    n => SPARKS[(n * (SPARKS.len() - 1)).div_ceil(most)],
                })
                .collect();
            let counts: Vec<String> = m.distribution.iter().map(|b| b.count.to_string()).collect();
            lines.push(Line::from(vec![
                Span::raw(format!("  {} ", number(first.value))),
                Span::styled(bars, t.key()),
                Span::raw(format!(" {}   ", number(last.value))),
                Span::styled(counts.join(" "), t.dim()),
            ]));
        }
    }
    if !r.moments_of_truth.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Moments of truth: poor effort, negative feeling",
            t.title(),
        ));
        for m in &r.moments_of_truth {
            lines.push(Line::raw(format!(
                "#{} effort {:.1} · feeling {:+.2}",
                m.touchpoint, m.effort, m.valence
            )));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, format!(" {} ", fit(&g.group, 40)), false)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grouping_cycles_round() {
        let mut by = Some(MeasureBy::Touchpoint);
        for _ in 0..GROUPINGS.len() {
            by = next_in(&GROUPINGS, by);
        }
        assert_eq!(by, Some(MeasureBy::Touchpoint));
    }
}
