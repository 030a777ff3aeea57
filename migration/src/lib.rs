//! Schema migrations of the partnerships database.
//!
//! The same migrations run on PostgreSQL (production) and SQLite (the embedded default), up and
//! down, so they only use what both engines support: no native enums (kinds are short strings),
//! no `ALTER TABLE` beyond what SQLite allows, constraints declared in `CREATE TABLE`.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261127_000001_initial_schema;
mod m20261127_000002_search;
mod m20261127_000003_audit;
pub mod m20261201_000001_link_order_keys;
pub mod m20261201_000002_link_counts;
mod m20261206_000001_audit_positions;
mod m20261207_000001_child_page_indexes;
mod m20261207_000002_audit_history_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial_schema::Migration),
            Box::new(m20261127_000002_search::Migration),
            Box::new(m20261127_000003_audit::Migration),
            Box::new(m20261201_000001_link_order_keys::Migration),
            Box::new(m20261201_000002_link_counts::Migration),
            Box::new(m20261206_000001_audit_positions::Migration),
            Box::new(m20261207_000001_child_page_indexes::Migration),
            Box::new(m20261207_000002_audit_history_index::Migration),
        ]
    }
}
