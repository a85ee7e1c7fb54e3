//! Counts the matching notes and the tags they carry without loading any document: the total
//! and the facet counts shown beside results.
//!
//! Each segment's matches are gathered as a bitset first, then counted whichever way is
//! cheaper for that many: a few matches read their tags from the `tag` fast field, in
//! batches; many matches (a word in half the notes, typed a letter at a time) are counted
//! from the other side, by walking each tag's postings and testing the bitset, which costs
//! the same whatever the number of matches.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::query::Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    COLLECT_BLOCK_BUFFER_LEN, DocId, DocSet, InvertedIndexReader, Score, SegmentOrdinal,
    SegmentReader,
};

use super::tag_bits::{Frequent, TagBits, count_both};

/// A tag value read from the fast field costs about this many postings walked: above this
/// share of the segment's tag values, the postings are cheaper.
const POSTINGS_PER_VALUE: u64 = 24;

/// How many matching documents are looked up in the fast field at a time.
const BATCH: usize = 256;

pub(crate) struct Matches {
    /// The `tag` field: its fast field and its postings hold the same values.
    pub(crate) field: Field,
}

pub(crate) struct SegmentMatches {
    column: Option<StrColumn>,
    postings: Option<Arc<InvertedIndexReader>>,
    /// The matching documents, one bit each.
    matches: Vec<u64>,
    count: u64,
}

/// How many notes matched, and tag (`@busy-parent`) → number of them carrying it.
pub(crate) type Counts = (usize, HashMap<String, u64>);

impl Collector for Matches {
    type Fruit = Counts;
    type Child = SegmentMatches;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentMatches> {
        let column = segment.fast_fields().str("tag")?;
        let words = if column.is_some() {
            (segment.max_doc() as usize).div_ceil(64)
        } else {
            0
        };
        Ok(SegmentMatches {
            column,
            postings: segment.inverted_index(self.field).ok(),
            matches: vec![0; words],
            count: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    /// Walks the segment's matches, unscored, with the scorer the query builds for itself,
    /// as tantivy's own count does (its default walk boxes each term of an intersection, and
    /// goes through the box for every document).
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Counts> {
        let mut child = self.for_segment(segment_ord, reader)?;
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut buffer = [0; COLLECT_BLOCK_BUFFER_LEN];
        loop {
            let n = scorer.fill_buffer(&mut buffer);
            for &doc in &buffer[..n] {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    child.collect(doc, 0.0);
                }
            }
            if n < COLLECT_BLOCK_BUFFER_LEN {
                break;
            }
        }
        Ok(child.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut total = 0;
        let mut tags: HashMap<String, u64> = HashMap::new();
        for (n, fruit) in fruits {
            total += n;
            for (tag, n) in fruit {
                *tags.entry(tag).or_default() += n;
            }
        }
        Ok((total, tags))
    }
}

impl SegmentCollector for SegmentMatches {
    type Fruit = Counts;

    #[inline]
    fn collect(&mut self, doc: DocId, _score: Score) {
        self.count += 1;
        if let Some(word) = self.matches.get_mut(doc as usize / 64) {
            *word |= 1 << (doc % 64);
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.collect(doc, 0.0);
        }
    }

    fn harvest(self) -> Counts {
        (self.count as usize, self.tags())
    }
}

impl SegmentMatches {
    fn tags(&self) -> HashMap<String, u64> {
        let Some(column) = &self.column else {
            return HashMap::new();
        };
        let share = Share {
            start: 0,
            end: column.ords().num_docs(),
            matches: &self.matches,
            count: self.count,
        };
        share.tags(column, self.postings.as_deref())
    }
}

/// The tags of the matching documents in one run of a segment, `start..end` (`start` a
/// multiple of 64), counted: what a thread walking that run counts on its own.
/// A large segment's frequent tags are counted from their bitsets in `bits`.
pub(crate) fn run_tags(
    segment: &SegmentReader,
    field: Field,
    bits: &TagBits,
    run: (DocId, DocId),
    matches: &[u64],
    count: u64,
) -> tantivy::Result<HashMap<String, u64>> {
    let Some(column) = segment.fast_fields().str("tag")? else {
        return Ok(HashMap::new());
    };
    let postings = segment.inverted_index(field).ok();
    let share = Share {
        start: run.0,
        end: run.1,
        matches,
        count,
    };
    if count == 0 {
        return Ok(HashMap::new());
    }
    // What each way costs, in postings read: a fast-field value costs `POSTINGS_PER_VALUE`,
    // a word of a bitset (64 notes) about one.
    let by_column = count * POSTINGS_PER_VALUE;
    let values = share.values(&column);
    // Making the bitsets reads every tag's postings once: worth it for a search whose fast
    // field reads would cost a good share of that (the next ones then take the bitsets).
    let frequent = bits.of(segment, field, by_column * 4 >= values);
    let walk = match &frequent {
        Some(f) => {
            let words = u64::from(run.1 - run.0).div_ceil(64);
            let docs = u64::from(segment.max_doc().max(1));
            f.tags.len() as u64 * words
                + values.saturating_sub(f.values * u64::from(run.1 - run.0) / docs)
        }
        None => values,
    };
    if by_column < walk {
        return Ok(share.by_column(&column));
    }
    if let Some(postings) = postings
        && let Ok(counts) = share.by_postings(&postings, frequent.as_deref())
    {
        return Ok(counts);
    }
    Ok(share.by_column(&column))
}

/// Matching documents of one run of a segment: bit `i` of `matches` is document `start + i`.
struct Share<'a> {
    start: DocId,
    end: DocId,
    matches: &'a [u64],
    count: u64,
}

impl Share<'_> {
    fn tags(
        &self,
        column: &StrColumn,
        postings: Option<&InvertedIndexReader>,
    ) -> HashMap<String, u64> {
        if self.count == 0 {
            return HashMap::new();
        }
        if self.many(column)
            && let Some(postings) = postings
            && let Ok(counts) = self.by_postings(postings, None)
        {
            return counts;
        }
        self.by_column(column)
    }

    /// Whether the matches are so many that walking the tags' postings is cheaper than
    /// reading each match's tags.
    fn many(&self, column: &StrColumn) -> bool {
        self.count * POSTINGS_PER_VALUE >= self.values(column)
    }

    /// The run's share of the segment's tag values.
    fn values(&self, column: &StrColumn) -> u64 {
        column.ords().values.num_vals() as u64 * u64::from(self.end - self.start)
            / u64::from(column.ords().num_docs().max(1))
    }

    fn is_match(&self, doc: DocId) -> bool {
        let Some(at) = doc.checked_sub(self.start) else {
            return false;
        };
        let at = at as usize;
        self.matches
            .get(at / 64)
            .is_some_and(|word| (word >> (at % 64)) & 1 == 1)
    }

    /// Reads the tags of each matching document from the fast field.
    fn by_column(&self, column: &StrColumn) -> HashMap<String, u64> {
        let ords = column.ords();
        let mut counts = vec![0u32; column.num_terms()];
        let mut docs: Vec<DocId> = Vec::with_capacity(BATCH);
        let (mut rows, mut row_docs, mut values) = (Vec::new(), Vec::new(), Vec::new());
        let mut flush = |docs: &mut Vec<DocId>| {
            rows.clear();
            row_docs.clear();
            ords.row_ids_for_docs(docs, &mut row_docs, &mut rows);
            values.resize(rows.len(), 0u64);
            ords.values.get_vals(&rows, &mut values);
            for &ord in &values {
                counts[ord as usize] += 1;
            }
            docs.clear();
        };
        for (i, &word) in self.matches.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                docs.push(self.start + i as DocId * 64 + bits.trailing_zeros());
                bits &= bits - 1;
                if docs.len() == BATCH {
                    flush(&mut docs);
                }
            }
        }
        flush(&mut docs);
        let mut out = HashMap::new();
        let mut name = String::new();
        for (ord, &n) in counts.iter().enumerate() {
            if n > 0 {
                name.clear();
                if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    out.insert(name.clone(), n as u64);
                }
            }
        }
        out
    }

    /// Walks every tag's postings within the run, counting the documents that match; the tags
    /// in `frequent` are counted from their bitsets instead.
    fn by_postings(
        &self,
        postings: &InvertedIndexReader,
        frequent: Option<&Frequent>,
    ) -> std::io::Result<HashMap<String, u64>> {
        let mut out = HashMap::new();
        if let Some(frequent) = frequent {
            let from = self.start as usize / 64;
            for (tag, bits) in &frequent.tags {
                let n = count_both(self.matches, bits, from);
                if n > 0 {
                    out.insert(String::from_utf8_lossy(tag).into_owned(), n);
                }
            }
        }
        let mut terms = postings.terms().stream()?;
        while terms.advance() {
            if frequent.is_some_and(|f| f.has(terms.key())) {
                continue;
            }
            let mut block = postings
                .read_block_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
            let mut from = if self.start > 0 {
                block.seek(self.start)
            } else {
                0
            };
            let mut n = 0u64;
            'blocks: loop {
                let docs = block.docs();
                if docs.is_empty() {
                    break;
                }
                for &doc in &docs[from.min(docs.len())..] {
                    if doc >= self.end {
                        break 'blocks;
                    }
                    n += u64::from(self.is_match(doc));
                }
                from = 0;
                block.advance();
            }
            if n > 0 {
                out.insert(String::from_utf8_lossy(terms.key()).into_owned(), n);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
    use tantivy::schema::{FAST, IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument, Term};

    use super::Matches;

    /// Both ways of counting (the fast field for a few matches, the postings for many) give
    /// the same counts as counting by hand, deleted notes left out.
    #[test]
    fn few_and_many_matches_count_alike() {
        let mut schema = Schema::builder();
        let tag = schema.add_text_field("tag", STRING | FAST);
        let id = schema.add_text_field("id", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let names = ["#checkout", "@student", "!annoyed", "=wait-time"];
        let tags_of = |i: usize| -> Vec<&str> {
            (0..names.len())
                .filter(|k| i.is_multiple_of(k + 2))
                .map(|k| names[k])
                .collect()
        };
        for i in 0..2_000 {
            let mut doc = TantivyDocument::default();
            doc.add_text(id, i.to_string());
            for t in tags_of(i) {
                doc.add_text(tag, t);
            }
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        for i in (0..2_000).step_by(7) {
            writer.delete_term(Term::from_field_text(id, &i.to_string()));
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let expected = |wanted: &dyn Fn(usize) -> bool| {
            let mut counts: HashMap<String, u64> = HashMap::new();
            let mut total = 0;
            for i in (0..2_000).filter(|&i: &usize| !i.is_multiple_of(7) && wanted(i)) {
                total += 1;
                for t in tags_of(i) {
                    *counts.entry(t.to_owned()).or_default() += 1;
                }
            }
            (total, counts)
        };
        let matches = Matches { field: tag };
        // Every note: counted from the postings.
        assert_eq!(
            searcher.search(&AllQuery, &matches).unwrap(),
            expected(&|_| true)
        );
        // One note in five (those with the rarest tag): still many, counted from the postings.
        let rare = TermQuery::new(
            Term::from_field_text(tag, "=wait-time"),
            IndexRecordOption::Basic,
        );
        assert_eq!(
            searcher.search(&rare, &matches).unwrap(),
            expected(&|i| i.is_multiple_of(5))
        );
        // One note in 37: counted from the fast field.
        let few = BooleanQuery::new(
            (0..2_000)
                .step_by(37)
                .map(|i| {
                    let term = Term::from_field_text(id, &i.to_string());
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, q)
                })
                .collect(),
        );
        assert_eq!(
            searcher.search(&few, &matches).unwrap(),
            expected(&|i| i.is_multiple_of(37))
        );
        // The same beside the top notes, in a scored walk.
        let (top, counts) = searcher
            .search(
                &few,
                &(
                    tantivy::collector::TopDocs::with_limit(3).order_by_score(),
                    Matches { field: tag },
                ),
            )
            .unwrap();
        assert_eq!(top.len(), 3);
        assert_eq!(counts, expected(&|i| i.is_multiple_of(37)));
    }
}
