//! Full-text search: hits of several types in one ranked connection (see `store::search`).

use async_graphql::{Context, Enum, SimpleObject, Union, connection::PageInfo};
use entity::{agreement, event, instrument, organization, project};

use super::{
    agreement::Agreement,
    connection::{decode_cursor, encode_cursor},
    errors::ApiResult,
    event::Event,
    explore::records,
    instrument::Instrument,
    organization::Organization,
    project::Project,
};
use crate::store::{
    RecordKind, Store,
    page::{DEFAULT_PAGE_SIZE, size},
    search::{self, SearchQuery},
};

/// The types of record a search covers.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::RecordKind")]
pub enum SearchType {
    /// Organizations (name and acronym weigh most, then the description).
    Organization,
    /// Agreements (title, then summary).
    Agreement,
    /// Projects (name, then summary).
    Project,
    /// Events (name, then location, then summary).
    Event,
    /// Instruments (name and acronym, then description).
    Instrument,
}

/// The record a search hit found.
#[derive(Union, Clone)]
pub enum SearchRecord {
    Organization(Organization),
    Agreement(Agreement),
    Project(Project),
    Event(Event),
    Instrument(Instrument),
}

/// One search hit: the record, its type, how well it matches and where.
#[derive(SimpleObject, Clone)]
pub struct SearchHit {
    /// The type of record found.
    #[graphql(name = "type")]
    pub kind: SearchType,
    /// How well it matches: higher is better; only comparable within one search.
    pub rank: f64,
    /// A short passage of the record's text (name, description or summary) with each match
    /// inside `<mark>…</mark>`; the rest is HTML-escaped, so it can be shown as HTML.
    pub snippet: String,
    /// The record found.
    pub record: SearchRecord,
}

/// One hit in a page, with the cursor to page from it.
#[derive(SimpleObject)]
pub struct SearchEdge {
    /// Opaque position of this hit in this search: pass it as `after` to page from here.
    pub cursor: String,
    /// The hit.
    pub node: SearchHit,
}

/// A page of search hits, best first (a Relay cursor connection).
#[derive(SimpleObject)]
pub struct SearchConnection {
    /// The hits of this page, each with its cursor.
    pub edges: Vec<SearchEdge>,
    /// The hits of this page, without cursors.
    pub nodes: Vec<SearchHit>,
    /// Where this page sits in the whole list.
    pub page_info: PageInfo,
    /// How many records match in all.
    pub total_count: u64,
}

/// The `search` root field: one statement for the page (snippets included), one per type of
/// record on it, one more for `totalCount` when asked.
pub async fn search(
    ctx: &Context<'_>,
    text: String,
    types: Option<Vec<SearchType>>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<SearchConnection> {
    let query = SearchQuery::parse(
        &text,
        types.map(|t| t.into_iter().map(Into::into).collect()),
    )?;
    let first = first
        .map(|n| size("first", n))
        .transpose()?
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let after = after.map(|c| decode_cursor("after", &c)).transpose()?;
    let offset = query.offset_after(after.as_ref())?;
    let store = ctx.data_unchecked::<Store>();
    let (hits, has_next_page) = search::search(&store.connection, &query, first, offset).await?;
    let total_count = if ctx.look_ahead().field("totalCount").exists() {
        search::count(&store.connection, &query).await?
    } else {
        0
    };

    // Collected first: iterators borrowing `hits` would not be `Send` across the awaits.
    let ids = |kind: RecordKind| -> Vec<i64> {
        hits.iter()
            .filter(|h| h.kind == kind)
            .map(|h| h.id)
            .collect()
    };
    let (mut orgs, mut agreements, mut projects, mut events, mut instruments) = futures::try_join!(
        records::<organization::Entity>(ctx, ids(RecordKind::Organization)),
        records::<agreement::Entity>(ctx, ids(RecordKind::Agreement)),
        records::<project::Entity>(ctx, ids(RecordKind::Project)),
        records::<event::Entity>(ctx, ids(RecordKind::Event)),
        records::<instrument::Entity>(ctx, ids(RecordKind::Instrument)),
    )?;
    let mut edges = Vec::with_capacity(hits.len());
    for hit in &hits {
        let record = match hit.kind {
            RecordKind::Organization => orgs
                .remove(&hit.id)
                .map(|m| SearchRecord::Organization(Organization(m))),
            RecordKind::Agreement => agreements
                .remove(&hit.id)
                .map(|m| SearchRecord::Agreement(Agreement(m))),
            RecordKind::Project => projects
                .remove(&hit.id)
                .map(|m| SearchRecord::Project(Project(m))),
            RecordKind::Event => events
                .remove(&hit.id)
                .map(|m| SearchRecord::Event(Event(m))),
            RecordKind::Instrument => instruments
                .remove(&hit.id)
                .map(|m| SearchRecord::Instrument(Instrument(m))),
        };
        // A record deleted between the two statements is left out.
        if let Some(record) = record {
            edges.push(SearchEdge {
                cursor: encode_cursor(&hit.position),
                node: SearchHit {
                    kind: hit.kind.into(),
                    rank: hit.rank,
                    snippet: hit.snippet.clone(),
                    record,
                },
            });
        }
    }
    let page_info = PageInfo {
        has_previous_page: offset > 0,
        has_next_page,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(SearchConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        page_info,
        total_count,
    })
}
