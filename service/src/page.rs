//! Cursor pagination: every list answers `{"items": [...], "next": "<opaque cursor>"|null}`.
//!
//! Page size: **50** by default, at most **200**; a larger `limit` is reduced to 200 rather
//! than refused, so a client asking for "everything" still gets a useful answer. The cursor
//! is opaque to clients (base64url of a small JSON value chosen by the endpoint, usually the
//! sort key of the last item), so an endpoint can change it without breaking them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// Page size when the client does not ask for one.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size served.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The `limit` and `cursor` query parameters of a list endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page: default 50, at most 200.
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The effective page size, within 1..=200.
    pub fn limit(&self) -> u32 {
        self.limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }

    /// The decoded cursor, or `None` for the first page; a cursor that was not produced by
    /// [`encode_cursor`] is a 400 problem.
    pub fn cursor<C: DeserializeOwned>(&self) -> Result<Option<C>, Problem> {
        self.cursor.as_deref().map(decode_cursor).transpose()
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
            "The cursor is not one this server produced; start again without it.",
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
            limit: Some(10_000),
            cursor: None,
        };
        assert_eq!(big.limit(), 200);
        let zero = PageParams {
            limit: Some(0),
            cursor: None,
        };
        assert_eq!(zero.limit(), 1);
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
