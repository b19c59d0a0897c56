//! The DCAT-AP_IT catalogue, checked by independent tools: a node with an open, an internal
//! and a deliberately broken dataset publishes to a real hub; rdflib parses the node's and the
//! hub's catalogues in Turtle, RDF/XML and JSON-LD to the same graph, and pySHACL finds no
//! violation of the DCAT-AP 2.1.1 shapes and AgID's mandatory elements; only the open dataset
//! is listed; the broken one is refused with the field to fill, in Italian.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federation::{Hub, node_config, wait_published};
use crate::helpers::{TestApp, run_python};

/// Validates catalogues (each given as Turtle, RDF/XML and JSON-LD files) and prints, per
/// catalogue, the identifiers of its datasets, its violations and whether the three
/// serialisations are the same graph; checks the vocabulary URIs used exist in the files.
pub(crate) const VALIDATE: &str = r#"
import json, sys, pathlib
import rdflib, pyshacl
from rdflib.compare import isomorphic, graph_diff, to_isomorphic
from rdflib.namespace import RDF, DCTERMS, DCAT, SH

fixtures = pathlib.Path(sys.argv[1])
shapes = rdflib.Graph()
for name in ["dcat-ap_2.1.1_shacl_shapes.ttl", "dcat-ap_2.1.1_shacl_range.ttl",
             "dcat-ap_2.1.1_shacl_mdr-vocabularies.shape.ttl",
             "dcat-ap_2.1.1_shacl_deprecateduris.ttl", "dcatapit_dataset_rules.shacl.ttl"]:
    shapes.parse(fixtures / name)
ontology = rdflib.Graph().parse(fixtures / "DCAT-AP_IT_v2.0.ttl")
vocabularies = rdflib.Graph()
for name in ["eu_data-theme.ttl", "eu_frequencies.ttl", "eu_filetypes.ttl"]:
    vocabularies.parse(fixtures / name)
licences = rdflib.Graph().parse(fixtures / "agid_licences.ttl")
known = set(vocabularies.subjects()) | set(licences.subjects())
# Parquet (the hub's bulk downloads) entered the EU file-type table after the newest copy held
# here with its provenance (version 20210929-0; 20221214-0, the newest public copy found, lacks
# it too): the one term allowed outside the files, written out so that no other slips in.
known.add(rdflib.URIRef("http://publications.europa.eu/resource/authority/file-type/PARQUET"))

def same_links(graph, ext):
    def fix(term):
        if isinstance(term, (rdflib.URIRef, rdflib.Literal)) and "/dati/catalogo" + ext in str(term):
            text = str(term).replace("/dati/catalogo" + ext, "/dati/catalogo.ttl?")
            return rdflib.URIRef(text) if isinstance(term, rdflib.URIRef) else \
                rdflib.Literal(text, lang=term.language, datatype=term.datatype)
        return term
    fixed = rdflib.Graph()
    for s, p, o in graph:
        fixed.add((fix(s), p, fix(o)))
    return fixed

out = []
for ttl, xml, jsonld in zip(*[iter(sys.argv[2:])] * 3):
    g = rdflib.Graph().parse(ttl, format="turtle")
    differences = []
    for other, fmt in ((xml, "xml"), (jsonld, "json-ld")):
        og = rdflib.Graph().parse(other, format=fmt)
        # A page names itself and its neighbours in its own format (catalogo.rdf?page=2…):
        # compare the pages with those links written as the Turtle page writes them.
        og = same_links(og, ".rdf?" if fmt == "xml" else ".jsonld?")
        if not isomorphic(g, og):
            _, only_ttl, only_other = graph_diff(to_isomorphic(g), to_isomorphic(og))
            differences.append({"format": fmt,
                                "only_turtle": sorted(" ".join(x.n3() for x in t) for t in only_ttl)[:5],
                                "only_other": sorted(" ".join(x.n3() for x in t) for t in only_other)[:5]})
    same = not differences
    used = set()
    for p in (DCAT.theme, DCTERMS.accrualPeriodicity, DCTERMS.format, DCTERMS.license):
        used |= set(g.objects(None, p))
    unknown = sorted(str(u) for u in used - known)
    data = g + vocabularies
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, ont_graph=ontology,
                                              inference="rdfs", advanced=True)
    # The report's own results (sh:result); the sh:detail under a result only explains it,
    # with the severity of the nested shape, so it is not counted on its own.
    results = [r for v in report.subjects(RDF.type, SH.ValidationReport)
               for r in report.objects(v, SH.result)]
    violations = [r for r in results if report.value(r, SH.resultSeverity) == SH.Violation]
    messages = sorted({str(report.value(r, SH.resultMessage)) + " @ " + str(report.value(r, SH.focusNode))
                       for r in violations})
    warned = sorted({report.value(r, SH.resultPath).n3(g.namespace_manager) for r in results
                     if report.value(r, SH.resultSeverity) == SH.Warning})
    datasets = sorted(str(g.value(d, DCTERMS.identifier)) for d in g.subjects(RDF.type, DCAT.Dataset))
    publishers = sorted({str(o) for d in g.subjects(RDF.type, DCAT.Dataset)
                         for p in g.objects(d, DCTERMS.publisher)
                         for o in g.objects(p, DCTERMS.identifier)})
    titles = sorted(str(g.value(d, DCTERMS.title)) for d in g.subjects(RDF.type, DCAT.Dataset))
    out.append({"same_graph": same, "violations": len(violations), "messages": messages,
                "warned_paths": warned, "differences": differences,
                "datasets": datasets, "publishers": publishers, "titles": titles,
                "unknown_terms": unknown, "triples": len(g)})
print(json.dumps(out))
"#;

/// The fixtures' folder.
pub(crate) fn fixtures() -> String {
    format!("{}/tests/it/data/dcat", env!("CARGO_MANIFEST_DIR"))
}

/// Downloads the three serialisations of the catalogue at `base` + `path` (`…/catalogo`)
/// into `dir`, returning their file names in the order the script takes them.
pub(crate) async fn save_catalogue(
    dir: &std::path::Path,
    base: &str,
    path: &str,
    tag: &str,
) -> Vec<String> {
    let mut files = Vec::new();
    for (ext, media) in [
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
        ("jsonld", "application/ld+json"),
    ] {
        let response = reqwest::get(format!("{base}{path}.{ext}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}.{ext}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with(media), "{content_type}");
        let file = dir.join(format!("{tag}.{ext}"));
        std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
        files.push(file.to_string_lossy().into_owned());
    }
    files
}

/// Runs [`VALIDATE`] over catalogues saved by [`save_catalogue`].
pub(crate) fn validate(files: &[String]) -> Vec<Value> {
    let fixtures = fixtures();
    let mut args = vec![fixtures.as_str()];
    args.extend(files.iter().map(String::as_str));
    serde_json::from_str(&run_python(VALIDATE, &args)).unwrap()
}

fn complete_metadata() -> Value {
    json!({
        "open": true,
        "identifier": "p_tv:contratti",
        // Every serialisation must escape these: quotes, a backslash, a line break, <, &.
        "title": "Contratti \"SUA\" della Provincia <Treviso> & Comuni",
        "description": "Una riga per contratto.\nImporti in euro, C:\\percorso & ribassi <in %>.",
        "themes": [
            "http://publications.europa.eu/resource/authority/data-theme/GOVE",
            "http://publications.europa.eu/resource/authority/data-theme/ECON"
        ],
        "keywords": ["contratti", "appalti pubblici"],
        "contact_point": "opendata@provincia.treviso.it",
        "accrual_periodicity": "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
        "temporal_start": "2025-01-01",
        "temporal_end": "2025-12-31",
        "spatial": ["026", "026086"],
        "license": "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"
    })
}

async fn put_metadata(
    node: &TestApp,
    token: &str,
    dataset: &str,
    body: &Value,
) -> reqwest::Response {
    reqwest::Client::new()
        .put(node.url(&format!("/v1/datasets/{dataset}/metadata")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn import(node: &TestApp, token: &str, dataset: &str, csv: &str) {
    let response = node
        .post_raw(
            &format!("/v1/datasets/{dataset}/import?key=codice"),
            token,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn federate(node: &TestApp, token: &str, dataset: &str) {
    let response = reqwest::Client::new()
        .put(node.url(&format!("/v1/datasets/{dataset}/federation")))
        .bearer_auth(token)
        .json(&json!({"federation": "national"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_and_hub_catalogues_are_valid_dcat_ap_it() {
    let mut hub = Hub::init();
    hub.start().await;
    let (dir, config, token) = node_config(&hub.url());
    hub.enrol(&config, "026");
    let node = TestApp::start(dir, config).await;

    import(
        &node,
        &token,
        "contratti",
        "codice,comune,importo\nC1,026086,100.50\nC2,026001,7\n",
    )
    .await;
    import(&node, &token, "interni", "codice,nota\nI1,riservato\n").await;
    import(&node, &token, "incompleto", "codice,valore\nX1,1\n").await;

    // The defaults say what is missing before a dataset can be open, in Italian.
    let view: Value = node
        .get("/v1/datasets/contratti/metadata", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["saved"], false);
    assert_eq!(view["metadata"]["open"], false);
    assert_eq!(view["publisher_ipa_code"], "p_tv");
    for field in [
        "description",
        "themes",
        "keywords",
        "contact_point",
        "accrual_periodicity",
    ] {
        assert!(
            view["missing_for_open"][field].is_string(),
            "{field}: {view:#}"
        );
    }

    // A broken dataset: marked open without a description nor a theme. Refused, nothing saved.
    let mut broken = complete_metadata();
    broken["identifier"] = json!("p_tv:incompleto");
    broken["description"] = json!("   ");
    broken["themes"] = json!([]);
    let response = put_metadata(&node, &token, "incompleto", &broken).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_field");
    assert_eq!(
        problem["errors"]["description"],
        "Descrivi il dataset: che cosa contiene, da dove vengono i dati."
    );
    assert_eq!(problem["errors"]["themes"], "Scegli almeno un tema.");
    assert_eq!(
        problem["errors"].as_object().unwrap().len(),
        2,
        "{problem:#}"
    );
    // A licence outside AgID's vocabulary, a Comune of another Province, half a period.
    let mut wrong = complete_metadata();
    wrong["license"] = json!("https://example.org/licenza-mia");
    wrong["spatial"] = json!(["017029"]);
    wrong["temporal_end"] = Value::Null;
    let problem: Value = put_metadata(&node, &token, "contratti", &wrong)
        .await
        .json()
        .await
        .unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        ["license", "spatial", "temporal_end"],
        "{problem:#}"
    );
    let view: Value = node
        .get("/v1/datasets/contratti/metadata", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["saved"], false);

    // Internal metadata may be incomplete; open ones are complete.
    let response = put_metadata(
        &node,
        &token,
        "interni",
        &json!({"open": false, "title": "Note interne"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = put_metadata(&node, &token, "contratti", &complete_metadata()).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    // Without a token: refused.
    let response = reqwest::Client::new()
        .put(node.url("/v1/datasets/contratti/metadata"))
        .json(&complete_metadata())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Published: rows then metadata travel to the hub.
    for dataset in ["contratti", "interni", "incompleto"] {
        federate(&node, &token, dataset).await;
    }
    wait_published(&node, &token).await;

    // Content negotiation on the stable URL.
    let response = reqwest::Client::new()
        .get(node.url("/dati/catalogo"))
        .header("accept", "text/turtle")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/turtle")
    );
    // The CSV distribution.
    let csv = node
        .get("/v1/datasets/contratti/rows.csv", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv,
        "codice,comune,importo\nC1,026086,100.50\nC2,026001,7\n"
    );

    let scratch = tempfile::tempdir().unwrap();
    let mut files = save_catalogue(scratch.path(), &node.url(""), "/dati/catalogo", "node").await;
    files.extend(save_catalogue(scratch.path(), &hub.url(), "/dati/catalogo", "hub").await);
    let paged = format!("{}/dati/catalogo", hub.url());
    for (ext, name) in [
        ("ttl", "page.ttl"),
        ("rdf", "page.rdf"),
        ("jsonld", "page.jsonld"),
    ] {
        let body = reqwest::get(format!("{paged}.{ext}?page=1&per_page=1"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let file = scratch.path().join(name);
        std::fs::write(&file, body).unwrap();
        files.push(file.to_string_lossy().into_owned());
    }
    let reports = validate(&files);
    for (report, which) in reports.iter().zip(["node", "hub", "hub page"]) {
        assert_eq!(report["same_graph"], true, "{which}: {report:#}");
        assert_eq!(report["violations"], 0, "{which}: {report:#}");
        // DCAT-AP warns (and only warns) when a publisher is not in the EU corporate-bodies
        // list or a place not in the EU places list: Italian Provinces and Comuni are in
        // neither, so they are named by their IPA and ISTAT codes.
        assert_eq!(
            report["warned_paths"],
            json!(["dct:publisher", "dct:spatial"]),
            "{which}: {report:#}"
        );
        assert_eq!(report["unknown_terms"], json!([]), "{which}: {report:#}");
        assert_eq!(
            report["datasets"],
            json!(["p_tv:contratti"]),
            "{which}: {report:#}"
        );
        assert_eq!(report["publishers"], json!(["p_tv"]), "{which}: {report:#}");
        assert_eq!(
            report["titles"],
            json!(["Contratti \"SUA\" della Provincia <Treviso> & Comuni"]),
            "{which}"
        );
    }
    let page = std::fs::read_to_string(scratch.path().join("page.ttl")).unwrap();
    assert!(page.contains("hydra:PagedCollection"), "{page}");
    assert!(
        page.contains("hydra:totalItems \"1\"^^xsd:integer"),
        "{page}"
    );

    // Marked internal again: gone from both catalogues once the hub has the change.
    let mut internal = complete_metadata();
    internal["open"] = json!(false);
    assert_eq!(
        put_metadata(&node, &token, "contratti", &internal)
            .await
            .status(),
        StatusCode::OK
    );
    wait_published(&node, &token).await;
    for base in [node.url(""), hub.url()] {
        let ttl = reqwest::get(format!("{base}/dati/catalogo.ttl"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!ttl.contains("dcat:Dataset"), "{base}: {ttl}");
    }
    node.stop().await;
    hub.stop().await;
}

#[test]
fn embedded_vocabularies_match_the_official_files() {
    use pico_protocol::dcat::*;
    let mut terms = Vec::new();
    for (scheme, list) in [
        (THEME_SCHEME, THEMES),
        (FREQUENCY_SCHEME, FREQUENCIES),
        (LICENCE_SCHEME, LICENCES),
    ] {
        for (code, label) in list {
            terms.push(format!("{}\t{label}", concept_uri(scheme, code)));
        }
    }
    let script = r#"
import sys, pathlib, rdflib
from rdflib.namespace import SKOS
f = pathlib.Path(sys.argv[1])
g = rdflib.Graph()
for name in ["eu_data-theme.ttl", "eu_frequencies.ttl", "agid_licences.ttl"]:
    g.parse(f / name)
for line in sys.argv[2:]:
    uri, label = line.split("\t")
    labels = [str(l) for l in g.objects(rdflib.URIRef(uri), SKOS.prefLabel) if l.language == "it"]
    assert label in labels, (uri, label, labels)
print(len(sys.argv) - 2)
"#;
    let fixtures = fixtures();
    let mut args = vec![fixtures.as_str()];
    args.extend(terms.iter().map(String::as_str));
    assert_eq!(run_python(script, &args).trim(), terms.len().to_string());
}
