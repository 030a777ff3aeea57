//! Updates that change a record's links in the same input (`parties`, `participants`,
//! `instruments`: connect, change, disconnect): one transaction, the version checked once,
//! every problem reported with its path, and what they cost in statements.

use serde_json::{Value, json};

use crate::{
    helpers::{
        TestApp, auth_settings, error_codes, read, sorted, spawn_app_with_auth,
        spawn_embedded_app_with,
    },
    mutations::{count_rows, editor, ok},
};

const UPDATE_AGREEMENT: &str = r#"
mutation($input: UpdateAgreementInput!) {
  updateAgreement(input: $input) {
    record {
      title version
      parties { edges { role since node { slug } } }
      instruments { edges { role node { slug } } }
    }
    auditEntry { action }
    nestedAuditEntries { action entityType before after }
  }
}"#;

/// `role slug` of each party (or instrument link) of a payload's record, sorted.
fn links(record: &Value, list: &str) -> Vec<String> {
    let mut out: Vec<String> = record[list]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}: {record}"))
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["role"].as_str().unwrap_or("?"),
                e["node"]["slug"].as_str().unwrap_or("?")
            )
        })
        .collect();
    out.sort();
    out
}

fn actions(payload: &Value) -> Vec<&str> {
    payload["nestedAuditEntries"]
        .as_array()
        .unwrap_or_else(|| panic!("no nestedAuditEntries: {payload}"))
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("?"))
        .collect()
}

/// The ILO-UNCTAD memorandum: parties ILO and UNCTAD (signatories), the MNE Declaration as basis.
async fn unctad_mou(app: &TestApp) -> (String, i64) {
    read(app, "agreement", "ilo-unctad-mou").await
}

#[tokio::test]
async fn an_update_connects_changes_and_disconnects_links_with_its_fields() {
    let app = spawn_app_with_auth().await;
    let (id, version) = unctad_mou(&app).await;
    let (unctad, _) = read(&app, "organization", "unctad").await;
    let data = ok(
        &app,
        &editor(),
        UPDATE_AGREEMENT,
        json!({ "input": {
            "id": id, "version": version, "title": "ILO-UNCTAD memorandum (revised)",
            "parties": {
                "connect": [{ "organization": { "slug": "unido" }, "role": "PARTNER", "since": "2025-03" }],
                "change": [{ "organization": { "id": unctad }, "role": "SIGNATORY", "newRole": "PARTNER" }]
            },
            "instruments": {
                "disconnect": [{ "instrument": { "slug": "mne-declaration" }, "role": "BASIS" }],
                "connect": [{ "instrument": { "slug": "sdg-8" }, "role": "PROMOTES" }]
            }
        }}),
    )
    .await;
    let payload = &data["updateAgreement"];
    let record = &payload["record"];
    assert_eq!(record["title"], "ILO-UNCTAD memorandum (revised)");
    assert_eq!(
        record["version"],
        version + 1,
        "the fields changed: one version more"
    );
    assert_eq!(
        links(record, "parties"),
        ["PARTNER unctad", "PARTNER unido", "SIGNATORY ilo"]
    );
    let unido = record["parties"]["edges"]
        .as_array()
        .and_then(|edges| edges.iter().find(|e| e["node"]["slug"] == "unido"))
        .unwrap_or_else(|| panic!("no UNIDO: {record}"));
    assert_eq!(unido["since"], "2025-03");
    assert_eq!(links(record, "instruments"), ["PROMOTES sdg-8"]);
    assert_eq!(payload["auditEntry"]["action"], "update");
    // Each group in the input's order, each in the order disconnect, change, connect.
    assert_eq!(actions(payload), ["relink", "link", "unlink", "link"]);
    let entries = &payload["nestedAuditEntries"];
    assert_eq!(entries[0]["entityType"], "AgreementParty");
    assert_eq!(entries[0]["before"]["role"], "signatory");
    assert_eq!(entries[0]["after"]["role"], "partner");
    assert_eq!(entries[2]["entityType"], "AgreementInstrument");
    assert_eq!(entries[2]["after"], Value::Null);
}

#[tokio::test]
async fn a_project_and_an_event_take_participant_and_instrument_changes() {
    let app = spawn_app_with_auth().await;
    let (project, version) = read(&app, "project", "responsible-supply-chains-asia").await;
    let data = ok(
        &app,
        &editor(),
        r#"mutation($input: UpdateProjectInput!) { updateProject(input: $input) {
            record { version participants { edges { role node { slug } } } instruments { edges { role node { slug } } } }
            auditEntry { action } nestedAuditEntries { action } } }"#,
        json!({ "input": {
            "id": project, "version": version,
            "participants": {
                "disconnect": [{ "organization": { "slug": "eu" }, "role": "FUNDER" }],
                "connect": [{ "organization": { "slug": "ohchr" }, "role": "IMPLEMENTER" }]
            },
            "instruments": { "connect": [{ "instrument": { "slug": "oecd-guidelines-mne" }, "role": "PROMOTES" }] }
        }}),
    )
    .await;
    let payload = &data["updateProject"];
    assert_eq!(
        links(&payload["record"], "participants"),
        ["IMPLEMENTER ilo", "IMPLEMENTER oecd", "IMPLEMENTER ohchr"]
    );
    assert!(
        links(&payload["record"], "instruments")
            .contains(&"PROMOTES oecd-guidelines-mne".to_owned())
    );
    // Only links changed: the record's fields, version and own entry stay as they were.
    assert_eq!(payload["record"]["version"], version);
    assert_eq!(payload["auditEntry"], Value::Null);
    assert_eq!(actions(payload), ["unlink", "link", "link"]);

    let (event, version) = read(&app, "event", "world-investment-forum-2014").await;
    let data = ok(
        &app,
        &editor(),
        r#"mutation($input: UpdateEventInput!) { updateEvent(input: $input) {
            record { participants { edges { role node { slug } } } } nestedAuditEntries { action entityType } } }"#,
        json!({ "input": {
            "id": event, "version": version,
            "participants": { "connect": [{ "organization": { "slug": "waipa" }, "role": "SPEAKER" }] }
        }}),
    )
    .await;
    let payload = &data["updateEvent"];
    assert_eq!(
        links(&payload["record"], "participants"),
        ["ORGANIZER unctad", "SPEAKER waipa"]
    );
    assert_eq!(
        payload["nestedAuditEntries"],
        json!([{ "action": "link", "entityType": "EventParticipant" }])
    );
}

#[tokio::test]
async fn every_problem_of_the_fields_and_the_links_is_reported_at_once_and_nothing_is_written() {
    let app = spawn_app_with_auth().await;
    let (id, version) = unctad_mou(&app).await;
    let (waipa, _) = read(&app, "organization", "waipa").await;
    let (unctad, _) = read(&app, "organization", "unctad").await;
    let entries = count_rows(&app, "audit_entries").await;
    let body = app
        .graphql_as(
            &editor(),
            UPDATE_AGREEMENT,
            json!({ "input": {
                "id": id, "version": version, "title": "",
                "parties": {
                    "connect": [
                        { "organization": { "slug": "no-such-organization" }, "role": "PARTNER" },
                        { "organization": { "id": "not-an-id" }, "role": "PARTNER" },
                        { "organization": { "slug": "ilo" }, "role": "SIGNATORY" },
                        { "organization": { "slug": "unido" }, "role": "PARTNER" },
                        { "organization": { "slug": "unido" }, "role": "PARTNER" }
                    ],
                    "change": [{ "organization": { "id": waipa }, "role": "SIGNATORY", "newRole": "PARTNER" }],
                    "disconnect": [{ "organization": { "id": unctad }, "role": "SUPPORTER" }]
                },
                "instruments": {
                    "connect": [{ "instrument": { "slug": "no-such-instrument" }, "role": "BASIS" }],
                    "change": [{ "instrument": { "slug": "mne-declaration" }, "role": "BASIS", "newRole": "BASIS" }]
                }
            }}),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    assert_eq!(body["data"]["updateAgreement"], Value::Null);
    let paths = sorted(&body["errors"][0]["extensions"]["fields"], "/path");
    assert_eq!(
        paths,
        [
            "input.instruments.connect[0].instrument",
            "input.parties.change[0].role",
            "input.parties.connect[0].organization",
            "input.parties.connect[1].organization",
            "input.parties.connect[2].role",
            "input.parties.connect[4].role",
            "input.parties.disconnect[0].role",
            "input.title",
        ],
        "{body:#}"
    );
    assert_eq!(
        count_rows(&app, "audit_entries").await,
        entries,
        "nothing written"
    );
    let after = app
        .data(r#"{ agreement(by: {slug: "ilo-unctad-mou"}) { title version parties { edges { role node { slug } } } } }"#, json!({}))
        .await;
    assert_eq!(after["agreement"]["version"], version);
    assert_eq!(
        links(&after["agreement"], "parties"),
        ["SIGNATORY ilo", "SIGNATORY unctad"]
    );
}

#[tokio::test]
async fn an_organization_named_by_both_id_and_slug_is_refused_before_anything_runs() {
    let app = spawn_app_with_auth().await;
    let (id, version) = unctad_mou(&app).await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let before = app.statements();
    let body = app
        .graphql_as(
            &editor(),
            UPDATE_AGREEMENT,
            json!({ "input": { "id": id, "version": version,
                "parties": { "connect": [{ "organization": { "id": ilo, "slug": "ilo" }, "role": "PARTNER" }] } } }),
        )
        .await;
    // A variable that does not fit its type fails validation, as any other would.
    assert_eq!(
        error_codes(&body),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{body:#}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("input.parties.connect.0.organization")
            && message.contains("exactly one field"),
        "{message}"
    );
    assert_eq!(app.statements(), before, "refused before any statement");
}

#[tokio::test]
async fn a_stale_version_refuses_the_link_changes_too() {
    let app = spawn_app_with_auth().await;
    let (id, version) = unctad_mou(&app).await;
    let entries = count_rows(&app, "audit_entries").await;
    let body = app
        .graphql_as(
            &editor(),
            UPDATE_AGREEMENT,
            json!({ "input": { "id": id, "version": version - 1,
                "parties": { "connect": [{ "organization": { "slug": "unido" }, "role": "PARTNER" }] } } }),
        )
        .await;
    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "version");
    assert_eq!(count_rows(&app, "audit_entries").await, entries);
    assert_eq!(count_rows(&app, "agreement_parties WHERE organization_id = (SELECT id FROM organizations WHERE slug = 'unido')").await, 0);
}

#[tokio::test]
async fn more_link_changes_than_one_call_takes_are_refused_before_any_is_read() {
    let app = spawn_app_with_auth().await;
    let (id, version) = unctad_mou(&app).await;
    let entries = count_rows(&app, "audit_entries").await;
    let connect: Vec<Value> = (0..1_001)
        .map(|i| json!({ "organization": { "slug": format!("organization-{i}") }, "role": "PARTNER" }))
        .collect();
    let before = app.statements();
    let body = app
        .graphql_as(
            &editor(),
            UPDATE_AGREEMENT,
            json!({ "input": { "id": id, "version": version, "parties": { "connect": connect } } }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    let fields = &body["errors"][0]["extensions"]["fields"];
    assert_eq!(fields[0]["path"], "input.parties", "{body:#}");
    let message = fields[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("1001") && message.contains("1000"),
        "{message}"
    );
    // The record read at its version, then nothing: no target looked up one by one.
    assert_eq!(app.statements() - before, 1);
    assert_eq!(count_rows(&app, "audit_entries").await, entries);
}

/// Ten link changes of two groups (connects, a role change and disconnects in each), besides
/// a field.
const TEN_LINK_CHANGES: &str = r#"mutation($input: UpdateAgreementInput!) {
    updateAgreement(input: $input) { record { version } nestedAuditEntries { action } } }"#;

fn ten_link_changes(id: &str, version: i64) -> Value {
    json!({ "input": {
        "id": id, "version": version, "title": "ILO-WAIPA cooperation agreement (2025)",
        "parties": {
            "connect": [
                { "organization": { "slug": "unido" }, "role": "PARTNER" },
                { "organization": { "slug": "unctad" }, "role": "SUPPORTER" },
                { "organization": { "slug": "undp" }, "role": "SUPPORTER" }
            ],
            "change": [{ "organization": { "slug": "waipa" }, "role": "SIGNATORY", "newRole": "PARTNER" }],
            "disconnect": [{ "organization": { "slug": "ilo" }, "role": "SIGNATORY" }]
        },
        "instruments": {
            "connect": [
                { "instrument": { "slug": "ungps" }, "role": "PROMOTES" },
                { "instrument": { "slug": "oecd-guidelines-mne" }, "role": "PROMOTES" }
            ],
            "disconnect": [
                { "instrument": { "slug": "sdgs" }, "role": "PROMOTES" },
                { "instrument": { "slug": "sdg-8" }, "role": "PROMOTES" }
            ],
            "change": [{ "instrument": { "slug": "mne-declaration" }, "role": "BASIS", "newRole": "GUIDANCE" }]
        }
    }})
}

/// The statements [`ten_link_changes`] costs on `app`, checking that all ten were made.
async fn ten_link_changes_cost(app: &TestApp) -> u64 {
    let (id, version) = read(app, "agreement", "ilo-waipa-cooperation-agreement").await;
    let input = ten_link_changes(&id, version);
    let before = app.statements();
    let data = ok(app, &editor(), TEN_LINK_CHANGES, input).await;
    let spent = app.statements() - before;
    assert_eq!(
        actions(&data["updateAgreement"]),
        [
            "unlink", "relink", "link", "link", "link", "unlink", "unlink", "relink", "link",
            "link"
        ]
    );
    spent
}

/// On PostgreSQL the statements are per group, not per link or per kind of change: the record
/// read at its version (locked); per group, the targets named with the owner's links to them
/// (one statement, the links locked); the record's update (RETURNING); per group, its
/// removals, role changes and additions as one statement; one insert of every audit entry.
/// The commit's numbering of the entries is sent unprepared, outside this count.
#[tokio::test]
async fn a_field_and_ten_link_changes_cost_seven_statements() {
    let app = spawn_app_with_auth().await;
    assert_eq!(ten_link_changes_cost(&app).await, 7);
}

/// SQLite has no data-modifying `WITH`: per group, one delete, one update per changed role
/// and one multi-row insert, so four statements more than PostgreSQL for these changes.
#[tokio::test]
async fn on_the_embedded_store_ten_link_changes_cost_eleven_statements() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    assert_eq!(ten_link_changes_cost(&app).await, 11);
}

/// Both stores apply a group's disconnects, changes and connects, and a key removed or
/// renamed by the call can be added again by the same call: the removals and role changes are
/// made before the additions check the unique index.
#[tokio::test]
async fn a_link_disconnected_or_renamed_can_be_connected_again_in_the_same_call() {
    for app in [
        spawn_app_with_auth().await,
        spawn_embedded_app_with(|s| s.auth = auth_settings()).await,
    ] {
        let (id, version) = unctad_mou(&app).await;
        let data = ok(
            &app,
            &editor(),
            UPDATE_AGREEMENT,
            json!({ "input": { "id": id, "version": version,
                "parties": {
                    "disconnect": [{ "organization": { "slug": "unctad" }, "role": "SIGNATORY" }],
                    "change": [{ "organization": { "slug": "ilo" }, "role": "SIGNATORY", "newRole": "PARTNER" }],
                    "connect": [
                        { "organization": { "slug": "unctad" }, "role": "SIGNATORY", "since": "2024" },
                        { "organization": { "slug": "ilo" }, "role": "SIGNATORY" }
                    ]
                } } }),
        )
        .await;
        let payload = &data["updateAgreement"];
        assert_eq!(
            links(&payload["record"], "parties"),
            ["PARTNER ilo", "SIGNATORY ilo", "SIGNATORY unctad"]
        );
        assert_eq!(actions(payload), ["unlink", "relink", "link", "link"]);
        let entries = &payload["nestedAuditEntries"];
        assert_eq!(entries[1]["before"]["role"], "signatory");
        assert_eq!(entries[1]["after"]["role"], "partner");
        assert_eq!(entries[2]["after"]["since_on"], "2024-01-01", "{entries:#}");
    }
}

// --- A connect racing a delete of its organization, at the store level ---------------------

mod race {
    use entity::{agreement, agreement_party, organization};
    use partnerships::{
        auth::{Actor, Role},
        store::write::{
            self, DeleteOptions,
            link_changes::{Connect, LinkChanges, Target},
            links::LinkRole,
            records::{self, AgreementFields, Update},
        },
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::{helpers::spawn_app_with_auth, mutations::until_blocked_or_done};

    fn actor(subject: &str) -> Actor {
        Actor {
            subject: subject.into(),
            role: Role::Admin,
        }
    }

    #[tokio::test]
    async fn a_connect_racing_a_delete_of_its_organization_is_a_conflict() {
        let app = spawn_app_with_auth().await;
        let db = app.store.connection.clone();
        let find = |slug: &'static str| {
            let db = db.clone();
            async move {
                organization::Entity::find()
                    .filter(organization::Column::Slug.eq(slug))
                    .one(&db)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
                    .unwrap_or_else(|| panic!("no {slug}"))
            }
        };
        // UNIDO's one link (a project's partner) goes with it.
        let unido = find("unido").await;
        let mou = agreement::Entity::find()
            .filter(agreement::Column::Slug.eq("ilo-unctad-mou"))
            .one(&db)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no memorandum"));

        let deleting = write::begin(&db).await.unwrap_or_else(|e| panic!("{e}"));
        records::delete::<organization::Entity>(
            &deleting,
            &actor("deleter"),
            unido.id,
            unido.version,
            DeleteOptions { detach_links: true },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));

        let connecting = tokio::spawn({
            let db = db.clone();
            async move {
                let txn = write::begin(&db).await.unwrap_or_else(|e| panic!("{e}"));
                let mut parties = LinkChanges::<agreement_party::Entity>::new("input.parties");
                parties.connect.push(Connect {
                    target: Target::Slug("unido".into()),
                    role: LinkRole::Party(entity::PartyRole::Partner),
                    since: None,
                });
                let update = Update {
                    action: "update",
                    id: mou.id,
                    version: mou.version,
                    path: "input",
                };
                let result = records::update_with_links::<AgreementFields>(
                    &txn,
                    &actor("connector"),
                    update,
                    |_| {},
                    vec![parties.into()],
                )
                .await;
                result.map(|_| ()).map_err(|e| (e.code(), e.to_string()))
            }
        });
        // The connect saw UNIDO (the delete is not committed) and now waits on its row.
        until_blocked_or_done(&db, &connecting).await;
        assert!(
            !connecting.is_finished(),
            "the connect did not wait for the delete"
        );
        write::commit(deleting, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let result = connecting.await.unwrap_or_else(|e| panic!("{e}"));
        let (code, message) = result.expect_err("the connect of a deleted organization succeeded");
        assert_eq!(code, "CONFLICT", "{message}");
        assert!(message.contains("deleted meanwhile"), "{message}");
    }
}
