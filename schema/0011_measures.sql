-- Measures. A note's measures live in its text (`%nps=9`), read by the one inline grammar,
-- so edits, merges and revisions carry them with the words. What is not text lives here:
-- the scales a study defines beside the built-in ones (nps, csat, ces, confidence), the
-- measures a whole session carries (given in the new-session form, a visit or an import),
-- and the researcher's confidence in an insight.
CREATE TABLE measure_scales (
    study_id         INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    min              REAL NOT NULL,
    max              REAL NOT NULL CHECK (max > min),
    higher_is_better INTEGER NOT NULL CHECK (higher_is_better IN (0, 1)),
    whole            INTEGER NOT NULL CHECK (whole IN (0, 1)),
    description      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (study_id, name)
) WITHOUT ROWID;

CREATE TABLE session_measures (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      REAL NOT NULL,
    PRIMARY KEY (session_id, name)
) WITHOUT ROWID;

ALTER TABLE insights ADD COLUMN confidence TEXT CHECK (confidence IN ('low', 'medium', 'high'));
