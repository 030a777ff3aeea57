//! Events: filters and orderings.

use entity::{
    EventKind, EventRole, InstrumentRole, Recurrence, agreement, event, event_instrument,
    event_participant, project,
};
use sea_orm::{ColumnTrait, Condition, RelationTrait};

use super::{
    agreements::AgreementFilter,
    filter::{DateFilter, EnumFilter, Link, TextFilter, combine, linked_ids, references},
    instruments::InstrumentFilter,
    organizations::OrganizationFilter,
    page::{Direction, SortKey},
    projects::ProjectFilter,
};

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub kind: Option<EnumFilter<EventKind>>,
    pub starts_on: Option<DateFilter>,
    pub ends_on: Option<DateFilter>,
    pub location: Option<TextFilter>,
    pub recurrence: Option<EnumFilter<Recurrence>>,
    /// Is held inside an event matching this (a session of a forum).
    pub parent: Option<Box<EventFilter>>,
    /// Belongs to a project matching this.
    pub project: Option<Box<ProjectFilter>>,
    /// Is held under an agreement matching this.
    pub agreement: Option<Box<AgreementFilter>>,
    /// Has at least one participant matching in role and organization.
    pub participants: Option<Box<Link<EventRole, OrganizationFilter>>>,
    /// Refers to at least one matching instrument.
    pub instruments: Option<Box<Link<InstrumentRole, InstrumentFilter>>>,
    pub and: Vec<EventFilter>,
    pub or: Vec<EventFilter>,
    pub not: Option<Box<EventFilter>>,
}

impl EventFilter {
    pub fn condition(&self) -> Condition {
        use event::Column as C;
        let mut own = Condition::all();
        if let Some(f) = &self.slug {
            own = own.add(f.condition(C::Slug));
        }
        if let Some(f) = &self.name {
            own = own.add(f.condition(C::Name));
        }
        if let Some(f) = &self.kind {
            own = own.add(f.condition(C::Kind));
        }
        if let Some(f) = &self.starts_on {
            own = own.add(f.condition(C::StartsOn));
        }
        if let Some(f) = &self.ends_on {
            own = own.add(f.condition(C::EndsOn));
        }
        if let Some(f) = &self.location {
            own = own.add(f.condition(C::Location));
        }
        if let Some(f) = &self.recurrence {
            own = own.add(f.condition(C::Recurrence));
        }
        if let Some(f) = &self.parent {
            own = own.add(references::<event::Entity>(
                C::ParentId,
                C::Id,
                f.condition(),
            ));
        }
        if let Some(f) = &self.project {
            own = own.add(references::<project::Entity>(
                C::ProjectId,
                project::Column::Id,
                f.condition(),
            ));
        }
        if let Some(f) = &self.agreement {
            own = own.add(references::<agreement::Entity>(
                C::AgreementId,
                agreement::Column::Id,
                f.condition(),
            ));
        }
        if let Some(link) = &self.participants {
            use event_participant::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<event_participant::Entity, _, _>(
                    L::EventId,
                    Relation::Organization.def(),
                    L::Role,
                    link,
                    OrganizationFilter::condition,
                )),
            );
        }
        if let Some(link) = &self.instruments {
            use event_instrument::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<event_instrument::Entity, _, _>(
                    L::EventId,
                    Relation::Instrument.def(),
                    L::Role,
                    link,
                    InstrumentFilter::condition,
                )),
            );
        }
        combine(
            own,
            &self.and,
            &self.or,
            self.not.as_deref(),
            Self::condition,
        )
    }
}

/// What events can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOrderField {
    Name,
    Slug,
    Kind,
    StartsOn,
    EndsOn,
}

impl EventOrderField {
    pub fn key(self, direction: Direction) -> SortKey<event::Column> {
        use event::Column as C;
        let column = match self {
            Self::Name => C::Name,
            Self::Slug => C::Slug,
            Self::Kind => C::Kind,
            Self::StartsOn => C::StartsOn,
            Self::EndsOn => C::EndsOn,
        };
        SortKey { column, direction }
    }
}
