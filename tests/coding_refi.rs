//! Passages and the codebook's tree through REFI-QDA: the export nests codes, carries
//! colours, descriptions and passages (PlainTextSelection at exact code-point offsets, the
//! coder as creatingUser), validates against the standard's schemas, and comes back through
//! our own import with identical offsets, coders and tree.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Command;

use common::{TestArchive, write};

const PROJECT_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/refi-qda/Project.xsd"
);
const CODEBOOK_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/refi-qda/Codebook.repaired.xsd"
);

fn validate(schema: &str, file: &Path) {
    if !common::tool("xmllint", "--version", "libxml2-utils") {
        return;
    }
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(file)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{} does not validate against {schema}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn entry(qdpx: &Path, name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(qdpx).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// (note, tag, start, end, text, coder) of every passage, sorted.
fn passages(a: &TestArchive) -> Vec<(String, String, i64, i64, String, String)> {
    let db = a.db();
    let mut stmt = db
        .prepare(
            "SELECT p.note_id, t.facet || ':' || t.name, p.start, p.end, p.text, p.coder \
             FROM passages p JOIN tags t ON t.id = p.tag_id ORDER BY 1, 2, 3, 6",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// (tag, parent, colour) of every tag that has a parent or a colour.
fn tree(a: &TestArchive) -> Vec<(String, Option<String>, Option<String>)> {
    let db = a.db();
    let mut stmt = db
        .prepare(
            "SELECT t.name, p.name, t.colour FROM tags t LEFT JOIN tags p ON p.id = t.parent_id \
             WHERE t.parent_id IS NOT NULL OR t.colour IS NOT NULL ORDER BY t.name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn passages_and_the_tree_round_trip_through_refi_qda_with_identical_offsets() {
    let a = TestArchive::new();
    a.ok(&[
        "session",
        "start",
        "--kind",
        "interview",
        "--study",
        "Checkout Q3",
        "--researcher",
        "Ana",
    ]);
    // Emoji (one code point, two UTF-16 units), a family emoji made of several code points
    // joined by ZWJ, CJK, and combining marks: where other tools' offsets drift.
    let first = a
        .add(&["😀 排队太久了 — the cafe\u{301} queue was slow 👨\u{200d}👩\u{200d}👧 =wait-time"]);
    let second = a.add(&["Ne\u{303}o said: 「等了很久」 and left #checkout"]);
    let code = |note: &str, tag: &str, quote: &str, coder: &str| {
        a.ok(&["code", note, tag, "--quote", quote, "--coder", coder]);
    };
    code(&first, "=wait-time", "排队太久了", "Ana");
    code(&first, "=wait-time", "cafe\u{301} queue", "Ben");
    code(&first, "=family", "👨\u{200d}👩\u{200d}👧", "Ana");
    code(&second, "=wait-time", "「等了很久」", "Ben");
    code(&second, "#checkout", "Ne\u{303}o", "Ana");
    a.ok(&["codebook", "parent", "=wait-time", "=friction"]);
    a.ok(&["codebook", "parent", "=friction", "=pain"]);
    a.ok(&[
        "codebook",
        "describe",
        "=wait-time",
        "--colour",
        "#D95F02",
        "--description",
        "Time spent waiting",
    ]);
    let before = passages(&a);
    assert_eq!(before.len(), 5);
    // Code points, checked by hand: 😀 is 1, 排队太久了 starts at 2.
    assert!(before.contains(&(
        first.clone(),
        "code:wait-time".into(),
        2,
        7,
        "排队太久了".into(),
        "Ana".into()
    )));

    let qdpx = a.path("coded.qdpx");
    a.ok(&["export", "-o", qdpx.to_str().unwrap()]);
    let qde = entry(&qdpx, "project.qde");
    let qde_file = a.path("coded.qde");
    write(&qde_file, &qde);
    validate(PROJECT_XSD, &qde_file);
    let qdc = a.path("coded.qdc");
    a.ok(&["export", "-o", qdc.to_str().unwrap()]);
    validate(CODEBOOK_XSD, &qdc);
    // The tree is nested <Code> elements; the coders are users, each passage's creatingUser.
    let codebook = std::fs::read_to_string(&qdc).unwrap();
    let pain = codebook.find("name=\"pain\"").unwrap();
    let friction = codebook.find("name=\"friction\"").unwrap();
    let wait = codebook.find("name=\"wait-time\"").unwrap();
    assert!(pain < friction && friction < wait, "{codebook}");
    assert!(codebook.contains("color=\"#d95f02\""));
    assert!(qde.contains("<User guid=") && qde.contains("name=\"Ben\""));
    assert_eq!(qde.matches("name=\"passage\"").count(), 5);

    // Every passage's positions cut exactly its words out of the source text, in code points.
    let re =
        regex::Regex::new(r#"name="passage" startPosition="(\d+)" endPosition="(\d+)""#).unwrap();
    let source_name = qde
        .split("plainTextPath=\"internal://")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let source: Vec<char> = entry(&qdpx, &format!("sources/{source_name}"))
        .chars()
        .collect();
    let mut cut: Vec<String> = re
        .captures_iter(&qde)
        .map(|c| {
            let (s, e): (usize, usize) = (c[1].parse().unwrap(), c[2].parse().unwrap());
            source[s..e].iter().collect()
        })
        .collect();
    cut.sort();
    let mut words: Vec<String> = before.iter().map(|p| p.4.clone()).collect();
    words.sort();
    assert_eq!(cut, words);

    // Into a new archive: the same passages at the same offsets, by the same coders.
    let b = TestArchive::new();
    b.ok(&["import", qdpx.to_str().unwrap()]);
    assert_eq!(passages(&b), before);
    assert_eq!(tree(&b), tree(&a));
    assert_eq!(b.hit_ids(&["--code", "family"]), vec![first.clone()]);
    // And out again, byte for byte.
    let again = b.path("again.qdpx");
    b.ok(&["export", "-o", again.to_str().unwrap()]);
    assert_eq!(entry(&again, "project.qde"), qde);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&qdpx).unwrap()
    );
    // Importing it again adds nothing.
    b.ok(&["import", qdpx.to_str().unwrap()]);
    assert_eq!(passages(&b), before);
}

#[test]
fn a_redacted_export_keeps_passages_on_their_words() {
    let a = TestArchive::new();
    a.ok(&[
        "session",
        "start",
        "--kind",
        "interview",
        "--study",
        "S",
        "--participant",
        "Maya",
        "--consent",
    ]);
    let note = a.add(&["Call me on 07700 900123, the queue was awful"]);
    a.ok(&[
        "code",
        &note,
        "=wait-time",
        "--quote",
        "the queue was awful",
        "--coder",
        "Ana",
    ]);
    let qdpx = a.path("r.qdpx");
    a.ok(&["export", "--redact", "-o", qdpx.to_str().unwrap()]);
    let qde = entry(&qdpx, "project.qde");
    let source_name = qde
        .split("plainTextPath=\"internal://")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let source: Vec<char> = entry(&qdpx, &format!("sources/{source_name}"))
        .chars()
        .collect();
    assert!(!source.iter().collect::<String>().contains("07700"));
    let re =
        regex::Regex::new(r#"name="passage" startPosition="(\d+)" endPosition="(\d+)""#).unwrap();
    let c = re.captures(&qde).expect("the passage is exported");
    let (s, e): (usize, usize) = (c[1].parse().unwrap(), c[2].parse().unwrap());
    assert_eq!(
        source[s..e].iter().collect::<String>(),
        "the queue was awful"
    );
}
