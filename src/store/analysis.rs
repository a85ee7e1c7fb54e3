//! What analysis reads in bulk (notes with their tags, session, study, participants and
//! valence) and what curation writes: kept and dismissed themes, and insights.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{ImportSink, Store};
use crate::analysis::{AnalysisNote, Curation, KeptTheme, RememberedTheme, StageMap};
use crate::error::{Error, Result};
use crate::model::{InsightConfidence, Tag};
use crate::time;

/// A researcher's statement with the notes that support it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    pub id: i64,
    pub statement: String,
    /// The kept theme it speaks to, if any.
    pub theme: Option<String>,
    pub notes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// How sure the researcher is of it; `None` when they did not say.
    pub confidence: Option<InsightConfidence>,
}

/// A curation decision as the archive keeps it (and the JSONL export carries it).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CuratedTheme {
    pub id: String,
    /// `kept` or `dismissed`.
    pub status: String,
    pub label: String,
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Evidence notes (kept themes only).
    #[serde(default)]
    pub notes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The most notes one analysis reads: every analysis holds its notes' text and terms in
/// memory (about 7 KB a note in the themes: 0.7 GB at 100,000 notes), so an organisation's
/// 10,000,000 are narrowed first instead of filling a laptop's memory for minutes.
/// `FIELDNOTES_ANALYSIS_LIMIT` sets another (a workstation with the memory for more).
pub const ANALYSIS_LIMIT: u64 = 1_000_000;

fn analysis_limit() -> u64 {
    std::env::var("FIELDNOTES_ANALYSIS_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(ANALYSIS_LIMIT)
}

impl Store {
    /// Every kept and dismissed theme, by id, for exports.
    pub fn curated_themes(&self) -> Result<Vec<CuratedTheme>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, status, label, phrases, created_at, updated_at FROM themes ORDER BY id",
        )?;
        let rows: Vec<[String; 6]> = stmt
            .query_map([], |r| {
                Ok([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ])
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|[id, status, label, phrases, created, updated]| {
                Ok(CuratedTheme {
                    phrases: serde_json::from_str(&phrases).map_err(|e| {
                        Error::Corrupt(format!("theme {id} has broken phrases: {e}"))
                    })?,
                    notes: self.theme_notes(&id)?,
                    id,
                    status,
                    label,
                    created_at: time::from_db(&created)?,
                    updated_at: time::from_db(&updated)?,
                })
            })
            .collect()
    }

    /// The live notes among `ids` (all live notes when `None`), ready for analysis, in id
    /// order. Reads in three queries whatever the number of notes: the wanted ids go into a
    /// temporary table that the note and tag queries join.
    pub fn analysis_notes(&self, ids: Option<&[String]>) -> Result<Vec<AnalysisNote>> {
        let limit = analysis_limit();
        let notes = match ids {
            Some(ids) => ids.len() as u64,
            None => {
                // The largest rowid bounds the number of notes without counting them.
                let bound: i64 = self.conn().query_row(
                    "SELECT coalesce(max(rowid), 0) FROM notes",
                    [],
                    |r| r.get(0),
                )?;
                if bound as u64 <= limit {
                    0
                } else {
                    self.live_note_count()?.max(0) as u64
                }
            }
        };
        if notes > limit {
            return Err(Error::TooManyToAnalyse { notes, limit });
        }
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        let join = super::join_selected(&tx, "analysis_ids", ids)?;
        let mut participants: HashMap<String, Vec<String>> = HashMap::new();
        {
            let mut stmt = tx.prepare(
                "SELECT sp.session_id, p.pseudonym FROM session_participants sp \
                 JOIN participants p ON p.id = sp.participant_id ORDER BY sp.session_id, p.pseudonym",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                participants.entry(r.get(0)?).or_default().push(r.get(1)?);
            }
        }
        let mut notes = Vec::new();
        {
            // No ORDER BY: a scan in storage order is much faster than walking the id index,
            // and sorting in memory afterwards is cheap.
            let mut stmt = tx.prepare(&format!(
                "SELECT n.id, n.body, n.kind, n.session_id, st.name, p.pseudonym, n.created_at \
                 FROM notes n {join} JOIN sessions s ON s.id = n.session_id \
                 JOIN studies st ON st.id = s.study_id \
                 LEFT JOIN participants p ON p.id = n.participant_id \
                 WHERE n.deleted_at IS NULL"
            ))?;
            let mut rows = stmt.query([])?;
            let mut studies: HashMap<String, String> = HashMap::new();
            while let Some(r) = rows.next()? {
                let kind: String = r.get(2)?;
                let session: String = r.get(3)?;
                let study: String = r.get(4)?;
                let study = studies.entry(study.clone()).or_insert(study).clone();
                let speaker: Option<String> = r.get(5)?;
                let people = match &speaker {
                    Some(s) => vec![s.clone()],
                    None => participants.get(&session).cloned().unwrap_or_default(),
                };
                notes.push(AnalysisNote {
                    id: r.get(0)?,
                    body: r.get(1)?,
                    kind: kind.parse().map_err(Error::Corrupt)?,
                    tags: Vec::new(),
                    session,
                    study,
                    speaker,
                    participants: people,
                    created_at: time::from_db(&r.get::<_, String>(6)?)?,
                    valence: None,
                });
            }
        }
        notes.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        {
            // Tags in note id order (the order of note_tags' key), matched to the sorted notes
            // by walking both together.
            let tag_join = if ids.is_some() {
                "JOIN temp.analysis_ids a ON a.id = nt.note_id"
            } else {
                ""
            };
            let mut stmt = tx.prepare(&format!(
                "SELECT nt.note_id, t.facet, t.name, t.valence FROM note_tags nt {tag_join} \
                 JOIN tags t ON t.id = nt.tag_id ORDER BY nt.note_id"
            ))?;
            let mut rows = stmt.query([])?;
            let mut at = 0;
            let mut sum = (0.0, 0u32);
            let finish = |note: &mut AnalysisNote, sum: &mut (f64, u32)| {
                if sum.1 > 0 {
                    note.valence = Some(sum.0 / sum.1 as f64);
                }
                *sum = (0.0, 0);
            };
            while let Some(r) = rows.next()? {
                let id = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                while at < notes.len() && notes[at].id.as_str() < id {
                    finish(&mut notes[at], &mut sum);
                    at += 1;
                }
                if at == notes.len() {
                    break;
                }
                if notes[at].id != id {
                    continue; // a trashed note's tags
                }
                let facet: String = r.get(1)?;
                notes[at].tags.push(Tag {
                    facet: facet.parse().map_err(Error::Corrupt)?,
                    name: r.get(2)?,
                });
                if let Some(v) = r.get::<_, Option<i64>>(3)? {
                    sum.0 += v as f64;
                    sum.1 += 1;
                }
            }
            if at < notes.len() {
                finish(&mut notes[at], &mut sum);
            }
        }
        for n in &mut notes {
            n.tags.sort();
        }
        tx.commit()?;
        Ok(notes)
    }

    /// Journey stages of touchpoints, for the journey curve and pain points.
    pub fn stage_map(&self) -> Result<StageMap> {
        let mut stmt = self.conn().prepare(
            "SELECT name, stage FROM tags WHERE facet = 'touchpoint' AND stage IS NOT NULL",
        )?;
        let stages = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(StageMap { stages })
    }

    /// Kept themes (with their evidence) and dismissed suggestions.
    pub fn curation(&self) -> Result<Curation> {
        let mut curation = Curation::default();
        let mut stmt = self
            .conn()
            .prepare("SELECT id, status, label, phrases FROM themes ORDER BY created_at, id")?;
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (id, status, label, phrases) in rows {
            if status == "dismissed" {
                curation.dismissed.insert(id);
                continue;
            }
            let phrases: Vec<String> = serde_json::from_str(&phrases)
                .map_err(|e| Error::Corrupt(format!("theme {id} has broken phrases: {e}")))?;
            let notes = self.theme_notes(&id)?;
            curation.kept.push(KeptTheme {
                id,
                label,
                phrases,
                notes,
            });
        }
        Ok(curation)
    }

    fn theme_notes(&self, id: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT note_id FROM theme_notes WHERE theme_id = ?1 ORDER BY note_id",
        )?;
        let ids = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The kept theme with this id, if there is one.
    pub fn kept_theme(&self, id: &str) -> Result<Option<KeptTheme>> {
        Ok(self.curation()?.kept.into_iter().find(|k| k.id == id))
    }

    /// Keeps a theme with its evidence (again: updates its label, phrases and evidence).
    pub(crate) fn keep_theme(&self, theme: &KeptTheme) -> Result<()> {
        let tx = self.write()?;
        keep_theme_in(&tx, theme)?;
        tx.commit()?;
        Ok(())
    }

    /// The suggestions last shown for this selection of notes (none when never shown, or
    /// when what was kept no longer reads: it is only a starting point).
    pub fn theme_memory(&self, scope: &str) -> Result<Vec<RememberedTheme>> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT themes FROM theme_memory WHERE scope = ?1",
                [scope],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Remembers the suggestions shown for this selection of notes.
    pub(crate) fn remember_themes(&self, scope: &str, themes: &[RememberedTheme]) -> Result<()> {
        let json = serde_json::to_string(themes)
            .map_err(|e| Error::Corrupt(format!("themes to remember: {e}")))?;
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO theme_memory (scope, themes, written_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope) DO UPDATE SET themes = ?2, written_at = ?3",
            params![scope, json, time::to_db(&time::now())],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Renames a kept theme.
    pub(crate) fn rename_theme(&self, id: &str, label: &str) -> Result<()> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE themes SET label = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'kept'",
            params![id, label, time::to_db(&time::now())],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(format!("no kept theme with id {id}")));
        }
        tx.commit()?;
        Ok(())
    }

    /// Folds kept theme `from` into kept theme `into`: phrases and evidence join; `from` is
    /// no longer kept nor suggested.
    pub(crate) fn merge_themes(&self, into: &str, from: &str) -> Result<KeptTheme> {
        if into == from {
            return Err(Error::BadValue(format!(
                "cannot merge theme {into} with itself"
            )));
        }
        let curation = self.curation()?;
        let find = |id: &str| {
            curation
                .kept
                .iter()
                .find(|k| k.id == id)
                .cloned()
                .ok_or_else(|| Error::NotFound(format!("no kept theme with id {id}")))
        };
        let (mut target, source) = (find(into)?, find(from)?);
        let phrases: BTreeSet<String> = target
            .phrases
            .iter()
            .chain(&source.phrases)
            .cloned()
            .collect();
        let notes: BTreeSet<String> = target.notes.iter().chain(&source.notes).cloned().collect();
        target.phrases = phrases.into_iter().collect();
        target.notes = notes.into_iter().collect();
        // One transaction: a merge that fails half-way leaves both themes as they were.
        let tx = self.write()?;
        keep_theme_in(&tx, &target)?;
        tx.execute(
            "UPDATE insights SET theme_id = ?1 WHERE theme_id = ?2",
            params![into, from],
        )?;
        // The merged-away suggestion is not suggested again on its own.
        tx.execute(
            "UPDATE themes SET status = 'dismissed', updated_at = ?2 WHERE id = ?1",
            params![from, time::to_db(&time::now())],
        )?;
        tx.execute("DELETE FROM theme_notes WHERE theme_id = ?1", [from])?;
        tx.commit()?;
        Ok(target)
    }

    /// Dismisses a suggestion so it is not suggested again (a kept theme is un-kept).
    pub(crate) fn dismiss_theme(&self, id: &str, label: &str) -> Result<()> {
        let now = time::to_db(&time::now());
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO themes (id, status, label, created_at, updated_at) VALUES (?1, 'dismissed', ?2, ?3, ?3) \
             ON CONFLICT (id) DO UPDATE SET status = 'dismissed', updated_at = ?3",
            params![id, label, now],
        )?;
        tx.execute("DELETE FROM theme_notes WHERE theme_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Saves an insight linked to its supporting notes (each must exist).
    pub(crate) fn add_insight(
        &self,
        statement: &str,
        notes: &[String],
        theme: Option<&str>,
        confidence: Option<InsightConfidence>,
    ) -> Result<Insight> {
        if statement.trim().is_empty() {
            return Err(Error::Empty("an insight needs a statement"));
        }
        let tx = self.write()?;
        if let Some(t) = theme {
            let kept: Option<String> = tx
                .query_row(
                    "SELECT id FROM themes WHERE id = ?1 AND status = 'kept'",
                    [t],
                    |r| r.get(0),
                )
                .optional()?;
            if kept.is_none() {
                return Err(Error::NotFound(format!(
                    "no kept theme with id {t}: keep it first with `fieldnotes themes keep {t}`"
                )));
            }
        }
        tx.execute(
            "INSERT INTO insights (statement, theme_id, created_at, confidence) VALUES (?1, ?2, ?3, ?4)",
            params![
                statement.trim(),
                theme,
                time::to_db(&time::now()),
                confidence.map(InsightConfidence::as_str)
            ],
        )?;
        let id = tx.last_insert_rowid();
        for note in notes {
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO insight_notes (insight_id, note_id) SELECT ?1, id FROM notes WHERE id = ?2",
                params![id, note],
            )?;
            let exists: bool = tx.query_row(
                "SELECT count(*) > 0 FROM notes WHERE id = ?1",
                [note],
                |r| r.get(0),
            )?;
            if inserted == 0 && !exists {
                return Err(Error::NotFound(format!("no note with id {note}")));
            }
        }
        tx.commit()?;
        self.insight(id)
    }

    pub fn insight(&self, id: i64) -> Result<Insight> {
        let (statement, theme, created, confidence): (
            String,
            Option<String>,
            String,
            Option<String>,
        ) = self
            .conn()
            .query_row(
                "SELECT statement, theme_id, created_at, confidence FROM insights WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no insight {id}: `fieldnotes insight list` shows them"
                ))
            })?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT note_id FROM insight_notes WHERE insight_id = ?1 ORDER BY note_id",
        )?;
        let notes = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(Insight {
            id,
            statement,
            theme,
            notes,
            created_at: time::from_db(&created)?,
            confidence: confidence
                .map(|c| c.parse().map_err(Error::Corrupt))
                .transpose()?,
        })
    }

    /// Sets (or, with `None`, clears) how sure the researcher is of an insight.
    pub(crate) fn set_insight_confidence(
        &self,
        id: i64,
        confidence: Option<InsightConfidence>,
    ) -> Result<Insight> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE insights SET confidence = ?2 WHERE id = ?1",
            params![id, confidence.map(InsightConfidence::as_str)],
        )?;
        tx.commit()?;
        if changed == 0 {
            return Err(Error::NotFound(format!(
                "no insight {id}: `fieldnotes insight list` shows them"
            )));
        }
        self.insight(id)
    }

    /// Every insight, oldest first (by when it was written, not its local number: insights
    /// synced from other laptops list, and export, in the same order everywhere).
    pub fn insights(&self) -> Result<Vec<Insight>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id FROM insights ORDER BY created_at, uid, id")?;
        let ids: Vec<i64> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().map(|id| self.insight(id)).collect()
    }
}

impl ImportSink<'_> {
    /// Adds a curated theme unless the archive already has a decision about it.
    pub fn curated_theme(&mut self, t: &CuratedTheme) -> Result<()> {
        if !matches!(t.status.as_str(), "kept" | "dismissed") {
            return Err(Error::Corrupt(format!(
                "theme {} has status {:?}: expected kept or dismissed",
                t.id, t.status
            )));
        }
        let phrases = serde_json::to_string(&t.phrases)
            .map_err(|e| Error::Corrupt(format!("cannot store the theme's phrases: {e}")))?;
        let added = self.tx.execute(
            "INSERT OR IGNORE INTO themes (id, status, label, phrases, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                t.id,
                t.status,
                t.label,
                phrases,
                time::to_db(&t.created_at),
                time::to_db(&t.updated_at)
            ],
        )?;
        if added == 1 {
            for note in &t.notes {
                self.tx.execute(
                    "INSERT OR IGNORE INTO theme_notes (theme_id, note_id) SELECT ?1, id FROM notes WHERE id = ?2",
                    params![t.id, note],
                )?;
            }
        }
        Ok(())
    }

    /// Adds an insight unless one with the same statement and time is already there.
    pub fn insight(
        &mut self,
        statement: &str,
        theme: Option<&str>,
        notes: &[String],
        created_at: DateTime<Utc>,
        confidence: Option<InsightConfidence>,
    ) -> Result<()> {
        let at = time::to_db(&created_at);
        let exists: bool = self.tx.query_row(
            "SELECT count(*) > 0 FROM insights WHERE statement = ?1 AND created_at = ?2",
            params![statement, at],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(());
        }
        let theme: Option<String> = match theme {
            Some(t) => self
                .tx
                .query_row("SELECT id FROM themes WHERE id = ?1", [t], |r| r.get(0))
                .optional()?,
            None => None,
        };
        self.tx.execute(
            "INSERT INTO insights (statement, theme_id, created_at, confidence) VALUES (?1, ?2, ?3, ?4)",
            params![statement, theme, at, confidence.map(InsightConfidence::as_str)],
        )?;
        let id = self.tx.last_insert_rowid();
        for note in notes {
            self.tx.execute(
                "INSERT OR IGNORE INTO insight_notes (insight_id, note_id) SELECT ?1, id FROM notes WHERE id = ?2",
                params![id, note],
            )?;
        }
        Ok(())
    }
}

/// Keeps a theme inside a write transaction that may hold more (a merge).
fn keep_theme_in(tx: &rusqlite::Connection, theme: &KeptTheme) -> Result<()> {
    let now = time::to_db(&time::now());
    let phrases = serde_json::to_string(&theme.phrases)
        .map_err(|e| Error::Corrupt(format!("cannot store the theme's phrases: {e}")))?;
    tx.execute(
            "INSERT INTO themes (id, status, label, phrases, created_at, updated_at) \
             VALUES (?1, 'kept', ?2, ?3, ?4, ?4) \
             ON CONFLICT (id) DO UPDATE SET status = 'kept', label = ?2, phrases = ?3, updated_at = ?4",
            params![theme.id, theme.label, phrases, now],
        )?;
    tx.execute("DELETE FROM theme_notes WHERE theme_id = ?1", [&theme.id])?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO theme_notes (theme_id, note_id) \
                 SELECT ?1, id FROM notes WHERE id = ?2",
        )?;
        for note in &theme.notes {
            insert.execute(params![theme.id, note])?;
        }
    }
    Ok(())
}
