//! Deletes with the before-image `restore` needs, and restores from it.

use chrono::Utc;
use entity::{
    agreement, agreement_instrument, agreement_party, event, event_instrument, event_participant,
    instrument, organization, project, project_instrument, project_participant, project_region,
    project_theme,
};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{
    Table, Writable, at_version, existing, exists,
    rows::stale,
    tables::{column, with_entity},
    to_json,
};
use crate::error::{AppError, AppResult};

/// What a delete does to the records that point at the one deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeleteOptions {
    /// Delete the link rows that point at it and clear other records' references to it.
    /// Without it, a referenced record is not deleted.
    pub detach_links: bool,
}

/// Deletes record `id` at `version`, with the before-image restore needs; answers the
/// before-image. Refused (BAD_USER_INPUT naming who points at it) when other records
/// reference it and `detach_links` is off.
pub async fn delete_record<E>(
    txn: &DatabaseTransaction,
    id: i64,
    version: i32,
    options: DeleteOptions,
) -> AppResult<Json>
where
    E: Writable,
    E::Model: Serialize,
{
    let model = at_version::<E>(txn, id, version).await?;
    let mut owned = serde_json::Map::new();
    for (table, col) in E::OWNED {
        owned.insert(table.name().into(), table.rows(txn, col, id).await?.into());
    }
    let mut linked = serde_json::Map::new();
    let mut referenced = serde_json::Map::new();
    let mut blockers = Vec::new();
    for (table, col) in E::LINKED_BY {
        let rows = table.rows(txn, col, id).await?;
        if !rows.is_empty() {
            blockers.push(table.noun(rows.len()));
            linked.insert(format!("{}.{col}", table.name()), rows.into());
        }
    }
    for (table, col) in E::REFERENCED_BY {
        let ids: Vec<Json> = table
            .rows(txn, col, id)
            .await?
            .into_iter()
            .filter_map(|r| r.get("id").cloned())
            .collect();
        if !ids.is_empty() {
            // `parent_id` → `(as parent)`: the field's name in the API, not the column's.
            let field = col.strip_suffix("_id").unwrap_or(col);
            blockers.push(format!("{} (as {field})", table.noun(ids.len())));
            referenced.insert(format!("{}.{col}", table.name()), ids.into());
        }
    }
    if !blockers.is_empty() && !options.detach_links {
        return Err(AppError::bad_field(
            "detachLinks",
            format!(
                "{} {id} is still referenced by {}. Remove those links first, or pass detachLinks: true to delete the link rows and clear the references (restore puts them back).",
                E::TYPE,
                blockers.join(", ")
            ),
        ));
    }
    for (table, col) in E::LINKED_BY {
        with_entity!(*table, L => {
            L::delete_many().filter(column::<L>(col)?.eq(id)).exec(txn).await?;
        });
    }
    for (table, col) in E::REFERENCED_BY {
        with_entity!(*table, R => {
            // The records whose reference is cleared change too: their version moves on.
            let version = column::<R>("version")?;
            R::update_many()
                .col_expr(column::<R>(col)?, Expr::value(Option::<i64>::None))
                .col_expr(version, Expr::col(version).add(1))
                .col_expr(column::<R>("updated_at")?, Expr::value(Utc::now()))
                .filter(column::<R>(col)?.eq(id))
                .exec(txn)
                .await?;
        });
    }
    let deleted = E::delete_many()
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec(txn)
        .await?;
    if deleted.rows_affected == 0 {
        let now = existing::<E>(txn, id).await?;
        return Err(stale(E::TYPE, id, version, E::version_of(&now)));
    }
    Ok(json!({
        "table": E::TABLE.name(),
        "record": to_json(&model)?,
        "owned": owned,
        "linked": linked,
        "referenced": referenced,
    }))
}

/// Whether the id or the slug of a deleted record is in use again.
async fn record_taken<E: Writable>(
    txn: &DatabaseTransaction,
    id: i64,
    slug: &str,
) -> AppResult<bool> {
    if exists::<E>(txn, id).await? {
        return Ok(true);
    }
    Ok(E::find()
        .select_only()
        .column(E::ID)
        .filter(E::SLUG.eq(slug))
        .into_tuple::<i64>()
        .one(txn)
        .await?
        .is_some())
}

/// Puts back what a delete's before-image holds: the record, its own links, the link rows
/// deleted with it and the references cleared. Returns the table and id of the record.
pub async fn restore_image(txn: &DatabaseTransaction, image: &Json) -> AppResult<(Table, i64)> {
    let bad = || AppError::bad_field("auditEntryId", "this audit entry holds no deleted record");
    let table = image
        .get("table")
        .and_then(Json::as_str)
        .and_then(Table::from_name)
        .ok_or_else(bad)?;
    let record = image.get("record").cloned().ok_or_else(bad)?;
    let id = record.get("id").and_then(Json::as_i64).ok_or_else(bad)?;
    let slug = record
        .get("slug")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let taken = match table {
        Table::Organization => record_taken::<organization::Entity>(txn, id, slug).await?,
        Table::Agreement => record_taken::<agreement::Entity>(txn, id, slug).await?,
        Table::Project => record_taken::<project::Entity>(txn, id, slug).await?,
        Table::Event => record_taken::<event::Entity>(txn, id, slug).await?,
        Table::Instrument => record_taken::<instrument::Entity>(txn, id, slug).await?,
        _ => return Err(bad()),
    };
    if taken {
        return Err(AppError::Conflict {
            message: format!(
                "The deleted record cannot come back: {} {id} or its slug exists again.",
                table.singular()
            ),
            field: "auditEntryId".into(),
        });
    }
    let mut rows = vec![(table, vec![record])];
    for section in ["owned", "linked"] {
        if let Some(map) = image.get(section).and_then(Json::as_object) {
            for (key, section_rows) in map {
                let name = key.split('.').next().unwrap_or_default();
                let link = Table::from_name(name).ok_or_else(bad)?;
                rows.push((link, section_rows.as_array().cloned().unwrap_or_default()));
            }
        }
    }
    // Every record the rows refer to must still exist: name those deleted since.
    let mut missing = std::collections::BTreeSet::new();
    for (link, link_rows) in &rows {
        for row in link_rows {
            for (col, target) in link.references() {
                let Some(other) = row.get(*col).and_then(Json::as_i64) else {
                    continue;
                };
                if (*target == table && other == id) || missing.contains(&(*target, other)) {
                    continue;
                }
                if target.rows(txn, "id", other).await?.is_empty() {
                    missing.insert((*target, other));
                }
            }
        }
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .map(|(target, other)| format!("{} {other}", target.singular()))
            .collect();
        return Err(AppError::Conflict {
            message: format!(
                "The deleted record cannot come back: it refers to records deleted since ({}). Restore those first.",
                list.join(", ")
            ),
            field: "auditEntryId".into(),
        });
    }
    for (link, link_rows) in rows {
        link.insert(txn, link_rows).await?;
    }
    if let Some(map) = image.get("referenced").and_then(Json::as_object) {
        for (key, ids) in map {
            let (name, col) = key.split_once('.').ok_or_else(bad)?;
            let other = Table::from_name(name).ok_or_else(bad)?;
            let ids: Vec<i64> = ids
                .as_array()
                .map(|a| a.iter().filter_map(Json::as_i64).collect())
                .unwrap_or_default();
            with_entity!(other, R => {
                let c = column::<R>(col)?;
                let version = column::<R>("version")?;
                R::update_many()
                    .col_expr(c, Expr::value(id))
                    .col_expr(version, Expr::col(version).add(1))
                    .col_expr(column::<R>("updated_at")?, Expr::value(Utc::now()))
                    .filter(column::<R>("id")?.is_in(ids))
                    .filter(c.is_null())
                    .exec(txn)
                    .await?;
            });
        }
    }
    Ok((table, id))
}
