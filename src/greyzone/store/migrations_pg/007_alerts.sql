-- greyzone store, version 7: alert rules and their deliveries. The outbox the worker follows is the
-- batches table itself (written in the same transaction as the reports): its cursor is kept here.

CREATE TABLE alert_rules (
    rule_id     TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,          -- the user who made it (it sees what their role may see)
    role        TEXT NOT NULL,
    city        TEXT NOT NULL,
    name        TEXT NOT NULL,
    area        TEXT NOT NULL,          -- GeoJSON polygon (lon, lat)
    rule        TEXT NOT NULL,          -- JSON: the trigger (kinds, at least N incidents within T hours)
    url         TEXT NOT NULL,          -- the webhook (an allowed host only)
    secret      TEXT NOT NULL,          -- signs each delivery (HMAC-SHA-256)
    format      TEXT NOT NULL CHECK (format IN ('json', 'cap')),
    active      INTEGER NOT NULL,
    disabled    TEXT NOT NULL,          -- why it stopped ('' while active)
    created_at  DOUBLE PRECISION NOT NULL
);

CREATE TABLE alert_cursor (
    name      TEXT PRIMARY KEY,
    batch_id  BIGINT NOT NULL          -- the newest batch the worker has evaluated the rules on
);

CREATE TABLE deliveries (
    alert_key     TEXT PRIMARY KEY,     -- rule and window: a flare-up is one alert; receivers drop repeats
    rule_id       TEXT NOT NULL,
    body          TEXT NOT NULL,        -- JSON, fixed when the alert is made: every retry sends the same
    created_at    DOUBLE PRECISION NOT NULL,
    attempts      INTEGER NOT NULL,
    next_at       DOUBLE PRECISION NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'gone')),
    last_error    TEXT NOT NULL,
    delivered_at  DOUBLE PRECISION
);
CREATE INDEX deliveries_due ON deliveries (status, next_at);
