//! GraphQL over HTTP: media types, status codes and transport errors, as the
//! GraphQL-over-HTTP specification and real clients expect them.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, spawn_app, spawn_app_with};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post(
    app: &TestApp,
    accept: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, String, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(header::ACCEPT, accept)
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status();
    let media = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("every answer is JSON ({status}): {e}"));
    (status, media, body)
}

fn query(text: &str) -> String {
    json!({ "query": text }).to_string()
}

#[tokio::test]
async fn status_codes_follow_the_accepted_media_type() {
    let app = spawn_app().await;
    let cases = [
        (
            "a valid query",
            GRAPHQL_RESPONSE,
            query("{ organizations(first: 1) { totalCount } }"),
            StatusCode::OK,
            None,
        ),
        (
            "a parse error, new clients",
            GRAPHQL_RESPONSE,
            query("{ organizations {"),
            StatusCode::BAD_REQUEST,
            Some("GRAPHQL_PARSE_FAILED"),
        ),
        (
            "a parse error, legacy clients",
            "application/json",
            query("{ organizations {"),
            StatusCode::OK,
            Some("GRAPHQL_PARSE_FAILED"),
        ),
        (
            "a validation error, new clients",
            GRAPHQL_RESPONSE,
            query("{ budget }"),
            StatusCode::BAD_REQUEST,
            Some("GRAPHQL_VALIDATION_FAILED"),
        ),
        (
            "a limit, new clients",
            GRAPHQL_RESPONSE,
            query(&format!(
                "{{ {} }}",
                (0..31)
                    .map(|i| format!("a{i}: __typename"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            StatusCode::BAD_REQUEST,
            Some("QUERY_TOO_COMPLEX"),
        ),
        (
            "an execution error, new clients",
            GRAPHQL_RESPONSE,
            query("{ organizations(first: 1000) { totalCount } }"),
            StatusCode::OK,
            Some("BAD_USER_INPUT"),
        ),
        (
            "no Accept at all",
            "",
            query("{ organizations(first: 1) { totalCount } }"),
            StatusCode::OK,
            None,
        ),
    ];
    for (reason, accept, body, status, code) in cases {
        let (got, media, json) = post(&app, accept, "application/json", body).await;
        assert_eq!(got, status, "{reason}: {json:#}");
        let expected_media = if accept == GRAPHQL_RESPONSE {
            GRAPHQL_RESPONSE
        } else {
            "application/json"
        };
        assert!(
            media.starts_with(expected_media),
            "{reason}: answered in {media}"
        );
        match code {
            Some(code) => {
                assert_eq!(error_codes(&json), [code], "{reason}");
                if code != "BAD_USER_INPUT" {
                    assert!(
                        json.get("data").is_none(),
                        "{reason}: a request that never ran has no data entry"
                    );
                }
            }
            None => assert!(
                json.get("errors").is_none() && json["data"].is_object(),
                "{reason}: {json:#}"
            ),
        }
    }
}

#[tokio::test]
async fn transport_errors_are_4xx_in_the_graphql_error_shape() {
    let app = spawn_app().await;
    let big = json!({ "query": "{ __typename }", "variables": { "pad": "x".repeat(300 * 1024) } })
        .to_string();
    let cases = [
        (
            "an unsupported media type",
            GRAPHQL_RESPONSE,
            "text/plain",
            query("{ __typename }"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "malformed JSON",
            GRAPHQL_RESPONSE,
            "application/json",
            "{ \"query\": ".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "JSON without a query",
            GRAPHQL_RESPONSE,
            "application/json",
            "{ \"variables\": {} }".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a batch",
            "application/json",
            "application/json",
            format!("[{}]", query("{ __typename }")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a body over the limit",
            GRAPHQL_RESPONSE,
            "application/json",
            big,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "an Accept the server cannot give",
            "text/plain",
            "application/json",
            query("{ __typename }"),
            StatusCode::NOT_ACCEPTABLE,
        ),
    ];
    for (reason, accept, content_type, body, status) in cases {
        let (got, _, json) = post(&app, accept, content_type, body).await;
        assert_eq!(got, status, "{reason}: {json:#}");
        assert_eq!(error_codes(&json), ["BAD_REQUEST"], "{reason}: {json:#}");
        assert!(
            json["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn get_answers_queries_and_refuses_mutations() {
    let app = spawn_app().await;
    let get = |params: Vec<(&'static str, String)>| {
        let request = app
            .client
            .get(format!("{}/graphql", app.address))
            .header(header::ACCEPT, GRAPHQL_RESPONSE)
            .query(&params);
        async move { request.send().await.unwrap_or_else(|e| panic!("{e}")) }
    };

    let ok = get(vec![
        (
            "query",
            "query ($slug: String!) { organization(by: { slug: $slug }) { acronym } }".into(),
        ),
        ("variables", json!({ "slug": "ilo" }).to_string()),
    ])
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap_or_default();
    assert_eq!(body["data"]["organization"]["acronym"], "ILO");

    let mutation = get(vec![(
        "query",
        "mutation { createOrganization { id } }".into(),
    )])
    .await;
    assert_eq!(mutation.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        mutation
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    let chosen_mutation = get(vec![
        ("query", "query Q { __typename } mutation M { x }".into()),
        ("operationName", "M".into()),
    ])
    .await;
    assert_eq!(
        chosen_mutation.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "the selected operation decides"
    );

    for (reason, params) in [
        ("no query", vec![("operationName", "Q".to_owned())]),
        (
            "variables that are not an object",
            vec![
                ("query", "{ __typename }".to_owned()),
                ("variables", "[1]".to_owned()),
            ],
        ),
    ] {
        let response = get(params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{reason}");
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(error_codes(&body), ["BAD_REQUEST"], "{reason}");
    }
}

#[tokio::test]
async fn get_never_writes_whatever_names_or_persists_the_mutation() {
    use partnerships::{auth::Role, graphql::persisted::sha256_hex};

    let app = crate::helpers::spawn_app_with_auth().await;
    let editor = crate::helpers::token(Role::Editor, "get-tester");
    let create = |slug: &str| {
        format!(
            "mutation M {{ createOrganization(input: {{ slug: \"{slug}\", name: \"Over GET\", kind: OTHER }}) {{ created }} }}"
        )
    };
    let get = |params: Vec<(&'static str, String)>| {
        let request = app
            .client
            .get(format!("{}/graphql", app.address))
            .header(header::ACCEPT, GRAPHQL_RESPONSE)
            .bearer_auth(&editor)
            .query(&params);
        async move { request.send().await.unwrap_or_else(|e| panic!("{e}")) }
    };

    // A named mutation, the only operation of its document, without operationName.
    let named = get(vec![("query", create("via-get"))]).await;
    assert_eq!(named.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        named
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    // A mutation registered as an automatic persisted query (by a POST that ran it), then
    // sent over GET by its hash alone.
    let text = create("via-apq");
    let hash = sha256_hex(&text);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let registered = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&editor)
        .json(&json!({ "query": text, "extensions": extensions }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let body: Value = registered.json().await.unwrap_or_default();
    assert_eq!(
        body["data"]["createOrganization"]["created"], true,
        "{body:#}"
    );
    let by_hash = get(vec![("extensions", extensions.to_string())]).await;
    assert_eq!(by_hash.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = by_hash.json().await.unwrap_or_default();
    assert_eq!(error_codes(&body), ["BAD_REQUEST"], "{body:#}");

    let stored = app
        .data(
            "{ a: organization(by: { slug: \"via-get\" }) { id } organizations(filter: { slug: { eq: \"via-apq\" } }) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(stored["a"].is_null(), "the GET mutation created nothing");
    assert_eq!(
        stored["organizations"]["totalCount"], 1,
        "only the POST created its record"
    );
}

/// What a raw HTTP/1.1 client sends after the head of a request.
#[derive(Clone, Copy, Debug)]
enum Body {
    /// Nothing at all: the declared body never comes.
    Silence,
    /// One byte every `.0` milliseconds, for ever.
    Trickle(u64),
}

/// Sends `head` on a fresh connection, then `body`; returns how long the answer took, the
/// answer (its head and body, read up to its Content-Length or the connection's end; what
/// arrived within `patience`) and whether the server closed the connection after it.
async fn raw_exchange(
    app: &TestApp,
    head: &str,
    body: Body,
    patience: std::time::Duration,
) -> (std::time::Duration, String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connecting to {address}: {e}"));
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("sending the head: {e}"));
    let started = std::time::Instant::now();
    let sender = tokio::spawn(async move {
        if let Body::Trickle(every_ms) = body {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(every_ms)).await;
                if writer.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        // Keep the connection's writing half open.
        std::future::pending::<()>().await;
    });
    let mut answer = Vec::new();
    let read = async {
        let mut buffer = [0u8; 4096];
        loop {
            let Ok(n) = reader.read(&mut buffer).await else {
                return;
            };
            if n == 0 {
                return;
            }
            answer.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&answer).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if length.is_some_and(|length| answer.len() >= end + 4 + length) {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(patience, read).await;
    let elapsed = started.elapsed();
    // Whether the server then closes the connection (within a second).
    let mut rest = [0u8; 64];
    let closed = matches!(
        tokio::time::timeout(std::time::Duration::from_secs(1), reader.read(&mut rest)).await,
        Ok(Ok(0) | Err(_))
    );
    sender.abort();
    (
        elapsed,
        String::from_utf8_lossy(&answer).into_owned(),
        closed,
    )
}

/// The value of the in-flight gauge, which counts the `/metrics` request reading it.
async fn requests_in_flight(app: &TestApp) -> Option<u64> {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("partnerships_http_requests_in_flight "))
        .and_then(|v| v.trim().parse().ok())
}

fn post_head(content_length: u64) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nAccept: {GRAPHQL_RESPONSE}\r\n\
         Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    // 10 GiB declared, not a byte sent.
    let (elapsed, answer, closed) = raw_exchange(
        &app,
        &post_head(10 * 1024 * 1024 * 1024),
        Body::Silence,
        std::time::Duration::from_secs(5),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "413 for a declared length over MAX_BODY_BYTES, got after {elapsed:?}: {answer:?}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(1),
        "refused at once, not after {elapsed:?}"
    );
    assert!(
        answer.contains("\"BAD_REQUEST\""),
        "the GraphQL error shape: {answer}"
    );
    assert!(closed, "the connection of the unread body is closed");
    assert_eq!(
        requests_in_flight(&app).await,
        Some(1),
        "only the /metrics request itself is in flight"
    );
}

#[tokio::test]
async fn a_body_not_sent_within_the_body_timeout_is_answered_408() {
    let app = spawn_app_with(|s| s.http.client_body_timeout_secs = 1).await;
    for (reason, body) in [
        ("a declared body never sent", Body::Silence),
        ("a body trickling one byte every 200 ms", Body::Trickle(200)),
    ] {
        let (elapsed, answer, closed) = raw_exchange(
            &app,
            &post_head(1_000),
            body,
            std::time::Duration::from_secs(6),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "{reason}: 408 after CLIENT_BODY_TIMEOUT_SECS, got after {elapsed:?}: {answer:?}"
        );
        assert!(
            elapsed >= std::time::Duration::from_millis(900)
                && elapsed < std::time::Duration::from_secs(3),
            "{reason}: cut after the 1 s timeout, not after {elapsed:?}"
        );
        assert!(answer.contains("\"BAD_REQUEST\""), "{reason}: {answer}");
        assert!(closed, "{reason}: the connection is closed");
        assert_eq!(
            requests_in_flight(&app).await,
            Some(1),
            "{reason}: the cut request is no longer in flight"
        );
    }
    // A body sent in time is still read.
    let (status, _, body) = post(
        &app,
        GRAPHQL_RESPONSE,
        "application/json",
        query("{ organization(by: { slug: \"ilo\" }) { acronym } }"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["organization"]["acronym"], "ILO");
}
