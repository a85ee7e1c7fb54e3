-- Coding in depth: a codebook with a hierarchy, colours and memos; passages (a span of a
-- note's text coded with a tag by a coder); who applied a whole-note code; bulk codings
-- ("code all results") remembered so one can be undone.

-- A tag's parent is another tag of the same facet (`=wait-time` under `=friction`): a REFI-QDA
-- export nests each facet's codes under that facet's parent code, and an import gives a code
-- the facet of the top-level code it sits under, so a parent of another facet could not
-- survive the round trip. The store refuses other facets and cycles. A merge moves the
-- merged tag's children to the tag it is merged into before deleting it.
ALTER TABLE tags ADD COLUMN parent_id INTEGER REFERENCES tags (id);
ALTER TABLE tags ADD COLUMN colour TEXT; -- "#rrggbb", as REFI-QDA writes a code's colour
ALTER TABLE tags ADD COLUMN memo TEXT;   -- the researcher's working notes on the code
CREATE INDEX tags_by_parent ON tags (parent_id);

-- Who gave a whole-note tag beside the text (`fieldnotes code NOTE =tag`, code all results);
-- NULL for tags typed in the text and for everything written before this migration.
ALTER TABLE note_tags ADD COLUMN coder TEXT;

-- A passage: `tag` applied to the characters [start, end) of the note's body, counted in
-- Unicode code points (not bytes, not UTF-16 units), as REFI-QDA counts them. `text` is the
-- coded text itself, so an edit of the note can find the passage again; `lost` is set when
-- an edit removed that text (the passage keeps its last offsets and is reported, never moved
-- to other words).
CREATE TABLE passages (
    id         INTEGER PRIMARY KEY,
    note_id    TEXT NOT NULL REFERENCES notes (id),
    tag_id     INTEGER NOT NULL REFERENCES tags (id),
    start      INTEGER NOT NULL CHECK (start >= 0),
    end        INTEGER NOT NULL CHECK (end > start),
    text       TEXT NOT NULL,
    coder      TEXT NOT NULL,
    lost       INTEGER NOT NULL DEFAULT 0 CHECK (lost IN (0, 1)),
    created_at TEXT NOT NULL,
    UNIQUE (note_id, tag_id, start, end, coder)
);
CREATE INDEX passages_by_tag ON passages (tag_id);

-- Code all results: one row per bulk coding, and the notes it newly tagged (only those, so
-- undoing it never takes away a tag a note already had).
CREATE TABLE bulk_codings (
    id         INTEGER PRIMARY KEY,
    tag_id     INTEGER NOT NULL REFERENCES tags (id),
    query      TEXT NOT NULL,
    coder      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone_at  TEXT
);
CREATE TABLE bulk_coding_notes (
    bulk_id INTEGER NOT NULL REFERENCES bulk_codings (id),
    note_id TEXT NOT NULL REFERENCES notes (id),
    PRIMARY KEY (bulk_id, note_id)
) WITHOUT ROWID;
