//! SIT operations shared by the API and the pages: each checks the policy, validates what it
//! receives (every message in Italian, named by field) and writes with its audit event in one
//! transaction.

use pico_service::text::{self, Lines};
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Identity;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::helpdesk::ops::{NewRequest, RequestView};
use crate::helpdesk::settings::HelpdeskSettings;
use crate::helpdesk::{Category as HelpdeskCategory, Status as HelpdeskStatus};
use crate::lifecycle::{self, Step};
use crate::sit::db::{
    self as store, Document, MeasureRow, PlatformRow, ServiceRecord, ServiceRow, SubscriptionRow,
};
use crate::sit::national;
use crate::sit::policy::{self, Action};
use crate::sit::population::{self, Residents};
use crate::sit::{
    Audience, Category, Channel, CostModel, Measure, MeasureStatus, Platform, RequestKind,
    SUBSCRIPTIONS, SubscriptionState, THEMES,
};
use crate::state::AppState;

pub use crate::web::form::FieldErrors;

/// Cents as the API's decimal text (`1234.56`).
pub fn decimal(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Hundredths of a percent as the API's decimal text (`99.50`).
pub fn percent_text(bp: i64) -> String {
    decimal(bp)
}

fn required_text(text: &str, max: usize, lines: Lines) -> Result<String, String> {
    text::clean(text, lines, max, true).map_err(|err| err.to_string())
}

fn optional_text(text: &str, max: usize) -> Result<String, String> {
    text::clean(text, Lines::One, max, false).map_err(|err| err.to_string())
}

/// A web address: `https://` or `http://`, no spaces, at most 500 characters.
fn check_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && text.len() <= 500
                && !text.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(text.to_owned())
        }
        _ => Err(format!(
            "«{text}» non è un indirizzo web: scrivilo per intero, come https://www.esempio.it/pagina"
        )),
    }
}

/// An e-mail address: one `@` with a name before and a domain with a dot after.
fn check_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    let valid = text.len() <= 254
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && text.split_once('@').is_some_and(|(name, domain)| {
            !name.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "«{text}» non è un indirizzo email: scrivilo come ufficio@provincia.it"
        ))
    }
}

/// An amount in euro (`1.234,56` or `1234.56`, at most two decimals) as cents.
pub fn parse_money(text: &str) -> Result<i64, String> {
    crate::sua::Euro::parse(text)
        .map(crate::sua::Euro::cents)
        .map_err(|_| {
            format!(
                "«{}» non è un importo in euro: scrivilo come 1.234,56 o 0,15 (al massimo due decimali, non negativo)",
                text.trim()
            )
        })
}

/// A percentage (`99,5`, `99.95 %`) as hundredths of a percent, from 0 to 100.
pub fn parse_percent(text: &str) -> Result<i64, String> {
    let trimmed = text.trim().trim_end_matches('%').trim();
    crate::sua::Euro::parse(trimmed)
        .map(crate::sua::Euro::cents)
        .ok()
        .filter(|bp| *bp <= 10_000)
        .ok_or_else(|| {
            format!(
                "«{}» non è una percentuale: scrivila come 99,5 (da 0 a 100, al massimo due decimali)",
                text.trim()
            )
        })
}

/// Whether `code` can name a service in its URLs: 3 to 60 lowercase letters, digits and
/// hyphens, starting with a letter.
pub fn is_service_code(code: &str) -> bool {
    (3..=60).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Body of a new service or a change: what the catalogue says of it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// The stable code of its URLs (`servizio-pagopa`); only when creating.
    #[serde(default)]
    pub code: String,
    /// Name, 1–200 characters.
    pub name: String,
    /// What it offers, 1–5000 characters.
    pub description: String,
    /// Category.
    pub category: Option<Category>,
    /// Subject matter (schema.gov.it `public-services-subject-matters`, 1–15).
    pub theme: Option<u8>,
    /// Channels, at least one.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Who may use it.
    pub audience: Option<Audience>,
    /// With `under_threshold`: the residents below which a Comune may use it.
    pub population_threshold: Option<i64>,
    /// Conditions of use.
    #[serde(default)]
    pub conditions: String,
    /// How it is paid for.
    pub cost_model: Option<CostModel>,
    /// A year's fee (fixed) or a year's fee per inhabitant, euro as decimal text (`0.15`).
    #[serde(default)]
    pub fee: String,
    /// Hours to the first answer to a request.
    pub first_answer_hours: Option<i64>,
    /// Hours to the resolution of a request.
    pub resolution_hours: Option<i64>,
    /// Availability promised, percent as decimal text (`99.5`).
    #[serde(default)]
    pub availability: String,
    /// The office to contact.
    pub contact_office: String,
    /// Its e-mail.
    pub contact_email: String,
    /// Its telephone.
    #[serde(default)]
    pub contact_phone: String,
    /// Documents (title and address).
    #[serde(default)]
    pub documents: Vec<Document>,
    /// What a Comune provides to use it.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// What it produces.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// The `publiccode.yml` of the software behind it.
    #[serde(default)]
    pub publiccode_url: String,
    /// What changed (kept with the new version).
    #[serde(default)]
    pub note: String,
}

/// Checks a service: the record, or 422 naming every wrong field in Italian.
pub fn check_service(input: &ServiceInput) -> Result<ServiceRecord, AppError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", required_text(&input.name, 200, Lines::One));
    let description = errors.check(
        "description",
        required_text(&input.description, 5000, Lines::Many),
    );
    let category = errors.check(
        "category",
        input
            .category
            .ok_or_else(|| "Scegli la categoria.".to_owned()),
    );
    let theme = errors.check(
        "theme",
        input
            .theme
            .filter(|theme| THEMES.iter().any(|(code, _)| code == theme))
            .ok_or_else(|| "Scegli la materia del servizio dall'elenco.".to_owned()),
    );
    if input.channels.is_empty() {
        errors.add("channels", "Indica almeno un canale di erogazione.");
    }
    let mut channels = Vec::new();
    for channel in &input.channels {
        if !channels.contains(channel) {
            channels.push(*channel);
        }
    }
    let audience = errors.check(
        "audience",
        input
            .audience
            .ok_or_else(|| "Indica a quali Comuni è rivolto.".to_owned()),
    );
    let population_threshold = match (audience, input.population_threshold) {
        (Some(Audience::UnderThreshold), Some(threshold)) if threshold > 0 => Some(threshold),
        (Some(Audience::UnderThreshold), _) => {
            errors.add(
                "population_threshold",
                "Indica la soglia di popolazione: un numero intero di abitanti maggiore di zero.",
            );
            None
        }
        (_, Some(_)) => {
            errors.add(
                "population_threshold",
                "La soglia vale solo per i servizi rivolti ai Comuni sotto una soglia di popolazione: lasciala vuota.",
            );
            None
        }
        _ => None,
    };
    let conditions = errors.check(
        "conditions",
        text::clean(&input.conditions, Lines::Many, 5000, false).map_err(|err| err.to_string()),
    );
    let cost_model = errors.check(
        "cost_model",
        input
            .cost_model
            .ok_or_else(|| "Scegli il modello di costo.".to_owned()),
    );
    let fee_cents = match cost_model {
        Some(CostModel::Free) if input.fee.trim().is_empty() => Some(0),
        Some(CostModel::Free) => errors.check(
            "fee",
            parse_money(&input.fee).and_then(|cents| {
                if cents == 0 {
                    Ok(0)
                } else {
                    Err("Un servizio gratuito non ha quota: lascia vuoto l'importo.".to_owned())
                }
            }),
        ),
        Some(_) if input.fee.trim().is_empty() => {
            errors.add("fee", "Indica la quota annua in euro.");
            None
        }
        Some(_) => errors.check(
            "fee",
            parse_money(&input.fee).and_then(|cents| {
                if cents > 0 {
                    Ok(cents)
                } else {
                    Err("La quota deve essere maggiore di zero (o scegli «Gratuito»).".to_owned())
                }
            }),
        ),
        None => None,
    };
    let hours = |value: Option<i64>| {
        value
            .filter(|hours| (1..=8760).contains(hours))
            .ok_or_else(|| "Indica un numero intero di ore, da 1 a 8760.".to_owned())
    };
    let first_answer_hours = errors.check("first_answer_hours", hours(input.first_answer_hours));
    let resolution_hours = errors.check("resolution_hours", hours(input.resolution_hours));
    if let (Some(first), Some(resolution)) = (first_answer_hours, resolution_hours)
        && resolution < first
    {
        errors.add(
            "resolution_hours",
            "Il tempo di risoluzione non può essere minore del tempo di prima risposta.",
        );
    }
    let availability_bp = errors.check("availability", parse_percent(&input.availability));
    let contact_office = errors.check(
        "contact_office",
        required_text(&input.contact_office, 200, Lines::One),
    );
    let contact_email = errors.check("contact_email", check_email(&input.contact_email));
    let contact_phone = errors.check("contact_phone", optional_text(&input.contact_phone, 40));
    if let Some(phone) = &contact_phone
        && !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '/' | '-' | '.'))
    {
        errors.add(
            "contact_phone",
            "Il telefono contiene solo cifre, spazi e i segni + / - .",
        );
    }
    let mut documents = Vec::new();
    for (index, document) in input.documents.iter().enumerate() {
        let title = errors.check(
            &format!("documents[{index}].title"),
            required_text(&document.title, 200, Lines::One).and_then(|title| {
                if title.contains(" | ") {
                    Err("Il titolo non può contenere « | ».".to_owned())
                } else {
                    Ok(title)
                }
            }),
        );
        let url = errors.check(&format!("documents[{index}].url"), check_url(&document.url));
        if let (Some(title), Some(url)) = (title, url) {
            documents.push(Document { title, url });
        }
    }
    let mut list = |field: &str, items: &[String]| {
        let mut kept = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(item) = errors.check(
                &format!("{field}[{index}]"),
                required_text(item, 200, Lines::One),
            ) {
                kept.push(item);
            }
        }
        kept
    };
    let inputs = list("inputs", &input.inputs);
    let outputs = list("outputs", &input.outputs);
    let publiccode_url = if input.publiccode_url.trim().is_empty() {
        Some(String::new())
    } else {
        errors.check(
            "publiccode_url",
            check_url(&input.publiccode_url).and_then(|url| {
                if url.ends_with("publiccode.yml") || url.ends_with("publiccode.yaml") {
                    Ok(url)
                } else {
                    Err("L'indirizzo deve portare al file publiccode.yml del software.".to_owned())
                }
            }),
        )
    };
    errors.finish()?;
    let missing = || AppError::Internal("a checked field is missing".into());
    Ok(ServiceRecord {
        name: name.ok_or_else(missing)?,
        description: description.ok_or_else(missing)?,
        category: category.ok_or_else(missing)?,
        theme: theme.ok_or_else(missing)?,
        channels,
        audience: audience.ok_or_else(missing)?,
        population_threshold,
        conditions: conditions.ok_or_else(missing)?,
        cost_model: cost_model.ok_or_else(missing)?,
        fee_cents: fee_cents.ok_or_else(missing)?,
        first_answer_hours: first_answer_hours.ok_or_else(missing)?,
        resolution_hours: resolution_hours.ok_or_else(missing)?,
        availability_bp: availability_bp.ok_or_else(missing)?,
        contact_office: contact_office.ok_or_else(missing)?,
        contact_email: contact_email.ok_or_else(missing)?,
        contact_phone: contact_phone.ok_or_else(missing)?,
        documents,
        inputs,
        outputs,
        publiccode_url: publiccode_url.ok_or_else(missing)?,
    })
}

/// A catalogue service as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    /// The stable code of its URLs.
    pub code: String,
    /// Current version.
    pub version: i64,
    /// What it says.
    #[serde(flatten)]
    pub record: ServiceRecord,
    /// The fee as decimal euro text (`0.15`).
    pub fee: String,
    /// Availability as decimal percent text (`99.50`).
    pub availability: String,
    /// Whether it was withdrawn.
    pub withdrawn: bool,
    /// When, RFC 3339 UTC.
    pub withdrawn_at: Option<String>,
    /// Why.
    pub withdrawn_reason: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

impl From<ServiceRow> for ServiceView {
    fn from(row: ServiceRow) -> ServiceView {
        ServiceView {
            code: row.code,
            version: row.version,
            fee: decimal(row.record.fee_cents),
            availability: percent_text(row.record.availability_bp),
            record: row.record,
            withdrawn: row.withdrawn_at.is_some(),
            withdrawn_at: row.withdrawn_at.map(db::rfc3339),
            withdrawn_reason: row.withdrawn_reason,
            created_at: db::rfc3339(row.created_at),
            updated_at: db::rfc3339(row.updated_at),
        }
    }
}

/// One kept version of a service.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    /// Its number.
    pub version: i64,
    /// What the service said then.
    pub record: ServiceRecord,
    /// What changed.
    pub note: String,
    /// Who wrote it.
    pub changed_by: String,
    /// When, RFC 3339 UTC.
    pub changed_at: String,
}

impl From<store::VersionRow> for VersionView {
    fn from(row: store::VersionRow) -> VersionView {
        VersionView {
            version: row.version,
            record: row.record,
            note: row.note,
            changed_by: row.changed_by,
            changed_at: db::rfc3339(row.changed_at),
        }
    }
}

/// A service with its versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceDetail {
    /// The service now.
    pub service: ServiceView,
    /// Every version, newest first (the current one included).
    pub versions: Vec<VersionView>,
}

fn load_service(conn: &Connection, code: &str) -> Result<ServiceRow, AppError> {
    store::get_service(conn, code)?.ok_or(AppError::NotFound)
}

/// The catalogue: the services offered (and the withdrawn ones if `withdrawn`). Public.
pub async fn list_services(
    state: &AppState,
    withdrawn: bool,
) -> Result<Vec<ServiceView>, AppError> {
    state
        .db
        .call(move |conn| {
            Ok(store::list_services(conn, withdrawn)?
                .into_iter()
                .map(ServiceView::from)
                .collect())
        })
        .await
}

/// One service with its versions. Public.
pub async fn service_detail(state: &AppState, code: String) -> Result<ServiceDetail, AppError> {
    state
        .db
        .call(move |conn| {
            let row = load_service(conn, &code)?;
            let versions = store::versions(conn, row.id)?;
            Ok(ServiceDetail {
                service: row.into(),
                versions: versions.into_iter().map(VersionView::from).collect(),
            })
        })
        .await
}

/// Version `version` of service `code`. Public.
pub async fn service_version(
    state: &AppState,
    code: String,
    version: i64,
) -> Result<VersionView, AppError> {
    state
        .db
        .call(move |conn| {
            let row = load_service(conn, &code)?;
            Ok(store::version(conn, row.id, version)?
                .ok_or(AppError::NotFound)?
                .into())
        })
        .await
}

/// Adds a service to the catalogue, as version 1.
pub async fn create_service(
    state: &AppState,
    identity: &Identity,
    input: &ServiceInput,
) -> Result<ServiceView, AppError> {
    policy::authorize(identity, Action::ManageCatalogue)?;
    let code = input.code.trim().to_owned();
    let record = match (is_service_code(&code), check_service(input)) {
        (true, result) => result?,
        (false, result) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "code",
                "Il codice ha da 3 a 60 caratteri: lettere minuscole, cifre e trattini, e comincia con una lettera (es. ufficio-transizione-digitale).",
            );
            if let Err(error) = result {
                for (field, message) in crate::web::form::field_messages(&error) {
                    errors.add(field, message);
                }
            }
            return Err(errors
                .finish()
                .err()
                .unwrap_or_else(|| AppError::Internal("no field message".into())));
        }
    };
    let actor = identity.actor();
    let who = lifecycle::display_name(identity);
    let note = optional_text(&input.note, 500)
        .map_err(|message| AppError::invalid_field("note", message))?;
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        if store::get_service(tx, &code)?.is_some() {
            return Err(AppError::invalid_field(
                "code",
                format!("Il codice {code} è già usato da un altro servizio del catalogo."),
            ));
        }
        let id = store::insert_service(tx, &code, &record, now)?;
        let note = if note.is_empty() {
            "Prima versione".to_owned()
        } else {
            note
        };
        store::insert_version(tx, id, 1, &record, &note, &who, now)?;
        audit::record(
            tx,
            &actor,
            "sit.service.create",
            &format!("sit_service:{id}"),
            &json!({"code": code}),
            now,
        )?;
        let row = store::get_service_by_id(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(row.into())
    })
    .await
}

/// Changes a service: its current text becomes a new version, the previous ones stay
/// readable. A withdrawn service is not changed any more (409).
pub async fn update_service(
    state: &AppState,
    identity: &Identity,
    code: String,
    input: &ServiceInput,
) -> Result<ServiceView, AppError> {
    policy::authorize(identity, Action::ManageCatalogue)?;
    let record = check_service(input)?;
    let note = optional_text(&input.note, 500)
        .map_err(|message| AppError::invalid_field("note", message))?;
    let actor = identity.actor();
    let who = lifecycle::display_name(identity);
    let signer = state.signer.clone();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = load_service(&tx, &code)?;
            if row.withdrawn_at.is_some() {
                return Err(withdrawn());
            }
            if row.record == record {
                let row: ServiceView = row.into();
                return Ok(row);
            }
            let version = row.version + 1;
            store::update_service(&tx, row.id, version, &record, now)?;
            let note = if note.is_empty() {
                "Modifica".to_owned()
            } else {
                note
            };
            store::insert_version(&tx, row.id, version, &record, &note, &who, now)?;
            audit::record(
                &tx,
                &actor,
                "sit.service.update",
                &format!("sit_service:{}", row.id),
                &json!({"code": code, "version": version}),
                now,
            )?;
            let row = store::get_service_by_id(&tx, row.id)?.ok_or(AppError::NotFound)?;
            national::refresh(&tx, &signer)?;
            tx.commit()?;
            Ok(row.into())
        })
        .await
}

fn withdrawn() -> AppError {
    AppError::Conflict {
        code: "service_withdrawn",
        detail:
            "Il servizio è stato ritirato dal catalogo: non si può più modificare né richiedere."
                .into(),
    }
}

/// Body of a withdrawal.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawInput {
    /// Why, for the subscribers (they read it on their dashboard), 1–1000 characters.
    pub reason: String,
}

/// Withdraws a service from the catalogue: it stays readable with its reason, its
/// subscribers see it on their dashboard, nobody can subscribe any more.
pub async fn withdraw_service(
    state: &AppState,
    identity: &Identity,
    code: String,
    input: &WithdrawInput,
) -> Result<ServiceView, AppError> {
    policy::authorize(identity, Action::ManageCatalogue)?;
    let reason = required_text(&input.reason, 1000, Lines::Many)
        .map_err(|message| AppError::invalid_field("reason", message))?;
    let actor = identity.actor();
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        let row = load_service(tx, &code)?;
        if !store::withdraw_service(tx, row.id, &reason, now)? {
            return Err(withdrawn());
        }
        audit::record(
            tx,
            &actor,
            "sit.service.withdraw",
            &format!("sit_service:{}", row.id),
            &json!({"code": code}),
            now,
        )?;
        let row = store::get_service_by_id(tx, row.id)?.ok_or(AppError::NotFound)?;
        Ok(row.into())
    })
    .await
}

/// What a Comune would pay for a service.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeeView {
    /// The service.
    pub service: String,
    /// The Comune.
    pub comune_code: String,
    /// How the fee is computed.
    pub cost_model: CostModel,
    /// Residents counted (ISTAT, 1 January of `population_year`), for a fee per inhabitant.
    pub residents: Option<u64>,
    /// The year of the count.
    pub population_year: Option<u16>,
    /// The yearly fee, euro as decimal text.
    pub yearly_fee: String,
    /// Whether the Comune may use the service (population threshold).
    pub eligible: bool,
}

/// Whether a Comune with `residents` may use a service for `audience`.
pub fn eligible(record: &ServiceRecord, residents: Option<Residents>) -> bool {
    match (record.audience, record.population_threshold) {
        (Audience::All, _) => true,
        (Audience::UnderThreshold, Some(threshold)) => {
            residents.is_some_and(|r| i64::try_from(r.count).unwrap_or(i64::MAX) < threshold)
        }
        (Audience::UnderThreshold, None) => false,
    }
}

/// The yearly fee of service `code` for Comune `comune`. Public.
pub async fn service_fee(
    state: &AppState,
    code: String,
    comune: String,
) -> Result<FeeView, AppError> {
    state
        .db
        .call(move |conn| {
            let row = load_service(conn, &code)?;
            if store::comuni(conn)?.iter().all(|(c, _)| *c != comune) {
                return Err(AppError::invalid_field(
                    "comune",
                    format!("{comune} non è un Comune di questa Provincia."),
                ));
            }
            let residents = population::residents(&comune);
            let fee = population::yearly_fee(row.record.cost_model, row.record.fee_cents, &comune)
                .ok_or_else(|| {
                    AppError::invalid_field(
                        "comune",
                        format!("L'ISTAT non ha la popolazione residente di {comune}."),
                    )
                })?;
            Ok(FeeView {
                service: row.code,
                comune_code: comune,
                cost_model: row.record.cost_model,
                residents: residents.map(|r| r.count),
                population_year: residents.map(|r| r.year),
                yearly_fee: decimal(fee),
                eligible: eligible(&row.record, residents),
            })
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Subscriptions

/// Body of a subscription request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// The service's code.
    pub service: String,
    /// What the Comune expects, for the office (may be empty).
    #[serde(default)]
    pub note: String,
}

/// One step of a subscription's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionStepView {
    /// State before (null for the request).
    pub from: Option<SubscriptionState>,
    /// State after.
    pub to: SubscriptionState,
    /// Reason given.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// A subscription as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    /// Id.
    pub id: i64,
    /// The service's code.
    pub service: String,
    /// Its name.
    pub service_name: String,
    /// Whether the service was withdrawn from the catalogue.
    pub service_withdrawn: bool,
    /// Why it was withdrawn.
    pub service_withdrawn_reason: String,
    /// The Comune.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// State.
    pub state: SubscriptionState,
    /// The Comune's note.
    pub note: String,
    /// The agreement's reference.
    pub agreement_ref: String,
    /// The agreement's start date, `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

impl From<SubscriptionRow> for SubscriptionView {
    fn from(row: SubscriptionRow) -> SubscriptionView {
        SubscriptionView {
            id: row.id,
            service: row.service_code,
            service_name: row.service_name,
            service_withdrawn: row.service_withdrawn_at.is_some(),
            service_withdrawn_reason: row.service_withdrawn_reason,
            comune_code: row.comune_code,
            comune_name: row.comune_name,
            state: row.state,
            note: row.note,
            agreement_ref: row.agreement_ref,
            start_date: row.start_date,
            created_at: db::rfc3339(row.created_at),
            updated_at: db::rfc3339(row.updated_at),
        }
    }
}

/// A subscription with its history and the caller's possible moves.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionDetail {
    /// The subscription.
    pub subscription: SubscriptionView,
    /// States the caller may move it to now.
    pub allowed_transitions: Vec<SubscriptionState>,
    /// Its history, oldest first.
    pub history: Vec<SubscriptionStepView>,
}

/// A Comune user asks to subscribe its Comune to a service.
pub async fn create_subscription(
    state: &AppState,
    identity: &Identity,
    input: &NewSubscription,
) -> Result<SubscriptionView, AppError> {
    let user = identity.require_user()?.clone();
    let comune = user
        .roles
        .comune()
        .map(|code| code.as_str().to_owned())
        .ok_or(AppError::Forbidden)?;
    policy::authorize(identity, Action::Subscribe { comune: &comune })?;
    let note = text::clean(&input.note, Lines::Many, 2000, false)
        .map_err(|err| AppError::invalid_field("note", err.to_string()))?;
    let code = input.service.trim().to_owned();
    let actor = identity.actor();
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        let service = store::get_service(tx, &code)?
            .ok_or_else(|| AppError::invalid_field("service", "Il servizio non è nel catalogo."))?;
        if service.withdrawn_at.is_some() {
            return Err(withdrawn());
        }
        if !eligible(&service.record, population::residents(&comune)) {
            return Err(AppError::invalid_field(
                "service",
                format!(
                    "Il servizio è riservato ai Comuni con meno di {} abitanti.",
                    pico_service::format::integer(
                        service.record.population_threshold.unwrap_or_default()
                    )
                ),
            ));
        }
        if store::has_open_subscription(tx, &comune, service.id)? {
            return Err(AppError::Conflict {
                code: "already_subscribed",
                detail:
                    "Il Comune ha già un'adesione a questo servizio (richiesta, attiva o sospesa)."
                        .into(),
            });
        }
        let id = store::insert_subscription(tx, service.id, &comune, &note, user.id, now)?;
        SUBSCRIPTIONS.record_creation(
            tx,
            id,
            SubscriptionState::Requested,
            &note,
            &user.display_name,
            now,
        )?;
        audit::record(
            tx,
            &actor,
            "sit.subscription.request",
            &format!("sit_subscription:{id}"),
            &json!({"service": code, "comune": comune}),
            now,
        )?;
        let row = store::get_subscription(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(row.into())
    })
    .await
}

/// The subscriptions the caller may see: its own Comune's, or all for SIT staff; of one
/// service only if `service` is given.
pub async fn list_subscriptions(
    state: &AppState,
    identity: &Identity,
    service: Option<String>,
) -> Result<Vec<SubscriptionView>, AppError> {
    let scope = crate::auth::policy::module_scope(identity, crate::roles::Module::Sit)?;
    let comune = match scope {
        crate::auth::policy::Scope::Comune(code) => Some(code),
        crate::auth::policy::Scope::All => None,
    };
    state
        .db
        .call(move |conn| {
            let service = match service {
                Some(code) => Some(load_service(conn, &code)?.id),
                None => None,
            };
            Ok(store::list_subscriptions(conn, comune.as_deref(), service)?
                .into_iter()
                .map(SubscriptionView::from)
                .collect())
        })
        .await
}

async fn load_subscription(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<SubscriptionRow, AppError> {
    let row = state
        .db
        .call(move |conn| store::get_subscription(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    policy::authorize(
        identity,
        Action::ViewSubscription {
            comune: &row.comune_code,
        },
    )?;
    Ok(row)
}

/// A subscription with its history.
pub async fn subscription_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<SubscriptionDetail, AppError> {
    let row = load_subscription(state, identity, id).await?;
    let allowed =
        SUBSCRIPTIONS.allowed(identity, std::slice::from_ref(&row.comune_code), row.state);
    let history = state
        .db
        .call(move |conn| SUBSCRIPTIONS.history(conn, id))
        .await?;
    Ok(SubscriptionDetail {
        subscription: row.into(),
        allowed_transitions: allowed,
        history: history
            .into_iter()
            .map(|step| SubscriptionStepView {
                from: step.from,
                to: step.to,
                reason: step.reason,
                actor: step.actor,
                at: db::rfc3339(step.at),
            })
            .collect(),
    })
}

/// Body of a move of a subscription.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriptionTransition {
    /// The state asked for.
    pub state: Option<SubscriptionState>,
    /// The state the caller saw (refused as stale if the subscription left it).
    pub from: Option<SubscriptionState>,
    /// Why: required to decline, suspend and end.
    #[serde(default)]
    pub reason: String,
    /// To accept: the agreement's reference (protocol number, resolution).
    #[serde(default)]
    pub agreement_ref: String,
    /// To accept: the agreement's start date, `YYYY-MM-DD` or `dd/mm/yyyy`.
    #[serde(default)]
    pub start_date: String,
}

/// Moves a subscription through [`SUBSCRIPTIONS`]: accepting needs the agreement's reference
/// and start date; declining, suspending and ending need a reason.
pub async fn transition_subscription(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &NewSubscriptionTransition,
) -> Result<SubscriptionDetail, AppError> {
    let row = load_subscription(state, identity, id).await?;
    let mut errors = FieldErrors::default();
    let to = errors.check(
        "state",
        input
            .state
            .ok_or_else(|| "Scegli lo stato dall'elenco.".to_owned()),
    );
    let reason = errors
        .check(
            "reason",
            text::clean(&input.reason, Lines::Many, 2000, false).map_err(|err| err.to_string()),
        )
        .unwrap_or_default();
    let mut agreement = None;
    if to == Some(SubscriptionState::Active) && row.state == SubscriptionState::Requested {
        let reference = errors.check(
            "agreement_ref",
            required_text(&input.agreement_ref, 200, Lines::One).map_err(|_| {
                "Indica il riferimento dell'accordo (es. prot. n. 1234/2026).".to_owned()
            }),
        );
        let start = errors.check(
            "start_date",
            if input.start_date.trim().is_empty() {
                Err("Indica la data di avvio (gg/mm/aaaa).".to_owned())
            } else {
                crate::sua::day::Day::parse(&input.start_date).map(|day| day.iso())
            },
        );
        agreement = reference.zip(start);
    }
    if matches!(
        to,
        Some(SubscriptionState::Declined | SubscriptionState::Suspended | SubscriptionState::Ended)
    ) && reason.is_empty()
    {
        errors.add("reason", "Indica il motivo: il Comune lo leggerà.");
    }
    errors.finish()?;
    let to = to.ok_or_else(|| AppError::Internal("a checked field is missing".into()))?;
    let from = input.from.unwrap_or(row.state);
    let identity_owned = identity.clone();
    let signer = state.signer.clone();
    state
        .db
        .call(move |conn| {
            let owners = [row.comune_code.clone()];
            let step = Step::new(&identity_owned, &owners, id, from, to).reason(&reason);
            SUBSCRIPTIONS.transition(conn, &step, |tx| {
                match &agreement {
                    Some((reference, start)) => {
                        store::set_agreement(tx, id, reference, start, step.now)?;
                    }
                    None => store::touch_subscription(tx, id, step.now)?,
                }
                national::refresh(tx, &signer)
            })
        })
        .await?;
    subscription_detail(state, identity, id).await
}

// ---------------------------------------------------------------------------------------
// Requests inside a subscription, measured with the Help Desk's clock

/// Body of a request inside a subscription.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriptionRequest {
    /// Activation or intervention.
    pub kind: RequestKind,
    /// Subject, 1–200 characters.
    pub subject: String,
    /// Description, 1–20000 characters.
    pub description: String,
}

/// A request inside a subscription, measured against the service's promised levels.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestMeasure {
    /// Activation or intervention.
    pub kind: RequestKind,
    /// The Help Desk request, its clock computed on the service's levels.
    pub request: RequestView,
    /// Hours promised to the first answer.
    pub first_answer_hours: i64,
    /// Hours promised to the resolution.
    pub resolution_hours: i64,
    /// Minutes from opening to the first answer, once given.
    pub first_answer_minutes: Option<i64>,
    /// Minutes from opening to the resolution, once resolved.
    pub resolution_minutes: Option<i64>,
    /// Whether the first answer came (or is still missing) after its promised time.
    pub first_answer_breached: bool,
    /// Whether the resolution came (or is still missing) after its promised time.
    pub resolution_breached: bool,
}

/// Measures a Help Desk request against promised hours at `now`: the due times and the
/// overdue flag are the Help Desk's own clock ([`RequestView::new`]) run on the service's
/// levels; a stop that came late, or a clock still running past its due time, is a breach.
pub fn measure(
    kind: RequestKind,
    row: crate::helpdesk::db::RequestRow,
    first_answer_hours: i64,
    resolution_hours: i64,
    base: &HelpdeskSettings,
    now: i64,
) -> RequestMeasure {
    let levels = HelpdeskSettings {
        sla_first_response_hours: u32::try_from(first_answer_hours).unwrap_or(u32::MAX),
        sla_resolution_hours: u32::try_from(resolution_hours).unwrap_or(u32::MAX),
        ..base.clone()
    };
    let created = row.created_at;
    let first_due = created + first_answer_hours * 3600;
    let resolution_due = created + resolution_hours * 3600;
    let first = row.first_response_at;
    let resolved = row.resolved_at;
    let done = matches!(
        row.status,
        HelpdeskStatus::Resolved | HelpdeskStatus::Closed
    );
    let first_answer_breached = first.map_or(now > first_due, |at| at > first_due);
    let resolution_breached = match resolved {
        Some(at) => at > resolution_due,
        None => !done && now > resolution_due,
    };
    RequestMeasure {
        kind,
        first_answer_minutes: first.map(|at| (at - created) / 60),
        resolution_minutes: resolved.map(|at| (at - created) / 60),
        request: RequestView::new(row, &levels, now),
        first_answer_hours,
        resolution_hours,
        first_answer_breached,
        resolution_breached,
    }
}

/// Opens a request inside an active subscription: a Help Desk request of the Comune (so the
/// Province answers it where it answers every request), linked to the subscription.
pub async fn open_subscription_request(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &NewSubscriptionRequest,
) -> Result<RequestMeasure, AppError> {
    let row = load_subscription(state, identity, id).await?;
    if row.state != SubscriptionState::Active {
        return Err(AppError::Conflict {
            code: "subscription_not_active",
            detail: format!(
                "Le richieste si aprono solo nelle adesioni attive: questa è «{}».",
                row.state.label()
            ),
        });
    }
    let comune = pico_protocol::ComuneCode::parse(&row.comune_code)
        .map_err(|_| AppError::Internal(format!("bad comune code {}", row.comune_code)))?;
    let subject = format!("[SIT] {}: {}", row.service_name, input.subject.trim());
    let view = crate::helpdesk::ops::open_request(
        state,
        identity,
        NewRequest {
            comune_code: Some(comune),
            category: HelpdeskCategory::Technical,
            subject: subject.chars().take(200).collect(),
            description: input.description.clone(),
        },
        None,
    )
    .await?;
    // The Help Desk request is committed; linking it is a second write. Should it fail, the
    // request stays an ordinary Help Desk request, answered as any other.
    let kind = input.kind;
    let request = view.id;
    let requests = state
        .db
        .call(move |conn| {
            store::insert_request(conn, request, id, kind)?;
            Ok::<_, AppError>(())
        })
        .await;
    requests?;
    let measures = subscription_requests(state, identity, id).await?;
    measures
        .into_iter()
        .find(|m| m.request.id == request)
        .ok_or(AppError::NotFound)
}

/// The requests of a subscription with their levels measured, oldest first.
pub async fn subscription_requests(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<Vec<RequestMeasure>, AppError> {
    let row = load_subscription(state, identity, id).await?;
    let base = state.config.helpdesk.clone();
    state
        .db
        .call(move |conn| {
            let service =
                store::get_service_by_id(conn, row.service_id)?.ok_or(AppError::NotFound)?;
            let now = db::now();
            let mut measures = Vec::new();
            for (request, kind) in store::requests_of(conn, id)? {
                let Some(request) = crate::helpdesk::db::get(conn, request)? else {
                    continue;
                };
                measures.push(measure(
                    kind,
                    request,
                    service.record.first_answer_hours,
                    service.record.resolution_hours,
                    &base,
                    now,
                ));
            }
            Ok(measures)
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Digital picture

/// A platform in use.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformUse {
    /// The platform.
    pub platform: Platform,
    /// In use since, `YYYY-MM-DD` (a `dd/mm/yyyy` is accepted when writing).
    pub since: String,
}

/// A PNRR measure applied for or obtained.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureUse {
    /// The measure.
    pub measure: Measure,
    /// Applied for or obtained.
    pub status: MeasureStatus,
    /// The amount, euro as decimal text (may be absent).
    #[serde(default)]
    pub amount: Option<String>,
}

/// A Comune's digital picture.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PictureView {
    /// The Comune.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// Its residents (ISTAT, latest count).
    pub residents: Option<u64>,
    /// The platforms it uses.
    pub platforms: Vec<PlatformUse>,
    /// The PNRR measures.
    pub measures: Vec<MeasureUse>,
}

/// Body of a digital picture: the whole picture, replacing the stored one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PictureInput {
    /// The platforms it uses (each once).
    #[serde(default)]
    pub platforms: Vec<PlatformUse>,
    /// The PNRR measures (each once).
    #[serde(default)]
    pub measures: Vec<MeasureUse>,
}

fn picture_view(
    comune: String,
    name: String,
    platforms: Vec<PlatformRow>,
    measures: Vec<MeasureRow>,
) -> PictureView {
    PictureView {
        residents: population::residents(&comune).map(|r| r.count),
        comune_code: comune,
        comune_name: name,
        platforms: platforms
            .into_iter()
            .map(|p| PlatformUse {
                platform: p.platform,
                since: p.since,
            })
            .collect(),
        measures: measures
            .into_iter()
            .map(|m| MeasureUse {
                measure: m.measure,
                status: m.status,
                amount: m.amount_cents.map(decimal),
            })
            .collect(),
    }
}

/// The digital picture of Comune `comune`: SIT staff and the Comune itself.
pub async fn picture(
    state: &AppState,
    identity: &Identity,
    comune: String,
) -> Result<PictureView, AppError> {
    policy::authorize(identity, Action::ViewPicture { comune: &comune })?;
    state
        .db
        .call(move |conn| {
            let name = db::comuni::name_of(conn, &comune)?.ok_or(AppError::NotFound)?;
            let platforms = store::platforms(conn, Some(&comune))?;
            let measures = store::measures(conn, Some(&comune))?;
            Ok(picture_view(comune, name, platforms, measures))
        })
        .await
}

/// Replaces the digital picture of Comune `comune` (SIT staff).
pub async fn update_picture(
    state: &AppState,
    identity: &Identity,
    comune: String,
    input: &PictureInput,
) -> Result<PictureView, AppError> {
    policy::authorize(identity, Action::ManagePictures)?;
    let mut errors = FieldErrors::default();
    let mut platforms: Vec<(Platform, String)> = Vec::new();
    let mut seen: Vec<Platform> = Vec::new();
    for (index, item) in input.platforms.iter().enumerate() {
        if seen.contains(&item.platform) {
            errors.add(
                format!("platforms[{index}].platform"),
                format!("{} è indicata due volte.", item.platform.label()),
            );
            continue;
        }
        seen.push(item.platform);
        let today = crate::sua::day::Day::today().iso();
        if let Some(since) = errors.check(
            &format!("platforms[{index}].since"),
            crate::sua::day::Day::parse(&item.since)
                .map(|day| day.iso())
                .and_then(|since| {
                    if since > today {
                        Err("La data non può essere nel futuro.".to_owned())
                    } else {
                        Ok(since)
                    }
                }),
        ) {
            platforms.push((item.platform, since));
        }
    }
    let mut measures: Vec<(Measure, MeasureStatus, Option<i64>)> = Vec::new();
    let mut seen: Vec<Measure> = Vec::new();
    for (index, item) in input.measures.iter().enumerate() {
        if seen.contains(&item.measure) {
            errors.add(
                format!("measures[{index}].measure"),
                format!("La misura {} è indicata due volte.", item.measure.label()),
            );
            continue;
        }
        seen.push(item.measure);
        let amount = match item.amount.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(text) => errors
                .check(&format!("measures[{index}].amount"), parse_money(text))
                .map(Some),
        };
        if let Some(amount) = amount {
            measures.push((item.measure, item.status, amount));
        }
    }
    errors.finish()?;
    let actor = identity.actor();
    let who = lifecycle::display_name(identity);
    lifecycle::write_national(state, national::refresh, move |tx, now| {
        let name = db::comuni::name_of(tx, &comune)?.ok_or(AppError::NotFound)?;
        store::replace_picture(tx, &comune, &platforms, &measures, &who, now)?;
        audit::record(
            tx,
            &actor,
            "sit.picture.update",
            &format!("comune:{comune}"),
            &json!({"platforms": platforms.len(), "measures": measures.len()}),
            now,
        )?;
        let platforms = store::platforms(tx, Some(&comune))?;
        let measures = store::measures(tx, Some(&comune))?;
        Ok(picture_view(comune, name, platforms, measures))
    })
    .await
}

/// The coverage of the national platforms across the Province's Comuni.
pub async fn coverage(state: &AppState) -> Result<Vec<crate::sit::reports::CoverageRow>, AppError> {
    state
        .db
        .call(|conn| {
            let comuni: Vec<(String, u64)> = store::comuni(conn)?
                .into_iter()
                .map(|(code, _)| {
                    let residents = population::residents(&code).map_or(0, |r| r.count);
                    (code, residents)
                })
                .collect();
            let platforms = store::platforms(conn, None)?;
            Ok(crate::sit::reports::coverage(&comuni, &platforms))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ServiceInput {
        ServiceInput {
            code: "servizio-pagopa".into(),
            name: "Adesione a pagoPA".into(),
            description: "Supporto all'adesione".into(),
            category: Some(Category::Payments),
            theme: Some(9),
            channels: vec![Channel::Email, Channel::Email, Channel::Online],
            audience: Some(Audience::All),
            cost_model: Some(CostModel::PerInhabitant),
            fee: "0,15".into(),
            first_answer_hours: Some(8),
            resolution_hours: Some(40),
            availability: "99,5".into(),
            contact_office: "Ufficio SIT".into(),
            contact_email: "sit@provincia.treviso.it".into(),
            ..ServiceInput::default()
        }
    }

    #[test]
    fn a_valid_service_is_kept_as_typed() {
        let record = check_service(&valid()).unwrap();
        assert_eq!(record.channels, [Channel::Email, Channel::Online]);
        assert_eq!(record.fee_cents, 15);
        assert_eq!(record.availability_bp, 9950);
    }

    #[test]
    fn every_wrong_field_is_named_in_italian() {
        let input = ServiceInput {
            name: " ".into(),
            theme: Some(16),
            channels: vec![],
            audience: Some(Audience::UnderThreshold),
            fee: "-3".into(),
            first_answer_hours: Some(48),
            resolution_hours: Some(24),
            availability: "101".into(),
            contact_email: "sit-provincia".into(),
            contact_phone: "chiamare".into(),
            documents: vec![Document {
                title: "Guida".into(),
                url: "ftp://x".into(),
            }],
            publiccode_url: "https://github.com/x/y".into(),
            ..valid()
        };
        let error = check_service(&input).unwrap_err();
        let fields = crate::web::form::field_messages(&error);
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "availability",
                "channels",
                "contact_email",
                "contact_phone",
                "documents[0].url",
                "fee",
                "name",
                "population_threshold",
                "publiccode_url",
                "resolution_hours",
                "theme"
            ]
        );
        assert!(fields["contact_email"].contains("non è un indirizzo email"));
    }

    #[test]
    fn codes_are_slugs() {
        assert!(is_service_code("ufficio-rtd-2026"));
        assert!(!is_service_code("Ufficio"));
        assert!(!is_service_code("1abc"));
        assert!(!is_service_code("ab"));
        assert!(!is_service_code("a b c"));
    }
}
