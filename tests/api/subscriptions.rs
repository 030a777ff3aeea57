//! Subscriptions over WebSocket (`graphql-transport-ws` and the legacy `graphql-ws`) and the
//! change feed behind them: events for changes made over HTTP, the limits and caps, tokens,
//! resuming with `after`, two instances on one PostgreSQL database, a LISTEN connection killed
//! while writers run, and a subscriber that falls behind. The Node clients (graphql-ws, Apollo,
//! urql, subscriptions-transport-ws) are driven from `clients.rs`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures::{SinkExt, StreamExt};
use partnerships::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::helpers::{
    TestApp, admin, auth_settings, error_codes, pg_ctl, read, restart_server_url, spawn_app_on,
    spawn_app_with, spawn_beside, spawn_embedded_app_with, token,
};

/// The cursor before any change (positions start at 1). Cursors are opaque to clients; the
/// tests know their format to start from the beginning of a fresh database's log.
fn origin() -> String {
    URL_SAFE_NO_PAD.encode("change:0")
}

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

/// How long a test waits for one message before it fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A raw WebSocket client speaking one of the two protocols.
struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    protocol: &'static str,
}

/// What the server did next.
#[derive(Debug)]
enum Got {
    Json(Value),
    Closed(Option<(u16, String)>),
}

impl Ws {
    async fn open(app: &TestApp, protocol: &'static str) -> Self {
        Self::open_at(&app.address, protocol).await
    }

    /// Opens a socket on the server at `address` (`http://host:port`).
    async fn open_at(address: &str, protocol: &'static str) -> Self {
        let url = format!("{}/graphql", address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap_or_else(|e| panic!("{e}"));
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            protocol.parse().unwrap_or_else(|e| panic!("{e}")),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("connecting the WebSocket: {e}"));
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol),
            "the server speaks the protocol asked for"
        );
        Self { socket, protocol }
    }

    /// Opens a socket and initialises it with `payload`; panics unless acknowledged.
    async fn connect(app: &TestApp, protocol: &'static str, payload: Value) -> Self {
        Self::connect_at(&app.address, protocol, payload).await
    }

    async fn connect_at(address: &str, protocol: &'static str, payload: Value) -> Self {
        let mut ws = Self::open_at(address, protocol).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match ws.next().await {
            Got::Json(message) if message["type"] == "connection_ack" => ws,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap_or_else(|e| panic!("sending {message}: {e}"));
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.protocol == TRANSPORT_WS {
            "subscribe"
        } else {
            "start"
        };
        self.send(json!({ "type": kind, "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    async fn complete(&mut self, id: &str) {
        let kind = if self.protocol == TRANSPORT_WS {
            "complete"
        } else {
            "stop"
        };
        self.send(json!({ "type": kind, "id": id })).await;
    }

    /// The text of the next message.
    async fn text(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("nothing from the server within {PATIENCE:?}"));
            match frame {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// The next message or the close, waiting at most `patience`.
    async fn next_within(&mut self, patience: Duration) -> Option<Got> {
        // One deadline for the message, not one per frame: the server's pings come more often
        // than the patience.
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(Got::Json(
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
                    ));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Got::Closed(
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                    ));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Some(Got::Closed(None)),
            }
        }
    }

    async fn next(&mut self) -> Got {
        self.next_within(PATIENCE)
            .await
            .unwrap_or_else(|| panic!("nothing from the server within {PATIENCE:?}"))
    }

    /// The payload of the next `next`/`data` message of operation `id` (panics on anything
    /// else but the legacy protocol's keep-alives).
    async fn payload(&mut self, id: &str) -> Value {
        loop {
            match self.next().await {
                Got::Json(message) if message["type"] == "ka" => {}
                Got::Json(message)
                    if (message["type"] == "next" || message["type"] == "data")
                        && message["id"] == id =>
                {
                    return message["payload"].clone();
                }
                other => panic!("expected a result of {id}, got {other:?}"),
            }
        }
    }

    /// The next change event of subscription `id` (its `changes` object).
    async fn event(&mut self, id: &str) -> Value {
        let payload = self.payload(id).await;
        assert!(
            payload.get("errors").is_none(),
            "unexpected errors: {payload:#}"
        );
        payload["data"]["changes"].clone()
    }

    /// Asserts the server sends nothing more for a while.
    async fn quiet(&mut self, wait: Duration) {
        if let Some(got) = self.next_within(wait).await {
            panic!("expected nothing more, got {got:?}");
        }
    }
}

fn editor() -> String {
    token(Role::Editor, "ada")
}

async fn spawn_app() -> TestApp {
    spawn_app_with(|s| s.auth = auth_settings()).await
}

/// Creates an organization over HTTP (as an editor) and returns its global ID.
async fn create_organization(app: &TestApp, slug: &str, name: &str) -> String {
    let body = app
        .graphql_as(
            &editor(),
            "mutation($s: String!, $n: String!) { createOrganization(input: {slug: $s, name: $n, kind: OTHER}) { record { id } } }",
            json!({ "s": slug, "n": name }),
        )
        .await;
    body["data"]["createOrganization"]["record"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("creating {slug}: {body:#}"))
        .to_owned()
}

/// Renames organization `id` at `version` over HTTP (as an editor).
async fn rename(app: &TestApp, id: &str, version: i64, name: &str) {
    let body = app
        .graphql_as(
            &editor(),
            "mutation($i: ID!, $v: Int!, $n: String!) { updateOrganization(input: {id: $i, version: $v, name: $n}) { record { version } } }",
            json!({ "i": id, "v": version, "n": name }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrganization"]["record"]["version"],
        version + 1,
        "renaming: {body:#}"
    );
}

const ORGANIZATION_CHANGES: &str = r#"subscription($after: String) {
  changes(types: [ORGANIZATION], after: $after) {
    cursor action recordType version
    record { ... on Organization { name } }
  }
}"#;

#[tokio::test]
async fn a_change_made_over_http_reaches_a_subscriber_with_the_record_and_its_nested_fields() {
    let app = spawn_app().await;
    let (gfa, version) = read(&app, "agreement", "ilo-undp-global-framework-of-action").await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe(
        "1",
        r#"subscription($after: String) {
          changes(types: [AGREEMENT], after: $after) {
            action recordType recordId version cursor
            record { ... on Agreement { title parties { nodes { acronym } } } }
          }
        }"#,
        json!({ "after": origin() }),
    )
    .await;

    let body = app
        .graphql_as(
            &editor(),
            "mutation($i: ID!, $v: Int!) { updateAgreement(input: {id: $i, version: $v, title: \"The Global Framework of Action\"}) { record { version } } }",
            json!({ "i": gfa, "v": version }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    let text = ws.text().await;
    // Fields come in the order the subscription asked for them (serde_json sorts keys: read
    // the text).
    let at = |key: &str| {
        text.find(&format!("\"{key}\""))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
    };
    let order: Vec<usize> = [
        "action",
        "recordType",
        "recordId",
        "version",
        "cursor",
        "record",
    ]
    .iter()
    .map(|key| at(key))
    .collect();
    assert!(order.is_sorted(), "fields in the query's order: {text}");
    let message: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let event = message["payload"]["data"]["changes"].clone();
    assert_eq!(event["action"], "UPDATED");
    assert_eq!(event["recordType"], "AGREEMENT");
    assert_eq!(event["recordId"], gfa.as_str());
    assert_eq!(event["version"], version + 1);
    assert_eq!(event["record"]["title"], "The Global Framework of Action");
    let mut parties: Vec<&str> = event["record"]["parties"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{event:#}"))
        .iter()
        .filter_map(|p| p["acronym"].as_str())
        .collect();
    parties.sort_unstable();
    assert_eq!(
        parties,
        ["ILO", "UNDP"],
        "the parties of the Global Framework come through the loaders"
    );
    assert!(event["cursor"].as_str().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_delivers_the_same_events() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, LEGACY_WS, json!({})).await;
    ws.subscribe("a", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    let id = create_organization(&app, "legacy-listener", "Legacy Listener").await;
    let event = ws.event("a").await;
    assert_eq!(event["action"], "CREATED");
    assert_eq!(event["record"]["name"], "Legacy Listener");
    assert_eq!(event["version"], 1);

    // Queries run over the socket too.
    ws.subscribe(
        "q",
        "query($id: ID!) { node(id: $id) { ... on Organization { slug } } }",
        json!({ "id": id }),
    )
    .await;
    let answer = ws.payload("q").await;
    assert_eq!(answer["data"]["node"]["slug"], "legacy-listener");
}

#[tokio::test]
async fn deletes_links_and_restores_are_events_too_and_the_audit_entry_needs_an_admin() {
    let app = spawn_app().await;
    let admin_token = token(Role::Admin, "grace");
    let mut reader = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    let mut admin_ws = Ws::connect(
        &app,
        TRANSPORT_WS,
        json!({ "Authorization": format!("Bearer {admin_token}") }),
    )
    .await;
    let query = r#"subscription($after: String) {
      changes(after: $after) { action recordType record { ... on Organization { name } } linkType linkRole linkedRecord { ... on Organization { acronym } } auditEntry { actor action } }
    }"#;
    reader
        .subscribe("r", query, json!({ "after": origin() }))
        .await;
    admin_ws
        .subscribe("a", query, json!({ "after": origin() }))
        .await;

    let id = create_organization(&app, "short-lived", "Short Lived").await;
    let (gfa, _) = read(&app, "agreement", "ilo-undp-global-framework-of-action").await;
    let linked = app
        .graphql_as(
            &editor(),
            "mutation($a: ID!, $o: ID!) { addAgreementParty(input: {owner: $a, organization: $o, role: SIGNATORY}) { record { id } } }",
            json!({ "a": gfa, "o": id }),
        )
        .await;
    assert!(linked.get("errors").is_none(), "{linked:#}");
    let deleted = app
        .graphql_as(
            &admin_token,
            "mutation($i: ID!) { deleteOrganization(input: {id: $i, version: 1, detachLinks: true}) { auditEntry { id } } }",
            json!({ "i": id }),
        )
        .await;
    let entry = deleted["data"]["deleteOrganization"]["auditEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{deleted:#}"))
        .to_owned();
    let restored = app
        .graphql_as(
            &admin_token,
            "mutation($e: ID!) { restore(auditEntryId: $e) { record { id } } }",
            json!({ "e": entry }),
        )
        .await;
    assert!(restored.get("errors").is_none(), "{restored:#}");

    // The admin sees each change with its audit entry.
    let mut actions = Vec::new();
    for _ in 0..4 {
        let event = admin_ws.event("a").await;
        actions.push(event["action"].as_str().unwrap_or_default().to_owned());
        match event["action"].as_str() {
            Some("LINKED") => {
                assert_eq!(
                    event["recordType"], "AGREEMENT",
                    "a link is its owner's change"
                );
                assert_eq!(event["linkType"], "AgreementParty");
                assert_eq!(event["linkRole"], "SIGNATORY");
                assert_eq!(event["auditEntry"]["actor"], "ada");
            }
            Some("DELETED") => {
                assert_eq!(event["record"], Value::Null, "a deletion carries no record");
                assert_eq!(event["auditEntry"]["actor"], "grace");
            }
            Some("RESTORED") => assert_eq!(event["record"]["name"], "Short Lived"),
            _ => {}
        }
    }
    assert_eq!(actions, ["CREATED", "LINKED", "DELETED", "RESTORED"]);

    // A reader without a token gets the same events, but not who made them.
    let payload = reader.payload("r").await;
    assert_eq!(payload["data"]["changes"]["action"], "CREATED");
    assert_eq!(payload["data"]["changes"]["auditEntry"], Value::Null);
    assert_eq!(error_codes(&payload), ["UNAUTHENTICATED"], "{payload:#}");
}

#[tokio::test]
async fn a_revert_is_an_event_of_its_record_with_its_new_version() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    let id = create_organization(&app, "turned-back", "Turned Back").await;
    rename(&app, &id, 1, "Turned Forward").await;
    let entry = app
        .graphql_as(
            &token(Role::Admin, "grace"),
            r#"{ auditLog(first: 1) { nodes { id action } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(entry["data"]["auditLog"]["nodes"][0]["action"], "update");
    let reverted = app
        .graphql_as(
            &token(Role::Admin, "grace"),
            "mutation($e: ID!) { revert(auditEntryId: $e) { record { id } } }",
            json!({ "e": entry["data"]["auditLog"]["nodes"][0]["id"] }),
        )
        .await;
    assert!(reverted.get("errors").is_none(), "{reverted:#}");

    let mut events = Vec::new();
    for _ in 0..3 {
        let event = ws.event("1").await;
        events.push((
            event["action"].as_str().unwrap_or_default().to_owned(),
            event["version"].as_i64().unwrap_or_default(),
        ));
        if event["action"] == "REVERTED" {
            assert_eq!(event["record"]["name"], "Turned Back");
        }
    }
    assert_eq!(
        events,
        [
            ("CREATED".to_owned(), 1),
            ("UPDATED".to_owned(), 2),
            ("REVERTED".to_owned(), 3)
        ]
    );
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_the_socket_with_4403() {
    let app = spawn_app().await;
    for payload in [
        json!({ "Authorization": "Bearer not.a.token" }),
        json!({ "headers": { "authorization": "Bearer forged" } }),
    ] {
        let mut ws = Ws::open(&app, TRANSPORT_WS).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match ws.next().await {
            Got::Closed(Some((code, _))) => assert_eq!(code, 4403, "{payload}"),
            other => panic!("expected the socket closed with 4403, got {other:?}"),
        }
    }
    // The legacy protocol answers with connection_error.
    let mut ws = Ws::open(&app, LEGACY_WS).await;
    ws.send(json!({ "type": "connection_init", "payload": { "token": "nope" } }))
        .await;
    match ws.next().await {
        Got::Json(message) => assert_eq!(message["type"], "connection_error"),
        other => panic!("expected connection_error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let app = spawn_app_with(|s| s.realtime.socket_init_timeout_secs = 1).await;
    let mut ws = Ws::open(&app, TRANSPORT_WS).await;
    match ws.next().await {
        Got::Closed(Some((code, _))) => assert_eq!(code, 4408),
        other => panic!("expected 4408, got {other:?}"),
    }
}

#[tokio::test]
async fn the_query_limits_refuse_an_oversized_or_too_deep_subscription_and_nothing_runs() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    let padding = " ".repeat(40 * 1024);
    let cases = [
        (
            "big",
            format!("subscription {{ changes {{ action }} }}{padding}"),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "deep",
            format!(
                "subscription {{ changes {{ record {{ ... on Organization {{ {} id {} }} }} }} }}",
                "parent { ".repeat(20),
                "} ".repeat(20)
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "aliases",
            format!(
                "subscription {{ changes {{ {} }} }}",
                (0..40)
                    .map(|n| format!("a{n}: action"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "invalid",
            "subscription { changes { nope } }".to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "cursor",
            "subscription { changes(after: \"garbage\") { action } }".to_owned(),
            "BAD_USER_INPUT",
        ),
    ];
    for (id, query, code) in cases {
        let before = app.statements();
        ws.subscribe(id, &query, json!({})).await;
        let payload = ws.payload(id).await;
        assert_eq!(error_codes(&payload), [code], "{id}: {payload:#}");
        match ws.next().await {
            Got::Json(message) => assert_eq!(
                (message["type"].as_str(), message["id"].as_str()),
                (Some("complete"), Some(id))
            ),
            other => panic!("expected complete, got {other:?}"),
        }
        assert_eq!(app.statements(), before, "{id}: no SQL ran");
    }
}

#[tokio::test]
async fn the_subscription_past_the_cap_of_a_connection_is_refused() {
    let app = spawn_app_with(|s| {
        s.auth = auth_settings();
        s.realtime.max_subscriptions_per_socket = 2;
    })
    .await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({})).await;
    ws.subscribe("2", ORGANIZATION_CHANGES, json!({})).await;
    ws.subscribe("3", ORGANIZATION_CHANGES, json!({})).await;
    let payload = ws.payload("3").await;
    assert_eq!(
        error_codes(&payload),
        ["TOO_MANY_SUBSCRIPTIONS"],
        "{payload:#}"
    );

    // Ending one makes room for another, which then gets events.
    ws.complete("1").await;
    // Let the server drop the first before the next arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws.subscribe("4", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    create_organization(&app, "room-for-one", "Room For One").await;
    let mut from = std::collections::BTreeMap::new();
    while from.len() < 2 {
        match ws.next().await {
            Got::Json(m) if m["type"] == "next" => {
                assert!(m["payload"].get("errors").is_none(), "{m:#}");
                from.insert(m["id"].as_str().unwrap_or_default().to_owned(), m);
            }
            Got::Json(m) if m["type"] == "complete" => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(from.keys().collect::<Vec<_>>(), ["2", "4"]);
}

#[tokio::test]
async fn the_socket_past_the_server_cap_is_refused_with_503() {
    let app = spawn_app_with(|s| s.realtime.max_sockets = 1).await;
    let _first = Ws::open(&app, TRANSPORT_WS).await;
    let url = format!("{}/graphql", app.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap_or_else(|e| panic!("{e}"));
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        TRANSPORT_WS.parse().unwrap_or_else(|e| panic!("{e}")),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("expected 503, got {:?}", other.map(|(_, r)| r.status())),
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("partnerships_websocket_connections 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("partnerships_subscription_refusals_total 1"),
        "{metrics}"
    );
}

/// Waits until the server runs `n` subscriptions (they start after the `subscribe` message,
/// which the protocol does not acknowledge).
async fn until_running(app: &TestApp, n: usize) {
    let line = format!("partnerships_subscriptions_active {n}\n");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !app.metrics().await.contains(&line) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} subscriptions not running within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const LIVE_ORGANIZATION_CHANGES: &str = r#"subscription($ids: [ID!]) {
  changes(types: [ORGANIZATION], ids: $ids) {
    cursor action
    record { ... on Organization { name agreements { nodes { title } } } }
  }
}"#;

#[tokio::test]
async fn identical_subscribers_are_sent_one_resolution_of_each_change_each_with_its_own_id() {
    let app = spawn_app().await;
    let id = create_organization(&app, "shared", "Shared 0").await;
    let other = create_organization(&app, "elsewhere", "Elsewhere").await;
    heard_everything(&app).await;

    // One subscriber: what a change costs (the mutation and the event's resolution).
    let mut first = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    first
        .subscribe("first", LIVE_ORGANIZATION_CHANGES, json!({}))
        .await;
    until("the first subscribes", || app.feed.subscribers() == 1).await;
    let before = app.statements();
    rename(&app, &id, 1, "Shared 1").await;
    assert_eq!(first.event("first").await["record"]["name"], "Shared 1");
    let one = app.statements() - before;

    // Ten more with the same document: eight on sockets of their own, two on one socket (the
    // legacy protocol's), and one narrowed to another record, which must get nothing.
    let mut sockets = Vec::new();
    for n in 0..8 {
        let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
        ws.subscribe(&format!("s{n}"), LIVE_ORGANIZATION_CHANGES, json!({}))
            .await;
        sockets.push((ws, vec![format!("s{n}")]));
    }
    let mut legacy = Ws::connect(&app, LEGACY_WS, json!({})).await;
    for id in ["l1", "l2"] {
        legacy
            .subscribe(id, LIVE_ORGANIZATION_CHANGES, json!({}))
            .await;
    }
    sockets.push((legacy, vec!["l1".into(), "l2".into()]));
    let mut narrowed = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    narrowed
        .subscribe(
            "narrowed",
            LIVE_ORGANIZATION_CHANGES,
            json!({ "ids": [other] }),
        )
        .await;
    until_running(&app, 12).await;
    until("the narrowed one subscribes", || {
        app.feed.subscribers() >= 2
    })
    .await;
    assert_eq!(
        app.feed.subscribers(),
        2,
        "the feed has one receiver per document: the eleven alike and the narrowed one"
    );

    let before = app.statements();
    rename(&app, &id, 2, "Shared 2").await;
    let expected = first.event("first").await;
    assert_eq!(expected["record"]["name"], "Shared 2");
    for (ws, ids) in &mut sockets {
        let mut got = Vec::new();
        while got.len() < ids.len() {
            match ws.next().await {
                Got::Json(message) if message["type"] == "ka" => {}
                Got::Json(message) if message["type"] == "next" || message["type"] == "data" => {
                    assert_eq!(message["payload"]["data"]["changes"], expected);
                    got.push(message["id"].as_str().unwrap_or_default().to_owned());
                }
                other => panic!("expected an event, got {other:?}"),
            }
        }
        got.sort();
        assert_eq!(&got, ids, "each subscription gets it once, with its own id");
    }
    let eleven = app.statements() - before;
    assert_eq!(
        eleven, one,
        "eleven identical subscribers cost the statements of one"
    );
    narrowed.quiet(Duration::from_millis(300)).await;

    // One leaving does not end the others.
    first.complete("first").await;
    until_running(&app, 11).await;
    rename(&app, &id, 3, "Shared 3").await;
    let (ws, _) = &mut sockets[0];
    assert_eq!(ws.event("s0").await["record"]["name"], "Shared 3");
}

#[tokio::test]
async fn subscribers_who_may_see_different_things_get_their_own_payloads() {
    let app = spawn_app().await;
    let audited = "subscription { changes(types: [ORGANIZATION]) { action auditEntry { actor } } }";
    let bearer = |token: String| json!({ "Authorization": format!("Bearer {token}") });
    let mut admin = Ws::connect(&app, TRANSPORT_WS, bearer(token(Role::Admin, "root"))).await;
    admin.subscribe("admin", audited, json!({})).await;
    let mut editor = Ws::connect(&app, TRANSPORT_WS, bearer(editor())).await;
    editor.subscribe("editor", audited, json!({})).await;
    let mut other_admin = Ws::connect(&app, TRANSPORT_WS, bearer(token(Role::Admin, "ops"))).await;
    other_admin.subscribe("admin", audited, json!({})).await;
    until_running(&app, 3).await;
    until("both roles subscribe", || app.feed.subscribers() >= 2).await;
    assert_eq!(app.feed.subscribers(), 2, "one group per role");

    create_organization(&app, "seen-by-roles", "Seen by roles").await;
    for ws in [&mut admin, &mut other_admin] {
        let event = ws.event("admin").await;
        assert_eq!(event["auditEntry"]["actor"], "ada", "an admin sees who");
    }
    let payload = editor.payload("editor").await;
    assert_eq!(payload["data"]["changes"]["action"], "CREATED");
    assert_eq!(payload["data"]["changes"]["auditEntry"], Value::Null);
    assert_eq!(error_codes(&payload), ["FORBIDDEN"], "{payload:#}");
}

/// Collects `n` events of subscription `id`, their names.
async fn names(ws: &mut Ws, id: &str, n: usize) -> (Vec<String>, String) {
    let mut names = Vec::new();
    let mut cursor = String::new();
    for _ in 0..n {
        let event = ws.event(id).await;
        names.push(
            event["record"]["name"]
                .as_str()
                .unwrap_or("<deleted>")
                .to_owned(),
        );
        cursor = event["cursor"].as_str().unwrap_or_default().to_owned();
    }
    (names, cursor)
}

#[tokio::test]
async fn resuming_with_after_gets_exactly_the_changes_committed_while_away_in_order() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    let id = create_organization(&app, "comeback", "Name 0").await;
    let (seen, cursor) = names(&mut ws, "1", 1).await;
    assert_eq!(seen, ["Name 0"]);
    drop(ws);

    // Five changes while nobody listens.
    for n in 1..=5 {
        rename(&app, &id, n, &format!("Name {n}")).await;
    }

    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("2", ORGANIZATION_CHANGES, json!({ "after": cursor }))
        .await;
    let mut versions = Vec::new();
    for n in 1..=5 {
        let event = ws.event("2").await;
        assert_eq!(event["action"], "UPDATED");
        versions.push(event["version"].as_i64().unwrap_or_default());
        // The record as it is now: the last name, whatever the event.
        assert_eq!(event["record"]["name"], "Name 5", "event {n}");
    }
    assert_eq!(versions, [2, 3, 4, 5, 6], "exactly the five, in order");

    // Then live, with no duplicate at the hand-off.
    rename(&app, &id, 6, "Name 6").await;
    let event = ws.event("2").await;
    assert_eq!(event["version"], 7);
    ws.quiet(Duration::from_millis(500)).await;
}

/// Waits until `holds` says yes (polling: the server has no event to wait on), for `what`;
/// panics after [`PATIENCE`].
async fn until(what: &str, holds: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !holds() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {PATIENCE:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the server's feed has heard of every change committed so far: a subscriber
/// without `after` that starts then gets the next change first.
async fn heard_everything(app: &TestApp) {
    let newest = *committed_after(&app.database_url(), 0)
        .await
        .last()
        .unwrap_or(&0);
    until("the feed has heard of every committed change", || {
        app.feed.delivered() == Some(newest)
    })
    .await;
}

#[tokio::test]
async fn after_a_time_with_no_subscriber_a_cursor_gets_exactly_the_changes_in_between() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    let id = create_organization(&app, "quiet-time", "Name 0").await;
    let (_, cursor) = names(&mut ws, "1", 1).await;
    drop(ws);
    until("the subscriber has gone", || app.feed.subscribers() == 0).await;

    // Five changes while nobody subscribes: the feed hears of them and reads nothing.
    let reads = app.feed.stats.reads.load(Ordering::Acquire);
    for n in 1..=5 {
        rename(&app, &id, n, &format!("Name {n}")).await;
    }
    heard_everything(&app).await;
    assert_eq!(
        app.feed.stats.reads.load(Ordering::Acquire),
        reads,
        "no read of the log while nobody subscribed"
    );

    // One subscriber resumes from before that time, one starts from now; then one more change.
    let mut resumed = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    resumed
        .subscribe("resumed", ORGANIZATION_CHANGES, json!({ "after": cursor }))
        .await;
    let mut live = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    live.subscribe("live", ORGANIZATION_CHANGES, json!({}))
        .await;
    until("both subscribe", || app.feed.subscribers() == 2).await;
    rename(&app, &id, 6, "Name 6").await;

    let mut versions = Vec::new();
    for _ in 0..6 {
        versions.push(
            resumed.event("resumed").await["version"]
                .as_i64()
                .unwrap_or_default(),
        );
    }
    assert_eq!(
        versions,
        [2, 3, 4, 5, 6, 7],
        "the five in between, then the live one"
    );
    assert_eq!(
        live.event("live").await["version"],
        7,
        "from now on only: none of the five"
    );
    resumed.quiet(Duration::from_millis(500)).await;
    live.quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_write_through_one_instance_reaches_a_subscriber_on_another() {
    let a = spawn_app().await;
    let b = spawn_beside(&a, |s| s.auth = auth_settings()).await;
    let mut ws = Ws::connect(&b, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    // Past the replay: only a notification from A's commit can bring the next one.
    create_organization(&a, "first-on-a", "First on A").await;
    let (seen, _) = names(&mut ws, "1", 1).await;
    assert_eq!(seen, ["First on A"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    create_organization(&a, "second-on-a", "Second on A").await;
    let (seen, _) = names(&mut ws, "1", 1).await;
    assert_eq!(seen, ["Second on A"]);
}

/// Terminates the backends of the LISTEN connections named `name`; returns how many.
async fn terminate_listeners(name: &str) -> usize {
    let admin = admin().await;
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1",
            [name.into()],
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rows.len()
}

#[tokio::test]
async fn no_change_is_lost_or_repeated_when_the_listen_connection_is_terminated_under_writes() {
    tokio::time::timeout(
        Duration::from_secs(180),
        listen_connection_terminated_under_writes(),
    )
    .await
    .unwrap_or_else(|_| panic!("the test did not finish within 3 minutes"));
}

async fn listen_connection_terminated_under_writes() {
    let a = spawn_app().await;
    let listener = format!("feed-b-{}", uuid::Uuid::new_v4().simple());
    let b = spawn_beside(&a, |s| {
        s.auth = auth_settings();
        s.realtime.feed_listener_name = listener.clone();
    })
    .await;
    let id = create_organization(&a, "busy", "Write 0").await;
    let mut ws = Ws::connect(&b, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    assert_eq!(names(&mut ws, "1", 1).await.0, ["Write 0"]);

    // Writers run on A while B's LISTEN connection is killed, twice.
    const WRITES: i64 = 40;
    let writer = {
        let (address, id) = (a.address.clone(), id.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            for n in 1..=WRITES {
                let body: Value = client
                    .post(format!("{address}/graphql"))
                    .bearer_auth(editor())
                    .json(&json!({
                        "query": "mutation($i: ID!, $v: Int!, $n: String!) { updateOrganization(input: {id: $i, version: $v, name: $n}) { record { version } } }",
                        "variables": { "i": id, "v": n, "n": format!("Write {n}") },
                    }))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
                    .json()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(body.get("errors").is_none(), "write {n}: {body:#}");
                eprintln!("write {n} committed");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };
    let mut terminated = 0;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        terminated += terminate_listeners(&listener).await;
        eprintln!("terminated B's LISTEN connections: {terminated} so far");
    }
    writer.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        terminated >= 2,
        "B's LISTEN connection was found and terminated twice ({terminated})"
    );

    // Every write exactly once, in commit order (count them).
    let mut versions = Vec::new();
    while versions.len() < WRITES as usize {
        versions.push(ws.event("1").await["version"].as_i64().unwrap_or_default());
        eprintln!("received version {:?}", versions.last());
    }
    let expected: Vec<i64> = (2..=WRITES + 1).collect();
    assert_eq!(versions, expected);
    ws.quiet(Duration::from_millis(1_000)).await;
}

/// The position a change's cursor stands for (the tests know the cursor's format).
fn position(cursor: &Value) -> i64 {
    cursor
        .as_str()
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("change:").and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("not a cursor: {cursor}"))
}

/// The committed positions after `after` in the database at `url`, in order.
async fn committed_after(url: &str, after: i64) -> Vec<i64> {
    let db = sea_orm::Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT position FROM audit_entries WHERE position > $1 ORDER BY position",
            [after.into()],
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rows.iter()
        .map(|row| {
            row.try_get("", "position")
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

#[tokio::test]
async fn no_change_is_lost_or_repeated_when_postgresql_restarts_under_writes() {
    tokio::time::timeout(
        Duration::from_secs(240),
        postgresql_restarted_under_writes(),
    )
    .await
    .unwrap_or_else(|_| panic!("the test did not finish within 4 minutes"));
}

/// Writes on A until `stop`, through HTTP, one organization each; a write that fails (the
/// database restarting) is only counted. Returns how many succeeded after `restarted`.
async fn keep_creating(
    address: String,
    writer: usize,
    stop: Arc<AtomicBool>,
    restarted: Arc<AtomicBool>,
    succeeded: Arc<AtomicU64>,
) -> (u64, u64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut after_restart, mut failed) = (0, 0);
    let mut n = 0;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let sent = client
            .post(format!("{address}/graphql"))
            .bearer_auth(editor())
            .json(&json!({
                "query": "mutation($s: String!) { createOrganization(input: {slug: $s, name: $s, kind: OTHER}) { record { id } } }",
                "variables": { "s": format!("writer-{writer}-{n}") },
            }))
            .send()
            .await;
        let body: Option<Value> = match sent {
            Ok(response) => response.json().await.ok(),
            Err(_) => None,
        };
        if body.is_some_and(|body| body.get("errors").is_none()) {
            succeeded.fetch_add(1, Ordering::AcqRel);
            if restarted.load(Ordering::Acquire) {
                after_restart += 1;
            }
        } else {
            failed += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (after_restart, failed)
}

async fn postgresql_restarted_under_writes() {
    // A cluster of this test's own: the one the other tests share must not restart.
    let a = spawn_app_on(&restart_server_url(), |s| s.auth = auth_settings()).await;
    let b = spawn_beside(&a, |s| s.auth = auth_settings()).await;
    let mut ws = Ws::connect(&b, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    create_organization(&a, "before-restart", "Before the restart").await;
    let first = position(&ws.event("1").await["cursor"]);
    until("B's feed has broadcast the first", || {
        b.feed.delivered() >= Some(first)
    })
    .await;
    let (listens, broadcast) = (
        b.feed.stats.listens.load(Ordering::Acquire),
        b.feed.stats.broadcast.load(Ordering::Acquire),
    );

    // Two writers on A; PostgreSQL restarts under them, and they go on once it is back.
    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let succeeded = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            tokio::spawn(keep_creating(
                a.address.clone(),
                writer,
                stop.clone(),
                restarted.clone(),
                succeeded.clone(),
            ))
        })
        .collect();
    until("10 writes", || succeeded.load(Ordering::Acquire) >= 10).await;
    tokio::task::spawn_blocking(|| pg_ctl("TEST_RESTART_PGDATA", "restart -m fast"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    restarted.store(true, Ordering::Release);
    eprintln!(
        "PostgreSQL restarted after {} writes",
        succeeded.load(Ordering::Acquire)
    );
    let at_restart = succeeded.load(Ordering::Acquire);
    until("20 writes after the restart", || {
        succeeded.load(Ordering::Acquire) >= at_restart + 20
    })
    .await;
    stop.store(true, Ordering::Release);
    let (mut after_restart, mut failed) = (0, 0);
    for writer in writers {
        let (a, f) = writer.await.unwrap_or_else(|e| panic!("{e}"));
        (after_restart, failed) = (after_restart + a, failed + f);
    }
    eprintln!("writes after the restart: {after_restart}; failed: {failed}");
    assert!(
        after_restart >= 20,
        "the writers recovered ({after_restart})"
    );

    // Every committed change (the audit log counts them) reached B's subscriber exactly once,
    // in order. A record read back while PostgreSQL was going down is an error of that field
    // (SERVICE_UNAVAILABLE); the event itself still comes, once.
    let committed = committed_after(&a.database_url(), first).await;
    let mut received = Vec::new();
    while received.len() < committed.len() {
        let payload = ws.payload("1").await;
        for error in payload["errors"].as_array().into_iter().flatten() {
            assert_eq!(
                (&error["extensions"]["code"], &error["path"]),
                (&json!("SERVICE_UNAVAILABLE"), &json!(["changes", "record"])),
                "{payload:#}"
            );
        }
        received.push(position(&payload["data"]["changes"]["cursor"]));
    }
    assert_eq!(
        received, committed,
        "every committed change, once, in order"
    );
    ws.quiet(Duration::from_millis(1_000)).await;
    // B's feed heard of them itself (it listened again and broadcast each once), rather than
    // its subscriber finding the gap.
    assert!(
        b.feed.stats.listens.load(Ordering::Acquire) > listens,
        "B listened again after the restart"
    );
    assert_eq!(
        b.feed.stats.broadcast.load(Ordering::Acquire) - broadcast,
        committed.len() as u64,
        "B's feed broadcast each committed change once"
    );
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_ended_with_overflow_and_resumes_from_its_cursor() {
    let app = spawn_app_with(|s| {
        s.auth = auth_settings();
        s.realtime.subscription_buffer = 4;
    })
    .await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    // One import commits 60 changes at once: far more than 4 ahead of a subscriber that
    // reads each record back.
    let document: String = std::iter::once("organizations:\n".to_owned())
        .chain((0..60).map(|n| {
            format!("  - {{ slug: burst-{n:02}, name: \"Burst {n:02}\", kind: other }}\n")
        }))
        .collect();
    let body = app
        .graphql_as(
            &editor(),
            "mutation($d: String!) { importDocument(document: $d) { dryRun } }",
            json!({ "d": document }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    let mut received = Vec::new();
    let cursor = loop {
        let payload = ws.payload("1").await;
        if payload.get("errors").is_some() {
            assert_eq!(
                error_codes(&payload),
                ["SUBSCRIPTION_OVERFLOW"],
                "{payload:#}"
            );
            break payload["errors"][0]["extensions"]["cursor"]
                .as_str()
                .map(str::to_owned);
        }
        received.push(payload["data"]["changes"]["record"]["name"].clone());
    };
    match ws.next().await {
        Got::Json(m) => assert_eq!(m["type"], "complete", "the subscription ended"),
        other => panic!("{other:?}"),
    }
    assert!(
        received.len() < 60,
        "it fell behind ({} received)",
        received.len()
    );

    // Resuming from the cursor brings the rest: all 60, once each, in order.
    ws.subscribe(
        "2",
        ORGANIZATION_CHANGES,
        json!({ "after": cursor.unwrap_or_else(origin) }),
    )
    .await;
    while received.len() < 60 {
        received.push(ws.event("2").await["record"]["name"].clone());
    }
    let expected: Vec<Value> = (0..60).map(|n| json!(format!("Burst {n:02}"))).collect();
    assert_eq!(received, expected);
    ws.quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn the_embedded_store_delivers_changes_in_process() {
    let app = spawn_embedded_app_with(|s| s.auth = auth_settings()).await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    let id = create_organization(&app, "embedded", "Embedded 1").await;
    rename(&app, &id, 1, "Embedded 2").await;
    let mut versions = Vec::new();
    for _ in 0..2 {
        versions.push(ws.event("1").await["version"].as_i64().unwrap_or_default());
    }
    assert_eq!(versions, [1, 2]);
    ws.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_subscription_over_http_is_refused_with_a_code() {
    let app = spawn_app().await;
    let body = app
        .graphql("subscription { changes { action } }", json!({}))
        .await;
    assert_eq!(error_codes(&body), ["BAD_REQUEST"], "{body:#}");
    assert!(
        !body.to_string().contains("SELECT"),
        "no SQL in the answer: {body}"
    );
}

#[tokio::test]
async fn the_subscription_example_receives_the_upsert_example() {
    let app = spawn_app().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let read_example = |path: &str| {
        std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe(
        "example",
        &read_example("subscriptions/organization-changes.graphql"),
        json!({ "after": origin() }),
    )
    .await;
    let body = app
        .graphql_as(
            &editor(),
            &read_example("mutations/upsert-organization.graphql"),
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let event = ws.event("example").await;
    assert_eq!(event["action"], "CREATED");
    assert_eq!(event["record"]["acronym"], "FAO");
    assert_eq!(
        event["recordId"],
        body["data"]["upsertOrganization"]["record"]["id"]
    );
}

/// Before the feed has read where the audit log ends, a change committed after a subscriber
/// arrived could be taken for an old one and never broadcast (a subscriber with `after` that
/// had replayed an empty log then waited for ever; it happened under load in CI). The server
/// reads it before it takes its first request.
#[tokio::test]
async fn the_feed_knows_where_the_log_ends_before_the_server_answers() {
    let app = spawn_app().await;
    assert!(
        app.feed.delivered().is_some(),
        "read before the first request"
    );
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    create_organization(&app, "first-after-start", "First after start").await;
    assert_eq!(ws.event("1").await["action"], "CREATED");
}

#[tokio::test]
async fn a_graceful_shutdown_closes_sockets_with_going_away() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({})).await;
    let stopping = tokio::spawn(app.stopper.clone().stop());
    match ws.next().await {
        Got::Closed(Some((code, _))) => assert_eq!(code, 1001, "going away"),
        other => panic!("expected the socket closed with 1001, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap_or_else(|_| panic!("the server stopped once its sockets were closed"))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The port a server can listen on (free a moment ago).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_write_through_one_server_process_reaches_a_subscriber_on_another_until_sigterm() {
    let a = spawn_app().await;
    // B: the binary, in a process of its own, on A's database.
    let port = free_port();
    let mut b = Process(Some(
        std::process::Command::new(env!("CARGO_BIN_EXE_partnerships"))
            .env("DATABASE_URL", a.database_url())
            .env("PORT", port.to_string())
            .env("LOG_LEVEL", "warn")
            .env("JWT_SECRET", crate::helpers::JWT_SECRET)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting B: {e}")),
    ));
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + PATIENCE;
    while !client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(std::time::Instant::now() < deadline, "B never got ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut ws = Ws::connect_at(&address, TRANSPORT_WS, json!({})).await;
    ws.subscribe("1", ORGANIZATION_CHANGES, json!({ "after": origin() }))
        .await;
    create_organization(&a, "from-process-a", "From Process A").await;
    assert_eq!(names(&mut ws, "1", 1).await.0, ["From Process A"]);
    // Past the replay: this one can only come through NOTIFY.
    tokio::time::sleep(Duration::from_millis(300)).await;
    create_organization(&a, "again-from-a", "Again From A").await;
    assert_eq!(names(&mut ws, "1", 1).await.0, ["Again From A"]);

    // SIGTERM: B closes the socket with 1001 (going away) and exits cleanly.
    let pid =
        b.0.as_ref()
            .map(std::process::Child::id)
            .unwrap_or_default();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(killed.success());
    match ws.next().await {
        Got::Closed(Some((code, _))) => assert_eq!(code, 1001, "going away"),
        other => panic!("expected the socket closed with 1001, got {other:?}"),
    }
    let mut child = b.0.take().unwrap_or_else(|| panic!("B is running"));
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(exit.success(), "B exits cleanly: {exit:?}");
}

/// A child process, killed if the test ends before it was waited for.
struct Process(Option<std::process::Child>);

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
