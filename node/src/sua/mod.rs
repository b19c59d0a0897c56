//! SUA (Stazione Unica Appaltante): the Province runs procurement procedures on behalf of
//! the Comuni that delegated it by a convenzione. A Comune submits a request; SUA operators
//! accept or return it, then run the procedure through its states to completion; a
//! procedure serves one Comune or, as an aggregated initiative, several with their shares.
//!
//! This file holds the domain vocabulary every part of the module shares: the identifiers
//! (CIG, CUP, CPV) and amounts parsed at the edge, and the procedure state machine. SQL is
//! in `sua::db` (workflow) and `sua::db::data` (imports, reports, exports).

pub mod api;
pub mod cli;
pub mod data_api;
pub mod data_pages;
pub mod day;
pub mod db;
pub mod fiscal;
pub mod forms;
pub mod import;
pub mod national;
pub mod ocds;
pub mod ops;
pub mod pages;
pub mod policy;
pub mod reports;

use std::fmt;

use crate::attachments::{self, Store};
use crate::labels::labelled_enum;
use crate::lifecycle::{BY_POLICY, Machine, Move, Noun, Tables};
use crate::modules::{Audience, DerivedDataset, HomeCard, Link, ModuleKit, NavEntry};
use crate::roles::{Module, Role};

/// A CIG (Codice Identificativo Gara), issued by ANAC for each lot: 10 characters, digits
/// and upper-case letters (`90940496A3`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cig(String);

impl Cig {
    /// Parses a CIG, accepting surrounding spaces and lower case.
    pub fn parse(text: &str) -> Result<Cig, String> {
        let code = text.trim().to_ascii_uppercase();
        if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "{:?} non è un CIG: un CIG ha esattamente 10 lettere e cifre, come 90940496A3",
                text.trim()
            ));
        }
        Ok(Cig(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A CUP (Codice Unico di Progetto), identifying a public investment project: 15
/// characters, an upper-case letter first, then letters and digits (`J51B21000120006`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cup(String);

impl Cup {
    /// Parses a CUP, accepting surrounding spaces and lower case.
    pub fn parse(text: &str) -> Result<Cup, String> {
        let code = text.trim().to_ascii_uppercase();
        let shaped = code.len() == 15
            && code.bytes().all(|b| b.is_ascii_alphanumeric())
            && code.as_bytes()[0].is_ascii_uppercase();
        if !shaped {
            return Err(format!(
                "{:?} non è un CUP: un CUP ha esattamente 15 lettere e cifre e comincia con una lettera, come J51B21000120006",
                text.trim()
            ));
        }
        Ok(Cup(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A CPV code (Common Procurement Vocabulary, Reg. (EC) 213/2008): eight digits, a dash and
/// a check digit (`72322000-8`), and one of the 9,454 codes of the vocabulary.
///
/// The check digits of CPV 2008 follow no single formula (a 3-7-1 weighted sum modulo 10
/// fits 94 % of them; divisions such as 09 and 42 are offset), so a code is checked against
/// the vocabulary itself, shipped in `node/data/cpv_2008.csv` (see its PROVENANCE.md).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cpv(String);

/// The CPV 2008 vocabulary: (code with check digit, Italian label), sorted by code. The file
/// also keeps the English label (`code,label_en,label_it`), which people here never read: the
/// Regulation is official in Italian too.
static CPV_VOCABULARY: std::sync::LazyLock<Vec<(String, String)>> =
    std::sync::LazyLock::new(|| {
        csv::Reader::from_reader(include_str!("../../data/cpv_2008.csv").as_bytes())
            .deserialize::<(String, String, String)>()
            .filter_map(Result::ok)
            .map(|(code, _english, italian)| (code, italian))
            .collect()
    });

impl Cpv {
    /// Parses a CPV code. Without the check digit (`72322000`) the vocabulary supplies it;
    /// with a wrong one the error names the right code.
    pub fn parse(text: &str) -> Result<Cpv, String> {
        let trimmed = text.trim();
        let (digits, check) = match trimmed.split_once('-') {
            Some((digits, check)) => (digits, Some(check)),
            None => (trimmed, None),
        };
        let shaped = digits.len() == 8
            && digits.bytes().all(|b| b.is_ascii_digit())
            && check.is_none_or(|c| c.len() == 1 && c.as_bytes()[0].is_ascii_digit());
        if !shaped {
            return Err(format!(
                "{trimmed:?} non è un codice CPV: un codice CPV ha 8 cifre, un trattino e una cifra di controllo, come 72322000-8"
            ));
        }
        let Some((code, label)) = Self::lookup(digits) else {
            return Err(format!(
                "{trimmed:?} non è nel vocabolario CPV 2008 (Reg. (CE) 213/2008): controllate il codice"
            ));
        };
        match check {
            Some(check) if !code.ends_with(check) => Err(format!(
                "{trimmed:?}: la cifra di controllo del CPV è sbagliata; il vocabolario ha {code} ({label})"
            )),
            _ => Ok(Cpv(code.to_owned())),
        }
    }

    /// The vocabulary entry whose first eight digits are `digits`.
    fn lookup(digits: &str) -> Option<(&'static str, &'static str)> {
        let vocabulary = &*CPV_VOCABULARY;
        vocabulary
            .binary_search_by(|(code, _)| code[..8].cmp(digits))
            .ok()
            .map(|at| (vocabulary[at].0.as_str(), vocabulary[at].1.as_str()))
    }

    /// The full code with its check digit.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The official Italian label (`Servizi di gestione dati`).
    pub fn label(&self) -> &'static str {
        Self::lookup(&self.0[..8]).map_or("", |(_, label)| label)
    }

    /// The division: the first two digits (`72` for IT services), the level the national
    /// dashboards group by.
    pub fn division(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for Cpv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in euro, held as cents so sums are exact. Parsed from `1234.56`, `1234,56`,
/// `1.234,56` or `1234`; at most two decimals; never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Euro(pub i64);

impl Euro {
    /// The largest amount accepted: ten billion euro, far above any real procedure and far
    /// below where cents overflow or lose precision as JSON numbers.
    pub const MAX_CENTS: i64 = 1_000_000_000_000;

    /// Parses an amount typed by a person or read from a file.
    pub fn parse(text: &str) -> Result<Euro, String> {
        let trimmed = text.trim().trim_start_matches('€').trim();
        let bad = || {
            format!(
                "{:?} non è un importo in euro: scrivetelo come 150.000,00 o 150000.00 (al massimo due decimali, non negativo)",
                text.trim()
            )
        };
        // The last separator followed by one or two digits is the decimal one; the others
        // group thousands.
        let (int_part, frac_part) = match trimmed.rfind(['.', ',']) {
            Some(at) if trimmed.len() - at - 1 <= 2 => {
                let int_part = &trimmed[..at];
                // `12.345.67`: the decimal separator cannot also group thousands.
                if int_part.contains(&trimmed[at..=at]) {
                    return Err(bad());
                }
                (int_part, &trimmed[at + 1..])
            }
            _ => (trimmed, ""),
        };
        let int_digits: String = int_part
            .chars()
            .filter(|c| *c != '.' && *c != ',')
            .collect();
        let groups_ok = int_part == int_digits || Self::grouped(int_part);
        if int_digits.is_empty()
            || !int_digits.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || !groups_ok
            || int_digits.len() > 13
        {
            return Err(bad());
        }
        let units: i64 = int_digits.parse().map_err(|_| bad())?;
        let cents: i64 = match frac_part.len() {
            0 => 0,
            1 => frac_part.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac_part.parse().map_err(|_| bad())?,
        };
        let total = units
            .checked_mul(100)
            .and_then(|v| v.checked_add(cents))
            .filter(|v| *v <= Self::MAX_CENTS)
            .ok_or_else(|| {
                format!(
                    "{:?} è un importo troppo grande: il massimo è {}",
                    text.trim(),
                    Euro(Self::MAX_CENTS).to_italian()
                )
            })?;
        Ok(Euro(total))
    }

    /// Whether `text` groups thousands consistently: `1.234.567` or `1,234,567`.
    fn grouped(text: &str) -> bool {
        let Some(sep) = text.chars().find(|c| *c == '.' || *c == ',') else {
            return true;
        };
        let mut parts = text.split(sep);
        let first = parts.next().unwrap_or_default();
        (1..=3).contains(&first.len()) && parts.all(|p| p.len() == 3)
    }

    /// Cents.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// The canonical text form with a dot and two decimals (`150000.00`), used on the wire
    /// and in exports.
    pub fn to_decimal(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// The Italian form shown on pages (`150.000,00 €`).
    pub fn to_italian(self) -> String {
        pico_service::format::euro_cents(self.0)
    }

    /// The Italian number without the currency (`150.000,00`), as forms show it back.
    pub fn to_italian_number(self) -> String {
        self.to_italian().trim_end_matches("\u{a0}€").to_owned()
    }
}

/// A ribasso (the discount of the award on the base amount) in thousandths of a percent:
/// 12.345 % is `Ribasso(12345)`. Negative values (awards above the base) are possible and
/// kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ribasso(pub i64);

impl Ribasso {
    /// Parses a percentage with up to three decimals (`12.345`, `12,345`, `12.345 %`).
    pub fn parse(text: &str) -> Result<Ribasso, String> {
        let trimmed = text.trim().trim_end_matches('%').trim();
        let bad = || {
            format!(
                "{:?} non è un ribasso: scrivete la percentuale con al massimo tre decimali, come 12,345",
                text.trim()
            )
        };
        let (negative, body) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (int, frac) = body.split_once(['.', ',']).unwrap_or((body, ""));
        if int.is_empty()
            || int.len() > 3
            || frac.len() > 3
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let int: i64 = int.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
        let value = int * 1000 + frac;
        if value > 100_000 {
            return Err(format!(
                "{:?}: un ribasso non può superare il 100 %",
                text.trim()
            ));
        }
        Ok(Ribasso(if negative { -value } else { value }))
    }

    /// The ribasso of `award` on `base`, rounded to the thousandth of a percent.
    pub fn between(base: Euro, award: Euro) -> Option<Ribasso> {
        if base.0 <= 0 {
            return None;
        }
        let numerator = i128::from(base.0 - award.0) * 100_000;
        let denominator = i128::from(base.0);
        // Round half away from zero.
        let rounded = (2 * numerator + denominator.signum() * numerator.signum() * denominator)
            / (2 * denominator);
        i64::try_from(rounded).ok().map(Ribasso)
    }

    /// The text form with three decimals (`12.345`).
    pub fn to_decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.abs();
        format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}

labelled_enum! {
    /// The kind of contract (OCDS `mainProcurementCategory`: works, services, goods).
    pub enum ContractType as "contract type" {
        /// Lavori.
        Works = "works" => "Lavori",
        /// Servizi.
        Services = "services" => "Servizi",
        /// Forniture (OCDS `goods`).
        Supplies = "supplies" | "goods" => "Forniture",
    }
}

impl ContractType {
    /// The OCDS `mainProcurementCategory` code.
    pub fn ocds(self) -> &'static str {
        match self {
            ContractType::Works => "works",
            ContractType::Services => "services",
            ContractType::Supplies => "goods",
        }
    }
}

/// The ANAC "scelta del contraente" codes (the `COD:` of `procurementMethodDetails` in ANAC's
/// OCDS releases) that the request form offers, with ANAC's titles. Imports keep any other
/// code with the title the file gives. The codes 1, 4, 24, 27 and 34 and their titles are
/// as they appear in the real ANAC releases shipped as fixtures.
pub const PROCEDURE_TYPES: &[(u16, &str)] = &[
    (1, "PROCEDURA APERTA"),
    (2, "PROCEDURA RISTRETTA"),
    (3, "PROCEDURA NEGOZIATA PREVIA PUBBLICAZIONE"),
    (4, "PROCEDURA NEGOZIATA SENZA PREVIA PUBBLICAZIONE"),
    (5, "DIALOGO COMPETITIVO"),
    (24, "AFFIDAMENTO DIRETTO"),
    (
        27,
        "AFFIDAMENTO DIRETTO IN ADESIONE AD ACCORDO QUADRO/CONVENZIONE",
    ),
    (34, "PROCEDURA NEGOZIATA PER AFFIDAMENTI SOTTO SOGLIA"),
];

/// The ANAC title of a known procedure code.
pub fn procedure_label(code: u16) -> Option<&'static str> {
    PROCEDURE_TYPES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, label)| *label)
}

labelled_enum! {
    /// How the winning bid is chosen (D.Lgs. 36/2023 art. 108).
    pub enum AwardCriterion as "award criterion" {
        /// Minor prezzo.
        LowestPrice = "lowest_price" => "Minor prezzo",
        /// Offerta economicamente più vantaggiosa (OEPV).
        BestValue = "best_value" => "Offerta economicamente più vantaggiosa",
        /// Prezzo fisso, competition on quality only.
        FixedPrice = "fixed_price" => "Prezzo fisso (competizione sulla qualità)",
        /// Not known (imported records that do not say).
        Unknown = "unknown" => "Non indicato",
    }
}

impl AwardCriterion {
    /// Every criterion a request may choose (not `Unknown`).
    pub const CHOICES: [AwardCriterion; 3] = [
        AwardCriterion::LowestPrice,
        AwardCriterion::BestValue,
        AwardCriterion::FixedPrice,
    ];
}

labelled_enum! {
    /// What a convenzione delegates.
    pub enum ConventionScope as "convention scope" {
        /// Goods and services.
        GoodsServices = "goods_services" => "Servizi e forniture",
        /// Works.
        Works = "works" => "Lavori",
        /// Everything.
        All = "all" => "Lavori, servizi e forniture",
    }
}

impl ConventionScope {
    /// Whether a convenzione of this scope covers a contract of type `kind`.
    pub fn covers(self, kind: ContractType) -> bool {
        match self {
            ConventionScope::All => true,
            ConventionScope::Works => kind == ContractType::Works,
            ConventionScope::GoodsServices => kind != ContractType::Works,
        }
    }
}

labelled_enum! {
    /// Where a procedure is. A Comune's request is `submitted`; the SUA accepts it (`received`)
    /// or returns it with reasons (`returned`, which the Comune can correct and submit again,
    /// or withdraw). An accepted procedure moves forward through preparation, publication,
    /// bids, evaluation, award, contract and completion; it can be `cancelled` or declared
    /// `deserted` (no valid bids) at any point before the award.
    #[derive(PartialOrd, Ord)]
    pub enum State as "state" {
        /// Request sent by the Comune, waiting for the SUA.
        Submitted = "submitted" => "Richiesta inviata",
        /// Sent back to the Comune with reasons.
        Returned = "returned" => "Restituita al Comune",
        /// Withdrawn by the Comune before acceptance. Final.
        Withdrawn = "withdrawn" => "Ritirata dal Comune",
        /// Accepted by the SUA.
        Received = "received" => "Presa in carico",
        /// The SUA is preparing the documents.
        InPreparation = "in_preparation" => "In preparazione",
        /// The call is published; bids are open.
        Published = "published" => "Pubblicata",
        /// The deadline has passed; bids are closed.
        BidsClosed = "bids_closed" => "Offerte chiuse",
        /// Bids are being evaluated.
        Evaluation = "evaluation" => "In valutazione",
        /// Awarded.
        Awarded = "awarded" => "Aggiudicata",
        /// The contract is signed.
        ContractSigned = "contract_signed" => "Contratto stipulato",
        /// Completed. Final.
        Completed = "completed" => "Conclusa",
        /// Cancelled. Final.
        Cancelled = "cancelled" => "Annullata",
        /// No valid bids. Final.
        Deserted = "deserted" => "Deserta",
    }
}

impl State {
    /// Whether the procedure is still a request (not yet accepted by the SUA).
    pub fn is_request(self) -> bool {
        matches!(self, State::Submitted | State::Returned | State::Withdrawn)
    }

    /// Whether nothing can follow.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Withdrawn | State::Completed | State::Cancelled | State::Deserted
        )
    }

    /// Whether the procedure has been made public (published or later, awards included):
    /// these are in the public OCDS export and the national dataset.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            State::Published
                | State::BidsClosed
                | State::Evaluation
                | State::Awarded
                | State::ContractSigned
                | State::Completed
                | State::Deserted
        )
    }

    /// Whether [`MACHINE`] has the move to `to`.
    pub fn can_move_to(self, to: State) -> bool {
        MACHINE.can_move(self, to)
    }

    /// States reachable from this one.
    pub fn next(self) -> Vec<State> {
        MACHINE.next(self)
    }
}

/// The procedure state machine, declared once for the audited lifecycle: a request is
/// accepted, returned (and submitted again) or withdrawn; an accepted procedure moves
/// forward to completion, and can be cancelled before the contract or declared deserted
/// between publication and award. Who may make each move is [`policy::may_move`].
pub const MACHINE: Machine<State> = Machine {
    noun: Noun::feminine("procedura"),
    tables: Tables {
        records: "sua_procedures",
        id_column: "id",
        state_column: "state",
        history: "sua_transitions",
        history_record_column: "procedure_id",
    },
    audit_action: "sua.procedure.transition",
    audit_resource: "sua_procedure",
    moves: &[
        Move {
            from: &[State::Submitted],
            to: State::Received,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Submitted],
            to: State::Returned,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Submitted, State::Returned],
            to: State::Withdrawn,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Returned],
            to: State::Submitted,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Received],
            to: State::InPreparation,
            by: BY_POLICY,
        },
        Move {
            from: &[State::InPreparation],
            to: State::Published,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Published],
            to: State::BidsClosed,
            by: BY_POLICY,
        },
        Move {
            from: &[State::BidsClosed],
            to: State::Evaluation,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Evaluation],
            to: State::Awarded,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Awarded],
            to: State::ContractSigned,
            by: BY_POLICY,
        },
        Move {
            from: &[State::ContractSigned],
            to: State::Completed,
            by: BY_POLICY,
        },
        Move {
            from: &[
                State::Received,
                State::InPreparation,
                State::Published,
                State::BidsClosed,
                State::Evaluation,
                State::Awarded,
            ],
            to: State::Cancelled,
            by: BY_POLICY,
        },
        Move {
            from: &[State::Published, State::BidsClosed, State::Evaluation],
            to: State::Deserted,
            by: BY_POLICY,
        },
    ],
    policy: Some(policy::may_move),
};

labelled_enum! {
    /// The state of a lot: open until awarded, or closed without an award (deserted: no
    /// valid bids; cancelled: withdrawn from the procedure).
    pub enum LotStatus as "lot status" {
        /// Open: to be awarded.
        Active = "active" => "In corso",
        /// Awarded to a supplier.
        Awarded = "awarded" => "Aggiudicato",
        /// No valid bids.
        Deserted = "deserted" => "Deserto",
        /// Withdrawn from the procedure.
        Cancelled = "cancelled" => "Annullato",
    }
}

/// Attachment content types accepted on requests and procedures.
pub const ALLOWED_ATTACHMENT_TYPES: &[&str] = crate::helpdesk::ALLOWED_ATTACHMENT_TYPES;
/// Largest attachment.
pub const ATTACHMENT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Where the procedures' files are kept (with who uploaded each), and how they are checked
/// and audited.
pub const ATTACHMENTS: Store = Store {
    table: attachments::Table {
        name: "sua_attachments",
        record_column: "procedure_id",
        type_column: "media_type",
        uploaded_by_column: Some("uploaded_by"),
    },
    allowed_types: ALLOWED_ATTACHMENT_TYPES,
    field: "attachment",
    audit: Some(("sua.attach", "sua_procedure")),
};
/// Longest object (oggetto).
pub const OBJECT_MAX: usize = 500;
/// Longest free text (description, reasons).
pub const TEXT_MAX: usize = 20_000;

/// The SUA's part of the OpenAPI document: the workflow ([`api`]) and its data ([`data_api`]).
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_conventions,
    api::create_convention,
    api::get_convention,
    api::revoke_convention,
    api::create_sua_request,
    api::create_initiative,
    api::list_procedures,
    api::get_procedure,
    api::update_procedure,
    api::update_tender,
    api::update_participants,
    api::list_procedure_transitions,
    api::create_procedure_transition,
    api::list_lots,
    api::create_lot,
    api::update_lot,
    api::delete_lot,
    api::update_award,
    api::delete_award,
    api::list_procedure_attachments,
    api::create_procedure_attachment,
    api::get_procedure_attachment,
    data_api::create_import,
    data_api::list_imports,
    data_api::get_import,
    data_api::get_report,
    data_api::export_report,
    data_api::list_ocds_releases,
    data_api::get_ocds_release,
))]
pub struct SuaApi;

/// The SUA in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    operator: Some((Module::Sua, "Operatore della Stazione Unica Appaltante")),
    api: || api::router().merge(data_api::router()),
    pages: || pages::router().merge(data_pages::router()),
    openapi: <SuaApi as utoipa::OpenApi>::openapi,
    // For whom the SUA policy lets see procedures: its staff, the administrator and the
    // Comuni (their own).
    nav: Some(NavEntry {
        label: "SUA",
        path: "/sua",
        covers_subpaths: true,
        audience: Audience::SignedIn(policy::sees_procedures),
    }),
    dashboard: dashboard_links,
    cards: Some(pages::cards),
    home: Some(HomeCard {
        title: "Stazione Unica Appaltante",
        text: "Gare delegate dai Comuni alla Provincia.",
        href: "/sua",
    }),
    datasets: &[DerivedDataset {
        name: db::national::DATASET,
        module: "SUA",
        materialise: national::materialise,
    }],
    cli: Some(cli::CLI),
    ..ModuleKit::new("sua")
};

fn dashboard_links(role: &Role) -> Vec<Link> {
    match role {
        Role::Admin => vec![
            Link::new(
                "SUA: richieste dei Comuni da esaminare",
                "/sua?state=submitted",
            ),
            Link::new("SUA: tutte le procedure", "/sua"),
            Link::new("SUA: convenzioni", "/sua/convenzioni"),
            Link::new("SUA: report per Comune e anno", "/sua/report"),
            Link::new("SUA: importa procedure (OCDS ANAC, CSV)", "/sua/import"),
        ],
        Role::Operator(Module::Sua) => vec![
            Link::new("Richieste dei Comuni da esaminare", "/sua?state=submitted"),
            Link::new("Procedure in valutazione", "/sua?state=evaluation"),
            Link::new("Tutte le procedure", "/sua"),
            Link::new("Nuova iniziativa aggregata", "/sua/iniziative/nuova"),
            Link::new("Convenzioni", "/sua/convenzioni"),
            Link::new("Report per Comune e anno", "/sua/report"),
            Link::new("Importa procedure (OCDS ANAC, CSV)", "/sua/import"),
        ],
        Role::Operator(_) => vec![],
        Role::Comune(_) => vec![
            Link::new("Le procedure della SUA per il Comune", "/sua"),
            Link::new("Nuova richiesta alla SUA", "/sua/richieste/nuova"),
            Link::new("Convenzioni con la SUA", "/sua/convenzioni"),
            Link::new("Report SUA del Comune", "/sua/report"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every distinct CPV code in the real ANAC releases of
    /// `node/tests/fixtures/anac_ocds_compiled_releases_sample_2025.json`.
    const ANAC_CPV: &[&str] = &[
        "03000000-1",
        "03110000-5",
        "03111000-2",
        "03111100-3",
        "03111400-6",
        "03111700-9",
        "09000000-3",
        "15000000-8",
        "30000000-9",
        "33000000-0",
        "34000000-7",
        "39000000-2",
        "42412200-9",
        "44000000-0",
        "44130000-0",
        "45000000-7",
        "45215214-0",
        "45233162-2",
        "45244200-1",
        "45246400-7",
        "45331000-6",
        "45453100-8",
        "45454000-4",
        "48000000-8",
        "50000000-5",
        "50711000-2",
        "50720000-8",
        "55000000-0",
        "55322000-3",
        "60000000-8",
        "66000000-0",
        "71000000-8",
        "72000000-5",
        "72322000-8",
        "79000000-4",
        "80000000-4",
        "85000000-9",
        "90000000-7",
        "92000000-1",
        "98000000-3",
    ];

    #[test]
    fn cpv_codes_are_checked_against_the_vocabulary() {
        assert_eq!(CPV_VOCABULARY.len(), 9_454);
        assert!(CPV_VOCABULARY.windows(2).all(|w| w[0].0 < w[1].0));
        for code in ANAC_CPV {
            assert_eq!(Cpv::parse(code).map(|c| c.0), Ok((*code).to_owned()));
        }
        // Codes whose check digit no formula gives: electricity, diesel, turbines.
        for code in ["09310000-5", "09134100-8", "42100000-0"] {
            assert_eq!(Cpv::parse(code).map(|c| c.0), Ok(code.to_owned()));
        }
        assert_eq!(Cpv::parse("72322000").map(|c| c.0), Ok("72322000-8".into()));
        assert_eq!(
            Cpv::parse("72322000-8").map(|c| c.label()),
            Ok("Servizi di gestione dati")
        );
        assert_eq!(
            Cpv::parse("45000000-7").map(|c| c.label()),
            Ok("Lavori di costruzione")
        );
        let wrong = Cpv::parse("72322000-7").expect_err("wrong digit");
        assert!(wrong.contains("il vocabolario ha 72322000-8"), "{wrong}");
        let unknown = Cpv::parse("72322999-1").expect_err("not a code");
        assert!(
            unknown.contains("non è nel vocabolario CPV 2008"),
            "{unknown}"
        );
        assert!(Cpv::parse("7232200-8").is_err());
        assert!(Cpv::parse("7232200X-8").is_err());
        assert!(Cpv::parse("72322000-88").is_err());
        assert_eq!(
            Cpv::parse("45215214-0").map(|c| c.division().to_owned()),
            Ok("45".into())
        );
    }

    #[test]
    fn cig_and_cup() {
        assert_eq!(
            Cig::parse(" 90940496a3 ").map(|c| c.0),
            Ok("90940496A3".into())
        );
        assert_eq!(
            Cig::parse("90940496A"),
            Err("\"90940496A\" non è un CIG: un CIG ha esattamente 10 lettere e cifre, come 90940496A3".to_owned())
        );
        assert!(Cig::parse("90940496A-3").is_err());
        assert_eq!(
            Cup::parse("j51b21000120006").map(|c| c.0),
            Ok("J51B21000120006".into())
        );
        assert!(Cup::parse("151B21000120006").is_err());
        assert!(Cup::parse("J51B2100012000").is_err());
    }

    #[test]
    fn amounts() {
        for (text, cents) in [
            ("150000", 15_000_000),
            ("150000.5", 15_000_050),
            ("150000.50", 15_000_050),
            ("150000,50", 15_000_050),
            ("150.000,50", 15_000_050),
            ("150,000.50", 15_000_050),
            ("1.234.567", 123_456_700),
            ("€ 196721.31", 19_672_131),
            ("0", 0),
            // Three digits after the only separator group thousands, as Italians write.
            ("1.234", 123_400),
        ] {
            assert_eq!(Euro::parse(text), Ok(Euro(cents)), "{text}");
        }
        for text in [
            "",
            "-5",
            "1.2.3",
            "12.345.67",
            "1,5,0",
            "abc",
            "1.2345",
            "99999999999999",
        ] {
            assert!(Euro::parse(text).is_err(), "{text}");
        }
        assert_eq!(
            Euro::parse("abc"),
            Err("\"abc\" non è un importo in euro: scrivetelo come 150.000,00 o 150000.00 (al massimo due decimali, non negativo)".to_owned())
        );
        let too_large = Euro::parse("10000000001").expect_err("above the maximum");
        assert!(
            too_large.contains("il massimo è 10.000.000.000,00\u{a0}€"),
            "{too_large}"
        );
        assert_eq!(Euro(15_000_050).to_decimal(), "150000.50");
        assert_eq!(Euro(123_456_789).to_italian(), "1.234.567,89\u{a0}€");
    }

    #[test]
    fn ribasso() {
        assert_eq!(Ribasso::parse("12.345"), Ok(Ribasso(12_345)));
        assert_eq!(Ribasso::parse("12,3 %"), Ok(Ribasso(12_300)));
        assert_eq!(Ribasso::parse("-1.5"), Ok(Ribasso(-1_500)));
        assert_eq!(
            Ribasso::parse("100.001"),
            Err("\"100.001\": un ribasso non può superare il 100 %".to_owned())
        );
        assert!(Ribasso::parse("1.2345").is_err());
        // The real award of ocds-hu01ve-8315069: 820,417.76 base, 811,537.41 awarded.
        assert_eq!(
            Ribasso::between(Euro(82_041_776), Euro(81_153_741)).map(Ribasso::to_decimal),
            Some("1.082".into())
        );
        assert_eq!(Ribasso::between(Euro(0), Euro(1)), None);
    }

    #[test]
    fn state_machine() {
        assert!(State::Submitted.can_move_to(State::Received));
        assert!(State::Returned.can_move_to(State::Submitted));
        assert!(State::Evaluation.can_move_to(State::Awarded));
        assert!(!State::Awarded.can_move_to(State::Deserted));
        assert!(!State::Submitted.can_move_to(State::Published));
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
            assert!(!state.can_move_to(state));
            assert_eq!(state.is_final(), state.next().is_empty(), "{state:?}");
        }
    }
}
