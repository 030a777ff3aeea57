//! Revert: a record's fields put back as an update found them, through the update path.
//!
//! The fields the update changed (its before- and after-images differ there) are laid over the
//! record as it is now and written by the same flow as `update…`: the same checks (a reference
//! deleted since or a slug taken since is refused as it would be for an update), the version
//! checked and bumped once, and an audit entry of its own, `revert`, which the change feed
//! carries like any other. The record must still be where the update left it (its version is
//! the one the entry's after-image holds); otherwise the answer is CONFLICT, unless the admin
//! forces it: then the fields that update changed go back, and what others changed since in
//! other fields stays.

use entity::audit_entry;
use sea_orm::{DatabaseTransaction, EntityTrait, IntoActiveModel};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value as Json;

use super::{
    Bookkept, Table, Writable, audit, existing,
    records::{
        AgreementFields, EventFields, Fields, InstrumentFields, OrganizationFields, ProjectFields,
        update_as,
    },
    to_json,
};
use crate::{
    auth::Actor,
    error::{AppError, AppResult},
};

/// The actions whose entries a revert takes: an update's, or a revert's (to undo a revert).
const REVERTIBLE: [&str; 2] = ["update", "revert"];

/// The columns a revert never takes from an image: the record's identity and bookkeeping.
const KEPT: [&str; 4] = ["id", "version", "created_at", "updated_at"];

/// Puts back the fields the update recorded in audit entry `entry_id` changed. Returns the
/// record's table and id, and the revert's audit entry (none when the record already holds
/// those values: nothing is written then).
pub async fn revert(
    txn: &DatabaseTransaction,
    actor: &Actor,
    entry_id: i64,
    force: bool,
) -> AppResult<(Table, i64, Option<audit_entry::Model>)> {
    let entry = audit::entry(txn, entry_id).await?;
    if !REVERTIBLE.contains(&entry.action.as_str()) {
        return Err(AppError::bad_field(
            "auditEntryId",
            format!(
                "audit entry {entry_id} records a {}, not an update",
                entry.action
            ),
        ));
    }
    let table = Table::of_record_type(&entry.entity_type).ok_or_else(unreadable)?;
    let (id, done) = match table {
        Table::Organization => revert_to::<OrganizationFields>(txn, actor, &entry, force).await?,
        Table::Agreement => revert_to::<AgreementFields>(txn, actor, &entry, force).await?,
        Table::Project => revert_to::<ProjectFields>(txn, actor, &entry, force).await?,
        Table::Event => revert_to::<EventFields>(txn, actor, &entry, force).await?,
        Table::Instrument => revert_to::<InstrumentFields>(txn, actor, &entry, force).await?,
        _ => return Err(unreadable()),
    };
    Ok((table, id, done))
}

fn unreadable() -> AppError {
    AppError::bad_field("auditEntryId", "this audit entry holds no record's update")
}

async fn revert_to<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    entry: &audit_entry::Model,
    force: bool,
) -> AppResult<(i64, Option<audit_entry::Model>)>
where
    F: Fields,
    <F::E as EntityTrait>::Model:
        IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize + DeserializeOwned,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let (Some(id), Some(Json::Object(before)), Some(Json::Object(after))) =
        (entry.record_id, &entry.before, &entry.after)
    else {
        return Err(unreadable());
    };
    let current = existing::<F::E>(txn, id).await?;
    let now = F::E::version_of(&current);
    let left_at = after.get("version").and_then(Json::as_i64);
    if !force && left_at != Some(i64::from(now)) {
        let left_at = left_at.map_or_else(|| "an unknown version".to_owned(), |v| v.to_string());
        return Err(AppError::Conflict {
            message: format!(
                "{} {id} changed since audit entry {}: the update left it at version {left_at}, it is now at version {now}. Read its history, or pass force: true to put back the fields that update changed anyway.",
                F::E::TYPE,
                entry.id
            ),
            field: "version".into(),
        });
    }
    let mut image = to_json(&current)?;
    if let Json::Object(image) = &mut image {
        for (column, value) in before {
            let changed = after.get(column) != Some(value);
            if changed && !KEPT.contains(&column.as_str()) && image.contains_key(column) {
                image.insert(column.clone(), value.clone());
            }
        }
    }
    let model: <F::E as EntityTrait>::Model = serde_json::from_value(image).map_err(|e| {
        AppError::Internal(
            anyhow::Error::from(e).context(format!("Failed to read audit entry {}", entry.id)),
        )
    })?;
    let fields = F::from_model(&model);
    // Problems are reported under the entry (`auditEntryId.parent`: the parent it put back
    // was deleted since), as an update reports them under its input.
    let (_, done) = update_as::<F>(txn, actor, "revert", id, now, "auditEntryId", |f| {
        *f = fields;
    })
    .await?;
    Ok((id, done))
}
