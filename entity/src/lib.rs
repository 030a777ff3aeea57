//! SeaORM entities of the partnerships database.
//!
//! These are plain data models: no GraphQL derives live here (the API layer wraps them), and the
//! schema itself only changes through the `migration` crate. Every table has `id`, `created_at`,
//! `updated_at` and a `version` counter used for optimistic concurrency.

pub mod agreement;
pub mod agreement_instrument;
pub mod agreement_party;
pub mod audit_entry;
pub mod enums;
pub mod event;
pub mod event_instrument;
pub mod event_participant;
pub mod instrument;
pub mod organization;
pub mod project;
pub mod project_instrument;
pub mod project_participant;
pub mod project_region;
pub mod project_theme;
pub mod source;

pub use enums::*;
