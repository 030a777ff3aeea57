//! The web layer (the only module that knows actix): routes, the web pages (GraphiQL,
//! Playground, the explorer) and their embedded assets, health, metrics, and the middleware
//! every route runs under (request ids and logs, CORS, compression).

mod assets;
mod encoding;
mod graphql;
mod observe;
mod pages;
mod subscriptions;

pub use pages::{EXAMPLES, Page, content_security_policy};

use std::{
    net::TcpListener,
    sync::{Arc, atomic::AtomicUsize},
    time::Duration,
};

use actix_cors::Cors;
use actix_web::{
    App, HttpResponse, HttpServer, Responder,
    dev::Server,
    guard,
    http::{Method, header},
    middleware::{Compress, from_fn},
    web,
};
use tokio::sync::watch;

use crate::{
    auth::Authenticator,
    config::{GraphqlSettings, HttpSettings, RealtimeSettings},
    graphql::Api,
    metrics::{Metrics, ReplicaStats},
    store::{Store, feed::Feed, replicas::Replicas},
};

/// What every handler shares: built once, before the server starts.
pub struct AppState {
    pub api: Api,
    pub store: Store,
    pub graphql: GraphqlSettings,
    /// Verifies the bearer tokens of requests.
    pub auth: Authenticator,
    /// Whether browsers get GraphiQL (`GET /graphql`) and GraphQL Playground (`/playground`).
    pub graphiql: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a client has to send a request's body once its head arrived.
    pub body_timeout: Duration,
    pub metrics: Metrics,
    /// Whether `/metrics` is served.
    pub serve_metrics: bool,
    /// Requests slower than this are logged at WARN, with their SQL statement count.
    pub slow_request_ms: u64,
    /// The change feed subscriptions read.
    pub feed: Arc<Feed>,
    /// Caps and timers of WebSocket connections and subscriptions.
    pub realtime: RealtimeSettings,
    /// WebSocket connections open now.
    pub sockets: AtomicUsize,
    /// Turns true when the server begins to stop: open sockets close with "going away".
    pub shutdown: watch::Receiver<bool>,
}

/// Starts serving on `listener`. Stopped gracefully (through the server's handle), it stops
/// accepting connections and gives in-flight requests `settings.shutdown_timeout_secs` to finish.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    settings: &HttpSettings,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let origins = settings.cors_allowed_origins.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(Compress::default())
            // Outside `Compress`, so that it sees the narrowed Accept-Encoding.
            .wrap(from_fn(encoding::prefer))
            .wrap(cors(&origins))
            // Outermost: it sees every response, CORS refusals included.
            .wrap(from_fn(observe::observe))
            .service(
                web::resource("/graphql")
                    .route(web::post().to(graphql::post))
                    .route(
                        web::get()
                            .guard(guard::fn_guard(subscriptions::is_upgrade))
                            .to(subscriptions::upgrade),
                    )
                    .route(
                        web::get()
                            .guard(guard::fn_guard(wants_html))
                            .to(pages::graphiql),
                    )
                    .route(web::get().to(graphql::get)),
            )
            .route("/playground", web::get().to(pages::playground))
            .route("/explore", web::get().to(pages::explore))
            .route("/assets/{path:.*}", web::get().to(assets::serve))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
    })
    // Compression streams the body after the head: without TCP_NODELAY, Nagle's algorithm
    // and the client's delayed ACK held small responses up to 40 ms (a fifth of the flat
    // list's throughput, measured with scripts/bench).
    .on_connect(|connection, _| {
        if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .client_request_timeout(Duration::from_secs(settings.client_request_timeout_secs))
    .keep_alive(Duration::from_secs(settings.keep_alive_secs))
    .listen(listener)?
    .shutdown_timeout(settings.shutdown_timeout_secs)
    // actix stops at once on SIGINT; `startup` handles both signals gracefully instead.
    .disable_signals()
    .run();
    Ok(server)
}

/// Cross-origin access for the origins on the allow-list (`*` allows any, without
/// credentials). Requests from other origins are served without CORS headers, so browsers keep
/// their pages from reading the answers; same-origin pages (GraphiQL) are unaffected.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::ACCEPT,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            observe::REQUEST_ID,
            graphql::TOKEN_HEADER,
        ])
        .expose_headers([observe::REQUEST_ID, graphql::TOKEN_HEADER])
        .max_age(3600);
    for origin in origins.iter().filter(|o| !o.is_empty()) {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// A browser asking for a page (its Accept lists text/html).
fn wants_html(ctx: &guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Prometheus text: requests, latency, SQL statements, the database pool.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if !state.serve_metrics {
        return HttpResponse::NotFound().body("Metrics are turned off on this server.");
    }
    let pool = state.store.pool_stats();
    let replicas: Vec<ReplicaStats> = state
        .store
        .replicas
        .members
        .iter()
        .map(|replica| {
            let found = replica.state();
            ReplicaStats {
                name: replica.name.clone(),
                up: found.up,
                lag: found.lag(),
            }
        })
        .collect();
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(pool, &replicas))
}

/// Each replica's state for `/readyz`: `up` (serves reads), `stale` (answers, but lags more
/// than REPLICA_MAX_LAG_MS) or `down`; its lag in milliseconds when known. Replicas do not
/// decide readiness: without a usable one, reads go to the primary.
fn replica_states(replicas: &Replicas) -> serde_json::Value {
    let max_lag = replicas.settings.max_lag;
    replicas
        .members
        .iter()
        .map(|replica| {
            let found = replica.state();
            let lag = found.lag();
            let state = match (found.up, lag) {
                (false, _) => "down",
                (true, Some(lag)) if lag <= max_lag => "up",
                (true, _) => "stale",
            };
            serde_json::json!({
                "name": replica.name,
                "state": state,
                "lagMs": lag.map(|lag| u64::try_from(lag.as_millis()).unwrap_or(u64::MAX)),
            })
        })
        .collect()
}

/// The process is alive.
async fn healthz() -> impl Responder {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The server can serve: the database answers and its schema is current (no pending migration).
async fn readyz(state: web::Data<AppState>) -> impl Responder {
    let unavailable = |status: &str| {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": status }))
    };
    if !state.store.health.is_up() {
        return unavailable("unavailable");
    }
    if let Err(err) = state.store.connection.ping().await {
        tracing::warn!(error = %err, "Readiness check failed: the database does not answer");
        return unavailable("unavailable");
    }
    match crate::store::pending_migrations(&state.store.connection).await {
        Ok(pending) if pending.is_empty() => {
            let mut body = serde_json::json!({ "status": "ready" });
            if !state.store.replicas.is_empty() {
                body["replicas"] = replica_states(&state.store.replicas);
            }
            HttpResponse::Ok().json(body)
        }
        Ok(pending) => {
            tracing::warn!(pending = ?pending, "Readiness check failed: migrations are pending");
            unavailable("migrations pending")
        }
        Err(err) => {
            tracing::warn!(error = %err, "Readiness check failed: the migration table cannot be read");
            unavailable("unavailable")
        }
    }
}
