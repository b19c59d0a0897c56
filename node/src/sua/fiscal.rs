//! Italian tax identifiers of suppliers: the codice fiscale of a person (16 characters) and
//! the 11-digit number shared by companies' partita IVA and entities' numeric codice
//! fiscale. Both end with a check character, verified here so a typo is caught when the
//! award is entered rather than when ANAC refuses the record.

use std::fmt;

/// A codice fiscale or partita IVA with a correct check character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiscalCode(String);

impl FiscalCode {
    /// Parses an identifier, accepting surrounding spaces, lower case and an `IT` prefix
    /// before a partita IVA (`IT01234567890`).
    pub fn parse(text: &str) -> Result<FiscalCode, String> {
        let mut code = text.trim().to_ascii_uppercase().replace(' ', "");
        if code.len() == 13
            && code.starts_with("IT")
            && code[2..].bytes().all(|b| b.is_ascii_digit())
        {
            code.drain(..2);
        }
        match code.len() {
            11 if code.bytes().all(|b| b.is_ascii_digit()) => {
                if Self::numeric_check(&code) {
                    Ok(FiscalCode(code))
                } else {
                    Err(format!(
                        "{code}: la cifra di controllo della partita IVA / codice fiscale numerico è errata; verificate il codice"
                    ))
                }
            }
            16 if Self::personal_shape(&code) => {
                if Self::personal_check(&code) {
                    Ok(FiscalCode(code))
                } else {
                    Err(format!(
                        "{code}: il carattere di controllo del codice fiscale è errato; verificate il codice"
                    ))
                }
            }
            _ => Err(
                "Indicate la partita IVA (11 cifre) o il codice fiscale (16 caratteri) dell'aggiudicatario"
                    .to_owned(),
            ),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partita IVA check digit (Luhn with the even positions doubled).
    fn numeric_check(code: &str) -> bool {
        let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits[..10]
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if i % 2 == 1 {
                    let doubled = d * 2;
                    if doubled > 9 { doubled - 9 } else { doubled }
                } else {
                    *d
                }
            })
            .sum();
        (10 - sum % 10) % 10 == digits[10]
    }

    /// Letters where letters go; digits (or their omocodia letters) where digits go.
    fn personal_shape(code: &str) -> bool {
        let omocodia = |c: u8| c.is_ascii_digit() || b"LMNPQRSTUV".contains(&c);
        code.bytes().enumerate().all(|(i, c)| match i {
            0..=5 | 8 | 11 | 15 => c.is_ascii_uppercase(),
            _ => omocodia(c),
        })
    }

    /// The codice fiscale check letter (D.M. 12/03/1974, odd and even position tables).
    fn personal_check(code: &str) -> bool {
        const ODD: [u32; 26] = [
            1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
            24, 23,
        ];
        let sum: u32 = code
            .bytes()
            .take(15)
            .enumerate()
            .map(|(i, c)| {
                let index = if c.is_ascii_digit() {
                    usize::from(c - b'0')
                } else {
                    usize::from(c - b'A')
                };
                if i % 2 == 0 { ODD[index] } else { index as u32 }
            })
            .sum();
        u32::from(code.as_bytes()[15] - b'A') == sum % 26
    }
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Supplier and buyer identifiers (`IT-CF`) of the real ANAC releases shipped as fixtures.
    const ANAC_IDS: &[&str] = &[
        "83000350724",
        "03213200755",
        "01587640515",
        "00311310379",
        "06328131211",
        "04327290617",
        "03530851207",
        "02924640275",
        "01808910655",
        "06281300654",
        "01336990328",
        "03384320408",
        "02300310519",
        "80015010723",
        "02249430659",
        "12783620151",
        "00191870070",
        "00851630707",
        "RNAGPP54B15L328M",
    ];

    #[test]
    fn real_identifiers_pass() {
        for id in ANAC_IDS {
            assert_eq!(FiscalCode::parse(id).map(|c| c.0), Ok((*id).to_owned()));
        }
        assert_eq!(
            FiscalCode::parse(" it03213200755 ").map(|c| c.0),
            Ok("03213200755".into())
        );
        assert_eq!(
            FiscalCode::parse("rnagpp54b15l328m").map(|c| c.0),
            Ok("RNAGPP54B15L328M".into())
        );
    }

    #[test]
    fn typos_are_caught() {
        assert!(FiscalCode::parse("03213200756").is_err());
        assert!(FiscalCode::parse("RNAGPP54B15L328N").is_err());
        assert!(FiscalCode::parse("0321320075").is_err());
        assert!(FiscalCode::parse("RNAGPP54B15L32").is_err());
        assert!(FiscalCode::parse("1NAGPP54B15L328M").is_err());
        assert!(FiscalCode::parse("").is_err());
    }
}
