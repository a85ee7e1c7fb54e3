-- What the themes analysis last suggested for a selection of notes (a search and its
-- filters; '' is every note), so the next run starts from it: a theme keeps its name while
-- notes arrive. Derived and disposable: deleting a row only makes the next run start afresh.
CREATE TABLE theme_memory (
    scope      TEXT PRIMARY KEY,
    themes     TEXT NOT NULL, -- JSON array of {label, stem, notes}
    written_at TEXT NOT NULL
);
