//! The authorisation policy: whether an identity may perform an action on a resource.
//! Handlers ask an `authorize` and never test roles themselves. The actions every module
//! shares (dashboard, audit, datasets, publishing, networks, best practices) are decided
//! here; a module with its own actions decides them in its own `policy.rs`
//! (`helpdesk::policy`, `sua::policy`) through [`decide`], so the route × role matrix is
//! this file plus those, and `auth` depends on no module.

use crate::auth::{Identity, Module, Role};
use crate::error::AppError;

/// Something a user wants to do. Resource-bound actions name the Comune that owns the record.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// See the personal dashboard.
    ViewDashboard,
    /// Read the audit log.
    ViewAudit,
    /// Add people, change their roles, disable them, reset their passwords, revoke their
    /// tokens (the administrator's people pages).
    ManagePeople,
    /// Create, import, delete rows of, and set the federation of datasets (Dati module).
    ManageDatasets,
    /// See and operate publishing to the hub (status, alarms).
    ViewFederation,
    /// Read the thematic networks (threads and posts from every member Province).
    ViewNetworks,
    /// Join or leave a thematic network, and post in it.
    ManageNetwork {
        /// The network (`sua`, `sape`, `sit`, `personale`).
        network: &'a str,
    },
    /// See the quarantine of received posts that failed verification.
    ViewNetworkQuarantine,
    /// Create and edit best practices, attach files, set their federation (Community).
    ManagePractices,
    /// See best practices not marked public (drafts).
    ViewPracticeDrafts,
}

/// Which Help Desk requests an identity may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every request of the Province.
    All,
    /// Only those of one Comune.
    Comune(String),
}

/// Whether `role` is Province staff of `module`: the administrator or its operator.
pub fn is_staff_of(role: &Role, module: Module) -> bool {
    matches!(role, Role::Admin) || *role == Role::Operator(module)
}

/// Whether `role` is a user of Comune `comune`.
pub fn own_comune(role: &Role, comune: &str) -> bool {
    matches!(role, Role::Comune(code) if code.as_str() == comune)
}

/// Whether `role` works with `module`'s records: its staff, and every Comune (its own).
pub fn serves(role: &Role, module: Module) -> bool {
    matches!(role, Role::Comune(_)) || is_staff_of(role, module)
}

/// The records of `module` that `identity` may list: all for the module's staff, those of its
/// own Comune for a Comune user.
pub fn module_scope(identity: &Identity, module: Module) -> Result<Scope, AppError> {
    let user = identity.require_user()?;
    if let Some(code) = user.roles.comune() {
        Ok(Scope::Comune(code.as_str().to_owned()))
    } else if user.roles.any(|role| is_staff_of(role, module)) {
        Ok(Scope::All)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Runs a module's `rule` for each role the signed-in user holds: rights add up, so one role
/// that allows (`Ok(true)`) is enough. Otherwise the refusal is 403, or the error a rule
/// gave (404 for another Comune's record: a Comune user holds that one role only);
/// anonymous callers get 401. A rule is written for one role at a time, so least privilege
/// reads the same for a person with one role and for one with several.
pub fn decide(
    identity: &Identity,
    rule: impl Fn(&Role) -> Result<bool, AppError>,
) -> Result<(), AppError> {
    let user = identity.require_user()?;
    let mut refusal = AppError::Forbidden;
    for role in user.roles.to_vec() {
        match rule(&role) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => refusal = err,
        }
    }
    Err(refusal)
}

/// Allows or refuses `action`. Refusals are 401 for anonymous callers, 403 for a signed-in
/// user without the right, and 404 when the record belongs to another Comune: a Comune user
/// must not even learn that another Comune's record exists.
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    decide(identity, |role| Ok(permits(role, action)))
}

/// Whether `role` may perform `action` (none of these actions is bound to a Comune's record).
pub fn permits(role: &Role, action: Action<'_>) -> bool {
    match action {
        Action::ViewDashboard => true,
        Action::ViewAudit | Action::ManagePeople => matches!(role, Role::Admin),
        Action::ManageDatasets => is_staff_of(role, Module::Dati),
        Action::ViewFederation | Action::ViewNetworkQuarantine => matches!(role, Role::Admin),
        // Networks are between Provinces: Comune users do not see them at all.
        Action::ViewNetworks => role.is_province(),
        // The operator of the matching module speaks for the Province in its network.
        Action::ManageNetwork { network } => match role {
            Role::Admin => true,
            Role::Operator(module) => {
                matches!(
                    module,
                    Module::Sua | Module::Sape | Module::Sit | Module::Personale
                ) && module.as_str() == network
            }
            Role::Comune(_) => false,
        },
        Action::ManagePractices => is_staff_of(role, Module::Community),
        // Drafts are the Province's internal work: every Province staff member reads them.
        Action::ViewPracticeDrafts => role.is_province(),
    }
}

/// Identities for the policy tests of every module.
#[cfg(test)]
pub(crate) mod testing {
    use crate::auth::{Identity, Role, Roles, User, Via};
    use pico_protocol::ComuneCode;

    /// A bearer-token identity with `role` (anonymous for `None`).
    pub(crate) fn identity(role: Option<Role>) -> Identity {
        identity_with(role.map(Roles::from))
    }

    /// A bearer-token identity holding `roles` (anonymous for `None`).
    pub(crate) fn identity_with(roles: Option<Roles>) -> Identity {
        Identity {
            user: roles.map(|roles| User {
                id: 1,
                username: "u".into(),
                display_name: "U".into(),
                roles,
                must_change_password: false,
            }),
            via: Via::Token,
            ip: "127.0.0.1".into(),
        }
    }

    /// A user of Comune `code`.
    pub(crate) fn comune(code: &str) -> Role {
        Role::Comune(ComuneCode::parse(code).expect("code"))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{comune, identity};
    use super::*;

    #[test]
    fn matrix() {
        let anonymous = identity(None);
        let admin = identity(Some(Role::Admin));
        let helpdesk = identity(Some(Role::Operator(Module::Helpdesk)));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let treviso = identity(Some(comune("026086")));

        assert!(matches!(
            authorize(&anonymous, Action::ViewDashboard),
            Err(AppError::Unauthenticated)
        ));
        assert!(matches!(
            authorize(&helpdesk, Action::ViewAudit),
            Err(AppError::Forbidden)
        ));
        let dati = identity(Some(Role::Operator(Module::Dati)));
        assert!(authorize(&dati, Action::ManageDatasets).is_ok());
        assert!(authorize(&admin, Action::ManageDatasets).is_ok());
        assert!(authorize(&sua, Action::ManageDatasets).is_err());
        assert!(authorize(&treviso, Action::ManageDatasets).is_err());
        assert!(authorize(&dati, Action::ViewFederation).is_err());
        assert!(authorize(&admin, Action::ViewFederation).is_ok());

        assert!(authorize(&helpdesk, Action::ViewNetworks).is_ok());
        assert!(authorize(&treviso, Action::ViewNetworks).is_err());
        assert!(authorize(&sua, Action::ManageNetwork { network: "sua" }).is_ok());
        assert!(authorize(&sua, Action::ManageNetwork { network: "sape" }).is_err());
        assert!(authorize(&dati, Action::ManageNetwork { network: "dati" }).is_err());
        assert!(authorize(&admin, Action::ManageNetwork { network: "sit" }).is_ok());
        assert!(authorize(&treviso, Action::ManageNetwork { network: "sua" }).is_err());
        assert!(authorize(&sua, Action::ViewNetworkQuarantine).is_err());
        assert!(authorize(&admin, Action::ViewNetworkQuarantine).is_ok());

        let community = identity(Some(Role::Operator(Module::Community)));
        assert!(authorize(&community, Action::ManagePractices).is_ok());
        assert!(authorize(&admin, Action::ManagePractices).is_ok());
        assert!(authorize(&sua, Action::ManagePractices).is_err());
        assert!(matches!(
            authorize(&treviso, Action::ManagePractices),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&sua, Action::ViewPracticeDrafts).is_ok());
        assert!(authorize(&treviso, Action::ViewPracticeDrafts).is_err());
        assert!(authorize(&anonymous, Action::ViewPracticeDrafts).is_err());
    }

    #[test]
    fn rights_of_several_roles_add_up_and_nothing_more() {
        use super::testing::identity_with;
        use crate::auth::Roles;
        let both = identity_with(Some(
            Roles::from_roles([Role::Admin, Role::Operator(Module::Helpdesk)]).expect("roles"),
        ));
        assert!(authorize(&both, Action::ViewAudit).is_ok());
        assert!(authorize(&both, Action::ManagePeople).is_ok());
        let two = identity_with(Some(
            Roles::from_roles([Role::Operator(Module::Sua), Role::Operator(Module::Dati)])
                .expect("roles"),
        ));
        assert!(authorize(&two, Action::ManageDatasets).is_ok());
        assert!(authorize(&two, Action::ManageNetwork { network: "sua" }).is_ok());
        assert!(authorize(&two, Action::ManageNetwork { network: "sit" }).is_err());
        assert!(authorize(&two, Action::ManagePractices).is_err());
        assert!(matches!(
            authorize(&two, Action::ManagePeople),
            Err(AppError::Forbidden)
        ));
        assert_eq!(module_scope(&two, Module::Sua).ok(), Some(Scope::All));
        assert!(module_scope(&two, Module::Helpdesk).is_err());
    }
}
