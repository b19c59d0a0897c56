//! Help Desk: requests from Comuni to the Province, with status, assignee, comments,
//! attachments and an SLA clock. The first module, and the pattern later ones follow:
//! `mod.rs` holds the domain (types, state machine, the operations with their audit
//! events), `api.rs` the JSON routes, `pages.rs` the web pages; SQL is in `helpdesk::db`.

pub mod api;
pub mod db;
pub mod ops;
pub mod pages;

use serde::{Deserialize, Serialize};

/// Where a request is in its life. Transitions are limited to [`Status::can_move_to`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Opened by the Comune, not yet looked at.
    New,
    /// The Province is working on it.
    InProgress,
    /// The Province asked the Comune something.
    WaitingForComune,
    /// The Province considers it solved; the Comune can close or reopen it.
    Resolved,
    /// Done. Final.
    Closed,
}

impl Status {
    /// Every status, in life order.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::InProgress,
        Status::WaitingForComune,
        Status::Resolved,
        Status::Closed,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InProgress => "in_progress",
            Status::WaitingForComune => "waiting_for_comune",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// The Italian label shown on pages.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "Nuova",
            Status::InProgress => "In lavorazione",
            Status::WaitingForComune => "In attesa del Comune",
            Status::Resolved => "Risolta",
            Status::Closed => "Chiusa",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// The state machine: new → in_progress → waiting_for_comune ⇄ in_progress → resolved →
    /// closed, with resolved → in_progress to reopen and new → closed for requests that need
    /// no work (duplicates, mistakes).
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::{Closed, InProgress, New, Resolved, WaitingForComune};
        matches!(
            (self, to),
            (New, InProgress | Closed)
                | (InProgress, WaitingForComune | Resolved)
                | (WaitingForComune, InProgress | Resolved)
                | (Resolved, Closed | InProgress)
        )
    }

    /// Statuses reachable from this one.
    pub fn next(self) -> Vec<Status> {
        Status::ALL
            .into_iter()
            .filter(|to| self.can_move_to(*to))
            .collect()
    }

    /// Whether the resolution clock has stopped.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

/// What a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// IT and digital services.
    Technical,
    /// Administrative and legal questions.
    Administrative,
    /// Procurement (SUA).
    Procurement,
    /// EU funding (SAPE).
    Funding,
    /// Personnel and training.
    Personnel,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 6] = [
        Category::Technical,
        Category::Administrative,
        Category::Procurement,
        Category::Funding,
        Category::Personnel,
        Category::Other,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Technical => "technical",
            Category::Administrative => "administrative",
            Category::Procurement => "procurement",
            Category::Funding => "funding",
            Category::Personnel => "personnel",
            Category::Other => "other",
        }
    }

    /// The Italian label shown on pages.
    pub fn label(self) -> &'static str {
        match self {
            Category::Technical => "Supporto tecnico e digitale",
            Category::Administrative => "Amministrativa e giuridica",
            Category::Procurement => "Appalti (SUA)",
            Category::Funding => "Finanziamenti europei (SAPE)",
            Category::Personnel => "Personale e formazione",
            Category::Other => "Altro",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|category| category.as_str() == text)
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

/// Field limits, checked in [`ops`] for API and web alike.
pub const SUBJECT_MAX: usize = 200;
/// Longest description or comment.
pub const TEXT_MAX: usize = 20_000;

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
