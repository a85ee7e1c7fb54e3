-- Whole-note codings by coder. 0009 kept a whole-note coding's coder on its `note_tags` row,
-- whose key is (note_id, tag_id): when a second coder coded a note with the tag the first had
-- given it, nothing recorded them, and inter-coder agreement miscounted. `note_tags` stays what
-- the note carries (one row per tag, typed in the text or given beside it); who gave a tag
-- beside the text is here, one row per coder. A note carries an `explicit` tag with codings as
-- long as one coder's coding remains.
CREATE TABLE note_codings (
    note_id TEXT NOT NULL,
    tag_id  INTEGER NOT NULL,
    coder   TEXT NOT NULL,
    PRIMARY KEY (note_id, tag_id, coder),
    FOREIGN KEY (note_id, tag_id) REFERENCES note_tags (note_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX note_codings_by_tag ON note_codings (tag_id);

INSERT INTO note_codings (note_id, tag_id, coder)
    SELECT note_id, tag_id, coder FROM note_tags WHERE coder IS NOT NULL AND origin = 'explicit';
ALTER TABLE note_tags DROP COLUMN coder;
