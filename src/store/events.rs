//! Events: filters and orderings.

use entity::{
    EventKind, EventRole, InstrumentRole, Recurrence, agreement, event, event_instrument,
    event_participant, project,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, RelationTrait};

use migration::m20261201_000001_link_order_keys as order_keys;
use sea_orm::sea_query::SelectStatement;

use crate::error::AppResult;

use super::{
    agreements::AgreementFilter,
    filter::{
        DateFilter, EnumFilter, Link, NamedBySlug, TextFilter, combine, count_links, linked_ids,
        references,
    },
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

impl NamedBySlug for EventFilter {
    fn slugs(&self) -> Option<Vec<String>> {
        // Every field named, so that a new one cannot be overlooked here.
        let Self {
            slug,
            name,
            kind,
            starts_on,
            ends_on,
            location,
            recurrence,
            parent,
            project,
            agreement,
            participants,
            instruments,
            and,
            or,
            not,
        } = self;
        if !(name.is_none()
            && kind.is_none()
            && starts_on.is_none()
            && ends_on.is_none()
            && location.is_none()
            && recurrence.is_none()
            && parent.is_none()
            && project.is_none()
            && agreement.is_none()
            && participants.is_none()
            && instruments.is_none()
            && not.is_none()
            && and.is_empty()
            && or.is_empty())
        {
            return None;
        }
        slug.as_ref().and_then(TextFilter::exact_values)
    }
}

impl EventFilter {
    /// Looks up the records that this filter's relations name by slug alone (not inside `and`,
    /// `or` or `not`), so that the statement compares with their ids.
    pub async fn resolve_links(&mut self, db: &impl ConnectionTrait) -> AppResult<()> {
        if let Some(link) = &mut self.participants {
            link.resolve::<entity::organization::Entity>(db).await?;
        }
        if let Some(link) = &mut self.instruments {
            link.resolve::<entity::instrument::Entity>(db).await?;
        }
        Ok(())
    }
}

impl EventFilter {
    /// The count of the events this filter matches from link rows alone, when it is one
    /// relation (participants or instruments) named by slug, with at most dates besides
    /// ([`count_by_links`]).
    pub fn count_by_links(&self) -> Option<SelectStatement> {
        let EventFilter {
            slug: None,
            name: None,
            kind: None,
            starts_on,
            ends_on,
            location: None,
            recurrence: None,
            parent: None,
            project: None,
            agreement: None,
            participants,
            instruments,
            and,
            or,
            not: None,
        } = self
        else {
            return None;
        };
        if !and.is_empty() || !or.is_empty() {
            return None;
        }
        let dates = [("starts_on", starts_on), ("ends_on", ends_on)];
        match (participants, instruments) {
            (Some(link), None) => count_links!(
                event_participant,
                EventId,
                OrganizationId,
                link,
                &order_keys::EVENT,
                &dates
            ),
            (None, Some(link)) => count_links!(
                event_instrument,
                EventId,
                InstrumentId,
                link,
                &order_keys::EVENT,
                &dates
            ),
            _ => None,
        }
    }
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
                    (L::OrganizationId, Relation::Organization.def()),
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
                    (L::InstrumentId, Relation::Instrument.def()),
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

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::PostgresQueryBuilder;

    use super::*;

    /// The filtered-list workload's filter once the ILO's slug is resolved to its id.
    fn ilo_since_2015() -> EventFilter {
        let mut link = Link::new(None, None);
        link.target_ids = Some(vec![1]);
        EventFilter {
            participants: Some(Box::new(link)),
            starts_on: Some(DateFilter {
                from: "2015".parse().ok(),
                ..DateFilter::default()
            }),
            ..EventFilter::default()
        }
    }

    #[test]
    fn a_relation_named_by_slug_with_copied_dates_is_counted_from_the_link_rows() {
        let sql = ilo_since_2015()
            .count_by_links()
            .map(|statement| statement.to_string(PostgresQueryBuilder))
            .unwrap_or_default();
        assert!(
            sql.contains(r#"COUNT(DISTINCT "event_participants"."event_id")"#)
                && sql.contains(r#""event_participants"."organization_id" IN (1)"#)
                && sql.contains(r#""event_participants"."event_starts_on" >= '2015-01-01'"#)
                && !sql.contains(r#""events""#),
            "{sql}"
        );
    }

    #[test]
    fn any_other_filter_takes_the_general_count() {
        let unresolved = EventFilter {
            participants: Some(Box::new(Link::new(
                None,
                Some(OrganizationFilter::default()),
            ))),
            ..EventFilter::default()
        };
        let named = EventFilter {
            name: Some(TextFilter {
                eq: Some("Forum".into()),
                ..TextFilter::default()
            }),
            ..ilo_since_2015()
        };
        let nested = EventFilter {
            and: vec![ilo_since_2015()],
            ..EventFilter::default()
        };
        let both = EventFilter {
            instruments: ilo_since_2015().participants.map(|link| {
                let mut other = Link::new(None, None);
                other.target_ids = link.target_ids;
                Box::new(other)
            }),
            ..ilo_since_2015()
        };
        for (why, filter) in [
            ("ids not resolved", unresolved),
            ("a condition the links do not copy", named),
            ("inside and", nested),
            ("two relations", both),
        ] {
            assert!(filter.count_by_links().is_none(), "{why}");
        }
    }
}
