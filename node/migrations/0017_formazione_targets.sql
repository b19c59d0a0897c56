-- Formazione: the programme's training targets as the hub signed them
-- (GET /v1/formazione/targets, SPEC §9.1), pulled by the node and kept only once their
-- signature verified with the pinned hub key. One row: the highest revision verified, the
-- signed document as received (so it can be verified again) and its payload.
CREATE TABLE formazione_targets (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    revision    INTEGER NOT NULL,
    document    TEXT NOT NULL,   -- the JWS flattened JSON, as received
    targets     TEXT NOT NULL,   -- its payload: canonical JSON of the targets
    verified_at INTEGER NOT NULL -- unix seconds
);
