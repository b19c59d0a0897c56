//! SUA data: imports of the real ANAC OCDS sample and of CSV files (counts, links to the
//! Comuni, idempotent re-imports, refused files), the OCDS export validated against the
//! official 1.1.5 schema, the round trip ANAC → node → OCDS, reports on known figures,
//! the pages and the command line.

use std::path::{Path, PathBuf};

use pico_node::NodeConfig;
use pico_node::auth::{Module, Role};
use pico_node::db;
use pico_protocol::ComuneCode;
use pico_service::Db;
use reqwest::StatusCode;
use rusqlite::params;
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem, init_dir, login};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn anac_sample() -> Vec<u8> {
    std::fs::read(fixture("anac_ocds_compiled_releases_sample_2025.json")).unwrap()
}

fn anac_releases() -> Vec<Value> {
    let package: Value = serde_json::from_slice(&anac_sample()).unwrap();
    package["releases"].as_array().unwrap().clone()
}

fn open(config: &NodeConfig) -> Db {
    Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap()
}

fn count(config: &NodeConfig, sql: &str) -> i64 {
    open(config)
        .get()
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

async fn import(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> reqwest::Response {
    app.post_raw(
        &format!("/v1/sua/imports{query}"),
        token,
        "application/octet-stream",
        body,
    )
    .await
}

async fn import_ok(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> Value {
    let response = import(app, token, query, body).await;
    let status = response.status();
    let report: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{report:#}");
    report
}

/// A node of the Province of Bergamo (016) with a SUA operator, a Comune user of Bergamo
/// and one of Adrara San Martino.
async fn bergamo() -> (TestApp, String, String, String) {
    let (dir, config) = init_dir("016");
    let sua = add_user(&config, "gare", &Role::Operator(Module::Sua));
    let bg = add_user(
        &config,
        "bergamo",
        &Role::Comune(ComuneCode::parse("016024").unwrap()),
    );
    let adrara = add_user(
        &config,
        "adrara",
        &Role::Comune(ComuneCode::parse("016001").unwrap()),
    );
    (TestApp::start(dir, config).await, sua, bg, adrara)
}

#[tokio::test]
async fn anac_sample_imports_cleanly_into_bergamo_and_again_imports_nothing() {
    let (app, sua, bg, _) = bergamo().await;
    let cfg = app.config.clone();

    // Only SUA staff import.
    let refused = import(&app, &bg, "?format=ocds", anac_sample()).await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    let anonymous = reqwest::Client::new()
        .post(app.url("/v1/sua/imports"))
        .body(anac_sample())
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, StatusCode::UNAUTHORIZED).await;

    let report = import_ok(&app, &sua, "?filename=anac_2025.json", anac_sample()).await;
    assert_eq!(report["format"], "ocds", "detected from the name");
    assert_eq!(
        report["counts"],
        json!({
            "records": 12, "imported": 12, "skipped": 0, "lots": 15, "awards": 13,
            "contracts": 12, "linked_to_comune": 1, "other_buyers": 11, "warnings": 35
        })
    );
    assert_eq!(report["skipped"], json!([]));
    let warnings = report["warnings"].as_array().unwrap();
    let repaired = warnings
        .iter()
        .filter(|w| {
            w["message"]
                .as_str()
                .unwrap()
                .contains("è malformata; letta come")
        })
        .count();
    assert_eq!(repaired, 12, "every ANAC release date is malformed");
    let imported = report["imported"].as_array().unwrap();
    let by_key = |ocid: &str| {
        imported
            .iter()
            .find(|r| r["key"] == ocid)
            .unwrap_or_else(|| panic!("{ocid} imported"))
            .clone()
    };
    // COMUNE DI BERGAMO is the Comune Bergamo of this Province; the others are not Comuni of it.
    let bergamo = by_key("ocds-hu01ve-8394326");
    assert_eq!(bergamo["comune_code"], "016024");
    assert_eq!(bergamo["buyer_cf"], "80034840167");
    assert_eq!(bergamo["state"], "contract_signed");
    assert_eq!(by_key("ocds-hu01ve-8114164")["comune_code"], Value::Null);
    assert_eq!(by_key("ocds-hu01ve-8114164")["state"], "bids_closed");
    assert_eq!(
        by_key("ocds-hu01ve-8393918")["state"],
        "awarded",
        "no dateSigned"
    );
    assert_eq!(by_key("ocds-hu01ve-8390739")["lots"], 4);

    // The rows, as stored.
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_procedures"), 12);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_lots"), 15);
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM sua_lots WHERE award_cents IS NOT NULL"
        ),
        13
    );
    // The import is recorded once, by its batch, not as a step per procedure.
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_transitions"), 0);
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM sua_participants WHERE comune_code = '016024'"
        ),
        1
    );
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM sua_procedures WHERE comune_code IS NULL AND buyer_name <> '' AND source = 'import_ocds'"
        ),
        11
    );
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_import_batches"), 1);
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM dataset_rows WHERE dataset = 'appalti'"
        ),
        0,
        "the national dataset keeps no rows while it is not federated"
    );
    let db = open(&cfg);
    let conn = db.get().unwrap();
    let (object, year, procedure_code, label, published, awarded, signed, gara): (
        String,
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
    ) = conn
        .query_row(
            "SELECT object, year, procedure_code, procedure_label, published_on, awarded_on, contract_signed_on, anac_gara
             FROM sua_procedures WHERE ocid = 'ocds-hu01ve-8394326'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .unwrap();
    assert!(
        object.starts_with("INTERVENTO STRAORDINARIO DI SISTEMAZIONE"),
        "{object}"
    );
    assert_eq!(year, 2022);
    assert_eq!(procedure_code, 34);
    assert_eq!(label, "PROCEDURA NEGOZIATA PER AFFIDAMENTI SOTTO SOGLIA");
    assert_eq!(
        (
            published.as_str(),
            awarded.as_str(),
            signed.as_str(),
            gara.as_str()
        ),
        ("2022-01-25", "2022-03-21", "2022-05-09", "8394326")
    );
    let lot: (String, i64, i64, i64, String, String, String) = conn
        .query_row(
            "SELECT cig, amount_cents, award_cents, ribasso_milli, supplier_name, supplier_cf, cpv
             FROM sua_lots JOIN sua_procedures p ON p.id = procedure_id WHERE p.ocid = 'ocds-hu01ve-8394326'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap();
    assert_eq!(
        lot,
        (
            "90343071FC".into(),
            65_811_172,
            55_905_803,
            15_051,
            "SIAL IMPIANTI SRL".into(),
            "12783620151".into(),
            "45331000-6".into()
        )
    );
    // A raggruppamento keeps its members, mandataria first.
    let (names, cfs): (String, String) = conn
        .query_row(
            "SELECT supplier_name, supplier_cf FROM sua_lots WHERE cig = '9030406EC3'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        names,
        "R.C.M. COSTRUZIONI; ERRE S.R.L.; CONSORZIO INTEGRA SOCIETA' COOPERATIVA"
    );
    assert_eq!(cfs, "01808910655; 06281300654; 03530851207");
    drop(conn);

    // The same file again imports nothing and says why, record by record.
    let again = import_ok(&app, &sua, "?format=ocds", anac_sample()).await;
    assert_eq!(again["counts"]["imported"], 0);
    assert_eq!(again["counts"]["skipped"], 12);
    let skipped = again["skipped"].as_array().unwrap();
    assert!(skipped.iter().all(|s| s["code"] == "already_imported"));
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_procedures"), 12);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_lots"), 15);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_import_batches"), 2);

    // The batches are listed with their reports.
    let batches: Value = app
        .get("/v1/sua/imports", Some(&sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(batches["items"].as_array().unwrap().len(), 2);
    let first = batches["items"][1]["id"].as_i64().unwrap();
    let stored: Value = app
        .get(&format!("/v1/sua/imports/{first}"), Some(&sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["counts"]["imported"], 12);
    assert_eq!(
        app.get("/v1/sua/imports", Some(&bg)).await.status(),
        StatusCode::FORBIDDEN
    );

    // A procedure's history starts with its import, read from the batch, in the state it
    // was imported in, and goes on with the workflow's steps.
    let id = bergamo["procedure_id"].as_i64().unwrap();
    let history = async |app: &TestApp| -> Value {
        app.get(&format!("/v1/sua/procedures/{id}/transitions"), Some(&bg))
            .await
            .json()
            .await
            .unwrap()
    };
    let imported = json!({
        "id": null, "from": null, "to": "contract_signed",
        "reason": format!("Importata dai dati OCDS di ANAC (importazione n. {first})"),
        "actor": batches["items"][1]["actor"], "at": batches["items"][1]["at"],
    });
    assert_eq!(history(&app).await, json!([imported]));
    let step = app
        .post_json(
            &format!("/v1/sua/procedures/{id}/transitions"),
            Some(&sua),
            &crate::sua_helpers::transition_body(pico_node::sua::State::Completed),
        )
        .await;
    assert_eq!(step.status(), StatusCode::OK);
    let after = history(&app).await;
    assert_eq!(after[0], imported, "still the state it was imported in");
    assert_eq!(
        (&after[1]["from"], &after[1]["to"]),
        (&json!("contract_signed"), &json!("completed"))
    );
    assert_eq!(after.as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn ocds_layouts_skips_and_malformed_json() {
    let (app, sua, _, _) = bergamo().await;
    let cfg = app.config.clone();
    let releases = anac_releases();

    // Invalid JSON: the position is given and nothing is written.
    let mut broken = anac_sample();
    broken.truncate(5000);
    let refused = import(&app, &sua, "?format=ocds", broken).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "invalid_file");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("JSON non valido alla riga"), "{detail}");
    assert!(detail.contains("colonna"), "{detail}");
    // A bad line of JSON Lines names its line.
    let jsonl_bad = format!("{}\n{}\n{{\"ocid\": \n", releases[0], releases[1]);
    let refused = import(&app, &sua, "?format=ocds", jsonl_bad.into_bytes()).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("riga 3"),
        "{problem:#}"
    );
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_procedures"), 0);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_import_batches"), 0);

    // JSON Lines, as ANAC's bulk files: the first four releases, one per line.
    let jsonl: String = releases[..4].iter().map(|r| format!("{r}\n")).collect();
    let report = import_ok(&app, &sua, "?filename=2025.jsonl", jsonl.into_bytes()).await;
    assert_eq!(report["counts"]["imported"], 4);
    assert_eq!(report["imported"][3]["line"], 4);

    // A JSON array: the rest, plus releases that cannot become procedures.
    let mut rest: Vec<Value> = releases[4..].to_vec();
    let mut no_lots = releases[0].clone();
    no_lots["ocid"] = json!("ocds-hu01ve-1");
    no_lots["tender"]["lots"] = json!([]);
    let mut bad_cig = releases[1].clone();
    bad_cig["ocid"] = json!("ocds-hu01ve-2");
    bad_cig["tender"]["id"] = json!("2");
    bad_cig["tender"]["lots"][0]["id"] = json!("CIG-ERRATO");
    let mut reused_cig = releases[2].clone();
    reused_cig["ocid"] = json!("ocds-hu01ve-3");
    reused_cig["tender"]["id"] = json!("3");
    rest.push(no_lots);
    rest.push(bad_cig);
    rest.push(reused_cig);
    rest.push(releases[0].clone());
    rest.push(json!({"hello": "world"}));
    let report = import_ok(&app, &sua, "", serde_json::to_vec(&rest).unwrap()).await;
    assert_eq!(report["counts"]["records"], 13);
    assert_eq!(report["counts"]["imported"], 8);
    assert_eq!(report["counts"]["skipped"], 5);
    let codes: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "no_lots",
            "invalid_cig",
            "cig_in_use",
            "already_imported",
            "not_a_release"
        ]
    );
    assert!(
        report["skipped"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("8998391B27"),
        "{report:#}"
    );
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_procedures"), 12);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_lots"), 15);
    app.stop().await;
}

#[tokio::test]
async fn csv_import_groups_lots_refuses_bad_rows_and_is_idempotent() {
    let (app, sua, _, _) = bergamo().await;
    let cfg = app.config.clone();

    // Bad rows: every problem by line and column, nothing imported.
    let bad = std::fs::read(fixture("sua_import_bad_rows.csv")).unwrap();
    let refused = import(&app, &sua, "?filename=bad.csv", bad).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "invalid_rows");
    assert_eq!(problem["problems"], 5);
    let rows: Vec<(u64, String)> = problem["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (2, "cig".to_owned()),
            (3, "cpv".to_owned()),
            (4, "comune_code".to_owned()),
            (5, "lot_amount".to_owned()),
            (5, "awarded_on".to_owned()),
        ]
    );
    assert!(
        problem["rows"][1]["message"]
            .as_str()
            .unwrap()
            .contains("il vocabolario ha 45233162-2"),
        "{problem:#}"
    );
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_procedures"), 0);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_import_batches"), 0);

    // The sample: BOM, `;`, Italian amounts, a procedure over two rows.
    let sample = std::fs::read(fixture("sua_import_sample.csv")).unwrap();
    let report = import_ok(&app, &sua, "?filename=procedure.csv", sample.clone()).await;
    assert_eq!(report["format"], "csv");
    assert_eq!(
        report["counts"],
        json!({
            "records": 4, "imported": 4, "skipped": 0, "lots": 5, "awards": 4,
            "contracts": 1, "linked_to_comune": 4, "other_buyers": 0, "warnings": 0
        })
    );
    let states: Vec<(&str, &str, u64)> = report["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
                r["lots"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("BG-2024-001", "contract_signed", 1),
            ("BG-2024-002", "awarded", 1),
            ("BG-2025-001", "published", 1),
            ("AD-2024-001", "awarded", 2)
        ]
    );
    let db = open(&cfg);
    let conn = db.get().unwrap();
    let row: (String, i64, String, bool, String, i64) = conn
        .query_row(
            "SELECT buyer_name, estimated_cents, cup, pnrr, award_criterion, year FROM sua_procedures WHERE external_key = 'BG-2024-001'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "Comune di Bergamo".into(),
            10_000_000,
            "J51B21000120006".into(),
            true,
            "lowest_price".into(),
            2024
        )
    );
    let lots: Vec<(i64, String, i64, Option<i64>)> = conn
        .prepare(
            "SELECT lot_no, cig, amount_cents, ribasso_milli FROM sua_lots l JOIN sua_procedures p ON p.id = l.procedure_id
             WHERE p.external_key = 'AD-2024-001' ORDER BY lot_no",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        lots,
        [
            (1, "A000000004".into(), 1_000_000, Some(10_000)),
            (2, "A000000005".into(), 2_000_000, Some(7_500))
        ]
    );
    let estimated: i64 = conn
        .query_row(
            "SELECT estimated_cents FROM sua_procedures WHERE external_key = 'AD-2024-001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(estimated, 3_000_000, "the sum of the lots when not given");
    drop(conn);

    // Again: nothing imported, every procedure reported as already imported.
    let again = import_ok(&app, &sua, "?format=csv", sample).await;
    assert_eq!(again["counts"]["imported"], 0);
    assert_eq!(again["counts"]["skipped"], 4);
    assert_eq!(again["skipped"][3]["line"], 5);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_lots"), 5);

    // Rows of one procedure must be together; a CIG is unique; the rows repeat the
    // procedure's values or leave them empty.
    let scattered = "procedure_key,comune_code,object,contract_type,cpv,procedure_code,requested_on,cig,lot_amount\n\
        K-1,016024,Uno,works,45233162-2,34,2024-01-10,C000000001,10\n\
        K-2,016024,Due,works,45233162-2,34,2024-01-10,C000000002,10\n\
        K-1,016024,Uno,works,45233162-2,34,2024-01-10,C000000003,10\n\
        K-3,016024,Tre,works,45233162-2,34,2024-01-10,A000000001,10\n\
        K-4,016024,Quattro,works,45233162-2,34,2024-01-10,C000000004,10\n\
        K-4,016024,Cinque,works,45233162-2,34,2024-01-10,C000000004,10\n";
    let refused = import(&app, &sua, "?format=csv", scattered.as_bytes().to_vec()).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let rows: Vec<(u64, String)> = problem["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert_eq!(rows[0].0, 4);
    assert!(
        rows[0]
            .1
            .contains("tenete di seguito le righe di una stessa procedura")
    );
    assert_eq!(rows[1].0, 5);
    assert!(
        rows[1].1.contains("appartiene già alla procedura"),
        "{}",
        rows[1].1
    );
    assert_eq!(rows[2].0, 7);
    assert!(rows[2].1.contains("è diverso da \"Quattro\" della riga 6"));
    assert_eq!(rows[3].0, 7);
    assert!(rows[3].1.contains("compare due volte nella procedura K-4"));
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_procedures"), 4);

    // A header without the required columns.
    let refused = import(&app, &sua, "?format=csv", b"cig;object\nA;B\n".to_vec()).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["message"] == "manca la colonna obbligatoria procedure_key")
    );
    app.stop().await;
}

#[tokio::test]
async fn import_body_limit_is_32_mib() {
    let (app, sua, _, _) = bergamo().await;
    let limit = pico_node::sua::data_api::IMPORT_BODY_LIMIT;
    assert_eq!(limit, 32 * 1024 * 1024);
    let too_large = vec![b' '; limit + 1];
    let response = import(&app, &sua, "?format=ocds", too_large).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    // At the limit the body is read (and refused for what it is: blanks).
    let at_limit = vec![b' '; limit];
    let response = import(&app, &sua, "?format=ocds", at_limit).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "invalid_file");
    app.stop().await;
}

/// A lot to insert: CIG, base amount, award (supplier, codice fiscale, amount), contract date.
type Lot<'a> = (
    &'a str,
    i64,
    Option<(&'a str, &'a str, i64)>,
    Option<&'a str>,
);

/// An award as compared in the round trip: lot, amount, suppliers (codice fiscale, name).
type AwardView = (String, Value, Vec<(String, String)>);

/// Inserts a procedure as the workflow writes it (source `web`), with its lots and
/// participants; returns its id.
#[expect(
    clippy::too_many_arguments,
    reason = "a test fixture reads best with every field in the call"
)]
fn insert_workflow_procedure(
    config: &NodeConfig,
    comune: Option<&str>,
    participants: &[(&str, i64)],
    state: &str,
    estimated_cents: i64,
    requested_on: &str,
    awarded_on: Option<&str>,
    anac_gara: Option<&str>,
    lots: &[Lot<'_>],
) -> i64 {
    let db = open(config);
    let conn = db.get().unwrap();
    let requested_at: i64 = conn
        .query_row("SELECT unixepoch(?1)", [requested_on], |r| r.get(0))
        .unwrap();
    let year: i64 = requested_on[..4].parse().unwrap();
    conn.execute(
        "INSERT INTO sua_procedures (comune_code, buyer_cf, buyer_name, aggregated, object, description, contract_type,
            cpv_main, estimated_cents, procedure_code, procedure_label, award_criterion, cup, funding_source, pnrr,
            state, anac_gara, published_on, deadline_on, awarded_on, requested_at, accepted_at, year, source,
            created_by, created_at, updated_at)
         VALUES (?1, '', ?2, ?3, 'Lavori di manutenzione delle scuole', 'Interventi su tre plessi', 'works',
            '45453100-8', ?4, 1, 'PROCEDURA APERTA', 'best_value', 'J51B21000120006', 'Fondi PNRR M4C1', 1,
            ?5, ?6, '2024-01-05', '2024-01-20', ?7, ?8, ?8, ?9, 'web', 'user:gare', ?8, ?8)",
        params![
            comune,
            if comune.is_some() { "Comune di Bergamo" } else { "Comuni associati" },
            i64::from(comune.is_none()),
            estimated_cents,
            state,
            anac_gara,
            awarded_on,
            requested_at,
            year
        ],
    )
    .unwrap();
    let id = conn.last_insert_rowid();
    for (code, share) in participants {
        conn.execute(
            "INSERT INTO sua_participants (procedure_id, comune_code, share_cents) VALUES (?1, ?2, ?3)",
            params![id, code, share],
        )
        .unwrap();
    }
    for (i, (cig, amount, award, signed)) in lots.iter().enumerate() {
        let (supplier, cf, award_cents) = match award {
            Some((name, cf, cents)) => (Some(*name), Some(*cf), Some(*cents)),
            None => (None, None, None),
        };
        let ribasso = award_cents.map(|a| {
            pico_node::sua::Ribasso::between(pico_node::sua::Euro(*amount), pico_node::sua::Euro(a))
                .unwrap()
                .0
        });
        conn.execute(
            "INSERT INTO sua_lots (procedure_id, lot_no, cig, description, cpv, amount_cents, status, bids_count,
                supplier_name, supplier_cf, award_cents, ribasso_milli, awarded_on, contract_signed_on)
             VALUES (?1, ?2, ?3, 'Lotto', NULL, ?4, ?5, 3, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                i as i64 + 1,
                cig,
                amount,
                if award.is_some() { "awarded" } else { "active" },
                supplier,
                cf,
                award_cents,
                ribasso,
                awarded_on,
                signed
            ],
        )
        .unwrap();
    }
    id
}

/// The official validator: the 1.1.5 package schema, its `$ref` to the release schema
/// served from the fixture (no network), formats checked.
fn ocds_validator() -> jsonschema::Validator {
    struct Local(Value);
    impl jsonschema::Retrieve for Local {
        fn retrieve(
            &self,
            uri: &jsonschema::Uri<String>,
        ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
            if uri.as_str()
                == "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
            {
                Ok(self.0.clone())
            } else {
                Err(format!("no network in tests: {uri}").into())
            }
        }
    }
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(fixture(&format!("ocds-1.1.5/{name}"))).unwrap())
            .unwrap()
    };
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_retriever(Local(read("release-schema.json")))
        .build(&read("release-package-schema.json"))
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, package: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(package)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
}

#[tokio::test]
async fn ocds_export_validates_and_round_trips_the_anac_sample() {
    let (app, sua, bg, adrara) = bergamo().await;
    let cfg = app.config.clone();
    let validator = ocds_validator();

    // The validator is real: it accepts the official example and refuses broken packages.
    let example: Value = serde_json::from_slice(
        &std::fs::read(fixture("ocp_fictional_release_package_1_1.json")).unwrap(),
    )
    .unwrap();
    assert_valid(&validator, &example);
    let mut broken = example.clone();
    broken.as_object_mut().unwrap().remove("publisher");
    assert!(!validator.is_valid(&broken));
    let mut broken = example.clone();
    broken["releases"][0]["tag"] = json!(["aggiudicazione"]);
    assert!(!validator.is_valid(&broken));
    let mut broken = example.clone();
    broken["releases"][0]["date"] = json!("2025-01-08 17:31:38.793T12:00:00Z");
    assert!(
        !validator.is_valid(&broken),
        "ANAC's date is not a date-time"
    );

    // Procedures from the workflow: one with its numero gara, an aggregated initiative of
    // two Comuni, a request not yet public.
    let with_gara = insert_workflow_procedure(
        &cfg,
        Some("016024"),
        &[("016024", 20_000_000)],
        "contract_signed",
        20_000_000,
        "2024-01-02",
        Some("2024-02-15"),
        Some("9123456"),
        &[
            (
                "B123456789",
                12_000_000,
                Some(("Edil Bergamo S.r.l.", "01234567890", 10_800_000)),
                Some("2024-03-01"),
            ),
            (
                "B123456790",
                8_000_000,
                Some((
                    "Impianti Orobici; Termo Srl",
                    "11111111111; 22222222222",
                    7_600_000,
                )),
                Some("2024-03-02"),
            ),
        ],
    );
    let aggregated = insert_workflow_procedure(
        &cfg,
        None,
        &[("016024", 6_000_000), ("016001", 4_000_000)],
        "published",
        10_000_000,
        "2024-05-01",
        None,
        None,
        &[("B123456791", 10_000_000, None, None)],
    );
    let request = insert_workflow_procedure(
        &cfg,
        Some("016001"),
        &[("016001", 5_000_000)],
        "submitted",
        5_000_000,
        "2024-06-01",
        None,
        None,
        &[("B123456792", 5_000_000, None, None)],
    );
    import_ok(&app, &sua, "?format=ocds", anac_sample()).await;

    // Public, paged export: every page validates; together they hold the 14 public ones.
    let mut releases: Vec<Value> = Vec::new();
    let mut path = "/v1/sua/ocds?limit=5".to_owned();
    let mut pages = 0;
    loop {
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let package: Value = response.json().await.unwrap();
        assert_valid(&validator, &package);
        assert_eq!(package["version"], "1.1");
        releases.extend(package["releases"].as_array().unwrap().iter().cloned());
        pages += 1;
        match package["links"]["next"].as_str() {
            Some(next) => {
                assert_eq!(link.unwrap(), format!("<{next}>; rel=\"next\""));
                path = next[next.find("/v1/").unwrap()..].to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(releases.len(), 14);
    let ocids: Vec<&str> = releases
        .iter()
        .map(|r| r["ocid"].as_str().unwrap())
        .collect();
    assert!(ocids.contains(&"ocds-hu01ve-9123456"));
    assert!(ocids.contains(&format!("ocds-pico-016-{aggregated}").as_str()));
    assert!(!ocids.contains(&format!("ocds-pico-016-{request}").as_str()));

    // The workflow procedure, ANAC-style.
    let mine = releases
        .iter()
        .find(|r| r["ocid"] == "ocds-hu01ve-9123456")
        .unwrap();
    assert_eq!(
        mine["tender"]["procurementMethodDetails"],
        "COD:1 ; TITLE:PROCEDURA APERTA"
    );
    assert_eq!(mine["tender"]["procurementMethod"], "open");
    assert_eq!(mine["tender"]["mainProcurementCategory"], "works");
    assert_eq!(
        mine["tender"]["value"],
        json!({"amount": 200000, "currency": "EUR"})
    );
    assert_eq!(mine["tender"]["lots"][0]["id"], "B123456789");
    assert_eq!(
        mine["tender"]["items"][0]["classification"],
        json!({"scheme": "CPV", "id": "45453100-8"})
    );
    assert_eq!(
        mine["tender"]["tenderPeriod"]["startDate"],
        "2024-01-05T00:00:00Z"
    );
    assert_eq!(mine["planning"]["budget"]["projectID"], "J51B21000120006");
    assert_eq!(mine["awards"].as_array().unwrap().len(), 2);
    assert_eq!(mine["awards"][1]["suppliers"].as_array().unwrap().len(), 2);
    assert_eq!(mine["contracts"][0]["dateSigned"], "2024-03-01T00:00:00Z");
    let roles: Vec<(String, Value)> = mine["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_owned(), p["roles"].clone()))
        .collect();
    assert!(
        roles.contains(&("pico-sua-016".to_owned(), json!(["procuringEntity"]))),
        "{roles:?}"
    );
    assert!(roles.contains(&("IT-CF-22222222222".to_owned(), json!(["supplier"]))));
    let joint = releases
        .iter()
        .find(|r| r["ocid"] == format!("ocds-pico-016-{aggregated}"))
        .unwrap();
    let buyers = joint["parties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["roles"].as_array().unwrap().contains(&json!("buyer")))
        .count();
    assert_eq!(buyers, 2, "both Comuni of the aggregated initiative");

    // Round trip: every ANAC release comes back with its CIGs, amounts and suppliers.
    for original in anac_releases() {
        let ocid = original["ocid"].as_str().unwrap();
        let exported = releases
            .iter()
            .find(|r| r["ocid"] == ocid)
            .unwrap_or_else(|| panic!("{ocid} exported"));
        assert_eq!(
            exported["buyer"]["name"], original["buyer"]["name"],
            "{ocid}"
        );
        assert_eq!(
            exported["tender"]["value"]["amount"], original["tender"]["value"]["amount"],
            "{ocid}"
        );
        assert_eq!(
            exported["tender"]["procurementMethodDetails"],
            original["tender"]["procurementMethodDetails"],
            "{ocid}"
        );
        let lots = |release: &Value| -> Vec<(String, Value)> {
            let mut lots: Vec<(String, Value)> = release["tender"]["lots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["id"].as_str().unwrap().to_owned(),
                        l["value"]["amount"].clone(),
                    )
                })
                .collect();
            lots.sort_by(|a, b| a.0.cmp(&b.0));
            lots
        };
        assert_eq!(lots(exported), lots(&original), "{ocid} lots");
        let awards = |release: &Value| -> Vec<AwardView> {
            let parties = release["parties"].as_array().unwrap();
            let mut awards: Vec<AwardView> = release["awards"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    let mut suppliers: Vec<(String, String)> = a["suppliers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| {
                            let party = parties.iter().find(|p| p["id"] == s["id"]).unwrap();
                            (
                                party["identifier"]["id"].as_str().unwrap().to_owned(),
                                s["name"].as_str().unwrap().trim().to_owned(),
                            )
                        })
                        .collect();
                    suppliers.sort();
                    (
                        a["relatedLots"][0].as_str().unwrap().to_owned(),
                        a["value"]["amount"].clone(),
                        suppliers,
                    )
                })
                .collect();
            awards.sort_by(|a, b| a.0.cmp(&b.0));
            awards
        };
        assert_eq!(awards(exported), awards(&original), "{ocid} awards");
        let signed = |release: &Value| -> Vec<String> {
            let mut dates: Vec<String> = release["contracts"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c["dateSigned"].as_str().map(|d| d[..10].to_owned()))
                .collect();
            dates.sort();
            dates
        };
        assert_eq!(signed(exported), signed(&original), "{ocid} contracts");
    }

    // Per-procedure export: any state, for SUA staff and the Comuni served.
    let one = app
        .get(&format!("/v1/sua/ocds/{request}"), Some(&sua))
        .await;
    assert_eq!(one.status(), StatusCode::OK);
    let package: Value = one.json().await.unwrap();
    assert_valid(&validator, &package);
    assert_eq!(package["releases"][0]["tender"]["status"], "planning");
    assert_eq!(
        app.get(&format!("/v1/sua/ocds/{request}"), Some(&adrara))
            .await
            .status(),
        StatusCode::OK
    );
    assert_problem(
        app.get(&format!("/v1/sua/ocds/{request}"), Some(&bg)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/sua/ocds/{with_gara}"), None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.get("/v1/sua/ocds/999999", Some(&sua)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get("/v1/sua/ocds?cursor=rubbish", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn reports_give_the_known_figures_to_whom_may_see_them() {
    let (app, sua, bg, adrara) = bergamo().await;
    let cfg = app.config.clone();
    import_ok(
        &app,
        &sua,
        "?format=csv",
        std::fs::read(fixture("sua_import_sample.csv")).unwrap(),
    )
    .await;
    // An aggregated initiative: Bergamo 60 %, Adrara 40 %; awarded at 80,000.00 (20 %),
    // 30 days after the request. And a request not yet accepted, which does not count.
    insert_workflow_procedure(
        &cfg,
        None,
        &[("016024", 6_000_000), ("016001", 4_000_000)],
        "awarded",
        10_000_000,
        "2024-01-01",
        Some("2024-01-31"),
        None,
        &[(
            "B000000001",
            10_000_000,
            Some(("Consorzio Servizi", "33333333333", 8_000_000)),
            None,
        )],
    );
    insert_workflow_procedure(
        &cfg,
        Some("016024"),
        &[("016024", 99_900_000)],
        "submitted",
        99_900_000,
        "2024-03-01",
        None,
        None,
        &[("B000000002", 99_900_000, None, None)],
    );

    let report: Value = app
        .get("/v1/sua/reports", Some(&sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        report["lines"],
        json!([
            {"comune_code": "016024", "comune_name": "Bergamo", "year": 2025, "procedures": 1,
             "estimated_amount": "30000.00", "awarded_amount": "0.00", "awarded_lots": 0,
             "average_ribasso": null, "average_days_to_award": null},
            {"comune_code": "016001", "comune_name": "Adrara San Martino", "year": 2024, "procedures": 2,
             "estimated_amount": "70000.00", "awarded_amount": "59500.00", "awarded_lots": 3,
             "average_ribasso": "12.500", "average_days_to_award": 30.0},
            {"comune_code": "016024", "comune_name": "Bergamo", "year": 2024, "procedures": 3,
             "estimated_amount": "210000.00", "awarded_amount": "178000.00", "awarded_lots": 3,
             "average_ribasso": "16.667", "average_days_to_award": 33.3},
        ])
    );
    assert_eq!(
        report["totals"],
        json!({"comune_code": null, "comune_name": null, "year": null, "procedures": 6,
               "estimated_amount": "310000.00", "awarded_amount": "237500.00", "awarded_lots": 6,
               "average_ribasso": "14.583", "average_days_to_award": 32.0})
    );

    // Filters.
    let works: Value = app
        .get(
            "/v1/sua/reports?year=2024&contract_type=works&comune=016024",
            Some(&sua),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(works["totals"]["procedures"], 2);
    assert_eq!(works["totals"]["estimated_amount"], "160000.00");
    let pnrr: Value = app
        .get("/v1/sua/reports?pnrr=true", Some(&sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        pnrr["totals"]["procedures"], 3,
        "BG-2024-001 and the initiative twice"
    );

    // A Comune sees its own Comune only, and may not ask for another.
    let own: Value = app
        .get("/v1/sua/reports", Some(&adrara))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["lines"].as_array().unwrap().len(), 1);
    assert_eq!(own["lines"][0]["comune_code"], "016001");
    assert_problem(
        app.get("/v1/sua/reports?comune=016024", Some(&adrara))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let helpdesk = add_user(&cfg, "hd", &Role::Operator(Module::Helpdesk));
    assert_problem(
        app.get("/v1/sua/reports", Some(&helpdesk)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_problem(
        app.get("/v1/sua/reports", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.get("/v1/sua/reports?contract_type=navi", Some(&sua))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // CSV, with either separator.
    let csv = app
        .get(
            "/v1/sua/reports/export.csv?sep=semicolon&year=2024",
            Some(&bg),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv,
        "\u{feff}Codice ISTAT Comune;Comune;Anno;Procedure;Importo stimato (euro);Importo aggiudicato (euro);\
         Lotti aggiudicati;Ribasso medio (%);Giorni medi dalla richiesta all'aggiudicazione\n\
         016024;Bergamo;2024;3;210000,00;178000,00;3;16,667;33,3\n"
    );
    let csv = app
        .get("/v1/sua/reports/export.csv", Some(&sua))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("016001,Adrara San Martino,2024,2,70000.00,59500.00,3,12.500,30.0\n"),
        "{csv}"
    );

    // The page.
    let session = login(&app, "bergamo").await;
    let page = session.get("/sua/report?year=2024").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"report\""));
    assert!(html.contains("210.000,00\u{a0}€"), "Italian amounts");
    assert!(html.contains("16,67%"), "at most two decimals");
    assert!(!html.contains("Adrara"), "a Comune sees only its own lines");
    app.stop().await;
}

#[tokio::test]
async fn import_page_for_sua_staff() {
    let (app, _, _, _) = bergamo().await;
    let cfg = app.config.clone();
    let comune = login(&app, "bergamo").await;
    let refused = comune.get("/sua/import").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let staff = login(&app, "gare").await;
    let form = staff.get("/sua/import").await;
    assert_eq!(form.status(), StatusCode::OK);
    let upload = |bytes: Vec<u8>, name: &str, csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .text("format", "")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            )
    };
    let done = staff
        .post_multipart(
            "/sua/import",
            upload(anac_sample(), "anac.json", &staff.csrf),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let html = done.text().await.unwrap();
    assert!(html.contains("Importazione 1 completata"), "{html}");
    assert!(html.contains("id=\"imported-count\">12<"));

    let bad = staff
        .post_multipart(
            "/sua/import",
            upload(
                std::fs::read(fixture("sua_import_bad_rows.csv")).unwrap(),
                "bad.csv",
                &staff.csrf,
            ),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"row-errors\""));
    assert!(html.contains("non è stato importato nulla"));

    let forged = staff
        .post_multipart(
            "/sua/import",
            upload(anac_sample(), "anac.json", "not-the-token"),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&cfg, "SELECT count(*) FROM sua_import_batches"), 1);

    let batch = staff.get("/sua/import/1").await;
    assert_eq!(batch.status(), StatusCode::OK);
    assert!(batch.text().await.unwrap().contains("ocds-hu01ve-8394326"));
    app.stop().await;
}

fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pico-node"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap()
}

#[tokio::test]
async fn cli_imports_on_a_live_node() {
    let (dir, config) = init_dir("016");
    let data = config.data_dir.clone();
    let sua = add_user(&config, "gare", &Role::Operator(Module::Sua));
    // The node serves while the command line imports.
    let app = TestApp::start(dir, config).await;

    let sample = fixture("anac_ocds_compiled_releases_sample_2025.json");
    let out = cli(&data, &["sua", "import", sample.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("12 record letti, 12 procedure importate (15 lotti, 13 aggiudicati, 12 con contratto stipulato), 0 saltati"),
        "{stdout}"
    );
    assert!(stdout.contains(
        "Collegate a un Comune di questa Provincia: 1; altri enti (conservate senza Comune): 11."
    ));
    assert!(stdout.contains("ocds-hu01ve-8394326 -> procedura 10 (Contratto stipulato, 1 lotti, 1 aggiudicati), ente COMUNE DI BERGAMO [Comune 016024]"));

    let out = cli(
        &data,
        &["sua", "import", "--json", sample.to_str().unwrap()],
    );
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["skipped"], 12);
    assert_eq!(report["counts"]["imported"], 0);

    // Bad CSV: refused with its lines, exit status non-zero.
    let bad = fixture("sua_import_bad_rows.csv");
    let out = cli(
        &data,
        &["sua", "import", "--format", "csv", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("non è stato importato nulla: 5 problemi nel file"),
        "{stderr}"
    );
    assert!(stderr.contains("riga 3, colonna cpv:"), "{stderr}");

    // What the command line imported is what the live node serves.
    let report: Value = app
        .get("/v1/sua/reports", Some(&sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["totals"]["procedures"], 12);
    assert_eq!(report["lines"][0]["comune_code"], "016024");

    // The national procurement dataset keeps no rows while off, and the listing says why.
    let out = cli(&data, &["dataset", "list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let line = stdout
        .lines()
        .find(|line| line.starts_with("appalti\t"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("\t0 righe\t"), "{line}");
    assert!(
        line.ends_with(
            "federazione off\tricavato dai dati del modulo SUA: le righe si generano quando è federato"
        ),
        "{line}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_large_csv_import_keeps_the_national_dataset_whole() {
    // More procedures than one hand-over to the national dataset (10,000), so the chunks'
    // boundaries are crossed: every lot must have its `appalti` row.
    let (app, sua, _, _) = bergamo().await;
    let mut csv = String::from(
        "procedure_key,comune_code,object,contract_type,cpv,procedure_code,requested_on,published_on,cig,lot_amount,supplier_name,award_amount,awarded_on\n",
    );
    let procedures = 10_050;
    let mut lots = 0;
    for p in 0..procedures {
        for lot in 0..(1 + p % 2) {
            lots += 1;
            csv.push_str(&format!(
                "K{p},016024,Procedura {p},works,45233162-2,34,2024-01-10,2024-01-20,{lots:010},1000.00,Impresa {lot},900.00,2024-03-01\n"
            ));
        }
    }
    let report = import_ok(&app, &sua, "?format=csv", csv.into_bytes()).await;
    assert_eq!(report["counts"]["imported"], procedures);
    assert_eq!(report["counts"]["lots"], lots);
    assert_eq!(
        report["imported"].as_array().unwrap().len(),
        1000,
        "lists are capped"
    );
    assert_eq!(report["omitted"], procedures - 1000);
    assert_eq!(
        count(
            &app.config,
            "SELECT count(*) FROM dataset_rows WHERE dataset = 'appalti'"
        ),
        0,
        "not federated: no national rows"
    );
    app.stop().await;
}

#[tokio::test]
async fn problems_across_the_reading_threads_handovers_come_in_file_order() {
    // 1,000 procedures: the reading thread hands them over 256 at a time, so the problems
    // below sit in different handovers and must still be listed in file order, with
    // nothing written; the same file mended then imports whole.
    let (app, sua, _, _) = bergamo().await;
    let header = "procedure_key,comune_code,object,contract_type,cpv,procedure_code,requested_on,cig,lot_amount\n";
    let row = |p: usize, cpv: &str| {
        format!("K{p},016024,Procedura {p},works,{cpv},34,2024-01-10,{p:010},1000.00\n")
    };
    let mut bad = String::from(header);
    for p in 0..1000 {
        // Line p + 2: procedure 300 has a CPV with a wrong check digit, procedure 900 a
        // second row whose object disagrees with its first.
        bad.push_str(&row(p, if p == 300 { "45233162-3" } else { "45233162-2" }));
        if p == 900 {
            bad.push_str("K900,,Altro oggetto,,,,,9000000900,500.00\n");
        }
    }
    // Procedure 5 again at the end, away from its first rows.
    bad.push_str(&row(5, "45233162-2").replace("0000000005", "9000000005"));
    let refused = import(&app, &sua, "?format=csv", bad.into_bytes()).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "invalid_rows");
    assert_eq!(problem["problems"], 3);
    let rows: Vec<(u64, &str)> = problem["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [(302, "cpv"), (903, "object"), (1003, "procedure_key")],
        "{problem:#}"
    );
    assert!(
        problem["rows"][2]["message"]
            .as_str()
            .unwrap()
            .contains("tenete di seguito le righe di una stessa procedura"),
        "{problem:#}"
    );
    assert_eq!(count(&app.config, "SELECT count(*) FROM sua_procedures"), 0);
    assert_eq!(
        count(&app.config, "SELECT count(*) FROM sua_import_batches"),
        0
    );

    let mut good = String::from(header);
    for p in 0..1000 {
        good.push_str(&row(p, "45233162-2"));
    }
    let report = import_ok(&app, &sua, "?format=csv", good.into_bytes()).await;
    assert_eq!(report["counts"]["imported"], 1000);
    assert_eq!(report["counts"]["lots"], 1000);
    assert_eq!(count(&app.config, "SELECT count(*) FROM sua_lots"), 1000);
    app.stop().await;
}

/// A procedure awarded (2025-03-01) before it was requested (today): the report leaves its
/// duration out, as the hub does with `duration_days`, instead of a negative mean; the
/// procedure page says why.
#[tokio::test]
async fn an_award_before_the_request_gives_no_negative_duration() {
    let sua = crate::sua_helpers::Sua::spawn().await;
    let id = sua.procedure_in(pico_node::sua::State::Awarded).await;
    let report: Value = sua
        .app
        .get("/v1/sua/reports", Some(&sua.sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["lines"][0]["procedures"], 1, "{report:#}");
    assert_eq!(
        report["totals"]["average_days_to_award"],
        Value::Null,
        "{report:#}"
    );
    let session = login(&sua.app, "operatore.sua").await;
    let page = session.page(&format!("/sua/procedure/{id}")).await;
    assert!(page.contains("precede la richiesta"), "{page}");
    sua.app.stop().await;
}
