//! Lists kept newest first by id, paged by keyset: the cursor is the id below which the next
//! page starts, so a row added while a client pages does not shift what it reads.

use std::future::Future;

use pico_service::{Limit, Page, PageParams};

use crate::error::AppError;

/// One page of such a list: `fetch(rows, before)` reads at most `rows` rows (one more than
/// the page, to know whether another follows) with an id below `before`, newest first; `id`
/// is a row's id, which the next cursor carries. A cursor that is not one is a 400.
pub async fn newest_first<T, Rows>(
    limit: Option<Limit>,
    cursor: Option<String>,
    fetch: impl FnOnce(u32, Option<i64>) -> Rows,
    id: impl Fn(&T) -> i64,
) -> Result<Page<T>, AppError>
where
    Rows: Future<Output = Result<Vec<T>, AppError>>,
{
    let paging = PageParams { limit, cursor };
    let limit = paging.limit();
    let before: Option<i64> = paging.cursor()?;
    let rows = fetch(limit + 1, before).await?;
    Ok(Page::from_overfetch(rows, limit, id))
}
