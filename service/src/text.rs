//! The one validator of free text people type (subjects, descriptions, comments, titles):
//! trimmed, not empty after trimming, within a length, and without control characters
//! (which would hide an empty text, break a line of a log or a CSV, or ring a terminal).
//! Its messages are Italian: they are shown beside the field.

use std::fmt;

/// Whether a text may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A subject, a title, a name: no control character at all.
    One,
    /// A description, a comment: newlines and tabs allowed (CR LF becomes LF), no other
    /// control character.
    Many,
}

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextError {
    /// Empty, or only blanks and invisible characters.
    Empty,
    /// Longer than this many characters.
    TooLong(usize),
    /// Holds a control character (or a bidirectional override, which reorders what is shown).
    Control,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Empty => f.write_str("Campo obbligatorio"),
            TextError::TooLong(max) => write!(f, "Al massimo {max} caratteri"),
            TextError::Control => f.write_str(
                "Il testo contiene caratteri di controllo non ammessi: riscriverlo o incollarlo come testo semplice",
            ),
        }
    }
}

impl std::error::Error for TextError {}

/// Characters that show nothing: a text made only of them (and blanks) is empty.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The text, trimmed, if it follows the rules; `required: false` lets an empty text through
/// (as an empty string).
pub fn clean(text: &str, lines: Lines, max: usize, required: bool) -> Result<String, TextError> {
    let text = match lines {
        Lines::One => text.to_owned(),
        Lines::Many => text.replace("\r\n", "\n"),
    };
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\t');
    if text
        .chars()
        .any(|c| (c.is_control() && !allowed(c)) || is_bidi_control(c))
    {
        return Err(TextError::Control);
    }
    let trimmed = text.trim();
    if trimmed
        .chars()
        .all(|c| c.is_whitespace() || is_invisible(c))
    {
        return if required {
            Err(TextError::Empty)
        } else {
            Ok(String::new())
        };
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_empty_in_disguise_are_refused() {
        assert_eq!(
            clean("\u{0}\u{7}\u{1b}", Lines::Many, 100, true),
            Err(TextError::Control)
        );
        assert_eq!(
            clean("a\u{85}b", Lines::Many, 100, true),
            Err(TextError::Control)
        );
        assert_eq!(
            clean("a\u{202E}b", Lines::One, 100, true),
            Err(TextError::Control)
        );
        assert_eq!(
            clean("due\nrighe", Lines::One, 100, true),
            Err(TextError::Control)
        );
        assert_eq!(
            clean("  \u{200B}\u{FEFF} ", Lines::One, 100, true),
            Err(TextError::Empty)
        );
        assert_eq!(
            clean(" \n\t ", Lines::Many, 100, true),
            Err(TextError::Empty)
        );
        assert_eq!(clean("", Lines::One, 100, false), Ok(String::new()));
        assert_eq!(
            clean("àèìòù!", Lines::One, 5, true),
            Err(TextError::TooLong(5))
        );
    }

    #[test]
    fn ordinary_text_is_trimmed_and_kept() {
        assert_eq!(
            clean("  La stampante\r\n\tnon stampa.  ", Lines::Many, 100, true),
            Ok("La stampante\n\tnon stampa.".to_owned())
        );
        assert_eq!(
            clean(" Caffè – è l'oggetto ", Lines::One, 100, true),
            Ok("Caffè – è l'oggetto".to_owned())
        );
    }
}
