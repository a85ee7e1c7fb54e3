//! The inline tag parser: the one place that decides what in a note's text is a tag.
//!
//! A tag is a token that starts with a sigil (`@ # ! + =`) immediately followed by a
//! letter of any script. A sigil anywhere else (`a@b.com`, `Wow!`, `C#`, `1+1`) is text.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::measures::MeasureSpan;

/// The five kinds of tag a researcher can put on a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facet {
    Persona,
    Touchpoint,
    Emotion,
    Job,
    Code,
}

impl Facet {
    pub const ALL: [Facet; 5] = [
        Facet::Persona,
        Facet::Touchpoint,
        Facet::Emotion,
        Facet::Job,
        Facet::Code,
    ];

    pub fn sigil(self) -> char {
        match self {
            Facet::Persona => '@',
            Facet::Touchpoint => '#',
            Facet::Emotion => '!',
            Facet::Job => '+',
            Facet::Code => '=',
        }
    }

    pub fn from_sigil(c: char) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.sigil() == c)
    }

    /// The facet a stored name (`touchpoint`) stands for, as written by [`Facet::as_str`];
    /// no allocation, for the index's catch-up over every note.
    pub fn from_name(name: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Persona => "persona",
            Facet::Touchpoint => "touchpoint",
            Facet::Emotion => "emotion",
            Facet::Job => "job",
            Facet::Code => "code",
        }
    }
}

impl fmt::Display for Facet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Facet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_lowercase();
        Facet::ALL
            .into_iter()
            .find(|f| f.as_str() == lower || lower.len() == 1 && lower.starts_with(f.sigil()))
            .ok_or_else(|| {
                format!("unknown facet {s:?}: expected persona, touchpoint, emotion, job or code")
            })
    }
}

/// A tag: a facet and a normalised name, written `@busy-parent`, `#checkout`, …
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub facet: Facet,
    pub name: String,
}

impl Tag {
    /// Builds a tag from a name typed anywhere (flag, CSV column), normalising it.
    /// Returns `None` when nothing of the name is left after normalising.
    pub fn new(facet: Facet, raw_name: &str) -> Option<Tag> {
        let name = normalize_name(raw_name);
        (!name.is_empty()).then_some(Tag { facet, name })
    }

    /// Parses a whole token such as `#checkout`; `None` unless the token is exactly one tag.
    pub fn parse_token(token: &str) -> Option<Tag> {
        let spans = parse_inline(token);
        match spans.as_slice() {
            [only] if only.range == (0..token.len()) => Some(only.tag.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.facet.sigil(), self.name)
    }
}

/// Where a tag sits in the text (byte range, sigil included), for colouring while typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpan {
    pub tag: Tag,
    pub range: Range<usize>,
}

/// Lowercases and joins words with `-`: `"Busy Parent"` and `busy_parent` become `busy-parent`.
pub fn normalize_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_dash = false;
    for c in raw.chars() {
        if is_name_char(c) {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.extend(c.to_lowercase());
        } else {
            pending_dash = true;
        }
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Characters that may open a token before a sigil, as in `(#checkout)` or `"@student"`.
const OPENINGS: [char; 8] = ['(', '[', '{', '"', '\'', '“', '‘', '«'];

fn is_opening(c: char) -> bool {
    OPENINGS.contains(&c)
}

/// The same grammar as [`parse_inline`] and [`parse_measures`], as a regular expression, for
/// widgets that can only colour by pattern (the app's editor). It matches a tag or a measure
/// token with what opens it (a space, brackets, quotes); a test holds it to the parser on the
/// parser's property-test corpus.
pub fn inline_token_pattern() -> String {
    let sigils: String = Facet::ALL.iter().map(|f| regex_escape(f.sigil())).collect();
    let openings: String = OPENINGS.iter().map(|&c| regex_escape(c)).collect();
    let closings: String = CLOSINGS.iter().map(|&c| regex_escape(c)).collect();
    let measure = regex_escape(MEASURE_SIGIL);
    // Name characters are `char::is_alphanumeric`: Alphabetic or a Number (N*).
    let name = r"\p{Alphabetic}[\p{Alphabetic}\p{N}]*(?:[-_][\p{Alphabetic}\p{N}]+)*";
    // A measure's value runs to the next space, less what closes the token.
    format!(r"(?:^|\s)[{openings}]*(?:[{sigils}]{name}|{measure}{name}=(?:\S*[^\s{closings}])?)")
}

fn regex_escape(c: char) -> String {
    if c.is_ascii_punctuation() {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// A tag being typed just before `col` (a char index) in `line`: its facet and the characters
/// typed after the sigil, by the parser's rules (a token start, then a sigil, then nothing
/// yet or a letter and name characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialTag {
    pub facet: Facet,
    pub typed: String,
}

pub fn partial_tag_at(line: &str, col: usize) -> Option<PartialTag> {
    let before: Vec<char> = line.chars().take(col).collect();
    let start = before
        .iter()
        .rposition(|c| c.is_whitespace())
        .map_or(0, |i| i + 1);
    let mut word = &before[start..];
    while let Some((&c, rest)) = word.split_first()
        && is_opening(c)
    {
        word = rest;
    }
    let (&sigil, rest) = word.split_first()?;
    let facet = Facet::from_sigil(sigil)?;
    let joiner = |c: &char| *c == '-' || *c == '_';
    // As the parser reads a name: letters and digits joined by single `-` or `_` (a name
    // being typed may end on one).
    if rest.first().is_some_and(|c| !c.is_alphabetic())
        || !rest.iter().all(|&c| is_name_char(c) || joiner(&c))
        || rest.windows(2).any(|w| joiner(&w[0]) && joiner(&w[1]))
    {
        return None;
    }
    Some(PartialTag {
        facet,
        typed: rest.iter().collect(),
    })
}

/// `body` with exactly `tags` as its inline tags: the tokens of tags no longer wanted are
/// taken out (with the space before them), the tags that are new are added at the end, and
/// every other character stays as written.
pub fn retag(body: &str, tags: &[Tag]) -> String {
    let present = parse_inline(body);
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    for span in &present {
        if tags.contains(&span.tag) {
            continue;
        }
        let before = body[at..span.range.start].trim_end_matches([' ', '\t']);
        out.push_str(before);
        at = span.range.end;
        if out.is_empty() && body[at..].starts_with(' ') {
            at += 1; // a tag that opened the note leaves no space behind
        }
    }
    out.push_str(&body[at..]);
    let mut kept: Vec<&Tag> = present.iter().map(|s| &s.tag).collect();
    for tag in tags {
        if !kept.contains(&tag) {
            if !out.is_empty() && !out.ends_with(char::is_whitespace) {
                out.push(' ');
            }
            out.push_str(&tag.to_string());
            kept.push(tag);
        }
    }
    out
}

/// `body` with every inline `from` tag written as `to` (whatever spelling it was typed in:
/// `=Wait_Time` is `=wait-time`), every other character as written; `None` when the body
/// holds no `from`. How a codebook rename or merge rewrites the notes.
pub fn rename_inline(body: &str, from: &Tag, to: &Tag) -> Option<String> {
    let spans: Vec<TagSpan> = parse_inline(body)
        .into_iter()
        .filter(|s| &s.tag == from)
        .collect();
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&body[at..span.range.start]);
        out.push_str(&to.to_string());
        at = span.range.end;
    }
    out.push_str(&body[at..]);
    Some(out)
}

/// Finds every inline tag in `text`, in order of appearance. Never fails: anything that is
/// not a tag is text.
pub fn parse_inline(text: &str) -> Vec<TagSpan> {
    let mut spans = Vec::new();
    scan(text, |token| {
        if let Token::Tag(span) = token {
            spans.push(span);
        }
    });
    spans
}

/// Finds every `%name=value` measure token in `text`, in order of appearance, whether its
/// value reads as a number or not (see [`super::measures::check_measures`]).
pub fn parse_measures(text: &str) -> Vec<MeasureSpan> {
    let mut spans = Vec::new();
    scan(text, |token| {
        if let Token::Measure(span) = token {
            spans.push(span);
        }
    });
    spans
}

/// Where every tag and measure token sits in `text` (byte ranges, in order): what word-level
/// analysis reads past, as it is not the speaker's words.
pub fn token_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    scan(text, |token| {
        ranges.push(match token {
            Token::Tag(span) => span.range,
            Token::Measure(span) => span.range,
        })
    });
    ranges
}

enum Token {
    Tag(TagSpan),
    Measure(MeasureSpan),
}

/// The one grammar: at a token start (after any opening brackets or quotes), a sigil and a
/// letter open a tag, and `%` with a letter opens a measure when its name is followed by `=`.
fn scan(text: &str, mut found: impl FnMut(Token)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut at_token_start = true;
    while i < text.len() {
        if !at_token_start {
            // Inside a word only whitespace matters: ASCII bytes are skipped without decoding
            // (whitespace among them is `\t`..`\r` and the space).
            while i < bytes.len() && bytes[i] < 0x80 && !matches!(bytes[i], b'\t'..=b'\r' | b' ') {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
        }
        let c = text[i..].chars().next().expect("i is on a char boundary");
        let next = i + c.len_utf8();
        if c.is_whitespace() {
            at_token_start = true;
            i = next;
            continue;
        }
        if !at_token_start {
            i = next;
            continue;
        }
        if is_opening(c) {
            i = next;
            continue;
        }
        let mut end = next;
        if let Some((token, token_end)) = token_at(text, i, c) {
            found(token);
            end = token_end;
        }
        i = end;
        at_token_start = false;
    }
}

/// Opens a measure token: `%nps=9`.
pub const MEASURE_SIGIL: char = '%';

/// What may close a measure's token without being part of its value: `(%nps=9).`
const CLOSINGS: &[char] = &[
    '.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '”', '’', '»',
];

/// A measure's value: an optional sign, digits, and an optional decimal point with digits.
/// The tag or measure that sigil `c` at `i` (a token start) opens, and where it ends.
fn token_at(text: &str, i: usize, c: char) -> Option<(Token, usize)> {
    let facet = Facet::from_sigil(c);
    if facet.is_none() && c != MEASURE_SIGIL {
        return None;
    }
    let name_start = i + c.len_utf8();
    if !text[name_start..]
        .chars()
        .next()
        .is_some_and(char::is_alphabetic)
    {
        return None;
    }
    let name_end = tag_name_end(text, name_start);
    if let Some(facet) = facet {
        let name = normalize_name(&text[name_start..name_end]);
        let span = TagSpan {
            tag: Tag { facet, name },
            range: i..name_end,
        };
        return Some((Token::Tag(span), name_end));
    }
    if !text[name_end..].starts_with('=') {
        return None;
    }
    let value_start = name_end + 1;
    let token_end = text[value_start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |n| value_start + n);
    let raw = text[value_start..token_end].trim_end_matches(CLOSINGS);
    let end = value_start + raw.len();
    let span = MeasureSpan {
        name: normalize_name(&text[name_start..name_end]),
        raw: raw.to_owned(),
        value: read_number(raw),
        range: i..end,
    };
    Some((Token::Measure(span), end))
}

fn read_number(raw: &str) -> Option<f64> {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (is_digits(whole) && is_digits(fraction))
        .then(|| raw.parse().ok())
        .flatten()
}

/// A name runs over letters and digits joined by single `-` or `_`; it never ends on a joiner.
fn tag_name_end(text: &str, start: usize) -> usize {
    let mut end = start;
    let mut joiner_at: Option<usize> = None;
    for (offset, c) in text[start..].char_indices() {
        let pos = start + offset;
        if is_name_char(c) {
            end = pos + c.len_utf8();
            joiner_at = None;
        } else if (c == '-' || c == '_') && joiner_at.is_none() {
            joiner_at = Some(pos);
        } else {
            break;
        }
    }
    end
}

/// The distinct tags of a text, sorted, as stored on a note.
pub fn tags_of(text: &str) -> Vec<Tag> {
    distinct_tags(parse_inline(text))
}

/// The distinct tags of spans [`parse_inline`] found, sorted.
pub fn distinct_tags(spans: Vec<TagSpan>) -> Vec<Tag> {
    let mut tags: Vec<Tag> = spans.into_iter().map(|s| s.tag).collect();
    tags.sort();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar as it was first written, char by char: what [`scan`] must agree with.
    fn scan_one_char_at_a_time(text: &str, mut found: impl FnMut(Token)) {
        let mut chars = text.char_indices().peekable();
        let mut at_token_start = true;
        while let Some((i, c)) = chars.next() {
            if c.is_whitespace() {
                at_token_start = true;
                continue;
            }
            if at_token_start && is_opening(c) {
                continue;
            }
            let mut end = None;
            if at_token_start && let Some((token, token_end)) = token_at(text, i, c) {
                found(token);
                end = Some(token_end);
            }
            if let Some(end) = end {
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            at_token_start = false;
        }
    }

    fn tokens_of(text: &str, scan: fn(&str, &mut dyn FnMut(Token))) -> Vec<String> {
        let mut out = Vec::new();
        scan(text, &mut |t| {
            out.push(match t {
                Token::Tag(s) => format!("{:?}", s),
                Token::Measure(m) => format!("{:?}", m),
            })
        });
        out
    }

    proptest::proptest! {
        #[test]
        fn the_fast_scan_reads_as_the_char_by_char_one(
            text in "([ \t\n\u{a0}\u{3000}(\"“«a-zA-Z0-9éß_.,=%@#!+-]|\\PC){0,80}"
        ) {
            proptest::prop_assert_eq!(
                tokens_of(&text, |t, f| scan(t, f)),
                tokens_of(&text, |t, f| scan_one_char_at_a_time(t, f))
            );
        }
    }

    #[test]
    fn rename_inline_rewrites_only_that_tags_tokens() {
        let from = Tag::new(Facet::Code, "wait-time").unwrap();
        let to = Tag::new(Facet::Code, "queueing").unwrap();
        assert_eq!(
            rename_inline(
                "Long =Wait_Time here, #wait-time too. =wait-time",
                &from,
                &to
            )
            .as_deref(),
            Some("Long =queueing here, #wait-time too. =queueing")
        );
        assert_eq!(rename_inline("no tag a=wait-time", &from, &to), None);
    }

    #[test]
    fn retag_takes_out_and_adds_only_what_changed() {
        let t = |s: &str| Tag::parse_token(s).unwrap();
        let body = "#checkout Waited at the till, (@busy-parent) said \"never again\" !angry";
        assert_eq!(
            retag(body, &[t("@busy-parent"), t("=wait-time")]),
            "Waited at the till, (@busy-parent) said \"never again\" =wait-time"
        );
        assert_eq!(
            retag(body, &[t("#checkout"), t("@busy-parent"), t("!angry")]),
            body
        );
        assert_eq!(
            retag("a@b.com wrote", &[t("#email")]),
            "a@b.com wrote #email"
        );
        let emptied = retag(body, &[]);
        assert!(parse_inline(&emptied).is_empty(), "{emptied}");
    }

    fn names(text: &str) -> Vec<String> {
        parse_inline(text)
            .into_iter()
            .map(|s| s.tag.to_string())
            .collect()
    }

    #[test]
    fn finds_every_facet() {
        assert_eq!(
            names("Waited 6 min #checkout !frustrated @busy-parent +quick-pickup =wait-time"),
            [
                "#checkout",
                "!frustrated",
                "@busy-parent",
                "+quick-pickup",
                "=wait-time"
            ]
        );
    }

    #[test]
    fn sigils_inside_words_are_text() {
        for text in [
            "mail a@b.com now",
            "Wow! great",
            "C# and F#",
            "1+1=2",
            "https://shop.example/#basket?x=1",
            "+1 for that",
            "#1 priority",
            "!!!",
            "@ home",
            "price = 5",
            "🎉#party",
        ] {
            assert!(names(text).is_empty(), "{text:?} gave {:?}", names(text));
        }
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(names("@Busy_Parent"), ["@busy-parent"]);
        assert_eq!(names("#click--and-collect,"), ["#click"]);
        assert_eq!(names("#click-and-collect, then"), ["#click-and-collect"]);
        assert_eq!(names("#checkout's queue"), ["#checkout"]);
        assert_eq!(
            names("(#checkout) !frustrated."),
            ["#checkout", "!frustrated"]
        );
        assert_eq!(names("#self-"), ["#self"]);
        assert_eq!(normalize_name("  Busy   parent "), "busy-parent");
    }

    #[test]
    fn any_script_is_a_name() {
        assert_eq!(
            names("#レジ !ärgerlich @взрослый"),
            ["#レジ", "!ärgerlich", "@взрослый"]
        );
        assert!(names("会計で待った😤").is_empty());
    }

    #[test]
    fn span_covers_the_tag() {
        let text = "queue #checkout!";
        let spans = parse_inline(text);
        assert_eq!(&text[spans[0].range.clone()], "#checkout");
    }

    #[test]
    fn parse_token_needs_the_whole_token() {
        assert_eq!(Tag::parse_token("#checkout").unwrap().name, "checkout");
        assert!(Tag::parse_token("#checkout,").is_none());
        assert!(Tag::parse_token("checkout").is_none());
    }
}
