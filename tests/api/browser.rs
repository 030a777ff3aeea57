//! The web pages in a real browser: `tests/browser/run.mjs` drives Debian's Chromium (headless,
//! through playwright-core) against the running server, refusing every request that is not to
//! the server's origin. GraphiQL and Playground load and run their first example; the explorer
//! finds WAIPA, draws its network with the ILO and UNCTAD in it, lists what a link shares,
//! re-centres on a click and shows a timeline and a path; each page carries its CSP, and any
//! console error, page error, failed request or request off the origin fails the test.
//! Screenshots go to `target/browser-artifacts/<store>/`. `scripts/test` installs Chromium and
//! the Node project (`npm ci --prefix tests/browser`).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::helpers::{TestApp, spawn_app, spawn_embedded_app};

/// One browser at a time: two Chromiums on a two-core machine slow each other past the
/// checks' timeouts.
static BROWSER: Mutex<()> = Mutex::const_new(());

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// `target/browser-artifacts/<store>` (next to cargo's own `tmp`, so a custom target folder is
/// respected).
fn artifacts(store: &str) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .unwrap_or(tmp)
        .join("browser-artifacts")
        .join(store)
}

async fn the_pages_work_offline_in_chromium(app: TestApp, store: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/browser is not installed: run scripts/test (it runs `npm ci --prefix tests/browser`)"
    );
    assert!(
        chromium().is_file(),
        "no Chromium at {}: run scripts/test (it installs Debian's chromium) or set CHROMIUM",
        chromium().display()
    );
    let _one_at_a_time = BROWSER.lock().await;
    let address = app.address.clone();
    let out = artifacts(store);
    // The browser talks to the server on this test's runtime: wait for Node off its thread.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("run.mjs"))
            .arg(&address)
            .arg(&out)
            .env("CHROMIUM", chromium())
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("running node: {e}"));

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report ({e}); stdout: {stdout}; stderr: {stderr}"));
    assert_eq!(
        report["offOrigin"],
        serde_json::json!([]),
        "no request leaves the server's origin ({store}): {report:#}"
    );
    assert_eq!(
        report["failures"],
        serde_json::json!([]),
        "every browser check passes ({store}): {report:#}\n{stderr}"
    );
    assert!(
        output.status.success(),
        "the browser run failed ({store}): {report:#}\n{stderr}"
    );
    let passed = report["passed"].as_array().map_or(0, Vec::len);
    assert!(passed >= 20, "the checks ran ({store}): {report:#}");
    drop(app);
}

#[tokio::test]
async fn the_pages_work_offline_in_chromium_on_the_embedded_store() {
    the_pages_work_offline_in_chromium(spawn_embedded_app().await, "sqlite").await;
}

#[tokio::test]
async fn the_pages_work_offline_in_chromium_on_postgresql() {
    the_pages_work_offline_in_chromium(spawn_app().await, "postgresql").await;
}
