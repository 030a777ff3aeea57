//! The Relay `Node` interface: any record by its global ID.

use async_graphql::{Context, ID, Interface, Object};
use entity::{agreement, event, instrument, organization, project};

use super::{
    agreement::Agreement,
    errors::ApiResult,
    event::Event,
    ids::{self, RecordKind},
    instrument::Instrument,
    lookup,
    organization::Organization,
    project::Project,
};
use crate::{error::AppError, store::page::MAX_PAGE_SIZE};

/// Anything with a global ID: refetch it with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global identifier (Relay)."))]
pub enum Node {
    Organization(Organization),
    Agreement(Agreement),
    Project(Project),
    Event(Event),
    Instrument(Instrument),
}

async fn fetch(ctx: &Context<'_>, id: &ID) -> ApiResult<Option<Node>> {
    let (node, id) = ids::decode(id)?;
    load(ctx, node, id).await
}

/// The record of type `node` with database id `id`, through the request's loader.
pub async fn load(ctx: &Context<'_>, node: RecordKind, id: i64) -> ApiResult<Option<Node>> {
    let id = Some(id);
    Ok(match node {
        RecordKind::Organization => lookup::referenced::<organization::Entity>(ctx, id)
            .await?
            .map(|m| Node::Organization(Organization(m))),
        RecordKind::Agreement => lookup::referenced::<agreement::Entity>(ctx, id)
            .await?
            .map(|m| Node::Agreement(Agreement(m))),
        RecordKind::Project => lookup::referenced::<project::Entity>(ctx, id)
            .await?
            .map(|m| Node::Project(Project(m))),
        RecordKind::Event => lookup::referenced::<event::Entity>(ctx, id)
            .await?
            .map(|m| Node::Event(Event(m))),
        RecordKind::Instrument => lookup::referenced::<instrument::Entity>(ctx, id)
            .await?
            .map(|m| Node::Instrument(Instrument(m))),
    })
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The record with this global ID, whatever its type; null when there is none.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        fetch(ctx, &id).await
    }

    /// The records with these global IDs, in the same order (null where there is none); at most
    /// 100 IDs, loaded in one statement per type.
    #[graphql(complexity = "ids.len().clamp(1, 100) * child_complexity + 1")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs, at most 100.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() as u64 > MAX_PAGE_SIZE {
            return Err(AppError::bad_field(
                "ids",
                format!("at most {MAX_PAGE_SIZE} IDs at once, not {}", ids.len()),
            )
            .into());
        }
        futures::future::try_join_all(ids.iter().map(|id| fetch(ctx, id))).await
    }
}
