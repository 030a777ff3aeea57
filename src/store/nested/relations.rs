//! The relations nested connections follow: each link relation (through a link table with a
//! role; two for each row of `store::link_tables`) and each child relation (a table holding its
//! parent's id), declared by macro.

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

/// Declares the two relations of each link table of `store::link_tables`: from the owner to
/// its targets, and from the target to its owners.
macro_rules! link_relations {
    ($($table:ident {
        entity: $link:ident,
        group: $group:ident,
        role: $role:ident,
        words: $words:tt,
        owner: $owner:ident . $owner_col:ident ($owner_rel:ident, $owner_filter:ident, $owner_keys:ident),
        target: $target:ident . $target_col:ident ($target_rel:ident, $target_filter:ident, $target_keys:ident),
        relations: ($to_targets:ident, $to_owners:ident),
        $($rest:tt)*
    })*) => {$(
        link_relation!($to_targets, $link, $target, $role, $target_filter, $owner_col, $target_rel, $target_col, $target_keys);
        link_relation!($to_owners, $link, $owner, $role, $owner_filter, $target_col, $owner_rel, $owner_col, $owner_keys);
    )*};
}

crate::store::link_tables::link_tables!(link_relations);

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
