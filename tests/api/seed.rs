//! The seed loads every record of the dataset file, is idempotent, updates what changed, and
//! writes nothing when the file has a problem.

use entity::{
    agreement, agreement_instrument, agreement_party, event, event_instrument, event_participant,
    instrument, organization, project, project_instrument, project_participant, project_region,
    project_theme, source,
};
use partnerships::seed::{self, Document};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::helpers::{TestDb, seed_file};

fn parse(text: &str) -> Document {
    Document::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The message of a load that must fail.
async fn refused(db: &DatabaseConnection, doc: &Document) -> String {
    let err = seed::load(db, doc)
        .await
        .err()
        .unwrap_or_else(|| panic!("the load should fail"));
    format!("{err:#}")
}

fn dataset() -> Document {
    let text = std::fs::read_to_string(seed_file()).unwrap_or_else(|e| panic!("{e}"));
    Document::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

async fn count<E: EntityTrait>(db: &DatabaseConnection) -> u64
where
    E::Model: Sync,
{
    E::find().count(db).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Rows per table, in a fixed order, for before/after comparisons.
async fn table_counts(db: &DatabaseConnection) -> Vec<(&'static str, u64)> {
    vec![
        ("sources", count::<source::Entity>(db).await),
        ("organizations", count::<organization::Entity>(db).await),
        ("instruments", count::<instrument::Entity>(db).await),
        ("agreements", count::<agreement::Entity>(db).await),
        (
            "agreement_parties",
            count::<agreement_party::Entity>(db).await,
        ),
        (
            "agreement_instruments",
            count::<agreement_instrument::Entity>(db).await,
        ),
        ("projects", count::<project::Entity>(db).await),
        (
            "project_participants",
            count::<project_participant::Entity>(db).await,
        ),
        ("project_regions", count::<project_region::Entity>(db).await),
        ("project_themes", count::<project_theme::Entity>(db).await),
        (
            "project_instruments",
            count::<project_instrument::Entity>(db).await,
        ),
        ("events", count::<event::Entity>(db).await),
        (
            "event_participants",
            count::<event_participant::Entity>(db).await,
        ),
        (
            "event_instruments",
            count::<event_instrument::Entity>(db).await,
        ),
    ]
}

/// What the file holds, table by table, in the order of [`table_counts`].
fn file_counts(doc: &Document) -> Vec<(&'static str, u64)> {
    let n = |x: usize| x as u64;
    let sum = |it: &mut dyn Iterator<Item = usize>| it.sum::<usize>() as u64;
    vec![
        ("sources", n(doc.sources.len())),
        ("organizations", n(doc.organizations.len())),
        ("instruments", n(doc.instruments.len())),
        ("agreements", n(doc.agreements.len())),
        (
            "agreement_parties",
            sum(&mut doc.agreements.iter().map(|a| a.parties.len())),
        ),
        (
            "agreement_instruments",
            sum(&mut doc.agreements.iter().map(|a| a.instruments.len())),
        ),
        ("projects", n(doc.projects.len())),
        (
            "project_participants",
            sum(&mut doc.projects.iter().map(|p| p.participants.len())),
        ),
        (
            "project_regions",
            sum(&mut doc.projects.iter().map(|p| p.regions.len())),
        ),
        (
            "project_themes",
            sum(&mut doc.projects.iter().map(|p| p.themes.len())),
        ),
        (
            "project_instruments",
            sum(&mut doc.projects.iter().map(|p| p.instruments.len())),
        ),
        ("events", n(doc.events.len())),
        (
            "event_participants",
            sum(&mut doc.events.iter().map(|e| e.participants.len())),
        ),
        (
            "event_instruments",
            sum(&mut doc.events.iter().map(|e| e.instruments.len())),
        ),
    ]
}

#[tokio::test]
async fn the_seed_loads_every_record_and_link_of_the_file() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    let doc = dataset();

    let report = seed::load(&db, &doc)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(table_counts(&db).await, file_counts(&doc));
    assert_eq!(report.organizations.created, doc.organizations.len() as u64);
    assert!(
        doc.organizations.len() >= 20,
        "the ILO page names at least 20 organizations"
    );
    // A fact from the page, through the database: the ILO Governing Body belongs to the ILO.
    let body = organization::Entity::find()
        .filter(organization::Column::Slug.eq("ilo-governing-body"))
        .one(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the ILO Governing Body is in the dataset"));
    let parent = organization::Entity::find_by_id(body.parent_id.unwrap_or_default())
        .one(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the Governing Body has a parent"));
    assert_eq!(parent.slug, "ilo");
}

/// Statements sent through `db` while `run` runs (SeaORM's metric callback sees each one; the
/// transaction's `BEGIN` and `COMMIT` are not statements of its).
async fn statements<T>(
    db: &mut DatabaseConnection,
    run: impl AsyncFnOnce(&DatabaseConnection) -> T,
) -> (T, u64) {
    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    };
    let counter = Arc::new(AtomicU64::new(0));
    let counted = counter.clone();
    db.set_metric_callback(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    let out = run(db).await;
    (out, counter.load(Ordering::Relaxed))
}

/// The seed is written a table at a time, not a row at a time (420 statements, then 194 for a
/// second load, when it went row by row). The first load: one read per record table (6), one
/// insert per table or level of parents (sources 1, organizations 2, instruments 1, agreements
/// 1, projects 1, events 2), one per link table (6) and per project value table (2), and the
/// check of each tree that got parents (a lock and a read, twice): 26. The second load reads
/// the same rows, then the links and values the records have (8 reads), and writes nothing: 14.
#[tokio::test]
async fn loading_the_whole_seed_into_an_empty_database_costs_a_fixed_number_of_statements() {
    let test_db = TestDb::migrated().await;
    let mut db = test_db.connect().await;
    let doc = dataset();

    let (report, first) = statements(&mut db, async |db| seed::load(db, &doc).await).await;
    let report = report.unwrap_or_else(|e| panic!("{e:#}"));
    let (again, second) = statements(&mut db, async |db| seed::load(db, &doc).await).await;
    let again = again.unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(table_counts(&db).await, file_counts(&doc));
    assert!(report.organizations.created >= 20, "{report}");
    assert_eq!(again.changes(), 0, "{again}");
    assert_eq!(
        (first, second),
        (26, 14),
        "statements of the first and the second load"
    );
}

#[tokio::test]
async fn loading_the_same_file_twice_changes_nothing() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    let doc = dataset();
    seed::load(&db, &doc)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let before = table_counts(&db).await;

    let second = seed::load(&db, &doc)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(
        second.changes(),
        0,
        "the second load wrote something:\n{second}"
    );
    assert_eq!(
        second.organizations.unchanged,
        doc.organizations.len() as u64
    );
    assert_eq!(table_counts(&db).await, before);
    let bumped = organization::Entity::find()
        .filter(organization::Column::Version.ne(1))
        .count(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bumped, 0, "no version moved");
}

#[tokio::test]
async fn editing_the_file_and_loading_again_updates_just_what_changed() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    let mut doc = dataset();
    seed::load(&db, &doc)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    let ilo = doc
        .organizations
        .iter_mut()
        .find(|o| o.slug == "ilo")
        .unwrap_or_else(|| panic!("ILO is in the dataset"));
    ilo.description = Some("Edited description.".into());
    let gfa = doc
        .agreements
        .iter_mut()
        .find(|a| a.slug == "ilo-undp-global-framework-of-action")
        .unwrap_or_else(|| panic!("the Global Framework of Action is in the dataset"));
    let removed = gfa
        .parties
        .pop()
        .unwrap_or_else(|| panic!("the framework has parties"));
    let report = seed::load(&db, &doc)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(report.organizations.updated, 1, "{report}");
    assert_eq!(report.organizations.created, 0, "{report}");
    assert_eq!(report.links.removed, 1, "{report}");
    assert_eq!(
        report.changes(),
        2,
        "one description and one party changed, nothing else: {report}"
    );
    assert_eq!(
        report.agreements.updated, 0,
        "the agreement's own fields did not change: {report}"
    );
    let ilo = organization::Entity::find()
        .filter(organization::Column::Slug.eq("ilo"))
        .one(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("ILO is still there"));
    assert_eq!(ilo.description.as_deref(), Some("Edited description."));
    assert_eq!(ilo.version, 2, "the update bumped the version");
    assert!(ilo.updated_at > ilo.created_at);
    let removed_org = organization::Entity::find()
        .filter(organization::Column::Slug.eq(&removed.organization))
        .one(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the removed party's organization is still there"));
    let still_party = agreement_party::Entity::find()
        .filter(agreement_party::Column::OrganizationId.eq(removed_org.id))
        .filter(agreement_party::Column::Role.eq(removed.role))
        .all(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let gfa = agreement::Entity::find()
        .filter(agreement::Column::Slug.eq("ilo-undp-global-framework-of-action"))
        .one(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the framework is still there"));
    assert!(
        still_party.iter().all(|p| p.agreement_id != gfa.id),
        "{} is no longer party to the framework",
        removed.organization
    );
}

#[tokio::test]
async fn a_reference_to_nothing_aborts_the_load_and_writes_nothing() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    let doc = Document::parse(
        r#"
sources:
  - { slug: page, title: "A page", publisher: "Someone" }
default_source: page
organizations:
  - { slug: ilo, name: "International Labour Organization", kind: un_system_entity }
projects:
  - slug: lonely
    name: "A project with a partner nobody knows"
    kind: project
    participants:
      - { organization: ilo, role: implementer }
      - { organization: nobody, role: funder }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let err = seed::load(&db, &doc)
        .await
        .err()
        .unwrap_or_else(|| panic!("the load should fail"));

    let message = format!("{err:#}");
    assert!(
        message.contains("projects[0].participants[1].organization"),
        "{message}"
    );
    assert!(message.contains("no organization `nobody`"), "{message}");
    assert!(
        table_counts(&db).await.iter().all(|(_, n)| *n == 0),
        "nothing was written"
    );
}

#[tokio::test]
async fn a_file_may_refer_to_records_already_in_the_database() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    seed::load(&db, &dataset())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let addition = Document::parse(
        r#"
sources:
  - { slug: later-note, title: "A later note", publisher: "Us" }
agreements:
  - slug: ilo-ohchr-test-letter
    title: "A later letter"
    kind: joint_statement
    source: later-note
    parties:
      - { organization: ilo, role: signatory }
      - { organization: ohchr, role: signatory }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let report = seed::load(&db, &addition)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(report.agreements.created, 1);
    assert_eq!(report.links.created, 2);
    assert_eq!(
        report.organizations.changes(),
        0,
        "existing organizations are untouched"
    );
}

#[tokio::test]
async fn a_file_that_closes_a_parent_cycle_with_the_database_is_refused() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    seed::load(
        &db,
        &parse(
            r#"
organizations:
  - { slug: a, name: "A", kind: other }
  - { slug: b, name: "B", kind: other, parent: a }
events:
  - { slug: x, name: "X", kind: forum }
  - { slug: y, name: "Y", kind: session, parent: x }
"#,
        ),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    // On its own the file has no cycle: `b` and `y` are only in the database.
    let closing = parse(
        r#"
organizations:
  - { slug: a, name: "A", kind: other, parent: b }
events:
  - { slug: x, name: "X", kind: forum, parent: y }
"#,
    );
    if let Err(problems) = closing.plan() {
        panic!("the file alone has no problem: {problems:?}");
    }

    let message = refused(&db, &closing).await;

    assert!(
        message.contains("organizations: the parents of"),
        "{message}"
    );
    assert!(message.contains("events: the parents of"), "{message}");
    let a = organization::Entity::find()
        .filter(organization::Column::Slug.eq("a"))
        .one(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("a is still there"));
    assert_eq!(a.parent_id, None, "the load was rolled back");
    assert_eq!(a.version, 1, "the load was rolled back");
}

#[tokio::test]
async fn a_span_may_end_in_a_coarser_period_that_contains_its_start() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    let doc = parse(
        r#"
projects:
  - { slug: p, name: "P", kind: project, starts_on: "2020-06", ends_on: "2020" }
events:
  - { slug: e, name: "E", kind: forum, starts_on: "2020-06-15", ends_on: "2020-06" }
"#,
    );

    let report = seed::load(&db, &doc)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    assert_eq!(report.projects.created, 1, "{report}");
    assert_eq!(report.events.created, 1, "{report}");
}

#[tokio::test]
async fn repeated_or_overlong_project_values_are_problems_with_paths_not_database_errors() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    let long = "x".repeat(201);
    let doc = parse(&format!(
        r#"
projects:
  - slug: p
    name: "P"
    kind: project
    regions: [asia, africa, asia]
    themes: [jobs, "{long}"]
"#
    ));

    let message = refused(&db, &doc).await;

    assert!(
        message.contains("projects[0].regions[2]: `asia` is listed twice"),
        "{message}"
    );
    assert!(
        message.contains("projects[0].themes[1]: longer than 200 characters"),
        "{message}"
    );
    assert!(
        !message.to_lowercase().contains("duplicate key"),
        "{message}"
    );
    assert_eq!(
        count::<project::Entity>(&db).await,
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn a_failed_write_names_the_record_it_was_writing() {
    let test_db = TestDb::migrated().await;
    let db = test_db.connect().await;
    // A rule the loader does not know about, so that its insert fails in the database.
    db.execute_unprepared(
        "ALTER TABLE organizations ADD CONSTRAINT test_no_forbidden CHECK (slug <> 'forbidden')",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let doc = parse(
        r#"
organizations:
  - { slug: fine, name: "Fine", kind: other }
  - { slug: forbidden, name: "Forbidden", kind: other }
"#,
    );

    let message = refused(&db, &doc).await;

    assert!(
        message.contains("organizations[1] `forbidden`"),
        "{message}"
    );
}

/// A document of 1,200 organizations, all parties to one agreement, and (`parties: false`)
/// the same agreement without them.
fn crowd(parties: bool) -> Document {
    let mut text = String::from("organizations:\n");
    for i in 0..1_200 {
        text.push_str(&format!(
            "  - {{ slug: member-{i}, name: \"Member {i}\", kind: other }}\n"
        ));
    }
    text.push_str(
        "agreements:\n  - slug: crowd-pact\n    title: \"A pact of many\"\n    kind: other\n",
    );
    if parties {
        text.push_str("    parties:\n");
        for i in 0..1_200 {
            text.push_str(&format!(
                "      - {{ organization: member-{i}, role: signatory }}\n"
            ));
        }
    }
    parse(&text)
}

/// More records and links than one statement takes (a statement binds at most 65,535 values on
/// PostgreSQL, 32,766 on SQLite) are written in several, on both stores; and a second load
/// removes the links the file no longer lists.
#[tokio::test]
async fn a_document_larger_than_one_statement_loads_whole_on_both_stores() {
    let postgres = TestDb::migrated().await;
    let embedded = crate::helpers::spawn_embedded_app().await;
    let stores = [
        ("postgres", postgres.connect().await),
        ("sqlite", embedded.store.writer.clone()),
    ];
    for (store, db) in stores {
        let (organizations, parties) = (
            count::<organization::Entity>(&db).await,
            count::<agreement_party::Entity>(&db).await,
        );
        let report = seed::load(&db, &crowd(true))
            .await
            .unwrap_or_else(|e| panic!("{store}: {e:#}"));
        assert_eq!(report.organizations.created, 1_200, "{store}: {report}");
        assert_eq!(report.links.created, 1_200, "{store}: {report}");
        assert_eq!(
            count::<organization::Entity>(&db).await,
            organizations + 1_200,
            "{store}"
        );
        assert_eq!(
            count::<agreement_party::Entity>(&db).await,
            parties + 1_200,
            "{store}"
        );

        let report = seed::load(&db, &crowd(false))
            .await
            .unwrap_or_else(|e| panic!("{store}: {e:#}"));
        assert_eq!(report.links.removed, 1_200, "{store}: {report}");
        assert_eq!(report.organizations.unchanged, 1_200, "{store}: {report}");
        assert_eq!(
            count::<agreement_party::Entity>(&db).await,
            parties,
            "{store}"
        );
    }
}
