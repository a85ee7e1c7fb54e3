//! Kept and dismissed themes and insights in the JSONL export: one line each after the notes,
//! `{"theme": {…}}` and `{"insight": {…}}`, read back by the JSONL import (idempotently).

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{CuratedTheme, ImportSink, Insight, Store};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeLine {
    pub theme: CuratedTheme,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsightLine {
    pub insight: InsightRecord,
}

/// An insight as exported: what it says, what it rests on, when it was written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsightRecord {
    pub statement: String,
    #[serde(default)]
    pub theme: Option<String>,
    pub notes: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<crate::model::InsightConfidence>,
}

impl From<Insight> for InsightRecord {
    fn from(i: Insight) -> InsightRecord {
        InsightRecord {
            statement: i.statement,
            theme: i.theme,
            notes: i.notes,
            created_at: i.created_at,
            confidence: i.confidence,
        }
    }
}

/// Writes the curation lines; returns how many. A redacted export masks their words as it
/// masks the notes' (labels and statements are written from them).
pub fn export(
    store: &Store,
    redactor: Option<&super::redact::Redactor>,
    out: &mut dyn Write,
) -> Result<u64> {
    let clean = |text: &str| match redactor {
        Some(r) => r.text(text),
        None => text.to_owned(),
    };
    let mut count = 0;
    let mut line = |value: &dyn erased::Line| -> Result<()> {
        value
            .write(out)
            .map_err(|e| Error::io("cannot write the export", e))?;
        count += 1;
        Ok(())
    };
    for mut theme in store.curated_themes()? {
        theme.label = clean(&theme.label);
        theme.phrases = theme.phrases.iter().map(|p| clean(p)).collect();
        line(&ThemeLine { theme })?;
    }
    for mut insight in store.insights()? {
        insight.statement = clean(&insight.statement);
        line(&InsightLine {
            insight: insight.into(),
        })?;
    }
    Ok(count)
}

/// Whether a JSONL line carries curation (a kept theme or an insight) rather than a note.
pub fn is_curation_line(text: &str) -> bool {
    text.starts_with("{\"theme\"") || text.starts_with("{\"insight\"")
}

/// Reads one JSONL line if it is a curation line: `None` when it is not one (a note).
pub fn import_line(text: &str, sink: &mut ImportSink<'_>) -> Option<Result<(), String>> {
    if text.starts_with("{\"theme\"") {
        return Some(
            serde_json::from_str::<ThemeLine>(text)
                .map_err(|e| e.to_string())
                .and_then(|l| sink.curated_theme(&l.theme).map_err(|e| e.to_string())),
        );
    }
    if text.starts_with("{\"insight\"") {
        return Some(
            serde_json::from_str::<InsightLine>(text)
                .map_err(|e| e.to_string())
                .and_then(|l| {
                    let i = l.insight;
                    sink.insight(
                        &i.statement,
                        i.theme.as_deref(),
                        &i.notes,
                        i.created_at,
                        i.confidence,
                    )
                    .map_err(|e| e.to_string())
                }),
        );
    }
    None
}

mod erased {
    use std::io::Write;

    /// A line of JSON, whatever its type.
    pub trait Line {
        fn write(&self, out: &mut dyn Write) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Line for T {
        fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, self)?;
            out.write_all(b"\n")
        }
    }
}
