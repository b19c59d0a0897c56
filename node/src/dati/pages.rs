//! The Dati pages: the datasets with their place in the open-data catalogue, and the form
//! of a dataset's DCAT-AP_IT metadata, with the Italian message beside each field to fill
//! before the dataset can be marked open.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_protocol::dcat::{self as vocab, FREQUENCIES, LICENCES, THEMES};
use pico_service::format;
use pico_service::web as layout;

use super::Federation;
use super::catalogue::{read_metadata, save_metadata};
use super::dcat::MetadataForm;
use crate::auth::Identity;
use crate::auth::policy::{Action, authorize};
use crate::db::datasets;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::form::{self, FormState, error_summary, input, select_with, textarea};
use crate::web::{PageForm, check_form_csrf};

/// The datasets page.
pub const DATASETS: &str = "/dati";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(DATASETS, get(show_datasets))
        .route(
            "/dati/dataset/{name}/metadati",
            get(show_metadata).post(submit_metadata),
        )
        .merge(super::bes::router())
}

fn metadata_path(name: &str) -> String {
    format!("/dati/dataset/{name}/metadati")
}

async fn show_datasets(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManageDatasets)?;
    let (list, open) = state
        .db
        .call(|conn| Ok::<_, AppError>((datasets::list(conn)?, datasets::open_names(conn)?)))
        .await?;
    let body = html! {
        h1 { "Dati" }
        p { "I dataset della Provincia. Un dataset aperto entra nel "
            a href="/dati/catalogo.ttl" { "catalogo dei dati aperti (DCAT-AP_IT, Turtle)" }
            " del nodo, disponibile anche in "
            a href="/dati/catalogo.rdf" { "RDF/XML" } " e " a href="/dati/catalogo.jsonld" { "JSON-LD" }
            "; se è pubblicato nella vista nazionale entra anche nel catalogo nazionale dell'UPI. Un dataset interno resta a Pi.Co." }
        p { a href=(super::bes::PATH) { "Gli indicatori BES dell'Istat della Provincia" } ", letti dall'hub nazionale." }
        @if list.is_empty() {
            p { "Nessun dataset: importane uno da file CSV con l'API o la riga di comando." }
        } @else {
            div class="table-responsive" {
                table class="table" {
                    caption class="visually-hidden" { "Dataset della Provincia" }
                    thead { tr {
                        th scope="col" { "Dataset" } th scope="col" { "Righe" }
                        th scope="col" { "Vista nazionale" } th scope="col" { "Catalogo" }
                        th scope="col" { "Ultima modifica" } th scope="col" { "Metadati" }
                    } }
                    tbody {
                        @for dataset in &list {
                            tr {
                                td { (dataset.title) br; small { code { (dataset.name) } } }
                                td { (format::integer(dataset.row_count)) }
                                td { @if dataset.federation == Federation::National { "pubblicato" } @else { "no" } }
                                td { @if open.contains(&dataset.name) { "dato aperto" } @else { "interno" } }
                                td { (format::unix_date(dataset.updated_at)) }
                                td { a href=(metadata_path(&dataset.name)) { "Metadati di " span class="visually-hidden" { (dataset.title) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&state.chrome(Some(&identity), DATASETS), "Dati", &body).into_response())
}

/// The labels of the fields, for the error summary.
const LABELS: [(&str, &str); 13] = [
    ("open", "Dato aperto"),
    ("identifier", "Identificativo"),
    ("title", "Titolo"),
    ("description", "Descrizione"),
    ("themes", "Temi"),
    ("keywords", "Parole chiave"),
    ("contact_point", "Punto di contatto (e-mail)"),
    ("accrual_periodicity", "Frequenza di aggiornamento"),
    ("temporal_start", "Copertura temporale: inizio"),
    ("temporal_end", "Copertura temporale: fine"),
    ("spatial", "Copertura geografica"),
    ("license", "Licenza"),
    ("publisher", "Editore"),
];

fn values_of(form: &MetadataForm) -> form::Values {
    let mut values = form::Values::new();
    values.insert("open".into(), form.open.to_string());
    values.insert("identifier".into(), form.identifier.clone());
    values.insert("title".into(), form.title.clone());
    values.insert("description".into(), form.description.clone());
    values.insert("keywords".into(), form.keywords.join(", "));
    values.insert("contact_point".into(), form.contact_point.clone());
    values.insert(
        "accrual_periodicity".into(),
        form.accrual_periodicity.clone(),
    );
    values.insert(
        "temporal_start".into(),
        form.temporal_start.clone().unwrap_or_default(),
    );
    values.insert(
        "temporal_end".into(),
        form.temporal_end.clone().unwrap_or_default(),
    );
    values.insert("spatial".into(), form.spatial.join(", "));
    values.insert("license".into(), form.license.clone());
    values
}

fn list_of(text: &str) -> Vec<String> {
    text.split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn form_of(pairs: &[(String, String)]) -> MetadataForm {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or(String::new(), |(_, value)| value.clone())
    };
    let optional = |name: &str| Some(field(name)).filter(|v| !v.trim().is_empty());
    MetadataForm {
        open: matches!(field("open").as_str(), "true" | "on"),
        identifier: field("identifier"),
        title: field("title"),
        description: field("description"),
        themes: pairs
            .iter()
            .filter(|(key, _)| key == "themes")
            .map(|(_, value)| value.clone())
            .collect(),
        keywords: list_of(&field("keywords")),
        contact_point: field("contact_point"),
        accrual_periodicity: field("accrual_periodicity"),
        temporal_start: optional("temporal_start"),
        temporal_end: optional("temporal_end"),
        spatial: list_of(&field("spatial")),
        license: field("license"),
    }
}

fn options(scheme: &str, list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(code, label)| (vocab::concept_uri(scheme, code), (*label).to_owned()))
        .collect()
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page's parts, each needed once"
)]
fn metadata_page(
    state: &AppState,
    identity: &Identity,
    name: &str,
    title: &str,
    publisher: &str,
    modified: &str,
    form: &FormState,
    themes: &[String],
    missing: &std::collections::BTreeMap<String, String>,
) -> Markup {
    let csrf = identity.csrf().unwrap_or_default();
    let theme_error = form.error("themes");
    let open_checked = matches!(form.value("open"), "true" | "on");
    let body = html! {
        div class="row" { div class="col-12 col-lg-9" {
            h1 { "Metadati di " (title) }
            p { "Come il dataset " code { (name) } " compare nel catalogo dei dati aperti (profilo DCAT-AP_IT). Editore e titolare: "
                (publisher) ". Ultima modifica dei dati: " (format::iso_date(modified)) "." }
            (error_summary(form, &LABELS))
            @if !form.is_refused() && !missing.is_empty() {
                div class="alert alert-info" role="status" {
                    p class="mb-1" { "Per segnarlo come dato aperto mancano ancora:" }
                    ul class="mb-0" { @for message in missing.values() { li { (message) } } }
                }
            }
            form method="post" action=(metadata_path(name)) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                div class="form-check mb-3" {
                    input class="form-check-input" type="checkbox" id="open" name="open" value="true" checked[open_checked]
                        aria-describedby="open-hint";
                    label class="form-check-label" for="open" { "Dato aperto: pubblicalo nel catalogo con la sua licenza" }
                    small class="form-text d-block" id="open-hint" { "Se non è segnato, il dataset resta interno a Pi.Co. e non compare in nessun catalogo pubblico." }
                }
                (input(form, "identifier", LABELS[1].1, "text", true, Some("Per convenzione codice IPA, due punti e nome, per esempio p_tv:appalti.")))
                (input(form, "title", LABELS[2].1, "text", true, None))
                (textarea(form, "description", LABELS[3].1, 4, true, Some("Che cosa contiene, da dove vengono i dati, come leggerli.")))
                fieldset class="mb-3" aria-describedby=[theme_error.map(|_| "themes-error")] {
                    legend class="fs-6 fw-semibold" { (LABELS[4].1) " *" }
                    @for (i, (code, label)) in THEMES.iter().enumerate() {
                        @let uri = vocab::concept_uri(vocab::THEME_SCHEME, code);
                        div class="form-check" {
                            input class="form-check-input" type="checkbox" id=(format!("themes-{i}")) name="themes" value=(uri)
                                checked[themes.contains(&uri)];
                            label class="form-check-label" for=(format!("themes-{i}")) { (label) }
                        }
                    }
                    @if let Some(message) = theme_error {
                        div class="invalid-feedback d-block" id="themes-error" { (message) }
                    }
                }
                (input(form, "keywords", LABELS[5].1, "text", true, Some("Separate da virgole.")))
                (input(form, "contact_point", LABELS[6].1, "email", true, None))
                (select_with(form, "accrual_periodicity", LABELS[7].1, &options(vocab::FREQUENCY_SCHEME, FREQUENCIES), Some("Scegli la frequenza"), true))
                (input(form, "temporal_start", LABELS[8].1, "date", false, None))
                (input(form, "temporal_end", LABELS[9].1, "date", false, None))
                (input(form, "spatial", LABELS[10].1, "text", false, Some("Codici ISTAT separati da virgole: la Provincia (3 cifre) o i suoi Comuni (6 cifre).")))
                (select_with(form, "license", LABELS[11].1, &options(vocab::LICENCE_SCHEME, LICENCES), Some("Scegli la licenza"), true))
                @if let Some(message) = form.error("publisher") {
                    div class="alert alert-danger" role="alert" { (message) }
                }
                button type="submit" class="btn btn-primary" { "Salva i metadati" }
                " "
                a class="btn btn-link" href=(DATASETS) { "Torna ai dati" }
            }
        } }
    };
    layout::page(
        &state.chrome(Some(identity), DATASETS),
        &format!("Metadati di {title}"),
        &body,
    )
}

async fn show_metadata(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManageDatasets)?;
    let view = read_metadata(&state, name.clone()).await?;
    let form = FormState::with_values(values_of(&view.metadata));
    Ok(metadata_page(
        &state,
        &identity,
        &name,
        &view.metadata.title,
        &view.publisher,
        &view.modified,
        &form,
        &view.metadata.themes,
        &view.missing_for_open,
    )
    .into_response())
}

async fn submit_metadata(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManageDatasets)?;
    let csrf = pairs
        .iter()
        .find(|(key, _)| key == "csrf")
        .map_or("", |(_, value)| value.as_str());
    check_form_csrf(&identity, csrf)?;
    let submitted = form_of(&pairs);
    let outcome = save_metadata(&state, &identity, name.clone(), submitted.clone()).await;
    form::answer(
        outcome,
        |_| axum::response::Redirect::to(DATASETS).into_response(),
        async |error| {
            let view = read_metadata(&state, name.clone()).await?;
            let form = FormState::refused(values_of(&submitted), error);
            Ok(metadata_page(
                &state,
                &identity,
                &name,
                &view.metadata.title,
                &view.publisher,
                &view.modified,
                &form,
                &submitted.themes,
                &view.missing_for_open,
            ))
        },
    )
    .await
}
