//! The one way to open an archive: a folder holding `fieldnotes.db` (the truth) and `index/`
//! (derived). Every write goes to SQLite first, then the index catches up.

mod coding;
mod convert;
mod sync;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::crypt::{self, ArchiveKey, CryptError, KeyFile, Passphrase};
use crate::error::{Error, Result};
use crate::index::{CatchUp, NoteIndex};
use crate::model::{Facet, Note, NoteKind, Tag, group_tags};
use crate::query::{Filters, Query};
use crate::store::{
    ImportCounts, ImportSink, IndexRecord, MergeCounts, NewNote, NewSession, Store,
};

pub use coding::Edited;
pub use convert::Converted;

pub const DB_FILE: &str = "fieldnotes.db";
pub const INDEX_DIR: &str = "index";

pub struct Archive {
    dir: PathBuf,
    store: Store,
    index: NoteIndex,
    /// The archive key of an encrypted archive.
    key: Option<ArchiveKey>,
    /// How many changes this handle's opening indexed into an empty index (one missing or
    /// damaged): a `reindex` right after it would make the same index again.
    built_at_open: Option<u64>,
}

/// One search hit, as the CLI prints it and the app shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub id: String,
    pub score: f32,
    pub snippet: String,
    pub kind: NoteKind,
    pub body: String,
    pub tags: BTreeMap<Facet, Vec<String>>,
    pub session: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A mystery-shop visit in progress: what the app and `visit show` display.
#[derive(Debug, Clone, Serialize)]
pub struct VisitState {
    pub session: String,
    pub scorecard: crate::store::ScorecardVersion,
    pub answers: Vec<crate::mystery_shop::Answer>,
    pub score: crate::mystery_shop::VisitScore,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// For each facet, each tag's number of matching notes.
    pub facets: BTreeMap<Facet, BTreeMap<String, u64>>,
}

impl Archive {
    /// The platform's data folder for fieldnotes (e.g. `~/.local/share/fieldnotes` on Linux).
    pub fn default_dir() -> Result<PathBuf> {
        directories::ProjectDirs::from("", "", "fieldnotes")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or(Error::NoHome)
    }

    /// Opens the archive in `dir`, creating it on first use, and brings its index up to date.
    /// An encrypted archive needs its key: see [`Archive::open_unlocked`].
    pub fn open(dir: &Path) -> Result<Archive> {
        Archive::open_with_progress(dir, |_| {})
    }

    /// Like `open`, reporting how many changes the index has caught up on (for long rebuilds).
    pub fn open_with_progress(dir: &Path, progress: impl FnMut(u64)) -> Result<Archive> {
        Archive::open_unlocked(dir, None, progress)
    }

    /// Opens the archive in `dir` with `key`, the archive key of an encrypted archive (from
    /// [`crate::crypt::unlock`]); `None` for one that is not encrypted.
    pub fn open_unlocked(
        dir: &Path,
        key: Option<&ArchiveKey>,
        progress: impl FnMut(u64),
    ) -> Result<Archive> {
        Archive::open_unlocked_then(dir, key, |_| Ok(()), progress)
    }

    /// Like [`Archive::open_unlocked`], handing the database to `first` as soon as it is open,
    /// before the search index is: opening the index reads every segment's files, about a
    /// second for a 10,000,000-note archive on a cold disk (minutes when it must be rebuilt),
    /// and the app can list the sessions meanwhile.
    pub fn open_unlocked_then(
        dir: &Path,
        key: Option<&ArchiveKey>,
        first: impl FnOnce(&Store) -> Result<()>,
        progress: impl FnMut(u64),
    ) -> Result<Archive> {
        create_private_dir(dir)?;
        convert::recover(dir)?;
        match (crypt::is_encrypted(dir), key) {
            (true, None) => {
                return Err(CryptError::Locked {
                    dir: dir.to_path_buf(),
                }
                .into());
            }
            (false, Some(_)) => {
                return Err(CryptError::NotEncrypted {
                    dir: dir.to_path_buf(),
                }
                .into());
            }
            _ => {}
        }
        let store = Store::open_keyed(&dir.join(DB_FILE), key.map(|k| k.database_key()).as_ref())?;
        first(&store)?;
        let index = NoteIndex::open(
            &dir.join(INDEX_DIR),
            &store.archive_id()?,
            key.map(|k| k.index_key()).as_ref(),
        )?;
        // Empty and from the first change: an index made as it opens (it was missing,
        // damaged, of another format or archive). An index that holds notes but no record
        // of how far it is (copied from elsewhere) is only caught up, not made again.
        let from_nothing = index.seq() == 0 && index.is_empty();
        let mut archive = Archive {
            dir: dir.to_path_buf(),
            store,
            index,
            key: key.cloned(),
            built_at_open: None,
        };
        let caught_up = archive.index.catch_up(&archive.store, progress)?;
        if let CatchUp::Current { indexed } = caught_up
            && from_nothing
            && indexed > 0
        {
            archive.built_at_open = Some(indexed);
        }
        tracing::info!(archive = %dir.display(), index = ?caught_up, encrypted = key.is_some(), "opened");
        Ok(archive)
    }

    /// Makes a new, empty encrypted archive in `dir` (refused where an archive already is:
    /// `fieldnotes encrypt` converts one), its key wrapped under `passphrase`.
    pub fn create_encrypted(dir: &Path, passphrase: &Passphrase) -> Result<Archive> {
        Archive::refuse_existing(dir)?;
        create_private_dir(dir)?;
        let (file, key) = KeyFile::create(passphrase)?;
        file.write_as(dir, crypt::KEY_FILE)
            .map_err(|source| Error::Archive {
                path: dir.join(crypt::KEY_FILE),
                source,
            })?;
        Archive::open_unlocked(dir, Some(&key), |_| {})
    }

    /// Refuses a folder that already holds an archive (before a passphrase is asked for).
    pub fn refuse_existing(dir: &Path) -> Result<()> {
        if crypt::is_encrypted(dir) {
            return Err(CryptError::AlreadyEncrypted {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        if dir.join(DB_FILE).exists() {
            return Err(Error::Usage(format!(
                "{} already holds an archive: `fieldnotes encrypt` encrypts it",
                dir.display()
            )));
        }
        Ok(())
    }

    /// Whether the archive is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.key.is_some()
    }

    /// Why the index was rebuilt when the archive opened (it was found damaged), if it was.
    pub fn index_repaired(&self) -> Option<&str> {
        self.index.repaired()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A second handle on this archive for long reads on another thread (searches, analyses,
    /// reports): its own SQLite connection, and this archive's index reader, so it sees every
    /// note this handle indexes as soon as it is committed. Reads only — writes belong to the
    /// handle that holds the index writer — save the theme memory, a cache outside the index
    /// (see [`Archive::themes`]).
    pub fn reader(&self) -> Result<Archive> {
        Ok(Archive {
            dir: self.dir.clone(),
            store: self.store.reopen()?,
            index: self.index.reader_handle(),
            key: self.key.clone(),
            built_at_open: None,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn index(&self) -> &NoteIndex {
        &self.index
    }

    /// Indexes what changed in SQLite. A process without the index writer leaves it to the
    /// one that has it, or to the next open.
    pub fn sync_index(&mut self) -> Result<CatchUp> {
        self.index.catch_up(&self.store, |_| {})
    }

    /// Starts a session, with its scorecard for a mystery-shop visit, in one transaction.
    pub fn start_session(
        &mut self,
        new: &NewSession,
        scorecard: Option<&str>,
    ) -> Result<crate::model::Session> {
        // Typed measures are checked against the study's scales before anything is written.
        if !new.measures.is_empty() {
            let scales = self.store.measure_scales(Some(&new.study))?;
            let typed: Vec<String> = new.measures.iter().map(|m| m.to_string()).collect();
            crate::model::check_measures(&typed.join(" "), &scales).map_err(Error::BadValue)?;
        }
        self.store.start_session_with(new, scorecard)
    }

    pub fn end_session(&self, id: &str) -> Result<crate::model::Session> {
        self.store.end_session(id, crate::time::now())
    }

    /// Keeps what is being typed in the app (a new note's text, or an edit of `note`).
    pub fn save_draft(
        &self,
        session: &str,
        note: Option<&str>,
        kind: NoteKind,
        body: &str,
    ) -> Result<()> {
        self.store.save_draft(session, note, kind, body)
    }

    /// Records a participant's consent given today, or withdraws it.
    pub fn set_consent(&self, pseudonym: &str, consent: bool) -> Result<crate::model::Participant> {
        self.store
            .set_consent(pseudonym, consent, crate::time::now())
    }

    pub fn set_contact(&self, pseudonym: &str, contact: &str) -> Result<crate::model::Participant> {
        self.store.set_contact(pseudonym, contact)
    }

    pub fn import_scorecard(
        &self,
        card: &crate::mystery_shop::Scorecard,
        source: &str,
    ) -> Result<crate::store::ScorecardImport> {
        self.store.import_scorecard(card, source)
    }

    pub fn keep_theme(&self, theme: &crate::analysis::KeptTheme) -> Result<()> {
        self.store.keep_theme(theme)
    }

    pub fn rename_theme(&self, id: &str, label: &str) -> Result<()> {
        self.store.rename_theme(id, label)
    }

    /// Folds kept theme `from` into `into`, in one transaction.
    pub fn merge_themes(&self, into: &str, from: &str) -> Result<crate::analysis::KeptTheme> {
        self.store.merge_themes(into, from)
    }

    pub fn dismiss_theme(&self, id: &str, label: &str) -> Result<()> {
        self.store.dismiss_theme(id, label)
    }

    pub fn add_insight(
        &self,
        statement: &str,
        notes: &[String],
        theme: Option<&str>,
        confidence: Option<crate::model::InsightConfidence>,
    ) -> Result<crate::store::Insight> {
        self.store.add_insight(statement, notes, theme, confidence)
    }

    /// Sets (or clears) how sure the researcher is of an insight.
    pub fn set_insight_confidence(
        &self,
        id: i64,
        confidence: Option<crate::model::InsightConfidence>,
    ) -> Result<crate::store::Insight> {
        self.store.set_insight_confidence(id, confidence)
    }

    /// Defines (or redefines) a measure of a study's own; built-in names cannot be taken.
    pub fn define_measure(&self, study: &str, scale: &crate::model::MeasureScale) -> Result<()> {
        self.store.define_measure(study, scale)
    }

    /// Gives a whole session measures, each checked against its study's scales.
    pub fn set_session_measures(
        &self,
        session: &str,
        measures: &[crate::model::Measure],
    ) -> Result<()> {
        self.store.set_session_measures(session, measures)
    }

    /// Adds names to (and takes names off) the list of other people a study's redacted
    /// exports mask; returns the list.
    pub fn edit_masked_names(
        &self,
        study: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>> {
        self.store.edit_masked_names(study, add, remove)
    }

    /// Folds the write-ahead log into the database (the app does it when idle).
    pub fn checkpoint(&self) -> Result<()> {
        self.store.checkpoint()
    }

    pub fn add_note(&mut self, new: &NewNote) -> Result<Note> {
        self.add_note_observed(new, |_| {})
    }

    /// Adds a note, calling `durable` once SQLite has committed it and before the index has:
    /// what the benchmark times as "until durable" against "until searchable".
    pub fn add_note_observed(
        &mut self,
        new: &NewNote,
        durable: impl FnOnce(&Note),
    ) -> Result<Note> {
        let note = self.store.add_note(new)?;
        durable(&note);
        self.sync_index()?;
        Ok(note)
    }

    /// Replaces a note's text, keeping the old version; see [`Archive::edit_note_reporting`]
    /// for the passages an edit loses.
    pub fn edit_note(&mut self, id: &str, body: &str, kind: Option<NoteKind>) -> Result<Note> {
        Ok(self.edit_note_reporting(id, body, kind)?.note)
    }

    pub fn trash_note(&mut self, id: &str) -> Result<Note> {
        let note = self.store.trash_note(id)?;
        self.sync_index()?;
        Ok(note)
    }

    pub fn restore_note(&mut self, id: &str) -> Result<Note> {
        let note = self.store.restore_note(id)?;
        self.sync_index()?;
        Ok(note)
    }

    /// Runs an import in one SQLite transaction, indexing its notes as they are written (the
    /// index commits only after SQLite has); `progress` counts the notes indexed.
    pub fn import<F>(&mut self, fill: F, mut progress: impl FnMut(u64)) -> Result<ImportCounts>
    where
        F: FnOnce(&mut ImportSink<'_>) -> Result<()>,
    {
        if !self.index.is_writer() {
            // The process holding the index writer catches up on these notes.
            let counts = self.store.import(fill)?;
            self.index.catch_up(&self.store, progress)?;
            return Ok(counts);
        }
        self.index.begin_import();
        let index = &mut self.index;
        let mut staged = 0u64;
        let mut stage = |rec: IndexRecord| {
            index.stage(&rec)?;
            staged += 1;
            if staged.is_multiple_of(10_000) {
                progress(staged);
            }
            Ok(())
        };
        let done = match self.store.import_observed(fill, Some(&mut stage)) {
            Ok(done) => done,
            Err(e) => {
                self.index.abandon_import();
                return Err(e);
            }
        };
        progress(staged);
        // A large import leaves a large write-ahead log: it is folded into the database while
        // the index commits, each on its own core.
        let checkpoint = std::thread::spawn(self.store.checkpoint_beside());
        let indexed = self
            .index
            .finish_import(&self.store, &done)
            .and_then(|()| self.index.catch_up(&self.store, |_| {}));
        // The notes are safe either way: a checkpoint that could not finish is done later.
        let _ = checkpoint.join();
        indexed?;
        Ok(done.counts)
    }

    /// Imports one file in one transaction: its format's reader fills it (see `io::ImportFile`).
    pub fn import_file(
        &mut self,
        file: crate::io::ImportFile,
        progress: impl FnMut(u64),
    ) -> Result<ImportCounts> {
        self.import(|sink| file.fill(sink), progress)
    }

    /// What importing the file would do (notes, participants, warnings, the first notes),
    /// with nothing written: the import runs and is rolled back.
    pub fn import_dry_run(&self, file: crate::io::ImportFile) -> Result<ImportCounts> {
        self.store.import_dry_run(|sink| file.fill(sink))
    }

    /// Answers one criterion of a mystery-shop visit from what a person typed (`yes`, `4`,
    /// `2m`, `na`…), saving `note` as an evidence note beside it. Refuses an answer that needs
    /// evidence without one.
    pub fn answer_visit(
        &mut self,
        session: &str,
        criterion: &str,
        raw_value: &str,
        note: Option<&str>,
        clears_draft: bool,
    ) -> Result<(VisitState, Option<Note>)> {
        let card = self.store.visit_scorecard(session)?;
        let Some(c) = card.card.criterion(criterion) else {
            let ids: Vec<&str> = card.card.criteria().map(|(_, c)| c.id.as_str()).collect();
            return Err(Error::NotFound(format!(
                "the scorecard {:?} has no criterion {criterion:?}: it has {}",
                card.card.name,
                ids.join(", ")
            )));
        };
        let value = crate::mystery_shop::parse_value(c, raw_value).map_err(Error::BadValue)?;
        let note = note.filter(|n| !n.trim().is_empty());
        let already_noted = self
            .store
            .answers(session)?
            .iter()
            .any(|a| a.criterion == c.id && a.note.is_some());
        if c.evidence_required && value.is_some() && note.is_none() && !already_noted {
            return Err(Error::NeedsEvidence {
                criterion: c.id.clone(),
            });
        }
        let id = c.id.clone();
        let new_note = note.map(|text| NewNote {
            session: session.to_owned(),
            kind: NoteKind::Observation,
            body: text.to_owned(),
            extra_tags: Vec::new(),
            clears_draft,
        });
        // The answer and its evidence note in one transaction, then the index.
        let note_id = self
            .store
            .answer_with_note(session, &id, value, new_note.as_ref())?;
        let saved = match note_id {
            Some(id) => {
                self.sync_index()?;
                Some(self.store.note(&id)?)
            }
            None => None,
        };
        Ok((self.visit_state(session)?, saved))
    }

    /// A visit's scorecard, answers and score so far.
    pub fn visit_state(&self, session: &str) -> Result<VisitState> {
        let scorecard = self.store.visit_scorecard(session)?;
        let answers = self.store.answers(session)?;
        let score = crate::mystery_shop::score_visit(&scorecard.card, &answers);
        Ok(VisitState {
            session: session.to_owned(),
            scorecard,
            answers,
            score,
        })
    }

    /// Merges another researcher's notes (see [`crate::store::merge_note`] for the rules),
    /// then indexes what changed.
    pub fn merge(&mut self, incoming: &crate::store::Incoming) -> Result<MergeCounts> {
        let counts = self.store.merge(incoming)?;
        self.sync_index()?;
        self.store.checkpoint()?;
        Ok(counts)
    }

    /// Throws the index away and builds it again from SQLite.
    pub fn reindex(&mut self, progress: impl FnMut(u64)) -> Result<u64> {
        // An index this handle made from nothing as it opened is what a rebuild would make:
        // `reindex` after deleting the index folder built it twice (twice the time).
        let built = self.built_at_open.take();
        if built.is_none() {
            self.index.clear()?;
        }
        match self.index.catch_up(&self.store, progress)? {
            CatchUp::Current { indexed } => Ok(built.unwrap_or(0) + indexed),
            CatchUp::Behind => Err(Error::Busy(
                "another fieldnotes process is writing the index: close it and run reindex again"
                    .into(),
            )),
        }
    }

    /// Waits for the index's background merges (a bulk import leaves them running) and lets
    /// searches see the merged segments.
    pub fn settle_index(&mut self) -> Result<()> {
        self.index.settle()
    }

    /// Looks up a study's id by name, for filters.
    pub fn study_id(&self, name: &str) -> Result<i64> {
        self.store.study_id(name)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no study named {name:?}: `fieldnotes session list` shows them"
            ))
        })
    }

    /// Writes the notes in scope to `w` in `format`.
    pub fn export(
        &self,
        format: crate::io::Format,
        options: crate::io::ExportOptions,
        w: &mut dyn std::io::Write,
    ) -> Result<crate::io::ExportSummary> {
        use crate::io::{self, ExportSummary, ExportView, Format};
        if format == Format::Markdown {
            return crate::report::export_markdown(self, &options, w);
        }
        let view = ExportView::new(&self.store, options)?;
        let mut summary = match format {
            Format::Jsonl => io::jsonl::export(&view, w),
            Format::Csv => io::csv::export(&view, w),
            Format::Qdpx => io::refi::export_project(&view, w),
            Format::Qdc => io::refi::export_codebook(&view, w).map(|_| ExportSummary::default()),
            Format::Markdown => unreachable!("written above"),
            Format::Docx => Err(Error::Unsupported(
                "fieldnotes reads Word documents but does not write them: export jsonl, csv, markdown, qdpx or qdc".into(),
            )),
            Format::Vtt | Format::Srt | Format::Text => Err(Error::Unsupported(format!(
                "fieldnotes reads {} files but does not write them: export jsonl, csv, markdown, qdpx or qdc",
                format.name()
            ))),
            Format::Xlsx | Format::Ods => Err(Error::Unsupported(format!(
                "fieldnotes reads {} but does not write one: export csv (spreadsheets open it), jsonl, markdown, qdpx or qdc",
                format.name()
            ))),
        }?;
        if let Some(r) = view.redactor() {
            summary.masked = r.masked();
        }
        Ok(summary)
    }

    /// Writes the notes in scope to the file at `path`, atomically: a failed export leaves
    /// no half-written file.
    pub fn export_file(
        &self,
        path: &Path,
        format: crate::io::Format,
        options: crate::io::ExportOptions,
    ) -> Result<crate::io::ExportSummary> {
        let mut summary = crate::io::ExportSummary::default();
        crate::io::write_atomically(path, |w| {
            summary = self.export(format, options, w)?;
            Ok(())
        })?;
        Ok(summary)
    }

    /// Full-text search with filters: ranked hits with snippets, and tag counts over all matches.
    pub fn search(&self, query: &str, filters: &Filters, limit: usize) -> Result<SearchResults> {
        self.search_with(query, filters, limit, |_| {})
    }

    /// Like [`Archive::search`], handing `found` the hits (with no total and no tag counts yet)
    /// as soon as they are read, while every match and its tags are still being counted: the
    /// app draws the results first (in a large archive the counting is most of a search).
    pub fn search_with(
        &self,
        query: &str,
        filters: &Filters,
        limit: usize,
        found_first: impl FnOnce(&SearchResults),
    ) -> Result<SearchResults> {
        let parsed = Query::parse(query)?;
        // The notes are read while the matches are still being counted.
        let (found, highlighter, counting) = self.index.search_top(&parsed, filters, limit)?;
        let mut hits = Vec::with_capacity(found.len());
        for (id, score) in found {
            // The index may trail SQLite when another process holds its writer: trust SQLite.
            let note = match self.store.note(&id) {
                Ok(note) if note.deleted_at.is_none() => note,
                Ok(_) | Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            hits.push(SearchHit {
                snippet: highlighter.snippet(&note.body),
                tags: group_tags(&note.tags),
                id: note.id,
                score,
                kind: note.kind,
                body: note.body,
                session: note.session,
                created_at: note.created_at,
            });
        }
        let mut results = SearchResults {
            total: 0,
            hits,
            facets: BTreeMap::new(),
        };
        found_first(&results);
        let (total, tag_counts) = counting.wait()?;
        let mut facets: BTreeMap<Facet, BTreeMap<String, u64>> = BTreeMap::new();
        for (tag, n) in tag_counts {
            if let Some(tag) = Tag::parse_token(&tag) {
                facets.entry(tag.facet).or_default().insert(tag.name, n);
            }
        }
        results.total = total;
        results.facets = facets;
        Ok(results)
    }

    /// The live notes that match `query` and `filters`, loaded for analysis (see
    /// [`crate::analysis`]); every live note when both are empty.
    pub fn analysis_notes(
        &self,
        query: &str,
        filters: &Filters,
    ) -> Result<Vec<crate::analysis::AnalysisNote>> {
        let ids = self.selected_ids(query, filters)?;
        self.store.analysis_notes(ids.as_deref())
    }

    /// The measures of the notes that match `query` and `filters` (every live note when both
    /// are empty) and of their sessions, with those notes and the scales to read them against.
    pub fn measure_values(&self, query: &str, filters: &Filters) -> Result<MeasureSelection> {
        let notes = self.analysis_notes(query, filters)?;
        let mut sessions: Vec<String> = notes.iter().map(|n| n.session.clone()).collect();
        sessions.sort();
        sessions.dedup();
        let session_measures = self.store.session_measures(Some(&sessions))?;
        Ok(MeasureSelection {
            values: crate::analysis::measure_values(&notes, &session_measures),
            scales: self.store.all_measure_scales()?,
            notes,
        })
    }

    /// The ids of the notes `query` and `filters` find (every hit, not one page); `None` when
    /// both are empty: every live note. The index may trail SQLite, so readers join on SQLite's
    /// live notes.
    pub(crate) fn selected_ids(
        &self,
        query: &str,
        filters: &Filters,
    ) -> Result<Option<Vec<String>>> {
        let parsed = Query::parse(query)?;
        if parsed.expr.is_none() && *filters == Filters::default() {
            return Ok(None);
        }
        Ok(Some(self.index.matching_ids(&parsed, filters)?))
    }

    /// The themes of the notes that match `query` and `filters` (every live note when both are
    /// empty), with the researcher's curation, and those notes. A run starts from the
    /// suggestions last shown for the same selection and remembers its own for the next, so a
    /// theme keeps its name while notes arrive; the memory is a cache, so an archive that cannot
    /// be written to just now (read-only, busy) still answers.
    pub fn themes(
        &self,
        query: &str,
        filters: &Filters,
        settings: &crate::analysis::ThemeSettings,
        start: ThemeStart,
    ) -> Result<(
        Vec<crate::analysis::AnalysisNote>,
        crate::analysis::ThemesReport,
    )> {
        let notes = self.analysis_notes(query, filters)?;
        let scope = theme_scope(query, filters);
        let curation = self.theme_curation(&scope, start)?;
        let report = crate::analysis::themes(&notes, settings, &curation);
        let shown = crate::analysis::remember(&report);
        if shown != curation.previous
            && let Err(e) = self.store.remember_themes(&scope, &shown)
        {
            tracing::info!(error = %e, "themes not remembered");
        }
        Ok((notes, report))
    }

    /// What a themes run starts from: the researcher's curation and, when asked, the
    /// suggestions last shown for the selection `scope` names (see [`theme_scope`]).
    pub(crate) fn theme_curation(
        &self,
        scope: &str,
        start: ThemeStart,
    ) -> Result<crate::analysis::Curation> {
        let mut curation = self.store.curation()?;
        if start == ThemeStart::FromLastShown {
            curation.previous = self.store.theme_memory(scope)?;
        }
        Ok(curation)
    }

    /// Everything wrong with the archive: SQLite's own checks, and any difference between the
    /// live notes and what the index holds. Empty when all is well.
    pub fn check(&mut self) -> Result<Vec<String>> {
        let mut problems = self.store.integrity_problems()?;
        self.index.refresh()?;
        let store_seq = self.store.change_seq()?;
        if self.index.seq() != store_seq {
            problems.push(format!(
                "the index is behind the database (change {} of {store_seq}){}",
                self.index.seq(),
                if self.index.is_writer() {
                    ""
                } else {
                    ": another fieldnotes process is writing it"
                }
            ));
        }
        let live = self.store.live_note_ids()?;
        let indexed = self.index.note_ids()?;
        let mut missing = Vec::new();
        let mut extra = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < live.len() || j < indexed.len() {
            match (live.get(i), indexed.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    missing.push(a.clone());
                    i += 1;
                }
                (Some(a), None) => {
                    missing.push(a.clone());
                    i += 1;
                }
                (_, Some(b)) => {
                    extra.push(b.clone());
                    j += 1;
                }
                (None, None) => break,
            }
        }
        let sample = |ids: &[String]| ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        if !missing.is_empty() {
            problems.push(format!(
                "{} live notes are missing from the index (e.g. {}): run `fieldnotes reindex`",
                missing.len(),
                sample(&missing)
            ));
        }
        if !extra.is_empty() {
            problems.push(format!(
                "the index holds {} notes that are deleted, trashed or duplicated (e.g. {}): run `fieldnotes reindex`",
                extra.len(),
                sample(&extra)
            ));
        }
        Ok(problems)
    }
}

/// Makes `dir` (and its parents) if needed; the folder itself is its owner's alone (0700),
/// tightened if it was looser.
#[cfg(unix)]
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let failed = |source| Error::Archive {
        path: dir.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::metadata(dir)
        && meta.is_dir()
    {
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(failed)?;
        }
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)
}

#[cfg(not(unix))]
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Archive {
        path: dir.to_path_buf(),
        source,
    })
}

/// What names a selection of notes for the theme memory: the search as typed and the filters.
pub(crate) fn theme_scope(query: &str, filters: &Filters) -> String {
    if query.trim().is_empty() && *filters == Filters::default() {
        String::new()
    } else {
        format!("{}\u{1f}{filters:?}", query.trim())
    }
}

/// What the measures analyses read: the selected notes, the measures they and their sessions
/// carry, and every scale the archive knows.
pub struct MeasureSelection {
    pub notes: Vec<crate::analysis::AnalysisNote>,
    pub values: Vec<crate::analysis::MeasureValue>,
    pub scales: Vec<crate::model::MeasureScale>,
}

/// Where a themes run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeStart {
    /// From the suggestions last shown for the same notes: themes keep their names.
    FromLastShown,
    /// From the notes alone, as if never shown (what it finds is remembered all the same).
    Afresh,
}
