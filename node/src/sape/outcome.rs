//! A proposal's outcome, recorded by the SAPE office as the funder decides and pays: the
//! evaluation's score and threshold (once evaluated), the CUP and the EU contribution
//! obtained by each partner (once funded), and what each partner has received (once the grant
//! is signed). Each part is accepted only from the state where it exists, so a figure is
//! never recorded ahead of the decision it comes from; obtained never exceeds what the
//! partner requested, received never exceeds what it obtained.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Identity;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::sape::db::{self as store, OutcomeRecord, PartnerAmounts};
use crate::sape::national::{self, is_funded};
use crate::sape::ops::{FieldErrors, ProposalView, decimal, parse_money, proposal_detail};
use crate::sape::policy::{self, Action};
use crate::sape::{ProposalState, budget};
use crate::state::AppState;

/// One partner's amounts as the API receives and shows them: euro as decimal text, blank or
/// absent when not known.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountsInput {
    /// EU contribution obtained, euro.
    #[serde(default)]
    pub obtained: Option<String>,
    /// EU contribution received so far, euro.
    #[serde(default)]
    pub received: Option<String>,
}

/// Body of `PUT /v1/sape/proposals/{id}/outcome`, and the outcome in a proposal's answer.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// The evaluation's score (at most two decimals), once evaluated.
    #[serde(default)]
    pub score: Option<String>,
    /// The threshold the score had to reach, once evaluated.
    #[serde(default)]
    pub threshold: Option<String>,
    /// Codice Unico di Progetto: 15 letters and digits, once funded.
    #[serde(default)]
    pub cup: Option<String>,
    /// One entry per partner, in the proposal's order (an empty list leaves none recorded).
    #[serde(default)]
    pub partners: Vec<AmountsInput>,
}

/// Whether the evaluation is known in `state`.
pub fn is_evaluated(state: ProposalState) -> bool {
    use ProposalState::{Evaluated, NotFunded, Reserve};
    matches!(state, Evaluated | Reserve | NotFunded) || is_funded(state)
}

/// Whether payments can have started in `state` (the grant is signed).
pub fn is_paying(state: ProposalState) -> bool {
    use ProposalState::{Closed, GrantSigned, InExecution};
    matches!(state, GrantSigned | InExecution | Closed)
}

/// Whether `cup` is a Codice Unico di Progetto: 15 capital letters and digits.
pub fn is_cup(cup: &str) -> bool {
    cup.len() == 15
        && cup
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn points(text: &str) -> Result<i64, String> {
    parse_money(text, false).map_err(|_| {
        format!("«{text}» non è un punteggio: scrivilo come 12,5 (al massimo due decimali)")
    })
}

/// Checks `input` against the proposal's `state` and the EU contribution each partner
/// requested (`requested`, cents, in order).
pub fn check(
    input: &OutcomeInput,
    state: ProposalState,
    requested: &[i64],
) -> Result<OutcomeRecord, AppError> {
    let mut errors = FieldErrors::default();
    let evaluated = is_evaluated(state);
    let mut score_of = |field: &str, value: &Option<String>| {
        let text = blank(value)?;
        if !evaluated {
            errors.add(
                field,
                "Il punteggio e la soglia si registrano quando la proposta è stata valutata.",
            );
            return None;
        }
        errors.check(field, points(text))
    };
    let score = score_of("score", &input.score);
    let threshold = score_of("threshold", &input.threshold);
    let cup = blank(&input.cup).map(str::to_ascii_uppercase);
    if let Some(cup) = &cup {
        if !is_funded(state) {
            errors.add("cup", "Il CUP si registra quando la proposta è finanziata.");
        } else if !is_cup(cup) {
            errors.add(
                "cup",
                "Il CUP è un codice di 15 caratteri, lettere maiuscole e cifre.",
            );
        }
    }
    if !input.partners.is_empty() && input.partners.len() != requested.len() {
        errors.add(
            "partners",
            format!(
                "Indica gli importi di tutti i partner della proposta, nel loro ordine: sono {}.",
                requested.len()
            ),
        );
    }
    let mut amounts = vec![PartnerAmounts::default(); requested.len()];
    for (i, (partner, slot)) in input.partners.iter().zip(&mut amounts).enumerate() {
        let field = |name: &str| format!("partners[{i}].{name}");
        if let Some(text) = blank(&partner.obtained) {
            if !is_funded(state) {
                errors.add(
                    field("obtained"),
                    "Il contributo ottenuto si registra quando la proposta è finanziata.",
                );
            } else if let Some(cents) = errors.check(&field("obtained"), parse_money(text, false)) {
                if cents > requested[i] {
                    errors.add(
                        field("obtained"),
                        format!(
                            "Il contributo ottenuto supera quello richiesto ({} euro).",
                            decimal(requested[i])
                        ),
                    );
                }
                slot.obtained = Some(cents);
            }
        }
        if let Some(text) = blank(&partner.received) {
            if !is_paying(state) {
                errors.add(
                    field("received"),
                    "Gli importi ricevuti si registrano dopo la firma della convenzione.",
                );
            } else if let Some(cents) = errors.check(&field("received"), parse_money(text, false)) {
                let ceiling = slot.obtained.unwrap_or(requested[i]);
                if cents > ceiling {
                    errors.add(
                        field("received"),
                        format!(
                            "L'importo ricevuto supera il contributo ottenuto ({} euro).",
                            decimal(ceiling)
                        ),
                    );
                }
                slot.received = Some(cents);
            }
        }
    }
    errors.finish()?;
    Ok(OutcomeRecord {
        score,
        threshold,
        cup,
        amounts,
    })
}

/// The outcome as the API shows it (amounts per partner, in order).
pub fn view(outcome: &OutcomeRecord) -> OutcomeInput {
    let text = |cents: Option<i64>| cents.map(decimal);
    OutcomeInput {
        score: text(outcome.score),
        threshold: text(outcome.threshold),
        cup: outcome.cup.clone(),
        partners: outcome
            .amounts
            .iter()
            .map(|a| AmountsInput {
                obtained: text(a.obtained),
                received: text(a.received),
            })
            .collect(),
    }
}

/// Records the outcome of proposal `id` (SAPE staff only), re-publishing its national rows.
pub async fn record(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: OutcomeInput,
) -> Result<ProposalView, AppError> {
    policy::authorize(identity, Action::ManageProposals)?;
    let actor = identity.actor();
    let signer = state.signer.clone();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = crate::lifecycle::begin(conn)?;
            let row = store::get_proposal(&tx, id)?.ok_or(AppError::NotFound)?;
            let requested: Vec<i64> = row
                .record
                .partners
                .iter()
                .map(|p| budget(&p.budget).eu_contribution)
                .collect();
            let outcome = check(&input, row.state, &requested)?;
            store::set_outcome(&tx, id, &outcome, now)?;
            store::touch_proposal(&tx, id, now)?;
            audit::record(
                &tx,
                &actor,
                "sape.proposal.outcome",
                &format!("sape_proposal:{id}"),
                &json!({"cup": outcome.cup, "scored": outcome.score.is_some()}),
                now,
            )?;
            national::refresh_proposal(&tx, &signer, id)?;
            tx.commit()?;
            Ok::<_, AppError>(())
        })
        .await?;
    proposal_detail(state, identity, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(score: &str, cup: &str, amounts: &[(&str, &str)]) -> OutcomeInput {
        OutcomeInput {
            score: Some(score.into()),
            threshold: Some("10".into()),
            cup: Some(cup.into()),
            partners: amounts
                .iter()
                .map(|(o, r)| AmountsInput {
                    obtained: Some((*o).into()),
                    received: Some((*r).into()),
                })
                .collect(),
        }
    }

    fn fields(error: &AppError) -> Vec<String> {
        crate::sape::ops::field_messages(error)
            .into_keys()
            .collect()
    }

    #[test]
    fn each_figure_waits_for_its_decision() {
        let requested = [10_000_000, 5_000_000];
        // Before the evaluation nothing can be recorded.
        let early = input("13,5", "J41B22000120006", &[("1", ""), ("", "")]);
        let error = check(&early, ProposalState::Submitted, &requested).unwrap_err();
        assert_eq!(
            fields(&error),
            ["cup", "partners[0].obtained", "score", "threshold"]
        );
        // Evaluated: the score, not yet the money.
        let scored = input("13,5", "", &[("", ""), ("", "")]);
        let outcome = check(&scored, ProposalState::Evaluated, &requested).unwrap();
        assert_eq!(outcome.score, Some(1350));
        assert_eq!(outcome.threshold, Some(1000));
        // Funded: the CUP and what was obtained; received only after the grant.
        let funded = input(
            "13,5",
            "j41b22000120006",
            &[("90.000,00", "10"), ("50000", "")],
        );
        let error = check(&funded, ProposalState::Funded, &requested).unwrap_err();
        assert_eq!(fields(&error), ["partners[0].received"]);
        let signed = check(&funded, ProposalState::InExecution, &requested).unwrap();
        assert_eq!(signed.cup.as_deref(), Some("J41B22000120006"));
        assert_eq!(
            signed.amounts,
            [
                PartnerAmounts {
                    obtained: Some(9_000_000),
                    received: Some(1_000)
                },
                PartnerAmounts {
                    obtained: Some(5_000_000),
                    received: None
                }
            ]
        );
    }

    #[test]
    fn amounts_stay_within_what_was_asked_and_obtained() {
        let requested = [10_000_000];
        let too_much = input("12", "J41B22000120006", &[("100000,01", "")]);
        let error = check(&too_much, ProposalState::Funded, &requested).unwrap_err();
        assert_eq!(fields(&error), ["partners[0].obtained"]);
        // Received above obtained (not requested) is refused.
        let over = input("12", "J41B22000120006", &[("80000", "80000,01")]);
        let error = check(&over, ProposalState::GrantSigned, &requested).unwrap_err();
        assert_eq!(fields(&error), ["partners[0].received"]);
        // One entry per partner, or none.
        let short = OutcomeInput {
            partners: vec![AmountsInput::default(); 2],
            ..OutcomeInput::default()
        };
        let error = check(&short, ProposalState::Funded, &requested).unwrap_err();
        assert_eq!(fields(&error), ["partners"]);
        assert!(check(&OutcomeInput::default(), ProposalState::Idea, &requested).is_ok());
    }

    #[test]
    fn cup_is_fifteen_letters_and_digits() {
        assert!(is_cup("J41B22000120006"));
        assert!(!is_cup("J41B2200012000"));
        assert!(!is_cup("J41B22000120006X"));
        assert!(!is_cup("J41B2200012000-"));
        let bad = input("12", "J41B2200012000", &[]);
        let error = check(&bad, ProposalState::Funded, &[]).unwrap_err();
        assert_eq!(fields(&error), ["cup"]);
    }
}
