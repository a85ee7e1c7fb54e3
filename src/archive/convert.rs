//! Encrypting and decrypting an archive in place, crash-safe.
//!
//! The new database and index are written beside the old ones (`fieldnotes.db.encrypting`,
//! `index.encrypting/`, `key.json.encrypting`; `….decrypting` the other way), verified, and
//! only then put in place. One rename is the commit point: `key.json.encrypting` → `key.json`
//! when encrypting, `key.json` → `key.json.retired` when decrypting. A crash before it leaves
//! the old archive as it was (the staged files are removed on the next open); a crash after
//! it is finished forward on the next open ([`recover`]). The old files go only after the new
//! ones verify.

use std::path::{Path, PathBuf};

use super::{Archive, DB_FILE, INDEX_DIR};
use crate::crypt::{self, ArchiveKey, CryptError, KEY_FILE, KeyFile, Passphrase};
use crate::error::{Error, Result};
use crate::index::NoteIndex;
use crate::store::Store;

const ENCRYPTING: &str = "encrypting";
const DECRYPTING: &str = "decrypting";
const RETIRED_KEY: &str = "key.json.retired";

fn staged(dir: &Path, name: &str, direction: &str) -> PathBuf {
    dir.join(format!("{name}.{direction}"))
}

fn io_failed(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Archive {
        path: path.to_path_buf(),
        source,
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_failed(path)(e)),
        _ => Ok(()),
    }
}

fn remove_dir(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_failed(path)(e)),
        _ => Ok(()),
    }
}

/// The database's write-ahead log and its index: the old database's must never meet the new.
fn remove_wal(db: &Path) -> Result<()> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        remove_file(Path::new(&name))?;
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(io_failed(from))
}

/// Removes the staged files of a conversion that never reached its commit point.
fn abandon(dir: &Path, direction: &str) -> Result<()> {
    remove_file(&staged(dir, KEY_FILE, direction))?;
    let db = staged(dir, DB_FILE, direction);
    remove_file(&db)?;
    remove_wal(&db)?;
    remove_dir(&staged(dir, INDEX_DIR, direction))
}

/// Puts the staged database and index in place of the old ones (after the commit point).
fn finish(dir: &Path, direction: &str) -> Result<()> {
    let db = dir.join(DB_FILE);
    let new_db = staged(dir, DB_FILE, direction);
    if new_db.exists() {
        remove_wal(&db)?;
        rename(&new_db, &db)?;
    }
    let new_index = staged(dir, INDEX_DIR, direction);
    if new_index.exists() {
        let old_index = staged(dir, INDEX_DIR, "old");
        remove_dir(&old_index)?;
        if dir.join(INDEX_DIR).exists() {
            rename(&dir.join(INDEX_DIR), &old_index)?;
        }
        rename(&new_index, &dir.join(INDEX_DIR))?;
        remove_dir(&old_index)?;
    }
    remove_file(&dir.join(RETIRED_KEY))?;
    crypt::sync_dir(dir).map_err(io_failed(dir))
}

/// Finishes or undoes a conversion a crash interrupted, so the archive in `dir` is whole
/// again: run before an archive is opened.
pub(crate) fn recover(dir: &Path) -> Result<()> {
    if staged(dir, KEY_FILE, ENCRYPTING).exists() {
        abandon(dir, ENCRYPTING)?;
    } else if staged(dir, DB_FILE, ENCRYPTING).exists()
        || staged(dir, INDEX_DIR, ENCRYPTING).exists()
    {
        if crypt::is_encrypted(dir) {
            tracing::warn!(archive = %dir.display(), "finishing an interrupted encryption");
            finish(dir, ENCRYPTING)?;
        } else {
            abandon(dir, ENCRYPTING)?;
        }
    }
    if dir.join(RETIRED_KEY).exists() {
        tracing::warn!(archive = %dir.display(), "finishing an interrupted decryption");
        finish(dir, DECRYPTING)?;
    } else if staged(dir, DB_FILE, DECRYPTING).exists()
        || staged(dir, INDEX_DIR, DECRYPTING).exists()
    {
        abandon(dir, DECRYPTING)?;
    }
    remove_dir(&staged(dir, INDEX_DIR, "old"))
}

/// What a conversion wrote and checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Converted {
    pub notes: u64,
    pub indexed: u64,
}

impl Archive {
    /// Encrypts the archive in `dir` under `passphrase` (see the module's doc). No other
    /// fieldnotes process may use the archive meanwhile.
    pub fn encrypt(dir: &Path, passphrase: &Passphrase) -> Result<Converted> {
        if crypt::is_encrypted(dir) {
            return Err(CryptError::AlreadyEncrypted {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        let archive = Archive::open(dir)?;
        let (file, key) = KeyFile::create(passphrase)?;
        let converted = archive.convert_to(Some(&key), ENCRYPTING)?;
        file.write_as(dir, &format!("{KEY_FILE}.{ENCRYPTING}"))
            .map_err(io_failed(dir))?;
        // The old index's writer goes before its folder does; the old database stays locked.
        let store = archive.close_index();
        // The commit point: from here on the archive is encrypted.
        rename(&staged(dir, KEY_FILE, ENCRYPTING), &dir.join(KEY_FILE))?;
        finish(dir, ENCRYPTING)?;
        drop(store);
        Ok(converted)
    }

    /// Decrypts the archive in `dir`, unlocked with `key`: its notes are plain on disk again.
    pub fn decrypt(dir: &Path, key: &ArchiveKey) -> Result<Converted> {
        let archive = Archive::open_unlocked(dir, Some(key), |_| {})?;
        let converted = archive.convert_to(None, DECRYPTING)?;
        let store = archive.close_index();
        // The commit point: from here on the archive is plain.
        rename(&dir.join(KEY_FILE), &dir.join(RETIRED_KEY))?;
        finish(dir, DECRYPTING)?;
        drop(store);
        Ok(converted)
    }

    /// Lets go of the index (its writer and files), keeping the database connection.
    fn close_index(self) -> Store {
        let Archive { store, index, .. } = self;
        drop(index);
        store
    }

    /// Writes this archive's database and a new index under `key` (none: plain) beside the
    /// old ones as `….{direction}`, and checks them against this archive. Leaves this
    /// archive's database alone in the folder (no write-ahead log) and locked against every
    /// other process until this archive is dropped.
    fn convert_to(&self, key: Option<&ArchiveKey>, direction: &str) -> Result<Converted> {
        let dir = self.dir.clone();
        if !self.index.is_writer() {
            return Err(Error::Busy(format!(
                "another fieldnotes process is using the archive at {}: close it first",
                dir.display()
            )));
        }
        abandon(&dir, direction)?;
        let conn = self.store.conn();
        // From here until this connection closes no other process reads or writes.
        crate::store::run(conn, "PRAGMA locking_mode = EXCLUSIVE")?;
        conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")?;
        let (notes, seq) = (self.store.live_note_count()?, self.store.change_seq()?);
        let db_key = key.map(|k| k.database_key());
        let new_db = staged(&dir, DB_FILE, direction);
        let staged_result = (|| {
            crate::store::export_to(conn, &new_db, db_key.as_ref())?;
            let store = Store::open_keyed(&new_db, db_key.as_ref())?;
            let problems = store.integrity_problems()?;
            if !problems.is_empty() {
                return Err(Error::Corrupt(format!(
                    "the new database does not check out: {}",
                    problems.join("; ")
                )));
            }
            if store.live_note_count()? != notes
                || store.change_seq()? != seq
                || store.archive_id()? != self.store.archive_id()?
            {
                return Err(Error::Corrupt(
                    "the new database does not hold the same notes as the archive".into(),
                ));
            }
            let index_key = key.map(|k| k.index_key());
            let mut index = NoteIndex::open(
                &staged(&dir, INDEX_DIR, direction),
                &store.archive_id()?,
                index_key.as_ref(),
            )?;
            index.catch_up(&store, |_| {})?;
            let indexed = index.note_ids()?.len() as u64;
            if index.seq() != seq || indexed as i64 != notes {
                return Err(Error::Corrupt(format!(
                    "the new index holds {indexed} notes of {notes}"
                )));
            }
            // Closing the new database's only connection folds its log in and removes it.
            Ok(Converted {
                notes: notes as u64,
                indexed,
            })
        })();
        let converted = match staged_result {
            Ok(c) => c,
            Err(e) => {
                let _ = abandon(&dir, direction);
                return Err(e);
            }
        };
        // The old database becomes one self-contained file (its log folded in and removed),
        // still locked by this connection, so the new one can take its name.
        let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("delete") {
            let _ = abandon(&dir, direction);
            return Err(Error::Busy(format!(
                "cannot close the write-ahead log of {} (another process uses it): close it first",
                dir.display()
            )));
        }
        crypt::sync_dir(&dir).map_err(io_failed(&dir))?;
        Ok(converted)
    }

    /// Gives the encrypted archive in `dir` a new passphrase: the archive key is rewrapped,
    /// nothing else is written.
    pub fn change_passphrase(dir: &Path, old: &Passphrase, new: &Passphrase) -> Result<()> {
        let file = KeyFile::read(dir)?.ok_or_else(|| CryptError::NotEncrypted {
            dir: dir.to_path_buf(),
        })?;
        let rewrapped = file.rewrap(dir, old, new)?;
        rewrapped
            .write_as(dir, KEY_FILE)
            .map_err(io_failed(&dir.join(KEY_FILE)))
    }
}
