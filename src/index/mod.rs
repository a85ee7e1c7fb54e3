//! The tantivy index: derived from SQLite, rebuildable at any time, caught up from the
//! change counter. Only one process holds the writer; the others read and let it catch up.

mod analyzer;
mod facets;
mod phrase;
mod search;
mod tag_bits;
#[cfg(test)]
mod testing;
mod word_bits;

use tag_bits::TagBits;
use word_bits::WordBits;

pub use search::{Filters, Highlighter, IndexHits};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::error::LockError;
use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy, NoMergePolicy};
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError,
    Term,
};

use crate::crypt::{EncryptedDirectory, IndexKey};

use crate::error::{Error, Result};
use crate::store::{ImportDone, IndexRecord, Store};

/// Bumped whenever the schema or the analysis changes: an index of another version is rebuilt.
const INDEX_FORMAT: u32 = 3;
/// The indexing memory budget, shared by the indexing threads; used only while indexing.
const WRITER_MEMORY: usize = 128 * 1024 * 1024;
/// Indexing threads: two keep a bulk import moving without starving the rest of a laptop.
const WRITER_THREADS: usize = 2;
/// Merge threads: one (tantivy's default is four), so the merges that follow a bulk import
/// leave a core to searches and captures.
const MERGE_THREADS: usize = 1;

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    id: Field,
    body: Field,
    /// Adjacent common words, for phrases (see `analyzer`).
    pairs: Field,
    tag: Field,
    kind: Field,
    session: Field,
    study: Field,
    created: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let body_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::BODY_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let pairs_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::PAIRS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        body: b.add_text_field("body", body_options),
        pairs: b.add_text_field("pairs", pairs_options),
        tag: b.add_text_field("tag", STRING | FAST),
        kind: b.add_text_field("kind", STRING),
        session: b.add_text_field("session", STRING),
        study: b.add_u64_field("study", INDEXED),
        created: b.add_date_field(
            "created",
            DateOptions::default()
                .set_indexed()
                .set_fast()
                .set_precision(DateTimePrecision::Milliseconds),
        ),
    };
    (b.build(), fields)
}

/// What the index records about itself with each commit, so it knows how far it is.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Watermark {
    format: u32,
    archive_id: String,
    seq: i64,
}

/// How a catch-up went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Nothing to do, or done: the index holds every change.
    Current { indexed: u64 },
    /// Another process holds the writer; it (or the next open) will catch up.
    Behind,
}

pub struct NoteIndex {
    index: Index,
    reader: IndexReader,
    writer: Option<IndexWriter>,
    fields: Fields,
    dir: PathBuf,
    archive_id: String,
    seq: i64,
    /// Why the index was rebuilt when this process opened it (it was damaged).
    repaired: Option<String>,
    /// The large segments' frequent tags as bitsets, shared with every reader handle.
    tag_bits: TagBits,
    /// The large segments' frequent words as bitsets, likewise.
    word_bits: WordBits,
}

impl NoteIndex {
    /// Opens the index in `dir` (creating or rebuilding it when it is missing, damaged, of
    /// another format or of another archive) and takes the writer if no one else has it. With
    /// `key`, every file of the index is encrypted (see [`crate::crypt::directory`]).
    pub fn open(dir: &Path, archive_id: &str, key: Option<&IndexKey>) -> Result<NoteIndex> {
        crate::archive::create_private_dir(dir)?;
        let directory = || -> Result<Box<dyn Directory>> {
            Ok(match key {
                Some(key) => Box::new(EncryptedDirectory::open(dir, key)?),
                None => Box::new(MmapDirectory::open(dir).map_err(TantivyError::from)?),
            })
        };
        let (schema, fields) = schema();
        // An index that cannot be opened holds nothing SQLite does not: it is made again, and
        // an encrypted one whose files fail their check says so.
        let mut damaged = None;
        let existing = if dir.join("meta.json").exists() {
            match Index::open(directory()?).map_err(Error::from) {
                Ok(index) => Some(index),
                Err(Error::IndexDamaged { detail }) => {
                    damaged = Some(detail);
                    None
                }
                Err(_) => None,
            }
        } else {
            None
        };
        let index = match existing {
            Some(index) if index.schema() == schema => index,
            Some(old) => {
                // Only the process that can take the old index's writer may replace it.
                match old.writer_with_num_threads::<TantivyDocument>(1, 15_000_000) {
                    Ok(lock) => drop(lock),
                    Err(TantivyError::LockFailure(..)) => {
                        return Err(Error::Busy(format!(
                            "the index in {} is of an older format and another fieldnotes process is using it: close it and try again",
                            dir.display()
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
                Self::recreate(dir, directory()?, schema.clone())?
            }
            None => Self::recreate(dir, directory()?, schema.clone())?,
        };
        let opened = Self::open_index(index, fields, dir, archive_id).map(|mut index| {
            if let Some(detail) = damaged {
                tracing::warn!(index = %dir.display(), %detail, "damaged index rebuilt");
                index.repaired = Some(detail);
            }
            index
        });
        match opened {
            Err(Error::IndexDamaged { detail }) => {
                // Damage found on opening (a segment's dictionaries, its footer): the index
                // holds nothing SQLite does not, so the process that can write it rebuilds it.
                let directory = directory()?;
                match directory.acquire_lock(&INDEX_WRITER_LOCK) {
                    Ok(lock) => drop(lock),
                    Err(LockError::LockBusy) => return Err(Error::IndexDamaged { detail }),
                    Err(e) => return Err(TantivyError::from(e).into()),
                }
                let index = Self::recreate(dir, directory, schema)?;
                let mut rebuilt = Self::open_index(index, fields, dir, archive_id)?;
                tracing::warn!(index = %dir.display(), %detail, "damaged index rebuilt");
                rebuilt.repaired = Some(detail);
                Ok(rebuilt)
            }
            opened => opened,
        }
    }

    fn open_index(index: Index, fields: Fields, dir: &Path, archive_id: &str) -> Result<NoteIndex> {
        // Before the writer exists: its indexing threads take their analysers from here.
        let tokenizers = index.tokenizers();
        tokenizers.register(analyzer::BODY_TOKENIZER, analyzer::body_analyzer());
        tokenizers.register(analyzer::PAIRS_TOKENIZER, analyzer::pairs_analyzer());
        let writer = match new_writer(&index) {
            Ok(w) => Some(w),
            Err(TantivyError::LockFailure(..)) => None,
            Err(e) => return Err(e.into()),
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut note_index = NoteIndex {
            index,
            reader,
            writer,
            fields,
            dir: dir.to_path_buf(),
            archive_id: archive_id.to_owned(),
            seq: 0,
            repaired: None,
            tag_bits: TagBits::default(),
            word_bits: WordBits::default(),
        };
        match note_index.watermark()? {
            Some(w) if w.format == INDEX_FORMAT && w.archive_id == archive_id => {
                note_index.seq = w.seq;
            }
            Some(_) if note_index.writer.is_some() => note_index.clear()?,
            _ => {}
        }
        Ok(note_index)
    }

    /// Why the index was rebuilt on opening, when it was found damaged.
    pub fn repaired(&self) -> Option<&str> {
        self.repaired.as_deref()
    }

    /// A handle for searching on another thread: the same index and the same reader, so it
    /// sees each commit of this one at once, but never the writer.
    pub fn reader_handle(&self) -> NoteIndex {
        NoteIndex {
            index: self.index.clone(),
            reader: self.reader.clone(),
            writer: None,
            fields: self.fields,
            dir: self.dir.clone(),
            archive_id: self.archive_id.clone(),
            seq: self.seq,
            repaired: None,
            tag_bits: self.tag_bits.clone(),
            word_bits: self.word_bits.clone(),
        }
    }

    fn recreate(dir: &Path, directory: Box<dyn Directory>, schema: Schema) -> Result<Index> {
        // A damaged or foreign index holds nothing SQLite does not: start it again.
        for entry in std::fs::read_dir(dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?
            .flatten()
        {
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| Error::io(format!("cannot reset {}", path.display()), e))?;
        }
        Ok(Index::create(directory, schema, IndexSettings::default())?)
    }

    fn watermark(&self) -> Result<Option<Watermark>> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .and_then(|p| serde_json::from_str::<Watermark>(&p).ok()))
    }

    /// Whether this process holds the index writer.
    pub fn is_writer(&self) -> bool {
        self.writer.is_some()
    }

    /// The last change number the index holds.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Whether the index holds no note (as searchers see it).
    pub fn is_empty(&self) -> bool {
        self.reader.searcher().num_docs() == 0
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Empties the index so the next catch-up rebuilds it from the first change.
    pub fn clear(&mut self) -> Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(Error::Busy(format!(
                "another fieldnotes process is writing the index in {}: close it and try again",
                self.dir.display()
            )));
        };
        writer.delete_all_documents()?;
        self.seq = 0;
        self.commit()
    }

    /// Indexes every change SQLite has after the index's watermark (edits and trash included),
    /// calling `progress` with the number done so far.
    pub fn catch_up(&mut self, store: &Store, mut progress: impl FnMut(u64)) -> Result<CatchUp> {
        if self.writer.is_none() {
            // What the process holding the writer committed becomes visible here.
            self.reader.reload()?;
            return Ok(CatchUp::Behind);
        }
        let store_seq = store.change_seq()?;
        if store_seq < self.seq {
            // The database is older than the index (a backup was restored): rebuild.
            self.clear()?;
        }
        if store_seq == self.seq {
            return Ok(CatchUp::Current { indexed: 0 });
        }
        // An index holding no note (a rebuild, a pull into a new archive) is a bulk load, and
        // each note comes once below: added, not replaced. (A delete per note queued a million
        // deletes, each applied to every segment, and held them all until the commit: 1.7 GB
        // at 1,000,000; and 100,000 deletes that find nothing were a good part of indexing a
        // first pull.) Merges wait for the end of such a load.
        let rebuild = self.is_empty();
        if rebuild {
            self.begin_import();
        }
        let fields = self.fields;
        let writer = self.writer.as_mut().expect("checked above");
        let mut done = 0u64;
        let mut last = self.seq;
        let walked = store.for_each_change_since(self.seq, |rec| {
            if !rebuild {
                replace(writer, &fields, &rec)?;
            } else if !rec.deleted {
                writer.add_document(document(&fields, &rec))?;
            }
            last = rec.change_seq;
            done += 1;
            if done.is_multiple_of(10_000) {
                progress(done);
            }
            Ok(())
        });
        if rebuild {
            self.resume_merges();
        }
        walked?;
        progress(done);
        // Changes numbers may be taken without a note changing (an import skipping a note it
        // already has): the index is current up to the counter, not only the last note.
        self.seq = last.max(store_seq);
        self.commit()?;
        Ok(CatchUp::Current { indexed: done })
    }

    /// A bulk load begins: the segments it flushes are merged once it is committed, not while
    /// it runs (merging meanwhile takes the cores the load needs, and merges segments that
    /// are merged again later).
    pub fn begin_import(&mut self) {
        if let Some(writer) = &self.writer {
            writer.set_merge_policy(Box::new(NoMergePolicy));
        }
    }

    /// Merges resume: the next commit starts them on what a bulk load flushed.
    fn resume_merges(&self) {
        if let Some(writer) = &self.writer {
            writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        }
    }

    /// Takes a note an import is writing, its transaction still open: the writer holds it and
    /// no reader sees it until [`NoteIndex::finish_import`] commits, after SQLite has.
    pub fn stage(&mut self, rec: &IndexRecord) -> Result<()> {
        let writer = self.writer.as_mut().expect("only writers stage notes");
        // New notes only: an import never changes a note the index may already hold.
        if !rec.deleted {
            writer.add_document(document(&self.fields, rec))?;
        }
        Ok(())
    }

    /// Commits what an import staged once SQLite has its notes, first indexing whatever other
    /// processes changed between the index's watermark and the import's first change.
    pub fn finish_import(&mut self, store: &Store, done: &ImportDone) -> Result<()> {
        let fields = self.fields;
        let writer = self.writer.as_mut().expect("only writers stage notes");
        if self.seq < done.seq_before {
            store.for_each_change_between(self.seq, done.seq_before, |rec| {
                replace(writer, &fields, &rec)
            })?;
        }
        self.seq = self.seq.max(done.seq_after);
        self.resume_merges();
        self.commit()
    }

    /// Forgets what a failed import staged.
    pub fn abandon_import(&mut self) {
        if let Some(writer) = self.writer.as_mut()
            && writer.rollback().is_err()
        {
            // Dropping the writer drops what it held uncommitted; the next open takes it again.
            self.writer = None;
        }
        self.resume_merges();
    }

    fn commit(&mut self) -> Result<()> {
        let writer = self.writer.as_mut().expect("only writers commit");
        let mut prepared = writer.prepare_commit()?;
        let mark = Watermark {
            format: INDEX_FORMAT,
            archive_id: self.archive_id.clone(),
            seq: self.seq,
        };
        prepared.set_payload(&serde_json::to_string(&mark).expect("watermark serialises"));
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Picks up what another process committed to the index since it was opened.
    pub fn refresh(&mut self) -> Result<()> {
        self.reader.reload()?;
        if let Some(w) = self.watermark()?
            && w.archive_id == self.archive_id
        {
            self.seq = w.seq;
        }
        Ok(())
    }

    /// How many segments the reader sees: many right after a bulk import, until the merges
    /// that follow it fold them together.
    pub fn segment_count(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Waits until the writer's background merges are done and shows their result to readers.
    /// Searches run while merges are still going after a bulk import; the benchmark measures
    /// both states. The writer is taken again at once (its lock is released for that moment);
    /// call it with nothing staged.
    pub fn settle(&mut self) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        writer.wait_merging_threads()?;
        self.writer = Some(new_writer(&self.index)?);
        self.reader.reload()?;
        Ok(())
    }

    /// Every note id the index holds, sorted, for `check`.
    pub fn note_ids(&self) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let mut ids = Vec::new();
        let mut buf = String::new();
        for segment in searcher.segment_readers() {
            let Some(column) = segment.fast_fields().str("id")? else {
                continue;
            };
            for doc in segment.doc_ids_alive() {
                for ord in column.term_ords(doc) {
                    buf.clear();
                    column
                        .ord_to_str(ord, &mut buf)
                        .map_err(|e| Error::io("cannot read the index", e))?;
                    ids.push(buf.clone());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }
}

/// The one writer of an index: its indexing threads share the memory budget; merges run on
/// `MERGE_THREADS`.
fn new_writer(index: &Index) -> tantivy::Result<IndexWriter> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(WRITER_THREADS));
    index.writer_with_options(
        IndexWriterOptions::builder()
            .num_worker_threads(threads)
            .memory_budget_per_thread(WRITER_MEMORY / threads)
            .num_merge_threads(MERGE_THREADS)
            .build(),
    )
}

/// Puts a note's current state in the index in place of whatever it held for it.
fn replace(writer: &mut IndexWriter, fields: &Fields, rec: &IndexRecord) -> Result<()> {
    writer.delete_term(Term::from_field_text(fields.id, &rec.id));
    if !rec.deleted {
        writer.add_document(document(fields, rec))?;
    }
    Ok(())
}

fn document(f: &Fields, rec: &IndexRecord) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &rec.id);
    doc.add_text(f.body, &rec.body);
    doc.add_text(f.pairs, &rec.body);
    for t in &rec.tags {
        doc.add_text(f.tag, t);
    }
    doc.add_text(f.kind, rec.kind.as_str());
    doc.add_text(f.session, &rec.session);
    doc.add_u64(f.study, rec.study as u64);
    doc.add_date(
        f.created,
        tantivy::DateTime::from_timestamp_millis(rec.created_at.timestamp_millis()),
    );
    doc
}
