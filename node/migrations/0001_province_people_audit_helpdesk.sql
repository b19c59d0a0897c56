
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
