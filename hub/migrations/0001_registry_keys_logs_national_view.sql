-- registry, keys, the per-node logs, the transparency log, the national view.
CREATE TABLE provinces (
    code        TEXT PRIMARY KEY,   -- ISTAT historical province code: the node's identity
    uts         TEXT NOT NULL,      -- ISTAT territorial unit code (2xx for Città metropolitane)
    name        TEXT NOT NULL,
    kind        INTEGER NOT NULL,   -- ISTAT tipologia_uts
    kind_label  TEXT NOT NULL,
    sigla       TEXT NOT NULL,
    region_code TEXT NOT NULL,
    region      TEXT NOT NULL,
    capoluogo   TEXT NOT NULL,
    comuni      INTEGER NOT NULL,
    upi         INTEGER NOT NULL    -- one of the 86 of the UPI programme
) WITHOUT ROWID;

-- Keys allowed to sign a Province's entries, and from/until which seq.
CREATE TABLE keys (
    kid          TEXT PRIMARY KEY,
    province     TEXT NOT NULL REFERENCES provinces(code),
    public_key   TEXT NOT NULL,
    valid_from   INTEGER NOT NULL,
    revoked_from INTEGER,
    origin       TEXT NOT NULL CHECK (origin IN ('enrolment', 'rotation')),
    added_at     INTEGER NOT NULL,
    reason       TEXT
) WITHOUT ROWID;
CREATE INDEX keys_by_province ON keys(province);

-- Every accepted entry, as received (the evidence), with the receipt the hub signed.
-- Rowid table: wire bytes are large, and (province, seq) grows per Province, so the
-- unique index stays local.
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    province    TEXT NOT NULL REFERENCES provinces(code),
    seq         INTEGER NOT NULL,
    entry_hash  BLOB NOT NULL,
    kind        TEXT NOT NULL,
    kid         TEXT NOT NULL,
    iat         INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    log_index   INTEGER NOT NULL UNIQUE,
    wire        BLOB NOT NULL,
    receipt     TEXT NOT NULL,
    UNIQUE (province, seq)
);

-- The transparency log: leaf i is the entry hash of one accepted entry.
CREATE TABLE log_leaves (
    idx        INTEGER PRIMARY KEY,
    province   TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entry_hash BLOB NOT NULL
);

-- Perfect subtree hashes of the log (protocol/SPEC-merkle.md §2), each written once.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Every distinct signed checkpoint; a heartbeat only moves confirmed_at.
CREATE TABLE checkpoints (
    id           INTEGER PRIMARY KEY,
    size         INTEGER NOT NULL UNIQUE,
    root         BLOB NOT NULL,
    note         TEXT NOT NULL,
    signed_at    INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL
);

-- Forks: a validly signed entry that differs from the one accepted at the same seq.
CREATE TABLE equivocations (
    id            INTEGER PRIMARY KEY,
    province      TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    stored_hash   BLOB NOT NULL,
    received_hash BLOB NOT NULL,
    stored_wire   BLOB,
    received_wire BLOB NOT NULL,
    detected_at   INTEGER NOT NULL,
    UNIQUE (province, seq, received_hash)
);

-- National view. One generic row table keyed (dataset, province, pk): a batch touches one
-- Province's key range, so inserts stay local however many rows are stored.
CREATE TABLE datasets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE dataset_contributions (
    dataset_id      INTEGER NOT NULL REFERENCES datasets(id),
    province        TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    fields          TEXT NOT NULL,   -- JSON array of field names
    primary_key     TEXT NOT NULL,   -- JSON array of field names
    row_count       INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL,
    last_entry_hash BLOB NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, province)
) WITHOUT ROWID;
CREATE TABLE dataset_rows (
    id         INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    province   TEXT NOT NULL,
    pk         TEXT NOT NULL,     -- JSON array of the primary-key values
    comune     TEXT,              -- value of the `comune` field, when the dataset has one
    data       TEXT NOT NULL,     -- JSON object field -> value
    seq        INTEGER NOT NULL,  -- provenance: the entry that last wrote the row
    entry_hash BLOB NOT NULL,
    snapshot   TEXT               -- id of the snapshot that last wrote the row, if any
);
CREATE UNIQUE INDEX dataset_rows_key ON dataset_rows(dataset_id, province, pk);
CREATE INDEX dataset_rows_comune ON dataset_rows(dataset_id, comune, province, pk)
    WHERE comune IS NOT NULL;

-- Best-practice library, with full-text search and content-addressed attachments.
CREATE TABLE best_practices (
    id         INTEGER PRIMARY KEY,
    province   TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    module     TEXT NOT NULL,
    comuni     TEXT NOT NULL,     -- JSON array
    tags       TEXT NOT NULL,     -- JSON array
    language   TEXT NOT NULL,
    body       TEXT NOT NULL,
    status     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entry_hash BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (province, doc_id)
);
CREATE INDEX best_practices_by_module ON best_practices(module, province);
CREATE VIRTUAL TABLE best_practices_fts USING fts5(
    title, summary, body, tags, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE attachments (
    sha256      BLOB PRIMARY KEY,
    length      INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    content     BLOB,             -- NULL until the node uploads the bytes
    uploaded_at INTEGER
);
CREATE TABLE practice_attachments (
    practice_id INTEGER NOT NULL REFERENCES best_practices(id),
    sha256      BLOB NOT NULL REFERENCES attachments(sha256),
    name        TEXT NOT NULL,
    PRIMARY KEY (practice_id, sha256)
) WITHOUT ROWID;
