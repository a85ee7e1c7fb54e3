//! `cooccurrence`, `matrix` and `agreement`: the analyses of coding, over the notes a search
//! and filters select.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{Result, bail};
use clap::Args;
use fieldnotes::Archive;
use fieldnotes::analysis::agreement::{NoteExtent, Units};
use fieldnotes::analysis::{
    AgreementSettings, AnalysisNote, Coding, MatrixBy, agreement, code_matrix, cooccurrence,
    notes_behind,
};
use fieldnotes::model::Facet;

use super::output::Out;
use super::{FilterArgs, to_filters};

/// Which notes, and which of their codes.
#[derive(Args)]
pub(crate) struct CodingScope {
    /// A search query narrowing the notes (see `fieldnotes search --help`); empty: all notes
    query: Vec<String>,
    #[command(flatten)]
    filters: FilterArgs,
    /// Only codes of this facet (persona, touchpoint, emotion, job, code); repeat for more.
    /// Default: every facet
    #[arg(long = "facet")]
    facets: Vec<Facet>,
}

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    fieldnotes cooccurrence --facet code\n  \
    fieldnotes cooccurrence --study \"Checkout study\" --json\n  \
    fieldnotes cooccurrence --pair =wait-time =staff-help     # the notes behind one cell")]
pub(crate) struct CooccurrenceArgs {
    #[command(flatten)]
    scope: CodingScope,
    /// List the notes where these two codes occur together
    #[arg(long, num_args = 2, value_names = ["CODE", "CODE"])]
    pair: Vec<String>,
    /// How many pairs to show (--json gives them all)
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: usize,
}

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    fieldnotes matrix --by persona --facet code\n  \
    fieldnotes matrix --by touchpoint --csv > matrix.csv   # long CSV: code, group, figures\n  \
    fieldnotes matrix --by participant --study \"Checkout study\" --json")]
pub(crate) struct MatrixArgs {
    /// The columns: persona, participant, session, study, session-kind or touchpoint
    #[arg(long)]
    by: MatrixBy,
    #[command(flatten)]
    scope: CodingScope,
    /// Write the matrix as CSV (one row per code and group) instead of a table
    #[arg(long)]
    csv: bool,
}

#[derive(Args)]
#[command(
    after_help = "Units: by default a coder judged the notes they applied any code to, and \
    a note counts when two coders judged it (after a merge, one coder may have coded half the \
    study); --all-notes counts every selected note as judged by every coder.\n\n\
    Examples:\n  fieldnotes agreement --coders Ana,Ben\n  \
    fieldnotes agreement --coders Ana,Ben --only =wait-time --study \"Checkout study\"\n  \
    fieldnotes agreement --coders Ana,Ben,Chloe --json"
)]
pub(crate) struct AgreementArgs {
    /// The coders to compare, comma separated, as their codings record them
    #[arg(long, value_delimiter = ',', required = true)]
    coders: Vec<String>,
    /// Compare only this code (as typed: =wait-time); repeat for more. Default: every code they
    /// applied. (`--code` instead narrows the notes to those carrying a code, as in search.)
    #[arg(long = "only", value_name = "CODE")]
    codes: Vec<String>,
    #[command(flatten)]
    scope: CodingScope,
    /// Every selected note was judged by every coder (nothing applied: the code is absent)
    #[arg(long)]
    all_notes: bool,
    /// How many disagreements to list (--json gives them all)
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: usize,
}

/// The selected notes and all their codings (agreement needs every facet's to know which
/// notes a coder judged).
fn load(archive: &Archive, scope: &CodingScope) -> Result<(Vec<AnalysisNote>, Vec<Coding>)> {
    let filters = to_filters(archive, scope.filters.clone())?;
    Ok(archive.coded_notes(&scope.query.join(" "), &filters)?)
}

impl CodingScope {
    /// Whether `code` is of a facet `--facet` chose (every code when none was given).
    fn keeps(&self, code: &str) -> bool {
        self.facets.is_empty() || self.facets.iter().any(|f| code.starts_with(f.sigil()))
    }

    /// The selected notes, and their codings of the chosen facets.
    fn load_codes(&self, archive: &Archive) -> Result<(Vec<AnalysisNote>, Vec<Coding>)> {
        let (notes, mut codings) = load(archive, self)?;
        codings.retain(|c| self.keeps(&c.code));
        Ok((notes, codings))
    }
}

pub(crate) fn cooccurrence_cmd(archive: &Archive, args: CooccurrenceArgs, out: &Out) -> Result<()> {
    let (_, codings) = args.scope.load_codes(archive)?;
    if let [a, b] = args.pair.as_slice() {
        let notes = notes_behind(&codings, a, b);
        let mut text = format!("{} notes carry both {a} and {b}\n", notes.len());
        for n in &notes {
            let _ = writeln!(text, "  {}", n.note);
        }
        return out.done(&notes, text.trim_end());
    }
    let report = cooccurrence(&codings);
    let k = report.codes.len();
    let mut pairs: Vec<(usize, usize)> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .filter(|&(i, j)| report.notes[i][j] > 0 || report.overlaps[i][j] > 0)
        .collect();
    pairs.sort_by(|&(a, b), &(c, d)| {
        report.notes[c][d]
            .cmp(&report.notes[a][b])
            .then(report.c[c][d].total_cmp(&report.c[a][b]))
            .then((a, b).cmp(&(c, d)))
    });
    let mut text = format!(
        "{} codes over {} coded notes; {} pairs occur together\n",
        k,
        report.coded_notes,
        pairs.len()
    );
    if !pairs.is_empty() {
        let _ = writeln!(
            text,
            "  {:<24} {:<24} {:>6} {:>6} {:>9}",
            "code", "with", "notes", "c", "overlaps"
        );
    }
    for &(i, j) in pairs.iter().take(args.limit) {
        let _ = writeln!(
            text,
            "  {:<24} {:<24} {:>6} {:>6.2} {:>9}",
            report.codes[i].code,
            report.codes[j].code,
            report.notes[i][j],
            report.c[i][j],
            report.overlaps[i][j]
        );
    }
    if pairs.len() > args.limit {
        let _ = writeln!(
            text,
            "  … {} more (-n, or --json)",
            pairs.len() - args.limit
        );
    }
    out.done(&report, text.trim_end())
}

pub(crate) fn matrix_cmd(archive: &Archive, args: MatrixArgs, out: &Out) -> Result<()> {
    let (notes, codings) = args.scope.load_codes(archive)?;
    let groups = archive.note_groups(&notes, args.by)?;
    let matrix = code_matrix(args.by, &codings, &groups);
    if args.csv {
        let mut buf = Vec::new();
        fieldnotes::analysis::matrix::write_csv_long(&matrix, &mut buf)?;
        return out.print(&String::from_utf8_lossy(&buf));
    }
    let mut text = format!(
        "{} codes × {} {}s over {} notes (cell: notes / participants)\n",
        matrix.codes.len(),
        matrix.groups.len(),
        args.by,
        matrix.notes
    );
    let _ = write!(text, "  {:<24}", "");
    for g in &matrix.groups {
        let _ = write!(text, " {:>14}", fieldnotes::text::excerpt(g, 14));
    }
    text.push('\n');
    for (i, code) in matrix.codes.iter().enumerate() {
        let _ = write!(text, "  {:<24}", fieldnotes::text::excerpt(code, 24));
        for cell in &matrix.cells[i] {
            let _ = write!(
                text,
                " {:>14}",
                format!("{} / {}", cell.notes, cell.participants)
            );
        }
        text.push('\n');
    }
    out.done(&matrix, text.trim_end())
}

pub(crate) fn agreement_cmd(archive: &Archive, args: AgreementArgs, out: &Out) -> Result<()> {
    if args.coders.len() < 2 {
        bail!("agreement needs two coders or more: --coders Ana,Ben");
    }
    let (notes, codings) = load(archive, &args.scope)?;
    let extents: Vec<NoteExtent> = notes
        .iter()
        .map(|n| NoteExtent {
            note: n.id.clone(),
            chars: n.body.chars().count(),
        })
        .collect();
    // Every coding tells which notes a coder judged; --facet and --only choose the codes
    // compared.
    let codes = if args.scope.facets.is_empty() {
        (!args.codes.is_empty()).then(|| args.codes.clone())
    } else if args.codes.is_empty() {
        let applied: BTreeSet<&str> = codings
            .iter()
            .filter(|c| c.coder.as_ref().is_some_and(|c| args.coders.contains(c)))
            .map(|c| c.code.as_str())
            .filter(|code| args.scope.keeps(code))
            .collect();
        Some(applied.into_iter().map(str::to_owned).collect())
    } else {
        Some(
            args.codes
                .iter()
                .filter(|code| args.scope.keeps(code))
                .cloned()
                .collect(),
        )
    };
    let settings = AgreementSettings {
        coders: args.coders.clone(),
        codes,
        units: if args.all_notes {
            Units::AllNotes
        } else {
            Units::CodedNotes
        },
    };
    let report = agreement(&codings, &extents, &settings);
    if report.notes == 0 {
        bail!(
            "no note was coded by two of {}: check the names (`fieldnotes spans NOTE` shows who coded what)",
            args.coders.join(", ")
        );
    }
    let figure = |x: Option<f64>| x.map_or("–".to_owned(), |v| format!("{v:.2}"));
    let percent = |x: Option<f64>| x.map_or("–".to_owned(), |v| format!("{v:.0}%"));
    let mut text = format!(
        "{} over {} notes coded by at least two of them ({} characters)\n  {:<24} {:>8} {:>6} {:>6}   {:>8} {:>6} {:>6}\n",
        args.coders.join(" and "),
        report.notes,
        report.characters,
        "code",
        "notes %",
        "κ",
        "α",
        "chars %",
        "κ",
        "α"
    );
    let mut line = |name: &str, l: &fieldnotes::analysis::agreement::Levels| {
        let _ = writeln!(
            text,
            "  {:<24} {:>8} {:>6} {:>6}   {:>8} {:>6} {:>6}",
            name,
            percent(l.notes.percent_agreement),
            figure(l.notes.kappa),
            figure(l.notes.alpha),
            percent(l.characters.percent_agreement),
            figure(l.characters.kappa),
            figure(l.characters.alpha)
        );
    };
    for c in &report.codes {
        line(&c.code, &c.levels);
    }
    line("overall", &report.overall);
    let _ = writeln!(text, "{} disagreements", report.disagreements.len());
    for d in report.disagreements.iter().take(args.limit) {
        let _ = writeln!(
            text,
            "  {} {}: applied by {}{}",
            d.note,
            d.code,
            d.applied_by.join(", "),
            if d.not_applied_by.is_empty() {
                " (all, in different places)".to_owned()
            } else {
                format!("; not by {}", d.not_applied_by.join(", "))
            }
        );
    }
    out.done(&report, text.trim_end())
}
