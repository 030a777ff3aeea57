//! Child pages cut from an index: each one-to-many relation's foreign key gets an index on
//! (parent, name, id), the default order of every child connection (an organization's children,
//! an agreement's projects and events, a project's events, an event's sessions), in place of the
//! index on the parent alone.
//!
//! With it a parent's first page reads `first + 1` index entries in order (a `LATERAL … LIMIT`
//! per parent on PostgreSQL, `store::nested::child_pages`) instead of fetching and sorting every
//! child: five projects' first five events read 1,059 events and sorted them (7 ms at scale 1)
//! before. The wider index still serves what the narrow one did (lookups and counts by parent,
//! the foreign keys' checks), so the narrow one goes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, foreign key, the index on it alone, the index on it with the order keys).
const INDEXES: [(&str, &str, &str, &str); 5] = [
    (
        "organizations",
        "parent_id",
        "idx_organizations_parent_id",
        "idx_organizations_parent_id_name",
    ),
    (
        "projects",
        "agreement_id",
        "idx_projects_agreement_id",
        "idx_projects_agreement_id_name",
    ),
    (
        "events",
        "agreement_id",
        "idx_events_agreement_id",
        "idx_events_agreement_id_name",
    ),
    (
        "events",
        "project_id",
        "idx_events_project_id",
        "idx_events_project_id_name",
    ),
    (
        "events",
        "parent_id",
        "idx_events_parent_id",
        "idx_events_parent_id_name",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, narrow, wide) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(wide)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .col(Alias::new("name"))
                        .col(Alias::new("id"))
                        .to_owned(),
                )
                .await?;
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX {narrow}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, narrow, wide) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(narrow)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .to_owned(),
                )
                .await?;
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX {wide}"))
                .await?;
        }
        Ok(())
    }
}
