//! Reading agreements and their parties.

use entity::{agreement, agreement_party};
use sea_orm::{ConnectionTrait, QueryOrder, prelude::*};

use crate::error::AppResult;

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<agreement::Model>> {
    Ok(agreement::Entity::find()
        .filter(agreement::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// The agreements with these ids, in no particular order (for loaders).
pub async fn find_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<agreement::Model>> {
    Ok(agreement::Entity::find()
        .filter(agreement::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The party rows of these agreements, in one statement, ordered by agreement then link id.
pub async fn parties_of_agreements(
    db: &impl ConnectionTrait,
    agreement_ids: &[i64],
) -> AppResult<Vec<agreement_party::Model>> {
    Ok(agreement_party::Entity::find()
        .filter(agreement_party::Column::AgreementId.is_in(agreement_ids.iter().copied()))
        .order_by_asc(agreement_party::Column::AgreementId)
        .order_by_asc(agreement_party::Column::Id)
        .all(db)
        .await?)
}

/// The party rows of these organizations, in one statement, ordered by organization then link id.
pub async fn parties_of_organizations(
    db: &impl ConnectionTrait,
    organization_ids: &[i64],
) -> AppResult<Vec<agreement_party::Model>> {
    Ok(agreement_party::Entity::find()
        .filter(agreement_party::Column::OrganizationId.is_in(organization_ids.iter().copied()))
        .order_by_asc(agreement_party::Column::OrganizationId)
        .order_by_asc(agreement_party::Column::Id)
        .all(db)
        .await?)
}
