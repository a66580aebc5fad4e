-- greyzone store, version 10: free-text intake. Messages whose parse is not sure enough to be a report
-- wait in the review queue for a verifier (accept, correct, reject); every correction is kept as a
-- labelled example for the next training of the classifier, and the next parse of the same text uses it.

CREATE TABLE text_review (
    review_id    TEXT PRIMARY KEY,
    received_at  REAL NOT NULL,
    source       TEXT NOT NULL,
    text         TEXT NOT NULL,
    parse        TEXT NOT NULL,          -- JSON: the parse of the event (kind, place, time, counts, what it lacks)
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'corrected', 'rejected')),
    reviewer     TEXT,
    reviewed_at  REAL,
    note         TEXT NOT NULL
) STRICT;
CREATE INDEX text_review_state ON text_review (state, received_at);

CREATE TABLE text_labels (
    text_hash    TEXT PRIMARY KEY,       -- of the message's text (the same text again: the same label)
    text         TEXT NOT NULL,
    label        TEXT NOT NULL,          -- JSON: kind, place, lon, lat, killed, injured, … as the verifier set them
    labelled_by  TEXT NOT NULL,
    labelled_at  REAL NOT NULL
) STRICT;
