//! The root fields of each kind of record: one by ID or slug, and a filtered, ordered page.
//! The five kinds share their shape, so one macro writes them.

use async_graphql::{Context, Object};
use entity::{agreement, event, instrument, organization, project};

use super::{
    connection::{self, Window},
    errors::ApiResult,
    ids::RecordKind,
    lookup::{self, RecordKey},
    prelude::*,
};
use crate::store;

macro_rules! record_queries {
    (
        $query:ident, $one:ident, $many:ident, $entity:ident, $node:ident, $connection:ident,
        $filter:ident, $store_filter:path, $order_input:ident, $order_store:ident, $default:ident,
        one_doc = $one_doc:literal, key_doc = $key_doc:literal, many_doc = $many_doc:literal,
        filter_doc = $filter_doc:literal, order_doc = $order_doc:literal $(,)?
    ) => {
        #[derive(Default)]
        pub struct $query;

        #[Object]
        impl $query {
            #[doc = $one_doc]
            async fn $one(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = $key_doc)] by: RecordKey,
            ) -> ApiResult<Option<$node>> {
                Ok(lookup::find::<$entity::Entity>(ctx, by, RecordKind::$node).await?.map($node))
            }

            #[doc = $many_doc]
            #[expect(clippy::too_many_arguments, reason = "a Relay list takes filter, orderBy and four paging arguments")]
            #[graphql(complexity = "super::limits::list_cost(first, last, child_complexity)")]
            async fn $many(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = $filter_doc)] filter: Option<$filter>,
                #[graphql(desc = $order_doc)] order_by: Option<Vec<Order<$order_input>>>,
                #[graphql(desc = "Page size going forwards: 20 when neither `first` nor `last` is given, at most 100.")]
                first: Option<i32>,
                #[graphql(desc = "Return the items after this cursor.")] after: Option<String>,
                #[graphql(desc = "Page size going backwards (from the end, or from `before`), at most 100.")]
                last: Option<i32>,
                #[graphql(desc = "Return the items before this cursor.")] before: Option<String>,
            ) -> ApiResult<Fast<$connection>> {
                let filter: $store_filter = filter.map(Into::into).unwrap_or_default();
                let order = sort_keys(order_by, $order_input::$default, |f: $order_store, d| f.key(d))?;
                let window = Window { first, after, last, before };
                connection::list::<$entity::Entity, $connection>(ctx, &filter, order, window, $node).await
            }
        }
    };
}

record_queries!(
    OrganizationQuery,
    organization,
    organizations,
    organization,
    Organization,
    OrganizationConnection,
    OrganizationFilter,
    store::organizations::OrganizationFilter,
    OrganizationOrderFieldInput,
    OrganizationOrderFieldStore,
    Name,
    one_doc = "One organization, by global ID or slug; null when there is none.",
    key_doc = "The organization's global ID or slug.",
    many_doc = "Organizations, filtered and ordered, a page at a time.",
    filter_doc = "Only organizations matching this.",
    order_doc = "Sort keys, most significant first; by name when omitted. Ties are broken by id.",
);

record_queries!(
    AgreementQuery,
    agreement,
    agreements,
    agreement,
    Agreement,
    AgreementConnection,
    AgreementFilter,
    store::agreements::AgreementFilter,
    AgreementOrderFieldInput,
    AgreementOrderFieldStore,
    Title,
    one_doc = "One agreement, by global ID or slug; null when there is none.",
    key_doc = "The agreement's global ID or slug.",
    many_doc = "Agreements, filtered and ordered, a page at a time.",
    filter_doc = "Only agreements matching this.",
    order_doc = "Sort keys, most significant first; by title when omitted. Ties are broken by id.",
);

record_queries!(
    ProjectQuery,
    project,
    projects,
    project,
    Project,
    ProjectConnection,
    ProjectFilter,
    store::projects::ProjectFilter,
    ProjectOrderFieldInput,
    ProjectOrderFieldStore,
    Name,
    one_doc = "One project, by global ID or slug; null when there is none.",
    key_doc = "The project's global ID or slug.",
    many_doc = "Projects, filtered and ordered, a page at a time.",
    filter_doc = "Only projects matching this.",
    order_doc = "Sort keys, most significant first; by name when omitted. Ties are broken by id.",
);

record_queries!(
    EventQuery,
    event,
    events,
    event,
    Event,
    EventConnection,
    EventFilter,
    store::events::EventFilter,
    EventOrderFieldInput,
    EventOrderFieldStore,
    Name,
    one_doc = "One event, by global ID or slug; null when there is none.",
    key_doc = "The event's global ID or slug.",
    many_doc = "Events, filtered and ordered, a page at a time.",
    filter_doc = "Only events matching this.",
    order_doc = "Sort keys, most significant first; by name when omitted. Ties are broken by id.",
);

record_queries!(
    InstrumentQuery,
    instrument,
    instruments,
    instrument,
    Instrument,
    InstrumentConnection,
    InstrumentFilter,
    store::instruments::InstrumentFilter,
    InstrumentOrderFieldInput,
    InstrumentOrderFieldStore,
    Name,
    one_doc = "One instrument, by global ID or slug; null when there is none.",
    key_doc = "The instrument's global ID or slug.",
    many_doc = "Instruments, filtered and ordered, a page at a time.",
    filter_doc = "Only instruments matching this.",
    order_doc = "Sort keys, most significant first; by name when omitted. Ties are broken by id.",
);
