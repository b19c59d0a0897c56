//! The national view: rows with provenance, filters, pagination, CSV, aggregates, deletes and
//! snapshots, and the best-practice library with attachments.

use pico_protocol::Hash32;
use pico_protocol::payload::{
    Attachment, BestPractice, DatasetBatch, Module, Payload, PublicationStatus, SnapshotPart,
};
use serde_json::Value;

use crate::support::{APPALTI_FIELDS, TestApp, appalti, appalto};

async fn all_rows(app: &TestApp, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/datasets/appalti/rows?{query}&limit=7&cursor={c}"),
            None => format!("/v1/datasets/appalti/rows?{query}&limit=7"),
        };
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{page}");
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn rows_carry_provenance_and_can_be_filtered_paged_and_exported() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    let mut bs = app.enrolled("017", "brescia");
    let tv1 = tv.next(&appalti("026", 0, 30));
    app.push_ok(&tv1).await;
    app.push_ok(&bs.next(&appalti("017", 0, 20))).await;
    // An update of 5 rows and a delete of 2 from Treviso.
    let update = Payload::DatasetBatch(DatasetBatch {
        deletes: vec![vec!["B0260000028".into()], vec!["B0260000029".into()]],
        ..match appalti("026", 0, 5) {
            Payload::DatasetBatch(b) => b,
            _ => unreachable!(),
        }
    });
    let tv2 = tv.next(&update);
    app.push_ok(&tv2).await;

    let everything = all_rows(&app, "").await;
    assert_eq!(everything.len(), 48);
    let treviso = all_rows(&app, "province=026").await;
    assert_eq!(treviso.len(), 28);
    let first = &treviso[0];
    assert_eq!(first["data"]["cig"], "B0260000000");
    assert_eq!(first["seq"], 2, "the update is the row's provenance");
    assert_eq!(first["entry_hash"], tv2.entry_hash().to_hex());
    let untouched = treviso
        .iter()
        .find(|r| r["data"]["cig"] == "B0260000010")
        .unwrap();
    assert_eq!(untouched["entry_hash"], tv1.entry_hash().to_hex());

    let comune = all_rows(&app, "comune=026002").await;
    assert_eq!(comune.len(), 6);
    assert!(comune.iter().all(|r| r["data"]["comune"] == "026002"));
    let pnrr = all_rows(&app, "province=017&pnrr=true").await;
    assert_eq!(pnrr.len(), 7);
    let offers = all_rows(&app, "n_offerte=3").await;
    assert!(offers.iter().all(|r| r["data"]["n_offerte"] == 3));
    let (status, _) = app.get_json("/v1/datasets/appalti/rows?Bad-Field=1").await;
    assert_eq!(status, 400);
    let (status, _) = app.get_json("/v1/datasets/nope/rows").await;
    assert_eq!(status, 404);

    let (status, csv) = app
        .get_text("/v1/datasets/appalti/rows?province=017&format=csv&sep=semicolon&limit=1000")
        .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 21);
    assert_eq!(
        lines[0],
        format!("province;seq;entry_hash;{}", APPALTI_FIELDS.join(";"))
    );
    assert!(lines[1].starts_with("017;1;"));

    let (_, datasets) = app.get_json("/v1/datasets").await;
    let appalti_info = &datasets["items"][0];
    assert_eq!(appalti_info["name"], "appalti");
    assert_eq!(appalti_info["rows"], 48);
    assert_eq!(appalti_info["contributors"].as_array().unwrap().len(), 2);
    assert_eq!(appalti_info["contributors"][1]["province"], "026");
    assert_eq!(appalti_info["contributors"][1]["rows"], 28);
    assert_eq!(appalti_info["contributors"][1]["last_seq"], 2);

    let (_, by_province) = app
        .get_json("/v1/datasets/appalti/aggregates?group_by=province")
        .await;
    assert_eq!(
        by_province["items"],
        serde_json::json!([{"key": "017", "count": 20}, {"key": "026", "count": 28}])
    );
    let (_, by_region) = app
        .get_json("/v1/datasets/appalti/aggregates?group_by=region&sum=importo_base")
        .await;
    let lombardia = by_region["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "Lombardia")
        .unwrap();
    let expected: u64 = (0..20u64)
        .map(|i| (40_000 + (i * 7_919) % 900_000) * 100 + i % 100)
        .sum();
    assert_eq!(lombardia["count"], 20);
    assert_eq!(
        lombardia["sum"],
        format!("{}.{:02}", expected / 100, expected % 100)
    );
    let (_, by_month) = app
        .get_json("/v1/datasets/appalti/aggregates?group_by=month&date_field=data_pubblicazione")
        .await;
    let months = by_month["items"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(
        months
            .iter()
            .map(|m| m["count"].as_u64().unwrap())
            .sum::<u64>(),
        48
    );

    let (_, provinces) = app.get_json("/v1/provinces").await;
    let items = provinces["items"].as_array().unwrap();
    assert_eq!(items.len(), 107);
    assert_eq!(items.iter().filter(|p| p["upi"] == true).count(), 86);
    let tv_status = items.iter().find(|p| p["code"] == "026").unwrap();
    assert_eq!(tv_status["enrolment"], "enrolled");
    assert_eq!(tv_status["head_seq"], 2);
    assert!(tv_status["last_entry_at"].is_string());
    assert_eq!(provinces["attribution"], "Fonte: Istat (CC BY 4.0)");
}

#[tokio::test]
async fn a_completed_snapshot_replaces_the_provinces_rows() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    app.push_ok(&tv.next(&appalti("026", 0, 10))).await;
    let part = |n: u32, rows: std::ops::Range<u64>| {
        Payload::DatasetBatch(DatasetBatch {
            dataset: "appalti".into(),
            schema_version: 1,
            fields: APPALTI_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            primary_key: vec!["cig".into()],
            snapshot: Some(SnapshotPart {
                id: "2026-01".into(),
                part: n,
                parts: 2,
            }),
            upserts: rows.map(|i| appalto("026", i)).collect(),
            deletes: vec![],
        })
    };
    let one = tv.next(&part(1, 5..8));
    app.push_ok(&one).await;
    assert_eq!(
        all_rows(&app, "province=026").await.len(),
        10,
        "nothing removed before the last part"
    );
    let two = tv.next(&part(2, 8..12));
    app.push_ok(&two).await;
    let rows = all_rows(&app, "province=026").await;
    let cigs: Vec<&str> = rows
        .iter()
        .map(|r| r["data"]["cig"].as_str().unwrap())
        .collect();
    assert_eq!(
        cigs,
        (5..12).map(|i| format!("B026{i:07}")).collect::<Vec<_>>()
    );
    let (_, agg) = app.get_json("/v1/datasets/appalti/aggregates").await;
    assert_eq!(
        agg["items"][0]["count"], 7,
        "maintained count follows the snapshot"
    );
}

#[tokio::test]
async fn best_practices_are_searchable_and_their_attachments_content_addressed() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    let file = b"%PDF-1.7 convenzione SUA tipo".to_vec();
    let attachment = Attachment {
        name: "convenzione.pdf".into(),
        media_type: "application/pdf".into(),
        sha256: Hash32::digest_of(&[&file]),
        length: file.len() as u64,
    };
    let practice = |title: &str, status| {
        Payload::BestPractice(BestPractice {
            id: "sua-convenzione".into(),
            title: title.into(),
            summary:
                "Schema di convenzione tra Provincia e Comuni per la stazione unica appaltante"
                    .into(),
            module: Module::Sua,
            comuni: vec![],
            tags: vec!["convenzione".into(), "appalti".into()],
            language: "it".into(),
            body: "La Provincia di Treviso gestisce le gare dei Comuni aderenti.".into(),
            attachments: vec![attachment.clone()],
            status,
        })
    };
    assert_eq!(
        app.push(&[&tv.next(&practice("Convenzione SUA", PublicationStatus::Published))])
            .await
            .0,
        200
    );

    let (_, found) = app.get_json("/v1/practices?q=stazione%20appaltante").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["title"], "Convenzione SUA");
    assert_eq!(
        found["items"][0]["tags"],
        serde_json::json!(["convenzione", "appalti"])
    );
    let (_, accents) = app.get_json("/v1/practices?q=unica%20appalt").await;
    assert_eq!(
        accents["items"].as_array().unwrap().len(),
        1,
        "prefix search"
    );
    let (_, none) = app.get_json("/v1/practices?q=bilancio").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, other_module) = app.get_json("/v1/practices?module=sape").await;
    assert!(other_module["items"].as_array().unwrap().is_empty());
    let (_, hostile) = app.get_json("/v1/practices?q=%22%20OR%20*%20NEAR(").await;
    assert!(
        hostile["items"].is_array(),
        "user text is never FTS5 syntax"
    );

    let url = format!(
        "{}/v1/federation/attachments/{}",
        app.url,
        attachment.sha256.to_hex()
    );
    let wrong = app
        .http
        .put(&url)
        .body(b"%PDF-1.7 altro testo  ".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 422);
    let (status, _) = app
        .get_text(&format!("/v1/attachments/{}", attachment.sha256.to_hex()))
        .await;
    assert_eq!(status, 404);
    let right = app.http.put(&url).body(file.clone()).send().await.unwrap();
    assert_eq!(right.status().as_u16(), 204);
    let got = app
        .http
        .get(format!(
            "{}/v1/attachments/{}",
            app.url,
            attachment.sha256.to_hex()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "application/pdf");
    assert_eq!(got.bytes().await.unwrap().to_vec(), file);
    let undeclared = app
        .http
        .put(format!(
            "{}/v1/federation/attachments/{}",
            app.url,
            Hash32::digest_of(&[b"x"]).to_hex()
        ))
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(undeclared.status().as_u16(), 404);

    // Withdrawing removes it from the library; the signed history stays in the log.
    assert_eq!(
        app.push(&[&tv.next(&practice("Convenzione SUA", PublicationStatus::Withdrawn))])
            .await
            .0,
        200
    );
    let (_, gone) = app.get_json("/v1/practices?q=convenzione").await;
    assert!(gone["items"].as_array().unwrap().is_empty());
    // ... and deletes the attachment's bytes: not served, not stored, not taken back.
    let (status, _) = app
        .get_text(&format!("/v1/attachments/{}", attachment.sha256.to_hex()))
        .await;
    assert_eq!(status, 404);
    let stored: i64 = app
        .state
        .db
        .get()
        .unwrap()
        .query_row(
            "SELECT count(*) FROM attachments WHERE content IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0, "the bytes of a withdrawn document are deleted");
    let late = app.http.put(&url).body(file.clone()).send().await.unwrap();
    assert_eq!(late.status().as_u16(), 404, "no live declaration any more");
    let (_, log) = app.get_json("/v1/federation/nodes/026/head").await;
    assert_eq!(log["seq"], 2, "both entries stay in the log");

    // Published again, the file is declared again and its upload accepted.
    assert_eq!(
        app.push(&[&tv.next(&practice("Convenzione SUA", PublicationStatus::Published))])
            .await
            .0,
        200
    );
    let again = app.http.put(&url).body(file.clone()).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 204);
    let (status, _) = app
        .get_text(&format!("/v1/attachments/{}", attachment.sha256.to_hex()))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_empty_snapshot_withdraws_the_provinces_rows_and_a_new_snapshot_restores_them() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    let mut bs = app.enrolled("017", "brescia");
    app.push_ok(&tv.next(&appalti("026", 0, 10))).await;
    app.push_ok(&bs.next(&appalti("017", 0, 4))).await;
    let snapshot = |id: &str, rows: std::ops::Range<u64>| {
        Payload::DatasetBatch(DatasetBatch {
            dataset: "appalti".into(),
            schema_version: 1,
            fields: APPALTI_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            primary_key: vec!["cig".into()],
            snapshot: Some(SnapshotPart {
                id: id.into(),
                part: 1,
                parts: 1,
            }),
            upserts: rows.map(|i| appalto("026", i)).collect(),
            deletes: vec![],
        })
    };
    let (_, agg) = app
        .get_json("/v1/datasets/appalti/aggregates?sum=importo_base")
        .await;
    assert_eq!(agg["items"].as_array().unwrap().len(), 2, "{agg:#}");

    // Treviso withdraws: its rows and its contribution are gone, Brescia's untouched.
    let withdrawal = tv.next(&snapshot("appalti-3-withdrawn", 0..0));
    app.push_ok(&withdrawal).await;
    assert!(all_rows(&app, "province=026").await.is_empty());
    assert_eq!(all_rows(&app, "province=017").await.len(), 4);
    let (_, list) = app.get_json("/v1/datasets").await;
    let dataset = &list["items"][0];
    assert_eq!(dataset["rows"], 4, "{list:#}");
    let contributors: Vec<&str> = dataset["contributors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["province"].as_str().unwrap())
        .collect();
    assert_eq!(contributors, ["017"]);
    for query in ["", "?sum=importo_base", "?group_by=region"] {
        let (_, agg) = app
            .get_json(&format!("/v1/datasets/appalti/aggregates{query}"))
            .await;
        let counts: Vec<u64> = agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .collect();
        assert_eq!(counts, [4], "{query}: {agg:#}");
    }
    // The withdrawal is an entry of the log like any other.
    let (_, head) = app.get_json("/v1/federation/nodes/026/head").await;
    assert_eq!(head["hash"], withdrawal.entry_hash().to_hex());

    // Federated again: a full snapshot makes Treviso a contributor again.
    assert_eq!(
        app.push(&[&tv.next(&snapshot("appalti-4", 0..6))]).await.0,
        200
    );
    assert_eq!(all_rows(&app, "province=026").await.len(), 6);
    let (_, list) = app.get_json("/v1/datasets").await;
    assert_eq!(list["items"][0]["rows"], 10);
    assert_eq!(
        list["items"][0]["contributors"].as_array().unwrap().len(),
        2
    );

    // When both have withdrawn, the dataset has no contributor and is no longer listed.
    let empty = snapshot("appalti-withdrawn", 0..0);
    app.push_ok(&bs.next(&empty)).await;
    assert!(all_rows(&app, "province=017").await.is_empty());
    let (_, list) = app.get_json("/v1/datasets").await;
    assert_eq!(
        list["items"][0]["contributors"].as_array().unwrap().len(),
        1
    );
    app.push_ok(&tv.next(&empty)).await;
    let (_, list) = app.get_json("/v1/datasets").await;
    assert_eq!(list["items"], serde_json::json!([]), "{list:#}");
    assert_eq!(app.count("dataset_rows"), 0);
}

#[tokio::test]
async fn sums_and_months_reread_only_the_provinces_that_changed() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    let mut bs = app.enrolled("017", "brescia");
    app.push_ok(&tv.next(&appalti("026", 0, 30))).await;
    app.push_ok(&bs.next(&appalti("017", 0, 20))).await;
    let query = "/v1/datasets/appalti/aggregates?group_by=month&date_field=data_pubblicazione&sum=importo_base";
    let scanned = || app.state.aggregates.rows_scanned();

    let (status, first) = app.get_json(query).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        scanned(),
        50,
        "the first query reads each Province's rows once"
    );
    let (_, again) = app.get_json(query).await;
    assert_eq!(again, first);
    assert_eq!(
        scanned(),
        50,
        "an unchanged national view is served from the partials"
    );

    // Brescia adds 5 rows: only Brescia's 25 rows are read again, and the totals move.
    app.push_ok(&bs.next(&appalti("017", 20, 5))).await;
    let (_, after) = app.get_json(query).await;
    assert_eq!(scanned(), 75);
    let count = |page: &Value| -> u64 {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!((count(&first), count(&after)), (50, 55));

    // The same numbers as computing from scratch (a fresh cache reads everything).
    let fresh = pico_hub::db::national::AggregateCache::default();
    let cache_items = app
        .state
        .db
        .call(move |conn| {
            pico_hub::db::national::aggregate(
                conn,
                &fresh,
                "appalti",
                pico_hub::db::national::GroupBy::Month,
                Some("importo_base"),
                Some("data_pubblicazione"),
            )
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(serde_json::to_value(cache_items).unwrap(), after["items"]);
}
