//! Grouping a connection's records: the `groups` field's arguments, the request's budget of
//! groups, the statement's groups put in order, and each kind's `…GroupBy` and `…Group` types.

use std::{
    cmp::Ordering,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering as AtomicOrdering},
    },
};

use async_graphql::{Context, Enum, InputObject, Object};

use super::{
    AgreementAggregates, EventAggregates, InstrumentAggregates, Measured, OrganizationAggregates,
    ProjectAggregates, Source, Spec,
    keys::{
        AgreementGroupKey, EventGroupKey, InstrumentGroupKey, Keyed, OrganizationGroupKey,
        ProjectGroupKey,
    },
    measures,
};
use crate::{
    error::AppError,
    graphql::{connection::OrderDirection, errors::ApiResult},
    store::aggregate::{AggregateQuery, DateColumns, GroupKey, Grouping, Joined, Top},
};

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
