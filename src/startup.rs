//! Building the application: connect, prepare the database, build the schema, bind, serve.
//! `main` and the tests both go through [`Application::build`].

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::dev::Server;
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::{
    auth::Authenticator,
    config::ServeSettings,
    graphql::{build_schema_with, persisted::AllowList},
    http::{self, AppState},
    seed,
    store::{self, Store},
};

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
}

impl Application {
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Self> {
        let store = store::connect(&settings.database).await?;
        if settings.database.is_embedded() || settings.migrate_on_start {
            Migrator::up(&store.connection, None)
                .await
                .context("Failed to apply migrations")?;
        }
        if settings.database.is_embedded() {
            seed_if_empty(&store, &settings).await?;
        }

        let allow_list = match &settings.graphql.persisted_operations_dir {
            Some(dir) => {
                let list = AllowList::load(dir)?;
                tracing::info!(operations = list.len(), dir = %dir.display(), "Running only persisted operations");
                Some(Arc::new(list))
            }
            None => None,
        };
        let schema = build_schema_with(&settings.graphql, allow_list);
        let auth = Authenticator::new(&settings.auth)?;
        if !auth.enabled() {
            tracing::warn!("No JWT_SECRET or JWT_PUBLIC_KEY_FILE: mutations are refused");
        }
        let address = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&address)
            .with_context(|| format!("Failed to listen on {address}"))?;
        let port = listener.local_addr()?.port();
        let state = AppState {
            schema,
            store: store.clone(),
            graphql: settings.graphql.clone(),
            auth,
            graphiql: settings.http.graphiql,
            max_body_bytes: settings.http.max_body_bytes,
        };
        let server = http::serve(
            listener,
            state,
            Duration::from_secs(settings.http.shutdown_timeout_secs),
        )?;
        tracing::info!("Listening at http://{}:{port}/graphql", settings.http.host);
        Ok(Self {
            port,
            server,
            store,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server
            .await
            .context("The server stopped with an error")?;
        self.store
            .connection
            .close()
            .await
            .context("Failed to close the database pool")?;
        Ok(())
    }
}

/// The embedded store serves the ILO data on first start: an empty database is seeded.
async fn seed_if_empty(store: &Store, settings: &ServeSettings) -> anyhow::Result<()> {
    let organizations = entity::organization::Entity::find()
        .count(&store.connection)
        .await
        .context("Failed to count organizations")?;
    if organizations == 0 {
        tracing::info!(file = %settings.seed_file.display(), "Seeding the empty embedded database");
        let report = seed::load_file(&store.connection, &settings.seed_file).await?;
        tracing::info!("Seeded:\n{report}");
    }
    Ok(())
}
