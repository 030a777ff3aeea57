//! The audit log: who changed which record, how, when, and what it looked like before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// The token's subject.
    pub actor: String,
    /// The role the actor held (`editor`, `admin`).
    pub role: String,
    /// `create`, `update`, `delete`, `restore`, `revert`, `link`, `relink`, `unlink`, `import`.
    pub action: String,
    /// The GraphQL type of the record (`Organization`, `AgreementParty`, `Import`).
    pub entity_type: String,
    /// The record's database id (no foreign key: the entry outlives a deleted record).
    pub record_id: Option<i64>,
    /// The record, and for a delete its links, before the change (JSON).
    pub before: Option<Json>,
    /// The record after the change (JSON).
    pub after: Option<Json>,
    /// Where the change stands in the change feed: set when its transaction commits, growing
    /// in commit order (null only inside the transaction that writes it).
    pub position: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
