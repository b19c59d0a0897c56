//! Who may do what in the Formazione: its rows of the route × role matrix, decided through
//! [`crate::auth::policy::decide`] (401 to anonymous callers). Everyone signed in reads the
//! catalogue. The Formazione operators and the administrator manage courses, editions,
//! approvals, registers and reports, keep the Province's own staff list and see every
//! Comune's; a Comune user keeps its own staff list and enrols its own people, and gets 404
//! for anything of another Comune (it must not learn that it exists).

use crate::auth::policy::{decide, is_staff_of, own_comune};
use crate::auth::{Identity, Module, Role};
use crate::error::AppError;
use crate::formazione::EnrolmentState;

/// Something a user wants to do in the Formazione. `comune` is the Comune a person of the
/// staff list belongs to, none for the Province's staff.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Read the catalogue of courses and editions.
    ViewCatalogue,
    /// Create and change courses and editions, approve enrolments, fill registers and scores,
    /// read the reports.
    Manage,
    /// List a staff list (all of them for the office, one's own for a Comune).
    ListStaff,
    /// Read a person of the staff list, or their enrolments.
    ViewPerson {
        /// The person's Comune.
        comune: Option<&'a str>,
    },
    /// Add, change or remove a person of the staff list.
    ManagePerson {
        /// The person's Comune.
        comune: Option<&'a str>,
    },
    /// Enrol oneself: a Province employee whose account matches their staff-list entry.
    EnrolSelf,
    /// Enrol a person of the staff list.
    Enrol {
        /// The person's Comune.
        comune: Option<&'a str>,
    },
}

/// Whether `role` is the training office (its operators and the administrator).
pub fn is_office(role: &Role) -> bool {
    is_staff_of(role, Module::Formazione)
}

/// Whether `role` sees the catalogue: everyone signed in.
pub fn sees_catalogue(_role: &Role) -> bool {
    true
}

/// A Comune user on a record of `comune`: allowed on its own, 404 on another Comune's or the
/// Province's.
fn own_or_not_found(role: &Role, comune: Option<&str>) -> Result<bool, AppError> {
    match (role, comune) {
        (Role::Comune(_), Some(code)) if own_comune(role, code) => Ok(true),
        (Role::Comune(_), _) => Err(AppError::NotFound),
        _ => Ok(false),
    }
}

/// Allows or refuses `action`: 403 without the right, 404 for a record of another Comune.
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    decide(identity, |role| match action {
        Action::ViewCatalogue => Ok(sees_catalogue(role)),
        Action::Manage => Ok(is_office(role)),
        Action::EnrolSelf => Ok(!matches!(role, Role::Comune(_))),
        Action::ListStaff => Ok(is_office(role) || matches!(role, Role::Comune(_))),
        Action::ViewPerson { comune } | Action::Enrol { comune } => {
            Ok(is_office(role) || own_or_not_found(role, comune)?)
        }
        // The office keeps the Province's own list; each Comune keeps its own.
        Action::ManagePerson { comune } => {
            Ok((is_office(role) && comune.is_none()) || own_or_not_found(role, comune)?)
        }
    })
}

/// Who moves an enrolment (`owners`: the person's Comune, if any): the office makes every
/// move; the person's own Comune only withdraws; another Comune gets 404.
pub fn enrolment_move(
    identity: &Identity,
    owners: &[String],
    _from: EnrolmentState,
    to: EnrolmentState,
) -> Result<(), AppError> {
    decide(identity, |role| {
        if let Role::Comune(_) = role {
            if !owners.iter().any(|code| own_comune(role, code)) {
                return Err(AppError::NotFound);
            }
            return Ok(to == EnrolmentState::Withdrawn);
        }
        Ok(is_office(role))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::testing::{comune, identity};

    #[test]
    fn matrix() {
        let admin = identity(Some(Role::Admin));
        let office = identity(Some(Role::Operator(Module::Formazione)));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let treviso = identity(Some(comune("026086")));
        let anonymous = identity(None);
        let tv = Some("026086");
        let alt = Some("026001");

        for who in [&admin, &office, &sua, &treviso] {
            assert!(authorize(who, Action::ViewCatalogue).is_ok());
        }
        assert!(matches!(
            authorize(&anonymous, Action::ViewCatalogue),
            Err(AppError::Unauthenticated)
        ));
        assert!(authorize(&office, Action::Manage).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::Manage),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            authorize(&sua, Action::ListStaff),
            Err(AppError::Forbidden)
        ));
        // The office sees every list and keeps only the Province's.
        assert!(authorize(&office, Action::ViewPerson { comune: tv }).is_ok());
        assert!(authorize(&office, Action::ManagePerson { comune: None }).is_ok());
        assert!(matches!(
            authorize(&office, Action::ManagePerson { comune: tv }),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&office, Action::Enrol { comune: tv }).is_ok());
        // A Comune keeps and enrols its own, and learns nothing of the others.
        assert!(authorize(&treviso, Action::ManagePerson { comune: tv }).is_ok());
        assert!(authorize(&treviso, Action::Enrol { comune: tv }).is_ok());
        for action in [
            Action::ViewPerson { comune: alt },
            Action::ManagePerson { comune: alt },
            Action::Enrol { comune: alt },
            Action::Enrol { comune: None },
        ] {
            assert!(matches!(
                authorize(&treviso, action),
                Err(AppError::NotFound)
            ));
        }
        assert!(matches!(
            authorize(&sua, Action::Enrol { comune: None }),
            Err(AppError::Forbidden)
        ));

        let owners = vec!["026086".to_owned()];
        let others = vec!["026001".to_owned()];
        use EnrolmentState::{Enrolled, Pending, Withdrawn};
        assert!(enrolment_move(&treviso, &owners, Enrolled, Withdrawn).is_ok());
        assert!(matches!(
            enrolment_move(&treviso, &owners, Pending, Enrolled),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            enrolment_move(&treviso, &others, Enrolled, Withdrawn),
            Err(AppError::NotFound)
        ));
        assert!(enrolment_move(&office, &others, Pending, Enrolled).is_ok());
        assert!(matches!(
            enrolment_move(&sua, &[], Enrolled, Withdrawn),
            Err(AppError::Forbidden)
        ));
    }
}
