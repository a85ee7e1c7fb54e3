//! Segment contrast: the phrases and tags that most set a group (a persona, touchpoint, study
//! or note kind) apart from the rest, by the weighted log-odds ratio with an informative
//! Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"). The prior is the whole
//! archive's term frequencies (worth a tenth of its counts), which shrinks the odds of rare
//! words in small groups toward no difference.
//!
//! Counts are of notes (a word said five times in one note counts once), so one talkative
//! note cannot make a word look distinctive.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde::Serialize;

use super::lexicon::{ArchiveWords, is_general};
use super::text::{FxMap, Gram, Vocabulary, grams, surface_forms};
use super::{AnalysisNote, round2};
use crate::model::Facet;

/// Only differences this clear are shown (p < 0.05, two-sided).
pub const MIN_Z: f64 = 1.96;

/// The fewest notes of a group a term must be in to be called distinctive of it: at two, a
/// name or a filler said twice by one talkative person passed (`owen`: 2 against 1); three
/// keeps what recurs (see the test below).
pub const DEFAULT_MIN_COUNT: usize = 3;

/// The prior's weight as a share of the archive's term counts.
const PRIOR_SHARE: f64 = 0.1;

/// What to group notes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContrastBy {
    Persona,
    Touchpoint,
    Study,
    Kind,
}

impl FromStr for ContrastBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "persona" => Ok(ContrastBy::Persona),
            "touchpoint" => Ok(ContrastBy::Touchpoint),
            "study" => Ok(ContrastBy::Study),
            "kind" => Ok(ContrastBy::Kind),
            _ => Err(format!(
                "cannot contrast by {s:?}: use persona, touchpoint, study or kind"
            )),
        }
    }
}

impl ContrastBy {
    fn groups_of(self, n: &AnalysisNote) -> Vec<String> {
        match self {
            ContrastBy::Persona => n.tagged(Facet::Persona).map(str::to_owned).collect(),
            ContrastBy::Touchpoint => n.tagged(Facet::Touchpoint).map(str::to_owned).collect(),
            ContrastBy::Study => vec![n.study.clone()],
            ContrastBy::Kind => vec![n.kind.to_string()],
        }
    }

    fn facet(self) -> Option<Facet> {
        match self {
            ContrastBy::Persona => Some(Facet::Persona),
            ContrastBy::Touchpoint => Some(Facet::Touchpoint),
            ContrastBy::Study | ContrastBy::Kind => None,
        }
    }
}

/// A phrase or tag and how much it sets the group apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distinctive {
    pub term: String,
    /// Weighted log-odds z-score: above 1.96 is a clear difference (p < 0.05).
    pub z: f64,
    pub log_odds: f64,
    /// Notes in the group that carry it, and notes in the rest that do.
    pub in_group: usize,
    pub in_rest: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupContrast {
    pub group: String,
    pub notes: usize,
    pub phrases: Vec<Distinctive>,
    pub tags: Vec<Distinctive>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastReport {
    pub by: ContrastBy,
    pub total_notes: usize,
    /// Notes that belong to no group (e.g. no persona tag); they count only as "the rest".
    pub ungrouped_notes: usize,
    pub groups: Vec<GroupContrast>,
}

/// The `limit` most distinctive phrases and tags of each group (z ≥ 1.96, in at least
/// `min_count` of its notes), highest z first. Phrases with a general word, a filler, a
/// number or a name are left out, as theme labels leave them out.
pub fn contrast(
    notes: &[AnalysisNote],
    by: ContrastBy,
    limit: usize,
    min_count: usize,
) -> ContrastReport {
    let refs: Vec<&AnalysisNote> = notes.iter().collect();
    let words = ArchiveWords::learn(&refs, ArchiveWords::SAMPLE);
    let mut vocab = Vocabulary::with_stops(std::sync::Arc::new(words.feature_stops()));
    let (mut tokens, mut gram_buf) = (Vec::new(), Vec::new());
    // The researcher's own tag names are never phrases (each name read once, in the order
    // first met, so the vocabulary grows as it would reading every tag).
    let mut seen_tags: FxMap<&str, ()> = FxMap::default();
    let excluded: BTreeSet<String> = notes
        .iter()
        .flat_map(|n| n.tags.iter())
        .filter(|t| seen_tags.insert(t.name.as_str(), ()).is_none())
        .filter_map(|t| vocab.tag_gram(&t.name).map(|g| vocab.stem_text(&g)))
        .collect();
    let mut note_grams: Vec<Vec<Gram>> = Vec::with_capacity(notes.len());
    for n in notes {
        vocab.tokens(&n.body[words.prefix_len(&n.body)..], &mut tokens);
        grams(&tokens, &mut gram_buf);
        note_grams.push(gram_buf.iter().filter(|g| g[2] == 0).copied().collect());
    }
    let mut banned = vec![false; vocab.stems.len()];
    for (word, id) in vocab.words() {
        if is_general(word) {
            banned[id as usize] = true;
        }
    }
    // Each note's terms as ids, sorted and distinct: its phrases (as stems, shown later in
    // their first surface form) and its tags. A group is then counted by walking its own
    // notes, not every note once per group.
    let mut phrases = Terms::default();
    // The first gram of each phrase, for its surface form.
    let mut gram_of: Vec<Gram> = Vec::new();
    let mut term_of_gram: FxMap<Gram, Option<u32>> = FxMap::default();
    let mut phrase_sets: Vec<Vec<u32>> = Vec::with_capacity(notes.len());
    for grams in note_grams {
        let mut set = Vec::new();
        for g in grams {
            if g.iter().any(|&w| w != 0 && banned[w as usize]) {
                continue;
            }
            let term = *term_of_gram.entry(g).or_insert_with(|| {
                let stem = vocab.stem_text(&g);
                if excluded.contains(&stem) {
                    return None;
                }
                let (id, new) = phrases.intern(stem);
                if new {
                    gram_of.push(g);
                }
                Some(id)
            });
            set.extend(term);
        }
        set.sort_unstable();
        set.dedup();
        phrase_sets.push(set);
    }
    let own_facet = by.facet();
    let mut tags = Terms::default();
    let tag_sets: Vec<Vec<u32>> = notes
        .iter()
        .map(|n| {
            let mut set: Vec<u32> = n
                .tags
                .iter()
                .filter(|t| Some(t.facet) != own_facet)
                .map(|t| tags.intern(t.to_string()).0)
                .collect();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    let phrase_counts = Counts::of(&phrase_sets, phrases.text.len());
    let tag_counts = Counts::of(&tag_sets, tags.text.len());
    let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut ungrouped = 0;
    for (i, n) in notes.iter().enumerate() {
        let groups: BTreeSet<String> = by.groups_of(n).into_iter().collect();
        if groups.is_empty() {
            ungrouped += 1;
        }
        for g in groups {
            members.entry(g).or_default().push(i);
        }
    }
    let mut groups: Vec<GroupContrast> = members
        .into_iter()
        .map(|(group, idx)| GroupContrast {
            notes: idx.len(),
            phrases: phrase_counts.distinctive(&phrase_sets, &phrases.text, &idx, limit, min_count),
            tags: tag_counts.distinctive(&tag_sets, &tags.text, &idx, limit, min_count),
            group,
        })
        .collect();
    // Show phrases as people write them, not as stems.
    let shown: BTreeSet<&str> = groups
        .iter()
        .flat_map(|g| g.phrases.iter().map(|d| d.term.as_str()))
        .collect();
    let wanted: FxMap<Gram, usize> = shown
        .iter()
        .enumerate()
        .map(|(i, s)| (gram_of[phrases.ids[*s] as usize], i))
        .collect();
    let shown: Vec<String> = shown.into_iter().map(str::to_owned).collect();
    let mut counts = vec![std::collections::HashMap::new(); shown.len()];
    for n in notes {
        surface_forms(&mut vocab, &n.body, &wanted, &mut counts);
    }
    let surface: BTreeMap<&str, String> = shown
        .iter()
        .zip(counts)
        .map(|(stem, c)| {
            let best = c
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|(s, _)| s)
                .unwrap_or_else(|| stem.clone());
            (stem.as_str(), best)
        })
        .collect();
    for g in &mut groups {
        for d in &mut g.phrases {
            if let Some(s) = surface.get(d.term.as_str()) {
                d.term = s.clone();
            }
        }
    }
    ContrastReport {
        by,
        total_notes: notes.len(),
        ungrouped_notes: ungrouped,
        groups,
    }
}

/// Terms (phrases or tags) by id, each text once.
#[derive(Default)]
struct Terms {
    ids: FxMap<String, u32>,
    text: Vec<String>,
}

impl Terms {
    /// The term's id, and whether it is new.
    fn intern(&mut self, text: String) -> (u32, bool) {
        if let Some(&id) = self.ids.get(&text) {
            return (id, false);
        }
        let id = self.text.len() as u32;
        self.text.push(text.clone());
        self.ids.insert(text, id);
        (id, true)
    }
}

/// How many notes carry each term, over every note, and how many terms they carry in all.
struct Counts {
    notes: Vec<u32>,
    total: f64,
}

impl Counts {
    fn of(sets: &[Vec<u32>], terms: usize) -> Counts {
        let mut notes = vec![0u32; terms];
        let mut total = 0.0;
        for set in sets {
            for &t in set {
                notes[t as usize] += 1;
            }
            total += set.len() as f64;
        }
        Counts { notes, total }
    }

    /// The terms that set the notes `group` (indices into `sets`) apart from all the others.
    fn distinctive(
        &self,
        sets: &[Vec<u32>],
        text: &[String],
        group: &[usize],
        limit: usize,
        min_count: usize,
    ) -> Vec<Distinctive> {
        let mut in_group = vec![0u32; self.notes.len()];
        let mut present = Vec::new();
        let mut n_group = 0.0;
        for &i in group {
            for &t in &sets[i] {
                if in_group[t as usize] == 0 {
                    present.push(t);
                }
                in_group[t as usize] += 1;
            }
            n_group += sets[i].len() as f64;
        }
        let n_rest = self.total - n_group;
        // The informative prior: the archive's own frequencies, π_w = count_w / total, with a
        // prior sample size α0 of a tenth of the archive (α_w = α0 · π_w). It pulls the odds
        // of rare terms in small groups toward the archive's, without drowning real
        // differences.
        let total = self.total;
        let alpha0 = PRIOR_SHARE * total;
        // A term's text is copied only when it passes.
        let mut out: Vec<Distinctive> = present
            .into_iter()
            .filter_map(|t| {
                let g = in_group[t as usize] as f64;
                let r = self.notes[t as usize] as f64 - g;
                let a = alpha0 * (g + r) / total;
                let odds = |y: f64, n: f64| ((y + a) / (n + alpha0 - y - a)).ln();
                let delta = odds(g, n_group) - odds(r, n_rest);
                let var = 1.0 / (g + a) + 1.0 / (r + a);
                let z = round2(delta / var.sqrt());
                (z >= MIN_Z && g as usize >= min_count.max(1)).then(|| Distinctive {
                    term: text[t as usize].clone(),
                    z,
                    log_odds: round2(delta),
                    in_group: g as usize,
                    in_rest: r as usize,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.z.total_cmp(&a.z)
                .then_with(|| b.in_group.cmp(&a.in_group))
                .then_with(|| a.term.cmp(&b.term))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::note;

    #[test]
    fn a_personas_distinctive_word_comes_first() {
        let mut notes = Vec::new();
        for i in 0..10 {
            notes.push(note(
                &format!("r{i}"),
                "s1",
                &format!("the print on the label is too small to read {i} @retiree"),
            ));
            notes.push(note(
                &format!("s{i}"),
                "s2",
                &format!("compared the price on the app {i} @student"),
            ));
            notes.push(note(
                &format!("c{i}"),
                "s3",
                &format!("the price was fine, the app was slow {i} @commuter"),
            ));
        }
        let r = contrast(&notes, ContrastBy::Persona, 5, DEFAULT_MIN_COUNT);
        let retiree = r.groups.iter().find(|g| g.group == "retiree").unwrap();
        assert!(
            ["print", "label", "small", "read"].contains(&retiree.phrases[0].term.as_str()),
            "{retiree:?}"
        );
        assert_eq!(retiree.phrases[0].in_group, 10);
        assert_eq!(retiree.phrases[0].in_rest, 0);
        assert!(retiree.phrases[0].z > 1.96);
        let student = r.groups.iter().find(|g| g.group == "student").unwrap();
        assert!(student.phrases.iter().all(|d| d.term != "slow"));
    }

    #[test]
    fn a_distinctive_term_needs_the_minimum_count_and_names_and_fillers_never_are() {
        let mut notes = Vec::new();
        for i in 0..12 {
            notes.push(note(
                &format!("r{i}"),
                "s1",
                &format!("the print on the shelf label is too small {i} @retiree"),
            ));
            notes.push(note(
                &format!("s{i}"),
                "s2",
                &format!("compared the price in the app {i} @student"),
            ));
        }
        // One retiree talks about Owen twice, literally; a student once.
        notes.push(note(
            "o1",
            "s1",
            "Owen at the desk was literally kind @retiree",
        ));
        notes.push(note(
            "o2",
            "s1",
            "asked Owen again, literally twice @retiree",
        ));
        notes.push(note("o3", "s2", "Owen helped with the app @student"));
        let r = contrast(&notes, ContrastBy::Persona, 20, DEFAULT_MIN_COUNT);
        let retiree = r.groups.iter().find(|g| g.group == "retiree").unwrap();
        let terms: Vec<&str> = retiree.phrases.iter().map(|d| d.term.as_str()).collect();
        assert!(terms.contains(&"print"), "{terms:?}");
        for noise in ["owen", "literally", "twice"] {
            assert!(!terms.contains(&noise), "{noise} in {terms:?}");
        }
        assert!(
            retiree
                .phrases
                .iter()
                .all(|d| d.in_group >= DEFAULT_MIN_COUNT)
        );
        // The minimum is a floor whatever the z: at thirteen, twelve notes are not enough.
        let strict = contrast(&notes, ContrastBy::Persona, 50, 13);
        let retiree = strict.groups.iter().find(|g| g.group == "retiree").unwrap();
        assert!(retiree.phrases.is_empty(), "{retiree:?}");
    }
}
