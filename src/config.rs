//! The researcher's settings, in layers: built-in defaults, then the config file, then the
//! environment, then command-line flags; each layer overrides the one before.
//!
//! The file is TOML, at `config.toml` in the platform's config folder (e.g.
//! `~/.config/fieldnotes/config.toml`), or wherever `FIELDNOTES_CONFIG` or `--config` points.
//! A key it does not know is an error naming its line: a typo never passes silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::text::line_of;

/// How long the app waits after the first unsaved keystroke before writing a draft.
pub const DEFAULT_DRAFT_INTERVAL: Duration = Duration::from_millis(500);

/// The settings every front end reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file the settings came from, if any.
    pub file: Option<PathBuf>,
    /// The archive to open when no `--archive` or `FIELDNOTES_ARCHIVE` says which.
    pub archive: Option<PathBuf>,
    pub draft_interval: Duration,
    /// Whether the app may use colour (`NO_COLOR` or `colour = false` turn it off).
    pub colour: bool,
    /// Colours by name (`persona = "magenta"`), checked by the app, which knows the names.
    pub colours: Vec<Setting>,
    /// Key bindings by view and action (`[keys.note-list] trash-note = "ctrl+d"`), checked by
    /// the app, which knows the views, actions and keys.
    pub keys: Vec<KeySetting>,
    /// Who codes passages and notes (`coder = "Ana"`, `FIELDNOTES_CODER`), recorded with every
    /// coding so coders can be compared; `--coder` wins, `$USER` when none says.
    pub coder: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            archive: None,
            draft_interval: DEFAULT_DRAFT_INTERVAL,
            colour: true,
            colours: Vec::new(),
            keys: Vec::new(),
            coder: None,
        }
    }
}

/// One `name = "value"` of the file, with the line it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// One rebinding: in `context`, `action` takes `keys` instead of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySetting {
    pub context: String,
    pub action: String,
    pub keys: Vec<String>,
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    archive: Option<String>,
    draft_interval_ms: Option<Spanned<u64>>,
    colour: Option<bool>,
    coder: Option<String>,
    #[serde(default)]
    colours: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<KeyList>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

/// Where the config file is looked for when neither `--config` nor `FIELDNOTES_CONFIG` says.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "fieldnotes").map(|d| d.config_dir().join("config.toml"))
}

impl Config {
    /// Defaults, then the file (`explicit`, else `FIELDNOTES_CONFIG`, else the default path
    /// when it exists), then the environment. Flags are applied by the caller on top.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let named = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("FIELDNOTES_CONFIG").map(PathBuf::from));
        let mut config = match named {
            // A file the researcher named must exist.
            Some(path) => Config::from_file(&path)?,
            None => match default_path().filter(|p| p.exists()) {
                Some(path) => Config::from_file(&path)?,
                None => Config::default(),
            },
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read the config file {}", path.display()), e))?;
        let mut config = Config::parse(&text).map_err(|(line, message)| Error::Config {
            path: path.display().to_string(),
            line,
            message,
        })?;
        config.file = Some(path.to_path_buf());
        // A relative archive is relative to the file, not to wherever the app was started.
        if let Some(archive) = &config.archive
            && archive.is_relative()
            && let Some(dir) = path.parent()
        {
            config.archive = Some(dir.join(archive));
        }
        Ok(config)
    }

    /// Reads the file's text over the defaults; an error is its line and what is wrong.
    pub fn parse(text: &str) -> std::result::Result<Config, (usize, String)> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            (
                e.span().map_or(1, |s| line_of(text, s.start)),
                e.message().trim().to_owned(),
            )
        })?;
        let mut config = Config {
            archive: raw.archive.map(|a| expand_home(&a)),
            coder: raw.coder.filter(|c| !c.trim().is_empty()),
            ..Config::default()
        };
        if let Some(ms) = raw.draft_interval_ms {
            config.draft_interval =
                draft_interval(*ms.get_ref()).map_err(|m| (line_of(text, ms.span().start), m))?;
        }
        if let Some(colour) = raw.colour {
            config.colour = colour;
        }
        config.colours = raw
            .colours
            .into_iter()
            .map(|(name, value)| Setting {
                line: line_of(text, name.span().start),
                name: name.into_inner(),
                value: value.into_inner(),
            })
            .collect();
        for (context, actions) in raw.keys {
            for (action, keys) in actions {
                config.keys.push(KeySetting {
                    context: context.get_ref().clone(),
                    line: line_of(text, action.span().start),
                    action: action.into_inner(),
                    keys: match keys.into_inner() {
                        KeyList::One(k) => vec![k],
                        KeyList::Many(ks) => ks,
                    },
                });
            }
        }
        config.keys.sort_by_key(|k| k.line);
        config.colours.sort_by_key(|c| c.line);
        Ok(config)
    }

    /// The environment's layer: `FIELDNOTES_DRAFT_INTERVAL_MS`, `FIELDNOTES_CODER`, and
    /// `NO_COLOR` (set and not empty) turning colour off. `FIELDNOTES_ARCHIVE` is read with
    /// the `--archive` flag.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(coder) = var("FIELDNOTES_CODER").filter(|c| !c.trim().is_empty()) {
            self.coder = Some(coder);
        }
        if let Some(ms) = var("FIELDNOTES_DRAFT_INTERVAL_MS") {
            let ms = ms.trim().parse::<u64>().map_err(|_| {
                Error::BadValue(format!(
                    "FIELDNOTES_DRAFT_INTERVAL_MS={ms:?} is not a number of milliseconds"
                ))
            })?;
            self.draft_interval = draft_interval(ms).map_err(Error::BadValue)?;
        }
        if no_color_asked(var("NO_COLOR")) {
            self.colour = false;
        }
        Ok(())
    }

    /// Who is coding: the flag's name, else the settings' (`FIELDNOTES_CODER`, `coder` in the
    /// file), else the login name (`$USER`, as a session's researcher defaults to).
    pub fn coder(&self, flag: Option<String>) -> Result<String> {
        flag.filter(|c| !c.trim().is_empty())
            .or_else(|| self.coder.clone())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .or_else(|| std::env::var("USERNAME").ok().filter(|u| !u.is_empty()))
            .map(|c| c.trim().to_owned())
            .ok_or(Error::Empty(
                "who is coding? pass --coder NAME, set FIELDNOTES_CODER or `coder` in config.toml",
            ))
    }

    /// The archive to open: the flag's (or `FIELDNOTES_ARCHIVE`'s), else the file's, else the
    /// platform's data folder.
    pub fn archive_dir(&self, flag: Option<PathBuf>) -> Result<PathBuf> {
        match flag.or_else(|| self.archive.clone()) {
            Some(dir) => Ok(dir),
            None => Ok(crate::Archive::default_dir()?.join("archive")),
        }
    }
}

/// `NO_COLOR`'s value asks for no colour when it is set and not empty (no-color.org).
pub fn no_color_asked(value: Option<String>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Drafts are written at least every 5 s, and not more often than every 50 ms.
fn draft_interval(ms: u64) -> std::result::Result<Duration, String> {
    if (50..=5000).contains(&ms) {
        Ok(Duration::from_millis(ms))
    } else {
        Err(format!(
            "draft-interval-ms = {ms} is out of range: use 50 to 5000 (a draft at most 5 s behind the typing)"
        ))
    }
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => directories::BaseDirs::new()
            .map(|b| b.home_dir().join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn every_setting_is_read_with_its_line() {
        let text = "archive = \"/data/research\"\ndraft-interval-ms = 250\ncolour = false\n\n\
                    [colours]\npersona = \"red\"\n\n[keys.note-list]\ntrash-note = \"ctrl+d\"\n\
                    edit-note = [\"ctrl+e\", \"f4\"]\n";
        let c = Config::parse(text).unwrap();
        assert_eq!(c.archive, Some(PathBuf::from("/data/research")));
        assert_eq!(c.draft_interval, Duration::from_millis(250));
        assert!(!c.colour);
        assert_eq!(c.colours[0].name, "persona");
        assert_eq!(c.colours[0].line, 6);
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.keys[0].action, "trash-note");
        assert_eq!(c.keys[0].line, 9);
        assert_eq!(c.keys[1].keys, ["ctrl+e", "f4"]);
        assert_eq!(c.keys[1].context, "note-list");
    }

    #[test]
    fn an_unknown_key_is_an_error_on_its_line() {
        let (line, message) = Config::parse("colour = true\n\ndraft-intervall = 3\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("draft-intervall"), "{message}");
        let (line, _) = Config::parse("draft-interval-ms = 1\n").unwrap_err();
        assert_eq!(line, 1);
        let (line, _) = Config::parse("colour = \"yes\"\n").unwrap_err();
        assert_eq!(line, 1);
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let mut c = Config::parse("draft-interval-ms = 250\ncoder = \"Ana\"\n").unwrap();
        assert_eq!(c.coder.as_deref(), Some("Ana"));
        let env = |name: &str| match name {
            "FIELDNOTES_DRAFT_INTERVAL_MS" => Some("1000".to_owned()),
            "FIELDNOTES_CODER" => Some("Ben".to_owned()),
            "NO_COLOR" => Some("1".to_owned()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.draft_interval, Duration::from_millis(1000));
        assert!(!c.colour);
        assert_eq!(c.coder.as_deref(), Some("Ben"));
        assert_eq!(c.coder(Some("Cy".into())).unwrap(), "Cy");
        assert_eq!(c.coder(None).unwrap(), "Ben");
        // An empty NO_COLOR leaves colour on, as no-color.org asks.
        let mut c = Config::default();
        c.apply_env(|n| (n == "NO_COLOR").then(String::new))
            .unwrap();
        assert!(c.colour);
        assert!(
            Config::default()
                .apply_env(|n| (n == "FIELDNOTES_DRAFT_INTERVAL_MS").then(|| "soon".into()))
                .is_err()
        );
    }

    #[test]
    fn flags_override_the_file() {
        let c = Config::parse("archive = \"/from/file\"\n").unwrap();
        assert_eq!(
            c.archive_dir(Some("/from/flag".into())).unwrap(),
            PathBuf::from("/from/flag")
        );
        assert_eq!(c.archive_dir(None).unwrap(), PathBuf::from("/from/file"));
    }
}
