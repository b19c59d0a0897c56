//! The Provinces contributing to a national dataset, each with what a dashboard computes from
//! its rows, computed once per push.
//!
//! A dashboard of the national view (SUA's cube, SAPE's holdings…) reads each Province's rows
//! of its dataset and builds a structure from them. A Province's push changes the hash of its
//! last entry, so the structure is kept with that hash and rebuilt only when the hash moves:
//! the cache holds one structure per Province and never a stale one. (A process running
//! several hubs, as the tests do, shares the entries: an equal hash names the same hash-linked
//! chain of entries, so the same rows.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::DbError;

/// A Province contributing to a dataset, with the structure built from its rows.
#[derive(Debug)]
pub struct Contributor<T> {
    /// ISTAT code of the Province.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// What the dashboard built from its rows.
    pub data: Arc<T>,
}

/// Per (dataset id, Province code): the hash of the last entry reflected, and the structure.
type Cached<T> = BTreeMap<(i64, String), (Vec<u8>, Arc<T>)>;

/// The structures of one dashboard, per (dataset, Province), with the entry hash each reflects.
/// Made as a `static`: `static CUBES: Contributions<Cube> = Contributions::new();`.
#[derive(Debug)]
pub struct Contributions<T> {
    cache: Mutex<Cached<T>>,
}

impl<T> Default for Contributions<T> {
    fn default() -> Contributions<T> {
        Contributions::new()
    }
}

impl<T> Contributions<T> {
    /// An empty cache.
    pub const fn new() -> Contributions<T> {
        Contributions {
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every contributor to `dataset` whose rows have primary key `primary_key` (a JSON array
    /// of column names, as `dataset_contributions` stores it: a Province whose dataset of
    /// that name has another key is left out), of `province` only if given, in code order,
    /// building with `build(conn, dataset_id, province)` the structures missing or stale.
    pub fn contributors(
        &self,
        conn: &Connection,
        dataset: &str,
        primary_key: &str,
        province: Option<&str>,
        build: impl Fn(&Connection, i64, &str) -> Result<T, DbError>,
    ) -> Result<Vec<Contributor<T>>, DbError> {
        let mut stmt = conn.prepare_cached(
            "SELECT c.dataset_id, c.province, c.last_entry_hash, p.name, p.region
             FROM datasets d JOIN dataset_contributions c ON c.dataset_id = d.id
             JOIN provinces p ON p.code = c.province
             WHERE d.name = ?1 AND c.primary_key = ?3 AND (?2 IS NULL OR c.province = ?2)
             ORDER BY c.province",
        )?;
        let found = stmt
            .query_map(rusqlite::params![dataset, province, primary_key], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(found.len());
        for (dataset_id, code, hash, name, region) in found {
            let key = (dataset_id, code.clone());
            let cached = self
                .lock()
                .get(&key)
                .filter(|(seen, _)| *seen == hash)
                .map(|(_, data)| Arc::clone(data));
            let data = match cached {
                Some(data) => data,
                None => {
                    let data = Arc::new(build(conn, dataset_id, &code)?);
                    self.lock().insert(key, (hash, Arc::clone(&data)));
                    data
                }
            };
            out.push(Contributor {
                code,
                name,
                region,
                data,
            });
        }
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached<T>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Calls `each` with the JSON text of every row of `province` in `dataset_id`, in key order (a
/// range of the rows index): how a dashboard reads one Province's rows to build its structure.
pub fn each_row(
    conn: &Connection,
    dataset_id: i64,
    province: &str,
    mut each: impl FnMut(&str),
) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM dataset_rows WHERE dataset_id = ?1 AND province = ?2 ORDER BY pk",
    )?;
    let mut rows = stmt.query(rusqlite::params![dataset_id, province])?;
    while let Some(row) = rows.next()? {
        let data = row
            .get_ref(0)?
            .as_str()
            .map_err(|e| super::corrupt("dataset_rows", e))?;
        each(data);
    }
    Ok(())
}
