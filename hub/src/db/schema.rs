//! The hub's schema, as append-only migrations keyed by `PRAGMA user_version`: the files of
//! `hub/migrations/` (`NNNN_name.sql`), embedded in number order by `build.rs`, which fails the
//! build if a number repeats or one is missing. Each runs once, in its own transaction with the
//! version bump. Never edit a migration that has shipped: add the next one.
//! `pico_service::db::migrate` applies them and refuses a database whose version is higher than
//! [`SCHEMA_VERSION`].

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

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
    fn the_embedded_migrations_are_the_folder_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            pico_service::migration_files::ordered(&names).unwrap(),
            MIGRATION_FILES
        );
        assert_eq!(MIGRATION_FILES.len(), MIGRATIONS.len());
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
