//! Who a user is: the Province's module vocabulary, roles and users. Plain types with no
//! dependency on the rest of the node, shared by every layer: the database reads and writes
//! them (`db::people`), `auth` resolves them for each request, the policies decide on them.

use std::collections::BTreeSet;
use std::fmt;

use pico_protocol::{ComuneCode, payload};

use crate::labels::labelled_enum;

// The vocabulary of operator roles, best practices and networks; the protocol's
// `payload::Module` is mapped to and from it explicitly, below.
labelled_enum! {
    /// The Province's thematic modules; an operator works in one or more.
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

/// One role a person may hold. A person holds a set of them: see [`Roles`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Province administrator: everything.
    Admin,
    /// Province operator of one module.
    Operator(Module),
    /// Staff of one Comune of this Province.
    Comune(ComuneCode),
}

impl Role {
    /// Whether this is Province staff (admin or operator).
    pub fn is_province(&self) -> bool {
        !matches!(self, Role::Comune(_))
    }

    /// The Italian name of the role ("Amministratore", "Operatore Help Desk",
    /// "Comune 026086").
    pub fn label(&self) -> String {
        match self {
            Role::Admin => "Amministratore".to_owned(),
            Role::Operator(module) => format!("Operatore {}", module.label()),
            Role::Comune(code) => format!("Comune {code}"),
        }
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

/// Every role a person holds. Province staff hold any mix of the administrator's role and
/// the operator roles of one or more modules; a Comune user holds exactly one Comune and
/// nothing else, since a Comune's staff are not the Province's: the type cannot say
/// otherwise. Rights add up: a person may do what any role they hold permits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roles {
    /// Province staff.
    Province {
        /// The administrator's role.
        admin: bool,
        /// The modules they operate.
        modules: BTreeSet<Module>,
    },
    /// Staff of one Comune of this Province.
    Comune(ComuneCode),
}

/// Why a set of roles cannot be held together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    /// No role at all.
    #[error("scegliere almeno un ruolo")]
    Empty,
    /// A Comune together with Province roles.
    #[error("un utente di un Comune non può avere anche ruoli della Provincia")]
    ComuneAndProvince,
    /// Two Comuni.
    #[error("un utente può appartenere a un solo Comune")]
    TwoComuni,
}

impl Roles {
    /// The administrator's role only.
    pub fn admin() -> Roles {
        Roles::Province {
            admin: true,
            modules: BTreeSet::new(),
        }
    }

    /// The roles of `roles`, if they can be held together and there is at least one.
    pub fn from_roles(roles: impl IntoIterator<Item = Role>) -> Result<Roles, RolesError> {
        let mut admin = false;
        let mut modules = BTreeSet::new();
        let mut comune: Option<ComuneCode> = None;
        for role in roles {
            match role {
                Role::Admin => admin = true,
                Role::Operator(module) => {
                    modules.insert(module);
                }
                Role::Comune(code) => match &comune {
                    Some(held) if *held != code => return Err(RolesError::TwoComuni),
                    _ => comune = Some(code),
                },
            }
        }
        match comune {
            Some(_) if admin || !modules.is_empty() => Err(RolesError::ComuneAndProvince),
            Some(code) => Ok(Roles::Comune(code)),
            None if !admin && modules.is_empty() => Err(RolesError::Empty),
            None => Ok(Roles::Province { admin, modules }),
        }
    }

    /// Whether `role` is one of these.
    pub fn holds(&self, role: &Role) -> bool {
        match (self, role) {
            (Roles::Province { admin, .. }, Role::Admin) => *admin,
            (Roles::Province { modules, .. }, Role::Operator(module)) => modules.contains(module),
            (Roles::Comune(held), Role::Comune(code)) => held == code,
            _ => false,
        }
    }

    /// Whether these include the administrator's role.
    pub fn is_admin(&self) -> bool {
        matches!(self, Roles::Province { admin: true, .. })
    }

    /// Whether these include the operator role of `module`.
    pub fn operates(&self, module: Module) -> bool {
        matches!(self, Roles::Province { modules, .. } if modules.contains(&module))
    }

    /// The Comune of a Comune user.
    pub fn comune(&self) -> Option<&ComuneCode> {
        match self {
            Roles::Comune(code) => Some(code),
            Roles::Province { .. } => None,
        }
    }

    /// Whether this is Province staff (admin or operator).
    pub fn is_province(&self) -> bool {
        matches!(self, Roles::Province { .. })
    }

    /// Whether any role held satisfies `test` (a policy's rule for one role).
    pub fn any(&self, test: impl FnMut(&Role) -> bool) -> bool {
        self.to_vec().iter().any(test)
    }

    /// The modules operated (none for a Comune user).
    pub fn modules(&self) -> impl Iterator<Item = Module> + '_ {
        let modules = match self {
            Roles::Province { modules, .. } => Some(modules),
            Roles::Comune(_) => None,
        };
        modules.into_iter().flatten().copied()
    }

    /// Each role held: the administrator's first, then the modules in their order.
    pub fn to_vec(&self) -> Vec<Role> {
        match self {
            Roles::Comune(code) => vec![Role::Comune(*code)],
            Roles::Province { admin, modules } => admin
                .then_some(Role::Admin)
                .into_iter()
                .chain(modules.iter().copied().map(Role::Operator))
                .collect(),
        }
    }

    /// The same roles with `role` given or taken away.
    pub fn with(&self, role: Role, held: bool) -> Result<Roles, RolesError> {
        let others: Vec<Role> = self.to_vec().into_iter().filter(|r| *r != role).collect();
        if held {
            Roles::from_roles(others.into_iter().chain([role]))
        } else {
            Roles::from_roles(others)
        }
    }

    /// The Italian names of the roles, joined ("Amministratore, Operatore Help Desk").
    pub fn label(&self) -> String {
        self.to_vec()
            .iter()
            .map(Role::label)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl From<Role> for Roles {
    fn from(role: Role) -> Roles {
        match role {
            Role::Comune(code) => Roles::Comune(code),
            Role::Admin => Roles::admin(),
            Role::Operator(module) => Roles::Province {
                admin: false,
                modules: BTreeSet::from([module]),
            },
        }
    }
}

impl From<&Role> for Roles {
    fn from(role: &Role) -> Roles {
        Roles::from(role.clone())
    }
}

impl From<&Roles> for Roles {
    fn from(roles: &Roles) -> Roles {
        roles.clone()
    }
}

/// The codes of each role, comma-separated (`admin,operator:helpdesk`): for logs and the CLI.
impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<String> = self.to_vec().iter().map(Role::to_string).collect();
        f.write_str(&codes.join(","))
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
    /// Every role they hold.
    pub roles: Roles,
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
            "«portale» non è un valore di module: usare uno tra sua, sape, sit, personale, helpdesk, \
             formazione, dati, community"
        );
    }

    #[test]
    fn roles_add_up_and_a_comune_stays_alone() {
        let treviso = ComuneCode::parse("026086").expect("code");
        let both = Roles::from_roles([Role::Operator(Module::Helpdesk), Role::Admin]).expect("ok");
        assert!(both.is_admin() && both.operates(Module::Helpdesk) && !both.operates(Module::Sua));
        assert_eq!(both.to_string(), "admin,operator:helpdesk");
        assert_eq!(both.label(), "Amministratore, Operatore Help Desk");
        assert_eq!(
            Roles::from_roles([Role::Comune(treviso), Role::Admin]),
            Err(RolesError::ComuneAndProvince)
        );
        assert_eq!(
            Roles::from_roles([
                Role::Comune(treviso),
                Role::Comune(ComuneCode::parse("026003").expect("code"))
            ]),
            Err(RolesError::TwoComuni)
        );
        assert_eq!(Roles::from_roles([]), Err(RolesError::Empty));
        assert_eq!(
            both.with(Role::Admin, false),
            Ok(Roles::from(Role::Operator(Module::Helpdesk)))
        );
        assert_eq!(
            Roles::from(Role::Comune(treviso)).to_vec(),
            vec![Role::Comune(treviso)]
        );
    }
}
