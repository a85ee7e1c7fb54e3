-- Curation of the themes analysis: suggested themes the researcher kept (with their evidence
-- notes and key phrases, so new notes that carry the phrases count toward them) or dismissed,
-- and insights: statements linked to the notes that support them.

CREATE TABLE themes (
    id         TEXT PRIMARY KEY, -- the suggestion's stable id (`t` + hash of its phrases)
    status     TEXT NOT NULL CHECK (status IN ('kept', 'dismissed')),
    label      TEXT NOT NULL,
    phrases    TEXT NOT NULL DEFAULT '[]', -- JSON array of stemmed key phrases
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE theme_notes (
    theme_id TEXT NOT NULL REFERENCES themes (id) ON DELETE CASCADE,
    note_id  TEXT NOT NULL REFERENCES notes (id),
    PRIMARY KEY (theme_id, note_id)
) WITHOUT ROWID;
CREATE INDEX theme_notes_by_note ON theme_notes (note_id);

CREATE TABLE insights (
    id         INTEGER PRIMARY KEY,
    statement  TEXT NOT NULL,
    theme_id   TEXT REFERENCES themes (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE insight_notes (
    insight_id INTEGER NOT NULL REFERENCES insights (id) ON DELETE CASCADE,
    note_id    TEXT NOT NULL REFERENCES notes (id),
    PRIMARY KEY (insight_id, note_id)
) WITHOUT ROWID;
CREATE INDEX insight_notes_by_note ON insight_notes (note_id);
