-- greyzone store on PostgreSQL, version 1: the same append-only report log as SQLite's 001.
CREATE TABLE batches (
    batch_id     BIGSERIAL PRIMARY KEY,
    origin       TEXT NOT NULL,
    committed_at BIGINT NOT NULL,
    first_seq    BIGINT NOT NULL,
    last_seq     BIGINT NOT NULL,
    accepted     INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    rejected     INTEGER NOT NULL
);

CREATE TABLE reports (
    seq                  BIGINT PRIMARY KEY,        -- append order, given by the writer (a batch: a contiguous range)
    id                   BYTEA NOT NULL UNIQUE,
    kind                 TEXT NOT NULL,
    subkind              TEXT,
    observed_at          BIGINT NOT NULL,
    time_precision       TEXT NOT NULL,
    lon                  DOUBLE PRECISION NOT NULL,
    lat                  DOUBLE PRECISION NOT NULL,
    location_precision_m DOUBLE PRECISION NOT NULL,
    h3_r5                BIGINT NOT NULL,
    h3_r9                BIGINT NOT NULL,
    source               TEXT NOT NULL,
    credibility          DOUBLE PRECISION NOT NULL,
    text                 TEXT,
    attrs                TEXT,
    area_wkb             BYTEA,
    reporter_hash        BYTEA,
    incident_id          BIGINT
);

CREATE INDEX reports_by_time ON reports (observed_at);
CREATE INDEX reports_by_kind ON reports (kind, observed_at);
CREATE INDEX reports_by_cell ON reports (h3_r5, observed_at, h3_r9);
CREATE INDEX reports_by_incident ON reports (incident_id) WHERE incident_id IS NOT NULL;

CREATE FUNCTION reports_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'reports are append-only: they cannot be deleted';
    END IF;
    IF (NEW.seq, NEW.id, NEW.kind, NEW.subkind, NEW.observed_at, NEW.time_precision, NEW.lon, NEW.lat,
        NEW.location_precision_m, NEW.h3_r5, NEW.h3_r9, NEW.source, NEW.credibility, NEW.text, NEW.attrs,
        NEW.area_wkb, NEW.reporter_hash)
       IS DISTINCT FROM
       (OLD.seq, OLD.id, OLD.kind, OLD.subkind, OLD.observed_at, OLD.time_precision, OLD.lon, OLD.lat,
        OLD.location_precision_m, OLD.h3_r5, OLD.h3_r9, OLD.source, OLD.credibility, OLD.text, OLD.attrs,
        OLD.area_wkb, OLD.reporter_hash) THEN
        RAISE EXCEPTION 'reports are append-only: their content cannot be updated';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER reports_append_only BEFORE UPDATE OR DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_append_only();

CREATE TABLE rejects (
    batch_id BIGINT NOT NULL REFERENCES batches (batch_id),
    file     TEXT NOT NULL,
    row      INTEGER NOT NULL,
    field    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    value    TEXT NOT NULL
);
