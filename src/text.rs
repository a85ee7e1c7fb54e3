//! Short forms of notes and times for listings, reports and exports: one way to cut a note
//! to a length and one way to write how far into a session something was said.

/// `text` cut to at most `max` characters, with `…` where it was cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// `text` on one line: runs of white space (line breaks included) become one space, and none
/// is left at either end.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A note on one line, cut to `max` characters.
pub fn excerpt(text: &str, max: usize) -> String {
    cut(&one_line(text), max)
}

/// How far into its session a note was taken: `+04:05`, or `+1:02:03` past the hour.
pub fn offset_label(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("+{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("+{:02}:{:02}", s / 60, s % 60)
    }
}

/// The line (from 1) that byte `offset` of `text` is on, for errors in files people edit.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_flatten_and_cut_on_characters() {
        assert_eq!(excerpt("  a\n\nb  c ", 10), "a b c");
        assert_eq!(excerpt("café au lait", 4), "café…");
        assert_eq!(cut("a\nb", 5), "a\nb");
    }

    #[test]
    fn offsets_read_as_clock_times() {
        assert_eq!(offset_label(83_000), "+01:23");
        assert_eq!(offset_label(3_723_000), "+1:02:03");
        assert_eq!(offset_label(-5), "+00:00");
    }
}
