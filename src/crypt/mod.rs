//! Encrypted archives: the key file, the keys derived from it, and the encrypting directory
//! the search index is written through.
//!
//! An encrypted archive holds `key.json` beside `fieldnotes.db`. It keeps a random 256-bit
//! archive key *wrapped* (XChaCha20-Poly1305) by a key derived from the passphrase with
//! Argon2id (random salt, parameters in the file), so a new passphrase rewraps one key and
//! never re-encrypts the notes. From the archive key come, domain-separated (keyed BLAKE2b),
//! the SQLCipher key of the database and the key of the index's chunks ([`directory`]).
//! Nothing here asks for a passphrase: the binary's edge does (prompt, environment).

pub mod directory;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{AeadInOut, Generate, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use directory::EncryptedDirectory;

/// The key file of an encrypted archive, beside its database.
pub const KEY_FILE: &str = "key.json";

/// The format of `key.json` this fieldnotes writes and reads.
const KEY_FILE_FORMAT: u32 = 1;

/// Argon2id's cost for new key files: 64 MiB, 3 passes, one lane (about a quarter of a second
/// on a laptop; each process opening the archive pays it once).
pub const KDF_MEMORY_KIB: u32 = 64 * 1024;
pub const KDF_PASSES: u32 = 3;
pub const KDF_LANES: u32 = 1;

/// What can go wrong unlocking an archive or reading what it encrypted.
#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error("wrong passphrase for the archive at {}", dir.display())]
    WrongPassphrase { dir: PathBuf },
    #[error(
        "the archive at {} is encrypted: give its passphrase (type it when asked, or set FIELDNOTES_PASSPHRASE)",
        dir.display()
    )]
    Locked { dir: PathBuf },
    #[error("the archive at {} is already encrypted", dir.display())]
    AlreadyEncrypted { dir: PathBuf },
    #[error("the archive at {} is not encrypted", dir.display())]
    NotEncrypted { dir: PathBuf },
    #[error("the key file {} cannot be read: {reason}", path.display())]
    BadKeyFile { path: PathBuf, reason: String },
    #[error(
        "the database {} cannot be read with this archive's key: it belongs to another archive, or is damaged",
        path.display()
    )]
    ForeignDatabase { path: PathBuf },
    #[error(
        "the database {} is encrypted (or is no database) and no key file is beside it: an encrypted archive's {KEY_FILE} must stay in its folder",
        path.display()
    )]
    KeyFileMissing { path: PathBuf },
    #[error("a passphrase cannot be empty")]
    EmptyPassphrase,
    #[error("the system's random number generator failed")]
    Random,
}

/// A passphrase, wiped from memory when dropped.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: String) -> Result<Passphrase, CryptError> {
        let text = Zeroizing::new(text);
        if text.is_empty() {
            return Err(CryptError::EmptyPassphrase);
        }
        Ok(Passphrase(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The archive's own random key, unwrapped from the key file; wiped when the last copy drops.
#[derive(Clone)]
pub struct ArchiveKey(Arc<Zeroizing<[u8; 32]>>);

impl std::fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArchiveKey(…)")
    }
}

impl ArchiveKey {
    fn random() -> Result<ArchiveKey, CryptError> {
        Ok(ArchiveKey(Arc::new(Zeroizing::new(random_bytes()?))))
    }

    /// The SQLCipher key of the database, as `PRAGMA key` takes a raw key: `x'…'` (64 hex
    /// digits), so SQLCipher skips its own passphrase derivation.
    pub fn database_key(&self) -> DatabaseKey {
        let key = derive(&self.0, b"fieldnotes-db-v1");
        let mut hex = Zeroizing::new(String::with_capacity(67));
        hex.push_str("x'");
        for b in key.iter() {
            hex.push(char::from_digit(u32::from(b >> 4), 16).expect("a nibble"));
            hex.push(char::from_digit(u32::from(b & 0xf), 16).expect("a nibble"));
        }
        hex.push('\'');
        DatabaseKey(Arc::new(hex))
    }

    /// The key of the search index's chunks.
    pub fn index_key(&self) -> IndexKey {
        IndexKey(Arc::new(derive(&self.0, b"fieldnotes-ix-v1")))
    }
}

/// The database's SQLCipher key (`x'…'`), for `PRAGMA key` and `ATTACH … KEY`.
#[derive(Clone)]
pub struct DatabaseKey(Arc<Zeroizing<String>>);

impl DatabaseKey {
    /// The key as an SQL string literal's content: `x'…'` holds no double quote.
    pub(crate) fn sql(&self) -> &str {
        &self.0
    }

    /// A key for a throw-away database (a private copy that lives only while it is read).
    pub(crate) fn ephemeral() -> Result<DatabaseKey, CryptError> {
        Ok(ArchiveKey::random()?.database_key())
    }
}

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(…)")
    }
}

/// The key the index's chunks are sealed with.
#[derive(Clone)]
pub struct IndexKey(Arc<Zeroizing<[u8; 32]>>);

impl std::fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKey(…)")
    }
}

impl IndexKey {
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&**self.0).into())
    }
}

/// A subkey of `key` for one purpose: BLAKE2b keyed with the archive key, personalised with
/// the purpose's name, so no two purposes ever share a key.
fn derive(key: &[u8; 32], purpose: &[u8; 16]) -> Zeroizing<[u8; 32]> {
    use blake2::digest::{FixedOutput, Update};
    let mut mac = blake2::Blake2bMac::<blake2::digest::consts::U32>::new_with_salt_and_personal(
        Some(key),
        b"",
        purpose,
    )
    .expect("a 32-byte key and a 16-byte persona fit BLAKE2b");
    mac.update(b"fieldnotes subkey");
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize_fixed());
    out
}

fn random_bytes<const N: usize>() -> Result<[u8; N], CryptError> {
    <[u8; N]>::try_generate().map_err(|_| CryptError::Random)
}

/// `key.json`: how to get the archive key back from the passphrase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyFile {
    /// The format of this file.
    pub fieldnotes_key_file: u32,
    pub kdf: KdfParams,
    /// XChaCha20-Poly1305 of the archive key under the passphrase's key (base64): its
    /// authentication tag is what tells a wrong passphrase before anything else is opened.
    pub wrapped_key: String,
    pub nonce: String,
}

/// Argon2id's parameters and salt, as the key file keeps them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KdfParams {
    pub algorithm: String,
    pub version: u32,
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
    pub salt: String,
}

impl KdfParams {
    fn new() -> Result<KdfParams, CryptError> {
        Ok(KdfParams {
            algorithm: "argon2id".into(),
            version: 0x13,
            memory_kib: KDF_MEMORY_KIB,
            passes: KDF_PASSES,
            lanes: KDF_LANES,
            salt: B64.encode(random_bytes::<16>()?),
        })
    }

    /// The key-wrapping key for `passphrase`.
    fn derive(&self, passphrase: &Passphrase) -> Result<Zeroizing<[u8; 32]>, String> {
        if self.algorithm != "argon2id" || self.version != 0x13 {
            return Err(format!(
                "unknown key derivation {} version {}",
                self.algorithm, self.version
            ));
        }
        // A damaged file must not make fieldnotes allocate without bound.
        if !(8 * 1024..=4 * 1024 * 1024).contains(&self.memory_kib)
            || !(1..=64).contains(&self.passes)
            || !(1..=16).contains(&self.lanes)
        {
            return Err("its key derivation parameters are out of range".into());
        }
        let salt = B64
            .decode(&self.salt)
            .map_err(|_| "its salt is not base64".to_string())?;
        let params = argon2::Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|e| format!("bad key derivation parameters: {e}"))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.bytes(), &salt, &mut *out)
            .map_err(|e| format!("key derivation failed: {e}"))?;
        Ok(out)
    }

    /// What the wrapped key is bound to: changing a parameter breaks the unwrap.
    fn associated_data(&self) -> Vec<u8> {
        format!(
            "fieldnotes key file v{KEY_FILE_FORMAT}\0{}\0{}\0{}\0{}\0{}\0{}",
            self.algorithm, self.version, self.memory_kib, self.passes, self.lanes, self.salt
        )
        .into_bytes()
    }
}

impl KeyFile {
    /// A new key file holding a new random archive key, wrapped under `passphrase`.
    pub fn create(passphrase: &Passphrase) -> Result<(KeyFile, ArchiveKey), CryptError> {
        let key = ArchiveKey::random()?;
        let file = KeyFile::wrap(&key, passphrase)?;
        Ok((file, key))
    }

    fn wrap(key: &ArchiveKey, passphrase: &Passphrase) -> Result<KeyFile, CryptError> {
        let kdf = KdfParams::new()?;
        let kek = kdf
            .derive(passphrase)
            .map_err(|reason| CryptError::BadKeyFile {
                path: PathBuf::from(KEY_FILE),
                reason,
            })?;
        let nonce = XNonce::try_generate().map_err(|_| CryptError::Random)?;
        let mut sealed = key.0.to_vec();
        let tag = XChaCha20Poly1305::new((&*kek).into())
            .encrypt_inout_detached(&nonce, &kdf.associated_data(), sealed.as_mut_slice().into())
            .expect("32 bytes can be sealed");
        sealed.extend_from_slice(&tag);
        Ok(KeyFile {
            fieldnotes_key_file: KEY_FILE_FORMAT,
            wrapped_key: B64.encode(&sealed),
            nonce: B64.encode(nonce),
            kdf,
        })
    }

    /// The archive key, if `passphrase` is the archive's (`dir` names it in the error).
    pub fn unlock(&self, dir: &Path, passphrase: &Passphrase) -> Result<ArchiveKey, CryptError> {
        let bad = |reason: String| CryptError::BadKeyFile {
            path: dir.join(KEY_FILE),
            reason,
        };
        if self.fieldnotes_key_file != KEY_FILE_FORMAT {
            return Err(bad(format!(
                "it is of format {} (this fieldnotes reads {KEY_FILE_FORMAT}): upgrade fieldnotes",
                self.fieldnotes_key_file
            )));
        }
        let nonce: [u8; 24] = B64
            .decode(&self.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| bad("its nonce is not 24 bytes of base64".into()))?;
        let sealed = Zeroizing::new(
            B64.decode(&self.wrapped_key)
                .map_err(|_| bad("its wrapped key is not base64".into()))?,
        );
        if sealed.len() != 32 + 16 {
            return Err(bad("its wrapped key is not 48 bytes".into()));
        }
        let kek = self.kdf.derive(passphrase).map_err(bad)?;
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&sealed[..32]);
        let tag = sealed[32..].try_into().expect("16 bytes");
        XChaCha20Poly1305::new((&*kek).into())
            .decrypt_inout_detached(
                &XNonce::from(nonce),
                &self.kdf.associated_data(),
                key.as_mut_slice().into(),
                &tag,
            )
            .map_err(|_| CryptError::WrongPassphrase {
                dir: dir.to_path_buf(),
            })?;
        Ok(ArchiveKey(Arc::new(key)))
    }

    /// The same archive key under a new passphrase (a new salt too): nothing else changes.
    pub fn rewrap(
        &self,
        dir: &Path,
        old: &Passphrase,
        new: &Passphrase,
    ) -> Result<KeyFile, CryptError> {
        let key = self.unlock(dir, old)?;
        KeyFile::wrap(&key, new)
    }

    /// The key file of the archive in `dir`; `None` for an archive that is not encrypted.
    pub fn read(dir: &Path) -> Result<Option<KeyFile>, CryptError> {
        let path = dir.join(KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CryptError::BadKeyFile {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CryptError::BadKeyFile {
                path,
                reason: e.to_string(),
            })
    }

    /// Writes the key file as `name` in `dir`, readable by its owner only, atomically and
    /// synced (a new passphrase is never half-written).
    pub fn write_as(&self, dir: &Path, name: &str) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a key file serialises");
        let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
        let written = (|| {
            let mut file = private_file(&tmp)?;
            std::io::Write::write_all(&mut file, text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, dir.join(name))?;
            sync_dir(dir)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Whether the archive in `dir` is encrypted (holds a key file).
pub fn is_encrypted(dir: &Path) -> bool {
    dir.join(KEY_FILE).exists()
}

/// The archive key of the archive in `dir` for `passphrase`; `None` when it is not encrypted.
pub fn unlock(dir: &Path, passphrase: &Passphrase) -> Result<Option<ArchiveKey>, CryptError> {
    match KeyFile::read(dir)? {
        Some(file) => file.unlock(dir, passphrase).map(Some),
        None => Ok(None),
    }
}

/// Where a note may be written for an external editor: the archive's own folder, or for an
/// encrypted archive a folder in memory (`$XDG_RUNTIME_DIR`, `/dev/shm`), never the disk; an
/// encrypted archive on a system without one refuses, saying why.
pub fn scratch_dir(archive: &Path) -> Result<PathBuf, String> {
    if !is_encrypted(archive) {
        return Ok(archive.to_path_buf());
    }
    let in_memory = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/dev/shm")])
        .filter(|_| cfg!(target_os = "linux"))
        .find(|d| d.is_dir());
    in_memory.ok_or_else(|| {
        "the archive is encrypted and this system has no folder in memory for the editor's file: edit the note in the app"
            .to_string()
    })
}

/// A new file readable and writable by its owner only (it must not exist).
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Makes renames in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.into()).unwrap()
    }

    #[test]
    fn the_right_passphrase_unwraps_the_same_key_and_a_wrong_one_is_one_sentence() {
        let dir = Path::new("/tmp/some-archive");
        let (file, key) = KeyFile::create(&pass("correct horse")).unwrap();
        let again = file.unlock(dir, &pass("correct horse")).unwrap();
        assert_eq!(**key.0, **again.0);
        let err = file.unlock(dir, &pass("wrong horse")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong passphrase for the archive at /tmp/some-archive"
        );
    }

    #[test]
    fn rewrapping_keeps_the_archive_key_and_retires_the_old_passphrase() {
        let dir = Path::new("a");
        let (file, key) = KeyFile::create(&pass("old")).unwrap();
        let new = file.rewrap(dir, &pass("old"), &pass("new")).unwrap();
        assert_eq!(**new.unlock(dir, &pass("new")).unwrap().0, **key.0);
        assert!(matches!(
            new.unlock(dir, &pass("old")),
            Err(CryptError::WrongPassphrase { .. })
        ));
        assert!(file.rewrap(dir, &pass("nope"), &pass("new")).is_err());
    }

    #[test]
    fn a_changed_parameter_or_a_damaged_file_never_unlocks() {
        let dir = Path::new("a");
        let (file, _) = KeyFile::create(&pass("p")).unwrap();
        let mut passes = file.clone();
        passes.kdf.passes += 1;
        assert!(matches!(
            passes.unlock(dir, &pass("p")),
            Err(CryptError::WrongPassphrase { .. })
        ));
        let mut huge = file.clone();
        huge.kdf.memory_kib = u32::MAX;
        assert!(matches!(
            huge.unlock(dir, &pass("p")),
            Err(CryptError::BadKeyFile { .. })
        ));
        let mut short = file;
        short.wrapped_key = B64.encode([0u8; 10]);
        assert!(matches!(
            short.unlock(dir, &pass("p")),
            Err(CryptError::BadKeyFile { .. })
        ));
    }

    #[test]
    fn the_database_and_index_keys_differ_from_each_other_and_between_archives() {
        let (_, a) = KeyFile::create(&pass("p")).unwrap();
        let (_, b) = KeyFile::create(&pass("p")).unwrap();
        let db = a.database_key();
        assert!(db.sql().starts_with("x'") && db.sql().ends_with('\'') && db.sql().len() == 67);
        assert_ne!(a.database_key().sql(), b.database_key().sql());
        assert_ne!(**a.index_key().0, **b.index_key().0);
        assert_ne!(&db.sql()[2..66], hex(&**a.index_key().0));
        assert_eq!(a.database_key().sql(), a.clone().database_key().sql());
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn an_empty_passphrase_is_refused() {
        assert!(matches!(
            Passphrase::new(String::new()),
            Err(CryptError::EmptyPassphrase)
        ));
    }
}
