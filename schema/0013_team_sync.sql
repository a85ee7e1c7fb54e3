-- Team sync (issue 19): a hybrid logical clock stamps every change that travels, so the
-- newest change wins even between laptops whose clocks disagree; what this archive has
-- pushed to and pulled from each team server is remembered, so a sync sends and fetches
-- only what changed.

-- The clock: the largest time seen (this laptop's, or any stamp merged in) and a counter
-- for changes within one millisecond. A stamp is `<ms, 13 digits>-<counter, 6>-<archive id>`,
-- so stamps sort as text. `applying` is set while a merge writes what another archive
-- stamped, so the triggers below keep those stamps instead of taking new ones.
CREATE TABLE sync_clock (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    ms       INTEGER NOT NULL,
    counter  INTEGER NOT NULL,
    applying INTEGER NOT NULL DEFAULT 0 CHECK (applying IN (0, 1))
);
INSERT INTO sync_clock (id, ms, counter) VALUES (1, 0, 0);

-- Stamps: a note's current version, its last trash or restore, each revision, a session's
-- details. NULL on what was written before this migration: its stamp is read from its time.
ALTER TABLE notes ADD COLUMN hlc TEXT;
ALTER TABLE notes ADD COLUMN trash_hlc TEXT;
ALTER TABLE note_revisions ADD COLUMN hlc TEXT;
ALTER TABLE sessions ADD COLUMN hlc TEXT;

-- The team servers this archive syncs with. The URL is kept without its password (that
-- comes from the URL typed, PGPASSWORD or ~/.pgpass at each sync).
CREATE TABLE remotes (
    name        TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    -- Every local change numbered up to this (notes.change_seq) is on the server.
    pushed_seq  INTEGER NOT NULL DEFAULT 0,
    last_sync   TEXT,
    last_error  TEXT
);

-- Per remote and study: the last server sequence number pulled.
CREATE TABLE sync_cursors (
    remote     TEXT NOT NULL REFERENCES remotes (name) ON DELETE CASCADE,
    study      TEXT NOT NULL,
    pulled_seq INTEGER NOT NULL,
    PRIMARY KEY (remote, study)
) WITHOUT ROWID;

-- Notes whose change (at `change_seq`) the server already holds: written by a pull that
-- left the note as the server has it, or by a push of one study. Not pushed back.
CREATE TABLE sync_echoes (
    remote     TEXT NOT NULL REFERENCES remotes (name) ON DELETE CASCADE,
    note_id    TEXT NOT NULL,
    change_seq INTEGER NOT NULL,
    PRIMARY KEY (remote, note_id)
) WITHOUT ROWID;

-- The stamping triggers. One tick of the clock: at least this laptop's time in ms, and
-- after the largest stamp seen (the counter breaks ties). Triggers, so that every write
-- path (capture, edit, trash, codebook rename, import) is stamped without each knowing.
CREATE TRIGGER notes_stamp_new AFTER INSERT ON notes
WHEN NEW.hlc IS NULL AND (SELECT applying FROM sync_clock) = 0
BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) > ms
                       THEN 0 ELSE counter + 1 END,
        ms = max(ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    UPDATE notes SET hlc = (SELECT printf('%013d-%06d-%s', ms, counter,
        coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '')) FROM sync_clock)
    WHERE id = NEW.id;
END;

CREATE TRIGGER notes_stamp_edit AFTER UPDATE OF body, kind ON notes
WHEN NEW.hlc IS OLD.hlc AND (NEW.body IS NOT OLD.body OR NEW.kind IS NOT OLD.kind)
    AND (SELECT applying FROM sync_clock) = 0
BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) > ms
                       THEN 0 ELSE counter + 1 END,
        ms = max(ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    UPDATE notes SET hlc = (SELECT printf('%013d-%06d-%s', ms, counter,
        coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '')) FROM sync_clock)
    WHERE id = NEW.id;
END;

-- Trash and restore are both events with a stamp: a restore beats an older delete.
CREATE TRIGGER notes_stamp_trash AFTER UPDATE OF deleted_at ON notes
WHEN NEW.trash_hlc IS OLD.trash_hlc AND NEW.deleted_at IS NOT OLD.deleted_at
    AND (SELECT applying FROM sync_clock) = 0
BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) > ms
                       THEN 0 ELSE counter + 1 END,
        ms = max(ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    UPDATE notes SET trash_hlc = (SELECT printf('%013d-%06d-%s', ms, counter,
        coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '')) FROM sync_clock)
    WHERE id = NEW.id;
END;

-- A revision an edit writes is the version it replaces: it keeps that version's stamp
-- (every edit writes the revision before it changes the note). An imported revision, older
-- than the note's text, keeps no stamp: its time stands for one.
CREATE TRIGGER revisions_stamp AFTER INSERT ON note_revisions
WHEN NEW.hlc IS NULL AND (SELECT applying FROM sync_clock) = 0
    AND NEW.written_at = (SELECT updated_at FROM notes WHERE id = NEW.note_id)
BEGIN
    UPDATE note_revisions SET hlc = (SELECT hlc FROM notes WHERE id = NEW.note_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER sessions_stamp_new AFTER INSERT ON sessions
WHEN NEW.hlc IS NULL AND (SELECT applying FROM sync_clock) = 0
BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) > ms
                       THEN 0 ELSE counter + 1 END,
        ms = max(ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    UPDATE sessions SET hlc = (SELECT printf('%013d-%06d-%s', ms, counter,
        coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '')) FROM sync_clock)
    WHERE id = NEW.id;
END;

CREATE TRIGGER sessions_stamp_edit
AFTER UPDATE OF title, ended_at, researcher, location, channel ON sessions
WHEN NEW.hlc IS OLD.hlc AND (SELECT applying FROM sync_clock) = 0
BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) > ms
                       THEN 0 ELSE counter + 1 END,
        ms = max(ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    UPDATE sessions SET hlc = (SELECT printf('%013d-%06d-%s', ms, counter,
        coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '')) FROM sync_clock)
    WHERE id = NEW.id;
END;
