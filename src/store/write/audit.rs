//! Reading the audit log: newest first, filtered by record, actor and time, paged by id; and
//! the history of many records at once (a page of each record's entries in one statement).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, WindowStatement},
};

use crate::{
    error::{AppError, AppResult},
    store::nested::{PAGE, per_parent},
};

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

/// Audit entry `id`, or NOT_FOUND.
pub async fn entry(db: &impl ConnectionTrait, id: i64) -> AppResult<audit_entry::Model> {
    audit_entry::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound {
            entity: "AuditEntry",
            key: id.to_string(),
        })
}

/// One record's page of its history: its entries, newest first, and whether older ones follow.
#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    pub entries: Vec<audit_entry::Model>,
    pub has_next_page: bool,
}

/// For each of `records` (of the type the audit log calls `entity_type`), its entries with ids
/// below `before_id`, newest first, at most `first`: one statement for all the records.
///
/// On PostgreSQL each record's page is a `LATERAL (… ORDER BY id DESC LIMIT first + 1)` over a
/// `VALUES` list of the records, read in order from `idx_audit_entries_record_id` (entity_type,
/// record_id, id): `first + 1` index entries however long a record's history is, as nested
/// connections cut their pages. SQLite, which has no LATERAL, numbers each record's entries
/// with `ROW_NUMBER() OVER (PARTITION BY record_id ORDER BY id DESC)`.
pub async fn history_pages(
    db: &impl ConnectionTrait,
    entity_type: &str,
    records: &[i64],
    before_id: Option<i64>,
    first: u64,
) -> AppResult<HashMap<i64, HistoryPage>> {
    use audit_entry::Column as C;
    let mut pages: HashMap<i64, HistoryPage> = HashMap::with_capacity(records.len());
    if records.is_empty() {
        return Ok(pages);
    }
    let mut entries = audit_entry::Entity::find().filter(C::EntityType.eq(entity_type));
    if let Some(id) = before_id {
        entries = entries.filter(C::Id.lt(id));
    }
    let page = Alias::new(PAGE);
    let statement = if db.get_database_backend() == DbBackend::Postgres {
        let mut one = entries.into_query();
        one.order_by(C::Id, Order::Desc).limit(first + 1);
        let mut outer = Query::select();
        outer.column((page.clone(), Asterisk));
        per_parent(
            &mut outer,
            records,
            (audit_entry::Entity.table_name(), C::RecordId.as_str()),
            one,
        );
        outer
            .order_by((page.clone(), C::RecordId), Order::Asc)
            .order_by((page, C::Id), Order::Desc)
            .to_owned()
    } else {
        let mut numbered = entries
            .filter(C::RecordId.is_in(records.iter().copied()))
            .into_query();
        numbered.expr_window_as(
            Func::cust("ROW_NUMBER"),
            WindowStatement::partition_by(C::RecordId)
                .order_by(C::Id, Order::Desc)
                .to_owned(),
            Alias::new("rn"),
        );
        Query::select()
            .column(Asterisk)
            .from_subquery(numbered, page.clone())
            .and_where(Expr::col((page.clone(), Alias::new("rn"))).lte(first as i64 + 1))
            .order_by((page.clone(), C::RecordId), Order::Asc)
            .order_by((page, C::Id), Order::Desc)
            .to_owned()
    };
    let rows = audit_entry::Entity::find()
        .from_raw_sql(db.get_database_backend().build(&statement))
        .all(db)
        .await?;
    for row in rows {
        let Some(record) = row.record_id else {
            continue;
        };
        let page = pages.entry(record).or_default();
        if page.entries.len() as u64 == first {
            page.has_next_page = true;
        } else {
            page.entries.push(row);
        }
    }
    Ok(pages)
}

/// For each of `records`, how many entries its history has.
pub async fn history_counts(
    db: &impl ConnectionTrait,
    entity_type: &str,
    records: &[i64],
) -> AppResult<HashMap<i64, u64>> {
    use audit_entry::Column as C;
    if records.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<(i64, i64)> = audit_entry::Entity::find()
        .select_only()
        .column(C::RecordId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(C::EntityType.eq(entity_type))
        .filter(C::RecordId.is_in(records.iter().copied()))
        .group_by(C::RecordId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(record, n)| (record, u64::try_from(n).unwrap_or(0)))
        .collect())
}
