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
    /// The columns a statement may leave out (bit i for the i-th column): long texts and
    /// bookkeeping, which only some fields read (`Columns`).
    const LAZY: u64;

    /// Reads the columns `columns` selects, in order from `start`; a lazy column left out
    /// takes its type's default (None, "", 0).
    fn read_selected(row: &QueryResult, start: usize, columns: Columns) -> AppResult<Self>;

    /// Reads every column.
    fn read(row: &QueryResult, start: usize) -> AppResult<Self> {
        Self::read_selected(row, start, Columns::ALL)
    }
}

/// Which of a model's columns a statement selects: bit i for its i-th column in
/// `Column::iter()` order. A column that is not lazy (`Positional::LAZY`) is always selected,
/// whatever the bits say: ids, slugs, names, kinds, dates and references, which sort keys,
/// cursors, lookups and grouping need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Columns(u64);

impl Columns {
    /// Every column.
    pub const ALL: Self = Self(u64::MAX);

    /// The columns of `M` that are not lazy.
    pub fn required<M: Positional>() -> Self {
        Self(!M::LAZY)
    }

    /// These columns and the one of `M` named `name` (a name `M` does not have adds nothing;
    /// a test checks every name the read path uses).
    #[must_use]
    pub fn with<M: Positional>(self, name: &str) -> Self {
        match M::COLUMNS.iter().position(|c| *c == name) {
            Some(i) => Self(self.0 | 1 << i),
            None => self,
        }
    }

    /// The columns either selects.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether the `index`-th column is selected.
    pub fn has(self, index: usize) -> bool {
        index >= 64 || self.0 & (1 << index) != 0
    }

    /// The selected ones of a model's columns, given in `Column::iter()` order.
    pub fn pick<C>(self, columns: impl Iterator<Item = C>) -> impl Iterator<Item = C> {
        columns
            .enumerate()
            .filter(move |(i, _)| self.has(*i))
            .map(|(_, c)| c)
    }

    /// How many of the columns of `M` a statement selects: where the next model's start.
    pub fn count<M: Positional>(self) -> usize {
        (0..M::COLUMNS.len())
            .filter(|i| self.has(*i) || M::LAZY & (1 << i) == 0)
            .count()
    }
}

fn decode_error(index: usize, err: sqlx::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("column {index} of a row: {err}"))
}

/// Reads a type both drivers decode natively (the same call sea-orm makes).
///
/// Release builds skip sqlx's check that the column's type is one `T` accepts: on PostgreSQL
/// it compares type descriptions for every value read (a seventh of the server's instructions
/// on a nested list, docs/BENCHMARKS.md item 30). The columns read are the model's own, whose
/// types the migrations fix; debug builds, which every test runs, keep the check, so a model
/// and a migration that disagree fail there. The decoding itself still checks what it reads
/// (a string's UTF-8, an integer's width).
fn native<T>(row: &QueryResult, index: usize) -> AppResult<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    let checked = cfg!(debug_assertions);
    if let Some(row) = row.try_as_pg_row() {
        if checked {
            row.try_get::<T, _>(index)
        } else {
            row.try_get_unchecked::<T, _>(index)
        }
        .map_err(|e| decode_error(index, e))
    } else if let Some(row) = row.try_as_sqlite_row() {
        if checked {
            row.try_get::<T, _>(index)
        } else {
            row.try_get_unchecked::<T, _>(index)
        }
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

/// Whether a field of `positional!` is marked `#[lazy]`.
macro_rules! is_lazy {
    () => {
        false
    };
    (lazy) => {
        true
    };
}

/// Reads one field: always when it is not lazy, when selected when it is.
macro_rules! field {
    ($row:ident, $columns:ident, $bit:ident, $next:ident) => {
        FromColumn::at($row, $next())?
    };
    ($row:ident, $columns:ident, $bit:ident, $next:ident, lazy) => {
        if $columns.has($bit) {
            FromColumn::at($row, $next())?
        } else {
            Default::default()
        }
    };
}

/// Each model's fields, in the order of its `Column` enum (the test checks it); `#[lazy]` marks
/// the columns a statement may leave out (their type needs a `Default`).
macro_rules! positional {
    ($($module:ident { $($(#[$lazy:ident])? $field:ident),* $(,)? })*) => {$(
        impl Positional for entity::$module::Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            const LAZY: u64 = {
                let mut mask = 0u64;
                let mut bit = 0;
                $(
                    if is_lazy!($($lazy)?) {
                        mask |= 1 << bit;
                    }
                    bit += 1;
                )*
                let _ = bit;
                mask
            };

            fn read_selected(row: &QueryResult, start: usize, columns: Columns) -> AppResult<Self> {
                let mut index = start;
                let mut next = move || {
                    index += 1;
                    index - 1
                };
                let mut bit = 0;
                let mut bits = move || {
                    bit += 1;
                    bit - 1
                };
                // Struct fields are evaluated in the order they are written.
                Ok(Self {
                    $($field: {
                        let _bit = bits();
                        field!(row, columns, _bit, next $(, $lazy)?)
                    },)*
                })
            }
        }
    )*};
}

positional! {
    organization {
        id, slug, name, #[lazy] acronym, kind, parent_id, #[lazy] website, #[lazy] description,
        #[lazy] source_id, #[lazy] created_at, #[lazy] updated_at, #[lazy] version
    }
    agreement {
        id, slug, title, kind, signed_on, signed_precision, #[lazy] summary, #[lazy] source_id,
        #[lazy] created_at, #[lazy] updated_at, #[lazy] version
    }
    project {
        id, slug, name, kind, status, #[lazy] summary, starts_on, starts_precision, ends_on,
        ends_precision, agreement_id, #[lazy] source_id, #[lazy] created_at, #[lazy] updated_at,
        #[lazy] version
    }
    event {
        id, slug, name, kind, #[lazy] summary, starts_on, starts_precision, ends_on,
        ends_precision, #[lazy] location, recurrence, parent_id, project_id, agreement_id,
        #[lazy] source_id, #[lazy] created_at, #[lazy] updated_at, #[lazy] version
    }
    instrument {
        id, slug, name, #[lazy] acronym, kind, issuer_id, adopted_on, adopted_precision,
        #[lazy] url, #[lazy] description, #[lazy] source_id, #[lazy] created_at,
        #[lazy] updated_at, #[lazy] version
    }
    agreement_party {
        id, agreement_id, organization_id, role, #[lazy] since_on, #[lazy] since_precision,
        #[lazy] created_at, #[lazy] updated_at, #[lazy] version
    }
    project_participant {
        id, project_id, organization_id, role, #[lazy] created_at, #[lazy] updated_at,
        #[lazy] version
    }
    event_participant {
        id, event_id, organization_id, role, #[lazy] created_at, #[lazy] updated_at,
        #[lazy] version
    }
    agreement_instrument {
        id, agreement_id, instrument_id, role, #[lazy] created_at, #[lazy] updated_at,
        #[lazy] version
    }
    project_instrument {
        id, project_id, instrument_id, role, #[lazy] created_at, #[lazy] updated_at,
        #[lazy] version
    }
    event_instrument {
        id, event_id, instrument_id, role, #[lazy] created_at, #[lazy] updated_at,
        #[lazy] version
    }
}

/// Every row of `rows`, read as `M` from column 0.
pub fn all<M: Positional>(rows: &[QueryResult]) -> AppResult<Vec<M>> {
    all_selected(rows, Columns::ALL)
}

/// Every row of `rows`, read as `M` from column 0, where the statement selected `columns`.
pub fn all_selected<M: Positional>(rows: &[QueryResult], columns: Columns) -> AppResult<Vec<M>> {
    rows.iter()
        .map(|row| M::read_selected(row, 0, columns))
        .collect()
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
