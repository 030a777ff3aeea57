//! Agreements and their parties: the types and root fields.

use async_graphql::{Context, ID, Object};
use entity::{agreement, agreement_party, organization};

use super::{
    connection::{self, AgreementConnection, Window, loader},
    enums::{AgreementKind, AgreementOrderField as AgreementOrderFieldInput, PartyRole},
    errors::ResultExt,
    filters::{AgreementFilter, Order, sort_keys},
    ids::{self, NodeType},
    loaders::PartiesOfAgreement,
    lookup::{self, RecordKey},
    organization::Organization,
};
use crate::{
    dates::PartialDate,
    store::{self, agreements::AgreementOrderField},
};

#[derive(Clone)]
pub struct Agreement(pub agreement::Model);

/// An agreement between organizations: a memorandum, a cooperation agreement, a framework of
/// action, or a standing partnership.
#[Object]
impl Agreement {
    /// Opaque global identifier (Relay); use it with `node(id:)`.
    pub async fn id(&self) -> ID {
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
        let rows = loader(ctx)
            .load_one(PartiesOfAgreement(self.0.id))
            .await
            .gql()?;
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
        Ok(Organization(
            lookup::required::<organization::Entity>(ctx, self.0.organization_id).await?,
        ))
    }

    /// The agreement.
    async fn agreement(&self, ctx: &Context<'_>) -> async_graphql::Result<Agreement> {
        Ok(Agreement(
            lookup::required::<agreement::Entity>(ctx, self.0.agreement_id).await?,
        ))
    }
}

#[derive(Default)]
pub struct AgreementQuery;

#[Object]
impl AgreementQuery {
    /// One agreement, by global ID or slug; null when there is none.
    async fn agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agreement's global ID or slug.")] by: RecordKey,
    ) -> async_graphql::Result<Option<Agreement>> {
        Ok(
            lookup::find::<agreement::Entity>(ctx, by, NodeType::Agreement)
                .await?
                .map(Agreement),
        )
    }

    /// Agreements, filtered and ordered, a page at a time.
    #[allow(clippy::too_many_arguments)]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only agreements matching this.")] filter: Option<AgreementFilter>,
        #[graphql(
            desc = "Sort keys, most significant first; by title when omitted. Ties are broken by id."
        )]
        order_by: Option<Vec<Order<AgreementOrderFieldInput>>>,
        #[graphql(
            desc = "Page size going forwards: 20 when neither `first` nor `last` is given, at most 100."
        )]
        first: Option<i32>,
        #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
        #[graphql(
            desc = "Page size going backwards (from the end, or from `before`), at most 100."
        )]
        last: Option<i32>,
        #[graphql(desc = "Return the items before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<AgreementConnection> {
        let filter: store::agreements::AgreementFilter = filter.map(Into::into).unwrap_or_default();
        let order = sort_keys(
            order_by,
            AgreementOrderFieldInput::Title,
            |f: AgreementOrderField, d| f.key(d),
        );
        let window = Window {
            first,
            after,
            last,
            before,
        };
        connection::list::<agreement::Entity, AgreementConnection>(
            ctx, &filter, order, window, Agreement,
        )
        .await
    }
}
