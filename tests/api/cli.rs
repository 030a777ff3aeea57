//! The binary itself: bad configuration is one clear line and a failure, never a panic; the
//! seed and export-schema commands do what they say.

use std::process::{Command, Output};

use partnerships::config::DatabaseUrl;

use crate::helpers::{TestDb, seed_file};

fn partnerships(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_partnerships"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env("LOG_LEVEL", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("running partnerships: {e}"))
}

#[test]
fn invalid_configuration_is_a_clear_error_and_a_failure() {
    /// Why the configuration is bad, the arguments, the environment, and what stderr must say.
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: [Case; 5] = [
        (
            "a port that is not a number",
            &["serve", "--port", "eighty"],
            &[],
            "invalid value 'eighty'",
        ),
        (
            "a database of another kind",
            &["migrate", "status"],
            &[("DATABASE_URL", "mysql://localhost/x")],
            "DATABASE_URL",
        ),
        (
            "a URL that does not parse",
            &["migrate", "status"],
            &[("DATABASE_URL", "not a url")],
            "Failed to parse DATABASE_URL",
        ),
        (
            "a seed file that is not there",
            &["serve"],
            &[("SEED_FILE", "no/such/dataset.yaml")],
            "Failed to read the dataset file no/such/dataset.yaml named by SEED_FILE",
        ),
        (
            "a CORS origin with a path",
            &["serve"],
            &[("CORS_ALLOWED_ORIGINS", "https://app.example.org/graphql")],
            "is not an origin",
        ),
    ];
    for (reason, args, env, expected) in cases {
        let output = partnerships(args, env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{reason}: should fail");
        assert!(stderr.contains(expected), "{reason}: stderr was {stderr}");
        assert!(!stderr.contains("panicked"), "{reason}: panicked: {stderr}");
    }
}

/// The release binary copied anywhere: no checkout beside it, no environment at all.
#[tokio::test]
async fn the_binary_started_in_an_empty_directory_with_no_environment_serves_the_ilo_data() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("partnerships-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerships"))
        .args(["--port", "0"])
        .current_dir(&dir)
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting partnerships: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    // The log line that names the address (the port is the system's pick).
    let address = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        lines.find_map(|line| {
            let line = line.ok()?;
            let start = line.find("http://127.0.0.1:")?;
            let rest = &line[start..];
            let end = rest.find("/graphql")?;
            Some(rest[..end].to_owned())
        })
    });
    let address = tokio::time::timeout(std::time::Duration::from_secs(60), address)
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let Some(address) = address else {
        let _ = child.kill();
        let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        panic!(
            "it did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .json(&serde_json::json!({
            "query": r#"{ organization(by: {slug: "waipa"}) { acronym agreements(first: 5) { totalCount } } }"#
        }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(body["data"]["organization"]["acronym"], "WAIPA", "{body:#}");
    assert!(
        dir.join("data/partnerships.db").exists(),
        "the SQLite file is made relative to the working directory"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_schema_prints_the_sdl() {
    let output = partnerships(&["export-schema", "--output", "-"], &[]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        partnerships::graphql::sdl()
    );
}

#[tokio::test]
async fn the_seed_command_migrates_loads_and_then_finds_nothing_to_do() {
    let test_db = TestDb::empty().await;
    let file = seed_file();
    let file = file.to_str().unwrap_or_default();
    let env = [("DATABASE_URL", test_db.url.as_str())];

    let first = partnerships(&["seed", "--migrate", file], &env);
    let second = partnerships(&["seed", file], &env);

    let first_out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let created = |out: &str, table: &str| -> u64 {
        out.lines()
            .find(|l| l.starts_with(table))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {table} line in {out}"))
    };
    assert!(created(&first_out, "organizations") >= 20, "{first_out}");
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    // Every row of the report (after its header): name, created, updated, unchanged, removed.
    let rows: Vec<Vec<&str>> = second_out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|cols: &Vec<&str>| !cols.is_empty())
        .collect();
    assert_eq!(rows.len(), 7, "one row per kind of record: {second_out}");
    for row in rows {
        assert_eq!(row.len(), 5, "{second_out}");
        let (created, updated, removed) = (row[1], row[2], row[4]);
        assert_eq!(
            (created, updated, removed),
            ("0", "0", "0"),
            "the second seed changed {}:\n{second_out}",
            row[0]
        );
    }
}

/// A DATABASE_URL with a password, and the password, which must never be printed.
const SECRET_URL: (&str, &str) = ("postgres://u:S3cretPW@h/db", "S3cretPW");

#[test]
fn help_does_not_print_the_database_password() {
    let (url, password) = SECRET_URL;
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["seed", "--help"],
    ] {
        let output = partnerships(args, &[("DATABASE_URL", url)]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(
            stdout.contains("DATABASE_URL"),
            "{args:?} names the variable: {stdout}"
        );
        for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(password),
                "{args:?} printed the password on {name}: {text}"
            );
        }
    }
}

#[test]
fn a_malformed_database_url_is_refused_without_echoing_it() {
    let password = "S3cretPW";
    for (reason, url) in [
        (
            "a port that is not a number",
            "postgres://u:S3cretPW@h:port/db",
        ),
        ("a space in the host", "postgres://u:S3cretPW@h st/db"),
        ("another kind of database", "mysql://u:S3cretPW@h/db"),
    ] {
        let output = partnerships(&["migrate", "status"], &[("DATABASE_URL", url)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{reason}: should fail");
        assert!(
            stderr.contains("DATABASE_URL"),
            "{reason}: stderr was {stderr}"
        );
        assert!(
            !stderr.contains(password),
            "{reason}: echoed the URL: {stderr}"
        );
        assert!(
            !stdout.contains(password),
            "{reason}: echoed the URL: {stdout}"
        );
    }
}

#[test]
fn a_database_url_shows_without_its_passwords() {
    let url: DatabaseUrl =
        "postgres://u:S3cretPW@h/db?sslmode=require&password=Qu3ryPW&sslpassword=KeyPW&application_name=api"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));

    for shown in [url.to_string(), format!("{url:?}")] {
        for secret in ["S3cretPW", "Qu3ryPW", "KeyPW"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        for kept in [
            "postgres://u:",
            "@h/db",
            "sslmode=require",
            "application_name=api",
        ] {
            assert!(shown.contains(kept), "{kept} missing from {shown}");
        }
    }
    assert!(
        url.as_str().contains("Qu3ryPW"),
        "the connection itself still gets the real URL"
    );
}

/// `scripts/test` with stand-ins for the PostgreSQL tools: a cluster that says it is online but
/// never accepts connections. `cargo`, `su` and `sudo` are stand-ins too, so that a script that
/// went on regardless could not recurse into the test suite.
#[test]
fn the_test_script_says_where_to_look_when_postgres_never_becomes_ready() {
    use std::os::unix::fs::PermissionsExt;

    let bin = std::env::temp_dir().join(format!(
        "partnerships-test-bin-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let stubs = [
        ("pg_ctlcluster", "exit 0"),
        (
            "pg_lsclusters",
            "echo '15 main 5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log'",
        ),
        ("pg_isready", "exit 2"),
        ("sleep", "exit 0"),
        ("cargo", "echo 'cargo must not run' >&2; exit 99"),
        ("su", "echo 'su must not run' >&2; exit 98"),
        ("sudo", "echo 'sudo must not run' >&2; exit 97"),
    ];
    for (name, body) in stubs {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let output = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test"))
        .env_remove("TEST_DATABASE_URL")
        .env_remove("PG_LOG_DIR")
        .env("PATH", path)
        .env("PG_VERSION", "15")
        .env("PG_CLUSTER", "main")
        .output()
        .unwrap_or_else(|e| panic!("running scripts/test: {e}"));
    let _ = std::fs::remove_dir_all(&bin);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr was {stderr}");
    assert!(stderr.contains("did not become ready"), "{stderr}");
    assert!(stderr.contains("/var/log/postgresql"), "{stderr}");
    assert!(!stderr.contains("must not run"), "{stderr}");
}
