//! Request-scoped DataLoaders: each relation is loaded in one place, one statement per batch of
//! parents, however many parents a response holds. Keys are newtypes so that one
//! `DataLoader<StoreLoader>` serves every relation.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use entity::{agreement, agreement_party, organization};
use sea_orm::DatabaseConnection;

use crate::{error::AppError, store};

pub struct StoreLoader {
    db: DatabaseConnection,
}

impl StoreLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// An organization by database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrganizationById(pub i64);

/// An agreement by database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgreementById(pub i64);

/// The party rows of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartiesOfAgreement(pub i64);

/// The party rows of an organization (the agreements it is party to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartiesOfOrganization(pub i64);

impl Loader<OrganizationById> for StoreLoader {
    type Value = organization::Model;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[OrganizationById],
    ) -> Result<HashMap<OrganizationById, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::organizations::find_by_ids(&self.db, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|m| (OrganizationById(m.id), m))
            .collect())
    }
}

impl Loader<AgreementById> for StoreLoader {
    type Value = agreement::Model;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[AgreementById],
    ) -> Result<HashMap<AgreementById, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::agreements::find_by_ids(&self.db, &ids).await?;
        Ok(rows.into_iter().map(|m| (AgreementById(m.id), m)).collect())
    }
}

/// Groups rows by a parent id, giving every asked key an entry (empty when it has no rows).
fn group_by<K, V>(keys: &[K], rows: Vec<V>, key_of: impl Fn(&V) -> K) -> HashMap<K, Vec<V>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut grouped: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        grouped.entry(key_of(&row)).or_default().push(row);
    }
    grouped
}

impl Loader<PartiesOfAgreement> for StoreLoader {
    type Value = Vec<agreement_party::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[PartiesOfAgreement],
    ) -> Result<HashMap<PartiesOfAgreement, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::agreements::parties_of_agreements(&self.db, &ids).await?;
        Ok(group_by(keys, rows, |r| PartiesOfAgreement(r.agreement_id)))
    }
}

impl Loader<PartiesOfOrganization> for StoreLoader {
    type Value = Vec<agreement_party::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[PartiesOfOrganization],
    ) -> Result<HashMap<PartiesOfOrganization, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::agreements::parties_of_organizations(&self.db, &ids).await?;
        Ok(group_by(keys, rows, |r| {
            PartiesOfOrganization(r.organization_id)
        }))
    }
}
