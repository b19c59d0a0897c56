//! Cursor pagination: every list answers `{"items": [...], "next": "<opaque cursor>"|null}`.
//!
//! Page size: **50** by default, at most **200**; a larger `limit` is reduced to 200 rather
//! than refused, so a client asking for "everything" still gets a useful answer, and `0` is
//! read as 1. The OpenAPI schema of `limit` therefore has no `maximum` (a client sending 500
//! is not wrong, and an API fuzzer would rightly expect a value over a documented maximum to
//! be refused); its description states the reduction. The hub's lists follow the same rule
//! with their own bounds. The cursor
//! is opaque to clients (base64url of a small JSON value chosen by the endpoint, usually the
//! sort key of the last item), so an endpoint can change it without breaking them.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::problem::Problem;

/// Page size when the client does not ask for one.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size served.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The `limit` and `cursor` query parameters of a list endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<Limit>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The effective page size, within 1..=200.
    pub fn limit(&self) -> u32 {
        self.limit
            .map_or(DEFAULT_PAGE_SIZE, Limit::get)
            .clamp(1, MAX_PAGE_SIZE)
    }

    /// The decoded cursor, or `None` for the first page; a cursor that was not produced by
    /// [`encode_cursor`] is a 400 problem.
    pub fn cursor<C: DeserializeOwned>(&self) -> Result<Option<C>, Problem> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

/// The `limit` a client asked for: any whole number from 0 up (a number too large for `u32`
/// is read as `u32::MAX`). Each list reduces it to its own page bounds, so a client asking for
/// more than a page is answered with a full page and a cursor, never refused; anything that
/// is not a whole number of 0 or more is a 400 `invalid_query`. Its schema is therefore
/// `integer`, `minimum: 0`, with no `maximum` and no `format` (an `int32` format would tell
/// clients and fuzzers that 2^31 is out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Limit(u32);

impl Limit {
    /// A limit of `n` items.
    pub const fn new(n: u32) -> Limit {
        Limit(n)
    }

    /// The number asked for.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Limit, D::Error> {
        struct LimitVisitor;

        impl Visitor<'_> for LimitVisitor {
            type Value = Limit;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("un numero intero da 0 in su")
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Limit, E> {
                Ok(Limit(u32::try_from(n).unwrap_or(u32::MAX)))
            }

            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Limit, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom("limit: serve un numero intero da 0 in su"))
                    .and_then(|n| self.visit_u64(n))
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Limit, E> {
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::custom(format!(
                        "limit: «{text}» non è un numero intero da 0 in su"
                    )));
                }
                // All digits: only its size can make it fail to parse.
                Ok(Limit(text.parse().unwrap_or(u32::MAX)))
            }
        }

        // A query string gives text, JSON gives a number.
        deserializer.deserialize_any(LimitVisitor)
    }
}

impl utoipa::PartialSchema for Limit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .into()
    }
}

impl utoipa::ToSchema for Limit {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Limit")
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items of this page, in the endpoint's documented order.
    pub items: Vec<T>,
    /// Cursor for the next page; `null` on the last page.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only tells that there
    /// is a next page, whose cursor is made from the last *returned* item by `key`.
    pub fn from_overfetch<C: Serialize>(
        mut rows: Vec<T>,
        limit: u32,
        key: impl Fn(&T) -> C,
    ) -> Page<T> {
        let limit = limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Page { items: rows, next }
    }
}

/// Encodes a cursor value.
pub fn encode_cursor<C: Serialize>(value: &C) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Decodes a cursor produced by [`encode_cursor`].
pub fn decode_cursor<C: DeserializeOwned>(text: &str) -> Result<C, Problem> {
    let invalid = || {
        Problem::bad_request(
            "invalid_cursor",
            "Il cursore non è stato prodotto da questo server: ricominciare senza cursore.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn limit_defaults_and_clamps() {
        assert_eq!(PageParams::default().limit(), 50);
        let big = PageParams {
            limit: Some(Limit::new(10_000)),
            cursor: None,
        };
        assert_eq!(big.limit(), 200);
        let zero = PageParams {
            limit: Some(Limit::new(0)),
            cursor: None,
        };
        assert_eq!(zero.limit(), 1);
    }

    #[test]
    fn limit_reads_any_whole_number_and_nothing_else() {
        let parse = |query: &str| {
            let uri: axum::http::Uri = format!("/list?{query}").parse().expect("uri");
            axum::extract::Query::<PageParams>::try_from_uri(&uri).map(|params| params.0.limit)
        };
        assert_eq!(parse("limit=7").unwrap(), Some(Limit::new(7)));
        assert_eq!(parse("limit=0").unwrap(), Some(Limit::new(0)));
        assert_eq!(parse("").unwrap(), None);
        // Larger than any page, than int32, than u32 and than u64: all a page of 200.
        for big in ["2147483648", "4294967296", "99999999999999999999999999"] {
            let limit = parse(&format!("limit={big}")).unwrap();
            let page = PageParams {
                limit,
                cursor: None,
            };
            assert_eq!(page.limit(), MAX_PAGE_SIZE, "{big}");
        }
        assert_eq!(
            parse("limit=4294967296").unwrap(),
            Some(Limit::new(u32::MAX)),
            "saturates"
        );
        for bad in ["-1", "1.5", "1e3", "many", "", "%2B5", "%205"] {
            assert!(parse(&format!("limit={bad}")).is_err(), "{bad:?} refused");
        }
        let from_json: Limit = serde_json::from_str("12").unwrap();
        assert_eq!(from_json, Limit::new(12));
        assert!(serde_json::from_str::<Limit>("-3").is_err());
    }

    #[test]
    fn overfetch_sets_next_from_last_returned() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        let cursor: i32 = decode_cursor(page.next.as_deref().expect("next")).expect("decodes");
        assert_eq!(cursor, 2);
        assert!(Page::from_overfetch(vec![1, 2], 2, |n| *n).next.is_none());
    }

    #[test]
    fn foreign_cursor_is_400() {
        let err = decode_cursor::<i64>("not-a-cursor").expect_err("refused");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
}
