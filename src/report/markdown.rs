//! The report as Markdown: the same sections as the HTML page, as tables and text, then the
//! sessions, every note (when the data holds them: `export -o x.md`) and the tag counts.

use std::fmt::Write as _;

use super::ReportData;
use super::sections::SECTIONS;

/// Text made safe for a table cell: no `|` to end it early, no line break to end the row.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The whole document; a section with nothing to say (no notes listed) is left out.
pub fn document(data: &ReportData) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n\n{}\n", data.title, super::sections::lede(data));
    let glance = super::sections::at_a_glance(data);
    for (what, finding) in &glance {
        let _ = writeln!(out, "- **{what}:** {finding}");
    }
    if !glance.is_empty() {
        out.push('\n');
    }
    for s in SECTIONS {
        let Some(write_body) = s.markdown else {
            continue;
        };
        let mut body = String::new();
        write_body(data, &mut body);
        if !body.trim().is_empty() {
            let _ = writeln!(out, "## {}\n\n{}", s.title, body.trim_end());
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_keeps_to_its_cell() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
