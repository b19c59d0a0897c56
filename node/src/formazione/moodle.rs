//! The "course completion" report of a Province's Moodle, read into rows: who (e-mail),
//! which course (its short name), when enrolled and when completed. Matching the rows onto
//! the staff list and the courses, and recording them, is `ops::import_moodle`.
//!
//! Moodle writes the report from its report builder ("Course participants" source: course
//! short name, user full name and e-mail, enrolment time, completion time) or from
//! `report_completion`, as CSV with a byte-order mark; headers are in the site's language
//! (English or Italian here), dates as the user's `strftimedatetime`: `Monday, 9 March 2026,
//! 10:15 AM` or `lunedì, 9 marzo 2026, 10:15`. ISO dates (`2026-03-09 10:15`) and Italian
//! numeric ones (`09/03/2026 10:15`) are read too. An empty completion time is a person who
//! has not completed: the row is counted and skipped.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::json;

use crate::auth::Identity;
use crate::db::audit;
use crate::error::AppError;
use crate::formazione::attendance::{self, ReportError};
use crate::formazione::db::{self as store, AttendanceSource, EditionRow};
use crate::formazione::policy::{self, Action};
use crate::formazione::{ENROLMENTS, EnrolmentState, national};
use crate::lifecycle;
use crate::state::AppState;

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRow {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    /// The person's e-mail, lower case.
    pub email: String,
    /// Their name as Moodle has it (for the messages).
    pub name: String,
    /// The course's Moodle short name.
    pub course: String,
    /// When completed (Unix seconds); none when not completed.
    pub completed_at: Option<i64>,
}

/// A report read: its rows, and the rows that could not be read (Italian, `riga N: …`).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Rows read.
    pub rows: Vec<CompletionRow>,
    /// Why each unreadable row is unreadable.
    pub errors: Vec<String>,
}

const EMAIL: &[&str] = &["email address", "indirizzo email", "email", "e-mail"];
const NAME: &[&str] = &["full name", "user full name", "nome completo", "nome"];
const COURSE: &[&str] = &[
    "course short name",
    "nome breve del corso",
    "nome breve corso",
    "shortname",
    "course",
    "corso",
];
const COMPLETED: &[&str] = &[
    "time completed",
    "course completion time completed",
    "data di completamento",
    "data completamento",
    "completato il",
    "timecompleted",
];

fn column(headers: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|name| headers.iter().position(|h| h == name))
}

/// Reads the report; `Err` for a file that is not one (Italian message).
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "Il file non è un CSV in UTF-8 (Moodle lo scarica così).".to_owned())?;
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let separator = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| "Il file non ha una riga di intestazione leggibile.".to_owned())?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let (Some(email), Some(course), Some(completed)) = (
        column(&headers, EMAIL),
        column(&headers, COURSE),
        column(&headers, COMPLETED),
    ) else {
        return Err(
            "Mancano le colonne del report di completamento di Moodle: servono \
                    «Email address» (o «Indirizzo email»), «Course short name» (o «Nome breve \
                    del corso») e «Time completed» (o «Data di completamento»)."
                .to_owned(),
        );
    };
    let name = column(&headers, NAME);
    let mut parsed = Parsed::default();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let Ok(record) = record else {
            parsed
                .errors
                .push(format!("riga {line}: la riga non è CSV valido."));
            continue;
        };
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let email_text = field(email).to_lowercase();
        if !email_text.contains('@') {
            parsed.errors.push(format!(
                "riga {line}: «{email_text}» non è un indirizzo e-mail."
            ));
            continue;
        }
        let completed_text = field(completed);
        let completed_at = if completed_text.is_empty() || completed_text == "-" {
            None
        } else if let Some(at) = parse_time(completed_text) {
            Some(at)
        } else {
            parsed.errors.push(format!(
                "riga {line}: la data di completamento «{completed_text}» non è una data."
            ));
            continue;
        };
        parsed.rows.push(CompletionRow {
            line,
            name: name.map(field).unwrap_or_default().to_owned(),
            email: email_text,
            course: field(course).to_owned(),
            completed_at,
        });
    }
    Ok(parsed)
}

const MONTHS: &[(&str, i8)] = &[
    ("january", 1),
    ("gennaio", 1),
    ("february", 2),
    ("febbraio", 2),
    ("march", 3),
    ("marzo", 3),
    ("april", 4),
    ("aprile", 4),
    ("may", 5),
    ("maggio", 5),
    ("june", 6),
    ("giugno", 6),
    ("july", 7),
    ("luglio", 7),
    ("august", 8),
    ("agosto", 8),
    ("september", 9),
    ("settembre", 9),
    ("october", 10),
    ("ottobre", 10),
    ("november", 11),
    ("novembre", 11),
    ("december", 12),
    ("dicembre", 12),
];

/// `HH:MM` with an optional `AM`/`PM`, as (hour, minute).
fn clock(text: &str) -> Option<(i8, i8)> {
    let text = text.trim().to_lowercase();
    let (time, meridiem) = match text.split_once(' ') {
        Some((time, m)) => (time.to_owned(), Some(m.trim().to_owned())),
        None => (text, None),
    };
    let mut parts = time.split(':');
    let hour: i8 = parts.next()?.parse().ok()?;
    let minute: i8 = parts.next()?.parse().ok()?;
    let hour = match meridiem.as_deref() {
        None => hour,
        Some("am") if (1..=12).contains(&hour) => hour % 12,
        Some("pm") if (1..=12).contains(&hour) => hour % 12 + 12,
        Some(_) => return None,
    };
    ((0..24).contains(&hour) && (0..60).contains(&minute)).then_some((hour, minute))
}

/// A date (and time) of the report as Unix seconds, read as Italian civil time.
pub fn parse_time(text: &str) -> Option<i64> {
    let civil = numeric(text).or_else(|| long(text))?;
    let zone = TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC);
    Some(civil.to_zoned(zone).ok()?.timestamp().as_second())
}

/// `2026-03-09`, `2026-03-09 10:15[:00]`, `09/03/2026`, `09/03/2026[,] 10:15`.
fn numeric(text: &str) -> Option<DateTime> {
    let text = text.trim().replace(',', " ");
    let mut parts = text.split_whitespace();
    let day = parts.next()?;
    let time = parts.next();
    let (y, m, d) = if let Some((y, rest)) = day.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    } else {
        let mut p = day.split('/');
        let d = p.next()?.parse().ok()?;
        let m = p.next()?.parse().ok()?;
        (p.next()?.parse().ok()?, m, d)
    };
    let (hour, minute) = match time {
        Some(t) => clock(&t.split(':').take(2).collect::<Vec<_>>().join(":"))?,
        None => (0, 0),
    };
    let day = jiff::civil::Date::new(y, m, d).ok()?;
    Some(day.at(hour, minute, 0, 0))
}

/// `Monday, 9 March 2026, 10:15 AM`, `lunedì, 9 marzo 2026, 10:15`, `9 March 2026`.
fn long(text: &str) -> Option<DateTime> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let (day_part, time_part) = match parts.as_slice() {
        [weekday, day, time] if weekday.chars().all(char::is_alphabetic) => (*day, Some(*time)),
        [weekday, day] if weekday.chars().all(char::is_alphabetic) => (*day, None),
        [day, time] => (*day, Some(*time)),
        [day] => (*day, None),
        _ => return None,
    };
    let words: Vec<&str> = day_part.split_whitespace().collect();
    let [d, month, y] = words.as_slice() else {
        return None;
    };
    let month = month.to_lowercase();
    let m = MONTHS.iter().find(|(name, _)| *name == month)?.1;
    let (hour, minute) = match time_part {
        Some(t) => clock(t)?,
        None => (0, 0),
    };
    let day = jiff::civil::Date::new(y.parse().ok()?, m, d.parse().ok()?).ok()?;
    Some(day.at(hour, minute, 0, 0))
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneMoodleReport)]
pub struct MoodleReport {
    /// Rows read.
    pub rows: usize,
    /// Rows of people who completed a course.
    pub completions: usize,
    /// Rows of people who have not completed (skipped).
    pub not_completed: usize,
    /// Enrolments created for people not yet enrolled in the edition.
    pub enrolments_created: usize,
    /// Completions recorded now (attendance written).
    pub recorded: usize,
    /// Completions already recorded (nothing changed: importing the same report again
    /// changes nothing).
    pub unchanged: usize,
}

// ---------------------------------------------------------------------------------------
// The import

/// The edition a completion at `at` belongs to: of those whose first session started by
/// then, the one that started last.
fn edition_for(editions: Vec<EditionRow>, at: i64) -> Option<EditionRow> {
    editions
        .into_iter()
        .filter_map(|e| e.sessions.first().map(|s| (s.starts_at, e.clone())))
        .filter(|(starts, _)| *starts <= at)
        .max_by_key(|(starts, _)| *starts)
        .map(|(_, e)| e)
}

/// One completion to record.
struct Planned {
    staff_id: i64,
    edition: EditionRow,
    rule: crate::formazione::CompletionRule,
}

/// Imports a Moodle completion report (the training office): every completed row must name
/// a person of the staff list (by e-mail) and a course by its Moodle short name, with an
/// edition started by the completion date, or nothing is recorded and the 422 lists every
/// row that does not match, in Italian. A person not yet enrolled in the edition is enrolled;
/// the completion is recorded as the whole of the edition's sessions attended (source
/// `import`), and the course's rule decides the completion as for any attendance. Importing
/// the same report again changes nothing.
pub async fn import(
    state: &AppState,
    identity: &Identity,
    bytes: &[u8],
) -> Result<MoodleReport, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let user_id = identity.require_user()?.id;
    let parsed = parse(bytes).map_err(|m| attendance::problem(ReportError::File(m)))?;
    let identity = identity.clone();
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        let mut report = MoodleReport {
            rows: parsed.rows.len() + parsed.errors.len(),
            ..MoodleReport::default()
        };
        let mut errors = parsed.errors;
        let mut plan = Vec::new();
        for row in &parsed.rows {
            let Some(at) = row.completed_at else {
                report.not_completed += 1;
                continue;
            };
            report.completions += 1;
            let line = row.line;
            let person = match store::staff_id_by_email(tx, &row.email)? {
                Some(id) => store::get_staff(tx, id)?,
                None => None,
            };
            let Some(person) = person else {
                errors.push(format!(
                    "riga {line}: {} ({}) non è nell'elenco del personale.",
                    row.email,
                    if row.name.is_empty() {
                        "senza nome"
                    } else {
                        &row.name
                    }
                ));
                continue;
            };
            let Some(course) = store::course_by_moodle(tx, &row.course)? else {
                errors.push(format!(
                    "riga {line}: nessun corso ha il nome breve Moodle «{}».",
                    row.course
                ));
                continue;
            };
            if !course
                .record
                .audience
                .admits(person.record.comune.as_deref())
            {
                errors.push(format!(
                    "riga {line}: il corso «{}» è riservato a: {}.",
                    course.record.title,
                    course.record.audience.label().to_lowercase()
                ));
                continue;
            }
            let Some(edition) = edition_for(store::editions_of(tx, course.id)?, at) else {
                errors.push(format!(
                    "riga {line}: nessuna edizione del corso «{}» è iniziata entro il {}.",
                    course.record.title,
                    pico_service::format::unix_date(at)
                ));
                continue;
            };
            if let Some(id) = store::enrolment_of(tx, edition.id, person.id)?
                && let Some(enrolment) = store::get_enrolment(tx, id)?
                && enrolment.state != EnrolmentState::Enrolled
            {
                errors.push(format!(
                    "riga {line}: l'iscrizione di {} all'edizione è «{}».",
                    person.record.name,
                    enrolment.state.label().to_lowercase()
                ));
                continue;
            }
            plan.push(Planned {
                staff_id: person.id,
                edition,
                rule: course.record.rule,
            });
        }
        if !errors.is_empty() {
            return Err(attendance::problem(ReportError::Rows(errors)));
        }
        let who = lifecycle::display_name(&identity);
        let mut touched = std::collections::BTreeMap::new();
        for item in plan {
            let edition_id = item.edition.id;
            let enrolment_id = match store::enrolment_of(tx, edition_id, item.staff_id)? {
                Some(id) => id,
                None => {
                    let to = EnrolmentState::Enrolled;
                    let id =
                        store::insert_enrolment(tx, edition_id, item.staff_id, to, user_id, now)?;
                    ENROLMENTS.record_creation(
                        tx,
                        id,
                        to,
                        "Completamento importato da Moodle",
                        &who,
                        now,
                    )?;
                    report.enrolments_created += 1;
                    id
                }
            };
            let attended = store::attendance_of_enrolment(tx, enrolment_id)?;
            let mut changed = false;
            for session in &item.edition.sessions {
                let minutes = session.minutes();
                if !attended.contains(&(session.id, minutes)) {
                    store::set_attendance(
                        tx,
                        session.id,
                        enrolment_id,
                        minutes,
                        AttendanceSource::Import,
                    )?;
                    changed = true;
                }
            }
            if changed {
                report.recorded += 1;
                touched.insert(edition_id, item.rule);
            } else {
                report.unchanged += 1;
            }
        }
        for (edition_id, rule) in touched {
            store::recompute_edition(tx, edition_id, rule)?;
        }
        audit::record(
            tx,
            &identity.actor(),
            "formazione.moodle.import",
            "formazione_moodle",
            &json!({"rows": report.rows, "recorded": report.recorded,
                    "enrolments_created": report.enrolments_created}),
            now,
        )?;
        Ok(report)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn rome(y: i16, m: i8, d: i8, h: i8, mi: i8) -> i64 {
        date(y, m, d)
            .at(h, mi, 0, 0)
            .to_zoned(TimeZone::get("Europe/Rome").unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    }

    #[test]
    fn moodle_dates_in_english_italian_and_numbers() {
        let at = rome(2026, 3, 9, 10, 15);
        for text in [
            "Monday, 9 March 2026, 10:15 AM",
            "lunedì, 9 marzo 2026, 10:15",
            "2026-03-09 10:15",
            "2026-03-09 10:15:00",
            "09/03/2026 10:15",
            "09/03/2026, 10:15",
        ] {
            assert_eq!(parse_time(text), Some(at), "{text}");
        }
        assert_eq!(
            parse_time("Monday, 9 March 2026, 10:15 PM"),
            Some(rome(2026, 3, 9, 22, 15))
        );
        assert_eq!(
            parse_time("Monday, 9 March 2026, 12:05 AM"),
            Some(rome(2026, 3, 9, 0, 5))
        );
        assert_eq!(parse_time("9 marzo 2026"), Some(rome(2026, 3, 9, 0, 0)));
        for bad in [
            "ieri",
            "31/02/2026",
            "Monday, 9 Marchember 2026",
            "2026-13-01",
            "9 marzo",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn rows_by_header_with_bom_and_not_completed_kept() {
        let csv = "\u{feff}Course short name,Full name,Email address,Time enrolled,Time completed\n\
                   SIC-01,Giulia Rossi,Giulia.Rossi@Comune.Treviso.it,\"Monday, 2 March 2026, 9:00 AM\",\"Monday, 9 March 2026, 10:15 AM\"\n\
                   SIC-01,Marco Bianchi,marco.bianchi@comune.treviso.it,\"Monday, 2 March 2026, 9:00 AM\",\n\
                   SIC-01,Anna Verdi,anna.verdi@comune.treviso.it,,31/02/2026\n";
        let parsed = parse(csv.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[0].email, "giulia.rossi@comune.treviso.it");
        assert_eq!(parsed.rows[0].course, "SIC-01");
        assert_eq!(parsed.rows[0].completed_at, Some(rome(2026, 3, 9, 10, 15)));
        assert_eq!(parsed.rows[1].completed_at, None);
        assert_eq!(parsed.errors.len(), 1);
        assert!(
            parsed.errors[0].starts_with("riga 4:"),
            "{:?}",
            parsed.errors
        );
        assert!(
            parse(b"nome;cognome\nA;B\n")
                .unwrap_err()
                .contains("Mancano le colonne")
        );
    }
}
