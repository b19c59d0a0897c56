//! SQLite plumbing: a connection pool with our pragmas, the async bridge, append-only
//! migrations keyed by `PRAGMA user_version`, and online backup and restore.
//!
//! SQL itself lives in each service's `db` layer as plain synchronous functions over
//! `&Connection`; async code reaches them only through [`Db::call`], which runs the closure on
//! tokio's blocking pool so a slow query never stalls the runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

/// Append-only list of migration steps: step `i` (0-based) takes the schema from
/// `user_version = i` to `i + 1`. Never edit or reorder a released step; add a new one.
pub type Migrations = &'static [&'static str];

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<SqliteConnectionManager>;

/// How long a writer waits for the lock before `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page size of new databases, in bytes (SQLite's default is 4096). Bulk writes touch half
/// as many pages and split them half as often: a million SUA lots imported ~10 % faster
/// (`node/benches/sua_import.rs`). A database keeps the size it was created with.
pub const PAGE_SIZE: u32 = 8192;

/// Pragmas set on every connection. WAL lets readers proceed during a write; NORMAL
/// synchronous is durable across application crashes in WAL mode and much faster than FULL.
const CONNECTION_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = NORMAL;";

/// Settings of every connection (pooled or dedicated).
fn init_connection(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Transactions take the write lock at BEGIN. A deferred transaction that reads and
    // then writes fails at once with SQLITE_BUSY (busy_timeout does not apply) when
    // another connection committed in between, under WAL; an immediate one waits its
    // turn instead. Our transactions exist to write, so nothing is lost.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    // Applies only while the file is new, so before WAL mode, which writes its first page.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.execute_batch(CONNECTION_PRAGMAS)
}

/// What can go wrong below the service's own SQL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite reported an error.
    #[error("errore del database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// No connection could be obtained from the pool in time.
    #[error("nessuna connessione al database disponibile: {0}")]
    Pool(#[from] r2d2::Error),
    /// The database was written by a newer release.
    #[error(
        "il database {path} ha lo schema nella versione {found}, più recente di quella che questo programma conosce ({supported}): \
         usare la versione del programma che lo ha scritto, oppure ripristinare una copia di sicurezza fatta con questa versione"
    )]
    TooNew {
        /// Database file.
        path: String,
        /// `user_version` found in the file.
        found: i64,
        /// Latest version this binary knows.
        supported: i64,
    },
    /// The database is older than the binary and was opened without migrating.
    #[error(
        "il database ha lo schema nella versione {found}, ma questo programma richiede la {supported}: eseguire `migrate`"
    )]
    NotMigrated {
        /// `user_version` found in the file.
        found: i64,
        /// Latest version this binary knows.
        supported: i64,
    },
    /// A migration step left rows pointing at rows that do not exist; it was rolled back.
    #[error(
        "la migrazione del database alla versione {version} è stata annullata: {violations} righe violano una \
         chiave esterna (la prima: tabella {table}, riga {rowid}); ripristinare l'ultima copia di sicurezza e segnalare il problema"
    )]
    MigrationForeignKeys {
        /// The version the step would have reached.
        version: i64,
        /// Rows found by `PRAGMA foreign_key_check`.
        violations: usize,
        /// The table of the first such row.
        table: String,
        /// Its rowid.
        rowid: i64,
    },
    /// A blocking task panicked or was cancelled.
    #[error("operazione sul database non riuscita: {0}")]
    Task(String),
}

/// A pool of SQLite connections to one database file.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
    schema_version: i64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .field("schema_version", &self.schema_version)
            .finish()
    }
}

/// Pool counters exported as metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections.
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// Configured maximum.
    pub max: u32,
}

impl Db {
    /// Opens (creating if needed) the database and applies pending `migrations`. Refuses a
    /// database newer than `migrations` with [`DbError::TooNew`].
    pub fn open(path: &Path, migrations: Migrations, pool_size: u32) -> Result<Db, DbError> {
        let db = Db::open_unmigrated(path, pool_size)?;
        let mut conn = db.get()?;
        migrate(&mut conn, migrations, path)?;
        drop(conn);
        Ok(Db {
            schema_version: migrations.len() as i64,
            ..db
        })
    }

    /// Opens the database and checks that it is exactly at the version of `migrations`
    /// (neither older nor newer), without changing it.
    pub fn open_existing(
        path: &Path,
        migrations: Migrations,
        pool_size: u32,
    ) -> Result<Db, DbError> {
        let db = Db::open_unmigrated(path, pool_size)?;
        let found = schema_version(&*db.get()?)?;
        let supported = migrations.len() as i64;
        if found > supported {
            return Err(DbError::TooNew {
                path: path.display().to_string(),
                found,
                supported,
            });
        }
        if found < supported {
            return Err(DbError::NotMigrated { found, supported });
        }
        Ok(Db {
            schema_version: supported,
            ..db
        })
    }

    fn open_unmigrated(path: &Path, pool_size: u32) -> Result<Db, DbError> {
        let manager = SqliteConnectionManager::file(path).with_init(init_connection);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)?;
        Ok(Db {
            pool,
            path: path.to_owned(),
            schema_version: 0,
        })
    }

    /// A connection of its own, outside the pool, with the pool's settings: for a single
    /// writer that keeps a large page cache, which would otherwise end up copied in every
    /// pooled connection the writer happened to use.
    pub fn dedicated_connection(&self) -> Result<Connection, DbError> {
        let mut conn = Connection::open(&self.path)?;
        init_connection(&mut conn)?;
        Ok(conn)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this handle was opened at.
    pub fn schema_version(&self) -> i64 {
        self.schema_version
    }

    /// A connection for synchronous code (CLI commands, tests). From async code use
    /// [`Db::call`].
    pub fn get(&self) -> Result<PooledConnection, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|err| E::from(DbError::Task(err.to_string())))?
    }

    /// Pool counters.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
        }
    }

    /// Whether the database answers and is at the expected schema version.
    pub async fn is_ready(&self) -> bool {
        let expected = self.schema_version;
        self.call(move |conn| schema_version(conn).map(|found| found == expected))
            .await
            .unwrap_or(false)
    }

    /// Writes a consistent copy of the live database to `dest` (SQLite online backup: other
    /// connections keep reading and writing meanwhile). `dest` must not exist.
    pub fn backup_to(&self, dest: &Path) -> Result<(), DbError> {
        if dest.exists() {
            return Err(DbError::Sqlite(rusqlite::Error::InvalidPath(
                dest.to_owned(),
            )));
        }
        let conn = self.get()?;
        conn.backup(rusqlite::MAIN_DB, dest, None)?;
        Ok(())
    }
}

/// The schema version recorded in the file.
pub fn schema_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies the pending steps of `migrations`, each in its own transaction together with its
/// `user_version` bump, so a crash leaves the schema at a known step. Returns the versions
/// before and after.
///
/// Steps run with foreign keys off: SQLite changes a table's constraints only by rebuilding
/// it (create the new table, copy, drop the old one, rename), and enforced keys would refuse
/// the drop while other tables point at it. Every key is then checked before the step
/// commits (`PRAGMA foreign_key_check`), so a step can no more leave a dangling reference
/// than one run with the keys on.
pub fn migrate(
    conn: &mut Connection,
    migrations: Migrations,
    path: &Path,
) -> Result<(i64, i64), DbError> {
    let found = schema_version(conn)?;
    let supported = migrations.len() as i64;
    if found > supported {
        return Err(DbError::TooNew {
            path: path.display().to_string(),
            found,
            supported,
        });
    }
    if found == supported {
        return Ok((found, supported));
    }
    // The pragma is a no-op inside a transaction: it is set between the steps' transactions.
    conn.pragma_update(None, "foreign_keys", false)?;
    let applied = apply_steps(conn, migrations, found);
    conn.pragma_update(None, "foreign_keys", true)?;
    applied?;
    Ok((found, supported))
}

fn apply_steps(conn: &mut Connection, migrations: Migrations, found: i64) -> Result<(), DbError> {
    for (index, step) in migrations.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        let violations: Vec<(String, i64)> = tx
            .prepare("PRAGMA foreign_key_check")?
            .query_map([], |row| {
                Ok((row.get(0)?, row.get::<_, Option<i64>>(1)?.unwrap_or(0)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        if let Some((table, rowid)) = violations.first() {
            return Err(DbError::MigrationForeignKeys {
                version,
                violations: violations.len(),
                table: table.clone(),
                rowid: *rowid,
            });
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(db.version = version, "applied database migration");
    }
    Ok(())
}

/// Replaces the database at `db_path` with the backup at `backup` through SQLite's backup API
/// (which also resets the WAL). The caller must make sure no process has `db_path` open.
///
/// The backup API cannot change the page size of a database in WAL mode, and a backup may
/// have another page size than the database it replaces (one taken before [`PAGE_SIZE`]
/// changed, say): the database leaves WAL mode for the copy and goes back to it after.
pub fn restore(backup: &Path, db_path: &Path) -> Result<(), DbError> {
    let mut conn = Connection::open(db_path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    conn.restore(
        rusqlite::MAIN_DB,
        backup,
        None::<fn(rusqlite::backup::Progress)>,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: Migrations = &[
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        "ALTER TABLE t ADD COLUMN w TEXT;",
    ];

    #[tokio::test]
    async fn migrates_sets_pragmas_and_bridges() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let db = Db::open(&path, STEPS, 2).expect("opens");
        let (mode, fk): (String, i64) = db
            .call(|conn| {
                let mode = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
                let fk = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
                Ok::<_, DbError>((mode, fk))
            })
            .await
            .expect("query");
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
        assert!(db.is_ready().await);
        assert_eq!(
            schema_version(&db.get().expect("conn")).expect("version"),
            2
        );
    }

    #[test]
    fn refuses_a_newer_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        drop(Db::open(&path, STEPS, 1).expect("opens"));
        let err = Db::open(&path, &STEPS[..1], 1).expect_err("refused");
        assert!(
            matches!(
                err,
                DbError::TooNew {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("più recente di quella che questo programma conosce")
        );
        const THREE: Migrations = &[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
            "ALTER TABLE t ADD COLUMN w TEXT;",
            "SELECT 1;",
        ];
        let err = Db::open_existing(&path, THREE, 1).expect_err("old");
        assert!(matches!(err, DbError::NotMigrated { .. }));
    }

    #[test]
    fn a_step_may_rebuild_a_parent_table_but_not_leave_dangling_keys() {
        const PARENT_CHILD: &str =
            "CREATE TABLE p (id INTEGER PRIMARY KEY, k TEXT CHECK (k IN ('a', 'b', 'c')));
             CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES p(id));
             INSERT INTO p VALUES (1, 'a'); INSERT INTO c VALUES (1, 1);";
        // SQLite's documented rebuild: refused by enforced foreign keys at the DROP.
        const REBUILD: &str = "CREATE TABLE p_new (id INTEGER PRIMARY KEY, k TEXT CHECK (k = 'a' OR k = 'b' OR k = 'c'));
             INSERT INTO p_new SELECT * FROM p; DROP TABLE p; ALTER TABLE p_new RENAME TO p;";
        const DANGLING: &str = "DELETE FROM p;";
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let db = Db::open(&path, &[PARENT_CHILD, REBUILD], 1).expect("rebuilds");
        let conn = db.get().expect("conn");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .expect("pragma");
        assert_eq!(fk, 1, "keys are enforced again after the migration");
        let err = conn
            .execute("INSERT INTO c VALUES (2, 99)", [])
            .expect_err("the rebuilt parent is still referenced");
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        drop(conn);
        drop(db);

        let err = Db::open(&path, &[PARENT_CHILD, REBUILD, DANGLING], 1).expect_err("refused");
        assert!(
            matches!(
                err,
                DbError::MigrationForeignKeys { version: 3, violations: 1, ref table, rowid: 1 } if table == "c"
            ),
            "{err}"
        );
        let db = Db::open_existing(&path, &[PARENT_CHILD, REBUILD], 1).expect("still at 2");
        let parents: i64 = db
            .get()
            .expect("conn")
            .query_row("SELECT count(*) FROM p", [], |r| r.get(0))
            .expect("count");
        assert_eq!(parents, 1, "the refused step was rolled back");
    }

    #[test]
    fn backup_and_restore_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let db = Db::open(&path, STEPS, 1).expect("opens");
        db.get()
            .expect("conn")
            .execute("INSERT INTO t (v) VALUES ('kept')", [])
            .expect("insert");
        let backup = dir.path().join("backup.db");
        db.backup_to(&backup).expect("backup");
        assert!(db.backup_to(&backup).is_err(), "never overwrites");
        db.get()
            .expect("conn")
            .execute("DELETE FROM t", [])
            .expect("delete");
        drop(db);
        restore(&backup, &path).expect("restore");
        let db = Db::open_existing(&path, STEPS, 1).expect("reopens");
        let v: String = db
            .get()
            .expect("conn")
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .expect("row");
        assert_eq!(v, "kept");
    }

    #[test]
    fn new_databases_have_the_page_size_and_restore_takes_another() {
        let dir = tempfile::tempdir().expect("tempdir");
        let page_size = |path: &Path| -> i64 {
            Connection::open(path)
                .expect("open")
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .expect("page_size")
        };
        let path = dir.path().join("t.db");
        let db = Db::open(&path, STEPS, 1).expect("opens");
        drop(db);
        assert_eq!(page_size(&path), i64::from(PAGE_SIZE));

        // A backup written with SQLite's default page size (an older release's).
        let old = dir.path().join("old.db");
        let conn = Connection::open(&old).expect("old");
        conn.execute_batch(
            "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
             INSERT INTO t (v) VALUES ('from the old backup');
             PRAGMA user_version = 1;",
        )
        .expect("old database");
        drop(conn);
        let backup = dir.path().join("old-backup.db");
        Db::open_existing(&old, &STEPS[..1], 1)
            .expect("old opens")
            .backup_to(&backup)
            .expect("backup");
        assert_eq!(page_size(&backup), 4096);

        restore(&backup, &path).expect("restore into a database of another page size");
        assert_eq!(
            page_size(&path),
            4096,
            "the backup's page size comes with it"
        );
        let db = Db::open_existing(&path, &STEPS[..1], 1).expect("reopens");
        let conn = db.get().expect("conn");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        let v: String = conn
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .expect("row");
        assert_eq!(v, "from the old backup");
    }

    #[test]
    fn transactions_take_the_write_lock_when_they_begin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db =
            Db::open(&dir.path().join("t.db"), &["CREATE TABLE t (x INTEGER)"], 2).expect("open");
        let mut first = db.get().expect("first");
        let second = db.get().expect("second");
        let tx = first.transaction().expect("begin");
        // While `tx` is open (even before it writes), no other connection can start writing.
        second
            .busy_timeout(std::time::Duration::from_millis(10))
            .expect("timeout");
        let refused = second.execute("INSERT INTO t VALUES (1)", []);
        assert!(
            refused.is_err(),
            "the first transaction must hold the write lock"
        );
        tx.execute("INSERT INTO t VALUES (2)", []).expect("write");
        tx.commit().expect("commit");
        second
            .execute("INSERT INTO t VALUES (3)", [])
            .expect("free again");
    }
}
