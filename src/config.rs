//! Typed configuration, read once at start from flags and environment variables (a `.env` file
//! is read too). Each field says what it is for; `.env.example` lists the variables.

use std::{fmt, path::PathBuf, str::FromStr, time::Duration};

use crate::telemetry::LogFormat;

/// Where the data lives.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseSettings {
    /// PostgreSQL URL (postgres://user:password@host:port/database), the production store.
    /// Without it, the embedded SQLite file at --sqlite-path is used (and created on first start).
    // Its value is never shown: not in --help (`hide_env_values`), not in a parse error
    // (`DatabaseUrlParser`), and masked in logs (`DatabaseUrl`'s `Display`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = DatabaseUrlParser)]
    pub database_url: Option<DatabaseUrl>,
    /// The embedded SQLite database file, used when DATABASE_URL is not set.
    #[arg(long, env = "SQLITE_PATH", default_value = "data/partnerships.db")]
    pub sqlite_path: PathBuf,
    /// Most connections the pool opens. PostgreSQL's default allows 100 in all; 10 per instance
    /// keeps several instances and the admin tools within it, and 2 cores rarely need more.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_connections: u32,
    /// Connections kept open when idle.
    #[arg(long, env = "DB_MIN_CONNECTIONS", default_value_t = 1)]
    pub min_connections: u32,
    /// Seconds to wait for a new database connection before giving up.
    #[arg(long, env = "DB_CONNECT_TIMEOUT_SECS", default_value_t = 5)]
    pub connect_timeout_secs: u64,
    /// Longest a single SQL statement may run on PostgreSQL before it is cancelled, in
    /// milliseconds (0: no limit). A runaway query fails fast instead of holding a connection.
    #[arg(long, env = "DB_STATEMENT_TIMEOUT_MS", default_value_t = 10_000)]
    pub statement_timeout_ms: u64,
    /// Seconds a request waits for a free pooled connection before failing with SERVICE_UNAVAILABLE.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub acquire_timeout_secs: u64,
    /// Embedded SQLite only: seconds a write waits for its turn at the one writer connection
    /// before failing with SERVICE_UNAVAILABLE. Writes queue; this bounds the queue's wait.
    #[arg(long, env = "DB_WRITE_QUEUE_SECS", default_value_t = 30)]
    pub write_queue_secs: u64,
    /// Embedded SQLite only: milliseconds a statement waits for the file's lock held by another
    /// process (a `partnerships seed` run beside the server, say) before failing as busy.
    #[arg(long, env = "SQLITE_BUSY_TIMEOUT_MS", default_value_t = 5_000)]
    pub sqlite_busy_timeout_ms: u64,
    /// PostgreSQL streaming replicas that serve read-only requests, comma-separated URLs (empty:
    /// none; every read goes to DATABASE_URL). Mutations and what they read stay on the primary.
    #[arg(long, env = "DATABASE_REPLICA_URLS", default_value = "", hide_default_value = true, hide_env_values = true, value_parser = DatabaseUrlsParser)]
    pub replica_urls: DatabaseUrls,
    /// The stalest a replica may be, in milliseconds, and still serve reads without a
    /// consistency token: past it, its reads go to another replica or the primary.
    #[arg(long, env = "REPLICA_MAX_LAG_MS", default_value_t = 1_000)]
    pub replica_max_lag_ms: u64,
    /// How often each replica's state and lag are checked, in milliseconds.
    #[arg(long, env = "REPLICA_CHECK_INTERVAL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub replica_check_interval_ms: u64,
    /// PostgreSQL only: how often, in seconds, the server folds the link counts that writes
    /// add to (one row per record again), when something was written since. 0: never (another
    /// instance or a scheduled `partnerships` job does it).
    #[arg(long, env = "LINK_COUNT_FOLD_SECS", default_value_t = 60)]
    pub link_count_fold_secs: u64,
}

impl DatabaseSettings {
    /// The URL to connect to: DATABASE_URL, or the embedded SQLite file (created if missing).
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) => url.0.clone(),
            None => format!("sqlite://{}?mode=rwc", self.sqlite_path.display()),
        }
    }

    /// True when no DATABASE_URL was given and the embedded SQLite file is used.
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_none()
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.acquire_timeout_secs)
    }

    pub fn write_queue_timeout(&self) -> Duration {
        Duration::from_secs(self.write_queue_secs)
    }

    pub fn sqlite_busy_timeout(&self) -> Duration {
        Duration::from_millis(self.sqlite_busy_timeout_ms)
    }

    pub fn replica_max_lag(&self) -> Duration {
        Duration::from_millis(self.replica_max_lag_ms)
    }

    pub fn replica_check_interval(&self) -> Duration {
        Duration::from_millis(self.replica_check_interval_ms)
    }

    /// How often the link counts are folded; `None`: never.
    pub fn link_count_fold(&self) -> Option<Duration> {
        (self.link_count_fold_secs > 0).then(|| Duration::from_secs(self.link_count_fold_secs))
    }
}

/// A database URL, checked when read, whose password never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let parsed =
            url::Url::parse(raw).map_err(|e| format!("Failed to parse DATABASE_URL: {e}"))?;
        match parsed.scheme() {
            "postgres" | "postgresql" | "sqlite" => Ok(Self(raw.to_owned())),
            other => Err(format!(
                "DATABASE_URL has scheme `{other}`; expected postgres://, postgresql:// or sqlite:"
            )),
        }
    }
}

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Query parameters that carry a secret (libpq's `password` and `sslpassword`).
const SECRET_PARAMETERS: [&str; 2] = ["password", "sslpassword"];

impl fmt::Display for DatabaseUrl {
    /// Shows the URL with its password, and any `password` or `sslpassword` query parameter,
    /// replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(mut url) = url::Url::parse(&self.0) else {
            // Unreachable (`from_str` parsed it), but never show what could not be masked.
            return f.write_str("<unparseable database URL>");
        };
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        let is_secret = |key: &str| {
            SECRET_PARAMETERS
                .iter()
                .any(|s| key.eq_ignore_ascii_case(s))
        };
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        if pairs.iter().any(|(key, _)| is_secret(key)) {
            url.query_pairs_mut()
                .clear()
                .extend_pairs(pairs.iter().map(|(key, value)| {
                    (
                        key.as_str(),
                        if is_secret(key) {
                            "***"
                        } else {
                            value.as_str()
                        },
                    )
                }));
        }
        write!(f, "{url}")
    }
}

/// Parses `--database-url` / DATABASE_URL for clap without echoing the value: clap's own error
/// ("invalid value '<the URL>' ...") would print the password of a malformed URL.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUrlParser;

impl clap::builder::TypedValueParser for DatabaseUrlParser {
    type Value = DatabaseUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let text = utf8(cmd, arg, value)?;
        parse_url(cmd, arg, text)
    }
}

/// The name the messages give a URL variable: the argument's, DATABASE_URL by default.
fn variable(arg: Option<&clap::Arg>) -> &str {
    arg.and_then(clap::Arg::get_env)
        .and_then(std::ffi::OsStr::to_str)
        .unwrap_or("DATABASE_URL")
}

fn utf8<'a>(
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &'a std::ffi::OsStr,
) -> Result<&'a str, clap::Error> {
    value.to_str().ok_or_else(|| {
        clap::Error::raw(
            clap::error::ErrorKind::InvalidUtf8,
            format!("{} is not valid UTF-8\n", variable(arg)),
        )
        .with_cmd(cmd)
    })
}

fn parse_url(
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
    text: &str,
) -> Result<DatabaseUrl, clap::Error> {
    // `from_str`'s messages name the variable and the problem, never the value.
    text.parse().map_err(|message: String| {
        let message = message.replace("DATABASE_URL", variable(arg));
        clap::Error::raw(
            clap::error::ErrorKind::ValueValidation,
            format!("{message}\n"),
        )
        .with_cmd(cmd)
    })
}

/// Database URLs given as one comma-separated value (DATABASE_REPLICA_URLS); empty: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseUrls(pub Vec<DatabaseUrl>);

impl DatabaseUrls {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, DatabaseUrl> {
        self.0.iter()
    }
}

/// Reads [`DatabaseUrls`]: each non-empty item checked like DATABASE_URL, never shown.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUrlsParser;

impl clap::builder::TypedValueParser for DatabaseUrlsParser {
    type Value = DatabaseUrls;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let text = utf8(cmd, arg, value)?;
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| parse_url(cmd, arg, item))
            .collect::<Result<_, _>>()
            .map(DatabaseUrls)
    }
}

/// How the HTTP server listens.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpSettings {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Serve GraphiQL to browsers on GET /graphql, and GraphQL Playground on /playground.
    #[arg(long, env = "GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,
    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Origins whose pages may call the API from a browser (comma-separated, e.g.
    /// `https://app.example.org,http://localhost:5173`; `*` allows any). Empty: none but the
    /// server's own.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', num_args = 0.., value_parser = parse_origin)]
    pub cors_allowed_origins: Vec<String>,
    /// Requests slower than this many milliseconds are logged at WARN with their SQL count.
    #[arg(long, env = "SLOW_REQUEST_MS", default_value_t = 1_000)]
    pub slow_request_ms: u64,
    /// Serve Prometheus metrics at /metrics.
    #[arg(long, env = "METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Seconds a client has to send a request's headers before the connection is closed
    /// (slow clients cannot hold connections open).
    #[arg(long, env = "CLIENT_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub client_request_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body once its headers arrived; a body
    /// still incomplete then is answered 408 and its connection closed (a client trickling a
    /// body, or declaring one it never sends, cannot hold a request open).
    #[arg(long, env = "CLIENT_BODY_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub client_body_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "KEEP_ALIVE_SECS", default_value_t = 5)]
    pub keep_alive_secs: u64,
}

/// An origin as browsers send it (`https://app.example.org`, `http://localhost:5173`), `*`, or
/// nothing (an empty list item, ignored).
fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim();
    if origin.is_empty() || origin == "*" {
        return Ok(origin.to_owned());
    }
    let refuse = || {
        format!(
            "`{origin}` is not an origin: write scheme://host[:port], e.g. https://app.example.org"
        )
    };
    let url = url::Url::parse(origin).map_err(|_| refuse())?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && !origin.ends_with('/');
    if bare {
        Ok(origin.to_owned())
    } else {
        Err(refuse())
    }
}

/// Limits applied to every GraphQL operation, and what the schema reveals.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphqlSettings {
    /// Deepest selection nesting allowed. GraphiQL's own introspection query needs 13.
    #[arg(long, env = "GRAPHQL_DEPTH_LIMIT", default_value_t = 16)]
    pub depth_limit: usize,
    /// Highest complexity allowed: each field costs 1, and a list costs its page size times
    /// its children (`organizations(first: 50) { name }` costs 51).
    #[arg(long, env = "GRAPHQL_COMPLEXITY_LIMIT", default_value_t = 25_000)]
    pub complexity_limit: usize,
    /// Longest query text accepted, in bytes.
    #[arg(long, env = "GRAPHQL_MAX_QUERY_BYTES", default_value_t = 32 * 1024)]
    pub max_query_bytes: usize,
    /// Most lexical tokens a query may have (GraphiQL's introspection query has about 300).
    #[arg(long, env = "GRAPHQL_MAX_TOKENS", default_value_t = 3_000)]
    pub max_tokens: usize,
    /// Most aliases in one operation, fragments included.
    #[arg(long, env = "GRAPHQL_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Most directives in one operation, fragments included.
    #[arg(long, env = "GRAPHQL_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,
    /// Deepest nesting of an input value (an argument, a default value or a variable): each
    /// object and each list is a level, so `filter: {not: {name: {eq: "x"}}}` has 3. Checked
    /// before anything recursive runs over the value (validation, coercion, filter and SQL
    /// building), which a hostile query nested a few hundred levels would overflow.
    #[arg(long, env = "GRAPHQL_MAX_INPUT_DEPTH", default_value_t = 16, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=256), usize::from))]
    pub max_input_depth: usize,
    /// Answer introspection queries (GraphiQL and codegen need them; production may turn
    /// them off).
    #[arg(long, env = "GRAPHQL_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Suggest field names in validation errors ("did you mean …?").
    #[arg(long, env = "GRAPHQL_SUGGESTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub suggestions: bool,
    /// Accept Apollo's automatic persisted queries (a query's SHA-256 instead of its text).
    #[arg(long, env = "GRAPHQL_APQ", default_value_t = true, action = clap::ArgAction::Set)]
    pub automatic_persisted_queries: bool,
    /// Run only the operations in this folder's `.graphql` files (e.g. `examples`), by hash
    /// or by text; automatic persisted queries are then off.
    #[arg(long, env = "PERSISTED_OPERATIONS_DIR")]
    pub persisted_operations_dir: Option<std::path::PathBuf>,
    /// Milliseconds a DataLoader waits for sibling keys before running its batch. Longer
    /// waits merge more of a busy response's keys into one statement; shorter ones cut latency.
    /// 1 ms keeps the statement counts of the benchmark workloads and halves their nested-list
    /// latency against 5 ms (docs/BENCHMARKS.md).
    #[arg(long, env = "GRAPHQL_LOADER_DELAY_MS", default_value_t = 1)]
    pub loader_delay_ms: u64,
    /// Most groups one request's `groups` fields may return, all together: a request past it is
    /// refused with BAD_USER_INPUT rather than cut.
    #[arg(long, env = "GRAPHQL_MAX_GROUPS", default_value_t = 1_000)]
    pub max_groups: usize,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        Self {
            depth_limit: 16,
            complexity_limit: 25_000,
            max_query_bytes: 32 * 1024,
            max_tokens: 3_000,
            max_aliases: 30,
            max_directives: 50,
            max_input_depth: 16,
            introspection: true,
            suggestions: true,
            automatic_persisted_queries: true,
            persisted_operations_dir: None,
            loader_delay_ms: 1,
            max_groups: 1_000,
        }
    }
}

/// Subscriptions over WebSocket and the change feed behind them (README "Subscriptions").
#[derive(Debug, Clone, clap::Args)]
pub struct RealtimeSettings {
    /// Most WebSocket connections open at once on one server; another is refused (HTTP 503,
    /// TOO_MANY_CONNECTIONS). Each holds a task and its buffers, not a database connection.
    #[arg(long, env = "SUBSCRIPTION_MAX_CONNECTIONS", default_value_t = 1_000)]
    pub max_sockets: usize,
    /// Most subscriptions running at once on one connection; another is answered with the
    /// error TOO_MANY_SUBSCRIPTIONS.
    #[arg(long, env = "SUBSCRIPTION_MAX_PER_CONNECTION", default_value_t = 20)]
    pub max_subscriptions_per_socket: usize,
    /// Seconds a client has, once the socket is open, to send `connection_init`; the socket is
    /// closed with 4408 after it.
    #[arg(long, env = "SUBSCRIPTION_INIT_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub socket_init_timeout_secs: u64,
    /// Seconds between WebSocket pings; a client that answers nothing (no pong, no message) for
    /// two of them is disconnected.
    #[arg(long, env = "SUBSCRIPTION_KEEPALIVE_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub socket_keepalive_secs: u64,
    /// Changes one subscription may fall behind the feed before it is ended with
    /// SUBSCRIPTION_OVERFLOW (the client resumes from its last cursor). Writers never wait.
    #[arg(long, env = "SUBSCRIPTION_BUFFER", default_value_t = 1_024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub subscription_buffer: u64,
    /// PostgreSQL: the `application_name` of the change feed's LISTEN connection (one per
    /// server), so operators can find it in `pg_stat_activity`.
    #[arg(long, env = "FEED_LISTENER_NAME", default_value = "partnerships-feed")]
    pub feed_listener_name: String,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            max_sockets: 1_000,
            max_subscriptions_per_socket: 20,
            socket_init_timeout_secs: 10,
            socket_keepalive_secs: 15,
            subscription_buffer: 1_024,
            feed_listener_name: "partnerships-feed".into(),
        }
    }
}

/// What the server logs and how.
#[derive(Debug, Clone, clap::Args)]
pub struct LogSettings {
    /// Lowest level logged (error, warn, info, debug, trace); RUST_LOG overrides it.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

/// Everything `partnerships serve` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeSettings {
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub http: HttpSettings,
    #[command(flatten)]
    pub graphql: GraphqlSettings,
    #[command(flatten)]
    pub auth: AuthSettings,
    #[command(flatten)]
    pub realtime: RealtimeSettings,
    /// A dataset file (docs/DATA.md) loaded into an empty embedded database on first start,
    /// instead of the ILO dataset the binary carries.
    #[arg(long, env = "SEED_FILE")]
    pub seed_file: Option<PathBuf>,
    /// Apply pending migrations before serving. Always on for the embedded SQLite store; for
    /// PostgreSQL, production runs `partnerships migrate up` as its own step instead.
    #[arg(long, env = "MIGRATE_ON_START", default_value_t = false, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,
}

/// Who may change data: mutations need a JWT (`Authorization: Bearer …`) verified with one of
/// these keys. With neither JWT_SECRET nor JWT_PUBLIC_KEY_FILE set, every mutation is refused
/// (there is no built-in default key); reads never need a token.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthSettings {
    /// Shared secret for HS256 tokens (at least 32 bytes). `partnerships token` signs with it.
    // Never shown: not in --help (`hide_env_values`), masked by `Secret`'s Debug.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// PEM file of an RSA public key: RS256 tokens signed with its private key are accepted too.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// When set, tokens must carry this `iss` claim (and `partnerships token` writes it).
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// When set, tokens must carry this `aud` claim (and `partnerships token` writes it).
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Longest lifetime a token may claim, in seconds (366 days by default): a token whose
    /// `exp` is further than this after its `iat` (or, without `iat`, after now) is refused, so a
    /// leaked token cannot be good for centuries. `partnerships token` mints no longer ones.
    #[arg(long, env = "JWT_MAX_TTL_SECS", default_value_t = DEFAULT_JWT_MAX_TTL_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub jwt_max_ttl_secs: u64,
}

/// 366 days: a yearly token, with a day to spare for a leap year.
pub const DEFAULT_JWT_MAX_TTL_SECS: u64 = 366 * 86_400;

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_ttl_secs: DEFAULT_JWT_MAX_TTL_SECS,
        }
    }
}

/// A secret string whose value never reaches a log line or a Debug print.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
