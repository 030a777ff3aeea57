//! Grouped counts for filter UIs: the numbers next to each choice of a facet. Deprecated: the
//! `groups` field of every connection answers the same (`graphql::aggregates`), nested too.

use async_graphql::{Context, Object, SimpleObject};

use super::{
    enums::{OrganizationKind, ProjectStatus},
    errors::ApiResult,
    filters::{EventFilter, OrganizationFilter, ProjectFilter},
};
use crate::store::{self, Store, facets};

/// How many organizations are of one kind.
#[derive(SimpleObject)]
pub struct OrganizationKindCount {
    /// The kind.
    kind: OrganizationKind,
    /// How many organizations of that kind match the filter.
    count: u64,
}

/// How many projects have one status.
#[derive(SimpleObject)]
pub struct ProjectStatusCount {
    /// The status.
    status: ProjectStatus,
    /// How many projects with that status match the filter.
    count: u64,
}

/// How many events started in one year.
#[derive(SimpleObject)]
pub struct YearCount {
    /// The year; null for events whose date the source does not give.
    year: Option<i32>,
    /// How many matching events started that year.
    count: u64,
}

#[derive(Default)]
pub struct FacetQuery;

#[Object]
impl FacetQuery {
    /// Organizations per kind, most common first (kinds with none are left out).
    #[graphql(
        deprecation = "Use `organizations(filter:) { groups(by: [KIND], orderBy: {field: COUNT, direction: DESC}) { key { kind } count } }`, which also nests and measures more."
    )]
    async fn organization_kind_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count only organizations matching this.")] filter: Option<
            OrganizationFilter,
        >,
    ) -> ApiResult<Vec<OrganizationKindCount>> {
        let filter: store::organizations::OrganizationFilter =
            filter.map(Into::into).unwrap_or_default();
        let db = &ctx.data_unchecked::<Store>().connection;
        let counts = facets::organization_kinds(db, &filter).await?;
        Ok(counts
            .into_iter()
            .map(|(kind, count)| OrganizationKindCount {
                kind: kind.into(),
                count,
            })
            .collect())
    }

    /// Projects per status, most common first (statuses with none are left out).
    #[graphql(
        deprecation = "Use `projects(filter:) { groups(by: [STATUS], orderBy: {field: COUNT, direction: DESC}) { key { status } count } }`, which also nests and measures more."
    )]
    async fn project_status_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count only projects matching this.")] filter: Option<ProjectFilter>,
    ) -> ApiResult<Vec<ProjectStatusCount>> {
        let filter: store::projects::ProjectFilter = filter.map(Into::into).unwrap_or_default();
        let db = &ctx.data_unchecked::<Store>().connection;
        let counts = facets::project_statuses(db, &filter).await?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| ProjectStatusCount {
                status: status.into(),
                count,
            })
            .collect())
    }

    /// Events per year they started in, in year order; undated events come last as a null year.
    #[graphql(
        deprecation = "Use `events(filter:) { groups(by: [START_YEAR]) { key { startYear { kind year } } count } }`: the same years in the same order, undated last as `NO_DATE`."
    )]
    async fn event_year_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count only events matching this.")] filter: Option<EventFilter>,
    ) -> ApiResult<Vec<YearCount>> {
        let filter: store::events::EventFilter = filter.map(Into::into).unwrap_or_default();
        let db = &ctx.data_unchecked::<Store>().connection;
        let counts = facets::event_years(db, &filter).await?;
        Ok(counts
            .into_iter()
            .map(|(year, count)| YearCount { year, count })
            .collect())
    }
}
