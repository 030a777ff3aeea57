//! Record history (`history` on every record, from the audit log) and `revert`: the entries and
//! the fields each changed, paging, who sees the actor, what many records' histories cost, and
//! a revert's happy path, its CONFLICT, its forced form and every refusal leaving nothing
//! written; the embedded SQLite store too.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, auth_settings, error_codes, read, spawn_app_with_auth, spawn_embedded_app_with,
};
use crate::mutations::{admin, count_rows, editor, ok};

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

const REVERT: &str = r#"mutation($e: ID!, $force: Boolean) {
  revert(auditEntryId: $e, force: $force) {
    record { ... on Organization { id name acronym version } }
    auditEntry { action actor before after }
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
async fn revert_puts_back_the_fields_an_update_changed_as_a_new_version() {
    let app = spawn_app_with_auth().await;
    let (id, _, given) = created_and_updated_twice(&app).await;

    let data = ok(&app, &admin(), REVERT, json!({ "e": given })).await;

    let reverted = &data["revert"];
    assert_eq!(
        reverted["record"],
        json!({ "id": id, "name": "Labour Laboratory", "acronym": null, "version": 4 }),
        "the acronym and website go, the name stays, the version moves on"
    );
    assert_eq!(reverted["auditEntry"]["action"], "revert");
    assert_eq!(reverted["auditEntry"]["actor"], "ada");
    assert_eq!(reverted["auditEntry"]["before"]["acronym"], "LL");
    assert_eq!(reverted["auditEntry"]["after"]["acronym"], Value::Null);
    let website = app
        .data(
            r#"{ organization(by: {slug: "labour-lab"}) { website } }"#,
            json!({}),
        )
        .await;
    assert_eq!(website["organization"]["website"], Value::Null);
    let history = app.data(HISTORY, json!({ "id": id, "first": 1 })).await;
    let newest = &history["node"]["history"]["edges"][0]["node"];
    assert_eq!(newest["action"], "REVERTED");
    assert_eq!(newest["version"], 4);
    assert_eq!(
        newest["changes"],
        json!([
            { "field": "acronym", "before": "LL", "after": null },
            { "field": "website", "before": "https://ll.example.org", "after": null },
        ])
    );

    // Reverting the revert brings the update back.
    let undo = ok(&app, &admin(), REVERT, json!({ "e": newest["id"] })).await;
    assert_eq!(undo["revert"]["record"]["acronym"], "LL");
    assert_eq!(undo["revert"]["record"]["version"], 5);
}

#[tokio::test]
async fn revert_after_a_later_change_is_a_conflict_and_writes_nothing() {
    let app = spawn_app_with_auth().await;
    let (id, renamed, _) = created_and_updated_twice(&app).await;
    let entries = count_rows(&app, "audit_entries").await;

    let body = app
        .graphql_as(&admin(), REVERT, json!({ "e": renamed }))
        .await;

    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "version");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("left it at version 2, it is now at version 3")
            && message.contains("force: true"),
        "says what moved and how to go on: {message}"
    );
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        count_rows(&app, "audit_entries").await,
        entries,
        "no audit entry"
    );
    let (_, version) = read(&app, "organization", "labour-lab").await;
    assert_eq!(version, 3, "the record is untouched ({id})");
}

#[tokio::test]
async fn a_forced_revert_puts_back_what_that_update_changed_and_keeps_later_changes() {
    let app = spawn_app_with_auth().await;
    let (_, renamed, _) = created_and_updated_twice(&app).await;

    let data = ok(
        &app,
        &admin(),
        REVERT,
        json!({ "e": renamed, "force": true }),
    )
    .await;

    let record = &data["revert"]["record"];
    assert_eq!(record["name"], "Labour Lab", "the rename is undone");
    assert_eq!(record["acronym"], "LL", "the later update stays");
    assert_eq!(record["version"], 4);
    assert_eq!(data["revert"]["auditEntry"]["action"], "revert");
}

#[tokio::test]
async fn revert_refuses_what_it_cannot_revert_and_writes_nothing() {
    let app = spawn_app_with_auth().await;
    let (_, renamed, given) = created_and_updated_twice(&app).await;
    // The creation's entry: the oldest of the record's history.
    let (id, _) = read(&app, "organization", "labour-lab").await;
    let history = app.data(HISTORY, json!({ "id": id })).await;
    let creation = history["node"]["history"]["edges"][2]["node"]["id"].clone();
    // A record deleted after its update.
    let (unctad, version) = read(&app, "organization", "unctad").await;
    let updated = ok(
        &app,
        &editor(),
        UPDATE,
        json!({ "input": { "id": unctad, "version": version, "acronym": "UNCTAD!" } }),
    )
    .await;
    let of_deleted = updated["updateOrganization"]["auditEntry"]["id"].clone();
    ok(
        &app,
        &admin(),
        r#"mutation($id: ID!, $v: Int!) { deleteOrganization(input: {id: $id, version: $v, detachLinks: true}) { deletedId } }"#,
        json!({ "id": unctad, "v": version + 1 }),
    )
    .await;
    let entries = count_rows(&app, "audit_entries").await;

    for (why, who, entry, code) in [
        (
            "a creation is no update",
            admin(),
            creation,
            "BAD_USER_INPUT",
        ),
        ("no such entry", admin(), json!("999999"), "NOT_FOUND"),
        ("not an entry id", admin(), json!("abc"), "BAD_USER_INPUT"),
        (
            "the record was deleted since",
            admin(),
            of_deleted,
            "NOT_FOUND",
        ),
        (
            "an editor may not revert",
            editor(),
            json!(given),
            "FORBIDDEN",
        ),
    ] {
        let body = app.graphql_as(&who, REVERT, json!({ "e": entry })).await;
        assert_eq!(error_codes(&body), [code], "{why}: {body:#}");
        assert_eq!(body["data"], Value::Null, "{why}");
        assert_eq!(
            count_rows(&app, "audit_entries").await,
            entries,
            "{why}: nothing written"
        );
    }
    let body = app.graphql(REVERT, json!({ "e": renamed })).await;
    assert_eq!(
        error_codes(&body),
        ["UNAUTHENTICATED"],
        "no token: {body:#}"
    );
    let creation_message = app
        .graphql_as(
            &admin(),
            REVERT,
            json!({ "e": history["node"]["history"]["edges"][2]["node"]["id"] }),
        )
        .await;
    assert_eq!(
        creation_message["errors"][0]["extensions"]["field"],
        "auditEntryId"
    );
    assert!(
        creation_message["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("records a create, not an update")),
        "{creation_message:#}"
    );
    let (_, version) = read(&app, "organization", "labour-lab").await;
    assert_eq!(version, 3, "the record is untouched");
}

#[tokio::test]
async fn reverting_to_a_parent_deleted_since_is_refused_like_an_update_naming_the_field() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let created = ok(
        &app,
        &editor(),
        r#"mutation { createOrganization(input: {slug: "short-lived", name: "Short Lived", kind: OTHER}) { record { id } } }"#,
        json!({}),
    )
    .await;
    let parent = created["createOrganization"]["record"]["id"].clone();
    let child = ok(&app, &editor(), CREATE, json!({ "parent": parent })).await;
    let child = child["createOrganization"]["record"]["id"].clone();
    let moved = ok(
        &app,
        &editor(),
        UPDATE,
        json!({ "input": { "id": child, "version": 1, "parent": ilo } }),
    )
    .await;
    ok(
        &app,
        &admin(),
        r#"mutation($id: ID!) { deleteOrganization(input: {id: $id, version: 1}) { deletedId } }"#,
        json!({ "id": parent }),
    )
    .await;
    let entries = count_rows(&app, "audit_entries").await;

    let body = app
        .graphql_as(
            &admin(),
            REVERT,
            json!({ "e": moved["updateOrganization"]["auditEntry"]["id"] }),
        )
        .await;

    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"],
        json!([{ "path": "auditEntryId.parent", "message": "there is no organization with this ID" }])
    );
    assert_eq!(
        count_rows(&app, "audit_entries").await,
        entries,
        "nothing written"
    );
    let (_, version) = read(&app, "organization", "labour-lab").await;
    assert_eq!(version, 2, "the record is untouched");
}

#[tokio::test]
async fn history_and_revert_work_on_the_embedded_store() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    let (id, renamed, given) = created_and_updated_twice(&app).await;

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

    let conflict = app
        .graphql_as(&admin(), REVERT, json!({ "e": renamed }))
        .await;
    assert_eq!(error_codes(&conflict), ["CONFLICT"], "{conflict:#}");
    let data = ok(&app, &admin(), REVERT, json!({ "e": given })).await;
    assert_eq!(
        data["revert"]["record"],
        json!({ "id": id, "name": "Labour Laboratory", "acronym": null, "version": 4 })
    );
}
