//! The OpenAPI document served at /v1/openapi.json matches the checked-in
//! `node/openapi.json`; regenerate it with `UPDATE_OPENAPI=1 cargo test -p pico-node openapi`.

use utoipa::OpenApi as _;

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
