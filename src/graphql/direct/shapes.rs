//! What a plan writes of each record type and link: the fields of the API's object types
//! (`graphql::organization` and its siblings) that read a column, each written as its resolver
//! answers it, and the connections through link tables under each type.

use async_graphql::parser::types::Field;
use entity::{agreement, event, instrument, organization, project};

use super::{ChildLevel, Edge, Leaf, Level, LinkLevel, Root, RootList, RootOne, json};
use crate::{
    dates::PartialDate,
    graphql::{
        enums::{
            AgreementKind, EventKind, EventRole, InstrumentKind, InstrumentRole, OrganizationKind,
            PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence,
        },
        ids::RecordKind,
        prelude::*,
        projection::Reads,
    },
    store::{
        self,
        page::SortKey,
        records::{Filter, Record},
    },
};

/// An object type of a record, as a plan sees it.
pub trait Shape:
    Reads<Model = <Self::Entity as sea_orm::EntityTrait>::Model> + Send + Sync + 'static
{
    type Entity: Record;
    /// The filter of its root list (none applied).
    type Filter: Filter + Default + Send + Sync;
    /// Its GraphQL type name.
    const NAME: &'static str;
    /// Its default order, in root lists and in connections to it.
    fn order() -> Option<Vec<SortKey<<Self::Entity as sea_orm::EntityTrait>::Column>>>;
    /// The field `name` when it is a plain read of the row.
    fn leaf(name: &str) -> Option<Leaf<Self::Model>>;
    /// The field `name` when it is a connection a plan can load.
    fn level(name: &str, field: &Field) -> Option<Box<dyn Level>>;
}

/// The root field `name`, when a plan can answer it.
pub fn root(field: &Field) -> Option<Box<dyn Root>> {
    match field.name.node.as_str() {
        "organizations" => RootList::<Organization>::compile(field),
        "agreements" => RootList::<Agreement>::compile(field),
        "projects" => RootList::<Project>::compile(field),
        "events" => RootList::<Event>::compile(field),
        "instruments" => RootList::<Instrument>::compile(field),
        "organization" => RootOne::<Organization>::compile(field),
        "agreement" => RootOne::<Agreement>::compile(field),
        "project" => RootOne::<Project>::compile(field),
        "event" => RootOne::<Event>::compile(field),
        "instrument" => RootOne::<Instrument>::compile(field),
        _ => None,
    }
}

/// A party's `since` and the link columns it reads.
const SINCE: Option<(Leaf<entity::agreement_party::Model>, &[&str])> = Some((
    |link, out| {
        json::date(
            out,
            PartialDate::from_parts(link.since_on, link.since_precision),
        )
    },
    &["since_on", "since_precision"],
));

/// Implements [`Shape`] for an object type: its entity, its root list's filter, its default
/// order (the API's, through `sort_keys`), and its plain fields and connections by name.
macro_rules! shape {
    (
        $type:ident, $entity:ident, $filter:path, $order:ident :: $default:ident, $order_store:ident;
        leaves { $($leaf:literal => $write:expr,)* }
        levels($field:ident) { $($level:literal => $compile:expr,)* }
    ) => {
        impl Shape for $type {
            type Entity = $entity::Entity;
            type Filter = $filter;
            const NAME: &'static str = stringify!($type);

            fn order() -> Option<Vec<SortKey<$entity::Column>>> {
                sort_keys(None, $order::$default, |f: $order_store, d| f.key(d)).ok()
            }

            fn leaf(name: &str) -> Option<Leaf<$entity::Model>> {
                Some(match name {
                    $($leaf => $write,)*
                    _ => return None,
                })
            }

            fn level(name: &str, $field: &Field) -> Option<Box<dyn Level>> {
                match name {
                    $($level => $compile,)*
                    _ => None,
                }
            }
        }
    };
}

shape!(Organization, organization, store::organizations::OrganizationFilter, OrganizationOrderFieldInput::Name, OrganizationOrderFieldStore;
    leaves {
        "id" => |m, out| json::id(out, RecordKind::Organization, m.id),
        "slug" => |m, out| json::string(out, &m.slug),
        "version" => |m, out| json::int(out, m.version),
        "name" => |m, out| json::string(out, &m.name),
        "acronym" => |m, out| json::optional_string(out, m.acronym.as_deref()),
        "kind" => |m, out| json::enumeration(out, OrganizationKind::from(m.kind)),
        "website" => |m, out| json::optional_string(out, m.website.as_deref()),
        "description" => |m, out| json::optional_string(out, m.description.as_deref()),
    }
    levels(field) {
        "agreements" => LinkLevel::<rel::AgreementsOfOrganization, Agreement>::compile(field, SINCE),
        "projects" => LinkLevel::<rel::ProjectsOfOrganization, Project>::compile(field, None),
        "events" => LinkLevel::<rel::EventsOfOrganization, Event>::compile(field, None),
        "children" => ChildLevel::<rel::ChildrenOfOrganization, Organization>::compile(field),
    }
);

shape!(Agreement, agreement, store::agreements::AgreementFilter, AgreementOrderFieldInput::Title, AgreementOrderFieldStore;
    leaves {
        "id" => |m, out| json::id(out, RecordKind::Agreement, m.id),
        "slug" => |m, out| json::string(out, &m.slug),
        "version" => |m, out| json::int(out, m.version),
        "title" => |m, out| json::string(out, &m.title),
        "kind" => |m, out| json::enumeration(out, AgreementKind::from(m.kind)),
        "signedOn" => |m, out| {
            json::date(
                out,
                PartialDate::from_parts(m.signed_on, m.signed_precision),
            )
        },
        "summary" => |m, out| json::optional_string(out, m.summary.as_deref()),
    }
    levels(field) {
        "parties" => LinkLevel::<rel::PartiesOfAgreement, Organization>::compile(field, SINCE),
        "instruments" => LinkLevel::<rel::InstrumentsOfAgreement, Instrument>::compile(field, None),
        "projects" => ChildLevel::<rel::ProjectsOfAgreement, Project>::compile(field),
        "events" => ChildLevel::<rel::EventsOfAgreement, Event>::compile(field),
    }
);

shape!(Project, project, store::projects::ProjectFilter, ProjectOrderFieldInput::Name, ProjectOrderFieldStore;
    leaves {
        "id" => |m, out| json::id(out, RecordKind::Project, m.id),
        "slug" => |m, out| json::string(out, &m.slug),
        "version" => |m, out| json::int(out, m.version),
        "name" => |m, out| json::string(out, &m.name),
        "kind" => |m, out| json::enumeration(out, ProjectKind::from(m.kind)),
        "status" => |m, out| json::enumeration(out, ProjectStatus::from(m.status)),
        "summary" => |m, out| json::optional_string(out, m.summary.as_deref()),
        "startsOn" => |m, out| {
            json::date(
                out,
                PartialDate::from_parts(m.starts_on, m.starts_precision),
            )
        },
        "endsOn" => {
            |m, out| json::date(out, PartialDate::from_parts(m.ends_on, m.ends_precision))
        },
    }
    levels(field) {
        "participants" => LinkLevel::<rel::ParticipantsOfProject, Organization>::compile(field, None),
        "instruments" => LinkLevel::<rel::InstrumentsOfProject, Instrument>::compile(field, None),
        "events" => ChildLevel::<rel::EventsOfProject, Event>::compile(field),
    }
);

shape!(Event, event, store::events::EventFilter, EventOrderFieldInput::Name, EventOrderFieldStore;
    leaves {
        "id" => |m, out| json::id(out, RecordKind::Event, m.id),
        "slug" => |m, out| json::string(out, &m.slug),
        "version" => |m, out| json::int(out, m.version),
        "name" => |m, out| json::string(out, &m.name),
        "kind" => |m, out| json::enumeration(out, EventKind::from(m.kind)),
        "summary" => |m, out| json::optional_string(out, m.summary.as_deref()),
        "startsOn" => |m, out| {
            json::date(
                out,
                PartialDate::from_parts(m.starts_on, m.starts_precision),
            )
        },
        "endsOn" => {
            |m, out| json::date(out, PartialDate::from_parts(m.ends_on, m.ends_precision))
        },
        "location" => |m, out| json::optional_string(out, m.location.as_deref()),
        "recurrence" => |m, out| match m.recurrence {
            Some(recurrence) => json::enumeration(out, Recurrence::from(recurrence)),
            None => json::null(out),
        },
    }
    levels(field) {
        "participants" => LinkLevel::<rel::ParticipantsOfEvent, Organization>::compile(field, None),
        "instruments" => LinkLevel::<rel::InstrumentsOfEvent, Instrument>::compile(field, None),
        "sessions" => ChildLevel::<rel::SessionsOfEvent, Event>::compile(field),
    }
);

shape!(Instrument, instrument, store::instruments::InstrumentFilter, InstrumentOrderFieldInput::Name, InstrumentOrderFieldStore;
    leaves {
        "id" => |m, out| json::id(out, RecordKind::Instrument, m.id),
        "slug" => |m, out| json::string(out, &m.slug),
        "version" => |m, out| json::int(out, m.version),
        "name" => |m, out| json::string(out, &m.name),
        "acronym" => |m, out| json::optional_string(out, m.acronym.as_deref()),
        "kind" => |m, out| json::enumeration(out, InstrumentKind::from(m.kind)),
        "adoptedOn" => |m, out| {
            json::date(
                out,
                PartialDate::from_parts(m.adopted_on, m.adopted_precision),
            )
        },
        "url" => |m, out| json::optional_string(out, m.url.as_deref()),
        "description" => |m, out| json::optional_string(out, m.description.as_deref()),
    }
    levels(field) {
        "agreements" => LinkLevel::<rel::AgreementsOfInstrument, Agreement>::compile(field, None),
        "projects" => LinkLevel::<rel::ProjectsOfInstrument, Project>::compile(field, None),
        "events" => LinkLevel::<rel::EventsOfInstrument, Event>::compile(field, None),
    }
);

/// Implements [`Edge`] for the link model of each link table of `store::link_tables`: its role
/// is written by the API enum of the same name.
macro_rules! edges {
    ($($table:ident { entity: $link:ident, group: $group:ident, role: $role:ident, $($rest:tt)* })*) => {$(
        impl Edge for entity::$link::Model {
            fn role(&self, out: &mut Vec<u8>) {
                json::enumeration(out, $role::from(self.role));
            }
        }
    )*};
}

crate::store::link_tables::link_tables!(edges);
