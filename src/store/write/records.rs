//! Create, update and delete of the five kinds of records, one generic flow for all: the
//! editable columns of each kind are a [`Fields`] value, checked as a whole (on update, after
//! the patch is applied to what is stored), so create and update share every rule.

use entity::{agreement, audit_entry, event, instrument, organization, project};
use sea_orm::{
    ActiveModelBehavior, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};
use serde::Serialize;

pub use super::fields::{
    AgreementFields, EventFields, InstrumentFields, OrganizationFields, ProjectFields,
};
use super::{
    Bookkept, DeleteImage, DeleteOptions, Problems, Table, Writable, at_version, audit, audit_many,
    delete_record, insert_record,
    link_changes::{LinkGroup, apply_groups, check_groups},
    slug_free, to_json, update_record,
};
use crate::{
    auth::Actor,
    error::{AppError, AppResult},
};

/// The editable columns of one kind of record.
pub trait Fields: Sized + Send {
    type E: Writable;
    fn from_model(model: &<Self::E as EntityTrait>::Model) -> Self;
    fn slug(&self) -> &str;
    /// Checks that need no database; `path` is the input's path (`input`).
    fn check(&self, problems: &mut Problems, path: &str);
    /// Records that must exist: `(field path suffix, table, id)`.
    fn references(&self) -> Vec<(&'static str, Table, i64)>;
    /// The record's parent, for kinds that form a tree (checked for cycles).
    fn parent(&self) -> Option<i64> {
        None
    }
    /// The reference `field` names (`parent`), to fill in once a plan's slug is resolved.
    fn reference_mut(&mut self, _field: &str) -> Option<&mut Option<i64>> {
        None
    }
    /// Copies the fields into `active`, marking only what differs as changed.
    fn write(&self, active: &mut <Self::E as EntityTrait>::ActiveModel);
}

/// The ids among `ids` that are records of `E`: one statement.
async fn existing_ids<E: Writable>(
    txn: &DatabaseTransaction,
    ids: Vec<i64>,
) -> AppResult<Vec<i64>> {
    Ok(E::find()
        .select_only()
        .column(E::ID)
        .filter(E::ID.is_in(ids))
        .into_tuple::<i64>()
        .all(txn)
        .await?)
}

/// Notes a problem at its path for each reference `(path, table, id)` to a record that does
/// not exist: one statement per table referred to, however many references.
pub async fn check_references(
    txn: &DatabaseTransaction,
    problems: &mut Problems,
    references: Vec<(String, Table, i64)>,
) -> AppResult<()> {
    let mut wanted: std::collections::BTreeMap<Table, Vec<i64>> = Default::default();
    for (_, table, id) in &references {
        wanted.entry(*table).or_default().push(*id);
    }
    let mut found = std::collections::BTreeSet::new();
    for (table, ids) in wanted {
        let ids = match table {
            Table::Organization => existing_ids::<organization::Entity>(txn, ids).await?,
            Table::Agreement => existing_ids::<agreement::Entity>(txn, ids).await?,
            Table::Project => existing_ids::<project::Entity>(txn, ids).await?,
            Table::Event => existing_ids::<event::Entity>(txn, ids).await?,
            Table::Instrument => existing_ids::<instrument::Entity>(txn, ids).await?,
            _ => Vec::new(),
        };
        found.extend(ids.into_iter().map(|id| (table, id)));
    }
    for (path, table, id) in references {
        if !found.contains(&(table, id)) {
            problems.push(
                path,
                format!("there is no {} with this ID", table.singular()),
            );
        }
    }
    Ok(())
}

/// The references of `fields` at their paths under `path`.
fn references_at<F: Fields>(fields: &F, path: &str) -> Vec<(String, Table, i64)> {
    (fields.references().into_iter())
        .map(|(field, table, id)| (format!("{path}.{field}"), table, id))
        .collect()
}

/// The parent of each record of a tree, walked up from `start`: true if `id` is met.
async fn is_ancestor_or_self<E: Writable>(
    txn: &DatabaseTransaction,
    parent_col: E::Column,
    start: i64,
    id: i64,
) -> AppResult<bool> {
    let mut current = Some(start);
    // A tree deeper than this is already broken; stop rather than loop.
    for _ in 0..1000 {
        match current {
            None => return Ok(false),
            Some(c) if c == id => return Ok(true),
            Some(c) => {
                current = E::find()
                    .select_only()
                    .column(parent_col)
                    .filter(E::ID.eq(c))
                    .into_tuple::<Option<i64>>()
                    .one(txn)
                    .await?
                    .flatten();
            }
        }
    }
    Ok(true)
}

async fn check_tree<F: Fields>(
    txn: &DatabaseTransaction,
    problems: &mut Problems,
    path: &str,
    fields: &F,
    id: i64,
    old_parent: Option<i64>,
) -> AppResult<()> {
    let Some(parent) = fields.parent() else {
        return Ok(());
    };
    if old_parent == Some(parent) {
        // An edge the tree already has closes no new cycle.
        return Ok(());
    }
    let column = match <F::E as Writable>::TABLE {
        Table::Organization => "parent_id",
        Table::Event => "parent_id",
        _ => return Ok(()),
    };
    lock_tree(txn, <F::E as Writable>::TABLE).await?;
    let column = super::tables::column::<F::E>(column)?;
    if is_ancestor_or_self::<F::E>(txn, column, parent, id).await? {
        problems.push(
            format!("{path}.parent"),
            "a record cannot be its own parent or the parent of one of its ancestors",
        );
    }
    Ok(())
}

/// The PostgreSQL advisory lock key that serializes parent changes in `table` (`pg_advisory_xact_lock`).
pub fn tree_lock_key(table: Table) -> i64 {
    // "ptree" and the table's position: fixed, and distinct per table.
    0x7074_7265_6500 + table as i64
}

/// Serializes parent changes in `table` until the transaction ends, so that two concurrent
/// updates (A under B, B under A) cannot each pass the cycle check against a tree the other is
/// about to change. SQLite has one writer at a time already.
pub(super) async fn lock_tree(txn: &DatabaseTransaction, table: Table) -> AppResult<()> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [tree_lock_key(table).into()],
        ))
        .await?;
    }
    Ok(())
}

/// What a create checks of the records created with it, before anything is inserted.
#[derive(Debug, Default)]
pub struct Nested {
    /// References of the nested records: `(input path, table, id)`.
    pub references: Vec<(String, Table, i64)>,
    /// Problems of the nested records found without the database (their fields, slugs
    /// repeated within the input).
    pub problems: Problems,
}

/// Creates a record with its links (`input.parties`) and their audit entries. Every problem
/// is found before anything is written: the fields', those of other records created with it
/// (`nested`: a session's references and fields) and the links' (their targets exist, none
/// twice). The links go in after the record, one statement a group, and every audit entry, the
/// record's first, in one statement. Answers the record, its entry and the links' entries.
pub async fn create_with_links<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    fields: F,
    path: &str,
    nested: Nested,
    mut links: Vec<LinkGroup>,
) -> AppResult<(
    <F::E as EntityTrait>::Model,
    audit_entry::Model,
    Vec<audit_entry::Model>,
)>
where
    F: Fields,
    <F::E as EntityTrait>::Model: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let mut problems = Problems::default();
    fields.check(&mut problems, path);
    problems.0.extend(nested.problems.0);
    let mut references = references_at(&fields, path);
    references.extend(nested.references);
    check_references(txn, &mut problems, references).await?;
    check_groups(&mut links, txn, None, &mut problems).await?;
    problems.into_result()?;
    // A slug in use fails the insert on the unique index: CONFLICT on `slug_field`.
    let slug_field = format!("{path}.slug");
    let mut active = <<F::E as EntityTrait>::ActiveModel as ActiveModelBehavior>::new();
    fields.write(&mut active);
    let model = insert_record::<F::E>(txn, active, fields.slug(), &slug_field).await?;
    let id = F::E::id_of(&model);
    let mut drafts = vec![("create", F::E::TYPE, Some(id), None, Some(to_json(&model)?))];
    drafts.extend(apply_groups(links, txn, id).await?);
    let mut entries = audit_many(txn, actor, drafts).await?.into_iter();
    let entry = entries
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no audit entry written")))?;
    Ok((model, entry, entries.collect()))
}

/// Applies `patch` to record `id` at `version`; no audit entry when nothing changes.
pub async fn update<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    version: i32,
    path: &str,
    patch: impl FnOnce(&mut F),
) -> AppResult<(<F::E as EntityTrait>::Model, Option<audit_entry::Model>)>
where
    F: Fields,
    <F::E as EntityTrait>::Model: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    update_as(txn, actor, "update", id, version, path, patch).await
}

/// [`update`], its audit entry recording `action` (`update`, or `revert` for a revert, which
/// changes the fields through the same checks).
pub(super) async fn update_as<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &'static str,
    id: i64,
    version: i32,
    path: &str,
    patch: impl FnOnce(&mut F),
) -> AppResult<(<F::E as EntityTrait>::Model, Option<audit_entry::Model>)>
where
    F: Fields,
    <F::E as EntityTrait>::Model: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let update = Update {
        action,
        id,
        version,
        path,
    };
    let (model, entry, _) = update_with_links(txn, actor, update, patch, Vec::new()).await?;
    Ok((model, entry))
}

/// Which record an update changes, at which version, recorded as which action, and the
/// input's path (`input`).
pub struct Update<'a> {
    pub action: &'static str,
    pub id: i64,
    pub version: i32,
    pub path: &'a str,
}

/// Applies `patch` to the record and the link changes `links` to its links, in the caller's
/// transaction: the version is checked once (the row locked), every problem of the fields
/// and the links is found before anything is written, then the fields are written (no audit
/// entry when they do not change) and the links. Answers the record, its own entry and the
/// links' entries.
pub async fn update_with_links<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    update: Update<'_>,
    patch: impl FnOnce(&mut F),
    mut links: Vec<LinkGroup>,
) -> AppResult<(
    <F::E as EntityTrait>::Model,
    Option<audit_entry::Model>,
    Vec<audit_entry::Model>,
)>
where
    F: Fields,
    <F::E as EntityTrait>::Model: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let Update {
        action,
        id,
        version,
        path,
    } = update;
    let before = at_version::<F::E>(txn, id, version).await?;
    let mut fields = F::from_model(&before);
    let old_parent = fields.parent();
    let old_slug = fields.slug().to_owned();
    patch(&mut fields);
    let mut problems = Problems::default();
    fields.check(&mut problems, path);
    check_references(txn, &mut problems, references_at(&fields, path)).await?;
    check_tree(txn, &mut problems, path, &fields, id, old_parent).await?;
    check_groups(&mut links, txn, Some(id), &mut problems).await?;
    problems.into_result()?;
    let slug_field = format!("{path}.slug");
    if fields.slug() != old_slug {
        // An unchanged slug is the record's own; a new one taken meanwhile still fails on the
        // unique index, as the same CONFLICT.
        slug_free::<F::E>(txn, fields.slug(), Some(id), &slug_field).await?;
    }
    let mut active = before.clone().into_active_model();
    fields.write(&mut active);
    let mut drafts = Vec::new();
    let model = if sea_orm::ActiveModelTrait::is_changed(&active) {
        let after =
            update_record::<F::E>(txn, id, version, active, fields.slug(), &slug_field).await?;
        let images = (Some(to_json(&before)?), Some(to_json(&after)?));
        drafts.push((action, F::E::TYPE, Some(id), images.0, images.1));
        after
    } else {
        before
    };
    let changed = !drafts.is_empty();
    drafts.extend(apply_groups(links, txn, id).await?);
    let mut entries = audit_many(txn, actor, drafts).await?.into_iter();
    let entry = if changed { entries.next() } else { None };
    let link_entries = entries.collect();
    Ok((model, entry, link_entries))
}

/// Deletes record `id` at `version`; the audit entry keeps the before-image restore uses.
pub async fn delete<E>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    version: i32,
    options: DeleteOptions,
) -> AppResult<audit_entry::Model>
where
    E: Writable,
    E::Model: Serialize,
{
    let image = to_json(&delete_record::<E>(txn, id, version, options).await?)?;
    audit(txn, actor, "delete", E::TYPE, Some(id), Some(image), None).await
}

/// Re-creates what the delete recorded in audit entry `entry_id`, and audits that.
pub async fn restore(
    txn: &DatabaseTransaction,
    actor: &Actor,
    entry_id: i64,
) -> AppResult<(Table, i64, audit_entry::Model)> {
    let entry = super::audit::entry(txn, entry_id).await?;
    let image: DeleteImage = match (entry.action.as_str(), entry.before) {
        ("delete", Some(image)) => serde_json::from_value(image).map_err(|_| {
            AppError::bad_field("auditEntryId", "this audit entry holds no deleted record")
        })?,
        _ => {
            return Err(AppError::bad_field(
                "auditEntryId",
                format!(
                    "audit entry {entry_id} records a {}, not a delete",
                    entry.action
                ),
            ));
        }
    };
    let (table, id) = super::restore_image(txn, &image).await?;
    let after = Some(image.record);
    let done = audit(
        txn,
        actor,
        "restore",
        &entry.entity_type,
        Some(id),
        None,
        after,
    )
    .await?;
    Ok((table, id, done))
}
