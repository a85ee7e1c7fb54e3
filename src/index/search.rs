//! From a parsed query and filters to ranked note ids, facet counts and snippets.

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;

use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Occur, Query as TQuery,
    RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, DocSet, Order, Score, Searcher, Term};

use super::facets::{Counts, Matches, run_tags};
use super::phrase::Phrase;
use super::tag_bits::TagBits;
use super::word_bits::{ExpansionSet, WordBits};
use super::{Fields, NoteIndex};
use crate::error::{Error, Result};
pub use crate::query::Filters;
use crate::query::{Expr, Query};

/// The most index terms a `prefix*` expands to; enough for a word stem, bounded for speed.
const PREFIX_EXPANSIONS: usize = 64;

/// An expansion of a prefix in more notes than this is frequent (when also in more than
/// 1/`FREQUENT_SHARE` of them): its notes match without adding to the score (see
/// [`Builder::prefix`]).
const FREQUENT_DOCS: u64 = 20_000;
const FREQUENT_SHARE: u64 = 8;

/// What the index found: the top notes, how many matched, and their tags counted.
#[derive(Debug, Clone, Default)]
pub struct IndexHits {
    pub total: usize,
    /// Note ids with their relevance (0 when ranked newest first).
    pub hits: Vec<(String, f32)>,
    /// Tag (`@busy-parent`) → number of matching notes carrying it.
    pub tag_counts: HashMap<String, u64>,
}

/// Note ids with their relevance, best first.
pub type RankedIds = Vec<(String, f32)>;

/// How many notes a search matched and their tags counted (tag → notes), when made.
pub enum Counting {
    Ready(usize, HashMap<String, u64>),
    Pending(std::thread::JoinHandle<Result<Counts>>),
}

impl Counting {
    fn start(count: impl FnOnce() -> Result<Counts> + Send + 'static) -> Result<Counting> {
        std::thread::Builder::new()
            .name("fieldnotes-counts".into())
            .spawn(count)
            .map(Counting::Pending)
            .map_err(|e| Error::io("cannot start a search thread", e))
    }

    /// The total and the tag counts (a bug on the counting thread goes on here).
    pub fn wait(self) -> Result<Counts> {
        match self {
            Counting::Ready(total, tags) => Ok((total, tags)),
            Counting::Pending(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        }
    }
}

/// Marks the matched words of a note's text.
pub struct Highlighter {
    generator: SnippetGenerator,
}

impl Highlighter {
    /// A fragment of `body` around the best match, matched words wrapped in `**`; the start of
    /// the text when nothing in it matched (a tag-only search).
    pub fn snippet(&self, body: &str) -> String {
        let snippet = self.generator.snippet(body);
        let fragment = snippet.fragment();
        if snippet.highlighted().is_empty() || fragment.is_empty() {
            return crate::text::cut(body, 160);
        }
        let mut out = String::with_capacity(fragment.len() + 8);
        let mut at = 0;
        for range in snippet.highlighted() {
            out.push_str(&fragment[at..range.start]);
            out.push_str("**");
            out.push_str(&fragment[range.clone()]);
            out.push_str("**");
            at = range.end;
        }
        out.push_str(&fragment[at..]);
        out
    }
}

impl NoteIndex {
    /// The `limit` best notes for `query` within `filters`, with the total and tag counts
    /// over every match. Ranked by BM25 when the query has words, newest first otherwise.
    pub fn search(
        &self,
        query: &Query,
        filters: &Filters,
        limit: usize,
    ) -> Result<(IndexHits, Highlighter)> {
        let (hits, highlighter, counting) = self.search_top(query, filters, limit)?;
        let (total, tag_counts) = counting.wait()?;
        Ok((
            IndexHits {
                total,
                hits,
                tag_counts,
            },
            highlighter,
        ))
    }

    /// Like [`NoteIndex::search`], handing the top notes back while their total and tag
    /// counts are still being made on other threads: the caller loads the notes meanwhile.
    pub fn search_top(
        &self,
        query: &Query,
        filters: &Filters,
        limit: usize,
    ) -> Result<(RankedIds, Highlighter, Counting)> {
        let searcher = self.reader.searcher();
        // Here, with the newest searcher: a count still running for an earlier key holds an
        // older one, and would drop the bitsets of a segment a merge has just made.
        self.word_bits.keep_only(&searcher);
        self.tag_bits.keep_only(&searcher);
        let tquery = self.build(&searcher, query, filters)?;
        let tag_field = self.fields.tag;
        let threads = walk_threads(&searcher);
        let (addresses, counting) = if !query.has_text() && threads == 1 {
            let top = TopDocs::with_limit(limit.max(1));
            let (newest, (total, counts)) = searcher.search(
                &tquery,
                &(
                    top.order_by_fast_field::<tantivy::DateTime>("created", Order::Desc),
                    Matches { field: tag_field },
                ),
            )?;
            let newest = newest.into_iter().map(|(_, addr)| (0.0, addr)).collect();
            (newest, Counting::Ready(total, counts))
        } else if !query.has_text() {
            // A large archive: the matches and their tags are counted on other threads while
            // the newest are found here (one walk doing both took 42 ms for a tag in 330,000
            // of 10,000,000 notes).
            let counting = {
                let (searcher, tquery, bits) =
                    (searcher.clone(), tquery.box_clone(), self.tag_bits.clone());
                Counting::start(move || {
                    let walked = walk_matches(&searcher, &*tquery, None, threads)?;
                    let tags = count_tags(&searcher, tag_field, &bits, walked.found, threads)?;
                    Ok((walked.total, tags))
                })?
            };
            let top = TopDocs::with_limit(limit.max(1))
                .order_by_fast_field::<tantivy::DateTime>("created", Order::Desc);
            let newest = searcher.search(&tquery, &top)?;
            let newest = newest.into_iter().map(|(_, addr)| (0.0, addr)).collect();
            (newest, counting)
        } else if prunes_exactly(&*tquery) {
            // Every match is counted, without a score, on other threads, while the top notes
            // are found alone here, which lets tantivy skip the blocks of postings that cannot
            // reach them.
            let counting = {
                let (searcher, tquery, bits) =
                    (searcher.clone(), tquery.box_clone(), self.tag_bits.clone());
                Counting::start(move || {
                    let walked = walk_matches(&searcher, &*tquery, None, threads)?;
                    let tags = count_tags(&searcher, tag_field, &bits, walked.found, threads)?;
                    Ok((walked.total, tags))
                })?
            };
            let top = TopDocs::with_limit(limit.max(1)).order_by_score();
            (searcher.search(&tquery, &top)?, counting)
        } else {
            let walked = walk_matches(&searcher, &*tquery, Some(limit.max(1)), threads)?;
            let (total, found) = (walked.total, walked.found);
            let counting = {
                let (searcher, bits) = (searcher.clone(), self.tag_bits.clone());
                Counting::start(move || {
                    Ok((
                        total,
                        count_tags(&searcher, tag_field, &bits, found, threads)?,
                    ))
                })?
            };
            (walked.best, counting)
        };
        let mut hits = Vec::with_capacity(addresses.len());
        // Each segment's id column is opened once, not once per hit.
        let mut columns: HashMap<u32, StrColumn> = HashMap::new();
        for (score, addr) in addresses.into_iter().take(limit) {
            let column = match columns.entry(addr.segment_ord) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(id_column(searcher.segment_reader(addr.segment_ord))?),
            };
            hits.push((doc_id(column, addr.doc_id)?, score));
        }
        if query.has_text() {
            // Equal scores come back in segment order, which indexing threads make vary: the
            // id settles them, so the same archive always lists the same way.
            hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        let mut generator = SnippetGenerator::create(&searcher, &*tquery, self.fields.body)?;
        generator.set_max_num_chars(180);
        Ok((hits, Highlighter { generator }, counting))
    }

    /// For a process that searches again and again (the app): from now on a search with many
    /// matches counts their tags by bitsets of the frequent tags, and a prefix's frequent
    /// expansions are read from bitsets, both kept per segment (see [`super::tag_bits`] and
    /// [`super::word_bits`]); the tags' of a large archive's segments are made now, so the
    /// first search with many matches does not wait for them.
    pub fn keep_bitsets(&self) {
        self.tag_bits.keep();
        self.word_bits.keep();
        let searcher = self.reader.searcher();
        if walk_threads(&searcher) == 1 {
            return;
        }
        self.tag_bits.keep_only(&searcher);
        for segment in searcher.segment_readers() {
            self.tag_bits.of(segment, self.fields.tag, true);
        }
    }

    /// The ids of every note that matches, in no particular order: what analysis works on.
    pub fn matching_ids(&self, query: &Query, filters: &Filters) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let tquery = self.build(&searcher, query, filters)?;
        let addresses = searcher.search(&tquery, &tantivy::collector::DocSetCollector)?;
        // Per segment: open the id column once and read the ids in one sorted walk of its
        // dictionary (a lookup per note decompresses a dictionary block per note).
        let mut by_segment: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for addr in &addresses {
            by_segment
                .entry(addr.segment_ord)
                .or_default()
                .push(addr.doc_id);
        }
        let mut ids = Vec::with_capacity(addresses.len());
        for (segment_ord, docs) in by_segment {
            let column = id_column(searcher.segment_reader(segment_ord))?;
            let mut ords: Vec<u64> = docs
                .iter()
                .filter_map(|&d| column.term_ords(d).next())
                .collect();
            ords.sort_unstable();
            column
                .dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    ids.push(String::from_utf8_lossy(bytes).into_owned())
                })
                .map_err(|e| Error::io("cannot read the index", e))?;
        }
        Ok(ids)
    }

    fn build(
        &self,
        searcher: &Searcher,
        query: &Query,
        filters: &Filters,
    ) -> Result<Box<dyn TQuery>> {
        let builder = Builder {
            fields: self.fields,
            searcher,
            index: &self.index,
            word_bits: &self.word_bits,
        };
        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        if let Some(expr) = &query.expr {
            clauses.push((Occur::Must, builder.expr(expr)?));
        }
        let f = self.fields;
        for tag in &filters.tags {
            clauses.push((Occur::Must, exact(f.tag, &tag.to_string())));
        }
        if let Some(kind) = filters.kind {
            clauses.push((Occur::Must, exact(f.kind, kind.as_str())));
        }
        if let Some(session) = &filters.session {
            clauses.push((Occur::Must, exact(f.session, session)));
        }
        if let Some(study) = filters.study {
            let term = Term::from_field_u64(f.study, study as u64);
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                    0.0,
                )),
            ));
        }
        if filters.since.is_some() || filters.until.is_some() {
            let bound = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
                Some(t) => Bound::Included(Term::from_field_date_for_search(
                    f.created,
                    tantivy::DateTime::from_timestamp_millis(t.timestamp_millis()),
                )),
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(filters.since), bound(filters.until))),
            ));
        }
        Ok(match clauses.len() {
            0 => Box::new(AllQuery),
            1 => clauses.pop().expect("one clause").1,
            _ => Box::new(BooleanQuery::new(clauses)),
        })
    }
}

/// An archive with fewer documents than this is walked on the calling thread alone.
const SHARE_ABOVE: u64 = 250_000;

/// How many threads walk the matches: two for a large archive (more would only take the
/// cores from the app's other lanes), one otherwise.
fn walk_threads(searcher: &Searcher) -> usize {
    let docs: u64 = searcher
        .segment_readers()
        .iter()
        .map(|r| u64::from(r.max_doc()))
        .sum();
    if docs < SHARE_ABOVE {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    }
}

/// What walking every match found.
struct Walked {
    /// The best, highest score first, equal scores in document order (when asked for).
    best: Vec<(Score, DocAddress)>,
    total: usize,
    /// The matches of each run walked.
    found: Vec<Found>,
}

/// A run of one segment's documents, `start..end`, `start` a multiple of 64.
#[derive(Clone, Copy, Debug)]
struct Run {
    segment_ord: u32,
    start: DocId,
    end: DocId,
}

/// The matching documents of a run: bit `i` of `matches` is document `run.start + i`.
struct Found {
    run: Run,
    matches: Vec<u64>,
    count: u64,
}

/// The index's documents cut into one list of runs per thread, about as many documents in
/// each.
fn runs(searcher: &Searcher, threads: usize) -> Vec<Vec<Run>> {
    let readers = searcher.segment_readers();
    let total: u64 = readers.iter().map(|r| u64::from(r.max_doc())).sum();
    let per_thread = total.div_ceil(threads as u64).max(1);
    let mut lists: Vec<Vec<Run>> = vec![Vec::new(); threads];
    let mut done = 0u64;
    for (segment_ord, reader) in readers.iter().enumerate() {
        let max_doc = reader.max_doc();
        let mut start: DocId = 0;
        while start < max_doc {
            // `done` is always short of the end of this thread's share, so `room` ≥ 1.
            let thread = ((done / per_thread) as usize).min(threads - 1);
            let room = (thread as u64 + 1) * per_thread - done;
            let end = if thread + 1 == threads || u64::from(max_doc - start) <= room {
                max_doc
            } else {
                (start + room as DocId).next_multiple_of(64).min(max_doc)
            };
            lists[thread].push(Run {
                segment_ord: segment_ord as u32,
                start,
                end,
            });
            done += u64::from(end - start);
            start = end;
        }
    }
    lists
}

/// Runs `work` on each list, the first on this thread and the others on threads of their
/// own, and gathers what each gives back.
fn on_threads<T: Send, R: Send>(
    lists: Vec<Vec<T>>,
    work: impl Fn(Vec<T>) -> tantivy::Result<R> + Sync,
) -> tantivy::Result<Vec<R>> {
    let mut lists = lists.into_iter();
    let first = lists.next().unwrap_or_default();
    std::thread::scope(|s| {
        let others: Vec<_> = lists.map(|list| s.spawn(|| work(list))).collect();
        let mut done = vec![work(first)?];
        for handle in others {
            let result = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            done.push(result?);
        }
        Ok(done)
    })
}

/// Walks every match, counting them, and with `best_of`, scoring each and keeping the best:
/// the same scores as a walk by tantivy's collectors, and equal scores kept in document
/// order as its top-k keeps them. A large archive's documents are shared between two
/// threads, each walking its runs with a scorer of its own sought to the run's first
/// document: a query that matches most notes (`waiting at (the OR the*)`, typed a letter at
/// a time) then takes about half as long on two idle cores.
fn walk_matches(
    searcher: &Searcher,
    query: &dyn TQuery,
    best_of: Option<usize>,
    threads: usize,
) -> Result<Walked> {
    let scoring = if best_of.is_some() {
        EnableScoring::enabled_from_searcher(searcher)
    } else {
        EnableScoring::disabled_from_searcher(searcher)
    };
    let weight = query.weight(scoring)?;
    let walk = |runs: Vec<Run>| -> tantivy::Result<Walked> {
        let mut best = Best::new(best_of.unwrap_or(0));
        let mut walked = Walked {
            best: Vec::new(),
            total: 0,
            found: Vec::with_capacity(runs.len()),
        };
        let mut buffer = [0; COLLECT_BLOCK_BUFFER_LEN];
        for run in runs {
            let reader = searcher.segment_reader(run.segment_ord);
            let alive = reader.alive_bitset();
            let mut matches = vec![0u64; ((run.end - run.start) as usize).div_ceil(64)];
            let mut count = 0u64;
            let mut found = |doc: DocId| {
                let at = (doc - run.start) as usize;
                matches[at / 64] |= 1 << (at % 64);
                count += 1;
            };
            let mut scorer = weight.scorer(reader, 1.0)?;
            let mut doc = scorer.doc();
            if doc < run.start {
                doc = scorer.seek(run.start);
            }
            if best_of.is_some() {
                while doc < run.end {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        best.offer(scorer.score(), DocAddress::new(run.segment_ord, doc));
                        found(doc);
                    }
                    doc = scorer.advance();
                }
            } else {
                'run: loop {
                    let n = scorer.fill_buffer(&mut buffer);
                    for &doc in &buffer[..n] {
                        if doc >= run.end {
                            break 'run;
                        }
                        if alive.is_none_or(|a| a.is_alive(doc)) {
                            found(doc);
                        }
                    }
                    if n < COLLECT_BLOCK_BUFFER_LEN {
                        break;
                    }
                }
            }
            walked.total += count as usize;
            walked.found.push(Found {
                run,
                matches,
                count,
            });
        }
        walked.best = best.into_sorted();
        Ok(walked)
    };
    let mut all = Walked {
        best: Vec::new(),
        total: 0,
        found: Vec::new(),
    };
    let mut best = Best::new(best_of.unwrap_or(0));
    for part in on_threads(runs(searcher, threads), walk)? {
        for (score, addr) in part.best {
            best.offer(score, addr);
        }
        all.total += part.total;
        all.found.extend(part.found);
    }
    all.best = best.into_sorted();
    Ok(all)
}

/// The tags of every match walked, counted on up to `threads` threads.
fn count_tags(
    searcher: &Searcher,
    tag_field: tantivy::schema::Field,
    bits: &TagBits,
    found: Vec<Found>,
    threads: usize,
) -> Result<HashMap<String, u64>> {
    // About as many documents for each thread.
    let docs: u64 = found
        .iter()
        .map(|f| u64::from(f.run.end - f.run.start))
        .sum();
    let per_thread = docs.div_ceil(threads as u64).max(1);
    let mut lists: Vec<Vec<Found>> = (0..threads).map(|_| Vec::new()).collect();
    let mut done = 0u64;
    for f in found {
        let thread = ((done / per_thread) as usize).min(threads - 1);
        done += u64::from(f.run.end - f.run.start);
        lists[thread].push(f);
    }
    let count = |list: Vec<Found>| -> tantivy::Result<HashMap<String, u64>> {
        let mut tags: HashMap<String, u64> = HashMap::new();
        for f in list {
            let reader = searcher.segment_reader(f.run.segment_ord);
            let run = (f.run.start, f.run.end);
            for (tag, n) in run_tags(reader, tag_field, bits, run, &f.matches, f.count)? {
                *tags.entry(tag).or_default() += n;
            }
        }
        Ok(tags)
    };
    let mut tags: HashMap<String, u64> = HashMap::new();
    for part in on_threads(lists, count)? {
        for (tag, n) in part {
            *tags.entry(tag).or_default() += n;
        }
    }
    Ok(tags)
}

/// The `limit` best documents seen: higher score first, and between equal scores the
/// earlier document (segment, then document number), as tantivy's top-k keeps them.
struct Best {
    limit: usize,
    heap: BinaryHeap<Ranked>,
}

/// Orders worst first in the heap: the lower score, then the later document.
struct Ranked(Score, DocAddress);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // "Greater" is worse, so the heap's top is the one to drop.
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

impl Best {
    fn new(limit: usize) -> Best {
        Best {
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        }
    }

    fn offer(&mut self, score: Score, addr: DocAddress) {
        let ranked = Ranked(score, addr);
        if self.heap.len() < self.limit {
            self.heap.push(ranked);
        } else if let Some(worst) = self.heap.peek()
            && ranked < *worst
        {
            self.heap.pop();
            self.heap.push(ranked);
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<(Score, DocAddress)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Ranked(score, addr)| (score, addr))
            .collect()
    }
}

/// Whether tantivy's pruned top-k (block-max WAND) scores this query exactly as a full walk
/// does. It adds the scores of three or more terms in another order than the full walk, which
/// can move a score by its last bit; one term, or two added either way, come out the same.
fn prunes_exactly(query: &dyn TQuery) -> bool {
    if query.is::<TermQuery>() {
        return true;
    }
    if let Some(h) = query.downcast_ref::<HighlightAs>() {
        return prunes_exactly(&*h.matcher);
    }
    query.downcast_ref::<BooleanQuery>().is_some_and(|b| {
        let clauses = b.clauses();
        clauses.len() <= 2
            && clauses
                .iter()
                .all(|(occur, q)| *occur != Occur::MustNot && q.is::<TermQuery>())
    })
}

/// Matches and ranks with one query, and tells the snippet the words of another.
#[derive(Debug)]
struct HighlightAs {
    matcher: Box<dyn TQuery>,
    highlight: Box<dyn TQuery>,
}

impl Clone for HighlightAs {
    fn clone(&self) -> Self {
        HighlightAs {
            matcher: self.matcher.box_clone(),
            highlight: self.highlight.box_clone(),
        }
    }
}

impl TQuery for HighlightAs {
    fn weight(
        &self,
        scoring: tantivy::query::EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        self.matcher.weight(scoring)
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.highlight.query_terms(visitor);
    }
}

/// A filter on an untokenised field that does not change the ranking.
fn exact(field: tantivy::schema::Field, value: &str) -> Box<dyn TQuery> {
    Box::new(ConstScoreQuery::new(
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        )),
        0.0,
    ))
}

fn id_column(segment: &tantivy::SegmentReader) -> Result<StrColumn> {
    segment
        .fast_fields()
        .str("id")?
        .ok_or_else(|| Error::Corrupt("the index has no note ids: run `fieldnotes reindex`".into()))
}

fn doc_id(column: &StrColumn, doc: tantivy::DocId) -> Result<String> {
    let mut id = String::new();
    if let Some(ord) = column.term_ords(doc).next() {
        column
            .ord_to_str(ord, &mut id)
            .map_err(|e| Error::io("cannot read the index", e))?;
    }
    Ok(id)
}

struct Builder<'a> {
    fields: Fields,
    searcher: &'a Searcher,
    index: &'a tantivy::Index,
    word_bits: &'a WordBits,
}

impl Builder<'_> {
    fn expr(&self, e: &Expr) -> Result<Box<dyn TQuery>> {
        Ok(match e {
            Expr::Word(text) | Expr::Phrase(text) => self.text(text)?,
            Expr::Prefix(prefix) => self.prefix(prefix)?,
            Expr::Tag(tag) => exact(self.fields.tag, &tag.to_string()),
            Expr::Not(_) => self.all_of(std::slice::from_ref(e))?,
            Expr::And(parts) => self.all_of(parts)?,
            Expr::Or(parts) => {
                if let [Expr::Word(word), Expr::Prefix(prefix)] = parts.as_slice()
                    && let Some(query) = self.word_or_prefix(word, prefix)?
                {
                    return Ok(query);
                }
                let clauses = parts
                    .iter()
                    .map(|p| Ok((Occur::Should, self.expr(p)?)))
                    .collect::<Result<Vec<_>>>()?;
                Box::new(BooleanQuery::new(clauses))
            }
        })
    }

    fn all_of(&self, parts: &[Expr]) -> Result<Box<dyn TQuery>> {
        let mut clauses = Vec::with_capacity(parts.len() + 1);
        for p in parts {
            match p {
                Expr::Not(inner) => clauses.push((Occur::MustNot, self.expr(inner)?)),
                other => clauses.push((Occur::Must, self.expr(other)?)),
            }
        }
        if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// Words go through the same analysis as the notes (lowercase, English stem); a word the
    /// analyser splits (`e-mail`) becomes a phrase.
    fn text(&self, text: &str) -> Result<Box<dyn TQuery>> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.body)?;
        let mut terms: Vec<(usize, Term)> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        stream.process(&mut |token| {
            terms.push((
                token.position,
                Term::from_field_text(self.fields.body, &token.text),
            ));
        });
        Ok(match terms.len() {
            // Only punctuation: it cannot match a word, so it narrows nothing.
            0 => Box::new(AllQuery),
            1 => Box::new(TermQuery::new(
                terms.pop().expect("one term").1,
                IndexRecordOption::WithFreqs,
            )),
            _ => {
                let words = terms.len();
                let phrase = Box::new(Phrase::new(terms));
                let mut pairs = Vec::new();
                let mut analyzer = self.index.tokenizer_for_field(self.fields.pairs)?;
                analyzer
                    .token_stream(text)
                    .process(&mut |pair| pairs.push(pair.text.clone()));
                if words == 2 && pairs.len() == 1 {
                    // Two adjacent common words: their pair is the phrase, found and ranked
                    // without checking a position; the words still mark the snippet.
                    let term = Term::from_field_text(self.fields.pairs, &pairs[0]);
                    return Ok(Box::new(HighlightAs {
                        matcher: Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                        highlight: phrase,
                    }));
                }
                if pairs.is_empty() {
                    return Ok(phrase);
                }
                // Every pair of common words the phrase has is required: the phrase then checks
                // positions only in the notes that have them.
                let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = pairs
                    .iter()
                    .map(|pair| (Occur::Must, exact(self.fields.pairs, pair)))
                    .collect();
                clauses.push((Occur::Must, phrase));
                Box::new(BooleanQuery::new(clauses))
            }
        })
    }

    /// Expands `prefix*` into the index's words that start with it, scored like words.
    ///
    /// Expansions found in a large share of a large archive (`the*`: the, them, there,
    /// they…, as a word being typed is searched) match without a score: a union of their long
    /// postings, each scored, was most of a search-as-you-type key's time at 1,000,000 notes,
    /// and a word in most notes adds little to a ranking anyway (its inverse document
    /// frequency is near zero). The notes of every expansion are then one required set, and
    /// the rarer expansions only add their scores to the notes in it: sought inside another
    /// word's notes, a set is one bit to test where a union of postings must be walked.
    fn prefix(&self, prefix: &str) -> Result<Box<dyn TQuery>> {
        let words = self.expansions(prefix)?;
        Ok(self.expanded(&words, None))
    }

    /// `word OR word*`, the shape of a word being typed: when the word is one of the prefix's
    /// expansions and some are frequent, its notes are inside the prefix's set, and it only
    /// adds its score there (`None`: any other case, built as written).
    fn word_or_prefix(&self, word: &str, prefix: &str) -> Result<Option<Box<dyn TQuery>>> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.body)?;
        let mut terms = Vec::new();
        analyzer
            .token_stream(word)
            .process(&mut |token| terms.push(token.text.clone()));
        let [term] = terms.as_slice() else {
            return Ok(None);
        };
        let words = self.expansions(prefix)?;
        let docs = self.searcher.num_docs();
        let inside = words.iter().any(|(w, _)| w == term.as_bytes());
        if !inside || !words.iter().any(|(_, n)| frequent(*n, docs)) {
            return Ok(None);
        }
        let word = Term::from_field_text(self.fields.body, term);
        Ok(Some(self.expanded(&words, Some(word))))
    }

    /// The index's words that start with `prefix` (the first [`PREFIX_EXPANSIONS`] in order),
    /// each with the notes it is in, over the segments that list it.
    fn expansions(&self, prefix: &str) -> Result<Vec<(Vec<u8>, u64)>> {
        let mut upper = prefix.as_bytes().to_vec();
        upper.push(0xFF);
        let mut words: HashMap<Vec<u8>, u64> = HashMap::new();
        for segment in self.searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.body)?;
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(&upper)
                .into_stream()
                .map_err(|e| Error::io("cannot read the index", e))?;
            let mut listed = 0;
            while let Some((key, info)) = stream.next() {
                if listed >= PREFIX_EXPANSIONS * 4 {
                    break;
                }
                listed += 1;
                *words.entry(key.to_vec()).or_default() += u64::from(info.doc_freq);
            }
        }
        let mut words: Vec<(Vec<u8>, u64)> = words.into_iter().collect();
        words.sort();
        words.truncate(PREFIX_EXPANSIONS);
        Ok(words)
    }

    /// The notes of any of `words`, ranked by the rarer ones and by `word` (scored apart from
    /// the expansions, as a word typed beside its prefix is).
    fn expanded(&self, words: &[(Vec<u8>, u64)], word: Option<Term>) -> Box<dyn TQuery> {
        if words.is_empty() {
            return match word {
                Some(word) => Box::new(TermQuery::new(word, IndexRecordOption::WithFreqs)),
                None => Box::new(EmptyQuery),
            };
        }
        let docs = self.searcher.num_docs();
        let term = |w: &[u8]| Term::from_field_text(self.fields.body, &String::from_utf8_lossy(w));
        let scored = |t: Term| -> (Occur, Box<dyn TQuery>) {
            (
                Occur::Should,
                Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)),
            )
        };
        let any_frequent = words.iter().any(|(_, n)| frequent(*n, docs));
        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        if any_frequent {
            let every = words.iter().map(|(w, _)| term(w)).collect::<Vec<_>>();
            clauses.push((
                Occur::Must,
                Box::new(ExpansionSet::new(every, self.word_bits.clone())),
            ));
        }
        clauses.extend(word.map(scored));
        for (w, n) in words {
            if !(any_frequent && frequent(*n, docs)) {
                clauses.push(scored(term(w)));
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

/// Whether an expansion in `in_docs` of an index's `docs` notes matches without a score (see
/// [`Builder::prefix`]).
fn frequent(in_docs: u64, docs: u64) -> bool {
    in_docs > FREQUENT_DOCS && in_docs * FREQUENT_SHARE > docs
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
    use tantivy::schema::{FAST, IndexRecordOption, STRING, Schema, TEXT};
    use tantivy::{TantivyDocument, Term};

    use super::{TagBits, count_tags, walk_matches};
    use crate::index::facets::Matches;
    use crate::index::testing::{numbers, unmerged_index};

    /// A prefix whose expansions are in most of a large archive's notes matches them all as
    /// a set (no score), and its rarer expansions still rank first.
    #[test]
    fn frequent_expansions_match_as_a_set_and_rare_ones_still_rank() {
        use crate::model::NoteKind;
        use crate::query::{Filters, Query};
        use crate::store::IndexRecord;
        let tmp = tempfile::tempdir().unwrap();
        let mut index = super::NoteIndex::open(&tmp.path().join("index"), "A", None).unwrap();
        index.begin_import();
        let n = 30_000;
        let body = |i: usize| match i % 600 {
            0 => "theft at the till",
            1..=499 => "the queue was long",
            500..=549 => "they waited",
            550..=551 => "a thermos left behind",
            _ => "staff helped",
        };
        for i in 0..n {
            index
                .stage(&IndexRecord {
                    id: format!("{i:06}"),
                    session: "S".into(),
                    study: 1,
                    kind: NoteKind::Observation,
                    body: body(i).into(),
                    tags: vec![],
                    created_at: chrono::Utc::now(),
                    deleted: false,
                    change_seq: i as i64 + 1,
                })
                .unwrap();
        }
        index.seq = n as i64;
        index.commit().unwrap();
        let search = |q: &str, limit: usize| {
            index
                .search(&Query::parse(q).unwrap(), &Filters::default(), limit)
                .unwrap()
                .0
        };
        let expected = (0..n).filter(|i| body(*i).contains("the")).count();
        let found = search("the*", n);
        assert_eq!(found.total, expected);
        assert_eq!(found.hits.len(), expected);
        let score = |i: usize| {
            found
                .hits
                .iter()
                .find(|(id, _)| *id == format!("{i:06}"))
                .unwrap()
                .1
        };
        // `the` is in most notes: it matches without a score; the rarer words rank, the
        // rarest (`theft`) on top.
        assert_eq!(score(1), 0.0);
        assert!(score(0) > score(550) && score(550) > score(500) && score(500) > 0.0);
        let top: Vec<usize> = found.hits[..10]
            .iter()
            .map(|(id, _)| id.parse().unwrap())
            .collect();
        assert!(top.iter().all(|i| i % 600 == 0), "{top:?}");
        // As typed: the same notes as the words spelled out.
        let typed = search("waited (the OR the*)", 10);
        assert_eq!(
            typed.total,
            (0..n).filter(|i| (500..550).contains(&(i % 600))).count()
        );
        assert_eq!(search("(the OR the*)", 10).total, expected);
        // Every expansion marks the snippets, the frequent ones (only in the set) too.
        let highlight = |q: &str, body: &str| {
            let (_, highlighter) = index
                .search(&Query::parse(q).unwrap(), &Filters::default(), 10)
                .unwrap();
            highlighter.snippet(body)
        };
        assert_eq!(
            highlight("waited (the OR the*)", "they waited for the bus"),
            "**they** **waited** for **the** bus"
        );
        assert_eq!(
            highlight("qu*", "the queue was long"),
            "the **queue** was long"
        );
    }

    /// Walking the matches in runs on two threads finds what tantivy's collectors find: the
    /// same best documents with the same scores (ties in document order), the same count
    /// and the same tag counts, across segments and with deleted documents.
    #[test]
    fn a_shared_walk_finds_what_the_collectors_find() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let tag = schema.add_text_field("tag", STRING | FAST);
        let id = schema.add_text_field("id", STRING);
        let (index, mut writer) = unmerged_index(schema.build());
        let words = [
            "the", "queue", "there", "they", "staff", "waited", "at", "till",
        ];
        let mut next = numbers(7);
        for i in 0..6_000 {
            let mut doc = TantivyDocument::default();
            let text: Vec<&str> = (0..3 + next(8)).map(|_| words[next(words.len())]).collect();
            doc.add_text(body, text.join(" "));
            doc.add_text(tag, ["#checkout", "#delivery", "@student"][next(3)]);
            if i % 97 == 0 {
                // Too rare for a bitset: counted from its postings beside the others.
                doc.add_text(tag, "=signage");
            }
            doc.add_text(id, i.to_string());
            writer.add_document(doc).unwrap();
            if i % 1_700 == 0 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        for i in (0..6_000).step_by(11) {
            writer.delete_term(Term::from_field_text(id, &i.to_string()));
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 2);
        let term = |w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(body, w),
                IndexRecordOption::WithFreqs,
            ))
        };
        let any = |ws: &[&str]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                ws.iter().map(|w| (Occur::Should, term(w))).collect(),
            ))
        };
        let queries: Vec<Box<dyn Query>> = vec![
            term("queue"),
            any(&["the", "there", "they"]),
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, term("waited")),
                (Occur::Must, term("at")),
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Should, term("the")),
                        (Occur::Should, any(&["the", "there", "they"])),
                    ])),
                ),
            ])),
            // No words: a tag filter alone, and every note (a large archive counts these on
            // other threads while it finds the newest).
            Box::new(TermQuery::new(
                Term::from_field_text(tag, "#checkout"),
                IndexRecordOption::Basic,
            )),
            Box::new(tantivy::query::AllQuery),
        ];
        // Only segments of 65,536 notes or more have bitsets outside tests.
        let postings = TagBits::default();
        let bits = TagBits::for_any_segment();
        for query in &queries {
            let (best, count) = searcher
                .search(query, &(TopDocs::with_limit(25).order_by_score(), Count))
                .unwrap();
            let (_, tags) = searcher.search(query, &Matches { field: tag }).unwrap();
            for threads in [1, 2, 3] {
                let walked = walk_matches(&searcher, &**query, Some(25), threads).unwrap();
                assert_eq!(walked.best, best, "{query:?} on {threads} threads");
                assert_eq!(walked.total, count);
                let counted = count_tags(&searcher, tag, &postings, walked.found, threads);
                assert_eq!(counted.unwrap(), tags);
                // The frequent tags from bitsets (made by the first count, then kept).
                for _ in 0..2 {
                    let walked = walk_matches(&searcher, &**query, None, threads).unwrap();
                    assert_eq!(walked.total, count);
                    let counted = count_tags(&searcher, tag, &bits, walked.found, threads);
                    assert_eq!(counted.unwrap(), tags, "{query:?} on {threads} threads");
                }
            }
        }
        // Bitsets are kept only when asked for (the app), and then for every segment.
        assert_eq!(postings.made(), 0);
        assert_eq!(bits.made(), searcher.segment_readers().len());
    }
}
