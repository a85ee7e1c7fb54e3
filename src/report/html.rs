//! The report as one self-contained HTML page: inline CSS (with a print stylesheet) and
//! inline SVG, no script, no font, no image or link to fetch, and a Content-Security-Policy
//! that forbids any request, so it opens offline in any browser and prints cleanly to PDF.
//! Every piece of text from the archive goes through [`escape`].

use std::fmt::Write as _;

use super::ReportData;
use super::sections::SECTIONS;

/// What the page may load: nothing but its own inline styles (and `data:` images).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Text made safe for HTML content and attribute values: `& < > " '` become entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;color:#1b1b1b;background:#fff}
.masthead{background:#f3f5f8;border-bottom:1px solid #c9ced6;padding:1.6rem 0 1rem}
.masthead>div,main,footer{max-width:64rem;margin:0 auto;padding:0 1.5rem}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:.8rem;color:#4a5361}
h1{font-size:2rem;line-height:1.2;margin:.2rem 0 .5rem}
h2{font-size:1.45rem;line-height:1.25;margin:2.2rem 0 .6rem;padding-top:.7rem;border-top:2px solid #1b1b1b}
h3{font-size:1.08rem;line-height:1.3;margin:1.3rem 0 .3rem}
.lede{font-size:1.08rem;margin:.2rem 0}
.glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.5rem 1.5rem;margin:.9rem 0 .3rem}
.glance div{border-left:3px solid #0b57a3;padding-left:.6rem}
.glance dt{font-size:.78rem;text-transform:uppercase;letter-spacing:.06em;color:#4a5361}
.glance dd{margin:0;font-weight:600}
nav ol{display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;padding:0;margin:.7rem 0 0;list-style:none}
a{color:#0b57a3}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.6rem;margin:1rem 0;padding:0;list-style:none}
.figures li{background:#f3f5f8;border-radius:6px;padding:.5rem .8rem;color:#4a5361}
.figures strong{display:block;font-size:1.5rem;line-height:1.2;color:#1b1b1b}
.figures li.wide{grid-column:span 2}
.figures li.wide strong{white-space:nowrap;font-size:1.3rem;line-height:1.4}
.tables{display:flex;flex-wrap:wrap;gap:0 2rem;align-items:flex-start}
.tables table{width:auto;min-width:14rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.28rem .5rem;border-bottom:1px solid #c9ced6;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #1b1b1b}
tbody th{font-weight:normal}
tbody tr.stage th,tbody tr.stage td{font-weight:600}
tbody tr.touchpoint th{padding-left:1.4rem}
.scroll{overflow-x:auto}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.heat{font-size:.84rem}
.heat th,.heat td{padding:.25rem .35rem}
.heat td.c{text-align:center;font-variant-numeric:tabular-nums;min-width:2.2rem}
.heat th.e{text-align:center;font-weight:600;font-size:.78rem}
.heat th.e small,.heat th small{display:block;font-weight:normal;color:#4a5361}
.heat tbody th{white-space:nowrap}
blockquote{margin:.45rem 0;padding:.4rem .9rem;border-left:4px solid #0b57a3;background:#f6f8fb}
blockquote p{margin:0}
.who{display:block;color:#4a5361;font-size:.85rem;margin-top:.15rem}
.meta{color:#4a5361;margin:.1rem 0 .4rem}
.tag{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
figure{margin:1rem 0;overflow-x:auto}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#4a5361;font-size:.9rem}
.theme,.insight{break-inside:avoid}
footer{color:#4a5361;font-size:.85rem;margin-top:3rem;padding-bottom:2rem}
@media print{
@page{margin:16mm}
body{font-size:10.5pt}
.masthead{background:none;border:0;padding:0 0 .4rem}
.masthead>div,main,footer{max-width:none;padding:0}
nav{display:none}
.scroll{overflow:visible}
h2{break-after:avoid}
h3{break-after:avoid}
figure,table,blockquote,.theme,.insight{break-inside:avoid}
.heat{font-size:7.5pt}
.heat th,.heat td{padding:2px 3px}
.heat th.e{font-size:7pt;overflow-wrap:anywhere}
.heat tbody th{white-space:normal}
a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// The whole page.
pub fn page(data: &ReportData) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = escape(&data.title);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fieldnotes {}">
<title>{title} · findings</title>
<style>{CSS}</style>
</head>
<body>
<header class="masthead"><div>
<p class="kicker">Findings report</p>
<h1>{title}</h1>
<p class="lede">{}</p>
"#,
        env!("CARGO_PKG_VERSION"),
        escape(&super::sections::lede(data)),
    );
    let glance = super::sections::at_a_glance(data);
    if !glance.is_empty() {
        out.push_str("<dl class=\"glance\">");
        for (what, finding) in glance {
            let _ = write!(
                out,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                escape(what),
                escape(&finding)
            );
        }
        out.push_str("</dl>\n");
    }
    out.push_str("<nav aria-label=\"Contents\"><ol>");
    for s in SECTIONS.iter().filter(|s| s.html.is_some()) {
        let _ = write!(out, r##"<li><a href="#{}">{}</a></li>"##, s.id, s.title);
    }
    out.push_str("</ol></nav>\n</div></header>\n<main>\n");
    for s in SECTIONS {
        let Some(write_body) = s.html else { continue };
        let mut body = String::new();
        write_body(data, &mut body);
        let _ = write!(
            out,
            "<section id=\"{id}\" aria-labelledby=\"{id}-h\">\n<h2 id=\"{id}-h\">{}</h2>\n{body}</section>\n",
            s.title,
            id = s.id
        );
    }
    let _ = write!(
        out,
        "</main>\n<footer><p>Written by fieldnotes {} from the notes of the archive. {}</p></footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(super::sections::privacy_line(data).as_str())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup_and_no_way_out_of_an_attribute() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("café ☕ ordinary"), "café ☕ ordinary");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    /// WCAG's relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap() as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    pub(crate) fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn text_and_chart_colours_meet_wcag_aa() {
        // Text on the page, the masthead, the figures and the quotes.
        for bg in ["#ffffff", "#f3f5f8", "#f6f8fb"] {
            for fg in ["#1b1b1b", "#4a5361", "#0b57a3"] {
                assert!(
                    contrast(fg, bg) >= 4.5,
                    "{fg} on {bg}: {}",
                    contrast(fg, bg)
                );
            }
        }
        // Lines and legend text of every series, on white.
        for c in crate::report::svg::SERIES_COLOURS {
            assert!(
                contrast(c, "#ffffff") >= 4.5,
                "{c}: {}",
                contrast(c, "#ffffff")
            );
        }
        // Every cell of the heat map: its number against its fill.
        for (fill, text) in crate::report::sections::HEAT_CELLS {
            assert!(
                contrast(fill, text) >= 4.5,
                "{text} on {fill}: {}",
                contrast(fill, text)
            );
        }
    }
}
