//! Input values nested past GRAPHQL_MAX_INPUT_DEPTH are refused with a code before anything
//! recursive runs over them. Before the bound, a filter nested a few hundred levels through
//! `not`, `and`/`or` or `parent` (2–4 KB) overflowed a worker's stack and killed the server;
//! here each shape is sent from the limit up to ten times the depth that crashed it, inline and
//! through variables, on both stores, and the server must still answer afterwards.

use partnerships::graphql::persisted::sha256_hex;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, spawn_app, spawn_app_with, spawn_embedded_app};

/// The input depth allowed by default.
const LIMIT: usize = 16;

/// The depths at which each shape crashed the release build before the bound.
const NOT_CRASHED_AT: usize = 611;
const AND_OR_CRASHED_AT: usize = 274;
const PARENT_CRASHED_AT: usize = 418;

/// A filter of exactly `depth` levels: `{not: {not: … {name: {eq: "x"}}}}`.
fn not_chain(depth: usize) -> String {
    let wrappers = depth.saturating_sub(2);
    format!(
        "{}{{ name: {{ eq: \"x\" }} }}{}",
        "{ not: ".repeat(wrappers),
        " }".repeat(wrappers)
    )
}

/// `{and: [{and: [… {name: {eq: "x"}} …]}]}`: each `and` is two levels (an object and a list).
fn junction_chain(op: &str, wrappers: usize) -> String {
    format!(
        "{}{{ name: {{ contains: \"a\" }} }}{}",
        format!("{{ {op}: [").repeat(wrappers),
        "] }".repeat(wrappers)
    )
}

/// `{parent: {parent: … {slug: {eq: "ilo"}}}}`: `parents` + 2 levels.
fn parent_chain(parents: usize) -> String {
    format!(
        "{}{{ slug: {{ eq: \"ilo\" }} }}{}",
        "{ parent: ".repeat(parents),
        " }".repeat(parents)
    )
}

/// The same not-chain as JSON, for a variable.
fn not_chain_json(depth: usize) -> Value {
    let mut value = json!({ "name": { "eq": "x" } });
    for _ in 0..depth.saturating_sub(2) {
        value = json!({ "not": value });
    }
    value
}

fn organizations(filter: &str) -> String {
    format!("{{ organizations(filter: {filter}) {{ totalCount }} }}")
}

/// POSTs a raw body and returns the status and the JSON answer.
async fn post(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", "application/graphql-response+json")
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the server is gone: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Asserts the query is refused before execution, with `code` and no `data`.
async fn assert_refused(app: &TestApp, what: &str, body: Value, code: &str) {
    let (status, answer) = post(app, &body).await;
    assert_eq!(
        error_codes(&answer),
        [code],
        "{what}: expected {code}, got {answer:#}"
    );
    assert_eq!(status, 400, "{what}: a refused request is a 400");
    assert!(answer.get("data").is_none(), "{what}: nothing ran");
}

async fn assert_still_serving(app: &TestApp) {
    let data = app
        .data(
            "{ organization(by: { slug: \"ilo\" }) { acronym } }",
            json!({}),
        )
        .await;
    assert_eq!(data["organization"]["acronym"], "ILO");
}

/// Every shape at and around the limit, and far past it; the server answers throughout.
async fn nested_inputs_are_refused_on(app: &TestApp) {
    // At the limit each shape runs.
    for (what, filter) in [
        ("not at the limit", not_chain(LIMIT)),
        ("and at the limit", junction_chain("and", (LIMIT - 2) / 2)),
        ("or at the limit", junction_chain("or", (LIMIT - 2) / 2)),
        ("parent at the limit", parent_chain(LIMIT - 2)),
    ] {
        let (_, answer) = post(app, &json!({ "query": organizations(&filter) })).await;
        assert!(answer["errors"].is_null(), "{what} is allowed: {answer:#}");
        assert!(answer["data"]["organizations"]["totalCount"].is_number());
    }

    let mut inline = vec![
        ("not one past the limit".to_owned(), not_chain(LIMIT + 1)),
        (
            "and one level past the limit".to_owned(),
            junction_chain("and", (LIMIT - 1) / 2 + 1),
        ),
        (
            "parent one past the limit".to_owned(),
            parent_chain(LIMIT - 1),
        ),
    ];
    for depth in [100, NOT_CRASHED_AT, 2 * NOT_CRASHED_AT, 10 * NOT_CRASHED_AT] {
        inline.push((format!("not × {depth}"), not_chain(depth)));
    }
    for op in ["and", "or"] {
        for wrappers in [50, AND_OR_CRASHED_AT, 10 * AND_OR_CRASHED_AT] {
            inline.push((format!("{op} × {wrappers}"), junction_chain(op, wrappers)));
        }
    }
    for parents in [100, PARENT_CRASHED_AT, 10 * PARENT_CRASHED_AT] {
        inline.push((format!("parent × {parents}"), parent_chain(parents)));
    }
    for (what, filter) in &inline {
        let query = organizations(filter);
        assert_refused(app, what, json!({ "query": query }), "QUERY_TOO_COMPLEX").await;
        // Registering it as an automatic persisted query reaches the parser by no other path
        // (it once did, before the limits, and crashed the server), and keeps nothing.
        let hash = sha256_hex(&query);
        let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        let body = json!({ "query": query, "extensions": persisted });
        let what = format!("{what}, registered as a persisted query");
        assert_refused(app, &what, body, "QUERY_TOO_COMPLEX").await;
        let (_, answer) = post(app, &json!({ "extensions": persisted })).await;
        assert_eq!(
            error_codes(&answer),
            ["PERSISTED_QUERY_NOT_FOUND"],
            "{what}: not kept"
        );
    }

    // Lists nest too, in any argument (the type is checked later; the nesting first).
    for levels in [LIMIT + 1, 1_000, 5_000] {
        let query = format!(
            "{{ organizations(filter: {{ slug: {{ in: {}\"x\"{} }} }}) {{ totalCount }} }}",
            "[".repeat(levels),
            "]".repeat(levels)
        );
        assert_refused(
            app,
            &format!("a list nested {levels} levels"),
            json!({ "query": query }),
            "QUERY_TOO_COMPLEX",
        )
        .await;
    }

    // A variable's default value is an input value like any other.
    let query = format!(
        "query ($f: OrganizationFilter = {}) {{ organizations(filter: $f) {{ totalCount }} }}",
        not_chain(NOT_CRASHED_AT)
    );
    assert_refused(
        app,
        "a deep default value",
        json!({ "query": query }),
        "QUERY_TOO_COMPLEX",
    )
    .await;

    // Through variables: BAD_USER_INPUT naming the variable, up to what JSON itself allows.
    let by_variable = "query ($f: OrganizationFilter) { organizations(filter: $f) { totalCount } }";
    let (_, answer) = post(
        app,
        &json!({ "query": by_variable, "variables": { "f": not_chain_json(LIMIT) } }),
    )
    .await;
    assert!(
        answer["errors"].is_null(),
        "a variable at the limit runs: {answer:#}"
    );
    for depth in [LIMIT + 1, 100, 120] {
        let body = json!({ "query": by_variable, "variables": { "f": not_chain_json(depth) } });
        let (status, answer) = post(app, &body).await;
        assert_eq!(
            error_codes(&answer),
            ["BAD_USER_INPUT"],
            "a variable {depth} deep: {answer:#}"
        );
        assert_eq!(status, 400);
        assert_eq!(answer["errors"][0]["extensions"]["field"], "$f");
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&LIMIT.to_string()),
            "the message names the limit: {message}"
        );
    }
    // Past 128 levels the JSON parser refuses the body itself, as a transport error. (The body
    // is written as text: a serde_json value this deep would overflow the test's own stack.)
    for depth in [200, 10 * NOT_CRASHED_AT] {
        let wrappers = depth - 2;
        let text = format!(
            "{{\"query\": {}, \"variables\": {{\"f\": {}{{\"name\": {{\"eq\": \"x\"}}}}{}}}}}",
            json!(by_variable),
            "{\"not\": ".repeat(wrappers),
            "}".repeat(wrappers)
        );
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the server is gone after a variable {depth} deep: {e}"));
        assert_eq!(response.status().as_u16(), 400, "a variable {depth} deep");
        let answer: Value = response.json().await.unwrap_or_default();
        assert_eq!(error_codes(&answer), ["BAD_REQUEST"], "{answer:#}");
    }

    assert_still_serving(app).await;
}

#[tokio::test]
async fn deeply_nested_inputs_are_refused_on_postgres() {
    let app = spawn_app().await;
    nested_inputs_are_refused_on(&app).await;
}

#[tokio::test]
async fn deeply_nested_inputs_are_refused_on_sqlite() {
    let app = spawn_embedded_app().await;
    nested_inputs_are_refused_on(&app).await;
}

#[tokio::test]
async fn the_nesting_bound_holds_when_the_text_limits_are_raised() {
    // With the byte and token caps out of the way, ten times every crashing depth reaches the
    // nesting check itself.
    let app = spawn_app_with(|s| {
        s.http.max_body_bytes = 4 << 20;
        s.graphql.max_query_bytes = 2 << 20;
        s.graphql.max_tokens = 1_000_000;
    })
    .await;
    for (what, filter) in [
        ("not", not_chain(10 * NOT_CRASHED_AT)),
        ("and", junction_chain("and", 10 * AND_OR_CRASHED_AT)),
        ("or", junction_chain("or", 10 * AND_OR_CRASHED_AT)),
        ("parent", parent_chain(10 * PARENT_CRASHED_AT)),
    ] {
        let (_, answer) = post(&app, &json!({ "query": organizations(&filter) })).await;
        assert_eq!(error_codes(&answer), ["QUERY_TOO_COMPLEX"], "{what}");
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("levels deep"),
            "{what}: the nesting check refused it, not another limit: {message}"
        );
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn the_input_depth_is_configurable() {
    let app = spawn_app_with(|s| s.graphql.max_input_depth = 4).await;
    let (_, answer) = post(&app, &json!({ "query": organizations(&not_chain(4)) })).await;
    assert!(answer["errors"].is_null(), "4 levels pass: {answer:#}");
    let (_, answer) = post(&app, &json!({ "query": organizations(&not_chain(5)) })).await;
    assert_eq!(error_codes(&answer), ["QUERY_TOO_COMPLEX"], "{answer:#}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`filter`") && message.contains("at most 4"),
        "the message names the argument and the limit: {message}"
    );
}
