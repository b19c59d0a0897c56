//! The module registry: every domain module of the node declares itself in one [`ModuleKit`]
//! (its routes, OpenAPI, navigation, dashboard links, home card, derived datasets, background
//! work), and
//! [`ALL`] lists them. The shell (`app`, `api`, `web`) merges what the registry lists and
//! names no module itself; Dati asks the registry which datasets other modules derive.
//!
//! Adding a module is a folder with a `pub const KIT: ModuleKit` and one line in [`ALL`] (plus
//! its `pub mod` in `lib.rs`, which Rust needs); its tables are the next files of
//! `node/migrations/`.

use axum::Router;
use rusqlite::Connection;
use tokio::task::JoinHandle;

use crate::auth::Identity;
use crate::dati::ops::DatiError;
use crate::error::AppError;
use crate::roles::{Module, Role, Roles};
use crate::state::AppState;

/// The modules of this node, in the order of the navigation, the dashboard and the home page.
pub const ALL: Registry = &[
    crate::community::KIT,
    crate::helpdesk::KIT,
    crate::sua::KIT,
    crate::sape::KIT,
    crate::formazione::KIT,
    crate::sit::KIT,
    crate::networks::KIT,
    crate::federation::KIT,
    crate::dati::KIT,
    crate::people::KIT,
    crate::portale::KIT,
];

/// A list of modules: [`ALL`] in the node, another in tests.
pub type Registry = &'static [ModuleKit];

/// A module's dashboard cards being drawn (counts, deadlines, charts), or none for this person.
pub type CardsFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Option<maud::Markup>, AppError>> + Send + 'a>,
>;

/// Draws a module's dashboard cards for `identity`.
pub type DashboardCards = for<'a> fn(&'a AppState, &'a Identity) -> CardsFuture<'a>;

/// What a module brings to the node. Every part is optional but the name.
#[derive(Debug, Clone, Copy)]
pub struct ModuleKit {
    /// Short name, for logs and tests (`sua`).
    pub name: &'static str,
    /// The operator role of this module and how the dashboard names it
    /// ("Operatore Help Desk"), if the module has its own operators.
    pub operator: Option<(Module, &'static str)>,
    /// Its `/v1` routes (merged under the API's CSRF guard).
    pub api: fn() -> Router<AppState>,
    /// Its page routes (merged under the pages' error rendering).
    pub pages: fn() -> Router<AppState>,
    /// Its part of the OpenAPI document (a `#[derive(OpenApi)]` listing its paths).
    pub openapi: fn() -> utoipa::openapi::OpenApi,
    /// Its entry in the top navigation.
    pub nav: Option<NavEntry>,
    /// Its links on the dashboard of a user with `role` (none if it has nothing for them);
    /// a person with several roles sees the links of each, once.
    pub dashboard: fn(&Role) -> Vec<Link>,
    /// Its cards on the dashboard (what is new, overdue, waiting), drawn before the links.
    pub cards: Option<DashboardCards>,
    /// Its card among the services on the public home page.
    pub home: Option<HomeCard>,
    /// The national datasets it derives from its own tables.
    pub datasets: &'static [DerivedDataset],
    /// Starts its background work when the node serves, if it has any; the task is aborted
    /// at shutdown, so it must leave nothing half done that the database does not redo.
    pub background: fn(&AppState) -> Option<JoinHandle<()>>,
    /// Its command of the `pico-node` command line (`pico-node sua import …`), if it has one.
    pub cli: Option<ModuleCli>,
}

/// A module's command of the command line: a subcommand of `pico-node` with its own
/// subcommands, run over the node's configuration.
#[derive(Debug, Clone, Copy)]
pub struct ModuleCli {
    /// The subcommand (its name, help and arguments), as clap builds it.
    pub command: fn() -> clap::Command,
    /// Runs it with what the command line matched below the subcommand's name.
    pub run: fn(&crate::config::NodeConfig, &clap::ArgMatches) -> anyhow::Result<()>,
}

impl ModuleKit {
    /// A module named `name` with nothing yet: start a `const` from it with `..`.
    pub const fn new(name: &'static str) -> ModuleKit {
        ModuleKit {
            name,
            operator: None,
            api: Router::new,
            pages: Router::new,
            openapi: utoipa::openapi::OpenApi::default,
            nav: None,
            dashboard: no_links,
            cards: None,
            home: None,
            datasets: &[],
            background: no_background,
            cli: None,
        }
    }
}

fn no_links(_role: &Role) -> Vec<Link> {
    Vec::new()
}

fn no_background(_state: &AppState) -> Option<JoinHandle<()>> {
    None
}

/// A link in the top navigation.
#[derive(Debug, Clone, Copy)]
pub struct NavEntry {
    /// The Italian label.
    pub label: &'static str,
    /// Where it leads.
    pub path: &'static str,
    /// Whether pages below `path` (`/sua/…`) also mark it current.
    pub covers_subpaths: bool,
    /// Who sees it.
    pub audience: Audience,
}

impl NavEntry {
    /// Whether the page at `current` is this entry's.
    pub fn is_current(&self, current: &str) -> bool {
        current == self.path
            || (self.covers_subpaths
                && current
                    .strip_prefix(self.path)
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?')))
    }
}

/// Who sees a navigation entry.
#[derive(Debug, Clone, Copy)]
pub enum Audience {
    /// Everyone, signed in or not (public pages): listed before the dashboard.
    Everyone,
    /// Signed-in users holding a role the module's policy lets in.
    SignedIn(fn(&Role) -> bool),
}

/// A link on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The Italian label.
    pub label: &'static str,
    /// Where it leads.
    pub href: &'static str,
}

impl Link {
    /// A link to `href` labelled `label`.
    pub const fn new(label: &'static str, href: &'static str) -> Link {
        Link { label, href }
    }
}

/// A service card on the public home page.
#[derive(Debug, Clone, Copy)]
pub struct HomeCard {
    /// The service's name.
    pub title: &'static str,
    /// One sentence on what it offers.
    pub text: &'static str,
    /// Where the card leads.
    pub href: &'static str,
}

/// A national dataset a module derives from its own tables: only that module writes it (Dati
/// refuses CSV imports and deletions by key into it), and its rows are kept only while it is
/// federated.
#[derive(Debug, Clone, Copy)]
pub struct DerivedDataset {
    /// The dataset's name (`appalti`).
    pub name: &'static str,
    /// The deriving module as people call it (`SUA`), for messages.
    pub module: &'static str,
    /// Builds every row from the module's tables inside the caller's transaction (when the
    /// dataset becomes `national`); returns the row count.
    pub materialise: fn(&Connection) -> Result<i64, DatiError>,
}

/// The dataset `name` if a module of `modules` derives it.
pub fn derived_dataset(modules: Registry, name: &str) -> Option<&'static DerivedDataset> {
    modules
        .iter()
        .flat_map(|kit| kit.datasets)
        .find(|dataset| dataset.name == name)
}

/// The navigation entries `identity` sees, split into the public ones (listed before the
/// dashboard) and the signed-in ones (after it).
pub fn navigation(
    modules: Registry,
    identity: Option<&Identity>,
) -> (Vec<NavEntry>, Vec<NavEntry>) {
    let roles = identity
        .and_then(|identity| identity.user.as_ref())
        .map(|user| &user.roles);
    let entries = modules.iter().filter_map(|kit| kit.nav);
    let public = entries
        .clone()
        .filter(|entry| matches!(entry.audience, Audience::Everyone))
        .collect();
    let signed_in = entries
        .filter(|entry| match (entry.audience, roles) {
            (Audience::SignedIn(sees), Some(roles)) => roles.any(sees),
            _ => false,
        })
        .collect();
    (public, signed_in)
}

/// The dashboard links of a person holding `roles`, module after module, each once.
pub fn dashboard(modules: Registry, roles: &Roles) -> Vec<Link> {
    let held = roles.to_vec();
    let mut links: Vec<Link> = Vec::new();
    for kit in modules {
        for role in &held {
            for link in (kit.dashboard)(role) {
                if !links.contains(&link) {
                    links.push(link);
                }
            }
        }
    }
    links
}

/// The dashboard cards every module of `modules` has for `identity`, in registry order.
pub async fn dashboard_cards(
    modules: Registry,
    state: &AppState,
    identity: &Identity,
) -> Result<Vec<maud::Markup>, AppError> {
    let mut cards = Vec::new();
    for draw in modules.iter().filter_map(|kit| kit.cards) {
        cards.extend(draw(state, identity).await?);
    }
    Ok(cards)
}

/// How the dashboard names an operator of `module`.
pub fn operator_title(modules: Registry, module: Module) -> String {
    modules
        .iter()
        .filter_map(|kit| kit.operator)
        .find(|(of, _)| *of == module)
        .map_or_else(
            || format!("Operatore del modulo {}", module.as_str()),
            |(_, title)| title.to_owned(),
        )
}

/// The `/v1` routes of every module.
pub fn api_routes(modules: Registry) -> Router<AppState> {
    modules
        .iter()
        .fold(Router::new(), |router, kit| router.merge((kit.api)()))
}

/// The page routes of every module.
pub fn page_routes(modules: Registry) -> Router<AppState> {
    modules
        .iter()
        .fold(Router::new(), |router, kit| router.merge((kit.pages)()))
}

/// Merges the OpenAPI part of every module into `doc`.
pub fn merge_openapi(modules: Registry, doc: &mut utoipa::openapi::OpenApi) {
    for kit in modules {
        doc.merge((kit.openapi)());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_are_unique_and_datasets_have_one_owner() {
        let mut names: Vec<&str> = ALL.iter().map(|kit| kit.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        let mut datasets: Vec<&str> = ALL
            .iter()
            .flat_map(|kit| kit.datasets)
            .map(|d| d.name)
            .collect();
        datasets.sort_unstable();
        datasets.dedup();
        assert_eq!(
            datasets.len(),
            ALL.iter().map(|kit| kit.datasets.len()).sum::<usize>()
        );
    }

    #[test]
    fn subpaths_are_current_only_where_declared() {
        let sua = NavEntry {
            label: "SUA",
            path: "/sua",
            covers_subpaths: true,
            audience: Audience::Everyone,
        };
        assert!(sua.is_current("/sua"));
        assert!(sua.is_current("/sua/convenzioni"));
        assert!(!sua.is_current("/suap"));
        let helpdesk = NavEntry {
            covers_subpaths: false,
            path: "/helpdesk",
            ..sua
        };
        assert!(!helpdesk.is_current("/helpdesk/new"));
    }
}
