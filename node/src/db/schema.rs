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
    // 5: SUA (Stazione Unica Appaltante): the Comuni's delegations (convenzioni), procedures
    // from the Comune's request to completion (one table: a request is a procedure in its
    // first states), the Comuni served with their shares (one row for an ordinary procedure,
    // several for an aggregated initiative), lots with their CIG and award, the transition
    // history, attachments, and import batches. Amounts are euro cents, ribasso is
    // thousandths of a percent (12.345 % = 12345), dates are `YYYY-MM-DD` text, instants Unix
    // seconds.
    r"
CREATE TABLE sua_conventions (
    id INTEGER PRIMARY KEY,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    scope TEXT NOT NULL CHECK (scope IN ('goods_services', 'works', 'all')),
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    document_ref TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sua_conventions_comune ON sua_conventions(comune_code, valid_from);

CREATE TABLE sua_procedures (
    id INTEGER PRIMARY KEY,
    comune_code TEXT REFERENCES comuni(code),
    buyer_cf TEXT NOT NULL DEFAULT '',
    buyer_name TEXT NOT NULL,
    aggregated INTEGER NOT NULL DEFAULT 0 CHECK (aggregated IN (0, 1)),
    object TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contract_type TEXT NOT NULL CHECK (contract_type IN ('works', 'services', 'supplies')),
    cpv_main TEXT NOT NULL,
    cpv_other TEXT NOT NULL DEFAULT '[]',
    estimated_cents INTEGER NOT NULL CHECK (estimated_cents >= 0),
    procedure_code INTEGER NOT NULL,
    procedure_label TEXT NOT NULL,
    award_criterion TEXT NOT NULL CHECK (award_criterion IN ('lowest_price', 'best_value', 'fixed_price', 'unknown')),
    cup TEXT,
    funding_source TEXT NOT NULL DEFAULT '',
    pnrr INTEGER NOT NULL DEFAULT 0 CHECK (pnrr IN (0, 1)),
    rup_name TEXT NOT NULL DEFAULT '',
    rup_email TEXT NOT NULL DEFAULT '',
    desired_by TEXT,
    state TEXT NOT NULL CHECK (state IN ('submitted', 'returned', 'withdrawn', 'received',
        'in_preparation', 'published', 'bids_closed', 'evaluation', 'awarded',
        'contract_signed', 'completed', 'cancelled', 'deserted')),
    return_reason TEXT,
    anac_gara TEXT,
    ocid TEXT UNIQUE,
    published_on TEXT,
    deadline_on TEXT,
    awarded_on TEXT,
    contract_signed_on TEXT,
    completed_on TEXT,
    requested_at INTEGER NOT NULL,
    accepted_at INTEGER,
    year INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('web', 'api', 'import_ocds', 'import_csv')),
    import_batch INTEGER REFERENCES sua_import_batches(id),
    external_key TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((aggregated = 1) OR (comune_code IS NOT NULL) OR (source LIKE 'import_%'))
);
CREATE INDEX sua_procedures_comune_year ON sua_procedures(comune_code, year);
CREATE INDEX sua_procedures_state ON sua_procedures(state, id);
CREATE INDEX sua_procedures_year ON sua_procedures(year);
CREATE UNIQUE INDEX sua_procedures_external ON sua_procedures(source, external_key)
    WHERE external_key IS NOT NULL;

CREATE TABLE sua_participants (
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    share_cents INTEGER NOT NULL CHECK (share_cents >= 0),
    PRIMARY KEY (procedure_id, comune_code)
) WITHOUT ROWID;
CREATE INDEX sua_participants_comune ON sua_participants(comune_code, procedure_id);

CREATE TABLE sua_lots (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    lot_no INTEGER NOT NULL,
    cig TEXT UNIQUE,
    description TEXT NOT NULL,
    cpv TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awarded', 'deserted', 'cancelled')),
    bids_count INTEGER CHECK (bids_count >= 0),
    supplier_name TEXT,
    supplier_cf TEXT,
    award_cents INTEGER CHECK (award_cents >= 0),
    ribasso_milli INTEGER,
    awarded_on TEXT,
    contract_signed_on TEXT,
    UNIQUE (procedure_id, lot_no)
);

CREATE TABLE sua_transitions (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX sua_transitions_procedure ON sua_transitions(procedure_id, id);
CREATE TRIGGER sua_transitions_no_update BEFORE UPDATE ON sua_transitions
BEGIN SELECT RAISE(ABORT, 'sua_transitions is append-only'); END;
CREATE TRIGGER sua_transitions_no_delete BEFORE DELETE ON sua_transitions
BEGIN SELECT RAISE(ABORT, 'sua_transitions is append-only'); END;

CREATE TABLE sua_attachments (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sua_attachments_procedure ON sua_attachments(procedure_id, id);

CREATE TABLE sua_import_batches (
    id INTEGER PRIMARY KEY,
    format TEXT NOT NULL CHECK (format IN ('ocds', 'csv')),
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    imported INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    report TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
",
    // 6: documents attached to thematic-network posts, one row per declared file: this
    // node's own (bytes stored here, uploaded to the hub once the post's entry has its
    // receipt) and received ones (declared by the origin's signed post; the bytes are fetched
    // from the hub and kept only if their length and SHA-256 match the declaration).
    r"
CREATE TABLE network_attachments (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB,
    uploaded_at INTEGER,
    fetched_at INTEGER,
    refused_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (origin, seq, position),
    FOREIGN KEY (origin, seq) REFERENCES network_posts(origin, seq)
);
CREATE INDEX network_attachments_to_fetch ON network_attachments(next_attempt_at, id)
    WHERE data IS NULL AND refused_reason IS NULL;
CREATE INDEX network_attachments_to_upload ON network_attachments(seq, id)
    WHERE uploaded_at IS NULL AND data IS NOT NULL;

-- Files declared by posts stored before this step (received ones, to fetch).
INSERT INTO network_attachments (origin, seq, position, filename, media_type, size, sha256, created_at)
SELECT p.origin, p.seq, CAST(a.key AS INTEGER), json_extract(a.value, '$.name'),
       json_extract(a.value, '$.media_type'), json_extract(a.value, '$.length'),
       json_extract(a.value, '$.sha256'), p.stored_at
FROM network_posts p, json_each(p.attachments) a;
",
    // 7: the SUA tables again, with the same columns and rules, their value lists written as
    // `=` comparisons instead of `IN (…)`. SQLite checks a CHECK of the form `x IN (a, b, c…)`
    // by building a temporary b-tree of the list on every row written: four such lists made
    // each procedure insert or update cost about 15 µs more (measured; half of a bulk
    // import's time). A list of two, like `IN (0, 1)`, is compared directly and stays. The
    // `ocid` uniqueness becomes a partial index: procedures without an ocid (all but OCDS
    // imports) no longer add a NULL entry to it. Tables are rebuilt the way SQLite documents
    // (new table, copy, drop, rename; the migration runs with foreign keys off and checks
    // them all before committing).
    r"
CREATE TABLE sua_procedures_new (
    id INTEGER PRIMARY KEY,
    comune_code TEXT REFERENCES comuni(code),
    buyer_cf TEXT NOT NULL DEFAULT '',
    buyer_name TEXT NOT NULL,
    aggregated INTEGER NOT NULL DEFAULT 0 CHECK (aggregated IN (0, 1)),
    object TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contract_type TEXT NOT NULL
        CHECK (contract_type = 'works' OR contract_type = 'services' OR contract_type = 'supplies'),
    cpv_main TEXT NOT NULL,
    cpv_other TEXT NOT NULL DEFAULT '[]',
    estimated_cents INTEGER NOT NULL CHECK (estimated_cents >= 0),
    procedure_code INTEGER NOT NULL,
    procedure_label TEXT NOT NULL,
    award_criterion TEXT NOT NULL
        CHECK (award_criterion = 'lowest_price' OR award_criterion = 'best_value'
            OR award_criterion = 'fixed_price' OR award_criterion = 'unknown'),
    cup TEXT,
    funding_source TEXT NOT NULL DEFAULT '',
    pnrr INTEGER NOT NULL DEFAULT 0 CHECK (pnrr IN (0, 1)),
    rup_name TEXT NOT NULL DEFAULT '',
    rup_email TEXT NOT NULL DEFAULT '',
    desired_by TEXT,
    state TEXT NOT NULL
        CHECK (state = 'submitted' OR state = 'returned' OR state = 'withdrawn'
            OR state = 'received' OR state = 'in_preparation' OR state = 'published'
            OR state = 'bids_closed' OR state = 'evaluation' OR state = 'awarded'
            OR state = 'contract_signed' OR state = 'completed' OR state = 'cancelled'
            OR state = 'deserted'),
    return_reason TEXT,
    anac_gara TEXT,
    ocid TEXT,
    published_on TEXT,
    deadline_on TEXT,
    awarded_on TEXT,
    contract_signed_on TEXT,
    completed_on TEXT,
    requested_at INTEGER NOT NULL,
    accepted_at INTEGER,
    year INTEGER NOT NULL,
    source TEXT NOT NULL
        CHECK (source = 'web' OR source = 'api' OR source = 'import_ocds' OR source = 'import_csv'),
    import_batch INTEGER REFERENCES sua_import_batches(id),
    external_key TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((aggregated = 1) OR (comune_code IS NOT NULL) OR (source LIKE 'import_%'))
);
INSERT INTO sua_procedures_new SELECT * FROM sua_procedures;
DROP TABLE sua_procedures;
ALTER TABLE sua_procedures_new RENAME TO sua_procedures;
CREATE INDEX sua_procedures_comune_year ON sua_procedures(comune_code, year);
CREATE INDEX sua_procedures_state ON sua_procedures(state, id);
CREATE INDEX sua_procedures_year ON sua_procedures(year);
CREATE UNIQUE INDEX sua_procedures_external ON sua_procedures(source, external_key)
    WHERE external_key IS NOT NULL;
CREATE UNIQUE INDEX sua_procedures_ocid ON sua_procedures(ocid) WHERE ocid IS NOT NULL;

CREATE TABLE sua_lots_new (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    lot_no INTEGER NOT NULL,
    cig TEXT UNIQUE,
    description TEXT NOT NULL,
    cpv TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status = 'active' OR status = 'awarded' OR status = 'deserted' OR status = 'cancelled'),
    bids_count INTEGER CHECK (bids_count >= 0),
    supplier_name TEXT,
    supplier_cf TEXT,
    award_cents INTEGER CHECK (award_cents >= 0),
    ribasso_milli INTEGER,
    awarded_on TEXT,
    contract_signed_on TEXT,
    UNIQUE (procedure_id, lot_no)
);
INSERT INTO sua_lots_new SELECT * FROM sua_lots;
DROP TABLE sua_lots;
ALTER TABLE sua_lots_new RENAME TO sua_lots;
",
    // 8: one-time passwords: a password set by `init`, `user add` or an administrator's
    // reset must be changed at the next login before anything else is allowed.
    r"
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password = 0 OR must_change_password = 1);
",
];
