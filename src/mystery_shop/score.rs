//! Score arithmetic and reports: pure functions from a scorecard and answers to numbers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::template::{Criterion, Scale, Scorecard, TimeUnit};

/// One answer as stored: a value on the criterion's scale, or not applicable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub criterion: String,
    pub value: Option<f64>,
    pub na: bool,
    /// The evidence note's id and text.
    pub note: Option<(String, String)>,
}

/// A score as people read it: whole points, or `–` where there is none yet.
pub fn score_label(score: Option<f64>) -> String {
    score.map_or("–".into(), |s| format!("{s:.0}"))
}

/// Reads an answer typed by a person: `yes`/`no`, a number, `na`, or for times `90`, `90s`,
/// `2m`, `1:30`. `Ok(None)` means not applicable.
pub fn parse_value(c: &Criterion, raw: &str) -> Result<Option<f64>, String> {
    let v = raw.trim().to_lowercase();
    if matches!(v.as_str(), "na" | "n/a" | "-") {
        return if c.na_allowed {
            Ok(None)
        } else {
            Err(format!("{} cannot be answered N/A", c.id))
        };
    }
    let number = |s: &str| s.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    let value = match &c.scale {
        Scale::YesNo => match v.as_str() {
            "yes" | "y" | "1" | "true" => 1.0,
            "no" | "n" | "0" | "false" => 0.0,
            _ => return Err(format!("{} is answered yes or no, not {raw:?}", c.id)),
        },
        Scale::OneToFive => match number(&v) {
            Some(n) if (1.0..=5.0).contains(&n) => n,
            _ => return Err(format!("{} is answered 1 to 5, not {raw:?}", c.id)),
        },
        Scale::ZeroToTen => match number(&v) {
            Some(n) if (0.0..=10.0).contains(&n) => n,
            _ => return Err(format!("{} is answered 0 to 10, not {raw:?}", c.id)),
        },
        Scale::Time { unit, .. } => {
            let secs = if let Some((m, s)) = v.split_once(':') {
                number(m).zip(number(s)).map(|(m, s)| m * 60.0 + s)
            } else if let Some(m) = v.strip_suffix("min").or_else(|| v.strip_suffix('m')) {
                number(m).map(|m| m * 60.0)
            } else if let Some(s) = v.strip_suffix("sec").or_else(|| v.strip_suffix('s')) {
                number(s)
            } else {
                number(&v).map(|n| match unit {
                    TimeUnit::Seconds => n,
                    TimeUnit::Minutes => n * 60.0,
                })
            };
            match secs {
                Some(s) if s >= 0.0 => match unit {
                    TimeUnit::Seconds => s,
                    TimeUnit::Minutes => s / 60.0,
                },
                _ => {
                    return Err(format!(
                        "{} is a time: write 90, 90s, 2m or 1:30, not {raw:?}",
                        c.id
                    ));
                }
            }
        }
    };
    Ok(Some(value))
}

/// A value's share of full marks, 0 to 1.
pub fn fraction(c: &Criterion, value: f64) -> f64 {
    let f = match &c.scale {
        Scale::YesNo => value,
        Scale::OneToFive => (value - 1.0) / 4.0,
        Scale::ZeroToTen => value / 10.0,
        Scale::Time { target, limit, .. } => {
            if value <= *target {
                1.0
            } else if value >= *limit {
                0.0
            } else {
                (limit - value) / (limit - target)
            }
        }
    };
    f.clamp(0.0, 1.0)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionScore {
    pub id: String,
    pub section: String,
    pub question: String,
    pub weight: f64,
    pub value: Option<f64>,
    pub na: bool,
    pub answered: bool,
    /// 0 to 100; `None` when unanswered or not applicable.
    pub score: Option<f64>,
    pub note: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionScore {
    pub name: String,
    pub score: Option<f64>,
    pub answered: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitScore {
    /// Weighted, 0 to 100, over the answered criteria that apply (N/A leaves the denominator).
    pub score: Option<f64>,
    pub answered: usize,
    pub total: usize,
    pub sections: Vec<SectionScore>,
    pub criteria: Vec<CriterionScore>,
}

fn weighted(scores: impl Iterator<Item = (f64, Option<f64>)>) -> Option<f64> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for (w, s) in scores {
        if let Some(s) = s {
            sum += w * s;
            weights += w;
        }
    }
    (weights > 0.0).then(|| sum / weights)
}

pub fn score_visit(card: &Scorecard, answers: &[Answer]) -> VisitScore {
    let criteria: Vec<CriterionScore> = card
        .criteria()
        .map(|(section, c)| {
            let answer = answers.iter().find(|a| a.criterion == c.id);
            CriterionScore {
                id: c.id.clone(),
                section: section.name.clone(),
                question: c.question.clone(),
                weight: c.weight,
                value: answer.and_then(|a| a.value),
                na: answer.is_some_and(|a| a.na),
                answered: answer.is_some(),
                score: answer
                    .filter(|a| !a.na)
                    .and_then(|a| a.value)
                    .map(|v| 100.0 * fraction(c, v)),
                note: answer.and_then(|a| a.note.clone()),
            }
        })
        .collect();
    let sections = card
        .sections
        .iter()
        .map(|s| {
            let of: Vec<&CriterionScore> =
                criteria.iter().filter(|c| c.section == s.name).collect();
            SectionScore {
                name: s.name.clone(),
                score: weighted(of.iter().map(|c| (c.weight, c.score))),
                answered: of.iter().filter(|c| c.answered).count(),
                total: of.len(),
            }
        })
        .collect();
    VisitScore {
        score: weighted(criteria.iter().map(|c| (c.weight, c.score))),
        answered: criteria.iter().filter(|c| c.answered).count(),
        total: criteria.len(),
        sections,
        criteria,
    }
}

/// A scored visit with what reports group by.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredVisit {
    pub session: String,
    pub location: Option<String>,
    pub started_at: DateTime<Utc>,
    pub scorecard: String,
    pub version: i64,
    pub score: VisitScore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Location,
    Criterion,
    Month,
}

/// An evidence note beside an answer that scored under half marks: (note id, text, score).
pub type LowNote = (String, String, f64);

/// A criterion's scores across visits.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionSummary {
    pub id: String,
    pub question: String,
    pub visits: usize,
    pub mean: f64,
    /// Evidence notes of answers scoring under half marks.
    pub low_notes: Vec<LowNote>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportGroup {
    pub group: String,
    pub visits: usize,
    pub mean: Option<f64>,
    /// Standard deviation of the visit scores (of the criterion's scores when grouped by criterion).
    pub spread: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Worst first.
    pub criteria: Vec<CriterionSummary>,
}

impl ReportGroup {
    /// The `n` worst criteria with their means (`queue 40, greeted 55`), as reports list them.
    pub fn worst_criteria(&self, n: usize) -> String {
        let worst: Vec<String> = self
            .criteria
            .iter()
            .take(n)
            .map(|c| format!("{} {:.0}", c.id, c.mean))
            .collect();
        worst.join(", ")
    }
}

fn stats(values: &[f64]) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None, None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (Some(mean), Some(var.sqrt()), Some(min), Some(max))
}

fn criterion_summaries<'a>(visits: impl Iterator<Item = &'a ScoredVisit>) -> Vec<CriterionSummary> {
    let mut by_id: BTreeMap<String, (String, Vec<f64>, Vec<LowNote>)> = BTreeMap::new();
    for v in visits {
        for c in &v.score.criteria {
            let Some(score) = c.score else { continue };
            let entry = by_id
                .entry(c.id.clone())
                .or_insert_with(|| (c.question.clone(), vec![], vec![]));
            entry.1.push(score);
            if score < 50.0
                && let Some((id, text)) = &c.note
            {
                entry.2.push((id.clone(), text.clone(), score));
            }
        }
    }
    let mut out: Vec<CriterionSummary> = by_id
        .into_iter()
        .map(|(id, (question, scores, mut low_notes))| {
            low_notes.sort_by(|a, b| a.2.total_cmp(&b.2));
            CriterionSummary {
                id,
                question,
                visits: scores.len(),
                mean: scores.iter().sum::<f64>() / scores.len() as f64,
                low_notes,
            }
        })
        .collect();
    out.sort_by(|a, b| a.mean.total_cmp(&b.mean).then(a.id.cmp(&b.id)));
    out
}

/// Groups visits and orders the groups worst first.
pub fn report(visits: &[ScoredVisit], by: GroupBy) -> Vec<ReportGroup> {
    if by == GroupBy::Criterion {
        return criterion_summaries(visits.iter())
            .into_iter()
            .map(|c| {
                let scores: Vec<f64> = visits
                    .iter()
                    .flat_map(|v| v.score.criteria.iter())
                    .filter(|x| x.id == c.id)
                    .filter_map(|x| x.score)
                    .collect();
                let (mean, spread, min, max) = stats(&scores);
                ReportGroup {
                    group: c.id.clone(),
                    visits: c.visits,
                    mean,
                    spread,
                    min,
                    max,
                    criteria: vec![c],
                }
            })
            .collect();
    }
    let mut groups: BTreeMap<String, Vec<&ScoredVisit>> = BTreeMap::new();
    for v in visits {
        let key = match by {
            GroupBy::Location => v.location.clone().unwrap_or_else(|| "(no location)".into()),
            GroupBy::Month => v.started_at.format("%Y-%m").to_string(),
            GroupBy::Criterion => unreachable!("handled above"),
        };
        groups.entry(key).or_default().push(v);
    }
    let mut out: Vec<ReportGroup> = groups
        .into_iter()
        .map(|(group, vs)| {
            let scores: Vec<f64> = vs.iter().filter_map(|v| v.score.score).collect();
            let (mean, spread, min, max) = stats(&scores);
            ReportGroup {
                group,
                visits: vs.len(),
                mean,
                spread,
                min,
                max,
                criteria: criterion_summaries(vs.into_iter()),
            }
        })
        .collect();
    if by == GroupBy::Location {
        out.sort_by(|a, b| {
            a.mean
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.mean.unwrap_or(f64::INFINITY))
                .then(a.group.cmp(&b.group))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mystery_shop::template::parse;

    const CARD: &str = r#"
name = "T"
[[section]]
name = "A"
[[section.criterion]]
id = "greeted"
question = "?"
weight = 1
scale = "yes-no"
[[section.criterion]]
id = "manner"
question = "?"
weight = 3
scale = "0-10"
na = true
[[section]]
name = "B"
[[section.criterion]]
id = "wait"
question = "?"
weight = 2
scale = "time"
unit = "minutes"
target = 2
limit = 10
[[section.criterion]]
id = "knowledge"
question = "?"
weight = 2
scale = "1-5"
"#;

    fn answer(id: &str, value: Option<f64>) -> Answer {
        Answer {
            criterion: id.into(),
            value,
            na: value.is_none(),
            note: None,
        }
    }

    #[test]
    fn weights_na_and_time_scales() {
        let card = parse(CARD).unwrap();
        let wait = card.criterion("wait").unwrap();
        assert_eq!(parse_value(wait, "6").unwrap(), Some(6.0));
        assert_eq!(parse_value(wait, "1:30").unwrap(), Some(1.5));
        assert_eq!(parse_value(wait, "90s").unwrap(), Some(1.5));
        assert_eq!(fraction(wait, 1.0), 1.0);
        assert_eq!(fraction(wait, 6.0), 0.5);
        assert_eq!(fraction(wait, 12.0), 0.0);
        assert!(parse_value(wait, "soon").is_err());
        assert!(parse_value(card.criterion("greeted").unwrap(), "na").is_err());
        assert_eq!(
            parse_value(card.criterion("manner").unwrap(), "N/A").unwrap(),
            None
        );
        assert!(parse_value(card.criterion("knowledge").unwrap(), "6").is_err());

        // greeted yes (1, w1), manner N/A (out of the denominator), wait 6 min (0.5, w2),
        // knowledge 4 (0.75, w2): (1 + 1 + 1.5) / 5 = 70.
        let answers = [
            answer("greeted", Some(1.0)),
            answer("manner", None),
            answer("wait", Some(6.0)),
            answer("knowledge", Some(4.0)),
        ];
        let s = score_visit(&card, &answers);
        assert!((s.score.unwrap() - 70.0).abs() < 1e-9, "{:?}", s.score);
        assert_eq!((s.answered, s.total), (4, 4));
        assert_eq!(s.sections[0].score, Some(100.0));
        assert!((s.sections[1].score.unwrap() - 62.5).abs() < 1e-9);
        // Unanswered criteria count for progress, not for the score.
        let partial = score_visit(&card, &answers[..1]);
        assert_eq!(partial.score, Some(100.0));
        assert_eq!(partial.answered, 1);
        assert_eq!(score_visit(&card, &[]).score, None);
    }

    fn visit(location: &str, month: u32, score: f64, low_note: bool) -> ScoredVisit {
        let card = parse(CARD).unwrap();
        let mut a = answer("knowledge", Some(1.0 + 4.0 * score / 100.0));
        if low_note {
            a.note = Some(("N1".into(), "nobody knew".into()));
        }
        ScoredVisit {
            session: format!("{location}{month}"),
            location: Some(location.into()),
            started_at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, month, 3, 10, 0, 0).unwrap(),
            scorecard: "T".into(),
            version: 1,
            score: score_visit(&card, &[a]),
        }
    }

    #[test]
    fn reports_group_and_put_the_worst_first() {
        let visits = [
            visit("Old Town", 9, 50.0, false),
            visit("Riverside", 9, 100.0, false),
            visit("Old Town", 10, 25.0, true),
            visit("Riverside", 10, 75.0, false),
        ];
        let by_location = report(&visits, GroupBy::Location);
        assert_eq!(by_location[0].group, "Old Town");
        assert_eq!(by_location[0].visits, 2);
        assert!((by_location[0].mean.unwrap() - 37.5).abs() < 1e-9);
        assert!((by_location[0].spread.unwrap() - 12.5).abs() < 1e-9);
        assert_eq!(by_location[0].criteria[0].low_notes[0].1, "nobody knew");
        let by_month = report(&visits, GroupBy::Month);
        assert_eq!(
            by_month
                .iter()
                .map(|g| g.group.as_str())
                .collect::<Vec<_>>(),
            ["2026-09", "2026-10"]
        );
        let by_criterion = report(&visits, GroupBy::Criterion);
        assert_eq!(by_criterion.len(), 1);
        assert_eq!(by_criterion[0].visits, 4);
    }
}
