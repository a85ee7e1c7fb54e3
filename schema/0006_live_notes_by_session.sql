-- A session's notes by whether they are in the trash, then in the order they were written:
-- the session view lists the live ones from it, and the sessions list counts them from the
-- index alone instead of reading every note's row (0.7 s for the list at a million notes).
DROP INDEX notes_by_session;
CREATE INDEX notes_by_session_state ON notes (session_id, deleted_at, created_at);
