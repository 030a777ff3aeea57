//! Instruments: the declarations, principles, guidelines and agendas partnerships rest on.

use sea_orm::entity::prelude::*;

use crate::{DatePrecision, InstrumentKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "instruments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: InstrumentKind,
    /// The organization that adopted or issued it.
    pub issuer_id: Option<i64>,
    pub adopted_on: Option<Date>,
    pub adopted_precision: Option<DatePrecision>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::IssuerId",
        to = "super::organization::Column::Id"
    )]
    Issuer,
    #[sea_orm(
        belongs_to = "super::source::Entity",
        from = "Column::SourceId",
        to = "super::source::Column::Id"
    )]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
