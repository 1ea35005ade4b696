-- The administrator's user list searched, sorted and paged in SQL (store/user_list.rs).
-- What a search looks in is folded once, in Rust, on write (`tongxin_shared::userlist::fold`):
-- a user's username and display name (`users.folded`), the names and codes of the places
-- (`place_names`, kept by the commit for subdistricts, communities and grids), and which places
-- make a user's area (`user_places`, kept with the user; `level` 0 subdistricts, 1 communities,
-- 2 grids, `idx` the place's position in that list). Filled once from the stored users and
-- places by `backfill_user_list` (flagged in `meta`).
ALTER TABLE users ADD COLUMN folded TEXT NOT NULL DEFAULT '';

CREATE TABLE place_names (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    code   TEXT NOT NULL,
    folded TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE user_places (
    username TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    level    INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    place    TEXT    NOT NULL,
    PRIMARY KEY (username, level, idx)
) WITHOUT ROWID;
CREATE INDEX users_role ON users (role);
