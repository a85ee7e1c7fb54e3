//! What the co-occurrence and matrix views share: the notes they read and the request in
//! flight, a cursor cell, and the heat map drawn with its row and column labels in sight
//! however far it scrolls.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::View;
use super::common::{move_sel, text_of};
use crate::model::Facet;
use crate::tui::app::App;
use crate::tui::keymap::Action;
use crate::tui::theme::Palette;
use crate::tui::ui::{block, fit};
use crate::tui::worker::{Request, Selection};

/// The facets a heat map cycles through (`None`: every facet's codes).
const FACETS: [Option<Facet>; 6] = [
    None,
    Some(Facet::Code),
    Some(Facet::Persona),
    Some(Facet::Touchpoint),
    Some(Facet::Emotion),
    Some(Facet::Job),
];

/// The item after `now` in `all`, round the end.
pub fn next_in<T: Copy + PartialEq>(all: &[T], now: T) -> T {
    let at = all.iter().position(|x| *x == now).unwrap_or(0);
    all[(at + 1) % all.len()]
}

/// A cell of a grid: its row and column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub row: usize,
    pub col: usize,
}

impl Cursor {
    /// Moves by a navigation key within `rows` × `cols` (rows as in a list); other actions
    /// leave it.
    pub fn step(&mut self, rows: usize, cols: usize, action: Action) {
        match action {
            Action::ColumnLeft => self.col = self.col.saturating_sub(1),
            Action::ColumnRight => self.col = (self.col + 1).min(cols.saturating_sub(1)),
            nav => move_sel(&mut self.row, rows, nav),
        }
    }

    /// Back inside a grid of `rows` × `cols` (after a new count made it smaller).
    pub fn clamp(&mut self, rows: usize, cols: usize) {
        self.row = self.row.min(rows.saturating_sub(1));
        self.col = self.col.min(cols.saturating_sub(1));
    }
}

/// What a heat-map view keeps besides its counts: the notes it reads, where Esc goes, the
/// facet of its codes, the cursor and the request in flight.
#[derive(Debug, Clone)]
pub struct Grid {
    pub selection: Selection,
    pub back: View,
    /// Only this facet's codes (None: every facet's).
    pub facet: Option<Facet>,
    pub cursor: Cursor,
    /// The newest request's number: an older answer is dropped.
    pub generation: u64,
    /// Set while the worker counts.
    pub computing: bool,
}

impl Default for Grid {
    fn default() -> Self {
        Grid {
            selection: Selection::default(),
            back: View::Home,
            facet: None,
            cursor: Cursor::default(),
            generation: 0,
            computing: false,
        }
    }
}

impl Grid {
    /// Opens over the notes the app's view selects: the search's query and filters from the
    /// search, every note from elsewhere. The facet and figures chosen before are kept.
    pub fn open(&mut self, app_view: View, own: View, selection: Selection) {
        if app_view != own {
            self.back = app_view;
        }
        self.selection = selection;
        self.cursor = Cursor::default();
    }

    /// The number of a new request; the view shows it is counting until the answer.
    pub fn ask(&mut self) -> u64 {
        self.generation += 1;
        self.computing = true;
        self.generation
    }

    /// Whether an answer is for the newest request (then the counting is over).
    pub fn answered(&mut self, generation: u64) -> bool {
        if generation != self.generation {
            return false;
        }
        self.computing = false;
        true
    }

    pub fn next_facet(&mut self) {
        self.facet = next_in(&FACETS, self.facet);
    }

    /// "every facet's codes", "=codes", "@personas"…
    pub fn facet_label(&self) -> String {
        match self.facet {
            None => "every facet's codes".into(),
            Some(f) => format!("{}{}s", f.sigil(), f.as_str()),
        }
    }

    /// A heat map's title: what it crosses, what its cells show, over which notes, and
    /// whether it is counting.
    pub fn title(&self, what: &str, cells: &str) -> String {
        let computing = if self.computing {
            " · computing…"
        } else {
            ""
        };
        format!(
            " {what} · cells: {cells} · {}{computing} ",
            self.scope_label()
        )
    }

    /// The notes read, in words: `every note`, `"queue" [#checkout] in Checkout Q3`.
    pub fn scope_label(&self) -> String {
        let s = &self.selection;
        let mut label = if s.query.trim().is_empty() {
            "every note".to_owned()
        } else {
            format!("\"{}\"", s.query.trim())
        };
        for tag in &s.filters.tags {
            label.push_str(&format!(" [{tag}]"));
        }
        if let Some(kind) = s.filters.kind {
            label.push_str(&format!(" [{kind}s]"));
        }
        if s.filters.since.is_some() {
            label.push_str(" [recent]");
        }
        if let Some(study) = &s.study {
            label.push_str(&format!(" in {study}"));
        }
        label
    }
}

/// A view drawn as a heat map: its grid, its counts and how it asks for them.
pub trait HeatMapView {
    /// Which view it is.
    const VIEW: View;
    fn grid(&mut self) -> &mut Grid;
    /// Rows × columns of the counts shown (none yet: 0 × 0).
    fn size(&self) -> (usize, usize);
    /// Asks the worker to count again (the grid says it is computing until the answer).
    fn ask(&mut self) -> Vec<Request>;
    /// Drops the counts and what they were counted from (choices like the figure stay).
    fn let_go(&mut self);
}

/// Opens a heat map over the notes the current view selects (the search's results from the
/// search, every note from the session list); `view` finds the heat map's state in the app.
pub(crate) fn open<V: HeatMapView>(app: &mut App, view: fn(&mut App) -> &mut V) -> Vec<Request> {
    let selection = selection_of(app);
    let from = app.view;
    app.view = V::VIEW;
    let v = view(app);
    v.grid().open(from, V::VIEW, selection);
    v.let_go();
    v.ask()
}

/// The keys every heat map shares: Esc goes back (and lets the counts go), f counts one
/// facet's codes, the rest move the cursor.
pub(crate) fn act<V: HeatMapView>(
    app: &mut App,
    view: fn(&mut App) -> &mut V,
    action: Action,
) -> Vec<Request> {
    let v = view(app);
    match action {
        Action::Back => {
            let back = v.grid().back;
            v.let_go();
            app.view = back;
            if back == View::Home {
                return vec![Request::Sessions];
            }
        }
        Action::CycleFacet => {
            v.grid().next_facet();
            return v.ask();
        }
        nav => {
            let (rows, cols) = v.size();
            v.grid().cursor.step(rows, cols, nav);
        }
    }
    Vec::new()
}

/// The notes a heat map opened from the app's view reads: the search's, from the search.
pub(crate) fn selection_of(app: &App) -> Selection {
    if app.view != View::Search {
        return Selection::default();
    }
    Selection {
        query: text_of(&app.search.query),
        filters: app.search.filters(app.now),
        study: app.search.study.clone(),
    }
}

/// A label of a row or column, in its style.
pub struct Label {
    pub text: String,
    pub style: Style,
}

impl Label {
    /// A code as a label, in its facet's colour (by its sigil).
    pub fn code(t: Palette, code: &str) -> Label {
        let style = code
            .chars()
            .next()
            .and_then(Facet::from_sigil)
            .map_or(Style::new(), |f| t.facet(f));
        Label {
            text: code.to_owned(),
            style,
        }
    }
}

/// What a cell shows.
pub struct Cell {
    /// The figure, e.g. `3`, `0.25`, `67%`; `·` for an empty cell.
    pub text: String,
    /// How hot it is, 0…1 (it picks the shade); None: unshaded, dim (an empty cell, or the
    /// co-occurrence diagonal).
    pub heat: Option<f64>,
}

impl Cell {
    pub fn empty() -> Cell {
        Cell {
            text: "·".into(),
            heat: None,
        }
    }
}

/// The shade of a heat 0…1: blank, ░ ▒ ▓ █ by quarters (readable without colour).
pub fn shade(heat: f64) -> char {
    match heat {
        h if h <= 0.0 => ' ',
        h if h < 0.25 => '░',
        h if h < 0.5 => '▒',
        h if h < 0.75 => '▓',
        _ => '█',
    }
}

/// A heat map to draw.
pub struct Heatmap<'a> {
    pub title: String,
    pub rows: Vec<Label>,
    pub columns: Vec<Label>,
    /// The cell at a row and column.
    pub cell: &'a dyn Fn(usize, usize) -> Cell,
    pub cursor: Cursor,
    /// What the selected cell holds, in words.
    pub detail: Vec<Line<'a>>,
    /// Said instead of the grid when it has no cells.
    pub empty: String,
}

/// Draws a heat map with no counts yet: being counted, or the count failed (the status line
/// says why).
pub fn draw_uncounted(frame: &mut Frame, t: Palette, area: Rect, grid: &Grid, title: String) {
    let text = if grid.computing {
        "Counting…"
    } else {
        "Nothing counted: the status line says what went wrong."
    };
    frame.render_widget(
        Paragraph::new(text)
            .style(t.dim())
            .wrap(Wrap { trim: true })
            .block(block(t, title, true)),
        area,
    );
}

/// The narrowest and widest a column is drawn (its label is cut to fit).
const COLUMN_WIDTH: (usize, usize) = (6, 10);
/// The widest the row labels are drawn.
const LABEL_WIDTH: usize = 24;

/// Draws a heat map: the column labels on top and the row labels on the left stay while
/// the cells scroll to keep the cursor in sight; the selected cell in words under it.
pub fn draw(frame: &mut Frame, t: Palette, area: Rect, map: &Heatmap) {
    // The grid as tall as its rows (and the borders and column labels) where there is room,
    // the selected cell under it, in words: three lines where there is room, else two.
    let detail_height = if area.height >= 16 { 5 } else { 4 };
    let grid_height = (map.rows.len() as u16 + 3).min(area.height.saturating_sub(detail_height));
    let [grid_area, detail_area, _] = Layout::vertical([
        Constraint::Length(grid_height.max(3)),
        Constraint::Length(detail_height),
        Constraint::Fill(1),
    ])
    .areas(area);
    let b = block(t, map.title.clone(), true);
    let inner = b.inner(grid_area);
    if map.rows.is_empty() || map.columns.is_empty() {
        frame.render_widget(
            Paragraph::new(map.empty.clone())
                .style(t.dim())
                .wrap(Wrap { trim: true })
                .block(b),
            area,
        );
        return;
    }
    let width = inner.width as usize;
    let widest = |labels: &[Label]| labels.iter().map(|l| l.text.width()).max().unwrap_or(0);
    let label_width = widest(&map.rows).clamp(4, LABEL_WIDTH.min(width / 3).max(4));
    let cell_width = widest(&map.columns).clamp(COLUMN_WIDTH.0, COLUMN_WIDTH.1);
    let shown_rows = (inner.height as usize).saturating_sub(1).max(1);
    let shown_cols = (width.saturating_sub(label_width) / (cell_width + 1)).max(1);
    let first_row = map.cursor.row.saturating_sub(shown_rows - 1);
    let first_col = map.cursor.col.saturating_sub(shown_cols - 1);
    let rows = first_row..map.rows.len().min(first_row + shown_rows);
    let cols = first_col..map.columns.len().min(first_col + shown_cols);

    // Right-aligned in `w` columns.
    let right = |text: &str, w: usize| {
        let text = fit(text, w);
        format!("{}{text}", " ".repeat(w.saturating_sub(text.width())))
    };
    let mut lines = Vec::with_capacity(rows.len() + 1);
    let mut header = vec![Span::raw(" ".repeat(label_width))];
    for c in cols.clone() {
        let label = &map.columns[c];
        let style = if c == map.cursor.col {
            label.style.patch(t.selected())
        } else {
            label.style
        };
        // Each column starts with the space that parts it from the one before.
        header.push(Span::styled(
            format!(" {}", right(&label.text, cell_width)),
            style,
        ));
    }
    lines.push(Line::from(header));
    for r in rows.clone() {
        let label = &map.rows[r];
        let name = fit(&label.text, label_width);
        let pad = " ".repeat(label_width.saturating_sub(name.width()));
        let style = if r == map.cursor.row {
            label.style.patch(t.selected())
        } else {
            label.style
        };
        let mut spans = vec![Span::styled(format!("{name}{pad}"), style)];
        for c in cols.clone() {
            let cell = (map.cell)(r, c);
            // The figure at the right, the room to its left filled with its shade.
            let text = fit(&cell.text, cell_width);
            let room = cell_width - text.width();
            let (fill, style) = match cell.heat {
                Some(h) if room > 1 => (
                    format!(" {} ", shade(h).to_string().repeat(room - 1)),
                    t.heat(),
                ),
                Some(_) => (" ".repeat(room + 1), t.heat()),
                None => (" ".repeat(room + 1), t.dim()),
            };
            let mut glyph = Span::styled(fill, t.heat());
            let mut text = Span::styled(text, style);
            if (r, c) == (map.cursor.row, map.cursor.col) {
                glyph = glyph.patch_style(t.selected());
                text = text.patch_style(t.selected());
            }
            spans.extend([glyph, text]);
        }
        lines.push(Line::from(spans));
    }
    let mut b = b;
    if rows.len() < map.rows.len() || cols.len() < map.columns.len() {
        b = b.title_bottom(
            Line::from(format!(
                " rows {}–{} of {} · columns {}–{} of {} ",
                rows.start + 1,
                rows.end,
                map.rows.len(),
                cols.start + 1,
                cols.end,
                map.columns.len()
            ))
            .right_aligned(),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(b), grid_area);
    frame.render_widget(
        Paragraph::new(map.detail.clone())
            .wrap(Wrap { trim: true })
            .block(block(t, " Selected cell ", false)),
        detail_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_stays_inside_the_grid() {
        let mut c = Cursor::default();
        c.step(3, 2, Action::ColumnLeft);
        c.step(3, 2, Action::Up);
        assert_eq!(c, Cursor { row: 0, col: 0 });
        for _ in 0..5 {
            c.step(3, 2, Action::ColumnRight);
            c.step(3, 2, Action::Down);
        }
        assert_eq!(c, Cursor { row: 2, col: 1 });
        c.step(3, 2, Action::Top);
        assert_eq!(c, Cursor { row: 0, col: 1 });
        c.step(3, 2, Action::PageDown);
        assert_eq!(c.row, 2);
        c.clamp(1, 1);
        assert_eq!(c, Cursor::default());
        // An empty grid keeps the cursor at the corner.
        c.step(0, 0, Action::ColumnRight);
        c.step(0, 0, Action::Down);
        assert_eq!(c, Cursor::default());
    }

    #[test]
    fn facets_cycle_back_to_every_facet() {
        let mut g = Grid::default();
        let mut seen = vec![g.facet_label()];
        for _ in 0..FACETS.len() {
            g.next_facet();
            seen.push(g.facet_label());
        }
        assert_eq!(
            seen,
            [
                "every facet's codes",
                "=codes",
                "@personas",
                "#touchpoints",
                "!emotions",
                "+jobs",
                "every facet's codes"
            ]
        );
    }

    #[test]
    fn shades_by_quarters() {
        let shades: String = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]
            .into_iter()
            .map(shade)
            .collect();
        assert_eq!(shades, " ░▒▓██");
    }

    #[test]
    fn an_old_answer_is_dropped() {
        let mut g = Grid::default();
        let first = g.ask();
        let second = g.ask();
        assert!(!g.answered(first));
        assert!(g.computing, "still counting the newest");
        assert!(g.answered(second));
        assert!(!g.computing);
    }
}
