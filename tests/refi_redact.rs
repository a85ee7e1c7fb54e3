//! REFI-QDA exports that validate against the standard's schemas, and redaction that lets no
//! e-mail, phone number or real name through in any format.

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
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/two_sessions.jsonl"
);

/// `xmllint --schema`; without xmllint the validation says it was skipped (and fails under
/// `FIELDNOTES_REQUIRE_TOOLS=1`), the rest of the test still runs.
fn validate(schema: &str, file: &Path) {
    assert!(
        Path::new(schema).is_file(),
        "the REFI-QDA schema {schema} is missing (a copy of shared/refi-qda lives in tests/fixtures)"
    );
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

/// The files of a `.qdpx`, by name.
fn unzip(path: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(path).expect("qdpx exists");
    let mut zip = zip::ZipArchive::new(file).expect("a qdpx is a zip");
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("zip entry");
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("utf-8 entry");
        files.push((entry.name().expect("entry name").into_owned(), text));
    }
    files
}

fn export_qdpx(a: &TestArchive, name: &str, extra: &[&str]) -> Vec<(String, String)> {
    let path = a.path(name);
    let mut args = vec!["export", "-o", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    a.ok(&args);
    let files = unzip(&path);
    let qde = a.path(&format!("{name}.qde"));
    write(
        &qde,
        &files.iter().find(|(n, _)| n == "project.qde").unwrap().1,
    );
    validate(PROJECT_XSD, &qde);
    files
}

#[test]
fn the_demo_exports_as_a_valid_refi_qda_project_and_codebook() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let files = export_qdpx(&a, "demo.qdpx", &[]);
    let qde = &files.iter().find(|(n, _)| n == "project.qde").unwrap().1;
    let sessions = a.json(&["session", "list"]).as_array().unwrap().len();
    let sources: Vec<_> = files
        .iter()
        .filter(|(n, _)| n.starts_with("sources/"))
        .collect();
    assert_eq!(sources.len(), sessions, "one text source per session");
    assert_eq!(qde.matches("<TextSource ").count(), sessions);
    assert_eq!(qde.matches("<PlainTextSelection ").count(), 390);
    // Every selection's positions cut exactly its note's text out of the source.
    let note = a.json(&["search", "\"unexpected item\"", "--kind", "quote"]);
    let body = note["hits"][0]["body"].as_str().unwrap();
    let found = sources.iter().any(|(_, text)| text.contains(body));
    assert!(found, "a note's text is in its source");
    for facet in ["Persona", "Touchpoint", "Emotion", "Job to be done", "Code"] {
        assert!(qde.contains(&format!("name=\"{facet}\" isCodable=\"false\"")));
    }
    assert!(qde.contains("<Case "), "participants are cases");
    // Exporting again gives the same bytes (GUIDs come from ids, the zip has a fixed time).
    let again = a.path("again.qdpx");
    a.ok(&["export", "-o", again.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(a.path("demo.qdpx")).unwrap(),
        std::fs::read(&again).unwrap()
    );

    let qdc = a.path("codebook.qdc");
    a.ok(&["export", "-o", qdc.to_str().unwrap()]);
    validate(CODEBOOK_XSD, &qdc);
    let codebook = std::fs::read_to_string(&qdc).unwrap();
    assert!(codebook.contains("name=\"busy-parent\""));
}

#[test]
fn selections_point_at_their_notes_golden() {
    let a = TestArchive::new();
    a.ok(&["import", FIXTURE]);
    let files = export_qdpx(&a, "two.qdpx", &["--study", "Checkout Q3"]);
    let qde = &files.iter().find(|(n, _)| n == "project.qde").unwrap().1;
    // Positions are counted in characters: cut each selection from its source and compare.
    let re_sel = regex::Regex::new(
        r#"<PlainTextSelection guid="[^"]+" name="[^"]+" startPosition="(\d+)" endPosition="(\d+)""#,
    )
    .unwrap();
    let first_source = files
        .iter()
        .find(|(n, t)| n.starts_with("sources/") && t.contains("waited ages"))
        .unwrap();
    let chars: Vec<char> = first_source.1.chars().collect();
    let caps = re_sel.captures(qde).unwrap();
    let (start, end): (usize, usize) = (caps[1].parse().unwrap(), caps[2].parse().unwrap());
    let cut: String = chars[start..end].iter().collect();
    assert!(cut.starts_with("I waited ages") && cut.ends_with("@busy-parent"));
    let mut listing: Vec<String> = files.iter().map(|(n, t)| format!("== {n}\n{t}")).collect();
    listing.sort();
    insta::assert_snapshot!(listing.join("\n"));
}

#[test]
fn hostile_text_still_makes_valid_xml() {
    let a = TestArchive::new();
    a.start_session();
    a.add(&["<Code guid=\"x\"> & ]]> \u{1b}[31m \u{0b} 💥 #check<out> =a&b"]);
    a.add(&[
        "--kind",
        "quote",
        "Zero\u{200b}width and RTL \u{202e}txet #日本",
    ]);
    let files = export_qdpx(&a, "hostile.qdpx", &[]);
    let qde = &files.iter().find(|(n, _)| n == "project.qde").unwrap().1;
    assert_eq!(qde.matches("<PlainTextSelection ").count(), 2);
    let qdc = a.path("hostile.qdc");
    a.ok(&["export", "-o", qdc.to_str().unwrap()]);
    validate(CODEBOOK_XSD, &qdc);
}

/// Text built to slip past a redactor: names in other cases and inside words, e-mails spelt
/// out, numbers with odd separators, addresses in lower case.
const ADVERSARIAL: &[&str] = &[
    "MAYA OKAFOR wrote from maya.okafor@example.org and M.Okafor+shop@Example.CO.UK",
    "reach maya at example dot org or maya (at) example (dot) org, or maya＠example．org",
    "her number is +44 (0)7700-900-123, alt 07700.900.123 / 0044 7700 900123",
    "card 4111-1111-1111-1111 and 4111 1111 1111 1111 and 4111111111111111",
    "she lives at 12 high street, flat 3; before that 221b Baker St. (SW1A 1AA)",
    "maya_okafor and @maya-okafor and #okafor said so; Okafor's view",
    "Jo is not here but jo@example.net is",
];

#[test]
fn redaction_lets_no_email_phone_card_address_or_name_through() {
    let a = TestArchive::new();
    a.ok(&[
        "session",
        "start",
        "--kind",
        "interview",
        "--study",
        "Checkout Q3",
        "--participant",
        "Maya Okafor",
        "--consent",
        "--title",
        "Talk with Maya Okafor",
        "--location",
        "Maya's flat, 12 High Street",
    ]);
    for text in ADVERSARIAL {
        a.add(&["--kind", "quote", text]);
    }
    a.ok(&[
        "session",
        "start",
        "--kind",
        "interview",
        "--study",
        "Checkout Q3",
        "--participant",
        "Jo",
    ]);
    a.add(&["Jo, no consent recorded: 0161 496 0000 #checkout"]);
    let before = a.ok(&["export"]);

    let forbidden = [
        "maya",
        "okafor",
        "example",
        "7700",
        "900123",
        "4111",
        "high street",
        "baker",
        "sw1a",
        "0161",
        "jo,",
        "jo ",
    ];
    let check = |what: &str, text: &str| {
        let lower = common::without_ids(text).to_lowercase();
        for word in forbidden {
            assert!(
                !lower.contains(word),
                "{what}: {word:?} survived redaction in:\n{text}"
            );
        }
    };
    for (format, name) in [("jsonl", "r.jsonl"), ("csv", "r.csv")] {
        let path = a.path(name);
        let out = a
            .cmd()
            .args([
                "export",
                "--redact",
                "--format",
                format,
                "-o",
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let status = String::from_utf8_lossy(&out.stderr);
        assert!(
            status.contains("left out 1 notes"),
            "the export says how many notes it left out: {status}"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        check(format, &text);
        assert!(text.contains("P1"), "{text}");
        assert!(
            text.matches("[email]").count() + text.matches("[contact]").count() >= 5,
            "{text}"
        );
    }
    for (name, text) in export_qdpx(&a, "r.qdpx", &["--redact"]) {
        check(&name, &text);
    }
    let json = a.json(&[
        "export",
        "--redact",
        "-o",
        a.path("r2.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(json["withheld"], 1);
    assert_eq!(json["notes"], ADVERSARIAL.len());
    // The archive itself is unchanged.
    assert_eq!(a.ok(&["export"]), before);
}
