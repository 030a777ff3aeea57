//! Events: the type and its relations (root fields are in `roots`).

use async_graphql::{Context, ID, Object};
use entity::{agreement, event, project};

use super::prelude::*;
use super::{
    agreement::Agreement,
    connection::EventConnection,
    enums::{EventKind, EventOrderField as EventOrderFieldInput, Recurrence},
    errors::ApiResult,
    filters::{EventFilter, Order, sort_keys},
    ids::{self, RecordKind},
    lookup,
    project::Project,
};
use crate::dates::PartialDate;

#[derive(Clone)]
pub struct Event(pub event::Model);

// The lazy columns its fields read; the others are left out of its pages (`projection`).
super::projection::reads!(Event, event::Model, {
    "summary" => ["summary"],
    "location" => ["location"],
    "version" => ["version"],
});

/// A forum, conference, session, round table or other gathering.
#[Object]
impl Event {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode(RecordKind::Event, self.0.id)
    }

    /// Stable, URL-safe key (`world-investment-forum-2014`).
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
        super::history::of(ctx, RecordKind::Event, self.0.id, first, after).await
    }

    /// The event's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The form the event takes.
    async fn kind(&self) -> EventKind {
        self.0.kind.into()
    }

    /// What happened there, in our own words.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }

    /// When it began, at the precision the source gives; null when unknown.
    async fn starts_on(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.starts_on, self.0.starts_precision)
    }

    /// When it ended, at the precision the source gives; null when unknown.
    async fn ends_on(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.ends_on, self.0.ends_precision)
    }

    /// Where it took place, when known.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }

    /// How often it takes place, when known.
    async fn recurrence(&self) -> Option<Recurrence> {
        self.0.recurrence.map(Into::into)
    }

    /// The event this one is part of (the forum a session belongs to).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        Ok(lookup::referenced::<event::Entity>(ctx, self.0.parent_id)
            .await?
            .map(Event))
    }

    /// The project the event belongs to, if any.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        Ok(
            lookup::referenced::<project::Entity>(ctx, self.0.project_id)
                .await?
                .map(Project),
        )
    }

    /// The agreement under which the event was held, if any.
    async fn agreement(&self, ctx: &Context<'_>) -> ApiResult<Option<Agreement>> {
        Ok(
            lookup::referenced::<agreement::Entity>(ctx, self.0.agreement_id)
                .await?
                .map(Agreement),
        )
    }

    /// The organizations taking part in this event; each edge carries its role.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only participants holding a matching role.")] role: Option<
            EnumFilter<EventRole>,
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
    ) -> ApiResult<Fast<EventParticipantConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            OrganizationOrderFieldInput::Name,
            |f: OrganizationOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::ParticipantsOfEvent, EventParticipantConnection>(
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

    /// The instruments this event refers to; each edge says how.
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
    ) -> ApiResult<Fast<EventInstrumentConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            InstrumentOrderFieldInput::Name,
            |f: InstrumentOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::InstrumentsOfEvent, EventInstrumentConnection>(
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

    /// The sessions held inside this event.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn sessions(
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
        nested::children::<rel::SessionsOfEvent, EventConnection>(
            ctx, self.0.id, filter, order, first, after, Event,
        )
        .await
    }
}
