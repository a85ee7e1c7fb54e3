//! Passages: spans of a note's text, located in Unicode code points (as REFI-QDA counts
//! them), and how a span is found again after the note is edited. Pure functions; the store
//! keeps the passages.

use std::ops::Range;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::Tag;

/// A passage as the library hands it out: `tag` applied to code points `start..end` of the
/// note's body by `coder`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Passage {
    pub id: i64,
    pub note: String,
    #[serde(serialize_with = "tag_as_token")]
    pub tag: Tag,
    /// First code point of the span (0-based).
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
    /// The coded text itself, as it was when coded (or last found again).
    pub text: String,
    pub coder: String,
    /// An edit removed the text: the span keeps its last offsets and is reported, not moved.
    pub lost: bool,
    pub created_at: DateTime<Utc>,
}

/// Serialises a tag as it is typed (`=wait-time`).
pub(crate) fn tag_as_token<S: Serializer>(tag: &Tag, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&tag.to_string())
}

/// How a researcher points at a span: by code-point range, or by quoting its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanSpec {
    Range(Range<usize>),
    Quote(String),
}

impl SpanSpec {
    /// Reads `10..42` (code points, end excluded), as the CLI's `--span` takes it.
    pub fn parse_range(text: &str) -> Result<SpanSpec, String> {
        let bad = || format!("--span {text:?} is not a range: write START..END, e.g. 10..42");
        let (a, b) = text.split_once("..").ok_or_else(bad)?;
        let start = a.trim().parse().map_err(|_| bad())?;
        let end = b.trim().parse().map_err(|_| bad())?;
        Ok(SpanSpec::Range(start..end))
    }
}

/// Number of code points in `text`.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// The byte range of code points `range` in `text`, or `None` when it runs past the end.
pub fn byte_range(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let mut starts = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()));
    let start = starts.nth(range.start)?;
    let end = if range.end == range.start {
        start
    } else {
        starts.nth(range.end - range.start - 1)?
    };
    Some(start..end)
}

/// Every place `needle` occurs in `text`, as code-point ranges (overlapping ones too).
pub fn occurrences(text: &str, needle: &str) -> Vec<Range<usize>> {
    if needle.is_empty() {
        return Vec::new();
    }
    let len = char_len(needle);
    let mut found = Vec::new();
    let mut chars = 0;
    let mut last_byte = 0;
    for (byte, _) in text.char_indices() {
        if text[byte..].starts_with(needle) {
            chars += char_len(&text[last_byte..byte]);
            last_byte = byte;
            found.push(chars..chars + len);
        }
    }
    found
}

/// Resolves what the researcher pointed at in `body` to a code-point range with its text.
/// A range must lie inside the body and hold more than white space; a quote must occur
/// exactly once (otherwise the error lists where, so a range can be given instead).
pub fn resolve_span(body: &str, spec: &SpanSpec) -> Result<(Range<usize>, String), String> {
    let len = char_len(body);
    match spec {
        SpanSpec::Range(r) => {
            if r.start >= r.end {
                return Err(format!(
                    "the span {}..{} is empty: the end comes after the start (code points, end excluded)",
                    r.start, r.end
                ));
            }
            let bytes = byte_range(body, r.clone()).ok_or_else(|| {
                format!(
                    "the span {}..{} runs past the note's end: it has {len} characters",
                    r.start, r.end
                )
            })?;
            let text = &body[bytes];
            if text.trim().is_empty() {
                return Err(format!(
                    "the span {}..{} holds only white space",
                    r.start, r.end
                ));
            }
            Ok((r.clone(), text.to_owned()))
        }
        SpanSpec::Quote(q) => {
            if q.trim().is_empty() {
                return Err("the quote is empty: give the words to code".into());
            }
            match occurrences(body, q).as_slice() {
                [] => Err(format!("the note does not contain {q:?}")),
                [one] => Ok((one.clone(), q.clone())),
                many => Err(format!(
                    "{q:?} occurs {} times in the note (at {}): give --span START..END instead",
                    many.len(),
                    many.iter()
                        .map(|r| format!("{}..{}", r.start, r.end))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
    }
}

/// Where a passage of `text`, last at code point `old_start`, sits in the edited `body`: the
/// occurrence of its text nearest to where it was (the earlier one on a tie), or `None` when
/// the text is gone.
pub fn reanchor(body: &str, text: &str, old_start: usize) -> Option<Range<usize>> {
    occurrences(body, text)
        .into_iter()
        .min_by_key(|r| (r.start.abs_diff(old_start), r.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_count_code_points_not_bytes_or_utf16_units() {
        // An emoji (4 bytes, 2 UTF-16 units), CJK (3 bytes) and a combining mark (e + U+0301).
        let body = "😀 排队 cafe\u{301} queue";
        let (range, text) = resolve_span(body, &SpanSpec::Quote("queue".into())).unwrap();
        assert_eq!(range, 11..16);
        assert_eq!(text, "queue");
        let (_, text) = resolve_span(body, &SpanSpec::Range(2..4)).unwrap();
        assert_eq!(text, "排队");
        let (_, text) = resolve_span(body, &SpanSpec::Range(5..10)).unwrap();
        assert_eq!(text, "cafe\u{301}");
        assert!(resolve_span(body, &SpanSpec::Range(12..17)).is_err());
        assert!(resolve_span(body, &SpanSpec::Range(4..4)).is_err());
        assert!(
            resolve_span(body, &SpanSpec::Range(1..2)).is_err(),
            "a space only"
        );
    }

    #[test]
    fn a_quote_must_be_found_once() {
        let err = resolve_span("queue, queue", &SpanSpec::Quote("queue".into())).unwrap_err();
        assert!(err.contains("0..5, 7..12"), "{err}");
        assert!(resolve_span("queue", &SpanSpec::Quote("line".into())).is_err());
    }

    #[test]
    fn reanchoring_takes_the_nearest_occurrence() {
        // "wait" occurs at 0, 20 and 29: each passage goes to the one nearest where it was.
        let edited = "wait. Oh, we had to wait and wait";
        assert_eq!(reanchor(edited, "wait", 18), Some(20..24));
        assert_eq!(reanchor(edited, "wait", 27), Some(29..33));
        assert_eq!(reanchor(edited, "wait", 0), Some(0..4));
        assert_eq!(reanchor(edited, "queue", 3), None);
        assert_eq!(occurrences("aaa", "aa"), vec![0..2, 1..3]);
    }

    #[test]
    fn ranges_parse_from_the_command_line() {
        assert_eq!(SpanSpec::parse_range("10..42"), Ok(SpanSpec::Range(10..42)));
        assert!(SpanSpec::parse_range("10-42").is_err());
        assert!(SpanSpec::parse_range("a..4").is_err());
    }
}
