//! Formazione reports for one year (in Italian time): hours delivered per sector (sessions
//! held), enrolments holding a seat and completions per sector, per entity (the Province and
//! each Comune) and per Syllabus area and level, people trained (a person counts once per
//! line however many courses they completed), completion rates, and each person's hours
//! attended against the 40 hours a year of the Department of Public Function's directive.
//! An enrolment belongs to the year of its edition's first session.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use pico_service::csv::{CsvWriter, Separator};
use rusqlite::Connection;
use serde::Serialize;

use crate::error::AppError;
use crate::formazione::db as store;
use crate::formazione::{Level, Sector, SyllabusArea, YEARLY_HOURS, hours_text};

/// The year of an instant in Italy.
pub fn year_of(unix: i64) -> i16 {
    let zone = TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC);
    Timestamp::from_second(unix).map_or(1970, |at| at.to_zoned(zone).year())
}

/// The calendar day of an instant in Italy, `YYYY-MM-DD`.
pub fn day_of(unix: i64) -> String {
    let zone = TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC);
    Timestamp::from_second(unix)
        .map(|at| at.to_zoned(zone).date().to_string())
        .unwrap_or_default()
}

/// The figures of one line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Enrolments holding a seat.
    pub enrolled: i64,
    /// Of which completed.
    pub completed: i64,
    /// Different people who completed at least one course.
    pub people_trained: i64,
}

impl Figures {
    /// Completed over enrolled, as a fraction; none without enrolments.
    pub fn completion_rate(&self) -> Option<f64> {
        (self.enrolled > 0).then(|| self.completed as f64 / self.enrolled as f64)
    }
}

#[derive(Default)]
struct Tally {
    enrolled: i64,
    completed: i64,
    trained: BTreeSet<i64>,
}

impl Tally {
    fn add(&mut self, enrolment: &store::ReportEnrolment) {
        self.enrolled += 1;
        if enrolment.completed {
            self.completed += 1;
            self.trained.insert(enrolment.staff_id);
        }
    }

    fn figures(&self) -> Figures {
        Figures {
            enrolled: self.enrolled,
            completed: self.completed,
            people_trained: i64::try_from(self.trained.len()).unwrap_or(i64::MAX),
        }
    }
}

/// A sector's line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SectorLine {
    /// The sector.
    pub sector: Sector,
    /// Minutes of sessions held.
    pub minutes_delivered: i64,
    /// Its figures.
    pub figures: Figures,
}

/// An entity's line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntityLine {
    /// ISTAT code of the Comune; none for the Province.
    pub comune_code: Option<String>,
    /// The entity's name.
    pub name: String,
    /// Its figures.
    pub figures: Figures,
}

/// A Syllabus area and level's line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyllabusLine {
    /// The area.
    pub area: SyllabusArea,
    /// The level.
    pub level: Level,
    /// Its figures.
    pub figures: Figures,
}

/// A person's hours in the year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonLine {
    /// The person.
    pub staff_id: i64,
    /// Their name.
    pub name: String,
    /// Their entity's name.
    pub entity: String,
    /// Minutes attended in the year.
    pub minutes: i64,
    /// Whether they reached the yearly 40 hours.
    pub meets_yearly_hours: bool,
}

/// The report of a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneReport)]
pub struct Report {
    /// The year.
    pub year: i16,
    /// Years with any training, newest first.
    pub years: Vec<i16>,
    /// Per sector, in the sectors' order.
    pub sectors: Vec<SectorLine>,
    /// Per entity: the Province first, then Comuni by name.
    pub entities: Vec<EntityLine>,
    /// Per Syllabus area and level (only those with enrolments).
    pub syllabus: Vec<SyllabusLine>,
    /// People with hours attended in the year, most hours first.
    pub people: Vec<PersonLine>,
    /// Totals.
    pub totals: Figures,
    /// Minutes of sessions held in the year.
    pub minutes_delivered: i64,
    /// Progress against the programme's targets signed by the hub; `null` until the node has
    /// verified them.
    pub progress: Option<crate::formazione::targets::Progress>,
}

/// The Province as an entity of the report.
pub const PROVINCE: &str = "Provincia";

impl Report {
    /// Reads the report of `year` (none: the current year in Italy) as of `now`.
    pub fn read(conn: &Connection, year: Option<i16>, now: i64) -> Result<Report, AppError> {
        let sessions = store::delivered_sessions(conn, now)?;
        let enrolments = store::report_enrolments(conn)?;
        let attended = store::attended_sessions(conn)?;
        let mut years: BTreeSet<i16> = sessions.iter().map(|s| year_of(s.starts_at)).collect();
        years.extend(
            enrolments
                .iter()
                .filter_map(|e| e.first_session)
                .map(year_of),
        );
        let year = year.unwrap_or_else(|| year_of(now));
        years.insert(year);

        let mut delivered: BTreeMap<&str, i64> = BTreeMap::new();
        for session in sessions.iter().filter(|s| year_of(s.starts_at) == year) {
            *delivered.entry(session.sector.as_str()).or_default() += session.minutes;
        }
        let mut totals = Tally::default();
        let mut by_sector: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut by_entity: BTreeMap<(bool, String, String), Tally> = BTreeMap::new();
        let mut by_syllabus: BTreeMap<(usize, Level), (SyllabusArea, Tally)> = BTreeMap::new();
        for e in enrolments
            .iter()
            .filter(|e| e.first_session.map(year_of) == Some(year))
        {
            totals.add(e);
            by_sector.entry(e.sector.as_str()).or_default().add(e);
            let entity = match &e.comune {
                Some(code) => (
                    true,
                    e.comune_name.clone().unwrap_or_else(|| code.clone()),
                    code.clone(),
                ),
                None => (false, PROVINCE.to_owned(), String::new()),
            };
            by_entity.entry(entity).or_default().add(e);
            if let Some((area, level)) = e.syllabus {
                let index = SyllabusArea::ALL
                    .iter()
                    .position(|a| *a == area)
                    .unwrap_or(0);
                by_syllabus
                    .entry((index, level))
                    .or_insert_with(|| (area, Tally::default()))
                    .1
                    .add(e);
            }
        }
        let sectors = Sector::ALL
            .iter()
            .map(|sector| SectorLine {
                sector: *sector,
                minutes_delivered: delivered.get(sector.as_str()).copied().unwrap_or(0),
                figures: by_sector
                    .get(sector.as_str())
                    .map(Tally::figures)
                    .unwrap_or_default(),
            })
            .collect();
        let entities = by_entity
            .iter()
            .map(|((is_comune, name, code), tally)| EntityLine {
                comune_code: is_comune.then(|| code.clone()),
                name: name.clone(),
                figures: tally.figures(),
            })
            .collect();
        let syllabus = by_syllabus
            .into_iter()
            .map(|((_, level), (area, tally))| SyllabusLine {
                area,
                level,
                figures: tally.figures(),
            })
            .collect();
        let mut minutes: BTreeMap<i64, PersonLine> = BTreeMap::new();
        for a in attended.iter().filter(|a| year_of(a.starts_at) == year) {
            minutes
                .entry(a.staff_id)
                .or_insert_with(|| PersonLine {
                    staff_id: a.staff_id,
                    name: a.name.clone(),
                    entity: match &a.comune {
                        Some(code) => a.comune_name.clone().unwrap_or_else(|| code.clone()),
                        None => PROVINCE.to_owned(),
                    },
                    minutes: 0,
                    meets_yearly_hours: false,
                })
                .minutes += a.minutes;
        }
        let mut people: Vec<PersonLine> = minutes
            .into_values()
            .map(|mut p| {
                p.meets_yearly_hours = p.minutes >= YEARLY_HOURS * 60;
                p
            })
            .collect();
        people.sort_by(|a, b| b.minutes.cmp(&a.minutes).then(a.name.cmp(&b.name)));
        Ok(Report {
            year,
            years: years.into_iter().rev().collect(),
            sectors,
            entities,
            syllabus,
            people,
            totals: totals.figures(),
            minutes_delivered: delivered.values().sum(),
            progress: crate::formazione::targets::Progress::read(conn, year)?,
        })
    }

    /// The report as CSV: one row per line of every section, with the section's name first.
    pub fn to_csv(&self, separator: Separator) -> Result<Vec<u8>, AppError> {
        let csv_error = |err: csv::Error| AppError::Internal(format!("csv: {err}"));
        let mut out = CsvWriter::new(separator, separator == Separator::Semicolon);
        out.write([
            "Anno",
            "Sezione",
            "Voce",
            "Ore erogate",
            "Iscritti",
            "Completati",
            "Tasso di completamento (%)",
            "Persone formate",
            "Ore frequentate",
            "Obiettivo 40 ore raggiunto",
        ])
        .map_err(csv_error)?;
        let year = self.year.to_string();
        let rate = |f: &Figures| {
            f.completion_rate().map_or_else(String::new, |r| {
                separator.decimal(&format!("{:.1}", r * 100.0))
            })
        };
        let hours = |minutes: i64| separator.decimal(&format!("{:.2}", minutes as f64 / 60.0));
        for line in &self.sectors {
            let f = &line.figures;
            out.write([
                year.as_str(),
                "Settore",
                line.sector.label(),
                &hours(line.minutes_delivered),
                &f.enrolled.to_string(),
                &f.completed.to_string(),
                &rate(f),
                &f.people_trained.to_string(),
                "",
                "",
            ])
            .map_err(csv_error)?;
        }
        for line in &self.entities {
            let f = &line.figures;
            let name = match &line.comune_code {
                Some(code) => format!("{} ({code})", line.name),
                None => line.name.clone(),
            };
            out.write([
                year.as_str(),
                "Ente",
                &name,
                "",
                &f.enrolled.to_string(),
                &f.completed.to_string(),
                &rate(f),
                &f.people_trained.to_string(),
                "",
                "",
            ])
            .map_err(csv_error)?;
        }
        for line in &self.syllabus {
            let f = &line.figures;
            out.write([
                year.as_str(),
                "Syllabus",
                &format!("{} – {}", line.area.label(), line.level.label()),
                "",
                &f.enrolled.to_string(),
                &f.completed.to_string(),
                &rate(f),
                &f.people_trained.to_string(),
                "",
                "",
            ])
            .map_err(csv_error)?;
        }
        for p in &self.people {
            out.write([
                year.as_str(),
                "Persona",
                &format!("{} ({})", p.name, p.entity),
                "",
                "",
                "",
                "",
                "",
                &hours(p.minutes),
                if p.meets_yearly_hours { "sì" } else { "no" },
            ])
            .map_err(csv_error)?;
        }
        out.finish().map_err(csv_error)
    }
}

/// Hours of `minutes` as people read them.
pub fn hours(minutes: i64) -> String {
    hours_text(minutes)
}
