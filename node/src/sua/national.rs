//! The national `appalti` dataset: one row per lot of every public SUA procedure, derived
//! from the SUA tables and federated through the Dati module when the Province enables it.
//!
//! Every operation that changes a procedure calls [`refresh_procedures`] in its own
//! transaction, so the dataset (and, when federated, its signed delta) never disagrees with
//! the procedures. The schema is documented for everyone in `protocol/datasets/appalti.md`;
//! [`FIELDS`] is its definition and [`encode`] writes a lot as a row in that order, from the
//! columns `sua::db::national` reads.
//!
//! - **Which procedures.** Those made public: published onward, deserted included
//!   ([`crate::sua::State::is_public`]). A procedure cancelled *after* its publication keeps
//!   its rows with state `cancelled` (its call was public and the SUA ran it; the national
//!   view can count or leave out cancellations); one cancelled before publication, like a
//!   request never accepted, has none. A public procedure without lots is one row with
//!   `lot_no` 0 standing for the whole procedure.
//! - **Key.** `[procedure_id, lot_no]`, not the CIG: a lot may have no CIG, a CIG may be
//!   corrected after publication (the row would be deleted and born again under another
//!   key), and the node must find a procedure's rows without reading the dataset: with this
//!   key they are one range of the rows index. The CIG is a field.
//! - **Registration.** The dataset is defined the first time a procedure changes. If a
//!   dataset named `appalti` already exists with another schema (a CSV imported by hand
//!   before the SUA module), it is taken over: redefined with the next schema version, its
//!   old rows dropped and, if it is federated, its rows built from the SUA tables and
//!   published again as a full snapshot. The Dati module refuses CSV imports and deletions
//!   by key into it ([`crate::dati::derived_by`]).
//! - **Rows only while federated.** With federation `off` the node keeps no rows: nobody
//!   receives them, and for a bulk import of 1,000,000 lots writing them was half the
//!   import's time (and 300 MB of database). Turning the dataset `national` builds the rows of
//!   every public procedure ([`materialise`]) in the transaction that writes the full
//!   snapshot; turning it `off` again withdraws them (an empty snapshot) and drops them.
//! - **Cost.** One set-based read of the SUA tables for all the procedures of a call (their
//!   ids travel in one statement), each lot encoded here, rows written by one prepared
//!   statement in key order. The new rows are compared with the stored ones in SQL and only
//!   the differences are signed, in entries of at most 10,000 rows read a page at a time.
//!   Figures in `node/benches/sua_import.rs`.

use std::fmt::Write as _;

use pico_protocol::limits::MAX_RECORDS_PER_BATCH;

use crate::dati::ops::{self, DatiError};
use crate::dati::{Dataset, Federation, FieldDef, FieldType};
use crate::db::{self, datasets};
use crate::error::AppError;
use crate::federation::Signer;
use crate::sua::db::national::{self as sql, Applied, DATASET, LotSource};
use crate::sua::{Euro, Ribasso};

/// The title shown in the Dati catalogue.
pub const TITLE: &str = "Appalti della SUA (un lotto per riga)";

/// The primary key.
pub const PRIMARY_KEY: [&str; 2] = ["procedure_id", "lot_no"];

/// The fields of schema version 1, in row order.
pub const FIELDS: [(&str, FieldType); 30] = [
    ("procedure_id", FieldType::Integer),
    ("lot_no", FieldType::Integer),
    ("cig", FieldType::Text),
    ("ocid", FieldType::Text),
    ("anac_gara", FieldType::Text),
    ("comune", FieldType::Text),
    ("comuni", FieldType::Text),
    ("aggregated", FieldType::Boolean),
    ("buyer_cf", FieldType::Text),
    ("object", FieldType::Text),
    ("contract_type", FieldType::Text),
    ("procedure_code", FieldType::Integer),
    ("procedure_label", FieldType::Text),
    ("award_criterion", FieldType::Text),
    ("cpv", FieldType::Text),
    ("cpv_division", FieldType::Text),
    ("cup", FieldType::Text),
    ("pnrr", FieldType::Boolean),
    ("state", FieldType::Text),
    ("lot_status", FieldType::Text),
    ("year", FieldType::Integer),
    ("month", FieldType::Integer),
    ("published_on", FieldType::Date),
    ("awarded_on", FieldType::Date),
    ("estimated_amount", FieldType::Decimal),
    ("lot_amount", FieldType::Decimal),
    ("award_amount", FieldType::Decimal),
    ("ribasso", FieldType::Decimal),
    ("bids_count", FieldType::Integer),
    ("duration_days", FieldType::Integer),
];

/// The field definitions, as the Dati module stores them.
pub fn field_defs() -> Vec<FieldDef> {
    FIELDS
        .iter()
        .map(|(name, kind)| FieldDef {
            name: (*name).to_owned(),
            kind: *kind,
        })
        .collect()
}

/// Brings the `appalti` rows of `procedure_ids` in line with the SUA tables, publishing the
/// change when the dataset is federated. Call it inside the transaction that changed them.
pub fn refresh_procedures(
    tx: &rusqlite::Connection,
    signer: &Signer,
    procedure_ids: &[i64],
) -> Result<(), AppError> {
    if procedure_ids.is_empty() {
        return Ok(());
    }
    refresh(tx, signer, Some(procedure_ids))?;
    Ok(())
}

/// Rebuilds the rows of every procedure (publishing only what differs; nothing while the
/// dataset is not federated, as it then keeps no rows), e.g.
/// after a repair of the SUA tables. Call it inside a transaction.
pub fn refresh_all(tx: &rusqlite::Connection, signer: &Signer) -> Result<Applied, DatiError> {
    refresh(tx, signer, None)
}

fn refresh(
    tx: &rusqlite::Connection,
    signer: &Signer,
    procedure_ids: Option<&[i64]>,
) -> Result<Applied, DatiError> {
    let (dataset, rebuilt) = ops::ensure_derived(
        tx,
        signer,
        &ops::DerivedDefinition {
            name: DATASET,
            title: TITLE,
            fields: field_defs(),
            primary_key: PRIMARY_KEY.iter().map(|k| (*k).to_owned()).collect(),
            materialise: &materialise,
        },
    )?;
    let rebuilt = rebuilt.map(|rows| Applied {
        inserted: rows.unsigned_abs(),
        ..Applied::default()
    });
    if let Some(applied) = rebuilt {
        // Every procedure was just written, these ones included.
        return Ok(applied);
    }
    if dataset.federation == Federation::Off {
        // Not published: no rows are kept (see the module documentation).
        return Ok(Applied::default());
    }
    match procedure_ids {
        Some(ids) => sql::load_ids(tx, ids)?,
        None => sql::load_all_ids(tx)?,
    };
    let applied = sql::diff_and_apply(tx, encode)?;
    publish_changes(tx, signer, &dataset)?;
    if applied != Applied::default() {
        sql::adjust_row_count(tx, applied.row_delta(), db::now())?;
    }
    sql::clear_work_tables(tx)?;
    Ok(applied)
}

/// Writes the rows of every public procedure, replacing whatever rows the dataset had, and
/// returns their number. The Dati module calls it in the transaction that turns the dataset
/// `national`, before the full snapshot that publishes them.
pub fn materialise(tx: &rusqlite::Connection) -> Result<i64, DatiError> {
    datasets::delete_all_rows(tx, DATASET)?;
    sql::load_all_ids(tx)?;
    sql::replace(tx, encode)?;
    sql::clear_work_tables(tx)?;
    Ok(datasets::count_rows(tx, DATASET)?)
}

/// Days from 1970-01-01 to the date `YYYY-MM-DD` (proleptic Gregorian), if it is one.
fn days_since_epoch(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i64 = date.get(0..4)?.parse().ok()?;
    let month: i64 = date.get(5..7)?.parse().ok()?;
    let day: i64 = date.get(8..10)?.parse().ok()?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Appends values to a JSON array under construction, in canonical form (SPEC §3): the same
/// text `dati::csv_import::encode` writes for the same values, written without building them.
struct ArrayWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ArrayWriter<'a> {
    fn new(out: &'a mut String) -> ArrayWriter<'a> {
        out.push('[');
        ArrayWriter { out, first: true }
    }

    fn comma(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    fn null(&mut self) {
        self.comma();
        self.out.push_str("null");
    }

    fn int(&mut self, value: i64) {
        self.comma();
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{value}");
    }

    fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    fn bool(&mut self, value: bool) {
        self.comma();
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn text(&mut self, value: &str) {
        self.comma();
        self.out.push('"');
        // Canonical escaping: `"`, `\` and the C0 controls only, short forms where they
        // exist, else lower-case `\u00xx`; everything else as it is.
        let mut rest = value;
        while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            self.out.push_str(&rest[..at]);
            let c = rest[at..].chars().next().unwrap_or(' ');
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                other => {
                    let _ = write!(self.out, "\\u{:04x}", u32::from(other));
                }
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.out.push_str(rest);
        self.out.push('"');
    }

    fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    fn finish(self) {
        self.out.push(']');
    }
}

/// Turns one lot into its row: the key `[procedure_id, lot_no]` and the values in the order
/// of [`FIELDS`].
pub fn encode(lot: &LotSource<'_>, pk: &mut String, data: &mut String) {
    let mut key = ArrayWriter::new(pk);
    key.int(lot.procedure_id);
    key.int(lot.lot_no);
    key.finish();

    // Dates that are not dates (an imported file's quirk) are left out rather than passed on
    // in a date field.
    let published = lot.published_on.filter(|d| days_since_epoch(d).is_some());
    let awarded = lot.awarded_on.filter(|d| days_since_epoch(d).is_some());
    let year = published
        .and_then(|d| d.get(0..4)?.parse().ok())
        .unwrap_or(lot.year);
    let month = published.and_then(|d| d.get(5..7)?.parse::<i64>().ok());
    let ribasso = lot.ribasso_milli.map(Ribasso).or_else(|| {
        lot.award_cents
            .and_then(|award| Ribasso::between(Euro(lot.amount_cents), Euro(award)))
    });
    let requested_day = lot.requested_at.div_euclid(86_400);
    let duration = awarded
        .and_then(days_since_epoch)
        .map(|awarded| awarded - requested_day)
        .filter(|days| *days >= 0);

    let mut row = ArrayWriter::new(data);
    row.int(lot.procedure_id);
    row.int(lot.lot_no);
    row.opt_text(lot.cig);
    row.opt_text(lot.ocid);
    row.opt_text(lot.anac_gara);
    row.opt_text(lot.comune);
    row.text(lot.comuni);
    row.bool(lot.aggregated);
    row.text(lot.buyer_cf);
    row.text(lot.object);
    row.text(lot.contract_type);
    row.int(lot.procedure_code);
    row.text(lot.procedure_label);
    row.text(lot.award_criterion);
    row.text(lot.cpv);
    row.text(lot.cpv.get(0..2).unwrap_or(""));
    row.opt_text(lot.cup);
    row.bool(lot.pnrr);
    row.text(lot.state);
    row.text(lot.lot_status);
    row.int(year);
    row.opt_int(month);
    row.opt_text(published);
    row.opt_text(awarded);
    row.text(&Euro(lot.estimated_cents).to_decimal());
    row.text(&Euro(lot.amount_cents).to_decimal());
    row.opt_text(lot.award_cents.map(|c| Euro(c).to_decimal()).as_deref());
    row.opt_text(ribasso.map(Ribasso::to_decimal).as_deref());
    row.opt_int(lot.bids_count);
    row.opt_int(duration);
    row.finish();
}

/// Signs the changes computed by `diff_and_apply`, reading them a page at a time so that a
/// bulk import never holds all of them in memory.
fn publish_changes(
    tx: &rusqlite::Connection,
    signer: &Signer,
    dataset: &Dataset,
) -> Result<(), DatiError> {
    let mut after = 0;
    loop {
        let page = sql::changes_page(tx, after, MAX_RECORDS_PER_BATCH)?;
        let Some((last, _, _)) = page.last() else {
            return Ok(());
        };
        after = *last;
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        for (_, pk, data) in page {
            match data {
                Some(data) => upserts.push(data),
                None => deletes.push(pk),
            }
        }
        ops::emit_delta(tx, signer, dataset, &upserts, &deletes)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dati::valid_name;

    #[test]
    fn dates_count_days_like_the_calendar() {
        assert_eq!(days_since_epoch("1970-01-01"), Some(0));
        assert_eq!(days_since_epoch("2000-03-01"), Some(11_017));
        assert_eq!(days_since_epoch("2025-01-10"), Some(20_098));
        assert_eq!(
            days_since_epoch("2025-05-20")
                .zip(days_since_epoch("2025-01-10"))
                .map(|(a, b)| a - b),
            Some(130)
        );
        assert_eq!(days_since_epoch("2024-13-01"), None);
        assert_eq!(days_since_epoch("2025-02-29"), None);
        assert_eq!(days_since_epoch("2024-02-29"), Some(19_782));
        assert_eq!(days_since_epoch("2024/01/01"), None);
        assert_eq!(days_since_epoch("20240101"), None);
    }

    #[test]
    fn rows_are_canonical_json() {
        use pico_protocol::payload::FieldValue;
        let lot = LotSource {
            procedure_id: 12,
            lot_no: 0,
            cig: None,
            ocid: Some("ocds-pico026-12"),
            anac_gara: None,
            comune: Some("026086"),
            comuni: "026086",
            aggregated: false,
            buyer_cf: "80007310263",
            object: "Strade \"bianche\"\tlotto\u{1}\\ è\n\r\u{8}\u{c}\u{1f}/€",
            contract_type: "works",
            procedure_code: 1,
            procedure_label: "PROCEDURA APERTA",
            award_criterion: "lowest_price",
            cpv: "45233141-9",
            cup: None,
            pnrr: true,
            state: "awarded",
            lot_status: "awarded",
            year: 2024,
            published_on: Some("2025-02-30x"),
            awarded_on: Some("2025-05-20"),
            estimated_cents: 5,
            amount_cents: 82_041_776,
            award_cents: Some(81_153_741),
            ribasso_milli: None,
            bids_count: Some(3),
            requested_at: 1_736_499_600,
        };
        let (mut pk, mut data) = (String::new(), String::new());
        encode(&lot, &mut pk, &mut data);
        assert_eq!(pk, "[12,0]");
        let values: Vec<FieldValue> = crate::dati::csv_import::decode(&data).expect("JSON");
        assert_eq!(crate::dati::csv_import::encode(&values), data, "canonical");
        assert_eq!(values.len(), FIELDS.len());
        let field = |name: &str| &values[FIELDS.iter().position(|(n, _)| *n == name).expect(name)];
        assert_eq!(field("object"), &FieldValue::from(lot.object));
        assert_eq!(field("published_on"), &FieldValue::Null, "not a date");
        assert_eq!(
            field("year"),
            &FieldValue::Int(2024),
            "the procedure's year instead"
        );
        assert_eq!(field("month"), &FieldValue::Null);
        assert_eq!(field("estimated_amount"), &FieldValue::from("0.05"));
        assert_eq!(field("ribasso"), &FieldValue::from("1.082"));
        assert_eq!(field("duration_days"), &FieldValue::Int(130));
        assert_eq!(field("cpv_division"), &FieldValue::from("45"));
    }

    #[test]
    fn schema_is_valid_and_keyed() {
        for (name, _) in FIELDS {
            assert!(valid_name(name), "{name}");
        }
        let names: std::collections::BTreeSet<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), FIELDS.len(), "field names are unique");
        for key in PRIMARY_KEY {
            assert!(names.contains(key), "{key}");
        }
        // The rows of a procedure are one range of the index because its id leads the key.
        assert_eq!(PRIMARY_KEY[0], "procedure_id");
    }
}
