//! Events: forums, conferences, the sessions held inside them, round tables, games.

use sea_orm::entity::prelude::*;

use crate::{DatePrecision, EventKind, Recurrence};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub starts_on: Option<Date>,
    pub starts_precision: Option<DatePrecision>,
    pub ends_on: Option<Date>,
    pub ends_precision: Option<DatePrecision>,
    pub location: Option<String>,
    pub recurrence: Option<Recurrence>,
    /// The event this one is part of (a session inside a forum).
    pub parent_id: Option<i64>,
    pub project_id: Option<i64>,
    /// The agreement under which the event was held, if any.
    pub agreement_id: Option<i64>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "Column::ProjectId",
        to = "super::project::Column::Id"
    )]
    Project,
    #[sea_orm(
        belongs_to = "super::agreement::Entity",
        from = "Column::AgreementId",
        to = "super::agreement::Column::Id"
    )]
    Agreement,
    #[sea_orm(
        belongs_to = "super::source::Entity",
        from = "Column::SourceId",
        to = "super::source::Column::Id"
    )]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
