//! Create, update, upsert and delete for the five kinds of records. The resolvers share their
//! shape, so one macro writes them; the inputs are per kind.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{agreement, event, instrument, organization, project};

use super::{
    super::{
        agreement::Agreement,
        errors::ApiResult,
        event::Event,
        ids::{self, RecordKind},
        instrument::Instrument,
        organization::Organization,
        project::Project,
    },
    AuditEntry, DeletePayload, actor,
    creates::{
        CreateAgreementInput, CreateEventInput, CreateInstrumentInput, CreateOrganizationInput,
        CreateProjectInput, NewRecord,
    },
    record_id, store,
    updates::{
        RecordUpdate, UpdateAgreementInput, UpdateEventInput, UpdateInstrumentInput,
        UpdateOrganizationInput, UpdateProjectInput,
    },
};
use crate::{
    auth::Role,
    store::write::{
        DeleteOptions,
        calls::{self, Written},
        records::{
            AgreementFields, EventFields, InstrumentFields, OrganizationFields, ProjectFields,
            Update,
        },
    },
};

fn entries(written: Vec<entity::audit_entry::Model>) -> Vec<AuditEntry> {
    written.into_iter().map(Into::into).collect()
}

/// Which record to delete, at which version, and what to do with what points at it.
#[derive(InputObject)]
pub struct DeleteRecordInput {
    /// The record's global ID.
    pub id: ID,
    /// The version the client read; a stale one is refused with CONFLICT.
    pub version: i32,
    /// Also delete the link rows that point at the record (parties, participants, instrument
    /// links) and clear other records' references to it (a parent, an issuer). Without it, a
    /// referenced record is not deleted.
    #[graphql(default = false)]
    pub detach_links: bool,
}

macro_rules! record_mutations {
    (
        $root:ident, $entity:ident, $node:ident, $node_type:ident, $payload:ident, $fields:ident,
        $create_input:ident, $update_input:ident,
        create = $create:ident, update = $update:ident, upsert = $upsert:ident, delete = $delete:ident,
        name = $name:literal, links = $links:literal $(,)?
    ) => {
        #[doc = concat!("What a mutation of ", $name, " answers: the record as it now is and the audit entry of the change.")]
        #[derive(SimpleObject)]
        pub struct $payload {
            /// The record after the change (for a link mutation, the record owning the link).
            pub record: $node,
            /// The audit entry of the change to the record itself (for a link mutation, the
            /// link's); null when nothing changed.
            pub audit_entry: Option<AuditEntry>,
            /// The audit entries of what was written with the record in the same call, in the
            /// order written: links connected, changed or disconnected by an update, links and
            /// sessions created with a new record. Empty for a plain change.
            pub nested_audit_entries: Vec<AuditEntry>,
            /// Whether this call created the record (an upsert may also update).
            pub created: bool,
        }

        impl $payload {
            fn new(written: Written<$entity::Model>, created: bool) -> Self {
                Self {
                    record: $node(written.record),
                    audit_entry: written.entry.map(Into::into),
                    nested_audit_entries: entries(written.nested),
                    created,
                }
            }
        }

        #[derive(Default)]
        pub struct $root;

        #[Object]
        impl $root {
            #[doc = concat!("Creates ", $name, " (role editor). Every problem of the input is reported at once (BAD_USER_INPUT with `extensions.fields`); a slug in use is CONFLICT.")]
            async fn $create(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The new record, with any nested records.")] input: $create_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let written = calls::create(store(ctx), &actor, input.draft()).await?;
                Ok($payload::new(written, true))
            }

            #[doc = concat!("Changes the given fields of ", $name, " (role editor); absent fields keep their value, null clears a nullable one. `version` must be the one read, or the answer is CONFLICT.", $links)]
            async fn $update(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record, the version read, and the fields to change.")] input: $update_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let id = record_id(&input.id, RecordKind::$node_type, "input.id")?;
                let update = Update { action: "update", id, version: input.version, path: "input" };
                let links = input.links();
                let written = calls::update::<$fields>(store(ctx), &actor, update, |f| input.patch(f), links).await?;
                Ok($payload::new(written, false))
            }

            #[doc = concat!("Creates ", $name, " with this slug, or sets all its fields when it exists (role editor). Nested records are only created with a new record.")]
            async fn $upsert(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record, found by its slug.")] input: $create_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let (written, created) = calls::upsert(store(ctx), &actor, input.draft()).await?;
                Ok($payload::new(written, created))
            }

            #[doc = concat!("Deletes ", $name, " for good (role admin); its audit entry keeps everything `restore` needs. Refused while other records point at it, unless `detachLinks` is true.")]
            async fn $delete(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record, the version read, and what to do with links to it.")] input: DeleteRecordInput,
            ) -> ApiResult<DeletePayload> {
                let actor = actor(ctx, Role::Admin)?;
                let id = record_id(&input.id, RecordKind::$node_type, "input.id")?;
                let options = DeleteOptions { detach_links: input.detach_links };
                let entry = calls::delete::<$entity::Entity>(store(ctx), &actor, id, input.version, options).await?;
                Ok(DeletePayload { deleted_id: ids::encode(RecordKind::$node_type, id), audit_entry: entry.into() })
            }
        }
    };
}

record_mutations!(
    OrganizationMutation,
    organization,
    Organization,
    Organization,
    OrganizationPayload,
    OrganizationFields,
    CreateOrganizationInput,
    UpdateOrganizationInput,
    create = create_organization,
    update = update_organization,
    upsert = upsert_organization,
    delete = delete_organization,
    name = "an organization",
    links = "",
);
record_mutations!(
    AgreementMutation,
    agreement,
    Agreement,
    Agreement,
    AgreementPayload,
    AgreementFields,
    CreateAgreementInput,
    UpdateAgreementInput,
    create = create_agreement,
    update = update_agreement,
    upsert = upsert_agreement,
    delete = delete_agreement,
    name = "an agreement",
    links = " Its parties and instrument links can be connected, changed or disconnected in the same input and transaction (the version is checked once); every problem of the fields and the links is reported at once, each with its path.",
);
record_mutations!(
    ProjectMutation,
    project,
    Project,
    Project,
    ProjectPayload,
    ProjectFields,
    CreateProjectInput,
    UpdateProjectInput,
    create = create_project,
    update = update_project,
    upsert = upsert_project,
    delete = delete_project,
    name = "a project",
    links = " Its participants and instrument links can be connected, changed or disconnected in the same input and transaction (the version is checked once); every problem of the fields and the links is reported at once, each with its path.",
);
record_mutations!(
    EventMutation,
    event,
    Event,
    Event,
    EventPayload,
    EventFields,
    CreateEventInput,
    UpdateEventInput,
    create = create_event,
    update = update_event,
    upsert = upsert_event,
    delete = delete_event,
    name = "an event",
    links = " Its participants and instrument links can be connected, changed or disconnected in the same input and transaction (the version is checked once); every problem of the fields and the links is reported at once, each with its path.",
);
record_mutations!(
    InstrumentMutation,
    instrument,
    Instrument,
    Instrument,
    InstrumentPayload,
    InstrumentFields,
    CreateInstrumentInput,
    UpdateInstrumentInput,
    create = create_instrument,
    update = update_instrument,
    upsert = upsert_instrument,
    delete = delete_instrument,
    name = "an instrument",
    links = "",
);
