//! Reading organizations.

use entity::organization;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};

use crate::error::AppResult;

/// One page of organizations in id order, after the id `after` when given.
pub async fn list_page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> AppResult<Vec<organization::Model>> {
    let mut query = organization::Entity::find().order_by_asc(organization::Column::Id);
    if let Some(after) = after {
        query = query.filter(organization::Column::Id.gt(after));
    }
    Ok(query.limit(limit).all(db).await?)
}

/// How many organizations there are.
pub async fn count(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(organization::Entity::find().count(db).await?)
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// The organizations with these ids, in no particular order (for loaders).
pub async fn find_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
