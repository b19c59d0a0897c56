//! ISTAT's BES dei territori at the hub: the bundled 2020 edition imported by `init`, counted
//! against the file read here on its own; a Province's profile against values read by hand
//! from the file; the import run again (same result) and refused (nothing changes); the API's
//! errors, CSV and ranking; the pages; the values a Province computes itself (`bes_provincia`)
//! beside ISTAT's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use pico_hub::bes::cli::BesAction;
use pico_hub::cli::{Command, execute};
use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row};
use serde_json::Value;

use crate::support::TestApp;

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/bes")
        .join(name)
}

const INDICATORS: &str = "istat_bes_territori_2020_indicatori_provincia_sesso.csv";
const METADATA: &str = "istat_bes_territori_2020_metadati.csv";

/// The file's lines as maps of column to cell.
fn file_lines() -> Vec<BTreeMap<String, String>> {
    csv::Reader::from_path(data_file(INDICATORS))
        .unwrap()
        .deserialize::<BTreeMap<String, String>>()
        .map(Result::unwrap)
        .collect()
}

/// ISTAT's region names, from the registry file.
fn region_names() -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/province_istat_2025.csv");
    csv::Reader::from_path(path)
        .unwrap()
        .deserialize::<BTreeMap<String, String>>()
        .map(|row| row.unwrap()["regione"].clone())
        .collect()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = app.state.db.get().unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Every stored value as `(code, territory, sex, year) → value`, to compare two imports.
fn stored(app: &TestApp) -> BTreeMap<(String, String, String, i64), Option<f64>> {
    let conn = app.state.db.get().unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT i.code, t.name, v.sex, v.year, v.value FROM bes_values v
             JOIN bes_indicators i ON i.id = v.indicator JOIN bes_territories t ON t.id = v.territory",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[tokio::test]
async fn init_imports_the_2020_edition_with_the_counts_of_the_file() {
    let app = TestApp::spawn().await;
    let lines = file_lines();
    let codes: BTreeSet<&str> = lines.iter().map(|l| l["CODICE"].as_str()).collect();
    let domains: BTreeSet<&str> = lines.iter().map(|l| l["DOMINIO"].as_str()).collect();
    let territories: BTreeSet<&str> = lines.iter().map(|l| l["TERRITORIO"].as_str()).collect();
    let regions = region_names();
    let provinces: BTreeSet<&str> = territories
        .iter()
        .copied()
        .filter(|t| {
            !regions.contains(*t) && !["Italia", "Nord", "Centro", "Mezzogiorno"].contains(t)
        })
        .collect();
    let mut years = BTreeSet::new();
    let mut cells = 0;
    let mut not_available = 0;
    for line in &lines {
        for (column, cell) in line {
            if let Some(year) = column.strip_prefix("V_")
                && !cell.is_empty()
            {
                years.insert(year.parse::<i64>().unwrap());
                cells += 1;
                if cell == "...." {
                    not_available += 1;
                }
            }
        }
    }
    assert_eq!((codes.len(), domains.len()), (55, 11));
    assert_eq!((territories.len(), provinces.len()), (135, 111));
    assert_eq!(count(&app, "SELECT count(*) FROM bes_editions"), 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM bes_indicators"),
        codes.len() as i64
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM bes_territories"),
        territories.len() as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM bes_territories WHERE kind = 'provincia'"
        ),
        provinces.len() as i64
    );
    // Every unit of the registry maps; the four abolished Sardinian Provinces do not.
    assert_eq!(
        count(
            &app,
            "SELECT count(DISTINCT province) FROM bes_territories WHERE province IS NOT NULL"
        ),
        107
    );
    assert_eq!(count(&app, "SELECT count(*) FROM bes_values"), cells);
    assert_eq!(
        count(&app, "SELECT count(*) FROM bes_values WHERE value IS NULL"),
        not_available
    );
    assert_eq!(
        count(&app, "SELECT min(year) FROM bes_values"),
        *years.first().unwrap()
    );
    assert_eq!(
        count(&app, "SELECT max(year) FROM bes_values"),
        *years.last().unwrap()
    );
    assert_eq!(years.len(), 16);

    let (status, body) = app.get_json("/v1/bes/domains").await;
    assert_eq!(status, 200);
    assert_eq!(body["edition"], 2020);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), domains.len());
    let total: u64 = items
        .iter()
        .map(|d| d["indicators"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 55);
    assert_eq!(items[0]["code"], "01");
    assert_eq!(items[0]["name"], "Salute");
    let (status, body) = app.get_json("/v1/bes/indicators").await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 55);
    let (_, body) = app.get_json("/v1/bes/indicators?domain=10").await;
    let ambiente = body["items"].as_array().unwrap();
    assert!(ambiente.iter().all(|i| i["domain"] == "Ambiente"));
    let raccolta = ambiente.iter().find(|i| i["code"] == "10AMB017").unwrap();
    assert_eq!(
        raccolta["name"],
        "Raccolta differenziata dei rifiuti urbani"
    );
    assert_eq!(raccolta["unit"], "valori percentuali");
    assert_eq!(raccolta["kind"], "Bes");
    assert_eq!(
        raccolta["definition"],
        "Percentuale di rifiuti urbani oggetto di raccolta differenziata sul totale dei rifiuti urbani raccolti."
    );
}

/// The point of a profile's series for an indicator, sex and year.
fn point<'a>(profile: &'a Value, code: &str, sex: &str, year: i64) -> &'a Value {
    let indicator = profile["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"]["code"] == code)
        .unwrap_or_else(|| panic!("no {code}"));
    let series = indicator["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sex"] == sex)
        .unwrap_or_else(|| panic!("no {code} {sex}"));
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["year"] == year)
        .unwrap_or_else(|| panic!("no {code} {sex} {year}"))
}

#[tokio::test]
async fn treviso_s_profile_has_the_values_of_the_file() {
    let app = TestApp::spawn().await;
    let (status, profile) = app.get_json("/v1/bes/provinces/026").await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["name"], "Treviso");
    assert_eq!(profile["region"], "Veneto");
    // Read by hand from the file: life expectancy at birth, total, 2018.
    let life = point(&profile, "01SAL001", "totale", 2018);
    assert_eq!(life["province"], 84.1);
    assert_eq!(life["region"], 83.6);
    assert_eq!(life["italy"], 83.0);
    // Employment rate 20-64, women, 2019: written "62,8", "63,2", "53,8" (decimal commas).
    let women = point(&profile, "03LAV001", "femmine", 2019);
    assert_eq!(women["province"], 62.8);
    assert_eq!(women["region"], 63.2);
    assert_eq!(women["italy"], 53.8);
    // Separate collection, total, 2017: 87.8 (Veneto 73.7, Italia 55.5).
    let waste = point(&profile, "10AMB017", "totale", 2017);
    assert_eq!(
        (&waste["province"], &waste["region"], &waste["italy"]),
        (&Value::from(87.8), &Value::from(73.7), &Value::from(55.5))
    );
    // Regional elections turnout, 2004: "...." for Treviso, not available.
    let turnout = point(&profile, "06POL001P", "totale", 2004);
    assert_eq!(turnout["province"], Value::Null);

    // Aosta maps to the registry's 007 by its alias; a metropolitan city by its historical code.
    let (status, aosta) = app.get_json("/v1/bes/provinces/007").await;
    assert_eq!((status, aosta["name"].as_str()), (200, Some("Aosta")));
    let (status, torino) = app.get_json("/v1/bes/provinces/001").await;
    assert_eq!((status, torino["region"].as_str()), (200, Some("Piemonte")));

    let (status, csv) = app
        .get_text("/v1/bes/provinces/026?format=csv&sep=semicolon")
        .await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("codice_indicatore;dominio;indicatore;unita_misura;sesso;anno;valore_provincia;valore_regione;valore_italia;valore_calcolato_provincia\n"));
    assert!(
        csv.contains("03LAV001;Lavoro e conciliazione dei tempi di vita;Tasso di occupazione (20-64 anni);valori percentuali;Femmine;2019;62,8;63,2;53,8;\n"),
        "{csv}"
    );
}

#[tokio::test]
async fn an_indicator_ranks_the_provinces_as_the_file_orders_them() {
    let app = TestApp::spawn().await;
    // The expected order, from the file: the Provinces' 2018 totals of separate collection.
    let regions = region_names();
    let former = [
        "Olbia-Tempio",
        "Ogliastra",
        "Medio Campidano",
        "Carbonia-Iglesias",
    ];
    let mut expected: Vec<(String, f64)> = file_lines()
        .into_iter()
        .filter(|l| l["CODICE"] == "10AMB017" && l["SESSO"] == "Totale")
        .filter(|l| {
            let t = l["TERRITORIO"].as_str();
            !regions.contains(t)
                && !["Italia", "Nord", "Centro", "Mezzogiorno"].contains(&t)
                && !former.contains(&t)
        })
        .filter_map(|l| {
            let v = l["V_2018"].replace(',', ".");
            v.parse::<f64>().ok().map(|v| (l["TERRITORIO"].clone(), v))
        })
        .collect();
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (status, body) = app.get_json("/v1/bes/indicators/10AMB017?year=2018").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["year"].as_i64(), body["sex"].as_str()),
        (Some(2018), Some("totale"))
    );
    let items = body["items"].as_array().unwrap();
    let ranked: Vec<(String, f64)> = items
        .iter()
        .filter(|p| !p["rank"].is_null())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranked.len(), expected.len());
    assert_eq!(
        ranked.iter().map(|r| r.1).collect::<Vec<_>>(),
        expected.iter().map(|r| r.1).collect::<Vec<_>>()
    );
    assert_eq!(items[0]["name"], expected[0].0);
    assert_eq!(items[0]["rank"], 1);
    let treviso = items.iter().find(|p| p["province"] == "026").unwrap();
    let higher = expected.iter().filter(|(_, v)| *v > 87.3).count();
    assert_eq!(treviso["value"], 87.3);
    assert_eq!(treviso["rank"], higher as u64 + 1);
    // The abolished Provinces are listed last, without a place or a code.
    let olbia = items.iter().find(|p| p["name"] == "Olbia-Tempio").unwrap();
    assert_eq!(
        (&olbia["rank"], &olbia["province"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(body["italy"], 58.2);
    assert_eq!(body["regions"].as_array().unwrap().len(), 20);
    // Without a year: the latest with a provincial value (2018 for this indicator).
    let (_, latest) = app.get_json("/v1/bes/indicators/10AMB017").await;
    assert_eq!(latest["year"], 2018);
    assert_eq!(
        latest["years"].as_array().unwrap().first(),
        Some(&Value::from(2004))
    );

    let (status, csv) = app
        .get_text("/v1/bes/indicators/10AMB017?year=2018&format=csv")
        .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "codice_indicatore,indicatore,unita_misura,anno,sesso,posizione,codice_provincia,provincia,regione,valore,valore_regione,valore_italia"
    );
    assert_eq!(lines.len(), 1 + 111);
    let treviso_line = format!(
        "10AMB017,Raccolta differenziata dei rifiuti urbani,valori percentuali,2018,Totale,{},026,Treviso,Veneto,87.3,73.8,58.2",
        higher + 1
    );
    assert!(lines.contains(&treviso_line.as_str()), "{csv}");
    let response = app
        .get_csv("/v1/bes/indicators/10AMB017?format=csv&sep=semicolon&bom=1")
        .await;
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFcodice_indicatore;"));
    assert!(String::from_utf8_lossy(&bytes).contains(";026;Treviso;Veneto;87,3;73,8;58,2"));
}

#[tokio::test]
async fn wrong_requests_are_problems_in_italian() {
    let app = TestApp::spawn().await;
    for (path, status) in [
        ("/v1/bes/provinces/999", 404),
        ("/v1/bes/provinces/abc", 400),
        ("/v1/bes/provinces/026?format=xml", 400),
        ("/v1/bes/indicators/99XXX999", 404),
        ("/v1/bes/indicators/10AMB017?year=1990", 400),
        ("/v1/bes/indicators/10AMB017?year=duemila", 400),
        ("/v1/bes/indicators/10AMB017?sex=maschi", 400),
        ("/v1/bes/indicators/10AMB017?sep=semicolon", 400),
        ("/v1/bes/indicators/10AMB017?colore=rosso", 400),
        ("/v1/bes/indicators?domain=99", 400),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], status, "{path}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(!detail.is_empty(), "{path}");
        for english in [" is not ", " use ", "no such", "not found"] {
            assert!(!detail.contains(english), "{path}: {detail}");
        }
    }
    let (_, problem) = app.get_json("/v1/bes/indicators/10AMB017?year=1990").await;
    assert_eq!(
        problem["detail"],
        "l'indicatore 10AMB017 non ha valori provinciali nel 1990 per sex=totale: anni dal 2004 al 2018"
    );
}

#[tokio::test]
async fn importing_again_replaces_the_edition_and_a_bad_file_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = stored(&app);
    let import = |file: PathBuf| Command::Bes {
        action: BesAction::Import {
            edition: 2020,
            file,
            metadata: data_file(METADATA),
        },
    };
    execute(&import(data_file(INDICATORS)), &app.state.config).unwrap();
    assert_eq!(count(&app, "SELECT count(*) FROM bes_editions"), 1);
    assert_eq!(stored(&app), before, "the same file gives the same values");

    // One bad cell at the end of a copy of the file: refused whole, the edition stays.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("rotto.csv");
    let mut text = std::fs::read_to_string(data_file(INDICATORS)).unwrap();
    text.push_str("Salute,01SAL001,Speranza di vita alla nascita,Totale,Atlantide,numero medio di anni,Istat,80,abc,,,,,,,,,,,,,,,\n");
    std::fs::write(&broken, text).unwrap();
    let err = execute(&import(broken), &app.state.config).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("file rifiutato, nulla è cambiato"),
        "{message}"
    );
    assert!(message.contains("riga 11448"), "{message}");
    assert!(
        message.contains("anno 2005: valore \"abc\" non numerico"),
        "{message}"
    );
    assert_eq!(stored(&app), before);

    // Another edition imports beside it and becomes the one served.
    execute(
        &Command::Bes {
            action: BesAction::Import {
                edition: 2021,
                file: data_file(INDICATORS),
                metadata: data_file(METADATA),
            },
        },
        &app.state.config,
    )
    .unwrap();
    let (_, domains) = app.get_json("/v1/bes/domains").await;
    assert_eq!(domains["edition"], 2021);
    assert_eq!(count(&app, "SELECT count(*) FROM bes_editions"), 2);
}

#[tokio::test]
async fn the_pages_show_domains_profile_and_ranking_in_italian() {
    let app = TestApp::spawn().await;
    let (status, page) = app.get_text("/bes").await;
    assert_eq!(status, 200);
    assert!(page.contains("Benessere equo e sostenibile dei territori"));
    assert!(page.contains("href=\"/bes/indicatori/10AMB017\""));
    assert!(page.contains("Innovazione, ricerca e creatività"));
    let (status, page) = app.get_text("/bes/province/026").await;
    assert_eq!(status, 200);
    assert!(page.contains("Treviso: indicatori BES"));
    // The chart (one image with every value in its label) and its table.
    assert!(page.contains("id=\"grafico-01SAL001-totale\""));
    assert!(page.contains("2018: 84,1"), "the chart's text alternative");
    assert!(page.contains("<td class=\"text-end\">84,1</td><td class=\"text-end\">83,6</td><td class=\"text-end\">83</td>"));
    let (status, page) = app.get_text("/bes/indicatori/10AMB017?anno=2018").await;
    assert_eq!(status, 200);
    assert!(page.contains("Raccolta differenziata dei rifiuti urbani"));
    assert!(page.contains("Olbia-Tempio (soppressa)"));
    assert!(page.contains("href=\"/bes/province/026\""));
    let (status, _) = app.get_text("/bes/indicatori/10AMB017?anno=1990").await;
    assert_eq!(
        status, 400,
        "a year without values is said, the latest shown"
    );
    let (status, page) = app.get_text("/bes/province/999").await;
    assert_eq!(status, 404);
    assert!(page.contains("Nessuna Provincia con il codice 999"));
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/bes/province?codice=026", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/bes/province/026");
    let (_, home) = app.get_text("/").await;
    assert!(
        home.contains("href=\"/bes\""),
        "the navigation leads to the BES"
    );
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    for path in [
        "/v1/bes/domains",
        "/v1/bes/indicators",
        "/v1/bes/indicators/{code}",
        "/v1/bes/provinces/{code}",
    ] {
        assert!(
            doc["paths"][path]["get"]["responses"]["200"].is_object(),
            "{path}"
        );
    }
    for path in ["/v1/bes/indicators/{code}", "/v1/bes/provinces/{code}"] {
        let responses = &doc["paths"][path]["get"]["responses"];
        assert!(
            responses["200"]["content"]["text/csv"].is_object(),
            "{path}"
        );
        for status in ["400", "404"] {
            assert!(
                responses[status]["content"]["application/problem+json"].is_object(),
                "{path} {status}"
            );
        }
    }
    assert!(doc["components"]["schemas"]["BesIndicatorValues"].is_object());
    assert!(doc["components"]["schemas"]["BesProfile"].is_object());
}

/// Runs the real binary over `dir`.
fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pico-hub"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_imports_an_edition_and_speaks_italian() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(dir.path(), &["init"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("edizione 2020 del BES dei territori importata: 55 indicatori, 135 territori di cui 111 Province (107 collegate al registro), 125909 valori, anni 2004–2019"),
        "{out}"
    );
    // init again: the edition held is kept, not imported over.
    let (ok, out, _) = run(dir.path(), &["init"]);
    assert!(ok && !out.contains("BES"), "{out}");
    let file = data_file(INDICATORS);
    let metadata = data_file(METADATA);
    let (ok, out, err) = run(
        dir.path(),
        &[
            "bes",
            "import",
            "--edition",
            "2020",
            file.to_str().unwrap(),
            metadata.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("edizione 2020 del BES dei territori sostituita: 55 indicatori"),
        "{out}"
    );
    assert!(
        out.contains("Province non presenti nel registro (tenute con il nome del file, senza codice): Olbia-Tempio, Ogliastra, Medio Campidano, Carbonia-Iglesias"),
        "{out}"
    );
    let (ok, _, err) = run(
        dir.path(),
        &[
            "bes",
            "import",
            "--edition",
            "2020",
            "manca.csv",
            metadata.to_str().unwrap(),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("errore: impossibile leggere manca.csv"),
        "{err}"
    );
}

/// Treviso's own BES (`bes_provincia`), with the key `key`: life expectancy (ISTAT's
/// 01SAL001) for 2018 (beside ISTAT's 84.1) and 2021 (a year ISTAT's edition does not have),
/// and an indicator of its own; a row with an unreadable sex is left out.
fn own_bes(key: &[&str]) -> Payload {
    let row = |code: &str,
               domain: &str,
               name: &str,
               sex: &str,
               year: i64,
               value: FieldValue,
               unit: &str|
     -> Row {
        vec![
            code.into(),
            domain.into(),
            name.into(),
            sex.into(),
            FieldValue::Int(year),
            value,
            unit.into(),
            "Ufficio statistica della Provincia, su dati anagrafici comunali".into(),
        ]
    };
    let life = "Speranza di vita alla nascita";
    Payload::DatasetBatch(DatasetBatch {
        dataset: "bes_provincia".into(),
        schema_version: 1,
        fields: [
            "codice",
            "dominio",
            "indicatore",
            "sesso",
            "anno",
            "valore",
            "unita_misura",
            "fonte",
        ]
        .map(str::to_owned)
        .to_vec(),
        primary_key: key.iter().map(|k| (*k).to_owned()).collect(),
        snapshot: None,
        upserts: vec![
            row(
                "01SAL001",
                "Salute",
                life,
                "Totale",
                2018,
                "84.0".into(),
                "numero medio di anni",
            ),
            row(
                "01SAL001",
                "Salute",
                life,
                "Totale",
                2021,
                "84.3".into(),
                "numero medio di anni",
            ),
            row(
                "TV-DIG01",
                "Innovazione, ricerca e creatività",
                "Comuni con servizi online accessibili con SPID",
                "Totale",
                2023,
                FieldValue::Int(88),
                "valori percentuali",
            ),
            row(
                "TV-DIG01",
                "Innovazione, ricerca e creatività",
                "Comuni con servizi online accessibili con SPID",
                "Tutti",
                2024,
                "90".into(),
                "valori percentuali",
            ),
        ],
        deletes: vec![],
    })
}

#[tokio::test]
async fn a_province_s_own_values_stand_beside_istat_s_and_are_marked_as_its_own() {
    let app = TestApp::spawn().await;
    let (_, before) = app.get_json("/v1/bes/provinces/026").await;
    assert_eq!(before["publishes_own"], false);
    assert_eq!(
        point(&before, "01SAL001", "totale", 2018)["own"],
        Value::Null
    );

    // Brescia publishes a dataset of that name with another key: not this dataset.
    let mut bs = app.enrolled("017", "brescia");
    let mut tv = app.enrolled("026", "treviso");
    for (log, key) in [
        (&mut bs, &["codice"][..]),
        (&mut tv, &["codice", "sesso", "anno"][..]),
    ] {
        let entry = log.next(&own_bes(key));
        let (status, body) = app.push(&[&entry]).await;
        assert_eq!(status, 200, "{body}");
    }

    let (status, profile) = app.get_json("/v1/bes/provinces/026").await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["publishes_own"], true);
    let own_2018 = point(&profile, "01SAL001", "totale", 2018);
    assert_eq!(
        (&own_2018["province"], &own_2018["own"]),
        (&Value::from(84.1), &Value::from(84.0))
    );
    let own_2021 = point(&profile, "01SAL001", "totale", 2021);
    assert_eq!(
        (&own_2021["province"], &own_2021["region"], &own_2021["own"]),
        (&Value::Null, &Value::Null, &Value::from(84.3))
    );
    // ISTAT's years without an own value keep `own` null.
    assert_eq!(
        point(&profile, "01SAL001", "totale", 2017)["own"],
        Value::Null
    );
    let own = profile["own_indicators"].as_array().unwrap();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["code"], "TV-DIG01");
    assert_eq!(own[0]["unit"], "valori percentuali");
    assert_eq!(
        own[0]["series"],
        serde_json::json!([{"sex": "totale", "points": [{"year": 2023, "province": null, "region": null, "italy": null, "own": 88.0}]}])
    );
    assert_eq!(
        profile["own_sources"],
        serde_json::json!(["Ufficio statistica della Provincia, su dati anagrafici comunali"])
    );
    let (_, brescia) = app.get_json("/v1/bes/provinces/017").await;
    assert_eq!(brescia["publishes_own"], false);
    assert!(brescia["own_indicators"].as_array().unwrap().is_empty());

    let (status, csv) = app
        .get_text("/v1/bes/provinces/026?format=csv&sep=semicolon")
        .await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("codice_indicatore;dominio;indicatore;unita_misura;sesso;anno;valore_provincia;valore_regione;valore_italia;valore_calcolato_provincia\n"));
    assert!(csv.contains("01SAL001;Salute;Speranza di vita alla nascita;numero medio di anni;Totale;2018;84,1;83,6;83;84\n"), "{csv}");
    assert!(csv.contains("01SAL001;Salute;Speranza di vita alla nascita;numero medio di anni;Totale;2021;;;;84,3\n"), "{csv}");
    assert!(csv.ends_with("TV-DIG01;Innovazione, ricerca e creatività;Comuni con servizi online accessibili con SPID;valori percentuali;Totale;2023;;;;88\n"), "{csv}");

    let (status, page) = app.get_text("/bes/province/026").await;
    assert_eq!(status, 200);
    for text in [
        "Calcolato dalla Provincia",
        "Indicatori calcolati dalla Provincia",
        "Comuni con servizi online accessibili con SPID",
        "fonte indicata dalla Provincia: Ufficio statistica della Provincia, su dati anagrafici comunali",
        "non sono dati Istat",
    ] {
        assert!(page.contains(text), "{text} missing");
    }
    let (_, page) = app.get_text("/bes/province/017").await;
    assert!(!page.contains("Calcolato dalla Provincia"));
}
