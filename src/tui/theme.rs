//! Colours and emphasis. With `NO_COLOR` set (or `colour = false`), only bold, reverse and
//! underline remain. The type is `Palette`: a `Theme` is a research theme (`src/analysis`).
//! Each colour can be changed in the config file's `[colours]`.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

use crate::config::Setting;
use crate::model::{Facet, NoteKind};

#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub color: bool,
    colours: Colours,
}

/// The colours the config file can name, with their defaults.
#[derive(Debug, Clone, Copy)]
struct Colours {
    persona: Color,
    touchpoint: Color,
    emotion: Color,
    job: Color,
    code: Color,
    observation: Color,
    quote: Color,
    interpretation: Color,
    /// Borders in focus, key names, tags being typed.
    accent: Color,
    /// The selected row's background.
    selected: Color,
    /// Search matches.
    highlight: Color,
    dim: Color,
    error: Color,
    ok: Color,
}

const DEFAULT_COLOURS: Colours = Colours {
    persona: Color::Magenta,
    touchpoint: Color::Cyan,
    emotion: Color::Yellow,
    job: Color::Green,
    code: Color::Blue,
    observation: Color::Blue,
    quote: Color::Green,
    interpretation: Color::Magenta,
    accent: Color::Cyan,
    selected: Color::DarkGray,
    highlight: Color::Yellow,
    dim: Color::DarkGray,
    error: Color::Red,
    ok: Color::Green,
};

impl Colours {
    fn slot(&mut self, name: &str) -> Option<&mut Color> {
        Some(match name {
            "persona" => &mut self.persona,
            "touchpoint" => &mut self.touchpoint,
            "emotion" => &mut self.emotion,
            "job" => &mut self.job,
            "code" => &mut self.code,
            "observation" => &mut self.observation,
            "quote" => &mut self.quote,
            "interpretation" => &mut self.interpretation,
            "accent" => &mut self.accent,
            "selected" => &mut self.selected,
            "highlight" => &mut self.highlight,
            "dim" => &mut self.dim,
            "error" => &mut self.error,
            "ok" => &mut self.ok,
            _ => return None,
        })
    }
}

const NAMES: &str = "persona, touchpoint, emotion, job, code, observation, quote, interpretation, \
                     accent, selected, highlight, dim, error, ok";

impl Palette {
    /// No colour: bold, reverse and underline only.
    pub fn plain() -> Palette {
        Palette {
            color: false,
            colours: DEFAULT_COLOURS,
        }
    }

    /// The built-in colours.
    pub fn coloured() -> Palette {
        Palette {
            color: true,
            colours: DEFAULT_COLOURS,
        }
    }

    /// The built-in colours with the config file's `[colours]`; an error is the setting's
    /// line and what is wrong with it.
    pub fn with(color: bool, settings: &[Setting]) -> Result<Palette, (usize, String)> {
        let mut colours = DEFAULT_COLOURS;
        for s in settings {
            let slot = colours.slot(&s.name).ok_or_else(|| {
                (
                    s.line,
                    format!("no colour called {:?}: use one of {NAMES}", s.name),
                )
            })?;
            *slot = Color::from_str(s.value.trim()).map_err(|_| {
                (
                    s.line,
                    format!(
                        "{:?} is not a colour: use a name (red, light-blue, dark-gray…), \"#rrggbb\" or a number 0-255",
                        s.value
                    ),
                )
            })?;
        }
        Ok(Palette { color, colours })
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
            Facet::Persona => self.colours.persona,
            Facet::Touchpoint => self.colours.touchpoint,
            Facet::Emotion => self.colours.emotion,
            Facet::Job => self.colours.job,
            Facet::Code => self.colours.code,
        };
        self.fg(c).add_modifier(Modifier::BOLD)
    }

    /// How inline tags look in the editor while typing.
    pub fn typed_tag(&self) -> Style {
        self.fg(self.colours.accent).add_modifier(Modifier::BOLD)
    }

    pub fn kind(&self, k: NoteKind) -> Style {
        match k {
            NoteKind::Observation => self.fg(self.colours.observation),
            NoteKind::Quote => self.fg(self.colours.quote).add_modifier(Modifier::ITALIC),
            NoteKind::Interpretation => self.fg(self.colours.interpretation),
        }
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(self.colours.selected)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn highlight(&self) -> Style {
        self.fg(self.colours.highlight)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// Coded words in a note's text: underlined in the code colour.
    pub fn passage(&self) -> Style {
        self.fg(self.colours.code)
            .add_modifier(Modifier::UNDERLINED)
    }

    /// The note view's cursor: reversed, with or without colour.
    pub fn cursor(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(self.colours.dim)
        } else {
            Style::new()
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn focused_border(&self) -> Style {
        self.fg(self.colours.accent).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(self.colours.error).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(self.colours.ok)
    }

    /// A heat map's shades (░ ▒ ▓ █) and figures: the accent colour.
    pub fn heat(&self) -> Style {
        self.fg(self.colours.accent)
    }

    pub fn key(&self) -> Style {
        self.fg(self.colours.accent).add_modifier(Modifier::BOLD)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, value: &str, line: usize) -> Setting {
        Setting {
            name: name.into(),
            value: value.into(),
            line,
        }
    }

    #[test]
    fn the_config_file_changes_a_colour() {
        let p = Palette::with(true, &[setting("persona", "#ff8800", 2)]).unwrap();
        assert_eq!(
            p.facet(Facet::Persona).fg,
            Some(Color::Rgb(0xff, 0x88, 0x00))
        );
        assert_eq!(p.facet(Facet::Job).fg, Some(Color::Green));
        let p = Palette::with(true, &[setting("accent", "light-blue", 1)]).unwrap();
        assert_eq!(p.key().fg, Some(Color::LightBlue));
        // Without colour, no colour shows whatever the file says.
        let p = Palette::with(false, &[setting("persona", "red", 1)]).unwrap();
        assert_eq!(p.facet(Facet::Persona).fg, None);
    }

    #[test]
    fn a_bad_colour_names_its_line() {
        let (line, why) = Palette::with(true, &[setting("persona", "blurple", 4)]).unwrap_err();
        assert_eq!(line, 4);
        assert!(why.contains("not a colour"), "{why}");
        let (line, why) = Palette::with(true, &[setting("personna", "red", 5)]).unwrap_err();
        assert_eq!(line, 5);
        assert!(why.contains("persona, touchpoint"), "{why}");
    }
}
