//! The node's schema, as append-only migrations keyed by `PRAGMA user_version`.
//! Never edit a step once released: add a new one at the end.

use pico_service::db::Migrations;

/// Every migration step, oldest first.
pub const MIGRATIONS: Migrations = &[
    // 1: the Province, its Comuni, people, sessions, tokens, audit log, Help Desk.
    r"
CREATE TABLE province (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL,
    uts_code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    sigla TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE comuni (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_it TEXT NOT NULL,
    name_other TEXT NOT NULL,
    cadastral_code TEXT NOT NULL UNIQUE,
    capoluogo INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'comune')),
    module TEXT,
    comune_code TEXT REFERENCES comuni(code),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK ((role = 'operator') = (module IS NOT NULL)),
    CHECK ((role = 'comune') = (comune_code IS NOT NULL))
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures(subject, at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    actor_user_id INTEGER,
    client_ip TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE helpdesk_requests (
    id INTEGER PRIMARY KEY,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    category TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    assignee_id INTEGER REFERENCES users(id),
    opened_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER
);
CREATE INDEX helpdesk_requests_comune ON helpdesk_requests(comune_code, id);
CREATE INDEX helpdesk_requests_status ON helpdesk_requests(status, id);

CREATE TABLE helpdesk_comments (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES helpdesk_requests(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    from_province INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX helpdesk_comments_request ON helpdesk_comments(request_id, id);

CREATE TABLE helpdesk_attachments (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES helpdesk_requests(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX helpdesk_attachments_request ON helpdesk_attachments(request_id);
",
    // 2: the Dati module's datasets and rows; the node's signed log (transactional outbox),
    // hub receipts, federation state (pinned hub keys, head, blocked flag), alarms.
    r"
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
",
    // 3: thematic networks: memberships (the hub holds the truth, this is the node's copy),
    // posts (the node's own and those pulled from the inbox, deduplicated by origin and seq),
    // the quarantine of received posts that failed verification, the pinned key directory
    // and the inbox cursor.
    r"
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
",
    // 4: Community: best practices (documents of the Province, public or drafts, optionally
    // federated), their attachments (bytes in the database, content-addressed for the hub)
    // and what the hub last received of each document (`hub_status`).
    r"
CREATE TABLE practices (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    module TEXT NOT NULL CHECK (module IN ('sua', 'sape', 'sit', 'personale', 'helpdesk', 'formazione', 'dati', 'community')),
    comuni TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    language TEXT NOT NULL,
    body TEXT NOT NULL,
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    federation TEXT NOT NULL DEFAULT 'off' CHECK (federation IN ('off', 'national')),
    hub_status TEXT NOT NULL DEFAULT 'none' CHECK (hub_status IN ('none', 'published', 'withdrawn')),
    hub_seq INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX practices_public ON practices(public, id);

CREATE TABLE practice_attachments (
    id INTEGER PRIMARY KEY,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    declared_seq INTEGER,
    uploaded_at INTEGER,
    refused_reason TEXT
);
CREATE INDEX practice_attachments_practice ON practice_attachments(practice_id, id);
CREATE INDEX practice_attachments_pending ON practice_attachments(declared_seq)
    WHERE uploaded_at IS NULL AND declared_seq IS NOT NULL;
",
];
