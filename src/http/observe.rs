//! Every request's id, log line and metrics, in one middleware around all routes.
//!
//! - The id is the client's `X-Request-Id` when it is a sane token (at most 128 letters, digits
//!   and `-_.:`), a new UUID otherwise; it is on every log line of the request (a span) and in
//!   the response's `X-Request-Id`.
//! - One line per request when it ends: method, path, status, duration, and for GraphQL the
//!   operation name, outcome and SQL statement count ([`GraphqlExchange`], left in the
//!   response's extensions by the GraphQL handler). Requests slower than SLOW_REQUEST_MS are
//!   logged at WARN. Probes (`/healthz`, `/readyz`, `/metrics`) log at DEBUG.

use std::time::{Duration, Instant};

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use tracing::{Instrument, field};

use super::AppState;
use crate::metrics::{GraphqlRecord, Outcome};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the GraphQL handler learned about a request, left in the response's extensions.
#[derive(Debug, Clone)]
pub struct GraphqlExchange {
    pub operation: String,
    pub outcome: Outcome,
    pub statements: u64,
}

impl GraphqlExchange {
    /// A request refused before it was read as GraphQL (media type, body, method).
    pub fn refused() -> Self {
        Self {
            operation: "none".into(),
            outcome: Outcome::Rejected,
            statements: 0,
        }
    }
}

/// The client's id when it is safe to log and echo, else a fresh one.
fn request_id(request: &ServiceRequest) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let id = request_id(&request);
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    let path = request.path().to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        %method,
        %path,
        status = field::Empty,
        operation = field::Empty,
        outcome = field::Empty,
    );
    let _in_flight = state.as_ref().map(|s| s.metrics.in_flight());
    let started = Instant::now();
    let result = next.call(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let _entered = span.enter();
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            tracing::warn!(duration_ms = millis(elapsed), error = %err, "request failed");
            return Err(err);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    span.record("status", status);
    let exchange = response
        .response()
        .extensions()
        .get::<GraphqlExchange>()
        .cloned();
    let slow_after = state
        .as_ref()
        .map_or(Duration::MAX, |s| Duration::from_millis(s.slow_request_ms));
    if let Some(state) = &state {
        state.metrics.record_response(status);
        if let Some(exchange) = &exchange {
            state.metrics.record_graphql(&GraphqlRecord {
                operation: &exchange.operation,
                outcome: exchange.outcome,
                duration: elapsed,
                statements: exchange.statements,
            });
        }
    }
    let duration_ms = millis(elapsed);
    let slow = elapsed >= slow_after;
    match &exchange {
        Some(x) => {
            span.record("operation", x.operation.as_str());
            span.record("outcome", x.outcome.as_str());
            if slow {
                tracing::warn!(duration_ms, statements = x.statements, "slow request");
            } else {
                tracing::info!(duration_ms, statements = x.statements, "request");
            }
        }
        None if slow => tracing::warn!(duration_ms, "slow request"),
        None if is_probe(&path) => tracing::debug!(duration_ms, "request"),
        None => tracing::info!(duration_ms, "request"),
    }
    Ok(response)
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}
