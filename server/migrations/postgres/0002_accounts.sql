-- Accounts: users with a role and an area, opaque session tokens (stored hashed), and the author
-- of every accepted op (the session's user, never a field the client sends).
CREATE TABLE users (
    username      TEXT    PRIMARY KEY,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    -- JSON arrays of record ids: the user's grids, communities and subdistricts.
    grids         TEXT    NOT NULL DEFAULT '[]',
    communities   TEXT    NOT NULL DEFAULT '[]',
    subdistricts  TEXT    NOT NULL DEFAULT '[]',
    password_hash TEXT    NOT NULL,
    disabled      BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    username    TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sessions_username ON sessions (username);

ALTER TABLE ops ADD COLUMN author TEXT;
