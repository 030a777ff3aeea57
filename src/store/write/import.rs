//! Importing a document in the seed format (docs/DATA.md) through the API: the document's plan
//! (made by the caller, `seed::Document::plan`) is applied like the seed's (`apply`) inside
//! this mutation's transaction; a dry run rolls it back and reports what would have changed.

use entity::audit_entry;
use sea_orm::DatabaseConnection;

use super::{
    AuditDraft, apply, audit_many, begin, commit,
    plan::{Plan, SeedReport},
    to_json,
};
use crate::{
    auth::Actor,
    error::{AppError, AppResult, FieldProblem},
    store::feed::Commits,
};

/// Applies `plan`, or with `dry_run` only reports what it would change. Each record created
/// or updated gets its audit entry (before and after, like a mutation's), then the import its
/// own, all in one statement.
pub async fn import(
    db: &DatabaseConnection,
    commits: &Commits,
    actor: &Actor,
    plan: Plan,
    dry_run: bool,
) -> AppResult<(SeedReport, Option<audit_entry::Model>)> {
    let txn = begin(db).await?;
    let report = apply::apply(&txn, plan).await.map_err(in_document)?;
    if dry_run {
        txn.rollback().await?;
        return Ok((report, None));
    }
    let mut drafts: Vec<AuditDraft> = Vec::with_capacity(report.records.len() + 1);
    for change in &report.records {
        let action = match change.before {
            None => "create",
            Some(_) => "update",
        };
        let (before, after) = (change.before.clone(), change.after.clone());
        drafts.push((action, change.entity_type, Some(change.id), before, after));
    }
    drafts.push(("import", "Import", None, None, Some(to_json(&report)?)));
    let entry = audit_many(&txn, actor, drafts).await?.pop();
    commit(txn, commits).await?;
    Ok((report, entry))
}

/// An error of the document's as the client sees it: its paths inside the mutation's
/// `document` argument (`document.organizations[0].source`).
pub fn in_document(error: AppError) -> AppError {
    let within = |path: String| match path.as_str() {
        "" => "document".to_owned(),
        _ => format!("document.{path}"),
    };
    match error {
        AppError::Invalid(problems) => AppError::Invalid(
            problems
                .into_iter()
                .map(|p| FieldProblem {
                    path: within(p.path),
                    message: p.message,
                })
                .collect(),
        ),
        AppError::Conflict { message, field } => AppError::Conflict {
            message,
            field: within(field),
        },
        other => other,
    }
}
