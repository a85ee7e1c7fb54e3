//! CSV: a table of notes (see `io::table` for its columns), comma-, semicolon-, tab- or
//! pipe-separated, as spreadsheets and survey tools write it; and the export that `import`
//! reads back.

use std::io::{Read, Write};

use crate::error::{Error, Result};
use crate::model::Facet;
use crate::store::ImportSink;
use crate::time;

use super::export::{ExportSummary, ExportView};
use super::table::{TableDefaults, TableImport};

/// The delimiters a header line is checked for, the preferred first when counts tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Reads CSV rows into the import's transaction; the first bad row stops it, naming its line.
/// Rows without text are left out and counted.
pub fn import(
    name: &str,
    input: impl Read,
    defaults: &TableDefaults,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let text = super::read_text(name, input, defaults.encoding)?;
    let fail = |line: usize, reason: String| Error::Import {
        file: name.to_owned(),
        location: format!("line {line}"),
        reason,
    };
    // Excel honours a first line `sep=;` naming the delimiter.
    let (body, lines_before, sep_line) = match sep_line(&text) {
        Some((delimiter, rest)) => (rest, 1, Some(delimiter)),
        None => (text.as_str(), 0, None),
    };
    let delimiter = defaults
        .delimiter
        .or(sep_line)
        .unwrap_or_else(|| detect_delimiter(body));
    // A record's position can be the line break before it (after `\r`, or blank lines):
    // its line is the first one with something on it.
    let line_at = |byte: usize| {
        let bytes = body.as_bytes();
        let mut start = byte.min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        lines_before + 1 + bytes[..start].iter().filter(|&&b| b == b'\n').count()
    };
    if let Some(open) = unclosed_quote(body.as_bytes(), delimiter) {
        return Err(fail(
            line_at(open),
            "a quoted cell opens here and is never closed: is the file cut short?".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| fail(lines_before + 1, e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    // Cells under trailing empty headers may be missing, and cells past the header empty.
    let named = headers
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |i| i + 1);
    let mut table = TableImport::new(
        name,
        &headers,
        &format!("line {}", lines_before + 1),
        defaults,
    )?;
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let byte = e.position().map_or(0, |p| p.byte() as usize);
                return Err(fail(line_at(byte), e.to_string()));
            }
        }
        let byte = row.position().map_or(0, |p| p.byte() as usize);
        let len = row.len();
        let too_many =
            len > headers.len() && row.iter().skip(headers.len()).any(|c| !c.trim().is_empty());
        if len < named || too_many {
            return Err(fail(
                line_at(byte),
                format!("the row has {len} cells where the header has {named}"),
            ));
        }
        table.row(&row, || format!("line {}", line_at(byte)), sink)?;
    }
    table.finish(sink)
}

/// The delimiter of a first line `sep=X` (Excel's way of naming it), and the text after it.
fn sep_line(text: &str) -> Option<(u8, &str)> {
    let rest = text.strip_prefix("sep=")?;
    let &delimiter = rest.as_bytes().first().filter(|d| d.is_ascii())?;
    let after = &rest[1..];
    let after = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))?;
    Some((delimiter, after))
}

/// The delimiter the header line uses most (outside quotes): comma, semicolon, tab or pipe.
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in text.as_bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..DELIMITERS.len())
        .rev()
        .max_by_key(|&i| counts[i])
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        DELIMITERS[best]
    }
}

/// Where a quoted cell opens that is never closed (a file cut short), as a byte offset. The
/// `csv` crate reads such a cell to the end of the file without a word.
fn unclosed_quote(text: &[u8], delimiter: u8) -> Option<usize> {
    let mut open: Option<usize> = None;
    let mut cell_start = true;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if open.is_some() {
            if b == b'"' {
                if text.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    open = None;
                    cell_start = false;
                }
            }
        } else if b == b'"' && cell_start {
            open = Some(i);
        } else {
            cell_start = b == delimiter || b == b'\n' || b == b'\r';
        }
        i += 1;
    }
    open
}

/// A delimiter as the researcher types it: one character, or `tab` / `\t`.
pub fn delimiter_from(given: &str) -> std::result::Result<u8, String> {
    match given {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        d if d.len() == 1 && d.is_ascii() && d != "\"" && d != "\n" && d != "\r" => {
            Ok(d.as_bytes()[0])
        }
        _ => Err(format!(
            "{given:?} is not a delimiter: give one character such as , ; | or `tab`"
        )),
    }
}

const EXPORT_HEADER: &[&str] = &[
    "id",
    "session",
    "study",
    "kind",
    "text",
    "persona",
    "touchpoint",
    "emotion",
    "job",
    "code",
    "created_at",
    "participant",
    "feedback",
];

/// Writes the view's live notes as CSV with the columns `import` reads.
pub fn export(view: &ExportView<'_>, out: &mut dyn Write) -> Result<ExportSummary> {
    let mut writer = csv::Writer::from_writer(out);
    let io_err = |e: csv::Error| Error::io("cannot write the export", e.into());
    writer.write_record(EXPORT_HEADER).map_err(io_err)?;
    let summary = view.for_each_note(false, |session, rec| {
        let facet_cell = |f: Facet| {
            rec.tags
                .iter()
                .filter(|t| t.facet == f)
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(";")
        };
        let row = [
            rec.id.clone(),
            rec.session.clone(),
            session.study.clone(),
            rec.kind.to_string(),
            rec.body.clone(),
            facet_cell(Facet::Persona),
            facet_cell(Facet::Touchpoint),
            facet_cell(Facet::Emotion),
            facet_cell(Facet::Job),
            facet_cell(Facet::Code),
            time::to_db(&rec.created_at),
            rec.participant.clone().unwrap_or_default(),
            rec.feedback.map(|f| f.to_string()).unwrap_or_default(),
        ];
        writer.write_record(&row).map_err(io_err)
    })?;
    writer
        .flush()
        .map_err(|e| Error::io("cannot write the export", e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_line_says_the_delimiter_outside_quotes() {
        assert_eq!(detect_delimiter("a;b;c\n1,2;3"), b';');
        assert_eq!(detect_delimiter("\"a, b, c\";d\n"), b';');
        assert_eq!(detect_delimiter("text\tkind\r\nx,y,z"), b'\t');
        assert_eq!(detect_delimiter("a|b\n"), b'|');
        assert_eq!(detect_delimiter("a,b;c\n"), b',', "a tie goes to the comma");
        assert_eq!(detect_delimiter("text\n"), b',');
    }

    #[test]
    fn an_unclosed_quote_is_found_where_it_opens() {
        assert_eq!(unclosed_quote(b"a,b\n\"x\"\"y\",z\n", b','), None);
        assert_eq!(unclosed_quote(b"a,b\n1,\"cut", b','), Some(6));
        assert_eq!(
            unclosed_quote(b"a\n5\" screen\n", b','),
            None,
            "not at a cell's start"
        );
        assert_eq!(unclosed_quote(b"a;b\n\"x;y\";\"z", b';'), Some(10));
    }

    #[test]
    fn delimiters_as_typed_and_excels_sep_line() {
        assert_eq!(delimiter_from("tab"), Ok(b'\t'));
        assert_eq!(delimiter_from("\\t"), Ok(b'\t'));
        assert_eq!(delimiter_from(";"), Ok(b';'));
        assert!(delimiter_from("ab").is_err() && delimiter_from("\"").is_err());
        assert_eq!(sep_line("sep=;\r\na;b\n"), Some((b';', "a;b\n")));
        assert_eq!(sep_line("sep=é\na"), None);
        assert_eq!(sep_line("text\n"), None);
    }
}
