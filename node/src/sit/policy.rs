//! Who may do what in the SIT: its rows of the route × role matrix, decided through
//! [`crate::auth::policy::decide`] (401 to anonymous callers). The catalogue is public (it is
//! published as open data); SIT operators and the administrator keep it, decide on the
//! subscriptions and keep the Comuni's digital pictures; a Comune asks to subscribe, sees its
//! own subscriptions, requests and digital picture, and nothing of another Comune's.

use crate::auth::policy::{decide, is_staff_of, own_comune, serves};
use crate::auth::{Identity, Module, Role};
use crate::error::AppError;

/// Something a user wants to do in the SIT.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Write the catalogue (new services, changes, withdrawals).
    ManageCatalogue,
    /// Ask to subscribe Comune `comune` to a service.
    Subscribe {
        /// The Comune asking.
        comune: &'a str,
    },
    /// Read a subscription of Comune `comune` and its requests, or open one there.
    ViewSubscription {
        /// The subscribing Comune.
        comune: &'a str,
    },
    /// Read the digital picture of Comune `comune`.
    ViewPicture {
        /// The Comune.
        comune: &'a str,
    },
    /// Change a digital picture.
    ManagePictures,
    /// Read the Province's reports (coverage, subscriptions across Comuni).
    ViewReports,
}

/// Allows or refuses `action`: 403 without the right, 404 for another Comune's subscription
/// (a Comune must not learn that it exists).
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    decide(identity, |role| {
        Ok(match action {
            Action::ManageCatalogue | Action::ManagePictures | Action::ViewReports => {
                is_staff_of(role, Module::Sit)
            }
            Action::Subscribe { comune } => own_comune(role, comune),
            Action::ViewSubscription { comune } => match role {
                Role::Comune(_) if !own_comune(role, comune) => return Err(AppError::NotFound),
                _ => own_comune(role, comune) || is_staff_of(role, Module::Sit),
            },
            Action::ViewPicture { comune } => {
                own_comune(role, comune) || is_staff_of(role, Module::Sit)
            }
        })
    })
}

/// Whether `role` uses the SIT at all (its staff, and every Comune).
pub fn sees_sit(role: &Role) -> bool {
    serves(role, Module::Sit)
}

/// Whether `role` is SIT staff (its operators and the administrator).
pub fn is_sit_staff(role: &Role) -> bool {
    is_staff_of(role, Module::Sit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::testing::{comune, identity};

    #[test]
    fn matrix() {
        let admin = identity(Some(Role::Admin));
        let sit = identity(Some(Role::Operator(Module::Sit)));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let treviso = identity(Some(comune("026086")));
        let anonymous = identity(None);

        for who in [&admin, &sit] {
            assert!(authorize(who, Action::ManageCatalogue).is_ok());
            assert!(authorize(who, Action::ManagePictures).is_ok());
            assert!(authorize(who, Action::ViewSubscription { comune: "026001" }).is_ok());
        }
        for who in [&sua, &treviso] {
            assert!(matches!(
                authorize(who, Action::ManageCatalogue),
                Err(AppError::Forbidden)
            ));
        }
        assert!(matches!(
            authorize(&anonymous, Action::ManageCatalogue),
            Err(AppError::Unauthenticated)
        ));
        assert!(authorize(&treviso, Action::Subscribe { comune: "026086" }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::Subscribe { comune: "026001" }),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            authorize(&sit, Action::Subscribe { comune: "026086" }),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&treviso, Action::ViewSubscription { comune: "026086" }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::ViewSubscription { comune: "026001" }),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            authorize(&sua, Action::ViewSubscription { comune: "026001" }),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&treviso, Action::ViewPicture { comune: "026086" }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::ViewPicture { comune: "026001" }),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            authorize(&treviso, Action::ViewReports),
            Err(AppError::Forbidden)
        ));
    }
}
