//! The web pages over HTTP: each page carries a Content-Security-Policy that allows its own
//! origin only, links nothing elsewhere, and every asset it links is served from the binary
//! with its media type and cache headers. (`browser.rs` loads them in Chromium.)

use std::path::Path;

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, sorted, spawn_app, spawn_app_with, spawn_embedded_app};

/// The pages, with the Accept header a browser sends.
const PAGES: [&str; 3] = ["/graphql", "/playground", "/explore"];

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}{path}", app.address))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The `/assets/…` URLs a page links with `src="…"` or `href="…"`.
fn asset_links(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| html.split(attribute).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|target| target.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_page_allows_only_its_own_origin_and_loads_only_embedded_assets() {
    let app = spawn_embedded_app().await;
    for path in PAGES {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/html; charset=utf-8",
            "{path}"
        );
        let csp = header_of(&response, header::CONTENT_SECURITY_POLICY).to_owned();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for required in [
            "default-src 'self'",
            "script-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                directives.contains(&required),
                "{path}: the policy has {required}: {csp}"
            );
        }
        for refused in ["http:", "https:", "*", "'unsafe-eval'"] {
            assert!(
                !csp.contains(refused),
                "{path}: the policy allows nothing like {refused}: {csp}"
            );
        }
        assert_eq!(
            header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
        let html = response.text().await.unwrap_or_default();
        for elsewhere in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
            "<script>",
        ] {
            assert!(
                !html.contains(elsewhere),
                "{path}: no {elsewhere} in the page (no other origin, no inline script)"
            );
        }
        let links = asset_links(&html);
        assert!(links.len() >= 2, "{path} links its scripts: {links:?}");
        for link in links {
            let asset = get(&app, &link, &[]).await;
            assert_eq!(asset.status(), StatusCode::OK, "{path} links {link}");
            let media = header_of(&asset, header::CONTENT_TYPE);
            let expected = match link.split('?').next().and_then(|p| p.rsplit('.').next()) {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("png") => "image/png",
                other => panic!("{path} links {link}, of an unexpected kind {other:?}"),
            };
            assert_eq!(media, expected, "{link}");
            assert_eq!(
                header_of(&asset, header::CACHE_CONTROL),
                "public, max-age=31536000, immutable",
                "{link}: a versioned URL never changes"
            );
        }
    }
}

#[tokio::test]
async fn assets_are_revalidated_by_their_etag_and_unknown_ones_are_not_found() {
    let app = spawn_embedded_app().await;
    let path = "/assets/vendor/react/react.production.min.js";
    let plain = get(&app, path, &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        header_of(&plain, header::CACHE_CONTROL),
        "no-cache",
        "without the version the file is revalidated"
    );
    let etag = header_of(&plain, header::ETAG).to_owned();
    assert!(etag.len() == 18 && etag.starts_with('"'), "{etag}");
    let body = plain.bytes().await.unwrap_or_default();
    let on_disk = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("web/assets/vendor/react/react.production.min.js"),
    )
    .unwrap_or_default();
    assert_eq!(
        body.as_ref(),
        on_disk.as_slice(),
        "the embedded file is the committed one"
    );

    let held = get(&app, path, &[("If-None-Match", &etag)]).await;
    assert_eq!(held.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header_of(&held, header::ETAG), etag);

    let stale = get(&app, &format!("{path}?v=0000000000000000"), &[]).await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(
        header_of(&stale, header::CACHE_CONTROL),
        "no-cache",
        "another version's URL is not cached for a year"
    );

    for missing in [
        "/assets/vendor/react/missing.js",
        "/assets/vendor/..%2F..%2FCargo.toml",
        "/assets/",
    ] {
        let response = get(&app, missing, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    let licence = get(&app, "/assets/vendor/graphiql/LICENSE", &[]).await;
    assert_eq!(licence.status(), StatusCode::OK);
    assert!(
        licence
            .text()
            .await
            .unwrap_or_default()
            .contains("MIT License"),
        "the licences are served with the libraries"
    );
}

#[tokio::test]
async fn with_graphiql_off_the_ides_are_gone_and_the_explorer_stays() {
    let app = spawn_app_with(|s| s.http.graphiql = false).await;
    for (path, status) in [
        ("/graphql", StatusCode::NOT_FOUND),
        ("/playground", StatusCode::NOT_FOUND),
        ("/explore", StatusCode::OK),
    ] {
        assert_eq!(get(&app, path, &[]).await.status(), status, "{path}");
    }
}

/// The explorer's operations as the page sends them: the text of its `explore-*` examples with
/// variables.
fn explorer_requests() -> Vec<(&'static str, serde_json::Value)> {
    let text = |name: &str| {
        partnerships::http::EXAMPLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, q)| *q)
            .unwrap_or_else(|| panic!("no example {name}"))
    };
    vec![
        (
            text("explore-search"),
            json!({ "query": "WAIPA", "first": 10 }),
        ),
        (
            text("explore-network"),
            json!({ "slug": "ilo", "depth": 2, "via": ["AGREEMENT", "EVENT"] }),
        ),
        (
            text("explore-timeline"),
            json!({ "slug": "ilo", "first": 100, "after": null }),
        ),
        (
            text("explore-connection"),
            json!({ "from": "ilo", "to": "waipa", "maxHops": 1, "first": 1 }),
        ),
    ]
}

#[tokio::test]
async fn the_explorer_s_operations_pass_an_allow_list_of_the_examples() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let app = spawn_app_with(|s| s.graphql.persisted_operations_dir = Some(examples)).await;
    for (query, variables) in explorer_requests() {
        let body = app.graphql(query, variables.clone()).await;
        assert!(
            body.get("errors").is_none(),
            "allowed and answered with {variables}: {body:#}"
        );
    }
    let other = app
        .graphql("{ organizations { totalCount } }", json!({}))
        .await;
    assert_eq!(
        other["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "the list is really on: {other:#}"
    );
}

#[tokio::test]
async fn the_explorer_s_network_filters_by_kind_and_refuses_a_bad_depth() {
    let app = spawn_app().await;
    let network = explorer_requests()[1].0;
    let through_projects = app
        .graphql(
            network,
            json!({ "slug": "waipa", "depth": 1, "via": ["PROJECT"] }),
        )
        .await;
    let links = through_projects["data"]["organization"]["network"]["links"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !links.is_empty()
            && links
                .iter()
                .all(|l| l["kinds"] == json!(["PROJECT"]) && l["agreements"] == 0),
        "only project links: {through_projects:#}"
    );
    let through_events = app
        .graphql(
            network,
            json!({ "slug": "waipa", "depth": 1, "via": ["EVENT"] }),
        )
        .await;
    assert_eq!(
        sorted(
            &through_events["data"]["organization"]["network"]["nodes"],
            "/organization/acronym"
        ),
        ["ILO", "UNCTAD", "WAIPA"],
        "WAIPA holds events with these two only: {through_events:#}"
    );
    let too_deep = app
        .graphql(network, json!({ "slug": "waipa", "depth": 4 }))
        .await;
    assert_eq!(
        too_deep["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "the page shows this message: {too_deep:#}"
    );
}
