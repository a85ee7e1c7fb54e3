//! Inter-coder agreement: do two (or more) researchers apply the codes alike? Per code and
//! overall, at note level and at character level, as percent agreement, Cohen's kappa and
//! Krippendorff's alpha (nominal), with the disagreements listed for the team to discuss.
//!
//! **Units.** The notes in scope are the ones the caller lists (a study, a filter), with their
//! lengths. Whether a coder gave a value for a note depends on [`Units`]:
//!
//! - [`Units::CodedNotes`] (the default): a coder judged a note when they applied any code to
//!   it (any code, not only the ones compared, so pass all their codings in scope). A note
//!   they never touched is *missing* for them, not "absent": after a merge, one researcher may
//!   have coded half the study. A note counts when at least two coders judged it.
//! - [`Units::AllNotes`]: every listed note was judged by every coder; applying nothing in it
//!   says the codes are absent.
//!
//! **Note level.** Per code, each judged note is one unit; a coder's value is whether they
//! applied the code to it (anywhere: whole note or passage).
//!
//! **Character level.** Per code, each character (code point) of each judged note is one unit;
//! a coder's value is whether one of their codings with that code covers it (a whole-note
//! coding covers all). Agreement on where a code starts and ends, not only whether it is there.
//!
//! **Overall** pools the units of every code compared ((note, code) or (character, code)
//! pairs), so frequent codes weigh more. Percent agreement pooled over many codes is
//! inflated by the easy agreement on absence; kappa and alpha correct for it.
//!
//! **Measures.** Percent agreement: the share of units where every coder who judged it gave
//! the same value. Cohen's kappa: `(p_o − p_e) / (1 − p_e)` with chance agreement `p_e` from
//! each coder's own rates; only for exactly two coders. Krippendorff's alpha, nominal:
//! `1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c · n_k` from the coincidence matrix `o` of values
//! paired within units (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"); any
//! number of coders, missing values allowed. Kappa and alpha are `None` when chance agreement
//! is already perfect (every value the same), since there is nothing to correct for.
//!
//! Codings with no coder or by a coder not compared are left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cooccurrence::{Coding, Range};
use super::text::FxMap;

/// A note in scope and its length in code points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteExtent {
    pub note: String,
    pub chars: usize,
}

/// When a coder counts as having judged a note (see the module's documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Units {
    /// The notes they applied any code to.
    #[default]
    CodedNotes,
    /// Every listed note.
    AllNotes,
}

/// What to compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgreementSettings {
    /// The coders, as recorded in [`Coding::coder`]; two for kappa, any number for alpha.
    pub coders: Vec<String>,
    /// The codes to compare; `None` for every code the coders applied in scope.
    pub codes: Option<Vec<String>>,
    pub units: Units,
}

/// Agreement over some units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measures {
    /// Units judged by at least two coders (notes, or characters).
    pub units: u64,
    /// 0–100; `None` without units.
    pub percent_agreement: Option<f64>,
    /// Cohen's kappa; `None` unless exactly two coders, or when undefined.
    pub kappa: Option<f64>,
    /// Krippendorff's alpha (nominal); `None` when undefined.
    pub alpha: Option<f64>,
}

/// Agreement at both levels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Levels {
    /// Note level: was the code applied to the note?
    pub notes: Measures,
    /// Character level: was this character coded with the code?
    pub characters: Measures,
}

/// Agreement on one code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeAgreement {
    pub code: String,
    #[serde(flatten)]
    pub levels: Levels,
}

/// A stretch of a note that some coders coded and others did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputedRange {
    /// Code points `[start, end)`.
    pub start: usize,
    pub end: usize,
    /// The coders who coded it (the others who judged the note did not).
    pub marked_by: Vec<String>,
}

/// A note and code the coders disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    pub note: String,
    pub code: String,
    /// Coders who applied the code somewhere in the note.
    pub applied_by: Vec<String>,
    /// Coders who judged the note but did not apply the code: empty when all applied it and
    /// they disagree only on where.
    pub not_applied_by: Vec<String>,
    /// Where they differ, in order.
    pub ranges: Vec<DisputedRange>,
}

/// Agreement between coders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementReport {
    pub coders: Vec<String>,
    pub units: Units,
    /// Notes judged by at least two coders.
    pub notes: u64,
    /// Their characters.
    pub characters: u64,
    /// Per code, by name.
    pub codes: Vec<CodeAgreement>,
    /// Over every code compared.
    pub overall: Levels,
    /// By code, then note id.
    pub disagreements: Vec<Disagreement>,
}

/// One code's codings in one note: (coder number, range).
type Marks = Vec<(usize, Range)>;

/// Compare the coders of `settings` over the `notes` in scope.
pub fn agreement(
    codings: &[Coding],
    notes: &[NoteExtent],
    settings: &AgreementSettings,
) -> AgreementReport {
    let mut coders: Vec<&str> = Vec::new();
    for c in &settings.coders {
        if !coders.contains(&c.as_str()) {
            coders.push(c);
        }
    }
    let m = coders.len();
    let coder_of: FxMap<&str, usize> = coders.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut note_of: FxMap<&str, usize> = FxMap::default();
    for (n, extent) in notes.iter().enumerate() {
        note_of.entry(extent.note.as_str()).or_insert(n);
    }
    let wanted: Option<Vec<&str>> = settings.codes.as_ref().map(|codes| {
        let mut codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    });

    // Who judged which note, and each code's codings by note.
    let mut judged = vec![settings.units == Units::AllNotes; notes.len() * m];
    let mut applied: BTreeMap<&str, BTreeMap<usize, Marks>> = BTreeMap::new();
    for coding in codings {
        let Some(&coder) = coding.coder.as_deref().and_then(|c| coder_of.get(c)) else {
            continue;
        };
        let Some(&n) = note_of.get(coding.note.as_str()) else {
            continue;
        };
        judged[n * m + coder] = true;
        if wanted
            .as_ref()
            .is_none_or(|w| w.binary_search(&coding.code.as_str()).is_ok())
        {
            applied
                .entry(&coding.code)
                .or_default()
                .entry(n)
                .or_default()
                .push((coder, Range::of(coding.span)));
        }
    }
    let codes: Vec<&str> = match wanted {
        Some(w) => w,
        None => applied.keys().copied().collect(),
    };

    // The notes judged by two coders or more, totalled by how many judged them: a note where
    // nobody applied a code adds agreement on absence, in bulk.
    let judges = |n: usize| judged[n * m..(n + 1) * m].iter().filter(|j| **j).count();
    let mut unit_notes = 0u64;
    let mut unit_chars = 0u64;
    let mut by_judges: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    for (n, extent) in notes.iter().enumerate() {
        if m >= 2 && note_of[extent.note.as_str()] == n && judges(n) >= 2 {
            unit_notes += 1;
            unit_chars += extent.chars as u64;
            let t = by_judges.entry(judges(n)).or_default();
            t.0 += 1.0;
            t.1 += extent.chars as f64;
        }
    }

    let mut overall = (Tally::new(2, m), Tally::new(2, m));
    let mut per_code = Vec::with_capacity(codes.len());
    let mut disagreements = Vec::new();
    let mut values: Vec<Option<u32>> = vec![None; m];
    for &code in &codes {
        let mut at_notes = Tally::new(2, m);
        let mut at_chars = Tally::new(2, m);
        let mut rest = by_judges.clone();
        for (&n, marks) in applied.get(code).into_iter().flatten() {
            let present = &judged[n * m..(n + 1) * m];
            let count = judges(n);
            if count < 2 {
                continue;
            }
            let chars = notes[n].chars;
            let rest = rest.get_mut(&count).expect("every unit note is totalled");
            rest.0 -= 1.0;
            rest.1 -= chars as f64;

            let mut applied_by = vec![false; m];
            for &(coder, _) in marks {
                applied_by[coder] = true;
            }
            for (i, v) in values.iter_mut().enumerate() {
                *v = present[i].then_some(u32::from(applied_by[i]));
            }
            at_notes.add(&values, 1.0);
            let ranges = characters(chars, marks, present, &coders, &mut at_chars);

            let names = |applied: bool| -> Vec<String> {
                (0..m)
                    .filter(|&i| present[i] && applied_by[i] == applied)
                    .map(|i| coders[i].to_owned())
                    .collect()
            };
            let not_applied_by = names(false);
            if !not_applied_by.is_empty() || !ranges.is_empty() {
                disagreements.push(Disagreement {
                    note: notes[n].note.clone(),
                    code: code.to_owned(),
                    applied_by: names(true),
                    not_applied_by,
                    ranges,
                });
            }
        }
        for (&count, &(notes, chars)) in &rest {
            at_notes.add_agreeing(0, notes, count);
            at_chars.add_agreeing(0, chars, count);
        }
        overall.0.merge(&at_notes);
        overall.1.merge(&at_chars);
        per_code.push(CodeAgreement {
            code: code.to_owned(),
            levels: Levels {
                notes: at_notes.measures(),
                characters: at_chars.measures(),
            },
        });
    }
    disagreements.sort_by(|a, b| a.code.cmp(&b.code).then_with(|| a.note.cmp(&b.note)));
    AgreementReport {
        coders: coders.iter().map(|c| (*c).to_owned()).collect(),
        units: settings.units,
        notes: unit_notes,
        characters: unit_chars,
        codes: per_code,
        overall: Levels {
            notes: overall.0.measures(),
            characters: overall.1.measures(),
        },
        disagreements,
    }
}

/// Tally one code's characters in one note and return the stretches in dispute. The note is
/// cut where any coding starts or ends; within a piece every coder's value is constant, so
/// each piece is tallied once, weighted by its length.
fn characters(
    chars: usize,
    marks: &[(usize, Range)],
    present: &[bool],
    coders: &[&str],
    tally: &mut Tally,
) -> Vec<DisputedRange> {
    let clip = |r: &Range| {
        let end = (r.end as usize).min(chars);
        ((r.start as usize).min(end), end)
    };
    let mut cuts: Vec<usize> = vec![0, chars];
    for (_, r) in marks {
        let (s, e) = clip(r);
        cuts.extend([s, e]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut disputes: Vec<DisputedRange> = Vec::new();
    let mut values: Vec<Option<u32>> = vec![None; present.len()];
    for piece in cuts.windows(2) {
        let (from, to) = (piece[0], piece[1]);
        for (i, v) in values.iter_mut().enumerate() {
            *v = present[i].then(|| {
                let covered = marks.iter().any(|(coder, r)| {
                    let (s, e) = clip(r);
                    *coder == i && s <= from && to <= e
                });
                u32::from(covered)
            });
        }
        tally.add(&values, (to - from) as f64);
        let marked: Vec<String> = (0..present.len())
            .filter(|&i| values[i] == Some(1))
            .map(|i| coders[i].to_owned())
            .collect();
        let judges = values.iter().flatten().count();
        if marked.is_empty() || marked.len() == judges {
            continue;
        }
        match disputes.last_mut() {
            Some(last) if last.end == from && last.marked_by == marked => last.end = to,
            _ => disputes.push(DisputedRange {
                start: from,
                end: to,
                marked_by: marked,
            }),
        }
    }
    disputes
}

// ---- the measures --------------------------------------------------------------------

/// Percent agreement, Cohen's kappa and Krippendorff's nominal alpha of reliability data: one
/// row per unit, one value per coder (`None`: that coder gave none). Kappa needs every row to
/// have exactly two values (two coders, nothing missing).
pub fn reliability(units: &[Vec<Option<u32>>]) -> Measures {
    let categories = units.iter().flatten().flatten().max().map_or(0, |v| *v + 1);
    let coders = units.iter().map(Vec::len).max().unwrap_or(0);
    let mut tally = Tally::new(categories as usize, coders);
    if units
        .iter()
        .any(|u| u.len() != 2 || u.iter().any(Option::is_none))
    {
        tally.contingency = None;
    }
    for unit in units {
        tally.add(unit, 1.0);
    }
    tally.measures()
}

/// Krippendorff's alpha for nominal data (see [`reliability`]).
pub fn krippendorff_alpha(units: &[Vec<Option<u32>>]) -> Option<f64> {
    reliability(units).alpha
}

/// Cohen's kappa of two coders' values for the same units.
pub fn cohen_kappa(pairs: &[(u32, u32)]) -> Option<f64> {
    let units: Vec<Vec<Option<u32>>> = pairs.iter().map(|&(a, b)| vec![Some(a), Some(b)]).collect();
    reliability(&units).kappa
}

/// What the measures are computed from, each unit weighted (a piece of text weighs its
/// length in characters).
#[derive(Debug, Clone)]
struct Tally {
    categories: usize,
    /// Krippendorff's coincidence matrix, `categories²`.
    coincidence: Vec<f64>,
    /// Coder 1 × coder 2, when there are exactly two coders.
    contingency: Option<Vec<f64>>,
    agreeing: f64,
    pairable: f64,
    scratch: Vec<f64>,
}

impl Tally {
    fn new(categories: usize, coders: usize) -> Tally {
        let cells = vec![0.0; categories * categories];
        Tally {
            categories,
            contingency: (coders == 2).then(|| cells.clone()),
            coincidence: cells,
            agreeing: 0.0,
            pairable: 0.0,
            scratch: vec![0.0; categories],
        }
    }

    /// One unit: each coder's value, or `None`.
    fn add(&mut self, values: &[Option<u32>], weight: f64) {
        let judges = values.iter().flatten().count();
        if judges < 2 || weight <= 0.0 {
            return;
        }
        let v = self.categories;
        self.scratch.iter_mut().for_each(|c| *c = 0.0);
        for &value in values.iter().flatten() {
            self.scratch[value as usize] += 1.0;
        }
        self.pairable += weight;
        if self.scratch.contains(&(judges as f64)) {
            self.agreeing += weight;
        }
        // Every ordered pair of values from different coders, each unit weighing its judges − 1.
        let per_pair = weight / (judges - 1) as f64;
        for c in 0..v {
            let nc = self.scratch[c];
            if nc == 0.0 {
                continue;
            }
            for k in 0..v {
                let pairs = if c == k {
                    nc * (nc - 1.0)
                } else {
                    nc * self.scratch[k]
                };
                self.coincidence[c * v + k] += pairs * per_pair;
            }
        }
        if let (Some(table), [Some(a), Some(b)]) = (&mut self.contingency, values) {
            table[*a as usize * v + *b as usize] += weight;
        }
    }

    /// Units where all `judges` coders gave `value`, in bulk.
    fn add_agreeing(&mut self, value: u32, weight: f64, judges: usize) {
        if judges < 2 || weight <= 0.0 {
            return;
        }
        let v = value as usize;
        self.pairable += weight;
        self.agreeing += weight;
        self.coincidence[v * self.categories + v] += weight * judges as f64;
        if let Some(table) = &mut self.contingency {
            table[v * self.categories + v] += weight;
        }
    }

    fn merge(&mut self, other: &Tally) {
        let add = |a: &mut [f64], b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.coincidence, &other.coincidence);
        if let (Some(a), Some(b)) = (&mut self.contingency, &other.contingency) {
            add(a, b);
        }
        self.agreeing += other.agreeing;
        self.pairable += other.pairable;
    }

    fn measures(&self) -> Measures {
        Measures {
            units: self.pairable.round() as u64,
            percent_agreement: (self.pairable > 0.0).then(|| 100.0 * self.agreeing / self.pairable),
            kappa: self.kappa(),
            alpha: self.alpha(),
        }
    }

    fn alpha(&self) -> Option<f64> {
        let v = self.categories;
        let totals: Vec<f64> = (0..v)
            .map(|c| self.coincidence[c * v..(c + 1) * v].iter().sum())
            .collect();
        let n: f64 = totals.iter().sum();
        let observed: f64 = (0..v)
            .flat_map(|c| (0..v).filter(move |&k| k != c).map(move |k| (c, k)))
            .map(|(c, k)| self.coincidence[c * v + k])
            .sum();
        let expected = n * n - totals.iter().map(|t| t * t).sum::<f64>();
        (n > 1.0 && expected > EPSILON * n * n).then(|| 1.0 - (n - 1.0) * observed / expected)
    }

    fn kappa(&self) -> Option<f64> {
        let table = self.contingency.as_ref()?;
        let v = self.categories;
        let n: f64 = table.iter().sum();
        if n <= 0.0 {
            return None;
        }
        let observed = (0..v).map(|c| table[c * v + c]).sum::<f64>() / n;
        let chance = (0..v)
            .map(|c| {
                let first: f64 = table[c * v..(c + 1) * v].iter().sum();
                let second: f64 = (0..v).map(|r| table[r * v + c]).sum();
                first * second
            })
            .sum::<f64>()
            / (n * n);
        (1.0 - chance > EPSILON).then(|| (observed - chance) / (1.0 - chance))
    }
}

/// Below this, chance agreement counts as perfect (kappa and alpha undefined).
const EPSILON: f64 = 1e-12;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: Option<f64>, want: f64, places: i32) {
        let got = got.expect("a value");
        assert!(
            (got - want).abs() < 0.5 * 10f64.powi(-places),
            "{got} is not {want} to {places} places"
        );
    }

    /// Reliability data as printed, coders by units, `*` for a missing value; turned into
    /// one row per unit.
    fn data(rows: &[&str]) -> Vec<Vec<Option<u32>>> {
        let rows: Vec<Vec<Option<u32>>> = rows
            .iter()
            .map(|r| r.split_whitespace().map(|v| v.parse().ok()).collect())
            .collect();
        (0..rows[0].len())
            .map(|u| rows.iter().map(|r| r[u]).collect())
            .collect()
    }

    // Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School
    // for Communication, University of Pennsylvania, https://repository.upenn.edu/asc_papers/43

    #[test]
    fn alpha_matches_krippendorff_2011_a_binary_data_two_observers() {
        // Section A: 10 units; coincidences o00 = 10, o01 = o10 = 4, o11 = 2, so
        // α = 1 − (20 − 1) · 4 / (14 · 6) = 0.095.
        let units = data(&["0 1 0 0 0 0 0 0 1 0", "1 1 1 0 0 1 0 0 0 0"]);
        close(krippendorff_alpha(&units), 0.095, 3);
        // The same data by hand for kappa: p_o = 6/10, p_e = .2 · .4 + .8 · .6 = .56,
        // κ = .04 / .44.
        let m = reliability(&units);
        close(m.kappa, 0.04 / 0.44, 12);
        close(m.percent_agreement, 60.0, 12);
        assert_eq!(m.units, 10);
    }

    #[test]
    fn alpha_matches_krippendorff_2011_b_nominal_data_two_observers() {
        // Section B: values a–e written 1–5; α = 0.692.
        let units = data(&["1 1 2 2 4 3 3 3 5 4 4 1", "2 1 2 2 2 3 3 3 5 4 4 4"]);
        close(krippendorff_alpha(&units), 0.692, 3);
    }

    #[test]
    fn alpha_matches_krippendorff_2011_c_four_observers_with_missing_values() {
        // Section C: 4 observers, 12 units, missing values; unit 12 has one value and
        // drops out; α = 0.743.
        let units = data(&[
            "1 2 3 3 2 1 4 1 2 * * *",
            "1 2 3 3 2 2 4 1 2 5 * 3",
            "* 3 3 3 2 3 4 2 2 5 1 *",
            "1 2 3 3 2 4 4 1 2 5 1 *",
        ]);
        let m = reliability(&units);
        close(m.alpha, 0.743, 3);
        assert_eq!(m.kappa, None, "kappa is for two coders");
        assert_eq!(m.units, 11);
    }

    #[test]
    fn alpha_matches_the_wikipedia_computational_example() {
        // Wikipedia, "Krippendorff's alpha", A computational example: 3 coders, 15 units,
        // nominal α = 0.691.
        let units = data(&[
            "* * * * * 3 4 1 2 1 1 3 3 * 3",
            "1 * 2 1 3 3 4 3 * * * * * * *",
            "* * 2 1 3 4 4 * 2 1 1 3 3 * 4",
        ]);
        close(krippendorff_alpha(&units), 0.691, 3);
    }

    #[test]
    fn kappa_matches_the_wikipedia_worked_example() {
        // Wikipedia, "Cohen's kappa", Simple example: 50 proposals, both yes 20, A yes B no 5,
        // A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5 · 0.6 + 0.5 · 0.4 = 0.5, κ = 0.4.
        let mut pairs = Vec::new();
        pairs.extend(std::iter::repeat_n((1, 1), 20));
        pairs.extend(std::iter::repeat_n((1, 0), 5));
        pairs.extend(std::iter::repeat_n((0, 1), 10));
        pairs.extend(std::iter::repeat_n((0, 0), 15));
        close(cohen_kappa(&pairs), 0.4, 12);
    }

    #[test]
    fn one_category_everywhere_leaves_kappa_and_alpha_undefined() {
        let m = reliability(&data(&["1 1 1 1", "1 1 1 1"]));
        assert_eq!(m.kappa, None);
        assert_eq!(m.alpha, None);
        close(m.percent_agreement, 100.0, 12);
        let none = reliability(&[]);
        assert_eq!((none.units, none.percent_agreement), (0, None));
        assert_eq!((none.kappa, none.alpha), (None, None));
        assert_eq!(cohen_kappa(&[]), None);
    }

    fn extent(note: &str, chars: usize) -> NoteExtent {
        NoteExtent {
            note: note.to_owned(),
            chars,
        }
    }

    fn settings(coders: &[&str], codes: Option<&[&str]>, units: Units) -> AgreementSettings {
        AgreementSettings {
            coders: coders.iter().map(|c| (*c).to_owned()).collect(),
            codes: codes.map(|cs| cs.iter().map(|c| (*c).to_owned()).collect()),
            units,
        }
    }

    /// Krippendorff's binary example as codings: ten notes, coder A (ana) applied =x where
    /// the first row has 1, B (ben) where the second has 1; both coded every note with
    /// =seen, so every note is judged by both.
    fn binary_archive() -> (Vec<Coding>, Vec<NoteExtent>) {
        let a = "0 1 0 0 0 0 0 0 1 0";
        let b = "1 1 1 0 0 1 0 0 0 0";
        let mut codings = Vec::new();
        let mut notes = Vec::new();
        for (u, (x, y)) in a.split(' ').zip(b.split(' ')).enumerate() {
            let note = format!("n{u:02}");
            notes.push(extent(&note, 20));
            codings.push(Coding::whole(&note, "=seen").by("ana"));
            codings.push(Coding::whole(&note, "=seen").by("ben"));
            if x == "1" {
                codings.push(Coding::whole(&note, "=x").by("ana"));
            }
            if y == "1" {
                codings.push(Coding::whole(&note, "=x").by("ben"));
            }
        }
        (codings, notes)
    }

    #[test]
    fn note_level_agreement_on_codings_matches_the_binary_example() {
        let (codings, notes) = binary_archive();
        let r = agreement(
            &codings,
            &notes,
            &settings(&["ana", "ben"], Some(&["=x"]), Units::CodedNotes),
        );
        assert_eq!(r.notes, 10);
        assert_eq!(r.codes.len(), 1);
        let x = r.codes[0].levels.notes;
        assert_eq!(x.units, 10);
        close(x.alpha, 0.095, 3);
        close(x.kappa, 0.04 / 0.44, 12);
        close(x.percent_agreement, 60.0, 12);
        // Whole-note codings: the characters agree exactly as the notes do.
        let chars = r.codes[0].levels.characters;
        assert_eq!(chars.units, 200);
        close(chars.kappa, 0.04 / 0.44, 12);
        close(chars.percent_agreement, 60.0, 12);
        // Units 1, 3, 6 (ben only) and 9 (ana only).
        let listed: Vec<(&str, &[String])> = r
            .disagreements
            .iter()
            .map(|d| (d.note.as_str(), d.applied_by.as_slice()))
            .collect();
        assert_eq!(
            listed,
            [
                ("n00", &["ben".to_owned()][..]),
                ("n02", &["ben".to_owned()][..]),
                ("n05", &["ben".to_owned()][..]),
                ("n08", &["ana".to_owned()][..]),
            ]
        );
        assert_eq!(r.disagreements[3].not_applied_by, ["ben"]);
        assert_eq!(
            r.disagreements[3].ranges,
            [DisputedRange {
                start: 0,
                end: 20,
                marked_by: vec!["ana".to_owned()]
            }]
        );
        // Comparing every code: =seen agrees everywhere with one value (undefined), and the
        // pooled 20 (note, code) units have 4 disagreements.
        let all = agreement(
            &codings,
            &notes,
            &settings(&["ana", "ben"], None, Units::CodedNotes),
        );
        assert_eq!(
            all.codes
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>(),
            ["=seen", "=x"]
        );
        assert_eq!(all.codes[0].levels.notes.kappa, None);
        assert_eq!(all.codes[0].levels.notes.alpha, None);
        assert_eq!(all.overall.notes.units, 20);
        close(all.overall.notes.percent_agreement, 80.0, 12);
    }

    /// One note of 10 characters: ana codes =x on 0..6, ben on 2..8.
    ///
    /// Characters: 0–1 ana only (2), 2–5 both (4), 6–7 ben only (2), 8–9 neither (2).
    /// Percent agreement 6/10. Kappa: p_o = .6, both coders mark 6 of 10, p_e = .36 + .16 =
    /// .52, κ = .08 / .48 = 1/6. Alpha: o11 = 8, o00 = 4, o01 = o10 = 4, n1 = 12, n0 = 8,
    /// α = 1 − 19 · 8 / (400 − 144 − 64) = 1 − 152/192.
    #[test]
    fn character_level_agreement_on_the_hand_worked_passages() {
        let codings = [
            Coding::passage("n", "=x", 0, 6).by("ana"),
            Coding::passage("n", "=x", 2, 8).by("ben"),
        ];
        let r = agreement(
            &codings,
            &[extent("n", 10)],
            &settings(&["ana", "ben"], None, Units::CodedNotes),
        );
        let chars = r.codes[0].levels.characters;
        assert_eq!(chars.units, 10);
        close(chars.percent_agreement, 60.0, 12);
        close(chars.kappa, 1.0 / 6.0, 12);
        close(chars.alpha, 1.0 - 152.0 / 192.0, 12);
        // At note level they agree (both applied =x): one unit, one value, undefined.
        let notes = r.codes[0].levels.notes;
        close(notes.percent_agreement, 100.0, 12);
        assert_eq!((notes.kappa, notes.alpha), (None, None));
        assert_eq!(r.disagreements.len(), 1);
        let d = &r.disagreements[0];
        assert_eq!(d.applied_by, ["ana", "ben"]);
        assert!(d.not_applied_by.is_empty());
        assert_eq!(
            d.ranges,
            [
                DisputedRange {
                    start: 0,
                    end: 2,
                    marked_by: vec!["ana".to_owned()]
                },
                DisputedRange {
                    start: 6,
                    end: 8,
                    marked_by: vec!["ben".to_owned()]
                },
            ]
        );
    }

    #[test]
    fn adjacent_pieces_in_dispute_are_one_range_and_spans_are_clipped_to_the_note() {
        // ana: 0..3 and 3..5 (two passages), ben nothing but =y; the note is 4 long.
        let codings = [
            Coding::passage("n", "=x", 0, 3).by("ana"),
            Coding::passage("n", "=x", 3, 50).by("ana"),
            Coding::whole("n", "=y").by("ben"),
        ];
        let r = agreement(
            &codings,
            &[extent("n", 4)],
            &settings(&["ana", "ben"], Some(&["=x"]), Units::CodedNotes),
        );
        assert_eq!(
            r.disagreements[0].ranges,
            [DisputedRange {
                start: 0,
                end: 4,
                marked_by: vec!["ana".to_owned()]
            }]
        );
        assert_eq!(r.codes[0].levels.characters.units, 4);
    }

    #[test]
    fn a_note_only_one_coder_touched_is_missing_unless_every_note_counts() {
        // n1: both coded =x. n2: only ana coded it (=x). n3: nobody.
        let codings = [
            Coding::whole("n1", "=x").by("ana"),
            Coding::whole("n1", "=x").by("ben"),
            Coding::whole("n2", "=x").by("ana"),
            Coding::whole("n2", "=x").by("cy"),  // not compared
            Coding::whole("n9", "=x").by("ben"), // not in scope
            Coding::whole("n1", "=z"),           // no coder
        ];
        let notes = [extent("n1", 5), extent("n2", 5), extent("n3", 5)];
        let coded = agreement(
            &codings,
            &notes,
            &settings(&["ana", "ben"], None, Units::CodedNotes),
        );
        assert_eq!(coded.notes, 1);
        assert_eq!(coded.codes.len(), 1, "=z has no coder");
        assert_eq!(coded.codes[0].levels.notes.units, 1);
        assert!(coded.disagreements.is_empty());
        let all = agreement(
            &codings,
            &notes,
            &settings(&["ana", "ben"], None, Units::AllNotes),
        );
        assert_eq!((all.notes, all.characters), (3, 15));
        // n1 both, n2 ana only, n3 neither: p_o = 2/3; ana 2/3 yes, ben 1/3 yes:
        // p_e = 2/9 + 2/9 = 4/9; κ = (2/3 − 4/9) / (5/9) = 0.4.
        let x = all.codes[0].levels.notes;
        close(x.kappa, 0.4, 12);
        close(x.percent_agreement, 200.0 / 3.0, 12);
        assert_eq!(all.disagreements.len(), 1);
        assert_eq!(all.disagreements[0].note, "n2");
        assert_eq!(all.disagreements[0].not_applied_by, ["ben"]);
    }

    #[test]
    fn three_coders_give_alpha_with_missing_values_and_no_kappa() {
        // n1: all three apply =x. n2: ana and ben apply =x, cy codes =y only.
        // n3: ana and cy code =y only; ben did not touch it (missing).
        // =x by note: n1 (1,1,1), n2 (1,1,0), n3 (0,·,0).
        // Coincidences: n1 o11 += 3·2/2 = 3; n2 o11 += 2/2 = 1, o10 = o01 += 2/2 = 1 each;
        // n3 o00 += 2. n1 = 3 + 1 + 1 = 5 (o11 4, o10 1), n0 = 1 + 2 = 3, n = 8:
        // α = 1 − 7 · 2 / (64 − 25 − 9) = 1 − 14/30.
        let codings = [
            Coding::whole("n1", "=x").by("ana"),
            Coding::whole("n1", "=x").by("ben"),
            Coding::whole("n1", "=x").by("cy"),
            Coding::whole("n2", "=x").by("ana"),
            Coding::whole("n2", "=x").by("ben"),
            Coding::whole("n2", "=y").by("cy"),
            Coding::whole("n3", "=y").by("ana"),
            Coding::whole("n3", "=y").by("cy"),
        ];
        let notes = [extent("n1", 3), extent("n2", 3), extent("n3", 3)];
        let r = agreement(
            &codings,
            &notes,
            &settings(&["ana", "ben", "cy"], Some(&["=x"]), Units::CodedNotes),
        );
        let x = r.codes[0].levels.notes;
        close(x.alpha, 1.0 - 14.0 / 30.0, 12);
        assert_eq!(x.kappa, None);
        close(x.percent_agreement, 200.0 / 3.0, 12);
        assert_eq!(r.disagreements.len(), 1);
        assert_eq!(r.disagreements[0].applied_by, ["ana", "ben"]);
        assert_eq!(r.disagreements[0].not_applied_by, ["cy"]);
    }

    #[test]
    fn empty_input_gives_an_empty_report() {
        let r = agreement(
            &[],
            &[],
            &settings(&["ana", "ben"], None, Units::CodedNotes),
        );
        assert!(r.codes.is_empty() && r.disagreements.is_empty());
        assert_eq!(r.notes, 0);
        assert_eq!(r.overall.notes.units, 0);
        assert_eq!(r.overall.notes.percent_agreement, None);
        assert_eq!(r.overall.characters.alpha, None);
        // One coder: nothing to compare.
        let (codings, notes) = binary_archive();
        let one = agreement(&codings, &notes, &settings(&["ana"], None, Units::AllNotes));
        assert_eq!(one.notes, 0);
        assert_eq!(one.overall.notes.units, 0);
    }

    #[test]
    fn both_coders_agreeing_everywhere_with_one_value_is_undefined_not_nan() {
        let codings: Vec<Coding> = ["a", "b", "c"]
            .iter()
            .flat_map(|n| {
                [
                    Coding::whole(n, "=x").by("ana"),
                    Coding::whole(n, "=x").by("ben"),
                ]
            })
            .collect();
        let notes = [extent("a", 4), extent("b", 4), extent("c", 4)];
        let r = agreement(
            &codings,
            &notes,
            &settings(&["ana", "ben"], None, Units::CodedNotes),
        );
        for level in [r.codes[0].levels, r.overall] {
            for m in [level.notes, level.characters] {
                close(m.percent_agreement, 100.0, 12);
                assert_eq!((m.kappa, m.alpha), (None, None));
            }
        }
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("NaN") && json.contains("\"kappa\":null"));
    }
}
