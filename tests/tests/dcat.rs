//! The aggregated open-data catalogue with real processes: three Provinces (Treviso, Brescia,
//! Pesaro e Urbino) each publish an open dataset and an internal one with their DCAT-AP_IT
//! metadata (set from the command line); the hub's catalogue lists exactly the three open
//! datasets, each attributed to its Province, and none of the internal ones. rdflib reads the
//! catalogue (Turtle and RDF/XML, the same graph) independently of our code.

use std::path::PathBuf;

use pico_system_tests::federation::{Hub, Node, PATIENCE, wait_until};
use serde_json::{Value, json};

const PROVINCES: [(&str, &str, &str); 3] = [
    ("026", "p_tv", "026086"),
    ("017", "p_bs", "017029"),
    ("041", "p_pu", "041044"),
];

fn python() -> PathBuf {
    std::env::var_os("PICO_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/interop-venv/bin/python3"),
        PathBuf::from,
    )
}

const READ: &str = r#"
import json, sys, rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, DCTERMS, DCAT, FOAF
g = rdflib.Graph().parse(data=sys.argv[1], format="turtle")
same = isomorphic(g, rdflib.Graph().parse(data=sys.argv[2], format="xml"))
out = []
for d in g.subjects(RDF.type, DCAT.Dataset):
    publisher = g.value(d, DCTERMS.publisher)
    out.append([str(g.value(d, DCTERMS.identifier)), str(g.value(publisher, DCTERMS.identifier)),
                str(g.value(publisher, FOAF.name))])
print(json.dumps({"same": same, "datasets": sorted(out)}))
"#;

fn metadata(ipa: &str, comune: &str, open: bool) -> Value {
    json!({
        "open": open,
        "identifier": format!("{ipa}:servizi"),
        "title": format!("Servizi ai Comuni ({ipa})"),
        "description": "I servizi che la Provincia offre ai suoi Comuni.",
        "themes": ["http://publications.europa.eu/resource/authority/data-theme/GOVE"],
        "keywords": ["servizi", "Comuni"],
        "contact_point": format!("opendata@{ipa}.example.it"),
        "accrual_periodicity": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
        "spatial": [comune],
        "license": "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"
    })
}

fn get_text(url: &str) -> String {
    let response = reqwest::blocking::get(url).expect("the catalogue answers");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.text().expect("the catalogue is text")
}

#[test]
fn the_hub_catalogue_lists_exactly_the_open_datasets_of_three_provinces() {
    let root = tempfile::tempdir().unwrap();
    let hub = Hub::start(root.path()).unwrap();
    let mut nodes = Vec::new();
    for (code, ipa, comune) in PROVINCES {
        let node = Node::init(root.path(), code).unwrap();
        hub.enrol(code, node.public_key()).unwrap();
        node.import(
            "servizi",
            "codice",
            &format!("codice,comune\nS1,{comune}\nS2,\n"),
            false,
        )
        .unwrap();
        node.import(
            "interno",
            "codice",
            "codice,nota\nI1,solo per Pi.Co.\n",
            false,
        )
        .unwrap();
        for (dataset, value) in [
            ("servizi", metadata(ipa, comune, true)),
            ("interno", {
                let mut internal = metadata(ipa, comune, false);
                internal["identifier"] = json!(format!("{ipa}:interno"));
                internal
            }),
        ] {
            let file = root.path().join(format!("{code}-{dataset}.json"));
            std::fs::write(&file, value.to_string()).unwrap();
            let printed = node
                .cli(&[
                    "dataset",
                    "metadata",
                    "--name",
                    dataset,
                    file.to_str().unwrap(),
                ])
                .unwrap();
            assert!(printed.contains("metadati salvati"), "{printed}");
            node.publish_nationally(dataset).unwrap();
        }
        nodes.push(node);
    }
    // A broken one is refused from the command line too, naming the field.
    let file = root.path().join("broken.json");
    let mut broken = metadata("p_tv", "026086", true);
    broken["license"] = json!("");
    std::fs::write(&file, broken.to_string()).unwrap();
    let refused = nodes[0]
        .cli(&[
            "dataset",
            "metadata",
            "--name",
            "interno",
            file.to_str().unwrap(),
        ])
        .unwrap_err()
        .to_string();
    assert!(refused.contains("Scegli la licenza"), "{refused}");

    let hub_url = hub.url();
    for node in &mut nodes {
        node.serve(&hub_url).unwrap();
    }
    let expected = json!([
        ["p_bs:servizi", "p_bs", "Provincia di Brescia"],
        ["p_pu:servizi", "p_pu", "Provincia di Pesaro e Urbino"],
        ["p_tv:servizi", "p_tv", "Provincia di Treviso"],
    ]);
    let mut last = Value::Null;
    wait_until(
        "the hub catalogue lists the three open datasets",
        PATIENCE,
        || {
            let ttl = get_text(&format!("{hub_url}/dati/catalogo.ttl"));
            let xml = get_text(&format!("{hub_url}/dati/catalogo.rdf"));
            let out = std::process::Command::new(python())
                .args(["-c", READ, &ttl, &xml])
                .output()?;
            anyhow::ensure!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            last = serde_json::from_slice(&out.stdout)?;
            Ok(last["datasets"] == expected)
        },
    )
    .unwrap_or_else(|e| panic!("{e}: {last:#}"));
    assert_eq!(last["same"], true);

    // Paged: one dataset a page, in (province, dataset) order, the next page named.
    let page = get_text(&format!("{hub_url}/dati/catalogo.ttl?page=2&per_page=1"));
    assert!(page.contains("p_tv:servizi"), "{page}");
    assert!(page.contains("hydra:nextPage"), "{page}");
    assert!(!page.contains("p_bs:servizi") && !page.contains("p_pu:servizi"));
}
