//! Files sent to be saved (attachments, CSV exports): one `Content-Disposition` for every
//! download of node and hub, RFC 6266 with the RFC 8187 `filename*` for names beyond ASCII,
//! and `Cache-Control: no-store` (a download is someone's data, not a public asset).

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 8187 `attr-char`: what `filename*` may carry without percent-encoding.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="…"; filename*=UTF-8''…`: the quoted name is an ASCII fallback
/// (anything else, quotes and backslashes become `_`) for old clients; `filename*` carries
/// the exact name, which RFC 6266 clients prefer.
pub fn content_disposition(filename: &str) -> HeaderValue {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = utf8_percent_encode(filename, ATTR_CHAR);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A file to be saved: `data` with its media type and name.
pub fn attachment(content_type: &str, filename: &str, data: impl Into<Body>) -> Response {
    let mut response = data.into().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(filename));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A CSV export (UTF-8) to be saved as `filename`.
pub fn csv(filename: &str, data: Vec<u8>) -> Response {
    attachment("text/csv; charset=utf-8", filename, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_beyond_ascii_get_filename_star_and_a_fallback() {
        assert_eq!(
            content_disposition("Verbale di gara – Ca' Foscari \"1\".pdf"),
            "attachment; filename=\"Verbale di gara _ Ca' Foscari _1_.pdf\"; \
             filename*=UTF-8''Verbale%20di%20gara%20%E2%80%93%20Ca%27%20Foscari%20%221%22.pdf"
        );
        assert_eq!(
            content_disposition("helpdesk.csv"),
            "attachment; filename=\"helpdesk.csv\"; filename*=UTF-8''helpdesk.csv"
        );
        // Control characters cannot break out of the header.
        assert_eq!(
            content_disposition("a\r\nb.txt"),
            "attachment; filename=\"a__b.txt\"; filename*=UTF-8''a%0D%0Ab.txt"
        );
    }
}
