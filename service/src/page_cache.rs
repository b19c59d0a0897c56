//! A short-lived cache of public pages, as an anonymous visitor receives them. A page that is
//! the same for everyone without a session (a Portale's home, a service's page) is rendered
//! once and served from memory for [`FRESH_FOR`], instead of being rebuilt from the database
//! for every visitor.
//!
//! A handler opts in per response with [`shared`]; the cache keeps only those, only for `GET`
//! requests that carry no cookie and no `Authorization` (so never a signed-in person's page),
//! and only successful answers that set no cookie. Every request that may write (`POST`,
//! `PUT`, `PATCH`, `DELETE`) and is not refused empties it, so a change made through the
//! service shows at once; a change made behind its back (a command line import) shows within
//! [`FRESH_FOR`]. The pages already tell browsers and proxies they may keep them longer (the
//! handlers set `Cache-Control: public`), so the cache serves nothing those may not.
//!
//! Wire it with [`PageCache::layer`] around the whole router, inside [`crate::http::layers`],
//! so a cached answer still passes the rate limit, the metrics and the security headers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};

/// How long a page is served from memory.
pub const FRESH_FOR: Duration = Duration::from_secs(10);

/// The most pages kept at once: past it, the expired ones are dropped and, if the cache is
/// still full, a new page is served without being kept (a crawler walking every query
/// string cannot grow it).
pub const MAX_PAGES: usize = 512;

/// The largest page kept, in bytes.
pub const MAX_PAGE_BYTES: u64 = 512 * 1024;

/// Marks a response as the same for every anonymous visitor, so the cache may keep it.
#[derive(Debug, Clone, Copy)]
struct Shared;

/// Lets the cache keep `response` (see the module's rules for when it does).
pub fn shared(mut response: Response) -> Response {
    response.extensions_mut().insert(Shared);
    response
}

/// A kept page: what is needed to answer it again.
#[derive(Debug, Clone)]
struct Page {
    stored: Instant,
    headers: HeaderMap,
    body: Bytes,
}

/// The cache; cheap to clone (one shared map).
#[derive(Debug, Clone, Default)]
pub struct PageCache {
    pages: Arc<Mutex<BTreeMap<String, Page>>>,
}

impl PageCache {
    /// Wraps `router` with a new cache.
    pub fn layer<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
        router.layer(middleware::from_fn_with_state(Self::default(), serve))
    }

    fn get(&self, key: &str, now: Instant) -> Option<Page> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages
            .get(key)
            .filter(|page| now.duration_since(page.stored) < FRESH_FOR)
            .cloned()
    }

    fn put(&self, key: String, page: Page) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, kept| page.stored.duration_since(kept.stored) < FRESH_FOR);
        }
        if pages.len() < MAX_PAGES {
            pages.insert(key, page);
        }
    }

    fn clear(&self) {
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// How many pages are kept now.
    pub fn len(&self) -> usize {
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no page is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether the request comes from someone without a session or a token.
fn anonymous(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::COOKIE) && !headers.contains_key(header::AUTHORIZATION)
}

async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if !method.is_safe() {
        let response = next.run(request).await;
        if !response.status().is_client_error() {
            cache.clear();
        }
        return response;
    }
    if method != Method::GET || !anonymous(request.headers()) {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    let now = Instant::now();
    if let Some(page) = cache.get(&key, now) {
        let mut response = Response::new(Body::from(page.body));
        *response.headers_mut() = page.headers;
        return response;
    }
    let response = next.run(request).await;
    let keep = response.status() == StatusCode::OK
        && response.extensions().get::<Shared>().is_some()
        && !response.headers().contains_key(header::SET_COOKIE)
        && response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|size| size <= MAX_PAGE_BYTES);
    if !keep {
        return response;
    }
    let (parts, body) = response.into_parts();
    // The size is known and bounded, so only a failing body can fail here: the page is then
    // not kept, and the visitor gets an error rather than an empty page.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "page cache: a page's body could not be read");
            let text = "Errore interno: la pagina non è stata letta. Riprovare tra poco.";
            return (StatusCode::INTERNAL_SERVER_ERROR, text).into_response();
        }
    };
    cache.put(
        key,
        Page {
            stored: now,
            headers: parts.headers.clone(),
            body: body.clone(),
        },
    );
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    /// A router whose `/public` page counts its renderings and is shared; `/private` is not.
    fn app(renders: Arc<AtomicUsize>) -> (Router, Arc<AtomicUsize>) {
        let counter = renders.clone();
        let public = move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                shared(Response::new(Body::from(format!("pagina {n}"))))
            }
        };
        let private = renders.clone();
        let router = Router::new()
            .route(
                "/public",
                get(public).post(|| async { StatusCode::SEE_OTHER }),
            )
            .route(
                "/private",
                get(move || {
                    let n = private.fetch_add(1, Ordering::SeqCst) + 1;
                    async move { format!("privata {n}") }
                }),
            )
            .route(
                "/refused",
                axum::routing::post(|| async { StatusCode::UNPROCESSABLE_ENTITY }),
            );
        (PageCache::layer(router), renders)
    }

    async fn body(router: &Router, request: Request) -> String {
        let response = router.clone().oneshot(request).await.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn get_request(path: &str) -> Request {
        Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn a_shared_page_is_rendered_once_for_anonymous_visitors() {
        let (router, renders) = app(Arc::default());
        assert_eq!(body(&router, get_request("/public")).await, "pagina 1");
        assert_eq!(body(&router, get_request("/public")).await, "pagina 1");
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        // Another query string is another page.
        assert_eq!(body(&router, get_request("/public?x=1")).await, "pagina 2");
    }

    #[tokio::test]
    async fn a_signed_in_person_and_unshared_pages_are_never_served_from_memory() {
        let (router, renders) = app(Arc::default());
        let with_cookie = || {
            Request::get("/public")
                .header(header::COOKIE, "session=abc")
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(body(&router, with_cookie()).await, "pagina 1");
        assert_eq!(body(&router, with_cookie()).await, "pagina 2");
        assert_eq!(body(&router, get_request("/private")).await, "privata 3");
        assert_eq!(body(&router, get_request("/private")).await, "privata 4");
        assert_eq!(renders.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn a_page_is_served_from_memory_only_while_fresh() {
        let cache = PageCache::default();
        let stored = Instant::now();
        let page = Page {
            stored,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"pagina"),
        };
        cache.put("/".to_owned(), page);
        assert!(cache.get("/", stored + FRESH_FOR / 2).is_some());
        assert!(cache.get("/", stored + FRESH_FOR).is_none());
    }

    #[test]
    fn a_full_cache_drops_the_expired_pages_and_keeps_no_more_than_its_bound() {
        let cache = PageCache::default();
        let start = Instant::now();
        let page = |stored| Page {
            stored,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        for n in 0..MAX_PAGES {
            cache.put(format!("/{n}"), page(start));
        }
        cache.put("/one-more".to_owned(), page(start));
        assert_eq!(cache.len(), MAX_PAGES);
        assert!(cache.get("/one-more", start).is_none());
        cache.put("/later".to_owned(), page(start + FRESH_FOR));
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn a_write_empties_the_cache_and_a_refused_one_does_not() {
        let (router, _) = app(Arc::default());
        assert_eq!(body(&router, get_request("/public")).await, "pagina 1");
        let post = |path: &str| Request::post(path).body(Body::empty()).unwrap();
        body(&router, post("/refused")).await;
        assert_eq!(body(&router, get_request("/public")).await, "pagina 1");
        body(&router, post("/public")).await;
        assert_eq!(body(&router, get_request("/public")).await, "pagina 2");
    }
}
