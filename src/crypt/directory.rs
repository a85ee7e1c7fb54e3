//! A tantivy `Directory` that keeps every index file encrypted on disk.
//!
//! A file is an 8-byte header (`FNIXENC1`) and chunks of up to [`CHUNK`] bytes of plaintext,
//! each sealed on its own with XChaCha20-Poly1305: a random 24-byte nonce, the ciphertext and
//! a 16-byte tag. Each chunk's associated data binds the file's name, the chunk's number and
//! whether it is the last, so a changed byte, a truncated file, chunks reordered or moved
//! from another file all fail their check; every file has at least one chunk (the last may be
//! empty). A read decrypts only the chunks it touches; decrypted chunks are kept in a bounded
//! cache shared by the directory's files, so repeated searches read memory. Files are written
//! through [`MmapDirectory`], whose locks, watching and atomic writes do the rest.

use std::fmt;
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::{AeadInOut, Generate};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use rustc_hash::FxHashMap;
use tantivy::HasLen;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes,
    TerminatingWrite, WatchCallback, WatchHandle, WritePtr,
};

use super::IndexKey;

/// Plaintext bytes per chunk: a random read decrypts at most this much more than it needs.
pub const CHUNK: usize = 16 * 1024;
const HEADER: &[u8; 8] = b"FNIXENC1";
const NONCE: usize = 24;
const TAG: usize = 16;
const SEALED: usize = NONCE + CHUNK + TAG;
/// Decrypted chunks kept for reuse: 64 MiB.
const CACHE_CHUNKS: usize = 4096;
/// A read longer than this (16 MiB) is decrypted without filling the cache: a whole large
/// file read once at open, which tantivy keeps itself. Shorter ones are cached, since tantivy
/// reads some whole columns again on every search (the tag counts).
const CACHED_READ_CHUNKS: usize = CACHE_CHUNKS / 4;

/// What an index file that fails its check says; `crate::error` recognises it.
pub const DAMAGED: &str = "fails its integrity check";

fn damaged(name: &str, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("index file {name} {DAMAGED}: {what}"),
    )
}

/// The encrypting directory over the index folder.
#[derive(Clone)]
pub struct EncryptedDirectory {
    inner: MmapDirectory,
    shared: Arc<Shared>,
}

struct Shared {
    cipher: XChaCha20Poly1305,
    cache: Mutex<ChunkCache>,
}

/// Decrypted chunks by (file number, chunk number); files are numbered by name, once each.
struct ChunkCache {
    chunks: lru::LruCache<(u64, u64), OwnedBytes>,
    files: FxHashMap<PathBuf, u64>,
    next_file: u64,
}

impl ChunkCache {
    fn file_number(&mut self, path: &Path) -> u64 {
        if let Some(&n) = self.files.get(path) {
            return n;
        }
        self.next_file += 1;
        self.files.insert(path.to_path_buf(), self.next_file);
        self.next_file
    }

    /// Forgets a file whose name may be written again (deleted, or opened for writing).
    fn forget(&mut self, path: &Path) {
        // Its chunks are unreachable under a new number and age out of the cache.
        self.files.remove(path);
    }
}

impl fmt::Debug for EncryptedDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedDirectory({:?})", self.inner)
    }
}

impl EncryptedDirectory {
    /// The encrypting directory over the folder `dir` (which must exist).
    pub fn open(dir: &Path, key: &IndexKey) -> tantivy::Result<EncryptedDirectory> {
        Ok(EncryptedDirectory {
            inner: MmapDirectory::open(dir)?,
            shared: Arc::new(Shared {
                cipher: key.cipher(),
                cache: Mutex::new(ChunkCache {
                    chunks: lru::LruCache::new(NonZeroUsize::new(CACHE_CHUNKS).expect("> 0")),
                    files: FxHashMap::default(),
                    next_file: 0,
                }),
            }),
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ChunkCache> {
        // The cache holds only copies: one poisoned by a panic elsewhere is still sound.
        self.shared
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn name_of(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The associated data of chunk `index` of the file `name`.
fn chunk_aad(name: &str, index: u64, last: bool) -> Vec<u8> {
    let mut aad = Vec::with_capacity(name.len() + 40);
    aad.extend_from_slice(b"fieldnotes index chunk v1\0");
    aad.extend_from_slice(name.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&index.to_le_bytes());
    aad.push(u8::from(last));
    aad
}

/// Seals `plain` as chunk `index` of `name`, appending nonce, ciphertext and tag to `out`.
fn seal_chunk(
    cipher: &XChaCha20Poly1305,
    name: &str,
    index: u64,
    last: bool,
    plain: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let nonce = XNonce::try_generate()
        .map_err(|_| io::Error::other("the system's random number generator failed"))?;
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plain);
    let tag = cipher
        .encrypt_inout_detached(
            &nonce,
            &chunk_aad(name, index, last),
            out[start..].as_mut().into(),
        )
        .map_err(|_| io::Error::other("cannot encrypt an index chunk"))?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// Opens sealed chunk `index` of `name` into `out` (which gets exactly its plaintext).
fn open_chunk(
    cipher: &XChaCha20Poly1305,
    name: &str,
    index: u64,
    last: bool,
    sealed: &[u8],
    out: &mut [u8],
) -> io::Result<()> {
    if sealed.len() < NONCE + TAG || out.len() != sealed.len() - NONCE - TAG {
        return Err(damaged(name, "a chunk is cut short"));
    }
    let nonce = XNonce::try_from(&sealed[..NONCE]).expect("24 bytes");
    let tag = Tag::try_from(&sealed[sealed.len() - TAG..]).expect("16 bytes");
    out.copy_from_slice(&sealed[NONCE..sealed.len() - TAG]);
    cipher
        .decrypt_inout_detached(&nonce, &chunk_aad(name, index, last), out.into(), &tag)
        .map_err(|_| damaged(name, &format!("chunk {index} was changed or moved")))
}

/// How many chunks a sealed file of `len` bytes holds, and its plaintext length.
fn layout(name: &str, len: usize) -> io::Result<(usize, usize)> {
    let body = len
        .checked_sub(HEADER.len())
        .filter(|b| *b >= NONCE + TAG)
        .ok_or_else(|| damaged(name, "it is shorter than its header"))?;
    let chunks = body.div_ceil(SEALED);
    let last = body - (chunks - 1) * SEALED;
    if last < NONCE + TAG {
        return Err(damaged(name, "its last chunk is cut short"));
    }
    Ok((chunks, (chunks - 1) * CHUNK + last - NONCE - TAG))
}

/// Encrypts a whole file's content (what `atomic_write` stores).
fn seal_all(cipher: &XChaCha20Poly1305, name: &str, plain: &[u8]) -> io::Result<Vec<u8>> {
    let chunks = plain.len().div_ceil(CHUNK).max(1);
    let mut out = Vec::with_capacity(HEADER.len() + chunks * (NONCE + TAG) + plain.len());
    out.extend_from_slice(HEADER);
    for i in 0..chunks {
        let piece = &plain[(i * CHUNK).min(plain.len())..((i + 1) * CHUNK).min(plain.len())];
        seal_chunk(cipher, name, i as u64, i + 1 == chunks, piece, &mut out)?;
    }
    Ok(out)
}

/// Decrypts a whole sealed file.
fn open_all(cipher: &XChaCha20Poly1305, name: &str, sealed: &[u8]) -> io::Result<Vec<u8>> {
    if !sealed.starts_with(HEADER) {
        return Err(damaged(name, "it is not an encrypted index file"));
    }
    let (chunks, plain_len) = layout(name, sealed.len())?;
    let mut out = vec![0u8; plain_len];
    for i in 0..chunks {
        let from = HEADER.len() + i * SEALED;
        let to = (from + SEALED).min(sealed.len());
        let plain = &mut out[i * CHUNK..(i * CHUNK + CHUNK).min(plain_len)];
        open_chunk(
            cipher,
            name,
            i as u64,
            i + 1 == chunks,
            &sealed[from..to],
            plain,
        )?;
    }
    Ok(out)
}

fn read_error(path: &Path, e: io::Error) -> OpenReadError {
    OpenReadError::wrap_io_error(e, path.to_path_buf())
}

impl Directory for EncryptedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let raw = self.inner.get_file_handle(path)?;
        let name = name_of(path);
        if raw.len() < HEADER.len()
            || raw
                .read_bytes(0..HEADER.len())
                .map_err(|e| read_error(path, e))?
                .as_slice()
                != HEADER
        {
            return Err(read_error(
                path,
                damaged(&name, "it is not an encrypted index file"),
            ));
        }
        let (chunks, len) = layout(&name, raw.len()).map_err(|e| read_error(path, e))?;
        let file = self.cache().file_number(path);
        Ok(Arc::new(EncryptedFile {
            name,
            raw,
            chunks,
            len,
            file,
            directory: self.clone(),
        }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.cache().forget(path);
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.cache().forget(path);
        let mut inner = self.inner.open_write(path)?;
        inner
            .write_all(HEADER)
            .map_err(|e| OpenWriteError::wrap_io_error(e, path.to_path_buf()))?;
        Ok(io::BufWriter::with_capacity(
            CHUNK,
            Box::new(EncryptingWriter {
                inner: Some(inner),
                name: name_of(path),
                plain: Vec::with_capacity(CHUNK),
                sealed: Vec::with_capacity(SEALED),
                index: 0,
                shared: self.shared.clone(),
            }),
        ))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        let sealed = self.inner.atomic_read(path)?;
        open_all(&self.shared.cipher, &name_of(path), &sealed).map_err(|e| read_error(path, e))
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let sealed = seal_all(&self.shared.cipher, &name_of(path), data)?;
        self.inner.atomic_write(path, &sealed)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        // Lock files hold nothing: the folder's own file locks serve as they are.
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// One encrypted index file, read chunk by chunk.
struct EncryptedFile {
    name: String,
    raw: Arc<dyn FileHandle>,
    chunks: usize,
    len: usize,
    file: u64,
    directory: EncryptedDirectory,
}

impl fmt::Debug for EncryptedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedFile({}, {} bytes)", self.name, self.len)
    }
}

impl HasLen for EncryptedFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl EncryptedFile {
    fn chunk_len(&self, index: usize) -> usize {
        if index + 1 == self.chunks {
            self.len - index * CHUNK
        } else {
            CHUNK
        }
    }

    /// Decrypts chunk `index` into `out` (its exact plaintext length).
    fn decrypt(&self, index: usize, out: &mut [u8]) -> io::Result<()> {
        let from = HEADER.len() + index * SEALED;
        let to = from + NONCE + self.chunk_len(index) + TAG;
        let sealed = self.raw.read_bytes(from..to)?;
        open_chunk(
            &self.directory.shared.cipher,
            &self.name,
            index as u64,
            index + 1 == self.chunks,
            &sealed,
            out,
        )
    }

    fn cached(&self, index: usize) -> Option<OwnedBytes> {
        self.directory
            .cache()
            .chunks
            .get(&(self.file, index as u64))
            .cloned()
    }

    /// Chunk `index`, from the cache or decrypted (and then cached).
    fn chunk(&self, index: usize) -> io::Result<OwnedBytes> {
        if let Some(chunk) = self.cached(index) {
            return Ok(chunk);
        }
        let mut plain = vec![0u8; self.chunk_len(index)];
        self.decrypt(index, &mut plain)?;
        let chunk = OwnedBytes::new(plain);
        self.directory
            .cache()
            .chunks
            .put((self.file, index as u64), chunk.clone());
        Ok(chunk)
    }
}

impl FileHandle for EncryptedFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.start > range.end || range.end > self.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of {range:?} past the end of {} ({} bytes)",
                    self.name, self.len
                ),
            ));
        }
        if range.is_empty() {
            return Ok(OwnedBytes::empty());
        }
        let first = range.start / CHUNK;
        let last = (range.end - 1) / CHUNK;
        if first == last {
            let at = first * CHUNK;
            return Ok(self.chunk(first)?.slice(range.start - at..range.end - at));
        }
        let caching = last - first < CACHED_READ_CHUNKS;
        let mut out = vec![0u8; range.len()];
        for index in first..=last {
            let at = index * CHUNK;
            let (from, to) = (
                range.start.max(at),
                range.end.min(at + self.chunk_len(index)),
            );
            let dest = &mut out[from - range.start..to - range.start];
            let whole = from == at && to == at + self.chunk_len(index);
            if let Some(chunk) = self.cached(index) {
                dest.copy_from_slice(&chunk[from - at..to - at]);
            } else if whole && !caching {
                self.decrypt(index, dest)?;
            } else {
                dest.copy_from_slice(&self.chunk(index)?[from - at..to - at]);
            }
        }
        Ok(OwnedBytes::new(out))
    }
}

/// Seals what tantivy writes chunk by chunk; the last chunk is sealed on `terminate`.
struct EncryptingWriter {
    inner: Option<WritePtr>,
    name: String,
    /// Plaintext of the chunk being filled; a full chunk waits here until more comes (so the
    /// last one is known when sealed).
    plain: Vec<u8>,
    sealed: Vec<u8>,
    index: u64,
    shared: Arc<Shared>,
}

impl EncryptingWriter {
    fn seal(&mut self, last: bool) -> io::Result<()> {
        self.sealed.clear();
        seal_chunk(
            &self.shared.cipher,
            &self.name,
            self.index,
            last,
            &self.plain,
            &mut self.sealed,
        )?;
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("write after the index file was finished"))?
            .write_all(&self.sealed)?;
        self.plain.clear();
        self.index += 1;
        Ok(())
    }
}

impl Write for EncryptingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.plain.len() == CHUNK {
            self.seal(false)?;
        }
        let n = buf.len().min(CHUNK - self.plain.len());
        self.plain.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Only whole chunks can be sealed: what waits in `plain` goes out with the next one.
        match self.inner.as_mut() {
            Some(inner) => inner.flush(),
            None => Ok(()),
        }
    }
}

impl TerminatingWrite for EncryptingWriter {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        self.seal(true)?;
        let inner = self
            .inner
            .take()
            .ok_or_else(|| io::Error::other("an index file was finished twice"))?;
        inner.terminate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypt::KeyFile;
    use proptest::prelude::*;

    fn key() -> IndexKey {
        let (_, key) =
            KeyFile::create(&crate::crypt::Passphrase::new("p".into()).unwrap()).unwrap();
        key.index_key()
    }

    fn write(dir: &EncryptedDirectory, name: &str, data: &[u8]) {
        let mut w = dir.open_write(Path::new(name)).unwrap();
        // Odd-sized writes, as tantivy's serializers make them.
        for piece in data.chunks(7919) {
            w.write_all(piece).unwrap();
        }
        w.terminate().unwrap();
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn files_round_trip_at_every_chunk_boundary_and_hold_no_plaintext() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = EncryptedDirectory::open(tmp.path(), &key()).unwrap();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5] {
            let name = format!("f{len}");
            let mut plain = data(len);
            if len > 20 {
                plain[3..20].copy_from_slice(b"MARKERWORDzqxjvvk");
            }
            write(&dir, &name, &plain);
            let handle = dir.get_file_handle(Path::new(&name)).unwrap();
            assert_eq!(handle.len(), len);
            assert_eq!(handle.read_bytes(0..len).unwrap().as_slice(), &plain[..]);
            let raw = std::fs::read(tmp.path().join(&name)).unwrap();
            assert!(!raw.windows(10).any(|w| w == b"MARKERWORD"));
        }
        dir.atomic_write(Path::new("meta.json"), b"{\"MARKERWORD\": 1}")
            .unwrap();
        assert_eq!(
            dir.atomic_read(Path::new("meta.json")).unwrap(),
            b"{\"MARKERWORD\": 1}"
        );
        let raw = std::fs::read(tmp.path().join("meta.json")).unwrap();
        assert!(!raw.windows(10).any(|w| w == b"MARKERWORD"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_ranges_read_what_was_written(len in 0usize..5 * CHUNK, ranges in proptest::collection::vec((0usize..5 * CHUNK, 0usize..3 * CHUNK), 1..12)) {
            let tmp = tempfile::tempdir().unwrap();
            let dir = EncryptedDirectory::open(tmp.path(), &key()).unwrap();
            let plain = data(len);
            write(&dir, "f", &plain);
            let handle = dir.get_file_handle(Path::new("f")).unwrap();
            for (start, n) in ranges {
                let start = start.min(len);
                let end = (start + n).min(len);
                let read = handle.read_bytes(start..end).unwrap();
                prop_assert_eq!(read.as_slice(), &plain[start..end]);
            }
            prop_assert!(handle.read_bytes(0..len + 1).is_err());
        }
    }

    fn damaged_read(dir: &EncryptedDirectory, name: &str, len: usize) -> String {
        let err = match dir.get_file_handle(Path::new(name)) {
            Err(e) => e.to_string(),
            Ok(handle) => handle
                .read_bytes(0..len.min(handle.len()))
                .and_then(|_| handle.read_bytes(handle.len().saturating_sub(1)..handle.len()))
                .expect_err("damage is found")
                .to_string(),
        };
        assert!(err.contains(DAMAGED), "{err}");
        err
    }

    #[test]
    fn a_changed_byte_a_cut_or_moved_chunk_and_a_plain_file_are_each_found() {
        let tmp = tempfile::tempdir().unwrap();
        let k = key();
        let fresh = || EncryptedDirectory::open(tmp.path(), &k).unwrap();
        let len = 3 * CHUNK + 100;
        let path = |n: &str| tmp.path().join(n);
        let sealed = |name: &str| {
            let dir = fresh();
            write(&dir, name, &data(len));
            std::fs::read(path(name)).unwrap()
        };
        let original = sealed("a");

        // One flipped bit in a middle chunk: the chunk itself fails, the others still read.
        let mut bytes = original.clone();
        bytes[HEADER.len() + SEALED + 500] ^= 1;
        std::fs::write(path("a"), &bytes).unwrap();
        let dir = fresh();
        let handle = dir.get_file_handle(Path::new("a")).unwrap();
        assert_eq!(
            handle.read_bytes(0..100).unwrap().as_slice(),
            &data(len)[..100]
        );
        assert!(
            handle
                .read_bytes(CHUNK + 10..CHUNK + 20)
                .unwrap_err()
                .to_string()
                .contains(DAMAGED)
        );

        // Cut at a chunk boundary: the new last chunk was sealed as not last.
        std::fs::write(path("a"), &original[..HEADER.len() + 2 * SEALED]).unwrap();
        damaged_read(&fresh(), "a", len);
        // Cut inside a chunk.
        std::fs::write(path("a"), &original[..original.len() - 7]).unwrap();
        damaged_read(&fresh(), "a", len);
        // Two chunks swapped.
        let mut swapped = original.clone();
        let (c0, c1) = (HEADER.len(), HEADER.len() + SEALED);
        let first = original[c0..c1].to_vec();
        swapped[c0..c1].copy_from_slice(&original[c1..c1 + SEALED]);
        swapped[c1..c1 + SEALED].copy_from_slice(&first);
        std::fs::write(path("a"), &swapped).unwrap();
        damaged_read(&fresh(), "a", len);
        // Another file's content under this name.
        let other = sealed("b");
        std::fs::write(path("a"), &other).unwrap();
        damaged_read(&fresh(), "a", len);
        // A plain file, and a file sealed under another key.
        std::fs::write(path("a"), data(len)).unwrap();
        damaged_read(&fresh(), "a", len);
        let foreign = EncryptedDirectory::open(tmp.path(), &key()).unwrap();
        std::fs::remove_file(path("a")).unwrap();
        write(&foreign, "a", &data(len));
        damaged_read(&fresh(), "a", len);
        std::fs::write(path("meta.json"), b"{}").unwrap();
        assert!(
            fresh()
                .atomic_read(Path::new("meta.json"))
                .unwrap_err()
                .to_string()
                .contains(DAMAGED)
        );
    }
}
