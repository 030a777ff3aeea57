//! [`AppError`] → GraphQL error, in one place: the message a client may see and
//! `extensions.code`. Internal errors are logged here, once, with their whole chain; the client
//! gets a fixed message.
//!
//! Resolvers return [`ApiResult`]. Its error, [`ApiError`], has no `Display` on purpose:
//! async-graphql turns anything that displays into an error through a blanket `From`, which
//! keeps the message and drops `extensions.code`, so a `?` on an `AppResult` in a function
//! returning `async_graphql::Result` compiled and answered without a code. On an `ApiResult`
//! the same `?` goes through `From<AppError> for ApiError`, which keeps it. A test below keeps
//! async-graphql's `Result` out of `src/graphql` (clippy's `disallowed-types` cannot: the
//! `#[Object]` expansions name it themselves).

use std::sync::Arc;

use async_graphql::{Error, ErrorExtensions};

use crate::error::AppError;

/// A resolver's error: a GraphQL error that carries its `extensions.code` (see the module's
/// note on why it has no `Display`).
#[derive(Debug, Clone)]
pub struct ApiError(Error);

/// What resolvers return.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err.extend())
    }
}

/// Loader errors reach every parent waiting on the batch; the loader logged them once already.
impl From<Arc<AppError>> for ApiError {
    fn from(err: Arc<AppError>) -> Self {
        Self(to_graphql(&err))
    }
}

/// async-graphql's own errors (a missing context value, an input that failed to parse), and
/// errors built here with their code already set.
impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

impl From<ApiError> for Error {
    fn from(err: ApiError) -> Self {
        err.0
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn code(err: ApiError) -> Option<String> {
        let err: Error = err.into();
        match err.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(async_graphql::Value::String(code)) => Some(code.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_question_mark_on_an_app_error_keeps_its_code() {
        fn resolver() -> ApiResult<()> {
            let found: Result<(), AppError> = Err(AppError::NotFound {
                entity: "Organization",
                key: "42".into(),
            });
            found?;
            Ok(())
        }
        let err = resolver().expect_err("the resolver fails");
        assert_eq!(code(err).as_deref(), Some("NOT_FOUND"));
    }

    /// async-graphql's `Result` (or `FieldResult`) anywhere in `src/graphql`, in a signature or
    /// an import, is a function where `?` may drop a code again.
    #[test]
    fn no_resolver_returns_async_graphqls_result() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/graphql");
        let mut pending = vec![root];
        let mut offenders = Vec::new();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("src/graphql is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let code: String = text
                    .lines()
                    .map(|line| line.split("//").next().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n");
                // Spelled in two halves so that this file does not name them itself.
                let named = code.contains(concat!("async_graphql::", "Result"))
                    || code.contains(concat!("Field", "Result"));
                // `use async_graphql::{…, Result, …};`, over one line or several.
                let imported = code.split("use async_graphql::").skip(1).any(|rest| {
                    let items = rest.split(';').next().unwrap_or_default();
                    items
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|item| item == "Result")
                });
                if named || imported {
                    offenders.push(path.display().to_string());
                }
            }
        }
        assert!(offenders.is_empty(), "use ApiResult: {offenders:#?}");
    }

    #[test]
    fn a_loader_error_keeps_its_code() {
        let err = ApiError::from(Arc::new(AppError::bad_field("first", "too many")));
        assert_eq!(code(err).as_deref(), Some("BAD_USER_INPUT"));
    }
}
