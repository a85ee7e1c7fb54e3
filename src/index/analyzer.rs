//! The body's analyser: tantivy's English one (split on non-alphanumerics, drop tokens over 40
//! bytes, lowercase, Snowball English stem), with the stems remembered. Field notes repeat a
//! small vocabulary (Zipf), so most words are stemmed once per segment instead of every time;
//! stemming was a third of indexing time.
//!
//! Beside it, the common-pairs analyser: each two adjacent words that are both among the most
//! common English words (`of the`, `it was`) as one token. A phrase of such words would make
//! the phrase query check positions in nearly every note; with the pair as a required term, it
//! checks only the notes that have the pair.

use std::sync::{Arc, OnceLock};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tantivy::tokenizer::BoxTokenStream;
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};

/// The name the body field's schema gives its tokenizer. The analysis is tantivy's `en_stem`
/// token for token, so indexes written before the cache keep working under the same name.
pub const BODY_TOKENIZER: &str = "en_stem";

/// Enough for a large vocabulary of field-note words; past it the cache starts again, so rare
/// words (names, typos) cannot grow it without bound.
const MAX_CACHED: usize = 50_000;

/// The tokenizer of the field that holds common-word pairs.
pub const PAIRS_TOKENIZER: &str = "fieldnotes_common_pairs";

/// English words so frequent that a phrase made only of them matches most notes. Changing the
/// list changes what the index holds: bump the index format with it.
const COMMON_WORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "for", "from", "had", "has", "have", "he", "her", "him", "his", "i", "if", "in",
    "is", "it", "its", "just", "me", "my", "no", "not", "of", "on", "one", "or", "our", "out",
    "she", "so", "that", "the", "their", "them", "then", "there", "they", "this", "to", "up",
    "very", "was", "we", "were", "what", "when", "which", "who", "will", "with", "would", "you",
    "your",
];

/// The body's analysis, noting the common words it finds for the pairs field (see
/// [`LastBody`]).
pub fn body_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StemAndRemember)
        .build()
}

/// The same analysis without noting anything: what the pairs analyser reads when the body's
/// analysis of the same text is not at hand.
fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(CachedEnglishStemmer)
        .build()
}

pub fn pairs_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(CommonPairs {
        words: words_analyzer(),
        common: common_stems(),
    })
}

/// The common words as the body's analysis leaves them, so pairs match exactly when the
/// stemmed phrase does.
fn common_stems() -> Arc<HashSet<String>> {
    static STEMS: OnceLock<Arc<HashSet<String>>> = OnceLock::new();
    STEMS
        .get_or_init(|| {
            let mut analyzer = words_analyzer();
            let mut stems = HashSet::default();
            for word in COMMON_WORDS {
                let mut stream = analyzer.token_stream(word);
                while stream.advance() {
                    stems.insert(stream.token().text.clone());
                }
            }
            Arc::new(stems)
        })
        .clone()
}

/// The last body text analysed on this thread, with its common words: a note's pairs field
/// is indexed right after its body, on the same indexing thread, and is made from these
/// instead of analysing the text a second time (that second pass was a sixth of indexing).
#[derive(Default)]
struct LastBody {
    text: String,
    /// Every token of `text` went by: a reader that stops early leaves the list partial.
    complete: bool,
    /// The common words' stems, one after another; `common` indexes into it.
    stems: String,
    /// Each common word: its stem's range in `stems`, its position and its byte offsets.
    common: Vec<(std::ops::Range<usize>, usize, usize, usize)>,
    /// Counts the analyses begun on this thread: a stream ending after another one began
    /// (two read side by side) must not leave its words beside the other one's text.
    generation: u64,
}

thread_local! {
    static LAST_BODY: std::cell::RefCell<LastBody> = std::cell::RefCell::new(LastBody::default());
}

/// The pairs of `text` from the body's analysis of it on this thread, when that is at hand.
fn remembered_pairs(text: &str) -> Option<Vec<Token>> {
    LAST_BODY.with(|last| {
        let last = last.borrow();
        if !last.complete || last.text != text {
            return None;
        }
        // Two common words in a row (adjacent positions: any other word, or one too long to
        // index, keeps its position between them) make a pair, as `PairStream` finds them.
        Some(
            last.common
                .windows(2)
                .filter(|w| w[0].1 + 1 == w[1].1)
                .map(|w| {
                    let mut text = String::with_capacity(w[0].0.len() + 1 + w[1].0.len());
                    text.push_str(&last.stems[w[0].0.clone()]);
                    text.push(' ');
                    text.push_str(&last.stems[w[1].0.clone()]);
                    Token {
                        offset_from: w[0].2,
                        offset_to: w[1].3,
                        position: w[0].1,
                        text,
                        position_length: 1,
                    }
                })
                .collect(),
        )
    })
}

/// Emits `first second` for each two adjacent body words that are both common.
#[derive(Clone)]
pub struct CommonPairs {
    words: TextAnalyzer,
    common: Arc<HashSet<String>>,
}

impl Tokenizer for CommonPairs {
    type TokenStream<'a> = PairStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream<'a> {
        match remembered_pairs(text) {
            Some(pairs) => PairStream {
                words: None,
                remembered: pairs.into_iter(),
                common: &self.common,
                previous: None,
                token: Token::default(),
            },
            None => PairStream {
                words: Some(self.words.token_stream(text)),
                remembered: Vec::new().into_iter(),
                common: &self.common,
                previous: None,
                token: Token::default(),
            },
        }
    }
}

pub struct PairStream<'a> {
    /// The words of the text, when its pairs are not remembered from the body's analysis.
    words: Option<BoxTokenStream<'a>>,
    remembered: std::vec::IntoIter<Token>,
    common: &'a HashSet<String>,
    /// The last word, when it was common: (stem, position, start offset).
    previous: Option<(String, usize, usize)>,
    token: Token,
}

impl TokenStream for PairStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(words) = self.words.as_mut() else {
            return match self.remembered.next() {
                Some(token) => {
                    self.token = token;
                    true
                }
                None => false,
            };
        };
        while words.advance() {
            let word = words.token();
            if !self.common.contains(&word.text) {
                self.previous = None;
                continue;
            }
            let current = (word.text.clone(), word.position, word.offset_from);
            let offset_to = word.offset_to;
            if let Some((first, position, offset_from)) = self.previous.replace(current)
                && position + 1 == word.position
            {
                self.token.text.clear();
                self.token.text.push_str(&first);
                self.token.text.push(' ');
                self.token.text.push_str(&word.text);
                self.token.position = position;
                self.token.offset_from = offset_from;
                self.token.offset_to = offset_to;
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// A stemming filter that remembers the stems it has computed.
#[derive(Clone, Copy, Default)]
pub struct CachedEnglishStemmer;

impl TokenFilter for CachedEnglishStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemFilter<T> {
        CachedStemFilter {
            inner,
            stems: StemCache::default(),
            common: None,
        }
    }
}

/// The same, noting the common words among the stems as they stream by, for the pairs field
/// (see [`LastBody`]): whether a word is common is kept beside its stem in the cache, and the
/// thread's note of them is written once a text is done, not at every token.
#[derive(Clone, Copy, Default)]
pub struct StemAndRemember;

impl TokenFilter for StemAndRemember {
    type Tokenizer<T: Tokenizer> = CachedStemFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemFilter<T> {
        CachedStemFilter {
            inner,
            stems: StemCache::default(),
            common: Some(common_stems()),
        }
    }
}

pub struct CachedStemFilter<T> {
    inner: T,
    stems: StemCache,
    /// The common words' stems, when the stream notes them.
    common: Option<Arc<HashSet<String>>>,
}

impl<T: Clone> Clone for CachedStemFilter<T> {
    // Each clone (an indexing thread's segment, a query) starts with an empty cache: copying
    // a warm one would cost more than it saves.
    fn clone(&self) -> Self {
        CachedStemFilter {
            inner: self.inner.clone(),
            stems: StemCache::default(),
            common: self.common.clone(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemFilter<T> {
    type TokenStream<'a> = CachedStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let noted = self.common.as_ref().map(|_| {
            LAST_BODY.with(|last| {
                let mut last = last.borrow_mut();
                last.text.clear();
                last.text.push_str(text);
                last.complete = false;
                last.generation += 1;
                // Its buffers, to fill and hand back when every token has gone by.
                let mut noted = Noted {
                    stems: std::mem::take(&mut last.stems),
                    common: std::mem::take(&mut last.common),
                    generation: last.generation,
                };
                noted.stems.clear();
                noted.common.clear();
                noted
            })
        });
        CachedStemStream {
            tail: self.inner.token_stream(text),
            stems: &mut self.stems,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
            common: self.common.as_deref(),
            noted,
        }
    }
}

/// The common words of the text being analysed, as [`LastBody`] keeps them.
struct Noted {
    stems: String,
    common: Vec<(std::ops::Range<usize>, usize, usize, usize)>,
    generation: u64,
}

/// Words up to this many bytes are cached; longer ones (names, compounds) are stemmed each
/// time.
const INLINE: usize = 24;

/// A word held in the cache's table itself, zero-padded (a token holds no zero byte): a
/// lookup hashes and compares three numbers instead of following a pointer to the word's
/// bytes (the cache lookup was a tenth of indexing CPU).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Word([u64; INLINE / 8]);

impl Word {
    fn of(text: &str) -> Option<Word> {
        if text.len() > INLINE {
            return None;
        }
        let mut bytes = [0u8; INLINE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        let mut words = [0u64; INLINE / 8];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        }
        Some(Word(words))
    }
}

/// Each cached word's stem: where it is in the cache's one string of stems.
#[derive(Clone, Copy)]
struct Stem {
    start: u32,
    len: u32,
    /// The stem is one of the common words (only for a stream that notes them).
    common: bool,
}

/// The stems computed so far, up to `MAX_CACHED` words; then it starts again.
#[derive(Default)]
struct StemCache {
    words: HashMap<Word, Stem>,
    stems: String,
}

impl StemCache {
    fn get(&self, word: &Word) -> Option<(&str, bool)> {
        let stem = self.words.get(word)?;
        let start = stem.start as usize;
        Some((&self.stems[start..start + stem.len as usize], stem.common))
    }

    fn insert(&mut self, word: Word, stem: &str, common: bool) {
        if self.words.len() >= MAX_CACHED {
            self.words.clear();
            self.stems.clear();
        }
        let start = self.stems.len() as u32;
        self.stems.push_str(stem);
        self.words.insert(
            word,
            Stem {
                start,
                len: stem.len() as u32,
                common,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.words.len()
    }

    #[cfg(test)]
    fn contains(&self, word: &str) -> bool {
        Word::of(word).is_some_and(|w| self.words.contains_key(&w))
    }
}

pub struct CachedStemStream<'a, S> {
    tail: S,
    stems: &'a mut StemCache,
    stemmer: frostem::Stemmer,
    common: Option<&'a HashSet<String>>,
    /// The common words so far, when this stream notes them.
    noted: Option<Noted>,
}

impl<S: TokenStream> TokenStream for CachedStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            if let Some(noted) = self.noted.take() {
                LAST_BODY.with(|last| {
                    let mut last = last.borrow_mut();
                    if last.generation == noted.generation {
                        last.stems = noted.stems;
                        last.common = noted.common;
                        last.complete = true;
                    }
                });
            }
            return false;
        }
        let token = self.tail.token_mut();
        let common = match Word::of(&token.text) {
            None => {
                token.text = self.stemmer.stem(&token.text).into_owned();
                self.common.is_some_and(|c| c.contains(&token.text))
            }
            Some(word) => match self.stems.get(&word) {
                Some((stem, common)) => {
                    token.text.clear();
                    token.text.push_str(stem);
                    common
                }
                None => {
                    let stem = self.stemmer.stem(&token.text).into_owned();
                    let common = self.common.is_some_and(|c| c.contains(&stem));
                    self.stems.insert(word, &stem, common);
                    token.text = stem;
                    common
                }
            },
        };
        if common && let Some(noted) = self.noted.as_mut() {
            let start = noted.stems.len();
            noted.stems.push_str(&token.text);
            noted.common.push((
                start..noted.stems.len(),
                token.position,
                token.offset_from,
                token.offset_to,
            ));
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    #[test]
    fn the_cache_changes_nothing_the_analysis_gives() {
        let mut plain = tantivy::tokenizer::TokenizerManager::default()
            .get("en_stem")
            .expect("tantivy has en_stem");
        let mut cached = body_analyzer();
        let text = "Running runners ran; the RUNNING queue was queueing, queued. Öffnungszeiten \
                    café's opening hours — a supercalifragilisticexpialidociousnessandthensome word";
        // Twice, so the second pass reads every stem from the cache.
        for _ in 0..2 {
            assert_eq!(tokens(&mut cached, text), tokens(&mut plain, text));
        }
    }

    #[test]
    fn words_at_the_cache_s_length_limit_stem_as_tantivy_stems_them() {
        let mut plain = tantivy::tokenizer::TokenizerManager::default()
            .get("en_stem")
            .expect("tantivy has en_stem");
        let mut cached = body_analyzer();
        // Words of 1 to 30 bytes around the 24 held in the table, ending in English suffixes
        // and in letters of two and three bytes that straddle the limit.
        let mut text = String::new();
        for len in 1..=30 {
            for end in ["ing", "ies", "ed", "s", "é", "ö", "ß", "€x", "ning", "Ω"] {
                let stem: String = "abcdefghijklmnopqrstuvwxyz"
                    .chars()
                    .cycle()
                    .take(len)
                    .collect();
                text.push_str(&stem);
                text.push_str(end);
                text.push(' ');
                text.push_str(&stem.to_uppercase());
                text.push_str(end);
                text.push_str(", ");
            }
        }
        for _ in 0..2 {
            assert_eq!(tokens(&mut cached, &text), tokens(&mut plain, &text));
        }
    }

    #[test]
    fn pairs_are_adjacent_common_words_only() {
        let mut pairs = pairs_analyzer();
        let found: Vec<String> = tokens(
            &mut pairs,
            "It was the queue that she hated: of the, THE AND, a supercalifragilisticexpialidociousnessandthensome the",
        )
        .into_iter()
        .map(|t| t.0)
        .collect();
        // Punctuation does not part words (a phrase ignores it too); a word too long to index
        // does, as it keeps its position.
        assert_eq!(
            found,
            [
                "it was", "was the", "that she", "of the", "the the", "the and", "and a"
            ]
        );
    }

    #[test]
    fn pairs_remembered_from_the_body_are_the_pairs_found_afresh() {
        let texts = [
            "It was the queue that she hated: of the, THE AND, a supercalifragilisticexpialidociousnessandthensome the",
            "we were in the store and it was so busy that they had to wait",
            "Of the staff, one was there; it is what it is. #checkout @busy-parent",
            "",
        ];
        let mut body = body_analyzer();
        let mut pairs = pairs_analyzer();
        for text in texts {
            // Afresh: the body's last analysis is of another text.
            tokens(&mut body, "something else entirely");
            let fresh = tokens(&mut pairs, text);
            // Remembered: the body's analysis of this text just ran, as indexing runs it.
            tokens(&mut body, text);
            assert!(remembered_pairs(text).is_some(), "{text}");
            assert_eq!(tokens(&mut pairs, text), fresh, "{text}");
        }
        // A body analysis read only in part is not used.
        let mut stream = body.token_stream(texts[1]);
        stream.advance();
        drop(stream);
        assert!(remembered_pairs(texts[1]).is_none());
    }

    #[test]
    fn two_body_analyses_read_side_by_side_leave_no_wrong_pairs() {
        let (mut a, mut b, mut pairs) = (body_analyzer(), body_analyzer(), pairs_analyzer());
        let (first, second) = ("of the queue it was", "she is in the store");
        tokens(&mut a, "something else entirely");
        let fresh = tokens(&mut pairs, second);
        let mut one = a.token_stream(first);
        let mut two = b.token_stream(second);
        while two.advance() {}
        while one.advance() {}
        drop(one);
        drop(two);
        assert_eq!(tokens(&mut pairs, second), fresh);
    }

    #[test]
    fn a_full_cache_starts_again_and_still_stems() {
        let mut filter = CachedEnglishStemmer.transform(SimpleTokenizer::default());
        let words: String = (0..MAX_CACHED + 10)
            .map(|i| format!("walking{i} walking "))
            .collect();
        let mut stream = filter.token_stream(&words);
        let mut stems = Vec::new();
        while stream.advance() {
            stems.push(stream.token().text.clone());
        }
        assert_eq!(stems.len(), 2 * (MAX_CACHED + 10));
        assert!(stems.iter().skip(1).step_by(2).all(|s| s == "walk"));
        assert_eq!(stems[0], "walking0");
        // Emptied when it reached the limit, then refilled with what followed.
        assert!(filter.stems.len() < 100, "{}", filter.stems.len());
        assert!(filter.stems.contains("walking"));
    }
}
