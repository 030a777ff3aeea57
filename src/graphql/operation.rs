//! What the HTTP layer learns about the operation a request runs, once the document is parsed
//! (a persisted query's text is known only then): its name, for logs and metrics; whether
//! execution began (the GraphQL-over-HTTP status depends on it); and, for a transport that may
//! only read (GET), whether the selected operation was a write and so refused.
//!
//! A request may name its operation (`operationName`); when it does not, the document's only
//! operation is the one that runs, named or not.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{
    Response, ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};

#[derive(Debug, Default)]
struct Record {
    /// The `operationName` the request gave.
    requested: Option<String>,
    /// Only queries may run (GET).
    read_only: bool,
    name: Option<String>,
    executed: bool,
    write_refused: bool,
}

/// A slot in the request's data where the extension records what it learns.
#[derive(Debug, Clone, Default)]
pub struct OperationSlot(Arc<Mutex<Record>>);

impl OperationSlot {
    /// A slot for a request that names `requested` (or no operation); with `read_only`, a
    /// mutation or subscription is refused before it runs.
    pub fn new(requested: Option<String>, read_only: bool) -> Self {
        Self(Arc::new(Mutex::new(Record {
            requested,
            read_only,
            ..Record::default()
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Record) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The document's operation name, `anonymous` for an unnamed one, or `None` when the
    /// document was never parsed or holds several operations and the request named none.
    pub fn name(&self) -> Option<String> {
        self.with(|r| r.name.clone())
    }

    /// Whether execution began (parsing, validation and the limits all passed).
    pub fn executed(&self) -> bool {
        self.with(|r| r.executed)
    }

    /// Whether the request was refused because it selected a write over a read-only transport.
    pub fn write_refused(&self) -> bool {
        self.with(|r| r.write_refused)
    }
}

/// Fills the request's [`OperationSlot`], when it has one.
pub struct RecordOperation;

impl ExtensionFactory for RecordOperation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordOperation)
    }
}

#[async_trait::async_trait]
impl Extension for RecordOperation {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let Some(slot) = ctx.data_opt::<OperationSlot>() else {
            return Ok(document);
        };
        let (requested, read_only) = slot.with(|r| (r.requested.clone(), r.read_only));
        let selected = match (&document.operations, requested.as_deref()) {
            (DocumentOperations::Single(op), _) => Some(("anonymous".to_owned(), op.node.ty)),
            (DocumentOperations::Multiple(ops), Some(name)) => {
                ops.get(name).map(|op| (name.to_owned(), op.node.ty))
            }
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
                .iter()
                .next()
                .map(|(name, op)| (name.to_string(), op.node.ty)),
            (DocumentOperations::Multiple(_), None) => None,
        };
        let Some((name, ty)) = selected else {
            return Ok(document); // async-graphql reports the missing or ambiguous operation
        };
        let refused = read_only && ty != OperationType::Query;
        slot.with(|r| {
            r.name = Some(name);
            r.write_refused = refused;
        });
        if refused {
            let mut err = ServerError::new("Mutations must be sent with POST.", None);
            err.extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_REQUEST");
            return Err(err);
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(slot) = ctx.data_opt::<OperationSlot>() {
            slot.with(|r| r.executed = true);
        }
        next.run(ctx, operation_name).await
    }
}
