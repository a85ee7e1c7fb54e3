//! Keys are data: each view's bindings live in one table, from which the key handling, the
//! status-bar hints and the help overlay are all derived.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Back,
    OpenSearch,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    NewSession,
    EndSession,
    FocusNext,
    FocusPrev,
    SaveNote,
    Newline,
    CycleKind,
    EditNote,
    ChangeKind,
    TrashNote,
    UndoTrash,
    History,
    ToggleFacet,
    ClearFilters,
    NextField,
    PrevField,
    Submit,
    Cycle,
    /// From a visit to the session's notes and full editor.
    Notes,
    Themes,
    NextTab,
    PrevTab,
    /// From the notes back to the visit's scorecard.
    VisitView,
    Report,
}

/// Where keys are read: each has its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Home,
    SessionForm,
    Editor,
    NoteList,
    SearchQuery,
    SearchResults,
    SearchFacets,
    Visit,
    Report,
    Themes,
    Overlay,
}

pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are written in hints and help.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// Shown in the status bar (the main keys of a view).
    pub hint: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

macro_rules! bind {
    ($label:literal, [$($key:expr),+], $action:ident, $help:literal, $hint:literal) => {
        Binding { keys: &[$($key),+], label: $label, action: Action::$action, help: $help, hint: $hint }
    };
}

const fn ch(c: char) -> (KeyCode, KeyModifiers) {
    (KeyCode::Char(c), NONE)
}

const LIST_NAV: [Binding; 6] = [
    bind!("↑/k", [(KeyCode::Up, NONE), ch('k')], Up, "move up", false),
    bind!(
        "↓/j",
        [(KeyCode::Down, NONE), ch('j')],
        Down,
        "move down",
        false
    ),
    bind!(
        "g/Home",
        [ch('g'), (KeyCode::Home, NONE)],
        Top,
        "go to the first",
        false
    ),
    bind!(
        "G/End",
        [ch('G'), (KeyCode::End, NONE)],
        Bottom,
        "go to the last",
        false
    ),
    bind!("PgUp", [(KeyCode::PageUp, NONE)], PageUp, "page up", false),
    bind!(
        "PgDn",
        [(KeyCode::PageDown, NONE)],
        PageDown,
        "page down",
        false
    ),
];

/// Back, help and quit, as most views end.
const BACK: &[Binding] = &[bind!("Esc", [(KeyCode::Esc, NONE)], Back, "back", true)];
const HELP_QUIT: &[Binding] = &[
    bind!("?", [ch('?')], Help, "help", true),
    bind!("q", [ch('q')], Quit, "quit", false),
];

/// What the search view's results and tag panes share.
const SEARCH_PANES: &[Binding] = &[
    bind!(
        "Shift+Tab",
        [(KeyCode::BackTab, SHIFT), (KeyCode::BackTab, NONE)],
        FocusPrev,
        "previous pane",
        false
    ),
    bind!("/", [ch('/')], OpenSearch, "edit the query", true),
];

const HOME: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "open the session to read and add notes",
        true
    ),
    bind!("n", [ch('n')], NewSession, "start a new session", true),
    bind!(
        "e",
        [ch('e')],
        EndSession,
        "end the selected session",
        false
    ),
    bind!("/", [ch('/')], OpenSearch, "search every note", true),
    bind!(
        "t",
        [ch('t')],
        Themes,
        "themes, contrast, pains and journey over every note",
        true
    ),
    bind!("v", [ch('v')], Report, "the mystery-shopping report", false),
    bind!("?", [ch('?')], Help, "help: every key of this view", true),
    bind!("q", [ch('q')], Quit, "quit", true),
];

const VISIT: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Submit,
        "save the answer (and the note beside it)",
        true
    ),
    bind!(
        "↓",
        [(KeyCode::Down, NONE)],
        Down,
        "next criterion (skip it and come back later)",
        true
    ),
    bind!("↑", [(KeyCode::Up, NONE)], Up, "previous criterion", false),
    bind!(
        "Tab",
        [
            (KeyCode::Tab, NONE),
            (KeyCode::BackTab, SHIFT),
            (KeyCode::BackTab, NONE)
        ],
        FocusNext,
        "switch between the answer and the note",
        true
    ),
    bind!(
        "F2",
        [(KeyCode::F(2), NONE)],
        Notes,
        "the session's notes and the full note editor",
        true
    ),
    bind!(
        "Esc",
        [(KeyCode::Esc, NONE)],
        Back,
        "back to the sessions (answers are saved as you go)",
        true
    ),
    bind!("F1", [(KeyCode::F(1), NONE)], Help, "help", true),
];

const THEMES: &[Binding] = &[
    bind!(
        "Tab/→",
        [(KeyCode::Tab, NONE), (KeyCode::Right, NONE), ch('l')],
        NextTab,
        "next tab: themes, contrast, pains, journey",
        true
    ),
    bind!(
        "Shift+Tab/←",
        [
            (KeyCode::BackTab, SHIFT),
            (KeyCode::BackTab, NONE),
            (KeyCode::Left, NONE),
            ch('h')
        ],
        PrevTab,
        "previous tab",
        false
    ),
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "read the notes behind the selected theme",
        true
    ),
];

const REPORT: &[Binding] = &[
    bind!("Esc", [(KeyCode::Esc, NONE)], Back, "back", true),
    bind!("?", [ch('?')], Help, "help", true),
    bind!("q", [ch('q')], Quit, "quit", true),
];

const SESSION_FORM: &[Binding] = &[
    bind!(
        "Tab/↓",
        [(KeyCode::Tab, NONE), (KeyCode::Down, NONE)],
        NextField,
        "next field",
        true
    ),
    bind!(
        "Shift+Tab/↑",
        [
            (KeyCode::BackTab, SHIFT),
            (KeyCode::BackTab, NONE),
            (KeyCode::Up, NONE)
        ],
        PrevField,
        "previous field",
        false
    ),
    bind!(
        "←/→",
        [(KeyCode::Left, NONE), (KeyCode::Right, NONE)],
        Cycle,
        "change the session kind (on the kind field)",
        false
    ),
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Submit,
        "start the session",
        true
    ),
    bind!("Esc", [(KeyCode::Esc, NONE)], Back, "cancel", true),
];

const EDITOR: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        SaveNote,
        "save the note (or take the highlighted tag)",
        true
    ),
    bind!(
        "Alt+Enter",
        [
            (KeyCode::Enter, ALT),
            (KeyCode::Enter, SHIFT),
            (KeyCode::Char('j'), CTRL)
        ],
        Newline,
        "new line (also Shift+Enter where the terminal reports it, Ctrl+J)",
        true
    ),
    bind!(
        "Ctrl+T",
        [(KeyCode::Char('t'), CTRL)],
        CycleKind,
        "switch kind: observation → quote → interpretation",
        true
    ),
    bind!(
        "Tab",
        [(KeyCode::Tab, NONE)],
        FocusNext,
        "take the highlighted tag, or go to the notes",
        false
    ),
    bind!(
        "Ctrl+F",
        [(KeyCode::Char('f'), CTRL)],
        OpenSearch,
        "search every note",
        false
    ),
    bind!(
        "Esc",
        [(KeyCode::Esc, NONE)],
        Back,
        "close the tag list / stop editing / go to the notes",
        true
    ),
    bind!("F1", [(KeyCode::F(1), NONE)], Help, "help", true),
];

const NOTE_LIST: &[Binding] = &[
    bind!(
        "i/Enter",
        [ch('i'), (KeyCode::Enter, NONE), (KeyCode::Tab, NONE)],
        FocusNext,
        "write in the editor",
        true
    ),
    bind!(
        "e",
        [ch('e')],
        EditNote,
        "edit the selected note (keeps the old version)",
        true
    ),
    bind!(
        "t",
        [ch('t')],
        ChangeKind,
        "change the selected note's kind",
        false
    ),
    bind!(
        "d",
        [ch('d'), (KeyCode::Delete, NONE)],
        TrashNote,
        "move the selected note to the trash",
        true
    ),
    bind!(
        "u",
        [ch('u')],
        UndoTrash,
        "undo: bring the last trashed note back",
        false
    ),
    bind!(
        "r",
        [ch('r')],
        History,
        "the selected note's history",
        false
    ),
    bind!("/", [ch('/')], OpenSearch, "search every note", true),
    bind!(
        "Esc",
        [(KeyCode::Esc, NONE)],
        Back,
        "back to the sessions",
        true
    ),
];

const SEARCH_QUERY: &[Binding] = &[
    bind!(
        "Enter/↓",
        [(KeyCode::Enter, NONE), (KeyCode::Down, NONE)],
        FocusNext,
        "go to the results",
        true
    ),
    bind!(
        "F3",
        [(KeyCode::F(3), NONE)],
        Themes,
        "themes over these results",
        true
    ),
    bind!("Tab", [(KeyCode::Tab, NONE)], FocusNext, "next pane", false),
    bind!("Esc", [(KeyCode::Esc, NONE)], Back, "back", true),
    bind!("F1", [(KeyCode::F(1), NONE)], Help, "help", true),
];

const SEARCH_RESULTS: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "open the note's session",
        true
    ),
    bind!(
        "F3",
        [(KeyCode::F(3), NONE)],
        Themes,
        "themes over these results",
        true
    ),
    bind!(
        "Tab",
        [(KeyCode::Tab, NONE)],
        FocusNext,
        "next pane (tag counts)",
        true
    ),
];

const SEARCH_FACETS: &[Binding] = &[
    bind!(
        "Space/Enter",
        [ch(' '), (KeyCode::Enter, NONE)],
        ToggleFacet,
        "filter by the selected tag (again to remove)",
        true
    ),
    bind!("c", [ch('c')], ClearFilters, "clear the tag filters", true),
    bind!(
        "Tab",
        [(KeyCode::Tab, NONE)],
        FocusNext,
        "next pane (query)",
        false
    ),
];

const OVERLAY: &[Binding] = &[
    bind!(
        "Esc/q/?",
        [
            (KeyCode::Esc, NONE),
            ch('q'),
            ch('?'),
            (KeyCode::F(1), NONE),
            (KeyCode::Enter, NONE)
        ],
        Back,
        "close",
        true
    ),
    bind!(
        "↑/↓",
        [(KeyCode::Up, NONE), ch('k'), (KeyCode::Down, NONE), ch('j')],
        Down,
        "scroll",
        false
    ),
];

/// The bindings of a context: its own keys first, then those it shares with other views, then
/// list navigation where lists are shown.
pub fn bindings(ctx: Context) -> Vec<&'static Binding> {
    let parts: &[&'static [Binding]] = match ctx {
        Context::Home => &[HOME, &LIST_NAV],
        Context::SessionForm => &[SESSION_FORM],
        Context::Editor => &[EDITOR],
        Context::NoteList => &[NOTE_LIST, HELP_QUIT, &LIST_NAV],
        Context::SearchQuery => &[SEARCH_QUERY],
        Context::SearchResults => &[SEARCH_RESULTS, SEARCH_PANES, BACK, HELP_QUIT, &LIST_NAV],
        Context::SearchFacets => &[SEARCH_FACETS, SEARCH_PANES, BACK, HELP_QUIT, &LIST_NAV],
        Context::Visit => &[VISIT],
        Context::Report => &[REPORT],
        Context::Themes => &[THEMES, BACK, HELP_QUIT, &LIST_NAV],
        Context::Overlay => &[OVERLAY],
    };
    parts.iter().flat_map(|part| part.iter()).collect()
}

/// The action a key means in `ctx`, if any. Shift is ignored for characters (terminals differ
/// in reporting it), never for named keys.
pub fn action_for(ctx: Context, key: &KeyEvent) -> Option<Action> {
    let (code, mods) = normalise(key);
    bindings(ctx)
        .into_iter()
        .find(|b| b.keys.iter().any(|&(c, m)| c == code && m == mods))
        .map(|b| b.action)
}

fn normalise(key: &KeyEvent) -> (KeyCode, KeyModifiers) {
    let mods = key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
    match key.code {
        KeyCode::Char(c) if !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
            (KeyCode::Char(c), NONE)
        }
        KeyCode::Char(c) => (
            KeyCode::Char(c.to_ascii_lowercase()),
            mods - KeyModifiers::SHIFT,
        ),
        code => (code, mods),
    }
}

/// The status bar's key hints for a context.
pub fn hints(ctx: Context) -> Vec<(&'static str, &'static str)> {
    bindings(ctx)
        .into_iter()
        .filter(|b| b.hint)
        .map(|b| (b.label, short_help(b.help)))
        .collect()
}

fn short_help(help: &'static str) -> &'static str {
    let end = help.find([':', '(', ',']).unwrap_or(help.len());
    help[..end].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn every_context_has_help_and_a_way_back() {
        for ctx in [
            Context::Home,
            Context::SessionForm,
            Context::Editor,
            Context::NoteList,
            Context::SearchQuery,
            Context::SearchResults,
            Context::SearchFacets,
            Context::Visit,
            Context::Report,
            Context::Themes,
            Context::Overlay,
        ] {
            let actions: Vec<Action> = bindings(ctx).iter().map(|b| b.action).collect();
            assert!(
                actions.contains(&Action::Back) || actions.contains(&Action::Quit),
                "{ctx:?} has no way out"
            );
            assert!(!hints(ctx).is_empty());
        }
    }

    #[test]
    fn no_key_means_two_things_in_one_context() {
        for ctx in [
            Context::Home,
            Context::Editor,
            Context::NoteList,
            Context::SearchResults,
            Context::SearchFacets,
            Context::Visit,
        ] {
            let mut seen = std::collections::HashSet::new();
            for b in bindings(ctx) {
                for k in b.keys {
                    assert!(seen.insert(*k), "{ctx:?}: {k:?} is bound twice");
                }
            }
        }
    }

    #[test]
    fn keys_resolve() {
        assert_eq!(
            action_for(Context::Editor, &key(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::SaveNote)
        );
        assert_eq!(
            action_for(Context::Editor, &key(KeyCode::Enter, KeyModifiers::ALT)),
            Some(Action::Newline)
        );
        assert_eq!(
            action_for(
                Context::Editor,
                &key(
                    KeyCode::Char('T'),
                    KeyModifiers::CONTROL | KeyModifiers::SHIFT
                )
            ),
            Some(Action::CycleKind)
        );
        assert_eq!(
            action_for(
                Context::Editor,
                &key(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            action_for(Context::Home, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(
                Context::NoteList,
                &key(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            Some(Action::Quit)
        );
    }
}
