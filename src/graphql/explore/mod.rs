//! The partnership graph: an organization's partners, the shortest paths between two
//! organizations, and a neighbourhood ready to draw. The store walks the graph
//! (`store::explore`); the records on the way are loaded through the request's loader, one
//! statement per kind however many there are.
//!
//! This module holds the kinds of shared record, the record loading the three share and the root
//! fields; `partners`, `paths` and `network` hold the types of each.

mod network;
mod partners;
mod paths;

use std::collections::HashMap;

use async_graphql::{Context, Enum, Object, Union};
use entity::{agreement, event, organization, project};

use super::{
    agreement::Agreement,
    connection::loader,
    errors::{ApiError, ApiResult},
    event::Event,
    ids::RecordKind,
    loaders::ById,
    lookup::{self, RecordKey},
    organization::Organization,
    project::Project,
};
use crate::{
    error::AppError,
    store::{
        Store,
        explore::{self, SharedKind, WalkLimits},
        records::Record,
    },
};

pub use network::{Network, network_of};
pub use partners::{PartnerList, partners_of};
pub use paths::{MAX_HOPS, MAX_PATHS, OrganizationPath};

/// A kind of record that connects organizations.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "crate::store::explore::SharedKind")]
pub enum SharedRecordKind {
    /// An agreement both are party to.
    Agreement,
    /// A project both take part in.
    Project,
    /// An event both take part in.
    Event,
}

fn kinds(via: Option<Vec<SharedRecordKind>>) -> Vec<SharedKind> {
    explore::kinds_or_all(via.map(|v| v.into_iter().map(Into::into).collect()))
}

/// A record two organizations share.
#[derive(Union, Clone)]
pub enum SharedRecord {
    Agreement(Agreement),
    Project(Project),
    Event(Event),
}

/// Records of kind `E` by id, through the request's loader (one statement per batch).
pub async fn records<E>(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i64>,
) -> ApiResult<HashMap<i64, E::Model>>
where
    E: Record + 'static,
    E::Model: Clone + Send + Sync,
{
    let found = loader(ctx)
        .load_many(ids.into_iter().map(ById::<E>::new))
        .await?;
    Ok(found.into_iter().map(|(k, v)| (k.0, v)).collect())
}

/// The records in `ids`, in that order; a record deleted meanwhile is left out.
async fn in_order<E, T>(
    ctx: &Context<'_>,
    ids: &[i64],
    wrap: impl Fn(E::Model) -> T,
) -> ApiResult<Vec<T>>
where
    E: Record + 'static,
    E::Model: Clone + Send + Sync,
{
    let mut found = records::<E>(ctx, ids.iter().copied()).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.remove(id).map(&wrap))
        .collect())
}

async fn shared_record(ctx: &Context<'_>, kind: SharedKind, id: i64) -> ApiResult<SharedRecord> {
    let record = match kind {
        SharedKind::Agreement => lookup::referenced::<agreement::Entity>(ctx, Some(id))
            .await?
            .map(|m| SharedRecord::Agreement(Agreement(m))),
        SharedKind::Project => lookup::referenced::<project::Entity>(ctx, Some(id))
            .await?
            .map(|m| SharedRecord::Project(Project(m))),
        SharedKind::Event => lookup::referenced::<event::Entity>(ctx, Some(id))
            .await?
            .map(|m| SharedRecord::Event(Event(m))),
    };
    record.ok_or_else(|| {
        ApiError::from(AppError::NotFound {
            entity: "record",
            key: id.to_string(),
        })
    })
}

async fn organization(ctx: &Context<'_>, id: i64) -> ApiResult<Organization> {
    lookup::referenced::<organization::Entity>(ctx, Some(id))
        .await?
        .map(Organization)
        .ok_or_else(|| {
            ApiError::from(AppError::NotFound {
                entity: "organization",
                key: id.to_string(),
            })
        })
}

fn bad(field: &str, message: String) -> ApiError {
    AppError::bad_field(field, message).into()
}

/// The organization a key names, or NOT_FOUND.
async fn organization_id(ctx: &Context<'_>, field: &str, key: RecordKey) -> ApiResult<i64> {
    let shown = match &key {
        RecordKey::Id(id) => id.to_string(),
        RecordKey::Slug(slug) => slug.clone(),
    };
    match lookup::find::<organization::Entity>(ctx, key, RecordKind::Organization).await? {
        Some(org) => Ok(org.id),
        None => Err(ApiError::from(AppError::NotFound {
            entity: "organization",
            key: format!("{shown} (`{field}`)"),
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Root fields

#[derive(Default)]
pub struct ExploreQuery;

#[Object]
impl ExploreQuery {
    /// The shortest chains of shared records linking two organizations (how is OHCHR connected
    /// to WAIPA?): each path goes organization → shared records → organization → …, as many
    /// hops as the shortest takes and no more than `maxHops`; paths differ in the organizations
    /// they pass through. Empty when the two are further apart.
    /// Walking past 2,000 organizations is refused (BAD_USER_INPUT): ask for fewer hops.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where the paths start: an organization's global ID or slug.")]
        from: RecordKey,
        #[graphql(desc = "Where the paths end: an organization's global ID or slug.")]
        to: RecordKey,
        #[graphql(desc = "The longest path to look for, in steps: 3 when omitted, at most 4.")]
        max_hops: Option<i32>,
        #[graphql(desc = "Only through these kinds of record; all kinds when omitted or empty.")]
        via: Option<Vec<SharedRecordKind>>,
        #[graphql(desc = "How many of the shortest paths to return: 10 when omitted, at most 50.")]
        first: Option<i32>,
    ) -> ApiResult<Vec<OrganizationPath>> {
        let max_hops = max_hops.unwrap_or(3);
        if !(1..=MAX_HOPS).contains(&max_hops) {
            return Err(bad(
                "maxHops",
                format!("`maxHops` is {max_hops}; it must be between 1 and {MAX_HOPS}"),
            ));
        }
        let first = first.unwrap_or(10);
        if !(1..=MAX_PATHS).contains(&first) {
            return Err(bad(
                "first",
                format!("`first` is {first}; it must be between 1 and {MAX_PATHS}"),
            ));
        }
        let from = organization_id(ctx, "from", from).await?;
        let to = organization_id(ctx, "to", to).await?;
        if from == to {
            return Err(bad(
                "to",
                "`from` and `to` name the same organization".to_owned(),
            ));
        }
        let store = ctx.data_unchecked::<Store>();
        let paths = explore::shortest_paths(
            &store.connection,
            from,
            to,
            &kinds(via),
            max_hops as u32,
            first as usize,
            WalkLimits::default(),
        )
        .await?;
        Ok(paths.into_iter().map(OrganizationPath).collect())
    }

    /// Records matching a full-text query across organizations, agreements, projects, events
    /// and instruments, best first, each with its type, its rank and a highlighted snippet.
    /// Words must all match (`or` and `-word` work too), `"quoted phrases"` match as phrases,
    /// `word*` matches as a prefix; case and accents are ignored. On the embedded SQLite store
    /// `or` is not supported (every word must match) and ranks are on another scale.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to look for (at most 200 characters).")] query: String,
        #[graphql(desc = "Only these types of record; all when omitted or empty.")] types: Option<
            Vec<super::search::SearchType>,
        >,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the hits after this cursor (from the same search).")]
        after: Option<String>,
    ) -> ApiResult<super::search::SearchConnection> {
        super::search::search(ctx, query, types, first, after).await
    }

    /// Dated activity in date order: agreements signed, projects started and ended, events held,
    /// organizations joining agreements (a party's `since`). Records and links without such a
    /// date are left out (no date is invented); a partial date (`2020`) sorts and filters as the
    /// first day of its period.
    #[expect(
        clippy::too_many_arguments,
        reason = "a timeline takes an organization, a period, kinds and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only records this organization takes part in, and its own joinings (global ID or slug); everything when omitted."
        )]
        organization: Option<RecordKey>,
        #[graphql(desc = "Only entries dated on or after the start of this period.")] from: Option<
            crate::dates::PartialDate,
        >,
        #[graphql(desc = "Only entries dated on or before the end of this period.")] to: Option<
            crate::dates::PartialDate,
        >,
        #[graphql(desc = "Only these kinds of entry; all when omitted or empty.")] kinds: Option<
            Vec<super::timeline::TimelineEntryKind>,
        >,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the entries after this cursor (from the same timeline).")]
        after: Option<String>,
    ) -> ApiResult<super::timeline::TimelineConnection> {
        let organization = match organization {
            Some(key) => Some(organization_id(ctx, "organization", key).await?),
            None => None,
        };
        super::timeline::timeline(ctx, organization, from, to, kinds, first, after).await
    }
}
