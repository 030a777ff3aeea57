//! The partnership graph: an organization's partners, the shortest paths between two
//! organizations, and a neighbourhood ready to draw. The store walks the graph
//! (`store::explore`); the records on the way are loaded through the request's loader, one
//! statement per kind however many there are.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Union, dataloader::Loader};
use entity::{agreement, event, organization, project};

use super::{
    agreement::Agreement,
    connection::loader,
    errors::{ApiError, ApiResult},
    event::Event,
    ids::{self, NodeType},
    loaders::{ById, StoreLoader, logged},
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

/// A kind of record that connects organizations.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharedRecordKind {
    /// An agreement both are party to.
    Agreement,
    /// A project both take part in.
    Project,
    /// An event both take part in.
    Event,
}

impl From<SharedRecordKind> for SharedKind {
    fn from(k: SharedRecordKind) -> Self {
        match k {
            SharedRecordKind::Agreement => SharedKind::Agreement,
            SharedRecordKind::Project => SharedKind::Project,
            SharedRecordKind::Event => SharedKind::Event,
        }
    }
}

impl From<SharedKind> for SharedRecordKind {
    fn from(k: SharedKind) -> Self {
        match k {
            SharedKind::Agreement => SharedRecordKind::Agreement,
            SharedKind::Project => SharedRecordKind::Project,
            SharedKind::Event => SharedRecordKind::Event,
        }
    }
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

// ---------------------------------------------------------------------------------------------
// Partners

/// The partners of one organization: which kinds count, and how many to return.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartnersKey {
    pub organization: i64,
    pub kinds: Vec<SharedKind>,
    pub first: u64,
}

impl Loader<PartnersKey> for StoreLoader {
    type Value = (Vec<explore::Partner>, u64);
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[PartnersKey],
    ) -> Result<HashMap<PartnersKey, Self::Value>, Self::Error> {
        // One statement per distinct (kinds, first), for all the organizations asking it.
        let mut groups: HashMap<(Vec<SharedKind>, u64), Vec<i64>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.kinds.clone(), key.first))
                .or_default()
                .push(key.organization);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((kinds, first), orgs) in groups {
            let mut found = explore::partners(self.db(), &orgs, &kinds, first)
                .await
                .map_err(logged)?;
            for org in orgs {
                let value = found.remove(&org).unwrap_or_default();
                out.insert(
                    PartnersKey {
                        organization: org,
                        kinds: kinds.clone(),
                        first,
                    },
                    value,
                );
            }
        }
        Ok(out)
    }
}

/// Most partners one list returns.
const MAX_PARTNERS: i32 = 100;

/// The partners of `organization` (see `Organization.partners`).
pub async fn partners_of(
    ctx: &Context<'_>,
    organization: i64,
    via: Option<Vec<SharedRecordKind>>,
    first: Option<i32>,
) -> ApiResult<PartnerList> {
    let first = match first {
        None => 20,
        Some(n) if (0..=MAX_PARTNERS).contains(&n) => n as u64,
        Some(n) => {
            return Err(ApiError::from({
                AppError::bad_field(
                    "first",
                    format!("`first` is {n}; it must be between 0 and {MAX_PARTNERS}"),
                )
            }));
        }
    };
    let key = PartnersKey {
        organization,
        kinds: kinds(via),
        first,
    };
    let (partners, total_count) = loader(ctx).load_one(key).await?.unwrap_or_default();
    Ok(PartnerList {
        nodes: partners.into_iter().map(Partner).collect(),
        total_count,
    })
}

/// An organization's partners, strongest first.
#[derive(SimpleObject)]
pub struct PartnerList {
    /// The strongest partners (as many as asked for), by strength and then by name.
    pub nodes: Vec<Partner>,
    /// How many partners the organization has in all (through the kinds asked for).
    pub total_count: u64,
}

/// Another organization connected to this one, and what connects them.
pub struct Partner(explore::Partner);

impl Partner {
    fn ids(&self, kind: SharedKind) -> &[i64] {
        self.0.shared.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Another organization connected to this one, and what connects them.
#[Object]
impl Partner {
    /// The partner.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        organization(ctx, self.0.organization).await
    }

    /// How many records the two share (agreements, projects and events together).
    async fn strength(&self) -> usize {
        self.0.strength
    }

    /// The kinds of record the two share.
    async fn kinds(&self) -> Vec<SharedRecordKind> {
        self.0.shared.keys().map(|k| (*k).into()).collect()
    }

    /// The agreements both are party to, by title (at most 100).
    async fn agreements(&self, ctx: &Context<'_>) -> ApiResult<Vec<Agreement>> {
        let mut list =
            in_order::<agreement::Entity, _>(ctx, self.ids(SharedKind::Agreement), Agreement)
                .await?;
        list.sort_by(|a, b| a.0.title.cmp(&b.0.title));
        Ok(list)
    }

    /// The projects both take part in, by name (at most 100).
    async fn projects(&self, ctx: &Context<'_>) -> ApiResult<Vec<Project>> {
        let mut list =
            in_order::<project::Entity, _>(ctx, self.ids(SharedKind::Project), Project).await?;
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }

    /// The events both take part in, by name (at most 100).
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<Event>> {
        let mut list =
            in_order::<event::Entity, _>(ctx, self.ids(SharedKind::Event), Event).await?;
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }
}

// ---------------------------------------------------------------------------------------------
// Paths

/// Most hops a path may have.
pub const MAX_HOPS: i32 = 4;
/// Most paths one answer holds.
pub const MAX_PATHS: i32 = 50;

/// A chain of organizations, each sharing records with the next.
pub struct OrganizationPath(Vec<explore::Step>);

/// A chain of organizations linking two organizations, each sharing records with the next.
#[Object]
impl OrganizationPath {
    /// How many steps the chain takes.
    async fn hops(&self) -> usize {
        self.0.len()
    }

    /// The steps, in order: each from an organization, through the records it shares with the
    /// next, to that organization.
    async fn steps(&self) -> Vec<PathStep> {
        self.0.iter().cloned().map(PathStep).collect()
    }
}

/// One step of a path: two organizations and the records they share.
pub struct PathStep(explore::Step);

/// One step of a path: two organizations and the records they share.
#[Object]
impl PathStep {
    /// Where the step starts.
    async fn from(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        organization(ctx, self.0.from).await
    }

    /// The kinds of record that link the two.
    async fn kinds(&self) -> Vec<SharedRecordKind> {
        let mut kinds: Vec<SharedKind> = self.0.shared.iter().map(|(k, _)| *k).collect();
        kinds.dedup();
        kinds.into_iter().map(Into::into).collect()
    }

    /// The records both share (agreements, then projects, then events), at least one.
    async fn via(&self, ctx: &Context<'_>) -> ApiResult<Vec<SharedRecord>> {
        let records = self
            .0
            .shared
            .iter()
            .map(|(kind, id)| shared_record(ctx, *kind, *id));
        futures::future::try_join_all(records).await
    }

    /// Where the step ends.
    async fn to(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        organization(ctx, self.0.to).await
    }
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
    match lookup::find::<organization::Entity>(ctx, key, NodeType::Organization).await? {
        Some(org) => Ok(org.id),
        None => Err(ApiError::from(AppError::NotFound {
            entity: "organization",
            key: format!("{shown} (`{field}`)"),
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Network

/// Deepest neighbourhood one may ask for.
pub const MAX_DEPTH: i32 = 3;

/// An organization's partnership graph up to a small depth: nodes and weighted links, ready for
/// a force-directed drawing.
pub struct Network {
    nodes: Vec<(i64, u32)>,
    links: Vec<explore::NetworkLink>,
}

/// An organization's partnership graph up to a small depth: nodes and weighted links, ready for
/// a force-directed drawing.
#[Object]
impl Network {
    /// The organizations reached, the centre first, then by distance.
    async fn nodes(&self) -> Vec<NetworkNode> {
        self.nodes
            .iter()
            .map(|(id, depth)| NetworkNode {
                id: *id,
                depth: *depth,
            })
            .collect()
    }

    /// Every pair of organizations in `nodes` that share records, once per pair.
    async fn links(&self) -> Vec<NetworkLink> {
        self.links.iter().cloned().map(NetworkLink).collect()
    }
}

/// An organization in a neighbourhood.
pub struct NetworkNode {
    id: i64,
    depth: u32,
}

/// An organization in a neighbourhood.
#[Object]
impl NetworkNode {
    /// The organization's global ID (what links name as `source` and `target`).
    async fn id(&self) -> ID {
        ids::encode(NodeType::Organization, self.id)
    }

    /// How many hops from the centre (the centre is 0).
    async fn depth(&self) -> u32 {
        self.depth
    }

    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        organization(ctx, self.id).await
    }
}

/// Two organizations of a neighbourhood that share records.
pub struct NetworkLink(explore::NetworkLink);

/// Two organizations of a neighbourhood that share records.
#[Object]
impl NetworkLink {
    /// One end: the global ID of a node.
    async fn source(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.source)
    }

    /// The other end: the global ID of a node.
    async fn target(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.target)
    }

    /// How many records the two share (a weight for the drawing).
    async fn weight(&self) -> usize {
        self.0.counts.values().sum()
    }

    /// The kinds of record the two share.
    async fn kinds(&self) -> Vec<SharedRecordKind> {
        self.0.counts.keys().map(|k| (*k).into()).collect()
    }

    /// How many agreements both are party to.
    async fn agreements(&self) -> usize {
        self.count(SharedKind::Agreement)
    }

    /// How many projects both take part in.
    async fn projects(&self) -> usize {
        self.count(SharedKind::Project)
    }

    /// How many events both take part in.
    async fn events(&self) -> usize {
        self.count(SharedKind::Event)
    }
}

impl NetworkLink {
    fn count(&self, kind: SharedKind) -> usize {
        self.0.counts.get(&kind).copied().unwrap_or(0)
    }
}

/// The neighbourhood of `organization` (see `Organization.network`).
pub async fn network_of(
    ctx: &Context<'_>,
    organization: i64,
    depth: i32,
    via: Option<Vec<SharedRecordKind>>,
    max_nodes: i32,
) -> ApiResult<Network> {
    if !(1..=MAX_DEPTH).contains(&depth) {
        return Err(bad(
            "depth",
            format!("`depth` is {depth}; it must be between 1 and {MAX_DEPTH}"),
        ));
    }
    let limit = explore::MAX_NETWORK_NODES as i32;
    if !(1..=limit).contains(&max_nodes) {
        return Err(bad(
            "maxNodes",
            format!("`maxNodes` is {max_nodes}; it must be between 1 and {limit}"),
        ));
    }
    let store = ctx.data_unchecked::<Store>();
    let (nodes, links) = explore::network(
        &store.connection,
        organization,
        depth as u32,
        &kinds(via),
        max_nodes as usize,
    )
    .await?;
    Ok(Network { nodes, links })
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
