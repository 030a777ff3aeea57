//! Adding, changing and removing links: agreement parties, project and event participants,
//! and the instrument links of agreements, projects and events. A link is named by its owner,
//! its target and its role. Each answers the owner's payload, so clients refresh its lists.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use entity::{
    agreement_instrument, agreement_party, event_instrument, event_participant, project_instrument,
    project_participant,
};

use super::{
    super::{
        agreement::Agreement,
        enums::{EventRole, InstrumentRole, PartyRole, ProjectRole},
        errors::ApiResult,
        event::Event,
        ids::RecordKind,
        project::Project,
    },
    actor, record_id,
    records::{AgreementPayload, EventPayload, ProjectPayload},
    reference, store,
};
use crate::{
    auth::Role,
    dates::PartialDate,
    store::write::{
        calls::{self, LinkChange},
        links::{LinkKey, LinkRole},
    },
};

macro_rules! link_mutations {
    (
        $root:ident, $link:ident, $owner_node:ident, $payload:ident,
        $add_input:ident, $change_input:ident, $remove_input:ident,
        add = $add:ident, change = $change:ident, remove = $remove:ident,
        name = $name:literal $(,)?
    ) => {
        #[derive(Default)]
        pub struct $root;

        #[Object]
        impl $root {
            #[doc = concat!("Adds a ", $name, " (role editor). The same organization or instrument may be linked again only in another role.")]
            async fn $add(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The link to add.")] input: $add_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let (mut key, owner) = input.key();
                key.owner = record_id(owner, RecordKind::$owner_node, "input.owner")?;
                let change = LinkChange::Add { since: input.since() };
                let (record, entry) = calls::link::<$link::Entity>(store(ctx), &actor, key, change, "input").await?;
                Ok($payload { record: $owner_node(record), audit_entry: entry.map(Into::into), nested_audit_entries: Vec::new(), created: false })
            }

            #[doc = concat!("Changes the role of a ", $name, " (role editor).")]
            async fn $change(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The link, as it is, and its new role.")] input: $change_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let (mut key, owner) = input.key();
                key.owner = record_id(owner, RecordKind::$owner_node, "input.owner")?;
                let change = LinkChange::Change { new_role: input.new_role(), since: input.since() };
                let (record, entry) = calls::link::<$link::Entity>(store(ctx), &actor, key, change, "input").await?;
                Ok($payload { record: $owner_node(record), audit_entry: entry.map(Into::into), nested_audit_entries: Vec::new(), created: false })
            }

            #[doc = concat!("Removes a ", $name, " (role editor).")]
            async fn $remove(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The link to remove.")] input: $remove_input,
            ) -> ApiResult<$payload> {
                let actor = actor(ctx, Role::Editor)?;
                let (mut key, owner) = input.key();
                key.owner = record_id(owner, RecordKind::$owner_node, "input.owner")?;
                let (record, entry) = calls::link::<$link::Entity>(store(ctx), &actor, key, LinkChange::Remove, "input").await?;
                Ok($payload { record: $owner_node(record), audit_entry: entry.map(Into::into), nested_audit_entries: Vec::new(), created: false })
            }
        }
    };
}

/// Link inputs without further columns: owner, target, role (and a new role to change it).
macro_rules! link_inputs {
    (
        $add_input:ident, $change_input:ident, $remove_input:ident, $target:ident, $target_node:ident,
        $role:ident, $variant:ident, owner = $owner_doc:literal, target = $target_doc:literal $(,)?
    ) => {
        #[doc = concat!("A link to add: the owner, the ", $target_doc, " and the role.")]
        #[derive(InputObject)]
        pub struct $add_input {
            #[doc = concat!("The global ID of the ", $owner_doc, ".")]
            pub owner: ID,
            #[doc = concat!("The global ID of the ", $target_doc, ".")]
            pub $target: ID,
            /// The role of the link.
            pub role: $role,
        }

        #[doc = concat!("A link whose role changes: the owner, the ", $target_doc, ", the role it has and the new one.")]
        #[derive(InputObject)]
        pub struct $change_input {
            #[doc = concat!("The global ID of the ", $owner_doc, ".")]
            pub owner: ID,
            #[doc = concat!("The global ID of the ", $target_doc, ".")]
            pub $target: ID,
            /// The role the link has now.
            pub role: $role,
            /// The role it should have.
            pub new_role: $role,
        }

        #[doc = concat!("A link to remove: the owner, the ", $target_doc, " and the role.")]
        #[derive(InputObject)]
        pub struct $remove_input {
            #[doc = concat!("The global ID of the ", $owner_doc, ".")]
            pub owner: ID,
            #[doc = concat!("The global ID of the ", $target_doc, ".")]
            pub $target: ID,
            /// The role of the link.
            pub role: $role,
        }

        impl $add_input {
            fn key(&self) -> (LinkKey, &ID) {
                (key(&self.$target, RecordKind::$target_node, LinkRole::$variant(self.role.into())), &self.owner)
            }
            fn since(&self) -> Option<PartialDate> {
                None
            }
        }

        impl $change_input {
            fn key(&self) -> (LinkKey, &ID) {
                (key(&self.$target, RecordKind::$target_node, LinkRole::$variant(self.role.into())), &self.owner)
            }
            fn new_role(&self) -> LinkRole {
                LinkRole::$variant(self.new_role.into())
            }
            fn since(&self) -> Option<Option<PartialDate>> {
                None
            }
        }

        impl $remove_input {
            fn key(&self) -> (LinkKey, &ID) {
                (key(&self.$target, RecordKind::$target_node, LinkRole::$variant(self.role.into())), &self.owner)
            }
        }
    };
}

fn key(target: &ID, node: RecordKind, role: LinkRole) -> LinkKey {
    LinkKey {
        owner: 0,
        target: reference(target, node),
        role,
    }
}

/// A party to add to an agreement.
#[derive(InputObject)]
pub struct AddAgreementPartyInput {
    /// The global ID of the agreement.
    pub owner: ID,
    /// The global ID of the organization.
    pub organization: ID,
    /// Its part in the agreement.
    pub role: PartyRole,
    /// Since when it takes part.
    pub since: Option<PartialDate>,
}

/// A party whose role (or start) changes.
#[derive(InputObject)]
pub struct ChangeAgreementPartyInput {
    /// The global ID of the agreement.
    pub owner: ID,
    /// The global ID of the organization.
    pub organization: ID,
    /// The role it has now.
    pub role: PartyRole,
    /// The role it should have (the same to change only `since`).
    pub new_role: PartyRole,
    /// Since when it takes part; absent keeps it, null clears it.
    pub since: MaybeUndefined<PartialDate>,
}

/// A party to remove from an agreement.
#[derive(InputObject)]
pub struct RemoveAgreementPartyInput {
    /// The global ID of the agreement.
    pub owner: ID,
    /// The global ID of the organization.
    pub organization: ID,
    /// Its role in the agreement.
    pub role: PartyRole,
}

fn party_key(organization: &ID, role: PartyRole) -> LinkKey {
    key(
        organization,
        RecordKind::Organization,
        LinkRole::Party(role.into()),
    )
}

impl AddAgreementPartyInput {
    fn key(&self) -> (LinkKey, &ID) {
        (party_key(&self.organization, self.role), &self.owner)
    }
    fn since(&self) -> Option<PartialDate> {
        self.since
    }
}

impl ChangeAgreementPartyInput {
    fn key(&self) -> (LinkKey, &ID) {
        (party_key(&self.organization, self.role), &self.owner)
    }
    fn new_role(&self) -> LinkRole {
        LinkRole::Party(self.new_role.into())
    }
}

impl RemoveAgreementPartyInput {
    fn key(&self) -> (LinkKey, &ID) {
        (party_key(&self.organization, self.role), &self.owner)
    }
}

impl ChangeAgreementPartyInput {
    fn since(&self) -> Option<Option<PartialDate>> {
        kept(&self.since)
    }
}

/// A change's date: none when the client sent none (the date is kept), else the date or null.
pub(super) fn kept(since: &MaybeUndefined<PartialDate>) -> Option<Option<PartialDate>> {
    match since {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(*v)),
    }
}

link_mutations!(
    AgreementPartyMutation,
    agreement_party,
    Agreement,
    AgreementPayload,
    AddAgreementPartyInput,
    ChangeAgreementPartyInput,
    RemoveAgreementPartyInput,
    add = add_agreement_party,
    change = change_agreement_party,
    remove = remove_agreement_party,
    name = "party to an agreement",
);

link_inputs!(
    AddProjectParticipantInput,
    ChangeProjectParticipantInput,
    RemoveProjectParticipantInput,
    organization,
    Organization,
    ProjectRole,
    Project,
    owner = "project",
    target = "organization",
);
link_mutations!(
    ProjectParticipantMutation,
    project_participant,
    Project,
    ProjectPayload,
    AddProjectParticipantInput,
    ChangeProjectParticipantInput,
    RemoveProjectParticipantInput,
    add = add_project_participant,
    change = change_project_participant,
    remove = remove_project_participant,
    name = "participant of a project",
);

link_inputs!(
    AddEventParticipantInput,
    ChangeEventParticipantInput,
    RemoveEventParticipantInput,
    organization,
    Organization,
    EventRole,
    Event,
    owner = "event",
    target = "organization",
);
link_mutations!(
    EventParticipantMutation,
    event_participant,
    Event,
    EventPayload,
    AddEventParticipantInput,
    ChangeEventParticipantInput,
    RemoveEventParticipantInput,
    add = add_event_participant,
    change = change_event_participant,
    remove = remove_event_participant,
    name = "participant of an event",
);

link_inputs!(
    AddAgreementInstrumentInput,
    ChangeAgreementInstrumentInput,
    RemoveAgreementInstrumentInput,
    instrument,
    Instrument,
    InstrumentRole,
    Instrument,
    owner = "agreement",
    target = "instrument",
);
link_mutations!(
    AgreementInstrumentMutation,
    agreement_instrument,
    Agreement,
    AgreementPayload,
    AddAgreementInstrumentInput,
    ChangeAgreementInstrumentInput,
    RemoveAgreementInstrumentInput,
    add = add_agreement_instrument,
    change = change_agreement_instrument,
    remove = remove_agreement_instrument,
    name = "instrument link of an agreement",
);

link_inputs!(
    AddProjectInstrumentInput,
    ChangeProjectInstrumentInput,
    RemoveProjectInstrumentInput,
    instrument,
    Instrument,
    InstrumentRole,
    Instrument,
    owner = "project",
    target = "instrument",
);
link_mutations!(
    ProjectInstrumentMutation,
    project_instrument,
    Project,
    ProjectPayload,
    AddProjectInstrumentInput,
    ChangeProjectInstrumentInput,
    RemoveProjectInstrumentInput,
    add = add_project_instrument,
    change = change_project_instrument,
    remove = remove_project_instrument,
    name = "instrument link of a project",
);

link_inputs!(
    AddEventInstrumentInput,
    ChangeEventInstrumentInput,
    RemoveEventInstrumentInput,
    instrument,
    Instrument,
    InstrumentRole,
    Instrument,
    owner = "event",
    target = "instrument",
);
link_mutations!(
    EventInstrumentMutation,
    event_instrument,
    Event,
    EventPayload,
    AddEventInstrumentInput,
    ChangeEventInstrumentInput,
    RemoveEventInstrumentInput,
    add = add_event_instrument,
    change = change_event_instrument,
    remove = remove_event_instrument,
    name = "instrument link of an event",
);
