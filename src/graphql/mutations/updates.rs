//! The inputs of `update…`: the fields to change (absent keeps, null clears) and, for an
//! agreement, a project or an event, the link changes made with them.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{
    agreement_instrument, event_instrument, event_participant, project_instrument,
    project_participant,
};

use super::{
    super::{
        enums::{
            AgreementKind, EventKind, InstrumentKind, OrganizationKind, ProjectKind, ProjectStatus,
            Recurrence,
        },
        ids::RecordKind,
    },
    link_changes::{
        AgreementPartyChangesInput, EventParticipantChangesInput, InstrumentLinkChangesInput,
        ProjectParticipantChangesInput,
    },
    reference,
};
use crate::{
    dates::PartialDate,
    store::write::{
        link_changes::LinkGroup,
        records::{
            AgreementFields, EventFields, InstrumentFields, OrganizationFields, ProjectFields,
        },
    },
};

/// An update input as the store takes it: the patch of the record's fields and the changes
/// to its links.
pub(super) trait RecordUpdate {
    type Fields;

    /// Applies the input to the fields as stored.
    fn patch(self, fields: &mut Self::Fields);

    /// The changes to the record's links (an agreement's parties, …) made with the update.
    fn links(&self) -> Vec<LinkGroup> {
        Vec::new()
    }
}

/// Applies a nullable field of an update: absent keeps, null clears, a value sets.
fn set_nullable<T>(target: &mut Option<T>, value: MaybeUndefined<T>) {
    match value {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *target = None,
        MaybeUndefined::Value(v) => *target = Some(v),
    }
}

fn set_reference(target: &mut Option<i64>, value: MaybeUndefined<ID>, node: RecordKind) {
    set_nullable(target, value.map_value(|id| reference(&id, node)));
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
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

impl RecordUpdate for UpdateOrganizationInput {
    type Fields = OrganizationFields;

    fn patch(self, f: &mut OrganizationFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.name, self.name);
        set_nullable(&mut f.acronym, self.acronym);
        set(&mut f.kind, self.kind.map(Into::into));
        set_reference(&mut f.parent, self.parent, RecordKind::Organization);
        set_nullable(&mut f.website, self.website);
        set_nullable(&mut f.description, self.description);
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

impl RecordUpdate for UpdateAgreementInput {
    type Fields = AgreementFields;

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

impl RecordUpdate for UpdateProjectInput {
    type Fields = ProjectFields;

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
        set_reference(&mut f.agreement, self.agreement, RecordKind::Agreement);
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

impl RecordUpdate for UpdateEventInput {
    type Fields = EventFields;

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
        set_reference(&mut f.parent, self.parent, RecordKind::Event);
        set_reference(&mut f.project, self.project, RecordKind::Project);
        set_reference(&mut f.agreement, self.agreement, RecordKind::Agreement);
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

impl RecordUpdate for UpdateInstrumentInput {
    type Fields = InstrumentFields;

    fn patch(self, f: &mut InstrumentFields) {
        set(&mut f.slug, self.slug);
        set(&mut f.name, self.name);
        set_nullable(&mut f.acronym, self.acronym);
        set(&mut f.kind, self.kind.map(Into::into));
        set_reference(&mut f.issuer, self.issuer, RecordKind::Organization);
        set_nullable(&mut f.adopted_on, self.adopted_on);
        set_nullable(&mut f.url, self.url);
        set_nullable(&mut f.description, self.description);
    }
}
