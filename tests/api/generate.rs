//! `partnerships generate`: synthetic records on top of the seed, the planned counts on both
//! stores, the same rows from the same seed, and an API that still answers over them.

use entity::{agreement_party, event, event_participant, organization, project};
use partnerships::{
    generate::{self, Options, Plan},
    seed,
};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, seed_file, spawn_app, spawn_embedded_app};

const SCALE: f64 = 0.01;

fn options(seed: u64) -> Options {
    Options {
        scale: SCALE,
        seed,
        progress: false,
    }
}

async fn generate(db: &DatabaseConnection, seed: u64) -> generate::Report {
    generate::run(db, options(seed))
        .await
        .unwrap_or_else(|e| panic!("generating: {e:#}"))
}

/// Counts through the API, which must agree with what was written.
async fn api_counts(app: &TestApp) -> Value {
    app.data(
        "{ organizations { totalCount } agreements { totalCount } projects { totalCount } events { totalCount } }",
        json!({}),
    )
    .await
}

/// The checks both stores share: the planned numbers of records, links on every link table,
/// and the API answering a nested query over a hub and a generated record.
async fn generates_the_plan_and_the_api_answers(app: &TestApp) {
    let before = api_counts(app).await;
    let report = generate(&app.store.connection, 42).await;

    let plan = Plan::at(SCALE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.rows("organizations"), plan.organizations as u64);
    assert_eq!(report.rows("agreements"), plan.agreements as u64);
    assert_eq!(report.rows("projects"), plan.projects as u64);
    assert_eq!(report.rows("events"), plan.events as u64);
    for links in [
        "agreement_parties",
        "project_participants",
        "project_regions",
        "project_themes",
        "event_participants",
    ] {
        assert!(report.rows(links) > 0, "no rows in {links}: {report}");
    }
    // Every agreement has at least two parties, every event an organizer.
    assert!(report.rows("agreement_parties") >= 2 * plan.agreements as u64);
    assert!(report.rows("event_participants") >= plan.events as u64);

    let after = api_counts(app).await;
    for (field, added) in [
        ("organizations", plan.organizations),
        ("agreements", plan.agreements),
        ("projects", plan.projects),
        ("events", plan.events),
    ] {
        let was = before[field]["totalCount"].as_u64().unwrap_or_default();
        assert_eq!(
            after[field]["totalCount"].as_u64(),
            Some(was + added as u64),
            "{field}"
        );
    }

    // The seed's organizations rank first in the draws: the ILO is a hub now.
    let data = app
        .data(
            r#"{ organization(by: { slug: "ilo" }) {
                   events(first: 3) { totalCount edges { role node { slug startsOn endsOn } } }
                   agreements(first: 3) { totalCount edges { node { parties { totalCount nodes { slug } } } } }
                 } }"#,
            json!({}),
        )
        .await;
    let ilo = &data["organization"];
    assert!(
        ilo["events"]["totalCount"].as_u64().unwrap_or_default() > 20,
        "{ilo}"
    );
    assert_eq!(ilo["events"]["edges"].as_array().map(Vec::len), Some(3));

    // A generated record is reachable by its slug, and its slug is valid.
    let slug = app
        .data("{ events(last: 1) { nodes { slug } } }", json!({}))
        .await["events"]["nodes"][0]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("no event"))
        .to_owned();
    assert!(partnerships::store::write::is_valid_slug(&slug), "{slug}");
    let found = app
        .data(
            "query($slug: String!) { event(by: { slug: $slug }) { slug participants { totalCount } } }",
            json!({ "slug": slug }),
        )
        .await;
    assert_eq!(found["event"]["slug"], slug.as_str());
}

#[tokio::test]
async fn generate_on_postgres_adds_the_planned_records_and_the_api_answers() {
    let app = spawn_app().await;
    generates_the_plan_and_the_api_answers(&app).await;
}

#[tokio::test]
async fn generate_on_sqlite_adds_the_planned_records_and_the_api_answers() {
    let app = spawn_embedded_app().await;
    generates_the_plan_and_the_api_answers(&app).await;
}

/// What identifies the generated rows (timestamps aside).
type Fingerprint = (
    Vec<(i64, String, String, Option<i64>)>,
    Vec<(i64, String, Option<i64>, Option<i64>)>,
    Vec<(i64, i64, String)>,
    Vec<(i64, i64, String)>,
    Vec<(i64, String)>,
);

async fn fingerprint(db: &DatabaseConnection) -> Fingerprint {
    let orgs = organization::Entity::find()
        .select_only()
        .columns([
            organization::Column::Id,
            organization::Column::Slug,
            organization::Column::Name,
            organization::Column::ParentId,
        ])
        .order_by_asc(organization::Column::Id)
        .into_tuple()
        .all(db)
        .await;
    let events = event::Entity::find()
        .select_only()
        .columns([
            event::Column::Id,
            event::Column::Slug,
            event::Column::ParentId,
            event::Column::ProjectId,
        ])
        .order_by_asc(event::Column::Id)
        .into_tuple()
        .all(db)
        .await;
    let parties = agreement_party::Entity::find()
        .select_only()
        .columns([
            agreement_party::Column::AgreementId,
            agreement_party::Column::OrganizationId,
            agreement_party::Column::Role,
        ])
        .order_by_asc(agreement_party::Column::Id)
        .into_tuple()
        .all(db)
        .await;
    let participants = event_participant::Entity::find()
        .select_only()
        .columns([
            event_participant::Column::EventId,
            event_participant::Column::OrganizationId,
            event_participant::Column::Role,
        ])
        .order_by_asc(event_participant::Column::Id)
        .into_tuple()
        .all(db)
        .await;
    let projects = project::Entity::find()
        .select_only()
        .columns([project::Column::Id, project::Column::Slug])
        .order_by_asc(project::Column::Id)
        .into_tuple()
        .all(db)
        .await;
    (
        ok(orgs),
        ok(events),
        ok(parties),
        ok(participants),
        ok(projects),
    )
}

fn ok<T>(result: Result<T, sea_orm::DbErr>) -> T {
    result.unwrap_or_else(|e| panic!("reading rows: {e}"))
}

/// A fresh PostgreSQL database with the seed loaded and `seed`'s records generated over it.
async fn generated_database(seed_number: u64) -> (TestDb, Fingerprint) {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    seed::load_file(&db, &seed_file())
        .await
        .unwrap_or_else(|e| panic!("seeding: {e:#}"));
    generate(&db, seed_number).await;
    let print = fingerprint(&db).await;
    db.close().await.unwrap_or_else(|e| panic!("{e}"));
    (test_db, print)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_rows_and_another_seed_other_rows() {
    let (_a, first) = generated_database(7).await;
    let (_b, again) = generated_database(7).await;
    let (_c, other) = generated_database(8).await;

    assert!(first.0.len() > 100, "too few organizations to compare");
    assert_eq!(first, again, "seed 7 twice gave different rows");
    assert_ne!(
        first.0, other.0,
        "seeds 7 and 8 gave the same organizations"
    );
    assert_ne!(first.3, other.3, "seeds 7 and 8 gave the same participants");
}

#[tokio::test]
async fn the_generate_command_seeds_an_empty_database_first_and_refuses_a_bad_scale() {
    let test_db = TestDb::empty().await;
    let dataset = seed_file();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_partnerships"))
            .args(args)
            .env("DATABASE_URL", &test_db.url)
            .env("LOG_LEVEL", "warn")
            .output()
            .unwrap_or_else(|e| panic!("running partnerships: {e}"))
    };
    let dataset = dataset.to_str().unwrap_or_default();

    let ok = run(&[
        "generate",
        "--migrate",
        "--scale",
        "0.001",
        "--seed",
        "3",
        "--dataset",
        dataset,
    ]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // The seed report first (the database was empty), then the generated rows.
    assert!(
        out.contains("organizations") && out.contains("Generated"),
        "{out}"
    );
    let generated = out
        .lines()
        .skip_while(|l| !l.starts_with("Generated"))
        .find(|l| l.trim_start().starts_with("events"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no events line in {out}"));
    assert_eq!(generated, "100");

    let bad = run(&["generate", "--scale", "0"]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(stderr.contains("--scale must be"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
