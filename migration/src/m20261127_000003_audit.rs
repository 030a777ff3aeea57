//! The audit log: one row per successful mutation, written in the mutation's own transaction.
//!
//! Deletes are hard (reads never filter on a `deleted_at`), so the log is what makes them
//! undoable: `before` holds the whole before-image of a deleted record, its links included, and
//! an admin's `restore` re-creates it from there. Rows are never updated or deleted by the API.
//! `record_id` has no foreign key on purpose: the entry outlives the record it describes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Id,
    At,
    Actor,
    Role,
    Action,
    EntityType,
    RecordId,
    Before,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let t = AuditEntries::Table;
        manager
            .create_table(
                Table::create()
                    .table(t)
                    .col(big_pk_auto(AuditEntries::Id))
                    .col(timestamp_with_time_zone_default_now(AuditEntries::At))
                    .col(string_len(AuditEntries::Actor, 200))
                    .col(string_len(AuditEntries::Role, 40))
                    .col(string_len(AuditEntries::Action, 40))
                    .col(string_len(AuditEntries::EntityType, 40))
                    .col(big_integer_null(AuditEntries::RecordId))
                    .col(json_null(AuditEntries::Before))
                    .col(json_null(AuditEntries::After))
                    .to_owned(),
            )
            .await?;
        for stmt in [
            index(
                t,
                "idx_audit_entries_record",
                [AuditEntries::EntityType, AuditEntries::RecordId],
            ),
            index(t, "idx_audit_entries_actor", [AuditEntries::Actor]),
            index(t, "idx_audit_entries_at", [AuditEntries::At]),
        ] {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEntries::Table).to_owned())
            .await
    }
}
