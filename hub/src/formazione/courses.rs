//! The national catalogue of training: the editions of the courses each Province opens to the
//! staff of the other Provinces, from the rows of the federated `formazione_corsi` dataset
//! (schema in `protocol/datasets/formazione_corsi.md`; no personal data). What the API
//! (`GET /v1/formazione/courses`) and the page (`/formazione/corsi`) share: the query and its
//! checks, the search, the items as served, the CSV.

use pico_service::Problem;
use pico_service::csv::{CsvWriter, Separator};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{ATTRIBUTION, Format};
use crate::db::formazione::{self as db, CourseFilter, OpenCourse};
use crate::error::HubError;
use crate::query::{bad, present};

/// Editions per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u64 = 20;

/// The most editions a page may hold.
pub const MAX_PER_PAGE: u64 = 100;

/// The highest page number accepted.
pub const MAX_PAGE: u64 = 1_000_000;

/// The longest search text, in characters.
pub const MAX_QUERY: usize = 200;

/// The sector codes of the dataset with their Italian names.
pub const SECTORS: [(&str, &str); 5] = [
    ("appalti", "Appalti"),
    ("europa", "Europa"),
    ("innovazione", "Innovazione e Digitalizzazione"),
    ("personale", "Politiche del personale"),
    ("altro", "Altri settori"),
];

/// The Italian name of a sector code (the code itself if unknown).
pub fn sector_label(code: &str) -> &str {
    SECTORS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

/// The Italian name of a mode code.
pub fn mode_label(code: &str) -> &str {
    match code {
        "presence" => "In presenza",
        "online" => "Online in diretta",
        "elearning" => "E-learning in autoapprendimento",
        other => other,
    }
}

/// The Italian name of a Syllabus area code.
pub fn area_label(code: &str) -> &str {
    match code {
        "dati" => "Dati, informazioni e documenti informatici",
        "comunicazione" => "Comunicazione e condivisione",
        "sicurezza" => "Sicurezza",
        "servizi" => "Servizi online",
        "trasformazione" => "Trasformazione digitale",
        other => other,
    }
}

/// The Italian name of a Syllabus level code.
pub fn level_label(code: &str) -> &str {
    match code {
        "base" => "Base",
        "intermedio" => "Intermedio",
        "avanzato" => "Avanzato",
        other => other,
    }
}

/// The competence of a course as people read it: the Syllabus area and level, or the tags.
pub fn competence(course: &CourseItem) -> String {
    let mut parts = Vec::new();
    if let Some(area) = &course.syllabus_area {
        let mut text = format!("Syllabus: {}", area_label(area));
        if let Some(level) = &course.syllabus_level {
            text.push_str(&format!(" ({})", level_label(level).to_lowercase()));
        }
        parts.push(text);
    }
    if let Some(tags) = &course.tags {
        parts.push(tags.clone());
    }
    parts.join("; ")
}

/// The query string of `GET /v1/formazione/courses` (parameters left empty count as absent).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CourseParams {
    /// Words to find, all of them, in the title or the competences (at most 200 characters;
    /// case and accents as typed are ignored only for case).
    pub q: Option<String>,
    /// Only this sector: `appalti`, `europa`, `innovazione`, `personale` or `altro`.
    pub sector: Option<String>,
    /// Only Provinces of this region, named as ISTAT names it (e.g. `Veneto`).
    pub region: Option<String>,
    /// Only this Province (ISTAT historical code, e.g. `026`).
    pub province: Option<String>,
    /// The page, from 1 (default 1, at most 1000000).
    pub page: Option<String>,
    /// Editions per page: 1 to 100 (default 20).
    pub per_page: Option<String>,
    /// `json` (default) or `csv` (every matching edition, no pages).
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon`.
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

/// A parsed, valid query of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRequest {
    /// The filters read in SQL.
    pub filter: CourseFilter,
    /// The search words, lower-case.
    pub words: Vec<String>,
    /// The page, from 1.
    pub page: u64,
    /// Editions per page.
    pub per_page: u64,
    /// The answer's format.
    pub format: Format,
}

fn number(name: &str, value: Option<&String>, default: u64, max: u64) -> Result<u64, Problem> {
    match present(value) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "{name} «{text}» non valido: un numero intero da 1 a {max}"
                ))
            }),
    }
}

impl CourseParams {
    /// Checks the parameters, with an Italian message naming the one that is wrong; whether
    /// the region exists is checked against the database ([`crate::query::check_region`]).
    pub fn parse(&self) -> Result<CourseRequest, Problem> {
        let words = match present(self.q.as_ref()) {
            Some(text) if text.chars().count() > MAX_QUERY => {
                return Err(bad(format!(
                    "q troppo lungo: al massimo {MAX_QUERY} caratteri"
                )));
            }
            Some(text) => text.split_whitespace().map(str::to_lowercase).collect(),
            None => Vec::new(),
        };
        let sector = present(self.sector.as_ref())
            .map(|text| {
                SECTORS
                    .iter()
                    .find(|(code, _)| *code == text)
                    .map(|(code, _)| (*code).to_owned())
                    .ok_or_else(|| {
                        bad(format!(
                            "sector «{text}» non è un settore: usare appalti, europa, innovazione, personale oppure altro"
                        ))
                    })
            })
            .transpose()?;
        let province = crate::query::province(self.province.as_ref())?;
        let page = number("page", self.page.as_ref(), 1, MAX_PAGE)?;
        let per_page = number(
            "per_page",
            self.per_page.as_ref(),
            DEFAULT_PER_PAGE,
            MAX_PER_PAGE,
        )?;
        let format =
            crate::query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())?;
        let csv = matches!(format, Format::Csv(..));
        if csv && (self.page.is_some() || self.per_page.is_some()) {
            return Err(bad(
                "page e per_page valgono per le pagine JSON: format=csv dà tutte le edizioni trovate"
                    .to_owned(),
            ));
        }
        Ok(CourseRequest {
            filter: CourseFilter {
                sector,
                region: present(self.region.as_ref()).map(str::to_owned),
                province,
            },
            words,
            page,
            per_page,
            format,
        })
    }
}

/// An edition of an open course as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneOpenCourse)]
pub struct CourseItem {
    /// The Province that offers it (ISTAT historical code).
    pub province: String,
    /// Its name.
    pub province_name: String,
    /// Its region.
    pub region: String,
    /// The course's id on the Province's node.
    pub course: i64,
    /// The edition's id on the Province's node.
    pub edition: i64,
    /// Title.
    pub title: String,
    /// Sector code.
    pub sector: String,
    /// Its Italian name.
    pub sector_label: String,
    /// The course's nominal hours.
    pub hours: i64,
    /// Mode: `presence`, `online` or `elearning`.
    pub mode: String,
    /// Syllabus area (digital-skills courses).
    pub syllabus_area: Option<String>,
    /// Syllabus level.
    pub syllabus_level: Option<String>,
    /// Other competences, keywords separated by `, `.
    pub tags: Option<String>,
    /// First day of the edition, `YYYY-MM-DD`.
    pub first_day: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub last_day: Option<String>,
    /// Sessions.
    pub sessions: i64,
    /// Minutes of the sessions.
    pub minutes: i64,
    /// Seats.
    pub seats: i64,
    /// First day of enrolment.
    pub enrol_opens: Option<String>,
    /// Last day of enrolment.
    pub enrol_closes: Option<String>,
}

impl CourseItem {
    fn of(c: OpenCourse) -> CourseItem {
        CourseItem {
            sector_label: sector_label(&c.sector).to_owned(),
            province: c.province,
            province_name: c.province_name,
            region: c.region,
            course: c.course,
            edition: c.edition,
            title: c.title,
            sector: c.sector,
            hours: c.hours,
            mode: c.mode,
            syllabus_area: c.syllabus_area,
            syllabus_level: c.syllabus_level,
            tags: c.tags,
            first_day: c.first_day,
            last_day: c.last_day,
            sessions: c.sessions,
            minutes: c.minutes,
            seats: c.seats,
            enrol_opens: c.enrol_opens,
            enrol_closes: c.enrol_closes,
        }
    }

    fn matches(&self, words: &[String]) -> bool {
        if words.is_empty() {
            return true;
        }
        let mut text = self.title.to_lowercase();
        for part in [
            self.tags.as_deref(),
            self.syllabus_area.as_deref().map(area_label),
            Some(self.sector_label.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            text.push(' ');
            text.push_str(&part.to_lowercase());
        }
        words.iter().all(|word| text.contains(word.as_str()))
    }
}

/// A page of the catalogue as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneCoursesPage)]
pub struct CoursesPage {
    /// Editions matching the filters and the search, in all pages.
    pub total: u64,
    /// This page.
    pub page: u64,
    /// Editions per page.
    pub per_page: u64,
    /// This page's editions: newest first day first, then by Province.
    pub items: Vec<CourseItem>,
    /// Source of the names.
    pub attribution: &'static str,
}

/// The editions matching `request`: their number and those of its page (every one with
/// `all`).
pub fn search(
    conn: &Connection,
    request: &CourseRequest,
    all: bool,
) -> Result<(u64, Vec<CourseItem>), HubError> {
    crate::query::check_region(conn, request.filter.region.as_deref())?;
    let found: Vec<CourseItem> = db::open_courses(conn, &request.filter)?
        .into_iter()
        .map(CourseItem::of)
        .filter(|c| c.matches(&request.words))
        .collect();
    let total = u64::try_from(found.len()).unwrap_or(u64::MAX);
    if all {
        return Ok((total, found));
    }
    let skip =
        usize::try_from((request.page - 1).saturating_mul(request.per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(request.per_page).unwrap_or(usize::MAX);
    Ok((total, found.into_iter().skip(skip).take(take).collect()))
}

/// The CSV of the editions, one per line, with Italian headers.
pub fn courses_csv(items: &[CourseItem], sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = CsvWriter::new(sep, bom);
    writer.write([
        "codice_provincia",
        "provincia",
        "regione",
        "corso",
        "edizione",
        "titolo",
        "settore",
        "ore",
        "modalita",
        "area_syllabus",
        "livello_syllabus",
        "competenze",
        "primo_giorno",
        "ultimo_giorno",
        "sessioni",
        "minuti",
        "posti",
        "apertura_iscrizioni",
        "chiusura_iscrizioni",
    ])?;
    for c in items {
        let optional = |v: &Option<String>| v.clone().unwrap_or_default();
        writer.write([
            c.province.clone(),
            c.province_name.clone(),
            c.region.clone(),
            c.course.to_string(),
            c.edition.to_string(),
            c.title.clone(),
            c.sector.clone(),
            c.hours.to_string(),
            c.mode.clone(),
            optional(&c.syllabus_area),
            optional(&c.syllabus_level),
            optional(&c.tags),
            optional(&c.first_day),
            optional(&c.last_day),
            c.sessions.to_string(),
            c.minutes.to_string(),
            c.seats.to_string(),
            optional(&c.enrol_opens),
            optional(&c.enrol_closes),
        ])?;
    }
    writer.finish()
}

/// The page as served.
pub fn page_of(request: &CourseRequest, total: u64, items: Vec<CourseItem>) -> CoursesPage {
    CoursesPage {
        total,
        page: request.page,
        per_page: request.per_page,
        items,
        attribution: ATTRIBUTION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> CourseParams {
        let mut p = CourseParams::default();
        for (name, value) in pairs {
            let value = Some((*value).to_owned());
            match *name {
                "q" => p.q = value,
                "sector" => p.sector = value,
                "page" => p.page = value,
                "per_page" => p.per_page = value,
                "format" => p.format = value,
                "province" => p.province = value,
                _ => unreachable!(),
            }
        }
        p
    }

    #[test]
    fn limits_are_explicit_and_refused_in_italian() {
        let ok = params(&[]).parse().unwrap();
        assert_eq!((ok.page, ok.per_page), (1, DEFAULT_PER_PAGE));
        assert_eq!(
            params(&[("per_page", "100")]).parse().unwrap().per_page,
            100
        );
        for bad in [
            params(&[("per_page", "101")]),
            params(&[("per_page", "0")]),
            params(&[("page", "0")]),
            params(&[("page", "1000001")]),
            params(&[("sector", "sport")]),
            params(&[("province", "26")]),
            params(&[("format", "csv"), ("page", "2")]),
            params(&[("q", &"a".repeat(201))]),
        ] {
            let problem = bad.parse().unwrap_err();
            assert_eq!(problem.status(), axum::http::StatusCode::BAD_REQUEST);
            assert!(!problem.detail().unwrap().is_empty());
        }
        assert_eq!(
            params(&[("q", "  Codice  APPALTI ")])
                .parse()
                .unwrap()
                .words,
            ["codice", "appalti"]
        );
    }

    #[test]
    fn words_are_found_in_title_competences_and_sector() {
        let item = CourseItem {
            province: "026".into(),
            province_name: "Treviso".into(),
            region: "Veneto".into(),
            course: 1,
            edition: 2,
            title: "Il nuovo Codice dei contratti".into(),
            sector: "appalti".into(),
            sector_label: "Appalti".into(),
            hours: 6,
            mode: "online".into(),
            syllabus_area: None,
            syllabus_level: None,
            tags: Some("RUP, subappalto".into()),
            first_day: None,
            last_day: None,
            sessions: 1,
            minutes: 360,
            seats: 20,
            enrol_opens: None,
            enrol_closes: None,
        };
        assert!(item.matches(&["codice".into(), "rup".into()]));
        assert!(item.matches(&["appalti".into()]));
        assert!(!item.matches(&["codice".into(), "europa".into()]));
        assert!(!item.matches(&["treviso".into()]));
    }
}
