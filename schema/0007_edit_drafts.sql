-- Drafts of edits: an edit of an existing note in progress is kept beside the session's draft
-- of a new note, so neither overwrites the other. `note_id` is '' for the new note's draft.
CREATE TABLE drafts_by_note (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    note_id    TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (session_id, note_id)
);
INSERT INTO drafts_by_note (session_id, note_id, kind, body, updated_at)
    SELECT session_id, '', kind, body, updated_at FROM drafts;
DROP TABLE drafts;
ALTER TABLE drafts_by_note RENAME TO drafts;
