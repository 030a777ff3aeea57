//! The mutations: thin resolvers that check the caller's role, decode IDs, and run one store
//! transaction each.
//!
//! One payload convention for all (see README "Changing data"):
//! - success: `{ record, auditEntry }`: the record as it now is (for client caches; for a link
//!   mutation, the record owning the link) and the audit entry of the change (null when the
//!   mutation changed nothing). Deletes answer `{ deletedId, auditEntry }`.
//! - failure: `data.<mutation>` is null and `errors[0].extensions.code` says why:
//!   UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (with `extensions.fields`, every problem of the
//!   input as `{ path, message }`), CONFLICT (with `extensions.field`: a taken slug, a stale
//!   `version`, a duplicate link), NOT_FOUND.

mod admin;
mod creates;
mod link_changes;
mod links;
mod records;
mod updates;

use async_graphql::{Context, ID, Json, MergedObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_entry;

pub use admin::{AdminMutation, AuditQuery};
pub(super) use admin::{
    decode_cursor as decode_audit_cursor, encode_cursor as encode_audit_cursor,
};

use super::ids::{self, RecordKind};
use crate::{
    auth::{Actor, Role, Viewer},
    error::{AppError, AppResult},
    store::Store,
};

/// The root of every change. Each mutation needs a bearer token: `editor` creates, updates and
/// links; `admin` also deletes, restores and reverts.
#[derive(MergedObject, Default)]
pub struct Mutation(
    records::OrganizationMutation,
    records::AgreementMutation,
    records::ProjectMutation,
    records::EventMutation,
    records::InstrumentMutation,
    links::AgreementPartyMutation,
    links::ProjectParticipantMutation,
    links::EventParticipantMutation,
    links::AgreementInstrumentMutation,
    links::ProjectInstrumentMutation,
    links::EventInstrumentMutation,
    AdminMutation,
);

/// The caller as an actor holding at least `role`, or UNAUTHENTICATED / FORBIDDEN.
pub(super) fn actor(ctx: &Context<'_>, role: Role) -> AppResult<Actor> {
    let anonymous = Viewer::Anonymous { can_sign_in: false };
    ctx.data_opt::<Viewer>().unwrap_or(&anonymous).require(role)
}

fn store<'a>(ctx: &'a Context<'_>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

/// A referenced record's id; an ID that is malformed or of another type becomes 0, which no
/// record has, so the store reports it with its field path beside every other problem.
fn reference(id: &ID, node: RecordKind) -> i64 {
    ids::decode_as(id, node).unwrap_or(0)
}

fn optional_reference(id: Option<&ID>, node: RecordKind) -> Option<i64> {
    id.map(|id| reference(id, node))
}

/// The record a mutation names: its ID must be of the right type.
fn record_id(id: &ID, node: RecordKind, field: &str) -> AppResult<i64> {
    ids::decode_as(id, node).map_err(|_| {
        AppError::bad_field(
            field,
            format!("`{}` is not the ID of {}", id.as_str(), node.with_article()),
        )
    })
}

/// One change recorded in the audit log.
#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    /// The entry's id; pass a delete's entry to `restore`, an update's to `revert`.
    pub id: ID,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// Who made it (the token's subject).
    pub actor: String,
    /// The role the actor's token held.
    pub role: String,
    /// What was done: create, update, delete, restore, revert, link, relink, unlink or import.
    pub action: String,
    /// The type of the record changed (`Organization`, `AgreementParty`, `Import`).
    pub entity_type: String,
    /// The global ID of the record changed, for the five record types; null otherwise.
    pub record_id: Option<ID>,
    /// The database id of the record or link changed.
    pub record_key: Option<i64>,
    /// The record before the change (for a delete: the record, its links and the references
    /// cleared); null for a creation.
    pub before: Option<Json<serde_json::Value>>,
    /// The record after the change; null for a deletion.
    pub after: Option<Json<serde_json::Value>>,
}

impl From<audit_entry::Model> for AuditEntry {
    fn from(m: audit_entry::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            at: m.at,
            record_id: RecordKind::named(&m.entity_type)
                .zip(m.record_id)
                .map(|(node, id)| ids::encode(node, id)),
            record_key: m.record_id,
            actor: m.actor,
            role: m.role,
            action: m.action,
            entity_type: m.entity_type,
            before: m.before.map(Json),
            after: m.after.map(Json),
        }
    }
}

/// What a delete answers.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The global ID the deleted record had.
    pub deleted_id: ID,
    /// The audit entry of the delete: pass its id to `restore` to undo it.
    pub audit_entry: AuditEntry,
}
