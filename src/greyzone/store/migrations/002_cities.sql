-- A city: its street network (the StreetGraph as one compressed NumPy archive) and its named ways out.
-- Re-importing a city replaces it; reports are never touched.
CREATE TABLE cities (
    name        TEXT PRIMARY KEY,
    source      TEXT NOT NULL,       -- the file it was imported from
    imported_at INTEGER NOT NULL,    -- unix seconds, UTC
    nodes       INTEGER NOT NULL,
    edges       INTEGER NOT NULL,
    graph       BLOB NOT NULL,
    gates       TEXT NOT NULL DEFAULT '[]'  -- JSON: [{"name": ..., "lon": ..., "lat": ...}]
) STRICT;
