//! Organizations: the type and its relations (root fields are in `roots`).

use async_graphql::{Context, ID, Object};
use entity::organization;

use super::prelude::*;
use super::{
    connection::OrganizationConnection,
    enums::OrganizationKind,
    errors::ApiResult,
    filters::{Order, OrganizationFilter, sort_keys},
    ids::{self, RecordKind},
    lookup,
};

#[derive(Clone)]
pub struct Organization(pub organization::Model);

// The lazy columns its fields read; the others are left out of its pages (`projection`).
super::projection::reads!(Organization, organization::Model, {
    "acronym" => ["acronym"],
    "website" => ["website"],
    "description" => ["description"],
    "version" => ["version"],
});

/// An international organization, one of its bodies, or another actor in a partnership.
#[Object]
impl Organization {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode(RecordKind::Organization, self.0.id)
    }

    /// Stable, URL-safe key (`ilo`, `un-women`).
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
        super::history::of(ctx, RecordKind::Organization, self.0.id, first, after).await
    }

    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Short name or acronym, when it has one (`ILO`).
    async fn acronym(&self) -> Option<&str> {
        self.0.acronym.as_deref()
    }

    /// What sort of body it is.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }

    /// The organization it belongs to (the ILO for the ILO Governing Body).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        Ok(
            lookup::referenced::<organization::Entity>(ctx, self.0.parent_id)
                .await?
                .map(Organization),
        )
    }

    /// Official website, when known.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// A short description in our own words.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The agreements this organization is party to; each edge carries its role and since when.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links in which the organization holds a matching role.")]
        role: Option<EnumFilter<PartyRole>>,
        #[graphql(desc = "Only related records matching this.")] filter: Option<AgreementFilter>,
        #[graphql(desc = "Sort keys, most significant first; by title when omitted.")]
        order_by: Option<Vec<Order<AgreementOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<OrganizationAgreementConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            AgreementOrderFieldInput::Title,
            |f: AgreementOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::AgreementsOfOrganization, OrganizationAgreementConnection>(
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

    /// The projects this organization takes part in; each edge carries its role.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links in which the organization holds a matching role.")]
        role: Option<EnumFilter<ProjectRole>>,
        #[graphql(desc = "Only related records matching this.")] filter: Option<ProjectFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<ProjectOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<OrganizationProjectConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            ProjectOrderFieldInput::Name,
            |f: ProjectOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::ProjectsOfOrganization, OrganizationProjectConnection>(
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

    /// The events this organization takes part in; each edge carries its role.
    #[expect(
        clippy::too_many_arguments,
        reason = "a link connection takes a role, a filter, two orderings and two paging arguments"
    )]
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links in which the organization holds a matching role.")]
        role: Option<EnumFilter<EventRole>>,
        #[graphql(desc = "Only related records matching this.")] filter: Option<EventFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<EventOrderFieldInput>>>,
        #[graphql(
            desc = "Order by when each link was made (oldest first with ASC) instead of `orderBy`: the cheapest page, cut from the link table alone. Not together with `orderBy`."
        )]
        linked: Option<OrderDirection>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<OrganizationEventConnection>> {
        let order = nested::link_order(
            order_by,
            linked,
            EventOrderFieldInput::Name,
            |f: EventOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::links::<rel::EventsOfOrganization, OrganizationEventConnection>(
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

    /// The bodies that belong to this organization (the ILO Governing Body under the ILO).
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only related records matching this.")] filter: Option<OrganizationFilter>,
        #[graphql(desc = "Sort keys, most significant first; by name when omitted.")]
        order_by: Option<Vec<Order<OrganizationOrderFieldInput>>>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
    ) -> ApiResult<Fast<OrganizationConnection>> {
        let order = sort_keys(
            order_by,
            OrganizationOrderFieldInput::Name,
            |f: OrganizationOrderFieldStore, d| f.key(d),
        )?;
        let filter = filter.map(Into::into).unwrap_or_default();
        nested::children::<rel::ChildrenOfOrganization, OrganizationConnection>(
            ctx,
            self.0.id,
            filter,
            order,
            first,
            after,
            Organization,
        )
        .await
    }

    /// The organizations this one is connected to through shared agreements, projects or
    /// events, strongest first (by how many records they share, then by name), each with what
    /// connects them. Loaded for many organizations at once in one statement.
    #[graphql(complexity = "super::limits::list_cost(first, None, child_complexity)")]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only connections through these kinds of record; all when omitted or empty."
        )]
        via: Option<Vec<super::explore::SharedRecordKind>>,
        #[graphql(desc = "How many partners to return: 20 when omitted, at most 100.")]
        first: Option<i32>,
    ) -> ApiResult<super::explore::PartnerList> {
        super::explore::partners_of(ctx, self.0.id, via, first).await
    }

    /// This organization's partnership graph up to `depth` hops: the organizations reached and
    /// the links among them, weighted by how many records each pair shares, ready for a
    /// force-directed drawing. A neighbourhood larger than `maxNodes` is refused
    /// (BAD_USER_INPUT); ask for a smaller depth. Each walk costs 2,000 toward the query's
    /// complexity limit, so one query draws about ten neighbourhoods at most.
    #[graphql(
        complexity = "2_000 + super::limits::list_cost(Some(max_nodes), None, child_complexity)"
    )]
    async fn network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many hops from this organization: 1 to 3.", default = 1)] depth: i32,
        #[graphql(desc = "Only links through these kinds of record; all when omitted or empty.")]
        via: Option<Vec<super::explore::SharedRecordKind>>,
        #[graphql(
            desc = "The most organizations the answer may hold: 1 to 500.",
            default = 100
        )]
        max_nodes: i32,
    ) -> ApiResult<super::explore::Network> {
        super::explore::network_of(ctx, self.0.id, depth, via, max_nodes).await
    }
}
