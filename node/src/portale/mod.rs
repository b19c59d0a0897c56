//! The Portale: the node's public face for anyone, signed in or not. Its home (`/`) presents
//! the Province and the services of every module (from the registry's home cards), the SIT
//! catalogue, the best practices and the open datasets the node publishes; a page per Comune
//! (`/comuni/{istat}`) shows the services it uses (active subscriptions) and its digital
//! picture; `/sitemap.xml` and `/robots.txt` let search engines find every public page.
//!
//! The Portale owns no table: it reads the SIT's, Community's and Dati's through their `db`
//! functions, each page in one database call. Anonymous pages may be kept by caches for a
//! few minutes ([`cacheable`]); a signed-in person's pages keep the service layer's
//! `no-store`.

pub mod pages;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::modules::ModuleKit;

/// How long a cache may keep an anonymous Portale page, in seconds: the catalogue and the
/// Comuni change a few times a day, and five minutes of delay is harmless.
pub const PUBLIC_MAX_AGE: u32 = 300;

/// Marks `response` as cacheable by anyone for [`PUBLIC_MAX_AGE`] when the request carried
/// no cookie (no session, no flash message: the page is the same for every anonymous
/// visitor). `Vary: Cookie` keeps a shared cache from serving it to a signed-in person. The
/// node itself keeps it a few seconds ([`pico_service::page_cache`]), so a crowd of visitors
/// costs one rendering.
pub fn cacheable(request: &HeaderMap, mut response: Response) -> Response {
    if request.contains_key(header::COOKIE) || request.contains_key(header::AUTHORIZATION) {
        return response;
    }
    if !response.status().is_success() {
        return response;
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={PUBLIC_MAX_AGE}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Cookie"));
    pico_service::page_cache::shared(response)
}

/// The Portale in the module registry: its pages only (the home, the Comuni, the sitemap).
pub const KIT: ModuleKit = ModuleKit {
    pages: pages::router,
    ..ModuleKit::new("portale")
};
