//! The GraphQL schema: types wrapping entity models, thin resolvers that call loaders or the
//! store, and the limits every operation runs under. Knows no web framework (`http` does).

mod aggregates;
mod agreement;
mod api;
mod changes;
mod connection;
mod direct;
mod enums;
pub mod errors;
mod event;
mod explore;
mod facets;
mod fast;
mod filters;
mod history;
pub mod ids;
mod instrument;
pub mod limits;
mod loaders;
mod lookup;
mod mutations;
mod nested;
mod node;
mod operation;
mod order;
mod organization;
pub mod persisted;
mod prelude;
mod project;
mod projection;
mod roots;
mod scalars;
mod search;
mod shared;
mod timeline;

use async_graphql::{MergedObject, Request, Schema, SchemaBuilder, dataloader::DataLoader};

use crate::{config::GraphqlSettings, store::Store};

pub use api::{Api, Executed};

/// The root of every read.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    roots::OrganizationQuery,
    roots::AgreementQuery,
    roots::ProjectQuery,
    roots::EventQuery,
    roots::InstrumentQuery,
    facets::FacetQuery,
    mutations::AuditQuery,
    explore::ExploreQuery,
);

pub use changes::Subscription;
pub use mutations::Mutation;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with async-graphql's own limits set. Per-request state (the store and the
/// DataLoaders) goes in with [`prepare_request`], never here: a loader on the schema would be
/// shared, cache included, by every request. [`Api`] runs requests through it.
fn schema_builder(settings: &GraphqlSettings) -> SchemaBuilder<Query, Mutation, Subscription> {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(settings.depth_limit)
        .limit_complexity(settings.complexity_limit)
        // Per field; `limits` caps directives across the whole operation too.
        .limit_directives(5);
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    if !settings.suggestions {
        builder = builder.disable_suggestions();
    }
    builder
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema_builder(&GraphqlSettings::default()).finish().sdl()
}

/// Attaches what a request's resolvers need: the store and fresh request-scoped loaders.
pub fn prepare_request(request: Request, store: &Store, settings: &GraphqlSettings) -> Request {
    // Sibling keys (the agreements of 100 organizations) are batched when they arrive within
    // the delay: async-graphql's 1 ms default can split one level of a large response into
    // two statements on a busy machine.
    let loader = DataLoader::new(
        loaders::StoreLoader::new(store.connection.clone()),
        tokio::spawn,
    )
    .delay(std::time::Duration::from_millis(settings.loader_delay_ms));
    request
        .data(store.clone())
        .data(loader)
        .data(loaders::Fingerprints::default())
        .data(aggregates::GroupBudget::new(settings.max_groups))
}
