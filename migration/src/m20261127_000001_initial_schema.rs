//! The first schema: organizations, agreements, projects, events, instruments, sources and the
//! links between them.
//!
//! ON DELETE rules, chosen deliberately:
//! - A link row (party, participant, instrument link, region, theme) belongs to the record it
//!   describes (the agreement, project or event): deleting that record deletes its links (CASCADE).
//! - Anything that *points at* another record (a party's organization, a project's agreement, an
//!   event's parent, a record's source, an instrument link's instrument) is RESTRICT: the database
//!   refuses to delete a referenced record, and the application decides what happens to the links.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{date_with_precision, foreign_key, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SLUG_LEN: u32 = 100;
const ENUM_LEN: u32 = 40;
const PRECISION_LEN: u32 = 8;

#[derive(DeriveIden, Clone, Copy)]
enum Sources {
    Table,
    Slug,
    Title,
    Publisher,
    PublishedOn,
    PublishedPrecision,
    Url,
    Notes,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Slug,
    Name,
    Acronym,
    Kind,
    ParentId,
    Website,
    Description,
    SourceId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agreements {
    Table,
    Slug,
    Title,
    Kind,
    SignedOn,
    SignedPrecision,
    Summary,
    SourceId,
}

#[derive(DeriveIden, Clone, Copy)]
enum AgreementParties {
    Table,
    AgreementId,
    OrganizationId,
    Role,
    SinceOn,
    SincePrecision,
}

#[derive(DeriveIden, Clone, Copy)]
enum Projects {
    Table,
    Slug,
    Name,
    Kind,
    Status,
    Summary,
    StartsOn,
    StartsPrecision,
    EndsOn,
    EndsPrecision,
    AgreementId,
    SourceId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectParticipants {
    Table,
    ProjectId,
    OrganizationId,
    Role,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectRegions {
    Table,
    ProjectId,
    Region,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectThemes {
    Table,
    ProjectId,
    Theme,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    Slug,
    Name,
    Kind,
    Summary,
    StartsOn,
    StartsPrecision,
    EndsOn,
    EndsPrecision,
    Location,
    Recurrence,
    ParentId,
    ProjectId,
    AgreementId,
    SourceId,
}

#[derive(DeriveIden, Clone, Copy)]
enum EventParticipants {
    Table,
    EventId,
    OrganizationId,
    Role,
}

#[derive(DeriveIden, Clone, Copy)]
enum Instruments {
    Table,
    Slug,
    Name,
    Acronym,
    Kind,
    IssuerId,
    AdoptedOn,
    AdoptedPrecision,
    Url,
    Description,
    SourceId,
}

#[derive(DeriveIden, Clone, Copy)]
enum AgreementInstruments {
    Table,
    AgreementId,
    InstrumentId,
    Role,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectInstruments {
    Table,
    ProjectId,
    InstrumentId,
    Role,
}

#[derive(DeriveIden, Clone, Copy)]
enum EventInstruments {
    Table,
    EventId,
    InstrumentId,
    Role,
}

/// Every table, in creation order (dropped in reverse).
fn tables() -> Vec<DynIden> {
    vec![
        Sources::Table.into_iden(),
        Organizations::Table.into_iden(),
        Instruments::Table.into_iden(),
        Agreements::Table.into_iden(),
        AgreementParties::Table.into_iden(),
        AgreementInstruments::Table.into_iden(),
        Projects::Table.into_iden(),
        ProjectParticipants::Table.into_iden(),
        ProjectRegions::Table.into_iden(),
        ProjectThemes::Table.into_iden(),
        ProjectInstruments::Table.into_iden(),
        Events::Table.into_iden(),
        EventParticipants::Table.into_iden(),
        EventInstruments::Table.into_iden(),
    ]
}

/// A span (`starts_on`..`ends_on`, each the first day of a period of its precision) may not end
/// before it starts. The end's whole period counts: "from June 2020 until 2020" is valid, though
/// `ends_on` (2020-01-01) is before `starts_on` (2020-06-01). When the end is at least as precise
/// as the start, comparing the first days is exact; when it is coarser (a year ending a month or
/// day, a month ending a day) the database lets it through, because finding the end's last day
/// needs date arithmetic that PostgreSQL and SQLite spell differently. The loader checks those
/// exactly (`PartialDate::last_day`).
fn span_ends_after_start() -> Expr {
    Expr::cust(
        "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on \
         OR (ends_precision = 'year' AND starts_precision IN ('month', 'day')) \
         OR (ends_precision = 'month' AND starts_precision = 'day')",
    )
}

fn slug(col: impl IntoIden) -> ColumnDef {
    string_len_uniq(col, SLUG_LEN)
        .check(Expr::cust("length(slug) > 0"))
        .take()
}

fn kind(col: impl IntoIden) -> ColumnDef {
    string_len(col, ENUM_LEN)
}

fn precision(col: impl IntoIden) -> ColumnDef {
    string_len_null(col, PRECISION_LEN)
}

impl Migration {
    fn sources() -> TableCreateStatement {
        record_table(Sources::Table)
            .col(slug(Sources::Slug))
            .col(text(Sources::Title))
            .col(text(Sources::Publisher))
            .col(date_null(Sources::PublishedOn))
            .col(precision(Sources::PublishedPrecision))
            .col(text_null(Sources::Url))
            .col(text_null(Sources::Notes))
            .check(date_with_precision("published_on", "published_precision"))
            .to_owned()
    }

    fn organizations() -> TableCreateStatement {
        let mut t = record_table(Organizations::Table)
            .col(slug(Organizations::Slug))
            .col(text(Organizations::Name))
            .col(text_null(Organizations::Acronym))
            .col(kind(Organizations::Kind))
            .col(big_integer_null(Organizations::ParentId))
            .col(text_null(Organizations::Website))
            .col(text_null(Organizations::Description))
            .col(big_integer_null(Organizations::SourceId))
            .check(Expr::cust("parent_id IS NULL OR parent_id <> id"))
            .to_owned();
        let o = Organizations::Table;
        foreign_key(
            &mut t,
            "fk_organizations_parent",
            (o, Organizations::ParentId),
            o,
            ForeignKeyAction::Restrict,
        );
        foreign_key(
            &mut t,
            "fk_organizations_source",
            (o, Organizations::SourceId),
            Sources::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn instruments() -> TableCreateStatement {
        let i = Instruments::Table;
        let mut t = record_table(i)
            .col(slug(Instruments::Slug))
            .col(text(Instruments::Name))
            .col(text_null(Instruments::Acronym))
            .col(kind(Instruments::Kind))
            .col(big_integer_null(Instruments::IssuerId))
            .col(date_null(Instruments::AdoptedOn))
            .col(precision(Instruments::AdoptedPrecision))
            .col(text_null(Instruments::Url))
            .col(text_null(Instruments::Description))
            .col(big_integer_null(Instruments::SourceId))
            .check(date_with_precision("adopted_on", "adopted_precision"))
            .to_owned();
        foreign_key(
            &mut t,
            "fk_instruments_issuer",
            (i, Instruments::IssuerId),
            Organizations::Table,
            ForeignKeyAction::Restrict,
        );
        foreign_key(
            &mut t,
            "fk_instruments_source",
            (i, Instruments::SourceId),
            Sources::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn agreements() -> TableCreateStatement {
        let a = Agreements::Table;
        let mut t = record_table(a)
            .col(slug(Agreements::Slug))
            .col(text(Agreements::Title))
            .col(kind(Agreements::Kind))
            .col(date_null(Agreements::SignedOn))
            .col(precision(Agreements::SignedPrecision))
            .col(text_null(Agreements::Summary))
            .col(big_integer_null(Agreements::SourceId))
            .check(date_with_precision("signed_on", "signed_precision"))
            .to_owned();
        foreign_key(
            &mut t,
            "fk_agreements_source",
            (a, Agreements::SourceId),
            Sources::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn agreement_parties() -> TableCreateStatement {
        let p = AgreementParties::Table;
        let mut t = record_table(p)
            .col(big_integer(AgreementParties::AgreementId))
            .col(big_integer(AgreementParties::OrganizationId))
            .col(kind(AgreementParties::Role))
            .col(date_null(AgreementParties::SinceOn))
            .col(precision(AgreementParties::SincePrecision))
            .check(date_with_precision("since_on", "since_precision"))
            .to_owned();
        foreign_key(
            &mut t,
            "fk_agreement_parties_agreement",
            (p, AgreementParties::AgreementId),
            Agreements::Table,
            ForeignKeyAction::Cascade,
        );
        foreign_key(
            &mut t,
            "fk_agreement_parties_organization",
            (p, AgreementParties::OrganizationId),
            Organizations::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn projects() -> TableCreateStatement {
        let p = Projects::Table;
        let mut t = record_table(p)
            .col(slug(Projects::Slug))
            .col(text(Projects::Name))
            .col(kind(Projects::Kind))
            .col(kind(Projects::Status))
            .col(text_null(Projects::Summary))
            .col(date_null(Projects::StartsOn))
            .col(precision(Projects::StartsPrecision))
            .col(date_null(Projects::EndsOn))
            .col(precision(Projects::EndsPrecision))
            .col(big_integer_null(Projects::AgreementId))
            .col(big_integer_null(Projects::SourceId))
            .check(date_with_precision("starts_on", "starts_precision"))
            .check(date_with_precision("ends_on", "ends_precision"))
            .check(span_ends_after_start())
            .to_owned();
        foreign_key(
            &mut t,
            "fk_projects_agreement",
            (p, Projects::AgreementId),
            Agreements::Table,
            ForeignKeyAction::Restrict,
        );
        foreign_key(
            &mut t,
            "fk_projects_source",
            (p, Projects::SourceId),
            Sources::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn project_participants() -> TableCreateStatement {
        let p = ProjectParticipants::Table;
        let mut t = record_table(p)
            .col(big_integer(ProjectParticipants::ProjectId))
            .col(big_integer(ProjectParticipants::OrganizationId))
            .col(kind(ProjectParticipants::Role))
            .to_owned();
        foreign_key(
            &mut t,
            "fk_project_participants_project",
            (p, ProjectParticipants::ProjectId),
            Projects::Table,
            ForeignKeyAction::Cascade,
        );
        foreign_key(
            &mut t,
            "fk_project_participants_organization",
            (p, ProjectParticipants::OrganizationId),
            Organizations::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    /// Regions and themes are values of a project, not records: a composite key and no bookkeeping.
    fn project_values(
        table: impl IntoIden + Copy + 'static,
        project: impl IntoIden + Copy + 'static,
        value: impl IntoIden + Copy + 'static,
        fk: &str,
    ) -> TableCreateStatement {
        let mut t = Table::create()
            .table(table)
            .col(big_integer(project))
            .col(string_len(value, 200))
            .primary_key(Index::create().col(project).col(value))
            .to_owned();
        foreign_key(
            &mut t,
            fk,
            (table, project),
            Projects::Table,
            ForeignKeyAction::Cascade,
        );
        t
    }

    fn events() -> TableCreateStatement {
        let e = Events::Table;
        let mut t = record_table(e)
            .col(slug(Events::Slug))
            .col(text(Events::Name))
            .col(kind(Events::Kind))
            .col(text_null(Events::Summary))
            .col(date_null(Events::StartsOn))
            .col(precision(Events::StartsPrecision))
            .col(date_null(Events::EndsOn))
            .col(precision(Events::EndsPrecision))
            .col(text_null(Events::Location))
            .col(string_len_null(Events::Recurrence, ENUM_LEN))
            .col(big_integer_null(Events::ParentId))
            .col(big_integer_null(Events::ProjectId))
            .col(big_integer_null(Events::AgreementId))
            .col(big_integer_null(Events::SourceId))
            .check(date_with_precision("starts_on", "starts_precision"))
            .check(date_with_precision("ends_on", "ends_precision"))
            .check(span_ends_after_start())
            .check(Expr::cust("parent_id IS NULL OR parent_id <> id"))
            .to_owned();
        foreign_key(
            &mut t,
            "fk_events_parent",
            (e, Events::ParentId),
            e,
            ForeignKeyAction::Restrict,
        );
        foreign_key(
            &mut t,
            "fk_events_project",
            (e, Events::ProjectId),
            Projects::Table,
            ForeignKeyAction::Restrict,
        );
        foreign_key(
            &mut t,
            "fk_events_agreement",
            (e, Events::AgreementId),
            Agreements::Table,
            ForeignKeyAction::Restrict,
        );
        foreign_key(
            &mut t,
            "fk_events_source",
            (e, Events::SourceId),
            Sources::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn event_participants() -> TableCreateStatement {
        let p = EventParticipants::Table;
        let mut t = record_table(p)
            .col(big_integer(EventParticipants::EventId))
            .col(big_integer(EventParticipants::OrganizationId))
            .col(kind(EventParticipants::Role))
            .to_owned();
        foreign_key(
            &mut t,
            "fk_event_participants_event",
            (p, EventParticipants::EventId),
            Events::Table,
            ForeignKeyAction::Cascade,
        );
        foreign_key(
            &mut t,
            "fk_event_participants_organization",
            (p, EventParticipants::OrganizationId),
            Organizations::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    /// A link from an owner (agreement, project, event) to an instrument, with a role.
    fn instrument_links(
        table: impl IntoIden + Copy + 'static,
        owner_col: impl IntoIden + Copy + 'static,
        owner: impl IntoIden + 'static,
        instrument_col: impl IntoIden + Copy + 'static,
        role: impl IntoIden,
        names: (&str, &str),
    ) -> TableCreateStatement {
        let mut t = record_table(table)
            .col(big_integer(owner_col))
            .col(big_integer(instrument_col))
            .col(kind(role))
            .to_owned();
        foreign_key(
            &mut t,
            names.0,
            (table, owner_col),
            owner,
            ForeignKeyAction::Cascade,
        );
        foreign_key(
            &mut t,
            names.1,
            (table, instrument_col),
            Instruments::Table,
            ForeignKeyAction::Restrict,
        );
        t
    }

    fn indexes() -> Vec<IndexCreateStatement> {
        vec![
            index(
                Organizations::Table,
                "idx_organizations_parent_id",
                [Organizations::ParentId],
            ),
            index(
                Organizations::Table,
                "idx_organizations_source_id",
                [Organizations::SourceId],
            ),
            index(
                Organizations::Table,
                "idx_organizations_kind",
                [Organizations::Kind],
            ),
            index(
                Organizations::Table,
                "idx_organizations_name",
                [Organizations::Name],
            ),
            index(
                Instruments::Table,
                "idx_instruments_issuer_id",
                [Instruments::IssuerId],
            ),
            index(
                Instruments::Table,
                "idx_instruments_source_id",
                [Instruments::SourceId],
            ),
            index(
                Instruments::Table,
                "idx_instruments_kind",
                [Instruments::Kind],
            ),
            index(
                Instruments::Table,
                "idx_instruments_name",
                [Instruments::Name],
            ),
            index(
                Agreements::Table,
                "idx_agreements_source_id",
                [Agreements::SourceId],
            ),
            index(Agreements::Table, "idx_agreements_kind", [Agreements::Kind]),
            index(
                Agreements::Table,
                "idx_agreements_signed_on",
                [Agreements::SignedOn],
            ),
            index(
                Agreements::Table,
                "idx_agreements_title",
                [Agreements::Title],
            ),
            index(
                AgreementParties::Table,
                "uq_agreement_parties",
                [
                    AgreementParties::AgreementId,
                    AgreementParties::OrganizationId,
                    AgreementParties::Role,
                ],
            )
            .unique()
            .to_owned(),
            index(
                AgreementParties::Table,
                "idx_agreement_parties_organization_id",
                [AgreementParties::OrganizationId],
            ),
            index(
                AgreementInstruments::Table,
                "uq_agreement_instruments",
                [
                    AgreementInstruments::AgreementId,
                    AgreementInstruments::InstrumentId,
                    AgreementInstruments::Role,
                ],
            )
            .unique()
            .to_owned(),
            index(
                AgreementInstruments::Table,
                "idx_agreement_instruments_instrument_id",
                [AgreementInstruments::InstrumentId],
            ),
            index(
                Projects::Table,
                "idx_projects_agreement_id",
                [Projects::AgreementId],
            ),
            index(
                Projects::Table,
                "idx_projects_source_id",
                [Projects::SourceId],
            ),
            index(Projects::Table, "idx_projects_kind", [Projects::Kind]),
            index(Projects::Table, "idx_projects_status", [Projects::Status]),
            index(
                Projects::Table,
                "idx_projects_starts_on",
                [Projects::StartsOn],
            ),
            index(Projects::Table, "idx_projects_name", [Projects::Name]),
            index(
                ProjectParticipants::Table,
                "uq_project_participants",
                [
                    ProjectParticipants::ProjectId,
                    ProjectParticipants::OrganizationId,
                    ProjectParticipants::Role,
                ],
            )
            .unique()
            .to_owned(),
            index(
                ProjectParticipants::Table,
                "idx_project_participants_organization_id",
                [ProjectParticipants::OrganizationId],
            ),
            index(
                ProjectRegions::Table,
                "idx_project_regions_region",
                [ProjectRegions::Region],
            ),
            index(
                ProjectThemes::Table,
                "idx_project_themes_theme",
                [ProjectThemes::Theme],
            ),
            index(
                ProjectInstruments::Table,
                "uq_project_instruments",
                [
                    ProjectInstruments::ProjectId,
                    ProjectInstruments::InstrumentId,
                    ProjectInstruments::Role,
                ],
            )
            .unique()
            .to_owned(),
            index(
                ProjectInstruments::Table,
                "idx_project_instruments_instrument_id",
                [ProjectInstruments::InstrumentId],
            ),
            index(Events::Table, "idx_events_parent_id", [Events::ParentId]),
            index(Events::Table, "idx_events_project_id", [Events::ProjectId]),
            index(
                Events::Table,
                "idx_events_agreement_id",
                [Events::AgreementId],
            ),
            index(Events::Table, "idx_events_source_id", [Events::SourceId]),
            index(Events::Table, "idx_events_kind", [Events::Kind]),
            index(Events::Table, "idx_events_starts_on", [Events::StartsOn]),
            index(Events::Table, "idx_events_name", [Events::Name]),
            index(
                EventParticipants::Table,
                "uq_event_participants",
                [
                    EventParticipants::EventId,
                    EventParticipants::OrganizationId,
                    EventParticipants::Role,
                ],
            )
            .unique()
            .to_owned(),
            index(
                EventParticipants::Table,
                "idx_event_participants_organization_id",
                [EventParticipants::OrganizationId],
            ),
            index(
                EventInstruments::Table,
                "uq_event_instruments",
                [
                    EventInstruments::EventId,
                    EventInstruments::InstrumentId,
                    EventInstruments::Role,
                ],
            )
            .unique()
            .to_owned(),
            index(
                EventInstruments::Table,
                "idx_event_instruments_instrument_id",
                [EventInstruments::InstrumentId],
            ),
        ]
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let creates = [
            Self::sources(),
            Self::organizations(),
            Self::instruments(),
            Self::agreements(),
            Self::agreement_parties(),
            Self::instrument_links(
                AgreementInstruments::Table,
                AgreementInstruments::AgreementId,
                Agreements::Table,
                AgreementInstruments::InstrumentId,
                AgreementInstruments::Role,
                (
                    "fk_agreement_instruments_agreement",
                    "fk_agreement_instruments_instrument",
                ),
            ),
            Self::projects(),
            Self::project_participants(),
            Self::project_values(
                ProjectRegions::Table,
                ProjectRegions::ProjectId,
                ProjectRegions::Region,
                "fk_project_regions_project",
            ),
            Self::project_values(
                ProjectThemes::Table,
                ProjectThemes::ProjectId,
                ProjectThemes::Theme,
                "fk_project_themes_project",
            ),
            Self::instrument_links(
                ProjectInstruments::Table,
                ProjectInstruments::ProjectId,
                Projects::Table,
                ProjectInstruments::InstrumentId,
                ProjectInstruments::Role,
                (
                    "fk_project_instruments_project",
                    "fk_project_instruments_instrument",
                ),
            ),
            Self::events(),
            Self::event_participants(),
            Self::instrument_links(
                EventInstruments::Table,
                EventInstruments::EventId,
                Events::Table,
                EventInstruments::InstrumentId,
                EventInstruments::Role,
                (
                    "fk_event_instruments_event",
                    "fk_event_instruments_instrument",
                ),
            ),
        ];
        for create in creates {
            manager.create_table(create).await?;
        }
        for index in Self::indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite empties a table row by row before dropping it, checking foreign keys as it
        // goes: a parent deleted before its child breaks the self-referencing RESTRICT keys
        // (`parent_id`). Cutting those links first lets a seeded database roll back. The
        // `if_exists` guards let a rollback that failed half-way (before this fix) finish.
        for (table, parent) in [
            (Events::Table.into_iden(), Events::ParentId.into_iden()),
            (
                Organizations::Table.into_iden(),
                Organizations::ParentId.into_iden(),
            ),
        ] {
            if manager.has_table(table.to_string()).await? {
                manager
                    .exec_stmt(
                        Query::update()
                            .table(table)
                            .value(parent.clone(), Option::<i64>::None)
                            .and_where(Expr::col(parent).is_not_null())
                            .to_owned(),
                    )
                    .await?;
            }
        }
        // Dropping a table drops its indexes on both engines.
        for table in tables().into_iter().rev() {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
