//! Reading REFI-QDA (QDA-XML 1.0): projects (`.qdpx`) from NVivo, ATLAS.ti, MAXQDA,
//! QualCoder, Taguette or fieldnotes itself, and codebooks (`.qdc`).
//!
//! - Each text source becomes a session (titled after the source, started when the source
//!   was created, its creating user as the researcher); each selection of its text becomes a
//!   note whose body is the selected text and whose tags are the selection's codes.
//! - Codes under a top-level code named after a facet (`Persona`, `Touchpoints`, `Emotion`,
//!   `Job to be done`, `Jobs`, as fieldnotes' own export writes them) become tags of that
//!   facet; every other code becomes a `=code`. A code's tag is its own name, normalised;
//!   when two codes of a facet would share a name (`Staff › Attitude`, `Product ›
//!   Attitude`), each takes the path of names instead (`=staff-attitude`). Codes marked not
//!   codable only group others. A code's description goes to the tag's description, unless
//!   the archive already has one (then it is kept and the import warns).
//! - Cases become participants. A selection a case names (`SelectionRef`) is credited to
//!   it; the other selections of a source that exactly one case names (`SourceRef`) are
//!   credited to that case.
//! - Positions are Unicode code points, as the standard says; some suites count a `\r\n`
//!   line break as one, or count UTF-16 units. For each source the counting that puts the
//!   selections on the most sensible boundaries (not inside a word, a line break or an emoji)
//!   is used, the standard's on a tie.
//! - PDF, picture, audio and video sources, memos, and sources whose text is missing or
//!   outside the project are left out, each named in the import's warnings.
//!
//! A project fieldnotes exported is recognised by what the export writes into descriptions
//! (`fieldnotes session ID`, `fieldnotes note ID`): its sessions and notes keep their ids,
//! kinds, studies, titles, participants and offsets, so exporting again gives the same
//! project. Other projects' ids derive from their GUIDs, so importing again adds nothing.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::error::{Error, Result};
use crate::model::{Facet, Feedback, NoteKind, Participant, SessionKind, Tag, normalize_name};
use crate::store::{ImportSink, JOURNEY_STAGES, NewSession, NoteRecord, PassageRecord, TagInfo};
use crate::time;

use super::stable_id::stable_ulid;
use super::xml::{self, Element, Package};

/// What the researcher says about a project's notes beyond what the project says.
#[derive(Debug, Clone)]
pub struct RefiOptions {
    /// The study of sessions the project does not place in one (those fieldnotes did not
    /// export).
    pub study: String,
    pub session_kind: SessionKind,
    /// The kind of a note the project does not give one for.
    pub kind: NoteKind,
    /// The researcher of a source with no creating user.
    pub researcher: Option<String>,
    /// When a source with no creation time started.
    pub started_at: Option<DateTime<Utc>>,
    pub feedback: Option<Feedback>,
}

/// Where in the file something is: the zip entry and, inside XML, the element or line.
fn fail(file: &str, location: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Import {
        file: file.to_owned(),
        location: location.into(),
        reason: reason.into(),
    }
}

/// An XML part of the file, for errors that name where in it something is wrong.
struct Part<'a> {
    file: &'a str,
    /// `project.qde`, or `the codebook` for a `.qdc`.
    entry: String,
}

impl Part<'_> {
    fn at(&self, el: &Element, reason: impl Into<String>) -> Error {
        fail(
            self.file,
            format!("{}, {}", self.entry, el.describe()),
            reason,
        )
    }

    fn required<'e>(&self, el: &'e Element, attr: &str) -> Result<&'e str> {
        el.attr(attr)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| self.at(el, format!("the required attribute `{attr}` is missing")))
    }

    fn guid(&self, el: &Element, attr: &str) -> Result<String> {
        Ok(guid(self.required(el, attr)?))
    }

    fn position(&self, el: &Element, attr: &str) -> Result<i64> {
        let v = self.required(el, attr)?;
        v.trim()
            .parse()
            .map_err(|_| self.at(el, format!("`{attr}` is {v:?}, not a whole number")))
    }

    fn time(&self, el: &Element, attr: &str) -> Result<Option<DateTime<Utc>>> {
        el.attr(attr)
            .map(|v| {
                xml::date_time(v).ok_or_else(|| {
                    self.at(
                        el,
                        format!("`{attr}` is {v:?}, not a date and time (2026-09-03T10:00:00Z)"),
                    )
                })
            })
            .transpose()
    }
}

/// GUIDs compared the same however a suite writes them (`{ABC…}`, `abc…`).
fn guid(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_ascii_lowercase()
}

/// An element's description: its `Description` child, or a `description` attribute.
fn description(el: &Element) -> Option<String> {
    el.child("Description")
        .map(|d| d.text.as_str())
        .or_else(|| el.attr("description"))
        .map(|d| d.replace("\r\n", "\n").trim().to_owned())
        .filter(|d| !d.is_empty())
}

// ---------------------------------------------------------------------------------------
// The codebook

/// The facet a top-level code stands for, by its name: fieldnotes' own export writes
/// `Persona`, `Touchpoint`, `Emotion`, `Job to be done` and `Code`; other suites' plurals
/// are understood too.
fn facet_named(name: &str) -> Option<Facet> {
    match normalize_name(name).as_str() {
        "persona" | "personas" => Some(Facet::Persona),
        "touchpoint" | "touchpoints" => Some(Facet::Touchpoint),
        "emotion" | "emotions" => Some(Facet::Emotion),
        "job" | "jobs" | "job-to-be-done" | "jobs-to-be-done" => Some(Facet::Job),
        "code" | "codes" => Some(Facet::Code),
        _ => None,
    }
}

/// A code of the codebook, as fieldnotes takes it.
struct CodeIn {
    guid: String,
    /// The listed code it is nested in (an index into `Codebook::codes`).
    parent: Option<usize>,
    /// Its own colour, when it is not its facet's (fieldnotes' export paints a code without
    /// one in its facet's colour).
    colour: Option<String>,
    /// The tag a coding with this code gives (`None` when its name has no letters).
    tag: Option<Tag>,
    /// Listed in the archive's codebook: codable codes, not the facets' parent codes.
    listed: bool,
    info: TagInfo,
}

#[derive(Default)]
struct Codebook {
    codes: Vec<CodeIn>,
    by_guid: HashMap<String, usize>,
    warnings: Vec<String>,
}

struct RawCode<'a> {
    el: &'a Element,
    guid: String,
    facet: Facet,
    /// Names from below the facet's parent code down to this one.
    path: Vec<String>,
    listed: bool,
    facet_parent: bool,
    /// The nearest listed code it sits under (an index into the raw list).
    parent: Option<usize>,
}

impl Codebook {
    /// Reads `<Codes>`: the codes, nested as deep as the suite nests them.
    fn read(part: &Part<'_>, codes: &Element) -> Result<Codebook> {
        let mut raw = Vec::new();
        for top in codes.children_named("Code") {
            let name = part.required(top, "name")?;
            let has_children = top.children_named("Code").next().is_some();
            let codable = is_codable(top);
            match facet_named(name).filter(|_| has_children || !codable) {
                Some(facet) => {
                    raw.push(RawCode {
                        el: top,
                        guid: part.guid(top, "guid")?,
                        facet: Facet::Code,
                        path: vec![name.to_owned()],
                        listed: false,
                        facet_parent: true,
                        parent: None,
                    });
                    for child in top.children_named("Code") {
                        walk(part, child, facet, &[], None, &mut raw)?;
                    }
                }
                None => walk(part, top, Facet::Code, &[], None, &mut raw)?,
            }
        }
        // A code's own name, unless another code of its facet has the same one.
        let mut owners: HashMap<(Facet, String), HashSet<&str>> = HashMap::new();
        for r in raw.iter().filter(|r| !r.facet_parent) {
            let own = normalize_name(r.path.last().expect("a code has a name"));
            owners
                .entry((r.facet, own))
                .or_default()
                .insert(r.guid.as_str());
        }
        let mut book = Codebook::default();
        for r in &raw {
            let own = normalize_name(r.path.last().expect("a code has a name"));
            let shared = !r.facet_parent && owners[&(r.facet, own.clone())].len() > 1;
            let name = if shared {
                normalize_name(&r.path.join(" "))
            } else {
                own
            };
            let tag = Tag::new(r.facet, &name);
            if tag.is_none() {
                book.warnings.push(format!(
                    "{}: the code {:?} has no letters or digits to name a tag: its codings are left out",
                    part.entry,
                    r.path.join(" › ")
                ));
            }
            let info = match (r.facet_parent, description(r.el)) {
                (false, Some(text)) => parse_code_description(&text, r.facet),
                _ => TagInfo::default(),
            };
            if book.by_guid.contains_key(&r.guid) {
                return Err(part.at(r.el, "another code has the same guid"));
            }
            book.by_guid.insert(r.guid.clone(), book.codes.len());
            let colour =
                r.el.attr("color")
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| {
                        !r.facet_parent
                            && c.len() == 7
                            && c.starts_with('#')
                            && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())
                            && c != super::refi::facet_color(r.facet)
                    });
            book.codes.push(CodeIn {
                guid: r.guid.clone(),
                parent: r.parent,
                colour,
                tag,
                listed: r.listed,
                info,
            });
        }
        Ok(book)
    }

    /// The tag a `CodeRef` stands for; an unknown code is an error.
    fn tag_of(&self, part: &Part<'_>, at: &Element, target: &str) -> Result<Option<&Tag>> {
        match self.by_guid.get(&guid(target)) {
            Some(&i) => Ok(self.codes[i].tag.as_ref()),
            None => Err(part.at(
                at,
                format!("it is coded with the code {target}, which is not in the codebook"),
            )),
        }
    }

    /// Writes the listed codes into the archive's codebook.
    fn write(&self, file: &str, sink: &mut ImportSink<'_>) -> Result<()> {
        for w in &self.warnings {
            sink.warn(w.clone());
        }
        let mut seen = HashSet::new();
        for code in self.codes.iter().filter(|c| c.listed) {
            let Some(tag) = &code.tag else { continue };
            if !seen.insert(tag.clone()) && code.info == TagInfo::default() {
                continue;
            }
            let kept = sink
                .tag_info(tag, &code.info)
                .map_err(|e| fail(file, format!("the code {}", code.guid), e.to_string()))?;
            if !kept.is_empty() {
                sink.warn(format!(
                    "{tag}: the archive's {} kept (the codebook says otherwise)",
                    kept.join(" and ")
                ));
            }
            let parent = code.parent.and_then(|i| self.codes[i].tag.as_ref());
            if parent.is_some() || code.colour.is_some() {
                sink.tag_links(tag, parent, code.colour.as_deref())
                    .map_err(|e| fail(file, format!("the code {}", code.guid), e.to_string()))?;
            }
        }
        Ok(())
    }
}

/// Whether a code may be applied (`isCodable`, required by the schema; true when absent).
fn is_codable(el: &Element) -> bool {
    !matches!(el.attr("isCodable").map(str::trim), Some("false" | "0"))
}

fn walk<'a>(
    part: &Part<'_>,
    el: &'a Element,
    facet: Facet,
    above: &[String],
    parent: Option<usize>,
    out: &mut Vec<RawCode<'a>>,
) -> Result<()> {
    let name = part.required(el, "name")?;
    let mut path = above.to_vec();
    path.push(name.to_owned());
    let codable = is_codable(el);
    let me = out.len();
    out.push(RawCode {
        parent,
        el,
        guid: part.guid(el, "guid")?,
        facet,
        path: path.clone(),
        listed: codable,
        facet_parent: false,
    });
    // A code that only groups others is not in the archive: its children go under the
    // nearest code that is.
    let under = if codable { Some(me) } else { parent };
    for child in el.children_named("Code") {
        walk(part, child, facet, &path, under, out)?;
    }
    Ok(())
}

/// What a code's description says, read the way fieldnotes' export writes it: the
/// description, a job's statement ("When …"), `valence +1`, `journey stage: buy`, joined
/// with ` · `. Any other text is the description as it stands.
fn parse_code_description(text: &str, facet: Facet) -> TagInfo {
    let mut parts: Vec<&str> = text.split(" · ").collect();
    let mut info = TagInfo::default();
    if let Some(stage) = parts
        .last()
        .and_then(|p| p.strip_prefix("journey stage: "))
        .filter(|s| JOURNEY_STAGES.contains(s))
    {
        info.stage = Some(stage.to_owned());
        parts.pop();
    }
    if let Some(v) = parts
        .last()
        .and_then(|p| p.strip_prefix("valence "))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| (-2..=2).contains(v))
    {
        info.valence = Some(v);
        parts.pop();
    }
    if facet == Facet::Job
        && let Some(s) = parts.last().filter(|p| p.starts_with("When "))
    {
        info.statement = Some((*s).to_owned());
        parts.pop();
    }
    let rest = parts.join(" · ");
    info.description = (!rest.trim().is_empty()).then_some(rest);
    info
}

/// Imports a codebook (`.qdc`): its codes become tags with their descriptions; no notes.
pub fn import_codebook(file: &str, text: &str, sink: &mut ImportSink<'_>) -> Result<()> {
    let part = Part {
        file,
        entry: "the codebook".into(),
    };
    let root = xml::parse_part(file, &part.entry, text)?;
    if root.name != "CodeBook" {
        return Err(part.at(
            &root,
            "the root element is not <CodeBook>: is this a REFI-QDA codebook (.qdc)?",
        ));
    }
    let codes = root
        .child("Codes")
        .ok_or_else(|| part.at(&root, "it has no <Codes>"))?;
    let book = Codebook::read(&part, codes)?;
    if book.codes.is_empty() {
        return Err(part.at(codes, "there is no <Code> in it"));
    }
    book.write(file, sink)
}

// ---------------------------------------------------------------------------------------
// Positions

/// How a suite counted a source's positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counting {
    /// Unicode code points, as the standard says.
    CodePoints,
    /// Code points, with a `\r\n` line break counted as one.
    CodePointsCrlfAsOne,
    /// UTF-16 code units (an emoji counts two).
    Utf16,
    Utf16CrlfAsOne,
}

/// For each position in `counting`'s units, the character it falls before (`None` inside a
/// character, as in the middle of a UTF-16 pair).
fn unit_map(chars: &[char], counting: Counting) -> Vec<Option<usize>> {
    let crlf_one = matches!(
        counting,
        Counting::CodePointsCrlfAsOne | Counting::Utf16CrlfAsOne
    );
    let utf16 = matches!(counting, Counting::Utf16 | Counting::Utf16CrlfAsOne);
    let mut map = Vec::with_capacity(chars.len() + 1);
    let mut pending = None;
    for (i, &c) in chars.iter().enumerate() {
        if crlf_one && c == '\r' && chars.get(i + 1) == Some(&'\n') {
            // The pair is one unit: its position is before the `\r`.
            pending = Some(i);
            continue;
        }
        map.push(Some(pending.take().unwrap_or(i)));
        if utf16 {
            for _ in 1..c.len_utf16() {
                map.push(None);
            }
        }
    }
    map.push(Some(chars.len()));
    map
}

/// Scripts written without spaces between words, where any cut between characters is fine.
fn spaceless(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF          // Thai, Lao
        | 0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0xFF66..=0xFF9F        // half-width Katakana
        | 0x20000..=0x3FFFF) // CJK extensions B…
}

/// A character that belongs to the one before it (an emoji's joiner or skin tone, a
/// variation selector, a combining accent).
fn attaches(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x200D | 0xFE00..=0xFE0F | 0x1F3FB..=0x1F3FF)
}

/// Whether a selection may sensibly start or end before `chars[i]`: not inside a word, a
/// `\r\n` or an emoji.
fn sensible_cut(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
    let after = chars.get(i).copied();
    let wordy = |c: char| c.is_alphanumeric() && !spaceless(c);
    match (before, after) {
        (Some('\r'), Some('\n')) => false,
        (_, Some(a)) if attaches(a) => false,
        (Some('\u{200d}'), _) => false,
        (Some(b), Some(a)) => !(wordy(b) && wordy(a)),
        _ => true,
    }
}

/// A selection's characters (`start..end`), `None` when its positions fall outside the text.
type Placed = Option<(usize, usize)>;

/// The counting that places `positions` best in `chars`, and each selection's characters
/// under it.
fn locate(chars: &[char], positions: &[(i64, i64)]) -> (Counting, Vec<Placed>) {
    let crlf = chars.windows(2).any(|w| w == ['\r', '\n']);
    let wide = chars.iter().any(|c| c.len_utf16() > 1);
    let mut candidates = vec![Counting::CodePoints];
    if crlf {
        candidates.push(Counting::CodePointsCrlfAsOne);
    }
    if wide {
        candidates.push(Counting::Utf16);
    }
    if crlf && wide {
        candidates.push(Counting::Utf16CrlfAsOne);
    }
    let place = |map: &[Option<usize>], (s, e): (i64, i64)| -> Placed {
        let at = |p: i64| usize::try_from(p).ok().and_then(|p| *map.get(p)?);
        let (s, e) = (at(s)?, at(e)?);
        (s <= e).then_some((s, e))
    };
    let mut best: Option<((usize, usize), Counting, Vec<Placed>)> = None;
    for counting in candidates {
        let map = unit_map(chars, counting);
        let placed: Vec<_> = positions.iter().map(|&p| place(&map, p)).collect();
        let outside = placed.iter().filter(|p| p.is_none()).count();
        let sensible = placed
            .iter()
            .flatten()
            .map(|&(s, e)| {
                usize::from(sensible_cut(chars, s)) + usize::from(sensible_cut(chars, e))
            })
            .sum::<usize>();
        // Fewer selections outside the text first, then more sensible cuts; the earlier
        // candidate (the standard's counting first) on a tie.
        let score = (outside, usize::MAX - sensible);
        if best.as_ref().is_none_or(|(b, ..)| score < *b) {
            best = Some((score, counting, placed));
        }
    }
    let (_, counting, placed) = best.expect("there is always one candidate");
    (counting, placed)
}

// ---------------------------------------------------------------------------------------
// The project

/// A session fieldnotes exported, as its source's description says it.
#[derive(Debug, Clone, PartialEq)]
struct OurSession {
    id: String,
    study: String,
    kind: SessionKind,
    researcher: Option<String>,
    location: Option<String>,
    channel: Option<String>,
}

/// Reads `interview in the study S; researcher: R; location: L; channel: C; fieldnotes
/// session ID`, as `refi::source_description` writes it.
fn parse_our_session(text: &str) -> Option<OurSession> {
    let (rest, id) = text.rsplit_once("; fieldnotes session ")?;
    ulid::Ulid::from_string(id.trim()).ok()?;
    let (kind, mut rest) = rest.split_once(" in the study ")?;
    let kind = kind.parse().ok()?;
    let mut take = |marker: &str| {
        let (before, value) = rest.rsplit_once(marker)?;
        rest = before;
        Some(value.to_owned())
    };
    let channel = take("; channel: ");
    let location = take("; location: ");
    let researcher = take("; researcher: ");
    Some(OurSession {
        id: id.trim().to_owned(),
        study: rest.to_owned(),
        kind,
        researcher,
        location,
        channel,
    })
}

/// A note id fieldnotes exported: `fieldnotes note ID` in a selection's description.
fn our_note_id(el: &Element) -> Option<String> {
    let text = description(el)?;
    let id = text.strip_prefix("fieldnotes note ")?.trim();
    ulid::Ulid::from_string(id).ok()?;
    Some(id.to_owned())
}

/// The note a selection is a passage of, when fieldnotes exported it as one.
fn our_passage_note(el: &Element) -> Option<String> {
    let text = description(el)?;
    let id = text.strip_prefix(super::refi::PASSAGE_OF)?.trim();
    ulid::Ulid::from_string(id).ok()?;
    Some(id.to_owned())
}

/// A selection's name as fieldnotes writes it: `quote +12:34` (kind, then offset).
fn our_kind_and_offset(name: &str) -> Option<(NoteKind, Option<i64>)> {
    let (kind, offset) = match name.split_once(' ') {
        Some((k, o)) => (k, Some(o)),
        None => (name, None),
    };
    let kind = kind.parse().ok()?;
    let offset = match offset {
        None => None,
        Some(o) => {
            let parts: Vec<i64> = o
                .strip_prefix('+')?
                .split(':')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            let seconds = match parts.as_slice() {
                [m, s] => m * 60 + s,
                [h, m, s] => h * 3600 + m * 60 + s,
                _ => return None,
            };
            Some(seconds * 1000)
        }
    };
    Some((kind, offset))
}

/// A participant named by a case.
fn participant(name: &str) -> Participant {
    Participant {
        pseudonym: name.to_owned(),
        consent: false,
        consent_date: None,
        contact: None,
    }
}

/// A case: who it is, the sources and selections it names.
struct CaseIn {
    name: String,
    sources: BTreeSet<String>,
    selections: Vec<String>,
}

/// A selection of a source, read.
struct SelectionIn<'a> {
    el: &'a Element,
    guid: String,
    /// The note's own id, when fieldnotes exported the selection as a note.
    note_id: Option<String>,
    start: i64,
    end: i64,
    created: Option<DateTime<Utc>>,
    modified: Option<DateTime<Utc>>,
    tags: Vec<Tag>,
}

/// A text source, read.
struct SourceIn<'a> {
    el: &'a Element,
    guid: String,
    name: Option<String>,
    text: Vec<char>,
    ours: Option<OurSession>,
    created: Option<DateTime<Utc>>,
    researcher: Option<String>,
    selections: Vec<SelectionIn<'a>>,
    /// fieldnotes' own passages (selections described as a passage of a note).
    passages: Vec<PassageIn>,
}

/// A passage of a note, as fieldnotes exports it: positions in the source, like its note's.
struct PassageIn {
    note: String,
    start: i64,
    end: i64,
    tags: Vec<Tag>,
    coder: String,
    created: Option<DateTime<Utc>>,
}

/// Imports a REFI-QDA project (`.qdpx`) into the import's transaction.
pub fn import_project(
    file: &str,
    bytes: &[u8],
    o: &RefiOptions,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let mut zip = Package::open(
        file,
        bytes,
        "a REFI-QDA project (.qdpx) is a zip holding project.qde",
    )?;
    let entry = match zip.find("project.qde") {
        Some(e) => e,
        None => {
            let qde: Vec<&String> = zip
                .names
                .iter()
                .filter(|n| n.to_lowercase().ends_with(".qde"))
                .collect();
            match qde.as_slice() {
                [only] => (*only).clone(),
                _ => {
                    return Err(fail(
                        file,
                        "the zip",
                        "it holds no project.qde: is this a REFI-QDA project?",
                    ));
                }
            }
        }
    };
    let root = zip.xml(&entry)?;
    let part = Part { file, entry };
    if root.name != "Project" {
        return Err(part.at(
            &root,
            "the root element is not <Project>: is this a REFI-QDA project?",
        ));
    }

    let mut users = HashMap::new();
    for u in root
        .child("Users")
        .into_iter()
        .flat_map(|u| u.children_named("User"))
    {
        if let Some(name) = u.attr("name").map(str::trim).filter(|n| !n.is_empty()) {
            users.insert(part.guid(u, "guid")?, name.to_owned());
        }
    }
    let user = |el: &Element, attr: &str| el.attr(attr).and_then(|g| users.get(&guid(g))).cloned();
    let project_user = user(&root, "creatingUserGUID");

    let book = match root.child("CodeBook").and_then(|b| b.child("Codes")) {
        Some(codes) => Codebook::read(&part, codes)?,
        None => Codebook::default(),
    };

    let mut cases = Vec::new();
    for c in root
        .child("Cases")
        .into_iter()
        .flat_map(|c| c.children_named("Case"))
    {
        let id = part.guid(c, "guid")?;
        let name = match c.attr("name").map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => {
                sink.warn(format!(
                    "{}: the case {id} has no name: its participant is called \"Case {}\"",
                    part.entry,
                    &id[..id.len().min(8)]
                ));
                format!("Case {}", &id[..id.len().min(8)])
            }
        };
        let refs = |kind: &str| -> Result<Vec<String>> {
            c.children_named(kind)
                .map(|r| part.guid(r, "targetGUID"))
                .collect()
        };
        cases.push(CaseIn {
            name,
            sources: refs("SourceRef")?.into_iter().collect(),
            selections: refs("SelectionRef")?,
        });
    }

    let mut sources = Vec::new();
    let mut known_sources = HashSet::new();
    let mut known_selections = HashSet::new();
    for el in root.child("Sources").into_iter().flat_map(|s| &s.children) {
        let id = part.guid(el, "guid")?;
        known_sources.insert(id.clone());
        let label = el
            .attr("name")
            .map(|n| format!("{n:?}"))
            .unwrap_or_else(|| id.clone());
        let kind = match el.name.as_str() {
            "TextSource" => None,
            "PDFSource" => Some("a PDF"),
            "PictureSource" => Some("a picture"),
            "AudioSource" => Some("audio"),
            "VideoSource" => Some("video"),
            _ => Some("of a kind REFI-QDA does not define"),
        };
        if let Some(kind) = kind {
            sink.skip(format!(
                "{}: source {label} is {kind}: fieldnotes imports text sources only, left out",
                part.entry
            ));
            continue;
        }
        let text = match source_text(&mut zip, el)? {
            Ok(text) => text,
            Err(why) => {
                sink.skip(format!("{}: source {label}: {why}, left out", part.entry));
                continue;
            }
        };
        if el.child("Coding").is_some() {
            sink.warn(format!(
                "{}: source {label} is coded as a whole: those codes are not on any note",
                part.entry
            ));
        }
        let ours = description(el).as_deref().and_then(parse_our_session);
        let mut selections = Vec::new();
        let mut passages = Vec::new();
        for s in el.children_named("PlainTextSelection") {
            let mut tags = Vec::new();
            let mut coder = None;
            for coding in s.children_named("Coding") {
                let code_ref = coding
                    .child("CodeRef")
                    .ok_or_else(|| part.at(coding, "a <Coding> without a <CodeRef>"))?;
                let target = part.required(code_ref, "targetGUID")?;
                if let Some(tag) = book.tag_of(&part, s, target)? {
                    tags.push(tag.clone());
                }
                coder = coder.or_else(|| user(coding, "creatingUser"));
            }
            tags.sort();
            tags.dedup();
            if ours.is_some()
                && let Some(note) = our_passage_note(s)
            {
                let guid = part.guid(s, "guid")?;
                let Some(coder) = coder.or_else(|| user(s, "creatingUser")) else {
                    sink.skip(format!(
                        "{}: passage {guid} of note {note} names no coder, left out",
                        part.entry
                    ));
                    continue;
                };
                known_selections.insert(guid);
                passages.push(PassageIn {
                    note,
                    start: part.position(s, "startPosition")?,
                    end: part.position(s, "endPosition")?,
                    tags,
                    coder,
                    created: part.time(s, "creationDateTime")?,
                });
                continue;
            }
            let sel = SelectionIn {
                el: s,
                guid: part.guid(s, "guid")?,
                note_id: ours.as_ref().and_then(|_| our_note_id(s)),
                start: part.position(s, "startPosition")?,
                end: part.position(s, "endPosition")?,
                created: part.time(s, "creationDateTime")?,
                modified: part.time(s, "modifiedDateTime")?,
                tags,
            };
            known_selections.insert(sel.guid.clone());
            selections.push(sel);
        }
        sources.push(SourceIn {
            el,
            guid: id,
            name: el.attr("name").map(str::to_owned),
            text: text.chars().collect(),
            ours,
            created: part.time(el, "creationDateTime")?,
            researcher: user(el, "creatingUser").or_else(|| project_user.clone()),
            selections,
            passages,
        });
    }
    for memo in root
        .child("Notes")
        .into_iter()
        .flat_map(|n| n.children_named("Note"))
    {
        let label = memo
            .attr("name")
            .map(|n| format!("{n:?}"))
            .unwrap_or_else(|| memo.describe());
        sink.skip(format!(
            "{}: memo {label}: REFI-QDA memos (notes) are not imported, left out",
            part.entry
        ));
    }
    if book.codes.is_empty() && cases.is_empty() && sources.is_empty() {
        return Err(part.at(&root, "it holds no codes, cases or sources"));
    }
    for case in &cases {
        let dangling = case
            .sources
            .iter()
            .filter(|s| !known_sources.contains(*s))
            .chain(
                case.selections
                    .iter()
                    .filter(|s| !known_selections.contains(*s)),
            )
            .count();
        if dangling > 0 {
            sink.warn(format!(
                "{}: the case {:?} names {dangling} sources or selections the project does not hold",
                part.entry, case.name
            ));
        }
    }

    book.write(file, sink)?;
    write_participants(&cases, &sources, sink)?;
    let credit = credits(&part, &cases, &sources, sink);
    for source in &sources {
        write_source(&part, o, &cases, &credit, source, sink)?;
    }
    Ok(())
}

/// A text source's text: its `PlainTextContent`, or the file its `plainTextPath` names in the
/// zip. The inner `Err` says why it cannot be read (the source is left out).
fn source_text(zip: &mut Package<'_>, el: &Element) -> Result<std::result::Result<String, String>> {
    if let Some(content) = el.child("PlainTextContent") {
        return Ok(Ok(content.text.clone()));
    }
    let Some(path) = el.attr("plainTextPath").map(str::trim) else {
        return Ok(Err(match el.attr("richTextPath") {
            Some(rich) => format!("its text is only rich text ({rich}), which is not read"),
            None => "it has no text".into(),
        }));
    };
    let Some(inner) = path.strip_prefix("internal://") else {
        return Ok(Err(format!(
            "its text is outside the project file ({path}), which is not read"
        )));
    };
    let entry = zip
        .find(&format!("sources/{inner}"))
        .or_else(|| zip.find(inner));
    match entry {
        Some(entry) => zip.text(&entry).map(Ok),
        None => Ok(Err(format!(
            "its text sources/{inner} is not in the project"
        ))),
    }
}

/// Creates the participants: first those fieldnotes' own sources list (in an order that
/// agrees with every list, as the archive that exported them recorded them), then every
/// case.
fn write_participants(
    cases: &[CaseIn],
    sources: &[SourceIn<'_>],
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let lists: Vec<Vec<String>> = sources
        .iter()
        .filter_map(|s| our_title_and_participants(s, cases).map(|(_, p)| p))
        .collect();
    for name in agreeing_order(&lists) {
        sink.participant(&participant(&name))?;
    }
    for case in cases {
        sink.participant(&participant(&case.name))?;
    }
    Ok(())
}

/// One order of all names that keeps every list's order (the lists are parts of one order):
/// a topological sort, earlier-seen names first where the lists leave it open.
fn agreeing_order(lists: &[Vec<String>]) -> Vec<String> {
    let mut seen: Vec<&String> = Vec::new();
    let mut after: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
    let mut needs: HashMap<&String, usize> = HashMap::new();
    for list in lists {
        for (i, name) in list.iter().enumerate() {
            if !seen.contains(&name) {
                seen.push(name);
                needs.entry(name).or_insert(0);
            }
            if let Some(next) = list.get(i + 1)
                && after.entry(name).or_default().insert(next)
            {
                *needs.entry(next).or_insert(0) += 1;
            }
        }
    }
    let mut out = Vec::new();
    while out.len() < seen.len() {
        // The first-seen name nothing must precede; a cycle (lists that disagree) takes the
        // first-seen name left.
        let next = seen
            .iter()
            .find(|n| needs[**n] == 0 && !out.contains(**n))
            .or_else(|| seen.iter().find(|n| !out.contains(**n)))
            .copied()
            .expect("a name is left");
        needs.insert(next, usize::MAX / 2);
        for n in after.get(next).into_iter().flatten() {
            if let Some(k) = needs.get_mut(n) {
                *k = k.saturating_sub(1);
            }
        }
        out.push(next.clone());
    }
    out
}

/// A fieldnotes source's session title and participants, read back from its name (`title ·
/// Maya, Jo · 2026-09-03 10:00`, the title being the kind when there was none).
fn our_title_and_participants(
    source: &SourceIn<'_>,
    cases: &[CaseIn],
) -> Option<(Option<String>, Vec<String>)> {
    let ours = source.ours.as_ref()?;
    let name = source.name.as_deref()?;
    let started = source.created?;
    let suffix = format!(" · {}", started.format("%Y-%m-%d %H:%M"));
    let rest = name.strip_suffix(&suffix).unwrap_or(name);
    let named_here: HashSet<&str> = cases
        .iter()
        .filter(|c| c.sources.contains(&source.guid))
        .map(|c| c.name.as_str())
        .collect();
    let (rest, who) = match rest.rsplit_once(" · ") {
        Some((head, tail)) if tail.split(", ").all(|p| named_here.contains(p)) => {
            (head, tail.split(", ").map(str::to_owned).collect())
        }
        _ => (rest, Vec::new()),
    };
    let title = (rest != ours.kind.as_str()).then(|| rest.to_owned());
    Some((title, who))
}

/// Who each selection a case names is credited to: the first case naming it (with a warning
/// when another names it too).
fn credits<'c>(
    part: &Part<'_>,
    cases: &'c [CaseIn],
    sources: &[SourceIn<'_>],
    sink: &mut ImportSink<'_>,
) -> HashMap<&'c str, &'c str> {
    let selections: HashSet<&str> = sources
        .iter()
        .flat_map(|s| &s.selections)
        .map(|s| s.guid.as_str())
        .collect();
    let mut credit: HashMap<&str, &str> = HashMap::new();
    for case in cases {
        for s in &case.selections {
            let taken = credit.entry(s.as_str()).or_insert(case.name.as_str());
            if *taken != case.name && selections.contains(s.as_str()) {
                sink.warn(format!(
                    "{}: the selection {s} is in the cases {:?} and {:?}: credited to {:?}",
                    part.entry, taken, case.name, taken
                ));
            }
        }
    }
    credit
}

/// One source's session and notes.
fn write_source(
    part: &Part<'_>,
    o: &RefiOptions,
    cases: &[CaseIn],
    credit: &HashMap<&str, &str>,
    source: &SourceIn<'_>,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let label = source
        .name
        .as_deref()
        .map(|n| format!("{n:?}"))
        .unwrap_or_else(|| source.guid.clone());
    if source.selections.is_empty() {
        sink.skip(format!(
            "{}: source {label} has no coded selections: there is no note to import, left out",
            part.entry
        ));
        return Ok(());
    }
    // The session.
    let mut new = match &source.ours {
        Some(ours) => {
            let mut new = NewSession::new(ours.study.clone(), ours.kind);
            new.id = Some(ours.id.clone());
            new.researcher = ours.researcher.clone();
            new.location = ours.location.clone();
            new.channel = ours.channel.clone();
            let (title, who) =
                our_title_and_participants(source, cases).unwrap_or((source.name.clone(), vec![]));
            new.title = title;
            new.participants = who.iter().map(|p| participant(p)).collect();
            new
        }
        None => {
            let mut new = NewSession::new(o.study.clone(), o.session_kind);
            new.id = Some(stable_ulid(source.created, &["refi-source", &source.guid]));
            new.title = Some(
                source
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("Source {}", source.guid)),
            );
            new.researcher = source.researcher.clone().or_else(|| o.researcher.clone());
            new.participants = cases
                .iter()
                .filter(|c| {
                    c.sources.contains(&source.guid)
                        || source
                            .selections
                            .iter()
                            .any(|s| c.selections.contains(&s.guid))
                })
                .map(|c| participant(&c.name))
                .collect();
            new
        }
    };
    new.started_at = Some(source.created.or(o.started_at).unwrap_or_else(time::now));
    let at_source = |e: Error| match e {
        Error::Import { .. } => e,
        other => part.at(source.el, other.to_string()),
    };
    let session = sink.session(&new).map_err(at_source)?;
    for p in &new.participants {
        sink.session_participant(&session, p).map_err(at_source)?;
    }
    let start = sink
        .session_start(&session)?
        .unwrap_or_else(|| new.started_at.expect("set above"));

    let sole_case = match cases
        .iter()
        .filter(|c| c.sources.contains(&source.guid))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [only] if source.ours.is_none() => Some(only.name.as_str()),
        _ => None,
    };

    // The notes, in reading order.
    let positions: Vec<(i64, i64)> = source.selections.iter().map(|s| (s.start, s.end)).collect();
    let (counting, placed) = locate(&source.text, &positions);
    if counting != Counting::CodePoints {
        sink.warn(format!(
            "{}: source {label} counts positions {}: read that way",
            part.entry,
            match counting {
                Counting::CodePointsCrlfAsOne => "with a \\r\\n line break as one character",
                Counting::Utf16 => "in UTF-16 units",
                _ => "in UTF-16 units, with a \\r\\n line break as one",
            }
        ));
    }
    let passages = our_passages(part, source, sink);
    let mut order: Vec<usize> = (0..source.selections.len()).collect();
    order.sort_by_key(|&i| (placed[i], i));
    for (n, &i) in order.iter().enumerate() {
        let sel = &source.selections[i];
        let Some((s, e)) = placed[i] else {
            sink.skip(format!(
                "{}: selection {} of source {label}: positions {}–{} are outside its {} characters, left out",
                part.entry,
                sel.guid,
                sel.start,
                sel.end,
                source.text.len()
            ));
            continue;
        };
        let raw: String = source.text[s..e].iter().collect();
        let ours = sel.note_id.clone();
        let body = if ours.is_some() {
            raw
        } else {
            raw.replace("\r\n", "\n")
                .replace('\r', "\n")
                .trim()
                .to_owned()
        };
        if body.trim().is_empty() {
            sink.skip(format!(
                "{}: selection {} of source {label} selects no text, left out",
                part.entry, sel.guid
            ));
            continue;
        }
        let created = sel
            .created
            .unwrap_or_else(|| start + chrono::Duration::milliseconds(n as i64));
        let (kind, offset_ms) = match (&ours, sel.el.attr("name")) {
            (Some(_), Some(name)) => our_kind_and_offset(name).unwrap_or((o.kind, None)),
            _ => (o.kind, None),
        };
        let id = ours.unwrap_or_else(|| {
            stable_ulid(Some(created), &["refi-selection", &source.guid, &sel.guid])
        });
        let participant = credit
            .get(sel.guid.as_str())
            .copied()
            .or(sole_case)
            .map(str::to_owned);
        let record = NoteRecord {
            tags: sel.tags.clone(),
            participant,
            updated_at: sel.modified.unwrap_or(created).max(created),
            offset_ms,
            source: Some(part.file.to_owned()),
            feedback: o.feedback,
            ..NoteRecord::written(id, session.clone(), kind, body, created)
        };
        let record = NoteRecord {
            passages: passages.get(&record.id).cloned().unwrap_or_default(),
            ..record
        };
        sink.note(&record).map_err(|e| match e {
            Error::Import { .. } => e,
            other => part.at(sel.el, other.to_string()),
        })?;
    }
    Ok(())
}

/// A source's passages by note id, at code points into their note's text (a passage's
/// position less its note's, both counted in the source as fieldnotes wrote it).
fn our_passages(
    part: &Part<'_>,
    source: &SourceIn<'_>,
    sink: &mut ImportSink<'_>,
) -> HashMap<String, Vec<PassageRecord>> {
    let note_start: HashMap<String, (i64, i64)> = source
        .selections
        .iter()
        .filter_map(|s| Some((s.note_id.clone()?, (s.start, s.end))))
        .collect();
    let mut out: HashMap<String, Vec<PassageRecord>> = HashMap::new();
    for p in &source.passages {
        match note_start.get(&p.note) {
            Some(&(start, end)) if start <= p.start && p.start < p.end && p.end <= end => {
                for tag in &p.tags {
                    out.entry(p.note.clone()).or_default().push(PassageRecord {
                        tag: tag.clone(),
                        start: (p.start - start) as usize,
                        end: (p.end - start) as usize,
                        text: None,
                        lost: false,
                        coder: p.coder.clone(),
                        created_at: p.created.unwrap_or_else(time::now),
                    });
                }
            }
            _ => sink.skip(format!(
                "{}: a passage of note {} lies outside that note's selection, left out",
                part.entry, p.note
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn cut(text: &str, (s, e): (usize, usize)) -> String {
        text.chars().skip(s).take(e - s).collect()
    }

    #[test]
    fn positions_in_code_points_select_emoji_and_cjk() {
        let text = "Oh 😀 nice. 店員さんが親切でした。 Done";
        let c = chars(text);
        let (counting, placed) = locate(&c, &[(5, 10), (11, 22)]);
        assert_eq!(counting, Counting::CodePoints);
        assert_eq!(cut(text, placed[0].unwrap()), "nice.");
        assert_eq!(cut(text, placed[1].unwrap()), "店員さんが親切でした。");
    }

    #[test]
    fn crlf_counted_as_one_is_detected() {
        let text = "First line here.\r\nSecond line here.\r\nThird one.";
        let c = chars(text);
        // Positions as a suite that counts `\r\n` as one writes them.
        let norm = text.replace("\r\n", "\n");
        let find = |needle: &str| {
            let b = norm.find(needle).unwrap();
            let s = norm[..b].chars().count() as i64;
            (s, s + needle.chars().count() as i64)
        };
        let (counting, placed) = locate(&c, &[find("Second line"), find("Third one.")]);
        assert_eq!(counting, Counting::CodePointsCrlfAsOne);
        assert_eq!(cut(text, placed[0].unwrap()), "Second line");
        assert_eq!(cut(text, placed[1].unwrap()), "Third one.");
        // The same positions counted as the standard says land where they are.
        let (counting, _) = locate(&c, &[(18, 29)]);
        assert_eq!(counting, Counting::CodePoints);
    }

    #[test]
    fn utf16_positions_are_detected_after_emoji() {
        let text = "Great 👍👍 service, really friendly staff";
        let c = chars(text);
        // "really" starts at code point 18, UTF-16 unit 20.
        let (counting, placed) = locate(&c, &[(20, 26), (11, 18)]);
        assert_eq!(counting, Counting::Utf16);
        assert_eq!(cut(text, placed[0].unwrap()), "really");
        assert_eq!(cut(text, placed[1].unwrap()), "service");
    }

    #[test]
    fn our_descriptions_read_back() {
        let s = parse_our_session(
            "mystery-shop in the study Checkout; Q3; researcher: Ana; location: Riverside; fieldnotes session 01JD4Y9K3T2V5W7X8Y9Z0A1B2C",
        )
        .unwrap();
        assert_eq!(s.study, "Checkout; Q3");
        assert_eq!(s.kind, SessionKind::MysteryShop);
        assert_eq!(s.researcher.as_deref(), Some("Ana"));
        assert_eq!(s.location.as_deref(), Some("Riverside"));
        assert_eq!(s.channel, None);
        assert_eq!(
            our_kind_and_offset("quote +1:02:03"),
            Some((NoteKind::Quote, Some(3_723_000)))
        );
        assert_eq!(
            our_kind_and_offset("observation"),
            Some((NoteKind::Observation, None))
        );
        let info = parse_code_description("blocked · valence -2", Facet::Emotion);
        assert_eq!(info.description.as_deref(), Some("blocked"));
        assert_eq!(info.valence, Some(-2));
        let info = parse_code_description(
            "When I shop, I want to be quick, so I can go · journey stage: buy",
            Facet::Job,
        );
        assert!(info.statement.is_some() && info.description.is_none());
        assert_eq!(info.stage.as_deref(), Some("buy"));
    }

    #[test]
    fn participants_keep_an_order_every_list_agrees_with() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let order = agreeing_order(&[l(&["B", "C"]), l(&["A", "B"]), l(&["D"])]);
        assert_eq!(order, ["A", "B", "C", "D"]);
    }
}
