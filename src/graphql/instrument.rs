//! Instruments: the type and its relations (root fields are in `roots`).

use async_graphql::{Context, ID, Object};
use entity::{instrument, organization};

use super::prelude::*;
use super::{
    enums::InstrumentKind,
    errors::ApiResult,
    filters::Order,
    ids::{self, RecordKind},
    lookup,
    organization::Organization,
};
use crate::dates::PartialDate;

#[derive(Clone)]
pub struct Instrument(pub instrument::Model);

// The lazy columns its fields read; the others are left out of its pages (`projection`).
super::projection::reads!(Instrument, instrument::Model, {
    "acronym" => ["acronym"],
    "url" => ["url"],
    "description" => ["description"],
    "version" => ["version"],
});

/// A declaration, set of principles, guidelines or agenda that partnerships rest on.
#[Object]
impl Instrument {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode(RecordKind::Instrument, self.0.id)
    }

    /// Stable, URL-safe key (`mne-declaration`).
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
        super::history::of(ctx, RecordKind::Instrument, self.0.id, first, after).await
    }

    /// The instrument's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Short name or acronym, when it has one (`UNGPs`).
    async fn acronym(&self) -> Option<&str> {
        self.0.acronym.as_deref()
    }

    /// The form the instrument takes.
    async fn kind(&self) -> InstrumentKind {
        self.0.kind.into()
    }

    /// When it was adopted (or the version the source cites), at the precision the source
    /// gives; null when unknown.
    async fn adopted_on(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.adopted_on, self.0.adopted_precision)
    }

    /// Where to read it, when known.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// What the instrument is, in our own words.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The organization that adopted or issued it, if known.
    async fn issuer(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        Ok(
            lookup::referenced::<organization::Entity>(ctx, self.0.issuer_id)
                .await?
                .map(Organization),
        )
    }

    /// The agreements linked to this instrument; each edge says how.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links of a matching kind.")] role: Option<
            EnumFilter<InstrumentRole>,
        >,
        #[graphql(desc = "Only related records matching this.")] filter: Option<AgreementFilter>,
        #[graphql(desc = "Sort keys, most significant first; by title when omitted.")]
        order_by: Option<Vec<Order<AgreementOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<InstrumentAgreementConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            AgreementOrderFieldInput::Title,
            |f: AgreementOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::AgreementsOfInstrument, InstrumentAgreementConnection>(
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

    /// The projects linked to this instrument; each edge says how.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links of a matching kind.")] role: Option<
            EnumFilter<InstrumentRole>,
        >,
        #[graphql(desc = "Only related records matching this.")] filter: Option<ProjectFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<ProjectOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<InstrumentProjectConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            ProjectOrderFieldInput::Name,
            |f: ProjectOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::ProjectsOfInstrument, InstrumentProjectConnection>(
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

    /// The events linked to this instrument; each edge says how.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links of a matching kind.")] role: Option<
            EnumFilter<InstrumentRole>,
        >,
        #[graphql(desc = "Only related records matching this.")] filter: Option<EventFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<EventOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<InstrumentEventConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            EventOrderFieldInput::Name,
            |f: EventOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::EventsOfInstrument, InstrumentEventConnection>(
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
}
