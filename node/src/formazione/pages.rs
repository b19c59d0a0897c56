//! Formazione web pages: the catalogue, a course with its editions (and the office's forms to
//! add both), an edition with its sessions, seats and enrolments (enrol, approve, reject,
//! withdraw, scores), a session's register and the import of a videoconference report, the
//! staff list, the reports with chart, table and CSV, and the dashboard cards.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::db::{self as store, StaffScope};
use crate::formazione::ops::{
    self, CourseInput, CourseView, EditionDetail, EditionInput, EnrolmentMove, EnrolmentView,
    NewEnrolment, RegisterEntry, RegisterInput, ScoreInput, SessionInput, StaffInput, StaffView,
};
use crate::formazione::policy::{self, Action};
use crate::formazione::reports::{Figures, Report};
use crate::formazione::{
    CourseAudience, EnrolmentState, Level, Mode, Sector, SyllabusArea, hours_text,
};
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::form::Values;
use crate::web::form::{
    self, FormState, checkbox, error_summary, input, input_with, select, select_with, textarea,
};
use crate::web::list::{Direction, ListRequest};
use crate::web::{CsrfForm, PageForm, breadcrumb, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/formazione", get(show_catalogue))
        .route(
            "/formazione/corsi/nuovo",
            get(show_new_course).post(submit_new_course),
        )
        .route("/formazione/corsi/{id}", get(show_course))
        .route("/formazione/corsi/{id}/edizioni", post(submit_edition))
        .route("/formazione/edizioni/{id}", get(show_edition))
        .route(
            "/formazione/edizioni/{id}/iscrizioni",
            post(submit_enrolment),
        )
        .route("/formazione/iscrizioni/{id}/stato", post(submit_move))
        .route("/formazione/iscrizioni/{id}/punteggio", post(submit_score))
        .route(
            "/formazione/incontri/{id}/registro",
            get(show_register).post(submit_register),
        )
        .route(
            "/formazione/incontri/{id}/importa",
            post(submit_import).layer(pico_service::http::body_limit(
                crate::formazione::api::IMPORT_BODY_LIMIT,
            )),
        )
        .route("/formazione/personale", get(show_staff).post(submit_staff))
        .route(
            "/formazione/personale/{id}",
            get(show_person).post(submit_person),
        )
        .route(
            "/formazione/personale/{id}/elimina",
            post(submit_delete_person),
        )
        .route("/formazione/rapporti", get(show_reports))
        .route("/formazione/rapporti/export.csv", get(export_reports))
        .merge(crate::formazione::certificate_pages::router())
        .merge(crate::formazione::moodle_pages::router())
        .merge(crate::formazione::edition_pages::router())
        .merge(crate::formazione::edit_pages::router())
}

pub(crate) fn page(state: &AppState, identity: &Identity, title: &str, body: &Markup) -> Markup {
    layout::page(&state.chrome(Some(identity), "/formazione"), title, body)
}

fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_owned(), label(*v).to_owned()))
        .collect()
}

pub(crate) fn is_office(identity: &Identity) -> bool {
    identity
        .user
        .as_ref()
        .is_some_and(|u| u.roles.any(policy::is_office))
}

pub(crate) fn csrf(identity: &Identity) -> String {
    identity.csrf().unwrap_or_default().to_owned()
}

fn competence(course: &CourseView) -> String {
    let mut parts = Vec::new();
    if let (Some(area), Some(level)) = (course.syllabus_area, course.syllabus_level) {
        parts.push(format!(
            "Syllabus: {} ({})",
            area.label(),
            level.label().to_lowercase()
        ));
    }
    if !course.tags.is_empty() {
        parts.push(course.tags.join(", "));
    }
    if parts.is_empty() {
        "—".to_owned()
    } else {
        parts.join("; ")
    }
}

fn state_badge(state: EnrolmentState) -> Markup {
    let class = match state {
        EnrolmentState::Enrolled => "bg-success",
        EnrolmentState::Waiting => "bg-warning text-dark",
        EnrolmentState::Pending => "bg-info text-dark",
        EnrolmentState::Rejected | EnrolmentState::Withdrawn => "bg-secondary",
    };
    html! { span class=(format!("badge {class}")) { (state.label()) } }
}

/// A session's time span as people read it: `10/03/2026 09:00–12:00`.
pub(crate) fn session_text(starts: i64, ends: i64) -> String {
    let start = fmt::unix_time(starts);
    let end = fmt::unix_time(ends);
    match (start.split_once(' '), end.split_once(' ')) {
        (Some((day, from)), Some((end_day, to))) if day == end_day => format!("{day} {from}–{to}"),
        _ => format!("{start} – {end}"),
    }
}

// ---------------------------------------------------------------------------------------
// Catalogue and courses

#[derive(Debug, Default, Deserialize)]
struct CatalogueQuery {
    settore: Option<String>,
}

async fn show_catalogue(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<CatalogueQuery>,
) -> Result<Markup, AppError> {
    let sector = query.settore.as_deref().and_then(Sector::parse);
    let courses = ops::list_courses(&state, &identity, sector).await?;
    let office = is_office(&identity);
    let keeps_staff = identity.user.as_ref().is_some_and(|u| {
        u.roles
            .any(|r| policy::is_office(r) || matches!(r, crate::auth::Role::Comune(_)))
    });
    let body = html! {
        h1 { "Catalogo dei corsi" }
        p { "I corsi di formazione della Provincia per il proprio personale e per quello dei Comuni, per settore del programma, con le edizioni, i posti e le iscrizioni." }
        @if office || keeps_staff {
            p {
                @if office { a class="btn btn-primary me-2 mb-2" href="/formazione/corsi/nuovo" { "Nuovo corso" } }
                a class="btn btn-outline-primary me-2 mb-2" href="/formazione/personale" { "Personale in formazione" }
                @if office { a class="btn btn-outline-primary mb-2" href="/formazione/rapporti" { "Rapporti" } }
            }
        }
        form method="get" action="/formazione" class="row g-2 align-items-end mb-4" {
            div class="col-12 col-md-6" {
                label for="settore" class="form-label" { "Settore" }
                select class="form-select" id="settore" name="settore" {
                    option value="" { "Tutti i settori" }
                    @for s in Sector::ALL {
                        option value=(s.as_str()) selected[sector == Some(s)] { (s.label()) }
                    }
                }
            }
            div class="col-12 col-md-3" { button type="submit" class="btn btn-primary" { "Filtra" } }
        }
        @if courses.is_empty() {
            p id="no-courses" { "Nessun corso nel catalogo." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole dei corsi" {
                table class="table" id="courses" {
                    caption { "Corsi" }
                    thead { tr {
                        th scope="col" { "Corso" } th scope="col" { "Settore" } th scope="col" { "Modalità" }
                        th scope="col" class="text-end" { "Ore" } th scope="col" { "Destinatari" } th scope="col" { "Competenze" }
                    } }
                    tbody {
                        @for c in &courses {
                            tr {
                                td { a href=(format!("/formazione/corsi/{}", c.id)) { (c.title) } }
                                td { (c.sector.label()) }
                                td { (c.mode.label()) }
                                td class="text-end" { (c.hours) }
                                td { (c.audience.label()) }
                                td { (competence(c)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&state, &identity, "Catalogo dei corsi", &body))
}

pub(crate) const COURSE_LABELS: &[(&str, &str)] = &[
    ("title", "Titolo"),
    ("sector", "Settore"),
    ("description", "Descrizione"),
    ("objectives", "Obiettivi"),
    ("hours", "Ore"),
    ("mode", "Modalità"),
    ("syllabus_area", "Area del Syllabus"),
    ("syllabus_level", "Livello del Syllabus"),
    ("tags", "Competenze"),
    ("audience", "Destinatari"),
    ("min_attendance_percent", "Frequenza minima"),
    ("min_score", "Punteggio minimo del test"),
    ("moodle_shortname", "Nome breve Moodle"),
];

async fn show_new_course(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let mut values = BTreeMap::new();
    values.insert("min_attendance_percent".to_owned(), "75".to_owned());
    new_course_page(&state, &identity, &FormState::with_values(values))
}

fn new_course_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione")], "Nuovo corso"))
        h1 { "Nuovo corso" }
        p { "I campi con * sono obbligatori. Per i corsi sulle competenze digitali indica l'area e il livello del Syllabus; per gli altri, le competenze come parole chiave." }
        (error_summary(form, COURSE_LABELS))
        form method="post" action="/formazione/corsi/nuovo" novalidate id="course-form" {
            input type="hidden" name="csrf" value=(csrf(identity));
            (course_fields(form))
            button type="submit" class="btn btn-primary" id="save-course" { "Inserisci il corso" }
        }
    };
    Ok(page(state, identity, "Nuovo corso", &body))
}

/// A whole number typed in a form: blank is none; anything else that is not a number is
/// refused with a message for the field.
fn form_number(
    values: &BTreeMap<String, String>,
    name: &str,
    errors: &mut BTreeMap<String, String>,
) -> Option<i64> {
    let text = values.get(name).map_or("", |v| v.trim());
    if text.is_empty() {
        return None;
    }
    match text.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.insert(name.to_owned(), format!("«{text}» non è un numero intero."));
            None
        }
    }
}

/// The fields of the course form, new or changed.
pub(crate) fn course_fields(form: &FormState) -> Markup {
    html! {
        (input(form, "title", "Titolo", "text", true, None))
        (select(form, "sector", "Settore", &options(&Sector::ALL, Sector::as_str, Sector::label), Some("Scegli il settore")))
        (textarea(form, "description", "Descrizione", 3, false, None))
        (textarea(form, "objectives", "Obiettivi", 3, false, Some("Che cosa saprà fare chi completa il corso")))
        (input(form, "hours", "Ore", "number", true, Some("Ore previste del corso")))
        (select(form, "mode", "Modalità", &options(&Mode::ALL, Mode::as_str, Mode::label), Some("Scegli la modalità")))
        (select_with(form, "syllabus_area", "Area del Syllabus", &options(&SyllabusArea::ALL, SyllabusArea::as_str, SyllabusArea::label), Some("Nessuna (non è un corso sulle competenze digitali)"), false))
        (select_with(form, "syllabus_level", "Livello del Syllabus", &options(&Level::ALL, Level::as_str, Level::label), Some("Nessuno"), false))
        (input(form, "tags", "Competenze", "text", false, Some("Parole chiave separate da virgole, es. codice dei contratti, RUP")))
        (select(form, "audience", "Destinatari", &options(&CourseAudience::ALL, CourseAudience::as_str, CourseAudience::label), Some("Scegli i destinatari")))
        (checkbox(form, "needs_approval", "Le iscrizioni dei Comuni richiedono l'approvazione della Provincia"))
        (checkbox(form, "open_to_provinces", "Aperto al personale di altre Province (le edizioni compaiono nel catalogo nazionale dei corsi)"))
        (input(form, "min_attendance_percent", "Frequenza minima (%)", "number", true, Some("Quota minima delle ore dell'edizione per completare il corso")))
        (input(form, "min_score", "Punteggio minimo del test finale", "number", false, Some("Da 0 a 100; vuoto se il corso non ha test")))
        (input(form, "moodle_shortname", "Nome breve Moodle", "text", false, Some("Se il corso si svolge sulla piattaforma Moodle della Provincia: il suo nome breve, con cui il report di completamento lo indica")))
    }
}

/// The course a form sends; numbers that are not numbers are `errors` beside their field.
pub(crate) fn course_input(
    values: &BTreeMap<String, String>,
    errors: &mut BTreeMap<String, String>,
) -> CourseInput {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let hours = form_number(values, "hours", errors);
    let min_attendance = form_number(values, "min_attendance_percent", errors);
    let min_score = form_number(values, "min_score", errors);
    CourseInput {
        title: get("title"),
        sector: Sector::parse(&get("sector")),
        description: get("description"),
        objectives: get("objectives"),
        hours: hours.unwrap_or(0),
        mode: Mode::parse(&get("mode")),
        syllabus_area: SyllabusArea::parse(&get("syllabus_area")),
        syllabus_level: Level::parse(&get("syllabus_level")),
        tags: get("tags")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        audience: CourseAudience::parse(&get("audience")),
        needs_approval: matches!(get("needs_approval").as_str(), "true" | "on"),
        min_attendance_percent: min_attendance.unwrap_or(0),
        min_score,
        moodle_shortname: Some(get("moodle_shortname")),
        open_to_provinces: matches!(get("open_to_provinces").as_str(), "true" | "on"),
    }
}

async fn submit_new_course(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    let mut errors = BTreeMap::new();
    let input = course_input(&values, &mut errors);
    let result = match ops::check_course(&input) {
        Ok(_) if errors.is_empty() => ops::create_course(&state, &identity, &input).await,
        other => {
            if let Err(error) = other {
                for (field, message) in form::field_messages(&error) {
                    errors.entry(field).or_insert(message);
                }
            }
            Err(crate::web::list::refuse(&errors))
        }
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(
                &format!("/formazione/corsi/{}", view.id),
                "Corso inserito nel catalogo.",
            )
        },
        async |error| new_course_page(&state, &identity, &FormState::refused(values, error)),
    )
    .await
}

pub(crate) const EDITION_LABELS: &[(&str, &str)] = &[
    ("teacher", "Docente"),
    ("place", "Luogo"),
    ("link", "Collegamento"),
    ("seats", "Posti"),
    ("enrol_opens", "Apertura delle iscrizioni"),
    ("enrol_closes", "Chiusura delle iscrizioni"),
    ("sessions", "Incontri"),
];

async fn show_course(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    course_page(&state, &identity, id, &FormState::default()).await
}

async fn course_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    form: &FormState,
) -> Result<Markup, AppError> {
    let detail = ops::course_detail(state, identity, id).await?;
    let c = &detail.course;
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione")], c.title.as_str()))
        h1 { (c.title) }
        @if is_office(identity) {
            p { a class="btn btn-outline-primary" href=(format!("/formazione/corsi/{id}/modifica")) id="edit-course" { "Modifica il corso" } }
        }
        dl class="row" {
            dt class="col-sm-4" { "Settore" } dd class="col-sm-8" { (c.sector.label()) }
            dt class="col-sm-4" { "Modalità" } dd class="col-sm-8" { (c.mode.label()) }
            dt class="col-sm-4" { "Ore" } dd class="col-sm-8" { (c.hours) }
            dt class="col-sm-4" { "Destinatari" } dd class="col-sm-8" { (c.audience.label()) }
            dt class="col-sm-4" { "Competenze" } dd class="col-sm-8" { (competence(c)) }
            dt class="col-sm-4" { "Catalogo nazionale" } dd class="col-sm-8" { @if c.open_to_provinces { "Aperto al personale di altre Province" } @else { "Riservato alla Provincia e ai suoi Comuni" } }
            dt class="col-sm-4" { "Approvazione della Provincia" } dd class="col-sm-8" { @if c.needs_approval { "Richiesta per le iscrizioni dei Comuni" } @else { "Non richiesta" } }
            dt class="col-sm-4" { "Completamento" } dd class="col-sm-8" {
                "Almeno il " (c.min_attendance_percent) "% delle ore"
                @if let Some(score) = c.min_score { " e almeno " (score) " punti su 100 al test finale" }
            }
        }
        @if !c.description.is_empty() { h2 class="h4" { "Descrizione" } p style="white-space: pre-line" { (c.description) } }
        @if !c.objectives.is_empty() { h2 class="h4" { "Obiettivi" } p style="white-space: pre-line" { (c.objectives) } }
        h2 class="h4" { "Edizioni" }
        @if detail.editions.is_empty() {
            p id="no-editions" { "Nessuna edizione in programma." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole delle edizioni" {
                table class="table" id="editions" {
                    caption { "Edizioni del corso" }
                    thead { tr {
                        th scope="col" { "Edizione" } th scope="col" { "Incontri" } th scope="col" class="text-end" { "Ore" }
                        th scope="col" { "Docente" } th scope="col" class="text-end" { "Posti liberi" } th scope="col" { "Iscrizioni" }
                    } }
                    tbody {
                        @for e in &detail.editions {
                            tr {
                                td { a href=(format!("/formazione/edizioni/{}", e.id)) {
                                    @if let Some(first) = e.sessions.first() { "Dal " (fmt::unix_date(first.starts_unix)) } @else { "Edizione " (e.id) }
                                } }
                                td { (e.sessions.len()) }
                                td class="text-end" { (hours_text(e.minutes)) }
                                td { (e.teacher) }
                                td class="text-end" { (e.seats_free) " su " (e.seats) }
                                td { @if e.enrolment_open { "Aperte fino al " } @else { "Chiuse (" (fmt::iso_date(&e.enrol_opens)) "–" } (fmt::iso_date(&e.enrol_closes)) @if !e.enrolment_open { ")" } }
                            }
                        }
                    }
                }
            }
        }
        @if is_office(identity) {
            h2 class="h4" id="new-edition" { "Nuova edizione" }
            (error_summary(form, EDITION_LABELS))
            form method="post" action=(format!("/formazione/corsi/{id}/edizioni")) novalidate id="edition-form" {
                input type="hidden" name="csrf" value=(csrf(identity));
                (edition_fields(form))
                button type="submit" class="btn btn-primary" id="save-edition" { "Aggiungi l'edizione" }
            }
        }
    };
    Ok(page(state, identity, &c.title, &body))
}

/// A register line of the form `10/03/2026 09:00-12:00` as a session in RFC 3339 (Italian
/// civil time).
fn local_session(line: &str) -> Result<SessionInput, String> {
    let bad = || {
        format!(
            "«{}» non è un incontro: scrivilo come 10/03/2026 09:00-12:00.",
            line.trim()
        )
    };
    let (day, times) = line.trim().split_once(' ').ok_or_else(bad)?;
    let day = crate::sua::day::Day::parse(day).map_err(|_| bad())?;
    let (from, to) = times.split_once(['-', '–']).ok_or_else(bad)?;
    let zone = TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC);
    let instant = |clock: &str| -> Result<String, String> {
        let (h, m) = clock.trim().split_once([':', '.']).ok_or_else(bad)?;
        let date = day.date();
        let civil = DateTime::new(
            i16::try_from(date.year()).map_err(|_| bad())?,
            i8::try_from(u8::from(date.month())).map_err(|_| bad())?,
            i8::try_from(date.day()).map_err(|_| bad())?,
            h.trim().parse().map_err(|_| bad())?,
            m.trim().parse().map_err(|_| bad())?,
            0,
            0,
        )
        .map_err(|_| bad())?;
        let zoned = civil.to_zoned(zone.clone()).map_err(|_| bad())?;
        Ok(zoned.timestamp().to_string())
    };
    Ok(SessionInput {
        starts_at: instant(from)?,
        ends_at: instant(to)?,
    })
}

/// The fields of the edition form, new or changed.
pub(crate) fn edition_fields(form: &FormState) -> Markup {
    html! {
        (input(form, "teacher", "Docente", "text", true, None))
        (input(form, "place", "Luogo", "text", false, Some("Indirizzo e aula; per i corsi online lascia vuoto e indica il collegamento")))
        (input(form, "link", "Collegamento", "url", false, Some("https://…")))
        (input(form, "seats", "Posti", "number", true, None))
        (input(form, "enrol_opens", "Apertura delle iscrizioni", "text", true, Some("gg/mm/aaaa")))
        (input(form, "enrol_closes", "Chiusura delle iscrizioni", "text", true, Some("gg/mm/aaaa")))
        (textarea(form, "sessions", "Incontri", 4, true, Some("Uno per riga, con data e orari: 10/03/2026 09:00-12:00")))
    }
}

/// The edition a form sends (sessions one per line); what cannot be read is in `errors`
/// beside its field.
pub(crate) fn edition_input(
    values: &BTreeMap<String, String>,
    errors: &mut BTreeMap<String, String>,
) -> EditionInput {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let seats = form_number(values, "seats", errors);
    let mut sessions = Vec::new();
    for line in get("sessions").lines().filter(|l| !l.trim().is_empty()) {
        match local_session(line) {
            Ok(session) => sessions.push(session),
            Err(message) => {
                errors.entry("sessions".to_owned()).or_insert(message);
            }
        }
    }
    EditionInput {
        place: get("place"),
        link: get("link"),
        teacher: get("teacher"),
        seats: seats.unwrap_or(0),
        enrol_opens: get("enrol_opens"),
        enrol_closes: get("enrol_closes"),
        sessions,
    }
}

async fn submit_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    let mut errors = BTreeMap::new();
    let input = edition_input(&values, &mut errors);
    let result = match ops::check_edition(&input) {
        Ok(_) if errors.is_empty() => ops::create_edition(&state, &identity, id, &input).await,
        other => {
            if let Err(error) = other {
                for (field, message) in form::field_messages(&error) {
                    errors.entry(form::field_id(&field)).or_insert(message);
                }
            }
            Err(crate::web::list::refuse(&errors))
        }
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(
                &format!("/formazione/edizioni/{}", view.id),
                "Edizione aggiunta.",
            )
        },
        async |error| {
            let form = FormState::refused(values.clone(), error).messages_by_input();
            course_page(&state, &identity, id, &form).await
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Editions and enrolments

async fn show_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    edition_page(&state, &identity, id, &FormState::default()).await
}

/// The people `identity` may enrol: the whole list for the office, its own for a Comune.
async fn enrollable(state: &AppState, identity: &Identity) -> Result<Vec<StaffView>, AppError> {
    if policy::authorize(identity, Action::ListStaff).is_err() {
        return Ok(Vec::new());
    }
    ops::list_staff(state, identity).await
}

fn enrolment_actions(identity: &Identity, e: &EnrolmentView, office: bool) -> Markup {
    let token = csrf(identity);
    let button = |to: &str, label: &str, class: &str| {
        html! {
            form method="post" action=(format!("/formazione/iscrizioni/{}/stato", e.id)) class="d-inline" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="azione" value=(to);
                button type="submit" class=(format!("btn btn-sm {class} me-1 mb-1")) aria-label=(format!("{label}: {}", e.name)) { (label) }
            }
        }
    };
    html! {
        @if office && e.state == EnrolmentState::Pending {
            (button("approva", "Approva", "btn-primary"))
            (button("respingi", "Respingi", "btn-outline-danger"))
        }
        @if matches!(e.state, EnrolmentState::Pending | EnrolmentState::Waiting | EnrolmentState::Enrolled) {
            (button("ritira", "Ritira", "btn-outline-secondary"))
        }
    }
}

async fn edition_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    form: &FormState,
) -> Result<Markup, AppError> {
    let EditionDetail {
        edition: e,
        course: c,
        enrolments,
    } = ops::edition_detail(state, identity, id).await?;
    let office = is_office(identity);
    let staff = enrollable(state, identity).await?;
    let eligible: Vec<(String, String)> = staff
        .iter()
        .filter(|p| c.audience.admits(p.comune_code.as_deref()))
        .filter(|p| !enrolments.iter().any(|n| n.staff_id == p.id))
        .map(|p| {
            let entity = p
                .comune_name
                .clone()
                .unwrap_or_else(|| "Provincia".to_owned());
            (p.id.to_string(), format!("{} ({entity})", p.name))
        })
        .collect();
    let own = if office {
        None
    } else {
        crate::formazione::editions::own_enrolment(state, identity, id).await?
    };
    let title = format!("{} – edizione", c.title);
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione"), (c.title.as_str(), &format!("/formazione/corsi/{}", c.id))], "Edizione"))
        h1 { (c.title) }
        p class="lead" { "Edizione con " (e.sessions.len()) " incontri, " (hours_text(e.minutes)) " ore." }
        @if office {
            p { a class="btn btn-outline-primary" href=(format!("/formazione/edizioni/{id}/modifica")) id="edit-edition" { "Modifica l'edizione" } }
        }
        dl class="row" {
            dt class="col-sm-4" { "Docente" } dd class="col-sm-8" { (e.teacher) }
            @if !e.place.is_empty() { dt class="col-sm-4" { "Luogo" } dd class="col-sm-8" { (e.place) } }
            @if !e.link.is_empty() { dt class="col-sm-4" { "Collegamento" } dd class="col-sm-8" { a href=(e.link) { (e.link) } } }
            dt class="col-sm-4" { "Posti" } dd class="col-sm-8" id="seats" { (e.enrolled) " occupati su " (e.seats) ", " (e.waiting) " in lista d'attesa, " (e.pending) " in attesa di approvazione" }
            dt class="col-sm-4" { "Iscrizioni" } dd class="col-sm-8" { "Dal " (fmt::iso_date(&e.enrol_opens)) " al " (fmt::iso_date(&e.enrol_closes)) @if e.enrolment_open { " (aperte)" } @else { " (chiuse)" } }
        }
        h2 class="h4" { "Incontri" }
        ul id="sessions" {
            @for s in &e.sessions {
                li {
                    (session_text(s.starts_unix, s.ends_unix)) " (" (hours_text(s.minutes)) " ore)"
                    @if office {
                        " · " a href=(format!("/formazione/incontri/{}/registro", s.id)) { "Registro delle presenze del " (fmt::unix_date(s.starts_unix)) }
                        @if e.sessions.len() > 1 {
                            (crate::formazione::edition_pages::delete_button(identity, &format!("/formazione/incontri/{}/elimina", s.id), &format!("Elimina l'incontro del {}", session_text(s.starts_unix, s.ends_unix))))
                        }
                    }
                }
            }
        }
        @if let Some(own) = own.filter(|_| c.audience.admits(None)) {
            (crate::formazione::edition_pages::self_block(identity, id, e.enrolment_open, own))
        }
        @if office {
            p { (crate::formazione::edition_pages::delete_button(identity, &format!("/formazione/edizioni/{id}/elimina"), "Elimina l'edizione")) " Si può eliminare finché non sono registrate presenze." }
        }
        @if e.enrolment_open && !staff.is_empty() {
            h2 class="h4" id="enrol" { "Iscrivi" }
            (error_summary(form, &[("staff_id", "Persona")]))
            @if eligible.is_empty() {
                p { "Nessuna persona del tuo elenco può ancora essere iscritta. " a href="/formazione/personale" { "Aggiungi personale" } }
            } @else {
                form method="post" action=(format!("/formazione/edizioni/{id}/iscrizioni")) novalidate id="enrol-form" {
                    input type="hidden" name="csrf" value=(csrf(identity));
                    (select(form, "staff_id", "Persona", &eligible, Some("Scegli la persona")))
                    button type="submit" class="btn btn-primary" id="save-enrolment" { "Iscrivi" }
                }
            }
        }
        @if office || !enrolments.is_empty() || identity.user.as_ref().is_some_and(|u| u.roles.comune().is_some()) {
            h2 class="h4" { @if office { "Iscrizioni" } @else { "Iscrizioni del tuo Comune" } }
            @if enrolments.is_empty() {
                p id="no-enrolments" { "Nessuna iscrizione." }
            } @else {
                div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole delle iscrizioni" {
                    table class="table" id="enrolments" {
                        caption { "Iscrizioni all'edizione" }
                        thead { tr {
                            th scope="col" { "Persona" } th scope="col" { "Stato" } th scope="col" class="text-end" { "Ore frequentate" }
                            th scope="col" { "Test finale" } th scope="col" { "Completato" } th scope="col" { "Attestato" } th scope="col" { "Azioni" }
                        } }
                        tbody {
                            @for n in &enrolments {
                                tr {
                                    td { (n.name) }
                                    td { (state_badge(n.state)) }
                                    td class="text-end" { (ops::attended_text(n)) }
                                    td {
                                        @if office && n.state == EnrolmentState::Enrolled {
                                            form method="post" action=(format!("/formazione/iscrizioni/{}/punteggio", n.id)) class="d-flex gap-1" {
                                                input type="hidden" name="csrf" value=(csrf(identity));
                                                label class="visually-hidden" for=(format!("score-{}", n.id)) { "Punteggio del test di " (n.name) }
                                                input type="number" min="0" max="100" class="form-control form-control-sm" style="max-width: 6rem" id=(format!("score-{}", n.id)) name="score" value=[n.score];
                                                button type="submit" class="btn btn-sm btn-outline-primary" aria-label=(format!("Salva il punteggio di {}", n.name)) { "Salva" }
                                            }
                                        } @else {
                                            @if let Some(score) = n.score { (score) } @else { "—" }
                                        }
                                    }
                                    td { @if n.completed { "Sì" } @else { "No" } }
                                    td { (crate::formazione::certificate_pages::certificate_cell(identity, n)) }
                                    td { (enrolment_actions(identity, n, office)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(state, identity, &title, &body))
}

async fn submit_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    let result = match get("staff_id").trim().parse::<i64>() {
        Ok(staff_id) => ops::enrol(&state, &identity, id, &NewEnrolment { staff_id }).await,
        Err(_) => Err(AppError::invalid_field(
            "staff_id",
            "Scegli la persona da iscrivere.",
        )),
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(
                &format!("/formazione/edizioni/{id}"),
                &format!("{}: {}.", view.name, view.state.label().to_lowercase()),
            )
        },
        async |error| {
            let form =
                FormState::refused(values.clone(), error).whole_form_message_beside("staff_id");
            edition_page(&state, &identity, id, &form).await
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct MoveForm {
    csrf: String,
    azione: String,
}

async fn submit_move(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<MoveForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let what = match form.azione.as_str() {
        "approva" => EnrolmentMove::Approve,
        "respingi" => EnrolmentMove::Reject,
        "ritira" => EnrolmentMove::Withdraw,
        _ => return Err(AppError::invalid_field("azione", "Azione sconosciuta.")),
    };
    match ops::move_enrolment(&state, &identity, id, what, "").await {
        Ok(view) => Ok(layout::redirect_with_flash(
            &format!("/formazione/edizioni/{}", view.edition_id),
            &format!("{}: {}.", view.name, view.state.label().to_lowercase()),
        )),
        Err(error) => Err(error),
    }
}

#[derive(Debug, Deserialize)]
struct ScoreForm {
    csrf: String,
    score: String,
}

async fn submit_score(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ScoreForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let score = match form.score.trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| {
            AppError::invalid_field("score", "Il punteggio è un numero intero da 0 a 100.")
        })?),
    };
    let view = ops::set_score(&state, &identity, id, &ScoreInput { score }).await?;
    Ok(layout::redirect_with_flash(
        &format!("/formazione/edizioni/{}", view.edition_id),
        &format!("Punteggio di {} registrato.", view.name),
    ))
}

// ---------------------------------------------------------------------------------------
// Register and import

async fn show_register(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    register_page(&state, &identity, id, &FormState::default(), None).await
}

async fn register_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    form: &FormState,
    import: Option<&Result<crate::formazione::attendance::AttendanceReport, AppError>>,
) -> Result<Markup, AppError> {
    let register = ops::register(state, identity, id).await?;
    let s = &register.session;
    let labels: Vec<(String, String)> = register
        .lines
        .iter()
        .map(|l| {
            (
                format!("m{}", l.enrolment.id),
                format!("Minuti di {}", l.enrolment.name),
            )
        })
        .collect();
    let label_refs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione"), ("Edizione", &format!("/formazione/edizioni/{}", register.edition_id))], "Registro"))
        h1 { "Registro dell'incontro del " (fmt::unix_date(s.starts_unix)) }
        p { (session_text(s.starts_unix, s.ends_unix)) ", " (s.minutes) " minuti. Indica i minuti di presenza di ogni iscritto; le ore frequentate e il completamento del corso si aggiornano da soli." }
        (error_summary(form, &label_refs))
        @if register.lines.is_empty() {
            p id="no-register" { "Nessun iscritto con posto in questa edizione." }
        } @else {
            form method="post" action=(format!("/formazione/incontri/{id}/registro")) novalidate id="register-form" {
                input type="hidden" name="csrf" value=(csrf(identity));
                @for l in &register.lines {
                    @let name = format!("m{}", l.enrolment.id);
                    @let default = l.minutes.map(|m| m.to_string()).unwrap_or_default();
                    (input_with(form, &name, &format!("Minuti di presenza di {}", l.enrolment.name), "number", false, None, &default))
                }
                button type="submit" class="btn btn-primary" id="save-register" { "Salva il registro" }
            }
        }
        h2 class="h4 mt-4" { "Importa il rapporto della videoconferenza" }
        p { "Il file CSV dei partecipanti esportato dallo strumento di videoconferenza (per esempio il rapporto «Partecipanti» di Zoom): nome, e-mail, ora di ingresso e di uscita. Ogni riga deve corrispondere a un iscritto (per e-mail, altrimenti per nome); se una sola riga non corrisponde il file è rifiutato per intero e nessuna presenza viene registrata. Chi non compare nel rapporto risulta assente." }
        @if let Some(Ok(report)) = import {
            div class="alert alert-success" role="status" id="import-report" {
                "Presenze importate: " (report.rows) " righe lette, " (report.present) " iscritti presenti."
            }
        }
        @if let Some(Err(error)) = import {
            (form::import_refusal(error, "Importazione rifiutata, nessuna presenza è stata registrata. Righe che non corrispondono:"))
        }
        (form::import_form(&format!("/formazione/incontri/{id}/importa"), &csrf(identity), "File CSV", ".csv,text/csv"))
    };
    Ok(page(state, identity, "Registro delle presenze", &body))
}

async fn submit_register(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let mut errors = BTreeMap::new();
    let mut entries = Vec::new();
    for name in values.keys() {
        let Some(enrolment_id) = name.strip_prefix('m').and_then(|n| n.parse::<i64>().ok()) else {
            continue;
        };
        if let Some(minutes) = form_number(&values, name, &mut errors) {
            entries.push(RegisterEntry {
                enrolment_id,
                minutes,
            });
        }
    }
    let result = if errors.is_empty() {
        ops::update_register(
            &state,
            &identity,
            id,
            RegisterInput {
                entries: entries.clone(),
            },
        )
        .await
    } else {
        Err(crate::web::list::refuse(&errors))
    };
    form::answer(
        result,
        |_| {
            layout::redirect_with_flash(
                &format!("/formazione/incontri/{id}/registro"),
                "Registro salvato.",
            )
        },
        async |error| {
            // Messages of `entries[2].minutes` go beside the field of that line.
            let mut form = FormState::refused(values.clone(), error);
            form.errors = form
                .errors
                .into_iter()
                .map(|(field, message)| {
                    let renamed = form::item_index(&field, "entries")
                        .and_then(|i| entries.get(i))
                        .map_or(field.clone(), |e| format!("m{}", e.enrolment_id));
                    (renamed, message)
                })
                .collect();
            register_page(&state, &identity, id, &form, None).await
        },
    )
    .await
}

async fn submit_import(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = MultipartForm::read(multipart, "file").await?;
    check_form_csrf(
        &identity,
        upload.fields.get("csrf").map_or("", String::as_str),
    )?;
    let outcome = match upload.files.into_iter().next() {
        Some(file) => ops::import_attendance(&state, &identity, id, file.data).await,
        None => Err(AppError::invalid_field(
            "file",
            "Scegli il file da importare.",
        )),
    };
    form::report(outcome, async |outcome| {
        register_page(&state, &identity, id, &FormState::default(), Some(outcome)).await
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Staff

const STAFF_LABELS: &[(&str, &str)] = &[
    ("name", "Nome e cognome"),
    ("office", "Ufficio"),
    ("email", "E-mail di lavoro"),
    ("comune_code", "Ente"),
];

async fn show_staff(
    State(state): State<AppState>,
    identity: Identity,
    Query(params): Query<Values>,
) -> Result<Markup, AppError> {
    staff_page(&state, &identity, params, &FormState::default()).await
}

/// The staff list's labels, for its filter messages.
const STAFF_LIST_LABELS: &[(&str, &str)] = &[
    ("page", "Pagina"),
    ("size", "Righe per pagina"),
    ("sort", "Ordine"),
    ("dir", "Direzione"),
];

async fn staff_page(
    state: &AppState,
    identity: &Identity,
    params: Values,
    form: &FormState,
) -> Result<Markup, AppError> {
    let mut list = ListRequest::parse(
        "/formazione/personale",
        params,
        store::STAFF_SORT,
        "nome",
        Direction::Asc,
    );
    let text = list.text("q");
    let (staff, total) = ops::list_staff_page(
        state,
        identity,
        text,
        list.order_by("s.id"),
        list.size,
        list.offset(),
    )
    .await?;
    let comune = identity
        .user
        .as_ref()
        .and_then(|u| u.roles.comune())
        .is_some();
    let can_add = comune || is_office(identity);
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione")], "Personale in formazione"))
        h1 { "Personale in formazione" }
        p {
            @if comune { "Le persone del Comune che possono essere iscritte ai corsi: nome, ufficio ed e-mail di lavoro, nient'altro." }
            @else { "Le persone della Provincia e dei Comuni che possono essere iscritte ai corsi. La Provincia tiene il proprio elenco; ogni Comune tiene il suo." }
        }
        (list.error_summary(STAFF_LIST_LABELS))
        form method="get" action="/formazione/personale" class="row g-3 align-items-end mb-4" aria-label="Cerca nell'elenco" {
            div class="col-12 col-md-6" {
                label for="f-q" class="form-label" { "Nome, ufficio o e-mail" }
                input class="form-control" type="search" id="f-q" name="q" value=(list.value("q")) maxlength="200";
            }
            div class="col-12 col-md-3" { (list.size_field()) }
            div class="col-12 col-md-3" { button type="submit" class="btn btn-outline-primary" { "Cerca" } }
        }
        @if staff.is_empty() {
            p id="no-staff" { "Nessuna persona nell'elenco." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole del personale" {
                table class="table" id="staff" {
                    caption { "Persone (" (total) ")" }
                    thead { tr {
                        (list.sort_header("nome", None)) (list.sort_header("ente", None))
                        (list.sort_header("ufficio", None)) (list.sort_header("email", None))
                    } }
                    tbody {
                        @for p in &staff {
                            tr {
                                td { a href=(format!("/formazione/personale/{}", p.id)) { (p.name) } }
                                td { (p.comune_name.as_deref().unwrap_or("Provincia")) }
                                td { (p.office) }
                                td { (p.email) }
                            }
                        }
                    }
                }
            }
        }
        (list.pager(total))
        @if can_add {
            h2 class="h4" id="new-person" { @if comune { "Aggiungi una persona del Comune" } @else { "Aggiungi una persona della Provincia" } }
            (error_summary(form, STAFF_LABELS))
            form method="post" action="/formazione/personale" novalidate id="staff-form" {
                input type="hidden" name="csrf" value=(csrf(identity));
                (input(form, "name", "Nome e cognome", "text", true, None))
                (input(form, "office", "Ufficio", "text", false, None))
                (input(form, "email", "E-mail di lavoro", "email", true, Some("Serve a riconoscere la persona nei rapporti delle videoconferenze")))
                button type="submit" class="btn btn-primary" id="save-person" { "Aggiungi" }
            }
        }
    };
    Ok(page(state, identity, "Personale in formazione", &body))
}

fn staff_input(values: &BTreeMap<String, String>) -> StaffInput {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    StaffInput {
        comune_code: None,
        name: get("name"),
        office: get("office"),
        email: get("email"),
    }
}

async fn submit_staff(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let outcome = ops::create_staff(&state, &identity, &staff_input(&values)).await;
    form::answer(
        outcome,
        |view| {
            layout::redirect_with_flash(
                "/formazione/personale",
                &format!("{} aggiunto all'elenco.", view.name),
            )
        },
        async |error| {
            let form = FormState::refused(values, error);
            staff_page(&state, &identity, Values::new(), &form).await
        },
    )
    .await
}

async fn show_person(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    person_page(&state, &identity, id, None).await
}

async fn person_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    form: Option<&FormState>,
) -> Result<Markup, AppError> {
    let detail = ops::staff_detail(state, identity, id).await?;
    let p = &detail.person;
    let may_edit = policy::authorize(
        identity,
        Action::ManagePerson {
            comune: p.comune_code.as_deref(),
        },
    )
    .is_ok();
    let stored = FormState::with_values(BTreeMap::from([
        ("name".to_owned(), p.name.clone()),
        ("office".to_owned(), p.office.clone()),
        ("email".to_owned(), p.email.clone()),
    ]));
    let form = form.unwrap_or(&stored);
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione"), ("Personale in formazione", "/formazione/personale")], p.name.as_str()))
        h1 { (p.name) }
        p { (p.comune_name.as_deref().unwrap_or("Provincia")) @if !p.office.is_empty() { ", " (p.office) } " · " (p.email) }
        h2 class="h4" { "Corsi" }
        @if detail.enrolments.is_empty() {
            p id="no-person-enrolments" { "Nessuna iscrizione." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole dei corsi della persona" {
                table class="table" id="person-enrolments" {
                    caption { "Iscrizioni" }
                    thead { tr { th scope="col" { "Corso" } th scope="col" { "Stato" } th scope="col" class="text-end" { "Ore frequentate" } th scope="col" { "Completato" } } }
                    tbody {
                        @for n in &detail.enrolments {
                            tr {
                                td { a href=(format!("/formazione/edizioni/{}", n.edition_id)) { (n.course_title) } }
                                td { (state_badge(n.state)) }
                                td class="text-end" { (ops::attended_text(n)) }
                                td { @if n.completed { "Sì" } @else { "No" } }
                            }
                        }
                    }
                }
            }
        }
        @if may_edit {
            h2 class="h4" { "Modifica" }
            (error_summary(form, STAFF_LABELS))
            form method="post" action=(format!("/formazione/personale/{id}")) novalidate id="person-form" {
                input type="hidden" name="csrf" value=(csrf(identity));
                (input(form, "name", "Nome e cognome", "text", true, None))
                (input(form, "office", "Ufficio", "text", false, None))
                (input(form, "email", "E-mail di lavoro", "email", true, None))
                button type="submit" class="btn btn-primary" id="update-person" { "Salva" }
            }
            @if detail.enrolments.is_empty() {
                form method="post" action=(format!("/formazione/personale/{id}/elimina")) class="mt-3" {
                    input type="hidden" name="csrf" value=(csrf(identity));
                    button type="submit" class="btn btn-outline-danger" id="delete-person" { "Togli dall'elenco" }
                }
            }
        }
    };
    Ok(page(state, identity, &p.name, &body))
}

async fn submit_person(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let outcome = ops::update_staff(&state, &identity, id, &staff_input(&values)).await;
    form::answer(
        outcome,
        |_| layout::redirect_with_flash(&format!("/formazione/personale/{id}"), "Dati salvati."),
        async |error| {
            let form = FormState::refused(values, error);
            person_page(&state, &identity, id, Some(&form)).await
        },
    )
    .await
}

async fn submit_delete_person(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    ops::delete_staff(&state, &identity, id).await?;
    Ok(layout::redirect_with_flash(
        "/formazione/personale",
        "Persona tolta dall'elenco.",
    ))
}

// ---------------------------------------------------------------------------------------
// Reports

#[derive(Debug, Default, Deserialize)]
struct ReportForm {
    anno: Option<String>,
    sep: Option<String>,
}

impl ReportForm {
    fn year(&self) -> Result<Option<i16>, AppError> {
        match self.anno.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse::<i16>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .map(Some)
                .ok_or_else(|| AppError::invalid_field("anno", "L'anno è un numero come 2026.")),
        }
    }
}

fn rate(f: &Figures) -> String {
    f.completion_rate()
        .map_or_else(|| "—".to_owned(), |r| fmt::percent(r * 100.0))
}

async fn show_reports(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ReportForm>,
) -> Result<Markup, AppError> {
    let report: Report =
        crate::formazione::api::read_report(&state, &identity, query.year()?).await?;
    let bars: Vec<(String, i64)> = report
        .sectors
        .iter()
        .map(|l| {
            (
                format!("{} (ore)", l.sector.label()),
                l.minutes_delivered / 60,
            )
        })
        .collect();
    let figures_cells = |f: &Figures| {
        html! {
            td class="text-end" { (fmt::integer(f.enrolled)) }
            td class="text-end" { (fmt::integer(f.completed)) }
            td class="text-end" { (rate(f)) }
            td class="text-end" { (fmt::integer(f.people_trained)) }
        }
    };
    let figure_heads = html! {
        th scope="col" class="text-end" { "Iscritti" } th scope="col" class="text-end" { "Completati" }
        th scope="col" class="text-end" { "Tasso di completamento" } th scope="col" class="text-end" { "Persone formate" }
    };
    let meeting = report
        .people
        .iter()
        .filter(|p| p.meets_yearly_hours)
        .count();
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione")], "Rapporti"))
        h1 { "Rapporti della formazione " (report.year) }
        p { "Ore erogate (incontri già svolti), iscritti con posto, corsi completati e persone formate per settore, per ente e per area e livello del Syllabus; ore frequentate da ogni persona nell'anno rispetto alle " (crate::formazione::YEARLY_HOURS) " ore annue della direttiva del Dipartimento della Funzione pubblica. Un'iscrizione conta nell'anno del primo incontro della sua edizione." }
        form method="get" action="/formazione/rapporti" class="row g-2 align-items-end mb-3" {
            div class="col-8 col-md-4" {
                label for="anno" class="form-label" { "Anno" }
                select class="form-select" id="anno" name="anno" {
                    @for y in &report.years { option value=(y) selected[*y == report.year] { (y) } }
                }
            }
            div class="col-4 col-md-2" { button type="submit" class="btn btn-primary" { "Mostra" } }
        }
        p {
            "Scarica: "
            a href=(format!("/formazione/rapporti/export.csv?anno={}&sep=semicolon", report.year)) { "CSV (separatore ;)" } " · "
            a href=(format!("/formazione/rapporti/export.csv?anno={}&sep=comma", report.year)) { "CSV (separatore ,)" }
        }
        div class="row" {
            (layout::figure("Ore erogate", report.minutes_delivered / 60, "#sectors"))
            (layout::figure("Persone formate", report.totals.people_trained, "#entities"))
            (layout::figure("Persone con almeno 40 ore", i64::try_from(meeting).unwrap_or(0), "#people"))
        }
        (crate::formazione::targets::progress_block(report.progress.as_ref()))
        (layout::bar_chart("formazione-chart", "Ore erogate per settore", &bars))
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole per settore" {
            table class="table" id="sectors" {
                caption { "Per settore" }
                thead { tr { th scope="col" { "Settore" } th scope="col" class="text-end" { "Ore erogate" } (figure_heads) } }
                tbody { @for l in &report.sectors { tr { th scope="row" { (l.sector.label()) } td class="text-end" { (hours_text(l.minutes_delivered)) } (figures_cells(&l.figures)) } } }
                tfoot { tr { th scope="row" { "Totale" } td class="text-end" { (hours_text(report.minutes_delivered)) } (figures_cells(&report.totals)) } }
            }
        }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole per ente" {
            table class="table" id="entities" {
                caption { "Per ente" }
                thead { tr { th scope="col" { "Ente" } (figure_heads) } }
                tbody { @for l in &report.entities { tr { th scope="row" { (l.name) } (figures_cells(&l.figures)) } } }
            }
        }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole per area del Syllabus" {
            table class="table" id="syllabus" {
                caption { "Competenze digitali per area e livello del Syllabus" }
                thead { tr { th scope="col" { "Area" } th scope="col" { "Livello" } (figure_heads) } }
                tbody {
                    @if report.syllabus.is_empty() { tr { td colspan="6" { "Nessun corso del Syllabus nell'anno." } } }
                    @for l in &report.syllabus { tr { th scope="row" { (l.area.label()) } td { (l.level.label()) } (figures_cells(&l.figures)) } }
                }
            }
        }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole delle ore per persona" {
            table class="table" id="people" {
                caption { "Ore per persona nell'anno (obiettivo 40 ore)" }
                thead { tr { th scope="col" { "Persona" } th scope="col" { "Ente" } th scope="col" class="text-end" { "Ore frequentate" } th scope="col" { "40 ore raggiunte" } } }
                tbody {
                    @if report.people.is_empty() { tr { td colspan="4" { "Nessuna presenza registrata nell'anno." } } }
                    @for p in &report.people { tr { th scope="row" { (p.name) } td { (p.entity) } td class="text-end" { (hours_text(p.minutes)) } td { @if p.meets_yearly_hours { "Sì" } @else { "No" } } } }
                }
            }
        }
    };
    Ok(page(&state, &identity, "Rapporti della formazione", &body))
}

async fn export_reports(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ReportForm>,
) -> Result<Response, AppError> {
    let separator = pico_service::csv::Separator::parse(query.sep.as_deref())
        .map_err(|err| AppError::invalid_field("sep", err.to_string()))?;
    let report = crate::formazione::api::read_report(&state, &identity, query.year()?).await?;
    Ok(pico_service::download::csv(
        &format!("formazione-{}.csv", report.year),
        report.to_csv(separator)?,
    ))
}

// ---------------------------------------------------------------------------------------
// Dashboard

/// [`dashboard_cards`] as the module registry calls it.
pub fn cards<'a>(state: &'a AppState, identity: &'a Identity) -> crate::modules::CardsFuture<'a> {
    Box::pin(dashboard_cards(state, identity))
}

/// The Formazione on the dashboard: for the office, the courses, the Province's staff and
/// the enrolments waiting for approval; for a Comune, its staff list and its enrolments
/// waiting for approval or on a waiting list. `None` for others.
pub async fn dashboard_cards(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<Markup>, AppError> {
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    let comune = user.roles.comune().map(|c| c.as_str().to_owned());
    let office = user.roles.any(policy::is_office);
    if comune.is_none() && !office {
        return Ok(None);
    }
    let (courses, staff, pending, waiting) = state
        .db
        .call(move |conn| {
            let courses = store::list_courses(conn, None)?.len();
            let scope = comune
                .as_deref()
                .map_or(StaffScope::All, StaffScope::Comune);
            let staff = store::list_staff(conn, scope)?.len();
            let pending =
                store::enrolments_in_state(conn, EnrolmentState::Pending, comune.as_deref(), 201)?;
            let waiting =
                store::enrolments_in_state(conn, EnrolmentState::Waiting, comune.as_deref(), 201)?;
            Ok::<_, AppError>((courses, staff, pending, waiting))
        })
        .await?;
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let list = |id: &str, rows: &[store::EnrolmentRow]| {
        html! {
            @if rows.is_empty() { p { "Nessuna." } } @else {
                ul class="list-unstyled" id=(id) {
                    @for n in rows.iter().take(5) {
                        li class="mb-2" { a href=(format!("/formazione/edizioni/{}", n.edition_id)) { (n.name) ", " (n.course_title) } }
                    }
                }
            }
        }
    };
    Ok(Some(html! {
        section aria-labelledby="dashboard-formazione" class="mb-5" {
            h2 id="dashboard-formazione" { "Formazione" }
            div class="row" {
                (layout::figure("Corsi in catalogo", count(courses), "/formazione"))
                (layout::figure(if office { "Persone in formazione" } else { "Personale del Comune in formazione" }, count(staff), "/formazione/personale"))
            }
            div class="row" {
                div class="col-12 col-lg-6" { h3 class="h5" { "Iscrizioni da approvare" } (list("formazione-pending", &pending)) }
                div class="col-12 col-lg-6" { h3 class="h5" { "In lista d'attesa" } (list("formazione-waiting", &waiting)) }
            }
            @if office { p { a href="/formazione/rapporti" { "Rapporti della formazione" } } }
        }
    }))
}
