
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
