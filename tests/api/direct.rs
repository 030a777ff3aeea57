//! Compiled reads (`graphql::direct`): a document of the common nested shape, once it has run
//! through async-graphql without an error, is answered from a plan that writes rows straight
//! into JSON. The answer must be the same, byte for byte, with the same statements; documents
//! of other shapes keep async-graphql's path.

use partnerships::generate;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_embedded_app};

/// Documents of the shape plans answer, between them every field and level they know: each
/// record type's plain fields, every connection through a link table, `nodes` and `edges`,
/// roles and `since`, `__typename`, aliases, named operations, an empty page, a missing record.
const COMPILED: &[&str] = &[
    // The nested list and deep workloads of `scripts/bench`.
    r#"query NestedList { organizations(first: 20) { nodes { slug name
        agreements(first: 10) { edges { role node { title signedOn
          parties(first: 10) { edges { role node { slug name kind } } } } } } } } }"#,
    r#"{ organization(by: { slug: "ilo" }) { projects(first: 5) { edges { node { name
        events(first: 5) { nodes { name startsOn participants(first: 5) { edges { role node { slug
          agreements(first: 5) { edges { node { title parties(first: 5) { nodes { slug name } } } } }
        } } } } } } } } } }"#,
    "{ organizations(first: 50) { nodes { __typename id slug version name acronym kind website description } } }",
    r#"{ agreements(first: 40) { edges { node { id slug version title kind signedOn summary
        parties(first: 3) { edges { since role node { slug } } }
        instruments { edges { role node { id slug version name acronym kind adoptedOn url description } } } } } } }"#,
    r#"{ projects(first: 40) { nodes { id slug version name kind status summary startsOn endsOn
        participants { edges { role node { slug } } } instruments(first: 2) { nodes { slug } } } } }"#,
    r#"{ events(first: 60) { nodes { id slug version name kind summary startsOn endsOn location recurrence
        participants(first: 3) { edges { role node { name } } } instruments { edges { role } } } } }"#,
    r#"{ instruments { nodes { slug agreements(first: 5) { nodes { title } }
        projects(first: 5) { edges { role node { name } } } events(first: 5) { nodes { name startsOn } } } } }"#,
    r#"query Hub { ilo: organization(by: { slug: "ilo" }) { __typename name
        none: agreements(first: 0) { nodes { title } } events { edges { node { name } } }
        projects(first: 3) { edges { role } } }
      nobody: organization(by: { slug: "nobody-at-all" }) { name } }"#,
    r#"{ b: projects(first: 2) { nodes { n: name } } a: organizations(first: 2) { edges { node { s: slug } } }
        agreement(by: { slug: "ilo-ungc-partnership" }) { title parties { edges { since node { name } } } } }"#,
    // Connections of child records.
    r#"{ organization(by: { slug: "ilo" }) { children { nodes { slug name } } }
      agreements(first: 20) { nodes { title projects(first: 3) { nodes { name events(first: 2) { edges { node { name
        sessions(first: 3) { nodes { name startsOn } } } } } } } events(first: 5) { nodes { slug } } } } }"#,
];

/// Documents plans leave to async-graphql: a count, a cursor, a filter, a variable, a
/// fragment, a directive, `pageInfo`, one key twice, a field no plan knows.
const NOT_COMPILED: &[&str] = &[
    "{ organizations(first: 2) { totalCount nodes { slug } } }",
    "{ organizations(first: 2) { edges { cursor node { slug } } } }",
    r#"{ organizations(first: 2, filter: { kind: { eq: UN_SYSTEM_ENTITY } }) { nodes { slug } } }"#,
    "query ($n: Int) { organizations(first: $n) { nodes { slug } } }",
    "{ organizations(first: 2) { nodes { ...N } } } fragment N on Organization { slug }",
    "{ organizations(first: 2) { nodes { slug @include(if: true) } } }",
    "{ organizations(first: 2) { pageInfo { hasNextPage } nodes { slug } } }",
    "{ organizations(first: 2) { nodes { slug slug } } }",
    r#"{ organization(by: { slug: "ilo" }) { parent { slug } } }"#,
];

/// How many reads plans have answered, from the metrics.
async fn compiled(app: &TestApp) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix("partnerships_graphql_compiled_reads_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no compiled reads counter in the metrics:\n{text}"))
}

/// The body of `query` sent with `operationName`.
async fn with_operation(app: &TestApp, query: &str, operation: &str) -> String {
    app.client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query, "operationName": operation }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The body of one request and the statements it cost.
async fn answer(app: &TestApp, query: &str) -> (String, u64) {
    let before = app.statements();
    let text = app.graphql_text(query, json!({})).await;
    (text, app.statements() - before)
}

/// Each compiled document answers the same, byte for byte and statement for statement, the
/// first time (async-graphql) and then (the plan); each other document never goes to a plan.
async fn answers_as_async_graphql(app: &TestApp) {
    for query in COMPILED {
        let count = compiled(app).await;
        let (first, first_statements) = answer(app, query).await;
        assert!(
            !first.contains("\"errors\""),
            "the document must run cleanly: {first}\n{query}"
        );
        assert_eq!(
            compiled(app).await,
            count,
            "the first run is async-graphql's"
        );
        let (again, statements) = answer(app, query).await;
        assert_eq!(
            compiled(app).await,
            count + 1,
            "the second run is the plan's: {query}"
        );
        assert_eq!(again, first, "the plan's answer differs for {query}");
        assert_eq!(
            statements, first_statements,
            "the plan's statements differ for {query}"
        );
    }
    let count = compiled(app).await;
    for query in NOT_COMPILED {
        let (first, _) = answer(app, query).await;
        let (again, _) = answer(app, query).await;
        assert_eq!(again, first, "{query}");
    }
    assert_eq!(compiled(app).await, count, "no plan for those");
}

#[tokio::test]
async fn a_compiled_read_answers_as_async_graphql_on_postgres() {
    let app = spawn_app().await;
    answers_as_async_graphql(&app).await;
}

#[tokio::test]
async fn a_compiled_read_answers_as_async_graphql_over_generated_records() {
    // Generated records add hubs, full pages, dates of every precision and missing values.
    let app = spawn_app().await;
    let options = generate::Options {
        scale: 0.01,
        seed: 7,
        progress: false,
    };
    generate::run(&app.store.connection, options)
        .await
        .unwrap_or_else(|e| panic!("generating: {e:#}"));
    answers_as_async_graphql(&app).await;
}

#[tokio::test]
async fn a_compiled_read_answers_as_async_graphql_on_the_embedded_store() {
    let app = spawn_embedded_app().await;
    answers_as_async_graphql(&app).await;
}

#[tokio::test]
async fn a_plan_is_used_only_after_a_clean_run_and_for_its_own_operation() {
    let app = spawn_app().await;
    // An error (here a page above the maximum) proves nothing: every run stays async-graphql's.
    let refused = "{ organizations(first: 500) { nodes { slug } } }";
    for _ in 0..2 {
        let body = app.graphql(refused, json!({})).await;
        assert!(body["errors"].is_array(), "{body}");
    }
    assert_eq!(compiled(&app).await, 0);

    // A request naming another operation than the document's is refused as before.
    let named = "query Mine { organizations(first: 1) { nodes { slug } } }";
    let clean = app.graphql_text(named, json!({})).await;
    let other = with_operation(&app, named, "Other").await;
    assert!(other.contains("\"errors\""), "{other}");
    assert_eq!(compiled(&app).await, 0);
    let body = with_operation(&app, named, "Mine").await;
    assert_eq!(body, clean);
    assert!(
        body.starts_with(r#"{"data":{"organizations":{"nodes":[{"slug":""#),
        "{body}"
    );
    assert_eq!(compiled(&app).await, 1);
}
