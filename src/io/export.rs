//! What every export sees: the notes in scope (an archive, a study or a session) with their
//! sessions, redacted when asked. Each format (JSONL, CSV, Markdown, REFI-QDA) only lays out
//! what this gives it, so scope and redaction work the same everywhere.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Participant, SessionKind, Tag};
use crate::store::{NoteRecord, Store};

use super::redact::Redactor;

/// A session as every export writes it (a JSONL line's `session`, a REFI-QDA source, a
/// report's heading).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionLine {
    pub id: String,
    pub study: String,
    pub kind: SessionKind,
    #[serde(default)]
    pub title: Option<String>,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub researcher: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// What the whole session measured (`nps`, `csat`, a study's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<crate::model::Measure>,
    /// The hybrid-clock stamp of its details: a merge keeps the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<String>,
}

impl SessionLine {
    /// Its participants' names (pseudonyms when redacted), joined with commas.
    pub fn participant_names(&self) -> String {
        let names: Vec<&str> = self
            .participants
            .iter()
            .map(|p| p.pseudonym.as_str())
            .collect();
        names.join(", ")
    }
}

/// Which notes an export takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    All,
    /// A session id (already resolved).
    Session(String),
    /// A study name.
    Study(String),
    /// These notes only, by id (the app's current search results).
    Notes(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportOptions {
    pub scope: Scope,
    /// Pseudonyms for participants, masked details, and no notes without consent.
    pub redact: bool,
    /// Other people's names to mask when redacting, beside the lists the archive's studies
    /// keep (`fieldnotes mask-names`).
    pub mask_names: Vec<String>,
}

/// How much an export wrote and how much redaction left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub notes: u64,
    /// Notes left out because a participant of theirs has no recorded consent.
    pub withheld: u64,
    /// What redaction masked, by kind (`[email]`, `participant name`, …).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub masked: std::collections::BTreeMap<String, u64>,
}

/// Reads the archive for an export.
pub struct ExportView<'a> {
    store: &'a Store,
    options: ExportOptions,
    redactor: Option<Redactor>,
    study_of_scope: Option<String>,
}

impl<'a> ExportView<'a> {
    pub fn new(store: &'a Store, options: ExportOptions) -> Result<ExportView<'a>> {
        let study_of_scope = match &options.scope {
            Scope::Study(name) => {
                if store.study_id(name)?.is_none() {
                    return Err(Error::NotFound(format!(
                        "no study named {name:?}: `fieldnotes session list` shows them"
                    )));
                }
                Some(name.clone())
            }
            Scope::Session(id) => Some(store.session(id)?.study),
            Scope::All | Scope::Notes(_) => None,
        };
        let redactor = if options.redact {
            let mut names = store.masked_names(study_of_scope.as_deref())?;
            names.extend(options.mask_names.iter().cloned());
            Some(Redactor::new(store, &names)?)
        } else {
            None
        };
        Ok(ExportView {
            store,
            options,
            redactor,
            study_of_scope,
        })
    }

    pub fn store(&self) -> &Store {
        self.store
    }

    pub fn redactor(&self) -> Option<&Redactor> {
        self.redactor.as_ref()
    }

    /// The study every exported note belongs to, when the scope is one study or session.
    pub fn study(&self) -> Option<&str> {
        self.study_of_scope.as_deref()
    }

    pub fn scope(&self) -> &Scope {
        &self.options.scope
    }

    /// Calls `f` with each note in scope (the trash too when `with_trash`), in creation
    /// order, and its session; both redacted when asked, notes without consent left out.
    pub fn for_each_note(
        &self,
        with_trash: bool,
        mut f: impl FnMut(&SessionLine, NoteRecord) -> Result<()>,
    ) -> Result<ExportSummary> {
        let mut sessions: HashMap<String, Option<(SessionLine, Vec<String>)>> = HashMap::new();
        let mut summary = ExportSummary::default();
        let wanted: Option<std::collections::HashSet<&str>> = match &self.options.scope {
            Scope::Notes(ids) => Some(ids.iter().map(String::as_str).collect()),
            _ => None,
        };
        self.store.for_each_note_record(|rec| {
            if rec.deleted_at.is_some() && !with_trash {
                return Ok(());
            }
            if wanted
                .as_ref()
                .is_some_and(|w| !w.contains(rec.id.as_str()))
            {
                return Ok(());
            }
            if !sessions.contains_key(&rec.session) {
                let line = self.session_line(&rec.session)?;
                sessions.insert(rec.session.clone(), line);
            }
            let Some((session, real_participants)) = &sessions[&rec.session] else {
                return Ok(());
            };
            match &self.redactor {
                None => f(session, rec)?,
                Some(r) => {
                    if r.withholds(rec.participant.as_deref(), real_participants) {
                        summary.withheld += 1;
                        return Ok(());
                    }
                    f(session, redact_note(r, rec))?;
                }
            }
            summary.notes += 1;
            Ok(())
        })?;
        Ok(summary)
    }

    /// The session as exported (redacted when asked) with its participants' real names, or
    /// `None` when it is out of scope.
    fn session_line(&self, id: &str) -> Result<Option<(SessionLine, Vec<String>)>> {
        if let Scope::Session(wanted) = &self.options.scope
            && wanted != id
        {
            return Ok(None);
        }
        let (line, real) = session_line(self.store, id, self.redactor.as_ref())?;
        if let Scope::Study(wanted) = &self.options.scope
            && *wanted != line.study
        {
            return Ok(None);
        }
        Ok(Some((line, real)))
    }
}

/// A text and its tags, redacted alike: a tag typed in the text is kept only as the redacted
/// text still types it (a handle masked in the text, `@cakesbymaya`, is no tag either); a tag
/// given beside the text is redacted by its name.
pub(crate) fn redact_text_and_tags(r: &Redactor, body: &str, tags: &[Tag]) -> (String, Vec<Tag>) {
    let (redacted, typed_before) = r.text_and_typed_tags(body);
    let typed_after = if redacted == body {
        typed_before.clone()
    } else {
        crate::model::tags_of(&redacted)
    };
    let beside: Vec<Tag> = tags
        .iter()
        .filter(|t| !typed_before.contains(t))
        .cloned()
        .collect();
    let mut out = r.tags(&beside);
    out.extend(typed_after);
    out.sort();
    out.dedup();
    (redacted, out)
}

/// A session as exports show it (redacted when a redactor is given), with its participants'
/// real names (to decide which notes redaction leaves out).
pub fn session_line(
    store: &Store,
    id: &str,
    redactor: Option<&Redactor>,
) -> Result<(SessionLine, Vec<String>)> {
    let s = store.session(id)?;
    let participants = s
        .participants
        .iter()
        .filter_map(|p| store.participant(p).transpose())
        .collect::<Result<Vec<_>>>()?;
    let line = SessionLine {
        id: s.id,
        study: s.study,
        kind: s.kind,
        title: s.title,
        started_at: s.started_at,
        ended_at: s.ended_at,
        researcher: s.researcher,
        location: s.location,
        channel: s.channel,
        participants,
        measures: store.measures_of_session(id)?,
        hlc: store.session_stamp(id)?,
    };
    let line = match redactor {
        Some(r) => r.session(line),
        None => line,
    };
    Ok((line, s.participants))
}

fn redact_note(r: &Redactor, mut rec: NoteRecord) -> NoteRecord {
    (rec.body, rec.tags) = redact_text_and_tags(r, &rec.body, &rec.tags);
    rec.participant = rec.participant.map(|p| r.participant(&p));
    rec.source = rec.source.map(|s| r.text(&s));
    for rev in &mut rec.revisions {
        (rev.body, rev.tags) = redact_text_and_tags(r, &rev.body, &rev.tags);
    }
    // A passage goes where its redacted words are in the redacted text; one whose words
    // redaction took out is left out.
    let body = rec.body.clone();
    rec.passages = std::mem::take(&mut rec.passages)
        .into_iter()
        .filter_map(|mut p| {
            p.tag = r.tags(std::slice::from_ref(&p.tag)).remove(0);
            let words = r.text(p.text.as_deref()?);
            if !p.lost {
                let at = crate::model::reanchor(&body, &words, p.start)?;
                (p.start, p.end) = (at.start, at.end);
            }
            p.text = Some(words);
            Some(p)
        })
        .collect();
    rec.coders = std::mem::take(&mut rec.coders)
        .into_iter()
        .map(|(t, c)| (r.tags(std::slice::from_ref(&t)).remove(0), c))
        .collect();
    rec
}
