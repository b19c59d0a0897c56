//! The operators' area (`/operatore`): enrolment and revocation of the Provinces' keys, the
//! keys on record and the equivocations kept as evidence. Reached with the operator token,
//! kept in an HttpOnly, SameSite=Strict cookie; not in the menu where no token is configured.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use pico_protocol::{KeyId, ProvinceCode, PublicKey};
use serde::Deserialize;

use super::{error_page, failure_page, render, scroll_table};
use crate::db::registry;
use crate::db::{keys, log};
use crate::error::HubError;
use crate::format;
use crate::state::AppState;

/// The area's path.
pub const PATH: &str = "/operatore";

/// The login page's path.
pub const LOGIN_PATH: &str = "/operatore/accesso";

/// Cookie carrying the operator token for the operator pages.
const OPERATOR_COOKIE: &str = "pico_operator";

fn operator_token_from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == OPERATOR_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn is_operator(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = state.config.operator_token.expose();
    !expected.is_empty()
        && operator_token_from_cookie(headers).is_some_and(|given| {
            given.len() == expected.len()
                && given
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}

/// The login page of the operator area.
pub async fn show_login(State(state): State<AppState>) -> Response {
    if state.config.operator_token.is_empty() {
        return error_page(
            &state,
            PATH,
            StatusCode::NOT_FOUND,
            "L'area operatori non è attiva su questo hub.",
        );
    }
    let main = html! {
        h1 { "Accesso operatori" }
        form method="post" action="/operatore/accesso" class="my-3" {
            div class="form-group" {
                label for="token" class="active" { "Token operatore" }
                input type="password" id="token" name="token" class="form-control" autocomplete="current-password" required;
            }
            button type="submit" class="btn btn-primary" { "Accedi" }
        }
    };
    render(&state, "Accesso operatori", PATH, &main)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Checks the token and sets the operator cookie (HttpOnly, SameSite=Strict, which also keeps
/// other sites from posting the operator forms).
pub async fn log_in(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(cookie) = HeaderValue::from_str(&format!("{OPERATOR_COOKIE}={}", form.token)) {
        headers.insert(header::COOKIE, cookie);
    }
    if !is_operator(&state, &headers) {
        return error_page(
            &state,
            PATH,
            StatusCode::UNAUTHORIZED,
            "Token non valido: controllare il token operatore e riprovare.",
        );
    }
    let cookie = format!(
        "{OPERATOR_COOKIE}={}; Path=/operatore; HttpOnly; SameSite=Strict",
        form.token
    );
    let mut response = Redirect::to(PATH).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The operator area: enrolment and revocation forms, keys and equivocations.
pub async fn show_operator(State(state): State<AppState>, headers: HeaderMap) -> Response {
    operator_page(&state, &headers, None).await
}

async fn operator_page(
    state: &AppState,
    headers: &HeaderMap,
    message: Option<(bool, String)>,
) -> Response {
    if !is_operator(state, headers) {
        return Redirect::to(LOGIN_PATH).into_response();
    }
    let loaded = state
        .db
        .call(|conn| {
            Ok::<_, HubError>((
                registry::list_status(conn)?,
                keys::list(conn)?,
                log::list_equivocations(conn)?,
            ))
        })
        .await;
    let (provinces, key_rows, equivocations) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(state, PATH, error),
    };
    let main = html! {
        h1 { "Area operatori" }
        @if let Some((ok, text)) = &message {
            div class=(if *ok { "alert alert-success" } else { "alert alert-danger" }) role="alert" { (text) }
        }
        h2 { "Adesione di una Provincia" }
        p { "Dopo il protocollo di adesione, registrare la chiave pubblica del nodo (" code { "pico-node key show" } ")." }
        form method="post" action=(PATH) class="row g-3 mb-4" {
            input type="hidden" name="action" value="enrol";
            div class="col-12 col-md-4 select-wrapper" {
                label for="province" { "Provincia" }
                select id="province" name="province" required {
                    @for p in provinces.iter().filter(|p| p.upi) {
                        option value=(p.code) { (p.code) " — " (p.name) }
                    }
                }
            }
            div class="col-12 col-md-6 form-group" {
                label for="key" class="active" { "Chiave pubblica (ed25519:…)" }
                @let key_error = message.as_ref().and_then(|(ok, text)| (!ok && text.starts_with("Chiave non valida")).then_some(text));
                input type="text" id="key" name="key" class="form-control" required spellcheck="false"
                    aria-invalid=[key_error.map(|_| "true")] aria-describedby=[key_error.map(|_| "key-errore")];
                @if let Some(text) = key_error { div class="small text-danger mt-1" id="key-errore" { (text) } }
            }
            div class="col-12 col-md-2 d-flex align-items-end" { button type="submit" class="btn btn-primary" { "Registra" } }
        }
        h2 { "Chiavi" }
        (scroll_table("Tabella delle chiavi", &html! { table class="table table-sm" {
            caption { "Chiavi registrate, con il primo numero di voce valido e l'eventuale revoca" }
            thead { tr { th scope="col" { "Provincia" } th scope="col" { "Identificativo" } th scope="col" { "Valida da" } th scope="col" { "Revocata da" } th scope="col" { "Origine" } th scope="col" { "Azione" } } }
            tbody { @for k in &key_rows { tr {
                td { (k.province) } td { code class="text-break" { (k.kid) } } td { "voce " (k.valid_from) }
                td { @if let Some(r) = k.revoked_from { "voce " (r) } @else { "—" } } td { (origin_label(&k.origin)) }
                td { @if k.revoked_from.is_none() {
                    form method="post" action=(PATH) {
                        input type="hidden" name="action" value="revoke";
                        input type="hidden" name="province" value=(k.province);
                        input type="hidden" name="kid" value=(k.kid);
                        button type="submit" class="btn btn-outline-danger btn-sm" { "Revoca dalla prossima voce" }
                    }
                } }
            } } }
        } }))
        h2 { "Equivocazioni" }
        @if equivocations.is_empty() { p { "Nessuna equivocazione registrata." } } @else {
            (scroll_table("Tabella delle equivocazioni", &html! { table class="table table-sm" {
                caption { "Voci diverse firmate con lo stesso numero: entrambe sono conservate come prova" }
                thead { tr { th scope="col" { "Provincia" } th scope="col" { "Voce" } th scope="col" { "Impronta accettata" } th scope="col" { "Impronta ricevuta" } th scope="col" { "Rilevata il" } } }
                tbody { @for e in &equivocations { tr {
                    td { (e.province) } td { (e.seq) } td { code class="text-break" { (e.stored_hash) } } td { code class="text-break" { (e.received_hash) } } td { (format::date_time(&e.detected_at)) }
                } } }
            } }))
        }
    };
    let mut response = render(state, "Area operatori", PATH, &main);
    if message.as_ref().is_some_and(|(ok, _)| !ok) {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// How a key came to be on record.
fn origin_label(origin: &str) -> &str {
    match origin {
        "enrolment" => "Adesione (registrata da un operatore)",
        "rotation" => "Rotazione (annunciata dalla Provincia con la chiave precedente)",
        other => other,
    }
}

/// The Italian message of a refused enrolment or revocation.
fn refusal(error: &keys::KeyAdminError) -> String {
    match error {
        keys::KeyAdminError::UnknownProvince(code) => {
            format!("La Provincia {code} non è nell'elenco ISTAT.")
        }
        keys::KeyAdminError::AlreadyEnrolled(kid) => {
            format!("La chiave {kid} è già registrata.")
        }
        keys::KeyAdminError::UnknownKey(kid) => {
            format!("La chiave {kid} non è registrata per questa Provincia.")
        }
        keys::KeyAdminError::Db(_) => "Errore interno; è stato registrato.".to_owned(),
    }
}

/// A form of the operator area.
#[derive(Debug, Deserialize)]
pub struct OperatorForm {
    action: String,
    province: String,
    key: Option<String>,
    kid: Option<String>,
}

/// Enrols or revokes a key from the operator forms.
pub async fn act_operator(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<OperatorForm>,
) -> Response {
    if !is_operator(&state, &headers) {
        return Redirect::to(LOGIN_PATH).into_response();
    }
    let Ok(province) = ProvinceCode::parse(&form.province) else {
        return operator_page(
            &state,
            &headers,
            Some((false, "Codice di Provincia non valido.".into())),
        )
        .await;
    };
    let outcome = match form.action.as_str() {
        "enrol" => match form
            .key
            .as_deref()
            .unwrap_or("")
            .trim()
            .parse::<PublicKey>()
        {
            Err(_) => Err(
                "Chiave non valida: incollare la chiave pubblica come la stampa pico-node key show, \
                 nella forma ed25519: seguito da 43 caratteri."
                    .to_owned(),
            ),
            Ok(key) => {
                let _writer = state.writer.lock().await;
                state
                    .db
                    .call(move |conn| {
                        Ok::<_, HubError>(
                            keys::enrol(conn, province, &key).map_err(|e| refusal(&e)),
                        )
                    })
                    .await
                    .map_err(|e| {
                        let _ = e.into_problem();
                        "Errore interno; è stato registrato.".to_owned()
                    })
                    .and_then(|r| r)
                    .map(|record| {
                        format!(
                            "Chiave {} registrata per la Provincia {}: vale dalla voce {}.",
                            record.key.key_id(),
                            province,
                            record.valid_from
                        )
                    })
            }
        },
        "revoke" => match form.kid.as_deref().map(KeyId::parse) {
            Some(Ok(kid)) => {
                let _writer = state.writer.lock().await;
                state
                    .db
                    .call(move |conn| {
                        Ok::<_, HubError>(
                            keys::revoke(conn, province, &kid, None, "revocata dall'operatore")
                                .map_err(|e| refusal(&e)),
                        )
                    })
                    .await
                    .map_err(|e| {
                        let _ = e.into_problem();
                        "Errore interno; è stato registrato.".to_owned()
                    })
                    .and_then(|r| r)
                    .map(|from| format!("Chiave revocata dalla voce {from}."))
            }
            _ => Err("Identificativo di chiave non valido.".into()),
        },
        _ => Err("Azione sconosciuta.".into()),
    };
    if let Ok(text) = &outcome {
        tracing::info!(node.province = %province, action = %form.action, "operator action");
        return operator_page(&state, &headers, Some((true, text.clone()))).await;
    }
    operator_page(
        &state,
        &headers,
        Some((false, outcome.err().unwrap_or_default())),
    )
    .await
}
