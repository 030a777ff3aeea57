//! Organizations: the type and its root fields.

use async_graphql::{
    Context, ID, Object, OneofObject, SimpleObject, connection::PageInfo, dataloader::DataLoader,
};
use entity::organization;

use super::{
    agreement::AgreementParty,
    enums::OrganizationKind,
    errors::ResultExt,
    ids::{self, NodeType},
    loaders::{OrganizationById, PartiesOfOrganization, StoreLoader},
    pagination::{decode_cursor, encode_cursor, page_size},
};
use crate::store::{self, Store};

#[derive(Clone)]
pub struct Organization(pub organization::Model);

/// An international organization, one of its bodies, or another actor in a partnership.
#[Object]
impl Organization {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.id)
    }

    /// Stable, URL-safe key (`ilo`, `un-women`).
    async fn slug(&self) -> &str {
        &self.0.slug
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
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        Ok(loader
            .load_one(OrganizationById(parent))
            .await
            .gql()?
            .map(Organization))
    }

    /// Official website, when known.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// A short description in our own words.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The agreements this organization is party to, each with its role.
    async fn agreements(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgreementParty>> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let rows = loader
            .load_one(PartiesOfOrganization(self.0.id))
            .await
            .gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(AgreementParty)
            .collect())
    }
}

/// How to find one organization: by global ID or by slug.
#[derive(OneofObject)]
pub enum OrganizationKey {
    /// Its global ID.
    Id(ID),
    /// Its slug.
    Slug(String),
}

/// A page of organizations (a Relay connection).
#[derive(SimpleObject)]
pub struct OrganizationConnection {
    /// The organizations of this page, each with its cursor.
    edges: Vec<OrganizationEdge>,
    /// The organizations of this page, without cursors.
    nodes: Vec<Organization>,
    /// Where this page sits in the whole list.
    page_info: PageInfo,
    /// How many organizations the whole list holds, across all pages.
    total_count: u64,
}

/// An organization in a page, with the cursor to page from it.
#[derive(SimpleObject)]
pub struct OrganizationEdge {
    /// Opaque position of this item; pass it as `after` to get the items that follow.
    cursor: String,
    /// The organization.
    node: Organization,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// One organization, by global ID or slug; null when there is none.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's global ID or slug.")] by: OrganizationKey,
    ) -> async_graphql::Result<Option<Organization>> {
        let store = ctx.data_unchecked::<Store>();
        let found = match by {
            OrganizationKey::Slug(slug) => {
                store::organizations::find_by_slug(&store.connection, &slug)
                    .await
                    .gql()?
            }
            OrganizationKey::Id(id) => {
                let id = ids::decode_as(&id, NodeType::Organization).gql()?;
                let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
                loader.load_one(OrganizationById(id)).await.gql()?
            }
        };
        Ok(found.map(Organization))
    }

    /// All organizations, in the order they were added, a page at a time.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (an `endCursor` from a previous page)."
        )]
        after: Option<String>,
    ) -> async_graphql::Result<OrganizationConnection> {
        let store = ctx.data_unchecked::<Store>();
        let limit = page_size(first).gql()?;
        let after = after
            .map(|c| decode_cursor("after", &c))
            .transpose()
            .gql()?;
        let mut rows = store::organizations::list_page(&store.connection, after, limit + 1)
            .await
            .gql()?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let total_count = if ctx.look_ahead().field("totalCount").exists() {
            store::organizations::count(&store.connection).await.gql()?
        } else {
            0
        };
        let edges: Vec<OrganizationEdge> = rows
            .into_iter()
            .map(|m| OrganizationEdge {
                cursor: encode_cursor(m.id),
                node: Organization(m),
            })
            .collect();
        Ok(OrganizationConnection {
            page_info: PageInfo {
                has_previous_page: after.is_some(),
                has_next_page: has_next,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            nodes: edges.iter().map(|e| e.node.clone()).collect(),
            edges,
            total_count,
        })
    }
}
