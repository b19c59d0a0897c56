//! Who may do what in the SUA: the module's rows of the route × role matrix, decided through
//! [`crate::auth::policy::decide`] (which answers 401 to anonymous callers).

use crate::auth::policy::{decide, is_staff_of, module_scope, own_comune, serves};
use crate::auth::{Identity, Module, Role};
use crate::error::AppError;
use crate::sua::State as SuaState;

pub use crate::auth::policy::Scope;

/// Something a user wants to do in the SUA. Resource-bound actions name the Comuni the
/// procedure serves.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Submit a SUA delegation request on behalf of `comune`.
    SubmitSuaRequest {
        /// The requesting Comune.
        comune: &'a str,
    },
    /// Read a SUA procedure (with its lots, history and attachments) serving `comuni`.
    ViewProcedure {
        /// Every Comune the procedure serves (one, or several for an aggregated initiative).
        comuni: &'a [String],
    },
    /// Change the content of a procedure serving `comuni` in `state`: a Comune corrects its
    /// own request while it is submitted or returned; the SUA edits anything not final.
    EditProcedure {
        /// Every Comune the procedure serves.
        comuni: &'a [String],
        /// Current state.
        state: SuaState,
    },
    /// Move a procedure serving `comuni` from one state to another.
    TransitionProcedure {
        /// Every Comune the procedure serves.
        comuni: &'a [String],
        /// Current state.
        from: SuaState,
        /// Target state.
        to: SuaState,
    },
    /// Run procedures: lots, awards, aggregated initiatives, imports (SUA staff).
    ManageProcedures,
    /// Create, change and revoke convenzioni (SUA staff).
    ManageConventions,
}

fn is_sua_staff(role: &Role) -> bool {
    is_staff_of(role, Module::Sua)
}

/// Whether `role` is a Comune user of one of `comuni`.
fn serves_own_comune(role: &Role, comuni: &[String]) -> bool {
    comuni.iter().any(|comune| own_comune(role, comune))
}

/// Allows or refuses `action` (401 anonymous, 403 without the right, 404 for a procedure
/// that serves none of the caller's Comuni: a Comune must not learn that it exists).
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    decide(identity, |role| {
        Ok(match action {
            Action::SubmitSuaRequest { comune } => own_comune(role, comune) || is_sua_staff(role),
            Action::ViewProcedure { comuni } => match role {
                Role::Comune(_) if !serves_own_comune(role, comuni) => {
                    return Err(AppError::NotFound);
                }
                Role::Comune(_) => true,
                _ => is_sua_staff(role),
            },
            Action::EditProcedure { comuni, state } => match role {
                Role::Comune(_) if !serves_own_comune(role, comuni) => {
                    return Err(AppError::NotFound);
                }
                Role::Comune(_) => matches!(state, SuaState::Submitted | SuaState::Returned),
                _ => is_sua_staff(role) && !state.is_final(),
            },
            Action::TransitionProcedure { comuni, from, to } => match role {
                Role::Comune(_) if !serves_own_comune(role, comuni) => {
                    return Err(AppError::NotFound);
                }
                // The Comune resubmits a returned request or withdraws one not yet accepted;
                // everything else is the SUA's work.
                Role::Comune(_) => matches!(
                    (from, to),
                    (SuaState::Returned, SuaState::Submitted)
                        | (
                            SuaState::Submitted | SuaState::Returned,
                            SuaState::Withdrawn
                        )
                ),
                _ => {
                    is_sua_staff(role)
                        && !matches!(
                            (from, to),
                            (SuaState::Returned, SuaState::Submitted) | (_, SuaState::Withdrawn)
                        )
                }
            },
            Action::ManageProcedures | Action::ManageConventions => is_sua_staff(role),
        })
    })
}

/// Who may move a procedure serving `comuni` from `from` to `to`: the policy of
/// [`crate::sua::MACHINE`].
pub fn may_move(
    identity: &Identity,
    comuni: &[String],
    from: SuaState,
    to: SuaState,
) -> Result<(), AppError> {
    authorize(identity, Action::TransitionProcedure { comuni, from, to })
}

/// Whether `role` sees SUA procedures at all: its staff, the administrator and the Comuni
/// (their own).
pub fn sees_procedures(role: &Role) -> bool {
    serves(role, Module::Sua)
}

/// The SUA procedures, convenzioni and reports `identity` may list: all for SUA staff, those
/// serving its own Comune for a Comune user.
pub fn sua_scope(identity: &Identity) -> Result<Scope, AppError> {
    module_scope(identity, Module::Sua)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::testing::{comune, identity};

    #[test]
    fn sua_matrix() {
        let admin = identity(Some(Role::Admin));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let helpdesk = identity(Some(Role::Operator(Module::Helpdesk)));
        let treviso = identity(Some(comune("026086")));
        let own = vec!["026086".to_owned()];
        let shared = vec!["026001".to_owned(), "026086".to_owned()];
        let other = vec!["026001".to_owned()];

        assert!(authorize(&treviso, Action::SubmitSuaRequest { comune: "026086" }).is_ok());
        assert!(authorize(&treviso, Action::SubmitSuaRequest { comune: "026001" }).is_err());
        assert!(authorize(&sua, Action::SubmitSuaRequest { comune: "026001" }).is_ok());
        assert!(authorize(&helpdesk, Action::SubmitSuaRequest { comune: "026001" }).is_err());

        assert!(authorize(&treviso, Action::ViewProcedure { comuni: &own }).is_ok());
        assert!(authorize(&treviso, Action::ViewProcedure { comuni: &shared }).is_ok());
        assert!(matches!(
            authorize(&treviso, Action::ViewProcedure { comuni: &other }),
            Err(AppError::NotFound)
        ));
        assert!(authorize(&sua, Action::ViewProcedure { comuni: &other }).is_ok());
        assert!(matches!(
            authorize(&helpdesk, Action::ViewProcedure { comuni: &other }),
            Err(AppError::Forbidden)
        ));

        let edit = |who: &Identity, comuni: &[String], state| {
            authorize(who, Action::EditProcedure { comuni, state }).is_ok()
        };
        assert!(edit(&treviso, &own, SuaState::Returned));
        assert!(!edit(&treviso, &own, SuaState::Received));
        assert!(edit(&sua, &own, SuaState::Evaluation));
        assert!(!edit(&sua, &own, SuaState::Completed));

        let moves = |who: &Identity, from, to| {
            authorize(
                who,
                Action::TransitionProcedure {
                    comuni: &own,
                    from,
                    to,
                },
            )
            .is_ok()
        };
        assert!(moves(&treviso, SuaState::Returned, SuaState::Submitted));
        assert!(moves(&treviso, SuaState::Submitted, SuaState::Withdrawn));
        assert!(!moves(&treviso, SuaState::Submitted, SuaState::Received));
        assert!(!moves(&treviso, SuaState::Evaluation, SuaState::Awarded));
        assert!(moves(&sua, SuaState::Submitted, SuaState::Received));
        assert!(moves(&admin, SuaState::Evaluation, SuaState::Awarded));
        assert!(!moves(&sua, SuaState::Submitted, SuaState::Withdrawn));
        assert!(!moves(&helpdesk, SuaState::Submitted, SuaState::Received));

        assert!(authorize(&sua, Action::ManageProcedures).is_ok());
        assert!(authorize(&treviso, Action::ManageConventions).is_err());
        assert_eq!(sua_scope(&sua).expect("scope"), Scope::All);
        assert_eq!(
            sua_scope(&treviso).expect("scope"),
            Scope::Comune("026086".into())
        );
        assert!(sua_scope(&helpdesk).is_err());
    }
}
