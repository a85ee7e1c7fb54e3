//! Coding analysis at scale: co-occurrence and a code × persona matrix over a million notes
//! (issue 16's goal: both within 2 s).
//!
//!     cargo bench --bench coding              # 1,000,000 notes
//!     cargo bench --bench coding -- --quick   # 100,000 notes (what CI runs)
//!
//! With a fixed seed it makes the rows the store would load: about three codes per note from
//! sixty (a few common, most rare), a fifth of them on passages, one or two personas of eight
//! per note and a participant of 20,000. Each analysis runs three times; the median is shown
//! beside the goal. Generating the rows is not timed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fieldnotes::analysis::agreement::{AgreementSettings, NoteExtent, Units, agreement};
use fieldnotes::analysis::{Coding, MatrixBy, NoteGroups, code_matrix, cooccurrence};

const CODES: usize = 60;
const PERSONAS: usize = 8;
const PARTICIPANTS: usize = 20_000;
const GOAL: Duration = Duration::from_secs(2);

/// splitmix64: a small deterministic random source.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() as f64 / u64::MAX as f64) < p
    }
    /// Skewed towards 0: the smaller of two draws, so low numbers are common.
    fn skewed(&mut self, n: usize) -> usize {
        self.below(n).min(self.below(n))
    }
}

/// The codings and the persona groups of `notes` notes, as the store would load them (rows
/// a note at a time, ids in creation order).
fn archive(notes: usize) -> (Vec<Coding>, Vec<NoteGroups>) {
    let mut rng = Rng(16);
    let codes: Vec<String> = (0..CODES).map(|c| format!("=code-{c:02}")).collect();
    let personas: Vec<String> = (0..PERSONAS).map(|p| format!("@persona-{p}")).collect();
    let mut codings = Vec::with_capacity(notes * 3);
    let mut groups = Vec::with_capacity(notes);
    for n in 0..notes {
        let note = format!("01HZ{n:022}");
        let participant = format!("p-{:05}", rng.below(PARTICIPANTS));
        let coder = if rng.chance(0.5) { "ana" } else { "ben" };
        for _ in 0..1 + rng.below(5) {
            let code = codes[rng.skewed(CODES)].clone();
            let span = rng.chance(0.2).then(|| {
                let start = rng.below(300);
                (start, start + 5 + rng.below(80))
            });
            codings.push(Coding {
                note: note.clone(),
                code,
                span,
                coder: Some(coder.to_owned()),
            });
        }
        let mut of_note = vec![personas[rng.skewed(PERSONAS)].clone()];
        if rng.chance(0.3) {
            of_note.push(personas[rng.below(PERSONAS)].clone());
        }
        groups.push(NoteGroups {
            note,
            groups: of_note,
            participants: vec![participant],
        });
    }
    (codings, groups)
}

/// Run `f` three times; the median wall time.
fn median_of_three<T>(mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[1]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let notes = if quick { 100_000 } else { 1_000_000 };
    let t = Instant::now();
    let (codings, groups) = archive(notes);
    println!(
        "{notes} notes, {} codings ({} codes, {} personas), generated in {:.1} s\n",
        codings.len(),
        CODES,
        PERSONAS,
        t.elapsed().as_secs_f64()
    );

    let report = cooccurrence(&codings);
    let pairs: u64 = report.notes.iter().flatten().map(|&n| u64::from(n)).sum();
    let co = median_of_three(|| cooccurrence(&codings));
    let matrix = code_matrix(MatrixBy::Persona, &codings, &groups);
    let cells: u64 = matrix
        .cells
        .iter()
        .flatten()
        .map(|c| u64::from(c.notes))
        .sum();
    let mx = median_of_three(|| code_matrix(MatrixBy::Persona, &codings, &groups));
    // Not part of the goal; for scale: two coders compared over every note.
    let extents: Vec<NoteExtent> = groups
        .iter()
        .map(|g| NoteExtent {
            note: g.note.clone(),
            chars: 400,
        })
        .collect();
    let settings = AgreementSettings {
        coders: vec!["ana".into(), "ben".into()],
        codes: None,
        units: Units::AllNotes,
    };
    let ag = median_of_three(|| agreement(&codings, &extents, &settings));

    let verdict = |d: Duration| if d <= GOAL { "ok" } else { "OVER" };
    println!("median of 3 runs (goal: each within {} s)", GOAL.as_secs());
    println!(
        "  co-occurrence         {:>9}   {}   ({} codes, {} note-pairs counted)",
        ms(co),
        verdict(co),
        report.codes.len(),
        pairs
    );
    println!(
        "  code x persona matrix {:>9}   {}   ({} x {} cells, {} note-cells)",
        ms(mx),
        verdict(mx),
        matrix.codes.len(),
        matrix.groups.len(),
        cells
    );
    println!(
        "  both together         {:>9}   {}",
        ms(co + mx),
        verdict(co + mx)
    );
    println!("  agreement, 2 coders   {:>9}   (no goal)", ms(ag));
}
