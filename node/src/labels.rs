//! Labelled enums: a closed list of values, each with the code that is stored and sent
//! (`in_progress`) and the Italian label people read ("In lavorazione"), written once.
//!
//! [`labelled_enum!`] declares the enum and gives it `ALL`, `as_str`, `label`, `parse`,
//! `FromStr`, `Display` (the code), serde and `utoipa::ToSchema` under the codes, and
//! rusqlite's `ToSql`/`FromSql` (the code as text; an unknown code read back is an error).

use std::fmt;

/// A text that is none of an enum's codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode {
    /// What the enum names, for the message (`module`, `status`).
    pub what: &'static str,
    /// The text received.
    pub text: String,
    /// The codes accepted.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "«{}» non è un valore di {}: usare uno tra {}",
            self.text,
            self.what,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownCode {}

/// What every [`labelled_enum!`] is, for code generic over vocabularies (the audited
/// lifecycle of `crate::lifecycle` takes any of them as its states). The enum's own inherent
/// methods have the same names and are what concrete code calls.
pub trait Labelled: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// What the enum names, for messages (`status`, `state`).
    const WHAT: &'static str;
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    /// The stored and wire name.
    fn as_str(self) -> &'static str;
    /// The Italian label shown on pages.
    fn label(self) -> &'static str;
    /// Parses a code (or one of its accepted aliases).
    fn parse(text: &str) -> Option<Self>;
}

/// Declares a labelled enum:
///
/// ```ignore
/// labelled_enum! {
///     /// Where a request is.
///     #[derive(PartialOrd, Ord)]
///     pub enum Status as "status" {
///         /// Opened, not yet looked at.
///         New = "new" => "Nuova",
///         /// `parse` also accepts the codes after `|` (serde does not).
///         Supplies = "supplies" | "goods" => "Forniture",
///     }
/// }
/// ```
macro_rules! labelled_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $code:tt $(| $alias:tt)* => $label:literal
            ),+ $(,)?
        }
    ) => {
        // The codes are `tt`, not `literal`: a `literal` fragment reaches derive macros
        // wrapped in an invisible group, which serde reads but utoipa's `ToSchema` ignores.
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                #[serde(rename = $code)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// Every code, in declaration order.
            pub const CODES: [&'static str; [$($code),+].len()] = [$($code),+];

            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The Italian label shown on pages.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// Parses a code (or one of its accepted aliases).
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($code $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::labels::Labelled for $name {
            const WHAT: &'static str = $what;
            fn all() -> &'static [$name] {
                &$name::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn label(self) -> &'static str {
                $name::label(self)
            }
            fn parse(text: &str) -> Option<$name> {
                $name::parse(text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::labels::UnknownCode;
            fn from_str(text: &str) -> Result<$name, $crate::labels::UnknownCode> {
                $name::parse(text).ok_or_else(|| $crate::labels::UnknownCode {
                    what: $what,
                    text: text.to_owned(),
                    expected: &$name::CODES,
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<$name> {
                let text = value.as_str()?;
                text.parse::<$name>()
                    .map_err(|err| rusqlite::types::FromSqlError::Other(Box::new(err)))
            }
        }
    };
}

pub(crate) use labelled_enum;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    labelled_enum! {
        /// A test enum.
        pub enum Colour as "colour" {
            /// Red.
            Red = "red" => "Rosso",
            /// Dark blue.
            DarkBlue = "dark_blue" | "navy" => "Blu scuro",
        }
    }

    #[test]
    fn codes_labels_and_parsing_agree() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
        assert_eq!(Colour::DarkBlue.label(), "Blu scuro");
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert_eq!(Colour::parse("navy"), Some(Colour::DarkBlue));
        assert_eq!(Colour::parse("Red"), None);
        assert_eq!(
            "green".parse::<Colour>().unwrap_err().to_string(),
            "«green» non è un valore di colour: usare uno tra red, dark_blue"
        );
    }

    #[test]
    fn serde_uses_the_codes_only() {
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).ok().as_deref(),
            Some("\"dark_blue\"")
        );
        assert!(serde_json::from_str::<Colour>("\"dark_blue\"").is_ok());
        // Aliases are for `parse` (imports), not for the API.
        assert!(serde_json::from_str::<Colour>("\"navy\"").is_err());
    }

    #[test]
    fn sqlite_stores_the_code_and_refuses_unknown_text() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        let stored: String = conn.query_row("SELECT ?1", [Colour::DarkBlue], |row| row.get(0))?;
        assert_eq!(stored, "dark_blue");
        let read: Colour = conn.query_row("SELECT 'red'", [], |row| row.get(0))?;
        assert_eq!(read, Colour::Red);
        assert!(
            conn.query_row("SELECT 'green'", [], |row| row.get::<_, Colour>(0))
                .is_err()
        );
        Ok(())
    }
}
