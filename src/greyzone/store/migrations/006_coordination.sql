-- greyzone store, version 6: coordination. Districts, service points, residents' needs, evacuation
-- requests (their askers and every change of state), crews; and the coordinator role.
-- Personal data (names, phones, exact addresses and points) is only ever in the `personal` columns,
-- encrypted by the application (Fernet, key file outside the database) and set to NULL when purged.

CREATE TABLE users_new (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('reporter', 'verifier', 'analyst', 'coordinator', 'admin')),
    token_sha256  BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
) STRICT;
INSERT INTO users_new SELECT name, role, token_sha256, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE districts (
    city      TEXT NOT NULL,
    name      TEXT NOT NULL,
    geometry  TEXT NOT NULL,           -- GeoJSON (lon, lat)
    PRIMARY KEY (city, name)
) STRICT;

CREATE TABLE service_points (
    point_id        TEXT PRIMARY KEY,
    city            TEXT NOT NULL,
    service         TEXT NOT NULL,
    name            TEXT NOT NULL,
    lon             REAL NOT NULL,
    lat             REAL NOT NULL,
    hours           TEXT NOT NULL,      -- HH:MM-HH:MM local time, '' when not known
    published       INTEGER NOT NULL,   -- 1: the public may see it (at public_lon/lat)
    public_lon      REAL,
    public_lat      REAL,
    public_shelter  INTEGER NOT NULL,
    updated_at      REAL NOT NULL
) STRICT;
CREATE INDEX service_points_city ON service_points (city, service);

CREATE TABLE needs (
    need_id      INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    district     TEXT NOT NULL,
    category     TEXT NOT NULL,
    people       INTEGER NOT NULL CHECK (people > 0),
    recorded_at  REAL NOT NULL,
    actor        TEXT NOT NULL,
    note         TEXT NOT NULL,
    met_at       REAL
) STRICT;
CREATE INDEX needs_city ON needs (city, district, category);

CREATE TABLE evac_requests (
    request_id   TEXT PRIMARY KEY,
    city         TEXT NOT NULL,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    state        TEXT NOT NULL,
    district     TEXT NOT NULL,
    cell         INTEGER NOT NULL,      -- H3 res 8 of the point (~0.7 km²): what is kept in clear
    precision_m  REAL NOT NULL,
    details      TEXT NOT NULL,         -- JSON: counts, mobility, urgency, settlement, suspicion … (no personal data)
    personal     BLOB,                  -- encrypted JSON: names, phones, address, point, contact; NULL once purged
    crew_id      TEXT,
    closed_at    REAL,
    purged_at    REAL,
    idem_actor   TEXT,
    idem_key     TEXT,
    UNIQUE (idem_actor, idem_key)
) STRICT;
CREATE INDEX evac_requests_city ON evac_requests (city, state);

CREATE TABLE evac_askers (
    request_id          TEXT NOT NULL REFERENCES evac_requests (request_id),
    seq                 INTEGER NOT NULL,
    asked_at            REAL NOT NULL,
    relation            TEXT NOT NULL,
    channel             TEXT NOT NULL,
    callback_confirmed  INTEGER NOT NULL,
    asker_key           BLOB NOT NULL,  -- keyed hash of the phone (or name): a returning asker, not who
    personal            BLOB,           -- encrypted JSON: name, phone; NULL once purged
    PRIMARY KEY (request_id, seq)
) STRICT;
CREATE INDEX evac_askers_key ON evac_askers (asker_key);

CREATE TABLE evac_events (
    seq         INTEGER PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES evac_requests (request_id),
    at          REAL NOT NULL,
    actor       TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL
) STRICT;

CREATE TABLE crews (
    crew_id     TEXT PRIMARY KEY,
    city        TEXT NOT NULL,
    name        TEXT NOT NULL,
    vehicle     TEXT NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity > 0),
    stretcher   INTEGER NOT NULL,
    wheelchair  INTEGER NOT NULL,
    base_lon    REAL NOT NULL,
    base_lat    REAL NOT NULL,
    active      INTEGER NOT NULL
) STRICT;
