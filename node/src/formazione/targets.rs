//! The programme's training targets as the hub signs them (SPEC §9.1): a background task
//! pulls `GET /v1/formazione/targets` from the hub the node publishes to, verifies the
//! signature with the hub key the node pinned at its first contact (as it verifies receipts),
//! and keeps the highest revision that verified. A document that does not verify is refused
//! with a warning and the targets kept stay as they were. The reports page then shows the
//! Province's progress against them: people trained per sector against the target, and each
//! entity's people against the hours of training per employee per year.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use maud::{Markup, html};
use pico_protocol::jws::Jws;
use pico_protocol::targets::FormazioneTargets;
use pico_protocol::{EntryError, PublicKey};
use pico_service::Db;
use pico_service::format as fmt;
use rusqlite::Connection;
use serde::Serialize;

use crate::db::federation as fed_store;
use crate::federation::client::{HubClient, HubError};
use crate::formazione::db as store;
use crate::formazione::reports::{PROVINCE, year_of};
use crate::state::AppState;

/// How often verified targets are asked for again (they change rarely).
pub const REFRESH: Duration = Duration::from_secs(3600);

/// What storing an offered document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A new revision, now kept.
    Stored(u64),
    /// The revision kept already.
    Unchanged(u64),
    /// An older revision than the one kept: ignored.
    Older {
        /// The revision kept.
        kept: u64,
        /// The revision offered.
        offered: u64,
    },
}

/// Why the targets could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    /// The node has not met the hub yet: no key to verify with.
    #[error(
        "il nodo non ha ancora registrato la chiave dell'hub (adesione alla federazione non completata)"
    )]
    NotPinned,
    /// The pinned hub key does not parse.
    #[error("la chiave dell'hub registrata non è una chiave valida: {0}")]
    PinnedKey(String),
    /// The document does not verify with the pinned key (or is not a targets document).
    #[error("il documento degli obiettivi di formazione è rifiutato: {0}")]
    Refused(#[from] EntryError),
    /// The hub could not be asked.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] pico_service::DbError),
}

impl From<rusqlite::Error> for TargetsError {
    fn from(error: rusqlite::Error) -> Self {
        TargetsError::Db(error.into())
    }
}

/// The targets kept, if the node has verified any.
pub fn load(conn: &Connection) -> rusqlite::Result<Option<FormazioneTargets>> {
    let text = super::db::kept_targets(conn)?;
    // The column holds the payload of a document that verified: it parses. Should it not,
    // the node shows no targets rather than wrong ones.
    Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Verifies `jws` with the hub key `hub_key` and keeps it if its revision is newer than the
/// one kept. A document that does not verify changes nothing.
pub fn accept(
    conn: &Connection,
    jws: &Jws,
    hub_key: &PublicKey,
    now: i64,
) -> Result<Accepted, TargetsError> {
    let targets = FormazioneTargets::verify(jws, hub_key)?;
    let kept = super::db::kept_targets_revision(conn)?;
    let kept = kept.map(|r| r.max(0).unsigned_abs());
    match kept {
        Some(kept) if kept == targets.revision => return Ok(Accepted::Unchanged(kept)),
        Some(kept) if kept > targets.revision => {
            return Ok(Accepted::Older {
                kept,
                offered: targets.revision,
            });
        }
        _ => {}
    }
    let payload = String::from_utf8(jws.payload_bytes()?).map_err(|_| {
        EntryError::Malformed("obiettivi di formazione: il contenuto non è UTF-8".into())
    })?;
    let document = serde_json::to_string(jws)
        .map_err(|e| EntryError::Malformed(format!("formazione targets: {e}")))?;
    super::db::keep_targets(
        conn,
        i64::try_from(targets.revision).unwrap_or(i64::MAX),
        &document,
        &payload,
        now,
    )?;
    Ok(Accepted::Stored(targets.revision))
}

/// One pull: asks the hub for the targets and keeps them if they verify with the pinned key.
pub async fn pull_once(db: &Db, client: &HubClient) -> Result<Accepted, TargetsError> {
    let pinned = db
        .call(|conn| fed_store::pinned(conn).map_err(pico_service::DbError::from))
        .await?
        .ok_or(TargetsError::NotPinned)?;
    let key: PublicKey = pinned
        .hub_key
        .parse()
        .map_err(|e| TargetsError::PinnedKey(format!("{e}")))?;
    let jws = client.formazione_targets().await?;
    db.call(move |conn| accept(conn, &jws, &key, crate::db::now()))
        .await
}

/// Starts the puller when the node has a hub: a pull at once, then every [`REFRESH`]; after
/// a failure, again with a doubling delay (the federation's retry settings).
pub fn spawn(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let settings = &state.config.federation;
    let hub = settings.hub_url.trim();
    if hub.is_empty() {
        return None;
    }
    let client = match HubClient::new(hub, Duration::from_secs(settings.request_timeout_secs)) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "Formazione targets puller not started");
            return None;
        }
    };
    let db = state.db.clone();
    let base = Duration::from_millis(settings.retry_base_ms.max(1));
    let max = Duration::from_secs(settings.retry_max_secs.max(1));
    Some(tokio::spawn(async move {
        let mut delay = base;
        loop {
            let wait = match pull_once(&db, &client).await {
                Ok(outcome) => {
                    if let Accepted::Stored(revision) = outcome {
                        tracing::info!(
                            formazione.revision = revision,
                            "Formazione targets verified and stored"
                        );
                    }
                    delay = base;
                    REFRESH
                }
                Err(TargetsError::NotPinned) => {
                    delay = (delay * 2).min(max);
                    delay
                }
                Err(TargetsError::Refused(error)) => {
                    tracing::warn!(%error, "Formazione targets refused: they do not verify with the pinned hub key; the targets kept are unchanged");
                    delay = (delay * 2).min(max);
                    REFRESH.min(max.max(delay))
                }
                Err(error) => {
                    tracing::warn!(%error, "Formazione targets not pulled; will retry");
                    delay = (delay * 2).min(max);
                    delay
                }
            };
            tokio::time::sleep(wait).await;
        }
    }))
}

/// A target sector's progress in the year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneTargetProgress)]
pub struct SectorProgress {
    /// Sector code.
    pub sector: String,
    /// Its name.
    pub label: String,
    /// People of the Province and of its Comuni who completed a course of the sector in the year.
    pub people_trained: u64,
    /// The Province's target.
    pub target: u64,
}

/// An entity's progress in the year (the Province's own staff, or a Comune's).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneEntityProgress)]
pub struct EntityProgress {
    /// ISTAT code of the Comune; none for the Province.
    pub comune_code: Option<String>,
    /// The entity's name.
    pub name: String,
    /// People trained per target sector, in the targets' order.
    pub people_trained: Vec<u64>,
    /// People with hours attended in the year.
    pub people_with_hours: u64,
    /// Of which with at least the yearly hours per employee.
    pub people_meeting_hours: u64,
    /// Minutes attended in the year by all of them.
    pub minutes_attended: i64,
}

/// The progress against the hub's targets in a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneTargetsProgress)]
pub struct Progress {
    /// Revision of the targets (as the hub signed them).
    pub revision: u64,
    /// Hours of training per employee per year.
    pub hours_per_person_year: u64,
    /// The target sectors: the whole Province (its staff and its Comuni's).
    pub sectors: Vec<SectorProgress>,
    /// The whole Province first, then its own staff, then each Comune by name.
    pub entities: Vec<EntityProgress>,
}

impl Progress {
    /// The progress of `year` against the targets kept; none before the node has verified any.
    pub fn read(conn: &Connection, year: i16) -> rusqlite::Result<Option<Progress>> {
        let Some(targets) = load(conn)? else {
            return Ok(None);
        };
        let codes: Vec<&str> = targets.sectors.iter().map(|s| s.sector.as_str()).collect();
        // (is a Comune, name, code) → per sector the people trained.
        type Entity = (bool, String, String);
        let entity = |comune: &Option<String>, name: &Option<String>| -> Entity {
            match comune {
                Some(code) => (
                    true,
                    name.clone().unwrap_or_else(|| code.clone()),
                    code.clone(),
                ),
                None => (false, PROVINCE.to_owned(), String::new()),
            }
        };
        let mut whole: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); codes.len()];
        let mut trained: BTreeMap<Entity, Vec<BTreeSet<i64>>> = BTreeMap::new();
        for e in store::report_enrolments(conn)? {
            if !e.completed || e.first_session.map(year_of) != Some(year) {
                continue;
            }
            let Some(index) = codes.iter().position(|c| *c == e.sector.as_str()) else {
                continue;
            };
            whole[index].insert(e.staff_id);
            trained
                .entry(entity(&e.comune, &e.comune_name))
                .or_insert_with(|| vec![BTreeSet::new(); codes.len()])[index]
                .insert(e.staff_id);
        }
        let mut minutes: BTreeMap<Entity, BTreeMap<i64, i64>> = BTreeMap::new();
        for a in store::attended_sessions(conn)? {
            if year_of(a.starts_at) != year {
                continue;
            }
            *minutes
                .entry(entity(&a.comune, &a.comune_name))
                .or_default()
                .entry(a.staff_id)
                .or_default() += a.minutes;
        }
        let yearly = i64::try_from(targets.hours_per_person_year).unwrap_or(i64::MAX / 60) * 60;
        let line =
            |comune_code: Option<String>, name: String, sets: &[BTreeSet<i64>], people: &[i64]| {
                EntityProgress {
                    comune_code,
                    name,
                    people_trained: sets.iter().map(|s| s.len() as u64).collect(),
                    people_with_hours: people.len() as u64,
                    people_meeting_hours: people.iter().filter(|m| **m >= yearly).count() as u64,
                    minutes_attended: people.iter().sum(),
                }
            };
        let mut entities_keys: BTreeSet<Entity> = trained.keys().cloned().collect();
        entities_keys.extend(minutes.keys().cloned());
        let all_minutes: Vec<i64> = minutes.values().flat_map(|m| m.values().copied()).collect();
        let mut entities = vec![line(
            None,
            "Provincia e Comuni".to_owned(),
            &whole,
            &all_minutes,
        )];
        let empty = vec![BTreeSet::new(); codes.len()];
        for key in entities_keys {
            let sets = trained.get(&key).unwrap_or(&empty);
            let people: Vec<i64> = minutes
                .get(&key)
                .map(|m| m.values().copied().collect())
                .unwrap_or_default();
            let (is_comune, name, code) = key;
            entities.push(line(is_comune.then_some(code), name, sets, &people));
        }
        Ok(Some(Progress {
            revision: targets.revision,
            hours_per_person_year: targets.hours_per_person_year,
            sectors: targets
                .sectors
                .iter()
                .zip(&whole)
                .map(|(t, set)| SectorProgress {
                    sector: t.sector.clone(),
                    label: t.label.clone(),
                    people_trained: set.len() as u64,
                    target: t.people_per_province,
                })
                .collect(),
            entities,
        }))
    }
}

/// The progress block of the reports page.
pub fn progress_block(progress: Option<&Progress>) -> Markup {
    let Some(progress) = progress else {
        return html! {
            section aria-labelledby="obiettivi" class="my-4" {
                h2 id="obiettivi" { "Obiettivi del programma" }
                p id="obiettivi-assenti" { "Il nodo non ha ancora ricevuto dall'hub nazionale gli obiettivi firmati del programma: compariranno qui dopo il primo collegamento." }
            }
        };
    };
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            "—".to_owned()
        } else {
            fmt::percent(part as f64 * 100.0 / whole as f64)
        }
    };
    html! {
        section aria-labelledby="obiettivi" class="my-4" {
            h2 id="obiettivi" { "Obiettivi del programma" }
            p { "Obiettivi nazionali firmati dall'hub (revisione " (progress.revision) "): persone formate nell'anno per settore rispetto all'obiettivo della Provincia, e ore di formazione per persona rispetto alle " (progress.hours_per_person_year) " ore annue." }
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole degli obiettivi per settore" {
                table class="table" id="obiettivi-settori" {
                    caption { "Persone formate rispetto all'obiettivo della Provincia" }
                    thead { tr {
                        th scope="col" { "Settore" } th scope="col" class="text-end" { "Persone formate" }
                        th scope="col" class="text-end" { "Obiettivo" } th scope="col" class="text-end" { "Quota raggiunta" }
                    } }
                    tbody { @for s in &progress.sectors { tr {
                        th scope="row" { (s.label) }
                        td class="text-end" { (s.people_trained) }
                        td class="text-end" { (s.target) }
                        td class="text-end" { (share(s.people_trained.min(s.target), s.target)) }
                    } } }
                }
            }
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole degli obiettivi per ente" {
                table class="table" id="obiettivi-enti" {
                    caption { "Per ente: persone formate per settore e ore per persona" }
                    thead { tr {
                        th scope="col" { "Ente" }
                        @for s in &progress.sectors { th scope="col" class="text-end" { (s.label) } }
                        th scope="col" class="text-end" { "Persone con ore" }
                        th scope="col" class="text-end" { "Con almeno " (progress.hours_per_person_year) " ore" }
                        th scope="col" class="text-end" { "Ore medie per persona" }
                    } }
                    tbody { @for e in &progress.entities { tr {
                        th scope="row" { (e.name) }
                        @for n in &e.people_trained { td class="text-end" { (n) } }
                        td class="text-end" { (e.people_with_hours) }
                        td class="text-end" { (e.people_meeting_hours) " (" (share(e.people_meeting_hours, e.people_with_hours)) ")" }
                        td class="text-end" { @if e.people_with_hours == 0 { "—" } @else {
                            (crate::formazione::hours_text(e.minutes_attended / i64::try_from(e.people_with_hours).unwrap_or(1)))
                        } }
                    } } }
                }
            }
        }
    }
}
