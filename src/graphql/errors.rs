//! [`AppError`] → GraphQL error, in one place: the message a client may see and
//! `extensions.code`. Internal errors are logged here, once, with their whole chain; the client
//! gets a fixed message.

use std::sync::Arc;

use async_graphql::{Error, ErrorExtensions};

use crate::error::AppError;

impl ErrorExtensions for AppError {
    fn extend(&self) -> Error {
        if self.is_internal() {
            log(self);
        }
        to_graphql(self)
    }
}

/// Logs an internal error once, with its whole chain, where it is handled.
pub fn log(err: &AppError) {
    tracing::error!(error = ?anyhow_chain(err), code = err.code(), "Request failed");
}

/// The client's view of an error: a fixed message for internal ones, the code, the field.
fn to_graphql(err: &AppError) -> Error {
    let message = match err {
        AppError::Unavailable(_) => {
            "The service is temporarily unavailable; try again shortly.".to_owned()
        }
        _ if err.is_internal() => "Internal server error.".to_owned(),
        _ => err.to_string(),
    };
    Error::new(message).extend_with(|_, ext| {
        ext.set("code", err.code());
        if let AppError::BadUserInput {
            field: Some(field), ..
        }
        | AppError::Conflict { field, .. } = err
        {
            ext.set("field", field.as_str());
        }
        if let AppError::Invalid(problems) = err {
            if let Some(first) = problems.first() {
                ext.set("field", first.path.as_str());
            }
            let fields: Vec<async_graphql::Value> = problems
                .iter()
                .map(|p| {
                    let mut entry = async_graphql::indexmap::IndexMap::new();
                    entry.insert(
                        async_graphql::Name::new("path"),
                        async_graphql::Value::from(p.path.as_str()),
                    );
                    entry.insert(
                        async_graphql::Name::new("message"),
                        async_graphql::Value::from(p.message.as_str()),
                    );
                    async_graphql::Value::Object(entry)
                })
                .collect();
            ext.set("fields", fields);
        }
    })
}

fn anyhow_chain(err: &AppError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `?`-friendly conversion of store results in resolvers: `store::x(..).await.gql()?`.
pub trait ResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> ResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}

/// Loader errors reach every parent waiting on the batch; the loader logged them once already.
impl<T> ResultExt<T> for Result<T, Arc<AppError>> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}
