//! Real clients against the running server: the GraphQL-over-HTTP audit suite of the
//! `graphql-http` package, Apollo Client, urql (queries over GET) and graphql-request, each
//! reading seed facts and seeing error codes; subscriptions over WebSocket with graphql-ws,
//! Apollo's GraphQLWsLink, urql's subscriptionExchange and subscriptions-transport-ws (the
//! legacy protocol), each receiving a change made over HTTP; and TypeScript codegen
//! (graphql-codegen + tsc) over schema.graphql and examples/. The Node.js project is `tests/clients`;
//! `scripts/test` installs it with `npm ci`.

use std::{path::Path, process::Command};

use serde_json::Value;

use partnerships::auth::Role;

use crate::helpers::{spawn_app_with_auth, token};

#[tokio::test]
async fn real_clients_and_the_graphql_over_http_audits_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/clients is not installed: run scripts/test (it runs `npm ci --prefix tests/clients`)"
    );
    let app = spawn_app_with_auth().await;
    let url = format!("{}/graphql", app.address);
    let editor = token(Role::Editor, "client-checks");

    // The checks are asynchronous Node code; run them off the test's runtime thread so the
    // server keeps answering.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("run.mjs"))
            .arg(&url)
            .arg(&editor)
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("running node: {e}"));

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report ({e}); stdout: {stdout}; stderr: {stderr}"));
    eprintln!("graphql-http audits: {}", report["audits"]);
    eprintln!("subscriptions: {}", report["subscriptions"]);
    assert!(
        output.status.success(),
        "client checks failed: {report:#}\n{stderr}"
    );
    let must = &report["audits"]["MUST"];
    assert!(
        must["total"].as_u64().unwrap_or_default() > 0,
        "the audits ran: {report:#}"
    );
    assert_eq!(
        must["passed"], must["total"],
        "every MUST audit passes: {report:#}"
    );
    assert_eq!(
        report["failed"],
        serde_json::json!([]),
        "every SHOULD and MAY audit passes too: {report:#}"
    );
    for client in ["graphql-ws", "apollo", "urql", "subscriptions-transport-ws"] {
        assert_eq!(
            report["subscriptions"][client], true,
            "{client} receives a change over WebSocket: {report:#}"
        );
    }
    assert_eq!(report["subscriptions"]["badTokenClose"], 4403);
}

#[test]
fn typescript_codegen_over_the_schema_and_the_examples_compiles() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/clients is not installed: run scripts/test"
    );
    for (tool, args) in [
        ("graphql-codegen", vec!["--config", "codegen.ts"]),
        ("tsc", vec!["-p", "tsconfig.json"]),
    ] {
        let output = Command::new(dir.join("node_modules/.bin").join(tool))
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"));
        assert!(
            output.status.success(),
            "{tool} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let generated =
        std::fs::read_to_string(dir.join("generated/operations.ts")).unwrap_or_default();
    for operation in [
        "GlobalFrameworkPartiesQuery",
        "EuFundedProjectsQuery",
        "IloNetworkQuery",
    ] {
        assert!(
            generated.contains(operation),
            "a type for {operation} was generated"
        );
    }
}
