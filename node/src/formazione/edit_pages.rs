//! The training office's edit forms for a course and an edition, filled with what is stored,
//! on the same fields as the forms that create them (`pages::course_fields`,
//! `pages::edition_fields`); a refused change comes back with the Italian messages beside
//! each field and a linked summary.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::Path;
use pico_service::web as layout;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::editions;
use crate::formazione::ops::{self, CourseView, EditionView};
use crate::formazione::pages::{
    COURSE_LABELS, EDITION_LABELS, course_fields, course_input, csrf, edition_fields,
    edition_input, page, session_text,
};
use crate::formazione::policy::{self, Action};
use crate::state::AppState;
use crate::web::form::{self, FormState, Values, error_summary};
use crate::web::{PageForm, breadcrumb, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/formazione/corsi/{id}/modifica",
            get(show_edit_course).post(submit_edit_course),
        )
        .route(
            "/formazione/edizioni/{id}/modifica",
            get(show_edit_edition).post(submit_edit_edition),
        )
}

/// A course as the form's values.
fn course_values(c: &CourseView) -> Values {
    let flag = |on: bool| if on { "true" } else { "" }.to_owned();
    BTreeMap::from([
        ("title".to_owned(), c.title.clone()),
        ("sector".to_owned(), c.sector.as_str().to_owned()),
        ("description".to_owned(), c.description.clone()),
        ("objectives".to_owned(), c.objectives.clone()),
        ("hours".to_owned(), c.hours.to_string()),
        ("mode".to_owned(), c.mode.as_str().to_owned()),
        (
            "syllabus_area".to_owned(),
            c.syllabus_area.map(|a| a.as_str()).unwrap_or("").to_owned(),
        ),
        (
            "syllabus_level".to_owned(),
            c.syllabus_level
                .map(|l| l.as_str())
                .unwrap_or("")
                .to_owned(),
        ),
        ("tags".to_owned(), c.tags.join(", ")),
        ("audience".to_owned(), c.audience.as_str().to_owned()),
        ("needs_approval".to_owned(), flag(c.needs_approval)),
        ("open_to_provinces".to_owned(), flag(c.open_to_provinces)),
        (
            "min_attendance_percent".to_owned(),
            c.min_attendance_percent.to_string(),
        ),
        (
            "min_score".to_owned(),
            c.min_score.map(|s| s.to_string()).unwrap_or_default(),
        ),
        (
            "moodle_shortname".to_owned(),
            c.moodle_shortname.clone().unwrap_or_default(),
        ),
    ])
}

/// The page editing course `id`, whose title is `title`.
fn course_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    title: &str,
    form: &FormState,
) -> Markup {
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione"), (title, &format!("/formazione/corsi/{id}"))], "Modifica"))
        h1 { "Modifica il corso" }
        p { "I campi con * sono obbligatori. Il completamento di ogni iscrizione segue la nuova regola." }
        (error_summary(form, COURSE_LABELS))
        form method="post" action=(format!("/formazione/corsi/{id}/modifica")) novalidate id="course-form" {
            input type="hidden" name="csrf" value=(csrf(identity));
            (course_fields(form))
            button type="submit" class="btn btn-primary" id="save-course" { "Salva le modifiche" }
        }
    };
    page(state, identity, "Modifica il corso", &body)
}

async fn show_edit_course(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::Manage)?;
    let course = ops::course_detail(&state, &identity, id).await?.course;
    let form = FormState::with_values(course_values(&course));
    Ok(course_page(&state, &identity, id, &course.title, &form))
}

/// Adds the messages of a refused operation to those of the form, keyed by field id.
fn merge_messages(errors: &mut BTreeMap<String, String>, result: Result<(), AppError>) {
    if let Err(error) = result {
        for (field, message) in form::field_messages(&error) {
            errors.entry(form::field_id(&field)).or_insert(message);
        }
    }
}

async fn submit_edit_course(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let mut errors = BTreeMap::new();
    let input = course_input(&values, &mut errors);
    let checked = ops::check_course(&input).map(|_| ());
    let result = if errors.is_empty() && checked.is_ok() {
        ops::update_course(&state, &identity, id, &input).await
    } else {
        merge_messages(&mut errors, checked);
        Err(crate::web::list::refuse(&errors))
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(
                &format!("/formazione/corsi/{}", view.id),
                "Corso aggiornato.",
            )
        },
        async |error| {
            let course = ops::course_detail(&state, &identity, id).await?.course;
            let form = FormState::refused(values.clone(), error);
            Ok(course_page(&state, &identity, id, &course.title, &form))
        },
    )
    .await
}

/// An edition as the form's values: the days as people type them, one session a line.
fn edition_values(e: &EditionView) -> Values {
    let day = |iso: &str| pico_service::format::iso_date(iso);
    let sessions: Vec<String> = e
        .sessions
        .iter()
        .map(|s| session_text(s.starts_unix, s.ends_unix))
        .collect();
    BTreeMap::from([
        ("teacher".to_owned(), e.teacher.clone()),
        ("place".to_owned(), e.place.clone()),
        ("link".to_owned(), e.link.clone()),
        ("seats".to_owned(), e.seats.to_string()),
        ("enrol_opens".to_owned(), day(&e.enrol_opens)),
        ("enrol_closes".to_owned(), day(&e.enrol_closes)),
        ("sessions".to_owned(), sessions.join("\n")),
    ])
}

/// The page editing edition `id` of course `course` (its id and title).
fn edition_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    course: (i64, &str),
    form: &FormState,
) -> Markup {
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione"), (course.1, &format!("/formazione/corsi/{}", course.0)), ("Edizione", &format!("/formazione/edizioni/{id}"))], "Modifica"))
        h1 { "Modifica l'edizione" }
        p { "I campi con * sono obbligatori. Gli incontri con presenze registrate vanno lasciati come sono; più posti promuovono la lista d'attesa in ordine." }
        (error_summary(form, EDITION_LABELS))
        form method="post" action=(format!("/formazione/edizioni/{id}/modifica")) novalidate id="edition-form" {
            input type="hidden" name="csrf" value=(csrf(identity));
            (edition_fields(form))
            button type="submit" class="btn btn-primary" id="save-edition" { "Salva le modifiche" }
        }
    };
    page(state, identity, "Modifica l'edizione", &body)
}

async fn show_edit_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::Manage)?;
    let detail = ops::edition_detail(&state, &identity, id).await?;
    let form = FormState::with_values(edition_values(&detail.edition));
    let course = (detail.course.id, detail.course.title.as_str());
    Ok(edition_page(&state, &identity, id, course, &form))
}

async fn submit_edit_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let mut errors = BTreeMap::new();
    let input = edition_input(&values, &mut errors);
    let checked = ops::check_edition(&input).map(|_| ());
    let result = if errors.is_empty() && checked.is_ok() {
        editions::update_edition(&state, &identity, id, &input).await
    } else {
        merge_messages(&mut errors, checked);
        Err(crate::web::list::refuse(&errors))
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(
                &format!("/formazione/edizioni/{}", view.id),
                "Edizione aggiornata.",
            )
        },
        async |error| {
            let detail = ops::edition_detail(&state, &identity, id).await?;
            let form = FormState::refused(values.clone(), error).messages_by_input();
            let course = (detail.course.id, detail.course.title.as_str());
            Ok(edition_page(&state, &identity, id, course, &form))
        },
    )
    .await
}
