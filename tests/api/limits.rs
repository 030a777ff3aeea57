//! Hostile operations are refused before they reach the database, each with a stable code;
//! requests that do not parse or validate carry codes too.

use partnerships::{config::GraphqlSettings, graphql};
use serde_json::json;

use crate::helpers::{error_codes, spawn_app};

fn deep_parents(levels: usize) -> String {
    let mut query = String::from("{ organization(by: { slug: \"ilo-governing-body\" }) { ");
    query.push_str(&"parent { ".repeat(levels));
    query.push_str("name");
    query.push_str(&" }".repeat(levels));
    query.push_str(" } }");
    query
}

#[tokio::test]
async fn attack_queries_are_refused_with_a_code_and_touch_no_table() {
    let app = spawn_app().await;
    let aliases: String = (0..31)
        .map(|i| format!("a{i}: organizations(first: 1) {{ totalCount }} "))
        .collect();
    let duplicated = format!(
        "{{ organizations(first: 1) {{ nodes {{ {} }} }} }}",
        "name ".repeat(3_000)
    );
    let directives_on_one_field = format!(
        "{{ organizations(first: 1) {{ totalCount {} }} }}",
        "@include(if: true) ".repeat(6)
    );
    let directives_spread: String = (0..26)
        .map(|i| format!("a{i}: organizations(first: 1) @include(if: true) {{ totalCount @skip(if: false) }} "))
        .collect();
    let huge = format!(
        "{{ organizations(first: 1) {{ totalCount }} }} #{}",
        "x".repeat(40_000)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("alias overloading", format!("{{ {aliases} }}"), "QUERY_TOO_COMPLEX"),
        ("field duplication", duplicated, "QUERY_TOO_COMPLEX"),
        ("deep nesting", deep_parents(20), "QUERY_TOO_COMPLEX"),
        ("directives stacked on one field", directives_on_one_field, "QUERY_TOO_COMPLEX"),
        ("directives across the operation", format!("{{ {directives_spread} }}"), "QUERY_TOO_COMPLEX"),
        (
            "circular fragments",
            "query { organizations { nodes { ...A } } } fragment A on Organization { parent { ...B } } fragment B on Organization { parent { ...A } }".into(),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "huge pages nested three deep",
            "{ organizations(first: 100) { nodes { agreements(first: 100) { nodes { parties(first: 100) { nodes { name } } } } } } }".into(),
            "QUERY_TOO_COMPLEX",
        ),
        ("a page above the maximum", "{ organizations(first: 1000) { totalCount } }".into(), "BAD_USER_INPUT"),
        ("a query of 40 KB", huge, "QUERY_TOO_COMPLEX"),
        ("a query that does not parse", "{ organizations { nodes { name }".into(), "GRAPHQL_PARSE_FAILED"),
        ("a field that does not exist", "{ organizations { nodes { budget } } }".into(), "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (attack, query, code) in cases {
        let before = app.statements();
        let body = app.graphql(&query, json!({})).await;
        let codes = error_codes(&body);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == code),
            "{attack}: expected {code}, got {body:#}"
        );
        if code != "BAD_USER_INPUT" {
            assert_eq!(app.statements(), before, "{attack} reached the database");
        }
    }
}

#[tokio::test]
async fn ordinary_nested_queries_stay_within_the_limits() {
    let app = spawn_app().await;
    // Three nested lists with default pages: 20 × 20 × 20 leaves.
    app.data(
        "{ organizations { nodes { name agreements { nodes { title parties { nodes { name } } } } } } }",
        json!({}),
    )
    .await;
    app.data(&deep_parents(10), json!({})).await;
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let closed = api(&GraphqlSettings {
        introspection: false,
        suggestions: false,
        ..GraphqlSettings::default()
    })
    .await;
    let response = run(&closed, "{ __schema { types { name } } }").await;
    let data = response.data.into_json().unwrap_or_default();
    assert!(
        data["__schema"].is_null(),
        "no schema is revealed when introspection is off: {data}"
    );
    let response = run(&closed, "{ organizatons { totalCount } }").await;
    let message = &response
        .errors
        .first()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        !message.contains("Did you mean"),
        "no suggestion: {message}"
    );

    let open = api(&GraphqlSettings::default()).await;
    let response = run(&open, "{ organizatons { totalCount } }").await;
    let message = &response
        .errors
        .first()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("Did you mean"),
        "suggestions by default: {message}"
    );
}

#[tokio::test]
async fn batched_requests_are_refused() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!([{ "query": "{ organizations { totalCount } }" }, { "query": "{ agreements { totalCount } }" }]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        response.status().is_client_error(),
        "a batch got {}",
        response.status()
    );
}

#[tokio::test]
async fn a_broken_database_gives_a_fixed_message_and_a_request_id_never_sql() {
    use sea_orm::ConnectionTrait;

    let app = spawn_app().await;
    app.store
        .connection
        .execute_unprepared("DROP TABLE agreement_parties")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ agreement(by: { slug: \"ilo-undp-global-framework-of-action\" }) { parties { nodes { name } } } }" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap_or_default();

    assert_eq!(error_codes(&body), ["INTERNAL_SERVER_ERROR"], "{body:#}");
    assert_eq!(body["errors"][0]["message"], "Internal server error.");
    let text = body.to_string().to_lowercase();
    for leak in [
        "agreement_parties",
        "select",
        "relation",
        "does not exist",
        "sqlx",
        ".rs",
    ] {
        assert!(!text.contains(leak), "the answer leaks {leak:?}: {body:#}");
    }
    assert!(!header_id.is_empty(), "every answer has an x-request-id");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        header_id.as_str(),
        "the client can quote the logged request id"
    );
}

#[tokio::test]
async fn postgres_cancels_a_statement_that_runs_too_long() {
    use partnerships::{config::DatabaseUrl, store};
    use sea_orm::ConnectionTrait;
    use std::str::FromStr;

    let test_db = crate::helpers::TestDb::empty().await;
    let mut settings =
        crate::helpers::settings(Some(&test_db.url), std::path::PathBuf::new()).database;
    settings.database_url =
        Some(DatabaseUrl::from_str(&test_db.url).unwrap_or_else(|e| panic!("{e}")));
    settings.statement_timeout_ms = 200;
    let db = store::connect(&settings)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
        .connection;

    let slow = db.execute_unprepared("SELECT pg_sleep(2)").await;

    let message = slow.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("statement timeout"),
        "the statement was cancelled: {message:?}"
    );
    db.execute_unprepared("SELECT 1")
        .await
        .unwrap_or_else(|e| panic!("a quick statement still runs: {e}"));
}

#[tokio::test]
async fn arguments_that_would_only_burden_the_database_are_bad_user_input() {
    let app = spawn_app().await;
    let ids: Vec<String> = (0..101).map(|i| format!("slug-{i}")).collect();
    let five_keys = json!([{ "field": "NAME" }, { "field": "SLUG" }, { "field": "KIND" }, { "field": "ACRONYM" }, { "field": "NAME", "direction": "DESC" }]);
    let cases = [
        (
            "five sort keys",
            "query ($o: [OrganizationOrder!]) { organizations(orderBy: $o) { totalCount } }",
            json!({ "o": five_keys }),
            "BAD_USER_INPUT",
        ),
        (
            "a field sorted twice",
            "query ($o: [OrganizationOrder!]) { organizations(orderBy: $o) { totalCount } }",
            json!({ "o": [{ "field": "NAME" }, { "field": "NAME", "direction": "DESC" }] }),
            "BAD_USER_INPUT",
        ),
        (
            "a forged cursor whose values do not fit the columns",
            "query ($a: String) { organizations(after: $a) { totalCount } }",
            json!({ "a": "eyJvIjogIm5hbWU6YXNjLGlkIiwgImsiOiBbeyJpIjogMX0sIHsiaSI6IDV9XX0" }),
            "BAD_USER_INPUT",
        ),
        (
            "a forged cursor on a nested list",
            "query ($a: String) { organization(by: { slug: \"ilo\" }) { agreements(after: $a) { totalCount } } }",
            json!({ "a": "eyJvIjogIm5hbWU6YXNjLGlkIiwgImsiOiBbeyJpIjogMX0sIHsiaSI6IDV9XX0" }),
            "BAD_USER_INPUT",
        ),
        (
            "an `in` list of 101 values",
            "query ($ids: [String!]) { organizations(filter: { slug: { in: $ids } }) { totalCount } }",
            json!({ "ids": ids }),
            "BAD_USER_INPUT",
        ),
    ];
    for (reason, query, variables, code) in cases {
        let body = app.graphql(query, variables).await;
        assert_eq!(error_codes(&body), [code], "{reason}: {body:#}");
    }
}

#[tokio::test]
async fn aliases_count_at_every_spread_of_a_fragment() {
    let app = spawn_app().await;
    let aliases: String = (0..11).map(|i| format!("a{i}: name ")).collect();
    let query = format!(
        "{{ organizations(first: 1) {{ nodes {{ ...F parent {{ ...F parent {{ ...F }} }} }} }} }} fragment F on Organization {{ {aliases} }}"
    );
    let body = app.graphql(&query, json!({})).await;
    assert_eq!(
        error_codes(&body),
        ["QUERY_TOO_COMPLEX"],
        "33 aliases through 3 spreads: {body:#}"
    );
}

/// Probes that recovered the schema from error messages with introspection off: each error
/// named the type or field the client was looking for. All are refused by validation but
/// one: async-graphql's validation lets a scalar through for an object argument, which then
/// fails to coerce as the field resolves.
const PROBES: [(&str, &str); 10] = [
    (
        "an unknown field",
        r#"{ organization(by: { slug: "ilo" }) { budget } }"#,
    ),
    (
        "an object without a selection",
        r#"{ organization(by: { slug: "ilo" }) }"#,
    ),
    ("a misspelt root field", "{ organizatons { totalCount } }"),
    (
        "an unknown field of an input",
        "{ organization(by: { nope: 1 }) { name } }",
    ),
    (
        "an unknown argument and a missing one",
        "{ organization(byy: {}) { name } }",
    ),
    (
        "an enum value that does not exist",
        "{ organizations(filter: { kind: { eq: NOPE } }) { totalCount } }",
    ),
    (
        "an argument of the wrong type",
        "{ organization(by: 42) { name } }",
    ),
    (
        "a variable in the wrong position",
        "query ($x: Int) { organization(by: $x) { name } }",
    ),
    (
        "a fragment on a type that cannot be there",
        "{ organizations { nodes { ...F } } } fragment F on Agreement { title }",
    ),
    (
        "a misspelt field two lists down",
        "{ organizations { nodes { agreements { nodes { titel } } } } }",
    ),
];

/// The names of every type defined in schema.graphql.
fn schema_type_names() -> Vec<String> {
    let sdl = graphql::sdl();
    sdl.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("type" | "input" | "enum" | "interface" | "union" | "scalar") => words
                    .next()
                    .map(|name| name.trim_end_matches('{').to_owned()),
                _ => None,
            }
        })
        .collect()
}

/// Whether `word` occurs in `text` as a whole GraphQL name.
fn names(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

#[tokio::test]
async fn with_introspection_off_validation_errors_name_nothing_the_client_did_not_write() {
    let closed = api(&GraphqlSettings {
        introspection: false,
        suggestions: false,
        ..GraphqlSettings::default()
    })
    .await;
    let open = api(&GraphqlSettings::default()).await;
    let types = schema_type_names();
    assert!(types.len() > 50, "the schema's types: {types:?}");
    for (probe, query) in PROBES {
        let hidden = run(&closed, query).await;
        let detailed = run(&open, query).await;
        assert!(!hidden.errors.is_empty(), "{probe}: refused");
        for error in &hidden.errors {
            let code = error
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(ToString::to_string);
            assert_eq!(
                code.as_deref(),
                Some("\"GRAPHQL_VALIDATION_FAILED\""),
                "{probe}: {error:?}"
            );
            for name in types.iter().filter(|t| !names(query, t)) {
                assert!(
                    !names(&error.message, name),
                    "{probe}: `{}` names the type {name}, which the query does not",
                    error.message
                );
            }
            // Every quoted name (a field, an argument, a type) is one the client wrote.
            for quoted in error.message.split('"').skip(1).step_by(2) {
                for part in quoted
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|p| !p.is_empty())
                {
                    assert!(
                        names(query, part)
                            || ["Int", "Float", "String", "Boolean", "ID"].contains(&part),
                        "{probe}: `{}` names `{part}`, which the query does not",
                        error.message
                    );
                }
            }
        }
        // Where the problems are stays visible.
        let locations = |r: &async_graphql::Response| {
            r.errors
                .iter()
                .map(|e| e.locations.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            locations(&hidden),
            locations(&detailed),
            "{probe}: the same errors at the same places"
        );
    }

    // With introspection on, the messages keep their detail.
    for (probe, query, detail) in [
        (
            "an unknown field",
            PROBES[0].1,
            r#"Unknown field "budget" on type "Organization""#,
        ),
        (
            "an object without a selection",
            PROBES[1].1,
            r#"of type "Organization" must have a selection of subfields"#,
        ),
        (
            "an unknown field of an input",
            PROBES[3].1,
            r#"unknown field "nope" of type "RecordKey""#,
        ),
    ] {
        let detailed = run(&open, query).await;
        let message = detailed
            .errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        assert!(message.contains(detail), "{probe}: {message}");
    }
}

/// The server's request pipeline around the schema, with `settings`.
async fn api(settings: &GraphqlSettings) -> graphql::Api {
    graphql::Api::new(settings, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `query` (no data: only what needs no store) as a POST would.
async fn run(api: &graphql::Api, query: &str) -> async_graphql::Response {
    api.execute(async_graphql::Request::new(query), false, |r, _| r)
        .await
        .response
}
