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
    Index(tantivy::TantivyError),
    /// An index file failed its integrity check (an encrypted index's chunk changed or cut).
    #[error("the search index is damaged ({detail}): run `fieldnotes reindex`")]
    IndexDamaged { detail: String },
    #[error(transparent)]
    Crypt(#[from] crate::crypt::CryptError),
    #[error("{0}")]
    NotFound(String),
    /// An analysis asked to read more notes than it can hold at once.
    #[error(
        "{notes} notes are more than an analysis reads at once ({limit}; each takes a few KB of memory): narrow them first with a search query, --study, --session or --since/--until (in the app, search first: the analyses read the notes a search finds)"
    )]
    TooManyToAnalyse { notes: u64, limit: u64 },
    /// A value the researcher gave breaks a rule (a valence out of range, an unknown stage,
    /// a session ending before it starts); the message says which rule.
    #[error("{0}")]
    BadValue(String),
    /// Something needed was left empty: "a study needs a name".
    #[error("{0}")]
    Empty(&'static str),
    /// A combination of options that cannot go together, as a command line gives them.
    #[error("{0}")]
    Usage(String),
    #[error("note {id} is in the trash: `restore` it before editing")]
    InTrash { id: String },
    #[error("note {id} is already in the trash")]
    AlreadyInTrash { id: String },
    #[error("note {id} is not in the trash")]
    NotInTrash { id: String },
    #[error("session {id} already ended at {at}")]
    SessionEnded { id: String, at: String },
    #[error("{criterion} needs an evidence note: write what you saw beside the answer")]
    NeedsEvidence { criterion: String },
    /// Only mystery-shop sessions are visits with a scorecard.
    #[error("{0}")]
    NotAVisit(String),
    /// Another fieldnotes process holds what this one needs; trying again later can work.
    #[error("{0}")]
    Busy(String),
    #[error(
        "cannot tell the format of {file} from its name: pass --format jsonl, csv, vtt, srt, markdown, qdpx, qdc or docx"
    )]
    UnknownFormat { file: String },
    /// A format, or a file system feature, fieldnotes does not handle in this direction.
    #[error("{0}")]
    Unsupported(String),
    #[error(
        "cannot find a home folder for the archive: pass --archive DIR or set FIELDNOTES_ARCHIVE"
    )]
    NoHome,
    /// A setting in the config file that is unknown or has a wrong value.
    #[error("{path}:{line}: {message}")]
    Config {
        path: String,
        line: usize,
        message: String,
    },
    /// Stored data that cannot be read back (a broken scorecard, an unparsable time): the
    /// archive or the build is damaged, not the request.
    #[error("{0}")]
    Corrupt(String),
    #[error("cannot search for {query:?}: {reason}")]
    Query { query: String, reason: String },
    #[error("cannot import {file}: {location}: {reason}")]
    Import {
        file: String,
        location: String,
        reason: String,
    },
    /// The team server cannot be reached (network, server down, wrong address or password);
    /// the archive is unchanged and works on offline.
    #[error(
        "cannot reach the team server {remote}: {reason} (nothing changed here; your notes stay safe and sync when the server is back)"
    )]
    Unreachable { remote: String, reason: String },
    /// The team server answered with an error (no schema yet, a refused study, a newer schema).
    #[error("team server {remote}: {reason}")]
    Server { remote: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tantivy::TantivyError> for Error {
    /// A file of an encrypted index that fails its check is told apart from other index errors,
    /// wherever tantivy wrapped it: its message says what to do.
    fn from(e: tantivy::TantivyError) -> Error {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            let text = err.to_string();
            if let Some(at) = text.find("index file ")
                && text.contains(crate::crypt::directory::DAMAGED)
            {
                // Up to where tantivy's wrapping (quotes, debug output) goes on.
                let detail = text[at..]
                    .chars()
                    .take_while(|c| !matches!(c, '"' | '\'' | '\n' | '}'))
                    .collect::<String>();
                return Error::IndexDamaged {
                    detail: detail.trim_end().to_owned(),
                };
            }
            source = err.source();
        }
        Error::Index(e)
    }
}

impl Error {
    /// Whether the request broke a rule (as opposed to the archive or the machine failing):
    /// an import reports these at the line that caused them.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::BadValue(_)
                | Error::Empty(_)
                | Error::Usage(_)
                | Error::InTrash { .. }
                | Error::AlreadyInTrash { .. }
                | Error::NotInTrash { .. }
                | Error::SessionEnded { .. }
                | Error::NeedsEvidence { .. }
                | Error::NotAVisit(_)
        )
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
