//! Indexes the benchmarks asked for (docs/BENCHMARKS.md): an organization's links read as
//! `(organization_id, record_id)` pairs straight from the index.
//!
//! Every "the records this organization takes part in" question (its agreements, projects and
//! events as nested pages and counts, and filters such as "events the ILO took part in") starts
//! from the link table by `organization_id` and needs the other end's id. With only
//! `organization_id` indexed, PostgreSQL fetches each link row from the heap; for a hub with
//! thousands of links that is thousands of random reads per request. The pair makes it an
//! index-only scan. They replace the single-column indexes, which they cover.

use sea_orm_migration::prelude::*;

use crate::columns::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AgreementParties {
    Table,
    OrganizationId,
    AgreementId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectParticipants {
    Table,
    OrganizationId,
    ProjectId,
}

#[derive(DeriveIden, Clone, Copy)]
enum EventParticipants {
    Table,
    OrganizationId,
    EventId,
}

/// (table, the old single-column index, the new pair index, its columns)
fn pairs() -> Vec<(DynIden, &'static str, IndexCreateStatement)> {
    vec![
        (
            AgreementParties::Table.into_iden(),
            "idx_agreement_parties_organization_id",
            index(
                AgreementParties::Table,
                "idx_agreement_parties_organization_agreement",
                [
                    AgreementParties::OrganizationId,
                    AgreementParties::AgreementId,
                ],
            ),
        ),
        (
            ProjectParticipants::Table.into_iden(),
            "idx_project_participants_organization_id",
            index(
                ProjectParticipants::Table,
                "idx_project_participants_organization_project",
                [
                    ProjectParticipants::OrganizationId,
                    ProjectParticipants::ProjectId,
                ],
            ),
        ),
        (
            EventParticipants::Table.into_iden(),
            "idx_event_participants_organization_id",
            index(
                EventParticipants::Table,
                "idx_event_participants_organization_event",
                [
                    EventParticipants::OrganizationId,
                    EventParticipants::EventId,
                ],
            ),
        ),
    ]
}

fn old_index(table: DynIden, name: &str, column: &str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(Alias::new(column))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, old, new) in pairs() {
            manager.create_index(new).await?;
            manager
                .drop_index(Index::drop().name(old).table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, old, new) in pairs() {
            manager
                .create_index(old_index(table.clone(), old, "organization_id"))
                .await?;
            let name = new
                .get_index_spec()
                .get_name()
                .unwrap_or_default()
                .to_owned();
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
