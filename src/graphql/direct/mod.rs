//! Reads answered without async-graphql's execution: the rows the store returns written
//! straight into the response's JSON.
//!
//! async-graphql resolves a query field by field: a context, a dispatch on the field's name and
//! an `async_graphql::Value` for each, objects gathered in `IndexMap`s, the tree put in the
//! query's order and serialized at the end. On a nested list (20 organizations × 10 agreements ×
//! 10 parties: about 2,000 objects) that machinery is most of the server's work
//! (docs/BENCHMARKS.md, item 29). This module compiles a query of a common shape once into a
//! [`Plan`]: for each level of the query, the statement that loads it (the same store functions
//! the loaders call, so the same statements, one per level however many parents) and what to
//! write of each row. Running a plan loads the levels, each as soon as its parents are known,
//! and writes the body.
//!
//! What compiles: a query (one operation, no variables, fragments or directives) whose root
//! fields are record lists (`organizations(first:)`, with no other argument) or one record by
//! slug (`organization(by: { slug: "…" })`); under records their plain fields (`slug`, `kind`,
//! `signedOn`, `id`, `__typename`) and their connections through link tables
//! (`agreements(first:)`, `parties`) with `nodes` or `edges { role since node }`. Anything else
//! (a filter, an order, `totalCount`, `pageInfo`, cursors, an alias used twice) leaves the
//! document to async-graphql, as does any error while a plan runs: the request then runs again
//! there and answers as it always did.
//!
//! A plan is used only once its document has run through async-graphql without an error
//! ([`Slot::prove`]): the document then passed validation and the limits, which depend on its
//! text alone, since it has no variables.

mod json;
mod shapes;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        OnceLock,
        atomic::{AtomicBool, Ordering},
    },
};

use async_graphql::{
    Name, Positioned,
    parser::types::{
        DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
    },
};
use futures::future::{BoxFuture, try_join_all};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::projection::Reads;
use crate::{
    error::AppResult,
    store::{
        decode::Columns,
        nested::{
            self, ChildQuery, ChildRelation, LinkModel, LinkQuery, LinkRelation, LinkRow, Nested,
            Projection,
        },
        page::{DEFAULT_PAGE_SIZE, PageArgs, SortKey, size},
        records,
        write::Bookkept,
    },
};

use shapes::Shape;

/// A compiled query: its root fields, each with the response key it is written under.
pub struct Plan {
    /// The name of the document's one operation, which a request may name.
    operation: Option<Name>,
    roots: Vec<(Name, Box<dyn Root>)>,
}

/// A document's plan, kept with its checked parse (`limits::Checked`): compiled once, used once
/// proven.
#[derive(Default)]
pub struct Slot {
    plan: OnceLock<Option<Plan>>,
    proven: AtomicBool,
}

impl Slot {
    /// The plan for a request naming `operation`, once proven.
    pub fn ready(&self, operation: Option<&str>) -> Option<&Plan> {
        if !self.proven.load(Ordering::Acquire) {
            return None;
        }
        let plan = self.plan.get()?.as_ref()?;
        match operation {
            None => Some(plan),
            Some(asked) => (plan.operation.as_deref() == Some(asked)).then_some(plan),
        }
    }

    /// Records that `document` ran through async-graphql without an error, compiling it the
    /// first time.
    pub fn prove(&self, document: &ExecutableDocument) {
        if self.plan.get_or_init(|| compile(document)).is_some() {
            self.proven.store(true, Ordering::Release);
        }
    }
}

impl Plan {
    /// Loads what the plan reads and writes the response's body, `{"data":{…}}`.
    pub async fn run(&self, db: &DatabaseConnection) -> AppResult<Vec<u8>> {
        let parts = try_join_all(self.roots.iter().map(|(_, root)| root.run(db))).await?;
        let mut out = Vec::with_capacity(8 + parts.iter().map(Vec::len).sum::<usize>());
        out.extend_from_slice(b"{\"data\":{");
        for (i, ((name, _), part)) in self.roots.iter().zip(parts).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::key(&mut out, name);
            out.extend_from_slice(&part);
        }
        out.extend_from_slice(b"}}");
        Ok(out)
    }
}

/// The plan of `document`, when it is of a shape this module answers.
fn compile(document: &ExecutableDocument) -> Option<Plan> {
    if !document.fragments.is_empty() {
        return None;
    }
    let (operation, definition) = match &document.operations {
        DocumentOperations::Single(op) => (None, op),
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            let (name, op) = ops.iter().next()?;
            (Some(name.clone()), op)
        }
        DocumentOperations::Multiple(_) => return None,
    };
    let definition = &definition.node;
    if definition.ty != OperationType::Query
        || !definition.variable_definitions.is_empty()
        || !definition.directives.is_empty()
    {
        return None;
    }
    let mut roots = Vec::new();
    for (key, field) in fields(&definition.selection_set)? {
        roots.push((key, shapes::root(field)?));
    }
    Some(Plan { operation, roots })
}

/// The fields of a selection set with their response keys, when it holds only fields without
/// directives, each key once.
fn fields(set: &Positioned<SelectionSet>) -> Option<Vec<(Name, &Field)>> {
    let mut keys = HashSet::new();
    let mut fields = Vec::with_capacity(set.node.items.len());
    for selection in &set.node.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field = &field.node;
        let key = field.response_key().node.clone();
        if !field.directives.is_empty() || !keys.insert(key.clone()) {
            return None;
        }
        fields.push((key, field));
    }
    Some(fields)
}

/// Whether `field` is a leaf: no arguments, nothing selected under it.
fn is_leaf(field: &Field) -> bool {
    field.arguments.is_empty() && field.selection_set.node.items.is_empty()
}

/// A page size: a connection's `first`, its only argument (the default when there is none).
fn first_only(field: &Field) -> Option<u64> {
    match field.arguments.as_slice() {
        [] => Some(DEFAULT_PAGE_SIZE),
        [(name, value)] if name.node == "first" => match value.node.clone().into_const()? {
            async_graphql::Value::Number(n) => {
                let n = i32::try_from(n.as_i64()?).ok()?;
                size("first", n).ok()
            }
            _ => None,
        },
        _ => None,
    }
}

/// A root field: loads and writes its value.
trait Root: Send + Sync {
    fn run<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, AppResult<Vec<u8>>>;
}

/// A nested level: a connection under each record of a level above.
trait Level: Send + Sync {
    /// Loads the pages of `parents` (one statement), then the levels under them.
    fn load<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        parents: Vec<i64>,
    ) -> BoxFuture<'a, AppResult<Box<dyn Pages + 'a>>>;
}

/// A level's loaded pages, by parent.
trait Pages: Send {
    /// Writes `parent`'s connection.
    fn write(&self, parent: i64, out: &mut Vec<u8>);
}

type Model<T> = <<T as Shape>::Entity as EntityTrait>::Model;

/// Writes one field of a row.
type Leaf<M> = fn(&M, &mut Vec<u8>);

/// One field selected on a record.
enum Item<M> {
    Leaf(Leaf<M>),
    Typename,
    /// The level of that index in `RecordSelection::levels`.
    Level(usize),
}

/// The fields selected on records of type `T`, the columns they read and the levels under them.
struct RecordSelection<T: Shape> {
    items: Vec<(Name, Item<Model<T>>)>,
    levels: Vec<Box<dyn Level>>,
    columns: Columns,
}

impl<T: Shape> RecordSelection<T> {
    /// Nothing selected (a connection asked only for its edges' roles).
    fn empty() -> Self {
        Self {
            items: Vec::new(),
            levels: Vec::new(),
            columns: Columns::required::<Model<T>>(),
        }
    }

    fn compile(set: &Positioned<SelectionSet>) -> Option<Self> {
        let mut selection = Self::empty();
        for (key, field) in fields(set)? {
            let name = field.name.node.as_str();
            let item = if name == "__typename" && is_leaf(field) {
                Item::Typename
            } else if let Some(leaf) = T::leaf(name) {
                if !is_leaf(field) {
                    return None;
                }
                for (read_by, columns) in <T as Reads>::READS {
                    if *read_by == name {
                        for column in *columns {
                            selection.columns = selection.columns.with::<Model<T>>(column);
                        }
                    }
                }
                Item::Leaf(leaf)
            } else {
                selection.levels.push(T::level(name, field)?);
                Item::Level(selection.levels.len() - 1)
            };
            selection.items.push((key, item));
        }
        Some(selection)
    }

    /// The ids of `records` whose levels are loaded: each once, in the order met (a record can
    /// be under several parents); none when nothing is selected under them.
    fn ids<'r>(&self, records: impl Iterator<Item = &'r Model<T>>) -> Vec<i64> {
        if self.levels.is_empty() {
            return Vec::new();
        }
        let mut seen = HashSet::new();
        records
            .map(<T::Entity as Bookkept>::id_of)
            .filter(|id| seen.insert(*id))
            .collect()
    }

    /// Loads the levels under the records of `ids`, at once.
    async fn load<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        ids: Vec<i64>,
    ) -> AppResult<Vec<Box<dyn Pages + 'a>>> {
        // No records, nothing to write under them: no statement (as no loader is called).
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        try_join_all(self.levels.iter().map(|level| level.load(db, ids.clone()))).await
    }

    fn write(&self, record: &Model<T>, below: &[Box<dyn Pages + '_>], out: &mut Vec<u8>) {
        json::object(out, &self.items, |item, out| match item {
            Item::Leaf(leaf) => leaf(record, out),
            Item::Typename => json::string(out, T::NAME),
            Item::Level(i) => match below.get(*i) {
                Some(pages) => pages.write(<T::Entity as Bookkept>::id_of(record), out),
                None => json::null(out), // loaded for every record written: not reached
            },
        });
    }
}

/// A connection's fields, each with its response key.
type Parts = Vec<(Name, Part)>;

/// A field of a connection.
enum Part {
    Nodes,
    Edges(Vec<(Name, EdgeItem)>),
}

/// A field of an edge.
enum EdgeItem {
    Node,
    Role,
    Since,
}

/// A connection's fields and the one selection on its records.
struct Selected<T: Shape> {
    parts: Parts,
    node: RecordSelection<T>,
}

/// A connection's fields (`nodes`, `edges { … }`) and the one selection on its records; the
/// edge fields it allows are `node` and those `edge` accepts.
fn connection<T: Shape>(
    field: &Field,
    mut edge: impl FnMut(&str) -> Option<EdgeItem>,
) -> Option<Selected<T>> {
    let mut parts = Vec::new();
    let mut node = None;
    let mut take = |set: &Positioned<SelectionSet>| -> Option<()> {
        // One selection on the records: `nodes` and `edges.node` together go to async-graphql.
        if node.is_some() {
            return None;
        }
        node = Some(RecordSelection::<T>::compile(set)?);
        Some(())
    };
    for (key, part) in fields(&field.selection_set)? {
        if !part.arguments.is_empty() {
            return None;
        }
        match part.name.node.as_str() {
            "nodes" => {
                take(&part.selection_set)?;
                parts.push((key, Part::Nodes));
            }
            "edges" => {
                let mut items = Vec::new();
                for (key, item) in fields(&part.selection_set)? {
                    let name = item.name.node.as_str();
                    let item = if name == "node" && item.arguments.is_empty() {
                        take(&item.selection_set)?;
                        EdgeItem::Node
                    } else if is_leaf(item) {
                        edge(name)?
                    } else {
                        return None;
                    };
                    items.push((key, item));
                }
                parts.push((key, Part::Edges(items)));
            }
            _ => return None,
        }
    }
    Some(Selected {
        parts,
        node: node.unwrap_or_else(RecordSelection::empty),
    })
}

/// A root list of records: one page, no filter, the default order.
struct RootList<T: Shape> {
    args: PageArgs,
    order: Vec<SortKey<<T::Entity as EntityTrait>::Column>>,
    selected: Selected<T>,
}

impl<T: Shape> RootList<T> {
    fn compile(field: &Field) -> Option<Box<dyn Root>> {
        let first = first_only(field)?;
        let args = PageArgs {
            first: Some(first),
            ..PageArgs::default()
        };
        Some(Box::new(Self {
            args,
            order: T::order()?,
            selected: connection::<T>(field, |_| None)?,
        }))
    }
}

impl<T: Shape> Rows<T> for RootList<T> {
    type Row = Model<T>;

    fn selected(&self) -> &Selected<T> {
        &self.selected
    }

    fn record(record: &Model<T>) -> &Model<T> {
        record
    }

    fn edge(&self, _: &Model<T>, _: &EdgeItem, out: &mut Vec<u8>) {
        json::null(out); // a root list's edge has only `node`: not reached
    }
}

impl<T: Shape> Root for RootList<T> {
    fn run<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, AppResult<Vec<u8>>> {
        Box::pin(async move {
            let filter = T::Filter::default();
            let columns = self.selected.node.columns;
            let page =
                records::list::<T::Entity>(db, &filter, &self.order, &self.args, columns).await?;
            // The page as the one page of a parent that is not there (0), written as a
            // nested level's.
            let page = Nested {
                rows: page.rows,
                has_next_page: page.has_next_page,
            };
            let loaded = Loaded::below(self, db, HashMap::from([(0, page)])).await?;
            let mut out = Vec::new();
            loaded.write(0, &mut out);
            Ok(out)
        })
    }
}

/// One record by slug at the root, or null.
struct RootOne<T: Shape> {
    slug: String,
    node: RecordSelection<T>,
}

impl<T: Shape> RootOne<T> {
    fn compile(field: &Field) -> Option<Box<dyn Root>> {
        let [(name, by)] = field.arguments.as_slice() else {
            return None;
        };
        let async_graphql::Value::Object(by) = by.node.clone().into_const()? else {
            return None;
        };
        let slug = match (name.node.as_str(), by.len(), by.get("slug")) {
            ("by", 1, Some(async_graphql::Value::String(slug))) => slug.clone(),
            _ => return None,
        };
        let node = RecordSelection::<T>::compile(&field.selection_set)?;
        Some(Box::new(Self { slug, node }))
    }
}

impl<T: Shape> Root for RootOne<T> {
    fn run<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, AppResult<Vec<u8>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            match records::find_by_slug::<T::Entity>(db, &self.slug).await? {
                Some(record) => {
                    let below = self
                        .node
                        .load(db, self.node.ids(std::iter::once(&record)))
                        .await?;
                    self.node.write(&record, &below, &mut out);
                }
                None => json::null(&mut out),
            }
            Ok(out)
        })
    }
}

/// What an edge through a link table writes of its link.
pub trait Edge {
    /// The link's role.
    fn role(&self, out: &mut Vec<u8>);
}

/// What a level's loaded pages need of the level: the connection's fields, the selection on
/// its records, and how to read a row (a record, or a link and its record).
trait Rows<T: Shape>: Send + Sync {
    type Row: Send + Sync;
    fn selected(&self) -> &Selected<T>;
    fn record(row: &Self::Row) -> &Model<T>;
    /// Writes `item` of the row's edge, `node` aside.
    fn edge(&self, row: &Self::Row, item: &EdgeItem, out: &mut Vec<u8>);
}

/// A level's pages, by parent, and the levels under their records.
struct Loaded<'a, L: Rows<T>, T: Shape> {
    level: &'a L,
    pages: HashMap<i64, Nested<L::Row>>,
    below: Vec<Box<dyn Pages + 'a>>,
}

impl<'a, L: Rows<T>, T: Shape> Loaded<'a, L, T> {
    /// `pages` with the levels under their records loaded.
    async fn below(
        level: &'a L,
        db: &'a DatabaseConnection,
        pages: HashMap<i64, Nested<L::Row>>,
    ) -> AppResult<Box<dyn Pages + 'a>> {
        let node = &level.selected().node;
        let ids = node.ids(
            pages
                .values()
                .flat_map(|page| page.rows.iter().map(|(row, _)| L::record(row))),
        );
        let below = node.load(db, ids).await?;
        Ok(Box::new(Self {
            level,
            pages,
            below,
        }))
    }
}

impl<L: Rows<T>, T: Shape> Pages for Loaded<'_, L, T> {
    fn write(&self, parent: i64, out: &mut Vec<u8>) {
        let rows = self
            .pages
            .get(&parent)
            .map(|page| page.rows.as_slice())
            .unwrap_or_default();
        let level = self.level;
        let Selected { parts, node } = level.selected();
        json::object(out, parts, |part, out| match part {
            Part::Nodes => json::array(out, rows, |(row, _), out| {
                node.write(L::record(row), &self.below, out);
            }),
            Part::Edges(items) => json::array(out, rows, |(row, _), out| {
                json::object(out, items, |item, out| match item {
                    EdgeItem::Node => node.write(L::record(row), &self.below, out),
                    item => level.edge(row, item, out),
                });
            }),
        });
    }
}

/// A connection through a link table under each record of the level above.
struct LinkLevel<R: LinkRelation, T: Shape> {
    query: LinkQuery<R>,
    projection: Projection,
    selected: Selected<T>,
    since: Option<Leaf<LinkModel<R>>>,
}

impl<R, T> LinkLevel<R, T>
where
    R: LinkRelation,
    T: Shape<Entity = R::Target>,
    LinkModel<R>: Edge,
{
    /// `since`: the edge's `since` field and the link columns it reads, for links that have it.
    fn compile(
        field: &Field,
        since: Option<(Leaf<LinkModel<R>>, &'static [&'static str])>,
    ) -> Option<Box<dyn Level>> {
        let first = first_only(field)?;
        let mut link = Columns::required::<LinkModel<R>>();
        let selected = connection::<T>(field, |name| match (name, since) {
            ("role", _) => Some(EdgeItem::Role),
            ("since", Some((_, columns))) => {
                for column in columns {
                    link = link.with::<LinkModel<R>>(column);
                }
                Some(EdgeItem::Since)
            }
            _ => None,
        })?;
        let query = LinkQuery::<R> {
            role: None,
            filter: R::Filter::default(),
            order: T::order()?,
            linked: None,
            first,
            after: None,
        };
        Some(Box::new(Self {
            query,
            projection: Projection {
                link,
                target: selected.node.columns,
            },
            selected,
            since: since.map(|(leaf, _)| leaf),
        }))
    }
}

impl<R, T> Rows<T> for LinkLevel<R, T>
where
    R: LinkRelation,
    T: Shape<Entity = R::Target>,
    LinkModel<R>: Edge,
{
    type Row = LinkRow<R>;

    fn selected(&self) -> &Selected<T> {
        &self.selected
    }

    fn record((_, record): &LinkRow<R>) -> &Model<T> {
        record
    }

    fn edge(&self, (link, _): &LinkRow<R>, item: &EdgeItem, out: &mut Vec<u8>) {
        match (item, self.since) {
            (EdgeItem::Role, _) => link.role(out),
            (EdgeItem::Since, Some(since)) => since(link, out),
            _ => json::null(out), // compiled only with the fields above: not reached
        }
    }
}

impl<R, T> Level for LinkLevel<R, T>
where
    R: LinkRelation,
    T: Shape<Entity = R::Target>,
    LinkModel<R>: Edge,
{
    fn load<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        parents: Vec<i64>,
    ) -> BoxFuture<'a, AppResult<Box<dyn Pages + 'a>>> {
        Box::pin(async move {
            let pages = nested::link_pages::<R>(db, &parents, &self.query, self.projection).await?;
            Loaded::below(self, db, pages).await
        })
    }
}

/// A connection of child records (a project's events) under each record of the level above.
struct ChildLevel<R: ChildRelation, T: Shape> {
    query: ChildQuery<R>,
    selected: Selected<T>,
}

impl<R, T> ChildLevel<R, T>
where
    R: ChildRelation,
    T: Shape<Entity = R::Target>,
{
    fn compile(field: &Field) -> Option<Box<dyn Level>> {
        let first = first_only(field)?;
        let selected = connection::<T>(field, |_| None)?;
        let query = ChildQuery::<R> {
            role: None,
            filter: R::Filter::default(),
            order: T::order()?,
            linked: None,
            first,
            after: None,
        };
        Some(Box::new(Self { query, selected }))
    }
}

impl<R, T> Rows<T> for ChildLevel<R, T>
where
    R: ChildRelation,
    T: Shape<Entity = R::Target>,
{
    type Row = Model<T>;

    fn selected(&self) -> &Selected<T> {
        &self.selected
    }

    fn record(record: &Model<T>) -> &Model<T> {
        record
    }

    fn edge(&self, _: &Model<T>, _: &EdgeItem, out: &mut Vec<u8>) {
        json::null(out); // a child's edge has only `node`: not reached
    }
}

impl<R, T> Level for ChildLevel<R, T>
where
    R: ChildRelation,
    T: Shape<Entity = R::Target>,
{
    fn load<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        parents: Vec<i64>,
    ) -> BoxFuture<'a, AppResult<Box<dyn Pages + 'a>>> {
        Box::pin(async move {
            let pages =
                nested::child_pages::<R>(db, &parents, &self.query, self.selected.node.columns)
                    .await?;
            Loaded::below(self, db, pages).await
        })
    }
}
