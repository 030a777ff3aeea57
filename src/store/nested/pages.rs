//! The statements of nested connections: for many parents at once, each one's page of related
//! records (through a link table or a child table) and how many it has in all.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic,
    Iterable, JoinType, ModelTrait, QueryFilter, QuerySelect, QueryTrait, Value,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, WindowStatement},
};

use super::{
    ChildQuery, ChildRelation, LinkModel, LinkQuery, LinkRelation, LinkRow, Nested, PAGE,
    Projection, TargetModel, per_parent,
};
use crate::{
    error::{AppError, AppResult},
    store::{
        decode::{Columns, Positional},
        filter::EnumFilter,
        page::{
            Direction, Key, KeyColumn, Position, SortKey, check_position, ordering_name, seek,
            sort_columns,
        },
        records::{Filter, Record},
    },
};

const LINK_PREFIX: &str = "l_";

fn id_of<M: ModelTrait>(model: &M, column: <M::Entity as EntityTrait>::Column) -> AppResult<i64> {
    match model.get(column) {
        Value::BigInt(Some(id)) => Ok(id),
        other => Err(AppError::Internal(anyhow::anyhow!(
            "unexpected id {other:?}"
        ))),
    }
}

/// Checks `after` against the ordering and adds the seek condition.
fn after_condition(
    after: Option<&Position>,
    ordering: &str,
    keys: &[KeyColumn],
) -> AppResult<Option<Condition>> {
    match after {
        None => Ok(None),
        Some(position) => {
            check_position("after", position, ordering, keys)?;
            Ok(Some(seek(keys, &position.keys, false)))
        }
    }
}

/// Numbers each parent's rows, keeps `first + 1` of them, and returns the rows in order.
async fn windowed(
    db: &impl ConnectionTrait,
    mut inner: sea_orm::sea_query::SelectStatement,
    partition: (sea_orm::sea_query::DynIden, sea_orm::sea_query::DynIden),
    partition_alias: String,
    keys: &[KeyColumn],
    first: u64,
) -> AppResult<Vec<sea_orm::QueryResult>> {
    let mut window = WindowStatement::partition_by(partition);
    for key in keys {
        key.order(&mut window, false);
    }
    inner.expr_window_as(Func::cust("ROW_NUMBER"), window, Alias::new("rn"));
    let mut outer = Query::select();
    outer
        .column(Asterisk)
        .from_subquery(inner, Alias::new("page"))
        .and_where(Expr::col(Alias::new("rn")).lte(first as i64 + 1))
        .order_by(Alias::new(partition_alias), Order::Asc)
        .order_by(Alias::new("rn"), Order::Asc);
    Ok(db.query_all(&outer).await?)
}

fn group<M>(rows: Vec<(i64, M, Position)>, first: u64) -> HashMap<i64, Nested<M>> {
    let mut pages: HashMap<i64, Nested<M>> = HashMap::new();
    for (parent, model, position) in rows {
        let page = pages.entry(parent).or_default();
        if page.rows.len() as u64 >= first {
            page.has_next_page = true;
        } else {
            page.rows.push((model, position));
        }
    }
    pages
}

/// For each owner, a page of (link, related record) rows.
pub async fn link_pages<R: LinkRelation>(
    db: &impl ConnectionTrait,
    owners: &[i64],
    query: &LinkQuery<R>,
    projection: Projection,
) -> AppResult<HashMap<i64, Nested<LinkRow<R>>>> {
    if owners.is_empty() {
        return Ok(HashMap::new());
    }
    let link_columns = projection.link;
    let target_columns = sort_columns::<R::Target>(projection.target, &query.order);
    let link_table: &'static str = R::Link::default().table_name();
    let mut needs_record = !query.filter.condition().is_empty();
    let (ordering, keys) = match query.linked {
        // The link's id alone, which is unique: a page of the (owner, id) index.
        Some(direction) => {
            let key = SortKey {
                column: R::LINK_ID,
                direction,
            };
            (
                format!("linked:{}", direction.as_str()),
                vec![KeyColumn::of(&key)],
            )
        }
        None => {
            // The sort keys as the page reads them: the link's copy of a record column where
            // it keeps one, the record's own column otherwise; then the record's id (as the
            // link holds it) and the link's id, which make the order total.
            let mut keys: Vec<KeyColumn> = Vec::with_capacity(query.order.len() + 2);
            for key in &query.order {
                let column = KeyColumn::of(key);
                match R::KEYS.iter().find(|(_, of)| *of == key.column.as_str()) {
                    Some((copy, _)) => keys.push(column.on(link_table, copy)),
                    None => {
                        needs_record = true;
                        keys.push(column);
                    }
                }
            }
            keys.push(KeyColumn::of(&SortKey {
                column: R::TARGET,
                direction: Direction::Asc,
            }));
            keys.push(KeyColumn::of(&SortKey {
                column: R::LINK_ID,
                direction: Direction::Asc,
            }));
            (format!("{},link", ordering_name(&query.order)), keys)
        }
    };

    // The page of link rows, with the sort keys as k0, k1, … for the outer ordering.
    let mut page = R::Link::find().select_only();
    for column in link_columns.pick(<R::Link as EntityTrait>::Column::iter()) {
        page = page.column_as(column, format!("{LINK_PREFIX}{}", column.as_str()));
    }
    let mut page = page.filter(query.filter.condition());
    if needs_record {
        page = page.join(JoinType::InnerJoin, R::to_target());
    }
    if let Some(role) = &query.role {
        page = page.filter(role.condition(R::ROLE));
    }
    if let Some(condition) = after_condition(query.after.as_ref(), &ordering, &keys)? {
        page = page.filter(condition);
    }
    let mut page = page.into_query();
    for (i, key) in keys.iter().enumerate() {
        page.expr_as(Expr::col(key.column.clone()), Alias::new(format!("k{i}")));
    }
    let outer_keys: Vec<KeyColumn> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| key.on(PAGE, &format!("k{i}")))
        .collect();
    let owner_column = format!("{LINK_PREFIX}{}", R::OWNER.as_str());

    // The link's columns, then the record's, each in `Column::iter()` order: the rows are read
    // by position (`decode`).
    let mut outer = Query::select();
    for column in link_columns.pick(<R::Link as EntityTrait>::Column::iter()) {
        outer.column((
            Alias::new(PAGE),
            Alias::new(format!("{LINK_PREFIX}{}", column.as_str())),
        ));
    }
    for column in target_columns.pick(<R::Target as EntityTrait>::Column::iter()) {
        outer.expr_as(
            Expr::col(column.as_column_ref()),
            Alias::new(column.as_str()),
        );
    }
    let limit = query.first + 1;
    if db.get_database_backend() == DbBackend::Postgres {
        for key in &keys {
            key.order(&mut page, false);
        }
        page.limit(limit);
        per_parent(&mut outer, owners, (link_table, R::OWNER.as_str()), page);
    } else {
        page.and_where(R::OWNER.is_in(owners.iter().copied()));
        let mut window = WindowStatement::partition_by(R::OWNER.as_column_ref());
        for key in &keys {
            key.order(&mut window, false);
        }
        page.expr_window_as(Func::cust("ROW_NUMBER"), window, Alias::new("rn"));
        outer
            .from_subquery(page, Alias::new(PAGE))
            .and_where(Expr::col((Alias::new(PAGE), Alias::new("rn"))).lte(limit as i64));
    }
    let target = R::Target::default();
    outer.join(
        JoinType::InnerJoin,
        Alias::new(target.table_name()),
        Expr::col((
            Alias::new(target.table_name()),
            Alias::new(R::Target::ID.as_str()),
        ))
        .equals((
            Alias::new(PAGE),
            Alias::new(format!("{LINK_PREFIX}{}", R::TARGET.as_str())),
        )),
    );
    outer.order_by((Alias::new(PAGE), Alias::new(owner_column)), Order::Asc);
    for key in &outer_keys {
        key.order(&mut outer, false);
    }
    let results = db.query_all(&outer).await?;

    let mut rows = Vec::with_capacity(results.len());
    for result in results {
        let link = LinkModel::<R>::read_selected(&result, 0, link_columns)?;
        let target = TargetModel::<R>::read_selected(
            &result,
            link_columns.count::<LinkModel<R>>(),
            target_columns,
        )?;
        let mut values = Vec::with_capacity(keys.len());
        if query.linked.is_none() {
            for key in &query.order {
                values.push(Key::from_value(target.get(key.column))?);
            }
            values.push(Key::Int(id_of(&target, R::Target::ID)?));
        }
        values.push(Key::Int(id_of(&link, R::LINK_ID)?));
        let owner = id_of(&link, R::OWNER)?;
        rows.push((
            owner,
            (link, target),
            Position {
                ordering: ordering.clone(),
                keys: values,
            },
        ));
    }
    Ok(group(rows, query.first))
}

/// For each owner, how many links match (ignoring the window).
pub async fn link_counts<R: LinkRelation>(
    db: &impl ConnectionTrait,
    owners: &[i64],
    role: Option<&EnumFilter<R::Role>>,
    filter: &R::Filter,
) -> AppResult<HashMap<i64, u64>> {
    let condition = filter.condition();
    if role.is_none() && condition.is_empty() {
        return crate::store::link_counts::kept::<R>(db, owners).await;
    }
    // With a role, only the link table is read (the foreign key guarantees each link has its
    // record); with a filter on the records, the join is needed.
    let mut select = R::Link::find()
        .select_only()
        .column(R::OWNER)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(R::OWNER.is_in(owners.iter().copied()))
        .group_by(R::OWNER);
    if !condition.is_empty() {
        select = select
            .join(JoinType::InnerJoin, R::to_target())
            .filter(condition);
    }
    if let Some(role) = role {
        select = select.filter(role.condition(R::ROLE));
    }
    let counts: Vec<(i64, i64)> = select.into_tuple().all(db).await?;
    Ok(counts
        .into_iter()
        .map(|(owner, n)| (owner, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// For each parent, a page of its children.
pub async fn child_pages<R: ChildRelation>(
    db: &impl ConnectionTrait,
    parents: &[i64],
    query: &ChildQuery<R>,
    columns: Columns,
) -> AppResult<HashMap<i64, Nested<<R::Target as EntityTrait>::Model>>> {
    let columns = sort_columns::<R::Target>(columns, &query.order);
    let ordering = ordering_name(&query.order);
    let mut keys: Vec<KeyColumn> = query.order.iter().map(KeyColumn::of).collect();
    keys.push(KeyColumn::of(&SortKey {
        column: R::Target::ID,
        direction: Direction::Asc,
    }));
    let mut select = R::Target::find()
        .select_only()
        .columns(columns.pick(<R::Target as EntityTrait>::Column::iter()))
        .filter(query.filter.condition());
    if let Some(condition) = after_condition(query.after.as_ref(), &ordering, &keys)? {
        select = select.filter(condition);
    }
    let results = if db.get_database_backend() == DbBackend::Postgres {
        // Each parent's page cut on the (parent, name, id) index: `first + 1` entries read in
        // order, not every child sorted (the migration `m20261207_000001_child_page_indexes`).
        let table = R::Target::default().table_name();
        let mut page = select.into_query();
        for key in &keys {
            key.order(&mut page, false);
        }
        page.limit(query.first + 1);
        // The page's columns as it selects them (rows are read by position), each parent's in
        // its order.
        let mut outer = Query::select();
        outer.column((Alias::new(PAGE), Asterisk));
        per_parent(&mut outer, parents, (table, R::PARENT.as_str()), page);
        outer.order_by(
            (Alias::new(PAGE), Alias::new(R::PARENT.as_str())),
            Order::Asc,
        );
        for key in &keys {
            let name = key.column.1.to_string();
            key.on(PAGE, &name).order(&mut outer, false);
        }
        db.query_all(&outer).await?
    } else {
        let mut select = select.into_query();
        select.and_where(R::PARENT.is_in(parents.iter().copied()));
        windowed(
            db,
            select,
            R::PARENT.as_column_ref(),
            R::PARENT.as_str().to_owned(),
            &keys,
            query.first,
        )
        .await?
    };
    let mut rows = Vec::with_capacity(results.len());
    for result in results {
        let child = <R::Target as EntityTrait>::Model::read_selected(&result, 0, columns)?;
        let mut values = Vec::with_capacity(keys.len());
        for key in &query.order {
            values.push(Key::from_value(child.get(key.column))?);
        }
        values.push(Key::Int(id_of(&child, R::Target::ID)?));
        let parent = id_of(&child, R::PARENT)?;
        rows.push((
            parent,
            child,
            Position {
                ordering: ordering.clone(),
                keys: values,
            },
        ));
    }
    Ok(group(rows, query.first))
}

/// For each parent, how many children match.
pub async fn child_counts<R: ChildRelation>(
    db: &impl ConnectionTrait,
    parents: &[i64],
    filter: &R::Filter,
) -> AppResult<HashMap<i64, u64>> {
    let counts: Vec<(i64, i64)> = R::Target::find()
        .select_only()
        .column(R::PARENT)
        .column_as(Expr::col(R::Target::ID.as_column_ref()).count(), "n")
        .filter(R::PARENT.is_in(parents.iter().copied()))
        .filter(filter.condition())
        .group_by(R::PARENT)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(parent, n)| (parent, u64::try_from(n).unwrap_or(0)))
        .collect())
}
