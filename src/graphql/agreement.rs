//! Agreements: the type and its relations (root fields are in `roots`).

use async_graphql::{Context, ID, Object};
use entity::agreement;

use super::prelude::*;
use super::{
    enums::{AgreementKind, PartyRole},
    errors::ApiResult,
    filters::{Order, sort_keys},
    ids::{self, RecordKind},
};
use crate::dates::PartialDate;

#[derive(Clone)]
pub struct Agreement(pub agreement::Model);

// The lazy columns its fields read; the others are left out of its pages (`projection`).
super::projection::reads!(Agreement, agreement::Model, {
    "summary" => ["summary"],
    "version" => ["version"],
});

/// An agreement between organizations: a memorandum, a cooperation agreement, a framework of
/// action, or a standing partnership.
#[Object]
impl Agreement {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode(RecordKind::Agreement, self.0.id)
    }

    /// Stable, URL-safe key (`ilo-undp-global-framework-of-action`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// The record's version: send it back with an update or delete, which is refused with
    /// CONFLICT if someone changed the record since. Each change adds one.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The changes of this record, newest first, from the audit log (like `auditLog`, whose
    /// cursors it shares): each with its version, action, time and the fields it changed,
    /// before and after; the actor only for admins. Its links' changes are theirs, not in it.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the entries after (older than) this cursor.")] after: Option<
            String,
        >,
    ) -> ApiResult<super::history::HistoryConnection> {
        super::history::of(ctx, RecordKind::Agreement, self.0.id, first, after).await
    }

    /// The agreement's title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The form the agreement takes.
    async fn kind(&self) -> AgreementKind {
        self.0.kind.into()
    }

    /// When it was signed, at the precision the source gives (often a year); null when unknown.
    async fn signed_on(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.signed_on, self.0.signed_precision)
    }

    /// What the agreement is for, in our own words.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }

    /// The organizations party to this agreement; each edge carries its role and since when.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn parties(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only parties holding a matching role.")] role: Option<
            EnumFilter<PartyRole>,
        >,
        #[graphql(desc = "Only related records matching this.")] filter: Option<OrganizationFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<OrganizationOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<AgreementPartyConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            OrganizationOrderFieldInput::Name,
            |f: OrganizationOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::PartiesOfAgreement, AgreementPartyConnection>(
            ctx,
            self.0.id,
            role.map(Into::into),
            filter,
            order,
            first,
            after,
        )
        .await
    }

    /// The instruments this agreement rests on; each edge says how.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn instruments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links of a matching kind.")] role: Option<
            EnumFilter<InstrumentRole>,
        >,
        #[graphql(desc = "Only related records matching this.")] filter: Option<InstrumentFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<InstrumentOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<AgreementInstrumentConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            InstrumentOrderFieldInput::Name,
            |f: InstrumentOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::InstrumentsOfAgreement, AgreementInstrumentConnection>(
            ctx,
            self.0.id,
            role.map(Into::into),
            filter,
            order,
            first,
            after,
        )
        .await
    }

    /// The projects that carry out this agreement.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only related records matching this.")] filter: Option<ProjectFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<ProjectOrderFieldInput>>>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<ProjectConnection>> {
        let order = sort_keys(
            order_by,
            ProjectOrderFieldInput::Name,
            |f: ProjectOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::children::<rel::ProjectsOfAgreement, ProjectConnection>(
            ctx, self.0.id, filter, order, first, after, Project,
        )
        .await
    }

    /// The events held under this agreement.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only related records matching this.")] filter: Option<EventFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<EventOrderFieldInput>>>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<EventConnection>> {
        let order = sort_keys(
            order_by,
            EventOrderFieldInput::Name,
            |f: EventOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::children::<rel::EventsOfAgreement, EventConnection>(
            ctx, self.0.id, filter, order, first, after, Event,
        )
        .await
    }
}
