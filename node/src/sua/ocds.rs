//! The OCDS 1.1 export of SUA procedures: release packages that validate against the
//! official `release-package-schema.json` (1.1.5), with the lots extension, in the shape
//! ANAC publishes so that the same tools read both.
//!
//! One procedure is one compiled release (`tag: ["compiled"]`, the current state of the
//! whole contracting process, as ANAC's bulk files):
//! - **ocid**: the one stored with the procedure (ANAC's, for imported releases); else
//!   `ocds-hu01ve-<numero gara>` when the ANAC numero gara is known (ANAC's prefix and
//!   local id, so the release joins ANAC's data); else `ocds-pico-<province>-<id>`: the
//!   node's own, stable (the procedure id never changes and the Province code makes it
//!   unique across the federation), and not mistakable for a registered prefix, which is
//!   six letters or digits after `ocds-`. The release `id` is `<ocid>-<last change>`.
//! - **parties**: the buyer (`IT-CF` identifier when its codice fiscale is known; every
//!   Comune served, for an aggregated initiative), the Province's SUA as
//!   `procuringEntity` for the procedures it runs (not for imported ones, whose procuring
//!   entity the source does not say), and the suppliers with their `IT-CF` identifiers.
//!   Party ids are `IT-CF-<codice fiscale>` when known, else `istat-comune-<ISTAT code>`
//!   for Comuni and `pico-sua-<province>` for the SUA.
//! - **tender**: object and description, status, value (estimate), `procurementMethod` and
//!   `procurementMethodDetails` as ANAC writes it (`COD:34 ; TITLE:…`),
//!   `mainProcurementCategory`, award criteria, tender period, lots (`id` = CIG) and one
//!   item per lot with its CPV classification (`relatedLot`).
//! - **awards**: one per awarded lot (`relatedLots`), with its suppliers, amount and date;
//!   **contracts**: one per lot with a signed contract (`dateSigned`).
//! - **planning.budget**: the CUP as `projectID`, the funding source (and PNRR) as its
//!   description.
//!
//! Dates stored as days are written as midnight UTC (`2022-04-12T00:00:00Z`). Amounts are
//! JSON numbers in euro with at most two decimals. A node with no public procedure serves a
//! package with an empty `releases` list: the schema asks for at least one release, but
//! there is nothing to publish.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::db::comuni::Province;
use crate::sua::db::data::{ExportLot, ExportProcedure, SUPPLIER_SEPARATOR};

/// ANAC's registered ocid prefix.
pub const ANAC_OCID_PREFIX: &str = "ocds-hu01ve-";

/// The OCDS lots extension (tender.lots, items' relatedLot, awards' relatedLots).
pub const LOTS_EXTENSION: &str = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json";

/// The licence of the export: CC BY 4.0, the default licence of Italian public
/// administrations' open data (AgID guidelines); imported ANAC data is CC BY 4.0 as well.
pub const LICENSE: &str = "https://creativecommons.org/licenses/by/4.0/";

/// The ocid of a procedure (see the module documentation).
pub fn ocid(province: &str, procedure: &ExportProcedure) -> String {
    if let Some(ocid) = procedure.ocid.as_deref().filter(|o| !o.is_empty()) {
        return ocid.to_owned();
    }
    if let Some(gara) = procedure.anac_gara.as_deref().filter(|g| !g.is_empty()) {
        return format!("{ANAC_OCID_PREFIX}{gara}");
    }
    format!("ocds-pico-{province}-{}", procedure.id)
}

/// A stored day as an OCDS date-time.
fn date_time(day: Option<&str>) -> Option<String> {
    day.filter(|d| d.len() == 10)
        .map(|d| format!("{d}T00:00:00Z"))
}

/// Cents as a JSON number of euro.
fn euro(cents: i64) -> Value {
    if cents % 100 == 0 {
        json!(cents / 100)
    } else {
        // Two decimals at most: the nearest double prints as the decimal text.
        json!(cents as f64 / 100.0)
    }
}

fn value(cents: i64) -> Value {
    json!({"amount": euro(cents), "currency": "EUR"})
}

/// The OCDS `procurementMethod` of an ANAC procedure code.
fn procurement_method(code: i64) -> Option<&'static str> {
    match code {
        1 => Some("open"),
        2 | 3 | 5 => Some("selective"),
        4 | 34 => Some("limited"),
        24 | 27 => Some("direct"),
        _ => None,
    }
}

fn tender_status(state: &str) -> &'static str {
    match state {
        "published" | "bids_closed" | "evaluation" => "active",
        "awarded" | "contract_signed" | "completed" => "complete",
        "deserted" => "unsuccessful",
        "cancelled" => "cancelled",
        "withdrawn" => "withdrawn",
        _ => "planning",
    }
}

fn lot_status(status: &str) -> &'static str {
    match status {
        "awarded" => "complete",
        "deserted" => "unsuccessful",
        "cancelled" => "cancelled",
        _ => "active",
    }
}

fn award_criteria(criterion: &str) -> Option<&'static str> {
    match criterion {
        "lowest_price" => Some("priceOnly"),
        "best_value" => Some("ratedCriteria"),
        "fixed_price" => Some("qualityOnly"),
        _ => None,
    }
}

/// Parties by id, roles merged, in a stable order.
#[derive(Debug, Default)]
struct Parties(BTreeMap<String, Map<String, Value>>);

impl Parties {
    /// Adds (or merges the role into) a party; returns its reference.
    fn add(&mut self, id: &str, name: &str, cf: Option<&str>, role: &str) -> Value {
        let party = self.0.entry(id.to_owned()).or_insert_with(|| {
            let mut party = Map::new();
            party.insert("id".into(), json!(id));
            party.insert("name".into(), json!(name));
            if let Some(cf) = cf {
                party.insert(
                    "identifier".into(),
                    json!({"scheme": "IT-CF", "id": cf, "legalName": name}),
                );
            }
            party.insert("roles".into(), json!([]));
            party
        });
        if let Some(Value::Array(roles)) = party.get_mut("roles")
            && !roles.iter().any(|r| r == role)
        {
            roles.push(json!(role));
        }
        json!({"id": id, "name": name})
    }

    fn into_value(self) -> Value {
        Value::Array(self.0.into_values().map(Value::Object).collect())
    }
}

fn party_id(cf: Option<&str>, fallback: String) -> String {
    match cf {
        Some(cf) => format!("IT-CF-{cf}"),
        None => fallback,
    }
}

fn lot_id(lot: &ExportLot) -> String {
    lot.cig
        .clone()
        .unwrap_or_else(|| format!("lotto-{}", lot.lot_no))
}

/// One procedure as an OCDS compiled release.
pub fn release(province: &Province, procedure: &ExportProcedure) -> Value {
    let ocid = ocid(&province.code, procedure);
    let mut parties = Parties::default();

    // Buyer(s): an aggregated initiative has every Comune it serves as a buyer, the lead
    // (or the first) as the release's `buyer`.
    let buyer_cf = Some(procedure.buyer_cf.as_str()).filter(|cf| !cf.is_empty());
    let buyer_name = if procedure.buyer_name.is_empty() {
        procedure
            .comune_name
            .as_deref()
            .map_or_else(String::new, |name| format!("Comune di {name}"))
    } else {
        procedure.buyer_name.clone()
    };
    let buyer = if procedure.aggregated && !procedure.participants.is_empty() {
        let mut lead = None;
        for (code, name) in &procedure.participants {
            let is_lead = Some(code) == procedure.comune_code.as_ref();
            let cf = buyer_cf.filter(|_| is_lead);
            let reference = parties.add(
                &party_id(cf, format!("istat-comune-{code}")),
                &format!("Comune di {name}"),
                cf,
                "buyer",
            );
            if is_lead || lead.is_none() {
                lead = Some(reference);
            }
        }
        lead.unwrap_or_default()
    } else {
        let fallback = match &procedure.comune_code {
            Some(code) => format!("istat-comune-{code}"),
            None => format!("buyer-{}", procedure.id),
        };
        parties.add(
            &party_id(buyer_cf, fallback),
            &buyer_name,
            buyer_cf,
            "buyer",
        )
    };
    let procuring = if procedure.source.starts_with("import_") {
        None
    } else {
        Some(parties.add(
            &format!("pico-sua-{}", province.code),
            &format!("{} - Stazione Unica Appaltante", province.name),
            None,
            "procuringEntity",
        ))
    };

    // Lots and items.
    let mut lots = Vec::new();
    let mut items = Vec::new();
    let cpv_other: Vec<String> = serde_json::from_str(&procedure.cpv_other).unwrap_or_default();
    for (i, lot) in procedure.lots.iter().enumerate() {
        let id = lot_id(lot);
        lots.push(json!({
            "id": id,
            "description": lot.description,
            "value": value(lot.amount_cents),
            "status": lot_status(&lot.status),
        }));
        let mut item = json!({
            "id": id,
            "description": lot.description,
            "classification": {
                "scheme": "CPV",
                "id": lot.cpv.as_deref().unwrap_or(&procedure.cpv_main),
            },
            "relatedLot": id,
        });
        if i == 0 && !cpv_other.is_empty() {
            item["additionalClassifications"] = Value::Array(
                cpv_other
                    .iter()
                    .map(|code| json!({"scheme": "CPV", "id": code}))
                    .collect(),
            );
        }
        items.push(item);
    }

    // Awards and contracts.
    let mut awards = Vec::new();
    let mut contracts = Vec::new();
    for lot in &procedure.lots {
        let Some(names) = lot.supplier_name.as_deref().filter(|n| !n.is_empty()) else {
            continue;
        };
        let id = lot_id(lot);
        let award_id = format!("{id}-aggiudicazione");
        let cfs: Vec<&str> = lot
            .supplier_cf
            .as_deref()
            .map(|cfs| {
                cfs.split(SUPPLIER_SEPARATOR.trim())
                    .map(str::trim)
                    .collect()
            })
            .unwrap_or_default();
        let suppliers: Vec<Value> = names
            .split(SUPPLIER_SEPARATOR.trim())
            .map(str::trim)
            .enumerate()
            .map(|(i, name)| {
                let cf = cfs.get(i).copied().filter(|cf| !cf.is_empty());
                parties.add(
                    &party_id(cf, format!("{id}-operatore-{}", i + 1)),
                    name,
                    cf,
                    "supplier",
                )
            })
            .collect();
        let mut award = json!({
            "id": award_id,
            "status": "active",
            "suppliers": suppliers,
            "relatedLots": [id],
        });
        if let Some(cents) = lot.award_cents {
            award["value"] = value(cents);
        }
        if let Some(date) = date_time(lot.awarded_on.as_deref()) {
            award["date"] = json!(date);
        }
        awards.push(award);
        if let Some(signed) = date_time(lot.contract_signed_on.as_deref()) {
            let mut contract = json!({
                "id": format!("{id}-contratto"),
                "awardID": award_id,
                "status": if procedure.state == "completed" { "terminated" } else { "active" },
                "dateSigned": signed,
            });
            if let Some(cents) = lot.award_cents {
                contract["value"] = value(cents);
            }
            contracts.push(contract);
        }
    }

    // Tender.
    let mut tender = json!({
        "id": procedure.anac_gara.clone().unwrap_or_else(|| procedure.id.to_string()),
        "title": procedure.object,
        "description": if procedure.description.is_empty() { &procedure.object } else { &procedure.description },
        "status": tender_status(&procedure.state),
        "value": value(procedure.estimated_cents),
        "procurementMethodDetails": format!("COD:{} ; TITLE:{}", procedure.procedure_code, procedure.procedure_label),
        "mainProcurementCategory": crate::sua::ContractType::parse(&procedure.contract_type)
            .map_or("services", crate::sua::ContractType::ocds),
        "items": items,
        "lots": lots,
    });
    if let Some(method) = procurement_method(procedure.procedure_code) {
        tender["procurementMethod"] = json!(method);
    }
    if let Some(criteria) = award_criteria(&procedure.award_criterion) {
        tender["awardCriteria"] = json!(criteria);
    }
    if let Some(procuring) = procuring {
        tender["procuringEntity"] = procuring;
    }
    let mut period = Map::new();
    if let Some(start) = date_time(procedure.published_on.as_deref()) {
        period.insert("startDate".into(), json!(start));
    }
    if let Some(end) = date_time(procedure.deadline_on.as_deref()) {
        period.insert("endDate".into(), json!(end));
    }
    if !period.is_empty() {
        tender["tenderPeriod"] = Value::Object(period);
    }
    if let [lot] = procedure.lots.as_slice()
        && let Some(bids) = lot.bids_count
    {
        tender["numberOfTenderers"] = json!(bids);
    }

    let date = crate::db::rfc3339(procedure.updated_at);
    let mut release = json!({
        "ocid": ocid,
        "id": format!("{ocid}-{}", procedure.updated_at),
        "date": date,
        "tag": ["compiled"],
        "initiationType": "tender",
        "language": "it",
        "buyer": buyer,
        "tender": tender,
    });
    let mut budget = Map::new();
    if let Some(cup) = procedure.cup.as_deref().filter(|c| !c.is_empty()) {
        budget.insert("projectID".into(), json!(cup));
    }
    let funding = match (procedure.funding_source.is_empty(), procedure.pnrr) {
        (true, false) => None,
        (true, true) => Some("PNRR".to_owned()),
        (false, false) => Some(procedure.funding_source.clone()),
        (false, true) => Some(format!("{} (PNRR)", procedure.funding_source)),
    };
    if let Some(funding) = funding {
        budget.insert("description".into(), json!(funding));
    }
    if !budget.is_empty() {
        release["planning"] = json!({"budget": budget});
    }
    if !awards.is_empty() {
        release["awards"] = Value::Array(awards);
    }
    if !contracts.is_empty() {
        release["contracts"] = Value::Array(contracts);
    }
    release["parties"] = parties.into_value();
    release
}

/// A release package around `releases`. `uri` identifies this package (the URL it is
/// served at); `published` is the last change of its contents.
pub fn package(
    province: &Province,
    public_url: &str,
    uri: String,
    published: i64,
    releases: Vec<Value>,
) -> Value {
    json!({
        "uri": Value::String(uri),
        "version": "1.1",
        "extensions": [LOTS_EXTENSION],
        "publishedDate": crate::db::rfc3339(published),
        "publisher": {
            "name": format!("{} - Stazione Unica Appaltante", province.name),
            "uri": public_url,
        },
        "license": LICENSE,
        "releases": Value::Array(releases),
    })
}
