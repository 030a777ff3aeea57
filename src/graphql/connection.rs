//! Relay cursor connections: one generic page type, opaque cursors over store positions, and the
//! helper every list field uses.

use async_graphql::{
    ContainerType, Context, Enum, OutputType, connection::PageInfo, dataloader::DataLoader,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use std::sync::Arc;

use super::{
    aggregates::{Records, Source},
    agreement::Agreement,
    errors::ApiResult,
    event::Event,
    fast::Fast,
    instrument::Instrument,
    organization::Organization,
    project::Project,
    projection::{self, Reads},
};
use crate::{
    error::{AppError, AppResult},
    store::{
        Store,
        page::{Direction, Page, PageArgs, Position, SortKey},
        records::{self, Filter, Record},
    },
};

/// A Relay connection type: built from a page's edges.
pub trait ConnectionType: ContainerType {
    type Node: OutputType + Clone;
    fn build(
        edges: Vec<(Position, Self::Node)>,
        bounds: Bounds,
        total_count: u64,
        source: Arc<dyn Source>,
    ) -> Self;
}

/// Whether a page has pages before and after it. The start and end cursors of `pageInfo` are
/// encoded from the first and last edges only when the query asks for them: most nested
/// queries do not, and encoding two cursors per parent was 3% of a deep query's time.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl Bounds {
    /// The page's `pageInfo`, its cursors encoded from the first and last positions.
    pub fn page_info(self, first: Option<&Position>, last: Option<&Position>) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: first.map(encode_cursor),
            end_cursor: last.map(encode_cursor),
        }
    }
}

/// The connection object every connection type shares: its edges, the nodes copied from them
/// only when asked, where the page sits and the total. Each edge has a `node`.
macro_rules! page_object {
    ($connection:ident, $edge:ident, $node:ty, $items:literal, $kind:literal, $edges_doc:literal, $nodes_doc:literal, $total_doc:literal,
     $(records($ragg:ident, $rgroup:ident, $rby:ident))?
     $(links($lagg:ident, $lrecords:ident, $lrole:ident, $lgroup:ident, $lby:ident))?) => {
        pub struct $connection {
            edges: Vec<$edge>,
            bounds: $crate::graphql::connection::Bounds,
            total_count: u64,
            /// Where the list's records come from, for `aggregates` and `groups`.
            source: std::sync::Arc<dyn $crate::graphql::aggregates::Source>,
        }

        #[doc = concat!("A page of ", $items, " (a Relay cursor connection)", $kind, ".")]
        #[async_graphql::Object]
        impl $connection {
            #[doc = $edges_doc]
            async fn edges(&self) -> $crate::graphql::fast::List<'_, $edge> {
                $crate::graphql::fast::List(self.edges.iter().collect())
            }

            #[doc = $nodes_doc]
            async fn nodes(&self) -> $crate::graphql::fast::List<'_, $node> {
                $crate::graphql::fast::List(self.edges.iter().map(|e| &e.node).collect())
            }

            /// Where this page sits in the whole list.
            async fn page_info(&self) -> PageInfo {
                self.bounds.page_info(
                    self.edges.first().map(|e| &e.position),
                    self.edges.last().map(|e| &e.position),
                )
            }

            #[doc = $total_doc]
            async fn total_count(&self) -> u64 {
                self.total_count
            }

            $(
                /// Aggregates over the whole list, across all pages (with the filter applied):
                /// only what is selected is computed, in one statement (for a nested list, one
                /// for all its parents).
                #[graphql(complexity = "2 + child_complexity")]
                async fn aggregates(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> ApiResult<$crate::graphql::aggregates::$ragg> {
                    let spec = &$crate::graphql::aggregates::$ragg::SPEC;
                    let measured = $crate::graphql::aggregates::aggregates(ctx, &*self.source, spec, &[]).await?;
                    Ok($crate::graphql::aggregates::$ragg(measured))
                }

                /// The whole list (with the filter applied) in groups, each with its key values
                /// and aggregates. A date grouped by year puts the undated in a `NO_DATE` group;
                /// by month, it also puts each year's records known to the year only in a
                /// `MONTH_UNKNOWN` group of that year. A list may make at most
                /// `GRAPHQL_MAX_GROUPS` groups (1,000 by default) and a request's `groups`
                /// fields may return as many in all: past either it is refused with
                /// BAD_USER_INPUT, never cut.
                #[graphql(complexity = "super::aggregates::groups_cost(first, child_complexity)")]
                async fn groups(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "The keys to group by, in order (at least one, each once).")]
                    by: Vec<$crate::graphql::aggregates::$rby>,
                    #[graphql(desc = "Only groups whose count is within these bounds.")]
                    having: Option<$crate::graphql::aggregates::GroupHaving>,
                    #[graphql(desc = "The order of the groups: by their keys when omitted.")]
                    order_by: Option<$crate::graphql::aggregates::GroupOrder>,
                    #[graphql(desc = "Return only the first this many groups, in order.")]
                    first: Option<i32>,
                ) -> ApiResult<Vec<$crate::graphql::aggregates::$rgroup>> {
                    let spec = &$crate::graphql::aggregates::$ragg::SPEC;
                    let args = $crate::graphql::aggregates::GroupArgs {
                        keys: by.into_iter().map(|b| b.key()).collect(),
                        having,
                        order_by,
                        first,
                    };
                    let groups = $crate::graphql::aggregates::groups(ctx, &*self.source, spec, &[], args).await?;
                    Ok(groups
                        .into_iter()
                        .map(|(key, measured)| $crate::graphql::aggregates::$rgroup { key, measured })
                        .collect())
                }
                        )?

            $(
                /// Aggregates over the whole list, across all pages (with the role and filter
                /// applied), and the links' counts by role: only what is selected is computed,
                /// in one statement for all the parents of a level.
                #[graphql(complexity = "2 + child_complexity")]
                async fn aggregates(&self, ctx: &async_graphql::Context<'_>) -> ApiResult<$lagg> {
                    let roles = $crate::graphql::aggregates::role_values::<entity::$lrole>();
                    let measured = $crate::graphql::aggregates::aggregates(ctx, &*self.source, &$crate::graphql::aggregates::$lrecords::SPEC, &roles).await?;
                    Ok($lagg::new(measured))
                }

                /// The whole list (with the role and filter applied) in groups, each with its
                /// key values and aggregates. A date grouped by year puts the undated in a
                /// `NO_DATE` group; by month, it also puts each year's records known to the
                /// year only in a `MONTH_UNKNOWN` group of that year. A list may make at most
                /// `GRAPHQL_MAX_GROUPS` groups (1,000 by default) and a request's `groups`
                /// fields may return as many in all: past either it is refused with
                /// BAD_USER_INPUT, never cut.
                #[graphql(complexity = "super::aggregates::groups_cost(first, child_complexity)")]
                async fn groups(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "The keys of the records to group by, in order (each once).", default)]
                    by: Vec<$crate::graphql::aggregates::$lby>,
                    #[graphql(desc = "Group by the link's role too (after the keys of `by`); `by` may then be empty.", default = false)]
                    by_role: bool,
                    #[graphql(desc = "Only groups whose count is within these bounds.")]
                    having: Option<$crate::graphql::aggregates::GroupHaving>,
                    #[graphql(desc = "The order of the groups: by their keys when omitted.")]
                    order_by: Option<$crate::graphql::aggregates::GroupOrder>,
                    #[graphql(desc = "Return only the first this many groups, in order.")]
                    first: Option<i32>,
                ) -> ApiResult<Vec<$lgroup>> {
                    let mut keys: Vec<_> = by.into_iter().map(|b| b.key()).collect();
                    if by_role {
                        keys.push($crate::store::aggregate::GroupKey::Role);
                    }
                    let roles = $crate::graphql::aggregates::role_values::<entity::$lrole>();
                    let args = $crate::graphql::aggregates::GroupArgs { keys, having, order_by, first };
                    let groups = $crate::graphql::aggregates::groups(ctx, &*self.source, &$crate::graphql::aggregates::$lrecords::SPEC, &roles, args).await?;
                    Ok(groups.into_iter().map(|(key, measured)| $lgroup { key, measured }).collect())
                }
                        )?
        }
    };
}
pub(super) use page_object;

/// Declares a connection type and its edge type for one kind of node. (A generic type would
/// not do: async-graphql cannot nest one generic object inside another.) A cursor is encoded
/// and the list of nodes copied only when the query asks for them.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $items:literal, $aggregates:ident, $group:ident, $by:ident) => {
        page_object!(
            $connection,
            $edge,
            $node,
            $items,
            "",
            "The items of this page, each with its cursor.",
            "The items of this page, without cursors.",
            "How many items the whole list holds, across all pages (with the filter applied).",
            records($aggregates, $group, $by)
        );

        pub struct $edge {
            position: Position,
            node: $node,
        }

        #[doc = concat!("One of ", $items, " in a page, with the cursor to page from it.")]
        #[async_graphql::Object]
        impl $edge {
            /// Opaque position of this item: pass it as `after` (or `before`) to page from here.
            async fn cursor(&self) -> String {
                encode_cursor(&self.position)
            }

            /// The item.
            async fn node(&self) -> Fast<&$node> {
                Fast(&self.node)
            }
        }

        impl ConnectionType for $connection {
            type Node = $node;

            fn build(
                edges: Vec<(Position, $node)>,
                bounds: Bounds,
                total_count: u64,
                source: Arc<dyn Source>,
            ) -> Self {
                let edges = edges
                    .into_iter()
                    .map(|(position, node)| $edge { position, node })
                    .collect();
                Self {
                    edges,
                    bounds,
                    total_count,
                    source,
                }
            }
        }
    };
}

connection!(
    OrganizationConnection,
    OrganizationEdge,
    Organization,
    "organizations",
    OrganizationAggregates,
    OrganizationGroup,
    OrganizationGroupBy
);
connection!(
    AgreementConnection,
    AgreementEdge,
    Agreement,
    "agreements",
    AgreementAggregates,
    AgreementGroup,
    AgreementGroupBy
);
connection!(
    ProjectConnection,
    ProjectEdge,
    Project,
    "projects",
    ProjectAggregates,
    ProjectGroup,
    ProjectGroupBy
);
connection!(
    EventConnection,
    EventEdge,
    Event,
    "events",
    EventAggregates,
    EventGroup,
    EventGroupBy
);
connection!(
    InstrumentConnection,
    InstrumentEdge,
    Instrument,
    "instruments",
    InstrumentAggregates,
    InstrumentGroup,
    InstrumentGroupBy
);

/// Which way a sort key orders.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first (A to Z, oldest first); missing values come last.
    #[default]
    Asc,
    /// Largest first (Z to A, newest first); missing values come first.
    Desc,
}

impl From<OrderDirection> for Direction {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Asc => Direction::Asc,
            OrderDirection::Desc => Direction::Desc,
        }
    }
}

pub fn encode_cursor(position: &Position) -> String {
    // A position always serializes: it holds only strings, integers and dates.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode_cursor(field: &str, cursor: &str) -> AppResult<Position> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_field(field, format!("`{cursor}` is not a valid cursor")))
}

/// The paging arguments every list field takes.
pub struct Window {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl Window {
    pub fn args(self) -> AppResult<PageArgs> {
        let after = self.after.map(|c| decode_cursor("after", &c)).transpose()?;
        let before = self
            .before
            .map(|c| decode_cursor("before", &c))
            .transpose()?;
        PageArgs::new(self.first, after, self.last, before)
    }
}

/// Turns a store page into a connection.
pub fn connection<M, C: ConnectionType>(
    page: Page<M>,
    total_count: u64,
    source: Arc<dyn Source>,
    wrap: impl Fn(M) -> C::Node,
) -> C {
    let bounds = Bounds {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
    };
    let edges: Vec<(Position, C::Node)> = page
        .rows
        .into_iter()
        .map(|(model, position)| (position, wrap(model)))
        .collect();
    C::build(edges, bounds, total_count, source)
}

/// A root list field: one statement for the page, one more for `totalCount` when asked. The two
/// run at once, each on a connection of its own: a filtered list's latency is the slower of the
/// two, not their sum (both read the same rows on a hub, so each takes about as long).
pub async fn list<E: Record, C: ConnectionType<Node: Reads<Model = E::Model>>>(
    ctx: &Context<'_>,
    filter: &(impl Filter + Clone + Send + Sync + 'static),
    order: Vec<SortKey<E::Column>>,
    window: Window,
    wrap: impl Fn(E::Model) -> C::Node,
) -> ApiResult<Fast<C>> {
    let store = ctx.data_unchecked::<Store>();
    let args = window.args()?;
    // Slugs named through a relation become ids first, once for the page and the count.
    let mut filter = filter.clone();
    filter.resolve(&store.connection).await?;
    let filter = &filter;
    let selection = ctx.look_ahead();
    let columns = projection::columns::<C::Node>(&projection::nodes(&selection));
    let page = async {
        if selects_page(&selection) || args.after.is_some() || args.before.is_some() {
            records::list::<E>(&store.connection, filter, &order, &args, columns).await
        } else {
            Ok(Page {
                rows: Vec::new(),
                has_next_page: false,
                has_previous_page: false,
            })
        }
    };
    let (page, total) = if selection.field("totalCount").exists() {
        let count = records::count::<E>(&store.connection, filter);
        futures::try_join!(page, count)?
    } else {
        (page.await?, 0)
    };
    let source = Arc::new(Records::<E, _>::new(filter.clone()));
    Ok(Fast(connection(page, total, source, wrap)))
}

/// Whether a connection's selection reads its page (`edges`, `nodes` or `pageInfo`): one that
/// asks only for `totalCount`, `aggregates` or `groups` costs no page statement (unless it
/// passes a cursor, which the page statement checks, so a forged one is refused either way).
pub fn selects_page(connection: &async_graphql::Lookahead<'_>) -> bool {
    ["edges", "nodes", "pageInfo"]
        .into_iter()
        .any(|field| connection.field(field).exists())
}

/// The request's loader.
pub fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<super::loaders::StoreLoader> {
    ctx.data_unchecked()
}
