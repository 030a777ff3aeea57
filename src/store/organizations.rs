//! Organizations: filters and orderings.

use entity::{
    EventRole, OrganizationKind, PartyRole, ProjectRole, agreement_party, event_participant,
    organization, project_participant,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, RelationTrait};

use migration::m20261201_000001_link_order_keys as order_keys;
use sea_orm::sea_query::SelectStatement;

use crate::error::AppResult;

use super::{
    agreements::AgreementFilter,
    events::EventFilter,
    filter::{
        EnumFilter, Link, NamedBySlug, TextFilter, combine, count_links, linked_ids, references,
    },
    page::{Direction, SortKey},
    projects::ProjectFilter,
};

#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub acronym: Option<TextFilter>,
    pub kind: Option<EnumFilter<OrganizationKind>>,
    /// Has a parent matching this filter.
    pub parent: Option<Box<OrganizationFilter>>,
    /// Is party, in a matching role, to at least one matching agreement.
    pub agreements: Option<Box<Link<PartyRole, AgreementFilter>>>,
    /// Takes part, in a matching role, in at least one matching project.
    pub projects: Option<Box<Link<ProjectRole, ProjectFilter>>>,
    /// Takes part, in a matching role, in at least one matching event.
    pub events: Option<Box<Link<EventRole, EventFilter>>>,
    pub and: Vec<OrganizationFilter>,
    pub or: Vec<OrganizationFilter>,
    pub not: Option<Box<OrganizationFilter>>,
}

impl NamedBySlug for OrganizationFilter {
    fn slugs(&self) -> Option<Vec<String>> {
        // Every field named, so that a new one cannot be overlooked here.
        let Self {
            slug,
            name,
            acronym,
            kind,
            parent,
            agreements,
            projects,
            events,
            and,
            or,
            not,
        } = self;
        if !(name.is_none()
            && acronym.is_none()
            && kind.is_none()
            && parent.is_none()
            && agreements.is_none()
            && projects.is_none()
            && events.is_none()
            && not.is_none()
            && and.is_empty()
            && or.is_empty())
        {
            return None;
        }
        slug.as_ref().and_then(TextFilter::exact_values)
    }
}

impl OrganizationFilter {
    /// Looks up the records that this filter's relations name by slug alone (not inside `and`,
    /// `or` or `not`), so that the statement compares with their ids.
    pub async fn resolve_links(&mut self, db: &impl ConnectionTrait) -> AppResult<()> {
        if let Some(link) = &mut self.agreements {
            link.resolve::<entity::agreement::Entity>(db).await?;
        }
        if let Some(link) = &mut self.projects {
            link.resolve::<entity::project::Entity>(db).await?;
        }
        if let Some(link) = &mut self.events {
            link.resolve::<entity::event::Entity>(db).await?;
        }
        Ok(())
    }
}

impl OrganizationFilter {
    /// The count of the organizations this filter matches from link rows alone, when it is one
    /// relation (agreements, projects or events) named by slug and nothing else
    /// ([`count_by_links`]).
    pub fn count_by_links(&self) -> Option<SelectStatement> {
        let OrganizationFilter {
            slug: None,
            name: None,
            acronym: None,
            kind: None,
            parent: None,
            agreements,
            projects,
            events,
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
        let side = &order_keys::ORGANIZATION;
        match (agreements, projects, events) {
            (Some(link), None, None) => count_links!(
                agreement_party,
                OrganizationId,
                AgreementId,
                link,
                side,
                &[]
            ),
            (None, Some(link), None) => count_links!(
                project_participant,
                OrganizationId,
                ProjectId,
                link,
                side,
                &[]
            ),
            (None, None, Some(link)) => {
                count_links!(event_participant, OrganizationId, EventId, link, side, &[])
            }
            _ => None,
        }
    }
}

impl OrganizationFilter {
    pub fn condition(&self) -> Condition {
        use organization::Column as C;
        let mut own = Condition::all();
        if let Some(f) = &self.slug {
            own = own.add(f.condition(C::Slug));
        }
        if let Some(f) = &self.name {
            own = own.add(f.condition(C::Name));
        }
        if let Some(f) = &self.acronym {
            own = own.add(f.condition(C::Acronym));
        }
        if let Some(f) = &self.kind {
            own = own.add(f.condition(C::Kind));
        }
        if let Some(parent) = &self.parent {
            own = own.add(references::<organization::Entity>(
                C::ParentId,
                C::Id,
                parent.condition(),
            ));
        }
        if let Some(link) = &self.agreements {
            use agreement_party::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<agreement_party::Entity, _, _>(
                    L::OrganizationId,
                    (L::AgreementId, Relation::Agreement.def()),
                    L::Role,
                    link,
                    AgreementFilter::condition,
                )),
            );
        }
        if let Some(link) = &self.projects {
            use project_participant::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<project_participant::Entity, _, _>(
                    L::OrganizationId,
                    (L::ProjectId, Relation::Project.def()),
                    L::Role,
                    link,
                    ProjectFilter::condition,
                )),
            );
        }
        if let Some(link) = &self.events {
            use event_participant::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<event_participant::Entity, _, _>(
                    L::OrganizationId,
                    (L::EventId, Relation::Event.def()),
                    L::Role,
                    link,
                    EventFilter::condition,
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

/// What organizations can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationOrderField {
    Name,
    Slug,
    Acronym,
    Kind,
}

impl OrganizationOrderField {
    pub fn key(self, direction: Direction) -> SortKey<organization::Column> {
        use organization::Column as C;
        let column = match self {
            Self::Name => C::Name,
            Self::Slug => C::Slug,
            Self::Acronym => C::Acronym,
            Self::Kind => C::Kind,
        };
        SortKey { column, direction }
    }
}
