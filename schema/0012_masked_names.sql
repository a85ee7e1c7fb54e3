-- Names of people who are not participants (a spouse, a shop assistant) that a study's
-- redacted exports mask as [name], kept per study so every export of it masks them.
CREATE TABLE masked_names (
    study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    PRIMARY KEY (study_id, name)
) WITHOUT ROWID;
