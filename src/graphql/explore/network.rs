//! An organization's neighbourhood ready to draw: its nodes and weighted links, and
//! `network_of`, which checks the arguments and walks the graph.

use async_graphql::{Context, ID, Object};

use super::{SharedRecordKind, bad, kinds, organization};
use crate::{
    graphql::{
        errors::ApiResult,
        ids::{self, RecordKind},
        organization::Organization,
    },
    store::{
        Store,
        explore::{self, SharedKind},
    },
};

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
        ids::encode(RecordKind::Organization, self.id)
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
        ids::encode(RecordKind::Organization, self.0.source)
    }

    /// The other end: the global ID of a node.
    async fn target(&self) -> ID {
        ids::encode(RecordKind::Organization, self.0.target)
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
