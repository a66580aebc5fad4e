-- Users (hashed tokens), the audit log, answers kept for retries, who submitted what (as SQLite's 003).
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('reporter', 'verifier', 'analyst', 'admin')),
    token_sha256  BYTEA NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);
CREATE TABLE audit (
    seq     BIGSERIAL PRIMARY KEY,
    at      DOUBLE PRECISION NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    object  TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE idempotency (
    actor   TEXT NOT NULL,
    key     TEXT NOT NULL,
    answer  TEXT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE TABLE submitted (
    report_id BYTEA NOT NULL,
    actor     TEXT NOT NULL,
    PRIMARY KEY (actor, report_id)
);
