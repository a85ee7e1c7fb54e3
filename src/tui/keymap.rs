//! Keys are data: each view's bindings live in one table, from which the key handling, the
//! status-bar hints and the help overlay are all derived.

use std::sync::OnceLock;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::KeySetting;

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
    /// Undo the last change to a note (many steps back).
    Undo,
    EditTags,
    CopyNote,
    ExternalEdit,
    Export,
    Trash,
    Participants,
    /// Sync with the team server now (on a worker: typing and saving go on).
    SyncNow,
    /// Restore what is selected (a version in the history, a note in the trash).
    RestoreSelected,
    ToggleConsent,
    EditContact,
    FilterKind,
    FilterStudy,
    FilterDate,
    /// Pick the study the themes view analyses.
    StudyScope,
    /// Take the highlighted tag from the list.
    TakeTag,
    /// The note view's cursor: by character, by word, to the text's start and end.
    CharLeft,
    CharRight,
    WordLeft,
    WordRight,
    TextStart,
    TextEnd,
    /// The same motions, extending the selection (a selection starts where the cursor was).
    ExtendLeft,
    ExtendRight,
    ExtendWordLeft,
    ExtendWordRight,
    ExtendStart,
    ExtendEnd,
    /// Start a selection at the cursor (or drop the one there is).
    Select,
    /// Code the selected words with tags (a prompt with completion).
    CodeSelection,
    /// Take the selected passage's code off.
    Uncode,
    /// From a note to its session, at that note.
    OpenSession,
    /// The codebook view.
    Codebook,
    /// The codebook's edits of the selected tag.
    Describe,
    EditMemo,
    MoveUnder,
    Rename,
    Merge,
    /// The heat map of which codes go together.
    Cooccurrence,
    /// Codes × persona, participant, session, study, session kind or touchpoint.
    Matrix,
    /// A heat map's cursor, by column (rows move with the list keys).
    ColumnLeft,
    ColumnRight,
    /// What a heat map's cells show, the next in turn.
    CycleFigure,
    /// Which facet's codes a heat map shows: every facet's, then each in turn.
    CycleFacet,
    /// What a matrix's columns are, the next in turn.
    CycleColumns,
    /// NPS, satisfaction, effort and confidence, by group.
    Measures,
}

/// Where keys are read: each has its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Home,
    SessionForm,
    Editor,
    /// The editor with the list of matching tags open.
    TagList,
    NoteList,
    SearchQuery,
    SearchResults,
    SearchFacets,
    Visit,
    Report,
    Themes,
    Trash,
    Participants,
    /// One note's text with a cursor, to select and code passages.
    NoteText,
    /// The list of that note's passages.
    NotePassages,
    /// The codebook: every tag as a tree.
    Codebook,
    /// The heat map of codes × codes.
    Cooccurrence,
    /// The heat map of codes × a grouping of notes.
    Matrix,
    /// The measures by group.
    Measures,
    /// The help overlay: read and close.
    Overlay,
    /// The notes behind a theme: choose one to open.
    Evidence,
    /// A note's versions, one of which can be restored.
    History,
    /// A one-line prompt (a note's tags, a participant's contact, an export's file name).
    Prompt,
}

impl Context {
    pub const ALL: [Context; 23] = [
        Context::Home,
        Context::SessionForm,
        Context::Editor,
        Context::TagList,
        Context::NoteList,
        Context::SearchQuery,
        Context::SearchResults,
        Context::SearchFacets,
        Context::Visit,
        Context::Report,
        Context::Themes,
        Context::Trash,
        Context::Participants,
        Context::NoteText,
        Context::NotePassages,
        Context::Codebook,
        Context::Cooccurrence,
        Context::Matrix,
        Context::Measures,
        Context::Overlay,
        Context::Evidence,
        Context::History,
        Context::Prompt,
    ];

    /// Whether printable keys are text here (typed into a field) rather than commands.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Context::SessionForm
                | Context::Editor
                | Context::TagList
                | Context::NoteList
                | Context::SearchQuery
                | Context::Visit
                | Context::Prompt
        )
    }
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

const fn ctrl(c: char) -> (KeyCode, KeyModifiers) {
    (KeyCode::Char(c), CTRL)
}

/// Moving in a list with keys that are never text: where letters are typed, this is all.
const ARROW_NAV: [Binding; 6] = [
    bind!("↑", [(KeyCode::Up, NONE)], Up, "move up", false),
    bind!("↓", [(KeyCode::Down, NONE)], Down, "move down", false),
    bind!(
        "Home",
        [(KeyCode::Home, NONE)],
        Top,
        "go to the first",
        false
    ),
    bind!(
        "End",
        [(KeyCode::End, NONE)],
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

/// Where letters are commands, vi's j/k/g/G move too.
const LETTER_NAV: [Binding; 4] = [
    bind!("k", [ch('k')], Up, "move up", false),
    bind!("j", [ch('j')], Down, "move down", false),
    bind!("g", [ch('g')], Top, "go to the first", false),
    bind!("G", [ch('G')], Bottom, "go to the last", false),
];

/// Back, help and quit, as most views end.
const BACK: &[Binding] = &[bind!("Esc", [(KeyCode::Esc, NONE)], Back, "back", true)];
const HELP_QUIT: &[Binding] = &[
    bind!("?", [ch('?')], Help, "help", true),
    bind!("q", [ch('q')], Quit, "quit", false),
];

/// What the capture view's editor and note list share: none of these keys is text.
const CAPTURE_BOTH: &[Binding] = &[
    bind!(
        "Ctrl+F",
        [ctrl('f')],
        OpenSearch,
        "search every note",
        false
    ),
    bind!(
        "F2",
        [(KeyCode::F(2), NONE)],
        VisitView,
        "the visit's scorecard (mystery-shop sessions)",
        false
    ),
    bind!(
        "Ctrl+X",
        [ctrl('x')],
        EndSession,
        "end this session (notes can still be added)",
        false
    ),
    bind!("F1", [(KeyCode::F(1), NONE)], Help, "help", true),
    bind!(
        "Ctrl+Q",
        [ctrl('q')],
        Quit,
        "quit (asks again while the editor holds text, which stays a draft)",
        false
    ),
];

/// What the search view's panes share.
const SEARCH_ALL: &[Binding] = &[
    bind!(
        "F3",
        [(KeyCode::F(3), NONE)],
        Themes,
        "themes over these results",
        true
    ),
    bind!(
        "F4",
        [(KeyCode::F(4), NONE)],
        Cooccurrence,
        "co-occurrence of the codes of these results",
        false
    ),
    bind!(
        "F5",
        [(KeyCode::F(5), NONE)],
        Matrix,
        "matrix of the codes of these results × persona, session…",
        false
    ),
    bind!(
        "F6",
        [(KeyCode::F(6), NONE)],
        Measures,
        "measures (NPS, CSAT, effort) of these results",
        false
    ),
    bind!(
        "Ctrl+K",
        [ctrl('k')],
        FilterKind,
        "only notes of one kind: observation → quote → interpretation → any",
        false
    ),
    bind!(
        "Ctrl+P",
        [ctrl('p')],
        FilterStudy,
        "only one study (each press: the next study, then any)",
        false
    ),
    bind!(
        "Ctrl+T",
        [ctrl('t')],
        FilterDate,
        "only recent notes: today → 7 days → 30 days → a year → any time",
        false
    ),
    bind!(
        "Ctrl+S",
        [ctrl('s')],
        Export,
        "export these results (Markdown, CSV or REFI-QDA, by the file name)",
        false
    ),
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
        "Ctrl+X",
        [ctrl('x')],
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
    bind!(
        "c",
        [ch('c')],
        Codebook,
        "the codebook: every tag as a tree, to describe, move, rename and merge",
        false
    ),
    bind!(
        "o",
        [ch('o')],
        Cooccurrence,
        "co-occurrence: which codes go together, as a heat map",
        false
    ),
    bind!(
        "m",
        [ch('m')],
        Matrix,
        "matrix: codes × persona, session, study… as a heat map",
        false
    ),
    bind!(
        "%",
        [ch('%')],
        Measures,
        "measures: NPS, satisfaction, effort, confidence by touchpoint, persona…",
        false
    ),
    bind!(
        "p",
        [ch('p')],
        Participants,
        "participants: consent and contact details",
        false
    ),
    bind!(
        "x",
        [ch('x')],
        Trash,
        "the trash: bring deleted notes back",
        false
    ),
    bind!(
        "S",
        [ch('S')],
        SyncNow,
        "sync with the team server now",
        false
    ),
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
        "the session's notes and the full note editor (F2 there comes back)",
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
    bind!(
        "s",
        [ch('s')],
        StudyScope,
        "analyse one study (each press: the next study, then all)",
        true
    ),
];

const REPORT: &[Binding] = &[
    bind!("Esc", [(KeyCode::Esc, NONE)], Back, "back", true),
    bind!("?", [ch('?')], Help, "help", true),
    bind!("q", [ch('q')], Quit, "quit", true),
];

const TRASH: &[Binding] = &[bind!(
    "Ctrl+Z",
    [ctrl('z')],
    RestoreSelected,
    "bring the selected note back from the trash",
    true
)];

const PARTICIPANTS: &[Binding] = &[
    bind!(
        "Space",
        [ch(' ')],
        ToggleConsent,
        "record consent given today (again to withdraw it)",
        true
    ),
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        EditContact,
        "edit the contact details (kept private, never exported)",
        true
    ),
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
        "change the session kind, or the consent (on those fields)",
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
    bind!("F1", [(KeyCode::F(1), NONE)], Help, "help", false),
];

const EDITOR: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        SaveNote,
        "save the note",
        true
    ),
    bind!(
        "Tab",
        [(KeyCode::Tab, NONE)],
        FocusNext,
        "go to the notes",
        false
    ),
    bind!(
        "Esc",
        [(KeyCode::Esc, NONE)],
        Back,
        "stop editing / go to the notes",
        true
    ),
];

/// While the list of matching tags is open over the editor.
const TAG_LIST: &[Binding] = &[
    bind!(
        "Tab",
        [(KeyCode::Tab, NONE)],
        TakeTag,
        "take the highlighted tag (the first until you move)",
        true
    ),
    bind!(
        "↑",
        [(KeyCode::Up, NONE)],
        Up,
        "move up the tag list",
        false
    ),
    bind!(
        "↓",
        [(KeyCode::Down, NONE)],
        Down,
        "move down the tag list",
        true
    ),
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        SaveNote,
        "save the note as typed (or take the tag you moved to)",
        true
    ),
    bind!(
        "Esc",
        [(KeyCode::Esc, NONE)],
        Back,
        "close the tag list",
        true
    ),
];

/// What the editor does whether or not the tag list is open.
const EDITOR_MORE: &[Binding] = &[
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
        [ctrl('t')],
        CycleKind,
        "switch kind: observation → quote → interpretation",
        true
    ),
];

const NOTE_LIST: &[Binding] = &[
    bind!(
        "Enter/Tab",
        [(KeyCode::Enter, NONE), (KeyCode::Tab, NONE)],
        FocusNext,
        "back to the editor (typing goes there too)",
        true
    ),
    bind!(
        "Ctrl+E",
        [ctrl('e')],
        EditNote,
        "edit the selected note (keeps the old version)",
        true
    ),
    bind!(
        "Ctrl+K",
        [ctrl('k')],
        ChangeKind,
        "change the selected note's kind",
        false
    ),
    bind!(
        "Ctrl+G",
        [ctrl('g')],
        EditTags,
        "change the selected note's tags without retyping it",
        false
    ),
    bind!(
        "Ctrl+D",
        [ctrl('d'), (KeyCode::Delete, NONE)],
        TrashNote,
        "move the selected note to the trash",
        false
    ),
    bind!(
        "Ctrl+Z",
        [ctrl('z')],
        Undo,
        "undo the last change to a note (kind, edit, tags, trash); again for earlier ones",
        true
    ),
    bind!(
        "Ctrl+R",
        [ctrl('r')],
        History,
        "the selected note's history (restore an old version there)",
        false
    ),
    bind!(
        "Ctrl+Y",
        [ctrl('y')],
        CopyNote,
        "copy the selected note to the clipboard",
        false
    ),
    bind!(
        "Ctrl+O",
        [ctrl('o')],
        ExternalEdit,
        "edit the selected note in $EDITOR",
        false
    ),
    bind!(
        "Ctrl+S",
        [ctrl('s')],
        Export,
        "export this session (Markdown, CSV or REFI-QDA, by the file name)",
        false
    ),
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
    bind!("Tab", [(KeyCode::Tab, NONE)], FocusNext, "next pane", false),
    bind!("Esc", [(KeyCode::Esc, NONE)], Back, "back", true),
    bind!("F1", [(KeyCode::F(1), NONE)], Help, "help", true),
];

const SEARCH_RESULTS: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "read the note: select words and code them",
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

const OVERLAY: &[Binding] = &[bind!(
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
)];

const EVIDENCE: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "read the selected note (select words and code them)",
        true
    ),
    bind!(
        "Esc/q",
        [
            (KeyCode::Esc, NONE),
            ch('q'),
            ch('?'),
            (KeyCode::F(1), NONE)
        ],
        Back,
        "close",
        true
    ),
];

const HISTORY: &[Binding] = &[
    bind!(
        "Ctrl+R",
        [ctrl('r')],
        RestoreSelected,
        "make the selected version the note's text again (kept as a new version)",
        true
    ),
    bind!(
        "Esc/q",
        [(KeyCode::Esc, NONE), ch('q'), (KeyCode::Enter, NONE)],
        Back,
        "close",
        true
    ),
];

const PROMPT: &[Binding] = &[
    bind!("Enter", [(KeyCode::Enter, NONE)], Submit, "save", true),
    bind!("Esc", [(KeyCode::Esc, NONE)], Back, "cancel", true),
    bind!(
        "Tab",
        [(KeyCode::Tab, NONE)],
        TakeTag,
        "take the first suggested tag (where a tag is asked for)",
        false
    ),
];

/// The note view's text: a cursor, motions, a selection and the code key.
const NOTE_TEXT: &[Binding] = &[
    bind!(
        "v",
        [ch('v')],
        Select,
        "start a selection here (again: drop it)",
        true
    ),
    bind!(
        "c",
        [ch('c')],
        CodeSelection,
        "code the selected words: type tags (completion as in notes), Enter",
        true
    ),
    bind!(
        "←",
        [(KeyCode::Left, NONE), ch('h')],
        CharLeft,
        "one character left (h too); motions extend a selection started with v",
        false
    ),
    bind!(
        "→",
        [(KeyCode::Right, NONE), ch('l')],
        CharRight,
        "one character right (l too)",
        false
    ),
    bind!(
        "b/Ctrl+←",
        [ch('b'), (KeyCode::Left, CTRL)],
        WordLeft,
        "to the start of the word (or the one before)",
        false
    ),
    bind!(
        "w/Ctrl+→",
        [ch('w'), (KeyCode::Right, CTRL)],
        WordRight,
        "to the end of the word (or the next one)",
        false
    ),
    bind!(
        "Home",
        [(KeyCode::Home, NONE), ch('0')],
        TextStart,
        "to the start of the note (0 too)",
        false
    ),
    bind!(
        "End",
        [(KeyCode::End, NONE), ch('$')],
        TextEnd,
        "to the end of the note ($ too)",
        false
    ),
    bind!(
        "Shift+←",
        [(KeyCode::Left, SHIFT)],
        ExtendLeft,
        "select one character left",
        false
    ),
    bind!(
        "Shift+→",
        [(KeyCode::Right, SHIFT)],
        ExtendRight,
        "select one character right",
        false
    ),
    bind!(
        "Ctrl+Shift+←",
        [(KeyCode::Left, CTRL.union(SHIFT))],
        ExtendWordLeft,
        "select to the start of the word",
        false
    ),
    bind!(
        "Ctrl+Shift+→",
        [(KeyCode::Right, CTRL.union(SHIFT))],
        ExtendWordRight,
        "select to the end of the word",
        false
    ),
    bind!(
        "Shift+Home",
        [(KeyCode::Home, SHIFT)],
        ExtendStart,
        "select to the start of the note",
        false
    ),
    bind!(
        "Shift+End",
        [(KeyCode::End, SHIFT)],
        ExtendEnd,
        "select to the end of the note",
        false
    ),
    bind!(
        "Tab",
        [
            (KeyCode::Tab, NONE),
            (KeyCode::BackTab, SHIFT),
            (KeyCode::BackTab, NONE)
        ],
        FocusNext,
        "the note's passages",
        true
    ),
    bind!(
        "s",
        [ch('s')],
        OpenSession,
        "open the note's session at this note",
        false
    ),
];

/// The note view's list of passages.
const NOTE_PASSAGES: &[Binding] = &[
    bind!(
        "d/Delete",
        [ch('d'), (KeyCode::Delete, NONE)],
        Uncode,
        "remove the selected passage (its code, by its coder)",
        true
    ),
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "select the passage's words in the text",
        true
    ),
    bind!(
        "Tab",
        [
            (KeyCode::Tab, NONE),
            (KeyCode::BackTab, SHIFT),
            (KeyCode::BackTab, NONE)
        ],
        FocusNext,
        "back to the text",
        true
    ),
];

const CODEBOOK: &[Binding] = &[
    bind!(
        "d",
        [ch('d')],
        Describe,
        "describe the selected tag (what it means, for every coder)",
        true
    ),
    bind!(
        "m",
        [ch('m')],
        EditMemo,
        "its memo (your own notes on it)",
        false
    ),
    bind!(
        "p",
        [ch('p')],
        MoveUnder,
        "move it under a parent of its facet (empty: to the top)",
        true
    ),
    bind!(
        "r",
        [ch('r')],
        Rename,
        "rename it (every note typing it is rewritten, old text kept)",
        true
    ),
    bind!(
        "M",
        [ch('M')],
        Merge,
        "merge it into another tag (says how many notes change first)",
        true
    ),
];

/// What both heat maps (co-occurrence, matrix) do: the cursor's columns (rows move as in a
/// list), a cell's notes, the facet of the codes.
const HEAT_MAP: &[Binding] = &[
    bind!(
        "Enter",
        [(KeyCode::Enter, NONE)],
        Open,
        "list the notes behind the cell (Enter there reads one)",
        true
    ),
    bind!(
        "f",
        [ch('f')],
        CycleFacet,
        "one facet's codes only (each press the next, then all)",
        true
    ),
    bind!(
        "←",
        [(KeyCode::Left, NONE), ch('h')],
        ColumnLeft,
        "one column left (h too); rows move as in a list",
        false
    ),
    bind!(
        "→",
        [(KeyCode::Right, NONE), ch('l')],
        ColumnRight,
        "one column right (l too)",
        false
    ),
];

const COOCCURRENCE: &[Binding] = &[bind!(
    "v",
    [ch('v')],
    CycleFigure,
    "what the cells show (notes together, c, overlaps)",
    true
)];

const MEASURES: &[Binding] = &[bind!(
    "b",
    [ch('b')],
    CycleColumns,
    "group by: touchpoint, persona, study, month, none",
    true
)];

const MATRIX: &[Binding] = &[
    bind!(
        "b",
        [ch('b')],
        CycleColumns,
        "the columns (persona, participant, session, study…)",
        true
    ),
    bind!(
        "v",
        [ch('v')],
        CycleFigure,
        "what the cells show (notes, participants, shares)",
        true
    ),
];

/// The bindings of a context: its own keys first, then those it shares with other views, then
/// list navigation where lists are shown.
fn default_bindings(ctx: Context) -> Vec<&'static Binding> {
    let parts: &[&'static [Binding]] = match ctx {
        Context::Home => &[HOME, &ARROW_NAV, &LETTER_NAV],
        Context::SessionForm => &[SESSION_FORM],
        Context::Editor => &[EDITOR, EDITOR_MORE, CAPTURE_BOTH],
        Context::TagList => &[TAG_LIST, EDITOR_MORE, CAPTURE_BOTH],
        Context::NoteList => &[NOTE_LIST, CAPTURE_BOTH, &ARROW_NAV],
        Context::SearchQuery => &[SEARCH_QUERY, SEARCH_ALL],
        Context::SearchResults => &[
            SEARCH_RESULTS,
            SEARCH_PANES,
            SEARCH_ALL,
            BACK,
            HELP_QUIT,
            &ARROW_NAV,
            &LETTER_NAV,
        ],
        Context::SearchFacets => &[
            SEARCH_FACETS,
            SEARCH_PANES,
            SEARCH_ALL,
            BACK,
            HELP_QUIT,
            &ARROW_NAV,
            &LETTER_NAV,
        ],
        Context::Visit => &[VISIT],
        Context::Report => &[REPORT],
        Context::Themes => &[THEMES, BACK, HELP_QUIT, &ARROW_NAV, &LETTER_NAV],
        Context::Trash | Context::Participants => &[
            if ctx == Context::Trash {
                TRASH
            } else {
                PARTICIPANTS
            },
            BACK,
            HELP_QUIT,
            &ARROW_NAV,
            &LETTER_NAV,
        ],
        Context::NoteText => &[NOTE_TEXT, BACK, HELP_QUIT],
        Context::NotePassages => &[NOTE_PASSAGES, BACK, HELP_QUIT, &ARROW_NAV, &LETTER_NAV],
        Context::Codebook => &[CODEBOOK, BACK, HELP_QUIT, &ARROW_NAV, &LETTER_NAV],
        Context::Cooccurrence => &[
            HEAT_MAP,
            COOCCURRENCE,
            BACK,
            HELP_QUIT,
            &ARROW_NAV,
            &LETTER_NAV,
        ],
        Context::Matrix => &[HEAT_MAP, MATRIX, BACK, HELP_QUIT, &ARROW_NAV, &LETTER_NAV],
        Context::Measures => &[MEASURES, BACK, HELP_QUIT, &ARROW_NAV, &LETTER_NAV],
        Context::Overlay => &[OVERLAY, &ARROW_NAV, &LETTER_NAV],
        Context::Evidence => &[EVIDENCE, &ARROW_NAV, &LETTER_NAV],
        Context::History => &[HISTORY, &ARROW_NAV],
        Context::Prompt => &[PROMPT],
    };
    parts.iter().flat_map(|part| part.iter()).collect()
}

/// The key table in use: the built-in one, or the one the config file rebound.
pub struct Keymap {
    /// Each context's bindings, in `Context::ALL`'s order.
    table: Vec<Vec<&'static Binding>>,
}

static INSTALLED: OnceLock<Keymap> = OnceLock::new();

/// Makes `keymap` the app's key table (the first call wins; the app calls it once at start).
pub fn install(keymap: Keymap) {
    let _ = INSTALLED.set(keymap);
}

fn current() -> &'static Keymap {
    INSTALLED.get_or_init(Keymap::defaults)
}

fn slot(ctx: Context) -> usize {
    Context::ALL
        .iter()
        .position(|c| *c == ctx)
        .expect("every context is in Context::ALL")
}

impl Keymap {
    pub fn defaults() -> Keymap {
        Keymap {
            table: Context::ALL.iter().map(|&c| default_bindings(c)).collect(),
        }
    }

    /// The built-in table with the config file's rebindings; an error is the setting's line
    /// and what is wrong with it.
    pub fn with(settings: &[KeySetting]) -> Result<Keymap, (usize, String)> {
        let mut keymap = Keymap::defaults();
        for s in settings {
            keymap.rebind(s).map_err(|e| (s.line, e))?;
        }
        Ok(keymap)
    }

    fn rebind(&mut self, s: &KeySetting) -> Result<(), String> {
        let ctx = Context::ALL
            .into_iter()
            .find(|c| name_of(c) == s.context)
            .ok_or_else(|| {
                let names: Vec<String> = Context::ALL.iter().map(name_of).collect();
                format!(
                    "no view or pane called {:?}: use one of {}",
                    s.context,
                    names.join(", ")
                )
            })?;
        let bindings = &mut self.table[slot(ctx)];
        let Some(at) = bindings.iter().position(|b| name_of(&b.action) == s.action) else {
            let mut names: Vec<String> = bindings.iter().map(|b| name_of(&b.action)).collect();
            names.dedup();
            return Err(format!(
                "{} has no action {:?}: its actions are {}",
                s.context,
                s.action,
                names.join(", ")
            ));
        };
        if s.keys.is_empty() {
            return Err(format!("{} needs at least one key", s.action));
        }
        let keys = s
            .keys
            .iter()
            .map(|k| parse_key(k))
            .collect::<Result<Vec<_>, _>>()?;
        for (written, &(code, mods)) in s.keys.iter().zip(&keys) {
            if ctx.takes_text() && matches!(code, KeyCode::Char(_)) && !mods.intersects(CTRL | ALT)
            {
                return Err(format!(
                    "{written:?} is typed as text in {}: give it Ctrl+ or Alt+, or use a function key",
                    s.context
                ));
            }
            if let Some(other) = bindings
                .iter()
                .find(|b| b.action != bindings[at].action && b.keys.contains(&(code, mods)))
            {
                return Err(format!(
                    "{written:?} already means {} in {}",
                    name_of(&other.action),
                    s.context
                ));
            }
        }
        let label = keys
            .iter()
            .map(|&k| key_label(k))
            .collect::<Vec<_>>()
            .join("/");
        let old = bindings[at];
        let new: &'static Binding = Box::leak(Box::new(Binding {
            keys: Box::leak(keys.into_boxed_slice()),
            label: Box::leak(label.into_boxed_str()),
            action: old.action,
            help: old.help,
            hint: old.hint,
        }));
        bindings[at] = new;
        // The action's other bindings here (vi keys beside the arrows) give way too.
        let mut index = 0;
        bindings.retain(|b| {
            index += 1;
            index - 1 == at || b.action != old.action
        });
        Ok(())
    }

    fn bindings(&self, ctx: Context) -> &[&'static Binding] {
        &self.table[slot(ctx)]
    }

    fn key_of(&self, ctx: Context, action: Action) -> &'static str {
        self.bindings(ctx)
            .iter()
            .find(|b| b.action == action)
            .map_or("(no key)", |b| b.label)
    }

    fn action_for(&self, ctx: Context, key: &KeyEvent) -> Option<Action> {
        let (code, mods) = normalise(key);
        self.bindings(ctx)
            .iter()
            .find(|b| b.keys.iter().any(|&(c, m)| c == code && m == mods))
            .map(|b| b.action)
    }
}

/// The bindings of a context: its own keys first, then those it shares with other views, then
/// list navigation where lists are shown.
pub fn bindings(ctx: Context) -> &'static [&'static Binding] {
    current().bindings(ctx)
}

/// How the key for `action` in `ctx` is written (its binding's label), for text that names
/// it beside the hints, so a rebound key is named right.
pub fn key_of(ctx: Context, action: Action) -> &'static str {
    current().key_of(ctx, action)
}

/// The action a key means in `ctx`, if any. Shift is ignored for characters (terminals differ
/// in reporting it), never for named keys.
pub fn action_for(ctx: Context, key: &KeyEvent) -> Option<Action> {
    current().action_for(ctx, key)
}

/// How a context or action is named in the config file: `NoteList` is `note-list`.
pub fn name_of(thing: &impl std::fmt::Debug) -> String {
    let mut out = String::new();
    for (i, c) in format!("{thing:?}").chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads a key as the config file writes it: `ctrl+e`, `alt+enter`, `f4`, `shift+tab`, `?`.
pub fn parse_key(text: &str) -> Result<(KeyCode, KeyModifiers), String> {
    let bad =
        || format!("{text:?} is not a key: write e.g. \"ctrl+e\", \"alt+enter\", \"f4\" or \"?\"");
    let mut mods = NONE;
    let mut parts: Vec<&str> = text.split('+').collect();
    // `ctrl++` is Ctrl and the plus key.
    if text.ends_with("++") {
        parts.truncate(parts.len() - 2);
        parts.push("+");
    }
    let (last, modifiers) = parts.split_last().ok_or_else(bad)?;
    for m in modifiers {
        mods |= match m.to_ascii_lowercase().as_str() {
            "ctrl" | "control" | "c" => CTRL,
            "alt" | "meta" | "option" | "m" => ALT,
            "shift" | "s" => SHIFT,
            _ => return Err(bad()),
        };
    }
    let lower = last.to_ascii_lowercase();
    let code = match lower.as_str() {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" if mods.contains(SHIFT) => {
            mods -= SHIFT;
            KeyCode::BackTab
        }
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "space" => KeyCode::Char(' '),
        f if f.len() > 1
            && f.starts_with('f')
            && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
        {
            KeyCode::F(f[1..].parse().expect("checked"))
        }
        _ => {
            let mut chars = last.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCode::Char(c),
                _ => return Err(bad()),
            }
        }
    };
    // Stored as `normalise` reads keys, so a rebinding matches what the terminal sends.
    let key = KeyEvent::new(code, mods);
    Ok(normalise(&key))
}

/// How a key is written in hints and help: `Ctrl+E`, `F4`, `Esc`.
pub fn key_label((code, mods): (KeyCode, KeyModifiers)) -> String {
    let mut out = String::new();
    for (m, name) in [(CTRL, "Ctrl+"), (ALT, "Alt+"), (SHIFT, "Shift+")] {
        if mods.contains(m) {
            out.push_str(name);
        }
    }
    match code {
        KeyCode::Char(' ') => out.push_str("Space"),
        KeyCode::Char(c) if mods.intersects(CTRL | ALT) => out.push(c.to_ascii_uppercase()),
        KeyCode::Char(c) => out.push(c),
        KeyCode::F(n) => out.push_str(&format!("F{n}")),
        KeyCode::Up => out.push('↑'),
        KeyCode::Down => out.push('↓'),
        KeyCode::PageUp => out.push_str("PgUp"),
        KeyCode::PageDown => out.push_str("PgDn"),
        KeyCode::BackTab => out.push_str("Shift+Tab"),
        other => out.push_str(&format!("{other:?}")),
    }
    out
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
        .iter()
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
    fn every_context_has_hints_and_a_way_out() {
        for ctx in Context::ALL {
            let actions: Vec<Action> = bindings(ctx).iter().map(|b| b.action).collect();
            assert!(
                actions.contains(&Action::Back) || actions.contains(&Action::Quit),
                "{ctx:?} has no way out"
            );
            assert!(!hints(ctx).is_empty(), "{ctx:?} shows no hints");
        }
    }

    #[test]
    fn every_view_has_help() {
        for ctx in Context::ALL {
            if matches!(
                ctx,
                Context::Overlay | Context::Evidence | Context::History | Context::Prompt
            ) {
                continue; // the help and the small overlays say their keys in their hints
            }
            let help = bindings(ctx).iter().any(|b| b.action == Action::Help);
            assert!(help, "{ctx:?} has no help key");
        }
    }

    #[test]
    fn no_key_means_two_things_in_one_context() {
        for ctx in Context::ALL {
            let mut seen = std::collections::HashSet::new();
            for b in bindings(ctx) {
                for k in b.keys {
                    assert!(seen.insert(*k), "{ctx:?}: {k:?} is bound twice");
                }
            }
        }
    }

    /// Where text is typed, no binding may take a key that ordinary typing produces: a
    /// stray Esc followed by a word must never act on a note.
    #[test]
    fn text_contexts_leave_printable_keys_to_the_text() {
        for ctx in Context::ALL.into_iter().filter(|c| c.takes_text()) {
            for b in bindings(ctx) {
                for &(code, mods) in b.keys {
                    if let KeyCode::Char(c) = code {
                        assert!(
                            mods.intersects(CTRL | ALT),
                            "{ctx:?}: {c:?} is a command where text is typed"
                        );
                    }
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
        for ctx in [Context::Editor, Context::NoteList] {
            for c in ['q', 'e', 't', 'd', 'u', 'r', 'i', 'j'] {
                assert_eq!(
                    action_for(ctx, &key(KeyCode::Char(c), KeyModifiers::NONE)),
                    None,
                    "{ctx:?} {c}"
                );
            }
        }
        assert_eq!(
            action_for(Context::Home, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(
                Context::NoteList,
                &key(KeyCode::Char('e'), KeyModifiers::CONTROL)
            ),
            Some(Action::EditNote)
        );
        assert_eq!(
            action_for(Context::Overlay, &key(KeyCode::Up, KeyModifiers::NONE)),
            Some(Action::Up)
        );
    }

    fn setting(context: &str, action: &str, keys: &[&str], line: usize) -> KeySetting {
        KeySetting {
            context: context.into(),
            action: action.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            line,
        }
    }

    #[test]
    fn the_config_file_rebinds_an_action_in_one_context() {
        let map = Keymap::with(&[setting("note-list", "trash-note", &["ctrl+w"], 3)]).unwrap();
        let ctrl = |c| key(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(
            map.action_for(Context::NoteList, &ctrl('w')),
            Some(Action::TrashNote)
        );
        assert_eq!(map.action_for(Context::NoteList, &ctrl('d')), None);
        let b = map
            .bindings(Context::NoteList)
            .iter()
            .find(|b| b.action == Action::TrashNote)
            .unwrap();
        assert_eq!(b.label, "Ctrl+W", "help and hints show the new key");
        // Other contexts keep their own keys.
        assert_eq!(
            map.action_for(Context::Home, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn a_rebound_action_gives_up_all_its_old_keys() {
        let map = Keymap::with(&[setting("home", "up", &["ctrl+p", "f5"], 1)]).unwrap();
        assert_eq!(
            map.action_for(Context::Home, &key(KeyCode::Up, KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action_for(Context::Home, &key(KeyCode::Char('k'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action_for(Context::Home, &key(KeyCode::F(5), KeyModifiers::NONE)),
            Some(Action::Up)
        );
    }

    #[test]
    fn a_bad_rebinding_names_its_line_and_the_fix() {
        let refused = |s: KeySetting| Keymap::with(&[s]).err().expect("refused");
        let (line, why) = refused(setting("note-lst", "trash-note", &["ctrl+w"], 7));
        assert_eq!(line, 7);
        assert!(why.contains("note-list"), "{why}");
        let (_, why) = refused(setting("note-list", "trash", &["ctrl+w"], 1));
        assert!(why.contains("trash-note"), "{why}");
        let (_, why) = refused(setting("note-list", "trash-note", &["d"], 1));
        assert!(why.contains("typed as text"), "{why}");
        let (_, why) = refused(setting("editor", "save-note", &["shift+x"], 1));
        assert!(why.contains("typed as text"), "{why}");
        let (_, why) = refused(setting("note-list", "trash-note", &["ctrl+f"], 1));
        assert!(why.contains("already means open-search"), "{why}");
        let (_, why) = refused(setting("note-list", "trash-note", &["ctrl+"], 1));
        assert!(why.contains("is not a key"), "{why}");
        // Where letters are commands, a letter is fine.
        assert!(Keymap::with(&[setting("home", "new-session", &["a"], 1)]).is_ok());
        // The note view and the codebook rebind like every view (the README's example).
        let map = Keymap::with(&[
            setting("note-text", "code-selection", &["enter"], 1),
            setting("codebook", "merge", &["ctrl+m"], 2),
        ])
        .unwrap();
        assert_eq!(
            map.action_for(Context::NoteText, &key(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::CodeSelection)
        );
        // Text that names the key (the note view's title, its messages) names the new one.
        assert_eq!(
            map.key_of(Context::NoteText, Action::CodeSelection),
            "Enter"
        );
        assert_eq!(map.key_of(Context::NoteText, Action::Select), "v");
        let (_, why) = refused(setting("note-text", "select", &["w"], 1));
        assert!(why.contains("already means word-right"), "{why}");
    }

    #[test]
    fn keys_read_as_written_and_write_back_the_same() {
        for (text, label) in [
            ("ctrl+e", "Ctrl+E"),
            ("Alt+Enter", "Alt+Enter"),
            ("f4", "F4"),
            ("shift+tab", "Shift+Tab"),
            ("?", "?"),
            ("ctrl+space", "Ctrl+Space"),
            ("pgdn", "PgDn"),
        ] {
            assert_eq!(key_label(parse_key(text).unwrap()), label, "{text}");
        }
        assert_eq!(
            parse_key("G").unwrap(),
            (KeyCode::Char('G'), KeyModifiers::NONE)
        );
        assert!(parse_key("hyper+x").is_err());
        assert!(parse_key("f99").is_err());
        assert!(parse_key("").is_err());
    }

    #[test]
    fn every_context_and_action_has_a_config_name() {
        assert_eq!(name_of(&Context::NoteList), "note-list");
        assert_eq!(name_of(&Action::OpenSearch), "open-search");
        assert_eq!(name_of(&Context::Home), "home");
    }
}
