//! The list kit of every list page: typed filters read from the query string (a bad value
//! becomes the field's Italian message, never a 400 page), real pagination (page and size,
//! "Pagina 2 di 7", previous/next and numbered links), sortable columns over a whitelist of
//! sort keys mapped to SQL expressions written in the code (never text from the request),
//! links that carry the filters with their values percent-encoded by the node's one encoder
//! ([`crate::web::query_value`]), and the "Scarica CSV" links of the same filtered list
//! (`sep=,` or `sep=;`, `bom=1` for Excel) written through `pico_service::csv`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use maud::{Markup, html};
use pico_service::Problem;
use pico_service::csv::Separator;

use crate::error::AppError;
use crate::web::form::{Errors, FormState, Values, error_summary};
use crate::web::query_value;

/// The page sizes a person may choose; the first is the default.
pub const SIZES: [u32; 4] = [50, 20, 100, 200];

/// Rows a CSV export holds at most.
pub const CSV_MAX_ROWS: u32 = 50_000;

/// A sortable column: its key in the query string, its header, and the SQL expression the
/// list is ordered by (a constant of the code: the request only chooses among keys).
#[derive(Debug, Clone, Copy)]
pub struct SortColumn {
    /// `sort=` value.
    pub key: &'static str,
    /// The header as the person reads it.
    pub label: &'static str,
    /// The SQL expression ordered by.
    pub sql: &'static str,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }

    fn flip(self) -> Direction {
        match self {
            Direction::Asc => Direction::Desc,
            Direction::Desc => Direction::Asc,
        }
    }
}

/// The chosen order: one of the list's columns and a direction.
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    /// The column.
    pub column: SortColumn,
    /// The direction.
    pub direction: Direction,
}

impl Sort {
    /// The `ORDER BY` clause (without the keywords): the column, then `tie` (a unique key, so
    /// pages never overlap), both from the code.
    pub fn order_by(&self, tie: &'static str) -> String {
        format!(
            "{} {}, {tie} {}",
            self.column.sql,
            self.direction.sql(),
            self.direction.sql()
        )
    }
}

/// A list request: the filters as typed, their messages, the page, the size and the order.
#[derive(Debug, Clone)]
pub struct ListRequest {
    path: &'static str,
    raw: Values,
    /// Filters read so far, in order, with their values as typed (kept in every link).
    filters: Vec<(String, String)>,
    /// Messages by filter name.
    pub errors: Errors,
    /// Page, from 1.
    pub page: u32,
    /// Rows per page.
    pub size: u32,
    /// Order.
    pub sort: Sort,
    columns: &'static [SortColumn],
    default_sort: Sort,
}

impl ListRequest {
    /// Reads page, size and order from `params` (the query string of `path`); the order is
    /// one of `columns`, by default `default` (a key of `columns`) in `direction`.
    pub fn parse(
        path: &'static str,
        params: Values,
        columns: &'static [SortColumn],
        default: &str,
        direction: Direction,
    ) -> ListRequest {
        let default_sort = Sort {
            column: columns
                .iter()
                .find(|c| c.key == default)
                .copied()
                .unwrap_or(columns[0]),
            direction,
        };
        let mut errors = Errors::new();
        let text = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let page = match text("page") {
            None => 1,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.insert(
                        "page".into(),
                        "Il numero di pagina è un numero intero da 1 in su.".into(),
                    );
                    1
                }
            },
        };
        let size = match text("size") {
            None => SIZES[0],
            Some(v) => match v.parse::<u32>() {
                Ok(n) if SIZES.contains(&n) => n,
                _ => {
                    errors.insert(
                        "size".into(),
                        "Le righe per pagina possono essere 20, 50, 100 o 200.".into(),
                    );
                    SIZES[0]
                }
            },
        };
        let column = match text("sort") {
            None => default_sort.column,
            Some(key) => {
                if let Some(column) = columns.iter().find(|c| c.key == key) {
                    *column
                } else {
                    let keys: Vec<&str> = columns.iter().map(|c| c.label).collect();
                    errors.insert(
                        "sort".into(),
                        format!(
                            "Non si può ordinare per «{key}»: scegli una colonna tra {}.",
                            keys.join(", ")
                        ),
                    );
                    default_sort.column
                }
            }
        };
        let direction = match text("dir") {
            None if text("sort").is_none() => default_sort.direction,
            None | Some("asc") => Direction::Asc,
            Some("desc") => Direction::Desc,
            Some(_) => {
                errors.insert(
                    "dir".into(),
                    "L'ordine è crescente (asc) o decrescente (desc).".into(),
                );
                default_sort.direction
            }
        };
        ListRequest {
            path,
            raw: params,
            filters: Vec::new(),
            errors,
            page,
            size,
            sort: Sort { column, direction },
            columns,
            default_sort,
        }
    }

    fn remember(&mut self, name: &str) -> Option<String> {
        let value = self.raw.get(name).cloned().unwrap_or_default();
        if !self.filters.iter().any(|(n, _)| n == name) {
            self.filters.push((name.to_owned(), value.clone()));
        }
        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A text filter: its trimmed value, `None` when empty.
    pub fn text(&mut self, name: &str) -> Option<String> {
        self.remember(name)
    }

    /// A typed filter: `parse` reads its value; a value it refuses leaves the filter off and
    /// records `message` as the field's message.
    pub fn parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
        message: &str,
    ) -> Option<T> {
        let value = self.remember(name)?;
        let parsed = parse(&value);
        if parsed.is_none() {
            self.errors.insert(name.to_owned(), message.to_owned());
        }
        parsed
    }

    /// A checkbox filter (`true`, `on` or `1`).
    pub fn flag(&mut self, name: &str) -> bool {
        matches!(self.remember(name).as_deref(), Some("true" | "on" | "1"))
    }

    /// The value of filter `name` as typed (for the filter form).
    pub fn value(&self, name: &str) -> &str {
        self.raw.get(name).map_or("", String::as_str)
    }

    /// The message of filter `name`.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    /// Rows to skip for the current page.
    pub fn offset(&self) -> u32 {
        (self.page - 1).saturating_mul(self.size)
    }

    /// The `ORDER BY` of the current order, with `tie` as the unique last key.
    pub fn order_by(&self, tie: &'static str) -> String {
        self.sort.order_by(tie)
    }

    /// The filters, size and order as query pairs (page left out).
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .filters
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .cloned()
            .collect();
        if self.size != SIZES[0] {
            pairs.push(("size".into(), self.size.to_string()));
        }
        if self.sort.column.key != self.default_sort.column.key
            || self.sort.direction != self.default_sort.direction
        {
            pairs.push(("sort".into(), self.sort.column.key.into()));
            pairs.push(("dir".into(), self.sort.direction.as_str().into()));
        }
        pairs
    }

    /// A link to `path` with `pairs`, every name and value percent-encoded.
    pub fn link(path: &str, pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return path.to_owned();
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", query_value(name), query_value(value)))
            .collect();
        format!("{path}?{}", query.join("&"))
    }

    /// The link to page `page` of this list, with the same filters, size and order.
    pub fn page_href(&self, page: u32) -> String {
        let mut pairs = self.pairs();
        if page > 1 {
            pairs.push(("page".into(), page.to_string()));
        }
        ListRequest::link(self.path, &pairs)
    }

    /// The link that orders by `column` (the other direction when it already does), from
    /// page 1.
    pub fn sort_href(&self, column: &SortColumn) -> String {
        let direction = if self.sort.column.key == column.key {
            self.sort.direction.flip()
        } else {
            Direction::Asc
        };
        let mut pairs: Vec<(String, String)> = self
            .pairs()
            .into_iter()
            .filter(|(n, _)| n != "sort" && n != "dir")
            .collect();
        pairs.push(("sort".into(), column.key.into()));
        pairs.push(("dir".into(), direction.as_str().into()));
        ListRequest::link(self.path, &pairs)
    }

    /// The CSV of this list (all its rows, same filters and order) at `csv_path`.
    pub fn csv_href(&self, csv_path: &str, separator: Separator) -> String {
        let mut pairs: Vec<(String, String)> = self
            .pairs()
            .into_iter()
            .filter(|(n, _)| n != "size")
            .collect();
        match separator {
            Separator::Comma => pairs.push(("sep".into(), ",".into())),
            Separator::Semicolon => {
                pairs.push(("sep".into(), ";".into()));
                pairs.push(("bom".into(), "1".into()));
            }
        }
        ListRequest::link(csv_path, &pairs)
    }

    /// The header of a sortable column: a link that orders by it, and `aria-sort` when the
    /// list is ordered by it. `class` is added to the cell.
    pub fn sort_header(&self, key: &str, class: Option<&str>) -> Markup {
        let Some(column) = self.columns.iter().find(|c| c.key == key) else {
            return html! { th scope="col" class=[class] { (key) } };
        };
        let current = self.sort.column.key == key;
        let aria = current.then_some(match self.sort.direction {
            Direction::Asc => "ascending",
            Direction::Desc => "descending",
        });
        let next = if current && self.sort.direction == Direction::Asc {
            "decrescente"
        } else {
            "crescente"
        };
        html! {
            th scope="col" class=[class] aria-sort=[aria] {
                a href=(self.sort_href(column)) data-sort=(column.key) {
                    (column.label)
                    @if current { span aria-hidden="true" { @if self.sort.direction == Direction::Asc { " ▲" } @else { " ▼" } } }
                    span class="visually-hidden" { ", ordina in modo " (next) }
                }
            }
        }
    }

    /// The summary of the filters' messages, linked to the filter fields (ids `f-{name}`).
    pub fn error_summary(&self, labels: &[(&str, &str)]) -> Markup {
        let form = FormState {
            values: self.raw.clone(),
            errors: self.errors.clone(),
            prefix: "f-".to_owned(),
        };
        error_summary(&form, labels)
    }

    /// A filter select: `any` (no filter) first, then `options` (value, label); its message
    /// beside it.
    pub fn filter_select(
        &self,
        name: &str,
        label: &str,
        any: &str,
        options: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> Markup {
        let id = format!("f-{name}");
        let error = self.error(name);
        html! {
            label for=(id) class="form-label" { (label) }
            select class=(if error.is_some() { "form-select is-invalid" } else { "form-select" }) id=(id) name=(name)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))] {
                option value="" { (any) }
                @for (value, text) in options {
                    option value=(value.as_ref()) selected[self.value(name) == value.as_ref()] { (text.as_ref()) }
                }
            }
            (self.feedback(name))
        }
    }

    /// The message beside filter `name`.
    pub fn feedback(&self, name: &str) -> Markup {
        html! {
            @if let Some(message) = self.error(name) {
                div class="invalid-feedback d-block" id=(format!("f-{name}-error")) { (message) }
            }
        }
    }

    /// The "rows per page" choice and the hidden order, for the filter form.
    pub fn size_field(&self) -> Markup {
        html! {
            label for="f-size" class="form-label" { "Righe per pagina" }
            select class="form-select" id="f-size" name="size" {
                @for size in [20, 50, 100, 200] { option value=(size) selected[size == self.size] { (size) } }
            }
            @if self.sort.column.key != self.default_sort.column.key || self.sort.direction != self.default_sort.direction {
                input type="hidden" name="sort" value=(self.sort.column.key);
                input type="hidden" name="dir" value=(self.sort.direction.as_str());
            }
        }
    }

    /// The "Scarica CSV" links of this list.
    pub fn csv_links(&self, csv_path: &str) -> Markup {
        html! {
            p class="d-flex flex-wrap gap-3" id="csv-links" {
                a href=(self.csv_href(csv_path, Separator::Semicolon)) download { "Scarica CSV (separatore ;, per Excel)" }
                a href=(self.csv_href(csv_path, Separator::Comma)) download { "Scarica CSV (separatore ,)" }
            }
        }
    }

    /// The page navigation for `total` rows: "Pagina 2 di 7", previous and next, numbered
    /// links around the current page, the current one marked `aria-current="page"`.
    pub fn pager(&self, total: u64) -> Markup {
        let pages = pages(total, self.size);
        let page = self.page.min(pages.max(1));
        if pages <= 1 {
            return html! { p class="small" id="list-pages" { "Pagina 1 di 1 (" (total) " righe)" } };
        }
        // Each number shown, and whether a gap ("…") comes before it.
        let shown: Vec<(u32, bool)> = numbered(page, pages)
            .into_iter()
            .scan(0, |last, n| {
                let gap = n > *last + 1;
                *last = n;
                Some((n, gap))
            })
            .collect();
        html! {
            nav class="pagination-wrapper" aria-label="Pagine dell'elenco" id="list-pages" {
                p class="small mb-2" { "Pagina " (page) " di " (pages) " (" (total) " righe)" }
                ul class="pagination flex-wrap" {
                    @if page > 1 {
                        li class="page-item" { a class="page-link" href=(self.page_href(page - 1)) rel="prev" { "Precedente" } }
                    }
                    @for (n, gap) in shown {
                        @if gap { li class="page-item" { span class="page-link" aria-hidden="true" { "…" } } }
                        li class="page-item" {
                            @if n == page {
                                a class="page-link" href=(self.page_href(n)) aria-current="page" { span class="visually-hidden" { "Pagina " } (n) }
                            } @else {
                                a class="page-link" href=(self.page_href(n)) { span class="visually-hidden" { "Pagina " } (n) }
                            }
                        }
                    }
                    @if page < pages {
                        li class="page-item" { a class="page-link" href=(self.page_href(page + 1)) rel="next" { "Successiva" } }
                    }
                }
            }
        }
    }
}

/// How many pages `total` rows fill at `size` per page (at least 1).
pub fn pages(total: u64, size: u32) -> u32 {
    let size = u64::from(size.max(1));
    u32::try_from(total.div_ceil(size).max(1)).unwrap_or(u32::MAX)
}

/// The page numbers a pager shows: the first, the last, and two either side of `page`.
fn numbered(page: u32, pages: u32) -> Vec<u32> {
    (1..=pages)
        .filter(|n| *n == 1 || *n == pages || n.abs_diff(page) <= 2)
        .collect()
}

/// The options of a CSV export: `sep` (`,` `;` `comma` `semicolon`…, through
/// `Separator::parse`) and `bom` (`1` or `0`; by default with `;`, which is for Excel).
pub fn csv_options(params: &BTreeMap<String, String>) -> Result<(Separator, bool), AppError> {
    let separator = Separator::parse(params.get("sep").map(String::as_str))
        .map_err(|err| AppError::invalid_field("sep", err.to_string()))?;
    let bom = match params.get("bom").map(|v| v.trim()) {
        None | Some("") => separator == Separator::Semicolon,
        Some("1" | "true" | "si" | "sì") => true,
        Some("0" | "false" | "no") => false,
        Some(_) => {
            return Err(AppError::invalid_field(
                "bom",
                "bom vale 1 (file per Excel, con il BOM UTF-8) oppure 0.",
            ));
        }
    };
    Ok((separator, bom))
}

/// The filters' messages as a 422 problem (for a CSV export asked with bad filters).
pub fn refuse(errors: &Errors) -> AppError {
    refuse_with_code(errors, "invalid_field")
}

/// Field messages as a 422 problem with the stable `code` (`invalid_field`, or a more
/// precise one such as `no_convention`): the detail lists every `field: message`.
pub fn refuse_with_code(errors: &Errors, code: &'static str) -> AppError {
    let mut problem = Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
        .with_code(code)
        .with_detail(
            errors
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; "),
        );
    for (field, message) in errors {
        problem = problem.with_field_error(field.clone(), message.clone());
    }
    AppError::from(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[SortColumn] = &[
        SortColumn {
            key: "id",
            label: "N.",
            sql: "r.id",
        },
        SortColumn {
            key: "subject",
            label: "Oggetto",
            sql: "r.subject",
        },
    ];

    fn request(query: &[(&str, &str)]) -> ListRequest {
        let params = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListRequest::parse("/elenco", params, COLUMNS, "id", Direction::Desc)
    }

    #[test]
    fn bad_values_become_messages_and_defaults() {
        let list = request(&[
            ("page", "zero"),
            ("size", "7"),
            ("sort", "r.id; DROP TABLE x"),
            ("dir", "up"),
        ]);
        assert_eq!((list.page, list.size), (1, 50));
        assert_eq!(list.order_by("r.id"), "r.id DESC, r.id DESC");
        for field in ["page", "size", "sort", "dir"] {
            assert!(list.error(field).is_some(), "{field}");
        }
    }

    #[test]
    fn links_keep_filters_encoded_and_order() {
        let mut list = request(&[("q", "Caffè & latte 1"), ("sort", "subject"), ("page", "3")]);
        assert_eq!(list.text("q").as_deref(), Some("Caffè & latte 1"));
        assert_eq!(list.offset(), 100);
        assert_eq!(
            list.page_href(2),
            "/elenco?q=Caff%C3%A8%20%26%20latte%201&sort=subject&dir=asc&page=2"
        );
        assert_eq!(
            list.sort_href(&COLUMNS[1]),
            "/elenco?q=Caff%C3%A8%20%26%20latte%201&sort=subject&dir=desc"
        );
        assert_eq!(
            list.csv_href("/elenco.csv", Separator::Semicolon),
            "/elenco.csv?q=Caff%C3%A8%20%26%20latte%201&sort=subject&dir=asc&sep=%3B&bom=1"
        );
    }

    #[test]
    fn pager_marks_the_current_page() {
        let list = request(&[("page", "2")]);
        let html = list.pager(330).into_string();
        assert!(html.contains("Pagina 2 di 7"), "{html}");
        assert!(html.contains("aria-current=\"page\""), "{html}");
        assert!(
            html.contains("aria-label=\"Pagine dell&#39;elenco\"")
                || html.contains("aria-label=\"Pagine dell'elenco\""),
            "{html}"
        );
        assert_eq!(numbered(10, 20), vec![1, 8, 9, 10, 11, 12, 20]);
        assert_eq!(pages(0, 50), 1);
        assert_eq!(pages(201, 50), 5);
    }
}
