//! Request-scoped DataLoaders: each relation is loaded in one place, one statement per batch of
//! parents, however many parents a response holds. Keys are types of their own so that one
//! `DataLoader<StoreLoader>` serves every relation.

use std::{
    any::TypeId,
    collections::{HashMap, HashSet},
    hash::Hash,
    marker::PhantomData,
    sync::{Arc, Mutex},
};

use async_graphql::{Context, Positioned, dataloader::Loader, parser::types::Field};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::{
    error::AppError,
    store::{
        self,
        aggregate::{self, Aggregate, AggregateQuery},
        filter::EnumFilter,
        link_counts,
        nested::{
            self, ChildQuery, ChildRelation, LinkQuery, LinkRelation, LinkRow, Nested, Projection,
        },
        records::Record,
    },
};

/// A failed batch is logged here, once; its error then reaches every waiting parent.
pub(super) fn logged(err: AppError) -> Arc<AppError> {
    if err.is_internal() {
        super::errors::log(&err);
    }
    Arc::new(err)
}

pub struct StoreLoader {
    db: DatabaseConnection,
}

impl StoreLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The connection, for loaders written next to their types (`explore`).
    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// A record of kind `E` by database id.
pub struct ById<E>(pub i64, PhantomData<fn() -> E>);

impl<E> ById<E> {
    pub fn new(id: i64) -> Self {
        Self(id, PhantomData)
    }
}

// Written by hand: derives would ask `E` itself to be Clone, Eq and Hash.
impl<E> Clone for ById<E> {
    fn clone(&self) -> Self {
        Self::new(self.0)
    }
}
impl<E> PartialEq for ById<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for ById<E> {}
impl<E> Hash for ById<E> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl<E> Loader<ById<E>> for StoreLoader
where
    E: Record + 'static,
    E::Model: Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[ById<E>]) -> Result<HashMap<ById<E>, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::records::find_by_ids::<E>(&self.db, &ids)
            .await
            .map_err(logged)?;
        let found = rows
            .into_iter()
            .map(|row| (ById::new(E::id_of(&row)), row))
            .collect();
        Ok(found)
    }
}

/// Keys for nested connections carry their query; keys whose queries print the same are
/// batched into one statement, which reads the columns any of them needs (its `projection`).
/// `R` is the relation and `K` says what is loaded (a page or a count, through a link or of
/// children), so each has a loader of its own.
pub struct NestedKey<R, Q, K> {
    pub parent: i64,
    pub query: Arc<Q>,
    fingerprint: Fingerprint,
    projection: Projection,
    kind: PhantomData<fn() -> (R, K)>,
}

impl<R: 'static, Q: std::fmt::Debug + 'static, K: 'static> NestedKey<R, Q, K> {
    /// The key of `parent` for the field `ctx` resolves, its query printed and the columns its
    /// selection reads (`projection`) worked out once per field of the request (`Fingerprints`).
    pub fn new(
        ctx: &Context<'_>,
        parent: i64,
        query: Arc<Q>,
        projection: impl FnOnce() -> Projection,
    ) -> Self {
        let (fingerprint, projection) = ctx
            .data_unchecked::<Fingerprints>()
            .of::<Self, Q>(ctx.item, &query, projection);
        Self::with(parent, query, fingerprint, projection)
    }
}

/// The fingerprints of a request's nested queries, one per field of the document and kind of
/// key. Every parent under one field of the query asks with that field's arguments (they and
/// the variables are the same for each parent), so its query prints the same: it is printed
/// once per field instead of once per parent (printing was 2.4 % of a nested list's profile,
/// docs/BENCHMARKS.md). Equal texts are interned, so two fields asking the same (aliases, a
/// fragment spread twice) get one `Fingerprint` and share one statement. Request-scoped, like
/// the loader: a field's address in the request's document is its identity only while the
/// request runs.
#[derive(Default)]
pub struct Fingerprints(Mutex<Printed>);

#[derive(Default)]
struct Printed {
    by_field: HashMap<FieldOf, (Fingerprint, Projection)>,
    texts: HashSet<Arc<str>>,
}

/// A field of the request's document (by address) and the key type it loads.
type FieldOf = (TypeId, usize);

/// A nested query as printed, interned per request (`Fingerprints`): keys compare and hash it
/// by address. Hashing the text itself (a few hundred bytes, several times per key in the
/// loader's maps) was 3 % of a nested list's profile.
#[derive(Clone)]
struct Fingerprint(Arc<str>);

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Fingerprint {}
impl Hash for Fingerprint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0).cast::<u8>(), state);
    }
}

impl Fingerprints {
    fn of<Key: 'static, Q: std::fmt::Debug>(
        &self,
        field: &Positioned<Field>,
        query: &Q,
        projection: impl FnOnce() -> Projection,
    ) -> (Fingerprint, Projection) {
        let id = (TypeId::of::<Key>(), std::ptr::from_ref(field) as usize);
        // A poisoned lock only means another resolver panicked; the maps are still whole.
        let mut printed = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = printed.by_field.get(&id) {
            return known.clone();
        }
        let text: Arc<str> = format!("{query:?}").into();
        let text = match printed.texts.get(&text) {
            Some(same) => same.clone(),
            None => {
                printed.texts.insert(text.clone());
                text
            }
        };
        let known = (Fingerprint(text), projection());
        printed.by_field.insert(id, known.clone());
        known
    }
}

impl<R: 'static, Q: std::fmt::Debug + 'static, K: 'static> NestedKey<R, Q, K> {
    /// The key of `parent` for a query printed for this parent alone: for fields whose query
    /// does not follow from the field's own arguments (an aggregate's filter is its
    /// connection's, and one `aggregates` field in a fragment may sit under connections with
    /// different filters). Equal prints still share one statement.
    pub fn printed(ctx: &Context<'_>, parent: i64, query: Arc<Q>) -> Self {
        let fingerprint = ctx.data_unchecked::<Fingerprints>().intern(&query);
        Self::with(parent, query, fingerprint, Projection::ALL)
    }
}

impl Fingerprints {
    fn intern<Q: std::fmt::Debug>(&self, query: &Q) -> Fingerprint {
        let text: Arc<str> = format!("{query:?}").into();
        let mut printed = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match printed.texts.get(&text) {
            Some(same) => Fingerprint(same.clone()),
            None => {
                printed.texts.insert(text.clone());
                Fingerprint(text)
            }
        }
    }
}

impl<R, Q, K> NestedKey<R, Q, K> {
    fn with(parent: i64, query: Arc<Q>, fingerprint: Fingerprint, projection: Projection) -> Self {
        Self {
            parent,
            query,
            fingerprint,
            projection,
            kind: PhantomData,
        }
    }
}

impl<R, Q, K> Clone for NestedKey<R, Q, K> {
    fn clone(&self) -> Self {
        Self {
            parent: self.parent,
            query: self.query.clone(),
            fingerprint: self.fingerprint.clone(),
            projection: self.projection,
            kind: PhantomData,
        }
    }
}
impl<R, Q, K> PartialEq for NestedKey<R, Q, K> {
    fn eq(&self, other: &Self) -> bool {
        self.parent == other.parent
            && self.fingerprint == other.fingerprint
            && self.projection == other.projection
    }
}
impl<R, Q, K> Eq for NestedKey<R, Q, K> {}
impl<R, Q, K> Hash for NestedKey<R, Q, K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parent.hash(state);
        self.fingerprint.hash(state);
        self.projection.hash(state);
    }
}

pub struct LinkPageKind;
pub struct LinkCountKind;
pub struct ChildPageKind;
pub struct ChildCountKind;

/// The keys of one statement: one query, the columns any of them reads, and the keys.
struct Batch<'k, R, Q, K> {
    query: Arc<Q>,
    projection: Projection,
    keys: Vec<&'k NestedKey<R, Q, K>>,
}

/// Runs `fetch` once per distinct query, reading the columns any of its keys reads, and gives
/// every key its parent's value (or the default).
async fn load_nested<R, Q, K, V, F, Fut>(
    keys: &[NestedKey<R, Q, K>],
    fetch: F,
) -> Result<HashMap<NestedKey<R, Q, K>, V>, Arc<AppError>>
where
    V: Default + Clone,
    F: Fn(Arc<Q>, Projection, Vec<i64>) -> Fut,
    Fut: Future<Output = Result<HashMap<i64, V>, AppError>>,
{
    let mut batches: HashMap<Fingerprint, Batch<'_, R, Q, K>> = HashMap::new();
    for key in keys {
        let batch = batches
            .entry(key.fingerprint.clone())
            .or_insert_with(|| Batch {
                query: key.query.clone(),
                projection: key.projection,
                keys: Vec::new(),
            });
        batch.projection = batch.projection.union(key.projection);
        batch.keys.push(key);
    }
    let mut out = HashMap::with_capacity(keys.len());
    for batch in batches.into_values() {
        // A parent appears once per projection its fields ask with (usually once).
        let mut asked: HashMap<i64, usize> = HashMap::with_capacity(batch.keys.len());
        for key in &batch.keys {
            *asked.entry(key.parent).or_default() += 1;
        }
        let parents = asked.keys().copied().collect();
        let mut found = fetch(batch.query, batch.projection, parents)
            .await
            .map_err(logged)?;
        for key in batch.keys {
            let left = asked.entry(key.parent).or_default();
            *left -= 1;
            let value = if *left == 0 {
                found.remove(&key.parent)
            } else {
                found.get(&key.parent).cloned()
            };
            out.insert(key.clone(), value.unwrap_or_default());
        }
    }
    Ok(out)
}

/// A page of a link relation's rows for one parent.
pub type LinkPage<R> = NestedKey<R, LinkQuery<R>, LinkPageKind>;
/// A page of a child relation's rows for one parent.
pub type ChildPage<R> = NestedKey<R, ChildQuery<R>, ChildPageKind>;

/// What a count is over: the role and filter, without the window.
#[derive(Debug)]
pub struct CountQuery<Role, F> {
    pub role: Option<EnumFilter<Role>>,
    pub filter: F,
}

/// How many rows a link relation has for one parent.
pub type LinkCount<R> =
    NestedKey<R, CountQuery<<R as LinkRelation>::Role, <R as LinkRelation>::Filter>, LinkCountKind>;
/// How many children a child relation has for one parent.
pub type ChildCount<R> = NestedKey<R, CountQuery<(), <R as ChildRelation>::Filter>, ChildCountKind>;

/// A parent's page as the loader hands it out: async-graphql's DataLoader gives each waiting
/// field a clone of its value, and a page is hundreds of strings; behind an `Arc` the clone is
/// a count, and the field takes the page itself once the loader has let go of it
/// (`Arc::unwrap_or_clone`).
pub type Shared<T> = Arc<Nested<T>>;

fn shared<T>(pages: HashMap<i64, Nested<T>>) -> HashMap<i64, Shared<T>> {
    pages
        .into_iter()
        .map(|(parent, page)| (parent, Arc::new(page)))
        .collect()
}

impl<R: LinkRelation> Loader<LinkPage<R>> for StoreLoader {
    type Value = Shared<LinkRow<R>>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[LinkPage<R>],
    ) -> Result<HashMap<LinkPage<R>, Self::Value>, Self::Error> {
        load_nested(keys, |query, projection, parents| async move {
            nested::link_pages::<R>(&self.db, &parents, &query, projection)
                .await
                .map(shared)
        })
        .await
    }
}

impl<R: LinkRelation> Loader<LinkCount<R>> for StoreLoader {
    type Value = u64;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[LinkCount<R>],
    ) -> Result<HashMap<LinkCount<R>, Self::Value>, Self::Error> {
        load_nested(keys, |query, _, parents| async move {
            nested::link_counts::<R>(&self.db, &parents, query.role.as_ref(), &query.filter).await
        })
        .await
    }
}

/// A link relation's count for one parent read from the kept counts (no role, no filter):
/// such counts of every relation share one statement, as the hub detail's three `totalCount`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeptCount(pub link_counts::KeptKey);

impl KeptCount {
    pub fn of<R: LinkRelation>(parent: i64) -> Self {
        Self((link_counts::Side::of::<R>(), parent))
    }
}

impl Loader<KeptCount> for StoreLoader {
    type Value = u64;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[KeptCount]) -> Result<HashMap<KeptCount, u64>, Self::Error> {
        let asked: Vec<link_counts::KeptKey> = keys.iter().map(|key| key.0).collect();
        let found = link_counts::kept_many(&self.db, &asked)
            .await
            .map_err(logged)?;
        Ok(keys
            .iter()
            .map(|key| (*key, found.get(&key.0).copied().unwrap_or(0)))
            .collect())
    }
}

impl<R: ChildRelation> Loader<ChildPage<R>> for StoreLoader {
    type Value = Shared<<R::Target as EntityTrait>::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ChildPage<R>],
    ) -> Result<HashMap<ChildPage<R>, Self::Value>, Self::Error> {
        load_nested(keys, |query, projection, parents| async move {
            nested::child_pages::<R>(&self.db, &parents, &query, projection.target)
                .await
                .map(shared)
        })
        .await
    }
}

impl<R: ChildRelation> Loader<ChildCount<R>> for StoreLoader {
    type Value = u64;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ChildCount<R>],
    ) -> Result<HashMap<ChildCount<R>, Self::Value>, Self::Error> {
        load_nested(keys, |query, _, parents| async move {
            nested::child_counts::<R>(&self.db, &parents, &query.filter).await
        })
        .await
    }
}

pub struct LinkAggregateKind;
pub struct ChildAggregateKind;

/// What a nested aggregate is over (the role and filter of its connection) and what it asks.
#[derive(Debug)]
pub struct AggregateOver<Role, F> {
    pub role: Option<EnumFilter<Role>>,
    pub filter: F,
    pub query: AggregateQuery,
}

/// The aggregates of a link relation's rows for one parent.
pub type LinkAggregates<R> = NestedKey<
    R,
    AggregateOver<<R as LinkRelation>::Role, <R as LinkRelation>::Filter>,
    LinkAggregateKind,
>;
/// The aggregates of a child relation's rows for one parent.
pub type ChildAggregates<R> =
    NestedKey<R, AggregateOver<(), <R as ChildRelation>::Filter>, ChildAggregateKind>;

impl<R: LinkRelation> Loader<LinkAggregates<R>> for StoreLoader {
    type Value = Vec<Aggregate>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[LinkAggregates<R>],
    ) -> Result<HashMap<LinkAggregates<R>, Self::Value>, Self::Error> {
        load_nested(keys, |over, _, parents| async move {
            aggregate::of_links::<R>(
                &self.db,
                &parents,
                over.role.as_ref(),
                &over.filter,
                &over.query,
            )
            .await
        })
        .await
    }
}

impl<R: ChildRelation> Loader<ChildAggregates<R>> for StoreLoader {
    type Value = Vec<Aggregate>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ChildAggregates<R>],
    ) -> Result<HashMap<ChildAggregates<R>, Self::Value>, Self::Error> {
        load_nested(keys, |over, _, parents| async move {
            aggregate::of_children::<R>(&self.db, &parents, &over.filter, &over.query).await
        })
        .await
    }
}

/// The regions (or themes) of a project, in alphabetical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValuesOfProject {
    pub project: i64,
    pub themes: bool,
}

impl Loader<ValuesOfProject> for StoreLoader {
    type Value = Vec<String>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ValuesOfProject],
    ) -> Result<HashMap<ValuesOfProject, Self::Value>, Self::Error> {
        let mut out: HashMap<ValuesOfProject, Vec<String>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for themes in [false, true] {
            let ids: Vec<i64> = keys
                .iter()
                .filter(|k| k.themes == themes)
                .map(|k| k.project)
                .collect();
            if ids.is_empty() {
                continue;
            }
            for (project, value) in store::facets::project_values(&self.db, &ids, themes)
                .await
                .map_err(logged)?
            {
                out.entry(ValuesOfProject { project, themes })
                    .or_default()
                    .push(value);
            }
        }
        for values in out.values_mut() {
            values.sort();
        }
        Ok(out)
    }
}
