//! Grouped counts for filter UIs: how many records of each kind, status or year match.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use entity::{event, organization, project, project_region, project_theme};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TryGetable,
    sea_query::{Expr, ExprTrait},
};

use super::records::{Filter, Record};
use crate::error::AppResult;

/// `SELECT column, COUNT(id) … WHERE filter GROUP BY column`, largest groups first.
async fn count_by<E: Record, V: TryGetable>(
    db: &impl ConnectionTrait,
    filter: &impl Filter,
    column: E::Column,
) -> AppResult<Vec<(Option<V>, u64)>> {
    let rows: Vec<(Option<V>, i64)> = E::find()
        .select_only()
        .column(column)
        .column_as(Expr::col(E::ID.as_column_ref()).count(), "n")
        .filter(filter.condition())
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: Vec<(Option<V>, u64)> = rows
        .into_iter()
        .map(|(v, n)| (v, u64::try_from(n).unwrap_or(0)))
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    Ok(counts)
}

/// Organizations per kind.
pub async fn organization_kinds(
    db: &impl ConnectionTrait,
    filter: &impl Filter,
) -> AppResult<Vec<(entity::OrganizationKind, u64)>> {
    let counts = count_by::<organization::Entity, entity::OrganizationKind>(
        db,
        filter,
        organization::Column::Kind,
    )
    .await?;
    Ok(counts
        .into_iter()
        .filter_map(|(k, n)| Some((k?, n)))
        .collect())
}

/// Projects per status.
pub async fn project_statuses(
    db: &impl ConnectionTrait,
    filter: &impl Filter,
) -> AppResult<Vec<(entity::ProjectStatus, u64)>> {
    let counts =
        count_by::<project::Entity, entity::ProjectStatus>(db, filter, project::Column::Status)
            .await?;
    Ok(counts
        .into_iter()
        .filter_map(|(k, n)| Some((k?, n)))
        .collect())
}

/// Events per year they started in (None: undated), in year order, undated last.
pub async fn event_years(
    db: &impl ConnectionTrait,
    filter: &impl Filter,
) -> AppResult<Vec<(Option<i32>, u64)>> {
    let counts = count_by::<event::Entity, NaiveDate>(db, filter, event::Column::StartsOn).await?;
    let mut years: BTreeMap<Option<i32>, u64> = BTreeMap::new();
    for (date, n) in counts {
        *years.entry(date.map(|d| d.year())).or_default() += n;
    }
    let (undated, mut dated): (Vec<_>, Vec<_>) = years.into_iter().partition(|(y, _)| y.is_none());
    dated.extend(undated);
    Ok(dated)
}

/// The regions and themes of these projects, as (project id, value), in value order.
pub async fn project_values(
    db: &impl ConnectionTrait,
    project_ids: &[i64],
    themes: bool,
) -> AppResult<Vec<(i64, String)>> {
    let ids = project_ids.iter().copied();
    Ok(if themes {
        project_theme::Entity::find()
            .select_only()
            .column(project_theme::Column::ProjectId)
            .column(project_theme::Column::Theme)
            .filter(project_theme::Column::ProjectId.is_in(ids))
            .into_tuple()
            .all(db)
            .await?
    } else {
        project_region::Entity::find()
            .select_only()
            .column(project_region::Column::ProjectId)
            .column(project_region::Column::Region)
            .filter(project_region::Column::ProjectId.is_in(ids))
            .into_tuple()
            .all(db)
            .await?
    })
}
