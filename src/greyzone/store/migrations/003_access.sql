-- greyzone store, version 3: who may use the service, what they did, and answers kept for retries.

-- A user: a role and the SHA-256 of their token (the token itself is printed once and never stored).
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('reporter', 'verifier', 'analyst', 'admin')),
    token_sha256  BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
) STRICT;

-- Every authentication, denial, export and admin action (UTC seconds, actor, action, object).
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY,
    at      REAL NOT NULL,
    actor   TEXT NOT NULL,          -- a user's name, or 'public'
    action  TEXT NOT NULL,          -- e.g. auth.ok, auth.denied, export.csv, user.add
    object  TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;

-- The answer to a submission by (actor, idempotency key): a retry gets the original answer.
CREATE TABLE idempotency (
    actor   TEXT NOT NULL,
    key     TEXT NOT NULL,
    answer  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
) STRICT;

-- Which user submitted which report through the service (reporters see their own).
CREATE TABLE submitted (
    report_id BLOB NOT NULL,
    actor     TEXT NOT NULL,
    PRIMARY KEY (actor, report_id)
) STRICT;
