//! Nested connections: a page of related records for each of many parents, in one statement.
//!
//! Through a link table (an agreement's parties, with their role), each parent's page is cut
//! from the link rows *before* the related records are joined: the link row keeps a copy of the
//! related record's name, title or dates (kept by triggers, see the migration
//! `m20261201_000001_link_order_keys`) under an (owner, key, record id, link id) index, so the
//! ILO's first 20 events read 21 index entries instead of joining and sorting its 24,733 event
//! links (125 ms → under 1 ms at scale 1, docs/BENCHMARKS.md). On PostgreSQL each parent gets
//! `LATERAL (… ORDER BY keys LIMIT first + 1)` over a `VALUES` list of the parents' ids; SQLite,
//! which has no LATERAL, numbers the link rows with `ROW_NUMBER() OVER (PARTITION BY owner ORDER
//! BY keys)` on the same index. The records of the kept rows are joined last. An ordering on a
//! column the link does not copy (slug, kind) or a filter on the records joins them inside the
//! page instead: still right, only no longer cut from the index alone.
//!
//! Child tables (an organization's children) are cut the same way: a `LATERAL … LIMIT` per
//! parent on PostgreSQL over a (parent, name, id) index, the window function on SQLite. The extra row of each page says whether there is a next one. The link's columns
//! (under the `l_` prefix) come first, then the related record's: rows are read by position
//! (`decode`).
//!
//! This module holds what a nested list asks for and returns, the relation traits and the
//! per-parent `LATERAL` join; `pages` holds the statements and `relations` the relations.

mod pages;
mod relations;

use std::fmt::Debug;

use sea_orm::{
    EntityTrait, JoinType, RelationDef, Value,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement},
};

use super::{
    decode::{Columns, Positional},
    filter::EnumFilter,
    page::{Direction, Position, SortKey},
    records::{Filter, Record},
};

pub use pages::{child_counts, child_pages, link_counts, link_pages};
pub use relations::*;

/// What a nested list asks for: its filters, its order and its window.
#[derive(Debug, Clone)]
pub struct NestedQuery<Role, F, C> {
    /// On the link's role (links only).
    pub role: Option<EnumFilter<Role>>,
    /// On the related records.
    pub filter: F,
    pub order: Vec<SortKey<C>>,
    /// By when each link was made (its id), instead of `order` (links only): the page is cut
    /// from the link table's (owner, id) index without reading a record.
    pub linked: Option<Direction>,
    pub first: u64,
    pub after: Option<Position>,
}

/// Which columns a nested page reads: of the link row and of the related record (`decode`).
/// The store adds what its statements need themselves (sort keys, ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Projection {
    pub link: Columns,
    pub target: Columns,
}

impl Projection {
    /// Every column of both.
    pub const ALL: Self = Self {
        link: Columns::ALL,
        target: Columns::ALL,
    };

    /// The columns either reads.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self {
            link: self.link.union(other.link),
            target: self.target.union(other.target),
        }
    }
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
    type Link: EntityTrait<Model: Clone + Send + Sync + Positional>;
    type Target: Record<Model: Clone + Send + Sync>;
    type Role: Clone + Debug + Into<Value> + Send + Sync;
    type Filter: Filter + Debug + Clone + Send + Sync + Default;
    /// The link column holding the parent's id.
    const OWNER: <Self::Link as EntityTrait>::Column;
    const LINK_ID: <Self::Link as EntityTrait>::Column;
    const ROLE: <Self::Link as EntityTrait>::Column;
    /// The link column holding the related record's id.
    const TARGET: <Self::Link as EntityTrait>::Column;
    /// The related record's sort columns that the link row keeps a copy of (link column, record
    /// column), each with an (owner, copy, record id, link id) index: the migration
    /// `m20261201_000001_link_order_keys` defines them.
    const KEYS: &'static [(&'static str, &'static str)];
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
pub type LinkModel<R> = <<R as LinkRelation>::Link as EntityTrait>::Model;
type TargetModel<R> = <<R as LinkRelation>::Target as EntityTrait>::Model;
pub type LinkRow<R> = (
    <<R as LinkRelation>::Link as EntityTrait>::Model,
    <<R as LinkRelation>::Target as EntityTrait>::Model,
);

/// The alias of the subquery that holds each parent's page of rows.
pub(crate) const PAGE: &str = "page";
/// The alias of the parents' `VALUES` list (its one column is `column1` on both engines).
const PARENTS: &str = "parents";

/// Cuts `page` once per parent on PostgreSQL: `outer` reads `FROM (VALUES (id), …) AS parents
/// INNER JOIN LATERAL (page) AS page ON TRUE`, and `page` keeps the rows whose
/// `table.column` is the parent's id. The caller orders and limits `page` (so each parent's
/// rows come from an index in order) and orders `outer`.
pub(crate) fn per_parent(
    outer: &mut SelectStatement,
    parents: &[i64],
    (table, column): (&str, &str),
    mut page: SelectStatement,
) {
    // The cast is a no-op for the bound ids; it keeps the statement valid when a replay
    // (scripts/bench's pgbench, EXPLAIN by hand) inlines them as quoted literals.
    page.and_where(
        Expr::col((Alias::new(table), Alias::new(column))).eq(Expr::col((
            Alias::new(PARENTS),
            Alias::new("column1"),
        ))
        .cast_as("BIGINT")),
    );
    outer
        .from_values(parents.iter().copied(), Alias::new(PARENTS))
        .join_lateral(
            JoinType::InnerJoin,
            page,
            Alias::new(PAGE),
            Expr::cust("TRUE"),
        );
}
