//! A phrase found by reading its words' positions in step with their notes.
//!
//! To read a note's positions, tantivy's phrase scorer adds up the frequencies of every note
//! before it in its block of 128, again for each note it checks: at 10,000,000 notes
//! `"to waiting"` checks the 2.2 million notes holding both words, and that sum was 44% of
//! the search. Here each word's cursor walks its postings a block at a time and keeps the
//! running count of positions as it moves, so a note's positions are one read away. It matches
//! and scores exactly as tantivy's phrase query does (BM25 of the phrase's count in the note,
//! the words' inverse document frequencies added).

use tantivy::directory::error::OpenReadError;
use tantivy::directory::{CompositeFile, FileSlice};
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentComponent;
use tantivy::positions::PositionReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{
    Bm25Weight, EmptyScorer, EnableScoring, Explanation, PhraseQuery, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// Words that must stand at the given positions relative to each other, with no slop: what
/// `tantivy::query::PhraseQuery::new_with_offset` matches.
#[derive(Clone, Debug)]
pub(crate) struct Phrase {
    /// By position, as the phrase query orders them.
    terms: Vec<(usize, Term)>,
}

impl Phrase {
    /// Two words or more, all of one field indexed with positions.
    pub(crate) fn new(mut terms: Vec<(usize, Term)>) -> Phrase {
        assert!(terms.len() > 1, "a phrase has two words or more");
        terms.sort_by_key(|&(position, _)| position);
        Phrase { terms }
    }
}

impl Query for Phrase {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let field = self.terms[0].1.field();
        // Also what checks that the field has positions.
        let theirs = PhraseQuery::new_with_offset(self.terms.clone()).weight(scoring)?;
        let bm25 = match scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } => {
                let terms: Vec<Term> = self.terms.iter().map(|(_, t)| t.clone()).collect();
                Some(Bm25Weight::for_terms(statistics_provider, &terms)?)
            }
            EnableScoring::Disabled { .. } => None,
        };
        Ok(Box::new(PhraseWeight {
            terms: self.terms.clone(),
            field,
            bm25,
            theirs,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for (_, term) in &self.terms {
            visitor(term, true);
        }
    }
}

struct PhraseWeight {
    terms: Vec<(usize, Term)>,
    field: Field,
    bm25: Option<Bm25Weight>,
    /// tantivy's own, for a segment whose positions file is gone (see [`positions_file`]).
    theirs: Box<dyn Weight>,
}

/// What a segment's scorer is made of.
enum Made {
    Scorer(Box<PhraseScorer>),
    /// A word is not in the segment.
    Nothing,
    /// The positions file cannot be opened again.
    Theirs,
}

impl PhraseWeight {
    fn phrase_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Made> {
        let inverted = reader.inverted_index(self.field)?;
        let mut infos = Vec::with_capacity(self.terms.len());
        for (position, term) in &self.terms {
            match inverted.get_term_info(term)? {
                Some(info) => infos.push((*position, info)),
                None => return Ok(Made::Nothing),
            }
        }
        let Some(positions) = positions_file(reader, self.field)? else {
            return Ok(Made::Theirs);
        };
        let last = infos.last().map_or(0, |(position, _)| *position);
        let mut cursors = Vec::with_capacity(infos.len());
        for (position, info) in &infos {
            let block =
                inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            let bytes = positions.read_bytes_slice(info.positions_range.clone())?;
            cursors.push(Cursor {
                block,
                positions: PositionReader::open(bytes)?,
                block_start: 0,
                at: 0,
                before: 0,
                // Every word's positions moved to where the phrase's last word would be.
                shift: (last - position) as u32,
            });
        }
        // The rarest word leads: the others are only sought to its notes.
        cursors.sort_by_key(|c| c.block.doc_freq());
        let norms = match &self.bm25 {
            Some(_) => reader.fieldnorms_readers().get_field(self.field)?,
            None => None,
        };
        let mut scorer = PhraseScorer {
            cursors,
            doc: 0,
            count: 0,
            left: Vec::new(),
            right: Vec::new(),
            bm25: self.bm25.as_ref().map(|w| w.boost_by(boost)),
            norms: norms.unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1)),
        };
        scorer.find(0);
        Ok(Made::Scorer(Box::new(scorer)))
    }
}

/// The field's part of the segment's positions file, opened again by its name (the segment
/// reader keeps its own handle to itself); `None` when a merge has since deleted it while a
/// searcher still holds the segment (a directory in memory forgets it at once; an mmap keeps
/// it mapped).
fn positions_file(reader: &SegmentReader, field: Field) -> tantivy::Result<Option<FileSlice>> {
    let file = match reader.open_read(SegmentComponent::Positions) {
        Ok(file) => file,
        Err(OpenReadError::FileDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let positions = CompositeFile::open(&file)?
        .open_read(field)
        .ok_or_else(|| TantivyError::SchemaError("the field has no positions".into()))?;
    Ok(Some(positions))
}

impl Weight for PhraseWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.phrase_scorer(reader, boost)? {
            Made::Scorer(scorer) => scorer,
            Made::Nothing => Box::new(EmptyScorer),
            Made::Theirs => self.theirs.scorer(reader, boost)?,
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = match self.phrase_scorer(reader, 1.0)? {
            Made::Scorer(scorer) => scorer,
            Made::Nothing => return Err(not_matching(doc)),
            Made::Theirs => return self.theirs.explain(reader, doc),
        };
        if scorer.seek(doc) != doc {
            return Err(not_matching(doc));
        }
        let norm = scorer.norms.fieldnorm_id(doc);
        Ok(match &self.bm25 {
            Some(bm25) => bm25.explain(norm, scorer.count),
            None => Explanation::new("a phrase, not scored", 1.0),
        })
    }
}

fn not_matching(doc: DocId) -> TantivyError {
    TantivyError::InvalidArgument(format!("document #{doc} does not match"))
}

/// One word's notes and positions, read forwards.
struct Cursor {
    block: BlockSegmentPostings,
    positions: PositionReader,
    /// The positions of the notes before the loaded block.
    block_start: u64,
    /// The current note's place in the block.
    at: usize,
    /// The positions of the block's notes before the current one.
    before: u64,
    shift: u32,
}

impl Cursor {
    /// Moves to the first note at or after `target` (never backwards).
    fn seek(&mut self, target: DocId) -> DocId {
        loop {
            let docs = self.block.docs();
            let Some(&last) = docs.last() else {
                return TERMINATED;
            };
            if last < target {
                // The skip list would jump over these blocks, but not tell how many positions
                // they hold: a block's frequencies are read to count them.
                let block: u64 = self.block.freqs().iter().map(|&f| u64::from(f)).sum();
                self.block_start += block;
                self.block.advance();
                self.at = 0;
                self.before = 0;
                continue;
            }
            let freqs = self.block.freqs();
            while docs[self.at] < target {
                self.before += u64::from(freqs[self.at]);
                self.at += 1;
            }
            return docs[self.at];
        }
    }

    /// The current note's positions, shifted, into `out` (grown as needed, never cleared:
    /// zeroing it for every note was a tenth of a phrase's time).
    fn positions<'b>(&mut self, out: &'b mut Vec<u32>) -> &'b mut [u32] {
        let freq = self.block.freq(self.at) as usize;
        if out.len() < freq {
            out.resize(freq, 0);
        }
        let out = &mut out[..freq];
        self.positions.read(self.block_start + self.before, out);
        // Stored as gaps from the previous position, the first from zero.
        let mut at = self.shift;
        for p in out.iter_mut() {
            at += *p;
            *p = at;
        }
        out
    }
}

struct PhraseScorer {
    cursors: Vec<Cursor>,
    doc: DocId,
    /// How many times the phrase is in the current note.
    count: u32,
    left: Vec<u32>,
    right: Vec<u32>,
    bm25: Option<Bm25Weight>,
    norms: FieldNormReader,
}

impl PhraseScorer {
    /// Moves to the first note at or after `target` that holds the phrase.
    fn find(&mut self, mut target: DocId) -> DocId {
        'next: loop {
            let doc = self.cursors[0].seek(target);
            if doc == TERMINATED {
                self.doc = TERMINATED;
                return TERMINATED;
            }
            for cursor in &mut self.cursors[1..] {
                let at = cursor.seek(doc);
                if at == TERMINATED {
                    self.doc = TERMINATED;
                    return TERMINATED;
                }
                if at != doc {
                    target = at;
                    continue 'next;
                }
            }
            if self.holds_phrase() {
                self.doc = doc;
                return doc;
            }
            target = doc + 1;
        }
    }

    /// Whether the note every cursor is on holds the phrase, counting how often.
    fn holds_phrase(&mut self) -> bool {
        let (first, others) = self.cursors.split_first_mut().expect("two words or more");
        let left = first.positions(&mut self.left);
        let mut kept = left.len();
        for cursor in others {
            let right = cursor.positions(&mut self.right);
            kept = keep_common(&mut left[..kept], right);
            if kept == 0 {
                return false;
            }
        }
        self.count = kept as u32;
        true
    }
}

/// Moves the values of `left` also in `right` (both sorted) to its front; returns how many.
fn keep_common(left: &mut [u32], right: &[u32]) -> usize {
    let (mut kept, mut r) = (0, 0);
    for l in 0..left.len() {
        let value = left[l];
        while r < right.len() && right[r] < value {
            r += 1;
        }
        if r == right.len() {
            break;
        }
        if right[r] == value {
            // Each value matched once, as tantivy counts a word stored twice at a position.
            left[kept] = value;
            kept += 1;
            r += 1;
        }
    }
    kept
}

impl DocSet for PhraseScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.find(self.doc + 1)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        self.find(target)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.cursors[0].block.doc_freq()
    }
}

impl Scorer for PhraseScorer {
    fn score(&mut self) -> Score {
        match &self.bm25 {
            Some(bm25) => bm25.score(self.norms.fieldnorm_id(self.doc), self.count),
            None => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, DocSetCollector, TopDocs};
    use tantivy::query::{PhraseQuery, Query};
    use tantivy::schema::{STRING, Schema, TEXT};
    use tantivy::{DocSet, TantivyDocument, Term};

    use super::Phrase;
    use crate::index::testing::{numbers, unmerged_index};

    /// Every phrase matches the notes tantivy's phrase query matches, with the same scores,
    /// across segments, with deleted notes, repeated words and a gap for a word left out;
    /// and a seek lands where tantivy's does.
    #[test]
    fn a_phrase_finds_and_scores_what_tantivy_finds() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let id = schema.add_text_field("id", STRING);
        let (index, mut writer) = unmerged_index(schema.build());
        let words = ["to", "the", "queue", "waiting", "at", "till", "staff"];
        let mut next = numbers(11);
        for i in 0..9_000 {
            let mut doc = TantivyDocument::default();
            // Skewed: `to` and `the` in most notes, several times in some.
            let text: Vec<&str> = (0..2 + next(30))
                .map(|_| words[next(words.len()).min(next(words.len()))])
                .collect();
            doc.add_text(body, text.join(" "));
            doc.add_text(id, i.to_string());
            writer.add_document(doc).unwrap();
            if i % 2_500 == 0 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        for i in (0..9_000).step_by(13) {
            writer.delete_term(Term::from_field_text(id, &i.to_string()));
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 2);
        let t = |w: &str| Term::from_field_text(body, w);
        let phrases: Vec<Vec<(usize, Term)>> = vec![
            vec![(0, t("to")), (1, t("waiting"))],
            vec![(0, t("the")), (1, t("to"))],
            vec![(0, t("to")), (1, t("to"))],
            vec![(0, t("waiting")), (1, t("at")), (2, t("the"))],
            vec![(0, t("staff")), (2, t("queue"))],
            vec![
                (0, t("till")),
                (1, t("staff")),
                (2, t("till")),
                (3, t("queue")),
            ],
            vec![(0, t("nowhere")), (1, t("to"))],
        ];
        let mut found_any = 0;
        for terms in phrases {
            let ours = Phrase::new(terms.clone());
            let theirs = PhraseQuery::new_with_offset(terms.clone());
            let both = |q: &dyn Query| {
                searcher
                    .search(q, &(TopDocs::with_limit(10_000).order_by_score(), Count))
                    .unwrap()
            };
            let (expected, count) = both(&theirs);
            assert_eq!(both(&ours), (expected.clone(), count), "{terms:?}");
            let unscored = |q: &dyn Query| searcher.search(q, &DocSetCollector).unwrap();
            assert_eq!(unscored(&ours), unscored(&theirs), "{terms:?}");
            found_any += usize::from(count > 0);
            // Seeks from the start of a segment and from inside it.
            let scoring = tantivy::query::EnableScoring::enabled_from_searcher(&searcher);
            let (ours, theirs) = (
                ours.weight(scoring).unwrap(),
                theirs.weight(scoring).unwrap(),
            );
            for reader in searcher.segment_readers() {
                for target in [0, 7, 130, 131, 900, 2_000] {
                    let mut a = ours.scorer(reader, 1.0).unwrap();
                    let mut b = theirs.scorer(reader, 1.0).unwrap();
                    let seek = |s: &mut Box<dyn tantivy::query::Scorer>| match s.doc() {
                        at if at >= target => at,
                        _ => s.seek(target),
                    };
                    let (mut x, mut y) = (seek(&mut a), seek(&mut b));
                    for _ in 0..20 {
                        assert_eq!(x, y, "{terms:?} from {target}");
                        if x == tantivy::TERMINATED {
                            break;
                        }
                        assert_eq!(a.score(), b.score());
                        (x, y) = (a.advance(), b.advance());
                    }
                }
            }
        }
        assert!(found_any >= 5);
    }

    /// A word stored twice at one position (a tokeniser adding a synonym) counts once, as
    /// tantivy counts it: the same score.
    #[test]
    fn a_word_twice_at_one_position_counts_once() {
        use tantivy::tokenizer::{PreTokenizedString, Token};
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let (index, mut writer) = unmerged_index(schema.build());
        let token = |text: &str, position| Token {
            text: text.into(),
            position,
            position_length: 1,
            ..Token::default()
        };
        let mut doc = TantivyDocument::default();
        doc.add_pre_tokenized_text(
            body,
            PreTokenizedString {
                text: "a a b".into(),
                tokens: vec![token("a", 0), token("a", 0), token("b", 1)],
            },
        );
        writer.add_document(doc).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let t = |w: &str| Term::from_field_text(body, w);
        let terms = vec![(0, t("a")), (1, t("b"))];
        let top = |q: &dyn Query| {
            searcher
                .search(q, &TopDocs::with_limit(1).order_by_score())
                .unwrap()
        };
        let theirs = top(&PhraseQuery::new_with_offset(terms.clone()));
        assert_eq!(theirs.len(), 1);
        assert_eq!(top(&Phrase::new(terms)), theirs);
    }

    /// A searcher kept while a merge deletes its segments' files (the app reloads its reader
    /// when it chooses) still finds the phrase.
    #[test]
    fn a_phrase_is_found_in_segments_a_merge_has_since_deleted() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let (index, mut writer) = unmerged_index(schema.build());
        for text in ["to waiting", "waiting to go", "to waiting again"] {
            let mut doc = TantivyDocument::default();
            doc.add_text(body, text);
            writer.add_document(doc).unwrap();
            writer.commit().unwrap();
        }
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .unwrap();
        let searcher = reader.searcher();
        let ids = index.searchable_segment_ids().unwrap();
        assert_eq!(ids.len(), 3);
        writer.merge(&ids).wait().unwrap();
        writer.garbage_collect_files().wait().unwrap();
        let t = |w: &str| Term::from_field_text(body, w);
        let phrase = Phrase::new(vec![(0, t("to")), (1, t("waiting"))]);
        assert_eq!(searcher.search(&phrase, &Count).unwrap(), 2);
    }
}
