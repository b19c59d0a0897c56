//! Pages of the thematic networks (Bootstrap Italia): the list with join/leave buttons,
//! a network's threads with a form to open one, a thread with its replies and a reply form,
//! and the quarantine for administrators. Every post shows its originating Province, and its
//! documents, downloadable once this node holds bytes that match what the origin signed.
//! Post bodies are Markdown shown as plain text (escaped, line breaks kept): no HTML from
//! another Province is ever rendered.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::web as layout;

use super::Draft;
use super::api::{self, ThreadView};
use crate::auth::Identity;
use crate::auth::policy::{self, Action};
use crate::error::AppError;
use crate::networks::db::{DocumentState, Post, PostRef};
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::{CsrfForm, PageForm, breadcrumb, check_form_csrf};

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/networks", get(show_networks))
        .route("/networks/quarantine", get(show_quarantine))
        .route("/networks/{network}", get(show_network))
        .route("/networks/{network}/join", post(submit_join))
        .route("/networks/{network}/leave", post(submit_leave))
        .route(
            "/networks/{network}/posts",
            post(submit_post).layer(body_limit(api::POST_BODY_LIMIT)),
        )
        .route(
            "/networks/{network}/threads/{origin}/{seq}",
            get(show_thread),
        )
}

/// "Treviso (026)": the ISTAT name of the territorial unit and the code, from the embedded list.
pub fn province_label(code: &str) -> String {
    static NAMES: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut names = BTreeMap::new();
        let mut reader = csv::Reader::from_reader(crate::db::comuni::ISTAT_COMUNI_CSV.as_bytes());
        for record in reader.records().flatten() {
            if let (Some(code), Some(name)) = (record.get(10), record.get(8)) {
                names
                    .entry(code.to_owned())
                    .or_insert_with(|| name.to_owned());
            }
        }
        names
    });
    match names.get(code) {
        Some(name) => format!("{name} ({code})"),
        None => format!("Provincia {code}"),
    }
}

fn thread_url(network: &str, origin: &str, seq: u64) -> String {
    format!("/networks/{network}/threads/{origin}/{seq}")
}

async fn show_networks(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let list = api::load_networks(&state, &identity).await?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let hub = !state.config.federation.hub_url.trim().is_empty();
    let body = html! {
        h1 { "Reti tematiche" }
        p class="lead" { "Le reti tra le Province ospitate dall'hub UPI: discussioni, domande e risposte tra gli uffici." }
        @if !hub {
            div class="alert alert-warning" role="alert" { "Nessun hub configurato: non è possibile aderire alle reti né ricevere messaggi." }
        }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" {
            caption { "Reti e adesione della " (state.province.name) }
            thead { tr { th scope="col" { "Rete" } th scope="col" { "Adesione" } th scope="col" { "Messaggi" } th scope="col" { "Azioni" } } }
            tbody {
                @for net in &list.items {
                    tr {
                        th scope="row" { a href=(format!("/networks/{}", net.network)) { (net.label) } " " small { code { (net.network) } } }
                        td { @if net.member { span class="badge bg-success" { "Aderente" } @if let Some(at) = &net.joined_at { " " small { "dal " (fmt::rfc3339(at)) } } } @else { span class="badge bg-secondary" { "Non aderente" } } }
                        td { (net.posts) }
                        td {
                            @if net.can_manage && hub {
                                @let (action, label, class) = if net.member { ("leave", "Lascia la rete", "btn btn-outline-danger btn-sm") } else { ("join", "Aderisci", "btn btn-primary btn-sm") };
                                form method="post" action=(format!("/networks/{}/{action}", net.network)) class="d-inline" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" class=(class) aria-label=(format!("{label}: {}", net.label)) { (label) }
                                }
                            }
                        }
                    }
                }
            }
        } }
        p { small { "Posta in arrivo: " (list.inbox.received) " messaggi ricevuti, " (list.inbox.quarantined) " in quarantena; ultimo aggiornamento " (list.inbox.last_pull_at.as_deref().map_or_else(|| "—".to_owned(), fmt::rfc3339)) "." } }
        @if policy::authorize(&identity, Action::ViewNetworkQuarantine).is_ok() {
            p { a href="/networks/quarantine" { "Messaggi in quarantena" } }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/networks"),
        "Reti tematiche",
        &body,
    ))
}

async fn submit_join(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    api::change_membership(&state, &identity, &network, true).await?;
    Ok(layout::redirect_with_flash(
        "/networks",
        "Adesione alla rete registrata.",
    ))
}

async fn submit_leave(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    api::change_membership(&state, &identity, &network, false).await?;
    Ok(layout::redirect_with_flash(
        "/networks",
        "La Provincia ha lasciato la rete.",
    ))
}

async fn show_network(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
) -> Result<Markup, AppError> {
    let threads = api::load_threads(&state, &identity, &network).await?;
    let network = super::known(&network)?;
    let list = api::load_networks(&state, &identity).await?;
    let view = list.items.iter().find(|n| n.network == network);
    let can_post = view.is_some_and(|n| n.member && n.can_manage);
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("Reti tematiche", "/networks")], super::label(network)))
        h1 { (super::label(network)) }
        @if threads.is_empty() {
            p { "Nessuna discussione in questa rete." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" {
                caption { "Discussioni, dalla più recente attività" }
                thead { tr { th scope="col" { "Oggetto" } th scope="col" { "Aperta da" } th scope="col" { "Messaggi" } th scope="col" { "Ultima attività" } } }
                tbody {
                    @for thread in &threads {
                        tr {
                            td { a href=(thread_url(network, &thread.origin, thread.seq)) { @if thread.subject.is_empty() { "(oggetto non ancora ricevuto)" } @else { (thread.subject) } } }
                            td { (province_label(&thread.origin)) }
                            td { (thread.posts) }
                            td { (fmt::rfc3339(&thread.last_activity_at)) }
                        }
                    }
                }
            } }
        }
        @if can_post {
            h2 { "Apri una discussione" }
            form method="post" action=(format!("/networks/{network}/posts")) enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                div class="form-group" {
                    label for="subject" class="active" { "Oggetto" }
                    input type="text" class="form-control" id="subject" name="subject" required maxlength="200";
                }
                div class="form-group" {
                    label for="body" class="active" { "Testo" }
                    textarea class="form-control" id="body" name="body" rows="6" required {}
                }
                (documents_input())
                button type="submit" class="btn btn-primary" { "Pubblica" }
            }
        } @else if view.is_some_and(|n| !n.member) {
            p { "La Provincia non aderisce a questa rete: per scrivere occorre aderire." }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/networks"),
        super::label(network),
        &body,
    ))
}

/// The file input of the post forms.
fn documents_input() -> Markup {
    html! {
        div class="mb-3" {
            label for="attachment" class="form-label" {
                "Documenti (facoltativi: al massimo " (super::MAX_DOCUMENTS) ", " (super::MAX_DOCUMENT_BYTES / (1024 * 1024))
                " MB ciascuno; PDF, immagini, testo, documenti office). Le altre Province della rete li ricevono con il messaggio."
            }
            input type="file" class="form-control" id="attachment" name="attachment" multiple;
        }
    }
}

fn post_card(network: &str, post: &Post, own: &str) -> Markup {
    html! {
        article class="card card-bg mb-3" id=(format!("post-{}-{}", post.origin, post.seq)) {
            div class="card-body" {
                p class="card-text mb-1" {
                    strong { (province_label(&post.origin)) }
                    @if post.origin == own { " " span class="badge bg-primary" { "questa Provincia" } }
                    " · " small { time datetime=(post.signed_at) { (fmt::rfc3339(&post.signed_at)) } }
                    @if let Some(reply) = &post.reply_to {
                        " · " small { "in risposta a " a href=(format!("#post-{}-{}", reply.origin, reply.seq)) { "messaggio della " (province_label(&reply.origin)) } }
                    }
                }
                div class="card-text" style="white-space: pre-wrap" { (post.body) }
                @if !post.attachments.is_empty() {
                    div class="mt-3" {
                        p class="mb-1" { small { "Documenti della " (province_label(&post.origin)) } }
                        ul class="list-unstyled mb-0 post-documents" {
                            @for doc in &post.attachments {
                                li {
                                    @match doc.state {
                                        DocumentState::Available => {
                                            a href=(format!("/v1/networks/{network}/posts/{}/{}/attachments/{}", post.origin, post.seq, doc.position)) download=(doc.name) { (doc.name) }
                                            " " small { "(" (doc.media_type) ", " (doc.size) " byte)" }
                                        }
                                        DocumentState::Pending => {
                                            (doc.name) " " span class="badge bg-secondary" { "In arrivo dall'hub" }
                                        }
                                        DocumentState::Refused => {
                                            (doc.name) " " span class="badge bg-danger" { "Rifiutato" }
                                            " " small { "il contenuto ricevuto non corrisponde a quello firmato dalla Provincia di origine" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn show_thread(
    State(state): State<AppState>,
    identity: Identity,
    Path((network, origin, seq)): Path<(String, String, u64)>,
) -> Result<Markup, AppError> {
    let thread: ThreadView = api::load_thread(&state, &identity, &network, origin, seq).await?;
    let network = super::known(&network)?;
    let list = api::load_networks(&state, &identity).await?;
    let can_post = list
        .items
        .iter()
        .any(|n| n.network == network && n.member && n.can_manage);
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let own = state.province.code.clone();
    let title = if thread.subject.is_empty() {
        "Discussione".to_owned()
    } else {
        thread.subject.clone()
    };
    let body = html! {
        (breadcrumb(&[("Reti tematiche", "/networks"), (super::label(network), &format!("/networks/{network}"))], &title))
        h1 { (title) }
        p { "Aperta da " strong { (province_label(&thread.origin)) } }
        section aria-label="Messaggi" {
            @for post in &thread.posts { (post_card(network, post, &own)) }
        }
        @if can_post {
            h2 { "Rispondi" }
            form method="post" action=(format!("/networks/{network}/posts")) enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="thread_origin" value=(thread.origin);
                input type="hidden" name="thread_seq" value=(thread.seq);
                div class="mb-3" {
                    label for="reply_to" class="form-label" { "In risposta a" }
                    select class="form-select" id="reply_to" name="reply_to" {
                        @for post in &thread.posts {
                            option value=(format!("{}/{}", post.origin, post.seq)) { (province_label(&post.origin)) ", " (fmt::rfc3339(&post.signed_at)) }
                        }
                    }
                }
                div class="form-group" {
                    label for="body" class="active" { "Testo della risposta" }
                    textarea class="form-control" id="body" name="body" rows="5" required {}
                }
                (documents_input())
                button type="submit" class="btn btn-primary" { "Rispondi" }
            }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/networks"),
        &title,
        &body,
    ))
}

/// The post forms: `csrf`, `subject` (new thread) or `thread_origin`, `thread_seq` and
/// `reply_to` (`origin/seq`), `body`, and any number of `attachment` files.
async fn submit_post(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let form = MultipartForm::read(multipart, "attachment").await?;
    check_form_csrf(&identity, &form.field("csrf"))?;
    let thread_seq = form.field("thread_seq").trim().parse::<u64>().ok();
    let thread = Some(form.field("thread_origin"))
        .filter(|origin| !origin.is_empty())
        .zip(thread_seq)
        .map(|(origin, seq)| PostRef { origin, seq });
    let reply_to = form.fields.get("reply_to").and_then(|text| {
        let (origin, seq) = text.split_once('/')?;
        Some(PostRef {
            origin: origin.to_owned(),
            seq: seq.parse().ok()?,
        })
    });
    let draft = Draft {
        subject: form.fields.get("subject").cloned(),
        body: form.field("body"),
        thread,
        reply_to,
        documents: super::check_documents(form.files)?,
    };
    let created = api::submit_post(&state, &identity, &network, draft).await?;
    let target = format!(
        "{}#post-{}-{}",
        thread_url(&created.network, &created.thread.origin, created.thread.seq),
        created.origin,
        created.seq
    );
    Ok(layout::redirect_with_flash(
        &target,
        "Messaggio pubblicato nella rete.",
    ))
}

async fn show_quarantine(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let items = api::load_quarantine(&state, &identity).await?;
    let body = html! {
        (breadcrumb(&[("Reti tematiche", "/networks")], "Quarantena"))
        h1 { "Messaggi in quarantena" }
        p { "Messaggi ricevuti dall'hub che non hanno superato la verifica della firma della Provincia di origine: non sono mostrati nelle reti. Il contenuto resta conservato come prova." }
        @if items.is_empty() {
            p { "Nessun messaggio in quarantena." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table table-sm" {
                caption { "Messaggi in quarantena, dal più recente" }
                thead { tr { th scope="col" { "Ricevuto" } th scope="col" { "Origine dichiarata" } th scope="col" { "Rete" } th scope="col" { "Codice" } th scope="col" { "Motivo" } th scope="col" { "Rilasciato" } } }
                tbody {
                    @for item in &items {
                        tr {
                            td { (fmt::rfc3339(&item.received_at)) }
                            td { (province_label(&item.origin)) ", seq " (item.seq) }
                            td { (item.network) }
                            td { code { (item.code) } }
                            td { (item.reason) }
                            td { (item.released_at.as_deref().map_or_else(|| "—".to_owned(), fmt::rfc3339)) }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/networks"),
        "Quarantena",
        &body,
    ))
}
