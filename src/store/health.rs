//! Whether PostgreSQL answers, watched in the background so that requests fail fast while it
//! does not.
//!
//! The watcher probes with a connection of its own (never one from the pool: a pool busy
//! under load is not a database that is down). It probes at start, whenever a request could
//! not reach the database ([`DbHealth::suspect`]), and, while the database is down, again and
//! again with a backoff from [`FIRST_RETRY`] up to [`LAST_RETRY`]. While it is down, requests
//! are answered SERVICE_UNAVAILABLE at once instead of each waiting DB_ACQUIRE_TIMEOUT_SECS;
//! when a probe succeeds they go through again, and the pool replaces its broken connections
//! on its own (sqlx tests a connection before handing it out).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sea_orm::sqlx::{Connection, PgConnection};
use tokio::sync::Notify;

/// The first wait between probes while the database is down; each failed probe doubles it.
pub const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait between probes while the database is down.
pub const LAST_RETRY: Duration = Duration::from_secs(2);

/// What the watcher last found. The embedded store is never down.
#[derive(Debug)]
pub struct DbHealth {
    up: AtomicBool,
    suspected: Notify,
}

impl Default for DbHealth {
    fn default() -> Self {
        Self {
            up: AtomicBool::new(true),
            suspected: Notify::new(),
        }
    }
}

impl DbHealth {
    /// False while the last probe failed: requests should not wait for the database.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// A request could not reach the database: probe now.
    pub fn suspect(&self) {
        self.suspected.notify_one();
    }
}

/// Runs until the process ends: probes `url` and keeps `health` current. `on_up` runs after
/// every probe that finds the database answering after it was not (and after the first one),
/// e.g. to apply migrations that could not be applied while it was down.
pub async fn watch<F, Fut>(health: Arc<DbHealth>, url: String, timeout: Duration, mut on_up: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut first = true;
    let mut retry = FIRST_RETRY;
    loop {
        match probe(&url, timeout).await {
            Ok(()) => {
                if first || !health.is_up() {
                    if !first {
                        tracing::info!("The database answers again");
                    }
                    health.up.store(true, Ordering::Relaxed);
                    on_up().await;
                }
                first = false;
                retry = FIRST_RETRY;
                health.suspected.notified().await;
            }
            Err(err) => {
                if first || health.is_up() {
                    tracing::warn!(
                        error = %err,
                        "The database does not answer: requests get SERVICE_UNAVAILABLE until it does"
                    );
                } else {
                    tracing::debug!(error = %err, retry_in_ms = retry.as_millis() as u64, "The database still does not answer");
                }
                health.up.store(false, Ordering::Relaxed);
                first = false;
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}

async fn probe(url: &str, timeout: Duration) -> Result<(), String> {
    let attempt = async {
        let mut connection = PgConnection::connect(url).await?;
        connection.ping().await?;
        connection.close().await
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}
