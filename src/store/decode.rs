//! Models read from a row by the position of their columns, not by name.
//!
//! sea-orm's `FromQueryResult` finds each column by name: for a prefixed column (the `l_` of a
//! link row in `nested::link_pages`) it formats the name first, and for every NULL it formats an
//! error message that `Option` then throws away. On a nested page that was a fifth of the
//! server's CPU (docs/BENCHMARKS.md, "What the figures changed", 13). The read path's
//! statements select a model's columns in `Column::iter()` order, so a model can be read from
//! a known offset instead: one typed read per column on the driver's row, nothing formatted,
//! nothing allocated but the values themselves. The values decode exactly as sea-orm decodes
//! them (`try_getable_all!` asks sqlx for `Option<T>` on either engine), and each model's list
//! of fields is checked against its `Column::iter()` by a test below.

use sea_orm::{
    ActiveEnum, QueryResult,
    prelude::{Date, DateTimeUtc},
    sqlx::{self, Row},
};

use crate::error::{AppError, AppResult};

/// A value read from one column of a row, by position.
pub trait FromColumn: Sized {
    fn at(row: &QueryResult, index: usize) -> AppResult<Self>;
}

/// A model read from consecutive columns of a row, starting at `start`, in its `Column::iter()`
/// order.
pub trait Positional: Sized {
    /// The model's column names, in the order they are read.
    const COLUMNS: &'static [&'static str];

    fn read(row: &QueryResult, start: usize) -> AppResult<Self>;
}

fn decode_error(index: usize, err: sqlx::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("column {index} of a row: {err}"))
}

/// Reads a type both drivers decode natively (the same call sea-orm makes).
fn native<T>(row: &QueryResult, index: usize) -> AppResult<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    if let Some(row) = row.try_as_pg_row() {
        row.try_get::<T, _>(index)
            .map_err(|e| decode_error(index, e))
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get::<T, _>(index)
            .map_err(|e| decode_error(index, e))
    } else {
        Err(AppError::Internal(anyhow::anyhow!(
            "a row from neither PostgreSQL nor SQLite"
        )))
    }
}

macro_rules! native {
    ($($t:ty),* $(,)?) => {$(
        impl FromColumn for $t {
            fn at(row: &QueryResult, index: usize) -> AppResult<Self> {
                native(row, index)
            }
        }
        impl FromColumn for Option<$t> {
            fn at(row: &QueryResult, index: usize) -> AppResult<Self> {
                native(row, index)
            }
        }
    )*};
}

native!(i32, i64, String, Date, DateTimeUtc);

/// The string-backed enums (`entity::enums`): the stored string, then its variant.
macro_rules! string_enum {
    ($($t:ident),* $(,)?) => {$(
        impl FromColumn for entity::$t {
            fn at(row: &QueryResult, index: usize) -> AppResult<Self> {
                let value: String = native(row, index)?;
                Ok(entity::$t::try_from_value(&value)?)
            }
        }
        impl FromColumn for Option<entity::$t> {
            fn at(row: &QueryResult, index: usize) -> AppResult<Self> {
                let value: Option<String> = native(row, index)?;
                Ok(value.map(|v| entity::$t::try_from_value(&v)).transpose()?)
            }
        }
    )*};
}

string_enum!(
    DatePrecision,
    OrganizationKind,
    AgreementKind,
    PartyRole,
    ProjectKind,
    ProjectStatus,
    ProjectRole,
    EventKind,
    Recurrence,
    EventRole,
    InstrumentKind,
    InstrumentRole,
);

/// Each model's fields, in the order of its `Column` enum (the test checks it).
macro_rules! positional {
    ($($module:ident { $($field:ident),* $(,)? })*) => {$(
        impl Positional for entity::$module::Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn read(row: &QueryResult, start: usize) -> AppResult<Self> {
                let mut index = start;
                let mut next = move || {
                    index += 1;
                    index - 1
                };
                // Struct fields are evaluated in the order they are written.
                Ok(Self {
                    $($field: FromColumn::at(row, next())?,)*
                })
            }
        }
    )*};
}

positional! {
    organization {
        id, slug, name, acronym, kind, parent_id, website, description, source_id, created_at,
        updated_at, version
    }
    agreement {
        id, slug, title, kind, signed_on, signed_precision, summary, source_id, created_at,
        updated_at, version
    }
    project {
        id, slug, name, kind, status, summary, starts_on, starts_precision, ends_on,
        ends_precision, agreement_id, source_id, created_at, updated_at, version
    }
    event {
        id, slug, name, kind, summary, starts_on, starts_precision, ends_on, ends_precision,
        location, recurrence, parent_id, project_id, agreement_id, source_id, created_at,
        updated_at, version
    }
    instrument {
        id, slug, name, acronym, kind, issuer_id, adopted_on, adopted_precision, url,
        description, source_id, created_at, updated_at, version
    }
    agreement_party {
        id, agreement_id, organization_id, role, since_on, since_precision, created_at,
        updated_at, version
    }
    project_participant {
        id, project_id, organization_id, role, created_at, updated_at, version
    }
    event_participant {
        id, event_id, organization_id, role, created_at, updated_at, version
    }
    agreement_instrument {
        id, agreement_id, instrument_id, role, created_at, updated_at, version
    }
    project_instrument {
        id, project_id, instrument_id, role, created_at, updated_at, version
    }
    event_instrument {
        id, event_id, instrument_id, role, created_at, updated_at, version
    }
}

/// Every row of `rows`, read as `M` from column 0.
pub fn all<M: Positional>(rows: &[QueryResult]) -> AppResult<Vec<M>> {
    rows.iter().map(|row| M::read(row, 0)).collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::Positional;

    fn columns<E: EntityTrait>() -> Vec<&'static str> {
        <E::Column as Iterable>::iter()
            .map(|c| IdenStatic::as_str(&c))
            .collect()
    }

    macro_rules! same_order {
        ($($module:ident),*) => {$(
            assert_eq!(
                <entity::$module::Model as Positional>::COLUMNS,
                columns::<entity::$module::Entity>().as_slice(),
                concat!(stringify!($module), ": the decoder's fields follow the entity's columns"),
            );
        )*};
    }

    #[test]
    fn every_decoder_reads_its_entitys_columns_in_order() {
        same_order!(
            organization,
            agreement,
            project,
            event,
            instrument,
            agreement_party,
            project_participant,
            event_participant,
            agreement_instrument,
            project_instrument,
            event_instrument
        );
    }
}
