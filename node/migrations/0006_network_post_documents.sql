
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
