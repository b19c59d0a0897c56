//! Partner search across the Provinces, through the SAPE thematic network: a Province
//! publishes "we are looking for partners for call X" and the other Provinces see it on that
//! call's page in their own node, and answer in the network's thread.
//!
//! A search is an ordinary signed post opening a thread in the `sape` network (so every
//! member receives it through the hub, and any node shows it as a thread), whose subject and
//! text say it for people, with one document attached, `ricerca-partner.json`, that says it
//! for nodes: `{"kind": "pico.sape.partner_search", "version": 1, "call_identifier",
//! "call_title", "programme", "profile", "deadline" (YYYY-MM-DD)}`. Answers go in the thread:
//! no contact travels, so no person's address leaves the node. The document
//! is declared in the signed post (name, type, length, SHA-256), so a receiver reads exactly
//! what the origin signed; the format is documented in `protocol/networks/sape_partner_search.md`.

use serde::{Deserialize, Serialize};

use crate::auth::Identity;
use crate::error::AppError;
use crate::networks::db::{self as network_store, PostRef};
use crate::networks::{Document, Draft};
use crate::sape::Day;
use crate::sape::db as store;
use crate::sape::ops::{FieldErrors, optional_text, required_text};
use crate::sape::policy::{self, Action};
use crate::state::AppState;
use pico_service::text::Lines;

/// The network searches travel in.
pub const NETWORK: &str = "sape";

/// The name of the structured document of a search.
pub const DOCUMENT: &str = "ricerca-partner.json";

/// Its `kind`.
pub const KIND: &str = "pico.sape.partner_search";

/// The searches a call's page reads at most (newest first).
const MAX_READ: u32 = 500;

/// The structured document of a search, as signed by its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerSearch {
    /// Always [`KIND`].
    pub kind: String,
    /// Version of this document's format: 1.
    pub version: u32,
    /// The call's identifier in the EU portal (`HORIZON-CL5-2024-D3-01-01`) or the one the
    /// origin gave it.
    pub call_identifier: String,
    /// The call's title.
    pub call_title: String,
    /// The programme's code (`horizon_europe`).
    pub programme: String,
    /// The partner sought: kind of body, country, competences, role.
    pub profile: String,
    /// The last day to answer, `YYYY-MM-DD`.
    pub deadline: String,
}

/// Body of `POST /v1/sape/calls/{id}/partner-searches`, and the page's form.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartnerSearch {
    /// The partner sought (at most 2,000 characters).
    pub profile: String,
    /// The last day to answer: `YYYY-MM-DD` or `DD/MM/YYYY`, not in the past.
    pub deadline: String,
}

/// A search as a call's page and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerSearchView {
    /// ISTAT code of the Province looking for partners.
    pub province: String,
    /// Its name and code, as people read it.
    pub province_name: String,
    /// The thread's opening post, where to answer: `/networks/sape/threads/{origin}/{seq}`.
    pub seq: u64,
    /// The partner sought.
    pub profile: String,
    /// Last day to answer, `YYYY-MM-DD`.
    pub deadline: String,
    /// Whether the deadline is today or later.
    pub open: bool,
    /// Whether this Province published it.
    pub own: bool,
    /// When the origin signed it, RFC 3339 UTC.
    pub published_at: String,
}

/// Checks a search for `call` into its document.
fn check(
    input: &NewPartnerSearch,
    call: &store::CallRow,
    today: Day,
) -> Result<PartnerSearch, AppError> {
    let mut errors = FieldErrors::default();
    let profile = errors.check("profile", profile_text(&input.profile));
    let deadline = match Day::parse(&input.deadline) {
        Ok(day) if day < today => {
            errors.add(
                "deadline",
                "La scadenza per rispondere non può essere già passata.",
            );
            None
        }
        Ok(day) => Some(day),
        Err(message) => {
            errors.add("deadline", message);
            None
        }
    };
    errors.finish()?;
    Ok(PartnerSearch {
        kind: KIND.to_owned(),
        version: 1,
        call_identifier: call.record.identifier.clone(),
        call_title: call.record.title.clone(),
        programme: call.record.programme.as_str().to_owned(),
        profile: profile.unwrap_or_default(),
        deadline: deadline.map(Day::iso).unwrap_or_default(),
    })
}

fn profile_text(text: &str) -> Result<String, String> {
    let cleaned = optional_text(text, 2000, Lines::Many)?;
    if cleaned.is_empty() {
        required_text("", 2000)
    } else {
        Ok(cleaned)
    }
}

/// The post that carries `search`: a subject and text for people, the document for nodes.
fn draft(search: &PartnerSearch) -> Result<Draft, AppError> {
    let deadline = Day::parse(&search.deadline)
        .map(Day::italian)
        .unwrap_or_else(|_| search.deadline.clone());
    let body = format!(
        "Cerchiamo partner per il bando {} — {}.\n\nProfilo cercato: {}\n\nRispondete in questa discussione entro il {deadline}.",
        search.call_identifier, search.call_title, search.profile
    );
    let data = serde_json::to_vec(search).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Draft {
        subject: Some(format!("Ricerca partner: {}", search.call_identifier)),
        body,
        thread: None,
        reply_to: None,
        documents: vec![Document {
            filename: DOCUMENT.to_owned(),
            media_type: "application/json".to_owned(),
            data,
        }],
    })
}

/// Publishes a search for partners on call `call` in the SAPE network (SAPE staff): 409
/// when this Province is not a member of the network.
pub async fn publish(
    state: &AppState,
    identity: &Identity,
    call: i64,
    input: NewPartnerSearch,
) -> Result<PostRef, AppError> {
    policy::authorize(identity, Action::ManageCalls)?;
    let row = state
        .db
        .call(move |conn| Ok::<_, AppError>(store::get_call(conn, call)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let search = check(&input, &row, Day::today())?;
    let draft = draft(&search)?;
    let signer = state.signer.clone();
    let actor = identity.actor();
    let posted = state
        .db
        .call(move |conn| {
            crate::networks::post(conn, &signer, &actor, NETWORK, &draft).map_err(AppError::from)
        })
        .await?;
    state.wake.notify();
    Ok(posted)
}

/// The searches for the call identified by `identifier` that reached this node (its own
/// included), the open ones first, then by deadline.
pub async fn for_call(
    state: &AppState,
    identity: &Identity,
    identifier: &str,
) -> Result<Vec<PartnerSearchView>, AppError> {
    policy::authorize(identity, Action::ViewCalls)?;
    let own = state.province.code.clone();
    let identifier = identifier.to_owned();
    let today = Day::today().iso();
    let documents = state
        .db
        .call(|conn| {
            Ok::<_, AppError>(network_store::opening_documents(
                conn, NETWORK, DOCUMENT, MAX_READ,
            )?)
        })
        .await?;
    let mut searches: Vec<PartnerSearchView> = documents
        .into_iter()
        .filter_map(|doc| {
            // A document that does not parse is someone else's format: not a search.
            let search: PartnerSearch = serde_json::from_slice(&doc.data).ok()?;
            (search.kind == KIND && search.call_identifier == identifier).then(|| {
                PartnerSearchView {
                    province_name: crate::networks::pages::province_label(&doc.post.origin),
                    own: doc.post.origin == own,
                    province: doc.post.origin,
                    seq: doc.post.seq,
                    open: search.deadline >= today,
                    profile: search.profile,
                    deadline: search.deadline,
                    published_at: crate::db::rfc3339(doc.signed_at),
                }
            })
        })
        .collect();
    searches.sort_by(|a, b| b.open.cmp(&a.open).then(a.deadline.cmp(&b.deadline)));
    Ok(searches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_round_trips_and_the_post_says_it_in_italian() {
        let search = PartnerSearch {
            kind: KIND.into(),
            version: 1,
            call_identifier: "LIFE-2025-CET-LOCAL".into(),
            call_title: "Local energy".into(),
            programme: "life".into(),
            profile: "Un ente locale spagnolo con esperienza in comunità energetiche".into(),
            deadline: "2026-03-31".into(),
        };
        let draft = draft(&search).unwrap();
        assert_eq!(
            draft.subject.as_deref(),
            Some("Ricerca partner: LIFE-2025-CET-LOCAL")
        );
        assert!(draft.body.contains("entro il 31/03/2026"));
        let document = &draft.documents[0];
        assert_eq!(document.filename, DOCUMENT);
        let read: PartnerSearch = serde_json::from_slice(&document.data).unwrap();
        assert_eq!(read, search);
    }
}
