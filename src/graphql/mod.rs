//! The GraphQL schema: types wrapping entity models, thin resolvers that call loaders or the
//! store, and the limits every operation runs under. Knows no web framework (`http` does).

mod agreement;
mod connection;
mod enums;
pub mod errors;
mod event;
mod explore;
mod facets;
mod filters;
pub mod ids;
mod instrument;
pub mod limits;
mod loaders;
mod lookup;
mod mutations;
mod nested;
mod node;
pub mod operation;
mod order;
mod organization;
pub mod persisted;
mod prelude;
mod project;
mod roots;
mod scalars;
mod search;
mod timeline;

use std::sync::Arc;

use async_graphql::{
    EmptySubscription, MergedObject, Request, Schema,
    dataloader::DataLoader,
    extensions::apollo_persisted_queries::{ApolloPersistedQueries, LruCacheStorage},
};
use persisted::{AllowList, AllowListExtension};

use crate::{config::GraphqlSettings, store::Store};

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

pub use mutations::Mutation;

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema once, with the configured limits. Per-request state (the store and the
/// DataLoaders) goes in with [`prepare_request`], never here: a loader on the schema would be
/// shared, cache included, by every request.
pub fn build_schema(settings: &GraphqlSettings) -> AppSchema {
    build_schema_with(settings, None)
}

/// Like [`build_schema`]; with an allow-list only its operations run, and automatic persisted
/// queries (a cache any client can fill) are off.
pub fn build_schema_with(
    settings: &GraphqlSettings,
    allow_list: Option<Arc<AllowList>>,
) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(settings.depth_limit)
        .limit_complexity(settings.complexity_limit)
        // Per field; the extension caps directives across the whole operation too.
        .limit_directives(5)
        // First, so it also gives codes to the errors of the extensions after it.
        .extension(limits::Limits::from(settings))
        .extension(operation::RecordOperation)
        .extension(order::OrderResponses);
    builder = match allow_list {
        Some(list) => builder.extension(AllowListExtension(list)),
        None if settings.automatic_persisted_queries => builder.extension(
            ApolloPersistedQueries::new(LruCacheStorage::new(APQ_CACHE_ENTRIES)),
        ),
        None => builder,
    };
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    if !settings.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// Queries the automatic persisted-query cache keeps (each at most GRAPHQL_MAX_QUERY_BYTES, and
/// kept parsed): about 1000 × 32 KiB at worst.
const APQ_CACHE_ENTRIES: usize = 1000;

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    build_schema(&GraphqlSettings::default()).sdl()
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
    request.data(store.clone()).data(loader)
}
