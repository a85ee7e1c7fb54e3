//! The app's views, one module each. A view's module holds its state, its keys (an `Action`
//! in, `Request`s out, no I/O), its part of the worker's answers and its drawing. The `App`
//! keeps what spans views (navigation, overlays, prompts, the status bar) and reaches the
//! focused view through `View::spec`.

pub mod capture;
pub mod codebook;
pub mod common;
pub mod cooccurrence;
pub mod form;
pub mod grid;
pub mod home;
pub mod matrix;
pub mod measures;
pub mod note;
pub mod participants;
pub mod report;
pub mod search;
pub mod themes;
pub mod trash;
pub mod visit;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::app::App;
use super::keymap::{Action, Context};
use super::worker::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Home,
    NewSession,
    Capture,
    Search,
    Visit,
    Report,
    Themes,
    Trash,
    Participants,
    Note,
    Codebook,
    Cooccurrence,
    Matrix,
    Measures,
}

impl View {
    /// How the app calls the view: one line per view.
    pub fn spec(self) -> &'static ViewSpec {
        match self {
            View::Home => &home::SPEC,
            View::NewSession => &form::SPEC,
            View::Capture => &capture::SPEC,
            View::Search => &search::SPEC,
            View::Visit => &visit::SPEC,
            View::Report => &report::SPEC,
            View::Themes => &themes::SPEC,
            View::Trash => &trash::SPEC,
            View::Participants => &participants::SPEC,
            View::Note => &note::SPEC,
            View::Codebook => &codebook::SPEC,
            View::Cooccurrence => &cooccurrence::SPEC,
            View::Matrix => &matrix::SPEC,
            View::Measures => &measures::SPEC,
        }
    }
}

/// What the app calls a view by. Each view module has one, `SPEC`.
pub struct ViewSpec {
    /// The view's name in the title bar.
    pub title: &'static str,
    /// Where the view's keys are read in the key table (`keymap`); a view with several
    /// parts has a context for each.
    pub context: fn(&App) -> Context,
    /// What a key bound in the view's context does (overlays, prompts and the keys that
    /// work everywhere are the app's).
    pub act: fn(&mut App, Action) -> Vec<Request>,
    /// A key no binding claims: text for the view's focused input, if it has one.
    pub type_key: fn(&mut App, KeyEvent) -> Vec<Request>,
    /// Pasted text, for the view's focused input if it has one.
    pub paste: fn(&mut App, &str) -> Vec<Request>,
    /// Draws the view in the frame's body (between the title and status bars).
    pub draw: fn(&mut Frame, &App, Rect),
}

/// `type_key` of a view without a text input.
pub fn no_typing(_: &mut App, _: KeyEvent) -> Vec<Request> {
    Vec::new()
}

/// `paste` of a view without a text input.
pub fn no_paste(_: &mut App, _: &str) -> Vec<Request> {
    Vec::new()
}
