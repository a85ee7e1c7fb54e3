//! Team sync with a PostgreSQL server (issue 19), offline-first: SQLite stays the laptop's
//! truth; a sync pushes the notes changed here since the last one and pulls everyone else's.
//!
//! The server keeps an append-only log per study (`schema/server/`): each event is one note's
//! whole state (its JSONL line, with its session and hybrid-clock stamps), so applying events
//! is the same merge as `fieldnotes merge` (`store::merge`), in any order, any number of
//! times. A push numbers its batch under the study's counter row lock, so a reader never sees
//! a later number before an earlier one commits; a pull applies each batch and moves its
//! cursor in one SQLite transaction. A sync stopped anywhere loses and duplicates nothing.

mod client;
mod migrations;

pub(crate) use client::OutEvent;
pub use client::Server;
pub use client::{connect, redact_url};

/// Checks a team server's URL (with its TLS options) as a sync will read it.
pub(crate) fn check_url(url: &str) -> crate::error::Result<()> {
    client::parse(url).map(drop)
}
pub(crate) use migrations::check as check_schema;
pub use migrations::{SERVER_MIGRATIONS, init};

use serde::Serialize;

use crate::error::Error;

/// Notes per push or pull batch (each one server transaction, each pull one SQLite one).
pub const BATCH: usize = 5_000;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub remote: String,
    /// Notes sent to the server.
    pub pushed: u64,
    /// Records sent (codebook, consent, curation…; once per study they go to).
    pub records_pushed: u64,
    /// Other archives' events fetched from the server (the notes and records they carry
    /// merged here).
    pub pulled: u64,
    /// Notes the pulled events added or changed here.
    pub changed: u64,
    /// Studies the server refused (this login is not a member): their notes stay here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
}

/// Test hooks read from the environment: a smaller batch, and an abort after so many batches
/// (as a `kill -9` would stop the process) to prove a stopped sync resumes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub batch: usize,
    abort_after: Option<u64>,
    done: u64,
}

impl Limits {
    pub fn from_env() -> Limits {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Limits {
            batch: number("FIELDNOTES_SYNC_BATCH").map_or(BATCH, |b| b.max(1) as usize),
            abort_after: number("FIELDNOTES_SYNC_ABORT_AFTER"),
            done: 0,
        }
    }

    /// Called after each batch is committed on both sides.
    pub fn batch_done(&mut self) {
        self.done += 1;
        if self.abort_after.is_some_and(|n| self.done >= n) {
            std::process::abort();
        }
    }
}

/// A digest of an event's payload: the server keeps one event per (study, entity, digest).
pub(crate) fn digest(payload: &str) -> String {
    use blake2::digest::Digest;
    let hash = blake2::Blake2b::<blake2::digest::consts::U16>::digest(payload.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A server error worded for the researcher.
pub(crate) fn server_error(remote: &str, e: &postgres::Error) -> Error {
    let reason = match e.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => e.to_string(),
    };
    if e.as_db_error().is_none() && (e.is_closed() || e.to_string().contains("connect")) {
        return Error::Unreachable {
            remote: remote.to_owned(),
            reason,
        };
    }
    Error::Server {
        remote: remote.to_owned(),
        reason,
    }
}
