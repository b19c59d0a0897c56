//! The node's own Province in ISTAT's BES dei territori (`/dati/bes`): its profile read from
//! the hub (`GET /v1/bes/provinces/{code}`), kept for a few minutes so that the page does not
//! ask the hub on every visit, and a clear message when no hub is configured or it does not
//! answer. The hub holds the data and their attribution; the node only shows them.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::federation::client::{HubClient, HubError};
use crate::state::AppState;

/// The page's path.
pub const PATH: &str = "/dati/bes";

/// How long a profile read from the hub is shown before asking again.
const CACHE_FOR: Duration = Duration::from_secs(300);

/// How long the page waits for the hub at most.
const HUB_TIMEOUT: Duration = Duration::from_secs(10);

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show_bes))
}

/// The hub's profile, as far as the page uses it (`BesProfile` in the hub's OpenAPI).
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    /// ISTAT's edition.
    pub edition: i64,
    /// The Province's name in ISTAT's file.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Every indicator with values.
    pub indicators: Vec<ProfileIndicator>,
    /// Source of the data.
    pub attribution: String,
}

/// An indicator of the profile.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileIndicator {
    /// What it is.
    pub indicator: Indicator,
    /// Its series by sex, the total first.
    pub series: Vec<Series>,
}

/// An indicator's description.
#[derive(Debug, Clone, Deserialize)]
pub struct Indicator {
    /// ISTAT's code.
    pub code: String,
    /// The domain's number.
    pub domain_code: String,
    /// The domain's name.
    pub domain: String,
    /// Name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
}

/// A series: one sex, every year.
#[derive(Debug, Clone, Deserialize)]
pub struct Series {
    /// `totale`, `maschi` or `femmine`.
    pub sex: String,
    /// The years.
    pub points: Vec<Point>,
}

/// One year: the Province, its region, Italy.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Point {
    /// Year.
    pub year: i32,
    /// The Province's value.
    pub province: Option<f64>,
    /// The region's value.
    pub region: Option<f64>,
    /// Italy's value.
    pub italy: Option<f64>,
}

/// Why the profile could not be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unavailable {
    /// No `[federation] hub_url`.
    NoHub,
    /// The hub has no BES for this Province (or no edition).
    NotAtHub,
    /// The hub did not answer, or answered with an error.
    Unreachable,
}

type Cached = (String, Instant, Arc<Profile>);

fn cache() -> &'static Mutex<Option<Cached>> {
    static CACHE: OnceLock<Mutex<Option<Cached>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

async fn fetch(hub: &str, province: &str) -> Result<Profile, Unavailable> {
    let client = HubClient::new(hub, HUB_TIMEOUT).map_err(|_| Unavailable::Unreachable)?;
    client
        .get_json(&format!("/v1/bes/provinces/{province}"))
        .await
        .map_err(|error| match error {
            HubError::Status {
                status: reqwest::StatusCode::NOT_FOUND,
                ..
            } => Unavailable::NotAtHub,
            error => {
                tracing::warn!(%error, "the hub's BES profile could not be read");
                Unavailable::Unreachable
            }
        })
}

/// The profile of the node's Province: from the cache while fresh, else from the hub.
async fn profile(state: &AppState) -> Result<Arc<Profile>, Unavailable> {
    let hub = state.config.federation.hub_url.trim().trim_end_matches('/');
    if hub.is_empty() {
        return Err(Unavailable::NoHub);
    }
    let url = format!("{hub}/v1/bes/provinces/{}", state.province.code);
    let fresh = cache()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .filter(|(key, at, _)| *key == url && at.elapsed() < CACHE_FOR)
        .map(|(_, _, profile)| Arc::clone(profile));
    if let Some(profile) = fresh {
        return Ok(profile);
    }
    let profile = Arc::new(fetch(hub, &state.province.code).await?);
    *cache()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) =
        Some((url, Instant::now(), Arc::clone(&profile)));
    Ok(profile)
}

fn shown(value: Option<f64>) -> String {
    value.map_or_else(
        || "n.d.".to_owned(),
        |v| pico_service::format::decimal(v, 2),
    )
}

/// The latest year of the total series with the Province's value.
fn latest(pi: &ProfileIndicator) -> Option<Point> {
    let total = pi
        .series
        .iter()
        .find(|s| s.sex == "totale")
        .or(pi.series.first())?;
    total
        .points
        .iter()
        .rev()
        .find(|p| p.province.is_some())
        .or(total.points.last())
        .copied()
}

fn profile_body(state: &AppState, hub: &str, profile: &Profile) -> Markup {
    let mut domains: Vec<(&str, &str, Vec<&ProfileIndicator>)> = Vec::new();
    for pi in &profile.indicators {
        let i = &pi.indicator;
        match domains
            .iter_mut()
            .find(|(code, _, _)| *code == i.domain_code)
        {
            Some((_, _, list)) => list.push(pi),
            None => domains.push((i.domain_code.as_str(), i.domain.as_str(), vec![pi])),
        }
    }
    domains.sort_by(|a, b| a.0.cmp(b.0));
    let full = format!("{hub}/bes/province/{}", state.province.code);
    html! {
        p class="lead" {
            "Gli indicatori del benessere equo e sostenibile di " (profile.name) " secondo l'Istat (BES dei territori, edizione "
            (profile.edition) "), ciascuno con l'ultimo anno disponibile, confrontato con " (profile.region) " e con l'Italia."
        }
        p { a href=(full) { "L'andamento di ogni indicatore negli anni, con i grafici, sull'hub nazionale" } }
        @for (code, name, list) in &domains {
            section class="mt-4" aria-labelledby=(format!("dominio-{code}")) {
                h2 id=(format!("dominio-{code}")) class="h4" { (name) }
                div class="table-responsive" role="region" aria-label=(format!("{name}, tabella scorrevole")) tabindex="0" {
                    table class="table table-sm" {
                        caption { (name) ": " (profile.name) ", " (profile.region) " e Italia, totale" }
                        thead { tr {
                            th scope="col" { "Indicatore" } th scope="col" { "Anno" }
                            th scope="col" class="text-end" { (profile.name) }
                            th scope="col" class="text-end" { (profile.region) }
                            th scope="col" class="text-end" { "Italia" }
                        } }
                        tbody {
                            @for pi in list {
                                @let point = latest(pi);
                                tr {
                                    th scope="row" { (pi.indicator.name) br; small { (pi.indicator.unit) } }
                                    td { (point.map_or_else(String::new, |p| p.year.to_string())) }
                                    td class="text-end" { (shown(point.and_then(|p| p.province))) }
                                    td class="text-end" { (shown(point.and_then(|p| p.region))) }
                                    td class="text-end" { (shown(point.and_then(|p| p.italy))) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p class="small mt-4" { (profile.attribution) ", edizione " (profile.edition) ". «n.d.»: valore non disponibile. I dati sono letti dall'hub nazionale e aggiornati ogni cinque minuti." }
    }
}

/// `GET /dati/bes`: the Province's BES profile, from the hub.
pub async fn show_bes(State(state): State<AppState>, identity: Identity) -> Response {
    let hub = state
        .config
        .federation
        .hub_url
        .trim()
        .trim_end_matches('/')
        .to_owned();
    let title = "Benessere equo e sostenibile della Provincia";
    let (status, body) = match profile(&state).await {
        Ok(profile) => (StatusCode::OK, profile_body(&state, &hub, &profile)),
        Err(reason) => {
            let message = match reason {
                Unavailable::NoHub => {
                    "Il nodo non è collegato a un hub nazionale (manca [federation] hub_url nella configurazione): gli indicatori BES dell'Istat si leggono dall'hub."
                }
                Unavailable::NotAtHub => {
                    "L'hub nazionale non ha gli indicatori BES dell'Istat per questa Provincia."
                }
                Unavailable::Unreachable => {
                    "L'hub nazionale non risponde in questo momento: gli indicatori BES dell'Istat non possono essere mostrati. Riprovare tra qualche minuto."
                }
            };
            let status = if reason == Unavailable::Unreachable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            (
                status,
                html! { div class="alert alert-warning" role="status" id="bes-non-disponibile" { p class="mb-0" { (message) } } },
            )
        }
    };
    let main = html! {
        nav aria-label="Percorso" { ol class="breadcrumb" {
            li class="breadcrumb-item" { a href="/dati" { "Dati" } }
            li class="breadcrumb-item active" aria-current="page" { "BES" }
        } }
        h1 { (title) }
        (body)
    };
    (
        status,
        layout::page(&state.chrome(Some(&identity), PATH), title, &main),
    )
        .into_response()
}
