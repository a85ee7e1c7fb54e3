//! SQLite: the single source of truth. Opening applies the numbered migrations in `schema/`.

mod analysis;
mod codebook;
mod codings;
mod drafts;
mod measures;
mod merge;
mod notes;
mod passages;
mod sessions;
mod tags;
mod visits;

pub use analysis::{CuratedTheme, Insight};
pub use codebook::{CodeNotes, CodebookEntry, Recoded};
pub use drafts::Draft;
pub use measures::SessionMeasures;
pub use merge::{MergeCounts, merge_note};
pub use notes::{
    ImportCounts, ImportDone, ImportSink, IndexRecord, NewNote, NoteRecord, PreviewNote,
};
pub use passages::{BulkCoding, PassageRecord};
pub use sessions::NewSession;
pub use tags::{JOURNEY_STAGES, TagCount, TagInfo};
pub use visits::{ScorecardImport, ScorecardVersion};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

/// The migrations, in order; migration N brings `PRAGMA user_version` to N.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../schema/0001_init.sql")),
    (
        "0002_default_emotions",
        include_str!("../../schema/0002_default_emotions.sql"),
    ),
    (
        "0003_mystery_shop",
        include_str!("../../schema/0003_mystery_shop.sql"),
    ),
    ("0004_themes", include_str!("../../schema/0004_themes.sql")),
    (
        "0005_note_feedback",
        include_str!("../../schema/0005_note_feedback.sql"),
    ),
    (
        "0006_live_notes_by_session",
        include_str!("../../schema/0006_live_notes_by_session.sql"),
    ),
    (
        "0007_edit_drafts",
        include_str!("../../schema/0007_edit_drafts.sql"),
    ),
    (
        "0008_theme_memory",
        include_str!("../../schema/0008_theme_memory.sql"),
    ),
    (
        "0009_passages_and_codebook",
        include_str!("../../schema/0009_passages_and_codebook.sql"),
    ),
    (
        "0010_whole_note_codings_by_coder",
        include_str!("../../schema/0010_whole_note_codings_by_coder.sql"),
    ),
    (
        "0011_measures",
        include_str!("../../schema/0011_measures.sql"),
    ),
    (
        "0012_masked_names",
        include_str!("../../schema/0012_masked_names.sql"),
    ),
];

/// A `JOIN` that narrows a query over `notes n` to `ids` (nothing for `None`: every note),
/// through the temporary table `name`, filled here inside `tx`.
pub(crate) fn join_selected(
    tx: &Transaction<'_>,
    name: &str,
    ids: Option<&[String]>,
) -> Result<String> {
    let Some(ids) = ids else {
        return Ok(String::new());
    };
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY) WITHOUT ROWID; \
         DELETE FROM temp.{name};"
    ))?;
    let mut insert = tx.prepare_cached(&format!(
        "INSERT OR IGNORE INTO temp.{name} (id) VALUES (?1)"
    ))?;
    for id in ids {
        insert.execute([id])?;
    }
    Ok(format!("JOIN temp.{name} a ON a.id = n.id"))
}

/// One connection to an archive's `fieldnotes.db`.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed, readable by its owner only) and migrates the database.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_migrated_to(path, MIGRATIONS.len())
    }

    /// Opens applying only the first `count` migrations: how tests build an archive as an
    /// older fieldnotes left it.
    pub fn open_migrated_to(path: &Path, count: usize) -> Result<Store> {
        create_private_file(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Another process may hold the write lock for a moment (a second CLI, the app).
        conn.busy_timeout(Duration::from_secs(30))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Unsupported(format!(
                "{} cannot use write-ahead logging (journal mode stays {mode})",
                path.display()
            )));
        }
        // FULL: a commit is on disk before it returns, so a note survives a power cut, not
        // only a crash. No automatic checkpoints: they would land on whichever note happens
        // to cross the threshold; `checkpoint` runs when the app is idle, after an import,
        // and SQLite runs one when the last connection closes.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = 0;",
        )?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate(count)?;
        Ok(store)
    }

    fn migrate(&self, count: usize) -> Result<()> {
        let known = MIGRATIONS.len() as i64;
        loop {
            // Each step re-reads the version inside its own write transaction, so two
            // processes opening a new archive at once never apply a migration twice.
            let tx = self.write()?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > known {
                return Err(Error::SchemaTooNew {
                    path: self.path.clone(),
                    found: version,
                    known,
                });
            }
            if version as usize >= count {
                break;
            }
            let (_, sql) = MIGRATIONS[version as usize];
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
            tx.commit()?;
        }
        self.ensure_archive_id()?;
        Ok(())
    }

    fn ensure_archive_id(&self) -> Result<()> {
        if self.meta("archive_id")?.is_none() {
            let tx = self.write()?;
            tx.execute(
                "INSERT OR IGNORE INTO archive_meta (key, value) VALUES ('archive_id', ?1)",
                [ulid::Ulid::new().to_string()],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A random id fixed when the database was created: tells an index built for this
    /// archive from one built for another.
    pub fn archive_id(&self) -> Result<String> {
        self.meta("archive_id")?
            .ok_or_else(|| Error::Corrupt("the archive has no id".into()))
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM archive_meta WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The newest change number: the index is current when it has caught up to this.
    pub fn change_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT seq FROM change_counter WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Copies what the write-ahead log holds into the database file, as far as readers allow,
    /// so the log can start again from its beginning.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Like [`Store::checkpoint`], on a connection of its own, so another thread can fold the
    /// log while this one goes on (the index commit after an import).
    pub(crate) fn checkpoint_beside(&self) -> impl FnOnce() -> Result<()> + Send + 'static {
        let path = self.path.clone();
        move || {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(Duration::from_secs(30))?;
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        }
    }

    /// `PRAGMA integrity_check`: the problems SQLite finds, none when the file is sound.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut fk = self.conn.prepare("PRAGMA foreign_key_check")?;
        let fk_rows: Vec<String> = fk
            .query_map([], |r| {
                Ok(format!(
                    "{} row {} points to a missing {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .filter(|r| r != "ok")
            .chain(fk_rows)
            .collect())
    }

    /// A write transaction that takes the lock at once, so a concurrent writer waits on the
    /// busy timeout instead of failing half-way.
    pub(crate) fn write(&self) -> Result<Transaction<'_>> {
        Ok(Transaction::new_unchecked(
            &self.conn,
            TransactionBehavior::Immediate,
        )?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A private copy of the database at `path`, read without ever writing to it (another
    /// researcher's archive, to merge), opened and migrated like any archive. The copy is
    /// removed when the returned guard is dropped.
    pub fn snapshot_of(path: &Path) -> Result<(Store, SnapshotFile)> {
        let source = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        source.busy_timeout(Duration::from_secs(30))?;
        let version: i64 = source.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(Error::SchemaTooNew {
                path: path.to_path_buf(),
                found: version,
                known,
            });
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let copy = SnapshotFile(std::env::temp_dir().join(format!(
            "fieldnotes-snapshot-{}-{nanos}.db",
            std::process::id()
        )));
        // Created empty and private first: VACUUM INTO fills an empty file.
        create_private_file(&copy.0)?;
        source.execute("VACUUM INTO ?1", [copy.0.to_string_lossy()])?;
        drop(source);
        let store = Store::open(&copy.0)?;
        Ok((store, copy))
    }
}

/// A temporary database file, deleted (with its WAL files) when dropped.
pub struct SnapshotFile(PathBuf);

impl Drop for SnapshotFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

/// Takes the next change number inside `tx`.
pub(crate) fn next_change(tx: &Connection) -> Result<i64> {
    Ok(tx.query_row(
        "UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq",
        [],
        |r| r.get(0),
    )?)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if path.exists() {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(Error::Archive {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(not(unix))]
fn create_private_file(_path: &Path) -> Result<()> {
    Ok(())
}
