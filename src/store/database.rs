//! Opening the pool, for PostgreSQL or the embedded SQLite file.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseConnectionType,
    sqlx::sqlite::SqliteJournalMode,
};

use super::{
    feed::Commits,
    health::DbHealth,
    replicas::{ConsistencyToken, Replica, ReplicaSettings, Replicas},
};
use crate::config::DatabaseSettings;

/// How long a pooled connection may sit idle before it is pinged when taken out again. Under
/// load connections go round in milliseconds and are never pinged; after a pause the first
/// request checks its connection first, as sqlx does by default on every acquire.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Counts the SQL statements sent through a pool. Tests read it to pin the number of
/// statements a request costs (that is how N+1 stays dead); metrics will export it.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A snapshot of the database pool, taken when `/metrics` is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    /// Connections open (in use or idle).
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// An open pool and its statement counter.
#[derive(Debug, Clone)]
pub struct Store {
    /// Where reads go: the primary, or for a read-only request the replica chosen for it
    /// ([`Store::for_read`]).
    pub connection: DatabaseConnection,
    /// Where every write goes (mutations, imports, seeding, migrations). On PostgreSQL the same
    /// pool as `connection`. On SQLite a pool of one connection: SQLite lets one transaction
    /// write at a time, so writers queue for that connection in the server, first come first
    /// served, for up to `DB_WRITE_QUEUE_SECS`. Contending for the file's lock instead, each
    /// waiting writer polls SQLite's busy handler, in no order, and fails as "database is
    /// locked" after the busy timeout however short its turn was; behind an import that
    /// outlasts the timeout, every other write failed. The file is in WAL mode, so the readers'
    /// pool reads the last commit meanwhile and never waits on the writer.
    pub writer: DatabaseConnection,
    pub statements: StatementCounter,
    /// Whether PostgreSQL answers (kept by [`super::health::watch`]; always up for SQLite).
    pub health: Arc<DbHealth>,
    /// PostgreSQL's read replicas (DATABASE_REPLICA_URLS), kept by [`super::replicas::watch`].
    pub replicas: Arc<Replicas>,
    /// Told of every committed write, for this process's change feed (the embedded store has
    /// no NOTIFY; on PostgreSQL the feed listens to the database instead).
    pub commits: Arc<Commits>,
}

/// Where a request's reads go.
#[derive(Debug, Clone, Copy)]
pub enum Route {
    /// Everything on the primary: mutations, and reads when no replica may serve them.
    Primary,
    /// A read-only request: a usable replica if there is one (far enough for the token).
    Read(Option<ConsistencyToken>),
}

impl Store {
    /// A handle on the same pool for one request: its statements are counted in the returned
    /// counter as well as in the pool's.
    pub fn scoped(&self) -> (Store, StatementCounter) {
        let (store, request, _) = self.routed(Route::Primary);
        (store, request)
    }

    /// Like [`Store::scoped`], with reads on a replica where `route` allows and one is usable:
    /// also returns that replica's index in `replicas.members`.
    pub fn routed(&self, route: Route) -> (Store, StatementCounter, Option<usize>) {
        let request = StatementCounter::default();
        let counted = |pool: &DatabaseConnection, total: &StatementCounter| {
            let mut connection = pool.clone();
            let (total, own) = (total.0.clone(), request.0.clone());
            // The clone carries its own callback; the pool and other handles keep theirs.
            connection.set_metric_callback(move |_info| {
                total.fetch_add(1, Ordering::Relaxed);
                own.fetch_add(1, Ordering::Relaxed);
            });
            connection
        };
        let replica = match route {
            Route::Read(token) => self.replicas.pick(token),
            Route::Primary => None,
        };
        let primary = counted(&self.connection, &self.statements);
        let writer = if self.has_own_writer() {
            counted(&self.writer, &self.statements)
        } else {
            primary.clone()
        };
        let connection = match replica {
            Some(replica) => counted(&replica.pool, &replica.statements),
            None => primary,
        };
        let index = replica.and_then(|chosen| {
            self.replicas
                .members
                .iter()
                .position(|r| std::ptr::eq(r, chosen))
        });
        let store = Store {
            connection,
            writer,
            statements: self.statements.clone(),
            health: self.health.clone(),
            replicas: self.replicas.clone(),
            commits: self.commits.clone(),
        };
        (store, request, index)
    }

    /// Whether writes have a pool of their own (SQLite's one writer).
    fn has_own_writer(&self) -> bool {
        matches!(
            self.writer.inner,
            DatabaseConnectionType::SqlxSqlitePoolConnection(_)
        )
    }

    /// The pool's connections right now, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle, max) = match &self.connection.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                let pool = self.connection.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                let pool = self.connection.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }
}

/// Opens the pool described by `settings` and connects, creating the embedded SQLite file's
/// folder if needed: an unreachable database is an error.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Store> {
    open(settings, false).await
}

/// Like [`connect`], but a PostgreSQL pool connects only when first used: the server starts
/// while the database is down (not ready, requests answered SERVICE_UNAVAILABLE) and serves
/// once it answers.
pub async fn connect_lazily(settings: &DatabaseSettings) -> anyhow::Result<Store> {
    open(settings, !settings.is_embedded()).await
}

async fn open(settings: &DatabaseSettings, lazy: bool) -> anyhow::Result<Store> {
    if settings.is_embedded()
        && let Some(dir) = settings.sqlite_path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "Failed to create the folder of {}",
                settings.sqlite_path.display()
            )
        })?;
    }
    let pool_options = |url: String, lazy: bool| {
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections.min(settings.max_connections))
            .connect_timeout(settings.connect_timeout())
            .acquire_timeout(settings.acquire_timeout())
            .connect_lazy(lazy)
            // sqlx pings a connection when it goes back to the pool, and by default again when
            // it is taken out: a round trip before every statement. The ping on return already
            // closes a connection an error broke; the one on taking it out is kept for a
            // connection that sat idle long enough for PostgreSQL, a proxy or a firewall to
            // drop it.
            .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
            // Statements are logged by sqlx at DEBUG; the filter decides whether they show.
            .sqlx_logging_level(log::LevelFilter::Debug);
        if settings.statement_timeout_ms > 0 {
            let timeout = settings.statement_timeout_ms.to_string();
            // Sent as a startup parameter: every pooled connection carries it, no extra round
            // trip.
            options.map_sqlx_postgres_opts(move |pg| {
                pg.options([("statement_timeout", timeout.as_str())])
            });
        }
        options
    };
    let mut options = pool_options(settings.url(), lazy);
    let statements = StatementCounter::default();
    let connect = |options: ConnectOptions| {
        let counter = statements.0.clone();
        async move {
            let mut connection =
                Database::connect(options)
                    .await
                    .with_context(|| match &settings.database_url {
                        Some(url) => format!("Failed to connect to {url}"),
                        None => format!("Failed to open {}", settings.sqlite_path.display()),
                    })?;
            connection.set_metric_callback(move |_info| {
                counter.fetch_add(1, Ordering::Relaxed);
            });
            anyhow::Ok(connection)
        }
    };
    let postgres = |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    let on_postgres =
        postgres(&settings.url()) && settings.replica_urls.iter().all(|u| postgres(u.as_str()));
    if !settings.replica_urls.is_empty() && !on_postgres {
        anyhow::bail!(
            "DATABASE_REPLICA_URLS needs PostgreSQL: DATABASE_URL and every replica URL must be postgres:// URLs (the embedded SQLite store has no replicas)"
        );
    }
    if !settings.is_embedded() {
        let connection = connect(options.clone()).await?;
        let mut members = Vec::new();
        for url in settings.replica_urls.iter() {
            // Always lazily: a replica that is down at start is skipped until it answers.
            let pool = Database::connect(pool_options(url.as_str().to_owned(), true))
                .await
                .with_context(|| format!("Failed to open a pool for the replica {url}"))?;
            members.push(Replica::new(url.to_string(), url.as_str().to_owned(), pool));
        }
        for replica in &mut members {
            let counter = replica.statements.0.clone();
            replica.pool.set_metric_callback(move |_info| {
                counter.fetch_add(1, Ordering::Relaxed);
            });
        }
        let replicas = Replicas::new(
            members,
            ReplicaSettings {
                max_lag: settings.replica_max_lag(),
                check_interval: settings.replica_check_interval(),
                timeout: settings.connect_timeout(),
            },
        );
        return Ok(Store {
            writer: connection.clone(),
            connection,
            statements,
            health: Arc::default(),
            replicas: Arc::new(replicas),
            commits: Arc::default(),
        });
    }
    // The writer first: its first connection turns the file to WAL mode, which needs the file
    // to itself; the readers then find it in WAL already.
    let busy = settings.sqlite_busy_timeout();
    let mut writer = options.clone();
    writer
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(settings.write_queue_timeout());
    for options in [&mut writer, &mut options] {
        options.map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(busy)
        });
    }
    let writer = connect(writer).await?;
    let connection = connect(options).await?;
    Ok(Store {
        connection,
        writer,
        statements,
        health: Arc::default(),
        replicas: Arc::default(),
        commits: Arc::new(Commits::local()),
    })
}

/// The names of the migrations the database has not applied yet (empty when it is current).
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    use migration::{Migrator, MigratorTrait};
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}
