//! How the CLI prints: plain text for people (bold highlights on a terminal unless NO_COLOR),
//! JSON with `--json`. Status lines go to stderr so stdout stays data.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use fieldnotes::Archive;
use fieldnotes::archive::SearchResults;
use fieldnotes::model::{Facet, Note, Revision, Session, Tag};
use fieldnotes::store::TagCount;

pub struct Out {
    pub json: bool,
    bold: bool,
}

fn tag_line(tags: &[Tag]) -> String {
    tags.iter()
        .map(Tag::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn day(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

impl Out {
    /// `colour`: the settings allow it (no `NO_COLOR`, no `colour = false`).
    pub fn new(json: bool, colour: bool) -> Out {
        let bold = std::io::stdout().is_terminal() && colour;
        Out { json, bold }
    }

    /// What an import would do, written nowhere.
    pub fn import_preview(&self, c: &fieldnotes::store::ImportCounts, name: &str) -> Result<()> {
        if self.json {
            return self.print_json(c);
        }
        let noun = if c.added == 1 { "note" } else { "notes" };
        let mut text = format!(
            "dry run: {name} would add {} {noun} ({} already in the archive",
            c.added, c.already_present
        );
        if c.skipped > 0 {
            text.push_str(&format!(", {} left out", c.skipped));
        }
        if c.tags > 0 {
            text.push_str(&format!(
                ", {} tags new or newly described in the codebook",
                c.tags
            ));
        }
        text.push_str("); nothing was written\n");
        if !c.participants.is_empty() {
            text.push_str(&format!("participants: {}\n", c.participants.join(", ")));
        }
        for w in &c.warnings {
            text.push_str(&format!("warning: {w}\n"));
        }
        if !c.preview.is_empty() {
            text.push_str("first notes:\n");
        }
        for n in &c.preview {
            let offset = n
                .offset_ms
                .map(|ms| format!("{} ", fieldnotes::text::offset_label(ms)))
                .unwrap_or_default();
            let who = n
                .participant
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            text.push_str(&format!(
                "  [{}] {offset}{who}{}\n",
                n.kind,
                one_line(&n.body, 100)
            ));
        }
        self.print(&text)
    }

    pub fn print_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let mut text = serde_json::to_string(value)?;
        text.push('\n');
        self.print(&text)
    }

    pub fn print(&self, text: &str) -> Result<()> {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        // A closed pipe (`| head`) is not an error worth a message.
        match lock.write_all(text.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }

    /// A line for the person at the terminal; never mixed into stdout's data.
    pub fn status(&self, text: &str) {
        if !self.json {
            eprintln!("{text}");
        }
    }

    /// What a command changed: the object as JSON, or a one-line message.
    pub fn done<T: Serialize + ?Sized>(&self, value: &T, message: &str) -> Result<()> {
        if self.json {
            self.print_json(value)
        } else {
            self.print(&format!("{message}\n"))
        }
    }

    pub fn note_saved(&self, note: &Note) -> Result<()> {
        self.done(note, &note.id)
    }

    pub fn session_started(&self, s: &Session) -> Result<()> {
        self.done(s, &s.id)
    }

    pub fn note(&self, n: &Note) -> Result<()> {
        if self.json {
            return self.print_json(n);
        }
        let mut text = format!(
            "{}  {}  {}  session {}\n",
            n.id,
            n.kind,
            day(&n.created_at),
            n.session
        );
        if n.deleted_at.is_some() {
            text.push_str("(in the trash)\n");
        }
        if !n.tags.is_empty() {
            text.push_str(&format!("tags: {}\n", tag_line(&n.tags)));
        }
        text.push('\n');
        text.push_str(&n.body);
        text.push('\n');
        self.print(&text)
    }

    pub fn notes(&self, notes: &[Note]) -> Result<()> {
        if self.json {
            return self.print_json(notes);
        }
        if notes.is_empty() {
            return self.print("nothing here\n");
        }
        let mut text = String::new();
        for n in notes {
            text.push_str(&format!(
                "{}  {:<14}  {}\n",
                n.id,
                n.kind,
                one_line(&n.body, 90)
            ));
        }
        self.print(&text)
    }

    pub fn history(&self, id: &str, versions: &[Revision]) -> Result<()> {
        if self.json {
            return self.print_json(&serde_json::json!({ "id": id, "versions": versions }));
        }
        let mut text = String::new();
        for (i, v) in versions.iter().enumerate() {
            let label = if i + 1 == versions.len() {
                "current"
            } else {
                "was"
            };
            text.push_str(&format!(
                "{label:<8} {}  {}  {}\n         {}\n",
                day(&v.written_at),
                v.kind,
                tag_line(&v.tags),
                v.body.replace('\n', "\n         ")
            ));
        }
        self.print(&text)
    }

    pub fn sessions(&self, sessions: &[Session]) -> Result<()> {
        if self.json {
            return self.print_json(sessions);
        }
        if sessions.is_empty() {
            return self.print(
                "no sessions yet: `fieldnotes session start --kind interview --study NAME`\n",
            );
        }
        let mut text = String::new();
        for s in sessions {
            text.push_str(&format!(
                "{}  {:<12}  {}  {:<4} notes  {:<6}  {}{}{}\n",
                s.id,
                s.kind,
                day(&s.started_at),
                s.note_count,
                if s.ended_at.is_some() {
                    "ended"
                } else {
                    "open"
                },
                s.study,
                if s.participants.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", s.participants.join(", "))
                },
                s.location
                    .as_deref()
                    .map(|l| format!(" · {l}"))
                    .unwrap_or_default(),
            ));
        }
        self.print(&text)
    }

    pub fn tags(&self, tags: &[TagCount]) -> Result<()> {
        if self.json {
            return self.print_json(tags);
        }
        let mut text = String::new();
        for t in tags {
            let tag = Tag {
                facet: t.facet,
                name: t.name.clone(),
            };
            let extra = match (t.facet, t.valence, &t.stage) {
                (Facet::Emotion, Some(v), _) => format!("  valence {v:+}"),
                (Facet::Touchpoint, _, Some(stage)) => format!("  stage {stage}"),
                _ => String::new(),
            };
            text.push_str(&format!("{:>6}  {tag}{extra}\n", t.notes));
        }
        self.print(&text)
    }

    pub fn search(&self, r: &SearchResults) -> Result<()> {
        if self.json {
            return self.print_json(r);
        }
        let mut text = format!(
            "{} note{} match\n",
            r.total,
            if r.total == 1 { "" } else { "s" }
        );
        for h in &r.hits {
            let tags: Vec<String> = h
                .tags
                .iter()
                .flat_map(|(f, names)| names.iter().map(move |n| format!("{}{n}", f.sigil())))
                .collect();
            text.push_str(&format!(
                "\n{}  {}  {}  {}\n  {}\n",
                h.id,
                h.kind,
                day(&h.created_at),
                tags.join(" "),
                self.highlight(&one_line(&h.snippet, 400))
            ));
        }
        if !r.facets.is_empty() {
            text.push('\n');
        }
        for (facet, counts) in &r.facets {
            let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = sorted
                .iter()
                .take(8)
                .map(|(name, n)| format!("{}{name} {n}", facet.sigil()))
                .collect();
            text.push_str(&format!(
                "{:<11} {}\n",
                format!("{facet}:"),
                list.join("  ")
            ));
        }
        self.print(&text)
    }

    /// Matched words come marked `**word**`; a terminal shows them bold instead.
    fn highlight(&self, snippet: &str) -> String {
        if !self.bold {
            return snippet.to_owned();
        }
        let mut out = String::new();
        for (i, part) in snippet.split("**").enumerate() {
            if i % 2 == 1 {
                out.push_str(&format!("\x1b[1m{part}\x1b[0m"));
            } else {
                out.push_str(part);
            }
        }
        out
    }

    pub fn check(&self, problems: &[String], notes: i64) -> Result<()> {
        if self.json {
            return self.print_json(&serde_json::json!({ "ok": problems.is_empty(), "notes": notes, "problems": problems }));
        }
        if problems.is_empty() {
            return self.print(&format!(
                "ok: the database is sound and the index holds all {notes} live notes\n"
            ));
        }
        let mut text = String::new();
        for p in problems {
            text.push_str(&format!("problem: {p}\n"));
        }
        self.print(&text)
    }

    pub fn demo_summary(&self, archive: &Archive, dir: &Path) -> Result<()> {
        let store = archive.store();
        let studies = store.studies()?;
        if self.json {
            return self.print_json(&serde_json::json!({
                "archive": dir,
                "studies": studies.iter().map(|(name, sessions, notes)| serde_json::json!({"name": name, "sessions": sessions, "notes": notes})).collect::<Vec<_>>(),
            }));
        }
        let mut text = format!("The demo archive is in {}\n\n", dir.display());
        for (name, sessions, notes) in &studies {
            text.push_str(&format!("  {name}: {sessions} sessions, {notes} notes\n"));
        }
        let top: Vec<String> = store
            .tag_counts(None)?
            .iter()
            .take(8)
            .map(|t| format!("{}{} ({})", t.facet.sigil(), t.name, t.notes))
            .collect();
        text.push_str(&format!("\nMost used tags: {}\n", top.join(", ")));
        let arg = format!("--archive {}", shell_quote(&dir.display().to_string()));
        text.push_str(&format!(
            "\nTry:\n  fieldnotes {arg} search \"waiting\"\n  fieldnotes {arg} search \"#checkout !frustrated\"\n  fieldnotes {arg} tags --facet persona\n  fieldnotes {arg} session list\n"
        ));
        self.print(&text)
    }
}

use fieldnotes::text::excerpt as one_line;

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-~".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
