//! Mutations against PostgreSQL: each happy path, each class of bad input, transactions that
//! leave nothing behind, optimistic concurrency, delete/restore and the audit log.

use partnerships::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, auth_settings, error_codes, read, sorted, spawn_app_with_auth,
    spawn_embedded_app_with, token,
};

pub(crate) fn editor() -> String {
    token(Role::Editor, "eddie")
}

pub(crate) fn admin() -> String {
    token(Role::Admin, "ada")
}

/// `data` of an operation run as `token`, asserting no errors.
pub(crate) async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let body = app.graphql_as(token, query, variables).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"].clone()
}

/// The rows `table` holds now.
pub(crate) async fn count_rows(app: &TestApp, table: &str) -> i64 {
    let db = &app.store.connection;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no count"));
    row.try_get::<i64>("", "n")
        .unwrap_or_else(|e| panic!("{e}"))
}

const CREATE_AGREEMENT: &str = r#"
mutation($input: CreateAgreementInput!) {
  createAgreement(input: $input) {
    created
    record { slug title signedOn version parties { edges { role since node { acronym } } } }
    auditEntry { action actor role entityType }
  }
}"#;

#[tokio::test]
async fn an_editor_creates_an_agreement_with_its_parties_in_one_call() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let (unido, _) = read(&app, "organization", "unido").await;
    let data = ok(
        &app,
        &editor(),
        CREATE_AGREEMENT,
        json!({ "input": {
            "slug": "ilo-unido-mou", "title": "ILO-UNIDO memorandum", "kind": "MEMORANDUM_OF_UNDERSTANDING",
            "signedOn": "2025-03",
            "parties": [
                { "organization": ilo, "role": "SIGNATORY", "since": "2025-03" },
                { "organization": unido, "role": "SIGNATORY" }
            ]
        }}),
    )
    .await;
    let created = &data["createAgreement"];
    assert_eq!(created["created"], true);
    assert_eq!(created["record"]["signedOn"], "2025-03");
    assert_eq!(created["record"]["version"], 1);
    assert_eq!(
        sorted(&created["record"]["parties"]["edges"], "/node/acronym"),
        ["ILO", "UNIDO"]
    );
    assert_eq!(
        created["auditEntry"],
        json!({ "action": "create", "actor": "eddie", "role": "editor", "entityType": "Agreement" })
    );
    // The agreement and each party have their audit entry.
    assert_eq!(count_rows(&app, "audit_entries").await, 3);
}

/// The bench's create-event (`bench/workloads/create-event.graphql`): an event with two
/// participants is written in a fixed number of statements, not a few per participant.
#[tokio::test]
async fn creating_an_event_with_two_participants_costs_four_statements() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let (undp, _) = read(&app, "organization", "undp").await;
    let before = app.statements();
    let data = ok(
        &app,
        &editor(),
        r#"mutation($input: CreateEventInput!) { createEvent(input: $input) { record { id } nestedAuditEntries { action entityType } } }"#,
        json!({ "input": {
            "slug": "bench-forum", "name": "Bench Forum", "kind": "FORUM", "startsOn": "2026-11",
            "participants": [
                { "organization": ilo, "role": "ORGANIZER" },
                { "organization": undp, "role": "CO_ORGANIZER" }
            ]
        }}),
    )
    .await;
    let spent = app.statements() - before;
    assert_eq!(
        data["createEvent"]["nestedAuditEntries"],
        json!([
            { "action": "link", "entityType": "EventParticipant" },
            { "action": "link", "entityType": "EventParticipant" }
        ])
    );
    // The participants' organizations (one read), the event, its participants (one insert),
    // every audit entry (one insert). The commit's numbering is sent unprepared, outside this
    // count.
    assert_eq!(
        spent, 4,
        "statements to create an event with two participants"
    );
}

/// The records a create refers to are checked one statement per table, however many there
/// are: an event's project and agreement, and the organizations of its sessions' participants.
#[tokio::test]
async fn a_create_checks_its_references_one_statement_per_table() {
    let app = spawn_app_with_auth().await;
    let mut ids = Vec::new();
    for slug in ["ilo", "undp", "unctad", "waipa"] {
        ids.push(read(&app, "organization", slug).await.0);
    }
    let (project, _) = read(&app, "project", "oecd-guidelines-2011-update").await;
    let (agreement, _) = read(&app, "agreement", "ilo-waipa-cooperation-agreement").await;
    let session = |slug: &str, a: &str, b: &str| {
        json!({ "slug": slug, "name": slug, "kind": "SESSION", "participants": [
            { "organization": a, "role": "ORGANIZER" }, { "organization": b, "role": "SPEAKER" }
        ] })
    };
    let before = app.statements();
    let data = ok(
        &app,
        &editor(),
        r#"mutation($input: CreateEventInput!) { createEvent(input: $input) { nestedAuditEntries { action } } }"#,
        json!({ "input": {
            "slug": "pinned-forum", "name": "Pinned Forum", "kind": "FORUM",
            "project": project, "agreement": agreement,
            "sessions": [session("pinned-a", &ids[0], &ids[1]), session("pinned-b", &ids[2], &ids[3])]
        }}),
    )
    .await;
    let spent = app.statements() - before;
    assert_eq!(
        data["createEvent"]["nestedAuditEntries"]
            .as_array()
            .map(Vec::len),
        Some(6),
        "two sessions and their four participants"
    );
    // The event: its references (one read each of projects, agreements and, for the sessions'
    // participants, organizations), its insert, its audit entry: 5. Each session: its parent
    // read, its participants' organizations read, its insert, its participants' insert, its
    // audit entries: 5. 18 when each reference was a read of its own.
    assert_eq!(
        spent, 15,
        "statements to create an event with two sessions of two participants"
    );
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_bumps_the_version_and_is_audited() {
    let app = spawn_app_with_auth().await;
    let (id, version) = read(&app, "organization", "waipa").await;
    let data = ok(
        &app,
        &editor(),
        r#"mutation($id: ID!, $v: Int!) { updateOrganization(input: {id: $id, version: $v, acronym: null, description: "Investment promotion agencies."}) {
            record { name acronym description version } auditEntry { action before after } } }"#,
        json!({ "id": id, "v": version }),
    )
    .await;
    let payload = &data["updateOrganization"];
    let record = &payload["record"];
    assert_eq!(
        record["name"],
        "World Association of Investment Promotion Agencies"
    );
    assert_eq!(record["acronym"], Value::Null, "null clears a field");
    assert_eq!(record["description"], "Investment promotion agencies.");
    assert_eq!(record["version"], version + 1);
    let entry = &payload["auditEntry"];
    assert_eq!(entry["action"], "update");
    assert_eq!(entry["before"]["acronym"], "WAIPA");
    assert_eq!(entry["after"]["acronym"], Value::Null);
}

#[tokio::test]
async fn every_problem_of_an_input_is_reported_with_its_path() {
    let app = spawn_app_with_auth().await;
    let missing = "T3JnYW5pemF0aW9uOjk5OTk5OQ"; // Organization:999999
    let body = app
        .graphql_as(
            &editor(),
            r#"mutation($p: ID) { createOrganization(input: {slug: "Bad Slug", name: "  ", kind: OTHER, website: "ftp://x", parent: $p}) { record { id } } }"#,
            json!({ "p": missing }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    let paths = sorted(&body["errors"][0]["extensions"]["fields"], "/path");
    assert_eq!(
        paths,
        ["input.name", "input.parent", "input.slug", "input.website"]
    );

    let body = app
        .graphql_as(
            &editor(),
            r#"mutation { createProject(input: {slug: "backwards", name: "Backwards", kind: PROJECT, status: ACTIVE, startsOn: "2020-06", endsOn: "2019"}) { record { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        "input.endsOn"
    );

    // A value outside an enum never reaches the resolver.
    let body = app
        .graphql_as(
            &editor(),
            r#"mutation { createOrganization(input: {slug: "x", name: "X", kind: GALAXY}) { record { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        error_codes(&body),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{body:#}"
    );
    assert_eq!(count_rows(&app, "audit_entries").await, 0);
}

#[tokio::test]
async fn a_duplicate_slug_is_a_conflict_naming_the_field() {
    let app = spawn_app_with_auth().await;
    let body = app
        .graphql_as(
            &editor(),
            r#"mutation { createOrganization(input: {slug: "ilo", name: "Another ILO", kind: OTHER}) { record { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.slug");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`ilo`") && !message.contains("constraint"),
        "{message}"
    );
}

#[tokio::test]
async fn a_transaction_failing_halfway_leaves_no_rows() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let events = count_rows(&app, "events").await;
    let participants = count_rows(&app, "event_participants").await;
    // The event and its participant are written before its session, whose slug another event
    // has, fails on the unique index.
    let body = app
        .graphql_as(
            &editor(),
            r#"mutation($input: CreateEventInput!) { createEvent(input: $input) { record { id } } }"#,
            json!({ "input": {
                "slug": "half-written", "name": "Half written", "kind": "FORUM",
                "participants": [{ "organization": ilo, "role": "ORGANIZER" }],
                "sessions": [{ "slug": "world-investment-forum-2014", "name": "Taken", "kind": "SESSION" }]
            }}),
        )
        .await;
    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.sessions[0].slug"
    );
    assert_eq!(count_rows(&app, "events").await, events);
    assert_eq!(count_rows(&app, "event_participants").await, participants);
    assert_eq!(count_rows(&app, "audit_entries").await, 0);
}

#[tokio::test]
async fn a_link_given_twice_in_a_new_record_is_reported_before_anything_is_written() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let agreements = count_rows(&app, "agreements").await;
    let body = app
        .graphql_as(
            &editor(),
            CREATE_AGREEMENT,
            json!({ "input": {
                "slug": "twice", "title": "", "kind": "OTHER",
                "parties": [
                    { "organization": ilo, "role": "PARTNER" },
                    { "organization": ilo, "role": "PARTNER" }
                ]
            }}),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    assert_eq!(
        sorted(&body["errors"][0]["extensions"]["fields"], "/path"),
        ["input.parties[1].role", "input.title"],
        "with the fields' problems, at once"
    );
    assert_eq!(count_rows(&app, "agreements").await, agreements);
    assert_eq!(count_rows(&app, "audit_entries").await, 0);
}

const RENAME: &str = r#"mutation($id: ID!, $v: Int!, $name: String!) { updateOrganization(input: {id: $id, version: $v, name: $name}) { record { name version } } }"#;

#[tokio::test]
async fn a_stale_version_is_a_conflict() {
    let app = spawn_app_with_auth().await;
    let (id, version) = read(&app, "organization", "wto").await;
    ok(
        &app,
        &editor(),
        RENAME,
        json!({ "id": id, "v": version, "name": "WTO, renamed" }),
    )
    .await;
    let body = app
        .graphql_as(
            &editor(),
            RENAME,
            json!({ "id": id, "v": version, "name": "Lost update" }),
        )
        .await;
    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "version");
    let data = app
        .data(r#"{ organization(by: {slug: "wto"}) { name } }"#, json!({}))
        .await;
    assert_eq!(data["organization"]["name"], "WTO, renamed");
}

#[tokio::test]
async fn of_two_concurrent_updates_of_one_version_exactly_one_wins() {
    let app = spawn_app_with_auth().await;
    let (id, version) = read(&app, "organization", "unctad").await;
    let token = editor();
    for round in 0..3 {
        let v = version + round;
        let (a, b) = tokio::join!(
            app.graphql_as(
                &token,
                RENAME,
                json!({ "id": id, "v": v, "name": format!("A{round}") })
            ),
            app.graphql_as(
                &token,
                RENAME,
                json!({ "id": id, "v": v, "name": format!("B{round}") })
            ),
        );
        let mut codes = [error_codes(&a), error_codes(&b)];
        codes.sort();
        assert_eq!(
            codes,
            [vec![], vec!["CONFLICT".to_owned()]],
            "round {round}: {a:#} {b:#}"
        );
    }
    let (_, now) = read(&app, "organization", "unctad").await;
    assert_eq!(now, version + 3, "each round bumped the version once");
}

#[tokio::test]
async fn a_referenced_record_is_deleted_only_with_detach_links_and_restore_brings_it_all_back() {
    let app = spawn_app_with_auth().await;
    let (oecd, version) = read(&app, "organization", "oecd").await;
    let delete = r#"mutation($id: ID!, $v: Int!, $detach: Boolean) { deleteOrganization(input: {id: $id, version: $v, detachLinks: $detach}) { deletedId auditEntry { id action } } }"#;

    let body = app
        .graphql_as(
            &admin(),
            delete,
            json!({ "id": oecd, "v": version, "detach": false }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("2 agreement parties") && message.contains("detachLinks"),
        "{message}"
    );

    let data = ok(
        &app,
        &admin(),
        delete,
        json!({ "id": oecd, "v": version, "detach": true }),
    )
    .await;
    assert_eq!(data["deleteOrganization"]["deletedId"], oecd.as_str());
    let entry = data["deleteOrganization"]["auditEntry"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let gone = app
        .data(
            r#"{ organization(by: {slug: "oecd"}) { id } agreement(by: {slug: "ilo-oecd-partnership"}) { parties { edges { node { slug } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gone["organization"], Value::Null);
    assert_eq!(
        sorted(&gone["agreement"]["parties"]["edges"], "/node/slug"),
        ["ilo"]
    );

    let data = ok(
        &app,
        &admin(),
        r#"mutation($e: ID!) { restore(auditEntryId: $e) { record { id ... on Organization { slug children { nodes { slug } } } } auditEntry { action } } }"#,
        json!({ "e": entry }),
    )
    .await;
    let restored = &data["restore"];
    assert_eq!(restored["record"]["id"], oecd.as_str(), "the same id");
    assert_eq!(
        sorted(&restored["record"]["children"]["nodes"], "/slug"),
        ["oecd-national-contact-points"],
        "the cleared parent references point at it again"
    );
    assert_eq!(restored["auditEntry"]["action"], "restore");
    let back = app
        .data(
            r#"{ agreement(by: {slug: "ilo-oecd-partnership"}) { parties { edges { node { slug } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        sorted(&back["agreement"]["parties"]["edges"], "/node/slug"),
        ["ilo", "oecd"]
    );
}

#[tokio::test]
async fn a_refused_delete_names_what_points_at_the_record_in_the_apis_words() {
    let apps = [
        ("postgres", spawn_app_with_auth().await),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.auth = auth_settings()).await,
        ),
    ];
    let delete = r#"mutation($id: ID!, $v: Int!) { deleteOrganization(input: {id: $id, version: $v}) { deletedId } }"#;
    let tail = "Remove those links first, or pass detachLinks: true to delete the link rows and clear the references (restore puts them back).";
    for (store, app) in apps {
        for (slug, referenced_by) in [
            (
                "unctad",
                "1 agreement party, 3 project participants, 6 event participants, 1 instrument (as issuer)",
            ),
            (
                "oecd",
                "2 agreement parties, 4 project participants, 1 organization (as parent), 6 instruments (as issuer)",
            ),
        ] {
            let (id, version) = read(&app, "organization", slug).await;
            let row = organization_row(&app.store.connection, slug).await;
            let body = app
                .graphql_as(&admin(), delete, json!({ "id": id, "v": version }))
                .await;
            assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{store}: {body:#}");
            assert_eq!(
                body["errors"][0]["message"],
                format!(
                    "Organization {} is still referenced by {referenced_by}. {tail}",
                    row.id
                ),
                "{store}, {slug}"
            );
        }
    }
}

#[tokio::test]
async fn links_are_added_changed_and_removed() {
    let app = spawn_app_with_auth().await;
    let (agreement, _) = read(&app, "agreement", "ilo-oecd-partnership").await;
    let (eu, _) = read(&app, "organization", "eu").await;
    let vars = json!({ "a": agreement, "o": eu });
    let parties = |data: &Value, field: &str| {
        let mut out: Vec<String> = data[field]["record"]["parties"]["edges"]
            .as_array()
            .map(|edges| {
                edges
                    .iter()
                    .map(|e| format!("{}:{}", e["node"]["slug"], e["role"]))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    let data = ok(
        &app,
        &editor(),
        r#"mutation($a: ID!, $o: ID!) { addAgreementParty(input: {owner: $a, organization: $o, role: SUPPORTER, since: "2021"}) { record { parties { edges { role since node { slug } } } } auditEntry { action entityType } } }"#,
        vars.clone(),
    )
    .await;
    assert!(
        parties(&data, "addAgreementParty").contains(&"\"eu\":\"SUPPORTER\"".to_owned()),
        "{data:#}"
    );
    assert_eq!(
        data["addAgreementParty"]["auditEntry"],
        json!({ "action": "link", "entityType": "AgreementParty" })
    );

    let body = app
        .graphql_as(
            &editor(),
            r#"mutation($a: ID!, $o: ID!) { addAgreementParty(input: {owner: $a, organization: $o, role: SUPPORTER}) { record { id } } }"#,
            vars.clone(),
        )
        .await;
    assert_eq!(
        error_codes(&body),
        ["CONFLICT"],
        "the same link twice: {body:#}"
    );

    let data = ok(
        &app,
        &editor(),
        r#"mutation($a: ID!, $o: ID!) { changeAgreementParty(input: {owner: $a, organization: $o, role: SUPPORTER, newRole: PARTNER}) { record { parties { edges { role node { slug } } } } auditEntry { action } } }"#,
        vars.clone(),
    )
    .await;
    assert!(
        parties(&data, "changeAgreementParty").contains(&"\"eu\":\"PARTNER\"".to_owned()),
        "{data:#}"
    );
    assert_eq!(
        data["changeAgreementParty"]["auditEntry"]["action"],
        "relink"
    );

    let data = ok(
        &app,
        &editor(),
        r#"mutation($a: ID!, $o: ID!) { removeAgreementParty(input: {owner: $a, organization: $o, role: PARTNER}) { record { parties { edges { role node { slug } } } } auditEntry { action } } }"#,
        vars,
    )
    .await;
    assert_eq!(
        parties(&data, "removeAgreementParty"),
        ["\"ilo\":\"PARTNER\"", "\"oecd\":\"PARTNER\""]
    );
}

#[tokio::test]
async fn an_event_is_created_with_its_organizers_and_sessions() {
    let app = spawn_app_with_auth().await;
    let (ilo, _) = read(&app, "organization", "ilo").await;
    let (unctad, _) = read(&app, "organization", "unctad").await;
    let data = ok(
        &app,
        &editor(),
        r#"mutation($input: CreateEventInput!) { createEvent(input: $input) { record { slug
            participants { edges { role node { slug } } }
            sessions { nodes { slug parent { slug } participants { nodes { slug } } } } } } }"#,
        json!({ "input": {
            "slug": "world-investment-forum-2026", "name": "World Investment Forum 2026", "kind": "FORUM",
            "startsOn": "2026-10",
            "participants": [{ "organization": unctad, "role": "ORGANIZER" }],
            "sessions": [{
                "slug": "wif-2026-jobs", "name": "Jobs through investment", "kind": "SESSION",
                "participants": [{ "organization": ilo, "role": "CO_ORGANIZER" }]
            }]
        }}),
    )
    .await;
    let event = &data["createEvent"]["record"];
    assert_eq!(
        event["participants"]["edges"][0],
        json!({ "role": "ORGANIZER", "node": { "slug": "unctad" } })
    );
    assert_eq!(
        event["sessions"]["nodes"][0],
        json!({ "slug": "wif-2026-jobs", "parent": { "slug": "world-investment-forum-2026" }, "participants": { "nodes": [{ "slug": "ilo" }] } })
    );
}

#[tokio::test]
async fn upsert_creates_then_updates_by_slug() {
    let app = spawn_app_with_auth().await;
    let upsert = r#"mutation($name: String!) { upsertInstrument(input: {slug: "decent-work-agenda", name: $name, kind: AGENDA}) { created record { name version } } }"#;
    let first = ok(
        &app,
        &editor(),
        upsert,
        json!({ "name": "Decent Work Agenda" }),
    )
    .await;
    assert_eq!(
        first["upsertInstrument"],
        json!({ "created": true, "record": { "name": "Decent Work Agenda", "version": 1 } })
    );
    let second = ok(
        &app,
        &editor(),
        upsert,
        json!({ "name": "The Decent Work Agenda" }),
    )
    .await;
    assert_eq!(
        second["upsertInstrument"],
        json!({ "created": false, "record": { "name": "The Decent Work Agenda", "version": 2 } })
    );
}

#[tokio::test]
async fn an_import_dry_run_reports_without_writing_and_the_real_run_writes() {
    let app = spawn_app_with_auth().await;
    let document = r#"
organizations:
  - slug: ilo
    name: International Labour Organization
    acronym: ILO
    kind: un_system_entity
    website: https://www.ilo.org
  - slug: fao
    name: Food and Agriculture Organization
    acronym: FAO
    kind: un_system_entity
"#;
    let import = r#"mutation($d: String!, $dry: Boolean!) { importDocument(document: $d, dryRun: $dry) { dryRun organizations { created updated unchanged } auditEntry { action } } }"#;
    let dry = ok(
        &app,
        &editor(),
        import,
        json!({ "d": document, "dry": true }),
    )
    .await;
    assert_eq!(dry["importDocument"]["organizations"]["created"], 1);
    assert_eq!(dry["importDocument"]["auditEntry"], Value::Null);
    let none = app
        .data(r#"{ organization(by: {slug: "fao"}) { id } }"#, json!({}))
        .await;
    assert_eq!(
        none["organization"],
        Value::Null,
        "a dry run writes nothing"
    );

    let real = ok(
        &app,
        &editor(),
        import,
        json!({ "d": document, "dry": false }),
    )
    .await;
    assert_eq!(real["importDocument"]["organizations"]["created"], 1);
    assert_eq!(real["importDocument"]["auditEntry"]["action"], "import");
    let fao = app
        .data(
            r#"{ organization(by: {slug: "fao"}) { acronym } }"#,
            json!({}),
        )
        .await;
    assert_eq!(fao["organization"]["acronym"], "FAO");

    let body = app
        .graphql_as(
            &editor(),
            import,
            json!({ "d": "organizations:\n  - slug: Bad Slug\n    name: X\n    kind: other\n", "dry": true }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    assert!(
        body["errors"][0]["extensions"]["fields"][0]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("document.organizations[0]")),
        "{body:#}"
    );
}

#[tokio::test]
async fn the_audit_log_lists_each_change_filtered_by_record_and_actor() {
    let app = spawn_app_with_auth().await;
    let (id, version) = read(&app, "organization", "waipa").await;
    for (i, who) in [(0, "eddie"), (1, "emma")] {
        ok(
            &app,
            &token(Role::Editor, who),
            RENAME,
            json!({ "id": id, "v": version + i, "name": format!("WAIPA {i}") }),
        )
        .await;
    }
    let log = r#"query($f: AuditLogFilter, $after: String) { auditLog(filter: $f, first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { actor action recordId } } }"#;
    let first = ok(&app, &admin(), log, json!({ "f": { "recordId": id } })).await;
    let page = &first["auditLog"];
    assert_eq!(page["totalCount"], 2);
    assert_eq!(page["nodes"][0]["actor"], "emma", "newest first");
    assert_eq!(page["nodes"][0]["recordId"], id.as_str());
    let second = ok(
        &app,
        &admin(),
        log,
        json!({ "f": { "recordId": id }, "after": page["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(second["auditLog"]["nodes"][0]["actor"], "eddie");
    assert_eq!(second["auditLog"]["pageInfo"]["hasNextPage"], false);

    let by_actor = ok(&app, &admin(), log, json!({ "f": { "actor": "eddie" } })).await;
    assert_eq!(by_actor["auditLog"]["totalCount"], 1);
    let later = ok(
        &app,
        &admin(),
        log,
        json!({ "f": { "from": "2999-01-01T00:00:00Z" } }),
    )
    .await;
    assert_eq!(later["auditLog"]["totalCount"], 0);
}

#[tokio::test]
async fn the_mutation_examples_run_with_a_token() {
    let app = spawn_app_with_auth().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mutations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .collect();
    // The audit log and the history after the upsert, so that they show it; the update of an
    // agreement's links last.
    files.sort_by_key(|p| {
        let after_upsert =
            p.ends_with("audit-log.graphql") || p.ends_with("record-history.graphql");
        let last = p.ends_with("update-agreement-links.graphql");
        (last, after_upsert, p.clone())
    });
    assert_eq!(files.len(), 5, "{files:?}");
    let (mou, version) = read(&app, "agreement", "ilo-unctad-mou").await;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let variables = json!({ "id": mou, "version": version });
        let data = ok(&app, &admin(), &text, variables).await;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        match name {
            "upsert-organization" => assert_eq!(data["upsertOrganization"]["created"], true),
            "import-dry-run" => assert_eq!(
                data["importDocument"]["organizations"],
                json!({ "created": 1, "updated": 0, "unchanged": 0 })
            ),
            "audit-log" => assert_eq!(data["auditLog"]["nodes"][0]["action"], "create"),
            "record-history" => {
                let history = &data["organization"]["history"];
                assert_eq!(history["totalCount"], 1, "the upsert created the FAO");
                assert_eq!(history["nodes"][0]["action"], "CREATED");
                assert_eq!(history["nodes"][0]["actor"], "ada");
            }
            "update-agreement-links" => {
                let payload = &data["updateAgreement"];
                assert_eq!(
                    sorted(&payload["record"]["parties"]["edges"], "/node/slug"),
                    ["ilo", "unctad", "unido"]
                );
                assert_eq!(payload["record"]["instruments"]["totalCount"], 0);
                assert_eq!(payload["record"]["version"], version + 1);
                assert_eq!(
                    payload["nestedAuditEntries"],
                    json!([
                        { "action": "relink", "entityType": "AgreementParty" },
                        { "action": "link", "entityType": "AgreementParty" },
                        { "action": "unlink", "entityType": "AgreementInstrument" }
                    ])
                );
            }
            other => panic!("examples/mutations/{other}.graphql has no expected answer"),
        }
    }
}

/// Mutations are tested on PostgreSQL; on the embedded SQLite store they must work too.
#[tokio::test]
async fn the_embedded_sqlite_store_takes_mutations_and_keeps_their_audit_log() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    let (id, version) = read(&app, "organization", "waipa").await;
    ok(
        &app,
        &editor(),
        RENAME,
        json!({ "id": id, "v": version, "name": "WAIPA on SQLite" }),
    )
    .await;
    let stale = app
        .graphql_as(
            &editor(),
            RENAME,
            json!({ "id": id, "v": version, "name": "Lost" }),
        )
        .await;
    assert_eq!(error_codes(&stale), ["CONFLICT"], "{stale:#}");
    let data = ok(
        &app,
        &admin(),
        "{ auditLog { nodes { action before after } } }",
        json!({}),
    )
    .await;
    let entry = &data["auditLog"]["nodes"][0];
    assert_eq!(entry["action"], "update");
    assert_eq!(entry["after"]["name"], "WAIPA on SQLite");
}

#[tokio::test]
async fn deleting_an_agreement_takes_its_own_links_and_restore_puts_back_links_and_references() {
    let app = spawn_app_with_auth().await;
    let (id, version) = read(&app, "agreement", "ilo-oecd-partnership").await;
    let (_, project_version) = read(&app, "project", "oecd-guidelines-2011-update").await;
    let data = ok(
        &app,
        &admin(),
        r#"mutation($id: ID!, $v: Int!) { deleteAgreement(input: {id: $id, version: $v, detachLinks: true}) { auditEntry { id before } } }"#,
        json!({ "id": id, "v": version }),
    )
    .await;
    let entry = &data["deleteAgreement"]["auditEntry"];
    let image = &entry["before"];
    assert_eq!(image["record"]["slug"], "ilo-oecd-partnership");
    assert_eq!(
        image["owned"]["agreement_parties"].as_array().map(Vec::len),
        Some(2),
        "the before-image keeps its parties: {image:#}"
    );
    let orphan = app
        .data(
            r#"{ project(by: {slug: "oecd-guidelines-2011-update"}) { agreement { slug } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(orphan["project"]["agreement"], Value::Null);

    ok(
        &app,
        &admin(),
        r#"mutation($e: ID!) { restore(auditEntryId: $e) { record { id } } }"#,
        json!({ "e": entry["id"] }),
    )
    .await;
    let back = app
        .data(
            r#"{ agreement(by: {slug: "ilo-oecd-partnership"}) { id version parties { edges { node { slug } } } instruments { totalCount } }
                 project(by: {slug: "oecd-guidelines-2011-update"}) { agreement { slug } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(back["agreement"]["id"], id.as_str());
    assert_eq!(back["agreement"]["version"], version);
    assert_eq!(
        sorted(&back["agreement"]["parties"]["edges"], "/node/slug"),
        ["ilo", "oecd"]
    );
    assert_eq!(back["agreement"]["instruments"]["totalCount"], 1);
    assert_eq!(back["project"]["agreement"]["slug"], "ilo-oecd-partnership");
    let (_, project_now) = read(&app, "project", "oecd-guidelines-2011-update").await;
    assert_eq!(
        project_now,
        project_version + 2,
        "clearing and restoring its reference each changed the project"
    );

    // Restoring twice would duplicate the record: refused.
    let body = app
        .graphql_as(
            &admin(),
            r#"mutation($e: ID!) { restore(auditEntryId: $e) { record { id } } }"#,
            json!({ "e": entry["id"] }),
        )
        .await;
    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
}

#[tokio::test]
async fn every_kind_of_link_is_added_changed_and_removed() {
    let app = spawn_app_with_auth().await;
    let (project, _) = read(&app, "project", "oecd-guidelines-2011-update").await;
    let (event, _) = read(&app, "event", "world-investment-forum-2014").await;
    let (agreement, _) = read(&app, "agreement", "ilo-oecd-partnership").await;
    let (undp, _) = read(&app, "organization", "undp").await;
    let (ungps, _) = read(&app, "instrument", "ungps").await;
    // (link, owner, target field, target, role, new role)
    let cases = [
        (
            "ProjectParticipant",
            &project,
            "organization",
            &undp,
            "FUNDER",
            "PARTNER",
        ),
        (
            "EventParticipant",
            &event,
            "organization",
            &undp,
            "HOST",
            "SPEAKER",
        ),
        (
            "AgreementInstrument",
            &agreement,
            "instrument",
            &ungps,
            "GUIDANCE",
            "BASIS",
        ),
        (
            "ProjectInstrument",
            &project,
            "instrument",
            &ungps,
            "GUIDANCE",
            "BASIS",
        ),
        (
            "EventInstrument",
            &event,
            "instrument",
            &ungps,
            "GUIDANCE",
            "BASIS",
        ),
    ];
    for (link, owner, field, target, role, new_role) in cases {
        let vars = json!({ "o": owner, "t": target });
        for (verb, extra, action) in [
            ("add", format!("role: {role}"), "link"),
            (
                "change",
                format!("role: {role}, newRole: {new_role}"),
                "relink",
            ),
            ("remove", format!("role: {new_role}"), "unlink"),
        ] {
            let query = format!(
                r#"mutation($o: ID!, $t: ID!) {{ {verb}{link}(input: {{owner: $o, {field}: $t, {extra}}}) {{ record {{ id }} auditEntry {{ action entityType }} }} }}"#
            );
            let name = format!("{verb}{link}");
            let data = ok(&app, &editor(), &query, vars.clone()).await;
            assert_eq!(
                data[&name]["auditEntry"],
                json!({ "action": action, "entityType": link }),
                "{name}"
            );
            assert_eq!(data[&name]["record"]["id"], owner.as_str(), "{name}");
        }
    }
}

// --- Concurrency at the store level: two transactions really overlap --------------------------

use entity::{agreement, agreement_party, organization};
use partnerships::{
    auth::Actor,
    error::AppError,
    seed,
    store::write::{self, at_version, links, records},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
};

fn actor(subject: &str) -> Actor {
    Actor {
        subject: subject.into(),
        role: Role::Admin,
    }
}

async fn organization_row(db: &DatabaseConnection, slug: &str) -> organization::Model {
    organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no organization {slug}"))
}

async fn agreement_row(db: &DatabaseConnection, slug: &str) -> agreement::Model {
    agreement::Entity::find()
        .filter(agreement::Column::Slug.eq(slug))
        .one(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no agreement {slug}"))
}

async fn begin(db: &DatabaseConnection) -> DatabaseTransaction {
    write::begin(db).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until `task` has finished or some statement of this database waits for a lock (the
/// other transaction's), so that the caller can then let the first transaction go on.
pub(crate) async fn until_blocked_or_done<T>(
    db: &DatabaseConnection,
    task: &tokio::task::JoinHandle<T>,
) {
    for _ in 0..2_000 {
        if task.is_finished() {
            return;
        }
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no row"));
        if row
            .try_get::<i64>("", "n")
            .unwrap_or_else(|e| panic!("{e}"))
            > 0
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the second transaction neither finished nor waited for a lock");
}

fn code<T: std::fmt::Debug>(result: &Result<T, AppError>) -> &'static str {
    match result {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}

#[tokio::test]
async fn two_transactions_updating_the_version_they_both_read_get_one_conflict() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    let unctad = organization_row(&db, "unctad").await;
    let (id, version) = (unctad.id, unctad.version);

    let first = begin(&db).await;
    records::update::<records::OrganizationFields>(
        &first,
        &actor("one"),
        id,
        version,
        "input",
        |f| f.name = "First".into(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            let txn = begin(&db).await;
            let result = records::update::<records::OrganizationFields>(
                &txn,
                &actor("two"),
                id,
                version,
                "input",
                |f| f.name = "Second".into(),
            )
            .await
            .map(|(model, _)| model.name);
            if result.is_ok() {
                write::commit(txn, &Default::default())
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            result
        }
    });
    until_blocked_or_done(&db, &second).await;
    write::commit(first, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = second.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&second), "CONFLICT", "{second:?}");
    let now = organization_row(&db, "unctad").await;
    assert_eq!((now.name.as_str(), now.version), ("First", version + 1));
}

#[tokio::test]
async fn the_row_a_delete_images_is_locked_until_the_delete_commits() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    let oecd = agreement_row(&db, "ilo-oecd-partnership").await;
    let txn = begin(&db).await;
    at_version::<agreement::Entity>(&txn, oecd.id, oecd.version)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // What a new link's foreign key check takes (FOR KEY SHARE) must wait for the image's lock.
    let other = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM agreements WHERE id = $1 FOR KEY SHARE NOWAIT",
            [oecd.id.into()],
        ))
        .await;
    assert!(other.is_err(), "the row is not locked: {other:?}");
    drop(txn);
}

#[tokio::test]
async fn a_link_changed_meanwhile_is_a_conflict_not_a_lost_update() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    let agreement = agreement_row(&db, "ilo-oecd-partnership").await;
    let ilo = organization_row(&db, "ilo").await;
    let key = links::LinkKey {
        owner: agreement.id,
        target: ilo.id,
        role: links::LinkRole::Party(entity::PartyRole::Partner),
    };
    let first = begin(&db).await;
    links::change::<agreement_party::Entity>(
        &first,
        &actor("one"),
        key.clone(),
        links::LinkRole::Party(entity::PartyRole::Signatory),
        None,
        "input",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            let txn = begin(&db).await;
            let result = links::change::<agreement_party::Entity>(
                &txn,
                &actor("two"),
                key,
                links::LinkRole::Party(entity::PartyRole::Supporter),
                None,
                "input",
            )
            .await
            .map(|_| ());
            if result.is_ok() {
                write::commit(txn, &Default::default())
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            result
        }
    });
    until_blocked_or_done(&db, &second).await;
    write::commit(first, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = second.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&second), "CONFLICT", "{second:?}");
    let roles: Vec<entity::PartyRole> = agreement_party::Entity::find()
        .filter(agreement_party::Column::AgreementId.eq(agreement.id))
        .filter(agreement_party::Column::OrganizationId.eq(ilo.id))
        .all(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|p| p.role)
        .collect();
    assert_eq!(
        roles,
        [entity::PartyRole::Signatory],
        "the first change stands"
    );
}

#[tokio::test]
async fn two_concurrent_parent_changes_cannot_close_a_cycle() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    let a = organization_row(&db, "unctad").await;
    let b = organization_row(&db, "waipa").await;
    let first = begin(&db).await;
    records::update::<records::OrganizationFields>(
        &first,
        &actor("one"),
        a.id,
        a.version,
        "input",
        |f| f.parent = Some(b.id),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            let txn = begin(&db).await;
            let result = records::update::<records::OrganizationFields>(
                &txn,
                &actor("two"),
                b.id,
                b.version,
                "input",
                |f| f.parent = Some(a.id),
            )
            .await
            .map(|_| ());
            if result.is_ok() {
                write::commit(txn, &Default::default())
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            result
        }
    });
    until_blocked_or_done(&db, &second).await;
    write::commit(first, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = second.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&second), "BAD_USER_INPUT", "{second:?}");
    let b_now = organization_row(&db, "waipa").await;
    assert_eq!(b_now.parent_id, b.parent_id, "no cycle: B keeps its parent");
}

/// An import whose new link another writer adds meanwhile fails on the link's unique index:
/// CONFLICT on the document's section of the link's owner, never INTERNAL, nothing written.
#[tokio::test]
async fn an_import_clashing_with_a_link_added_meanwhile_is_a_conflict_on_its_section() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    let pact = agreement_row(&db, "ilo-waipa-cooperation-agreement").await;
    let unido = organization_row(&db, "unido").await;
    let parties_of = |db: DatabaseConnection| async move {
        agreement_party::Entity::find()
            .filter(agreement_party::Column::AgreementId.eq(pact.id))
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let before = parties_of(db.clone()).await.len();
    let first = begin(&db).await;
    let key = links::LinkKey {
        owner: pact.id,
        target: unido.id,
        role: links::LinkRole::Party(entity::PartyRole::Partner),
    };
    links::add::<agreement_party::Entity>(&first, &actor("one"), key, None, "input")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let kind = sea_orm::ActiveEnum::to_value(&pact.kind);
    let document = format!(
        "agreements:\n  - slug: {}\n    title: \"{}\"\n    kind: {kind}\n    parties:\n      - {{ organization: unido, role: partner }}\n",
        pact.slug, pact.title
    );
    let import = tokio::spawn({
        let db = db.clone();
        async move {
            write::import::import(
                &db,
                &Default::default(),
                &actor("two"),
                plan(&document),
                false,
            )
            .await
            .map(|_| ())
        }
    });
    until_blocked_or_done(&db, &import).await;
    write::commit(first, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let import = import.await.unwrap_or_else(|e| panic!("{e}"));
    match &import {
        Err(AppError::Conflict { field, .. }) => assert_eq!(field, "document.agreements"),
        other => panic!("expected CONFLICT, got {other:?}"),
    }
    let parties = parties_of(db.clone()).await;
    assert_eq!(
        parties.len(),
        before + 1,
        "the other writer's party stays and the import's removals were rolled back: {parties:?}"
    );
}

#[tokio::test]
async fn an_import_does_not_overwrite_an_edit_made_while_it_ran() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    let edit = begin(&db).await;
    let unctad = organization_row(&db, "unctad").await;
    records::update::<records::OrganizationFields>(
        &edit,
        &actor("editor"),
        unctad.id,
        unctad.version,
        "input",
        |f| f.name = "Edited".into(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let import = tokio::spawn({
        let db = db.clone();
        async move {
            let document = "organizations:\n  - { slug: unctad, name: \"Imported\", kind: un_system_entity }\n";
            write::import::import(
                &db,
                &Default::default(),
                &actor("importer"),
                plan(document),
                false,
            )
            .await
            .map(|_| ())
        }
    });
    until_blocked_or_done(&db, &import).await;
    write::commit(edit, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let import = import.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&import), "CONFLICT", "{import:?}");
    assert_eq!(organization_row(&db, "unctad").await.name, "Edited");
}

#[tokio::test]
async fn restoring_a_record_whose_reference_was_deleted_since_is_a_conflict_naming_it() {
    let app = spawn_app_with_auth().await;
    let (project, version) = read(&app, "project", "oecd-guidelines-2011-update").await;
    let data = ok(
        &app,
        &admin(),
        r#"mutation($id: ID!, $v: Int!) { deleteProject(input: {id: $id, version: $v}) { auditEntry { id } } }"#,
        json!({ "id": project, "v": version }),
    )
    .await;
    let entry = data["deleteProject"]["auditEntry"]["id"].clone();
    let (agreement, version) = read(&app, "agreement", "ilo-oecd-partnership").await;
    ok(
        &app,
        &admin(),
        r#"mutation($id: ID!, $v: Int!) { deleteAgreement(input: {id: $id, version: $v, detachLinks: true}) { deletedId } }"#,
        json!({ "id": agreement, "v": version }),
    )
    .await;
    let body = app
        .graphql_as(
            &admin(),
            r#"mutation($e: ID!) { restore(auditEntryId: $e) { record { id } } }"#,
            json!({ "e": entry }),
        )
        .await;
    assert_eq!(error_codes(&body), ["CONFLICT"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("deleted since (agreement "),
        "names the agreement in the API's words: {message}"
    );
}

#[tokio::test]
async fn a_nested_create_reports_every_session_problem_before_inserting_anything() {
    let app = spawn_app_with_auth().await;
    let before = count_rows(&app, "events").await;
    let body = app
        .graphql_as(
            &editor(),
            r#"mutation($input: CreateEventInput!) { createEvent(input: $input) { record { slug } } }"#,
            json!({ "input": {
                "slug": "summit", "name": "Summit", "kind": "FORUM",
                "sessions": [
                    { "slug": "day-one", "name": " ", "kind": "FORUM" },
                    { "slug": "day-one", "name": "Day one again", "kind": "FORUM",
                      "startsOn": "2024-05", "endsOn": "2024-04" },
                    { "slug": "summit", "name": "x".repeat(301), "kind": "FORUM" }
                ]
            } }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    for path in [
        "input.sessions[0].name",
        "input.sessions[1].slug",
        "input.sessions[1]",
        "input.sessions[2].slug",
        "input.sessions[2].name",
    ] {
        assert!(message.contains(path), "{path} missing: {message}");
    }
    assert_eq!(count_rows(&app, "events").await, before, "nothing inserted");
}

#[tokio::test]
async fn an_import_enforces_the_length_limits_of_mutations() {
    let app = spawn_app_with_auth().await;
    let document = format!(
        "organizations:\n  - {{ slug: long-one, name: \"{}\", acronym: \"{}\", kind: other }}\n",
        "n".repeat(301),
        "A".repeat(101)
    );
    let body = app
        .graphql_as(
            &editor(),
            r#"mutation($d: String!) { importDocument(document: $d) { dryRun } }"#,
            json!({ "d": document }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("organizations[0].name") && message.contains("organizations[0].acronym"),
        "{message}"
    );
}

#[tokio::test]
async fn a_mutation_blocked_by_another_sqlite_writer_is_service_unavailable_not_internal() {
    use sea_orm::TransactionTrait;
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    let (id, version) = read(&app, "organization", "waipa").await;
    // Another writer holds SQLite's one write lock past the busy timeout.
    let db = &app.store.connection;
    let holder = db.begin().await.unwrap_or_else(|e| panic!("{e}"));
    holder
        .execute_raw(Statement::from_string(
            DbBackend::Sqlite,
            "UPDATE organizations SET name = name WHERE slug = 'ilo'",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let body = app
        .graphql_as(
            &editor(),
            RENAME,
            json!({ "id": id, "v": version, "name": "Blocked" }),
        )
        .await;
    assert_eq!(error_codes(&body), ["SERVICE_UNAVAILABLE"], "{body:#}");
    holder.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    ok(
        &app,
        &editor(),
        RENAME,
        json!({ "id": id, "v": version, "name": "Then through" }),
    )
    .await;
}

#[tokio::test]
async fn an_import_audits_each_record_it_creates_or_updates_with_before_and_after() {
    let app = spawn_app_with_auth().await;
    let (unctad, _) = read(&app, "organization", "unctad").await;
    let document = "organizations:\n  - { slug: unctad, name: \"UNCTAD renamed\", acronym: \"UNCTAD\", kind: un_system_entity, website: \"https://unctad.org\" }\n  - { slug: fao, name: \"Food and Agriculture Organization\", kind: un_system_entity }\n";
    ok(
        &app,
        &editor(),
        r#"mutation($d: String!) { importDocument(document: $d, dryRun: false) { dryRun } }"#,
        json!({ "d": document }),
    )
    .await;
    let log = r#"query($f: AuditLogFilter) { auditLog(filter: $f) { nodes { action actor before after } } }"#;
    let updated = ok(&app, &admin(), log, json!({ "f": { "recordId": unctad } })).await;
    let entry = &updated["auditLog"]["nodes"][0];
    assert_eq!(entry["action"], "update", "{updated:#}");
    assert_eq!(entry["actor"], "eddie");
    assert_eq!(
        entry["before"]["name"],
        "United Nations Conference on Trade and Development"
    );
    assert_eq!(entry["after"]["name"], "UNCTAD renamed");
    let (fao, _) = read(&app, "organization", "fao").await;
    let created = ok(&app, &admin(), log, json!({ "f": { "recordId": fao } })).await;
    let entry = &created["auditLog"]["nodes"][0];
    assert_eq!(entry["action"], "create", "{created:#}");
    assert_eq!(entry["before"], Value::Null);
    assert_eq!(entry["after"]["slug"], "fao");
}

// --- Imports and the sources already in the database -----------------------------------------

/// The seed's one source.
const SEEDED_SOURCE: &str = "ilo-collaboration-international-organizations-2024";

async fn source_rows(db: &DatabaseConnection, slug: &str) -> Vec<entity::source::Model> {
    entity::source::Entity::find()
        .filter(entity::source::Column::Slug.eq(slug))
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_import_may_name_sources_that_are_only_in_the_database_on_both_stores() {
    let apps = [
        ("postgres", spawn_app_with_auth().await),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.auth = auth_settings()).await,
        ),
    ];
    let import = r#"mutation($d: String!) { importDocument(document: $d, dryRun: false) { organizations { created } } }"#;
    for (store, app) in apps {
        let db = &app.store.connection;
        let seeded = source_rows(db, SEEDED_SOURCE).await;
        let document = format!(
            "default_source: {SEEDED_SOURCE}\norganizations:\n  \
             - {{ slug: fao, name: \"Food and Agriculture Organization\", kind: un_system_entity }}\n  \
             - {{ slug: ifad, name: \"IFAD\", kind: un_system_entity, source: {SEEDED_SOURCE} }}\n"
        );
        let data = ok(&app, &editor(), import, json!({ "d": document })).await;
        assert_eq!(
            data["importDocument"]["organizations"]["created"], 2,
            "{store}"
        );
        for slug in ["fao", "ifad"] {
            assert_eq!(
                organization_row(db, slug).await.source_id,
                seeded.first().map(|s| s.id),
                "{store}: {slug} refers to the source in the database"
            );
        }

        // A source in neither the document nor the database is still a problem, with its path.
        let body = app
            .graphql_as(
                &editor(),
                import,
                json!({ "d": "default_source: nowhere\norganizations:\n  - { slug: wfp, name: WFP, kind: other, source: elsewhere }\n" }),
            )
            .await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{store}: {body:#}");
        let fields = &body["errors"][0]["extensions"]["fields"];
        assert_eq!(
            fields,
            &json!([
                { "path": "document.default_source", "message": "no source `nowhere` in the file or the database" },
                { "path": "document.organizations[0].source", "message": "no source `elsewhere` in the file or the database" },
            ]),
            "{store}: {body:#}"
        );
    }
}

/// The plan of a document in the seed format.
fn plan(text: &str) -> write::plan::Plan {
    seed::Document::parse(text)
        .unwrap_or_else(|e| panic!("{e}"))
        .plan()
        .unwrap_or_else(|p| panic!("{p:?}"))
}

/// A document bringing a new source, and an organization of its own that uses it.
fn with_new_source(organization: &str) -> String {
    format!(
        "default_source: shared-report\nsources:\n  \
         - {{ slug: shared-report, title: \"A shared report\", publisher: \"ILO\" }}\n\
         organizations:\n  - {{ slug: {organization}, name: \"{organization}\", kind: other }}\n"
    )
}

#[tokio::test]
async fn an_import_waiting_on_another_that_brings_the_same_new_source_upserts_it() {
    let app = spawn_app_with_auth().await;
    let db = app.store.connection.clone();
    // The first import has written the new source and not committed yet.
    let first = begin(&db).await;
    write::apply::apply(&first, plan(&with_new_source("first-body")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            write::import::import(
                &db,
                &Default::default(),
                &actor("second"),
                plan(&with_new_source("second-body")),
                false,
            )
            .await
            .map(|_| ())
        }
    });
    until_blocked_or_done(&db, &second).await;
    write::commit(first, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = second.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&second), "OK", "{second:?}");
    let sources = source_rows(&db, "shared-report").await;
    assert_eq!(sources.len(), 1, "one source row");
    for slug in ["first-body", "second-body"] {
        assert_eq!(
            organization_row(&db, slug).await.source_id,
            sources.first().map(|s| s.id),
            "{slug}"
        );
    }
}

#[tokio::test]
async fn two_imports_started_together_with_the_same_new_source_both_succeed_on_both_stores() {
    let apps = [
        ("postgres", spawn_app_with_auth().await),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.auth = auth_settings()).await,
        ),
    ];
    let import = r#"mutation($d: String!) { importDocument(document: $d, dryRun: false) { sources { created updated unchanged } } }"#;
    let token = editor();
    for (store, app) in apps {
        let (one, two) = tokio::join!(
            app.graphql_as(&token, import, json!({ "d": with_new_source("body-one") })),
            app.graphql_as(&token, import, json!({ "d": with_new_source("body-two") })),
        );
        for body in [&one, &two] {
            assert!(body.get("errors").is_none(), "{store}: {body:#}");
        }
        let created = [&one, &two]
            .iter()
            .map(|b| {
                b["data"]["importDocument"]["sources"]["created"]
                    .as_i64()
                    .unwrap_or(-1)
            })
            .sum::<i64>();
        assert_eq!(
            created, 1,
            "{store}: one import created it: {one:#} {two:#}"
        );
        assert_eq!(
            source_rows(&app.store.connection, "shared-report")
                .await
                .len(),
            1,
            "{store}"
        );
    }
}
