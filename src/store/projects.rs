//! Projects: filters and orderings.

use entity::{
    InstrumentRole, ProjectKind, ProjectRole, ProjectStatus, agreement, project,
    project_instrument, project_participant, project_region, project_theme,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    RelationTrait,
};

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
};

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub kind: Option<EnumFilter<ProjectKind>>,
    pub status: Option<EnumFilter<ProjectStatus>>,
    pub starts_on: Option<DateFilter>,
    pub ends_on: Option<DateFilter>,
    /// Covers at least one region matching this.
    pub region: Option<TextFilter>,
    /// Works on at least one theme matching this.
    pub theme: Option<TextFilter>,
    /// Carries out an agreement matching this.
    pub agreement: Option<Box<AgreementFilter>>,
    /// Has at least one participant matching in role and organization.
    pub participants: Option<Box<Link<ProjectRole, OrganizationFilter>>>,
    /// Rests on at least one matching instrument.
    pub instruments: Option<Box<Link<InstrumentRole, InstrumentFilter>>>,
    pub and: Vec<ProjectFilter>,
    pub or: Vec<ProjectFilter>,
    pub not: Option<Box<ProjectFilter>>,
}

impl NamedBySlug for ProjectFilter {
    fn slugs(&self) -> Option<Vec<String>> {
        // Every field named, so that a new one cannot be overlooked here.
        let Self {
            slug,
            name,
            kind,
            status,
            starts_on,
            ends_on,
            region,
            theme,
            agreement,
            participants,
            instruments,
            and,
            or,
            not,
        } = self;
        if !(name.is_none()
            && kind.is_none()
            && status.is_none()
            && starts_on.is_none()
            && ends_on.is_none()
            && region.is_none()
            && theme.is_none()
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

impl ProjectFilter {
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

impl ProjectFilter {
    /// The count of the projects this filter matches from link rows alone, when it is one
    /// relation (participants or instruments) named by slug, with at most dates besides
    /// ([`count_by_links`]).
    pub fn count_by_links(&self) -> Option<SelectStatement> {
        let ProjectFilter {
            slug: None,
            name: None,
            kind: None,
            status: None,
            starts_on,
            ends_on,
            region: None,
            theme: None,
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
                project_participant,
                ProjectId,
                OrganizationId,
                link,
                &order_keys::PROJECT,
                &dates
            ),
            (None, Some(link)) => count_links!(
                project_instrument,
                ProjectId,
                InstrumentId,
                link,
                &order_keys::PROJECT,
                &dates
            ),
            _ => None,
        }
    }
}

impl ProjectFilter {
    pub fn condition(&self) -> Condition {
        use project::Column as C;
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
        if let Some(f) = &self.status {
            own = own.add(f.condition(C::Status));
        }
        if let Some(f) = &self.starts_on {
            own = own.add(f.condition(C::StartsOn));
        }
        if let Some(f) = &self.ends_on {
            own = own.add(f.condition(C::EndsOn));
        }
        if let Some(f) = &self.region {
            let ids = project_region::Entity::find()
                .select_only()
                .column(project_region::Column::ProjectId)
                .filter(f.condition(project_region::Column::Region))
                .into_query();
            own = own.add(C::Id.in_subquery(ids));
        }
        if let Some(f) = &self.theme {
            let ids = project_theme::Entity::find()
                .select_only()
                .column(project_theme::Column::ProjectId)
                .filter(f.condition(project_theme::Column::Theme))
                .into_query();
            own = own.add(C::Id.in_subquery(ids));
        }
        if let Some(f) = &self.agreement {
            own = own.add(references::<agreement::Entity>(
                C::AgreementId,
                agreement::Column::Id,
                f.condition(),
            ));
        }
        if let Some(link) = &self.participants {
            use project_participant::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<project_participant::Entity, _, _>(
                    L::ProjectId,
                    (L::OrganizationId, Relation::Organization.def()),
                    L::Role,
                    link,
                    OrganizationFilter::condition,
                )),
            );
        }
        if let Some(link) = &self.instruments {
            use project_instrument::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<project_instrument::Entity, _, _>(
                    L::ProjectId,
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

/// What projects can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectOrderField {
    Name,
    Slug,
    Kind,
    Status,
    StartsOn,
    EndsOn,
}

impl ProjectOrderField {
    pub fn key(self, direction: Direction) -> SortKey<project::Column> {
        use project::Column as C;
        let column = match self {
            Self::Name => C::Name,
            Self::Slug => C::Slug,
            Self::Kind => C::Kind,
            Self::Status => C::Status,
            Self::StartsOn => C::StartsOn,
            Self::EndsOn => C::EndsOn,
        };
        SortKey { column, direction }
    }
}
