//! Changing and removing editions and sessions (the training office), and the
//! self-enrolment of the Province's own staff.
//!
//! What was attended stays as it happened: a session with attendance recorded can be neither
//! moved nor removed, and an edition with attendance cannot be removed (409, in Italian).
//! Seats can grow (the waiting list is promoted in order, in the same transaction) but not
//! fall below the people already holding one.

use serde_json::json;

use crate::auth::Identity;
use crate::db::audit;
use crate::error::AppError;
use crate::formazione::db::{self as store, SessionRow};
use crate::formazione::ops::{
    self, EditionInput, EditionView, EnrolmentView, NewEnrolment, check_edition, office_write,
};
use crate::formazione::policy::{self, Action};
use crate::formazione::{ENROLMENTS, EnrolmentState};
use crate::lifecycle::Step;
use crate::state::AppState;

fn has_attendance(what: &str) -> AppError {
    AppError::Conflict {
        code: "has_attendance",
        detail: format!(
            "{what} ha presenze registrate: resta com'è, perché le ore frequentate non vadano perse."
        ),
    }
}

/// Replaces an edition's place, link, teacher, seats, enrolment window and sessions. A
/// session with attendance must be kept as it is (same start and end); the others are
/// replaced by those sent. Fewer seats than the people enrolled is refused (422); more seats
/// promote the waiting list in order. Hours attended and completions are recomputed.
pub async fn update_edition(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &EditionInput,
) -> Result<EditionView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let record = check_edition(input)?;
    let mover = identity.clone();
    office_write(state, identity, move |tx, actor, now| {
        let edition = store::get_edition(tx, id)?.ok_or(AppError::NotFound)?;
        let course = store::get_course(tx, edition.course_id)?.ok_or(AppError::NotFound)?;
        if record.seats < edition.enrolled {
            return Err(AppError::invalid_field(
                "seats",
                format!(
                    "Gli iscritti che hanno già un posto sono {}: i posti non possono essere di meno.",
                    edition.enrolled
                ),
            ));
        }
        let kept = |s: &SessionRow| record.sessions.contains(&(s.starts_at, s.ends_at));
        for session in &edition.sessions {
            if !kept(session) && store::session_has_attendance(tx, session.id)? {
                return Err(session_has_attendance(session));
            }
        }
        store::update_edition(tx, id, &record)?;
        for session in edition.sessions.iter().filter(|s| !kept(s)) {
            store::delete_session(tx, session.id)?;
        }
        for &(starts, ends) in &record.sessions {
            if !edition
                .sessions
                .iter()
                .any(|s| (s.starts_at, s.ends_at) == (starts, ends))
            {
                store::insert_session(tx, id, starts, ends)?;
            }
        }
        // More seats: the waiting list moves up, first come first served.
        while store::seats_taken(tx, id)? < record.seats {
            let Some(first) = store::first_waiting(tx, id)? else {
                break;
            };
            let promoted = store::get_enrolment(tx, first)?.ok_or(AppError::NotFound)?;
            let owners: Vec<String> = promoted.comune.iter().cloned().collect();
            let step = Step::new(
                &mover,
                &owners,
                first,
                EnrolmentState::Waiting,
                EnrolmentState::Enrolled,
            )
            .reason("Posti dell'edizione aumentati: primo della lista d'attesa.")
            .cause("waiting_list");
            ENROLMENTS.enter(tx, &step)?;
        }
        store::recompute_edition(tx, id, course.record.rule)?;
        audit::record(
            tx,
            actor,
            "formazione.edition.update",
            &format!("formazione_edition:{id}"),
            &json!({"sessions": record.sessions.len(), "seats": record.seats}),
            now,
        )?;
        let row = store::get_edition(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(EditionView::new(row, &ops::today()))
    })
    .await
}

/// 409 `has_attendance` for a session with attendance recorded.
fn session_has_attendance(session: &SessionRow) -> AppError {
    has_attendance(&format!(
        "L'incontro del {}",
        pico_service::format::unix_time(session.starts_at)
    ))
}

/// Removes an edition with its sessions and enrolments; 409 `has_attendance` once anyone's
/// attendance is recorded. Returns its course.
pub async fn delete_edition(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<i64, AppError> {
    office_write(state, identity, move |tx, actor, now| {
        let edition = store::get_edition(tx, id)?.ok_or(AppError::NotFound)?;
        if store::edition_has_attendance(tx, id)? {
            return Err(has_attendance("L'edizione"));
        }
        store::delete_edition(tx, id)?;
        audit::record(
            tx,
            actor,
            "formazione.edition.delete",
            &format!("formazione_edition:{id}"),
            &json!({"course_id": edition.course_id}),
            now,
        )?;
        Ok(edition.course_id)
    })
    .await
}

/// Removes a session; 409 `has_attendance` once attendance is recorded for it, 409
/// `last_session` for the only session of its edition. Returns its edition.
pub async fn delete_session(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<i64, AppError> {
    office_write(state, identity, move |tx, actor, now| {
        let session = store::get_session(tx, id)?.ok_or(AppError::NotFound)?;
        let edition = store::get_edition(tx, session.edition_id)?.ok_or(AppError::NotFound)?;
        let course = store::get_course(tx, edition.course_id)?.ok_or(AppError::NotFound)?;
        if store::session_has_attendance(tx, id)? {
            return Err(session_has_attendance(&session));
        }
        if edition.sessions.len() <= 1 {
            return Err(AppError::Conflict {
                code: "last_session",
                detail: "È l'unico incontro dell'edizione: un'edizione ha almeno un incontro (elimina l'edizione, se non si terrà)."
                    .into(),
            });
        }
        store::delete_session(tx, id)?;
        store::recompute_edition(tx, edition.id, course.record.rule)?;
        audit::record(
            tx,
            actor,
            "formazione.session.delete",
            &format!("formazione_session:{id}"),
            &json!({"edition_id": edition.id}),
            now,
        )?;
        Ok(edition.id)
    })
    .await
}

/// The Province's staff-list entry of the signed-in Province user (matched on the account's
/// name, which is the work e-mail), if any. A Comune user has none: a Comune enrols its
/// people.
pub async fn own_staff_id(state: &AppState, identity: &Identity) -> Result<Option<i64>, AppError> {
    let user = identity.require_user()?;
    if user.roles.comune().is_some() {
        return Ok(None);
    }
    let email = user.username.trim().to_lowercase();
    state
        .db
        .call(move |conn| {
            let Some(id) = store::staff_id_by_email(conn, &email)? else {
                return Ok::<_, AppError>(None);
            };
            let person = store::get_staff(conn, id)?;
            Ok(person.filter(|p| p.record.comune.is_none()).map(|p| p.id))
        })
        .await
}

/// For a Province employee in the staff list, the state of their own enrolment in edition
/// `edition_id` (`Some(None)`: not enrolled); `None` for anyone else.
pub async fn own_enrolment(
    state: &AppState,
    identity: &Identity,
    edition_id: i64,
) -> Result<Option<Option<EnrolmentState>>, AppError> {
    let Some(staff_id) = own_staff_id(state, identity).await? else {
        return Ok(None);
    };
    state
        .db
        .call(move |conn| {
            let enrolment = match store::enrolment_of(conn, edition_id, staff_id)? {
                Some(id) => store::get_enrolment(conn, id)?.map(|e| e.state),
                None => None,
            };
            Ok::<_, AppError>(Some(enrolment))
        })
        .await
}

/// A Province employee enrols themself (a course open to the Province's staff, within the
/// window; a seat, else the waiting list). 409 `not_in_staff_list` when the account matches
/// nobody of the Province's staff list.
pub async fn enrol_self(
    state: &AppState,
    identity: &Identity,
    edition_id: i64,
) -> Result<EnrolmentView, AppError> {
    let Some(staff_id) = own_staff_id(state, identity).await? else {
        return Err(AppError::Conflict {
            code: "not_in_staff_list",
            detail: "Il tuo account non corrisponde a nessuna persona dell'elenco del personale della Provincia (si confronta il nome utente con l'e-mail di lavoro): chiedi all'ufficio formazione di aggiungerti.".into(),
        });
    };
    ops::enrol(state, identity, edition_id, &NewEnrolment { staff_id }).await
}
