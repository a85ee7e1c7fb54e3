//! Tables as researchers get them: CSV from Excel and survey tools (byte-order marks, CRLF,
//! semicolons, tabs, their own response ids, blank rows, a file cut short). Each fixture is written the way its producing tool
//! writes it.

mod common;

use common::{TestArchive, write};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Excel's "CSV UTF-8 (Comma delimited)": a byte-order mark, CRLF line ends, and every row as
/// wide as the sheet's used range, so rows once formatted and then cleared come out as `,,,`.
fn excel_csv_utf8(rows: &[&str]) -> Vec<u8> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    for row in rows {
        bytes.extend_from_slice(row.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

#[test]
fn excel_csv_utf8_leaves_out_blank_rows_and_tolerates_a_trailing_empty_column() {
    let a = TestArchive::new();
    let csv = a.path("visits.csv");
    write(
        &csv,
        excel_csv_utf8(&[
            "text,persona,touchpoint,",
            "\"Queue, again\",student,checkout,",
            "Staff were kind,retiree,store,",
            ",,,",
            "   ,student,,",
            ",,,",
        ]),
    );
    let done = a.json(&["import", csv.to_str().unwrap()]);
    assert_eq!(done["added"], 2, "{done}");
    assert_eq!(done["skipped"], 3, "{done}");
    let hit = &a.json(&["search", "queue"])["hits"][0];
    assert_eq!(hit["body"], "Queue, again");
    assert_eq!(hit["tags"]["touchpoint"], serde_json::json!(["checkout"]));
    // The plain-text summary says how many were left out.
    let again = a.ok(&["import", csv.to_str().unwrap()]);
    assert!(again.contains("3 left out"), "{again}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 2);

    // A header ending in a delimiter over rows that do not, and the other way round.
    let ragged = a.path("ragged.csv");
    write(&ragged, "text,kind,\nThe lift was broken,observation\n");
    assert_eq!(a.json(&["import", ragged.to_str().unwrap()])["added"], 1);
    write(&ragged, "text,kind\nThe stairs were closed,observation,\n");
    assert_eq!(a.json(&["import", ragged.to_str().unwrap()])["added"], 1);
    // A cell with something in it under no header is still an error.
    write(&ragged, "text,kind\nfine,quote\ntoo,many,cells\n");
    let err = stderr(&a.fails(&["import", ragged.to_str().unwrap()]));
    assert!(err.contains("line 3") && err.contains("3 cells"), "{err}");
}

#[test]
fn a_mapped_column_is_read_for_one_field_and_ignored_columns_not_at_all() {
    let a = TestArchive::new();
    // SurveyMonkey-style: the free-text question is titled "Feedback", and a multiple-choice
    // question is titled "Kind" (of visit).
    let csv = a.path("survey.csv");
    write(
        &csv,
        excel_csv_utf8(&[
            "Respondent ID,Collector ID,Start Date,Feedback,Kind",
            "114402345678,431234567,09/03/2026 10:15:32 AM,The self-checkout froze twice,In store",
            "114402345679,431234567,09/03/2026 11:02:10 AM,Delivery slot was easy to book,Online",
        ]),
    );
    let path = csv.to_str().unwrap();
    // Read as a field of its own name, Kind is not a note kind: the error says so.
    let err = stderr(&a.fails(&["import", path, "--text", "Feedback"]));
    assert!(err.contains("line 2") && err.contains("In store"), "{err}");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    let args = [
        "import",
        path,
        "--text",
        "Feedback",
        "--ignore",
        "Kind",
        "--ignore",
        "Start Date",
        "--feedback",
        "direct",
    ];
    assert_eq!(a.json(&args)["added"], 2);
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE feedback = 'direct'"),
        2,
        "the Feedback column is the text, not the feedback type"
    );
    // Ignoring a column that is not there, or one given for a field, is a mistake to hear of.
    let err = stderr(&a.fails(&["import", path, "--text", "Feedback", "--ignore", "Knd"]));
    assert!(err.contains("no column `Knd` to ignore"), "{err}");
    let err = stderr(&a.fails(&[
        "import",
        path,
        "--text",
        "Feedback",
        "--persona",
        "Feedback",
    ]));
    assert!(err.contains("both text and persona"), "{err}");
}

#[test]
fn a_survey_tools_own_ids_are_kept_and_make_reimports_add_nothing() {
    let a = TestArchive::new();
    // Qualtrics-style: ResponseId, RecordedDate and one column per question.
    let csv = a.path("checkout-survey.csv");
    write(
        &csv,
        "StartDate,EndDate,Status,Progress,RecordedDate,ResponseId,Q1,Q2_TEXT,Q3_TEXT\n\
         2026-09-03 10:11:02,2026-09-03 10:15:32,IP Address,100,2026-09-03 10:15:32,R_3kX9aBcDeFgHiJk,4,\"The till queue, again\",Friendly staff\n\
         2026-09-03 11:00:40,2026-09-03 11:02:10,IP Address,100,2026-09-03 11:02:10,R_1pQ8zYxWvUtSrQp,2,App crashed at payment,\n\
         2026-09-03 11:30:00,2026-09-03 11:31:00,IP Address,100,2026-09-03 11:31:00,R_9mN7lKjHgFdSaPo,5,The till queue; again,Quick\n",
    );
    let path = csv.to_str().unwrap();
    let q2 = [
        "import",
        path,
        "--id",
        "ResponseId",
        "--text",
        "Q2_TEXT",
        "--created-at",
        "RecordedDate",
        "--ignore",
        "Q1",
    ];
    let first = a.json(&q2);
    assert_eq!(first["added"], 3, "{first}");
    let again = a.json(&q2);
    assert_eq!(
        (again["added"].as_u64(), again["already_present"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        a.count(
            "SELECT count(*) FROM notes WHERE source LIKE '%checkout-survey.csv#R_3kX9aBcDeFgHiJk' \
             AND body = 'The till queue, again' AND created_at LIKE '2026-09-03T10:15:32%'"
        ),
        1
    );
    // Another question of the same responses: other notes (a blank answer is left out).
    let mut q3 = q2;
    q3[5] = "Q3_TEXT";
    let third = a.json(&q3);
    assert_eq!(
        (third["added"].as_u64(), third["skipped"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(a.count("SELECT count(*) FROM notes"), 5);

    // Typeform-style: the response token in a column titled "#".
    let typeform = a.path("typeform.csv");
    write(
        &typeform,
        "#,\"What could we do better, in one sentence?\",Start Date (UTC),Submit Date (UTC),Network ID\n\
         a1b2c3d4e5f6g7h8i9j0,Open more tills at lunch,2026-09-04 09:00:01,2026-09-04 09:01:30,4f1e2d3c\n\
         k1l2m3n4o5p6q7r8s9t0,Open more tills at lunch,2026-09-04 09:05:00,2026-09-04 09:06:12,5a6b7c8d\n",
    );
    let args = [
        "import",
        typeform.to_str().unwrap(),
        "--id",
        "#",
        "--text",
        "What could we do better, in one sentence?",
        "--created-at",
        "Submit Date (UTC)",
    ];
    assert_eq!(a.json(&args)["added"], 2, "same words, two respondents");
    assert_eq!(a.json(&args)["added"], 0);
}

#[test]
fn a_column_named_id_that_holds_no_ulid_is_the_tools_own_id() {
    let a = TestArchive::new();
    // A CRM's export: its own numeric ids in a column called `id`.
    let csv = a.path("tickets.csv");
    write(
        &csv,
        "id,text,created_at\n1042,Customer could not find the returns desk,2026-09-02\n\
         1043,Card reader declined twice,2026-09-02\n",
    );
    assert_eq!(a.json(&["import", csv.to_str().unwrap()])["added"], 2);
    assert_eq!(a.json(&["import", csv.to_str().unwrap()])["added"], 0);
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE source LIKE '%tickets.csv#1042'"),
        1
    );
    // fieldnotes' own export keeps its ULIDs as note ids: nothing new comes back in.
    let out = a.path("all.csv");
    a.ok(&["export", "-o", out.to_str().unwrap()]);
    assert_eq!(a.json(&["import", out.to_str().unwrap()])["added"], 0);
}

#[test]
fn semicolons_tabs_and_pipes_are_found_from_the_header_or_given() {
    let a = TestArchive::new();
    // German Excel's "CSV UTF-8": semicolons, since the comma is the decimal mark.
    let csv = a.path("filiale.csv");
    write(
        &csv,
        excel_csv_utf8(&[
            "Kommentar;Segment;Kanal;Bewertung",
            "\"Warteschlange; schon wieder\";Student;Filiale;2,5",
            "Personal war freundlich;Rentner;Filiale;4,0",
        ]),
    );
    let done = a.json(&[
        "import",
        csv.to_str().unwrap(),
        "--text",
        "Kommentar",
        "--persona",
        "Segment",
        "--touchpoint",
        "Kanal",
    ]);
    assert_eq!(done["added"], 2, "{done}");
    let hit = &a.json(&["search", "Warteschlange"])["hits"][0];
    assert_eq!(hit["body"], "Warteschlange; schon wieder");
    assert_eq!(hit["tags"]["persona"], serde_json::json!(["student"]));

    // Excel's "Unicode Text (*.txt)": UTF-16LE with a byte-order mark, tab-separated, CRLF.
    let txt = a.path("export.txt");
    let mut bytes = vec![0xFF, 0xFE];
    for u in "text\tpersona\r\nCould not find the fitting rooms\tstudent\r\n\"A \"\"quick\"\" chat, then left\"\tretiree\r\n"
        .encode_utf16()
    {
        bytes.extend(u.to_le_bytes());
    }
    write(&txt, bytes);
    let done = a.json(&["import", txt.to_str().unwrap(), "--format", "tsv"]);
    assert_eq!(done["added"], 2, "{done}");
    assert_eq!(
        a.json(&["search", "chat"])["hits"][0]["body"],
        "A \"quick\" chat, then left"
    );

    // Given: pipes, and tabs by name.
    let piped = a.path("piped.csv");
    write(
        &piped,
        "text|code\nThe signage, honestly, was fine|signage\n",
    );
    assert_eq!(
        a.json(&["import", piped.to_str().unwrap(), "--delimiter", "|"])["added"],
        1
    );
    let tabbed = a.path("tabbed.tsv");
    write(&tabbed, "text\tcode\nNo baskets, no trolleys\tbaskets\n");
    assert_eq!(
        a.json(&["import", tabbed.to_str().unwrap(), "--delimiter", "tab"])["added"],
        1
    );
    assert_eq!(
        a.json(&["search", "trolleys"])["hits"][0]["tags"]["code"],
        serde_json::json!(["baskets"])
    );
    let bad = a.fails(&["import", tabbed.to_str().unwrap(), "--delimiter", "ab"]);
    assert_eq!(bad.status.code(), Some(2));
    // Excel's own way of naming the delimiter: a first line `sep=;`.
    let sep = a.path("sep.csv");
    write(&sep, "sep=;\r\ntext;kind\r\nA quote, with commas;quote\r\n");
    assert_eq!(a.json(&["import", sep.to_str().unwrap()])["added"], 1);
    let err = stderr(&a.fails(&[
        "import",
        csv.to_str().unwrap(),
        "--delimiter",
        ",",
        "--text",
        "Kommentar",
    ]));
    assert!(err.contains("no column `Kommentar`"), "{err}");
}

#[test]
fn a_file_cut_short_inside_a_quoted_cell_is_an_error_naming_its_line() {
    let a = TestArchive::new();
    let csv = a.path("cut.csv");
    write(
        &csv,
        "text\r\nThe queue was long\r\n\"She said \"\"never again\"\"\"\r\n\"The card reader failed, and then the assistant\r\nsaid to come back",
    );
    let err = stderr(&a.fails(&["import", csv.to_str().unwrap()]));
    assert!(
        err.contains("cut.csv: line 4") && err.contains("never closed"),
        "{err}"
    );
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    // A quoted cell over several lines that does close is fine.
    write(
        &csv,
        "text,kind\r\n\"The card reader failed,\r\nand then it worked\",observation\r\nlater,gossip\r\n",
    );
    let err = stderr(&a.fails(&["import", csv.to_str().unwrap()]));
    assert!(err.contains("line 4") && err.contains("gossip"), "{err}");
}

#[test]
fn a_dry_run_of_a_csv_writes_nothing() {
    let a = TestArchive::new();
    let csv = a.path("survey.csv");
    write(
        &csv,
        excel_csv_utf8(&[
            "Response ID,Comment,Name",
            "R_1,Loved the new layout,Maya",
            "R_2,,Tom",
            "R_3,Parking was full,Ana",
        ]),
    );
    let preview = a.json(&[
        "import",
        csv.to_str().unwrap(),
        "--dry-run",
        "--id",
        "Response ID",
        "--text",
        "Comment",
        "--participant",
        "Name",
    ]);
    assert_eq!(preview["added"], 2, "{preview}");
    assert_eq!(preview["skipped"], 1, "{preview}");
    assert_eq!(preview["participants"], serde_json::json!(["Maya", "Ana"]));
    assert_eq!(preview["preview"][0]["body"], "Loved the new layout");
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
}
