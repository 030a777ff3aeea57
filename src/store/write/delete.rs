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
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

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

/// What a delete took away, as its audit entry keeps it (as JSON, in this shape; the entries
/// written before this type have the same shape): all that `restore` puts back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteImage {
    /// The record's table (`organizations`).
    pub table: String,
    /// The record's row.
    pub record: Json,
    /// The rows of the tables it owns, deleted with it (its parties), by table.
    #[serde(default)]
    pub owned: BTreeMap<String, Vec<Json>>,
    /// The link rows pointing at it, deleted with `detachLinks`, by `table.column`.
    #[serde(default)]
    pub linked: BTreeMap<String, Vec<Json>>,
    /// The ids of the records whose reference to it was cleared, by `table.column`.
    #[serde(default)]
    pub referenced: BTreeMap<String, Vec<i64>>,
}

/// Deletes record `id` at `version`, with the before-image restore needs; answers the
/// before-image. Refused (BAD_USER_INPUT naming who points at it) when other records
/// reference it and `detach_links` is off.
pub async fn delete_record<E>(
    txn: &DatabaseTransaction,
    id: i64,
    version: i32,
    options: DeleteOptions,
) -> AppResult<DeleteImage>
where
    E: Writable,
    E::Model: Serialize,
{
    let model = at_version::<E>(txn, id, version).await?;
    let mut owned = BTreeMap::new();
    for (table, col) in E::OWNED {
        owned.insert(table.name().into(), table.rows(txn, col, id).await?);
    }
    let mut linked = BTreeMap::new();
    let mut referenced = BTreeMap::new();
    let mut blockers = Vec::new();
    for (table, col) in E::LINKED_BY {
        let rows = table.rows(txn, col, id).await?;
        if !rows.is_empty() {
            blockers.push(table.noun(rows.len()));
            linked.insert(format!("{}.{col}", table.name()), rows);
        }
    }
    for (table, col) in E::REFERENCED_BY {
        let ids: Vec<i64> = table
            .rows(txn, col, id)
            .await?
            .into_iter()
            .filter_map(|r| r.get("id").and_then(Json::as_i64))
            .collect();
        if !ids.is_empty() {
            // `parent_id` → `(as parent)`: the field's name in the API, not the column's.
            let field = col.strip_suffix("_id").unwrap_or(col);
            blockers.push(format!("{} (as {field})", table.noun(ids.len())));
            referenced.insert(format!("{}.{col}", table.name()), ids);
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
    Ok(DeleteImage {
        table: E::TABLE.name().to_owned(),
        record: to_json(&model)?,
        owned,
        linked,
        referenced,
    })
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
pub async fn restore_image(
    txn: &DatabaseTransaction,
    image: &DeleteImage,
) -> AppResult<(Table, i64)> {
    let bad = || AppError::bad_field("auditEntryId", "this audit entry holds no deleted record");
    let table = Table::from_name(&image.table).ok_or_else(bad)?;
    let record = image.record.clone();
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
    for (key, section_rows) in image.owned.iter().chain(&image.linked) {
        let name = key.split('.').next().unwrap_or_default();
        let link = Table::from_name(name).ok_or_else(bad)?;
        rows.push((link, section_rows.clone()));
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
    {
        for (key, ids) in &image.referenced {
            let (name, col) = key.split_once('.').ok_or_else(bad)?;
            let other = Table::from_name(name).ok_or_else(bad)?;
            let ids = ids.iter().copied();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_image_reads_back_as_the_audit_log_has_always_held_it() {
        // The shape the entries had when the image was built as untyped JSON.
        let stored = serde_json::json!({
            "table": "organizations",
            "record": { "id": 7, "slug": "unctad", "name": "UNCTAD" },
            "owned": {},
            "linked": { "agreement_parties.organization_id": [{ "id": 3, "agreement_id": 2 }] },
            "referenced": { "instruments.issuer_id": [11, 12] },
        });
        let image: DeleteImage =
            serde_json::from_value(stored.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(image.table, "organizations");
        assert_eq!(image.record["slug"], "unctad");
        assert_eq!(image.linked["agreement_parties.organization_id"].len(), 1);
        assert_eq!(image.referenced["instruments.issuer_id"], [11, 12]);
        assert_eq!(serde_json::to_value(&image).ok(), Some(stored));

        // An image without the sections it had nothing in.
        let bare = serde_json::json!({ "table": "events", "record": { "id": 1 } });
        let image: DeleteImage = serde_json::from_value(bare).unwrap_or_else(|e| panic!("{e}"));
        assert!(image.owned.is_empty() && image.linked.is_empty() && image.referenced.is_empty());
    }
}
