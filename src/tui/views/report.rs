//! The mystery-shopping report: mean scores by location and by month, and the worst
//! criteria with the notes behind their low scores.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{View, ViewSpec, no_paste, no_typing};
use crate::mystery_shop::{ReportGroup, score_label};
use crate::tui::app::App;
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::block;
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "mystery-shopping report",
    context: |_| Context::Report,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// The mystery-shopping report view.
pub struct ReportView {
    pub by_location: Vec<ReportGroup>,
    pub by_month: Vec<ReportGroup>,
    pub visits: usize,
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    if action == Action::Back {
        app.view = View::Home;
    }
    Vec::new()
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn loaded(app: &mut App, report: ReportView) -> Vec<Request> {
    app.report = Some(report);
    app.view = View::Report;
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    use ratatui::widgets::{Bar, BarChart, BarGroup};
    let t = app.palette;
    let Some(r) = &app.report else {
        return;
    };
    if r.visits == 0 {
        frame.render_widget(
            Paragraph::new("No mystery-shop visits yet: start a session of kind mystery-shop with a scorecard.")
                .wrap(Wrap { trim: true })
                .block(block(t, " Mystery-shopping report ", true)),
            area,
        );
        return;
    }
    let [charts, table_area] =
        Layout::vertical([Constraint::Length(12), Constraint::Min(3)]).areas(area);
    let [by_location, by_month] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
    let width = |n: usize, area: Rect| {
        ((area.width.saturating_sub(2) as usize / n.max(1)).saturating_sub(1)).clamp(3, 14) as u16
    };
    let bars = |groups: &[ReportGroup], width: u16| -> Vec<Bar<'static>> {
        groups
            .iter()
            .map(|g| {
                let mean = g.mean.unwrap_or(0.0).round() as u64;
                Bar::default()
                    .value(mean)
                    .label(Line::from(short_label(&g.group, width as usize)))
                    .text_value(format!("{mean}"))
            })
            .collect()
    };
    frame.render_widget(
        BarChart::default()
            .block(block(t, " Mean score by location (worst first) ", false))
            .data(BarGroup::default().bars(&bars(
                &r.by_location,
                width(r.by_location.len(), by_location),
            )))
            .bar_width(width(r.by_location.len(), by_location))
            .bar_gap(1)
            .max(100)
            .bar_style(t.ok()),
        by_location,
    );
    frame.render_widget(
        BarChart::default()
            .block(block(t, " Trend: mean score by month ", false))
            .data(BarGroup::default().bars(&bars(&r.by_month, width(r.by_month.len(), by_month))))
            .bar_width(width(r.by_month.len(), by_month))
            .bar_gap(1)
            .max(100)
            .bar_style(t.key()),
        by_month,
    );
    let mut lines = vec![Line::styled(
        format!(
            "{:<24} {:>6} {:>5} {:>7}  worst criteria",
            "Location", "visits", "mean", "spread"
        ),
        t.title(),
    )];
    for g in &r.by_location {
        lines.push(Line::raw(format!(
            "{:<24} {:>6} {:>5} {:>7}  {}",
            g.group,
            g.visits,
            score_label(g.mean),
            score_label(g.spread),
            g.worst_criteria(3)
        )));
        // The evidence behind the low scores: the notes beside the worst answers, whichever
        // criteria they are on.
        let mut low: Vec<(&str, &str, f64)> = g
            .criteria
            .iter()
            .flat_map(|c| {
                c.low_notes
                    .iter()
                    .map(move |(_, note, sc)| (c.id.as_str(), note.as_str(), *sc))
            })
            .collect();
        low.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (id, note, sc) in low.into_iter().take(2) {
            lines.push(Line::styled(format!("    {id} {sc:.0}: {note}"), t.dim()));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(block(t, format!(" {} visits ", r.visits), false)),
        table_area,
    );
}

/// A bar's label in `width` columns: a month `2026-07` becomes `07/26` or `Jul` when the
/// bars are narrow, anything else is cut.
fn short_label(group: &str, width: usize) -> String {
    if group.chars().count() <= width {
        return group.to_owned();
    }
    if let Ok(month) = chrono::NaiveDate::parse_from_str(&format!("{group}-01"), "%Y-%m-%d") {
        let numeric = month.format("%m/%y").to_string();
        if numeric.len() <= width {
            return numeric;
        }
        return month.format("%b").to_string();
    }
    group.chars().take(width).collect()
}
