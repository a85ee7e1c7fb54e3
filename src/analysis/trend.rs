//! Change between two waves of research: themes and tags that grew or shrank, with the count
//! in each wave and a two-proportion z-test on their shares, so a team can see whether a fix
//! worked. Themes are found over both waves together so the two are measured alike.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::themes::{Curation, ThemeSettings, themes};
use super::{AnalysisNote, p_value, round2};
use crate::model::Tag;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Grew,
    Shrank,
    /// No clear change (p ≥ 0.05).
    Steady,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// A theme's label, or a tag (`#checkout`).
    pub name: String,
    /// The theme's id; `None` for tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    pub before: usize,
    pub after: usize,
    pub before_share: f64,
    pub after_share: f64,
    /// Two-proportion z: positive when the share grew.
    pub z: f64,
    pub p: f64,
    pub direction: Direction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendReport {
    pub before_notes: usize,
    pub after_notes: usize,
    /// Largest change first.
    pub themes: Vec<Change>,
    pub tags: Vec<Change>,
}

/// Compares two waves of notes.
pub fn trend(
    before: &[AnalysisNote],
    after: &[AnalysisNote],
    settings: &ThemeSettings,
    curation: &Curation,
) -> TrendReport {
    let before_ids: HashSet<&str> = before.iter().map(|n| n.id.as_str()).collect();
    let after_ids: HashSet<&str> = after.iter().map(|n| n.id.as_str()).collect();
    let mut all: Vec<AnalysisNote> = before.to_vec();
    all.extend(
        after
            .iter()
            .filter(|n| !before_ids.contains(n.id.as_str()))
            .cloned(),
    );
    let report = themes(&all, settings, curation);
    let (nb, na) = (before.len(), after.len());
    let mut theme_changes: Vec<Change> = report
        .themes
        .iter()
        .map(|t| {
            let b = t
                .notes
                .iter()
                .filter(|id| before_ids.contains(id.as_str()))
                .count();
            let a = t
                .notes
                .iter()
                .filter(|id| after_ids.contains(id.as_str()))
                .count();
            let mut c = change(t.label.clone(), b, nb, a, na);
            c.theme = Some(t.id.clone());
            c
        })
        .collect();
    let count_tags = |notes: &[AnalysisNote]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for n in notes {
            let tags: BTreeSet<String> = n.tags.iter().map(Tag::to_string).collect();
            for t in tags {
                *m.entry(t).or_default() += 1;
            }
        }
        m
    };
    let (tb, ta) = (count_tags(before), count_tags(after));
    let names: BTreeSet<&String> = tb.keys().chain(ta.keys()).collect();
    let mut tag_changes: Vec<Change> = names
        .into_iter()
        .map(|t| {
            change(
                t.clone(),
                tb.get(t).copied().unwrap_or(0),
                nb,
                ta.get(t).copied().unwrap_or(0),
                na,
            )
        })
        .collect();
    let order = |a: &Change, b: &Change| {
        b.z.abs()
            .total_cmp(&a.z.abs())
            .then_with(|| a.name.cmp(&b.name))
    };
    theme_changes.sort_by(order);
    tag_changes.sort_by(order);
    TrendReport {
        before_notes: nb,
        after_notes: na,
        themes: theme_changes,
        tags: tag_changes,
    }
}

fn change(name: String, b: usize, nb: usize, a: usize, na: usize) -> Change {
    let share = |x: usize, n: usize| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    let (pb, pa) = (share(b, nb), share(a, na));
    let pooled = share(a + b, na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / nb.max(1) as f64 + 1.0 / na.max(1) as f64)).sqrt();
    let z = if se > 0.0 && nb > 0 && na > 0 {
        (pa - pb) / se
    } else {
        0.0
    };
    let p = p_value(z);
    Change {
        name,
        theme: None,
        before: b,
        after: a,
        before_share: round2(pb),
        after_share: round2(pa),
        z: round2(z),
        p: (p * 10_000.0).round() / 10_000.0,
        direction: if p >= 0.05 {
            Direction::Steady
        } else if z > 0.0 {
            Direction::Grew
        } else {
            Direction::Shrank
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::note;

    #[test]
    fn a_theme_only_in_the_later_wave_grew() {
        let mut before = Vec::new();
        let mut after = Vec::new();
        for i in 0..8 {
            before.push(note(
                &format!("b{i}"),
                &format!("s{i}"),
                &format!("friendly staff helped at the till {i}"),
            ));
            after.push(note(
                &format!("a{i}"),
                &format!("t{i}"),
                &format!("friendly staff helped at the till {i}"),
            ));
            after.push(note(
                &format!("c{i}"),
                &format!("t{i}"),
                &format!("the locker code never arrived {i} #locker"),
            ));
        }
        let r = trend(
            &before,
            &after,
            &ThemeSettings::default(),
            &Curation::default(),
        );
        assert_eq!(r.themes.len(), 2, "{r:#?}");
        let grown = r
            .themes
            .iter()
            .find(|c| c.name.contains("code"))
            .expect("the locker theme");
        assert_eq!((grown.before, grown.after), (0, 8));
        assert_eq!(grown.direction, Direction::Grew);
        let staff = r
            .themes
            .iter()
            .find(|c| c.name.contains("staff"))
            .expect("the staff theme");
        assert_eq!((staff.before, staff.after), (8, 8));
        assert_ne!(staff.direction, Direction::Grew);
        let tag = r.tags.iter().find(|c| c.name == "#locker").unwrap();
        assert_eq!(tag.direction, Direction::Grew);
    }
}
