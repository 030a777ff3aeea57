//! Request-scoped DataLoaders: each relation is loaded in one place, one statement per batch of
//! parents, however many parents a response holds. Keys are types of their own so that one
//! `DataLoader<StoreLoader>` serves every relation.

use std::{collections::HashMap, hash::Hash, marker::PhantomData, sync::Arc};

use async_graphql::dataloader::Loader;
use entity::agreement_party;
use sea_orm::{DatabaseConnection, ModelTrait, Value};

use crate::{
    error::AppError,
    store::{self, records::Record},
};

pub struct StoreLoader {
    db: DatabaseConnection,
}

impl StoreLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A record of kind `E` by database id.
pub struct ById<E>(pub i64, PhantomData<fn() -> E>);

impl<E> ById<E> {
    pub fn new(id: i64) -> Self {
        Self(id, PhantomData)
    }
}

// Written by hand: derives would ask `E` itself to be Clone, Eq and Hash.
impl<E> Clone for ById<E> {
    fn clone(&self) -> Self {
        Self::new(self.0)
    }
}
impl<E> PartialEq for ById<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for ById<E> {}
impl<E> Hash for ById<E> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl<E> Loader<ById<E>> for StoreLoader
where
    E: Record + 'static,
    E::Model: Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[ById<E>]) -> Result<HashMap<ById<E>, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::records::find_by_ids::<E>(&self.db, &ids).await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            match row.get(E::ID) {
                Value::BigInt(Some(id)) => {
                    found.insert(ById::new(id), row);
                }
                other => {
                    return Err(Arc::new(AppError::Internal(anyhow::anyhow!(
                        "unexpected id {other:?}"
                    ))));
                }
            }
        }
        Ok(found)
    }
}

/// The party rows of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartiesOfAgreement(pub i64);

/// The party rows of an organization (the agreements it is party to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartiesOfOrganization(pub i64);

/// Groups rows by a parent id, giving every asked key an entry (empty when it has no rows).
fn group_by<K, V>(keys: &[K], rows: Vec<V>, key_of: impl Fn(&V) -> K) -> HashMap<K, Vec<V>>
where
    K: Copy + Eq + Hash,
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
