//! What runs around the schema for every request, in order: the persisted query's text, the
//! limits on the text and its parse (each text parsed once and kept), the variables, the
//! operation a read-only transport may run, async-graphql's validation and execution, codes
//! for its errors, and the response in the query's order. A read whose document compiled into
//! a plan (`direct`) after a clean run skips validation and execution: the plan writes the body.
//!
//! None of it is an async-graphql extension, on purpose: with any extension on the schema,
//! async-graphql wraps every resolved field and list item in each extension's `resolve` (boxed
//! futures, type-name strings): removing the four we had took the nested list at scale 1 from
//! 152–169 to 195–204 req/s (docs/BENCHMARKS.md).

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use async_graphql::{
    Request, Response, SchemaEnv, ServerError,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
    parser::types::OperationType,
};
use futures::{StreamExt, stream::BoxStream};
use lru::LruCache;

use super::{
    AppSchema,
    limits::{self, Checked, Limits},
    operation, order,
    persisted::{AllowList, Persisted},
    schema_builder,
    shared::{self, GroupKey, Groups, Member, Progress},
};
use crate::{
    config::GraphqlSettings,
    metrics::RealtimeMetrics,
    store::{Store, feed::Feed},
};

/// Query texts whose checked parse is kept, the most recently used first.
const DOCUMENT_CACHE_ENTRIES: usize = 256;

/// Texts longer than this are parsed each time they come: a parsed document takes several
/// times its text's memory, so the cache holds tens of MiB at worst (256 × 8 KiB of text).
const DOCUMENT_CACHE_MAX_BYTES: usize = 8 * 1024;

/// Queries the automatic persisted-query cache keeps (each at most GRAPHQL_MAX_QUERY_BYTES):
/// about 1000 × 32 KiB at worst.
const APQ_CACHE_ENTRIES: usize = 1000;

/// The schema and everything a request goes through around it.
pub struct Api {
    schema: AppSchema,
    /// The schema's types and fields (introspection's included), for ordering responses.
    env: SchemaEnv,
    limits: Limits,
    persisted: Persisted,
    documents: Mutex<LruCache<String, Arc<Checked>>>,
    /// Live subscriptions running once for all who ask the same (`shared`).
    groups: Groups,
}

/// How a request ended.
pub struct Executed {
    pub response: Response,
    /// Whether execution began: the persisted query, the limits and validation all passed.
    pub executed: bool,
    /// The operation the document selects: its name, `anonymous` for a single unnamed one;
    /// `None` before the document is known or when it does not say which operation runs.
    pub operation: Option<String>,
    /// Whether it was refused because it selected a write over a read-only transport (GET).
    pub write_refused: bool,
    /// The kind of the operation that ran (`None` before the document is known).
    pub kind: Option<OperationType>,
    /// The whole body, `{"data":…}`, when a compiled plan answered (`direct`); `response` is
    /// then empty.
    pub body: Option<Vec<u8>>,
}

impl Executed {
    fn refused(err: ServerError, operation: Option<String>) -> Self {
        Self {
            response: Response::from_errors(vec![err]),
            executed: false,
            operation,
            write_refused: false,
            kind: None,
            body: None,
        }
    }
}

impl Api {
    /// The schema with the configured limits; with an allow-list only its operations run, and
    /// automatic persisted queries (a cache any client can fill) are off.
    pub async fn new(
        settings: &GraphqlSettings,
        allow_list: Option<Arc<AllowList>>,
    ) -> anyhow::Result<Self> {
        let persisted = match allow_list {
            Some(list) => Persisted::AllowList(list),
            None if settings.automatic_persisted_queries => Persisted::automatic(APQ_CACHE_ENTRIES),
            None => Persisted::Off,
        };
        Ok(Self {
            schema: schema_builder(settings).finish(),
            env: schema_env(settings).await?,
            limits: Limits::from(settings),
            persisted,
            documents: Mutex::new(LruCache::new(
                NonZeroUsize::new(DOCUMENT_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
            groups: Groups::default(),
        })
    }

    /// Runs a request; `prepare` gives it its data (the store, the loaders, the viewer) once the
    /// document shows which kind of operation runs (reads may go to a replica, writes may not).
    /// With `read_only` (GET) a mutation is refused then.
    pub async fn execute(
        &self,
        mut request: Request,
        read_only: bool,
        prepare: impl FnOnce(Request, Option<OperationType>) -> Request,
    ) -> Executed {
        let registration = match self.persisted.resolve(&mut request) {
            Ok(registration) => registration,
            Err(err) => return Executed::refused(err, None),
        };
        let checked = match self.checked(&request.query) {
            Ok(checked) => checked,
            Err(err) => return Executed::refused(err, None),
        };
        if let Some(registration) = registration {
            self.persisted.register(registration, &request.query);
        }
        let selected = operation::select(&checked.document, request.operation_name.as_deref());
        let (operation, ty) = selected.unzip();
        if let Err(err) = self.limits.check_variables(&request.variables) {
            return Executed::refused(err, operation);
        }
        if ty == Some(OperationType::Subscription) {
            let err = limits::error(
                "Subscriptions run over a WebSocket on this path (graphql-transport-ws or graphql-ws), not over HTTP.".to_owned(),
                "BAD_REQUEST",
            );
            return Executed::refused(err, operation);
        }
        if read_only && ty.is_some_and(|ty| ty != OperationType::Query) {
            let err = limits::error(
                "Mutations must be sent with POST.".to_owned(),
                "BAD_REQUEST",
            );
            return Executed {
                write_refused: true,
                ..Executed::refused(err, operation)
            };
        }

        let variables = request.variables.clone();
        let operation_name = request.operation_name.clone();
        let plan = checked.direct.ready(operation_name.as_deref());
        request.set_parsed_query(checked.document.clone());
        let request = prepare(request, ty);
        // A compiled plan answers when it can; any error sends the request down async-graphql's
        // path, which answers it as it always did.
        if let Some(plan) = plan
            && let Some(store) = shared::data::<Store>(&request.data)
        {
            match plan.run(&store.connection).await {
                Ok(body) => {
                    return Executed {
                        response: Response::default(),
                        executed: true,
                        operation,
                        write_refused: false,
                        kind: ty,
                        body: Some(body),
                    };
                }
                Err(err) => {
                    tracing::debug!(error = %err, "A compiled read failed; running it field by field")
                }
            }
        }
        let mut response = self.schema.execute(request).await;
        let executed = began(&response);
        self.limits.explain(&checked, &mut response, executed);
        if executed && ty == Some(OperationType::Query) && response.errors.is_empty() {
            checked.direct.prove(&checked.document);
        }
        if executed {
            order::order_response(
                &self.env.registry,
                &checked.document,
                &variables,
                operation_name.as_deref(),
                &mut response.data,
            );
        }
        Executed {
            response,
            executed,
            operation,
            write_refused: false,
            kind: ty,
            body: None,
        }
    }

    /// Runs a request that came over a WebSocket: the same persisted-query handling, limits on
    /// the text, the parse and the variables as [`Api::execute`], then async-graphql's own
    /// validation and limits, and execution as a stream (one response for a query or a
    /// mutation, one per event for a subscription), each response in the query's order.
    /// `prepare` gives the request its data once the operation's kind is known, or refuses it
    /// (a cap on subscriptions). A subscription to the live feed joins the group of those that
    /// ask the same (`shared`), when its data holds the feed and the metrics.
    pub fn execute_stream(
        &self,
        mut request: Request,
        session_data: Arc<async_graphql::Data>,
        prepare: impl FnOnce(Request, Option<OperationType>) -> Result<Request, ServerError>,
    ) -> BoxStream<'static, Response> {
        let refused =
            |err| futures::stream::once(async move { Response::from_errors(vec![err]) }).boxed();
        let registration = match self.persisted.resolve(&mut request) {
            Ok(registration) => registration,
            Err(err) => return refused(err),
        };
        let checked = match self.checked(&request.query) {
            Ok(checked) => checked,
            Err(err) => return refused(err),
        };
        if let Some(registration) = registration {
            self.persisted.register(registration, &request.query);
        }
        if let Err(err) = self.limits.check_variables(&request.variables) {
            return refused(err);
        }
        let ty = operation::select(&checked.document, request.operation_name.as_deref())
            .map(|(_, ty)| ty);
        let variables = request.variables.clone();
        let operation_name = request.operation_name.clone();
        let live = shared::live_changes(&checked.document, operation_name.as_deref(), &variables);
        let key = live.is_some().then(|| {
            GroupKey::new(
                &request.query,
                &variables,
                operation_name.as_deref(),
                &session_data,
            )
        });
        request.set_parsed_query(checked.document.clone());
        let request = match prepare(request, ty) {
            Ok(request) => request,
            Err(err) => return refused(err),
        };
        let group = live.zip(key).and_then(|(field, key)| {
            let metrics = shared::data::<RealtimeMetrics>(&request.data)?;
            let feed = shared::data::<Arc<Feed>>(&request.data)?;
            Some((
                key,
                Member {
                    field,
                    metrics,
                    feed,
                },
            ))
        });
        let (schema, limits, env) = (self.schema.clone(), self.limits, self.env.clone());
        let execute = move |request: Request| {
            schema
                .execute_stream_with_session_data(request, session_data)
                .map(move |mut response| {
                    let executed = began(&response);
                    limits.explain(&checked, &mut response, executed);
                    if executed {
                        order::order_response(
                            &env.registry,
                            &checked.document,
                            &variables,
                            operation_name.as_deref(),
                            &mut response.data,
                        );
                    }
                    response
                })
                .boxed()
        };
        match group {
            // Run only when this subscription starts its group, with the group's progress.
            Some((key, member)) => self.groups.join(key, member, |progress: Progress| {
                execute(request.data(progress))
            }),
            None => execute(request),
        }
    }

    /// The checked parse of `query`, from the cache when it was parsed before.
    fn checked(&self, query: &str) -> Result<Arc<Checked>, ServerError> {
        let cached = query.len() <= DOCUMENT_CACHE_MAX_BYTES;
        let documents = || {
            self.documents
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if cached && let Some(hit) = documents().get(query) {
            return Ok(hit.clone());
        }
        let checked = Arc::new(self.limits.parse(query)?);
        if cached {
            documents().put(query.to_owned(), checked.clone());
        }
        Ok(checked)
    }
}

/// Whether execution began. A request refused before it (by validation, an unknown operation
/// name, async-graphql's limits) has no data and only errors without a path; once execution
/// begins, every error is a field's and has one, and data is null only when one of them
/// reached the root, or when every root field was skipped and nothing failed.
fn began(response: &Response) -> bool {
    response.data != async_graphql::Value::Null
        || response.errors.is_empty()
        || response.errors.iter().any(|e| !e.path.is_empty())
}

/// The environment async-graphql builds for a schema (its registry above all), which it shows
/// only to extensions: taken from a twin of the schema, with an extension, that runs one
/// trivial operation once.
async fn schema_env(settings: &GraphqlSettings) -> anyhow::Result<SchemaEnv> {
    let slot = Arc::new(OnceLock::new());
    let twin = schema_builder(settings)
        .extension(Capture(slot.clone()))
        .finish();
    let response = twin.execute("{ __typename }").await;
    slot.get().cloned().ok_or_else(|| {
        anyhow::anyhow!(
            "The schema did not run `{{ __typename }}`: {:?}",
            response.errors
        )
    })
}

struct Capture(Arc<OnceLock<SchemaEnv>>);

impl ExtensionFactory for Capture {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Capture(self.0.clone()))
    }
}

#[async_trait::async_trait]
impl Extension for Capture {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let _ = self.0.set(ctx.schema_env.clone());
        next.run(ctx, operation_name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_text_is_parsed_once_unless_it_is_long() {
        let api = Api::new(&GraphqlSettings::default(), None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let short = "{ organizations { totalCount } }";
        let first = api.checked(short).unwrap_or_else(|e| panic!("{e:?}"));
        let again = api.checked(short).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second request reuses the parse"
        );

        let long = format!("{{ organizations {{ totalCount }} }}{}", " ".repeat(9_000));
        let first = api.checked(&long).unwrap_or_else(|e| panic!("{e:?}"));
        let again = api.checked(&long).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!Arc::ptr_eq(&first, &again), "a long text is not kept");

        assert!(api.checked("{ organizations {").is_err());
        assert!(
            api.checked("{ organizations {").is_err(),
            "a failure is not kept either"
        );
        assert_eq!(
            api.documents
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            1
        );
    }
}
