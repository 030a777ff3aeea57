//! Bulk writes for `partnerships generate`: multi-row `INSERT`s in batches sized to stay under
//! each engine's bind-parameter limit, explicit ids, and the id sequences moved past them.

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, Statement, Value,
    sea_query::{Expr, Func, Query},
};

/// Bind parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement, whatever the width: bigger batches stop paying off.
const MAX_ROWS: usize = 2_000;

/// Rows of one table, each a value per column of `columns`, in that order.
pub struct Rows<E: EntityTrait> {
    pub columns: Vec<E::Column>,
    pub values: Vec<Vec<Value>>,
}

impl<E: EntityTrait> Rows<E> {
    pub fn new(columns: Vec<E::Column>) -> Self {
        Self {
            columns,
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.values.push(row);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Inserts every row, a batch per statement, calling `progress` with each batch's size.
pub async fn insert<E: EntityTrait>(
    db: &impl ConnectionTrait,
    rows: Rows<E>,
    mut progress: impl FnMut(u64),
) -> Result<(), DbErr> {
    let per_batch = (MAX_PARAMS / rows.columns.len().max(1)).clamp(1, MAX_ROWS);
    let mut values = rows.values.into_iter().peekable();
    while values.peek().is_some() {
        let mut stmt = Query::insert();
        stmt.into_table(E::default().table_ref())
            .columns(rows.columns.iter().copied());
        let mut n = 0;
        for row in values.by_ref().take(per_batch) {
            stmt.values(row.into_iter().map(Expr::val))
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            n += 1;
        }
        db.execute(&stmt).await?;
        progress(n);
    }
    Ok(())
}

/// The largest id of a table (0 when it is empty).
pub async fn max_id<E: EntityTrait>(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let id = id_column::<E>()?;
    let stmt = Query::select()
        .expr_as(
            Func::coalesce([Func::max(Expr::col(id)).into(), Expr::val(0i64)]),
            "max_id",
        )
        .from(E::default().table_ref())
        .to_owned();
    let row = db.query_one(&stmt).await?;
    match row {
        Some(row) => row.try_get::<i64>("", "max_id"),
        None => Ok(0),
    }
}

/// After rows were written with explicit ids, moves PostgreSQL's id sequence past the largest
/// one so the next ordinary insert does not collide. SQLite's AUTOINCREMENT follows by itself.
pub async fn sync_id_sequence<E: EntityTrait>(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let table = E::default().table_name().to_owned();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT setval(pg_get_serial_sequence($1, 'id'), \
             (SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM \"{table}\"))"
        ),
        [table.clone().into()],
    ))
    .await?;
    Ok(())
}

/// Every id of a table, ascending.
pub async fn ids<E: EntityTrait>(db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
    let id = id_column::<E>()?;
    let stmt = Query::select()
        .column(id)
        .from(E::default().table_ref())
        .order_by(id, sea_orm::sea_query::Order::Asc)
        .to_owned();
    db.query_all(&stmt)
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect()
}

fn id_column<E: EntityTrait>() -> Result<E::Column, DbErr> {
    E::Column::iter()
        .find(|c| sea_orm::IdenStatic::as_str(c) == "id")
        .ok_or_else(|| DbErr::Custom(format!("{} has no id", E::default().table_name())))
}
