//! REFI-QDA import: fieldnotes' own projects come back identical, and projects written the
//! way NVivo, MAXQDA, QualCoder and Taguette write them (line breaks, emoji and CJK text,
//! nested codes, cases, sources that are not text) become sessions, notes, tags and
//! participants. Fixtures are built here and validated against the standard's schemas.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use common::{TestArchive, write};
use serde_json::Value;

const PROJECT_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/refi-qda/Project.xsd"
);
const CODEBOOK_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/refi-qda/Codebook.repaired.xsd"
);

/// `xmllint --schema` on a fixture: a fixture that is not valid REFI-QDA proves nothing.
fn validate(schema: &str, xml: &str, scratch: &Path) {
    if !common::tool("xmllint", "--version", "libxml2-utils") {
        return;
    }
    write(scratch, xml);
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(scratch)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "the fixture does not validate against {schema}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A GUID for a fixture.
fn g(n: u32) -> String {
    format!("6f1d2a30-0000-4000-8000-{n:012}")
}

/// Where `needle` is in `text`, counted in code points, or with `\r\n` as one (as some
/// suites count).
fn span(text: &str, needle: &str, crlf_as_one: bool) -> (usize, usize) {
    let t = if crlf_as_one {
        text.replace("\r\n", "\n")
    } else {
        text.to_owned()
    };
    let b = t
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in the text"));
    let s = t[..b].chars().count();
    (s, s + needle.chars().count())
}

/// Writes a `.qdpx`: `project.qde` and the given files, as a suite zips them.
fn qdpx(path: &Path, qde: &str, files: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("project.qde", options).unwrap();
    zip.write_all(qde.as_bytes()).unwrap();
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// Every live note, as the lossless export writes it, in creation order.
fn notes(a: &TestArchive) -> Vec<Value> {
    a.ok(&["export", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("body").is_some() && v["deleted_at"].is_null())
        .collect()
}

fn note<'a>(notes: &'a [Value], start: &str) -> &'a Value {
    notes
        .iter()
        .find(|n| n["body"].as_str().unwrap().starts_with(start))
        .unwrap_or_else(|| panic!("a note starting {start:?} in {notes:#?}"))
}

fn tags(n: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (facet, sigil) in [
        ("persona", '@'),
        ("touchpoint", '#'),
        ("emotion", '!'),
        ("job", '+'),
        ("code", '='),
    ] {
        for t in n["tags"][facet].as_array().into_iter().flatten() {
            out.push(format!("{sigil}{}", t.as_str().unwrap()));
        }
    }
    out.sort();
    out
}

fn files_of(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

/// What a REFI-QDA project carries of a note, from the lossless export.
fn carried(notes: &[Value]) -> Vec<Value> {
    notes
        .iter()
        .map(|n| {
            let s = &n["session"];
            let who: Vec<&Value> = s["participants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| &p["pseudonym"])
                .collect();
            serde_json::json!({
                "id": n["id"], "kind": n["kind"], "body": n["body"], "tags": n["tags"],
                "created_at": n["created_at"], "updated_at": n["updated_at"],
                "participant": n["participant"],
                "offset_s": n["offset_ms"].as_i64().map(|ms| ms / 1000),
                "session": [s["id"], s["study"], s["kind"], s["title"], s["started_at"],
                    s["researcher"], s["location"], s["channel"], who],
            })
        })
        .collect()
}

/// Sessions with several participants (recorded in an order that is not alphabetical),
/// speakers who are not the session's participants, no titles, tags of every facet, text in
/// several scripts with emoji, line breaks and a note in the trash.
const OWN_NOTES: &str = r#"{"id":"01K4B000000000000000NTE001","kind":"quote","body":"Zoë said the queue was 20 min 😤 #checkout !frustrated @busy-parent","created_at":"2026-09-03T10:05:00Z","offset_ms":300000,"participant":"Zoë","session":{"id":"01K4B0000000000000000SES01","study":"Checkout Q3","kind":"interview","title":"Zoë at home","started_at":"2026-09-03T10:00:00Z","researcher":"Ana Ruiz","location":"Leeds","channel":"store","participants":[{"pseudonym":"Zoë"}]}}
{"id":"01K4B000000000000000NTE002","kind":"observation","body":"店員さんが親切でした。 +quick-pickup =staff\r\nsecond line\nthird","created_at":"2026-09-03T10:07:30.250Z","offset_ms":450250,"session":{"id":"01K4B0000000000000000SES01","study":"Checkout Q3","kind":"interview","title":"Zoë at home","started_at":"2026-09-03T10:00:00Z","researcher":"Ana Ruiz","location":"Leeds","channel":"store","participants":[{"pseudonym":"Zoë"}]}}
{"id":"01K4B000000000000000NTE003","kind":"quote","body":"Adam: the app kept logging me out #app !annoyed","created_at":"2026-09-04T09:01:00Z","offset_ms":60000,"participant":"Adam","session":{"id":"01K4B0000000000000000SES02","study":"Checkout Q3","kind":"focus-group","started_at":"2026-09-04T09:00:00Z","researcher":"Ana Ruiz","participants":[{"pseudonym":"Zoë"},{"pseudonym":"Adam"}]}}
{"id":"01K4B000000000000000NTE004","kind":"quote","body":"Bea (a visitor) agreed with Adam","created_at":"2026-09-04T09:02:00Z","offset_ms":3725000,"participant":"Bea","tags":{"code":["agreement"],"persona":["visitor"]},"session":{"id":"01K4B0000000000000000SES02","study":"Checkout Q3","kind":"focus-group","started_at":"2026-09-04T09:00:00Z","researcher":"Ana Ruiz","participants":[{"pseudonym":"Zoë"},{"pseudonym":"Adam"}]}}
{"id":"01K4B000000000000000NTE005","kind":"interpretation","body":"Trashed thought","created_at":"2026-09-04T09:03:00Z","deleted_at":"2026-09-04T09:04:00Z","session":{"id":"01K4B0000000000000000SES02","study":"Checkout Q3","kind":"focus-group","started_at":"2026-09-04T09:00:00Z","researcher":"Ana Ruiz","participants":[{"pseudonym":"Zoë"},{"pseudonym":"Adam"}]}}
{"id":"01K4B000000000000000NTE006","kind":"interpretation","body":"A memo written later, no researcher","created_at":"2026-10-01T08:00:00Z","updated_at":"2026-10-02T08:00:00Z","session":{"id":"01K4B0000000000000000SES03","study":"Wave 2","kind":"diary","title":"interview notes","started_at":"2026-10-01T07:00:00Z"}}
"#;

#[test]
fn our_own_projects_come_back_identical() {
    for (label, seed) in [("demo", None), ("own", Some(OWN_NOTES))] {
        let a = TestArchive::new();
        match seed {
            None => {
                a.ok(&["demo", "--seed-only"]);
            }
            Some(jsonl) => {
                let f = a.path("own.jsonl");
                write(&f, jsonl);
                a.ok(&["import", f.to_str().unwrap()]);
            }
        }
        let first = a.path("first.qdpx");
        a.ok(&["export", "-o", first.to_str().unwrap()]);

        let b = TestArchive::new();
        let imported = b.json(&["import", first.to_str().unwrap()]);
        assert_eq!(imported["already_present"], 0, "{label}");
        assert!(imported.get("warnings").is_none(), "{label}: {imported}");
        let second = b.path("second.qdpx");
        b.ok(&["export", "-o", second.to_str().unwrap()]);
        let (x, y) = (files_of(&first), files_of(&second));
        for ((nx, bx), (ny, by)) in x.iter().zip(&y) {
            assert_eq!(nx, ny, "{label}");
            assert_eq!(
                String::from_utf8_lossy(bx),
                String::from_utf8_lossy(by),
                "{label}: {nx} differs after the round trip"
            );
        }
        assert_eq!(
            std::fs::read(&first).unwrap(),
            std::fs::read(&second).unwrap(),
            "{label}: the same project, byte for byte"
        );
        // The notes keep what a project carries: ids, kinds, text, tags, times, speakers,
        // sessions (offsets to the second, as the project names them).
        assert_eq!(carried(&notes(&a)), carried(&notes(&b)), "{label}");
        let codebook = |t: &TestArchive| {
            let qdc = t.path("codebook.qdc");
            t.ok(&["export", "-o", qdc.to_str().unwrap()]);
            std::fs::read_to_string(qdc).unwrap()
        };
        assert_eq!(codebook(&a), codebook(&b), "{label}: the codebook too");

        // Again: nothing new, in this archive or the one that exported it.
        let again = b.json(&["import", first.to_str().unwrap()]);
        assert_eq!(again["added"], 0, "{label}");
        assert!(again.get("tags").is_none(), "{label}: {again}");
        assert_eq!(a.json(&["import", first.to_str().unwrap()])["added"], 0);
        b.ok(&["check"]);
    }
}

/// NVivo on Windows: `\r\n` line breaks counted as two characters (as the standard says),
/// braced upper-case GUIDs in references, codes three levels deep under plural facet names,
/// two codes called "Attitude", an interviewee's case naming only the source, a PDF and a memo.
#[test]
fn an_nvivo_style_project_becomes_a_session_of_coded_notes() {
    let a = TestArchive::new();
    let text = "Interviewer: How was the checkout?\r\n\
                Maya: Honestly the self-checkout kept freezing, I was so frustrated.\r\n\
                Maya: The staff member was lovely though, she came over straight away.\r\n\
                Interviewer: Would you come back?\r\n\
                Maya: Probably, it's close to home.\r\n";
    let sel = |n: u32, needle: &str, codes: &[u32]| {
        let (s, e) = span(text, needle, false);
        let codings: String = codes
            .iter()
            .map(|c| {
                format!(
                    "<Coding guid=\"{}\" creatingUser=\"{}\"><CodeRef targetGUID=\"{{{}}}\"/></Coding>",
                    g(900 + n * 10 + c),
                    g(1),
                    g(*c).to_uppercase()
                )
            })
            .collect();
        format!(
            "<PlainTextSelection guid=\"{}\" name=\"{}\" startPosition=\"{s}\" endPosition=\"{e}\" creatingUser=\"{}\" creationDateTime=\"2026-03-02T11:0{n}:00Z\">{codings}</PlainTextSelection>",
            g(200 + n),
            needle.chars().take(12).collect::<String>(),
            g(1)
        )
    };
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Checkout interviews" origin="NVivo 14.23.0" creatingUserGUID="{u}" creationDateTime="2026-03-01T08:00:00Z">
  <Users><User guid="{u}" name="Ana Ruiz"/></Users>
  <CodeBook><Codes>
    <Code guid="{p}" name="Personas" isCodable="false">
      <Code guid="{p1}" name="Busy parent" isCodable="true"/>
    </Code>
    <Code guid="{t}" name="Touchpoints" isCodable="false">
      <Code guid="{t1}" name="Store" isCodable="false">
        <Code guid="{t2}" name="Self checkout" isCodable="true" color="#2ca02c"><Description>The self-service tills</Description></Code>
      </Code>
    </Code>
    <Code guid="{e}" name="Emotions" isCodable="false">
      <Code guid="{e1}" name="Negative" isCodable="false">
        <Code guid="{e2}" name="Frustrated" isCodable="true"><Description>Annoyed by the tills</Description></Code>
      </Code>
      <Code guid="{e3}" name="Positive" isCodable="false">
        <Code guid="{e4}" name="Pleased" isCodable="true"/>
      </Code>
    </Code>
    <Code guid="{j}" name="Jobs" isCodable="false">
      <Code guid="{j1}" name="Shop close to home" isCodable="true"/>
    </Code>
    <Code guid="{s}" name="Staff" isCodable="true">
      <Code guid="{s1}" name="Attitude" isCodable="true"><Description>How staff treat customers</Description></Code>
    </Code>
    <Code guid="{m}" name="Management" isCodable="true">
      <Code guid="{m1}" name="Attitude" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Cases>
    <Case guid="{c}" name="Maya"><SourceRef targetGUID="{src}"/></Case>
  </Cases>
  <Sources>
    <TextSource guid="{src}" name="Interview Maya" plainTextPath="internal://{src}.txt" creatingUser="{u}" creationDateTime="2026-03-02T09:30:00">
      <Description>Transcribed by Ana</Description>
      {s1x}
      {s2x}
      {s3x}
    </TextSource>
    <PDFSource guid="{pdf}" name="Store floor plan.pdf" path="internal://{pdf}.pdf"/>
  </Sources>
  <Notes>
    <Note guid="{memo}" name="Memo about Maya"><PlainTextContent>She was in a hurry.</PlainTextContent></Note>
  </Notes>
</Project>
"##,
        u = g(1),
        p = g(10),
        p1 = g(11),
        t = g(20),
        t1 = g(21),
        t2 = g(22),
        e = g(30),
        e1 = g(31),
        e2 = g(32),
        e3 = g(33),
        e4 = g(34),
        j = g(40),
        j1 = g(41),
        s = g(50),
        s1 = g(51),
        m = g(60),
        m1 = g(61),
        c = g(70),
        src = g(100),
        pdf = g(101),
        memo = g(102),
        s1x = sel(
            1,
            "the self-checkout kept freezing, I was so frustrated.",
            &[22, 32]
        ),
        s2x = sel(2, "The staff member was lovely though", &[51, 34]),
        s3x = sel(3, "it's close to home", &[41, 11]),
    );
    validate(PROJECT_XSD, &qde, &a.path("nvivo.qde"));
    let file = a.path("Checkout interviews.qdpx");
    qdpx(
        &file,
        &qde,
        &[(&format!("sources/{}.txt", g(100)), text.as_bytes())],
    );
    let done = a.json(&["import", file.to_str().unwrap(), "--study", "Checkout Q3"]);
    assert_eq!(done["added"], 3, "{done}");
    assert_eq!(done["skipped"], 2, "the PDF and the memo: {done}");
    let warnings = done["warnings"].to_string();
    for expected in [
        "Store floor plan.pdf",
        "is a PDF",
        "Memo about Maya",
        "!frustrated: the archive's description kept",
    ] {
        assert!(warnings.contains(expected), "{expected:?} in {warnings}");
    }
    assert!(!warnings.contains("counts positions"), "{warnings}");
    assert_eq!(done["participants"], serde_json::json!(["Maya"]));

    let n = notes(&a);
    let first = note(&n, "the self-checkout");
    assert_eq!(
        first["body"],
        "the self-checkout kept freezing, I was so frustrated."
    );
    assert_eq!(tags(first), ["!frustrated", "#self-checkout"]);
    assert_eq!(first["participant"], "Maya", "the case's only source");
    assert_eq!(first["created_at"], "2026-03-02T11:01:00Z");
    assert_eq!(first["kind"], "observation");
    let s = &first["session"];
    assert_eq!(s["title"], "Interview Maya");
    assert_eq!(s["researcher"], "Ana Ruiz");
    assert_eq!(s["study"], "Checkout Q3");
    assert_eq!(s["started_at"], "2026-03-02T09:30:00Z");
    assert_eq!(s["participants"][0]["pseudonym"], "Maya");
    assert_eq!(
        tags(note(&n, "The staff member")),
        ["!pleased", "=staff-attitude"]
    );
    assert_eq!(
        tags(note(&n, "it's close")),
        ["+shop-close-to-home", "@busy-parent"]
    );

    let codebook = a.json(&["tags"]);
    let described = |name: &str| {
        codebook
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {codebook}"))
            .get("description")
            .cloned()
    };
    assert_eq!(
        described("self-checkout"),
        Some("The self-service tills".into())
    );
    assert_eq!(
        described("staff-attitude"),
        Some("How staff treat customers".into())
    );
    assert_eq!(
        described("management-attitude"),
        None,
        "listed though unused"
    );
    assert_eq!(
        described("frustrated"),
        Some("blocked from doing what they came to do".into()),
        "the archive's own description stays"
    );
    assert!(
        codebook
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "store" && t["name"] != "negative" && t["name"] != "emotions"),
        "codes that only group are no tags: {codebook}"
    );
    // Again: nothing new.
    let again = a.json(&["import", file.to_str().unwrap(), "--study", "Checkout Q3"]);
    assert_eq!(again["added"], 0);
    assert_eq!(again["already_present"], 3);
    a.ok(&["check"]);
}

/// MAXQDA-like: a source whose `\r\n` line breaks count as one character, times with a zone,
/// and a source whose text file is missing.
#[test]
fn a_maxqda_style_project_with_line_breaks_counted_as_one() {
    let a = TestArchive::new();
    let text = "Visit notes, Riverside store\r\n\r\nQueue of 6 people at the tills at 10:05.\r\nStaff member on the phone, not serving.\r\nCustomer left the basket and walked out 😤\r\n";
    let selections: String = [
        ("Queue of 6 people at the tills at 10:05.", g(12)),
        ("Staff member on the phone, not serving.", g(13)),
        ("Customer left the basket and walked out 😤", g(14)),
    ]
    .iter()
    .enumerate()
    .map(|(i, (needle, code))| {
        let (s, e) = span(text, needle, true);
        format!(
            "<PlainTextSelection guid=\"{}\" startPosition=\"{s}\" endPosition=\"{e}\" creationDateTime=\"2026-03-05T14:1{i}:00+02:00\"><Coding guid=\"{}\"><CodeRef targetGUID=\"{code}\"/></Coding></PlainTextSelection>",
            g(300 + i as u32),
            g(400 + i as u32)
        )
    })
    .collect();
    let qde = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Project name="Riverside" origin="MAXQDA 24" xmlns="urn:QDA-XML:project:1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<CodeBook><Codes>
<Code guid="{e}" name="Emotion" isCodable="true"><Code guid="{angry}" name="Angry" isCodable="true"/></Code>
<Code guid="{w}" name="Waiting" isCodable="true"/>
<Code guid="{st}" name="Staff" isCodable="true"/>
<Code guid="{ab}" name="Abandonment" isCodable="true"/>
</Codes></CodeBook>
<Sources>
<TextSource guid="{src}" name="Riverside visit" plainTextPath="internal://{src}.txt" creationDateTime="2026-03-05T13:00:00+02:00">{selections}</TextSource>
<TextSource guid="{gone}" name="Lost notes" plainTextPath="internal://{gone}.txt"/>
</Sources>
</Project>"#,
        e = g(10),
        angry = g(11),
        w = g(12),
        st = g(13),
        ab = g(14),
        src = g(100),
        gone = g(101),
    );
    // The third selection is coded angry as well.
    let qde = qde.replacen(
        "</Coding></PlainTextSelection>",
        &format!(
            "</Coding><Coding guid=\"{}\"><CodeRef targetGUID=\"{}\"/></Coding></PlainTextSelection>",
            g(500),
            g(11)
        ),
        1,
    );
    validate(PROJECT_XSD, &qde, &a.path("maxqda.qde"));
    let file = a.path("riverside.qdpx");
    qdpx(
        &file,
        &qde,
        &[(&format!("sources/{}.txt", g(100)), text.as_bytes())],
    );
    let done = a.json(&[
        "import",
        file.to_str().unwrap(),
        "--kind",
        "observation",
        "--session-kind",
        "observation",
        "--researcher",
        "Ana Ruiz",
    ]);
    assert_eq!(done["added"], 3, "{done}");
    assert_eq!(done["skipped"], 1, "{done}");
    let warnings = done["warnings"].to_string();
    assert!(warnings.contains("Lost notes"), "{warnings}");
    assert!(warnings.contains("is not in the project"), "{warnings}");
    assert!(
        warnings.contains("as one character"),
        "the counting is reported: {warnings}"
    );
    let n = notes(&a);
    let queue = note(&n, "Queue");
    assert_eq!(queue["body"], "Queue of 6 people at the tills at 10:05.");
    assert_eq!(tags(queue), ["!angry", "=waiting"]);
    assert_eq!(queue["created_at"], "2026-03-05T12:10:00Z");
    assert_eq!(queue["session"]["kind"], "observation");
    assert_eq!(queue["session"]["researcher"], "Ana Ruiz");
    assert_eq!(queue["session"]["study"], "Imported");
    assert_eq!(queue["participant"], Value::Null);
    assert_eq!(
        note(&n, "Staff member")["body"],
        "Staff member on the phone, not serving."
    );
    assert_eq!(
        note(&n, "Customer")["body"],
        "Customer left the basket and walked out 😤"
    );
    assert_eq!(tags(note(&n, "Customer")), ["=abandonment"]);
}

/// QualCoder-like: a focus group in `PlainTextContent`, emoji and Japanese counted in code
/// points, two cases crediting their own selections, a selection no case names, a code named
/// in Japanese, and the creating user as the researcher.
#[test]
fn a_qualcoder_style_focus_group_credits_each_speaker() {
    let a = TestArchive::new();
    let text = "Jo: 支払いが早くて便利でした 👍\nSam: The app crashed twice 😡😡 at payment.\nJo: 店員さんが親切でした。\n";
    let picks = [
        (
            "支払いが早くて便利でした 👍",
            vec![g(13), g(12)],
            Some("jo"),
        ),
        (
            "The app crashed twice 😡😡 at payment.",
            vec![g(11), g(21)],
            Some("sam"),
        ),
        ("店員さんが親切でした。", vec![g(12)], Some("jo")),
        ("crashed twice 😡😡", vec![g(11)], None),
    ];
    let mut selections = String::new();
    let mut refs: std::collections::BTreeMap<&str, String> = Default::default();
    for (i, (needle, codes, who)) in picks.iter().enumerate() {
        let (s, e) = span(text, needle, false);
        let id = g(300 + i as u32);
        let codings: String = codes
            .iter()
            .enumerate()
            .map(|(k, c)| {
                format!(
                    "<Coding guid=\"{}\" creatingUser=\"{}\"><CodeRef targetGUID=\"{c}\"/></Coding>",
                    g(600 + 10 * i as u32 + k as u32),
                    g(1)
                )
            })
            .collect();
        selections.push_str(&format!(
            "\n      <PlainTextSelection guid=\"{id}\" name=\"{needle}\" startPosition=\"{s}\" endPosition=\"{e}\" creatingUser=\"{}\" creationDateTime=\"2026-04-01T10:0{i}:00Z\">{codings}</PlainTextSelection>",
            g(1)
        ));
        if let Some(w) = who {
            refs.entry(w)
                .or_default()
                .push_str(&format!("<SelectionRef targetGUID=\"{id}\"/>"));
        }
    }
    let qde = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="focus" origin="QualCoder 3.6" creatingUserGUID="{u}" creationDateTime="2026-04-01T09:00:00Z">
  <Users>
    <User guid="{u}" name="Kim Lee"/>
  </Users>
  <CodeBook>
    <Codes>
      <Code guid="{e}" name="emotions" isCodable="true">
        <Code guid="{angry}" name="angry" isCodable="true" color="#d62728"/>
        <Code guid="{delighted}" name="delighted" isCodable="true"/>
      </Code>
      <Code guid="{speed}" name="速さ" isCodable="true" color="#aaaaaa">
        <Description>支払いの速さ</Description>
      </Code>
      <Code guid="{t}" name="Touchpoint" isCodable="false">
        <Code guid="{app}" name="App payment" isCodable="true"/>
      </Code>
    </Codes>
  </CodeBook>
  <Cases>
    <Case guid="{jo}" name="Jo"><SourceRef targetGUID="{src}"/>{jo_refs}</Case>
    <Case guid="{sam}" name="Sam"><SourceRef targetGUID="{src}"/>{sam_refs}</Case>
  </Cases>
  <Sources>
    <TextSource guid="{src}" name="Focus group 1" creatingUser="{u}" creationDateTime="2026-04-01T09:30:00Z">
      <PlainTextContent>{text}</PlainTextContent>{selections}
    </TextSource>
  </Sources>
</Project>
"##,
        u = g(1),
        e = g(10),
        angry = g(11),
        delighted = g(12),
        speed = g(13),
        t = g(20),
        app = g(21),
        jo = g(30),
        sam = g(31),
        src = g(100),
        jo_refs = refs["jo"],
        sam_refs = refs["sam"],
    );
    validate(PROJECT_XSD, &qde, &a.path("qualcoder.qde"));
    let file = a.path("focus.qdpx");
    qdpx(&file, &qde, &[]);
    let done = a.json(&["import", file.to_str().unwrap(), "--kind", "quote"]);
    assert_eq!(done["added"], 4, "{done}");
    assert!(done.get("warnings").is_none(), "{done}");
    let n = notes(&a);
    let paid = note(&n, "支払い");
    assert_eq!(paid["body"], "支払いが早くて便利でした 👍");
    assert_eq!(paid["participant"], "Jo");
    assert_eq!(paid["kind"], "quote");
    assert_eq!(tags(paid), ["!delighted", "=速さ"]);
    assert_eq!(paid["session"]["researcher"], "Kim Lee");
    let crash = note(&n, "The app");
    assert_eq!(crash["body"], "The app crashed twice 😡😡 at payment.");
    assert_eq!(crash["participant"], "Sam");
    assert_eq!(tags(crash), ["!angry", "#app-payment"]);
    assert_eq!(note(&n, "店員")["body"], "店員さんが親切でした。");
    let loose = note(&n, "crashed twice");
    assert_eq!(loose["body"], "crashed twice 😡😡");
    assert_eq!(
        loose["participant"],
        Value::Null,
        "two cases share the source: only a case's own selections are credited to it"
    );
    let who: Vec<&str> = paid["session"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pseudonym"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["Jo", "Sam"]);
    let codebook = a.json(&["tags", "--facet", "code"]).to_string();
    assert!(codebook.contains("支払いの速さ"), "{codebook}");
}

/// A codebook alone (`.qdc`), as Taguette exports its tags and ATLAS.ti its code groups.
#[test]
fn a_codebook_becomes_tags_with_descriptions() {
    let a = TestArchive::new();
    let qdc = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette 1.4.1">
  <Codes>
    <Code guid="{a}" name="wait time" isCodable="true"><Description>Any mention of waiting</Description></Code>
    <Code guid="{b}" name="Personas" isCodable="false">
      <Code guid="{c}" name="Student" isCodable="true"><Description>Shops between lectures</Description></Code>
    </Code>
    <Code guid="{d}" name="Price &amp; value" isCodable="true"/>
  </Codes>
</CodeBook>
"#,
        a = g(1),
        b = g(2),
        c = g(3),
        d = g(4)
    );
    let file = a.path("Codebook.qdc");
    validate(CODEBOOK_XSD, &qdc, &file);
    write(&file, &qdc);
    let done = a.json(&["import", file.to_str().unwrap()]);
    assert_eq!(done["added"], 0);
    assert_eq!(done["tags"], 3, "{done}");
    let tags = a.json(&["tags"]).to_string();
    for expected in [
        "\"name\":\"wait-time\"",
        "Any mention of waiting",
        "\"facet\":\"persona\",\"name\":\"student\"",
        "Shops between lectures",
        "\"name\":\"price-value\"",
    ] {
        assert!(tags.contains(expected), "{expected} in {tags}");
    }
    assert!(!tags.contains("\"personas\""), "{tags}");
    let again = a.json(&["import", file.to_str().unwrap()]);
    assert!(again.get("tags").is_none(), "nothing new: {again}");
    let text = a.ok(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert!(text.contains("would add 0 notes"), "{text}");
}

fn one_source_project(selection: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <CodeBook><Codes><Code guid="{c}" name="Waiting" isCodable="true"/></Codes></CodeBook>
  <Sources>
    <TextSource guid="{s1}" name="Good"><PlainTextContent>Fine text here.</PlainTextContent>
      <PlainTextSelection guid="{x}" startPosition="0" endPosition="4"><Coding guid="{y}"><CodeRef targetGUID="{c}"/></Coding></PlainTextSelection>
    </TextSource>
    <TextSource guid="{s2}" name="Bad"><PlainTextContent>More text.</PlainTextContent>
      {selection}
    </TextSource>
  </Sources>
</Project>"#,
        c = g(1),
        s1 = g(2),
        s2 = g(3),
        x = g(4),
        y = g(5),
    )
}

#[test]
fn a_malformed_project_imports_nothing_and_names_the_part() {
    let a = TestArchive::new();
    let file = a.path("broken.qdpx");
    let stderr = |args: &[&str]| String::from_utf8_lossy(&a.fails(args).stderr).into_owned();
    let run = || stderr(&["import", file.to_str().unwrap()]);

    write(&file, "not a zip at all");
    let err = run();
    assert!(
        err.contains("broken.qdpx") && err.contains("not a zip"),
        "{err}"
    );

    qdpx(&file, "<Project", &[]);
    let err = run();
    assert!(
        err.contains("project.qde, line 1") && err.contains("not well-formed"),
        "{err}"
    );

    let bad_position = format!(
        "<PlainTextSelection guid=\"{}\" startPosition=\"two\" endPosition=\"4\"/>",
        g(6)
    );
    qdpx(&file, &one_source_project(&bad_position), &[]);
    let err = run();
    assert!(
        err.contains("<PlainTextSelection guid=\"") && err.contains("(line 9)"),
        "{err}"
    );
    assert!(err.contains("`startPosition` is \"two\""), "{err}");

    let unknown_code = format!(
        "<PlainTextSelection guid=\"{}\" startPosition=\"0\" endPosition=\"4\"><Coding guid=\"{}\"><CodeRef targetGUID=\"{}\"/></Coding></PlainTextSelection>",
        g(6),
        g(7),
        g(99)
    );
    qdpx(&file, &one_source_project(&unknown_code), &[]);
    let err = run();
    assert!(
        err.contains("not in the codebook") && err.contains(&g(99)),
        "{err}"
    );

    let zip_without = a.path("empty.qdpx");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_without).unwrap());
        zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hi").unwrap();
        zip.finish().unwrap();
    }
    let err = stderr(&["import", zip_without.to_str().unwrap()]);
    assert!(err.contains("holds no project.qde"), "{err}");

    // Nothing of any of them was kept: the project is read whole before anything is
    // written, and written in one transaction.
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
    assert_eq!(
        a.count("SELECT count(*) FROM tags WHERE name = 'waiting'"),
        0
    );

    let good = one_source_project("");
    qdpx(&file, &good, &[]);
    let err = stderr(&["import", file.to_str().unwrap(), "--session", "x"]);
    assert!(err.contains("--session"), "{err}");
}

#[test]
fn a_dry_run_of_a_project_writes_nothing() {
    let a = TestArchive::new();
    a.ok(&["demo", "--seed-only"]);
    let file = a.path("demo.qdpx");
    a.ok(&["export", "-o", file.to_str().unwrap()]);
    let b = TestArchive::new();
    let preview = b.json(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(preview["added"], 390);
    assert_eq!(preview["preview"].as_array().unwrap().len(), 5);
    let text = b.ok(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert!(text.contains("would add 390 notes"), "{text}");
    assert_eq!(b.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(b.count("SELECT count(*) FROM sessions"), 0);
}

#[test]
fn a_selection_two_cases_name_is_credited_to_the_first_with_one_warning() {
    let a = TestArchive::new();
    let case = |guid: u32, name: &str, refs: &[u32]| {
        let refs: String = refs
            .iter()
            .map(|r| format!("<SelectionRef targetGUID=\"{}\"/>", g(*r)))
            .collect();
        format!("<Case guid=\"{}\" name=\"{name}\">{refs}</Case>", g(guid))
    };
    let selection = |guid: u32, start: u32, end: u32| {
        format!(
            "<PlainTextSelection guid=\"{}\" startPosition=\"{start}\" endPosition=\"{end}\"><Coding guid=\"{}\"><CodeRef targetGUID=\"{}\"/></Coding></PlainTextSelection>",
            g(guid),
            g(guid + 50),
            g(1)
        )
    };
    let qde = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <CodeBook><Codes><Code guid="{c}" name="Waiting" isCodable="true"/></Codes></CodeBook>
  <Cases>{jo}{sam}</Cases>
  <Sources>
    <TextSource guid="{s1}" name="One"><PlainTextContent>Long queue. Rude staff.</PlainTextContent>{x1}{x2}</TextSource>
    <TextSource guid="{s2}" name="Two"><PlainTextContent>Slow till.</PlainTextContent>{x3}</TextSource>
  </Sources>
</Project>"#,
        c = g(1),
        s1 = g(2),
        s2 = g(3),
        jo = case(10, "Jo", &[20, 22]),
        sam = case(11, "Sam", &[20, 21]),
        x1 = selection(20, 0, 11),
        x2 = selection(21, 12, 23),
        x3 = selection(22, 0, 10),
    );
    validate(PROJECT_XSD, &qde, &a.path("cases.qde"));
    let file = a.path("cases.qdpx");
    qdpx(&file, &qde, &[]);
    let done = a.json(&["import", file.to_str().unwrap()]);
    assert_eq!(done["added"], 3, "{done}");
    let warnings: Vec<&str> = done["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.contains("is in the cases"))
        .collect();
    assert_eq!(warnings.len(), 1, "{done}");
    assert!(warnings[0].contains(&g(20)), "{warnings:?}");
    let n = notes(&a);
    assert_eq!(note(&n, "Long queue")["participant"], "Jo");
    assert_eq!(note(&n, "Rude staff")["participant"], "Sam");
    assert_eq!(note(&n, "Slow till")["participant"], "Jo");
}
