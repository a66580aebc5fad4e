-- greyzone store, version 8: what each watching alert rule (hazard, a way out, control, a service, new
-- evacuation requests, the curfew window) last saw. Its new state and the alert a change makes are kept
-- in one transaction: a worker killed in between sees the same change again and makes the same alert.

CREATE TABLE alert_watch (
    rule_id     TEXT PRIMARY KEY,
    state       TEXT NOT NULL,          -- JSON: item -> state, as the rule last saw it
    version     INTEGER NOT NULL,       -- how many changes it has told of (each alert's key holds it)
    checked_at  REAL NOT NULL
) STRICT;
