//! The end-to-end path: HTTP → GraphQL → loaders → PostgreSQL, asserting facts of the ILO page.

use serde_json::{Value, json};

use crate::helpers::{error_codes, sorted, spawn_app};

const GLOBAL_FRAMEWORK: &str = r#"
query GlobalFramework {
  agreement(by: { slug: "ilo-undp-global-framework-of-action" }) {
    title
    kind
    signedOn
    parties { totalCount edges { role since node { name acronym } } }
  }
}"#;

#[tokio::test]
async fn the_parties_to_the_global_framework_of_action_are_ilo_and_undp_since_2020() {
    let app = spawn_app().await;

    let data = app.data(GLOBAL_FRAMEWORK, json!({})).await;

    let gfa = &data["agreement"];
    assert_eq!(gfa["signedOn"], "2020");
    assert_eq!(gfa["kind"], "FRAMEWORK_OF_ACTION");
    assert_eq!(
        sorted(&gfa["parties"]["edges"], "/node/acronym"),
        ["ILO", "UNDP"]
    );
    assert_eq!(gfa["parties"]["totalCount"], 2);
    assert!(
        gfa["parties"]["edges"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["role"] == "SIGNATORY"))
    );
}

const NESTED: &str = r#"
query Nested($first: Int, $filter: OrganizationFilter) {
  organizations(first: $first, filter: $filter) {
    totalCount
    edges {
      cursor
      node {
        slug
        parent { slug }
        agreements(first: 10) {
          edges { role node { title parties(first: 5) { edges { role node { slug } } } } }
        }
      }
    }
  }
}"#;

#[tokio::test]
async fn a_nested_query_costs_the_same_statements_for_2_or_50_organizations() {
    let app = spawn_app().await;

    let before = app.statements();
    // Two organizations with a parent and agreements, so every relation level is asked for.
    let two = json!({ "slug": { "in": ["ilo", "working-group-business-human-rights"] } });
    let small = app.data(NESTED, json!({ "first": 2, "filter": two })).await;
    let for_two = app.statements() - before;
    let before = app.statements();
    let large = app.data(NESTED, json!({ "first": 50 })).await;
    let for_fifty = app.statements() - before;

    assert_eq!(
        small["organizations"]["edges"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(
        large["organizations"]["edges"]
            .as_array()
            .is_some_and(|e| e.len() >= 20)
    );
    // page + totalCount + parents + agreements of the organizations (with the agreements
    // joined) + parties of those agreements (with the organizations joined): one statement
    // each, however many rows.
    assert_eq!(
        for_two, for_fifty,
        "statements must not grow with the number of rows"
    );
    assert_eq!(for_fifty, 5, "one statement per level of a 4-level query");
}

#[tokio::test]
async fn the_ilo_takes_part_in_the_un_global_compact_since_1999() {
    let app = spawn_app().await;

    let data = app
        .data(
            r#"{ organization(by: { slug: "ilo" }) { name agreements(first: 100) { edges { role since node { slug parties { nodes { slug } } } } } } }"#,
            json!({}),
        )
        .await;

    let ilo = &data["organization"];
    assert_eq!(ilo["name"], "International Labour Organization");
    let edges = ilo["agreements"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let with_compact = |edge: &&Value| {
        edge["node"]["parties"]["nodes"]
            .as_array()
            .is_some_and(|parties| parties.iter().any(|x| x["slug"] == "ungc"))
    };
    let compact = edges
        .iter()
        .find(with_compact)
        .unwrap_or_else(|| panic!("no agreement with the UN Global Compact: {ilo:#}"));
    assert_eq!(
        compact["since"], "1999",
        "the ILO has worked with the Compact since its launch"
    );
    assert!(compact["role"].is_string());
}

#[tokio::test]
async fn pages_of_organizations_cover_the_list_once() {
    let app = spawn_app().await;
    let query = r#"query Page($after: String) {
      organizations(first: 7, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        nodes { slug }
      }
    }"#;

    let mut slugs: Vec<String> = Vec::new();
    let mut after = Value::Null;
    let mut total = 0;
    for _ in 0..100 {
        let data = app.data(query, json!({ "after": after })).await;
        let page = &data["organizations"];
        total = page["totalCount"].as_u64().unwrap_or_default();
        slugs.extend(sorted(&page["nodes"], "/slug"));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }

    let mut unique = slugs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), slugs.len(), "no organization appears twice");
    assert_eq!(slugs.len() as u64, total, "the pages add up to totalCount");
    assert!(slugs.contains(&"waipa".to_owned()));
}

#[tokio::test]
async fn an_organization_is_found_again_by_its_global_id() {
    let app = spawn_app().await;
    let by_slug = app
        .data(
            r#"{ organization(by: { slug: "unctad" }) { id name } }"#,
            json!({}),
        )
        .await;
    let id = by_slug["organization"]["id"].clone();

    let by_id = app
        .data(
            "query ($id: ID!) { organization(by: { id: $id }) { slug } }",
            json!({ "id": id }),
        )
        .await;

    assert_eq!(by_id["organization"]["slug"], "unctad");
}

#[tokio::test]
async fn bad_arguments_are_bad_user_input_with_a_message() {
    let app = spawn_app().await;
    let cases = [
        (
            "a page above the maximum",
            "{ organizations(first: 1000) { totalCount } }",
        ),
        (
            "a negative page",
            "{ organizations(first: -1) { totalCount } }",
        ),
        (
            "a cursor that is not one",
            r#"{ organizations(after: "not-a-cursor") { totalCount } }"#,
        ),
        (
            "an ID that is not one",
            r#"{ organization(by: { id: "bm9wZQ" }) { name } }"#,
        ),
        (
            "an agreement's ID where an organization's is expected",
            r#"{ organization(by: { id: "QWdyZWVtZW50OjE" }) { name } }"#,
        ),
    ];
    for (reason, query) in cases {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{reason}: {body:#}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && !message.contains("SELECT"),
            "{reason}: {message}"
        );
    }
}

#[tokio::test]
async fn an_unknown_slug_is_null_not_an_error() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ organization(by: { slug: "no-such-body" }) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["organization"], Value::Null);
}

#[tokio::test]
async fn browsers_get_graphiql_and_the_health_endpoints_answer() {
    let app = spawn_app().await;

    let page = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap_or_default();
    assert!(html.to_lowercase().contains("graphiql"), "{html}");

    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body["status"], status, "{path}");
    }
}

#[tokio::test]
async fn a_query_over_get_is_answered() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[(
            "query",
            r#"{ agreement(by: { slug: "ilo-undp-global-framework-of-action" }) { signedOn } }"#,
        )])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["data"]["agreement"]["signedOn"], "2020", "{body:#}");
}

#[tokio::test]
async fn a_database_with_pending_migrations_is_not_ready() {
    let unmigrated = crate::helpers::TestDb::empty().await;
    let app = partnerships::startup::Application::build(crate::helpers::settings(
        Some(&unmigrated.url),
        std::path::PathBuf::new(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let ready = reqwest::get(format!("{address}/readyz"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap_or_default();
    assert_eq!(body["status"], "migrations pending");
    let alive = reqwest::get(format!("{address}/healthz"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        alive.status(),
        200,
        "the process lives even when it cannot serve"
    );
}
