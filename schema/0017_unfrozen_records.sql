-- The records changed here whose value is still to be read from the archive (value NULL).
-- Every merge, sync and imported record reads them first, and without this index that read
-- went through every record: once for each record line of an import, so importing the export
-- of a 100,000-note archive (7,000 records) visited 25 million rows, and the export of a
-- 10,000,000-note archive (500,000 sessions) would not have finished.
CREATE INDEX sync_records_unfrozen ON sync_records (kind, key) WHERE value IS NULL;
