-- Where a note's evidence comes from: `direct` feedback (the customer told us: an interview,
-- a survey answer), `indirect` (the customer said it elsewhere: a review, social media, a
-- complaint) or `inferred` (we deduced it from behaviour or data). NULL: not recorded.
-- Self-contained: it only adds a column, so it can run after any other migration.
ALTER TABLE notes ADD COLUMN feedback TEXT CHECK (feedback IN ('direct', 'indirect', 'inferred'));
