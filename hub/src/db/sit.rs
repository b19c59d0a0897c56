//! The national view of the SIT (Servizi Innovativi Territoriali): the rows of the federated
//! datasets `sit_servizi` (one row per catalogue service of a Province) and
//! `sit_quadro_digitale` (one row per Comune: the national platforms it uses and its PNRR
//! measures), schemas in `protocol/datasets/sit_servizi.md` and `sit_quadro_digitale.md`.
//!
//! Each Province's rows are read once (a range of the rows index) into its **holdings**, kept
//! while the hash of the last entry that changed them stays the same (`db::contributions`):
//! a Province holds tens of services and a few hundred Comuni, so the whole nation is at most
//! some 8,000 Comuni in memory, and every figure, search and filter is a pass over them, never
//! a scan of the national table per request.
//!
//! **What is counted.** A service is `(Province, code)`; a withdrawn one is left out of the
//! offer and of the catalogue unless asked for. A platform is in use in a Comune when its
//! `*_since` date is set. Shares are of the Comuni (and of the residents) of the Provinces that
//! publish `sit_quadro_digitale`: a Province that does not publish counts nowhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::Connection;
use serde::Deserialize;

use super::DbError;
use super::contributions::{Contributions, each_row};

/// The catalogue dataset.
pub const SERVICES: &str = "sit_servizi";

/// The digital picture dataset.
pub const PICTURES: &str = "sit_quadro_digitale";

const SERVICES_KEY: &str = r#"["code"]"#;
const PICTURES_KEY: &str = r#"["comune"]"#;

/// The national platforms, as the dataset's fields name them (`{code}_since`), in order.
pub const PLATFORMS: [&str; 7] = ["spid", "cie", "pagopa", "app_io", "anpr", "pdnd", "cloud"];

/// A service of a Province's catalogue, as its row gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Service {
    /// The service's code, unique in its Province.
    pub code: String,
    /// Its current version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// Category code (`payments`…).
    pub category: String,
    /// Subject matter, 1–15.
    pub theme: Option<i64>,
    /// `all` or `under_threshold`.
    pub audience: String,
    /// With `under_threshold`: the residents below which a Comune may use it.
    pub population_threshold: Option<i64>,
    /// `free`, `fixed` or `per_inhabitant`.
    pub cost_model: String,
    /// The yearly fee (per inhabitant with `per_inhabitant`), cents.
    pub fee_cents: i64,
    /// Hours promised to the first answer.
    pub first_answer_hours: Option<i64>,
    /// Hours promised to the resolution.
    pub resolution_hours: Option<i64>,
    /// Withdrawn from the catalogue.
    pub withdrawn: bool,
    /// Comuni with an active subscription.
    pub active_comuni: i64,
    /// Their residents.
    pub active_residents: i64,
}

/// A Comune's digital picture: residents and the platforms it uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picture {
    /// ISTAT code.
    pub comune: String,
    /// Residents (0 when the row does not say).
    pub residents: i64,
    /// Whether it uses each of [`PLATFORMS`], in order.
    pub platforms: [bool; 7],
}

/// One Province's rows of both datasets.
#[derive(Debug, Default, Clone)]
pub struct Holdings {
    /// Its services, by code (withdrawn ones too).
    pub services: Arc<Vec<Service>>,
    /// Its Comuni's pictures, by code; empty when it does not publish them.
    pub pictures: Arc<Vec<Picture>>,
    /// Whether it publishes `sit_quadro_digitale`.
    pub publishes_pictures: bool,
}

/// A Province that publishes either dataset, with its holdings.
#[derive(Debug, Clone)]
pub struct Contributor {
    /// Historical ISTAT code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region, as ISTAT names it.
    pub region: String,
    /// Its rows.
    pub holdings: Holdings,
}

fn read_rows<T>(
    conn: &Connection,
    dataset_id: i64,
    province: &str,
    mut each: impl FnMut(&str) -> Option<T>,
) -> Result<Vec<T>, DbError> {
    let mut out = Vec::new();
    each_row(conn, dataset_id, province, |data| out.extend(each(data)))?;
    Ok(out)
}

fn picture_of(data: &str) -> Option<Picture> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    let comune = value.get("comune")?.as_str()?.to_owned();
    let mut platforms = [false; 7];
    for (used, platform) in platforms.iter_mut().zip(PLATFORMS) {
        *used = value
            .get(format!("{platform}_since"))
            .is_some_and(|since| !since.is_null());
    }
    Some(Picture {
        comune,
        residents: value
            .get("residents")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0),
        platforms,
    })
}

static SERVICE_ROWS: Contributions<Vec<Service>> = Contributions::new();
static PICTURE_ROWS: Contributions<Vec<Picture>> = Contributions::new();

/// Every Province that publishes `sit_servizi` or `sit_quadro_digitale` (with the schema's
/// key), by code, with its holdings; each dataset's rows are read again only when the
/// Province's last entry for it changed (`db::contributions`).
pub fn contributors(conn: &Connection) -> Result<Vec<Contributor>, DbError> {
    let services =
        SERVICE_ROWS.contributors(conn, SERVICES, SERVICES_KEY, None, |conn, id, code| {
            read_rows(conn, id, code, |data| {
                serde_json::from_str::<Service>(data)
                    .ok()
                    .filter(|s| !s.code.is_empty())
            })
        })?;
    let pictures =
        PICTURE_ROWS.contributors(conn, PICTURES, PICTURES_KEY, None, |conn, id, code| {
            read_rows(conn, id, code, picture_of)
        })?;
    let mut by_province: BTreeMap<String, Contributor> = BTreeMap::new();
    for c in services {
        by_province.insert(
            c.code.clone(),
            Contributor {
                code: c.code,
                name: c.name,
                region: c.region,
                holdings: Holdings {
                    services: c.data,
                    ..Holdings::default()
                },
            },
        );
    }
    for c in pictures {
        let entry = by_province
            .entry(c.code.clone())
            .or_insert_with(|| Contributor {
                code: c.code,
                name: c.name,
                region: c.region,
                holdings: Holdings::default(),
            });
        entry.holdings.pictures = c.data;
        entry.holdings.publishes_pictures = true;
    }
    Ok(by_province.into_values().collect())
}
