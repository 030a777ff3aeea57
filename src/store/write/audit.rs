//! Reading the audit log: newest first, filtered by record, actor and time, paged by id.

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::error::AppResult;

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The record: its type (`Organization`) and id.
    pub record: Option<(String, i64)>,
    pub actor: Option<String>,
    /// From this instant on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        use audit_entry::Column as C;
        let mut c = Condition::all();
        if let Some((entity_type, id)) = &self.record {
            c = c
                .add(C::EntityType.eq(entity_type.as_str()))
                .add(C::RecordId.eq(*id));
        }
        if let Some(actor) = &self.actor {
            c = c.add(C::Actor.eq(actor.as_str()));
        }
        if let Some(from) = self.from {
            c = c.add(C::At.gte(from));
        }
        if let Some(to) = self.to {
            c = c.add(C::At.lt(to));
        }
        c
    }
}

/// One page, newest first: the entries with ids below `before_id`, and whether more follow.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    before_id: Option<i64>,
    first: u64,
) -> AppResult<(Vec<audit_entry::Model>, bool)> {
    let mut query = audit_entry::Entity::find().filter(filter.condition());
    if let Some(id) = before_id {
        query = query.filter(audit_entry::Column::Id.lt(id));
    }
    let mut rows = query
        .order_by_desc(audit_entry::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

pub async fn count(db: &impl ConnectionTrait, filter: &AuditFilter) -> AppResult<u64> {
    Ok(audit_entry::Entity::find()
        .filter(filter.condition())
        .count(db)
        .await?)
}
