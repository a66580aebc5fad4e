-- Fitted models kept in the store (as SQLite's 004): every worker reads the same newest model per kinds.
CREATE TABLE models (
    id          BIGSERIAL PRIMARY KEY,
    family      TEXT NOT NULL,
    kinds       TEXT NOT NULL,
    format      TEXT NOT NULL,
    fitted_at   DOUBLE PRECISION NOT NULL,
    data_from   DOUBLE PRECISION NOT NULL,
    data_until  DOUBLE PRECISION NOT NULL,
    summary     TEXT NOT NULL,
    state       TEXT NOT NULL
);
CREATE INDEX models_newest ON models (family, kinds, fitted_at);
