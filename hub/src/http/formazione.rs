//! The Formazione API of the hub: the programme's training targets, signed with the hub's
//! key for the nodes that pull them (and changed by the operators), and the national progress
//! against them by Province, region or sector; JSON or CSV.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_protocol::jws::Jws;
use pico_protocol::targets::FormazioneTargets;
use pico_service::json::Query;
use pico_service::{Json, Problem};
use serde::{Deserialize, Serialize};

use crate::db::formazione::{self, Filter};
use crate::error::HubError;
use crate::formazione::courses::{self, CourseParams, CoursesPage};
use crate::formazione::{Format, Params, ProgressView, Request, progress};
use crate::http::operator::Operator;
use crate::http::{csv_response, json_or_csv};
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/formazione/targets", get(get_targets).put(set_targets))
        .route("/v1/formazione/progress", get(get_progress))
        .route("/v1/formazione/courses", get(list_courses))
}

/// The signed targets document as it travels (JWS flattened JSON, `typ`
/// `pico-formazione-targets`; the payload is the canonical targets, SPEC §9.1).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedTargets {
    /// BASE64URL of the protected header `{"alg":"EdDSA","kid":…,"typ":"pico-formazione-targets"}`.
    pub protected: String,
    /// BASE64URL of the canonical targets: `{hours_per_person_year, provinces, revision,
    /// sectors: [{label, people_per_province, sector}], updated_at, v}`.
    pub payload: String,
    /// BASE64URL of the Ed25519 signature by the hub's key.
    pub signature: String,
}

impl From<Jws> for SignedTargets {
    fn from(jws: Jws) -> SignedTargets {
        SignedTargets {
            protected: jws.protected,
            payload: jws.payload,
            signature: jws.signature,
        }
    }
}

/// Signs the targets with the hub's key (Ed25519 is deterministic: the same revision always
/// gives the same bytes).
fn sign(state: &AppState, targets: &FormazioneTargets) -> Result<SignedTargets, HubError> {
    targets
        .sign(&state.hub.key)
        .map(SignedTargets::from)
        .map_err(|error| {
            tracing::error!(%error, "cannot serialise the Formazione targets");
            HubError::Problem(Problem::internal())
        })
}

/// Loads the targets (shared with the page).
pub async fn load_targets(state: &AppState) -> Result<FormazioneTargets, HubError> {
    state
        .db
        .call(|conn| Ok::<_, HubError>(formazione::targets(conn)?))
        .await
}

/// The programme's training targets — people to train per sector and per Province, the
/// Provinces of the programme, the hours of training per employee per year — signed with the
/// hub's key (the key of `/.well-known/pico-federation`), as every node pulls them.
#[utoipa::path(get, path = "/v1/formazione/targets", tag = "national",
    responses(
        (status = 200, description = "The targets, signed by the hub (JWS flattened JSON)", body = SignedTargets)))]
pub async fn get_targets(State(state): State<AppState>) -> Result<Json<SignedTargets>, HubError> {
    let targets = load_targets(&state).await?;
    Ok(Json(sign(&state, &targets)?))
}

/// One sector's new target.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectorChange {
    /// Sector code as in `formazione_aggregati` (lower-case letters and `_`).
    pub sector: String,
    /// Its Italian name; the current one when absent (the code for a new sector).
    #[serde(default)]
    pub label: Option<String>,
    /// People each Province is to train in the sector (0 to 1000).
    pub people_per_province: u64,
}

/// A change of the targets.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsChange {
    /// The sectors to change or add (others keep their target).
    #[serde(default)]
    pub sectors: Vec<SectorChange>,
    /// Hours of training per employee per year (0 to 2000); unchanged when absent.
    #[serde(default)]
    pub hours_per_person_year: Option<u64>,
}

fn invalid(detail: String) -> HubError {
    Problem::bad_request("invalid_targets", detail).into()
}

/// Changes the targets (operators): the revision goes up by one if anything changed, and the
/// nodes take the new document at their next pull. Answers the signed targets as they are now.
#[utoipa::path(put, path = "/v1/formazione/targets", tag = "operator", security(("operator" = [])),
    request_body = TargetsChange,
    responses(
        (status = 200, description = "The targets now, signed by the hub", body = SignedTargets),
        (status = 400, description = "`invalid_targets`: a sector code, a number or a label is out of bounds; `detail` says which"),
        (status = 401, description = "`unauthorized`: missing or wrong operator token"),
        (status = 404, description = "`not_found`: the operator API is disabled (no token configured)")))]
pub async fn set_targets(
    _operator: Operator,
    State(state): State<AppState>,
    Json(change): Json<TargetsChange>,
) -> Result<Json<SignedTargets>, HubError> {
    let mut sectors = Vec::with_capacity(change.sectors.len());
    for s in change.sectors {
        let code_ok = !s.sector.is_empty()
            && s.sector.len() <= 40
            && s.sector
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_');
        if !code_ok {
            return Err(invalid(format!(
                "settore «{}» non valido: lettere minuscole e _ (al più 40), come appalti",
                s.sector
            )));
        }
        if s.people_per_province > 1000 {
            return Err(invalid(format!(
                "people_per_province {} per il settore {}: al più 1000",
                s.people_per_province, s.sector
            )));
        }
        let label = s.label.unwrap_or_default().trim().to_owned();
        if label.chars().count() > 100 {
            return Err(invalid(format!(
                "il nome del settore {} supera 100 caratteri",
                s.sector
            )));
        }
        sectors.push((s.sector, label, s.people_per_province));
    }
    if change.hours_per_person_year.is_some_and(|h| h > 2000) {
        return Err(invalid(
            "hours_per_person_year: al più 2000 ore l'anno".to_owned(),
        ));
    }
    let hours = change.hours_per_person_year;
    let _writer = state.writer.lock().await;
    let targets = state
        .db
        .call(move |conn| Ok::<_, HubError>(formazione::set_targets(conn, &sectors, hours)?))
        .await?;
    tracing::info!(
        formazione.revision = targets.revision,
        "Formazione targets set by an operator"
    );
    Ok(Json(sign(&state, &targets)?))
}

/// Loads the progress (shared with the page), with the targets it was measured against.
pub async fn load_progress(
    state: &AppState,
    request: Request,
) -> Result<(FormazioneTargets, ProgressView), HubError> {
    state
        .db
        .call(move |conn| {
            crate::query::check_region(conn, request.filter.region.as_deref())?;
            let targets = formazione::targets(conn)?;
            let programme_filter = Filter {
                year: request.filter.year,
                region: None,
            };
            let programme = formazione::provinces(conn, &programme_filter)?;
            let provinces = if request.filter.region.is_some() {
                formazione::provinces(conn, &request.filter)?
            } else {
                programme.clone()
            };
            let view = progress(
                &targets,
                &programme,
                &provinces,
                request.group,
                &request.filter,
                request.behind_only,
            );
            Ok::<_, HubError>((targets, view))
        })
        .await
}

/// The progress of the Provinces of the programme against the training targets, from the
/// `formazione_aggregati` rows they federate: people trained per sector against the target
/// (each Province credited up to its own), the share of the target reached, hours delivered
/// and attended, enrolments, completions and completion rate, and the Provinces behind the
/// programme's pace; by Province, region or sector; `behind=1` lists the Provinces behind.
/// With `format=csv`, one line per group.
#[utoipa::path(get, path = "/v1/formazione/progress", tag = "national", params(Params),
    responses(
        (status = 200, description = "The progress by group, and the whole; with `format=csv`, one line per group",
            content((ProgressView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`invalid_query`: a parameter is wrong; `detail` says which and why")))]
pub async fn get_progress(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    let request = params.parse()?;
    let format = request.format;
    let (targets, view) = load_progress(&state, request).await?;
    let to_csv = |view: &ProgressView, sep, bom| view.to_csv(&targets, sep, bom);
    Ok(json_or_csv(format, view, ProgressView::file_name, to_csv))
}

/// The national catalogue of training: the editions of the courses the Provinces open to the
/// staff of other Provinces, from the `formazione_corsi` rows they federate (no personal
/// data), newest first day first. `q` finds words in the title or the competences; filters
/// by sector, region and Province; pages of `per_page` (1 to 100, default 20) numbered from
/// 1. With `format=csv`, every matching edition in one file.
#[utoipa::path(get, path = "/v1/formazione/courses", tag = "national", params(CourseParams),
    responses(
        (status = 200, description = "A page of editions; with `format=csv`, all of them, one per line",
            content((CoursesPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`invalid_query`: a parameter is wrong or out of bounds; `detail` says which and why")))]
pub async fn list_courses(
    State(state): State<AppState>,
    Query(params): Query<CourseParams>,
) -> Result<Response, HubError> {
    let request = params.parse()?;
    let all = matches!(request.format, Format::Csv(..));
    let query = request.clone();
    let (total, items) = state
        .db
        .call(move |conn| courses::search(conn, &query, all))
        .await?;
    Ok(match request.format {
        Format::Json => Json(courses::page_of(&request, total, items)).into_response(),
        Format::Csv(sep, bom) => csv_response(
            courses::courses_csv(&items, sep, bom),
            "formazione-corsi-aperti.csv",
        ),
    })
}
