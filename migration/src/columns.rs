//! Column and constraint builders shared by the migrations, so every table gets the same
//! bookkeeping columns and every foreign key the same naming and indexing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden, Clone, Copy)]
pub enum Record {
    Id,
    CreatedAt,
    UpdatedAt,
    Version,
}

/// A `CREATE TABLE` with the columns every record has: `id`, `created_at`, `updated_at` and the
/// `version` counter that optimistic concurrency compares.
pub fn record_table(table: impl IntoIden + 'static) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(big_pk_auto(Record::Id))
        .col(timestamp_with_time_zone_default_now(Record::CreatedAt))
        .col(timestamp_with_time_zone_default_now(Record::UpdatedAt))
        .col(
            integer(Record::Version)
                .default(1)
                .check(Expr::col(Record::Version).gte(1)),
        )
        .to_owned()
}

/// Adds a foreign key `from_col → to_table.id` with an explicit `ON DELETE` rule.
pub fn foreign_key(
    table: &mut TableCreateStatement,
    name: &str,
    from: (impl IntoIden + Clone + 'static, impl IntoIden + 'static),
    to_table: impl IntoIden + 'static,
    on_delete: ForeignKeyAction,
) {
    table.foreign_key(
        ForeignKey::create()
            .name(name)
            .from(from.0, from.1)
            .to(to_table, Record::Id)
            .on_delete(on_delete)
            .on_update(ForeignKeyAction::Cascade),
    );
}

/// `CREATE INDEX idx_<table>_<col…>` over the given columns.
pub fn index<T, C>(table: T, name: &str, cols: impl IntoIterator<Item = C>) -> IndexCreateStatement
where
    T: IntoIden + 'static,
    C: IntoIndexColumn,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    stmt.to_owned()
}

/// A `CHECK` that a date and its precision are both set or both unset.
pub fn date_with_precision(date: &str, precision: &str) -> Expr {
    Expr::cust(format!(
        "({date} IS NULL AND {precision} IS NULL) OR ({date} IS NOT NULL AND {precision} IS NOT NULL)"
    ))
}
