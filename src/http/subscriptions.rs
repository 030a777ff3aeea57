//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws` (the graphql-ws library: Apollo's
//! `GraphQLWsLink`, urql, Relay, GraphiQL) and the legacy `graphql-ws` (subscriptions-transport-ws:
//! Playground, older Apollo), chosen by `Sec-WebSocket-Protocol`.
//!
//! The protocols themselves are async-graphql's (`async_graphql::http::WebSocket`); this module
//! is the glue between it and the socket. It is ours rather than async-graphql-actix-web's
//! `GraphQLSubscription` because that actor could not give what the issue asks for:
//! - **bounded output**: the actor writes each message into the socket's buffer as soon as it
//!   is ready, so a client that stops reading grows the server's memory without bound. Here
//!   each message waits for room in a small channel (actix-ws, 32 frames) before the next is
//!   produced, so a stalled client stops its own stream, its subscriptions fall behind the
//!   feed's bounded buffer and end with SUBSCRIPTION_OVERFLOW; nobody else waits;
//! - **an init timeout** (4408 when `connection_init` does not come in time);
//! - **4403** when `connection_init` carries a bad token (async-graphql closes with 1002);
//! - **going away (1001)** on graceful shutdown, and metrics of open sockets.
//!
//! Every operation goes through [`crate::graphql::Api::execute_stream`]: the same persisted
//! queries, text and document limits, variables checks and async-graphql limits as over HTTP.
//! Queries and mutations over the socket work too (one response each).

use std::{
    pin::pin,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    http::{WebSocket, WebSocketProtocols, WsMessage},
    parser::types::OperationType,
};
use futures::{StreamExt, stream::BoxStream};
use serde_json::{Value as Json, json};

use super::AppState;
use crate::{auth::Viewer, graphql::prepare_request, store::Route};

/// Whether the request asks to upgrade to a WebSocket.
pub fn is_upgrade(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(actix_web::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// A refusal before the upgrade, in the GraphQL error shape.
fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json; charset=utf-8")
        .json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
}

/// GET /graphql with `Upgrade: websocket`.
pub async fn upgrade(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let protocol = http
        .headers()
        .get_all(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok());
    let Some(protocol) = protocol else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "Ask for the subprotocol graphql-transport-ws (or the legacy graphql-ws) in Sec-WebSocket-Protocol.",
        );
    };
    let Some(slot) = Slot::take(&state) else {
        state.metrics.realtime.refused.inc();
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "TOO_MANY_CONNECTIONS",
            "The server holds as many WebSocket connections as it may; try again later.",
        );
    };
    let (response, session, messages) =
        match actix_ws::handle_with_protocols(&http, body, &[protocol.sec_websocket_protocol()]) {
            Ok(parts) => parts,
            Err(err) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("The WebSocket handshake failed: {err}"),
                );
            }
        };
    let limit = state.max_body_bytes;
    let messages = messages
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    actix_web::rt::spawn(serve(state.into_inner(), protocol, session, messages, slot));
    response
}

/// One of the server's WebSocket connections, held while the socket is open.
struct Slot {
    state: Arc<AppState>,
}

impl Slot {
    fn take(state: &web::Data<AppState>) -> Option<Self> {
        let open = state.sockets.fetch_add(1, Ordering::AcqRel) + 1;
        if open > state.realtime.max_sockets {
            state.sockets.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        state.metrics.realtime.sockets_open.inc();
        Some(Self {
            state: state.clone().into_inner(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.state.sockets.fetch_sub(1, Ordering::AcqRel);
        self.state.metrics.realtime.sockets_open.dec();
    }
}

/// What one connection knows about itself.
#[derive(Default)]
struct Connection {
    /// Subscriptions running on it.
    subscriptions: AtomicUsize,
    /// `connection_init` was accepted.
    initialised: AtomicBool,
    /// `connection_init` carried a bad token.
    rejected: AtomicBool,
    /// Milliseconds from the connection's start to the last frame heard from the client.
    heard_ms: AtomicU64,
}

/// A subscription's place on its connection, given back when the subscription ends (its
/// stream holds it: not the request, which a shared subscription's group may outlive it with).
struct SubscriptionSlot(Arc<Connection>);

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::AcqRel);
    }
}

/// async-graphql's protocol runs each operation through this.
#[derive(Clone)]
struct Socket {
    state: Arc<AppState>,
    connection: Arc<Connection>,
}

fn error(message: String, code: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    err
}

impl Executor for Socket {
    async fn execute(&self, request: Request) -> Response {
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let state = &self.state;
        if !state.store.health.is_up() {
            state.store.health.suspect();
            let err = error(
                "The database is unavailable; try again shortly.".into(),
                "SERVICE_UNAVAILABLE",
            );
            return futures::stream::once(async move { Response::from_errors(vec![err]) }).boxed();
        }
        let connection = self.connection.clone();
        let mut slot = None;
        let stream = state.api.execute_stream(
            request,
            session_data.unwrap_or_default(),
            |request, kind| {
                if kind == Some(OperationType::Subscription) {
                    let cap = state.realtime.max_subscriptions_per_socket;
                    let running = connection.subscriptions.fetch_add(1, Ordering::AcqRel) + 1;
                    slot = Some(SubscriptionSlot(connection.clone()));
                    if running > cap {
                        state.metrics.realtime.refused.inc();
                        return Err(error(
                            format!(
                                "This connection already runs {cap} subscriptions, the most it may; end one first."
                            ),
                            "TOO_MANY_SUBSCRIPTIONS",
                        ));
                    }
                }
                // Everything on the primary: the feed reads the primary's log, and a replica
                // may not have replayed the record an event is about yet.
                let (store, _, _) = state.store.routed(Route::Primary);
                Ok(prepare_request(request, &store, &state.graphql)
                    .data(state.feed.clone())
                    .data(state.metrics.realtime.clone()))
            },
        );
        match slot {
            Some(slot) => stream
                .map(move |response| {
                    let _held = &slot;
                    response
                })
                .boxed(),
            None => stream,
        }
    }
}

/// The bearer token in a `connection_init` payload: `{"Authorization": "Bearer …"}` (any case,
/// also under `headers`, as Apollo and GraphiQL send it) or `{"token": "…"}`.
fn authorization(payload: &Json) -> Option<String> {
    let find = |object: &Json| {
        object.as_object().and_then(|map| {
            map.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, value)| value.as_str())
                .map(str::to_owned)
        })
    };
    find(payload)
        .or_else(|| payload.get("headers").and_then(find))
        .or_else(|| {
            payload
                .get("token")
                .and_then(Json::as_str)
                .map(|token| format!("Bearer {token}"))
        })
}

/// The close code the protocol uses for a refused `connection_init` (graphql-ws: Forbidden).
const FORBIDDEN: u16 = 4403;
/// No `connection_init` in time (graphql-ws: Connection initialisation timeout).
const INIT_TIMEOUT: u16 = 4408;

async fn serve(
    state: Arc<AppState>,
    protocol: WebSocketProtocols,
    session: actix_ws::Session,
    messages: actix_ws::AggregatedMessageStream,
    slot: Slot,
) {
    let started = Instant::now();
    let connection = Arc::new(Connection::default());
    let heard = {
        let connection = connection.clone();
        move || {
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            connection.heard_ms.store(ms, Ordering::Relaxed);
        }
    };
    // The client's frames: messages go to the protocol; pings are answered here.
    let incoming = {
        let session = session.clone();
        messages
            .take_while(|message| {
                futures::future::ready(!matches!(message, Ok(AggregatedMessage::Close(_)) | Err(_)))
            })
            .filter_map(move |message| {
                heard();
                let mut session = session.clone();
                async move {
                    match message {
                        Ok(AggregatedMessage::Text(text)) => Some(text.as_bytes().to_vec()),
                        Ok(AggregatedMessage::Binary(bytes)) => Some(bytes.to_vec()),
                        Ok(AggregatedMessage::Ping(bytes)) => {
                            let _ = session.pong(&bytes).await;
                            None
                        }
                        _ => None,
                    }
                }
            })
    };
    let init = {
        let (state, connection) = (state.clone(), connection.clone());
        move |payload: Json| async move {
            match state.auth.viewer(authorization(&payload).as_deref()) {
                Ok(viewer) => {
                    connection.initialised.store(true, Ordering::Release);
                    let mut data = Data::default();
                    data.insert::<Viewer>(viewer);
                    Ok(data)
                }
                Err(err) => {
                    connection.rejected.store(true, Ordering::Release);
                    Err(async_graphql::Error::new(err.to_string()))
                }
            }
        }
    };
    let executor = Socket {
        state: state.clone(),
        connection: connection.clone(),
    };
    let mut protocol_stream =
        Box::pin(WebSocket::new(executor, incoming, protocol).on_connection_init(init));
    let realtime = &state.realtime;
    let keepalive = Duration::from_secs(realtime.socket_keepalive_secs);
    let mut init_deadline = pin!(tokio::time::sleep(Duration::from_secs(
        realtime.socket_init_timeout_secs
    )));
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
    let mut shutdown = state.shutdown.clone();
    let mut output = session.clone();
    let close = loop {
        tokio::select! {
            message = protocol_stream.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if output.text(text).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let code = if connection.rejected.load(Ordering::Acquire) { FORBIDDEN } else { code };
                    break Some(CloseReason { code: CloseCode::Other(code), description: Some(reason) });
                }
                // The client closed, or ended the connection (legacy `connection_terminate`).
                None => break Some(CloseReason { code: CloseCode::Normal, description: None }),
            },
            () = &mut init_deadline, if !connection.initialised.load(Ordering::Acquire) => {
                break Some(CloseReason {
                    code: CloseCode::Other(INIT_TIMEOUT),
                    description: Some("Connection initialisation timeout".into()),
                });
            }
            _ = pings.tick() => {
                let quiet = started.elapsed().saturating_sub(Duration::from_millis(connection.heard_ms.load(Ordering::Relaxed)));
                if quiet > keepalive * 2 {
                    break Some(CloseReason { code: CloseCode::Away, description: Some("No answer to pings".into()) });
                }
                if output.ping(b"").await.is_err() {
                    break None;
                }
            }
            _ = shutdown.wait_for(|stopping| *stopping) => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("The server is shutting down".into()) });
            }
        }
    };
    // Dropping the protocol's stream ends the connection's operations (and their slots).
    drop(protocol_stream);
    if let Some(reason) = close {
        let _ = session.close(Some(reason)).await;
    }
    drop(slot);
}
