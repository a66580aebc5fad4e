-- A city: its street network (StreetGraph.to_bytes) and its named ways out.
CREATE TABLE cities (
    name        TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    nodes       INTEGER NOT NULL,
    edges       INTEGER NOT NULL,
    graph       BYTEA NOT NULL,
    gates       TEXT NOT NULL DEFAULT '[]'
);
