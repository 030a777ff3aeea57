//! Aggregates and groups on every connection: `aggregates { count distinctCount { … } min { … }
//! max { … } }` over the whole list (with the connection's filter and role applied), and
//! `groups(by: …)` for the same per group. What a query selects under them becomes the columns
//! of one statement (`store::aggregate`), run only when the field is selected; a nested
//! connection's aggregates go through the request's loader, so siblings share that statement.
//!
//! This module holds where the records come from (`Source`), the measures and the aggregates
//! objects of each kind of record; `groups` holds grouping and `keys` the values groups are
//! formed by.

mod groups;
mod keys;

use std::{marker::PhantomData, sync::Arc};

use async_graphql::{Context, Lookahead, Object, OutputType, SimpleObject};
use futures::future::BoxFuture;
use sea_orm::{ActiveEnum, Iterable};

use super::{
    connection::loader,
    enums::{EventRole, InstrumentRole, PartyRole, ProjectRole},
    errors::ApiResult,
    loaders::{AggregateOver, ChildAggregates, LinkAggregates},
};
use crate::{
    dates::PartialDate,
    store::{
        Store,
        aggregate::{self, Aggregate, AggregateQuery, DateColumns, Measures},
        filter::EnumFilter,
        nested::{ChildRelation, LinkRelation},
        records::{Filter, Record},
    },
};

pub use groups::*;
pub use keys::*;

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
