//! CSV: a `text` column, plus optional `id`, `kind`, `persona`, `touchpoint`, `emotion`, `job`,
//! `code`, `session` and `created_at`. Several tags in one cell are separated by `;` or `,`.

use std::collections::HashMap;
use std::io::{Read, Write};

use crate::error::{Error, Result};
use crate::model::{Facet, Feedback, NoteKind, SessionKind, Tag};
use crate::store::{ImportSink, NewSession, NoteRecord};
use crate::time;

use super::export::{ExportSummary, ExportView};
use super::stable_id::stable_ulid;

/// Where rows without a session of their own go.
#[derive(Debug, Clone)]
pub struct CsvDefaults {
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
    /// Which header holds which field (`("text", "Comment")`); unnamed fields are read from
    /// the column of their own name.
    pub columns: Vec<(String, String)>,
    /// The file's encoding when it has no byte-order mark and is not UTF-8.
    pub encoding: Option<super::encoding::TextEncoding>,
}

const KNOWN: &[&str] = &[
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

/// Reads CSV rows into the import's transaction; the first bad row stops it, naming its line.
pub fn import(
    name: &str,
    input: impl Read,
    defaults: &CsvDefaults,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let text = super::read_text(name, input, defaults.encoding)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let fail = |line: u64, reason: String| Error::Import {
        file: name.to_owned(),
        location: format!("line {line}"),
        reason,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| fail(1, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let mapped = |field: &str| {
        defaults
            .columns
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, h)| h.trim().to_lowercase())
    };
    for (field, header) in &defaults.columns {
        if !headers.contains(&header.trim().to_lowercase()) {
            return Err(fail(
                1,
                format!(
                    "there is no column `{header}` (given for {field}; the columns are: {})",
                    headers.join(", ")
                ),
            ));
        }
    }
    let column = |wanted: &str| {
        let header = mapped(wanted).unwrap_or_else(|| wanted.to_owned());
        headers.iter().position(|h| *h == header)
    };
    let Some(text_col) = column("text") else {
        return Err(fail(
            1,
            format!(
                "there is no `text` column (the columns are: {}; fieldnotes reads {})",
                headers.join(", "),
                KNOWN.join(", ")
            ),
        ));
    };
    let facet_cols: Vec<(Facet, usize)> = Facet::ALL
        .into_iter()
        .filter_map(|f| column(f.as_str()).map(|c| (f, c)))
        .collect();
    let (id_col, kind_col, session_col, created_col) = (
        column("id"),
        column("kind"),
        column("session"),
        column("created_at"),
    );
    let (participant_col, feedback_col) = (column("participant"), column("feedback"));
    let mut sessions: HashMap<String, String> = HashMap::new();
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            fail(line, csv_reason(&e))
        })?;
        let line = row.position().map_or(0, |p| p.line());
        let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map(str::trim).unwrap_or("");
        let body = cell(Some(text_col));
        if body.is_empty() {
            return Err(fail(line, "the `text` cell is empty".into()));
        }
        let kind = match cell(kind_col) {
            "" => defaults.kind,
            k => k.parse().map_err(|e: String| fail(line, e))?,
        };
        let created_raw = cell(created_col);
        let created_at = match created_raw {
            "" => None,
            raw => Some(
                time::parse_user(raw)
                    .map_err(|e| fail(line, format!("column `created_at`: {e}")))?,
            ),
        };
        let mut tags = Vec::new();
        for (facet, c) in &facet_cols {
            for name in cell(Some(*c)).split([';', ',', '|']) {
                if let Some(tag) = Tag::new(*facet, name.trim_start_matches(facet.sigil())) {
                    tags.push(tag);
                }
            }
        }
        tags.sort();
        tags.dedup();
        let feedback = match cell(feedback_col) {
            "" => defaults.feedback,
            f => Some(
                f.parse()
                    .map_err(|e: String| fail(line, format!("column `feedback`: {e}")))?,
            ),
        };
        let participant = match cell(participant_col) {
            "" => None,
            p => Some(p.to_owned()),
        };
        let session_label = match cell(session_col) {
            "" => defaults
                .session
                .clone()
                .unwrap_or_else(|| defaults.session_title.clone()),
            s => s.to_owned(),
        };
        let session = match sessions.get(&session_label) {
            Some(id) => id.clone(),
            None => {
                let id = session_for(sink, &session_label, defaults, created_at)
                    .map_err(|e| fail(line, e.to_string()))?;
                sessions.insert(session_label.clone(), id.clone());
                id
            }
        };
        let id = match cell(id_col) {
            "" => {
                // The n-th identical row of a file is its own note, the same one on re-import.
                let key = (
                    session_label.clone(),
                    body.to_owned(),
                    created_raw.to_owned(),
                );
                let n = seen.entry(key).or_default();
                *n += 1;
                stable_ulid(
                    created_at,
                    &[&session_label, body, created_raw, &n.to_string()],
                )
            }
            given => ulid::Ulid::from_string(given)
                .map(|u| u.to_string())
                .map_err(|_| fail(line, format!("column `id`: {given:?} is not a ULID")))?,
        };
        let at = created_at.unwrap_or_else(time::now);
        sink.note(&NoteRecord {
            tags,
            participant,
            source: Some(name.to_owned()),
            feedback,
            ..NoteRecord::written(id, session, kind, body.to_owned(), at)
        })
        .map_err(|e| fail(line, e.to_string()))?;
    }
    Ok(())
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} cells where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8".into(),
        _ => e.to_string(),
    }
}

/// A `session` cell names an existing session by id, or else a session of that title in the
/// default study, created on first use.
fn session_for(
    sink: &mut ImportSink<'_>,
    label: &str,
    defaults: &CsvDefaults,
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
