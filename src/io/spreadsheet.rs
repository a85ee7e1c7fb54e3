//! Spreadsheets (Excel `.xlsx`/`.xlsm`/`.xlsb`/`.xls`, OpenDocument `.ods`), read with
//! calamine: one sheet is a table of notes with the same columns as a CSV file (`io::table`).
//! Date cells become times; numbers are written as the sheet shows them without a format
//! (`1042`, `4.5`).

use std::fmt::Write as _;
use std::io::{Cursor, Read};

use calamine::{Data, Reader};

use crate::error::{Error, Result};
use crate::store::ImportSink;

use super::table::{TableDefaults, TableImport};

/// Reads one sheet's rows into the import's transaction: `defaults.sheet`, or the first.
pub fn import(
    name: &str,
    input: impl Read,
    defaults: &TableDefaults,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let fail = |location: String, reason: String| Error::Import {
        file: name.to_owned(),
        location,
        reason,
    };
    let bytes = super::read_bytes(name, input)?;
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.as_slice()))
        .map_err(|e| {
            fail(
                "the whole file".into(),
                format!(
                    "it is not a spreadsheet fieldnotes can read (xlsx, xlsm, xlsb, xls, ods): {e}"
                ),
            )
        })?;
    let sheets = workbook.sheet_names();
    let sheet = match &defaults.sheet {
        Some(wanted) => sheets
            .iter()
            .find(|s| *s == wanted)
            .or_else(|| sheets.iter().find(|s| s.eq_ignore_ascii_case(wanted)))
            .ok_or_else(|| {
                fail(
                    format!("sheet {wanted:?}"),
                    format!(
                        "there is no such sheet (the sheets are: {})",
                        sheets.join(", ")
                    ),
                )
            })?,
        None => sheets
            .first()
            .ok_or_else(|| fail("the whole file".into(), "the workbook has no sheets".into()))?,
    }
    .clone();
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| fail(format!("sheet {sheet:?}"), format!("cannot read it: {e}")))?;
    // Rows are numbered as the spreadsheet shows them, from the first one used.
    let first_row = range.start().map_or(0, |(row, _)| row) + 1;
    let at = |row: u32| format!("sheet {sheet:?}, row {row}");
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        return Err(fail(
            format!("sheet {sheet:?}"),
            "the sheet is empty".into(),
        ));
    };
    let headers: Vec<String> = header
        .iter()
        .map(|c| {
            let mut text = String::new();
            write_cell(&mut text, c);
            text
        })
        .collect();
    let mut table = TableImport::new(name, &headers, &at(first_row), defaults)?;
    let mut cells: Vec<String> = vec![String::new(); headers.len()];
    for (i, row) in rows.enumerate() {
        cells.resize(row.len().max(cells.len()), String::new());
        for (text, cell) in cells
            .iter_mut()
            .zip(row.iter().chain(std::iter::repeat(&Data::Empty)))
        {
            text.clear();
            write_cell(text, cell);
        }
        let row_number = first_row + 1 + i as u32;
        table.row(cells.as_slice(), || at(row_number), sink)?;
    }
    table.finish(sink)
}

/// A cell as text: dates as `2026-09-03 10:15:00` (the sheet's own time, read as UTC, as a
/// typed date is), whole numbers without a decimal point, errors as the sheet shows them.
fn write_cell(out: &mut String, cell: &Data) {
    let _ = match cell {
        Data::Empty => Ok(()),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
            out.push_str(s);
            Ok(())
        }
        Data::Int(n) => write!(out, "{n}"),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => write!(out, "{}", *f as i64),
        Data::Float(f) => write!(out, "{f}"),
        Data::Bool(b) => write!(out, "{}", if *b { "TRUE" } else { "FALSE" }),
        Data::DateTime(t) if t.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = t.to_ymd_hms_milli();
            write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }
        Data::DateTime(t) => write!(out, "{}", t.as_f64()),
        Data::Error(e) => write!(out, "{e}"),
    };
}
