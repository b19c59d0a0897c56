//! Help Desk: requests from Comuni to the Province, with status, assignee, comments,
//! attachments and an SLA clock. The first module, and the pattern later ones follow:
//! `mod.rs` holds the domain (types, state machine, the operations with their audit
//! events), `api.rs` the JSON routes, `pages.rs` the web pages; SQL is in `helpdesk::db`.

pub mod api;
pub mod db;
pub mod ops;
pub mod pages;
pub mod policy;
pub mod settings;

use crate::attachments::{self, Store};
use crate::labels::labelled_enum;
use crate::lifecycle::{BY_POLICY, Machine, Move, Noun, Tables};
use crate::modules::{Audience, HomeCard, Link, ModuleKit, NavEntry};
use crate::roles::{Module, Role};

labelled_enum! {
    /// Where a request is in its life. Transitions are limited to [`MACHINE`].
    #[derive(PartialOrd, Ord)]
    pub enum Status as "status" {
        /// Opened by the Comune, not yet looked at.
        New = "new" => "Nuova",
        /// The Province is working on it.
        InProgress = "in_progress" => "In lavorazione",
        /// The Province asked the Comune something.
        WaitingForComune = "waiting_for_comune" => "In attesa del Comune",
        /// The Province considers it solved; the Comune can close or reopen it.
        Resolved = "resolved" => "Risolta",
        /// Done. Final.
        Closed = "closed" => "Chiusa",
    }
}

/// The state machine, declared once for the audited lifecycle: new → in_progress →
/// waiting_for_comune ⇄ in_progress → resolved → closed, with resolved → in_progress to
/// reopen and new → closed for requests that need no work (duplicates, mistakes). Who may
/// make each move is the module's policy ([`policy::may_move`]).
pub const MACHINE: Machine<Status> = Machine {
    noun: Noun::feminine("richiesta"),
    tables: Tables {
        records: "helpdesk_requests",
        id_column: "id",
        state_column: "status",
        history: "helpdesk_transitions",
        history_record_column: "request_id",
    },
    audit_action: "helpdesk.transition",
    audit_resource: "helpdesk_request",
    moves: &[
        Move {
            from: &[Status::New, Status::WaitingForComune, Status::Resolved],
            to: Status::InProgress,
            by: BY_POLICY,
        },
        Move {
            from: &[Status::InProgress],
            to: Status::WaitingForComune,
            by: BY_POLICY,
        },
        Move {
            from: &[Status::InProgress, Status::WaitingForComune],
            to: Status::Resolved,
            by: BY_POLICY,
        },
        Move {
            from: &[Status::New, Status::Resolved],
            to: Status::Closed,
            by: BY_POLICY,
        },
    ],
    policy: Some(policy::may_move),
};

impl Status {
    /// Whether [`MACHINE`] has the move to `to`.
    pub fn can_move_to(self, to: Status) -> bool {
        MACHINE.can_move(self, to)
    }

    /// Statuses reachable from this one.
    pub fn next(self) -> Vec<Status> {
        MACHINE.next(self)
    }

    /// Whether the resolution clock has stopped.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

labelled_enum! {
    /// What a request is about.
    pub enum Category as "category" {
        /// IT and digital services.
        Technical = "technical" => "Supporto tecnico e digitale",
        /// Administrative and legal questions.
        Administrative = "administrative" => "Amministrativa e giuridica",
        /// Procurement (SUA).
        Procurement = "procurement" => "Appalti (SUA)",
        /// EU funding (SAPE).
        Funding = "funding" => "Finanziamenti europei (SAPE)",
        /// Personnel and training.
        Personnel = "personnel" => "Personale e formazione",
        /// Anything else.
        Other = "other" => "Altro",
    }
}

/// Attachment content types accepted: documents and images people actually send.
pub const ALLOWED_ATTACHMENT_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
];

/// Where the requests' files are kept, and how they are checked and audited.
pub const ATTACHMENTS: Store = Store {
    table: attachments::Table {
        name: "helpdesk_attachments",
        record_column: "request_id",
        type_column: "content_type",
        uploaded_by_column: None,
    },
    allowed_types: ALLOWED_ATTACHMENT_TYPES,
    field: "attachment",
    audit: Some(("helpdesk.attach", "helpdesk_request")),
};

/// Field limits, checked in [`ops`] for API and web alike.
pub const SUBJECT_MAX: usize = 200;
/// Longest description or comment.
pub const TEXT_MAX: usize = 20_000;

/// The Help Desk's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_requests,
    api::create_request,
    api::get_request,
    api::create_comment,
    api::create_transition,
    api::update_assignee,
    api::export_requests,
    api::create_attachment,
    api::get_attachment,
))]
pub struct HelpdeskApi;

/// The Help Desk in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    operator: Some((Module::Helpdesk, "Operatore Help Desk")),
    api: api::router,
    pages: pages::router,
    openapi: <HelpdeskApi as utoipa::OpenApi>::openapi,
    nav: Some(NavEntry {
        label: "Help Desk",
        path: "/helpdesk",
        covers_subpaths: false,
        audience: Audience::SignedIn(policy::sees_requests),
    }),
    dashboard: dashboard_links,
    cards: Some(pages::cards),
    home: Some(HomeCard {
        title: "Help Desk",
        text: "Richieste di supporto dei Comuni alla Provincia, con tempi di risposta garantiti.",
        href: "/helpdesk",
    }),
    ..ModuleKit::new("helpdesk")
};

fn dashboard_links(role: &Role) -> Vec<Link> {
    match role {
        Role::Admin => vec![
            Link::new("Help Desk: tutte le richieste", "/helpdesk"),
            Link::new("Richieste in ritardo", "/helpdesk?overdue=true"),
        ],
        Role::Operator(Module::Helpdesk) => vec![
            Link::new("Richieste nuove", "/helpdesk?status=new"),
            Link::new("Richieste in ritardo", "/helpdesk?overdue=true"),
            Link::new("Tutte le richieste", "/helpdesk"),
        ],
        Role::Operator(_) => vec![],
        Role::Comune(_) => vec![
            Link::new("Le richieste del Comune", "/helpdesk"),
            Link::new("Apri una richiesta", "/helpdesk/new"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine() {
        assert!(Status::New.can_move_to(Status::InProgress));
        assert!(Status::InProgress.can_move_to(Status::WaitingForComune));
        assert!(Status::Resolved.can_move_to(Status::Closed));
        assert!(!Status::Closed.can_move_to(Status::New));
        assert!(!Status::New.can_move_to(Status::Resolved));
        assert!(Status::Closed.next().is_empty());
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
            assert!(!status.can_move_to(status));
        }
    }
}
