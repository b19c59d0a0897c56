//! The national `sape_progetti` dataset: one row per proposal and partner of the SAPE,
//! derived from its tables and federated through the Dati module when the Province enables
//! it. The schema is documented for everyone in `protocol/datasets/sape_progetti.md`;
//! [`FIELDS`] is its definition and [`encode`] writes a row in that order.
//!
//! - **No personal data.** Rows name organisations (the partners), never people: the
//!   proposal's author, the history's actors and the e-mail addresses stay on the node.
//! - **Key.** `[proposal_id, partner_no]`, `partner_no` being the partner's place in the
//!   proposal (1, 2…; 0 for a proposal without partners yet, one row standing for it). The
//!   node rewrites a proposal's partners on every edit, so their ids would churn; their order
//!   is what the office sees and edits.
//! - **Kept in step.** Every operation that changes a proposal (creation, edit, move of its
//!   state) calls [`refresh_proposal`] in its own transaction; a change of a call (manual or
//!   imported) calls [`refresh_all`], as the rows carry the call's identifiers and title.
//! - **Rows only while federated**, as for `appalti`: turning the dataset `national` builds
//!   every row ([`materialise`]) in the transaction of the full snapshot; `off` drops them. The
//!   dataset is defined (with federation `off`) the first time a proposal changes.

use pico_protocol::payload::FieldValue;
use rusqlite::Connection;

use crate::dati::csv_import;
use crate::dati::ops::{self, DatiError};
use crate::dati::{Federation, FieldDef, FieldType};
use crate::db::{self, datasets};
use crate::error::AppError;
use crate::federation::Signer;
use crate::sape::db as store;
use crate::sape::{BudgetInput, ProposalState, budget};

/// The dataset's name.
pub const DATASET: &str = "sape_progetti";

/// The title shown in the Dati catalogue.
pub const TITLE: &str = "Progetti europei del SAPE (un partner per riga)";

/// The primary key.
pub const PRIMARY_KEY: [&str; 2] = ["proposal_id", "partner_no"];

/// The fields of schema version 1, in row order.
pub const FIELDS: [(&str, FieldType); 19] = [
    ("proposal_id", FieldType::Integer),
    ("partner_no", FieldType::Integer),
    ("call_identifier", FieldType::Text),
    ("topic_identifier", FieldType::Text),
    ("programme", FieldType::Text),
    ("call_title", FieldType::Text),
    ("acronym", FieldType::Text),
    ("title", FieldType::Text),
    ("state", FieldType::Text),
    ("province_role", FieldType::Text),
    ("partner_name", FieldType::Text),
    ("country", FieldType::Text),
    ("pic", FieldType::Text),
    ("partner_role", FieldType::Text),
    ("comune", FieldType::Text),
    ("eu_requested_cents", FieldType::Integer),
    ("eu_obtained_cents", FieldType::Integer),
    ("funded", FieldType::Boolean),
    ("year", FieldType::Integer),
];

/// The field definitions, as the Dati module stores them.
pub fn field_defs() -> Vec<FieldDef> {
    FIELDS
        .iter()
        .map(|(name, kind)| FieldDef {
            name: (*name).to_owned(),
            kind: *kind,
        })
        .collect()
}

/// Whether a proposal in `state` won its funding (funded and every state after it).
pub fn is_funded(state: ProposalState) -> bool {
    matches!(
        state,
        ProposalState::Funded
            | ProposalState::GrantSigned
            | ProposalState::InExecution
            | ProposalState::Closed
    )
}

/// A proposal as the dataset reads it (see `store::national_sources`).
#[derive(Debug, Clone)]
pub struct ProposalSource {
    /// Id.
    pub id: i64,
    /// The call's `call_identifier` and `identifier` (topic), programme code and title.
    pub call_identifier: String,
    /// The topic's identifier.
    pub topic_identifier: String,
    /// Programme code.
    pub programme: String,
    /// The call's title.
    pub call_title: String,
    /// Acronym.
    pub acronym: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: ProposalState,
    /// The Province's role code.
    pub province_role: String,
    /// Year: of the call's closing date, else of the proposal's creation.
    pub year: i64,
    /// Partners in their order.
    pub partners: Vec<PartnerSource>,
}

/// A partner as the dataset reads it.
#[derive(Debug, Clone)]
pub struct PartnerSource {
    /// Organisation name.
    pub name: String,
    /// Country code.
    pub country: String,
    /// PIC.
    pub pic: Option<String>,
    /// Role code.
    pub role: String,
    /// ISTAT code when it is a Comune of this Province.
    pub comune: Option<String>,
    /// The EU contribution obtained, cents, as recorded with the outcome.
    pub obtained: Option<i64>,
    /// Budget inputs.
    pub budget: BudgetInput,
}

impl PartnerSource {
    /// The EU contribution obtained once funded: as recorded with the outcome, else the
    /// requested one.
    pub fn obtained_cents(&self) -> i64 {
        self.obtained
            .unwrap_or_else(|| budget(&self.budget).eu_contribution)
    }
}

/// The rows of one proposal, `(pk, data)` in key order.
pub fn encode(proposal: &ProposalSource) -> Vec<(String, String)> {
    let funded = is_funded(proposal.state);
    let common = |no: i64| {
        vec![
            FieldValue::Int(proposal.id),
            FieldValue::Int(no),
            FieldValue::from(proposal.call_identifier.as_str()),
            FieldValue::from(proposal.topic_identifier.as_str()),
            FieldValue::from(proposal.programme.as_str()),
            FieldValue::from(proposal.call_title.as_str()),
            FieldValue::from(proposal.acronym.as_str()),
            FieldValue::from(proposal.title.as_str()),
            FieldValue::from(proposal.state.as_str()),
            FieldValue::from(proposal.province_role.as_str()),
        ]
    };
    let text = |value: Option<&str>| value.map_or(FieldValue::Null, FieldValue::from);
    let key = |no: i64| csv_import::encode(&[FieldValue::Int(proposal.id), FieldValue::Int(no)]);
    if proposal.partners.is_empty() {
        let mut row = common(0);
        row.extend([
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Int(0),
            if funded {
                FieldValue::Int(0)
            } else {
                FieldValue::Null
            },
            FieldValue::Bool(funded),
            FieldValue::Int(proposal.year),
        ]);
        return vec![(key(0), csv_import::encode(&row))];
    }
    let mut rows = Vec::with_capacity(proposal.partners.len());
    for (no, partner) in (1_i64..).zip(&proposal.partners) {
        let requested = budget(&partner.budget).eu_contribution;
        let mut row = common(no);
        row.extend([
            FieldValue::from(partner.name.as_str()),
            FieldValue::from(partner.country.as_str()),
            text(partner.pic.as_deref()),
            FieldValue::from(partner.role.as_str()),
            text(partner.comune.as_deref()),
            FieldValue::Int(requested),
            if funded {
                FieldValue::Int(partner.obtained_cents())
            } else {
                FieldValue::Null
            },
            FieldValue::Bool(funded),
            FieldValue::Int(proposal.year),
        ]);
        rows.push((key(no), csv_import::encode(&row)));
    }
    rows
}

/// Brings the rows of proposal `id` in line with the SAPE tables (none if it is gone),
/// publishing the change when the dataset is federated. Call it inside the transaction that
/// changed the proposal.
pub fn refresh_proposal(tx: &Connection, signer: &Signer, id: i64) -> Result<(), AppError> {
    refresh(tx, signer, Some(id))?;
    Ok(())
}

/// Rebuilds the rows of every proposal, publishing only what differs (e.g. after a call's
/// identifiers or title changed). Call it inside a transaction.
pub fn refresh_all(tx: &Connection, signer: &Signer) -> Result<(), AppError> {
    refresh(tx, signer, None)?;
    Ok(())
}

fn refresh(tx: &Connection, signer: &Signer, id: Option<i64>) -> Result<(), DatiError> {
    let (mut dataset, _) = ops::ensure_derived(
        tx,
        signer,
        &ops::DerivedDefinition {
            name: DATASET,
            title: TITLE,
            fields: field_defs(),
            primary_key: PRIMARY_KEY.iter().map(|k| (*k).to_owned()).collect(),
            materialise: &materialise,
        },
    )?;
    if dataset.federation == Federation::Off {
        return Ok(());
    }
    let new: Vec<(String, String)> = store::national_sources(tx, id)?
        .iter()
        .flat_map(encode)
        .collect();
    let old = store::national_rows(tx, DATASET, id)?;
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    let mut delta = 0_i64;
    for (pk, data) in &new {
        match old.get(pk) {
            Some(stored) if stored == data => {}
            stored => {
                if stored.is_none() {
                    delta += 1;
                }
                datasets::put_row(tx, DATASET, pk, data)?;
                upserts.push(data.clone());
            }
        }
    }
    for pk in old.keys() {
        if !new.iter().any(|(new_pk, _)| new_pk == pk) {
            datasets::delete_row(tx, DATASET, pk)?;
            deletes.push(pk.clone());
            delta -= 1;
        }
    }
    if upserts.is_empty() && deletes.is_empty() {
        return Ok(());
    }
    dataset.row_count += delta;
    dataset.updated_at = db::now();
    datasets::put(tx, &dataset)?;
    ops::emit_delta(tx, signer, &dataset, &upserts, &deletes)?;
    Ok(())
}

/// Writes the rows of every proposal, replacing whatever rows the dataset had, and returns
/// their number. The Dati module calls it in the transaction that turns the dataset
/// `national`, before the full snapshot that publishes them.
pub fn materialise(tx: &Connection) -> Result<i64, DatiError> {
    datasets::delete_all_rows(tx, DATASET)?;
    for proposal in store::national_sources(tx, None)? {
        for (pk, data) in encode(&proposal) {
            datasets::put_row(tx, DATASET, &pk, &data)?;
        }
    }
    Ok(datasets::count_rows(tx, DATASET)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dati::valid_name;
    use crate::sape::PersonnelUnit;

    fn partner(rate: u8, comune: Option<&str>) -> PartnerSource {
        PartnerSource {
            name: "Comune di Prova \"A\"".into(),
            country: "IT".into(),
            pic: None,
            role: "beneficiary".into(),
            comune: comune.map(str::to_owned),
            obtained: None,
            budget: BudgetInput {
                personnel_unit: PersonnelUnit::Month,
                personnel_quantity: 1000,
                personnel_rate: 500_000,
                subcontracting: 100_000,
                travel: 0,
                equipment: 0,
                other_goods: 0,
                other_costs: 0,
                funding_rate: rate,
            },
        }
    }

    #[test]
    fn rows_carry_the_budget_and_the_outcome() {
        let mut proposal = ProposalSource {
            id: 7,
            call_identifier: "HORIZON-CL5-2024-D4-01".into(),
            topic_identifier: "HORIZON-CL5-2024-D4-01-03".into(),
            programme: "horizon_europe".into(),
            call_title: "Clean energy".into(),
            acronym: "GREEN".into(),
            title: "Green towns".into(),
            state: ProposalState::Submitted,
            province_role: "coordinator".into(),
            year: 2024,
            partners: vec![partner(100, Some("026086")), partner(70, None)],
        };
        let rows = encode(&proposal);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, "[7,1]");
        let values = csv_import::decode(&rows[0].1).expect("JSON");
        assert_eq!(values.len(), FIELDS.len());
        assert_eq!(csv_import::encode(&values), rows[0].1, "canonical");
        let field = |values: &[FieldValue], name: &str| {
            values[FIELDS.iter().position(|(n, _)| *n == name).expect(name)].clone()
        };
        // Personnel 10 × 5.000 = 50.000; indirect 25 % of it = 12.500; subcontracting 1.000:
        // total 63.500 € at 100 %, 44.450 € at 70 %.
        assert_eq!(
            field(&values, "eu_requested_cents"),
            FieldValue::Int(6_350_000)
        );
        assert_eq!(field(&values, "eu_obtained_cents"), FieldValue::Null);
        assert_eq!(field(&values, "comune"), FieldValue::from("026086"));
        let second = csv_import::decode(&rows[1].1).expect("JSON");
        assert_eq!(
            field(&second, "eu_requested_cents"),
            FieldValue::Int(4_445_000)
        );
        assert_eq!(field(&second, "comune"), FieldValue::Null);
        proposal.state = ProposalState::InExecution;
        let funded = csv_import::decode(&encode(&proposal)[1].1).expect("JSON");
        assert_eq!(
            field(&funded, "eu_obtained_cents"),
            FieldValue::Int(4_445_000)
        );
        assert_eq!(field(&funded, "funded"), FieldValue::Bool(true));
        proposal.partners.clear();
        let alone = encode(&proposal);
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].0, "[7,0]");
    }

    #[test]
    fn schema_is_valid_and_keyed() {
        for (name, _) in FIELDS {
            assert!(valid_name(name), "{name}");
        }
        let names: std::collections::BTreeSet<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), FIELDS.len());
        assert_eq!(PRIMARY_KEY, ["proposal_id", "partner_no"]);
    }
}
