//! Who a user is: the Province's module vocabulary, roles and users. Plain types with no
//! dependency on the rest of the node, shared by every layer: the database reads and writes
//! them (`db::people`), `auth` resolves them for each request, the policies decide on them.

use std::fmt;

use pico_protocol::{ComuneCode, payload};

use crate::labels::labelled_enum;

// The vocabulary of operator roles, best practices and networks; the protocol's
// `payload::Module` is mapped to and from it explicitly, below.
labelled_enum! {
    /// The Province's thematic modules; an operator works in exactly one.
    #[derive(PartialOrd, Ord)]
    pub enum Module as "module" {
        /// Stazione Unica Appaltante.
        Sua = "sua" => "Stazione Unica Appaltante",
        /// EU funding.
        Sape = "sape" => "Politiche europee",
        /// Innovative territorial services.
        Sit = "sit" => "Servizi innovativi territoriali",
        /// Personnel policies.
        Personale = "personale" => "Personale",
        /// Help Desk.
        Helpdesk = "helpdesk" => "Help Desk",
        /// Training.
        Formazione = "formazione" => "Formazione",
        /// Open data and indicators.
        Dati = "dati" => "Dati e indicatori",
        /// Community and best practices.
        Community = "community" => "Community",
    }
}

impl From<Module> for payload::Module {
    fn from(module: Module) -> payload::Module {
        match module {
            Module::Sua => payload::Module::Sua,
            Module::Sape => payload::Module::Sape,
            Module::Sit => payload::Module::Sit,
            Module::Personale => payload::Module::Personale,
            Module::Helpdesk => payload::Module::Helpdesk,
            Module::Formazione => payload::Module::Formazione,
            Module::Dati => payload::Module::Dati,
            Module::Community => payload::Module::Community,
        }
    }
}

/// Both vocabularies name the same eight modules today. The matches are written out, with no
/// catch-all, so a module added on either side is a compile error here rather than a guess;
/// text (a stored or typed code) becomes a [`Module`] only through `parse`/`FromStr`, whose
/// unknown value is an error.
impl From<payload::Module> for Module {
    fn from(module: payload::Module) -> Module {
        match module {
            payload::Module::Sua => Module::Sua,
            payload::Module::Sape => Module::Sape,
            payload::Module::Sit => Module::Sit,
            payload::Module::Personale => Module::Personale,
            payload::Module::Helpdesk => Module::Helpdesk,
            payload::Module::Formazione => Module::Formazione,
            payload::Module::Dati => Module::Dati,
            payload::Module::Community => Module::Community,
        }
    }
}

/// What a signed-in user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Province administrator: everything.
    Admin,
    /// Province operator of one module.
    Operator(Module),
    /// Staff of one Comune of this Province.
    Comune(ComuneCode),
}

impl Role {
    /// The `(role, module, comune_code)` columns.
    pub fn to_columns(&self) -> (&'static str, Option<&'static str>, Option<String>) {
        match self {
            Role::Admin => ("admin", None, None),
            Role::Operator(module) => ("operator", Some(module.as_str()), None),
            Role::Comune(code) => ("comune", None, Some(code.as_str().to_owned())),
        }
    }

    /// Reads the columns back; `None` for a row that violates the schema's checks.
    pub fn from_columns(role: &str, module: Option<&str>, comune: Option<&str>) -> Option<Role> {
        match (role, module, comune) {
            ("admin", None, None) => Some(Role::Admin),
            ("operator", Some(module), None) => module.parse().ok().map(Role::Operator),
            ("comune", None, Some(code)) => ComuneCode::parse(code).ok().map(Role::Comune),
            _ => None,
        }
    }

    /// Whether this is Province staff (admin or operator).
    pub fn is_province(&self) -> bool {
        !matches!(self, Role::Comune(_))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::Operator(module) => write!(f, "operator:{}", module.as_str()),
            Role::Comune(code) => write!(f, "comune:{code}"),
        }
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown on pages.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Signed in with a one-time password: nothing but changing it is allowed
    /// (see [`crate::auth::password`]).
    pub must_change_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_map_to_the_protocol_and_back_under_the_same_name() {
        for module in Module::ALL {
            let wire = payload::Module::from(module);
            assert_eq!(Module::from(wire), module);
            assert_eq!(
                serde_json::to_value(wire).ok(),
                serde_json::to_value(module).ok(),
                "{module}"
            );
        }
    }

    #[test]
    fn unknown_module_text_is_an_error_not_community() {
        assert_eq!("community".parse::<Module>(), Ok(Module::Community));
        let err = "portale".parse::<Module>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown module \"portale\": expected one of sua, sape, sit, personale, helpdesk, \
             formazione, dati, community"
        );
    }
}
