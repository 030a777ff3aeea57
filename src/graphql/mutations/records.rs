//! Create, update, upsert and delete for the five kinds of records. The resolvers share their
//! shape, so one macro writes them; the inputs are per kind.

use std::collections::HashSet;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::{
    agreement, agreement_instrument, agreement_party, audit_entry, event, event_instrument,
    event_participant, instrument, organization, project, project_instrument, project_participant,
};
use sea_orm::DatabaseTransaction;

use super::{
    super::{
        agreement::Agreement,
        enums::{
            AgreementKind, EventKind, EventRole, InstrumentKind, InstrumentRole, OrganizationKind,
            PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence,
        },
        errors::ApiResult,
        event::Event,
        ids::{self, NodeType},
        instrument::Instrument,
        organization::Organization,
        project::Project,
    },
    AuditEntry, DeletePayload, actor,
    link_changes::{
        AgreementPartyChangesInput, EventParticipantChangesInput, InstrumentLinkChangesInput,
        ProjectParticipantChangesInput,
    },
    links::party_since,
    optional_reference, record_id, reference, store,
};
use crate::{
    auth::{Actor, Role},
    dates::PartialDate,
    error::AppResult,
    store::{
        records::find_by_slug,
        write::{
            self, DeleteOptions, Problems, Table,
            link_changes::{Connect, LinkChanges, LinkGroup, Target},
            links::LinkTable,
            records::{
                self, AgreementFields, EventFields, Fields, InstrumentFields, Nested,
                OrganizationFields, ProjectFields,
            },
        },
    },
};

/// The audit entries of the records and links written with a record.
type Entries = Vec<audit_entry::Model>;

fn entries(written: Entries) -> Vec<AuditEntry> {
    written.into_iter().map(Into::into).collect()
}

/// A create input as the store takes it: the record's fields, its links and the other records
/// created with it.
trait NewRecord {
    type Fields: Fields;

    fn fields(&self) -> Self::Fields;

    /// The record's links, checked with its fields and inserted after it.
    fn links(&self) -> Vec<LinkGroup> {
        Vec::new()
    }

    /// What the records created with it (an event's sessions) need checked beforehand.
    fn nested(&self) -> Nested {
        Nested::default()
    }

    /// Creates the records that come with it (an event's sessions) once it exists.
    async fn children(&self, _: &DatabaseTransaction, _: &Actor, _: i64) -> AppResult<Entries> {
        Ok(Vec::new())
    }
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

/// Applies a nullable field of an update: absent keeps, null clears, a value sets.
fn set_nullable<T>(target: &mut Option<T>, value: MaybeUndefined<T>) {
    match value {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *target = None,
        MaybeUndefined::Value(v) => *target = Some(v),
    }
}

fn set_reference(target: &mut Option<i64>, value: MaybeUndefined<ID>, node: NodeType) {
    set_nullable(target, value.map_value(|id| reference(&id, node)));
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
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
                let txn = write::begin(&store(ctx).writer).await?;
                let (model, entry, mut nested) = records::create_with_links(&txn, &actor, input.fields(), "input", input.nested(), input.links())
                    .await?;
                nested.extend(input.children(&txn, &actor, model.id).await?);
                write::commit(txn, &store(ctx).commits).await?;
                Ok($payload { record: $node(model), audit_entry: Some(entry.into()), nested_audit_entries: entries(nested), created: true })
            }

            #[doc = concat!("Changes the given fields of ", $name, " (role editor); absent fields keep their value, null clears a nullable one. `version` must be the one read, or the answer is CONFLICT.", $links)]
            async fn $update(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record, the version read, and the fields to change.")] input: $update_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let id = record_id(&input.id, NodeType::$node_type, "input.id")?;
                let update = records::Update { action: "update", id, version: input.version, path: "input" };
                let links = input.links();
                let txn = write::begin(&store(ctx).writer).await?;
                let (model, entry, nested) = records::update_with_links::<$fields>(&txn, &actor, update, |f| input.patch(f), links)
                    .await?;
                write::commit(txn, &store(ctx).commits).await?;
                Ok($payload { record: $node(model), audit_entry: entry.map(Into::into), nested_audit_entries: entries(nested), created: false })
            }

            #[doc = concat!("Creates ", $name, " with this slug, or sets all its fields when it exists (role editor). Nested records are only created with a new record.")]
            async fn $upsert(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record, found by its slug.")] input: $create_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let txn = write::begin(&store(ctx).writer).await?;
                let existing = find_by_slug::<$entity::Entity>(&txn, &input.slug).await?;
                let payload = match existing {
                    Some(found) => {
                        let fields = input.fields();
                        let (model, entry) = records::update::<$fields>(&txn, &actor, found.id, found.version, "input", |f| *f = fields)
                            .await?;
                        $payload { record: $node(model), audit_entry: entry.map(Into::into), nested_audit_entries: Vec::new(), created: false }
                    }
                    None => {
                        let (model, entry, mut nested) = records::create_with_links(&txn, &actor, input.fields(), "input", input.nested(), input.links())
                            .await?;
                        nested.extend(input.children(&txn, &actor, model.id).await?);
                        $payload { record: $node(model), audit_entry: Some(entry.into()), nested_audit_entries: entries(nested), created: true }
                    }
                };
                write::commit(txn, &store(ctx).commits).await?;
                Ok(payload)
            }

            #[doc = concat!("Deletes ", $name, " for good (role admin); its audit entry keeps everything `restore` needs. Refused while other records point at it, unless `detachLinks` is true.")]
            async fn $delete(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record, the version read, and what to do with links to it.")] input: DeleteRecordInput,
            ) -> ApiResult<DeletePayload> {
                let actor = actor(ctx, Role::Admin)?;
                let id = record_id(&input.id, NodeType::$node_type, "input.id")?;
                let options = DeleteOptions { detach_links: input.detach_links };
                let txn = write::begin(&store(ctx).writer).await?;
                let entry = records::delete::<$entity::Entity>(&txn, &actor, id, input.version, options)
                    .await?;
                write::commit(txn, &store(ctx).commits).await?;
                Ok(DeletePayload { deleted_id: ids::encode(NodeType::$node_type, id), audit_entry: entry.into() })
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

/// A new organization.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Stable, URL-safe key: lowercase words joined by hyphens (`un-women`), unique.
    pub slug: String,
    /// Full name.
    pub name: String,
    /// Short name or acronym.
    pub acronym: Option<String>,
    /// What sort of body it is.
    pub kind: OrganizationKind,
    /// The organization it belongs to.
    pub parent: Option<ID>,
    /// Official website (http or https).
    pub website: Option<String>,
    /// A short description.
    pub description: Option<String>,
}

impl NewRecord for CreateOrganizationInput {
    type Fields = OrganizationFields;

    fn fields(&self) -> OrganizationFields {
        OrganizationFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            acronym: self.acronym.clone(),
            kind: self.kind.into(),
            parent: optional_reference(self.parent.as_ref(), NodeType::Organization),
            website: self.website.clone(),
            description: self.description.clone(),
        }
    }
}

/// Changes to an organization: absent fields keep their value.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization's global ID.
    pub id: ID,
    /// The version read; a stale one is refused with CONFLICT.
    pub version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New acronym; null clears it.
    pub acronym: MaybeUndefined<String>,
    /// New kind.
    pub kind: Option<OrganizationKind>,
    /// New parent; null clears it.
    pub parent: MaybeUndefined<ID>,
    /// New website; null clears it.
    pub website: MaybeUndefined<String>,
    /// New description; null clears it.
    pub description: MaybeUndefined<String>,
}

impl UpdateOrganizationInput {
    /// An organization owns no links: its update changes none.
    fn links(&self) -> Vec<LinkGroup> {
        Vec::new()
    }

    fn patch(self, f: &mut OrganizationFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.name, self.name);
        set_nullable(&mut f.acronym, self.acronym);
        set(&mut f.kind, self.kind.map(Into::into));
        set_reference(&mut f.parent, self.parent, NodeType::Organization);
        set_nullable(&mut f.website, self.website);
        set_nullable(&mut f.description, self.description);
    }
}

/// A party to a new agreement.
#[derive(InputObject)]
pub struct NewAgreementPartyInput {
    /// The organization's global ID.
    pub organization: ID,
    /// Its part in the agreement.
    pub role: PartyRole,
    /// Since when it takes part.
    pub since: Option<PartialDate>,
}

/// An instrument link of a new agreement, project or event.
#[derive(InputObject)]
pub struct NewInstrumentLinkInput {
    /// The instrument's global ID.
    pub instrument: ID,
    /// How the record relates to the instrument.
    pub role: InstrumentRole,
}

/// A participant of a new project.
#[derive(InputObject)]
pub struct NewProjectParticipantInput {
    /// The organization's global ID.
    pub organization: ID,
    /// Its part in the project.
    pub role: ProjectRole,
}

/// A participant (an organizer, a host, ...) of a new event.
#[derive(InputObject)]
pub struct NewEventParticipantInput {
    /// The organization's global ID.
    pub organization: ID,
    /// Its part in the event (ORGANIZER, CO_ORGANIZER, ...).
    pub role: EventRole,
}

/// The instrument links of a new record, as a group of the store's link changes.
fn instrument_links<L: LinkTable>(links: &[NewInstrumentLinkInput]) -> LinkChanges<L> {
    let mut group = LinkChanges::new_links("input.instruments");
    group.connect = (links.iter())
        .map(|l| Connect {
            target: Target::Id(reference(&l.instrument, NodeType::Instrument)),
            role: entity::InstrumentRole::from(l.role).into(),
            extra: Vec::new(),
        })
        .collect();
    group
}

/// The participants of a new project or event, as a group of the store's link changes.
fn participant_links<L: LinkTable>(
    path: &str,
    participants: impl Iterator<Item = (ID, sea_orm::Value)>,
) -> LinkChanges<L> {
    let mut group = LinkChanges::new_links(path);
    group.connect = participants
        .map(|(organization, role)| Connect {
            target: Target::Id(reference(&organization, NodeType::Organization)),
            role,
            extra: Vec::new(),
        })
        .collect();
    group
}

/// A new agreement, with its parties and instrument links.
#[derive(InputObject)]
pub struct CreateAgreementInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The agreement's title.
    pub title: String,
    /// The form it takes.
    pub kind: AgreementKind,
    /// When it was signed (a year, a month or a day).
    pub signed_on: Option<PartialDate>,
    /// What it is for.
    pub summary: Option<String>,
    /// Its parties, created with it.
    #[graphql(default)]
    pub parties: Vec<NewAgreementPartyInput>,
    /// Its instrument links, created with it.
    #[graphql(default)]
    pub instruments: Vec<NewInstrumentLinkInput>,
}

impl NewRecord for CreateAgreementInput {
    type Fields = AgreementFields;

    fn fields(&self) -> AgreementFields {
        AgreementFields {
            slug: self.slug.clone(),
            title: self.title.clone(),
            kind: self.kind.into(),
            signed_on: self.signed_on,
            summary: self.summary.clone(),
        }
    }

    fn links(&self) -> Vec<LinkGroup> {
        let mut parties = LinkChanges::<agreement_party::Entity>::new_links("input.parties");
        parties.connect = (self.parties.iter())
            .map(|p| Connect {
                target: Target::Id(reference(&p.organization, NodeType::Organization)),
                role: entity::PartyRole::from(p.role).into(),
                extra: party_since(p.since),
            })
            .collect();
        let instruments = instrument_links::<agreement_instrument::Entity>(&self.instruments);
        vec![parties.into(), instruments.into()]
    }
}

/// Changes to an agreement: absent fields keep their value.
#[derive(InputObject)]
pub struct UpdateAgreementInput {
    /// The agreement's global ID.
    pub id: ID,
    /// The version read; a stale one is refused with CONFLICT.
    pub version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New kind.
    pub kind: Option<AgreementKind>,
    /// New signing date; null clears it.
    pub signed_on: MaybeUndefined<PartialDate>,
    /// New summary; null clears it.
    pub summary: MaybeUndefined<String>,
    /// Parties to connect, change or disconnect with the update.
    pub parties: Option<AgreementPartyChangesInput>,
    /// Instrument links to connect, change or disconnect with the update.
    pub instruments: Option<InstrumentLinkChangesInput>,
}

impl UpdateAgreementInput {
    fn links(&self) -> Vec<LinkGroup> {
        let parties = self
            .parties
            .as_ref()
            .map(|p| p.draft("input.parties").into());
        let instruments = (self.instruments.as_ref()).map(|i| {
            i.draft::<agreement_instrument::Entity>("input.instruments")
                .into()
        });
        parties.into_iter().chain(instruments).collect()
    }

    fn patch(self, f: &mut AgreementFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.title, self.title);
        set(&mut f.kind, self.kind.map(Into::into));
        set_nullable(&mut f.signed_on, self.signed_on);
        set_nullable(&mut f.summary, self.summary);
    }
}

/// A new project, with its participants and instrument links.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The project's name.
    pub name: String,
    /// The form it takes.
    pub kind: ProjectKind,
    /// Where it stands.
    pub status: ProjectStatus,
    /// What it is for.
    pub summary: Option<String>,
    /// When it starts.
    pub starts_on: Option<PartialDate>,
    /// When it ends (never before it starts).
    pub ends_on: Option<PartialDate>,
    /// The agreement it implements.
    pub agreement: Option<ID>,
    /// Its participants, created with it.
    #[graphql(default)]
    pub participants: Vec<NewProjectParticipantInput>,
    /// Its instrument links, created with it.
    #[graphql(default)]
    pub instruments: Vec<NewInstrumentLinkInput>,
}

impl NewRecord for CreateProjectInput {
    type Fields = ProjectFields;

    fn fields(&self) -> ProjectFields {
        ProjectFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            kind: self.kind.into(),
            status: self.status.into(),
            summary: self.summary.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            agreement: optional_reference(self.agreement.as_ref(), NodeType::Agreement),
        }
    }

    fn links(&self) -> Vec<LinkGroup> {
        let roles = (self.participants.iter()).map(|p| {
            (
                p.organization.clone(),
                entity::ProjectRole::from(p.role).into(),
            )
        });
        let participants =
            participant_links::<project_participant::Entity>("input.participants", roles);
        let instruments = instrument_links::<project_instrument::Entity>(&self.instruments);
        vec![participants.into(), instruments.into()]
    }
}

/// Changes to a project: absent fields keep their value.
#[derive(InputObject)]
pub struct UpdateProjectInput {
    /// The project's global ID.
    pub id: ID,
    /// The version read; a stale one is refused with CONFLICT.
    pub version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<ProjectKind>,
    /// New status.
    pub status: Option<ProjectStatus>,
    /// New summary; null clears it.
    pub summary: MaybeUndefined<String>,
    /// New start; null clears it.
    pub starts_on: MaybeUndefined<PartialDate>,
    /// New end; null clears it.
    pub ends_on: MaybeUndefined<PartialDate>,
    /// New agreement; null clears it.
    pub agreement: MaybeUndefined<ID>,
    /// Participants to connect, change or disconnect with the update.
    pub participants: Option<ProjectParticipantChangesInput>,
    /// Instrument links to connect, change or disconnect with the update.
    pub instruments: Option<InstrumentLinkChangesInput>,
}

impl UpdateProjectInput {
    fn links(&self) -> Vec<LinkGroup> {
        let participants = (self.participants.as_ref()).map(|p| {
            p.draft::<project_participant::Entity>("input.participants")
                .into()
        });
        let instruments = (self.instruments.as_ref()).map(|i| {
            i.draft::<project_instrument::Entity>("input.instruments")
                .into()
        });
        participants.into_iter().chain(instruments).collect()
    }

    fn patch(self, f: &mut ProjectFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.name, self.name);
        set(&mut f.kind, self.kind.map(Into::into));
        set(&mut f.status, self.status.map(Into::into));
        set_nullable(&mut f.summary, self.summary);
        set_nullable(&mut f.starts_on, self.starts_on);
        set_nullable(&mut f.ends_on, self.ends_on);
        set_reference(&mut f.agreement, self.agreement, NodeType::Agreement);
    }
}

/// A session of a new event: an event held inside it.
#[derive(InputObject)]
pub struct NewSessionInput {
    /// Stable, URL-safe key, unique among events.
    pub slug: String,
    /// The session's name.
    pub name: String,
    /// The form it takes.
    pub kind: EventKind,
    /// What it is about.
    pub summary: Option<String>,
    /// When it starts.
    pub starts_on: Option<PartialDate>,
    /// When it ends.
    pub ends_on: Option<PartialDate>,
    /// Where it takes place.
    pub location: Option<String>,
    /// Its participants.
    #[graphql(default)]
    pub participants: Vec<NewEventParticipantInput>,
}

/// A new event, with its participants (organizers among them), instrument links and sessions.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The event's name.
    pub name: String,
    /// The form it takes.
    pub kind: EventKind,
    /// What it is about.
    pub summary: Option<String>,
    /// When it starts.
    pub starts_on: Option<PartialDate>,
    /// When it ends (never before it starts).
    pub ends_on: Option<PartialDate>,
    /// Where it takes place.
    pub location: Option<String>,
    /// How often it recurs.
    pub recurrence: Option<Recurrence>,
    /// The event it is a session of.
    pub parent: Option<ID>,
    /// The project it belongs to.
    pub project: Option<ID>,
    /// The agreement it belongs to.
    pub agreement: Option<ID>,
    /// Its participants (organizers, hosts, ...), created with it.
    #[graphql(default)]
    pub participants: Vec<NewEventParticipantInput>,
    /// Its instrument links, created with it.
    #[graphql(default)]
    pub instruments: Vec<NewInstrumentLinkInput>,
    /// Its sessions, created with it.
    #[graphql(default)]
    pub sessions: Vec<NewSessionInput>,
}

impl CreateEventInput {
    /// A session's fields (its parent is the event, known once inserted).
    fn session_fields(s: &NewSessionInput, parent: Option<i64>) -> EventFields {
        EventFields {
            slug: s.slug.clone(),
            name: s.name.clone(),
            kind: s.kind.into(),
            summary: s.summary.clone(),
            starts_on: s.starts_on,
            ends_on: s.ends_on,
            location: s.location.clone(),
            recurrence: None,
            parent,
            project: None,
            agreement: None,
        }
    }

    /// The participants of the event (`input`) or of a session (`input.sessions[0]`).
    fn participants(path: &str, list: &[NewEventParticipantInput]) -> LinkGroup {
        let roles = (list.iter()).map(|p| {
            (
                p.organization.clone(),
                entity::EventRole::from(p.role).into(),
            )
        });
        let path = format!("{path}.participants");
        participant_links::<event_participant::Entity>(&path, roles).into()
    }
}

impl NewRecord for CreateEventInput {
    type Fields = EventFields;

    fn fields(&self) -> EventFields {
        EventFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            kind: self.kind.into(),
            summary: self.summary.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            location: self.location.clone(),
            recurrence: self.recurrence.map(Into::into),
            parent: optional_reference(self.parent.as_ref(), NodeType::Event),
            project: optional_reference(self.project.as_ref(), NodeType::Project),
            agreement: optional_reference(self.agreement.as_ref(), NodeType::Agreement),
        }
    }

    fn links(&self) -> Vec<LinkGroup> {
        let instruments = instrument_links::<event_instrument::Entity>(&self.instruments);
        vec![
            Self::participants("input", &self.participants),
            instruments.into(),
        ]
    }

    /// The sessions' problems found without the database (their fields, slugs repeated within
    /// the input) and their participants' references, all checked before anything is inserted.
    fn nested(&self) -> Nested {
        let mut problems = Problems::default();
        let mut slugs = HashSet::from([self.slug.as_str()]);
        let mut references = Vec::new();
        for (i, s) in self.sessions.iter().enumerate() {
            let path = format!("input.sessions[{i}]");
            Self::session_fields(s, None).check(&mut problems, &path);
            if !slugs.insert(s.slug.as_str()) {
                problems.push(
                    format!("{path}.slug"),
                    format!("`{}` is used more than once in this input", s.slug),
                );
            }
            references.extend(s.participants.iter().enumerate().map(|(j, p)| {
                (
                    format!("{path}.participants[{j}].organization"),
                    Table::Organization,
                    reference(&p.organization, NodeType::Organization),
                )
            }));
        }
        Nested {
            references,
            problems,
        }
    }

    /// The sessions, each with its participants.
    async fn children(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        id: i64,
    ) -> AppResult<Entries> {
        let mut entries = Vec::new();
        for (i, s) in self.sessions.iter().enumerate() {
            let path = format!("input.sessions[{i}]");
            let fields = Self::session_fields(s, Some(id));
            let participants = vec![Self::participants(&path, &s.participants)];
            let (_, entry, links) = records::create_with_links(
                txn,
                actor,
                fields,
                &path,
                Nested::default(),
                participants,
            )
            .await?;
            entries.push(entry);
            entries.extend(links);
        }
        Ok(entries)
    }
}

/// Changes to an event: absent fields keep their value.
#[derive(InputObject)]
pub struct UpdateEventInput {
    /// The event's global ID.
    pub id: ID,
    /// The version read; a stale one is refused with CONFLICT.
    pub version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<EventKind>,
    /// New summary; null clears it.
    pub summary: MaybeUndefined<String>,
    /// New start; null clears it.
    pub starts_on: MaybeUndefined<PartialDate>,
    /// New end; null clears it.
    pub ends_on: MaybeUndefined<PartialDate>,
    /// New location; null clears it.
    pub location: MaybeUndefined<String>,
    /// New recurrence; null clears it.
    pub recurrence: MaybeUndefined<Recurrence>,
    /// New parent event; null clears it.
    pub parent: MaybeUndefined<ID>,
    /// New project; null clears it.
    pub project: MaybeUndefined<ID>,
    /// New agreement; null clears it.
    pub agreement: MaybeUndefined<ID>,
    /// Participants to connect, change or disconnect with the update.
    pub participants: Option<EventParticipantChangesInput>,
    /// Instrument links to connect, change or disconnect with the update.
    pub instruments: Option<InstrumentLinkChangesInput>,
}

impl UpdateEventInput {
    fn links(&self) -> Vec<LinkGroup> {
        let participants = (self.participants.as_ref()).map(|p| {
            p.draft::<event_participant::Entity>("input.participants")
                .into()
        });
        let instruments = (self.instruments.as_ref()).map(|i| {
            i.draft::<event_instrument::Entity>("input.instruments")
                .into()
        });
        participants.into_iter().chain(instruments).collect()
    }

    fn patch(self, f: &mut EventFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.name, self.name);
        set(&mut f.kind, self.kind.map(Into::into));
        set_nullable(&mut f.summary, self.summary);
        set_nullable(&mut f.starts_on, self.starts_on);
        set_nullable(&mut f.ends_on, self.ends_on);
        set_nullable(&mut f.location, self.location);
        set_nullable(&mut f.recurrence, self.recurrence.map_value(Into::into));
        set_reference(&mut f.parent, self.parent, NodeType::Event);
        set_reference(&mut f.project, self.project, NodeType::Project);
        set_reference(&mut f.agreement, self.agreement, NodeType::Agreement);
    }
}

/// A new instrument.
#[derive(InputObject)]
pub struct CreateInstrumentInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The instrument's name.
    pub name: String,
    /// Short name or acronym.
    pub acronym: Option<String>,
    /// What sort of instrument it is.
    pub kind: InstrumentKind,
    /// The organization that issued it.
    pub issuer: Option<ID>,
    /// When it was adopted.
    pub adopted_on: Option<PartialDate>,
    /// Where to read it (http or https).
    pub url: Option<String>,
    /// A short description.
    pub description: Option<String>,
}

impl NewRecord for CreateInstrumentInput {
    type Fields = InstrumentFields;

    fn fields(&self) -> InstrumentFields {
        InstrumentFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            acronym: self.acronym.clone(),
            kind: self.kind.into(),
            issuer: optional_reference(self.issuer.as_ref(), NodeType::Organization),
            adopted_on: self.adopted_on,
            url: self.url.clone(),
            description: self.description.clone(),
        }
    }
}

/// Changes to an instrument: absent fields keep their value.
#[derive(InputObject)]
pub struct UpdateInstrumentInput {
    /// The instrument's global ID.
    pub id: ID,
    /// The version read; a stale one is refused with CONFLICT.
    pub version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New acronym; null clears it.
    pub acronym: MaybeUndefined<String>,
    /// New kind.
    pub kind: Option<InstrumentKind>,
    /// New issuer; null clears it.
    pub issuer: MaybeUndefined<ID>,
    /// New adoption date; null clears it.
    pub adopted_on: MaybeUndefined<PartialDate>,
    /// New URL; null clears it.
    pub url: MaybeUndefined<String>,
    /// New description; null clears it.
    pub description: MaybeUndefined<String>,
}

impl UpdateInstrumentInput {
    /// An instrument owns no links: its update changes none.
    fn links(&self) -> Vec<LinkGroup> {
        Vec::new()
    }

    fn patch(self, f: &mut InstrumentFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.name, self.name);
        set_nullable(&mut f.acronym, self.acronym);
        set(&mut f.kind, self.kind.map(Into::into));
        set_reference(&mut f.issuer, self.issuer, NodeType::Organization);
        set_nullable(&mut f.adopted_on, self.adopted_on);
        set_nullable(&mut f.url, self.url);
        set_nullable(&mut f.description, self.description);
    }
}
