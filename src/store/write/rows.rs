//! Reading and writing one record row: found or NOT_FOUND, at the version read or CONFLICT,
//! inserted and updated with its bookkeeping columns, database errors as the client sees them.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, IntoActiveModel, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use super::Writable;
use crate::error::{AppError, AppResult, is_foreign_key_violation, is_unique_violation};

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

pub(super) fn stale(entity: &str, id: i64, expected: i32, actual: i32) -> AppError {
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
pub(super) fn write_error(
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
    active: E::ActiveModel,
    slug: &str,
    slug_field: &str,
) -> AppResult<E::Model>
where
    E: Writable,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: Send,
{
    let input = input_path(slug_field);
    insert_records::<E>(txn, vec![active], |e| {
        write_error(E::TYPE, e, slug, slug_field, input)
    })
    .await?
    .pop()
    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("an insert returned no row")))
}

/// Inserts new records in one statement (bookkeeping columns set here), answering them as
/// written (`RETURNING`), in no particular order; `error` says what a failure means to the
/// client.
pub async fn insert_records<E>(
    txn: &DatabaseTransaction,
    rows: Vec<E::ActiveModel>,
    error: impl FnOnce(sea_orm::DbErr) -> AppError,
) -> AppResult<Vec<E::Model>>
where
    E: Writable,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: Send,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows = rows.into_iter().map(|mut active| {
        E::stamp_new(&mut active, now);
        active
    });
    E::insert_many(rows)
        .exec_with_returning(txn)
        .await
        .map_err(error)
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
