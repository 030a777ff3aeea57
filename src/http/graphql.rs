//! GraphQL over HTTP (the GraphQL-over-HTTP specification): POST with a JSON body, GET with
//! query parameters for queries only, and answers in the media type the client accepts.
//!
//! - `Accept: application/graphql-response+json`: a request that never reaches execution
//!   (unparsable, invalid, over a limit) is a 4xx; once execution began it is a 200 with
//!   `errors` beside `data` (Apollo Client shows the GraphQL errors only then).
//! - `application/json` (or no Accept): always 200 for GraphQL errors, for older clients.
//! - Transport problems (unsupported media type, malformed JSON, a batch, a body too large, a
//!   mutation over GET) are 4xx in the same `{ "errors": [...] }` shape with code BAD_REQUEST.

use actix_web::HttpMessage;
use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use async_graphql::{Request, Response, Variables, parser::types::OperationType};
use futures::StreamExt;
use serde_json::json;

use super::{
    AppState,
    observe::{GraphqlExchange, RequestId},
};
use crate::{
    auth::Viewer,
    error::AppError,
    graphql::{Executed, prepare_request},
    metrics::Outcome,
    store::{self, Route, StatementCounter, replicas::ConsistencyToken},
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The media type the answer is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    GraphqlResponse,
    Json,
}

impl Answer {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Reads Accept: the first acceptable type the client lists, or JSON when it lists none.
fn negotiate(request: &HttpRequest) -> Option<Answer> {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.trim().is_empty() {
        return Some(Answer::Json);
    }
    for range in accept.split(',') {
        let media = range
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            GRAPHQL_RESPONSE => return Some(Answer::GraphqlResponse),
            JSON | "application/*" | "*/*" => return Some(Answer::Json),
            _ => {}
        }
    }
    None
}

/// A transport-level error in the GraphQL error shape.
fn refuse(status: StatusCode, answer: Answer, message: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type(answer.content_type())
        .json(
            json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] }),
        );
    response.extensions_mut().insert(GraphqlExchange::refused());
    response
}

/// The `extensions.code` of each error of a response.
fn codes(response: &Response) -> impl Iterator<Item = String> + '_ {
    response.errors.iter().map(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(ToString::to_string)
            .unwrap_or_default()
    })
}

/// How the request ended, for logs and metrics: the gravest of its errors.
fn outcome(response: &Response, executed: bool) -> Outcome {
    let mut outcome = Outcome::Ok;
    for code in codes(response) {
        let this = match code.as_str() {
            "\"INTERNAL_SERVER_ERROR\"" => Outcome::Internal,
            "\"SERVICE_UNAVAILABLE\"" => Outcome::Unavailable,
            _ if !executed => Outcome::Rejected,
            _ => Outcome::Error,
        };
        outcome = outcome.max(this);
    }
    outcome
}

/// Whether the request ended before execution began: parsing, validation or a limit refused
/// it (a variable too deep is BAD_USER_INPUT). Errors before execution with other codes (an
/// unknown persisted-query hash) keep a 200, which Apollo's persisted-query link relies on.
fn never_executed(response: &Response, executed: bool) -> bool {
    !executed
        && response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && codes(response).all(|code| {
            matches!(
                code.as_str(),
                "\"GRAPHQL_PARSE_FAILED\""
                    | "\"GRAPHQL_VALIDATION_FAILED\""
                    | "\"QUERY_TOO_COMPLEX\""
                    | "\"BAD_USER_INPUT\""
                    // A subscription sent over HTTP.
                    | "\"BAD_REQUEST\""
            )
        })
}

/// The request's id (set by the `observe` middleware, and on every log line of the request).
fn request_id(http: &HttpRequest) -> String {
    http.extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default()
}

/// A bad token is refused before anything runs: 401 with `WWW-Authenticate` for
/// graphql-response+json, 200 for plain JSON (as other request errors), both with code
/// UNAUTHENTICATED.
fn unauthenticated(answer: Answer, err: &AppError) -> HttpResponse {
    let status = match answer {
        Answer::GraphqlResponse => StatusCode::UNAUTHORIZED,
        Answer::Json => StatusCode::OK,
    };
    let mut reply = HttpResponse::build(status)
        .content_type(answer.content_type())
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .json(json!({ "errors": [{ "message": err.to_string(), "extensions": { "code": err.code() } }] }));
    reply.extensions_mut().insert(GraphqlExchange::refused());
    reply
}

/// Runs a request; with `read_only` (GET) a mutation is refused once the document (a persisted
/// one included) shows which operation runs.
async fn execute(
    state: &AppState,
    http: &HttpRequest,
    answer: Answer,
    request: Request,
    read_only: bool,
) -> HttpResponse {
    // The caller, from the Authorization header.
    let authorization = http
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default());
    let viewer = match state.auth.viewer(authorization) {
        Ok(viewer) => viewer,
        Err(err) => return unauthenticated(answer, &err),
    };
    let token = match consistency_token(http, &request) {
        Ok(token) => token,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, answer, message),
    };
    if !state.store.health.is_up() {
        return database_down(answer, request_id(http), request.operation_name);
    }
    let named = request.operation_name.clone();
    // A read that a replica could not serve runs again on the primary: keep what it needs.
    let again = (!state.store.replicas.is_empty()).then(|| copy(&request));
    let (mut executed, mut routed) =
        run(state, request, read_only, &viewer, Route::Read(token)).await;
    if let Some(again) = again
        && let Some((_, _, Some(replica))) = routed
        && outcome(&executed.response, began(&executed)) == Outcome::Unavailable
    {
        state.store.replicas.members[replica].suspect();
        (executed, routed) = run(state, again, read_only, &viewer, Route::Primary).await;
    }
    let (store, statements) = match routed {
        Some((store, statements, replica)) => {
            if executed.kind == Some(OperationType::Query) && began(&executed) {
                state.metrics.record_read(match replica {
                    Some(index) => &state.store.replicas.members[index].name,
                    None => "primary",
                });
            }
            if executed.body.is_some() {
                state.metrics.record_compiled();
            }
            (Some(store), statements.get())
        }
        None => (None, 0),
    };
    let Executed {
        mut response,
        executed,
        operation,
        write_refused,
        kind,
        body,
    } = executed;
    if write_refused {
        return mutation_over_get(answer);
    }
    // A mutation's consistency token: reads that send it back see its writes.
    let mut issued = None;
    if executed
        && kind == Some(OperationType::Mutation)
        && let Some(store) = store.as_ref().filter(|s| !s.replicas.is_empty())
    {
        match store::replicas::commit_position(&store.writer).await {
            Ok(token) => {
                response
                    .extensions
                    .insert(TOKEN_EXTENSION.to_owned(), token.to_string().into());
                issued = Some(token);
            }
            Err(err) => {
                tracing::warn!(error = %err, "Could not read the primary's WAL position for the consistency token");
            }
        }
    }
    // Internal errors show a fixed message; the id lets an operator find the logged details.
    let id = request_id(http);
    for extensions in response
        .errors
        .iter_mut()
        .filter_map(|e| e.extensions.as_mut())
    {
        let internal = matches!(
            extensions.get("code").map(ToString::to_string).as_deref(),
            Some("\"INTERNAL_SERVER_ERROR\"" | "\"SERVICE_UNAVAILABLE\"")
        );
        if internal {
            extensions.set("requestId", id.clone());
        }
    }
    let executed = !never_executed(&response, executed);
    let outcome = outcome(&response, executed);
    if outcome == Outcome::Unavailable {
        // Let the watcher find out whether the database is down, so that the next requests
        // fail fast instead of each waiting for a connection.
        state.store.health.suspect();
    }
    let exchange = GraphqlExchange {
        operation: named.or(operation).unwrap_or_else(|| "none".into()),
        outcome,
        statements,
    };
    let mut reply = if !executed {
        // A request that never ran has no `data` entry at all, not `data: null`.
        let status = match answer {
            Answer::GraphqlResponse => StatusCode::BAD_REQUEST,
            Answer::Json => StatusCode::OK,
        };
        HttpResponse::build(status)
            .content_type(answer.content_type())
            .json(json!({ "errors": response.errors }))
    } else if answer == Answer::GraphqlResponse
        && response.data == async_graphql::Value::Null
        && exchange.outcome == Outcome::Unavailable
    {
        // Nothing could be answered because the database is down or saturated: the media type
        // lets the status say so (application/json keeps 200 for its older clients).
        HttpResponse::ServiceUnavailable()
            .content_type(answer.content_type())
            .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS))
            .json(json!({ "errors": response.errors }))
    } else {
        let mut reply = HttpResponse::Ok();
        if let Some(token) = issued {
            reply.insert_header((TOKEN_HEADER, token.to_string()));
        }
        reply.content_type(answer.content_type());
        match body {
            Some(body) => reply.body(body),
            None => reply.json(&response),
        }
    };
    reply.extensions_mut().insert(exchange);
    reply
}

/// A request's store: where its reads went, its statements, the replica that served it.
type Routed = (store::Store, StatementCounter, Option<usize>);

/// Runs `request` with its data, reads routed by `route` once its operation is known: a
/// mutation and everything it reads stay on the primary.
async fn run(
    state: &AppState,
    request: Request,
    read_only: bool,
    viewer: &Viewer,
    route: Route,
) -> (Executed, Option<Routed>) {
    let mut routed = None;
    let executed = state
        .api
        .execute(request, read_only, |request, kind| {
            let route = match (route, kind) {
                (Route::Read(token), Some(OperationType::Query)) => Route::Read(token),
                _ => Route::Primary,
            };
            let (store, statements, replica) = state.store.routed(route);
            let request = prepare_request(request, &store, &state.graphql).data(viewer.clone());
            routed = Some((store, statements, replica));
            request
        })
        .await;
    (executed, routed)
}

/// The header a mutation's consistency token comes in, and a read may send it back in.
pub const TOKEN_HEADER: header::HeaderName = header::HeaderName::from_static("x-consistency-token");
/// The same token as a GraphQL extension, in the response and in a request.
const TOKEN_EXTENSION: &str = "consistencyToken";

/// The consistency token a request sends back (header or extension), if any.
fn consistency_token(
    http: &HttpRequest,
    request: &Request,
) -> Result<Option<ConsistencyToken>, &'static str> {
    const BAD: &str = "The consistency token is not one this server issued: send back the `consistencyToken` of a mutation's response as it came.";
    let header = match http.headers().get(&TOKEN_HEADER) {
        Some(value) => Some(value.to_str().map_err(|_| BAD)?),
        None => None,
    };
    let extension = match request.extensions.get(TOKEN_EXTENSION) {
        Some(async_graphql::Value::String(text)) => Some(text.as_str()),
        Some(_) => return Err(BAD),
        None => None,
    };
    let mut newest = None;
    for text in header.into_iter().chain(extension) {
        let token: ConsistencyToken = text.trim().parse().map_err(|()| BAD)?;
        newest = newest.max(Some(token));
    }
    Ok(newest)
}

/// What a request needs to run again (no uploads: a read has none).
fn copy(request: &Request) -> Request {
    let mut again = Request::new(request.query.clone()).variables(request.variables.clone());
    again.operation_name = request.operation_name.clone();
    again.extensions = request.extensions.clone();
    again.introspection_mode = request.introspection_mode;
    again
}

/// Whether execution began (as `Executed::executed`, for a result not yet taken apart).
fn began(executed: &Executed) -> bool {
    !never_executed(&executed.response, executed.executed)
}

/// Seconds a client is asked to wait before retrying a request the database could not serve.
const RETRY_AFTER_SECS: u64 = 1;

/// The answer while the database is known to be down: at once, without waiting for a
/// connection. 503 for application/graphql-response+json; 200 for application/json, whose
/// clients expect 200 for every well-formed request.
fn database_down(answer: Answer, id: String, operation: Option<String>) -> HttpResponse {
    let body = json!({ "errors": [{
        "message": "The database is unavailable; try again shortly.",
        "extensions": { "code": "SERVICE_UNAVAILABLE", "requestId": id },
    }] });
    let mut reply = match answer {
        Answer::GraphqlResponse => HttpResponse::ServiceUnavailable(),
        Answer::Json => HttpResponse::Ok(),
    };
    let mut reply = reply
        .content_type(answer.content_type())
        .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS))
        .json(body);
    reply.extensions_mut().insert(GraphqlExchange {
        operation: operation.unwrap_or_else(|| "none".into()),
        outcome: Outcome::Unavailable,
        statements: 0,
    });
    reply
}

/// 405 with `Allow: POST`: GET may only read (GraphQL over HTTP).
fn mutation_over_get(answer: Answer) -> HttpResponse {
    let mut response = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        answer,
        "Mutations must be sent with POST.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

/// POST /graphql with `Content-Type: application/json`.
pub async fn post(
    state: web::Data<AppState>,
    http: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let Some(answer) = negotiate(&http) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            Answer::Json,
            "Accept application/graphql-response+json or application/json.",
        );
    };
    let content_type = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media != JSON {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            answer,
            "Send the request as application/json.",
        );
    }
    let limit = state.max_body_bytes;
    // A declared length over the limit is refused before a byte of the body is read (actix
    // then closes the connection rather than wait for a body nobody reads). An unparsable
    // Content-Length never gets here: actix answers 400 itself.
    let declared = http
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            answer,
            &format!("The request body is larger than {limit} bytes."),
        );
    }
    // The whole body must arrive within the body timeout: a client declaring a body it never
    // sends, or trickling it, would otherwise hold the request (and a graceful shutdown) open.
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let Ok(chunk) = chunk else {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    answer,
                    "The request body could not be read.",
                ));
            };
            if body.len() + chunk.len() > limit {
                return Err(refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    answer,
                    &format!("The request body is larger than {limit} bytes."),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = match actix_web::rt::time::timeout(state.body_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(refused)) => return refused,
        Err(_) => {
            let mut refused = refuse(
                StatusCode::REQUEST_TIMEOUT,
                answer,
                &format!(
                    "The request body did not arrive within {} seconds.",
                    state.body_timeout.as_secs()
                ),
            );
            // The rest of the body may still be on its way: this connection is done.
            refused
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
            return refused;
        }
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refuse(
            StatusCode::BAD_REQUEST,
            answer,
            "Batched requests are not supported: send one operation per request.",
        );
    }
    match serde_json::from_slice::<Request>(&body) {
        Ok(request)
            if request.query.trim().is_empty()
                && !request.extensions.contains_key("persistedQuery") =>
        {
            refuse(
                StatusCode::BAD_REQUEST,
                answer,
                "The request has no `query`.",
            )
        }
        Ok(request) => execute(&state, &http, answer, request, false).await,
        Err(err) => refuse(
            StatusCode::BAD_REQUEST,
            answer,
            &format!(
                "The body is not a GraphQL request in JSON (`query`, `operationName`, `variables`): {err}"
            ),
        ),
    }
}

/// GET /graphql?query=…&operationName=…&variables=… (queries only).
pub async fn get(state: web::Data<AppState>, http: HttpRequest) -> HttpResponse {
    let Some(answer) = negotiate(&http) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            Answer::Json,
            "Accept application/graphql-response+json or application/json.",
        );
    };
    let params = match web::Query::<std::collections::HashMap<String, String>>::from_query(
        http.query_string(),
    ) {
        Ok(params) => params.into_inner(),
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                answer,
                "The query string could not be read.",
            );
        }
    };
    let persisted = params
        .get("extensions")
        .is_some_and(|e| e.contains("persistedQuery"));
    let query = params.get("query").cloned().unwrap_or_default();
    if query.is_empty() && !persisted {
        return refuse(
            StatusCode::BAD_REQUEST,
            answer,
            "Pass the operation in the `query` parameter.",
        );
    }
    let query = &query;
    let operation_name = params
        .get("operationName")
        .filter(|n| !n.is_empty())
        .cloned();
    let mut request = Request::new(query.clone());
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    for (key, field) in [("variables", "variables"), ("extensions", "extensions")] {
        if let Some(raw) = params.get(key).filter(|v| !v.is_empty()) {
            match serde_json::from_str::<serde_json::Value>(raw) {
                Ok(value @ serde_json::Value::Object(_)) if field == "variables" => {
                    request = request.variables(Variables::from_json(value));
                }
                Ok(value @ serde_json::Value::Object(_)) => {
                    // Extensions (a persisted query's hash) travel the same way as in a POST body.
                    match serde_json::from_value(json!({ "query": "", "extensions": value })) {
                        Ok(Request { extensions, .. }) => request.extensions = extensions,
                        Err(_) => {
                            return refuse(
                                StatusCode::BAD_REQUEST,
                                answer,
                                "`extensions` is not valid.",
                            );
                        }
                    }
                }
                _ => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        answer,
                        &format!("`{key}` must be a JSON object."),
                    );
                }
            }
        }
    }
    execute(&state, &http, answer, request, true).await
}
