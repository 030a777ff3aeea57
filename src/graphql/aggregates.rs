//! Aggregates and groups on every connection: `aggregates { count distinctCount { … } min { … }
//! max { … } }` over the whole list (with the connection's filter and role applied), and
//! `groups(by: …)` for the same per group. What a query selects under them becomes the columns
//! of one statement (`store::aggregate`), run only when the field is selected; a nested
//! connection's aggregates go through the request's loader, so siblings share that statement.

use std::{
    cmp::Ordering,
    marker::PhantomData,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering as AtomicOrdering},
    },
};

use async_graphql::{Context, Enum, InputObject, Lookahead, Object, OutputType, SimpleObject};
use futures::future::BoxFuture;
use sea_orm::{ActiveEnum, Iterable};

use entity::{event, organization};

use super::{
    connection::{OrderDirection, loader},
    enums::{
        AgreementKind, EventKind, EventRole, InstrumentKind, InstrumentRole, OrganizationKind,
        PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence,
    },
    errors::ApiResult,
    event::Event,
    loaders::{AggregateOver, ChildAggregates, LinkAggregates},
    lookup::referenced,
    organization::Organization,
};
use crate::{
    dates::PartialDate,
    error::AppError,
    store::{
        Store,
        aggregate::{
            self, Aggregate, AggregateQuery, DateColumns, GroupKey, Grouping, Joined, Measures, Top,
        },
        filter::EnumFilter,
        nested::{ChildRelation, LinkRelation},
        records::{Filter, Record},
    },
};

/// Where a connection's records come from, for its aggregates: all that match a filter, or
/// one parent's children or links (loaded with its siblings').
pub trait Source: Send + Sync {
    fn aggregate<'a>(
        &'a self,
        ctx: &'a Context<'_>,
        query: AggregateQuery,
    ) -> BoxFuture<'a, ApiResult<Vec<Aggregate>>>;
}

/// Every record of kind `E` that matches the (resolved) filter of a root list.
pub struct Records<E, F> {
    filter: F,
    kind: PhantomData<fn() -> E>,
}

impl<E, F> Records<E, F> {
    pub fn new(filter: F) -> Self {
        Self {
            filter,
            kind: PhantomData,
        }
    }
}

impl<E: Record, F: Filter + Send + Sync> Source for Records<E, F> {
    fn aggregate<'a>(
        &'a self,
        ctx: &'a Context<'_>,
        query: AggregateQuery,
    ) -> BoxFuture<'a, ApiResult<Vec<Aggregate>>> {
        Box::pin(async move {
            let db = &ctx.data_unchecked::<Store>().connection;
            Ok(aggregate::of_records::<E>(db, &self.filter, &query).await?)
        })
    }
}

/// One parent's children of a child relation.
pub struct Children<R: ChildRelation> {
    pub parent: i64,
    pub filter: R::Filter,
}

impl<R: ChildRelation> Source for Children<R> {
    fn aggregate<'a>(
        &'a self,
        ctx: &'a Context<'_>,
        query: AggregateQuery,
    ) -> BoxFuture<'a, ApiResult<Vec<Aggregate>>> {
        Box::pin(async move {
            let over = Arc::new(AggregateOver {
                role: None,
                filter: self.filter.clone(),
                query,
            });
            let key = ChildAggregates::<R>::printed(ctx, self.parent, over);
            Ok(loader(ctx).load_one(key).await?.unwrap_or_default())
        })
    }
}

/// One owner's links of a link relation.
pub struct Links<R: LinkRelation> {
    pub parent: i64,
    pub role: Option<EnumFilter<R::Role>>,
    pub filter: R::Filter,
}

impl<R: LinkRelation> Source for Links<R> {
    fn aggregate<'a>(
        &'a self,
        ctx: &'a Context<'_>,
        query: AggregateQuery,
    ) -> BoxFuture<'a, ApiResult<Vec<Aggregate>>> {
        Box::pin(async move {
            let over = Arc::new(AggregateOver {
                role: self.role.clone(),
                filter: self.filter.clone(),
                query,
            });
            let key = LinkAggregates::<R>::printed(ctx, self.parent, over);
            Ok(loader(ctx).load_one(key).await?.unwrap_or_default())
        })
    }
}

/// What of a kind of record may be aggregated: (GraphQL field, column) pairs.
pub struct Spec {
    pub distinct: &'static [(&'static str, &'static str)],
    pub dates: &'static [(&'static str, DateColumns)],
}

/// The measures an aggregates selection (`look`) asks for.
fn measures(spec: &Spec, look: &Lookahead<'_>, roles: &[String]) -> Measures {
    let distinct = look.field("distinctCount");
    let (min, max) = (look.field("min"), look.field("max"));
    Measures {
        distinct: spec
            .distinct
            .iter()
            .filter(|(field, _)| distinct.field(field).exists())
            .map(|(_, column)| *column)
            .collect(),
        min: spec
            .dates
            .iter()
            .filter(|(field, _)| min.field(field).exists())
            .map(|(_, d)| *d)
            .collect(),
        max: spec
            .dates
            .iter()
            .filter(|(field, _)| max.field(field).exists())
            .map(|(_, d)| *d)
            .collect(),
        roles: if look.field("byRole").exists() {
            roles.to_vec()
        } else {
            Vec::new()
        },
    }
}

/// The stored values of a role enumeration, in its order.
pub fn role_values<E: ActiveEnum<Value = String> + Iterable>() -> Vec<String> {
    E::iter().map(|r| r.to_value()).collect()
}

/// The aggregates of a connection, as the `aggregates` field's selection asks for them.
pub async fn aggregates(
    ctx: &Context<'_>,
    source: &dyn Source,
    spec: &Spec,
    roles: &[String],
) -> ApiResult<Measured> {
    let measures = measures(spec, &ctx.look_ahead(), roles);
    let query = AggregateQuery {
        measures: measures.clone(),
        grouping: None,
    };
    let row = source
        .aggregate(ctx, query)
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok(Measured {
        measures: Arc::new(measures),
        row,
    })
}

/// One list's (or group's) measures, and what they were asked for.
#[derive(Clone)]
pub struct Measured {
    measures: Arc<Measures>,
    row: Aggregate,
}

impl Measured {
    pub fn count(&self) -> u64 {
        self.row.count
    }

    pub fn distinct(&self, column: &str) -> u64 {
        let at = self.measures.distinct.iter().position(|c| *c == column);
        at.and_then(|i| self.row.distinct.get(i).copied())
            .unwrap_or(0)
    }

    /// The earliest (`latest: false`) or latest value of the date in `column`.
    pub fn date(&self, column: &str, latest: bool) -> Option<PartialDate> {
        let (dates, values) = if latest {
            (&self.measures.max, &self.row.max)
        } else {
            (&self.measures.min, &self.row.min)
        };
        let at = dates.iter().position(|d| d.date == column)?;
        values.get(at).copied().flatten()
    }

    /// How many links hold each role of `E`, in the enumeration's order (none left out).
    pub fn roles<E, G>(&self) -> Vec<RoleCount<G>>
    where
        E: ActiveEnum<Value = String> + Iterable,
        G: From<E> + OutputType,
    {
        E::iter()
            .map(|role| {
                let value = role.to_value();
                let at = self.measures.roles.iter().position(|r| *r == value);
                RoleCount {
                    role: role.into(),
                    count: at.and_then(|i| self.row.roles.get(i).copied()).unwrap_or(0),
                }
            })
            .collect()
    }
}

/// How many links hold one role.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "PartyRoleCount", params(PartyRole)),
    concrete(name = "ProjectRoleCount", params(ProjectRole)),
    concrete(name = "EventRoleCount", params(EventRole)),
    concrete(name = "InstrumentRoleCount", params(InstrumentRole))
)]
pub struct RoleCount<G: OutputType> {
    /// The role.
    role: G,
    /// How many of the links hold it (0 when none does).
    count: u64,
}

/// Declares the aggregates object of a kind of record, its distinct counts and, when it has
/// dates, the object of its earliest and latest dates.
macro_rules! record_aggregates {
    (
        $aggregates:ident, $distinct:ident, $items:literal,
        distinct { $($dfield:ident : $dgql:literal => $dcolumn:literal, $ddoc:literal;)* }
        $(dates $dates:ident { $($tfield:ident : $tgql:literal => $tdate:literal / $tprecision:literal, $tdoc:literal;)* })?
    ) => {
        pub struct $aggregates(pub Measured);

        impl $aggregates {
            /// What may be aggregated, by GraphQL field.
            pub const SPEC: Spec = Spec {
                distinct: &[$(($dgql, $dcolumn)),*],
                dates: &[$($(($tgql, DateColumns { date: $tdate, precision: $tprecision })),*)?],
            };
        }

        #[doc = concat!("Aggregates over ", $items, ": the whole list (with its filter applied) or one group.")]
        #[Object]
        impl $aggregates {
            /// How many items the list (or group) holds; through a link table, how many links.
            async fn count(&self) -> u64 {
                self.0.count()
            }

            /// How many distinct non-null values each selected field takes (each one selected
            /// is one more column of the same statement).
            async fn distinct_count(&self) -> $distinct {
                $distinct(self.0.clone())
            }

            $(
            /// The earliest of each selected date, at its own precision (`2014`, `2014-10`,
            /// `2014-10-03`); null when no item has one. Dates compare by the first day of
            /// their period, as orderings do; among dates beginning the same day the finest is
            /// given.
            async fn min(&self) -> $dates {
                $dates(self.0.clone(), false)
            }

            /// The latest of each selected date, at its own precision; null when no item has
            /// one. Dates compare by the first day of their period, as orderings do; among
            /// dates beginning the same day the coarsest (the period ending last) is given.
            async fn max(&self) -> $dates {
                $dates(self.0.clone(), true)
            }
            )?
        }

        pub struct $distinct(Measured);

        #[doc = concat!("Distinct counts over ", $items, ": how many different non-null values each field takes.")]
        #[Object]
        impl $distinct {
            $(
            #[doc = $ddoc]
            async fn $dfield(&self) -> u64 {
                self.0.distinct($dcolumn)
            }
            )*
        }

        $(
        pub struct $dates(Measured, bool);

        #[doc = concat!("The earliest or the latest dates of ", $items, ", each at its own precision.")]
        #[Object]
        impl $dates {
            $(
            #[doc = $tdoc]
            async fn $tfield(&self) -> Option<PartialDate> {
                self.0.date($tdate, self.1)
            }
            )*
        }
        )?
    };
}

record_aggregates!(
    OrganizationAggregates, OrganizationDistinctCounts, "organizations",
    distinct {
        kind: "kind" => "kind", "How many different kinds.";
        parent: "parent" => "parent_id", "How many different parent organizations.";
        acronym: "acronym" => "acronym", "How many different acronyms.";
    }
);

record_aggregates!(
    AgreementAggregates, AgreementDistinctCounts, "agreements",
    distinct {
        kind: "kind" => "kind", "How many different kinds.";
        signed_on: "signedOn" => "signed_on", "How many different signing dates (a year, a month and a day beginning on the same day are one).";
    }
    dates AgreementDates {
        signed_on: "signedOn" => "signed_on" / "signed_precision", "When signed.";
    }
);

record_aggregates!(
    ProjectAggregates, ProjectDistinctCounts, "projects",
    distinct {
        kind: "kind" => "kind", "How many different kinds.";
        status: "status" => "status", "How many different statuses.";
        agreement: "agreement" => "agreement_id", "How many different agreements the projects carry out.";
    }
    dates ProjectDates {
        starts_on: "startsOn" => "starts_on" / "starts_precision", "When the project starts.";
        ends_on: "endsOn" => "ends_on" / "ends_precision", "When the project ends.";
    }
);

record_aggregates!(
    EventAggregates, EventDistinctCounts, "events",
    distinct {
        kind: "kind" => "kind", "How many different kinds.";
        recurrence: "recurrence" => "recurrence", "How many different recurrences.";
        parent: "parent" => "parent_id", "How many different parent events (forums).";
        project: "project" => "project_id", "How many different projects.";
        agreement: "agreement" => "agreement_id", "How many different agreements.";
        location: "location" => "location", "How many different locations (as written).";
    }
    dates EventDates {
        starts_on: "startsOn" => "starts_on" / "starts_precision", "When the event starts.";
        ends_on: "endsOn" => "ends_on" / "ends_precision", "When the event ends.";
    }
);

record_aggregates!(
    InstrumentAggregates, InstrumentDistinctCounts, "instruments",
    distinct {
        kind: "kind" => "kind", "How many different kinds.";
        issuer: "issuer" => "issuer_id", "How many different issuers.";
    }
    dates InstrumentDates {
        adopted_on: "adoptedOn" => "adopted_on" / "adopted_precision", "When adopted.";
    }
);

/// Declares the counts by role of a link relation's role enumeration.
macro_rules! role_counts {
    ($counts:ident, $role:ident) => {
        pub struct $counts(pub Measured);

        #[doc = concat!("How many links hold each `", stringify!($role), "`.")]
        #[Object]
        impl $counts {
            /// How many links hold each role, every role listed (0 when none holds it).
            async fn by_role(&self) -> Vec<RoleCount<$role>> {
                self.0.roles::<entity::$role, $role>()
            }
        }
    };
}

role_counts!(PartyRoleCounts, PartyRole);
role_counts!(ProjectRoleCounts, ProjectRole);
role_counts!(EventRoleCounts, EventRole);
role_counts!(InstrumentRoleCounts, InstrumentRole);

/// Declares the aggregates of a link connection: its records' and its links' counts by role.
macro_rules! link_aggregates {
    ($name:ident, $records:ident, $roles:ident, $items:literal) => {
        /// Aggregates over the links of a connection through a link table (with its role and
        /// filter applied): those of the linked records, and the links' counts by role.
        #[derive(async_graphql::MergedObject)]
        pub struct $name(
            pub $crate::graphql::aggregates::$records,
            pub $crate::graphql::aggregates::$roles,
        );

        impl $name {
            pub fn new(measured: $crate::graphql::aggregates::Measured) -> Self {
                Self(
                    $crate::graphql::aggregates::$records(measured.clone()),
                    $crate::graphql::aggregates::$roles(measured),
                )
            }
        }
    };
}
pub(super) use link_aggregates;

// ---- Groups ----

/// How a group was formed from a partial date.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateGroupKind {
    /// The records with no date at all.
    NoDate,
    /// The records dated within one year (grouping by year).
    Year,
    /// The records dated within one month (grouping by month).
    Month,
    /// The records of one year whose date is known to the year only (grouping by month): they
    /// fall in no month of it.
    MonthUnknown,
}

/// The period a group of records is dated in.
#[derive(SimpleObject)]
pub struct DateGroup {
    /// How the group was formed: a year, a month, the year's records with no known month, or
    /// the records with no date.
    kind: DateGroupKind,
    /// The year; null for the records with no date.
    year: Option<i32>,
    /// The month (1–12); null unless `kind` is `MONTH`.
    month: Option<i32>,
    /// The period as a partial date (`2020`, `2020-06`); for `MONTH_UNKNOWN` the year; null
    /// for the records with no date.
    period: Option<PartialDate>,
}

impl DateGroup {
    fn of(value: Option<&str>, by_month: bool) -> ApiResult<Self> {
        let Some(text) = value else {
            return Ok(Self {
                kind: DateGroupKind::NoDate,
                year: None,
                month: None,
                period: None,
            });
        };
        let period: PartialDate = text
            .parse()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("unexpected period {text:?}")))?;
        let year = chrono::Datelike::year(&period.date);
        let month = (period.precision != entity::DatePrecision::Year)
            .then(|| chrono::Datelike::month(&period.date) as i32);
        let kind = match (by_month, month) {
            (false, _) => DateGroupKind::Year,
            (true, Some(_)) => DateGroupKind::Month,
            (true, None) => DateGroupKind::MonthUnknown,
        };
        Ok(Self {
            kind,
            year: Some(year),
            month,
            period: Some(period),
        })
    }
}

/// A group's key values, by what they were grouped by.
#[derive(Clone)]
pub struct Keyed {
    keys: Arc<Vec<GroupKey>>,
    values: Vec<Option<String>>,
}

impl Keyed {
    fn value(&self, key: impl Fn(&GroupKey) -> bool) -> Option<Option<&str>> {
        let at = self.keys.iter().position(key)?;
        Some(self.values.get(at).and_then(|v| v.as_deref()))
    }

    /// The value of an enumeration column (`None` when not grouped by it, or when the records
    /// have none).
    pub fn enumerated<E, G>(&self, column: &str) -> ApiResult<Option<G>>
    where
        E: ActiveEnum<Value = String>,
        G: From<E>,
    {
        let value = self
            .value(|k| matches!(k, GroupKey::Column(c) if *c == column))
            .flatten();
        Self::parse::<E, G>(value)
    }

    /// The link's role, when grouped by it.
    pub fn role<E, G>(&self) -> ApiResult<Option<G>>
    where
        E: ActiveEnum<Value = String>,
        G: From<E>,
    {
        Self::parse::<E, G>(self.value(|k| *k == GroupKey::Role).flatten())
    }

    fn parse<E, G>(value: Option<&str>) -> ApiResult<Option<G>>
    where
        E: ActiveEnum<Value = String>,
        G: From<E>,
    {
        value
            .map(|v| {
                E::try_from_value(&v.to_owned()).map(G::from).map_err(|_| {
                    AppError::Internal(anyhow::anyhow!("unexpected value {v:?}")).into()
                })
            })
            .transpose()
    }

    /// The value of a key through a table of values, when grouped by it.
    pub fn joined(&self, table: &str) -> Option<&str> {
        self.value(|k| matches!(k, GroupKey::Joined(j) if j.table == table))
            .flatten()
    }

    /// The id a key through a table of values holds, when grouped by it.
    pub fn joined_id(&self, table: &str) -> Option<i64> {
        self.joined(table).and_then(|v| v.parse().ok())
    }

    /// The id a reference column holds, when grouped by it.
    pub fn column_id(&self, column: &str) -> Option<i64> {
        self.value(|k| matches!(k, GroupKey::Column(c) if *c == column))
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// The year (or, `by_month`, the month) group of the date in `column`, when grouped by it.
    pub fn date(&self, column: &str, by_month: bool) -> ApiResult<Option<DateGroup>> {
        let value = self.value(|k| match k {
            GroupKey::Year(d) => !by_month && d.date == column,
            GroupKey::Month(d) => by_month && d.date == column,
            _ => false,
        });
        value.map(|v| DateGroup::of(v, by_month)).transpose()
    }
}

/// Bounds on the count of the groups returned.
#[derive(InputObject, Debug, Clone, Copy, Default)]
pub struct GroupHaving {
    /// Only groups of at least this many items.
    min_count: Option<i32>,
    /// Only groups of at most this many items.
    max_count: Option<i32>,
}

/// What groups are ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupOrderField {
    /// By the keys, in the order of `by`: years and months in time order (a year's
    /// `MONTH_UNKNOWN` group before its January), enumeration values alphabetically, the
    /// groups without a value (no date, no value) last.
    #[default]
    Key,
    /// By the count, then by the keys.
    Count,
}

/// The order of groups.
#[derive(InputObject, Debug, Clone, Copy, Default)]
pub struct GroupOrder {
    /// What to order by.
    field: GroupOrderField,
    /// Which way.
    #[graphql(default)]
    direction: OrderDirection,
}

/// How many groups a request may still return: `GRAPHQL_MAX_GROUPS` across all its `groups`
/// fields, refused with BAD_USER_INPUT past it rather than cut silently.
pub struct GroupBudget {
    limit: usize,
    used: AtomicUsize,
}

impl GroupBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    fn take(&self, n: usize) -> Result<(), AppError> {
        let used = self.used.fetch_add(n, AtomicOrdering::Relaxed) + n;
        if used > self.limit {
            return Err(too_many_groups(self.limit));
        }
        Ok(())
    }
}

fn too_many_groups(limit: usize) -> AppError {
    AppError::bad_field(
        "groups",
        format!(
            "the request's groupings make more than {limit} groups; narrow the filter, raise \
             `having`, pass a smaller `first`, or group by fewer or coarser keys"
        ),
    )
}

/// The complexity of a `groups` field: each group (20 when `first` is not given, as for a page) costs its
/// fields, and the statement costs 2.
pub fn groups_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let size = first.unwrap_or(20).clamp(1, 1_000) as usize;
    size.saturating_mul(child_complexity).saturating_add(2)
}

/// The arguments of a `groups` field.
pub struct GroupArgs {
    pub keys: Vec<GroupKey>,
    pub having: Option<GroupHaving>,
    pub order_by: Option<GroupOrder>,
    pub first: Option<i32>,
}

/// The groups of a connection's records, as `args` asks and the `groups` field's selection of
/// `aggregates` measures them.
pub async fn groups(
    ctx: &Context<'_>,
    source: &dyn Source,
    spec: &Spec,
    roles: &[String],
    args: GroupArgs,
) -> ApiResult<Vec<(Keyed, Measured)>> {
    let GroupArgs {
        keys,
        having,
        order_by,
        first,
    } = args;
    if keys.is_empty() {
        return Err(AppError::bad_field("by", "name at least one key to group by").into());
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            return Err(AppError::bad_field("by", "each key may be named once").into());
        }
        // Their values are read back by table: one key per table of values.
        if let GroupKey::Joined(joined) = key
            && keys[..i]
                .iter()
                .any(|k| matches!(k, GroupKey::Joined(j) if j.table == joined.table))
        {
            return Err(AppError::bad_field(
                "by",
                "group by one participant key at a time (`PARTICIPANT` or one role's)",
            )
            .into());
        }
    }
    let having = having.unwrap_or_default();
    let count = |n: Option<i32>, field: &str| -> ApiResult<Option<u64>> {
        n.map(|n| {
            u64::try_from(n).map_err(|_| {
                AppError::bad_field(format!("having.{field}"), "must not be negative").into()
            })
        })
        .transpose()
    };
    let min_count = count(having.min_count, "minCount")?;
    let max_count = count(having.max_count, "maxCount")?;
    if let (Some(min), Some(max)) = (min_count, max_count)
        && min > max
    {
        return Err(AppError::bad_field(
            "having",
            "`minCount` is larger than `maxCount`: no group can match",
        )
        .into());
    }
    let first = first
        .map(|n| {
            usize::try_from(n).map_err(|_| AppError::bad_field("first", "must not be negative"))
        })
        .transpose()?;
    let budget = ctx.data_unchecked::<GroupBudget>();
    let keys = Arc::new(keys);
    let measures = measures(spec, &ctx.look_ahead().field("aggregates"), roles);
    let order = order_by.unwrap_or_default();
    let query = AggregateQuery {
        measures: measures.clone(),
        grouping: Some(Grouping {
            keys: keys.to_vec(),
            min_count,
            max_count,
            limit: budget.limit,
            top: first.map(|first| Top {
                by_count: order.field == GroupOrderField::Count,
                descending: order.direction == OrderDirection::Desc,
                first,
            }),
        }),
    };
    let mut rows = source.aggregate(ctx, query).await?;
    // A top-level statement returns its groups in this order already; a nested one does not.
    rows.sort_by(|a, b| {
        let by_key = compare_keys(&a.key, &b.key);
        let ordering = match order.field {
            GroupOrderField::Key => by_key,
            GroupOrderField::Count => a.count.cmp(&b.count).then(by_key),
        };
        match order.direction {
            OrderDirection::Asc => ordering,
            OrderDirection::Desc => ordering.reverse(),
        }
    });
    if let Some(first) = first {
        rows.truncate(first);
    }
    budget.take(rows.len())?;
    let measures = Arc::new(measures);
    Ok(rows
        .into_iter()
        .map(|mut row| {
            let values = std::mem::take(&mut row.key);
            (
                Keyed {
                    keys: keys.clone(),
                    values,
                },
                Measured {
                    measures: measures.clone(),
                    row,
                },
            )
        })
        .collect())
}

/// Keys in turn, each by its text (ISO years and months sort in time order), no value last.
fn compare_keys(a: &[Option<String>], b: &[Option<String>]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ordering = match (x, y) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

const fn joined(table: &'static str, owner: &'static str, value: &'static str) -> GroupKey {
    GroupKey::Joined(Joined {
        table,
        owner,
        value,
        role: None,
    })
}

/// An event's participants in one role (the role as stored).
const fn event_participants_as(role: &'static str) -> GroupKey {
    GroupKey::Joined(Joined {
        table: "event_participants",
        owner: "event_id",
        value: "organization_id",
        role: Some(role),
    })
}

const fn year(date: &'static str, precision: &'static str) -> GroupKey {
    GroupKey::Year(DateColumns { date, precision })
}

const fn month(date: &'static str, precision: &'static str) -> GroupKey {
    GroupKey::Month(DateColumns { date, precision })
}

/// Declares what a kind of record may be grouped by (`$by`), its group type and the object of
/// its key values.
macro_rules! record_groups {
    (
        $by:ident, $group:ident, $key:ident, $aggregates:ident, $items:literal,
        { $($variant:ident => $to:expr, $vdoc:literal;)* }
    ) => {
        #[doc = concat!("What ", $items, " may be grouped by. Grouping by a date's year puts the undated in a group of their own (`NO_DATE`); grouping by its month also puts each year's records known to the year only in a `MONTH_UNKNOWN` group of that year.")]
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $by {
            $(#[doc = $vdoc] $variant,)*
        }

        impl $by {
            pub fn key(self) -> GroupKey {
                match self {
                    $(Self::$variant => $to,)*
                }
            }
        }

        pub struct $group {
            pub key: Keyed,
            pub measured: Measured,
        }

        #[doc = concat!("A group of ", $items, ": the values it was formed by, and its aggregates.")]
        #[Object]
        impl $group {
            /// The values the group was formed by (each null when not grouped by it).
            async fn key(&self) -> $key {
                $key(self.key.clone())
            }

            /// How many items the group holds.
            async fn count(&self) -> u64 {
                self.measured.count()
            }

            /// The group's aggregates.
            async fn aggregates(&self) -> $aggregates {
                $aggregates(self.measured.clone())
            }
        }
    };
}

record_groups!(
    OrganizationGroupBy, OrganizationGroup, OrganizationGroupKey, OrganizationAggregates, "organizations",
    {
        Kind => GroupKey::Column("kind"), "The kind of organization.";
        Parent => GroupKey::Column("parent_id"), "The organization it belongs to (those without one in a group with no parent).";
    }
);
record_groups!(
    AgreementGroupBy, AgreementGroup, AgreementGroupKey, AgreementAggregates, "agreements",
    {
        Kind => GroupKey::Column("kind"), "The form of agreement.";
        SignedYear => year("signed_on", "signed_precision"), "The year signed.";
        SignedMonth => month("signed_on", "signed_precision"), "The month signed.";
        Party => joined("agreement_parties", "agreement_id", "organization_id"), "Each party: an agreement falls in the group of each of its parties.";
    }
);
record_groups!(
    ProjectGroupBy, ProjectGroup, ProjectGroupKey, ProjectAggregates, "projects",
    {
        Kind => GroupKey::Column("kind"), "The form of project.";
        Status => GroupKey::Column("status"), "The status.";
        StartYear => year("starts_on", "starts_precision"), "The year it starts.";
        StartMonth => month("starts_on", "starts_precision"), "The month it starts.";
        EndYear => year("ends_on", "ends_precision"), "The year it ends.";
        EndMonth => month("ends_on", "ends_precision"), "The month it ends.";
        Region => joined("project_regions", "project_id", "region"), "Each region it covers: a project falls in the group of each of its regions (those with none in a group with no region).";
        Theme => joined("project_themes", "project_id", "theme"), "Each theme it works on: a project falls in the group of each of its themes (those with none in a group with no theme).";
        Participant => joined("project_participants", "project_id", "organization_id"), "Each participant: a project falls in the group of each organization taking part (those with none in a group with no participant).";
    }
);
record_groups!(
    EventGroupBy, EventGroup, EventGroupKey, EventAggregates, "events",
    {
        Kind => GroupKey::Column("kind"), "The kind of event.";
        Recurrence => GroupKey::Column("recurrence"), "How often it recurs (events without one in a group with no value).";
        StartYear => year("starts_on", "starts_precision"), "The year it starts.";
        StartMonth => month("starts_on", "starts_precision"), "The month it starts.";
        EndYear => year("ends_on", "ends_precision"), "The year it ends.";
        EndMonth => month("ends_on", "ends_precision"), "The month it ends.";
        Participant => joined("event_participants", "event_id", "organization_id"), "Each participant: an event falls in the group of each organization taking part, whatever its role (those with none in a group with no participant).";
        Organizer => event_participants_as("organizer"), "Each organizer (a participant in the role `ORGANIZER`): an event falls in the group of each; those with none in the group with no participant. The key is `participant`.";
        CoOrganizer => event_participants_as("co_organizer"), "Each co-organizer (a participant in the role `CO_ORGANIZER`), as `ORGANIZER` does.";
        Host => event_participants_as("host"), "Each host (a participant in the role `HOST`), as `ORGANIZER` does.";
        Speaker => event_participants_as("speaker"), "Each speaker (a participant in the role `SPEAKER`), as `ORGANIZER` does.";
        Parent => GroupKey::Column("parent_id"), "The event it is part of, such as a session's forum (those outside any in a group with no parent).";
    }
);
record_groups!(
    InstrumentGroupBy, InstrumentGroup, InstrumentGroupKey, InstrumentAggregates, "instruments",
    {
        Kind => GroupKey::Column("kind"), "The kind of instrument.";
        AdoptedYear => year("adopted_on", "adopted_precision"), "The year adopted.";
        AdoptedMonth => month("adopted_on", "adopted_precision"), "The month adopted.";
    }
);

pub struct OrganizationGroupKey(pub Keyed);

/// The values a group of organizations was formed by.
#[Object]
impl OrganizationGroupKey {
    /// The kind, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<OrganizationKind>> {
        self.0.enumerated::<entity::OrganizationKind, _>("kind")
    }

    /// The organization they belong to, when grouped by `PARENT` (null for the group of those
    /// without one).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.column_id("parent_id");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }
}

pub struct AgreementGroupKey(pub Keyed);

/// The values a group of agreements was formed by.
#[Object]
impl AgreementGroupKey {
    /// The form, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<AgreementKind>> {
        self.0.enumerated::<entity::AgreementKind, _>("kind")
    }

    /// The year signed, when grouped by `SIGNED_YEAR`.
    async fn signed_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("signed_on", false)
    }

    /// The month signed, when grouped by `SIGNED_MONTH`.
    async fn signed_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("signed_on", true)
    }

    /// The party, when grouped by `PARTY`.
    async fn party(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.joined_id("agreement_parties");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }
}

pub struct ProjectGroupKey(pub Keyed);

/// The values a group of projects was formed by.
#[Object]
impl ProjectGroupKey {
    /// The form, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<ProjectKind>> {
        self.0.enumerated::<entity::ProjectKind, _>("kind")
    }

    /// The status, when grouped by `STATUS`.
    async fn status(&self) -> ApiResult<Option<ProjectStatus>> {
        self.0.enumerated::<entity::ProjectStatus, _>("status")
    }

    /// The year it starts, when grouped by `START_YEAR`.
    async fn start_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", false)
    }

    /// The month it starts, when grouped by `START_MONTH`.
    async fn start_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", true)
    }

    /// The year it ends, when grouped by `END_YEAR`.
    async fn end_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", false)
    }

    /// The month it ends, when grouped by `END_MONTH`.
    async fn end_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", true)
    }

    /// The region, when grouped by `REGION` (null for the group of projects with none).
    async fn region(&self) -> Option<&str> {
        self.0.joined("project_regions")
    }

    /// The theme, when grouped by `THEME` (null for the group of projects with none).
    async fn theme(&self) -> Option<&str> {
        self.0.joined("project_themes")
    }

    /// The participant, when grouped by `PARTICIPANT` (null for the group of projects with
    /// none).
    async fn participant(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.joined_id("project_participants");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }
}

pub struct EventGroupKey(pub Keyed);

/// The values a group of events was formed by.
#[Object]
impl EventGroupKey {
    /// The kind, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<EventKind>> {
        self.0.enumerated::<entity::EventKind, _>("kind")
    }

    /// The recurrence, when grouped by `RECURRENCE` (null also for the group of events without
    /// one).
    async fn recurrence(&self) -> ApiResult<Option<Recurrence>> {
        self.0.enumerated::<entity::Recurrence, _>("recurrence")
    }

    /// The year it starts, when grouped by `START_YEAR`.
    async fn start_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", false)
    }

    /// The month it starts, when grouped by `START_MONTH`.
    async fn start_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", true)
    }

    /// The year it ends, when grouped by `END_YEAR`.
    async fn end_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", false)
    }

    /// The month it ends, when grouped by `END_MONTH`.
    async fn end_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", true)
    }

    /// The participant, when grouped by `PARTICIPANT` or by one role's participants
    /// (`ORGANIZER`, `CO_ORGANIZER`, `HOST`, `SPEAKER`); null for the group of events with none.
    async fn participant(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.joined_id("event_participants");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }

    /// The event they are part of, when grouped by `PARENT` (null for the group of events
    /// outside any).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        let id = self.0.column_id("parent_id");
        Ok(referenced::<event::Entity>(ctx, id).await?.map(Event))
    }
}

pub struct InstrumentGroupKey(pub Keyed);

/// The values a group of instruments was formed by.
#[Object]
impl InstrumentGroupKey {
    /// The kind, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<InstrumentKind>> {
        self.0.enumerated::<entity::InstrumentKind, _>("kind")
    }

    /// The year adopted, when grouped by `ADOPTED_YEAR`.
    async fn adopted_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("adopted_on", false)
    }

    /// The month adopted, when grouped by `ADOPTED_MONTH`.
    async fn adopted_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("adopted_on", true)
    }
}
