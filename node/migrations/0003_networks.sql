
CREATE TABLE network_memberships (
    network TEXT PRIMARY KEY CHECK (network IN ('sua', 'sape', 'sit', 'personale')),
    joined_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE network_posts (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    network TEXT NOT NULL,
    thread_origin TEXT NOT NULL,
    thread_seq INTEGER NOT NULL,
    reply_origin TEXT,
    reply_seq INTEGER,
    subject TEXT,
    body TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    entry_hash TEXT NOT NULL,
    signed_at INTEGER NOT NULL,
    stored_at INTEGER NOT NULL,
    UNIQUE (origin, seq)
);
CREATE INDEX network_posts_thread ON network_posts(network, thread_origin, thread_seq, id);

CREATE TABLE network_quarantine (
    id INTEGER PRIMARY KEY,
    hub_cursor INTEGER NOT NULL,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    network TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    wire BLOB NOT NULL,
    wire_sha256 TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    released_at INTEGER,
    UNIQUE (origin, seq, wire_sha256)
);

CREATE TABLE network_keys (
    kid TEXT PRIMARY KEY,
    province TEXT NOT NULL,
    public_key TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    revoked_from INTEGER,
    trusted INTEGER NOT NULL CHECK (trusted IN (0, 1)),
    first_seen_at INTEGER NOT NULL,
    trusted_at INTEGER
) WITHOUT ROWID;

CREATE TABLE network_inbox (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL DEFAULT 0,
    last_pull_at INTEGER,
    last_error TEXT
);
INSERT INTO network_inbox (id) VALUES (1);
