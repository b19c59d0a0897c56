//! SAPE (Servizio Associato Politiche Europee): the Province's EU-funding office. It keeps a
//! catalogue of funding calls (typed by hand or imported from the EU Funding & Tenders
//! portal), searched in full text; Comuni follow calls and subscribe to their deadlines as an
//! iCalendar feed; SAPE staff flag calls to chosen Comuni and build proposals with partners,
//! work packages and a budget in the EU's cost categories.
//!
//! `mod.rs` holds the vocabulary (programmes, deadline models, roles), the status a call has
//! on a given day and the budget arithmetic; `ops.rs` the operations shared by `api.rs` and
//! `pages.rs`; `import.rs` the portal's CSV and JSON; `ical.rs` the feed; SQL is in `db.rs`.

pub mod api;
pub mod cli;
pub mod db;
pub mod documents;
pub mod ical;
pub mod import;
pub mod national;
pub mod ops;
pub mod outcome;
pub mod pages;
pub mod partners;
pub mod policy;
pub mod reports;
pub mod support;
pub mod support_pages;

use crate::labels::labelled_enum;
use crate::lifecycle::{Machine, Move, Noun, Tables, Who};
use crate::modules::{Audience, DerivedDataset, HomeCard, Link, ModuleKit, NavEntry};
use crate::roles::{Module, Role};
pub use crate::sua::day::Day;

labelled_enum! {
    /// The funding programme of a call.
    pub enum Programme as "programme" {
        /// Horizon Europe (research and innovation).
        HorizonEurope = "horizon_europe" => "Horizon Europe",
        /// LIFE (environment and climate).
        Life = "life" => "LIFE",
        /// Interreg (territorial cooperation).
        Interreg = "interreg" => "Interreg",
        /// Citizens, Equality, Rights and Values.
        Cerv = "cerv" => "CERV",
        /// Erasmus+.
        ErasmusPlus = "erasmus_plus" => "Erasmus+",
        /// Digital Europe.
        DigitalEurope = "digital_europe" => "Digital Europe",
        /// European Regional Development Fund (regional calls).
        Fesr = "fesr" => "FESR",
        /// European Social Fund Plus (regional calls).
        FsePlus = "fse_plus" => "FSE+",
        /// National recovery plan notices.
        Pnrr = "pnrr" => "PNRR",
        /// Anything else.
        Other = "other" => "Altro",
    }
}

labelled_enum! {
    /// Who manages the funds: the Commission and its agencies (direct) or a Member State or
    /// Region (indirect, shared management).
    pub enum Management as "management" {
        /// EU direct management.
        Direct = "direct" => "Gestione diretta UE",
        /// Indirect (shared) management: regional and national calls.
        Indirect = "indirect" => "Gestione indiretta",
    }
}

labelled_enum! {
    /// How a call's deadlines work.
    pub enum DeadlineModel as "deadline model" {
        /// One deadline.
        SingleStage = "single_stage" => "Una fase",
        /// A first-stage deadline and, for invited proposals, a second one.
        TwoStage = "two_stage" => "Due fasi",
        /// Several cut-off dates, each one evaluated on its own.
        MultipleCutoff = "multiple_cutoff" => "Scadenze multiple",
        /// Always open (until the programme ends).
        Permanent = "permanent" => "Sempre aperto",
    }
}

labelled_enum! {
    /// A call's status on a given day, derived from its dates (never stored).
    pub enum CallStatus as "call status" {
        /// Announced, not yet open.
        Forthcoming = "forthcoming" => "In arrivo",
        /// Accepting applications.
        Open = "open" => "Aperto",
        /// Past its closing date.
        Closed = "closed" => "Chiuso",
    }
}

labelled_enum! {
    /// Which stage a deadline closes.
    pub enum Stage as "stage" {
        /// The only deadline of a single-stage call.
        Single = "single" => "Scadenza",
        /// First stage of a two-stage call.
        First = "first" => "Prima fase",
        /// Second stage of a two-stage call (invited proposals).
        Second = "second" => "Seconda fase",
        /// One cut-off of a multiple cut-off call.
        Cutoff = "cutoff" => "Scadenza intermedia",
    }
}

labelled_enum! {
    /// The Province's role in a proposal.
    pub enum ProvinceRole as "province role" {
        /// Leads the consortium.
        Coordinator = "coordinator" => "Coordinatore",
        /// One of the beneficiaries.
        Partner = "partner" => "Partner",
        /// Helps its Comuni without being a beneficiary.
        Support = "support" => "Solo supporto",
    }
}

labelled_enum! {
    /// A partner's role in the consortium, as the EU forms name it.
    pub enum PartnerRole as "partner role" {
        /// Coordinator.
        Coordinator = "coordinator" => "Coordinatore",
        /// Beneficiary.
        Beneficiary = "beneficiary" => "Beneficiario",
        /// Affiliated entity of a beneficiary.
        AffiliatedEntity = "affiliated_entity" => "Entità affiliata",
        /// Associated partner (takes part without EU funding of its own costs).
        AssociatedPartner = "associated_partner" => "Partner associato",
    }
}

labelled_enum! {
    /// The unit of a partner's personnel effort and rate.
    pub enum PersonnelUnit as "personnel unit" {
        /// Person-months at a monthly rate.
        Month = "month" => "mesi-persona",
        /// Person-days at a daily rate.
        Day = "day" => "giorni-persona",
    }
}

labelled_enum! {
    /// Where a proposal is; its moves are [`PROPOSALS`].
    pub enum ProposalState as "proposal state" {
        /// An idea for a call.
        Idea = "idea" => "Idea",
        /// Being written.
        InPreparation = "in_preparation" => "In preparazione",
        /// Submitted to the call.
        Submitted = "submitted" => "Presentata",
        /// Admitted to the second stage (two-stage calls).
        SecondStage = "second_stage" => "Seconda fase",
        /// Evaluated.
        Evaluated = "evaluated" => "Valutata",
        /// Funded.
        Funded = "funded" => "Finanziata",
        /// On the reserve list.
        Reserve = "reserve" => "In riserva",
        /// Not funded. Final.
        NotFunded = "not_funded" => "Non finanziata",
        /// Grant agreement signed.
        GrantSigned = "grant_signed" => "Convenzione firmata",
        /// Running.
        InExecution = "in_execution" => "In esecuzione",
        /// Finished. Final.
        Closed = "closed" => "Chiusa",
        /// Withdrawn before the evaluation. Final.
        Withdrawn = "withdrawn" => "Ritirata",
    }
}

labelled_enum! {
    /// Where a Comune's request for support on a call is; its moves are [`SUPPORT`].
    pub enum SupportState as "support request state" {
        /// Waiting for the office.
        Requested = "requested" => "In attesa",
        /// The office will help. Final.
        Accepted = "accepted" => "Accolta",
        /// The office cannot help, with its reasons. Final.
        Declined = "declined" => "Non accolta",
        /// The Comune no longer needs it. Final.
        Withdrawn = "withdrawn" => "Ritirata",
    }
}

const STAFF: &[Who] = &[Who::Staff(Module::Sape)];

/// The audited lifecycle of a Comune's request for support: the office accepts or declines
/// it (a decline needs its reasons, checked by `support`), the Comune may withdraw it while
/// it waits.
pub const SUPPORT: Machine<SupportState> = Machine {
    noun: Noun::feminine("richiesta di supporto"),
    tables: Tables {
        records: "sape_support_requests",
        id_column: "id",
        state_column: "state",
        history: "sape_support_transitions",
        history_record_column: "request_id",
    },
    audit_action: "sape.support.transition",
    audit_resource: "sape_support_request",
    moves: &[
        Move {
            from: &[SupportState::Requested],
            to: SupportState::Accepted,
            by: STAFF,
        },
        Move {
            from: &[SupportState::Requested],
            to: SupportState::Declined,
            by: STAFF,
        },
        Move {
            from: &[SupportState::Requested],
            to: SupportState::Withdrawn,
            by: &[Who::OwningComune],
        },
    ],
    policy: None,
};
const STAFF_AND_COMUNE: &[Who] = &[Who::Staff(Module::Sape), Who::OwningComune];

/// The proposals' audited lifecycle: the SAPE office and the Comuni taking part prepare,
/// submit and may withdraw before the evaluation; only the office records what the funder
/// decided and what follows. (The second stage is offered for every call: whether a call is
/// two-stage is checked by `ops::transition_proposal`.)
pub const PROPOSALS: Machine<ProposalState> = {
    use ProposalState::{
        Closed, Evaluated, Funded, GrantSigned, Idea, InExecution, InPreparation, NotFunded,
        Reserve, SecondStage, Submitted, Withdrawn,
    };
    Machine {
        noun: Noun::feminine("proposta"),
        tables: Tables {
            records: "sape_proposals",
            id_column: "id",
            state_column: "state",
            history: "sape_transitions",
            history_record_column: "proposal_id",
        },
        audit_action: "sape.proposal.transition",
        audit_resource: "sape_proposal",
        moves: &[
            Move {
                from: &[Idea],
                to: InPreparation,
                by: STAFF_AND_COMUNE,
            },
            Move {
                from: &[InPreparation],
                to: Submitted,
                by: STAFF_AND_COMUNE,
            },
            Move {
                from: &[Submitted],
                to: SecondStage,
                by: STAFF,
            },
            Move {
                from: &[Submitted, SecondStage],
                to: Evaluated,
                by: STAFF,
            },
            Move {
                from: &[Evaluated],
                to: Funded,
                by: STAFF,
            },
            Move {
                from: &[Evaluated],
                to: Reserve,
                by: STAFF,
            },
            Move {
                from: &[Evaluated, Reserve],
                to: NotFunded,
                by: STAFF,
            },
            Move {
                from: &[Reserve],
                to: Funded,
                by: STAFF,
            },
            Move {
                from: &[Funded],
                to: GrantSigned,
                by: STAFF,
            },
            Move {
                from: &[GrantSigned],
                to: InExecution,
                by: STAFF,
            },
            Move {
                from: &[InExecution],
                to: Closed,
                by: STAFF,
            },
            Move {
                from: &[Idea, InPreparation, Submitted, SecondStage],
                to: Withdrawn,
                by: STAFF_AND_COMUNE,
            },
        ],
        policy: None,
    }
};

/// The status of a call on `today`: in arrivo before it opens, chiuso after its closing date
/// (the last day a new application can be sent: the only deadline, the first stage of a
/// two-stage call, the last cut-off) unless it is permanent, aperto otherwise. The SQL filter
/// in `db::search_calls` is the same rule.
pub fn call_status(
    opening: Option<&str>,
    closing: Option<&str>,
    model: DeadlineModel,
    today: &str,
) -> CallStatus {
    if opening.is_some_and(|opening| opening > today) {
        CallStatus::Forthcoming
    } else if model != DeadlineModel::Permanent && closing.is_some_and(|closing| closing < today) {
        CallStatus::Closed
    } else {
        CallStatus::Open
    }
}

/// The flat rate of indirect costs (E) on direct costs other than subcontracting, in percent.
pub const INDIRECT_RATE: i64 = 25;

/// The funding rate a call's type of action implies, in percent: 100 for research and
/// innovation and coordination actions, 70 for innovation actions (the Horizon Europe rule
/// for profit-making bodies; public bodies get 100 % there too, but the office plans on the
/// rule), none when the type says nothing.
pub fn funding_rate_of(type_of_action: &str) -> Option<u8> {
    // The portal writes the code first ("HORIZON-IA HORIZON Innovation Actions").
    let code = type_of_action
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let kind = code.rsplit('-').next().unwrap_or_default();
    match kind {
        "IA" => Some(70),
        "RIA" | "CSA" => Some(100),
        _ => None,
    }
}

/// Whether a call's type of action makes it a lump-sum call (the grant a fixed amount per
/// work package): the portal writes lump-sum grants as `…-LS` (`HORIZON-AG-LS`) or names them
/// "Lump Sum"; typed by hand, "somma forfettaria" says it too.
pub fn lump_sum_of(type_of_action: &str) -> bool {
    let text = type_of_action.to_lowercase();
    text.contains("lump sum")
        || text.contains("lump-sum")
        || text.contains("somma forfettaria")
        || text
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .any(|word| word.ends_with("-ls"))
}

/// What a partner's budget is computed from (amounts in cents, quantities in hundredths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetInput {
    /// Unit of `personnel_quantity` and `personnel_rate`.
    pub personnel_unit: PersonnelUnit,
    /// Person-months or person-days, in hundredths (2,5 months = 250).
    pub personnel_quantity: i64,
    /// Cost of one month or day of personnel, cents.
    pub personnel_rate: i64,
    /// B: subcontracting.
    pub subcontracting: i64,
    /// C.1: travel and subsistence.
    pub travel: i64,
    /// C.2: equipment.
    pub equipment: i64,
    /// C.3: other goods, works and services.
    pub other_goods: i64,
    /// D: other cost categories.
    pub other_costs: i64,
    /// Share of eligible costs the EU funds, percent.
    pub funding_rate: u8,
}

/// A partner's budget in the EU's categories, every figure in cents, computed by [`budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    /// A: personnel.
    pub personnel: i64,
    /// B: subcontracting.
    pub subcontracting: i64,
    /// C: purchase costs (travel, equipment, other goods and services).
    pub purchase: i64,
    /// D: other cost categories.
    pub other: i64,
    /// E: indirect costs, 25 % of A + C + D.
    pub indirect: i64,
    /// A + B + C + D + E.
    pub total: i64,
    /// The EU contribution requested: total × funding rate.
    pub eu_contribution: i64,
    /// What the partner pays itself: total − EU contribution.
    pub cofinancing: i64,
}

/// `value × numerator / denominator`, rounded half up to the cent (values are never negative).
fn share(value: i64, numerator: i64, denominator: i64) -> i64 {
    let exact = i128::from(value) * i128::from(numerator);
    let denominator = i128::from(denominator);
    i64::try_from((exact * 2 + denominator) / (denominator * 2)).unwrap_or(i64::MAX)
}

/// Computes a partner's budget from its inputs. Personnel is quantity × rate; indirect costs
/// are 25 % of direct costs excluding subcontracting (B); the EU contribution is the total
/// times the funding rate; each product is rounded half up to the cent.
pub fn budget(input: &BudgetInput) -> Budget {
    let personnel = share(input.personnel_quantity, input.personnel_rate, 100);
    let purchase = input.travel + input.equipment + input.other_goods;
    let indirect = share(personnel + purchase + input.other_costs, INDIRECT_RATE, 100);
    let total = personnel + input.subcontracting + purchase + input.other_costs + indirect;
    let eu_contribution = share(total, i64::from(input.funding_rate), 100);
    Budget {
        personnel,
        subcontracting: input.subcontracting,
        purchase,
        other: input.other_costs,
        indirect,
        total,
        eu_contribution,
        cofinancing: total - eu_contribution,
    }
}

impl std::ops::Add for Budget {
    type Output = Budget;
    fn add(self, other: Budget) -> Budget {
        Budget {
            personnel: self.personnel + other.personnel,
            subcontracting: self.subcontracting + other.subcontracting,
            purchase: self.purchase + other.purchase,
            other: self.other + other.other,
            indirect: self.indirect + other.indirect,
            total: self.total + other.total,
            eu_contribution: self.eu_contribution + other.eu_contribution,
            cofinancing: self.cofinancing + other.cofinancing,
        }
    }
}

/// Whether `pic` is a Participant Identification Code: exactly nine digits.
pub fn is_pic(pic: &str) -> bool {
    pic.len() == 9 && pic.bytes().all(|b| b.is_ascii_digit())
}

/// The SAPE's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_calls,
    api::create_call,
    api::get_call,
    api::import_calls,
    api::follow_call,
    api::unfollow_call,
    api::update_flags,
    api::create_calendar_token,
    api::delete_calendar_token,
    api::list_proposals,
    api::create_proposal,
    api::get_proposal,
    api::update_proposal,
    api::create_proposal_transition,
    api::update_outcome,
    api::list_support,
    api::create_support,
    api::create_support_transition,
    api::list_partner_searches,
    api::create_partner_search,
    api::list_documents,
    api::create_document,
    api::get_document,
))]
pub struct SapeApi;

/// The SAPE in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    operator: Some((Module::Sape, "Operatore SAPE (politiche europee)")),
    api: api::router,
    pages: pages::router,
    openapi: <SapeApi as utoipa::OpenApi>::openapi,
    nav: Some(NavEntry {
        label: "Bandi UE",
        path: "/sape",
        covers_subpaths: true,
        audience: Audience::SignedIn(policy::sees_sape),
    }),
    dashboard: dashboard_links,
    cards: Some(pages::cards),
    home: Some(HomeCard {
        title: "Politiche europee (SAPE)",
        text: "Bandi europei e regionali segnalati ai Comuni, scadenze in calendario, progetti con i Comuni partner.",
        href: "/sape",
    }),
    datasets: &[DerivedDataset {
        name: national::DATASET,
        module: "SAPE",
        materialise: national::materialise,
    }],
    cli: Some(cli::CLI),
    ..ModuleKit::new("sape")
};

fn dashboard_links(role: &Role) -> Vec<Link> {
    match role {
        Role::Admin | Role::Operator(Module::Sape) => vec![
            Link::new("Bandi europei aperti", "/sape?status=open"),
            Link::new("Progetti europei", "/sape/progetti"),
            Link::new("Richieste di supporto dei Comuni", "/sape/supporto"),
            Link::new(
                "Rapporti SAPE per anno, programma e Comune",
                "/sape/rapporti",
            ),
        ],
        Role::Operator(_) => vec![],
        Role::Comune(_) => vec![
            Link::new("Bandi europei aperti", "/sape?status=open"),
            Link::new("Calendario delle scadenze", "/sape/calendario"),
            Link::new("Le richieste di supporto al SAPE", "/sape/supporto"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_dates() {
        let single = DeadlineModel::SingleStage;
        let day = "2024-07-11";
        assert_eq!(
            call_status(Some("2024-07-12"), Some("2024-09-01"), single, day),
            CallStatus::Forthcoming
        );
        assert_eq!(
            call_status(Some("2024-07-11"), Some("2024-07-11"), single, day),
            CallStatus::Open
        );
        assert_eq!(
            call_status(Some("2024-01-01"), Some("2024-07-10"), single, day),
            CallStatus::Closed
        );
        assert_eq!(
            call_status(
                Some("2024-01-01"),
                Some("2024-07-10"),
                DeadlineModel::Permanent,
                day
            ),
            CallStatus::Open
        );
        assert_eq!(call_status(None, None, single, day), CallStatus::Open);
    }

    #[test]
    fn rates_from_the_type_of_action() {
        assert_eq!(funding_rate_of("HORIZON-IA"), Some(70));
        assert_eq!(funding_rate_of("HORIZON-JU-IA"), Some(70));
        assert_eq!(funding_rate_of("HORIZON-RIA"), Some(100));
        assert_eq!(funding_rate_of("HORIZON-CSA"), Some(100));
        assert_eq!(funding_rate_of("HORIZON-COFUND"), None);
        assert_eq!(
            funding_rate_of("HORIZON-IA HORIZON Innovation Actions"),
            Some(70)
        );
    }

    #[test]
    fn lump_sums_from_the_type_of_action() {
        assert!(lump_sum_of("HORIZON-AG-LS"));
        assert!(lump_sum_of("HORIZON Lump Sum Grants [HORIZON-AG-LS]"));
        assert!(lump_sum_of("Somma forfettaria"));
        assert!(!lump_sum_of("HORIZON-RIA"));
        assert!(!lump_sum_of("HORIZON-CSA"));
        assert!(!lump_sum_of("Contributo a fondo perduto"));
    }

    #[test]
    fn pic_is_nine_digits() {
        assert!(is_pic("999999999"));
        assert!(!is_pic("99999999"));
        assert!(!is_pic("99999999a"));
        assert!(!is_pic("9999999999"));
    }

    #[test]
    fn rounding_is_half_up_to_the_cent() {
        assert_eq!(share(10, 25, 100), 3); // 2.5 → 3
        assert_eq!(share(9, 25, 100), 2); // 2.25 → 2
        assert_eq!(share(0, 70, 100), 0);
    }
}
