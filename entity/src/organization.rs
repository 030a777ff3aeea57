//! Organizations: UN entities, intergovernmental bodies, associations, committees.

use sea_orm::entity::prelude::*;

use crate::OrganizationKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    /// The organization this one belongs to (a working group under OHCHR).
    pub parent_id: Option<i64>,
    pub website: Option<String>,
    pub description: Option<String>,
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

impl Related<super::agreement::Entity> for Entity {
    fn to() -> RelationDef {
        super::agreement_party::Relation::Agreement.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::agreement_party::Relation::Organization.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
