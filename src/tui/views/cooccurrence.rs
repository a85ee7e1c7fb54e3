//! The co-occurrence view: codes × codes as a heat map, each cell the notes where both codes
//! apply (or ATLAS.ti's c-coefficient, or the overlapping passages), shaded by c; Enter lists
//! the notes behind a cell. Counted on the worker over the notes a search selects.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::common::count;
use super::grid::{self, Cell, Grid, Heatmap, Label, next_in};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::analysis::{Coding, CooccurrenceReport};
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::worker::{CellOf, Request};

pub static SPEC: ViewSpec = ViewSpec {
    title: "co-occurrence",
    context: |_| Context::Cooccurrence,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// What the cells show; the shade is always the c-coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairFigure {
    /// The notes where both codes apply.
    Notes,
    /// ATLAS.ti's c-coefficient over notes, 0…1.
    C,
    /// The pairs of the two codes' codings that overlap.
    Overlaps,
}

impl PairFigure {
    pub const ALL: [PairFigure; 3] = [PairFigure::Notes, PairFigure::C, PairFigure::Overlaps];

    pub fn name(self) -> &'static str {
        match self {
            PairFigure::Notes => "notes together",
            PairFigure::C => "c-coefficient",
            PairFigure::Overlaps => "overlapping passages",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CooccurrenceView {
    pub grid: Grid,
    pub figure: PairFigure,
    pub report: Option<CooccurrenceReport>,
    /// The codings counted: a cell's notes are found in them.
    codings: Arc<Vec<Coding>>,
}

impl Default for CooccurrenceView {
    fn default() -> Self {
        CooccurrenceView {
            grid: Grid::default(),
            figure: PairFigure::Notes,
            report: None,
            codings: Arc::default(),
        }
    }
}

impl grid::HeatMapView for CooccurrenceView {
    const VIEW: View = View::Cooccurrence;

    fn grid(&mut self) -> &mut Grid {
        &mut self.grid
    }

    fn size(&self) -> (usize, usize) {
        let k = self.report.as_ref().map_or(0, |r| r.codes.len());
        (k, k)
    }

    fn ask(&mut self) -> Vec<Request> {
        vec![Request::Cooccurrence {
            generation: self.grid.ask(),
            selection: self.grid.selection.clone(),
            facet: self.grid.facet,
        }]
    }

    fn let_go(&mut self) {
        self.report = None;
        self.codings = Arc::default();
    }
}

fn this(app: &mut App) -> &mut CooccurrenceView {
    &mut app.cooccurrence
}

/// Opens the heat map over the notes the current view selects (the search's results from
/// the search, every note from the session list).
pub(crate) fn open(app: &mut App) -> Vec<Request> {
    grid::open(app, this)
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    match action {
        Action::CycleFigure => {
            let v = &mut app.cooccurrence;
            v.figure = next_in(&PairFigure::ALL, v.figure);
            Vec::new()
        }
        Action::Open => open_cell(app),
        _ => grid::act(app, this, action),
    }
}

/// Enter: the notes behind the selected cell, listed by the worker; an empty cell says so.
fn open_cell(app: &mut App) -> Vec<Request> {
    let v = &app.cooccurrence;
    let Some(r) = &v.report else {
        return Vec::new();
    };
    let (i, j) = (v.grid.cursor.row, v.grid.cursor.col);
    let (Some(a), Some(b)) = (r.codes.get(i), r.codes.get(j)) else {
        return Vec::new();
    };
    let (a, b) = (a.code.clone(), b.code.clone());
    if r.notes[i][j] == 0 {
        app.say(Level::Info, format!("No note carries both {a} and {b}"));
        return Vec::new();
    }
    let title = if i == j {
        format!("{a}: its notes")
    } else {
        format!("{a} × {b}")
    };
    vec![Request::CellNotes {
        title,
        cell: CellOf::Pair {
            codings: Arc::clone(&v.codings),
            a,
            b,
        },
    }]
}

// ---- worker responses --------------------------------------------------------------------

/// The counts arrive (those of a request since replaced are dropped).
pub(crate) fn counted(
    app: &mut App,
    generation: u64,
    report: CooccurrenceReport,
    codings: Arc<Vec<Coding>>,
) -> Vec<Request> {
    let v = &mut app.cooccurrence;
    if !v.grid.answered(generation) {
        return Vec::new();
    }
    let k = report.codes.len();
    v.grid.cursor.clamp(k, k);
    let said = format!(
        "{} over {}",
        count(k, "code"),
        count(report.coded_notes as usize, "coded note")
    );
    v.report = Some(report);
    v.codings = codings;
    app.say(Level::Ok, said);
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let v = &app.cooccurrence;
    let what = format!("Co-occurrence of {}", v.grid.facet_label());
    let title = v
        .grid
        .title(&what, &format!("{}, shaded by c", v.figure.name()));
    let Some(r) = &v.report else {
        return grid::draw_uncounted(frame, t, area, &v.grid, title);
    };
    let labels = || r.codes.iter().map(|c| Label::code(t, &c.code)).collect();
    let cell = |i: usize, j: usize| {
        if i == j {
            // The diagonal is the code's own: its notes and codings, unshaded.
            let own = &r.codes[i];
            let text = match v.figure {
                PairFigure::Notes => own.notes.to_string(),
                PairFigure::C => "–".into(),
                PairFigure::Overlaps => own.codings.to_string(),
            };
            return Cell { text, heat: None };
        }
        if r.notes[i][j] == 0 {
            return Cell::empty();
        }
        let text = match v.figure {
            PairFigure::Notes => r.notes[i][j].to_string(),
            PairFigure::C => format!("{:.2}", r.c[i][j]),
            PairFigure::Overlaps => r.overlaps[i][j].to_string(),
        };
        Cell {
            text,
            heat: Some(r.c[i][j]),
        }
    };
    let map = Heatmap {
        title,
        rows: labels(),
        columns: labels(),
        cell: &cell,
        cursor: v.grid.cursor,
        detail: detail(app, r),
        empty: format!(
            "No coded notes among {}: code notes (a tag typed in a note, or c on words in a note's text), or press f for another facet.",
            v.grid.scope_label()
        ),
    };
    grid::draw(frame, t, area, &map);
}

/// The selected cell in words.
fn detail<'a>(app: &App, r: &CooccurrenceReport) -> Vec<Line<'a>> {
    let t = app.palette;
    let cursor = app.cooccurrence.grid.cursor;
    let (Some(a), Some(b)) = (r.codes.get(cursor.row), r.codes.get(cursor.col)) else {
        return Vec::new();
    };
    let name = |code: &str| Span::styled(code.to_owned(), Label::code(t, code).style);
    if cursor.row == cursor.col {
        return vec![Line::from(vec![
            name(&a.code),
            Span::raw(format!(
                ": {} · {} · Enter lists them",
                count(a.notes as usize, "note"),
                count(a.codings as usize, "coding")
            )),
        ])];
    }
    let together = r.notes[cursor.row][cursor.col];
    let mut line = vec![name(&a.code), Span::raw(" × "), name(&b.code)];
    if together == 0 {
        line.push(Span::raw(format!(
            ": never on the same note ({} and {})",
            count(a.notes as usize, "note"),
            count(b.notes as usize, "note")
        )));
    } else {
        line.push(Span::raw(format!(
            ": {} together (of {} and {}) · c {:.2} · {} · Enter lists them",
            count(together as usize, "note"),
            a.notes,
            b.notes,
            r.c[cursor.row][cursor.col],
            count(
                r.overlaps[cursor.row][cursor.col] as usize,
                "overlapping passage"
            ),
        )));
    }
    vec![Line::from(line)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cooccurrence;
    use crate::tui::theme::Palette;

    /// Three codes over three notes: =price alone in n3, =staff and =wait together in n1,
    /// =wait alone in n2. Sorted: =price, =staff, =wait.
    fn counted_app() -> App {
        let codings = vec![
            Coding::whole("n1", "=staff"),
            Coding::passage("n1", "=wait", 0, 9),
            Coding::whole("n2", "=wait"),
            Coding::whole("n3", "=price"),
        ];
        let mut app = App::new(Palette::plain());
        let asked = open(&mut app);
        let [Request::Cooccurrence { generation, .. }] = asked.as_slice() else {
            panic!("{asked:?}");
        };
        counted(
            &mut app,
            *generation,
            cooccurrence(&codings),
            Arc::new(codings),
        );
        app
    }

    #[test]
    fn opens_from_the_session_list_over_every_note() {
        let mut app = App::new(Palette::plain());
        let asked = open(&mut app);
        assert_eq!(app.view, View::Cooccurrence);
        assert!(app.cooccurrence.grid.computing);
        assert!(matches!(
            asked.as_slice(),
            [Request::Cooccurrence { selection, facet: None, .. }] if *selection == Default::default()
        ));
    }

    #[test]
    fn the_cursor_stops_at_the_edges_of_the_matrix() {
        let mut app = counted_app();
        for _ in 0..5 {
            act(&mut app, Action::ColumnRight);
            act(&mut app, Action::Down);
        }
        assert_eq!(
            app.cooccurrence.grid.cursor,
            grid::Cursor { row: 2, col: 2 }
        );
        act(&mut app, Action::Top);
        for _ in 0..5 {
            act(&mut app, Action::ColumnLeft);
        }
        assert_eq!(app.cooccurrence.grid.cursor, grid::Cursor::default());
    }

    #[test]
    fn the_figure_cycles_and_the_facet_counts_again() {
        let mut app = counted_app();
        let mut figures = vec![app.cooccurrence.figure];
        for _ in 0..3 {
            assert!(
                act(&mut app, Action::CycleFigure).is_empty(),
                "no new count"
            );
            figures.push(app.cooccurrence.figure);
        }
        assert_eq!(
            figures,
            [
                PairFigure::Notes,
                PairFigure::C,
                PairFigure::Overlaps,
                PairFigure::Notes
            ]
        );
        let asked = act(&mut app, Action::CycleFacet);
        assert!(matches!(
            asked.as_slice(),
            [Request::Cooccurrence {
                facet: Some(crate::model::Facet::Code),
                generation: 2,
                ..
            }]
        ));
        assert!(app.cooccurrence.grid.computing);
        // The answer to the first request, arriving late, changes nothing.
        counted(&mut app, 1, cooccurrence(&[]), Arc::default());
        assert_eq!(grid::HeatMapView::size(&app.cooccurrence), (3, 3));
    }

    #[test]
    fn enter_on_a_cell_asks_for_its_notes_and_an_empty_cell_says_so() {
        let mut app = counted_app();
        // =price × =staff: never together.
        app.cooccurrence.grid.cursor = grid::Cursor { row: 0, col: 1 };
        assert!(act(&mut app, Action::Open).is_empty());
        let said = app.status.as_ref().map(|s| s.text.clone()).unwrap();
        assert_eq!(said, "No note carries both =price and =staff");
        // =staff × =wait: n1.
        app.cooccurrence.grid.cursor = grid::Cursor { row: 1, col: 2 };
        let asked = act(&mut app, Action::Open);
        match asked.as_slice() {
            [
                Request::CellNotes {
                    title,
                    cell: CellOf::Pair { a, b, codings },
                },
            ] => {
                assert_eq!((a.as_str(), b.as_str()), ("=staff", "=wait"));
                assert_eq!(title, "=staff × =wait");
                assert_eq!(codings.len(), 4);
            }
            other => panic!("{other:?}"),
        }
        // Before any count, Enter does nothing.
        let mut fresh = App::new(Palette::plain());
        open(&mut fresh);
        assert!(act(&mut fresh, Action::Open).is_empty());
    }

    #[test]
    fn a_failed_count_stops_saying_it_is_counting() {
        let mut app = App::new(Palette::plain());
        app.opened = true;
        open(&mut app);
        let screen = |app: &mut App| {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 12)).unwrap();
            terminal.draw(|f| crate::tui::ui::render(f, app)).unwrap();
            terminal.backend().to_string()
        };
        assert!(screen(&mut app).contains("Counting…"));
        app.handle_response(crate::tui::worker::Response::Failed(
            "cannot parse the query".into(),
        ));
        let shown = screen(&mut app);
        assert!(shown.contains("Nothing counted"), "{shown}");
        assert!(!shown.contains("computing…"), "{shown}");
    }

    #[test]
    fn esc_goes_back_and_lets_the_counts_go() {
        let mut app = counted_app();
        app.cooccurrence.figure = PairFigure::C;
        let asked = act(&mut app, Action::Back);
        assert_eq!(app.view, View::Home);
        assert!(matches!(asked.as_slice(), [Request::Sessions]));
        assert!(app.cooccurrence.report.is_none());
        assert!(app.cooccurrence.codings.is_empty());
        assert_eq!(app.cooccurrence.figure, PairFigure::C, "kept for next time");
    }
}
