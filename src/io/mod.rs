//! Moving notes in and out of an archive: JSONL (lossless), CSV, REFI-QDA (for QDA suites),
//! with redaction on export.

pub mod csv;
pub mod curation;
pub mod docx;
pub mod encoding;
pub mod export;
pub mod import;
pub mod jsonl;
pub mod markdown;
pub mod redact;
pub mod refi;
pub mod refi_import;
pub mod spreadsheet;
mod stable_id;
pub mod table;
pub mod transcript;
mod xml;

pub use export::{ExportOptions, ExportSummary, ExportView, Scope};
pub use import::{ImportFile, ImportOptions, import_format};
pub use stable_id::{stable_guid, stable_ulid};

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The formats notes can be imported from and exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
    /// WebVTT transcripts, import only.
    Vtt,
    /// SRT subtitles/transcripts, import only.
    Srt,
    /// Plain text, import only: a transcript when it has times (Meet, Otter, Rev), else notes
    /// in paragraphs.
    Text,
    /// Markdown: notes to import, a report to export.
    Markdown,
    /// An Excel workbook (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`), import only.
    Xlsx,
    /// An OpenDocument spreadsheet (`.ods`), import only.
    Ods,
    /// A REFI-QDA project (`.qdpx`): sources, codes, cases and coded selections.
    Qdpx,
    /// A REFI-QDA codebook (`.qdc`): the codes alone.
    Qdc,
    /// A Word document (`.docx`), import only.
    Docx,
}

impl Format {
    /// Guesses from a file name: `.csv` and `.tsv` are CSV, `.jsonl`, `.ndjson` and `.json`
    /// are JSONL, `.vtt` and `.srt` transcripts, `.txt` text, `.md` Markdown, `.xlsx`,
    /// `.xlsm`, `.xlsb` and `.xls` Excel, `.ods` OpenDocument, `.qdpx` and `.qdc` REFI-QDA,
    /// `.docx` Word.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "tab" => Some(Format::Csv),
            "xlsx" | "xlsm" | "xlsb" | "xls" => Some(Format::Xlsx),
            "ods" => Some(Format::Ods),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "vtt" => Some(Format::Vtt),
            "srt" => Some(Format::Srt),
            "txt" | "text" => Some(Format::Text),
            "md" | "markdown" => Some(Format::Markdown),
            "qdpx" => Some(Format::Qdpx),
            "qdc" => Some(Format::Qdc),
            "docx" => Some(Format::Docx),
            _ => None,
        }
    }

    /// Formats of rows and columns, read with one column mapping (`io::table`).
    pub fn is_table(self) -> bool {
        matches!(self, Format::Csv | Format::Xlsx | Format::Ods)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "JSONL",
            Format::Csv => "CSV",
            Format::Vtt => "WebVTT",
            Format::Srt => "SRT",
            Format::Text => "plain text",
            Format::Markdown => "Markdown",
            Format::Xlsx => "an Excel workbook",
            Format::Ods => "an OpenDocument spreadsheet",
            Format::Qdpx => "a REFI-QDA project",
            Format::Qdc => "a REFI-QDA codebook",
            Format::Docx => "a Word document",
        }
    }
}

/// Opens an input for reading; `-` is standard input.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let file =
        File::open(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}

/// Writes a file whole or not at all: into a temporary file beside it, renamed when complete.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        // The notes are the researcher's: readable by their owner only.
        let _ = std::fs::remove_file(&tmp);
        let file = crate::crypt::private_file(&tmp)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        std::fs::rename(&tmp, path)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads everything from a reader, naming the input if it cannot be read.
pub(crate) fn read_bytes(name: &str, mut input: impl Read) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    Ok(bytes)
}

/// Reads everything from a reader into a string, naming the input if it is not UTF-8.
pub fn read_text(
    name: &str,
    input: impl Read,
    encoding: Option<encoding::TextEncoding>,
) -> Result<String> {
    encoding::decode(name, read_bytes(name, input)?, encoding)
}

/// The folder of the archive a merge reads `path` from (its folder or its `fieldnotes.db`);
/// `None` for a `.jsonl` export or standard input.
pub fn merge_archive_dir(path: &Path) -> Option<PathBuf> {
    if path.is_dir() {
        return Some(path.to_path_buf());
    }
    if path.as_os_str() == "-" || Format::from_path(path) == Some(Format::Jsonl) {
        return None;
    }
    Some(match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    })
}

/// Another researcher's notes, to merge: a `.jsonl` export, or an archive (its folder or its
/// `fieldnotes.db`; `key` for an encrypted one), which is read from a private copy and never
/// written to.
pub fn read_for_merge(
    path: &Path,
    key: Option<&crate::crypt::ArchiveKey>,
) -> Result<crate::store::Incoming> {
    let name = path.display().to_string();
    let Some(dir) = merge_archive_dir(path) else {
        return jsonl::read_records(&name, open_input(path)?);
    };
    let db = if path.is_dir() {
        dir.join(crate::archive::DB_FILE)
    } else {
        path.to_path_buf()
    };
    if !db.is_file() {
        return Err(Error::NotFound(format!(
            "{name} is neither an archive (a folder with {}) nor a .jsonl export",
            crate::archive::DB_FILE
        )));
    }
    let db_key = key.map(|k| k.database_key());
    let (store, _copy) =
        crate::store::Store::snapshot_of(&db, db_key.as_ref()).map_err(|e| match e {
            Error::Sqlite(e) => Error::Corrupt(format!("cannot read the archive {name}: {e}")),
            other => other,
        })?;
    let view = ExportView::new(&store, ExportOptions::default())?;
    let mut bytes = Vec::new();
    jsonl::export(&view, &mut bytes)?;
    jsonl::read_records(&name, bytes.as_slice())
}

/// The session an import of one file (a transcript, a Markdown page) writes to.
#[derive(Debug, Clone)]
pub struct SessionTarget {
    /// An existing session's id, or a title: the session of that title in `new.study` is
    /// used when there is one, else `new` is created with this title.
    pub label: String,
    pub new: crate::store::NewSession,
}

/// Finds or creates the target session; returns its id and when it started.
pub(crate) fn open_session(
    sink: &mut crate::store::ImportSink<'_>,
    target: &SessionTarget,
) -> Result<(String, chrono::DateTime<chrono::Utc>)> {
    let existing = match sink.session_with_id(&target.label)? {
        Some(id) => Some(id),
        None => sink.session_titled(&target.new.study, &target.label)?,
    };
    let id = match existing {
        Some(id) => {
            for p in &target.new.participants {
                sink.session_participant(&id, p)?;
            }
            id
        }
        None => {
            let mut new = target.new.clone();
            new.title = Some(target.label.clone());
            new.started_at = Some(new.started_at.unwrap_or_else(crate::time::now));
            sink.session(&new)?
        }
    };
    let start = sink
        .session_start(&id)?
        .ok_or_else(|| Error::NotFound(format!("no session with id {id}")))?;
    Ok((id, start))
}
