//! Projects: programmes, platforms, initiatives and networks run jointly.

use sea_orm::entity::prelude::*;

use crate::{DatePrecision, ProjectKind, ProjectStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub kind: ProjectKind,
    pub status: ProjectStatus,
    pub summary: Option<String>,
    pub starts_on: Option<Date>,
    pub starts_precision: Option<DatePrecision>,
    pub ends_on: Option<Date>,
    pub ends_precision: Option<DatePrecision>,
    /// The agreement this project carries out, if any.
    pub agreement_id: Option<i64>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
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
