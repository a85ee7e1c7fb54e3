//! Word documents: one note per paragraph or list item, headings as context, tables by cell,
//! comments on request, the document's properties for the session. The fixture is built the
//! way Word writes a `.docx`: runs split mid-word, `xml:space="preserve"`, numbered list
//! items, revision ids, bookmarks, proofing marks and a section at the end.

mod common;

use std::io::Write;
use std::path::Path;

use common::{TestArchive, write};
use serde_json::Value;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/><Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.org/store" TargetMode="External"/></Relationships>"#;

const W: &str = r#"xmlns:wpc="http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" mc:Ignorable="w14""#;

/// A paragraph in a style.
fn styled(style: &str, text: &str) -> String {
    format!(
        r#"<w:p w14:paraId="1A2B3C4D" w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3"><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
    )
}

/// A numbered list item, its text split into runs as Word leaves it after editing.
fn item(runs: &[&str]) -> String {
    let runs: String = runs
        .iter()
        .map(|r| format!(r#"<w:r w:rsidR="00D4E5F6"><w:t xml:space="preserve">{r}</w:t></w:r>"#))
        .collect();
    format!(
        r#"<w:p w:rsidR="00D4E5F6" w:rsidRDefault="00D4E5F6" w:rsidP="00D4E5F6"><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>{runs}</w:p>"#
    )
}

fn cell(text: &str) -> String {
    let p = if text.is_empty() {
        "<w:p/>".to_owned()
    } else {
        format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    };
    format!(r#"<w:tc><w:tcPr><w:tcW w:w="4508" w:type="dxa"/></w:tcPr>{p}</w:tc>"#)
}

fn document() -> String {
    let body = [
        styled("Title", "Riverside visit write-up"),
        styled("Heading1", "Checkout"),
        // A sentence Word split into runs mid-word (spell check, formatting, edits).
        r#"<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00B2C3D4"><w:bookmarkStart w:id="0" w:name="_GoBack"/><w:r><w:t>Wai</w:t></w:r><w:r w:rsidR="00B2C3D4"><w:t xml:space="preserve">ted 6 min at the </w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:rPr><w:b/></w:rPr><w:t>coun</w:t></w:r><w:r><w:t xml:space="preserve">ter, staff on phones </w:t></w:r><w:proofErr w:type="spellEnd"/><w:r><w:t>#check</w:t></w:r><w:r><w:t xml:space="preserve">out !frustrated @busy-parent</w:t></w:r><w:bookmarkEnd w:id="0"/></w:p>"#.to_owned(),
        item(&["Queue of six at ", "10:05 #checkout"]),
        item(&["Self-check", "out froze twice =scanner-error"]),
        r#"<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3"/>"#.to_owned(),
        r#"<w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p>"#.to_owned(),
        styled("Heading2", "Tills"),
        // A quote with a comment on it.
        r#"<w:p><w:pPr><w:pStyle w:val="Quote"/></w:pPr><w:commentRangeStart w:id="0"/><w:r><w:t>I just want it quick</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:commentReference w:id="0"/></w:r></w:p>"#.to_owned(),
        // Tabs and line breaks; a tracked deletion and insertion; a link.
        r#"<w:p><w:r><w:t>Time:</w:t></w:r><w:r><w:tab/><w:t>ten past</w:t><w:br/><w:t>then the rush</w:t></w:r><w:del w:id="1" w:author="Ana Ruiz" w:date="2026-09-03T12:00:00Z"><w:r><w:delText> and chaos</w:delText></w:r></w:del><w:ins w:id="2" w:author="Ana Ruiz" w:date="2026-09-03T12:00:00Z"><w:r><w:t xml:space="preserve"> (see </w:t></w:r></w:ins><w:hyperlink r:id="rId4" w:history="1"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr><w:t>the store page</w:t></w:r></w:hyperlink><w:r><w:t>)</w:t></w:r></w:p>"#.to_owned(),
        styled("Heading1", "Observation grid"),
        format!(
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="4508"/><w:gridCol w:w="4508"/></w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>{}{}</w:tr><w:tr>{}{}</w:tr><w:tr>{}{}</w:tr></w:tbl>"#,
            cell("Time"),
            cell("Observation"),
            cell("10:05"),
            cell("Queue of six #checkout"),
            cell("10:20"),
            cell(""),
        ),
        r#"<w:p/><w:sectPr w:rsidR="00A1B2C3"><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/><w:cols w:space="708"/></w:sectPr>"#.to_owned(),
    ]
    .concat();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W}><w:body>{body}</w:body></w:document>"#
    )
}

const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="0"/></w:pPr></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/></w:style><w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/><w:basedOn w:val="Normal"/></w:style><w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:left="720"/></w:pPr></w:style></w:styles>"#;

const NUMBERING: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val=""/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>"#;

const COMMENTS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:comment w:id="0" w:author="Ana Ruiz" w:date="2026-09-03T12:30:00Z" w:initials="AR"><w:p><w:pPr><w:pStyle w:val="CommentText"/></w:pPr><w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:annotationRef/></w:r><w:r><w:t>She sounded tired, not angry =fatigue</w:t></w:r></w:p></w:comment></w:comments>"#;

const CORE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>Riverside visit</dc:title><dc:subject></dc:subject><dc:creator>Ana Ruiz</dc:creator><cp:keywords></cp:keywords><cp:lastModifiedBy>Sam Lee</cp:lastModifiedBy><cp:revision>3</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">2026-09-03T10:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2026-09-03T12:45:00Z</dcterms:modified></cp:coreProperties>"#;

/// Zips the parts as Word does, `[Content_Types].xml` first.
fn docx(path: &Path, parts: &[(&str, &str)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

fn word_file(path: &Path) {
    let document = document();
    docx(
        path,
        &[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", &document),
            ("word/_rels/document.xml.rels", DOCUMENT_RELS),
            ("word/styles.xml", STYLES),
            ("word/numbering.xml", NUMBERING),
            ("word/comments.xml", COMMENTS),
            ("docProps/core.xml", CORE),
        ],
    );
}

/// The live notes in creation order, as the lossless export writes them.
fn notes(a: &TestArchive) -> Vec<Value> {
    a.ok(&["export", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("body").is_some())
        .collect()
}

#[test]
fn a_word_document_becomes_notes_with_its_headings_as_context() {
    let a = TestArchive::new();
    let file = a.path("visit.docx");
    word_file(&file);
    let path = file.to_str().unwrap();
    let done = a.json(&["import", path, "--study", "Checkout Q3"]);
    assert_eq!(done["added"], 8, "{done}");
    assert_eq!(done["skipped"], 1, "the comment: {done}");
    assert!(
        done["warnings"].to_string().contains("--comments"),
        "{done}"
    );

    let n = notes(&a);
    let line = |n: &Value| {
        format!(
            "{} | {} | {}",
            n["kind"].as_str().unwrap(),
            n["source"].as_str().unwrap().replace(path, "visit.docx"),
            n["body"].as_str().unwrap()
        )
    };
    let lines: Vec<String> = n.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "observation | visit.docx › Riverside visit write-up › Checkout | Waited 6 min at the counter, staff on phones #checkout !frustrated @busy-parent",
            "observation | visit.docx › Riverside visit write-up › Checkout | Queue of six at 10:05 #checkout",
            "observation | visit.docx › Riverside visit write-up › Checkout | Self-checkout froze twice =scanner-error",
            "quote | visit.docx › Riverside visit write-up › Checkout › Tills | I just want it quick",
            "observation | visit.docx › Riverside visit write-up › Checkout › Tills | Time: ten past\nthen the rush (see the store page)",
            "observation | visit.docx › Riverside visit write-up › Observation grid › table 1, Time | 10:05",
            "observation | visit.docx › Riverside visit write-up › Observation grid › table 1, Observation | Queue of six #checkout",
            "observation | visit.docx › Riverside visit write-up › Observation grid › table 1, Time | 10:20",
        ]
    );
    let first = &n[0];
    assert_eq!(
        first["tags"],
        serde_json::json!({"persona": ["busy-parent"], "touchpoint": ["checkout"], "emotion": ["frustrated"]})
    );
    let s = &first["session"];
    assert_eq!(s["title"], "Riverside visit", "the document's title");
    assert_eq!(s["researcher"], "Ana Ruiz", "its author");
    assert_eq!(s["started_at"], "2026-09-03T10:00:00Z", "its creation");
    assert_eq!(s["study"], "Checkout Q3");

    let again = a.json(&["import", path, "--study", "Checkout Q3"]);
    assert_eq!(again["added"], 0);
    assert_eq!(again["already_present"], 8);
    a.ok(&["check"]);
}

#[test]
fn comments_become_interpretation_notes_after_their_paragraph() {
    let a = TestArchive::new();
    let file = a.path("visit.docx");
    word_file(&file);
    let done = a.json(&["import", file.to_str().unwrap(), "--comments"]);
    assert_eq!(done["added"], 9, "{done}");
    assert!(done.get("warnings").is_none(), "{done}");
    let n = notes(&a);
    let at = n
        .iter()
        .position(|n| n["body"] == "I just want it quick")
        .unwrap();
    let comment = &n[at + 1];
    assert_eq!(comment["body"], "She sounded tired, not angry =fatigue");
    assert_eq!(comment["kind"], "interpretation");
    assert_eq!(comment["tags"]["code"], serde_json::json!(["fatigue"]));
    assert!(
        comment["source"]
            .as_str()
            .unwrap()
            .ends_with("› Checkout › Tills › comment by Ana Ruiz"),
        "{comment}"
    );
}

#[test]
fn flags_win_over_the_document_properties() {
    let a = TestArchive::new();
    let file = a.path("visit.docx");
    word_file(&file);
    a.ok(&[
        "import",
        file.to_str().unwrap(),
        "--session",
        "Visit 7",
        "--researcher",
        "Bo",
        "--started-at",
        "2026-10-01 09:00",
        "--kind",
        "interpretation",
    ]);
    let n = notes(&a);
    let s = &n[0]["session"];
    assert_eq!(s["title"], "Visit 7");
    assert_eq!(s["researcher"], "Bo");
    assert_eq!(s["started_at"], "2026-10-01T09:00:00Z");
    assert_eq!(n[0]["kind"], "interpretation");
    assert_eq!(n[3]["kind"], "quote", "the Quote style still says quote");
}

#[test]
fn a_dry_run_of_a_word_document_writes_nothing() {
    let a = TestArchive::new();
    let file = a.path("visit.docx");
    word_file(&file);
    let preview = a.json(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(preview["added"], 8);
    assert_eq!(
        preview["preview"][0]["body"],
        "Waited 6 min at the counter, staff on phones #checkout !frustrated @busy-parent"
    );
    let text = a.ok(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert!(text.contains("would add 8 notes"), "{text}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
}

#[test]
fn broken_word_files_import_nothing_and_say_why() {
    let a = TestArchive::new();
    let file = a.path("old.docx");
    let stderr = |args: &[&str]| String::from_utf8_lossy(&a.fails(args).stderr).into_owned();

    write(
        &file,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old binary .doc",
    );
    let err = stderr(&["import", file.to_str().unwrap()]);
    assert!(
        err.contains("old.docx") && err.contains("not a zip"),
        "{err}"
    );
    assert!(err.contains("save it as .docx"), "{err}");

    docx(&file, &[("[Content_Types].xml", CONTENT_TYPES)]);
    let err = stderr(&["import", file.to_str().unwrap()]);
    assert!(err.contains("no word/document.xml"), "{err}");

    let broken = document().replace("</w:body>", "</w:bdy>");
    docx(
        &file,
        &[("_rels/.rels", RELS), ("word/document.xml", &broken)],
    );
    let err = stderr(&["import", file.to_str().unwrap()]);
    assert!(
        err.contains("word/document.xml, line 2") && err.contains("not well-formed"),
        "{err}"
    );

    let empty = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{}<w:p/></w:body></w:document>"#,
        styled("Heading1", "Only a heading")
    );
    docx(&file, &[("word/document.xml", &empty)]);
    let err = stderr(&["import", file.to_str().unwrap()]);
    assert!(err.contains("no paragraph or list item"), "{err}");
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);

    let md = a.path("notes.md");
    write(&md, "A note\n");
    let out = a.fails(&["import", md.to_str().unwrap(), "--comments"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--comments is for Word documents"));
}
