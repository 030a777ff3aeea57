//! Order keys on link rows, so that a nested page is cut from an index before anything is
//! joined.
//!
//! A nested connection through a link table (the ILO's events, an agreement's parties) is
//! ordered by the *related* record's name, title or date. With that value only on the related
//! record, the first page of a hub had to join and sort all of its links: 24,733 event links for
//! the ILO at scale 1, 125 ms for 20 rows (docs/BENCHMARKS.md). Here each link row carries a copy
//! of the sort values of the records on both of its sides, with one index per (owner, key,
//! related id, link id), so a page reads `first + 1` index entries and then fetches those records.
//!
//! The copies are kept by triggers, not by the application: every path that writes a link (the
//! seed loader, imports, mutations, restore, `generate`) or renames a record stays right without
//! knowing about them, on both engines. A link's keys are filled on insert and when it is moved to
//! another record; a record's new name, title or date is copied to its links. The entities do not
//! map these columns: they are the store's ordering detail, never read back as data.
//!
//! The link's own order (`LINKED_AT`) needs an (owner, id) index on the hub side, which replaces
//! the single-column owner index (it serves the same lookups and counts).

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One side of a link table: the column naming the record, its table, and the sort values copied
/// from it (column on the link, column on the record). The store reads the same lists
/// (`store::nested`), so a key is named in one place.
pub struct Side {
    pub fk: &'static str,
    pub table: &'static str,
    pub keys: &'static [(&'static str, &'static str)],
}

pub const ORGANIZATION: Side = Side {
    fk: "organization_id",
    table: "organizations",
    keys: &[("organization_name", "name")],
};
pub const AGREEMENT: Side = Side {
    fk: "agreement_id",
    table: "agreements",
    keys: &[
        ("agreement_title", "title"),
        ("agreement_signed_on", "signed_on"),
    ],
};
pub const PROJECT: Side = Side {
    fk: "project_id",
    table: "projects",
    keys: &[
        ("project_name", "name"),
        ("project_starts_on", "starts_on"),
        ("project_ends_on", "ends_on"),
    ],
};
pub const EVENT: Side = Side {
    fk: "event_id",
    table: "events",
    keys: &[
        ("event_name", "name"),
        ("event_starts_on", "starts_on"),
        ("event_ends_on", "ends_on"),
    ],
};
pub const INSTRUMENT: Side = Side {
    fk: "instrument_id",
    table: "instruments",
    keys: &[
        ("instrument_name", "name"),
        ("instrument_adopted_on", "adopted_on"),
    ],
};

/// Every link table with its two sides and the single-column owner index the (owner, id) index
/// replaces (on the side that has the hubs).
const LINKS: [(&str, [Side; 2], &str, &str); 6] = [
    (
        "agreement_parties",
        [AGREEMENT, ORGANIZATION],
        "organization_id",
        "idx_agreement_parties_organization_id",
    ),
    (
        "project_participants",
        [PROJECT, ORGANIZATION],
        "organization_id",
        "idx_project_participants_organization_id",
    ),
    (
        "event_participants",
        [EVENT, ORGANIZATION],
        "organization_id",
        "idx_event_participants_organization_id",
    ),
    (
        "agreement_instruments",
        [AGREEMENT, INSTRUMENT],
        "instrument_id",
        "idx_agreement_instruments_instrument_id",
    ),
    (
        "project_instruments",
        [PROJECT, INSTRUMENT],
        "instrument_id",
        "idx_project_instruments_instrument_id",
    ),
    (
        "event_instruments",
        [EVENT, INSTRUMENT],
        "instrument_id",
        "idx_event_instruments_instrument_id",
    ),
];

/// The SQL type of a copied column: dates stay dates, names and titles are text.
fn sql_type(key: &str) -> &'static str {
    if key.ends_with("_on") { "DATE" } else { "TEXT" }
}

/// The name of the index that serves pages of `sorted` records ordered by `key`, for the owner on
/// the other side.
pub fn key_index(table: &str, key: &str) -> String {
    format!("idx_{table}_by_{key}")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        if postgres {
            // The backfill rewrites every link row (half a million at scale 1, several seconds):
            // the server's statement timeout is for requests, not for this transaction.
            db.execute_unprepared("SET LOCAL statement_timeout = 0")
                .await?;
        }
        for (table, sides, hub, owner_index) in &LINKS {
            for side in sides {
                for (key, _) in side.keys {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {table} ADD COLUMN {key} {}",
                        sql_type(key)
                    ))
                    .await?;
                }
            }
            // Backfill in one pass over the links, joined to the records of both sides.
            let sets = sides
                .iter()
                .enumerate()
                .flat_map(|(i, side)| {
                    side.keys
                        .iter()
                        .map(move |(key, column)| format!("{key} = r{i}.{column}"))
                })
                .collect::<Vec<_>>()
                .join(", ");
            db.execute_unprepared(&format!(
                "UPDATE {table} SET {sets} FROM {} r0, {} r1 \
                 WHERE r0.id = {table}.{} AND r1.id = {table}.{}",
                sides[0].table, sides[1].table, sides[0].fk, sides[1].fk
            ))
            .await?;
            // A page of one side's records for an owner on the other side.
            for (i, side) in sides.iter().enumerate() {
                let owner = &sides[1 - i];
                for (key, _) in side.keys {
                    db.execute_unprepared(&format!(
                        "CREATE INDEX {} ON {table} ({}, {key}, {}, id)",
                        key_index(table, key),
                        owner.fk,
                        side.fk
                    ))
                    .await?;
                }
            }
            db.execute_unprepared(&format!("DROP INDEX {owner_index}"))
                .await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX idx_{table}_{hub}_linked ON {table} ({hub}, id)"
            ))
            .await?;
            if postgres {
                postgres_link_trigger(db, table, sides).await?;
            } else {
                sqlite_link_triggers(db, table, sides).await?;
            }
        }
        for side in [ORGANIZATION, AGREEMENT, PROJECT, EVENT, INSTRUMENT] {
            if postgres {
                postgres_record_trigger(db, &side).await?;
            } else {
                sqlite_record_trigger(db, &side).await?;
            }
        }
        if postgres {
            db.execute_unprepared(
                "ANALYZE agreement_parties, project_participants, event_participants, \
                 agreement_instruments, project_instruments, event_instruments",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        for side in [ORGANIZATION, AGREEMENT, PROJECT, EVENT, INSTRUMENT] {
            let name = format!("{}_link_keys", side.table);
            if postgres {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name} ON {}", side.table))
                    .await?;
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}()"))
                    .await?;
            } else {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                    .await?;
            }
        }
        for (table, sides, hub, owner_index) in &LINKS {
            let name = format!("{table}_keys");
            if postgres {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name} ON {table}"))
                    .await?;
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}()"))
                    .await?;
            } else {
                for suffix in ["insert", "move"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}_{suffix}"))
                        .await?;
                }
            }
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS idx_{table}_{hub}_linked"))
                .await?;
            db.execute_unprepared(&format!("CREATE INDEX {owner_index} ON {table} ({hub})"))
                .await?;
            for side in sides {
                for (key, _) in side.keys {
                    db.execute_unprepared(&format!(
                        "DROP INDEX IF EXISTS {}",
                        key_index(table, key)
                    ))
                    .await?;
                    db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {key}"))
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// PostgreSQL: a BEFORE trigger fills a new or moved link's keys from its two records.
async fn postgres_link_trigger(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    sides: &[Side; 2],
) -> Result<(), DbErr> {
    let name = format!("{table}_keys");
    let fills = sides
        .iter()
        .map(|side| {
            let (keys, columns): (Vec<_>, Vec<_>) = side
                .keys
                .iter()
                .map(|(key, column)| (format!("NEW.{key}"), format!("r.{column}")))
                .unzip();
            format!(
                "SELECT {} INTO {} FROM {} r WHERE r.id = NEW.{};",
                columns.join(", "),
                keys.join(", "),
                side.table,
                side.fk
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    db.execute_unprepared(&format!(
        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ \
         BEGIN {fills} RETURN NEW; END $body$"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OF {}, {} ON {table} \
         FOR EACH ROW EXECUTE FUNCTION {name}()",
        sides[0].fk, sides[1].fk
    ))
    .await?;
    Ok(())
}

/// The link tables that copy `side`'s values.
fn links_of(side: &Side) -> impl Iterator<Item = &'static str> + '_ {
    LINKS
        .iter()
        .filter(|(_, sides, _, _)| sides.iter().any(|s| s.table == side.table))
        .map(|(table, _, _, _)| *table)
}

/// PostgreSQL: an AFTER trigger copies a record's changed sort values to its links.
async fn postgres_record_trigger(
    db: &SchemaManagerConnection<'_>,
    side: &Side,
) -> Result<(), DbErr> {
    let name = format!("{}_link_keys", side.table);
    let sets = side
        .keys
        .iter()
        .map(|(key, column)| format!("{key} = NEW.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let updates = links_of(side)
        .map(|link| format!("UPDATE {link} SET {sets} WHERE {} = NEW.id;", side.fk))
        .collect::<Vec<_>>()
        .join(" ");
    let columns: Vec<&str> = side.keys.iter().map(|(_, column)| *column).collect();
    let changed = columns
        .iter()
        .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    db.execute_unprepared(&format!(
        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ \
         BEGIN {updates} RETURN NULL; END $body$"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER {name} AFTER UPDATE OF {} ON {} FOR EACH ROW WHEN ({changed}) \
         EXECUTE FUNCTION {name}()",
        columns.join(", "),
        side.table
    ))
    .await?;
    Ok(())
}

/// SQLite has no BEFORE trigger that can change NEW: AFTER triggers set the inserted or moved
/// row's keys (recursive triggers are off, and the key columns fire nothing).
async fn sqlite_link_triggers(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    sides: &[Side; 2],
) -> Result<(), DbErr> {
    let name = format!("{table}_keys");
    let sets = sides
        .iter()
        .flat_map(|side| {
            side.keys.iter().map(move |(key, column)| {
                format!(
                    "{key} = (SELECT r.{column} FROM {} r WHERE r.id = NEW.{})",
                    side.table, side.fk
                )
            })
        })
        .collect::<Vec<_>>()
        .join(", ");
    let body = format!("BEGIN UPDATE {table} SET {sets} WHERE id = NEW.id; END");
    db.execute_unprepared(&format!(
        "CREATE TRIGGER {name}_insert AFTER INSERT ON {table} FOR EACH ROW {body}"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER {name}_move AFTER UPDATE OF {}, {} ON {table} FOR EACH ROW {body}",
        sides[0].fk, sides[1].fk
    ))
    .await?;
    Ok(())
}

/// SQLite: a record's changed sort values go to its links.
async fn sqlite_record_trigger(db: &SchemaManagerConnection<'_>, side: &Side) -> Result<(), DbErr> {
    let name = format!("{}_link_keys", side.table);
    let sets = side
        .keys
        .iter()
        .map(|(key, column)| format!("{key} = NEW.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let updates = links_of(side)
        .map(|link| format!("UPDATE {link} SET {sets} WHERE {} = NEW.id;", side.fk))
        .collect::<Vec<_>>()
        .join(" ");
    let columns: Vec<&str> = side.keys.iter().map(|(_, column)| *column).collect();
    db.execute_unprepared(&format!(
        "CREATE TRIGGER {name} AFTER UPDATE OF {} ON {} FOR EACH ROW BEGIN {updates} END",
        columns.join(", "),
        side.table
    ))
    .await?;
    Ok(())
}
