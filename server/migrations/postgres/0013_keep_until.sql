-- Until when (ms) the summary profile (subdistrict and city managers' devices, see
-- `tongxin_shared::profile`) keeps a record in full: NULL for as long as it exists. Computed on
-- every write like the scope columns, from the record's stamps; for the records stored before
-- it, filled once at start-up by the store together with the summaries
-- (`SqlStore::backfill_summaries`).
ALTER TABLE records ADD COLUMN keep_until BIGINT;
-- 1 when the write took a record the summary profile kept out of it at once (a change pushed
-- late, with old stamps): the summary profile's pull lists it in `dropped`, so the devices
-- holding it drop their copies.
ALTER TABLE records ADD COLUMN notice BIGINT NOT NULL DEFAULT 0;
