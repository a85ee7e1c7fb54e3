//! Markdown notes: one note per paragraph or list item, inline tags parsed as everywhere.
//! Block quotes (`> …`) are quotes; headings, rules and code fences are structure, not notes.
//! Optional front matter between `---` lines sets the session:
//!
//! ```text
//! ---
//! study: Checkout Q3
//! session: Riverside visit        # an existing session's id or title, else a new one
//! kind: observation               # the session's kind
//! date: 2026-09-03 10:00
//! researcher: Ana Ruiz
//! participants: Maya, Jo
//! location: Riverside store
//! channel: store
//! feedback: direct
//! ---
//! ```

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::{Feedback, NoteKind, Participant};
use crate::store::{ImportSink, NoteRecord};
use crate::time;

use super::stable_id::stable_ulid;
use super::{SessionTarget, open_session};

const FIELDS: &[&str] = &[
    "study",
    "session",
    "title",
    "kind",
    "date",
    "started_at",
    "researcher",
    "participant",
    "participants",
    "location",
    "channel",
    "feedback",
];

/// A note found in the page, with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub line: usize,
    pub quote: bool,
    pub text: String,
}

fn list_item(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some(rest);
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 10 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(r);
        }
    }
    None
}

fn is_heading(line: &str) -> bool {
    let t = line.trim_start();
    let hashes = t.chars().take_while(|&c| c == '#').count();
    (1..=6).contains(&hashes) && t[hashes..].starts_with([' ', '\t'])
        || (1..=6).contains(&hashes) && t.len() == hashes
}

fn is_rule(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3
        && (t.chars().all(|c| c == '-')
            || t.chars().all(|c| c == '*')
            || t.chars().all(|c| c == '_'))
}

/// A front-matter field: its line, key (lowercase) and value.
pub type Field = (usize, String, String);

/// Splits front matter (`key: value` lines, each with its line number) from the body, and
/// says on which line the body starts.
pub fn split_front_matter(text: &str) -> (Vec<Field>, usize, Vec<&str>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut fields = Vec::new();
    if lines
        .first()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        == Some("---")
        && let Some(end) = lines.iter().skip(1).position(|l| l.trim() == "---")
    {
        for (i, l) in lines[1..=end].iter().enumerate() {
            let l = l.split(" #").next().unwrap_or_default().trim();
            if l.is_empty() {
                continue;
            }
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            fields.push((
                i + 2,
                k.trim().to_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            ));
        }
        return (fields, end + 2, lines[end + 2..].to_vec());
    }
    (fields, 0, lines)
}

/// The notes of a Markdown body, in order.
pub fn blocks(lines: &[&str], first_line: usize) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut open = false;
    let mut in_fence = false;
    for (i, raw) in lines.iter().enumerate() {
        let line_no = first_line + i + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            open = false;
            continue;
        }
        if in_fence || trimmed.is_empty() || is_heading(raw) || is_rule(raw) {
            open = false;
            continue;
        }
        let (quote, content) = match trimmed.strip_prefix('>') {
            Some(rest) => (true, rest.trim()),
            None => (false, trimmed),
        };
        let item = list_item(content);
        let continues = open && item.is_none() && out.last().is_some_and(|b| b.quote == quote);
        if continues {
            let last = out.last_mut().expect("an open block");
            last.text.push(' ');
            last.text.push_str(content);
        } else {
            if content.is_empty() {
                continue;
            }
            out.push(Block {
                line: line_no,
                quote,
                text: item.unwrap_or(content).trim().to_owned(),
            });
        }
        open = true;
    }
    out.retain(|b| !b.text.is_empty());
    out
}

/// Reads a Markdown page into the import's transaction.
pub fn import(
    name: &str,
    text: &str,
    mut target: SessionTarget,
    kind: NoteKind,
    mut feedback: Option<Feedback>,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let fail = |line: usize, reason: String| Error::Import {
        file: name.to_owned(),
        location: format!("line {line}"),
        reason,
    };
    let (fields, body_start, body) = split_front_matter(text);
    for (line, key, value) in fields {
        let bad = |e: String| fail(line, format!("front matter `{key}`: {e}"));
        match key.as_str() {
            "study" => target.new.study = value,
            "session" | "title" => target.label = value,
            "kind" => target.new.kind = value.parse().map_err(bad)?,
            "date" | "started_at" => {
                target.new.started_at = Some(time::parse_user(&value).map_err(bad)?)
            }
            "researcher" => target.new.researcher = Some(value),
            "location" => target.new.location = Some(value),
            "channel" => target.new.channel = Some(value),
            "feedback" => feedback = Some(value.parse().map_err(bad)?),
            "participant" | "participants" => {
                target.new.participants = value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Participant {
                        pseudonym: p.to_owned(),
                        consent: false,
                        consent_date: None,
                        contact: None,
                    })
                    .collect();
            }
            other => {
                return Err(fail(
                    line,
                    format!(
                        "unknown front-matter field `{other}` (fieldnotes reads {})",
                        FIELDS.join(", ")
                    ),
                ));
            }
        }
    }
    let notes = blocks(&body, body_start);
    if notes.is_empty() {
        return Err(fail(
            1,
            "there is no paragraph or list item to import".into(),
        ));
    }
    let (session, start) = open_session(sink, &target).map_err(|e| fail(1, e.to_string()))?;
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (i, b) in notes.into_iter().enumerate() {
        let n = seen.entry(b.text.clone()).or_default();
        *n += 1;
        // The id ignores the position, so editing the page and importing it again adds only
        // the new paragraphs; the time keeps the page's order.
        let id = stable_ulid(Some(start), &[&target.label, &b.text, &n.to_string()]);
        let at = start + chrono::Duration::milliseconds(i as i64);
        let kind = if b.quote { NoteKind::Quote } else { kind };
        sink.note(&NoteRecord {
            source: Some(name.to_owned()),
            feedback,
            ..NoteRecord::written(id, session.clone(), kind, b.text, at)
        })
        .map_err(|e| fail(b.line, e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_items_and_quotes_are_notes() {
        let text = "---\nstudy: S\n---\n# Visit\n\nFirst para\ncontinues #checkout\n\n- item one @student\n- item two\n  wraps\n+quick-pickup is a tag, not a list\n\n> I just want it quick\n\n---\n```\ncode\n```\n";
        let (fields, start, body) = split_front_matter(text);
        assert_eq!(fields, [(2, "study".to_owned(), "S".to_owned())]);
        let b = blocks(&body, start);
        let texts: Vec<&str> = b.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "First para continues #checkout",
                "item one @student",
                "item two wraps +quick-pickup is a tag, not a list",
                "I just want it quick",
            ]
        );
        assert!(b[3].quote);
        assert_eq!(b[0].line, 6);
    }
}
