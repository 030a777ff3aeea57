//! Projects: the type and its relations (root fields are in `roots`).

use async_graphql::{Context, ID, Object};
use entity::{agreement, project};

use super::prelude::*;
use super::{
    agreement::Agreement,
    enums::{ProjectKind, ProjectStatus},
    errors::ApiResult,
    filters::{Order, sort_keys},
    ids::{self, RecordKind},
    lookup,
};
use super::{connection::loader, loaders::ValuesOfProject};
use crate::dates::PartialDate;

#[derive(Clone)]
pub struct Project(pub project::Model);

// The lazy columns its fields read; the others are left out of its pages (`projection`).
super::projection::reads!(Project, project::Model, {
    "summary" => ["summary"],
    "version" => ["version"],
});

/// A programme, platform, initiative or network that organizations run together.
#[Object]
impl Project {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode(RecordKind::Project, self.0.id)
    }

    /// Stable, URL-safe key (`responsible-supply-chains-asia`).
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
        super::history::of(ctx, RecordKind::Project, self.0.id, first, after).await
    }

    /// The project's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The form the project takes.
    async fn kind(&self) -> ProjectKind {
        self.0.kind.into()
    }

    /// Where the project stands.
    async fn status(&self) -> ProjectStatus {
        self.0.status.into()
    }

    /// What the project does, in our own words.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }

    /// When it started, at the precision the source gives; null when unknown.
    async fn starts_on(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.starts_on, self.0.starts_precision)
    }

    /// When it ended or ends, at the precision the source gives; null when unknown.
    async fn ends_on(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.ends_on, self.0.ends_precision)
    }

    /// The regions the project covers ("asia", "latin america and the caribbean").
    async fn regions(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        let key = ValuesOfProject {
            project: self.0.id,
            themes: false,
        };
        Ok(loader(ctx).load_one(key).await?.unwrap_or_default())
    }

    /// The themes the project works on ("responsible business conduct", "supply chains").
    async fn themes(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        let key = ValuesOfProject {
            project: self.0.id,
            themes: true,
        };
        Ok(loader(ctx).load_one(key).await?.unwrap_or_default())
    }

    /// The agreement the project carries out, if any.
    async fn agreement(&self, ctx: &Context<'_>) -> ApiResult<Option<Agreement>> {
        Ok(
            lookup::referenced::<agreement::Entity>(ctx, self.0.agreement_id)
                .await?
                .map(Agreement),
        )
    }

    /// The organizations taking part in this project; each edge carries its role.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only participants holding a matching role.")] role: Option<
            EnumFilter<ProjectRole>,
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
    ) -> ApiResult<Fast<ProjectParticipantConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            OrganizationOrderFieldInput::Name,
            |f: OrganizationOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::ParticipantsOfProject, ProjectParticipantConnection>(
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

    /// The instruments this project rests on; each edge says how.
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
    ) -> ApiResult<Fast<ProjectInstrumentConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            InstrumentOrderFieldInput::Name,
            |f: InstrumentOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::InstrumentsOfProject, ProjectInstrumentConnection>(
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

    /// The events of this project.
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
        nested::children::<rel::EventsOfProject, EventConnection>(
            ctx, self.0.id, filter, order, first, after, Event,
        )
        .await
    }
}
