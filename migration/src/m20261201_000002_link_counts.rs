//! How many links each record has on each side of each link table, kept by triggers, so that a
//! hub's `totalCount` is read, not counted.
//!
//! The ILO's event count at scale 1 is 24,733 entries of an index-only scan (6–10 ms); with its
//! agreements and projects, counting alone took over half of the hub detail's SQL. Here each
//! link written adds a delta row for each of its two records, and a count is the sum of a
//! record's deltas (a handful of rows, read from an index).
//!
//! Why deltas and not one counter row per record: on PostgreSQL, a counter row would be locked by
//! every transaction that links the record until it commits, so two editors linking the same two
//! hubs in opposite orders would deadlock. Inserting deltas locks nothing. Triggers fire once per
//! statement with the statement's rows (transition tables), so a bulk insert of 2,000 links adds
//! one delta per record it touched, not 2,000. SQLite has one writer and row triggers only, so
//! there each record keeps one row (a unique key and an upsert).
//!
//! Deltas grow with writes (one row per record per writing statement); `fold` sums each
//! record's deltas back into one row. The migration and `partnerships generate` run it, and so
//! does a server on PostgreSQL in the background after writes (`store::link_counts`).

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table holding the deltas.
pub const TABLE: &str = "link_counts";

/// Every link table with its two record columns.
pub const LINKS: [(&str, [&str; 2]); 6] = [
    ("agreement_parties", ["agreement_id", "organization_id"]),
    ("project_participants", ["project_id", "organization_id"]),
    ("event_participants", ["event_id", "organization_id"]),
    ("agreement_instruments", ["agreement_id", "instrument_id"]),
    ("project_instruments", ["project_id", "instrument_id"]),
    ("event_instruments", ["event_id", "instrument_id"]),
];

/// Sums each record's deltas into one row (PostgreSQL), in one statement per link table so that
/// deltas written meanwhile are neither lost nor counted twice: the statement deletes only the
/// rows its snapshot sees and writes back their sum; a delta committed after it began stays as
/// it is, and a fold running at once in another session skips the rows this one deleted. Only
/// records with more than one row are touched, so a fold where little was written is cheap.
/// SQLite keeps one row already.
pub fn fold_statements() -> Vec<String> {
    LINKS
        .iter()
        .map(|(table, _)| {
            format!(
                "WITH many AS (SELECT owner_column, owner_id FROM {TABLE} \
                 WHERE link_table = '{table}' GROUP BY owner_column, owner_id HAVING COUNT(*) > 1), \
                 gone AS (DELETE FROM {TABLE} USING many WHERE {TABLE}.link_table = '{table}' \
                 AND {TABLE}.owner_column = many.owner_column AND {TABLE}.owner_id = many.owner_id \
                 RETURNING {TABLE}.owner_column, {TABLE}.owner_id, {TABLE}.delta) \
                 INSERT INTO {TABLE} (link_table, owner_column, owner_id, delta) \
                 SELECT '{table}', owner_column, owner_id, SUM(delta) FROM gone \
                 GROUP BY owner_column, owner_id HAVING SUM(delta) <> 0"
            )
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        if postgres {
            db.execute_unprepared("SET LOCAL statement_timeout = 0")
                .await?;
        }
        db.execute_unprepared(&format!(
            "CREATE TABLE {TABLE} (link_table VARCHAR(40) NOT NULL, \
             owner_column VARCHAR(40) NOT NULL, owner_id BIGINT NOT NULL, delta BIGINT NOT NULL)"
        ))
        .await?;
        // Index-only sums of a record's deltas; on SQLite also the key of its one row.
        let unique = if postgres { "" } else { "UNIQUE " };
        let include = if postgres { " INCLUDE (delta)" } else { "" };
        db.execute_unprepared(&format!(
            "CREATE {unique}INDEX idx_{TABLE}_owner ON {TABLE} \
             (link_table, owner_column, owner_id){include}"
        ))
        .await?;
        for (table, columns) in &LINKS {
            for column in columns {
                db.execute_unprepared(&format!(
                    "INSERT INTO {TABLE} (link_table, owner_column, owner_id, delta) \
                     SELECT '{table}', '{column}', {column}, COUNT(*) FROM {table} GROUP BY {column}"
                ))
                .await?;
            }
            if postgres {
                postgres_triggers(db, table, columns).await?;
            } else {
                sqlite_triggers(db, table, columns).await?;
            }
        }
        if postgres {
            db.execute_unprepared(&format!("ANALYZE {TABLE}")).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        for (table, _) in &LINKS {
            for event in ["insert", "delete", "update"] {
                let name = format!("{table}_count_{event}");
                if postgres {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name} ON {table}"))
                        .await?;
                    db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}()"))
                        .await?;
                } else {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {TABLE}"))
            .await?;
        Ok(())
    }
}

/// PostgreSQL: statement triggers that add one delta per record a statement linked, unlinked or
/// moved a link from or to.
async fn postgres_triggers(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    columns: &[&str; 2],
) -> Result<(), DbErr> {
    let insert = format!("INSERT INTO {TABLE} (link_table, owner_column, owner_id, delta)");
    let counted = |rows: &str, sign: &str| {
        columns
            .iter()
            .map(|c| {
                format!("SELECT '{table}', '{c}', {c}, {sign}COUNT(*) FROM {rows} GROUP BY {c}")
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    };
    // A moved link: one less for the record it left, one more for the one it joined.
    let moved = columns
        .iter()
        .flat_map(|c| {
            [
                format!(
                    "SELECT '{table}', '{c}', o.{c}, -COUNT(*) FROM old_rows o \
                     JOIN new_rows n ON n.id = o.id WHERE o.{c} <> n.{c} GROUP BY o.{c}"
                ),
                format!(
                    "SELECT '{table}', '{c}', n.{c}, COUNT(*) FROM old_rows o \
                     JOIN new_rows n ON n.id = o.id WHERE o.{c} <> n.{c} GROUP BY n.{c}"
                ),
            ]
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    for (event, referencing, body) in [
        (
            "insert",
            "NEW TABLE AS new_rows",
            format!("{insert} {};", counted("new_rows", "")),
        ),
        (
            "delete",
            "OLD TABLE AS old_rows",
            format!("{insert} {};", counted("old_rows", "-")),
        ),
        (
            "update",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            format!("{insert} {moved};"),
        ),
    ] {
        let name = format!("{table}_count_{event}");
        db.execute_unprepared(&format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ \
             BEGIN {body} RETURN NULL; END $body$"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {name} AFTER {} ON {table} REFERENCING {referencing} \
             FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            event.to_uppercase()
        ))
        .await?;
    }
    Ok(())
}

/// SQLite: row triggers keeping one row per record (the one writer never waits on itself).
async fn sqlite_triggers(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    columns: &[&str; 2],
) -> Result<(), DbErr> {
    let add = |row: &str, column: &str, delta: i32| {
        format!(
            "INSERT INTO {TABLE} (link_table, owner_column, owner_id, delta) \
             VALUES ('{table}', '{column}', {row}.{column}, {delta}) \
             ON CONFLICT (link_table, owner_column, owner_id) DO UPDATE SET delta = delta + excluded.delta;"
        )
    };
    let on_insert: String = columns.iter().map(|c| add("NEW", c, 1)).collect();
    let on_delete: String = columns.iter().map(|c| add("OLD", c, -1)).collect();
    let on_update: String = columns
        .iter()
        .map(|c| format!("{}{}", add("OLD", c, -1), add("NEW", c, 1)))
        .collect();
    for (event, body) in [
        (
            "insert",
            format!("AFTER INSERT ON {table} FOR EACH ROW BEGIN {on_insert} END"),
        ),
        (
            "delete",
            format!("AFTER DELETE ON {table} FOR EACH ROW BEGIN {on_delete} END"),
        ),
        (
            "update",
            format!(
                "AFTER UPDATE OF {} ON {table} FOR EACH ROW WHEN OLD.{} <> NEW.{} OR OLD.{} <> NEW.{} \
                 BEGIN {on_update} END",
                columns.join(", "),
                columns[0],
                columns[0],
                columns[1],
                columns[1]
            ),
        ),
    ] {
        db.execute_unprepared(&format!("CREATE TRIGGER {table}_count_{event} {body}"))
            .await?;
    }
    Ok(())
}
