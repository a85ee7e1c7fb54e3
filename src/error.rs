use std::path::PathBuf;

/// Everything the library can refuse or fail at, each worded for the researcher who must act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot use the archive at {path}: {source}")]
    Archive {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the archive {path} was written by a newer fieldnotes (schema version {found}; this one knows up to {known}): upgrade fieldnotes"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot search for {query:?}: {reason}")]
    Query { query: String, reason: String },
    #[error("cannot import {file}: {location}: {reason}")]
    Import {
        file: String,
        location: String,
        reason: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
