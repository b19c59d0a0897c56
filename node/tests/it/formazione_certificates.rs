//! Formazione certificates of attendance: issued only for a completed enrolment, by the
//! office or the person's own Comune (404 to another Comune); the PDF read back with an
//! independent reader (pypdf: the person, hours, course and code are in its text, with
//! Italian accents); the signed data verified with an independent Ed25519 implementation
//! (Python `cryptography`) against the public key read from the node's key file, and a
//! tampered copy refused; the public verification page and JSON for anyone, 404 for unknown
//! codes; revocation.

use pico_node::auth::{Module, Role};
use pico_protocol::{ComuneCode, SecretKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem, run_python};

const TREVISO: &str = "026086";
const ALTIVOLE: &str = "026001";

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    status: StatusCode,
) -> Value {
    let response = app
        .send_json(method.clone(), path, token, body.as_ref())
        .await;
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Reads the PDF with pypdf and verifies the signature it carries with `cryptography`:
/// prints the extracted text, the metadata's code, whether the signature verifies over the
/// carried bytes and whether it verifies over a tampered copy (hours changed).
const CHECK_PDF: &str = r#"
import base64, json, sys
from pypdf import PdfReader
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

def b64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

reader = PdfReader(sys.argv[1])
key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2]))
text = "\n".join(page.extract_text() for page in reader.pages)
meta = reader.metadata
payload = b64(meta["/PicoDati"])
signature = b64(meta["/PicoFirma"])

def verifies(data):
    try:
        key.verify(signature, data)
        return True
    except InvalidSignature:
        return False

data = json.loads(payload)
tampered = json.loads(payload)
tampered["hours"] = "60.00"
tampered = json.dumps(tampered, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
print(json.dumps({
    "pages": len(reader.pages),
    "text": text,
    "code": meta["/PicoCodice"],
    "key_id": meta["/PicoChiave"],
    "data": data,
    "canonical": json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode() == payload,
    "valid": verifies(payload),
    "tampered_valid": verifies(tampered),
}))
"#;

/// Verifies the public JSON's signature over its payload with `cryptography`.
const CHECK_JSON: &str = r#"
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

def b64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

cert = json.loads(sys.argv[1])
key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2]))
payload = b64(cert["payload"])
try:
    key.verify(b64(cert["signature"]), payload)
    ok = json.loads(payload) == cert["data"]
except InvalidSignature:
    ok = False
try:
    key.verify(b64(cert["signature"]), payload.replace(b"Ferr", b"Ferm"))
    forged = True
except InvalidSignature:
    forged = False
print(json.dumps({"valid": ok, "forged_valid": forged}))
"#;

#[tokio::test]
async fn certificates_are_issued_signed_verified_publicly_and_offline() {
    let app = TestApp::spawn("026").await;
    let cfg = &app.config;
    let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
    let office = add_user(
        cfg,
        "operatore.formazione",
        &Role::Operator(Module::Formazione),
    );
    let sua = add_user(cfg, "operatore.sua", &Role::Operator(Module::Sua));
    let tv = add_user(cfg, "comune.treviso", &comune(TREVISO));
    let alt = add_user(cfg, "comune.altivole", &comune(ALTIVOLE));

    let course = call(
        &app,
        Method::POST,
        "/v1/formazione/courses",
        Some(&office),
        Some(json!({"title": "Sicurezza informatica: perché è la prima difesa", "sector": "innovazione",
                    "hours": 6, "mode": "online", "syllabus_area": "sicurezza", "syllabus_level": "base",
                    "tags": ["phishing"], "audience": "both", "min_attendance_percent": 75})),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let edition = call(
        &app,
        Method::POST,
        &format!("/v1/formazione/courses/{course}/editions"),
        Some(&office),
        Some(json!({"teacher": "Laura Conte", "link": "https://meet.example.it/sicurezza", "seats": 10,
                    "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31",
                    "sessions": [{"starts_at": "2026-03-10T09:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
                                 {"starts_at": "2026-03-17T09:00:00+01:00", "ends_at": "2026-03-17T12:00:00+01:00"}]})),
        StatusCode::CREATED,
    )
    .await;
    let edition_id = edition["id"].as_i64().unwrap();
    let sessions: Vec<i64> = edition["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let mut enrolments = Vec::new();
    for (name, email) in [
        ("Niccolò Ferrè", "niccolo.ferre@comune.treviso.it"),
        ("Anna Verdi", "anna.verdi@comune.treviso.it"),
    ] {
        let person = call(
            &app,
            Method::POST,
            "/v1/formazione/staff",
            Some(&tv),
            Some(json!({"name": name, "office": "Servizi informatici", "email": email})),
            StatusCode::CREATED,
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let enrolment = call(
            &app,
            Method::POST,
            &format!("/v1/formazione/editions/{edition_id}/enrolments"),
            Some(&office),
            Some(json!({"staff_id": person})),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(enrolment["state"], "enrolled");
        enrolments.push(enrolment["id"].as_i64().unwrap());
    }
    let (niccolo, anna) = (enrolments[0], enrolments[1]);
    // Niccolò attends 3 h + 2 h 30 of 6 h (91.7 % ≥ 75 %): completed with 5,5 hours. Anna
    // attends one hour: not completed.
    for (session, minutes) in [(sessions[0], [180, 60]), (sessions[1], [150, 0])] {
        call(
            &app,
            Method::PUT,
            &format!("/v1/formazione/sessions/{session}/attendance"),
            Some(&office),
            Some(
                json!({"entries": [{"enrolment_id": niccolo, "minutes": minutes[0]},
                                    {"enrolment_id": anna, "minutes": minutes[1]}]}),
            ),
            StatusCode::OK,
        )
        .await;
    }

    // Who may issue: not for an enrolment that did not complete; not another Comune (404),
    // not another module's operator (403); the person's Comune does, and asking again returns
    // the same certificate.
    let path = |id: i64| format!("/v1/formazione/enrolments/{id}/certificate");
    let refused = app
        .send_json(Method::POST, &path(anna), Some(&office), None)
        .await;
    let problem = assert_problem(refused, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "not_completed");
    assert!(problem["detail"].as_str().unwrap().contains("completato"));
    let refused = app
        .send_json(Method::POST, &path(niccolo), Some(&alt), None)
        .await;
    assert_problem(refused, StatusCode::NOT_FOUND).await;
    let refused = app
        .send_json(Method::POST, &path(niccolo), Some(&sua), None)
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    let refused = app
        .send_json(Method::POST, &path(niccolo), None, None)
        .await;
    assert_problem(refused, StatusCode::UNAUTHORIZED).await;
    let not_yet = app.get(&path(niccolo), Some(&office)).await;
    assert_problem(not_yet, StatusCode::NOT_FOUND).await;
    let issued = call(
        &app,
        Method::POST,
        &path(niccolo),
        Some(&tv),
        None,
        StatusCode::CREATED,
    )
    .await;
    let again = call(
        &app,
        Method::POST,
        &path(niccolo),
        Some(&office),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["code"], issued["code"]);
    let code = issued["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 19, "{code}");
    assert_eq!(issued["valid"], true);
    let data = &issued["data"];
    assert_eq!(data["person"], "Niccolò Ferrè");
    assert_eq!(data["hours"], "5.50");
    assert_eq!(data["first_day"], "2026-03-10");
    assert_eq!(data["last_day"], "2026-03-17");
    assert_eq!(data["issuer"], "Provincia di Treviso");
    assert_eq!(data["province"], "026");
    assert_eq!(data["sector"], "Innovazione e Digitalizzazione");
    assert_eq!(
        data["competences"],
        json!([
            "Syllabus competenze digitali: Sicurezza, livello base",
            "phishing"
        ])
    );
    assert!(
        data["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/attestati/{code}"))
    );
    // The enrolment now names its certificate.
    let detail = call(
        &app,
        Method::GET,
        &format!("/v1/formazione/editions/{edition_id}"),
        Some(&office),
        None,
        StatusCode::OK,
    )
    .await;
    let listed: Vec<&Value> = detail["enrolments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["certificate_code"])
        .collect();
    assert_eq!(listed, vec![&json!(code), &Value::Null]);

    // The PDF: the person's Comune and the office download it, another Comune gets 404.
    let response = app.get(&path(niccolo), Some(&alt)).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    let response = app.get(&path(niccolo), Some(&tv)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let file = app.dir.path().join("attestato.pdf");
    std::fs::write(&file, &pdf).unwrap();

    // Checked independently against the key in the node's own key file.
    let key = SecretKey::load(&app.config.key_path())
        .unwrap()
        .public_key();
    let key_hex = hex::encode(key.to_bytes());
    let out: Value = serde_json::from_str(&run_python(
        CHECK_PDF,
        &[file.to_str().unwrap(), key_hex.as_str()],
    ))
    .unwrap();
    let text = out["text"].as_str().unwrap();
    let url_tail = format!("/attestati/{code}");
    for expected in [
        "Attestato di partecipazione",
        "Provincia di Treviso",
        "Niccolò Ferrè",
        "Sicurezza informatica: perché è la prima difesa",
        "Ore frequentate: 5,5",
        "dal 10/03/2026 al 17/03/2026",
        "Innovazione e Digitalizzazione",
        "Sicurezza, livello base; phishing",
        code.as_str(),
        url_tail.as_str(),
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not in the PDF's text:\n{text}"
        );
    }
    assert_eq!(out["pages"], 1);
    assert_eq!(out["code"], json!(code));
    assert_eq!(out["key_id"], issued["key_id"]);
    assert_eq!(out["data"], issued["data"]);
    assert_eq!(
        out["canonical"], true,
        "the signed bytes are canonical JSON"
    );
    assert_eq!(out["valid"], true, "the PDF's signature verifies");
    assert_eq!(
        out["tampered_valid"], false,
        "a tampered copy must not verify"
    );
    assert_eq!(issued["key_id"], json!(key.key_id().as_str()));
    assert_eq!(issued["public_key"], json!(key.to_string()));

    // Public verification for anyone, with the code typed in lower case without dashes.
    let typed = code.replace('-', "").to_lowercase();
    let public = call(
        &app,
        Method::GET,
        &format!("/v1/formazione/certificates/{typed}"),
        None,
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public["data"], issued["data"]);
    assert_eq!(public["alg"], "EdDSA");
    assert!(public.get("enrolment_id").is_none() && !public.to_string().contains("@"));
    let public_text = public.to_string();
    let out: Value = serde_json::from_str(&run_python(
        CHECK_JSON,
        &[public_text.as_str(), key_hex.as_str()],
    ))
    .unwrap();
    assert_eq!(out, json!({"valid": true, "forged_valid": false}));
    for unknown in ["AAAA-AAAA-AAAA-AAAA", "non-un-codice"] {
        let response = app
            .get(&format!("/v1/formazione/certificates/{unknown}"), None)
            .await;
        assert_problem(response, StatusCode::NOT_FOUND).await;
        let response = app.get(&format!("/attestati/{unknown}"), None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let page = app.get(&format!("/attestati/{code}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for expected in [
        "Attestato valido",
        "Niccolò Ferrè",
        "5,5",
        "17/03/2026",
        "Provincia di Treviso",
    ] {
        assert!(html.contains(expected), "{expected} not on the page");
    }
    assert!(
        !html.contains("niccolo.ferre@"),
        "no e-mail on the public page"
    );
    assert!(
        !html.contains("Servizi informatici"),
        "no office on the public page"
    );
    // The lookup form: a code that cannot be one is refused beside the field; a typed one
    // leads to its page.
    let refused = app.get("/attestati?codice=12345", None).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("16 lettere e cifre"));
    let found = app.get(&format!("/attestati?codice={typed}"), None).await;
    assert_eq!(found.status(), StatusCode::OK);
    assert!(found.url().path().ends_with(&code));

    // Revocation: the office only, once; the public page says so.
    let revoke = format!("/v1/formazione/certificates/{code}/revoke");
    let refused = app
        .send_json(
            Method::POST,
            &revoke,
            Some(&tv),
            Some(&json!({"reason": "Errore"})),
        )
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    let refused = app
        .send_json(
            Method::POST,
            &revoke,
            Some(&office),
            Some(&json!({"reason": ""})),
        )
        .await;
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let revoked = call(
        &app,
        Method::POST,
        &revoke,
        Some(&office),
        Some(json!({"reason": "Presenze registrate per errore."})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(revoked["valid"], false);
    let again = app
        .send_json(
            Method::POST,
            &revoke,
            Some(&office),
            Some(&json!({"reason": "Di nuovo."})),
        )
        .await;
    assert_eq!(
        assert_problem(again, StatusCode::CONFLICT).await["code"],
        "already_revoked"
    );
    let html = app
        .get(&format!("/attestati/{code}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Attestato revocato") && html.contains("Presenze registrate per errore.")
    );
}
