//! The binary itself: bad configuration is one clear line and a failure, never a panic; the
//! seed and export-schema commands do what they say.

use std::process::{Command, Output};

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
    let cases: [Case; 3] = [
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
    ];
    for (reason, args, env, expected) in cases {
        let output = partnerships(args, env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{reason}: should fail");
        assert!(stderr.contains(expected), "{reason}: stderr was {stderr}");
        assert!(!stderr.contains("panicked"), "{reason}: panicked: {stderr}");
    }
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
    assert_eq!(created(&second_out, "organizations"), 0, "{second_out}");
}
