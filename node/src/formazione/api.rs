//! Formazione JSON API under `/v1/formazione/…`: the catalogue (courses and editions), the
//! staff list, enrolments and their moves, registers, attendance imports and the reports.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use pico_service::Json;
use pico_service::json::{Path, Query};
use pico_service::openapi::FileBytes;
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::Sector;
use crate::formazione::attendance::AttendanceReport;
use crate::formazione::certificates::{self, CertificateView};
use crate::formazione::moodle::MoodleReport;
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
        .route(
            "/v1/formazione/editions/{id}",
            get(get_edition).put(update_edition).delete(delete_edition),
        )
        .route(
            "/v1/formazione/editions/{id}/self-enrolment",
            post(enrol_self),
        )
        .route("/v1/formazione/sessions/{id}", delete(delete_session))
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
        .route(
            "/v1/formazione/enrolments/{id}/certificate",
            get(download_certificate).post(issue_certificate),
        )
        .route("/v1/formazione/certificates/{code}", get(get_certificate))
        .route(
            "/v1/formazione/certificates/{code}/revoke",
            post(revoke_certificate),
        )
        .route(
            "/v1/formazione/imports/moodle",
            post(import_moodle).layer(pico_service::http::body_limit(IMPORT_BODY_LIMIT)),
        )
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
    responses((status = 200, body = Items<CourseView>)))]
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
              (status = 422, description = "Invalid fields, each named in `errors`")))]
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
    responses((status = 200, body = CourseDetail)))]
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
              (status = 422, description = "Invalid fields")))]
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
              (status = 422, description = "Invalid fields (`sessions[0].ends_at`)")))]
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
    responses((status = 200, body = EditionDetail)))]
pub async fn get_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<EditionDetail>, AppError> {
    Ok(Json(ops::edition_detail(&state, &identity, id).await?))
}

/// The enrolments of an edition the caller may see.
#[utoipa::path(get, path = "/v1/formazione/editions/{id}/enrolments", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Items<EnrolmentView>)))]
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
              (status = 404, description = "No such edition, or a person of another Comune"),
              (status = 409, description = "`enrolment_closed` outside the window, `already_enrolled`"),
              (status = 422, description = "A person the course is not for")))]
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

/// Moves enrolment `id` as asked, with the reason given: the one shape of the three move
/// handlers below.
async fn answer_move(
    state: &AppState,
    identity: &Identity,
    id: i64,
    action: EnrolmentMove,
    input: &MoveInput,
) -> Result<Json<EnrolmentView>, AppError> {
    Ok(Json(
        ops::move_enrolment(state, identity, id, action, &input.reason).await?,
    ))
}

/// The Province approves a pending enrolment: a free seat, else the waiting list.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/approve", tag = "formazione", params(("id" = i64, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 409, description = "Not pending")))]
pub async fn approve_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<MoveInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    answer_move(&state, &identity, id, EnrolmentMove::Approve, &input).await
}

/// The Province does not approve a pending enrolment.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/reject", tag = "formazione", params(("id" = i64, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 409, description = "Not pending")))]
pub async fn reject_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<MoveInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    answer_move(&state, &identity, id, EnrolmentMove::Reject, &input).await
}

/// Withdraws an enrolment (the training office, or the person's own Comune); a seat freed
/// goes to the first on the waiting list in the same transaction.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/withdraw", tag = "formazione", params(("id" = i64, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView),
              (status = 409, description = "Already rejected or withdrawn")))]
pub async fn withdraw_enrolment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<MoveInput>,
) -> Result<Json<EnrolmentView>, AppError> {
    answer_move(&state, &identity, id, EnrolmentMove::Withdraw, &input).await
}

/// Records a final-test score (the training office); the completion follows.
#[utoipa::path(put, path = "/v1/formazione/enrolments/{id}/score", tag = "formazione", params(("id" = i64, Path)), request_body = ScoreInput, security(("bearer" = [])),
    responses((status = 200, body = EnrolmentView)))]
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
    responses((status = 200, body = RegisterView)))]
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
              (status = 422, description = "Not an enrolled person, or minutes beyond the session")))]
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
              (status = 422, description = "Unmatched rows, nothing recorded")))]
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
    responses((status = 200, body = Items<StaffView>)))]
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
              (status = 404, description = "Another Comune's list"),
              (status = 422, description = "Invalid fields, or an e-mail already listed")))]
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
    responses((status = 200, body = StaffDetail)))]
pub async fn get_staff(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<StaffDetail>, AppError> {
    Ok(Json(ops::staff_detail(&state, &identity, id).await?))
}

/// Changes a person's name, office and e-mail.
#[utoipa::path(put, path = "/v1/formazione/staff/{id}", tag = "formazione", params(("id" = i64, Path)), request_body = StaffInput, security(("bearer" = [])),
    responses((status = 200, body = StaffView)))]
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
              (status = 409, description = "The person has enrolments")))]
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
    responses((status = 200, body = Report)))]
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

/// Issues the certificate of attendance of a completed enrolment (the training office, or
/// the person's own Comune), signed with the node's key: 201 when issued now, 200 with the
/// one already issued.
#[utoipa::path(post, path = "/v1/formazione/enrolments/{id}/certificate", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Already issued", body = CertificateView),
              (status = 201, description = "Issued now", body = CertificateView),
              (status = 404, description = "No such enrolment, or a person of another Comune"),
              (status = 409, description = "`not_completed`: the enrolment did not complete the course")))]
pub async fn issue_certificate(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<CertificateView>), AppError> {
    let (view, issued) = certificates::issue(&state, &identity, id).await?;
    let status = if issued {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// The certificate of an enrolment as PDF (the training office, or the person's own Comune).
#[utoipa::path(get, path = "/v1/formazione/enrolments/{id}/certificate", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The PDF", content((FileBytes = "application/pdf"))),
              (status = 404, description = "No such enrolment, none issued, or a person of another Comune")))]
pub async fn download_certificate(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let view = certificates::of_enrolment(&state, &identity, id).await?;
    Ok(pdf_response(&view))
}

/// The PDF of `view` as a download named by its code.
pub fn pdf_response(view: &CertificateView) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attestato-{}.pdf\"", view.code),
            ),
        ],
        view.pdf(),
    )
        .into_response()
}

/// Verifies a certificate by its code, for anyone: what it states, the exact signed bytes,
/// the signature and the key, and whether it is valid or revoked. The code may be typed in
/// any case, with or without dashes.
#[utoipa::path(get, path = "/v1/formazione/certificates/{code}", tag = "formazione", params(("code" = String, Path, description = "The verification code, e.g. `K7QM-2XRA-BOII-7777`")),
    responses((status = 200, body = CertificateView),
              (status = 404, description = "No certificate with this code")))]
pub async fn get_certificate(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<CertificateView>, AppError> {
    Ok(Json(certificates::verify(&state, &code).await?))
}

/// Revokes a certificate (the training office); whoever verifies it then reads it is revoked
/// and why.
#[utoipa::path(post, path = "/v1/formazione/certificates/{code}/revoke", tag = "formazione", params(("code" = String, Path)), request_body = MoveInput, security(("bearer" = [])),
    responses((status = 200, body = CertificateView),
              (status = 409, description = "`already_revoked`"),
              (status = 422, description = "No reason given")))]
pub async fn revoke_certificate(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    Json(input): Json<MoveInput>,
) -> Result<Json<CertificateView>, AppError> {
    Ok(Json(
        certificates::revoke(&state, &identity, &code, &input.reason).await?,
    ))
}

/// Imports the course completion report of the Province's Moodle (CSV, as Moodle downloads
/// it; the training office): people matched by e-mail, courses by their Moodle short name,
/// each completion recorded on the edition started by then (enrolling whoever was not).
/// All or nothing: the 422 lists every row that does not match, in Italian. Importing the
/// same report again changes nothing.
#[utoipa::path(post, path = "/v1/formazione/imports/moodle", tag = "formazione", security(("bearer" = [])),
    request_body(description = "The report's bytes", content((FileBytes = "text/csv"))),
    responses((status = 200, body = MoodleReport),
              (status = 422, description = "Unmatched rows (unknown e-mail, unknown course, bad date), nothing recorded")))]
pub async fn import_moodle(
    State(state): State<AppState>,
    identity: Identity,
    body: axum::body::Bytes,
) -> Result<Json<MoodleReport>, AppError> {
    Ok(Json(
        crate::formazione::moodle::import(&state, &identity, &body).await?,
    ))
}

/// Changes an edition (the training office): place, link, teacher, seats, enrolment window
/// and sessions. Sessions with attendance must be sent unchanged; more seats promote the
/// waiting list in order.
#[utoipa::path(put, path = "/v1/formazione/editions/{id}", tag = "formazione", params(("id" = i64, Path)), request_body = EditionInput, security(("bearer" = [])),
    responses((status = 200, body = EditionView),
              (status = 409, description = "`has_attendance`: a session with attendance moved or removed"),
              (status = 422, description = "Invalid fields, or fewer seats than people enrolled")))]
pub async fn update_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<EditionInput>,
) -> Result<Json<EditionView>, AppError> {
    Ok(Json(
        crate::formazione::editions::update_edition(&state, &identity, id, &input).await?,
    ))
}

/// Removes an edition with its sessions and enrolments (the training office); refused once
/// attendance is recorded.
#[utoipa::path(delete, path = "/v1/formazione/editions/{id}", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Removed"),
              (status = 409, description = "`has_attendance`")))]
pub async fn delete_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    crate::formazione::editions::delete_edition(&state, &identity, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a session (the training office); refused once attendance is recorded for it, and
/// for the only session of its edition.
#[utoipa::path(delete, path = "/v1/formazione/sessions/{id}", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Removed"),
              (status = 409, description = "`has_attendance`, `last_session`")))]
pub async fn delete_session(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    crate::formazione::editions::delete_session(&state, &identity, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A Province employee enrols themself in an edition of a course open to the Province's
/// staff: the account's name must be their work e-mail in the staff list.
#[utoipa::path(post, path = "/v1/formazione/editions/{id}/self-enrolment", tag = "formazione", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = EnrolmentView),
              (status = 409, description = "`not_in_staff_list`, `enrolment_closed`, `already_enrolled`"),
              (status = 422, description = "The course is not open to the Province's staff")))]
pub async fn enrol_self(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<EnrolmentView>), AppError> {
    let view = crate::formazione::editions::enrol_self(&state, &identity, id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
