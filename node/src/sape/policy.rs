//! Who may do what in the SAPE: its rows of the route × role matrix, decided through
//! [`crate::auth::policy::decide`] (401 to anonymous callers). SAPE operators and the
//! administrator manage calls and proposals; a Comune reads the catalogue, follows calls,
//! keeps its calendar feed and sees the proposals it takes part in, and nothing else.

use crate::auth::policy::{decide, is_staff_of, own_comune, serves};
use crate::auth::{Identity, Module, Role};
use crate::error::AppError;

/// Something a user wants to do in the SAPE.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Search and read the calls catalogue.
    ViewCalls,
    /// Enter, import and flag calls.
    ManageCalls,
    /// Follow or unfollow a call for Comune `comune`, and keep its calendar feed.
    FollowCalls {
        /// The Comune following.
        comune: &'a str,
    },
    /// Create and change proposals.
    ManageProposals,
    /// Read a proposal whose Comuni involved are `comuni`.
    ViewProposal {
        /// The Comuni taking part.
        comuni: &'a [String],
    },
}

/// Allows or refuses `action`: 403 without the right, 404 for a proposal a Comune does not
/// take part in (it must not learn that it exists).
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    decide(identity, |role| {
        Ok(match action {
            Action::ViewCalls => sees_sape(role),
            Action::ManageCalls | Action::ManageProposals => is_staff_of(role, Module::Sape),
            Action::FollowCalls { comune } => own_comune(role, comune),
            Action::ViewProposal { comuni } => match role {
                Role::Comune(code) => {
                    if !comuni.iter().any(|c| c == code.as_str()) {
                        return Err(AppError::NotFound);
                    }
                    true
                }
                _ => is_staff_of(role, Module::Sape),
            },
        })
    })
}

/// Whether `role` uses the SAPE at all (its staff, and every Comune).
pub fn sees_sape(role: &Role) -> bool {
    serves(role, Module::Sape)
}

/// Whether `role` is SAPE staff (its operators and the administrator).
pub fn is_sape_staff(role: &Role) -> bool {
    is_staff_of(role, Module::Sape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::testing::{comune, identity};

    #[test]
    fn matrix() {
        let admin = identity(Some(Role::Admin));
        let sape = identity(Some(Role::Operator(Module::Sape)));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let treviso = identity(Some(comune("026086")));
        let anonymous = identity(None);
        let partners = vec!["026086".to_owned()];
        let others = vec!["026001".to_owned()];

        for who in [&admin, &sape, &treviso] {
            assert!(authorize(who, Action::ViewCalls).is_ok());
        }
        assert!(matches!(
            authorize(&sua, Action::ViewCalls),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            authorize(&anonymous, Action::ViewCalls),
            Err(AppError::Unauthenticated)
        ));
        assert!(authorize(&sape, Action::ManageCalls).is_ok());
        assert!(authorize(&admin, Action::ManageProposals).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::ManageCalls),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&treviso, Action::FollowCalls { comune: "026086" }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::FollowCalls { comune: "026001" }),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            authorize(&sape, Action::FollowCalls { comune: "026086" }),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&treviso, Action::ViewProposal { comuni: &partners }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::ViewProposal { comuni: &others }),
            Err(AppError::NotFound)
        ));
        assert!(authorize(&sape, Action::ViewProposal { comuni: &others }).is_ok());
        assert!(matches!(
            authorize(&sua, Action::ViewProposal { comuni: &others }),
            Err(AppError::Forbidden)
        ));
    }
}
