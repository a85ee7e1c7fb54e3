//! Phrase search, held against a plain scan: the index answers phrases of common words through
//! an extra field of word pairs, and must find exactly the notes a scan of the stemmed words
//! finds, no more and no fewer.

use std::collections::BTreeSet;

use fieldnotes::Archive;
use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::query::Filters;
use fieldnotes::store::{NewNote, NewSession};
use tantivy::tokenizer::TokenizerManager;

const WORDS: &[&str] = &[
    "the",
    "The",
    "of",
    "was",
    "it",
    "It's",
    "and",
    "a",
    "to",
    "she",
    "her",
    "queue",
    "queues",
    "queued",
    "till",
    "staff",
    "waited",
    "waiting",
    "thes",
    "doing",
    "does",
    "did",
    "is",
    "as",
    "wasn't",
    "e-mail",
    "card",
    "supercalifragilisticexpialidociousnessandthensome",
];
/// Words the analysis makes the same: a phrase written one way must find the other.
const SIBLINGS: &[(&str, &str)] = &[
    ("its", "it"),
    ("doing", "do"),
    ("being", "be"),
    ("The", "the"),
    ("queues", "queue"),
    ("waiting", "waited"),
];
const GLUE: &[&str] = &[" ", " ", " ", " ", ", ", ". ", " — ", "; "];

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn stems(text: &str) -> Vec<(usize, String)> {
    let mut analyzer = TokenizerManager::default().get("en_stem").unwrap();
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push((stream.token().position, stream.token().text.clone()));
    }
    out
}

/// Whether `phrase`'s stems occur in `body` at the same relative positions.
fn scan_matches(body: &str, phrase: &str) -> bool {
    let body = stems(body);
    let phrase = stems(phrase);
    let Some((p0, _)) = phrase.first() else {
        return false;
    };
    body.iter().any(|(start, _)| {
        phrase.iter().all(|(p, word)| {
            body.iter()
                .any(|(q, w)| *q == start + (p - p0) && w == word)
        })
    })
}

#[test]
fn phrases_find_exactly_what_a_scan_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(&tmp.path().join("a")).unwrap();
    let session = archive
        .start_session(&NewSession::new("Phrases", SessionKind::Observation), None)
        .unwrap();
    let mut rng = Lcg(7);
    let mut bodies = Vec::new();
    let mut written: Vec<Vec<&str>> = Vec::new();
    for _ in 0..400 {
        let mut body = String::new();
        let mut words = Vec::new();
        for i in 0..(3 + rng.below(14)) {
            if i > 0 {
                body.push_str(GLUE[rng.below(GLUE.len())]);
            }
            let word = WORDS[rng.below(WORDS.len())];
            body.push_str(word);
            words.push(word);
        }
        written.push(words);
        let note = archive
            .add_note(&NewNote {
                session: session.id.clone(),
                kind: NoteKind::Observation,
                body: body.clone(),
                extra_tags: vec![],
                clears_draft: false,
            })
            .unwrap();
        bodies.push((note.id, body));
    }

    let mut checked = 0;
    for round in 0..300 {
        let len = 2 + round % 3;
        let phrase: Vec<&str> = if round % 2 == 0 {
            (0..len).map(|_| WORDS[rng.below(WORDS.len())]).collect()
        } else {
            // Words a note has, some written as their siblings.
            let words = &written[rng.below(written.len())];
            let start = rng.below(words.len().saturating_sub(len) + 1);
            words[start..(start + len).min(words.len())]
                .iter()
                .map(|w| {
                    SIBLINGS
                        .iter()
                        .find_map(|(a, b)| {
                            (rng.below(2) == 0).then_some(()).and_then(|()| {
                                if w == a {
                                    Some(*b)
                                } else if w == b {
                                    Some(*a)
                                } else {
                                    None
                                }
                            })
                        })
                        .unwrap_or(w)
                })
                .collect()
        };
        let phrase = phrase.join(" ");
        let expected: BTreeSet<&str> = bodies
            .iter()
            .filter(|(_, body)| scan_matches(body, &phrase))
            .map(|(id, _)| id.as_str())
            .collect();
        let found = archive
            .search(&format!("\"{phrase}\""), &Filters::default(), 1000)
            .unwrap();
        let found_ids: BTreeSet<&str> = found.hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(found_ids, expected, "phrase {phrase:?}");
        assert_eq!(found.total, expected.len(), "phrase {phrase:?}");
        checked += usize::from(!expected.is_empty());
    }
    // The phrases must not all have missed: the comparison would then prove nothing.
    assert!(checked > 60, "only {checked} phrases matched anything");

    // A phrase of two common words is answered from its pair, and still marks its words.
    let found = archive
        .search("\"it was\"", &Filters::default(), 10)
        .unwrap();
    assert!(!found.hits.is_empty());
    for hit in &found.hits {
        let marked = hit.snippet.to_lowercase();
        assert!(
            marked.contains("**it**") && marked.contains("**was**"),
            "{}",
            hit.snippet
        );
    }
}
