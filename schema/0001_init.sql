-- The archive's core: studies, sessions, participants, notes and their tags.
-- Times are UTC RFC 3339 text with milliseconds, so they sort as text.

CREATE TABLE archive_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Bumped by every write that changes what the search index must hold; each note
-- remembers the value of its last change so the index can catch up from any point.
CREATE TABLE change_counter (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);

CREATE TABLE studies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE participants (
    id           INTEGER PRIMARY KEY,
    pseudonym    TEXT NOT NULL UNIQUE,
    consent      INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)),
    consent_date TEXT,
    contact      TEXT, -- private: never exported unredacted by default
    created_at   TEXT NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    study_id   INTEGER NOT NULL REFERENCES studies (id),
    kind       TEXT NOT NULL CHECK (kind IN ('interview', 'observation', 'mystery-shop', 'focus-group', 'diary')),
    title      TEXT,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    researcher TEXT,
    location   TEXT,
    channel    TEXT
);
CREATE INDEX sessions_by_study ON sessions (study_id, started_at);
CREATE INDEX sessions_open ON sessions (started_at) WHERE ended_at IS NULL;

CREATE TABLE session_participants (
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    PRIMARY KEY (session_id, participant_id)
) WITHOUT ROWID;

CREATE TABLE notes (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    kind           TEXT NOT NULL CHECK (kind IN ('observation', 'quote', 'interpretation')),
    body           TEXT NOT NULL,
    participant_id INTEGER REFERENCES participants (id), -- who spoke, for quotes
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    offset_ms      INTEGER,
    source         TEXT, -- where an imported note came from
    deleted_at     TEXT, -- set: the note is in the trash
    change_seq     INTEGER NOT NULL
);
CREATE INDEX notes_by_session ON notes (session_id, created_at);
CREATE INDEX notes_by_change ON notes (change_seq);

-- The codebook: every tag, with what a facet needs (valence, journey stage, job statement).
CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    facet       TEXT NOT NULL CHECK (facet IN ('persona', 'touchpoint', 'emotion', 'job', 'code')),
    name        TEXT NOT NULL,
    description TEXT,
    valence     INTEGER CHECK (valence BETWEEN -2 AND 2),
    stage       TEXT,
    statement   TEXT,
    UNIQUE (facet, name)
);

-- `inline`: typed in the text; `explicit`: given beside it (a flag, a CSV column, the picker).
CREATE TABLE note_tags (
    note_id TEXT NOT NULL REFERENCES notes (id),
    tag_id  INTEGER NOT NULL REFERENCES tags (id),
    origin  TEXT NOT NULL DEFAULT 'inline' CHECK (origin IN ('inline', 'explicit')),
    PRIMARY KEY (note_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX note_tags_by_tag ON note_tags (tag_id);

-- Every edit keeps the version it replaced.
CREATE TABLE note_revisions (
    id         INTEGER PRIMARY KEY,
    note_id    TEXT NOT NULL REFERENCES notes (id),
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    tags       TEXT NOT NULL, -- the tags as written, space separated: "@busy-parent #checkout"
    written_at TEXT NOT NULL
);
CREATE INDEX note_revisions_by_note ON note_revisions (note_id, id);

-- The app's autosave: one draft per session, written as the researcher types.
CREATE TABLE drafts (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id),
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
