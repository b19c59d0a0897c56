-- thematic networks — membership, and the inbox that routes network posts.
-- Which Provinces are members of which thematic network (`sua`, `sape`, `sit`, `personale`;
-- checked in code, so a new network needs no table rebuild).
CREATE TABLE network_members (
    network   TEXT NOT NULL,
    province  TEXT NOT NULL REFERENCES provinces(code),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (network, province)
) WITHOUT ROWID;
CREATE INDEX network_members_by_province ON network_members(province, network);

-- One row per accepted network post, written in the entry's transaction. `cursor` only
-- grows (AUTOINCREMENT never reuses a value), so a reader's `after` is never skipped;
-- recipients are decided at read time from the membership.
CREATE TABLE inbox (
    cursor   INTEGER PRIMARY KEY AUTOINCREMENT,
    origin   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    network  TEXT NOT NULL,
    entry_id INTEGER NOT NULL UNIQUE REFERENCES entries(id),
    UNIQUE (origin, seq)
);
CREATE INDEX inbox_by_network ON inbox(network, cursor);

-- Posts accepted before this migration, in the order they were accepted.
INSERT INTO inbox (origin, seq, network, entry_id)
SELECT province, seq, json_extract(CAST(wire AS TEXT), '$.body.network'), id
FROM entries WHERE kind = 'network_message' ORDER BY id;
