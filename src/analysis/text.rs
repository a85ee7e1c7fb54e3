//! From a note's text to key phrases: words lowercased and stemmed (`wait`, `waiting` and
//! `waited` are one), stop words dropped, inline tags removed, and phrases of one to three
//! words that stand next to each other in the text.

use std::collections::HashMap;

use frostem::{Algorithm, Stemmer};

use crate::model::token_ranges;

/// A fast map for the phrase tables, which are hit millions of times (rustc-hash's FxHash).
pub(crate) type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// A stemmed phrase of one to three words, as word ids; unused places are 0.
pub(crate) type Gram = [u32; 3];

/// Common English function words, reporting verbs (`said`, `asked`) and vague nouns
/// (`something`, `way`): they carry no theme. A general list (after the Snowball, NLTK and
/// SMART lists), not tuned to any archive.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "ain",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "anything",
    "are",
    "aren",
    "aren't",
    "as",
    "ask",
    "asked",
    "asking",
    "asks",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "bit",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn",
    "couldn't",
    "did",
    "didn",
    "didn't",
    "do",
    "does",
    "doesn",
    "doesn't",
    "doing",
    "don",
    "don't",
    "during",
    "each",
    "else",
    "etc",
    "even",
    "ever",
    "every",
    "everyone",
    "everything",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "got",
    "gotten",
    "had",
    "hadn",
    "hadn't",
    "has",
    "hasn",
    "hasn't",
    "have",
    "haven",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "im",
    "in",
    "into",
    "is",
    "isn",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "let",
    "let's",
    "like",
    "ll",
    "lot",
    "lots",
    "may",
    "maybe",
    "me",
    "might",
    "mightn't",
    "more",
    "most",
    "much",
    "must",
    "mustn",
    "mustn't",
    "my",
    "myself",
    "need",
    "needn't",
    "no",
    "nor",
    "not",
    "nothing",
    "now",
    "of",
    "ok",
    "okay",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "over",
    "own",
    "please",
    "re",
    "really",
    "said",
    "same",
    "say",
    "saying",
    "says",
    "shall",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "should've",
    "shouldn",
    "shouldn't",
    "so",
    "some",
    "someone",
    "something",
    "such",
    "tell",
    "telling",
    "tells",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "thing",
    "things",
    "this",
    "those",
    "though",
    "through",
    "to",
    "told",
    "too",
    "under",
    "until",
    "us",
    "ve",
    "very",
    "was",
    "wasn",
    "wasn't",
    "way",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "were",
    "weren",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "will",
    "with",
    "won",
    "won't",
    "would",
    "wouldn",
    "wouldn't",
    "yes",
    "yet",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Particles that finish a phrasal verb (`top up`, `sign out`, `drop off`): never a phrase
/// alone, but kept as the last word of a two-word phrase.
const PARTICLES: &[&str] = &["up", "down", "out", "off", "back", "away"];

/// A word of a note after normalising: its stem id, or a break (stop word, punctuation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Word(u32),
    Particle(u32),
    Break,
}

/// Turns text into stem ids, remembering every word it has seen (most words recur).
pub(crate) struct Vocabulary {
    stemmer: Stemmer,
    /// More words to treat as breaks: names and fillers the archive's notes hold.
    extra_stops: Option<std::sync::Arc<std::collections::HashSet<String>>>,
    by_word: FxMap<String, Token>,
    stem_ids: FxMap<String, u32>,
    /// Stem text by id; id 0 is unused (it marks an empty place in a `Gram`).
    pub stems: Vec<String>,
    buffer: String,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::new()
    }
}

impl Vocabulary {
    pub fn new() -> Vocabulary {
        Vocabulary {
            stemmer: Stemmer::new(Algorithm::English),
            extra_stops: None,
            by_word: FxMap::default(),
            stem_ids: FxMap::default(),
            stems: vec![String::new()],
            buffer: String::new(),
        }
    }

    /// Takes in what another vocabulary learnt; returns, for each of its stem ids, the id
    /// the same stem has here.
    pub fn absorb(&mut self, mut other: Vocabulary) -> Vec<u32> {
        if self.extra_stops.is_none() {
            self.extra_stops = other.extra_stops.take();
        }
        let mut map = vec![0u32; other.stems.len()];
        for (local, stem) in other.stems.into_iter().enumerate().skip(1) {
            let next = self.stems.len() as u32;
            let id = *self.stem_ids.entry(stem.clone()).or_insert(next);
            if id == next {
                self.stems.push(stem);
            }
            map[local] = id;
        }
        for (word, token) in other.by_word {
            let token = match token {
                Token::Word(id) => Token::Word(map[id as usize]),
                Token::Particle(id) => Token::Particle(map[id as usize]),
                Token::Break => Token::Break,
            };
            self.by_word.entry(word).or_insert(token);
        }
        map
    }

    /// A vocabulary that also breaks at these words (lowercase).
    pub fn with_stops(stops: std::sync::Arc<std::collections::HashSet<String>>) -> Vocabulary {
        Vocabulary {
            extra_stops: Some(stops),
            ..Vocabulary::new()
        }
    }

    /// Every word seen (lowercase) with the stem id it has, for deciding which stems may
    /// name a finding.
    pub fn words(&self) -> impl Iterator<Item = (&str, u32)> {
        self.by_word.iter().filter_map(|(w, t)| match t {
            Token::Word(id) | Token::Particle(id) => Some((w.as_str(), *id)),
            Token::Break => None,
        })
    }

    /// The stem id of a word, if the vocabulary knows it.
    pub fn stem_id(&self, stem: &str) -> Option<u32> {
        self.stem_ids.get(stem).copied()
    }

    fn token(&mut self, word: &str) -> Token {
        if let Some(t) = self.by_word.get(word) {
            return *t;
        }
        let extra = self.extra_stops.as_ref().is_some_and(|s| s.contains(word));
        let token = if STOP_WORDS.binary_search(&word).is_ok() || !useful(word) || extra {
            Token::Break
        } else {
            let stem = self.stemmer.stem(word).into_owned();
            // `upping` stems to `up`: a particle's stem is never a phrase alone either.
            let particle = PARTICLES.contains(&word) || PARTICLES.contains(&stem.as_str());
            let next = self.stems.len() as u32;
            let id = *self.stem_ids.entry(stem.clone()).or_insert(next);
            if id == next {
                self.stems.push(stem);
            }
            if particle {
                Token::Particle(id)
            } else {
                Token::Word(id)
            }
        };
        self.by_word.insert(word.to_owned(), token);
        token
    }

    /// The words of `text` as tokens, inline tags removed, with a break wherever a phrase
    /// cannot run on (stop words, punctuation other than `-` and `'` inside a word).
    pub fn tokens(&mut self, text: &str, out: &mut Vec<Token>) {
        out.clear();
        for_each_word(text, |word, breaks_before| {
            if breaks_before {
                out.push(Token::Break);
            }
            out.push(self.word_token(word));
        });
    }

    /// The token of one word as `for_each_word` yields it: lowercased, `’` as `'`, a
    /// possessive `'s` dropped.
    pub fn word_token(&mut self, word: &str) -> Token {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        if word.is_ascii() {
            // Most words: lowercased in place, with no quote to turn.
            buffer.push_str(word);
            buffer.make_ascii_lowercase();
        } else {
            buffer.extend(word.chars().flat_map(char::to_lowercase).map(|c| match c {
                '’' | '‘' => '\'',
                c => c,
            }));
        }
        let trimmed = buffer
            .strip_suffix("'s")
            .unwrap_or(&buffer)
            .trim_matches('\'');
        let token = self.token(trimmed);
        self.buffer = buffer;
        token
    }

    /// The stem ids of a tag name (`self-checkout` → `self`, `checkout`) as a phrase.
    pub fn tag_gram(&mut self, name: &str) -> Option<Gram> {
        let mut tokens = Vec::new();
        self.tokens(&name.replace('-', " "), &mut tokens);
        let ids: Vec<u32> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Word(id) | Token::Particle(id) => Some(*id),
                Token::Break => None,
            })
            .collect();
        match ids.as_slice() {
            [a] => Some([*a, 0, 0]),
            [a, b] => Some([*a, *b, 0]),
            [a, b, c] => Some([*a, *b, *c]),
            _ => None,
        }
    }

    /// A phrase as its stems, `wait time`.
    pub fn stem_text(&self, gram: &Gram) -> String {
        gram.iter()
            .take_while(|&&id| id != 0)
            .map(|&id| self.stems[id as usize].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether a word can be part of a key phrase: it has a letter, and is not a lone letter.
fn useful(word: &str) -> bool {
    word.chars().any(char::is_alphabetic) && word.chars().count() > 1
}

/// Calls `f(word, breaks_before)` for each word of `text` (tags and measures skipped); `breaks_before`
/// is true when punctuation that ends a phrase stands between it and the previous word.
pub(crate) fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str, bool)) {
    let tokens = token_ranges(text);
    let mut tag_iter = tokens.iter().peekable();
    let mut start: Option<usize> = None;
    let mut pending_break = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(span) = tag_iter.peek()
            && i >= span.start
        {
            if let Some(s) = start.take() {
                f(&text[s..i], pending_break);
            }
            let end = span.end;
            tag_iter.next();
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
            pending_break = true;
            continue;
        }
        let inner = (c == '\'' || c == '’')
            && start.is_some()
            && chars.peek().is_some_and(|&(_, n)| n.is_alphanumeric());
        if c.is_alphanumeric() || inner {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            f(&text[s..i], pending_break);
            pending_break = false;
        }
        if !(c.is_whitespace() || c == '-' || c == '/' || c == '&') {
            pending_break = true;
        }
    }
    if let Some(s) = start {
        f(&text[s..], pending_break);
    }
}

/// Every phrase of one to three words in `tokens` (words next to each other, no break
/// between), deduplicated, into `out`.
pub(crate) fn grams(tokens: &[Token], out: &mut Vec<Gram>) {
    out.clear();
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(a) = *t else { continue };
        out.push([a, 0, 0]);
        match tokens.get(i + 1) {
            Some(Token::Word(b)) => {
                out.push([a, *b, 0]);
                if let Some(Token::Word(c) | Token::Particle(c)) = tokens.get(i + 2) {
                    out.push([a, *b, *c]);
                }
            }
            Some(Token::Particle(b)) => out.push([a, *b, 0]),
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// Counts how often each surface form of each wanted phrase appears, to show a phrase as
/// people write it (`waiting time`, not `wait time`).
pub(crate) fn surface_forms(
    vocab: &mut Vocabulary,
    text: &str,
    wanted: &FxMap<Gram, usize>,
    counts: &mut [HashMap<String, u32>],
) {
    // Words as written: lowercased only when a wanted phrase is found.
    let mut words: Vec<(&str, Token)> = Vec::new();
    for_each_word(text, |word, breaks_before| {
        if breaks_before {
            words.push(("", Token::Break));
        }
        let token = vocab.word_token(word);
        words.push((word, token));
    });
    let id = |t: &Token| match t {
        Token::Word(id) | Token::Particle(id) => Some(*id),
        Token::Break => None,
    };
    for i in 0..words.len() {
        for n in 1..=3 {
            if i + n > words.len() {
                break;
            }
            let mut gram = [0u32; 3];
            let mut ok = true;
            for k in 0..n {
                match id(&words[i + k].1) {
                    Some(w) => gram[k] = w,
                    None => ok = false,
                }
            }
            if !ok {
                break;
            }
            if let Some(&slot) = wanted.get(&gram) {
                let surface = words[i..i + n]
                    .iter()
                    .map(|(w, _)| w.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ");
                *counts[slot].entry(surface).or_default() += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_measures_are_not_words() {
        let mut words = Vec::new();
        for_each_word(
            "Queue long #checkout %ces=2, then %nps=9 (50% off)",
            |w, _| words.push(w.to_owned()),
        );
        assert_eq!(words, ["Queue", "long", "then", "50", "off"]);
    }

    fn stems(text: &str) -> Vec<String> {
        let mut v = Vocabulary::new();
        let mut tokens = Vec::new();
        v.tokens(text, &mut tokens);
        let mut g = Vec::new();
        grams(&tokens, &mut g);
        let mut out: Vec<String> = g.iter().map(|g| v.stem_text(g)).collect();
        out.sort();
        out
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort();
        assert_eq!(sorted, STOP_WORDS);
    }

    #[test]
    fn stems_group_word_forms_and_tags_are_not_words() {
        assert_eq!(stems("Waited"), stems("waiting"));
        assert_eq!(stems("wait #checkout !frustrated"), vec!["wait"]);
    }

    #[test]
    fn phrases_do_not_cross_stop_words_or_punctuation() {
        assert_eq!(
            stems("long queue, staff on phones"),
            vec!["long", "long queue", "phone", "queue", "staff"]
        );
        assert_eq!(stems("top up my card"), vec!["card", "top", "top up"]);
        assert_eq!(
            stems("self-checkout kept rejecting"),
            vec![
                "checkout",
                "checkout kept",
                "checkout kept reject",
                "kept",
                "kept reject",
                "reject",
                "self",
                "self checkout",
                "self checkout kept"
            ]
        );
    }

    #[test]
    fn vocabularies_learnt_apart_merge_into_one() {
        let (mut a, mut b) = (Vocabulary::new(), Vocabulary::new());
        let mut tokens = Vec::new();
        a.tokens("waiting at the till", &mut tokens);
        b.tokens("the till queue, waited", &mut tokens);
        let local: Vec<u32> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Word(id) => Some(*id),
                _ => None,
            })
            .collect();
        let map = a.absorb(b);
        let merged: Vec<&str> = local
            .iter()
            .map(|&id| a.stems[map[id as usize] as usize].as_str())
            .collect();
        assert_eq!(merged, ["till", "queue", "wait"]);
        assert_eq!(a.stem_id("till"), Some(map[local[0] as usize]));
        assert_eq!(
            a.stems.len(),
            4,
            "wait, till, queue and the unused 0: {:?}",
            a.stems
        );
        let mut again = Vec::new();
        a.tokens("waited", &mut again);
        assert_eq!(again, [Token::Word(a.stem_id("wait").unwrap())]);
    }

    #[test]
    fn tag_names_become_phrases() {
        let mut v = Vocabulary::new();
        let g = v.tag_gram("self-checkout").unwrap();
        assert_eq!(v.stem_text(&g), "self checkout");
    }
}
