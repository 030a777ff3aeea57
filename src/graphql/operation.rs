//! Which operation of a document a request runs, once the document is parsed (a persisted
//! query's text is known only then): its name, for logs and metrics, and its type, so that a
//! transport that may only read (GET) refuses a write before it runs.
//!
//! A request may name its operation (`operationName`); when it does not, the document's only
//! operation is the one that runs, named or not.

use async_graphql::{
    Positioned,
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType},
};

/// The operation a request selects: its name (`anonymous` for a document's single unnamed
/// one) and type. `None` when the document holds no operation of the requested name, or
/// several and the request named none: async-graphql then reports it.
pub fn select(
    document: &ExecutableDocument,
    requested: Option<&str>,
) -> Option<(String, OperationType)> {
    definition(document, requested).map(|(name, op)| (name, op.node.ty))
}

/// The selected operation itself, with its name as [`select`] gives it.
pub fn definition<'a>(
    document: &'a ExecutableDocument,
    requested: Option<&str>,
) -> Option<(String, &'a Positioned<OperationDefinition>)> {
    match (&document.operations, requested) {
        (DocumentOperations::Single(op), _) => Some(("anonymous".to_owned(), op)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| (name.to_owned(), op))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(name, op)| (name.to_string(), op))
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}
