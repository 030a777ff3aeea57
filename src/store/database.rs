//! Opening the pool, for PostgreSQL or the embedded SQLite file.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use anyhow::Context;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::DatabaseSettings;

/// Counts the SQL statements sent through a pool. Tests read it to pin the number of
/// statements a request costs (that is how N+1 stays dead); metrics will export it.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// An open pool and its statement counter.
#[derive(Debug, Clone)]
pub struct Store {
    pub connection: DatabaseConnection,
    pub statements: StatementCounter,
}

/// Opens the pool described by `settings`, creating the embedded SQLite file's folder if needed.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Store> {
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
    let mut options = ConnectOptions::new(settings.url());
    options
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections.min(settings.max_connections))
        .connect_timeout(settings.connect_timeout())
        .acquire_timeout(settings.acquire_timeout())
        // Statements are logged by sqlx at DEBUG; the filter decides whether they show.
        .sqlx_logging_level(log::LevelFilter::Debug);
    if settings.statement_timeout_ms > 0 {
        let timeout = settings.statement_timeout_ms.to_string();
        // Sent as a startup parameter: every pooled connection carries it, no extra round trip.
        options.map_sqlx_postgres_opts(move |pg| {
            pg.options([("statement_timeout", timeout.as_str())])
        });
    }
    let mut connection =
        Database::connect(options)
            .await
            .with_context(|| match &settings.database_url {
                Some(url) => format!("Failed to connect to {url}"),
                None => format!("Failed to open {}", settings.sqlite_path.display()),
            })?;
    let statements = StatementCounter::default();
    let counter = statements.0.clone();
    connection.set_metric_callback(move |_info| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    Ok(Store {
        connection,
        statements,
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
