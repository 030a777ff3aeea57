//! Every query and transaction lives here. Store functions take a connection, return entity
//! models or plain store types (pages, filters), and know nothing of GraphQL.

pub mod agreements;
pub mod bulk;
mod database;
pub mod events;
pub mod facets;
pub mod filter;
pub mod instruments;
pub mod nested;
pub mod organizations;
pub mod page;
pub mod projects;
pub mod records;

pub use database::{StatementCounter, Store, connect, pending_migrations};
