//! Each large segment's frequent tags kept as bitsets, for counting the tags of many matches.
//!
//! A word in a quarter of 10,000,000 notes has millions of matches; counting their tags by
//! walking each tag's postings and testing the matches' bitset costs a posting read per tag
//! a note carries, across the whole archive (about 27,000,000 at 10,000,000 notes: two thirds
//! of such a search). With a tag's notes as a bitset beside the matches', 64 notes are counted
//! in one AND and one popcount. A segment never changes once written, so its bitsets are made
//! once, the first time a search needs them, and kept until the segment is merged away.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tantivy::index::SegmentId;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Searcher, SegmentReader};

/// Segments with fewer documents count their tags from the postings as before: their walk is
/// short, and a new capture's segment would otherwise make bitsets of its own.
const FROM_DOCS: DocId = 65_536;

/// A tag in at least one of this many of a segment's documents gets a bitset: a word of the
/// bitset (64 notes) costs about as much as reading one posting, so below that share the
/// postings are cheaper and take no memory.
const SHARE: u64 = 64;

/// The most memory every segment's bitsets take together (16 MiB is about 100 frequent tags
/// at 1,000,000 notes); past it, tags are counted from their postings.
const BUDGET_BYTES: usize = 128 << 20;

/// A segment's bitsets, made once by the first search that needs them.
type Slot = Arc<OnceLock<Arc<Frequent>>>;

/// The bitsets of the segments searched, shared by every handle on the index.
#[derive(Clone)]
pub(crate) struct TagBits {
    segments: Arc<Mutex<HashMap<SegmentId, Slot>>>,
    used: Arc<AtomicUsize>,
    /// [`FROM_DOCS`], lower in tests.
    from_docs: DocId,
    /// Only a process that searches again and again keeps bitsets (the app): a single search
    /// (the command line) pays as much to make them as it saves.
    kept: Arc<AtomicBool>,
}

impl Default for TagBits {
    fn default() -> TagBits {
        TagBits {
            segments: Arc::default(),
            used: Arc::default(),
            from_docs: FROM_DOCS,
            kept: Arc::default(),
        }
    }
}

/// One segment's frequent tags with their documents, deleted ones included (the matches never
/// hold a deleted note, so an AND leaves them out), in the order of the tag dictionary.
pub(crate) struct Frequent {
    pub(crate) tags: Vec<(Vec<u8>, Vec<u64>)>,
    /// How many tag values of the segment the bitsets hold.
    pub(crate) values: u64,
    used: Arc<AtomicUsize>,
}

impl Drop for Frequent {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes(), Ordering::Relaxed);
    }
}

impl Frequent {
    fn bytes(&self) -> usize {
        self.tags.iter().map(|(_, bits)| bits.len() * 8).sum()
    }

    /// Whether `tag` (a term of the tag field) has a bitset here.
    pub(crate) fn has(&self, tag: &[u8]) -> bool {
        self.tags
            .binary_search_by(|(name, _)| name.as_slice().cmp(tag))
            .is_ok()
    }
}

impl TagBits {
    /// Bitsets for segments of any size: how a test with small segments counts by them.
    #[cfg(test)]
    pub(crate) fn for_any_segment() -> TagBits {
        let bits = TagBits {
            from_docs: 0,
            ..TagBits::default()
        };
        bits.keep();
        bits
    }

    /// How many segments have their bitsets made.
    #[cfg(test)]
    pub(crate) fn made(&self) -> usize {
        self.lock()
            .values()
            .filter(|slot| slot.get().is_some())
            .count()
    }

    /// From now on, every handle sharing these keeps bitsets and counts by them.
    pub(crate) fn keep(&self) {
        self.kept.store(true, Ordering::Relaxed);
    }

    /// Forgets the segments `searcher` no longer has (merged into others).
    pub(crate) fn keep_only(&self, searcher: &Searcher) {
        let live = live_segments(searcher);
        self.lock().retain(|id, _| live.contains(id));
    }

    /// The frequent tags of `segment`, made now if `make` and no search made them before, or
    /// `None` (a small segment, or not made yet).
    pub(crate) fn of(
        &self,
        segment: &SegmentReader,
        field: Field,
        make: bool,
    ) -> Option<Arc<Frequent>> {
        if segment.max_doc() < self.from_docs || !self.kept.load(Ordering::Relaxed) {
            return None;
        }
        let slot = self.lock().entry(segment.segment_id()).or_default().clone();
        if !make {
            return slot.get().cloned();
        }
        // Two threads counting runs of the same segment: the second waits for the first's.
        let made = slot.get_or_init(|| Arc::new(self.make(segment, field)));
        Some(made.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Slot>> {
        // The map holds no invariant a panic could break half-way: go on with it.
        self.segments.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads each frequent tag's postings into a bitset, as far as the budget allows. A tag
    /// that cannot be read is left to the postings walk, which reports the error itself.
    fn make(&self, segment: &SegmentReader, field: Field) -> Frequent {
        let mut frequent = Frequent {
            tags: Vec::new(),
            values: 0,
            used: self.used.clone(),
        };
        let Ok(inverted) = segment.inverted_index(field) else {
            return frequent;
        };
        let Ok(mut terms) = inverted.terms().stream() else {
            return frequent;
        };
        let max_doc = segment.max_doc();
        let words = (max_doc as usize).div_ceil(64);
        while terms.advance() {
            let info = terms.value();
            if u64::from(info.doc_freq) * SHARE < u64::from(max_doc) {
                continue;
            }
            let bytes = words * 8;
            if self.used.fetch_add(bytes, Ordering::Relaxed) + bytes > BUDGET_BYTES {
                self.used.fetch_sub(bytes, Ordering::Relaxed);
                break;
            }
            let mut bits = vec![0u64; words];
            let read = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic);
            let Ok(mut block) = read else {
                self.used.fetch_sub(bytes, Ordering::Relaxed);
                continue;
            };
            loop {
                let docs = block.docs();
                if docs.is_empty() {
                    break;
                }
                for &doc in docs {
                    bits[doc as usize / 64] |= 1 << (doc % 64);
                }
                block.advance();
            }
            // Accounted for above: `Drop` gives it back.
            frequent.tags.push((terms.key().to_vec(), bits));
            frequent.values += u64::from(info.doc_freq);
        }
        frequent
    }
}

/// The segments a searcher reads: what a cache of segments keeps.
pub(crate) fn live_segments(searcher: &Searcher) -> Vec<SegmentId> {
    searcher
        .segment_readers()
        .iter()
        .map(|r| r.segment_id())
        .collect()
}

/// How many of the documents set in `matches` are set in `bits`, `matches` starting at word
/// `from` of `bits`.
pub(crate) fn count_both(matches: &[u64], bits: &[u64], from: usize) -> u64 {
    let bits = bits.get(from..).unwrap_or_default();
    matches
        .iter()
        .zip(bits)
        .map(|(m, b)| u64::from((m & b).count_ones()))
        .sum()
}
