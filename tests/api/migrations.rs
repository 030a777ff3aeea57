//! The same migrations run up, down and up again on PostgreSQL and SQLite.

use migration::{Migrator, MigratorTrait, SchemaManager};
use partnerships::seed;
use sea_orm::DatabaseConnection;

use crate::helpers::{TempSqlite, TestDb, seed_file};

const TABLES: [&str; 15] = [
    "sources",
    "organizations",
    "instruments",
    "agreements",
    "agreement_parties",
    "agreement_instruments",
    "projects",
    "project_participants",
    "project_regions",
    "project_themes",
    "project_instruments",
    "events",
    "event_participants",
    "event_instruments",
    "audit_entries",
];

async fn existing_tables(db: &DatabaseConnection) -> Vec<&'static str> {
    let manager = SchemaManager::new(db);
    let mut found = Vec::new();
    for table in TABLES {
        if manager
            .has_table(table)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        {
            found.push(table);
        }
    }
    found
}

async fn up_down_up(db: &DatabaseConnection) {
    Migrator::up(db, None)
        .await
        .unwrap_or_else(|e| panic!("first up: {e}"));
    assert_eq!(
        existing_tables(db).await,
        TABLES,
        "every table exists after up"
    );

    Migrator::down(db, None)
        .await
        .unwrap_or_else(|e| panic!("down: {e}"));
    assert!(
        existing_tables(db).await.is_empty(),
        "no table is left after down"
    );

    Migrator::up(db, None)
        .await
        .unwrap_or_else(|e| panic!("second up: {e}"));
    assert_eq!(
        existing_tables(db).await,
        TABLES,
        "every table exists after up again"
    );
    let pending = Migrator::get_pending_migrations(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(pending.is_empty(), "nothing is pending");
}

#[tokio::test]
async fn migrations_run_up_down_and_up_again_on_postgres() {
    let test_db = TestDb::empty().await;
    up_down_up(&test_db.connect().await).await;
}

#[tokio::test]
async fn migrations_run_up_down_and_up_again_on_sqlite() {
    let file = TempSqlite::new();
    up_down_up(&file.connect().await).await;
}

/// Rolling back must work with data in the tables too: SQLite empties a table row by row when it
/// drops it, so the self-references (an organization's or event's parent, ON DELETE RESTRICT)
/// would refuse the drop of a seeded database.
async fn up_seed_down_up(db: &DatabaseConnection) {
    Migrator::up(db, None)
        .await
        .unwrap_or_else(|e| panic!("first up: {e}"));
    seed::load_file(db, &seed_file())
        .await
        .unwrap_or_else(|e| panic!("seeding: {e:#}"));

    Migrator::down(db, None)
        .await
        .unwrap_or_else(|e| panic!("down with the dataset loaded: {e}"));
    assert!(
        existing_tables(db).await.is_empty(),
        "no table is left after down: {:?}",
        existing_tables(db).await
    );

    Migrator::up(db, None)
        .await
        .unwrap_or_else(|e| panic!("second up: {e}"));
    assert_eq!(
        existing_tables(db).await,
        TABLES,
        "every table exists after up again"
    );
}

#[tokio::test]
async fn migrations_roll_back_a_seeded_database_on_postgres() {
    let test_db = TestDb::empty().await;
    up_seed_down_up(&test_db.connect().await).await;
}

#[tokio::test]
async fn migrations_roll_back_a_seeded_database_on_sqlite() {
    let file = TempSqlite::new();
    up_seed_down_up(&file.connect().await).await;
}
