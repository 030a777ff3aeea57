//! The test harness: a fresh PostgreSQL database per test (copied from a template migrated once
//! per run, dropped when the test ends), the real application on a random port, and helpers to
//! send GraphQL over HTTP.

use std::{
    path::PathBuf,
    str::FromStr,
    sync::{Arc, LazyLock},
};

use migration::{Migrator, MigratorTrait};
use partnerships::{
    auth::{Authenticator, Role},
    config::{
        AuthSettings, DatabaseSettings, DatabaseUrl, DatabaseUrls, GraphqlSettings, HttpSettings,
        RealtimeSettings, Secret, ServeSettings,
    },
    seed,
    startup::{Application, Stopper},
    store::{Store, feed::Feed},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

/// Prefix of every database the tests create, so leftovers can be swept.
const PREFIX: &str = "partnerships_test_";

/// The dataset the tests load.
pub fn seed_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/ilo-partnerships.yaml")
}

/// `TEST_DATABASE_URL` (a PostgreSQL server URL without database name), set by `scripts/test`.
fn server_url() -> &'static str {
    static URL: LazyLock<String> = LazyLock::new(|| {
        std::env::var("TEST_DATABASE_URL")
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|_| {
                panic!("TEST_DATABASE_URL is not set: run the tests with scripts/test")
            })
    });
    &URL
}

/// `TEST_REPLICA_URL`: a hot standby streaming from the test server (a URL without database
/// name), made and started by `scripts/test`.
pub fn replica_server_url() -> String {
    std::env::var("TEST_REPLICA_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_else(|_| panic!("TEST_REPLICA_URL is not set: run the tests with scripts/test"))
}

/// `TEST_RESTART_URL`: a PostgreSQL server of its own (a URL without database name) that a test
/// may restart, made and started by `scripts/test`; `TEST_RESTART_PGDATA` is its data folder.
pub fn restart_server_url() -> String {
    std::env::var("TEST_RESTART_URL")
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_else(|_| panic!("TEST_RESTART_URL is not set: run the tests with scripts/test"))
}

/// Runs `pg_ctl <action>` (`TEST_PG_CTL`, or `pg_ctl` on the PATH) on the cluster whose data
/// folder the variable `pgdata` names (`TEST_REPLICA_PGDATA`, `TEST_RESTART_PGDATA`), as the
/// cluster's owner, and waits for it.
pub fn pg_ctl(pgdata: &str, action: &str) {
    let dir = std::env::var(pgdata)
        .unwrap_or_else(|_| panic!("{pgdata} is not set: run the tests with scripts/test"));
    let ctl = std::env::var("TEST_PG_CTL").unwrap_or_else(|_| "pg_ctl".into());
    let command = format!("{ctl} {action} -D '{dir}' -w -t 60 -l '{dir}/log'");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    let status = if root {
        std::process::Command::new("su")
            .args(["postgres", "-c", &command])
            .status()
    } else {
        std::process::Command::new("sh")
            .args(["-c", &command])
            .status()
    };
    assert!(
        status.as_ref().is_ok_and(std::process::ExitStatus::success),
        "{command}: {status:?}"
    );
}

pub async fn admin() -> DatabaseConnection {
    admin_of(server_url()).await
}

/// The `postgres` database of the server at `server`.
async fn admin_of(server: &str) -> DatabaseConnection {
    Database::connect(format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server {server}: {e}"))
}

/// Whether the process that made a test database (its pid is in the name) has ended.
fn owner_is_gone(name: &str) -> bool {
    let pid = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next());
    match pid.and_then(|p| p.parse::<u32>().ok()) {
        Some(pid) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        None => true,
    }
}

/// The migrated template, made once per test run. Leftovers of earlier runs are swept first.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let admin = admin().await;
            let leftovers = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"),
                ))
                .await
                .unwrap_or_else(|e| panic!("listing databases: {e}"));
            for row in leftovers {
                let name: String = row.try_get("", "datname").unwrap_or_else(|e| panic!("{e}"));
                // Only a finished run's databases: another test process may share this server.
                if owner_is_gone(&name) {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                }
            }
            let name = format!("{PREFIX}{}_template", std::process::id());
            // A template of an earlier run whose pid this process now has.
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap_or_else(|e| panic!("creating the template: {e}"));
            let db = Database::connect(format!("{}/{name}", server_url()))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            Migrator::up(&db, None)
                .await
                .unwrap_or_else(|e| panic!("migrating the template: {e}"));
            db.close().await.unwrap_or_else(|e| panic!("{e}"));
            name
        })
        .await
}

/// A PostgreSQL database of one's own, dropped on `Drop`.
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// The server it is on (a URL without database name).
    server: String,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn migrated() -> Self {
        let template = template().await;
        Self::create(server_url(), &format!("TEMPLATE \"{template}\"")).await
    }

    /// A fresh, empty database (no migrations).
    pub async fn empty() -> Self {
        template().await; // sweeps leftovers first
        Self::create(server_url(), "").await
    }

    /// A fresh database with every migration applied, on the server at `server` (which has no
    /// template: it is migrated here).
    pub async fn migrated_on(server: &str) -> Self {
        let db = Self::create(server, "").await;
        Migrator::up(&db.connect().await, None)
            .await
            .unwrap_or_else(|e| panic!("migrating {}: {e}", db.name));
        db
    }

    async fn create(server: &str, options: &str) -> Self {
        let name = format!(
            "{PREFIX}{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        admin_of(server)
            .await
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\" {options}"))
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
        let url = format!("{server}/{name}");
        Self {
            name,
            url,
            server: server.to_owned(),
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (name, server) = (self.name.clone(), self.server.clone());
        // Drop runs outside any runtime guarantee: use a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    let _ = admin_of(&server)
                        .await
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                });
            }
        })
        .join();
    }
}

/// A temporary SQLite file, removed on `Drop`.
pub struct TempSqlite {
    pub path: PathBuf,
}

impl TempSqlite {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "partnerships-test-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        Self { path }
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// Settings for a server on a random local port against `database_url` (None: embedded SQLite
/// at `sqlite_path`).
pub fn settings(database_url: Option<&str>, sqlite_path: PathBuf) -> ServeSettings {
    ServeSettings {
        database: DatabaseSettings {
            database_url: database_url
                .map(|url| DatabaseUrl::from_str(url).unwrap_or_else(|e| panic!("{e}"))),
            sqlite_path,
            max_connections: 5,
            min_connections: 0,
            connect_timeout_secs: 5,
            statement_timeout_ms: 10_000,
            acquire_timeout_secs: 5,
            write_queue_secs: 30,
            sqlite_busy_timeout_ms: 5_000,
            replica_urls: DatabaseUrls::default(),
            replica_max_lag_ms: 1_000,
            replica_check_interval_ms: 200,
            // Off, so that no test's reads meet a fold it did not ask for; the tests of the
            // fold turn it on (order_keys.rs).
            link_count_fold_secs: 0,
        },
        http: HttpSettings {
            host: "127.0.0.1".into(),
            port: 0,
            graphiql: true,
            max_body_bytes: 256 * 1024,
            shutdown_timeout_secs: 1,
            cors_allowed_origins: Vec::new(),
            slow_request_ms: 1_000,
            metrics: true,
            client_request_timeout_secs: 10,
            client_body_timeout_secs: 10,
            keep_alive_secs: 5,
        },
        // Tests count statements: a generous loader window keeps a busy test machine from
        // splitting one level of a response into two batches.
        graphql: GraphqlSettings {
            loader_delay_ms: 50,
            ..GraphqlSettings::default()
        },
        auth: AuthSettings::default(),
        realtime: RealtimeSettings::default(),
        seed_file: Some(seed_file()),
        migrate_on_start: false,
    }
}

/// The HS256 secret of [`spawn_app_with_auth`].
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// Auth settings accepting tokens signed with [`JWT_SECRET`].
pub fn auth_settings() -> AuthSettings {
    AuthSettings {
        jwt_secret: Some(Secret::new(JWT_SECRET)),
        ..AuthSettings::default()
    }
}

/// The application with JWT auth on (mutations possible), seeded like [`spawn_app`].
pub async fn spawn_app_with_auth() -> TestApp {
    spawn_app_with(|s| s.auth = auth_settings()).await
}

/// A token for `subject` with `role`, valid for an hour, signed with [`JWT_SECRET`].
pub fn token(role: Role, subject: &str) -> String {
    Authenticator::new(&auth_settings())
        .and_then(|a| a.mint(subject, role, std::time::Duration::from_secs(3600)))
        .unwrap_or_else(|e| panic!("minting a token: {e:#}"))
}

/// The running application and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// The server's change feed (its statistics).
    pub feed: Arc<Feed>,
    /// Stops the server as SIGTERM would.
    pub stopper: Stopper,
    _db: Option<TestDb>,
    _sqlite: Option<TempSqlite>,
}

/// The application on a fresh PostgreSQL database holding the ILO dataset.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings adjusted first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut ServeSettings)) -> TestApp {
    spawn_app_in(TestDb::migrated().await, adjust).await
}

/// Like [`spawn_app_with`], on a database of the server at `server` (see
/// [`restart_server_url`]).
pub async fn spawn_app_on(server: &str, adjust: impl FnOnce(&mut ServeSettings)) -> TestApp {
    spawn_app_in(TestDb::migrated_on(server).await, adjust).await
}

/// The application on `db`, seeded, settings adjusted first.
async fn spawn_app_in(db: TestDb, adjust: impl FnOnce(&mut ServeSettings)) -> TestApp {
    let mut settings = settings(Some(&db.url), PathBuf::new());
    adjust(&mut settings);
    let app = start(settings).await;
    seed::load_file(&app.store.connection, &seed_file())
        .await
        .unwrap_or_else(|e| panic!("seeding: {e:#}"));
    TestApp {
        _db: Some(db),
        ..app
    }
}

/// The application on the embedded SQLite default (migrated and seeded by the app itself).
pub async fn spawn_embedded_app() -> TestApp {
    let file = TempSqlite::new();
    let app = start(settings(None, file.path.clone())).await;
    TestApp {
        _sqlite: Some(file),
        ..app
    }
}

/// Like [`spawn_embedded_app`], with settings adjusted first.
pub async fn spawn_embedded_app_with(adjust: impl FnOnce(&mut ServeSettings)) -> TestApp {
    let file = TempSqlite::new();
    let mut settings = settings(None, file.path.clone());
    adjust(&mut settings);
    let app = start(settings).await;
    TestApp {
        _sqlite: Some(file),
        ..app
    }
}

/// A second instance on `app`'s PostgreSQL database (which stays `app`'s to drop), settings
/// adjusted first.
pub async fn spawn_beside(app: &TestApp, adjust: impl FnOnce(&mut ServeSettings)) -> TestApp {
    let mut settings = settings(Some(&app.database_url()), PathBuf::new());
    adjust(&mut settings);
    start(settings).await
}

async fn start(settings: ServeSettings) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        partnerships::telemetry::init("debug", partnerships::telemetry::LogFormat::Pretty);
    }
    let app = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("building the app: {e:#}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    let feed = app.feed().clone();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        feed,
        stopper,
        _db: None,
        _sqlite: None,
    }
}

impl TestApp {
    /// POSTs a GraphQL operation and returns the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql_text(query, variables).await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("reading the body: {e}: {body}"))
    }

    /// POSTs a GraphQL operation and returns the body as sent, unparsed (its key order).
    pub async fn graphql_text(&self, query: &str, variables: Value) -> String {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("sending the request: {e}"));
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the body: {e}"))
    }

    /// POSTs a GraphQL operation with `Authorization: Bearer <token>` and returns the JSON body.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("sending the request: {e}"));
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response
            .json()
            .await
            .unwrap_or_else(|e| panic!("reading the body: {e}"))
    }

    /// Like [`graphql`](Self::graphql), asserting there are no errors and returning `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The URL of the test's PostgreSQL database.
    pub fn database_url(&self) -> String {
        self._db
            .as_ref()
            .map(|db| db.url.clone())
            .unwrap_or_else(|| panic!("not a PostgreSQL app"))
    }

    /// The name of the test's PostgreSQL database.
    pub fn database_name(&self) -> String {
        self._db
            .as_ref()
            .map(|db| db.name.clone())
            .unwrap_or_default()
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_default()
    }

    /// How many SQL statements the application has sent so far.
    pub fn statements(&self) -> u64 {
        self.store.statements.get()
    }

    /// Runs a query three times and returns its `data` and the fewest statements one run cost.
    /// A DataLoader batch closes after a fixed window, and on a saturated machine (the whole
    /// suite on 2 cores) a task that yields can register its key after the window and cost one
    /// statement more; an N+1 costs a statement per parent in every run, so it still shows.
    pub async fn fewest_statements(&self, query: &str, variables: Value) -> (Value, u64) {
        let mut fewest = u64::MAX;
        let mut data = Value::Null;
        for _ in 0..3 {
            let before = self.statements();
            data = self.data(query, variables.clone()).await;
            fewest = fewest.min(self.statements() - before);
        }
        (data, fewest)
    }
}

/// The `extensions.code` of each error of a response.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The sorted strings at `key` of each object in a JSON array.
pub fn sorted(values: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = values
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {values}"))
        .iter()
        .map(|v| {
            v.pointer(key)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no {key} in {v}"))
                .to_owned()
        })
        .collect();
    out.sort();
    out
}

/// The global ID and version of the record of `kind` with `slug`.
pub async fn read(app: &TestApp, kind: &str, slug: &str) -> (String, i64) {
    let data = app
        .data(
            &format!(r#"{{ {kind}(by: {{slug: "{slug}"}}) {{ id version }} }}"#),
            json!({}),
        )
        .await;
    let record = &data[kind];
    (
        record["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no {kind} {slug}: {data}"))
            .to_owned(),
        record["version"].as_i64().unwrap_or_default(),
    )
}
