//! Where it hurts: the touchpoint × emotion matrix (pain points) and the emotion curve along
//! the journey. Lanes (`=onstage`, `=backstage`) are shown apart when notes carry them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{AnalysisNote, Evidence, StageMap, mean_valence};
use crate::model::{Facet, NoteKind, built_in_scales};
use crate::store::JOURNEY_STAGES;

pub const LANES: [&str; 2] = ["onstage", "backstage"];

/// One touchpoint's feelings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointPain {
    pub touchpoint: String,
    pub stage: Option<String>,
    pub notes: usize,
    /// Notes whose emotions average below zero.
    pub negative_notes: usize,
    pub positive_notes: usize,
    /// Share of its notes that are negative (0–1).
    pub negative_share: f64,
    pub mean_valence: Option<f64>,
    /// Emotion → notes carrying it, most common first.
    pub emotions: Vec<(String, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorstTouchpoint {
    pub touchpoint: String,
    /// The most negative notes there, verbatim quotes first.
    pub quotes: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanePains {
    pub lane: String,
    pub touchpoints: Vec<TouchpointPain>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PainsReport {
    pub total_notes: usize,
    /// Worst first: most negative notes, then lowest mean valence.
    pub touchpoints: Vec<TouchpointPain>,
    pub worst: Vec<WorstTouchpoint>,
    /// The same per service-blueprint lane, when any note is tagged `=onstage`/`=backstage`.
    pub lanes: Vec<LanePains>,
}

const WORST_SHOWN: usize = 3;
const QUOTES_SHOWN: usize = 3;

/// Pain points: touchpoints ordered by where negative feeling concentrates.
pub fn pains(notes: &[AnalysisNote], stages: &StageMap) -> PainsReport {
    let touchpoints = pain_rows(notes.iter().collect(), stages);
    let worst = touchpoints
        .iter()
        .filter(|t| t.negative_notes > 0)
        .take(WORST_SHOWN)
        .map(|t| {
            let mut neg: Vec<&AnalysisNote> = notes
                .iter()
                .filter(|n| n.has_tag(Facet::Touchpoint, &t.touchpoint))
                .filter(|n| n.valence.is_some_and(|v| v < 0.0))
                .collect();
            neg.sort_by(|a, b| {
                (b.kind == NoteKind::Quote)
                    .cmp(&(a.kind == NoteKind::Quote))
                    .then(
                        a.valence
                            .unwrap_or(0.0)
                            .total_cmp(&b.valence.unwrap_or(0.0)),
                    )
                    .then_with(|| a.id.cmp(&b.id))
            });
            WorstTouchpoint {
                touchpoint: t.touchpoint.clone(),
                quotes: neg
                    .into_iter()
                    .take(QUOTES_SHOWN)
                    .map(Evidence::of)
                    .collect(),
            }
        })
        .collect();
    let lanes = LANES
        .iter()
        .filter_map(|&lane| {
            let in_lane: Vec<&AnalysisNote> = notes
                .iter()
                .filter(|n| n.has_tag(Facet::Code, lane))
                .collect();
            (!in_lane.is_empty()).then(|| LanePains {
                lane: lane.to_owned(),
                touchpoints: pain_rows(in_lane, stages),
            })
        })
        .collect();
    PainsReport {
        total_notes: notes.len(),
        touchpoints,
        worst,
        lanes,
    }
}

fn pain_rows(notes: Vec<&AnalysisNote>, stages: &StageMap) -> Vec<TouchpointPain> {
    let mut by_tp: BTreeMap<&str, Vec<&AnalysisNote>> = BTreeMap::new();
    for n in notes {
        let tps: BTreeSet<&str> = n.tagged(Facet::Touchpoint).collect();
        for tp in tps {
            by_tp.entry(tp).or_default().push(n);
        }
    }
    let mut rows: Vec<TouchpointPain> = by_tp
        .into_iter()
        .map(|(tp, ns)| {
            let mut emotions: BTreeMap<&str, usize> = BTreeMap::new();
            for n in &ns {
                let es: BTreeSet<&str> = n.tagged(Facet::Emotion).collect();
                for e in es {
                    *emotions.entry(e).or_default() += 1;
                }
            }
            let mut emotions: Vec<(String, usize)> = emotions
                .into_iter()
                .map(|(e, c)| (e.to_owned(), c))
                .collect();
            emotions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let negative = ns
                .iter()
                .filter(|n| n.valence.is_some_and(|v| v < 0.0))
                .count();
            let positive = ns
                .iter()
                .filter(|n| n.valence.is_some_and(|v| v > 0.0))
                .count();
            TouchpointPain {
                touchpoint: tp.to_owned(),
                stage: stages.stages.get(tp).cloned(),
                notes: ns.len(),
                negative_notes: negative,
                positive_notes: positive,
                negative_share: super::round2(negative as f64 / ns.len() as f64),
                mean_valence: mean_valence(ns.iter().copied()),
                emotions,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.negative_notes
            .cmp(&a.negative_notes)
            .then(
                a.mean_valence
                    .unwrap_or(0.0)
                    .total_cmp(&b.mean_valence.unwrap_or(0.0)),
            )
            .then_with(|| a.touchpoint.cmp(&b.touchpoint))
    });
    rows
}

/// One point of the journey curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyPoint {
    /// The journey stage, or `None` for touchpoints with no stage (shown last).
    pub stage: Option<String>,
    /// `None` for the stage as a whole.
    pub touchpoint: Option<String>,
    pub notes: usize,
    /// Notes with an emotion that has a valence: what the mean is over.
    pub rated_notes: usize,
    pub mean_valence: Option<f64>,
    /// Mean valence per lane, when notes carry `=onstage`/`=backstage`.
    pub lanes: BTreeMap<String, f64>,
    /// Mean customer effort score (`%ces`, 1–7, 7 effortless) of the notes that give one.
    pub mean_effort: Option<f64>,
    /// How many effort scores the mean is over.
    pub effort_values: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyReport {
    pub total_notes: usize,
    /// Stage rows each followed by their touchpoints, in journey order.
    pub points: Vec<JourneyPoint>,
}

/// Mean valence per journey stage and touchpoint, in journey order.
pub fn journey(notes: &[AnalysisNote], stages: &StageMap) -> JourneyReport {
    let mut by_tp: BTreeMap<&str, Vec<&AnalysisNote>> = BTreeMap::new();
    for n in notes {
        let tps: BTreeSet<&str> = n.tagged(Facet::Touchpoint).collect();
        for tp in tps {
            by_tp.entry(tp).or_default().push(n);
        }
    }
    let stage_of = |tp: &str| stages.stages.get(tp).map(String::as_str);
    let mut points = Vec::new();
    let stages = JOURNEY_STAGES.iter().map(|s| Some(*s)).chain([None]);
    for stage in stages {
        let tps: Vec<&str> = by_tp
            .keys()
            .copied()
            .filter(|tp| stage_of(tp) == stage)
            .collect();
        if tps.is_empty() {
            continue;
        }
        let mut stage_notes: Vec<&AnalysisNote> = tps
            .iter()
            .flat_map(|tp| by_tp[tp].iter().copied())
            .collect();
        stage_notes.sort_by(|a, b| a.id.cmp(&b.id));
        stage_notes.dedup_by(|a, b| a.id == b.id);
        points.push(point(stage, None, &stage_notes));
        for tp in tps {
            points.push(point(stage, Some(tp), &by_tp[tp]));
        }
    }
    JourneyReport {
        total_notes: notes.len(),
        points,
    }
}

fn point(stage: Option<&str>, tp: Option<&str>, notes: &[&AnalysisNote]) -> JourneyPoint {
    let lanes = LANES
        .iter()
        .filter_map(|&lane| {
            let v = mean_valence(
                notes
                    .iter()
                    .copied()
                    .filter(|n| n.has_tag(Facet::Code, lane)),
            )?;
            Some((lane.to_owned(), v))
        })
        .collect();
    let effort = built_in_scales()
        .into_iter()
        .find(|s| s.name == super::measures::EFFORT)
        .and_then(|ces| super::measures::mean_of(notes.iter().copied(), &ces));
    JourneyPoint {
        stage: stage.map(str::to_owned),
        touchpoint: tp.map(str::to_owned),
        notes: notes.len(),
        rated_notes: notes.iter().filter(|n| n.valence.is_some()).count(),
        mean_valence: mean_valence(notes.iter().copied()),
        lanes,
        mean_effort: effort.map(|(mean, _)| mean),
        effort_values: effort.map_or(0, |(_, n)| n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::note;

    fn felt(id: &str, body: &str, valence: f64) -> AnalysisNote {
        let mut n = note(id, "s", body);
        n.valence = Some(valence);
        n
    }

    #[test]
    fn the_journey_shows_effort_beside_feeling() {
        let notes = vec![
            felt("a", "slow #checkout %ces=2", -2.0),
            note("b", "s", "queue #checkout %ces=3"),
            note("c", "s", "imported #checkout %ces=9"),
            note("d", "s", "fine #shelf"),
        ];
        let j = journey(&notes, &StageMap::default());
        let checkout = j
            .points
            .iter()
            .find(|p| p.touchpoint.as_deref() == Some("checkout"))
            .unwrap();
        // 9 is outside CES's 1–7: left out.
        assert_eq!(
            (checkout.mean_effort, checkout.effort_values),
            (Some(2.5), 2)
        );
        assert_eq!(checkout.mean_valence, Some(-2.0));
        let shelf = j
            .points
            .iter()
            .find(|p| p.touchpoint.as_deref() == Some("shelf"))
            .unwrap();
        assert_eq!((shelf.mean_effort, shelf.effort_values), (None, 0));
    }

    #[test]
    fn the_worst_touchpoint_has_the_most_negative_notes() {
        let notes = vec![
            felt("a", "slow #checkout !frustrated", -2.0),
            felt("b", "queue #checkout !annoyed", -1.0),
            felt("c", "rude #checkout !angry", -2.0),
            felt("d", "late #delivery !anxious", -1.0),
            felt("e", "nice #delivery !pleased", 1.0),
            felt("f", "fine #shelf !satisfied", 1.0),
        ];
        let stages = StageMap {
            stages: [
                ("checkout".to_owned(), "buy".to_owned()),
                ("delivery".to_owned(), "receive".to_owned()),
            ]
            .into(),
        };
        let r = pains(&notes, &stages);
        assert_eq!(r.touchpoints[0].touchpoint, "checkout");
        assert_eq!(r.touchpoints[0].negative_notes, 3);
        assert_eq!(r.worst[0].quotes[0].id, "a");
        let j = journey(&notes, &stages);
        let order: Vec<_> = j
            .points
            .iter()
            .map(|p| (p.stage.as_deref(), p.touchpoint.as_deref()))
            .collect();
        assert_eq!(
            order,
            [
                (Some("buy"), None),
                (Some("buy"), Some("checkout")),
                (Some("receive"), None),
                (Some("receive"), Some("delivery")),
                (None, None),
                (None, Some("shelf"))
            ]
        );
        assert_eq!(j.points[1].mean_valence, Some(-1.67));
    }
}
