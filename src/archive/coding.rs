//! Coding through the one door: passages, whole-note codings, the codebook, and coding every
//! result of a search. Each write is one SQLite transaction, then the index catches up.

use serde::Serialize;

use super::Archive;
use crate::analysis::{AnalysisNote, Coding, MatrixBy, NoteGroups};
use crate::error::{Error, Result};
use crate::model::{Note, NoteKind, Passage, SpanSpec, Tag};
use crate::query::Filters;
use crate::store::{BulkCoding, CodeNotes, CodebookEntry, Recoded};

/// A saved edit, with the passages whose text the edit removed (kept, marked lost).
#[derive(Debug, Clone, Serialize)]
pub struct Edited {
    pub note: Note,
    pub lost: Vec<Passage>,
}

impl Archive {
    /// Like [`Archive::edit_note`], also returning the passages the edit lost: every other
    /// passage has been found again by its text, nearest where it was.
    pub fn edit_note_reporting(
        &mut self,
        id: &str,
        body: &str,
        kind: Option<NoteKind>,
    ) -> Result<Edited> {
        let (note, lost) = self.store.edit_note(id, body, kind)?;
        self.sync_index()?;
        Ok(Edited { note, lost })
    }

    /// Codes a span of a note's text (a code-point range, or a quote found once) with `tag`
    /// as `coder`. Several codes may share a span and spans may overlap.
    pub fn code_span(
        &mut self,
        note: &str,
        tag: &Tag,
        span: &SpanSpec,
        coder: &str,
    ) -> Result<Passage> {
        let passage = self.store.code_passage(note, tag, span, coder)?;
        self.sync_index()?;
        Ok(passage)
    }

    /// Takes `tag` off a note's passages: the one at `span` (a range, or a passage's coded
    /// text) when given, else all of them; only `coder`'s when given.
    pub fn uncode_span(
        &mut self,
        note: &str,
        tag: &Tag,
        span: Option<&SpanSpec>,
        coder: Option<&str>,
    ) -> Result<Vec<Passage>> {
        let removed = self.store.uncode_passages(note, tag, span, coder)?;
        self.sync_index()?;
        Ok(removed)
    }

    /// Codes a whole note with `tag` (beside its text) as `coder`; false when nothing changed
    /// (`coder` had coded it so, or the note carries the tag with no coder).
    pub fn code_note(&mut self, note: &str, tag: &Tag, coder: &str) -> Result<bool> {
        let added = self.store.code_note(note, tag, coder)?;
        self.sync_index()?;
        Ok(added)
    }

    /// Takes `coder`'s whole-note coding with `tag` off a note (every coder's when `None`);
    /// the note keeps the tag while another coder's coding remains.
    pub fn uncode_note(&mut self, note: &str, tag: &Tag, coder: Option<&str>) -> Result<()> {
        self.store.uncode_note(note, tag, coder)?;
        self.sync_index()?;
        Ok(())
    }

    /// A note's passages (lost ones included), in text order.
    pub fn passages(&self, note: &str) -> Result<Vec<Passage>> {
        self.store.passages(note)
    }

    /// Every passage of a live note that an edit lost.
    pub fn lost_passages(&self) -> Result<Vec<Passage>> {
        self.store.lost_passages()
    }

    /// The codebook as a tree with counts.
    pub fn codebook(&self) -> Result<Vec<CodebookEntry>> {
        self.store.codebook()
    }

    /// Writes a code's description, memo and colour (`Some("")` clears one).
    pub fn describe_code(&self, tag: &Tag, notes: &CodeNotes) -> Result<()> {
        self.store.describe_code(tag, notes)
    }

    /// Moves `tag` under `parent` (a tag of the same facet), or to the top; refuses a cycle.
    pub fn set_code_parent(&self, tag: &Tag, parent: Option<&Tag>) -> Result<()> {
        self.store.set_parent(tag, parent)
    }

    /// Renames a tag and rewrites every note typing it, in one transaction (revisions kept).
    pub fn rename_tag(&mut self, from: &Tag, to: &Tag) -> Result<Recoded> {
        let done = self.store.rename_tag(from, to)?;
        self.sync_index()?;
        Ok(done)
    }

    /// Merges tag `from` into `into`, in one transaction (revisions kept, passages moved).
    pub fn merge_tags(&mut self, from: &Tag, into: &Tag) -> Result<Recoded> {
        let done = self.store.merge_tags(from, into)?;
        self.sync_index()?;
        Ok(done)
    }

    /// Codes every note that `query` and `filters` find (the search's own query path, every
    /// hit, not one page) with `tag` as a whole, in one transaction; `undo_bulk_coding` takes
    /// it back.
    pub fn code_search(
        &mut self,
        query: &str,
        filters: &Filters,
        tag: &Tag,
        coder: &str,
    ) -> Result<BulkCoding> {
        let ids = self.search_ids(query, filters)?;
        let done = self.store.code_notes_bulk(tag, query, &ids, coder)?;
        self.sync_index()?;
        Ok(done)
    }

    /// What `code_search` would do, with nothing written.
    pub fn code_search_dry_run(
        &self,
        query: &str,
        filters: &Filters,
        tag: &Tag,
        coder: &str,
    ) -> Result<BulkCoding> {
        let ids = self.search_ids(query, filters)?;
        let already = self.store.notes_coded_already(tag, coder, &ids)?;
        Ok(BulkCoding {
            id: None,
            tag: tag.clone(),
            query: query.to_owned(),
            coder: coder.to_owned(),
            coded: ids.len() - already,
            already,
        })
    }

    /// Takes back the latest bulk coding not yet undone.
    pub fn undo_bulk_coding(&mut self) -> Result<BulkCoding> {
        let done = self.store.undo_bulk_coding()?;
        self.sync_index()?;
        Ok(done)
    }

    /// The notes `query` and `filters` select (every live note when both are empty), loaded
    /// for analysis, and their codings by note: what co-occurrence, code matrices and
    /// agreement read.
    pub fn coded_notes(
        &self,
        query: &str,
        filters: &Filters,
    ) -> Result<(Vec<AnalysisNote>, Vec<Coding>)> {
        let ids = self.selected_ids(query, filters)?;
        Ok((
            self.store.analysis_notes(ids.as_deref())?,
            self.store.codings(ids.as_deref())?,
        ))
    }

    /// Each of `notes`' groups by `by`: the columns of a code matrix (see
    /// [`crate::analysis::matrix::note_groups`]; a matrix by session kind reads the kinds).
    pub fn note_groups(&self, notes: &[AnalysisNote], by: MatrixBy) -> Result<Vec<NoteGroups>> {
        let kinds = if by == MatrixBy::SessionKind {
            self.store.session_kinds()?
        } else {
            Default::default()
        };
        Ok(crate::analysis::matrix::note_groups(by, notes, &kinds))
    }

    /// Every live note a search finds. An empty search would code the whole archive: refused.
    fn search_ids(&self, query: &str, filters: &Filters) -> Result<Vec<String>> {
        let ids = self.selected_ids(query, filters)?.ok_or_else(|| {
            Error::Usage(
                "code all results needs a search query or a filter: it would code every note"
                    .into(),
            )
        })?;
        // The index may trail SQLite: only notes SQLite has live are coded.
        self.store.live_among(ids)
    }
}
