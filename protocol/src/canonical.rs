//! Canonical JSON: one byte string per value, so that hashes and signatures are reproducible.
//!
//! The rules are RFC 8785 (JCS) restricted to the values the federation needs, which makes
//! them identical to the Matrix canonical JSON rules as well:
//! - no insignificant whitespace;
//! - object members sorted by their keys compared as UTF-16 code units, no duplicate keys;
//! - numbers are integers only, within ±(2^53−1), written without sign `+`, leading zeros,
//!   fraction or exponent (`-0` is refused). Amounts of money are decimal strings;
//! - strings are UTF-8 and escape only `"` `\` and the control characters below U+0020,
//!   using `\b \f \n \r \t` where they exist and `\u00xx` (lowercase hex) otherwise.
//!
//! [`check`] validates a received byte string in one pass without building a tree, because a
//! hub checks every payload it receives and this must never be the bottleneck of ingest.
//! [`to_vec`] produces canonical bytes from any `Serialize` value.

use std::cmp::Ordering;
use std::io::Write;

use serde::Serialize;
use serde_json::Value;

/// The largest integer allowed: 2^53 − 1, the largest integer every JSON parser keeps exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Nesting deeper than this is refused, so that checking never exhausts the stack.
pub const MAX_DEPTH: usize = 64;

/// Why a byte string is not canonical JSON. `offset` is the byte where the problem starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The bytes are not valid UTF-8.
    #[error("UTF-8 non valido al byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The bytes are not JSON at all (or end too early).
    #[error("JSON non valido al byte {offset}: qui serve {detail}")]
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
        /// What was expected there.
        detail: &'static str,
    },
    /// Whitespace outside strings is not allowed.
    #[error("spazio al byte {offset}: il JSON canonico non ha spazi fuori dalle stringhe")]
    Whitespace {
        /// Byte offset of the whitespace.
        offset: usize,
    },
    /// Floating-point numbers (fraction or exponent) are not allowed.
    #[error(
        "numero con decimali o esponente al byte {offset}: sono ammessi solo interi (scrivere gli importi come stringhe decimali, ad esempio \"1234.50\")"
    )]
    Float {
        /// Byte offset of the number.
        offset: usize,
    },
    /// An integer outside ±(2^53−1).
    #[error("l'intero al byte {offset} è fuori da ±(2^53-1): scriverlo come stringa")]
    IntegerRange {
        /// Byte offset of the number.
        offset: usize,
    },
    /// An integer written in a non-canonical way (`-0`, leading zeros).
    #[error(
        "l'intero al byte {offset} non è nella forma più breve (niente zeri iniziali, niente -0)"
    )]
    IntegerForm {
        /// Byte offset of the number.
        offset: usize,
    },
    /// A string escape that canonical JSON writes differently (e.g. `\/`, `\u0041`, `\u001F`).
    #[error(
        "la sequenza di escape al byte {offset} non è canonica: usare l'escape solo per \\\" \\\\ e i caratteri di controllo, come \\n o \\u00xx"
    )]
    Escape {
        /// Byte offset of the backslash.
        offset: usize,
    },
    /// A raw control character inside a string.
    #[error("carattere di controllo senza escape al byte {offset}")]
    ControlCharacter {
        /// Byte offset of the character.
        offset: usize,
    },
    /// The same key appears twice in one object.
    #[error("chiave {key:?} ripetuta al byte {offset}")]
    DuplicateKey {
        /// Byte offset of the second occurrence.
        offset: usize,
        /// The repeated key.
        key: String,
    },
    /// Object keys are not in canonical order.
    #[error(
        "la chiave {key:?} al byte {offset} è fuori ordine: le chiavi vanno ordinate (per unità di codice UTF-16)"
    )]
    KeyOrder {
        /// Byte offset of the misplaced key.
        offset: usize,
        /// The misplaced key.
        key: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("annidamento oltre {MAX_DEPTH} livelli al byte {offset}")]
    TooDeep {
        /// Byte offset where the limit was crossed.
        offset: usize,
    },
    /// Bytes after the end of the value.
    #[error("dati inattesi dopo il valore JSON al byte {offset}")]
    TrailingData {
        /// Byte offset of the extra data.
        offset: usize,
    },
}

impl CanonicalError {
    /// Byte offset where the problem starts.
    pub fn offset(&self) -> usize {
        match self {
            Self::InvalidUtf8 { offset }
            | Self::Syntax { offset, .. }
            | Self::Whitespace { offset }
            | Self::Float { offset }
            | Self::IntegerRange { offset }
            | Self::IntegerForm { offset }
            | Self::Escape { offset }
            | Self::ControlCharacter { offset }
            | Self::DuplicateKey { offset, .. }
            | Self::KeyOrder { offset, .. }
            | Self::TooDeep { offset }
            | Self::TrailingData { offset } => *offset,
        }
    }
}

/// Why a value cannot be written as canonical JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToCanonicalError {
    /// The value does not serialise to JSON.
    #[error("il valore non si può scrivere in JSON: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The value contains a floating-point number.
    #[error(
        "il valore contiene il numero in virgola mobile {0}: usare un intero o una stringa decimale"
    )]
    Float(String),
    /// The value contains an integer outside ±(2^53−1).
    #[error("il valore contiene l'intero {0}, fuori da ±(2^53-1): usare una stringa")]
    IntegerRange(String),
}

/// Serialises `value` as canonical JSON.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ToCanonicalError> {
    let tree = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_value(&tree, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), ToCanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            if let Some(n) = number.as_u64() {
                if n > MAX_SAFE_INTEGER {
                    return Err(ToCanonicalError::IntegerRange(n.to_string()));
                }
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{n}");
            } else if let Some(n) = number.as_i64() {
                if n.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(ToCanonicalError::IntegerRange(n.to_string()));
                }
                let _ = write!(out, "{n}");
            } else {
                return Err(ToCanonicalError::Float(number.to_string()));
            }
        }
        // serde_json escapes exactly as RFC 8785 does: `"`, `\`, and C0 controls
        // (short forms where they exist, else lowercase \u00xx); everything else is raw UTF-8.
        Value::String(text) => serde_json::to_writer(&mut *out, text)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| utf16_cmp(a.0, b.0));
            out.push(b'{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                write_value(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Orders strings by UTF-16 code units, as RFC 8785 requires. For text without characters
/// above U+FFFF this is the same as byte order.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// Checks that `bytes` are exactly the canonical JSON form of some value.
pub fn check(bytes: &[u8]) -> Result<(), CanonicalError> {
    std::str::from_utf8(bytes).map_err(|e| CanonicalError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut scanner = Scanner { bytes, pos: 0 };
    scanner.value(0)?;
    if scanner.pos != bytes.len() {
        return Err(scanner.unexpected_after_value());
    }
    Ok(())
}

/// Checks that `bytes` are canonical and then deserialises them into `T`.
pub fn from_slice<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, FromCanonicalError> {
    check(bytes)?;
    Ok(serde_json::from_slice(bytes)?)
}

/// Why canonical bytes could not be read as the expected type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FromCanonicalError {
    /// The bytes are not canonical JSON.
    #[error("non è JSON canonico: {0}")]
    NotCanonical(#[from] CanonicalError),
    /// The JSON does not have the expected shape.
    #[error("{0}")]
    Shape(#[from] serde_json::Error),
}

/// Bytes that end a run of plain string content: `"`, `\\` and the C0 controls.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// One-pass validator over bytes already known to be UTF-8.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn syntax(&self, detail: &'static str) -> CanonicalError {
        match self.peek() {
            Some(b' ' | b'\n' | b'\r' | b'\t') => CanonicalError::Whitespace { offset: self.pos },
            _ => CanonicalError::Syntax {
                offset: self.pos,
                detail,
            },
        }
    }

    fn unexpected_after_value(&self) -> CanonicalError {
        match self.peek() {
            Some(b' ' | b'\n' | b'\r' | b'\t') => CanonicalError::Whitespace { offset: self.pos },
            _ => CanonicalError::TrailingData { offset: self.pos },
        }
    }

    fn expect(&mut self, byte: u8, detail: &'static str) -> Result<(), CanonicalError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(detail))
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), CanonicalError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax("un valore JSON"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), CanonicalError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.syntax("un valore JSON")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), CanonicalError> {
        if depth > MAX_DEPTH {
            return Err(CanonicalError::TooDeep { offset: self.pos });
        }
        self.pos += 1; // '{'
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mut previous: Option<std::borrow::Cow<'a, str>> = None;
        loop {
            let key_offset = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.syntax("una chiave dell'oggetto"));
            }
            let key = self.string()?;
            if let Some(previous) = &previous {
                match utf16_cmp(previous, &key) {
                    Ordering::Less => {}
                    Ordering::Equal => {
                        return Err(CanonicalError::DuplicateKey {
                            offset: key_offset,
                            key: key.into_owned(),
                        });
                    }
                    Ordering::Greater => {
                        return Err(CanonicalError::KeyOrder {
                            offset: key_offset,
                            key: key.into_owned(),
                        });
                    }
                }
            }
            previous = Some(key);
            self.expect(b':', "':' dopo la chiave dell'oggetto")?;
            self.value(depth)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax("',' o '}' nell'oggetto")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), CanonicalError> {
        if depth > MAX_DEPTH {
            return Err(CanonicalError::TooDeep { offset: self.pos });
        }
        self.pos += 1; // '['
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(depth)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax("',' o ']' nell'array")),
            }
        }
    }

    fn integer(&mut self) -> Result<(), CanonicalError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let digits = &self.bytes[digits_start..self.pos];
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(CanonicalError::Float { offset: start });
        }
        if digits.is_empty() {
            return Err(CanonicalError::Syntax {
                offset: start,
                detail: "una cifra dopo '-'",
            });
        }
        if (digits.len() > 1 && digits[0] == b'0') || (negative && digits == b"0") {
            return Err(CanonicalError::IntegerForm { offset: start });
        }
        // 2^53-1 has 16 digits; compare numerically only when the length is close.
        let too_big = digits.len() > 16
            || (digits.len() == 16
                && digits
                    .iter()
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
                    > MAX_SAFE_INTEGER);
        if too_big {
            return Err(CanonicalError::IntegerRange { offset: start });
        }
        Ok(())
    }

    /// Scans a string starting at its opening quote and returns its decoded content.
    fn string(&mut self) -> Result<std::borrow::Cow<'a, str>, CanonicalError> {
        self.pos += 1; // '"'
        let content_start = self.pos;
        let mut decoded: Option<String> = None;
        loop {
            let Some(byte) = self.peek() else {
                return Err(CanonicalError::Syntax {
                    offset: self.pos,
                    detail: "la fine della stringa",
                });
            };
            match byte {
                b'"' => {
                    let raw = &self.bytes[content_start..self.pos];
                    self.pos += 1;
                    return Ok(match decoded {
                        Some(text) => std::borrow::Cow::Owned(text),
                        // Checked as UTF-8 as a whole in `check`; slicing at ASCII quotes keeps it valid.
                        None => {
                            std::borrow::Cow::Borrowed(std::str::from_utf8(raw).map_err(|_| {
                                CanonicalError::InvalidUtf8 {
                                    offset: content_start,
                                }
                            })?)
                        }
                    });
                }
                b'\\' => {
                    let text = decoded.get_or_insert_with(|| {
                        String::from_utf8_lossy(&self.bytes[content_start..self.pos]).into_owned()
                    });
                    let escape_at = self.pos;
                    let escaped = match self.bytes.get(self.pos + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hex = self.bytes.get(self.pos + 2..self.pos + 6);
                            let control = match hex {
                                Some([b'0', b'0', high @ (b'0' | b'1'), low]) => {
                                    let low = match low {
                                        b'0'..=b'9' => low - b'0',
                                        b'a'..=b'f' => low - b'a' + 10,
                                        _ => {
                                            return Err(CanonicalError::Escape {
                                                offset: escape_at,
                                            });
                                        }
                                    };
                                    (high - b'0') * 16 + low
                                }
                                _ => return Err(CanonicalError::Escape { offset: escape_at }),
                            };
                            // Controls that have a short escape must use it.
                            if matches!(control, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return Err(CanonicalError::Escape { offset: escape_at });
                            }
                            self.pos += 4;
                            char::from(control)
                        }
                        _ => return Err(CanonicalError::Escape { offset: escape_at }),
                    };
                    text.push(escaped);
                    self.pos += 2;
                }
                0x00..=0x1f => return Err(CanonicalError::ControlCharacter { offset: self.pos }),
                _ => {
                    // Skip the run up to the next quote, backslash or control character in
                    // one tight loop: strings are most of a payload's bytes.
                    let run_start = self.pos;
                    let rest = &self.bytes[run_start..];
                    self.pos += rest
                        .iter()
                        .position(|&b| STRING_STOP[usize::from(b)])
                        .unwrap_or(rest.len());
                    if let Some(text) = decoded.as_mut() {
                        text.push_str(&String::from_utf8_lossy(&self.bytes[run_start..self.pos]));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_sorted_and_compact() {
        let value = json!({"b": 1, "a": [true, null, "x"], "c": {"z": -5, "y": "€\n"}});
        let bytes = to_vec(&value).unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"a":[true,null,"x"],"b":1,"c":{"y":"€\n","z":-5}}"#
        );
        check(&bytes).unwrap();
    }

    #[test]
    fn sorts_keys_by_utf16_code_units() {
        // U+E000 sorts after U+1F600 in UTF-16 (surrogates are 0xD8xx), before it in UTF-8.
        let value = json!({"\u{e000}": 1, "\u{1f600}": 2});
        let bytes = to_vec(&value).unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "{\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
        check(&bytes).unwrap();
    }

    #[test]
    fn refuses_floats_and_big_integers_when_writing() {
        assert!(matches!(
            to_vec(&json!({"a": 1.5})),
            Err(ToCanonicalError::Float(_))
        ));
        assert!(matches!(
            to_vec(&json!(9007199254740992u64)),
            Err(ToCanonicalError::IntegerRange(_))
        ));
        assert!(to_vec(&json!(-9007199254740991i64)).is_ok());
    }

    #[test]
    fn each_kind_of_non_canonical_input_has_its_error() {
        type Case = (&'static [u8], fn(&CanonicalError) -> bool);
        let cases: &[Case] = &[
            (b"{\"a\": 1}", |e| {
                matches!(e, CanonicalError::Whitespace { offset: 5 })
            }),
            (b"{\"b\":1,\"a\":2}", |e| {
                matches!(e, CanonicalError::KeyOrder { .. })
            }),
            (b"{\"a\":1,\"a\":2}", |e| {
                matches!(e, CanonicalError::DuplicateKey { .. })
            }),
            (b"1.0", |e| matches!(e, CanonicalError::Float { .. })),
            (b"1e3", |e| matches!(e, CanonicalError::Float { .. })),
            (b"9007199254740992", |e| {
                matches!(e, CanonicalError::IntegerRange { .. })
            }),
            (b"-0", |e| matches!(e, CanonicalError::IntegerForm { .. })),
            (b"007", |e| matches!(e, CanonicalError::IntegerForm { .. })),
            (b"\"\\/\"", |e| matches!(e, CanonicalError::Escape { .. })),
            (b"\"\\u0041\"", |e| {
                matches!(e, CanonicalError::Escape { .. })
            }),
            (b"\"\\u000a\"", |e| {
                matches!(e, CanonicalError::Escape { .. })
            }),
            (b"\"\\u001F\"", |e| {
                matches!(e, CanonicalError::Escape { .. })
            }),
            (b"\"a\tb\"", |e| {
                matches!(e, CanonicalError::ControlCharacter { .. })
            }),
            (b"\"\xff\"", |e| {
                matches!(e, CanonicalError::InvalidUtf8 { offset: 1 })
            }),
            (b"{}x", |e| {
                matches!(e, CanonicalError::TrailingData { offset: 2 })
            }),
            (b"{} ", |e| {
                matches!(e, CanonicalError::Whitespace { offset: 2 })
            }),
            (b"{\"a\":", |e| matches!(e, CanonicalError::Syntax { .. })),
            (b"", |e| matches!(e, CanonicalError::Syntax { .. })),
        ];
        for (input, is_expected) in cases {
            let error = check(input).expect_err(&String::from_utf8_lossy(input));
            assert!(
                is_expected(&error),
                "{:?} gave {error:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn accepts_canonical_escapes() {
        check(b"\"\\u001f\\n\\\"\\\\\"").unwrap();
        check(b"[-9007199254740991,0,9007199254740991]").unwrap();
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            check(deep.as_bytes()),
            Err(CanonicalError::TooDeep { .. })
        ));
        let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        check(fine.as_bytes()).unwrap();
    }
}
