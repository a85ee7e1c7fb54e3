//! The search view: the query box (search as you type), the results, the selected note and
//! the tag counts that filter them.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui_textarea::{CursorMove, TextArea};
use unicode_width::UnicodeWidthStr;

use super::common::{count, editor, move_sel, text_of};
use super::{View, ViewSpec, themes};
use crate::archive::SearchResults;
use crate::model::{Facet, NoteKind, Tag};
use crate::query::Filters;
use crate::tui::app::{App, Level};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::{Palette, kind_marker};
use crate::tui::ui::{block, tagged_line, when, wrap};
use crate::tui::worker::Request;

pub static SPEC: ViewSpec = ViewSpec {
    title: "search",
    context,
    act,
    type_key,
    paste,
    draw,
};

pub const SEARCH_LIMIT: usize = 50;

/// How far back the search's date filter reaches.
pub const SINCE_DAYS: [Option<i64>; 5] = [None, Some(1), Some(7), Some(30), Some(365)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchFocus {
    Query,
    Results,
    Facets,
}

pub struct SearchState {
    pub query: TextArea<'static>,
    pub results: SearchResults,
    pub sel: usize,
    pub focus: SearchFocus,
    pub facet_sel: usize,
    pub filters: Vec<Tag>,
    pub kind: Option<NoteKind>,
    pub study: Option<String>,
    /// A position in `SINCE_DAYS`.
    pub since: usize,
    pub generation: u64,
    pub millis: Option<u128>,
    pub error: Option<String>,
    pub searching: bool,
    /// The hits are shown; their total and tag counts are still being counted.
    pub counting: bool,
    /// Where Esc returns to.
    pub back: View,
}

impl SearchState {
    pub fn new() -> SearchState {
        SearchState {
            query: editor("Search: words, \"phrases\", prefix*, OR, -not, @persona #touchpoint"),
            results: SearchResults::default(),
            sel: 0,
            focus: SearchFocus::Query,
            facet_sel: 0,
            filters: Vec::new(),
            kind: None,
            study: None,
            since: 0,
            generation: 0,
            millis: None,
            error: None,
            searching: false,
            counting: false,
            back: View::Home,
        }
    }

    /// The facet counts as a flat list, persona to code, most frequent first within a facet.
    pub fn facet_rows(&self) -> Vec<(Tag, u64, bool)> {
        let mut rows = Vec::new();
        for facet in [
            Facet::Persona,
            Facet::Touchpoint,
            Facet::Emotion,
            Facet::Job,
            Facet::Code,
        ] {
            let Some(counts) = self.results.facets.get(&facet) else {
                continue;
            };
            let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (name, n) in sorted {
                let tag = Tag {
                    facet,
                    name: name.clone(),
                };
                let active = self.filters.contains(&tag);
                rows.push((tag, *n, active));
            }
        }
        rows
    }

    /// The search's filters: the tags toggled in the tag counts, the kind and the dates
    /// (counted back from `now`, the app's clock, so the filter is the one the screen shows).
    pub fn filters(&self, now: DateTime<Utc>) -> Filters {
        Filters {
            tags: self.filters.clone(),
            kind: self.kind,
            since: SINCE_DAYS[self.since].map(|days| now - chrono::Duration::days(days)),
            ..Filters::default()
        }
    }

    /// A new search for what the box and the filters say now.
    pub fn query_changed(&mut self, now: DateTime<Utc>) -> Vec<Request> {
        let filters = self.filters(now);
        self.generation += 1;
        self.searching = true;
        self.sel = 0;
        vec![Request::Search {
            generation: self.generation,
            query: while_typing(&text_of(&self.query)),
            filters,
            study: self.study.clone(),
            limit: SEARCH_LIMIT,
        }]
    }

    /// Only the focused query box shows its cursor.
    pub fn show_cursor(&mut self, focused: bool, on: Style, off: Style) {
        self.query.set_cursor_style(if focused { on } else { off });
        self.query.set_cursor_line_style(Style::new());
    }
}

impl Default for SearchState {
    fn default() -> Self {
        Self::new()
    }
}

/// Search-as-you-type: a plain word still being typed (no space after it yet) also matches
/// as a prefix, so results appear before the word is finished.
pub fn while_typing(query: &str) -> String {
    // After the last space or parenthesis, whatever its width in bytes (U+3000 is three).
    let start = query
        .char_indices()
        .rfind(|&(_, c)| c.is_whitespace() || c == '(')
        .map_or(0, |(i, c)| i + c.len_utf8());
    let last = &query[start..];
    let open_quote = query.matches('"').count() % 2 == 1;
    let plain = last.chars().count() >= 2
        && last.chars().all(char::is_alphanumeric)
        && !matches!(last, "AND" | "OR" | "NOT");
    if plain && !open_quote {
        format!("{}({last} OR {last}*)", &query[..start])
    } else {
        query.to_owned()
    }
}

fn context(app: &App) -> Context {
    match app.search.focus {
        SearchFocus::Query => Context::SearchQuery,
        SearchFocus::Results => Context::SearchResults,
        SearchFocus::Facets => Context::SearchFacets,
    }
}

/// Opens the search (from any view: `/`), the last query kept.
pub(crate) fn open(app: &mut App) -> Vec<Request> {
    let mut reqs = app.capture.draft_request();
    if app.view != View::Search {
        app.search.back = app.view;
    }
    app.view = View::Search;
    let s = &mut app.search;
    s.focus = SearchFocus::Query;
    // The old query stays, selected: typing replaces it, Enter goes back to its results.
    s.query.move_cursor(CursorMove::Bottom);
    s.query.move_cursor(CursorMove::End);
    if !text_of(&s.query).is_empty() {
        s.query.select_all();
    }
    if s.generation == 0 {
        reqs.extend(s.query_changed(app.now));
    }
    reqs
}

fn type_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    if app.search.focus == SearchFocus::Query && app.search.query.input(key) {
        return app.search.query_changed(app.now);
    }
    Vec::new()
}

fn paste(app: &mut App, text: &str) -> Vec<Request> {
    if app.search.focus != SearchFocus::Query {
        return Vec::new();
    }
    app.search.query.insert_str(text.replace('\n', " "));
    app.search.query_changed(app.now)
}

fn act(app: &mut App, action: Action) -> Vec<Request> {
    let now = app.now;
    let s = &mut app.search;
    match (s.focus, action) {
        (_, Action::Back) => {
            app.view = s.back;
            if app.view == View::Home {
                return vec![Request::Sessions];
            }
        }
        (_, Action::Themes) => {
            let query = text_of(&s.query);
            let study = s.study.clone();
            let filters = s.filters(now);
            return themes::open(app, query, filters, study);
        }
        (_, Action::Cooccurrence) => return super::cooccurrence::open(app),
        (_, Action::Matrix) => return super::matrix::open(app),
        (_, Action::Measures) => return super::measures::open(app),
        (_, Action::FilterKind) => {
            s.kind = match s.kind {
                None => Some(NoteKind::Observation),
                Some(NoteKind::Interpretation) => None,
                Some(k) => Some(k.next()),
            };
            return s.query_changed(now);
        }
        (_, Action::FilterStudy) => {
            app.search.study = app.next_study(app.search.study.as_deref());
            return app.search.query_changed(now);
        }
        (_, Action::FilterDate) => {
            s.since = (s.since + 1) % SINCE_DAYS.len();
            return s.query_changed(now);
        }
        (_, Action::Export) => {
            let ids: Vec<String> = s.results.hits.iter().map(|h| h.id.clone()).collect();
            if ids.is_empty() {
                app.say(Level::Info, "No results to export");
                return Vec::new();
            }
            let name = format!(
                "search-{}.md",
                app.now.with_timezone(&app.tz).format("%Y-%m-%d")
            );
            app.ask_export(
                crate::io::ExportOptions {
                    scope: crate::io::Scope::Notes(ids),
                    redact: false,
                    ..Default::default()
                },
                &name,
            );
        }
        (SearchFocus::Query, Action::FocusNext) => {
            s.query.cancel_selection();
            s.focus = SearchFocus::Results;
        }
        (SearchFocus::Results, Action::FocusNext) => s.focus = SearchFocus::Facets,
        (SearchFocus::Facets, Action::FocusNext) => s.focus = SearchFocus::Query,
        (SearchFocus::Results, Action::FocusPrev) => s.focus = SearchFocus::Query,
        (SearchFocus::Facets, Action::FocusPrev) => s.focus = SearchFocus::Results,
        // The note view, to read the whole note and code passages (its `s` opens the session).
        (SearchFocus::Results, Action::Open) => {
            if let Some(hit) = s.results.hits.get(s.sel) {
                return super::note::open(&hit.id);
            }
        }
        (SearchFocus::Results, nav) => move_sel(&mut s.sel, s.results.hits.len(), nav),
        (SearchFocus::Facets, Action::ToggleFacet) => {
            let rows = s.facet_rows();
            if let Some((tag, _, active)) = rows.get(s.facet_sel) {
                if *active {
                    s.filters.retain(|t| t != tag);
                } else {
                    s.filters.push(tag.clone());
                }
                return s.query_changed(now);
            }
        }
        (SearchFocus::Facets, Action::ClearFilters) if !s.filters.is_empty() => {
            s.filters.clear();
            return s.query_changed(now);
        }
        (SearchFocus::Facets, nav) => {
            let len = s.facet_rows().len();
            move_sel(&mut s.facet_sel, len, nav);
        }
        _ => {}
    }
    Vec::new()
}

// ---- worker responses --------------------------------------------------------------------

/// Results arrive; those of a search since replaced are dropped.
pub(crate) fn searched(
    app: &mut App,
    generation: u64,
    results: SearchResults,
    millis: u128,
    counted: bool,
) -> Vec<Request> {
    let s = &mut app.search;
    if generation == s.generation {
        s.results = results;
        s.millis = Some(millis);
        s.error = None;
        s.searching = false;
        s.counting = !counted;
        s.sel = s.sel.min(s.results.hits.len().saturating_sub(1));
        let rows = s.facet_rows().len();
        s.facet_sel = s.facet_sel.min(rows.saturating_sub(1));
    }
    Vec::new()
}

pub(crate) fn failed(app: &mut App, generation: u64, message: String) -> Vec<Request> {
    let s = &mut app.search;
    if generation == s.generation {
        s.error = Some(message);
        s.searching = false;
    }
    Vec::new()
}

// ---- drawing -----------------------------------------------------------------------------

fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let s = &app.search;
    let [query_area, body] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let mut title = vec![Span::raw(" Search ")];
    for f in &s.filters {
        title.push(Span::styled(format!("[{f}] "), t.facet(f.facet)));
    }
    if let Some(kind) = s.kind {
        title.push(Span::styled(format!("[{kind}s] "), t.kind(kind)));
    }
    if let Some(study) = &s.study {
        title.push(Span::styled(format!("[{study}] "), t.title()));
    }
    if let Some(days) = SINCE_DAYS[s.since] {
        let when = match days {
            1 => "today".to_owned(),
            365 => "the last year".to_owned(),
            d => format!("the last {d} days"),
        };
        title.push(Span::styled(format!("[{when}] "), t.title()));
    }
    let qb = block(t, Line::from(title), s.focus == SearchFocus::Query);
    let inner = qb.inner(query_area);
    frame.render_widget(qb, query_area);
    frame.render_widget(&s.query, inner);

    // A narrow terminal leaves the preview out: the results need the width more.
    let (results_area, preview_area, facets_area) = if body.width >= 110 {
        let [r, p, f] = Layout::horizontal([
            Constraint::Fill(5),
            Constraint::Fill(4),
            Constraint::Length(28),
        ])
        .areas(body);
        (r, Some(p), f)
    } else {
        let [r, f] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(24)]).areas(body);
        (r, None, f)
    };

    let total = count(s.results.total, "note");
    let count = if s.searching {
        " searching… ".to_owned()
    } else if s.counting {
        " counting… ".to_owned()
    } else {
        match s.millis {
            Some(ms) => format!(" {total} · {ms} ms "),
            None => format!(" {total} "),
        }
    };
    let rb = block(t, " Results ", s.focus == SearchFocus::Results)
        .title_bottom(Line::from(count).right_aligned());
    let inner = rb.inner(results_area);
    frame.render_widget(rb, results_area);
    if let Some(err) = &s.error {
        frame.render_widget(
            Paragraph::new(err.as_str())
                .style(t.error())
                .wrap(Wrap { trim: true }),
            inner,
        );
    } else if s.results.hits.is_empty() {
        frame.render_widget(Paragraph::new("No notes match.").style(t.dim()), inner);
    } else {
        let per_hit = 3usize;
        let visible = (inner.height as usize / per_hit).max(1);
        let first = s.sel.saturating_sub(visible - 1);
        let mut lines = Vec::new();
        for (i, hit) in s.results.hits.iter().enumerate().skip(first).take(visible) {
            let selected = i == s.sel && s.focus == SearchFocus::Results;
            let mut head = vec![
                Span::styled(format!("[{}] ", kind_marker(hit.kind)), t.kind(hit.kind)),
                Span::styled(format!("{} ", when(app.tz, &hit.created_at)), t.dim()),
            ];
            head.extend(tag_spans(
                t,
                hit.tags.iter().flat_map(|(f, names)| {
                    names.iter().map(|n| Tag {
                        facet: *f,
                        name: n.clone(),
                    })
                }),
            ));
            let mut head = Line::from(head);
            if selected {
                head = head.style(t.selected());
            }
            lines.push(head);
            let width = inner.width as usize;
            let snippet = snippet_line(t, &hit.snippet);
            // Two lines of snippet at most.
            let text: String = snippet.spans.iter().map(|s| s.content.as_ref()).collect();
            if text.width() <= width {
                lines.push(snippet);
            } else {
                lines.push(snippet_line(
                    t,
                    &truncate_marked(&hit.snippet, width.saturating_sub(1)),
                ));
            }
            lines.push(Line::raw(""));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    if let Some(preview_area) = preview_area {
        preview(frame, app, preview_area);
    }
    facets(frame, app, facets_area);
}

/// The whole of the selected search hit.
fn preview(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let s = &app.search;
    let pb = block(t, " Note ", false);
    let inner = pb.inner(area);
    frame.render_widget(pb, area);
    if let Some(hit) = s.results.hits.get(s.sel) {
        let session = app.sessions.iter().find(|x| x.id == hit.session);
        let mut lines = vec![Line::from(vec![
            Span::styled(hit.kind.as_str().to_owned(), t.kind(hit.kind)),
            Span::styled(format!(" · {}", when(app.tz, &hit.created_at)), t.dim()),
        ])];
        if let Some(session) = session {
            let mut who = format!("{} · {}", session.kind, session.study);
            if !session.participants.is_empty() {
                who.push_str(&format!(" · {}", session.participants.join(", ")));
            }
            lines.push(Line::styled(who, t.dim()));
        }
        lines.push(Line::raw(""));
        for piece in wrap(&hit.body, inner.width as usize) {
            lines.push(tagged_line(t, &piece, Style::new()));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("Enter opens it to code passages", t.dim()));
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The tag counts of every hit, to filter by.
fn facets(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.palette;
    let s = &app.search;
    let fb = block(t, " Tags ", s.focus == SearchFocus::Facets);
    let inner = fb.inner(area);
    frame.render_widget(fb, area);
    let rows = s.facet_rows();
    let visible = inner.height as usize;
    let first = s.facet_sel.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, (tag, n, active))| {
            let mark = if *active { "■ " } else { "  " };
            let mut line = Line::from(vec![
                Span::raw(mark),
                Span::styled(tag.to_string(), t.facet(tag.facet)),
                Span::styled(format!(" {n}"), t.dim()),
            ]);
            if i == s.facet_sel && s.focus == SearchFocus::Facets {
                line = line.style(t.selected());
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn snippet_line<'a>(t: Palette, snippet: &str) -> Line<'a> {
    let flat: String = crate::text::one_line(snippet);
    let spans: Vec<Span> = flat
        .split("**")
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                Span::styled(part.to_owned(), t.highlight())
            } else {
                Span::raw(part.to_owned())
            }
        })
        .collect();
    Line::from(spans)
}

fn tag_spans<'a>(t: Palette, tags: impl Iterator<Item = Tag>) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    for tag in tags {
        spans.push(Span::styled(tag.to_string(), t.facet(tag.facet)));
        spans.push(Span::raw(" "));
    }
    spans
}

/// Cuts a `**`-marked snippet to `width` visible columns, keeping the markers balanced.
fn truncate_marked(snippet: &str, width: usize) -> String {
    let flat: String = crate::text::one_line(snippet);
    let mut out = String::new();
    let mut visible = 0;
    let mut open = false;
    let mut rest = flat.as_str();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**") {
            out.push_str("**");
            open = !open;
            rest = after;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        let w = c.to_string().width();
        if visible + w > width {
            break;
        }
        visible += w;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if open {
        out.push_str("**");
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_space_in_the_search_box_is_a_space() {
        // U+3000 is three bytes, U+00A0 two: the word after them starts after the whole char.
        assert_eq!(
            while_typing("queue\u{3000}wai"),
            "queue\u{3000}(wai OR wai*)"
        );
        assert_eq!(while_typing("long\u{a0}wai"), "long\u{a0}(wai OR wai*)");
        assert_eq!(while_typing("\u{3000}"), "\u{3000}");
        assert_eq!(while_typing("漢字\u{3000}ab"), "漢字\u{3000}(ab OR ab*)");
    }

    #[test]
    fn the_word_being_typed_also_matches_as_a_prefix() {
        assert_eq!(while_typing("long wai"), "long (wai OR wai*)");
        assert_eq!(while_typing("wai"), "(wai OR wai*)");
        assert_eq!(while_typing("long wait "), "long wait ");
        assert_eq!(while_typing("#checkout"), "#checkout");
        assert_eq!(while_typing("\"long wai"), "\"long wai");
        assert_eq!(while_typing("w"), "w");
        assert_eq!(while_typing("queue OR"), "queue OR");
        assert_eq!(while_typing(""), "");
    }
}
