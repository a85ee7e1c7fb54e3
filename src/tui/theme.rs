//! Colours and emphasis. With `NO_COLOR` set, only bold, reverse and underline remain.
//! The type is `Palette`: a `Theme` is a research theme (`src/analysis`).

use ratatui::style::{Color, Modifier, Style};

use crate::model::{Facet, NoteKind};

/// The old name of `Palette`, kept only for `src/cli/output.rs` and `src/logging.rs`, which
/// ask `from_env().color` whether to colour their output; it goes when they say `Palette`.
pub type Theme = Palette;

#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub color: bool,
}

impl Palette {
    pub fn from_env() -> Palette {
        Palette {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn facet(&self, f: Facet) -> Style {
        let c = match f {
            Facet::Persona => Color::Magenta,
            Facet::Touchpoint => Color::Cyan,
            Facet::Emotion => Color::Yellow,
            Facet::Job => Color::Green,
            Facet::Code => Color::Blue,
        };
        self.fg(c).add_modifier(Modifier::BOLD)
    }

    /// How inline tags look in the editor while typing.
    pub fn typed_tag(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn kind(&self, k: NoteKind) -> Style {
        match k {
            NoteKind::Observation => self.fg(Color::Blue),
            NoteKind::Quote => self.fg(Color::Green).add_modifier(Modifier::ITALIC),
            NoteKind::Interpretation => self.fg(Color::Magenta),
        }
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn highlight(&self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn focused_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
}

/// The one-letter marker of a note kind in lists.
pub fn kind_marker(k: NoteKind) -> &'static str {
    match k {
        NoteKind::Observation => "O",
        NoteKind::Quote => "Q",
        NoteKind::Interpretation => "I",
    }
}
