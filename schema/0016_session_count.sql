-- How many sessions the archive holds, kept as sessions are added: the app's list says "the
-- newest 2,000 of N", and counting N read every entry of an index of 500,000 sessions (0.63 s
-- on a cold disk, most of the time to the first list of a 10,000,000-note archive).
-- Sessions are added with INSERT OR IGNORE (an ignored row fires no trigger) and never
-- replaced; a delete is counted too, should one ever come.
CREATE TABLE session_count (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    n INTEGER NOT NULL
);
INSERT INTO session_count (only, n) SELECT 1, count(*) FROM sessions;
CREATE TRIGGER sessions_counted AFTER INSERT ON sessions
BEGIN
    UPDATE session_count SET n = n + 1;
END;
CREATE TRIGGER sessions_uncounted AFTER DELETE ON sessions
BEGIN
    UPDATE session_count SET n = n - 1;
END;
