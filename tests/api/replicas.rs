//! Read replicas against a real streaming replica of the test cluster (made by `scripts/test`
//! with `pg_basebackup`, a hot standby on its own port): reads on the replica, writes on the
//! primary, read-your-writes with a consistency token while replay is paused, the lag bound,
//! a replica stopped and started under load, and two instances that behave as one.

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use partnerships::{
    auth::Role,
    config::{DatabaseUrl, DatabaseUrls, ServeSettings},
    graphql::persisted::sha256_hex,
    startup::Application,
    store::replicas::commit_position,
};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::{
    TempSqlite, TestApp, auth_settings, error_codes, pg_ctl, replica_server_url, settings,
    spawn_app_with, spawn_beside, token,
};

/// The tests that pause the replica's replay or stop it run one at a time; the others only
/// read from it, and hold the lock too so that they see it streaming.
static REPLICA: Mutex<()> = Mutex::const_new(());

/// How often the tests' servers check the replica.
const CHECK_MS: u64 = 50;

const NAME: &str = r#"{ organization(by: {slug: "wto"}) { name } }"#;
const RENAME: &str = r#"mutation($id: ID!, $v: Int!, $name: String!) { updateOrganization(input: {id: $id, version: $v, name: $name}) { record { name version } } }"#;

/// The replica settings of a test server on the database `database_url` names.
fn replicated(settings: &mut ServeSettings, max_lag_ms: u64) {
    let database = settings
        .database
        .database_url
        .as_ref()
        .map(|url| {
            url.as_str()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_else(|| panic!("a PostgreSQL app"));
    let replica = format!("{}/{database}", replica_server_url());
    settings.database.replica_urls = DatabaseUrls(vec![
        DatabaseUrl::from_str(&replica).unwrap_or_else(|e| panic!("{e}")),
    ]);
    settings.database.replica_max_lag_ms = max_lag_ms;
    settings.database.replica_check_interval_ms = CHECK_MS;
    settings.auth = auth_settings();
}

/// The seeded app with the replica, once the replica holds everything the primary has.
async fn spawn_replicated(max_lag_ms: u64) -> TestApp {
    let app = spawn_app_with(|s| replicated(s, max_lag_ms)).await;
    caught_up(&app).await;
    app
}

/// Waits until the app's replica has replayed everything the primary has written so far and
/// serves reads.
async fn caught_up(app: &TestApp) {
    let target = commit_position(&app.store.writer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let replica = &app.store.replicas.members[0];
    let max_lag = app.store.replicas.settings.max_lag;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = replica.state();
        if state.up
            && state.replayed.is_some_and(|r| r >= target.0)
            && state.lag().is_some_and(|lag| lag <= max_lag)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica did not catch up with {target}: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(CHECK_MS)).await;
    }
}

/// Which server answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Primary,
    Replica,
}

/// Statements sent so far through the app's primary pool and its replica's.
fn counts(app: &TestApp) -> (u64, u64) {
    (
        app.store.statements.get(),
        app.store.replicas.members[0].statements.get(),
    )
}

/// Sends a GraphQL body with extra headers; the JSON answer, its headers, and which server's
/// statement counter moved (the app sends nothing else meanwhile: the watcher has its own
/// connections).
async fn send(
    app: &TestApp,
    body: Value,
    headers: &[(&str, &str)],
) -> (Value, reqwest::header::HeaderMap, Server) {
    let before = counts(app);
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    let headers = response.headers().clone();
    let answer: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
    let after = counts(app);
    let server = match (after.0 > before.0, after.1 > before.1) {
        (true, false) => Server::Primary,
        (false, true) => Server::Replica,
        moved => panic!("expected one server to answer, saw {moved:?} for {answer:#}"),
    };
    (answer, headers, server)
}

/// The name of the WTO as a read sees it, and who answered.
async fn wto_name(app: &TestApp, headers: &[(&str, &str)]) -> (String, Server) {
    let (answer, _, server) = send(app, json!({ "query": NAME }), headers).await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let name = answer["data"]["organization"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer:#}"))
        .to_owned();
    (name, server)
}

/// Renames the WTO through `app` (the version read on the primary, with `after`'s token) and
/// returns the mutation's consistency token.
async fn rename(app: &TestApp, name: &str, after: Option<&str>) -> String {
    let version_query = r#"{ organization(by: {slug: "wto"}) { id version } }"#;
    let mut headers = Vec::new();
    if let Some(token) = after {
        headers.push(("x-consistency-token", token));
    }
    let (current, _, _) = send(app, json!({ "query": version_query }), &headers).await;
    let record = &current["data"]["organization"];
    let bearer = format!("Bearer {}", token(Role::Editor, "replica-test"));
    let (answer, headers, server) = send(
        app,
        json!({ "query": RENAME, "variables": { "id": record["id"], "v": record["version"], "name": name } }),
        &[("authorization", bearer.as_str())],
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    assert_eq!(server, Server::Primary, "a mutation runs on the primary");
    let token = answer["extensions"]["consistencyToken"]
        .as_str()
        .unwrap_or_else(|| panic!("a mutation's answer carries a token: {answer:#}"))
        .to_owned();
    assert!(token.starts_with("v1:"), "{token}");
    assert_eq!(
        headers
            .get("x-consistency-token")
            .and_then(|v| v.to_str().ok()),
        Some(token.as_str()),
        "and the same token in a header"
    );
    token
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn reads_go_to_the_replica_and_writes_to_the_primary() {
    let _replica = REPLICA.lock().await;
    let app = spawn_replicated(5_000).await;
    for _ in 0..5 {
        let (name, server) = wto_name(&app, &[]).await;
        assert_eq!(name, "World Trade Organization");
        assert_eq!(server, Server::Replica);
    }
    let token = rename(&app, "WTO (renamed on the primary)", None).await;
    let (name, server) = wto_name(&app, &[("x-consistency-token", &token)]).await;
    assert_eq!(name, "WTO (renamed on the primary)");
    assert!(
        matches!(server, Server::Primary | Server::Replica),
        "either, as long as it has the write"
    );

    let ready = get_json(&app, "/readyz").await;
    assert_eq!(ready["status"], "ready", "{ready:#}");
    assert_eq!(ready["replicas"][0]["state"], "up", "{ready:#}");
    let name = &app.store.replicas.members[0].name;
    assert!(name.contains("***"), "the password is masked: {name}");
    assert_eq!(ready["replicas"][0]["name"], name.as_str());
    let text = app.metrics().await;
    assert!(
        text.contains(&format!(
            "partnerships_db_replica_up{{replica=\"{name}\"}} 1"
        )),
        "{text}"
    );
    let reads = text
        .lines()
        .find(|line| {
            line.starts_with(&format!(
                "partnerships_graphql_reads_total{{server=\"{name}\"}}"
            ))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no reads counted for the replica: {text}"));
    assert!(reads >= 5, "{reads}");
    assert!(
        text.contains("partnerships_db_replica_lag_seconds{"),
        "{text}"
    );
}

#[tokio::test]
async fn a_bad_consistency_token_is_refused() {
    let app = spawn_app_with(|_| {}).await;
    for (headers, body) in [
        (
            vec![("x-consistency-token", "0/1")],
            json!({ "query": NAME }),
        ),
        (
            vec![("x-consistency-token", "v1:zz/1")],
            json!({ "query": NAME }),
        ),
        (
            vec![],
            json!({ "query": NAME, "extensions": { "consistencyToken": 7 } }),
        ),
    ] {
        let mut request = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("accept", "application/graphql-response+json")
            .json(&body);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 400);
        let answer: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(error_codes(&answer), ["BAD_REQUEST"], "{answer:#}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("consistency token")),
            "{answer:#}"
        );
    }
    // Without replicas a well-formed token is accepted and changes nothing.
    let answer: Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-consistency-token", "v1:0/1")
        .json(&json!({ "query": NAME }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        answer["data"]["organization"]["name"], "World Trade Organization",
        "{answer:#}"
    );
}

#[tokio::test]
async fn a_client_reads_its_own_writes_while_replay_is_paused() {
    let _replica = REPLICA.lock().await;
    const MAX_LAG_MS: u64 = 1_500;
    let app = spawn_replicated(MAX_LAG_MS).await;
    let (before, server) = wto_name(&app, &[]).await;
    assert_eq!(server, Server::Replica);

    // The grant that lets the test role pause replay is in the `postgres` database (scripts/test).
    let replica = Database::connect(format!("{}/postgres", replica_server_url()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _paused = Paused::new(&replica).await;

    let token = rename(&app, "WTO (replay paused)", None).await;
    let committed = Instant::now();
    let (name, server) = wto_name(&app, &[("x-consistency-token", &token)]).await;
    assert_eq!(
        name, "WTO (replay paused)",
        "the token's reader sees its write"
    );
    assert_eq!(
        server,
        Server::Primary,
        "the paused replica has not replayed it"
    );
    let (answer, _, server) = send(
        &app,
        json!({ "query": NAME, "extensions": { "consistencyToken": token } }),
        &[],
    )
    .await;
    assert_eq!(
        answer["data"]["organization"]["name"],
        "WTO (replay paused)"
    );
    assert_eq!(
        server,
        Server::Primary,
        "the token also comes as an extension"
    );

    // Without the token: the replica's answer, stale, while within the lag bound; then the
    // primary's. A stale answer misses a commit made before `committed`, so it may only come
    // from a read sent less than the bound after it.
    let mut stale = 0;
    let deadline = Duration::from_millis(MAX_LAG_MS + 2_000);
    loop {
        let sent = committed.elapsed();
        let (name, server) = wto_name(&app, &[]).await;
        if name == before {
            assert_eq!(server, Server::Replica);
            assert!(
                sent < Duration::from_millis(MAX_LAG_MS),
                "a stale answer {sent:?} after the commit, past the bound"
            );
            stale += 1;
        } else {
            assert_eq!(name, "WTO (replay paused)");
            assert_eq!(server, Server::Primary);
            break;
        }
        assert!(sent < deadline, "reads still stale after {sent:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stale > 0, "the replica served within the bound");
    let ready = get_json(&app, "/readyz").await;
    assert_eq!(ready["replicas"][0]["state"], "stale", "{ready:#}");

    drop(_paused);
    caught_up(&app).await;
    let (name, server) = wto_name(&app, &[]).await;
    assert_eq!(
        (name.as_str(), server),
        ("WTO (replay paused)", Server::Replica)
    );
}

/// Replay paused on the replica until dropped (also when the test fails).
struct Paused {
    url: String,
}

impl Paused {
    async fn new(replica: &sea_orm::DatabaseConnection) -> Self {
        replica
            .execute_unprepared("SELECT pg_wal_replay_pause()")
            .await
            .unwrap_or_else(|e| panic!("pausing replay: {e}"));
        loop {
            let row = replica
                .query_one_raw(sea_orm::Statement::from_string(
                    replica.get_database_backend(),
                    "SELECT pg_get_wal_replay_pause_state() AS state",
                ))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("no row"));
            let state: String = row.try_get("", "state").unwrap_or_else(|e| panic!("{e}"));
            if state == "paused" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Self {
            url: format!("{}/postgres", replica_server_url()),
        }
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let url = self.url.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(replica) = Database::connect(url).await {
                        let _ = replica
                            .execute_unprepared("SELECT pg_wal_replay_resume()")
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

/// Runs `pg_ctl <action>` on the test replica's cluster, as its owner.
fn replica_ctl(action: &str) {
    pg_ctl("TEST_REPLICA_PGDATA", action);
}

/// The replica started again when dropped (also when the test fails).
struct Stopped;

impl Drop for Stopped {
    fn drop(&mut self) {
        replica_ctl("start");
    }
}

/// Clients reading at once in `reads_move_to_the_primary_while_the_replica_is_stopped`.
const CLIENTS: u64 = 4;

#[tokio::test]
async fn reads_move_to_the_primary_while_the_replica_is_stopped() {
    let _replica = REPLICA.lock().await;
    let app = Arc::new(spawn_replicated(5_000).await);
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut load = Vec::new();
    for _ in 0..CLIENTS {
        let (app, stop, answered, failed) =
            (app.clone(), stop.clone(), answered.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let body = app.graphql(NAME, json!({})).await;
                if body.get("errors").is_some() || body["data"]["organization"]["name"].is_null() {
                    failed.fetch_add(1, Ordering::Relaxed);
                    errors.push(body);
                } else {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
            errors
        }));
    }
    let wait_for_reads = |n: u64| {
        let answered = answered.clone();
        async move {
            let target = answered.load(Ordering::Relaxed) + n;
            let deadline = Instant::now() + Duration::from_secs(60);
            while answered.load(Ordering::Relaxed) < target {
                assert!(Instant::now() < deadline, "the load stalled");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for_reads(50).await;
    let on_replica = app.store.replicas.members[0].statements.get();
    assert!(on_replica >= 40, "reads went to the replica: {on_replica}");

    replica_ctl("stop -m fast");
    let stopped = Stopped;
    let (primary_then, replica_then) = counts(&app);
    wait_for_reads(100).await;
    let (primary_now, replica_now) = counts(&app);
    // Up to one read per client may have run on the replica before it stopped and been
    // answered after.
    assert!(
        primary_now >= primary_then + 96,
        "reads moved to the primary: {primary_then} → {primary_now}"
    );
    // A read routed to the replica before its failure is noticed is tried there once: the
    // pool no longer pings a connection before each statement (only after a second idle), so
    // the statement itself meets the dead socket (and is counted), fails, marks the replica
    // suspect and runs again on the primary (no client sees an error: asserted at the end).
    // That is at most one attempt per client; nothing is served by the stopped replica.
    assert!(
        replica_now <= replica_then + CLIENTS,
        "none reached the stopped replica but failed attempts: {replica_then} → {replica_now}"
    );
    let ready = get_json(&app, "/readyz").await;
    assert_eq!(
        ready["status"], "ready",
        "the primary still serves: {ready:#}"
    );
    assert_eq!(ready["replicas"][0]["state"], "down", "{ready:#}");
    assert!(app.metrics().await.contains(&format!(
        "partnerships_db_replica_up{{replica=\"{}\"}} 0",
        app.store.replicas.members[0].name
    )));

    drop(stopped);
    caught_up(&app).await;
    let replica_then = app.store.replicas.members[0].statements.get();
    wait_for_reads(50).await;
    assert!(
        app.store.replicas.members[0].statements.get() >= replica_then + 40,
        "reads came back to the replica"
    );

    stop.store(true, Ordering::Relaxed);
    for task in load {
        let errors = task.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(errors.is_empty(), "clients saw errors: {errors:#?}");
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn two_instances_on_one_primary_and_replica_behave_as_one() {
    let _replica = REPLICA.lock().await;
    let one = spawn_replicated(5_000).await;
    let two = spawn_beside(&one, |s| replicated(s, 5_000)).await;
    caught_up(&two).await;

    // A write through either is read through the other: at once with its token, and without
    // it within the lag bound.
    let token = rename(&one, "WTO (through one)", None).await;
    let (name, _) = wto_name(&two, &[("x-consistency-token", &token)]).await;
    assert_eq!(name, "WTO (through one)");
    let token = rename(&two, "WTO (through two)", Some(&token)).await;
    let (name, _) = wto_name(&one, &[("x-consistency-token", &token)]).await;
    assert_eq!(name, "WTO (through two)");
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let (name, _) = wto_name(&one, &[]).await;
        if name == "WTO (through two)" {
            break;
        }
        assert!(Instant::now() < deadline, "still {name}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Automatic persisted queries are per instance: one registered on the first is unknown to
    // the second until a client sends the text there once (Apollo's link does on its own).
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(NAME) } });
    let (registered, _, _) =
        send(&one, json!({ "query": NAME, "extensions": persisted }), &[]).await;
    assert_eq!(
        registered["data"]["organization"]["name"],
        "WTO (through two)"
    );
    let (by_hash, _, _) = send(&one, json!({ "extensions": persisted }), &[]).await;
    assert_eq!(by_hash["data"]["organization"]["name"], "WTO (through two)");
    let unknown = two
        .client
        .post(format!("{}/graphql", two.address))
        .json(&json!({ "extensions": persisted }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        error_codes(&unknown),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{unknown:#}"
    );
    let (registered, _, _) =
        send(&two, json!({ "query": NAME, "extensions": persisted }), &[]).await;
    assert_eq!(
        registered["data"]["organization"]["name"],
        "WTO (through two)"
    );
    let (by_hash, _, _) = send(&two, json!({ "extensions": persisted }), &[]).await;
    assert_eq!(by_hash["data"]["organization"]["name"], "WTO (through two)");
}

#[tokio::test]
async fn a_replica_that_is_down_at_start_is_skipped() {
    // Nothing listens on port 1: the server starts, reads go to the primary.
    let app = spawn_app_with(|s| {
        s.database.replica_urls = DatabaseUrls(vec![
            DatabaseUrl::from_str("postgres://partnerships:secret@127.0.0.1:1/partnerships")
                .unwrap_or_else(|e| panic!("{e}")),
        ]);
        s.database.replica_check_interval_ms = CHECK_MS;
    })
    .await;
    let (name, server) = wto_name(&app, &[]).await;
    assert_eq!(
        (name.as_str(), server),
        ("World Trade Organization", Server::Primary)
    );
    let ready = get_json(&app, "/readyz").await;
    assert_eq!(ready["status"], "ready", "{ready:#}");
    assert_eq!(ready["replicas"][0]["state"], "down", "{ready:#}");
    assert_eq!(
        ready["replicas"][0]["name"],
        "postgres://partnerships:***@127.0.0.1:1/partnerships"
    );
}

#[tokio::test]
async fn the_embedded_store_has_no_replicas() {
    let file = TempSqlite::new();
    let mut settings = settings(None, file.path.clone());
    settings.database.replica_urls = DatabaseUrls(vec![
        DatabaseUrl::from_str("postgres://partnerships@127.0.0.1:5433/partnerships")
            .unwrap_or_else(|e| panic!("{e}")),
    ]);
    match Application::build(settings).await {
        Ok(_) => panic!("the embedded store started with a replica"),
        Err(err) => assert!(
            format!("{err:#}").contains("DATABASE_REPLICA_URLS needs PostgreSQL"),
            "{err:#}"
        ),
    }
}
