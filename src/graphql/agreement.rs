//! Agreements and their parties: the types and root fields.

use async_graphql::{Context, ID, Object, dataloader::DataLoader};
use entity::{agreement, agreement_party};

use super::{
    enums::{AgreementKind, PartyRole},
    errors::ResultExt,
    ids::{self, NodeType},
    loaders::{AgreementById, OrganizationById, PartiesOfAgreement, StoreLoader},
    organization::Organization,
};
use crate::{
    dates::PartialDate,
    error::AppError,
    store::{self, Store},
};

pub struct Agreement(pub agreement::Model);

/// An agreement between organizations: a memorandum, a cooperation agreement, a framework of
/// action, or a standing partnership.
#[Object]
impl Agreement {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Agreement, self.0.id)
    }

    /// Stable, URL-safe key (`ilo-undp-global-framework-of-action`).
    async fn slug(&self) -> &str {
        &self.0.slug
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

    /// The organizations party to it, each with its role.
    async fn parties(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgreementParty>> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let rows = loader.load_one(PartiesOfAgreement(self.0.id)).await.gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(AgreementParty)
            .collect())
    }
}

pub struct AgreementParty(pub agreement_party::Model);

/// An organization's part in an agreement.
#[Object]
impl AgreementParty {
    /// The part the organization plays.
    async fn role(&self) -> PartyRole {
        self.0.role.into()
    }

    /// Since when the organization takes part, when the source says.
    async fn since(&self) -> Option<PartialDate> {
        PartialDate::from_parts(self.0.since_on, self.0.since_precision)
    }

    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let found = loader
            .load_one(OrganizationById(self.0.organization_id))
            .await
            .gql()?;
        found
            .map(Organization)
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "party {} names a missing organization",
                    self.0.id
                ))
            })
            .gql()
    }

    /// The agreement.
    async fn agreement(&self, ctx: &Context<'_>) -> async_graphql::Result<Agreement> {
        let loader = ctx.data_unchecked::<DataLoader<StoreLoader>>();
        let found = loader
            .load_one(AgreementById(self.0.agreement_id))
            .await
            .gql()?;
        found
            .map(Agreement)
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "party {} names a missing agreement",
                    self.0.id
                ))
            })
            .gql()
    }
}

#[derive(Default)]
pub struct AgreementQuery;

#[Object]
impl AgreementQuery {
    /// One agreement by slug; null when there is none.
    async fn agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agreement's slug.")] slug: String,
    ) -> async_graphql::Result<Option<Agreement>> {
        let store = ctx.data_unchecked::<Store>();
        Ok(store::agreements::find_by_slug(&store.connection, &slug)
            .await
            .gql()?
            .map(Agreement))
    }
}
