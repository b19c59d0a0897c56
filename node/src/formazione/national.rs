//! The national `formazione_aggregati` dataset: per training sector and year, how many
//! editions and sessions, the minutes scheduled, enrolments holding a seat, completions,
//! people trained and minutes attended. Counts and minutes only: **no name, e-mail, office or
//! any other personal data ever leaves the node**, and no row is about fewer than a whole
//! sector's year. The schema is documented in `protocol/datasets/formazione_aggregati.md`;
//! [`FIELDS`] is its definition and [`encode`] writes a row in that order.
//!
//! - **Key.** `[sector, year]`, the year in Italian time: a session counts in the year it
//!   starts, an enrolment in the year of its edition's first session.
//! - **Kept in step.** Every operation that changes what the figures are read from (courses,
//!   editions, enrolments, registers, imports, scores) calls [`refresh`] in its own
//!   transaction; only rows that differ are published.
//! - **Rows only while federated**, as for `appalti`: turning the dataset `national` builds
//!   every row ([`materialise`]); `off` drops them. The dataset is defined (federation `off`)
//!   the first time the figures change.

use std::collections::{BTreeMap, BTreeSet};

use pico_protocol::payload::FieldValue;
use rusqlite::Connection;

use crate::dati::csv_import;
use crate::dati::ops::{self, DatiError};
use crate::dati::{Federation, FieldDef, FieldType};
use crate::db::{self, datasets};
use crate::error::AppError;
use crate::federation::Signer;
use crate::formazione::db as store;
use crate::formazione::reports::year_of;

/// The dataset's name.
pub const DATASET: &str = "formazione_aggregati";

/// The title shown in the Dati catalogue.
pub const TITLE: &str = "Formazione: ore e persone formate per settore e anno (solo conteggi)";

/// The primary key.
pub const PRIMARY_KEY: [&str; 2] = ["sector", "year"];

/// The fields of schema version 1, in row order.
pub const FIELDS: [(&str, FieldType); 9] = [
    ("sector", FieldType::Text),
    ("year", FieldType::Integer),
    ("editions", FieldType::Integer),
    ("sessions", FieldType::Integer),
    ("minutes_scheduled", FieldType::Integer),
    ("enrolled", FieldType::Integer),
    ("completed", FieldType::Integer),
    ("people_trained", FieldType::Integer),
    ("minutes_attended", FieldType::Integer),
];

/// The field definitions, as the Dati module stores them.
pub fn field_defs() -> Vec<FieldDef> {
    defs(&FIELDS)
}

/// A derived dataset's field definitions from its `(name, type)` list.
pub fn defs(fields: &[(&str, FieldType)]) -> Vec<FieldDef> {
    fields
        .iter()
        .map(|(name, kind)| FieldDef {
            name: (*name).to_owned(),
            kind: *kind,
        })
        .collect()
}

/// The figures of one sector and year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    /// Editions whose first session is in the year.
    pub editions: i64,
    /// Sessions starting in the year.
    pub sessions: i64,
    /// Their minutes.
    pub minutes_scheduled: i64,
    /// Enrolments holding a seat (editions of the year).
    pub enrolled: i64,
    /// Of which completed.
    pub completed: i64,
    /// Different people who completed a course of the sector in the year.
    pub people_trained: i64,
    /// Minutes attended in the year's sessions.
    pub minutes_attended: i64,
}

/// Every sector and year with any training, read from the Formazione tables.
pub fn aggregates(conn: &Connection) -> rusqlite::Result<BTreeMap<(String, i64), Aggregate>> {
    let mut out: BTreeMap<(String, i64), Aggregate> = BTreeMap::new();
    let mut first: BTreeMap<i64, (String, i64)> = BTreeMap::new();
    for (sector, edition, starts, minutes) in store::all_sessions(conn)? {
        let key = (sector.as_str().to_owned(), i64::from(year_of(starts)));
        let entry = out.entry(key).or_default();
        entry.sessions += 1;
        entry.minutes_scheduled += minutes;
        let earliest = first
            .entry(edition)
            .or_insert((sector.as_str().to_owned(), starts));
        if starts < earliest.1 {
            earliest.1 = starts;
        }
    }
    for (sector, starts) in first.values() {
        out.entry((sector.clone(), i64::from(year_of(*starts))))
            .or_default()
            .editions += 1;
    }
    let mut trained: BTreeMap<(String, i64), BTreeSet<i64>> = BTreeMap::new();
    for e in store::report_enrolments(conn)? {
        let Some(starts) = e.first_session else {
            continue;
        };
        let key = (e.sector.as_str().to_owned(), i64::from(year_of(starts)));
        let entry = out.entry(key.clone()).or_default();
        entry.enrolled += 1;
        if e.completed {
            entry.completed += 1;
            trained.entry(key).or_default().insert(e.staff_id);
        }
    }
    for (key, people) in trained {
        out.entry(key).or_default().people_trained = i64::try_from(people.len()).unwrap_or(0);
    }
    for (sector, starts, minutes) in store::attendance_by_sector(conn)? {
        out.entry((sector.as_str().to_owned(), i64::from(year_of(starts))))
            .or_default()
            .minutes_attended += minutes;
    }
    Ok(out)
}

/// The row of one sector and year, `(pk, data)`.
pub fn encode(sector: &str, year: i64, a: &Aggregate) -> (String, String) {
    let key = csv_import::encode(&[FieldValue::from(sector), FieldValue::Int(year)]);
    let row = csv_import::encode(&[
        FieldValue::from(sector),
        FieldValue::Int(year),
        FieldValue::Int(a.editions),
        FieldValue::Int(a.sessions),
        FieldValue::Int(a.minutes_scheduled),
        FieldValue::Int(a.enrolled),
        FieldValue::Int(a.completed),
        FieldValue::Int(a.people_trained),
        FieldValue::Int(a.minutes_attended),
    ]);
    (key, row)
}

fn rows(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    Ok(aggregates(conn)?
        .iter()
        .map(|((sector, year), a)| encode(sector, *year, a))
        .collect())
}

/// Brings the rows of both national Formazione datasets in line with the Formazione tables
/// (these aggregates and the catalogue of open courses, [`catalogue`]), publishing what
/// differs where the dataset is federated. Call it inside the transaction that changed them.
///
/// [`catalogue`]: crate::formazione::catalogue
pub fn refresh(tx: &Connection, signer: &Signer) -> Result<(), AppError> {
    sync(
        tx,
        signer,
        &ops::DerivedDefinition {
            name: DATASET,
            title: TITLE,
            fields: field_defs(),
            primary_key: PRIMARY_KEY.iter().map(|k| (*k).to_owned()).collect(),
            materialise: &materialise,
        },
        rows,
    )?;
    super::catalogue::refresh(tx, signer)
}

/// Builds a derived dataset's rows, `(pk, data)`, from the module's tables.
pub type RowBuilder = fn(&Connection) -> rusqlite::Result<Vec<(String, String)>>;

/// Brings the rows of the derived dataset `definition` in line with `rows` (built from the
/// module's tables only when the dataset is federated), publishing exactly the rows that
/// differ. The dataset is defined (federation `off`) the first time.
pub fn sync(
    tx: &Connection,
    signer: &Signer,
    definition: &ops::DerivedDefinition<'_>,
    rows: RowBuilder,
) -> Result<(), AppError> {
    let name = definition.name;
    let (mut dataset, _) = ops::ensure_derived(tx, signer, definition)?;
    if dataset.federation == Federation::Off {
        return Ok(());
    }
    let new = rows(tx)?;
    let old = store::national_rows(tx, name)?;
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    let mut delta = 0_i64;
    for (pk, data) in &new {
        match old.get(pk) {
            Some(stored) if stored == data => {}
            stored => {
                if stored.is_none() {
                    delta += 1;
                }
                datasets::put_row(tx, name, pk, data)?;
                upserts.push(data.clone());
            }
        }
    }
    let new_keys: BTreeSet<&String> = new.iter().map(|(pk, _)| pk).collect();
    for pk in old.keys() {
        if !new_keys.contains(pk) {
            datasets::delete_row(tx, name, pk)?;
            deletes.push(pk.clone());
            delta -= 1;
        }
    }
    if upserts.is_empty() && deletes.is_empty() {
        return Ok(());
    }
    dataset.row_count += delta;
    dataset.updated_at = db::now();
    datasets::put(tx, &dataset)?;
    ops::emit_delta(tx, signer, &dataset, &upserts, &deletes)?;
    Ok(())
}

/// Replaces every row of dataset `name` with `rows` and returns their number (the Dati
/// module calls a module's materialiser in the transaction that turns it `national`).
pub fn replace_rows(
    tx: &Connection,
    name: &str,
    rows: Vec<(String, String)>,
) -> Result<i64, DatiError> {
    datasets::delete_all_rows(tx, name)?;
    for (pk, data) in rows {
        datasets::put_row(tx, name, &pk, &data)?;
    }
    Ok(datasets::count_rows(tx, name)?)
}

/// Writes every row, replacing whatever rows the dataset had, and returns their number. The
/// Dati module calls it in the transaction that turns the dataset `national`.
pub fn materialise(tx: &Connection) -> Result<i64, DatiError> {
    replace_rows(tx, DATASET, rows(tx)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dati::valid_name;

    #[test]
    fn rows_are_counts_keyed_by_sector_and_year() {
        let (pk, data) = encode(
            "appalti",
            2026,
            &Aggregate {
                editions: 1,
                sessions: 2,
                minutes_scheduled: 360,
                enrolled: 3,
                completed: 1,
                people_trained: 1,
                minutes_attended: 596,
            },
        );
        assert_eq!(pk, r#"["appalti",2026]"#);
        assert_eq!(data, r#"["appalti",2026,1,2,360,3,1,1,596]"#);
        for (name, _) in FIELDS {
            assert!(valid_name(name), "{name}");
        }
    }
}
