//! Reads every kind of record shares: by slug, by ids, a filtered and ordered page, a count.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, PaginatorTrait, QueryFilter, QueryTrait,
    sea_query::SelectStatement,
};

use super::{
    decode::{self, Columns, Positional},
    page::{self, Page, PageArgs, SortKey},
    write::Bookkept,
};
use crate::error::AppResult;

/// A filter on one kind of record.
pub trait Filter {
    fn condition(&self) -> Condition;
    /// Looks up what the filter names by slug through a relation, before its statements run
    /// (see `filter::Link::target_ids`).
    fn resolve<'a>(
        &'a mut self,
        db: &'a sea_orm::DatabaseConnection,
    ) -> futures::future::BoxFuture<'a, AppResult<()>>;
    /// A statement counting the matching records from link rows alone, when the filter allows
    /// it (`filter::count_by_links`): one relation named by slug, dates the links copy.
    fn count_by_links(&self) -> Option<SelectStatement> {
        None
    }
}

macro_rules! filter {
    ($($path:path $(, by links $links:ident)?);* $(;)?) => {$(
        impl Filter for $path {
            fn condition(&self) -> Condition {
                <$path>::condition(self)
            }
            $(
            fn count_by_links(&self) -> Option<SelectStatement> {
                <$path>::$links(self)
            }
            )?

            fn resolve<'a>(
                &'a mut self,
                db: &'a sea_orm::DatabaseConnection,
            ) -> futures::future::BoxFuture<'a, AppResult<()>> {
                Box::pin(<$path>::resolve_links(self, db))
            }
        }
    )*};
}

filter!(
    super::organizations::OrganizationFilter, by links count_by_links;
    super::agreements::AgreementFilter, by links count_by_links;
    super::projects::ProjectFilter, by links count_by_links;
    super::events::EventFilter, by links count_by_links;
    super::instruments::InstrumentFilter;
);

/// A table of records with an `id` and a unique `slug` (a row's id from [`Bookkept::id_of`],
/// as every table's).
pub trait Record: Bookkept<Model: Sync + Positional> {
    const ID: Self::Column;
    const SLUG: Self::Column;
}

macro_rules! record {
    ($($module:ident),* $(,)?) => {$(
        impl Record for entity::$module::Entity {
            const ID: entity::$module::Column = entity::$module::Column::Id;
            const SLUG: entity::$module::Column = entity::$module::Column::Slug;
        }
    )*};
}

record!(organization, agreement, project, event, instrument);

pub async fn find_by_slug<E: Record>(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<E::Model>> {
    Ok(E::find().filter(E::SLUG.eq(slug)).one(db).await?)
}

/// The records with these ids, in no particular order (for loaders).
pub async fn find_by_ids<E: Record>(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<E::Model>> {
    let select = E::find().filter(E::ID.is_in(ids.iter().copied()));
    decode::all(&db.query_all(&select.into_query()).await?)
}

/// One page of the records matching `filter`, in `order` then id, reading `columns`.
pub async fn list<E: Record>(
    db: &impl ConnectionTrait,
    filter: &impl Filter,
    order: &[SortKey<E::Column>],
    args: &PageArgs,
    columns: Columns,
) -> AppResult<Page<E::Model>> {
    let select = E::find().filter(filter.condition());
    page::fetch_page(db, select, order, E::ID, args, columns).await
}

/// How many records match `filter`.
pub async fn count<E: Record>(db: &impl ConnectionTrait, filter: &impl Filter) -> AppResult<u64> {
    let Some(by_links) = filter.count_by_links() else {
        return Ok(E::find().filter(filter.condition()).count(db).await?);
    };
    let count = match db.query_one(&by_links).await? {
        Some(row) => row.try_get::<i64>("", "count")?,
        None => 0,
    };
    Ok(u64::try_from(count).unwrap_or_default())
}
