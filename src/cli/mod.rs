//! Command-line definitions (clap) and their mapping onto library calls.

mod code_analysis;
mod coding;
mod encryption;
mod measures;
mod output;
mod report;
mod team;
mod themes;
mod visits;

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use fieldnotes::Archive;
use fieldnotes::config::Config;
use fieldnotes::io::{self, ExportOptions, Format, ImportFile, ImportOptions, Scope};
use fieldnotes::model::{Facet, Feedback, NoteKind, Participant, SessionKind, Tag};
use fieldnotes::query::Filters;
use fieldnotes::store::{NewNote, NewSession};
use fieldnotes::time;
use fieldnotes::tui::Settings;

use output::Out;

#[derive(Parser)]
#[command(
    name = "fieldnotes",
    version,
    about = "Capture, tag, find and understand customer-experience field notes.",
    long_about = "Capture, tag, find and understand customer-experience field notes, offline.\n\n\
Type notes with inline tags: @persona #touchpoint !emotion +job =code, e.g.\n  \
fieldnotes add --kind quote \"I waited ten minutes at the till #checkout !frustrated @busy-parent\"\n\n\
The archive is a folder holding fieldnotes.db (SQLite, the truth: copy it to back up) and index/\n\
(the search index, rebuilt from the database whenever needed).",
    after_help = "Start here:  fieldnotes demo        (a sample archive to explore)\n\
             fieldnotes session start --kind interview --study \"Checkout Q3\" --participant Maya"
)]
struct Cli {
    /// The archive folder [default: the platform's data folder, e.g. ~/.local/share/fieldnotes/archive]
    #[arg(long, global = true, env = "FIELDNOTES_ARCHIVE", value_name = "DIR")]
    archive: Option<PathBuf>,

    /// Settings file [default: config.toml in the platform's config folder, e.g. ~/.config/fieldnotes]
    #[arg(long, global = true, env = "FIELDNOTES_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    json: bool,

    /// Also print the log to stderr (it always goes to the log file; FIELDNOTES_LOG=debug for more)
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start, end and list field sessions (interviews, observations, visits…)
    #[command(subcommand)]
    Session(SessionCommand),
    /// Save a note, parsing its inline tags; prints its id
    #[command(
        after_help = "Examples:\n  fieldnotes add \"Customer circled the tills twice #checkout !confused\"\n  \
        fieldnotes add --kind quote \"I just want it to be quick\" @busy-parent +quick-pickup\n  \
        echo \"Long memo…\" | fieldnotes add --kind interpretation -"
    )]
    Add {
        /// The session to add to [default: the most recently started open session]
        #[arg(long, value_name = "ID")]
        session: Option<String>,
        /// observation (seen or done), quote (the participant's words), interpretation (your memo)
        #[arg(long, short, default_value = "observation")]
        kind: NoteKind,
        /// The note's text (words are joined with spaces); `-` reads it from standard input
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Show a note with its tags
    Show {
        /// The note's id, or its first characters
        id: String,
    },
    /// Replace a note's text; the old version is kept (see `history`)
    Edit {
        id: String,
        /// Change the note's kind too
        #[arg(long, short)]
        kind: Option<NoteKind>,
        /// The new text; `-` reads it from standard input
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Every version of a note, oldest first
    History { id: String },
    /// Code a passage of a note (--span, --quote), a whole note, or every result of a search
    Code(Box<coding::CodeArgs>),
    /// Take a code off a passage or a note
    Uncode(coding::UncodeArgs),
    /// A note's coded passages (who coded what, where), or every lost one
    Spans(coding::SpansArgs),
    /// The codebook as a tree with counts; describe, nest, rename and merge tags
    Codebook(coding::CodebookArgs),
    /// Which codes occur together (same note, overlapping passages), with the c-coefficient
    Cooccurrence(Box<code_analysis::CooccurrenceArgs>),
    /// Codes × persona, participant, session, study, session kind or touchpoint
    Matrix(Box<code_analysis::MatrixArgs>),
    /// Inter-coder agreement: percent, Cohen's kappa, Krippendorff's alpha, disagreements
    Agreement(Box<code_analysis::AgreementArgs>),
    /// Move a note to the trash (restorable)
    Rm { id: String },
    /// Bring a note back from the trash
    Restore { id: String },
    /// List the notes in the trash
    Trash,
    /// List tags with how many notes carry each
    Tags {
        /// Only this facet: persona, touchpoint, emotion, job or code
        #[arg(long)]
        facet: Option<Facet>,
    },
    /// Full-text search with tag filters and facet counts
    #[command(after_help = "Query language:\n  \
        waiting            words are stemmed: also finds waited, waits\n  \
        long queue         all words must match (AND is implied)\n  \
        queue OR line      either word;   -staff or NOT staff excludes\n  \
        \"long queue\"       the exact phrase\n  \
        queu*              words starting with queu\n  \
        @busy-parent #checkout waiting   inline tags filter the results\n\n\
        Examples:\n  fieldnotes search \"#checkout !frustrated\"\n  \
        fieldnotes search wait --persona busy-parent --since 2026-09-01 --json")]
    Search {
        /// The query (see below); empty lists the newest notes
        query: Vec<String>,
        #[command(flatten)]
        filters: FilterArgs,
        /// How many hits to show
        #[arg(long, short = 'n', default_value_t = 10)]
        limit: usize,
    },
    /// Recurring themes with their evidence; also contrast, pains, journey, trend, curation
    Themes(Box<themes::ThemesArgs>),
    /// Insights: statements linked to the notes that support them, with your confidence
    #[command(subcommand)]
    Insight(themes::InsightCommand),
    /// NPS, satisfaction, effort and confidence (%nps=9 in notes), by group and between waves
    Measures(Box<measures::MeasuresArgs>),
    /// The findings as one self-contained HTML page (or Markdown): themes, pains, journey,
    /// personas, mystery-shop scores, insights; pseudonyms by default
    Report(Box<report::ReportArgs>),
    /// Import notes from JSONL (as exported), CSV, spreadsheets, transcripts, Markdown,
    /// REFI-QDA projects and codebooks, or Word documents
    #[command(after_help = "Formats (from the file's extension, or --format):\n  \
        .jsonl       as `export` writes it (lossless)\n  \
        .csv .tsv    one note per row: a `text` column, and optionally id, kind, persona,\n               \
        touchpoint, emotion, job, code (several tags separated by ; , or |), session,\n               \
        created_at, participant, feedback. The delimiter (, ; tab |) is found from the\n               \
        header line (or --delimiter); a byte-order mark and CRLF are fine\n  \
        .xlsx .xls   the same columns in one sheet (--sheet NAME, default the first; .xlsm and\n  \
        .ods         .xlsb too); date cells become times\n  \
        .vtt .srt    each speaker turn becomes a quote at its time offset; speakers (<v Name>,\n               \
        `Name:` or `[Name]`, names only: not [laughs]) become participants, except\n               \
        --researcher NAME; --speakers \"Ana=researcher,Speaker 1=Maya\" says who is who,\n               \
        --no-speakers takes none. A cue that cannot be read is left out and reported\n  \
        .txt         a transcript when it has times (Meet, Otter, Rev), else a note per paragraph\n  \
        .md          one note per paragraph or list item (> quotes are quotes), YAML front\n               \
        matter (study, session, kind, date, researcher, participants, location, channel,\n               \
        feedback, tags) for the session; tables and HTML are left out and reported\n  \
        .qdpx        a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder, fieldnotes): each\n               \
        text source a session, each coded selection a note tagged with its codes\n               \
        (codes under Persona, Touchpoint, Emotion, Job parents become those facets),\n               \
        each case a participant; PDF, picture, audio and video sources and memos are\n               \
        left out and listed\n  \
        .qdc         a REFI-QDA codebook: its codes become tags with their descriptions\n  \
        .docx        a Word document: one note per paragraph or list item (Quote style: quotes),\n               \
        headings kept as each note's source (file › heading › subheading), table\n               \
        cells' paragraphs as notes; the title, author and creation date name the\n               \
        session unless --session, --researcher, --started-at; --comments adds the\n               \
        comments as interpretation notes after their paragraphs\n\n\
        Tables from other tools: map their headers with --text COL, --persona COL, … (a column\n\
        is read for one field only); --id COL names the tool's own response id (Response ID,\n\
        Respondent ID, #), kept as the note's source so a re-import adds nothing (a column\n\
        named `id` that holds no fieldnotes id is read the same way); --ignore COL leaves a\n\
        column out. Rows with no text are left out and counted; a quoted cell never closed (a\n\
        file cut short) is an error.\n\n\
        An import is one transaction: an error imports nothing and names the file, line (or\n\
        sheet and row) and reason. Importing the same file again adds nothing. --dry-run shows\n\
        what would come in and writes nothing. Files that are not UTF-8: --encoding\n\
        windows-1252 (a byte-order mark is followed without it).\n\n\
        Examples:\n  fieldnotes import survey.csv --study \"Survey 2026\" --text Comment --persona Segment \\\n      \
        --touchpoint Channel --kind quote --feedback direct\n  \
        fieldnotes import qualtrics.csv --id ResponseId --text Q3_TEXT --created-at RecordedDate --dry-run\n  \
        fieldnotes import results.xlsx --sheet Responses --id \"Response ID\" --text Comment --ignore Kind\n  \
        fieldnotes import reviews.csv --text review --feedback indirect --session \"App store reviews\"\n  \
        fieldnotes import call.vtt --study \"Checkout Q3\" --researcher \"Ana Ruiz\" --started-at \"2026-09-03 10:00\"\n  \
        fieldnotes import visit-notes.md\n  \
        fieldnotes import interviews.qdpx --study \"Checkout Q3\" --kind quote\n  \
        fieldnotes import visit-write-up.docx --comments")]
    Import {
        /// The file to read; `-` reads standard input (give --format)
        file: PathBuf,
        /// jsonl, csv (tsv too), xlsx (xls too), ods, vtt, srt, text, markdown, qdpx, qdc or
        /// docx [default: from the file's extension]
        #[arg(long)]
        format: Option<FormatArg>,
        /// The study new sessions go to
        #[arg(long, default_value = "Imported")]
        study: String,
        /// The kind of the sessions an import creates
        #[arg(long, default_value = "interview")]
        session_kind: SessionKind,
        /// The note kind of CSV and spreadsheet rows without a `kind` cell, of Markdown and
        /// Word paragraphs and of REFI-QDA selections fieldnotes did not export
        #[arg(long, default_value = "observation")]
        kind: NoteKind,
        #[command(flatten)]
        more: Box<ImportArgs>,
    },
    /// Export notes as JSONL (lossless), CSV, a Markdown report, or REFI-QDA for QDA suites
    #[command(
        after_help = "Formats (chosen from the output's extension, or --format):\n  \
        .jsonl  every note with its session, participants, revisions, passages, coders and\n          \
        trash (lossless)\n  \
        .csv    the live notes, one row each, with the columns `import` reads\n  \
        .md     the report `fieldnotes report -o x.md` writes, with every note (grouped by\n          \
        kind) and the tag counts\n  \
        .qdpx   a REFI-QDA project: sessions as text sources, notes as coded selections,\n          \
        tags as codes under a parent code per facet (nested as in the codebook),\n          \
        passages as selections at exact code-point offsets with their coders,\n          \
        participants as cases\n  \
        .qdc    a REFI-QDA codebook: the tags alone\n\n\
        --redact replaces participants' names with P1, P2, … (the same every time, in the\n\
        text and in tags named after them: @jean-luc becomes @p2), masks e-mail addresses,\n\
        phone and card numbers, bank accounts (IBAN), national identity numbers, street\n\
        addresses, links with a path and social handles, masks the names given with\n\
        --mask-names and kept with `fieldnotes mask-names` as [name], and leaves out the\n\
        notes of participants without recorded consent. The export says what it masked, by\n\
        kind. The archive itself is never changed.\n\n\
        Examples:\n  fieldnotes export -o all.jsonl\n  \
        fieldnotes export --study \"Checkout Q3\" --redact -o checkout.qdpx\n  \
        fieldnotes export --redact --mask-names \"Priya,Tomasz\" -o shared.jsonl\n  \
        fieldnotes export -o codebook.qdc\n  \
        fieldnotes export --session 01JD4 --format csv --redact > session.csv"
    )]
    Export {
        /// Write to this file (written whole or not at all) [default: standard output]
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// jsonl, csv, markdown, qdpx or qdc [default: from the output's extension, else jsonl]
        #[arg(long)]
        format: Option<FormatArg>,
        /// Only this session's notes (its id or first characters)
        #[arg(long, value_name = "ID", conflicts_with = "study")]
        session: Option<String>,
        /// Only this study's notes
        #[arg(long, value_name = "NAME")]
        study: Option<String>,
        /// Pseudonyms for participants, mask contact details, leave out notes without consent
        #[arg(long)]
        redact: bool,
        /// With --redact: other people's names to mask as [name], comma separated (beside
        /// the study's list, see `fieldnotes mask-names`)
        #[arg(long, value_delimiter = ',', value_name = "NAMES", requires = "redact")]
        mask_names: Vec<String>,
    },
    /// Names of people who are not participants (a spouse, a shop assistant) that a study's
    /// redacted exports mask as [name]; with no --add or --remove, lists them
    #[command(
        after_help = "Examples:\n  fieldnotes mask-names --study \"Checkout Q3\" --add \"Priya,Tomasz Nowak\"\n  \
        fieldnotes mask-names --study \"Checkout Q3\" --remove Priya\n  \
        fieldnotes mask-names --study \"Checkout Q3\""
    )]
    MaskNames {
        #[arg(long)]
        study: String,
        /// Names to add, comma separated
        #[arg(long, value_delimiter = ',')]
        add: Vec<String>,
        /// Names to take off, comma separated
        #[arg(long, value_delimiter = ',')]
        remove: Vec<String>,
    },
    /// Bring in another researcher's notes: same id = same note, nothing duplicated or lost
    #[command(
        after_help = "OTHER is another archive (its folder, or its fieldnotes.db), read without\n\
        ever being written to, or a .jsonl export of one.\n\n\
        The same note edited on both sides keeps every version as its history, the newest as\n\
        its text. A note in the trash on one side and edited on the other follows the newest\n\
        event: an edit after the delete brings it back. Sessions, participants and tags are\n\
        matched by id and name. Merging twice adds nothing; A into B and B into A agree.\n\n\
        Examples:\n  fieldnotes merge ~/Shared/fieldnotes/sam.jsonl\n  \
        fieldnotes merge /media/usb/sam-archive\n  \
        fieldnotes export -o ~/Shared/fieldnotes/$USER.jsonl   # what the others merge"
    )]
    Merge {
        /// Another archive folder, its fieldnotes.db, or a .jsonl export (`-` reads stdin)
        #[arg(value_name = "OTHER")]
        other: PathBuf,
    },
    /// Team servers (PostgreSQL) this archive syncs with: add, list, remove, init
    #[command(subcommand)]
    Remote(team::RemoteCommand),
    /// Push this archive's changes to the team server and pull everyone else's
    #[command(
        after_help = "Works offline: when the server cannot be reached, nothing changes here and the\n\
        changes wait for the next sync. A sync stopped at any point loses nothing: run it again.\n\n\
        Examples:\n  fieldnotes remote add team postgres://ana@db.example.org/research\n  \
        fieldnotes sync\n  fieldnotes sync team --study \"Checkout Q3\""
    )]
    Sync(team::SyncArgs),
    /// Rebuild the search index from the database
    Reindex,
    /// Make a new archive (--encrypt: an encrypted one, asking for its passphrase)
    #[command(
        after_help = "An encrypted archive keeps its notes encrypted on disk: the database (SQLCipher), its\n\
        write-ahead log and the search index. The passphrase is asked for (without echo) whenever\n\
        the archive is opened, or read from FIELDNOTES_PASSPHRASE. A lost passphrase cannot be\n\
        recovered: the notes are gone with it.\n\n\
        Examples:\n  fieldnotes init --encrypt\n  \
        fieldnotes --archive ~/research/visits init --encrypt"
    )]
    Init {
        /// Encrypt the new archive under a passphrase
        #[arg(long)]
        encrypt: bool,
    },
    /// Encrypt this archive under a new passphrase (the plain files go once the new ones check out)
    Encrypt,
    /// Decrypt this archive: its notes are written plain on disk again
    Decrypt,
    /// Change the passphrase of an encrypted archive (FIELDNOTES_NEW_PASSPHRASE for scripts)
    Passphrase,
    /// Verify the database and that the index holds exactly the live notes
    Check,
    /// Mystery-shopping scorecard templates (TOML): import, list, show
    #[command(subcommand)]
    Scorecard(visits::ScorecardCommand),
    /// Fill in a mystery-shop visit's scorecard, or see its progress and score
    #[command(subcommand)]
    Visit(visits::VisitCommand),
    /// Scores across visits: by location, criterion or month, worst first
    Visits(visits::ReportArgs),
    /// Show the settings in use and where each comes from, and check the config file
    #[command(
        after_help = "Settings are read in layers, each overriding the one before: built-in \
        defaults, the config file, the environment, then flags.\n\n\
        The config file (TOML):\n  \
        archive = \"~/research/archive\"      # the archive to open (FIELDNOTES_ARCHIVE, --archive win)\n  \
        draft-interval-ms = 500              # how soon the app saves a draft of what you type (50-5000;\n  \
                                       FIELDNOTES_DRAFT_INTERVAL_MS wins)\n  \
        colour = true                        # false: no colour (so does NO_COLOR)\n  \
        coder = \"Ana Ruiz\"                   # who codes passages (FIELDNOTES_CODER, --coder win;\n  \
                                       default: $USER)\n\n  \
        [colours]                            # persona touchpoint emotion job code observation quote\n  \
        persona = \"magenta\"                  # interpretation accent selected: a name or \"#rrggbb\"\n\n  \
        [keys.note-list]                     # a view or pane: home, editor, note-list, search-results…\n  \
        trash-note = \"ctrl+w\"                # an action shown by `?` in the app, and its new keys\n  \
        edit-note = [\"ctrl+e\", \"f4\"]\n\n\
        A key the file does not know is an error naming its line."
    )]
    Config,
    /// Open a sample archive of realistic field notes
    Demo {
        /// Only write the demo data into the archive (--archive DIR) and exit
        #[arg(long)]
        seed_only: bool,
    },
}

#[derive(Args, Default)]
struct ImportArgs {
    /// Show what would be imported (notes, participants, warnings, the first notes) and
    /// write nothing
    #[arg(long)]
    dry_run: bool,
    /// The file's encoding when it is not UTF-8 and has no byte-order mark: windows-1252,
    /// iso-8859-1, gb2312, shift_jis, utf-16le…
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// The session notes go to when the file names none: an id, or a title (created in
    /// --study if new) [default: "Imported from FILE"]
    #[arg(long, value_name = "ID_OR_TITLE")]
    session: Option<String>,
    /// direct (the customer told us), indirect (said elsewhere: reviews, social media) or
    /// inferred (deduced from behaviour) [default for transcripts: direct]
    #[arg(long, value_name = "TYPE")]
    feedback: Option<Feedback>,
    /// Transcripts: the researcher's name as the transcript writes it; REFI-QDA: the
    /// researcher of sources without a creating user; Word: instead of the document's author
    #[arg(long, value_name = "NAME")]
    researcher: Option<String>,
    /// Transcripts: who is who, e.g. "Ana=researcher,Ben,Speaker 1=Maya": only these labels
    /// are taken as speakers (after `=`: the name to credit, or `researcher`)
    #[arg(long, value_name = "LIST", conflicts_with = "no_speakers")]
    speakers: Option<String>,
    /// Transcripts: take no speaker names (every quote without a participant)
    #[arg(long)]
    no_speakers: bool,
    /// Transcripts, Markdown and Word: when a new session started (Word: instead of the
    /// document's creation time); REFI-QDA: when sources without a creation time started
    /// [default: the file's time]
    #[arg(long, value_name = "DATE")]
    started_at: Option<String>,
    /// Word: the document's comments become interpretation notes, each after the paragraph
    /// it is on [default: left out]
    #[arg(long)]
    comments: bool,
    /// CSV and spreadsheets: the column holding the note's text
    #[arg(long, value_name = "COL")]
    text: Option<String>,
    /// CSV and spreadsheets: the column holding the survey tool's own id for each response
    /// (Response ID, Respondent ID, #…): kept as the note's source, and the same response
    /// is the same note on every import
    #[arg(long, value_name = "COL")]
    id: Option<String>,
    /// CSV and spreadsheets: the column holding persona tags
    #[arg(long, value_name = "COL")]
    persona: Option<String>,
    /// CSV and spreadsheets: the column holding touchpoint tags
    #[arg(long, value_name = "COL")]
    touchpoint: Option<String>,
    /// CSV and spreadsheets: the column holding emotion tags
    #[arg(long, value_name = "COL")]
    emotion: Option<String>,
    /// CSV and spreadsheets: the column holding job tags
    #[arg(long, value_name = "COL")]
    job: Option<String>,
    /// CSV and spreadsheets: the column holding code tags
    #[arg(long, value_name = "COL")]
    code: Option<String>,
    /// CSV and spreadsheets: the column holding when each note was written
    #[arg(long, value_name = "COL")]
    created_at: Option<String>,
    /// CSV and spreadsheets: the column naming who said it (a participant)
    #[arg(long, value_name = "COL")]
    participant: Option<String>,
    /// CSV and spreadsheets: read a measure from a column, NAME=COL: --measure nps=Score
    /// (repeat for several). The value joins the note's text as %nps=9; a row with a score and
    /// no text is still a note. Out-of-scale values stop the import, naming the row
    #[arg(long = "measure", value_name = "NAME=COL", value_parser = parse_measure_column)]
    measures: Vec<(String, String)>,
    /// CSV and spreadsheets: leave this column out, even if its name is one fieldnotes reads
    /// (repeat for several)
    #[arg(long, value_name = "COL")]
    ignore: Vec<String>,
    /// CSV: the character between cells: , ; | or tab [default: the one the header line uses]
    #[arg(long, value_name = "CHAR", value_parser = io::csv::delimiter_from)]
    delimiter: Option<u8>,
    /// Spreadsheets: the sheet to read [default: the first]
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
}

#[derive(Subcommand)]
enum SessionCommand {
    /// Start a session; prints its id. Later `add`s go to it until it ends
    #[command(
        after_help = "Example:\n  fieldnotes session start --kind interview --study \"Checkout Q3\" \\\n    \
        --participant Maya --consent --location \"Riverside store\" --channel store"
    )]
    Start {
        /// interview, observation, mystery-shop, focus-group or diary
        #[arg(long, short)]
        kind: SessionKind,
        /// The study it belongs to (created if new)
        #[arg(long, short)]
        study: String,
        /// A participant's pseudonym (repeat for several)
        #[arg(long, short)]
        participant: Vec<String>,
        /// The participants gave consent today
        #[arg(long)]
        consent: bool,
        #[arg(long, short)]
        location: Option<String>,
        /// store, web, app, phone, email…
        #[arg(long, short)]
        channel: Option<String>,
        /// Who runs the session [default: $USER]
        #[arg(long)]
        researcher: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// A measure the whole session carries, NAME=VALUE: --measure nps=9 (repeat for
        /// several; see `fieldnotes measures --help`)
        #[arg(long = "measure", value_name = "NAME=VALUE")]
        measures: Vec<String>,
        /// For mystery-shop visits: the scorecard to fill in (its latest version)
        #[arg(long, value_name = "NAME")]
        scorecard: Option<String>,
    },
    /// End a session [default: the most recent open one]
    End { id: Option<String> },
    /// List sessions, newest first
    List {
        #[arg(long, short)]
        study: Option<String>,
    },
}

#[derive(Args, Default, Clone)]
struct FilterArgs {
    #[arg(long)]
    persona: Vec<String>,
    #[arg(long)]
    touchpoint: Vec<String>,
    #[arg(long)]
    emotion: Vec<String>,
    #[arg(long)]
    job: Vec<String>,
    #[arg(long)]
    code: Vec<String>,
    /// observation, quote or interpretation
    #[arg(long)]
    kind: Option<NoteKind>,
    /// A session id (or its first characters)
    #[arg(long)]
    session: Option<String>,
    /// A study name
    #[arg(long)]
    study: Option<String>,
    /// Notes written on or after this date (2026-09-01 or 2026-09-01T14:00:00Z)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Notes written on or before this date (a bare date includes the whole day)
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Jsonl,
    #[value(alias = "tsv")]
    Csv,
    #[value(alias = "xls")]
    Xlsx,
    Ods,
    Vtt,
    Srt,
    #[value(alias = "txt")]
    Text,
    #[value(alias = "md")]
    Markdown,
    Qdpx,
    Qdc,
    Docx,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
            FormatArg::Xlsx => Format::Xlsx,
            FormatArg::Ods => Format::Ods,
            FormatArg::Vtt => Format::Vtt,
            FormatArg::Srt => Format::Srt,
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Qdpx => Format::Qdpx,
            FormatArg::Qdc => Format::Qdc,
            FormatArg::Docx => Format::Docx,
        }
    }
}

/// A command given the wrong way (options that do not go together, a missing name): exit 2,
/// as clap's own usage errors do, where a failure of the work itself exits 1.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Returns a usage error (exit 2) made like `format!`.
fn parse_measure_column(s: &str) -> Result<(String, String), String> {
    let (name, col) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: write NAME=COL, as nps=Score"))?;
    let name = fieldnotes::model::normalize_name(name.trim_start_matches('%'));
    if name.is_empty() || col.trim().is_empty() {
        return Err(format!("{s:?}: write NAME=COL, as nps=Score"));
    }
    Ok((name, col.trim().to_owned()))
}

macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::cli::Usage(format!($($arg)*))))
    };
}
pub(crate) use usage;

pub fn run() -> Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The app draws on the terminal: it logs to the file only.
    let _log = fieldnotes::logging::init(cli.verbose && cli.command.is_some());
    // The command's name only: its arguments may hold a note's text.
    let name = matches.subcommand_name().unwrap_or("app");
    tracing::info!(command = name, version = env!("CARGO_PKG_VERSION"), "start");
    let result = dispatch(cli);
    match &result {
        Ok(()) => tracing::info!(command = name, "done"),
        Err(e) => tracing::error!(command = name, "{e:#}"),
    }
    result
}

fn dispatch(cli: Cli) -> Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let out = Out::new(cli.json, config.colour);
    let Some(command) = cli.command else {
        let dir = config.archive_dir(cli.archive.clone())?;
        return open_app(dir, &config);
    };
    match command {
        Command::Demo { seed_only } => return demo(cli.archive, seed_only, &config, &out),
        Command::Config => return show_config(&config, cli.archive, &out),
        _ => {}
    }
    let dir = config.archive_dir(cli.archive)?;
    match command {
        Command::Init { encrypt } => return encryption::init(&dir, encrypt, &out),
        Command::Encrypt => return encryption::encrypt(&dir, &out),
        Command::Decrypt => return encryption::decrypt(&dir, &out),
        Command::Passphrase => return encryption::change_passphrase(&dir, &out),
        _ => {}
    }
    let mut archive = open(&dir)?;
    match command {
        Command::Session(cmd) => session(&mut archive, cmd, &out),
        Command::Add {
            session,
            kind,
            text,
        } => {
            let session = match session {
                Some(s) => archive.store().resolve_session(&s)?,
                None => archive.store().latest_open_session()?.context(
                    "no open session to add to: start one with `fieldnotes session start --kind interview --study NAME`, or pass --session ID",
                )?,
            };
            let note = archive.add_note(&NewNote {
                session,
                kind,
                body: read_text(&text)?,
                extra_tags: Vec::new(),
                clears_draft: false,
            })?;
            out.note_saved(&note)
        }
        Command::Show { id } => {
            let id = archive.store().resolve_note(&id)?;
            out.note(&archive.store().note(&id)?)
        }
        Command::Edit { id, kind, text } => {
            let id = archive.store().resolve_note(&id)?;
            let edited = archive.edit_note_reporting(&id, &read_text(&text)?, kind)?;
            coding::report_lost(&edited.lost);
            out.note_saved(&edited.note)
        }
        Command::Code(args) => coding::code(&mut archive, *args, &config, &out),
        Command::Uncode(args) => coding::uncode(&mut archive, args, &out),
        Command::Spans(args) => coding::spans(&archive, args, &out),
        Command::Codebook(args) => coding::codebook(&mut archive, args, &out),
        Command::Cooccurrence(args) => code_analysis::cooccurrence_cmd(&archive, *args, &out),
        Command::Matrix(args) => code_analysis::matrix_cmd(&archive, *args, &out),
        Command::Agreement(args) => code_analysis::agreement_cmd(&archive, *args, &out),
        Command::History { id } => {
            let id = archive.store().resolve_note(&id)?;
            out.history(&id, &archive.store().history(&id)?)
        }
        Command::Rm { id } => {
            let id = archive.store().resolve_note(&id)?;
            let note = archive.trash_note(&id)?;
            out.done(
                &note,
                &format!("moved note {id} to the trash (`fieldnotes restore {id}` brings it back)"),
            )
        }
        Command::Restore { id } => {
            let id = archive.store().resolve_note(&id)?;
            let note = archive.restore_note(&id)?;
            out.done(&note, &format!("restored note {id}"))
        }
        Command::Trash => out.notes(&archive.store().trashed_notes()?),
        Command::Tags { facet } => out.tags(&archive.store().tag_counts(facet)?),
        Command::Search {
            query,
            filters,
            limit,
        } => {
            let filters = to_filters(&archive, filters)?;
            let results = archive.search(&query.join(" "), &filters, limit)?;
            out.search(&results)
        }
        Command::Themes(args) => themes::run(&mut archive, *args, &out),
        Command::Insight(cmd) => themes::insight(&mut archive, cmd, &out),
        Command::Measures(args) => measures::run(&mut archive, *args, &out),
        Command::Report(args) => report::run(&archive, *args, &out),
        Command::Import {
            file,
            format,
            study,
            session_kind,
            kind,
            more,
        } => import(
            &mut archive,
            &file,
            format,
            (study, session_kind, kind),
            *more,
            &out,
        ),
        Command::Export {
            output,
            format,
            session,
            study,
            redact,
            mask_names,
        } => {
            let scope = match (session, study) {
                (Some(s), _) => Scope::Session(archive.store().resolve_session(&s)?),
                (None, Some(study)) => Scope::Study(study),
                (None, None) => Scope::All,
            };
            export(
                &archive,
                output,
                format,
                ExportOptions {
                    scope,
                    redact,
                    mask_names,
                },
                &out,
            )
        }
        Command::MaskNames { study, add, remove } => {
            let names = if add.is_empty() && remove.is_empty() {
                archive.study_id(&study)?;
                archive.store().masked_names(Some(&study))?
            } else {
                archive.edit_masked_names(&study, &add, &remove)?
            };
            let text = if names.is_empty() {
                format!("{study}: no names to mask (--add \"Priya,Tomasz\" adds some)")
            } else {
                format!("{study} masks: {}", names.join(", "))
            };
            out.done(&names, &text)
        }
        Command::Merge { other } => {
            let same = other.canonicalize().ok() == dir.canonicalize().ok()
                || other.canonicalize().ok() == dir.join("fieldnotes.db").canonicalize().ok();
            if same {
                usage!(
                    "{} is this archive: merge another researcher's",
                    other.display()
                );
            }
            let other_key = match io::merge_archive_dir(&other) {
                Some(other_dir) => encryption::unlock_other(&other_dir)?,
                None => None,
            };
            let incoming = io::read_for_merge(&other, other_key.as_ref())?;
            let counts = archive.merge(&incoming)?;
            out.done(
                &counts,
                &format!(
                    "merged {} notes from {}: {} new, {} updated, {} already the same ({} new sessions); \
                     {} of {} records (codebook, consent, curation…) changed here",
                    incoming.notes.len(),
                    other.display(),
                    counts.added,
                    counts.updated,
                    counts.unchanged,
                    counts.sessions_added,
                    counts.records,
                    incoming.records.len()
                ),
            )
        }
        Command::Remote(cmd) => team::remote(&archive, cmd, &out),
        Command::Sync(args) => team::sync(&mut archive, args, &out),
        Command::Reindex => {
            let n = archive.reindex(progress("indexing"))?;
            end_progress();
            out.done(
                &serde_json::json!({ "indexed": n }),
                &format!("indexed {n} notes"),
            )
        }
        Command::Check => {
            let problems = archive.check()?;
            let notes = archive.store().live_note_count()?;
            out.check(&problems, notes)?;
            if !problems.is_empty() {
                bail!("{} problem(s) found in {}", problems.len(), dir.display());
            }
            Ok(())
        }
        Command::Scorecard(cmd) => visits::scorecard(&archive, cmd, &out),
        Command::Visit(cmd) => visits::visit(&mut archive, cmd, &out),
        Command::Visits(args) => visits::report(&archive, args, &out),
        Command::Demo { .. }
        | Command::Config
        | Command::Init { .. }
        | Command::Encrypt
        | Command::Decrypt
        | Command::Passphrase => unreachable!("handled above"),
    }
}

fn open(dir: &Path) -> Result<Archive> {
    let key = encryption::unlock(dir)?;
    let archive = Archive::open_unlocked(dir, key.as_ref(), progress("indexing"))
        .with_context(|| format!("cannot open the archive {}", dir.display()));
    end_progress();
    if let Ok(archive) = &archive
        && let Some(why) = archive.index_repaired()
    {
        eprintln!("fieldnotes: warning: the search index was damaged ({why}) and has been rebuilt");
    }
    archive
}

/// Shows how much of a large file an import has read, on stderr when a person is watching.
fn reading_progress(input: Box<dyn std::io::BufRead>, file: &Path) -> Box<dyn std::io::BufRead> {
    let size = std::fs::metadata(file).map_or(0, |m| m.len());
    if !std::io::stderr().is_terminal() || size < 4 * 1024 * 1024 {
        return input;
    }
    Box::new(ReadProgress {
        inner: input,
        size,
        read: 0,
        shown: std::time::Instant::now(),
        finished: false,
    })
}

struct ReadProgress {
    inner: Box<dyn std::io::BufRead>,
    size: u64,
    read: u64,
    shown: std::time::Instant,
    finished: bool,
}

impl ReadProgress {
    fn advance(&mut self, n: usize) {
        self.read += n as u64;
        if self.finished {
            return;
        }
        if self.shown.elapsed() >= std::time::Duration::from_millis(200) || self.read >= self.size {
            self.shown = std::time::Instant::now();
            READING_ON_LINE.store(true, std::sync::atomic::Ordering::Relaxed);
            eprint!(
                "\rreading… {:>3}% ({:.1} of {:.1} MB)",
                self.read * 100 / self.size.max(1),
                self.read as f64 / 1e6,
                self.size as f64 / 1e6
            );
            if self.read >= self.size {
                self.finished = true;
                READING_ON_LINE.store(false, std::sync::atomic::Ordering::Relaxed);
                eprintln!();
            }
        }
    }
}

impl Read for ReadProgress {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.advance(n);
        Ok(n)
    }
}

impl std::io::BufRead for ReadProgress {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.advance(amount);
    }
}

/// Reports long work on stderr when a person is watching it.
fn progress(what: &'static str) -> impl FnMut(u64) {
    let show = std::io::stderr().is_terminal();
    let mut shown = false;
    move |done| {
        // An import indexes while it reads: its reading line says how far it is until then.
        let reading = READING_ON_LINE.load(std::sync::atomic::Ordering::Relaxed);
        if show && !reading && (done >= 10_000 || shown) {
            shown = true;
            PROGRESS_ON_LINE.store(true, std::sync::atomic::Ordering::Relaxed);
            eprint!("\r{what}… {done} notes");
        }
    }
}

/// Whether an import's reading line is on stderr and not finished.
static READING_ON_LINE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a progress line is waiting for its end on stderr.
static PROGRESS_ON_LINE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ends a progress line, so what follows starts on a line of its own.
fn end_progress() {
    if PROGRESS_ON_LINE.swap(false, std::sync::atomic::Ordering::Relaxed) {
        eprintln!();
    }
}

fn read_text(words: &[String]) -> Result<String> {
    if words.len() == 1 && words[0] == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the note from standard input (is it UTF-8?)")?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_owned());
    }
    Ok(words.join(" "))
}

fn session(archive: &mut Archive, cmd: SessionCommand, out: &Out) -> Result<()> {
    match cmd {
        SessionCommand::Start {
            kind,
            study,
            participant,
            consent,
            location,
            channel,
            researcher,
            title,
            measures,
            scorecard,
        } => {
            // A usage mistake (exit 2); the library refuses it too, and checks the name
            // before anything is written.
            if scorecard.is_some() && kind != SessionKind::MysteryShop {
                usage!("--scorecard is for mystery-shop sessions, not {kind}");
            }
            let today = time::now().date_naive().to_string();
            let mut new = NewSession::new(study, kind);
            new.location = location;
            new.channel = channel;
            new.title = title;
            new.researcher = researcher.or_else(|| std::env::var("USER").ok());
            new.participants = participant
                .into_iter()
                .map(|p| Participant {
                    pseudonym: p,
                    consent,
                    consent_date: consent.then(|| today.clone()),
                    contact: None,
                })
                .collect();
            let scales = archive.store().measure_scales(Some(&new.study))?;
            for m in &measures {
                match fieldnotes::model::parse_assignment(m, &scales) {
                    Ok(m) => new.measures.push(m),
                    Err(e) => usage!("--measure: {e}"),
                }
            }
            let s = archive.start_session(&new, scorecard.as_deref())?;
            out.session_started(&s)
        }
        SessionCommand::End { id } => {
            let id = match id {
                Some(id) => archive.store().resolve_session(&id)?,
                None => archive
                    .store()
                    .latest_open_session()?
                    .context("there is no open session to end")?,
            };
            let s = archive.end_session(&id)?;
            out.done(&s, &format!("ended session {id} ({} notes)", s.note_count))
        }
        SessionCommand::List { study } => {
            if let Some(name) = &study {
                archive.study_id(name)?;
            }
            out.sessions(&archive.store().sessions(study.as_deref())?)
        }
    }
}

fn to_filters(archive: &Archive, f: FilterArgs) -> Result<Filters> {
    let mut tags = Vec::new();
    for (facet, names) in [
        (Facet::Persona, f.persona),
        (Facet::Touchpoint, f.touchpoint),
        (Facet::Emotion, f.emotion),
        (Facet::Job, f.job),
        (Facet::Code, f.code),
    ] {
        for name in names {
            let tag = Tag::new(facet, name.trim_start_matches(facet.sigil()))
                .with_context(|| format!("--{facet} {name:?} has no letters or digits"))?;
            tags.push(tag);
        }
    }
    Ok(Filters {
        tags,
        kind: f.kind,
        session: f
            .session
            .map(|s| archive.store().resolve_session(&s))
            .transpose()?,
        study: f.study.map(|s| archive.study_id(&s)).transpose()?,
        since: f
            .since
            .map(|s| time::parse_user(&s).map_err(|e| anyhow::anyhow!("--since: {e}")))
            .transpose()?,
        until: f
            .until
            .map(|s| time::parse_user_until(&s).map_err(|e| anyhow::anyhow!("--until: {e}")))
            .transpose()?,
    })
}

fn import(
    archive: &mut Archive,
    file: &Path,
    format: Option<FormatArg>,
    (study, session_kind, kind): (String, SessionKind, NoteKind),
    more: ImportArgs,
    out: &Out,
) -> Result<()> {
    let format = io::import_format(file, format.map(Format::from))?;
    let mut options = ImportOptions::new(study, session_kind, kind);
    options.session = more.session;
    options.researcher = more.researcher;
    options.feedback = more.feedback;
    options.comments = more.comments;
    options.started_at = more
        .started_at
        .map(|s| time::parse_user(&s).map_err(|e| anyhow::anyhow!("--started-at: {e}")))
        .transpose()?;
    options.columns = [
        ("text", more.text),
        ("id", more.id),
        ("persona", more.persona),
        ("touchpoint", more.touchpoint),
        ("emotion", more.emotion),
        ("job", more.job),
        ("code", more.code),
        ("created_at", more.created_at),
        ("participant", more.participant),
    ]
    .into_iter()
    .filter_map(|(field, col)| col.map(|c| (field.to_owned(), c)))
    .chain(
        more.measures
            .into_iter()
            .map(|(name, col)| (format!("{}{name}", io::table::MEASURE_FIELD), col)),
    )
    .collect();
    options.speakers = match (&more.speakers, more.no_speakers) {
        (Some(list), _) => io::transcript::Speakers::parse_list(list)?,
        (None, true) => io::transcript::Speakers::None,
        (None, false) => io::transcript::Speakers::Detect,
    };
    options.ignore = more.ignore;
    options.delimiter = more.delimiter;
    options.sheet = more.sheet;
    options.encoding = more
        .encoding
        .as_deref()
        .map(io::encoding::TextEncoding::from_label)
        .transpose()?;
    let input = reading_progress(io::open_input(file)?, file);
    let file = ImportFile::new(file, format, options, input)?;
    let name = file.name.clone();
    if more.dry_run {
        let counts = archive.import_dry_run(file)?;
        return out.import_preview(&counts, &name);
    }
    let counts = archive.import_file(file, progress("indexing"))?;
    end_progress();
    for w in &counts.warnings {
        eprintln!("fieldnotes: warning: {w}");
    }
    let mut skipped = match counts.skipped {
        0 => String::new(),
        n => format!(", {n} left out"),
    };
    if counts.tags > 0 {
        skipped.push_str(&format!(
            ", {} tags new or newly described in the codebook",
            counts.tags
        ));
    }
    out.done(
        &counts,
        &format!(
            "imported {} notes from {name} ({} already in the archive{skipped})",
            counts.added, counts.already_present
        ),
    )
}

fn export(
    archive: &Archive,
    output: Option<PathBuf>,
    format: Option<FormatArg>,
    options: ExportOptions,
    out: &Out,
) -> Result<()> {
    let format: Format = match (format, &output) {
        (Some(f), _) => f.into(),
        (None, Some(path)) => Format::from_path(path).unwrap_or(Format::Jsonl),
        (None, None) => Format::Jsonl,
    };
    let summary = match &output {
        Some(path) => archive.export_file(path, format, options)?,
        None => {
            if format == Format::Qdpx && std::io::stdout().is_terminal() {
                usage!("a REFI-QDA project is a zip file: give it a name with -o project.qdpx");
            }
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            archive.export(format, options, &mut lock)?
        }
    };
    let mut message = match (format, &output) {
        (Format::Qdc, Some(path)) => format!("exported the codebook to {}", path.display()),
        (_, Some(path)) => format!("exported {} notes to {}", summary.notes, path.display()),
        (_, None) => format!("exported {} notes", summary.notes),
    };
    if summary.withheld > 0 {
        let _ = std::fmt::Write::write_fmt(
            &mut message,
            format_args!(
                "; left out {} notes of participants without recorded consent",
                summary.withheld
            ),
        );
    }
    if !summary.masked.is_empty() {
        let kinds: Vec<String> = summary
            .masked
            .iter()
            .map(|(kind, n)| format!("{n} × {kind}"))
            .collect();
        let _ =
            std::fmt::Write::write_fmt(&mut message, format_args!("; masked {}", kinds.join(", ")));
    }
    if output.is_some() && out.json {
        out.done(&summary, &message)
    } else {
        out.status(&message);
        Ok(())
    }
}

fn demo(archive: Option<PathBuf>, seed_only: bool, config: &Config, out: &Out) -> Result<()> {
    let dir = match archive {
        Some(dir) => dir,
        None => Archive::default_dir()?.join("demo"),
    };
    let mut archive = open(&dir)?;
    let counts = fieldnotes::demo::seed(&mut archive)?;
    if seed_only {
        return out.done(
            &counts,
            &format!(
                "wrote the demo archive into {} ({} notes new)",
                dir.display(),
                counts.added
            ),
        );
    }
    if out.json || !std::io::stdout().is_terminal() {
        return out.demo_summary(&archive, &dir);
    }
    // The app opens the archive itself (and takes the index writer).
    drop(archive);
    open_app(dir, config)
}

/// The app's settings from the config file (key bindings, colours), checked; installs the
/// key table.
fn app_settings(config: &Config) -> Result<Settings> {
    Settings::from_config(config).map_err(|(line, message)| {
        let path = config
            .file
            .as_ref()
            .map_or_else(|| "config".into(), |p| p.display().to_string());
        anyhow::Error::new(fieldnotes::Error::Config {
            path,
            line,
            message,
        })
    })
}

fn show_config(config: &Config, archive_flag: Option<PathBuf>, out: &Out) -> Result<()> {
    app_settings(config)?;
    let file = config.file.clone();
    let default = fieldnotes::config::default_path();
    let archive = config.archive_dir(archive_flag)?;
    if out.json {
        return out.print_json(&serde_json::json!({
            "file": file,
            "default_file": default,
            "archive": archive,
            "draft_interval_ms": config.draft_interval.as_millis() as u64,
            "colour": config.colour,
            "coder": config.coder,
            "colours": config.colours.iter().map(|c| (c.name.clone(), c.value.clone())).collect::<std::collections::BTreeMap<_, _>>(),
            "keys": config.keys.iter().map(|k| serde_json::json!({"view": k.context, "action": k.action, "keys": k.keys})).collect::<Vec<_>>(),
        }));
    }
    let mut text = String::new();
    match (&file, &default) {
        (Some(f), _) => text.push_str(&format!(
            "config file:    {} (checked: no errors)\n",
            f.display()
        )),
        (None, Some(d)) => text.push_str(&format!(
            "config file:    none (one would be read from {})\n",
            d.display()
        )),
        (None, None) => text.push_str("config file:    none\n"),
    }
    text.push_str(&format!("archive:        {}\n", archive.display()));
    text.push_str(&format!(
        "draft interval: {} ms\n",
        config.draft_interval.as_millis()
    ));
    text.push_str(&format!(
        "colour:         {}\n",
        if config.colour { "on" } else { "off" }
    ));
    text.push_str(&format!(
        "coder:          {}\n",
        config
            .coder(None)
            .unwrap_or_else(|_| "none (pass --coder NAME when coding)".into())
    ));
    for c in &config.colours {
        text.push_str(&format!("colour of {}: {}\n", c.name, c.value));
    }
    for k in &config.keys {
        text.push_str(&format!(
            "keys of {} in {}: {}\n",
            k.action,
            k.context,
            k.keys.join(", ")
        ));
    }
    out.print(&text)
}

/// The terminal app; without a terminal to draw on, the help instead.
fn open_app(dir: PathBuf, config: &Config) -> Result<()> {
    let settings = app_settings(config)?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        use clap::CommandFactory;
        Cli::command().print_help()?;
        bail!("the app needs a terminal: run `fieldnotes` in one, or use the commands above");
    }
    // Asked for before the app takes the terminal.
    let key = encryption::unlock(&dir)?;
    fieldnotes::tui::run(dir.clone(), key, settings)
        .with_context(|| format!("the app stopped on the archive {}", dir.display()))
}
