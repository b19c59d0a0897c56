-- documents attached to thematic-network posts. The bytes live in `attachments`
-- (content-addressed, shared with best practices); this says which routed post declares
-- which file, so the hub accepts its upload and serves it to the members of the post's
-- network only.
CREATE TABLE network_attachments (
    inbox_cursor INTEGER NOT NULL REFERENCES inbox(cursor),
    sha256       BLOB NOT NULL REFERENCES attachments(sha256),
    name         TEXT NOT NULL,
    PRIMARY KEY (inbox_cursor, sha256)
) WITHOUT ROWID;
CREATE INDEX network_attachments_by_sha ON network_attachments(sha256, inbox_cursor);

-- Declarations of posts accepted before this migration.
INSERT OR IGNORE INTO attachments (sha256, length, media_type)
SELECT unhex(json_extract(a.value, '$.sha256')), json_extract(a.value, '$.length'),
       json_extract(a.value, '$.media_type')
FROM inbox i JOIN entries e ON e.id = i.entry_id,
     json_each(CAST(e.wire AS TEXT), '$.body.attachments') a;
INSERT OR IGNORE INTO network_attachments (inbox_cursor, sha256, name)
SELECT i.cursor, unhex(json_extract(a.value, '$.sha256')), json_extract(a.value, '$.name')
FROM inbox i JOIN entries e ON e.id = i.entry_id,
     json_each(CAST(e.wire AS TEXT), '$.body.attachments') a;
