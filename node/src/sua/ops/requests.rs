//! Requests and aggregated initiatives: a Comune asks the SUA to run a procedure (or the SUA
//! starts one serving several Comuni), and corrects it while it is still a request.
//!
//! Validation gathers one message per field ([`validate_request`]) so the form and the API
//! show every mistake at once; it is pure, and the pages call it too to keep the user's
//! input next to the messages.

use std::collections::BTreeSet;

use pico_protocol::ComuneCode;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;

use super::conventions::require_convention;
use super::{
    FieldErrors, ProcedureView, commit_view, comuni_of, conflict, display_name, load_visible,
    optional_text, record_change, run_change, text_field,
};
use crate::attachments::Checked;
use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::sua::day::Day;
use crate::sua::db as sql;
use crate::sua::policy::{self, Action};
use crate::sua::{
    ATTACHMENT_MAX_BYTES, ATTACHMENTS, AwardCriterion, ContractType, Cpv, Cup, Euro, MACHINE,
    OBJECT_MAX, PROCEDURE_TYPES, State, TEXT_MAX, procedure_label,
};
use crate::upload::Upload;

/// Most CPV codes besides the main one.
pub const CPV_OTHER_MAX: usize = 20;
/// Most Comuni in one aggregated initiative.
pub const PARTICIPANTS_MAX: usize = 500;
/// Longest name or funding text.
pub const SHORT_TEXT_MAX: usize = 300;

/// One Comune's share of an aggregated initiative.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareInput {
    /// ISTAT code of the Comune.
    #[schema(example = "026086")]
    pub comune_code: String,
    /// Its share of the estimated amount in euro, as text (`75000.00`, `75.000,00`).
    #[schema(example = "75000.00")]
    pub share: String,
}

/// The content of a request (body of `POST /v1/sua/requests`, `POST /v1/sua/initiatives` and
/// `PUT /v1/sua/procedures/{id}`). Text fields are checked here rather than by the JSON
/// decoder, so every mistake comes back at once in the problem's `errors` member.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// The requesting Comune: SUA staff must give it; a Comune user may omit it (its own is
    /// used). Not allowed for initiatives.
    #[serde(default)]
    #[schema(example = "026086")]
    pub comune_code: Option<String>,
    /// Oggetto, 1–500 characters.
    #[schema(example = "Servizio di manutenzione del verde pubblico 2026-2028")]
    pub object: String,
    /// Description, up to 20000 characters.
    #[serde(default)]
    pub description: String,
    /// `works`, `services` or `supplies`.
    #[schema(value_type = ContractType)]
    pub contract_type: String,
    /// Main CPV code, with or without its check digit.
    #[schema(example = "77310000-6")]
    pub cpv_main: String,
    /// Other CPV codes (at most 20).
    #[serde(default)]
    pub cpv_other: Vec<String>,
    /// Estimated amount in euro, as text (`150000.00` or `150.000,00`).
    #[schema(example = "150000.00")]
    pub estimated_amount: String,
    /// ANAC choice-of-contractor code: 1, 2, 3, 4, 5, 24, 27 or 34.
    #[schema(example = 1)]
    pub procedure_code: u16,
    /// `lowest_price`, `best_value` or `fixed_price`.
    #[schema(value_type = AwardCriterion)]
    pub award_criterion: String,
    /// CUP, 15 characters (required when PNRR funds it).
    #[serde(default)]
    #[schema(example = "J51B21000120006")]
    pub cup: Option<String>,
    /// Funding source, free text.
    #[serde(default)]
    pub funding_source: String,
    /// Whether PNRR funds it.
    #[serde(default)]
    pub pnrr: bool,
    /// RUP (responsible person) name.
    pub rup_name: String,
    /// RUP email.
    pub rup_email: String,
    /// Desired award date, `YYYY-MM-DD`.
    #[serde(default)]
    pub desired_by: Option<String>,
    /// Aggregated initiatives only: the Comuni served and their shares, summing to the
    /// estimated amount.
    #[serde(default)]
    pub participants: Vec<ShareInput>,
}

/// A request that passed [`validate_request`].
#[derive(Debug, Clone)]
pub struct ValidRequest {
    /// The requesting Comune, when given.
    pub comune_code: Option<String>,
    /// The content (`buyer_name` still empty: the operation names the buyer).
    pub fields: sql::RequestFields,
    /// Shares by Comune, when given.
    pub participants: Vec<(String, i64)>,
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn comune_field(text: &str, province: &str, province_name: &str) -> Result<String, String> {
    let code = text.trim();
    match ComuneCode::parse(code) {
        Ok(parsed) if parsed.as_str().starts_with(province) => Ok(parsed.as_str().to_owned()),
        _ => Err(format!(
            "{code:?} non è il codice ISTAT (6 cifre) di un Comune della {province_name}"
        )),
    }
}

/// Checks every field of a request; `new` also refuses a desired date in the past.
pub fn validate_request(
    input: &RequestInput,
    province: &str,
    province_name: &str,
    new: bool,
) -> Result<ValidRequest, FieldErrors> {
    let mut errors = FieldErrors::new();
    let comune_code = match optional_text(input.comune_code.as_deref()) {
        Some(code) => errors.take("comune_code", comune_field(code, province, province_name)),
        None => None,
    };
    let object = errors.take("object", text_field(&input.object, OBJECT_MAX, true));
    let description = errors.take(
        "description",
        text_field(&input.description, TEXT_MAX, false),
    );
    let contract_type = ContractType::parse(input.contract_type.trim());
    if contract_type.is_none() {
        errors.add(
            "contract_type",
            "Scegliete il tipo di contratto: works (lavori), services (servizi) o supplies (forniture)",
        );
    }
    let cpv_main = errors.take(
        "cpv_main",
        if input.cpv_main.trim().is_empty() {
            Err("Indicate il codice CPV principale, per esempio 45233141-9".to_owned())
        } else {
            Cpv::parse(&input.cpv_main).map_err(|_| cpv_message(&input.cpv_main))
        },
    );
    if let (Some(kind), Some(cpv)) = (contract_type, &cpv_main) {
        let works_division = cpv.division() == "45";
        if kind == ContractType::Works && !works_division {
            errors.add(
                "cpv_main",
                format!(
                    "{cpv} non è un codice di lavori: per un contratto di lavori il CPV principale è della divisione 45"
                ),
            );
        } else if kind != ContractType::Works && works_division {
            errors.add(
                "cpv_main",
                format!(
                    "{cpv} è un codice di lavori (divisione 45): scegliete il tipo «lavori» o un CPV di servizi o forniture"
                ),
            );
        }
    }
    let mut cpv_other = Vec::new();
    if input.cpv_other.len() > CPV_OTHER_MAX {
        errors.add(
            "cpv_other",
            format!("Al massimo {CPV_OTHER_MAX} codici CPV aggiuntivi"),
        );
    }
    for text in input.cpv_other.iter().filter(|t| !t.trim().is_empty()) {
        match Cpv::parse(text) {
            Ok(cpv) if Some(&cpv) == cpv_main.as_ref() => {}
            Ok(cpv) if !cpv_other.contains(&cpv.as_str().to_owned()) => {
                cpv_other.push(cpv.as_str().to_owned());
            }
            Ok(_) => {}
            Err(_) => errors.add("cpv_other", cpv_message(text)),
        }
    }
    let estimated = errors.take(
        "estimated_amount",
        amount_field(&input.estimated_amount, "l'importo stimato"),
    );
    let procedure = procedure_label(input.procedure_code);
    if procedure.is_none() {
        let codes: Vec<String> = PROCEDURE_TYPES
            .iter()
            .map(|(code, _)| code.to_string())
            .collect();
        errors.add(
            "procedure_code",
            format!(
                "Codice di procedura ANAC non ammesso: scegliete tra {}",
                codes.join(", ")
            ),
        );
    }
    let criterion = AwardCriterion::parse(input.award_criterion.trim())
        .filter(|c| AwardCriterion::CHOICES.contains(c));
    if criterion.is_none() {
        errors.add(
            "award_criterion",
            "Scegliete il criterio: lowest_price (minor prezzo), best_value (offerta economicamente più vantaggiosa) o fixed_price (prezzo fisso)",
        );
    }
    let cup = match optional_text(input.cup.as_deref()) {
        Some(text) => errors.take(
            "cup",
            Cup::parse(text).map(|c| c.as_str().to_owned()).map_err(|_| {
                format!(
                    "{text:?} non è un CUP: il CUP ha esattamente 15 caratteri, lettere e cifre, e inizia con una lettera (es. J51B21000120006)"
                )
            }),
        ),
        None => {
            if input.pnrr {
                errors.add(
                    "cup",
                    "Per un intervento finanziato dal PNRR il CUP è obbligatorio",
                );
            }
            None
        }
    };
    let funding_source = errors.take(
        "funding_source",
        text_field(&input.funding_source, SHORT_TEXT_MAX, false),
    );
    let rup_name = errors.take(
        "rup_name",
        text_field(&input.rup_name, SHORT_TEXT_MAX, true),
    );
    let rup_email = errors.take(
        "rup_email",
        text_field(&input.rup_email, SHORT_TEXT_MAX, true).and_then(|email| {
            if looks_like_email(&email) {
                Ok(email)
            } else {
                Err(format!(
                    "{email:?} non è un indirizzo email valido (es. rup@comune.treviso.it)"
                ))
            }
        }),
    );
    let desired_by = match optional_text(input.desired_by.as_deref()) {
        Some(text) => errors
            .take(
                "desired_by",
                Day::parse(text).and_then(|day| {
                    if new && day < Day::today() {
                        Err("La data desiderata non può essere nel passato".to_owned())
                    } else {
                        Ok(day)
                    }
                }),
            )
            .map(Day::iso),
        None => None,
    };
    let participants = validate_shares(
        &input.participants,
        estimated,
        province,
        province_name,
        &mut errors,
    );
    match (
        errors.is_empty(),
        object,
        description,
        contract_type,
        cpv_main,
        estimated,
        procedure,
        criterion,
        funding_source,
        rup_name,
        rup_email,
    ) {
        (
            true,
            Some(object),
            Some(description),
            Some(contract_type),
            Some(cpv_main),
            Some(estimated),
            Some(procedure),
            Some(award_criterion),
            Some(funding_source),
            Some(rup_name),
            Some(rup_email),
        ) => Ok(ValidRequest {
            comune_code,
            fields: sql::RequestFields {
                buyer_name: String::new(),
                object,
                description,
                contract_type,
                cpv_main: cpv_main.as_str().to_owned(),
                cpv_other,
                estimated_cents: estimated.cents(),
                procedure_code: input.procedure_code,
                procedure_label: procedure.to_owned(),
                award_criterion,
                cup,
                funding_source,
                pnrr: input.pnrr,
                rup_name,
                rup_email,
                desired_by,
            },
            participants,
        }),
        _ => Err(errors),
    }
}

/// The Italian message for a CPV code the parser refused: a wrong check digit (with the right
/// code), a well-formed code that is not in the vocabulary, or something that is not a code.
pub(crate) fn cpv_message(text: &str) -> String {
    let text = text.trim();
    let digits = text.split('-').next().unwrap_or_default();
    if digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match Cpv::parse(digits) {
            Ok(expected) => format!(
                "{text}: la cifra di controllo del CPV è errata (il codice corretto è {expected}, {}); verificate il codice nel vocabolario CPV",
                expected.label()
            ),
            Err(_) => format!(
                "{text}: il codice non è nel vocabolario CPV 2008 (Reg. CE 213/2008); verificate il codice"
            ),
        };
    }
    format!(
        "{text:?} non è un codice CPV: 8 cifre, un trattino e la cifra di controllo (es. 72322000-8)"
    )
}

/// An amount in euro greater than zero.
pub fn amount_field(text: &str, what: &str) -> Result<Euro, String> {
    if text.trim().is_empty() {
        return Err(format!("Indicate {what} in euro, per esempio 150000,00"));
    }
    let amount = Euro::parse(text).map_err(|_| {
        format!(
            "{:?} non è un importo valido: scrivetelo come 150000,00 o 150.000,00 (al massimo due decimali, non negativo)",
            text.trim()
        )
    })?;
    if amount.cents() == 0 {
        return Err(format!("{} deve essere maggiore di zero", capitalise(what)));
    }
    Ok(amount)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Checks the shares of an aggregated initiative: distinct Comuni of the Province, amounts,
/// and a total equal to the estimated amount.
fn validate_shares(
    shares: &[ShareInput],
    estimated: Option<Euro>,
    province: &str,
    province_name: &str,
    errors: &mut FieldErrors,
) -> Vec<(String, i64)> {
    let mut seen = BTreeSet::new();
    let mut valid = Vec::new();
    if shares.len() > PARTICIPANTS_MAX {
        errors.add(
            "participants",
            format!("Al massimo {PARTICIPANTS_MAX} Comuni"),
        );
        return valid;
    }
    for (i, share) in shares.iter().enumerate() {
        let code = errors.take(
            &format!("participants[{i}].comune_code"),
            comune_field(&share.comune_code, province, province_name),
        );
        let amount = errors.take(
            &format!("participants[{i}].share"),
            Euro::parse(&share.share).map_err(|_| {
                format!(
                    "{:?} non è un importo valido: scrivetelo come 75000,00",
                    share.share.trim()
                )
            }),
        );
        if let Some(code) = &code
            && !seen.insert(code.clone())
        {
            errors.add(
                format!("participants[{i}].comune_code"),
                format!("Il Comune {code} compare più di una volta"),
            );
        }
        if let (Some(code), Some(amount)) = (code, amount) {
            valid.push((code, amount.cents()));
        }
    }
    if !shares.is_empty()
        && valid.len() == shares.len()
        && let Some(estimated) = estimated
    {
        let total: i64 = valid.iter().map(|(_, cents)| cents).sum();
        if total != estimated.cents() {
            errors.add(
                "participants",
                format!(
                    "Le quote sommano a {}, ma l'importo stimato è {}: la somma delle quote deve essere uguale all'importo stimato",
                    Euro(total).to_italian(),
                    estimated.to_italian()
                ),
            );
        }
    }
    valid
}

/// Checks, inside the transaction, that every Comune of an initiative exists and has a
/// convenzione in force for `kind`.
fn check_participants(
    conn: &Connection,
    shares: &[(String, i64)],
    kind: ContractType,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    for (i, (code, _)) in shares.iter().enumerate() {
        let field = format!("participants[{i}].comune_code");
        match db::comuni::name_of(conn, code)? {
            None => errors.add(field, format!("{code} non è un Comune di questa Provincia")),
            Some(name) => {
                if let Err(err) = require_convention(conn, code, &name, kind, &field) {
                    for (f, message) in super::field_messages(&err) {
                        errors.add(f, message);
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.with_code("invalid_field").into())
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The web form.
    Web,
    /// The JSON API.
    Api,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
        }
    }
}

/// Checks uploads (their number, each file's size and type); returns them with their safe
/// names.
pub fn check_uploads(uploads: Vec<Upload>) -> Result<Vec<Checked>, AppError> {
    ATTACHMENTS.check_all(uploads, ATTACHMENT_MAX_BYTES)
}

/// Submits a request on behalf of a Comune (its own staff, or SUA staff for it). The Comune
/// needs a convenzione in force covering the contract type.
pub async fn submit_request(
    state: &AppState,
    identity: &Identity,
    input: &RequestInput,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<ProcedureView, AppError> {
    let user = identity.require_user()?.clone();
    let mut valid = validate_request(input, &state.province.code, &state.province.name, true)?;
    let comune = match (&valid.comune_code, user.roles.comune()) {
        (Some(code), _) => code.clone(),
        (None, Some(own)) => own.as_str().to_owned(),
        (None, _) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "comune_code",
                "Indicate il Comune per cui inviate la richiesta",
            );
            return Err(errors.into());
        }
    };
    policy::authorize(identity, Action::SubmitSuaRequest { comune: &comune })?;
    if !valid.participants.is_empty() {
        let mut errors = FieldErrors::new();
        errors.add(
            "participants",
            "Le quote dei Comuni si indicano solo nelle iniziative aggregate della SUA",
        );
        return Err(errors.into());
    }
    let uploads = check_uploads(uploads)?;
    let actor = identity.actor();
    let who = display_name(identity);
    let signer = state.signer.clone();
    run_change(state, move |tx, now| {
        let Some(comune_name) = db::comuni::name_of(&tx, &comune)? else {
            let mut errors = FieldErrors::new();
            errors.add(
                "comune_code",
                format!("{comune} non è un Comune di questa Provincia"),
            );
            return Err(errors.into());
        };
        require_convention(
            &tx,
            &comune,
            &comune_name,
            valid.fields.contract_type,
            "contract_type",
        )?;
        valid.fields.buyer_name = format!("Comune di {comune_name}");
        let year = Day::today().year();
        let id = sql::insert_procedure(
            &tx,
            &sql::NewProcedure {
                comune_code: Some(&comune),
                aggregated: false,
                state: State::Submitted,
                source: channel.as_str(),
                year,
                created_by: &actor.label,
                accepted_at: None,
            },
            &valid.fields,
            now,
        )?;
        sql::replace_participants(&tx, id, &[(comune.clone(), valid.fields.estimated_cents)])?;
        MACHINE.record_creation(&tx, id, State::Submitted, "", &who, now)?;
        ATTACHMENTS.insert(&tx, &actor, Some(&who), id, &uploads, now)?;
        record_change(
            &tx,
            &signer,
            &actor,
            id,
            "sua.request.submit",
            &json!({"comune": comune, "contract_type": valid.fields.contract_type.as_str(),
                    "estimated_cents": valid.fields.estimated_cents, "attachments": uploads.len()}),
            now,
        )?;
        commit_view(tx, id)
    })
    .await
}

/// Creates an aggregated initiative: a procedure the SUA runs for several Comuni, each with
/// its share. It starts accepted (`received`).
pub async fn create_initiative(
    state: &AppState,
    identity: &Identity,
    input: &RequestInput,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<ProcedureView, AppError> {
    policy::authorize(identity, Action::ManageProcedures)?;
    let mut valid = validate_request(input, &state.province.code, &state.province.name, true)?;
    let mut errors = FieldErrors::new();
    if valid.comune_code.is_some() {
        errors.add(
            "comune_code",
            "Un'iniziativa aggregata non ha un Comune richiedente: indicate i Comuni in participants",
        );
    }
    if valid.participants.len() < 2 {
        errors.add(
            "participants",
            "Un'iniziativa aggregata serve almeno due Comuni, ciascuno con la sua quota",
        );
    }
    errors.check()?;
    let uploads = check_uploads(uploads)?;
    let actor = identity.actor();
    let who = display_name(identity);
    let signer = state.signer.clone();
    let province_name = state.province.name.clone();
    run_change(state, move |tx, now| {
        check_participants(&tx, &valid.participants, valid.fields.contract_type)?;
        valid.fields.buyer_name = province_name;
        let id = sql::insert_procedure(
            &tx,
            &sql::NewProcedure {
                comune_code: None,
                aggregated: true,
                state: State::Received,
                source: channel.as_str(),
                year: Day::today().year(),
                created_by: &actor.label,
                accepted_at: Some(now),
            },
            &valid.fields,
            now,
        )?;
        sql::replace_participants(&tx, id, &valid.participants)?;
        MACHINE.record_creation(
            &tx,
            id,
            State::Received,
            "Iniziativa aggregata della SUA",
            &who,
            now,
        )?;
        ATTACHMENTS.insert(&tx, &actor, Some(&who), id, &uploads, now)?;
        let comuni: Vec<&str> = valid.participants.iter().map(|(c, _)| c.as_str()).collect();
        record_change(
            &tx,
            &signer,
            &actor,
            id,
            "sua.initiative.create",
            &json!({"comuni": comuni, "contract_type": valid.fields.contract_type.as_str(),
                    "estimated_cents": valid.fields.estimated_cents}),
            now,
        )?;
        commit_view(tx, id)
    })
    .await
}

/// Replaces the content of a request: its Comune while it is submitted or returned, SUA staff
/// while the procedure is not final. An aggregated initiative may change its shares in the
/// same call (and must, when the estimated amount changes).
pub async fn update_request(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &RequestInput,
) -> Result<ProcedureView, AppError> {
    identity.require_user()?;
    let valid = validate_request(input, &state.province.code, &state.province.name, false);
    let actor = identity.actor();
    let identity = identity.clone();
    let signer = state.signer.clone();
    run_change(state, move |tx, now| {
        let (row, participants) = load_visible(&tx, &identity, id)?;
        let comuni = comuni_of(&participants);
        policy::authorize(&identity, Action::EditProcedure { comuni: &comuni, state: row.state })?;
        let mut valid = valid?;
        let mut errors = FieldErrors::new();
        if let Some(code) = &valid.comune_code
            && Some(code) != row.comune_code.as_ref()
        {
            errors.add("comune_code", "Il Comune richiedente non si può cambiare: ritirate la richiesta e inviatene una nuova");
        }
        let shares = if row.aggregated {
            if valid.participants.is_empty() {
                if valid.fields.estimated_cents != row.estimated_cents {
                    errors.add("participants", "Cambiando l'importo stimato di un'iniziativa aggregata, indicate anche le nuove quote dei Comuni");
                }
                None
            } else {
                policy::authorize(&identity, Action::ManageProcedures)?;
                if valid.participants.len() < 2 {
                    errors.add("participants", "Un'iniziativa aggregata serve almeno due Comuni, ciascuno con la sua quota");
                }
                Some(std::mem::take(&mut valid.participants))
            }
        } else {
            if !valid.participants.is_empty() {
                errors.add("participants", "Le quote dei Comuni si indicano solo nelle iniziative aggregate della SUA");
            }
            row.comune_code.clone().map(|code| vec![(code, valid.fields.estimated_cents)])
        };
        errors.check()?;
        if row.state.is_request()
            && let (Some(code), Some(name)) = (&row.comune_code, &row.comune_name)
        {
            require_convention(&tx, code, name, valid.fields.contract_type, "contract_type")?;
        }
        if let (true, Some(shares)) = (row.aggregated, &shares) {
            check_participants(&tx, shares, valid.fields.contract_type)?;
        }
        valid.fields.buyer_name = row.buyer_name.clone();
        sql::update_request_fields(&tx, id, &valid.fields, now)?;
        if let Some(shares) = &shares {
            sql::replace_participants(&tx, id, shares)?;
        }
        record_change(
            &tx,
            &signer,
            &actor,
            id,
            "sua.procedure.edit",
            &json!({"state": row.state.as_str(), "estimated_cents": valid.fields.estimated_cents,
                    "shares_changed": row.aggregated && shares.is_some()}),
            now,
        )?;
        commit_view(tx, id)
    })
    .await
}

/// Replaces the shares of an aggregated initiative (SUA staff, not final).
pub async fn update_participants(
    state: &AppState,
    identity: &Identity,
    id: i64,
    shares: &[ShareInput],
) -> Result<ProcedureView, AppError> {
    identity.require_user()?;
    let actor = identity.actor();
    let identity = identity.clone();
    let signer = state.signer.clone();
    let province = state.province.code.clone();
    let province_name = state.province.name.clone();
    let shares = shares.to_vec();
    run_change(state, move |tx, now| {
        let (row, participants) = load_visible(&tx, &identity, id)?;
        let comuni = comuni_of(&participants);
        policy::authorize(&identity, Action::ManageProcedures)?;
        policy::authorize(
            &identity,
            Action::EditProcedure {
                comuni: &comuni,
                state: row.state,
            },
        )?;
        if !row.aggregated {
            return Err(conflict(
                "not_aggregated",
                "Solo le iniziative aggregate hanno quote di più Comuni: una procedura ordinaria serve il Comune che l'ha chiesta.",
            ));
        }
        let mut errors = FieldErrors::new();
        let valid = validate_shares(
            &shares,
            Some(Euro(row.estimated_cents)),
            &province,
            &province_name,
            &mut errors,
        );
        if shares.len() < 2 {
            errors.add(
                "participants",
                "Un'iniziativa aggregata serve almeno due Comuni, ciascuno con la sua quota",
            );
        }
        errors.check()?;
        check_participants(&tx, &valid, row.contract_type)?;
        sql::replace_participants(&tx, id, &valid)?;
        sql::touch(&tx, id, now)?;
        let codes: Vec<&str> = valid.iter().map(|(c, _)| c.as_str()).collect();
        record_change(
            &tx,
            &signer,
            &actor,
            id,
            "sua.procedure.participants",
            &json!({"comuni": codes}),
            now,
        )?;
        commit_view(tx, id)
    })
    .await
}
