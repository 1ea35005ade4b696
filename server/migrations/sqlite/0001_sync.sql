-- The sync store: merged records with their scope, the op log for idempotent pushes, photos.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('seq', 0);

-- One row per record: the merged state (JSON of tongxin_shared::Record), the sequence number of
-- its last change, and its place in the hierarchy for scoped pulls.
CREATE TABLE records (
    collection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    subdistrict TEXT,
    community   TEXT,
    grid        TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    body        TEXT    NOT NULL,
    PRIMARY KEY (collection, id)
);
CREATE UNIQUE INDEX records_seq ON records (seq);
CREATE INDEX records_grid_seq ON records (grid, seq);
CREATE INDEX records_community_seq ON records (community, seq);
CREATE INDEX records_subdistrict_seq ON records (subdistrict, seq);

-- Every accepted op, once: a re-sent op is answered from here with its original seq.
CREATE TABLE ops (
    op_id       TEXT    PRIMARY KEY,
    actor       TEXT    NOT NULL,
    collection  TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    hlc         TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE blobs (
    sha256       TEXT    PRIMARY KEY,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    bytes        BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
