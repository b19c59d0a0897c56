//! Formazione SQL: courses, editions with sessions, the staff list, enrolments with their
//! attendance, and the recomputation of hours attended and completion.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::formazione::{
    CompletionRule, CourseAudience, EnrolmentState, Level, Mode, Sector, SyllabusArea,
};

/// A course as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRecord {
    /// Title.
    pub title: String,
    /// Sector.
    pub sector: Sector,
    /// What it is about.
    pub description: String,
    /// What a person will be able to do.
    pub objectives: String,
    /// Nominal hours.
    pub hours: i64,
    /// How it is delivered.
    pub mode: Mode,
    /// The Syllabus area and level (digital-skills courses).
    pub syllabus: Option<(SyllabusArea, Level)>,
    /// Free competence tags, comma separated.
    pub tags: String,
    /// Whose staff may enrol.
    pub audience: CourseAudience,
    /// Whether a Comune's enrolment needs the Province's approval.
    pub needs_approval: bool,
    /// Completion rule.
    pub rule: CompletionRule,
    /// Its short name in the Province's Moodle (the completion report names courses by it).
    pub moodle_shortname: Option<String>,
    /// Open to the staff of other Provinces: its editions are in the national catalogue.
    pub open_to_provinces: bool,
}

/// A stored course.
#[derive(Debug, Clone)]
pub struct CourseRow {
    /// Id.
    pub id: i64,
    /// What was written.
    pub record: CourseRecord,
    /// Unix seconds.
    pub updated_at: i64,
}

const COURSE_COLUMNS: &str = "id, title, sector, description, objectives, hours, mode, syllabus_area, \
    syllabus_level, tags, audience, needs_approval, min_attendance_percent, min_score, moodle_shortname, open_to_provinces, updated_at";

fn course_from_row(row: &Row<'_>) -> rusqlite::Result<CourseRow> {
    let area: Option<SyllabusArea> = row.get("syllabus_area")?;
    let level: Option<Level> = row.get("syllabus_level")?;
    Ok(CourseRow {
        id: row.get("id")?,
        record: CourseRecord {
            title: row.get("title")?,
            sector: row.get("sector")?,
            description: row.get("description")?,
            objectives: row.get("objectives")?,
            hours: row.get("hours")?,
            mode: row.get("mode")?,
            syllabus: area.zip(level),
            tags: row.get("tags")?,
            audience: row.get("audience")?,
            needs_approval: row.get("needs_approval")?,
            rule: CompletionRule {
                min_attendance_percent: row.get("min_attendance_percent")?,
                min_score: row.get("min_score")?,
            },
            moodle_shortname: row.get("moodle_shortname")?,
            open_to_provinces: row.get("open_to_provinces")?,
        },
        updated_at: row.get("updated_at")?,
    })
}

/// Inserts a course; returns its id.
pub fn insert_course(conn: &Connection, record: &CourseRecord, now: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO formazione_courses (title, sector, description, objectives, hours, mode, syllabus_area, \
         syllabus_level, tags, audience, needs_approval, min_attendance_percent, min_score, created_at, updated_at, \
         moodle_shortname, open_to_provinces) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16)",
    )?
    .execute(params![
        record.title,
        record.sector,
        record.description,
        record.objectives,
        record.hours,
        record.mode,
        record.syllabus.map(|(area, _)| area),
        record.syllabus.map(|(_, level)| level),
        record.tags,
        record.audience,
        record.needs_approval,
        record.rule.min_attendance_percent,
        record.rule.min_score,
        now,
        record.moodle_shortname,
        record.open_to_provinces,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Replaces course `id`'s content; returns whether it exists.
pub fn update_course(
    conn: &Connection,
    id: i64,
    record: &CourseRecord,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE formazione_courses SET title = ?2, sector = ?3, description = ?4, objectives = ?5, hours = ?6, \
             mode = ?7, syllabus_area = ?8, syllabus_level = ?9, tags = ?10, audience = ?11, needs_approval = ?12, \
             min_attendance_percent = ?13, min_score = ?14, updated_at = ?15, moodle_shortname = ?16, \
             open_to_provinces = ?17 WHERE id = ?1",
        )?
        .execute(params![
            id,
            record.title,
            record.sector,
            record.description,
            record.objectives,
            record.hours,
            record.mode,
            record.syllabus.map(|(area, _)| area),
            record.syllabus.map(|(_, level)| level),
            record.tags,
            record.audience,
            record.needs_approval,
            record.rule.min_attendance_percent,
            record.rule.min_score,
            now,
            record.moodle_shortname,
            record.open_to_provinces,
        ])?;
    Ok(changed == 1)
}

/// The course whose Moodle short name is `shortname`.
pub fn course_by_moodle(conn: &Connection, shortname: &str) -> rusqlite::Result<Option<CourseRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COURSE_COLUMNS} FROM formazione_courses WHERE moodle_shortname = ?1"
    ))?
    .query_row([shortname], course_from_row)
    .optional()
}

/// Course `id`.
pub fn get_course(conn: &Connection, id: i64) -> rusqlite::Result<Option<CourseRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COURSE_COLUMNS} FROM formazione_courses WHERE id = ?1"
    ))?
    .query_row([id], course_from_row)
    .optional()
}

/// The courses, of `sector` if given, newest first.
pub fn list_courses(conn: &Connection, sector: Option<Sector>) -> rusqlite::Result<Vec<CourseRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COURSE_COLUMNS} FROM formazione_courses WHERE ?1 IS NULL OR sector = ?1 ORDER BY id DESC"
    ))?
    .query_map([sector], course_from_row)?
    .collect()
}

/// An edition as written, its sessions as (start, end) Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionRecord {
    /// Where (address or room).
    pub place: String,
    /// The videoconference or e-learning link.
    pub link: String,
    /// Who teaches.
    pub teacher: String,
    /// Seats.
    pub seats: i64,
    /// First day of enrolment, `YYYY-MM-DD`.
    pub enrol_opens: String,
    /// Last day of enrolment, `YYYY-MM-DD`.
    pub enrol_closes: String,
    /// Sessions in time order.
    pub sessions: Vec<(i64, i64)>,
}

/// A stored session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRow {
    /// Id.
    pub id: i64,
    /// Its edition.
    pub edition_id: i64,
    /// Unix seconds.
    pub starts_at: i64,
    /// Unix seconds.
    pub ends_at: i64,
}

impl SessionRow {
    /// Its length in minutes.
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at) / 60
    }
}

/// A stored edition with its sessions and how its seats are taken.
#[derive(Debug, Clone)]
pub struct EditionRow {
    /// Id.
    pub id: i64,
    /// Its course.
    pub course_id: i64,
    /// Where.
    pub place: String,
    /// Link.
    pub link: String,
    /// Teacher.
    pub teacher: String,
    /// Seats.
    pub seats: i64,
    /// `YYYY-MM-DD`.
    pub enrol_opens: String,
    /// `YYYY-MM-DD`.
    pub enrol_closes: String,
    /// Sessions in time order.
    pub sessions: Vec<SessionRow>,
    /// Enrolments holding a seat.
    pub enrolled: i64,
    /// Enrolments on the waiting list.
    pub waiting: i64,
    /// Enrolments waiting for approval.
    pub pending: i64,
}

impl EditionRow {
    /// The minutes of all its sessions.
    pub fn minutes(&self) -> i64 {
        self.sessions.iter().map(SessionRow::minutes).sum()
    }
}

/// The minutes enrolment `enrolment_id` attended, by session.
pub fn attendance_of_enrolment(
    conn: &Connection,
    enrolment_id: i64,
) -> rusqlite::Result<Vec<(i64, i64)>> {
    conn.prepare_cached(
        "SELECT session_id, minutes FROM formazione_attendance WHERE enrolment_id = ?1 ORDER BY session_id",
    )?
    .query_map([enrolment_id], |row| Ok((row.get(0)?, row.get(1)?)))?
    .collect()
}

/// Inserts an edition of `course_id` with its sessions; returns its id.
pub fn insert_edition(
    conn: &Connection,
    course_id: i64,
    record: &EditionRecord,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO formazione_editions (course_id, place, link, teacher, seats, enrol_opens, enrol_closes, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        course_id,
        record.place,
        record.link,
        record.teacher,
        record.seats,
        record.enrol_opens,
        record.enrol_closes,
        now
    ])?;
    let id = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO formazione_sessions (edition_id, starts_at, ends_at) VALUES (?1, ?2, ?3)",
    )?;
    for (starts, ends) in &record.sessions {
        insert.execute(params![id, starts, ends])?;
    }
    Ok(id)
}

fn sessions_of(conn: &Connection, edition_id: i64) -> rusqlite::Result<Vec<SessionRow>> {
    conn.prepare_cached(
        "SELECT id, edition_id, starts_at, ends_at FROM formazione_sessions WHERE edition_id = ?1 ORDER BY starts_at, id",
    )?
    .query_map([edition_id], |row| {
        Ok(SessionRow {
            id: row.get("id")?,
            edition_id: row.get("edition_id")?,
            starts_at: row.get("starts_at")?,
            ends_at: row.get("ends_at")?,
        })
    })?
    .collect()
}

/// Replaces edition `id`'s place, link, teacher, seats and window (not its sessions).
pub fn update_edition(conn: &Connection, id: i64, record: &EditionRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE formazione_editions SET place = ?2, link = ?3, teacher = ?4, seats = ?5, \
         enrol_opens = ?6, enrol_closes = ?7 WHERE id = ?1",
    )?
    .execute(params![
        id,
        record.place,
        record.link,
        record.teacher,
        record.seats,
        record.enrol_opens,
        record.enrol_closes
    ])?;
    Ok(())
}

/// Adds a session to edition `edition_id`.
pub fn insert_session(
    conn: &Connection,
    edition_id: i64,
    starts: i64,
    ends: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO formazione_sessions (edition_id, starts_at, ends_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![edition_id, starts, ends])?;
    Ok(conn.last_insert_rowid())
}

/// Removes session `id` (its attendance with it).
pub fn delete_session(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM formazione_sessions WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Removes edition `id` with its sessions, enrolments and their history.
pub fn delete_edition(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM formazione_editions WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Whether anyone's attendance is recorded for session `id` (zero minutes count: the
/// register was filled).
pub fn session_has_attendance(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM formazione_attendance WHERE session_id = ?1)",
    )?
    .query_row([id], |row| row.get(0))
}

/// Whether anyone's attendance is recorded for a session of edition `id`.
pub fn edition_has_attendance(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM formazione_attendance a JOIN formazione_sessions s \
         ON s.id = a.session_id WHERE s.edition_id = ?1)",
    )?
    .query_row([id], |row| row.get(0))
}

/// Session `id`.
pub fn get_session(conn: &Connection, id: i64) -> rusqlite::Result<Option<SessionRow>> {
    conn.prepare_cached(
        "SELECT id, edition_id, starts_at, ends_at FROM formazione_sessions WHERE id = ?1",
    )?
    .query_row([id], |row| {
        Ok(SessionRow {
            id: row.get("id")?,
            edition_id: row.get("edition_id")?,
            starts_at: row.get("starts_at")?,
            ends_at: row.get("ends_at")?,
        })
    })
    .optional()
}

const EDITION_SELECT: &str = "SELECT e.id, e.course_id, e.place, e.link, e.teacher, e.seats, e.enrol_opens, e.enrol_closes, \
    (SELECT count(*) FROM formazione_enrolments n WHERE n.edition_id = e.id AND n.state = 'enrolled') AS enrolled, \
    (SELECT count(*) FROM formazione_enrolments n WHERE n.edition_id = e.id AND n.state = 'waiting') AS waiting, \
    (SELECT count(*) FROM formazione_enrolments n WHERE n.edition_id = e.id AND n.state = 'pending') AS pending \
    FROM formazione_editions e";

fn edition_from_row(row: &Row<'_>) -> rusqlite::Result<EditionRow> {
    Ok(EditionRow {
        id: row.get("id")?,
        course_id: row.get("course_id")?,
        place: row.get("place")?,
        link: row.get("link")?,
        teacher: row.get("teacher")?,
        seats: row.get("seats")?,
        enrol_opens: row.get("enrol_opens")?,
        enrol_closes: row.get("enrol_closes")?,
        sessions: Vec::new(),
        enrolled: row.get("enrolled")?,
        waiting: row.get("waiting")?,
        pending: row.get("pending")?,
    })
}

/// Edition `id` with its sessions.
pub fn get_edition(conn: &Connection, id: i64) -> rusqlite::Result<Option<EditionRow>> {
    let edition = conn
        .prepare_cached(&format!("{EDITION_SELECT} WHERE e.id = ?1"))?
        .query_row([id], edition_from_row)
        .optional()?;
    edition
        .map(|mut edition| {
            edition.sessions = sessions_of(conn, edition.id)?;
            Ok(edition)
        })
        .transpose()
}

/// The editions of course `course_id` with their sessions, by first session.
pub fn editions_of(conn: &Connection, course_id: i64) -> rusqlite::Result<Vec<EditionRow>> {
    let mut editions: Vec<EditionRow> = conn
        .prepare_cached(&format!(
            "{EDITION_SELECT} WHERE e.course_id = ?1 ORDER BY e.id"
        ))?
        .query_map([course_id], edition_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    for edition in &mut editions {
        edition.sessions = sessions_of(conn, edition.id)?;
    }
    editions.sort_by_key(|e| e.sessions.first().map(|s| s.starts_at));
    Ok(editions)
}

/// A person of the staff list as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    /// Their Comune; none for the Province's staff.
    pub comune: Option<String>,
    /// Full name.
    pub name: String,
    /// Office.
    pub office: String,
    /// Work e-mail, lower-case.
    pub email: String,
}

/// A stored person.
#[derive(Debug, Clone)]
pub struct StaffRow {
    /// Id.
    pub id: i64,
    /// What was written.
    pub record: StaffRecord,
    /// Their Comune's name.
    pub comune_name: Option<String>,
}

const STAFF_SELECT: &str = "SELECT s.id, s.comune_code, s.name, s.office, s.email, c.name AS comune_name \
    FROM formazione_staff s LEFT JOIN comuni c ON c.code = s.comune_code";

fn staff_from_row(row: &Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        id: row.get("id")?,
        record: StaffRecord {
            comune: row.get("comune_code")?,
            name: row.get("name")?,
            office: row.get("office")?,
            email: row.get("email")?,
        },
        comune_name: row.get("comune_name")?,
    })
}

/// Inserts a person; returns the id.
pub fn insert_staff(conn: &Connection, record: &StaffRecord, now: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO formazione_staff (comune_code, name, office, email, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        record.comune,
        record.name,
        record.office,
        record.email,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Replaces person `id`'s name, office and e-mail (their entity stays).
pub fn update_staff(
    conn: &Connection,
    id: i64,
    record: &StaffRecord,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE formazione_staff SET name = ?2, office = ?3, email = ?4, updated_at = ?5 WHERE id = ?1",
        )?
        .execute(params![id, record.name, record.office, record.email, now])?
        == 1)
}

/// Deletes person `id`.
pub fn delete_staff(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM formazione_staff WHERE id = ?1")?
        .execute([id])?
        == 1)
}

/// Person `id`.
pub fn get_staff(conn: &Connection, id: i64) -> rusqlite::Result<Option<StaffRow>> {
    conn.prepare_cached(&format!("{STAFF_SELECT} WHERE s.id = ?1"))?
        .query_row([id], staff_from_row)
        .optional()
}

/// The id of the person with work e-mail `email` (lower-case), if any.
pub fn staff_id_by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM formazione_staff WHERE email = ?1")?
        .query_row([email], |row| row.get(0))
        .optional()
}

/// Which staff list to read.
#[derive(Debug, Clone, Copy)]
pub enum StaffScope<'a> {
    /// Everyone.
    All,
    /// The Province's own staff.
    Province,
    /// One Comune's.
    Comune(&'a str),
}

/// The staff of `scope`, by name.
pub fn list_staff(conn: &Connection, scope: StaffScope<'_>) -> rusqlite::Result<Vec<StaffRow>> {
    let (filter, code) = match scope {
        StaffScope::All => ("1 = 1 OR ?1 IS NULL", None),
        StaffScope::Province => ("s.comune_code IS NULL AND ?1 IS NULL", None),
        StaffScope::Comune(code) => ("s.comune_code = ?1", Some(code)),
    };
    conn.prepare_cached(&format!(
        "{STAFF_SELECT} WHERE {filter} ORDER BY s.name COLLATE NOCASE, s.id"
    ))?
    .query_map([code], staff_from_row)?
    .collect()
}

/// The sortable columns of the staff list page.
pub const STAFF_SORT: &[crate::web::list::SortColumn] = &[
    crate::web::list::SortColumn {
        key: "nome",
        label: "Nome",
        sql: "s.name COLLATE NOCASE",
    },
    crate::web::list::SortColumn {
        key: "ente",
        label: "Ente",
        sql: "coalesce(c.name, '') COLLATE NOCASE",
    },
    crate::web::list::SortColumn {
        key: "ufficio",
        label: "Ufficio",
        sql: "s.office COLLATE NOCASE",
    },
    crate::web::list::SortColumn {
        key: "email",
        label: "E-mail",
        sql: "s.email",
    },
];

/// One page of the staff of `scope` whose name, office or e-mail contains `text` (any case),
/// ordered by `order_by` (built by `web::list` from [`STAFF_SORT`]); with the count of all
/// that match.
pub fn page_staff(
    conn: &Connection,
    scope: StaffScope<'_>,
    text: Option<&str>,
    order_by: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<StaffRow>, u64)> {
    let (filter, code) = match scope {
        StaffScope::All => ("(1 = 1 OR ?1 IS NULL)", None),
        StaffScope::Province => ("(s.comune_code IS NULL AND ?1 IS NULL)", None),
        StaffScope::Comune(code) => ("s.comune_code = ?1", Some(code)),
    };
    let pattern = text.map(|t| {
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let matching = "(?2 IS NULL OR s.name LIKE ?2 ESCAPE '\\' OR s.office LIKE ?2 ESCAPE '\\' \
        OR s.email LIKE ?2 ESCAPE '\\')";
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM formazione_staff s LEFT JOIN comuni c ON c.code = s.comune_code \
             WHERE {filter} AND {matching}"
        ))?
        .query_row(params![code, pattern], |row| row.get(0))?;
    let rows = conn
        .prepare_cached(&format!(
            "{STAFF_SELECT} WHERE {filter} AND {matching} ORDER BY {order_by} LIMIT ?3 OFFSET ?4"
        ))?
        .query_map(params![code, pattern, limit, offset], staff_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}

/// Whether person `id` has any enrolment.
pub fn staff_has_enrolments(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM formazione_enrolments WHERE staff_id = ?1)")?
        .query_row([id], |row| row.get(0))
}

/// A stored enrolment with its person and course.
#[derive(Debug, Clone)]
pub struct EnrolmentRow {
    /// Id.
    pub id: i64,
    /// Its edition.
    pub edition_id: i64,
    /// The edition's course.
    pub course_id: i64,
    /// The course's title.
    pub course_title: String,
    /// The person.
    pub staff_id: i64,
    /// Their name.
    pub name: String,
    /// Their e-mail.
    pub email: String,
    /// Their Comune, none for the Province.
    pub comune: Option<String>,
    /// State.
    pub state: EnrolmentState,
    /// Final-test score.
    pub score: Option<i64>,
    /// Minutes attended.
    pub attended_minutes: i64,
    /// Whether the course's rule is met.
    pub completed: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// The verification code of its certificate, once issued.
    pub certificate: Option<String>,
}

const ENROLMENT_SELECT: &str = "SELECT n.id, n.edition_id, e.course_id, c.title AS course_title, n.staff_id, \
    s.name, s.email, s.comune_code, n.state, n.score, n.attended_minutes, n.completed, n.created_at, \
    (SELECT code FROM formazione_certificates WHERE enrolment_id = n.id) AS certificate \
    FROM formazione_enrolments n JOIN formazione_staff s ON s.id = n.staff_id \
    JOIN formazione_editions e ON e.id = n.edition_id JOIN formazione_courses c ON c.id = e.course_id";

fn enrolment_from_row(row: &Row<'_>) -> rusqlite::Result<EnrolmentRow> {
    Ok(EnrolmentRow {
        id: row.get("id")?,
        edition_id: row.get("edition_id")?,
        course_id: row.get("course_id")?,
        course_title: row.get("course_title")?,
        staff_id: row.get("staff_id")?,
        name: row.get("name")?,
        email: row.get("email")?,
        comune: row.get("comune_code")?,
        state: row.get("state")?,
        score: row.get("score")?,
        attended_minutes: row.get("attended_minutes")?,
        completed: row.get("completed")?,
        created_at: row.get("created_at")?,
        certificate: row.get("certificate")?,
    })
}

/// Enrolment `id`.
pub fn get_enrolment(conn: &Connection, id: i64) -> rusqlite::Result<Option<EnrolmentRow>> {
    conn.prepare_cached(&format!("{ENROLMENT_SELECT} WHERE n.id = ?1"))?
        .query_row([id], enrolment_from_row)
        .optional()
}

/// The id of person `staff_id`'s enrolment in `edition_id`, if any.
pub fn enrolment_of(
    conn: &Connection,
    edition_id: i64,
    staff_id: i64,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM formazione_enrolments WHERE edition_id = ?1 AND staff_id = ?2",
    )?
    .query_row([edition_id, staff_id], |row| row.get(0))
    .optional()
}

/// The enrolments of `edition_id` (of Comune `comune` only, if given), oldest first.
pub fn enrolments_of_edition(
    conn: &Connection,
    edition_id: i64,
    comune: Option<&str>,
) -> rusqlite::Result<Vec<EnrolmentRow>> {
    conn.prepare_cached(&format!(
        "{ENROLMENT_SELECT} WHERE n.edition_id = ?1 AND (?2 IS NULL OR s.comune_code = ?2) ORDER BY n.id"
    ))?
    .query_map(params![edition_id, comune], enrolment_from_row)?
    .collect()
}

/// The enrolments of person `staff_id`, newest first.
pub fn enrolments_of_staff(
    conn: &Connection,
    staff_id: i64,
) -> rusqlite::Result<Vec<EnrolmentRow>> {
    conn.prepare_cached(&format!(
        "{ENROLMENT_SELECT} WHERE n.staff_id = ?1 ORDER BY n.id DESC"
    ))?
    .query_map([staff_id], enrolment_from_row)?
    .collect()
}

/// The enrolments in `state` across editions (of Comune `comune` only, if given), oldest
/// first, at most `limit`.
pub fn enrolments_in_state(
    conn: &Connection,
    state: EnrolmentState,
    comune: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<EnrolmentRow>> {
    conn.prepare_cached(&format!(
        "{ENROLMENT_SELECT} WHERE n.state = ?1 AND (?2 IS NULL OR s.comune_code = ?2) ORDER BY n.id LIMIT ?3"
    ))?
    .query_map(params![state, comune, limit], enrolment_from_row)?
    .collect()
}

/// Inserts an enrolment in `state`; returns its id.
pub fn insert_enrolment(
    conn: &Connection,
    edition_id: i64,
    staff_id: i64,
    state: EnrolmentState,
    user_id: i64,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO formazione_enrolments (edition_id, staff_id, state, enrolled_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![edition_id, staff_id, state, user_id, now])?;
    Ok(conn.last_insert_rowid())
}

/// How many enrolments of `edition_id` hold a seat.
pub fn seats_taken(conn: &Connection, edition_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM formazione_enrolments WHERE edition_id = ?1 AND state = 'enrolled'",
    )?
    .query_row([edition_id], |row| row.get(0))
}

/// The first enrolment on `edition_id`'s waiting list (the oldest), if any.
pub fn first_waiting(conn: &Connection, edition_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM formazione_enrolments WHERE edition_id = ?1 AND state = 'waiting' ORDER BY id LIMIT 1",
    )?
    .query_row([edition_id], |row| row.get(0))
    .optional()
}

/// Sets enrolment `id`'s final-test score.
pub fn set_score(conn: &Connection, id: i64, score: Option<i64>) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE formazione_enrolments SET score = ?2 WHERE id = ?1")?
        .execute(params![id, score])?;
    Ok(())
}

/// Where an attendance figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceSource {
    /// The register.
    Register,
    /// A videoconference report.
    Import,
}

/// Writes the minutes enrolment `enrolment_id` attended session `session_id`.
pub fn set_attendance(
    conn: &Connection,
    session_id: i64,
    enrolment_id: i64,
    minutes: i64,
    source: AttendanceSource,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO formazione_attendance (session_id, enrolment_id, minutes, source) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (session_id, enrolment_id) DO UPDATE SET minutes = excluded.minutes, source = excluded.source",
    )?
    .execute(params![
        session_id,
        enrolment_id,
        minutes,
        match source {
            AttendanceSource::Register => "register",
            AttendanceSource::Import => "import",
        }
    ])?;
    Ok(())
}

/// The minutes recorded for session `session_id`, by enrolment.
pub fn attendance_of_session(
    conn: &Connection,
    session_id: i64,
) -> rusqlite::Result<Vec<(i64, i64)>> {
    conn.prepare_cached(
        "SELECT enrolment_id, minutes FROM formazione_attendance WHERE session_id = ?1 ORDER BY enrolment_id",
    )?
    .query_map([session_id], |row| Ok((row.get(0)?, row.get(1)?)))?
    .collect()
}

/// Recomputes the minutes attended and the completion of every enrolment of `edition_id`
/// from its attendance and `rule` (only an enrolment holding a seat completes).
pub fn recompute_edition(
    conn: &Connection,
    edition_id: i64,
    rule: CompletionRule,
) -> rusqlite::Result<()> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum((ends_at - starts_at) / 60), 0) FROM formazione_sessions WHERE edition_id = ?1",
        )?
        .query_row([edition_id], |row| row.get(0))?;
    let rows: Vec<(i64, EnrolmentState, Option<i64>, i64)> = conn
        .prepare_cached(
            "SELECT n.id, n.state, n.score, coalesce((SELECT sum(a.minutes) FROM formazione_attendance a \
             WHERE a.enrolment_id = n.id), 0) FROM formazione_enrolments n WHERE n.edition_id = ?1",
        )?
        .query_map([edition_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare_cached(
        "UPDATE formazione_enrolments SET attended_minutes = ?2, completed = ?3 WHERE id = ?1",
    )?;
    for (id, state, score, attended) in rows {
        let completed = state == EnrolmentState::Enrolled && rule.is_met(attended, total, score);
        update.execute(params![id, attended, completed])?;
    }
    Ok(())
}

/// A session for the reports: its course's sector and when it ran.
#[derive(Debug, Clone)]
pub struct DeliveredSession {
    /// The course's sector.
    pub sector: Sector,
    /// Unix seconds.
    pub starts_at: i64,
    /// Minutes.
    pub minutes: i64,
}

/// Every session that has started by `now`, with its course's sector.
pub fn delivered_sessions(conn: &Connection, now: i64) -> rusqlite::Result<Vec<DeliveredSession>> {
    conn.prepare_cached(
        "SELECT c.sector, s.starts_at, (s.ends_at - s.starts_at) / 60 AS minutes FROM formazione_sessions s \
         JOIN formazione_editions e ON e.id = s.edition_id JOIN formazione_courses c ON c.id = e.course_id \
         WHERE s.starts_at <= ?1 ORDER BY s.starts_at",
    )?
    .query_map([now], |row| {
        Ok(DeliveredSession {
            sector: row.get("sector")?,
            starts_at: row.get("starts_at")?,
            minutes: row.get("minutes")?,
        })
    })?
    .collect()
}

/// An enrolment holding a seat, for the reports.
#[derive(Debug, Clone)]
pub struct ReportEnrolment {
    /// The person.
    pub staff_id: i64,
    /// Their Comune (none: the Province).
    pub comune: Option<String>,
    /// The Comune's name.
    pub comune_name: Option<String>,
    /// The course's sector.
    pub sector: Sector,
    /// The course's Syllabus area and level.
    pub syllabus: Option<(SyllabusArea, Level)>,
    /// The edition's first session (Unix seconds), if it has sessions.
    pub first_session: Option<i64>,
    /// Whether the rule is met.
    pub completed: bool,
}

/// Every enrolment holding a seat, with what the reports group it by.
pub fn report_enrolments(conn: &Connection) -> rusqlite::Result<Vec<ReportEnrolment>> {
    conn.prepare_cached(
        "SELECT n.staff_id, s.comune_code, m.name AS comune_name, c.sector, c.syllabus_area, c.syllabus_level, \
         (SELECT min(x.starts_at) FROM formazione_sessions x WHERE x.edition_id = n.edition_id) AS first_session, \
         n.completed FROM formazione_enrolments n JOIN formazione_staff s ON s.id = n.staff_id \
         LEFT JOIN comuni m ON m.code = s.comune_code JOIN formazione_editions e ON e.id = n.edition_id \
         JOIN formazione_courses c ON c.id = e.course_id WHERE n.state = 'enrolled' ORDER BY n.id",
    )?
    .query_map([], |row| {
        let area: Option<SyllabusArea> = row.get("syllabus_area")?;
        let level: Option<Level> = row.get("syllabus_level")?;
        Ok(ReportEnrolment {
            staff_id: row.get("staff_id")?,
            comune: row.get("comune_code")?,
            comune_name: row.get("comune_name")?,
            sector: row.get("sector")?,
            syllabus: area.zip(level),
            first_session: row.get("first_session")?,
            completed: row.get("completed")?,
        })
    })?
    .collect()
}

/// Minutes a person attended in one session, for the yearly hours per person.
#[derive(Debug, Clone)]
pub struct AttendedSession {
    /// The person.
    pub staff_id: i64,
    /// Their name.
    pub name: String,
    /// Their Comune (none: the Province).
    pub comune: Option<String>,
    /// The Comune's name.
    pub comune_name: Option<String>,
    /// The session's start, Unix seconds.
    pub starts_at: i64,
    /// Minutes attended.
    pub minutes: i64,
}

/// Every attendance recorded, with its person and the session's start.
pub fn attended_sessions(conn: &Connection) -> rusqlite::Result<Vec<AttendedSession>> {
    conn.prepare_cached(
        "SELECT s.id AS staff_id, s.name, s.comune_code, m.name AS comune_name, x.starts_at, a.minutes \
         FROM formazione_attendance a JOIN formazione_sessions x ON x.id = a.session_id \
         JOIN formazione_enrolments n ON n.id = a.enrolment_id JOIN formazione_staff s ON s.id = n.staff_id \
         LEFT JOIN comuni m ON m.code = s.comune_code WHERE a.minutes > 0 ORDER BY s.id",
    )?
    .query_map([], |row| {
        Ok(AttendedSession {
            staff_id: row.get("staff_id")?,
            name: row.get("name")?,
            comune: row.get("comune_code")?,
            comune_name: row.get("comune_name")?,
            starts_at: row.get("starts_at")?,
            minutes: row.get("minutes")?,
        })
    })?
    .collect()
}

/// Every session with its course's sector, edition and length, for the national aggregates.
pub fn all_sessions(conn: &Connection) -> rusqlite::Result<Vec<(Sector, i64, i64, i64)>> {
    conn.prepare_cached(
        "SELECT c.sector, s.edition_id, s.starts_at, (s.ends_at - s.starts_at) / 60 FROM formazione_sessions s \
         JOIN formazione_editions e ON e.id = s.edition_id JOIN formazione_courses c ON c.id = e.course_id \
         ORDER BY s.id",
    )?
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
    .collect()
}

/// Every attendance with the course's sector and the session's start, for the national
/// aggregates: `(sector, starts_at, minutes)`.
pub fn attendance_by_sector(conn: &Connection) -> rusqlite::Result<Vec<(Sector, i64, i64)>> {
    conn.prepare_cached(
        "SELECT c.sector, x.starts_at, a.minutes FROM formazione_attendance a \
         JOIN formazione_sessions x ON x.id = a.session_id JOIN formazione_editions e ON e.id = x.edition_id \
         JOIN formazione_courses c ON c.id = e.course_id ORDER BY a.session_id",
    )?
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
    .collect()
}

/// The stored rows of dataset `dataset`, by key.
pub fn national_rows(
    conn: &Connection,
    dataset: &str,
) -> rusqlite::Result<std::collections::BTreeMap<String, String>> {
    conn.prepare_cached("SELECT pk, data FROM dataset_rows WHERE dataset = ?1")?
        .query_map([dataset], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// An edition of a course open to other Provinces, as the national catalogue lists it.
#[derive(Debug, Clone)]
pub struct OpenEdition {
    /// The course.
    pub course: CourseRow,
    /// The edition (with its sessions).
    pub edition: EditionRow,
}

/// Every edition of the courses open to other Provinces, by course and edition id.
pub fn open_editions(conn: &Connection) -> rusqlite::Result<Vec<OpenEdition>> {
    let courses: Vec<CourseRow> = conn
        .prepare_cached(&format!(
            "SELECT {COURSE_COLUMNS} FROM formazione_courses WHERE open_to_provinces = 1 ORDER BY id"
        ))?
        .query_map([], course_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for course in courses {
        let editions: Vec<EditionRow> = conn
            .prepare_cached(&format!(
                "{EDITION_SELECT} WHERE e.course_id = ?1 ORDER BY e.id"
            ))?
            .query_map([course.id], edition_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        for mut edition in editions {
            edition.sessions = sessions_of(conn, edition.id)?;
            out.push(OpenEdition {
                course: course.clone(),
                edition,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Certificates

/// A certificate as issued.
#[derive(Debug, Clone)]
pub struct CertificateRow {
    /// Its enrolment.
    pub enrolment_id: i64,
    /// The verification code.
    pub code: String,
    /// The exact canonical JSON bytes signed.
    pub payload: String,
    /// Ed25519 over `payload`, base64url.
    pub signature: String,
    /// The signing key's id.
    pub key_id: String,
    /// The signing key (`ed25519:…`).
    pub public_key: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds, if revoked.
    pub revoked_at: Option<i64>,
    /// Why it was revoked.
    pub revoked_reason: String,
}

const CERTIFICATE_SELECT: &str = "SELECT enrolment_id, code, payload, signature, key_id, public_key, \
    issued_at, revoked_at, revoked_reason FROM formazione_certificates";

fn certificate_from_row(row: &Row<'_>) -> rusqlite::Result<CertificateRow> {
    Ok(CertificateRow {
        enrolment_id: row.get("enrolment_id")?,
        code: row.get("code")?,
        payload: row.get("payload")?,
        signature: row.get("signature")?,
        key_id: row.get("key_id")?,
        public_key: row.get("public_key")?,
        issued_at: row.get("issued_at")?,
        revoked_at: row.get("revoked_at")?,
        revoked_reason: row.get("revoked_reason")?,
    })
}

/// Stores an issued certificate.
pub fn insert_certificate(
    conn: &Connection,
    row: &CertificateRow,
    issued_by: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO formazione_certificates (enrolment_id, code, payload, signature, key_id, \
         public_key, issued_at, issued_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        row.enrolment_id,
        row.code,
        row.payload,
        row.signature,
        row.key_id,
        row.public_key,
        row.issued_at,
        issued_by
    ])?;
    Ok(())
}

/// The certificate with verification code `code`.
pub fn certificate_by_code(
    conn: &Connection,
    code: &str,
) -> rusqlite::Result<Option<CertificateRow>> {
    conn.prepare_cached(&format!("{CERTIFICATE_SELECT} WHERE code = ?1"))?
        .query_row([code], certificate_from_row)
        .optional()
}

/// The certificate of enrolment `enrolment_id`.
pub fn certificate_of_enrolment(
    conn: &Connection,
    enrolment_id: i64,
) -> rusqlite::Result<Option<CertificateRow>> {
    conn.prepare_cached(&format!("{CERTIFICATE_SELECT} WHERE enrolment_id = ?1"))?
        .query_row([enrolment_id], certificate_from_row)
        .optional()
}

/// Revokes certificate `code` (once); whether it was valid.
pub fn revoke_certificate(
    conn: &Connection,
    code: &str,
    reason: &str,
    at: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE formazione_certificates SET revoked_at = ?2, revoked_reason = ?3 \
             WHERE code = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![code, at, reason])?
        == 1)
}

/// The payload of the hub's training targets the node last verified (`formazione::targets`).
pub fn kept_targets(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT targets FROM formazione_targets WHERE id = 1",
        [],
        |row| row.get(0),
    )
    .optional()
}

/// The revision of the targets kept, if any.
pub fn kept_targets_revision(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT revision FROM formazione_targets WHERE id = 1",
        [],
        |row| row.get(0),
    )
    .optional()
}

/// Keeps a verified targets document (`document`, the JWS as received) and its payload,
/// replacing the one kept.
pub fn keep_targets(
    conn: &Connection,
    revision: i64,
    document: &str,
    payload: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO formazione_targets (id, revision, document, targets, verified_at)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, document = excluded.document,
             targets = excluded.targets, verified_at = excluded.verified_at",
        params![revision, document, payload, now],
    )?;
    Ok(())
}
