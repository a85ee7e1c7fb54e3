//! Redaction on export: participants become stable pseudonyms (P1, P2, … in the order the
//! archive first recorded them), and e-mail addresses, phone numbers, card-like numbers and
//! street addresses in any text are masked. Notes of participants without recorded consent
//! are left out by the export (see [`Redactor::withholds`]). The archive itself never changes.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::error::Result;
use crate::model::{Participant, Tag, normalize_name};
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
    let text = EMAIL_RE.replace_all(text, EMAIL);
    let text = STREET_RE.replace_all(&text, |c: &Captures<'_>| {
        let words = c.name("words").map_or("", |m| m.as_str());
        let innocent = words
            .split_whitespace()
            .any(|w| NOT_ADDRESS_WORDS.contains(&w.to_lowercase().as_str()));
        if innocent {
            c[0].to_owned()
        } else {
            ADDRESS.to_owned()
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
                CARD.to_owned()
            } else if digits >= 7 {
                PHONE.to_owned()
            } else {
                found.to_owned()
            }
        })
        .into_owned()
}

/// Decides what a redacted export shows: pseudonyms for names, masked details, and which
/// notes to leave out.
pub struct Redactor {
    pseudonyms: HashMap<String, String>,
    /// Whole names of several words and contact details, masked before single words.
    phrases: Option<Regex>,
    phrase_alias: HashMap<String, String>,
    /// Each word of every name (lowercase), and each name as a tag would spell it.
    name_to_pseudonym: HashMap<String, String>,
    consented: HashSet<String>,
}

impl Redactor {
    /// Pseudonyms follow the order the archive first recorded each participant, so the same
    /// archive always gives the same P-numbers.
    pub fn new(store: &Store) -> Result<Redactor> {
        Ok(Redactor::for_participants(&store.participants()?))
    }

    /// The same, except that participants with recorded consent keep their names (a report's
    /// `--names`): only those without consent become pseudonyms.
    pub fn keeping_consented_names(store: &Store) -> Result<Redactor> {
        Ok(Redactor::build(&store.participants()?, true))
    }

    pub fn for_participants(participants: &[Participant]) -> Redactor {
        Redactor::build(participants, false)
    }

    fn build(participants: &[Participant], keep_consented_names: bool) -> Redactor {
        let mut pseudonyms = HashMap::new();
        let mut name_to_pseudonym = HashMap::new();
        let mut consented = HashSet::new();
        let mut phrases: Vec<String> = Vec::new();
        for (i, p) in participants.iter().enumerate() {
            let alias = format!("P{}", i + 1);
            let name = p.pseudonym.trim();
            if p.consent {
                consented.insert(name.to_owned());
            }
            if keep_consented_names && p.consent {
                pseudonyms.insert(name.to_owned(), name.to_owned());
                if let Some(contact) = p.contact.as_deref().map(str::trim)
                    && !contact.is_empty()
                {
                    phrases.push(contact.to_owned());
                }
                continue;
            }
            pseudonyms.insert(name.to_owned(), alias.clone());
            // Each word of a name on its own is masked too ("Patel" of "Maya Patel").
            let words: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).collect();
            for word in words.iter().filter(|w| w.chars().count() >= 2) {
                name_to_pseudonym
                    .entry(word.to_lowercase())
                    .or_insert_with(|| alias.clone());
            }
            name_to_pseudonym
                .entry(normalize_name(name))
                .or_insert_with(|| alias.clone());
            if words.len() > 1 {
                phrases.push(name.to_owned());
            }
            if let Some(contact) = p.contact.as_deref().map(str::trim)
                && !contact.is_empty()
            {
                phrases.push(contact.to_owned());
            }
        }
        phrases.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
        phrases.dedup();
        let names = (!phrases.is_empty()).then(|| {
            let alternatives = phrases
                .iter()
                .map(|p| regex::escape(p))
                .collect::<Vec<_>>()
                .join("|");
            Regex::new(&format!(r"(?i){alternatives}")).expect("escaped names form a pattern")
        });
        let phrase_alias = phrases
            .into_iter()
            .map(|p| {
                let alias = participants
                    .iter()
                    .position(|q| q.pseudonym.trim() == p)
                    .map_or_else(|| "[contact]".to_owned(), |i| format!("P{}", i + 1));
                (p.to_lowercase(), alias)
            })
            .collect();
        Redactor {
            pseudonyms,
            phrases: names,
            phrase_alias,
            name_to_pseudonym,
            consented,
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

    /// Free text with names replaced by pseudonyms and identifying details masked.
    pub fn text(&self, text: &str) -> String {
        let text = match &self.phrases {
            Some(re) => re.replace_all(text, |c: &Captures<'_>| {
                self.phrase_alias
                    .get(&c[0].to_lowercase())
                    .cloned()
                    .unwrap_or_else(|| "[contact]".into())
            }),
            None => text.into(),
        };
        let text = WORD_RE.replace_all(&text, |c: &Captures<'_>| {
            match self.name_to_pseudonym.get(&c[0].to_lowercase()) {
                Some(alias) => alias.clone(),
                None => c[0].to_owned(),
            }
        });
        mask_details(&text)
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
        let mut out: Vec<Tag> = tags
            .iter()
            .map(|t| match self.name_to_pseudonym.get(&t.name) {
                Some(alias) => Tag::new(t.facet, alias).unwrap_or_else(|| t.clone()),
                None => t.clone(),
            })
            .collect();
        out.sort();
        out.dedup();
        out
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
            "P1 said P1's sister P2 (P1_P1) joined; P2 agreed. Joy too."
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
        let r = Redactor::build(&people, true);
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
