//! Tag completion while typing: the sigil word under the cursor, matched fuzzily against the
//! codebook's tags of that facet.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui_textarea::{DataCursor, TextArea};

use crate::model::{PartialTag, Tag, partial_tag_at};

/// How many suggestions the list shows.
pub const MAX_SUGGESTIONS: usize = 6;

/// The tags of the partial's facet that match what was typed, best first; a tag typed in full
/// is always first, so taking the first suggestion never replaces it with a longer one.
pub fn suggest(tags: &[Tag], partial: &PartialTag) -> Vec<Tag> {
    let of_facet = tags.iter().filter(|t| t.facet == partial.facet);
    if partial.typed.is_empty() {
        return of_facet.take(MAX_SUGGESTIONS).cloned().collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(&partial.typed, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, &Tag)> = of_facet
        .filter_map(|t| {
            pattern
                .score(Utf32Str::new(&t.name, &mut buf), &mut matcher)
                .map(|s| (s, t))
        })
        .collect();
    let typed = partial.typed.to_lowercase();
    scored.sort_by(|a, b| {
        (b.1.name == typed)
            .cmp(&(a.1.name == typed))
            .then(b.0.cmp(&a.0))
            .then(a.1.name.len().cmp(&b.1.name.len()))
            .then(a.1.name.cmp(&b.1.name))
    });
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, t)| t.clone())
        .collect()
}

/// The suggestions for the tag word just before `input`'s cursor (none outside a tag word).
pub fn at_cursor(input: &TextArea<'_>, tags: &[Tag]) -> Vec<Tag> {
    let DataCursor(row, col) = input.cursor();
    input
        .lines()
        .get(row)
        .and_then(|line| partial_tag_at(line, col))
        .map(|p| suggest(tags, &p))
        .unwrap_or_default()
}

/// Replaces the tag word just before `input`'s cursor with `tag` and a space.
pub fn take(input: &mut TextArea<'_>, tag: &Tag) {
    let DataCursor(row, col) = input.cursor();
    let Some(partial) = input.lines().get(row).and_then(|l| partial_tag_at(l, col)) else {
        return;
    };
    for _ in 0..partial.typed.chars().count() {
        input.delete_char();
    }
    input.insert_str(format!("{} ", tag.name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facet, partial_tag_at as partial_at};

    fn tags() -> Vec<Tag> {
        [
            "checkout",
            "self-checkout",
            "click-and-collect",
            "delivery-email",
        ]
        .iter()
        .map(|n| Tag::new(Facet::Touchpoint, n).unwrap())
        .chain([Tag::new(Facet::Persona, "busy-parent").unwrap()])
        .collect()
    }

    #[test]
    fn finds_the_word_being_typed() {
        assert_eq!(
            partial_at("queue #chec", 11),
            Some(PartialTag {
                facet: Facet::Touchpoint,
                typed: "chec".into()
            })
        );
        assert_eq!(partial_at("queue #", 7).unwrap().typed, "");
        assert_eq!(partial_at("mail a@b", 8), None);
        assert_eq!(partial_at("#checkout done", 14), None);
        assert_eq!(partial_at("1+1", 3), None);
        assert_eq!(partial_at("#1", 2), None);
    }

    #[test]
    fn ranks_fuzzy_matches_of_the_facet() {
        let got = suggest(&tags(), &partial_at("#chk", 4).unwrap());
        assert_eq!(got[0].name, "checkout");
        assert!(got.iter().all(|t| t.facet == Facet::Touchpoint));
        assert!(suggest(&tags(), &partial_at("@zzz", 4).unwrap()).is_empty());
        // Typed in full: offered first, ahead of the longer tags that contain it.
        let got = suggest(&tags(), &partial_at("#checkout", 9).unwrap());
        assert_eq!(got[0].name, "checkout");
        assert!(got.iter().any(|t| t.name == "self-checkout"));
        assert_eq!(suggest(&tags(), &partial_at("@", 1).unwrap()).len(), 1);
    }
}
