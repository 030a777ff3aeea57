//! Every query and transaction lives here. Store functions take a connection, return entity
//! models or plain store types, and know nothing of GraphQL.

pub mod agreements;
mod database;
pub mod organizations;

pub use database::{StatementCounter, Store, connect};
