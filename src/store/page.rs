//! Keyset (seek) pagination for any entity and any ordering.
//!
//! A page is asked for with `first`/`after` (forwards) or `last`/`before` (backwards). Rows are
//! ordered by the requested sort keys and then by id, so ties are broken the same way every
//! time. A position (what a cursor holds) is the row's sort-key values plus its id, and the next
//! page starts strictly after it: `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR … OR (… AND id > v)`.
//! NULLs sort as the greatest value (last ascending, first descending) on both PostgreSQL and
//! SQLite, and the seek conditions treat them the same way, so nullable keys page correctly.

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IdenStatic, Iterable, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
    sea_query::{DynIden, Expr, ExprTrait, NullOrdering, Order, OrderedStatement},
};
use serde::{Deserialize, Serialize};

use super::decode::{self, Columns, Positional};
use crate::error::{AppError, AppResult};

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Most items one page may hold; asking for more is an error, never a silent truncation.
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    /// As orderings are named in positions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    fn reversed(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }
}

/// One sort key: a column and a direction.
#[derive(Debug, Clone, Copy)]
pub struct SortKey<C> {
    pub column: C,
    pub direction: Direction,
}

/// A sortable value, as kept in a position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Key {
    #[serde(rename = "n")]
    Null,
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "s")]
    Text(String),
    #[serde(rename = "d")]
    Date(NaiveDate),
}

impl Key {
    pub fn from_value(value: Value) -> AppResult<Self> {
        Ok(match value {
            Value::BigInt(Some(v)) => Self::Int(v),
            Value::Int(Some(v)) => Self::Int(v.into()),
            Value::String(Some(v)) => Self::Text(v),
            Value::ChronoDate(Some(v)) => Self::Date(v),
            Value::BigInt(None)
            | Value::Int(None)
            | Value::String(None)
            | Value::ChronoDate(None) => Self::Null,
            other => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "cannot sort on a value like {other:?}"
                )));
            }
        })
    }

    fn into_value(self) -> Option<Value> {
        match self {
            Self::Null => None,
            Self::Int(v) => Some(Value::BigInt(Some(v))),
            Self::Text(v) => Some(Value::String(Some(v))),
            Self::Date(v) => Some(Value::ChronoDate(Some(v))),
        }
    }
}

/// Where a row sits in an ordering: what a cursor encodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The ordering the position belongs to (`name:asc,id`); a position is only valid in it.
    #[serde(rename = "o")]
    pub ordering: String,
    /// The sort-key values of the row, then its id.
    #[serde(rename = "k")]
    pub keys: Vec<Key>,
}

/// What the client asked for.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<u64>,
    pub after: Option<Position>,
    pub last: Option<u64>,
    pub before: Option<Position>,
}

impl PageArgs {
    /// Checks page sizes: not both `first` and `last`, none negative or above the maximum.
    pub fn new(
        first: Option<i32>,
        after: Option<Position>,
        last: Option<i32>,
        before: Option<Position>,
    ) -> AppResult<Self> {
        if first.is_some() && last.is_some() {
            return Err(AppError::bad_field(
                "last",
                "pass `first` or `last`, not both",
            ));
        }
        Ok(Self {
            first: first.map(|n| size("first", n)).transpose()?,
            after,
            last: last.map(|n| size("last", n)).transpose()?,
            before,
        })
    }

    fn backward(&self) -> bool {
        self.last.is_some()
    }

    fn limit(&self) -> u64 {
        self.last.or(self.first).unwrap_or(DEFAULT_PAGE_SIZE)
    }
}

pub fn size(field: &str, n: i32) -> AppResult<u64> {
    match u64::try_from(n) {
        Err(_) => Err(AppError::bad_field(
            field,
            format!("`{field}` must not be negative"),
        )),
        Ok(n) if n > MAX_PAGE_SIZE => Err(AppError::bad_field(
            field,
            format!("`{field}` is {n}, above the maximum page size of {MAX_PAGE_SIZE}"),
        )),
        Ok(n) => Ok(n),
    }
}

/// A page of rows, each with its position.
#[derive(Debug)]
pub struct Page<M> {
    pub rows: Vec<(M, Position)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

/// The name of an ordering, as stored in positions.
pub fn ordering_name<C: ColumnTrait>(order: &[SortKey<C>]) -> String {
    let mut name: Vec<String> = order
        .iter()
        .map(|k| format!("{}:{}", k.column.as_str(), k.direction.as_str()))
        .collect();
    name.push("id".into());
    name.join(",")
}

/// `columns` and the columns `order` sorts on: a position is read from the rows.
pub fn sort_columns<E: EntityTrait<Model: Positional>>(
    columns: Columns,
    order: &[SortKey<E::Column>],
) -> Columns {
    order.iter().fold(columns, |columns, key| {
        columns.with::<E::Model>(key.column.as_str())
    })
}

/// One page of `select` in `order` (then id), as `args` asks, reading `columns` of the rows
/// (and the sort keys).
pub async fn fetch_page<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order: &[SortKey<E::Column>],
    id: E::Column,
    args: &PageArgs,
    columns: Columns,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync + Positional,
{
    let columns = sort_columns::<E>(columns, order);
    let ordering = ordering_name(order);
    let mut keys: Vec<SortKey<E::Column>> = order.to_vec();
    keys.push(SortKey {
        column: id,
        direction: Direction::Asc,
    });
    let mut select = select
        .select_only()
        .columns(columns.pick(E::Column::iter()));
    for (field, position, reversed) in [
        ("after", &args.after, false),
        ("before", &args.before, true),
    ] {
        if let Some(position) = position {
            let columns: Vec<KeyColumn> = keys.iter().map(KeyColumn::of).collect();
            check_position(field, position, &ordering, &columns)?;
            select = select.filter(seek(&columns, &position.keys, reversed));
        }
    }
    let backward = args.backward();
    for key in &keys {
        let direction = if backward {
            key.direction.reversed()
        } else {
            key.direction
        };
        // NULLs are the greatest values: last going up, first going down.
        select = match direction {
            Direction::Asc => {
                select.order_by_with_nulls(key.column, Order::Asc, NullOrdering::Last)
            }
            Direction::Desc => {
                select.order_by_with_nulls(key.column, Order::Desc, NullOrdering::First)
            }
        };
    }
    let limit = args.limit();
    // The selected columns, in `Column::iter()` order: read by position.
    let mut rows: Vec<E::Model> = decode::all_selected(
        &db.query_all(&select.limit(limit + 1).into_query()).await?,
        columns,
    )?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backward {
        rows.reverse();
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            let keys = keys
                .iter()
                .map(|k| Key::from_value(row.get(k.column)))
                .collect::<AppResult<Vec<_>>>()?;
            Ok((
                row,
                Position {
                    ordering: ordering.clone(),
                    keys,
                },
            ))
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Page {
        rows,
        has_next_page: if backward {
            args.before.is_some()
        } else {
            has_more
        },
        has_previous_page: if backward {
            has_more
        } else {
            args.after.is_some()
        },
    })
}

/// A sort key as a qualified column reference, so keys of two joined tables can mix.
#[derive(Clone)]
pub struct KeyColumn {
    pub column: (DynIden, DynIden),
    pub direction: Direction,
    /// What kind of value the column holds, to check a cursor's values against.
    kind: KeyKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Int,
    Text,
    Date,
}

impl KeyColumn {
    pub fn of<C: ColumnTrait>(key: &SortKey<C>) -> Self {
        use sea_orm::sea_query::ColumnType as T;
        let kind = match key.column.def().get_column_type() {
            T::Date => KeyKind::Date,
            T::TinyInteger | T::SmallInteger | T::Integer | T::BigInteger => KeyKind::Int,
            _ => KeyKind::Text,
        };
        Self {
            column: key.column.as_column_ref(),
            direction: key.direction,
            kind,
        }
    }

    /// The same key read from another column (one holding a copy of the same values, such as a
    /// link row's order key, or a subquery's output).
    pub fn on(&self, table: &str, column: &str) -> Self {
        use sea_orm::sea_query::{Alias, IntoIden};
        Self {
            column: (
                Alias::new(table).into_iden(),
                Alias::new(column).into_iden(),
            ),
            ..self.clone()
        }
    }

    /// Whether a cursor's value can stand in this column (NULL always can).
    fn fits(&self, key: &Key) -> bool {
        matches!(
            (self.kind, key),
            (_, Key::Null)
                | (KeyKind::Int, Key::Int(_))
                | (KeyKind::Text, Key::Text(_))
                | (KeyKind::Date, Key::Date(_))
        )
    }

    fn expr(&self) -> Expr {
        Expr::col(self.column.clone())
    }

    /// Orders `query` by this key (reversed when going backwards), NULLs greatest.
    pub fn order<Q: OrderedStatement>(&self, query: &mut Q, reversed: bool) {
        let direction = if reversed {
            self.direction.reversed()
        } else {
            self.direction
        };
        match direction {
            Direction::Asc => {
                query.order_by_with_nulls(self.column.clone(), Order::Asc, NullOrdering::Last)
            }
            Direction::Desc => {
                query.order_by_with_nulls(self.column.clone(), Order::Desc, NullOrdering::First)
            }
        };
    }
}

/// A cursor is valid for an ordering when it was made for it and its values fit the columns;
/// anything else (another ordering, a forged cursor) is BAD_USER_INPUT, never a database error.
pub fn check_position(
    field: &str,
    position: &Position,
    ordering: &str,
    keys: &[KeyColumn],
) -> AppResult<()> {
    if position.ordering != ordering || position.keys.len() != keys.len() {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` is a cursor of another ordering; ask again from the first page"),
        ));
    }
    if !keys
        .iter()
        .zip(&position.keys)
        .all(|(column, key)| column.fits(key))
    {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` is not a valid cursor"),
        ));
    }
    Ok(())
}

/// Rows strictly after `values` in `keys` order (strictly before when `reversed`).
pub fn seek(keys: &[KeyColumn], values: &[Key], reversed: bool) -> Condition {
    let mut any = Condition::any();
    for i in 0..keys.len() {
        let mut all = Condition::all();
        for (key, value) in keys[..i].iter().zip(values) {
            all = all.add(match value.clone().into_value() {
                None => key.expr().is_null(),
                Some(v) => key.expr().eq(v),
            });
        }
        let key = &keys[i];
        let direction = if reversed {
            key.direction.reversed()
        } else {
            key.direction
        };
        let beyond = match (direction, values[i].clone().into_value()) {
            // Going up, nothing is beyond NULL (the greatest value) but ties, handled by the next key.
            (Direction::Asc, None) => continue,
            (Direction::Asc, Some(v)) => Condition::any()
                .add(key.expr().gt(v))
                .add(key.expr().is_null()),
            (Direction::Desc, None) => Condition::all().add(key.expr().is_not_null()),
            (Direction::Desc, Some(v)) => Condition::all().add(key.expr().lt(v)),
        };
        any = any.add(all.add(beyond));
    }
    if any.is_empty() {
        // Nothing lies beyond this position.
        Condition::all().add(Expr::val(1).eq(Expr::val(0)))
    } else {
        any
    }
}
