//! Append-only migrations keyed by `PRAGMA user_version`.
//!
//! Each migration runs once, in its own transaction with the version bump. Never edit a
//! migration that has shipped: add the next one. `pico_service::db::migrate` applies them and
//! refuses a database whose version is higher than [`SCHEMA_VERSION`].

/// Migrations in order; migration `i` brings the database to version `i + 1`.
pub const MIGRATIONS: pico_service::db::Migrations = &[
    // 1: registry, keys, the per-node logs, the transparency log, the national view.
    r#"
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
    "#,
    // 2: thematic networks — membership, and the inbox that routes network posts.
    r#"
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
    "#,
    // 3: documents attached to thematic-network posts. The bytes live in `attachments`
    // (content-addressed, shared with best practices); this says which routed post declares
    // which file, so the hub accepts its upload and serves it to the members of the post's
    // network only.
    r#"
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
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_on_an_empty_database() -> Result<(), pico_service::DbError> {
        let mut conn = rusqlite::Connection::open_in_memory()?;
        let path = std::path::Path::new(":memory:");
        assert_eq!(
            pico_service::db::migrate(&mut conn, MIGRATIONS, path)?,
            (0, SCHEMA_VERSION)
        );
        assert_eq!(
            pico_service::db::migrate(&mut conn, MIGRATIONS, path)?,
            (SCHEMA_VERSION, SCHEMA_VERSION)
        );
        Ok(())
    }

    #[test]
    fn network_posts_accepted_before_the_inbox_existed_are_routed_in_order()
    -> Result<(), pico_service::DbError> {
        let mut conn = rusqlite::Connection::open_in_memory()?;
        let path = std::path::Path::new(":memory:");
        pico_service::db::migrate(&mut conn, &MIGRATIONS[..1], path)?;
        conn.execute_batch(
            r#"
            INSERT INTO provinces VALUES ('026', '026', 'Treviso', 1, 'Provincia', 'TV', '05',
                                          'Veneto', 'Treviso', 94, 1);
            INSERT INTO entries (province, seq, entry_hash, kind, kid, iat, received_at,
                                 log_index, wire, receipt)
            VALUES ('026', 1, x'00', 'network_message', 'k', 0, 0, 0,
                    CAST('{"protected":"p","payload":"p","signature":"s","body":{"body":"a","network":"sit"}}' AS BLOB), 'r'),
                   ('026', 2, x'01', 'dataset_batch', 'k', 0, 0, 1, x'7b7d', 'r'),
                   ('026', 3, x'02', 'network_message', 'k', 0, 0, 2,
                    CAST('{"protected":"p","payload":"p","signature":"s","body":{"body":"b","network":"sua"}}' AS BLOB), 'r');
            "#,
        )?;
        pico_service::db::migrate(&mut conn, MIGRATIONS, path)?;
        let routed: Vec<(i64, i64, String)> = conn
            .prepare("SELECT cursor, seq, network FROM inbox ORDER BY cursor")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        assert_eq!(routed, [(1, 1, "sit".to_owned()), (2, 3, "sua".to_owned())]);
        Ok(())
    }
}
