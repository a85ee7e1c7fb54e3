//! A prefix's expansions as one set of notes, with the frequent words' notes kept as bitsets.
//!
//! A word being typed is searched as `word OR word*`, and `the*` expands to the, they, there,
//! them…: words in most notes. Their notes are one required set (see the query builder's
//! `prefix`), and reading every expansion's postings into it again at each key was a fifth of
//! such a key's time at 1,000,000 notes. A segment never changes once written, so the app keeps
//! each frequent word's notes in a large segment as a bitset (made the first time a set needs
//! it, until the segment is merged away): a set of frequent words is then a few ORs of words.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocId, DocSet, InvertedIndexReader, Score, Searcher, SegmentReader, TERMINATED, TantivyError,
    Term,
};

use super::tag_bits::live_segments;

/// A word in at least one of this many of a segment's notes is kept as a bitset (the same
/// share that makes a prefix's expansion frequent).
const SHARE: u64 = 8;

/// Segments with fewer notes read their postings each time: the read is short.
const FROM_DOCS: DocId = 65_536;

/// The most memory the kept words take in all (about 50 words at 10,000,000 notes); past
/// it, words are read from their postings each time.
const BUDGET_BYTES: usize = 64 << 20;

/// A word's notes in one segment, by the segment and the word.
type Kept = HashMap<(SegmentId, Term), Arc<Vec<u64>>>;

/// Frequent words' notes per segment, shared by every handle on the index.
#[derive(Clone)]
pub(crate) struct WordBits {
    words: Arc<Mutex<Kept>>,
    used: Arc<AtomicUsize>,
    /// Only a process that searches again and again keeps them (the app).
    kept: Arc<AtomicBool>,
    /// [`FROM_DOCS`], lower in tests.
    from_docs: DocId,
}

impl Default for WordBits {
    fn default() -> WordBits {
        WordBits {
            words: Arc::default(),
            used: Arc::default(),
            kept: Arc::default(),
            from_docs: FROM_DOCS,
        }
    }
}

impl std::fmt::Debug for WordBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordBits({} bytes)", self.used.load(Ordering::Relaxed))
    }
}

impl WordBits {
    /// From now on, every handle sharing these keeps frequent words' bitsets.
    pub(crate) fn keep(&self) {
        self.kept.store(true, Ordering::Relaxed);
    }

    /// Forgets the segments `searcher` no longer has (merged into others).
    pub(crate) fn keep_only(&self, searcher: &Searcher) {
        let live = live_segments(searcher);
        let mut words = self.lock();
        words.retain(|(segment, _), bits| {
            let keep = live.contains(segment);
            if !keep {
                self.used.fetch_sub(bits.len() * 8, Ordering::Relaxed);
            }
            keep
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The map holds no invariant a panic could break half-way: go on with it.
        self.words.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the bits of `term`'s notes in `segment` in `into` (bit `d`: document `d`).
    fn add(&self, segment: &SegmentReader, term: &Term, into: &mut [u64]) -> tantivy::Result<()> {
        let inverted = segment.inverted_index(term.field())?;
        let Some(info) = inverted.get_term_info(term)? else {
            return Ok(());
        };
        let max_doc = segment.max_doc();
        let frequent = u64::from(info.doc_freq) * SHARE > u64::from(max_doc);
        if !(frequent && max_doc >= self.from_docs && self.kept.load(Ordering::Relaxed)) {
            return set_postings(&inverted, &info, into);
        }
        let key = (segment.segment_id(), term.clone());
        let found = self.lock().get(&key).cloned();
        let bits = match found {
            Some(bits) => bits,
            None => {
                let mut bits = vec![0u64; into.len()];
                set_postings(&inverted, &info, &mut bits)?;
                let bits = Arc::new(bits);
                let bytes = bits.len() * 8;
                if self.used.fetch_add(bytes, Ordering::Relaxed) + bytes <= BUDGET_BYTES {
                    // Another thread may have made the same meanwhile: keep one.
                    if self.lock().insert(key, bits.clone()).is_some() {
                        self.used.fetch_sub(bytes, Ordering::Relaxed);
                    }
                } else {
                    self.used.fetch_sub(bytes, Ordering::Relaxed);
                }
                bits
            }
        };
        for (word, kept) in into.iter_mut().zip(bits.iter()) {
            *word |= kept;
        }
        Ok(())
    }
}

fn set_postings(
    inverted: &InvertedIndexReader,
    info: &tantivy::postings::TermInfo,
    into: &mut [u64],
) -> tantivy::Result<()> {
    let mut block = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    loop {
        let docs = block.docs();
        if docs.is_empty() {
            return Ok(());
        }
        for &doc in docs {
            if let Some(word) = into.get_mut(doc as usize / 64) {
                *word |= 1 << (doc % 64);
            }
        }
        block.advance();
    }
}

/// The notes holding any of `terms`, each scored 0: the matches of a prefix's expansions.
#[derive(Clone, Debug)]
pub(crate) struct ExpansionSet {
    terms: Vec<Term>,
    bits: WordBits,
}

impl ExpansionSet {
    pub(crate) fn new(terms: Vec<Term>, bits: WordBits) -> ExpansionSet {
        ExpansionSet { terms, bits }
    }
}

impl Query for ExpansionSet {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    /// Every expansion, so the snippets mark them (`wor*`: work, world…).
    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in &self.terms {
            visitor(term, false);
        }
    }
}

impl Weight for ExpansionSet {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut words = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
        for term in &self.terms {
            self.bits.add(reader, term, &mut words)?;
        }
        Ok(Box::new(Bits::new(words, reader.max_doc())))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} holds none of the words"
            )));
        }
        Ok(Explanation::new("holds one of the words", 0.0))
    }
}

/// The documents set in a bitset, in order.
struct Bits {
    words: Vec<u64>,
    max_doc: DocId,
    doc: DocId,
    len: u32,
}

impl Bits {
    fn new(words: Vec<u64>, max_doc: DocId) -> Bits {
        let len = words.iter().map(|w| w.count_ones()).sum();
        let mut bits = Bits {
            words,
            max_doc,
            doc: 0,
            len,
        };
        bits.doc = bits.first_from(0);
        bits
    }

    /// The first document set at or after `target`.
    fn first_from(&self, target: DocId) -> DocId {
        let mut at = target as usize / 64;
        let Some(&first) = self.words.get(at) else {
            return TERMINATED;
        };
        let mut word = first & (u64::MAX << (target % 64));
        loop {
            if word != 0 {
                let doc = (at * 64) as DocId + word.trailing_zeros();
                return if doc < self.max_doc { doc } else { TERMINATED };
            }
            at += 1;
            match self.words.get(at) {
                Some(&next) => word = next,
                None => return TERMINATED,
            }
        }
    }
}

impl DocSet for Bits {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.first_from(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc != TERMINATED && target > self.doc {
            self.doc = self.first_from(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.len
    }
}

impl Scorer for Bits {
    fn score(&mut self) -> Score {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::DocSetCollector;
    use tantivy::query::TermSetQuery;
    use tantivy::schema::{STRING, Schema, TEXT};
    use tantivy::{DocSet, TERMINATED, TantivyDocument, Term};

    use super::{Bits, ExpansionSet, WordBits};
    use crate::index::testing::unmerged_index;

    /// A set of words finds the notes tantivy's term set finds, deleted ones left out, whether
    /// its words are read from their postings or from kept bitsets (frequent words in
    /// segments of any size here), and again once they are kept.
    #[test]
    fn an_expansion_set_finds_what_a_term_set_finds() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let id = schema.add_text_field("id", STRING);
        let (index, mut writer) = unmerged_index(schema.build());
        for i in 0..3_000u32 {
            // `the` in most notes, `they` in a third, `theme` in one in forty.
            let mut words = vec!["queue"];
            if i % 10 != 0 {
                words.push("the");
            }
            if i % 3 == 0 {
                words.push("they");
            }
            if i % 40 == 7 {
                words.push("theme");
            }
            let mut doc = TantivyDocument::default();
            doc.add_text(body, words.join(" "));
            doc.add_text(id, i.to_string());
            writer.add_document(doc).unwrap();
            if i % 1_100 == 0 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        for i in (0..3_000).step_by(13) {
            writer.delete_term(Term::from_field_text(id, &i.to_string()));
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 2);
        let terms: Vec<Term> = ["the", "they", "theme", "thermos"]
            .iter()
            .map(|w| Term::from_field_text(body, w))
            .collect();
        let expected = searcher
            .search(&TermSetQuery::new(terms.clone()), &DocSetCollector)
            .unwrap();
        assert!(expected.len() > 2_000);
        let postings = WordBits::default();
        let kept = WordBits {
            from_docs: 0,
            ..WordBits::default()
        };
        kept.keep();
        for bits in [&postings, &kept, &kept] {
            let set = ExpansionSet::new(terms.clone(), bits.clone());
            assert_eq!(searcher.search(&set, &DocSetCollector).unwrap(), expected);
        }
        // Its words mark the snippets.
        let set = ExpansionSet::new(terms.clone(), WordBits::default());
        let mut visited = Vec::new();
        tantivy::query::Query::query_terms(&set, &mut |term, _| visited.push(term.clone()));
        assert_eq!(visited, terms);
        assert_eq!(postings.lock().len(), 0);
        // `the` and `they` in every segment; `theme` too rare to keep.
        assert_eq!(kept.lock().len(), 2 * searcher.segment_readers().len());
    }

    /// Advancing and seeking find the set documents in order, none past the last document.
    #[test]
    fn bits_walk_and_seek_in_order() {
        let docs = [0u32, 5, 63, 64, 130, 199];
        let mut words = vec![0u64; 4];
        for d in docs {
            words[d as usize / 64] |= 1 << (d % 64);
        }
        // A bit past the last document (200 documents) is never a match.
        words[3] |= 1 << (210 % 64);
        let mut walked = Vec::new();
        let mut bits = Bits::new(words.clone(), 200);
        while bits.doc() != TERMINATED {
            walked.push(bits.doc());
            bits.advance();
        }
        assert_eq!(walked, docs);
        let mut bits = Bits::new(words, 200);
        assert_eq!(bits.seek(6), 63);
        assert_eq!(bits.seek(63), 63);
        assert_eq!(bits.seek(2), 63);
        assert_eq!(bits.seek(65), 130);
        assert_eq!(bits.seek(200), TERMINATED);
        assert_eq!(bits.advance(), TERMINATED);
    }
}
