//! The embedded default: with no DATABASE_URL the server migrates and seeds a SQLite file on
//! first start and serves the same facts as PostgreSQL.

use partnerships::{seed, startup::Application};
use serde_json::json;

use crate::helpers::{TempSqlite, seed_file, settings, sorted, spawn_embedded_app};

#[tokio::test]
async fn the_embedded_default_serves_the_ilo_data_on_first_start() {
    let app = spawn_embedded_app().await;

    let data = app
        .data(
            r#"{ agreement(by: { slug: "ilo-undp-global-framework-of-action" }) { signedOn parties { nodes { acronym } } } }"#,
            json!({}),
        )
        .await;

    assert_eq!(data["agreement"]["signedOn"], "2020");
    assert_eq!(
        sorted(&data["agreement"]["parties"]["nodes"], "/acronym"),
        ["ILO", "UNDP"]
    );
}

#[tokio::test]
async fn a_second_start_on_the_same_file_keeps_the_data_and_seeding_again_changes_nothing() {
    let file = TempSqlite::new();
    let first = Application::build(settings(None, file.path.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    drop(first);

    let second = Application::build(settings(None, file.path.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let report = seed::load_file(&second.store().connection, &seed_file())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(report.changes(), 0, "{report}");
    assert!(report.organizations.unchanged >= 20, "{report}");
}
