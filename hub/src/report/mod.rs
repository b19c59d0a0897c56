//! The report on the Provinces' information assets: what the hub holds, Province by
//! Province, by region and nationally — datasets published, open or internal, fresh or late
//! against the periodicity their metadata declare, licences, themes, completeness of the
//! metadata, rows — and which of the 86 UPI Provinces have not published yet.
//!
//! Computed on request from the national view and the metadata (`crate::db::report`); the
//! figures are a pure function of those and of the time ([`build`]), which the tests call
//! with a time of their choosing. Served as a page (`/dati/rapporto`, [`pages`]), which prints
//! as a report, and as JSON and CSV (`/v1/dati/rapporto`, `crate::http::report`).

pub mod pages;

use std::collections::{BTreeMap, BTreeSet};

use pico_protocol::dcat::{self, DatasetMetadata};
use serde::Serialize;

use crate::db::report::{Published, Unit};

/// The DCAT-AP 2.1.1 recommended properties counted for the completeness of a dataset's
/// metadata (its mandatory ones, title and description, are always there: the protocol
/// refuses metadata without them), with their Italian names. `dcat:distribution`, also
/// recommended, is left out: the hub itself adds the distributions of every dataset.
pub const RECOMMENDED: [(&str, &str); 7] = [
    ("dcat:contactPoint", "punto di contatto"),
    ("dcat:keyword", "parole chiave"),
    ("dcat:theme", "temi"),
    ("dct:publisher", "editore"),
    ("dct:spatial", "copertura geografica"),
    ("dct:temporal", "copertura temporale"),
    ("dct:license", "licenza (delle distribuzioni)"),
];

/// Which of [`RECOMMENDED`] the metadata have.
pub fn recommended_present(m: &DatasetMetadata) -> [bool; RECOMMENDED.len()] {
    [
        !m.contact_point.trim().is_empty(),
        m.keywords.iter().any(|k| !k.trim().is_empty()),
        !m.themes.is_empty(),
        !m.publisher.name.trim().is_empty() && !m.publisher.ipa_code.trim().is_empty(),
        !m.spatial.is_empty(),
        m.temporal.is_some(),
        !m.license.trim().is_empty(),
    ]
}

/// How many days at most may pass between two changes of a dataset with this EU frequency;
/// `None` when the frequency sets no deadline (irregular, never, unknown, or not one of the
/// vocabulary's).
pub fn max_age_days(frequency: &str) -> Option<i64> {
    let code = frequency
        .strip_prefix(dcat::FREQUENCY_SCHEME)?
        .strip_prefix('/')?;
    Some(match code {
        "UPDATE_CONT" | "CONT" | "DAILY" => 1,
        "WEEKLY" => 7,
        "BIWEEKLY" => 14,
        "MONTHLY" => 31,
        "BIMONTHLY" => 62,
        "QUARTERLY" => 92,
        "ANNUAL_2" | "BIANNUAL" => 183,
        "ANNUAL" => 366,
        "BIENNIAL" => 731,
        "TRIENNIAL" => 1096,
        _ => return None,
    })
}

/// A dataset's freshness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Changed within its declared period.
    OnTime,
    /// Not changed for longer than its declared period.
    Late,
    /// No metadata, or a periodicity with no deadline.
    NotAssessable,
}

/// Unix seconds of midnight UTC of a `YYYY-MM-DD` date.
fn day_start(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(date, &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// The last change of a dataset: its rows' last change at the hub, or the `modified` date of
/// its metadata when later (a Province may change only a description).
pub fn last_change(published: &Published) -> i64 {
    published
        .metadata
        .as_ref()
        .and_then(|m| day_start(&m.modified))
        .map_or(published.updated_at, |m| m.max(published.updated_at))
}

/// Whether `published` changed within its declared period at `now` (Unix seconds).
pub fn freshness(published: &Published, now: i64) -> Freshness {
    let Some(days) = published
        .metadata
        .as_ref()
        .and_then(|m| max_age_days(&m.accrual_periodicity))
    else {
        return Freshness::NotAssessable;
    };
    if now - last_change(published) <= days * 86_400 {
        Freshness::OnTime
    } else {
        Freshness::Late
    }
}

/// The figures of a Province, a region or the country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ReportFigures)]
pub struct Figures {
    /// Datasets published (contributed to the national view).
    pub datasets: u64,
    /// Of which open data (in the public catalogue).
    pub open: u64,
    /// Of which internal to Pi.Co., by their metadata.
    pub internal: u64,
    /// Of which without metadata (not in the catalogue either).
    pub without_metadata: u64,
    /// Changed within the periodicity their metadata declare.
    pub on_time: u64,
    /// Not changed for longer than that.
    pub late: u64,
    /// Without metadata, or with a periodicity that sets no deadline.
    pub not_assessable: u64,
    /// Rows in the national view.
    pub rows: u64,
    /// Recommended DCAT-AP properties present, over all datasets (see `recommended`).
    pub metadata_present: u64,
    /// Recommended DCAT-AP properties expected: 7 per dataset.
    pub metadata_expected: u64,
    /// `metadata_present` over `metadata_expected`, in whole percent (rounded half up); null
    /// without datasets.
    pub completeness_percent: Option<u64>,
}

impl Figures {
    fn add_dataset(&mut self, published: &Published, now: i64) {
        self.datasets += 1;
        self.rows += published.rows;
        match &published.metadata {
            Some(m) if m.open => self.open += 1,
            Some(_) => self.internal += 1,
            None => self.without_metadata += 1,
        }
        match freshness(published, now) {
            Freshness::OnTime => self.on_time += 1,
            Freshness::Late => self.late += 1,
            Freshness::NotAssessable => self.not_assessable += 1,
        }
        self.metadata_expected += RECOMMENDED.len() as u64;
        if let Some(m) = &published.metadata {
            self.metadata_present += recommended_present(m).iter().filter(|p| **p).count() as u64;
        }
        self.complete();
    }

    fn add(&mut self, other: &Figures) {
        self.datasets += other.datasets;
        self.open += other.open;
        self.internal += other.internal;
        self.without_metadata += other.without_metadata;
        self.on_time += other.on_time;
        self.late += other.late;
        self.not_assessable += other.not_assessable;
        self.rows += other.rows;
        self.metadata_present += other.metadata_present;
        self.metadata_expected += other.metadata_expected;
        self.complete();
    }

    fn complete(&mut self) {
        self.completeness_percent = (self.metadata_expected > 0).then(|| {
            (self.metadata_present * 100 + self.metadata_expected / 2) / self.metadata_expected
        });
    }
}

/// One Province's part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProvinceReport {
    /// ISTAT code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// One of the 86 Provinces of the UPI programme.
    pub upi: bool,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Licences of its datasets (AgID vocabulary URIs), sorted.
    pub licences: Vec<String>,
    /// Themes of its datasets (EU data-theme URIs), sorted.
    pub themes: Vec<String>,
    /// Its last change (RFC 3339), null if it has published nothing.
    pub last_change: Option<String>,
}

/// One region's part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegionReport {
    /// Region.
    pub region: String,
    /// UPI Provinces in the region.
    pub upi_provinces: u64,
    /// Units of the region that have published at least one dataset.
    pub publishing: u64,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// How many datasets use a licence or cover a theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Usage {
    /// Vocabulary URI.
    pub uri: String,
    /// Its Italian label (the URI when it is not in the vocabulary).
    pub label: String,
    /// Datasets.
    pub datasets: u64,
}

/// A Province that has not published yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Missing {
    /// ISTAT code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
}

/// The national part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NationalReport {
    /// UPI Provinces (86).
    pub upi_provinces: u64,
    /// UPI Provinces that have published at least one dataset.
    pub upi_publishing: u64,
    /// Units publishing in all (UPI or not).
    pub publishing: u64,
    /// The figures summed.
    #[serde(flatten)]
    pub figures: Figures,
    /// Licences, by datasets using them.
    pub licences: Vec<Usage>,
    /// Themes, by datasets covering them.
    pub themes: Vec<Usage>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// When it was computed (RFC 3339).
    pub generated_at: String,
    /// The country.
    pub national: NationalReport,
    /// By region, by name.
    pub regions: Vec<RegionReport>,
    /// Every UPI Province and every other unit that has published, by code.
    pub provinces: Vec<ProvinceReport>,
    /// UPI Provinces that have not published yet, by code.
    pub not_published: Vec<Missing>,
    /// The recommended DCAT-AP properties counted for completeness.
    pub recommended_properties: Vec<String>,
}

fn usage(counts: BTreeMap<String, u64>, label: fn(&str) -> Option<&'static str>) -> Vec<Usage> {
    let mut out: Vec<Usage> = counts
        .into_iter()
        .map(|(uri, datasets)| Usage {
            label: label(&uri).map_or_else(|| uri.clone(), str::to_owned),
            uri,
            datasets,
        })
        .collect();
    out.sort_by(|a, b| {
        b.datasets
            .cmp(&a.datasets)
            .then_with(|| a.label.cmp(&b.label))
    });
    out
}

/// The report of `units` and what they `published`, at `now` (Unix seconds).
pub fn build(units: &[Unit], published: &[Published], now: i64) -> Report {
    let mut provinces: BTreeMap<&str, ProvinceReport> = BTreeMap::new();
    let mut licences: BTreeMap<String, u64> = BTreeMap::new();
    let mut themes: BTreeMap<String, u64> = BTreeMap::new();
    let unit_of: BTreeMap<&str, &Unit> = units.iter().map(|u| (u.code.as_str(), u)).collect();
    let blank = |unit: &Unit| ProvinceReport {
        code: unit.code.clone(),
        name: unit.name.clone(),
        region: unit.region.clone(),
        upi: unit.upi,
        figures: Figures::default(),
        licences: Vec::new(),
        themes: Vec::new(),
        last_change: None,
    };
    for unit in units.iter().filter(|u| u.upi) {
        provinces.insert(&unit.code, blank(unit));
    }
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for item in published {
        let Some(unit) = unit_of.get(item.province.as_str()) else {
            continue;
        };
        let report = provinces
            .entry(unit.code.as_str())
            .or_insert_with(|| blank(unit));
        report.figures.add_dataset(item, now);
        if let Some(m) = &item.metadata {
            if !m.license.trim().is_empty() {
                if !report.licences.contains(&m.license) {
                    report.licences.push(m.license.clone());
                }
                *licences.entry(m.license.clone()).or_default() += 1;
            }
            for theme in &m.themes {
                if !report.themes.contains(theme) {
                    report.themes.push(theme.clone());
                }
                *themes.entry(theme.clone()).or_default() += 1;
            }
        }
        let change = last.entry(unit.code.as_str()).or_insert(i64::MIN);
        *change = (*change).max(last_change(item));
    }
    let mut regions: BTreeMap<String, RegionReport> = BTreeMap::new();
    let mut national = Figures::default();
    let mut publishing = BTreeSet::new();
    for report in provinces.values_mut() {
        report.licences.sort();
        report.themes.sort();
        report.last_change = last
            .get(report.code.as_str())
            .map(|t| crate::db::rfc3339(*t));
        let region = regions
            .entry(report.region.clone())
            .or_insert_with(|| RegionReport {
                region: report.region.clone(),
                upi_provinces: 0,
                publishing: 0,
                figures: Figures::default(),
            });
        region.upi_provinces += u64::from(report.upi);
        if report.figures.datasets > 0 {
            region.publishing += 1;
            publishing.insert((report.code.clone(), report.upi));
        }
        region.figures.add(&report.figures);
        national.add(&report.figures);
    }
    let not_published = provinces
        .values()
        .filter(|p| p.upi && p.figures.datasets == 0)
        .map(|p| Missing {
            code: p.code.clone(),
            name: p.name.clone(),
            region: p.region.clone(),
        })
        .collect();
    Report {
        generated_at: crate::db::rfc3339(now),
        national: NationalReport {
            upi_provinces: units.iter().filter(|u| u.upi).count() as u64,
            upi_publishing: publishing.iter().filter(|(_, upi)| *upi).count() as u64,
            publishing: publishing.len() as u64,
            figures: national,
            licences: usage(licences, dcat::licence_label),
            themes: usage(themes, dcat::theme_label),
        },
        regions: regions.into_values().collect(),
        provinces: provinces.into_values().collect(),
        not_published,
        recommended_properties: RECOMMENDED.iter().map(|(p, _)| (*p).to_owned()).collect(),
    }
}

/// The report as CSV: one line per Province (every UPI Province, and every other unit that
/// has published), with Italian headers.
pub fn csv(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut writer = pico_service::csv::CsvWriter::new(pico_service::csv::Separator::Comma, false);
    writer.write([
        "codice",
        "provincia",
        "regione",
        "upi",
        "dataset",
        "aperti",
        "interni",
        "senza_metadati",
        "aggiornati",
        "in_ritardo",
        "non_valutabili",
        "righe",
        "proprieta_presenti",
        "proprieta_attese",
        "completezza_metadati_percento",
        "licenze",
        "temi",
        "ultimo_aggiornamento",
    ])?;
    for p in &report.provinces {
        let f = &p.figures;
        let labels = |uris: &[String], label: fn(&str) -> Option<&'static str>| {
            uris.iter()
                .map(|u| label(u).unwrap_or(u.as_str()))
                .collect::<Vec<_>>()
                .join("; ")
        };
        writer.write([
            p.code.clone(),
            p.name.clone(),
            p.region.clone(),
            if p.upi { "sì" } else { "no" }.to_owned(),
            f.datasets.to_string(),
            f.open.to_string(),
            f.internal.to_string(),
            f.without_metadata.to_string(),
            f.on_time.to_string(),
            f.late.to_string(),
            f.not_assessable.to_string(),
            f.rows.to_string(),
            f.metadata_present.to_string(),
            f.metadata_expected.to_string(),
            f.completeness_percent
                .map(|c| c.to_string())
                .unwrap_or_default(),
            labels(&p.licences, dcat::licence_label),
            labels(&p.themes, dcat::theme_label),
            p.last_change.clone().unwrap_or_default(),
        ])?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodicities_set_deadlines_and_irregular_ones_none() {
        let f = |code| max_age_days(&dcat::concept_uri(dcat::FREQUENCY_SCHEME, code));
        assert_eq!(f("MONTHLY"), Some(31));
        assert_eq!(f("ANNUAL"), Some(366));
        assert_eq!(f("IRREG"), None);
        assert_eq!(f("UNKNOWN"), None);
        assert_eq!(max_age_days("http://example.org/MONTHLY"), None);
    }

    #[test]
    fn a_day_starts_at_midnight_utc() {
        assert_eq!(day_start("1970-01-02"), Some(86_400));
        assert_eq!(day_start("2026-13-01"), None);
    }
}
