//! What the triggers keep beside the link rows must follow every write: the order keys that
//! nested pages are cut from (migration `m20261201_000001_link_order_keys`), or a page comes back
//! in a stale order; and the link counts that `totalCount` reads (`m20261201_000002_link_counts`),
//! or a count is wrong. Renames, retitles, new dates, new and removed links, a delete with its
//! links and its restore, and a bulk load, on both stores, each checked against the records' own
//! values and against `COUNT(*)`.

use partnerships::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, auth_settings, read, spawn_app_with_auth, spawn_embedded_app_with, token,
};

async fn ok(app: &TestApp, query: &str, variables: Value) -> Value {
    let body = app
        .graphql_as(&token(Role::Editor, "order-keys"), query, variables)
        .await;
    assert!(body["errors"].is_null(), "{body:#}");
    body["data"].clone()
}

/// The texts at `key` of the nodes of a connection, in the order the server gave.
fn texts(connection: &Value, key: &str) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| n[key].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_sorted(values: &[String], what: &str) {
    let mut expected = values.to_vec();
    expected.sort();
    assert_eq!(values, expected, "{what} come back in order");
}

const AGREEMENT: &str = "ilo-undp-global-framework-of-action";

async fn parties(app: &TestApp) -> Vec<String> {
    let data = app
        .data(
            "query ($s: String!) { agreement(by: { slug: $s }) { parties(first: 50) { nodes { name } } } }",
            json!({ "s": AGREEMENT }),
        )
        .await;
    texts(&data["agreement"]["parties"], "name")
}

async fn ilo_agreements(app: &TestApp, order: &str) -> Vec<String> {
    let data = app
        .data(
            &format!(
                "{{ organization(by: {{ slug: \"ilo\" }}) {{ agreements(first: 100, orderBy: [{{ field: {order} }}]) {{ nodes {{ title signedOn }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let key = if order == "TITLE" {
        "title"
    } else {
        "signedOn"
    };
    texts(&data["organization"]["agreements"], key)
}

async fn order_keys_follow_every_write(app: &TestApp) {
    let before = parties(app).await;
    assert_eq!(
        before,
        [
            "International Labour Organization",
            "United Nations Development Programme"
        ]
    );

    // A rename moves the organization within every agreement's parties.
    let (undp, version) = read(app, "organization", "undp").await;
    ok(
        app,
        "mutation ($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { record { name } } }",
        json!({ "i": { "id": undp, "version": version, "name": "Aardvark Development Programme" } }),
    )
    .await;
    assert_eq!(
        parties(app).await,
        [
            "Aardvark Development Programme",
            "International Labour Organization"
        ],
        "the renamed party sorts by its new name"
    );

    // A new party takes its place by name.
    let (agreement, _) = read(app, "agreement", AGREEMENT).await;
    let (waipa, _) = read(app, "organization", "waipa").await;
    ok(
        app,
        "mutation ($i: AddAgreementPartyInput!) { addAgreementParty(input: $i) { record { slug } } }",
        json!({ "i": { "owner": agreement, "organization": waipa, "role": "SIGNATORY" } }),
    )
    .await;
    let after = parties(app).await;
    assert_eq!(after.len(), 3, "{after:?}");
    assert_sorted(&after, "parties after a new link");

    // A retitled agreement and a new signing date move it in the ILO's agreements.
    let (id, version) = read(app, "agreement", AGREEMENT).await;
    ok(
        app,
        "mutation ($i: UpdateAgreementInput!) { updateAgreement(input: $i) { record { title } } }",
        json!({ "i": { "id": id, "version": version, "title": "000 First of all", "signedOn": "1901" } }),
    )
    .await;
    let by_title = ilo_agreements(app, "TITLE").await;
    assert_eq!(
        by_title.first().map(String::as_str),
        Some("000 First of all")
    );
    assert_sorted(&by_title, "the ILO's agreements by title");
    let by_date = ilo_agreements(app, "SIGNED_ON").await;
    assert_eq!(by_date.first().map(String::as_str), Some("1901"));
    let dated: Vec<String> = by_date.into_iter().filter(|d| !d.is_empty()).collect();
    assert_sorted(&dated, "the ILO's agreements by signing date");
}

#[tokio::test]
async fn order_keys_follow_every_write_on_postgres() {
    let app = spawn_app_with_auth().await;
    order_keys_follow_every_write(&app).await;
}

#[tokio::test]
async fn order_keys_follow_every_write_on_sqlite() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    order_keys_follow_every_write(&app).await;
}

/// The totals of the agreement's parties and of WAIPA's agreements.
async fn totals(app: &TestApp) -> (u64, u64) {
    let data = app
        .data(
            "query ($s: String!) { agreement(by: { slug: $s }) { parties { totalCount } } \
             organization(by: { slug: \"waipa\" }) { agreements { totalCount } signed: agreements(role: { eq: SIGNATORY }) { totalCount } } }",
            json!({ "s": AGREEMENT }),
        )
        .await;
    let organization = &data["organization"];
    assert_eq!(
        organization["agreements"]["totalCount"], organization["signed"]["totalCount"],
        "WAIPA signs all its agreements, so the kept count and the counted one agree"
    );
    (
        data["agreement"]["parties"]["totalCount"]
            .as_u64()
            .unwrap_or(u64::MAX),
        organization["agreements"]["totalCount"]
            .as_u64()
            .unwrap_or(u64::MAX),
    )
}

/// Every record's kept link count against `COUNT(*)` of its links, for every link table.
async fn assert_kept_counts_match(app: &TestApp) {
    let db = &app.store.connection;
    for (table, columns) in migration::m20261201_000002_link_counts::LINKS {
        for column in columns {
            let sql = format!(
                "SELECT COUNT(*) AS wrong FROM ( \
                   SELECT {column} AS owner, COUNT(*) AS n FROM {table} GROUP BY {column}) counted \
                 FULL OUTER JOIN ( \
                   SELECT owner_id AS owner, SUM(delta) AS n FROM link_counts \
                   WHERE link_table = '{table}' AND owner_column = '{column}' GROUP BY owner_id) kept \
                 ON kept.owner = counted.owner \
                 WHERE COALESCE(kept.n, 0) <> COALESCE(counted.n, 0)"
            );
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("no row"));
            let wrong: i64 = row.try_get("", "wrong").unwrap_or(-1);
            assert_eq!(
                wrong, 0,
                "{table}.{column}: records whose kept count is off"
            );
        }
    }
}

async fn link_counts_follow_every_write(app: &TestApp) {
    let (parties, waipa_agreements) = totals(app).await;
    assert_eq!(parties, 2);
    let (agreement, _) = read(app, "agreement", AGREEMENT).await;
    let (waipa, _) = read(app, "organization", "waipa").await;
    let link = json!({ "owner": agreement, "organization": waipa, "role": "SIGNATORY" });
    ok(
        app,
        "mutation ($i: AddAgreementPartyInput!) { addAgreementParty(input: $i) { record { slug } } }",
        json!({ "i": link }),
    )
    .await;
    assert_eq!(
        totals(app).await,
        (3, waipa_agreements + 1),
        "after a new link"
    );
    ok(
        app,
        "mutation ($i: RemoveAgreementPartyInput!) { removeAgreementParty(input: $i) { record { slug } } }",
        json!({ "i": link }),
    )
    .await;
    assert_eq!(
        totals(app).await,
        (2, waipa_agreements),
        "after its removal"
    );
    assert_kept_counts_match(app).await;

    // Deleting WAIPA with its links, then restoring it, takes its links away and back.
    let (id, version) = read(app, "organization", "waipa").await;
    let admin = token(Role::Admin, "order-keys-admin");
    let deleted = app
        .graphql_as(
            &admin,
            "mutation ($i: DeleteRecordInput!) { deleteOrganization(input: $i) { auditEntry { id } } }",
            json!({ "i": { "id": id, "version": version, "detachLinks": true } }),
        )
        .await;
    let entry = deleted["data"]["deleteOrganization"]["auditEntry"]["id"].clone();
    assert!(entry.is_string(), "{deleted:#}");
    assert_kept_counts_match(app).await;
    let restored = app
        .graphql_as(
            &admin,
            "mutation ($e: ID!) { restore(auditEntryId: $e) { __typename } }",
            json!({ "e": entry }),
        )
        .await;
    assert!(restored["errors"].is_null(), "{restored:#}");
    assert_eq!(
        totals(app).await,
        (2, waipa_agreements),
        "after the restore"
    );
    assert_kept_counts_match(app).await;
}

#[tokio::test]
async fn link_counts_follow_every_write_on_postgres() {
    let app = spawn_app_with_auth().await;
    link_counts_follow_every_write(&app).await;
}

#[tokio::test]
async fn link_counts_follow_every_write_on_sqlite() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    link_counts_follow_every_write(&app).await;
}

#[tokio::test]
async fn a_bulk_load_keeps_the_link_counts_on_both_stores() {
    for app in [
        crate::helpers::spawn_app().await,
        crate::helpers::spawn_embedded_app().await,
    ] {
        partnerships::generate::run(
            &app.store.connection,
            partnerships::generate::Options {
                scale: 0.01,
                seed: 7,
                progress: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
        assert_kept_counts_match(&app).await;
    }
}

/// How many delta rows WAIPA's agreement count is kept in.
async fn waipa_count_rows(app: &TestApp) -> i64 {
    let db = &app.store.connection;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM link_counts WHERE link_table = 'agreement_parties' \
             AND owner_column = 'organization_id' \
             AND owner_id = (SELECT id FROM organizations WHERE slug = 'waipa')",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no row"));
    row.try_get("", "n").unwrap_or(-1)
}

/// Links WAIPA to an agreement and unlinks it again, `times` times: two deltas each time.
async fn relink_waipa(app: &TestApp, agreement: &str, times: usize) {
    let (agreement, _) = read(app, "agreement", agreement).await;
    let (waipa, _) = read(app, "organization", "waipa").await;
    let link = json!({ "owner": agreement, "organization": waipa, "role": "SIGNATORY" });
    for _ in 0..times {
        for mutation in ["addAgreementParty", "removeAgreementParty"] {
            let input = format!("{}{}Input", &mutation[..1].to_uppercase(), &mutation[1..]);
            ok(
                app,
                &format!(
                    "mutation ($i: {input}!) {{ {mutation}(input: $i) {{ record {{ slug }} }} }}"
                ),
                json!({ "i": link }),
            )
            .await;
        }
    }
}

/// Folding the deltas (PostgreSQL) while writers add to them loses and doubles nothing: every
/// kept count still equals `COUNT(*)`, and a fold when the writes are done leaves WAIPA one row.
#[tokio::test]
async fn folding_the_link_counts_beside_writers_keeps_every_count() {
    let app = spawn_app_with_auth().await;
    let (_, waipa_agreements) = totals(&app).await;
    let writing = std::sync::atomic::AtomicBool::new(true);
    let folds = async {
        let mut folds = 0;
        while writing.load(std::sync::atomic::Ordering::Relaxed) {
            partnerships::store::link_counts::fold(&app.store.connection)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            folds += 1;
            tokio::task::yield_now().await;
        }
        folds
    };
    let writes = async {
        futures::future::join(
            relink_waipa(&app, AGREEMENT, 10),
            relink_waipa(&app, "ilo-oecd-partnership", 10),
        )
        .await;
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
    };
    let (folds, ()) = futures::future::join(folds, writes).await;
    // How the folds and the writes interleave is up to the scheduler (a loaded machine may
    // run one long fold across all the writes); whatever the interleaving, no count may be off.
    eprintln!("{folds} folds beside the writes");
    assert_kept_counts_match(&app).await;
    assert_eq!(totals(&app).await.1, waipa_agreements);
    partnerships::store::link_counts::fold(&app.store.connection)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(waipa_count_rows(&app).await, 1, "folded into one row");
    assert_kept_counts_match(&app).await;
}

/// A server on PostgreSQL folds the deltas on its own after writes (`LINK_COUNT_FOLD_SECS`).
#[tokio::test]
async fn a_server_folds_the_link_counts_after_writes() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.auth = auth_settings();
        s.database.link_count_fold_secs = 1;
    })
    .await;
    relink_waipa(&app, AGREEMENT, 3).await;
    // Each write adds a row; the server folds them within a few of its one-second rounds
    // (statistics reach `pg_stat_user_tables` within a second or so).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut rows = waipa_count_rows(&app).await;
    while rows > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        rows = waipa_count_rows(&app).await;
    }
    assert_eq!(rows, 1, "WAIPA's deltas folded into one row");
    assert_kept_counts_match(&app).await;
}

/// A fold has a timeout of its own (its period), not the requests' `DB_STATEMENT_TIMEOUT_MS`: a
/// server whose statements may take 50 ms still folds 200,000 delta rows (which takes longer),
/// and every count is still right.
#[tokio::test]
async fn a_fold_is_not_cut_by_the_requests_statement_timeout() {
    let app = crate::helpers::spawn_app_with(|s| s.auth = auth_settings()).await;
    // 100,000 pairs of +1 and -1 on WAIPA's agreements: its count does not change.
    app.store
        .connection
        .execute_unprepared(
            "INSERT INTO link_counts (link_table, owner_column, owner_id, delta) \
             SELECT 'agreement_parties', 'organization_id', o.id, d.delta \
             FROM organizations o, generate_series(1, 100000) AS g, (VALUES (1), (-1)) AS d (delta) \
             WHERE o.slug = 'waipa'",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(waipa_count_rows(&app).await > 200_000);
    let _folder = crate::helpers::spawn_beside(&app, |s| {
        s.database.statement_timeout_ms = 50;
        s.database.link_count_fold_secs = 1;
    })
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut rows = waipa_count_rows(&app).await;
    while rows > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        rows = waipa_count_rows(&app).await;
    }
    assert_eq!(rows, 1, "WAIPA's deltas folded into one row");
    assert_kept_counts_match(&app).await;
}

/// `totalCount` of a root list filtered by one relation named by slug (and dates the links
/// copy) is counted from the link rows alone (`store::filter::count_by_links`); the same
/// filter inside `and` takes the general statement over the records. The two agree, before and
/// after the dates and links they read change.
async fn counts_by_links_answer_as_the_records_do(app: &TestApp) {
    let cases = [
        (
            "events",
            json!({ "participants": { "organization": { "slug": { "eq": "ilo" } } }, "startsOn": { "from": "2015" } }),
        ),
        (
            "events",
            json!({ "participants": { "role": { "eq": "ORGANIZER" }, "organization": { "slug": { "in": ["ilo", "undp", "oecd"] } } } }),
        ),
        (
            "projects",
            json!({ "participants": { "organization": { "slug": { "eq": "ilo" } } }, "endsOn": { "isNull": false } }),
        ),
        (
            "agreements",
            json!({ "parties": { "organization": { "slug": { "eq": "ilo" } } }, "signedOn": { "from": "1900", "to": "1902" } }),
        ),
        (
            "agreements",
            json!({ "parties": { "organization": { "slug": { "eq": "waipa" } } } }),
        ),
        (
            "organizations",
            json!({ "agreements": { "agreement": { "slug": { "eq": AGREEMENT } } } }),
        ),
    ];
    let filter_type = |list: &str| match list {
        "events" => "EventFilter",
        "projects" => "ProjectFilter",
        "agreements" => "AgreementFilter",
        _ => "OrganizationFilter",
    };
    let counts = async |app: &TestApp| {
        let mut found = Vec::new();
        for (list, filter) in &cases {
            let query = format!(
                "query ($f: {ty}, $g: {ty}) {{ links: {list}(filter: $f) {{ totalCount }} records: {list}(filter: $g) {{ totalCount }} }}",
                ty = filter_type(list)
            );
            let data = app
                .data(&query, json!({ "f": filter, "g": { "and": [filter] } }))
                .await;
            assert_eq!(
                data["links"]["totalCount"], data["records"]["totalCount"],
                "{list} {filter}: {data:#}"
            );
            found.push(data["links"]["totalCount"].as_u64().unwrap_or_default());
        }
        found
    };
    let before = counts(app).await;
    assert!(
        before[0] > 0 && before[2] > 0,
        "the seed has such records: {before:?}"
    );

    // A new signing date moves the agreement into the 1900–1902 range; a new party adds an
    // organization to the agreement.
    let (id, version) = read(app, "agreement", AGREEMENT).await;
    ok(
        app,
        "mutation ($i: UpdateAgreementInput!) { updateAgreement(input: $i) { record { title } } }",
        json!({ "i": { "id": id, "version": version, "signedOn": "1901" } }),
    )
    .await;
    let (waipa, _) = read(app, "organization", "waipa").await;
    ok(
        app,
        "mutation ($i: AddAgreementPartyInput!) { addAgreementParty(input: $i) { record { slug } } }",
        json!({ "i": { "owner": id, "organization": waipa, "role": "PARTNER" } }),
    )
    .await;
    let after = counts(app).await;
    assert_eq!(
        after[4],
        before[4] + 1,
        "WAIPA's new agreement is counted: {after:?}"
    );
    assert_eq!(
        after[3],
        before[3] + 1,
        "the agreement signed anew is counted: {after:?}"
    );
    assert_eq!(
        after[5],
        before[5] + 1,
        "the new party is counted: {after:?}"
    );
}

#[tokio::test]
async fn counts_by_links_answer_as_the_records_do_on_postgres() {
    let app = spawn_app_with_auth().await;
    counts_by_links_answer_as_the_records_do(&app).await;
}

#[tokio::test]
async fn counts_by_links_answer_as_the_records_do_on_sqlite() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    counts_by_links_answer_as_the_records_do(&app).await;
}
