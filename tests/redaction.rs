//! Redaction that leaks nothing: an adversarial set of names (in tags, possessives, quotes,
//! spelled three ways), bank accounts, national identity numbers, links and handles, checked
//! in every export format and again after the redacted export is imported elsewhere.

mod common;

use std::io::Read;

use common::{TestArchive, write};

/// What must never leave the archive in a redacted export (compared case-insensitively).
const SECRETS: &[&str] = &[
    "jean",
    "picard",
    "maya",
    "patel",
    "zoë",
    "zoe",
    "priya",
    "tomasz",
    "nowak",
    "gb82",
    "west 1234",
    "5698 7654",
    "de89370400440532013000",
    "ab 12 34 56 c",
    "123-45-6789",
    "12345678z",
    "rssmra85t10a562s",
    "533401372",
    "linkedin.com/in",
    "p.shops",
    "cakesby",
    "example.com",
    "900123",
    "nl91abna0417164300",
];

/// What redaction must leave as it was.
const KEPT: &[&str] = &[
    "Waited 10 minutes",
    "@busy-parent",
    "50% off",
    "2026-09-03",
    "marlows.example",
];

fn line(id: &str, speaker: Option<&str>, body: &str) -> String {
    serde_json::json!({
        "id": id,
        "kind": "quote",
        "body": body,
        "created_at": "2026-09-03T10:00:00Z",
        "participant": speaker,
        "session": {
            "id": "01K4B0000000000000000SES01",
            "study": "Checkout Q3",
            "kind": "interview",
            "started_at": "2026-09-03T09:30:00Z",
            "researcher": "Ana Ruiz",
            "participants": [
                {"pseudonym": "Jean-Luc Picard", "consent": true},
                {"pseudonym": "Maya Patel", "consent": true,
                 "contact": "maya.patel@example.com, +44 7700 900123"},
                {"pseudonym": "Zoë", "consent": true}
            ]
        }
    })
    .to_string()
}

fn adversarial_archive() -> TestArchive {
    let a = TestArchive::new();
    let notes = [
        (
            None,
            "@jean-luc said the queue was long #checkout =jean-luc-quote",
        ),
        (
            Some("Jean-Luc Picard"),
            "Jean Luc told me, JEANLUC's wife agreed; it was jean-luc's card, Picard's really",
        ),
        (
            Some("Zoë"),
            "Zoe (Zoë on her badge) said “Priya” helped; Priya's manager Tomasz Nowak came over =priya-helped",
        ),
        (
            None,
            "Pay to IBAN GB82 WEST 1234 5698 7654 32 or DE89370400440532013000, or nl91abna0417164300",
        ),
        (
            None,
            "NI number AB 12 34 56 C, SSN 123-45-6789, DNI 12345678Z, codice fiscale RSSMRA85T10A562S, passport no. 533401372",
        ),
        (
            Some("Maya Patel"),
            "My profile https://www.linkedin.com/in/maya-p-123 and insta @maya.p.shops, follow me on tiktok @cakesbymaya",
        ),
        (
            Some("Maya Patel"),
            "Email maya.patel@example.com or call +44 7700 900123, MAYA PATEL at the till",
        ),
        (
            None,
            "Waited 10 minutes at #checkout @busy-parent; 50% off on 2026-09-03, see marlows.example",
        ),
    ];
    let lines: Vec<String> = notes
        .iter()
        .enumerate()
        .map(|(i, (speaker, body))| line(&format!("01K4B0000000000000000NTE0{i}"), *speaker, body))
        .collect();
    let file = a.path("in.jsonl");
    write(&file, lines.join("\n") + "\n");
    a.ok(&["import", file.to_str().unwrap()]);
    a.ok(&[
        "mask-names",
        "--study",
        "Checkout Q3",
        "--add",
        "Tomasz Nowak",
    ]);
    a
}

fn leaks(text: &str) -> Vec<&'static str> {
    let lower = common::without_ids(text).to_lowercase();
    SECRETS
        .iter()
        .copied()
        .filter(|s| lower.contains(&s.to_lowercase()))
        .collect()
}

fn unzip_all(path: &std::path::Path) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        all.push_str(&String::from_utf8_lossy(&bytes));
        all.push_str(&member.name().unwrap_or_default());
    }
    all
}

#[test]
fn no_format_leaks_a_masked_value() {
    let a = adversarial_archive();
    // Without redaction the secrets are all there: the check can fail.
    let plain = a.ok(&["export", "--format", "jsonl"]);
    assert_eq!(leaks(&plain).len(), SECRETS.len(), "{:?}", leaks(&plain));

    for ext in ["jsonl", "csv", "md", "qdpx", "qdc"] {
        let out = a.path(&format!("redacted.{ext}"));
        a.ok(&[
            "export",
            "--redact",
            "--mask-names",
            "Priya",
            "-o",
            out.to_str().unwrap(),
        ]);
        let text = if ext == "qdpx" {
            unzip_all(&out)
        } else {
            std::fs::read_to_string(&out).unwrap()
        };
        assert!(
            leaks(&text).is_empty(),
            "{ext} leaks {:?}:\n{text}",
            leaks(&text)
        );
        if ext == "qdc" {
            for code in ["busy-parent", "checkout", "p1-quote", "name-helped"] {
                assert!(text.contains(code), "the codebook lost {code}:\n{text}");
            }
        } else {
            for kept in KEPT {
                assert!(text.contains(kept), "{ext} lost {kept:?}:\n{text}");
            }
        }
    }
    let jsonl = std::fs::read_to_string(a.path("redacted.jsonl")).unwrap();
    // Tags named after people stay tags, under the pseudonym.
    assert!(jsonl.contains("@p1 said"), "{jsonl}");
    assert!(jsonl.contains("\"p1\""), "{jsonl}");
    assert!(jsonl.contains("=p1-quote"), "{jsonl}");
    assert!(jsonl.contains("=name-helped"), "{jsonl}");
}

#[test]
fn the_export_says_what_it_masked_by_kind() {
    let a = adversarial_archive();
    let out = a.path("r.jsonl");
    let summary = a.json(&[
        "export",
        "--redact",
        "--mask-names",
        "Priya",
        "-o",
        out.to_str().unwrap(),
    ]);
    let masked = &summary["masked"];
    for kind in [
        "participant name",
        "[name]",
        "[bank account]",
        "[national id]",
        "[link]",
        "[handle]",
        "[email]",
    ] {
        assert!(
            masked[kind].as_u64().unwrap_or(0) > 0,
            "{kind} not counted: {masked}"
        );
    }
    assert_eq!(masked["[bank account]"], 3);
    let text = a.ok(&["export", "--redact", "-o", out.to_str().unwrap()]);
    assert!(text.is_empty() || text.contains("masked"));
}

#[test]
fn a_redacted_export_imported_elsewhere_holds_no_masked_value() {
    let a = adversarial_archive();
    for ext in ["jsonl", "qdpx"] {
        let out = a.path(&format!("shared.{ext}"));
        a.ok(&[
            "export",
            "--redact",
            "--mask-names",
            "Priya",
            "-o",
            out.to_str().unwrap(),
        ]);
        let b = TestArchive::new();
        b.ok(&["import", out.to_str().unwrap()]);
        b.ok(&["check"]);
        let mut bytes = String::new();
        for entry in walk(&b.dir) {
            bytes.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
        }
        assert!(
            leaks(&bytes).is_empty(),
            "{ext} re-imported holds {:?}",
            leaks(&bytes)
        );
        assert!(bytes.contains("Waited 10 minutes"), "the notes came across");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
