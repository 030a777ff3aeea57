//! Writes. Every mutation is one transaction: it checks its input (all problems at once, each
//! with its field path), changes the rows, and appends its audit entry; any error drops the
//! transaction, which rolls everything back.
//!
//! Optimistic concurrency: update and delete take the `version` the client read and run
//! `UPDATE … WHERE id = ? AND version = ?` (or the matching `DELETE`); no row affected means
//! someone else changed the record first, and the client gets CONFLICT on `version`. Of two
//! concurrent updates of the same version exactly one succeeds.
//!
//! Deletes are hard: reads never filter deleted rows. The audit entry of a delete keeps the
//! record's whole before-image (the row, the link rows deleted with it and the references
//! cleared by `detachLinks`), and `restore` puts all of it back, ids included.

pub mod audit;
mod fields;
pub mod import;
pub mod link_changes;
pub mod links;
pub mod records;
pub mod revert;

use std::str::FromStr;

use chrono::Utc;
use entity::{
    agreement, agreement_instrument, agreement_party, audit_entry, event, event_instrument,
    event_participant, instrument, organization, project, project_instrument, project_participant,
    project_region, project_theme,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value as Json, json};

use super::{
    feed::{self, Commits},
    records::Record,
};
use crate::{
    auth::Actor,
    dates::PartialDate,
    error::{AppError, AppResult, FieldProblem, is_foreign_key_violation, is_unique_violation},
    seed::document::is_valid_slug,
};

/// Longest name or title.
pub const MAX_NAME_CHARS: usize = 300;
/// Longest acronym or location.
pub const MAX_SHORT_CHARS: usize = 100;
/// Longest description or summary.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Every problem found with one input.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldProblem>);

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// BAD_USER_INPUT listing every problem, or Ok when there is none.
    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }

    pub fn slug(&mut self, path: &str, slug: &str) {
        if !is_valid_slug(slug) {
            self.push(
                path,
                format!(
                    "`{slug}` is not a slug: 1 to 100 lowercase letters or digits in words joined by single hyphens"
                ),
            );
        }
    }

    pub fn text(&mut self, path: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(path, "must not be empty");
        } else {
            self.length(path, value, max);
        }
    }

    pub fn optional_text(&mut self, path: &str, value: &Option<String>, max: usize) {
        if let Some(value) = value {
            self.text(path, value, max);
        }
    }

    fn length(&mut self, path: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.push(path, format!("is {n} characters long; at most {max}"));
        }
    }

    pub fn url(&mut self, path: &str, value: &Option<String>) {
        if let Some(text) = value {
            match url::Url::parse(text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && text.len() <= 2000 => {}
                _ => self.push(path, format!("`{text}` is not an http(s) URL")),
            }
        }
    }

    /// An end never before a start (the end's whole period counts: 2020-06 to 2020 is fine).
    pub fn span(&mut self, path: &str, start: Option<PartialDate>, end: Option<PartialDate>) {
        if let (Some(start), Some(end)) = (start, end)
            && end.last_day() < start.date
        {
            self.push(path, format!("ends ({end}) before it starts ({start})"));
        }
    }
}

/// The kinds of rows a delete can take away and a restore put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    Organization,
    Agreement,
    Project,
    Event,
    Instrument,
    AgreementParty,
    AgreementInstrument,
    ProjectParticipant,
    ProjectInstrument,
    ProjectRegion,
    ProjectTheme,
    EventParticipant,
    EventInstrument,
}

/// Runs `$body` with `$e` as the entity type of `$table`.
macro_rules! with_entity {
    ($table:expr, $e:ident => $body:expr) => {
        match $table {
            Table::Organization => {
                type $e = organization::Entity;
                $body
            }
            Table::Agreement => {
                type $e = agreement::Entity;
                $body
            }
            Table::Project => {
                type $e = project::Entity;
                $body
            }
            Table::Event => {
                type $e = event::Entity;
                $body
            }
            Table::Instrument => {
                type $e = instrument::Entity;
                $body
            }
            Table::AgreementParty => {
                type $e = agreement_party::Entity;
                $body
            }
            Table::AgreementInstrument => {
                type $e = agreement_instrument::Entity;
                $body
            }
            Table::ProjectParticipant => {
                type $e = project_participant::Entity;
                $body
            }
            Table::ProjectInstrument => {
                type $e = project_instrument::Entity;
                $body
            }
            Table::ProjectRegion => {
                type $e = project_region::Entity;
                $body
            }
            Table::ProjectTheme => {
                type $e = project_theme::Entity;
                $body
            }
            Table::EventParticipant => {
                type $e = event_participant::Entity;
                $body
            }
            Table::EventInstrument => {
                type $e = event_instrument::Entity;
                $body
            }
        }
    };
}

impl Table {
    const ALL: [Table; 13] = [
        Self::Organization,
        Self::Agreement,
        Self::Project,
        Self::Event,
        Self::Instrument,
        Self::AgreementParty,
        Self::AgreementInstrument,
        Self::ProjectParticipant,
        Self::ProjectInstrument,
        Self::ProjectRegion,
        Self::ProjectTheme,
        Self::EventParticipant,
        Self::EventInstrument,
    ];

    /// What the API calls one row of this table and several, for messages to clients (never
    /// the table's name).
    fn words(self) -> (&'static str, &'static str) {
        use Table::*;
        match self {
            Organization => ("organization", "organizations"),
            Agreement => ("agreement", "agreements"),
            Project => ("project", "projects"),
            Event => ("event", "events"),
            Instrument => ("instrument", "instruments"),
            AgreementParty => ("agreement party", "agreement parties"),
            AgreementInstrument => ("agreement instrument", "agreement instruments"),
            ProjectParticipant => ("project participant", "project participants"),
            ProjectInstrument => ("project instrument", "project instruments"),
            ProjectRegion => ("project region", "project regions"),
            ProjectTheme => ("project theme", "project themes"),
            EventParticipant => ("event participant", "event participants"),
            EventInstrument => ("event instrument", "event instruments"),
        }
    }

    /// `count` rows in the API's words: `1 agreement party`, `2 agreement parties`.
    pub fn noun(self, count: usize) -> String {
        let (one, many) = self.words();
        format!("{count} {}", if count == 1 { one } else { many })
    }

    /// One row in the API's words: `agreement party`.
    pub fn singular(self) -> &'static str {
        self.words().0
    }

    /// The table name (the key of the before-image).
    pub fn name(self) -> &'static str {
        use sea_orm::EntityName;
        with_entity!(self, E => E::default().table_name())
    }

    /// The references of a row of this table to records: `(column, table referred to)`.
    fn references(self) -> &'static [(&'static str, Table)] {
        use Table::*;
        match self {
            Organization => &[("parent_id", Organization)],
            Instrument => &[("issuer_id", Organization)],
            Project => &[("agreement_id", Agreement)],
            Event => &[
                ("parent_id", Event),
                ("project_id", Project),
                ("agreement_id", Agreement),
            ],
            Agreement => &[],
            AgreementParty => &[
                ("agreement_id", Agreement),
                ("organization_id", Organization),
            ],
            AgreementInstrument => &[("agreement_id", Agreement), ("instrument_id", Instrument)],
            ProjectParticipant => &[("project_id", Project), ("organization_id", Organization)],
            ProjectInstrument => &[("project_id", Project), ("instrument_id", Instrument)],
            ProjectRegion | ProjectTheme => &[("project_id", Project)],
            EventParticipant => &[("event_id", Event), ("organization_id", Organization)],
            EventInstrument => &[("event_id", Event), ("instrument_id", Instrument)],
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The rows whose `column` is `id`, as JSON.
    async fn rows(self, txn: &DatabaseTransaction, column: &str, id: i64) -> AppResult<Vec<Json>> {
        with_entity!(self, E => rows_json::<E>(txn, column, id).await)
    }

    /// Inserts rows from their JSON before-images, ids included.
    async fn insert(self, txn: &DatabaseTransaction, rows: Vec<Json>) -> AppResult<()> {
        with_entity!(self, E => insert_json::<E>(txn, rows).await)
    }
}

fn column<E: EntityTrait>(name: &str) -> AppResult<E::Column> {
    E::Column::from_str(name).map_err(|_| AppError::Internal(anyhow::anyhow!("no column {name}")))
}

async fn rows_json<E>(txn: &DatabaseTransaction, col: &str, id: i64) -> AppResult<Vec<Json>>
where
    E: EntityTrait,
    E::Model: Serialize,
{
    let rows = E::find().filter(column::<E>(col)?.eq(id)).all(txn).await?;
    rows.iter()
        .map(|r| serde_json::to_value(r).map_err(|e| AppError::Internal(e.into())))
        .collect()
}

async fn insert_json<E>(txn: &DatabaseTransaction, rows: Vec<Json>) -> AppResult<()>
where
    E: EntityTrait + sea_orm::EntityName,
    E::Model: DeserializeOwned + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: Send,
{
    for row in rows {
        let model: E::Model =
            serde_json::from_value(row).map_err(|e| AppError::Internal(e.into()))?;
        let active = model.into_active_model().reset_all();
        E::insert(active)
            .exec_without_returning(txn)
            .await
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    let what = Table::from_name(E::default().table_name())
                        .map_or("row", Table::singular);
                    AppError::Conflict {
                        message: format!(
                            "The deleted record cannot come back: a row it puts back ({what}) refers to a record that no longer exists."
                        ),
                        field: "auditEntryId".into(),
                    }
                } else {
                    AppError::from(e)
                }
            })?;
    }
    Ok(())
}

/// A record table the API writes.
pub trait Writable: Record {
    /// The GraphQL type name, as the audit log records it.
    const TYPE: &'static str;
    const TABLE: Table;
    const VERSION: Self::Column;
    const CREATED_AT: Self::Column;
    const UPDATED_AT: Self::Column;
    /// Link tables whose rows belong to the record and go with it (ON DELETE CASCADE):
    /// `(table, owner column)`.
    const OWNED: &'static [(Table, &'static str)];
    /// Link tables whose rows point at the record (ON DELETE RESTRICT): deleted only with
    /// `detachLinks`.
    const LINKED_BY: &'static [(Table, &'static str)];
    /// Nullable references of other records to this one: cleared only with `detachLinks`.
    const REFERENCED_BY: &'static [(Table, &'static str)];
    fn id_of(model: &Self::Model) -> i64;
    fn version_of(model: &Self::Model) -> i32;
}

macro_rules! writable {
    ($module:ident, $type:literal, $table:ident,
     owned: [$(($ot:ident, $oc:literal)),*],
     linked_by: [$(($lt:ident, $lc:literal)),*],
     referenced_by: [$(($rt:ident, $rc:literal)),*]) => {
        impl Writable for $module::Entity {
            const TYPE: &'static str = $type;
            const TABLE: Table = Table::$table;
            const VERSION: $module::Column = $module::Column::Version;
            const CREATED_AT: $module::Column = $module::Column::CreatedAt;
            const UPDATED_AT: $module::Column = $module::Column::UpdatedAt;
            const OWNED: &'static [(Table, &'static str)] = &[$((Table::$ot, $oc)),*];
            const LINKED_BY: &'static [(Table, &'static str)] = &[$((Table::$lt, $lc)),*];
            const REFERENCED_BY: &'static [(Table, &'static str)] = &[$((Table::$rt, $rc)),*];
            fn id_of(model: &$module::Model) -> i64 {
                model.id
            }
            fn version_of(model: &$module::Model) -> i32 {
                model.version
            }
        }
    };
}

writable!(organization, "Organization", Organization,
    owned: [],
    linked_by: [(AgreementParty, "organization_id"), (ProjectParticipant, "organization_id"),
        (EventParticipant, "organization_id")],
    referenced_by: [(Organization, "parent_id"), (Instrument, "issuer_id")]);
writable!(agreement, "Agreement", Agreement,
    owned: [(AgreementParty, "agreement_id"), (AgreementInstrument, "agreement_id")],
    linked_by: [],
    referenced_by: [(Project, "agreement_id"), (Event, "agreement_id")]);
writable!(project, "Project", Project,
    owned: [(ProjectParticipant, "project_id"), (ProjectInstrument, "project_id"),
        (ProjectRegion, "project_id"), (ProjectTheme, "project_id")],
    linked_by: [],
    referenced_by: [(Event, "project_id")]);
writable!(event, "Event", Event,
    owned: [(EventParticipant, "event_id"), (EventInstrument, "event_id")],
    linked_by: [],
    referenced_by: [(Event, "parent_id")]);
writable!(instrument, "Instrument", Instrument,
    owned: [],
    linked_by: [(AgreementInstrument, "instrument_id"), (ProjectInstrument, "instrument_id"),
        (EventInstrument, "instrument_id")],
    referenced_by: []);

/// Starts a mutation's transaction. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), waiting its turn behind another writer: a deferred transaction that read first
/// could not upgrade to a writer while another one wrote, and failed as busy (two imports at
/// once were SERVICE_UNAVAILABLE for one of them). PostgreSQL ignores the mode.
pub async fn begin(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Commits a mutation's transaction: numbers its audit entries in commit order (and on
/// PostgreSQL notifies the change feed, delivered on commit only), commits, and tells this
/// process's feed (the embedded store). See `store::feed`.
pub async fn commit(txn: DatabaseTransaction, commits: &Commits) -> AppResult<()> {
    feed::number(&txn).await?;
    txn.commit().await?;
    commits.committed();
    Ok(())
}

pub fn to_json<T: Serialize>(value: &T) -> AppResult<Json> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(e.into()))
}

/// Appends an audit entry in the mutation's transaction.
pub async fn audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    record_id: Option<i64>,
    before: Option<Json>,
    after: Option<Json>,
) -> AppResult<audit_entry::Model> {
    let entry = audit_row(
        actor,
        Utc::now(),
        (action, entity_type, record_id, before, after),
    );
    Ok(entry.insert(txn).await?)
}

/// The row of one audit entry: `(action, entity type, record id, before, after)`.
fn audit_row(
    actor: &Actor,
    at: chrono::DateTime<Utc>,
    (action, entity_type, record_id, before, after): (
        &str,
        &str,
        Option<i64>,
        Option<Json>,
        Option<Json>,
    ),
) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        at: Set(at),
        actor: Set(actor.subject.clone()),
        role: Set(actor.role.as_str().to_owned()),
        action: Set(action.to_owned()),
        entity_type: Set(entity_type.to_owned()),
        record_id: Set(record_id),
        before: Set(before),
        after: Set(after),
        ..Default::default()
    }
}

/// Appends several audit entries in one statement: `(action, entity type, record id, before,
/// after)` each, in order (their ids follow it).
pub async fn audit_many(
    txn: &DatabaseTransaction,
    actor: &Actor,
    entries: Vec<AuditDraft>,
) -> AppResult<Vec<audit_entry::Model>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let at = Utc::now();
    let rows = entries.into_iter().map(|entry| audit_row(actor, at, entry));
    let mut written = audit_entry::Entity::insert_many(rows)
        .exec_with_returning(txn)
        .await?;
    written.sort_by_key(|e| e.id);
    Ok(written)
}

/// One audit entry to append: `(action, entity type, record id, before, after)`.
pub type AuditDraft = (
    &'static str,
    &'static str,
    Option<i64>,
    Option<Json>,
    Option<Json>,
);

/// The record `id`, or NOT_FOUND.
pub async fn existing<E: Writable>(txn: &impl ConnectionTrait, id: i64) -> AppResult<E::Model> {
    E::find()
        .filter(E::ID.eq(id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound {
            entity: E::TYPE,
            key: id.to_string(),
        })
}

/// Whether a record `id` exists.
pub async fn exists<E: Writable>(txn: &impl ConnectionTrait, id: i64) -> AppResult<bool> {
    Ok(E::find()
        .select_only()
        .column(E::ID)
        .filter(E::ID.eq(id))
        .into_tuple::<i64>()
        .one(txn)
        .await?
        .is_some())
}

fn stale(entity: &str, id: i64, expected: i32, actual: i32) -> AppError {
    AppError::Conflict {
        message: format!(
            "{entity} {id} was changed by someone else: you read version {expected}, it is now at version {actual}. Read it again and retry."
        ),
        field: "version".into(),
    }
}

/// The record `id` at `version`, locked for the rest of the transaction (`SELECT … FOR UPDATE`
/// on PostgreSQL; SQLite has one writer at a time anyway): NOT_FOUND, or CONFLICT when the
/// version is stale. The lock keeps the before-image an update or delete takes true until it
/// commits: a link added concurrently waits for it (and then fails on its foreign key, which is
/// CONFLICT) instead of being cascaded away unrecorded.
pub async fn at_version<E: Writable>(
    txn: &DatabaseTransaction,
    id: i64,
    version: i32,
) -> AppResult<E::Model> {
    let model = E::find()
        .filter(E::ID.eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound {
            entity: E::TYPE,
            key: id.to_string(),
        })?;
    let actual = E::version_of(&model);
    if actual != version {
        return Err(stale(E::TYPE, id, version, actual));
    }
    Ok(model)
}

/// CONFLICT on `field` when another record already has `slug`.
pub async fn slug_free<E: Writable>(
    txn: &DatabaseTransaction,
    slug: &str,
    except: Option<i64>,
    field: &str,
) -> AppResult<()> {
    let mut query = E::find()
        .select_only()
        .column(E::ID)
        .filter(E::SLUG.eq(slug));
    if let Some(id) = except {
        query = query.filter(E::ID.ne(id));
    }
    if query.into_tuple::<i64>().one(txn).await?.is_some() {
        return Err(slug_taken(E::TYPE, slug, field));
    }
    Ok(())
}

/// CONFLICT on `field` for a foreign-key violation: a record the write refers to was deleted
/// (or is being deleted) by someone else meanwhile.
pub fn gone_reference(entity: &str, field: &str) -> AppError {
    AppError::Conflict {
        message: format!(
            "A record this {entity} refers to was deleted meanwhile (or is still referenced). Read it again and retry."
        ),
        field: field.to_owned(),
    }
}

/// A write's database error as the client should see it: a unique violation is the slug
/// CONFLICT, a foreign-key violation the vanished-reference CONFLICT, anything else as usual.
fn write_error(
    entity: &str,
    e: sea_orm::DbErr,
    slug: &str,
    slug_field: &str,
    field: &str,
) -> AppError {
    if is_unique_violation(&e) {
        slug_taken(entity, slug, slug_field)
    } else if is_foreign_key_violation(&e) {
        gone_reference(entity, field)
    } else {
        AppError::from(e)
    }
}

fn slug_taken(entity: &str, slug: &str, field: &str) -> AppError {
    AppError::Conflict {
        message: format!("Another {entity} already has the slug `{slug}`."),
        field: field.to_owned(),
    }
}

/// Inserts a new record (bookkeeping columns set here). A unique violation that slipped past
/// [`slug_free`] (a concurrent insert) is still CONFLICT on `slug_field`.
pub async fn insert_record<E>(
    txn: &DatabaseTransaction,
    mut active: E::ActiveModel,
    slug: &str,
    slug_field: &str,
) -> AppResult<E::Model>
where
    E: Writable,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: Send,
{
    let now = Utc::now();
    active.set(E::CREATED_AT, now.into());
    active.set(E::UPDATED_AT, now.into());
    active.set(E::VERSION, 1i32.into());
    let input = input_path(slug_field);
    E::insert(active)
        .exec_with_returning(txn)
        .await
        .map_err(|e| write_error(E::TYPE, e, slug, slug_field, input))
}

/// Writes the changed columns of `active` when the row is still at `version`, bumping it.
/// Returns the record after the change (`RETURNING`: no second read).
pub async fn update_record<E>(
    txn: &DatabaseTransaction,
    id: i64,
    version: i32,
    active: E::ActiveModel,
    slug: &str,
    slug_field: &str,
) -> AppResult<E::Model>
where
    E: Writable,
    E::ActiveModel: Send,
{
    let mut after = E::update_many()
        .set(active)
        .col_expr(E::VERSION, Expr::col(E::VERSION).add(1))
        .col_expr(E::UPDATED_AT, Expr::value(Utc::now()))
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec_with_returning(txn)
        .await
        .map_err(|e| write_error(E::TYPE, e, slug, slug_field, input_path(slug_field)))?;
    match after.pop() {
        Some(model) => Ok(model),
        None => {
            let now = existing::<E>(txn, id).await?;
            Err(stale(E::TYPE, id, version, E::version_of(&now)))
        }
    }
}

/// The input path of a slug field (`input.slug` → `input`).
fn input_path(slug_field: &str) -> &str {
    slug_field
        .rsplit_once('.')
        .map_or(slug_field, |(input, _)| input)
}

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
