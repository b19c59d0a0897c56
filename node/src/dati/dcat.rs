//! The datasets' DCAT-AP_IT metadata on the node: what the Dati operators edit
//! ([`MetadataForm`]), the defaults a dataset starts from (derived national datasets get a
//! description, theme, frequency and licence of their own), the rules checked before a
//! dataset is marked open (`pico_protocol::dcat`, plus the Province's own places), and the
//! node's catalogue of its open datasets, served as Turtle, RDF/XML and JSON-LD.

use pico_protocol::dcat::{
    self, Agent, Catalogue, CatalogueDataset, DatasetMetadata, Distribution, FieldProblem, Period,
};
use pico_protocol::rdf::Graph;
pub use pico_protocol::rdf::RdfFormat;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::Dataset;
use crate::config::NodeConfig;
use crate::db::comuni::Province;
use crate::db::{self, datasets};

/// A dataset's metadata as the Dati operators edit them (and as stored). Publisher and rights
/// holder are the Province; the last change is the data's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DatasetMetadataForm)]
pub struct MetadataForm {
    /// Open data (in the public catalogues, with its licence) or internal to Pi.Co. (false).
    pub open: bool,
    /// `dct:identifier` (by convention `<codice IPA>:<nome>`).
    #[serde(default)]
    pub identifier: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// EU data-theme URIs (`http://publications.europa.eu/resource/authority/data-theme/GOVE`).
    #[serde(default)]
    pub themes: Vec<String>,
    /// Keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Contact e-mail address.
    #[serde(default)]
    pub contact_point: String,
    /// EU frequency URI (`http://publications.europa.eu/resource/authority/frequency/ANNUAL`).
    #[serde(default)]
    pub accrual_periodicity: String,
    /// First day the data cover (`YYYY-MM-DD`), with `temporal_end`.
    #[serde(default)]
    pub temporal_start: Option<String>,
    /// Last day the data cover (`YYYY-MM-DD`), with `temporal_start`.
    #[serde(default)]
    pub temporal_end: Option<String>,
    /// ISTAT codes of the places covered: the Province (3 digits) or its Comuni (6).
    #[serde(default)]
    pub spatial: Vec<String>,
    /// AgID licence URI (`https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40`).
    #[serde(default)]
    pub license: String,
}

/// The Province as publisher and rights holder: its name and IPA code.
pub fn organisation(config: &NodeConfig, province: &Province) -> Agent {
    let ipa_code = if config.dati.ipa_code.trim().is_empty() {
        format!("p_{}", province.sigla.to_lowercase())
    } else {
        config.dati.ipa_code.trim().to_owned()
    };
    Agent {
        name: province.name.clone(),
        ipa_code,
    }
}

/// Where the node's pages and downloads are: its public URL without a trailing slash.
pub fn base_url(config: &NodeConfig) -> String {
    config.public_url.trim_end_matches('/').to_owned()
}

/// The metadata a dataset starts from before anyone edits them. A dataset another module
/// derives gets a description, a theme, a frequency and keywords saying so; every dataset gets
/// the Province as its place, CC BY 4.0 as its licence and the configured contact address.
pub fn defaults(
    dataset: &Dataset,
    org: &Agent,
    province: &Province,
    config: &NodeConfig,
) -> MetadataForm {
    let derived = crate::modules::derived_dataset(crate::modules::ALL, &dataset.name);
    let mut form = MetadataForm {
        open: false,
        identifier: format!("{}:{}", org.ipa_code, dataset.name),
        title: dataset.title.clone(),
        contact_point: config.dati.contact_email.trim().to_owned(),
        spatial: vec![province.code.clone()],
        license: dcat::concept_uri(dcat::LICENCE_SCHEME, "A21_CCBY40"),
        ..MetadataForm::default()
    };
    if let Some(derived) = derived {
        form.description = format!(
            "Dati del modulo {} della {}, derivati dai suoi registri e aggiornati a ogni modifica; \
             pubblicati anche nella vista nazionale Pi.Co. dell'UPI.",
            derived.module, province.name
        );
        form.themes = vec![dcat::concept_uri(dcat::THEME_SCHEME, "GOVE")];
        form.keywords = vec![
            derived.module.to_owned(),
            "Pi.Co.".to_owned(),
            dataset.name.clone(),
        ];
        form.accrual_periodicity = dcat::concept_uri(dcat::FREQUENCY_SCHEME, "UPDATE_CONT");
    }
    form
}

/// The stored metadata of a dataset, or its defaults.
pub fn stored_or_default(
    conn: &Connection,
    dataset: &Dataset,
    org: &Agent,
    province: &Province,
    config: &NodeConfig,
) -> rusqlite::Result<(MetadataForm, bool)> {
    match datasets::metadata(conn, &dataset.name)? {
        Some(json) => match serde_json::from_str(&json) {
            Ok(form) => Ok((form, true)),
            Err(error) => Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("dataset_metadata.metadata: {error}").into(),
            )),
        },
        None => Ok((defaults(dataset, org, province, config), false)),
    }
}

/// The day of a Unix time, `YYYY-MM-DD` (UTC).
fn day(unix: i64) -> String {
    db::rfc3339(unix).chars().take(10).collect()
}

fn trimmed_list(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn some_text(text: Option<&String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The metadata as they travel and enter the catalogue.
pub fn payload(dataset: &Dataset, form: &MetadataForm, org: &Agent) -> DatasetMetadata {
    let temporal = match (
        some_text(form.temporal_start.as_ref()),
        some_text(form.temporal_end.as_ref()),
    ) {
        (Some(start), Some(end)) => Some(Period { start, end }),
        _ => None,
    };
    DatasetMetadata {
        dataset: dataset.name.clone(),
        open: form.open,
        identifier: form.identifier.trim().to_owned(),
        title: form.title.trim().to_owned(),
        description: form.description.trim().to_owned(),
        themes: trimmed_list(&form.themes),
        keywords: trimmed_list(&form.keywords),
        publisher: org.clone(),
        rights_holder: org.clone(),
        contact_point: form.contact_point.trim().to_owned(),
        modified: day(dataset.updated_at),
        accrual_periodicity: form.accrual_periodicity.trim().to_owned(),
        temporal,
        spatial: trimmed_list(&form.spatial),
        license: form.license.trim().to_owned(),
    }
}

/// Every problem of the metadata, by form field, in Italian: the catalogue's rules, a period
/// given by one end only, and places outside the Province.
pub fn problems(
    dataset: &Dataset,
    form: &MetadataForm,
    org: &Agent,
    province: &Province,
) -> Vec<FieldProblem> {
    let payload = payload(dataset, form, org);
    let mut problems: Vec<FieldProblem> = payload
        .problems()
        .into_iter()
        .map(|problem| FieldProblem {
            field: match problem.field {
                "temporal" => "temporal_start",
                other => other,
            },
            ..problem
        })
        .collect();
    let start = some_text(form.temporal_start.as_ref());
    let end = some_text(form.temporal_end.as_ref());
    if start.is_some() != end.is_some() {
        problems.push(FieldProblem {
            field: if start.is_some() {
                "temporal_end"
            } else {
                "temporal_start"
            },
            message:
                "Indica sia l'inizio sia la fine della copertura temporale, o nessuna delle due."
                    .to_owned(),
        });
    }
    if !problems.iter().any(|p| p.field == "spatial")
        && payload
            .spatial
            .iter()
            .any(|code| !code.starts_with(province.code.as_str()))
    {
        problems.push(FieldProblem {
            field: "spatial",
            message: format!(
                "La copertura geografica può indicare solo la Provincia ({}) o i suoi Comuni (codici che iniziano con {}).",
                province.code, province.code
            ),
        });
    }
    problems
}

/// The IRI of a dataset in the node's catalogue.
pub fn dataset_iri(base: &str, name: &str) -> String {
    format!("{base}/dati/dataset/{name}")
}

/// The node's catalogue: its open datasets with their downloads (CSV and JSON rows).
pub fn catalogue(
    conn: &Connection,
    config: &NodeConfig,
    province: &Province,
) -> rusqlite::Result<Graph> {
    let org = organisation(config, province);
    let base = base_url(config);
    let mut entries = Vec::new();
    let mut modified = 0;
    for (dataset, json) in datasets::open_with_metadata(conn)? {
        let Ok(form) = serde_json::from_str::<MetadataForm>(&json) else {
            continue;
        };
        let metadata = payload(&dataset, &form, &org);
        // Only what meets the rules enters (it did when it was saved; the configuration may
        // have changed since).
        if !metadata.problems().is_empty() {
            continue;
        }
        modified = modified.max(dataset.updated_at);
        let mut place_names = Vec::new();
        for code in &metadata.spatial {
            if *code == province.code {
                place_names.push((code.clone(), province.name.clone()));
            } else if let Some(name) = crate::db::comuni::name_of(conn, code)? {
                place_names.push((code.clone(), name));
            }
        }
        let rows = format!("{base}/v1/datasets/{}/rows", dataset.name);
        let iri = dataset_iri(&base, &dataset.name);
        entries.push(CatalogueDataset {
            distributions: vec![
                Distribution {
                    iri: format!("{iri}/csv"),
                    url: format!("{rows}.csv"),
                    format: "CSV",
                },
                Distribution {
                    iri: format!("{iri}/json"),
                    url: rows,
                    format: "JSON",
                },
            ],
            iri,
            metadata,
            place_names,
        });
    }
    let catalogue = Catalogue {
        iri: format!("{base}/dati/catalogo"),
        base: base.clone(),
        title: format!("Catalogo dei dati aperti - {}", province.name),
        description: format!(
            "I dati aperti della {} pubblicati dal suo nodo Pi.Co., descritti secondo il profilo DCAT-AP_IT.",
            province.name
        ),
        publisher: org,
        homepage: format!("{base}/"),
        modified: day(if modified == 0 { db::now() } else { modified }),
    };
    Ok(dcat::catalogue_graph(&catalogue, &entries, None))
}
