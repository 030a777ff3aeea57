//! Loading a dataset file (docs/DATA.md) into the database: `partnerships seed [FILE]`, and the
//! first start of the embedded store. Seeding is a command, never a migration.
//!
//! The file becomes a plan that the store applies (`store::write::apply`), in one transaction,
//! through the checks and writes of the mutations: loading the same file twice changes nothing,
//! editing the file and loading again updates just what changed (bumping `version`), and any
//! problem (a bad slug, a reference to nothing) aborts the whole load with every problem listed.

mod dataset;
pub mod document;
mod load;
mod plan;

pub use crate::store::write::plan::{Counts, RecordChange, SeedReport};
pub use dataset::{Dataset, ILO};
pub use document::Document;
pub use load::{load, load_dataset, load_file};
