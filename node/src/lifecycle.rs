//! The audited lifecycle every module's records share: a state machine declared once (its
//! states, the moves with who may make them, where the state and its history are stored),
//! and one way to make a move.
//!
//! A move runs inside an IMMEDIATE transaction (the write lock is taken before anything is
//! read): [`Machine::check`] reads the record's state and refuses a stale request (the record
//! left the state the caller saw: 409 `stale_state`, naming the state it is in now), a move
//! the actor may not make (401/403, or 404 for another Comune's record) and a move the
//! machine does not have (409 `invalid_transition`, listing the possible ones);
//! [`Machine::enter`] then moves it with a guarded `UPDATE … WHERE state = from` (0 rows is
//! the same 409), writes the history row (who, when in UTC, from, to, why) and the audit
//! line. The module's own effects (clocks, dates, dependent rows) run after `enter` in the
//! same transaction; [`Machine::transition`] does the whole sequence with them as a hook.
//!
//! Declaring a machine (see the SAPE proposal in this file's tests):
//!
//! ```ignore
//! const MACHINE: Machine<Status> = Machine {
//!     noun: Noun::feminine("richiesta"),
//!     tables: Tables { records: "helpdesk_requests", id_column: "id", state_column: "status",
//!                      history: "helpdesk_transitions", history_record_column: "request_id" },
//!     audit_action: "helpdesk.transition",
//!     audit_resource: "helpdesk_request",
//!     moves: &[Move { from: &[Status::New], to: Status::InProgress, by: &[Who::Staff(Module::Helpdesk)] }, …],
//!     policy: None,
//! };
//! ```

use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde_json::json;

use crate::auth::Identity;
use crate::auth::policy::{decide, is_staff_of, own_comune};
use crate::db::{audit, lifecycle as sql};
use crate::error::AppError;
use crate::federation::Signer;
use crate::labels::Labelled;
use crate::roles::{Module, Role};
use crate::state::AppState;

pub use crate::db::lifecycle::Tables;

/// Who may make a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The administrator only.
    Admin,
    /// The administrator and the operators of the module.
    Staff(Module),
    /// A user of a Comune the record serves (its owner or a partner).
    OwningComune,
}

impl Who {
    fn admits(self, role: &Role, owners: &[String]) -> bool {
        match self {
            Who::Admin => matches!(role, Role::Admin),
            Who::Staff(module) => is_staff_of(role, module),
            Who::OwningComune => owners.iter().any(|comune| own_comune(role, comune)),
        }
    }
}

/// One allowed move: from any of `from` to `to`, by any of `by`.
#[derive(Debug, Clone, Copy)]
pub struct Move<S: 'static> {
    /// The states it leaves.
    pub from: &'static [S],
    /// The state it reaches.
    pub to: S,
    /// Who may make it. Unused (write [`BY_POLICY`]) when the machine has a `policy`.
    pub by: &'static [Who],
}

/// The `by` of the moves of a machine whose `policy` decides who moves.
pub const BY_POLICY: &[Who] = &[];

/// A module's own rule on who may make a move (its `policy.rs`), asked about every move
/// before the machine's graph: `Ok`, or the refusal to answer (401, 403, 404).
pub type Policy<S> = fn(&Identity, &[String], S, S) -> Result<(), AppError>;

/// The Italian noun of the records, for the messages people read.
#[derive(Debug, Clone, Copy)]
pub struct Noun {
    /// The noun (`richiesta`, `procedura`, `progetto`).
    pub word: &'static str,
    /// Whether it is feminine (`la richiesta è stata modificata`) or masculine (`il progetto
    /// è stato modificato`).
    pub feminine: bool,
}

impl Noun {
    /// A feminine noun.
    pub const fn feminine(word: &'static str) -> Noun {
        Noun {
            word,
            feminine: true,
        }
    }

    /// A masculine noun (taking `il`/`un`).
    pub const fn masculine(word: &'static str) -> Noun {
        Noun {
            word,
            feminine: false,
        }
    }

    fn the(self) -> String {
        format!("{} {}", if self.feminine { "La" } else { "Il" }, self.word)
    }

    fn a(self) -> String {
        format!("{} {}", if self.feminine { "Una" } else { "Un" }, self.word)
    }

    fn ending(self) -> char {
        if self.feminine { 'a' } else { 'o' }
    }
}

/// A module's state machine.
#[derive(Debug, Clone, Copy)]
pub struct Machine<S: 'static> {
    /// What the records are called in messages.
    pub noun: Noun,
    /// Where the state and the history are stored.
    pub tables: Tables,
    /// The audit action of a move (`helpdesk.transition`).
    pub audit_action: &'static str,
    /// The audit resource prefix (`helpdesk_request`, completed by `:<id>`).
    pub audit_resource: &'static str,
    /// The allowed moves.
    pub moves: &'static [Move<S>],
    /// The module's own rule on who moves, instead of each move's `by`.
    pub policy: Option<Policy<S>>,
}

/// One move someone asks for.
#[derive(Debug, Clone)]
pub struct Step<'a, S> {
    /// Who asks.
    pub identity: &'a Identity,
    /// The Comuni the record serves (what the policy decides on).
    pub owners: &'a [String],
    /// The record.
    pub id: i64,
    /// The state the caller saw: the move is refused as stale if the record is elsewhere.
    pub from: S,
    /// The state asked for.
    pub to: S,
    /// Why, in the caller's words (kept in the history, never in the audit log).
    pub reason: &'a str,
    /// A code saying why a move was made by the module itself (`comune_reply`), for the
    /// audit line.
    pub cause: Option<&'static str>,
    /// When (Unix seconds).
    pub now: i64,
}

impl<'a, S> Step<'a, S> {
    /// `identity` asks to move record `id` of `owners` from `from` to `to`, now.
    pub fn new(identity: &'a Identity, owners: &'a [String], id: i64, from: S, to: S) -> Self {
        Step {
            identity,
            owners,
            id,
            from,
            to,
            reason: "",
            cause: None,
            now: crate::db::now(),
        }
    }

    /// With the caller's reason.
    #[must_use]
    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = reason;
        self
    }

    /// With the code of why the module itself makes this move.
    #[must_use]
    pub fn cause(mut self, cause: &'static str) -> Self {
        self.cause = Some(cause);
        self
    }

    /// At `now` (Unix seconds).
    #[must_use]
    pub fn at(mut self, now: i64) -> Self {
        self.now = now;
        self
    }
}

/// One step of a record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryStep<S> {
    /// Id.
    pub id: i64,
    /// State before (none for the creation).
    pub from: Option<S>,
    /// State after.
    pub to: S,
    /// Reason given.
    pub reason: String,
    /// Who (the name people read).
    pub actor: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// Starts the transaction of a move. Immediate: the write lock is taken before the state is
/// read, so what [`Machine::check`] read cannot change before [`Machine::enter`] writes.
pub fn begin(conn: &mut Connection) -> Result<Transaction<'_>, AppError> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// The shape of a write that counts in a module's national datasets: `work` in one IMMEDIATE
/// transaction ([`begin`]), given the time of the change; then `refresh` brings the
/// module's national rows in line with what it changed (signed with the node's key), and
/// the whole commits. An error anywhere leaves nothing written.
pub async fn write_national<T, R, W>(state: &AppState, refresh: R, work: W) -> Result<T, AppError>
where
    T: Send + 'static,
    W: FnOnce(&Connection, i64) -> Result<T, AppError> + Send + 'static,
    R: FnOnce(&Connection, &Signer) -> Result<(), AppError> + Send + 'static,
{
    let signer = state.signer.clone();
    state
        .db
        .call(move |conn| {
            let now = crate::db::now();
            let tx = begin(conn)?;
            let out = work(&tx, now)?;
            refresh(&tx, &signer)?;
            tx.commit()?;
            Ok(out)
        })
        .await
}

/// The name people read for `identity` in a history.
pub fn display_name(identity: &Identity) -> String {
    identity
        .user
        .as_ref()
        .map_or_else(|| "anonimo".to_owned(), |user| user.display_name.clone())
}

impl<S: Labelled> Machine<S> {
    /// Whether the machine has the move `from` → `to`.
    pub fn can_move(&self, from: S, to: S) -> bool {
        self.find(from, to).is_some()
    }

    fn find(&self, from: S, to: S) -> Option<&Move<S>> {
        self.moves
            .iter()
            .find(|m| m.to == to && m.from.contains(&from))
    }

    /// The states reachable from `from`, in declaration order of the states.
    pub fn next(&self, from: S) -> Vec<S> {
        S::all()
            .iter()
            .copied()
            .filter(|to| self.can_move(from, *to))
            .collect()
    }

    /// Whether `from` is final (no move leaves it).
    pub fn is_final(&self, from: S) -> bool {
        self.next(from).is_empty()
    }

    /// Whether `identity` may move a record of `owners` from `from` to `to`: 401 anonymous,
    /// 404 for a Comune the record does not serve, 403 for a move its role may not make,
    /// 409 `invalid_transition` for a move the machine does not have.
    pub fn authorize(
        &self,
        identity: &Identity,
        owners: &[String],
        from: S,
        to: S,
    ) -> Result<(), AppError> {
        if let Some(policy) = self.policy {
            policy(identity, owners, from, to)?;
        } else {
            decide(identity, |role| {
                if matches!(role, Role::Comune(_)) && !Who::OwningComune.admits(role, owners) {
                    return Err(AppError::NotFound);
                }
                Ok(match self.find(from, to) {
                    Some(found) => found.by.iter().any(|who| who.admits(role, owners)),
                    // A move the machine does not have is a conflict for whoever may move the
                    // record on from here, and none of the others' business.
                    None => self
                        .moves
                        .iter()
                        .filter(|m| m.from.contains(&from))
                        .any(|m| m.by.iter().any(|who| who.admits(role, owners))),
                })
            })?;
        }
        if self.can_move(from, to) {
            Ok(())
        } else {
            Err(self.invalid(from, to))
        }
    }

    /// The states `identity` may move a record of `owners` to from `from`.
    pub fn allowed(&self, identity: &Identity, owners: &[String], from: S) -> Vec<S> {
        self.next(from)
            .into_iter()
            .filter(|to| self.authorize(identity, owners, from, *to).is_ok())
            .collect()
    }

    /// The 409 of a move the machine does not have.
    pub fn invalid(&self, from: S, to: S) -> AppError {
        let next: Vec<&str> = self.next(from).into_iter().map(S::label).collect();
        AppError::Conflict {
            code: "invalid_transition",
            detail: format!(
                "{} nello stato «{}» non può passare a «{}»{}.",
                self.noun.a(),
                from.label(),
                to.label(),
                if next.is_empty() {
                    ": è in uno stato finale".to_owned()
                } else {
                    format!("; stati possibili: {}", next.join(", "))
                }
            ),
        }
    }

    /// The 409 of a request made on a state the record has left.
    pub fn stale(&self, current: S) -> AppError {
        AppError::Conflict {
            code: "stale_state",
            detail: format!(
                "{} è stat{e} modificat{e} da un altro utente e ora è nello stato «{}»: ricarica la pagina e riprova.",
                self.noun.the(),
                current.label(),
                e = self.noun.ending(),
            ),
        }
    }

    /// The stored state of record `id` (404 if there is none).
    pub fn current(&self, conn: &Connection, id: i64) -> Result<S, AppError> {
        let code = sql::current_state(conn, &self.tables, id)?.ok_or(AppError::NotFound)?;
        S::parse(&code).ok_or_else(|| {
            AppError::Internal(format!(
                "{} {id} has an unknown {} {code:?}",
                self.tables.records,
                S::WHAT
            ))
        })
    }

    /// Checks a step inside the move's transaction: the record is still where the caller saw
    /// it (else 409 `stale_state`), and the actor may make the move ([`Machine::authorize`]).
    pub fn check(&self, tx: &Connection, step: &Step<'_, S>) -> Result<(), AppError> {
        let current = self.current(tx, step.id)?;
        if current != step.from {
            return Err(self.stale(current));
        }
        self.authorize(step.identity, step.owners, step.from, step.to)
    }

    /// Makes a checked step (or a move the module makes itself, such as a reply putting a
    /// request back in progress): the guarded update, the history row, the audit line.
    pub fn enter(&self, tx: &Connection, step: &Step<'_, S>) -> Result<(), AppError> {
        if !sql::move_state(
            tx,
            &self.tables,
            step.id,
            step.from.as_str(),
            step.to.as_str(),
        )? {
            return Err(self.stale(self.current(tx, step.id)?));
        }
        sql::insert_history(
            tx,
            &self.tables,
            step.id,
            Some(step.from.as_str()),
            step.to.as_str(),
            step.reason,
            &display_name(step.identity),
            step.now,
        )?;
        let mut detail = json!({"from": step.from.as_str(), "to": step.to.as_str()});
        if let Some(cause) = step.cause {
            detail["reason"] = json!(cause);
        }
        audit::record(
            tx,
            &step.identity.actor(),
            self.audit_action,
            &format!("{}:{}", self.audit_resource, step.id),
            &detail,
            step.now,
        )?;
        Ok(())
    }

    /// The first step of a new record's history: created in state `to` (the record itself
    /// and its audit line are the module's).
    pub fn record_creation(
        &self,
        tx: &Connection,
        id: i64,
        to: S,
        reason: &str,
        who: &str,
        now: i64,
    ) -> Result<(), AppError> {
        sql::insert_history(tx, &self.tables, id, None, to.as_str(), reason, who, now)?;
        Ok(())
    }

    /// The whole move in one IMMEDIATE transaction: [`Machine::check`], [`Machine::enter`],
    /// then the module's `effects` (clocks, dates, dependent rows) on the same transaction,
    /// committed together.
    pub fn transition<T>(
        &self,
        conn: &mut Connection,
        step: &Step<'_, S>,
        effects: impl FnOnce(&Transaction<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let tx = begin(conn)?;
        self.check(&tx, step)?;
        self.enter(&tx, step)?;
        let out = effects(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The history of record `id`, oldest first.
    pub fn history(&self, conn: &Connection, id: i64) -> Result<Vec<HistoryStep<S>>, AppError> {
        let parse = |code: &str| {
            S::parse(code).ok_or_else(|| {
                AppError::Internal(format!(
                    "{} has an unknown {} {code:?}",
                    self.tables.history,
                    S::WHAT
                ))
            })
        };
        sql::history(conn, &self.tables, id)?
            .into_iter()
            .map(|row| {
                Ok(HistoryStep {
                    id: row.id,
                    from: row.from_state.as_deref().map(parse).transpose()?,
                    to: parse(&row.to_state)?,
                    reason: row.reason,
                    actor: row.actor,
                    at: row.at,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use axum::http::StatusCode;
    use rusqlite::{Connection, params};

    use super::*;
    use crate::auth::policy::testing::{comune, identity};

    use crate::sape::ProposalState as Proposal;
    use crate::sape::ProposalState::{
        Closed, Evaluated, Funded, Idea, InPreparation, NotFunded, Reserve, SecondStage, Submitted,
        Withdrawn,
    };

    /// The first module built on the machine: SAPE's proposals, as the module declares them.
    const SAPE: Machine<Proposal> = crate::sape::PROPOSALS;

    const NO_OWNERS: &[String] = &[];

    fn owners() -> Vec<String> {
        vec!["026086".to_owned()]
    }

    fn schema(conn: &Connection) {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sape_proposals (id INTEGER PRIMARY KEY, state TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS sape_transitions (id INTEGER PRIMARY KEY, proposal_id INTEGER NOT NULL,
                 from_state TEXT, to_state TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
                 actor_user_id INTEGER, client_ip TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, detail TEXT NOT NULL);",
        )
        .expect("schema");
    }

    fn status(err: &AppError) -> StatusCode {
        err.to_problem().status()
    }

    fn code(err: &AppError) -> String {
        serde_json::to_value(err.to_problem()).expect("problem")["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn the_sape_machine_is_one_declaration() {
        assert!(SAPE.can_move(Idea, InPreparation));
        assert!(SAPE.can_move(SecondStage, Withdrawn));
        assert!(
            !SAPE.can_move(Evaluated, Withdrawn),
            "no withdrawal after the evaluation"
        );
        assert_eq!(SAPE.next(Evaluated), vec![Funded, Reserve, NotFunded]);
        for state in [NotFunded, Closed, Withdrawn] {
            assert!(SAPE.is_final(state), "{state:?}");
        }
        // Every state but the first is reached by some move; every move leaves a state
        // that is not final.
        for state in Proposal::ALL.into_iter().skip(1) {
            assert!(
                Proposal::ALL.iter().any(|from| SAPE.can_move(*from, state)),
                "{state:?}"
            );
        }
        let office = identity(Some(Role::Operator(Module::Sape)));
        let treviso = identity(Some(comune("026086")));
        let owners = owners();
        assert_eq!(
            SAPE.allowed(&treviso, &owners, InPreparation),
            vec![Submitted, Withdrawn]
        );
        assert_eq!(
            SAPE.allowed(&office, &owners, Evaluated),
            vec![Funded, Reserve, NotFunded]
        );
        assert!(SAPE.allowed(&treviso, &owners, Evaluated).is_empty());
    }

    #[test]
    fn refusals_speak_italian_with_the_right_status() {
        let owners = owners();
        let treviso = identity(Some(comune("026086")));
        let other = identity(Some(comune("026001")));
        let sua = identity(Some(Role::Operator(Module::Sua)));
        let office = identity(Some(Role::Operator(Module::Sape)));
        let anonymous = identity(None);

        let refused = SAPE
            .authorize(&treviso, &owners, Evaluated, Funded)
            .unwrap_err();
        assert_eq!(status(&refused), StatusCode::FORBIDDEN);
        assert_eq!(
            serde_json::to_value(refused.to_problem()).expect("problem")["detail"],
            "Il tuo profilo non consente questa operazione."
        );
        assert_eq!(
            status(
                &SAPE
                    .authorize(&other, &owners, Idea, InPreparation)
                    .unwrap_err()
            ),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(
                &SAPE
                    .authorize(&sua, &owners, Idea, InPreparation)
                    .unwrap_err()
            ),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(
                &SAPE
                    .authorize(&anonymous, &owners, Idea, InPreparation)
                    .unwrap_err()
            ),
            StatusCode::UNAUTHORIZED
        );
        // A move the machine does not have: 409 for whoever may move the record on, naming
        // the states it may reach.
        let invalid = SAPE
            .authorize(&office, &owners, Evaluated, Withdrawn)
            .unwrap_err();
        assert_eq!(status(&invalid), StatusCode::CONFLICT);
        assert_eq!(code(&invalid), "invalid_transition");
        assert_eq!(
            invalid.to_string(),
            "Una proposta nello stato «Valutata» non può passare a «Ritirata»; stati possibili: Finanziata, In riserva, Non finanziata."
        );
        assert_eq!(
            SAPE.invalid(Closed, Idea).to_string(),
            "Una proposta nello stato «Chiusa» non può passare a «Idea»: è in uno stato finale."
        );
        // ... and 403 for those who may not move it from here at all.
        assert_eq!(
            status(
                &SAPE
                    .authorize(&treviso, &owners, Evaluated, Withdrawn)
                    .unwrap_err()
            ),
            StatusCode::FORBIDDEN
        );
        // Staff move any proposal, whichever Comuni it serves.
        assert!(
            SAPE.authorize(&office, NO_OWNERS, Idea, InPreparation)
                .is_ok()
        );
    }

    #[test]
    fn a_move_writes_state_history_and_audit_together() -> Result<(), AppError> {
        let mut conn = Connection::open_in_memory()?;
        schema(&conn);
        conn.execute(
            "INSERT INTO sape_proposals (id, state) VALUES (7, 'submitted')",
            [],
        )?;
        let owners = owners();
        let office = identity(Some(Role::Operator(Module::Sape)));
        let step = Step::new(&office, &owners, 7, Submitted, Withdrawn)
            .reason("Il partenariato si è sciolto")
            .at(1_700_000_000);
        let effects = SAPE.transition(&mut conn, &step, |tx| {
            // The hook sees the record already moved, in the same transaction.
            SAPE.current(tx, 7)
        })?;
        assert_eq!(effects, Withdrawn);
        assert_eq!(SAPE.current(&conn, 7)?, Withdrawn);
        assert_eq!(
            SAPE.history(&conn, 7)?,
            vec![HistoryStep {
                id: 1,
                from: Some(Submitted),
                to: Withdrawn,
                reason: "Il partenariato si è sciolto".into(),
                actor: "U".into(),
                at: 1_700_000_000,
            }]
        );
        let (action, resource, detail, actor): (String, String, String, String) = conn.query_row(
            "SELECT action, resource, detail, actor FROM audit_log",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )?;
        assert_eq!(
            (action.as_str(), resource.as_str(), actor.as_str()),
            ("sape.proposal.transition", "sape_proposal:7", "user:u")
        );
        // The reason is the caller's text: it stays in the history, out of the audit log.
        assert_eq!(detail, r#"{"from":"submitted","to":"withdrawn"}"#);

        // A hook that fails undoes the move with it.
        conn.execute(
            "INSERT INTO sape_proposals (id, state) VALUES (8, 'idea')",
            [],
        )?;
        let step = Step::new(&office, &owners, 8, Idea, InPreparation);
        let failed = SAPE.transition(&mut conn, &step, |_| -> Result<(), AppError> {
            Err(AppError::invalid_field("budget", "Manca il budget."))
        });
        assert!(failed.is_err());
        assert_eq!(SAPE.current(&conn, 8)?, Idea);
        assert!(SAPE.history(&conn, 8)?.is_empty());
        let audits: i64 = conn.query_row("SELECT count(*) FROM audit_log", [], |row| row.get(0))?;
        assert_eq!(audits, 1);

        // A record that does not exist is 404.
        let step = Step::new(&office, &owners, 99, Idea, InPreparation);
        let missing = SAPE.transition(&mut conn, &step, |_| Ok(())).unwrap_err();
        assert_eq!(status(&missing), StatusCode::NOT_FOUND);
        Ok(())
    }

    #[test]
    fn two_moves_from_the_same_state_one_wins_the_other_is_stale() -> Result<(), AppError> {
        let dir = tempfile::tempdir().map_err(|err| AppError::Internal(err.to_string()))?;
        let path = dir.path().join("lifecycle.sqlite");
        {
            let conn = Connection::open(&path)?;
            schema(&conn);
            conn.execute(
                "INSERT INTO sape_proposals (id, state) VALUES (1, 'evaluated')",
                [],
            )?;
        }
        // Both callers saw the proposal evaluated; one records the funding, the other the
        // rejection, at the same moment on their own connections.
        let barrier = Arc::new(Barrier::new(2));
        let outcomes: Vec<Result<(), AppError>> = std::thread::scope(|scope| {
            let runs: Vec<_> = [Funded, NotFunded]
                .into_iter()
                .map(|to| {
                    let (barrier, path) = (Arc::clone(&barrier), path.clone());
                    scope.spawn(move || {
                        let mut conn = Connection::open(&path)?;
                        conn.busy_timeout(std::time::Duration::from_secs(10))?;
                        let office = identity(Some(Role::Operator(Module::Sape)));
                        let owners = owners();
                        let step = Step::new(&office, &owners, 1, Evaluated, to).reason("esito");
                        barrier.wait();
                        SAPE.transition(&mut conn, &step, |_| {
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(())
                        })
                    })
                })
                .collect();
            runs.into_iter()
                .map(|run| run.join().expect("thread"))
                .collect()
        });
        let won: Vec<usize> = (0..2).filter(|i| outcomes[*i].is_ok()).collect();
        assert_eq!(won.len(), 1, "{outcomes:?}");
        let winner = [Funded, NotFunded][won[0]];
        let lost = outcomes[1 - won[0]].as_ref().unwrap_err();
        assert_eq!(status(lost), StatusCode::CONFLICT);
        assert_eq!(code(lost), "stale_state");
        assert_eq!(
            lost.to_string(),
            format!(
                "La proposta è stata modificata da un altro utente e ora è nello stato «{}»: ricarica la pagina e riprova.",
                winner.label()
            )
        );
        let conn = Connection::open(&path)?;
        assert_eq!(SAPE.current(&conn, 1)?, winner);
        let history = SAPE.history(&conn, 1)?;
        assert_eq!(history.len(), 1);
        assert_eq!((history[0].from, history[0].to), (Some(Evaluated), winner));
        let audits: i64 = conn.query_row(
            "SELECT count(*) FROM audit_log WHERE resource = ?1",
            params!["sape_proposal:1"],
            |row| row.get(0),
        )?;
        assert_eq!(audits, 1);
        Ok(())
    }

    #[test]
    fn the_guarded_update_refuses_a_record_that_moved() -> Result<(), AppError> {
        let conn = Connection::open_in_memory()?;
        schema(&conn);
        conn.execute(
            "INSERT INTO sape_proposals (id, state) VALUES (3, 'funded')",
            [],
        )?;
        let office = identity(Some(Role::Operator(Module::Sape)));
        let owners = owners();
        // `enter` without `check` (a move the module makes itself) is still guarded.
        let step = Step::new(&office, &owners, 3, Evaluated, Reserve);
        let err = SAPE.enter(&conn, &step).unwrap_err();
        assert_eq!(code(&err), "stale_state");
        assert!(err.to_string().contains("«Finanziata»"));
        assert!(SAPE.history(&conn, 3)?.is_empty());
        Ok(())
    }
}
