//! An organization's partners: the loader that finds them for many organizations at once, and
//! the `partners` list with what each partner shares.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Object, SimpleObject, dataloader::Loader};
use entity::{agreement, event, project};

use super::{SharedRecordKind, in_order, kinds, organization};
use crate::{
    error::AppError,
    graphql::{
        agreement::Agreement,
        connection::loader,
        errors::{ApiError, ApiResult},
        event::Event,
        loaders::{StoreLoader, logged},
        organization::Organization,
        project::Project,
    },
    store::explore::{self, SharedKind},
};

/// The partners of one organization: which kinds count, and how many to return.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartnersKey {
    pub organization: i64,
    pub kinds: Vec<SharedKind>,
    pub first: u64,
}

impl Loader<PartnersKey> for StoreLoader {
    type Value = (Vec<explore::Partner>, u64);
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[PartnersKey],
    ) -> Result<HashMap<PartnersKey, Self::Value>, Self::Error> {
        // One statement per distinct (kinds, first), for all the organizations asking it.
        let mut groups: HashMap<(Vec<SharedKind>, u64), Vec<i64>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.kinds.clone(), key.first))
                .or_default()
                .push(key.organization);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((kinds, first), orgs) in groups {
            let mut found = explore::partners(self.db(), &orgs, &kinds, first)
                .await
                .map_err(logged)?;
            for org in orgs {
                let value = found.remove(&org).unwrap_or_default();
                out.insert(
                    PartnersKey {
                        organization: org,
                        kinds: kinds.clone(),
                        first,
                    },
                    value,
                );
            }
        }
        Ok(out)
    }
}

/// Most partners one list returns.
const MAX_PARTNERS: i32 = 100;

/// The partners of `organization` (see `Organization.partners`).
pub async fn partners_of(
    ctx: &Context<'_>,
    organization: i64,
    via: Option<Vec<SharedRecordKind>>,
    first: Option<i32>,
) -> ApiResult<PartnerList> {
    let first = match first {
        None => 20,
        Some(n) if (0..=MAX_PARTNERS).contains(&n) => n as u64,
        Some(n) => {
            return Err(ApiError::from({
                AppError::bad_field(
                    "first",
                    format!("`first` is {n}; it must be between 0 and {MAX_PARTNERS}"),
                )
            }));
        }
    };
    let key = PartnersKey {
        organization,
        kinds: kinds(via),
        first,
    };
    let (partners, total_count) = loader(ctx).load_one(key).await?.unwrap_or_default();
    Ok(PartnerList {
        nodes: partners.into_iter().map(Partner).collect(),
        total_count,
    })
}

/// An organization's partners, strongest first.
#[derive(SimpleObject)]
pub struct PartnerList {
    /// The strongest partners (as many as asked for), by strength and then by name.
    pub nodes: Vec<Partner>,
    /// How many partners the organization has in all (through the kinds asked for).
    pub total_count: u64,
}

/// Another organization connected to this one, and what connects them.
pub struct Partner(explore::Partner);

impl Partner {
    fn ids(&self, kind: SharedKind) -> &[i64] {
        self.0.shared.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Another organization connected to this one, and what connects them.
#[Object]
impl Partner {
    /// The partner.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        organization(ctx, self.0.organization).await
    }

    /// How many records the two share (agreements, projects and events together).
    async fn strength(&self) -> usize {
        self.0.strength
    }

    /// The kinds of record the two share.
    async fn kinds(&self) -> Vec<SharedRecordKind> {
        self.0.shared.keys().map(|k| (*k).into()).collect()
    }

    /// The agreements both are party to, by title (at most 100).
    async fn agreements(&self, ctx: &Context<'_>) -> ApiResult<Vec<Agreement>> {
        let mut list =
            in_order::<agreement::Entity, _>(ctx, self.ids(SharedKind::Agreement), Agreement)
                .await?;
        list.sort_by(|a, b| a.0.title.cmp(&b.0.title));
        Ok(list)
    }

    /// The projects both take part in, by name (at most 100).
    async fn projects(&self, ctx: &Context<'_>) -> ApiResult<Vec<Project>> {
        let mut list =
            in_order::<project::Entity, _>(ctx, self.ids(SharedKind::Project), Project).await?;
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }

    /// The events both take part in, by name (at most 100).
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<Event>> {
        let mut list =
            in_order::<event::Entity, _>(ctx, self.ids(SharedKind::Event), Event).await?;
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }
}
