//! The codebook: every tag as a tree (children indented under their parent) with its facet,
//! how many notes and passages carry it, its description and colour; keys describe, move,
//! rename and merge the selected tag, each through one `Archive` method on the worker.

use std::str::FromStr;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::common::{count, editor, move_sel};
use super::{View, ViewSpec, no_paste, no_typing};
use crate::model::Tag;
use crate::store::{CodeNotes, CodebookEntry};
use crate::tui::app::{App, Level, Prompt, PromptFor};
use crate::tui::keymap::{self, Action, Context};
use crate::tui::ui::{block, fit};
use crate::tui::worker::{CodebookEdit, Request};

pub static SPEC: ViewSpec = ViewSpec {
    title: "codebook",
    context: |_| Context::Codebook,
    act,
    type_key: no_typing,
    paste: no_paste,
    draw,
};

/// The codebook as shown: the tree flattened to rows, each with its depth.
#[derive(Default)]
pub struct CodebookView {
    pub rows: Vec<(usize, CodebookEntry)>,
    pub sel: usize,
    pub loaded: bool,
}

/// What a codebook prompt asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    Description,
    Memo,
    Parent,
    Rename,
    MergeInto,
    /// The last word before a merge: how many notes it rewrites is in the prompt's title.
    ConfirmMerge {
        into: Tag,
    },
}

impl Ask {
    /// Whether the answer is a tag (so the prompt completes tags).
    pub fn wants_tag(&self) -> bool {
        matches!(self, Ask::Parent | Ask::Rename | Ask::MergeInto)
    }
}

fn tag_of(e: &CodebookEntry) -> Tag {
    Tag {
        facet: e.facet,
        name: e.name.clone(),
    }
}

/// Opens the codebook (from the session list).
pub(crate) fn open(app: &mut App) -> Vec<Request> {
    app.view = View::Codebook;
    vec![Request::Codebook]
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    if action == Action::Back {
        app.view = View::Home;
        return vec![Request::Sessions];
    }
    let cb = &mut app.codebook;
    let Some((_, entry)) = cb.rows.get(cb.sel) else {
        if matches!(
            action,
            Action::Describe
                | Action::EditMemo
                | Action::MoveUnder
                | Action::Rename
                | Action::Merge
        ) {
            app.say(
                Level::Info,
                "The codebook is empty: tags appear as notes use them",
            );
        }
        return Vec::new();
    };
    let tag = tag_of(entry);
    let sigil = tag.facet.sigil().to_string();
    let (ask, title, text, placeholder) = match action {
        Action::Describe => (
            Ask::Description,
            format!("What {tag} means (empty clears it)"),
            entry.description.clone().unwrap_or_default(),
            "a description every coder reads",
        ),
        Action::EditMemo => (
            Ask::Memo,
            format!("Memo on {tag} (empty clears it)"),
            entry.memo.clone().unwrap_or_default(),
            "your own notes on this code",
        ),
        Action::MoveUnder => (
            Ask::Parent,
            format!("Put {tag} under (a {} tag; empty: at the top)", tag.facet),
            sigil,
            "the parent tag",
        ),
        Action::Rename => (
            Ask::Rename,
            format!("Rename {tag} to (every note typing it is rewritten)"),
            tag.to_string(),
            "the new name",
        ),
        Action::Merge => (
            Ask::MergeInto,
            format!("Merge {tag} into (another {} tag)", tag.facet),
            sigil,
            "the tag that stays",
        ),
        nav => {
            move_sel(&mut cb.sel, cb.rows.len(), nav);
            return Vec::new();
        }
    };
    let mut input = editor(placeholder);
    input.insert_str(&text);
    let mut prompt = Prompt::new(PromptFor::Codebook { tag, edit: ask }, title, input);
    prompt.text_changed(&app.tags);
    app.prompt = Some(prompt);
    Vec::new()
}

/// A codebook prompt's Enter; an error (a word that is not a tag) keeps the prompt open.
pub(crate) fn submitted(
    app: &mut App,
    tag: Tag,
    ask: Ask,
    text: &str,
) -> Result<Vec<Request>, String> {
    let tag_typed = || {
        Tag::parse_token(text)
            .ok_or_else(|| format!("{text:?} is not a tag: write it with its sigil, e.g. =waiting"))
    };
    let edit = match ask {
        Ask::Description => CodebookEdit::Describe {
            tag,
            notes: CodeNotes {
                description: Some(text.to_owned()),
                ..CodeNotes::default()
            },
        },
        Ask::Memo => CodebookEdit::Describe {
            tag,
            notes: CodeNotes {
                memo: Some(text.to_owned()),
                ..CodeNotes::default()
            },
        },
        // Only the sigil left (or nothing): back to the top of the tree.
        Ask::Parent if text.chars().count() <= 1 => CodebookEdit::Parent { tag, parent: None },
        Ask::Parent => CodebookEdit::Parent {
            tag,
            parent: Some(tag_typed()?),
        },
        Ask::Rename => match tag_typed()? {
            to if to == tag => {
                app.say(Level::Info, "The name is unchanged");
                return Ok(Vec::new());
            }
            to => CodebookEdit::Rename { from: tag, to },
        },
        // Before merging, the worker counts the notes it would rewrite, to ask with.
        Ask::MergeInto => {
            return Ok(vec![Request::MergePreview {
                from: tag,
                into: tag_typed()?,
            }]);
        }
        Ask::ConfirmMerge { into } => CodebookEdit::Merge { from: tag, into },
    };
    app.say(Level::Info, "Saving…");
    Ok(vec![Request::EditCodebook(edit)])
}

// ---- worker responses --------------------------------------------------------------------

pub(crate) fn listed(
    app: &mut App,
    entries: Vec<CodebookEntry>,
    said: Option<String>,
) -> Vec<Request> {
    fn flatten(entries: Vec<CodebookEntry>, depth: usize, rows: &mut Vec<(usize, CodebookEntry)>) {
        for mut e in entries {
            let children = std::mem::take(&mut e.children);
            rows.push((depth, e));
            flatten(children, depth + 1, rows);
        }
    }
    let cb = &mut app.codebook;
    // The selected tag stays selected when it is still there (after a move, say).
    let selected = cb.rows.get(cb.sel).map(|(_, e)| e.tag.clone());
    cb.rows.clear();
    flatten(entries, 0, &mut cb.rows);
    cb.loaded = true;
    cb.sel = selected
        .and_then(|t| cb.rows.iter().position(|(_, e)| e.tag == t))
        .unwrap_or(cb.sel)
        .min(cb.rows.len().saturating_sub(1));
    if let Some(said) = said {
        app.say(Level::Ok, said);
    }
    Vec::new()
}

/// The merge's count arrives: asked to go on, saying how many notes change.
pub(crate) fn merge_preview(app: &mut App, from: Tag, into: Tag, notes: usize) -> Vec<Request> {
    let title = format!(
        "Merge {from} into {into}? {} rewritten (old text kept) · {} merges",
        count(notes, "note"),
        keymap::key_of(Context::Prompt, Action::Submit)
    );
    app.prompt = Some(Prompt::new(
        PromptFor::Codebook {
            tag: from,
            edit: Ask::ConfirmMerge { into },
        },
        title,
        editor(""),
    ));
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let cb = &app.codebook;
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let b = block(
        t,
        format!(
            " Codebook ({}) · notes · passages ",
            count(cb.rows.len(), "tag")
        ),
        true,
    );
    let inner = b.inner(list_area);
    frame.render_widget(b, list_area);
    if cb.rows.is_empty() {
        let text = if cb.loaded {
            "No tags yet: type =code, #touchpoint… in a note, or code a passage."
        } else {
            "Reading the codebook…"
        };
        frame.render_widget(Paragraph::new(text).style(t.dim()), inner);
    } else {
        let width = inner.width as usize;
        let name_width = cb
            .rows
            .iter()
            .map(|(d, e)| d * 2 + e.tag.width())
            .max()
            .unwrap_or(0)
            .min(width / 2);
        let visible = inner.height.max(1) as usize;
        let first = cb.sel.saturating_sub(visible - 1);
        let lines: Vec<Line> = cb
            .rows
            .iter()
            .enumerate()
            .skip(first)
            .take(visible)
            .map(|(i, (depth, e))| {
                let name = fit(&format!("{}{}", "  ".repeat(*depth), e.tag), name_width);
                let pad = name_width.saturating_sub(name.width());
                let counts = format!(" {:>5} {:>5}  ", e.notes, e.passages);
                let room = width.saturating_sub(name_width + counts.len() + 3);
                let mut line = Line::from(vec![
                    swatch(app, e),
                    Span::raw(" "),
                    Span::styled(format!("{name}{}", " ".repeat(pad)), t.facet(e.facet)),
                    Span::styled(counts, t.dim()),
                    Span::raw(fit(e.description.as_deref().unwrap_or(""), room)),
                ]);
                if i == cb.sel {
                    line = line.style(t.selected());
                }
                line
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }

    let db = block(t, " Selected ", false);
    let inner = db.inner(detail_area);
    frame.render_widget(db, detail_area);
    if let Some((_, e)) = cb.rows.get(cb.sel) {
        let lines = vec![
            Line::from(vec![
                Span::styled(e.tag.clone(), t.facet(e.facet)),
                Span::styled(
                    format!(
                        " · {} · {} · {} · colour {}",
                        e.facet,
                        count(e.notes as usize, "note"),
                        count(e.passages as usize, "passage"),
                        e.colour.as_deref().unwrap_or("of its facet")
                    ),
                    t.dim(),
                ),
            ]),
            Line::raw(format!(
                "description: {}",
                e.description.as_deref().unwrap_or("—")
            )),
            Line::raw(format!("memo: {}", e.memo.as_deref().unwrap_or("—"))),
        ];
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
    }
}

/// A block in the tag's own colour (or blank when it has none); without colour, a plain
/// block still says that the tag has one.
fn swatch(app: &App, e: &CodebookEntry) -> Span<'static> {
    match e.colour.as_deref().map(Color::from_str) {
        Some(Ok(c)) if app.palette.color => Span::styled("■", Style::new().fg(c)),
        Some(_) => Span::raw("■"),
        None => Span::raw(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Facet;

    fn entry(name: &str, notes: i64) -> CodebookEntry {
        CodebookEntry {
            tag: format!("={name}"),
            facet: Facet::Code,
            name: name.into(),
            description: None,
            memo: None,
            colour: None,
            notes,
            passages: 0,
            children: Vec::new(),
        }
    }

    #[test]
    fn counts_line_up_under_tags_of_any_script() {
        let mut app = App::new(crate::tui::theme::Palette::plain());
        app.opened = true;
        app.view = View::Codebook;
        listed(&mut app, vec![entry("排队", 12), entry("queue", 34)], None);
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(60, 12)).unwrap();
        terminal
            .draw(|f| crate::tui::ui::render(f, &mut app))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let column_of = |text: &str| {
            (0..buffer.area.height).find_map(|y| {
                let row: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect();
                row.find(text).map(|at| row[..at].chars().count())
            })
        };
        // Cells, not characters: a wide character's second cell is an empty symbol.
        assert_eq!(column_of("12"), column_of("34"));
    }
}
