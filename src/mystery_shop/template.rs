//! Scorecard templates: sections of weighted criteria, written as TOML.
//!
//! ```toml
//! name = "Retail store visit"
//!
//! [[section]]
//! name = "Welcome"
//!
//! [[section.criterion]]
//! id = "greeted"
//! question = "Were you greeted within two minutes?"
//! weight = 2
//! scale = "yes-no"            # yes-no, 1-5, 0-10 or time
//!
//! [[section.criterion]]
//! id = "wait-before-greeting"
//! question = "How long before a colleague greeted you?"
//! scale = "time"
//! unit = "seconds"            # seconds or minutes
//! target = 60                 # full marks at or under
//! limit = 300                 # no marks at or over
//! na = true                   # may be answered "not applicable"
//! evidence = true             # an answer needs a note beside it
//! ```

use serde::{Deserialize, Serialize};

use crate::text::line_of;

/// How a criterion is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Scale {
    YesNo,
    OneToFive,
    ZeroToTen,
    /// A duration; answers are given in `unit`. Full marks at or under `target`, none at or
    /// over `limit`, linear in between.
    Time {
        unit: TimeUnit,
        target: f64,
        limit: f64,
    },
}

impl Scale {
    /// An answer as the researcher gave it: `yes`, `4`, `6 min` (not its stored number).
    pub fn show(&self, value: f64) -> String {
        let number = if value.fract() == 0.0 {
            format!("{value:.0}")
        } else {
            format!("{value}")
        };
        match self {
            Scale::YesNo if value >= 0.5 => "yes".into(),
            Scale::YesNo => "no".into(),
            Scale::OneToFive | Scale::ZeroToTen => number,
            Scale::Time {
                unit: TimeUnit::Seconds,
                ..
            } => format!("{number} s"),
            Scale::Time {
                unit: TimeUnit::Minutes,
                ..
            } => format!("{number} min"),
        }
    }

    /// How to answer, for prompts.
    pub fn hint(&self) -> String {
        match self {
            Scale::YesNo => "yes or no".into(),
            Scale::OneToFive => "1 to 5".into(),
            Scale::ZeroToTen => "0 to 10".into(),
            Scale::Time {
                unit,
                target,
                limit,
            } => {
                let u = match unit {
                    TimeUnit::Seconds => "seconds",
                    TimeUnit::Minutes => "minutes",
                };
                format!(
                    "a time in {u} (e.g. 90s, 2m, 1:30); full marks up to {target}, none from {limit}"
                )
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Seconds,
    Minutes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub question: String,
    pub weight: f64,
    pub scale: Scale,
    pub na_allowed: bool,
    pub evidence_required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub sections: Vec<Section>,
}

impl Scorecard {
    pub fn criteria(&self) -> impl Iterator<Item = (&Section, &Criterion)> {
        self.sections
            .iter()
            .flat_map(|s| s.criteria.iter().map(move |c| (s, c)))
    }

    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria().map(|(_, c)| c).find(|c| c.id == id)
    }
}

/// What is wrong with a template, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub line: usize,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCard {
    name: String,
    description: Option<String>,
    #[serde(default)]
    section: Vec<toml::Spanned<RawSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    name: String,
    #[serde(default)]
    criterion: Vec<toml::Spanned<RawCriterion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: String,
    question: String,
    #[serde(default = "one")]
    weight: f64,
    scale: toml::Spanned<String>,
    unit: Option<String>,
    target: Option<f64>,
    limit: Option<f64>,
    #[serde(default)]
    na: bool,
    #[serde(default)]
    evidence: bool,
}

fn one() -> f64 {
    1.0
}

/// Parses and checks a template; the error names the line and what to fix.
pub fn parse(text: &str) -> Result<Scorecard, TemplateError> {
    let raw: RawCard = toml::from_str(text).map_err(|e| TemplateError {
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        reason: e.message().trim().to_owned(),
    })?;
    let at = |span: std::ops::Range<usize>, reason: String| TemplateError {
        line: line_of(text, span.start),
        reason,
    };
    if raw.name.trim().is_empty() {
        return Err(TemplateError {
            line: 1,
            reason: "the scorecard needs a `name`".into(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    let mut sections = Vec::new();
    for s in raw.section {
        let span = s.span();
        let s = s.into_inner();
        if s.criterion.is_empty() {
            return Err(at(
                span,
                format!("section {:?} has no [[section.criterion]]", s.name),
            ));
        }
        let mut criteria = Vec::new();
        for c in s.criterion {
            let span = c.span();
            let c = c.into_inner();
            let id = crate::model::normalize_name(&c.id);
            if id.is_empty() {
                return Err(at(
                    span,
                    "a criterion needs an `id` with letters or digits".into(),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(at(span, format!("criterion id {id:?} is used twice")));
            }
            if !(c.weight > 0.0 && c.weight.is_finite()) {
                return Err(at(
                    span,
                    format!(
                        "criterion {id:?}: `weight` must be above 0 (it is {})",
                        c.weight
                    ),
                ));
            }
            let scale_span = c.scale.span();
            let scale = match c.scale.get_ref().as_str() {
                "yes-no" => Scale::YesNo,
                "1-5" => Scale::OneToFive,
                "0-10" => Scale::ZeroToTen,
                "time" => {
                    let unit = match c.unit.as_deref() {
                        Some("seconds") | None => TimeUnit::Seconds,
                        Some("minutes") => TimeUnit::Minutes,
                        Some(other) => {
                            return Err(at(
                                span,
                                format!(
                                    "criterion {id:?}: unit {other:?} is not seconds or minutes"
                                ),
                            ));
                        }
                    };
                    let (Some(target), Some(limit)) = (c.target, c.limit) else {
                        return Err(at(
                            span,
                            format!(
                                "criterion {id:?}: a time scale needs `target` (full marks at or under) and `limit` (no marks at or over)"
                            ),
                        ));
                    };
                    if !(target >= 0.0 && limit > target) {
                        return Err(at(
                            span,
                            format!(
                                "criterion {id:?}: `limit` ({limit}) must be above `target` ({target}) and both at least 0"
                            ),
                        ));
                    }
                    Scale::Time {
                        unit,
                        target,
                        limit,
                    }
                }
                other => {
                    return Err(at(
                        scale_span,
                        format!(
                            "criterion {id:?}: unknown scale {other:?}: use yes-no, 1-5, 0-10 or time"
                        ),
                    ));
                }
            };
            if !matches!(scale, Scale::Time { .. })
                && (c.unit.is_some() || c.target.is_some() || c.limit.is_some())
            {
                return Err(at(
                    span,
                    format!(
                        "criterion {id:?}: `unit`, `target` and `limit` belong to time scales only"
                    ),
                ));
            }
            criteria.push(Criterion {
                id,
                question: c.question,
                weight: c.weight,
                scale,
                na_allowed: c.na,
                evidence_required: c.evidence,
            });
        }
        sections.push(Section {
            name: s.name,
            criteria,
        });
    }
    if sections.is_empty() {
        return Err(TemplateError {
            line: 1,
            reason: "the scorecard has no [[section]]".into(),
        });
    }
    Ok(Scorecard {
        name: raw.name.trim().to_owned(),
        description: raw.description,
        sections,
    })
}

/// The example template shipped with the demo archive.
pub const RETAIL_EXAMPLE: &str = include_str!("retail_store_visit.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses() {
        let card = parse(RETAIL_EXAMPLE).unwrap();
        assert!(card.criteria().count() >= 8);
        assert!(
            card.criteria()
                .any(|(_, c)| matches!(c.scale, Scale::Time { .. }))
        );
    }

    #[test]
    fn errors_name_the_line_and_the_reason() {
        let bad = "name = \"x\"\n\n[[section]]\nname = \"A\"\n\n[[section.criterion]]\nid = \"a\"\nquestion = \"?\"\nscale = \"1-7\"\n";
        let e = parse(bad).unwrap_err();
        assert_eq!(e.line, 9);
        assert!(e.reason.contains("unknown scale \"1-7\""), "{}", e.reason);

        let e = parse("name = \"x\"\n[[section]]\nname = 3\n").unwrap_err();
        assert_eq!(e.line, 3);

        let twice = "name = \"x\"\n[[section]]\nname = \"A\"\n[[section.criterion]]\nid = \"a\"\nquestion = \"?\"\nscale = \"yes-no\"\n[[section.criterion]]\nid = \"A\"\nquestion = \"?\"\nscale = \"yes-no\"\n";
        let e = parse(twice).unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.reason.contains("used twice"));

        let time = "name = \"x\"\n[[section]]\nname = \"A\"\n[[section.criterion]]\nid = \"t\"\nquestion = \"?\"\nscale = \"time\"\ntarget = 60\n";
        assert!(parse(time).unwrap_err().reason.contains("needs `target`"));
        assert!(
            parse("name = \"x\"\n")
                .unwrap_err()
                .reason
                .contains("no [[section]]")
        );
        assert!(parse("name = \"x\"\ncolour = 1\n").is_err());
    }
}
