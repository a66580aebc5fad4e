-- greyzone store, version 1: the append-only report log, its batches, rejects and indexes.
-- Times are integer seconds since 1970-01-01 UTC; coordinates WGS84 (lon, lat).

CREATE TABLE batches (
    batch_id     INTEGER PRIMARY KEY,
    origin       TEXT NOT NULL,           -- the file or client a batch came from
    committed_at INTEGER NOT NULL,
    first_seq    INTEGER NOT NULL,        -- the batch's reports are seq first_seq .. last_seq
    last_seq     INTEGER NOT NULL,        -- (last_seq = first_seq - 1 when it added none)
    accepted     INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    rejected     INTEGER NOT NULL
);

CREATE TABLE reports (
    seq                  INTEGER PRIMARY KEY,  -- append order (a batch's reports are a contiguous range)
    id                   BLOB NOT NULL UNIQUE, -- 16-byte UUID
    kind                 TEXT NOT NULL,
    subkind              TEXT,
    observed_at          INTEGER NOT NULL,
    time_precision       TEXT NOT NULL,
    lon                  REAL NOT NULL,
    lat                  REAL NOT NULL,
    location_precision_m REAL NOT NULL,
    h3_r5                INTEGER NOT NULL,     -- partition cell (~250 km²)
    h3_r9                INTEGER NOT NULL,     -- block cell; any coarser cell is an integer range of it
    source               TEXT NOT NULL,
    credibility          REAL NOT NULL,
    text                 TEXT,
    -- kind-specific and optional fields as one JSON object (absent when none): side, utility,
    -- service, status, killed, injured, place, source_record_id, reported_at, ended_at
    attrs                TEXT,
    area_wkb             BLOB,
    reporter_hash        BLOB,                 -- keyed hash; never the reporter
    incident_id          INTEGER               -- the seq of the incident's first report; NULL: this one
);

CREATE INDEX reports_by_time ON reports (observed_at);
CREATE INDEX reports_by_kind ON reports (kind, observed_at);
-- Partition-major, then time: an import in time order appends at the end of each partition's range
-- (a random-order index on the block cell would rewrite most of its pages at every batch). A cell of
-- any resolution >= 5 is its partition, a time range, and an integer range of h3_r9.
CREATE INDEX reports_by_cell ON reports (h3_r5, observed_at, h3_r9);
CREATE INDEX reports_by_incident ON reports (incident_id) WHERE incident_id IS NOT NULL;

-- The log is append-only: a report's content never changes and is never deleted.
-- Only its link to an incident may move (when a later report joins two incidents).
CREATE TRIGGER reports_append_only_update
BEFORE UPDATE OF seq, id, kind, subkind, observed_at, time_precision, lon, lat, location_precision_m,
    h3_r5, h3_r9, source, credibility, text, attrs, area_wkb, reporter_hash ON reports
BEGIN
    SELECT RAISE(ABORT, 'reports are append-only: their content cannot be updated');
END;

CREATE TRIGGER reports_append_only_delete
BEFORE DELETE ON reports
BEGIN
    SELECT RAISE(ABORT, 'reports are append-only: they cannot be deleted');
END;

CREATE TABLE rejects (
    batch_id INTEGER NOT NULL REFERENCES batches (batch_id),
    file     TEXT NOT NULL,
    row      INTEGER NOT NULL,
    field    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    value    TEXT NOT NULL
);
