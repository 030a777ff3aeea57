//! What the modules of the object types share: connection types, enums, filters and the nested
//! relation helpers. Glob-imported, so a module takes what it uses and nothing clashes.

pub(super) use super::{
    agreement::Agreement,
    connection::{
        AgreementConnection, EventConnection, InstrumentConnection, OrderDirection,
        OrganizationConnection, ProjectConnection,
    },
    enums::{
        AgreementOrderField as AgreementOrderFieldInput, EventOrderField as EventOrderFieldInput,
        EventRole, InstrumentOrderField as InstrumentOrderFieldInput, InstrumentRole,
        OrganizationOrderField as OrganizationOrderFieldInput, PartyRole,
        ProjectOrderField as ProjectOrderFieldInput, ProjectRole,
    },
    event::Event,
    fast::Fast,
    filters::{
        AgreementFilter, EnumFilter, EventFilter, InstrumentFilter, Order, OrganizationFilter,
        ProjectFilter, sort_keys,
    },
    instrument::Instrument,
    nested::{self, *},
    organization::Organization,
    project::Project,
};
pub(super) use crate::store::{
    agreements::AgreementOrderField as AgreementOrderFieldStore,
    events::EventOrderField as EventOrderFieldStore,
    instruments::InstrumentOrderField as InstrumentOrderFieldStore, nested as rel,
    organizations::OrganizationOrderField as OrganizationOrderFieldStore,
    projects::ProjectOrderField as ProjectOrderFieldStore,
};
