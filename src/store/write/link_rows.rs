//! The statements that write link rows, for the link changes of an update
//! ([`super::link_changes`]), a document's links ([`super::sync`]) and nothing else.
//!
//! A group of link changes writes up to three kinds of statement: one `DELETE` of every
//! removed link, one `UPDATE` per changed link, one multi-row `INSERT` of every added link.
//! On PostgreSQL [`write_group`] sends them as one statement, each a data-modifying `WITH`
//! query whose `RETURNING` rows the outer `SELECT` hands back in order (removed, changed,
//! added); SQLite has no data-modifying `WITH`, so there they go one after another. The rows
//! each statement writes are the same either way: both paths build them with [`update`] and
//! [`insert`]. The `UNION ALL` reads the parts in order, so the removals and role changes are
//! made before the inserts check the unique index (a link disconnected and connected again in
//! one call re-inserts the same key).

use chrono::Utc;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, FromQueryResult, IntoActiveModel, ModelTrait, QueryFilter, QueryTrait,
    Value,
    sea_query::{
        Alias, Asterisk, CommonTableExpression, Expr, ExprTrait, Query, SelectStatement, UnionType,
        ValueType, WithClause,
    },
};

use super::{
    gone_reference,
    links::{LinkTable, duplicate},
};
use crate::error::{AppError, AppResult, is_foreign_key_violation, is_unique_violation};

/// Further columns of a link row and their values.
pub(super) type Columns<L> = Vec<(<L as EntityTrait>::Column, Value)>;

/// A link to add: `(owner, target, role, further columns)`.
pub(super) type NewLink<L> = (i64, i64, Value, Columns<L>);

/// A link to change: `(link id, new role, further columns)`.
pub(super) type LinkChange<L> = (i64, Value, Columns<L>);

/// What one group's writes answer.
pub(super) struct Written<L: EntityTrait> {
    /// How many of the links to remove were removed.
    pub removed: u64,
    /// Each changed link as written, in the order of the changes.
    pub changed: Vec<L::Model>,
    /// Each added link as written, in the order of their ids.
    pub added: Vec<L::Model>,
}

/// Removes the links `remove` (ids), changes `change` and adds `add`: one statement on
/// PostgreSQL, one per part on SQLite. A duplicate or a target deleted meanwhile is CONFLICT
/// on `path.change` or `path.connect`, on `path` when the statement did both.
pub(super) async fn write_group<L>(
    txn: &DatabaseTransaction,
    remove: Vec<i64>,
    change: Vec<LinkChange<L>>,
    add: Vec<NewLink<L>>,
    path: &str,
) -> AppResult<Written<L>>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel>,
    L::ActiveModel: Send,
{
    if txn.get_database_backend() == DbBackend::Postgres {
        return write_at_once(txn, remove, change, add, path).await;
    }
    let mut written = Written {
        removed: 0,
        changed: Vec::with_capacity(change.len()),
        added: Vec::new(),
    };
    if !remove.is_empty() {
        let deleted = L::delete_many()
            .filter(L::ID.is_in(remove))
            .exec(txn)
            .await?;
        written.removed = deleted.rows_affected;
    }
    let field = format!("{path}.change");
    for (id, role, extra) in change {
        written
            .changed
            .push(update_link::<L>(txn, id, Some(role), extra, &field).await?);
    }
    written.added = insert_links::<L>(txn, add, &format!("{path}.connect")).await?;
    Ok(written)
}

/// [`write_group`] on PostgreSQL: every part a `WITH` query of one statement.
async fn write_at_once<L>(
    txn: &DatabaseTransaction,
    remove: Vec<i64>,
    change: Vec<LinkChange<L>>,
    add: Vec<NewLink<L>>,
    path: &str,
) -> AppResult<Written<L>>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel>,
    L::ActiveModel: Send,
{
    const REMOVED: i32 = 0;
    const CHANGED: i32 = 1;
    const ADDED: i32 = 2;
    let field = match (change.is_empty(), add.is_empty()) {
        (false, true) => format!("{path}.change"),
        (true, false) => format!("{path}.connect"),
        _ => path.to_owned(),
    };
    let mut with = WithClause::new();
    let mut parts: Vec<(i32, String)> = Vec::new();
    let mut part = |with: &mut WithClause, kind: i32, name: String, query| {
        with.cte(
            CommonTableExpression::new()
                .query::<sea_orm::sea_query::SubQueryStatement>(query)
                .table_name(Alias::new(&name))
                .to_owned(),
        );
        parts.push((kind, name));
    };
    if !remove.is_empty() {
        let mut delete = L::delete_many().filter(L::ID.is_in(remove)).into_query();
        part(
            &mut with,
            REMOVED,
            "removed".into(),
            delete.returning_all().to_owned().into(),
        );
    }
    for (i, (id, role, extra)) in change.into_iter().enumerate() {
        let mut update = update::<L>(id, Some(role), extra).into_query();
        part(
            &mut with,
            CHANGED,
            format!("changed_{i}"),
            update.returning_all().to_owned().into(),
        );
    }
    if let Some(insert) = insert::<L>(add) {
        let mut insert = insert.into_query();
        part(
            &mut with,
            ADDED,
            "added".into(),
            insert.returning_all().to_owned().into(),
        );
    }
    let mut selects = parts.into_iter().map(|(kind, name)| -> SelectStatement {
        Query::select()
            .expr_as(Expr::val(kind), "part")
            .column(Asterisk)
            .from(Alias::new(name))
            .to_owned()
    });
    let mut written = Written {
        removed: 0,
        changed: Vec::new(),
        added: Vec::new(),
    };
    let Some(mut select) = selects.next() else {
        return Ok(written);
    };
    for next in selects {
        select.union(UnionType::All, next);
    }
    let rows = txn
        .query_all(&with.query(select))
        .await
        .map_err(|e| write_error::<L>(e, &field))?;
    for row in rows {
        let kind: i32 = row.try_get("", "part")?;
        let model = L::Model::from_query_result(&row, "")?;
        match kind {
            REMOVED => written.removed += 1,
            CHANGED => written.changed.push(model),
            _ => written.added.push(model),
        }
    }
    written.added.sort_by_key(L::id_of);
    Ok(written)
}

/// The update that sets a link's role (when given) and further columns, bumping its version.
fn update<L: LinkTable>(id: i64, role: Option<Value>, extra: Columns<L>) -> sea_orm::UpdateMany<L>
where
    L::ActiveModel: Send,
{
    let mut active = L::ActiveModel::new();
    if let Some(role) = role {
        active.set(L::ROLE, role);
    }
    for (col, value) in extra {
        active.set(col, value);
    }
    L::update_many()
        .set(active)
        .col_expr(L::VERSION, Expr::col(L::VERSION).add(1))
        .col_expr(L::UPDATED_AT, Expr::value(Utc::now()))
        .filter(L::ID.eq(id))
}

/// The multi-row insert of `rows`, stamped as new; none for no rows.
fn insert<L: LinkTable>(rows: Vec<NewLink<L>>) -> Option<sea_orm::InsertMany<L::ActiveModel>>
where
    L::ActiveModel: Send,
{
    if rows.is_empty() {
        return None;
    }
    let now = Utc::now();
    let rows = rows.into_iter().map(|(owner, target, role, extra)| {
        let mut active = L::ActiveModel::new();
        active.set(L::OWNER, owner.into());
        active.set(L::TARGET, target.into());
        active.set(L::ROLE, role);
        for (col, value) in extra {
            active.set(col, value);
        }
        L::stamp_new(&mut active, now);
        active
    });
    Some(L::insert_many(rows))
}

/// Sets a link's role (when given) and further columns, bumping its version; answers it as
/// written. An error is CONFLICT on `field`.
pub(super) async fn update_link<L>(
    txn: &DatabaseTransaction,
    id: i64,
    role: Option<Value>,
    extra: Columns<L>,
    field: &str,
) -> AppResult<L::Model>
where
    L: LinkTable,
    L::ActiveModel: Send,
{
    update::<L>(id, role, extra)
        .exec_with_returning(txn)
        .await
        .map_err(|e| write_error::<L>(e, field))?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("link {id} vanished")))
}

/// Inserts links in one statement; answers them in the order of their ids. An error is
/// CONFLICT on `field`.
pub(super) async fn insert_links<L>(
    txn: &DatabaseTransaction,
    rows: Vec<NewLink<L>>,
    field: &str,
) -> AppResult<Vec<L::Model>>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel>,
    L::ActiveModel: Send,
{
    let Some(insert) = insert::<L>(rows) else {
        return Ok(Vec::new());
    };
    let mut added = insert
        .exec_with_returning(txn)
        .await
        .map_err(|e| write_error::<L>(e, field))?;
    added.sort_by_key(L::id_of);
    Ok(added)
}

/// A write's error: a duplicate link (a concurrent connect) or a target deleted meanwhile is
/// CONFLICT on the group's operation.
fn write_error<L: LinkTable>(e: sea_orm::DbErr, field: &str) -> AppError {
    if is_unique_violation(&e) {
        duplicate(L::TYPE, field)
    } else if is_foreign_key_violation(&e) {
        gone_reference(L::TYPE, field)
    } else {
        AppError::from(e)
    }
}

/// The target a link row points at.
pub(super) fn target_of<L: LinkTable>(model: &L::Model) -> i64 {
    <i64 as ValueType>::try_from(model.get(L::TARGET)).unwrap_or_default()
}
