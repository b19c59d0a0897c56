//! People and their roles, managed by the administrator from web pages: the list with its
//! filters, adding a person with a one-time password, changing roles, disabling and
//! enabling, a new one-time password, revoking API tokens, and the audit log with its
//! filters. Every change is one audited transaction (`ops.rs`); the SQL is the shared
//! tables' (`db::people`, `db::audit`).

pub mod ops;
pub mod pages;

use crate::auth::Role;
use crate::auth::policy::{Action, permits};
use crate::modules::{Audience, Link, ModuleKit, NavEntry};

/// The module's declaration in the registry.
pub const KIT: ModuleKit = ModuleKit {
    pages: pages::router,
    nav: Some(NavEntry {
        label: "Persone",
        path: pages::PEOPLE,
        covers_subpaths: true,
        audience: Audience::SignedIn(manages_people),
    }),
    dashboard: dashboard_links,
    ..ModuleKit::new("people")
};

fn manages_people(role: &Role) -> bool {
    permits(role, Action::ManagePeople)
}

fn dashboard_links(role: &Role) -> Vec<Link> {
    let mut links = Vec::new();
    if manages_people(role) {
        links.push(Link::new("Persone e ruoli", pages::PEOPLE));
    }
    if permits(role, Action::ViewAudit) {
        links.push(Link::new("Registro delle attività", pages::AUDIT));
    }
    links
}
