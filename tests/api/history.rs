//! Record history (`history` on every record, from the audit log): the entries and the fields
//! each changed, paging, who sees the actor, what many records' histories cost; the embedded
//! SQLite store too.

use partnerships::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, auth_settings, error_codes, read, spawn_app_with_auth, spawn_embedded_app_with, token,
};

fn editor() -> String {
    token(Role::Editor, "eddie")
}

fn admin() -> String {
    token(Role::Admin, "ada")
}

/// `data` of an operation run as `token`, asserting no errors.
async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let body = app.graphql_as(token, query, variables).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"].clone()
}

const CREATE: &str = r#"mutation($parent: ID) {
  createOrganization(input: {slug: "labour-lab", name: "Labour Lab", kind: NETWORK, parent: $parent}) {
    record { id version }
  }
}"#;

const UPDATE: &str = r#"mutation($input: UpdateOrganizationInput!) {
  updateOrganization(input: $input) { record { version } auditEntry { id } }
}"#;

const HISTORY: &str = r#"query($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Organization {
      history(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id version action changes { field before after } } }
      }
    }
  }
}"#;

/// A new organization (under the ILO), renamed, then given an acronym and a website: its id
/// and the audit entry ids of the two updates.
async fn created_and_updated_twice(app: &TestApp) -> (String, String, String) {
    let (ilo, _) = read(app, "organization", "ilo").await;
    let created = ok(app, &editor(), CREATE, json!({ "parent": ilo })).await;
    let id = created["createOrganization"]["record"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let renamed = ok(
        app,
        &editor(),
        UPDATE,
        json!({ "input": { "id": id, "version": 1, "name": "Labour Laboratory" } }),
    )
    .await;
    let given = ok(
        app,
        &editor(),
        UPDATE,
        json!({ "input": { "id": id, "version": 2, "acronym": "LL", "website": "https://ll.example.org" } }),
    )
    .await;
    let entry = |data: &Value| {
        data["updateOrganization"]["auditEntry"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no audit entry: {data}"))
            .to_owned()
    };
    (id, entry(&renamed), entry(&given))
}

#[tokio::test]
async fn history_lists_a_records_changes_newest_first_with_the_fields_each_changed() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let (id, renamed, given) = created_and_updated_twice(&app).await;

    let first = app.data(HISTORY, json!({ "id": id, "first": 2 })).await;
    let history = &first["node"]["history"];
    assert_eq!(history["totalCount"], 3, "a create and two updates");
    assert_eq!(history["pageInfo"]["hasNextPage"], true);
    assert_eq!(history["pageInfo"]["hasPreviousPage"], false);
    let edges = history["edges"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        edges.iter().map(|e| e["node"].clone()).collect::<Vec<_>>(),
        [
            json!({ "id": given, "version": 3, "action": "UPDATED", "changes": [
                { "field": "acronym", "before": null, "after": "LL" },
                { "field": "website", "before": null, "after": "https://ll.example.org" },
            ] }),
            json!({ "id": renamed, "version": 2, "action": "UPDATED", "changes": [
                { "field": "name", "before": "Labour Lab", "after": "Labour Laboratory" },
            ] }),
        ],
        "newest first, each with only the fields it changed"
    );
    assert_eq!(
        history["pageInfo"]["endCursor"], edges[1]["cursor"],
        "the page ends at its last edge"
    );

    let rest = app
        .data(
            HISTORY,
            json!({ "id": id, "first": 2, "after": history["pageInfo"]["endCursor"] }),
        )
        .await;
    let history = &rest["node"]["history"];
    assert_eq!(history["pageInfo"]["hasNextPage"], false);
    assert_eq!(history["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(
        history["edges"][0]["node"],
        json!({ "id": history["edges"][0]["node"]["id"], "version": 1, "action": "CREATED", "changes": [
            { "field": "kind", "before": null, "after": "NETWORK" },
            { "field": "name", "before": null, "after": "Labour Lab" },
            { "field": "parent", "before": null, "after": ilo },
            { "field": "slug", "before": null, "after": "labour-lab" },
        ] }),
        "the creation lists the fields it set, enums and references as the API shows them"
    );
    assert_eq!(history["edges"].as_array().map(Vec::len), Some(1));

    let forged = app
        .graphql(HISTORY, json!({ "id": id, "after": "not-a-cursor" }))
        .await;
    assert_eq!(
        error_codes(&forged),
        ["BAD_USER_INPUT"],
        "a forged cursor: {forged:#}"
    );
    let seeded = app
        .data(
            r#"{ organization(by: {slug: "ilo"}) { history { totalCount nodes { action } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        seeded["organization"]["history"],
        json!({ "totalCount": 0, "nodes": [] }),
        "the seed writes no audit entries"
    );
}

#[tokio::test]
async fn the_actor_of_a_change_is_shown_to_admins_only() {
    let app = spawn_app_with_auth().await;
    let (id, _, _) = created_and_updated_twice(&app).await;
    let query = r#"query($id: ID!) { node(id: $id) { ... on Organization { history(first: 1) { nodes { action actor } } } } }"#;

    let as_admin = ok(&app, &admin(), query, json!({ "id": id })).await;
    assert_eq!(
        as_admin["node"]["history"]["nodes"],
        json!([{ "action": "UPDATED", "actor": "eddie" }])
    );
    for (who, body, code) in [
        (
            "an editor",
            app.graphql_as(&editor(), query, json!({ "id": id })).await,
            "FORBIDDEN",
        ),
        (
            "a reader without a token",
            app.graphql(query, json!({ "id": id })).await,
            "UNAUTHENTICATED",
        ),
    ] {
        assert_eq!(error_codes(&body), [code], "{who}: {body:#}");
        assert_eq!(
            body["errors"][0]["path"],
            json!(["node", "history", "nodes", 0, "actor"]),
            "{who}: the error is on the actor alone"
        );
        let entry = &body["data"]["node"]["history"]["nodes"][0];
        assert_eq!(entry["action"], "UPDATED", "{who} still reads the entry");
        assert_eq!(entry["actor"], Value::Null, "{who}: no actor");
    }
}

const MANY_HISTORIES: &str = r#"query($first: Int) {
  organizations(first: $first) {
    nodes {
      slug
      history(first: 3) {
        totalCount
        pageInfo { hasNextPage }
        nodes { version action at changes { field before after } }
      }
    }
  }
}"#;

#[tokio::test]
async fn the_history_of_many_records_costs_a_fixed_number_of_statements() {
    let app = spawn_app_with_auth().await;
    // 50 organizations: the seed's 20 (without history) and 30 new ones (created), three of
    // the seed's with more changes than a page holds.
    for n in 0..30 {
        ok(
            &app,
            &editor(),
            r#"mutation($slug: String!) { createOrganization(input: {slug: $slug, name: $slug, kind: OTHER}) { record { id } } }"#,
            json!({ "slug": format!("extra-{n}") }),
        )
        .await;
    }
    for slug in ["ilo", "oecd", "unctad"] {
        for n in 0..4 {
            let (id, version) = read(&app, "organization", slug).await;
            ok(
                &app,
                &editor(),
                UPDATE,
                json!({ "input": { "id": id, "version": version, "description": format!("Take {n}.") } }),
            )
            .await;
        }
    }

    let (two, for_two) = app
        .fewest_statements(MANY_HISTORIES, json!({ "first": 2 }))
        .await;
    let (fifty, for_fifty) = app
        .fewest_statements(MANY_HISTORIES, json!({ "first": 50 }))
        .await;

    assert_eq!(
        two["organizations"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );
    let nodes = fifty["organizations"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 50);
    let ilo = nodes
        .iter()
        .find(|n| n["slug"] == "ilo")
        .unwrap_or_else(|| panic!("the ILO is among the first 50: {fifty:#}"));
    assert_eq!(ilo["history"]["totalCount"], 4);
    assert_eq!(ilo["history"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        ilo["history"]["nodes"][0]["changes"],
        json!([{ "field": "description", "before": "Take 2.", "after": "Take 3." }])
    );
    // The page of organizations, one statement for every history page and one for every
    // history count.
    assert_eq!(for_fifty, 3, "50 histories");
    assert_eq!(for_two, for_fifty, "2 histories cost what 50 do");
}

#[tokio::test]
async fn history_works_on_the_embedded_store() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    created_and_updated_twice(&app).await;

    let many = app
        .data(
            r#"{ organizations(first: 50) { nodes { slug history(first: 1) { totalCount nodes { action version } } } } }"#,
            json!({}),
        )
        .await;
    let ours = many["organizations"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["slug"] == "labour-lab").cloned())
        .unwrap_or_else(|| panic!("the new organization is listed: {many:#}"));
    assert_eq!(
        ours["history"],
        json!({ "totalCount": 3, "nodes": [{ "action": "UPDATED", "version": 3 }] })
    );
}
