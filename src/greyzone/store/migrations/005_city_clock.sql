-- Each city's clock: the time zone people there read and type (IANA name, e.g. Europe/Kyiv; NULL for a
-- city imported before this: its departures are refused until it is set) and its curfew window
-- (HH:MM-HH:MM local time, the hours movement is allowed; NULL when none is known).
ALTER TABLE cities ADD COLUMN timezone TEXT;
ALTER TABLE cities ADD COLUMN curfew TEXT;
