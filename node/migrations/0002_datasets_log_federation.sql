
CREATE TABLE datasets (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    fields TEXT NOT NULL,
    primary_key TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    federation TEXT NOT NULL DEFAULT 'off' CHECK (federation IN ('off', 'national')),
    row_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dataset_rows (
    dataset TEXT NOT NULL REFERENCES datasets(name),
    pk TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (dataset, pk)
) WITHOUT ROWID;

CREATE TABLE federation_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    head_seq INTEGER NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    blocked_reason TEXT,
    hub_seen_seq INTEGER,
    hub_seen_hash TEXT,
    halted_reason TEXT,
    hub_url TEXT,
    hub_key TEXT,
    hub_kid TEXT,
    log_origin TEXT,
    checkpoint_key_name TEXT,
    checkpoint_vkey TEXT,
    pinned_at INTEGER,
    hub_reachable INTEGER NOT NULL DEFAULT 0,
    last_success_at INTEGER,
    last_error TEXT,
    last_error_at INTEGER,
    checkpoint_size INTEGER,
    checkpoint_root TEXT,
    checkpoint_note TEXT,
    checkpoint_at INTEGER
);
INSERT INTO federation_state (id) VALUES (1);

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    entry_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE receipts (
    seq INTEGER PRIMARY KEY REFERENCES outbox(seq),
    log_index INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    receipt TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    verified_at INTEGER,
    verified_tree_size INTEGER
);
CREATE INDEX receipts_unverified ON receipts(seq) WHERE verified_at IS NULL;

CREATE TABLE alarms (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX alarms_open ON alarms(kind) WHERE resolved_at IS NULL;
