//! Every state transition × every role, through the real API: State::ALL × State::ALL for
//! the admin, the SUA operator, an operator of another module, the owning Comune, another
//! Comune and an anonymous caller. The expected outcome is spelled out here, independently
//! of the code under test: the moves each role may make, and the status of every refusal.

use pico_node::sua::State;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::assert_problem;
use crate::sua_helpers::Sua;

/// The moves SUA staff (admin and SUA operators) make.
const STAFF_MOVES: &[(State, State)] = &[
    (State::Submitted, State::Received),
    (State::Submitted, State::Returned),
    (State::Received, State::InPreparation),
    (State::Received, State::Cancelled),
    (State::InPreparation, State::Published),
    (State::InPreparation, State::Cancelled),
    (State::Published, State::BidsClosed),
    (State::Published, State::Cancelled),
    (State::Published, State::Deserted),
    (State::BidsClosed, State::Evaluation),
    (State::BidsClosed, State::Cancelled),
    (State::BidsClosed, State::Deserted),
    (State::Evaluation, State::Awarded),
    (State::Evaluation, State::Cancelled),
    (State::Evaluation, State::Deserted),
    (State::Awarded, State::ContractSigned),
    (State::Awarded, State::Cancelled),
    (State::ContractSigned, State::Completed),
];

/// The moves only the requesting Comune makes: resubmit a returned request, withdraw one
/// not yet accepted.
const COMUNE_MOVES: &[(State, State)] = &[
    (State::Returned, State::Submitted),
    (State::Submitted, State::Withdrawn),
    (State::Returned, State::Withdrawn),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    SuaOperator,
    OtherOperator,
    OwningComune,
    OtherComune,
    Anonymous,
}

const EVERYONE: [Who; 6] = [
    Who::Admin,
    Who::SuaOperator,
    Who::OtherOperator,
    Who::OwningComune,
    Who::OtherComune,
    Who::Anonymous,
];

/// The expected status and problem code of `who` moving a procedure from `from` to `to`.
fn expected(who: Who, from: State, to: State) -> (StatusCode, Option<&'static str>) {
    let staff_move = STAFF_MOVES.contains(&(from, to));
    let comune_move = COMUNE_MOVES.contains(&(from, to));
    let valid = staff_move || comune_move;
    match who {
        Who::Anonymous => (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
        // Another Comune must not learn that the procedure exists.
        Who::OtherComune => (StatusCode::NOT_FOUND, Some("not_found")),
        Who::OtherOperator => (StatusCode::FORBIDDEN, Some("forbidden")),
        Who::OwningComune if comune_move => (StatusCode::OK, None),
        Who::OwningComune => (StatusCode::FORBIDDEN, Some("forbidden")),
        Who::Admin | Who::SuaOperator if staff_move => (StatusCode::OK, None),
        // The Comune's own moves are refused to staff by role, before the state machine:
        // staff never withdraw a request, from whatever state.
        Who::Admin | Who::SuaOperator if comune_move || to == State::Withdrawn => {
            (StatusCode::FORBIDDEN, Some("forbidden"))
        }
        Who::Admin | Who::SuaOperator => {
            assert!(!valid);
            (StatusCode::CONFLICT, Some("invalid_transition"))
        }
    }
}

#[test]
fn the_expected_table_matches_the_state_machine() {
    // The moves listed here are exactly the state machine's: no move is missing from the
    // table, and the table invents none.
    for from in State::ALL {
        for to in State::ALL {
            let listed = STAFF_MOVES.contains(&(from, to)) || COMUNE_MOVES.contains(&(from, to));
            assert_eq!(listed, from.can_move_to(to), "{from:?} → {to:?}");
        }
    }
}

#[tokio::test]
async fn every_transition_for_every_role() {
    let sua = Sua::spawn().await;
    let token = |who: Who| -> Option<&str> {
        match who {
            Who::Admin => Some(&sua.admin),
            Who::SuaOperator => Some(&sua.sua),
            Who::OtherOperator => Some(&sua.helpdesk),
            Who::OwningComune => Some(&sua.tv),
            Who::OtherComune => Some(&sua.alt),
            Who::Anonymous => None,
        }
    };
    let mut checked = 0;
    let mut moved = 0;
    for from in State::ALL {
        let mut id = sua.procedure_in(from).await;
        assert_eq!(sua.state_of(id).await, from.as_str());
        for who in EVERYONE {
            for to in State::ALL {
                let (status, code) = expected(who, from, to);
                let response = sua.transition(id, to, token(who)).await;
                let context = format!("{who:?} moving {from:?} → {to:?}");
                if status == StatusCode::OK {
                    let got = response.status();
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(got, StatusCode::OK, "{context}: {body}");
                    assert_eq!(body["state"], to.as_str(), "{context}");
                    // The move is in the history, with who made it and the reason.
                    let (_, history) = sua
                        .get(
                            &format!("/v1/sua/procedures/{id}/transitions"),
                            Some(&sua.sua),
                        )
                        .await;
                    let last = history.as_array().unwrap().last().unwrap().clone();
                    assert_eq!(last["from"], from.as_str(), "{context}");
                    assert_eq!(last["to"], to.as_str(), "{context}");
                    assert_eq!(last["reason"], "Motivazione di prova", "{context}");
                    moved += 1;
                    // Later checks need a procedure still in `from`.
                    id = sua.procedure_in(from).await;
                } else {
                    assert_eq!(response.status(), status, "{context}");
                    let problem = assert_problem(response, status).await;
                    assert_eq!(problem["code"].as_str(), code, "{context}: {problem}");
                    assert_eq!(
                        sua.state_of(id).await,
                        from.as_str(),
                        "{context}: a refused move changed the state"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 13 * 13 * 6);
    assert_eq!(moved, STAFF_MOVES.len() * 2 + COMUNE_MOVES.len());
}

#[tokio::test]
async fn an_unknown_procedure_is_404_for_everyone_signed_in() {
    let sua = Sua::spawn().await;
    for token in [&sua.admin, &sua.sua, &sua.tv] {
        let response = sua.transition(999, State::Received, Some(token)).await;
        let problem = assert_problem(response, StatusCode::NOT_FOUND).await;
        assert_eq!(problem["code"], "not_found", "{problem}");
    }
    let response = sua
        .app
        .post_json(
            "/v1/sua/procedures/1/transitions",
            Some(&sua.sua),
            &serde_json::json!({"to": "nowhere"}),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "invalid_body", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("nowhere"),
        "the message names the bad value: {problem}"
    );
}
