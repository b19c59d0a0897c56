//! The national `formazione_corsi` dataset: the catalogue of the courses a Province opens to
//! the staff of other Provinces, one row per edition of such a course — title, sector, hours,
//! mode, competence (Syllabus area and level, or free tags), the edition's days, sessions and
//! minutes, seats and enrolment window. **No personal data**: no teacher, place, link,
//! description or anything about who enrols leaves the node. The schema is documented in
//! `protocol/datasets/formazione_corsi.md`; [`FIELDS`] is its definition and [`encode`]
//! writes a row in that order.
//!
//! - **Key.** `[course, edition]`, the node's ids: a course keeps its id when renamed, so the
//!   hub's row follows it.
//! - **Kept in step** with the courses and editions by [`refresh`], which
//!   `national::refresh` calls in every transaction that changes the Formazione tables; a
//!   course closed to other Provinces again has its rows deleted.
//! - **Rows only while federated**, as for `formazione_aggregati`.

use pico_protocol::payload::FieldValue;
use rusqlite::Connection;

use crate::dati::csv_import;
use crate::dati::ops::{DatiError, DerivedDefinition};
use crate::dati::{FieldDef, FieldType};
use crate::error::AppError;
use crate::federation::Signer;
use crate::formazione::db::{self as store, OpenEdition};
use crate::formazione::national;
use crate::formazione::reports::day_of;

/// The dataset's name.
pub const DATASET: &str = "formazione_corsi";

/// The title shown in the Dati catalogue.
pub const TITLE: &str = "Formazione: corsi aperti al personale di altre Province (catalogo nazionale, senza dati personali)";

/// The primary key.
pub const PRIMARY_KEY: [&str; 2] = ["course", "edition"];

/// The fields of schema version 1, in row order.
pub const FIELDS: [(&str, FieldType); 16] = [
    ("course", FieldType::Integer),
    ("edition", FieldType::Integer),
    ("title", FieldType::Text),
    ("sector", FieldType::Text),
    ("hours", FieldType::Integer),
    ("mode", FieldType::Text),
    ("syllabus_area", FieldType::Text),
    ("syllabus_level", FieldType::Text),
    ("tags", FieldType::Text),
    ("first_day", FieldType::Date),
    ("last_day", FieldType::Date),
    ("sessions", FieldType::Integer),
    ("minutes", FieldType::Integer),
    ("seats", FieldType::Integer),
    ("enrol_opens", FieldType::Date),
    ("enrol_closes", FieldType::Date),
];

/// The field definitions, as the Dati module stores them.
pub fn field_defs() -> Vec<FieldDef> {
    national::defs(&FIELDS)
}

fn text_or_null(value: Option<&str>) -> FieldValue {
    value
        .filter(|v| !v.is_empty())
        .map_or(FieldValue::Null, FieldValue::from)
}

/// The row of one edition of an open course, `(pk, data)`.
pub fn encode(open: &OpenEdition) -> (String, String) {
    let (course, edition) = (&open.course, &open.edition);
    let record = &course.record;
    let key = csv_import::encode(&[FieldValue::Int(course.id), FieldValue::Int(edition.id)]);
    let first = edition.sessions.first().map(|s| day_of(s.starts_at));
    let last = edition.sessions.last().map(|s| day_of(s.starts_at));
    let sessions = i64::try_from(edition.sessions.len()).unwrap_or(i64::MAX);
    let row = csv_import::encode(&[
        FieldValue::Int(course.id),
        FieldValue::Int(edition.id),
        FieldValue::from(record.title.as_str()),
        FieldValue::from(record.sector.as_str()),
        FieldValue::Int(record.hours),
        FieldValue::from(record.mode.as_str()),
        text_or_null(record.syllabus.map(|(area, _)| area.as_str())),
        text_or_null(record.syllabus.map(|(_, level)| level.as_str())),
        text_or_null(Some(record.tags.as_str())),
        text_or_null(first.as_deref()),
        text_or_null(last.as_deref()),
        FieldValue::Int(sessions),
        FieldValue::Int(edition.minutes()),
        FieldValue::Int(edition.seats),
        FieldValue::from(edition.enrol_opens.as_str()),
        FieldValue::from(edition.enrol_closes.as_str()),
    ]);
    (key, row)
}

fn rows(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    Ok(store::open_editions(conn)?.iter().map(encode).collect())
}

fn definition() -> DerivedDefinition<'static> {
    DerivedDefinition {
        name: DATASET,
        title: TITLE,
        fields: field_defs(),
        primary_key: PRIMARY_KEY.iter().map(|k| (*k).to_owned()).collect(),
        materialise: &materialise,
    }
}

/// Brings the rows in line with the open courses and their editions, publishing what differs
/// when the dataset is federated.
pub fn refresh(tx: &Connection, signer: &Signer) -> Result<(), AppError> {
    national::sync(tx, signer, &definition(), rows)
}

/// Writes every row, replacing whatever rows the dataset had, and returns their number. The
/// Dati module calls it in the transaction that turns the dataset `national`.
pub fn materialise(tx: &Connection) -> Result<i64, DatiError> {
    national::replace_rows(tx, DATASET, rows(tx)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dati::valid_name;
    use crate::formazione::db::{CourseRecord, CourseRow, EditionRow, SessionRow};
    use crate::formazione::{CompletionRule, CourseAudience, Level, Mode, Sector, SyllabusArea};

    #[test]
    fn a_row_is_the_course_and_its_edition_without_people() {
        let open = OpenEdition {
            course: CourseRow {
                id: 7,
                record: CourseRecord {
                    title: "Dati aperti per la PA".into(),
                    sector: Sector::Innovazione,
                    description: "Con Laura Conte".into(),
                    objectives: String::new(),
                    hours: 6,
                    mode: Mode::Online,
                    syllabus: Some((SyllabusArea::Dati, Level::Intermedio)),
                    tags: String::new(),
                    audience: CourseAudience::Both,
                    needs_approval: false,
                    rule: CompletionRule {
                        min_attendance_percent: 75,
                        min_score: None,
                    },
                    moodle_shortname: None,
                    open_to_provinces: true,
                },
                updated_at: 0,
            },
            edition: EditionRow {
                id: 3,
                course_id: 7,
                place: "Sala Verdi".into(),
                link: "https://meet.example/abc".into(),
                teacher: "Laura Conte".into(),
                seats: 25,
                enrol_opens: "2026-01-10".into(),
                enrol_closes: "2026-02-28".into(),
                // 2026-03-10 08:00–11:00 UTC (09:00–12:00 in Rome) and 2026-03-17 the same.
                sessions: vec![
                    SessionRow {
                        id: 1,
                        edition_id: 3,
                        starts_at: 1_773_129_600,
                        ends_at: 1_773_140_400,
                    },
                    SessionRow {
                        id: 2,
                        edition_id: 3,
                        starts_at: 1_773_734_400,
                        ends_at: 1_773_745_200,
                    },
                ],
                enrolled: 4,
                waiting: 0,
                pending: 1,
            },
        };
        let (pk, data) = encode(&open);
        assert_eq!(pk, "[7,3]");
        assert_eq!(
            data,
            r#"[7,3,"Dati aperti per la PA","innovazione",6,"online","dati","intermedio",null,"2026-03-10","2026-03-17",2,360,25,"2026-01-10","2026-02-28"]"#
        );
        for personal in ["Laura", "Conte", "Verdi", "meet."] {
            assert!(!data.contains(personal), "{personal}");
        }
        for (name, _) in FIELDS {
            assert!(valid_name(name), "{name}");
        }
    }
}
