//! Query parameters as every national view of the hub reads them: an empty parameter counts as
//! absent (as a form sends it), and a wrong value is a 400 problem (`invalid_query`) in Italian
//! that names the parameter and says what to write. One place, so that `/v1/appalti`,
//! `/v1/sape`, `/v1/sit`, `/v1/formazione` and `/v1/bes` answer the same mistake the same way.

use pico_protocol::ProvinceCode;
use pico_service::Problem;
use pico_service::csv::Separator;
use rusqlite::Connection;

use crate::error::HubError;

/// How to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// CSV with this separator, with or without the byte order mark (for Excel).
    Csv(Separator, bool),
}

/// The parameter's value, trimmed, if it says anything.
pub fn present(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// A wrong query: 400, `invalid_query`.
pub fn bad(detail: impl Into<String>) -> Problem {
    Problem::bad_request("invalid_query", detail.into())
}

/// A yes/no parameter: `1`/`true` or `0`/`false` (absent: no).
pub fn flag(name: &str, value: Option<&String>) -> Result<bool, Problem> {
    match present(value) {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => Err(bad(format!(
            "{name} «{other}» non valido: usare 1 oppure 0"
        ))),
    }
}

/// The answer's format from `format` (`json`, the default, or `csv`), `sep` and `bom` (the
/// last two only with CSV; pass `None` for `bom` where an endpoint has none).
pub fn format(
    format: Option<&String>,
    sep: Option<&String>,
    bom: Option<&String>,
) -> Result<Format, Problem> {
    let csv = match present(format) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(bad(format!(
                "format «{other}» non valido: usare json oppure csv"
            )));
        }
    };
    let separator = Separator::parse(present(sep)).map_err(|err| bad(err.to_string()))?;
    let bom = flag("bom", bom)?;
    if !csv && (present(sep).is_some() || bom) {
        return Err(bad("sep e bom valgono solo con format=csv"));
    }
    Ok(if csv {
        Format::Csv(separator, bom)
    } else {
        Format::Json
    })
}

/// A year: four digits, 1900–2999.
pub fn year(value: Option<&String>) -> Result<Option<i64>, Problem> {
    present(value)
        .map(|text| {
            text.parse::<i64>()
                .ok()
                .filter(|y| (1900..=2999).contains(y))
                .ok_or_else(|| {
                    bad(format!(
                        "year «{text}» non è un anno: scrivere quattro cifre, come 2025"
                    ))
                })
        })
        .transpose()
}

/// A Province by its historical ISTAT code, checked for form (whether the registry has it is
/// the caller's check).
pub fn province(value: Option<&String>) -> Result<Option<String>, Problem> {
    present(value)
        .map(|text| {
            ProvinceCode::parse(text)
                .map(|code| code.as_str().to_owned())
                .map_err(|_| {
                    bad(format!(
                        "province «{text}» non è un codice di Provincia: usare il codice storico ISTAT di tre cifre, come 026"
                    ))
                })
        })
        .transpose()
}

/// Refuses a Province code that is well formed but not in ISTAT's list (a typo, most likely),
/// rather than answering with an empty table.
pub fn check_province(conn: &Connection, code: Option<&str>) -> Result<(), HubError> {
    if let Some(code) = code
        && let Ok(parsed) = ProvinceCode::parse(code)
        && !crate::db::registry::exists(conn, parsed)?
    {
        return Err(bad(format!(
            "province «{code}»: nessuna Provincia ha questo codice nell'elenco ISTAT; usare il codice storico di tre cifre di una Provincia, come 026 per Treviso"
        ))
        .into());
    }
    Ok(())
}

/// Refuses a region that names none of ISTAT's regions, rather than answering with empty
/// tables.
pub fn check_region(conn: &Connection, region: Option<&str>) -> Result<(), HubError> {
    if let Some(region) = region {
        let regions = crate::db::sape::regions(conn)?;
        if !regions.iter().any(|r| r == region) {
            return Err(bad(format!(
                "region «{region}» non è una regione: usare il nome ISTAT, uno tra {}",
                regions.join(", ")
            ))
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn formats_and_their_mistakes() {
        assert_eq!(format(None, None, None).unwrap(), Format::Json);
        assert_eq!(
            format(
                some("csv").as_ref(),
                some("semicolon").as_ref(),
                some("1").as_ref()
            )
            .unwrap(),
            Format::Csv(Separator::Semicolon, true)
        );
        assert_eq!(
            format(some(" csv ").as_ref(), some("").as_ref(), None).unwrap(),
            Format::Csv(Separator::Comma, false)
        );
        let detail = |p: Problem| p.detail().unwrap_or_default().to_owned();
        assert!(
            detail(format(some("xml").as_ref(), None, None).unwrap_err())
                .contains("json oppure csv")
        );
        assert!(
            detail(format(None, some("semicolon").as_ref(), None).unwrap_err())
                .contains("format=csv")
        );
        assert!(
            detail(format(some("csv").as_ref(), None, some("si").as_ref()).unwrap_err())
                .contains("usare 1 oppure 0")
        );
    }

    #[test]
    fn years_and_provinces() {
        assert_eq!(year(some("2025").as_ref()).unwrap(), Some(2025));
        assert_eq!(year(some(" ").as_ref()).unwrap(), None);
        assert!(year(some("25").as_ref()).is_err());
        assert_eq!(
            province(some("026").as_ref()).unwrap(),
            Some("026".to_owned())
        );
        assert!(province(some("26").as_ref()).is_err());
    }
}
