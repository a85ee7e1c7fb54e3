//! Tables as researchers get them: CSV from Excel and survey tools (byte-order marks, CRLF,
//! semicolons, tabs, their own response ids, blank rows, a file cut short), and Excel and
//! OpenDocument workbooks. Each fixture is written the way its producing tool writes it.

mod common;

use std::io::Write;

use common::{TestArchive, write};
use serde_json::Value;

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

// ---- Spreadsheets ------------------------------------------------------------------------

/// A cell of a fixture sheet.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    /// A date and time as the spreadsheet stores it: (Excel serial, ISO for OpenDocument).
    Date(f64, &'a str),
    Empty,
}

use Cell::{Date, Empty, Number, Text};

/// 2026-09-03 10:15:00 (Excel's serial: days since 1899-12-30, the time as a fraction).
const SEPT_3_1015: Cell<'static> = Date(46268.0 + 10.25 / 24.0, "2026-09-03T10:15:00");
const SEPT_4_0930: Cell<'static> = Date(46269.0 + 9.5 / 24.0, "2026-09-04T09:30:00");

fn zip_parts(parts: &[(&str, String)], stored_first: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (i, (name, body)) in parts.iter().enumerate() {
        let method = if stored_first && i == 0 {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.start_file(*name, options).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn column_letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

/// An .xlsx as Excel writes it: the workbook, its relationships, styles (cell style 1 is
/// Excel's built-in date-time format 22, `m/d/yy h:mm`), shared strings for every text cell,
/// and one worksheet part per sheet.
fn xlsx(sheets: &[(&str, Vec<Vec<Cell>>)]) -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let mut strings: Vec<String> = Vec::new();
    let mut parts: Vec<(&str, String)> = Vec::new();
    let mut overrides = String::new();
    let mut sheet_list = String::new();
    let mut rels = String::new();
    let mut sheet_parts = Vec::new();
    for (n, (name, rows)) in sheets.iter().enumerate() {
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!("<row r=\"{}\">", r + 1));
            for (c, cell) in row.iter().enumerate() {
                let at = format!("{}{}", column_letter(c), r + 1);
                match cell {
                    Text(s) => {
                        let i = strings.iter().position(|x| x == s).unwrap_or_else(|| {
                            strings.push(s.to_string());
                            strings.len() - 1
                        });
                        data.push_str(&format!("<c r=\"{at}\" t=\"s\"><v>{i}</v></c>"));
                    }
                    Number(x) => data.push_str(&format!("<c r=\"{at}\"><v>{x}</v></c>")),
                    Date(serial, _) => {
                        data.push_str(&format!("<c r=\"{at}\" s=\"1\"><v>{serial}</v></c>"))
                    }
                    Empty => {}
                }
            }
            data.push_str("</row>");
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(1);
        sheet_parts.push(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <worksheet xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><dimension ref=\"A1:{}{}\"/>\
             <sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>\
             <sheetFormatPr defaultRowHeight=\"15\"/><sheetData>{data}</sheetData>\
             <pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>",
            column_letter(width - 1),
            rows.len().max(1)
        ));
        overrides.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>",
            n + 1
        ));
        sheet_list.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
            xml_escape(name),
            n + 1,
            n + 1
        ));
        rels.push_str(&format!(
            "<Relationship Id=\"rId{}\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet{}.xml\"/>",
            n + 1,
            n + 1
        ));
    }
    let k = sheets.len();
    parts.push((
        "[Content_Types].xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             {overrides}\
             <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>\
             <Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>\
             </Types>"
        ),
    ));
    parts.push((
        "_rels/.rels",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"{REL}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
        ),
    ));
    parts.push((
        "xl/workbook.xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><workbookPr defaultThemeVersion=\"166925\"/>\
             <bookViews><workbookView xWindow=\"0\" yWindow=\"0\" windowWidth=\"28800\" windowHeight=\"12300\"/></bookViews>\
             <sheets>{sheet_list}</sheets><calcPr calcId=\"191029\"/></workbook>"
        ),
    ));
    parts.push((
        "xl/_rels/workbook.xml.rels",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}\
             <Relationship Id=\"rId{}\" Type=\"{REL}/styles\" Target=\"styles.xml\"/>\
             <Relationship Id=\"rId{}\" Type=\"{REL}/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>",
            k + 1,
            k + 2
        ),
    ));
    parts.push((
        "xl/styles.xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <styleSheet xmlns=\"{MAIN}\">\
             <fonts count=\"1\"><font><sz val=\"11\"/><color theme=\"1\"/><name val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/></font></fonts>\
             <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
             <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
             <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
             <cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
             <xf numFmtId=\"22\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/></cellXfs>\
             <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
             </styleSheet>"
        ),
    ));
    let si: String = strings
        .iter()
        .map(|s| {
            let space = if s.trim() != s {
                " xml:space=\"preserve\""
            } else {
                ""
            };
            format!("<si><t{space}>{}</t></si>", xml_escape(s))
        })
        .collect();
    let text_cells: usize = sheets
        .iter()
        .flat_map(|(_, rows)| rows.iter().flatten())
        .filter(|c| matches!(c, Text(_)))
        .count();
    parts.push((
        "xl/sharedStrings.xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n\
             <sst xmlns=\"{MAIN}\" count=\"{text_cells}\" uniqueCount=\"{}\">{si}</sst>",
            strings.len()
        ),
    ));
    let names: Vec<String> = (1..=k)
        .map(|n| format!("xl/worksheets/sheet{n}.xml"))
        .collect();
    for (name, body) in names.iter().zip(sheet_parts) {
        parts.push((name.as_str(), body));
    }
    zip_parts(&parts, false)
}

/// An .ods as LibreOffice writes it: `mimetype` first and stored, the manifest, and
/// `content.xml` with typed cells (`float`, `date` with its ISO value, `string`), runs of
/// empty cells as `number-columns-repeated`, and the sheet's unused rows as one repeated row.
fn ods(sheets: &[(&str, Vec<Vec<Cell>>)]) -> Vec<u8> {
    let mut tables = String::new();
    for (name, rows) in sheets {
        let width = rows.iter().map(Vec::len).max().unwrap_or(1);
        tables.push_str(&format!(
            "<table:table table:name=\"{}\" table:style-name=\"ta1\">\
             <table:table-column table:style-name=\"co1\" table:number-columns-repeated=\"{width}\" table:default-cell-style-name=\"Default\"/>",
            xml_escape(name)
        ));
        for row in rows {
            tables.push_str("<table:table-row table:style-name=\"ro1\">");
            let mut empties = 0;
            let flush = |tables: &mut String, empties: &mut usize| {
                match *empties {
                    0 => {}
                    1 => tables.push_str("<table:table-cell/>"),
                    n => tables.push_str(&format!(
                        "<table:table-cell table:number-columns-repeated=\"{n}\"/>"
                    )),
                }
                *empties = 0;
            };
            for cell in row {
                match cell {
                    Empty => {
                        empties += 1;
                        continue;
                    }
                    _ => flush(&mut tables, &mut empties),
                }
                match cell {
                    Text(s) => tables.push_str(&format!(
                        "<table:table-cell office:value-type=\"string\" calcext:value-type=\"string\"><text:p>{}</text:p></table:table-cell>",
                        xml_escape(s)
                    )),
                    Number(x) => tables.push_str(&format!(
                        "<table:table-cell office:value-type=\"float\" office:value=\"{x}\" calcext:value-type=\"float\"><text:p>{x}</text:p></table:table-cell>"
                    )),
                    Date(_, iso) => tables.push_str(&format!(
                        "<table:table-cell table:style-name=\"ce1\" office:value-type=\"date\" office:date-value=\"{iso}\" calcext:value-type=\"date\"><text:p>{}</text:p></table:table-cell>",
                        &iso[..10]
                    )),
                    Empty => unreachable!(),
                }
            }
            flush(&mut tables, &mut empties);
            tables.push_str("</table:table-row>");
        }
        tables.push_str(
            "<table:table-row table:style-name=\"ro1\" table:number-rows-repeated=\"1048570\">\
             <table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row></table:table>",
        );
    }
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:number=\"urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0\" \
         xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\" \
         xmlns:calcext=\"urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0\" \
         office:version=\"1.3\">\
         <office:automatic-styles>\
         <style:style style:name=\"co1\" style:family=\"table-column\"><style:table-column-properties fo:break-before=\"auto\" style:column-width=\"0.889in\"/></style:style>\
         <style:style style:name=\"ro1\" style:family=\"table-row\"><style:table-row-properties style:row-height=\"0.178in\" fo:break-before=\"auto\" style:use-optimal-row-height=\"true\"/></style:style>\
         <style:style style:name=\"ta1\" style:family=\"table\" style:master-page-name=\"Default\"><style:table-properties table:display=\"true\" style:writing-mode=\"lr-tb\"/></style:style>\
         <number:date-style style:name=\"N37\"><number:year number:style=\"long\"/><number:text>-</number:text><number:month number:style=\"long\"/><number:text>-</number:text><number:day number:style=\"long\"/></number:date-style>\
         <style:style style:name=\"ce1\" style:family=\"table-cell\" style:parent-style-name=\"Default\" style:data-style-name=\"N37\"/>\
         </office:automatic-styles>\
         <office:body><office:spreadsheet><table:calculation-settings table:automatic-find-labels=\"false\"/>{tables}\
         <table:named-expressions/></office:spreadsheet></office:body></office:document-content>"
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.3\">\n \
        <manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.3\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\n \
        <manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>\n\
        </manifest:manifest>\n";
    zip_parts(
        &[
            (
                "mimetype",
                "application/vnd.oasis.opendocument.spreadsheet".to_owned(),
            ),
            ("content.xml", content),
            ("META-INF/manifest.xml", manifest.to_owned()),
        ],
        true,
    )
}

/// A survey's responses as a sheet: the tool's id as a number, a date cell, a blank answer.
fn responses() -> Vec<Vec<Cell<'static>>> {
    vec![
        vec![
            Text("Response ID"),
            Text("Submitted"),
            Text("Comment"),
            Text("Segment"),
            Text("Kind"),
        ],
        vec![
            Number(1042.0),
            SEPT_3_1015,
            Text("The till queue went out the door"),
            Text("busy-parent"),
            Text("In store"),
        ],
        vec![
            Number(1043.0),
            SEPT_4_0930,
            Empty,
            Text("student"),
            Text("Online"),
        ],
        vec![
            Number(1044.0),
            SEPT_4_0930,
            Text("Click and collect was ready early"),
            Empty,
            Text("Online"),
        ],
    ]
}

fn summary() -> Vec<Vec<Cell<'static>>> {
    vec![
        vec![Text("Survey"), Text("Responses")],
        vec![Text("Checkout 2026"), Number(3.0)],
    ]
}

const SURVEY_ARGS: [&str; 10] = [
    "--id",
    "Response ID",
    "--text",
    "Comment",
    "--created-at",
    "Submitted",
    "--persona",
    "Segment",
    "--ignore",
    "Kind",
];

fn import_args<'a>(path: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["import", path];
    args.extend_from_slice(&SURVEY_ARGS);
    args.extend_from_slice(extra);
    args
}

fn check_survey_notes(a: &TestArchive, file: &str) {
    let hit = &a.json(&["search", "queue"])["hits"][0];
    assert_eq!(hit["body"], "The till queue went out the door");
    assert_eq!(hit["created_at"], "2026-09-03T10:15:00Z", "{hit}");
    assert_eq!(hit["tags"]["persona"], serde_json::json!(["busy-parent"]));
    assert_eq!(
        a.count(&format!(
            "SELECT count(*) FROM notes WHERE source LIKE '%{file}#1044' \
             AND created_at LIKE '2026-09-04T09:30:00%'"
        )),
        1
    );
}

#[test]
fn an_excel_workbook_imports_the_sheet_asked_for_with_its_dates() {
    let a = TestArchive::new();
    let path = a.path("checkout.xlsx");
    write(
        &path,
        xlsx(&[("Summary", summary()), ("Responses", responses())]),
    );
    let p = path.to_str().unwrap();
    // The first sheet is read unless another is named; this one has no text column.
    let err = stderr(&a.fails(&import_args(p, &[])));
    assert!(
        err.contains("checkout.xlsx: sheet \"Summary\", row 1") && err.contains("no column"),
        "{err}"
    );
    let err = stderr(&a.fails(&import_args(p, &["--sheet", "Answers"])));
    assert!(
        err.contains("sheet \"Answers\"") && err.contains("Summary, Responses"),
        "{err}"
    );
    let done = a.json(&import_args(p, &["--sheet", "Responses"]));
    assert_eq!(
        (done["added"].as_u64(), done["skipped"].as_u64()),
        (Some(2), Some(1))
    );
    check_survey_notes(&a, "checkout.xlsx");
    let again = a.json(&import_args(p, &["--sheet", "responses"]));
    assert_eq!(
        (again["added"].as_u64(), again["already_present"].as_u64()),
        (Some(0), Some(2))
    );
    // Flags for other formats are refused.
    let wrong = a.fails(&import_args(
        p,
        &["--sheet", "Responses", "--delimiter", ";"],
    ));
    assert_eq!(wrong.status.code(), Some(2));
}

#[test]
fn a_bad_row_in_a_workbook_imports_nothing_and_names_its_sheet_and_row() {
    let a = TestArchive::new();
    let mut rows = responses();
    rows[1][4] = Text("quote");
    rows[3][4] = Text("Gossip");
    let path = a.path("bad.xlsx");
    write(&path, xlsx(&[("Responses", rows)]));
    let p = path.to_str().unwrap();
    let err = stderr(&a.fails(&["import", p, "--text", "Comment", "--id", "Response ID"]));
    assert!(
        err.contains("bad.xlsx: sheet \"Responses\", row 4") && err.contains("Gossip"),
        "{err}"
    );
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
    // Not a workbook at all.
    write(&path, "text\nhello\n");
    let err = stderr(&a.fails(&["import", p]));
    assert!(err.contains("not a spreadsheet"), "{err}");
}

#[test]
fn an_opendocument_spreadsheet_imports_like_a_csv_file() {
    let a = TestArchive::new();
    let path = a.path("checkout.ods");
    write(
        &path,
        ods(&[("Responses", responses()), ("Summary", summary())]),
    );
    let p = path.to_str().unwrap();
    let done = a.json(&import_args(p, &[]));
    assert_eq!(
        (done["added"].as_u64(), done["skipped"].as_u64()),
        (Some(2), Some(1))
    );
    check_survey_notes(&a, "checkout.ods");
    assert_eq!(a.json(&import_args(p, &[]))["added"], 0);
    let err = stderr(&a.fails(&import_args(p, &["--sheet", "Nope"])));
    assert!(err.contains("Responses, Summary"), "{err}");
}

#[test]
fn dry_runs_of_workbooks_write_nothing() {
    let a = TestArchive::new();
    for (name, bytes) in [
        ("dry.xlsx", xlsx(&[("Responses", responses())])),
        ("dry.ods", ods(&[("Responses", responses())])),
    ] {
        let path = a.path(name);
        write(&path, bytes);
        let preview: Value = a.json(&import_args(path.to_str().unwrap(), &["--dry-run"]));
        assert_eq!(preview["added"], 2, "{name}: {preview}");
        assert_eq!(preview["skipped"], 1, "{name}: {preview}");
        assert_eq!(
            preview["preview"][1]["body"], "Click and collect was ready early",
            "{name}: {preview}"
        );
        let text = a.ok(&import_args(path.to_str().unwrap(), &["--dry-run"]));
        assert!(text.contains("The till queue went out the door"), "{text}");
    }
    assert_eq!(a.count("SELECT count(*) FROM notes"), 0);
    assert_eq!(a.count("SELECT count(*) FROM sessions"), 0);
}

/// A Qualtrics "CSV" download as its current exporter writes it: under the header, a row of
/// question texts and a row of `{"ImportId":…}` JSON cells, then the responses.
#[test]
fn qualtrics_header_rows_are_not_answers() {
    let a = TestArchive::new();
    let csv = a.path("Checkout+survey_December+1,+2026_10.12.csv");
    write(
        &csv,
        "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,DistributionChannel,UserLanguage,Q1,Q2_TEXT\n\
         Start Date,End Date,Response Type,IP Address,Progress,Duration (in seconds),Finished,Recorded Date,Response ID,Distribution Channel,User Language,\"How likely are you to recommend us to a friend? (0-10)\",\"What is the main reason for your score?\"\n\
         \"{\"\"ImportId\"\":\"\"startDate\"\",\"\"timeZone\"\":\"\"America/Denver\"\"}\",\"{\"\"ImportId\"\":\"\"endDate\"\",\"\"timeZone\"\":\"\"America/Denver\"\"}\",\"{\"\"ImportId\"\":\"\"status\"\"}\",\"{\"\"ImportId\"\":\"\"ipAddress\"\"}\",\"{\"\"ImportId\"\":\"\"progress\"\"}\",\"{\"\"ImportId\"\":\"\"duration\"\"}\",\"{\"\"ImportId\"\":\"\"finished\"\"}\",\"{\"\"ImportId\"\":\"\"recordedDate\"\",\"\"timeZone\"\":\"\"America/Denver\"\"}\",\"{\"\"ImportId\"\":\"\"_recordId\"\"}\",\"{\"\"ImportId\"\":\"\"distributionChannel\"\"}\",\"{\"\"ImportId\"\":\"\"userLanguage\"\"}\",\"{\"\"ImportId\"\":\"\"QID1\"\"}\",\"{\"\"ImportId\"\":\"\"QID2_TEXT\"\"}\"\n\
         2026-11-30 09:12:01,2026-11-30 09:14:40,0,203.0.113.7,100,159,1,2026-11-30 09:14:41,R_2aBcDeFgHiJkLmN,anonymous,EN,3,\"Waited twenty minutes at the till, nobody came\"\n\
         2026-11-30 10:01:12,2026-11-30 10:02:05,0,198.51.100.23,100,53,1,2026-11-30 10:02:06,R_3oPqRsTuVwXyZaB,anonymous,EN,9,Self-checkout was quick\n",
    );
    let out = a.json(&[
        "import",
        csv.to_str().unwrap(),
        "--id",
        "ResponseId",
        "--text",
        "Q2_TEXT",
        "--created-at",
        "RecordedDate",
        "--measure",
        "nps=Q1",
    ]);
    assert_eq!(out["added"], 2, "{out}");
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE body LIKE '%ImportId%' OR body LIKE 'What is%'"),
        0
    );
    assert_eq!(
        a.count(
            "SELECT count(*) FROM notes WHERE body LIKE 'Self-checkout was quick%nps=9%' \
             AND created_at LIKE '2026-11-30T10:02:06%'"
        ),
        1
    );
}

/// SurveyMonkey's CSV export: the header holds the questions and the row under it each
/// column's kind of answer, with the respondent's columns empty.
#[test]
fn surveymonkeys_answer_kind_row_is_not_an_answer() {
    let a = TestArchive::new();
    let csv = a.path("Data_All_261201.csv");
    write(
        &csv,
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,How satisfied were you with your visit?,What could we do better?\n\
         ,,,,,,,,,Response,Open-Ended Response\n\
         114392021587,432118842,11/30/2026 09:12:01 AM,11/30/2026 09:14:40 AM,203.0.113.7,,,,,Dissatisfied,Open more tills at lunch\n\
         114392023311,432118842,11/30/2026 10:01:12 AM,11/30/2026 10:02:05 AM,198.51.100.23,,,,,Very satisfied,Nothing really\n",
    );
    let out = a.json(&[
        "import",
        csv.to_str().unwrap(),
        "--id",
        "Respondent ID",
        "--text",
        "What could we do better?",
    ]);
    assert_eq!(out["added"], 2, "{out}");
    assert_eq!(
        a.count("SELECT count(*) FROM notes WHERE body = 'Open-Ended Response'"),
        0
    );
}

/// A table with a single response still gives its note (the importer looks one row ahead
/// for a survey tool's header rows).
#[test]
fn a_table_of_one_row_is_imported() {
    let a = TestArchive::new();
    let csv = a.path("one.csv");
    write(&csv, "text,persona\nThe till queue again,busy-parent\n");
    let out = a.json(&["import", csv.to_str().unwrap()]);
    assert_eq!(out["added"], 1, "{out}");
}
