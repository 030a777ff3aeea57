//! Relay cursor connections: one generic page type, opaque cursors over store positions, and the
//! helper every list field uses.

use async_graphql::{Context, Enum, OutputType, connection::PageInfo, dataloader::DataLoader};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{
    agreement::Agreement, errors::ResultExt, event::Event, instrument::Instrument,
    organization::Organization, project::Project,
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
pub trait ConnectionType: OutputType {
    type Node: OutputType + Clone;
    fn build(edges: Vec<(String, Self::Node)>, page_info: PageInfo, total_count: u64) -> Self;
}

/// Declares a connection type and its edge type for one kind of node. (A generic type would
/// not do: async-graphql cannot nest one generic object inside another.)
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $items:literal) => {
        #[doc = concat!("A page of ", $items, " (a Relay cursor connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// The items of this page, without cursors.
            pub nodes: Vec<$node>,
            /// Where this page sits in the whole list.
            pub page_info: PageInfo,
            /// How many items the whole list holds, across all pages (with the filter applied).
            pub total_count: u64,
        }

        #[doc = concat!("One of ", $items, " in a page, with the cursor to page from it.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque position of this item: pass it as `after` (or `before`) to page from here.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl ConnectionType for $connection {
            type Node = $node;

            fn build(edges: Vec<(String, $node)>, page_info: PageInfo, total_count: u64) -> Self {
                Self {
                    nodes: edges.iter().map(|(_, node)| node.clone()).collect(),
                    edges: edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                    total_count,
                }
            }
        }
    };
}

connection!(
    OrganizationConnection,
    OrganizationEdge,
    Organization,
    "organizations"
);
connection!(AgreementConnection, AgreementEdge, Agreement, "agreements");
connection!(ProjectConnection, ProjectEdge, Project, "projects");
connection!(EventConnection, EventEdge, Event, "events");
connection!(
    InstrumentConnection,
    InstrumentEdge,
    Instrument,
    "instruments"
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
    wrap: impl Fn(M) -> C::Node,
) -> C {
    let edges: Vec<(String, C::Node)> = page
        .rows
        .into_iter()
        .map(|(model, position)| (encode_cursor(&position), wrap(model)))
        .collect();
    let page_info = PageInfo {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        start_cursor: edges.first().map(|e| e.0.clone()),
        end_cursor: edges.last().map(|e| e.0.clone()),
    };
    C::build(edges, page_info, total_count)
}

/// A root list field: one statement for the page, one more for `totalCount` when asked. The two
/// run at once, each on a connection of its own: a filtered list's latency is the slower of the
/// two, not their sum (both read the same rows on a hub, so each takes about as long).
pub async fn list<E: Record, C: ConnectionType>(
    ctx: &Context<'_>,
    filter: &(impl Filter + Clone + Send + Sync),
    order: Vec<SortKey<E::Column>>,
    window: Window,
    wrap: impl Fn(E::Model) -> C::Node,
) -> async_graphql::Result<C> {
    let store = ctx.data_unchecked::<Store>();
    let args = window.args().gql()?;
    // Slugs named through a relation become ids first, once for the page and the count.
    let mut filter = filter.clone();
    filter.resolve(&store.connection).await.gql()?;
    let filter = &filter;
    let page = records::list::<E>(&store.connection, filter, &order, &args);
    let (page, total) = if ctx.look_ahead().field("totalCount").exists() {
        let count = records::count::<E>(&store.connection, filter);
        futures::try_join!(page, count).gql()?
    } else {
        (page.await.gql()?, 0)
    };
    Ok(connection(page, total, wrap))
}

/// The request's loader.
pub fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<super::loaders::StoreLoader> {
    ctx.data_unchecked()
}
