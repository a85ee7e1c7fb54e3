//! The body's analyser: tantivy's English one (split on non-alphanumerics, drop tokens over 40
//! bytes, lowercase, Snowball English stem), with the stems remembered. Field notes repeat a
//! small vocabulary (Zipf), so most words are stemmed once per segment instead of every time;
//! stemming was a third of indexing time.

use rustc_hash::FxHashMap as HashMap;
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

pub fn body_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(CachedEnglishStemmer)
        .build()
}

/// A stemming filter that remembers the stems it has computed.
#[derive(Clone, Copy, Default)]
pub struct CachedEnglishStemmer;

impl TokenFilter for CachedEnglishStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemFilter<T> {
        CachedStemFilter {
            inner,
            stems: HashMap::default(),
        }
    }
}

pub struct CachedStemFilter<T> {
    inner: T,
    stems: HashMap<String, String>,
}

impl<T: Clone> Clone for CachedStemFilter<T> {
    // Each clone (an indexing thread's segment, a query) starts with an empty cache: copying
    // a warm one would cost more than it saves.
    fn clone(&self) -> Self {
        CachedStemFilter {
            inner: self.inner.clone(),
            stems: HashMap::default(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemFilter<T> {
    type TokenStream<'a> = CachedStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemStream {
            tail: self.inner.token_stream(text),
            stems: &mut self.stems,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

pub struct CachedStemStream<'a, S> {
    tail: S,
    stems: &'a mut HashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<S: TokenStream> TokenStream for CachedStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match self.stems.get(&token.text) {
            Some(stem) => {
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                if self.stems.len() >= MAX_CACHED {
                    self.stems.clear();
                }
                let word = std::mem::replace(&mut token.text, stem.clone());
                self.stems.insert(word, stem);
            }
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
        assert!(filter.stems.contains_key("walking"));
    }
}
