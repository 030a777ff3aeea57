//! Every query and transaction lives here. Store functions take a connection, return entity
//! models or plain store types (pages, filters), and know nothing of GraphQL.

pub mod aggregate;
pub mod agreements;
pub mod bulk;
mod database;
pub mod decode;
pub mod events;
pub mod explore;
pub mod facets;
pub mod feed;
pub mod filter;
pub mod health;
pub mod instruments;
mod kind;
pub mod link_counts;
pub(crate) mod link_tables;
pub mod nested;
pub mod organizations;
pub mod page;
mod params;
pub mod projects;
pub mod records;
pub mod replicas;
pub mod search;
pub mod timeline;
pub mod write;

pub use kind::RecordKind;

/// A connection pool of the store (the type SeaORM gives it).
pub use sea_orm::DatabaseConnection as Connection;

pub use database::{
    PoolStats, Route, StatementCounter, Store, connect, connect_lazily, pending_migrations,
};
