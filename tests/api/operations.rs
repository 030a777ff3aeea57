//! Running the server: metrics, request ids, CORS, compression, the database going down and
//! coming back, and graceful shutdown with requests in flight.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use partnerships::{auth::Role, seed, startup::Application};
use serde_json::{Value, json};

use crate::{
    helpers::{
        TestDb, auth_settings, error_codes, seed_file, settings, spawn_app, spawn_app_with, token,
    },
    proxy::{Proxy, cluster_address},
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The parties to the ILO–UNDP Global Framework of Action: a statement for the agreement and
/// one for its parties.
const PARTIES: &str = r#"query Parties {
  agreement(by: { slug: "ilo-undp-global-framework-of-action" }) {
    parties { nodes { acronym } }
  }
}"#;

fn parties_of(body: &Value) -> Vec<String> {
    let mut acronyms: Vec<String> = body["data"]["agreement"]["parties"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n["acronym"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    acronyms.sort();
    acronyms
}

async fn get_text(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// POSTs with `Accept: application/graphql-response+json`; the status and the body.
async fn post(client: &reqwest::Client, address: &str, query: &str) -> (u16, Value) {
    let response = client
        .post(format!("{address}/graphql"))
        .header("Accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn metrics_count_requests_by_operation_outcome_and_statements() {
    let app = spawn_app().await;
    let body = app.graphql(PARTIES, json!({})).await;
    assert_eq!(parties_of(&body), ["ILO", "UNDP"]);
    let invalid = app.graphql("query Broken { nope }", json!({})).await;
    assert_eq!(error_codes(&invalid), ["GRAPHQL_VALIDATION_FAILED"]);
    let missing = app
        .graphql(
            r#"query Missing { organization(by: { slug: "no-such-organization" }) { name } }"#,
            json!({}),
        )
        .await;
    assert!(missing["data"]["organization"].is_null(), "{missing:#}");

    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap_or_default();
    for line in [
        r#"partnerships_graphql_requests_total{operation="Parties",outcome="ok"} 1"#,
        r#"partnerships_graphql_requests_total{operation="Broken",outcome="rejected"} 1"#,
        r#"partnerships_graphql_requests_total{operation="Missing",outcome="ok"} 1"#,
        r#"partnerships_graphql_request_duration_seconds_count{operation="Parties"} 1"#,
        "partnerships_graphql_sql_statements_per_request_count 3",
        "partnerships_db_pool_max_connections 5",
        r#"partnerships_http_responses_total{status="200"} 3"#,
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    // Two for the parties (the agreement, then its parties), none for the refused query, one
    // for the lookup that found nothing.
    let statements = text
        .lines()
        .find_map(|l| l.strip_prefix("partnerships_sql_statements_total "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    assert_eq!(statements, Some(3.0), "{text}");
    assert!(
        text.contains(r#"partnerships_db_pool_connections{state="idle"}"#)
            && text.contains(r#"partnerships_db_pool_connections{state="in_use"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = spawn_app_with(|s| s.http.metrics = false).await;
    let (status, _) = get_text(&app.client, &format!("{}/metrics", app.address)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_sane_incoming_request_id_is_kept_and_any_other_replaced() {
    let app = spawn_app().await;
    let send = |id: &'static str| {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("X-Request-Id", id)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    };
    let kept = send("edge-7f3a:42").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept.headers()["x-request-id"], "edge-7f3a:42");

    let long: &'static str = "x".repeat(129).leak();
    for unsafe_id in ["two words", "line\tbreak", long] {
        let replaced = send(unsafe_id).await.unwrap_or_else(|e| panic!("{e}"));
        let id = replaced.headers()["x-request-id"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert_ne!(id, unsafe_id);
        assert_eq!(id.len(), 36, "a UUID: {id}");
    }

    // Without one, every response still carries a fresh id, probes included.
    let (a, b) = (
        app.client
            .get(format!("{}/healthz", app.address))
            .send()
            .await,
        app.client
            .get(format!("{}/healthz", app.address))
            .send()
            .await,
    );
    let id = |r: reqwest::Result<reqwest::Response>| {
        r.unwrap_or_else(|e| panic!("{e}")).headers()["x-request-id"]
            .to_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_ne!(id(a), id(b));
}

#[tokio::test]
async fn cors_answers_listed_origins_only() {
    let app = spawn_app_with(|s| {
        s.http.cors_allowed_origins = vec!["https://app.example.org".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type, authorization",
            )
            .send()
    };
    let allowed = preflight("https://app.example.org")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );

    let other = preflight("https://evil.example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        other.headers().get("access-control-allow-origin").is_none(),
        "an unlisted origin gets no CORS grant"
    );

    let actual = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Origin", "https://app.example.org")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        actual.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let exposed = actual.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

#[tokio::test]
async fn responses_are_compressed_for_clients_that_ask() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Accept-Encoding", "gzip")
        .json(&json!({ "query": "{ organizations(first: 20) { nodes { name description } } }" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let bytes = response.bytes().await.unwrap_or_default();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
}

/// Among the codings a client accepts, zstd then gzip are chosen before brotli, whose encoder
/// cost a fifth of the nested list's throughput (src/http/encoding.rs); brotli alone is still
/// served, and a coding refused with `q=0` never is.
#[tokio::test]
async fn the_cheapest_accepted_coding_is_chosen() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ organizations(first: 20) { nodes { name description } } }" });
    for (accept, expected, magic) in [
        (
            "gzip, deflate, br, zstd",
            "zstd",
            &[0x28u8, 0xb5, 0x2f, 0xfd][..],
        ),
        ("br;q=1.0, gzip;q=0.8", "gzip", &[0x1f, 0x8b][..]),
        ("zstd;q=0, br, gzip", "gzip", &[0x1f, 0x8b][..]),
        ("br", "br", &[][..]),
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("Accept-Encoding", accept)
            .json(&query)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.headers()["content-encoding"], expected, "{accept}");
        let bytes = response.bytes().await.unwrap_or_default();
        assert!(bytes.starts_with(magic), "{accept}: a {expected} stream");
    }
}

/// A server on `db` through `proxy`, with a short acquire timeout so that a request that does
/// reach for the database while it is down gives up soon.
async fn serve_through(proxy: &Proxy, db: &TestDb) -> String {
    let mut settings = settings(Some(&proxy.url_for(&db.url)), PathBuf::new());
    settings.database.acquire_timeout_secs = 2;
    settings.database.connect_timeout_secs = 2;
    settings.auth = auth_settings();
    let app = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("the server must start with the database down: {e:#}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

async fn seeded_db() -> TestDb {
    let db = TestDb::migrated().await;
    seed::load_file(&db.connect().await, &seed_file())
        .await
        .unwrap_or_else(|e| panic!("seeding: {e:#}"));
    db
}

/// Polls `/readyz` until it says ready; how long that took.
async fn wait_until_ready(client: &reqwest::Client, address: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        // A server still starting refuses connections: not ready yet.
        let ready = client.get(format!("{address}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "not ready {within:?} after the database came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_server_starts_with_the_database_down_and_serves_once_it_is_up() {
    let db = seeded_db().await;
    let proxy = Proxy::start(cluster_address(&db.url), false).await;
    let address = serve_through(&proxy, &db).await;
    let client = reqwest::Client::new();

    let (alive, _) = get_text(&client, &format!("{address}/healthz")).await;
    assert_eq!(alive, 200, "the process lives");
    let (ready, body) = get_text(&client, &format!("{address}/readyz")).await;
    assert_eq!(ready, 503, "{body}");

    // Requests fail with a code a client can act on, and the status says why.
    let (status, body) = post(&client, &address, PARTIES).await;
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(error_codes(&body), ["SERVICE_UNAVAILABLE"], "{body:#}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());
    // application/json clients get the same error with 200.
    let legacy = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": PARTIES }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(legacy.status(), 200);
    let legacy: Value = legacy.json().await.unwrap_or_default();
    assert_eq!(error_codes(&legacy), ["SERVICE_UNAVAILABLE"]);

    proxy.restore();
    wait_until_ready(&client, &address, Duration::from_secs(15)).await;
    let (status, body) = post(&client, &address, PARTIES).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(parties_of(&body), ["ILO", "UNDP"]);
}

/// Requests from `workers` tasks until `stop`: each answer is either the right data or
/// SERVICE_UNAVAILABLE, never anything else. Returns (answered, unavailable).
async fn load(address: String, workers: usize, stop: Arc<AtomicBool>) -> (usize, usize) {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, address, stop) = (client.clone(), address.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut answered, mut unavailable) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = post(&client, &address, PARTIES).await;
                if body.get("errors").is_none() {
                    assert_eq!(status, 200);
                    assert_eq!(parties_of(&body), ["ILO", "UNDP"], "{body:#}");
                    answered += 1;
                } else {
                    assert!(
                        error_codes(&body)
                            .iter()
                            .all(|c| c == "SERVICE_UNAVAILABLE"),
                        "only SERVICE_UNAVAILABLE while the database is away: {body:#}"
                    );
                    assert!(status == 503 || status == 200, "HTTP {status}: {body:#}");
                    unavailable += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            (answered, unavailable)
        }));
    }
    let mut totals = (0, 0);
    for task in tasks {
        let (a, u) = task.await.unwrap_or_else(|e| panic!("a load task: {e}"));
        totals.0 += a;
        totals.1 += u;
    }
    totals
}

#[tokio::test]
async fn requests_fail_fast_while_postgres_restarts_and_the_server_recovers_by_itself() {
    let db = seeded_db().await;
    let proxy = Proxy::start(cluster_address(&db.url), true).await;
    let address = serve_through(&proxy, &db).await;
    let client = reqwest::Client::new();
    wait_until_ready(&client, &address, Duration::from_secs(10)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(address.clone(), 8, stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The restart: every connection dropped, none accepted for a while.
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    proxy.restore();
    let back_after = wait_until_ready(&client, &address, Duration::from_secs(15)).await;
    // Load keeps running for a while after recovery: it must be answered again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    let (answered, unavailable) = load.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(unavailable > 0, "the outage was felt ({answered} answered)");
    assert!(answered > 0, "requests were answered around the outage");
    eprintln!(
        "restart: {answered} answered, {unavailable} SERVICE_UNAVAILABLE, ready again {back_after:?} after the database came back"
    );

    let (status, body) = post(&client, &address, PARTIES).await;
    assert_eq!(
        (status, parties_of(&body)),
        (200, vec!["ILO".into(), "UNDP".into()])
    );
}

/// Creates organizations from `workers` tasks until `stop`; the slugs whose creation was
/// acknowledged. Every failure must be SERVICE_UNAVAILABLE.
async fn write_load(address: String, workers: usize, stop: Arc<AtomicBool>) -> Vec<String> {
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {}", token(Role::Editor, "restart-test"));
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (client, address, stop, bearer) = (
            client.clone(),
            address.clone(),
            stop.clone(),
            bearer.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let slug = format!("restart-w{worker}-{n}");
                let response = client
                    .post(format!("{address}/graphql"))
                    .header("Accept", GRAPHQL_RESPONSE)
                    .header("Authorization", &bearer)
                    .json(&json!({
                        "query": "mutation($slug: String!) { createOrganization(input: {slug: $slug, name: $slug, kind: OTHER}) { record { slug } } }",
                        "variables": { "slug": slug },
                    }))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("POST: {e}"));
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if body["data"]["createOrganization"]["record"]["slug"] == slug.as_str() {
                    acknowledged.push(slug);
                } else {
                    assert!(
                        error_codes(&body).iter().all(|c| c == "SERVICE_UNAVAILABLE"),
                        "only SERVICE_UNAVAILABLE while the database is away: {body:#}"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            acknowledged
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_else(|e| panic!("a write task: {e}")));
    }
    all
}

#[tokio::test]
async fn no_acknowledged_write_is_lost_when_postgres_restarts() {
    let db = seeded_db().await;
    let proxy = Proxy::start(cluster_address(&db.url), true).await;
    let address = serve_through(&proxy, &db).await;
    let client = reqwest::Client::new();
    wait_until_ready(&client, &address, Duration::from_secs(10)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let writes = tokio::spawn(write_load(address.clone(), 4, stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    proxy.restore();
    wait_until_ready(&client, &address, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let acknowledged = writes.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!acknowledged.is_empty(), "writes were acknowledged");

    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let stored: std::collections::HashSet<String> = entity::organization::Entity::find()
        .filter(entity::organization::Column::Slug.starts_with("restart-"))
        .all(&db.connect().await)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|o| o.slug)
        .collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|s| !stored.contains(*s))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    eprintln!(
        "restart under writes: {} acknowledged, {} stored, none lost",
        acknowledged.len(),
        stored.len()
    );
}

#[tokio::test]
async fn terminated_backends_are_replaced_without_a_restart() {
    let app = spawn_app().await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(app.address.clone(), 6, stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let admin = crate::helpers::admin().await;
    let database = app.database_name();
    let mut terminated = 0;
    for _ in 0..3 {
        use sea_orm::{ConnectionTrait, Statement};
        // The server's connections only: an autovacuum worker busy in this database runs as
        // the bootstrap superuser, and PostgreSQL 15 refuses to signal it to anyone else (seen
        // once in CI as "must be a superuser to terminate superuser process").
        let rows = admin
            .query_all_raw(Statement::from_string(
                admin.get_database_backend(),
                format!(
                    "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity \
                     WHERE datname = '{database}' AND pid <> pg_backend_pid() \
                     AND backend_type = 'client backend'"
                ),
            ))
            .await
            .unwrap_or_else(|e| panic!("terminating backends: {e}"));
        terminated += rows
            .iter()
            .filter(|r| r.try_get::<bool>("", "done").unwrap_or(false))
            .count();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(terminated > 0, "the server's backends were terminated");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    stop.store(true, Ordering::Relaxed);
    let (answered, unavailable) = load.await.unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "terminations: {terminated} backends, {answered} answered, {unavailable} SERVICE_UNAVAILABLE"
    );
    assert!(answered > 0);
    let body = app.data(PARTIES, json!({})).await;
    assert_eq!(parties_of(&json!({ "data": body })), ["ILO", "UNDP"]);
}

/// The port a server can listen on (free a moment ago).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The binary serving `db` with the extra environment `env`, once it is ready; its address.
async fn start_binary(db: &TestDb, env: &[(&str, String)]) -> (std::process::Child, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_partnerships"));
    command
        .env("DATABASE_URL", &db.url)
        .env("PORT", port.to_string())
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let server = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting the server: {e}"));
    let address = format!("http://127.0.0.1:{port}");
    wait_until_ready(&reqwest::Client::new(), &address, Duration::from_secs(20)).await;
    (server, address)
}

/// Sends `signal` (TERM, INT) to `server` and waits for it to exit.
async fn stop_binary(mut server: std::process::Child, signal: &str) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args([format!("-{signal}"), server.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(killed.success());
    tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_signal_lets_requests_in_flight_finish_then_the_server_exits() {
    let db = seeded_db().await;
    for signal in ["TERM", "INT"] {
        // Each nested level waits 1.5 s for sibling keys: requests are in flight long enough
        // for the signal to arrive in the middle of them.
        let (server, address) = start_binary(
            &db,
            &[
                ("GRAPHQL_LOADER_DELAY_MS", "1500".into()),
                ("SHUTDOWN_TIMEOUT_SECS", "20".into()),
            ],
        )
        .await;
        let client = reqwest::Client::new();
        let requests: Vec<_> = (0..8)
            .map(|_| {
                let (client, address) = (client.clone(), address.clone());
                tokio::spawn(async move { post(&client, &address, PARTIES).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let exit = tokio::spawn(stop_binary(server, signal));
        for request in requests {
            let (status, body) = request.await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(status, 200, "SIG{signal}: {body:#}");
            assert_eq!(parties_of(&body), ["ILO", "UNDP"], "SIG{signal}");
        }
        let exit = exit.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            exit.success(),
            "SIG{signal}: the server exits cleanly: {exit:?}"
        );
        assert!(
            client
                .get(format!("{address}/healthz"))
                .send()
                .await
                .is_err(),
            "SIG{signal}: nothing listens any more"
        );
    }
}

/// An OTLP/HTTP collector that keeps what it receives: (path, body) of each request.
async fn collector() -> (u16, tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    let Ok(n) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buffer[..n]);
                    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if data.len() < end + 4 + length {
                        continue;
                    }
                    let path = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let body = data[end + 4..end + 4 + length].to_vec();
                    let _ = sender.send((path, body));
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    data.clear();
                }
            });
        }
    });
    (port, receiver)
}

#[tokio::test]
async fn with_an_otlp_endpoint_each_request_is_exported_as_a_trace() {
    let db = seeded_db().await;
    let (collector_port, mut received) = collector().await;
    let (server, address) = start_binary(
        &db,
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{collector_port}"),
            ),
            ("OTEL_SERVICE_NAME", "partnerships-under-test".into()),
            ("LOG_LEVEL", "info".into()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let (status, body) = post(&client, &address, PARTIES).await;
    assert_eq!(
        (status, parties_of(&body)),
        (200, vec!["ILO".into(), "UNDP".into()])
    );

    // Shutting down sends the spans still buffered.
    let exit = stop_binary(server, "TERM").await;
    assert!(exit.success(), "{exit:?}");

    let mut exported = Vec::new();
    while let Ok((path, body)) = received.try_recv() {
        assert_eq!(path, "/v1/traces");
        exported.extend(body);
    }
    let contains = |needle: &str| {
        exported
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    for needle in [
        "partnerships-under-test",
        "request",
        "/graphql",
        "Parties",
        "outcome",
    ] {
        assert!(contains(needle), "the exported spans mention `{needle}`");
    }
}
