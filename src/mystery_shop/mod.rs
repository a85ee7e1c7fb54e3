//! Mystery shopping: scorecard templates, scoring visits, and reports across locations.

pub mod score;
pub mod template;

pub use score::{
    Answer, GroupBy, ReportGroup, ScoredVisit, VisitScore, parse_value, report, score_label,
    score_visit,
};
pub use template::{Scorecard, TemplateError, parse};
