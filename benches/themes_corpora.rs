//! How well the themes recover what people talk about, and how fast they are.
//!
//! `cargo bench --bench themes_corpora [-- --quick] [-- --no-scale] [-- --only-scale N]`
//! `[-- --themes-only]` (our figures alone) `[-- --settings-sweep]` (our NMI with each setting
//! moved from its default, and the ceiling of merging our themes)
//! (`THEMES_BENCH_DIR=DIR` keeps the synthetic archives there between runs)
//!
//! For each labelled corpus in `../shared/corpora/*/eval.csv` (columns `id,text,labels`), the
//! texts are imported through the real CSV import into a temporary archive, the themes run with
//! default settings, and each text's theme is compared with its gold label: NMI, purity,
//! coverage (share of texts in some theme) and, per gold label, whether a theme that holds
//! mostly that label names it. In the same run two classical baselines — k-means and NMF on
//! TF-IDF, with k = the number of gold labels and with k = our number of themes — are scored the
//! same way, and our NMI is printed as a multiple of the best of them. Texts in no theme count as one
//! more cluster ("none") in our NMI and purity.
//!
//! For texts with several gold labels, a text counts as its label that is most common in
//! its cluster (for ours and the baseline alike).
//!
//! Then themes are timed over synthetic archives of 100,000 (and, without `--quick`,
//! 1,000,000) notes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Instant;

use fieldnotes::Archive;
use fieldnotes::analysis::{Curation, ThemeSettings, ThemesReport, themes};
use fieldnotes::io::table::TableDefaults;
use fieldnotes::model::{NoteKind, SessionKind};
use fieldnotes::query::Filters;

struct Options {
    quick: bool,
    scale: bool,
    /// `--themes-only`: our figures alone, without the baselines, sweeps and stability runs
    /// (a quick loop while working on the method; the baselines' figures do not change).
    themes_only: bool,
    /// `--settings-sweep`: our NMI with each setting moved away from its default, one at a
    /// time, and the NMI a perfect merge of our themes would reach: how far the goals are from
    /// anything the method's settings can give.
    settings_sweep: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--only-scale") {
        let n = args
            .get(pos + 1)
            .and_then(|n| n.parse().ok())
            .expect("--only-scale N");
        return synthetic(n);
    }
    let opts = Options {
        quick: args.iter().any(|a| a == "--quick"),
        scale: !args.iter().any(|a| a == "--no-scale"),
        themes_only: args.iter().any(|a| a == "--themes-only"),
        settings_sweep: args.iter().any(|a| a == "--settings-sweep"),
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    for name in ["banking77", "mams_acsa"] {
        let path = root.join(name).join("eval.csv");
        if !path.exists() {
            println!("{name}: skipped ({} is absent)", path.display());
            continue;
        }
        corpus(name, &path, &opts);
    }
    if opts.scale {
        synthetic(100_000);
        if !opts.quick {
            synthetic(1_000_000);
        }
    }
}

fn corpus(name: &str, path: &Path, opts: &Options) {
    let mut reader = csv::Reader::from_path(path).expect("corpus CSV opens");
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.expect("corpus row");
        // --quick: every fourth text, still all labels.
        if opts.quick && i % 4 != 0 {
            continue;
        }
        let labels = rec[2].split(';').map(str::to_owned).collect();
        rows.push((rec[1].trim().to_owned(), labels));
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv_path = tmp.path().join(format!("{name}.csv"));
    {
        let mut w = csv::Writer::from_path(&csv_path).expect("temp CSV");
        w.write_record(["text"]).unwrap();
        for (text, _) in &rows {
            w.write_record([text]).unwrap();
        }
        w.flush().unwrap();
    }
    let mut archive = Archive::open(&tmp.path().join("archive")).expect("archive opens");
    let t = Instant::now();
    let file = std::fs::File::open(&csv_path).unwrap();
    let defaults = TableDefaults::new(
        name,
        SessionKind::Interview,
        format!("Imported from {name}.csv"),
        NoteKind::Quote,
    );
    archive
        .import(
            |sink| {
                fieldnotes::io::csv::import(&csv_path.display().to_string(), file, &defaults, sink)
            },
            |_| {},
        )
        .expect("corpus imports");
    let import_time = t.elapsed();

    let t = Instant::now();
    let notes = archive
        .analysis_notes("", &Filters::default())
        .expect("notes load");
    let load_time = t.elapsed();
    let t = Instant::now();
    let report = themes(&notes, &ThemeSettings::default(), &Curation::default());
    let theme_time = t.elapsed();

    // Gold labels by text (the import keeps each text as written, trimmed).
    let mut gold_by_text: HashMap<&str, VecDeque<&Vec<String>>> = HashMap::new();
    for (text, labels) in &rows {
        gold_by_text
            .entry(text.as_str())
            .or_default()
            .push_back(labels);
    }
    let mut theme_of: HashMap<&str, usize> = HashMap::new();
    for (t, theme) in report.themes.iter().enumerate() {
        for id in &theme.notes {
            theme_of.entry(id.as_str()).or_insert(t);
        }
    }
    let none = report.themes.len();
    let mut gold: Vec<Vec<String>> = Vec::new();
    let mut ours: Vec<usize> = Vec::new();
    let mut texts: Vec<&str> = Vec::new();
    for n in &notes {
        let labels = gold_by_text
            .get_mut(n.body.as_str())
            .and_then(VecDeque::pop_front)
            .expect("every note came from the corpus");
        gold.push(labels.clone());
        ours.push(theme_of.get(n.id.as_str()).copied().unwrap_or(none));
        texts.push(n.body.as_str());
    }
    let label_names: Vec<String> = {
        let mut all: Vec<String> = gold.iter().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    };
    let k = label_names.len();

    println!(
        "\n== {name}: {} texts, {k} gold labels{} ==",
        notes.len(),
        if opts.quick {
            " (quick: every 4th text)"
        } else {
            ""
        }
    );
    println!(
        "import {:.1} s, load {:.2} s, themes {:.2} s",
        import_time.as_secs_f64(),
        load_time.as_secs_f64(),
        theme_time.as_secs_f64()
    );
    let (nmi, purity, clusters) = score(&ours, &gold, Some(none));
    let covered = ours.iter().filter(|&&c| c != none).count();
    let covered_only: Vec<usize> = (0..ours.len()).filter(|&i| ours[i] != none).collect();
    let (nmi_covered, purity_covered, _) = score(
        &covered_only.iter().map(|&i| ours[i]).collect::<Vec<_>>(),
        &covered_only
            .iter()
            .map(|&i| gold[i].clone())
            .collect::<Vec<_>>(),
        None,
    );
    println!(
        "themes:   NMI {nmi:.3}  purity {purity:.3}  coverage {:.3}  themes {}  (over covered texts only: NMI {nmi_covered:.3}, purity {purity_covered:.3})",
        covered as f64 / ours.len().max(1) as f64,
        report.themes.len()
    );
    if opts.settings_sweep {
        settings_sweep(&notes, &gold, &report);
    }
    if opts.themes_only || opts.settings_sweep {
        label_quality(&notes, &report);
        top_themes(&report, &clusters);
        return;
    }
    let t = Instant::now();
    let baseline = kmeans_tfidf(&texts, k, 42);
    let (b_nmi, b_purity, _) = score(&baseline, &gold, None);
    println!(
        "baseline: NMI {b_nmi:.3}  purity {b_purity:.3}  coverage 1.000  clusters {k}  (k-means on TF-IDF, k = {k}, {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    // More clusters alone raise NMI: also score the baseline with as many clusters as themes.
    let ours_k = report.themes.len().max(1);
    let t = Instant::now();
    let baseline_same_k = kmeans_tfidf(&texts, ours_k, 42);
    let (s_nmi, s_purity, _) = score(&baseline_same_k, &gold, None);
    println!(
        "baseline: NMI {s_nmi:.3}  purity {s_purity:.3}  coverage 1.000  clusters {ours_k}  (the same with k = our number of themes, {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    // The second classical baseline, topic modelling (NMF), with either number of clusters;
    // the best of the four is what the goal compares with.
    let mut best = b_nmi.max(s_nmi);
    for (clusters, why) in [
        (k, "k = the gold labels"),
        (ours_k, "k = our number of themes"),
    ] {
        let t = Instant::now();
        let topics = nmf_tfidf(&texts, clusters, 42);
        let (n_nmi, n_purity, _) = score(&topics, &gold, None);
        best = best.max(n_nmi);
        println!(
            "baseline: NMI {n_nmi:.3}  purity {n_purity:.3}  coverage 1.000  clusters {clusters}  (NMF on TF-IDF, {why}, {:.1} s)",
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "themes against the best classical baseline: NMI {nmi:.3} / {best:.3} = {:.2}x",
        nmi / best.max(1e-9)
    );

    // Per gold label: is there a theme that holds mostly it and whose label names it?
    let mut named = 0;
    let mut lines = Vec::new();
    for label in &label_names {
        let words: Vec<String> = label
            .split(['_', ' ', '-'])
            .filter(|w| w.len() > 2)
            .map(stem)
            .collect();
        let mut naming: Option<String> = None;
        for (t, theme) in report.themes.iter().enumerate() {
            if clusters.get(&t).map(String::as_str) != Some(label.as_str()) {
                continue;
            }
            let theme_words: Vec<String> = theme
                .stems
                .iter()
                .flat_map(|s| s.split(' ').map(str::to_owned))
                .collect();
            if words.iter().any(|w| theme_words.contains(w)) {
                naming = Some(theme.label.clone());
                break;
            }
        }
        if naming.is_some() {
            named += 1;
        }
        lines.push(format!(
            "  {label:<40} {}",
            naming
                .map(|l| format!("named by \"{l}\""))
                .unwrap_or_else(|| "-".into())
        ));
    }
    println!("gold labels named by a theme that holds mostly them: {named} of {k}");
    for l in lines {
        println!("{l}");
    }
    similarity_sweep(&notes, &gold);
    label_quality(&notes, &report);
    stability(&notes, &report);
    top_themes(&report, &clusters);
}

fn top_themes(report: &ThemesReport, clusters: &BTreeMap<usize, String>) {
    println!("top themes:");
    for t in report.themes.iter().take(80) {
        println!(
            "  {:>5} notes  {}  (mostly {})",
            t.note_count,
            t.label,
            clusters
                .get(&report.themes.iter().position(|x| x.id == t.id).unwrap())
                .map(String::as_str)
                .unwrap_or("?")
        );
    }
}

/// Each text's theme in `report` (index into its themes; `themes.len()` for none).
fn theme_per_note(
    notes: &[fieldnotes::analysis::AnalysisNote],
    report: &ThemesReport,
) -> Vec<usize> {
    let mut theme_of: HashMap<&str, usize> = HashMap::new();
    for (t, theme) in report.themes.iter().enumerate() {
        for id in &theme.notes {
            theme_of.entry(id.as_str()).or_insert(t);
        }
    }
    notes
        .iter()
        .map(|n| {
            theme_of
                .get(n.id.as_str())
                .copied()
                .unwrap_or(report.themes.len())
        })
        .collect()
}

/// Our NMI with one setting moved at a time (the rest at their defaults), then the ceiling of
/// merging: our themes merged by the gold label most of their texts carry, which no
/// unsupervised merge can beat.
fn settings_sweep(
    notes: &[fieldnotes::analysis::AnalysisNote],
    gold: &[Vec<String>],
    report: &ThemesReport,
) {
    let d = ThemeSettings::default();
    let mut variants: Vec<(String, ThemeSettings)> = Vec::new();
    for m in [0.3f32, 0.35, 0.45, 0.5, 0.6] {
        let s = ThemeSettings {
            merge_similarity: m,
            ..d.clone()
        };
        variants.push((format!("merge_similarity {m}"), s));
    }
    for m in [0.05f32, 0.15] {
        let s = ThemeSettings {
            min_similarity: m,
            ..d.clone()
        };
        variants.push((format!("min_similarity {m}"), s));
    }
    for o in [0.3, 0.7] {
        let s = ThemeSettings {
            seed_overlap: o,
            ..d.clone()
        };
        variants.push((format!("seed_overlap {o}"), s));
    }
    for i in [3usize, 30] {
        let s = ThemeSettings {
            iterations: i,
            ..d.clone()
        };
        variants.push((format!("iterations {i}"), s));
    }
    let sqrt_n = (notes.len() as f64).sqrt();
    for f in [0.25, 0.35, 0.75] {
        let min = (sqrt_n * f).round() as usize;
        let s = ThemeSettings {
            min_notes: Some(min),
            ..d.clone()
        };
        variants.push((format!("min_notes {f} x sqrt(n) = {min}"), s));
    }
    println!("settings sweep (one setting moved from its default):");
    for (what, settings) in variants {
        let r = themes(notes, &settings, &Curation::default());
        let ours = theme_per_note(notes, &r);
        let (nmi, _, _) = score(&ours, gold, Some(r.themes.len()));
        println!(
            "  {what:<32} NMI {nmi:.3}  coverage {:.3}  themes {}",
            r.coverage,
            r.themes.len()
        );
    }
    let ours = theme_per_note(notes, report);
    let none = report.themes.len();
    let (_, _, majority) = score(&ours, gold, Some(none));
    let mut labels: Vec<&String> = majority.values().collect();
    labels.sort();
    labels.dedup();
    let merged: Vec<usize> = ours
        .iter()
        .map(|&c| match majority.get(&c) {
            Some(l) => labels.iter().position(|x| *x == l).unwrap(),
            None => labels.len(),
        })
        .collect();
    let (nmi, _, _) = score(&merged, gold, Some(labels.len()));
    println!(
        "  ceiling of merging: our themes merged by their majority gold label: NMI {nmi:.3} ({} themes)",
        labels.len()
    );
}

/// What the threshold for joining a theme trades: coverage against the purity (and NMI) of
/// the notes it lets in, around the default.
fn similarity_sweep(notes: &[fieldnotes::analysis::AnalysisNote], gold: &[Vec<String>]) {
    let mut line = String::from(
        "joining threshold (min_similarity → coverage, purity and NMI of the covered):",
    );
    for t in [0.02f32, 0.05, 0.1, 0.15, 0.2, 0.3] {
        let settings = ThemeSettings {
            min_similarity: t,
            ..ThemeSettings::default()
        };
        let r = themes(notes, &settings, &Curation::default());
        let mut theme_of: HashMap<&str, usize> = HashMap::new();
        for (k, theme) in r.themes.iter().enumerate() {
            for id in &theme.notes {
                theme_of.entry(id.as_str()).or_insert(k);
            }
        }
        let covered: Vec<usize> = (0..notes.len())
            .filter(|&i| theme_of.contains_key(notes[i].id.as_str()))
            .collect();
        let (nmi, purity, _) = score(
            &covered
                .iter()
                .map(|&i| theme_of[notes[i].id.as_str()])
                .collect::<Vec<_>>(),
            &covered.iter().map(|&i| gold[i].clone()).collect::<Vec<_>>(),
            None,
        );
        line.push_str(&format!(
            "  {t}: {:.2} / {purity:.3} / {nmi:.3}",
            covered.len() as f64 / notes.len().max(1) as f64
        ));
    }
    println!("{line}");
}

/// Labels that hold a general word (ISO stop list, filler, number) or a name the archive
/// shows, and themes that duplicate another (the notes holding their label or next phrase
/// overlap by half or more).
fn label_quality(notes: &[fieldnotes::analysis::AnalysisNote], report: &ThemesReport) {
    use fieldnotes::analysis::lexicon::{ArchiveWords, is_general};
    let refs: Vec<&fieldnotes::analysis::AnalysisNote> = notes.iter().collect();
    let words = ArchiveWords::learn(&refs, ArchiveWords::SAMPLE);
    let bad = report
        .themes
        .iter()
        .filter(|t| {
            t.label
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric() && c != '\'')
                .filter(|w| !w.is_empty())
                .any(|w| is_general(w) || words.names.contains(w))
        })
        .count();
    let lower: Vec<String> = notes.iter().map(|n| n.body.to_lowercase()).collect();
    let evidence: Vec<Vec<usize>> = report
        .themes
        .iter()
        .map(|t| {
            let phrases: Vec<String> = t.phrases.iter().take(2).map(|p| p.to_lowercase()).collect();
            (0..notes.len())
                .filter(|&i| phrases.iter().any(|p| lower[i].contains(p.as_str())))
                .collect()
        })
        .collect();
    let mut duplicated = vec![false; report.themes.len()];
    for a in 0..evidence.len() {
        for b in a + 1..evidence.len() {
            if jaccard(&evidence[a], &evidence[b]) >= 0.5 {
                duplicated[a] = true;
                duplicated[b] = true;
            }
        }
    }
    let n = report.themes.len().max(1) as f64;
    println!(
        "labels: {:.1}% hold a stop word, filler, number or name (goal 0); {:.1}% of themes duplicate another",
        100.0 * bad as f64 / n,
        100.0 * duplicated.iter().filter(|&&d| d).count() as f64 / n
    );
}

fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    let sa: std::collections::BTreeSet<&usize> = a.iter().collect();
    let sb: std::collections::BTreeSet<&usize> = b.iter().collect();
    let both = sa.intersection(&sb).count();
    let union = sa.len() + sb.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// The themes of 98% of the notes against those of all of them (2% more arriving), the second
/// run starting from what the first showed, as the app and CLI do: the share of the earlier
/// themes still there (evidence Jaccard ≥ 0.5) and of those, the share that kept their label.
/// Then the same notes again from that run's memory (reopening the view): the share unchanged.
/// Same notes twice from scratch must give the same report, byte for byte.
fn stability(notes: &[fieldnotes::analysis::AnalysisNote], fresh: &ThemesReport) {
    use fieldnotes::analysis::remember;
    let settings = ThemeSettings::default();
    let again = themes(notes, &settings, &Curation::default());
    let same = serde_json::to_string(&again).unwrap() == serde_json::to_string(fresh).unwrap();
    let earlier: Vec<fieldnotes::analysis::AnalysisNote> = notes
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 50 != 7)
        .map(|(_, n)| n.clone())
        .collect();
    let from = |previous: &ThemesReport| Curation {
        previous: remember(previous),
        ..Curation::default()
    };
    let before = themes(&earlier, &settings, &Curation::default());
    let after = themes(notes, &settings, &from(&before));
    let reopened = themes(notes, &settings, &from(&after));
    let (kept, labelled) = kept_themes(&before, &after);
    let (kept_again, labelled_again) = kept_themes(&after, &reopened);
    let (kept_fresh, labelled_fresh) = kept_themes(&before, fresh);
    println!(
        "stability: same notes, same report byte for byte: {}; +2% notes: {kept:.0}% of themes kept (goal ≥ 90), {labelled:.0}% kept their label (goal ≥ 90); reopened on the same notes: {kept_again:.0}% kept, {labelled_again:.0}% same label; with no memory of the first run: {kept_fresh:.0}% kept, {labelled_fresh:.0}% same label",
        if same { "yes" } else { "NO" },
    );
    if std::env::var_os("THEMES_BENCH_DIAG").is_some() {
        for (from, to, what) in [(&before, &after, "+2%"), (&after, &reopened, "reopened")] {
            for b in &from.themes {
                if !to.themes.iter().any(|a| a.label == b.label) {
                    println!(
                        "  {what}: {} ({} notes, {:?}) is gone or renamed",
                        b.label, b.note_count, b.phrases
                    );
                }
            }
        }
    }
}

/// Of the themes in `before`, the percentage still in `after` (evidence Jaccard ≥ 0.5), and the
/// percentage still there under the same label.
fn kept_themes(before: &ThemesReport, after: &ThemesReport) -> (f64, f64) {
    let ids = |t: &fieldnotes::analysis::Theme| -> Vec<String> {
        let mut v = t.notes.clone();
        v.sort();
        v
    };
    let (mut kept, mut labelled) = (0, 0);
    for b in &before.themes {
        let bi = ids(b);
        let best = after
            .themes
            .iter()
            .map(|a| {
                let ai = ids(a);
                let sa: std::collections::BTreeSet<&String> = ai.iter().collect();
                let both = bi.iter().filter(|x| sa.contains(x)).count();
                let union = bi.len() + ai.len() - both;
                (both as f64 / union.max(1) as f64, a)
            })
            .max_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((j, a)) = best
            && j >= 0.5
        {
            kept += 1;
            if a.label == b.label {
                labelled += 1;
            }
        }
    }
    let n = before.themes.len().max(1) as f64;
    (100.0 * kept as f64 / n, 100.0 * labelled as f64 / n)
}

fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is the 12th, stime 13th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// NMI (arithmetic normalisation, as scikit-learn's default), purity, and each cluster's
/// majority label. A multi-label text counts as its label most common in its cluster.
/// `none` (texts in no cluster) counts as a cluster but never as pure.
fn score(
    clusters: &[usize],
    gold: &[Vec<String>],
    none: Option<usize>,
) -> (f64, f64, BTreeMap<usize, String>) {
    let mut label_counts: BTreeMap<usize, BTreeMap<&str, usize>> = BTreeMap::new();
    for (c, labels) in clusters.iter().zip(gold) {
        for l in labels {
            *label_counts
                .entry(*c)
                .or_default()
                .entry(l.as_str())
                .or_default() += 1;
        }
    }
    let chosen: Vec<&str> = clusters
        .iter()
        .zip(gold)
        .map(|(c, labels)| {
            let counts = &label_counts[c];
            labels
                .iter()
                .max_by(|a, b| counts[a.as_str()].cmp(&counts[b.as_str()]).then(b.cmp(a)))
                .map(String::as_str)
                .unwrap()
        })
        .collect();
    let n = clusters.len() as f64;
    let mut joint: HashMap<(usize, &str), f64> = HashMap::new();
    let mut pc: HashMap<usize, f64> = HashMap::new();
    let mut pg: HashMap<&str, f64> = HashMap::new();
    for (c, g) in clusters.iter().zip(&chosen) {
        *joint.entry((*c, g)).or_default() += 1.0;
        *pc.entry(*c).or_default() += 1.0;
        *pg.entry(g).or_default() += 1.0;
    }
    let entropy =
        |values: Vec<f64>| -> f64 { values.iter().map(|&x| -(x / n) * (x / n).ln()).sum() };
    let (hc, hg) = (
        entropy(pc.values().copied().collect()),
        entropy(pg.values().copied().collect()),
    );
    let mi: f64 = joint
        .iter()
        .map(|(&(c, g), &x)| (x / n) * ((x * n) / (pc[&c] * pg[g])).ln())
        .sum();
    let nmi = if hc + hg > 0.0 {
        2.0 * mi / (hc + hg)
    } else {
        1.0
    };
    let mut majority = BTreeMap::new();
    let mut pure = 0.0;
    let mut per_cluster: BTreeMap<usize, BTreeMap<&str, usize>> = BTreeMap::new();
    for (c, g) in clusters.iter().zip(&chosen) {
        *per_cluster.entry(*c).or_default().entry(g).or_default() += 1;
    }
    for (c, counts) in per_cluster {
        let (best, count) = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .unwrap();
        if Some(c) != none {
            pure += *count as f64;
            majority.insert(c, best.to_string());
        }
    }
    (nmi, pure / n, majority)
}

/// A plain English stem for matching label words to theme phrases.
fn stem(word: &str) -> String {
    frostem::Stemmer::new(frostem::Algorithm::English)
        .stem(&word.to_lowercase())
        .into_owned()
}

/// TF-IDF as scikit-learn's TfidfVectorizer defaults it (words of two or more letters or
/// digits, smooth idf, unit length): each text's sparse row, and the number of words.
fn tfidf(texts: &[&str]) -> (Vec<Vec<(usize, f32)>>, usize) {
    let mut vocab: HashMap<String, usize> = HashMap::new();
    let docs: Vec<Vec<(usize, f32)>> = texts
        .iter()
        .map(|t| {
            let mut counts: BTreeMap<usize, f32> = BTreeMap::new();
            for w in t
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .filter(|w| w.chars().count() >= 2)
            {
                let next = vocab.len();
                let id = *vocab.entry(w.to_lowercase()).or_insert(next);
                *counts.entry(id).or_default() += 1.0;
            }
            counts.into_iter().collect()
        })
        .collect();
    let n = docs.len();
    let dims = vocab.len();
    let mut df = vec![0f32; dims];
    for d in &docs {
        for (f, _) in d {
            df[*f] += 1.0;
        }
    }
    let docs = docs
        .into_iter()
        .map(|d| {
            let mut v: Vec<(usize, f32)> = d
                .into_iter()
                .map(|(f, tf)| (f, tf * (((1 + n) as f32 / (1.0 + df[f])).ln() + 1.0)))
                .collect();
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-12);
            for (_, w) in &mut v {
                *w /= norm;
            }
            v
        })
        .collect();
    (docs, dims)
}

/// A fixed-seed uniform draw in [0, 1) (xorshift), so every baseline run is repeatable.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut rng = seed;
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The second classical baseline, topic modelling as scikit-learn's NMF does it: the TF-IDF
/// matrix X (texts × words) factored as W·H with k topics by Lee and Seung's multiplicative
/// updates for the Frobenius norm (random start scaled to X's mean, as `init="random"`; at
/// most 200 rounds, stopping as its `tol` does); each text's cluster is its heaviest topic. H is held word by word (k values
/// each) so every inner loop reads memory in order.
fn nmf_tfidf(texts: &[&str], k: usize, seed: u64) -> Vec<usize> {
    let (docs, dims) = tfidf(texts);
    let n = docs.len();
    if n == 0 || k == 0 {
        return vec![0; n];
    }
    let mean = docs.iter().flatten().map(|(_, w)| *w as f64).sum::<f64>() / (n * dims) as f64;
    let scale = (mean / k as f64).sqrt();
    let mut next = uniform(seed);
    let mut w: Vec<f32> = (0..n * k).map(|_| (scale * next()) as f32).collect();
    let mut h: Vec<f32> = (0..dims * k).map(|_| (scale * next()) as f32).collect();
    // Stop as scikit-learn does: when ten rounds lower the error by less than 1e-4 of the
    // first error. ‖X − WH‖² = ‖X‖² − 2 Σ W∘(XHᵀ) + Σ (WᵀW)∘(HᵀH), from products each round
    // computes anyway.
    let x_norm: f64 = docs
        .iter()
        .flatten()
        .map(|(_, x)| (*x as f64).powi(2))
        .sum();
    let (mut first, mut last) = (None::<f64>, f64::INFINITY);
    let mut xht = vec![0f32; n * k];
    let mut hht = vec![0f32; k * k];
    for round in 0..200 {
        let wtw = gram(&w, k);
        if round > 0 && round % 10 == 0 {
            let cross: f64 = w.iter().zip(&xht).map(|(a, b)| (a * b) as f64).sum();
            let quad: f64 = wtw.iter().zip(&hht).map(|(a, b)| (a * b) as f64).sum();
            let err = (x_norm - 2.0 * cross + quad).max(0.0).sqrt();
            let start = *first.get_or_insert(err);
            if (last - err) / start < 1e-4 {
                break;
            }
            last = err;
        }
        // H ← H ∘ (WᵀX) / (WᵀW H)
        let mut wtx = vec![0f32; dims * k];
        for (i, d) in docs.iter().enumerate() {
            let wi = &w[i * k..(i + 1) * k];
            for &(f, x) in d {
                for (acc, wt) in wtx[f * k..(f + 1) * k].iter_mut().zip(wi) {
                    *acc += wt * x;
                }
            }
        }
        multiply_update(&mut h, &wtx, &wtw, k);
        // W ← W ∘ (XHᵀ) / (W H Hᵀ)
        hht = gram(&h, k);
        xht.fill(0.0);
        for (i, d) in docs.iter().enumerate() {
            let row = &mut xht[i * k..(i + 1) * k];
            for &(f, x) in d {
                for (acc, ht) in row.iter_mut().zip(&h[f * k..(f + 1) * k]) {
                    *acc += x * ht;
                }
            }
        }
        multiply_update(&mut w, &xht, &hht, k);
    }
    (0..n)
        .map(|i| {
            (0..k)
                .max_by(|&a, &b| w[i * k + a].total_cmp(&w[i * k + b]).then(b.cmp(&a)))
                .unwrap_or(0)
        })
        .collect()
}

/// AᵀA for A held as rows of k values.
fn gram(a: &[f32], k: usize) -> Vec<f32> {
    let mut g = vec![0f32; k * k];
    for r in a.chunks_exact(k) {
        for (t, &x) in r.iter().enumerate() {
            for (acc, &y) in g[t * k..(t + 1) * k].iter_mut().zip(r) {
                *acc += x * y;
            }
        }
    }
    g
}

/// One multiplicative step on rows of k values: m ← m ∘ num / (m · g), g symmetric.
fn multiply_update(m: &mut [f32], num: &[f32], g: &[f32], k: usize) {
    let mut denom = vec![0f32; k];
    for (row, num) in m.chunks_exact_mut(k).zip(num.chunks_exact(k)) {
        for (t, d) in denom.iter_mut().enumerate() {
            *d = row
                .iter()
                .zip(&g[t * k..(t + 1) * k])
                .map(|(a, b)| a * b)
                .sum();
        }
        for ((x, n), d) in row.iter_mut().zip(num).zip(&denom) {
            *x *= n / (d + 1e-9);
        }
    }
}

/// The classical baseline: the TF-IDF above and Lloyd's k-means with k-means++ seeding from a
/// fixed seed, best of five starts by inertia, at most 100 rounds each.
fn kmeans_tfidf(texts: &[&str], k: usize, seed: u64) -> Vec<usize> {
    let (docs, dims) = tfidf(texts);
    let n = docs.len();
    let mut next = uniform(seed);
    let dist2 = |d: &[(usize, f32)], c: &[f32], cnorm: f32| -> f32 {
        // |d - c|² = 1 + |c|² - 2 d·c for unit d.
        let dot: f32 = d.iter().map(|(f, w)| w * c[*f]).sum();
        (1.0 + cnorm - 2.0 * dot).max(0.0)
    };
    let dense = |d: &[(usize, f32)]| {
        let mut c = vec![0f32; dims];
        for (f, w) in d {
            c[*f] = *w;
        }
        c
    };
    // Several k-means++ starts (as scikit-learn's n_init); the run with the least inertia wins.
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..RESTARTS {
        let mut centroids: Vec<Vec<f32>> = Vec::with_capacity(k);
        let first = (next() * n as f64) as usize % n;
        centroids.push(dense(&docs[first]));
        let mut closest: Vec<f32> = docs.iter().map(|d| dist2(d, &centroids[0], 1.0)).collect();
        while centroids.len() < k {
            let total: f64 = closest.iter().map(|&x| x as f64).sum();
            let mut r = next() * total;
            let mut pick = n - 1;
            for (i, &x) in closest.iter().enumerate() {
                r -= x as f64;
                if r <= 0.0 {
                    pick = i;
                    break;
                }
            }
            let c = dense(&docs[pick]);
            for (i, d) in docs.iter().enumerate() {
                closest[i] = closest[i].min(dist2(d, &c, 1.0));
            }
            centroids.push(c);
        }
        let mut assign = vec![0usize; n];
        let mut inertia = 0.0;
        for _ in 0..100 {
            let norms: Vec<f32> = centroids
                .iter()
                .map(|c| c.iter().map(|x| x * x).sum())
                .collect();
            let mut changed = false;
            inertia = 0.0;
            for (i, d) in docs.iter().enumerate() {
                let (c, dist) = (0..k)
                    .map(|c| (c, dist2(d, &centroids[c], norms[c])))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .unwrap();
                inertia += dist as f64;
                if c != assign[i] {
                    changed = true;
                    assign[i] = c;
                }
            }
            let mut sums = vec![vec![0f32; dims]; k];
            let mut counts = vec![0f32; k];
            for (i, d) in docs.iter().enumerate() {
                counts[assign[i]] += 1.0;
                for (f, w) in d {
                    sums[assign[i]][*f] += w;
                }
            }
            for c in 0..k {
                if counts[c] > 0.0 {
                    for x in &mut sums[c] {
                        *x /= counts[c];
                    }
                    centroids[c] = std::mem::take(&mut sums[c]);
                }
            }
            if !changed {
                break;
            }
        }
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, assign));
        }
    }
    best.expect("at least one run").1
}

/// k-means++ starts for the baseline.
const RESTARTS: usize = 5;

/// Themes time over a synthetic archive: notes drawn from 200 topics of 6 words each, mixed
/// with common words, over 1,000 sessions, imported through the CSV import.
fn synthetic(n: usize) {
    let tmp = tempfile::tempdir().expect("temp dir");
    // THEMES_BENCH_DIR keeps the archive between runs (it takes a while to import).
    let kept = std::env::var_os("THEMES_BENCH_DIR")
        .map(|d| PathBuf::from(d).join(format!("synthetic-{n}")));
    let archive_dir = kept.clone().unwrap_or_else(|| tmp.path().join("archive"));
    if archive_dir.join("fieldnotes.db").exists() {
        let archive = Archive::open(&archive_dir).expect("archive opens");
        return time_themes(&archive, n, std::time::Duration::ZERO);
    }
    let csv_path = tmp.path().join("synthetic.csv");
    let filler = [
        "customer", "said", "time", "today", "went", "store", "again", "people", "quite", "sure",
        "think", "know", "want", "good", "bad", "new", "old", "small", "big", "little",
    ];
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % m as u64) as usize
    };
    {
        let mut w = csv::Writer::from_path(&csv_path).unwrap();
        w.write_record(["text", "session", "touchpoint", "emotion"])
            .unwrap();
        let emotions = ["frustrated", "pleased", "confused", "neutral", "relieved"];
        for i in 0..n {
            let topic = next(200);
            let mut words = Vec::new();
            for _ in 0..(6 + next(8)) {
                if next(2) == 0 {
                    words.push(format!("topic{topic}word{}", next(6)));
                } else {
                    words.push(filler[next(filler.len())].to_owned());
                }
            }
            words.push(format!("unique{i}"));
            w.write_record([
                words.join(" "),
                format!("session {}", next(1000)),
                format!("touchpoint-{}", topic % 12),
                emotions[next(emotions.len())].to_owned(),
            ])
            .unwrap();
        }
        w.flush().unwrap();
    }
    let mut archive = Archive::open(&archive_dir).expect("archive opens");
    let t = Instant::now();
    let file = std::fs::File::open(&csv_path).unwrap();
    let defaults = TableDefaults::new(
        "Synthetic",
        SessionKind::Interview,
        "synthetic",
        NoteKind::Observation,
    );
    archive
        .import(
            |sink| fieldnotes::io::csv::import("synthetic.csv", file, &defaults, sink),
            |_| {},
        )
        .expect("synthetic import");
    time_themes(&archive, n, t.elapsed());
}

fn time_themes(archive: &Archive, n: usize, import_time: std::time::Duration) {
    let t = Instant::now();
    let notes = archive.analysis_notes("", &Filters::default()).unwrap();
    let load = t.elapsed();
    let t = Instant::now();
    let cpu = cpu_seconds();
    let report = themes(&notes, &ThemeSettings::default(), &Curation::default());
    let analyse = t.elapsed();
    let analyse_cpu = cpu_seconds() - cpu;
    let t = Instant::now();
    let filtered = archive
        .analysis_notes(
            "",
            &Filters {
                tags: vec![
                    fieldnotes::model::Tag::new(fieldnotes::model::Facet::Emotion, "frustrated")
                        .unwrap(),
                ],
                ..Filters::default()
            },
        )
        .unwrap();
    let filtered_load = t.elapsed();
    println!(
        "\n== synthetic {n} notes (import {:.0} s) ==\nthemes: load {:.2} s + analysis {:.2} s = {:.2} s (analysis used {analyse_cpu:.2} s of CPU; load average {}); {} themes, coverage {:.2}\nfiltered to !frustrated ({} notes): load {:.2} s",
        import_time.as_secs_f64(),
        load.as_secs_f64(),
        analyse.as_secs_f64(),
        (load + analyse).as_secs_f64(),
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| "?".into()),
        report.themes.len(),
        report.coverage,
        filtered.len(),
        filtered_load.as_secs_f64(),
    );
}
