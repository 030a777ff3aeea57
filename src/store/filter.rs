//! Filter building blocks shared by the entities: text, dates, enums. Each turns into a
//! `Condition` on one column; entity filters combine them with `and`, `or`, `not` and filters
//! through relations.

use sea_orm::{
    ColumnTrait, Condition, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
    RelationDef, Value,
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, SelectStatement},
};

use sea_orm::ConnectionTrait;

use super::records::Record;
use crate::{dates::PartialDate, error::AppResult};
use migration::m20261201_000001_link_order_keys::Side;

/// Conditions on a text column. Every condition set must hold.
#[derive(Debug, Clone, Default)]
pub struct TextFilter {
    pub eq: Option<String>,
    pub ne: Option<String>,
    pub any_of: Option<Vec<String>>,
    /// Case-insensitive substring match.
    pub contains: Option<String>,
    /// Case-insensitive prefix match.
    pub starts_with: Option<String>,
    pub is_null: Option<bool>,
}

/// Escapes LIKE wildcards so user text matches literally (`\` is the escape character).
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `lower(column) LIKE lower(pattern)`: case-insensitive on PostgreSQL and SQLite alike.
fn ilike(column: impl ColumnTrait, pattern: String) -> Expr {
    Expr::expr(Func::lower(Expr::col(column.as_column_ref())))
        .like(LikeExpr::new(pattern.to_lowercase()).escape('\\'))
}

impl TextFilter {
    pub fn condition(&self, column: impl ColumnTrait) -> Condition {
        let mut all = Condition::all();
        if let Some(v) = &self.eq {
            all = all.add(column.eq(v.clone()));
        }
        if let Some(v) = &self.ne {
            all = all.add(
                Condition::any()
                    .add(column.ne(v.clone()))
                    .add(column.is_null()),
            );
        }
        if let Some(values) = &self.any_of {
            all = all.add(column.is_in(values.clone()));
        }
        if let Some(v) = &self.contains {
            all = all.add(ilike(column, format!("%{}%", like_literal(v))));
        }
        if let Some(v) = &self.starts_with {
            all = all.add(ilike(column, format!("{}%", like_literal(v))));
        }
        if let Some(is_null) = self.is_null {
            all = all.add(if is_null {
                column.is_null()
            } else {
                column.is_not_null()
            });
        }
        all
    }
}

/// Conditions on a partial date. A stored date is the first day of its period; bounds are read
/// at the precision they are written in: `after: "2015"` means from 2016 on, `to: "2015"`
/// includes all of 2015.
#[derive(Debug, Clone, Default)]
pub struct DateFilter {
    /// Strictly after the whole period.
    pub after: Option<PartialDate>,
    /// Strictly before the period begins.
    pub before: Option<PartialDate>,
    /// On or after the period begins.
    pub from: Option<PartialDate>,
    /// On or before the period ends.
    pub to: Option<PartialDate>,
    pub is_null: Option<bool>,
}

impl DateFilter {
    pub fn condition(&self, column: impl ColumnTrait) -> Condition {
        self.condition_on(Expr::col(column.as_column_ref()))
    }

    /// The same conditions on any date expression (a copy of the date on a link row).
    pub fn condition_on(&self, column: Expr) -> Condition {
        let mut all = Condition::all();
        if let Some(d) = self.after {
            all = all.add(column.clone().gt(d.last_day()));
        }
        if let Some(d) = self.before {
            all = all.add(column.clone().lt(d.date));
        }
        if let Some(d) = self.from {
            all = all.add(column.clone().gte(d.date));
        }
        if let Some(d) = self.to {
            all = all.add(column.clone().lte(d.last_day()));
        }
        if let Some(is_null) = self.is_null {
            all = all.add(if is_null {
                column.is_null()
            } else {
                column.is_not_null()
            });
        }
        all
    }
}

/// Conditions on an enumeration column.
#[derive(Debug, Clone)]
pub struct EnumFilter<T> {
    pub eq: Option<T>,
    pub ne: Option<T>,
    pub any_of: Option<Vec<T>>,
    pub none_of: Option<Vec<T>>,
    pub is_null: Option<bool>,
}

impl<T> Default for EnumFilter<T> {
    fn default() -> Self {
        Self {
            eq: None,
            ne: None,
            any_of: None,
            none_of: None,
            is_null: None,
        }
    }
}

impl<T: Clone + Into<Value>> EnumFilter<T> {
    pub fn condition(&self, column: impl ColumnTrait) -> Condition {
        let mut all = Condition::all();
        if let Some(v) = &self.eq {
            all = all.add(column.eq(v.clone()));
        }
        if let Some(v) = &self.ne {
            all = all.add(
                Condition::any()
                    .add(column.ne(v.clone()))
                    .add(column.is_null()),
            );
        }
        if let Some(values) = &self.any_of {
            all = all.add(
                column.is_in(
                    values
                        .iter()
                        .cloned()
                        .map(Into::into)
                        .collect::<Vec<Value>>(),
                ),
            );
        }
        if let Some(values) = &self.none_of {
            all = all.add(
                Condition::any()
                    .add(
                        column.is_not_in(
                            values
                                .iter()
                                .cloned()
                                .map(Into::into)
                                .collect::<Vec<Value>>(),
                        ),
                    )
                    .add(column.is_null()),
            );
        }
        if let Some(is_null) = self.is_null {
            all = all.add(if is_null {
                column.is_null()
            } else {
                column.is_not_null()
            });
        }
        all
    }
}

/// Combines a filter's own conditions with its `and`, `or` and `not` parts.
pub fn combine<F>(
    own: Condition,
    and: &[F],
    or: &[F],
    not: Option<&F>,
    condition: impl Fn(&F) -> Condition,
) -> Condition {
    let mut all = own;
    for f in and {
        all = all.add(condition(f));
    }
    if !or.is_empty() {
        all = all.add(
            or.iter()
                .fold(Condition::any(), |any, f| any.add(condition(f))),
        );
    }
    if let Some(f) = not {
        all = all.add(condition(f).not());
    }
    all
}

/// A link to match: its role and the record at its other end.
#[derive(Debug, Clone)]
pub struct Link<R, F> {
    pub role: Option<EnumFilter<R>>,
    pub target: Option<F>,
    /// The ids of the records `target` names, when it names them by slug alone, looked up
    /// before the statement ([`Link::resolve`]). Then the statement compares the link's column
    /// with constants, which the planner can estimate: a hub's 24,733 event links were planned as
    /// 48 when the slug was matched inside the statement (docs/BENCHMARKS.md).
    pub target_ids: Option<Vec<i64>>,
}

impl<R, F> Link<R, F> {
    pub fn new(role: Option<EnumFilter<R>>, target: Option<F>) -> Self {
        Self {
            role,
            target,
            target_ids: None,
        }
    }
}

impl<R: Send, F: NamedBySlug + Send> Link<R, F> {
    /// Looks up the ids of the target records when the target filter names them by slug alone.
    pub async fn resolve<E: Record>(&mut self, db: &impl ConnectionTrait) -> AppResult<()> {
        if let Some(slugs) = self.target.as_ref().and_then(NamedBySlug::slugs) {
            self.target_ids = Some(ids_by_slug::<E>(db, &slugs).await?);
        }
        Ok(())
    }
}

/// The ids of the records with these slugs.
async fn ids_by_slug<E: Record>(
    db: &impl ConnectionTrait,
    slugs: &[String],
) -> AppResult<Vec<i64>> {
    Ok(E::find()
        .select_only()
        .column(E::ID)
        .filter(E::SLUG.is_in(slugs.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?)
}

/// A filter that may name its records by slug alone (`{slug: {eq: "ilo"}}` or `{slug: {in:
/// […]}}`, nothing else).
pub trait NamedBySlug {
    fn slugs(&self) -> Option<Vec<String>>;
}

impl TextFilter {
    /// The values of an `eq` or an `in`, when that is all this filter asks.
    pub fn exact_values(&self) -> Option<Vec<String>> {
        let Self {
            eq,
            ne,
            any_of,
            contains,
            starts_with,
            is_null,
        } = self;
        if ne.is_some() || contains.is_some() || starts_with.is_some() || is_null.is_some() {
            return None;
        }
        match (eq, any_of) {
            (Some(eq), None) => Some(vec![eq.clone()]),
            (None, Some(values)) => Some(values.clone()),
            _ => None,
        }
    }
}

/// `SELECT <select> FROM <link table> JOIN <target> WHERE <role and target conditions>`: the ids
/// at one end of the links that match, for an `IN (…)` condition.
/// With the target's ids resolved, the link table alone, on `target_id IN (ids)`.
pub fn linked_ids<L, R, F>(
    select: L::Column,
    (target_id, to_target): (L::Column, RelationDef),
    role: L::Column,
    link: &Link<R, F>,
    target_condition: impl Fn(&F) -> Condition,
) -> SelectStatement
where
    L: EntityTrait,
    R: Clone + Into<Value>,
{
    let mut query = L::find().select_only().column(select);
    if let Some(f) = &link.role {
        query = query.filter(f.condition(role));
    }
    match (&link.target_ids, &link.target) {
        (Some(ids), _) => query = query.filter(target_id.is_in(ids.iter().copied())),
        (None, Some(target)) => {
            query = query
                .join(JoinType::InnerJoin, to_target)
                .filter(target_condition(target));
        }
        (None, None) => query = query.join(JoinType::InnerJoin, to_target),
    }
    query.into_query()
}

/// The statement counting the records a filter matches from their link rows alone, when the
/// filter is one relation whose records it names by slug (their ids resolved before), perhaps a
/// role, and conditions on dates the link rows copy of the record (`dates`: the record's date
/// column and its filter). `COUNT(DISTINCT record id)` over one range of the link table's
/// (target, copy, record, link) index: the ILO's 7,588 events since 2015 are counted from as
/// many index entries (3 ms at scale 1) instead of fetching the events (~100 ms). `None` when
/// the relation's records are not named by slug alone.
pub fn count_by_links<L, R, F>(
    (record_id, target_id, role): (L::Column, L::Column, L::Column),
    link: &Link<R, F>,
    record: &Side,
    dates: &[(&str, &Option<DateFilter>)],
) -> Option<SelectStatement>
where
    L: EntityTrait,
    R: Clone + Into<Value>,
{
    let ids = link.target_ids.as_ref()?;
    let mut query = L::find()
        .select_only()
        .expr_as(
            Func::count_distinct(Expr::col(record_id.as_column_ref())),
            "count",
        )
        .filter(target_id.is_in(ids.iter().copied()));
    if let Some(f) = &link.role {
        query = query.filter(f.condition(role));
    }
    for (column, filter) in dates {
        let Some(filter) = filter else { continue };
        // Every date a link copies is in its side's keys (the migration names them once).
        let (copy, _) = record.keys.iter().find(|(_, of)| of == column)?;
        query = query.filter(filter.condition_on(Expr::col((L::default(), Alias::new(*copy)))));
    }
    Some(query.into_query())
}

/// [`count_by_links`] over the link table `$link` (a module of `entity`), whose `$record` column
/// names the counted record and `$target` the relation's record.
macro_rules! count_links {
    ($link:ident, $record:ident, $target:ident, $filter:expr, $side:expr, $dates:expr) => {{
        use entity::$link::{Column as L, Entity};
        $crate::store::filter::count_by_links::<Entity, _, _>(
            (L::$record, L::$target, L::Role),
            $filter,
            $side,
            $dates,
        )
    }};
}
pub(crate) use count_links;

/// `column IN (SELECT id FROM <E> WHERE condition)`: for filters through a to-one reference.
pub fn references<E: EntityTrait>(
    column: impl ColumnTrait,
    id: E::Column,
    condition: Condition,
) -> Expr {
    column.in_subquery(
        E::find()
            .select_only()
            .column(id)
            .filter(condition)
            .into_query(),
    )
}
