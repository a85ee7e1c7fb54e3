//! Small helpers several views share: text inputs, list selection and counted nouns.

use ratatui_textarea::{TextArea, WrapMode};

use crate::tui::keymap::Action;

/// An empty text input that wraps its text.
pub fn editor(placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text(placeholder);
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t
}

pub fn text_of(t: &TextArea<'_>) -> String {
    t.lines().join("\n")
}

pub fn set_text(t: &mut TextArea<'static>, text: &str) {
    t.select_all();
    t.cut();
    t.insert_str(text);
}

/// Moves a list's selection by a navigation key (other actions leave it).
pub fn move_sel(sel: &mut usize, len: usize, action: Action) {
    if len == 0 {
        *sel = 0;
        return;
    }
    *sel = match action {
        Action::Up => sel.saturating_sub(1),
        Action::Down => (*sel + 1).min(len - 1),
        Action::Top => 0,
        Action::Bottom => len - 1,
        Action::PageUp => sel.saturating_sub(10),
        Action::PageDown => (*sel + 10).min(len - 1),
        _ => *sel,
    }
}

/// "1 note", "2 notes".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The article for a word: "an observation", "a quote".
pub fn a_or_an(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
