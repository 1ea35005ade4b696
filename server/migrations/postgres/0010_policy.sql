-- The shared policy's needs: a digest of every stored op (the same id with other content is
-- refused as op_id_conflict, not acked), and the hierarchy moves (a grid or community that
-- changed place), so the devices that can no longer read the old place reset.
ALTER TABLE ops ADD COLUMN digest TEXT;

CREATE TABLE hierarchy_moves (
    seq                BIGINT NOT NULL,
    collection         TEXT NOT NULL,
    id                 TEXT NOT NULL,
    before_subdistrict TEXT,
    before_community   TEXT,
    before_grid        TEXT,
    after_subdistrict  TEXT,
    after_community    TEXT,
    after_grid         TEXT
);
CREATE INDEX hierarchy_moves_seq ON hierarchy_moves (seq);

-- Device ids (an op's actor) bound to the first user who pushed under them: another user's ops
-- under the same actor are refused (forged_actor). Filled from the ops already stored.
CREATE TABLE actors (
    actor    TEXT PRIMARY KEY,
    username TEXT NOT NULL
);
INSERT INTO actors (actor, username)
SELECT actor, MIN(author) FROM ops WHERE author IS NOT NULL GROUP BY actor;
