//! Loading a dataset: the file is read and parsed, turned into a plan (`Document::plan`), and
//! the store applies the plan in one transaction (`store::write::apply`), through the checks
//! and writes the mutations use.

use std::path::Path;

use anyhow::{Context, anyhow};

use super::{Dataset, Document, SeedReport};
use crate::{
    error::{AppError, FieldProblem},
    store::{Connection, write::apply},
};

/// Reads, checks and loads a dataset file.
pub async fn load_file(db: &Connection, path: &Path) -> anyhow::Result<SeedReport> {
    load_dataset(db, &Dataset::File(path.to_owned()), "the command").await
}

/// Reads, checks and loads a dataset; `setting` names where a file came from, for the error
/// when it cannot be read.
pub async fn load_dataset(
    db: &Connection,
    dataset: &Dataset,
    setting: &str,
) -> anyhow::Result<SeedReport> {
    let text = dataset.text(setting)?;
    let document = Document::parse(&text)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("{dataset} is not a valid dataset file"))?;
    load(db, &document)
        .await
        .with_context(|| format!("Failed to load {dataset}"))
}

/// Checks and loads a parsed document in one transaction; on any problem nothing is written.
pub async fn load(db: &Connection, document: &Document) -> anyhow::Result<SeedReport> {
    let plan = document.plan().map_err(|problems| invalid(&problems.0))?;
    let report = apply::load(db, plan).await.map_err(|e| match e {
        AppError::Invalid(problems) => invalid(&problems),
        other => anyhow::Error::from(other),
    })?;
    tracing::info!(changes = report.changes(), "Loaded the dataset");
    Ok(report)
}

/// Every problem, a line each (`organizations[3].parent: no organization …`).
fn invalid(problems: &[FieldProblem]) -> anyhow::Error {
    let lines: Vec<String> = (problems.iter())
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    anyhow!(
        "the dataset has {} problem(s); nothing was written:\n  {}",
        problems.len(),
        lines.join("\n  ")
    )
}
