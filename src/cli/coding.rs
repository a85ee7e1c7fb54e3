//! `code`, `uncode`, `spans` and `codebook`: coding passages and notes, coding every result of
//! a search, and keeping the codebook.

use anyhow::Result;
use clap::{Args, Subcommand};

use fieldnotes::Archive;
use fieldnotes::config::Config;
use fieldnotes::model::{Facet, Passage, SpanSpec, Tag};
use fieldnotes::query::Filters;
use fieldnotes::store::{BulkCoding, CodeNotes, CodebookEntry, Recoded};

use super::output::Out;
use super::{FilterArgs, to_filters, usage};

#[derive(Args)]
#[command(
    after_help = "Spans are counted in Unicode code points (characters as REFI-QDA counts \
    them, an emoji is one), from 0, the end excluded: `--span 0..5` is the first five.\n\n\
    Examples:\n  \
    fieldnotes code 01JD4 =wait-time --quote \"queued for ages\"\n  \
    fieldnotes code 01JD4 =wait-time --span 10..42 --coder Ana\n  \
    fieldnotes code 01JD4 =wait-time                         # the whole note\n  \
    fieldnotes code --search \"queue* OR line\" =wait-time --dry-run\n  \
    fieldnotes code --search queue --persona busy-parent =wait-time\n  \
    fieldnotes code --undo                                   # takes back the last --search\n\n\
    The coder is --coder, else FIELDNOTES_CODER, else `coder` in config.toml, else $USER."
)]
pub struct CodeArgs {
    /// NOTE TAG: the note's id (or its first characters) and the tag (=wait-time, #checkout,
    /// !frustrated…); with --search, the TAG only
    #[arg(value_name = "NOTE TAG")]
    target: Vec<String>,
    /// Code only this span of the text: START..END in code points
    #[arg(long, value_name = "START..END", conflicts_with_all = ["quote", "search", "undo"])]
    span: Option<String>,
    /// Code only these words of the text (they must occur once)
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["search", "undo"])]
    quote: Option<String>,
    /// Code every note this search finds (the `search` query language), as a whole
    #[arg(long, value_name = "QUERY", conflicts_with = "undo")]
    search: Option<String>,
    #[command(flatten)]
    filters: FilterArgs,
    /// With --search: say how many notes would be coded, and write nothing
    #[arg(long, requires = "search")]
    dry_run: bool,
    /// Take back the last `code --search`
    #[arg(long)]
    undo: bool,
    /// Who is coding [default: FIELDNOTES_CODER, `coder` in config.toml, else $USER]
    #[arg(long, value_name = "NAME")]
    coder: Option<String>,
}

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    fieldnotes uncode 01JD4 =wait-time --span 10..42      # that passage\n  \
    fieldnotes uncode 01JD4 =wait-time --quote \"queued for ages\"\n  \
    fieldnotes uncode 01JD4 =wait-time --spans            # every passage of the tag\n  \
    fieldnotes uncode 01JD4 =wait-time                    # the whole-note coding\n  \
    fieldnotes uncode 01JD4 =wait-time --coder Ben        # only Ben's whole-note coding\n\n\
    A tag typed in the note's text follows the text: `fieldnotes edit` takes it off.")]
pub struct UncodeArgs {
    /// The note's id (or its first characters)
    note: String,
    /// The tag to take off
    tag: String,
    /// The passage at START..END (code points)
    #[arg(long, value_name = "START..END", conflicts_with_all = ["quote", "spans"])]
    span: Option<String>,
    /// The passage whose coded text is TEXT (also when an edit lost it)
    #[arg(long, value_name = "TEXT", conflicts_with = "spans")]
    quote: Option<String>,
    /// Every passage of the tag on the note
    #[arg(long)]
    spans: bool,
    /// Only this coder's passages, or whole-note coding
    #[arg(long, value_name = "NAME")]
    coder: Option<String>,
}

#[derive(Args)]
#[command(
    after_help = "A passage is lost when an edit removed its text: it keeps its last \
    offsets and is listed here until it is uncoded (or the text comes back).\n\n\
    Examples:\n  fieldnotes spans 01JD4\n  fieldnotes spans --lost --json"
)]
pub struct SpansArgs {
    /// The note's id (or its first characters)
    #[arg(required_unless_present = "lost")]
    note: Option<String>,
    /// Every lost passage in the archive instead
    #[arg(long, conflicts_with = "note")]
    lost: bool,
}

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    fieldnotes codebook                                   # the tree, with counts\n  \
    fieldnotes codebook describe =wait-time --description \"Time the customer spends waiting\" \\\n      \
    --memo \"Split by channel?\" --colour \"#d95f02\"\n  \
    fieldnotes codebook parent =wait-time =friction       # =wait-time under =friction\n  \
    fieldnotes codebook parent =wait-time --top\n  \
    fieldnotes codebook rename =wait-time =waiting        # every note rewritten, revisions kept\n  \
    fieldnotes codebook merge =queueing =waiting          # =queueing folded into =waiting")]
pub struct CodebookArgs {
    #[command(subcommand)]
    command: Option<CodebookCommand>,
}

#[derive(Subcommand)]
enum CodebookCommand {
    /// Write a tag's description, memo or colour (an empty value clears it)
    Describe {
        tag: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        memo: Option<String>,
        /// #rrggbb
        #[arg(long)]
        colour: Option<String>,
    },
    /// Put a tag under another of its facet, or back at the top with --top; cycles are refused
    Parent {
        tag: String,
        #[arg(required_unless_present = "top")]
        parent: Option<String>,
        #[arg(long, conflicts_with = "parent")]
        top: bool,
    },
    /// Rename a tag: every note typing it is rewritten in one go, each keeping a revision
    Rename { from: String, to: String },
    /// Fold FROM into INTO: its notes, passages and children go to INTO, FROM goes
    Merge { from: String, into: String },
}

/// A tag as typed on the command line: with its sigil (`=wait-time`).
fn tag_arg(text: &str) -> Result<Tag> {
    match Tag::parse_token(text.trim()) {
        Some(tag) => Ok(tag),
        None => usage!(
            "{text:?} is not a tag: write it with its sigil, e.g. =wait-time, #checkout, !frustrated, @busy-parent, +quick-pickup"
        ),
    }
}

/// A rename's new name: a tag, or a bare name kept in the old tag's facet.
fn new_name(from: &Tag, text: &str) -> Result<Tag> {
    if let Some(tag) = Tag::parse_token(text.trim()) {
        return Ok(tag);
    }
    match Tag::new(from.facet, text) {
        Some(tag) => Ok(tag),
        None => usage!("{text:?} has no letters or digits to name a tag"),
    }
}

fn span_arg(span: Option<String>, quote: Option<String>) -> Result<Option<SpanSpec>> {
    Ok(match (span, quote) {
        (Some(s), _) => Some(SpanSpec::parse_range(&s).map_err(super::Usage)?),
        (None, Some(q)) => Some(SpanSpec::Quote(q)),
        (None, None) => None,
    })
}

pub fn code(archive: &mut Archive, args: CodeArgs, config: &Config, out: &Out) -> Result<()> {
    if args.undo {
        if !args.target.is_empty() {
            usage!("--undo takes nothing else: it takes back the last `code --search`");
        }
        let undone = archive.undo_bulk_coding()?;
        return out.done(
            &undone,
            &format!(
                "took {} off {} notes coded by `code --search {:?}`",
                undone.tag, undone.coded, undone.query
            ),
        );
    }
    let filters = to_filters(archive, args.filters)?;
    if let Some(query) = args.search {
        let [tag] = args.target.as_slice() else {
            usage!("with --search, give the tag only: fieldnotes code --search QUERY =tag");
        };
        let tag = tag_arg(tag)?;
        let coder = config.coder(args.coder)?;
        return if args.dry_run {
            let preview = archive.code_search_dry_run(&query, &filters, &tag, &coder)?;
            out.done(
                &preview,
                &bulk_line("dry run: would code", &preview, "; nothing was written"),
            )
        } else {
            let done = archive.code_search(&query, &filters, &tag, &coder)?;
            out.done(
                &done,
                &bulk_line("coded", &done, " (`fieldnotes code --undo` takes it back)"),
            )
        };
    }
    if filters != Filters::default() {
        usage!("--persona, --study and the other filters go with --search");
    }
    let [note, tag] = args.target.as_slice() else {
        usage!(
            "give the note and the tag: fieldnotes code NOTE =tag [--span 10..42 | --quote TEXT]"
        );
    };
    let note = archive.store().resolve_note(note)?;
    let tag = tag_arg(tag)?;
    let coder = config.coder(args.coder)?;
    match span_arg(args.span, args.quote)? {
        Some(span) => {
            let p = archive.code_span(&note, &tag, &span, &coder)?;
            out.done(
                &p,
                &format!(
                    "coded {}..{} {:?} of note {note} with {tag} (coder {coder})",
                    p.start, p.end, p.text
                ),
            )
        }
        None => {
            let added = archive.code_note(&note, &tag, &coder)?;
            let message = if added {
                format!("coded note {note} with {tag} (coder {coder})")
            } else {
                format!("note {note} already carries {tag}: nothing changed")
            };
            out.done(
                &serde_json::json!({"note": note, "tag": tag.to_string(), "coder": coder, "added": added}),
                &message,
            )
        }
    }
}

fn bulk_line(verb: &str, b: &BulkCoding, tail: &str) -> String {
    format!(
        "{verb} {} notes found by {:?} with {} ({} already had it){tail}",
        b.coded, b.query, b.tag, b.already
    )
}

pub fn uncode(archive: &mut Archive, args: UncodeArgs, out: &Out) -> Result<()> {
    let note = archive.store().resolve_note(&args.note)?;
    let tag = tag_arg(&args.tag)?;
    let span = span_arg(args.span, args.quote)?;
    if span.is_none() && !args.spans {
        archive.uncode_note(&note, &tag, args.coder.as_deref())?;
        let by = args.coder.as_ref().map(|c| format!(" (coder {c})"));
        return out.done(
            &serde_json::json!({"note": note, "tag": tag.to_string(), "coder": args.coder}),
            &format!("took {tag} off note {note}{}", by.unwrap_or_default()),
        );
    }
    let removed = archive.uncode_span(&note, &tag, span.as_ref(), args.coder.as_deref())?;
    out.done(
        &removed,
        &format!("took {tag} off {} passage(s) of note {note}", removed.len()),
    )
}

pub fn spans(archive: &Archive, args: SpansArgs, out: &Out) -> Result<()> {
    let passages = match &args.note {
        Some(note) => archive.passages(&archive.store().resolve_note(note)?)?,
        None => archive.lost_passages()?,
    };
    if out.json {
        return out.print_json(&passages);
    }
    if passages.is_empty() {
        out.status(if args.lost {
            "no lost passages"
        } else {
            "no passages: `fieldnotes code NOTE =tag --quote TEXT` codes one"
        });
        return Ok(());
    }
    out.print(&passage_lines(&passages, args.lost))
}

/// One line per passage: where, the tag, who, the text; lost ones marked.
pub fn passage_lines(passages: &[Passage], with_note: bool) -> String {
    let mut text = String::new();
    for p in passages {
        if with_note {
            text.push_str(&format!("{}  ", p.note));
        }
        text.push_str(&format!(
            "{:>5}..{:<5} {}  {}  {:?}{}\n",
            p.start,
            p.end,
            p.tag,
            p.coder,
            fieldnotes::text::excerpt(&p.text, 60),
            if p.lost {
                "  LOST: the text is no longer in the note"
            } else {
                ""
            }
        ));
    }
    text
}

/// Reports passages an edit or a rewrite lost, on stderr (stdout stays the command's data).
pub fn report_lost(lost: &[Passage]) {
    for p in lost {
        eprintln!(
            "fieldnotes: warning: note {}: the passage {} {:?} ({}..{}, coder {}) is no longer in the text: kept and marked lost (`fieldnotes spans {}`)",
            p.note,
            p.tag,
            fieldnotes::text::excerpt(&p.text, 60),
            p.start,
            p.end,
            p.coder,
            p.note
        );
    }
}

pub fn codebook(archive: &mut Archive, args: CodebookArgs, out: &Out) -> Result<()> {
    let Some(command) = args.command else {
        let tree = archive.codebook()?;
        if out.json {
            return out.print_json(&tree);
        }
        let mut text = String::new();
        for facet in Facet::ALL {
            for entry in tree.iter().filter(|e| e.facet == facet) {
                tree_lines(entry, 0, &mut text);
            }
        }
        return out.print(&text);
    };
    match command {
        CodebookCommand::Describe {
            tag,
            description,
            memo,
            colour,
        } => {
            let tag = tag_arg(&tag)?;
            if description.is_none() && memo.is_none() && colour.is_none() {
                usage!("give --description, --memo or --colour");
            }
            archive.describe_code(
                &tag,
                &CodeNotes {
                    description,
                    memo,
                    colour,
                },
            )?;
            out.done(
                &serde_json::json!({"tag": tag.to_string()}),
                &format!("described {tag}"),
            )
        }
        CodebookCommand::Parent { tag, parent, top } => {
            let tag = tag_arg(&tag)?;
            let parent = match (parent, top) {
                (Some(p), false) => Some(tag_arg(&p)?),
                _ => None,
            };
            archive.set_code_parent(&tag, parent.as_ref())?;
            let message = match &parent {
                Some(p) => format!("{tag} is under {p}"),
                None => format!("{tag} is at the top"),
            };
            out.done(
                &serde_json::json!({"tag": tag.to_string(), "parent": parent.map(|p| p.to_string())}),
                &message,
            )
        }
        CodebookCommand::Rename { from, to } => {
            let from = tag_arg(&from)?;
            let to = new_name(&from, &to)?;
            let done = archive.rename_tag(&from, &to)?;
            recoded(&done, "renamed", out)
        }
        CodebookCommand::Merge { from, into } => {
            let from = tag_arg(&from)?;
            let into = tag_arg(&into)?;
            let done = archive.merge_tags(&from, &into)?;
            recoded(&done, "merged", out)
        }
    }
}

fn recoded(done: &Recoded, verb: &str, out: &Out) -> Result<()> {
    report_lost(&done.lost);
    out.done(
        done,
        &format!(
            "{verb} {} into {}: {} notes carry it, {} rewritten (each keeps its old version), {} passages",
            done.from, done.to, done.notes, done.notes_rewritten, done.passages
        ),
    )
}

fn tree_lines(entry: &CodebookEntry, depth: usize, text: &mut String) {
    let mut line = format!(
        "{}{}  {} notes, {} passages",
        "  ".repeat(depth),
        entry.tag,
        entry.notes,
        entry.passages
    );
    if let Some(c) = &entry.colour {
        line.push_str(&format!("  {c}"));
    }
    if let Some(d) = &entry.description {
        line.push_str(&format!("  — {}", fieldnotes::text::excerpt(d, 70)));
    }
    text.push_str(&line);
    text.push('\n');
    if let Some(m) = &entry.memo {
        text.push_str(&format!(
            "{}  memo: {}\n",
            "  ".repeat(depth),
            fieldnotes::text::excerpt(m, 70)
        ));
    }
    for child in &entry.children {
        tree_lines(child, depth + 1, text);
    }
}
