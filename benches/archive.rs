//! The archive at scale, against the tools researchers would otherwise use.
//!
//!     cargo bench --bench archive                 # 100,000 notes
//!     cargo bench --bench archive -- --million    # 1,000,000 notes
//!     cargo bench --bench archive -- --quick      # 10,000 notes (what CI runs)
//!     cargo bench --bench archive -- --scale 10000000 --no-peers --no-extras
//!
//! For profiling: `--no-peers` leaves FTS5 and ripgrep out (their ingest and their searches),
//! `--no-ripgrep` only ripgrep,
//! `--no-extras` the CSV import, the report, the themes and the encrypted archive,
//! `--import-only` stops after the import, `--keep DIR` builds the archive in DIR and leaves
//! it there, and `--typing DIR` / `--during-themes DIR` / `--report DIR` run only the
//! search-as-you-type, the capture-during-themes or the report measurement on such an
//! archive; `--open DIR` the app's opening (the first frame, the sessions listed, everything
//! open) and `--tantivy-alone DIR` tantivy's own indexing of the archive's note bodies (held
//! in memory, with its English stemming and without) beside `reindex`.
//!
//! The import is followed by every kind of search twice (right after it, while the index
//! merges its segments, and settled), `reindex`, and the peer's ingest of the same notes (a
//! notes table with an FTS5 index, one transaction) with the ratio. Peak memory (VmHWM) is
//! reset before the import and the reindex, so each prints its own.
//!
//! With a fixed seed it writes a synthetic archive (sessions of several kinds, personas,
//! touchpoints along a journey, emotions, jobs, 40–120-word notes with a Zipf-like vocabulary,
//! rare words and names), imports it through the real JSONL import, then times the findings
//! report (HTML, over every note) and its file's size, capture (alone, and while the themes
//! run over every note on another thread), every kind of search, the
//! same searches in SQLite FTS5 over the same notes and, when `rg` is installed, ripgrep over
//! the notes as Markdown files, and the app's search-as-you-type. Figures vary with the
//! machine's load: compare the ratios, which come from the same run.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fieldnotes::Archive;
use fieldnotes::io::jsonl;
use fieldnotes::model::{Facet, NoteKind, Tag};
use fieldnotes::query::Filters;
use fieldnotes::store::NewNote;

// ---- a small deterministic random source --------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() as f64 / u64::MAX as f64) < p
    }
}

// ---- the synthetic research archive -------------------------------------------------------

const COMMON: &[&str] = &[
    "the",
    "a",
    "and",
    "to",
    "it",
    "i",
    "was",
    "of",
    "in",
    "that",
    "she",
    "he",
    "they",
    "for",
    "on",
    "with",
    "but",
    "not",
    "at",
    "is",
    "my",
    "we",
    "had",
    "so",
    "just",
    "there",
    "when",
    "customer",
    "staff",
    "queue",
    "wait",
    "waited",
    "waiting",
    "store",
    "app",
    "order",
    "price",
    "till",
    "card",
    "delivery",
    "email",
    "time",
    "minutes",
    "help",
    "asked",
    "said",
    "looked",
    "again",
    "back",
    "collect",
    "return",
    "points",
    "screen",
    "phone",
    "basket",
    "shelf",
    "sign",
    "desk",
    "parcel",
    "refund",
    "login",
    "password",
    "stock",
    "aisle",
    "bag",
    "receipt",
    "checkout",
    "tracking",
    "courier",
    "manager",
    "colleague",
    "children",
    "train",
    "lunch",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "sto", "vel", "dra", "qui", "ber", "nal", "pho", "tis", "gra", "lum",
    "zen", "cor", "fli", "mab", "ux", "tor", "ish", "ome", "ard", "elt",
];
const NAMES: &[&str] = &[
    "Priya",
    "Tomasz",
    "Dermot",
    "Lorna",
    "Kwame",
    "Nadia",
    "Shirin",
    "Halcyon",
    "Tidewell",
    "Brightpoints",
    "Swiftline",
    "Larkspur",
    "Quayside",
    "Wharf",
    "Oakhurst",
    "Fennick",
];
const PERSONAS: &[&str] = &[
    "busy-parent",
    "retiree",
    "student",
    "commuter",
    "small-business-owner",
    "carer",
];
const TOUCHPOINTS: &[&str] = &[
    "advert",
    "website",
    "product-page",
    "price-check",
    "checkout",
    "self-checkout",
    "click-and-collect",
    "delivery-tracking",
    "delivery",
    "returns-desk",
    "help-line",
    "loyalty-card",
    "mobile-app",
    "app-login",
];
const EMOTIONS: &[&str] = &[
    "frustrated",
    "annoyed",
    "confused",
    "anxious",
    "impatient",
    "neutral",
    "relieved",
    "satisfied",
    "pleased",
    "delighted",
    "angry",
    "grateful",
];
const JOBS: &[&str] = &[
    "quick-pickup",
    "best-price",
    "know-when-it-arrives",
    "easy-return",
    "earn-points",
];
const CODES: &[&str] = &[
    "wait-time",
    "staff-help",
    "signage",
    "scanner-error",
    "onstage",
    "backstage",
];
const KINDS: &[&str] = &[
    "interview",
    "observation",
    "mystery-shop",
    "focus-group",
    "diary",
];

struct Corpus {
    vocab: Vec<String>,
    /// Cumulative Zipf weights over `vocab`.
    cdf: Vec<f64>,
}

impl Corpus {
    fn new(rng: &mut Rng) -> Corpus {
        let mut vocab: Vec<String> = COMMON.iter().map(|s| s.to_string()).collect();
        while vocab.len() < 30_000 {
            let n = 2 + rng.below(3);
            let word: String = (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect();
            vocab.push(word);
        }
        let mut total = 0.0;
        let cdf = (0..vocab.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 2.7).powf(1.07);
                total
            })
            .collect::<Vec<_>>();
        let last = *cdf.last().unwrap();
        Corpus {
            vocab,
            cdf: cdf.into_iter().map(|c| c / last).collect(),
        }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let u = rng.next() as f64 / u64::MAX as f64;
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .min(self.vocab.len() - 1);
        &self.vocab[i]
    }

    fn note(&self, rng: &mut Rng) -> String {
        let len = 40 + rng.below(81);
        let mut words: Vec<String> = Vec::with_capacity(len + 5);
        for i in 0..len {
            if rng.chance(0.01) {
                words.push(NAMES[rng.below(NAMES.len())].to_owned());
            } else {
                let w = self.word(rng);
                words.push(if i == 0 { capitalise(w) } else { w.to_owned() });
            }
        }
        let mut tag = |facet_sigil: char, list: &[&str], p: f64, rng: &mut Rng| {
            if rng.chance(p) {
                words.push(format!("{facet_sigil}{}", list[rng.below(list.len())]));
            }
        };
        tag('@', PERSONAS, 0.6, rng);
        tag('#', TOUCHPOINTS, 0.8, rng);
        tag('!', EMOTIONS, 0.6, rng);
        tag('+', JOBS, 0.3, rng);
        tag('=', CODES, 0.4, rng);
        words.join(" ")
    }
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Writes `n` notes as JSONL (20 to a session) and, when asked, the same notes as Markdown
/// (one file per session); returns a sample of bodies to draw phrases from.
fn write_archive(n: usize, jsonl_path: &Path, markdown: Option<&Path>) -> Vec<String> {
    let mut rng = Rng(0x5EED_F1E1D);
    let corpus = Corpus::new(&mut rng);
    let mut out = BufWriter::new(std::fs::File::create(jsonl_path).unwrap());
    let mut sample = Vec::new();
    let base_ms: u64 = 1_767_225_600_000; // 2026-01-01
    let mut md = String::new();
    for s in 0..n.div_ceil(20) {
        let kind = KINDS[s % KINDS.len()];
        let session_id =
            ulid::Ulid::from_parts(base_ms + s as u64 * 3_600_000, s as u128 + 1).to_string();
        let started =
            chrono::DateTime::from_timestamp_millis((base_ms + s as u64 * 3_600_000) as i64)
                .unwrap();
        let study = format!("Study {}", s % 7);
        let participant = if kind == "interview" || kind == "diary" {
            format!(r#"[{{"pseudonym":"P{}","consent":true}}]"#, s % 5000)
        } else {
            "[]".into()
        };
        md.clear();
        md.push_str(&format!("# {kind} · {study}\n\n"));
        for i in 0..20 {
            let k = s * 20 + i;
            if k >= n {
                break;
            }
            let body = corpus.note(&mut rng);
            if k % 97 == 0 {
                sample.push(body.clone());
            }
            let at = started + chrono::Duration::seconds(60 * i as i64);
            let id = ulid::Ulid::from_parts(at.timestamp_millis() as u64, (k as u128) << 20 | 7)
                .to_string();
            let kind_note = ["observation", "quote", "interpretation"][rng.below(3)];
            writeln!(
                out,
                r#"{{"id":"{id}","kind":"{kind_note}","body":{},"created_at":"{}","offset_ms":{},"session":{{"id":"{session_id}","study":"{study}","kind":"{kind}","started_at":"{}","participants":{participant}}}}}"#,
                serde_json::to_string(&body).unwrap(),
                at.to_rfc3339(),
                60_000 * i,
                started.to_rfc3339(),
            )
            .unwrap();
            md.push_str(&body);
            md.push_str("\n\n");
        }
        if let Some(dir) = markdown {
            std::fs::write(dir.join(format!("{session_id}.md")), &md).unwrap();
        }
    }
    out.flush().unwrap();
    sample
}

// ---- measuring ----------------------------------------------------------------------------

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts the process's peak memory (VmHWM) again from its present size, so each phase
/// reports its own peak.
fn reset_peak_rss() {
    // Linux: writing 5 to clear_refs resets the peak resident set size.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU time (user and system) this process has used so far, every thread's: on a machine
/// shared with other work, the cost of a step when its wall time is noisy. (Merges still
/// running in the background count where they happen to fall.)
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command's closing parenthesis; utime and stime are the 14th and
            // 15th of the line, in clock ticks (100 a second on Linux).
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// The machine's one-minute load average, printed beside timings taken on a shared machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Every kind of search once per query: each kind's times.
fn search_round(archive: &Archive, cases: &[SearchCase]) -> Vec<(&'static str, Vec<Duration>)> {
    cases
        .iter()
        .map(|c| {
            let times = c
                .queries
                .iter()
                .map(|(q, f)| {
                    let t = Instant::now();
                    archive.search(q, f, 10).unwrap();
                    t.elapsed()
                })
                .collect();
            (c.name, times)
        })
        .collect()
}

/// The peer's ingest, as a tool on SQLite FTS5 would load the same JSONL at its best: every
/// note into a notes table (same fields: id, session, kind, body, times, offset) and its
/// session into a sessions table, in one transaction with the same durability as ours
/// (write-ahead log, `synchronous = FULL`), then the FTS5 index (external content, porter
/// stemming as ours stems) built in one `rebuild`, committed, and the log folded in.
fn fts5_ingest(jsonl: &Path, db: &Path) -> Duration {
    use std::io::BufRead;
    #[derive(serde::Deserialize)]
    struct Line {
        id: String,
        kind: String,
        body: String,
        created_at: String,
        offset_ms: Option<i64>,
        session: SessionLine,
    }
    #[derive(serde::Deserialize)]
    struct SessionLine {
        id: String,
        study: String,
        kind: String,
        started_at: String,
    }
    let t = Instant::now();
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -262144;
         CREATE TABLE sessions (id TEXT PRIMARY KEY, study TEXT NOT NULL, kind TEXT NOT NULL,
           started_at TEXT NOT NULL);
         CREATE TABLE notes (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions (id),
           kind TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL, offset_ms INTEGER);
         CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='rowid',
           tokenize='porter unicode61');",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut session = tx
            .prepare("INSERT OR IGNORE INTO sessions (id, study, kind, started_at) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        let mut note = tx
            .prepare("INSERT INTO notes (id, session_id, kind, body, created_at, updated_at, offset_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)")
            .unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(jsonl).unwrap());
        for line in file.lines() {
            let l: Line = serde_json::from_str(&line.unwrap()).unwrap();
            session
                .execute((
                    &l.session.id,
                    &l.session.study,
                    &l.session.kind,
                    &l.session.started_at,
                ))
                .unwrap();
            note.execute((
                &l.id,
                &l.session.id,
                &l.kind,
                &l.body,
                &l.created_at,
                l.offset_ms,
            ))
            .unwrap();
        }
    }
    tx.execute_batch("INSERT INTO notes_fts(notes_fts) VALUES ('rebuild');")
        .unwrap();
    tx.commit().unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    t.elapsed()
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            };
        }
    }
    total
}

/// One query as fieldnotes (query, filters), FTS5 (MATCH, tag names) and ripgrep (arguments)
/// each express it.
type Expressed = ((String, Filters), (String, Vec<String>), Vec<String>);

/// One kind of search, as fieldnotes, FTS5 and ripgrep each express it.
struct SearchCase {
    name: &'static str,
    queries: Vec<(String, Filters)>,
    fts: Vec<(String, Vec<String>)>,
    rg: Vec<Vec<String>>,
}

/// Every kind of search the benchmark times, `repeats` of each; phrases are taken from
/// `sample` (note bodies).
fn search_cases(sample: &[String], repeats: usize) -> Vec<SearchCase> {
    let mut rng = Rng(42);
    let corpus = Corpus::new(&mut Rng(0x5EED_F1E1D));
    let pick = |rng: &mut Rng, lo: usize, hi: usize| {
        corpus.vocab[COMMON.len() + lo + rng.below(hi - lo)].clone()
    };
    let tp = |rng: &mut Rng| TOUCHPOINTS[rng.below(TOUCHPOINTS.len())];
    let mut cases: Vec<SearchCase> = Vec::new();
    let mut case = |name: &'static str, make: &mut dyn FnMut(&mut Rng) -> Expressed| {
        let mut c = SearchCase {
            name,
            queries: vec![],
            fts: vec![],
            rg: vec![],
        };
        for _ in 0..repeats {
            let (q, f, r) = make(&mut rng);
            c.queries.push(q);
            c.fts.push(f);
            c.rg.push(r);
        }
        cases.push(c);
    };
    let tag_filter = |t: &str| Filters {
        tags: vec![Tag::new(Facet::Touchpoint, t).unwrap()],
        ..Filters::default()
    };
    case("rare term", &mut |rng| {
        let w = pick(rng, 8_000, 25_000);
        (
            (w.clone(), Filters::default()),
            (w.clone(), vec![]),
            vec!["-w".into(), w],
        )
    });
    case("common term", &mut |rng| {
        let w =
            ["queue", "staff", "customer", "waited", "store", "delivery"][rng.below(6)].to_owned();
        (
            (w.clone(), Filters::default()),
            (w.clone(), vec![]),
            vec!["-w".into(), w],
        )
    });
    case("two-term AND", &mut |rng| {
        let (a, b) = (pick(rng, 0, 300), pick(rng, 0, 300));
        (
            (format!("{a} {b}"), Filters::default()),
            (format!("{a} AND {b}"), vec![]),
            vec!["-w".into(), a, "--and".into(), b],
        )
    });
    case("phrase", &mut |rng| {
        let body = &sample[rng.below(sample.len())];
        let words: Vec<&str> = body
            .split_whitespace()
            .filter(|w| !w.starts_with(['@', '#', '!', '+', '=']))
            .collect();
        let i = rng.below(words.len() - 1);
        let p = format!(
            "{} {}",
            words[i].to_lowercase(),
            words[i + 1].to_lowercase()
        );
        (
            (format!("\"{p}\""), Filters::default()),
            (format!("\"{p}\""), vec![]),
            vec!["-F".into(), p],
        )
    });
    case("prefix", &mut |rng| {
        let w = pick(rng, 0, 2_000);
        let p: String = w.chars().take(4).collect();
        (
            (format!("{p}*"), Filters::default()),
            (format!("{p}*"), vec![]),
            vec![format!(r"\b{p}\w*")],
        )
    });
    case("tag filter only", &mut |rng| {
        let t = tp(rng);
        (
            (String::new(), tag_filter(t)),
            (String::new(), vec![t.to_owned()]),
            vec!["-F".into(), format!("#{t}")],
        )
    });
    case("term + tag filter", &mut |rng| {
        let w = pick(rng, 0, 1_000);
        let t = tp(rng);
        (
            (w.clone(), tag_filter(t)),
            (w.clone(), vec![t.to_owned()]),
            vec!["-w".into(), w, "--and".into(), format!("#{t}")],
        )
    });
    case("sigil query", &mut |rng| {
        let p = PERSONAS[rng.below(PERSONAS.len())];
        let t = tp(rng);
        let w = ["queue", "staff", "waited", "price"][rng.below(4)];
        (
            (format!("@{p} #{t} {w}"), Filters::default()),
            (w.to_owned(), vec![t.to_owned(), p.to_owned()]),
            vec![
                "-w".into(),
                w.to_owned(),
                "--and".into(),
                format!("@{p}"),
                "--and".into(),
                format!("#{t}"),
            ],
        )
    });

    cases
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--search-memory") {
        search_memory(Path::new(&args[i + 1]));
        return;
    }
    // For profiling one measurement again on an archive kept with `--keep DIR`.
    if let Some(i) = args.iter().position(|a| a == "--typing") {
        print_typing(Path::new(&args[i + 1]));
        return;
    }
    // --measure DIR: the settled searches, captures and the app's opening again on an
    // archive kept with `--keep DIR` (a quiet re-run of a 10,000,000-note archive's figures
    // without importing it again).
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure_kept(Path::new(&args[i + 1]));
        return;
    }
    // --query DIR QUERY [#touchpoint]: one search timed by its parts, for profiling a tail.
    if let Some(i) = args.iter().position(|a| a == "--query") {
        profile_query(Path::new(&args[i + 1]), &args[i + 2], args.get(i + 3));
        return;
    }
    // --tantivy-alone DIR: tantivy by itself over a kept archive's note bodies, held in
    // memory: how fast its indexing goes on this machine, with no SQLite and no analysis of
    // ours, beside `reindex`.
    if let Some(i) = args.iter().position(|a| a == "--tantivy-alone") {
        tantivy_alone(Path::new(&args[i + 1]));
        return;
    }
    // --open DIR: the app's opening alone, three times, on a kept archive.
    if let Some(i) = args.iter().position(|a| a == "--open") {
        for _ in 0..3 {
            print_open(&open_app(Path::new(&args[i + 1])));
        }
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--report") {
        let archive = Archive::open(Path::new(&args[i + 1])).unwrap();
        print_report(&archive);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--during-themes") {
        let mut archive = Archive::open(Path::new(&args[i + 1])).unwrap();
        let session = archive.store().sessions(None).unwrap()[0].id.clone();
        capture_during_themes(&mut archive, &session, 100).print();
        return;
    }
    // --scale N: any number of notes (10,000,000 for an organisation's repository).
    let scale = args
        .iter()
        .position(|a| a == "--scale")
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.replace([',', '_'], "")
                .parse::<usize>()
                .expect("--scale N: a number of notes")
        });
    let n: usize = if let Some(n) = scale {
        n
    } else if args.iter().any(|a| a == "--quick") {
        10_000
    } else if args.iter().any(|a| a == "--million") {
        1_000_000
    } else {
        100_000
    };
    // --no-extras: import, searches, reindex, capture and the app only (no CSV import, report,
    // themes or encrypted archive), for a quicker look at large scales.
    let extras = !args.iter().any(|a| a == "--no-extras");
    let repeats = if n <= 10_000 { 20 } else { 100 };
    let tmp = tempfile::tempdir().unwrap();
    // --keep DIR: build the archive in DIR and leave it there (for --typing, --during-themes).
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .map(|i| std::path::PathBuf::from(&args[i + 1]));
    let dir = keep.unwrap_or_else(|| tmp.path().join("archive"));
    let jsonl_path = tmp.path().join("notes.jsonl");
    // --no-peers: only our own figures, for a quicker look while profiling.
    let peers = !args.iter().any(|a| a == "--no-peers");
    // --no-ripgrep: FTS5 without ripgrep (writing a million Markdown files is most of a
    // million-note run's time, and the ingest ratio needs only FTS5).
    let have_rg = peers
        && !args
            .iter()
            .any(|a| a == "--import-only" || a == "--no-ripgrep")
        && Command::new("rg")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    let md_dir = tmp.path().join("markdown");
    std::fs::create_dir_all(&md_dir).unwrap();

    println!(
        "fieldnotes benchmark: {n} notes ({} cores)",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    let t = Instant::now();
    let sample = write_archive(n, &jsonl_path, have_rg.then_some(md_dir.as_path()));
    println!("generated in {:.1} s\n", t.elapsed().as_secs_f64());

    let cases = search_cases(&sample, repeats);

    // Bulk import through the real JSONL path, as `fieldnotes import` runs it: durable in
    // SQLite and committed to the index.
    reset_peak_rss();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let mut archive = Archive::open(&dir).unwrap();
    let file = std::io::BufReader::new(std::fs::File::open(&jsonl_path).unwrap());
    let counts = archive
        .import(|sink| jsonl::import("notes.jsonl", file, sink), |_| {})
        .unwrap();
    let import = t.elapsed();
    assert_eq!(counts.added as usize, n);
    let import_rate = n as f64 / import.as_secs_f64();
    println!(
        "{:<44} {:>12.0} notes/s  ({:.1} s, CPU {:.1} s; {:.1} MB peak; load average {}; {} index segments)",
        "bulk import (JSONL, durable + indexed)",
        import_rate,
        import.as_secs_f64(),
        cpu_seconds() - cpu,
        peak_rss_mb(),
        load_average(),
        archive.index().segment_count()
    );
    if args.iter().any(|a| a == "--import-only") {
        // For profiling the import alone.
        return;
    }

    // Every kind of search right after the import, while the index may still be merging the
    // import's segments in the background (what a researcher who imports and then searches
    // meets), then again once the merges are done.
    // The app keeps tag bitsets for counting many matches (made when it opens): so do these.
    archive.index().keep_bitsets();
    let after_import = search_round(&archive, &cases);
    let t = Instant::now();
    archive.settle_index().unwrap();
    println!(
        "{:<44} {:>12.1} s   ({} index segments)",
        "(index merges finished after)",
        t.elapsed().as_secs_f64(),
        archive.index().segment_count()
    );
    let settled = search_round(&archive, &cases);
    println!(
        "\n{:<20} {:>10} {:>10} {:>10} {:>10}   (right after the import: merges running; settled: merges done)",
        "search (top 10)", "after p50", "after p99", "settled p50", "settled p99"
    );
    for ((name, mut after), (_, mut done)) in after_import.into_iter().zip(settled) {
        println!(
            "{name:<20} {:>10} {:>10} {:>10} {:>10}",
            ms(percentile(&mut after, 0.5)),
            ms(percentile(&mut after, 0.99)),
            ms(percentile(&mut done, 0.5)),
            ms(percentile(&mut done, 0.99))
        );
    }

    // `fieldnotes reindex`: the index thrown away and built again from SQLite.
    reset_peak_rss();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let reindexed = archive.reindex(|_| {}).unwrap();
    let took = t.elapsed();
    assert_eq!(reindexed as usize, n);
    println!(
        "\n{:<44} {:>12.0} notes/s  ({:.1} s, CPU {:.1} s; {:.1} MB peak; load average {})",
        "reindex (SQLite to a new index, committed)",
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64(),
        cpu_seconds() - cpu,
        peak_rss_mb(),
        load_average()
    );
    archive.settle_index().unwrap();

    // The peer's ingest of the same notes: a notes table with an FTS5 index.
    if peers {
        let fts = fts5_ingest(&jsonl_path, &tmp.path().join("fts5-ingest.db"));
        let fts_rate = n as f64 / fts.as_secs_f64();
        println!(
            "{:<44} {:>12.0} notes/s  ({:.1} s; ours/FTS5 {:.2}x; load average {})",
            "FTS5 ingest (same notes, one transaction)",
            fts_rate,
            fts.as_secs_f64(),
            import_rate / fts_rate,
            load_average()
        );
    }

    if extras {
        // A CSV of the same notes through the library's one import door (`io::ImportFile`, as
        // `fieldnotes import notes.csv` runs it), into an archive of its own.
        let csv_path = tmp.path().join("notes.csv");
        archive
            .export_file(
                &csv_path,
                fieldnotes::io::Format::Csv,
                fieldnotes::io::ExportOptions::default(),
            )
            .unwrap();
        let t = Instant::now();
        let mut csv_archive = Archive::open(&tmp.path().join("csv-archive")).unwrap();
        let input = fieldnotes::io::open_input(&csv_path).unwrap();
        let file = fieldnotes::io::ImportFile::new(
            &csv_path,
            fieldnotes::io::Format::Csv,
            fieldnotes::io::ImportOptions::new(
                "Bench",
                fieldnotes::model::SessionKind::Interview,
                NoteKind::Observation,
            ),
            input,
        )
        .unwrap();
        let counts = csv_archive.import_file(file, |_| {}).unwrap();
        let csv_import = t.elapsed();
        assert_eq!(counts.added as usize, n);
        println!(
            "{:<44} {:>12.0} rows/s   ({:.1} s)",
            format!("bulk import ({n}-row CSV, durable + indexed)"),
            n as f64 / csv_import.as_secs_f64(),
            csv_import.as_secs_f64(),
        );
        drop(csv_archive);
    }

    // Fold the write-ahead log into the file first, or its pages would count twice.
    rusqlite::Connection::open(dir.join("fieldnotes.db"))
        .unwrap()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let db_bytes = std::fs::metadata(dir.join("fieldnotes.db")).map_or(0, |m| m.len());
    let index_bytes = dir_size(&dir.join("index"));
    // The findings report over every note, as `fieldnotes report -o findings.html` writes it.
    if extras {
        print_report(&archive);
    }

    // Single-note capture as the app does it.
    let session = archive.store().sessions(None).unwrap()[0].id.clone();
    print_captures(&mut archive, &session, repeats);

    // Capture while the themes run over every note on the analysis lane, as in the app.
    if extras {
        let during = capture_during_themes(&mut archive, &session, repeats);
        during.print();
    }

    // FTS5 over the same notes, in the same SQLite build.
    let t = Instant::now();
    let conn = rusqlite::Connection::open(dir.join("fieldnotes.db")).unwrap();
    if peers {
        conn.execute_batch(
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='rowid', tokenize='porter unicode61');
         INSERT INTO notes_fts(notes_fts) VALUES ('rebuild');",
    )
    .unwrap();
    }
    println!(
        "{:<44} {:>12.1} s",
        "(FTS5 index built in)",
        t.elapsed().as_secs_f64()
    );

    println!(
        "\n{:<20} {:>10} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>9}",
        "search (top 10)",
        "ours p50",
        "ours p99",
        "FTS5 p50",
        "FTS5 p99",
        "FTS5/ours",
        "rg p50",
        "rg p99",
        "rg/ours"
    );
    let mut totals: HashMap<&str, usize> = HashMap::new();
    for c in &cases {
        let mut ours = Vec::new();
        for (q, f) in &c.queries {
            let t = Instant::now();
            let r = archive.search(q, f, 10).unwrap();
            ours.push(t.elapsed());
            *totals.entry(c.name).or_default() += r.total;
        }
        let mut fts = Vec::new();
        // Past 100,000 notes FTS5 takes seconds a query: 20 of each kind, as for ripgrep.
        let fts_queries = if n > 100_000 { 20 } else { c.fts.len() };
        for (q, tags) in c.fts.iter().filter(|_| peers).take(fts_queries) {
            let t = Instant::now();
            fts5_search(&conn, q, tags);
            fts.push(t.elapsed());
        }
        let mut rg = Vec::new();
        if have_rg {
            for args in c.rg.iter().take(20) {
                let t = Instant::now();
                rg_search(&md_dir, args);
                rg.push(t.elapsed());
            }
        }
        let (o50, o99) = (percentile(&mut ours, 0.5), percentile(&mut ours, 0.99));
        if fts.is_empty() {
            fts.push(Duration::ZERO);
        }
        let (f50, f99) = (percentile(&mut fts, 0.5), percentile(&mut fts, 0.99));
        let rg_cols = if rg.is_empty() {
            format!("{:>10} {:>10} {:>9}", "-", "-", "-")
        } else {
            let (r50, r99) = (percentile(&mut rg, 0.5), percentile(&mut rg, 0.99));
            format!(
                "{:>10} {:>10} {:>8.1}x",
                ms(r50),
                ms(r99),
                r99.as_secs_f64() / o99.as_secs_f64()
            )
        };
        println!(
            "{:<20} {:>10} {:>10} {:>10} {:>10} {:>8.1}x {rg_cols}",
            c.name,
            ms(o50),
            ms(o99),
            ms(f50),
            ms(f99),
            f99.as_secs_f64() / o99.as_secs_f64()
        );
    }
    println!(
        "(times in ms; ratios at p99; every search returns its top 10 with snippets and the tag counts of all its hits)"
    );
    if extras {
        encrypted_beside_plain(
            &tmp.path().join("encrypted"),
            &jsonl_path,
            n,
            &cases,
            repeats,
        );
    }

    // A fresh process that only opens the archive and searches, as the app does.
    let child = Command::new(std::env::current_exe().unwrap())
        .arg("--search-memory")
        .arg(&dir)
        .output()
        .unwrap();
    println!(
        "peak memory of a process that opens the archive and runs every search above, with the bitsets the app keeps: {} MB",
        String::from_utf8_lossy(&child.stdout).trim()
    );
    if !have_rg && !args.iter().any(|a| a == "--no-ripgrep") {
        println!("ripgrep: not installed, skipped (apt-get install ripgrep)");
    }

    // Opening the app: the first frame, and the first frame with the sessions listed.
    drop(conn);
    drop(archive);
    println!();
    print_open(&open_app(&dir));
    print_typing(&dir);

    let size = db_bytes + index_bytes;
    println!(
        "\narchive on disk after the import: {:.1} MB ({:.0} bytes per note; database {:.1} MB, index {:.1} MB)",
        size as f64 / 1e6,
        size as f64 / n as f64,
        db_bytes as f64 / 1e6,
        index_bytes as f64 / 1e6
    );
    println!("peak memory of the whole run: {:.1} MB", peak_rss_mb());
}

/// Times `repeats` single-note captures as the app makes them and prints their tails.
fn print_captures(archive: &mut Archive, session: &str, repeats: usize) {
    let (mut durable, mut searchable) = captures(archive, session, repeats);
    for (what, times) in [
        ("capture: until durable", &mut durable),
        ("capture: until searchable", &mut searchable),
    ] {
        println!(
            "{what:<44} p50 {:>7} ms  p99 {:>7} ms",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.99))
        );
    }
}

/// The figures of an archive kept by an earlier run: its searches once the index has
/// settled, capture, and the app's first frame and session list.
/// One search, 30 times on a kept archive: the top notes found, then every match and its tags
/// counted, then the whole search as the app runs it (median and slowest of each).
fn profile_query(dir: &Path, query: &str, touchpoint: Option<&String>) {
    let mut archive = Archive::open(dir).unwrap();
    archive.settle_index().unwrap();
    archive.index().keep_bitsets();
    let filters = Filters {
        tags: touchpoint
            .map(|t| vec![Tag::new(Facet::Touchpoint, t.trim_start_matches('#')).unwrap()])
            .unwrap_or_default(),
        ..Filters::default()
    };
    let parsed = fieldnotes::query::Query::parse(query).unwrap();
    // The app's search view asks for 50.
    let limit = std::env::var("FIELDNOTES_BENCH_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (mut top, mut counts, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let mut total = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let (_, _, counting) = archive
            .index()
            .search_top(&parsed, &filters, limit)
            .unwrap();
        top.push(t.elapsed());
        total = counting.wait().unwrap().0;
        counts.push(t.elapsed());
        let t = Instant::now();
        archive.search(query, &filters, limit).unwrap();
        whole.push(t.elapsed());
    }
    println!("{query} {:?}: {total} matches", filters.tags);
    for (name, mut times) in [("top notes", top), ("+ counted", counts), ("search", whole)] {
        println!(
            "  {name:<12} p50 {:>8} ms  max {:>8} ms",
            ms(percentile(&mut times, 0.5)),
            ms(percentile(&mut times, 1.0))
        );
    }
}

fn measure_kept(dir: &Path) {
    let t = Instant::now();
    let mut archive = Archive::open(dir).unwrap();
    println!(
        "{:<44} {:>12.1} s",
        "archive opened (index caught up) in",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    archive.settle_index().unwrap();
    println!(
        "{:<44} {:>12.1} s   ({} index segments)",
        "(index merges finished after)",
        t.elapsed().as_secs_f64(),
        archive.index().segment_count()
    );
    // As the app, which makes them when it opens.
    archive.index().keep_bitsets();
    let n = archive.store().live_note_count().unwrap();
    // The phrases come from the archive's own notes, every 97th as the run that made it.
    let sample: Vec<String> = {
        let conn = rusqlite::Connection::open(dir.join("fieldnotes.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT body FROM notes WHERE rowid = ?1")
            .unwrap();
        (1..=2_000i64)
            .filter_map(|k| stmt.query_row([k * 97], |r| r.get(0)).ok())
            .collect()
    };
    println!(
        "fieldnotes benchmark: {n} notes kept in {}\n",
        dir.display()
    );
    let cases = search_cases(&sample, 100);
    let settled = search_round(&archive, &cases);
    println!(
        "{:<20} {:>10} {:>10}   (settled: merges done)",
        "search (top 10)", "p50", "p99"
    );
    // FIELDNOTES_BENCH_VERBOSE: each kind's three slowest queries, to see where a tail is.
    let verbose = std::env::var_os("FIELDNOTES_BENCH_VERBOSE").is_some();
    for (case, (name, done)) in cases.iter().zip(settled) {
        let mut sorted = done.clone();
        println!(
            "{name:<20} {:>10} {:>10}",
            ms(percentile(&mut sorted, 0.5)),
            ms(percentile(&mut sorted, 0.99))
        );
        if verbose {
            let mut slowest: Vec<(Duration, &(String, Filters))> =
                done.into_iter().zip(&case.queries).collect();
            slowest.sort_by_key(|t| std::cmp::Reverse(t.0));
            for (t, (q, f)) in slowest.into_iter().take(3) {
                println!("    {:>8} ms  {q} {:?}", ms(t), f.tags);
            }
        }
    }
    let session = archive.store().sessions(None).unwrap()[0].id.clone();
    println!();
    print_captures(&mut archive, &session, 100);
    drop(archive);
    println!();
    print_open(&open_app(dir));
    print_typing(dir);
}

/// One line of the encrypted-beside-plain table: p99 of each, their ratio, and the medians.
fn compare(name: &str, plain: &mut [Duration], encrypted: &mut [Duration]) {
    let (a, b) = (percentile(plain, 0.99), percentile(encrypted, 0.99));
    println!(
        "{name:<34} {:>9} ms {:>9} ms {:>9.2}x   (p50 {} / {} ms)",
        ms(a),
        ms(b),
        b.as_secs_f64() / a.as_secs_f64(),
        ms(percentile(plain, 0.5)),
        ms(percentile(encrypted, 0.5))
    );
}

/// `repeats` single-note captures as the app makes them: how long until each is durable
/// (SQLite committed) and until it is searchable (the index committed).
fn captures(
    archive: &mut Archive,
    session: &str,
    repeats: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut durable = Vec::new();
    let mut searchable = Vec::new();
    for i in 0..repeats {
        let t = Instant::now();
        let mut until_durable = Duration::ZERO;
        archive
            .add_note_observed(
                &NewNote {
                    session: session.to_owned(),
                    kind: NoteKind::Observation,
                    body: format!("captured note number {i} about the queue #checkout !annoyed"),
                    extra_tags: vec![],
                    clears_draft: true,
                },
                |_| until_durable = t.elapsed(),
            )
            .unwrap();
        durable.push(until_durable);
        searchable.push(t.elapsed());
        // Between two notes the app is idle, and folds the write-ahead log then.
        archive.checkpoint().unwrap();
    }
    (durable, searchable)
}

/// An encrypted archive of the same notes beside a plain one made the same way (SQLCipher
/// database, index through the encrypting directory): import rate, capture and search at p99,
/// each with its ratio to the plain archive's, measured in the same run and interleaved.
fn encrypted_beside_plain(
    dir: &Path,
    jsonl_path: &Path,
    n: usize,
    cases: &[SearchCase],
    repeats: usize,
) {
    use fieldnotes::crypt::{self, KeyFile, Passphrase};
    let pass = Passphrase::new("a bench passphrase".into()).unwrap();
    let t = Instant::now();
    let (key_file, _) = KeyFile::create(&pass).unwrap();
    let argon = t.elapsed();
    let t = Instant::now();
    key_file.unlock(dir, &pass).unwrap();
    let unlock = t.elapsed();

    // The plain import again beside the encrypted one, each twice in turn (the faster of the
    // two counts), so both see the same moments of the machine's load.
    let import = |archive: &mut Archive| {
        let file = std::io::BufReader::new(std::fs::File::open(jsonl_path).unwrap());
        let t = Instant::now();
        let counts = archive
            .import(|sink| jsonl::import("notes.jsonl", file, sink), |_| {})
            .unwrap();
        assert_eq!(counts.added as usize, n);
        t.elapsed()
    };
    let mut plain = Archive::open(&dir.with_file_name("plain-again")).unwrap();
    let mut plain_import = import(&mut plain);
    let mut encrypted = Archive::create_encrypted(dir, &pass).unwrap();
    let mut encrypted_import = import(&mut encrypted);
    drop(encrypted);
    let again = dir.with_file_name("import-again");
    plain_import = plain_import.min(import(&mut Archive::open(&again).unwrap()));
    std::fs::remove_dir_all(&again).unwrap();
    encrypted_import = encrypted_import.min(import(
        &mut Archive::create_encrypted(&again, &pass).unwrap(),
    ));
    std::fs::remove_dir_all(&again).unwrap();
    let key = crypt::unlock(dir, &pass).unwrap();
    let t = Instant::now();
    let mut encrypted = Archive::open_unlocked(dir, key.as_ref(), |_| {}).unwrap();
    let open = t.elapsed();

    let plain_session = plain.store().sessions(None).unwrap()[0].id.clone();
    let session = encrypted.store().sessions(None).unwrap()[0].id.clone();
    // One capture on each in turn, so both see the same moments of the machine's load, three
    // times as many as above: a p99 that is not one sample of a shared machine's hiccups.
    let (mut plain_durable, mut plain_searchable) = (Vec::new(), Vec::new());
    let (mut durable, mut searchable) = (Vec::new(), Vec::new());
    for _ in 0..3 * repeats {
        let (d, s) = captures(&mut plain, &plain_session, 1);
        plain_durable.extend(d);
        plain_searchable.extend(s);
        let (d, s) = captures(&mut encrypted, &session, 1);
        durable.extend(d);
        searchable.extend(s);
    }
    // Each kind of search on both archives in turn: (kind, plain times, encrypted times).
    let mut kinds = Vec::new();
    for c in cases {
        let (mut plain_times, mut times) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            for (q, f) in &c.queries {
                for (archive, times) in [(&plain, &mut plain_times), (&encrypted, &mut times)] {
                    let t = Instant::now();
                    archive.search(q, f, 10).unwrap();
                    times.push(t.elapsed());
                }
            }
        }
        kinds.push((c.name, plain_times, times));
    }
    let mut plain_search: Vec<Duration> = kinds.iter().flat_map(|k| k.1.clone()).collect();
    let mut search: Vec<Duration> = kinds.iter().flat_map(|k| k.2.clone()).collect();
    let (plain_rate, rate) = (
        n as f64 / plain_import.as_secs_f64(),
        n as f64 / encrypted_import.as_secs_f64(),
    );
    println!(
        "\nencrypted archive beside a plain one ({n} notes each; ratio: encrypted time / plain time, target within 2x)"
    );
    println!(
        "{:<34} {:>12} {:>12} {:>10}",
        "", "plain", "encrypted", "ratio"
    );
    println!(
        "{:<34} {:>10.0}/s {:>10.0}/s {:>9.2}x",
        "import rate (JSONL)",
        plain_rate,
        rate,
        plain_rate / rate
    );
    for (name, plain_times, times) in [
        (
            "capture p99: until durable",
            &mut plain_durable,
            &mut durable,
        ),
        (
            "capture p99: until searchable",
            &mut plain_searchable,
            &mut searchable,
        ),
        (
            "search p99 (every kind above)",
            &mut plain_search,
            &mut search,
        ),
    ] {
        compare(name, plain_times, times);
    }
    for (name, plain_times, times) in &mut kinds {
        compare(&format!("  {name}"), plain_times, times);
    }
    println!(
        "(passphrase to key, Argon2id {} MiB x {} passes: {} ms to create, {} ms to unlock; opening the encrypted archive: {} ms)",
        crypt::KDF_MEMORY_KIB / 1024,
        crypt::KDF_PASSES,
        ms(argon),
        ms(unlock),
        ms(open)
    );
}

/// Times the HTML report over every note (read, analyse, render, write) and prints its size.
fn print_report(archive: &Archive) {
    use fieldnotes::report::{self, Privacy, ReportFormat, ReportRequest, Selection};
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("findings.html");
    let t = Instant::now();
    let request = |query: &str| ReportRequest {
        selection: Selection::Search {
            query: query.to_owned(),
            filters: Filters::default(),
        },
        title: None,
        privacy: Privacy::Pseudonyms,
        every_note: false,
        mask_names: Vec::new(),
    };
    // Past the analysis limit, the report of one word's notes (as for the themes).
    let data = match report::read(archive, &request("")) {
        Err(fieldnotes::Error::TooManyToAnalyse { notes, .. }) => {
            println!("(report: {notes} notes are past the analysis limit: the notes of \"queue\")");
            report::read(archive, &request("queue")).unwrap()
        }
        read => read.unwrap(),
    };
    let page = ReportFormat::Html.render(&data);
    fieldnotes::io::write_atomically(&path, |w| {
        w.write_all(page.as_bytes())
            .map_err(|e| fieldnotes::Error::io("cannot write the report", e))
    })
    .unwrap();
    let took = t.elapsed();
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    println!(
        "{:<44} {:>8.2} s   ({} notes, file {:.0} KB; load average {load})",
        "report: HTML over every note",
        took.as_secs_f64(),
        data.figures.notes,
        page.len() as f64 / 1024.0,
    );
    assert!(
        page.len() < 2_000_000,
        "the report's file must stay under 2 MB"
    );
}

/// Opens the archive, runs searches of every kind, prints the process's peak memory in MB.
fn search_memory(dir: &Path) {
    let archive = Archive::open(dir).unwrap();
    // As the app searches: with the tag and word bitsets it keeps.
    archive.index().keep_bitsets();
    let tag = |t: &str| Filters {
        tags: vec![Tag::new(Facet::Touchpoint, t).unwrap()],
        ..Filters::default()
    };
    for (q, f) in [
        ("queue", Filters::default()),
        ("staff", Filters::default()),
        ("customer waited", Filters::default()),
        ("\"the queue\"", Filters::default()),
        ("wai*", Filters::default()),
        ("", tag("checkout")),
        ("queue", tag("delivery")),
        ("@student #checkout staff", Filters::default()),
    ] {
        for _ in 0..5 {
            archive.search(q, &f, 10).unwrap();
        }
    }
    println!("{:.1}", peak_rss_mb());
}

fn fts5_search(conn: &rusqlite::Connection, q: &str, tags: &[String]) -> usize {
    // Tags live in note_tags, as in the archive; FTS5 only knows the text.
    let tag_join: String = tags
        .iter()
        .enumerate()
        .map(|(i, _)| format!(" JOIN note_tags nt{i} ON nt{i}.note_id = n.id JOIN tags t{i} ON t{i}.id = nt{i}.tag_id AND t{i}.name = ?{}", i + 2))
        .collect();
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::new();
    let (top_sql, count_sql) = if q.is_empty() {
        (
            format!(
                "SELECT n.id, n.body FROM notes n{} WHERE ?1 IS NULL ORDER BY n.created_at DESC LIMIT 10",
                tag_join
            ),
            format!("SELECT count(*) FROM notes n{} WHERE ?1 IS NULL", tag_join),
        )
    } else {
        (
            format!(
                "SELECT n.id, snippet(notes_fts, 0, '**', '**', '…', 12) FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid{} WHERE notes_fts MATCH ?1 ORDER BY bm25(notes_fts) LIMIT 10",
                tag_join
            ),
            format!(
                "SELECT count(*) FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid{} WHERE notes_fts MATCH ?1",
                tag_join
            ),
        )
    };
    let null: Option<String> = None;
    if q.is_empty() {
        params.push(&null);
    } else {
        params.push(&q);
    }
    for t in tags {
        params.push(t);
    }
    let mut stmt = conn.prepare_cached(&top_sql).unwrap();
    let hits = stmt
        .query_map(params.as_slice(), |r| r.get::<_, String>(0))
        .unwrap()
        .count();
    let total: i64 = conn
        .prepare_cached(&count_sql)
        .unwrap()
        .query_row(params.as_slice(), |r| r.get(0))
        .unwrap();
    hits + total as usize
}

fn rg_search(dir: &Path, args: &[String]) {
    // `--and` splits the patterns: each later one filters the files the earlier matched.
    let groups: Vec<&[String]> = args.split(|a| a == "--and").collect();
    let mut files: Option<Vec<String>> = None;
    for g in groups {
        let mut cmd = Command::new("rg");
        cmd.args(["-i", "-l"]).args(g);
        match &files {
            None => {
                cmd.arg(dir);
            }
            Some(list) if list.is_empty() => return,
            Some(list) => {
                cmd.args(list.iter().take(5_000));
            }
        }
        let out = cmd.output().unwrap();
        files = Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect(),
        );
    }
    // Then the matches themselves, as a note tool would show them.
    if let Some(list) = files
        && !list.is_empty()
    {
        let _ = Command::new("rg")
            .args(["-i", "-m", "10"])
            .args(args.split(|a| a == "--and").next().unwrap())
            .args(list.iter().take(10))
            .output();
    }
}

/// Tantivy's own indexing of the bodies of the archive in `dir` (read into memory first), in
/// three settings: its English stemming analyser with positions (what the body field needs
/// for phrases), its default analyser (no stemming) with positions, and its default analyser
/// without positions. Two indexing threads sharing 128 MB and no merges, as a bulk load of
/// ours; each ends with a commit. Then `reindex` of the same archive for comparison.
fn tantivy_alone(dir: &Path) {
    use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
    let conn = rusqlite::Connection::open(dir.join("fieldnotes.db")).unwrap();
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM notes WHERE deleted_at IS NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    let words: usize = bodies.iter().map(|b| b.split_whitespace().count()).sum();
    let bytes: usize = bodies.iter().map(String::len).sum();
    println!(
        "{} notes, {:.0} words and {:.0} bytes a note; load {}",
        bodies.len(),
        words as f64 / bodies.len() as f64,
        bytes as f64 / bodies.len() as f64,
        load_average()
    );
    for (name, tokenizer, record) in [
        (
            "tantivy alone: en_stem, positions",
            "en_stem",
            IndexRecordOption::WithFreqsAndPositions,
        ),
        (
            "tantivy alone: default, positions",
            "default",
            IndexRecordOption::WithFreqsAndPositions,
        ),
        (
            "tantivy alone: default, no positions",
            "default",
            IndexRecordOption::WithFreqs,
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = Schema::builder();
        let body = b.add_text_field(
            "body",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(record),
            ),
        );
        let index = tantivy::Index::create_in_dir(tmp.path(), b.build()).unwrap();
        let cpu = cpu_seconds();
        let t = Instant::now();
        let mut writer: tantivy::IndexWriter = index
            .writer_with_options(
                tantivy::indexer::IndexWriterOptions::builder()
                    .num_worker_threads(2)
                    .memory_budget_per_thread(64 * 1024 * 1024)
                    .num_merge_threads(1)
                    .build(),
            )
            .unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for text in &bodies {
            let mut doc = tantivy::TantivyDocument::default();
            doc.add_text(body, text);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        writer.wait_merging_threads().unwrap();
        let took = t.elapsed();
        println!(
            "{:<44} {:>8.0} notes/s ({:.1} s, {:.1} s CPU)",
            name,
            bodies.len() as f64 / took.as_secs_f64(),
            took.as_secs_f64(),
            cpu_seconds() - cpu
        );
    }
    let mut archive = Archive::open(dir).unwrap();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let n = archive.reindex(|_| {}).unwrap();
    let took = t.elapsed();
    println!(
        "{:<44} {:>8.0} notes/s ({:.1} s, {:.1} s CPU)",
        "reindex (SQLite to a new index, committed)",
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64(),
        cpu_seconds() - cpu
    );
}

/// How long the app takes to open an archive, from its start.
struct AppOpen {
    /// The first frame, drawn before anything is read.
    first_frame: Duration,
    /// Until the session list is drawn (read before the search index opens).
    listed: Duration,
    /// Until everything is open (the index too) and the answers to the app's first requests
    /// are drawn.
    open: Duration,
}

fn open_app(dir: &Path) -> AppOpen {
    use fieldnotes::tui::{
        app::App,
        theme::Palette,
        ui,
        worker::{Request, Worker},
    };
    use ratatui::{Terminal, backend::TestBackend};
    let t = Instant::now();
    let mut app = App::new(Palette::coloured());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| ui::render(f, &mut app)).unwrap();
    let first_frame = t.elapsed();
    let mut listed = None;
    let mut queue: Vec<Request> = Vec::new();
    let (mut worker, opened) = Worker::open_listing(dir, None, |early| {
        queue = app.handle_response(early);
        terminal.draw(|f| ui::render(f, &mut app)).unwrap();
        listed = Some(t.elapsed());
    })
    .unwrap();
    queue.extend(app.handle_response(opened));
    while let Some(r) = queue.pop() {
        for resp in worker.handle(r) {
            queue.extend(app.handle_response(resp));
        }
    }
    terminal.draw(|f| ui::render(f, &mut app)).unwrap();
    let open = t.elapsed();
    AppOpen {
        first_frame,
        listed: listed.expect("the sessions are listed before the archive is open"),
        open,
    }
}

fn print_open(open: &AppOpen) {
    println!(
        "{:<44} {:>8} ms",
        "app: first frame (before the archive opens)",
        ms(open.first_frame)
    );
    println!(
        "{:<44} {:>8} ms",
        "app: sessions drawn (before the index opens)",
        ms(open.listed)
    );
    println!(
        "{:<44} {:>8} ms",
        "app: archive open + sessions drawn",
        ms(open.open)
    );
}

/// Key to results as the app serves them: on the search lane, a reader worker beside the
/// capture worker that holds the index writer.
/// Types four queries a key at a time as the app searches them; prints each key's time from
/// the key to the results drawn (the hits come before the counts) and to the counts.
fn print_typing(dir: &Path) {
    let (mut shown, mut counted) = search_as_you_type(dir);
    println!(
        "{:<44} p50 {:>7} ms  p99 {:>7} ms",
        "app: search-as-you-type, key to results",
        ms(percentile(&mut shown, 0.5)),
        ms(percentile(&mut shown, 0.99))
    );
    println!(
        "{:<44} p50 {:>7} ms  p99 {:>7} ms",
        "app: search-as-you-type, key to tag counts",
        ms(percentile(&mut counted, 0.5)),
        ms(percentile(&mut counted, 0.99))
    );
}

fn search_as_you_type(dir: &Path) -> (Vec<Duration>, Vec<Duration>) {
    use fieldnotes::tui::worker::{Request, Response, Worker};
    let (capture, _) = Worker::open(dir).unwrap();
    let mut worker = capture.reader().unwrap();
    // Each query with its time, to see where the tail comes from.
    let verbose = std::env::var_os("FIELDNOTES_BENCH_VERBOSE").is_some();
    let mut times = Vec::new();
    let mut counts = Vec::new();
    for phrase in [
        "waiting at the checkout",
        "staff helped",
        "queue #checkout",
        "delivery email",
    ] {
        for end in 1..=phrase.len() {
            let query = fieldnotes::tui::views::search::while_typing(&phrase[..end]);
            let t = Instant::now();
            // Key to results: the hits the app draws first; the counts come after them.
            let mut shown = None;
            let mut responses = Vec::new();
            worker.handle_streaming(
                Request::Search {
                    generation: end as u64,
                    query: query.clone(),
                    filters: Filters::default(),
                    study: None,
                    limit: 50,
                },
                &mut |r| {
                    shown.get_or_insert_with(|| t.elapsed());
                    responses.push(r);
                },
            );
            let counted = t.elapsed();
            let shown = shown.unwrap_or(counted);
            times.push(shown);
            counts.push(counted);
            if verbose {
                let total = match responses.last() {
                    Some(Response::Searched { results, .. }) => results.total,
                    _ => 0,
                };
                println!(
                    "  {:>8} ms  (counted {:>8} ms)  {total:>8} hits  {query}",
                    ms(shown),
                    ms(counted)
                );
            }
            assert!(
                matches!(
                    responses.as_slice(),
                    [
                        Response::Searched { counted: false, .. },
                        Response::Searched { counted: true, .. }
                    ] | [Response::SearchFailed { .. }]
                ),
                "{responses:?}"
            );
        }
    }
    (times, counts)
}

/// Captures timed while the themes run over every note, as the app runs them: the analysis
/// on a reader handle of its own (its own connection) on another thread, the captures on the
/// handle that holds the index writer.
struct DuringThemes {
    /// Captures that overlapped a themes run.
    durable: Vec<Duration>,
    searchable: Vec<Duration>,
    /// Until durable, for the captures that started while the notes were read (SQLite), and
    /// while they were clustered (CPU).
    reading: Vec<Duration>,
    clustering: Vec<Duration>,
    /// Until durable, for as many captures right after the run, with nothing else running.
    after: Vec<Duration>,
    /// Every capture made during the run, overlapping it or not.
    captures: usize,
    /// How long each themes run took.
    runs: Vec<Duration>,
}

impl DuringThemes {
    fn print(mut self) {
        let overlapped = self.durable.len();
        println!(
            "{:<44} p50 {:>7} ms  p99 {:>7} ms",
            "capture during themes: until durable",
            ms(percentile(&mut self.durable, 0.5)),
            ms(percentile(&mut self.durable, 0.99))
        );
        println!(
            "{:<44} p50 {:>7} ms  p99 {:>7} ms",
            "capture during themes: until searchable",
            ms(percentile(&mut self.searchable, 0.5)),
            ms(percentile(&mut self.searchable, 0.99))
        );
        let phase = |name: &str, times: &mut Vec<Duration>| {
            if times.is_empty() {
                format!("{name}: none")
            } else {
                format!(
                    "{name}: p50 {} ms, p99 {} ms ({})",
                    ms(percentile(times, 0.5)),
                    ms(percentile(times, 0.99)),
                    times.len()
                )
            }
        };
        println!(
            "  (until durable {}; {}; {})",
            phase("while the notes are read", &mut self.reading),
            phase("while they are clustered", &mut self.clustering),
            phase("right after, alone", &mut self.after)
        );
        let longest = self.runs.iter().max().copied().unwrap_or_default();
        println!(
            "  ({overlapped} of {} captures overlapped {} themes run(s) over every note, the longest {:.2} s)",
            self.captures,
            self.runs.len(),
            longest.as_secs_f64()
        );
    }
}

/// The themes as the app's analysis lane finds them (the first steps of the worker's
/// `Request::Analyse`): every live note read on the reader's connection, then clustered.
fn themes_run(reader: &Archive, phase: &std::sync::atomic::AtomicU8) -> usize {
    use fieldnotes::analysis;
    use std::sync::atomic::Ordering;
    phase.store(READING, Ordering::SeqCst);
    // Past the analysis limit (an archive of over 1,000,000 notes), the notes of one word,
    // as a researcher narrows them.
    let notes = match reader.analysis_notes("", &Filters::default()) {
        Err(fieldnotes::Error::TooManyToAnalyse { .. }) => {
            reader.analysis_notes("queue", &Filters::default()).unwrap()
        }
        read => read.unwrap(),
    };
    let curation = reader.store().curation().unwrap();
    phase.store(CLUSTERING, Ordering::SeqCst);
    // On the app's analysis pool: one core fewer than the machine has, left to captures.
    let run = || analysis::themes(&notes, &analysis::ThemeSettings::default(), &curation);
    let report = match fieldnotes::tui::worker::analysis_pool() {
        Some(pool) => pool.install(run),
        None => run(),
    };
    phase.store(IDLE, Ordering::SeqCst);
    report.total_notes
}

/// What the themes run is doing: nothing, reading every note from SQLite, or clustering
/// them (on the analysis pool, as the app does).
const IDLE: u8 = 0;
const READING: u8 = 1;
const CLUSTERING: u8 = 2;

fn capture_during_themes(archive: &mut Archive, session: &str, at_least: usize) -> DuringThemes {
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
    // One capture as the app's capture lane makes it: until durable, and until searchable.
    let capture = |archive: &mut Archive, i: usize| {
        let t = Instant::now();
        let mut durable = Duration::ZERO;
        archive
            .add_note_observed(
                &NewNote {
                    session: session.to_owned(),
                    kind: NoteKind::Observation,
                    body: format!(
                        "captured during themes, note {i} about the queue #checkout !annoyed"
                    ),
                    extra_tags: vec![],
                    clears_draft: true,
                },
                |_| durable = t.elapsed(),
            )
            .unwrap();
        (durable, t.elapsed())
    };
    let reader = archive.reader().unwrap();
    let phase = AtomicU8::new(IDLE);
    let running = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    // Notes come a few a second at most in an interview; the gap keeps the captures spread
    // over the whole run, with too little idle time for the app's idle checkpoint.
    let gap = Duration::from_millis(50);
    std::thread::scope(|s| {
        let (running, stop, phase) = (&running, &stop, &phase);
        let themes = s.spawn(move || {
            let mut runs = Vec::new();
            // Runs again until enough captures overlapped (a small archive's run is short).
            while !stop.load(Ordering::SeqCst) {
                running.store(true, Ordering::SeqCst);
                let t = Instant::now();
                assert!(themes_run(&reader, phase) > 0, "the themes read no note");
                runs.push(t.elapsed());
                running.store(false, Ordering::SeqCst);
            }
            runs
        });
        while !running.load(Ordering::SeqCst) && !themes.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut during = DuringThemes {
            durable: Vec::new(),
            searchable: Vec::new(),
            reading: Vec::new(),
            clustering: Vec::new(),
            after: Vec::new(),
            captures: 0,
            runs: Vec::new(),
        };
        // Until enough captures overlapped, then on until the run in flight ends.
        while !themes.is_finished() {
            std::thread::sleep(gap);
            let before = running.load(Ordering::SeqCst);
            let doing = phase.load(Ordering::SeqCst);
            let (durable, searchable) = capture(archive, during.captures);
            during.captures += 1;
            if before || running.load(Ordering::SeqCst) {
                during.durable.push(durable);
                during.searchable.push(searchable);
                match doing {
                    READING => during.reading.push(durable),
                    CLUSTERING => during.clustering.push(durable),
                    _ => {}
                }
            }
            if during.durable.len() >= at_least {
                stop.store(true, Ordering::SeqCst);
            }
        }
        during.runs = themes.join().unwrap();
        // The same again with nothing else running, for a comparison under the machine's
        // load of the moment.
        for i in 0..at_least {
            std::thread::sleep(gap);
            during.after.push(capture(archive, during.captures + i).0);
        }
        // The app folds the log when it is idle again.
        archive.checkpoint().unwrap();
        during
    })
}
