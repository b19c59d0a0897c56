//! The attendance report of a videoconference tool (Zoom's "Partecipanti" export in Italian
//! or English, and reports shaped like it: a name, an e-mail, a join time and a leave time
//! per connection, one person possibly on several rows), matched onto the enrolled people of
//! an edition. All or nothing: a row that matches nobody, or whose times are not times,
//! refuses the whole file with an Italian report naming each row.
//!
//! Columns are found by their header (`Nome (nome originale)` / `Name (Original Name)`,
//! `E-mail utente` / `User Email`, `Ora di ingresso` / `Join Time`, `Ora di uscita` /
//! `Leave Time`; a summary block before the header, as Zoom writes it, is skipped); the
//! separator is `,` or `;`. Times are Italian civil time: `10/03/2026 09:02:11` (day first),
//! `2026-03-10 09:02:11`, or with `AM`/`PM` the American `03/10/2026 09:02:11 AM` (month
//! first) that Zoom writes in English.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use pico_service::Problem;
use serde::Serialize;

use crate::error::AppError;
use crate::formazione::db::{EnrolmentRow, SessionRow};
use crate::formazione::minutes_within;

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttendanceReport {
    /// Rows of the report read.
    pub rows: usize,
    /// Enrolled people found in the report.
    pub present: usize,
    /// Every enrolled person with the minutes now recorded (0 if absent from the report).
    pub people: Vec<AttendanceLine>,
}

/// One enrolled person's minutes from a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttendanceLine {
    /// The enrolment.
    pub enrolment_id: i64,
    /// The person's name.
    pub name: String,
    /// Minutes within the session.
    pub minutes: i64,
}

/// Why a report was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// The file as a whole (not UTF-8, no header).
    File(String),
    /// These rows (`riga 7: …`), every one.
    Rows(Vec<String>),
}

/// The 422 of a refused report: `errors` by row (`riga 7`) and the whole list in `detail`.
pub fn problem(error: ReportError) -> AppError {
    match error {
        ReportError::File(message) => AppError::from(
            Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("import_refused")
                .with_detail(format!(
                    "Importazione rifiutata, nessuna presenza è stata registrata. {message}"
                )),
        ),
        ReportError::Rows(rows) => {
            let mut problem = Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("import_refused")
                .with_detail(format!(
                    "Importazione rifiutata, nessuna presenza è stata registrata: {} righe non corrispondono. {}",
                    rows.len(),
                    rows.join("; ")
                ))
                .with_extension("refused", rows.len());
            for message in rows {
                let (place, text) = message.split_once(": ").unwrap_or(("file", &message));
                problem = problem.with_field_error(place.to_owned(), text.to_owned());
            }
            AppError::from(problem)
        }
    }
}

const NAME: &[&str] = &[
    "nome (nome originale)",
    "name (original name)",
    "nome completo",
    "full name",
    "nome",
    "name",
    "partecipante",
    "participant",
];
const EMAIL: &[&str] = &["e-mail", "email", "mail"];
const JOIN: &[&str] = &[
    "ora di ingresso",
    "join time",
    "ora di accesso",
    "ora di partecipazione",
    "ingresso",
    "join",
];
const LEAVE: &[&str] = &["ora di uscita", "leave time", "uscita", "leave"];

fn column(header: &[String], candidates: &[&str]) -> Option<usize> {
    candidates.iter().find_map(|candidate| {
        header
            .iter()
            .position(|cell| cell.trim().to_lowercase().contains(candidate))
    })
}

/// A name as compared: without Zoom's `(nome originale)`, lower-case, blanks collapsed.
fn normal_name(name: &str) -> String {
    let name = name.split('(').next().unwrap_or(name);
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A report's time as Unix seconds (see the module's documentation for the forms).
pub fn parse_time(text: &str, zone: &TimeZone) -> Option<i64> {
    let text = text.trim();
    let (text, pm) = match text.rsplit_once(' ') {
        Some((rest, "AM" | "am")) => (rest, Some(false)),
        Some((rest, "PM" | "pm")) => (rest, Some(true)),
        _ => (text, None),
    };
    let (date, time) = text.split_once([' ', 'T'])?;
    let numbers = |text: &str, separator: char| -> Option<Vec<i32>> {
        text.split(separator)
            .map(|part| part.trim().parse::<i32>().ok())
            .collect()
    };
    let (year, month, day) = if date.contains('/') {
        let parts = numbers(date, '/')?;
        let [a, b, year] = parts.as_slice() else {
            return None;
        };
        // With AM/PM the date is American (month first), as Zoom writes it in English.
        if pm.is_some() {
            (*year, *a, *b)
        } else {
            (*year, *b, *a)
        }
    } else {
        let parts = numbers(date, '-')?;
        let [year, month, day] = parts.as_slice() else {
            return None;
        };
        (*year, *month, *day)
    };
    let clock = numbers(time, ':')?;
    let (mut hour, minute, second) = match clock.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if let Some(pm) = pm {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    let civil = DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    Some(civil.to_zoned(zone.clone()).ok()?.timestamp().as_second())
}

/// Reads `bytes` and matches every row onto `enrolled` (the edition's people holding a seat),
/// computing each one's minutes within `session`.
pub fn match_report(
    bytes: &[u8],
    session: &SessionRow,
    enrolled: &[EnrolmentRow],
) -> Result<AttendanceReport, ReportError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        ReportError::File("Il file non è testo UTF-8: esporta di nuovo il rapporto in CSV.".into())
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let separator = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(text.as_bytes());
    let zone = TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC);
    let mut header: Option<(usize, Option<usize>, usize, usize)> = None;
    let mut errors = Vec::new();
    let mut intervals: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = record
            .map_err(|err| ReportError::File(format!("Il file non è un CSV leggibile ({err}).")))?;
        let line = record.position().map_or(0, |p| p.line());
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some((name_col, email_col, join_col, leave_col)) = header else {
            if let (Some(name), Some(join), Some(leave)) = (
                column(&cells, NAME),
                column(&cells, JOIN),
                column(&cells, LEAVE),
            ) {
                header = Some((name, column(&cells, EMAIL), join, leave));
            }
            continue;
        };
        rows += 1;
        let cell = |index: usize| cells.get(index).map_or("", |c| c.trim());
        let name = cell(name_col);
        let email = email_col.map_or("", cell).to_lowercase();
        let who = if email.is_empty() {
            format!("«{name}»")
        } else {
            format!("«{name}» ({email})")
        };
        let by_email = (!email.is_empty())
            .then(|| enrolled.iter().find(|e| e.email == email))
            .flatten();
        let found = by_email.or_else(|| {
            let wanted = normal_name(name);
            let mut same = enrolled.iter().filter(|e| normal_name(&e.name) == wanted);
            match (same.next(), same.next()) {
                (Some(one), None) if !wanted.is_empty() => Some(one),
                _ => None,
            }
        });
        let join = parse_time(cell(join_col), &zone);
        let leave = parse_time(cell(leave_col), &zone);
        match (found, join, leave) {
            (None, _, _) => errors.push(format!(
                "riga {line}: {who} non corrisponde a nessun iscritto con posto in questa edizione"
            )),
            (_, None, _) => errors.push(format!(
                "riga {line}: l'ora di ingresso «{}» di {who} non è una data e ora (scrivila come 10/03/2026 09:00:00)",
                cell(join_col)
            )),
            (_, _, None) => errors.push(format!(
                "riga {line}: l'ora di uscita «{}» di {who} non è una data e ora (scrivila come 10/03/2026 12:00:00)",
                cell(leave_col)
            )),
            (Some(_), Some(join), Some(leave)) if leave < join => errors.push(format!(
                "riga {line}: {who} esce prima di entrare"
            )),
            (Some(enrolment), Some(join), Some(leave)) => {
                intervals.entry(enrolment.id).or_default().push((join, leave));
            }
        }
    }
    if header.is_none() {
        return Err(ReportError::File(
            "Non trovo l'intestazione con nome, ora di ingresso e ora di uscita dei partecipanti."
                .into(),
        ));
    }
    if !errors.is_empty() {
        return Err(ReportError::Rows(errors));
    }
    let people = enrolled
        .iter()
        .map(|e| AttendanceLine {
            enrolment_id: e.id,
            name: e.name.clone(),
            minutes: intervals.get(&e.id).map_or(0, |spans| {
                minutes_within(session.starts_at, session.ends_at, spans)
            }),
        })
        .collect();
    Ok(AttendanceReport {
        rows,
        present: intervals.len(),
        people,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formazione::EnrolmentState;

    fn rome() -> TimeZone {
        TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC)
    }

    #[test]
    fn times_in_italian_and_american_forms() {
        let zone = rome();
        // 10 March 2026 is winter time in Italy: UTC+1.
        let nine = parse_time("2026-03-10 09:00:00", &zone);
        assert_eq!(nine, Some(1_773_129_600));
        assert_eq!(parse_time("10/03/2026 09:00:00", &zone), nine);
        assert_eq!(parse_time("10/03/2026 09:00", &zone), nine);
        assert_eq!(parse_time("03/10/2026 09:00:00 AM", &zone), nine);
        assert_eq!(
            parse_time("03/10/2026 01:30:00 PM", &zone),
            nine.map(|n| n + 4 * 3600 + 1800)
        );
        // Summer time: 10 June 2026 09:00 is 07:00 UTC.
        assert_eq!(parse_time("10/06/2026 09:00", &zone), Some(1_781_074_800));
        assert_eq!(parse_time("ieri", &zone), None);
        assert_eq!(parse_time("31/02/2026 09:00", &zone), None);
    }

    fn person(id: i64, name: &str, email: &str) -> EnrolmentRow {
        EnrolmentRow {
            id,
            edition_id: 1,
            course_id: 1,
            course_title: "Corso".into(),
            staff_id: id,
            name: name.into(),
            email: email.into(),
            comune: Some("026086".into()),
            state: EnrolmentState::Enrolled,
            score: None,
            attended_minutes: 0,
            completed: false,
            created_at: 0,
            certificate: None,
        }
    }

    #[test]
    fn rows_merge_per_person_and_unmatched_rows_refuse_the_file() {
        // 10/03/2026 09:00–12:00 in Italy.
        let session = SessionRow {
            id: 1,
            edition_id: 1,
            starts_at: 1_773_129_600,
            ends_at: 1_773_129_600 + 3 * 3600,
        };
        let people = [
            person(1, "Giulia Rossi", "giulia.rossi@comune.treviso.it"),
            person(2, "Marco Bianchi", "marco.bianchi@comune.treviso.it"),
            person(3, "Anna Verdi", "anna.verdi@comune.treviso.it"),
        ];
        let report = "ID riunione,Argomento\n812 3456 7890,Corso\n\n\
            Nome (nome originale),E-mail utente,Ora di ingresso,Ora di uscita,Durata (minuti),Ospite\n\
            Giulia Rossi,Giulia.Rossi@comune.treviso.it,10/03/2026 08:55:10,10/03/2026 10:30:00,95,No\n\
            Giulia Rossi,giulia.rossi@comune.treviso.it,10/03/2026 10:45:00,10/03/2026 12:10:00,85,No\n\
            Marco Bianchi (PC ufficio),,10/03/2026 09:10:00,10/03/2026 11:40:30,150,Sì\n";
        let matched = match_report(report.as_bytes(), &session, &people).expect("matched");
        assert_eq!(matched.rows, 3);
        assert_eq!(matched.present, 2);
        // Giulia: 09:00–10:30 (90) + 10:45–12:00 (75); Marco 09:10–11:40:30 (150); Anna 0.
        let minutes: Vec<i64> = matched.people.iter().map(|p| p.minutes).collect();
        assert_eq!(minutes, vec![165, 150, 0]);

        let refused = "Name (Original Name);User Email;Join Time;Leave Time\n\
            Giulia Rossi;giulia.rossi@comune.treviso.it;03/10/2026 09:00:00 AM;03/10/2026 12:00:00 PM\n\
            Paolo Neri;paolo.neri@gmail.com;03/10/2026 09:00:00 AM;03/10/2026 12:00:00 PM\n\
            Anna Verdi;anna.verdi@comune.treviso.it;dopo;03/10/2026 12:00:00 PM\n";
        let Err(ReportError::Rows(rows)) = match_report(refused.as_bytes(), &session, &people)
        else {
            panic!("accepted");
        };
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows[0].starts_with("riga 3: «Paolo Neri» (paolo.neri@gmail.com) non corrisponde"),
            "{rows:?}"
        );
        assert!(
            rows[1].starts_with("riga 4: l'ora di ingresso «dopo»"),
            "{rows:?}"
        );
        assert!(matches!(
            match_report(b"a,b\n1,2\n", &session, &people),
            Err(ReportError::File(_))
        ));
    }
}
