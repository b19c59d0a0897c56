//! Operations that change datasets, each one SQLite transaction: the rows, the audit record
//! and, for a `national` dataset, the signed entries describing the change (the
//! transactional outbox). Used by the API and the command line alike.
//!
//! Publication: turning a dataset `national` writes a full snapshot (parts of at most 10,000
//! rows and 4 MiB); afterwards each change writes deltas with only the inserted or changed
//! rows (upserts) and the removed keys (deletes). Redefining the schema writes a new snapshot.
//! Turning it back `off` writes the withdrawal: an empty snapshot, after which the hub holds
//! none of this Province's rows of the dataset.

use std::collections::BTreeSet;

use pico_protocol::ComuneCode;
use pico_protocol::limits::{MAX_ENTRY_BYTES, MAX_RECORDS_PER_BATCH};
use pico_protocol::payload::{COMUNE_FIELD, DatasetBatch, FieldValue, Payload, SnapshotPart};
use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;
use serde_json::json;

use super::csv_import::{self, CsvErrors};
use super::{Dataset, Federation, derived_by, valid_name};
use crate::db::audit::{self, Actor};
use crate::db::federation::{self as outbox, Appended, OutboxError};
use crate::db::{self, datasets};
use crate::federation::Signer;

/// Body bytes an entry may use: the limit minus room for the JWS members and field list.
const BODY_BUDGET: usize = MAX_ENTRY_BYTES - 64 * 1024;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DatiError {
    /// No such dataset.
    #[error("nessun dataset si chiama {0:?}")]
    NotFound(String),
    /// Invalid input (the CSV's problems, with line numbers).
    #[error("{0}")]
    Invalid(String),
    /// Invalid metadata: each field with what to do, in Italian.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Fields(Vec<pico_protocol::dcat::FieldProblem>),
    /// The change could not be published (blocked, signing).
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// Database failure.
    #[error("errore del database: {0}")]
    Db(#[from] rusqlite::Error),
}

impl From<CsvErrors> for DatiError {
    fn from(errors: CsvErrors) -> DatiError {
        DatiError::Invalid(errors.to_string())
    }
}

impl From<pico_service::DbError> for DatiError {
    fn from(err: pico_service::DbError) -> DatiError {
        match err {
            pico_service::DbError::Sqlite(err) => DatiError::Db(err),
            other => DatiError::Invalid(other.to_string()),
        }
    }
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// Dataset name.
    pub name: String,
    /// Title (defaults to the name for a new dataset; kept otherwise).
    pub title: Option<String>,
    /// Primary-key field names (required for a new dataset or with `replace`).
    pub key: Option<Vec<String>>,
    /// The CSV file.
    pub csv: Vec<u8>,
    /// Replace the whole content (rows not in the file are deleted) and allow a new schema.
    pub replace: bool,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = DatasetImportReport)]
pub struct ImportReport {
    /// Dataset name.
    pub dataset: String,
    /// Schema version after the import.
    pub schema_version: u32,
    /// Rows in the file.
    pub rows: u64,
    /// Rows that were new.
    pub inserted: u64,
    /// Rows whose values changed.
    pub updated: u64,
    /// Rows identical to the stored ones.
    pub unchanged: u64,
    /// Rows removed (only with replace).
    pub deleted: u64,
    /// Seqs of the entries written to the outbox (empty unless federated).
    pub entries: Vec<u64>,
    /// Wire bytes of those entries.
    pub entry_bytes: u64,
}

/// Refuses to write by hand into a dataset another module derives.
fn refuse_derived(name: &str) -> Result<(), DatiError> {
    match derived_by(name) {
        Some(module) => Err(DatiError::Invalid(format!(
            "il dataset {name:?} è ricavato dal modulo {module} dai suoi dati e non si può \
             importare né modificare a mano: cambiare i dati nel modulo {module} (anche con la \
             sua importazione) e il dataset si aggiorna di conseguenza"
        ))),
        None => Ok(()),
    }
}

fn begin(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    // Immediate: the dataset read and the writes see one state, whoever else writes.
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Imports a CSV file (all or nothing), publishing the change when the dataset is federated.
pub fn import(
    conn: &mut Connection,
    signer: &Signer,
    actor: &Actor,
    request: &ImportRequest,
) -> Result<ImportReport, DatiError> {
    if !valid_name(&request.name) {
        return Err(DatiError::Invalid(format!(
            "il nome del dataset {:?} deve avere da 1 a 64 lettere minuscole, cifre o '_' e cominciare con una lettera",
            request.name
        )));
    }
    refuse_derived(&request.name)?;
    let tx = begin(conn)?;
    let now = db::now();
    let existing = datasets::get(&tx, &request.name)?;
    let parsed = match &existing {
        Some(dataset) if !request.replace => {
            csv_import::parse(&request.csv, request.key.as_deref(), Some(dataset))?
        }
        // A replacement keeps the schema whenever the file fits it (so that the change
        // travels as a delta), and defines a new one otherwise.
        Some(dataset) => csv_import::parse(&request.csv, request.key.as_deref(), Some(dataset))
            .or_else(|_| {
                let key = request.key.as_deref().unwrap_or(&dataset.primary_key);
                csv_import::parse(&request.csv, Some(key), None)
            })?,
        None => csv_import::parse(&request.csv, request.key.as_deref(), None)?,
    };
    let mut dataset = match existing.clone() {
        Some(mut dataset) => {
            if dataset.fields != parsed.fields || dataset.primary_key != parsed.primary_key {
                dataset.schema_version += 1;
            }
            dataset
        }
        None => Dataset {
            name: request.name.clone(),
            title: String::new(),
            fields: Vec::new(),
            primary_key: Vec::new(),
            schema_version: 1,
            federation: Federation::Off,
            row_count: 0,
            created_at: now,
            updated_at: now,
        },
    };
    let schema_changed = existing
        .as_ref()
        .is_some_and(|old| old.schema_version != dataset.schema_version);
    if let Some(title) = request.title.as_ref().filter(|t| !t.trim().is_empty()) {
        title.trim().clone_into(&mut dataset.title);
    } else if dataset.title.is_empty() {
        dataset.title.clone_from(&dataset.name);
    }
    dataset.fields = parsed.fields;
    dataset.primary_key = parsed.primary_key;
    dataset.updated_at = now;

    let mut report = ImportReport {
        dataset: dataset.name.clone(),
        rows: parsed.rows.len() as u64,
        ..ImportReport::default()
    };
    let mut upserts: Vec<String> = Vec::new();
    let mut deletes: Vec<String> = Vec::new();
    // The definition first: rows reference it.
    datasets::put(&tx, &dataset)?;
    if schema_changed {
        // A new schema: old rows are not comparable, start over.
        report.deleted = datasets::delete_all_rows(&tx, &dataset.name)? as u64;
    }
    let fresh = existing.is_none() || schema_changed;
    for row in &parsed.rows {
        let old = if fresh {
            None
        } else {
            datasets::row_data(&tx, &dataset.name, &row.pk)?
        };
        match old {
            Some(old) if old == row.data => {
                report.unchanged += 1;
                continue;
            }
            Some(_) => report.updated += 1,
            None => report.inserted += 1,
        }
        datasets::put_row(&tx, &dataset.name, &row.pk, &row.data)?;
        upserts.push(row.data.clone());
    }
    if request.replace && !fresh {
        let keep: BTreeSet<&str> = parsed.rows.iter().map(|row| row.pk.as_str()).collect();
        for pk in datasets::pks(&tx, &dataset.name)? {
            if !keep.contains(pk.as_str()) {
                datasets::delete_row(&tx, &dataset.name, &pk)?;
                deletes.push(pk);
            }
        }
        report.deleted += deletes.len() as u64;
    }
    dataset.row_count = datasets::count_rows(&tx, &dataset.name)?;
    datasets::put(&tx, &dataset)?;
    report.schema_version = dataset.schema_version;
    if dataset.federation == Federation::National {
        let appended = if schema_changed {
            emit_snapshot(&tx, signer, &dataset)?
        } else {
            emit_delta(&tx, signer, &dataset, &upserts, &deletes)?
        };
        report.entries = appended.iter().map(|a| a.seq).collect();
        report.entry_bytes = appended.iter().map(|a| a.bytes as u64).sum();
    }
    audit::record(
        &tx,
        actor,
        "dataset.import",
        &format!("dataset:{}", dataset.name),
        &json!({"rows": report.rows, "inserted": report.inserted, "updated": report.updated,
                "deleted": report.deleted, "replace": request.replace, "entries": report.entries}),
        now,
    )?;
    tx.commit()?;
    Ok(report)
}

/// The outcome of a federation change or deletion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeReport {
    /// Dataset name.
    pub dataset: String,
    /// Federation setting after the change.
    pub federation: Federation,
    /// Rows removed (deletions only).
    pub deleted: u64,
    /// Seqs of the entries written to the outbox.
    pub entries: Vec<u64>,
}

/// Sets a dataset's federation. Turning it `national` publishes a full snapshot; turning it
/// back `off` publishes the withdrawal (an empty snapshot, SPEC §8.1), in the same
/// transaction, so the hub drops this Province's rows of it.
pub fn set_federation(
    conn: &mut Connection,
    signer: &Signer,
    actor: &Actor,
    name: &str,
    federation: Federation,
    org: &pico_protocol::dcat::Agent,
) -> Result<ChangeReport, DatiError> {
    let tx = begin(conn)?;
    let mut dataset =
        datasets::get(&tx, name)?.ok_or_else(|| DatiError::NotFound(name.to_owned()))?;
    let mut entries = Vec::new();
    if dataset.federation != federation {
        dataset.federation = federation;
        dataset.updated_at = db::now();
        let derived = crate::modules::derived_dataset(crate::modules::ALL, name);
        // A derived dataset keeps rows only while published: built here, dropped on leaving.
        match (federation, derived) {
            (Federation::National, Some(derived)) => {
                dataset.row_count = (derived.materialise)(&tx)?;
            }
            (Federation::Off, Some(_)) => {
                datasets::delete_all_rows(&tx, name)?;
                dataset.row_count = 0;
            }
            _ => {}
        }
        datasets::put(&tx, &dataset)?;
        let mut appended = match federation {
            Federation::National => emit_snapshot(&tx, signer, &dataset)?,
            Federation::Off => vec![emit_withdrawal(&tx, signer, &dataset)?],
        };
        // The metadata travel with the dataset (SPEC §8.6): after its rows, when it has any.
        if federation == Federation::National
            && let Some(json) = datasets::metadata(&tx, name)?
            && let Ok(form) = serde_json::from_str::<super::dcat::MetadataForm>(&json)
        {
            let metadata = super::dcat::payload(&dataset, &form, org);
            appended.push(emit_metadata(&tx, signer, metadata)?);
        }
        entries = appended.iter().map(|a| a.seq).collect();
        audit::record(
            &tx,
            actor,
            "dataset.federation",
            &format!("dataset:{name}"),
            &json!({"federation": federation.as_str(), "entries": entries}),
            db::now(),
        )?;
    }
    tx.commit()?;
    Ok(ChangeReport {
        dataset: name.to_owned(),
        federation,
        deleted: 0,
        entries,
    })
}

/// Deletes rows by key (each key: the primary-key cells as text, in key order).
pub fn delete_rows(
    conn: &mut Connection,
    signer: &Signer,
    actor: &Actor,
    name: &str,
    keys: &[Vec<String>],
) -> Result<ChangeReport, DatiError> {
    refuse_derived(name)?;
    let tx = begin(conn)?;
    let mut dataset =
        datasets::get(&tx, name)?.ok_or_else(|| DatiError::NotFound(name.to_owned()))?;
    let positions = dataset.key_positions();
    let mut deleted = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if key.len() != positions.len() {
            return Err(DatiError::Invalid(format!(
                "la chiave {i} deve avere {} valori ({:?})",
                positions.len(),
                dataset.primary_key
            )));
        }
        let values = positions
            .iter()
            .zip(key)
            .map(|(&p, text)| dataset.fields[p].kind.parse(text.trim()))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| DatiError::Invalid(format!("chiave {i}: {e}")))?;
        let pk = csv_import::encode(&values);
        if datasets::delete_row(&tx, name, &pk)? {
            deleted.push(pk);
        }
    }
    dataset.row_count = datasets::count_rows(&tx, name)?;
    dataset.updated_at = db::now();
    datasets::put(&tx, &dataset)?;
    let mut entries = Vec::new();
    if dataset.federation == Federation::National && !deleted.is_empty() {
        entries = emit_delta(&tx, signer, &dataset, &[], &deleted)?
            .iter()
            .map(|a| a.seq)
            .collect();
    }
    audit::record(
        &tx,
        actor,
        "dataset.delete_rows",
        &format!("dataset:{name}"),
        &json!({"deleted": deleted.len(), "entries": entries}),
        db::now(),
    )?;
    tx.commit()?;
    Ok(ChangeReport {
        dataset: name.to_owned(),
        federation: dataset.federation,
        deleted: deleted.len() as u64,
        entries,
    })
}

/// The outcome of saving a dataset's metadata.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetadataReport {
    /// Dataset name.
    pub dataset: String,
    /// Whether it is open data now.
    pub open: bool,
    /// Seqs of the entries written to the outbox (the metadata, when the dataset is federated).
    pub entries: Vec<u64>,
}

/// Saves a dataset's DCAT-AP_IT metadata, refusing (with every field to correct) metadata
/// that would make the catalogue invalid; a federated dataset's metadata are published in the
/// same transaction.
pub fn set_metadata(
    conn: &mut Connection,
    signer: &Signer,
    actor: &Actor,
    name: &str,
    form: &super::dcat::MetadataForm,
    org: &pico_protocol::dcat::Agent,
    province: &crate::db::comuni::Province,
) -> Result<MetadataReport, DatiError> {
    let tx = begin(conn)?;
    let dataset = datasets::get(&tx, name)?.ok_or_else(|| DatiError::NotFound(name.to_owned()))?;
    let problems = super::dcat::problems(&dataset, form, org, province);
    if !problems.is_empty() {
        return Err(DatiError::Fields(problems));
    }
    let json = serde_json::to_string(form).map_err(|e| DatiError::Invalid(e.to_string()))?;
    let now = db::now();
    datasets::put_metadata(&tx, name, form.open, &json, now)?;
    let mut entries = Vec::new();
    if dataset.federation == Federation::National {
        let metadata = super::dcat::payload(&dataset, form, org);
        entries.push(emit_metadata(&tx, signer, metadata)?.seq);
    }
    audit::record(
        &tx,
        actor,
        "dataset.metadata",
        &format!("dataset:{name}"),
        &json!({"open": form.open, "entries": entries}),
        now,
    )?;
    tx.commit()?;
    Ok(MetadataReport {
        dataset: name.to_owned(),
        open: form.open,
        entries,
    })
}

fn emit_metadata(
    tx: &Connection,
    signer: &Signer,
    metadata: pico_protocol::dcat::DatasetMetadata,
) -> Result<Appended, DatiError> {
    let summary = format!(
        "{} metadati ({})",
        metadata.dataset,
        if metadata.open { "aperto" } else { "interno" }
    );
    Ok(outbox::append_entry(
        tx,
        signer,
        &Payload::DatasetMetadata(metadata),
        &summary,
    )?)
}

fn batch(dataset: &Dataset) -> DatasetBatch {
    DatasetBatch {
        dataset: dataset.name.clone(),
        schema_version: dataset.schema_version,
        fields: dataset.field_names(),
        primary_key: dataset.primary_key.clone(),
        snapshot: None,
        upserts: Vec::new(),
        deletes: Vec::new(),
    }
}

/// A national dataset's `comune` column names only this Province's Comuni (SPEC §8.1): said
/// here, in Italian and before anything is signed, so the whole change is refused with a
/// message a person can act on.
fn check_comuni(payload: &DatasetBatch, signer: &Signer) -> Result<(), DatiError> {
    let Some(at) = payload
        .fields
        .iter()
        .position(|field| field == COMUNE_FIELD)
    else {
        return Ok(());
    };
    let province = signer.province;
    for row in &payload.upserts {
        match row.get(at) {
            None | Some(FieldValue::Null) => {}
            Some(FieldValue::Text(code))
                if ComuneCode::parse(code).is_ok_and(|code| code.belongs_to(province)) => {}
            Some(other) => {
                let value = match other {
                    FieldValue::Text(text) => text.to_string(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                };
                return Err(DatiError::Invalid(format!(
                    "la colonna «comune» contiene «{value}», che non è il codice ISTAT di un Comune \
                     di questa Provincia (6 cifre che iniziano con {province}): un dataset \
                     nazionale può riferirsi solo ai Comuni della Provincia. Correggi il valore o \
                     lascia vuota la cella, poi importa di nuovo il file."
                )));
            }
        }
    }
    Ok(())
}

fn decode(text: &str) -> Result<pico_protocol::payload::Row, DatiError> {
    csv_import::decode(text).map_err(|e| {
        DatiError::Db(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::new(e),
        ))
    })
}

/// Splits rows of the given encoded lengths into groups of at most `MAX_RECORDS_PER_BATCH`
/// rows and [`BODY_BUDGET`] bytes; returns the number of rows of each group, always at least
/// one (possibly empty) group.
fn group_sizes(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut sizes = vec![0];
    let mut bytes = 0;
    for length in lengths {
        let last = sizes.last().copied().unwrap_or(0);
        if last >= MAX_RECORDS_PER_BATCH || (last > 0 && bytes + length + 1 > BODY_BUDGET) {
            sizes.push(0);
            bytes = 0;
        }
        bytes += length + 1;
        if let Some(size) = sizes.last_mut() {
            *size += 1;
        }
    }
    sizes
}

/// Writes a full snapshot of `dataset` (as stored in `tx`) to the outbox. The rows are read
/// twice, never held all at once: first their lengths, to cut the parts (whose number every
/// part states), then one part at a time.
pub fn emit_snapshot(
    tx: &Connection,
    signer: &Signer,
    dataset: &Dataset,
) -> Result<Vec<Appended>, DatiError> {
    let sizes = group_sizes(datasets::row_lengths(tx, &dataset.name)?.into_iter());
    let (head, _) = outbox::head(tx)?;
    // Unique within this node's log: the seq of the snapshot's first part.
    let id = format!("{}-{}", dataset.name, head + 1);
    let parts = u32::try_from(sizes.len()).unwrap_or(u32::MAX);
    let mut appended = Vec::with_capacity(sizes.len());
    let mut after: Option<String> = None;
    for (i, size) in sizes.iter().enumerate() {
        let rows = datasets::rows_page(
            tx,
            &dataset.name,
            after.as_deref(),
            u32::try_from(*size).unwrap_or(u32::MAX),
        )?;
        after = rows.last().map(|(pk, _)| pk.clone());
        let mut payload = batch(dataset);
        payload.snapshot = Some(SnapshotPart {
            id: id.clone(),
            part: u32::try_from(i + 1).unwrap_or(u32::MAX),
            parts,
        });
        payload.upserts = rows
            .iter()
            .map(|(_, data)| decode(data))
            .collect::<Result<_, _>>()?;
        drop(rows);
        check_comuni(&payload, signer)?;
        let summary = format!("{} snapshot {}/{parts}", dataset.name, i + 1);
        appended.push(outbox::append_entry(
            tx,
            signer,
            &Payload::DatasetBatch(payload),
            &summary,
        )?);
    }
    Ok(appended)
}

/// Writes the withdrawal of `dataset` to the outbox: a complete snapshot of one part with no
/// rows, which states that this Province no longer has any row in it (SPEC §8.1). A later
/// `national` setting sends a full snapshot again.
pub fn emit_withdrawal(
    tx: &Connection,
    signer: &Signer,
    dataset: &Dataset,
) -> Result<Appended, DatiError> {
    let (head, _) = outbox::head(tx)?;
    let mut payload = batch(dataset);
    payload.snapshot = Some(SnapshotPart {
        id: format!("{}-{}-withdrawn", dataset.name, head + 1),
        part: 1,
        parts: 1,
    });
    Ok(outbox::append_entry(
        tx,
        signer,
        &Payload::DatasetBatch(payload),
        &format!("{} withdrawn", dataset.name),
    )?)
}

/// Writes the changed rows (`upserts`, encoded data) and removed keys (`deletes`, encoded
/// keys) of `dataset` to the outbox; nothing when both are empty.
pub fn emit_delta(
    tx: &Connection,
    signer: &Signer,
    dataset: &Dataset,
    upserts: &[String],
    deletes: &[String],
) -> Result<Vec<Appended>, DatiError> {
    // Tag each record with its side so that one entry can carry both.
    let records = upserts
        .iter()
        .map(|row| (true, row.as_str()))
        .chain(deletes.iter().map(|key| (false, key.as_str())));
    let mut appended = Vec::new();
    let mut payload = batch(dataset);
    let mut bytes = 0;
    for (upsert, text) in records {
        let count = payload.upserts.len() + payload.deletes.len();
        if count >= MAX_RECORDS_PER_BATCH || (count > 0 && bytes + text.len() + 1 > BODY_BUDGET) {
            appended.push(append_delta(tx, signer, dataset, &mut payload)?);
            bytes = 0;
        }
        bytes += text.len() + 1;
        if upsert {
            payload.upserts.push(decode(text)?);
        } else {
            payload.deletes.push(decode(text)?);
        }
    }
    if !payload.upserts.is_empty() || !payload.deletes.is_empty() {
        appended.push(append_delta(tx, signer, dataset, &mut payload)?);
    }
    Ok(appended)
}

fn append_delta(
    tx: &Connection,
    signer: &Signer,
    dataset: &Dataset,
    payload: &mut DatasetBatch,
) -> Result<Appended, DatiError> {
    let full = std::mem::replace(payload, batch(dataset));
    check_comuni(&full, signer)?;
    let summary = format!(
        "{} delta +{} -{}",
        dataset.name,
        full.upserts.len(),
        full.deletes.len()
    );
    Ok(outbox::append_entry(
        tx,
        signer,
        &Payload::DatasetBatch(full),
        &summary,
    )?)
}

/// A national dataset a module derives from its own tables, as [`ensure_derived`] keeps it.
#[expect(
    missing_debug_implementations,
    reason = "holds the module's row builder"
)]
pub struct DerivedDefinition<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its title in the catalogue.
    pub title: &'a str,
    /// Its fields, in row order.
    pub fields: Vec<super::FieldDef>,
    /// Its primary key.
    pub primary_key: Vec<String>,
    /// Builds every row from the module's tables (replacing what is stored); the row count.
    pub materialise: &'a dyn Fn(&Connection) -> Result<i64, DatiError>,
}

/// The dataset `definition` describes, as stored: created (federation off) when absent, or
/// taking over a same-named dataset of another schema (a new schema version, its old rows
/// dropped and, when federated, rebuilt and announced by a full snapshot). The second value
/// is the number of rows written when it had to be (re)built, none when it was already so.
pub fn ensure_derived(
    tx: &Connection,
    signer: &Signer,
    definition: &DerivedDefinition<'_>,
) -> Result<(Dataset, Option<i64>), DatiError> {
    let existing = datasets::get(tx, definition.name)?;
    if let Some(dataset) = existing
        .as_ref()
        .filter(|d| d.fields == definition.fields && d.primary_key == definition.primary_key)
    {
        return Ok((dataset.clone(), None));
    }
    let now = db::now();
    let mut dataset = Dataset {
        name: definition.name.to_owned(),
        title: definition.title.to_owned(),
        fields: definition.fields.clone(),
        primary_key: definition.primary_key.clone(),
        schema_version: existing.as_ref().map_or(1, |d| d.schema_version + 1),
        federation: existing.as_ref().map_or(Federation::Off, |d| d.federation),
        row_count: 0,
        created_at: existing.as_ref().map_or(now, |d| d.created_at),
        updated_at: now,
    };
    datasets::put(tx, &dataset)?;
    if existing.is_some() {
        let dropped = datasets::delete_all_rows(tx, definition.name)?;
        tracing::warn!(
            dataset = definition.name,
            rows = dropped,
            schema_version = dataset.schema_version,
            "a dataset of this name had another schema: the module deriving it took it over and dropped its rows (rebuilt from the module's tables when federated)"
        );
    }
    if dataset.federation == Federation::Off {
        return Ok((dataset, Some(0)));
    }
    dataset.row_count = (definition.materialise)(tx)?;
    datasets::put(tx, &dataset)?;
    // A new schema is announced by a full snapshot (as a Dati import does).
    emit_snapshot(tx, signer, &dataset)?;
    Ok((dataset.clone(), Some(dataset.row_count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_respect_rows_and_bytes() {
        assert_eq!(
            group_sizes(std::iter::repeat_n(8, 25_000)),
            [10_000, 10_000, 5_000]
        );
        let sizes = group_sizes(std::iter::repeat_n(200_000, 50));
        assert!(sizes.len() >= 3);
        assert_eq!(sizes.iter().sum::<usize>(), 50);
        assert!(sizes.iter().all(|&n| n * 200_001 <= BODY_BUDGET));
        assert_eq!(group_sizes(std::iter::empty()), [0]);
    }
}
