//! Bind parameters for SQL text written by hand (search, timeline): values collected in order,
//! each placeholder in the dialect of the connection.

use sea_orm::{DatabaseBackend, Value};

pub struct Params {
    pub backend: DatabaseBackend,
    pub values: Vec<Value>,
}

impl Params {
    pub fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value` and returns its placeholder (`$n` on PostgreSQL, `?` on SQLite).
    pub fn push(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}
