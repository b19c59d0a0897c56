//! SAPE operations shared by the API and the pages: each checks the policy, validates what it
//! receives into the module's records (every message in Italian, named by field), and writes
//! with its audit event in one transaction.

use axum::http::StatusCode;
use pico_service::Problem;
use pico_service::text::{self, Lines};
use rusqlite::TransactionBehavior;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Identity, secrets};
use crate::db::{self, audit};
use crate::error::AppError;
use crate::lifecycle;
use crate::sape::db::{
    self as store, CallFilter, CallRecord, CallRow, PartnerRecord, ProposalRecord, ProposalRow,
    Source, WorkPackageRecord,
};
use crate::sape::import::{self, ImportError, ImportReport};
use crate::sape::national;
use crate::sape::policy::{self, Action};
use crate::sape::{
    Budget, BudgetInput, CallStatus, Day, DeadlineModel, Management, PROPOSALS, PartnerRole,
    PersonnelUnit, Programme, ProposalState, ProvinceRole, Stage, budget, call_status, is_pic,
    lump_sum_of,
};
use crate::state::AppState;

pub use crate::web::form::FieldErrors;

/// The field messages of a refused change, for the pages that show them beside their fields.
pub use crate::web::form::field_messages;

/// Cents as the API's decimal text (`1234.56`).
pub fn decimal(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// An amount in euro typed by a person or a client (`1234.56`, `1.234,56`); blank is zero
/// when `blank_is_zero`.
pub fn parse_money(text: &str, blank_is_zero: bool) -> Result<i64, String> {
    if blank_is_zero && text.trim().is_empty() {
        return Ok(0);
    }
    crate::sua::Euro::parse(text).map(crate::sua::Euro::cents).map_err(|_| {
        format!(
            "«{}» non è un importo in euro: scrivilo come 1.234,56 o 1234.56 (al massimo due decimali, non negativo)",
            text.trim()
        )
    })
}

/// A quantity with at most two decimals (`2,5` person-months) as hundredths.
pub fn parse_quantity(text: &str) -> Result<i64, String> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    crate::sua::Euro::parse(text)
        .map(crate::sua::Euro::cents)
        .map_err(|_| {
            format!(
                "«{}» non è una quantità: scrivila come 2,5 (al massimo due decimali, non negativa)",
                text.trim()
            )
        })
}

pub(crate) fn required_text(text: &str, max: usize) -> Result<String, String> {
    text::clean(text, Lines::One, max, true).map_err(|err| err.to_string())
}

pub(crate) fn optional_text(text: &str, max: usize, lines: Lines) -> Result<String, String> {
    text::clean(text, lines, max, false).map_err(|err| err.to_string())
}

/// Today, as the status of calls is derived from it.
pub fn today() -> String {
    Day::today().iso()
}

/// A deadline of a call.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Which stage it closes.
    pub stage: Stage,
}

/// A call as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallView {
    /// Id.
    pub id: i64,
    /// Topic identifier (`HORIZON-CL5-2024-D3-01-01`).
    pub identifier: String,
    /// Identifier of the call the topic belongs to.
    pub call_identifier: String,
    /// Title.
    pub title: String,
    /// Programme.
    pub programme: Programme,
    /// Direct or indirect management.
    pub management: Management,
    /// Type of action.
    pub type_of_action: String,
    /// Keywords.
    pub keywords: String,
    /// Deadline model.
    pub deadline_model: DeadlineModel,
    /// Opening date, `YYYY-MM-DD`.
    pub opening_date: Option<String>,
    /// Deadlines in order.
    pub deadlines: Vec<DeadlineView>,
    /// Last day a new application can be sent (none for a permanent call).
    pub closing_date: Option<String>,
    /// Status today, derived from the dates.
    pub status: CallStatus,
    /// The call's page.
    pub url: String,
    /// Total budget, euro (`15000000.00`).
    pub budget: Option<String>,
    /// Expected number of grants.
    pub expected_grants: Option<i64>,
    /// Smallest EU contribution per grant, euro.
    pub min_contribution: Option<String>,
    /// Largest EU contribution per grant, euro.
    pub max_contribution: Option<String>,
    /// Funding rate, percent.
    pub funding_rate: Option<u8>,
    /// `manual`, `csv` or `json`.
    pub source: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

impl CallView {
    /// The view of `row` on `today`.
    pub fn new(row: CallRow, today: &str) -> CallView {
        let r = row.record;
        CallView {
            id: row.id,
            status: call_status(
                r.opening_date.as_deref(),
                row.closing_date.as_deref(),
                r.deadline_model,
                today,
            ),
            identifier: r.identifier,
            call_identifier: r.call_identifier,
            title: r.title,
            programme: r.programme,
            management: r.management,
            type_of_action: r.type_of_action,
            keywords: r.keywords,
            deadline_model: r.deadline_model,
            opening_date: r.opening_date,
            deadlines: r
                .deadlines
                .into_iter()
                .map(|(date, stage)| DeadlineView { date, stage })
                .collect(),
            closing_date: row.closing_date,
            url: r.url,
            budget: r.budget_cents.map(decimal),
            expected_grants: r.expected_grants,
            min_contribution: r.min_contribution_cents.map(decimal),
            max_contribution: r.max_contribution_cents.map(decimal),
            funding_rate: r.funding_rate,
            source: row.source,
            updated_at: db::rfc3339(row.updated_at),
        }
    }
}

/// A flag of a call to a Comune.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    /// ISTAT code of the Comune.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// Why the call fits it.
    pub note: String,
    /// RFC 3339 UTC.
    pub flagged_at: String,
}

/// A call with what the caller may know about it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallDetail {
    /// The call.
    pub call: CallView,
    /// Comuni it was flagged to: all for SAPE staff, the caller's own for a Comune.
    pub flags: Vec<FlagView>,
    /// Whether the caller's Comune follows it (always false for Province staff).
    pub followed: bool,
}

/// Query of the calls search.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    /// Words searched in title, keywords, programme and identifiers (each word as a prefix).
    pub q: Option<String>,
    /// Only this programme.
    pub programme: Option<Programme>,
    /// Only calls with this status today.
    pub status: Option<CallStatus>,
    /// Only calls with a deadline on or after this day (`YYYY-MM-DD`).
    pub deadline_from: Option<String>,
    /// Only calls with a deadline on or before this day (`YYYY-MM-DD`).
    pub deadline_to: Option<String>,
    /// Only calls the caller's Comune follows.
    pub followed: Option<bool>,
    /// Only calls flagged to the caller's Comune.
    pub flagged: Option<bool>,
    /// Items per page: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// Makes typed words a safe FTS5 query: each word becomes a quoted phrase of its letters and
/// digits, searched as a prefix; words must all match. `None` when nothing is left.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .take(16)
        .filter_map(|word| {
            let tokens: Vec<String> = word
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .map(str::to_lowercase)
                .collect();
            (!tokens.is_empty()).then(|| format!("\"{}\"*", tokens.join(" ")))
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn day_filter(field: &'static str, text: Option<&str>) -> Result<Option<String>, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => Day::parse(text)
            .map(|d| Some(d.iso()))
            .map_err(|_| AppError::invalid_field(field, "Scrivi la data come 31/12/2025.")),
    }
}

/// Calls matching `query` (`limit` from `offset`), with the filter the caller may use.
pub async fn search_calls(
    state: &AppState,
    identity: &Identity,
    query: &CallQuery,
    limit: u32,
    offset: u32,
) -> Result<Vec<CallView>, AppError> {
    policy::authorize(identity, Action::ViewCalls)?;
    let own = identity
        .require_user()?
        .roles
        .comune()
        .map(|code| code.as_str().to_owned());
    let filter = CallFilter {
        fts: query.q.as_deref().and_then(fts_query),
        programme: query.programme,
        status: query.status.map(CallStatus::as_str),
        deadline_from: day_filter("deadline_from", query.deadline_from.as_deref())?,
        deadline_to: day_filter("deadline_to", query.deadline_to.as_deref())?,
        followed_by: own.clone().filter(|_| query.followed == Some(true)),
        flagged_to: own.filter(|_| query.flagged == Some(true)),
    };
    let today = today();
    state
        .db
        .call(move |conn| {
            let rows = store::search_calls(conn, &filter, &today, limit, offset)?;
            Ok(rows
                .into_iter()
                .map(|row| CallView::new(row, &today))
                .collect())
        })
        .await
}

/// One call, with its flags and whether the caller's Comune follows it.
pub async fn call_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<CallDetail, AppError> {
    policy::authorize(identity, Action::ViewCalls)?;
    let own = identity
        .require_user()?
        .roles
        .comune()
        .map(|code| code.as_str().to_owned());
    state
        .db
        .call(move |conn| {
            let row = store::get_call(conn, id)?.ok_or(AppError::NotFound)?;
            let flags = store::flags(conn, id)?
                .into_iter()
                .filter(|flag| own.as_ref().is_none_or(|own| *own == flag.comune_code))
                .map(|flag| FlagView {
                    comune_code: flag.comune_code,
                    comune_name: flag.comune_name,
                    note: flag.note,
                    flagged_at: db::rfc3339(flag.created_at),
                })
                .collect();
            let followed = match &own {
                Some(own) => store::follows(conn, id, own)?,
                None => false,
            };
            Ok(CallDetail {
                call: CallView::new(row, &today()),
                flags,
                followed,
            })
        })
        .await
}

/// Body of `POST /v1/sape/calls`: a call typed by hand.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// The call's code (unique), e.g. `FESR-VEN-2025-01`.
    pub identifier: String,
    /// Code of the wider call, if any.
    #[serde(default)]
    pub call_identifier: String,
    /// Title.
    pub title: String,
    /// Programme.
    pub programme: Programme,
    /// Direct or indirect management.
    pub management: Management,
    /// Type of action, if any.
    #[serde(default)]
    pub type_of_action: String,
    /// Keywords for the search.
    #[serde(default)]
    pub keywords: String,
    /// Deadline model.
    pub deadline_model: DeadlineModel,
    /// Opening date, `YYYY-MM-DD`.
    #[serde(default)]
    pub opening_date: Option<String>,
    /// Deadlines, `YYYY-MM-DD`: one (single stage), two (two-stage), one or more (multiple
    /// cut-off), none (permanent).
    #[serde(default)]
    pub deadlines: Vec<String>,
    /// Page of the call.
    #[serde(default)]
    pub url: String,
    /// Total budget, euro as decimal text.
    #[serde(default)]
    pub budget: Option<String>,
    /// Funding rate, percent.
    #[serde(default)]
    pub funding_rate: Option<u8>,
}

/// Checks a hand-entered call: every problem at once, by field.
pub fn check_call(input: &NewCall) -> Result<CallRecord, AppError> {
    let mut errors = FieldErrors::default();
    let identifier = errors.check("identifier", required_text(&input.identifier, 100));
    let title = errors.check("title", required_text(&input.title, 500));
    let call_identifier = errors.check(
        "call_identifier",
        optional_text(&input.call_identifier, 100, Lines::One),
    );
    let type_of_action = errors.check(
        "type_of_action",
        optional_text(&input.type_of_action, 200, Lines::One),
    );
    let keywords = errors.check(
        "keywords",
        optional_text(&input.keywords, 2000, Lines::Many),
    );
    let url = errors.check("url", optional_text(&input.url, 1000, Lines::One));
    if let Some(url) = &url
        && !url.is_empty()
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        errors.add("url", "L'indirizzo deve iniziare con https:// o http://.");
    }
    let opening = match input.opening_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => errors.check(
            "opening_date",
            Day::parse(text)
                .map(Day::iso)
                .map_err(|_| "Scrivi la data come 31/12/2025.".to_owned()),
        ),
    };
    let mut days = Vec::new();
    let typed = input.deadlines.iter().filter(|t| !t.trim().is_empty());
    let typed_count = typed.clone().count();
    for (n, text) in typed.enumerate() {
        if let Some(day) = errors.check(
            &format!("deadlines[{n}]"),
            Day::parse(text).map(Day::iso).map_err(|_| {
                format!(
                    "«{}» non è una data: scrivila come 31/12/2025.",
                    text.trim()
                )
            }),
        ) {
            days.push(day);
        }
    }
    // A date that is not one has its own message: the count is checked on good dates only.
    let dates_ok = days.len() == typed_count;
    let deadlines: Vec<(String, Stage)> = match input.deadline_model {
        _ if !dates_ok => Vec::new(),
        DeadlineModel::SingleStage => {
            if days.len() != 1 {
                errors.add("deadlines", "Un bando a fase unica ha una sola scadenza.");
            }
            days.iter().map(|d| (d.clone(), Stage::Single)).collect()
        }
        DeadlineModel::TwoStage => {
            if days.len() != 2 {
                errors.add(
                    "deadlines",
                    "Un bando in due fasi ha due scadenze: la prima e la seconda fase.",
                );
            } else if days[1] < days[0] {
                errors.add(
                    "deadlines",
                    "La seconda fase non può scadere prima della prima.",
                );
            }
            days.iter()
                .zip([Stage::First, Stage::Second])
                .map(|(d, s)| (d.clone(), s))
                .collect()
        }
        DeadlineModel::MultipleCutoff => {
            if days.is_empty() {
                errors.add(
                    "deadlines",
                    "Un bando a scadenze multiple ha almeno una scadenza.",
                );
            }
            let mut sorted = days.clone();
            sorted.sort();
            sorted.dedup();
            sorted.into_iter().map(|d| (d, Stage::Cutoff)).collect()
        }
        DeadlineModel::Permanent => {
            if !days.is_empty() {
                errors.add("deadlines", "Un bando sempre aperto non ha scadenze.");
            }
            Vec::new()
        }
    };
    if let (Some(opening), Some((first, _))) = (&opening, deadlines.first())
        && first < opening
    {
        errors.add(
            "opening_date",
            "L'apertura non può essere successiva alla prima scadenza.",
        );
    }
    let budget = match input.budget.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => errors.check("budget", parse_money(text, false)),
    };
    if input.funding_rate.is_some_and(|rate| rate > 100) {
        errors.add("funding_rate", "Il tasso di finanziamento va da 0 a 100 %.");
    }
    errors.finish()?;
    Ok(CallRecord {
        identifier: identifier.unwrap_or_default(),
        call_identifier: call_identifier.unwrap_or_default(),
        title: title.unwrap_or_default(),
        programme: input.programme,
        management: input.management,
        type_of_action: type_of_action.unwrap_or_default(),
        keywords: keywords.unwrap_or_default(),
        deadline_model: input.deadline_model,
        opening_date: opening,
        deadlines,
        url: url.unwrap_or_default(),
        budget_cents: budget,
        expected_grants: None,
        min_contribution_cents: None,
        max_contribution_cents: None,
        funding_rate: input.funding_rate,
    })
}

/// Enters a call by hand; 409 if its identifier is already in the catalogue.
pub async fn create_call(
    state: &AppState,
    identity: &Identity,
    input: &NewCall,
) -> Result<CallView, AppError> {
    policy::authorize(identity, Action::ManageCalls)?;
    let record = check_call(input)?;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if store::call_id(&tx, &record.identifier)?.is_some() {
                return Err(AppError::invalid_field(
                    "identifier",
                    format!("Il bando {} è già nel catalogo.", record.identifier),
                ));
            }
            let (id, _) = store::upsert_call(&tx, &record, Source::Manual, now)?;
            audit::record(
                &tx,
                &actor,
                "sape.call.create",
                &format!("sape_call:{id}"),
                &json!({"identifier": record.identifier}),
                now,
            )?;
            let row = store::get_call(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(CallView::new(row, &today()))
        })
        .await
}

/// The 422 of a refused import: every refused row, in Italian, in `errors` (`riga 12`) and
/// `detail`.
pub fn import_problem(error: ImportError) -> AppError {
    match error {
        ImportError::File(message) => AppError::from(
            Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("import_refused")
                .with_detail(format!(
                    "Importazione rifiutata, nulla è stato importato. {message}"
                )),
        ),
        ImportError::Rows { errors, count } => {
            let mut detail = format!(
                "Importazione rifiutata, nulla è stato importato: {count} righe non valide. {}",
                errors.join("; ")
            );
            if count > errors.len() as u64 {
                detail.push_str(&format!(" … e altre {}.", count - errors.len() as u64));
            }
            let mut problem = Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("import_refused")
                .with_detail(detail)
                .with_extension("refused", count);
            for message in errors {
                let (place, text) = message.split_once(": ").unwrap_or(("file", &message));
                problem = problem.with_field_error(place.to_owned(), text.to_owned());
            }
            AppError::from(problem)
        }
        ImportError::Db(err) => AppError::from(err),
    }
}

/// Imports a portal CSV or JSON file: all or nothing.
pub async fn import_calls(
    state: &AppState,
    identity: &Identity,
    filename: String,
    bytes: Vec<u8>,
) -> Result<ImportReport, AppError> {
    policy::authorize(identity, Action::ManageCalls)?;
    let actor = identity.actor();
    let signer = state.signer.clone();
    state
        .db
        .call(move |conn| {
            import::import(conn, &signer, &actor, &bytes, &filename, db::now())
                .map_err(import_problem)
        })
        .await
}

fn own_comune(identity: &Identity) -> Result<String, AppError> {
    match identity.require_user()?.roles.comune() {
        Some(code) => {
            let code = code.as_str().to_owned();
            policy::authorize(identity, Action::FollowCalls { comune: &code })?;
            Ok(code)
        }
        None => Err(AppError::Forbidden),
    }
}

/// Makes the caller's Comune follow (`true`) or stop following a call.
pub async fn set_following(
    state: &AppState,
    identity: &Identity,
    id: i64,
    follow: bool,
) -> Result<CallDetail, AppError> {
    policy::authorize(identity, Action::ViewCalls)?;
    let comune = own_comune(identity)?;
    let user = identity.require_user()?.id;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction()?;
            store::get_call(&tx, id)?.ok_or(AppError::NotFound)?;
            let changed = if follow {
                store::follow(&tx, id, &comune, user, now)?
            } else {
                store::unfollow(&tx, id, &comune)?
            };
            if changed {
                let action = if follow {
                    "sape.follow"
                } else {
                    "sape.unfollow"
                };
                audit::record(
                    &tx,
                    &actor,
                    action,
                    &format!("sape_call:{id}"),
                    &json!({"comune": comune}),
                    now,
                )?;
            }
            tx.commit()?;
            Ok::<_, AppError>(())
        })
        .await?;
    call_detail(state, identity, id).await
}

/// Body of `PUT /v1/sape/calls/{id}/flags`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsInput {
    /// ISTAT codes of the Comuni the call fits (replaces the previous list).
    pub comuni: Vec<String>,
    /// Why it fits them, shown to them.
    #[serde(default)]
    pub note: String,
}

/// Sets the Comuni a call is flagged to.
pub async fn set_flags(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: FlagsInput,
) -> Result<CallDetail, AppError> {
    policy::authorize(identity, Action::ManageCalls)?;
    let mut errors = FieldErrors::default();
    let note = errors.check("note", optional_text(&input.note, 2000, Lines::Many));
    errors.finish()?;
    let note = note.unwrap_or_default();
    let user = identity.require_user()?.id;
    let actor = identity.actor();
    let mut comuni = input.comuni;
    comuni.sort();
    comuni.dedup();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            store::get_call(&tx, id)?.ok_or(AppError::NotFound)?;
            for code in &comuni {
                if db::comuni::name_of(&tx, code)?.is_none() {
                    return Err(AppError::invalid_field(
                        "comuni",
                        format!("{code} non è un Comune di questa Provincia."),
                    ));
                }
            }
            store::set_flags(&tx, id, &comuni, &note, user, now)?;
            audit::record(
                &tx,
                &actor,
                "sape.flag",
                &format!("sape_call:{id}"),
                &json!({"comuni": comuni}),
                now,
            )?;
            tx.commit()?;
            Ok::<_, AppError>(())
        })
        .await?;
    call_detail(state, identity, id).await
}

/// A new calendar address: shown once, only its hash is kept.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarLink {
    /// The feed's address, to subscribe to in a calendar application.
    pub url: String,
}

/// Makes a new secret calendar address for the caller's Comune; the previous one stops
/// working.
pub async fn regenerate_calendar(
    state: &AppState,
    identity: &Identity,
) -> Result<CalendarLink, AppError> {
    let comune = own_comune(identity)?;
    let token = secrets::random_token(32);
    let hash = secrets::sha256_hex(&token);
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction()?;
            store::set_feed(&tx, &comune, &hash, now)?;
            audit::record(
                &tx,
                &actor,
                "sape.calendar.regenerate",
                &format!("sape_feed:{comune}"),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            Ok::<_, AppError>(())
        })
        .await?;
    Ok(CalendarLink {
        url: format!(
            "{}/sape/calendario/{token}.ics",
            state.config.public_url.trim_end_matches('/')
        ),
    })
}

/// Revokes the caller's Comune calendar address; whether it had one.
pub async fn revoke_calendar(state: &AppState, identity: &Identity) -> Result<bool, AppError> {
    let comune = own_comune(identity)?;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction()?;
            let had = store::delete_feed(&tx, &comune)?;
            if had {
                audit::record(
                    &tx,
                    &actor,
                    "sape.calendar.revoke",
                    &format!("sape_feed:{comune}"),
                    &json!({}),
                    now,
                )?;
            }
            tx.commit()?;
            Ok(had)
        })
        .await
}

/// When the caller's Comune calendar address was made, if it has one (Unix seconds).
pub async fn calendar_created(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<i64>, AppError> {
    let comune = own_comune(identity)?;
    state
        .db
        .call(move |conn| Ok(store::feed_created(conn, &comune)?))
        .await
}

/// The calendar behind secret `token`, or 404 (unknown or revoked token).
pub async fn calendar_feed(state: &AppState, token: &str) -> Result<String, AppError> {
    let hash = secrets::sha256_hex(token);
    let province = state.province.code.clone();
    state
        .db
        .call(move |conn| {
            let comune = store::feed_comune(conn, &hash)?.ok_or(AppError::NotFound)?;
            let name = db::comuni::name_of(conn, &comune)?.unwrap_or_else(|| comune.clone());
            let deadlines = store::followed_deadlines(conn, &comune)?;
            Ok(crate::sape::ical::calendar(&province, &name, &deadlines))
        })
        .await
}

/// A partner of a proposal as the API receives it: amounts in euro as decimal text.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerInput {
    /// Name.
    pub name: String,
    /// Country, ISO 3166 alpha-2 (`IT`).
    pub country: String,
    /// Participant Identification Code, nine digits (required but for associated partners).
    #[serde(default)]
    pub pic: Option<String>,
    /// Role.
    pub role: PartnerRole,
    /// ISTAT code, when the partner is a Comune of this Province.
    #[serde(default)]
    pub comune_code: Option<String>,
    /// Unit of the personnel effort: `month` (person-months at a monthly rate) or `day`.
    pub personnel_unit: PersonnelUnit,
    /// Person-months or person-days (at most two decimals).
    #[serde(default)]
    pub personnel_quantity: String,
    /// Cost of one month or day of personnel, euro.
    #[serde(default)]
    pub personnel_rate: String,
    /// B: subcontracting, euro.
    #[serde(default)]
    pub subcontracting: String,
    /// C.1: travel and subsistence, euro.
    #[serde(default)]
    pub travel: String,
    /// C.2: equipment, euro.
    #[serde(default)]
    pub equipment: String,
    /// C.3: other goods, works and services, euro.
    #[serde(default)]
    pub other_goods: String,
    /// D: other cost categories, euro.
    #[serde(default)]
    pub other_costs: String,
    /// Funding rate, percent; the call's rate (or 100) when absent.
    #[serde(default)]
    pub funding_rate: Option<u8>,
}

/// A work package as the API receives it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkPackageInput {
    /// Number (1 for WP1).
    pub number: i64,
    /// Title.
    pub title: String,
    /// Leading partner's name.
    #[serde(default)]
    pub lead: String,
    /// First month (1 = the project's first).
    pub start_month: i64,
    /// Last month.
    pub end_month: i64,
    /// Its lump sum (EU contribution), euro: lump-sum calls only.
    #[serde(default)]
    pub lump_sum: Option<String>,
}

/// Body of `POST /v1/sape/proposals` and `PUT /v1/sape/proposals/{id}`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    /// The call.
    pub call_id: i64,
    /// Title.
    pub title: String,
    /// Acronym.
    pub acronym: String,
    /// The Province's role.
    pub province_role: ProvinceRole,
    /// ISTAT codes of the Comuni of this Province involved.
    #[serde(default)]
    pub comuni: Vec<String>,
    /// Partners with their budgets.
    #[serde(default)]
    pub partners: Vec<PartnerInput>,
    /// Work packages.
    #[serde(default)]
    pub work_packages: Vec<WorkPackageInput>,
}

/// A budget in euro as decimal text, computed by the server.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    /// A: personnel.
    pub personnel: String,
    /// B: subcontracting.
    pub subcontracting: String,
    /// C: purchase costs.
    pub purchase: String,
    /// D: other cost categories.
    pub other: String,
    /// E: indirect costs (25 % of A + C + D).
    pub indirect: String,
    /// Total eligible costs.
    pub total: String,
    /// Requested EU contribution.
    pub eu_contribution: String,
    /// Co-financing by the partner.
    pub cofinancing: String,
}

impl From<Budget> for BudgetView {
    fn from(b: Budget) -> BudgetView {
        BudgetView {
            personnel: decimal(b.personnel),
            subcontracting: decimal(b.subcontracting),
            purchase: decimal(b.purchase),
            other: decimal(b.other),
            indirect: decimal(b.indirect),
            total: decimal(b.total),
            eu_contribution: decimal(b.eu_contribution),
            cofinancing: decimal(b.cofinancing),
        }
    }
}

/// A partner with its inputs and computed budget.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerView {
    /// What was entered (amounts as decimal text).
    #[serde(flatten)]
    pub input: PartnerInput,
    /// The budget computed from it.
    pub budget: BudgetView,
}

/// A lump-sum proposal's balance: the grant is split into the work packages' lump sums, which
/// must add up to the EU contribution the partners' budgets request before it is submitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LumpSumView {
    /// The work packages' lump sums, euro.
    pub work_packages: String,
    /// The EU contribution requested by the partners' budgets, euro.
    pub requested: String,
    /// Whether they are equal (every work package with its lump sum).
    pub balanced: bool,
}

/// The lump-sum balance of `record` (cents of the work packages, of the request, balanced).
pub fn lump_sum_balance(record: &ProposalRecord) -> (i64, i64, bool) {
    let work_packages: i64 = record
        .work_packages
        .iter()
        .filter_map(|wp| wp.lump_sum)
        .sum();
    let requested: i64 = record
        .partners
        .iter()
        .map(|p| budget(&p.budget).eu_contribution)
        .sum();
    let complete = !record.work_packages.is_empty()
        && record.work_packages.iter().all(|wp| wp.lump_sum.is_some());
    (
        work_packages,
        requested,
        complete && work_packages == requested,
    )
}

/// One move of a proposal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SapeTransitionView)]
pub struct TransitionView {
    /// State before (none for the creation).
    pub from: Option<ProposalState>,
    /// State after.
    pub to: ProposalState,
    /// Why.
    pub reason: String,
    /// Who, by name.
    pub actor: String,
    /// RFC 3339 UTC.
    pub at: String,
}

/// A proposal as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    /// Id.
    pub id: i64,
    /// The call.
    pub call_id: i64,
    /// The call's identifier.
    pub call_identifier: String,
    /// The call's title.
    pub call_title: String,
    /// Title.
    pub title: String,
    /// Acronym.
    pub acronym: String,
    /// The Province's role.
    pub province_role: ProvinceRole,
    /// State.
    pub state: ProposalState,
    /// ISTAT codes of the Comuni involved.
    pub comuni: Vec<String>,
    /// Partners with their budgets.
    pub partners: Vec<PartnerView>,
    /// Work packages.
    pub work_packages: Vec<WorkPackageInput>,
    /// The sum of the partners' budgets.
    pub total: BudgetView,
    /// What the funder decided and paid (score, threshold, CUP, amounts per partner).
    pub outcome: crate::sape::outcome::OutcomeInput,
    /// For a lump-sum call: the work packages' lump sums against the EU contribution the
    /// partners' budgets request (only in the answer about one proposal).
    pub lump_sum: Option<LumpSumView>,
    /// States the caller may move it to now (only in the answer about one proposal).
    pub allowed_transitions: Vec<ProposalState>,
    /// Its moves, oldest first, the creation first (only in the answer about one proposal).
    pub history: Vec<TransitionView>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

fn quantity_text(hundredths: i64) -> String {
    if hundredths % 100 == 0 {
        (hundredths / 100).to_string()
    } else {
        decimal(hundredths)
    }
}

impl From<ProposalRow> for ProposalView {
    fn from(row: ProposalRow) -> ProposalView {
        let r = row.record;
        let mut total = Budget::default();
        let partners = r
            .partners
            .into_iter()
            .map(|p| {
                let b = budget(&p.budget);
                total = total + b;
                PartnerView {
                    input: PartnerInput {
                        name: p.name,
                        country: p.country,
                        pic: p.pic,
                        role: p.role,
                        comune_code: p.comune_code,
                        personnel_unit: p.budget.personnel_unit,
                        personnel_quantity: quantity_text(p.budget.personnel_quantity),
                        personnel_rate: decimal(p.budget.personnel_rate),
                        subcontracting: decimal(p.budget.subcontracting),
                        travel: decimal(p.budget.travel),
                        equipment: decimal(p.budget.equipment),
                        other_goods: decimal(p.budget.other_goods),
                        other_costs: decimal(p.budget.other_costs),
                        funding_rate: Some(p.budget.funding_rate),
                    },
                    budget: b.into(),
                }
            })
            .collect();
        ProposalView {
            id: row.id,
            call_id: r.call_id,
            call_identifier: row.call.0,
            call_title: row.call.1,
            title: r.title,
            acronym: r.acronym,
            province_role: r.province_role,
            state: row.state,
            comuni: r.comuni,
            partners,
            work_packages: r
                .work_packages
                .into_iter()
                .map(|wp| WorkPackageInput {
                    number: wp.number,
                    title: wp.title,
                    lead: wp.lead,
                    start_month: wp.start_month,
                    end_month: wp.end_month,
                    lump_sum: wp.lump_sum.map(decimal),
                })
                .collect(),
            total: total.into(),
            outcome: crate::sape::outcome::view(&row.outcome),
            lump_sum: None,
            allowed_transitions: Vec::new(),
            history: Vec::new(),
            created_at: db::rfc3339(row.created_at),
            updated_at: db::rfc3339(row.updated_at),
        }
    }
}

/// Checks a partner (`field` is its place, `partners[0]`), with the call's funding rate as
/// the default.
fn check_partner(
    errors: &mut FieldErrors,
    field: &str,
    input: &PartnerInput,
    call_rate: Option<u8>,
) -> PartnerRecord {
    let f = |name: &str| format!("{field}.{name}");
    let name = errors.check(&f("name"), required_text(&input.name, 300));
    let country = input.country.trim().to_ascii_uppercase();
    if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
        errors.add(
            f("country"),
            "Il paese è il codice ISO di due lettere, ad esempio IT.",
        );
    }
    let pic = input
        .pic
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    match &pic {
        Some(pic) if !is_pic(pic) => {
            errors.add(
                f("pic"),
                "Il PIC è il codice di 9 cifre del partecipante UE.",
            );
        }
        None if input.role != PartnerRole::AssociatedPartner => {
            errors.add(
                f("pic"),
                "Indica il PIC (9 cifre): lo hanno tutti i beneficiari.",
            );
        }
        _ => {}
    }
    let comune_code = input
        .comune_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let money = |errors: &mut FieldErrors, name: &str, text: &str| {
        errors.check(&f(name), parse_money(text, true)).unwrap_or(0)
    };
    let quantity = errors
        .check(
            &f("personnel_quantity"),
            parse_quantity(&input.personnel_quantity),
        )
        .unwrap_or(0);
    let funding_rate = input.funding_rate.or(call_rate).unwrap_or(100);
    if funding_rate > 100 {
        errors.add(
            f("funding_rate"),
            "Il tasso di finanziamento va da 0 a 100 %.",
        );
    }
    PartnerRecord {
        name: name.unwrap_or_default(),
        country,
        pic,
        role: input.role,
        comune_code,
        budget: BudgetInput {
            personnel_unit: input.personnel_unit,
            personnel_quantity: quantity,
            personnel_rate: money(errors, "personnel_rate", &input.personnel_rate),
            subcontracting: money(errors, "subcontracting", &input.subcontracting),
            travel: money(errors, "travel", &input.travel),
            equipment: money(errors, "equipment", &input.equipment),
            other_goods: money(errors, "other_goods", &input.other_goods),
            other_costs: money(errors, "other_costs", &input.other_costs),
            funding_rate: funding_rate.min(100),
        },
    }
}

/// Checks a proposal against the stored call and Comuni, inside the writing transaction.
fn check_proposal(
    conn: &rusqlite::Connection,
    input: &ProposalInput,
) -> Result<ProposalRecord, AppError> {
    let mut errors = FieldErrors::default();
    let call = store::get_call(conn, input.call_id)?;
    if call.is_none() {
        errors.add("call_id", "Il bando scelto non è nel catalogo.");
    }
    let call_rate = call.as_ref().and_then(|c| c.record.funding_rate);
    let lump_sum_call = call
        .as_ref()
        .is_some_and(|c| lump_sum_of(&c.record.type_of_action));
    let title = errors.check("title", required_text(&input.title, 500));
    let acronym = errors.check("acronym", required_text(&input.acronym, 40));
    let mut comuni = input
        .comuni
        .iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>();
    comuni.sort();
    comuni.dedup();
    for code in &comuni {
        if db::comuni::name_of(conn, code)?.is_none() {
            errors.add(
                "comuni",
                format!("{code} non è un Comune di questa Provincia."),
            );
        }
    }
    let mut partners = Vec::new();
    for (n, partner) in input.partners.iter().enumerate() {
        let record = check_partner(&mut errors, &format!("partners[{n}]"), partner, call_rate);
        if let Some(code) = &record.comune_code {
            if db::comuni::name_of(conn, code)?.is_none() {
                errors.add(
                    format!("partners[{n}].comune_code"),
                    format!("{code} non è un Comune di questa Provincia."),
                );
            } else if !comuni.contains(code) {
                comuni.push(code.clone());
            }
        }
        partners.push(record);
    }
    if partners
        .iter()
        .filter(|p| p.role == PartnerRole::Coordinator)
        .count()
        > 1
    {
        errors.add("partners", "Il consorzio ha un solo coordinatore.");
    }
    let mut work_packages = Vec::new();
    for (n, wp) in input.work_packages.iter().enumerate() {
        let field = |name: &str| format!("work_packages[{n}].{name}");
        let title = errors.check(&field("title"), required_text(&wp.title, 300));
        let lead = errors.check(&field("lead"), optional_text(&wp.lead, 300, Lines::One));
        if wp.number < 1
            || work_packages
                .iter()
                .any(|w: &WorkPackageRecord| w.number == wp.number)
        {
            errors.add(
                field("number"),
                "Ogni pacchetto di lavoro ha un numero diverso, da 1.",
            );
        }
        if wp.start_month < 1 || wp.end_month < wp.start_month {
            errors.add(
                field("end_month"),
                "I mesi vanno da 1 e la fine non precede l'inizio.",
            );
        }
        let lump_sum = match wp.lump_sum.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(_) if !lump_sum_call => {
                errors.add(
                    field("lump_sum"),
                    "Il bando non è a somma forfettaria: il contributo si calcola dai costi dei partner.",
                );
                None
            }
            Some(text) => errors.check(&field("lump_sum"), parse_money(text, false)),
        };
        work_packages.push(WorkPackageRecord {
            number: wp.number,
            title: title.unwrap_or_default(),
            lead: lead.unwrap_or_default(),
            start_month: wp.start_month,
            end_month: wp.end_month,
            lump_sum,
        });
    }
    errors.finish()?;
    comuni.sort();
    Ok(ProposalRecord {
        call_id: input.call_id,
        title: title.unwrap_or_default(),
        acronym: acronym.unwrap_or_default(),
        province_role: input.province_role,
        comuni,
        partners,
        work_packages,
    })
}

/// Creates a proposal (state `idea`).
pub async fn create_proposal(
    state: &AppState,
    identity: &Identity,
    input: ProposalInput,
) -> Result<ProposalView, AppError> {
    policy::authorize(identity, Action::ManageProposals)?;
    let user = identity.require_user()?.id;
    let signer = state.signer.clone();
    let display_name = crate::lifecycle::display_name(identity);
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let record = check_proposal(&tx, &input)?;
            let id = store::insert_proposal(&tx, &record, user, now)?;
            PROPOSALS.record_creation(&tx, id, ProposalState::Idea, "", &display_name, now)?;
            audit::record(
                &tx,
                &actor,
                "sape.proposal.create",
                &format!("sape_proposal:{id}"),
                &json!({"call": record.call_id, "acronym": record.acronym}),
                now,
            )?;
            national::refresh_proposal(&tx, &signer, id)?;
            let row = store::get_proposal(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(ProposalView::from(row))
        })
        .await
}

/// Whether a proposal's content can still change in `state`: while it is an idea, in
/// preparation, or written again for the second stage; what was submitted stays as it was.
pub fn is_editable(state: ProposalState) -> bool {
    matches!(
        state,
        ProposalState::Idea | ProposalState::InPreparation | ProposalState::SecondStage
    )
}

/// Replaces a proposal's content (its state does not change here); 409 once it is submitted
/// (see [`is_editable`]).
pub async fn update_proposal(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: ProposalInput,
) -> Result<ProposalView, AppError> {
    policy::authorize(identity, Action::ManageProposals)?;
    let actor = identity.actor();
    let refresh = move |tx: &rusqlite::Connection, signer: &crate::federation::Signer| {
        national::refresh_proposal(tx, signer, id)
    };
    lifecycle::write_national(state, refresh, move |tx, now| {
        let current = store::get_proposal(tx, id)?.ok_or(AppError::NotFound)?;
        if !is_editable(current.state) {
            return Err(AppError::Conflict {
                code: "proposal_submitted",
                detail: format!(
                    "La proposta è nello stato «{}»: il suo contenuto è quello presentato e non si modifica più. Registra l'esito e gli importi nella sezione «Esito».",
                    current.state.label()
                ),
            });
        }
        let record = check_proposal(tx, &input)?;
        store::update_proposal(tx, id, &record, now)?;
        audit::record(
            tx,
            &actor,
            "sape.proposal.update",
            &format!("sape_proposal:{id}"),
            &json!({"acronym": record.acronym}),
            now,
        )?;
        let row = store::get_proposal(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(ProposalView::from(row))
    })
    .await
}

/// One proposal, if the caller may see it (404 for a Comune that is not in it), with its
/// history and the moves the caller may make.
pub async fn proposal_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<ProposalView, AppError> {
    identity.require_user()?;
    let (row, history, two_stage, lump_sum) = state
        .db
        .call(move |conn| {
            let row = store::get_proposal(conn, id)?.ok_or(AppError::NotFound)?;
            let call = store::get_call(conn, row.record.call_id)?;
            let two_stage = call
                .as_ref()
                .is_some_and(|call| call.record.deadline_model == DeadlineModel::TwoStage);
            let lump_sum = call
                .as_ref()
                .is_some_and(|call| lump_sum_of(&call.record.type_of_action));
            Ok::<_, AppError>((row, PROPOSALS.history(conn, id)?, two_stage, lump_sum))
        })
        .await?;
    policy::authorize(
        identity,
        Action::ViewProposal {
            comuni: &row.record.comuni,
        },
    )?;
    let allowed = PROPOSALS.allowed(identity, &row.record.comuni, row.state);
    let balance = lump_sum.then(|| lump_sum_balance(&row.record));
    let mut view = ProposalView::from(row);
    view.lump_sum = balance.map(|(work_packages, requested, balanced)| LumpSumView {
        work_packages: decimal(work_packages),
        requested: decimal(requested),
        balanced,
    });
    view.allowed_transitions = allowed
        .into_iter()
        .filter(|to| two_stage || *to != ProposalState::SecondStage)
        .collect();
    view.history = history
        .into_iter()
        .map(|step| TransitionView {
            from: step.from,
            to: step.to,
            reason: step.reason,
            actor: step.actor,
            at: db::rfc3339(step.at),
        })
        .collect();
    Ok(view)
}

/// Body of `POST /v1/sape/proposals/{id}/transitions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = SapeNewTransition)]
#[serde(deny_unknown_fields)]
pub struct NewTransition {
    /// The state asked for.
    pub state: ProposalState,
    /// The state the caller saw; if the proposal has left it the move is refused (409
    /// `stale_state`). The current state when absent.
    #[serde(default)]
    pub from: Option<ProposalState>,
    /// Why (kept in the history).
    #[serde(default)]
    pub reason: String,
}

/// Moves a proposal along its lifecycle ([`PROPOSALS`]): 404 for a Comune not in it, 403 for
/// a move its role may not make, 409 for a move the machine does not have (or a second stage
/// of a call that has none) and for a stale request.
pub async fn transition_proposal(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: NewTransition,
) -> Result<ProposalView, AppError> {
    let mut errors = FieldErrors::default();
    let reason = errors
        .check("reason", optional_text(&input.reason, 2000, Lines::Many))
        .unwrap_or_default();
    errors.finish()?;
    let (row, two_stage, lump_sum) = state
        .db
        .call(move |conn| {
            let row = store::get_proposal(conn, id)?.ok_or(AppError::NotFound)?;
            let call = store::get_call(conn, row.record.call_id)?;
            let two_stage = call
                .as_ref()
                .is_some_and(|call| call.record.deadline_model == DeadlineModel::TwoStage);
            let lump_sum = call
                .as_ref()
                .is_some_and(|call| lump_sum_of(&call.record.type_of_action));
            Ok::<_, AppError>((row, two_stage, lump_sum))
        })
        .await?;
    policy::authorize(
        identity,
        Action::ViewProposal {
            comuni: &row.record.comuni,
        },
    )?;
    let from = input.from.unwrap_or(row.state);
    if input.state == ProposalState::SecondStage && !two_stage {
        PROPOSALS.authorize(identity, &row.record.comuni, from, input.state)?;
        return Err(AppError::Conflict {
            code: "invalid_transition",
            detail: "Il bando della proposta ha una sola fase: non c'è una seconda fase.".into(),
        });
    }
    if lump_sum && input.state == ProposalState::Submitted {
        let (work_packages, requested, balanced) = lump_sum_balance(&row.record);
        if !balanced {
            PROPOSALS.authorize(identity, &row.record.comuni, from, input.state)?;
            return Err(AppError::Conflict {
                code: "lump_sum_unbalanced",
                detail: format!(
                    "Il bando è a somma forfettaria: ogni pacchetto di lavoro ha la sua somma e insieme fanno il contributo UE richiesto ({}); ora fanno {}.",
                    pico_service::format::euro_cents(requested),
                    pico_service::format::euro_cents(work_packages),
                ),
            });
        }
    }
    let owners = row.record.comuni;
    let step_identity = identity.clone();
    let signer = state.signer.clone();
    state
        .db
        .call(move |conn| {
            let step = crate::lifecycle::Step::new(&step_identity, &owners, id, from, input.state)
                .reason(&reason);
            PROPOSALS.transition(conn, &step, |tx| {
                store::touch_proposal(tx, id, step.now)?;
                national::refresh_proposal(tx, &signer, id)
            })
        })
        .await?;
    proposal_detail(state, identity, id).await
}

/// Proposals the caller may see, newest first: all for SAPE staff, those with its Comune for
/// a Comune user; only those for `call` if given.
pub async fn list_proposals(
    state: &AppState,
    identity: &Identity,
    call: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<ProposalView>, AppError> {
    policy::authorize(identity, Action::ViewCalls)?;
    let comune = identity
        .require_user()?
        .roles
        .comune()
        .map(|code| code.as_str().to_owned());
    state
        .db
        .call(move |conn| {
            let rows = store::list_proposals(conn, comune.as_deref(), call, before, limit)?;
            Ok(rows.into_iter().map(ProposalView::from).collect())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_are_quoted_prefixes() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("\"*()"), None);
        assert_eq!(
            fts_query("Clean energy"),
            Some("\"clean\"* \"energy\"*".into())
        );
        assert_eq!(
            fts_query("HORIZON-CL5-2024 AND"),
            Some("\"horizon cl5 2024\"* \"and\"*".into())
        );
    }

    #[test]
    fn money_and_quantities() {
        assert_eq!(parse_money("1.234,56", false), Ok(123_456));
        assert_eq!(parse_money("", true), Ok(0));
        assert!(parse_money("", false).is_err());
        assert!(
            parse_money("-5", true)
                .unwrap_err()
                .contains("non è un importo")
        );
        assert_eq!(parse_quantity("2,5"), Ok(250));
        assert_eq!(decimal(123_456), "1234.56");
        assert_eq!(quantity_text(250), "2.50");
        assert_eq!(quantity_text(1200), "12");
    }
}
