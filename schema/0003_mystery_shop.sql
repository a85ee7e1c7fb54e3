-- Mystery shopping: versioned scorecard templates, visits that use one, and their answers.

-- A template never changes once stored: editing it stores the next version, so visits made
-- with an older version keep their scores.
CREATE TABLE scorecards (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL, -- the validated template, as JSON
    source     TEXT NOT NULL, -- the TOML it was imported from
    created_at TEXT NOT NULL,
    UNIQUE (name, version)
);

-- A mystery-shop session scored with a scorecard version.
CREATE TABLE visits (
    session_id   TEXT PRIMARY KEY REFERENCES sessions (id),
    scorecard_id INTEGER NOT NULL REFERENCES scorecards (id)
);

CREATE TABLE visit_answers (
    session_id  TEXT NOT NULL REFERENCES visits (session_id),
    criterion   TEXT NOT NULL,
    value       REAL,             -- NULL when not applicable
    na          INTEGER NOT NULL DEFAULT 0 CHECK (na IN (0, 1)),
    note_id     TEXT REFERENCES notes (id), -- the evidence note beside the answer
    answered_at TEXT NOT NULL,
    PRIMARY KEY (session_id, criterion)
) WITHOUT ROWID;
