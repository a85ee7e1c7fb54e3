//! Word documents (`.docx`): one note per paragraph or list item, read from
//! `word/document.xml`.
//!
//! - A paragraph's runs are joined (Word splits words into runs wherever formatting or
//!   editing changed); a tab becomes a space, a line break a new line; empty paragraphs,
//!   deleted text (tracked changes), field codes and hidden text are left out. Inline tags
//!   typed in the text are parsed as in every note.
//! - Headings (the styles Title, Subtitle, Heading 1–9, however the document's language
//!   names them, or an outline level) are no notes: they are the notes' context, kept in each
//!   note's `source` as `interview.docx › Checkout › Self-checkout`.
//! - Paragraphs in the Quote or Intense Quote style are quotes.
//! - Tables: each cell's paragraphs are notes, their context naming the table (`table 2`)
//!   and, when the table has a header row (Word's "Repeat as header row"), the cell's column;
//!   the header row itself is context, not notes.
//! - Comments (`word/comments.xml`), with `--comments`: each becomes an interpretation note
//!   placed right after the paragraph it is on, its context naming its author; without the
//!   flag they are left out and counted.
//! - The document's properties (`docProps/core.xml`) stand in for Markdown's front matter:
//!   its title names the session, its creator is the researcher and its creation time the
//!   session's start, unless `--session`, `--researcher` or `--started-at` say otherwise.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::model::{Feedback, NoteKind};
use crate::store::{ImportSink, NoteRecord};
use crate::text::one_line;

use super::stable_id::stable_ulid;
use super::xml::{self, Element, Package};
use super::{SessionTarget, open_session};

/// What the researcher gave on the command line, which the document's properties do not
/// override.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    pub session: bool,
    pub researcher: bool,
    pub started_at: bool,
}

/// How a Word document is read into notes.
#[derive(Debug, Clone)]
pub struct DocxOptions {
    pub target: SessionTarget,
    pub given: Given,
    /// The kind of a paragraph not styled as a quote.
    pub kind: NoteKind,
    pub feedback: Option<Feedback>,
    /// Comments become interpretation notes.
    pub comments: bool,
}

/// What a paragraph style makes of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A heading, by level: Title 0, Subtitle and Heading 1 at 1, … Heading 9 at 9.
    Heading(u8),
    Quote,
}

/// The document's paragraph styles: what each id is called and what it is based on, so a
/// heading is known whatever language the document's style ids are in.
#[derive(Default)]
struct Styles {
    by_id: HashMap<String, (String, Option<u8>, Option<String>)>,
}

impl Styles {
    fn read(root: Option<&Element>) -> Styles {
        let mut by_id = HashMap::new();
        for s in root.into_iter().flat_map(|r| r.children_named("style")) {
            let Some(id) = s.attr("styleId") else {
                continue;
            };
            let name = s
                .child("name")
                .and_then(|n| n.attr("val"))
                .unwrap_or_default()
                .to_lowercase();
            let outline = s.child("pPr").and_then(outline_level).filter(|l| *l < 9);
            let based_on = s
                .child("basedOn")
                .and_then(|b| b.attr("val"))
                .map(str::to_owned);
            by_id.insert(id.to_owned(), (name, outline, based_on));
        }
        Styles { by_id }
    }

    fn role(&self, id: &str) -> Option<Role> {
        let mut id = id.to_owned();
        // A few steps up the chain of styles each is based on.
        for _ in 0..8 {
            let by_name = |n: &str| -> Option<Role> {
                let n = n.to_lowercase().replace(' ', "");
                match n.as_str() {
                    "title" => Some(Role::Heading(0)),
                    "subtitle" => Some(Role::Heading(1)),
                    "quote" | "intensequote" => Some(Role::Quote),
                    _ => n
                        .strip_prefix("heading")
                        .and_then(|l| l.parse::<u8>().ok())
                        .filter(|l| (1..=9).contains(l))
                        .map(Role::Heading),
                }
            };
            if let Some(role) = by_name(&id) {
                return Some(role);
            }
            let (name, outline, based_on) = self.by_id.get(&id)?;
            if let Some(role) = by_name(name) {
                return Some(role);
            }
            if let Some(level) = outline {
                return Some(Role::Heading(level + 1));
            }
            id = based_on.clone()?;
        }
        None
    }
}

fn outline_level(ppr: &Element) -> Option<u8> {
    ppr.child("outlineLvl")?.attr("val")?.trim().parse().ok()
}

/// A note found in the document, or a comment to place.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Note {
        line: usize,
        quote: bool,
        text: String,
        context: Vec<String>,
    },
    Comment {
        id: String,
        context: Vec<String>,
    },
}

/// Walks the body in reading order, keeping the headings above the current paragraph.
struct Walker<'a> {
    styles: &'a Styles,
    headings: Vec<(u8, String)>,
    tables: usize,
    items: Vec<Item>,
    anchored: HashSet<String>,
}

impl Walker<'_> {
    fn context(&self, table: Option<&str>) -> Vec<String> {
        let mut c: Vec<String> = self.headings.iter().map(|(_, h)| h.clone()).collect();
        c.extend(table.map(str::to_owned));
        c
    }

    fn blocks(&mut self, parent: &Element, table: Option<&str>) {
        for el in &parent.children {
            match el.name.as_str() {
                "p" => self.paragraph(el, table),
                "tbl" => self.table(el),
                // Content controls and custom XML wrap paragraphs and tables.
                "sdt" => {
                    if let Some(content) = el.child("sdtContent") {
                        self.blocks(content, table);
                    }
                }
                "customXml" | "ins" | "moveTo" => self.blocks(el, table),
                _ => {}
            }
        }
    }

    fn paragraph(&mut self, p: &Element, table: Option<&str>) {
        let ppr = p.child("pPr");
        let role = ppr
            .and_then(|pp| pp.child("pStyle"))
            .and_then(|s| s.attr("val"))
            .and_then(|id| self.styles.role(id))
            .or_else(|| {
                ppr.and_then(outline_level)
                    .filter(|l| *l < 9)
                    .map(|l| Role::Heading(l + 1))
            });
        let mut text = String::new();
        let mut anchors = Vec::new();
        inline(p, &mut text, &mut anchors);
        let text = text.trim().to_owned();
        match role {
            // Headings in tables are only bold cells: their text is a note like any other.
            Some(Role::Heading(level)) if table.is_none() => {
                if !text.is_empty() {
                    self.headings.retain(|(l, _)| *l < level);
                    self.headings.push((level, one_line(&text)));
                }
            }
            _ if text.is_empty() => {}
            _ => self.items.push(Item::Note {
                line: p.line,
                quote: role == Some(Role::Quote),
                text,
                context: self.context(table),
            }),
        }
        for id in anchors {
            if self.anchored.insert(id.clone()) {
                let context = self.context(table);
                self.items.push(Item::Comment { id, context });
            }
        }
    }

    fn table(&mut self, tbl: &Element) {
        self.tables += 1;
        let number = self.tables;
        let mut columns: Vec<String> = Vec::new();
        for row in tbl.children_named("tr") {
            let header = row
                .child("trPr")
                .and_then(|t| t.child("tblHeader"))
                .is_some_and(|h| !matches!(h.attr("val"), Some("0" | "false" | "off")));
            let cells: Vec<&Element> = row.children_named("tc").collect();
            if header {
                columns = cells.iter().map(|c| cell_text(c)).collect();
                continue;
            }
            for (i, cell) in cells.into_iter().enumerate() {
                let label = match columns.get(i).filter(|c| !c.is_empty()) {
                    Some(column) => format!("table {number}, {column}"),
                    None => format!("table {number}"),
                };
                self.blocks(cell, Some(&label));
            }
        }
    }
}

/// A cell's text on one line (for a header row's column names).
fn cell_text(cell: &Element) -> String {
    let mut text = String::new();
    for p in cell.children_named("p") {
        inline(p, &mut text, &mut Vec::new());
        text.push(' ');
    }
    one_line(&text)
}

/// The text of a paragraph's runs, and the comments anchored in it.
fn inline(el: &Element, out: &mut String, anchors: &mut Vec<String>) {
    for c in &el.children {
        match c.name.as_str() {
            "r" => run(c, out, anchors),
            // Links, tracked insertions, smart tags, content controls and simple fields hold
            // runs; deletions (`del`, `moveFrom`) are left out.
            "hyperlink" | "ins" | "moveTo" | "smartTag" | "customXml" | "fldSimple" | "sdt"
            | "sdtContent" | "dir" | "bdo" => inline(c, out, anchors),
            "commentRangeStart" => anchors.extend(c.attr("id").map(str::to_owned)),
            _ => {}
        }
    }
}

fn run(r: &Element, out: &mut String, anchors: &mut Vec<String>) {
    let hidden = r
        .child("rPr")
        .and_then(|p| p.child("vanish"))
        .is_some_and(|v| !matches!(v.attr("val"), Some("0" | "false" | "off")));
    for c in &r.children {
        match c.name.as_str() {
            "commentReference" => anchors.extend(c.attr("id").map(str::to_owned)),
            _ if hidden => {}
            "t" => out.push_str(&c.text),
            "tab" | "ptab" => out.push(' '),
            "br" | "cr" => out.push('\n'),
            "noBreakHyphen" => out.push('-'),
            _ => {}
        }
    }
}

/// The document's properties that stand in for front matter.
#[derive(Debug, Default)]
struct Properties {
    title: Option<String>,
    creator: Option<String>,
    created: Option<chrono::DateTime<chrono::Utc>>,
}

fn properties(root: Option<&Element>) -> Properties {
    let field = |name: &str| {
        root.and_then(|r| r.child(name))
            .map(|e| one_line(&e.text))
            .filter(|t| !t.is_empty())
    };
    Properties {
        title: field("title"),
        // Word's stand-in when no name was ever set names nobody.
        creator: field("creator").filter(|c| c != "Microsoft Office User"),
        created: field("created").as_deref().and_then(xml::date_time),
    }
}

/// The main document part: the one `_rels/.rels` names, else `word/document.xml`.
fn main_part(zip: &mut Package<'_>) -> Result<String> {
    if let Some(rels) = zip.find("_rels/.rels") {
        let root = zip.xml(&rels)?;
        let target = root
            .children_named("Relationship")
            .find(|r| {
                r.attr("Type")
                    .is_some_and(|t| t.ends_with("/officeDocument"))
            })
            .and_then(|r| r.attr("Target"));
        if let Some(entry) = target.and_then(|t| zip.find(t.trim_start_matches('/'))) {
            return Ok(entry);
        }
    }
    zip.find("word/document.xml").ok_or_else(|| Error::Import {
        file: zip.file.to_owned(),
        location: "the zip".into(),
        reason: "it holds no word/document.xml: is this a Word document (.docx)?".into(),
    })
}

/// Reads a Word document into the import's transaction.
pub fn import(
    name: &str,
    bytes: &[u8],
    options: DocxOptions,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let DocxOptions {
        mut target,
        given,
        kind,
        feedback,
        comments,
    } = options;
    let mut zip = Package::open(
        name,
        bytes,
        "a Word document (.docx) is a zip holding word/document.xml (an old .doc is not: save it as .docx)",
    )?;
    let entry = main_part(&mut zip)?;
    let root = zip.xml(&entry)?;
    let fail = |location: String, reason: String| Error::Import {
        file: name.to_owned(),
        location,
        reason,
    };
    let body = root.child("body").ok_or_else(|| {
        fail(
            format!("{entry}, line {}", root.line),
            "it has no <w:body>".into(),
        )
    })?;
    let styles = match zip.find("word/styles.xml") {
        Some(e) => Some(zip.xml(&e)?),
        None => None,
    };
    let styles = Styles::read(styles.as_ref());
    let props = match zip.find("docProps/core.xml") {
        Some(e) => Some(zip.xml(&e)?),
        None => None,
    };
    let props = properties(props.as_ref());
    let comment_texts: HashMap<String, (Option<String>, String)> =
        match zip.find("word/comments.xml") {
            Some(e) => zip
                .xml(&e)?
                .children_named("comment")
                .filter_map(|c| {
                    let text = c
                        .children_named("p")
                        .map(|p| {
                            let mut t = String::new();
                            inline(p, &mut t, &mut Vec::new());
                            t.trim().to_owned()
                        })
                        .filter(|t| !t.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n");
                    let author = c
                        .attr("author")
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned);
                    Some((c.attr("id")?.to_owned(), (author, text)))
                })
                .collect(),
            None => HashMap::new(),
        };

    if !given.session
        && let Some(title) = &props.title
    {
        target.label = title.clone();
    }
    if !given.researcher && props.creator.is_some() {
        target.new.researcher = props.creator.clone();
    }
    if !given.started_at && props.created.is_some() {
        target.new.started_at = props.created;
    }

    let mut walker = Walker {
        styles: &styles,
        headings: Vec::new(),
        tables: 0,
        items: Vec::new(),
        anchored: HashSet::new(),
    };
    walker.blocks(body, None);
    let mut items = walker.items;
    // Comments whose place in the text is gone go last.
    let mut orphans: Vec<&String> = comment_texts
        .keys()
        .filter(|id| !walker.anchored.contains(*id))
        .collect();
    orphans.sort();
    items.extend(orphans.into_iter().map(|id| Item::Comment {
        id: id.clone(),
        context: Vec::new(),
    }));
    if !items.iter().any(|i| matches!(i, Item::Note { .. })) {
        return Err(fail(
            entry,
            "there is no paragraph or list item to import".into(),
        ));
    }
    let (session, start) =
        open_session(sink, &target).map_err(|e| fail(entry.clone(), e.to_string()))?;

    let source = |context: &[String], extra: Option<String>| {
        let mut parts = vec![name.to_owned()];
        parts.extend(context.iter().cloned());
        parts.extend(extra);
        parts.join(" › ")
    };
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut left_out = 0;
    let mut slot = 0i64;
    for item in items {
        let (text, kind, source, line) = match item {
            Item::Note {
                line,
                quote,
                text,
                context,
            } => {
                let kind = if quote { NoteKind::Quote } else { kind };
                (text, kind, source(&context, None), Some(line))
            }
            Item::Comment { id, context } => {
                let Some((author, text)) = comment_texts.get(&id) else {
                    continue;
                };
                if text.is_empty() {
                    continue;
                }
                if !comments {
                    left_out += 1;
                    sink.skip_quietly();
                    continue;
                }
                let by = Some(match author {
                    Some(a) => format!("comment by {a}"),
                    None => "comment".to_owned(),
                });
                (
                    text.clone(),
                    NoteKind::Interpretation,
                    source(&context, by),
                    None,
                )
            }
        };
        let marker = if line.is_some() { "" } else { "comment" };
        let n = seen.entry(format!("{marker}\u{1f}{text}")).or_default();
        *n += 1;
        // The id ignores the position, so editing the document and importing it again adds
        // only the new paragraphs; the time keeps the document's order.
        let id = stable_ulid(Some(start), &[&target.label, marker, &text, &n.to_string()]);
        let at = start + chrono::Duration::milliseconds(slot);
        slot += 1;
        sink.note(&NoteRecord {
            source: Some(source),
            feedback,
            ..NoteRecord::written(id, session.clone(), kind, text, at)
        })
        .map_err(|e| {
            let location = match line {
                Some(l) => format!("{entry}, line {l}"),
                None => "word/comments.xml".into(),
            };
            fail(location, e.to_string())
        })?;
    }
    if left_out > 0 {
        sink.warn(format!(
            "{name}: {left_out} comments left out (--comments imports them as interpretation notes)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(body: &str, styles: &Styles) -> Vec<Item> {
        let root = xml::parse(&format!(
            "<w:document xmlns:w=\"w\"><w:body>{body}</w:body></w:document>"
        ))
        .unwrap();
        let mut w = Walker {
            styles,
            headings: Vec::new(),
            tables: 0,
            items: Vec::new(),
            anchored: HashSet::new(),
        };
        w.blocks(root.child("body").unwrap(), None);
        w.items
    }

    fn texts(items: &[Item]) -> Vec<(String, Vec<String>)> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Note { text, context, .. } => Some((text.clone(), context.clone())),
                Item::Comment { .. } => None,
            })
            .collect()
    }

    #[test]
    fn runs_join_headings_become_context_and_deletions_vanish() {
        let styles = Styles::default();
        let body = r#"
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Check</w:t></w:r><w:r><w:t>out</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Waited </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>ag</w:t></w:r><w:r><w:t>es</w:t><w:tab/><w:t>#checkout</w:t><w:br/><w:t>next</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:ins><w:r><w:t xml:space="preserve"> added</w:t></w:r></w:ins></w:p>
<w:p/>
<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Tills</w:t></w:r></w:p>
<w:p><w:r><w:t>Under two</w:t></w:r></w:p>
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Delivery</w:t></w:r></w:p>
<w:p><w:r><w:t>Late</w:t></w:r></w:p>"#;
        assert_eq!(
            texts(&items(body, &styles)),
            [
                (
                    "Waited ages #checkout\nnext added".to_owned(),
                    vec!["Checkout".to_owned()]
                ),
                (
                    "Under two".to_owned(),
                    vec!["Checkout".to_owned(), "Tills".to_owned()]
                ),
                ("Late".to_owned(), vec!["Delivery".to_owned()]),
            ]
        );
    }

    #[test]
    fn localised_heading_styles_are_known_by_their_names() {
        let styles = Styles::read(Some(
            &xml::parse(
                r#"<w:styles xmlns:w="w">
  <w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style>
  <w:style w:type="paragraph" w:styleId="Zitat"><w:name w:val="Quote"/></w:style>
  <w:style w:type="paragraph" w:styleId="Mine"><w:name w:val="My heading"/><w:basedOn w:val="berschrift1"/></w:style>
</w:styles>"#,
            )
            .unwrap(),
        ));
        assert_eq!(styles.role("berschrift1"), Some(Role::Heading(1)));
        assert_eq!(styles.role("Mine"), Some(Role::Heading(1)));
        assert_eq!(styles.role("Zitat"), Some(Role::Quote));
        assert_eq!(styles.role("Title"), Some(Role::Heading(0)));
        assert_eq!(styles.role("Normal"), None);
    }
}
