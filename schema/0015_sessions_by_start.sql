-- Every session by when it started: the app lists the newest first and, in an organisation's
-- archive of hundreds of thousands of sessions, reads only the newest page of them (listing
-- all 500,000 of a 10,000,000-note archive took 5 s before the first list was drawn).
CREATE INDEX sessions_by_start ON sessions (started_at, id);
