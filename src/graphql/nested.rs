//! Nested connections: the related records of a record, paginated per parent, one statement
//! per level however many parents a response holds (see `store::nested`). Edges through a link
//! table carry the link's own data (the role, and for parties the date they joined).

use std::{hash::Hash, sync::Arc};

use async_graphql::{
    ContainerType, Context, Lookahead, Object, connection::PageInfo, dataloader::Loader,
};

use super::{
    aggregates::{self, Source},
    agreement::Agreement,
    connection::{
        Bounds, ConnectionType, OrderDirection, encode_cursor, loader, page_object, selects_page,
    },
    enums::{EventRole, InstrumentRole, PartyRole, ProjectRole},
    errors::ApiResult,
    event::Event,
    fast::Fast,
    filters::{Order, sort_keys},
    instrument::Instrument,
    loaders::{ChildCount, ChildPage, CountQuery, KeptCount, LinkCount, LinkPage, StoreLoader},
    organization::Organization,
    project::Project,
    projection::{self, Reads},
};
use crate::{
    dates::PartialDate,
    error::AppError,
    store::{
        decode::Columns,
        filter::EnumFilter,
        nested::{
            ChildRelation, LinkModel, LinkRelation, LinkRow, Nested, NestedQuery, Projection,
        },
        page::{DEFAULT_PAGE_SIZE, Direction, Position, SortKey, size},
        records::Filter,
    },
};
use futures::future::BoxFuture;
use sea_orm::EntityTrait;

/// A connection through a link table, built from a parent's page.
pub trait LinkConnection<R: LinkRelation>: ContainerType {
    fn build(
        rows: Vec<(LinkRow<R>, Position)>,
        bounds: Bounds,
        total_count: u64,
        source: Arc<dyn Source>,
    ) -> Self;
    /// The columns of the links and of their records that the fields selected under the
    /// connection (`ctx.look_ahead()` on it) read.
    fn projection(connection: &Lookahead<'_>) -> Projection;
}

/// Declares a connection through a link table and its edge type. The relation (`store::nested`,
/// from the link table's row in `store::link_tables`) gives the link's model and role; the rest
/// are the API's names and descriptions.
macro_rules! link_connection {
    (
        $connection:ident, $edge:ident, $relation:ty, $node:ident, $role:ident, $items:literal, $role_doc:literal,
        $aggregates:ident = $records:ident + $roles:ident, $group:ident, $by:ident, $key:ident
        $(, $since:ident)?
    ) => {
        page_object!(
            $connection,
            $edge,
            $node,
            $items,
            "; each edge carries the link's own data",
            "The items of this page, each with its cursor and the link's data.",
            "The items of this page, without cursors or link data.",
            "How many items the whole list holds, across all pages (with the filters applied).",
            links($aggregates, $records, $role, $group, $by)
        );

        aggregates::link_aggregates!($aggregates, $records, $roles, $items);

        pub struct $group {
            key: aggregates::Keyed,
            measured: aggregates::Measured,
        }

        #[doc = concat!("A group of ", $items, ": the values it was formed by, and its aggregates.")]
        #[Object]
        impl $group {
            /// The link's role, when grouped by it (`byRole: true`).
            async fn role(&self) -> ApiResult<Option<$role>> {
                self.key.role::<<$relation as LinkRelation>::Role, $role>()
            }

            /// The values of the records the group was formed by (each null when not grouped
            /// by it).
            async fn key(&self) -> aggregates::$key {
                aggregates::$key(self.key.clone())
            }

            /// How many links the group holds.
            async fn count(&self) -> u64 {
                self.measured.count()
            }

            /// The group's aggregates.
            async fn aggregates(&self) -> $aggregates {
                $aggregates::new(self.measured.clone())
            }
        }

        pub struct $edge {
            position: Position,
            link: LinkModel<$relation>,
            node: $node,
        }

        #[doc = concat!("One of ", $items, " in a page, with the link's own data.")]
        #[Object]
        impl $edge {
            /// Opaque position of this item: pass it as `after` to page from here.
            async fn cursor(&self) -> String {
                encode_cursor(&self.position)
            }

            /// The item.
            async fn node(&self) -> Fast<&$node> {
                Fast(&self.node)
            }

            #[doc = $role_doc]
            async fn role(&self) -> $role {
                self.link.role.into()
            }

            $(
                /// Since when the organization takes part, when the source says.
                async fn $since(&self) -> Option<PartialDate> {
                    PartialDate::from_parts(self.link.since_on, self.link.since_precision)
                }
            )?
        }

        impl Reads for $edge {
            type Model = LinkModel<$relation>;
            const READS: &'static [(&'static str, &'static [&'static str])] =
                &[$((stringify!($since), &["since_on", "since_precision"]),)?];
        }

        impl LinkConnection<$relation> for $connection {
            fn build(rows: Vec<(LinkRow<$relation>, Position)>, bounds: Bounds, total_count: u64, source: Arc<dyn Source>) -> Self {
                let edges = rows
                    .into_iter()
                    .map(|((link, node), position)| $edge { position, link, node: $node(node) })
                    .collect();
                Self { edges, bounds, total_count, source }
            }

            fn projection(connection: &Lookahead<'_>) -> Projection {
                Projection {
                    link: projection::columns::<$edge>(&[connection.field("edges")]),
                    target: projection::columns::<$node>(&projection::nodes(connection)),
                }
            }
        }
    };
}

use crate::store::nested as rel;

link_connection!(
    OrganizationAgreementConnection,
    OrganizationAgreementEdge,
    rel::AgreementsOfOrganization,
    Agreement,
    PartyRole,
    "the agreements an organization is party to",
    "The organization's part in the agreement.",
    OrganizationAgreementAggregates = AgreementAggregates + PartyRoleCounts,
    OrganizationAgreementGroup,
    AgreementGroupBy,
    AgreementGroupKey,
    since
);
link_connection!(
    AgreementPartyConnection,
    AgreementPartyEdge,
    rel::PartiesOfAgreement,
    Organization,
    PartyRole,
    "the parties to an agreement",
    "The organization's part in the agreement.",
    AgreementPartyAggregates = OrganizationAggregates + PartyRoleCounts,
    AgreementPartyGroup,
    OrganizationGroupBy,
    OrganizationGroupKey,
    since
);
link_connection!(
    OrganizationProjectConnection,
    OrganizationProjectEdge,
    rel::ProjectsOfOrganization,
    Project,
    ProjectRole,
    "the projects an organization takes part in",
    "The organization's part in the project.",
    OrganizationProjectAggregates = ProjectAggregates + ProjectRoleCounts,
    OrganizationProjectGroup,
    ProjectGroupBy,
    ProjectGroupKey
);
link_connection!(
    ProjectParticipantConnection,
    ProjectParticipantEdge,
    rel::ParticipantsOfProject,
    Organization,
    ProjectRole,
    "the participants in a project",
    "The organization's part in the project.",
    ProjectParticipantAggregates = OrganizationAggregates + ProjectRoleCounts,
    ProjectParticipantGroup,
    OrganizationGroupBy,
    OrganizationGroupKey
);
link_connection!(
    OrganizationEventConnection,
    OrganizationEventEdge,
    rel::EventsOfOrganization,
    Event,
    EventRole,
    "the events an organization takes part in",
    "The organization's part in the event.",
    OrganizationEventAggregates = EventAggregates + EventRoleCounts,
    OrganizationEventGroup,
    EventGroupBy,
    EventGroupKey
);
link_connection!(
    EventParticipantConnection,
    EventParticipantEdge,
    rel::ParticipantsOfEvent,
    Organization,
    EventRole,
    "the participants in an event",
    "The organization's part in the event.",
    EventParticipantAggregates = OrganizationAggregates + EventRoleCounts,
    EventParticipantGroup,
    OrganizationGroupBy,
    OrganizationGroupKey
);
link_connection!(
    AgreementInstrumentConnection,
    AgreementInstrumentEdge,
    rel::InstrumentsOfAgreement,
    Instrument,
    InstrumentRole,
    "the instruments an agreement rests on",
    "How the agreement relates to the instrument.",
    AgreementInstrumentAggregates = InstrumentAggregates + InstrumentRoleCounts,
    AgreementInstrumentGroup,
    InstrumentGroupBy,
    InstrumentGroupKey
);
link_connection!(
    InstrumentAgreementConnection,
    InstrumentAgreementEdge,
    rel::AgreementsOfInstrument,
    Agreement,
    InstrumentRole,
    "the agreements linked to an instrument",
    "How the agreement relates to the instrument.",
    InstrumentAgreementAggregates = AgreementAggregates + InstrumentRoleCounts,
    InstrumentAgreementGroup,
    AgreementGroupBy,
    AgreementGroupKey
);
link_connection!(
    ProjectInstrumentConnection,
    ProjectInstrumentEdge,
    rel::InstrumentsOfProject,
    Instrument,
    InstrumentRole,
    "the instruments a project rests on",
    "How the project relates to the instrument.",
    ProjectInstrumentAggregates = InstrumentAggregates + InstrumentRoleCounts,
    ProjectInstrumentGroup,
    InstrumentGroupBy,
    InstrumentGroupKey
);
link_connection!(
    InstrumentProjectConnection,
    InstrumentProjectEdge,
    rel::ProjectsOfInstrument,
    Project,
    InstrumentRole,
    "the projects linked to an instrument",
    "How the project relates to the instrument.",
    InstrumentProjectAggregates = ProjectAggregates + InstrumentRoleCounts,
    InstrumentProjectGroup,
    ProjectGroupBy,
    ProjectGroupKey
);
link_connection!(
    EventInstrumentConnection,
    EventInstrumentEdge,
    rel::InstrumentsOfEvent,
    Instrument,
    InstrumentRole,
    "the instruments an event refers to",
    "How the event relates to the instrument.",
    EventInstrumentAggregates = InstrumentAggregates + InstrumentRoleCounts,
    EventInstrumentGroup,
    InstrumentGroupBy,
    InstrumentGroupKey
);
link_connection!(
    InstrumentEventConnection,
    InstrumentEventEdge,
    rel::EventsOfInstrument,
    Event,
    InstrumentRole,
    "the events linked to an instrument",
    "How the event relates to the instrument.",
    InstrumentEventAggregates = EventAggregates + InstrumentRoleCounts,
    InstrumentEventGroup,
    EventGroupBy,
    EventGroupKey
);

/// How a nested list through a link table is ordered: by its records (`orderBy`, the default
/// when neither is given) or by when each link was made (`linked`), not both.
pub struct LinkOrder<C> {
    records: Vec<SortKey<C>>,
    linked: Option<Direction>,
}

/// A link connection's `orderBy` and `linked`, checked (BAD_USER_INPUT when both are given).
pub fn link_order<F, S, C>(
    order_by: Option<Vec<Order<F>>>,
    linked: Option<OrderDirection>,
    default: F,
    key: impl Fn(S, Direction) -> SortKey<C>,
) -> ApiResult<LinkOrder<C>>
where
    F: async_graphql::InputType + Copy + PartialEq,
    S: From<F>,
{
    match linked {
        None => Ok(LinkOrder {
            records: sort_keys(order_by, default, key)?,
            linked: None,
        }),
        Some(_) if order_by.as_ref().is_some_and(|o| !o.is_empty()) => Err(AppError::bad_field(
            "linked",
            "order by `linked` or by `orderBy`, not both".to_owned(),
        )
        .into()),
        Some(direction) => Ok(LinkOrder {
            records: Vec::new(),
            linked: Some(direction.into()),
        }),
    }
}

/// The window of a nested list: `first` (default 20, at most 100) and `after`.
fn window(
    first: Option<i32>,
    after: Option<String>,
) -> Result<(u64, Option<crate::store::page::Position>), AppError> {
    let first = first
        .map(|n| size("first", n))
        .transpose()?
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let after = after
        .map(|c| super::connection::decode_cursor("after", &c))
        .transpose()?;
    Ok((first, after))
}

fn bounds<M>(page: &Nested<M>, after: bool) -> Bounds {
    Bounds {
        has_previous_page: after,
        has_next_page: page.has_next_page,
    }
}

/// A parent's page when the query reads it, and its count (see [`count_of`]). Both keys are
/// registered before either batch runs, so siblings share both statements.
async fn page_and_count<P, V>(
    ctx: &Context<'_>,
    page: Option<P>,
    count: impl Future<Output = Result<Option<u64>, Arc<AppError>>>,
) -> ApiResult<(V, u64)>
where
    P: Send + Sync + Hash + Eq + Clone + 'static,
    V: Default + Clone + Send + Sync + 'static,
    StoreLoader: Loader<P, Value = V, Error = Arc<AppError>>,
{
    let (page, total_count) = futures::try_join!(
        async {
            match page {
                Some(key) => loader(ctx).load_one(key).await,
                None => Ok(Some(V::default())),
            }
        },
        count
    )?;
    Ok((page.unwrap_or_default(), total_count.unwrap_or(0)))
}

/// The count of `key`, when the query asks for `totalCount` (0 otherwise, unread).
async fn count_of<K>(ctx: &Context<'_>, key: Option<K>) -> Result<Option<u64>, Arc<AppError>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    StoreLoader: Loader<K, Value = u64, Error = Arc<AppError>>,
{
    match key {
        Some(key) => loader(ctx).load_one(key).await,
        None => Ok(Some(0)),
    }
}

/// A nested list through a link table, for one parent (batched with its siblings).
///
/// Boxed, like `children`: async-graphql resolves each selected field of an object in a future
/// as large as the largest of that object's fields, so an unboxed page here would make every
/// `name` and `slug` beside it allocate and move a future the size of this one.
pub fn links<'a, R, C>(
    ctx: &'a Context<'_>,
    parent: i64,
    role: Option<EnumFilter<R::Role>>,
    filter: R::Filter,
    order: LinkOrder<<R::Target as EntityTrait>::Column>,
    first: Option<i32>,
    after: Option<String>,
) -> BoxFuture<'a, ApiResult<Fast<C>>>
where
    R: LinkRelation,
    <R::Target as EntityTrait>::Column: std::fmt::Debug + Send + Sync,
    C: LinkConnection<R> + 'a,
{
    Box::pin(async move {
        let (first, after) = window(first, after)?;
        let has_after = after.is_some();
        let source: Arc<dyn Source> = Arc::new(aggregates::Links::<R> {
            parent,
            role: role.clone(),
            filter: filter.clone(),
        });
        let counted = ctx.look_ahead().field("totalCount").exists();
        // Without a role or a filter, from the kept counts, in one statement with every other
        // relation's (`KeptCount`).
        let kept = (counted && role.is_none() && filter.condition().is_empty())
            .then(|| KeptCount::of::<R>(parent));
        let count = (counted && kept.is_none()).then(|| {
            let query = Arc::new(CountQuery {
                role: role.clone(),
                filter: filter.clone(),
            });
            LinkCount::<R>::new(ctx, parent, query, || Projection::ALL)
        });
        let query = Arc::new(NestedQuery {
            role,
            filter,
            order: order.records,
            linked: order.linked,
            first,
            after,
        });
        let page = (selects_page(&ctx.look_ahead()) || has_after)
            .then(|| LinkPage::<R>::new(ctx, parent, query, || C::projection(&ctx.look_ahead())));
        let count = async {
            match kept {
                Some(key) => count_of(ctx, Some(key)).await,
                None => count_of(ctx, count).await,
            }
        };
        let (page, total_count) = page_and_count(ctx, page, count).await?;
        let page = Arc::unwrap_or_clone(page);
        let bounds = bounds(&page, has_after);
        Ok(Fast(C::build(page.rows, bounds, total_count, source)))
    })
}

/// A nested list of child records, for one parent (batched with its siblings); boxed, as
/// `links` says why.
pub fn children<'a, R, C>(
    ctx: &'a Context<'_>,
    parent: i64,
    filter: R::Filter,
    order: Vec<SortKey<<R::Target as EntityTrait>::Column>>,
    first: Option<i32>,
    after: Option<String>,
    wrap: fn(<R::Target as EntityTrait>::Model) -> C::Node,
) -> BoxFuture<'a, ApiResult<Fast<C>>>
where
    R: ChildRelation,
    <R::Target as EntityTrait>::Column: std::fmt::Debug + Send + Sync,
    C: ConnectionType<Node: Reads<Model = <R::Target as EntityTrait>::Model>> + 'a,
{
    Box::pin(async move {
        let (first, after) = window(first, after)?;
        let has_after = after.is_some();
        let source: Arc<dyn Source> = Arc::new(aggregates::Children::<R> {
            parent,
            filter: filter.clone(),
        });
        let count = ctx.look_ahead().field("totalCount").exists().then(|| {
            let query = Arc::new(CountQuery {
                role: None::<EnumFilter<()>>,
                filter: filter.clone(),
            });
            ChildCount::<R>::new(ctx, parent, query, || Projection::ALL)
        });
        let query = Arc::new(NestedQuery {
            role: None,
            filter,
            order,
            linked: None,
            first,
            after,
        });
        let page = (selects_page(&ctx.look_ahead()) || has_after).then(|| {
            ChildPage::<R>::new(ctx, parent, query, || Projection {
                link: Columns::ALL,
                target: projection::columns::<C::Node>(&projection::nodes(&ctx.look_ahead())),
            })
        });
        let (page, total_count) = page_and_count(ctx, page, count_of(ctx, count)).await?;
        let page = Arc::unwrap_or_clone(page);
        let bounds = bounds(&page, has_after);
        let edges = page
            .rows
            .into_iter()
            .map(|(model, position)| (position, wrap(model)))
            .collect();
        Ok(Fast(C::build(edges, bounds, total_count, source)))
    })
}
