-- Team sync (issue 19), part two: everything that is not a note travels as a stamped record.
-- A record is one register, named by its kind and a key that is the same on every laptop
-- (a tag's `=token`, a participant's pseudonym, a theme's id…): the newest stamp wins, and
-- a removal is a record too (its value is JSON null), so it travels like any change.
--
-- A local change only marks its record as changed with a new stamp (the triggers below);
-- its value is read from the archive when it leaves (a push, an export) or before a merge
-- writes anything (so a merge can never change a value under a stamp already given).

CREATE TABLE sync_records (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    hlc   TEXT NOT NULL,
    -- JSON; NULL: changed here since, to be read from the archive.
    value TEXT,
    -- Orders local changes for a push (like notes.change_seq).
    seq   INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX sync_records_by_seq ON sync_records (seq);

-- Every record changed here up to this number is on the server.
ALTER TABLE remotes ADD COLUMN records_pushed_seq INTEGER NOT NULL DEFAULT 0;

-- Records of one study's (a session's, a coding's…) that a push of that study alone (`sync
-- --study`) sent, as they were at `seq`: not waiting any more.
CREATE TABLE sync_record_echoes (
    remote TEXT NOT NULL REFERENCES remotes (name) ON DELETE CASCADE,
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (remote, kind, key)
) WITHOUT ROWID;

-- An insight's id is a local number: the key that names it on every laptop is its creation
-- time and first statement (what an import of the same JSONL gives on each laptop too).
ALTER TABLE insights ADD COLUMN uid TEXT;
UPDATE insights SET uid = created_at || ' ' || statement;
CREATE INDEX insights_by_uid ON insights (uid);

-- A tag's key: its sigil and name, as typed.
CREATE VIEW tag_keys AS
SELECT id, (CASE facet WHEN 'persona' THEN '@' WHEN 'touchpoint' THEN '#'
            WHEN 'emotion' THEN '!' WHEN 'job' THEN '+' ELSE '=' END) || name AS key
FROM tags;

-- Numbers local record changes in order (a record's `seq`), never reusing one.
ALTER TABLE sync_clock ADD COLUMN records_seq INTEGER NOT NULL DEFAULT 0;

-- Inserting (kind, key) here takes one tick of the clock and marks the record changed. A
-- view with an INSTEAD OF trigger, so the tick is written once for every table below. The
-- record is deleted and inserted rather than replaced: a trigger's conflict clause gives way
-- to the one of the statement that fired it (an INSERT OR IGNORE would ignore the change).
CREATE VIEW sync_touch (kind, key) AS SELECT NULL, NULL WHERE 0;

CREATE TRIGGER sync_touch_stamp INSTEAD OF INSERT ON sync_touch
WHEN NEW.key IS NOT NULL
BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) > ms
                       THEN 0 ELSE counter + 1 END,
        ms = max(ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
        records_seq = records_seq + 1;
    DELETE FROM sync_records WHERE kind = NEW.kind AND key = NEW.key;
    INSERT INTO sync_records (kind, key, hlc, value, seq)
    SELECT NEW.kind, NEW.key,
           printf('%013d-%06d-%s', c.ms, c.counter,
                  coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '')),
           NULL, c.records_seq
    FROM sync_clock c;
END;

-- The codebook: a tag's description, valence, stage, statement, colour, memo and parent.
-- A tag typed for the first time carries none of them and is not a record.
CREATE TRIGGER tags_touch_new AFTER INSERT ON tags
WHEN (SELECT applying FROM sync_clock) = 0
    AND coalesce(NEW.description, NEW.valence, NEW.stage, NEW.statement, NEW.colour,
                 NEW.memo, NEW.parent_id) IS NOT NULL
BEGIN
    INSERT INTO sync_touch SELECT 'tag', key FROM tag_keys WHERE id = NEW.id;
END;

CREATE TRIGGER tags_touch_edit
AFTER UPDATE OF name, description, valence, stage, statement, colour, memo, parent_id ON tags
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'tag', key FROM tag_keys WHERE id = NEW.id;
    -- A renamed tag: its old name goes, and its children's parent is named anew.
    INSERT INTO sync_touch SELECT 'tag', substr(key, 1, 1) || OLD.name FROM tag_keys
    WHERE id = NEW.id AND OLD.name IS NOT NEW.name;
    INSERT INTO sync_touch SELECT 'tag', k.key FROM tags t JOIN tag_keys k ON k.id = t.id
    WHERE t.parent_id = NEW.id AND OLD.name IS NOT NEW.name;
END;

CREATE TRIGGER tags_touch_delete AFTER DELETE ON tags
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('tag', (CASE OLD.facet WHEN 'persona' THEN '@'
        WHEN 'touchpoint' THEN '#' WHEN 'emotion' THEN '!' WHEN 'job' THEN '+' ELSE '=' END)
        || OLD.name);
END;

-- Participants: consent and details, by pseudonym.
CREATE TRIGGER participants_touch_new AFTER INSERT ON participants
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('participant', NEW.pseudonym);
END;

CREATE TRIGGER participants_touch_edit
AFTER UPDATE OF pseudonym, consent, consent_date, contact ON participants
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('participant', NEW.pseudonym);
END;

-- Masked names: one record per (study, name); a removal is a record with no value.
CREATE TRIGGER masked_touch_new AFTER INSERT ON masked_names
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'masked', name || char(31) || NEW.name
    FROM studies WHERE id = NEW.study_id;
END;

CREATE TRIGGER masked_touch_delete AFTER DELETE ON masked_names
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'masked', name || char(31) || OLD.name
    FROM studies WHERE id = OLD.study_id;
END;

-- Curation: a kept or dismissed theme with its evidence, by the theme's id.
CREATE TRIGGER themes_touch_new AFTER INSERT ON themes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('theme', NEW.id);
END;

CREATE TRIGGER themes_touch_edit AFTER UPDATE ON themes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('theme', NEW.id);
END;

CREATE TRIGGER themes_touch_delete AFTER DELETE ON themes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('theme', OLD.id);
END;

CREATE TRIGGER theme_notes_touch_new AFTER INSERT ON theme_notes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('theme', NEW.theme_id);
END;

CREATE TRIGGER theme_notes_touch_delete AFTER DELETE ON theme_notes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'theme', id FROM themes WHERE id = OLD.theme_id;
END;

-- Insights: the statement, its theme, its evidence notes and the researcher's confidence.
CREATE TRIGGER insights_touch_new AFTER INSERT ON insights
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    UPDATE insights SET uid = coalesce(uid, created_at || ' ' || statement) WHERE id = NEW.id;
    INSERT INTO sync_touch SELECT 'insight', uid FROM insights WHERE id = NEW.id;
END;

CREATE TRIGGER insights_touch_edit AFTER UPDATE OF statement, theme_id, confidence ON insights
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('insight', NEW.uid);
END;

CREATE TRIGGER insights_touch_delete AFTER DELETE ON insights
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('insight', OLD.uid);
END;

CREATE TRIGGER insight_notes_touch_new AFTER INSERT ON insight_notes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'insight', uid FROM insights WHERE id = NEW.insight_id;
END;

CREATE TRIGGER insight_notes_touch_delete AFTER DELETE ON insight_notes
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'insight', uid FROM insights WHERE id = OLD.insight_id;
END;

-- A study's own measure scales, by (study, name).
CREATE TRIGGER scales_touch_new AFTER INSERT ON measure_scales
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'scale', name || char(31) || NEW.name
    FROM studies WHERE id = NEW.study_id;
END;

CREATE TRIGGER scales_touch_edit AFTER UPDATE ON measure_scales
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'scale', name || char(31) || NEW.name
    FROM studies WHERE id = NEW.study_id;
END;

CREATE TRIGGER scales_touch_delete AFTER DELETE ON measure_scales
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'scale', name || char(31) || OLD.name
    FROM studies WHERE id = OLD.study_id;
END;

-- A session's measures, by (session, measure).
CREATE TRIGGER session_measures_touch_new AFTER INSERT ON session_measures
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('measure', NEW.session_id || char(31) || NEW.name);
END;

CREATE TRIGGER session_measures_touch_edit AFTER UPDATE ON session_measures
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('measure', NEW.session_id || char(31) || NEW.name);
END;

CREATE TRIGGER session_measures_touch_delete AFTER DELETE ON session_measures
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('measure', OLD.session_id || char(31) || OLD.name);
END;

-- A session travels on its own too, so one with details and no notes yet reaches the team.
CREATE TRIGGER sessions_touch_new AFTER INSERT ON sessions
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('session', NEW.id);
END;

CREATE TRIGGER sessions_touch_edit
AFTER UPDATE OF title, ended_at, researcher, location, channel ON sessions
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('session', NEW.id);
END;

CREATE TRIGGER session_participants_touch AFTER INSERT ON session_participants
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('session', NEW.session_id);
END;

-- Mystery shopping: a scorecard version by (name, version), a visit's scorecard by its
-- session, an answer by (session, criterion).
CREATE TRIGGER scorecards_touch_new AFTER INSERT ON scorecards
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('scorecard', NEW.name || char(31) || NEW.version);
END;

CREATE TRIGGER visits_touch_new AFTER INSERT ON visits
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('visit', NEW.session_id);
END;

CREATE TRIGGER visits_touch_edit AFTER UPDATE ON visits
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('visit', NEW.session_id);
END;

CREATE TRIGGER visit_answers_touch_new AFTER INSERT ON visit_answers
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('answer', NEW.session_id || char(31) || NEW.criterion);
END;

CREATE TRIGGER visit_answers_touch_edit AFTER UPDATE ON visit_answers
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('answer', NEW.session_id || char(31) || NEW.criterion);
END;

CREATE TRIGGER visit_answers_touch_delete AFTER DELETE ON visit_answers
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch VALUES ('answer', OLD.session_id || char(31) || OLD.criterion);
END;

-- Codings, so that taking one off travels: a coder's whole-note coding by (note, tag, coder),
-- a passage by (note, tag, coder, coded words): its words, not its offsets, which an edit on
-- any laptop moves.
CREATE TRIGGER note_codings_touch_new AFTER INSERT ON note_codings
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'coding', NEW.note_id || char(31) || key || char(31) || NEW.coder
    FROM tag_keys WHERE id = NEW.tag_id;
END;

CREATE TRIGGER note_codings_touch_edit AFTER UPDATE ON note_codings
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'coding', OLD.note_id || char(31) || key || char(31) || OLD.coder
    FROM tag_keys WHERE id = OLD.tag_id;
    INSERT INTO sync_touch SELECT 'coding', NEW.note_id || char(31) || key || char(31) || NEW.coder
    FROM tag_keys WHERE id = NEW.tag_id;
END;

CREATE TRIGGER note_codings_touch_delete AFTER DELETE ON note_codings
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'coding', OLD.note_id || char(31) || key || char(31) || OLD.coder
    FROM tag_keys WHERE id = OLD.tag_id;
END;

CREATE TRIGGER passages_touch_new AFTER INSERT ON passages
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'passage',
        NEW.note_id || char(31) || key || char(31) || NEW.coder || char(31) || NEW.text
    FROM tag_keys WHERE id = NEW.tag_id;
END;

CREATE TRIGGER passages_touch_edit AFTER UPDATE OF note_id, tag_id, coder, text ON passages
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'passage',
        OLD.note_id || char(31) || key || char(31) || OLD.coder || char(31) || OLD.text
    FROM tag_keys WHERE id = OLD.tag_id;
    INSERT INTO sync_touch SELECT 'passage',
        NEW.note_id || char(31) || key || char(31) || NEW.coder || char(31) || NEW.text
    FROM tag_keys WHERE id = NEW.tag_id;
END;

CREATE TRIGGER passages_touch_delete AFTER DELETE ON passages
WHEN (SELECT applying FROM sync_clock) = 0
BEGIN
    INSERT INTO sync_touch SELECT 'passage',
        OLD.note_id || char(31) || key || char(31) || OLD.coder || char(31) || OLD.text
    FROM tag_keys WHERE id = OLD.tag_id;
END;

-- What an archive in use holds already becomes records now (a new archive holds only the
-- default codebook, the same on every laptop: it is no record until a researcher changes it).
-- Tags only with what a researcher may have given them beyond a valence.
INSERT INTO sync_touch SELECT 'tag', k.key FROM tags t JOIN tag_keys k ON k.id = t.id
WHERE coalesce(t.description, t.stage, t.statement, t.colour, t.memo, t.parent_id) IS NOT NULL
  AND EXISTS (SELECT 1 FROM notes);
INSERT INTO sync_touch SELECT 'participant', pseudonym FROM participants;
INSERT INTO sync_touch SELECT 'masked', s.name || char(31) || m.name
FROM masked_names m JOIN studies s ON s.id = m.study_id;
INSERT INTO sync_touch SELECT 'theme', id FROM themes;
INSERT INTO sync_touch SELECT 'insight', uid FROM insights;
INSERT INTO sync_touch SELECT 'scale', s.name || char(31) || m.name
FROM measure_scales m JOIN studies s ON s.id = m.study_id;
INSERT INTO sync_touch SELECT 'measure', session_id || char(31) || name FROM session_measures;
INSERT INTO sync_touch SELECT 'session', id FROM sessions;
INSERT INTO sync_touch SELECT 'scorecard', name || char(31) || version FROM scorecards;
INSERT INTO sync_touch SELECT 'visit', session_id FROM visits;
INSERT INTO sync_touch SELECT 'answer', session_id || char(31) || criterion FROM visit_answers;
