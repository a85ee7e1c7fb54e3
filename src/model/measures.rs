//! Measures: numbers a note or a session carries (NPS, CSAT, effort, the customer's
//! confidence, or a study's own), their scales, and the check that a typed value fits.
//!
//! A measure is typed inline as `%name=value` at a token start; the inline parser
//! ([`super::parse_inline`]'s grammar) finds them, this module judges them.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// A `%name=value` token where the text has one (byte range of the whole token).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureSpan {
    /// The normalised name, as tag names are (`%NPS=9` is `nps`).
    pub name: String,
    /// What follows the `=`, as typed.
    pub raw: String,
    /// The value when `raw` reads as a number.
    pub value: Option<f64>,
    pub range: Range<usize>,
}

/// A measure's name with its value, as a note or a session carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub name: String,
    pub value: f64,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}={}", self.name, number(self.value))
    }
}

/// A number as a researcher writes it: `9`, not `9.0`.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// What a measure's values may be, and which end of its scale is the good one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureScale {
    pub name: String,
    pub min: f64,
    pub max: f64,
    /// `true` when a higher value is the better experience.
    pub higher_is_better: bool,
    /// Only whole numbers (every built-in scale).
    pub whole: bool,
    /// What the number asks, for help and reports.
    pub description: String,
}

impl MeasureScale {
    /// How good a value is on this scale, from 0 (the worst end) to 1 (the best end).
    pub fn goodness(&self, value: f64) -> f64 {
        let span = self.max - self.min;
        if span <= 0.0 {
            return 0.5;
        }
        let up = ((value - self.min) / span).clamp(0.0, 1.0);
        if self.higher_is_better { up } else { 1.0 - up }
    }

    /// `0–10`, as help and errors write a scale.
    pub fn range_text(&self) -> String {
        format!("{}–{}", number(self.min), number(self.max))
    }

    /// Checks a value typed for this measure.
    pub fn check(&self, value: f64) -> Result<(), String> {
        if self.whole && value.fract() != 0.0 {
            return Err(format!(
                "%{}={}: {} takes whole numbers {}",
                self.name,
                number(value),
                self.name,
                self.range_text()
            ));
        }
        if value < self.min || value > self.max {
            return Err(format!(
                "%{}={} is out of scale: {} runs {}",
                self.name,
                number(value),
                self.name,
                self.range_text()
            ));
        }
        Ok(())
    }
}

/// The measures every archive knows.
pub const BUILT_IN: [&str; 4] = ["nps", "csat", "ces", "confidence"];

/// The built-in scales: NPS, CSAT, customer effort (CES 2.0's "it was easy": 7 is the least
/// effort) and the customer's confidence that the issue will be resolved.
pub fn built_in_scales() -> Vec<MeasureScale> {
    let scale = |name: &str, min: f64, max: f64, description: &str| MeasureScale {
        name: name.to_owned(),
        min,
        max,
        higher_is_better: true,
        whole: true,
        description: description.to_owned(),
    };
    vec![
        scale(
            "nps",
            0.0,
            10.0,
            "likelihood to recommend (0 not at all – 10 extremely); NPS = % promoters (9–10) − % detractors (0–6)",
        ),
        scale(
            "csat",
            1.0,
            5.0,
            "satisfaction (1 very dissatisfied – 5 very satisfied)",
        ),
        scale(
            "ces",
            1.0,
            7.0,
            "customer effort: \"it was easy to …\" (1 strongly disagree, much effort – 7 strongly agree, effortless)",
        ),
        scale(
            "confidence",
            1.0,
            5.0,
            "the customer's confidence the issue will be resolved or the promise kept (1 none – 5 certain)",
        ),
    ]
}

/// The measures a text carries, checked against the scales it may use (the built-ins and its
/// study's). Every problem is one sentence naming the token; a name given twice is one.
pub fn check_measures(text: &str, scales: &[MeasureScale]) -> Result<Vec<Measure>, String> {
    let mut measures: Vec<Measure> = Vec::new();
    for span in super::tags::parse_measures(text) {
        let Some(scale) = scales.iter().find(|s| s.name == span.name) else {
            let known: Vec<&str> = scales.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "%{}={}: no measure is named {} (known: {}; a study defines more with `fieldnotes measures define`)",
                span.name,
                span.raw,
                span.name,
                known.join(", ")
            ));
        };
        let Some(value) = span.value else {
            return Err(if span.raw.is_empty() {
                format!(
                    "%{}= needs a value: write %{}=N with N in {}",
                    span.name,
                    span.name,
                    scale.range_text()
                )
            } else {
                format!(
                    "%{}={} is not a number: write %{}=N with N in {}",
                    span.name,
                    span.raw,
                    span.name,
                    scale.range_text()
                )
            });
        };
        scale.check(value)?;
        if measures.iter().any(|m| m.name == span.name) {
            return Err(format!(
                "%{} is given twice in one note: keep one value",
                span.name
            ));
        }
        measures.push(Measure {
            name: span.name,
            value,
        });
    }
    Ok(measures)
}

/// The measures a text carries that read as numbers, unchecked: what analysis reads back from
/// notes that were checked when written.
pub fn measures_of(text: &str) -> Vec<Measure> {
    if !text.contains('%') {
        return Vec::new();
    }
    super::tags::parse_measures(text)
        .into_iter()
        .filter_map(|s| {
            s.value.map(|value| Measure {
                name: s.name,
                value,
            })
        })
        .collect()
}

/// Reads `nps=9` (a flag's or a form's value) as a measure, checked against `scales`.
pub fn parse_assignment(text: &str, scales: &[MeasureScale]) -> Result<Measure, String> {
    let token = format!("%{}", text.trim().trim_start_matches('%'));
    let found = check_measures(&token, scales)?;
    match found.as_slice() {
        [one] if super::tags::parse_measures(&token)[0].range == (0..token.len()) => {
            Ok(one.clone())
        }
        _ => Err(format!(
            "{text:?} is not a measure: write name=value, as nps=9"
        )),
    }
}

/// Reads `nps=9 csat=4` (or `%nps=9 %csat=4`), as a form's field holds measures: each a name
/// and a number, once. Their scales are checked where the study is known (the library).
pub fn read_list(text: &str) -> Result<Vec<Measure>, String> {
    let not_a_list = || {
        format!(
            "{:?} is not a list of measures: write name=value, as nps=9 csat=4",
            text.trim()
        )
    };
    let mut measures: Vec<Measure> = Vec::new();
    for token in text.split([' ', ',', ';']).filter(|t| !t.is_empty()) {
        let token = format!("%{}", token.trim_start_matches('%'));
        let spans = super::tags::parse_measures(&token);
        let [span] = spans.as_slice() else {
            return Err(not_a_list());
        };
        if span.range != (0..token.len()) {
            return Err(not_a_list());
        }
        let Some(value) = span.value else {
            return Err(format!(
                "{}={} is not a number: write {}=N",
                span.name, span.raw, span.name
            ));
        };
        if measures.iter().any(|m| m.name == span.name) {
            return Err(format!("{} is given twice: keep one value", span.name));
        }
        measures.push(Measure {
            name: span.name.clone(),
            value,
        });
    }
    Ok(measures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_their_scale() {
        let scales = built_in_scales();
        assert_eq!(
            check_measures("Would recommend %nps=9, %ces=6.", &scales).unwrap(),
            [
                Measure {
                    name: "nps".into(),
                    value: 9.0
                },
                Measure {
                    name: "ces".into(),
                    value: 6.0
                }
            ]
        );
        let err = |t: &str| check_measures(t, &scales).unwrap_err();
        assert_eq!(err("%nps=11"), "%nps=11 is out of scale: nps runs 0–10");
        assert_eq!(err("%csat=0"), "%csat=0 is out of scale: csat runs 1–5");
        assert_eq!(err("%nps=9.5"), "%nps=9.5: nps takes whole numbers 0–10");
        assert!(err("%nps=nine").contains("is not a number"));
        assert!(err("%nps= later").contains("needs a value"));
        assert!(err("%npss=9").starts_with("%npss=9: no measure is named npss"));
        assert!(err("%nps=9 then %nps=3").contains("twice"));
    }

    #[test]
    fn a_study_scale_can_run_downwards_and_take_fractions() {
        let wait = MeasureScale {
            name: "wait-minutes".into(),
            min: 0.0,
            max: 60.0,
            higher_is_better: false,
            whole: false,
            description: String::new(),
        };
        assert_eq!(
            check_measures("%wait-minutes=7.5", std::slice::from_ref(&wait)).unwrap()[0].value,
            7.5
        );
        assert_eq!(wait.goodness(0.0), 1.0);
        assert_eq!(wait.goodness(60.0), 0.0);
        assert_eq!(wait.goodness(90.0), 0.0);
    }

    #[test]
    fn a_forms_list_reads_with_or_without_percent_signs() {
        let read = read_list("nps=9, %csat=4 wait-minutes=7.5").unwrap();
        assert_eq!(read.len(), 3);
        assert!(read_list("").unwrap().is_empty());
        assert!(read_list("nps=9 great").is_err());
        assert!(read_list("nps=nine").unwrap_err().contains("not a number"));
        assert!(read_list("nps=9 nps=3").unwrap_err().contains("twice"));
    }

    #[test]
    fn assignments_read_like_tokens() {
        let scales = built_in_scales();
        assert_eq!(parse_assignment("nps=9", &scales).unwrap().value, 9.0);
        assert_eq!(parse_assignment("%csat=4", &scales).unwrap().value, 4.0);
        assert!(parse_assignment("nps=9 csat=4", &scales).is_err());
        assert!(parse_assignment("nps", &scales).is_err());
        assert_eq!(
            Measure {
                name: "nps".into(),
                value: 9.0
            }
            .to_string(),
            "%nps=9"
        );
    }
}
