//! Server-rendered pages (Bootstrap Italia via `pico_service::web`): the page chrome (its
//! navigation from the module registry), login, dashboard, the change of one's
//! password (`account`); each module's pages live with the module (`helpdesk::pages` …).
//! Errors from page handlers are problem documents turned into readable pages by
//! [`render_problem_pages`].

pub mod account;
pub mod form;
pub mod list;
mod local_path;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use pico_service::web::{self as layout, Chrome, NavLink, icon};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::sessions::{self, LoginError};
use crate::auth::{Identity, Role, password, secrets};
use crate::db;
use crate::error::AppError;
use crate::modules;
use crate::state::AppState;

pub use local_path::LocalPath;

/// The trail of links above a page's title: `trail` the pages above it (label, address),
/// `current` the page itself, marked as the current one.
pub fn breadcrumb(trail: &[(&str, &str)], current: &str) -> Markup {
    html! {
        nav aria-label="Percorso" { ol class="breadcrumb" {
            @for (label, href) in trail {
                li class="breadcrumb-item" { a href=(href) { (label) } }
            }
            li class="breadcrumb-item active" aria-current="page" { (current) }
        } }
    }
}

/// Cookie carrying the login form's CSRF token (double-submit: there is no session yet).
const LOGIN_CSRF_COOKIE: &str = "pico_login_csrf";

/// The page routes.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/login", get(show_login).post(submit_login))
        .route("/logout", post(submit_logout))
        .route("/dashboard", get(show_dashboard))
        .merge(modules::page_routes(state.modules))
        .merge(account::router())
        .route("/stato", get(show_status))
        .route("/api", get(show_api))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            password::gate_pages,
        ))
        .layer(middleware::from_fn_with_state(state, render_problem_pages))
        .layer(middleware::from_fn(layout::flash_layer))
}

/// An url-encoded form of a page. Unlike axum's `Form`, whose rejection is a plain-text 422,
/// a form without its `csrf` field is refused as a CSRF failure (403, shown as a page), and
/// any other unreadable form as a 422 problem.
#[derive(Debug, Clone)]
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<PageForm<T>, AppError> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge
                } else {
                    AppError::invalid_field("form", "il modulo non è stato ricevuto per intero")
                }
            })?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| AppError::Csrf)?;
        if !pairs.iter().any(|(name, _)| name == "csrf") {
            return Err(AppError::Csrf);
        }
        serde_urlencoded::from_bytes(&body)
            .map(PageForm)
            .map_err(|_| {
                AppError::invalid_field(
                    "form",
                    "il modulo non è completo: ricaricare la pagina e riprovare",
                )
            })
    }
}

/// What a query value may hold unencoded: letters, digits and `/ - _ .`, so that
/// `/login?next=/helpdesk/12` stays readable.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// `text` percent-encoded for a query string name or value: the node's one encoder of
/// links (the list kit's links, the login's `next`), so `&`, spaces and accents survive.
pub fn query_value(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

impl AppState {
    /// The page chrome for `identity`, with `current` marking the active navigation link:
    /// Home, the public entries of the modules, then for a signed-in user the dashboard and
    /// the entries the modules' policies let them see.
    pub fn chrome(&self, identity: Option<&Identity>, current: &str) -> Chrome {
        let (public, signed_in) = modules::navigation(self.modules, identity);
        let link = |entry: &modules::NavEntry| {
            NavLink::new(entry.label, entry.path, entry.is_current(current))
        };
        let mut nav = vec![NavLink::new("Home", "/", current == "/")];
        nav.extend(public.iter().map(link));
        if identity.is_some_and(|identity| identity.user.is_some()) {
            nav.push(NavLink::new(
                "Cruscotto",
                "/dashboard",
                current == "/dashboard",
            ));
            nav.extend(signed_in.iter().map(link));
        }
        Chrome {
            site_name: self.province.name.clone(),
            tagline: "Servizi della Provincia per i Comuni".to_owned(),
            nav,
            header_actions: Some(header_actions(identity)),
            ..Chrome::default()
        }
    }
}

/// The slim header's right side: login link, or user name and logout button.
pub fn header_actions(identity: Option<&Identity>) -> Markup {
    match identity.and_then(|identity| identity.user.as_ref().map(|user| (user, identity.csrf()))) {
        Some((user, csrf)) => html! {
            div class="d-flex align-items-center gap-2 text-white" {
                span { (user.display_name) }
                a class="btn btn-sm btn-outline-light" href=(password::PAGE) { "Cambia password" }
                @if let Some(csrf) = csrf {
                    form method="post" action="/logout" class="d-inline" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class="btn btn-sm btn-outline-light" { "Esci" }
                    }
                }
            }
        },
        None => {
            html! { a class="btn btn-primary btn-sm" href="/login" { (icon("it-user", "icon-white icon-sm me-1")) "Accedi" } }
        }
    }
}

/// Checks a form's CSRF token against the session's.
pub fn check_form_csrf(identity: &Identity, sent: &str) -> Result<(), AppError> {
    match identity.csrf() {
        Some(expected) if secrets::constant_time_eq(expected, sent) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// Problem responses from page routes become pages; 401 becomes a redirect to the login.
async fn render_problem_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_owned();
    // The identity, once: the handler finds it in the extensions, and an error page keeps
    // the navigation and the signed-in user of the page it replaces.
    let (mut parts, body) = request.into_parts();
    let identity = Identity::from_request_parts(&mut parts, &state).await.ok();
    if let Some(identity) = &identity {
        parts.extensions.insert(identity.clone());
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to(&format!("/login?next={}", query_value(&path))).into_response();
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    // A person reads the field messages (the detail prefixes them with the field's name,
    // for API clients), or else the detail.
    let problem = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
    let field_messages: Vec<&str> = problem
        .get("errors")
        .and_then(serde_json::Value::as_object)
        .map(|errors| {
            errors
                .values()
                .filter_map(serde_json::Value::as_str)
                .collect()
        })
        .unwrap_or_default();
    let detail = if field_messages.is_empty() {
        problem
            .get("detail")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("Si è verificato un errore.")
            .to_owned()
    } else {
        field_messages.join(" ")
    };
    layout::error_page(&state.chrome(identity.as_ref(), ""), status, &detail)
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

fn login_page(state: &AppState, csrf: &str, next: &LocalPath, error: Option<&str>) -> Markup {
    let body = html! {
        div class="row justify-content-center" { div class="col-12 col-md-6" {
            h1 { "Accedi" }
            @if let Some(error) = error {
                div class="alert alert-danger" role="alert" id="login-error" { (error) }
            }
            form method="post" action="/login" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next.as_str());
                div class="form-group" {
                    label for="username" class="active" { "Nome utente" }
                    input type="text" class="form-control" id="username" name="username" autocomplete="username" required;
                }
                div class="form-group" {
                    label for="password" class="active" { "Password" }
                    input type="password" class="form-control" id="password" name="password" autocomplete="current-password" required;
                }
                button type="submit" class="btn btn-primary" { "Accedi" }
            }
        } }
    };
    layout::page(&state.chrome(None, "/login"), "Accedi", &body)
}

async fn show_login(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> Response {
    let csrf = secrets::random_token(24);
    let next = LocalPath::or_dashboard(query.next.as_deref());
    let mut response = login_page(&state, &csrf, &next, None).into_response();
    set_cookie(
        &mut response,
        &format!(
            "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
            secure_suffix(&state)
        ),
    );
    response
}

fn secure_suffix(state: &AppState) -> &'static str {
    if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The login page's message for a throttled attempt.
fn throttled_message(retry_after_secs: i64) -> String {
    let wait = if retry_after_secs < 60 {
        format!(
            "{retry_after_secs} second{}",
            if retry_after_secs == 1 { "o" } else { "i" }
        )
    } else {
        let minutes = (retry_after_secs + 59) / 60;
        format!("{minutes} minut{}", if minutes == 1 { "o" } else { "i" })
    };
    format!(
        "Troppi tentativi non riusciti da questo indirizzo: per sicurezza il prossimo tentativo \
         sarà possibile tra {wait}."
    )
}

async fn submit_login(
    State(state): State<AppState>,
    identity: Identity,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let cookie_csrf = crate::auth::cookie(&parts, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let PageForm(form) =
        PageForm::<LoginForm>::from_request(Request::from_parts(parts, body), &state).await?;
    if cookie_csrf.is_empty() || !secrets::constant_time_eq(&cookie_csrf, &form.csrf) {
        return Err(AppError::Csrf);
    }
    let next = LocalPath::or_dashboard(Some(&form.next));
    let ip = identity.ip.clone();
    let username = form.username.trim().to_owned();
    let hours = state.config.session_hours;
    let outcome = state
        .db
        .call(move |conn| {
            let now = db::now();
            // A database failure is a 500 (logged once by `AppError`), not "bad credentials".
            match sessions::check_login(conn, &username, &form.password, &ip, now)? {
                Ok(user) => {
                    let session = sessions::create(conn, user.id, hours, now)?;
                    let actor = db::audit::Actor {
                        label: format!("user:{}", user.username),
                        user_id: Some(user.id),
                        ip,
                    };
                    db::audit::record(
                        conn,
                        &actor,
                        "session.login",
                        &format!("user:{}", user.id),
                        &serde_json::json!({}),
                        now,
                    )?;
                    Ok::<_, AppError>(Ok((session, user.must_change_password)))
                }
                Err(err) => Ok(Err(err)),
            }
        })
        .await?;
    match outcome {
        Ok((session, must_change_password)) => {
            let target = if must_change_password {
                password::PAGE
            } else {
                next.as_str()
            };
            let mut response = Redirect::to(target).into_response();
            let max_age = i64::from(hours) * 3600;
            set_cookie(
                &mut response,
                &sessions::cookie_header(
                    &session.cookie_value,
                    max_age,
                    state.config.secure_cookies(),
                ),
            );
            Ok(response)
        }
        Err(err) => {
            let (status, message) = match err {
                LoginError::BadCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "Nome utente o password non validi.".to_owned(),
                ),
                LoginError::Throttled { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    throttled_message(retry_after_secs),
                ),
            };
            // A 401 here is a page, not a redirect: render it directly (no problem document).
            let mut response = (
                status,
                login_page(&state, &form.csrf, &next, Some(&message)),
            )
                .into_response();
            if let LoginError::Throttled { retry_after_secs } = err {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Ok(response)
        }
    }
}

use axum::extract::FromRequestParts as _;

/// A form that is only a button: its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The token, checked with [`check_form_csrf`].
    pub csrf: String,
}

async fn submit_logout(
    State(state): State<AppState>,
    identity: Identity,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let cookie = crate::auth::cookie(&parts, crate::auth::SESSION_COOKIE);
    let PageForm(form) =
        PageForm::<CsrfForm>::from_request(Request::from_parts(parts, body), &state).await?;
    check_form_csrf(&identity, &form.csrf)?;
    if let Some(cookie) = cookie {
        let actor = identity.actor();
        state
            .db
            .call(move |conn| {
                let now = db::now();
                db::people::delete_session(conn, &secrets::sha256_hex(&cookie))?;
                db::audit::record(
                    conn,
                    &actor,
                    "session.logout",
                    &actor.label,
                    &serde_json::json!({}),
                    now,
                )?;
                Ok::<_, AppError>(())
            })
            .await?;
    }
    let mut response = Redirect::to("/").into_response();
    set_cookie(
        &mut response,
        &sessions::cookie_header("", 0, state.config.secure_cookies()),
    );
    Ok(response)
}

async fn show_dashboard(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    crate::auth::policy::authorize(&identity, crate::auth::policy::Action::ViewDashboard)?;
    let user = identity.require_user()?;
    let mut titles = Vec::new();
    for role in user.roles.to_vec() {
        titles.push(match role {
            Role::Admin => "Amministratore della Provincia".to_owned(),
            Role::Operator(module) => modules::operator_title(state.modules, module),
            Role::Comune(code) => {
                let name = state
                    .db
                    .call(move |conn| {
                        db::comuni::name_of(conn, code.as_str()).map_err(AppError::from)
                    })
                    .await?
                    .unwrap_or_default();
                format!("Comune di {name}")
            }
        });
    }
    let role_text = titles.join(", ");
    // Each module says what it has for this person; the dashboard only lays them out.
    let sections = modules::dashboard_cards(state.modules, &state, &identity).await?;
    // The registry's links (what each module's policy lets this role open) follow the cards.
    let links = modules::dashboard(state.modules, &user.roles);
    let body = html! {
        h1 { "Cruscotto" }
        p { "Benvenuto, " strong { (user.display_name) } " — " (role_text) "." }
        @if sections.is_empty() && links.is_empty() {
            p { "I servizi del tuo modulo saranno disponibili nelle prossime versioni." }
        }
        @for section in &sections { (section) }
        @if !links.is_empty() {
            section aria-labelledby="collegamenti" class="my-4" {
                h2 id="collegamenti" class="h4" { "Collegamenti rapidi" }
                ul class="link-list" {
                    @for link in &links { li { a class="list-item" href=(link.href) { (link.label) } } }
                }
            }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/dashboard"),
        "Cruscotto",
        &body,
    ))
}

/// Unknown paths: a page for browsers, a problem for API clients.
pub async fn fallback(
    State(state): State<AppState>,
    identity: Result<Identity, AppError>,
    request: Request,
) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !request.uri().path().starts_with("/v1/") {
        layout::error_page(
            &state.chrome(identity.ok().as_ref(), ""),
            StatusCode::NOT_FOUND,
            "La pagina richiesta non esiste.",
        )
    } else {
        AppError::NotFound.into_response()
    }
}

/// `GET /stato`: the human status page (machines read `/status`, `/readyz`, `/metrics`).
async fn show_status(State(state): State<AppState>, identity: Identity) -> Response {
    let ready = state.db.is_ready().await;
    layout::status_page(
        &state.chrome(Some(&identity), "/stato"),
        ready,
        env!("CARGO_PKG_VERSION"),
    )
}

/// `GET /api`: what the node's API offers and where its OpenAPI document is.
async fn show_api(State(state): State<AppState>, identity: Identity) -> Markup {
    layout::api_page(
        &state.chrome(Some(&identity), "/api"),
        "/v1/openapi.json",
        "Il nodo offre ai Comuni e ai sistemi della Provincia un'API REST per l'Help Desk, la Stazione Unica Appaltante, i dati, le buone pratiche e le reti tematiche.",
    )
}

/// A file to be saved (attachments): see [`pico_service::download`].
pub fn download(content_type: &str, filename: &str, data: Vec<u8>) -> Response {
    pico_service::download::attachment(content_type, filename, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breadcrumb_links_the_trail_and_marks_the_current_page() {
        let html = breadcrumb(
            &[("SUA", "/sua"), ("Procedura n. 4", "/sua/procedure/4")],
            "Modifica",
        )
        .into_string();
        assert_eq!(
            html,
            "<nav aria-label=\"Percorso\"><ol class=\"breadcrumb\">\
             <li class=\"breadcrumb-item\"><a href=\"/sua\">SUA</a></li>\
             <li class=\"breadcrumb-item\"><a href=\"/sua/procedure/4\">Procedura n. 4</a></li>\
             <li class=\"breadcrumb-item active\" aria-current=\"page\">Modifica</li></ol></nav>"
        );
    }
}
