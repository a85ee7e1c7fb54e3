//! `fieldnotes report`: the findings of a scope as one self-contained HTML page or as
//! Markdown. The library reads and analyses (`fieldnotes::report`); this picks the notes, the
//! format and the privacy, and writes the file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use fieldnotes::Archive;
use fieldnotes::report::{self, Privacy, ReportFormat, ReportRequest, Selection};

use super::output::Out;
use super::{FilterArgs, to_filters, usage};

#[derive(Args)]
#[command(
    after_help = "What it holds: the scope and method (sessions, participants, notes, dates,\n\
kinds), the top themes with their evidence quotes, the pains heat map (touchpoint × emotion),\n\
the journey's emotion curve, what sets each persona apart, the mystery-shop scores by location\n\
and month, and the team's insights with their supporting notes. Markdown also lists the\n\
sessions, every note and the tags.\n\n\
The HTML page is one file with its styles and charts inside: it makes no request (its\n\
Content-Security-Policy forbids any), opens offline in any browser and prints to PDF.\n\n\
Privacy: participants appear as P1, P2… (the same every time), e-mail addresses, phone and card\n\
numbers and street addresses are masked, and the notes of participants without recorded\n\
consent are left out, as `export --redact` does. --names shows the names of participants who\n\
gave consent; the others stay pseudonyms.\n\n\
Examples:\n  fieldnotes report -o findings.html\n  \
fieldnotes report --study \"Checkout Q3\" -o checkout.html --names\n  \
fieldnotes report queue --touchpoint checkout --since 2026-09-01 -o queues.md"
)]
pub(crate) struct ReportArgs {
    /// A search query narrowing the notes (see `fieldnotes search --help`); empty: all notes
    query: Vec<String>,
    #[command(flatten)]
    filters: FilterArgs,
    /// The file to write (whole or not at all): .html for the page, .md for Markdown
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// html or markdown [default: from the output's extension]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Show the names of participants with recorded consent (the others stay pseudonyms)
    #[arg(long)]
    names: bool,
    /// The report's title [default: the study or session it covers, else "All studies"]
    #[arg(long)]
    title: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    #[value(alias = "htm")]
    Html,
    #[value(alias = "md")]
    Markdown,
}

pub(crate) fn run(archive: &Archive, args: ReportArgs, out: &Out) -> Result<()> {
    let format = match (args.format, ReportFormat::from_path(&args.output)) {
        (Some(FormatArg::Html), _) => ReportFormat::Html,
        (Some(FormatArg::Markdown), _) => ReportFormat::Markdown,
        (None, Some(f)) => f,
        (None, None) => usage!(
            "cannot tell the format of {}: name it .html or .md, or give --format",
            args.output.display()
        ),
    };
    let request = ReportRequest {
        selection: Selection::Search {
            query: args.query.join(" "),
            filters: to_filters(archive, args.filters)?,
        },
        title: args.title,
        privacy: if args.names {
            Privacy::ConsentedNames
        } else {
            Privacy::Pseudonyms
        },
        every_note: format == ReportFormat::Markdown,
        mask_names: Vec::new(),
    };
    let data = report::read(archive, &request)?;
    let text = format.render(&data);
    let path = &args.output;
    fieldnotes::io::write_atomically(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| fieldnotes::Error::io(format!("cannot write {}", path.display()), e))
    })
    .with_context(|| format!("cannot write the report to {}", path.display()))?;
    let summary = data.summary(text.len());
    let mut message = format!(
        "wrote the report of {} notes to {} ({:.0} KB)",
        summary.notes,
        path.display(),
        summary.bytes as f64 / 1024.0
    );
    if summary.withheld > 0 {
        message.push_str(&format!(
            "; left out {} notes of participants without recorded consent",
            summary.withheld
        ));
    }
    out.done(
        &serde_json::json!({
            "path": path,
            "format": match format {
                ReportFormat::Html => "html",
                ReportFormat::Markdown => "markdown",
            },
            "notes": summary.notes,
            "withheld": summary.withheld,
            "bytes": summary.bytes,
            "report": data,
        }),
        &message,
    )
}
