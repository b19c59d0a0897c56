//! The authorisation policy: the one place that decides whether an identity may perform an
//! action on a resource. Handlers ask [`authorize`] (or [`helpdesk_scope`] for lists) and
//! never test roles themselves, so the route × role matrix is this file.

use crate::auth::{Identity, Module, Role};
use crate::error::AppError;
use crate::helpdesk::Status;
use crate::sua::State as SuaState;

/// Something a user wants to do. Resource-bound actions name the Comune that owns the record.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// See the personal dashboard.
    ViewDashboard,
    /// Read the audit log.
    ViewAudit,
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

/// Which Help Desk requests an identity may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every request of the Province.
    All,
    /// Only those of one Comune.
    Comune(String),
}

fn is_helpdesk_staff(role: &Role) -> bool {
    matches!(role, Role::Admin | Role::Operator(Module::Helpdesk))
}

fn is_sua_staff(role: &Role) -> bool {
    matches!(role, Role::Admin | Role::Operator(Module::Sua))
}

/// Whether `role` is a Comune user of one of `comuni`.
fn serves_own_comune(role: &Role, comuni: &[String]) -> bool {
    comuni.iter().any(|comune| own_comune(role, comune))
}

fn own_comune(role: &Role, comune: &str) -> bool {
    matches!(role, Role::Comune(code) if code.as_str() == comune)
}

/// Allows or refuses `action`. Refusals are 401 for anonymous callers, 403 for a signed-in
/// user without the right, and 404 when the record belongs to another Comune: a Comune user
/// must not even learn that another Comune's record exists.
pub fn authorize(identity: &Identity, action: Action<'_>) -> Result<(), AppError> {
    let user = identity.require_user()?;
    let role = &user.role;
    let allowed = match action {
        Action::ViewDashboard => true,
        Action::ViewAudit => matches!(role, Role::Admin),
        Action::OpenRequest { comune } => own_comune(role, comune) || matches!(role, Role::Admin),
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
        Action::ManageDatasets => matches!(role, Role::Admin | Role::Operator(Module::Dati)),
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
        Action::ManagePractices => matches!(role, Role::Admin | Role::Operator(Module::Community)),
        // Drafts are the Province's internal work: every Province staff member reads them.
        Action::ViewPracticeDrafts => role.is_province(),
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
        Action::SubmitSuaRequest { comune } => own_comune(role, comune) || is_sua_staff(role),
        Action::ViewProcedure { comuni } => match role {
            Role::Comune(_) if !serves_own_comune(role, comuni) => return Err(AppError::NotFound),
            Role::Comune(_) => true,
            _ => is_sua_staff(role),
        },
        Action::EditProcedure { comuni, state } => match role {
            Role::Comune(_) if !serves_own_comune(role, comuni) => return Err(AppError::NotFound),
            Role::Comune(_) => matches!(state, SuaState::Submitted | SuaState::Returned),
            _ => is_sua_staff(role) && !state.is_final(),
        },
        Action::TransitionProcedure { comuni, from, to } => match role {
            Role::Comune(_) if !serves_own_comune(role, comuni) => return Err(AppError::NotFound),
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
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The requests `identity` may list: all for Help Desk staff, its own for a Comune user.
pub fn helpdesk_scope(identity: &Identity) -> Result<Scope, AppError> {
    let user = identity.require_user()?;
    match &user.role {
        Role::Comune(code) => Ok(Scope::Comune(code.as_str().to_owned())),
        role if is_helpdesk_staff(role) => Ok(Scope::All),
        _ => Err(AppError::Forbidden),
    }
}

/// The SUA procedures, convenzioni and reports `identity` may list: all for SUA staff, those
/// serving its own Comune for a Comune user.
pub fn sua_scope(identity: &Identity) -> Result<Scope, AppError> {
    let user = identity.require_user()?;
    match &user.role {
        Role::Comune(code) => Ok(Scope::Comune(code.as_str().to_owned())),
        role if is_sua_staff(role) => Ok(Scope::All),
        _ => Err(AppError::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{User, Via};
    use pico_protocol::ComuneCode;

    fn identity(role: Option<Role>) -> Identity {
        Identity {
            user: role.map(|role| User {
                id: 1,
                username: "u".into(),
                display_name: "U".into(),
                role,
                must_change_password: false,
            }),
            via: Via::Token,
            ip: "127.0.0.1".into(),
        }
    }

    fn comune(code: &str) -> Role {
        Role::Comune(ComuneCode::parse(code).expect("code"))
    }

    #[test]
    fn matrix() {
        let anonymous = identity(None);
        let admin = identity(Some(Role::Admin));
        let helpdesk = identity(Some(Role::Operator(Module::Helpdesk)));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let treviso = identity(Some(comune("026086")));
        let own = "026086";
        let other = "026001";

        assert!(matches!(
            authorize(&anonymous, Action::ViewDashboard),
            Err(AppError::Unauthenticated)
        ));
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
