//! Aggregates over a list of records, whole or in groups: how many, how many distinct values of
//! a column, the earliest and latest of a partial date, how many links hold each role.
//!
//! Every list has one statement: the records of the list (top-level: all that match the filter;
//! nested: the children or the links of many parents at once, `GROUP BY` the parent), grouped by
//! the keys asked for, with every measure the query selects as a column of its own. So a nested
//! aggregate costs one statement per level however many parents it has, like a nested page.
//!
//! The same SQL runs on PostgreSQL and SQLite: dates are read through their ISO text (`CAST(d AS
//! TEXT)` is `YYYY-MM-DD` on both), which makes a year `SUBSTR(…, 1, 4)` and a month `SUBSTR(…, 1,
//! 7)` without either engine's date functions. The earliest and latest partial dates are the
//! smallest and largest of `date || ' ' || precision`: ordered by their first day like every
//! list ordering, and among dates that begin on the same day the earliest is given at its finest
//! precision (`day` < `month` < `year` as text) and the latest at its coarsest, the one whose
//! period ends last.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, JoinType, QueryFilter,
    QueryResult, QuerySelect, QueryTrait, Statement,
    sea_query::{Alias, Expr, ExprTrait, Order, PostgresQueryBuilder, SelectStatement, SimpleExpr},
};

use super::{
    filter::EnumFilter,
    nested::{ChildRelation, LinkRelation},
    records::{Filter, Record},
};
use crate::{
    dates::PartialDate,
    error::{AppError, AppResult},
};

/// A partial date's two columns on the list's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateColumns {
    pub date: &'static str,
    pub precision: &'static str,
}

/// What to compute over each list (or group): the count always, and these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Measures {
    /// Columns of the records whose distinct non-null values are counted.
    pub distinct: Vec<&'static str>,
    /// Partial dates whose earliest value is asked for.
    pub min: Vec<DateColumns>,
    /// Partial dates whose latest value is asked for.
    pub max: Vec<DateColumns>,
    /// The stored values of the link's roles to count the links of (links only).
    pub roles: Vec<String>,
}

/// One key of a grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// A column of the records, its stored value as text (an enumeration's string, an id).
    Column(&'static str),
    /// The year of a partial date (`2020`); none for undated records.
    Year(DateColumns),
    /// The month of a partial date (`2020-06`), or only its year (`2020`) when the date is known
    /// to the year only; none for undated records.
    Month(DateColumns),
    /// The link's role (links only).
    Role,
    /// A value of the records kept in another table, one row per value (a project's regions, an
    /// event's participants): `table.value` where `table.owner` is the record's id. A record
    /// with several values falls in each of their groups, one with none in the group with no
    /// value.
    Joined(Joined),
}

/// A table of values of the records (see [`GroupKey::Joined`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Joined {
    pub table: &'static str,
    pub owner: &'static str,
    pub value: &'static str,
    /// Only the rows whose `role` is this (a link table's role, as stored): the values of the
    /// records in that role; records with none in it fall in the group with no value.
    pub role: Option<&'static str>,
}

/// How to group: the keys, the bounds on each group's count (`HAVING`), and the most groups
/// one list (one parent's, in a nested statement) may make before it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grouping {
    pub keys: Vec<GroupKey>,
    pub min_count: Option<u64>,
    pub max_count: Option<u64>,
    pub limit: usize,
    /// The order the groups are returned in and how many: applied in the statement for a
    /// top-level list (so "the 10 largest of 10,000 groups" reads 10 rows and is not refused),
    /// and by the caller for nested lists.
    pub top: Option<Top>,
}

/// The first groups in an order: by count then keys, or by keys alone; each key's text in
/// byte order, groups with no value last (first when descending, the whole order reversed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Top {
    pub by_count: bool,
    pub descending: bool,
    pub first: usize,
}

/// What is asked of one list: the measures, over the whole list or per group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AggregateQuery {
    pub measures: Measures,
    pub grouping: Option<Grouping>,
}

/// The measures of one list or group, in the order `Measures` asks for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    /// The group's key values, one per key (empty without a grouping); `None` where the
    /// records have no value (undated, no role).
    pub key: Vec<Option<String>>,
    pub count: u64,
    pub distinct: Vec<u64>,
    pub min: Vec<Option<PartialDate>>,
    pub max: Vec<Option<PartialDate>>,
    pub roles: Vec<u64>,
}

/// The alias of the owner (parent) column in nested statements.
const OWNER: &str = "owner";

/// `"table"."column"`: names come from the entities (code), never from a request.
fn qualified(table: &str, column: &str) -> String {
    format!("\"{table}\".\"{column}\"")
}

/// `CAST("t"."date" AS TEXT)`: `YYYY-MM-DD` on both engines.
fn date_text(table: &str, date: &str) -> String {
    format!("CAST({} AS TEXT)", qualified(table, date))
}

/// Adds each key and measure as an aliased expression (`g0…`, `n`, `d0…`, `lo0…`, `hi0…`,
/// `r0…`) and groups by the keys.
fn add_measures(
    select: &mut SelectStatement,
    backend: DbBackend,
    target: &str,
    link: Option<&str>,
    query: &AggregateQuery,
    owners: Option<usize>,
) -> AppResult<()> {
    let keys = query.grouping.as_ref().map_or(&[][..], |g| &g.keys[..]);
    // A key through a table of values repeats a record once per value: each group then counts
    // its records (or links) once, by id.
    let repeats = keys.iter().any(|k| matches!(k, GroupKey::Joined(_)));
    let counted = qualified(link.unwrap_or(target), "id");
    let count = if repeats {
        format!("COUNT(DISTINCT {counted})")
    } else {
        "COUNT(*)".to_owned()
    };
    let mut key_exprs = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let expr = match key {
            GroupKey::Joined(joined) => {
                let alias = format!("j{i}");
                let mut on = Expr::col((Alias::new(&alias), Alias::new(joined.owner)))
                    .equals((Alias::new(target), Alias::new("id")));
                if let Some(role) = joined.role {
                    on = on.and(Expr::col((Alias::new(&alias), Alias::new("role"))).eq(role));
                }
                select.join_as(
                    JoinType::LeftJoin,
                    Alias::new(joined.table),
                    Alias::new(&alias),
                    on,
                );
                format!("CAST({} AS TEXT)", qualified(&alias, joined.value))
            }
            // As text, whatever its type: an enumeration's string or a reference's id.
            GroupKey::Column(column) => format!("CAST({} AS TEXT)", qualified(target, column)),
            GroupKey::Year(d) => format!("SUBSTR({}, 1, 4)", date_text(target, d.date)),
            GroupKey::Month(d) => format!(
                "CASE WHEN {} = 'year' THEN SUBSTR({text}, 1, 4) ELSE SUBSTR({text}, 1, 7) END",
                qualified(target, d.precision),
                text = date_text(target, d.date),
            ),
            GroupKey::Role => match link {
                Some(link) => qualified(link, "role"),
                None => return Err(AppError::bad_field("by", "only links have a role")),
            },
        };
        select.expr_as(Expr::cust(expr.clone()), Alias::new(format!("g{i}")));
        key_exprs.push(expr);
    }
    select.expr_as(Expr::cust(count.clone()), Alias::new("n"));
    for (i, column) in query.measures.distinct.iter().enumerate() {
        select.expr_as(
            Expr::cust(format!("COUNT(DISTINCT {})", qualified(target, column))),
            Alias::new(format!("d{i}")),
        );
    }
    for (name, function, dates) in [
        ("lo", "MIN", &query.measures.min),
        ("hi", "MAX", &query.measures.max),
    ] {
        for (i, d) in dates.iter().enumerate() {
            select.expr_as(
                Expr::cust(format!(
                    "{function}({} || ' ' || {})",
                    date_text(target, d.date),
                    qualified(target, d.precision)
                )),
                Alias::new(format!("{name}{i}")),
            );
        }
    }
    for (i, role) in query.measures.roles.iter().enumerate() {
        let Some(link) = link else {
            return Err(AppError::bad_input("only links have roles"));
        };
        // The values are the entity's own (lowercase words): safe to write inline.
        if !role.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(AppError::Internal(anyhow::anyhow!(
                "unexpected role {role}"
            )));
        }
        select.expr_as(
            Expr::cust(format!(
                "COUNT(DISTINCT CASE WHEN {} = '{role}' THEN {} END)",
                qualified(link, "role"),
                qualified(link, "id")
            )),
            Alias::new(format!("r{i}")),
        );
    }
    // By the output names: the same expression written twice with bound parameters would not
    // be recognized as one by PostgreSQL.
    if owners.is_some() {
        select.group_by_col(Alias::new(OWNER));
    }
    for i in 0..keys.len() {
        select.group_by_col(Alias::new(format!("g{i}")));
    }
    if let Some(grouping) = &query.grouping {
        if let Some(min) = grouping.min_count {
            select.and_having(Expr::cust(count.clone()).gte(min as i64));
        }
        if let Some(max) = grouping.max_count {
            select.and_having(Expr::cust(count.clone()).lte(max as i64));
        }
        // One more than every list may make says that one made too many; what a statement
        // reads stays bounded by its parents.
        let lists = owners.unwrap_or(1) as u64;
        let mut limit = (grouping.limit as u64)
            .saturating_mul(lists)
            .saturating_add(1);
        if let (Some(top), None) = (grouping.top, owners) {
            add_order(select, backend, &count, &key_exprs, top);
            limit = Ord::min(limit, top.first as u64);
        }
        select.limit(limit);
    }
    Ok(())
}

/// Orders a top-level grouping as [`Top`] says, in the same order the caller sorts in: keys
/// compared as bytes (`COLLATE "C"` on PostgreSQL; SQLite's text compares as bytes), no value
/// after every value (`IS NULL` first, which both engines order false before true).
fn add_order(
    select: &mut SelectStatement,
    backend: DbBackend,
    count: &str,
    keys: &[String],
    top: Top,
) {
    let order = if top.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    if top.by_count {
        select.order_by_expr(Expr::cust(count.to_owned()), order.clone());
    }
    for key in keys {
        select.order_by_expr(Expr::cust(format!("{key} IS NULL")), order.clone());
        let bytes = match backend {
            DbBackend::Postgres => format!("{key} COLLATE \"C\""),
            _ => key.clone(),
        };
        select.order_by_expr(Expr::cust(bytes), order.clone());
    }
}

/// `YYYY-MM-DD precision` back into a partial date.
fn partial_date(text: Option<String>) -> AppResult<Option<PartialDate>> {
    let Some(text) = text else { return Ok(None) };
    let parsed = text.split_once(' ').and_then(|(date, precision)| {
        Some(PartialDate {
            date: chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
            precision: <entity::DatePrecision as sea_orm::ActiveEnum>::try_from_value(
                &precision.to_owned(),
            )
            .ok()?,
        })
    });
    parsed
        .map(Some)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unexpected partial date {text:?}")))
}

fn count(row: &QueryResult, alias: &str) -> AppResult<u64> {
    let n: Option<i64> = row.try_get("", alias)?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// Reads one row of a statement built by `add_measures`.
fn read(row: &QueryResult, query: &AggregateQuery) -> AppResult<Aggregate> {
    let keys = query.grouping.as_ref().map_or(0, |g| g.keys.len());
    let mut aggregate = Aggregate {
        count: count(row, "n")?,
        ..Aggregate::default()
    };
    for i in 0..keys {
        aggregate.key.push(row.try_get("", &format!("g{i}"))?);
    }
    for i in 0..query.measures.distinct.len() {
        aggregate.distinct.push(count(row, &format!("d{i}"))?);
    }
    for i in 0..query.measures.min.len() {
        aggregate
            .min
            .push(partial_date(row.try_get("", &format!("lo{i}"))?)?);
    }
    for i in 0..query.measures.max.len() {
        aggregate
            .max
            .push(partial_date(row.try_get("", &format!("hi{i}"))?)?);
    }
    for i in 0..query.measures.roles.len() {
        aggregate.roles.push(count(row, &format!("r{i}"))?);
    }
    Ok(aggregate)
}

/// Refuses a list that made more groups than its grouping allows (`rows`: its groups, or all
/// the groups of a nested statement's `lists` parents).
fn check_limit(rows: usize, lists: usize, query: &AggregateQuery) -> AppResult<()> {
    match &query.grouping {
        Some(g) if rows > g.limit.saturating_mul(lists) => Err(AppError::bad_field(
            "groups",
            format!(
                "the grouping makes more than {} groups of one list; narrow the filter, raise \
                 `having`, or group by fewer or coarser keys",
                g.limit
            ),
        )),
        _ => Ok(()),
    }
}

/// The aggregates of every record that matches `filter`: one row without a grouping (a count
/// of 0 when none match), one per group with one.
pub async fn of_records<E: Record>(
    db: &impl ConnectionTrait,
    filter: &impl Filter,
    query: &AggregateQuery,
) -> AppResult<Vec<Aggregate>> {
    let mut select = E::find()
        .select_only()
        .filter(filter.condition())
        .into_query();
    add_measures(
        &mut select,
        db.get_database_backend(),
        E::default().table_name(),
        None,
        query,
        None,
    )?;
    let rows = db.query_all(&select).await?;
    check_limit(rows.len(), 1, query)?;
    rows.iter().map(|row| read(row, query)).collect()
}

/// Runs a nested statement over `owners` (`select`: the records or links of any owner, `owner`:
/// the column naming it) and reads its rows into each owner's list of aggregates.
///
/// On PostgreSQL each owner's list is aggregated on its own, under `LATERAL` over the owners'
/// ids: the planner then estimates the groups of one list (the handful of kinds of a hub's
/// events), where `GROUP BY owner, …` over all of them made it assume one group per link and,
/// under the statement's `LIMIT`, walk every event in key order to stream the groups (the ILO's
/// 24,733 event links by kind, at scale 1: 258 ms that way, 45 ms this way). It also bounds
/// each list by its own `LIMIT`. SQLite has no `LATERAL`: one statement grouped by owner.
async fn per_owner(
    db: &impl ConnectionTrait,
    mut select: SelectStatement,
    owner: SimpleExpr,
    (target, link): (&str, Option<&str>),
    owners: &[i64],
    query: &AggregateQuery,
) -> AppResult<HashMap<i64, Vec<Aggregate>>> {
    let backend = db.get_database_backend();
    let rows = if backend == DbBackend::Postgres {
        select.and_where(owner.eq(Expr::cust("parent_ids.owner")));
        add_measures(&mut select, backend, target, link, query, None)?;
        let (sql, values) = select.build(PostgresQueryBuilder);
        let ids: Vec<String> = owners.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT parent_ids.owner AS {OWNER}, grouped.* \
             FROM unnest(ARRAY[{}]::bigint[]) AS parent_ids(owner) \
             CROSS JOIN LATERAL ({sql}) AS grouped",
            ids.join(",")
        );
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, values.0))
            .await?
    } else {
        select
            .expr_as(owner.clone(), Alias::new(OWNER))
            .and_where(owner.is_in(owners.iter().copied()));
        add_measures(
            &mut select,
            backend,
            target,
            link,
            query,
            Some(owners.len()),
        )?;
        db.query_all(&select).await?
    };
    check_limit(rows.len(), owners.len(), query)?;
    let mut out: HashMap<i64, Vec<Aggregate>> = HashMap::new();
    for row in &rows {
        let owner: i64 = row.try_get("", OWNER)?;
        let aggregate = read(row, query)?;
        // Without a grouping every owner has a row, a count of 0 for those without any: left
        // out, as in the grouped statement.
        if query.grouping.is_none() && aggregate.count == 0 {
            continue;
        }
        out.entry(owner).or_default().push(aggregate);
    }
    for groups in out.values() {
        check_limit(groups.len(), 1, query)?;
    }
    Ok(out)
}

/// For each parent, the aggregates of its children that match `filter` (parents without any
/// are left out).
pub async fn of_children<R: ChildRelation>(
    db: &impl ConnectionTrait,
    parents: &[i64],
    filter: &R::Filter,
    query: &AggregateQuery,
) -> AppResult<HashMap<i64, Vec<Aggregate>>> {
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let select = R::Target::find()
        .select_only()
        .filter(filter.condition())
        .into_query();
    per_owner(
        db,
        select,
        R::PARENT.into_expr(),
        (R::Target::default().table_name(), None),
        parents,
        query,
    )
    .await
}

/// For each owner, the aggregates of its links whose role and record match (owners without
/// any are left out). `count` counts links, as a link connection's `totalCount` does.
pub async fn of_links<R: LinkRelation>(
    db: &impl ConnectionTrait,
    owners: &[i64],
    role: Option<&EnumFilter<R::Role>>,
    filter: &R::Filter,
    query: &AggregateQuery,
) -> AppResult<HashMap<i64, Vec<Aggregate>>> {
    if owners.is_empty() {
        return Ok(HashMap::new());
    }
    let condition = filter.condition();
    // The link table alone answers counts by role; anything about the records joins them.
    let needs_record = !condition.is_empty()
        || !query.measures.distinct.is_empty()
        || !query.measures.min.is_empty()
        || !query.measures.max.is_empty()
        || query
            .grouping
            .as_ref()
            .is_some_and(|g| g.keys.iter().any(|k| !matches!(k, GroupKey::Role)));
    let mut select = R::Link::find().select_only();
    if needs_record {
        select = select
            .join(JoinType::InnerJoin, R::to_target())
            .filter(condition);
    }
    if let Some(role) = role {
        select = select.filter(role.condition(R::ROLE));
    }
    per_owner(
        db,
        select.into_query(),
        R::OWNER.into_expr(),
        (
            R::Target::default().table_name(),
            Some(R::Link::default().table_name()),
        ),
        owners,
        query,
    )
    .await
}
