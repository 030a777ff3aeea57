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

pub mod apply;
pub mod audit;
pub mod calls;
mod delete;
mod fields;
pub mod import;
pub mod link_changes;
mod link_rows;
pub mod links;
pub mod plan;
mod problems;
pub mod records;
pub mod revert;
mod rows;
mod sync;
mod tables;

pub use delete::{DeleteImage, DeleteOptions, delete_record, restore_image};
pub use problems::{MAX_NAME_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS, Problems, is_valid_slug};
pub use rows::{
    at_version, existing, exists, gone_reference, insert_record, insert_records, slug_free,
    update_record,
};
pub use tables::{Bookkept, Table, Writable};

use chrono::Utc;
use entity::audit_entry;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::Value as Json;

use super::feed::{self, Commits};
use crate::{
    auth::Actor,
    error::{AppError, AppResult},
};

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
