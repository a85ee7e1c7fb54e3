//! A small tree of an XML document, for the formats that come as XML (REFI-QDA's
//! `project.qde` and codebooks, Word's `document.xml`): elements by local name (the namespace
//! prefix dropped), their attributes, children in order and their own text, with the line
//! each starts on for errors. And the zip packages such parts come in (`.qdpx`, `.docx`).

use std::io::{Cursor, Read};

use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, Result};

/// An element of the tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    /// The local name: `TextSource`, `p` for `w:p`.
    pub name: String,
    /// Attributes by local name (`val` for `w:val`), values unescaped.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The text directly inside this element (not its children's), exactly as written:
    /// character references resolved, line breaks left as they are.
    pub text: String,
    /// The line the element starts on.
    pub line: usize,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// How an error names the element: `<PlainTextSelection guid="…"> (line 12)`.
    pub fn describe(&self) -> String {
        let id = ["guid", "name", "id"]
            .into_iter()
            .find_map(|k| self.attr(k).map(|v| format!(" {k}=\"{v}\"")))
            .unwrap_or_default();
        format!("<{}{id}> (line {})", self.name, self.line)
    }
}

/// Why a document is not well-formed XML, and the line where it stops being so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError {
    pub line: usize,
    pub reason: String,
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Reads a whole document into its root element.
pub(crate) fn parse(xml: &str) -> std::result::Result<Element, XmlError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    // Lines are counted as the reader goes, so an element knows where it starts.
    let mut line = 1;
    let mut counted = 0usize;
    let mut line_at = |pos: usize| {
        let pos = pos.min(xml.len());
        if pos > counted {
            line += xml.as_bytes()[counted..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted = pos;
        }
        line
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError {
            line: line_at(reader.error_position() as usize),
            reason: e.to_string(),
        })?;
        let fail = |reason: String, at: usize| XmlError { line: at, reason };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(fail(
                    "a second root element after the first".into(),
                    line_at(before),
                ));
            }
            Event::Start(start) => {
                let at = line_at(before);
                stack.push(element(&start, at).map_err(|r| fail(r, at))?);
            }
            Event::Empty(start) => {
                let at = line_at(before);
                let e = element(&start, at).map_err(|r| fail(r, at))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                let e = stack.pop().expect("the reader checks end tags");
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::Text(t) => {
                if let Some(e) = stack.last_mut() {
                    e.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(e) = stack.last_mut() {
                    e.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let at = line_at(before);
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| fail(format!("unknown entity &{};", &*r), at))?
                        .to_owned(),
                    Err(e) => return Err(fail(e.to_string(), at)),
                };
                if let Some(e) = stack.last_mut() {
                    e.text.push_str(&text);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            line: line_at(xml.len()),
            reason: format!("<{}> is never closed", open.name),
        });
    }
    root.ok_or_else(|| XmlError {
        line: 1,
        reason: "there is no element in it".into(),
    })
}

/// Reads a part of `file` (`entry`: a zip entry, or what the file is) into its tree; an
/// error names the file, the part and the line.
pub(crate) fn parse_part(file: &str, entry: &str, xml: &str) -> Result<Element> {
    parse(xml).map_err(|e| Error::Import {
        file: file.to_owned(),
        location: format!("{entry}, line {}", e.line),
        reason: format!("not well-formed XML: {}", e.reason),
    })
}

fn element(start: &BytesStart<'_>, line: usize) -> std::result::Result<Element, String> {
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attrs.push((local(a.key.as_ref()).to_owned(), value.into_owned()));
    }
    Ok(Element {
        name: local(start.name().as_ref()).to_owned(),
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
    })
}

/// An `xsd:dateTime` (REFI-QDA) or W3CDTF (Office's document properties), with or without a
/// zone (none is UTC), to the millisecond the archive keeps.
pub(crate) fn date_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    // A zone-less time with a fraction of a second is the one form a person does not type.
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| t.and_utc())
        .or_else(|_| crate::time::parse_user(s))
        .ok()?;
    DateTime::from_timestamp_millis(t.timestamp_millis())
}

/// A zip of parts (a `.qdpx`, a `.docx`), read whole, with its entries' names.
pub(crate) struct Package<'a> {
    /// The file's name, for errors.
    pub file: &'a str,
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    pub names: Vec<String>,
}

impl<'a> Package<'a> {
    /// Opens the zip; `what` says what the file should be when it is not a zip.
    pub fn open(file: &'a str, bytes: &'a [u8], what: &str) -> Result<Package<'a>> {
        let fail = |reason: String| Error::Import {
            file: file.to_owned(),
            location: "the file".into(),
            reason,
        };
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| fail(format!("not a zip ({e}): {what}")))?;
        let names = zip
            .file_names()
            .map(|n| n.map(|n| n.into_owned()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| fail(format!("an entry's name in the zip is unreadable: {e}")))?;
        Ok(Package { file, zip, names })
    }

    /// The entry of this name (compared without regard to case or `\` separators).
    pub fn find(&self, wanted: &str) -> Option<String> {
        let wanted = wanted.replace('\\', "/").to_lowercase();
        self.names
            .iter()
            .find(|n| n.replace('\\', "/").to_lowercase() == wanted)
            .cloned()
    }

    fn read(&mut self, entry: &str) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.zip
            .by_name(entry)
            .map_err(|e| e.to_string())
            .and_then(|mut f| f.read_to_end(&mut bytes).map_err(|e| e.to_string()))
            .map_err(|e| Error::Import {
                file: self.file.to_owned(),
                location: entry.to_owned(),
                reason: format!("cannot read it from the zip: {e}"),
            })?;
        Ok(bytes)
    }

    /// An entry's text (UTF-8, or as its byte-order mark says); an error names the entry.
    pub fn text(&mut self, entry: &str) -> Result<String> {
        let bytes = self.read(entry)?;
        super::encoding::decode(entry, bytes, None).map_err(|e| match e {
            Error::Import {
                location, reason, ..
            } => Error::Import {
                file: self.file.to_owned(),
                location: format!("{entry}, {location}"),
                reason,
            },
            other => other,
        })
    }

    /// An XML entry read into its tree; an error names the entry and line.
    pub fn xml(&mut self, entry: &str) -> Result<Element> {
        let text = self.text(entry)?;
        parse_part(self.file, entry, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_with_local_names_text_and_lines() {
        let root = parse(
            "<?xml version=\"1.0\"?>\n<w:doc xmlns:w=\"x\">\n  <w:p w:val=\"a &amp; b\"><w:t>x&lt;y&#x1F600;\r\nz</w:t></w:p>\n  <w:p/>\n</w:doc>",
        )
        .unwrap();
        assert_eq!(root.name, "doc");
        assert_eq!(root.children.len(), 2);
        let p = &root.children[0];
        assert_eq!(p.attr("val"), Some("a & b"));
        assert_eq!(p.line, 3);
        assert_eq!(p.children[0].text, "x<y😀\r\nz");
        // The line break inside the text counts.
        assert_eq!(root.children[1].line, 5);
    }

    #[test]
    fn date_times_with_or_without_a_zone_to_the_millisecond() {
        let t = |s: &str| date_time(s).map(|t| crate::time::to_db(&t));
        assert_eq!(
            t("2026-09-03T10:00:00.1234+02:00").as_deref(),
            Some("2026-09-03T08:00:00.123Z")
        );
        assert_eq!(
            t(" 2026-09-03T10:00:00.5 ").as_deref(),
            Some("2026-09-03T10:00:00.500Z")
        );
        assert_eq!(
            t("2026-09-03T10:00:00").as_deref(),
            Some("2026-09-03T10:00:00.000Z")
        );
        assert_eq!(t("2026-09-03").as_deref(), Some("2026-09-03T00:00:00.000Z"));
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn broken_documents_name_their_line() {
        let e = parse("<a>\n<b>\n</a>").unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        let e = parse("<a>\n<b>").unwrap_err();
        assert!(e.reason.contains("never closed") || e.line == 2, "{e:?}");
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
    }
}
