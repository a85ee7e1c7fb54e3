//! Code co-occurrence: which codes are applied together, to the same note or to overlapping
//! passages of it, as counts and as ATLAS.ti's normalised c-coefficient.
//!
//! Two counts per pair of codes A and B:
//!
//! - **notes**: the notes where both apply (as whole-note tags or on any passage);
//! - **overlaps**: the pairs of codings, one of A and one of B in the same note, whose ranges
//!   share at least one character. A whole-note coding covers the whole note, so it overlaps
//!   every passage of its note and every other whole-note coding there; an empty range
//!   overlaps nothing (but still applies its code to the note).
//!
//! The c-coefficient is `c = n12 / (n1 + n2 − n12)` (ATLAS.ti manual, "Code Co-occurrence
//! Coefficient"), here with notes as the unit: n1 and n2 the notes coded A and B, n12 the notes
//! coded both. With notes it stays between 0 (never together) and 1 (always together).
//! Overlapping passages get no c: one long passage overlapping several of the other code can
//! push n12 past n1 + n2 − n12 (ATLAS.ti's "out of range" case), and the number would mislead.
//!
//! The diagonal holds each code's own figures: its notes, its distinct codings, c = 1.
//!
//! Coders are not told apart here: two researchers' codings of the same note all count (filter
//! the codings first to see one coder's). The same code on the same range twice (say by two
//! coders) is one coding.

use serde::{Deserialize, Serialize};

use super::text::FxMap;

/// One application of a code to a note, as the store keeps it: a row of the codings table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coding {
    /// The note's id.
    pub note: String,
    /// The tag as typed, sigil and name (`=wait-time`, `@busy-parent`), so that codes of
    /// different facets never meet under one name.
    pub code: String,
    /// The coded passage as a range `[start, end)` of the note's text in Unicode code points
    /// (as REFI-QDA counts them); `None` when the code applies to the whole note.
    pub span: Option<(usize, usize)>,
    /// Who applied it; `None` when unknown (inline tags typed before coders were recorded).
    pub coder: Option<String>,
}

impl Coding {
    /// A whole-note coding with no coder, for tests and simple callers.
    pub fn whole(note: &str, code: &str) -> Coding {
        Coding {
            note: note.to_owned(),
            code: code.to_owned(),
            span: None,
            coder: None,
        }
    }

    /// A passage coding `[start, end)` with no coder.
    pub fn passage(note: &str, code: &str, start: usize, end: usize) -> Coding {
        Coding {
            span: Some((start, end)),
            ..Coding::whole(note, code)
        }
    }

    /// The same coding, recorded as applied by `coder`.
    pub fn by(mut self, coder: &str) -> Coding {
        self.coder = Some(coder.to_owned());
        self
    }
}

/// A code with how often it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    pub code: String,
    /// Notes it applies to.
    pub notes: u32,
    /// Its distinct codings (passages and whole-note tags).
    pub codings: u32,
}

/// Co-occurrence of every pair of codes over some codings.
///
/// The matrices are indexed like `codes` (sorted by name) and symmetric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CooccurrenceReport {
    pub codes: Vec<CodeCount>,
    /// Notes with at least one coding.
    pub coded_notes: u32,
    /// `notes[i][j]`: the notes coded with both codes i and j.
    pub notes: Vec<Vec<u32>>,
    /// `overlaps[i][j]`: the overlapping pairs of a coding of i and a coding of j.
    pub overlaps: Vec<Vec<u32>>,
    /// `c[i][j]`: ATLAS.ti's c-coefficient over notes, 0…1.
    pub c: Vec<Vec<f64>>,
}

impl CooccurrenceReport {
    /// The position of a code in `codes` and the matrices.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.codes
            .binary_search_by(|c| c.code.as_str().cmp(code))
            .ok()
    }
}

/// Count co-occurrence over `codings` (in any order).
pub fn cooccurrence(codings: &[Coding]) -> CooccurrenceReport {
    let index = CodingIndex::new(codings);
    let k = index.codes.len();
    let mut notes = vec![0u32; k * k];
    let mut overlaps = vec![0u32; k * k];
    let mut distinct: Vec<u32> = Vec::with_capacity(16);
    for items in index.by_note() {
        distinct.clear();
        distinct.extend(items.iter().map(|p| p.code));
        distinct.dedup(); // items are sorted by code
        for (x, &a) in distinct.iter().enumerate() {
            let row = a as usize * k;
            notes[row + a as usize] += 1;
            for &b in &distinct[x + 1..] {
                notes[row + b as usize] += 1;
            }
        }
        for (x, p) in items.iter().enumerate() {
            let row = p.code as usize * k;
            overlaps[row + p.code as usize] += 1;
            for q in &items[x + 1..] {
                if q.code != p.code && p.overlaps(q) {
                    overlaps[row + q.code as usize] += 1;
                }
            }
        }
    }
    // Pairs were counted with the smaller code number first: mirror them.
    for i in 0..k {
        for j in i + 1..k {
            notes[j * k + i] = notes[i * k + j];
            overlaps[j * k + i] = overlaps[i * k + j];
        }
    }
    let codes: Vec<CodeCount> = index
        .codes
        .iter()
        .enumerate()
        .map(|(i, code)| CodeCount {
            code: (*code).to_owned(),
            notes: notes[i * k + i],
            codings: overlaps[i * k + i],
        })
        .collect();
    let c = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| c_coefficient(codes[i].notes, codes[j].notes, notes[i * k + j]))
                .collect()
        })
        .collect();
    let rows = |m: Vec<u32>| -> Vec<Vec<u32>> {
        if k == 0 {
            Vec::new()
        } else {
            m.chunks(k).map(<[u32]>::to_vec).collect()
        }
    };
    CooccurrenceReport {
        coded_notes: index.note_count() as u32,
        codes,
        notes: rows(notes),
        overlaps: rows(overlaps),
        c,
    }
}

/// ATLAS.ti's c-coefficient `n12 / (n1 + n2 − n12)`; 0 when neither code is used.
pub fn c_coefficient(n1: u32, n2: u32, n12: u32) -> f64 {
    let union = f64::from(n1) + f64::from(n2) - f64::from(n12);
    if union <= 0.0 {
        0.0
    } else {
        f64::from(n12) / union
    }
}

/// A note behind a cell of the co-occurrence matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellNote {
    pub note: String,
    /// Where the two codes' codings overlap in this note: one entry per overlapping pair, the
    /// range both cover (`None` when both are whole-note codings). Empty when the codes meet
    /// in the note only on separate passages. For a diagonal cell: the code's codings.
    pub overlaps: Vec<Option<(usize, usize)>>,
}

/// The notes behind the cell of codes `a` and `b` (the same code for a diagonal cell), by id:
/// what the app lists on Enter. Counts agree with [`cooccurrence`] over the same codings.
pub fn notes_behind(codings: &[Coding], a: &str, b: &str) -> Vec<CellNote> {
    let mut by_note: FxMap<&str, (Vec<Range>, Vec<Range>)> = FxMap::default();
    for coding in codings {
        let range = Range::of(coding.span);
        if coding.code == a {
            by_note.entry(&coding.note).or_default().0.push(range);
        } else if coding.code == b {
            by_note.entry(&coding.note).or_default().1.push(range);
        }
    }
    let mut cells: Vec<CellNote> = by_note
        .into_iter()
        .filter_map(|(note, (mut of_a, mut of_b))| {
            for ranges in [&mut of_a, &mut of_b] {
                ranges.sort_unstable();
                ranges.dedup();
            }
            let overlaps: Vec<Option<(usize, usize)>> = if a == b {
                of_a.iter().map(|r| r.span()).collect()
            } else {
                if of_a.is_empty() || of_b.is_empty() {
                    return None;
                }
                of_a.iter()
                    .flat_map(|x| of_b.iter().filter_map(move |y| x.intersection(y)))
                    .map(|r| r.span())
                    .collect()
            };
            Some(CellNote {
                note: note.to_owned(),
                overlaps,
            })
        })
        .collect();
    cells.sort_by(|x, y| x.note.cmp(&y.note));
    cells
}

// ---- the shared first step: codings grouped by note, codes numbered --------------------

/// A coding's range in code points; a whole-note coding runs to `u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Range {
    pub start: u32,
    pub end: u32,
}

impl Range {
    const WHOLE: Range = Range {
        start: 0,
        end: u32::MAX,
    };

    pub fn of(span: Option<(usize, usize)>) -> Range {
        match span {
            None => Range::WHOLE,
            Some((start, end)) => {
                let clamp = |x: usize| u32::try_from(x).unwrap_or(u32::MAX - 1).min(u32::MAX - 1);
                Range {
                    start: clamp(start),
                    end: clamp(end),
                }
            }
        }
    }

    fn intersection(&self, other: &Range) -> Option<Range> {
        let r = Range {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
        };
        (r.start < r.end).then_some(r)
    }

    fn span(&self) -> Option<(usize, usize)> {
        (*self != Range::WHOLE).then_some((self.start as usize, self.end as usize))
    }
}

/// A coding within its note: the code's number and its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Item {
    pub code: u32,
    pub range: Range,
}

impl Item {
    fn overlaps(&self, other: &Item) -> bool {
        self.range.intersection(&other.range).is_some()
    }
}

/// Codings grouped by note, with the codes numbered densely in name order so that the
/// counting works on small integers and never allocates per pair.
pub(crate) struct CodingIndex<'a> {
    /// Code names, sorted; a code's number is its position here.
    pub codes: Vec<&'a str>,
    /// Note ids in first-seen order; a note's number is its position here.
    pub notes: Vec<&'a str>,
    /// `items[starts[n]..starts[n + 1]]` are note n's codings, sorted and distinct.
    starts: Vec<u32>,
    items: Vec<Item>,
}

impl<'a> CodingIndex<'a> {
    pub fn new(codings: &'a [Coding]) -> CodingIndex<'a> {
        // Notes and codes are numbered independently: one on each core.
        let ((notes, note_numbers), (codes, code_numbers)) =
            rayon::join(|| number_notes(codings), || number_codes(codings));
        // Group by note with a counting sort: one pass to count, one to place.
        let mut starts = vec![0u32; notes.len() + 1];
        for &note in &note_numbers {
            starts[note as usize + 1] += 1;
        }
        for n in 0..notes.len() {
            starts[n + 1] += starts[n];
        }
        let mut next = starts.clone();
        let mut items = vec![
            Item {
                code: 0,
                range: Range::WHOLE
            };
            codings.len()
        ];
        for ((coding, &note), &code) in codings.iter().zip(&note_numbers).zip(&code_numbers) {
            let at = &mut next[note as usize];
            items[*at as usize] = Item {
                code,
                range: Range::of(coding.span),
            };
            *at += 1;
        }
        // Sort and deduplicate within each note, compacting as we go.
        let mut kept = 0usize;
        let mut from = 0usize;
        for n in 0..notes.len() {
            let to = starts[n + 1] as usize;
            items[from..to].sort_unstable();
            let begin = kept;
            for x in from..to {
                if kept == begin || items[kept - 1] != items[x] {
                    items[kept] = items[x];
                    kept += 1;
                }
            }
            starts[n] = begin as u32;
            from = to;
        }
        starts[notes.len()] = kept as u32;
        items.truncate(kept);
        CodingIndex {
            codes,
            notes,
            starts,
            items,
        }
    }

    pub fn note_count(&self) -> usize {
        self.notes.len()
    }

    /// Note n's codings, sorted by code then range, without duplicates.
    pub fn items(&self, note: usize) -> &[Item] {
        &self.items[self.starts[note] as usize..self.starts[note + 1] as usize]
    }

    /// Every note's codings, in note-number order.
    pub fn by_note(&self) -> impl Iterator<Item = &[Item]> {
        (0..self.notes.len()).map(|n| self.items(n))
    }
}

/// Number the notes in first-seen order: their ids, and per coding its note's number.
fn number_notes(codings: &[Coding]) -> (Vec<&str>, Vec<u32>) {
    // Rows usually come a note at a time: find the runs of one note first, so that there is
    // one lookup per run and the map is sized once.
    let runs: Vec<usize> = (0..codings.len())
        .filter(|&i| i == 0 || codings[i - 1].note != codings[i].note)
        .collect();
    let mut note_of: FxMap<&str, u32> =
        FxMap::with_capacity_and_hasher(runs.len(), Default::default());
    let mut notes: Vec<&str> = Vec::new();
    let mut numbers: Vec<u32> = Vec::with_capacity(codings.len());
    for (r, &start) in runs.iter().enumerate() {
        let end = runs.get(r + 1).copied().unwrap_or(codings.len());
        let id = codings[start].note.as_str();
        let n = *note_of.entry(id).or_insert_with(|| {
            notes.push(id);
            notes.len() as u32 - 1
        });
        numbers.extend(std::iter::repeat_n(n, end - start));
    }
    (notes, numbers)
}

/// Number the codes in name order, so that results do not depend on input order: their
/// names, and per coding its code's number.
fn number_codes(codings: &[Coding]) -> (Vec<&str>, Vec<u32>) {
    let mut code_of: FxMap<&str, u32> = FxMap::default();
    let mut codes: Vec<&str> = Vec::new();
    let mut numbers: Vec<u32> = codings
        .iter()
        .map(|c| {
            *code_of.entry(c.code.as_str()).or_insert_with(|| {
                codes.push(&c.code);
                codes.len() as u32 - 1
            })
        })
        .collect();
    let mut order: Vec<u32> = (0..codes.len() as u32).collect();
    order.sort_unstable_by_key(|&i| codes[i as usize]);
    let mut renumber = vec![0u32; codes.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old as usize] = new as u32;
    }
    for n in &mut numbers {
        *n = renumber[*n as usize];
    }
    (order.iter().map(|&i| codes[i as usize]).collect(), numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-worked archive (ranges in code points):
    ///
    /// | note | codings                                           |
    /// |------|---------------------------------------------------|
    /// | n1   | =wait 0..10, =staff 5..15, =price whole note      |
    /// | n2   | =wait whole note, =staff 20..30                   |
    /// | n3   | =wait 0..5, =staff 10..20 (no overlap)            |
    /// | n4   | =price 0..8, =price 0..8 again (one coding)       |
    ///
    /// Notes per code: price 2 (n1, n4), staff 3 (n1–n3), wait 3 (n1–n3).
    /// Codings per code: price 2, staff 3, wait 3.
    /// Notes with both: price·staff 1 (n1), price·wait 1 (n1), staff·wait 3 (n1, n2, n3).
    /// Overlapping pairs: price·staff 1 (whole n1 with 5..15), price·wait 1 (whole n1 with
    /// 0..10), staff·wait 2 (n1: 0..10 with 5..15; n2: whole with 20..30; n3 none).
    /// c: price·staff = 1 / (2 + 3 − 1) = 0.25, price·wait = 0.25, staff·wait = 3 / 3 = 1.
    fn archive() -> Vec<Coding> {
        vec![
            Coding::passage("n1", "=wait", 0, 10),
            Coding::passage("n3", "=wait", 0, 5),
            Coding::passage("n1", "=staff", 5, 15),
            Coding::whole("n1", "=price"),
            Coding::whole("n2", "=wait"),
            Coding::passage("n2", "=staff", 20, 30),
            Coding::passage("n3", "=staff", 10, 20),
            Coding::passage("n4", "=price", 0, 8),
            Coding::passage("n4", "=price", 0, 8),
        ]
    }

    #[test]
    fn counts_notes_overlaps_and_c_on_the_hand_worked_archive() {
        let r = cooccurrence(&archive());
        let names: Vec<&str> = r.codes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(names, ["=price", "=staff", "=wait"]);
        assert_eq!(
            r.codes
                .iter()
                .map(|c| (c.notes, c.codings))
                .collect::<Vec<_>>(),
            [(2, 2), (3, 3), (3, 3)]
        );
        assert_eq!(r.coded_notes, 4);
        assert_eq!(r.notes, [[2, 1, 1], [1, 3, 3], [1, 3, 3]]);
        assert_eq!(r.overlaps, [[2, 1, 1], [1, 3, 2], [1, 2, 3]]);
        let expected = [[1.0, 0.25, 0.25], [0.25, 1.0, 1.0], [0.25, 1.0, 1.0]];
        for (row, want) in r.c.iter().zip(expected) {
            for (got, want) in row.iter().zip(want) {
                assert!((got - want).abs() < 1e-12, "{:?}", r.c);
            }
        }
        assert_eq!(r.index_of("=staff"), Some(1));
        assert_eq!(r.index_of("=nope"), None);
    }

    #[test]
    fn the_result_does_not_depend_on_the_order_of_the_codings() {
        let mut reversed = archive();
        reversed.reverse();
        assert_eq!(cooccurrence(&reversed), cooccurrence(&archive()));
    }

    #[test]
    fn the_c_coefficient_follows_atlas_ti() {
        // The ATLAS.ti manual's example: 100 and 10 quotations, 5 together: 5 / 105.
        assert!((c_coefficient(100, 10, 5) - 5.0 / 105.0).abs() < 1e-12);
        assert_eq!(c_coefficient(4, 4, 4), 1.0);
        assert_eq!(c_coefficient(3, 2, 0), 0.0);
        assert_eq!(c_coefficient(0, 0, 0), 0.0);
    }

    #[test]
    fn touching_and_empty_ranges_do_not_overlap() {
        // 0..5 and 5..9 touch without sharing a character; 3..3 is empty. Both codes still
        // apply to the note, so the note counts once.
        let r = cooccurrence(&[
            Coding::passage("n", "=a", 0, 5),
            Coding::passage("n", "=b", 5, 9),
            Coding::passage("n", "=c", 3, 3),
            Coding::whole("n", "=d"),
        ]);
        assert_eq!(r.notes[0][1], 1);
        assert_eq!(r.overlaps[0][1], 0);
        assert_eq!(r.overlaps[0][2], 0, "an empty range overlaps nothing");
        assert_eq!(r.overlaps[2][3], 0, "not even the whole note");
        assert_eq!(r.overlaps[0][3], 1);
        assert_eq!(r.overlaps[1][3], 1);
    }

    #[test]
    fn lists_the_notes_behind_a_cell() {
        let codings = archive();
        let cell = notes_behind(&codings, "=staff", "=wait");
        let ids: Vec<&str> = cell.iter().map(|c| c.note.as_str()).collect();
        assert_eq!(ids, ["n1", "n2", "n3"]);
        assert_eq!(cell[0].overlaps, [Some((5, 10))]);
        assert_eq!(cell[1].overlaps, [Some((20, 30))]);
        assert!(cell[2].overlaps.is_empty());
        // The same cell read the other way round, and agreeing with the matrix.
        let r = cooccurrence(&codings);
        assert_eq!(notes_behind(&codings, "=wait", "=staff").len(), 3);
        let pairs: usize = cell.iter().map(|c| c.overlaps.len()).sum();
        assert_eq!(pairs as u32, r.overlaps[1][2]);
        // The diagonal: a code's notes and its codings there.
        let price = notes_behind(&codings, "=price", "=price");
        assert_eq!(price.len(), 2);
        assert_eq!(price[0].overlaps, [None]);
        assert_eq!(price[1].overlaps, [Some((0, 8))]);
        // Two whole-note codings overlap over the whole note.
        let both = notes_behind(
            &[Coding::whole("x", "=a"), Coding::whole("x", "=b")],
            "=a",
            "=b",
        );
        assert_eq!(both[0].overlaps, [None]);
        assert!(notes_behind(&codings, "=price", "=nope").is_empty());
    }

    #[test]
    fn no_codings_give_an_empty_report() {
        let r = cooccurrence(&[]);
        assert!(r.codes.is_empty() && r.notes.is_empty() && r.c.is_empty());
        assert_eq!(r.coded_notes, 0);
    }

    #[test]
    fn the_index_groups_by_note_and_drops_duplicates() {
        let codings = archive();
        let index = CodingIndex::new(&codings);
        assert_eq!(index.codes, ["=price", "=staff", "=wait"]);
        assert_eq!(index.notes, ["n1", "n3", "n2", "n4"]);
        let n1: Vec<u32> = index.items(0).iter().map(|i| i.code).collect();
        assert_eq!(n1, [0, 1, 2]);
        assert_eq!(
            index.items(3).len(),
            1,
            "the repeated =price 0..8 is one coding"
        );
    }
}
