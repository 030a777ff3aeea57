//! Importing a document in the seed format (docs/DATA.md) through the API. The seed loader does
//! the work (validation, upserts by slug, links made exactly the document's) inside this
//! mutation's transaction; a dry run rolls it back and reports what would have changed.

use entity::audit_entry;
use sea_orm::{DatabaseConnection, DbErr};

use super::{audit, begin, commit, to_json};
use crate::{
    auth::Actor,
    error::{AppError, AppResult, FieldProblem, is_foreign_key_violation, is_unique_violation},
    seed::{self, Document, SeedReport},
    store::feed::Commits,
};

/// Loads `text` (YAML or JSON), or with `dry_run` only reports what it would change.
pub async fn import(
    db: &DatabaseConnection,
    commits: &Commits,
    actor: &Actor,
    text: &str,
    dry_run: bool,
) -> AppResult<(SeedReport, Option<audit_entry::Model>)> {
    let document = Document::parse(text)
        .map_err(|e| AppError::bad_field("document", format!("not a dataset document: {e}")))?;
    let txn = begin(db).await?;
    let report = seed::load_in(&txn, &document, !dry_run)
        .await
        .map_err(load_error)?
        .map_err(|problems| {
            AppError::Invalid(
                problems
                    .0
                    .into_iter()
                    .map(|p| match p.split_once(": ") {
                        Some((path, message)) => FieldProblem {
                            path: format!("document.{path}"),
                            message: message.to_owned(),
                        },
                        None => FieldProblem {
                            path: "document".into(),
                            message: p,
                        },
                    })
                    .collect(),
            )
        })?;
    if dry_run {
        txn.rollback().await?;
        return Ok((report, None));
    }
    // Each record created or updated gets its own entry (before and after, like a mutation's),
    // then the summary.
    for change in &report.records {
        let action = if change.before.is_none() {
            "create"
        } else {
            "update"
        };
        audit(
            &txn,
            actor,
            action,
            change.entity_type,
            Some(change.id),
            change.before.clone(),
            change.after.clone(),
        )
        .await?;
    }
    let entry = audit(
        &txn,
        actor,
        "import",
        "Import",
        None,
        None,
        Some(to_json(&report)?),
    )
    .await?;
    commit(txn, commits).await?;
    Ok((report, Some(entry)))
}

/// What a failed load means to the client: the loader's own CONFLICT as it is, a database
/// error classified like any other write's (a clash with a concurrent write is CONFLICT, an
/// unreachable or overloaded database SERVICE_UNAVAILABLE), anything else internal.
fn load_error(err: anyhow::Error) -> AppError {
    let err = match err.downcast::<AppError>() {
        Ok(app) => return app,
        Err(err) => err,
    };
    match err.downcast::<DbErr>() {
        Ok(db) if is_unique_violation(&db) || is_foreign_key_violation(&db) => {
            AppError::Conflict {
                message: "The document clashes with a change made meanwhile (a slug taken or a record deleted). Import it again.".into(),
                field: "document".into(),
            }
        }
        Ok(db) => AppError::from(db),
        Err(err) => AppError::Internal(err),
    }
}
