//! The shortest paths between two organizations: each path's steps and the records shared on
//! each step.

use async_graphql::{Context, Object};

use super::{SharedRecord, SharedRecordKind, organization, shared_record};
use crate::{
    graphql::{errors::ApiResult, organization::Organization},
    store::explore::{self, SharedKind},
};

/// Most hops a path may have.
pub const MAX_HOPS: i32 = 4;
/// Most paths one answer holds.
pub const MAX_PATHS: i32 = 50;

/// A chain of organizations, each sharing records with the next.
pub struct OrganizationPath(pub(super) Vec<explore::Step>);

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
