//! The national view of federated datasets: applying batches and reading rows and aggregates.
//!
//! All datasets share one row table keyed `(dataset, province, pk)`. A batch from one Province
//! only touches that Province's key range, so the unique index stays cache-friendly however many
//! rows are stored (DESIGN.md §5), and rows are appended to the rowid table. Every row records
//! the seq and entry hash of the entry that last wrote it: any value can be traced to a signed
//! entry. Row counts per (dataset, province) are maintained on write, so the dashboard never
//! counts rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pico_protocol::payload::{DatasetBatch, FieldValue};
use pico_protocol::{Hash32, ProvinceCode};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::Serialize;

use super::{DbError, corrupt};

/// The field whose value, when a dataset has it, is indexed as the row's Comune.
const COMUNE_FIELD: &str = "comune";

/// Writes a JSON value of a field (serde_json never fails on these).
fn push_json(out: &mut String, value: &FieldValue) {
    match value {
        FieldValue::Null => out.push_str("null"),
        FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        FieldValue::Int(n) => {
            let _ = write!(out, "{n}");
        }
        FieldValue::Text(text) => {
            out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "null".into()));
        }
    }
}

fn dataset_id(conn: &Connection, name: &str) -> Result<i64, DbError> {
    if let Some(id) = conn
        .prepare_cached("SELECT id FROM datasets WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?
    {
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO datasets (name, created_at) VALUES (?1, ?2)",
        params![name, super::now_unix()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// What applying a batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchEffect {
    /// Rows that did not exist before.
    pub inserted: u64,
    /// Rows replaced.
    pub updated: u64,
    /// Rows removed (deletes and rows left out of a completed snapshot).
    pub deleted: u64,
    /// The batch completed a snapshot with no rows: the Province withdrew the dataset and no
    /// longer contributes to it.
    pub withdrawn: bool,
}

/// A row ready for the table: where its key text, Comune and JSON object are in
/// [`PreparedRows::text`].
#[derive(Debug, Clone)]
struct PreparedRow {
    pk: Range<usize>,
    comune: Option<Range<usize>>,
    data: Range<usize>,
}

/// A batch's rows turned into the text the table stores. Building it is CPU work that needs no
/// database, so ingest does it while verifying, in parallel, and the single writer only
/// inserts. All the text is in one buffer: many pushes wait for the writer at once, and
/// three small strings per row would cost more in allocations than in text.
#[derive(Debug, Clone)]
pub struct PreparedRows {
    text: String,
    upserts: Vec<PreparedRow>,
    deletes: Vec<Range<usize>>,
}

impl PreparedRows {
    fn at(&self, range: &Range<usize>) -> &str {
        self.text.get(range.clone()).unwrap_or_default()
    }
}

/// Appends `write`'s output to `text` and returns where it is.
fn push_range(text: &mut String, write: impl FnOnce(&mut String)) -> Range<usize> {
    let start = text.len();
    write(text);
    start..text.len()
}

/// Appends the stored key of a row, a JSON array of its primary-key values.
fn push_pk<'a>(text: &mut String, values: impl Iterator<Item = &'a FieldValue>) -> Range<usize> {
    push_range(text, |out| {
        out.push('[');
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json(out, value);
        }
        out.push(']');
    })
}

/// Prepares the rows of a (verified) batch.
pub fn prepare(batch: &DatasetBatch) -> PreparedRows {
    let keys = batch.key_positions();
    let comune_at = batch.fields.iter().position(|f| f == COMUNE_FIELD);
    let names: usize = batch.fields.iter().map(|f| f.len() + 4).sum();
    let mut text =
        String::with_capacity(batch.upserts.len() * (names + 64 + 16 * batch.fields.len()));
    let mut upserts = Vec::with_capacity(batch.upserts.len());
    for row in &batch.upserts {
        let data = push_range(&mut text, |data| {
            data.push('{');
            for (i, (field, value)) in batch.fields.iter().zip(row).enumerate() {
                if i > 0 {
                    data.push(',');
                }
                // Field names are checked by the protocol to be [a-z0-9_]: no escaping needed.
                data.push('"');
                data.push_str(field);
                data.push_str("\":");
                push_json(data, value);
            }
            data.push('}');
        });
        let pk = push_pk(&mut text, keys.iter().map(|&k| &row[k]));
        let comune = comune_at.and_then(|i| match &row[i] {
            FieldValue::Text(value) => Some(push_range(&mut text, |out| out.push_str(value))),
            _ => None,
        });
        upserts.push(PreparedRow { pk, comune, data });
    }
    let deletes = batch
        .deletes
        .iter()
        .map(|key| push_pk(&mut text, key.iter()))
        .collect();
    PreparedRows {
        text,
        upserts,
        deletes,
    }
}

/// Applies a verified dataset batch of `province`'s entry `seq` (inside the entry's
/// transaction); `prepared` is [`prepare`] of the same batch.
pub fn apply_batch(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
    entry_hash: &Hash32,
    batch: &DatasetBatch,
    prepared: &PreparedRows,
) -> Result<BatchEffect, DbError> {
    let id = dataset_id(conn, &batch.dataset)?;
    let snapshot = batch.snapshot.as_ref().map(|s| s.id.as_str());
    let hash = entry_hash.as_bytes().as_slice();
    let mut effect = BatchEffect::default();

    // Insert first and update only on conflict: new rows (the common case) cost one statement,
    // and the two counts keep `row_count` exact without counting rows.
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO dataset_rows
             (dataset_id, province, pk, comune, data, seq, entry_hash, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut update = conn.prepare_cached(
        "UPDATE dataset_rows SET comune = ?4, data = ?5, seq = ?6, entry_hash = ?7, snapshot = ?8
         WHERE dataset_id = ?1 AND province = ?2 AND pk = ?3",
    )?;
    for row in &prepared.upserts {
        let values = params![
            id,
            province.as_str(),
            prepared.at(&row.pk),
            row.comune.as_ref().map(|range| prepared.at(range)),
            prepared.at(&row.data),
            seq as i64,
            hash,
            snapshot
        ];
        if insert.execute(values)? == 1 {
            effect.inserted += 1;
        } else {
            update.execute(values)?;
            effect.updated += 1;
        }
    }
    let mut delete = conn.prepare_cached(
        "DELETE FROM dataset_rows WHERE dataset_id = ?1 AND province = ?2 AND pk = ?3",
    )?;
    for key in &prepared.deletes {
        effect.deleted += delete.execute(params![id, province.as_str(), prepared.at(key)])? as u64;
    }
    let completes_snapshot = batch
        .snapshot
        .as_ref()
        .is_some_and(|part| part.part == part.parts);
    if let Some(part) = batch.snapshot.as_ref().filter(|_| completes_snapshot) {
        // The last part completes the snapshot: what it did not (re)write is gone.
        effect.deleted += conn.execute(
            "DELETE FROM dataset_rows WHERE dataset_id = ?1 AND province = ?2
                 AND snapshot IS NOT ?3",
            params![id, province.as_str(), part.id],
        )? as u64;
    }
    let delta = effect.inserted as i64 - effect.deleted as i64;
    if completes_snapshot {
        let before: i64 = conn
            .prepare_cached(
                "SELECT row_count FROM dataset_contributions WHERE dataset_id = ?1 AND province = ?2",
            )?
            .query_row(params![id, province.as_str()], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        if before + delta <= 0 {
            // A complete snapshot with no rows is the Province withdrawing the dataset
            // (SPEC §8.1): it no longer contributes, so it leaves the list, the totals and the
            // aggregates instead of staying as a contributor of zero rows.
            conn.prepare_cached(
                "DELETE FROM dataset_contributions WHERE dataset_id = ?1 AND province = ?2",
            )?
            .execute(params![id, province.as_str()])?;
            effect.withdrawn = true;
            return Ok(effect);
        }
    }
    let fields = serde_json::to_string(&batch.fields).map_err(|e| corrupt("datasets", e))?;
    let primary_key =
        serde_json::to_string(&batch.primary_key).map_err(|e| corrupt("datasets", e))?;
    conn.prepare_cached(
        "INSERT INTO dataset_contributions (dataset_id, province, schema_version, fields,
             primary_key, row_count, last_seq, last_entry_hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, max(?6, 0), ?7, ?8, ?9)
         ON CONFLICT (dataset_id, province) DO UPDATE SET
             schema_version = excluded.schema_version, fields = excluded.fields,
             primary_key = excluded.primary_key, row_count = max(row_count + ?6, 0),
             last_seq = excluded.last_seq, last_entry_hash = excluded.last_entry_hash,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        id,
        province.as_str(),
        batch.schema_version,
        fields,
        primary_key,
        delta,
        seq as i64,
        hash,
        super::now_unix()
    ])?;
    Ok(effect)
}

/// One Province's contribution to a dataset.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contribution {
    /// Province code.
    pub province: String,
    /// Schema version of its last batch.
    pub schema_version: u32,
    /// Rows it currently has in the national view.
    pub rows: u64,
    /// Seq of the entry that last changed it.
    pub last_seq: u64,
    /// Hash of that entry.
    pub last_entry_hash: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// A dataset of the national view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DatasetInfo {
    /// Dataset name.
    pub name: String,
    /// Field names (of the most recent contribution).
    pub fields: Vec<String>,
    /// Primary-key field names.
    pub primary_key: Vec<String>,
    /// Total rows.
    pub rows: u64,
    /// Who contributes and how fresh each is.
    pub contributors: Vec<Contribution>,
}

/// Every dataset with its schema and contributors.
pub fn list_datasets(conn: &Connection) -> Result<Vec<DatasetInfo>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT d.name, c.province, c.schema_version, c.fields, c.primary_key, c.row_count,
                c.last_seq, c.last_entry_hash, c.updated_at
         FROM datasets d JOIN dataset_contributions c ON c.dataset_id = d.id
         ORDER BY d.name, c.province",
    )?;
    let mut out: Vec<DatasetInfo> = Vec::new();
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let updated_at: i64 = row.get(8)?;
        let fields: Vec<String> =
            serde_json::from_str(&row.get::<_, String>(3)?).map_err(|e| corrupt("datasets", e))?;
        let primary_key: Vec<String> =
            serde_json::from_str(&row.get::<_, String>(4)?).map_err(|e| corrupt("datasets", e))?;
        let contribution = Contribution {
            province: row.get(1)?,
            schema_version: row.get(2)?,
            rows: row.get::<_, i64>(5)? as u64,
            last_seq: row.get::<_, i64>(6)? as u64,
            last_entry_hash: hex::encode(row.get::<_, Vec<u8>>(7)?),
            updated_at: super::rfc3339(updated_at),
        };
        if out.last().is_none_or(|d| d.name != name) {
            out.push(DatasetInfo {
                name: name.clone(),
                fields: Vec::new(),
                primary_key: Vec::new(),
                rows: 0,
                contributors: Vec::new(),
            });
        }
        if let Some(dataset) = out.last_mut() {
            let newest = latest.entry(name).or_insert(i64::MIN);
            if updated_at >= *newest {
                *newest = updated_at;
                dataset.fields = fields;
                dataset.primary_key = primary_key;
            }
            dataset.rows += contribution.rows;
            dataset.contributors.push(contribution);
        }
    }
    Ok(out)
}

/// A filter over a dataset's rows.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    /// Only this Province.
    pub province: Option<String>,
    /// Only this Comune (ISTAT code).
    pub comune: Option<String>,
    /// Fields that must equal a value (compared as text; booleans are `true`/`false`).
    pub fields: Vec<(String, String)>,
    /// Keyset cursor: rows strictly after (province, pk).
    pub after: Option<(String, String)>,
    /// Page size.
    pub limit: u32,
}

/// A row of the national view with its provenance.
#[derive(Debug, Clone)]
pub struct NationalRow {
    /// Province that sent it.
    pub province: String,
    /// Primary-key text (JSON array), the row's cursor within its Province.
    pub pk: String,
    /// Field values, a JSON object.
    pub data: String,
    /// Seq of the entry that last wrote it.
    pub seq: u64,
    /// Hash of that entry.
    pub entry_hash: String,
}

/// Whether `name` is a valid dataset or field name (the protocol's rule).
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 64
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// One page of rows in (province, pk) order, or `None` when the dataset does not exist.
pub fn query_rows(
    conn: &Connection,
    dataset: &str,
    filter: &RowFilter,
) -> Result<Option<Vec<NationalRow>>, DbError> {
    let Some(id) = conn
        .query_row("SELECT id FROM datasets WHERE name = ?1", [dataset], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut sql = String::from(
        "SELECT province, pk, data, seq, entry_hash FROM dataset_rows WHERE dataset_id = ?",
    );
    let mut args: Vec<Value> = vec![Value::Integer(id)];
    if let Some(comune) = &filter.comune {
        sql.push_str(" AND comune = ?");
        args.push(Value::Text(comune.clone()));
    }
    if let Some(province) = &filter.province {
        sql.push_str(" AND province = ?");
        args.push(Value::Text(province.clone()));
    }
    for (field, value) in &filter.fields {
        if !valid_name(field) {
            continue;
        }
        sql.push_str(" AND CAST(json_extract(data, ?) AS TEXT) = ?");
        args.push(Value::Text(format!("$.{field}")));
        args.push(Value::Text(match value.as_str() {
            "true" => "1".into(),
            "false" => "0".into(),
            other => other.to_owned(),
        }));
    }
    if let Some((province, pk)) = &filter.after {
        sql.push_str(" AND (province, pk) > (?, ?)");
        args.push(Value::Text(province.clone()));
        args.push(Value::Text(pk.clone()));
    }
    sql.push_str(" ORDER BY province, pk LIMIT ?");
    args.push(Value::Integer(i64::from(filter.limit)));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |row| {
        Ok(NationalRow {
            province: row.get(0)?,
            pk: row.get(1)?,
            data: row.get(2)?,
            seq: row.get::<_, i64>(3)? as u64,
            entry_hash: hex::encode(row.get::<_, Vec<u8>>(4)?),
        })
    })?;
    Ok(Some(rows.collect::<Result<_, _>>()?))
}

/// How to group an aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// By Province code.
    Province,
    /// By region name.
    Region,
    /// By `YYYY-MM` of a date field.
    Month,
}

/// One group of an aggregate.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AggregateRow {
    /// Province code, region name or month.
    pub key: String,
    /// Rows in the group.
    pub count: u64,
    /// Exact decimal sum of the requested field, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
}

/// Count (and optionally sum a decimal field) by Province, region or month.
///
/// A plain count by Province or region reads the maintained counts, never the rows. Sums and
/// months combine per-Province partials from [`AggregateCache`]: only the Provinces whose data
/// changed since the last such query are read again, each as a range of the rows index.
pub fn aggregate(
    conn: &Connection,
    cache: &AggregateCache,
    dataset: &str,
    group: GroupBy,
    sum_field: Option<&str>,
    date_field: Option<&str>,
) -> Result<Option<Vec<AggregateRow>>, DbError> {
    let Some(id) = conn
        .query_row("SELECT id FROM datasets WHERE name = ?1", [dataset], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    let sum_field = sum_field.filter(|f| valid_name(f));
    if sum_field.is_none() && group != GroupBy::Month {
        let key = if group == GroupBy::Province {
            "c.province"
        } else {
            "p.region"
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT {key}, sum(c.row_count) FROM dataset_contributions c
             JOIN provinces p ON p.code = c.province
             WHERE c.dataset_id = ?1 GROUP BY 1 ORDER BY 1"
        ))?;
        let rows = stmt.query_map([id], |row| {
            Ok(AggregateRow {
                key: row.get(0)?,
                count: row.get::<_, i64>(1)? as u64,
                sum: None,
            })
        })?;
        return Ok(Some(rows.collect::<Result<_, _>>()?));
    }
    let partial_key = match group {
        GroupBy::Month => {
            let field = date_field.filter(|f| valid_name(f)).unwrap_or("data");
            format!("coalesce(substr(json_extract(data, '$.{field}'), 1, 7), '')")
        }
        GroupBy::Province | GroupBy::Region => "''".to_owned(),
    };
    let sum_sql = sum_field
        .map(|f| format!("CAST(json_extract(data, '$.{f}') AS TEXT)"))
        .unwrap_or_else(|| "NULL".into());
    let scan_sql = format!(
        "SELECT {partial_key}, {sum_sql} FROM dataset_rows WHERE dataset_id = ?1 AND province = ?2"
    );
    let mut contributions = conn.prepare_cached(
        "SELECT c.province, c.last_seq, p.region FROM dataset_contributions c
         JOIN provinces p ON p.code = c.province WHERE c.dataset_id = ?1",
    )?;
    let contributions = contributions
        .query_map([id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut groups: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    for (province, last_seq, region) in contributions {
        let key = CacheKey {
            dataset: id,
            province: province.clone(),
            scan: scan_sql.clone(),
        };
        let partial = match cache.get(&key, last_seq) {
            Some(partial) => partial,
            None => {
                let partial = scan_province(conn, &scan_sql, id, &province, cache)?;
                cache.put(key, last_seq, partial.clone());
                partial
            }
        };
        for (sub_key, (count, sum)) in partial.iter() {
            let group_key = match group {
                GroupBy::Province => province.clone(),
                GroupBy::Region => region.clone(),
                GroupBy::Month => sub_key.clone(),
            };
            let group = groups.entry(group_key).or_default();
            group.0 += count;
            group.1.add(*sum);
        }
    }
    Ok(Some(
        groups
            .into_iter()
            .map(|(key, (count, sum))| AggregateRow {
                key,
                count,
                sum: sum_field.map(|_| sum.to_string()),
            })
            .collect(),
    ))
}

/// One Province's part of an aggregate: sub-key (month, or `""`) to (count, sum).
type Partial = Arc<BTreeMap<String, (u64, Decimal)>>;

/// Reads one Province's rows of a dataset (a range of the `(dataset_id, province, pk)` index,
/// never the whole table) into its partial aggregate.
fn scan_province(
    conn: &Connection,
    sql: &str,
    dataset: i64,
    province: &str,
    cache: &AggregateCache,
) -> Result<Partial, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![dataset, province])?;
    let mut partial: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    let mut scanned = 0u64;
    while let Some(row) = rows.next()? {
        scanned += 1;
        let key: String = row.get(0)?;
        let value: Option<String> = row.get(1)?;
        let group = partial.entry(key).or_default();
        group.0 += 1;
        if let Some(value) = value.as_deref().and_then(Decimal::parse) {
            group.1.add(value);
        }
    }
    cache.scanned.fetch_add(scanned, Ordering::Relaxed);
    Ok(Arc::new(partial))
}

/// Which partial aggregate: a dataset, a Province, and the scan that computes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CacheKey {
    dataset: i64,
    province: String,
    scan: String,
}

/// Per-Province partial aggregates, each valid while its Province's `last_seq` for the dataset
/// is unchanged. Dashboards ask for sums and months repeatedly; after a push only the pushing
/// Province's rows are read again, so no query ever scans the whole national table. It lives in
/// memory: after a restart the first query of each kind recomputes it.
#[derive(Debug, Default)]
pub struct AggregateCache {
    entries: std::sync::Mutex<BTreeMap<CacheKey, (i64, Partial)>>,
    scanned: AtomicU64,
}

/// Partials kept at most; past this the cache starts again (queries name arbitrary fields).
const AGGREGATE_CACHE_ENTRIES: usize = 20_000;

impl AggregateCache {
    fn get(&self, key: &CacheKey, last_seq: i64) -> Option<Partial> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(key)
            .filter(|(seq, _)| *seq == last_seq)
            .map(|(_, partial)| Arc::clone(partial))
    }

    fn put(&self, key: CacheKey, last_seq: i64, partial: Partial) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= AGGREGATE_CACHE_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (last_seq, partial));
    }

    /// Rows read to compute aggregates since start (for tests and metrics).
    pub fn rows_scanned(&self) -> u64 {
        self.scanned.load(Ordering::Relaxed)
    }
}

/// An exact decimal for sums of money: an integer of units of 10^-`scale`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Decimal {
    units: i128,
    scale: u32,
}

impl Decimal {
    /// Parses `-123.45`-style text; anything else is not summed.
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty()
            || frac.len() > 12
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let units: i128 = format!("{int}{frac}").parse().ok()?;
        Some(Decimal {
            units: if negative { -units } else { units },
            scale: frac.len() as u32,
        })
    }

    fn rescale(self, scale: u32) -> Option<i128> {
        self.units
            .checked_mul(10i128.checked_pow(scale - self.scale)?)
    }

    /// Adds `other`; a sum that would overflow 128 bits (values no register holds) is left
    /// unchanged rather than wrapped.
    fn add(&mut self, other: Decimal) {
        let scale = self.scale.max(other.scale);
        if let Some(units) = self
            .rescale(scale)
            .zip(other.rescale(scale))
            .and_then(|(a, b)| a.checked_add(b))
        {
            self.units = units;
            self.scale = scale;
        }
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let abs = self.units.unsigned_abs();
        if self.scale == 0 {
            return write!(f, "{sign}{abs}");
        }
        let pow = 10u128.pow(self.scale);
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / pow,
            abs % pow,
            width = self.scale as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn decimal_sums_are_exact() {
        let mut sum = Decimal::default();
        for text in ["0.10", "0.20", "100", "-0.3", "x", "1e3"] {
            if let Some(d) = Decimal::parse(text) {
                sum.add(d);
            }
        }
        assert_eq!(sum.to_string(), "100.00");
    }
}
