//! Who may do what in the Help Desk: the module's rows of the route × role matrix, decided
//! through [`crate::auth::policy::decide`] (which answers 401 to anonymous callers).

use crate::auth::policy::{decide, is_staff_of, module_scope, own_comune, serves};
use crate::auth::{Identity, Module, Role};
use crate::error::AppError;
use crate::helpdesk::Status;

pub use crate::auth::policy::Scope;

/// Something a user wants to do in the Help Desk. Resource-bound actions name the Comune that
/// owns the request.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Open a Help Desk request for `comune`.
    OpenRequest {
        /// Comune the request is for.
        comune: &'a str,
    },
    /// Read a request (and its comments and attachments) owned by `comune`.
    ViewRequest {
        /// Owner of the request.
        comune: &'a str,
    },
    /// Add a comment to a request owned by `comune`.
    CommentRequest {
        /// Owner of the request.
        comune: &'a str,
    },
    /// Assign a request to an operator.
    AssignRequest,
    /// Move a request owned by `comune` from one status to another.
    TransitionRequest {
        /// Owner of the request.
        comune: &'a str,
        /// Current status.
        from: Status,
        /// Target status.
        to: Status,
    },
    /// Export the Help Desk list.
    ExportRequests,
}

fn is_helpdesk_staff(role: &Role) -> bool {
    is_staff_of(role, Module::Helpdesk)
}

/// Allows or refuses `action` (401 anonymous, 403 without the right, 404 for another
/// Comune's request: a Comune must not learn that it exists).
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    decide(identity, |role| {
        Ok(match action {
            Action::OpenRequest { comune } => {
                own_comune(role, comune) || matches!(role, Role::Admin)
            }
            Action::ViewRequest { comune } | Action::CommentRequest { comune } => {
                if let Role::Comune(_) = role {
                    if !own_comune(role, comune) {
                        return Err(AppError::NotFound);
                    }
                    true
                } else {
                    is_helpdesk_staff(role)
                }
            }
            Action::AssignRequest => is_helpdesk_staff(role),
            // The export is filtered by `helpdesk_scope`, like the list it exports.
            Action::ExportRequests => is_helpdesk_staff(role) || matches!(role, Role::Comune(_)),
            Action::TransitionRequest { comune, from, to } => match role {
                Role::Comune(_) if !own_comune(role, comune) => return Err(AppError::NotFound),
                // A Comune confirms a resolution (closed) or reopens it (in_progress); triage
                // is the Province's job.
                Role::Comune(_) => {
                    from == Status::Resolved && matches!(to, Status::Closed | Status::InProgress)
                }
                _ => is_helpdesk_staff(role),
            },
        })
    })
}

/// Who may move a request of `owners` (its Comune) from `from` to `to`: the policy of
/// [`crate::helpdesk::MACHINE`].
pub fn may_move(
    identity: &Identity,
    owners: &[String],
    from: Status,
    to: Status,
) -> Result<(), AppError> {
    let comune = owners.first().map_or("", String::as_str);
    authorize(identity, Action::TransitionRequest { comune, from, to })
}

/// Whether `role` sees Help Desk requests at all (its staff, and every Comune its own).
pub fn sees_requests(role: &Role) -> bool {
    serves(role, Module::Helpdesk)
}

/// The requests `identity` may list: all for Help Desk staff, its own for a Comune user.
pub fn helpdesk_scope(identity: &Identity) -> Result<Scope, AppError> {
    module_scope(identity, Module::Helpdesk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::testing::{comune, identity};

    #[test]
    fn matrix() {
        let admin = identity(Some(Role::Admin));
        let helpdesk = identity(Some(Role::Operator(Module::Helpdesk)));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let treviso = identity(Some(comune("026086")));
        let own = "026086";
        let other = "026001";

        assert!(authorize(&treviso, Action::OpenRequest { comune: own }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::OpenRequest { comune: other }),
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            authorize(&treviso, Action::ViewRequest { comune: other }),
            Err(AppError::NotFound)
        ));
        assert!(authorize(&helpdesk, Action::ViewRequest { comune: other }).is_ok());
        assert!(matches!(
            authorize(&sua, Action::ViewRequest { comune: other }),
            Err(AppError::Forbidden)
        ));
        assert!(authorize(&admin, Action::AssignRequest).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::AssignRequest),
            Err(AppError::Forbidden)
        ));
        assert!(
            authorize(
                &treviso,
                Action::TransitionRequest {
                    comune: own,
                    from: Status::Resolved,
                    to: Status::Closed
                }
            )
            .is_ok()
        );
        assert!(matches!(
            authorize(
                &treviso,
                Action::TransitionRequest {
                    comune: own,
                    from: Status::New,
                    to: Status::InProgress
                }
            ),
            Err(AppError::Forbidden)
        ));
        assert_eq!(
            helpdesk_scope(&treviso).expect("scope"),
            Scope::Comune(own.into())
        );
        assert_eq!(helpdesk_scope(&helpdesk).expect("scope"), Scope::All);
        assert!(helpdesk_scope(&sua).is_err());
    }
}
