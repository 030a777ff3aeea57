//! [`AppError`] → GraphQL error, in one place: the message a client may see and
//! `extensions.code`. Internal errors are logged here, once, with their whole chain; the client
//! gets a fixed message.

use std::sync::Arc;

use async_graphql::{Error, ErrorExtensions};

use crate::error::AppError;

impl ErrorExtensions for AppError {
    fn extend(&self) -> Error {
        let message = if self.is_internal() {
            tracing::error!(error = ?anyhow_chain(self), code = self.code(), "Request failed");
            match self {
                AppError::Unavailable(_) => {
                    "The service is temporarily unavailable; try again shortly.".to_owned()
                }
                _ => "Internal server error.".to_owned(),
            }
        } else {
            self.to_string()
        };
        Error::new(message).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                AppError::BadUserInput {
                    field: Some(field), ..
                }
                | AppError::Conflict { field, .. } => ext.set("field", field.as_str()),
                _ => {}
            }
        })
    }
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

impl<T> ResultExt<T> for Result<T, Arc<AppError>> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}
