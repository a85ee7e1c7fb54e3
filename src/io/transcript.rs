//! WebVTT and SRT transcripts, as video-call and transcription tools export them (Zoom, Teams,
//! Meet, Otter, Descript, subtitle editors): each speaker turn becomes a quote note at its
//! time offset, the researcher's turns without a participant, everyone else's credited to them.
//!
//! WebVTT is read by its parsing rules: any line ending (CRLF, LF, lone CR), a timing line
//! starts a cue even without a blank line before it, a cue block that cannot be read is left
//! out and reported with its line (not the whole file refused), cue settings, markup and
//! timestamps are dropped, character references are decoded, and each `<v Speaker>` span is a
//! turn of its own. SRT is read the way players read it. A line of white space counts as blank.
//!
//! Speakers come from voice spans (Teams), from `Name:` at the start of a cue (Zoom, Meet,
//! Otter, broadcast captions) or `[Name]`, but only when what stands there is a name: not a
//! sound (`[laughs]`, `[MUSIC]`) nor the start of a sentence (`Rule number one:`).
//! `--speakers` lists who is who; `--no-speakers` takes none. A transcript without names is
//! split at pauses and at cue boundaries, never into one note for the whole call.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::{Feedback, NoteKind, Participant};
use crate::store::{ImportSink, NoteRecord};
use crate::text::one_line;

use super::stable_id::stable_ulid;
use super::{SessionTarget, open_session};

/// A silence this long between two cues ends a turn even when the speaker goes on.
const PAUSE_MS: i64 = 2_000;
/// A named speaker's turn is split (at a cue boundary) once it is this long.
const MAX_TURN_CHARS: usize = 1_500;
/// Without speaker names, a note ends at the first cue boundary past this length.
const MAX_UNNAMED_CHARS: usize = 500;

/// One cue, as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cue {
    /// The line its timing is on.
    pub line: usize,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Who speaks and what, in order: one part per voice span; markup and references done.
    pub parts: Vec<(Option<String>, String)>,
}

/// A transcript's cues, and the blocks its rules left out (line, why).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Cues {
    pub cues: Vec<Cue>,
    pub skipped: Vec<(usize, String)>,
}

/// One speaker turn: what becomes a note.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Turn {
    pub start_ms: i64,
    pub end_ms: i64,
    pub speaker: Option<String>,
    pub text: String,
}

/// Who is who: the researcher's options.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Speakers {
    /// Names found by the rules above.
    #[default]
    Detect,
    /// `--speakers "Ana=researcher,Ben,Speaker 1=Maya"`: only these labels are speakers, each
    /// under the name after `=` (`researcher` marks the researcher).
    Listed(Vec<(String, SpeakerRole)>),
    /// `--no-speakers`: every note without a participant.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SpeakerRole {
    Researcher,
    Participant(String),
}

impl Speakers {
    /// Reads `--speakers`: `Label`, `Label=Name` or `Label=researcher`, separated by commas.
    pub fn parse_list(text: &str) -> Result<Speakers> {
        let mut list = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (label, role) = match item.split_once('=') {
                Some((label, name)) if name.trim().eq_ignore_ascii_case("researcher") => {
                    (label.trim(), SpeakerRole::Researcher)
                }
                Some((label, name)) => (label.trim(), SpeakerRole::Participant(name.trim().into())),
                None => (item, SpeakerRole::Participant(item.into())),
            };
            if label.is_empty() || matches!(&role, SpeakerRole::Participant(n) if n.is_empty()) {
                return Err(Error::Usage(format!(
                    "--speakers: {item:?} needs a label, as in \"Ana=researcher,Ben,Speaker 1=Maya\""
                )));
            }
            list.push((label.to_owned(), role));
        }
        if list.is_empty() {
            return Err(Error::Usage(
                "--speakers needs at least one name, as in \"Ana=researcher,Ben\"".into(),
            ));
        }
        Ok(Speakers::Listed(list))
    }

    fn listed(&self, label: &str) -> Option<&SpeakerRole> {
        match self {
            Speakers::Listed(list) => list
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(label.trim()))
                .map(|(_, r)| r),
            _ => None,
        }
    }
}

// ---- reading the file --------------------------------------------------------------------

/// Lines as WebVTT splits them: CRLF, LF or a lone CR ends a line; NUL becomes U+FFFD.
fn split_lines(text: &str) -> Vec<String> {
    let text = text
        .trim_start_matches('\u{feff}')
        .replace('\0', "\u{fffd}");
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut current));
            }
            '\n' => lines.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// `[HH:]MM:SS.mmm` (SRT's comma accepted, fewer fraction digits too).
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (clock, frac) = match s.rsplit_once(['.', ',']) {
        Some((c, f)) if !c.contains(['.', ',']) => (c, f),
        Some(_) => return None,
        None => (s, "0"),
    };
    if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
    let parts: Vec<i64> = clock
        .split(':')
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let secs = match parts.as_slice() {
        [h, m, s] if *m < 60 && *s < 60 => h * 3600 + m * 60 + s,
        [m, s] if *s < 60 => m * 60 + s,
        _ => return None,
    };
    Some(secs * 1000 + ms)
}

/// `start --> end [settings]`: the start and end, or why not.
fn parse_timing(line: &str) -> std::result::Result<(i64, i64), String> {
    let (start, rest) = line
        .split_once("-->")
        .ok_or("no `-->` in the timing line")?;
    let end = rest.split_whitespace().next().unwrap_or_default();
    let start_ms = parse_time(start)
        .ok_or_else(|| format!("{:?} is not a time (write 00:01:02.500)", start.trim()))?;
    let end_ms =
        parse_time(end).ok_or_else(|| format!("{end:?} is not a time (write 00:01:02.500)"))?;
    Ok((start_ms, end_ms.max(start_ms)))
}

/// One block of lines between blank lines, as the parser collects it.
struct Block {
    /// Line number of the timing line (or the block's first line when it has none).
    line: usize,
    timing: Option<String>,
    text: Vec<String>,
}

/// Splits lines into blocks: a blank line ends one, and so does a timing line met inside a
/// cue's text (the line before it moves along when it is a cue number). `first` is the line
/// number of `lines[0]`.
fn blocks(lines: &[String], first: usize) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if blank(&lines[i]) {
            i += 1;
            continue;
        }
        let mut block = Block {
            line: first + i,
            timing: None,
            text: Vec::new(),
        };
        let mut count = 0;
        while i < lines.len() && !blank(&lines[i]) {
            let line = &lines[i];
            count += 1;
            if line.contains("-->") {
                if block.timing.is_none() && count <= 2 {
                    block.line = first + i;
                    block.timing = Some(line.clone());
                    block.text.clear(); // the cue's identifier, if it had one
                    i += 1;
                    continue;
                }
                // Too late in the block to be its timing, or a new cue without the blank
                // line before it: it starts the next block, with its number when the line
                // before it is one.
                if block.timing.is_some()
                    && block.text.len() > 1
                    && block
                        .text
                        .last()
                        .is_some_and(|l| l.trim().bytes().all(|b| b.is_ascii_digit()))
                {
                    block.text.pop();
                    i -= 1;
                }
                break;
            }
            block.text.push(line.clone());
            i += 1;
        }
        out.push(block);
    }
    out
}

/// Reads a WebVTT file into cues; a file without the `WEBVTT` signature is refused.
fn parse_vtt(name: &str, text: &str) -> Result<Cues> {
    let lines = split_lines(text);
    let signature = lines.first().map(String::as_str).unwrap_or_default();
    let ok = signature
        .strip_prefix("WEBVTT")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
    if !ok {
        return Err(Error::Import {
            file: name.to_owned(),
            location: "line 1".into(),
            reason: "a WebVTT file starts with the line WEBVTT (is it SRT? pass --format srt)"
                .into(),
        });
    }
    // The header runs to the first blank line (or, leniently, to the first timing line).
    let mut start = 1;
    while start < lines.len() && !blank(&lines[start]) && !lines[start].contains("-->") {
        start += 1;
    }
    let mut out = Cues::default();
    for block in blocks(&lines[start..], start + 1) {
        let head = block.text.first().map(String::as_str).unwrap_or_default();
        let Some(timing) = block.timing else {
            let kind = head.split([' ', '\t']).next().unwrap_or_default();
            if !matches!(kind, "NOTE" | "STYLE" | "REGION") {
                out.skipped.push((
                    block.line,
                    "text without a timing line before it: left out".into(),
                ));
            }
            continue;
        };
        match parse_timing(&timing) {
            Ok((start_ms, end_ms)) => out.cues.push(Cue {
                line: block.line,
                start_ms,
                end_ms,
                parts: vtt_cue_text(&block.text.join("\n")),
            }),
            Err(why) => out
                .skipped
                .push((block.line, format!("{why}: cue left out"))),
        }
    }
    Ok(out)
}

/// Reads an SRT file into cues, as players do.
fn parse_srt(text: &str) -> Cues {
    let lines = split_lines(text);
    let mut out = Cues::default();
    for block in blocks(&lines, 1) {
        let Some(timing) = block.timing else {
            out.skipped.push((
                block.line,
                "text without a timing line before it: left out".into(),
            ));
            continue;
        };
        match parse_timing(&timing) {
            Ok((start_ms, end_ms)) => {
                let text = srt_markup_removed(&block.text.join("\n"));
                out.cues.push(Cue {
                    line: block.line,
                    start_ms,
                    end_ms,
                    parts: vec![(None, one_line(&decode_references(&text)))],
                });
            }
            Err(why) => out
                .skipped
                .push((block.line, format!("{why}: cue left out"))),
        }
    }
    out
}

/// A time written on its own in a text transcript: `00:01:02`, `1:02`, `[00:01:02]`, `(1:02)`.
fn clock_time(s: &str) -> Option<i64> {
    let s = s
        .trim()
        .trim_start_matches(['[', '('])
        .trim_end_matches([']', ')']);
    if s.is_empty() || !s.contains(':') || !s.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    parse_time(s)
}

/// Plain-text transcripts as meeting tools write them, when the text is one: Meet's (a time on
/// a line of its own, then `Name: words` lines), Otter's (`Name  0:05` above each turn) and
/// Rev's or Descript's (`[00:01:02] Name: words`, `Name (00:01:02): words`). None when fewer
/// than two times are found: the text is notes, not a transcript.
fn parse_timed_text(text: &str) -> Option<Cues> {
    let lines = split_lines(text);
    let mut cues = Cues::default();
    let mut now: Option<i64> = None;
    let mut times = 0;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        // A time alone on its line (Meet).
        if let Some(t) = clock_time(line) {
            now = Some(t);
            times += 1;
            continue;
        }
        // `Name  0:05` above a turn (Otter): two spaces or a tab, then a time.
        if let Some((name, time)) = line.rsplit_once(['\t', ' '])
            && (raw.contains("  ") || raw.contains('\t'))
            && let Some(t) = clock_time(time)
            && looks_like_name(name.trim())
        {
            now = Some(t);
            times += 1;
            cues.cues.push(Cue {
                line: i + 1,
                start_ms: t,
                end_ms: t,
                parts: vec![(Some(name.trim().to_owned()), String::new())],
            });
            continue;
        }
        // `[00:01:02] Name: words` or `00:01:02 Name: words` (Rev, Descript).
        let mut text = line.to_owned();
        if let Some((head, rest)) = line.split_once(char::is_whitespace)
            && let Some(t) = clock_time(head)
        {
            now = Some(t);
            times += 1;
            text = rest.trim().to_owned();
        }
        // `Name (00:01:02): words`.
        if let Some((head, rest)) = text.split_once("):")
            && let Some((name, time)) = head.rsplit_once('(')
            && let Some(t) = clock_time(time)
        {
            now = Some(t);
            times += 1;
            text = format!("{}: {}", name.trim(), rest.trim());
        }
        let at = now.unwrap_or(0);
        // Words under an Otter heading belong to it.
        if let Some(last) = cues.cues.last_mut()
            && last.parts.len() == 1
            && last.parts[0].1.is_empty()
        {
            last.parts[0].1 = one_line(&text);
            continue;
        }
        cues.cues.push(Cue {
            line: i + 1,
            start_ms: at,
            end_ms: at,
            parts: vec![(None, one_line(&text))],
        });
    }
    cues.cues
        .retain(|c| c.parts.iter().any(|(_, t)| !t.is_empty()));
    (times >= 2).then_some(cues)
}

/// WebVTT cue text: tags dropped (a voice span's annotation kept as its speaker, ruby text
/// dropped), character references decoded, one part per voice.
fn vtt_cue_text(raw: &str) -> Vec<(Option<String>, String)> {
    let mut parts: Vec<(Option<String>, String)> = Vec::new();
    let mut voice: Option<String> = None;
    let mut text = String::new();
    let mut in_ruby_text = 0usize;
    let mut rest = raw;
    let mut flush = |voice: &Option<String>, text: &mut String| {
        let t = one_line(&decode_references(text));
        text.clear();
        if t.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some((v, last)) if v == voice => {
                last.push(' ');
                last.push_str(&t);
            }
            _ => parts.push((voice.clone(), t)),
        }
    };
    while let Some(open) = rest.find('<') {
        if in_ruby_text == 0 {
            text.push_str(&rest[..open]);
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            // An unclosed `<` ends the cue's text as a tag would.
            rest = "";
            break;
        };
        let tag = after[..close].trim();
        rest = &after[close + 1..];
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match name.as_str() {
            "v" => {
                flush(&voice, &mut text);
                let annotation = tag
                    .split_once(char::is_whitespace)
                    .map(|(_, a)| one_line(&decode_references(a)))
                    .filter(|a| !a.is_empty());
                voice = annotation;
            }
            "/v" => {
                flush(&voice, &mut text);
                voice = None;
            }
            "rt" => in_ruby_text += 1,
            "/rt" => in_ruby_text = in_ruby_text.saturating_sub(1),
            // c, i, b, u, ruby, lang, timestamps and anything unknown: markup only.
            _ => {}
        }
    }
    if in_ruby_text == 0 {
        text.push_str(rest);
    }
    flush(&voice, &mut text);
    parts
}

/// SRT's markup (`<i>`, `<b>`, `<u>`, `<s>`, `<font …>`, and `{\an8}`-style overrides) is
/// removed; any other `<` and `>` are text (`2<3, 5>1`).
fn srt_markup_removed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = rest.find(['<', '{']);
        let Some(at) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = if after.starts_with('{') {
            after
                .strip_prefix("{\\")
                .and_then(|a| a.find('}'))
                .map(|e| e + 3)
        } else {
            after
                .find('>')
                .filter(|&e| {
                    let tag = after[1..e].trim_start_matches('/').trim();
                    let name: String = tag
                        .chars()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .collect::<String>()
                        .to_ascii_lowercase();
                    matches!(name.as_str(), "i" | "b" | "u" | "s" | "font")
                        && tag[name.len()..]
                            .chars()
                            .next()
                            .is_none_or(|c| c.is_whitespace())
                })
                .map(|e| e + 1)
        };
        match end {
            Some(e) => rest = &after[e..],
            None => {
                out.push_str(&after[..1]);
                rest = &after[1..];
            }
        }
    }
    out
}

/// `&amp;`, `&lt;`, `&gt;`, `&nbsp;`, `&lrm;`, `&rlm;`, `&quot;`, `&apos;` and numeric
/// references; anything else stays as written.
fn decode_references(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .char_indices()
            .take(10)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "nbsp" => ' ',
                "quot" => '"',
                "apos" => '\'',
                // Direction marks steer rendering only: nothing to keep.
                "lrm" | "rlm" => return Some((e, None)),
                n if n.starts_with("#x") || n.starts_with("#X") => {
                    char::from_u32(u32::from_str_radix(&n[2..], 16).ok()?)?
                }
                n if n.starts_with('#') => char::from_u32(n[1..].parse().ok()?)?,
                _ => return None,
            };
            Some((e, Some(c)))
        });
        match decoded {
            Some((e, c)) => {
                if let Some(c) = c {
                    // A decoded direction mark or NUL is as invisible as the named ones.
                    if !matches!(c, '\u{200e}' | '\u{200f}' | '\0') {
                        out.push(c);
                    }
                }
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// ---- speakers ----------------------------------------------------------------------------

/// Bracketed or prefixed words that describe a sound, never a speaker.
const SOUNDS: &[&str] = &[
    "laugh",
    "laughs",
    "laughing",
    "laughter",
    "chuckles",
    "chuckling",
    "giggles",
    "music",
    "applause",
    "inaudible",
    "crosstalk",
    "cross-talk",
    "silence",
    "pause",
    "noise",
    "cough",
    "coughs",
    "coughing",
    "sigh",
    "sighs",
    "sighing",
    "background",
    "unintelligible",
    "indistinct",
    "static",
    "beep",
    "phone",
    "ringing",
    "door",
    "sound",
    "sounds",
    "overlapping",
    "foreign",
    "no audio",
    "blank_audio",
    "blank audio",
    "speaking",
    "singing",
    "whispers",
    "clears",
];

/// Lower-case words that may stand inside a name.
const PARTICLES: &[&str] = &[
    "de", "del", "della", "der", "den", "da", "das", "do", "dos", "du", "van", "von", "la", "le",
    "bin", "ibn", "al", "el", "y", "ten", "ter",
];

/// Whether `label` reads as a person's name or a speaker label ("Ana Ruiz", "MAYA",
/// "Speaker 2", "J. O'Neill"): a few capitalised words, not a sound and not a clause.
pub fn looks_like_name(label: &str) -> bool {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 40 {
        return false;
    }
    let lower = label.to_lowercase();
    if SOUNDS
        .iter()
        .any(|s| lower == *s || lower.starts_with(&format!("{s} ")))
    {
        return false;
    }
    let words: Vec<&str> = label.split_whitespace().collect();
    if words.is_empty() || words.len() > 4 {
        return false;
    }
    let numbered = words.len() == 2 && words[1].bytes().all(|b| b.is_ascii_digit());
    for (i, w) in words.iter().enumerate() {
        let ok_chars = w.chars().all(|c| {
            c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.') || (numbered && i == 1)
        });
        if !ok_chars {
            return false;
        }
        let first = w.chars().next().unwrap_or(' ');
        let capital = first.is_uppercase() || (numbered && i == 1);
        let particle = i > 0 && PARTICLES.contains(&w.to_lowercase().as_str());
        if !capital && !particle {
            return false;
        }
        // "J'ai", "L'homme": an elided article is the start of a sentence, not a name.
        if w.chars().nth(1).is_some_and(|c| c == '\'' || c == '’') && w.chars().count() > 2 {
            let rest: String = w.chars().skip(2).collect();
            if rest.chars().next().is_some_and(char::is_lowercase) {
                return false;
            }
        }
    }
    true
}

/// A speaker named at the start of text: `Name: …`, `[Name] …`, `>> NAME: …` or `- Name: …`.
/// Returns the label and the text after it.
fn prefixed_speaker(text: &str) -> Option<(String, String)> {
    let t = text
        .trim_start()
        .trim_start_matches(">>")
        .trim_start()
        .trim_start_matches("- ")
        .trim_start();
    if let Some(inner) = t.strip_prefix('[') {
        let (label, rest) = inner.split_once(']')?;
        return Some((label.trim().to_owned(), rest.trim().to_owned()));
    }
    let (label, rest) = t.split_once(':')?;
    // Not a time (10:30) nor a link (https://).
    if rest.starts_with("//")
        || label.ends_with(|c: char| c.is_ascii_digit())
            && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    Some((label.trim().to_owned(), rest.trim().to_owned()))
}

/// The speaker of each part, by the researcher's rules: a voice span's name stands; a name
/// at the start of the text is taken when it is one (or, with `--speakers`, when listed).
fn attribute(
    parts: Vec<(Option<String>, String)>,
    rules: &Speakers,
) -> Vec<(Option<String>, String)> {
    if *rules == Speakers::None {
        return parts.into_iter().map(|(_, t)| (None, t)).collect();
    }
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    for (voice, text) in parts {
        let (speaker, text) = match voice {
            Some(v) => (Some(v), text),
            None => match prefixed_speaker(&text) {
                Some((label, rest)) if !rest.is_empty() => {
                    let take = match rules {
                        Speakers::Listed(_) => rules.listed(&label).is_some(),
                        _ => looks_like_name(&label),
                    };
                    if take {
                        (Some(label), rest)
                    } else {
                        (None, text)
                    }
                }
                _ => (None, text),
            },
        };
        out.push((speaker, text));
    }
    out
}

/// Cues into turns: a turn ends when the speaker changes, at a pause, or when it grows long
/// (at a cue boundary; sooner when nobody is named).
fn turns(cues: Vec<Cue>, rules: &Speakers) -> Vec<Turn> {
    let mut out: Vec<Turn> = Vec::new();
    // An unnamed part right after a named one, in the same cue or the next without a pause,
    // is the same speaker going on (Zoom names a speaker once per cue; captions once per turn).
    let mut carried: Option<String> = None;
    for cue in cues {
        for (speaker, text) in attribute(cue.parts, rules) {
            let speaker = match speaker {
                Some(s) => Some(s),
                None => carried.clone().filter(|_| {
                    out.last()
                        .is_some_and(|t| cue.start_ms - t.end_ms < PAUSE_MS)
                }),
            };
            carried = speaker.clone();
            let limit = if speaker.is_some() {
                MAX_TURN_CHARS
            } else {
                MAX_UNNAMED_CHARS
            };
            match out.last_mut() {
                Some(last)
                    if last.speaker == speaker
                        && cue.start_ms - last.end_ms < PAUSE_MS
                        && last.text.len() < limit =>
                {
                    last.text.push(' ');
                    last.text.push_str(&text);
                    last.end_ms = last.end_ms.max(cue.end_ms);
                }
                _ => out.push(Turn {
                    start_ms: cue.start_ms,
                    end_ms: cue.end_ms,
                    speaker,
                    text,
                }),
            }
        }
    }
    out
}

// ---- into the archive --------------------------------------------------------------------

/// Who is who in a transcript, and where its notes go.
#[derive(Debug, Clone)]
pub(crate) struct TranscriptOptions {
    pub target: SessionTarget,
    /// The researcher's name as the transcript writes it: their turns have no participant.
    pub researcher: Option<String>,
    pub feedback: Option<Feedback>,
    pub speakers: Speakers,
}

/// A transcript's cues as its format reads them: WebVTT, SRT, or plain text with times (None
/// when the text has none: it is notes, not a transcript).
pub(crate) fn read(name: &str, text: &str, format: super::Format) -> Result<Option<Cues>> {
    Ok(match format {
        super::Format::Vtt => Some(parse_vtt(name, text)?),
        super::Format::Srt => Some(parse_srt(text)),
        _ => parse_timed_text(text),
    })
}

/// Writes a transcript's turns into the import's transaction; cue blocks its rules left out
/// are reported (with their lines) rather than failing the file.
pub(crate) fn import(
    name: &str,
    cues: Cues,
    opts: &TranscriptOptions,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    for (line, why) in &cues.skipped {
        sink.skip(format!("{name}: line {line}: {why}"));
    }
    let turns = turns(cues.cues, &opts.speakers);
    if turns.is_empty() {
        return Err(Error::Import {
            file: name.to_owned(),
            location: "the whole file".into(),
            reason: "there are no cues with text in it".into(),
        });
    }
    // Who each label is: the researcher (no participant) or a participant's pseudonym.
    let mut who: HashMap<String, Option<String>> = HashMap::new();
    let is_researcher = |label: &str| {
        opts.researcher
            .as_deref()
            .is_some_and(|r| r.trim().eq_ignore_ascii_case(label.trim()))
    };
    let mut target = opts.target.clone();
    if target.new.researcher.is_none() {
        target.new.researcher = opts.researcher.clone();
    }
    for t in &turns {
        let Some(label) = &t.speaker else { continue };
        if who.contains_key(label) {
            continue;
        }
        let person = match opts.speakers.listed(label) {
            Some(SpeakerRole::Researcher) => None,
            Some(SpeakerRole::Participant(name)) => Some(name.clone()),
            None if is_researcher(label) => None,
            None => Some(label.clone()),
        };
        if let Some(p) = &person
            && !target.new.participants.iter().any(|x| x.pseudonym == *p)
        {
            target.new.participants.push(Participant {
                pseudonym: p.clone(),
                consent: false,
                consent_date: None,
                contact: None,
            });
        }
        who.insert(label.clone(), person);
    }
    let (session, start) = open_session(sink, &target)?;
    for t in turns {
        let at = start + chrono::Duration::milliseconds(t.start_ms);
        let label = t.speaker.clone().unwrap_or_default();
        let participant = t
            .speaker
            .as_ref()
            .and_then(|s| who.get(s).cloned().flatten());
        let id = stable_ulid(
            Some(at),
            &[&target.label, &t.start_ms.to_string(), &label, &t.text],
        );
        sink.note(&NoteRecord {
            participant,
            offset_ms: Some(t.start_ms),
            source: Some(name.to_owned()),
            feedback: opts.feedback.or(Some(Feedback::Direct)),
            ..NoteRecord::written(id, session.clone(), NoteKind::Quote, t.text, at)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vtt_turns(text: &str) -> Vec<Turn> {
        turns(parse_vtt("t.vtt", text).unwrap().cues, &Speakers::Detect)
    }

    #[test]
    fn voices_and_names_become_turns() {
        let vtt = "WEBVTT\n\nNOTE made by a tool\n\n1\n00:00:01.000 --> 00:00:03.000\n<v Ana Ruiz>How was the checkout?</v>\n\n\
                   2\n00:00:04.500 --> 00:00:06.000\n<v Maya>Slow. <i>Really</i> slow</v>\n\n00:00:06.000 --> 00:00:08.000\n<v Maya>#checkout !frustrated</v>\n";
        let t = vtt_turns(vtt);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].speaker.as_deref(), Some("Maya"));
        assert_eq!(t[1].start_ms, 4500);
        assert_eq!(t[1].text, "Slow. Really slow #checkout !frustrated");

        let srt = "1\r\n00:01:02,500 --> 00:01:04,000\r\nMaya: I waited ages\r\n\r\n2\r\n00:01:05,000 --> 00:01:06,000\r\n[Ana] Why?\r\n";
        let t = turns(parse_srt(srt).cues, &Speakers::Detect);
        assert_eq!(t[0].start_ms, 62_500);
        assert_eq!(t[0].speaker.as_deref(), Some("Maya"));
        assert_eq!(t[1].speaker.as_deref(), Some("Ana"));
    }

    #[test]
    fn names_are_names() {
        for name in [
            "Ana Ruiz",
            "MAYA",
            "Speaker 2",
            "J. O'Neill",
            "Ludwig van Beethoven",
            "Zoë",
        ] {
            assert!(looks_like_name(name), "{name}");
        }
        for not in [
            "laughs",
            "MUSIC",
            "Music",
            "Rule number one",
            "J'ai dit",
            "inaudible 00:12",
            "the customer",
            "Note to self that",
        ] {
            assert!(!looks_like_name(not), "{not}");
        }
    }

    #[test]
    fn character_references_and_markup() {
        assert_eq!(
            decode_references(
                "Fish &amp; chips &lt;3 &gt; &#39;ok&#x27; &lrm;&rlm;a&nbsp;b &bogus;"
            ),
            "Fish & chips <3 > 'ok' a b &bogus;"
        );
        assert_eq!(
            srt_markup_removed("2<3,5>1 <i>yes</i> {\\an8}top <font color=\"red\">r</font>"),
            "2<3,5>1 yes top r"
        );
    }

    #[test]
    fn meet_otter_and_rev_text_transcripts() {
        let meet = "Checkout interview - Transcript\n\n00:00:00\n\nAna Ruiz: Thanks for joining.\nMaya: Happy to.\n\n00:01:10\n\nMaya: The queue was long.\n";
        let t = turns(parse_timed_text(meet).unwrap().cues, &Speakers::Detect);
        let got: Vec<(Option<&str>, &str, i64)> = t
            .iter()
            .map(|t| (t.speaker.as_deref(), t.text.as_str(), t.start_ms))
            .collect();
        assert_eq!(
            got,
            [
                (None, "Checkout interview - Transcript", 0),
                (Some("Ana Ruiz"), "Thanks for joining.", 0),
                (Some("Maya"), "Happy to.", 0),
                (Some("Maya"), "The queue was long.", 70_000),
            ]
        );
        let otter = "Speaker 1  0:00\nHow was it?\n\nSpeaker 2  0:04\nSlow, honestly.\n";
        let t = turns(parse_timed_text(otter).unwrap().cues, &Speakers::Detect);
        assert_eq!(t[1].speaker.as_deref(), Some("Speaker 2"));
        assert_eq!(t[1].start_ms, 4_000);
        assert_eq!(t[1].text, "Slow, honestly.");
        let rev =
            "[00:00:05] Ana: Why?\n[00:00:09] Maya: The scanner.\nMaya (00:01:00): And the sign.\n";
        let t = turns(parse_timed_text(rev).unwrap().cues, &Speakers::Detect);
        assert_eq!(t.last().unwrap().start_ms, 60_000);
        assert_eq!(t.last().unwrap().text, "And the sign.");
        assert!(parse_timed_text("Just notes.\nMet at 10:30 by the door.\n").is_none());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("01:02:03.004"), Some(3_723_004));
        assert_eq!(parse_time("02:03,5"), Some(123_500));
        assert_eq!(parse_time("00:61.000"), None);
        assert_eq!(parse_time("00:xx.000"), None);
    }
}
