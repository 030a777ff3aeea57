//! The fuzz test: random schema-valid queries and mutations (hypothesis-graphql, run by
//! `tests/fuzz/fuzz.py`) against a server on the seed plus generated records, with editor and
//! admin tokens so mutations and the audit log run too (each test has a throwaway database).
//! No response may be a 5xx but a coded 503, every error has `extensions.code`, no message
//! names SQL, tables, constraints or source files, and the server still answers `/healthz` at
//! the end. The seed is fixed and the examples bounded, so a run is reproducible and takes
//! seconds. `scripts/test` installs the fuzzer into `tests/fuzz/.venv`.
//!
//! To fuzz a running server by hand (longer, another seed):
//! `tests/fuzz/.venv/bin/python tests/fuzz/fuzz.py --url http://127.0.0.1:8080 --token $TOKEN
//! --examples 200 --mutation-examples 100 --budget 600 --seed 7`

use std::{path::Path, process::Command};

use partnerships::{auth::Role, generate};
use serde_json::Value;

use crate::helpers::{TestApp, auth_settings, spawn_app_with_auth, spawn_embedded_app_with, token};

/// Runs the fuzzer against `app` and asserts it found nothing.
/// `examples` per Query root field, `mutation_examples` per Mutation root field.
async fn fuzz(app: &TestApp, store: &str, examples: u32, mutation_examples: u32) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("tests/fuzz/.venv/bin/python");
    assert!(
        python.is_file(),
        "the fuzzer is not installed ({} is missing): run scripts/test (it makes the venv with \
         `pip install -r tests/fuzz/requirements.txt`)",
        python.display()
    );
    // Records beyond the seed, so lists page, filters match and nested fields have rows.
    generate::run(
        &app.store.connection,
        generate::Options {
            scale: 0.01,
            seed: 19,
            progress: false,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("generating: {e:#}"));

    let script = root.join("tests/fuzz/fuzz.py");
    let schema = root.join("schema.graphql");
    let url = app.address.clone();
    let editor = token(Role::Editor, "fuzz");
    let admin = token(Role::Admin, "fuzz-admin");
    // The fuzzer is a blocking process; run it off the runtime thread so the server answers.
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(["--url", &url, "--token", &editor, "--admin-token", &admin])
            .arg("--schema")
            .arg(schema)
            .args(["--seed", "19", "--budget", "90"])
            .args(["--examples", &examples.to_string()])
            .args(["--mutation-examples", &mutation_examples.to_string()])
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("running the fuzzer: {e}"));

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report ({e}); stdout: {stdout}; stderr: {stderr}"));
    eprintln!(
        "fuzz ({store}): {} examples, {} requests over {} root fields in {} s",
        report["examples"], report["requests"], report["fields"], report["seconds"]
    );
    assert!(
        output.status.success() && report["ok"] == Value::Bool(true),
        "the fuzzer found failures on {store}:\n{stderr}\n{report:#}"
    );
    assert!(
        report["examples"].as_u64().unwrap_or_default() >= 100,
        "the fuzzer ran: {report:#}"
    );
    if report["fields_skipped_for_time"] != 0 {
        eprintln!(
            "fuzz ({store}): the time budget ran out before {} root fields",
            report["fields_skipped_for_time"]
        );
    }
}

#[tokio::test]
async fn fuzzed_operations_on_postgres_get_coded_errors_and_no_leaks() {
    let app = spawn_app_with_auth().await;
    fuzz(&app, "PostgreSQL", 20, 8).await;
}

#[tokio::test]
async fn fuzzed_operations_on_sqlite_get_coded_errors_and_no_leaks() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    fuzz(&app, "SQLite", 10, 4).await;
}
