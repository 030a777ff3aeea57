//! A change-feed position for each audit entry: the order in which the changes were committed.
//!
//! The entry's `id` is not that order on PostgreSQL: it comes from a sequence when the row is
//! inserted, and two transactions can commit in the other order (10 inserted first, 11
//! committed first). A reader that saw 11 and then asked for "after 11" would never see 10.
//! `position` is therefore set when the transaction commits (`store::write::commit`), under a
//! transaction-scoped advisory lock, as one more than the highest committed position: positions
//! grow in commit order with no holes a reader could skip. Until its transaction commits, an
//! entry's position is null, and nobody else sees the row anyway.
//!
//! Existing entries get their id as position. The partial index finds the entries a committing
//! transaction still has to number (only its own are visible to it).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEntries::Table)
                    .add_column(ColumnDef::new(AuditEntries::Position).big_integer().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE audit_entries SET position = id")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_audit_entries_position ON audit_entries (position)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_audit_entries_unnumbered ON audit_entries (id) WHERE position IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_audit_entries_unnumbered")
            .await?;
        db.execute_unprepared("DROP INDEX idx_audit_entries_position")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEntries::Table)
                    .drop_column(AuditEntries::Position)
                    .to_owned(),
            )
            .await
    }
}
