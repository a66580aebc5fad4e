-- Fitted models kept in the store (was: a JSON file beside the SQLite file), so that any backend can
-- fit one and every worker reads the same. A refit adds a row; readers take the newest per set of kinds.
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    family      TEXT NOT NULL,       -- 'hazard'
    kinds       TEXT NOT NULL,       -- the report kinds it was fitted on, sorted, comma-separated
    format      TEXT NOT NULL,       -- the state's format and version, e.g. 'greyzone-hazard/1'
    fitted_at   REAL NOT NULL,       -- unix seconds, UTC
    data_from   REAL NOT NULL,       -- the span of the reports it learnt from (unix seconds, UTC)
    data_until  REAL NOT NULL,
    summary     TEXT NOT NULL,       -- JSON: the fit's figures (events, branching ratio, ...) and options
    state       TEXT NOT NULL        -- JSON: everything needed to answer from it (hazard.inputs.state_to_dict)
) STRICT;
CREATE INDEX models_newest ON models (family, kinds, fitted_at);
