//! Tables of notes, one row each, whatever file they come from (CSV, a spreadsheet's sheet):
//! which column holds which field, and how a row becomes a note. The readers only hand over
//! the header's names and each row's cells as text.
//!
//! A `text` column, plus optional `id`, `kind`, `persona`, `touchpoint`, `emotion`, `job`,
//! `code`, `session`, `created_at`, `participant` and `feedback`; any of them can be another
//! header (`--text Comment`), and a column is read for one field only. Several tags in one cell
//! are separated by `;`, `,` or `|`.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::{Facet, Feedback, Measure, MeasureScale, NoteKind, SessionKind, Tag};
use crate::store::{ImportSink, NewSession, NoteRecord};
use crate::time;

use super::encoding::TextEncoding;
use super::stable_id::stable_ulid;

/// What the researcher says about a table beyond what it says itself.
#[derive(Debug, Clone)]
pub struct TableDefaults {
    pub study: String,
    pub session_kind: SessionKind,
    /// The title of the session for rows with no `session` cell (usually the file's name).
    pub session_title: String,
    pub kind: NoteKind,
    /// The session for rows with no `session` cell (an id or a title), instead of
    /// `session_title`.
    pub session: Option<String>,
    /// The feedback type of rows with no `feedback` cell.
    pub feedback: Option<Feedback>,
    /// Which header holds which field (`("text", "Comment")`, `("id", "Response ID")`);
    /// unnamed fields are read from the column of their own name, if no other field claims it.
    pub columns: Vec<(String, String)>,
    /// Headers of columns to leave out entirely.
    pub ignore: Vec<String>,
    /// CSV: the delimiter, instead of the one the header line shows.
    pub delimiter: Option<u8>,
    /// CSV: the file's encoding when it has no byte-order mark and is not UTF-8.
    pub encoding: Option<TextEncoding>,
    /// Spreadsheets: the sheet to read, instead of the first.
    pub sheet: Option<String>,
}

impl TableDefaults {
    /// Rows go to a session titled `session_title` in `study`; nothing else is mapped.
    pub fn new(
        study: impl Into<String>,
        session_kind: SessionKind,
        session_title: impl Into<String>,
        kind: NoteKind,
    ) -> TableDefaults {
        TableDefaults {
            study: study.into(),
            session_kind,
            session_title: session_title.into(),
            kind,
            session: None,
            feedback: None,
            columns: Vec::new(),
            ignore: Vec::new(),
            delimiter: None,
            encoding: None,
            sheet: None,
        }
    }
}

/// The fields a table can hold, by the header that holds them unless mapped.
const FIELDS: &[&str] = &[
    "id",
    "text",
    "kind",
    "persona",
    "touchpoint",
    "emotion",
    "job",
    "code",
    "session",
    "created_at",
    "participant",
    "feedback",
];

/// A row's cells as text; a missing cell is empty.
pub(crate) trait Cells {
    fn cell(&self, column: usize) -> &str;
}

impl Cells for csv::StringRecord {
    fn cell(&self, column: usize) -> &str {
        self.get(column).unwrap_or("")
    }
}

impl Cells for [String] {
    fn cell(&self, column: usize) -> &str {
        self.get(column).map_or("", String::as_str)
    }
}

/// How the `id` column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdColumn {
    /// Given with `--id`: always the producing tool's own id.
    External,
    /// A column named `id`: a ULID is the note's id (as `export` writes it), anything else the
    /// producing tool's own id.
    UlidOrExternal,
}

/// Which column holds which field, worked out once from the header.
#[derive(Debug)]
struct Columns {
    text: usize,
    /// The text column's header, part of ids made from a tool's own ids: the answers to two
    /// questions of one response are two notes.
    text_header: String,
    id: Option<(usize, IdColumn)>,
    kind: Option<usize>,
    session: Option<usize>,
    created_at: Option<usize>,
    participant: Option<usize>,
    feedback: Option<usize>,
    facets: Vec<(Facet, usize)>,
    /// Measure name → its column (`--measure nps=Score`).
    measures: Vec<(String, usize)>,
}

impl Columns {
    /// Matches the header's names (any case) to fields; the reason when they do not fit.
    fn find(headers: &[String], defaults: &TableDefaults) -> std::result::Result<Columns, String> {
        let names: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let listed = || {
            names
                .iter()
                .filter(|n| !n.is_empty())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let position = |header: &str| {
            let wanted = normalise(header);
            names.iter().position(|n| !n.is_empty() && *n == wanted)
        };
        // Each column is read for one field at most: mapped ones first, then ignored ones.
        let mut claimed: Vec<(usize, String)> = Vec::new();
        let mut mapped: HashMap<&str, usize> = HashMap::new();
        for (field, header) in &defaults.columns {
            let Some(c) = position(header) else {
                return Err(format!(
                    "there is no column `{header}` (given for {field}; the columns are: {})",
                    listed()
                ));
            };
            if let Some((_, other)) = claimed.iter().find(|(at, _)| *at == c) {
                return Err(format!(
                    "the column `{header}` is given for both {other} and {field}: a column is read for one field"
                ));
            }
            claimed.push((c, field.clone()));
            mapped.insert(field, c);
        }
        for header in &defaults.ignore {
            let Some(c) = position(header) else {
                return Err(format!(
                    "there is no column `{header}` to ignore (the columns are: {})",
                    listed()
                ));
            };
            if let Some((_, field)) = claimed.iter().find(|(at, _)| *at == c) {
                return Err(format!(
                    "the column `{header}` is both ignored and given for {field}"
                ));
            }
            claimed.push((c, "nothing (ignored)".into()));
        }
        let column = |field: &str| match mapped.get(field) {
            Some(&c) => Some(c),
            None => position(field).filter(|c| !claimed.iter().any(|(at, _)| at == c)),
        };
        let Some(text) = column("text") else {
            return Err(format!(
                "there is no `text` column (the columns are: {}; fieldnotes reads {}, or give --text COL)",
                listed(),
                FIELDS.join(", ")
            ));
        };
        let id = match mapped.get("id") {
            Some(&c) => Some((c, IdColumn::External)),
            None => column("id").map(|c| (c, IdColumn::UlidOrExternal)),
        };
        let measures = defaults
            .columns
            .iter()
            .filter_map(|(field, _)| {
                let name = field.strip_prefix(MEASURE_FIELD)?;
                Some((name.to_owned(), mapped[field.as_str()]))
            })
            .collect();
        Ok(Columns {
            measures,
            text,
            text_header: names[text].clone(),
            id,
            kind: column("kind"),
            session: column("session"),
            created_at: column("created_at"),
            participant: column("participant"),
            feedback: column("feedback"),
            facets: Facet::ALL
                .into_iter()
                .filter_map(|f| column(f.as_str()).map(|c| (f, c)))
                .collect(),
        })
    }
}

/// A mapped field `measure:nps` reads the measure `nps` from its column.
pub const MEASURE_FIELD: &str = "measure:";

/// A survey cell holding a score: `9`, `9.0`, or the choice's text after it as some tools
/// export it (`10 - Extremely likely`).
fn score_in(cell: &str) -> Option<f64> {
    let unsigned = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let digits = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let end = cell.len() - unsigned.len() + digits;
    let rest = &cell[end..];
    let labelled = rest.is_empty()
        || rest.starts_with(char::is_whitespace)
        || rest.starts_with(['-', '–', '—', '(', ':', '=']);
    cell[..end]
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && labelled)
}

/// A header as it is matched: trimmed, without a byte-order mark, in lower case.
fn normalise(header: &str) -> String {
    header.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// One table's rows going into an import: the columns, and the sessions and ids so far.
pub(crate) struct TableImport<'a> {
    name: &'a str,
    defaults: &'a TableDefaults,
    columns: Columns,
    /// Session label → session id.
    sessions: HashMap<String, String>,
    /// How often each (session, text, time) was seen, so identical rows stay several notes.
    seen: HashMap<(String, String, String), u32>,
    /// How often each (session, tool's id) was seen, for the same reason.
    seen_external: HashMap<(String, String), u32>,
    /// The scales the measure columns are read against, once there is one.
    scales: Option<Vec<MeasureScale>>,
    /// Data rows given so far, up to the two a survey tool may add under its header.
    rows_given: usize,
    /// The first data row and where it is, held until the second says whether it belongs to
    /// the header (see [`tool_header_rows`]).
    held: Option<(Vec<String>, String)>,
    /// The header's number of columns.
    width: usize,
}

/// Rows a survey tool writes under its header that are not answers: Qualtrics puts the
/// questions' texts and then a row of `{"ImportId":…}` cells there; SurveyMonkey a row naming
/// each column's kind of answer (`Response`, `Open-Ended Response`) with its first columns
/// (respondent, collector, dates) empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ToolRow {
    ImportIds,
    AnswerKinds,
    Other,
}

fn tool_row<C: Cells + ?Sized>(row: &C, width: usize) -> ToolRow {
    let cells = || {
        (0..width)
            .map(|c| row.cell(c).trim())
            .filter(|c| !c.is_empty())
    };
    if cells().next().is_some() && cells().all(|c| c.starts_with("{\"ImportId\"")) {
        return ToolRow::ImportIds;
    }
    let first_empty = row.cell(0).trim().is_empty();
    if first_empty
        && cells().any(|c| c == "Open-Ended Response" || c == "Response")
        && !cells().any(|c| c.len() > 200)
    {
        return ToolRow::AnswerKinds;
    }
    ToolRow::Other
}

impl<'a> TableImport<'a> {
    /// Reads the header; `at` says where it is ("line 1", "sheet \"Responses\", row 1").
    pub(crate) fn new(
        name: &'a str,
        headers: &[String],
        at: &str,
        defaults: &'a TableDefaults,
    ) -> Result<TableImport<'a>> {
        let columns = Columns::find(headers, defaults).map_err(|reason| Error::Import {
            file: name.to_owned(),
            location: at.to_owned(),
            reason,
        })?;
        Ok(TableImport {
            name,
            defaults,
            columns,
            sessions: HashMap::new(),
            seen: HashMap::new(),
            seen_external: HashMap::new(),
            scales: None,
            rows_given: 0,
            held: None,
            width: headers.len(),
        })
    }

    /// Takes one data row: the rows a survey tool adds under its header are left out (see
    /// [`ToolRow`]), every other row is written as a note by [`TableImport::write_row`].
    /// Call [`TableImport::finish`] after the last row.
    pub(crate) fn row<C: Cells + ?Sized>(
        &mut self,
        row: &C,
        at: impl Fn() -> String,
        sink: &mut ImportSink<'_>,
    ) -> Result<()> {
        self.rows_given += 1;
        match self.rows_given {
            1 => match tool_row(row, self.width) {
                ToolRow::ImportIds | ToolRow::AnswerKinds => Ok(()),
                // Perhaps Qualtrics's row of question texts: the next row tells.
                ToolRow::Other => {
                    let cells = (0..self.width).map(|c| row.cell(c).to_owned()).collect();
                    self.held = Some((cells, at()));
                    Ok(())
                }
            },
            2 => {
                let held = self.held.take();
                if tool_row(row, self.width) == ToolRow::ImportIds {
                    return Ok(());
                }
                if let Some((cells, held_at)) = held {
                    self.write_row(cells.as_slice(), || held_at.clone(), sink)?;
                }
                self.write_row(row, at, sink)
            }
            _ => self.write_row(row, at, sink),
        }
    }

    /// Writes the row still held when the table has only one data row.
    pub(crate) fn finish(&mut self, sink: &mut ImportSink<'_>) -> Result<()> {
        match self.held.take() {
            Some((cells, at)) => self.write_row(cells.as_slice(), || at.clone(), sink),
            None => Ok(()),
        }
    }

    /// Writes one row as a note; a row without text is left out (counted). `at` names the
    /// row for an error, and is only called then.
    fn write_row<C: Cells + ?Sized>(
        &mut self,
        row: &C,
        at: impl Fn() -> String,
        sink: &mut ImportSink<'_>,
    ) -> Result<()> {
        let fail = |reason: String| Error::Import {
            file: self.name.to_owned(),
            location: at(),
            reason,
        };
        let cols = &self.columns;
        let defaults = self.defaults;
        let cell = |c: Option<usize>| c.map_or("", |c| row.cell(c).trim());
        let body = cell(Some(cols.text));
        let mut measures = Vec::new();
        for (name, c) in &cols.measures {
            let raw = cell(Some(*c));
            if raw.is_empty() {
                continue;
            }
            if self.scales.is_none() {
                self.scales = Some(
                    sink.measure_scales(&defaults.study)
                        .map_err(|e| fail(e.to_string()))?,
                );
            }
            let scales = self.scales.as_deref().unwrap_or_default();
            let scale = scales.iter().find(|s| &s.name == name).ok_or_else(|| {
                let known: Vec<&str> = scales.iter().map(|s| s.name.as_str()).collect();
                fail(format!(
                    "--measure {name}: no measure is named {name} (known: {})",
                    known.join(", ")
                ))
            })?;
            let value = score_in(raw).ok_or_else(|| {
                fail(format!(
                    "column for {name}: {raw:?} is not a number in {}",
                    scale.range_text()
                ))
            })?;
            scale
                .check(value)
                .map_err(|e| fail(format!("column for {name}: {e}")))?;
            measures.push(Measure {
                name: name.clone(),
                value,
            });
        }
        // A survey answer may hold a score and no comment: the score still counts.
        if body.is_empty() && measures.is_empty() {
            sink.skip_quietly();
            return Ok(());
        }
        let kind = match cell(cols.kind) {
            "" => defaults.kind,
            k => k.parse().map_err(|e: String| fail(e))?,
        };
        let created_raw = cell(cols.created_at);
        let created_at = match created_raw {
            "" => None,
            raw => {
                Some(time::parse_user(raw).map_err(|e| fail(format!("column `created_at`: {e}")))?)
            }
        };
        let mut tags = Vec::new();
        for (facet, c) in &cols.facets {
            for name in cell(Some(*c)).split([';', ',', '|']) {
                if let Some(tag) = Tag::new(*facet, name.trim_start_matches(facet.sigil())) {
                    tags.push(tag);
                }
            }
        }
        tags.sort();
        tags.dedup();
        let feedback = match cell(cols.feedback) {
            "" => defaults.feedback,
            f => Some(
                f.parse()
                    .map_err(|e: String| fail(format!("column `feedback`: {e}")))?,
            ),
        };
        let participant = match cell(cols.participant) {
            "" => None,
            p => Some(p.to_owned()),
        };
        let session_label = match cell(cols.session) {
            "" => defaults
                .session
                .as_deref()
                .unwrap_or(&defaults.session_title),
            s => s,
        };
        let session = match self.sessions.get(session_label) {
            Some(id) => id.clone(),
            None => {
                let id = session_for(sink, session_label, defaults, created_at)
                    .map_err(|e| fail(e.to_string()))?;
                self.sessions.insert(session_label.to_owned(), id.clone());
                id
            }
        };
        let (id_cell, id_column) = match cols.id {
            Some((c, how)) => (cell(Some(c)), Some(how)),
            None => ("", None),
        };
        let own_ulid = match id_column {
            Some(IdColumn::UlidOrExternal) if !id_cell.is_empty() => {
                ulid::Ulid::from_string(id_cell).ok()
            }
            _ => None,
        };
        let (id, source) = if let Some(ulid) = own_ulid {
            (ulid.to_string(), self.name.to_owned())
        } else if !id_cell.is_empty() {
            // The tool's own id: the same response gives the same note on every import.
            let n = self
                .seen_external
                .entry((session_label.to_owned(), id_cell.to_owned()))
                .or_default();
            *n += 1;
            let id = stable_ulid(
                created_at,
                &[
                    "external id",
                    session_label,
                    &cols.text_header,
                    id_cell,
                    &n.to_string(),
                ],
            );
            (id, format!("{}#{id_cell}", self.name))
        } else {
            // The n-th identical row of a file is its own note, the same one on re-import.
            let key = (
                session_label.to_owned(),
                body.to_owned(),
                created_raw.to_owned(),
            );
            let n = self.seen.entry(key).or_default();
            *n += 1;
            let id = stable_ulid(
                created_at,
                &[session_label, body, created_raw, &n.to_string()],
            );
            (id, self.name.to_owned())
        };
        let at_time = created_at.unwrap_or_else(time::now);
        // A note's measures live in its text, as typed ones do.
        let mut text = body.to_owned();
        for m in &measures {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&m.to_string());
        }
        sink.note(&NoteRecord {
            tags,
            participant,
            source: Some(source),
            feedback,
            ..NoteRecord::written(id, session, kind, text, at_time)
        })
        .map_err(|e| fail(e.to_string()))?;
        Ok(())
    }
}

/// A `session` cell names an existing session by id, or else a session of that title in the
/// default study, created on first use.
fn session_for(
    sink: &mut ImportSink<'_>,
    label: &str,
    defaults: &TableDefaults,
    first_note_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<String> {
    if let Some(id) = sink.session_with_id(label)? {
        return Ok(id);
    }
    if let Some(id) = sink.session_titled(&defaults.study, label)? {
        return Ok(id);
    }
    let mut new = NewSession::new(defaults.study.clone(), defaults.session_kind);
    new.title = Some(label.to_owned());
    new.started_at = first_note_at;
    sink.session(&new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_read_with_or_without_their_choice_text() {
        assert_eq!(score_in("9"), Some(9.0));
        assert_eq!(score_in("4.5"), Some(4.5));
        assert_eq!(score_in("10 - Extremely likely"), Some(10.0));
        assert_eq!(score_in("0 (Not at all likely)"), Some(0.0));
        assert_eq!(score_in("-2"), Some(-2.0));
        assert_eq!(score_in("9abc"), None);
        assert_eq!(score_in("Extremely likely"), None);
        assert_eq!(score_in("4,5"), None);
    }

    fn defaults(columns: &[(&str, &str)], ignore: &[&str]) -> TableDefaults {
        let mut d = TableDefaults::new("S", SessionKind::Interview, "t", NoteKind::Observation);
        d.columns = columns
            .iter()
            .map(|(f, h)| (f.to_string(), h.to_string()))
            .collect();
        d.ignore = ignore.iter().map(|h| h.to_string()).collect();
        d
    }

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_mapped_column_is_read_for_its_field_alone() {
        let h = headers(&["Respondent", "Feedback", "Kind", ""]);
        let c = Columns::find(&h, &defaults(&[("text", "Feedback")], &[])).unwrap();
        assert_eq!(c.text, 1);
        assert_eq!(
            c.feedback, None,
            "Feedback is the text, not the feedback type"
        );
        assert_eq!(c.kind, Some(2));
        let c = Columns::find(&h, &defaults(&[("text", "feedback")], &["kind"])).unwrap();
        assert_eq!(c.kind, None);
    }

    #[test]
    fn ids_given_or_named_and_clashes_refused() {
        let h = headers(&["ID", "text", "Response ID"]);
        let c = Columns::find(&h, &defaults(&[], &[])).unwrap();
        assert_eq!(c.id, Some((0, IdColumn::UlidOrExternal)));
        let c = Columns::find(&h, &defaults(&[("id", "response id")], &[])).unwrap();
        assert_eq!(c.id, Some((2, IdColumn::External)));
        let both = Columns::find(&h, &defaults(&[("persona", "ID"), ("code", "id")], &[]));
        assert!(both.unwrap_err().contains("both persona and code"));
        let ignored = Columns::find(&h, &defaults(&[("text", "ID")], &["id"]));
        assert!(ignored.unwrap_err().contains("both ignored"));
        let missing = Columns::find(&h, &defaults(&[], &["Email"]));
        assert!(missing.unwrap_err().contains("no column `Email` to ignore"));
    }
}
