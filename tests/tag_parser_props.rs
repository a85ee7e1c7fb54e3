//! Property tests of the one inline tag parser.

use fieldnotes::model::{
    Facet, Tag, built_in_scales, check_measures, normalize_name, parse_inline, parse_measures,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn never_panics_and_spans_are_real(text in "\\PC{0,200}") {
        for span in parse_inline(&text) {
            let slice = &text[span.range.clone()];
            prop_assert!(Facet::from_sigil(slice.chars().next().unwrap()).is_some());
            prop_assert!(!span.tag.name.is_empty());
            prop_assert_eq!(normalize_name(&span.tag.name), span.tag.name.clone());
        }
    }

    #[test]
    fn sigils_inside_words_stay_text(
        before in "[a-zA-Z0-9]{1,10}",
        sigil in "[@#!+=]",
        after in "[a-zA-Z0-9.]{0,10}",
    ) {
        let word = format!("{before}{sigil}{after}");
        prop_assert!(parse_inline(&word).is_empty(), "{} gave tags", word);
    }

    #[test]
    fn urls_and_emails_stay_text(user in "[a-z]{1,8}", host in "[a-z]{1,8}", frag in "[a-z]{1,8}") {
        let text = format!("mail {user}@{host}.com or see https://{host}.example/#{frag}?q=1+2&x=!y");
        prop_assert!(parse_inline(&text).is_empty());
    }

    #[test]
    fn emoji_and_cjk_text_stays_text(text in "[\\p{Han}\\p{Hiragana}\\u{1F300}-\\u{1F5FF} ]{0,40}") {
        prop_assert!(parse_inline(&text).is_empty());
    }

    #[test]
    fn a_typed_tag_is_found_with_its_normalised_name(
        sigil in "[@#!+=]",
        words in prop::collection::vec("[a-zA-Zéß]{1,6}", 1..4),
        lead in "[a-z ]{0,10}",
    ) {
        let raw = words.join("-");
        let text = format!("{lead} {sigil}{raw}, next");
        let spans = parse_inline(&text);
        prop_assert_eq!(spans.len(), 1);
        let facet = Facet::from_sigil(sigil.chars().next().unwrap()).unwrap();
        prop_assert_eq!(&spans[0].tag, &Tag::new(facet, &raw).unwrap());
        prop_assert_eq!(Tag::parse_token(&spans[0].tag.to_string()), Some(spans[0].tag.clone()));
    }
}

#[test]
fn the_named_cases_stay_text() {
    for text in [
        "a@b.com",
        "Wow!",
        "C#",
        "1+1",
        "https://x.org/#top",
        "🎉 #🎉",
        "会計で待った",
        "x=y",
    ] {
        assert!(parse_inline(text).is_empty(), "{text}");
    }
}

#[test]
fn percent_signs_that_are_not_measures_stay_text() {
    for text in [
        "50% off",
        "printf %d",
        "%nps",
        "a%nps=9",
        "100%=all",
        "% nps=9",
        "%9=1",
        "x=%nps",
    ] {
        assert!(parse_measures(text).is_empty(), "{text}");
    }
    let odd = parse_measures("%nps=nine, %csat=");
    assert_eq!(odd.len(), 2);
    assert_eq!((odd[0].raw.as_str(), odd[0].value), ("nine", None));
    assert_eq!((odd[1].raw.as_str(), odd[1].value), ("", None));
}

/// Text made of the grammar's own pieces, so tags, near-tags and their edges are common.
fn tag_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("@"),
            Just("#"),
            Just("!"),
            Just("+"),
            Just("="),
            Just("-"),
            Just("_"),
            Just("("),
            Just("\""),
            Just("«"),
            Just("'"),
            Just(" "),
            Just("\t"),
            Just("\n"),
            Just("\u{3000}"),
            Just("\u{a0}"),
            Just("a"),
            Just("Zé"),
            Just("漢"),
            Just("7"),
            Just("٣"),
            Just("."),
            Just(","),
            Just("😀"),
            Just("checkout"),
            Just("x1"),
            Just("%"),
            Just("%nps="),
            Just("9"),
            Just("-"),
            Just(")"),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    /// The editor colours by a pattern: it must colour exactly the parser's tags and measures.
    #[test]
    fn the_editor_colouring_pattern_finds_the_parsers_tokens(text in tag_soup()) {
        let pattern = regex::Regex::new(&fieldnotes::model::inline_token_pattern()).unwrap();
        let coloured: Vec<std::ops::Range<usize>> = pattern
            .find_iter(&text)
            .map(|m| {
                // The match carries what opens the token: the token starts at its sigil.
                let sigil = m
                    .as_str()
                    .find(|c: char| c == '%' || Facet::from_sigil(c).is_some())
                    .unwrap();
                m.start() + sigil..m.end()
            })
            .collect();
        let mut parsed: Vec<std::ops::Range<usize>> =
            parse_inline(&text).into_iter().map(|s| s.range).collect();
        parsed.extend(parse_measures(&text).into_iter().map(|s| s.range));
        parsed.sort_by_key(|r| r.start);
        prop_assert_eq!(coloured, parsed, "in {:?}", text);
    }

    /// A measure and a tag never claim the same characters.
    #[test]
    fn measures_and_tags_never_overlap(text in tag_soup()) {
        let tags = parse_inline(&text);
        for m in parse_measures(&text) {
            prop_assert!(m.name == normalize_name(&m.name));
            prop_assert!(text[m.range.clone()].starts_with('%'));
            for t in &tags {
                prop_assert!(t.range.end <= m.range.start || m.range.end <= t.range.start,
                    "{:?} and {:?} overlap in {:?}", t, m, text);
            }
        }
    }

    /// A measure typed among words and tags is found with its value; the tags around it stay.
    #[test]
    fn a_typed_measure_is_found_with_its_value(
        name in prop::sample::select(vec!["nps", "csat", "ces", "confidence"]),
        value in 0u8..=10,
        lead in "[a-z ]{0,10}",
        close in prop::sample::select(vec!["", ".", ",", ")", "!"]),
    ) {
        let text = format!("{lead} (%{name}={value}{close} #checkout");
        let found = parse_measures(&text);
        prop_assert_eq!(found.len(), 1);
        prop_assert_eq!(found[0].value, Some(f64::from(value)));
        prop_assert_eq!(&text[found[0].range.clone()], format!("%{name}={value}"));
        prop_assert_eq!(parse_inline(&text).len(), 1);
        let scale = built_in_scales().into_iter().find(|s| s.name == name).unwrap();
        let checked = check_measures(&text, &built_in_scales());
        prop_assert_eq!(checked.is_ok(), f64::from(value) >= scale.min && f64::from(value) <= scale.max);
    }
    /// Completion's finder agrees with the parser about a tag typed up to the cursor.
    #[test]
    fn the_completion_finder_agrees_with_the_parser(text in tag_soup()) {
        let at_end = text.chars().count();
        let partial = fieldnotes::model::partial_tag_at(&text, at_end);
        let last = parse_inline(&text).into_iter().last().filter(|s| s.range.end == text.len());
        match (&partial, &last) {
            (Some(p), Some(span)) => {
                prop_assert_eq!(p.facet, span.tag.facet);
                // What is typed may end on a joiner the parser leaves out (`#wait-`).
                prop_assert_eq!(normalize_name(&p.typed), span.tag.name.clone());
            }
            (Some(p), None) => prop_assert!(
                p.typed.is_empty() || p.typed.ends_with(['-', '_']),
                "the finder sees {:?} in {:?} where the parser sees no tag", p, text
            ),
            (None, Some(span)) => prop_assert!(false, "the finder misses {:?} in {:?}", span, text),
            (None, None) => {}
        }
    }
}
