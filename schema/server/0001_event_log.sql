-- fieldnotes team server, migration 1: the event log.
--
-- Kept to what distributed PostgreSQL-compatible engines accept (Citus, YugabyteDB,
-- CockroachDB): the study leads every key (it is the distribution key), no triggers, no
-- functions, no sequences; numbering is a per-study counter row taken under its row lock.
-- Who may read and write a study is decided here, by row-level security on the login's
-- membership, whatever SQL a client sends.

CREATE TABLE members (
    study text NOT NULL,
    login text NOT NULL,
    PRIMARY KEY (study, login)
);

CREATE TABLE studies (
    study    text NOT NULL,
    last_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (study)
);

-- Append-only: one row per state of an entity (a note with its session) a laptop pushed.
-- A re-push of the same state finds its (study, entity, digest) and adds nothing.
CREATE TABLE events (
    study     text NOT NULL,
    seq       bigint NOT NULL,
    entity    text NOT NULL,
    kind      text NOT NULL,
    digest    text NOT NULL,
    payload   text NOT NULL,
    author    text NOT NULL DEFAULT current_user,
    -- The archive that pushed it: that archive skips it when pulling (it has it already).
    origin    text NOT NULL,
    pushed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (study, seq),
    UNIQUE (study, entity, digest)
);

ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE studies ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;

-- A login sees its own memberships; only the administrator (the tables' owner) grants them.
CREATE POLICY members_own ON members FOR SELECT
    USING (login = current_user);

CREATE POLICY studies_of_members ON studies
    USING (study IN (SELECT m.study FROM members m WHERE m.login = current_user))
    WITH CHECK (study IN (SELECT m.study FROM members m WHERE m.login = current_user));

CREATE POLICY events_read ON events FOR SELECT
    USING (study IN (SELECT m.study FROM members m WHERE m.login = current_user));

CREATE POLICY events_write ON events FOR INSERT
    WITH CHECK (study IN (SELECT m.study FROM members m WHERE m.login = current_user)
                AND author = current_user);

GRANT SELECT ON members TO fieldnotes;
GRANT SELECT, INSERT, UPDATE ON studies TO fieldnotes;
GRANT SELECT, INSERT ON events TO fieldnotes;
