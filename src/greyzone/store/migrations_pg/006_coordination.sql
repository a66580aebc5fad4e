-- greyzone store, version 6: coordination. Districts, service points, residents' needs, evacuation
-- requests (their askers and every change of state), crews; and the coordinator role.
-- Personal data (names, phones, exact addresses and points) is only ever in the `personal` columns,
-- encrypted by the application (Fernet, key file outside the database) and set to NULL when purged.

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('reporter', 'verifier', 'analyst', 'coordinator', 'admin'));

CREATE TABLE districts (
    city      TEXT NOT NULL,
    name      TEXT NOT NULL,
    geometry  TEXT NOT NULL,           -- GeoJSON (lon, lat)
    PRIMARY KEY (city, name)
);

CREATE TABLE service_points (
    point_id        TEXT PRIMARY KEY,
    city            TEXT NOT NULL,
    service         TEXT NOT NULL,
    name            TEXT NOT NULL,
    lon             DOUBLE PRECISION NOT NULL,
    lat             DOUBLE PRECISION NOT NULL,
    hours           TEXT NOT NULL,      -- HH:MM-HH:MM local time, '' when not known
    published       INTEGER NOT NULL,   -- 1: the public may see it (at public_lon/lat)
    public_lon      DOUBLE PRECISION,
    public_lat      DOUBLE PRECISION,
    public_shelter  INTEGER NOT NULL,
    updated_at      DOUBLE PRECISION NOT NULL
);
CREATE INDEX service_points_city ON service_points (city, service);

CREATE TABLE needs (
    need_id      BIGSERIAL PRIMARY KEY,
    city         TEXT NOT NULL,
    district     TEXT NOT NULL,
    category     TEXT NOT NULL,
    people       INTEGER NOT NULL CHECK (people > 0),
    recorded_at  DOUBLE PRECISION NOT NULL,
    actor        TEXT NOT NULL,
    note         TEXT NOT NULL,
    met_at       DOUBLE PRECISION
);
CREATE INDEX needs_city ON needs (city, district, category);

CREATE TABLE evac_requests (
    request_id   TEXT PRIMARY KEY,
    city         TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    updated_at   DOUBLE PRECISION NOT NULL,
    state        TEXT NOT NULL,
    district     TEXT NOT NULL,
    cell         BIGINT NOT NULL,      -- H3 res 8 of the point (~0.7 km²): what is kept in clear
    precision_m  DOUBLE PRECISION NOT NULL,
    details      TEXT NOT NULL,         -- JSON: counts, mobility, urgency, settlement, suspicion … (no personal data)
    personal     BYTEA,                  -- encrypted JSON: names, phones, address, point, contact; NULL once purged
    crew_id      TEXT,
    closed_at    DOUBLE PRECISION,
    purged_at    DOUBLE PRECISION,
    idem_actor   TEXT,
    idem_key     TEXT,
    UNIQUE (idem_actor, idem_key)
);
CREATE INDEX evac_requests_city ON evac_requests (city, state);

CREATE TABLE evac_askers (
    request_id          TEXT NOT NULL REFERENCES evac_requests (request_id),
    seq                 INTEGER NOT NULL,
    asked_at            DOUBLE PRECISION NOT NULL,
    relation            TEXT NOT NULL,
    channel             TEXT NOT NULL,
    callback_confirmed  INTEGER NOT NULL,
    asker_key           BYTEA NOT NULL,  -- keyed hash of the phone (or name): a returning asker, not who
    personal            BYTEA,           -- encrypted JSON: name, phone; NULL once purged
    PRIMARY KEY (request_id, seq)
);
CREATE INDEX evac_askers_key ON evac_askers (asker_key);

CREATE TABLE evac_events (
    seq         BIGSERIAL PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES evac_requests (request_id),
    at          DOUBLE PRECISION NOT NULL,
    actor       TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL
);

CREATE TABLE crews (
    crew_id     TEXT PRIMARY KEY,
    city        TEXT NOT NULL,
    name        TEXT NOT NULL,
    vehicle     TEXT NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity > 0),
    stretcher   INTEGER NOT NULL,
    wheelchair  INTEGER NOT NULL,
    base_lon    DOUBLE PRECISION NOT NULL,
    base_lat    DOUBLE PRECISION NOT NULL,
    active      INTEGER NOT NULL
);
