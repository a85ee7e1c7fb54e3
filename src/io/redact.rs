//! Redaction on export: participants become stable pseudonyms (P1, P2, … in the order the
//! archive first recorded them), and e-mail addresses, phone numbers, card-like numbers and
//! street addresses in any text are masked. Notes of participants without recorded consent
//! are left out by the export (see [`Redactor::withholds`]). The archive itself never changes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

use regex::{Captures, Regex};
use rustc_hash::FxHashMap;

use crate::error::Result;
use crate::model::{Participant, Tag, TagSpan, normalize_name};
use crate::store::Store;

use super::export::SessionLine;

/// What a redacted export puts in place of a masked detail.
pub const EMAIL: &str = "[email]";
pub const PHONE: &str = "[phone]";
pub const CARD: &str = "[card number]";
pub const ADDRESS: &str = "[address]";

static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        [\w.+%'-]+ \s? [@＠] \s? [\w-]+ (?: \s? [.．] \s? [\w-]+ )+
        |
        # Spelt out to dodge filters: maya (at) example (dot) com, maya at example dot com
        [\w.+%'-]+ \s* (?: [(\[{] \s* at \s* [)\]}] | \bat\b ) \s* [\w-]+
            (?: \s* (?: [(\[{] \s* dot \s* [)\]}] | \bdot\b ) \s* [\w-]+ )+",
    )
    .expect("valid e-mail pattern")
});

/// Words as names are written: letters and digits, so `maya_patel` is two words.
static WORD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{M}\p{N}]+").expect("valid word pattern"));

/// Runs of digits with the separators people write between them.
static NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\b00)?\(?\d[\d \t\u{a0}().\-‐‑‒–—]*\d").expect("valid number pattern")
});

static DATE_OR_TIME_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[.:]\d{2})$")
        .expect("valid date pattern")
});

static STREET_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b\d{1,5}[a-z]?,?\s+ (?P<words>(?:[\p{L}'’.-]+\s+){0,3})
          (?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl
            |terrace|close|crescent|square|sq|parkway|highway|hwy|row|hill|gardens|grove|mews
            |walk|rue|strasse|straße|calle|via)\b\.?
        |
        \b[\p{L}-]+(?:straße|strasse|str\.|weg|gasse|platz|laan|straat|gatan|vej)\s+\d{1,4}[a-z]?\b
        |
        # UK postcodes (SW1A 1AA) and US ZIP+4 (12345-6789)
        \b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b
        |
        \b\d{5}-\d{4}\b",
    )
    .expect("valid address pattern")
});

/// Words that, between a number and "street", mean it is not an address ("10 minutes on the street").
const NOT_ADDRESS_WORDS: &[&str] = &[
    "the",
    "on",
    "in",
    "at",
    "of",
    "to",
    "for",
    "and",
    "or",
    "a",
    "an",
    "minutes",
    "mins",
    "min",
    "hours",
    "times",
    "people",
    "customers",
    "seconds",
    "days",
    "steps",
    "metres",
    "meters",
    "yards",
    "feet",
    "miles",
    "km",
];

/// Masks e-mail addresses, phone numbers, card-like numbers and street addresses.
pub fn mask_details(text: &str) -> String {
    mask_numbers_and_addresses(&EMAIL_RE.replace_all(text, EMAIL), &Tally::default())
}

/// Whether `\d` could match in the text (every decimal digit is numeric).
fn has_digit(text: &str) -> bool {
    // ASCII's only numeric characters are its digits: other text is read char by char.
    text.bytes().any(|b| b.is_ascii_digit())
        || (!text.is_ascii() && text.chars().any(char::is_numeric))
}

/// Calls `f(start, end)` for each word of `text` as [`WORD_RE`] finds them: on ASCII text
/// (most notes) a scan of its bytes, as a word there is a run of ASCII letters and digits.
fn for_each_word(text: &str, mut f: impl FnMut(usize, usize)) {
    if !text.is_ascii() {
        for word in WORD_RE.find_iter(text) {
            f(word.start(), word.end());
        }
        return;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        f(start, i);
    }
}

/// The lengths and first bytes of the words of names, so that most words of a note are passed
/// over without lowercasing and looking them up.
struct NameShapes {
    /// `lengths[n]`: a word of `n` bytes is a name (the last place: 64 bytes or more).
    lengths: [bool; 65],
    first_bytes: [bool; 256],
}

impl NameShapes {
    fn of<'a>(words: impl Iterator<Item = &'a String>) -> NameShapes {
        let mut shapes = NameShapes {
            lengths: [false; 65],
            first_bytes: [false; 256],
        };
        for w in words {
            if let Some(&b) = w.as_bytes().first() {
                shapes.lengths[w.len().min(64)] = true;
                shapes.first_bytes[b as usize] = true;
            }
        }
        shapes
    }

    /// Whether an ASCII word, once lowercased, could be a name.
    fn may_name(&self, ascii_word: &str) -> bool {
        let first = ascii_word.as_bytes()[0].to_ascii_lowercase();
        self.lengths[ascii_word.len().min(64)] && self.first_bytes[first as usize]
    }
}

/// Every word that is a name, replaced by its alias; a new string only when one is found.
fn mask_names(
    name_to_alias: &FxHashMap<String, String>,
    shapes: &NameShapes,
    text: &str,
    tally: &Tally,
) -> String {
    let mut out = String::new();
    let mut at = 0;
    let mut lower = String::new();
    for_each_word(text, |start, end| {
        let w = &text[start..end];
        // Most words are ASCII: lowercased into one buffer instead of a string each.
        let alias = if w.is_ascii() {
            if !shapes.may_name(w) {
                return;
            }
            lower.clear();
            lower.push_str(w);
            lower.make_ascii_lowercase();
            name_to_alias.get(lower.as_str())
        } else {
            name_to_alias.get(&fold(w))
        };
        if let Some(alias) = alias {
            tally.count(kind_of_alias(alias));
            out.push_str(&text[at..start]);
            out.push_str(alias);
            at = end;
        }
    });
    if at == 0 {
        return text.to_owned();
    }
    out.push_str(&text[at..]);
    out
}

fn mask_numbers_and_addresses(text: &str, tally: &Tally) -> String {
    if !has_digit(text) {
        return text.to_owned();
    }
    let text = STREET_RE.replace_all(text, |c: &Captures<'_>| {
        let words = c.name("words").map_or("", |m| m.as_str());
        let innocent = words
            .split_whitespace()
            .any(|w| NOT_ADDRESS_WORDS.contains(&w.to_lowercase().as_str()));
        if innocent {
            c[0].to_owned()
        } else {
            tally.add(ADDRESS)
        }
    });
    NUMBER_RE
        .replace_all(&text, |c: &Captures<'_>| {
            let found = &c[0];
            let digits = found.chars().filter(char::is_ascii_digit).count();
            let dialled = found.starts_with(['+', '(']) || found.starts_with("00");
            if DATE_OR_TIME_RE.is_match(found.trim()) {
                found.to_owned()
            } else if digits >= 13 && !dialled {
                tally.add(CARD)
            } else if digits >= 7 {
                tally.add(PHONE)
            } else {
                found.to_owned()
            }
        })
        .into_owned()
}

pub const BANK_ACCOUNT: &str = "[bank account]";
pub const NATIONAL_ID: &str = "[national id]";
pub const URL: &str = "[link]";
pub const HANDLE: &str = "[handle]";
/// Someone who is not a participant, named in a list of names to mask.
pub const NAME: &str = "[name]";
/// A participant's contact detail given in the archive.
pub const CONTACT: &str = "[contact]";
/// What the tally calls participants' names turned into pseudonyms.
pub const PSEUDONYM: &str = "participant name";

/// IBANs as people write them: a country code, two check digits, then 11–30 letters and digits,
/// in groups of four or run together. Masked when the checksum holds or the word IBAN is next to
/// it (a mistyped IBAN still identifies an account).
static IBAN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?P<word>\biban\b[\s:.#-]*)?\b(?P<iban>[a-z]{2}\d{2}(?:[ \u{a0}-]?[a-z0-9]{4}){2,7}(?:[ \u{a0}-]?[a-z0-9]{1,3})?)\b",
    )
        .expect("valid IBAN pattern")
});

/// National identity numbers in their common written forms.
static NATIONAL_ID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        # UK National Insurance number: AB 12 34 56 C
        \b(?i:[a-ceghj-pr-tw-z]{2})\s?\d{2}\s?\d{2}\s?\d{2}\s?(?i:[a-d])\b
        # US Social Security number: 123-45-6789
        | \b\d{3}-\d{2}-\d{4}\b
        # Spanish DNI and NIE: 12345678Z, X1234567L
        | \b(?i:[xyz])?-?\d{7,8}-?[A-Za-z]\b
        # Italian codice fiscale: RSSMRA85T10A562S
        | \b(?i:[a-z]{6}\d{2}[a-ehlmpr-t]\d{2}[a-z]\d{3}[a-z])\b
        # French NIR: 1 85 05 78 006 084 (36)
        | \b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[abAB])\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b
        # Nordic personal numbers: 850709-1234, 19850709-1234
        | \b(?:19|20)?\d{6}[-+]\d{4}\b
        # Indian PAN: ABCDE1234F
        | \b[A-Z]{5}\d{4}[A-Z]\b
        # Any number right after the words that name an identity document
        | (?i:\b(?:passport|id\ card|identity\ card|id|national\ insurance|ni|ssn|social\ security|bsn|dni|nie|aadhaar|personalausweis|ausweis|steuer-?id|tax\ id)
            (?:\ (?:no|number|nr|num))?\.?[\s:\#]*)
          (?:[a-z]{0,3}\d[a-z0-9\ -]{4,18}[a-z0-9])",
    )
    .expect("valid national id pattern")
});

/// Links with a path or query (a profile, an order, a shared document): they point at a person
/// or their business; a bare domain (`marlows.example`) stays.
static URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:\bhttps?://)?\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}[/?][^\s<>]*[^\s<>.,;:!?)\]}"']"#,
    )
    .expect("valid link pattern")
});

/// Social handles: `@name` with a dot or underscore inside, or any `@name` right after the
/// words that introduce one.
static HANDLE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?P<lead>(?:twitter|instagram|insta|ig|tiktok|threads|snapchat|snap|telegram|handle|dm|follow|followed|tag|x)\b[\s:]*(?:is\s+|me\s+|at\s+|on\s+)*)
            [@＠](?P<h1>[\w.]+)
        | (?:^|\s|[(\[])(?P<lone>[@＠][\p{L}\p{N}]+[._][\p{L}\p{N}._]*[\p{L}\p{N}])",
    )
    .expect("valid handle pattern")
});

/// How many of each kind of detail a redacted export masked.
#[derive(Debug, Default)]
struct Tally(Mutex<BTreeMap<&'static str, u64>>);

impl Tally {
    /// Counts one of `kind` and gives what replaces it.
    fn add(&self, kind: &'static str) -> String {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(kind)
            .or_default() += 1;
        kind.to_owned()
    }

    fn count(&self, kind: &'static str) {
        self.add(kind);
    }
}

/// How much of a run that looks like an IBAN is one: the longest start of it, group by group,
/// whose checksum holds; else, after the word IBAN, all of it but trailing groups of letters
/// alone (the next word: "… 7654 32 please").
fn iban_extent(run: &str, after_the_word: bool) -> Option<usize> {
    let group_ends: Vec<usize> = run
        .char_indices()
        .filter(|&(_, c)| c == ' ' || c == '\u{a0}' || c == '-')
        .map(|(i, _)| i)
        .chain([run.len()])
        .collect();
    if let Some(&end) = group_ends
        .iter()
        .rev()
        .find(|&&end| iban_checksum_holds(&run[..end]))
    {
        return Some(end);
    }
    if !after_the_word {
        return None;
    }
    let mut end = run.len();
    for &cut in group_ends.iter().rev().skip(1) {
        let tail = &run[cut..end];
        if tail
            .trim_start_matches([' ', '\u{a0}', '-'])
            .chars()
            .all(char::is_alphabetic)
        {
            end = cut;
        } else {
            break;
        }
    }
    Some(end)
}

/// Whether an IBAN's check digits hold (ISO 13616: the rearranged number mod 97 is 1).
fn iban_checksum_holds(iban: &str) -> bool {
    let compact: Vec<char> = iban
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() < 15 {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut rest: u32 = 0;
    for c in rearranged {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rest = if value >= 10 {
            (rest * 100 + value) % 97
        } else {
            (rest * 10 + value) % 97
        };
    }
    rest == 1
}

/// A word as names are matched: lowercase, accents folded (`Zoë` is `zoe`).
fn fold(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    use tantivy::tokenizer::{AsciiFoldingFilter, RawTokenizer, TextAnalyzer};
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(AsciiFoldingFilter)
        .build();
    let folded = analyzer.token_stream(&lower).next().map(|t| t.text.clone());
    folded.unwrap_or(lower)
}

/// Decides what a redacted export shows: pseudonyms for names, masked details, and which
/// notes to leave out.
pub struct Redactor {
    pseudonyms: HashMap<String, String>,
    /// Whole names of several words and contact details, masked before single words.
    phrases: Option<Regex>,
    phrase_alias: HashMap<String, String>,
    /// Each word of every name (folded), each name run together (`jeanluc`) and as a tag
    /// would spell it: a participant's pseudonym, or `[name]` for other people.
    name_to_alias: FxHashMap<String, String>,
    name_shapes: NameShapes,
    consented: HashSet<String>,
    tally: Tally,
}

impl Redactor {
    /// Pseudonyms follow the order the archive first recorded each participant, so the same
    /// archive always gives the same P-numbers; `other_names` (people who are not
    /// participants: a spouse, a shop assistant) are masked as `[name]`.
    pub fn new(store: &Store, other_names: &[String]) -> Result<Redactor> {
        Ok(Redactor::for_people(&store.participants()?, other_names))
    }

    /// The same, except that participants with recorded consent keep their names (a report's
    /// `--names`): only those without consent become pseudonyms.
    pub fn keeping_consented_names(store: &Store, other_names: &[String]) -> Result<Redactor> {
        Ok(Redactor::build(&store.participants()?, other_names, true))
    }

    pub fn for_participants(participants: &[Participant]) -> Redactor {
        Redactor::for_people(participants, &[])
    }

    pub fn for_people(participants: &[Participant], other_names: &[String]) -> Redactor {
        Redactor::build(participants, other_names, false)
    }

    fn build(
        participants: &[Participant],
        other_names: &[String],
        keep_consented_names: bool,
    ) -> Redactor {
        let mut pseudonyms = HashMap::new();
        let mut name_to_alias = FxHashMap::default();
        let mut consented = HashSet::new();
        let mut phrases: Vec<(String, String)> = Vec::new();
        let people = participants
            .iter()
            .enumerate()
            .filter(|(_, p)| !(keep_consented_names && p.consent))
            .map(|(i, p)| (p.pseudonym.trim(), format!("P{}", i + 1)))
            .chain(
                other_names
                    .iter()
                    .map(|n| (n.trim(), NAME.to_owned()))
                    .filter(|(n, _)| !n.is_empty()),
            );
        for (name, alias) in people {
            pseudonyms
                .entry(name.to_owned())
                .or_insert_with(|| alias.clone());
            // Each word of a name on its own is masked too ("Patel" of "Maya Patel"), and the
            // name run together ("Jeanluc" for "Jean-Luc").
            let words: Vec<&str> = name
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 2)
                .collect();
            for word in &words {
                name_to_alias
                    .entry(fold(word))
                    .or_insert_with(|| alias.clone());
            }
            // Any run of two or more of its words, apart ("Jean Luc") or run together
            // ("JEANLUC"), is the name too.
            for start in 0..words.len() {
                for end in start + 2..=words.len() {
                    let run = &words[start..end];
                    name_to_alias
                        .entry(fold(&run.concat()))
                        .or_insert_with(|| alias.clone());
                    phrases.push((run.join(" "), alias.clone()));
                }
            }
            name_to_alias
                .entry(fold(&normalize_name(name)))
                .or_insert_with(|| alias.clone());
        }
        for p in participants.iter().filter(|p| p.consent) {
            consented.insert(p.pseudonym.trim().to_owned());
            if keep_consented_names {
                let name = p.pseudonym.trim().to_owned();
                pseudonyms.insert(name.clone(), name);
            }
        }
        for p in participants {
            if let Some(contact) = p.contact.as_deref().map(str::trim)
                && !contact.is_empty()
            {
                phrases.push((contact.to_owned(), CONTACT.to_owned()));
            }
        }
        phrases.sort_by_key(|(p, _)| std::cmp::Reverse(p.chars().count()));
        phrases.dedup_by(|a, b| a.0 == b.0);
        let names = (!phrases.is_empty()).then(|| {
            let alternatives = phrases
                .iter()
                .map(|(p, _)| {
                    // Any run of spaces, hyphens or underscores between a name's words.
                    p.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
                        .filter(|w| !w.is_empty())
                        .map(regex::escape)
                        .collect::<Vec<_>>()
                        .join(r"[\s_-]+")
                })
                .collect::<Vec<_>>()
                .join("|");
            Regex::new(&format!(r"(?i){alternatives}")).expect("escaped names form a pattern")
        });
        let phrase_alias = phrases
            .into_iter()
            .map(|(p, alias)| (phrase_key(&p), alias))
            .collect();
        Redactor {
            pseudonyms,
            phrases: names,
            phrase_alias,
            name_shapes: NameShapes::of(name_to_alias.keys()),
            name_to_alias,
            consented,
            tally: Tally::default(),
        }
    }

    /// The participant's stable pseudonym (`P3`); an unknown name still never shows.
    pub fn participant(&self, name: &str) -> String {
        self.pseudonyms
            .get(name.trim())
            .cloned()
            .unwrap_or_else(|| "P?".into())
    }

    /// Whether the archive records this participant's consent.
    pub fn consented(&self, name: &str) -> bool {
        self.consented.contains(name.trim())
    }

    /// A note is left out when its speaker has no recorded consent, or, when nobody is named
    /// as its speaker, when any participant of its session has none.
    pub fn withholds(&self, speaker: Option<&str>, session_participants: &[String]) -> bool {
        match speaker {
            Some(p) => !self.consented(p),
            None => session_participants.iter().any(|p| !self.consented(p)),
        }
    }

    /// What was masked so far, by kind (`[email]`, `participant name`, …), for the export's
    /// report.
    pub fn masked(&self) -> BTreeMap<String, u64> {
        self.tally
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    fn alias_of_word(&self, word: &str) -> Option<&String> {
        // A word already folded (ASCII, no capital: most tag names) is looked up as it is.
        if word
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            return self.name_to_alias.get(word);
        }
        self.name_to_alias.get(&fold(word))
    }

    /// Free text with names replaced by pseudonyms and identifying details masked.
    pub fn text(&self, text: &str) -> String {
        self.mask(self.retag(text, &crate::model::parse_inline(text)))
    }

    /// The same, with the tags typed in the text before redaction (sorted, distinct): what
    /// redacting a note's tags needs, from the one reading of the text by the tag parser.
    pub(crate) fn text_and_typed_tags(&self, text: &str) -> (String, Vec<Tag>) {
        let spans = crate::model::parse_inline(text);
        let redacted = self.mask(self.retag(text, &spans));
        (redacted, crate::model::distinct_tags(spans))
    }

    /// Names and identifying details masked in text whose tags [`Self::retag`] redacted.
    fn mask(&self, text: String) -> String {
        let tally = &self.tally;
        let text = match &self.phrases {
            Some(re) => re.replace_all(&text, |c: &Captures<'_>| {
                let alias = self
                    .phrase_alias
                    .get(&phrase_key(&c[0]))
                    .cloned()
                    .unwrap_or_else(|| CONTACT.into());
                tally.count(kind_of_alias(&alias));
                alias
            }),
            None => text.as_str().into(),
        };
        // Each pattern below is tried only on text holding a character it cannot match
        // without (a link's `/` or `?`, a handle's `@`, a digit): most notes hold none, and
        // running every pattern over every note was most of a large report's time.
        let text = EMAIL_RE.replace_all(&text, |_: &Captures<'_>| tally.add(EMAIL));
        let text = if text.contains('/') || text.contains('?') {
            URL_RE.replace_all(&text, |_: &Captures<'_>| tally.add(URL))
        } else {
            text
        };
        let text = if !(text.contains('@') || text.contains('＠')) {
            text
        } else {
            HANDLE_RE.replace_all(&text, |c: &Captures<'_>| match c.name("lone") {
                // The space or bracket before a lone handle stays.
                Some(h) => format!(
                    "{}{}",
                    &c[0][..h.start() - c.get(0).map_or(0, |m| m.start())],
                    tally.add(HANDLE)
                ),
                None => format!("{}{}", &c["lead"], tally.add(HANDLE)),
            })
        };
        let digits = has_digit(&text);
        let text = if !digits {
            text
        } else {
            IBAN_RE.replace_all(&text, |c: &Captures<'_>| {
                let word = c.name("word").map_or("", |w| w.as_str());
                match iban_extent(&c["iban"], !word.is_empty()) {
                    Some(end) => format!("{word}{}{}", tally.add(BANK_ACCOUNT), &c["iban"][end..]),
                    None => c[0].to_owned(),
                }
            })
        };
        let text = if !digits {
            text
        } else {
            NATIONAL_ID_RE.replace_all(&text, |c: &Captures<'_>| {
                let found = &c[0];
                if DATE_OR_TIME_RE.is_match(found.trim()) {
                    return found.to_owned();
                }
                // The words naming the document stay: "passport no. [national id]".
                let lead = found
                    .char_indices()
                    .find(|&(_, ch)| ch.is_ascii_digit())
                    .map_or(0, |(i, _)| i);
                let lead = &found[..lead];
                let keep = if lead.chars().any(|ch| ch.is_alphabetic())
                    && lead.trim_end().len() < lead.len()
                {
                    lead
                } else {
                    ""
                };
                format!("{keep}{}", tally.add(NATIONAL_ID))
            })
        };
        let text = mask_names(&self.name_to_alias, &self.name_shapes, &text, tally);
        mask_numbers_and_addresses(&text, tally)
    }

    /// Inline tags named after people, written under their pseudonym.
    fn retag(&self, text: &str, spans: &[TagSpan]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in spans {
            let redacted = self.tag(&span.tag);
            if redacted != span.tag {
                out.push_str(&text[at..span.range.start]);
                out.push_str(&redacted.to_string());
                at = span.range.end;
            }
        }
        out.push_str(&text[at..]);
        out
    }

    /// A tag with every part of its name that names a person replaced: `@jean-luc` → `@p2`,
    /// `=maya-quote` → `=p1-quote`, `@priya` (masked) → `@name`.
    fn tag(&self, tag: &Tag) -> Tag {
        if let Some(alias) = self.alias_of_word(&tag.name) {
            self.tally.count(kind_of_alias(alias));
            return Tag::new(tag.facet, alias).unwrap_or_else(|| tag.clone());
        }
        let parts: Vec<&str> = tag.name.split('-').collect();
        let mut changed = false;
        let mut named: Vec<String> = Vec::new();
        let mut i = 0;
        while i < parts.len() {
            // Two parts that are one name run together (`jean-luc` → `jeanluc`) count once.
            let pair = (i + 1 < parts.len())
                .then(|| self.alias_of_word(&format!("{}{}", parts[i], parts[i + 1])))
                .flatten();
            if let Some(alias) = pair {
                named.push(alias.clone());
                changed = true;
                i += 2;
                continue;
            }
            match self.alias_of_word(parts[i]) {
                Some(alias) => {
                    changed = true;
                    named.push(alias.clone())
                }
                None => named.push(parts[i].to_owned()),
            }
            i += 1;
        }
        named.dedup();
        if !changed {
            return tag.clone();
        }
        self.tally.count(PSEUDONYM);
        Tag::new(tag.facet, &named.join("-")).unwrap_or_else(|| tag.clone())
    }

    /// A session as a redacted export shows it: names in its title and location replaced,
    /// participants by their pseudonyms, no contact details.
    pub fn session(&self, mut line: SessionLine) -> SessionLine {
        line.title = line.title.map(|t| self.text(&t));
        line.location = line.location.map(|t| self.text(&t));
        for p in &mut line.participants {
            p.pseudonym = self.participant(&p.pseudonym);
            p.contact = None;
        }
        line
    }

    /// Tags named after a participant (`@maya`) become their pseudonym (`@p1`).
    pub fn tags(&self, tags: &[Tag]) -> Vec<Tag> {
        let mut out: Vec<Tag> = tags.iter().map(|t| self.tag(t)).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A phrase as the table of whole names and contacts is keyed: folded words, one space apart.
fn phrase_key(phrase: &str) -> String {
    phrase
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .map(fold)
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind_of_alias(alias: &str) -> &'static str {
    match alias {
        NAME => NAME,
        CONTACT => CONTACT,
        _ => PSEUDONYM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails_phones_cards_and_addresses() {
        for (text, gone) in [
            ("write to maya.patel+shop@example.co.uk today", "example"),
            ("MAYA@EXAMPLE.COM", "EXAMPLE"),
            ("maya (at) example (dot) com", "example"),
            ("maya at example dot com", "example"),
            ("maya ＠ example．com", "example"),
            ("call +44 (0)20 7946 0958 after six", "7946"),
            ("call 020-7946-0958", "7946"),
            ("or 020/7946 0958", "7946"),
            ("or 555.123.4567", "4567"),
            ("card 4111 1111 1111 1111 was declined", "1111"),
            ("card 4111-1111-1111-1111", "1111"),
            ("number 4111111111111111", "4111"),
            ("lives at 221B Baker Street, London", "Baker"),
            ("at 12 high st. near the park", "high"),
            ("moved to Hauptstraße 5 last year", "Hauptstraße"),
            ("postcode SW1A 1AA", "SW1A"),
        ] {
            let masked = mask_details(text);
            assert!(!masked.contains(gone), "{text:?} became {masked:?}");
        }
        assert_eq!(
            mask_details("+44 (0)7700-900-123 / 4111 1111 1111 1111"),
            "[phone] / [card number]"
        );
    }

    #[test]
    fn masks_accounts_ids_links_and_handles_by_kind() {
        let r = Redactor::for_participants(&[]);
        for (text, gone, kind) in [
            (
                "IBAN GB82 WEST 1234 5698 7654 32 please",
                "5698",
                BANK_ACCOUNT,
            ),
            ("to DE89370400440532013000 today", "DE89", BANK_ACCOUNT),
            ("iban: gb29nwbk60161331926818", "gb29", BANK_ACCOUNT),
            ("NI AB 12 34 56 C", "AB 12", NATIONAL_ID),
            ("ssn 123-45-6789", "6789", NATIONAL_ID),
            ("DNI 12345678Z", "5678Z", NATIONAL_ID),
            ("CF RSSMRA85T10A562S", "RSSMRA", NATIONAL_ID),
            ("passport no. 533401372", "533401372", NATIONAL_ID),
            ("personnummer 850709-1234", "1234", NATIONAL_ID),
            ("see https://www.linkedin.com/in/someone-1", "someone", URL),
            ("linktr.ee/someone?x=1", "someone", URL),
            ("on ig: @some.one", "some.one", HANDLE),
            ("follow @cakes", "cakes", HANDLE),
            ("write to (@some_one)", "some_one", HANDLE),
        ] {
            let masked = r.text(text);
            assert!(!masked.contains(gone), "{text:?} became {masked:?}");
            assert!(masked.contains(kind), "{text:?} became {masked:?}");
        }
        // A mistyped IBAN with no word next to it reads as other digits: still masked.
        assert!(!r.text("GB82 WEST 1234 5698 7654 33").contains("5698"));
        assert!(r.masked()[BANK_ACCOUNT] >= 3);
    }

    #[test]
    fn ordinary_text_survives_the_whole_redactor() {
        let r = Redactor::for_participants(&[]);
        for text in [
            "waited 10 minutes on the street outside #checkout @busy-parent",
            "the ID card reader was broken, 12 people waited",
            "C# and F# on the shop's site marlows.example",
            "version 2.0 of the app; 50% off; gate B12",
            "she said no. Then left at 10:15",
        ] {
            assert_eq!(r.text(text), text);
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "waited 10 minutes on the street outside",
            "on 2026-09-03 at 10:15 the queue was 12 people",
            "paid £1,299.00 for the sofa",
            "5 stars, would shop again",
            "meet at noon. Then lunch",
            "Wow! a@b",
        ] {
            assert_eq!(mask_details(text), text);
        }
    }

    #[test]
    fn names_become_stable_pseudonyms() {
        let people = [
            Participant {
                pseudonym: "Maya Patel".into(),
                consent: true,
                consent_date: None,
                contact: Some("07700 900123".into()),
            },
            Participant {
                pseudonym: "Jo".into(),
                consent: false,
                consent_date: None,
                contact: None,
            },
        ];
        let r = Redactor::for_participants(&people);
        assert_eq!(r.participant("Maya Patel"), "P1");
        assert_eq!(r.participant("Jo"), "P2");
        assert_eq!(r.text("Maya Patel, 07700 900123"), "P1, [contact]");
        let text = r.text("MAYA said Patel's sister Jo (maya_patel) joined; JO agreed. Joy too.");
        assert_eq!(
            text,
            "P1 said P1's sister P2 (P1) joined; P2 agreed. Joy too."
        );
        assert!(r.withholds(Some("Jo"), &[]));
        assert!(!r.withholds(Some("Maya Patel"), &["Jo".into()]));
        assert!(r.withholds(None, &["Maya Patel".into(), "Jo".into()]));
        let tags = r.tags(&[Tag::new(crate::model::Facet::Persona, "maya").unwrap()]);
        assert_eq!(tags[0].name, "p1");
    }

    #[test]
    fn consented_names_may_stay_while_the_others_and_every_contact_go() {
        let people = [
            Participant {
                pseudonym: "Maya Patel".into(),
                consent: true,
                consent_date: None,
                contact: Some("07700 900123".into()),
            },
            Participant {
                pseudonym: "Jo".into(),
                consent: false,
                consent_date: None,
                contact: Some("jo@example.org".into()),
            },
        ];
        let r = Redactor::build(&people, &[], true);
        assert_eq!(r.participant("Maya Patel"), "Maya Patel");
        assert_eq!(r.participant("Jo"), "P2");
        assert_eq!(
            r.text("Maya Patel met Jo (jo@example.org); call Maya on 07700 900123"),
            "Maya Patel met P2 ([contact]); call Maya on [contact]"
        );
        let tags = r.tags(&[
            Tag::new(crate::model::Facet::Persona, "maya").unwrap(),
            Tag::new(crate::model::Facet::Persona, "jo").unwrap(),
        ]);
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["maya", "p2"]);
        // Consent decides which notes go, whoever is named.
        assert!(r.withholds(Some("Jo"), &[]));
        assert!(!r.withholds(Some("Maya Patel"), &[]));
    }
}
