//! Nested connections: a page of related records for each of many parents, in one statement.
//!
//! `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY keys)` numbers each parent's rows in the
//! requested order, and the outer query keeps the first `first + 1` of each (the extra row says
//! whether there is a next page). Both PostgreSQL and SQLite run it. Rows come through a link
//! table (an agreement's parties, with their role) or straight from a child table (an
//! organization's children); either way the related record's columns keep their names and the
//! link's columns are read under the `l_` prefix.

use std::{collections::HashMap, fmt::Debug};

use entity::{
    EventRole, InstrumentRole, PartyRole, ProjectRole, agreement, agreement_instrument,
    agreement_party, event, event_instrument, event_participant, instrument, organization, project,
    project_instrument, project_participant,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    JoinType, ModelTrait, QueryFilter, QuerySelect, QueryTrait, RelationDef, RelationTrait, Value,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, WindowStatement},
};

use super::{
    agreements::AgreementFilter,
    events::EventFilter,
    filter::EnumFilter,
    instruments::InstrumentFilter,
    organizations::OrganizationFilter,
    page::{Direction, Key, KeyColumn, Position, SortKey, check_position, ordering_name, seek},
    projects::ProjectFilter,
    records::{Filter, Record},
};
use crate::error::{AppError, AppResult};

/// What a nested list asks for: its filters, its order and its window.
#[derive(Debug, Clone)]
pub struct NestedQuery<Role, F, C> {
    /// On the link's role (links only).
    pub role: Option<EnumFilter<Role>>,
    /// On the related records.
    pub filter: F,
    pub order: Vec<SortKey<C>>,
    pub first: u64,
    pub after: Option<Position>,
}

/// One parent's page.
#[derive(Debug, Clone)]
pub struct Nested<M> {
    pub rows: Vec<(M, Position)>,
    pub has_next_page: bool,
}

impl<M> Default for Nested<M> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            has_next_page: false,
        }
    }
}

/// A many-to-many relation through a link table with a role.
pub trait LinkRelation: Send + Sync + 'static {
    type Link: EntityTrait<Model: Clone + Send + Sync>;
    type Target: Record<Model: Clone + Send + Sync>;
    type Role: Clone + Debug + Into<Value> + Send + Sync;
    type Filter: Filter + Debug + Clone + Send + Sync + Default;
    /// The link column holding the parent's id.
    const OWNER: <Self::Link as EntityTrait>::Column;
    const LINK_ID: <Self::Link as EntityTrait>::Column;
    const ROLE: <Self::Link as EntityTrait>::Column;
    /// The join from the link table to the related records.
    fn to_target() -> RelationDef;
}

/// A one-to-many relation: the child table holds the parent's id.
pub trait ChildRelation: Send + Sync + 'static {
    type Target: Record<Model: Clone + Send + Sync>;
    type Filter: Filter + Debug + Clone + Send + Sync + Default;
    const PARENT: <Self::Target as EntityTrait>::Column;
}

pub type LinkQuery<R> = NestedQuery<
    <R as LinkRelation>::Role,
    <R as LinkRelation>::Filter,
    <<R as LinkRelation>::Target as EntityTrait>::Column,
>;
pub type ChildQuery<R> = NestedQuery<
    (),
    <R as ChildRelation>::Filter,
    <<R as ChildRelation>::Target as EntityTrait>::Column,
>;
pub type LinkRow<R> = (
    <<R as LinkRelation>::Link as EntityTrait>::Model,
    <<R as LinkRelation>::Target as EntityTrait>::Model,
);

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
) -> AppResult<HashMap<i64, Nested<LinkRow<R>>>> {
    let ordering = format!("{},link", ordering_name(&query.order));
    let mut keys: Vec<KeyColumn> = query.order.iter().map(KeyColumn::of).collect();
    keys.push(KeyColumn::of(&SortKey {
        column: R::Target::ID,
        direction: Direction::Asc,
    }));
    keys.push(KeyColumn::of(&SortKey {
        column: R::LINK_ID,
        direction: Direction::Asc,
    }));

    let mut select = R::Link::find().select_only();
    for column in <R::Target as EntityTrait>::Column::iter() {
        select = select.column_as(column, column.as_str());
    }
    for column in <R::Link as EntityTrait>::Column::iter() {
        select = select.column_as(column, format!("{LINK_PREFIX}{}", column.as_str()));
    }
    let mut select = select
        .join(JoinType::InnerJoin, R::to_target())
        .filter(R::OWNER.is_in(owners.iter().copied()))
        .filter(query.filter.condition());
    if let Some(role) = &query.role {
        select = select.filter(role.condition(R::ROLE));
    }
    if let Some(condition) = after_condition(query.after.as_ref(), &ordering, &keys)? {
        select = select.filter(condition);
    }
    let partition_alias = format!("{LINK_PREFIX}{}", R::OWNER.as_str());
    let results = windowed(
        db,
        select.into_query(),
        R::OWNER.as_column_ref(),
        partition_alias,
        &keys,
        query.first,
    )
    .await?;

    let mut rows = Vec::with_capacity(results.len());
    for result in results {
        let link = <<R::Link as EntityTrait>::Model as FromQueryResult>::from_query_result(
            &result,
            LINK_PREFIX,
        )?;
        let target =
            <<R::Target as EntityTrait>::Model as FromQueryResult>::from_query_result(&result, "")?;
        let mut values = Vec::with_capacity(keys.len());
        for key in &query.order {
            values.push(Key::from_value(target.get(key.column))?);
        }
        values.push(Key::Int(id_of(&target, R::Target::ID)?));
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
    // `COUNT(*)` over the link table alone when nothing is asked of the related records: the
    // foreign key guarantees each link has its record, and PostgreSQL can then count a hub's
    // thousands of links from the owner index without visiting a row (measured in
    // docs/BENCHMARKS.md). With a filter on the records, the join is needed.
    let condition = filter.condition();
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
) -> AppResult<HashMap<i64, Nested<<R::Target as EntityTrait>::Model>>> {
    let ordering = ordering_name(&query.order);
    let mut keys: Vec<KeyColumn> = query.order.iter().map(KeyColumn::of).collect();
    keys.push(KeyColumn::of(&SortKey {
        column: R::Target::ID,
        direction: Direction::Asc,
    }));
    let mut select = R::Target::find()
        .filter(R::PARENT.is_in(parents.iter().copied()))
        .filter(query.filter.condition());
    if let Some(condition) = after_condition(query.after.as_ref(), &ordering, &keys)? {
        select = select.filter(condition);
    }
    let results = windowed(
        db,
        select.into_query(),
        R::PARENT.as_column_ref(),
        R::PARENT.as_str().to_owned(),
        &keys,
        query.first,
    )
    .await?;
    let mut rows = Vec::with_capacity(results.len());
    for result in results {
        let child =
            <<R::Target as EntityTrait>::Model as FromQueryResult>::from_query_result(&result, "")?;
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

macro_rules! link_relation {
    ($name:ident, $link:ident, $target:ident, $role:ty, $filter:ty, $owner:ident, $to_target:ident) => {
        #[doc = concat!("Through `", stringify!($link), "`, from its `", stringify!($owner), "` to `", stringify!($target), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl LinkRelation for $name {
            type Link = $link::Entity;
            type Target = $target::Entity;
            type Role = $role;
            type Filter = $filter;
            const OWNER: $link::Column = $link::Column::$owner;
            const LINK_ID: $link::Column = $link::Column::Id;
            const ROLE: $link::Column = $link::Column::Role;

            fn to_target() -> RelationDef {
                $link::Relation::$to_target.def()
            }
        }
    };
}

link_relation!(
    AgreementsOfOrganization,
    agreement_party,
    agreement,
    PartyRole,
    AgreementFilter,
    OrganizationId,
    Agreement
);
link_relation!(
    PartiesOfAgreement,
    agreement_party,
    organization,
    PartyRole,
    OrganizationFilter,
    AgreementId,
    Organization
);
link_relation!(
    ProjectsOfOrganization,
    project_participant,
    project,
    ProjectRole,
    ProjectFilter,
    OrganizationId,
    Project
);
link_relation!(
    ParticipantsOfProject,
    project_participant,
    organization,
    ProjectRole,
    OrganizationFilter,
    ProjectId,
    Organization
);
link_relation!(
    EventsOfOrganization,
    event_participant,
    event,
    EventRole,
    EventFilter,
    OrganizationId,
    Event
);
link_relation!(
    ParticipantsOfEvent,
    event_participant,
    organization,
    EventRole,
    OrganizationFilter,
    EventId,
    Organization
);
link_relation!(
    InstrumentsOfAgreement,
    agreement_instrument,
    instrument,
    InstrumentRole,
    InstrumentFilter,
    AgreementId,
    Instrument
);
link_relation!(
    AgreementsOfInstrument,
    agreement_instrument,
    agreement,
    InstrumentRole,
    AgreementFilter,
    InstrumentId,
    Agreement
);
link_relation!(
    InstrumentsOfProject,
    project_instrument,
    instrument,
    InstrumentRole,
    InstrumentFilter,
    ProjectId,
    Instrument
);
link_relation!(
    ProjectsOfInstrument,
    project_instrument,
    project,
    InstrumentRole,
    ProjectFilter,
    InstrumentId,
    Project
);
link_relation!(
    InstrumentsOfEvent,
    event_instrument,
    instrument,
    InstrumentRole,
    InstrumentFilter,
    EventId,
    Instrument
);
link_relation!(
    EventsOfInstrument,
    event_instrument,
    event,
    InstrumentRole,
    EventFilter,
    InstrumentId,
    Event
);

macro_rules! child_relation {
    ($name:ident, $target:ident, $filter:ty, $parent:ident) => {
        #[doc = concat!("`", stringify!($target), "` rows by their `", stringify!($parent), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl ChildRelation for $name {
            type Target = $target::Entity;
            type Filter = $filter;
            const PARENT: $target::Column = $target::Column::$parent;
        }
    };
}

child_relation!(
    ChildrenOfOrganization,
    organization,
    OrganizationFilter,
    ParentId
);
child_relation!(ProjectsOfAgreement, project, ProjectFilter, AgreementId);
child_relation!(EventsOfAgreement, event, EventFilter, AgreementId);
child_relation!(EventsOfProject, event, EventFilter, ProjectId);
child_relation!(SessionsOfEvent, event, EventFilter, ParentId);
