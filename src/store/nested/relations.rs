//! The relations nested connections follow: each link relation (through a link table with a
//! role) and each child relation (a table holding its parent's id), declared by macro.

use entity::{
    EventRole, InstrumentRole, PartyRole, ProjectRole, agreement, agreement_instrument,
    agreement_party, event, event_instrument, event_participant, instrument, organization, project,
    project_instrument, project_participant,
};
use migration::m20261201_000001_link_order_keys as order_keys;
use sea_orm::{RelationDef, RelationTrait};

use super::{ChildRelation, LinkRelation};
use crate::store::{
    agreements::AgreementFilter, events::EventFilter, instruments::InstrumentFilter,
    organizations::OrganizationFilter, projects::ProjectFilter,
};

macro_rules! link_relation {
    ($name:ident, $link:ident, $target:ident, $role:ty, $filter:ty, $owner:ident, $to_target:ident, $target_id:ident, $keys:ident) => {
        #[doc = concat!("Through `", stringify!($link), "`, from its `", stringify!($owner), "` to `", stringify!($target), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl LinkRelation for $name {
            type Link = $link::Entity;
            type Target = $target::Entity;
            type Role = $role;
            type Filter = $filter;
            const OWNER: $link::Column = $link::Column::$owner;
            const LINK_ID: $link::Column = $link::Column::Id;
            const ROLE: $link::Column = $link::Column::Role;
            const TARGET: $link::Column = $link::Column::$target_id;
            const KEYS: &'static [(&'static str, &'static str)] = order_keys::$keys.keys;

            fn to_target() -> RelationDef {
                $link::Relation::$to_target.def()
            }
        }
    };
}

link_relation!(
    AgreementsOfOrganization,
    agreement_party,
    agreement,
    PartyRole,
    AgreementFilter,
    OrganizationId,
    Agreement,
    AgreementId,
    AGREEMENT
);
link_relation!(
    PartiesOfAgreement,
    agreement_party,
    organization,
    PartyRole,
    OrganizationFilter,
    AgreementId,
    Organization,
    OrganizationId,
    ORGANIZATION
);
link_relation!(
    ProjectsOfOrganization,
    project_participant,
    project,
    ProjectRole,
    ProjectFilter,
    OrganizationId,
    Project,
    ProjectId,
    PROJECT
);
link_relation!(
    ParticipantsOfProject,
    project_participant,
    organization,
    ProjectRole,
    OrganizationFilter,
    ProjectId,
    Organization,
    OrganizationId,
    ORGANIZATION
);
link_relation!(
    EventsOfOrganization,
    event_participant,
    event,
    EventRole,
    EventFilter,
    OrganizationId,
    Event,
    EventId,
    EVENT
);
link_relation!(
    ParticipantsOfEvent,
    event_participant,
    organization,
    EventRole,
    OrganizationFilter,
    EventId,
    Organization,
    OrganizationId,
    ORGANIZATION
);
link_relation!(
    InstrumentsOfAgreement,
    agreement_instrument,
    instrument,
    InstrumentRole,
    InstrumentFilter,
    AgreementId,
    Instrument,
    InstrumentId,
    INSTRUMENT
);
link_relation!(
    AgreementsOfInstrument,
    agreement_instrument,
    agreement,
    InstrumentRole,
    AgreementFilter,
    InstrumentId,
    Agreement,
    AgreementId,
    AGREEMENT
);
link_relation!(
    InstrumentsOfProject,
    project_instrument,
    instrument,
    InstrumentRole,
    InstrumentFilter,
    ProjectId,
    Instrument,
    InstrumentId,
    INSTRUMENT
);
link_relation!(
    ProjectsOfInstrument,
    project_instrument,
    project,
    InstrumentRole,
    ProjectFilter,
    InstrumentId,
    Project,
    ProjectId,
    PROJECT
);
link_relation!(
    InstrumentsOfEvent,
    event_instrument,
    instrument,
    InstrumentRole,
    InstrumentFilter,
    EventId,
    Instrument,
    InstrumentId,
    INSTRUMENT
);
link_relation!(
    EventsOfInstrument,
    event_instrument,
    event,
    InstrumentRole,
    EventFilter,
    InstrumentId,
    Event,
    EventId,
    EVENT
);

macro_rules! child_relation {
    ($name:ident, $target:ident, $filter:ty, $parent:ident) => {
        #[doc = concat!("`", stringify!($target), "` rows by their `", stringify!($parent), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl ChildRelation for $name {
            type Target = $target::Entity;
            type Filter = $filter;
            const PARENT: $target::Column = $target::Column::$parent;
        }
    };
}

child_relation!(
    ChildrenOfOrganization,
    organization,
    OrganizationFilter,
    ParentId
);
child_relation!(ProjectsOfAgreement, project, ProjectFilter, AgreementId);
child_relation!(EventsOfAgreement, event, EventFilter, AgreementId);
child_relation!(EventsOfProject, event, EventFilter, ProjectId);
child_relation!(SessionsOfEvent, event, EventFilter, ParentId);
