//! Markdown notes: one note per paragraph or list item, inline tags parsed as everywhere.
//! Block quotes (`> …`) are quotes; headings, rules and code fences are structure, not notes;
//! HTML comments, HTML blocks and tables are left out (tables and HTML are reported).
//! Optional YAML front matter between `---` lines sets the session; `tags` are given to every
//! note; a key fieldnotes does not use is left out with a warning naming its line:
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
//! tags: ["#checkout", "@busy-parent", signage]   # a word without a sigil is a =code
//! ---
//! ```

use std::collections::HashMap;

use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{Error, Result};
use crate::model::{Facet, Feedback, NoteKind, Participant, Tag};
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
    "tags",
];

/// A note found in the page, with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
struct Block {
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

/// A front-matter field: its line, key (lowercase) and values (one for a scalar, each item
/// of a list).
type Field = (usize, String, Vec<String>);

/// The page split: its front matter's fields, the line the body starts after, and the body.
type Page<'a> = (Vec<Field>, usize, Vec<&'a str>);

/// Splits YAML front matter (between `---` lines at the top) from the body; an error is the
/// line and what is wrong.
fn split_front_matter(text: &str) -> std::result::Result<Page<'_>, (usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let opens = lines
        .first()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        == Some("---");
    let Some(end) = opens
        .then(|| {
            lines
                .iter()
                .skip(1)
                .position(|l| matches!(l.trim(), "---" | "..."))
        })
        .flatten()
    else {
        return Ok((Vec::new(), 0, lines));
    };
    let yaml = lines[1..=end].join("\n");
    let docs = YamlLoader::load_from_str(&yaml).map_err(|e| {
        (
            e.marker().line() + 1,
            format!("the front matter is not YAML: {}", e.info()),
        )
    })?;
    let mut fields = Vec::new();
    match docs.into_iter().next() {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Hash(map)) => {
            for (k, v) in map {
                let key = scalar(&k).unwrap_or_default().trim().to_lowercase();
                // The line of a top-level key, for messages.
                let line = lines[1..=end]
                    .iter()
                    .position(|l| {
                        l.trim_start_matches(['"', '\''])
                            .to_lowercase()
                            .starts_with(&key)
                    })
                    .map_or(2, |i| i + 2);
                let values = match v {
                    Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
                    Yaml::Null => Vec::new(),
                    other => match scalar(&other) {
                        Some(s) => vec![s],
                        None => return Err((line, format!("`{key}` needs a value or a list"))),
                    },
                };
                fields.push((line, key, values));
            }
        }
        Some(_) => {
            return Err((2, "the front matter must be `key: value` lines".into()));
        }
    }
    Ok((fields, end + 2, lines[end + 2..].to_vec()))
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.trim().to_owned()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A line that opens an HTML block (as CommonMark starts one): `<div`, `</table>`, `<!--`,
/// `<?`, `<!DOCTYPE`.
fn opens_html(line: &str) -> bool {
    let t = line.trim_start();
    let Some(rest) = t.strip_prefix('<') else {
        return false;
    };
    if rest.starts_with(['!', '?']) {
        return true;
    }
    let name: String = rest
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    const BLOCK: &[&str] = &[
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "details",
        "dialog",
        "div",
        "dl",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "iframe",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "script",
        "section",
        "style",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "img",
        "br",
        "span",
        "a",
        "b",
        "i",
        "em",
        "strong",
        "font",
        "sup",
        "sub",
    ];
    BLOCK.contains(&name.as_str())
}

/// A table's delimiter row: `|---|:---:|`, `--- | ---`.
fn is_table_delimiter(line: &str) -> bool {
    let t = line.trim().trim_matches('|');
    line.contains('|')
        && t.split('|').all(|cell| {
            let c = cell.trim().trim_matches(':');
            c.len() >= 3 && c.chars().all(|ch| ch == '-')
        })
}

/// What the body holds besides notes, for the report: (line, what).
#[derive(Debug, Clone, PartialEq)]
struct LeftOut {
    pub line: usize,
    pub what: &'static str,
}

/// The notes of a Markdown body, in order, and the tables and HTML left out.
fn blocks(lines: &[&str], first_line: usize) -> (Vec<Block>, Vec<LeftOut>) {
    let mut out: Vec<Block> = Vec::new();
    let mut left_out = Vec::new();
    let mut open = false;
    let mut in_fence = false;
    let mut in_comment = false;
    let mut in_html = false;
    let mut in_table = false;
    for (i, raw) in lines.iter().enumerate() {
        let line_no = first_line + i + 1;
        let trimmed = raw.trim();
        if in_comment {
            in_comment = !trimmed.contains("-->");
            continue;
        }
        if trimmed.starts_with("<!--") {
            // A comment is the writer's aside: left out without a word.
            in_comment = !trimmed.contains("-->");
            open = false;
            continue;
        }
        if in_html {
            in_html = !trimmed.is_empty();
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            open = false;
            continue;
        }
        if in_fence || trimmed.is_empty() || is_heading(raw) || is_rule(raw) {
            open = false;
            in_table = false;
            continue;
        }
        if opens_html(raw) && !open {
            left_out.push(LeftOut {
                line: line_no,
                what: "an HTML block",
            });
            in_html = true;
            continue;
        }
        if in_table {
            continue;
        }
        // A table: its delimiter row comes second; the header row before it was taken for a
        // paragraph, and goes.
        if let Some(next) = lines.get(i + 1)
            && raw.contains('|')
            && is_table_delimiter(next)
        {
            if open && out.last().is_some_and(|b| b.line == line_no) {
                out.pop();
            }
            left_out.push(LeftOut {
                line: line_no,
                what: "a table",
            });
            in_table = true;
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
    (out, left_out)
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
    let (fields, body_start, body) =
        split_front_matter(text).map_err(|(line, why)| fail(line, why))?;
    let mut tags: Vec<Tag> = Vec::new();
    for (line, key, values) in fields {
        let bad = |e: String| fail(line, format!("front matter `{key}`: {e}"));
        let value = values.join(", ");
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
            "tags" => {
                for v in values.iter().flat_map(|v| v.split([',', ' '])) {
                    let v = v.trim();
                    if v.is_empty() {
                        continue;
                    }
                    let tag = if v.starts_with(|c| Facet::from_sigil(c).is_some()) {
                        Tag::parse_token(v)
                    } else {
                        Tag::parse_token(&format!("{}{v}", Facet::Code.sigil()))
                    };
                    tags.push(tag.ok_or_else(|| bad(format!("{v:?} is not a tag")))?);
                }
            }
            "participant" | "participants" => {
                target.new.participants = values
                    .iter()
                    .flat_map(|v| v.split(','))
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
            other => sink.warn(format!(
                "{name}: line {line}: front matter `{other}` is not a field fieldnotes uses \
                 ({}): left out",
                FIELDS.join(", ")
            )),
        }
    }
    let (notes, left_out) = blocks(&body, body_start);
    for l in left_out {
        sink.skip(format!(
            "{name}: line {}: {} left out (tables and HTML are not notes)",
            l.line, l.what
        ));
    }
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
        let mut record = NoteRecord::written(id, session.clone(), kind, b.text, at);
        for tag in &tags {
            if !record.tags.contains(tag) {
                record.tags.push(tag.clone());
            }
        }
        sink.note(&NoteRecord {
            source: Some(name.to_owned()),
            feedback,
            ..record
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
        let (fields, start, body) = split_front_matter(text).unwrap();
        assert_eq!(fields, [(2, "study".to_owned(), vec!["S".to_owned()])]);
        let (b, _) = blocks(&body, start);
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
