//! The web layer (the only module that knows actix): routes, GraphiQL, health.

mod graphiql;
mod graphql;

pub use graphiql::EXAMPLES;

use std::{net::TcpListener, time::Duration};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer, Responder, dev::Server, guard, http::header, web,
};
use tracing_actix_web::TracingLogger;

use crate::{auth::Authenticator, config::GraphqlSettings, graphql::AppSchema, store::Store};

/// What every handler shares: built once, before the server starts.
pub struct AppState {
    pub schema: AppSchema,
    pub store: Store,
    pub graphql: GraphqlSettings,
    /// Verifies the bearer tokens of requests.
    pub auth: Authenticator,
    pub graphiql: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// Starts serving on `listener`; in-flight requests get `shutdown_timeout` after SIGTERM/SIGINT.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown_timeout: Duration,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::default())
            .app_data(state.clone())
            .service(
                web::resource("/graphql")
                    .route(web::post().to(graphql::post))
                    .route(web::get().guard(guard::fn_guard(wants_html)).to(graphiql))
                    .route(web::get().to(graphql::get)),
            )
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
    })
    .listen(listener)?
    .shutdown_timeout(shutdown_timeout.as_secs())
    .run();
    Ok(server)
}

/// A browser asking for a page (its Accept lists text/html).
fn wants_html(ctx: &guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

async fn graphiql(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    if !state.graphiql {
        return HttpResponse::NotFound().body("GraphiQL is turned off on this server.");
    }
    let endpoint = request.path().to_owned();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(graphiql::page(&endpoint))
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
    if let Err(err) = state.store.connection.ping().await {
        tracing::warn!(error = %err, "Readiness check failed: the database does not answer");
        return unavailable("unavailable");
    }
    match crate::store::pending_migrations(&state.store.connection).await {
        Ok(pending) if pending.is_empty() => {
            HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
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
