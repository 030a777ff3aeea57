//! Finding one record by global ID or slug, the same way for every kind.

use async_graphql::{Context, ID, OneofObject};

use super::{
    connection::loader,
    errors::ApiResult,
    ids::{self, RecordKind},
    loaders::ById,
};
use crate::store::{
    Store,
    records::{self, Record},
};

/// How to find one record: by its global ID or by its slug (give exactly one).
#[derive(OneofObject)]
pub enum RecordKey {
    /// The record's global ID.
    Id(ID),
    /// The record's slug.
    Slug(String),
}

/// The record `key` names, or None; an ID of another type is BAD_USER_INPUT.
pub async fn find<E>(
    ctx: &Context<'_>,
    key: RecordKey,
    node: RecordKind,
) -> ApiResult<Option<E::Model>>
where
    E: Record + 'static,
    E::Model: Clone + Send + Sync,
{
    match key {
        RecordKey::Slug(slug) => {
            let store = ctx.data_unchecked::<Store>();
            Ok(records::find_by_slug::<E>(&store.connection, &slug).await?)
        }
        RecordKey::Id(id) => {
            let id = ids::decode_as(&id, node)?;
            Ok(loader(ctx).load_one(ById::<E>::new(id)).await?)
        }
    }
}

/// The record a foreign key points at (None when the key is None).
pub async fn referenced<E>(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<E::Model>>
where
    E: Record + 'static,
    E::Model: Clone + Send + Sync,
{
    match id {
        Some(id) => Ok(loader(ctx).load_one(ById::<E>::new(id)).await?),
        None => Ok(None),
    }
}
