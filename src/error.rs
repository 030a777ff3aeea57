//! The application's one error type.
//!
//! Policy: startup and CLI code use `anyhow` (a message for the operator, then exit); everything a
//! request can run into is an [`AppError`], whose variants are what a client can act on. The
//! GraphQL layer maps each variant to a stable `extensions.code` in one place
//! (`graphql::errors`). Database and internal errors are logged there, once, with their whole
//! chain, and the client sees a fixed message: never SQL text, constraint names or paths.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The record the client named does not exist.
    #[error("{entity} not found: {key}")]
    NotFound { entity: &'static str, key: String },
    /// The input is malformed or breaks a rule; `field` is the input path when there is one.
    #[error("{message}")]
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    /// The input clashes with existing data (a duplicate slug, a stale version).
    #[error("{message}")]
    Conflict { message: String, field: String },
    /// Several problems with one input, each with its field path (`input.parties[1].organization`).
    #[error("{}", invalid_message(.0))]
    Invalid(Vec<FieldProblem>),
    /// No valid credentials: no token where one is needed, or a bad, expired or forged one.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials whose role does not allow the operation.
    #[error("{0}")]
    Forbidden(String),
    /// The database is unreachable or overloaded: try again later.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Db(#[source] DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The stable code clients match on (`extensions.code` in GraphQL responses).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::BadUserInput { .. } | Self::Invalid(_) => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Conflict { .. } => "CONFLICT",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Db(_) | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// Whether the details must stay on the server (logged, not shown).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Db(_) | Self::Internal(_) | Self::Unavailable(_))
    }
}

/// One problem of an input: where (`input.slug`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

fn invalid_message(problems: &[FieldProblem]) -> String {
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    format!(
        "The input has {} problem(s): {}",
        problems.len(),
        list.join("; ")
    )
}

/// A unique-constraint violation on either store.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A foreign-key violation on either store. SQLite reports a refused `ON DELETE RESTRICT` as a
/// trigger constraint (extended code 1811), which `DbErr::sql_err` does not classify.
pub fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    ) || err.to_string().contains("FOREIGN KEY constraint failed")
}

/// A database error that is not the client's doing: unavailable when the database could not
/// be reached, dropped the connection, is shutting down, cancelled a statement that ran past
/// DB_STATEMENT_TIMEOUT_MS, or (SQLite) stayed busy or locked by another writer (a retry later
/// may succeed); internal otherwise.
fn classify(err: DbErr) -> AppError {
    if is_unavailable(&err) {
        AppError::Unavailable(err)
    } else {
        AppError::Db(err)
    }
}

fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return matches!(err, DbErr::Conn(_));
    };
    match sqlx.as_ref() {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => true,
        // SQLite: SQLITE_BUSY (5) or SQLITE_LOCKED (6), with their extended codes (the primary
        // code is the low byte): another connection holds the write lock past the busy timeout,
        // or a deferred transaction could not upgrade to a writer. A retry may succeed.
        Error::Database(db)
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some() =>
        {
            db.code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 53300: too many connections; 57014: statement
            // timeout; 57P01–57P03: the server is shutting down, crashed or starting.
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "53300" | "57014" | "57P01" | "57P02" | "57P03"
                )
        }),
        _ => matches!(err, DbErr::Conn(_)),
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        classify(err)
    }
}

pub type AppResult<T> = Result<T, AppError>;
