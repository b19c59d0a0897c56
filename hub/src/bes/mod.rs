//! ISTAT's BES dei territori (Benessere equo e sostenibile, the well-being indicators of the
//! Provinces), shared by the public API (`http::bes`) and the pages ([`pages`]): the domains
//! and their indicators, an indicator across every Province for a year and sex with its
//! ranking and the values of the regions and of Italy, and a Province's profile (every
//! indicator with its region and Italy, every year). The latest edition held is served; an
//! edition is read by [`import`] and stored by `db::bes`.
//!
//! **Ranking.** The Provinces of the registry with a value are ranked by value, highest first,
//! equal values sharing a place (1, 2, 2, 4). ISTAT's files give no polarity (whether more is
//! better), so the place says where a Province stands, not how well it does. Provinces the
//! registry no longer has (the Sardinian ones abolished since) are listed without a place.

pub mod cli;
pub mod import;
pub mod pages;

use std::collections::BTreeMap;

use pico_protocol::ProvinceCode;
use pico_service::Problem;
use pico_service::csv::{CsvWriter, Separator};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::db::bes::{self as store, Indicator, Territory};
use crate::error::HubError;
pub use crate::query::Format;
use crate::query::{self, bad, present};

/// Attribution required by the licence of the data.
pub const ATTRIBUTION: &str = "Fonte: Istat, BES dei territori (CC BY 4.0)";

/// The sexes of ISTAT's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sex {
    /// Both sexes.
    Total,
    /// Men.
    Male,
    /// Women.
    Female,
}

impl Sex {
    /// Every sex, in the order pages show them.
    pub const ALL: [Sex; 3] = [Sex::Total, Sex::Male, Sex::Female];

    /// The stored and API code: `totale`, `maschi`, `femmine`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Total => "totale",
            Sex::Male => "maschi",
            Sex::Female => "femmine",
        }
    }

    /// The label on pages and in CSV files.
    pub fn label(self) -> &'static str {
        match self {
            Sex::Total => "Totale",
            Sex::Male => "Maschi",
            Sex::Female => "Femmine",
        }
    }

    /// Parses the stored and API code.
    pub fn parse(text: &str) -> Option<Sex> {
        Sex::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Parses ISTAT's `SESSO` column.
    pub fn from_istat(text: &str) -> Option<Sex> {
        Sex::ALL.into_iter().find(|s| s.label() == text)
    }
}

/// A value as the CSV files write it: the shortest decimal that reads back the same.
pub fn value_text(value: f64) -> String {
    format!("{value}")
}

/// A value as pages show it: Italian notation, at most two decimals (the most ISTAT gives).
pub fn value_shown(value: Option<f64>) -> String {
    value.map_or_else(
        || "n.d.".to_owned(),
        |v| pico_service::format::decimal(v, 2),
    )
}

// ---------------------------------------------------------------------------------------
// Views

/// A domain of the BES.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BesDomain)]
pub struct DomainView {
    /// Its number, e.g. `01`.
    pub code: String,
    /// Its name, e.g. `Salute`.
    pub name: String,
    /// How many indicators it has in the edition.
    pub indicators: u64,
}

/// `GET /v1/bes/domains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BesDomains)]
pub struct DomainsView {
    /// The edition served (none when no edition was imported).
    pub edition: Option<i64>,
    /// The domains, by number.
    pub items: Vec<DomainView>,
    /// Source of the data.
    pub attribution: &'static str,
}

/// An indicator, as every answer describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BesIndicator)]
pub struct IndicatorView {
    /// ISTAT's code, e.g. `01SAL001` (a final `P`: a provincial measure only).
    pub code: String,
    /// The domain's number.
    pub domain_code: String,
    /// The domain's name.
    pub domain: String,
    /// Name.
    pub name: String,
    /// Unit of measure, e.g. `valori percentuali`.
    pub unit: String,
    /// Source.
    pub source: String,
    /// ISTAT's type: `Bes` (as in the national BES report), `Proxy` (approximates it) or
    /// `Locale` (of the BES dei territori only).
    pub kind: Option<String>,
    /// Definition, from ISTAT's metadata.
    pub definition: Option<String>,
    /// ISTAT's notes.
    pub note: Option<String>,
}

impl IndicatorView {
    fn of(i: &Indicator) -> IndicatorView {
        IndicatorView {
            code: i.code.clone(),
            domain_code: i.domain_code.clone(),
            domain: i.domain.clone(),
            name: i.name.clone(),
            unit: i.unit.clone(),
            source: i.source.clone(),
            kind: i.kind.clone(),
            definition: i.definition.clone(),
            note: i.note.clone(),
        }
    }
}

/// `GET /v1/bes/indicators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BesIndicators)]
pub struct IndicatorsView {
    /// The edition served (none when no edition was imported).
    pub edition: Option<i64>,
    /// The domain filter, if any.
    pub domain: Option<String>,
    /// The indicators, in ISTAT's order.
    pub items: Vec<IndicatorView>,
    /// Source of the data.
    pub attribution: &'static str,
}

/// A Province's place for an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesRankedProvince)]
pub struct RankedProvince {
    /// Place, 1 for the highest value (equal values share it); none without a value, or for
    /// a Province the registry no longer has.
    pub rank: Option<u32>,
    /// Historical ISTAT code; none for a Province the registry no longer has.
    pub province: Option<String>,
    /// Name, as ISTAT's file writes it.
    pub name: String,
    /// Region.
    pub region: String,
    /// Value; null when not available.
    pub value: Option<f64>,
}

/// A region's value for an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesRegionValue)]
pub struct RegionValue {
    /// Region, as ISTAT names it.
    pub name: String,
    /// Value; null when not available.
    pub value: Option<f64>,
}

/// `GET /v1/bes/indicators/{code}`: an indicator across the Provinces for a year and sex.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesIndicatorValues)]
pub struct RankingView {
    /// The edition.
    pub edition: i64,
    /// The indicator.
    pub indicator: IndicatorView,
    /// The sex shown: `totale`, `maschi` or `femmine`.
    pub sex: String,
    /// The year shown.
    pub year: i32,
    /// The years with a provincial value for this sex, ascending.
    pub years: Vec<i32>,
    /// The sexes with a provincial value.
    pub sexes: Vec<String>,
    /// Italy's value.
    pub italy: Option<f64>,
    /// The Provinces: ranked ones by place, then those without a value, then those the
    /// registry no longer has.
    pub items: Vec<RankedProvince>,
    /// The regions, in ISTAT's order.
    pub regions: Vec<RegionValue>,
    /// Source of the data.
    pub attribution: &'static str,
}

/// One year of a Province's series, with its region and Italy.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesProfilePoint)]
pub struct ProfilePoint {
    /// Year.
    pub year: i32,
    /// The Province's value.
    pub province: Option<f64>,
    /// Its region's value.
    pub region: Option<f64>,
    /// Italy's value.
    pub italy: Option<f64>,
    /// The value the Province computed itself and publishes in its `bes_provincia` dataset
    /// (the "BES delle Province"), beside ISTAT's: null where it published none.
    pub own: Option<f64>,
}

/// A series of a Province's profile: one sex, every year.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesProfileSeries)]
pub struct ProfileSeries {
    /// `totale`, `maschi` or `femmine`.
    pub sex: String,
    /// The years with a value for the Province (ISTAT's or its own), its region or Italy,
    /// ascending.
    pub points: Vec<ProfilePoint>,
}

/// An indicator of a Province's profile.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesProfileIndicator)]
pub struct ProfileIndicator {
    /// The indicator.
    pub indicator: IndicatorView,
    /// Its series, the total first.
    pub series: Vec<ProfileSeries>,
}

/// `GET /v1/bes/provinces/{code}`: a Province's profile.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesProfile)]
pub struct ProfileView {
    /// The edition.
    pub edition: i64,
    /// Historical ISTAT code.
    pub province: String,
    /// Name, as ISTAT's file writes it.
    pub name: String,
    /// Region.
    pub region: String,
    /// Every indicator with a value for the Province, its region or Italy, in ISTAT's order.
    pub indicators: Vec<ProfileIndicator>,
    /// Whether the Province publishes indicators it computes itself (`bes_provincia`).
    pub publishes_own: bool,
    /// The indicators the Province computes that ISTAT's edition does not have, in code order;
    /// their points carry only `own`.
    pub own_indicators: Vec<OwnIndicator>,
    /// Where the Province says its own values come from (the distinct `fonte` of its rows).
    pub own_sources: Vec<String>,
    /// Source of the data.
    pub attribution: &'static str,
}

/// An indicator a Province computes itself, outside ISTAT's edition.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BesOwnIndicator)]
pub struct OwnIndicator {
    /// The Province's code for it.
    pub code: String,
    /// Its domain, as the Province names it.
    pub domain: String,
    /// Name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Its series, the total first.
    pub series: Vec<ProfileSeries>,
}

// ---------------------------------------------------------------------------------------
// Queries

/// The query of `/v1/bes/indicators`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsParams {
    /// Only the indicators of this domain (its number, e.g. `01`).
    pub domain: Option<String>,
}

/// The query of `/v1/bes/indicators/{code}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValuesParams {
    /// The year (default: the latest with a provincial value).
    pub year: Option<String>,
    /// `totale` (default), `maschi` or `femmine`.
    pub sex: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon` (decimals then with a comma).
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

/// The query of `/v1/bes/provinces/{code}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProfileParams {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon` (decimals then with a comma).
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

impl ValuesParams {
    /// The year and sex asked, checked in form only (whether the indicator has them is
    /// checked against its data).
    pub fn parse(&self) -> Result<(Option<i32>, Option<Sex>, Format), Problem> {
        let year = match present(self.year.as_ref()) {
            None => None,
            Some(text) => Some(
                text.parse::<i32>()
                    .ok()
                    .filter(|y| (1900..=2200).contains(y))
                    .ok_or_else(|| bad(format!("year {text:?} non è un anno (ad esempio 2019)")))?,
            ),
        };
        let sex = match present(self.sex.as_ref()) {
            None => None,
            Some(text) => Some(Sex::parse(text).ok_or_else(|| {
                bad(format!(
                    "sex {text:?} non previsto: totale, maschi o femmine"
                ))
            })?),
        };
        let format = query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())?;
        Ok((year, sex, format))
    }
}

fn no_edition() -> HubError {
    Problem::not_found("Nessuna edizione del BES dei territori è stata importata nell'hub.").into()
}

/// The domains of the latest edition.
pub fn domains(conn: &Connection) -> Result<DomainsView, HubError> {
    let Some(edition) = store::latest_edition(conn)? else {
        return Ok(DomainsView {
            edition: None,
            items: Vec::new(),
            attribution: ATTRIBUTION,
        });
    };
    let mut items: BTreeMap<String, DomainView> = BTreeMap::new();
    for i in store::indicators(conn, edition, None)? {
        items
            .entry(i.domain_code.clone())
            .or_insert_with(|| DomainView {
                code: i.domain_code.clone(),
                name: i.domain.clone(),
                indicators: 0,
            })
            .indicators += 1;
    }
    Ok(DomainsView {
        edition: Some(edition),
        items: items.into_values().collect(),
        attribution: ATTRIBUTION,
    })
}

/// The indicators of the latest edition, of one domain if asked (an unknown domain is a 400
/// listing the domains).
pub fn indicators(conn: &Connection, domain: Option<&str>) -> Result<IndicatorsView, HubError> {
    let Some(edition) = store::latest_edition(conn)? else {
        return Ok(IndicatorsView {
            edition: None,
            domain: domain.map(str::to_owned),
            items: Vec::new(),
            attribution: ATTRIBUTION,
        });
    };
    let all = store::indicators(conn, edition, None)?;
    if let Some(domain) = domain
        && !all.iter().any(|i| i.domain_code == domain)
    {
        let mut codes: Vec<&str> = all.iter().map(|i| i.domain_code.as_str()).collect();
        codes.dedup();
        return Err(bad(format!(
            "domain {domain:?} non è un dominio del BES: usare il numero, uno di {}",
            codes.join(", ")
        ))
        .into());
    }
    Ok(IndicatorsView {
        edition: Some(edition),
        domain: domain.map(str::to_owned),
        items: all
            .iter()
            .filter(|i| domain.is_none_or(|d| d == i.domain_code))
            .map(IndicatorView::of)
            .collect(),
        attribution: ATTRIBUTION,
    })
}

fn find_indicator(conn: &Connection, code: &str) -> Result<(i64, Indicator), HubError> {
    let edition = store::latest_edition(conn)?.ok_or_else(no_edition)?;
    let indicator = store::indicator(conn, edition, code)?.ok_or_else(|| {
        HubError::from(Problem::not_found(format!(
            "Nessun indicatore del BES ha il codice {code:?} nell'edizione {edition}."
        )))
    })?;
    Ok((edition, indicator))
}

fn years_list(years: &[i32]) -> String {
    match (years.first(), years.last()) {
        (Some(first), Some(last)) => format!("dal {first} al {last}"),
        _ => "nessuno".to_owned(),
    }
}

/// Ranks `(index, value)` pairs by value, highest first, equal values sharing a place.
fn rank(values: &mut [(usize, f64)]) -> Vec<(usize, u32)> {
    values.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = Vec::with_capacity(values.len());
    let mut previous: Option<(f64, u32)> = None;
    for (position, &(index, value)) in values.iter().enumerate() {
        let place = match previous {
            Some((v, place)) if v == value => place,
            _ => u32::try_from(position + 1).unwrap_or(u32::MAX),
        };
        previous = Some((value, place));
        out.push((index, place));
    }
    out
}

/// An indicator across the Provinces for a year and sex (defaults: the total, the latest year
/// with a provincial value); a year or sex without provincial values is a 400 saying which
/// there are.
pub fn ranking(
    conn: &Connection,
    code: &str,
    year: Option<i32>,
    sex: Option<Sex>,
) -> Result<RankingView, HubError> {
    let (edition, indicator) = find_indicator(conn, code)?;
    let coverage = store::coverage(conn, indicator.id)?;
    let sexes: Vec<Sex> = {
        let mut s: Vec<Sex> = coverage.iter().map(|(s, _)| *s).collect();
        s.dedup();
        s
    };
    let sex = match sex {
        Some(sex) if !sexes.contains(&sex) => {
            return Err(bad(format!(
                "l'indicatore {code} non ha valori provinciali per sex={}: ci sono {}",
                sex.as_str(),
                sexes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
        Some(sex) => sex,
        None => sexes.first().copied().unwrap_or(Sex::Total),
    };
    let years: Vec<i32> = coverage
        .iter()
        .filter(|(s, _)| *s == sex)
        .map(|(_, y)| *y)
        .collect();
    let year = match year {
        Some(year) if !years.contains(&year) => {
            return Err(bad(format!(
                "l'indicatore {code} non ha valori provinciali nel {year} per sex={}: anni {}",
                sex.as_str(),
                years_list(&years)
            ))
            .into());
        }
        Some(year) => year,
        None => years.last().copied().ok_or_else(|| {
            HubError::from(Problem::not_found(format!(
                "L'indicatore {code} non ha valori provinciali."
            )))
        })?,
    };
    let territories = store::territories(conn, edition)?;
    let values: BTreeMap<i64, Option<f64>> = store::values(conn, indicator.id, sex, year)?
        .into_iter()
        .collect();
    let value_of = |t: &Territory| values.get(&t.id).copied().flatten();
    let provinces: Vec<&Territory> = territories
        .iter()
        .filter(|t| t.kind == "provincia")
        .collect();
    let mut rankable: Vec<(usize, f64)> = provinces
        .iter()
        .enumerate()
        .filter(|(_, t)| t.province.is_some())
        .filter_map(|(i, t)| value_of(t).map(|v| (i, v)))
        .collect();
    let places = rank(&mut rankable);
    let item = |t: &Territory, rank: Option<u32>| RankedProvince {
        rank,
        province: t.province.clone(),
        name: t.name.clone(),
        region: t.region.clone().unwrap_or_default(),
        value: value_of(t),
    };
    let mut items: Vec<RankedProvince> = places
        .iter()
        .map(|&(i, place)| item(provinces[i], Some(place)))
        .collect();
    let ranked: std::collections::BTreeSet<usize> = places.iter().map(|(i, _)| *i).collect();
    items.extend(
        provinces
            .iter()
            .enumerate()
            .filter(|(i, t)| !ranked.contains(i) && t.province.is_some())
            .map(|(_, t)| item(t, None)),
    );
    items.extend(
        provinces
            .iter()
            .filter(|t| t.province.is_none())
            .map(|t| item(t, None)),
    );
    Ok(RankingView {
        edition,
        indicator: IndicatorView::of(&indicator),
        sex: sex.as_str().to_owned(),
        year,
        years,
        sexes: sexes.iter().map(|s| s.as_str().to_owned()).collect(),
        italy: territories
            .iter()
            .find(|t| t.kind == "italia")
            .and_then(value_of),
        items,
        regions: territories
            .iter()
            .filter(|t| t.kind == "regione")
            .map(|t| RegionValue {
                name: t.name.clone(),
                value: value_of(t),
            })
            .collect(),
        attribution: ATTRIBUTION,
    })
}

/// A Province's profile: a malformed code is a 400, a code with no BES territory a 404.
pub fn profile(conn: &Connection, code: &str) -> Result<ProfileView, HubError> {
    let parsed = ProvinceCode::parse(code).map_err(|_| {
        bad(format!(
            "{code:?} non è un codice di Provincia: tre cifre, il codice storico ISTAT (ad esempio 026)"
        ))
    })?;
    let edition = store::latest_edition(conn)?.ok_or_else(no_edition)?;
    let territories = store::territories(conn, edition)?;
    let province = territories
        .iter()
        .find(|t| t.kind == "provincia" && t.province.as_deref() == Some(parsed.as_str()))
        .ok_or_else(|| {
            HubError::from(Problem::not_found(format!(
                "Nessuna Provincia con il codice {parsed} nell'edizione {edition} del BES dei territori."
            )))
        })?;
    let region = territories
        .iter()
        .find(|t| t.kind == "regione" && t.region == province.region);
    let italy = territories.iter().find(|t| t.kind == "italia");
    let ids: Vec<i64> = [Some(province), region, italy]
        .into_iter()
        .flatten()
        .map(|t| t.id)
        .collect();
    // (indicator, sex) → year → (province, region, italy, own)
    let mut series: BTreeMap<(i64, Sex), BTreeMap<i32, Point>> = BTreeMap::new();
    for cell in store::cells(conn, &ids)? {
        let point = series
            .entry((cell.indicator, cell.sex))
            .or_default()
            .entry(cell.year)
            .or_default();
        if cell.territory == province.id {
            point.0 = cell.value;
        } else if Some(cell.territory) == region.map(|r| r.id) {
            point.1 = cell.value;
        } else {
            point.2 = cell.value;
        }
    }
    let catalogue = store::indicators(conn, edition, None)?;
    // The Province's own values: beside ISTAT's where the code is one of its indicators, in
    // indicators of their own otherwise.
    let own = store::own_values(conn, parsed.as_str())?;
    let mut own_series: BTreeMap<(String, Sex), BTreeMap<i32, Point>> = BTreeMap::new();
    let mut own_described: BTreeMap<String, &store::OwnValue> = BTreeMap::new();
    let mut own_sources: Vec<String> = Vec::new();
    for value in own.iter().flat_map(|rows| rows.iter()) {
        if let Some(source) = &value.source
            && !own_sources.contains(source)
        {
            own_sources.push(source.clone());
        }
        let point = match catalogue.iter().find(|i| i.code == value.code) {
            Some(i) => series.entry((i.id, value.sex)).or_default(),
            None => {
                own_described.entry(value.code.clone()).or_insert(value);
                own_series
                    .entry((value.code.clone(), value.sex))
                    .or_default()
            }
        }
        .entry(value.year)
        .or_default();
        point.3 = value.value;
    }
    let indicators = catalogue
        .iter()
        .filter_map(|i| {
            let series = profile_series(|sex| series.get(&(i.id, sex)));
            (!series.is_empty()).then(|| ProfileIndicator {
                indicator: IndicatorView::of(i),
                series,
            })
        })
        .collect();
    let own_indicators = own_described
        .into_iter()
        .filter_map(|(code, v)| {
            let series = profile_series(|sex| own_series.get(&(code.clone(), sex)));
            (!series.is_empty()).then(|| OwnIndicator {
                code,
                domain: v.domain.clone(),
                name: v.name.clone(),
                unit: v.unit.clone(),
                series,
            })
        })
        .collect();
    Ok(ProfileView {
        edition,
        province: parsed.as_str().to_owned(),
        name: province.name.clone(),
        region: province.region.clone().unwrap_or_default(),
        indicators,
        publishes_own: own.is_some(),
        own_indicators,
        own_sources,
        attribution: ATTRIBUTION,
    })
}

/// A year of a profile: the Province (ISTAT), its region, Italy, the Province's own value.
type Point = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

/// The series of an indicator, one per sex with a value, the total first.
fn profile_series<'a>(
    points_of: impl Fn(Sex) -> Option<&'a BTreeMap<i32, Point>>,
) -> Vec<ProfileSeries> {
    Sex::ALL
        .iter()
        .filter_map(|sex| {
            let points: Vec<ProfilePoint> = points_of(*sex)?
                .iter()
                .filter(|(_, p)| p.0.is_some() || p.1.is_some() || p.2.is_some() || p.3.is_some())
                .map(|(year, p)| ProfilePoint {
                    year: *year,
                    province: p.0,
                    region: p.1,
                    italy: p.2,
                    own: p.3,
                })
                .collect();
            (!points.is_empty()).then(|| ProfileSeries {
                sex: sex.as_str().to_owned(),
                points,
            })
        })
        .collect()
}

fn cell(value: Option<f64>, sep: Separator) -> String {
    value.map_or_else(String::new, |v| sep.decimal(&value_text(v)))
}

impl RankingView {
    /// The CSV form: one line per Province, with the region's and Italy's value.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut out = CsvWriter::new(sep, bom);
        out.write([
            "codice_indicatore",
            "indicatore",
            "unita_misura",
            "anno",
            "sesso",
            "posizione",
            "codice_provincia",
            "provincia",
            "regione",
            "valore",
            "valore_regione",
            "valore_italia",
        ])?;
        let regions: BTreeMap<&str, Option<f64>> = self
            .regions
            .iter()
            .map(|r| (r.name.as_str(), r.value))
            .collect();
        let sex = Sex::parse(&self.sex).map_or("", Sex::label);
        for p in &self.items {
            out.write([
                self.indicator.code.clone(),
                self.indicator.name.clone(),
                self.indicator.unit.clone(),
                self.year.to_string(),
                sex.to_owned(),
                p.rank.map(|r| r.to_string()).unwrap_or_default(),
                p.province.clone().unwrap_or_default(),
                p.name.clone(),
                p.region.clone(),
                cell(p.value, sep),
                cell(regions.get(p.region.as_str()).copied().flatten(), sep),
                cell(self.italy, sep),
            ])?;
        }
        out.finish()
    }

    /// The CSV file's name.
    pub fn file_name(&self) -> String {
        format!("bes-{}-{}-{}.csv", self.indicator.code, self.year, self.sex)
    }
}

impl ProfileView {
    /// The CSV form: one line per indicator, sex and year; the Province's own values in their
    /// column (`valore_calcolato_provincia`), its own indicators after ISTAT's.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut out = CsvWriter::new(sep, bom);
        out.write([
            "codice_indicatore",
            "dominio",
            "indicatore",
            "unita_misura",
            "sesso",
            "anno",
            "valore_provincia",
            "valore_regione",
            "valore_italia",
            "valore_calcolato_provincia",
        ])?;
        let istat = self.indicators.iter().map(|i| {
            let i_ = &i.indicator;
            ((&i_.code, &i_.domain, &i_.name, &i_.unit), &i.series)
        });
        let own = self
            .own_indicators
            .iter()
            .map(|i| ((&i.code, &i.domain, &i.name, &i.unit), &i.series));
        for ((code, domain, name, unit), series) in istat.chain(own) {
            for s in series {
                let sex = Sex::parse(&s.sex).map_or("", Sex::label);
                for p in &s.points {
                    out.write([
                        code.clone(),
                        domain.clone(),
                        name.clone(),
                        unit.clone(),
                        sex.to_owned(),
                        p.year.to_string(),
                        cell(p.province, sep),
                        cell(p.region, sep),
                        cell(p.italy, sep),
                        cell(p.own, sep),
                    ])?;
                }
            }
        }
        out.finish()
    }

    /// The CSV file's name.
    pub fn file_name(&self) -> String {
        format!("bes-provincia-{}.csv", self.province)
    }
}

/// Imports the bundled edition when the database holds no edition: what `pico-hub init` does,
/// so a fresh hub (and the demo) shows the BES. Returns the counts when it imported.
pub fn import_bundled_if_empty(
    conn: &mut Connection,
) -> Result<Option<store::ImportCounts>, anyhow::Error> {
    if store::latest_edition(conn)?.is_some() {
        return Ok(None);
    }
    let registry = store::registry_units(conn)?;
    let edition = import::read(
        import::BUNDLED_INDICATORS,
        import::BUNDLED_METADATA,
        &registry,
    )?;
    Ok(Some(store::replace_edition(
        conn,
        import::BUNDLED_EDITION,
        import::BUNDLED_SOURCE,
        &edition,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_a_place() {
        let mut values = vec![(0, 5.0), (1, 9.0), (2, 5.0), (3, 1.5)];
        assert_eq!(rank(&mut values), vec![(1, 1), (0, 2), (2, 2), (3, 4)]);
    }

    #[test]
    fn sexes_read_as_istat_writes_them() {
        assert_eq!(Sex::from_istat("Femmine"), Some(Sex::Female));
        assert_eq!(Sex::parse("maschi"), Some(Sex::Male));
        assert_eq!(Sex::from_istat("totale"), None);
        assert_eq!(value_shown(Some(14627.6)), "14.627,6");
        assert_eq!(value_shown(None), "n.d.");
    }
}
