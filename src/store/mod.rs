//! SQLite: the single source of truth. Opening applies the numbered migrations in `schema/`.

mod analysis;
mod codebook;
mod codings;
mod drafts;
pub mod hlc;
mod measures;
mod merge;
mod notes;
mod passages;
mod records;
mod sessions;
mod sync;
mod tags;
mod visits;

pub use analysis::{CuratedTheme, Insight};
pub use codebook::{CodeNotes, CodebookEntry, Recoded};
pub use drafts::Draft;
pub use measures::SessionMeasures;
pub use merge::{Incoming, MergeCounts, merge_note};
pub use notes::{
    ImportCounts, ImportDone, ImportSink, IndexRecord, NewNote, NoteRecord, PreviewNote,
};
pub use passages::{BulkCoding, PassageRecord};
pub use records::StampedRecord;
pub use sessions::{NewSession, SessionList};
pub use sync::{PulledBatch, Remote, SyncStatus};
pub use tags::{JOURNEY_STAGES, TagCount, TagInfo};
pub use visits::{ScorecardImport, ScorecardVersion};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::crypt::{CryptError, DatabaseKey};
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
    (
        "0013_team_sync",
        include_str!("../../schema/0013_team_sync.sql"),
    ),
    (
        "0014_sync_records",
        include_str!("../../schema/0014_sync_records.sql"),
    ),
    (
        "0015_sessions_by_start",
        include_str!("../../schema/0015_sessions_by_start.sql"),
    ),
    (
        "0016_session_count",
        include_str!("../../schema/0016_session_count.sql"),
    ),
    (
        "0017_unfrozen_records",
        include_str!("../../schema/0017_unfrozen_records.sql"),
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
    /// The SQLCipher key of an encrypted archive's database.
    key: Option<DatabaseKey>,
}

/// A connection to the database at `path`, keyed first when it is encrypted (`PRAGMA key` must
/// come before any other statement), its key checked by reading the schema: a wrong key, a
/// database of another archive and an encrypted one opened without its key each say so.
pub(crate) fn connect(
    path: &Path,
    flags: OpenFlags,
    key: Option<&DatabaseKey>,
) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    if let Some(key) = key {
        run(&conn, &format!("PRAGMA key = \"{}\"", key.sql()))?;
    }
    // Another process may hold the write lock for a moment (a second CLI, the app).
    conn.busy_timeout(Duration::from_secs(30))?;
    // An import keeps a dozen statements in use per note (the tag links' several widths
    // among them): room for all, so none is prepared again note after note.
    conn.set_prepared_statement_cache_capacity(64);
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
        Ok(()) => {
            // Temporary tables, sorts and statement journals stay in memory: on an encrypted
            // archive no note text goes to a temporary file.
            conn.execute_batch("PRAGMA temp_store = MEMORY;")?;
            Ok(conn)
        }
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            let path = path.to_path_buf();
            Err(if key.is_some() {
                CryptError::ForeignDatabase { path }
            } else {
                CryptError::KeyFileMissing { path }
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Opens (creating if needed, readable by its owner only) and migrates the database.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_keyed(path, None)
    }

    /// Like [`Store::open`], for an encrypted archive's database with its key.
    pub fn open_keyed(path: &Path, key: Option<&DatabaseKey>) -> Result<Store> {
        Store::open_migrated_keyed(path, MIGRATIONS.len(), key)
    }

    /// Opens applying only the first `count` migrations: how tests build an archive as an
    /// older fieldnotes left it.
    pub fn open_migrated_to(path: &Path, count: usize) -> Result<Store> {
        Store::open_migrated_keyed(path, count, None)
    }

    fn open_migrated_keyed(path: &Path, count: usize, key: Option<&DatabaseKey>) -> Result<Store> {
        create_private_file(path)?;
        let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE, key)?;
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
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;",
        )?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            key: key.cloned(),
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
        let key = self.key.clone();
        move || {
            let conn = connect(&path, OpenFlags::SQLITE_OPEN_READ_WRITE, key.as_ref())?;
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

    /// Another connection to this store's database (its key included).
    pub fn reopen(&self) -> Result<Store> {
        Store::open_keyed(&self.path, self.key.as_ref())
    }

    /// A private copy of the database at `path` (with `key` when it is encrypted), read
    /// without ever writing to it (another researcher's archive, to merge), opened and
    /// migrated like any archive. The copy is encrypted under a key that lives only in this
    /// process, so no note of it is ever plain in the temporary folder; it is removed when
    /// the returned guard is dropped.
    pub fn snapshot_of(path: &Path, key: Option<&DatabaseKey>) -> Result<(Store, SnapshotFile)> {
        // Opened to be sure it is a database this key reads, before anything is copied.
        drop(connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY, key)?);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let copy = SnapshotFile(std::env::temp_dir().join(format!(
            "fieldnotes-snapshot-{}-{nanos}.db",
            std::process::id()
        )));
        let copy_key = DatabaseKey::ephemeral()?;
        create_private_file(&copy.0)?;
        let conn = connect(
            &copy.0,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI,
            Some(&copy_key),
        )?;
        // The other archive is attached read-only: nothing is ever written to it.
        let mut uri = String::from("file:");
        for c in path.to_string_lossy().chars() {
            match c {
                '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
                c => uri.push(c),
            }
        }
        attach(&conn, &format!("{uri}?mode=ro"), "source", key)?;
        let version: i64 = conn.query_row("PRAGMA source.user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        let copied = if version > known {
            Err(Error::SchemaTooNew {
                path: path.to_path_buf(),
                found: version,
                known,
            })
        } else {
            copy_database(&conn, "source", "main")
        };
        run(&conn, "DETACH DATABASE source")?;
        copied?;
        drop(conn);
        let store = Store::open_keyed(&copy.0, Some(&copy_key))?;
        Ok((store, copy))
    }
}

/// Attaches the database at `path` (a file name or a `file:` URI) to `conn` as `name`, with
/// its key (none: a plain database, even when `conn`'s own is encrypted).
fn attach(conn: &Connection, path: &str, name: &str, key: Option<&DatabaseKey>) -> Result<()> {
    let literal = path.replace('\'', "''");
    let key = key.map_or_else(|| "''".to_owned(), |k| format!("\"{}\"", k.sql()));
    run(
        conn,
        &format!("ATTACH DATABASE '{literal}' AS {name} KEY {key}"),
    )
}

/// Copies every table, index and row of the attached database `from` into `to`, and its
/// schema version: SQLCipher's `sqlcipher_export`, which writes `to` under its own key.
fn copy_database(conn: &Connection, from: &str, to: &str) -> Result<()> {
    let version: i64 = conn.query_row(&format!("PRAGMA {from}.user_version"), [], |r| r.get(0))?;
    run(conn, &format!("SELECT sqlcipher_export('{to}', '{from}')"))?;
    run(conn, &format!("PRAGMA {to}.user_version = {version}"))
}

/// Writes the whole database `source` is connected to into a new file at `to`, encrypted
/// under `key` (or plain for none). The file is created empty and private first.
pub(crate) fn export_to(source: &Connection, to: &Path, key: Option<&DatabaseKey>) -> Result<()> {
    create_private_file(to)?;
    attach(source, &to.to_string_lossy(), "export", key)?;
    let exported = copy_database(source, "main", "export");
    run(source, "DETACH DATABASE export")?;
    exported
}

/// Runs one statement to its end, whatever rows it returns (SQLCipher's pragmas answer `ok`).
pub(crate) fn run(conn: &Connection, sql: &str) -> Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
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
    Ok(tx
        .prepare_cached("UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq")?
        .query_row([], |r| r.get(0))?)
}

/// Creates the database file readable by its owner only, unless it exists.
fn create_private_file(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    match crate::crypt::private_file(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(Error::Archive {
            path: path.to_path_buf(),
            source,
        }),
    }
}
