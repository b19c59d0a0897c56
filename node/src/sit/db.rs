//! SIT SQL: catalogue services with their versions, subscriptions, the Help Desk requests
//! made inside them, and the Comuni's digital pictures.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::sit::{
    Audience, Category, Channel, CostModel, Measure, MeasureStatus, Platform, RequestKind,
    SubscriptionState,
};

/// A document of a service: its title and where to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    /// Title.
    pub title: String,
    /// An `https://` (or `http://`) address.
    pub url: String,
}

/// A service as written: what each version keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceRecord {
    /// Name.
    pub name: String,
    /// What it offers.
    pub description: String,
    /// Category.
    pub category: Category,
    /// Subject matter (schema.gov.it vocabulary, 1–15).
    pub theme: u8,
    /// Channels, at least one.
    pub channels: Vec<Channel>,
    /// Who may use it.
    pub audience: Audience,
    /// Residents below which a Comune may use it (with `under_threshold`).
    pub population_threshold: Option<i64>,
    /// Conditions of use.
    pub conditions: String,
    /// How it is paid for.
    pub cost_model: CostModel,
    /// A year's fee (fixed) or a year's fee per inhabitant, cents.
    pub fee_cents: i64,
    /// Hours to the first answer to a request.
    pub first_answer_hours: i64,
    /// Hours to the resolution of a request.
    pub resolution_hours: i64,
    /// Availability promised, hundredths of a percent (99,5 % = 9950).
    pub availability_bp: i64,
    /// The office to contact.
    pub contact_office: String,
    /// Its e-mail.
    pub contact_email: String,
    /// Its telephone (may be empty).
    pub contact_phone: String,
    /// Documents.
    pub documents: Vec<Document>,
    /// What a Comune provides to use it (CPSV-AP_IT Input).
    pub inputs: Vec<String>,
    /// What it produces (CPSV-AP_IT Output).
    pub outputs: Vec<String>,
    /// The `publiccode.yml` of the software behind it (may be empty).
    pub publiccode_url: String,
}

/// A stored service.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    /// Id.
    pub id: i64,
    /// The stable code of its URLs.
    pub code: String,
    /// Current version (1, 2…).
    pub version: i64,
    /// What it says now.
    pub record: ServiceRecord,
    /// When it was withdrawn, if it was.
    pub withdrawn_at: Option<i64>,
    /// Why.
    pub withdrawn_reason: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fn service_from_row(row: &Row<'_>) -> rusqlite::Result<ServiceRow> {
    let channels: String = row.get("channels")?;
    let documents: String = row.get("documents")?;
    let bad = |what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad {what}").into(),
        )
    };
    let channels = channels
        .split_whitespace()
        .map(|code| Channel::parse(code).ok_or_else(|| bad("channel")))
        .collect::<Result<Vec<_>, _>>()?;
    let documents = lines(&documents)
        .into_iter()
        .map(|line| {
            line.rsplit_once(" | ")
                .map(|(title, url)| Document {
                    title: title.to_owned(),
                    url: url.to_owned(),
                })
                .ok_or_else(|| bad("document"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let theme: i64 = row.get("theme")?;
    Ok(ServiceRow {
        id: row.get("id")?,
        code: row.get("code")?,
        version: row.get("version")?,
        record: ServiceRecord {
            name: row.get("name")?,
            description: row.get("description")?,
            category: row.get("category")?,
            theme: u8::try_from(theme).map_err(|_| bad("theme"))?,
            channels,
            audience: row.get("audience")?,
            population_threshold: row.get("population_threshold")?,
            conditions: row.get("conditions")?,
            cost_model: row.get("cost_model")?,
            fee_cents: row.get("fee_cents")?,
            first_answer_hours: row.get("first_answer_hours")?,
            resolution_hours: row.get("resolution_hours")?,
            availability_bp: row.get("availability_bp")?,
            contact_office: row.get("contact_office")?,
            contact_email: row.get("contact_email")?,
            contact_phone: row.get("contact_phone")?,
            documents,
            inputs: lines(&row.get::<_, String>("inputs")?),
            outputs: lines(&row.get::<_, String>("outputs")?),
            publiccode_url: row.get("publiccode_url")?,
        },
        withdrawn_at: row.get("withdrawn_at")?,
        withdrawn_reason: row.get("withdrawn_reason")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

const SERVICE_COLUMNS: &str = "id, code, version, name, description, category, theme, channels, audience, \
    population_threshold, conditions, cost_model, fee_cents, first_answer_hours, resolution_hours, \
    availability_bp, contact_office, contact_email, contact_phone, documents, inputs, outputs, \
    publiccode_url, withdrawn_at, withdrawn_reason, created_at, updated_at";

fn channels_text(record: &ServiceRecord) -> String {
    record
        .channels
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn documents_text(record: &ServiceRecord) -> String {
    record
        .documents
        .iter()
        .map(|d| format!("{} | {}", d.title, d.url))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Inserts a new service at version 1; returns its id.
pub fn insert_service(
    conn: &Connection,
    code: &str,
    record: &ServiceRecord,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO sit_services (code, version, name, description, category, theme, channels, audience, \
         population_threshold, conditions, cost_model, fee_cents, first_answer_hours, resolution_hours, \
         availability_bp, contact_office, contact_email, contact_phone, documents, inputs, outputs, \
         publiccode_url, created_at, updated_at) \
         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?22)",
        params![
            code,
            record.name,
            record.description,
            record.category,
            record.theme,
            channels_text(record),
            record.audience,
            record.population_threshold,
            record.conditions,
            record.cost_model,
            record.fee_cents,
            record.first_answer_hours,
            record.resolution_hours,
            record.availability_bp,
            record.contact_office,
            record.contact_email,
            record.contact_phone,
            documents_text(record),
            record.inputs.join("\n"),
            record.outputs.join("\n"),
            record.publiccode_url,
            now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces what service `id` says, as version `version`.
pub fn update_service(
    conn: &Connection,
    id: i64,
    version: i64,
    record: &ServiceRecord,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sit_services SET version = ?2, name = ?3, description = ?4, category = ?5, theme = ?6, \
         channels = ?7, audience = ?8, population_threshold = ?9, conditions = ?10, cost_model = ?11, \
         fee_cents = ?12, first_answer_hours = ?13, resolution_hours = ?14, availability_bp = ?15, \
         contact_office = ?16, contact_email = ?17, contact_phone = ?18, documents = ?19, inputs = ?20, \
         outputs = ?21, publiccode_url = ?22, updated_at = ?23 WHERE id = ?1",
        params![
            id,
            version,
            record.name,
            record.description,
            record.category,
            record.theme,
            channels_text(record),
            record.audience,
            record.population_threshold,
            record.conditions,
            record.cost_model,
            record.fee_cents,
            record.first_answer_hours,
            record.resolution_hours,
            record.availability_bp,
            record.contact_office,
            record.contact_email,
            record.contact_phone,
            documents_text(record),
            record.inputs.join("\n"),
            record.outputs.join("\n"),
            record.publiccode_url,
            now
        ],
    )?;
    Ok(())
}

/// Keeps version `version` of service `id` as written.
pub fn insert_version(
    conn: &Connection,
    id: i64,
    version: i64,
    record: &ServiceRecord,
    note: &str,
    changed_by: &str,
    now: i64,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(record)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    conn.execute(
        "INSERT INTO sit_service_versions (service_id, version, record, note, changed_by, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, version, json, note, changed_by, now],
    )?;
    Ok(())
}

/// Marks service `id` withdrawn.
pub fn withdraw_service(
    conn: &Connection,
    id: i64,
    reason: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE sit_services SET withdrawn_at = ?2, withdrawn_reason = ?3, updated_at = ?2 \
         WHERE id = ?1 AND withdrawn_at IS NULL",
        params![id, now, reason],
    )? == 1)
}

/// The service with code `code`.
pub fn get_service(conn: &Connection, code: &str) -> rusqlite::Result<Option<ServiceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {SERVICE_COLUMNS} FROM sit_services WHERE code = ?1"
    ))?
    .query_row([code], service_from_row)
    .optional()
}

/// The service with id `id`.
pub fn get_service_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<ServiceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {SERVICE_COLUMNS} FROM sit_services WHERE id = ?1"
    ))?
    .query_row([id], service_from_row)
    .optional()
}

/// Every service, by name; withdrawn ones only if `withdrawn`.
pub fn list_services(conn: &Connection, withdrawn: bool) -> rusqlite::Result<Vec<ServiceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {SERVICE_COLUMNS} FROM sit_services WHERE ?1 OR withdrawn_at IS NULL ORDER BY name, id"
    ))?
    .query_map([withdrawn], service_from_row)?
    .collect()
}

/// One kept version of a service.
#[derive(Debug, Clone)]
pub struct VersionRow {
    /// Its number.
    pub version: i64,
    /// What the service said.
    pub record: ServiceRecord,
    /// What changed, in the operator's words.
    pub note: String,
    /// Who wrote it (the name people read).
    pub changed_by: String,
    /// When (Unix seconds).
    pub changed_at: i64,
}

fn version_from_row(row: &Row<'_>) -> rusqlite::Result<VersionRow> {
    let json: String = row.get("record")?;
    Ok(VersionRow {
        version: row.get("version")?,
        record: serde_json::from_str(&json).map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                Box::new(error),
            )
        })?,
        note: row.get("note")?,
        changed_by: row.get("changed_by")?,
        changed_at: row.get("changed_at")?,
    })
}

/// Every version of service `id`, newest first.
pub fn versions(conn: &Connection, id: i64) -> rusqlite::Result<Vec<VersionRow>> {
    conn.prepare_cached(
        "SELECT version, record, note, changed_by, changed_at FROM sit_service_versions \
         WHERE service_id = ?1 ORDER BY version DESC",
    )?
    .query_map([id], version_from_row)?
    .collect()
}

/// Version `version` of service `id`.
pub fn version(conn: &Connection, id: i64, version: i64) -> rusqlite::Result<Option<VersionRow>> {
    conn.prepare_cached(
        "SELECT version, record, note, changed_by, changed_at FROM sit_service_versions \
         WHERE service_id = ?1 AND version = ?2",
    )?
    .query_row(params![id, version], version_from_row)
    .optional()
}

/// A subscription with the names its views show.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    /// Id.
    pub id: i64,
    /// The service's id.
    pub service_id: i64,
    /// Its code.
    pub service_code: String,
    /// Its name.
    pub service_name: String,
    /// When the service was withdrawn, if it was.
    pub service_withdrawn_at: Option<i64>,
    /// Why.
    pub service_withdrawn_reason: String,
    /// The subscribing Comune.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// State.
    pub state: SubscriptionState,
    /// The Comune's note when asking.
    pub note: String,
    /// The agreement's reference (once accepted).
    pub agreement_ref: String,
    /// The agreement's start date, `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

const SUBSCRIPTION_SELECT: &str = "SELECT s.id, s.service_id, v.code, v.name, v.withdrawn_at, v.withdrawn_reason, \
    s.comune_code, c.name AS comune_name, s.state, s.note, s.agreement_ref, s.start_date, s.created_at, s.updated_at \
    FROM sit_subscriptions s JOIN sit_services v ON v.id = s.service_id JOIN comuni c ON c.code = s.comune_code";

fn subscription_from_row(row: &Row<'_>) -> rusqlite::Result<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: row.get("id")?,
        service_id: row.get("service_id")?,
        service_code: row.get("code")?,
        service_name: row.get("name")?,
        service_withdrawn_at: row.get("withdrawn_at")?,
        service_withdrawn_reason: row.get("withdrawn_reason")?,
        comune_code: row.get("comune_code")?,
        comune_name: row.get("comune_name")?,
        state: row.get("state")?,
        note: row.get("note")?,
        agreement_ref: row.get("agreement_ref")?,
        start_date: row.get("start_date")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Whether Comune `comune` has an open (requested, active, suspended) subscription to
/// service `service`.
pub fn has_open_subscription(
    conn: &Connection,
    comune: &str,
    service: i64,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM sit_subscriptions WHERE comune_code = ?1 AND service_id = ?2 \
         AND (state = 'requested' OR state = 'active' OR state = 'suspended'))",
    )?
    .query_row(params![comune, service], |row| row.get(0))
}

/// Inserts a subscription request; returns its id.
pub fn insert_subscription(
    conn: &Connection,
    service: i64,
    comune: &str,
    note: &str,
    requested_by: i64,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO sit_subscriptions (service_id, comune_code, state, note, requested_by, created_at, updated_at) \
         VALUES (?1, ?2, 'requested', ?3, ?4, ?5, ?5)",
        params![service, comune, note, requested_by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Subscription `id`.
pub fn get_subscription(conn: &Connection, id: i64) -> rusqlite::Result<Option<SubscriptionRow>> {
    conn.prepare_cached(&format!("{SUBSCRIPTION_SELECT} WHERE s.id = ?1"))?
        .query_row([id], subscription_from_row)
        .optional()
}

/// Subscriptions, newest first: of Comune `comune` only if given, of service `service` only
/// if given.
pub fn list_subscriptions(
    conn: &Connection,
    comune: Option<&str>,
    service: Option<i64>,
) -> rusqlite::Result<Vec<SubscriptionRow>> {
    conn.prepare_cached(&format!(
        "{SUBSCRIPTION_SELECT} WHERE (?1 IS NULL OR s.comune_code = ?1) AND (?2 IS NULL OR s.service_id = ?2) \
         ORDER BY s.id DESC"
    ))?
    .query_map(params![comune, service], subscription_from_row)?
    .collect()
}

/// Records the agreement of an accepted subscription.
pub fn set_agreement(
    conn: &Connection,
    id: i64,
    agreement_ref: &str,
    start_date: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sit_subscriptions SET agreement_ref = ?2, start_date = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, agreement_ref, start_date, now],
    )?;
    Ok(())
}

/// Marks subscription `id` changed.
pub fn touch_subscription(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sit_subscriptions SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Links Help Desk request `request` to subscription `subscription`.
pub fn insert_request(
    conn: &Connection,
    request: i64,
    subscription: i64,
    kind: RequestKind,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sit_requests (request_id, subscription_id, kind) VALUES (?1, ?2, ?3)",
        params![request, subscription, kind],
    )?;
    Ok(())
}

/// The Help Desk requests of subscription `subscription`, oldest first, with their kind.
pub fn requests_of(
    conn: &Connection,
    subscription: i64,
) -> rusqlite::Result<Vec<(i64, RequestKind)>> {
    conn.prepare_cached(
        "SELECT request_id, kind FROM sit_requests WHERE subscription_id = ?1 ORDER BY request_id",
    )?
    .query_map([subscription], |row| Ok((row.get(0)?, row.get(1)?)))?
    .collect()
}

/// A platform in a digital picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRow {
    /// The Comune.
    pub comune_code: String,
    /// The platform.
    pub platform: Platform,
    /// In use since, `YYYY-MM-DD`.
    pub since: String,
}

/// A PNRR measure in a digital picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureRow {
    /// The Comune.
    pub comune_code: String,
    /// The measure.
    pub measure: Measure,
    /// Applied for or obtained.
    pub status: MeasureStatus,
    /// The amount obtained or asked for, cents.
    pub amount_cents: Option<i64>,
}

/// The platforms of Comune `comune` (every Comune's when `None`), by Comune and platform.
pub fn platforms(conn: &Connection, comune: Option<&str>) -> rusqlite::Result<Vec<PlatformRow>> {
    conn.prepare_cached(
        "SELECT comune_code, platform, since FROM sit_platforms WHERE ?1 IS NULL OR comune_code = ?1 \
         ORDER BY comune_code, platform",
    )?
    .query_map([comune], |row| {
        Ok(PlatformRow {
            comune_code: row.get(0)?,
            platform: row.get(1)?,
            since: row.get(2)?,
        })
    })?
    .collect()
}

/// The PNRR measures of Comune `comune` (every Comune's when `None`).
pub fn measures(conn: &Connection, comune: Option<&str>) -> rusqlite::Result<Vec<MeasureRow>> {
    conn.prepare_cached(
        "SELECT comune_code, measure, status, amount_cents FROM sit_pnrr WHERE ?1 IS NULL OR comune_code = ?1 \
         ORDER BY comune_code, measure",
    )?
    .query_map([comune], |row| {
        Ok(MeasureRow {
            comune_code: row.get(0)?,
            measure: row.get(1)?,
            status: row.get(2)?,
            amount_cents: row.get(3)?,
        })
    })?
    .collect()
}

/// Replaces the digital picture of Comune `comune`.
pub fn replace_picture(
    conn: &Connection,
    comune: &str,
    platforms: &[(Platform, String)],
    measures: &[(Measure, MeasureStatus, Option<i64>)],
    by: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sit_platforms WHERE comune_code = ?1", [comune])?;
    conn.execute("DELETE FROM sit_pnrr WHERE comune_code = ?1", [comune])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO sit_platforms (comune_code, platform, since, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (platform, since) in platforms {
        insert.execute(params![comune, platform, since, by, now])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO sit_pnrr (comune_code, measure, status, amount_cents, updated_by, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (measure, status, amount) in measures {
        insert.execute(params![comune, measure, status, amount, by, now])?;
    }
    Ok(())
}

/// The code and name of every Comune of the Province, by code.
pub fn comuni(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare_cached("SELECT code, name FROM comuni ORDER BY code")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// A Comune of the Province with how many services it uses now (active subscriptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComuneServices {
    /// ISTAT code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Services with an active subscription.
    pub active: i64,
}

/// Every Comune of the Province, by name, with its count of active subscriptions (one query:
/// the Portale's list of Comuni).
pub fn comuni_with_active_services(conn: &Connection) -> rusqlite::Result<Vec<ComuneServices>> {
    conn.prepare_cached(
        "SELECT c.code, c.name, COUNT(s.id) FROM comuni c \
         LEFT JOIN sit_subscriptions s ON s.comune_code = c.code AND s.state = 'active' \
         GROUP BY c.code, c.name ORDER BY c.name, c.code",
    )?
    .query_map([], |row| {
        Ok(ComuneServices {
            code: row.get(0)?,
            name: row.get(1)?,
            active: row.get(2)?,
        })
    })?
    .collect()
}

/// A service a Comune uses now: an active subscription, as the public may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveService {
    /// The service's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: Category,
    /// Since when (`YYYY-MM-DD`, the agreement's start), if recorded.
    pub start_date: Option<String>,
    /// Whether the service has since been withdrawn from the catalogue.
    pub withdrawn: bool,
}

/// The services Comune `comune` uses now (active subscriptions only), by service name.
pub fn active_services_of(conn: &Connection, comune: &str) -> rusqlite::Result<Vec<ActiveService>> {
    conn.prepare_cached(
        "SELECT v.code, v.name, v.category, s.start_date, v.withdrawn_at IS NOT NULL \
         FROM sit_subscriptions s JOIN sit_services v ON v.id = s.service_id \
         WHERE s.comune_code = ?1 AND s.state = 'active' ORDER BY v.name, v.id",
    )?
    .query_map([comune], |row| {
        Ok(ActiveService {
            code: row.get(0)?,
            name: row.get(1)?,
            category: row.get(2)?,
            start_date: row.get(3)?,
            withdrawn: row.get(4)?,
        })
    })?
    .collect()
}
