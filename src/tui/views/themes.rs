//! The themes view: the analyses of one selection of notes (themes, contrast by persona,
//! pains, the journey), in tabs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::common::{count, move_sel};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::query::Filters;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::kind_marker;
use crate::tui::ui::{block, tagged_line, wrap};
use crate::tui::worker::{Analysis, Request};

pub static SPEC: ViewSpec = ViewSpec {
    title: "themes",
    context: |_| Context::Themes,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// The themes view: the analyses of one selection of notes, in tabs.
pub struct ThemesView {
    pub analysis: Analysis,
    pub tab: ThemeTab,
    pub sel: usize,
}

/// What the themes view keeps across analyses, and before the first arrives.
pub struct ThemesScope {
    /// Where Esc returns to.
    pub back: View,
    /// The study analysed (None: every study).
    pub study: Option<String>,
    /// Set while an analysis runs on the worker.
    pub analysing: bool,
}

impl ThemesScope {
    pub fn new() -> ThemesScope {
        ThemesScope {
            back: View::Home,
            study: None,
            analysing: false,
        }
    }
}

impl Default for ThemesScope {
    fn default() -> Self {
        Self::new()
    }
}

/// The themes view's tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeTab {
    Themes,
    Contrast,
    Pains,
    Journey,
}

impl ThemeTab {
    pub const ALL: [ThemeTab; 4] = [
        ThemeTab::Themes,
        ThemeTab::Contrast,
        ThemeTab::Pains,
        ThemeTab::Journey,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ThemeTab::Themes => "Themes",
            ThemeTab::Contrast => "Contrast by persona",
            ThemeTab::Pains => "Pains",
            ThemeTab::Journey => "Journey",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The next tab (`step` 1) or the previous one (`step` -1), round the ends.
    fn step(self, step: isize) -> ThemeTab {
        let n = Self::ALL.len() as isize;
        Self::ALL[(self.index() as isize + step).rem_euclid(n) as usize]
    }
}

/// Opens the view on an analysis of the notes a query and filters select (from the session
/// list, the search, or the view itself for another study).
pub(crate) fn open(
    app: &mut App,
    query: String,
    filters: Filters,
    study: Option<String>,
) -> Vec<Request> {
    if app.view != View::Themes {
        app.themes_scope.back = app.view;
    }
    app.view = View::Themes;
    app.themes_scope.analysing = true;
    app.say(
        Level::Info,
        match &study {
            Some(s) => format!("Analysing {s}…"),
            None => "Analysing…".into(),
        },
    );
    vec![Request::Analyse {
        query,
        filters,
        study,
    }]
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    if action == Action::Back {
        app.view = app.themes_scope.back;
        if app.view == View::Home {
            return vec![Request::Sessions];
        }
        return Vec::new();
    }
    if action == Action::StudyScope {
        app.themes_scope.study = app.next_study(app.themes_scope.study.as_deref());
        let (query, filters) = match (&app.themes, app.themes_scope.back) {
            (Some(t), View::Search) => (t.analysis.query.clone(), app.search.filters(app.now)),
            _ => (String::new(), Filters::default()),
        };
        let study = app.themes_scope.study.clone();
        return open(app, query, filters, study);
    }
    let Some(t) = app.themes.as_mut() else {
        return Vec::new();
    };
    let rows = match t.tab {
        ThemeTab::Themes => t.analysis.themes.themes.len(),
        ThemeTab::Contrast => t.analysis.contrast.groups.len(),
        ThemeTab::Pains => t.analysis.pains.touchpoints.len(),
        ThemeTab::Journey => t.analysis.journey.points.len(),
    };
    match action {
        Action::NextTab => {
            t.tab = t.tab.step(1);
            t.sel = 0;
        }
        Action::PrevTab => {
            t.tab = t.tab.step(-1);
            t.sel = 0;
        }
        Action::Open if t.tab == ThemeTab::Themes => {
            if let Some(theme) = t.analysis.themes.themes.get(t.sel) {
                return vec![Request::Evidence {
                    title: theme.label.clone(),
                    ids: theme.notes.clone(),
                }];
            }
        }
        nav => move_sel(&mut t.sel, rows, nav),
    }
    Vec::new()
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn analysed(app: &mut App, analysis: Analysis) -> Vec<Request> {
    app.themes_scope.analysing = false;
    let a = analysis;
    app.say(
        Level::Ok,
        format!(
            "{} over {} ({:.0}% of them in a theme)",
            count(a.themes.themes.len(), "theme"),
            count(a.themes.total_notes, "note"),
            a.themes.coverage * 100.0
        ),
    );
    app.themes = Some(ThemesView {
        analysis: a,
        tab: ThemeTab::Themes,
        sel: 0,
    });
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn valence_text(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:+.1}"))
}

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    use ratatui::widgets::Tabs;
    let t = app.palette;
    let [tabs_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    let Some(view) = &app.themes else {
        let msg = if app.themes_scope.analysing {
            "Analysing the notes…"
        } else {
            "No analysis yet."
        };
        frame.render_widget(Paragraph::new(msg).block(block(t, " Themes ", true)), body);
        return;
    };
    let a = &view.analysis;
    frame.render_widget(
        Tabs::new(ThemeTab::ALL.map(ThemeTab::title).to_vec())
            .select(view.tab.index())
            .highlight_style(t.selected())
            .divider(" │ "),
        tabs_area,
    );
    let mut scope = if a.query.trim().is_empty() {
        "every note".to_owned()
    } else {
        format!("\"{}\"", a.query)
    };
    scope.push_str(&match &app.themes_scope.study {
        Some(study) => format!(" in {study} (s: next study)"),
        None => " in every study (s: one study)".to_owned(),
    });
    let title = format!(
        " {} notes · {scope}{} ",
        a.themes.total_notes,
        if app.themes_scope.analysing {
            " · analysing…"
        } else {
            ""
        }
    );
    match view.tab {
        ThemeTab::Themes => {
            let [list_area, detail_area] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(body);
            let mut lines = vec![Line::styled(
                format!(
                    "{:>5} {:>5} {:>5} {:>6}  theme",
                    "notes", "sess", "share", "feel"
                ),
                t.title(),
            )];
            for (i, th) in a.themes.themes.iter().enumerate() {
                let mut line = Line::from(vec![
                    Span::raw(format!(
                        "{:>5} {:>5} {:>4.0}% {:>6}  ",
                        th.note_count,
                        th.sessions,
                        th.share * 100.0,
                        valence_text(th.mean_valence)
                    )),
                    Span::styled(th.label.clone(), t.title()),
                    Span::styled(also(th), t.dim()),
                ]);
                if i == view.sel {
                    line = line.style(t.selected());
                }
                lines.push(line);
            }
            if a.themes.themes.is_empty() {
                lines.push(Line::styled("No theme recurs in these notes.", t.dim()));
            }
            let skip = view
                .sel
                .saturating_sub(list_area.height.saturating_sub(4) as usize);
            frame.render_widget(
                Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>())
                    .block(block(t, title, true)),
                list_area,
            );
            if let Some(th) = a.themes.themes.get(view.sel) {
                let width = detail_area.width.saturating_sub(4) as usize;
                let mut d = vec![
                    Line::from(vec![
                        Span::styled(th.label.clone(), t.title()),
                        Span::styled(also(th), t.dim()),
                    ]),
                    Line::styled(
                        format!(
                            "{} notes · {} sessions · {} participants · feeling {}",
                            th.note_count,
                            th.sessions,
                            th.participants,
                            valence_text(th.mean_valence)
                        ),
                        t.dim(),
                    ),
                ];
                let shares = |list: &[crate::analysis::TagShare], sigil: char| {
                    list.iter()
                        .take(5)
                        .map(|s| format!("{sigil}{} {}", s.name, s.notes))
                        .collect::<Vec<_>>()
                        .join("  ")
                };
                if !th.personas.is_empty() {
                    d.push(Line::styled(
                        shares(&th.personas, '@'),
                        t.facet(crate::model::Facet::Persona),
                    ));
                }
                if !th.touchpoints.is_empty() {
                    d.push(Line::styled(
                        shares(&th.touchpoints, '#'),
                        t.facet(crate::model::Facet::Touchpoint),
                    ));
                }
                d.push(Line::raw(""));
                for e in &th.representative {
                    for (j, piece) in wrap(&e.quote, width.saturating_sub(2))
                        .into_iter()
                        .enumerate()
                    {
                        let lead = if j == 0 {
                            format!("[{}] ", kind_marker(e.kind))
                        } else {
                            "    ".into()
                        };
                        d.push(tagged_line(t, &format!("{lead}{piece}"), Style::new()));
                    }
                    d.push(Line::raw(""));
                }
                d.push(Line::styled("Enter: every note behind this theme", t.dim()));
                frame.render_widget(
                    Paragraph::new(d).block(block(t, " Evidence ", false)),
                    detail_area,
                );
            }
        }
        ThemeTab::Contrast => {
            let mut lines = Vec::new();
            for (i, g) in a.contrast.groups.iter().enumerate() {
                let style = if i == view.sel {
                    t.selected()
                } else {
                    t.title()
                };
                lines.push(Line::styled(
                    format!("@{} ({} notes)", g.group, g.notes),
                    style,
                ));
                let terms: Vec<String> = g
                    .phrases
                    .iter()
                    .chain(g.tags.iter())
                    .take(8)
                    .map(|d| format!("{} z{:.1} ({}/{})", d.term, d.z, d.in_group, d.in_rest))
                    .collect();
                lines.push(Line::raw(format!(
                    "  {}",
                    if terms.is_empty() {
                        "nothing stands out".into()
                    } else {
                        terms.join(" · ")
                    }
                )));
            }
            if lines.is_empty() {
                lines.push(Line::styled("No persona tags in these notes.", t.dim()));
            }
            let skip = (view.sel * 2).saturating_sub(body.height.saturating_sub(4) as usize);
            frame.render_widget(
                Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>())
                    .wrap(Wrap { trim: false })
                    .block(block(
                        t,
                        format!("{title}· what sets each persona apart (z ≥ 1.96; in group/rest) "),
                        true,
                    )),
                body,
            );
        }
        ThemeTab::Pains => {
            let mut lines = vec![Line::styled(
                format!(
                    "{:<22} {:>6} {:>9} {:>7}  emotions",
                    "touchpoint", "notes", "negative", "feel"
                ),
                t.title(),
            )];
            for (i, p) in a.pains.touchpoints.iter().enumerate() {
                let emotions: Vec<String> = p
                    .emotions
                    .iter()
                    .take(4)
                    .map(|(e, n)| format!("!{e} {n}"))
                    .collect();
                let mut line = Line::raw(format!(
                    "{:<22} {:>6} {:>8.0}% {:>7}  {}",
                    format!("#{}", p.touchpoint),
                    p.notes,
                    p.negative_share * 100.0,
                    valence_text(p.mean_valence),
                    emotions.join(" ")
                ));
                if i == view.sel {
                    line = line.style(t.selected());
                }
                lines.push(line);
            }
            if let Some(worst) = a.pains.worst.first() {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!("Where it hurts most: #{}", worst.touchpoint),
                    t.title(),
                ));
                for e in worst.quotes.iter().take(3) {
                    lines.push(tagged_line(
                        t,
                        &format!("  [{}] {}", kind_marker(e.kind), e.quote),
                        Style::new(),
                    ));
                }
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(t, format!("{title}· worst first "), true)),
                body,
            );
        }
        ThemeTab::Journey => journey_chart(frame, app, body, a, &title),
    }
}

fn journey_chart(frame: &mut Frame, app: &App, area: Rect, a: &Analysis, title: &str) {
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
    let t = app.palette;
    let stages: Vec<&crate::analysis::journey::JourneyPoint> = a
        .journey
        .points
        .iter()
        .filter(|p| p.touchpoint.is_none() && p.mean_valence.is_some())
        .collect();
    let [chart_area, table_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let data: Vec<(f64, f64)> = stages
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.mean_valence.unwrap_or(0.0)))
        .collect();
    let labels: Vec<Span> = stages
        .iter()
        .map(|p| Span::raw(p.stage.clone().unwrap_or_else(|| "no stage".into())))
        .collect();
    // Effort (CES 1–7) drawn on the feeling's scale: 1 (much effort) at −2, 7 (effortless)
    // at +2, so both read "higher is better".
    let effort: Vec<(f64, f64)> = stages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.mean_effort.map(|e| (i as f64, (e - 4.0) * 2.0 / 3.0)))
        .collect();
    let zero: Vec<(f64, f64)> = vec![(0.0, 0.0), ((stages.len().max(2) - 1) as f64, 0.0)];
    let datasets = vec![
        Dataset::default()
            .data(&zero)
            .graph_type(GraphType::Line)
            .marker(Marker::Dot)
            .style(t.dim()),
        Dataset::default()
            .name("mean feeling by stage")
            .data(&data)
            .graph_type(GraphType::Line)
            .marker(Marker::Braille)
            .style(t.key()),
        Dataset::default()
            .name("effort (CES, 7 effortless = +2)")
            .data(&effort)
            .graph_type(GraphType::Line)
            .marker(Marker::HalfBlock)
            .style(t.ok()),
    ];
    let chart = Chart::new(datasets)
        .block(block(
            t,
            format!("{title}· feeling (line) and effort (blocks) along the journey "),
            true,
        ))
        .x_axis(
            Axis::default()
                .bounds([0.0, (stages.len().max(2) - 1) as f64])
                .labels(labels),
        )
        .y_axis(Axis::default().bounds([-2.0, 2.0]).labels(vec![
            Span::raw("-2"),
            Span::raw("0"),
            Span::raw("+2"),
        ]));
    frame.render_widget(chart, chart_area);
    let mut lines = vec![Line::styled(
        format!(
            "{:<28} {:>6} {:>7} {:>7}  lanes",
            "stage / touchpoint", "notes", "feel", "effort"
        ),
        t.title(),
    )];
    let sel = app.themes.as_ref().map_or(0, |v| v.sel);
    let mut selected_line = 0;
    for (i, p) in a.journey.points.iter().enumerate() {
        let name = match (&p.stage, &p.touchpoint) {
            (_, Some(tp)) => format!("  #{tp}"),
            (Some(s), None) => s.clone(),
            (None, None) => "no stage".into(),
        };
        let lanes: Vec<String> = p
            .lanes
            .iter()
            .map(|(l, v)| format!("{l} {v:+.1}"))
            .collect();
        let mut line = Line::raw(format!(
            "{name:<28} {:>6} {:>7} {:>7}  {}",
            p.notes,
            valence_text(p.mean_valence),
            p.mean_effort.map_or("–".to_owned(), |e| format!("{e:.1}")),
            lanes.join(" ")
        ));
        if i == sel {
            line = line.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(line);
    }
    // ↑/↓ move through every stage and touchpoint; the table scrolls to keep it in sight.
    let visible = table_area.height.saturating_sub(2) as usize;
    let scroll = selected_line.saturating_sub(visible.saturating_sub(1)) as u16;
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(block(
            t,
            format!(
                " Stages and touchpoints in journey order ({}) · ↑/↓ ",
                a.journey.points.len()
            ),
            false,
        )),
        table_area,
    );
}

/// The phrases shown beside a theme's label: `  · desk · sign visible`.
fn also(theme: &crate::analysis::Theme) -> String {
    theme
        .phrases
        .iter()
        .filter(|p| **p != theme.label)
        .map(|p| format!(" · {p}"))
        .collect()
}
