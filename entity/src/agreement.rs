//! Agreements: memoranda, cooperation agreements, frameworks and standing partnerships.

use sea_orm::entity::prelude::*;

use crate::{AgreementKind, DatePrecision};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    pub kind: AgreementKind,
    /// First day of the period in which it was signed; see `signed_precision`.
    pub signed_on: Option<Date>,
    pub signed_precision: Option<DatePrecision>,
    pub summary: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::source::Entity",
        from = "Column::SourceId",
        to = "super::source::Column::Id"
    )]
    Source,
    #[sea_orm(has_many = "super::agreement_party::Entity")]
    AgreementParty,
}

impl Related<super::agreement_party::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AgreementParty.def()
    }
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        super::agreement_party::Relation::Organization.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::agreement_party::Relation::Agreement.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
