//! Server-rendered pages (Bootstrap Italia via `pico_service::web`): the page chrome (its
//! navigation from the module registry), public home, login, dashboard; each module's pages
//! live with the module (`helpdesk::pages` …). Errors from page handlers are problem
//! documents turned into readable pages by [`render_problem_pages`].

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::web::{self as layout, Chrome, NavLink, icon};
use serde::Deserialize;

use crate::auth::sessions::{self, LoginError};
use crate::auth::{Identity, Role, secrets};
use crate::db;
use crate::error::AppError;
use crate::modules;
use crate::state::AppState;

/// Cookie carrying the login form's CSRF token (double-submit: there is no session yet).
const LOGIN_CSRF_COOKIE: &str = "pico_login_csrf";

/// The page routes.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(show_home))
        .route("/login", get(show_login).post(submit_login))
        .route("/logout", post(submit_logout))
        .route("/dashboard", get(show_dashboard))
        .merge(modules::page_routes(state.modules))
        .layer(middleware::from_fn_with_state(state, render_problem_pages))
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
        }
    }
}

/// The slim header's right side: login link, or user name and logout button.
pub fn header_actions(identity: Option<&Identity>) -> Markup {
    match identity.and_then(|identity| identity.user.as_ref().map(|user| (user, identity.csrf()))) {
        Some((user, csrf)) => html! {
            div class="d-flex align-items-center gap-2 text-white" {
                span { (user.display_name) }
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
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to(&format!("/login?next={}", urlencode(&path))).into_response();
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| {
            value
                .get("detail")
                .and_then(|d| d.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Si è verificato un errore.".to_owned());
    layout::error_page(&state.chrome(None, ""), status, &detail)
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn show_home(State(state): State<AppState>, identity: Identity) -> Result<Markup, AppError> {
    let comuni = state
        .db
        .call(|conn| db::comuni::list(conn, None, 1000).map_err(AppError::from))
        .await?;
    let body = html! {
        h1 { (state.province.name) }
        p class="lead" { "Il nodo Pi.Co. della " (state.province.name) " offre ai suoi " (comuni.len()) " Comuni i servizi associati della Provincia." }
        section aria-labelledby="servizi" class="my-4" {
            h2 id="servizi" { "Servizi" }
            div class="row" {
                @for card in state.modules.iter().filter_map(|kit| kit.home) {
                    div class="col-12 col-md-6 col-lg-3 mb-3" {
                        div class="card card-bg h-100" { div class="card-body" {
                            h3 class="card-title h5" { a href=(card.href) { (card.title) } }
                            p class="card-text" { (card.text) }
                        } }
                    }
                }
            }
        }
        section aria-labelledby="comuni" {
            h2 id="comuni" { "Comuni" }
            table class="table table-sm" {
                caption { "Comuni della " (state.province.name) " (Fonte: Istat)" }
                thead { tr { th scope="col" { "Codice ISTAT" } th scope="col" { "Comune" } th scope="col" { "Codice catastale" } } }
                tbody {
                    @for comune in &comuni {
                        tr { td { (comune.code) } td { (comune.name) } td { (comune.cadastral_code) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/"),
        &state.province.name,
        &body,
    ))
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

fn login_page(state: &AppState, csrf: &str, next: &str, error: Option<&str>) -> Markup {
    let body = html! {
        div class="row justify-content-center" { div class="col-12 col-md-6" {
            h1 { "Accedi" }
            @if let Some(error) = error {
                div class="alert alert-danger" role="alert" id="login-error" { (error) }
            }
            form method="post" action="/login" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
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
    let next = safe_next(query.next.as_deref());
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

/// Only local paths, so the login cannot be used as an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/dashboard".to_owned(),
    }
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
    next: String,
    username: String,
    password: String,
}

async fn submit_login(
    State(state): State<AppState>,
    identity: Identity,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let cookie_csrf = crate::auth::cookie(&parts, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let Form(form) = Form::<LoginForm>::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|_| AppError::invalid_field("username", "the form is incomplete"))?;
    if cookie_csrf.is_empty() || !secrets::constant_time_eq(&cookie_csrf, &form.csrf) {
        return Err(AppError::Csrf);
    }
    let ip = identity.ip.clone();
    let username = form.username.trim().to_owned();
    let hours = state.config.session_hours;
    let outcome = state
        .db
        .call(move |conn| {
            let now = db::now();
            match sessions::check_login(conn, &username, &form.password, &ip, now) {
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
                    Ok::<_, AppError>(Ok(session))
                }
                Err(err) => Ok(Err(err)),
            }
        })
        .await?;
    match outcome {
        Ok(session) => {
            let mut response = Redirect::to(&safe_next(Some(&form.next))).into_response();
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
            let message = match err {
                LoginError::BadCredentials => "Nome utente o password non validi.",
                LoginError::Throttled => {
                    "Troppi tentativi non riusciti: riprova tra qualche minuto."
                }
            };
            let status = if err == LoginError::Throttled {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            // A 401 here is a page, not a redirect: render it directly (no problem document).
            let mut response = (
                status,
                login_page(
                    &state,
                    &form.csrf,
                    &safe_next(Some(&form.next)),
                    Some(message),
                ),
            )
                .into_response();
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

use axum::extract::FromRequest as _;

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn submit_logout(
    State(state): State<AppState>,
    identity: Identity,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let cookie = crate::auth::cookie(&parts, crate::auth::SESSION_COOKIE);
    let Form(form) = Form::<CsrfForm>::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|_| AppError::Csrf)?;
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
    let role_text = match &user.role {
        Role::Admin => "Amministratore della Provincia".to_owned(),
        Role::Operator(module) => modules::operator_title(state.modules, *module),
        Role::Comune(code) => {
            let code_text = code.as_str().to_owned();
            let name = state
                .db
                .call(move |conn| db::comuni::name_of(conn, &code_text).map_err(AppError::from))
                .await?
                .unwrap_or_default();
            format!("Comune di {name}")
        }
    };
    let links = modules::dashboard(state.modules, &user.role);
    let body = html! {
        h1 { "Cruscotto" }
        p { "Benvenuto, " strong { (user.display_name) } " — " (role_text) "." }
        @if links.is_empty() {
            p { "I servizi di questo modulo saranno disponibili nelle prossime versioni." }
        } @else {
            ul class="link-list" {
                @for link in &links { li { a class="list-item" href=(link.href) { (link.label) } } }
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
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !request.uri().path().starts_with("/v1/") {
        layout::error_page(
            &state.chrome(None, ""),
            StatusCode::NOT_FOUND,
            "La pagina richiesta non esiste.",
        )
    } else {
        AppError::NotFound.into_response()
    }
}

/// A response body from bytes with a content type (attachments).
pub fn download(content_type: &str, filename: &str, data: Vec<u8>) -> Response {
    let mut response = Body::from(data).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        filename.replace('"', "")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
