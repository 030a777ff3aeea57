//! The embedded store under many writers at once. SQLite lets one transaction write at a time;
//! the server queues writes behind its one writer connection, so ordinary contention is never
//! refused (no SERVICE_UNAVAILABLE, no "database is locked"), and readers go on meanwhile.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use partnerships::auth::Role;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, auth_settings, error_codes, read, spawn_embedded_app_with, token};

const WRITERS: usize = 32;
const READERS: usize = 8;
/// Writes each writer makes (the importing writer makes one import instead).
const ROUNDS: usize = 6;
/// Organizations in the one import: enough that it holds the write lock for longer than
/// SQLite's busy timeout, which the writers queued behind it must not run into.
/// SQLite's busy timeout in this test (the default is 5 s): a wait at the file's lock longer
/// than this fails as busy.
const BUSY_TIMEOUT_MS: u64 = 1_000;
const IMPORTED: usize = 1_500;

const CREATE: &str = r#"mutation($slug: String!, $name: String!) { createOrganization(input: {slug: $slug, name: $name, kind: OTHER}) { record { id slug } } }"#;
const RENAME: &str = r#"mutation($id: ID!, $v: Int!, $name: String!) { updateOrganization(input: {id: $id, version: $v, name: $name}) { record { name version } } }"#;
const ADD_PARTY: &str = r#"mutation($a: ID!, $o: ID!) { addAgreementParty(input: {owner: $a, organization: $o, role: SUPPORTER}) { record { id } } }"#;
const REMOVE_PARTY: &str = r#"mutation($a: ID!, $o: ID!) { removeAgreementParty(input: {owner: $a, organization: $o, role: SUPPORTER}) { record { id } } }"#;
const IMPORT: &str = r#"mutation($d: String!) { importDocument(document: $d, dryRun: false) { organizations { created } } }"#;
const READ: &str = r#"{ organizations(first: 20) { totalCount nodes { slug name } } agreement(by: {slug: "ilo-ohchr-partnership"}) { parties(first: 100) { totalCount edges { node { slug } } } } }"#;

/// What one writer had acknowledged, and what was refused.
#[derive(Default)]
struct Outcome {
    /// Slugs of the organizations it created.
    created: Vec<String>,
    /// (version, name) of each acknowledged rename of the contended organization.
    renames: Vec<(i64, String)>,
    /// Refused renames (stale version: CONFLICT, by design) with the name they carried.
    conflicts: Vec<String>,
    /// (organization slug, still a party at the end) of each link it changed.
    parties: Vec<(String, bool)>,
}

/// Runs a write; every error must be one of `allowed` (none for most writes).
async fn write(
    app: &TestApp,
    query: &str,
    variables: Value,
    allowed: &[&str],
) -> Result<Value, String> {
    let body = app
        .graphql_as(&token(Role::Editor, "writer"), query, variables)
        .await;
    let codes = error_codes(&body);
    match codes.as_slice() {
        [] => Ok(body["data"].clone()),
        [code] if allowed.contains(&code.as_str()) => Err(code.clone()),
        _ => panic!("a write was refused: {body:#}"),
    }
}

async fn run_writer(
    app: Arc<TestApp>,
    n: usize,
    contended: (String, String),
    document: String,
) -> Outcome {
    let mut outcome = Outcome::default();
    let (agreement, _) = read(&app, "agreement", "ilo-ohchr-partnership").await;
    match n % 4 {
        // The importer: one import of a few organizations, among the other writes.
        3 if n == 3 => {
            let data = write(&app, IMPORT, json!({ "d": document }), &[]).await;
            let data = data.unwrap_or_else(|code| panic!("import refused: {code}"));
            assert_eq!(data["importDocument"]["organizations"]["created"], IMPORTED);
        }
        // Creates.
        0 | 3 => {
            for round in 0..ROUNDS {
                let slug = format!("writer-{n}-{round}");
                let vars = json!({ "slug": slug, "name": format!("Writer {n} round {round}") });
                write(&app, CREATE, vars, &[])
                    .await
                    .unwrap_or_else(|code| panic!("create refused: {code}"));
                outcome.created.push(slug);
            }
        }
        // Updates of one organization, each with the version it last read: stale ones are
        // CONFLICT, and must leave nothing.
        1 => {
            let (slug, id) = contended;
            for round in 0..ROUNDS {
                let (_, version) = read(&app, "organization", &slug).await;
                let name = format!("Renamed by {n} in round {round}");
                let vars = json!({ "id": id, "v": version, "name": name });
                match write(&app, RENAME, vars, &["CONFLICT"]).await {
                    Ok(data) => {
                        let record = &data["updateOrganization"]["record"];
                        assert_eq!(record["name"], name.as_str());
                        let version = record["version"].as_i64().unwrap_or(0);
                        outcome.renames.push((version, name));
                    }
                    Err(_) => outcome.conflicts.push(name),
                }
            }
        }
        // Link changes: a new organization joins the agreement; every other one leaves again.
        _ => {
            for round in 0..ROUNDS {
                let slug = format!("party-{n}-{round}");
                let vars = json!({ "slug": slug, "name": format!("Party {n} round {round}") });
                let data = write(&app, CREATE, vars, &[])
                    .await
                    .unwrap_or_else(|code| panic!("create refused: {code}"));
                let org = data["createOrganization"]["record"]["id"].clone();
                let link = json!({ "a": agreement, "o": org });
                write(&app, ADD_PARTY, link.clone(), &[])
                    .await
                    .unwrap_or_else(|code| panic!("link refused: {code}"));
                let stays = round % 2 == 0;
                if !stays {
                    write(&app, REMOVE_PARTY, link, &[])
                        .await
                        .unwrap_or_else(|code| panic!("unlink refused: {code}"));
                }
                outcome.created.push(slug.clone());
                outcome.parties.push((slug, stays));
            }
        }
    }
    outcome
}

/// The `slug` column of `sql`'s rows, read from the database itself.
async fn slugs(app: &TestApp, sql: &str) -> Vec<String> {
    let rows = app
        .store
        .connection
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rows.iter()
        .map(|row| {
            row.try_get::<String>("", "slug")
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_and_eight_readers_on_the_embedded_store_lose_nothing_and_wait_their_turn()
 {
    let app = Arc::new(
        spawn_embedded_app_with(|s| {
            s.auth = auth_settings();
            s.database.sqlite_busy_timeout_ms = BUSY_TIMEOUT_MS;
        })
        .await,
    );
    let (contended_id, first_version) = read(&app, "organization", "waipa").await;
    let document = (0..IMPORTED)
        .map(|i| format!("  - {{ slug: imported-{i}, name: \"Imported {i}\", kind: other }}\n"))
        .collect::<String>();
    let document = format!("organizations:\n{document}");

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (app, done) = (app.clone(), done.clone());
            tokio::spawn(async move {
                let (mut reads, mut slowest) = (0, Duration::ZERO);
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let started = Instant::now();
                    let body = app.graphql(READ, json!({})).await;
                    slowest = slowest.max(started.elapsed());
                    assert!(body.get("errors").is_none(), "a read failed: {body:#}");
                    assert!(body["data"]["organizations"]["totalCount"].as_i64() > Some(0));
                    reads += 1;
                }
                (reads, slowest)
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            let contended = ("waipa".to_owned(), contended_id.clone());
            tokio::spawn(run_writer(app.clone(), n, contended, document.clone()))
        })
        .collect();
    let mut outcomes = Vec::new();
    for writer in writers {
        outcomes.push(
            writer
                .await
                .unwrap_or_else(|e| panic!("a writer panicked: {e}")),
        );
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = 0;
    for reader in readers {
        let (count, slowest) = reader
            .await
            .unwrap_or_else(|e| panic!("a reader panicked: {e}"));
        reads += count;
        // In WAL mode a read never waits on the writer, so none comes near the busy timeout.
        assert!(
            slowest < Duration::from_millis(BUSY_TIMEOUT_MS),
            "a read waited {slowest:?}"
        );
    }
    assert!(
        reads >= READERS,
        "the readers read while the writers wrote: {reads}"
    );

    // Every acknowledged create is there, and so are the import's records.
    let mut expected: Vec<String> = outcomes.iter().flat_map(|o| o.created.clone()).collect();
    expected.extend((0..IMPORTED).map(|i| format!("imported-{i}")));
    let present = slugs(&app, "SELECT slug FROM organizations").await;
    let missing: Vec<_> = expected.iter().filter(|s| !present.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged creates missing: {missing:?}"
    );
    assert_eq!(
        expected.len(),
        23 * ROUNDS + IMPORTED,
        "8 + 7 creating writers, 8 linking, 1 import"
    );

    // The contended organization went through each acknowledged rename exactly once, and no
    // refused one left a trace: its version counts the acknowledged ones, and its name is the
    // last of them.
    let mut renames: Vec<(i64, String)> = outcomes.iter().flat_map(|o| o.renames.clone()).collect();
    renames.sort();
    let versions: Vec<i64> = renames.iter().map(|(v, _)| *v).collect();
    let expected_versions: Vec<i64> = (1..=renames.len() as i64)
        .map(|k| first_version + k)
        .collect();
    assert_eq!(
        versions, expected_versions,
        "each acknowledged rename made one version"
    );
    let now = app
        .data(
            r#"{ organization(by: {slug: "waipa"}) { name version } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        now["organization"]["version"],
        first_version + renames.len() as i64
    );
    let last = renames
        .last()
        .map(|(_, name)| name.as_str())
        .unwrap_or_default();
    assert_eq!(now["organization"]["name"], last);
    let refused: Vec<String> = outcomes.iter().flat_map(|o| o.conflicts.clone()).collect();
    assert_eq!(renames.len() + refused.len(), 8 * ROUNDS);

    // Each link change holds: the parties that stayed are parties, those that left are not.
    let parties = slugs(
        &app,
        "SELECT o.slug FROM agreement_parties p JOIN organizations o ON o.id = p.organization_id \
         JOIN agreements a ON a.id = p.agreement_id WHERE a.slug = 'ilo-ohchr-partnership'",
    )
    .await;
    for (slug, stays) in outcomes.iter().flat_map(|o| o.parties.clone()) {
        assert_eq!(
            parties.contains(&slug),
            stays,
            "{slug} should be a party: {stays}"
        );
    }
}
