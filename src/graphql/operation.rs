//! The name of the operation a request runs, for logs and metrics. A request may name its
//! operation (`operationName`); when it does not, the document's only operation gives it, once
//! the document is parsed (a persisted query's text is known only then).

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{
    ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{DocumentOperations, ExecutableDocument},
};

/// A slot in the request's data where the extension leaves the operation's name.
#[derive(Debug, Clone, Default)]
pub struct OperationName(Arc<Mutex<Option<String>>>);

impl OperationName {
    /// The document's operation name, `anonymous` for an unnamed one, or `None` when the
    /// document was never parsed or holds several operations.
    pub fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, name: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(name);
    }
}

/// Fills the request's [`OperationName`] slot, when it has one.
pub struct RecordOperationName;

impl ExtensionFactory for RecordOperationName {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordOperationName)
    }
}

#[async_trait::async_trait]
impl Extension for RecordOperationName {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(slot) = ctx.data_opt::<OperationName>() {
            match &document.operations {
                DocumentOperations::Single(_) => slot.set("anonymous".into()),
                DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                    if let Some(name) = operations.keys().next() {
                        slot.set(name.to_string());
                    }
                }
                DocumentOperations::Multiple(_) => {}
            }
        }
        Ok(document)
    }
}
