//! The SIT's national datasets, derived from its tables and federated through the Dati module
//! when the Province enables them (documented for everyone in `protocol/datasets/`):
//!
//! - `sit_servizi`: one row per catalogue service, with its cost model, promised levels and
//!   how many Comuni (and residents) it serves now; key `[code]`.
//! - `sit_quadro_digitale`: one row per Comune of the Province, with the date since when it
//!   uses each national platform and where it stands on each PNRR measure; key `[comune]`.
//!
//! As for `sape_progetti`: every operation that changes the catalogue, a subscription or a
//! digital picture calls [`refresh`] in its own transaction, which writes exactly the rows
//! that changed (and emits them as a delta) when the dataset is `national`; turning a dataset
//! `national` builds every row ([`materialise_services`], [`materialise_pictures`]); while
//! `off` the node keeps no rows. No personal data: services, Comuni and platforms only.

use std::collections::BTreeMap;

use pico_protocol::payload::FieldValue;
use rusqlite::Connection;

use crate::dati::csv_import;
use crate::dati::ops::{self, DatiError};
use crate::dati::{Federation, FieldDef, FieldType};
use crate::db::{self, datasets};
use crate::error::AppError;
use crate::federation::Signer;
use crate::sit::db as store;
use crate::sit::population;
use crate::sit::{Measure, Platform};

/// The catalogue dataset's name.
pub const SERVICES: &str = "sit_servizi";

/// The digital picture dataset's name.
pub const PICTURES: &str = "sit_quadro_digitale";

/// The catalogue's fields, in row order.
pub const SERVICE_FIELDS: [(&str, FieldType); 14] = [
    ("code", FieldType::Text),
    ("version", FieldType::Integer),
    ("name", FieldType::Text),
    ("category", FieldType::Text),
    ("theme", FieldType::Integer),
    ("audience", FieldType::Text),
    ("population_threshold", FieldType::Integer),
    ("cost_model", FieldType::Text),
    ("fee_cents", FieldType::Integer),
    ("first_answer_hours", FieldType::Integer),
    ("resolution_hours", FieldType::Integer),
    ("withdrawn", FieldType::Boolean),
    ("active_comuni", FieldType::Integer),
    ("active_residents", FieldType::Integer),
];

/// The digital picture's fields, in row order: the Comune and its residents, one date per
/// platform (in [`Platform::ALL`] order), one status per measure (in [`Measure::ALL`] order).
pub fn picture_fields() -> Vec<(String, FieldType)> {
    let mut fields = vec![
        ("comune".to_owned(), FieldType::Text),
        ("residents".to_owned(), FieldType::Integer),
    ];
    for platform in Platform::ALL {
        fields.push((format!("{}_since", platform.as_str()), FieldType::Date));
    }
    for measure in Measure::ALL {
        fields.push((
            format!("pnrr_{}", measure.as_str().replace('.', "_")),
            FieldType::Text,
        ));
    }
    fields
}

struct Spec {
    name: &'static str,
    title: &'static str,
    fields: Vec<FieldDef>,
    rows: fn(&Connection) -> Result<BTreeMap<String, String>, DatiError>,
}

fn defs(fields: impl IntoIterator<Item = (String, FieldType)>) -> Vec<FieldDef> {
    fields
        .into_iter()
        .map(|(name, kind)| FieldDef { name, kind })
        .collect()
}

fn specs() -> [Spec; 2] {
    [
        Spec {
            name: SERVICES,
            title: "Catalogo dei servizi innovativi (SIT) e Comuni aderenti",
            fields: defs(
                SERVICE_FIELDS
                    .iter()
                    .map(|(name, kind)| ((*name).to_owned(), *kind)),
            ),
            rows: service_rows,
        },
        Spec {
            name: PICTURES,
            title: "Quadro digitale dei Comuni: piattaforme nazionali e misure PNRR",
            fields: defs(picture_fields()),
            rows: picture_rows,
        },
    ]
}

fn service_rows(conn: &Connection) -> Result<BTreeMap<String, String>, DatiError> {
    let services = store::list_services(conn, true)?;
    let subscriptions = store::list_subscriptions(conn, None, None)?;
    let mut rows = BTreeMap::new();
    for service in services {
        let active: Vec<&str> = subscriptions
            .iter()
            .filter(|s| {
                s.service_id == service.id && s.state == crate::sit::SubscriptionState::Active
            })
            .map(|s| s.comune_code.as_str())
            .collect();
        let residents: u64 = active
            .iter()
            .filter_map(|code| population::residents(code))
            .map(|r| r.count)
            .sum();
        let r = &service.record;
        let row = [
            FieldValue::from(service.code.as_str()),
            FieldValue::Int(service.version),
            FieldValue::from(r.name.as_str()),
            FieldValue::from(r.category.as_str()),
            FieldValue::Int(i64::from(r.theme)),
            FieldValue::from(r.audience.as_str()),
            r.population_threshold
                .map_or(FieldValue::Null, FieldValue::Int),
            FieldValue::from(r.cost_model.as_str()),
            FieldValue::Int(r.fee_cents),
            FieldValue::Int(r.first_answer_hours),
            FieldValue::Int(r.resolution_hours),
            FieldValue::Bool(service.withdrawn_at.is_some()),
            FieldValue::Int(i64::try_from(active.len()).unwrap_or(i64::MAX)),
            FieldValue::Int(i64::try_from(residents).unwrap_or(i64::MAX)),
        ];
        rows.insert(
            csv_import::encode(&[FieldValue::from(service.code.as_str())]),
            csv_import::encode(&row),
        );
    }
    Ok(rows)
}

fn picture_rows(conn: &Connection) -> Result<BTreeMap<String, String>, DatiError> {
    let platforms = store::platforms(conn, None)?;
    let measures = store::measures(conn, None)?;
    let mut rows = BTreeMap::new();
    for (code, _) in store::comuni(conn)? {
        let mut row = vec![
            FieldValue::from(code.as_str()),
            population::residents(&code).map_or(FieldValue::Null, |r| {
                FieldValue::Int(i64::try_from(r.count).unwrap_or(i64::MAX))
            }),
        ];
        for platform in Platform::ALL {
            row.push(
                platforms
                    .iter()
                    .find(|p| p.comune_code == code && p.platform == platform)
                    .map_or(FieldValue::Null, |p| FieldValue::from(p.since.as_str())),
            );
        }
        for measure in Measure::ALL {
            row.push(
                measures
                    .iter()
                    .find(|m| m.comune_code == code && m.measure == measure)
                    .map_or(FieldValue::Null, |m| FieldValue::from(m.status.as_str())),
            );
        }
        rows.insert(
            csv_import::encode(&[FieldValue::from(code.as_str())]),
            csv_import::encode(&row),
        );
    }
    Ok(rows)
}

/// Brings both datasets in step with the SIT's tables, inside the caller's transaction: the
/// rows that changed are written and emitted as a delta when the dataset is `national`.
pub fn refresh(tx: &Connection, signer: &Signer) -> Result<(), AppError> {
    for spec in specs() {
        refresh_one(tx, signer, &spec)?;
    }
    Ok(())
}

fn refresh_one(tx: &Connection, signer: &Signer, spec: &Spec) -> Result<(), DatiError> {
    let (mut dataset, _) = ops::ensure_derived(
        tx,
        signer,
        &ops::DerivedDefinition {
            name: spec.name,
            title: spec.title,
            fields: spec.fields.clone(),
            primary_key: vec![spec.fields[0].name.clone()],
            materialise: &|tx| materialise(tx, spec),
        },
    )?;
    if dataset.federation == Federation::Off {
        return Ok(());
    }
    let new = (spec.rows)(tx)?;
    let old: BTreeMap<String, String> = datasets::pks(tx, spec.name)?
        .into_iter()
        .filter_map(|pk| {
            datasets::row_data(tx, spec.name, &pk)
                .ok()
                .flatten()
                .map(|data| (pk, data))
        })
        .collect();
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    let mut delta = 0_i64;
    for (pk, data) in &new {
        if old.get(pk) != Some(data) {
            if !old.contains_key(pk) {
                delta += 1;
            }
            datasets::put_row(tx, spec.name, pk, data)?;
            upserts.push(data.clone());
        }
    }
    for pk in old.keys().filter(|pk| !new.contains_key(*pk)) {
        datasets::delete_row(tx, spec.name, pk)?;
        deletes.push(pk.clone());
        delta -= 1;
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

fn materialise(tx: &Connection, spec: &Spec) -> Result<i64, DatiError> {
    datasets::delete_all_rows(tx, spec.name)?;
    for (pk, data) in (spec.rows)(tx)? {
        datasets::put_row(tx, spec.name, &pk, &data)?;
    }
    Ok(datasets::count_rows(tx, spec.name)?)
}

/// Builds every row of `sit_servizi` (when it becomes `national`); returns the row count.
pub fn materialise_services(tx: &Connection) -> Result<i64, DatiError> {
    let [services, _] = specs();
    materialise(tx, &services)
}

/// Builds every row of `sit_quadro_digitale` (when it becomes `national`).
pub fn materialise_pictures(tx: &Connection) -> Result<i64, DatiError> {
    let [_, pictures] = specs();
    materialise(tx, &pictures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dati::valid_name;

    #[test]
    fn names_and_fields_are_valid_dataset_names() {
        assert!(valid_name(SERVICES));
        assert!(valid_name(PICTURES));
        for spec in specs() {
            for field in &spec.fields {
                assert!(valid_name(&field.name), "{}", field.name);
            }
        }
        let names: Vec<String> = picture_fields().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names[2], "spid_since");
        assert_eq!(names[9], "pnrr_1_2");
        assert_eq!(names.len(), 14);
    }
}
