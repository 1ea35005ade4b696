-- Until when (ms) the summary profile (subdistrict and city managers' devices, see
-- `tongxin_shared::profile`) keeps a record in full: NULL for as long as it exists. Computed on
-- every write like the scope columns; for the records stored before it, filled once at start-up
-- by the store together with the summaries (`SqlStore::backfill_summaries`), which reads the
-- records' stamps.
ALTER TABLE records ADD COLUMN keep_until INTEGER;
