//! SAPE SQL: calls with their deadlines and full-text index, follows, flags, calendar feeds,
//! proposals with their Comuni, partners, work packages and outcome, and the Comuni's
//! requests for support.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::sape::{
    DeadlineModel, Management, PartnerRole, PersonnelUnit, Programme, ProposalState, ProvinceRole,
    Stage, SupportState,
};

/// Where a call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Typed by SAPE staff.
    Manual,
    /// The portal's topics CSV.
    Csv,
    /// The portal's search-API JSON.
    Json,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Csv => "csv",
            Source::Json => "json",
        }
    }
}

/// A call as written (by hand or by an import), its deadlines in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Topic identifier (unique: re-imports update by it).
    pub identifier: String,
    /// Identifier of the call the topic belongs to.
    pub call_identifier: String,
    /// Title.
    pub title: String,
    /// Programme.
    pub programme: Programme,
    /// Direct or indirect management.
    pub management: Management,
    /// Type of action (`HORIZON-RIA`).
    pub type_of_action: String,
    /// Keywords, cluster, destination: text for the search.
    pub keywords: String,
    /// Deadline model.
    pub deadline_model: DeadlineModel,
    /// Opening date, `YYYY-MM-DD`.
    pub opening_date: Option<String>,
    /// Deadlines, `YYYY-MM-DD`, in order, with the stage each closes.
    pub deadlines: Vec<(String, Stage)>,
    /// Page of the call.
    pub url: String,
    /// Total budget, cents.
    pub budget_cents: Option<i64>,
    /// Expected number of grants.
    pub expected_grants: Option<i64>,
    /// Smallest EU contribution per grant, cents.
    pub min_contribution_cents: Option<i64>,
    /// Largest EU contribution per grant, cents.
    pub max_contribution_cents: Option<i64>,
    /// The call's funding rate, percent.
    pub funding_rate: Option<u8>,
}

impl CallRecord {
    /// The last day a new application can be sent: the only deadline, the first stage of a
    /// two-stage call, the last cut-off; none for a permanent call.
    pub fn closing_date(&self) -> Option<&str> {
        match self.deadline_model {
            DeadlineModel::Permanent => None,
            DeadlineModel::TwoStage => self
                .deadlines
                .iter()
                .find(|(_, stage)| *stage == Stage::First)
                .or(self.deadlines.first())
                .map(|(day, _)| day.as_str()),
            DeadlineModel::SingleStage | DeadlineModel::MultipleCutoff => {
                self.deadlines.iter().map(|(day, _)| day.as_str()).max()
            }
        }
    }
}

/// A stored call.
#[derive(Debug, Clone)]
pub struct CallRow {
    /// Id.
    pub id: i64,
    /// What was written.
    pub record: CallRecord,
    /// Closing date (see [`CallRecord::closing_date`]).
    pub closing_date: Option<String>,
    /// How it was entered.
    pub source: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

const CALL_COLUMNS: &str = "c.id, c.identifier, c.call_identifier, c.title, c.programme, c.management, \
    c.type_of_action, c.keywords, c.deadline_model, c.opening_date, c.closing_date, c.url, c.budget_cents, \
    c.expected_grants, c.min_contribution_cents, c.max_contribution_cents, c.funding_rate, c.source, \
    c.created_at, c.updated_at";

fn call_from_row(row: &Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        id: row.get("id")?,
        record: CallRecord {
            identifier: row.get("identifier")?,
            call_identifier: row.get("call_identifier")?,
            title: row.get("title")?,
            programme: row.get("programme")?,
            management: row.get("management")?,
            type_of_action: row.get("type_of_action")?,
            keywords: row.get("keywords")?,
            deadline_model: row.get("deadline_model")?,
            opening_date: row.get("opening_date")?,
            deadlines: Vec::new(),
            url: row.get("url")?,
            budget_cents: row.get("budget_cents")?,
            expected_grants: row.get("expected_grants")?,
            min_contribution_cents: row.get("min_contribution_cents")?,
            max_contribution_cents: row.get("max_contribution_cents")?,
            funding_rate: row.get("funding_rate")?,
        },
        closing_date: row.get("closing_date")?,
        source: row.get("source")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// The id of the call `identifier`, if stored.
pub fn call_id(conn: &Connection, identifier: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM sape_calls WHERE identifier = ?1")?
        .query_row([identifier], |row| row.get(0))
        .optional()
}

/// Inserts `record`, or updates the call with its identifier; its deadlines and search text
/// are replaced. Returns the id and whether it was new.
pub fn upsert_call(
    conn: &Connection,
    record: &CallRecord,
    source: Source,
    now: i64,
) -> rusqlite::Result<(i64, bool)> {
    let existing = call_id(conn, &record.identifier)?;
    let values = params![
        record.identifier,
        record.call_identifier,
        record.title,
        record.programme,
        record.management,
        record.type_of_action,
        record.keywords,
        record.deadline_model,
        record.opening_date,
        record.closing_date(),
        record.url,
        record.budget_cents,
        record.expected_grants,
        record.min_contribution_cents,
        record.max_contribution_cents,
        record.funding_rate,
        source.as_str(),
        now,
    ];
    let id = match existing {
        Some(id) => {
            conn.prepare_cached(
                "UPDATE sape_calls SET identifier = ?1, call_identifier = ?2, title = ?3, programme = ?4, \
                 management = ?5, type_of_action = ?6, keywords = ?7, deadline_model = ?8, opening_date = ?9, \
                 closing_date = ?10, url = ?11, budget_cents = ?12, expected_grants = ?13, \
                 min_contribution_cents = ?14, max_contribution_cents = ?15, funding_rate = ?16, source = ?17, \
                 updated_at = ?18 WHERE identifier = ?1",
            )?
            .execute(values)?;
            conn.prepare_cached("DELETE FROM sape_call_deadlines WHERE call_id = ?1")?
                .execute([id])?;
            conn.prepare_cached("DELETE FROM sape_calls_fts WHERE rowid = ?1")?
                .execute([id])?;
            id
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO sape_calls (identifier, call_identifier, title, programme, management, type_of_action, \
                 keywords, deadline_model, opening_date, closing_date, url, budget_cents, expected_grants, \
                 min_contribution_cents, max_contribution_cents, funding_rate, source, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18)",
            )?
            .execute(values)?;
            conn.last_insert_rowid()
        }
    };
    let mut deadline = conn.prepare_cached(
        "INSERT INTO sape_call_deadlines (call_id, ordinal, deadline, stage) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (ordinal, (day, stage)) in (0i64..).zip(&record.deadlines) {
        deadline.execute(params![id, ordinal, day, stage])?;
    }
    conn.prepare_cached(
        "INSERT INTO sape_calls_fts (rowid, title, keywords, programme, identifier) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id,
        record.title,
        record.keywords,
        format!("{} {}", record.programme.label(), record.programme.as_str()),
        format!("{} {}", record.identifier, record.call_identifier),
    ])?;
    Ok((id, existing.is_none()))
}

/// Filters of the calls search, already parsed.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// An FTS5 query (already made safe by `ops::fts_query`).
    pub fts: Option<String>,
    /// Only this programme.
    pub programme: Option<Programme>,
    /// Only calls with this status on `today`: `forthcoming`, `open` or `closed`.
    pub status: Option<&'static str>,
    /// Only calls with a deadline on or after this day.
    pub deadline_from: Option<String>,
    /// Only calls with a deadline on or before this day.
    pub deadline_to: Option<String>,
    /// Only calls followed by this Comune.
    pub followed_by: Option<String>,
    /// Only calls flagged to this Comune.
    pub flagged_to: Option<String>,
}

/// Above this many text matches, a search gives the latest closing dates first rather than the
/// best matches: it walks the closing-date index keeping the matching calls, where ranking
/// 20,000 matches would take tens of milliseconds (`benches/sape_search.rs`). Ranking up to
/// this many takes a millisecond or two; a broader search is better narrowed than ranked.
pub const RANKED_UP_TO: i64 = 1_000;

/// Calls matching `filter` on `today` (`YYYY-MM-DD`), `limit` from `offset`: with text, the
/// best matches first when at most [`RANKED_UP_TO`] calls match (or the Comune's followed or
/// flagged calls are asked for); otherwise the latest closing dates first, calls without one
/// (permanent ones) last. The status rule is [`crate::sape::call_status`]'s.
///
/// Only the filters given become conditions, so SQLite can use the programme's index.
pub fn search_calls(
    conn: &Connection,
    filter: &CallFilter,
    today: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<CallRow>> {
    let mut conditions: Vec<&str> = Vec::new();
    let mut values: Vec<(&str, &dyn rusqlite::ToSql)> =
        vec![(":limit", &limit), (":offset", &offset)];
    let few_matches = match &filter.fts {
        Some(fts) => count_matches(conn, fts)? <= RANKED_UP_TO,
        None => false,
    };
    let small_set = filter.followed_by.is_some() || filter.flagged_to.is_some();
    // In descending order SQLite puts NULL last: calls without a closing date come after the
    // others, and the closing-date index gives the order as it is.
    let mut order = "c.closing_date DESC, c.id DESC";
    let from = if let Some(fts) = &filter.fts {
        values.push((":fts", fts));
        if few_matches || small_set {
            conditions.push("sape_calls_fts MATCH :fts");
            order = "sape_calls_fts.rank, c.id";
            "sape_calls_fts JOIN sape_calls c ON c.id = sape_calls_fts.rowid"
        } else {
            conditions
                .push("c.id IN (SELECT rowid FROM sape_calls_fts WHERE sape_calls_fts MATCH :fts)");
            if filter.programme.is_some() {
                "sape_calls c INDEXED BY sape_calls_programme"
            } else {
                "sape_calls c INDEXED BY sape_calls_closing_date"
            }
        }
    } else {
        "sape_calls c"
    };
    if let Some(programme) = &filter.programme {
        conditions.push("c.programme = :programme");
        values.push((":programme", programme));
    }
    if let Some(status) = &filter.status {
        conditions.push(STATUS_IS);
        values.push((":status", status));
        values.push((":today", &today));
    }
    if filter.deadline_from.is_some() || filter.deadline_to.is_some() {
        conditions.push(
            "EXISTS (SELECT 1 FROM sape_call_deadlines d WHERE d.call_id = c.id \
             AND d.deadline >= coalesce(:deadline_from, '0000-00-00') \
             AND d.deadline <= coalesce(:deadline_to, '9999-99-99'))",
        );
        values.push((":deadline_from", &filter.deadline_from));
        values.push((":deadline_to", &filter.deadline_to));
    }
    if let Some(comune) = &filter.followed_by {
        conditions.push(
            "EXISTS (SELECT 1 FROM sape_follows w WHERE w.comune_code = :followed_by AND w.call_id = c.id)",
        );
        values.push((":followed_by", comune));
    }
    if let Some(comune) = &filter.flagged_to {
        conditions.push(
            "EXISTS (SELECT 1 FROM sape_flags g WHERE g.comune_code = :flagged_to AND g.call_id = c.id)",
        );
        values.push((":flagged_to", comune));
    }
    let conditions = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {CALL_COLUMNS} FROM {from} {conditions} ORDER BY {order} LIMIT :limit OFFSET :offset"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(values.as_slice(), call_from_row)?;
    let mut calls = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    // The deadlines of the whole page in one query, not one per call.
    let ids = serde_json::to_string(&calls.iter().map(|c| c.id).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".to_owned());
    let mut stmt = conn.prepare_cached(
        "SELECT call_id, deadline, stage FROM sape_call_deadlines \
         WHERE call_id IN (SELECT value FROM json_each(?1)) ORDER BY call_id, ordinal",
    )?;
    let mut by_call: std::collections::BTreeMap<i64, Vec<(String, Stage)>> =
        std::collections::BTreeMap::new();
    for row in stmt.query_map([ids], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))? {
        let (call, day, stage): (i64, String, Stage) = row?;
        by_call.entry(call).or_default().push((day, stage));
    }
    for call in &mut calls {
        call.record.deadlines = by_call.remove(&call.id).unwrap_or_default();
    }
    Ok(calls)
}

/// A call's status on `:today` is `:status`: [`crate::sape::call_status`]'s rule in SQL.
const STATUS_IS: &str = ":status = CASE WHEN c.opening_date > :today THEN 'forthcoming' \
    WHEN c.deadline_model != 'permanent' AND c.closing_date < :today THEN 'closed' ELSE 'open' END";

/// How many calls have status `status` on `today`, and how many proposals there are: the
/// figures of the office's dashboard.
pub fn dashboard_counts(
    conn: &Connection,
    status: &str,
    today: &str,
) -> rusqlite::Result<(i64, i64)> {
    let calls = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM sape_calls c WHERE {STATUS_IS}"
        ))?
        .query_row(
            rusqlite::named_params! { ":status": status, ":today": today },
            |row| row.get(0),
        )?;
    let proposals = conn.query_row("SELECT count(*) FROM sape_proposals", [], |row| row.get(0))?;
    Ok((calls, proposals))
}

/// How many calls the FTS5 query `fts` matches (an index count: a millisecond or two at 20,000).
fn count_matches(conn: &Connection, fts: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM sape_calls_fts WHERE sape_calls_fts MATCH ?1")?
        .query_row([fts], |row| row.get(0))
}

/// A call's deadlines in order.
pub fn deadlines(conn: &Connection, call: i64) -> rusqlite::Result<Vec<(String, Stage)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT deadline, stage FROM sape_call_deadlines WHERE call_id = ?1 ORDER BY ordinal",
    )?;
    let rows = stmt.query_map([call], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// One call with its deadlines.
pub fn get_call(conn: &Connection, id: i64) -> rusqlite::Result<Option<CallRow>> {
    let call = conn
        .prepare_cached(&format!(
            "SELECT {CALL_COLUMNS} FROM sape_calls c WHERE c.id = ?1"
        ))?
        .query_row([id], call_from_row)
        .optional()?;
    match call {
        Some(mut call) => {
            call.record.deadlines = deadlines(conn, id)?;
            Ok(Some(call))
        }
        None => Ok(None),
    }
}

/// How many calls are stored.
pub fn count_calls(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM sape_calls", [], |row| row.get(0))
}

/// Makes Comune `comune` follow call `call` (nothing if it already does).
pub fn follow(
    conn: &Connection,
    call: i64,
    comune: &str,
    user: i64,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO sape_follows (call_id, comune_code, followed_by, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![call, comune, user, now])?
        == 1)
}

/// Stops Comune `comune` following call `call`.
pub fn unfollow(conn: &Connection, call: i64, comune: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM sape_follows WHERE call_id = ?1 AND comune_code = ?2")?
        .execute(params![call, comune])?
        == 1)
}

/// Whether Comune `comune` follows call `call`.
pub fn follows(conn: &Connection, call: i64, comune: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM sape_follows WHERE call_id = ?1 AND comune_code = ?2")?
        .exists(params![call, comune])
}

/// A flag of a call to a Comune.
#[derive(Debug, Clone)]
pub struct FlagRow {
    /// The Comune.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// Why the call fits it.
    pub note: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// Replaces the flags of call `call` with `comuni`, each with `note`; flags kept keep
/// their date.
pub fn set_flags(
    conn: &Connection,
    call: i64,
    comuni: &[String],
    note: &str,
    user: i64,
    now: i64,
) -> rusqlite::Result<()> {
    let existing: Vec<String> = {
        let mut stmt =
            conn.prepare_cached("SELECT comune_code FROM sape_flags WHERE call_id = ?1")?;
        let rows = stmt.query_map([call], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for code in existing.iter().filter(|code| !comuni.contains(code)) {
        conn.prepare_cached("DELETE FROM sape_flags WHERE call_id = ?1 AND comune_code = ?2")?
            .execute(params![call, code])?;
    }
    for code in comuni {
        conn.prepare_cached(
            "INSERT INTO sape_flags (call_id, comune_code, note, flagged_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (comune_code, call_id) DO UPDATE SET note = excluded.note",
        )?
        .execute(params![call, code, note, user, now])?;
    }
    Ok(())
}

/// The flags of call `call`, by Comune name.
pub fn flags(conn: &Connection, call: i64) -> rusqlite::Result<Vec<FlagRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.comune_code, m.name, g.note, g.created_at FROM sape_flags g JOIN comuni m ON m.code = g.comune_code \
         WHERE g.call_id = ?1 ORDER BY m.name",
    )?;
    let rows = stmt.query_map([call], |row| {
        Ok(FlagRow {
            comune_code: row.get(0)?,
            comune_name: row.get(1)?,
            note: row.get(2)?,
            created_at: row.get(3)?,
        })
    })?;
    rows.collect()
}

/// A deadline of a call a Comune follows, for its calendar.
#[derive(Debug, Clone)]
pub struct FeedDeadline {
    /// The call's id.
    pub call_id: i64,
    /// Which deadline of the call (0, 1, …).
    pub ordinal: i64,
    /// Its day.
    pub deadline: String,
    /// Which stage it closes.
    pub stage: Stage,
    /// The call's identifier.
    pub identifier: String,
    /// The call's title.
    pub title: String,
    /// The call's page.
    pub url: String,
    /// When the call was last changed, Unix seconds.
    pub updated_at: i64,
}

/// Every deadline of the calls Comune `comune` follows, in date order.
pub fn followed_deadlines(conn: &Connection, comune: &str) -> rusqlite::Result<Vec<FeedDeadline>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.call_id, d.ordinal, d.deadline, d.stage, c.identifier, c.title, c.url, c.updated_at \
         FROM sape_follows w JOIN sape_calls c ON c.id = w.call_id JOIN sape_call_deadlines d ON d.call_id = c.id \
         WHERE w.comune_code = ?1 ORDER BY d.deadline, c.id, d.ordinal",
    )?;
    let rows = stmt.query_map([comune], |row| {
        Ok(FeedDeadline {
            call_id: row.get(0)?,
            ordinal: row.get(1)?,
            deadline: row.get(2)?,
            stage: row.get(3)?,
            identifier: row.get(4)?,
            title: row.get(5)?,
            url: row.get(6)?,
            updated_at: row.get(7)?,
        })
    })?;
    rows.collect()
}

/// Sets Comune `comune`'s feed token (its hash), replacing the previous one.
pub fn set_feed(
    conn: &Connection,
    comune: &str,
    token_hash: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sape_feeds (comune_code, token_hash, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (comune_code) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
    )?
    .execute(params![comune, token_hash, now])?;
    Ok(())
}

/// Removes Comune `comune`'s feed; whether it had one.
pub fn delete_feed(conn: &Connection, comune: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM sape_feeds WHERE comune_code = ?1")?
        .execute([comune])?
        == 1)
}

/// The Comune whose feed token hashes to `token_hash`.
pub fn feed_comune(conn: &Connection, token_hash: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT comune_code FROM sape_feeds WHERE token_hash = ?1")?
        .query_row([token_hash], |row| row.get(0))
        .optional()
}

/// When Comune `comune`'s feed was created, if it has one.
pub fn feed_created(conn: &Connection, comune: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT created_at FROM sape_feeds WHERE comune_code = ?1")?
        .query_row([comune], |row| row.get(0))
        .optional()
}

/// A partner as stored, with its budget inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    /// Name.
    pub name: String,
    /// ISO 3166 alpha-2 country code.
    pub country: String,
    /// Participant Identification Code (nine digits), if it has one.
    pub pic: Option<String>,
    /// Role in the consortium.
    pub role: PartnerRole,
    /// The Comune of this Province it is, if it is one.
    pub comune_code: Option<String>,
    /// Budget inputs.
    pub budget: crate::sape::BudgetInput,
}

/// A work package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkPackageRecord {
    /// Number (WP1 = 1).
    pub number: i64,
    /// Title.
    pub title: String,
    /// Leading partner's name.
    pub lead: String,
    /// First month.
    pub start_month: i64,
    /// Last month.
    pub end_month: i64,
    /// Its lump sum (EU contribution), cents: lump-sum calls only.
    pub lump_sum: Option<i64>,
}

/// A proposal as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    /// The call.
    pub call_id: i64,
    /// Title.
    pub title: String,
    /// Acronym.
    pub acronym: String,
    /// The Province's role.
    pub province_role: ProvinceRole,
    /// The Comuni of this Province involved.
    pub comuni: Vec<String>,
    /// Partners, in order.
    pub partners: Vec<PartnerRecord>,
    /// Work packages, in order.
    pub work_packages: Vec<WorkPackageRecord>,
}

/// A stored proposal.
#[derive(Debug, Clone)]
pub struct ProposalRow {
    /// Id.
    pub id: i64,
    /// What was written.
    pub record: ProposalRecord,
    /// The call's identifier and title.
    pub call: (String, String),
    /// State.
    pub state: ProposalState,
    /// What the funder decided and paid.
    pub outcome: OutcomeRecord,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A proposal's outcome: the evaluation, the CUP, and per partner (in the proposal's order)
/// the EU contribution obtained and received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeRecord {
    /// Score, hundredths of a point.
    pub score: Option<i64>,
    /// Threshold, hundredths of a point.
    pub threshold: Option<i64>,
    /// Codice Unico di Progetto (15 characters).
    pub cup: Option<String>,
    /// `(obtained, received)` cents of partner 1, 2…
    pub amounts: Vec<PartnerAmounts>,
}

/// The EU contribution obtained and received by one partner, cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartnerAmounts {
    /// Obtained (the grant's amount for the partner).
    pub obtained: Option<i64>,
    /// Received so far.
    pub received: Option<i64>,
}

/// Writes a proposal's outcome, replacing what was there; partner amounts of partners past
/// `amounts.len()` are removed.
pub fn set_outcome(
    conn: &Connection,
    id: i64,
    outcome: &OutcomeRecord,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sape_outcomes (proposal_id, score, threshold, cup, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (proposal_id) DO UPDATE SET score = excluded.score, threshold = excluded.threshold, \
         cup = excluded.cup, updated_at = excluded.updated_at",
    )?
    .execute(params![id, outcome.score, outcome.threshold, outcome.cup, now])?;
    conn.prepare_cached("DELETE FROM sape_partner_amounts WHERE proposal_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO sape_partner_amounts (proposal_id, partner_no, obtained_cents, received_cents) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (no, amounts) in (1_i64..).zip(&outcome.amounts) {
        if amounts.obtained.is_some() || amounts.received.is_some() {
            insert.execute(params![id, no, amounts.obtained, amounts.received])?;
        }
    }
    Ok(())
}

/// The outcome of proposal `id` with one amounts entry per partner of its `partners`.
pub fn outcome(conn: &Connection, id: i64, partners: usize) -> rusqlite::Result<OutcomeRecord> {
    let mut outcome = conn
        .prepare_cached("SELECT score, threshold, cup FROM sape_outcomes WHERE proposal_id = ?1")?
        .query_row([id], |row| {
            Ok(OutcomeRecord {
                score: row.get(0)?,
                threshold: row.get(1)?,
                cup: row.get(2)?,
                amounts: Vec::new(),
            })
        })
        .optional()?
        .unwrap_or_default();
    outcome.amounts = vec![PartnerAmounts::default(); partners];
    let mut stmt = conn.prepare_cached(
        "SELECT partner_no, obtained_cents, received_cents FROM sape_partner_amounts WHERE proposal_id = ?1",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            PartnerAmounts {
                obtained: row.get(1)?,
                received: row.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (no, amounts) = row?;
        if let Some(slot) = usize::try_from(no - 1)
            .ok()
            .and_then(|i| outcome.amounts.get_mut(i))
        {
            *slot = amounts;
        }
    }
    Ok(outcome)
}

/// Inserts a proposal in state `idea`; returns its id.
pub fn insert_proposal(
    conn: &Connection,
    record: &ProposalRecord,
    user: i64,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO sape_proposals (call_id, title, acronym, province_role, state, created_by, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, 'idea', ?5, ?6, ?6)",
    )?
    .execute(params![record.call_id, record.title, record.acronym, record.province_role, user, now])?;
    let id = conn.last_insert_rowid();
    write_parts(conn, id, record)?;
    Ok(id)
}

/// Marks a proposal as changed at `now` (after a move of its state).
pub fn touch_proposal(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE sape_proposals SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// Replaces a proposal's content (not its state); whether it exists.
pub fn update_proposal(
    conn: &Connection,
    id: i64,
    record: &ProposalRecord,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE sape_proposals SET call_id = ?1, title = ?2, acronym = ?3, province_role = ?4, updated_at = ?5 WHERE id = ?6",
        )?
        .execute(params![record.call_id, record.title, record.acronym, record.province_role, now, id])?;
    if changed == 0 {
        return Ok(false);
    }
    for table in [
        "sape_proposal_comuni",
        "sape_partners",
        "sape_work_packages",
    ] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE proposal_id = ?1"))?
            .execute([id])?;
    }
    write_parts(conn, id, record)?;
    Ok(true)
}

fn write_parts(conn: &Connection, id: i64, record: &ProposalRecord) -> rusqlite::Result<()> {
    for comune in &record.comuni {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO sape_proposal_comuni (proposal_id, comune_code) VALUES (?1, ?2)",
        )?
        .execute(params![id, comune])?;
    }
    for partner in &record.partners {
        let b = &partner.budget;
        conn.prepare_cached(
            "INSERT INTO sape_partners (proposal_id, name, country, pic, role, comune_code, personnel_unit, \
             personnel_quantity, personnel_rate_cents, subcontracting_cents, travel_cents, equipment_cents, \
             other_goods_cents, other_costs_cents, funding_rate) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            id,
            partner.name,
            partner.country,
            partner.pic,
            partner.role,
            partner.comune_code,
            b.personnel_unit,
            b.personnel_quantity,
            b.personnel_rate,
            b.subcontracting,
            b.travel,
            b.equipment,
            b.other_goods,
            b.other_costs,
            b.funding_rate
        ])?;
    }
    for wp in &record.work_packages {
        conn.prepare_cached(
            "INSERT INTO sape_work_packages (proposal_id, number, title, lead, start_month, end_month, lump_sum_cents) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![id, wp.number, wp.title, wp.lead, wp.start_month, wp.end_month, wp.lump_sum])?;
    }
    Ok(())
}

fn proposal_from_row(row: &Row<'_>) -> rusqlite::Result<ProposalRow> {
    Ok(ProposalRow {
        id: row.get("id")?,
        record: ProposalRecord {
            call_id: row.get("call_id")?,
            title: row.get("title")?,
            acronym: row.get("acronym")?,
            province_role: row.get("province_role")?,
            comuni: Vec::new(),
            partners: Vec::new(),
            work_packages: Vec::new(),
        },
        call: (row.get("call_identifier")?, row.get("call_title")?),
        state: row.get("state")?,
        outcome: OutcomeRecord::default(),
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

const PROPOSAL_SELECT: &str = "SELECT p.id, p.call_id, p.title, p.acronym, p.province_role, p.state, \
    p.created_at, p.updated_at, c.identifier AS call_identifier, c.title AS call_title \
    FROM sape_proposals p JOIN sape_calls c ON c.id = p.call_id";

/// The columns of a partner: who it is (0–4), then its budget (5–13, see [`partner_budget`]).
const PARTNER_COLUMNS: &str = "name, country, pic, role, comune_code, personnel_unit, personnel_quantity, \
    personnel_rate_cents, subcontracting_cents, travel_cents, equipment_cents, other_goods_cents, \
    other_costs_cents, funding_rate";

/// The budget of a partner read with [`PARTNER_COLUMNS`].
fn partner_budget(row: &Row<'_>) -> rusqlite::Result<crate::sape::BudgetInput> {
    Ok(crate::sape::BudgetInput {
        personnel_unit: row.get::<_, PersonnelUnit>(5)?,
        personnel_quantity: row.get(6)?,
        personnel_rate: row.get(7)?,
        subcontracting: row.get(8)?,
        travel: row.get(9)?,
        equipment: row.get(10)?,
        other_goods: row.get(11)?,
        other_costs: row.get(12)?,
        funding_rate: row.get(13)?,
    })
}

fn load_parts(conn: &Connection, proposal: &mut ProposalRow) -> rusqlite::Result<()> {
    let id = proposal.id;
    let mut stmt = conn.prepare_cached(
        "SELECT comune_code FROM sape_proposal_comuni WHERE proposal_id = ?1 ORDER BY comune_code",
    )?;
    proposal.record.comuni = stmt
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PARTNER_COLUMNS} FROM sape_partners WHERE proposal_id = ?1 ORDER BY id"
    ))?;
    proposal.record.partners = stmt
        .query_map([id], |row| {
            Ok(PartnerRecord {
                name: row.get(0)?,
                country: row.get(1)?,
                pic: row.get(2)?,
                role: row.get::<_, PartnerRole>(3)?,
                comune_code: row.get(4)?,
                budget: partner_budget(row)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT number, title, lead, start_month, end_month, lump_sum_cents FROM sape_work_packages WHERE proposal_id = ?1 ORDER BY number",
    )?;
    proposal.record.work_packages = stmt
        .query_map([id], |row| {
            Ok(WorkPackageRecord {
                number: row.get(0)?,
                title: row.get(1)?,
                lead: row.get(2)?,
                start_month: row.get(3)?,
                end_month: row.get(4)?,
                lump_sum: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    proposal.outcome = outcome(conn, id, proposal.record.partners.len())?;
    Ok(())
}

/// One proposal with its Comuni, partners and work packages.
pub fn get_proposal(conn: &Connection, id: i64) -> rusqlite::Result<Option<ProposalRow>> {
    let proposal = conn
        .prepare_cached(&format!("{PROPOSAL_SELECT} WHERE p.id = ?1"))?
        .query_row([id], proposal_from_row)
        .optional()?;
    match proposal {
        Some(mut proposal) => {
            load_parts(conn, &mut proposal)?;
            Ok(Some(proposal))
        }
        None => Ok(None),
    }
}

/// Proposals, newest first: all, or those Comune `comune` takes part in; only those for call
/// `call` if given; ids below `before`; at most `limit`.
pub fn list_proposals(
    conn: &Connection,
    comune: Option<&str>,
    call: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Vec<ProposalRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{PROPOSAL_SELECT} WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM sape_proposal_comuni m WHERE m.comune_code = ?1 AND m.proposal_id = p.id)) \
         AND (?2 IS NULL OR p.call_id = ?2) AND (?3 IS NULL OR p.id < ?3) ORDER BY p.id DESC LIMIT ?4"
    ))?;
    let mut proposals = stmt
        .query_map(params![comune, call, before, limit], proposal_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for proposal in &mut proposals {
        load_parts(conn, proposal)?;
    }
    Ok(proposals)
}

/// The proposals (all, or `id`) with their partners, as the national dataset reads them, in
/// id order.
pub fn national_sources(
    conn: &Connection,
    id: Option<i64>,
) -> rusqlite::Result<Vec<crate::sape::national::ProposalSource>> {
    use crate::sape::national::{PartnerSource, ProposalSource};
    let mut proposals = conn
        .prepare_cached(
            "SELECT p.id, c.call_identifier, c.identifier, c.programme, c.title, p.acronym, p.title, p.state, \
             p.province_role, COALESCE(CAST(substr(c.closing_date, 1, 4) AS INTEGER), \
             CAST(strftime('%Y', p.created_at, 'unixepoch') AS INTEGER)) \
             FROM sape_proposals p JOIN sape_calls c ON c.id = p.call_id \
             WHERE ?1 IS NULL OR p.id = ?1 ORDER BY p.id",
        )?
        .query_map([id], |row| {
            Ok(ProposalSource {
                id: row.get(0)?,
                call_identifier: row.get(1)?,
                topic_identifier: row.get(2)?,
                programme: row.get(3)?,
                call_title: row.get(4)?,
                acronym: row.get(5)?,
                title: row.get(6)?,
                state: row.get(7)?,
                province_role: row.get(8)?,
                year: row.get(9)?,
                partners: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PARTNER_COLUMNS} FROM sape_partners WHERE proposal_id = ?1 ORDER BY id"
    ))?;
    for proposal in &mut proposals {
        proposal.partners = stmt
            .query_map([proposal.id], |row| {
                Ok(PartnerSource {
                    name: row.get(0)?,
                    country: row.get(1)?,
                    pic: row.get(2)?,
                    role: row.get(3)?,
                    comune: row.get(4)?,
                    obtained: None,
                    budget: partner_budget(row)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let amounts = outcome(conn, proposal.id, proposal.partners.len())?.amounts;
        for (partner, amounts) in proposal.partners.iter_mut().zip(amounts) {
            partner.obtained = amounts.obtained;
        }
    }
    Ok(proposals)
}

/// The stored rows of `dataset` (all, or those whose key starts with proposal `id`), by key.
pub fn national_rows(
    conn: &Connection,
    dataset: &str,
    id: Option<i64>,
) -> rusqlite::Result<std::collections::BTreeMap<String, String>> {
    // Keys are canonical JSON arrays: those of proposal 7 are the range from `[7,` up to
    // `[7-` (`-` follows `,`), one range of the rows index.
    let (from, to) = match id {
        Some(id) => (format!("[{id},"), format!("[{id}-")),
        None => (String::new(), "\u{10ffff}".to_owned()),
    };
    conn.prepare_cached(
        "SELECT pk, data FROM dataset_rows WHERE dataset = ?1 AND pk >= ?2 AND pk < ?3",
    )?
    .query_map(params![dataset, from, to], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?
    .collect()
}

/// Every proposal's Comuni with their names, `(proposal_id, code, name)` by proposal and code.
pub fn proposal_comuni(conn: &Connection) -> rusqlite::Result<Vec<(i64, String, String)>> {
    conn.prepare_cached(
        "SELECT m.proposal_id, m.comune_code, c.name FROM sape_proposal_comuni m \
         JOIN comuni c ON c.code = m.comune_code ORDER BY m.proposal_id, m.comune_code",
    )?
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
    .collect()
}

/// A Comune's request for support on a call, with the call's identifiers and the Comune's
/// name.
#[derive(Debug, Clone)]
pub struct SupportRow {
    /// Id.
    pub id: i64,
    /// The call.
    pub call_id: i64,
    /// The call's identifier and title.
    pub call: (String, String),
    /// ISTAT code and name of the Comune asking.
    pub comune: (String, String),
    /// What the Comune wrote.
    pub message: String,
    /// State.
    pub state: SupportState,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

const SUPPORT_SELECT: &str = "SELECT r.id, r.call_id, c.identifier, c.title, r.comune_code, m.name, r.message, \
    r.state, r.created_at, r.updated_at FROM sape_support_requests r JOIN sape_calls c ON c.id = r.call_id \
    JOIN comuni m ON m.code = r.comune_code";

fn support_from_row(row: &Row<'_>) -> rusqlite::Result<SupportRow> {
    Ok(SupportRow {
        id: row.get(0)?,
        call_id: row.get(1)?,
        call: (row.get(2)?, row.get(3)?),
        comune: (row.get(4)?, row.get(5)?),
        message: row.get(6)?,
        state: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

/// Inserts a request in state `requested`; returns its id.
pub fn insert_support(
    conn: &Connection,
    call: i64,
    comune: &str,
    message: &str,
    user: i64,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO sape_support_requests (call_id, comune_code, message, state, created_by, created_at, updated_at) \
         VALUES (?1, ?2, ?3, 'requested', ?4, ?5, ?5)",
    )?
    .execute(params![call, comune, message, user, now])?;
    Ok(conn.last_insert_rowid())
}

/// The request of Comune `comune` on `call` still waiting for an answer, if any.
pub fn open_support(conn: &Connection, call: i64, comune: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM sape_support_requests WHERE call_id = ?1 AND comune_code = ?2 AND state = 'requested'",
    )?
    .query_row(params![call, comune], |row| row.get(0))
    .optional()
}

/// Marks request `id` changed at `now`.
pub fn touch_support(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE sape_support_requests SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// One request.
pub fn get_support(conn: &Connection, id: i64) -> rusqlite::Result<Option<SupportRow>> {
    conn.prepare_cached(&format!("{SUPPORT_SELECT} WHERE r.id = ?1"))?
        .query_row([id], support_from_row)
        .optional()
}

/// Requests, newest first: all or Comune `comune`'s, only on `call` and in `state` if given,
/// at most `limit`.
pub fn list_support(
    conn: &Connection,
    comune: Option<&str>,
    call: Option<i64>,
    state: Option<SupportState>,
    limit: u32,
) -> rusqlite::Result<Vec<SupportRow>> {
    conn.prepare_cached(&format!(
        "{SUPPORT_SELECT} WHERE (?1 IS NULL OR r.comune_code = ?1) AND (?2 IS NULL OR r.call_id = ?2) \
         AND (?3 IS NULL OR r.state = ?3) ORDER BY r.id DESC LIMIT ?4"
    ))?
    .query_map(params![comune, call, state, limit], support_from_row)?
    .collect()
}

/// How many requests wait for the office's answer.
pub fn count_waiting_support(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM sape_support_requests WHERE state = 'requested'")?
        .query_row([], |row| row.get(0))
}
