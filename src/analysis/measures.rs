//! The CX measures: NPS as promoters − detractors with its confidence interval, means and
//! distributions of satisfaction, effort and the customer's confidence (and any measure a study
//! defines), by group; the moments of truth (touchpoints where the worst effort meets negative
//! feeling); and change between two waves.
//!
//! Values come from notes (`%ces=2` in the text) and from sessions (a measure the whole
//! session carries). A value outside its scale (only a file imported as it was can hold one)
//! is left out and counted, never clamped.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::{AnalysisNote, p_value, round2};
use crate::model::{Facet, MeasureScale, measures_of};
use crate::store::SessionMeasures;

/// One value of one measure, with what it can be grouped by.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureValue {
    pub name: String,
    pub value: f64,
    /// The note that carries it; `None` for a session's own measure.
    pub note: Option<String>,
    pub session: String,
    pub study: String,
    pub at: DateTime<Utc>,
    /// The note's touchpoints; none for a session's measure (it speaks for the whole visit).
    pub touchpoints: Vec<String>,
    /// The note's personas; for a session's measure, those of its notes.
    pub personas: Vec<String>,
    /// The note's feeling (−2…+2), when it has one.
    pub valence: Option<f64>,
}

/// The values the selected notes and their sessions carry, notes first (in the notes' order).
/// Only sessions that have a note among `notes` count, so a filter narrows both alike.
pub fn measure_values(notes: &[AnalysisNote], sessions: &[SessionMeasures]) -> Vec<MeasureValue> {
    let mut values = Vec::new();
    let mut personas_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for n in notes {
        personas_of
            .entry(n.session.as_str())
            .or_default()
            .extend(n.tagged(Facet::Persona));
        for m in measures_of(&n.body) {
            values.push(MeasureValue {
                name: m.name,
                value: m.value,
                note: Some(n.id.clone()),
                session: n.session.clone(),
                study: n.study.clone(),
                at: n.created_at,
                touchpoints: n.tagged(Facet::Touchpoint).map(str::to_owned).collect(),
                personas: n.tagged(Facet::Persona).map(str::to_owned).collect(),
                valence: n.valence,
            });
        }
    }
    for s in sessions {
        let Some(personas) = personas_of.get(s.session.as_str()) else {
            continue;
        };
        for m in &s.measures {
            values.push(MeasureValue {
                name: m.name.clone(),
                value: m.value,
                note: None,
                session: s.session.clone(),
                study: s.study.clone(),
                at: s.started_at,
                touchpoints: Vec::new(),
                personas: personas.iter().map(|p| (*p).to_owned()).collect(),
                valence: None,
            });
        }
    }
    values
}

/// What the measures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureBy {
    Touchpoint,
    Persona,
    Study,
    Month,
}

impl std::str::FromStr for MeasureBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "touchpoint" => Ok(MeasureBy::Touchpoint),
            "persona" => Ok(MeasureBy::Persona),
            "study" => Ok(MeasureBy::Study),
            "month" => Ok(MeasureBy::Month),
            _ => Err(format!(
                "cannot group measures by {s:?}: expected touchpoint, persona, study or month"
            )),
        }
    }
}

/// The group of a value that has none in the grouping (a session's measure by touchpoint, a
/// note without a persona).
pub const NO_GROUP: &str = "(none)";

impl MeasureBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureBy::Touchpoint => "touchpoint",
            MeasureBy::Persona => "persona",
            MeasureBy::Study => "study",
            MeasureBy::Month => "month",
        }
    }

    fn groups(self, v: &MeasureValue) -> Vec<String> {
        let or_none = |names: &[String]| {
            if names.is_empty() {
                vec![NO_GROUP.to_owned()]
            } else {
                names.to_vec()
            }
        };
        match self {
            MeasureBy::Touchpoint => or_none(&v.touchpoints),
            MeasureBy::Persona => or_none(&v.personas),
            MeasureBy::Study => vec![v.study.clone()],
            MeasureBy::Month => vec![format!("{}-{:02}", v.at.year(), v.at.month())],
        }
    }
}

/// Net Promoter Score figures: the score is % promoters − % detractors (−100…+100).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nps {
    pub promoters: usize,
    pub passives: usize,
    pub detractors: usize,
    pub score: f64,
    /// Half the width of the 95% confidence interval, in points: `score ± margin`.
    pub margin: f64,
}

/// How many values took one point of the scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub value: f64,
    pub count: usize,
}

/// One measure over a group of values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureSummary {
    pub name: String,
    pub n: usize,
    pub mean: f64,
    /// Half the width of the mean's 95% confidence interval (normal approximation); 0 for one
    /// value.
    pub margin: f64,
    /// Values at each whole point of the scale (every point, zeros included); empty for a
    /// scale of fractions.
    pub distribution: Vec<Bucket>,
    /// The share of values in the good end's top two points (CSAT's "satisfied", CES's
    /// "easy"); `None` for NPS (see `nps`) and scales of fractions.
    pub top_two: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nps: Option<Nps>,
    /// Mean goodness on the scale, 0 (worst end) … 1 (best end): how groups compare across
    /// measures whose good end differs.
    pub goodness: f64,
    /// The notes that carry the values (a session's own measure has none).
    pub notes: Vec<String>,
}

/// The measures of one group (`all` when not grouped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureGroup {
    pub group: String,
    pub measures: Vec<MeasureSummary>,
}

/// A touchpoint where effort is poor and feeling negative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MomentOfTruth {
    pub touchpoint: String,
    /// Mean effort score (CES, 7 = effortless) and how many values it is over.
    pub effort: f64,
    pub effort_values: usize,
    /// Mean valence (−2…+2) of the touchpoint's notes with a feeling.
    pub valence: f64,
    pub felt_notes: usize,
    /// How bad the moment is: effort's badness (0…1) plus negativity (0…1); highest first.
    pub severity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuresReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<MeasureBy>,
    /// Every value together first, then each group, largest first (ties by name).
    pub groups: Vec<MeasureGroup>,
    pub moments_of_truth: Vec<MomentOfTruth>,
    /// The scales the figures are read against.
    pub scales: Vec<MeasureScale>,
    /// Values left out because no scale knows their name or they fall outside it.
    pub ignored: usize,
}

/// The effort measure the moments of truth are read from.
pub const EFFORT: &str = "ces";

/// Summarises the values by group. The touchpoints' feelings for the moments of truth come from
/// `notes`, all of them, not only those that carry a measure.
pub fn measures(
    values: &[MeasureValue],
    notes: &[AnalysisNote],
    scales: &[MeasureScale],
    by: Option<MeasureBy>,
) -> MeasuresReport {
    let (valid, ignored) = valid_values(values, scales);
    let mut groups = vec![MeasureGroup {
        group: "all".to_owned(),
        measures: summarise(&valid, scales),
    }];
    if let Some(by) = by {
        let mut grouped: BTreeMap<String, Vec<&MeasureValue>> = BTreeMap::new();
        for v in &valid {
            for g in by.groups(v) {
                grouped.entry(g).or_default().push(v);
            }
        }
        let mut rest: Vec<MeasureGroup> = grouped
            .into_iter()
            .map(|(group, vs)| MeasureGroup {
                group,
                measures: summarise(&vs, scales),
            })
            .collect();
        // Months read in time order; other groups by how much they hold.
        if by != MeasureBy::Month {
            rest.sort_by(|a, b| {
                let size = |g: &MeasureGroup| g.measures.iter().map(|m| m.n).sum::<usize>();
                size(b).cmp(&size(a)).then_with(|| a.group.cmp(&b.group))
            });
        }
        groups.extend(rest);
    }
    MeasuresReport {
        by,
        groups,
        moments_of_truth: moments_of_truth(&valid, notes, scales),
        scales: scales.to_vec(),
        ignored,
    }
}

fn valid_values<'a>(
    values: &'a [MeasureValue],
    scales: &[MeasureScale],
) -> (Vec<&'a MeasureValue>, usize) {
    let mut ignored = 0;
    let valid = values
        .iter()
        .filter(|v| {
            let ok = scales
                .iter()
                .find(|s| s.name == v.name)
                .is_some_and(|s| s.check(v.value).is_ok());
            ignored += usize::from(!ok);
            ok
        })
        .collect();
    (valid, ignored)
}

/// Each measure present among `values`, in the scales' order.
fn summarise(values: &[&MeasureValue], scales: &[MeasureScale]) -> Vec<MeasureSummary> {
    scales
        .iter()
        .filter_map(|scale| summary(scale, &of_measure(values, &scale.name)))
        .collect()
}

/// One measure's figures over its values; `None` when there are none.
pub fn summary(scale: &MeasureScale, values: &[&MeasureValue]) -> Option<MeasureSummary> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let nums: Vec<f64> = values.iter().map(|v| v.value).collect();
    let mean = nums.iter().sum::<f64>() / n as f64;
    let margin = if n > 1 {
        let var = nums.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        1.96 * (var / n as f64).sqrt()
    } else {
        0.0
    };
    let distribution: Vec<Bucket> = if scale.whole && scale.max - scale.min <= 100.0 {
        let points = (scale.max - scale.min) as usize + 1;
        (0..points)
            .map(|i| {
                let value = scale.min + i as f64;
                Bucket {
                    value,
                    count: nums.iter().filter(|&&x| x == value).count(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let nps = (scale.name == "nps").then(|| nps(&nums));
    let top_two = (scale.name != "nps" && !distribution.is_empty()).then(|| {
        let good: Vec<f64> = if scale.higher_is_better {
            vec![scale.max, scale.max - 1.0]
        } else {
            vec![scale.min, scale.min + 1.0]
        };
        round2(nums.iter().filter(|x| good.contains(x)).count() as f64 / n as f64)
    });
    let goodness = nums.iter().map(|&x| scale.goodness(x)).sum::<f64>() / n as f64;
    let mut notes: Vec<String> = values.iter().filter_map(|v| v.note.clone()).collect();
    notes.sort();
    notes.dedup();
    Some(MeasureSummary {
        name: scale.name.clone(),
        n,
        mean: round2(mean),
        margin: round2(margin),
        distribution,
        top_two,
        nps,
        goodness: round2(goodness),
        notes,
    })
}

/// NPS with the 95% interval of a difference of two proportions from one sample: each answer
/// scores +1 (9–10), 0 (7–8) or −1 (0–6), and the interval is the mean's ± 1.96 standard errors.
pub fn nps(values: &[f64]) -> Nps {
    let n = values.len();
    let promoters = values.iter().filter(|&&v| v >= 9.0).count();
    let detractors = values.iter().filter(|&&v| v <= 6.0).count();
    let passives = n - promoters - detractors;
    if n == 0 {
        return Nps {
            promoters,
            passives,
            detractors,
            score: 0.0,
            margin: 0.0,
        };
    }
    let (p, d) = (promoters as f64 / n as f64, detractors as f64 / n as f64);
    let variance = p + d - (p - d).powi(2);
    Nps {
        promoters,
        passives,
        detractors,
        score: round2(100.0 * (p - d)),
        margin: round2(100.0 * 1.96 * (variance / n as f64).sqrt()),
    }
}

fn moments_of_truth(
    values: &[&MeasureValue],
    notes: &[AnalysisNote],
    scales: &[MeasureScale],
) -> Vec<MomentOfTruth> {
    let Some(effort_scale) = scales.iter().find(|s| s.name == EFFORT) else {
        return Vec::new();
    };
    let mut effort: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for v in values.iter().filter(|v| v.name == EFFORT) {
        for tp in &v.touchpoints {
            effort.entry(tp.as_str()).or_default().push(v.value);
        }
    }
    let mut feeling: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for n in notes {
        if let Some(val) = n.valence {
            for tp in n.tagged(Facet::Touchpoint) {
                let e = feeling.entry(tp).or_default();
                e.0 += val;
                e.1 += 1;
            }
        }
    }
    let mut moments: Vec<MomentOfTruth> = effort
        .into_iter()
        .filter_map(|(tp, efforts)| {
            let (sum, felt) = *feeling.get(tp)?;
            let valence = sum / felt as f64;
            let mean = efforts.iter().sum::<f64>() / efforts.len() as f64;
            let badness = 1.0 - effort_scale.goodness(mean);
            // Worse than the scale's middle, and felt as negative.
            (badness > 0.5 && valence < 0.0).then(|| MomentOfTruth {
                touchpoint: tp.to_owned(),
                effort: round2(mean),
                effort_values: efforts.len(),
                valence: round2(valence),
                felt_notes: felt,
                severity: round2(badness + (-valence / 2.0).min(1.0)),
            })
        })
        .collect();
    moments.sort_by(|a, b| {
        b.severity
            .total_cmp(&a.severity)
            .then_with(|| a.touchpoint.cmp(&b.touchpoint))
    });
    moments
}

/// One measure in two waves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureChange {
    pub name: String,
    pub before: Option<MeasureSummary>,
    pub after: Option<MeasureSummary>,
    /// After − before: NPS points for NPS, the mean's change otherwise.
    pub change: Option<f64>,
    pub z: Option<f64>,
    pub p: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuresTrend {
    pub before_values: usize,
    pub after_values: usize,
    pub measures: Vec<MeasureChange>,
    pub ignored: usize,
}

/// How each measure moved between two waves, with a z-test on the change (NPS: on the
/// difference of two NPS; otherwise on the difference of means).
pub fn measures_trend(
    before: &[MeasureValue],
    after: &[MeasureValue],
    scales: &[MeasureScale],
) -> MeasuresTrend {
    let (b, ib) = valid_values(before, scales);
    let (a, ia) = valid_values(after, scales);
    let measures = scales
        .iter()
        .filter_map(|scale| {
            let (bv, av) = (of_measure(&b, &scale.name), of_measure(&a, &scale.name));
            let (before, after) = (summary(scale, &bv), summary(scale, &av));
            if before.is_none() && after.is_none() {
                return None;
            }
            let (change, z) = match (&before, &after) {
                (Some(x), Some(y)) => {
                    let (dx, dy, sx, sy) = match (&x.nps, &y.nps) {
                        (Some(px), Some(py)) => (px.score, py.score, px.margin, py.margin),
                        _ => (x.mean, y.mean, x.margin, y.margin),
                    };
                    // Margins are 1.96 standard errors.
                    let se = ((sx / 1.96).powi(2) + (sy / 1.96).powi(2)).sqrt();
                    let change = round2(dy - dx);
                    (Some(change), (se > 0.0).then(|| round2(change / se)))
                }
                _ => (None, None),
            };
            Some(MeasureChange {
                name: scale.name.clone(),
                before,
                after,
                change,
                z,
                p: z.map(|z| round2(p_value(z))),
            })
        })
        .collect();
    MeasuresTrend {
        before_values: b.len(),
        after_values: a.len(),
        measures,
        ignored: ib + ia,
    }
}

fn of_measure<'a>(values: &[&'a MeasureValue], name: &str) -> Vec<&'a MeasureValue> {
    values.iter().copied().filter(|v| v.name == name).collect()
}

/// Mean of one measure over some notes' texts (values outside the scale left out); with how
/// many values it is over. What the journey curve shows beside valence.
pub fn mean_of<'a>(
    notes: impl IntoIterator<Item = &'a AnalysisNote>,
    scale: &MeasureScale,
) -> Option<(f64, usize)> {
    let (sum, n) = notes
        .into_iter()
        .flat_map(|n| measures_of(&n.body))
        .filter(|m| m.name == scale.name && scale.check(m.value).is_ok())
        .fold((0.0, 0usize), |(s, c), m| (s + m.value, c + 1));
    (n > 0).then(|| (round2(sum / n as f64), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::note;
    use crate::model::built_in_scales;

    fn values_of(notes: &[AnalysisNote]) -> Vec<MeasureValue> {
        measure_values(notes, &[])
    }

    /// Ten answers worked by hand: 3 promoters (9, 10, 10), 3 passives (7, 8, 8), 4 detractors
    /// (0, 3, 5, 6). NPS = 30% − 40% = −10. Scores +1/0/−1 have mean −0.1 and
    /// E[x²] = 0.7, so the variance is 0.7 − 0.01 = 0.69 and the standard error
    /// √(0.69/10) = 0.2626785; the margin is 1.96 × 26.26785 = 51.485 points, 51.48 when rounded.
    #[test]
    fn nps_and_its_interval_match_the_hand_computation() {
        let r = nps(&[9.0, 10.0, 10.0, 7.0, 8.0, 8.0, 0.0, 3.0, 5.0, 6.0]);
        assert_eq!((r.promoters, r.passives, r.detractors), (3, 3, 4));
        assert_eq!(r.score, -10.0);
        assert_eq!(r.margin, 51.48);
        let all_promoters = nps(&[9.0, 10.0]);
        assert_eq!((all_promoters.score, all_promoters.margin), (100.0, 0.0));
    }

    /// CSAT 5, 4, 4, 2, 1: mean 3.2, sample variance (3.24+0.64+0.64+1.44+4.84)/4 = 2.7, standard
    /// error √(2.7/5) = 0.7348, margin 1.44; top two (4–5) 3 of 5 = 0.6.
    #[test]
    fn means_distributions_and_top_two_match_the_hand_computation() {
        let notes: Vec<AnalysisNote> = [5, 4, 4, 2, 1]
            .iter()
            .enumerate()
            .map(|(i, v)| note(&format!("n{i}"), "s1", &format!("said so %csat={v}")))
            .collect();
        let r = measures(&values_of(&notes), &notes, &built_in_scales(), None);
        let csat = &r.groups[0].measures[0];
        assert_eq!((csat.name.as_str(), csat.n, csat.mean), ("csat", 5, 3.2));
        assert_eq!(csat.margin, 1.44);
        assert_eq!(csat.top_two, Some(0.6));
        let counts: Vec<usize> = csat.distribution.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 1, 0, 2, 1]);
        assert_eq!(csat.goodness, 0.55);
        assert_eq!(csat.notes.len(), 5);
    }

    #[test]
    fn groups_by_touchpoint_with_session_measures_apart() {
        let notes = vec![
            note("a", "s1", "queue #checkout @busy-parent %ces=2"),
            note("b", "s1", "till #checkout %ces=4"),
            note("c", "s2", "easy #app %ces=7 %nps=10"),
        ];
        let sessions = vec![SessionMeasures {
            session: "s1".into(),
            study: "Study".into(),
            started_at: notes[0].created_at,
            measures: vec![crate::model::Measure {
                name: "nps".into(),
                value: 3.0,
            }],
        }];
        let values = measure_values(&notes, &sessions);
        assert_eq!(values.len(), 5);
        assert_eq!(values[4].personas, ["busy-parent"]);
        let r = measures(
            &values,
            &notes,
            &built_in_scales(),
            Some(MeasureBy::Touchpoint),
        );
        let groups: Vec<&str> = r.groups.iter().map(|g| g.group.as_str()).collect();
        // Groups as large tie by name.
        assert_eq!(groups, ["all", "app", "checkout", NO_GROUP]);
        let all_nps = r.groups[0]
            .measures
            .iter()
            .find(|m| m.name == "nps")
            .unwrap();
        assert_eq!(all_nps.nps.as_ref().unwrap().score, 0.0);
        let checkout = &r.groups[2].measures[0];
        assert_eq!((checkout.name.as_str(), checkout.mean), ("ces", 3.0));
        // A session's own measure has no note behind it.
        assert!(r.groups[3].measures[0].notes.is_empty());
    }

    #[test]
    fn moments_of_truth_need_poor_effort_and_negative_feeling() {
        let mut notes = vec![
            note("a", "s", "queue #checkout %ces=2"),
            note("b", "s", "fine #checkout"),
            note("c", "s", "slow #returns %ces=3"),
            note("d", "s", "easy #app %ces=6"),
            note("e", "s", "hard but fun #game %ces=1"),
        ];
        notes[1].valence = Some(-2.0);
        notes[2].valence = Some(-1.0);
        notes[3].valence = Some(-1.0);
        notes[4].valence = Some(1.0);
        let r = measures(&values_of(&notes), &notes, &built_in_scales(), None);
        let found: Vec<(&str, f64)> = r
            .moments_of_truth
            .iter()
            .map(|m| (m.touchpoint.as_str(), m.severity))
            .collect();
        // checkout: effort 2 → badness 5/6 = 0.83, feeling −2 → 1: 1.83; returns: 0.67 + 0.5.
        assert_eq!(found, [("checkout", 1.83), ("returns", 1.17)]);
    }

    #[test]
    fn values_outside_the_scale_are_left_out_and_counted() {
        let notes = vec![
            note("a", "s", "imported %nps=11"),
            note("b", "s", "imported %npx=3"),
            note("c", "s", "fine %nps=9"),
        ];
        let r = measures(&values_of(&notes), &notes, &built_in_scales(), None);
        assert_eq!(r.ignored, 2);
        assert_eq!(r.groups[0].measures[0].n, 1);
    }

    /// Wave 1: NPS of 10, 10, 0, 0 = 0, margin 1.96 × 100 × √(1/4) = 98; wave 2: 10, 10, 10, 0 =
    /// 50, variance 1 − 0.25 = 0.75, margin 1.96 × 100 × √(0.75/4) = 84.87. Change 50 points;
    /// z = 50 / √(50² + 43.30²) = 0.76.
    #[test]
    fn change_between_waves_is_tested() {
        let wave = |vals: &[u8]| -> Vec<AnalysisNote> {
            vals.iter()
                .enumerate()
                .map(|(i, v)| note(&format!("n{i}"), "s", &format!("%nps={v}")))
                .collect()
        };
        let t = measures_trend(
            &values_of(&wave(&[10, 10, 0, 0])),
            &values_of(&wave(&[10, 10, 10, 0])),
            &built_in_scales(),
        );
        let nps = &t.measures[0];
        assert_eq!(
            nps.before.as_ref().unwrap().nps.as_ref().unwrap().margin,
            98.0
        );
        assert_eq!(
            nps.after.as_ref().unwrap().nps.as_ref().unwrap().margin,
            84.87
        );
        assert_eq!(nps.change, Some(50.0));
        assert_eq!(nps.z, Some(0.76));
    }
}
