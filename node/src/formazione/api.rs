//! Formazione JSON API under `/v1/formazione/…`: the catalogue (courses and editions), the
//! staff list, enrolments and their moves, registers, attendance imports and the reports.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use pico_service::json::{Path, Query};
use pico_service::openapi::FileBytes;
use pico_service::{Json, ProblemDocument};
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::Sector;
use crate::formazione::attendance::AttendanceReport;
use crate::formazione::ops::{
    self, CourseDetail, CourseInput, CourseView, EditionDetail, EditionInput, EditionView,
    EnrolmentMove, EnrolmentView, NewEnrolment, RegisterInput, RegisterView, ScoreInput,
    StaffDetail, StaffInput, StaffView,
};
use crate::formazione::policy::{self, Action};
use crate::formazione::reports::Report;
use crate::state::AppState;

/// The largest attendance report: a day of a large webinar is a few hundred kilobytes.
pub const IMPORT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/formazione/courses",
            get(list_courses).post(create_course),
        )
        .route(
            "/v1/formazione/courses/{id}",
            get(get_course).put(update_course),
        )
        .route("/v1/formazione/courses/{id}/editions", post(create_edition))
        .route("/v1/formazione/editions/{id}", get(get_edition))
        .route(
            "/v1/formazione/editions/{id}/enrolments",
            get(list_enrolments).post(create_enrolment),
        )
        .route("/v1/formazione/staff", get(list_staff).post(create_staff))
        .route(
            "/v1/formazione/staff/{id}",
            get(get_staff).put(update_staff).delete(delete_staff),
        )
        .route(
            "/v1/formazione/enrolments/{id}/approve",
            post(approve_enrolment),
        )
        .route(
            "/v1/formazione/enrolments/{id}/reject",
            post(reject_enrolment),
        )
        .route(
            "/v1/formazione/enrolments/{id}/withdraw",
            post(withdraw_enrolment),
        )
        .route("/v1/formazione/enrolments/{id}/score", put(update_score))
        .route(
            "/v1/formazione/sessions/{id}/attendance",
            get(get_register).put(update_register),
        )
        .route(
            "/v1/formazione/sessions/{id}/attendance/import",
            post(import_attendance).layer(pico_service::http::body_limit(IMPORT_BODY_LIMIT)),
        )
        .route("/v1/formazione/reports", get(get_reports))
}

/// Query of the catalogue.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CourseQuery {
    /// Only this sector.
    pub sector: Option<Sector>,
}

/// The list of `items`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    /// The items.
    pub items: Vec<T>,
}

/// The catalogue: every course, newest first (everyone signed in).
#[utoipa::path(get, path = "/v1/formazione/courses", tag = "formazione", params(CourseQuery), security(("bearer" = [])),
    responses((status = 200, body = Items<CourseView>),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn list_courses(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<CourseQuery>,
) -> Result<Json<Items<CourseView>>, AppError> {
    Ok(Json(Items {
        items: ops::list_courses(&state, &identity, query.sector).await?,
    }))
}

/// Adds a course to the catalogue (the training office).
#[utoipa::path(post, path = "/v1/formazione/courses", tag = "formazione", request_body = CourseInput, security(("bearer" = [])),
    responses((status = 201, body = CourseView),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields, each named in `errors`", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn create_course(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<CourseInput>,
) -> Result<(StatusCode, Json<CourseView>), AppError> {
    let view = ops::create_course(&state, &identity, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A course with its editions (everyone signed in).
#[utoipa::path(get, path = "/v1/formazione/courses/{id}", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CourseDetail),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_course(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<CourseDetail>, AppError> {
    Ok(Json(ops::course_detail(&state, &identity, id).await?))
}

/// Replaces a course's content; every enrolment's completion follows the new rule.
#[utoipa::path(put, path = "/v1/formazione/courses/{id}", tag = "formazione", params(("id" = i64, Path)), request_body = CourseInput, security(("bearer" = [])),
    responses((status = 200, body = CourseView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn update_course(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<CourseInput>,
) -> Result<Json<CourseView>, AppError> {
    Ok(Json(
        ops::update_course(&state, &identity, id, &input).await?,
    ))
}

/// Adds an edition with its sessions to a course (the training office).
#[utoipa::path(post, path = "/v1/formazione/courses/{id}/editions", tag = "formazione", params(("id" = i64, Path)), request_body = EditionInput, security(("bearer" = [])),
    responses((status = 201, body = EditionView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields (`sessions[0].ends_at`)", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn create_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<EditionInput>,
) -> Result<(StatusCode, Json<EditionView>), AppError> {
    let view = ops::create_edition(&state, &identity, id, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// An edition with its course, seats and the enrolments the caller may see (all for the
/// training office, its own Comune's for a Comune user, none for others).
#[utoipa::path(get, path = "/v1/formazione/editions/{id}", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = EditionDetail),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<EditionDetail>, AppError> {
    Ok(Json(ops::edition_detail(&state, &identity, id).await?))
}

/// The enrolments of an edition the caller may see.
#[utoipa::path(get, path = "/v1/formazione/editions/{id}/enrolments", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Items<EnrolmentView>),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn list_enrolments(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Items<EnrolmentView>>, AppError> {
    Ok(Json(Items {
        items: ops::list_enrolments(&state, &identity, id).await?,
    }))
}

/// Enrols a person of the staff list: a Comune user its own staff, the training office
/// anyone. Pending approval where the course asks for it (for a Comune's enrolment), else a
/// free seat, else the waiting list (first come first served).
#[utoipa::path(post, path = "/v1/formazione/editions/{id}/enrolments", tag = "formazione", params(("id" = i64, Path)), request_body = NewEnrolment, security(("bearer" = [])),
    responses((status = 201, body = EnrolmentView),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, description = "No such edition, or a person of another Comune", body = ProblemDocument, content_type = "application/problem+json"),
              (status = 409, description = "`enrolment_closed` outside the window, `already_enrolled`", body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "A person the course is not for", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn create_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewEnrolment>,
) -> Result<(StatusCode, Json<EnrolmentView>), AppError> {
    let view = ops::enrol(&state, &identity, id, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Why a move is made.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The reason, kept in the enrolment's history.
    #[serde(default)]
    pub reason: String,
}

/// The Province approves a pending enrolment: a free seat, else the waiting list.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/approve", tag = "formazione", params(("id" = i64, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 409, description = "Not pending", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn approve_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<MoveInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    Ok(Json(
        ops::move_enrolment(&state, &identity, id, EnrolmentMove::Approve, &input.reason).await?,
    ))
}

/// The Province does not approve a pending enrolment.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/reject", tag = "formazione", params(("id" = i64, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 409, description = "Not pending", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn reject_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<MoveInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    Ok(Json(
        ops::move_enrolment(&state, &identity, id, EnrolmentMove::Reject, &input.reason).await?,
    ))
}

/// Withdraws an enrolment (the training office, or the person's own Comune); a seat freed
/// goes to the first on the waiting list in the same transaction.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/withdraw", tag = "formazione", params(("id" = i64, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 409, description = "Already rejected or withdrawn", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn withdraw_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<MoveInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    Ok(Json(
        ops::move_enrolment(
            &state,
            &identity,
            id,
            EnrolmentMove::Withdraw,
            &input.reason,
        )
        .await?,
    ))
}

/// Records a final-test score (the training office); the completion follows.
#[utoipa::path(put, path = "/v1/formazione/enrolments/{id}/score", tag = "formazione", params(("id" = i64, Path)), request_body = ScoreInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn update_score(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<ScoreInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    Ok(Json(ops::set_score(&state, &identity, id, &input).await?))
}

/// A session's register (the training office).
#[utoipa::path(get, path = "/v1/formazione/sessions/{id}/attendance", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RegisterView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_register(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<RegisterView>, AppError> {
    Ok(Json(ops::register(&state, &identity, id).await?))
}

/// Fills a session's register with the minutes of each person listed; hours attended and
/// completion follow.
#[utoipa::path(put, path = "/v1/formazione/sessions/{id}/attendance", tag = "formazione", params(("id" = i64, Path)), request_body = RegisterInput, security(("bearer" = [])),
    responses((status = 200, body = RegisterView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Not an enrolled person, or minutes beyond the session", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn update_register(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<RegisterInput>,
) -> Result<Json<RegisterView>, AppError> {
    Ok(Json(
        ops::update_register(&state, &identity, id, input).await?,
    ))
}

/// Imports a videoconference attendance report (CSV) for a session: all or nothing; the 422
/// lists every row that matches no enrolled person, in Italian.
#[utoipa::path(post, path = "/v1/formazione/sessions/{id}/attendance/import", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(description = "The report's bytes", content((FileBytes = "text/csv"))),
    responses((status = 200, body = AttendanceReport),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Unmatched rows, nothing recorded", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn import_attendance(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Json<AttendanceReport>, AppError> {
    Ok(Json(
        ops::import_attendance(&state, &identity, id, body.to_vec()).await?,
    ))
}

/// The staff list the caller keeps or sees (all for the training office, its own for a
/// Comune user).
#[utoipa::path(get, path = "/v1/formazione/staff", tag = "formazione", security(("bearer" = [])),
    responses((status = 200, body = Items<StaffView>),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn list_staff(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<Items<StaffView>>, AppError> {
    Ok(Json(Items {
        items: ops::list_staff(&state, &identity).await?,
    }))
}

/// Adds a person to the staff list: a Comune user to its own, the training office to the
/// Province's.
#[utoipa::path(post, path = "/v1/formazione/staff", tag = "formazione", request_body = StaffInput, security(("bearer" = [])),
    responses((status = 201, body = StaffView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, description = "Another Comune's list", body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields, or an e-mail already listed", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn create_staff(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<StaffInput>,
) -> Result<(StatusCode, Json<StaffView>), AppError> {
    let view = ops::create_staff(&state, &identity, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A person with their enrolments (404 for another Comune's).
#[utoipa::path(get, path = "/v1/formazione/staff/{id}", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = StaffDetail),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_staff(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<StaffDetail>, AppError> {
    Ok(Json(ops::staff_detail(&state, &identity, id).await?))
}

/// Changes a person's name, office and e-mail.
#[utoipa::path(put, path = "/v1/formazione/staff/{id}", tag = "formazione", params(("id" = i64, Path)), request_body = StaffInput, security(("bearer" = [])),
    responses((status = 200, body = StaffView),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn update_staff(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<StaffInput>,
) -> Result<Json<StaffView>, AppError> {
    Ok(Json(
        ops::update_staff(&state, &identity, id, &input).await?,
    ))
}

/// Removes a person without enrolments.
#[utoipa::path(delete, path = "/v1/formazione/staff/{id}", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Removed"),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 409, description = "The person has enrolments", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn delete_staff(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    ops::delete_staff(&state, &identity, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of the reports.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The year (Italian time); the current one by default.
    pub year: Option<i16>,
}

/// The training report of a year (the training office): hours delivered, enrolments,
/// completions and people trained per sector, entity and Syllabus area and level; each
/// person's hours against the 40 hours a year.
#[utoipa::path(get, path = "/v1/formazione/reports", tag = "formazione", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_reports(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Report>, AppError> {
    Ok(Json(read_report(&state, &identity, query.year).await?))
}

/// The report of `year` for the training office.
pub async fn read_report(
    state: &AppState,
    identity: &Identity,
    year: Option<i16>,
) -> Result<Report, AppError> {
    policy::authorize(identity, Action::Manage)?;
    state
        .db
        .call(move |conn| Report::read(conn, year, crate::db::now()))
        .await
}
