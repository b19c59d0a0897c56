//! The application state shared by every handler.

use std::sync::Arc;

use pico_service::Db;
use pico_service::observe::Metrics;
use pico_service::web::{Chrome, NavLink};

use crate::auth::{Identity, Role};
use crate::config::NodeConfig;
use crate::db::comuni::Province;

/// Cloned into every handler (all fields are cheap handles).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Configuration.
    pub config: Arc<NodeConfig>,
    /// This node's Province (read once at start-up: it never changes).
    pub province: Arc<Province>,
    /// Prometheus recorder.
    pub metrics: Metrics,
    /// The node's Province and signing key, loaded once at start.
    pub signer: Arc<crate::federation::Signer>,
    /// Wakes the publisher after a change wrote entries.
    pub wake: crate::federation::Wake,
}

impl AppState {
    /// The page chrome for `identity`, with `current` marking the active navigation link.
    pub fn chrome(&self, identity: Option<&Identity>, current: &str) -> Chrome {
        let mut nav = vec![NavLink::new("Home", "/", current == "/")];
        nav.push(NavLink::new(
            "Buone pratiche",
            "/buone-pratiche",
            current == "/buone-pratiche",
        ));
        let user = identity.and_then(|identity| identity.user.as_ref());
        if let Some(user) = user {
            nav.push(NavLink::new(
                "Cruscotto",
                "/dashboard",
                current == "/dashboard",
            ));
            if matches!(
                user.role,
                Role::Admin | Role::Comune(_) | Role::Operator(crate::auth::Module::Helpdesk)
            ) {
                nav.push(NavLink::new(
                    "Help Desk",
                    "/helpdesk",
                    current == "/helpdesk",
                ));
            }
            // The SUA pages, for whom the SUA policy lets see procedures: its staff, the
            // administrator and the Comuni (their own).
            if identity.is_some_and(|identity| crate::auth::policy::sua_scope(identity).is_ok()) {
                nav.push(NavLink::new("SUA", "/sua", current.starts_with("/sua")));
            }
            // Networks are between Provinces: only Province staff see the link.
            if user.role.is_province() {
                nav.push(NavLink::new(
                    "Reti tematiche",
                    "/networks",
                    current == "/networks",
                ));
            }
            if user.role == Role::Admin {
                nav.push(NavLink::new(
                    "Pubblicazione",
                    "/admin/federation",
                    current == "/admin/federation",
                ));
            }
        }
        let header_actions = Some(crate::web::header_actions(identity));
        Chrome {
            site_name: self.province.name.clone(),
            tagline: "Servizi della Provincia per i Comuni".to_owned(),
            nav,
            header_actions,
            ..Chrome::default()
        }
    }
}
