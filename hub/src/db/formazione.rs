//! Formazione at the hub: the programme's training targets (held in `formazione_targets` and
//! `formazione_rules`, signed for the nodes by `http::formazione`) and the national progress
//! read from the rows of the federated `formazione_aggregati` dataset (counts and minutes per
//! Province, sector and year; schema in `protocol/datasets/formazione_aggregati.md`).
//!
//! A Province's rows are a few per year (one per sector), so the whole programme is at most a
//! few thousand small rows: every view reads them once, per request, in key order of the rows
//! index, and sums them in memory (`crate::formazione` groups them).

use std::collections::BTreeMap;

use pico_protocol::Timestamp;
use pico_protocol::targets::{FormazioneTargets, SectorTarget, TARGETS_VERSION};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use super::contributions::each_row;
use super::{DbError, now_unix};

/// The dataset's name.
pub const DATASET: &str = "formazione_aggregati";

/// The dataset's primary key as `dataset_contributions` stores it: a Province whose rows of
/// that name have another key is left out (they are not the national schema).
const SCHEMA_KEY: &str = r#"["sector","year"]"#;

/// The targets as the hub holds them now.
pub fn targets(conn: &Connection) -> Result<FormazioneTargets, DbError> {
    let (hours, revision, updated_at): (i64, i64, i64) = conn.query_row(
        "SELECT hours_per_person_year, revision, updated_at FROM formazione_rules WHERE id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT sector, label, people_per_province FROM formazione_targets ORDER BY position, sector",
    )?;
    let sectors = stmt
        .query_map([], |row| {
            Ok(SectorTarget {
                sector: row.get(0)?,
                label: row.get(1)?,
                people_per_province: row.get::<_, i64>(2)?.max(0).unsigned_abs(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let provinces: i64 =
        conn.query_row("SELECT count(*) FROM provinces WHERE upi = 1", [], |row| {
            row.get(0)
        })?;
    Ok(FormazioneTargets {
        v: TARGETS_VERSION,
        revision: revision.max(0).unsigned_abs(),
        updated_at: Timestamp::from_unix(updated_at)
            .map_err(|e| super::corrupt("formazione_rules", e))?,
        provinces: provinces.max(0).unsigned_abs(),
        hours_per_person_year: hours.max(0).unsigned_abs(),
        sectors,
    })
}

/// Sets the people per Province of the sectors named (others keep theirs) and, if given, the
/// hours per employee per year; the revision goes up by one when something changed. A sector
/// not yet held is added after the others. Returns the targets as they are now.
pub fn set_targets(
    conn: &mut Connection,
    sectors: &[(String, String, u64)],
    hours_per_person_year: Option<u64>,
) -> Result<FormazioneTargets, DbError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut changed = 0;
    for (sector, label, people) in sectors {
        let people = i64::try_from(*people).unwrap_or(i64::MAX);
        let current: Option<(String, i64)> = tx
            .query_row(
                "SELECT label, people_per_province FROM formazione_targets WHERE sector = ?1",
                [sector],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match current {
            Some((old_label, old_people)) => {
                let label = if label.is_empty() { &old_label } else { label };
                if *label != old_label || people != old_people {
                    changed += tx.execute(
                        "UPDATE formazione_targets SET label = ?2, people_per_province = ?3
                         WHERE sector = ?1",
                        params![sector, label, people],
                    )?;
                }
            }
            None => {
                changed += tx.execute(
                    "INSERT INTO formazione_targets (sector, label, position, people_per_province)
                     VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM formazione_targets), ?3)",
                    params![sector, if label.is_empty() { sector } else { label }, people],
                )?;
            }
        }
    }
    if let Some(hours) = hours_per_person_year {
        changed += tx.execute(
            "UPDATE formazione_rules SET hours_per_person_year = ?1
             WHERE id = 1 AND hours_per_person_year <> ?1",
            [i64::try_from(hours).unwrap_or(i64::MAX)],
        )?;
    }
    if changed > 0 {
        tx.execute(
            "UPDATE formazione_rules SET revision = revision + 1, updated_at = ?1 WHERE id = 1",
            [now_unix()],
        )?;
    }
    let targets = targets(&tx)?;
    tx.commit()?;
    Ok(targets)
}

/// Additive figures of one or more `formazione_aggregati` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Editions whose first session is in the years.
    pub editions: u64,
    /// Sessions.
    pub sessions: u64,
    /// Minutes of the sessions (scheduled).
    pub minutes_scheduled: u64,
    /// Enrolments holding a seat.
    pub enrolled: u64,
    /// Of which completed.
    pub completed: u64,
    /// People trained (summed over years: a person trained in two years counts twice).
    pub people_trained: u64,
    /// Minutes attended.
    pub minutes_attended: u64,
}

impl Tally {
    /// Adds `other`.
    pub fn add(&mut self, other: &Tally) {
        self.editions += other.editions;
        self.sessions += other.sessions;
        self.minutes_scheduled += other.minutes_scheduled;
        self.enrolled += other.enrolled;
        self.completed += other.completed;
        self.people_trained += other.people_trained;
        self.minutes_attended += other.minutes_attended;
    }
}

/// The fields of a row the view reads; the others are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AggregateRow {
    sector: Option<String>,
    year: Option<i64>,
    editions: Option<i64>,
    sessions: Option<i64>,
    minutes_scheduled: Option<i64>,
    enrolled: Option<i64>,
    completed: Option<i64>,
    people_trained: Option<i64>,
    minutes_attended: Option<i64>,
}

/// A count as published; a negative one (which the node never writes) counts as none.
fn non_negative(value: Option<i64>) -> u64 {
    value.unwrap_or(0).max(0).unsigned_abs()
}

impl AggregateRow {
    fn tally(&self) -> Tally {
        Tally {
            editions: non_negative(self.editions),
            sessions: non_negative(self.sessions),
            minutes_scheduled: non_negative(self.minutes_scheduled),
            enrolled: non_negative(self.enrolled),
            completed: non_negative(self.completed),
            people_trained: non_negative(self.people_trained),
            minutes_attended: non_negative(self.minutes_attended),
        }
    }
}

/// A Province as the progress view sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvinceProgress {
    /// Historical code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region, as ISTAT names it.
    pub region: String,
    /// One of the programme's Provinces (the targets apply to it).
    pub programme: bool,
    /// It publishes the dataset.
    pub publishing: bool,
    /// Its figures per sector code, over the years asked.
    pub sectors: BTreeMap<String, Tally>,
}

/// Which rows are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this year.
    pub year: Option<i64>,
    /// Only Provinces of this region.
    pub region: Option<String>,
}

/// Every Province of the programme, and every other Province that publishes the dataset, in
/// the region asked, by code, with its figures per sector over the year asked (every year
/// without one).
pub fn provinces(conn: &Connection, filter: &Filter) -> Result<Vec<ProvinceProgress>, DbError> {
    let mut publishing: BTreeMap<String, i64> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT c.province, c.dataset_id FROM datasets d
             JOIN dataset_contributions c ON c.dataset_id = d.id
             WHERE d.name = ?1 AND c.primary_key = ?2",
        )?;
        let rows = stmt.query_map(params![DATASET, SCHEMA_KEY], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (province, dataset) = row?;
            publishing.insert(province, dataset);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT code, name, region, upi FROM provinces
         WHERE (?1 IS NULL OR region = ?1) ORDER BY code",
    )?;
    let found = stmt
        .query_map(params![filter.region], |row| {
            Ok(ProvinceProgress {
                code: row.get(0)?,
                name: row.get(1)?,
                region: row.get(2)?,
                programme: row.get::<_, i64>(3)? == 1,
                ..ProvinceProgress::default()
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for mut province in found {
        let Some(dataset) = publishing.get(&province.code) else {
            if province.programme {
                out.push(province);
            }
            continue;
        };
        province.publishing = true;
        let code = province.code.clone();
        each_row(conn, *dataset, &code, |data| {
            // A row that does not follow the schema is not counted.
            let Ok(row) = serde_json::from_str::<AggregateRow>(data) else {
                return;
            };
            let (Some(sector), Some(year)) = (&row.sector, row.year) else {
                return;
            };
            if filter.year.is_some_and(|wanted| wanted != year) {
                return;
            }
            province
                .sectors
                .entry(sector.clone())
                .or_default()
                .add(&row.tally());
        })?;
        out.push(province);
    }
    Ok(out)
}

/// The years the published rows cover, newest first (for the page's choice).
pub fn years(conn: &Connection) -> Result<Vec<i64>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT CAST(json_extract(r.data, '$.year') AS INTEGER) AS year
         FROM datasets d JOIN dataset_contributions c ON c.dataset_id = d.id
         JOIN dataset_rows r ON r.dataset_id = c.dataset_id AND r.province = c.province
         WHERE d.name = ?1 AND c.primary_key = ?2 AND json_extract(r.data, '$.year') IS NOT NULL
         ORDER BY year DESC",
    )?;
    let years = stmt
        .query_map(params![DATASET, SCHEMA_KEY], |row| row.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(years)
}

// ---------------------------------------------------------------------------------------
// The national catalogue of courses open to other Provinces (`formazione_corsi`)

/// The catalogue dataset's name.
pub const COURSES_DATASET: &str = "formazione_corsi";

/// Its primary key as `dataset_contributions` stores it.
const COURSES_KEY: &str = r#"["course","edition"]"#;

/// An edition of a course open to other Provinces, as one Province published it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OpenCourse {
    /// The Province's historical code (not in the row: the Province that signed it).
    #[serde(skip)]
    pub province: String,
    /// Its name.
    #[serde(skip)]
    pub province_name: String,
    /// Its region.
    #[serde(skip)]
    pub region: String,
    /// The course's id on the node.
    pub course: i64,
    /// The edition's id on the node.
    pub edition: i64,
    /// Title.
    pub title: String,
    /// Sector code.
    pub sector: String,
    /// Nominal hours.
    pub hours: i64,
    /// Mode code.
    pub mode: String,
    /// Syllabus area code.
    pub syllabus_area: Option<String>,
    /// Syllabus level code.
    pub syllabus_level: Option<String>,
    /// Free competence keywords.
    pub tags: Option<String>,
    /// First day, `YYYY-MM-DD`.
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

/// Which open courses are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseFilter {
    /// Only this sector code.
    pub sector: Option<String>,
    /// Only Provinces of this region.
    pub region: Option<String>,
    /// Only this Province.
    pub province: Option<String>,
}

/// Every published edition of an open course that passes `filter`, newest first day first,
/// then by Province and key (a stable order, for pages). Rows that do not follow the schema
/// are left out.
pub fn open_courses(conn: &Connection, filter: &CourseFilter) -> Result<Vec<OpenCourse>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.province, p.name, p.region, r.data FROM datasets d
         JOIN dataset_contributions c ON c.dataset_id = d.id
         JOIN dataset_rows r ON r.dataset_id = c.dataset_id AND r.province = c.province
         JOIN provinces p ON p.code = r.province
         WHERE d.name = ?1 AND c.primary_key = ?2
           AND (?3 IS NULL OR json_extract(r.data, '$.sector') = ?3)
           AND (?4 IS NULL OR p.region = ?4)
           AND (?5 IS NULL OR r.province = ?5)
         ORDER BY json_extract(r.data, '$.first_day') DESC, r.province, r.pk",
    )?;
    let mut rows = stmt.query(params![
        COURSES_DATASET,
        COURSES_KEY,
        filter.sector,
        filter.region,
        filter.province
    ])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let data = row
            .get_ref(3)?
            .as_str()
            .map_err(|e| super::corrupt("dataset_rows", e))?;
        let Ok(mut course) = serde_json::from_str::<OpenCourse>(data) else {
            continue;
        };
        course.province = row.get(0)?;
        course.province_name = row.get(1)?;
        course.region = row.get(2)?;
        out.push(course);
    }
    Ok(out)
}

/// The Provinces that publish the catalogue (code, name), for the page's choice.
pub fn course_provinces(conn: &Connection) -> Result<Vec<(String, String)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.code, p.name FROM datasets d
         JOIN dataset_contributions c ON c.dataset_id = d.id
         JOIN provinces p ON p.code = c.province
         WHERE d.name = ?1 AND c.primary_key = ?2 ORDER BY p.name",
    )?;
    let provinces = stmt
        .query_map(params![COURSES_DATASET, COURSES_KEY], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(provinces)
}
