//! Importing a file: which format it is, and which reader fills the import's transaction.
//! The front ends only gather the researcher's options and show progress.

use std::io::BufRead;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::docx::{DocxOptions, Given};
use super::encoding::TextEncoding;
use super::refi_import::RefiOptions;
use super::table::TableDefaults;
use super::transcript::{Speakers, TranscriptOptions};
use super::{Format, SessionTarget};
use crate::error::{Error, Result};
use crate::model::{Feedback, NoteKind, SessionKind};
use crate::store::{ImportSink, NewSession};

/// What the researcher says about the notes in a file, beyond what the file says itself.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub study: String,
    pub session_kind: SessionKind,
    /// The kind of a note the file does not give one for.
    pub kind: NoteKind,
    /// The session to add to (an id or a title); otherwise one titled after the file.
    pub session: Option<String>,
    /// The researcher's name as a transcript writes it: their turns have no participant.
    pub researcher: Option<String>,
    pub feedback: Option<Feedback>,
    /// When a new session started; otherwise when the file was last changed.
    pub started_at: Option<DateTime<Utc>>,
    /// Tables (CSV, spreadsheets): which header holds which field (`("text", "Comment")`,
    /// `("id", "Response ID")`).
    pub columns: Vec<(String, String)>,
    /// Tables: headers of columns to leave out.
    pub ignore: Vec<String>,
    /// CSV: the delimiter, instead of the one the header line shows.
    pub delimiter: Option<u8>,
    /// Spreadsheets: the sheet to read [default: the first].
    pub sheet: Option<String>,
    /// The file's encoding when it has no byte-order mark and is not UTF-8.
    pub encoding: Option<TextEncoding>,
    /// Transcripts: who is who (`--speakers`, `--no-speakers`).
    pub speakers: Speakers,
    /// Word documents: their comments become interpretation notes.
    pub comments: bool,
}

impl ImportOptions {
    pub fn new(study: impl Into<String>, session_kind: SessionKind, kind: NoteKind) -> Self {
        ImportOptions {
            study: study.into(),
            session_kind,
            kind,
            session: None,
            researcher: None,
            feedback: None,
            started_at: None,
            columns: Vec::new(),
            ignore: Vec::new(),
            delimiter: None,
            sheet: None,
            encoding: None,
            speakers: Speakers::Detect,
            comments: false,
        }
    }
}

/// The format of `path`: the one given, else the one its name says.
pub fn import_format(path: &Path, given: Option<Format>) -> Result<Format> {
    match given {
        Some(f) => Ok(f),
        None => Format::from_path(path).ok_or_else(|| Error::UnknownFormat {
            file: path.display().to_string(),
        }),
    }
}

/// A file read into an import: its name (for messages and a new session's title), its
/// format and the options; `fill` runs inside the archive's import transaction.
pub struct ImportFile {
    pub name: String,
    pub format: Format,
    pub options: ImportOptions,
    /// When the file was last changed: a new session's start when nothing else says.
    modified: Option<DateTime<Utc>>,
    input: Box<dyn BufRead>,
}

impl ImportFile {
    /// Checks the options against the format before anything is read.
    pub fn new(
        path: &Path,
        format: Format,
        options: ImportOptions,
        input: Box<dyn BufRead>,
    ) -> Result<ImportFile> {
        let refuse = |what: &str, for_what: &str| {
            Err(Error::Usage(format!(
                "{what} {for_what}; {} is {}",
                path.display(),
                format.name()
            )))
        };
        if (!options.columns.is_empty() || !options.ignore.is_empty()) && !format.is_table() {
            return refuse(
                "column options (--text, --id, --ignore, …)",
                "are for CSV files and spreadsheets",
            );
        }
        if options.delimiter.is_some() && format != Format::Csv {
            return refuse("--delimiter", "is for CSV files");
        }
        if options.sheet.is_some() && !matches!(format, Format::Xlsx | Format::Ods) {
            return refuse("--sheet", "is for spreadsheets (.xlsx, .xls, .ods)");
        }
        if options.session.is_some() && matches!(format, Format::Qdpx | Format::Qdc) {
            return Err(Error::Usage(format!(
                "--session is for files of one session; {} is {}, whose sources each become a session",
                path.display(),
                format.name()
            )));
        }
        if options.comments && format != Format::Docx {
            return Err(Error::Usage(format!(
                "--comments is for Word documents; {} is {}",
                path.display(),
                format.name()
            )));
        }
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from)
            .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis()));
        Ok(ImportFile {
            name: path.display().to_string(),
            format,
            options,
            modified,
            input,
        })
    }

    /// The title of a session made for this file.
    fn title(&self) -> String {
        Path::new(&self.name)
            .file_name()
            .map(|n| format!("Imported from {}", n.to_string_lossy()))
            .unwrap_or_else(|| "Imported".into())
    }

    fn target(&self) -> SessionTarget {
        let o = &self.options;
        let mut new = NewSession::new(o.study.clone(), o.session_kind);
        new.started_at = o.started_at.or(self.modified);
        new.researcher = o.researcher.clone();
        SessionTarget {
            label: o.session.clone().unwrap_or_else(|| self.title()),
            new,
        }
    }

    /// Reads the whole file into `sink`.
    pub(crate) fn fill(self, sink: &mut ImportSink<'_>) -> Result<()> {
        let title = self.title();
        let target = self.target();
        let ImportFile {
            name,
            format,
            options: o,
            modified,
            input,
        } = self;
        match format {
            Format::Jsonl => {
                let input = super::encoding::utf8_reader(&name, input, o.encoding)?;
                super::jsonl::import(&name, input, sink)
            }
            Format::Csv | Format::Xlsx | Format::Ods => {
                let defaults = TableDefaults {
                    study: o.study,
                    session_kind: o.session_kind,
                    session_title: title,
                    kind: o.kind,
                    session: o.session,
                    feedback: o.feedback,
                    columns: o.columns,
                    ignore: o.ignore,
                    delimiter: o.delimiter,
                    encoding: o.encoding,
                    sheet: o.sheet,
                };
                if format == Format::Csv {
                    super::csv::import(&name, input, &defaults, sink)
                } else {
                    super::spreadsheet::import(&name, input, &defaults, sink)
                }
            }
            Format::Vtt | Format::Srt | Format::Text => {
                let text = super::read_text(&name, input, o.encoding)?;
                // A text file is a transcript when it has times, else notes in paragraphs.
                let Some(cues) = super::transcript::read(&name, &text, format)? else {
                    return super::markdown::import(&name, &text, target, o.kind, o.feedback, sink);
                };
                super::transcript::import(
                    &name,
                    cues,
                    &TranscriptOptions {
                        target,
                        researcher: o.researcher,
                        feedback: o.feedback,
                        speakers: o.speakers,
                    },
                    sink,
                )
            }
            Format::Markdown => {
                let text = super::read_text(&name, input, o.encoding)?;
                super::markdown::import(&name, &text, target, o.kind, o.feedback, sink)
            }
            Format::Qdpx => {
                let bytes = super::read_bytes(&name, input)?;
                let options = RefiOptions {
                    study: o.study,
                    session_kind: o.session_kind,
                    kind: o.kind,
                    researcher: o.researcher,
                    started_at: o.started_at.or(modified),
                    feedback: o.feedback,
                };
                super::refi_import::import_project(&name, &bytes, &options, sink)
            }
            Format::Docx => {
                let bytes = super::read_bytes(&name, input)?;
                let options = DocxOptions {
                    target,
                    given: Given {
                        session: o.session.is_some(),
                        researcher: o.researcher.is_some(),
                        started_at: o.started_at.is_some(),
                    },
                    kind: o.kind,
                    feedback: o.feedback,
                    comments: o.comments,
                };
                super::docx::import(&name, &bytes, options, sink)
            }
            Format::Qdc => {
                let text = super::read_text(&name, input, o.encoding)?;
                super::refi_import::import_codebook(&name, &text, sink)
            }
        }
    }
}
