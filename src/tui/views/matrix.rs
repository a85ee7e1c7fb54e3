//! The matrix view: codes (rows) × a grouping of the notes (columns: persona, participant,
//! session, study, session kind or touchpoint), each cell the notes of the group coded with
//! the code (or their participants, or the row's or column's share), shaded; Enter lists the
//! notes behind a cell. Counted on the worker over the notes a search selects.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::common::count;
use super::grid::{self, Cell, Grid, Heatmap, Label, next_in};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::analysis::matrix::{CellFigure, MatrixCell};
use crate::analysis::{CodeMatrix, Coding, MatrixBy, NoteGroups};
use crate::model::Facet;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::Palette;
use crate::tui::ui::when;
use crate::tui::worker::{CellOf, Request};

pub static SPEC: ViewSpec = ViewSpec {
    title: "matrix",
    context: |_| Context::Matrix,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// The groupings the columns cycle through.
pub const COLUMNS: [MatrixBy; 6] = [
    MatrixBy::Persona,
    MatrixBy::Participant,
    MatrixBy::Session,
    MatrixBy::Study,
    MatrixBy::SessionKind,
    MatrixBy::Touchpoint,
];

#[derive(Debug, Clone)]
pub struct MatrixView {
    pub grid: Grid,
    pub by: MatrixBy,
    pub figure: CellFigure,
    pub matrix: Option<CodeMatrix>,
    /// What was counted: a cell's notes are found in them.
    codings: Arc<Vec<Coding>>,
    groups: Arc<Vec<NoteGroups>>,
}

impl Default for MatrixView {
    fn default() -> Self {
        MatrixView {
            grid: Grid::default(),
            by: MatrixBy::Persona,
            figure: CellFigure::Notes,
            matrix: None,
            codings: Arc::default(),
            groups: Arc::default(),
        }
    }
}

impl grid::HeatMapView for MatrixView {
    const VIEW: View = View::Matrix;

    fn grid(&mut self) -> &mut Grid {
        &mut self.grid
    }

    fn size(&self) -> (usize, usize) {
        self.matrix
            .as_ref()
            .map_or((0, 0), |m| (m.codes.len(), m.groups.len()))
    }

    fn ask(&mut self) -> Vec<Request> {
        vec![Request::Matrix {
            generation: self.grid.ask(),
            selection: self.grid.selection.clone(),
            facet: self.grid.facet,
            by: self.by,
        }]
    }

    fn let_go(&mut self) {
        self.matrix = None;
        self.codings = Arc::default();
        self.groups = Arc::default();
    }
}

/// "personas", "session kinds".
fn plural(by: MatrixBy) -> String {
    format!("{}s", by.name().replace('-', " "))
}

fn this(app: &mut App) -> &mut MatrixView {
    &mut app.matrix
}

/// Opens the matrix over the notes the current view selects (the search's results from the
/// search, every note from the session list).
pub(crate) fn open(app: &mut App) -> Vec<Request> {
    grid::open(app, this)
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let v = &mut app.matrix;
    match action {
        Action::CycleColumns => {
            v.by = next_in(&COLUMNS, v.by);
            v.grid.cursor.col = 0;
            grid::HeatMapView::ask(v)
        }
        Action::CycleFigure => {
            v.figure = next_in(&CellFigure::ALL, v.figure);
            Vec::new()
        }
        Action::Open => open_cell(app),
        _ => grid::act(app, this, action),
    }
}

/// Enter: the notes behind the selected cell, listed by the worker; an empty cell says so.
fn open_cell(app: &mut App) -> Vec<Request> {
    let v = &app.matrix;
    let Some(m) = &v.matrix else {
        return Vec::new();
    };
    let (i, j) = (v.grid.cursor.row, v.grid.cursor.col);
    let (Some(code), Some(group)) = (m.codes.get(i), m.groups.get(j)) else {
        return Vec::new();
    };
    let group_name = group_label(app, m.by, group);
    if m.cells[i][j].notes == 0 {
        let said = format!("No note of {group_name} carries {code}");
        app.say(Level::Info, said);
        return Vec::new();
    }
    vec![Request::CellNotes {
        title: format!("{code} × {group_name}"),
        cell: CellOf::Matrix {
            codings: Arc::clone(&v.codings),
            groups: Arc::clone(&v.groups),
            code: code.clone(),
            group: group.clone(),
        },
    }]
}

// ---- worker responses --------------------------------------------------------------------

/// The matrix arrives (that of a request since replaced is dropped).
pub(crate) fn counted(
    app: &mut App,
    generation: u64,
    matrix: CodeMatrix,
    codings: Arc<Vec<Coding>>,
    groups: Arc<Vec<NoteGroups>>,
) -> Vec<Request> {
    let v = &mut app.matrix;
    if !v.grid.answered(generation) {
        return Vec::new();
    }
    v.grid.cursor.clamp(matrix.codes.len(), matrix.groups.len());
    let said = format!(
        "{} × {} {} over {}",
        count(matrix.codes.len(), "code"),
        matrix.groups.len(),
        plural(matrix.by),
        count(matrix.notes as usize, "note")
    );
    v.matrix = Some(matrix);
    v.codings = codings;
    v.groups = groups;
    app.say(Level::Ok, said);
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

/// A column's name as shown: a persona or touchpoint with its sigil, a session by its date
/// and who took part (or its kind), the others as they are.
fn group_label(app: &App, by: MatrixBy, group: &str) -> String {
    match by {
        MatrixBy::Persona => format!("{}{group}", Facet::Persona.sigil()),
        MatrixBy::Touchpoint => format!("{}{group}", Facet::Touchpoint.sigil()),
        MatrixBy::Session => match app.sessions.iter().find(|s| s.id == group) {
            Some(s) => {
                let day = s.started_at.with_timezone(&app.tz).format("%m-%d");
                let who = s.participants.first().map_or(s.kind.as_str(), |p| p);
                format!("{day} {who}")
            }
            None => group.to_owned(),
        },
        _ => group.to_owned(),
    }
}

/// A session column in full, for the selected cell: kind, study, who, when.
fn session_in_full(app: &App, id: &str) -> Option<String> {
    let s = app.sessions.iter().find(|s| s.id == id)?;
    let mut text = format!("{} · {}", s.kind, s.study);
    if !s.participants.is_empty() {
        text.push_str(&format!(" · {}", s.participants.join(", ")));
    }
    text.push_str(&format!(" · {}", when(app.tz, &s.started_at)));
    Some(text)
}

fn column_style(t: Palette, by: MatrixBy) -> Style {
    match by {
        MatrixBy::Persona => t.facet(Facet::Persona),
        MatrixBy::Touchpoint => t.facet(Facet::Touchpoint),
        _ => t.title(),
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A cell's figure, and its heat: a count against the largest in the matrix, a share as it is.
fn figure(figure: CellFigure, cell: &MatrixCell, most: (u32, u32)) -> Cell {
    if cell.notes == 0 {
        return Cell::empty();
    }
    let against = |n: u32, max: u32| f64::from(n) / f64::from(max.max(1));
    let (text, heat) = match figure {
        CellFigure::Notes => (cell.notes.to_string(), against(cell.notes, most.0)),
        CellFigure::Participants => (
            cell.participants.to_string(),
            against(cell.participants, most.1),
        ),
        CellFigure::RowShare => (percent(cell.row_share), cell.row_share),
        CellFigure::ColumnShare => (percent(cell.column_share), cell.column_share),
    };
    Cell {
        text,
        heat: Some(heat),
    }
}

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let v = &app.matrix;
    let what = format!("Matrix of {} × {}", v.grid.facet_label(), plural(v.by));
    let title = v.grid.title(&what, v.figure.name());
    let Some(m) = &v.matrix else {
        return grid::draw_uncounted(frame, t, area, &v.grid, title);
    };
    let cells = m.cells.iter().flatten();
    let most = cells.fold((0, 0), |(n, p), c| (n.max(c.notes), p.max(c.participants)));
    let cell = |i: usize, j: usize| figure(v.figure, &m.cells[i][j], most);
    let style = column_style(t, m.by);
    let map = Heatmap {
        title,
        rows: m.codes.iter().map(|c| Label::code(t, c)).collect(),
        columns: m
            .groups
            .iter()
            .map(|g| Label {
                text: group_label(app, m.by, g),
                style,
            })
            .collect(),
        cell: &cell,
        cursor: v.grid.cursor,
        detail: detail(app, m),
        empty: if m.groups.is_empty() {
            format!(
                "No note among {} has a {}: press b for other columns.",
                v.grid.scope_label(),
                m.by.name().replace('-', " ")
            )
        } else {
            format!(
                "No coded notes among {}: code notes, or press f for another facet.",
                v.grid.scope_label()
            )
        },
    };
    grid::draw(frame, t, area, &map);
}

/// The selected cell in words.
fn detail<'a>(app: &App, m: &CodeMatrix) -> Vec<Line<'a>> {
    let t = app.palette;
    let cursor = app.matrix.grid.cursor;
    let (Some(code), Some(group)) = (m.codes.get(cursor.row), m.groups.get(cursor.col)) else {
        return Vec::new();
    };
    let cell = &m.cells[cursor.row][cursor.col];
    let (code_total, group_total) = (m.code_totals[cursor.row], m.group_totals[cursor.col]);
    let group_name = group_label(app, m.by, group);
    let mut first = vec![
        Span::styled(code.clone(), Label::code(t, code).style),
        Span::raw(" × "),
        Span::styled(group_name.clone(), column_style(t, m.by)),
    ];
    if cell.notes == 0 {
        first.push(Span::raw(format!(
            ": no note ({code} has {}, {group_name} {})",
            count(code_total.notes as usize, "note"),
            count(group_total.notes as usize, "note")
        )));
    } else {
        first.push(Span::raw(format!(
            ": {} · {} · {} of {code}'s {} · {} of {group_name}'s {} · Enter lists them",
            count(cell.notes as usize, "note"),
            count(cell.participants as usize, "participant"),
            percent(cell.row_share),
            count(code_total.notes as usize, "note"),
            percent(cell.column_share),
            count(group_total.notes as usize, "note")
        )));
    }
    let mut lines = vec![Line::from(first)];
    if m.by == MatrixBy::Session
        && let Some(full) = session_in_full(app, group)
    {
        lines.push(Line::styled(full, t.dim()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::code_matrix;
    use crate::tui::theme::Palette;

    fn groups(note: &str, personas: &[&str]) -> NoteGroups {
        NoteGroups {
            note: note.into(),
            groups: personas.iter().map(|p| (*p).to_owned()).collect(),
            participants: vec![format!("p-{note}")],
        }
    }

    /// =staff in n1 (@parent); =wait in n1, n2 (@parent) and n3 (@student); n4 (@tourist)
    /// uncoded. Rows =staff, =wait; columns parent, student, tourist.
    fn counted_app() -> App {
        let codings = vec![
            Coding::whole("n1", "=staff"),
            Coding::whole("n1", "=wait"),
            Coding::whole("n2", "=wait"),
            Coding::whole("n3", "=wait"),
        ];
        let notes = vec![
            groups("n1", &["parent"]),
            groups("n2", &["parent"]),
            groups("n3", &["student"]),
            groups("n4", &["tourist"]),
        ];
        let mut app = App::new(Palette::plain());
        let asked = open(&mut app);
        let [Request::Matrix { generation, .. }] = asked.as_slice() else {
            panic!("{asked:?}");
        };
        let m = code_matrix(MatrixBy::Persona, &codings, &notes);
        counted(&mut app, *generation, m, Arc::new(codings), Arc::new(notes));
        app
    }

    #[test]
    fn the_cursor_stops_at_the_edges_of_the_matrix() {
        let mut app = counted_app();
        assert_eq!(grid::HeatMapView::size(&app.matrix), (2, 3));
        for _ in 0..5 {
            act(&mut app, Action::ColumnRight);
            act(&mut app, Action::Down);
        }
        assert_eq!(app.matrix.grid.cursor, grid::Cursor { row: 1, col: 2 });
        act(&mut app, Action::Bottom);
        act(&mut app, Action::PageDown);
        assert_eq!(app.matrix.grid.cursor.row, 1);
    }

    #[test]
    fn figures_and_columns_cycle() {
        let mut app = counted_app();
        let mut figures = vec![app.matrix.figure];
        for _ in 0..4 {
            assert!(
                act(&mut app, Action::CycleFigure).is_empty(),
                "no new count"
            );
            figures.push(app.matrix.figure);
        }
        assert_eq!(
            figures,
            [
                CellFigure::Notes,
                CellFigure::Participants,
                CellFigure::RowShare,
                CellFigure::ColumnShare,
                CellFigure::Notes
            ]
        );
        app.matrix.grid.cursor.col = 2;
        let mut by = Vec::new();
        for _ in 0..COLUMNS.len() {
            let asked = act(&mut app, Action::CycleColumns);
            let [Request::Matrix { by: b, .. }] = asked.as_slice() else {
                panic!("{asked:?}");
            };
            by.push(*b);
        }
        assert_eq!(by.last(), Some(&MatrixBy::Persona), "round to the start");
        assert_eq!(by[..2], [MatrixBy::Participant, MatrixBy::Session]);
        assert_eq!(
            app.matrix.grid.cursor.col, 0,
            "new columns start at the left"
        );
        assert!(app.matrix.grid.computing);
    }

    #[test]
    fn enter_on_a_cell_asks_for_its_notes_and_an_empty_cell_says_so() {
        let mut app = counted_app();
        // =staff × @tourist: nothing.
        app.matrix.grid.cursor = grid::Cursor { row: 0, col: 2 };
        assert!(act(&mut app, Action::Open).is_empty());
        let said = app.status.as_ref().map(|s| s.text.clone()).unwrap();
        assert_eq!(said, "No note of @tourist carries =staff");
        // =wait × @parent: n1, n2.
        app.matrix.grid.cursor = grid::Cursor { row: 1, col: 0 };
        let asked = act(&mut app, Action::Open);
        match asked.as_slice() {
            [
                Request::CellNotes {
                    title,
                    cell: CellOf::Matrix { code, group, .. },
                },
            ] => {
                assert_eq!((code.as_str(), group.as_str()), ("=wait", "parent"));
                assert_eq!(title, "=wait × @parent");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cell_shows_its_figure_shaded() {
        let cell = MatrixCell {
            notes: 2,
            participants: 1,
            row_share: 2.0 / 3.0,
            column_share: 1.0,
        };
        let shown = |f| {
            let c = figure(f, &cell, (4, 1));
            (c.text, c.heat)
        };
        assert_eq!(shown(CellFigure::Notes), ("2".into(), Some(0.5)));
        assert_eq!(shown(CellFigure::Participants), ("1".into(), Some(1.0)));
        assert_eq!(shown(CellFigure::RowShare), ("67%".into(), Some(2.0 / 3.0)));
        assert_eq!(shown(CellFigure::ColumnShare), ("100%".into(), Some(1.0)));
        let none = MatrixCell {
            notes: 0,
            participants: 0,
            row_share: 0.0,
            column_share: 0.0,
        };
        assert_eq!(figure(CellFigure::RowShare, &none, (4, 1)).text, "·");
    }
}
