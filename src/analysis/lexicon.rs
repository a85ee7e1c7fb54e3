//! Which words may name a finding. General-English resources only — the ISO stop-word list
//! (the `stop-words` crate), fillers and discourse words, number words, common first names
//! (1990 US Census) — plus what the archive itself shows: its participants, the words its
//! notes capitalise mid-sentence far more often than not (names), and the line prefixes its
//! researchers use as a convention (`Memo:`, `Day 4.`). Nothing here is tuned to a domain.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::AnalysisNote;

/// Fillers, hedges, discourse markers and vague words: how people talk, not what about.
const FILLERS: &[&str] = &[
    "absolutely",
    "actually",
    "ah",
    "alright",
    "anyhow",
    "anyway",
    "anyways",
    "apparently",
    "basically",
    "bit",
    "certainly",
    "clearly",
    "definitely",
    "eh",
    "er",
    "erm",
    "essentially",
    "etc",
    "everybody",
    "everyone",
    "everything",
    "exactly",
    "fine",
    "frankly",
    "generally",
    "genuinely",
    "gonna",
    "gosh",
    "gotta",
    "guess",
    "guy",
    "guys",
    "hello",
    "hey",
    "hi",
    "hm",
    "hmm",
    "honestly",
    "huh",
    "kinda",
    "like",
    "literally",
    "lot",
    "lots",
    "maybe",
    "mean",
    "mhm",
    "mm",
    "nope",
    "obviously",
    "oh",
    "ok",
    "okay",
    "people",
    "perhaps",
    "person",
    "personally",
    "pretty",
    "probably",
    "quite",
    "rather",
    "really",
    "right",
    "seriously",
    "simply",
    "so",
    "somebody",
    "someone",
    "something",
    "sort",
    "sorta",
    "stuff",
    "sure",
    "thing",
    "things",
    "totally",
    "truly",
    "typically",
    "uh",
    "um",
    "umm",
    "usually",
    "wanna",
    "well",
    "whatever",
    "wow",
    "ya",
    "yeah",
    "yep",
    "yes",
    "yup",
];

/// Number words: counts and ranks are details of a finding, never its name.
const NUMBER_WORDS: &[&str] = &[
    "billion",
    "dozen",
    "dozens",
    "eight",
    "eighteen",
    "eighth",
    "eighty",
    "eleven",
    "fifteen",
    "fifth",
    "fifty",
    "first",
    "five",
    "forty",
    "four",
    "fourteen",
    "fourth",
    "half",
    "hundred",
    "hundreds",
    "million",
    "millions",
    "nine",
    "nineteen",
    "ninety",
    "ninth",
    "once",
    "one",
    "second",
    "seven",
    "seventeen",
    "seventh",
    "seventy",
    "six",
    "sixteen",
    "sixth",
    "sixty",
    "ten",
    "tenth",
    "third",
    "thirteen",
    "thirty",
    "thousand",
    "thousands",
    "three",
    "twelve",
    "twenty",
    "twice",
    "two",
    "zero",
];

static FIRST_NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("first_names.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

static ISO_STOP: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| stop_words::get("en").iter().copied().collect());

/// A general word no label should be made of (lowercase): a stop word of the ISO list, a
/// filler or discourse word, or a number word (digits included).
pub fn is_general(word: &str) -> bool {
    ISO_STOP.contains(word)
        || FILLERS.binary_search(&word).is_ok()
        || NUMBER_WORDS.binary_search(&word).is_ok()
        || word.chars().any(|c| c.is_ascii_digit())
}

/// A filler, discourse or number word: noise in the notes' words themselves, left out of
/// the phrases themes are found by (stop words of the ISO list stay: they help group).
pub fn is_noise(word: &str) -> bool {
    FILLERS.binary_search(&word).is_ok() || NUMBER_WORDS.binary_search(&word).is_ok()
}

/// What the archive says about its own words: names, and conventions of the researchers.
#[derive(Debug, Default, Clone)]
pub struct ArchiveWords {
    /// Lowercase words that are people's names here.
    pub names: HashSet<String>,
    /// Line prefixes used as a convention (`memo:`, `day #.`), normalised: lowercase, digits
    /// as `#`.
    pub prefixes: HashSet<String>,
}

impl ArchiveWords {
    /// How many notes (an even sample) are enough to learn an archive's names and conventions.
    pub const SAMPLE: usize = 20_000;

    /// Reads names and conventions from the notes (an even sample of at most `sample`).
    pub fn learn(notes: &[&AnalysisNote], sample: usize) -> ArchiveWords {
        let picked: Vec<&AnalysisNote> = super::even_sample(notes, sample).copied().collect();
        let mut names: HashSet<String> = HashSet::new();
        for n in &picked {
            for p in n.participants.iter().chain(n.speaker.iter()) {
                for w in p.split(|c: char| !c.is_alphanumeric()) {
                    if w.chars().count() > 1 && !w.chars().all(|c| c.is_ascii_digit()) {
                        names.insert(w.to_lowercase());
                    }
                }
            }
        }
        // (capitalised where a sentence does not start, lowercase anywhere, capitalised at
        // a sentence's start)
        let mut seen: HashMap<String, (u32, u32, u32)> = HashMap::new();
        let mut prefix_count: HashMap<String, u32> = HashMap::new();
        for n in &picked {
            let body = n.body.as_str();
            if let Some((_, p)) = prefix_span(body) {
                *prefix_count.entry(p).or_default() += 1;
            }
            each_word_with_position(body, |word, sentence_start| {
                let first = word.chars().next().unwrap_or(' ');
                // `Marlow's` is Marlow, as the phrases read it.
                let word = word
                    .strip_suffix("'s")
                    .or_else(|| word.strip_suffix("’s"))
                    .unwrap_or(word);
                let lower = word.to_lowercase();
                let e = seen.entry(lower).or_default();
                if first.is_uppercase() {
                    if sentence_start {
                        e.2 += 1;
                    } else {
                        e.0 += 1;
                    }
                } else {
                    e.1 += 1;
                }
            });
        }
        for (word, (cap_mid, lower, cap_start)) in seen {
            // Far more often capitalised than not, where a sentence does not start.
            let by_case = cap_mid >= 2 && cap_mid >= 4 * lower;
            let listed =
                FIRST_NAMES.contains(word.as_str()) && lower == 0 && cap_mid + cap_start >= 1;
            // Never written in lower case, capitalised three times or more and at least once
            // where no sentence starts: `Priya on the tills…`, `Priya once…`, `(Priya, Tomasz)`.
            // A word that only ever opens notes (`Loyalty points missing…`) is no name.
            let never_lower = lower == 0 && cap_mid >= 1 && cap_mid + cap_start >= 3;
            if (by_case || listed || never_lower) && !ISO_STOP.contains(word.as_str()) {
                names.insert(word);
            }
        }
        // A convention starts at least three notes and one in fifty.
        let min = (picked.len() as u32 / 50).max(3);
        let prefixes = prefix_count
            .into_iter()
            .filter(|&(_, c)| c >= min)
            .map(|(p, _)| p)
            .collect();
        ArchiveWords { names, prefixes }
    }

    /// Words left out of the phrases themes are found by: names, fillers, number words.
    pub fn feature_stops(&self) -> HashSet<String> {
        let mut stops: HashSet<String> = self.names.clone();
        stops.extend(FILLERS.iter().chain(NUMBER_WORDS).map(|w| (*w).to_owned()));
        stops
    }

    /// How many bytes of `body` its convention prefix takes (0 when it has none).
    pub fn prefix_len(&self, body: &str) -> usize {
        if self.prefixes.is_empty() {
            return 0;
        }
        match prefix_span(body) {
            Some((end, normalised)) if self.prefixes.contains(&normalised) => end,
            _ => 0,
        }
    }
}

/// The convention-like prefix of a note — one to three words then `:` (`Memo:`, `Note to
/// self:`), or words with a number then `.` (`Day 4.`) — as (bytes it takes, its normalised
/// form: lowercase, a number as `#`).
fn prefix_span(body: &str) -> Option<(usize, String)> {
    let trimmed = body.trim_start();
    let lead = body.len() - trimmed.len();
    let head: String = trimmed.chars().take(32).collect();
    let end = head.find([':', '.'])?;
    let (before, mark) = (&head[..end], &head[end..end + 1]);
    let words: Vec<&str> = before.split_whitespace().collect();
    if words.is_empty() || words.len() > 3 || before.trim() != before {
        return None;
    }
    if !words.iter().all(|w| {
        w.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '\'')
    }) {
        return None;
    }
    // A sentence that happens to be short ("Too slow.") is no convention: `.` needs a number.
    let has_digit = before.chars().any(|c| c.is_ascii_digit());
    if mark == "." && !has_digit {
        return None;
    }
    // Something must follow it on the note.
    let rest = &trimmed[end + 1..];
    if rest.trim().is_empty() || !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let normalised: String = format!("{before}{mark}")
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect::<String>();
    // Digits in a row are one number.
    let mut squeezed = String::new();
    for c in normalised.chars() {
        if !(c == '#' && squeezed.ends_with('#')) {
            squeezed.push(c);
        }
    }
    Some((lead + end + 1, squeezed))
}

/// Each word of `text` with whether a sentence starts at it (the text's start, or after
/// `.`, `!`, `?`, `:`, a quote mark or a line break).
fn each_word_with_position(text: &str, mut f: impl FnMut(&str, bool)) {
    let mut sentence_start = true;
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() || (start.is_some() && (c == '\'' || c == '’' || c == '-')) {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            f(&text[s..i], sentence_start);
            sentence_start = false;
        }
        if matches!(
            c,
            '.' | '!' | '?' | ':' | '\n' | '"' | '“' | '”' | '—' | '–'
        ) {
            sentence_start = true;
        }
        // A tag's name is the researcher's, not the speaker's.
        if matches!(c, '@' | '#' | '!' | '+' | '=') {
            sentence_start = true;
        }
    }
    if let Some(s) = start {
        f(&text[s..], sentence_start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::note;

    #[test]
    fn the_lists_are_sorted_for_binary_search() {
        for list in [FILLERS, NUMBER_WORDS] {
            let mut sorted = list.to_vec();
            sorted.sort();
            assert_eq!(sorted, list);
        }
        assert!(is_general("honestly") && is_general("six") && is_general("know"));
        assert!(!is_general("queue") && !is_general("checkout"));
    }

    #[test]
    fn names_and_conventions_come_from_the_archive() {
        let bodies = [
            "Memo: Priya said the queue at the till was long",
            "Memo: ask Priya about the app",
            "Memo: the lockers were full again",
            "Kwame waited at the collection point",
            "Then Kwame asked for help at the desk",
            "Day 4. The lockers were full",
            "Day 5. Same again, Kwame shrugged",
            "Day 12. Lockers fixed",
            "Bill paid the bill at the desk",
            "The bill was wrong, said Ana",
            "She asked about the bill twice",
            "Too slow. Nobody came",
            "We asked Priya again",
        ];
        let notes: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| note(&format!("n{i:02}"), "s1", b))
            .collect();
        let refs: Vec<&AnalysisNote> = notes.iter().collect();
        let words = ArchiveWords::learn(&refs, 1000);
        assert!(words.names.contains("priya"), "{:?}", words.names);
        assert!(words.names.contains("kwame"), "{:?}", words.names);
        assert!(!words.names.contains("bill"), "bill is mostly a word here");
        assert!(!words.names.contains("lockers"));
        assert!(words.prefixes.contains("memo:"), "{:?}", words.prefixes);
        assert!(words.prefixes.contains("day #."), "{:?}", words.prefixes);
        assert_eq!(words.prefixes.len(), 2, "{:?}", words.prefixes);
        assert_eq!(words.prefix_len("Memo: the lockers"), 5);
        assert_eq!(words.prefix_len("Day 12. Lockers"), 7);
        assert_eq!(words.prefix_len("The lockers"), 0);
    }
}
