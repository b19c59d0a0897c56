//! The OpenAPI document served at /v1/openapi.json is the contract Province IT teams write
//! their clients against: it matches the checked-in `node/openapi.json` (regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p pico-node openapi`), every operation documents the problems
//! the shared plumbing can answer, and the page size it describes is the one served. The API
//! fuzzer of `cargo xtask test` checks every answer against it.

use reqwest::StatusCode;
use serde_json::Value;
use utoipa::OpenApi as _;

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

fn document() -> Value {
    serde_json::to_value(pico_node::api::ApiDoc::openapi()).unwrap()
}

/// Every operation of the document, as (label, operation).
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                all.push((format!("{} {path}", method.to_uppercase()), operation));
            }
        }
    }
    all
}

#[test]
fn openapi_document_is_in_sync() {
    let generated =
        serde_json::to_string_pretty(&pico_node::api::ApiDoc::openapi()).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "node/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p pico-node openapi"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for path in [
        "/v1/comuni",
        "/v1/helpdesk/requests",
        "/v1/helpdesk/requests/{id}/transitions",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

#[test]
fn every_operation_documents_the_problems_it_can_answer() {
    let doc = document();
    let problem = |operation: &Value, status: &str| {
        operation["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"]
            == "#/components/schemas/Problem"
    };
    let operations = operations(&doc);
    assert!(operations.len() > 50, "{} operations", operations.len());
    for (label, operation) in operations {
        for status in ["429", "503"] {
            assert!(problem(operation, status), "{label}: no {status} problem");
        }
        let secured = operation["security"]
            .as_array()
            .is_some_and(|requirements| {
                requirements
                    .iter()
                    .any(|r| r != &Value::Object(Default::default()))
            });
        if secured {
            assert!(problem(operation, "401"), "{label}: no 401 problem");
        }
        if operation.get("requestBody").is_some() {
            assert!(problem(operation, "413"), "{label}: no 413 problem");
        }
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if parameters.iter().any(|p| p["in"] == "path") {
            assert!(problem(operation, "404"), "{label}: no 404 problem");
        }
        if parameters.iter().any(|p| p["in"] == "query") {
            assert!(problem(operation, "400"), "{label}: no 400 problem");
        }
        // Every error is a problem document, whoever wrote its annotation.
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{label} {status}"
                );
            }
        }
    }
}

/// Two types of one name used to become one schema: the Help Desk's request `status` was
/// described as the publishing status, and its attachments as a best practice's.
#[test]
fn schemas_of_one_name_are_not_merged() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Status"]["type"], "string", "{}", schemas["Status"]);
    assert!(
        schemas["Status"]["enum"]
            .as_array()
            .unwrap()
            .contains(&"new".into())
    );
    assert!(
        schemas["PublishingStatus"]["properties"]
            .get("head_seq")
            .is_some()
    );
    assert!(
        schemas["AttachmentView"]["properties"]
            .get("content_type")
            .is_some()
    );
    assert!(
        schemas["PracticeAttachmentView"]["properties"]
            .get("media_type")
            .is_some()
    );
}

/// Uploads list every media type their module accepts, as binary bodies a client (or a
/// fuzzer) can send; downloads answer any of them.
#[test]
fn uploads_document_the_accepted_media_types() {
    let doc = document();
    for (path, accepted) in [
        (
            "/v1/helpdesk/requests/{id}/attachments",
            pico_node::helpdesk::ALLOWED_ATTACHMENT_TYPES,
        ),
        (
            "/v1/sua/procedures/{id}/attachments",
            pico_node::sua::ALLOWED_ATTACHMENT_TYPES,
        ),
        (
            "/v1/practices/{id}/attachments",
            pico_node::community::ALLOWED_ATTACHMENT_TYPES,
        ),
    ] {
        let content = doc["paths"][path]["post"]["requestBody"]["content"]
            .as_object()
            .unwrap();
        let mut documented: Vec<&str> = content.keys().map(String::as_str).collect();
        let mut accepted = accepted.to_vec();
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted, "{path}");
        for media in content.values() {
            assert_eq!(media["schema"]["$ref"], "#/components/schemas/FileBytes");
        }
        let download = &doc["paths"][format!("{path}/{{attachment}}")]["get"]["responses"]["200"];
        assert!(
            download["content"].get("*/*").is_some(),
            "{path}: {download}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["FileBytes"]["format"],
        "binary"
    );
}

/// Best practices are public, and read the caller's identity to show drafts to Province
/// staff: a wrong token is refused, so the document says that credentials are optional.
#[test]
fn public_operations_reading_an_identity_declare_optional_credentials() {
    let doc = document();
    for path in [
        "/v1/practices",
        "/v1/practices/{id}",
        "/v1/practices/{id}/attachments/{attachment}",
    ] {
        let operation = &doc["paths"][path]["get"];
        assert_eq!(
            operation["security"],
            serde_json::json!([{}, {"bearer": []}]),
            "{path}"
        );
        assert!(operation["responses"].get("401").is_some(), "{path}");
        assert!(
            operation["responses"].get("403").is_none(),
            "{path}: no role is needed"
        );
    }
}

/// A `limit` above the largest page is reduced, not refused, so the document must not
/// declare a `maximum` a client would expect to be enforced: it says what happens instead.
#[tokio::test]
async fn page_limit_above_the_largest_page_is_reduced_as_documented() {
    let doc = document();
    let mut limits = 0;
    for (label, operation) in operations(&doc) {
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for limit in parameters.iter().filter(|p| p["name"] == "limit") {
            limits += 1;
            // An optional parameter's schema may be `oneOf` null and the integer.
            let schema = &limit["schema"];
            let integer = schema["oneOf"]
                .as_array()
                .and_then(|options| options.iter().find(|o| o["type"] == "integer"))
                .unwrap_or(schema);
            assert_eq!(integer["type"], "integer", "{label}: {limit}");
            assert!(integer.get("maximum").is_none(), "{label}: {limit}");
            assert!(integer.get("format").is_none(), "{label}: {limit}");
            assert_eq!(integer["minimum"], 0, "{label}: {limit}");
            let description = limit["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("are reduced to"),
                "{label}: {description}"
            );
        }
    }
    assert!(limits >= 8, "{limits} limit parameters");

    // Brescia has 205 Comuni: one more than the largest page and a few.
    let app = TestApp::spawn("017").await;
    let response = app.get("/v1/comuni?limit=10000", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 200);
    let next = page["next"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/v1/comuni?limit=10000&cursor={next}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 5);
    assert!(rest["next"].is_null());
    let one: Value = app
        .get("/v1/comuni?limit=0", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["items"].as_array().unwrap().len(), 1, "0 is read as 1");
    // Past what a u32 holds (the schema no longer says int32): still a page, not a 400.
    let huge: Value = app
        .get("/v1/comuni?limit=99999999999999999999", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(huge["items"].as_array().unwrap().len(), 200);
    for bad in ["-1", "1.5", "many"] {
        let response = app.get(&format!("/v1/comuni?limit={bad}"), None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "limit={bad}");
    }
    app.stop().await;
}

/// The names the node's and the hub's `ToSchema` types take in their OpenAPI documents: the
/// type's name, or its `#[schema(as = …)]`. Two types of one service with the same name would
/// leave one schema describing both answers (it happened: Formazione's `Report` replaced
/// SUA's), so each name appears once per service.
#[test]
fn every_schema_name_is_used_once_per_service() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for service in ["src", "../hub/src"] {
        let mut files = Vec::new();
        rust_files(&root.join(service), &mut files);
        let mut seen: std::collections::BTreeMap<String, String> = Default::default();
        let mut clashes = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let mut pending: Option<Option<String>> = None;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    pending = Some(None);
                } else if let Some(alias) = line
                    .strip_prefix("#[schema(as = ")
                    .and_then(|rest| rest.strip_suffix(")]"))
                {
                    if let Some(slot) = pending.as_mut() {
                        *slot = Some(alias.rsplit("::").next().unwrap().to_owned());
                    }
                } else if let Some(rest) = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "))
                {
                    if let Some(alias) = pending.take() {
                        let name = alias.unwrap_or_else(|| {
                            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                                .next()
                                .unwrap()
                                .to_owned()
                        });
                        let place = file.display().to_string();
                        if let Some(first) = seen.insert(name.clone(), place.clone()) {
                            clashes.push(format!("{name}: {first} and {place}"));
                        }
                    }
                } else if !line.starts_with("#[") && !line.starts_with("///") {
                    pending = None;
                }
            }
        }
        assert!(
            clashes.is_empty(),
            "schema names used twice in {service} (add #[schema(as = ModuleName)]):\n{}",
            clashes.join("\n")
        );
        assert!(
            seen.len() > 30,
            "only {} schemas found in {service}",
            seen.len()
        );
    }
}
