//! The container files, checked with what runs here (no container engine): the compose file's
//! services, order and health checks, and that every command they run is one the binary accepts.

use clap::Parser;
use partnerships::cli::Cli;
use serde_json::Value;

fn compose() -> Value {
    let text = std::fs::read_to_string("docker-compose.yml")
        .unwrap_or_else(|e| panic!("reading docker-compose.yml: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parsing docker-compose.yml: {e}"))
}

fn command(service: &Value) -> Vec<String> {
    service["command"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_runs_postgres_then_migrations_and_seed_then_the_api_with_health_checks() {
    let compose = compose();
    let services = &compose["services"];
    let (db, migrate, app) = (&services["db"], &services["migrate"], &services["app"]);
    assert!(
        db["image"]
            .as_str()
            .unwrap_or_default()
            .starts_with("postgres:15")
    );
    assert!(db["healthcheck"]["test"].to_string().contains("pg_isready"));
    assert_eq!(
        migrate["depends_on"]["db"]["condition"], "service_healthy",
        "migrations wait for a healthy database"
    );
    assert_eq!(
        app["depends_on"]["migrate"]["condition"], "service_completed_successfully",
        "the API starts once the data is in"
    );
    assert!(app["healthcheck"]["test"].to_string().contains("/readyz"));
    for (name, service) in [("migrate", migrate), ("app", app)] {
        assert!(
            service["environment"]["DATABASE_URL"]
                .as_str()
                .is_some_and(|url| url.starts_with("postgres://") && url.contains("@db:5432/")),
            "{name} talks to the db service"
        );
        let args = command(service);
        assert!(!args.is_empty(), "{name} has a command");
        let argv = std::iter::once("partnerships".to_owned()).chain(args.clone());
        if let Err(err) = Cli::try_parse_from(argv) {
            panic!(
                "{name}: `partnerships {}` is refused: {err}",
                args.join(" ")
            );
        }
    }
    assert_eq!(command(migrate)[..2], ["seed", "--migrate"]);
}

#[test]
fn the_image_is_built_in_stages_and_runs_as_a_user() {
    let dockerfile =
        std::fs::read_to_string("Dockerfile").unwrap_or_else(|e| panic!("reading Dockerfile: {e}"));
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap_or_else(|| panic!("the runtime stage names a user"));
    assert_ne!(user.trim(), "root");
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/readyz"));
    let ignored = std::fs::read_to_string(".dockerignore").unwrap_or_default();
    for path in [
        "target/",
        ".git/",
        "tests/clients/node_modules/",
        "tests/browser/node_modules/",
        "web/node_modules/",
    ] {
        assert!(
            ignored.lines().any(|l| l == path),
            "{path} stays out of the build context"
        );
    }
}
