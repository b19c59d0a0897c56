//! Formazione operations shared by the API and the pages: each checks the policy, validates
//! what it receives (every message in Italian, named by field), and writes with its audit
//! event, history and recomputed completion in one IMMEDIATE transaction.

use jiff::Timestamp;
use pico_service::text::{self, Lines};
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Identity;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::formazione::attendance::{self, AttendanceReport};
use crate::formazione::db::{
    self as store, AttendanceSource, CourseRecord, CourseRow, EditionRecord, EditionRow,
    EnrolmentRow, StaffRecord, StaffRow, StaffScope,
};
use crate::formazione::national;
use crate::formazione::policy::{self, Action};
use crate::formazione::{
    CompletionRule, CourseAudience, ENROLMENTS, EnrolmentState, Level, Mode, Sector, SyllabusArea,
    hours_text,
};
use crate::lifecycle::{self, Step};
use crate::state::AppState;
use crate::sua::day::Day;
use crate::web::form::Errors;

/// `Ok` if `errors` is empty, else the 422 naming every field.
pub fn finish(errors: &Errors) -> Result<(), AppError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(crate::web::list::refuse(errors))
    }
}

fn check<T>(errors: &mut Errors, field: &str, result: Result<T, String>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            errors.entry(field.to_owned()).or_insert(message);
            None
        }
    }
}

fn required_text(text: &str, max: usize) -> Result<String, String> {
    text::clean(text, Lines::One, max, true).map_err(|err| err.to_string())
}

fn optional_text(text: &str, max: usize, lines: Lines) -> Result<String, String> {
    text::clean(text, lines, max, false).map_err(|err| err.to_string())
}

/// Today in Italy, `YYYY-MM-DD`: the enrolment window is judged on it.
pub fn today() -> String {
    Day::today().iso()
}

/// Minutes as the API's decimal hours (`7.50`).
pub fn decimal_hours(minutes: i64) -> String {
    let hundredths = minutes * 100 / 60;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

// ---------------------------------------------------------------------------------------
// Courses and editions

/// A course as clients send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseInput {
    /// Title.
    pub title: String,
    /// Sector.
    pub sector: Option<Sector>,
    /// What it is about.
    #[serde(default)]
    pub description: String,
    /// What a person will be able to do.
    #[serde(default)]
    pub objectives: String,
    /// Nominal hours, 1–1000.
    pub hours: i64,
    /// How it is delivered.
    pub mode: Option<Mode>,
    /// Syllabus area, for digital-skills courses (with a level).
    pub syllabus_area: Option<SyllabusArea>,
    /// Syllabus level, with an area.
    pub syllabus_level: Option<Level>,
    /// Free competence tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whose staff may enrol.
    pub audience: Option<CourseAudience>,
    /// Whether a Comune's enrolment needs the Province's approval.
    #[serde(default)]
    pub needs_approval: bool,
    /// Least share of the edition's hours to attend, percent (1–100).
    pub min_attendance_percent: i64,
    /// Least final-test score (0–100), if the course has a test.
    pub min_score: Option<i64>,
    /// Its short name in the Province's Moodle, if it runs there: the completion report
    /// names courses by it.
    #[serde(default)]
    pub moodle_shortname: Option<String>,
    /// Open to the staff of other Provinces: its editions are listed in the national
    /// catalogue of courses (`formazione_corsi`, when the Province federates it).
    #[serde(default)]
    pub open_to_provinces: bool,
}

/// Validates a course into its record, naming every wrong field.
pub fn check_course(input: &CourseInput) -> Result<CourseRecord, AppError> {
    let mut errors = Errors::new();
    let title = check(&mut errors, "title", required_text(&input.title, 300));
    let description = check(
        &mut errors,
        "description",
        optional_text(&input.description, 5000, Lines::Many),
    );
    let objectives = check(
        &mut errors,
        "objectives",
        optional_text(&input.objectives, 5000, Lines::Many),
    );
    let sector = check(
        &mut errors,
        "sector",
        input.sector.ok_or_else(|| "Scegli il settore.".to_owned()),
    );
    let mode = check(
        &mut errors,
        "mode",
        input.mode.ok_or_else(|| "Scegli la modalità.".to_owned()),
    );
    let audience = check(
        &mut errors,
        "audience",
        input
            .audience
            .ok_or_else(|| "Scegli chi può iscriversi.".to_owned()),
    );
    if !(1..=1000).contains(&input.hours) {
        errors.insert(
            "hours".into(),
            "Le ore sono un numero intero da 1 a 1000.".into(),
        );
    }
    let syllabus = match (input.syllabus_area, input.syllabus_level) {
        (Some(area), Some(level)) => Some((area, level)),
        (None, None) => None,
        (Some(_), None) => {
            errors.insert(
                "syllabus_level".into(),
                "Con l'area del Syllabus scegli anche il livello.".into(),
            );
            None
        }
        (None, Some(_)) => {
            errors.insert(
                "syllabus_area".into(),
                "Con il livello scegli anche l'area del Syllabus.".into(),
            );
            None
        }
    };
    let mut tags = Vec::new();
    for tag in &input.tags {
        match required_text(tag, 60) {
            Ok(tag) if !tag.contains(',') => {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            _ => {
                errors.insert(
                    "tags".into(),
                    "Ogni competenza è una parola o frase breve (al massimo 60 caratteri, senza virgole)."
                        .into(),
                );
            }
        }
    }
    if tags.len() > 20 {
        errors.insert("tags".into(), "Al massimo 20 competenze.".into());
    }
    if !(1..=100).contains(&input.min_attendance_percent) {
        errors.insert(
            "min_attendance_percent".into(),
            "La frequenza minima è una percentuale intera da 1 a 100.".into(),
        );
    }
    if input.min_score.is_some_and(|s| !(0..=100).contains(&s)) {
        errors.insert(
            "min_score".into(),
            "Il punteggio minimo del test è un numero intero da 0 a 100.".into(),
        );
    }
    let moodle_shortname = match input.moodle_shortname.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => check(&mut errors, "moodle_shortname", required_text(name, 100)),
    };
    finish(&errors)?;
    match (title, description, objectives, sector, mode, audience) {
        (
            Some(title),
            Some(description),
            Some(objectives),
            Some(sector),
            Some(mode),
            Some(audience),
        ) => Ok(CourseRecord {
            title,
            sector,
            description,
            objectives,
            hours: input.hours,
            mode,
            syllabus,
            tags: tags.join(", "),
            audience,
            needs_approval: input.needs_approval,
            rule: CompletionRule {
                min_attendance_percent: input.min_attendance_percent,
                min_score: input.min_score,
            },
            moodle_shortname,
            open_to_provinces: input.open_to_provinces,
        }),
        _ => Err(AppError::Internal("course checked without a value".into())),
    }
}

/// A course as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseView {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Sector.
    pub sector: Sector,
    /// What it is about.
    pub description: String,
    /// Objectives.
    pub objectives: String,
    /// Nominal hours.
    pub hours: i64,
    /// Mode.
    pub mode: Mode,
    /// Syllabus area (digital-skills courses).
    pub syllabus_area: Option<SyllabusArea>,
    /// Syllabus level.
    pub syllabus_level: Option<Level>,
    /// Free competence tags.
    pub tags: Vec<String>,
    /// Whose staff may enrol.
    pub audience: CourseAudience,
    /// Whether a Comune's enrolment needs the Province's approval.
    pub needs_approval: bool,
    /// Least share of hours, percent.
    pub min_attendance_percent: i64,
    /// Least final-test score.
    pub min_score: Option<i64>,
    /// Its short name in the Province's Moodle.
    pub moodle_shortname: Option<String>,
    /// Open to the staff of other Provinces (listed in the national catalogue).
    pub open_to_provinces: bool,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

impl From<CourseRow> for CourseView {
    fn from(row: CourseRow) -> CourseView {
        let r = row.record;
        CourseView {
            id: row.id,
            title: r.title,
            sector: r.sector,
            description: r.description,
            objectives: r.objectives,
            hours: r.hours,
            mode: r.mode,
            syllabus_area: r.syllabus.map(|(area, _)| area),
            syllabus_level: r.syllabus.map(|(_, level)| level),
            tags: r
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            audience: r.audience,
            needs_approval: r.needs_approval,
            min_attendance_percent: r.rule.min_attendance_percent,
            min_score: r.rule.min_score,
            moodle_shortname: r.moodle_shortname,
            open_to_provinces: r.open_to_provinces,
            updated_at: db::rfc3339(row.updated_at),
        }
    }
}

/// A session as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Id.
    pub id: i64,
    /// RFC 3339 UTC.
    pub starts_at: String,
    /// RFC 3339 UTC.
    pub ends_at: String,
    /// Length, minutes.
    pub minutes: i64,
    /// Unix seconds of the start (for pages).
    #[serde(skip)]
    pub starts_unix: i64,
    /// Unix seconds of the end (for pages).
    #[serde(skip)]
    pub ends_unix: i64,
}

/// An edition as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditionView {
    /// Id.
    pub id: i64,
    /// Its course.
    pub course_id: i64,
    /// Where.
    pub place: String,
    /// Videoconference or e-learning link.
    pub link: String,
    /// Who teaches.
    pub teacher: String,
    /// Seats.
    pub seats: i64,
    /// First day of enrolment, `YYYY-MM-DD`.
    pub enrol_opens: String,
    /// Last day of enrolment, `YYYY-MM-DD`.
    pub enrol_closes: String,
    /// Whether enrolment is open today (in Italy).
    pub enrolment_open: bool,
    /// Sessions in time order.
    pub sessions: Vec<SessionView>,
    /// Hours of all sessions, decimal (`7.50`), computed from them.
    pub hours: String,
    /// Minutes of all sessions.
    pub minutes: i64,
    /// Enrolments holding a seat.
    pub enrolled: i64,
    /// On the waiting list.
    pub waiting: i64,
    /// Waiting for the Province's approval.
    pub pending: i64,
    /// Seats still free.
    pub seats_free: i64,
}

impl EditionView {
    /// The view of `row` on `today`.
    pub fn new(row: EditionRow, today: &str) -> EditionView {
        let minutes = row.minutes();
        EditionView {
            id: row.id,
            course_id: row.course_id,
            enrolment_open: row.enrol_opens.as_str() <= today && today <= row.enrol_closes.as_str(),
            sessions: row
                .sessions
                .iter()
                .map(|s| SessionView {
                    id: s.id,
                    starts_at: db::rfc3339(s.starts_at),
                    ends_at: db::rfc3339(s.ends_at),
                    minutes: s.minutes(),
                    starts_unix: s.starts_at,
                    ends_unix: s.ends_at,
                })
                .collect(),
            hours: decimal_hours(minutes),
            minutes,
            seats_free: (row.seats - row.enrolled).max(0),
            place: row.place,
            link: row.link,
            teacher: row.teacher,
            seats: row.seats,
            enrol_opens: row.enrol_opens,
            enrol_closes: row.enrol_closes,
            enrolled: row.enrolled,
            waiting: row.waiting,
            pending: row.pending,
        }
    }
}

/// A course with its editions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseDetail {
    /// The course.
    pub course: CourseView,
    /// Its editions, by first session.
    pub editions: Vec<EditionView>,
}

/// A session as clients send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// RFC 3339 (`2026-03-10T09:00:00+01:00`).
    pub starts_at: String,
    /// RFC 3339, after the start and within 12 hours of it.
    pub ends_at: String,
}

/// An edition as clients send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditionInput {
    /// Where (address and room), empty for online courses.
    #[serde(default)]
    pub place: String,
    /// Videoconference or e-learning link.
    #[serde(default)]
    pub link: String,
    /// Who teaches.
    pub teacher: String,
    /// Seats, 1–10000.
    pub seats: i64,
    /// First day of enrolment, `YYYY-MM-DD`.
    pub enrol_opens: String,
    /// Last day of enrolment, `YYYY-MM-DD`.
    pub enrol_closes: String,
    /// Sessions (at least one).
    pub sessions: Vec<SessionInput>,
}

fn parse_day(errors: &mut Errors, field: &str, text: &str) -> Option<String> {
    check(
        errors,
        field,
        Day::parse(text)
            .map(Day::iso)
            .map_err(|_| "Scrivi la data come 31/12/2026.".to_owned()),
    )
}

/// Validates an edition into its record, naming every wrong field (`sessions[1].ends_at`).
pub fn check_edition(input: &EditionInput) -> Result<EditionRecord, AppError> {
    let mut errors = Errors::new();
    let place = check(
        &mut errors,
        "place",
        optional_text(&input.place, 300, Lines::One),
    );
    let link = check(
        &mut errors,
        "link",
        optional_text(&input.link, 1000, Lines::One),
    );
    if let Some(link) = &link
        && !link.is_empty()
        && !link.starts_with("https://")
    {
        errors.insert(
            "link".into(),
            "Il collegamento deve iniziare con https://.".into(),
        );
    }
    if place.as_deref() == Some("") && link.as_deref() == Some("") {
        errors.insert(
            "place".into(),
            "Indica il luogo o il collegamento (almeno uno dei due).".into(),
        );
    }
    let teacher = check(&mut errors, "teacher", required_text(&input.teacher, 200));
    if !(1..=10_000).contains(&input.seats) {
        errors.insert(
            "seats".into(),
            "I posti sono un numero intero da 1 a 10.000.".into(),
        );
    }
    let opens = parse_day(&mut errors, "enrol_opens", &input.enrol_opens);
    let closes = parse_day(&mut errors, "enrol_closes", &input.enrol_closes);
    if let (Some(opens), Some(closes)) = (&opens, &closes)
        && closes < opens
    {
        errors.insert(
            "enrol_closes".into(),
            "Le iscrizioni non possono chiudere prima di aprire.".into(),
        );
    }
    if input.sessions.is_empty() {
        errors.insert("sessions".into(), "Indica almeno un incontro.".into());
    }
    if input.sessions.len() > 100 {
        errors.insert("sessions".into(), "Al massimo 100 incontri.".into());
    }
    let mut sessions = Vec::new();
    for (index, session) in input.sessions.iter().enumerate() {
        let instant = |text: &str| {
            text.trim()
                .parse::<Timestamp>()
                .map(Timestamp::as_second)
                .map_err(|_| "Scrivi data e ora come 2026-03-10T09:00:00+01:00.".to_owned())
        };
        let starts = check(
            &mut errors,
            &format!("sessions[{index}].starts_at"),
            instant(&session.starts_at),
        );
        let ends = check(
            &mut errors,
            &format!("sessions[{index}].ends_at"),
            instant(&session.ends_at),
        );
        if let (Some(starts), Some(ends)) = (starts, ends) {
            if ends <= starts || ends - starts > 12 * 3600 {
                errors.insert(
                    format!("sessions[{index}].ends_at"),
                    "Un incontro finisce dopo l'inizio e dura al massimo 12 ore.".into(),
                );
            } else {
                sessions.push((starts, ends));
            }
        }
    }
    sessions.sort_unstable();
    finish(&errors)?;
    Ok(EditionRecord {
        place: place.unwrap_or_default(),
        link: link.unwrap_or_default(),
        teacher: teacher.unwrap_or_default(),
        seats: input.seats,
        enrol_opens: opens.unwrap_or_default(),
        enrol_closes: closes.unwrap_or_default(),
        sessions,
    })
}

/// The catalogue: every course (of `sector`, if given), newest first.
pub async fn list_courses(
    state: &AppState,
    identity: &Identity,
    sector: Option<Sector>,
) -> Result<Vec<CourseView>, AppError> {
    policy::authorize(identity, Action::ViewCatalogue)?;
    state
        .db
        .call(move |conn| {
            Ok::<_, AppError>(
                store::list_courses(conn, sector)?
                    .into_iter()
                    .map(CourseView::from)
                    .collect(),
            )
        })
        .await
}

/// The one shape of the training office's writes: the policy, then `work` in one IMMEDIATE
/// transaction (given the actor, for the audit, and the time), the national datasets brought
/// in line with what it changed, the commit.
pub async fn office_write<T: Send + 'static>(
    state: &AppState,
    identity: &Identity,
    work: impl FnOnce(&Connection, &audit::Actor, i64) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let actor = identity.actor();
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        work(tx, &actor, now)
    })
    .await
}

/// Adds a course to the catalogue.
pub async fn create_course(
    state: &AppState,
    identity: &Identity,
    input: &CourseInput,
) -> Result<CourseView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let record = check_course(input)?;
    office_write(state, identity, move |tx, actor, now| {
        check_moodle_unique(tx, &record, None)?;
        let id = store::insert_course(tx, &record, now)?;
        audit::record(
            tx,
            actor,
            "formazione.course.create",
            &format!("formazione_course:{id}"),
            &json!({"sector": record.sector.as_str()}),
            now,
        )?;
        let row = store::get_course(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(CourseView::from(row))
    })
    .await
}

/// 422 when another course already has `record`'s Moodle short name.
fn check_moodle_unique(
    conn: &Connection,
    record: &CourseRecord,
    id: Option<i64>,
) -> Result<(), AppError> {
    if let Some(name) = &record.moodle_shortname
        && let Some(other) = store::course_by_moodle(conn, name)?
        && Some(other.id) != id
    {
        return Err(AppError::invalid_field(
            "moodle_shortname",
            format!(
                "Il nome breve Moodle «{name}» è già del corso «{}».",
                other.record.title
            ),
        ));
    }
    Ok(())
}

/// Replaces a course's content; the completion of every enrolment follows its new rule.
pub async fn update_course(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &CourseInput,
) -> Result<CourseView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let record = check_course(input)?;
    office_write(state, identity, move |tx, actor, now| {
        check_moodle_unique(tx, &record, Some(id))?;
        if !store::update_course(tx, id, &record, now)? {
            return Err(AppError::NotFound);
        }
        for edition in store::editions_of(tx, id)? {
            store::recompute_edition(tx, edition.id, record.rule)?;
        }
        audit::record(
            tx,
            actor,
            "formazione.course.update",
            &format!("formazione_course:{id}"),
            &json!({}),
            now,
        )?;
        let row = store::get_course(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(CourseView::from(row))
    })
    .await
}

/// A course with its editions.
pub async fn course_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<CourseDetail, AppError> {
    policy::authorize(identity, Action::ViewCatalogue)?;
    state
        .db
        .call(move |conn| {
            let course = store::get_course(conn, id)?.ok_or(AppError::NotFound)?;
            let today = today();
            let editions = store::editions_of(conn, id)?
                .into_iter()
                .map(|e| EditionView::new(e, &today))
                .collect();
            Ok(CourseDetail {
                course: course.into(),
                editions,
            })
        })
        .await
}

/// Adds an edition with its sessions to course `course_id`.
pub async fn create_edition(
    state: &AppState,
    identity: &Identity,
    course_id: i64,
    input: &EditionInput,
) -> Result<EditionView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let record = check_edition(input)?;
    office_write(state, identity, move |tx, actor, now| {
        store::get_course(tx, course_id)?.ok_or(AppError::NotFound)?;
        let id = store::insert_edition(tx, course_id, &record, now)?;
        audit::record(
            tx,
            actor,
            "formazione.edition.create",
            &format!("formazione_edition:{id}"),
            &json!({"course_id": course_id, "sessions": record.sessions.len()}),
            now,
        )?;
        let row = store::get_edition(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(EditionView::new(row, &today()))
    })
    .await
}

/// An edition with its course and the enrolments the caller may see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditionDetail {
    /// The edition.
    pub edition: EditionView,
    /// Its course.
    pub course: CourseView,
    /// Enrolments: all for the training office, the caller's own Comune's for a Comune
    /// user, none for others.
    pub enrolments: Vec<EnrolmentView>,
}

/// Whose enrolments `identity` sees: `Some(None)` all, `Some(Some(code))` one Comune's,
/// `None` none.
fn enrolment_scope(identity: &Identity) -> Option<Option<String>> {
    let user = identity.user.as_ref()?;
    if let Some(code) = user.roles.comune() {
        Some(Some(code.as_str().to_owned()))
    } else if user.roles.any(policy::is_office) {
        Some(None)
    } else {
        None
    }
}

/// An edition with its course and the enrolments the caller may see.
pub async fn edition_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<EditionDetail, AppError> {
    policy::authorize(identity, Action::ViewCatalogue)?;
    let scope = enrolment_scope(identity);
    state
        .db
        .call(move |conn| {
            let edition = store::get_edition(conn, id)?.ok_or(AppError::NotFound)?;
            let course = store::get_course(conn, edition.course_id)?.ok_or(AppError::NotFound)?;
            let enrolments = match &scope {
                Some(comune) => store::enrolments_of_edition(conn, id, comune.as_deref())?
                    .into_iter()
                    .map(EnrolmentView::from)
                    .collect(),
                None => Vec::new(),
            };
            Ok(EditionDetail {
                edition: EditionView::new(edition, &today()),
                course: course.into(),
                enrolments,
            })
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Staff

/// A person of the staff list as clients send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    /// ISTAT code of their Comune; none for the Province's staff. A Comune user may leave it
    /// out (its own Comune is meant); it cannot change on update.
    pub comune_code: Option<String>,
    /// Full name.
    pub name: String,
    /// Office.
    #[serde(default)]
    pub office: String,
    /// Work e-mail.
    pub email: String,
}

/// A person of the staff list as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    /// Id.
    pub id: i64,
    /// ISTAT code of their Comune; none for the Province's staff.
    pub comune_code: Option<String>,
    /// Their Comune's name.
    pub comune_name: Option<String>,
    /// Full name.
    pub name: String,
    /// Office.
    pub office: String,
    /// Work e-mail.
    pub email: String,
}

impl From<StaffRow> for StaffView {
    fn from(row: StaffRow) -> StaffView {
        StaffView {
            id: row.id,
            comune_code: row.record.comune,
            comune_name: row.comune_name,
            name: row.record.name,
            office: row.record.office,
            email: row.record.email,
        }
    }
}

/// Whether `email` looks like an address: one `@`, something before, a dotted domain after,
/// no blanks.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn check_staff(input: &StaffInput, comune: Option<String>) -> Result<StaffRecord, AppError> {
    let mut errors = Errors::new();
    let name = check(&mut errors, "name", required_text(&input.name, 200));
    let office = check(
        &mut errors,
        "office",
        optional_text(&input.office, 200, Lines::One),
    );
    let email = input.email.trim().to_lowercase();
    if !is_email(&email) || email.len() > 254 {
        errors.insert(
            "email".into(),
            "Scrivi l'indirizzo e-mail di lavoro, come nome.cognome@comune.treviso.it.".into(),
        );
    }
    finish(&errors)?;
    Ok(StaffRecord {
        comune,
        name: name.unwrap_or_default(),
        office: office.unwrap_or_default(),
        email,
    })
}

fn email_taken() -> AppError {
    AppError::invalid_field(
        "email",
        "Questo indirizzo è già nell'elenco del personale in formazione.",
    )
}

/// The staff list `identity` keeps or sees: all for the office, its own for a Comune.
pub async fn list_staff(state: &AppState, identity: &Identity) -> Result<Vec<StaffView>, AppError> {
    let comune = staff_list_of(identity)?;
    state
        .db
        .call(move |conn| {
            let scope = comune
                .as_deref()
                .map_or(StaffScope::All, StaffScope::Comune);
            Ok::<_, AppError>(
                store::list_staff(conn, scope)?
                    .into_iter()
                    .map(StaffView::from)
                    .collect(),
            )
        })
        .await
}

/// Whose staff list `identity` reads: its own Comune's (`Some`), or everyone's (`None`, the
/// training office); refused to others.
fn staff_list_of(identity: &Identity) -> Result<Option<String>, AppError> {
    policy::authorize(identity, Action::ListStaff)?;
    Ok(identity
        .user
        .as_ref()
        .and_then(|u| u.roles.comune())
        .map(|c| c.as_str().to_owned()))
}

/// One page of the staff list the caller keeps or sees, filtered by `text` (in the name,
/// office or e-mail) and ordered by `order_by` (from `db::STAFF_SORT`); with the total.
pub async fn list_staff_page(
    state: &AppState,
    identity: &Identity,
    text: Option<String>,
    order_by: String,
    limit: u32,
    offset: u32,
) -> Result<(Vec<StaffView>, u64), AppError> {
    let comune = staff_list_of(identity)?;
    state
        .db
        .call(move |conn| {
            let scope = comune
                .as_deref()
                .map_or(StaffScope::All, StaffScope::Comune);
            let (rows, total) =
                store::page_staff(conn, scope, text.as_deref(), &order_by, limit, offset)?;
            Ok::<_, AppError>((rows.into_iter().map(StaffView::from).collect(), total))
        })
        .await
}

/// Adds a person to the staff list (the caller's Comune's, or the Province's for the office).
pub async fn create_staff(
    state: &AppState,
    identity: &Identity,
    input: &StaffInput,
) -> Result<StaffView, AppError> {
    let user = identity.require_user()?;
    let comune = input
        .comune_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .or_else(|| user.roles.comune().map(|c| c.as_str().to_owned()));
    policy::authorize(
        identity,
        Action::ManagePerson {
            comune: comune.as_deref(),
        },
    )?;
    let record = check_staff(input, comune)?;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if store::staff_id_by_email(&tx, &record.email)?.is_some() {
                return Err(email_taken());
            }
            let id = store::insert_staff(&tx, &record, now)?;
            audit::record(
                &tx,
                &actor,
                "formazione.staff.create",
                &format!("formazione_staff:{id}"),
                &json!({"comune": record.comune}),
                now,
            )?;
            let row = store::get_staff(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(StaffView::from(row))
        })
        .await
}

/// A person of the staff list with their enrolments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffDetail {
    /// The person.
    pub person: StaffView,
    /// Their enrolments, newest first.
    pub enrolments: Vec<EnrolmentView>,
}

fn read_person(conn: &Connection, identity: &Identity, id: i64) -> Result<StaffRow, AppError> {
    let row = store::get_staff(conn, id)?.ok_or(AppError::NotFound)?;
    policy::authorize(
        identity,
        Action::ViewPerson {
            comune: row.record.comune.as_deref(),
        },
    )?;
    Ok(row)
}

/// A person with their enrolments (404 for another Comune's).
pub async fn staff_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<StaffDetail, AppError> {
    identity.require_user()?;
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            let row = read_person(conn, &identity, id)?;
            let enrolments = store::enrolments_of_staff(conn, id)?
                .into_iter()
                .map(EnrolmentView::from)
                .collect();
            Ok(StaffDetail {
                person: row.into(),
                enrolments,
            })
        })
        .await
}

/// Changes a person's name, office and e-mail (their entity stays).
pub async fn update_staff(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &StaffInput,
) -> Result<StaffView, AppError> {
    identity.require_user()?;
    let identity = identity.clone();
    let input = input.clone();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = read_person(&tx, &identity, id)?;
            policy::authorize(
                &identity,
                Action::ManagePerson {
                    comune: row.record.comune.as_deref(),
                },
            )?;
            if let Some(code) = input.comune_code.as_deref().map(str::trim)
                && !code.is_empty()
                && Some(code) != row.record.comune.as_deref()
            {
                return Err(AppError::invalid_field(
                    "comune_code",
                    "L'ente di appartenenza non si cambia: aggiungi la persona all'elenco del nuovo ente.",
                ));
            }
            let record = check_staff(&input, row.record.comune)?;
            if store::staff_id_by_email(&tx, &record.email)?.is_some_and(|other| other != id) {
                return Err(email_taken());
            }
            store::update_staff(&tx, id, &record, now)?;
            audit::record(
                &tx,
                &identity.actor(),
                "formazione.staff.update",
                &format!("formazione_staff:{id}"),
                &json!({}),
                now,
            )?;
            let row = store::get_staff(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(StaffView::from(row))
        })
        .await
}

/// Removes a person who has no enrolment (409 otherwise: their training history stays).
pub async fn delete_staff(state: &AppState, identity: &Identity, id: i64) -> Result<(), AppError> {
    identity.require_user()?;
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = read_person(&tx, &identity, id)?;
            policy::authorize(
                &identity,
                Action::ManagePerson {
                    comune: row.record.comune.as_deref(),
                },
            )?;
            if store::staff_has_enrolments(&tx, id)? {
                return Err(AppError::Conflict {
                    code: "has_enrolments",
                    detail: "La persona ha iscrizioni ai corsi: resta nell'elenco perché la sua storia formativa non vada persa.".into(),
                });
            }
            store::delete_staff(&tx, id)?;
            audit::record(
                &tx,
                &identity.actor(),
                "formazione.staff.delete",
                &format!("formazione_staff:{id}"),
                &json!({}),
                db::now(),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Enrolments

/// An enrolment as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnrolmentView {
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
    /// Their work e-mail.
    pub email: String,
    /// Their Comune; none for the Province's staff.
    pub comune_code: Option<String>,
    /// State.
    pub state: EnrolmentState,
    /// Final-test score.
    pub score: Option<i64>,
    /// Minutes attended, over every session.
    pub attended_minutes: i64,
    /// Hours attended, decimal (`5.50`).
    pub attended_hours: String,
    /// Whether the course's completion rule is met.
    pub completed: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The verification code of its certificate of attendance, once issued.
    pub certificate_code: Option<String>,
}

impl From<EnrolmentRow> for EnrolmentView {
    fn from(row: EnrolmentRow) -> EnrolmentView {
        EnrolmentView {
            id: row.id,
            edition_id: row.edition_id,
            course_id: row.course_id,
            course_title: row.course_title,
            staff_id: row.staff_id,
            name: row.name,
            email: row.email,
            comune_code: row.comune,
            state: row.state,
            score: row.score,
            attended_hours: decimal_hours(row.attended_minutes),
            attended_minutes: row.attended_minutes,
            completed: row.completed,
            created_at: db::rfc3339(row.created_at),
            certificate_code: row.certificate,
        }
    }
}

/// An enrolment asked for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    /// The person of the staff list.
    pub staff_id: i64,
}

/// Enrols a person in an edition: a Comune user its own staff, the office anyone. A Comune's
/// enrolment in a course that asks for it waits for the Province's approval; otherwise the
/// person takes a free seat, or the waiting list when every seat is taken. Refused outside
/// the enrolment window (409 `enrolment_closed`), for a person the course is not for (422)
/// and twice (409 `already_enrolled`).
pub async fn enrol(
    state: &AppState,
    identity: &Identity,
    edition_id: i64,
    input: &NewEnrolment,
) -> Result<EnrolmentView, AppError> {
    let user = identity.require_user()?;
    let user_id = user.id;
    let by_comune = user.roles.comune().is_some();
    let username = user.username.clone();
    let identity = identity.clone();
    let staff_id = input.staff_id;
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        let edition = store::get_edition(tx, edition_id)?.ok_or(AppError::NotFound)?;
        let course = store::get_course(tx, edition.course_id)?.ok_or(AppError::NotFound)?;
        let person = store::get_staff(tx, staff_id)?.ok_or_else(|| {
            AppError::invalid_field("staff_id", "La persona non è nell'elenco del personale.")
        })?;
        let comune = person.record.comune.as_deref();
        // A Province employee enrols themself: their staff entry's e-mail is their
        // account's name.
        let is_self = comune.is_none()
            && !by_comune
            && person.record.email.eq_ignore_ascii_case(username.trim());
        if is_self {
            policy::authorize(&identity, Action::EnrolSelf)?;
        } else {
            policy::authorize(&identity, Action::Enrol { comune })?;
        }
        if !course.record.audience.admits(comune) {
            return Err(AppError::invalid_field(
                "staff_id",
                format!(
                    "Il corso è riservato a: {}.",
                    course.record.audience.label().to_lowercase()
                ),
            ));
        }
        let today = today();
        if today < edition.enrol_opens || today > edition.enrol_closes {
            return Err(AppError::Conflict {
                code: "enrolment_closed",
                detail: format!(
                    "Le iscrizioni a questa edizione sono aperte dal {} al {}.",
                    pico_service::format::iso_date(&edition.enrol_opens),
                    pico_service::format::iso_date(&edition.enrol_closes)
                ),
            });
        }
        if store::enrolment_of(tx, edition_id, staff_id)?.is_some() {
            return Err(AppError::Conflict {
                code: "already_enrolled",
                detail: format!("{} è già iscritto a questa edizione.", person.record.name),
            });
        }
        let to = if by_comune && course.record.needs_approval {
            EnrolmentState::Pending
        } else if store::seats_taken(tx, edition_id)? < edition.seats {
            EnrolmentState::Enrolled
        } else {
            EnrolmentState::Waiting
        };
        let id = store::insert_enrolment(tx, edition_id, staff_id, to, user_id, now)?;
        ENROLMENTS.record_creation(tx, id, to, "", &lifecycle::display_name(&identity), now)?;
        audit::record(
            tx,
            &identity.actor(),
            "formazione.enrolment.create",
            &format!("formazione_enrolment:{id}"),
            &json!({"edition_id": edition_id, "state": to.as_str()}),
            now,
        )?;
        let row = store::get_enrolment(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(EnrolmentView::from(row))
    })
    .await
}

/// What is done to an enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentMove {
    /// The Province approves: a free seat, else the waiting list.
    Approve,
    /// The Province does not approve.
    Reject,
    /// The person no longer takes part; a seat freed goes to the first waiting.
    Withdraw,
}

/// Moves an enrolment (see [`EnrolmentMove`]) through [`ENROLMENTS`], with the promotion of
/// the first waiting in the same transaction when a seat is freed.
pub async fn move_enrolment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    what: EnrolmentMove,
    reason: &str,
) -> Result<EnrolmentView, AppError> {
    identity.require_user()?;
    let identity = identity.clone();
    let reason = optional_text(reason, 2000, Lines::Many)
        .map_err(|message| AppError::invalid_field("reason", message))?;
    lifecycle::write_national(state, national::refresh, move |tx, _| {
        let row = store::get_enrolment(tx, id)?.ok_or(AppError::NotFound)?;
        let owners: Vec<String> = row.comune.iter().cloned().collect();
        let edition = store::get_edition(tx, row.edition_id)?.ok_or(AppError::NotFound)?;
        let course = store::get_course(tx, edition.course_id)?.ok_or(AppError::NotFound)?;
        let from = row.state;
        let to = match what {
            EnrolmentMove::Approve if edition.enrolled < edition.seats => EnrolmentState::Enrolled,
            EnrolmentMove::Approve => EnrolmentState::Waiting,
            EnrolmentMove::Reject => EnrolmentState::Rejected,
            EnrolmentMove::Withdraw => EnrolmentState::Withdrawn,
        };
        // Approval leaves only `pending`: from `waiting`, the seat comes by promotion.
        if what == EnrolmentMove::Approve && from != EnrolmentState::Pending {
            policy::enrolment_move(&identity, &owners, from, EnrolmentState::Enrolled)?;
            return Err(ENROLMENTS.invalid(from, EnrolmentState::Enrolled));
        }
        let step = Step::new(&identity, &owners, id, from, to).reason(&reason);
        ENROLMENTS.check(tx, &step)?;
        ENROLMENTS.enter(tx, &step)?;
        if from == EnrolmentState::Enrolled
            && to == EnrolmentState::Withdrawn
            && let Some(first) = store::first_waiting(tx, row.edition_id)?
        {
            let promoted = store::get_enrolment(tx, first)?.ok_or(AppError::NotFound)?;
            let promoted_owners: Vec<String> = promoted.comune.iter().cloned().collect();
            let promotion = Step::new(
                &identity,
                &promoted_owners,
                first,
                EnrolmentState::Waiting,
                EnrolmentState::Enrolled,
            )
            .reason("Posto liberato da un ritiro: primo della lista d'attesa.")
            .cause("waiting_list");
            ENROLMENTS.enter(tx, &promotion)?;
        }
        store::recompute_edition(tx, row.edition_id, course.record.rule)?;
        let row = store::get_enrolment(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(EnrolmentView::from(row))
    })
    .await
}

/// The enrolments of an edition the caller may see (all for the office, its own Comune's for
/// a Comune user; 403 for others).
pub async fn list_enrolments(
    state: &AppState,
    identity: &Identity,
    edition_id: i64,
) -> Result<Vec<EnrolmentView>, AppError> {
    policy::authorize(identity, Action::ListStaff)?;
    let scope = enrolment_scope(identity).ok_or(AppError::Forbidden)?;
    state
        .db
        .call(move |conn| {
            store::get_edition(conn, edition_id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>(
                store::enrolments_of_edition(conn, edition_id, scope.as_deref())?
                    .into_iter()
                    .map(EnrolmentView::from)
                    .collect(),
            )
        })
        .await
}

/// A final-test score.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    /// 0–100; none clears it.
    pub score: Option<i64>,
}

/// Records a final-test score; the completion follows.
pub async fn set_score(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &ScoreInput,
) -> Result<EnrolmentView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    if input.score.is_some_and(|s| !(0..=100).contains(&s)) {
        return Err(AppError::invalid_field(
            "score",
            "Il punteggio è un numero intero da 0 a 100.",
        ));
    }
    let score = input.score;
    office_write(state, identity, move |tx, actor, now| {
        let row = store::get_enrolment(tx, id)?.ok_or(AppError::NotFound)?;
        let course = store::get_course(tx, row.course_id)?.ok_or(AppError::NotFound)?;
        store::set_score(tx, id, score)?;
        store::recompute_edition(tx, row.edition_id, course.record.rule)?;
        audit::record(
            tx,
            actor,
            "formazione.enrolment.score",
            &format!("formazione_enrolment:{id}"),
            &json!({}),
            now,
        )?;
        let row = store::get_enrolment(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(EnrolmentView::from(row))
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Attendance

/// One line of a session's register.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterEntry {
    /// An enrolment of the session's edition holding a seat.
    pub enrolment_id: i64,
    /// Minutes attended, from 0 to the session's length.
    pub minutes: i64,
}

/// A session's register: the minutes of each person listed (others are left as they are).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// The lines.
    pub entries: Vec<RegisterEntry>,
}

/// A session with the minutes each enrolled person attended.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterView {
    /// The session.
    pub session: SessionView,
    /// Its edition.
    pub edition_id: i64,
    /// Each enrolment holding a seat, with the minutes recorded for this session (none if
    /// not recorded yet).
    pub lines: Vec<RegisterLine>,
}

/// One person of a register.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterLine {
    /// The enrolment.
    pub enrolment: EnrolmentView,
    /// Minutes recorded for the session.
    pub minutes: Option<i64>,
}

fn read_register(conn: &Connection, session_id: i64) -> Result<RegisterView, AppError> {
    let session = store::get_session(conn, session_id)?.ok_or(AppError::NotFound)?;
    let recorded = store::attendance_of_session(conn, session_id)?;
    let lines = store::enrolments_of_edition(conn, session.edition_id, None)?
        .into_iter()
        .filter(|e| e.state == EnrolmentState::Enrolled)
        .map(|e| RegisterLine {
            minutes: recorded.iter().find(|(id, _)| *id == e.id).map(|(_, m)| *m),
            enrolment: e.into(),
        })
        .collect();
    Ok(RegisterView {
        session: SessionView {
            id: session.id,
            starts_at: db::rfc3339(session.starts_at),
            ends_at: db::rfc3339(session.ends_at),
            minutes: session.minutes(),
            starts_unix: session.starts_at,
            ends_unix: session.ends_at,
        },
        edition_id: session.edition_id,
        lines,
    })
}

/// A session's register (the training office only).
pub async fn register(
    state: &AppState,
    identity: &Identity,
    session_id: i64,
) -> Result<RegisterView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    state
        .db
        .call(move |conn| read_register(conn, session_id))
        .await
}

fn course_of_session(
    conn: &Connection,
    session_id: i64,
) -> Result<(store::SessionRow, CourseRow), AppError> {
    let session = store::get_session(conn, session_id)?.ok_or(AppError::NotFound)?;
    let edition = store::get_edition(conn, session.edition_id)?.ok_or(AppError::NotFound)?;
    let course = store::get_course(conn, edition.course_id)?.ok_or(AppError::NotFound)?;
    Ok((session, course))
}

/// Fills a session's register; hours attended and completion follow.
pub async fn update_register(
    state: &AppState,
    identity: &Identity,
    session_id: i64,
    input: RegisterInput,
) -> Result<RegisterView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    office_write(state, identity, move |tx, actor, now| {
        let (session, course) = course_of_session(tx, session_id)?;
        let enrolled: Vec<i64> = store::enrolments_of_edition(tx, session.edition_id, None)?
            .into_iter()
            .filter(|e| e.state == EnrolmentState::Enrolled)
            .map(|e| e.id)
            .collect();
        let mut errors = Errors::new();
        for (index, entry) in input.entries.iter().enumerate() {
            if !enrolled.contains(&entry.enrolment_id) {
                errors.insert(
                    format!("entries[{index}].enrolment_id"),
                    "Non è un iscritto con posto in questa edizione.".into(),
                );
            }
            if !(0..=session.minutes()).contains(&entry.minutes) {
                errors.insert(
                    format!("entries[{index}].minutes"),
                    format!(
                        "I minuti di presenza vanno da 0 a {} (la durata dell'incontro).",
                        session.minutes()
                    ),
                );
            }
        }
        finish(&errors)?;
        for entry in &input.entries {
            store::set_attendance(
                tx,
                session_id,
                entry.enrolment_id,
                entry.minutes,
                AttendanceSource::Register,
            )?;
        }
        store::recompute_edition(tx, session.edition_id, course.record.rule)?;
        audit::record(
            tx,
            actor,
            "formazione.attendance.register",
            &format!("formazione_session:{session_id}"),
            &json!({"entries": input.entries.len()}),
            now,
        )?;
        let view = read_register(tx, session_id)?;
        Ok(view)
    })
    .await
}

/// Imports a videoconference attendance report for a session: every row must be an enrolled
/// person of the edition (matched on e-mail, else on the name), or nothing is imported and
/// the 422 lists every unmatched row in Italian. Each person's minutes are the union of their
/// connections within the session; enrolled people absent from the report attended 0.
pub async fn import_attendance(
    state: &AppState,
    identity: &Identity,
    session_id: i64,
    bytes: Vec<u8>,
) -> Result<AttendanceReport, AppError> {
    policy::authorize(identity, Action::Manage)?;
    office_write(state, identity, move |tx, actor, now| {
        let (session, course) = course_of_session(tx, session_id)?;
        let enrolled: Vec<EnrolmentRow> =
            store::enrolments_of_edition(tx, session.edition_id, None)?
                .into_iter()
                .filter(|e| e.state == EnrolmentState::Enrolled)
                .collect();
        let report =
            attendance::match_report(&bytes, &session, &enrolled).map_err(attendance::problem)?;
        for line in &report.people {
            store::set_attendance(
                tx,
                session_id,
                line.enrolment_id,
                line.minutes,
                AttendanceSource::Import,
            )?;
        }
        store::recompute_edition(tx, session.edition_id, course.record.rule)?;
        audit::record(
            tx,
            actor,
            "formazione.attendance.import",
            &format!("formazione_session:{session_id}"),
            &json!({"rows": report.rows, "people": report.people.len()}),
            now,
        )?;
        Ok(report)
    })
    .await
}

/// Hours attended as people read them (`5,5`).
pub fn attended_text(view: &EnrolmentView) -> String {
    hours_text(view.attended_minutes)
}
