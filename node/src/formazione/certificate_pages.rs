//! Certificate pages: the public verification (`/attestati`, a form for the code, and
//! `/attestati/{code}`, what the certificate states and whether it is valid, for anyone), the
//! issue of a certificate from an edition's enrolments and its PDF download.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::certificates::{self, CertificateView, hours_italian};
use crate::state::AppState;
use crate::web::form::{FormState, error_summary, input};
use crate::web::{CsrfForm, PageForm, breadcrumb, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attestati", get(show_lookup))
        .route("/attestati/{code}", get(show_certificate))
        .route("/formazione/iscrizioni/{id}/attestato", post(submit_issue))
        .route(
            "/formazione/iscrizioni/{id}/attestato.pdf",
            get(download_pdf),
        )
}

fn page(state: &AppState, identity: &Identity, title: &str, body: &Markup) -> Markup {
    layout::page(&state.chrome(Some(identity), "/attestati"), title, body)
}

#[derive(Debug, Default, Deserialize)]
struct LookupQuery {
    codice: Option<String>,
}

fn lookup_form(form: &FormState) -> Markup {
    html! {
        (error_summary(form, &[("codice", "Codice di verifica")]))
        form method="get" action="/attestati" novalidate id="verify-form" {
            (input(form, "codice", "Codice di verifica", "text", true, Some("Il codice stampato sull'attestato, ad esempio K7QM-2XRA-BOII-7777: maiuscole, minuscole e trattini non contano.")))
            button type="submit" class="btn btn-primary" { "Verifica" }
        }
    }
}

/// The form to type a code; with `?codice=`, its certificate (or the error beside the field).
async fn show_lookup(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<LookupQuery>,
) -> Result<Response, AppError> {
    let mut form = FormState::default();
    if let Some(typed) = query.codice.as_deref().map(str::trim) {
        form.values.insert("codice".into(), typed.to_owned());
        match certificates::normalize_code(typed) {
            Some(code) => {
                return Ok(
                    axum::response::Redirect::to(&format!("/attestati/{code}")).into_response()
                );
            }
            None => {
                form.errors.insert(
                    "codice".into(),
                    "Il codice di verifica è di 16 lettere e cifre, in quattro gruppi di quattro (ad esempio K7QM-2XRA-BOII-7777).".into(),
                );
            }
        }
    }
    let body = html! {
        h1 { "Verifica di un attestato" }
        p class="lead" { "Gli attestati di partecipazione ai corsi di formazione rilasciati da " (state.province.name) " riportano un codice di verifica: inseriscilo per sapere se l'attestato è autentico e valido." }
        (lookup_form(&form))
    };
    let status = if form.errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        page(&state, &identity, "Verifica di un attestato", &body),
    )
        .into_response())
}

/// What a certificate states and whether it is valid: only what the certificate itself shows.
async fn show_certificate(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
) -> Result<Markup, AppError> {
    let view = certificates::verify(&state, &code).await?;
    Ok(page(
        &state,
        &identity,
        &format!("Attestato {}", view.code),
        &certificate_body(&view),
    ))
}

fn certificate_body(view: &CertificateView) -> Markup {
    let d = &view.data;
    let edition = if d.first_day == d.last_day {
        format!("il {}", fmt::iso_date(&d.first_day))
    } else {
        format!(
            "dal {} al {}",
            fmt::iso_date(&d.first_day),
            fmt::iso_date(&d.last_day)
        )
    };
    html! {
        (breadcrumb(&[("Verifica di un attestato", "/attestati")], &view.code))
        h1 { "Attestato " (view.code) }
        @if view.valid {
            div class="alert alert-success" role="status" id="certificate-status" {
                strong { "Attestato valido." } " È stato rilasciato da " (d.issuer) " e i suoi dati corrispondono a quelli firmati."
            }
        } @else {
            div class="alert alert-danger" role="status" id="certificate-status" {
                strong { "Attestato revocato" }
                @if let Some(at) = &view.revoked_at { " il " (fmt::iso_date(at)) }
                "."
                @if !view.revoked_reason.is_empty() { " Motivo: " (view.revoked_reason) }
            }
        }
        dl class="row" id="certificate" {
            dt class="col-sm-4" { "Persona" } dd class="col-sm-8" { (d.person) }
            dt class="col-sm-4" { "Corso" } dd class="col-sm-8" { (d.course) }
            dt class="col-sm-4" { "Settore" } dd class="col-sm-8" { (d.sector) }
            dt class="col-sm-4" { "Edizione" } dd class="col-sm-8" { (edition) }
            dt class="col-sm-4" { "Ore frequentate" } dd class="col-sm-8" { (hours_italian(&d.hours)) }
            dt class="col-sm-4" { "Competenze" } dd class="col-sm-8" {
                @if d.competences.is_empty() { "—" } @else { (d.competences.join("; ")) }
            }
            dt class="col-sm-4" { "Rilasciato il" } dd class="col-sm-8" { (fmt::iso_date(&d.issued_on)) }
            dt class="col-sm-4" { "Rilasciato da" } dd class="col-sm-8" { (d.issuer) }
        }
        h2 class="h5" { "Verifica senza collegarsi" }
        p {
            "I dati dell'attestato sono firmati con la chiave Ed25519 della Provincia (identificativo "
            code class="text-break" { (view.key_id) }
            "). I dati firmati e la firma sono stampati sull'attestato e disponibili in "
            a href=(format!("/v1/formazione/certificates/{}", view.code)) { "formato JSON" }
            ": chiunque abbia la chiave pubblica della Provincia può verificarli con un programma."
        }
    }
}

/// Issues the certificate (the office, or the person's Comune) and returns to the edition.
async fn submit_issue(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let (view, _) = certificates::issue(&state, &identity, id).await?;
    let edition = certificates::edition_of(&state, id).await?;
    Ok(layout::redirect_with_flash(
        &format!("/formazione/edizioni/{edition}"),
        &format!(
            "Attestato di {} rilasciato: codice di verifica {}.",
            view.data.person, view.code
        ),
    ))
}

/// The certificate's PDF (the office, or the person's Comune).
async fn download_pdf(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let view = certificates::of_enrolment(&state, &identity, id).await?;
    Ok(crate::formazione::api::pdf_response(&view))
}

/// The certificate cell of an enrolment in the edition's table: the PDF and the public page
/// once issued, the button to issue it once completed.
pub fn certificate_cell(identity: &Identity, e: &crate::formazione::ops::EnrolmentView) -> Markup {
    html! {
        @if let Some(code) = &e.certificate_code {
            a href=(format!("/formazione/iscrizioni/{}/attestato.pdf", e.id)) class="d-block" aria-label=(format!("Attestato di {} (PDF)", e.name)) { "Attestato (PDF)" }
            a href=(format!("/attestati/{code}")) class="d-block" aria-label=(format!("Verifica dell'attestato di {}", e.name)) { "Verifica " (code) }
        } @else if e.completed && e.state == crate::formazione::EnrolmentState::Enrolled {
            form method="post" action=(format!("/formazione/iscrizioni/{}/attestato", e.id)) class="d-inline" {
                input type="hidden" name="csrf" value=(identity.csrf().unwrap_or_default());
                button type="submit" class="btn btn-sm btn-outline-primary" aria-label=(format!("Rilascia l'attestato di {}", e.name)) { "Rilascia l'attestato" }
            }
        } @else {
            "—"
        }
    }
}
