//! SIT: the catalogue with every field validated in Italian and its versions kept, the fee
//! per inhabitant from the real ISTAT file for named Comuni, the CPSV-AP_IT RDF parsed by
//! rdflib and validated by pySHACL against shapes written from the ontology (and a broken
//! graph refused), the subscriptions' lifecycle per role, requests measured against the
//! promised levels on hand-worked times, withdrawal shown to subscribers, and each Comune's
//! digital picture with the Province's coverage.

use pico_node::auth::{Module, Role};
use pico_node::db;
use pico_protocol::ComuneCode;
use pico_service::Db;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem, form_csrf, login, run_python};

const TREVISO: &str = "026086";
const ALTIVOLE: &str = "026001";

struct Sit {
    app: TestApp,
    sit: String,
    sua: String,
    helpdesk: String,
    tv: String,
    alt: String,
}

impl Sit {
    async fn spawn() -> Sit {
        let app = TestApp::spawn("026").await;
        let cfg = &app.config;
        let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
        Sit {
            sit: add_user(cfg, "operatore.sit", &Role::Operator(Module::Sit)),
            sua: add_user(cfg, "operatore.sua", &Role::Operator(Module::Sua)),
            helpdesk: add_user(cfg, "operatore.hd", &Role::Operator(Module::Helpdesk)),
            tv: add_user(cfg, "comune.treviso", &comune(TREVISO)),
            alt: add_user(cfg, "comune.altivole", &comune(ALTIVOLE)),
            app,
        }
    }

    async fn create(&self, body: &Value) -> Value {
        let response = self
            .app
            .post_json("/v1/sit/services", Some(&self.sit), body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{body}");
        response.json().await.unwrap()
    }

    async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let response = self.app.get(path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    async fn subscribe(&self, token: &str, service: &str) -> i64 {
        let response = self
            .app
            .post_json(
                "/v1/sit/subscriptions",
                Some(token),
                &json!({"service": service, "note": "Per l'anagrafe"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    async fn make(&self, token: &str, id: i64, body: &Value) -> reqwest::Response {
        self.app
            .post_json(
                &format!("/v1/sit/subscriptions/{id}/transitions"),
                Some(token),
                body,
            )
            .await
    }

    /// Asks for a transition that must be refused with `status`; returns the problem.
    async fn refuse(&self, token: &str, id: i64, body: &Value, status: StatusCode) -> Value {
        assert_problem(self.make(token, id, body).await, status).await
    }

    fn db(&self) -> Db {
        Db::open_existing(&self.app.config.db_path(), db::MIGRATIONS, 1).unwrap()
    }
}

/// A service with every field.
fn pagopa() -> Value {
    json!({
        "code": "adesione-pagopa",
        "name": "Adesione a pagoPA e App IO",
        "description": "L'ufficio SIT attiva i servizi di pagamento del Comune su pagoPA e li pubblica in App IO.",
        "category": "payments",
        "theme": 9,
        "channels": ["email", "online", "phone"],
        "audience": "all",
        "conditions": "Accordo firmato dal Comune.",
        "cost_model": "per_inhabitant",
        "fee": "0.15",
        "first_answer_hours": 4,
        "resolution_hours": 24,
        "availability": "99.5",
        "contact_office": "Ufficio Servizi innovativi",
        "contact_email": "sit@provincia.treviso.it",
        "contact_phone": "0422 656000",
        "documents": [{"title": "Guida all'adesione", "url": "https://www.provincia.treviso.it/sit/guida-pagopa.pdf"}],
        "inputs": ["Elenco dei servizi di pagamento"],
        "outputs": ["Servizi attivi su pagoPA e App IO"],
        "publiccode_url": "https://github.com/pagopa/io-app/blob/master/publiccode.yml"
    })
}

/// A service for small Comuni only, with a fixed fee.
fn rtd() -> Value {
    json!({
        "code": "ufficio-transizione-digitale",
        "name": "Ufficio associato per la transizione digitale",
        "description": "Il responsabile per la transizione digitale condiviso tra i Comuni piccoli.",
        "category": "digital_office",
        "theme": 12,
        "channels": ["desk", "video"],
        "audience": "under_threshold",
        "population_threshold": 15000,
        "cost_model": "fixed",
        "fee": "1.500,00",
        "first_answer_hours": 8,
        "resolution_hours": 80,
        "availability": "99",
        "contact_office": "Ufficio RTD associato",
        "contact_email": "rtd@provincia.treviso.it"
    })
}

#[tokio::test]
async fn catalogue_fields_are_checked_in_italian_and_versions_kept() {
    let sit = Sit::spawn().await;
    let app = &sit.app;

    // Every wrong field answered at once, each named, in Italian.
    let mut bad = pagopa();
    bad["code"] = json!("Adesione PagoPA");
    bad["name"] = json!("");
    bad["theme"] = json!(40);
    bad["channels"] = json!([]);
    bad["audience"] = json!("under_threshold");
    bad["fee"] = json!("gratis");
    bad["first_answer_hours"] = json!(48);
    bad["availability"] = json!("120");
    bad["contact_email"] = json!("sit.provincia.it");
    bad["documents"] = json!([{"title": "Guida", "url": "guida.pdf"}]);
    bad["publiccode_url"] = json!("https://github.com/pagopa/io-app");
    let problem = assert_problem(
        app.post_json("/v1/sit/services", Some(&sit.sit), &bad)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errors = problem["errors"].as_object().unwrap();
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "availability",
            "channels",
            "code",
            "contact_email",
            "documents[0].url",
            "fee",
            "name",
            "population_threshold",
            "publiccode_url",
            "resolution_hours",
            "theme"
        ]
    );
    assert_eq!(errors["channels"], "Indica almeno un canale di erogazione.");
    assert_eq!(
        errors["resolution_hours"],
        "Il tempo di risoluzione non può essere minore del tempo di prima risposta."
    );

    // Who may write the catalogue.
    for token in [&sit.tv, &sit.sua] {
        assert_problem(
            app.post_json("/v1/sit/services", Some(token), &pagopa())
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_problem(
        app.post_json("/v1/sit/services", None, &pagopa()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let created = sit.create(&pagopa()).await;
    assert_eq!(created["version"], 1);
    assert_eq!(created["fee"], "0.15");
    assert_eq!(created["availability"], "99.50");
    assert_eq!(created["channels"], json!(["email", "online", "phone"]));
    assert_problem(
        app.post_json("/v1/sit/services", Some(&sit.sit), &pagopa())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // A change is version 2; version 1 stays readable as it was (by anyone: the catalogue is
    // public).
    let mut changed = pagopa();
    changed["resolution_hours"] = json!(48);
    changed["note"] = json!("Tempi di risoluzione più lunghi d'estate");
    let updated = app
        .send_json(
            Method::PUT,
            "/v1/sit/services/adesione-pagopa",
            Some(&sit.sit),
            Some(&changed),
        )
        .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let detail = sit.get_json("/v1/sit/services/adesione-pagopa", None).await;
    assert_eq!(detail["service"]["version"], 2);
    assert_eq!(detail["service"]["resolution_hours"], 48);
    let versions: Vec<i64> = detail["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(
        detail["versions"][0]["note"],
        "Tempi di risoluzione più lunghi d'estate"
    );
    let first = sit
        .get_json("/v1/sit/services/adesione-pagopa/versions/1", None)
        .await;
    assert_eq!(first["record"]["resolution_hours"], 24);
    let page = app
        .get("/sit/servizi/adesione-pagopa/versioni/1", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("entro 24 ore"), "{page}");
    assert!(page.contains("La versione in vigore è la"));

    // The service form in the pages: a refused submit keeps the values and puts each
    // message beside its field.
    let session = login(app, "operatore.sit").await;
    let form_page = session.page("/sit/servizi/nuovo").await;
    let csrf = form_csrf(&form_page);
    let refused = session
        .client
        .post(app.url("/sit/servizi/nuovo"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("code", "anpr-subentro"),
            ("name", "Subentro in ANPR"),
            ("description", "Assistenza al subentro"),
            ("category", "anpr"),
            ("theme", "6"),
            ("audience", "all"),
            ("cost_model", "free"),
            ("first_answer_hours", "otto"),
            ("resolution_hours", "40"),
            ("availability", "99"),
            ("contact_office", "Ufficio SIT"),
            ("contact_email", "sit@provincia.treviso.it"),
            ("documents", "Guida senza indirizzo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Correggi i seguenti campi"));
    assert!(html.contains("«otto» non è un numero intero."));
    assert!(html.contains("Indica almeno un canale di erogazione."));
    assert!(
        html.contains("scrivi il titolo, una barra verticale e l&#39;indirizzo")
            || html.contains("scrivi il titolo, una barra verticale e l'indirizzo")
    );
    assert!(html.contains("value=\"Subentro in ANPR\""));
    let accepted = session
        .client
        .post(app.url("/sit/servizi/nuovo"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("code", "anpr-subentro"),
            ("name", "Subentro in ANPR"),
            ("description", "Assistenza al subentro"),
            ("category", "anpr"),
            ("theme", "6"),
            ("channel_email", "true"),
            ("audience", "all"),
            ("cost_model", "free"),
            ("first_answer_hours", "8"),
            ("resolution_hours", "40"),
            ("availability", "99"),
            ("contact_office", "Ufficio SIT"),
            ("contact_email", "sit@provincia.treviso.it"),
            (
                "documents",
                "Guida | https://www.provincia.treviso.it/anpr.pdf",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let anpr = sit.get_json("/v1/sit/services/anpr-subentro", None).await;
    assert_eq!(anpr["service"]["cost_model"], "free");
    assert_eq!(
        anpr["service"]["documents"],
        json!([{"title": "Guida", "url": "https://www.provincia.treviso.it/anpr.pdf"}])
    );
}

#[tokio::test]
async fn the_fee_per_inhabitant_uses_the_istat_population() {
    let sit = Sit::spawn().await;
    sit.create(&pagopa()).await;
    sit.create(&rtd()).await;
    // Residents on 1 January 2026, read by hand from
    // node/data/istat_popolazione_residente_comuni_2025_2026.csv: Treviso 86,113, Altivole
    // 7,088. At 0,15 € per inhabitant: 12.916,95 € and 1.063,20 €.
    for (comune, residents, fee) in [(TREVISO, 86_113, "12916.95"), (ALTIVOLE, 7_088, "1063.20")] {
        let view = sit
            .get_json(
                &format!("/v1/sit/services/adesione-pagopa/fee?comune={comune}"),
                None,
            )
            .await;
        assert_eq!(view["residents"], residents);
        assert_eq!(view["population_year"], 2026);
        assert_eq!(view["yearly_fee"], fee);
        assert_eq!(view["eligible"], true);
    }
    // The fixed fee, and the threshold of 15,000 residents: Treviso is above it.
    let treviso = sit
        .get_json(
            &format!("/v1/sit/services/ufficio-transizione-digitale/fee?comune={TREVISO}"),
            None,
        )
        .await;
    assert_eq!(treviso["yearly_fee"], "1500.00");
    assert_eq!(treviso["eligible"], false);
    let problem = assert_problem(
        sit.app
            .post_json(
                "/v1/sit/subscriptions",
                Some(&sit.tv),
                &json!({"service": "ufficio-transizione-digitale"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"]["service"],
        "Il servizio è riservato ai Comuni con meno di 15.000 abitanti."
    );
    sit.subscribe(&sit.alt, "ufficio-transizione-digitale")
        .await;
    // A Comune of another Province is refused.
    assert_problem(
        sit.app
            .get("/v1/sit/services/adesione-pagopa/fee?comune=017029", None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // The Comune's page shows its fee with the count it comes from.
    let session = login(&sit.app, "comune.altivole").await;
    let html = session.page("/sit/servizi/adesione-pagopa").await;
    assert!(html.contains("1.063,20"), "{html}");
    assert!(html.contains("7.088 abitanti al 1° gennaio 2026"));
}

/// Validates the catalogue's Turtle and JSON-LD with rdflib and pySHACL; prints one line per
/// check. Arguments: shapes, Turtle file, JSON-LD file, subject-matter vocabulary, channel
/// vocabulary, the expected name (quotes, a backslash) and description (quotes, a newline, a
/// tab), the CPSV-AP_IT ontology.
const VALIDATE: &str = r#"
import sys, rdflib, pyshacl
from rdflib.namespace import RDF, SKOS
from rdflib.compare import isomorphic
shapes, ttl, jsonld, themes, channels, name, description, ontology = sys.argv[1:9]
CPSV = rdflib.Namespace("https://w3id.org/italia/onto/CPSV/")
L0 = rdflib.Namespace("https://w3id.org/italia/onto/l0/")
g = rdflib.Graph().parse(ttl, format="turtle")
j = rdflib.Graph().parse(jsonld, format="json-ld")
print("isomorphic", isomorphic(g, j))
print("services", len(set(g.subjects(RDF.type, CPSV.PublicService))))
names = {str(o) for o in g.objects(None, L0.name)}
descriptions = {str(o) for o in j.objects(None, L0.description)}
print("text kept", name in names, description in descriptions)
vocab = rdflib.Graph().parse(themes, format="turtle").parse(channels, format="turtle")
concepts = set(vocab.subjects(RDF.type, SKOS.Concept))
used = set(g.objects(None, CPSV.serviceTheme)) | set(g.objects(None, CPSV.hasChannelType))
print("concepts known", used <= concepts, len(used))
sg = rdflib.Graph().parse(shapes, format="turtle")
# The classes the ontology says each class is a subclass of (rdfs:subClassOf, transitively):
# a FixedCost is a Cost because CPSV-AP_IT says so, not because the node wrote both. (Full
# RDFS inference through pySHACL is correct too, but takes minutes on this ontology.)
og = rdflib.Graph().parse(ontology, format="turtle")
supers = {}
for sub, sup in og.subject_objects(rdflib.RDFS.subClassOf):
    if isinstance(sub, rdflib.URIRef) and isinstance(sup, rdflib.URIRef):
        supers.setdefault(sub, set()).add(sup)
def infer(graph):
    for node, cls in list(graph.subject_objects(RDF.type)):
        todo, seen = [cls], set()
        while todo:
            for sup in supers.get(todo.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    todo.append(sup)
                    graph.add((node, RDF.type, sup))
    return graph
for label, graph in (("turtle", g), ("jsonld", j)):
    conforms, _, text = pyshacl.validate(infer(graph), shacl_graph=sg)
    print(label, "conforms", conforms)
    if not conforms:
        print(text)
broken = rdflib.Graph()
for t in g:
    broken.add(t)
service = next(iter(g.subjects(RDF.type, CPSV.PublicService)))
broken.remove((service, CPSV.serviceTheme, None))
broken.add((service, L0.identifier, rdflib.Literal("un-altro-codice")))
channel = next(iter(g.subjects(RDF.type, CPSV.Channel)))
broken.set((channel, CPSV.hasChannelType, rdflib.URIRef("https://example.org/canale")))
conforms, report, _ = pyshacl.validate(infer(broken), shacl_graph=sg)
paths = sorted({str(o) for o in report.objects(None, rdflib.URIRef("http://www.w3.org/ns/shacl#resultPath"))})
print("broken conforms", conforms)
print("broken paths", " ".join(p.rsplit("/", 1)[-1] for p in paths))
"#;

#[tokio::test]
async fn the_catalogue_is_valid_cpsv_ap_it_rdf() {
    let sit = Sit::spawn().await;
    let mut tricky = rtd();
    let name = "Servizio \"GIS\" territoriale con \\ barra";
    let description = "Prima riga con \"virgolette\"\nseconda riga\ttabulata";
    tricky["code"] = json!("gis-territoriale");
    tricky["name"] = json!(name);
    tricky["category"] = json!("gis");
    tricky["theme"] = json!(5);
    tricky["description"] = json!(description);
    sit.create(&pagopa()).await;
    sit.create(&tricky).await;
    sit.create(&rtd()).await;
    let withdrawn = sit
        .app
        .post_json(
            "/v1/sit/services/ufficio-transizione-digitale/withdrawal",
            Some(&sit.sit),
            &json!({"reason": "Sostituito dal servizio regionale"}),
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::OK);

    let dir = tempfile::tempdir().unwrap();
    for (path, file, content_type) in [
        (
            "/sit/catalogo.ttl",
            "catalogo.ttl",
            "text/turtle; charset=utf-8",
        ),
        (
            "/sit/catalogo.jsonld",
            "catalogo.jsonld",
            "application/ld+json",
        ),
        (
            "/sit/servizi/adesione-pagopa/rdf.ttl",
            "pagopa.ttl",
            "text/turtle; charset=utf-8",
        ),
        (
            "/sit/servizi/adesione-pagopa/rdf.jsonld",
            "pagopa.jsonld",
            "application/ld+json",
        ),
    ] {
        let response = sit.app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], content_type);
        std::fs::write(dir.path().join(file), response.bytes().await.unwrap()).unwrap();
    }
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let arg = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    let run = |ttl: &str, jsonld: &str| {
        run_python(
            VALIDATE,
            &[
                &arg(fixtures.join("cpsv-ap_it-shapes.ttl")),
                &arg(dir.path().join(ttl)),
                &arg(dir.path().join(jsonld)),
                &arg(fixtures.join("cpsv-ap_it/public-services-subject-matters.ttl")),
                &arg(fixtures.join("cpsv-ap_it/channel.ttl")),
                name,
                description,
                &arg(fixtures.join("cpsv-ap_it/CPSV-AP_IT.ttl")),
            ],
        )
    };
    let out = run("catalogo.ttl", "catalogo.jsonld");
    assert_eq!(
        out,
        "isomorphic True\nservices 3\ntext kept True True\nconcepts known True 8\n\
         turtle conforms True\njsonld conforms True\nbroken conforms False\n\
         broken paths hasChannelType serviceTheme identifier\n",
        "{out}"
    );
    let one = run("pagopa.ttl", "pagopa.jsonld");
    assert!(
        one.starts_with("isomorphic True\nservices 1\ntext kept False False\n"),
        "{one}"
    );
    assert!(
        one.contains("turtle conforms True\njsonld conforms True\n"),
        "{one}"
    );

    // The withdrawn service is published as no longer active.
    let ttl = std::fs::read_to_string(dir.path().join("catalogo.ttl")).unwrap();
    assert!(ttl.contains("cpsvapit:hasServiceStatus cpsvapit:NonActive"));
}

#[tokio::test]
async fn subscriptions_move_through_their_lifecycle_by_role() {
    let sit = Sit::spawn().await;
    let app = &sit.app;
    sit.create(&pagopa()).await;
    // Only a Comune user asks, for its own Comune.
    assert_problem(
        app.post_json(
            "/v1/sit/subscriptions",
            Some(&sit.sit),
            &json!({"service": "adesione-pagopa"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let id = sit.subscribe(&sit.tv, "adesione-pagopa").await;
    assert_problem(
        app.post_json(
            "/v1/sit/subscriptions",
            Some(&sit.tv),
            &json!({"service": "adesione-pagopa"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let other = sit.subscribe(&sit.alt, "adesione-pagopa").await;

    // A Comune sees only its own.
    let mine = sit.get_json("/v1/sit/subscriptions", Some(&sit.tv)).await;
    let ids: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [id]);
    let all = sit.get_json("/v1/sit/subscriptions", Some(&sit.sit)).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_problem(
        app.get(&format!("/v1/sit/subscriptions/{other}"), Some(&sit.tv))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/sit/subscriptions/{id}"), Some(&sit.sua))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let seen = sit
        .get_json(&format!("/v1/sit/subscriptions/{id}"), Some(&sit.tv))
        .await;
    assert_eq!(seen["allowed_transitions"], json!([]));
    let staff = sit
        .get_json(&format!("/v1/sit/subscriptions/{id}"), Some(&sit.sit))
        .await;
    assert_eq!(staff["allowed_transitions"], json!(["active", "declined"]));

    // The Comune cannot accept; accepting needs the agreement and its start date.
    sit.refuse(
        &sit.tv,
        id,
        &json!({"state": "active", "agreement_ref": "prot. 1/2026", "start_date": "2026-01-15"}),
        StatusCode::FORBIDDEN,
    )
    .await;
    let problem = sit
        .refuse(
            &sit.sit,
            id,
            &json!({"state": "active", "start_date": "31/02/2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(problem["errors"]["agreement_ref"].is_string());
    assert!(problem["errors"]["start_date"].is_string());
    let accepted = sit
        .make(
            &sit.sit,
            id,
            &json!({"state": "active", "from": "requested", "agreement_ref": "Prot. 1234/2026", "start_date": "15/01/2026"}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["subscription"]["state"], "active");
    assert_eq!(accepted["subscription"]["start_date"], "2026-01-15");
    assert_eq!(accepted["subscription"]["agreement_ref"], "Prot. 1234/2026");
    // A request made on the state the caller saw, now left, is stale.
    let stale = sit
        .refuse(
            &sit.sit,
            id,
            &json!({"state": "declined", "from": "requested", "reason": "no"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(stale["code"], "stale_state");

    // Declining needs reasons.
    sit.refuse(
        &sit.sit,
        other,
        &json!({"state": "declined"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let declined = sit
        .make(
            &sit.sit,
            other,
            &json!({"state": "declined", "reason": "Il Comune usa già un intermediario tecnologico."}),
        )
        .await;
    assert_eq!(declined.status(), StatusCode::OK);
    // Declined is final: nobody moves it on. A move the lifecycle does not have is a
    // conflict naming the possible ones.
    sit.refuse(
        &sit.sit,
        other,
        &json!({"state": "active", "agreement_ref": "x", "start_date": "2026-01-01"}),
        StatusCode::FORBIDDEN,
    )
    .await;
    let missing = sit
        .refuse(
            &sit.sit,
            id,
            &json!({"state": "declined", "reason": "Troppo tardi"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(missing["code"], "invalid_transition");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("stati possibili: Sospesa, Conclusa")
    );

    // Suspend and resume by the office; the Comune ends it.
    for (token, body) in [
        (
            &sit.sit,
            json!({"state": "suspended", "reason": "Manutenzione del nodo pagoPA"}),
        ),
        (&sit.sit, json!({"state": "active"})),
        (
            &sit.tv,
            json!({"state": "ended", "reason": "Il Comune passa a un altro fornitore"}),
        ),
    ] {
        let response = sit.make(token, id, &body).await;
        assert_eq!(response.status(), StatusCode::OK, "{body}");
    }
    let ended = sit
        .get_json(&format!("/v1/sit/subscriptions/{id}"), Some(&sit.tv))
        .await;
    let history: Vec<(Value, Value)> = ended["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["from"].clone(), s["to"].clone()))
        .collect();
    assert_eq!(
        history,
        [
            (Value::Null, json!("requested")),
            (json!("requested"), json!("active")),
            (json!("active"), json!("suspended")),
            (json!("suspended"), json!("active")),
            (json!("active"), json!("ended")),
        ]
    );
    // Once ended, the Comune may ask again.
    sit.subscribe(&sit.tv, "adesione-pagopa").await;
}

#[tokio::test]
async fn requests_are_measured_against_the_promised_levels() {
    let sit = Sit::spawn().await;
    let app = &sit.app;
    sit.create(&pagopa()).await;
    let id = sit.subscribe(&sit.tv, "adesione-pagopa").await;
    let body = json!({"kind": "activation", "subject": "Attivazione", "description": "Attivate i servizi TARI."});
    let refused = assert_problem(
        app.post_json(
            &format!("/v1/sit/subscriptions/{id}/requests"),
            Some(&sit.tv),
            &body,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["code"], "subscription_not_active");
    let accepted = sit
        .make(&sit.sit, id, &json!({"state": "active", "agreement_ref": "Prot. 7/2026", "start_date": "2026-02-01"}))
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);

    let mut requests = Vec::new();
    for subject in ["Attivazione TARI", "Errore nelle ricevute"] {
        let response = app
            .post_json(
                &format!("/v1/sit/subscriptions/{id}/requests"),
                Some(&sit.tv),
                &json!({"kind": "intervention", "subject": subject, "description": "Dettagli nel messaggio."}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["first_answer_hours"], 4);
        requests.push(created["request"]["id"].as_i64().unwrap());
    }
    // The requests are the Help Desk's: its operator answers them there.
    let comment = app
        .post_json(
            &format!("/v1/helpdesk/requests/{}/comments", requests[0]),
            Some(&sit.helpdesk),
            &json!({"body": "Presa in carico."}),
        )
        .await;
    assert_eq!(comment.status(), StatusCode::CREATED);

    // Hand-worked times: the first request opened 40 hours ago, answered after 3 hours,
    // resolved after 30 (promised: 4 and 24): first answer met in 180 minutes, resolution
    // breached (1,800 minutes). The second opened 10 hours ago and is not answered: its
    // first answer is late (4 hours promised), its resolution not yet (24).
    let now = db::now();
    let t0 = now - 40 * 3600;
    {
        let db = sit.db();
        let conn = db.get().unwrap();
        conn.execute(
            "UPDATE helpdesk_requests SET created_at = ?2, first_response_at = ?3, resolved_at = ?4, status = 'resolved' WHERE id = ?1",
            rusqlite::params![requests[0], t0, t0 + 3 * 3600, t0 + 30 * 3600],
        )
        .unwrap();
        conn.execute(
            "UPDATE helpdesk_requests SET created_at = ?2, first_response_at = NULL WHERE id = ?1",
            rusqlite::params![requests[1], now - 10 * 3600],
        )
        .unwrap();
    }
    let measured = sit
        .get_json(
            &format!("/v1/sit/subscriptions/{id}/requests"),
            Some(&sit.tv),
        )
        .await;
    let items = measured["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["first_answer_minutes"], 180);
    assert_eq!(items[0]["resolution_minutes"], 1800);
    assert_eq!(items[0]["first_answer_breached"], false);
    assert_eq!(items[0]["resolution_breached"], true);
    assert_eq!(items[1]["first_answer_minutes"], Value::Null);
    assert_eq!(items[1]["first_answer_breached"], true);
    assert_eq!(items[1]["resolution_breached"], false);
    assert_eq!(items[1]["request"]["overdue"], true);
    // Another Comune does not see them; the page highlights the breaches.
    assert_problem(
        app.get(
            &format!("/v1/sit/subscriptions/{id}/requests"),
            Some(&sit.alt),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let session = login(app, "comune.treviso").await;
    let html = session.page(&format!("/sit/adesioni/{id}")).await;
    assert!(html.contains("3 h 00 min"), "{html}");
    assert!(html.contains("30 h 00 min"));
    assert_eq!(html.matches("non rispettata").count(), 2);
}

#[tokio::test]
async fn a_withdrawn_service_is_shown_to_its_subscribers() {
    let sit = Sit::spawn().await;
    sit.create(&pagopa()).await;
    let id = sit.subscribe(&sit.tv, "adesione-pagopa").await;
    let withdrawn = sit
        .app
        .post_json(
            "/v1/sit/services/adesione-pagopa/withdrawal",
            Some(&sit.sit),
            &json!({"reason": "Il servizio passa alla Regione dal 1° luglio."}),
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::OK);
    assert_problem(
        sit.app
            .post_json(
                "/v1/sit/services/adesione-pagopa/withdrawal",
                Some(&sit.sit),
                &json!({"reason": "Di nuovo"}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let view = sit
        .get_json(&format!("/v1/sit/subscriptions/{id}"), Some(&sit.tv))
        .await;
    assert_eq!(view["subscription"]["service_withdrawn"], true);
    let session = login(&sit.app, "comune.treviso").await;
    let dashboard = session.page("/dashboard").await;
    assert!(dashboard.contains("Servizio ritirato: Adesione a pagoPA e App IO"));
    assert!(dashboard.contains("Il servizio passa alla Regione dal 1° luglio."));
    // Nobody can subscribe to it any more, and it is off the catalogue's default list.
    assert_problem(
        sit.app
            .post_json(
                "/v1/sit/subscriptions",
                Some(&sit.alt),
                &json!({"service": "adesione-pagopa"}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let offered = sit.get_json("/v1/sit/services", None).await;
    assert_eq!(offered["items"], json!([]));
    let all = sit.get_json("/v1/sit/services?withdrawn=true", None).await;
    assert_eq!(all["items"][0]["withdrawn"], true);
}

#[tokio::test]
async fn digital_pictures_and_the_coverage_of_the_platforms() {
    let sit = Sit::spawn().await;
    let app = &sit.app;
    let picture =
        |platforms: Value, measures: Value| json!({"platforms": platforms, "measures": measures});
    let put = |token: &str, comune: &str, body: Value| {
        let path = format!("/v1/sit/comuni/{comune}/picture");
        let token = token.to_owned();
        async move {
            app.send_json(Method::PUT, &path, Some(&token), Some(&body))
                .await
        }
    };
    let treviso = picture(
        json!([{"platform": "spid", "since": "01/03/2021"}, {"platform": "pagopa", "since": "2020-06-30"}]),
        json!([{"measure": "1.4.4", "status": "obtained", "amount": "14.000,00"}, {"measure": "1.2", "status": "applied"}]),
    );
    assert_problem(
        put(&sit.tv, TREVISO, treviso.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let bad = picture(
        json!([{"platform": "spid", "since": "2099-01-01"}, {"platform": "spid", "since": "2020-01-01"}]),
        json!([{"measure": "1.2", "status": "applied", "amount": "tanti"}]),
    );
    let problem = assert_problem(
        put(&sit.sit, TREVISO, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&String> = problem["errors"].as_object().unwrap().keys().collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "measures[0].amount",
            "platforms[0].since",
            "platforms[1].platform"
        ]
    );
    let stored = put(&sit.sit, TREVISO, treviso).await;
    assert_eq!(stored.status(), StatusCode::OK);
    let stored = put(
        &sit.sit,
        ALTIVOLE,
        picture(
            json!([{"platform": "spid", "since": "2022-01-10"}]),
            json!([]),
        ),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::OK);

    // The Comune reads its own picture, not another's.
    let own = sit
        .get_json(&format!("/v1/sit/comuni/{TREVISO}/picture"), Some(&sit.tv))
        .await;
    assert_eq!(
        own["platforms"],
        json!([{"platform": "pagopa", "since": "2020-06-30"}, {"platform": "spid", "since": "2021-03-01"}])
    );
    assert_eq!(own["measures"][1]["amount"], "14000.00");
    assert_problem(
        app.get(&format!("/v1/sit/comuni/{ALTIVOLE}/picture"), Some(&sit.tv))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Coverage: SPID in 2 of Treviso's 94 Comuni (21,3 ‰ → 21), residents computed here from
    // the ISTAT file independently of the node.
    let mut reader = csv::Reader::from_path(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/istat_popolazione_residente_comuni_2025_2026.csv"),
    )
    .unwrap();
    let mut province = 0u64;
    let mut comuni = 0u64;
    for record in reader.records() {
        let record = record.unwrap();
        if &record[1] == "026" && &record[2] == "2026" {
            province += record[3].parse::<u64>().unwrap();
            comuni += 1;
        }
    }
    assert_eq!(comuni, 94);
    let coverage = sit.get_json("/v1/sit/coverage", Some(&sit.sit)).await;
    let spid = coverage
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["platform"] == "spid")
        .unwrap();
    let residents = 86_113 + 7_088;
    assert_eq!(spid["comuni"], 2);
    assert_eq!(spid["comuni_total"], 94);
    assert_eq!(spid["comuni_permille"], 21);
    assert_eq!(spid["residents"], residents);
    assert_eq!(spid["residents_total"], province);
    assert_eq!(
        spid["residents_permille"],
        (residents * 2000 + province) / (province * 2)
    );
    assert_problem(
        app.get("/v1/sit/coverage", Some(&sit.tv)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let session = login(app, "operatore.sit").await;
    let csv = session
        .page("/sit/copertura/export.csv?sep=semicolon")
        .await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "piattaforma;comuni;comuni_totali;quota_comuni_percento;residenti;residenti_totali;quota_residenti_percento"
    );
    assert_eq!(
        lines.next().unwrap(),
        "SPID;2;94;2,1;93201;{province};".replace("{province}", &province.to_string())
            + &{
                let permille = (residents * 2000 + province) / (province * 2);
                format!("{},{}", permille / 10, permille % 10)
            }
    );
    let html = session.page("/sit/copertura").await;
    assert!(html.contains("coverage-chart"));
    assert!(html.contains("2 di 94"));
}

#[tokio::test]
async fn the_national_datasets_follow_the_catalogue_and_the_pictures() {
    let sit = Sit::spawn().await;
    let app = &sit.app;
    let admin = add_user(&app.config, "amministratore", &Role::Admin);
    sit.create(&pagopa()).await;
    // Declared through the kit, off until the Province publishes them: no rows kept.
    let list = sit.get_json("/v1/datasets", Some(&admin)).await;
    let items = list
        .get("items")
        .unwrap_or(&list)
        .as_array()
        .unwrap()
        .clone();
    for name in ["sit_servizi", "sit_quadro_digitale"] {
        let dataset = items
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {list}"));
        assert_eq!(dataset["federation"], "off");
        assert_eq!(dataset["rows"], 0);
    }
    for name in ["sit_servizi", "sit_quadro_digitale"] {
        let response = app
            .send_json(
                Method::PUT,
                &format!("/v1/datasets/{name}/federation"),
                Some(&admin),
                Some(&json!({"federation": "national"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
    }
    // A subscription accepted and a picture stored change the rows.
    let id = sit.subscribe(&sit.tv, "adesione-pagopa").await;
    let accepted = sit
        .make(&sit.sit, id, &json!({"state": "active", "agreement_ref": "Prot. 9/2026", "start_date": "2026-03-01"}))
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let stored = app
        .send_json(
            Method::PUT,
            &format!("/v1/sit/comuni/{ALTIVOLE}/picture"),
            Some(&sit.sit),
            Some(
                &json!({"platforms": [{"platform": "cie", "since": "2023-05-02"}],
                         "measures": [{"measure": "1.4.5", "status": "applied"}]}),
            ),
        )
        .await;
    assert_eq!(stored.status(), StatusCode::OK);
    let services = sit.get_json("/v1/datasets/sit_servizi/rows", None).await;
    assert_eq!(services["items"].as_array().unwrap().len(), 1);
    let row = &services["items"][0];
    assert_eq!(row["code"], "adesione-pagopa");
    assert_eq!(row["fee_cents"], 15);
    assert_eq!(row["active_comuni"], 1);
    assert_eq!(row["active_residents"], 86_113);
    assert_eq!(row["withdrawn"], false);
    let pictures = sit
        .get_json("/v1/datasets/sit_quadro_digitale/rows?limit=200", None)
        .await;
    let rows = pictures["items"].as_array().unwrap();
    assert_eq!(rows.len(), 94);
    let altivole = rows.iter().find(|r| r["comune"] == ALTIVOLE).unwrap();
    assert_eq!(altivole["residents"], 7_088);
    assert_eq!(altivole["cie_since"], "2023-05-02");
    assert_eq!(altivole["spid_since"], Value::Null);
    assert_eq!(altivole["pnrr_1_4_5"], "applied");
    // Entries were signed for the hub (the outbox holds them until a hub is set).
    let db = sit.db();
    let conn = db.get().unwrap();
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))
        .unwrap();
    assert!(queued >= 4, "{queued}");
}
