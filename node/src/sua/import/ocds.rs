//! Import of OCDS compiled releases as ANAC publishes them (`ocds-hu01ve-…`).
//!
//! Accepted layouts: a release package (`{"releases": […]}`, extra members such as `_note`
//! ignored), a record package (each record's `compiledRelease`), a JSON array of releases,
//! one release, or JSON Lines with one release (or package) per line, as ANAC's bulk files
//! (`2025.jsonl`). JSON Lines are streamed; the other layouts are read whole.
//!
//! One release becomes one procedure:
//! - `tender.lots[]` become lots, the lot `id` being the CIG (ANAC's convention); items give
//!   each lot its CPV (`relatedLot`), the first is the procedure's main CPV;
//! - `tender.title` is the object, or `tender.description` when the title is null (as in
//!   every ANAC release);
//! - `procurementMethodDetails` `COD:34 ; TITLE:PROCEDURA NEGOZIATA …` gives the ANAC
//!   procedure code and title; `tender.id` (digits) is the numero gara;
//! - `buyer` and the `parties` entry with its `IT-CF` identifier give the buyer, matched to
//!   a Comune of this Province when it is one;
//! - `awards[]` are mapped to lots by `relatedLots` (or their items' `relatedLot`, or the
//!   only lot), with suppliers (`IT-CF` identifiers), amount and date; the ribasso is
//!   computed from the lot's base amount; `contracts[]` with a `dateSigned` mark their
//!   award's lots as signed;
//! - the state: `contract_signed` when every awarded lot has a signed contract, `awarded`
//!   when a lot is awarded, `deserted`/`cancelled` from the tender or lot status, otherwise
//!   `bids_closed` when the tender period ended before the release date and `published`
//!   else;
//! - dates: publication and deadline from `tenderPeriod`; the request instant (the start of
//!   "days from request to award" and the year) is the publication date, since ANAC does
//!   not know when a Comune asked its SUA.
//!
//! The release `date` ANAC writes is malformed (`2025-01-08 17:31:38.793T12:00:00Z`); it is
//! repaired (read as `2025-01-08T17:31:38.793Z`) with a warning.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};

use serde_json::Value;

use super::{
    ImportError, ImportedRecord, KeyStatus, SkippedRecord, Writer, cf_shaped, day_start, iso_day,
    parse_day,
};
use crate::sua::db::data::{NewLot, NewProcedure, SUPPLIER_SEPARATOR};
use crate::sua::{
    AwardCriterion, Cig, ContractType, Cpv, Cup, Euro, OBJECT_MAX, Ribasso, State, procedure_label,
};

/// Reads `input` and imports every release in it.
pub(crate) fn import(writer: &mut Writer<'_>, input: &mut impl Read) -> Result<(), ImportError> {
    let mut input = std::io::BufReader::new(input);
    // Skip a BOM and leading blank lines, then look at the first line: a complete JSON value
    // there means JSON Lines; otherwise the file is one JSON document.
    let mut first = Vec::new();
    let mut first_line_no = 0u64;
    loop {
        first.clear();
        if input.read_until(b'\n', &mut first)? == 0 {
            return Err(ImportError::Malformed(
                "il file è vuoto: servono release OCDS in JSON".to_owned(),
            ));
        }
        first_line_no += 1;
        if first_line_no == 1 && first.starts_with(b"\xEF\xBB\xBF") {
            first.drain(..3);
        }
        if first.iter().any(|b| !b.is_ascii_whitespace()) {
            break;
        }
    }
    match serde_json::from_slice::<Value>(&first) {
        Ok(value) if first.trim_ascii_start().first() == Some(&b'{') => {
            let mut ordinal = 0u64;
            take_value(writer, value, Some(first_line_no), &mut ordinal)?;
            let mut line_no = first_line_no;
            let mut line = Vec::new();
            loop {
                line.clear();
                if input.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                line_no += 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let value: Value = serde_json::from_slice(&line).map_err(|err| {
                    ImportError::Malformed(format!(
                        "JSON non valido alla riga {line_no}, colonna {}: {}",
                        err.column(),
                        describe(&err)
                    ))
                })?;
                take_value(writer, value, Some(line_no), &mut ordinal)?;
            }
            Ok(())
        }
        _ => {
            let skipped_lines = first_line_no - 1;
            let whole = std::io::Cursor::new(first).chain(input);
            let value: Value = serde_json::from_reader(whole).map_err(|err| {
                let line = err.line() as u64 + skipped_lines;
                ImportError::Malformed(format!(
                    "JSON non valido alla riga {line}, colonna {}: {}",
                    err.column(),
                    describe(&err)
                ))
            })?;
            let mut ordinal = 0u64;
            take_value(writer, value, None, &mut ordinal)
        }
    }
}

fn describe(err: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the position is already in our message.
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Imports the releases of one top-level JSON value.
fn take_value(
    writer: &mut Writer<'_>,
    value: Value,
    line: Option<u64>,
    ordinal: &mut u64,
) -> Result<(), ImportError> {
    match value {
        Value::Array(items) => {
            for item in items {
                take_release(writer, &item, line, ordinal)?;
            }
        }
        Value::Object(mut object) => {
            if let Some(Value::Array(releases)) = object.remove("releases") {
                for release in releases {
                    take_release(writer, &release, line, ordinal)?;
                }
            } else if let Some(Value::Array(records)) = object.remove("records") {
                for record in records {
                    let release = record.get("compiledRelease").cloned().unwrap_or(record);
                    take_release(writer, &release, line, ordinal)?;
                }
            } else {
                take_release(writer, &Value::Object(object), line, ordinal)?;
            }
        }
        other => take_release(writer, &other, line, ordinal)?,
    }
    Ok(())
}

/// One release: mapped and written, or skipped with its reason.
fn take_release(
    writer: &mut Writer<'_>,
    release: &Value,
    line: Option<u64>,
    ordinal: &mut u64,
) -> Result<(), ImportError> {
    *ordinal += 1;
    let record = writer.count_record();
    let ocid = text(release.get("ocid"));
    let skip = |writer: &mut Writer<'_>, code: &'static str, reason: String| {
        writer.skipped(SkippedRecord {
            record,
            line,
            key: ocid.clone(),
            code,
            reason,
        });
    };
    let Some(key) = ocid.clone() else {
        skip(
            writer,
            "not_a_release",
            "non è una release OCDS: manca l'ocid".to_owned(),
        );
        return Ok(());
    };
    match writer.key_status(&key)? {
        KeyStatus::New => {}
        KeyStatus::Imported(id) => {
            skip(
                writer,
                "already_imported",
                format!("già importata (procedura {id})"),
            );
            return Ok(());
        }
        KeyStatus::ThisBatch(id) => {
            skip(
                writer,
                "duplicate_in_file",
                format!("lo stesso ocid compare prima nel file (procedura {id})"),
            );
            return Ok(());
        }
    }
    if let Some(id) = crate::sua::db::data::procedure_by_ocid(writer.conn(), &key)? {
        skip(
            writer,
            "already_in_node",
            format!("la procedura {id} di questo nodo ha già questo ocid"),
        );
        return Ok(());
    }
    let mapped = match map_release(release, &key) {
        Ok(mapped) => mapped,
        Err((code, reason)) => {
            skip(writer, code, reason);
            return Ok(());
        }
    };
    if let Some(gara) = &mapped.procedure.anac_gara
        && let Some(id) = writer.gara_owner(gara)?
    {
        skip(
            writer,
            "already_in_node",
            format!("la procedura {id} di questo nodo ha già il numero gara {gara}"),
        );
        return Ok(());
    }
    for lot in &mapped.lots {
        if let Some(cig) = &lot.cig
            && let Some(owner) = crate::sua::db::data::lot_owner(writer.conn(), cig)?
        {
            skip(
                writer,
                "cig_in_use",
                format!("il CIG {cig} appartiene già alla procedura {owner}"),
            );
            return Ok(());
        }
    }
    let mut procedure = mapped.procedure;
    procedure.comune_code = writer.match_buyer(&procedure.buyer_cf, &procedure.buyer_name);
    let id = writer.insert_procedure(&procedure)?;
    for lot in &mapped.lots {
        if let Some(owner) = writer.insert_lot(id, lot)? {
            // Checked above; only a race with another writer could get here, and the
            // transaction holds the write lock.
            return Err(ImportError::Malformed(format!(
                "{key}: il CIG {} appartiene già alla procedura {owner}",
                lot.cig.as_deref().unwrap_or_default()
            )));
        }
    }
    for message in mapped.warnings {
        writer.warn(record, line, &key, message);
    }
    if procedure.comune_code.is_none() {
        writer.warn(
            record,
            line,
            &key,
            format!(
                "l'ente {} (codice fiscale {}) non è un Comune di questa Provincia: la procedura è conservata senza Comune",
                procedure.buyer_name,
                if procedure.buyer_cf.is_empty() {
                    "non indicato"
                } else {
                    &procedure.buyer_cf
                }
            ),
        );
    }
    let awards = mapped
        .lots
        .iter()
        .filter(|lot| lot.award_cents.is_some() || lot.supplier_name.is_some())
        .count() as u64;
    writer.imported(ImportedRecord {
        record,
        line,
        key,
        procedure_id: id,
        state: procedure.state.unwrap_or(State::Published),
        lots: mapped.lots.len() as u64,
        awards,
        comune_code: procedure.comune_code.clone(),
        buyer_name: procedure.buyer_name.clone(),
        buyer_cf: procedure.buyer_cf.clone(),
    });
    Ok(())
}

/// A release turned into rows.
#[derive(Debug)]
struct Mapped {
    procedure: NewProcedure,
    lots: Vec<NewLot>,
    warnings: Vec<String>,
}

type Skip = (&'static str, String);

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The date part of an OCDS date-time (`2022-04-12T12:00:00Z` → 2022-04-12).
fn date_part(value: Option<&Value>) -> Option<time::Date> {
    let text = value.and_then(Value::as_str)?;
    parse_day(text.get(..10)?).ok()
}

/// An OCDS amount in cents: exact from the number's decimal text when it has at most two
/// decimals, else rounded.
/// Refusals carry their skip code: `not_eur` for another currency, `bad_amount` otherwise.
fn cents(value: &Value) -> Result<Option<i64>, (&'static str, String)> {
    let Some(amount) = value.get("amount").filter(|a| !a.is_null()) else {
        return Ok(None);
    };
    if let Some(currency) = text(value.get("currency"))
        && currency != "EUR"
    {
        return Err(("not_eur", format!("importi in {currency}, non in EUR")));
    }
    let Some(number) = amount.as_f64() else {
        return Err(("bad_amount", format!("l'importo {amount} non è un numero")));
    };
    let digits = amount.to_string();
    let (units, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    if fraction.len() <= 2
        && units.len() <= 13
        && !units.is_empty()
        && units
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        && let (Ok(units), Ok(fraction)) = (
            units.parse::<i64>(),
            format!("{fraction:0<2}").parse::<i64>(),
        )
        && units * 100 + fraction <= Euro::MAX_CENTS
    {
        return Ok(Some(units * 100 + fraction));
    }
    let rounded = (number * 100.0).round();
    if !rounded.is_finite() || rounded < 0.0 || rounded > Euro::MAX_CENTS as f64 {
        return Err((
            "bad_amount",
            format!(
                "l'importo {amount} è fuori dai limiti (da 0 a {})",
                Euro(Euro::MAX_CENTS).to_italian()
            ),
        ));
    }
    Ok(Some(rounded as i64))
}

/// Repairs ANAC's release date (`2025-01-08 17:31:38.793T12:00:00Z`): the date and time
/// before the stray `T…`.
fn release_date(raw: &str) -> Result<Option<String>, ()> {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    if time::OffsetDateTime::parse(raw, rfc3339).is_ok() {
        return Ok(None);
    }
    let (date, rest) = raw.split_once(' ').ok_or(())?;
    let clock = rest.split('T').next().ok_or(())?;
    let repaired = format!("{date}T{clock}Z");
    if time::OffsetDateTime::parse(&repaired, rfc3339).is_ok() {
        Ok(Some(repaired))
    } else {
        Err(())
    }
}

/// `COD:34 ; TITLE:PROCEDURA NEGOZIATA PER AFFIDAMENTI SOTTO SOGLIA` → (34, title).
pub fn parse_method_details(details: &str) -> Option<(u16, String)> {
    let mut code = None;
    let mut title = String::new();
    for part in details.split(';') {
        let part = part.trim();
        if let Some(value) = part.strip_prefix("COD:") {
            code = value.trim().parse::<u16>().ok();
        } else if let Some(value) = part.strip_prefix("TITLE:") {
            value.trim().clone_into(&mut title);
        }
    }
    Some((code?, title))
}

/// The contract type of a CPV code when the release does not say: division 45 is works,
/// divisions 03–44 and 48 are goods, the rest services.
fn contract_type_of(cpv: &Cpv) -> ContractType {
    match cpv.division().parse::<u8>().unwrap_or(0) {
        45 => ContractType::Works,
        3..=44 | 48 => ContractType::Supplies,
        _ => ContractType::Services,
    }
}

/// The codice fiscale of party `id` (its `IT-CF` identifier, or the id itself when shaped
/// like one).
fn party_cf(parties: &[Value], id: Option<&str>) -> String {
    let Some(id) = id else {
        return String::new();
    };
    let party = parties
        .iter()
        .find(|p| p.get("id").and_then(Value::as_str) == Some(id));
    if let Some(identifier) = party.and_then(|p| p.get("identifier"))
        && identifier.get("scheme").and_then(Value::as_str) == Some("IT-CF")
        && let Some(cf) = text(identifier.get("id"))
    {
        return cf.to_ascii_uppercase();
    }
    if cf_shaped(id) {
        id.trim().to_ascii_uppercase()
    } else {
        String::new()
    }
}

fn map_release(release: &Value, ocid: &str) -> Result<Mapped, Skip> {
    let mut warnings = Vec::new();
    let release_day = match release.get("date").and_then(Value::as_str) {
        Some(raw) => match release_date(raw) {
            Ok(None) => date_part(release.get("date")),
            Ok(Some(repaired)) => {
                warnings.push(format!(
                    "la data della release {raw:?} è malformata; letta come {repaired}"
                ));
                parse_day(&repaired[..10]).ok()
            }
            Err(()) => {
                warnings.push(format!(
                    "la data della release {raw:?} non si può leggere; ignorata"
                ));
                None
            }
        },
        None => None,
    };
    let Some(tender) = release.get("tender").filter(|t| t.is_object()) else {
        return Err((
            "no_lots",
            "la release non ha un tender, quindi nessun lotto".to_owned(),
        ));
    };
    let parties = array(release.get("parties"));

    // Lots, with their CIG.
    let tender_lots = array(tender.get("lots"));
    if tender_lots.is_empty() {
        return Err(("no_lots", "il tender non ha lotti (nessun CIG)".to_owned()));
    }
    let items = array(tender.get("items"));
    let item_cpv = |item: &Value| -> Option<Result<Cpv, String>> {
        let classification = item.get("classification")?;
        if classification.get("scheme").and_then(Value::as_str) != Some("CPV") {
            return None;
        }
        let id = text(classification.get("id"))?;
        Some(Cpv::parse(&id))
    };
    let mut lots: Vec<NewLot> = Vec::with_capacity(tender_lots.len());
    let mut lot_index: BTreeMap<String, usize> = BTreeMap::new();
    let tender_description = text(tender.get("description"));
    for (i, lot) in tender_lots.iter().enumerate() {
        let raw_id = text(lot.get("id")).unwrap_or_default();
        let cig = Cig::parse(&raw_id)
            .map_err(|err| ("invalid_cig", format!("lotto {}: {err}", i + 1)))?;
        if lot_index.insert(raw_id.clone(), i).is_some() {
            return Err((
                "invalid_cig",
                format!("il CIG {cig} compare due volte tra i lotti"),
            ));
        }
        let amount = match lot.get("value").map(cents).transpose() {
            Ok(amount) => amount.flatten(),
            Err((code, reason)) => return Err((code, format!("lotto {cig}: {reason}"))),
        };
        let amount_cents = amount.unwrap_or_else(|| {
            warnings.push(format!(
                "il lotto {cig} non ha un importo (value); registrato come 0,00 €"
            ));
            0
        });
        let mut cpv = None;
        for item in items
            .iter()
            .filter(|item| item.get("relatedLot").and_then(Value::as_str) == Some(raw_id.as_str()))
        {
            match item_cpv(item) {
                Some(Ok(code)) => {
                    cpv = Some(code);
                    break;
                }
                Some(Err(err)) => warnings.push(format!("lotto {cig}: {err}; CPV tralasciato")),
                None => {}
            }
        }
        let status = match lot.get("status").and_then(Value::as_str) {
            Some("cancelled") => "cancelled",
            Some("unsuccessful") => "deserted",
            _ => "active",
        };
        lots.push(NewLot {
            lot_no: i as i64 + 1,
            cig: Some(cig.as_str().to_owned()),
            description: text(lot.get("description"))
                .or_else(|| text(lot.get("title")))
                .or_else(|| tender_description.clone())
                .unwrap_or_default(),
            cpv: cpv.map(|c| c.as_str().to_owned()),
            amount_cents,
            status,
            ..NewLot::default()
        });
    }

    // The procedure's CPV codes: the first valid one is the main.
    let mut cpvs: Vec<String> = Vec::new();
    for item in items {
        if let Some(Ok(code)) = item_cpv(item)
            && !cpvs.iter().any(|c| c == code.as_str())
        {
            cpvs.push(code.as_str().to_owned());
        }
    }
    for lot in &lots {
        if let Some(code) = &lot.cpv
            && !cpvs.contains(code)
        {
            cpvs.push(code.clone());
        }
    }
    let main_cpv = lots
        .iter()
        .find_map(|lot| lot.cpv.clone())
        .or_else(|| cpvs.first().cloned())
        .ok_or((
            "no_cpv",
            "nessun item ha una classificazione CPV valida".to_owned(),
        ))?;
    let cpv_other: Vec<&String> = cpvs.iter().filter(|c| **c != main_cpv).collect();

    // Object and description.
    let title = text(tender.get("title"));
    let full_object = match (&title, &tender_description) {
        (Some(title), _) => title.clone(),
        (None, Some(description)) => {
            warnings
                .push("tender.title è vuoto; come oggetto si usa tender.description".to_owned());
            description.clone()
        }
        (None, None) => match lots.first().map(|l| l.description.clone()) {
            Some(description) if !description.is_empty() => {
                warnings.push(
                    "il tender non ha title né description; come oggetto si usa la descrizione del primo lotto"
                        .to_owned(),
                );
                description
            }
            _ => {
                return Err((
                    "no_object",
                    "il tender non ha title né description".to_owned(),
                ));
            }
        },
    };
    let object = if full_object.chars().count() > OBJECT_MAX {
        warnings.push(format!(
            "l'oggetto supera i {OBJECT_MAX} caratteri; è stato accorciato (il testo intero è nella descrizione)"
        ));
        let mut short: String = full_object.chars().take(OBJECT_MAX - 1).collect();
        short.push('…');
        short
    } else {
        full_object.clone()
    };
    let description = tender_description.unwrap_or_else(|| full_object.clone());

    // Kind, procedure, criterion.
    let main = Cpv::parse(&main_cpv).map_err(|err| ("no_cpv", err))?;
    let contract_type = match tender
        .get("mainProcurementCategory")
        .and_then(Value::as_str)
        .and_then(ContractType::parse)
    {
        Some(kind) => kind,
        None => {
            let kind = contract_type_of(&main);
            warnings.push(format!(
                "manca mainProcurementCategory; dal CPV {} si deduce il tipo «{}»",
                main.as_str(),
                kind.label(),
            ));
            kind
        }
    };
    let (procedure_code, procedure_title) = match tender
        .get("procurementMethodDetails")
        .and_then(Value::as_str)
        .and_then(parse_method_details)
    {
        Some((code, title)) => {
            let title = if title.is_empty() {
                procedure_label(code).unwrap_or_default().to_owned()
            } else {
                title
            };
            (i64::from(code), title)
        }
        None => {
            warnings.push(
                "procurementMethodDetails manca o non è nella forma ANAC «COD:… ; TITLE:…»; registrato il codice di procedura 0"
                    .to_owned(),
            );
            (
                0,
                text(tender.get("procurementMethodDetails"))
                    .unwrap_or_else(|| "NON INDICATA".to_owned()),
            )
        }
    };
    let award_criterion = match tender.get("awardCriteria").and_then(Value::as_str) {
        Some("priceOnly" | "lowestCost" | "costOnly") => AwardCriterion::LowestPrice,
        Some("ratedCriteria" | "bestProposal" | "bestValueToGovernment") => {
            AwardCriterion::BestValue
        }
        Some("qualityOnly") => AwardCriterion::FixedPrice,
        _ => AwardCriterion::Unknown,
    };
    let estimated_cents = match tender.get("value").map(cents).transpose() {
        Ok(Some(Some(amount))) => amount,
        Ok(_) => {
            warnings.push("manca tender.value; l'importo stimato è la somma dei lotti".to_owned());
            lots.iter().map(|l| l.amount_cents).sum()
        }
        Err(refusal) => return Err(refusal),
    };

    // Buyer.
    let buyer = release.get("buyer");
    let buyer_id = buyer.and_then(|b| b.get("id")).and_then(Value::as_str);
    let buyer_party = parties.iter().find(|p| {
        buyer_id.is_some_and(|id| p.get("id").and_then(Value::as_str) == Some(id))
            || array(p.get("roles"))
                .iter()
                .any(|r| r.as_str() == Some("buyer"))
    });
    let buyer_name = text(buyer.and_then(|b| b.get("name")))
        .or_else(|| text(buyer_party.and_then(|p| p.get("name"))))
        .ok_or((
            "no_buyer",
            "la release non indica l'ente appaltante (buyer)".to_owned(),
        ))?;
    let buyer_cf = party_cf(
        parties,
        buyer_id.or_else(|| {
            buyer_party
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
        }),
    );

    // Awards and contracts.
    let mut award_lots: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for award in array(release.get("awards")) {
        let award_id = text(award.get("id")).unwrap_or_default();
        let mut related: Vec<usize> = array(award.get("relatedLots"))
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|id| lot_index.get(id).copied())
            .collect();
        if related.is_empty() {
            related = array(award.get("items"))
                .iter()
                .filter_map(|item| item.get("relatedLot").and_then(Value::as_str))
                .filter_map(|id| lot_index.get(id).copied())
                .collect();
        }
        if related.is_empty() && lots.len() == 1 {
            related.push(0);
        }
        related.sort_unstable();
        related.dedup();
        if related.is_empty() {
            warnings.push(format!(
                "l'aggiudicazione {award_id} non indica alcun lotto del tender; tralasciata"
            ));
            continue;
        }
        match award.get("status").and_then(Value::as_str) {
            None | Some("active") => {}
            Some("unsuccessful") => {
                for &i in &related {
                    if lots[i].status == "active" {
                        lots[i].status = "deserted";
                    }
                }
                continue;
            }
            Some(other) => {
                warnings.push(format!(
                    "l'aggiudicazione {award_id} è nello stato {other:?}; tralasciata"
                ));
                continue;
            }
        }
        let mut names = Vec::new();
        let mut cfs = Vec::new();
        for supplier in array(award.get("suppliers")) {
            let Some(name) = text(supplier.get("name")) else {
                continue;
            };
            let cf = party_cf(parties, supplier.get("id").and_then(Value::as_str));
            names.push(name);
            cfs.push(cf);
        }
        let amount = match award.get("value").map(cents).transpose() {
            Ok(amount) => amount.flatten(),
            Err((code, reason)) => {
                return Err((code, format!("aggiudicazione {award_id}: {reason}")));
            }
        };
        let awarded_on = date_part(award.get("date")).map(iso_day);
        if related.len() > 1 && amount.is_some() {
            warnings.push(format!(
                "l'aggiudicazione {award_id} copre {} lotti con un solo importo; l'importo non è ripartito tra i lotti",
                related.len()
            ));
        }
        for &i in &related {
            let lot = &mut lots[i];
            if lot.status == "awarded" {
                warnings.push(format!(
                    "il lotto {} ha più aggiudicazioni; si tiene la prima",
                    lot.cig.as_deref().unwrap_or_default()
                ));
                continue;
            }
            lot.status = "awarded";
            if !names.is_empty() {
                lot.supplier_name = Some(names.join(SUPPLIER_SEPARATOR));
                lot.supplier_cf = Some(cfs.join(SUPPLIER_SEPARATOR));
            }
            if related.len() == 1 {
                lot.award_cents = amount;
                lot.ribasso_milli = amount
                    .and_then(|a| Ribasso::between(Euro(lot.amount_cents), Euro(a)))
                    .map(|r| r.0);
            }
            lot.awarded_on.clone_from(&awarded_on);
        }
        award_lots.insert(award_id, related);
    }
    for contract in array(release.get("contracts")) {
        let Some(signed) = date_part(contract.get("dateSigned")) else {
            continue;
        };
        let award_id = text(contract.get("awardID")).unwrap_or_default();
        match award_lots.get(&award_id) {
            Some(related) => {
                for &i in related {
                    lots[i].contract_signed_on = Some(iso_day(signed));
                }
            }
            None => warnings.push(format!(
                "il contratto {} non si riferisce ad alcuna aggiudicazione importata ({award_id}); tralasciato",
                text(contract.get("id")).unwrap_or_default()
            )),
        }
    }

    // State and dates.
    let period = tender.get("tenderPeriod");
    let published = date_part(period.and_then(|p| p.get("startDate")));
    let deadline = date_part(period.and_then(|p| p.get("endDate")));
    let awarded: Vec<&NewLot> = lots.iter().filter(|l| l.status == "awarded").collect();
    let state = match tender.get("status").and_then(Value::as_str) {
        Some("cancelled" | "withdrawn") if awarded.is_empty() => State::Cancelled,
        Some("unsuccessful") if awarded.is_empty() => State::Deserted,
        _ if !awarded.is_empty() => {
            if awarded.iter().all(|l| l.contract_signed_on.is_some()) {
                State::ContractSigned
            } else {
                State::Awarded
            }
        }
        _ if lots.iter().all(|l| l.status == "deserted") => State::Deserted,
        _ if lots.iter().all(|l| l.status == "cancelled") => State::Cancelled,
        _ => match (deadline, release_day) {
            (Some(deadline), Some(day)) if deadline < day => State::BidsClosed,
            _ => State::Published,
        },
    };
    let awarded_on = awarded.iter().filter_map(|l| l.awarded_on.clone()).min();
    let contract_signed_on = if state == State::ContractSigned {
        awarded
            .iter()
            .filter_map(|l| l.contract_signed_on.clone())
            .max()
    } else {
        None
    };
    let requested = published
        .or(release_day)
        .or_else(|| parse_day(awarded_on.as_deref().unwrap_or_default()).ok());
    let Some(requested) = requested else {
        return Err((
            "no_date",
            "la release non ha alcuna data (né tenderPeriod, né data della release, né data di aggiudicazione)"
                .to_owned(),
        ));
    };
    if published.is_none() {
        warnings.push(format!(
            "manca tenderPeriod.startDate; la procedura decorre dal {}",
            crate::sua::day::Day::from(requested).italian()
        ));
    }
    let anac_gara = text(tender.get("id")).filter(|id| id.bytes().all(|b| b.is_ascii_digit()));
    let cup = release
        .get("planning")
        .and_then(|p| p.get("budget"))
        .and_then(|b| text(b.get("projectID")))
        .and_then(|id| Cup::parse(&id).ok())
        .map(|c| c.as_str().to_owned());

    let procedure = NewProcedure {
        comune_code: None,
        buyer_cf,
        buyer_name,
        object,
        description,
        contract_type: contract_type.as_str(),
        cpv_main: main_cpv,
        cpv_other: serde_json::to_string(&cpv_other).unwrap_or_else(|_| "[]".to_owned()),
        estimated_cents,
        procedure_code,
        procedure_label: procedure_title,
        award_criterion: award_criterion.as_str(),
        cup,
        funding_source: String::new(),
        pnrr: false,
        state: Some(state),
        anac_gara,
        ocid: Some(ocid.to_owned()),
        published_on: published.map(iso_day),
        deadline_on: deadline.map(iso_day),
        awarded_on,
        contract_signed_on,
        completed_on: None,
        requested_at: day_start(requested),
        year: requested.year(),
        external_key: ocid.to_owned(),
    };
    Ok(Mapped {
        procedure,
        lots,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_details() {
        assert_eq!(
            parse_method_details("COD:34 ; TITLE:PROCEDURA NEGOZIATA PER AFFIDAMENTI SOTTO SOGLIA"),
            Some((
                34,
                "PROCEDURA NEGOZIATA PER AFFIDAMENTI SOTTO SOGLIA".to_owned()
            ))
        );
        assert_eq!(parse_method_details("COD:1"), Some((1, String::new())));
        assert_eq!(parse_method_details("procedura aperta"), None);
    }

    #[test]
    fn anac_release_date_is_repaired() {
        assert_eq!(
            release_date("2025-01-08 17:31:38.793T12:00:00Z"),
            Ok(Some("2025-01-08T17:31:38.793Z".to_owned()))
        );
        assert_eq!(release_date("2025-01-08T17:31:38Z"), Ok(None));
        assert_eq!(release_date("yesterday"), Err(()));
    }

    #[test]
    fn amounts_are_exact_cents() {
        let v = serde_json::json!({"amount": 196721.31, "currency": "EUR"});
        assert_eq!(cents(&v), Ok(Some(19_672_131)));
        let v = serde_json::json!({"amount": 145000});
        assert_eq!(cents(&v), Ok(Some(14_500_000)));
        let v = serde_json::json!({"amount": 1.005});
        assert_eq!(cents(&v), Ok(Some(100)));
        let v = serde_json::json!({"amount": 10, "currency": "USD"});
        assert!(cents(&v).is_err());
    }
}
