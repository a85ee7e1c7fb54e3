//! REFI-QDA (QDA-XML 1.0), the exchange format of NVivo, ATLAS.ti, MAXQDA and QualCoder.
//!
//! A project (`.qdpx`) is a zip holding `project.qde` and `sources/GUID.txt`: each session
//! becomes a text source (its notes one after another), each note a coded selection of that
//! text, each tag a code under a parent code for its facet (Persona, Touchpoint, …), each
//! participant a case linked to their sessions and the notes they spoke. A codebook (`.qdc`)
//! holds the codes alone. GUIDs derive from ids, so exporting twice gives the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;

use crate::error::{Error, Result};
use crate::model::{Facet, Passage, Tag, reanchor};
use crate::store::NoteRecord;
use crate::text::offset_label;
use crate::time;

use super::export::SessionLine;
use super::export::{ExportSummary, ExportView};
use super::stable_guid;

const PROJECT_NS: &str = "urn:QDA-XML:project:1.0";
const CODEBOOK_NS: &str = "urn:QDA-XML:codebook:1.0";
const ORIGIN: &str = concat!("fieldnotes ", env!("CARGO_PKG_VERSION"));

fn facet_label(f: Facet) -> &'static str {
    match f {
        Facet::Persona => "Persona",
        Facet::Touchpoint => "Touchpoint",
        Facet::Emotion => "Emotion",
        Facet::Job => "Job to be done",
        Facet::Code => "Code",
    }
}

/// The colour of a facet's codes when a code has none of its own.
pub(super) fn facet_color(f: Facet) -> &'static str {
    match f {
        Facet::Persona => "#1f77b4",
        Facet::Touchpoint => "#2ca02c",
        Facet::Emotion => "#d62728",
        Facet::Job => "#9467bd",
        Facet::Code => "#7f7f7f",
    }
}

fn facet_guid(f: Facet) -> String {
    stable_guid(&["facet", f.as_str()])
}

fn code_guid(t: &Tag) -> String {
    stable_guid(&["code", t.facet.as_str(), &t.name])
}

/// Only the characters XML 1.0 allows (no control characters but tab and line breaks).
fn xml_safe(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || ('\u{20}'..='\u{d7ff}').contains(&c)
                || ('\u{e000}'..='\u{fffd}').contains(&c)
                || c >= '\u{10000}'
        })
        .collect()
}

fn esc(text: &str) -> String {
    quick_xml::escape::escape(xml_safe(text)).into_owned()
}

/// A code with what the codebook says about it.
struct CodeEntry {
    tag: Tag,
    description: Option<String>,
    /// The name of its parent tag (of the same facet), nested inside it.
    parent: Option<String>,
    /// Its own colour; the facet's when it has none.
    colour: Option<String>,
}

/// The codebook as the export shows it: every tag of the archive, grouped by facet.
fn codes(view: &ExportView<'_>, used: &BTreeSet<Tag>) -> Result<BTreeMap<Facet, Vec<CodeEntry>>> {
    let mut by_facet: BTreeMap<Facet, BTreeMap<String, CodeEntry>> = BTreeMap::new();
    let mut links = view.store().tag_parents_and_colours()?;
    let redact = |tag: Tag| match view.redactor() {
        Some(r) => r.tags(std::slice::from_ref(&tag)).remove(0),
        None => tag,
    };
    for t in view.store().tag_counts(None)? {
        let tag = Tag {
            facet: t.facet,
            name: t.name,
        };
        let (parent, colour) = links.remove(&tag).unwrap_or_default();
        // A redacted project lists the codes its notes still carry: a tag typed as a handle
        // that redaction masked (`@cakesbymaya`) is gone with it. Codes no note carries yet
        // are the codebook's own and stay.
        if view.redactor().is_some() && t.notes > 0 && !used.contains(&redact(tag.clone())) {
            continue;
        }
        let parent = parent.map(|name| {
            redact(Tag {
                facet: tag.facet,
                name,
            })
            .name
        });
        let tag = redact(tag);
        let mut parts = Vec::new();
        if let Some(d) = t.description {
            parts.push(d);
        }
        if let Some(s) = t.statement {
            parts.push(s);
        }
        if let Some(v) = t.valence {
            parts.push(format!("valence {v:+}"));
        }
        if let Some(s) = t.stage {
            parts.push(format!("journey stage: {s}"));
        }
        let description = (!parts.is_empty()).then(|| {
            let text = parts.join(" · ");
            match view.redactor() {
                Some(r) => r.text(&text),
                None => text,
            }
        });
        by_facet.entry(tag.facet).or_default().insert(
            tag.name.clone(),
            CodeEntry {
                tag,
                description,
                parent,
                colour,
            },
        );
    }
    for tag in used {
        by_facet
            .entry(tag.facet)
            .or_default()
            .entry(tag.name.clone())
            .or_insert_with(|| CodeEntry {
                tag: tag.clone(),
                description: None,
                parent: None,
                colour: None,
            });
    }
    Ok(by_facet
        .into_iter()
        .map(|(f, m)| (f, m.into_values().collect()))
        .collect())
}

/// `<Code>` elements: one parent per facet (always, so the list is never empty), the
/// facet's tags inside it, each tag nested inside its parent tag.
fn write_codes(xml: &mut String, codes: &BTreeMap<Facet, Vec<CodeEntry>>, indent: &str) {
    for facet in Facet::ALL {
        let _ = write!(
            xml,
            "{indent}<Code guid=\"{}\" name=\"{}\" isCodable=\"false\" color=\"{}\">\n\
             {indent}  <Description>{} (the {} facet of fieldnotes, written {}name)</Description>\n",
            facet_guid(facet),
            facet_label(facet),
            facet_color(facet),
            facet_label(facet),
            facet.as_str(),
            facet.sigil(),
        );
        let entries: &[CodeEntry] = codes.get(&facet).map_or(&[], Vec::as_slice);
        let names: BTreeSet<&str> = entries.iter().map(|c| c.tag.name.as_str()).collect();
        // A parent the export does not hold (none should be missing) leaves its child at the top.
        let mut children: BTreeMap<Option<&str>, Vec<&CodeEntry>> = BTreeMap::new();
        for c in entries {
            let parent = c.parent.as_deref().filter(|p| names.contains(p));
            children.entry(parent).or_default().push(c);
        }
        let mut inner = indent.to_owned();
        inner.push_str("  ");
        write_code_level(xml, &children, None, &inner);
        let _ = writeln!(xml, "{indent}</Code>");
    }
}

/// The codes under `parent` (the facet's own codes for `None`), each with its children.
fn write_code_level(
    xml: &mut String,
    children: &BTreeMap<Option<&str>, Vec<&CodeEntry>>,
    parent: Option<&str>,
    indent: &str,
) {
    for c in children.get(&parent).into_iter().flatten() {
        let _ = write!(
            xml,
            "{indent}<Code guid=\"{}\" name=\"{}\" isCodable=\"true\" color=\"{}\"",
            code_guid(&c.tag),
            esc(&c.tag.name),
            c.colour.as_deref().unwrap_or(facet_color(c.tag.facet))
        );
        let has_children = children.contains_key(&Some(c.tag.name.as_str()));
        if c.description.is_none() && !has_children {
            xml.push_str("/>\n");
            continue;
        }
        xml.push_str(">\n");
        if let Some(d) = &c.description {
            let _ = writeln!(xml, "{indent}  <Description>{}</Description>", esc(d));
        }
        let mut inner = indent.to_owned();
        inner.push_str("  ");
        write_code_level(xml, children, Some(c.tag.name.as_str()), &inner);
        let _ = writeln!(xml, "{indent}</Code>");
    }
}

/// Writes a codebook (`.qdc`): the archive's tags as codes, facets as parent codes.
pub fn export_codebook(view: &ExportView<'_>, out: &mut dyn Write) -> Result<usize> {
    // A redacted codebook holds the codes the redacted notes carry (see `codes`).
    let mut used = BTreeSet::new();
    if view.redactor().is_some() {
        view.for_each_note(false, |_, rec| {
            used.extend(rec.tags);
            Ok(())
        })?;
    }
    let codes = codes(view, &used)?;
    let mut xml = String::new();
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <CodeBook xmlns=\"{CODEBOOK_NS}\" origin=\"{ORIGIN}\">\n  <Codes>\n"
    );
    write_codes(&mut xml, &codes, "    ");
    xml.push_str("  </Codes>\n</CodeBook>\n");
    out.write_all(xml.as_bytes())
        .map_err(|e| Error::io("cannot write the codebook", e))?;
    Ok(codes.values().map(Vec::len).sum())
}

/// One session as a text source: its text and where each note sits in it.
struct Source {
    session: SessionLine,
    guid: String,
    text: String,
    /// (note, start, end) in characters, as REFI-QDA counts positions.
    selections: Vec<(NoteRecord, usize, usize)>,
}

fn build_source(session: SessionLine, notes: Vec<NoteRecord>) -> Source {
    let guid = stable_guid(&["session", &session.id]);
    let mut text = String::new();
    let mut chars = 0;
    let mut selections = Vec::new();
    let push = |text: &mut String, s: &str, chars: &mut usize| {
        text.push_str(s);
        *chars += s.chars().count();
    };
    for note in notes {
        let mut header = format!("[{}", note.kind);
        if let Some(p) = &note.participant {
            let _ = write!(header, " · {p}");
        }
        if let Some(ms) = note.offset_ms {
            let _ = write!(header, " · {}", offset_label(ms));
        }
        header.push_str("]\n");
        push(&mut text, &header, &mut chars);
        let body = xml_safe(&note.body);
        let start = chars;
        push(&mut text, &body, &mut chars);
        selections.push((note, start, chars));
        push(&mut text, "\n\n", &mut chars);
    }
    Source {
        session,
        guid,
        text,
        selections,
    }
}

fn source_name(s: &SessionLine) -> String {
    let mut name = s.title.clone().unwrap_or_else(|| s.kind.to_string());
    if !s.participants.is_empty() {
        let _ = write!(name, " · {}", s.participant_names());
    }
    let _ = write!(name, " · {}", s.started_at.format("%Y-%m-%d %H:%M"));
    name
}

fn source_description(s: &SessionLine) -> String {
    let mut parts = vec![format!("{} in the study {}", s.kind, s.study)];
    for (label, value) in [
        ("researcher", &s.researcher),
        ("location", &s.location),
        ("channel", &s.channel),
    ] {
        if let Some(v) = value {
            parts.push(format!("{label}: {v}"));
        }
    }
    parts.push(format!("fieldnotes session {}", s.id));
    parts.join("; ")
}

/// A passage as a project shows it: its range in its note's text as exported (redacted and
/// XML-safe), in code points.
struct PassageOut {
    passage: Passage,
    start: usize,
    end: usize,
}

/// The passages of the exported notes, by note id. Each is found in its note's text as
/// exported by its own words (redacted like the text), nearest where it is stored: the same
/// place unless redaction or a dropped control character moved it. Lost passages, and any
/// whose words redaction took out, are not exported.
fn passages_out(
    view: &ExportView<'_>,
    sources: &[Source],
) -> Result<BTreeMap<String, Vec<PassageOut>>> {
    let mut out: BTreeMap<String, Vec<PassageOut>> = BTreeMap::new();
    for s in sources {
        for (note, ..) in &s.selections {
            let body = xml_safe(&note.body);
            for mut p in view.store().passages(&note.id)? {
                if p.lost {
                    continue;
                }
                if let Some(r) = view.redactor() {
                    p.tag = r.tags(std::slice::from_ref(&p.tag)).remove(0);
                }
                let text = match view.redactor() {
                    Some(r) => r.text(&xml_safe(&p.text)),
                    None => xml_safe(&p.text),
                };
                if let Some(r) = reanchor(&body, &text, p.start) {
                    out.entry(note.id.clone()).or_default().push(PassageOut {
                        passage: p,
                        start: r.start,
                        end: r.end,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The description that tells fieldnotes' import a selection is a passage of a note.
pub(super) const PASSAGE_OF: &str = "fieldnotes passage of note ";

/// A passage as a selection of the source beside its note's, coded by its coder.
fn write_passage(
    xml: &mut String,
    note: &NoteRecord,
    p: &PassageOut,
    note_start: usize,
    coder: &str,
) {
    let q = &p.passage;
    let key = [
        "passage",
        note.id.as_str(),
        &q.tag.to_string(),
        &q.start.to_string(),
        &q.end.to_string(),
        q.coder.as_str(),
    ];
    let at = time::to_db(&q.created_at);
    let _ = writeln!(
        xml,
        "      <PlainTextSelection guid=\"{}\" name=\"passage\" startPosition=\"{}\" endPosition=\"{}\" creatingUser=\"{coder}\" creationDateTime=\"{at}\">\n\
         \x20       <Description>{PASSAGE_OF}{}</Description>\n\
         \x20       <Coding guid=\"{}\" creatingUser=\"{coder}\" creationDateTime=\"{at}\">\n\
         \x20         <CodeRef targetGUID=\"{}\"/>\n\
         \x20       </Coding>\n\
         \x20     </PlainTextSelection>",
        stable_guid(&key),
        note_start + p.start,
        note_start + p.end,
        note.id,
        stable_guid(&[&key[..], &["coding"]].concat()),
        code_guid(&q.tag),
    );
}

/// Writes a REFI-QDA project (`.qdpx`, a zip) of the notes in view.
pub fn export_project(view: &ExportView<'_>, out: &mut dyn Write) -> Result<ExportSummary> {
    let mut sessions: BTreeMap<String, (SessionLine, Vec<NoteRecord>)> = BTreeMap::new();
    let summary = view.for_each_note(false, |session, rec| {
        sessions
            .entry(session.id.clone())
            .or_insert_with(|| (session.clone(), Vec::new()))
            .1
            .push(rec);
        Ok(())
    })?;
    let mut sources: Vec<Source> = sessions
        .into_values()
        .map(|(s, notes)| build_source(s, notes))
        .collect();
    sources.sort_by(|a, b| {
        (a.session.started_at, &a.session.id).cmp(&(b.session.started_at, &b.session.id))
    });
    let used: BTreeSet<Tag> = sources
        .iter()
        .flat_map(|s| {
            s.selections
                .iter()
                .flat_map(|(n, ..)| n.tags.iter().cloned())
        })
        .collect();
    let passages = passages_out(view, &sources)?;
    let mut used = used;
    used.extend(passages.values().flatten().map(|p| p.passage.tag.clone()));
    let codes = codes(view, &used)?;

    // Cases: every participant of an exported session or note.
    let mut cases: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for s in &sources {
        for p in &s.session.participants {
            cases
                .entry(p.pseudonym.clone())
                .or_default()
                .0
                .insert(s.guid.clone());
        }
        for (note, ..) in &s.selections {
            if let Some(p) = &note.participant {
                let case = cases.entry(p.clone()).or_default();
                case.0.insert(s.guid.clone());
                case.1.push(stable_guid(&["note", &note.id]));
            }
        }
    }
    // Users: the sessions' researchers and the passages' coders.
    let researchers: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| s.session.researcher.clone())
        .chain(passages.values().flatten().map(|p| p.passage.coder.clone()))
        .collect();
    let user_guid = |name: &str| stable_guid(&["user", name]);

    let title = match view.study() {
        Some(study) => format!("fieldnotes: {study}"),
        None => "fieldnotes".to_owned(),
    };
    let mut xml = String::new();
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Project xmlns=\"{PROJECT_NS}\" name=\"{}\" origin=\"{ORIGIN}\">\n",
        esc(&title)
    );
    if !researchers.is_empty() {
        xml.push_str("  <Users>\n");
        for r in &researchers {
            let _ = writeln!(
                xml,
                "    <User guid=\"{}\" name=\"{}\"/>",
                user_guid(r),
                esc(r)
            );
        }
        xml.push_str("  </Users>\n");
    }
    xml.push_str("  <CodeBook>\n    <Codes>\n");
    write_codes(&mut xml, &codes, "      ");
    xml.push_str("    </Codes>\n  </CodeBook>\n");
    if !cases.is_empty() {
        xml.push_str("  <Cases>\n");
        for (name, (source_guids, selection_guids)) in &cases {
            let _ = writeln!(
                xml,
                "    <Case guid=\"{}\" name=\"{}\">",
                stable_guid(&["case", name]),
                esc(name)
            );
            for g in source_guids {
                let _ = writeln!(xml, "      <SourceRef targetGUID=\"{g}\"/>");
            }
            for g in selection_guids {
                let _ = writeln!(xml, "      <SelectionRef targetGUID=\"{g}\"/>");
            }
            xml.push_str("    </Case>\n");
        }
        xml.push_str("  </Cases>\n");
    }
    if !sources.is_empty() {
        xml.push_str("  <Sources>\n");
        for s in &sources {
            let creator = s
                .session
                .researcher
                .as_deref()
                .map(|r| format!(" creatingUser=\"{}\"", user_guid(r)))
                .unwrap_or_default();
            let _ = write!(
                xml,
                "    <TextSource guid=\"{}\" name=\"{}\" plainTextPath=\"internal://{}.txt\"{creator} creationDateTime=\"{}\">\n\
                 \x20     <Description>{}</Description>\n",
                s.guid,
                esc(&source_name(&s.session)),
                s.guid,
                time::to_db(&s.session.started_at),
                esc(&source_description(&s.session)),
            );
            for (note, start, end) in &s.selections {
                let mut name = note.kind.to_string();
                if let Some(ms) = note.offset_ms {
                    let _ = write!(name, " {}", offset_label(ms));
                }
                let _ = writeln!(
                    xml,
                    "      <PlainTextSelection guid=\"{}\" name=\"{}\" startPosition=\"{start}\" endPosition=\"{end}\"{creator} creationDateTime=\"{}\" modifiedDateTime=\"{}\">",
                    stable_guid(&["note", &note.id]),
                    esc(&name),
                    time::to_db(&note.created_at),
                    time::to_db(&note.updated_at),
                );
                let _ = writeln!(
                    xml,
                    "        <Description>fieldnotes note {}</Description>",
                    note.id
                );
                for tag in &note.tags {
                    let _ = writeln!(
                        xml,
                        "        <Coding guid=\"{}\"{creator}>\n          <CodeRef targetGUID=\"{}\"/>\n        </Coding>",
                        stable_guid(&["coding", &note.id, &tag.to_string()]),
                        code_guid(tag)
                    );
                }
                xml.push_str("      </PlainTextSelection>\n");
                for p in passages.get(&note.id).into_iter().flatten() {
                    write_passage(&mut xml, note, p, *start, &user_guid(&p.passage.coder));
                }
            }
            xml.push_str("    </TextSource>\n");
        }
        xml.push_str("  </Sources>\n");
    }
    xml.push_str("</Project>\n");

    let zip_err =
        |e: zip::result::ZipError| Error::Corrupt(format!("cannot write the project: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed time in the zip, so the same notes always give the same file.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let write_err = |e: std::io::Error| Error::io("cannot write the project", e);
    zip.start_file("project.qde", options).map_err(zip_err)?;
    zip.write_all(xml.as_bytes()).map_err(write_err)?;
    for s in &sources {
        zip.start_file(format!("sources/{}.txt", s.guid), options)
            .map_err(zip_err)?;
        zip.write_all(s.text.as_bytes()).map_err(write_err)?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    out.write_all(&bytes).map_err(write_err)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            esc("a<b & \"c\"\u{0}\u{1b}[31m"),
            "a&lt;b &amp; &quot;c&quot;[31m"
        );
    }
}
