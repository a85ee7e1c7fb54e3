//! The report's charts, as inline SVG written by hand: a bar chart and a line chart of one or
//! more series (each on its own scale: a second scale gets the right-hand axis). Each chart
//! is an image with a title and a description for screen readers (`role="img"`,
//! `aria-labelledby`); the page puts the same numbers in a table beside it.

use std::fmt::Write as _;

use super::html::escape;
use super::{Scale, Series};
use crate::text::cut;

const WIDTH: f64 = 860.0;
/// Colours of the series, each at least 4.5:1 against white (see the tests in `html`).
pub(super) const SERIES_COLOURS: [&str; 6] = [
    "#0b57a3", "#b3261e", "#1e6b34", "#6f42a0", "#8a4b00", "#00677f",
];
/// Dashes that tell the series apart without colour.
const DASHES: [&str; 6] = ["", "6 4", "2 3", "10 3 2 3", "1 5", "12 6"];
pub(super) const INK: &str = "#1b1b1b";
pub(super) const MUTED: &str = "#4a5361";
const GRID: &str = "#c9ced6";

/// One bar: its label, its length and the value written beside it.
pub(super) struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

/// The opening of a chart: an image labelled by its title and description.
fn open(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg viewBox="0 0 {WIDTH} {height:.0}" width="{WIDTH}" height="{height:.0}" role="img" aria-labelledby="{id}-title {id}-desc" font-size="13" fill="{INK}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(desc)
    );
}

/// Horizontal bars, longest to the right, on a scale from 0 to `max`.
pub(super) fn bars(id: &str, title: &str, desc: &str, bars: &[Bar], max: f64) -> String {
    const ROW: f64 = 26.0;
    const LABEL: f64 = 250.0;
    const VALUE: f64 = 70.0;
    let height = ROW * bars.len() as f64 + 8.0;
    let mut out = String::new();
    open(&mut out, id, height, title, desc);
    let span = WIDTH - LABEL - VALUE;
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let len = if max > 0.0 {
            (b.value / max).clamp(0.0, 1.0) * span
        } else {
            0.0
        };
        let _ = write!(
            out,
            r#"<text x="{:.0}" y="{:.1}" text-anchor="end">{}</text><rect x="{LABEL}" y="{:.1}" width="{len:.1}" height="{:.0}" fill="{}" rx="2"/><text x="{:.1}" y="{:.1}" fill="{MUTED}">{}</text>"#,
            LABEL - 8.0,
            y + ROW * 0.62,
            escape(&cut(&b.label, 34)),
            y + 3.0,
            ROW - 8.0,
            SERIES_COLOURS[0],
            LABEL + len + 6.0,
            y + ROW * 0.62,
            escape(&b.shown)
        );
    }
    out.push_str("</svg>");
    out
}

/// Lines over `categories`, one per series; a gap where a series has no value. The first
/// series' scale is the left axis; a series on another scale (effort beside feeling, say) is
/// drawn against a right-hand axis of its own.
pub(super) fn lines(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[String],
    series: &[Series],
) -> String {
    const HEIGHT: f64 = 300.0;
    const TOP: f64 = 34.0;
    let Some(left) = series.first().map(|s| s.scale) else {
        return String::new();
    };
    let right = series.iter().map(|s| s.scale).find(|s| *s != left);
    let rotate = categories.len() > 7;
    let bottom = if rotate { 86.0 } else { 40.0 };
    let (x0, x1) = (52.0, WIDTH - if right.is_some() { 52.0 } else { 20.0 });
    let (y0, y1) = (HEIGHT - bottom, TOP);
    // Each category in the middle of a band of its own, so no label runs off the edge.
    let band = (x1 - x0) / categories.len().max(1) as f64;
    let x = |i: usize| x0 + band * (i as f64 + 0.5);
    let y = |v: f64, s: &Scale| y0 - (v.clamp(s.min, s.max) - s.min) / (s.max - s.min) * (y0 - y1);
    let mut out = String::new();
    open(&mut out, id, HEIGHT, title, desc);
    // The axes' ticks and grid.
    for (scale, at, anchor) in [(Some(left), x0 - 6.0, "end"), (right, x1 + 6.0, "start")] {
        let Some(scale) = scale else { continue };
        for k in 0..=4 {
            let v = scale.min + (scale.max - scale.min) * k as f64 / 4.0;
            let yy = y(v, &scale);
            if anchor == "end" {
                let stroke = if v == 0.0 && scale.signed {
                    MUTED
                } else {
                    GRID
                };
                let _ = write!(
                    out,
                    r#"<line x1="{x0}" x2="{x1}" y1="{yy:.1}" y2="{yy:.1}" stroke="{stroke}"/>"#
                );
            }
            let _ = write!(
                out,
                r#"<text x="{at}" y="{:.1}" text-anchor="{anchor}" fill="{MUTED}">{}</text>"#,
                yy + 4.0,
                escape(&scale.label(v))
            );
        }
    }
    for (i, c) in categories.iter().enumerate() {
        let label = escape(&cut(c, 16));
        let xx = x(i);
        if rotate {
            let _ = write!(
                out,
                r#"<text transform="translate({xx:.1},{:.1}) rotate(-40)" text-anchor="end" fill="{MUTED}">{label}</text>"#,
                y0 + 16.0
            );
        } else {
            let _ = write!(
                out,
                r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle" fill="{MUTED}">{label}</text>"#,
                y0 + 20.0
            );
        }
    }
    // The legend, above the plot.
    let mut lx = x0;
    for (k, s) in series.iter().enumerate() {
        let colour = SERIES_COLOURS[k % SERIES_COLOURS.len()];
        let dash = DASHES[k % DASHES.len()];
        let name = cut(&s.name, 28);
        let axis = match right {
            Some(r) if s.scale == r => " (right axis)",
            _ => "",
        };
        let _ = write!(
            out,
            r#"<line x1="{lx:.0}" x2="{:.0}" y1="12" y2="12" stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"/><text x="{:.0}" y="16">{}{axis}</text>"#,
            lx + 24.0,
            lx + 30.0,
            escape(&name)
        );
        lx += 30.0 + 7.5 * (name.chars().count() + axis.len()) as f64 + 18.0;
    }
    for (k, s) in series.iter().enumerate() {
        let colour = SERIES_COLOURS[k % SERIES_COLOURS.len()];
        let dash = DASHES[k % DASHES.len()];
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate().take(categories.len()) {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1}",
                        if pen_down { " L" } else { " M" },
                        x(i),
                        y(*v, &s.scale)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-dasharray="{dash}"/>"#,
                path.trim_start()
            );
        }
        for (i, v) in s.values.iter().enumerate().take(categories.len()) {
            if let Some(v) = v {
                let _ = write!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"><title>{}: {} {}</title></circle>"#,
                    x(i),
                    y(*v, &s.scale),
                    escape(&cut(&categories[i], 40)),
                    escape(&cut(&s.name, 40)),
                    escape(&s.scale.label(*v))
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_series_on_another_scale_gets_the_right_axis() {
        let categories: Vec<String> = ["aware", "buy", "receive"].map(String::from).to_vec();
        let feeling = Series {
            name: "mean feeling".into(),
            values: vec![Some(-1.0), None, Some(1.5)],
            scale: Scale::VALENCE,
        };
        let effort = Series {
            name: "effort".into(),
            values: vec![Some(6.0), Some(4.0), Some(2.0)],
            scale: Scale {
                min: 1.0,
                max: 7.0,
                signed: false,
            },
        };
        let one = lines(
            "j",
            "Journey",
            "desc",
            &categories,
            std::slice::from_ref(&feeling),
        );
        let two = lines("j", "Journey", "desc", &categories, &[feeling, effort]);
        assert!(!one.contains("right axis"));
        assert!(two.contains("effort (right axis)"), "{two}");
        // The feeling's gap splits its line in two moves; effort is one line.
        assert_eq!(two.matches("<path").count(), 2);
        assert!(two.contains(r#"d="M178.0,203.5 M682.0,62.2""#), "{two}");
        assert_eq!(two.matches("<circle").count(), 5);
        // The right axis reads effort's own scale.
        assert!(two.contains(">7.0</text>"), "{two}");
        assert!(two.starts_with("<svg") && two.contains(r#"role="img""#));
        assert!(two.contains(r#"aria-labelledby="j-title j-desc""#));
    }

    #[test]
    fn bars_escape_their_labels() {
        let svg = bars(
            "b",
            "T <1>",
            "D & d",
            &[Bar {
                label: "<script>alert(1)</script>".into(),
                value: 3.0,
                shown: "3".into(),
            }],
            3.0,
        );
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("T &lt;1&gt;") && svg.contains("D &amp; d"));
    }
}
