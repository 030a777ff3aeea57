//! Persisted operations: Apollo's automatic persisted queries by default, and an allow-list
//! mode that runs only the operations of a folder.

use partnerships::graphql::persisted::sha256_hex;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, spawn_app, spawn_app_with};

async fn post(app: &TestApp, body: Value) -> Value {
    app.client
        .post(format!("{}/graphql", app.address))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

const QUERY: &str = r#"{ organization(by: { slug: "waipa" }) { acronym } }"#;

#[tokio::test]
async fn automatic_persisted_queries_follow_the_apollo_protocol() {
    let app = spawn_app().await;
    let hash = sha256_hex(QUERY);

    let unknown = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(
        error_codes(&unknown),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{unknown:#}"
    );
    assert_eq!(
        unknown["errors"][0]["message"], "PersistedQueryNotFound",
        "the message Apollo's link looks for"
    );

    let registered = post(
        &app,
        json!({ "query": QUERY, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        registered["data"]["organization"]["acronym"], "WAIPA",
        "{registered:#}"
    );

    let by_hash = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(
        by_hash["data"]["organization"]["acronym"], "WAIPA",
        "{by_hash:#}"
    );

    let over_get = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", persisted(&hash).to_string())])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json::<Value>()
        .await
        .unwrap_or_default();
    assert_eq!(
        over_get["data"]["organization"]["acronym"], "WAIPA",
        "{over_get:#}"
    );

    let mismatched = post(
        &app,
        json!({ "query": QUERY, "extensions": persisted(&sha256_hex("{ other }")) }),
    )
    .await;
    assert_eq!(
        error_codes(&mismatched),
        ["BAD_USER_INPUT"],
        "{mismatched:#}"
    );
}

#[tokio::test]
async fn in_allow_list_mode_only_the_folder_s_operations_run() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let app = spawn_app_with(|s| s.graphql.persisted_operations_dir = Some(examples.clone())).await;
    let text = std::fs::read_to_string(examples.join("global-framework-parties.graphql"))
        .unwrap_or_else(|e| panic!("{e}"));

    let by_text = post(&app, json!({ "query": text })).await;
    assert_eq!(
        by_text["data"]["agreement"]["signedOn"], "2020",
        "{by_text:#}"
    );

    let respaced = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n   ");
    let by_respaced_text = post(&app, json!({ "query": respaced })).await;
    assert_eq!(
        by_respaced_text["data"]["agreement"]["signedOn"], "2020",
        "spacing and comments do not matter"
    );

    let by_hash = post(&app, json!({ "extensions": persisted(&sha256_hex(&text)) })).await;
    assert_eq!(
        by_hash["data"]["agreement"]["signedOn"], "2020",
        "{by_hash:#}"
    );

    let ad_hoc = post(&app, json!({ "query": QUERY })).await;
    assert_eq!(error_codes(&ad_hoc), ["FORBIDDEN"], "{ad_hoc:#}");

    let registering = post(
        &app,
        json!({ "query": QUERY, "extensions": persisted(&sha256_hex(QUERY)) }),
    )
    .await;
    assert_eq!(
        error_codes(&registering),
        ["FORBIDDEN"],
        "no client can add to the list: {registering:#}"
    );
    let unknown = post(&app, json!({ "extensions": persisted(&sha256_hex(QUERY)) })).await;
    assert_eq!(
        error_codes(&unknown),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{unknown:#}"
    );
}
