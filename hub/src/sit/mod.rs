//! The national view of the SIT (Servizi Innovativi Territoriali), shared by the public API
//! (`http::sit`) and the pages ([`pages`]): which services each Province offers its Comuni and
//! how many Comuni and residents each reaches; the coverage of the national platforms (SPID,
//! CIE, pagoPA, App IO, ANPR, PDND, qualified cloud) by Province and by region, as shares of
//! the Comuni and of the residents; and the national catalogue of the Provinces' services,
//! searchable across every Province so that one can copy what another already runs. Figures
//! are served as counts and shares as percentages with two decimals (rounded half away from
//! zero); every table has its CSV form with Italian headers. The rows are read by `db::sit`.

pub mod pages;

use std::collections::BTreeMap;

use pico_service::Problem;
use pico_service::csv::{CsvWriter, Separator};
use serde::{Deserialize, Serialize};

use crate::appalti::{rounded_div, scaled};
use crate::db::sit::{Contributor, PLATFORMS, Service};
pub use crate::query::Format;
use crate::query::{self, bad, flag, present};

/// Attribution required by the licence of the names shown (Provinces, regions).
pub const ATTRIBUTION: &str = "Nomi di Province e regioni: Fonte: Istat (CC BY 4.0)";

/// The categories of the catalogue (`protocol/datasets/sit_servizi.md`) with their labels.
pub const CATEGORIES: [(&str, &str); 11] = [
    (
        "digital_office",
        "Ufficio associato per la transizione digitale",
    ),
    ("identity", "Identità digitale (SPID, CIE)"),
    ("payments", "Pagamenti e servizi in app (pagoPA, App IO)"),
    ("anpr", "Anagrafe nazionale (ANPR)"),
    ("interoperability", "Interoperabilità (PDND)"),
    ("cloud", "Migrazione al cloud"),
    ("cybersecurity", "Sicurezza informatica"),
    ("privacy", "Protezione dei dati personali"),
    ("gis", "Sistema informativo territoriale (GIS)"),
    ("software", "Software condiviso"),
    ("other", "Altro"),
];

/// The Italian label of a category; the code itself for one the hub does not know.
pub fn category_label(code: &str) -> String {
    CATEGORIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, label)| (*label).to_owned())
}

/// The Italian label of a national platform of [`PLATFORMS`].
pub fn platform_label(code: &str) -> &'static str {
    match code {
        "spid" => "SPID",
        "cie" => "CIE",
        "pagopa" => "pagoPA",
        "app_io" => "App IO",
        "anpr" => "ANPR",
        "pdnd" => "PDND",
        "cloud" => "Cloud qualificato",
        _ => "Altra piattaforma",
    }
}

/// How a service is paid for, in words.
pub fn cost_text(service: &ServiceEntry) -> String {
    match service.cost_model.as_str() {
        "free" => "Gratuito".to_owned(),
        "fixed" => format!("{} all'anno", crate::format::euro(&service.fee)),
        "per_inhabitant" => format!(
            "{} per abitante all'anno",
            crate::format::euro(&service.fee)
        ),
        other => other.to_owned(),
    }
}

/// `part` over `whole` as a percentage with two decimals (`33.33`); `None` when `whole` is 0.
pub fn share(part: i128, whole: i128) -> Option<String> {
    (whole > 0).then(|| scaled(rounded_div(part * 10_000, whole), 2))
}

// ---------------------------------------------------------------------------------------
// What each Province offers

/// A service a Province offers, with its reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitOfferedService)]
pub struct OfferedService {
    /// The service's code in its Province.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Category code.
    pub category: String,
    /// Comuni with an active subscription.
    pub active_comuni: u64,
    /// Their residents.
    pub active_residents: u64,
}

/// What a Province offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitProvinceOffer)]
pub struct ProvinceOffer {
    /// Historical ISTAT code.
    pub province: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Services offered (withdrawn ones left out).
    pub service_count: u64,
    /// Active subscriptions over every service (a Comune counts once per service).
    pub active_subscriptions: u64,
    /// The services, by name.
    pub services: Vec<OfferedService>,
}

/// `GET /v1/sit/provinces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitOffersView)]
pub struct OffersView {
    /// The region filter, if any.
    pub region: Option<String>,
    /// Provinces that publish a catalogue, by code.
    pub items: Vec<ProvinceOffer>,
    /// Services offered in all.
    pub service_count: u64,
    /// Source of the names.
    pub attribution: &'static str,
}

fn offered(service: &Service) -> OfferedService {
    OfferedService {
        code: service.code.clone(),
        name: service.name.clone(),
        category: service.category.clone(),
        active_comuni: u64::try_from(service.active_comuni).unwrap_or(0),
        active_residents: u64::try_from(service.active_residents).unwrap_or(0),
    }
}

impl OffersView {
    /// The offer of every contributor that publishes a catalogue (of `region` only, if set).
    pub fn of(contributors: &[Contributor], region: Option<&str>) -> OffersView {
        let items: Vec<ProvinceOffer> = contributors
            .iter()
            .filter(|c| region.is_none_or(|r| r == c.region))
            .filter(|c| !c.holdings.services.is_empty())
            .map(|c| {
                let mut services: Vec<OfferedService> = c
                    .holdings
                    .services
                    .iter()
                    .filter(|s| !s.withdrawn)
                    .map(offered)
                    .collect();
                services.sort_by(|a, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
                ProvinceOffer {
                    province: c.code.clone(),
                    name: c.name.clone(),
                    region: c.region.clone(),
                    service_count: services.len() as u64,
                    active_subscriptions: services.iter().map(|s| s.active_comuni).sum(),
                    services,
                }
            })
            .collect();
        OffersView {
            region: region.map(str::to_owned),
            service_count: items.iter().map(|p| p.service_count).sum(),
            items,
            attribution: ATTRIBUTION,
        }
    }

    /// The CSV form: one line per Province and service.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut out = CsvWriter::new(sep, bom);
        out.write([
            "codice_provincia",
            "provincia",
            "regione",
            "codice_servizio",
            "servizio",
            "categoria",
            "comuni_aderenti",
            "abitanti_raggiunti",
        ])?;
        for p in &self.items {
            for s in &p.services {
                out.write([
                    p.province.clone(),
                    p.name.clone(),
                    p.region.clone(),
                    s.code.clone(),
                    s.name.clone(),
                    category_label(&s.category),
                    s.active_comuni.to_string(),
                    s.active_residents.to_string(),
                ])?;
            }
        }
        out.finish()
    }
}

// ---------------------------------------------------------------------------------------
// Coverage of the national platforms

/// How many Comuni (and residents) of a group use a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitPlatformShare)]
pub struct PlatformShare {
    /// Platform code (`spid`, `cie`, `pagopa`, `app_io`, `anpr`, `pdnd`, `cloud`).
    pub platform: String,
    /// Comuni that use it.
    pub comuni: u64,
    /// Their residents.
    pub residents: u64,
    /// Share of the group's Comuni, percent with two decimals (`null` with no Comuni).
    pub comuni_share: Option<String>,
    /// Share of the group's residents, percent with two decimals (`null` with no residents).
    pub residents_share: Option<String>,
}

/// The coverage of a Province, a region or the nation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitCoverageGroup)]
pub struct CoverageGroup {
    /// Province code, region name, or empty for the nation.
    pub key: String,
    /// The Province's or region's name; `Italia` for the nation.
    pub label: String,
    /// Provinces counted (that publish their Comuni's digital picture).
    pub provinces: u64,
    /// Comuni counted.
    pub comuni: u64,
    /// Their residents.
    pub residents: u64,
    /// Each platform, in the dataset's order.
    pub platforms: Vec<PlatformShare>,
}

#[derive(Default)]
struct Tally {
    provinces: u64,
    comuni: u64,
    residents: u64,
    using: [(u64, u64); 7],
}

impl Tally {
    fn add(&mut self, contributor: &Contributor) {
        self.provinces += 1;
        for picture in contributor.holdings.pictures.iter() {
            let residents = u64::try_from(picture.residents).unwrap_or(0);
            self.comuni += 1;
            self.residents += residents;
            for (used, tally) in picture.platforms.iter().zip(self.using.iter_mut()) {
                if *used {
                    tally.0 += 1;
                    tally.1 += residents;
                }
            }
        }
    }

    fn group(&self, key: String, label: String) -> CoverageGroup {
        CoverageGroup {
            key,
            label,
            provinces: self.provinces,
            comuni: self.comuni,
            residents: self.residents,
            platforms: PLATFORMS
                .iter()
                .zip(self.using)
                .map(|(platform, (comuni, residents))| PlatformShare {
                    platform: (*platform).to_owned(),
                    comuni,
                    residents,
                    comuni_share: share(i128::from(comuni), i128::from(self.comuni)),
                    residents_share: share(i128::from(residents), i128::from(self.residents)),
                })
                .collect(),
        }
    }
}

/// What the coverage is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageBy {
    /// Each Province.
    Province,
    /// Each region.
    Region,
}

impl CoverageBy {
    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageBy::Province => "province",
            CoverageBy::Region => "region",
        }
    }
}

/// `GET /v1/sit/coverage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitCoverageView)]
pub struct CoverageView {
    /// `province` or `region`.
    pub by: String,
    /// The region filter, if any.
    pub region: Option<String>,
    /// Every Comune counted.
    pub total: CoverageGroup,
    /// The groups, by Province code or region name.
    pub items: Vec<CoverageGroup>,
    /// Source of the names.
    pub attribution: &'static str,
}

impl CoverageView {
    /// The coverage of the contributors that publish their pictures, grouped by `by`.
    pub fn of(contributors: &[Contributor], by: CoverageBy, region: Option<&str>) -> CoverageView {
        let mut total = Tally::default();
        let mut groups: BTreeMap<String, (String, Tally)> = BTreeMap::new();
        for c in contributors
            .iter()
            .filter(|c| c.holdings.publishes_pictures)
            .filter(|c| region.is_none_or(|r| r == c.region))
        {
            total.add(c);
            let (key, label) = match by {
                CoverageBy::Province => (c.code.clone(), c.name.clone()),
                CoverageBy::Region => (c.region.clone(), c.region.clone()),
            };
            groups
                .entry(key)
                .or_insert_with(|| (label, Tally::default()))
                .1
                .add(c);
        }
        CoverageView {
            by: by.as_str().to_owned(),
            region: region.map(str::to_owned),
            total: total.group(String::new(), "Italia".to_owned()),
            items: groups
                .into_iter()
                .map(|(key, (label, tally))| tally.group(key, label))
                .collect(),
            attribution: ATTRIBUTION,
        }
    }

    /// The CSV form: one line per group and platform.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut out = CsvWriter::new(sep, bom);
        let key = match self.by.as_str() {
            "region" => "regione",
            _ => "codice_provincia",
        };
        out.write([
            key,
            "nome",
            "piattaforma",
            "comuni",
            "comuni_che_la_usano",
            "quota_comuni_percento",
            "abitanti",
            "abitanti_dei_comuni_che_la_usano",
            "quota_abitanti_percento",
        ])?;
        for group in &self.items {
            for p in &group.platforms {
                out.write([
                    group.key.clone(),
                    group.label.clone(),
                    platform_label(&p.platform).to_owned(),
                    group.comuni.to_string(),
                    p.comuni.to_string(),
                    p.comuni_share
                        .as_deref()
                        .map(|s| sep.decimal(s))
                        .unwrap_or_default(),
                    group.residents.to_string(),
                    p.residents.to_string(),
                    p.residents_share
                        .as_deref()
                        .map(|s| sep.decimal(s))
                        .unwrap_or_default(),
                ])?;
            }
        }
        out.finish()
    }
}

// ---------------------------------------------------------------------------------------
// The national catalogue

/// A service of the national catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitServiceEntry)]
pub struct ServiceEntry {
    /// The offering Province (historical ISTAT code).
    pub province: String,
    /// Its name.
    pub province_name: String,
    /// Its region.
    pub region: String,
    /// The service's code in its Province.
    pub code: String,
    /// Its current version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// Category code.
    pub category: String,
    /// Subject matter, 1–15 (schema.gov.it `public-services-subject-matters`).
    pub theme: Option<i64>,
    /// `all` or `under_threshold`.
    pub audience: String,
    /// With `under_threshold`, the residents below which a Comune may use it.
    pub population_threshold: Option<i64>,
    /// `free`, `fixed` or `per_inhabitant`.
    pub cost_model: String,
    /// The yearly fee (per inhabitant with `per_inhabitant`), euro as decimal text.
    pub fee: String,
    /// Hours promised to the first answer.
    pub first_answer_hours: Option<i64>,
    /// Hours promised to the resolution.
    pub resolution_hours: Option<i64>,
    /// Withdrawn from its Province's catalogue.
    pub withdrawn: bool,
    /// Comuni with an active subscription.
    pub active_comuni: u64,
    /// Their residents.
    pub active_residents: u64,
}

/// A search of the national catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueQuery {
    /// Words that must all appear in the name, the category or the Province's name.
    pub words: Vec<String>,
    /// Only this category (code).
    pub category: Option<String>,
    /// Only Provinces of this region.
    pub region: Option<String>,
    /// Only this Province.
    pub province: Option<String>,
    /// Withdrawn services too.
    pub withdrawn: bool,
}

/// The words of a search text, lower case.
pub fn search_words(q: &str) -> Vec<String> {
    q.split_whitespace().map(str::to_lowercase).collect()
}

/// `GET /v1/sit/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SitCatalogueView)]
pub struct CatalogueView {
    /// Services found, by Province and name.
    pub items: Vec<ServiceEntry>,
    /// Always null: the national catalogue fits one answer.
    pub next: Option<String>,
    /// Source of the names.
    pub attribution: &'static str,
}

impl CatalogueView {
    /// The services of every contributor that match `query`.
    pub fn of(contributors: &[Contributor], query: &CatalogueQuery) -> CatalogueView {
        let mut items = Vec::new();
        for c in contributors
            .iter()
            .filter(|c| query.region.as_ref().is_none_or(|r| *r == c.region))
            .filter(|c| query.province.as_ref().is_none_or(|p| *p == c.code))
        {
            for s in c.holdings.services.iter() {
                if s.withdrawn && !query.withdrawn {
                    continue;
                }
                if query.category.as_ref().is_some_and(|k| *k != s.category) {
                    continue;
                }
                let text = format!(
                    "{} {} {} {}",
                    s.name,
                    category_label(&s.category),
                    c.name,
                    c.region
                )
                .to_lowercase();
                if !query.words.iter().all(|w| text.contains(w.as_str())) {
                    continue;
                }
                items.push(ServiceEntry {
                    province: c.code.clone(),
                    province_name: c.name.clone(),
                    region: c.region.clone(),
                    code: s.code.clone(),
                    version: s.version,
                    name: s.name.clone(),
                    category: s.category.clone(),
                    theme: s.theme,
                    audience: s.audience.clone(),
                    population_threshold: s.population_threshold,
                    cost_model: s.cost_model.clone(),
                    fee: scaled(i128::from(s.fee_cents), 2),
                    first_answer_hours: s.first_answer_hours,
                    resolution_hours: s.resolution_hours,
                    withdrawn: s.withdrawn,
                    active_comuni: u64::try_from(s.active_comuni).unwrap_or(0),
                    active_residents: u64::try_from(s.active_residents).unwrap_or(0),
                });
            }
        }
        items.sort_by(|a, b| (&a.province, &a.name, &a.code).cmp(&(&b.province, &b.name, &b.code)));
        CatalogueView {
            items,
            next: None,
            attribution: ATTRIBUTION,
        }
    }

    /// The CSV form: one line per service.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut out = CsvWriter::new(sep, bom);
        out.write([
            "codice_provincia",
            "provincia",
            "regione",
            "codice_servizio",
            "versione",
            "servizio",
            "categoria",
            "destinatari",
            "soglia_abitanti",
            "modello_di_costo",
            "quota_euro",
            "ore_prima_risposta",
            "ore_risoluzione",
            "ritirato",
            "comuni_aderenti",
            "abitanti_raggiunti",
        ])?;
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        for s in &self.items {
            out.write([
                s.province.clone(),
                s.province_name.clone(),
                s.region.clone(),
                s.code.clone(),
                s.version.to_string(),
                s.name.clone(),
                category_label(&s.category),
                match s.audience.as_str() {
                    "under_threshold" => "Comuni sotto la soglia".to_owned(),
                    _ => "Tutti i Comuni".to_owned(),
                },
                number(s.population_threshold),
                match s.cost_model.as_str() {
                    "free" => "Gratuito".to_owned(),
                    "fixed" => "Quota fissa annua".to_owned(),
                    "per_inhabitant" => "Quota annua per abitante".to_owned(),
                    other => other.to_owned(),
                },
                sep.decimal(&s.fee),
                number(s.first_answer_hours),
                number(s.resolution_hours),
                if s.withdrawn { "sì" } else { "no" }.to_owned(),
                s.active_comuni.to_string(),
                s.active_residents.to_string(),
            ])?;
        }
        out.finish()
    }
}

// ---------------------------------------------------------------------------------------
// Query parameters

/// The query string of the SIT endpoints (empty parameters count as absent, as a form sends
/// them); each endpoint refuses the ones that do not apply to it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// Coverage only: `province` (default) or `region`.
    pub by: Option<String>,
    /// Only Provinces of this region, named as ISTAT names it (e.g. `Veneto`).
    pub region: Option<String>,
    /// Catalogue only: only this Province (ISTAT historical code, e.g. `026`).
    pub province: Option<String>,
    /// Catalogue only: words that must all appear in the service's name, category or
    /// Province.
    pub q: Option<String>,
    /// Catalogue only: only this category (`digital_office`, `identity`, `payments`, `anpr`,
    /// `interoperability`, `cloud`, `cybersecurity`, `privacy`, `gis`, `software`, `other`).
    pub category: Option<String>,
    /// Catalogue only: `1` includes withdrawn services.
    pub withdrawn: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon` (decimals then with a comma).
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

impl Params {
    /// The answer's format.
    pub fn format(&self) -> Result<Format, Problem> {
        query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())
    }

    /// The region filter (whether it exists is checked against the database by the caller).
    pub fn region(&self) -> Option<String> {
        present(self.region.as_ref()).map(str::to_owned)
    }

    /// Refuses the parameters in `names` (they belong to another endpoint).
    pub fn refuse(&self, names: &[&str], endpoint: &str) -> Result<(), Problem> {
        for name in names {
            let given = match *name {
                "by" => self.by.is_some(),
                "province" => self.province.is_some(),
                "q" => self.q.is_some(),
                "category" => self.category.is_some(),
                "withdrawn" => self.withdrawn.is_some(),
                _ => false,
            };
            if given {
                return Err(bad(format!("{name} non vale per {endpoint}")));
            }
        }
        Ok(())
    }

    /// The coverage's grouping.
    pub fn coverage_by(&self) -> Result<CoverageBy, Problem> {
        match present(self.by.as_ref()) {
            None | Some("province") => Ok(CoverageBy::Province),
            Some("region") => Ok(CoverageBy::Region),
            Some(other) => Err(bad(format!(
                "by «{other}» non valido: usare province oppure region"
            ))),
        }
    }

    /// The catalogue's search.
    pub fn catalogue(&self) -> Result<CatalogueQuery, Problem> {
        let category = present(self.category.as_ref())
            .map(|text| {
                CATEGORIES
                    .iter()
                    .find(|(code, _)| *code == text)
                    .map(|(code, _)| (*code).to_owned())
                    .ok_or_else(|| {
                        bad(format!(
                            "category «{text}» non è una categoria: usare una tra {}",
                            CATEGORIES.map(|(code, _)| code).join(", ")
                        ))
                    })
            })
            .transpose()?;
        let province = query::province(self.province.as_ref())?;
        Ok(CatalogueQuery {
            words: search_words(present(self.q.as_ref()).unwrap_or_default()),
            category,
            region: self.region(),
            province,
            withdrawn: flag("withdrawn", self.withdrawn.as_ref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_half_away_from_zero() {
        assert_eq!(share(1, 3), Some("33.33".to_owned()));
        assert_eq!(share(2, 3), Some("66.67".to_owned()));
        assert_eq!(share(1, 8), Some("12.50".to_owned()));
        assert_eq!(share(0, 0), None);
        assert_eq!(
            category_label("payments"),
            "Pagamenti e servizi in app (pagoPA, App IO)"
        );
        assert_eq!(category_label("nuova"), "nuova");
    }
}
