-- Photos are read by scope: which records refer to which photo (the photos fields of cases,
-- visits and activities, kept by the store in the same transaction as the records; rows for
-- records stored before this migration are backfilled at start), and who uploaded a photo (its
-- uploader may read it until a record refers to it, and it counts towards their daily quota).
ALTER TABLE blobs ADD COLUMN uploader TEXT;
CREATE INDEX blobs_uploader_created ON blobs (uploader, created_at);
CREATE INDEX blobs_created ON blobs (created_at);

CREATE TABLE blob_refs (
    sha256     TEXT NOT NULL,
    collection TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    PRIMARY KEY (sha256, collection, record_id)
);
CREATE INDEX blob_refs_record ON blob_refs (collection, record_id);
