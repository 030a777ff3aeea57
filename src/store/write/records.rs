//! Create, update and delete of the five kinds of records, one generic flow for all: the
//! editable columns of each kind are a [`Fields`] value, checked as a whole (on update, after
//! the patch is applied to what is stored), so create and update share every rule.

use entity::{
    AgreementKind, EventKind, InstrumentKind, OrganizationKind, ProjectKind, ProjectStatus,
    Recurrence, agreement, audit_entry, event, instrument, organization, project,
};
use sea_orm::{
    ActiveModelBehavior, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};
use serde::Serialize;

use super::{
    DeleteOptions, MAX_NAME_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS, Problems, Table, Writable,
    at_version, audit, delete_record, exists, insert_record, slug_free, to_json, update_record,
};
use crate::{
    auth::Actor,
    dates::PartialDate,
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
    /// Copies the fields into `active`, marking only what differs as changed.
    fn write(&self, active: &mut <Self::E as EntityTrait>::ActiveModel);
}

async fn reference_exists(txn: &DatabaseTransaction, table: Table, id: i64) -> AppResult<bool> {
    match table {
        Table::Organization => exists::<organization::Entity>(txn, id).await,
        Table::Agreement => exists::<agreement::Entity>(txn, id).await,
        Table::Project => exists::<project::Entity>(txn, id).await,
        Table::Event => exists::<event::Entity>(txn, id).await,
        Table::Instrument => exists::<instrument::Entity>(txn, id).await,
        _ => Ok(false),
    }
}

/// Notes a problem for each reference to a record that does not exist.
pub async fn check_references(
    txn: &DatabaseTransaction,
    problems: &mut Problems,
    path: &str,
    references: Vec<(&'static str, Table, i64)>,
) -> AppResult<()> {
    for (field, table, id) in references {
        if !reference_exists(txn, table, id).await? {
            problems.push(
                format!("{path}.{field}"),
                format!("there is no {} with this ID", table.singular()),
            );
        }
    }
    Ok(())
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
    let column = super::column::<F::E>(column)?;
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
async fn lock_tree(txn: &DatabaseTransaction, table: Table) -> AppResult<()> {
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

impl From<Vec<(String, Table, i64)>> for Nested {
    fn from(references: Vec<(String, Table, i64)>) -> Self {
        Self {
            references,
            problems: Problems::default(),
        }
    }
}

/// Creates a record and its audit entry. `nested` are the references of records created with
/// it (`input.parties[1].organization`), checked with the record's own so that every problem
/// of the input is reported at once.
pub async fn create<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    fields: F,
    path: &str,
    nested: impl Into<Nested>,
) -> AppResult<(<F::E as EntityTrait>::Model, audit_entry::Model)>
where
    F: Fields,
    <F::E as EntityTrait>::Model: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let nested = nested.into();
    let mut problems = Problems::default();
    fields.check(&mut problems, path);
    problems.0.extend(nested.problems.0);
    check_references(txn, &mut problems, path, fields.references()).await?;
    for (at, table, id) in nested.references {
        if !reference_exists(txn, table, id).await? {
            problems.push(at, format!("there is no {} with this ID", table.singular()));
        }
    }
    problems.into_result()?;
    let slug_field = format!("{path}.slug");
    slug_free::<F::E>(txn, fields.slug(), None, &slug_field).await?;
    let mut active = <<F::E as EntityTrait>::ActiveModel as ActiveModelBehavior>::new();
    fields.write(&mut active);
    let model = insert_record::<F::E>(txn, active, fields.slug(), &slug_field).await?;
    let entry = audit(
        txn,
        actor,
        "create",
        F::E::TYPE,
        Some(F::E::id_of(&model)),
        None,
        Some(to_json(&model)?),
    )
    .await?;
    Ok((model, entry))
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
    action: &str,
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
    let before = at_version::<F::E>(txn, id, version).await?;
    let mut fields = F::from_model(&before);
    let old_parent = fields.parent();
    patch(&mut fields);
    let mut problems = Problems::default();
    fields.check(&mut problems, path);
    check_references(txn, &mut problems, path, fields.references()).await?;
    check_tree(txn, &mut problems, path, &fields, id, old_parent).await?;
    problems.into_result()?;
    let slug_field = format!("{path}.slug");
    slug_free::<F::E>(txn, fields.slug(), Some(id), &slug_field).await?;
    let mut active = before.clone().into_active_model();
    fields.write(&mut active);
    if !sea_orm::ActiveModelTrait::is_changed(&active) {
        return Ok((before, None));
    }
    let after = update_record::<F::E>(txn, id, version, active, fields.slug(), &slug_field).await?;
    let entry = audit(
        txn,
        actor,
        action,
        F::E::TYPE,
        Some(id),
        Some(to_json(&before)?),
        Some(to_json(&after)?),
    )
    .await?;
    Ok((after, Some(entry)))
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
    let image = delete_record::<E>(txn, id, version, options).await?;
    audit(txn, actor, "delete", E::TYPE, Some(id), Some(image), None).await
}

/// Re-creates what the delete recorded in audit entry `entry_id`, and audits that.
pub async fn restore(
    txn: &DatabaseTransaction,
    actor: &Actor,
    entry_id: i64,
) -> AppResult<(Table, i64, audit_entry::Model)> {
    let entry = super::audit::entry(txn, entry_id).await?;
    let image = match (entry.action.as_str(), &entry.before) {
        ("delete", Some(image)) => image.clone(),
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
    let after = image.get("record").cloned();
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

fn date_parts(
    date: Option<PartialDate>,
) -> (Option<chrono::NaiveDate>, Option<entity::DatePrecision>) {
    PartialDate::into_parts(date)
}

/// An organization's editable columns.
#[derive(Debug, Clone)]
pub struct OrganizationFields {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub parent: Option<i64>,
    pub website: Option<String>,
    pub description: Option<String>,
}

impl Fields for OrganizationFields {
    type E = organization::Entity;

    fn from_model(m: &organization::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            acronym: m.acronym.clone(),
            kind: m.kind,
            parent: m.parent_id,
            website: m.website.clone(),
            description: m.description.clone(),
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.acronym"), &self.acronym, MAX_SHORT_CHARS);
        p.url(&format!("{path}.website"), &self.website);
        p.optional_text(
            &format!("{path}.description"),
            &self.description,
            MAX_TEXT_CHARS,
        );
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        self.parent
            .map(|id| ("parent", Table::Organization, id))
            .into_iter()
            .collect()
    }

    fn parent(&self) -> Option<i64> {
        self.parent
    }

    fn write(&self, a: &mut organization::ActiveModel) {
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.acronym.set_if_not_equals(self.acronym.clone());
        a.kind.set_if_not_equals(self.kind);
        a.parent_id.set_if_not_equals(self.parent);
        a.website.set_if_not_equals(self.website.clone());
        a.description.set_if_not_equals(self.description.clone());
    }
}

/// An agreement's editable columns.
#[derive(Debug, Clone)]
pub struct AgreementFields {
    pub slug: String,
    pub title: String,
    pub kind: AgreementKind,
    pub signed_on: Option<PartialDate>,
    pub summary: Option<String>,
}

impl Fields for AgreementFields {
    type E = agreement::Entity;

    fn from_model(m: &agreement::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            title: m.title.clone(),
            kind: m.kind,
            signed_on: PartialDate::from_parts(m.signed_on, m.signed_precision),
            summary: m.summary.clone(),
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.title"), &self.title, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.summary"), &self.summary, MAX_TEXT_CHARS);
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        Vec::new()
    }

    fn write(&self, a: &mut agreement::ActiveModel) {
        let (on, precision) = date_parts(self.signed_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.title.set_if_not_equals(self.title.clone());
        a.kind.set_if_not_equals(self.kind);
        a.signed_on.set_if_not_equals(on);
        a.signed_precision.set_if_not_equals(precision);
        a.summary.set_if_not_equals(self.summary.clone());
    }
}

/// A project's editable columns.
#[derive(Debug, Clone)]
pub struct ProjectFields {
    pub slug: String,
    pub name: String,
    pub kind: ProjectKind,
    pub status: ProjectStatus,
    pub summary: Option<String>,
    pub starts_on: Option<PartialDate>,
    pub ends_on: Option<PartialDate>,
    pub agreement: Option<i64>,
}

impl Fields for ProjectFields {
    type E = project::Entity;

    fn from_model(m: &project::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            kind: m.kind,
            status: m.status,
            summary: m.summary.clone(),
            starts_on: PartialDate::from_parts(m.starts_on, m.starts_precision),
            ends_on: PartialDate::from_parts(m.ends_on, m.ends_precision),
            agreement: m.agreement_id,
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.summary"), &self.summary, MAX_TEXT_CHARS);
        p.span(&format!("{path}.endsOn"), self.starts_on, self.ends_on);
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        self.agreement
            .map(|id| ("agreement", Table::Agreement, id))
            .into_iter()
            .collect()
    }

    fn write(&self, a: &mut project::ActiveModel) {
        let (starts_on, starts_precision) = date_parts(self.starts_on);
        let (ends_on, ends_precision) = date_parts(self.ends_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.kind.set_if_not_equals(self.kind);
        a.status.set_if_not_equals(self.status);
        a.summary.set_if_not_equals(self.summary.clone());
        a.starts_on.set_if_not_equals(starts_on);
        a.starts_precision.set_if_not_equals(starts_precision);
        a.ends_on.set_if_not_equals(ends_on);
        a.ends_precision.set_if_not_equals(ends_precision);
        a.agreement_id.set_if_not_equals(self.agreement);
    }
}

/// An event's editable columns (a session is an event whose parent is another event).
#[derive(Debug, Clone)]
pub struct EventFields {
    pub slug: String,
    pub name: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub starts_on: Option<PartialDate>,
    pub ends_on: Option<PartialDate>,
    pub location: Option<String>,
    pub recurrence: Option<Recurrence>,
    pub parent: Option<i64>,
    pub project: Option<i64>,
    pub agreement: Option<i64>,
}

impl Fields for EventFields {
    type E = event::Entity;

    fn from_model(m: &event::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            kind: m.kind,
            summary: m.summary.clone(),
            starts_on: PartialDate::from_parts(m.starts_on, m.starts_precision),
            ends_on: PartialDate::from_parts(m.ends_on, m.ends_precision),
            location: m.location.clone(),
            recurrence: m.recurrence,
            parent: m.parent_id,
            project: m.project_id,
            agreement: m.agreement_id,
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.summary"), &self.summary, MAX_TEXT_CHARS);
        p.optional_text(&format!("{path}.location"), &self.location, MAX_NAME_CHARS);
        p.span(&format!("{path}.endsOn"), self.starts_on, self.ends_on);
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        let mut refs = Vec::new();
        if let Some(id) = self.parent {
            refs.push(("parent", Table::Event, id));
        }
        if let Some(id) = self.project {
            refs.push(("project", Table::Project, id));
        }
        if let Some(id) = self.agreement {
            refs.push(("agreement", Table::Agreement, id));
        }
        refs
    }

    fn parent(&self) -> Option<i64> {
        self.parent
    }

    fn write(&self, a: &mut event::ActiveModel) {
        let (starts_on, starts_precision) = date_parts(self.starts_on);
        let (ends_on, ends_precision) = date_parts(self.ends_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.kind.set_if_not_equals(self.kind);
        a.summary.set_if_not_equals(self.summary.clone());
        a.starts_on.set_if_not_equals(starts_on);
        a.starts_precision.set_if_not_equals(starts_precision);
        a.ends_on.set_if_not_equals(ends_on);
        a.ends_precision.set_if_not_equals(ends_precision);
        a.location.set_if_not_equals(self.location.clone());
        a.recurrence.set_if_not_equals(self.recurrence);
        a.parent_id.set_if_not_equals(self.parent);
        a.project_id.set_if_not_equals(self.project);
        a.agreement_id.set_if_not_equals(self.agreement);
    }
}

/// An instrument's editable columns.
#[derive(Debug, Clone)]
pub struct InstrumentFields {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: InstrumentKind,
    pub issuer: Option<i64>,
    pub adopted_on: Option<PartialDate>,
    pub url: Option<String>,
    pub description: Option<String>,
}

impl Fields for InstrumentFields {
    type E = instrument::Entity;

    fn from_model(m: &instrument::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            acronym: m.acronym.clone(),
            kind: m.kind,
            issuer: m.issuer_id,
            adopted_on: PartialDate::from_parts(m.adopted_on, m.adopted_precision),
            url: m.url.clone(),
            description: m.description.clone(),
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.acronym"), &self.acronym, MAX_SHORT_CHARS);
        p.url(&format!("{path}.url"), &self.url);
        p.optional_text(
            &format!("{path}.description"),
            &self.description,
            MAX_TEXT_CHARS,
        );
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        self.issuer
            .map(|id| ("issuer", Table::Organization, id))
            .into_iter()
            .collect()
    }

    fn write(&self, a: &mut instrument::ActiveModel) {
        let (on, precision) = date_parts(self.adopted_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.acronym.set_if_not_equals(self.acronym.clone());
        a.kind.set_if_not_equals(self.kind);
        a.issuer_id.set_if_not_equals(self.issuer);
        a.adopted_on.set_if_not_equals(on);
        a.adopted_precision.set_if_not_equals(precision);
        a.url.set_if_not_equals(self.url.clone());
        a.description.set_if_not_equals(self.description.clone());
    }
}
