//! Building the application: connect, prepare the database, build the schema, bind, serve.
//! `main` and the tests both go through [`Application::build`].

use std::{
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use actix_web::dev::Server;
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio::sync::watch;

use crate::{
    auth::Authenticator,
    config::ServeSettings,
    graphql::{Api, persisted::AllowList},
    http::{self, AppState},
    metrics::Metrics,
    seed,
    store::{self, Store, feed::Feed},
};

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    feed: Arc<Feed>,
    /// Set when the server begins to stop: WebSocket connections close with "going away".
    shutdown: watch::Sender<bool>,
}

impl Application {
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Self> {
        // A SEED_FILE that cannot be read is a mistake to hear about at once, not on the day
        // an empty database would need it (it is read only then).
        seed::Dataset::or_builtin(settings.seed_file.clone()).check(SEED_FILE)?;
        let store = store::connect_lazily(&settings.database).await?;
        if settings.database.is_embedded() {
            Migrator::up(&store.writer, None)
                .await
                .context("Failed to apply migrations")?;
            seed_if_empty(&store, &settings).await?;
        } else {
            watch_database(&store, &settings);
            if let Some(every) = settings.database.link_count_fold() {
                // Upkeep, not a request's work: kept out of the statement counts.
                let mut connection = store.writer.clone();
                connection.set_metric_callback(|_| {});
                tokio::spawn(store::link_counts::keep_folded(connection, every));
            }
            if !store.replicas.is_empty() {
                tracing::info!(replicas = ?store.replicas, max_lag_ms = settings.database.replica_max_lag_ms, "Reads go to replicas while they are fresh");
                tokio::spawn(store::replicas::watch(
                    store.replicas.clone(),
                    settings.database.url(),
                ));
            }
        }

        let allow_list = match &settings.graphql.persisted_operations_dir {
            Some(dir) => {
                let list = AllowList::load(dir)?;
                tracing::info!(operations = list.len(), dir = %dir.display(), "Running only persisted operations");
                Some(Arc::new(list))
            }
            None => None,
        };
        // The feed's own reads are not a request's: keep them out of the statement counts.
        let mut feed_connection = store.connection.clone();
        feed_connection.set_metric_callback(|_| {});
        let feed = Feed::new(
            feed_connection,
            usize::try_from(settings.realtime.subscription_buffer).unwrap_or(usize::MAX),
        );
        feed.start(settings.database.connect_timeout()).await;
        if settings.database.is_embedded() {
            tokio::spawn(feed.clone().run_local(store.commits.clone()));
        } else {
            tokio::spawn(feed.clone().run_postgres(
                settings.database.url(),
                settings.realtime.feed_listener_name.clone(),
                settings.database.connect_timeout(),
            ));
        }
        let (shutdown, stopping) = watch::channel(false);
        let api = Api::new(&settings.graphql, allow_list).await?;
        let auth = Authenticator::new(&settings.auth)?;
        if !auth.enabled() {
            tracing::warn!("No JWT_SECRET or JWT_PUBLIC_KEY_FILE: mutations are refused");
        }
        let address = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&address)
            .with_context(|| format!("Failed to listen on {address}"))?;
        let port = listener.local_addr()?.port();
        let state = AppState {
            api,
            store: store.clone(),
            graphql: settings.graphql.clone(),
            auth,
            graphiql: settings.http.graphiql,
            max_body_bytes: settings.http.max_body_bytes,
            body_timeout: std::time::Duration::from_secs(settings.http.client_body_timeout_secs),
            metrics: Metrics::new(),
            serve_metrics: settings.http.metrics,
            slow_request_ms: settings.http.slow_request_ms,
            feed: feed.clone(),
            realtime: settings.realtime.clone(),
            sockets: AtomicUsize::new(0),
            shutdown: stopping,
        };
        let server = http::serve(listener, state, &settings.http)?;
        tracing::info!("Listening at http://{}:{port}/graphql", settings.http.host);
        Ok(Self {
            port,
            server,
            store,
            feed,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What stops the server gracefully, as SIGTERM does.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            sockets: self.shutdown.clone(),
        }
    }

    /// The change feed (tests read its statistics).
    pub fn feed(&self) -> &Arc<Feed> {
        &self.feed
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, lets the requests in
    /// flight finish (within SHUTDOWN_TIMEOUT_SECS) and closes the database pool.
    pub async fn run_until_signalled(self) -> anyhow::Result<()> {
        let stopper = self.stopper();
        tokio::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!(
                signal,
                "Shutting down: closing WebSocket connections, finishing the requests in flight"
            );
            stopper.stop().await;
        });
        self.run_until_stopped().await
    }

    /// Serves until the server is stopped, then closes the database pool. Installs no signal
    /// handler (tests run many servers in one process).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let stopped = self.server.await;
        self.shutdown.send_replace(true);
        self.feed.stop();
        stopped.context("The server stopped with an error")?;
        tracing::info!("Stopped; closing the database pool");
        self.store
            .connection
            .close()
            .await
            .context("Failed to close the database pool")?;
        for replica in &self.store.replicas.members {
            replica
                .pool
                .clone()
                .close()
                .await
                .with_context(|| format!("Failed to close the pool of {}", replica.name))?;
        }
        Ok(())
    }
}

/// Stops a server gracefully: WebSocket connections are closed with 1001 (going away), the
/// server stops accepting connections and the requests in flight get SHUTDOWN_TIMEOUT_SECS.
#[derive(Clone)]
pub struct Stopper {
    server: actix_web::dev::ServerHandle,
    sockets: watch::Sender<bool>,
}

impl Stopper {
    pub async fn stop(self) {
        self.sockets.send_replace(true);
        self.server.stop(true).await;
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C) and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(err) => {
                tracing::warn!(error = %err, "Cannot listen for SIGTERM; only SIGINT stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Keeps `store.health` current in the background. With MIGRATE_ON_START, migrations are
/// applied as soon as PostgreSQL answers (at once, or when it comes up); until then `/readyz`
/// says the server is not ready.
fn watch_database(store: &Store, settings: &ServeSettings) {
    let url = settings.database.url();
    let timeout = settings.database.connect_timeout();
    // Nothing to apply unless asked; once applied, not again after an outage.
    let applied = Arc::new(AtomicBool::new(!settings.migrate_on_start));
    let connection = store.connection.clone();
    tokio::spawn(store::health::watch(
        store.health.clone(),
        url,
        timeout,
        move || {
            let (connection, applied) = (connection.clone(), applied.clone());
            async move {
                if applied.load(Ordering::Relaxed) {
                    return;
                }
                match Migrator::up(&connection, None).await {
                    Ok(()) => {
                        applied.store(true, Ordering::Relaxed);
                        tracing::info!("Migrations applied");
                    }
                    Err(err) => tracing::error!(
                        error = %err,
                        "Failed to apply migrations: the server stays not ready; retrying when the database next comes back"
                    ),
                }
            }
        },
    ));
}

/// Where `ServeSettings::seed_file` comes from, for errors.
const SEED_FILE: &str = "SEED_FILE (--seed-file)";

/// The embedded store serves the ILO data on first start: an empty database is seeded.
async fn seed_if_empty(store: &Store, settings: &ServeSettings) -> anyhow::Result<()> {
    let organizations = entity::organization::Entity::find()
        .count(&store.connection)
        .await
        .context("Failed to count organizations")?;
    if organizations == 0 {
        let dataset = seed::Dataset::or_builtin(settings.seed_file.clone());
        tracing::info!(%dataset, "Seeding the empty embedded database");
        let report = seed::load_dataset(&store.writer, &dataset, SEED_FILE).await?;
        tracing::info!("Seeded:\n{report}");
    }
    Ok(())
}
