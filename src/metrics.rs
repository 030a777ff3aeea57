//! What the server counts, exported as Prometheus text at `/metrics`.
//!
//! Knows no web framework: the HTTP layer records into [`Metrics`] and asks it for the text.
//! Operation names come from clients, so they are capped ([`MAX_OPERATION_LABELS`]) before they
//! become label values: a client inventing a new name per request cannot grow the registry.

use std::{
    collections::HashSet,
    sync::{Mutex, PoisonError, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::store::PoolStats;

/// Distinct operation names kept as labels; later new names are counted as `other`.
pub const MAX_OPERATION_LABELS: usize = 200;

/// How a GraphQL request ended, from the client's point of view; later variants are graver.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Answered without errors.
    Ok,
    /// Executed, with errors the client caused (not found, bad input, conflict).
    Error,
    /// Refused before execution: unreadable request, parse or validation error, a limit.
    Rejected,
    /// The database was unreachable or too slow (SERVICE_UNAVAILABLE).
    Unavailable,
    /// A fault of the server (INTERNAL_SERVER_ERROR).
    Internal,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Rejected => "rejected",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabel {
    server: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabel {
    replica: String,
}

/// One replica as the watcher last found it, for `/metrics`.
#[derive(Debug, Clone)]
pub struct ReplicaStats {
    /// Its URL, password masked.
    pub name: String,
    pub up: bool,
    /// How stale it may be; `None`: further behind than the watcher remembers, or not checked.
    pub lag: Option<Duration>,
}

/// One GraphQL request, as the HTTP layer saw it.
#[derive(Debug, Clone)]
pub struct GraphqlRecord<'a> {
    /// The operation's name, `anonymous` or `none` (the request never named or parsed one).
    pub operation: &'a str,
    pub outcome: Outcome,
    pub duration: Duration,
    pub statements: u64,
}

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn statements_histogram() -> Histogram {
    Histogram::new([0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 100.0])
}

/// Subscriptions and their sockets (issue 13). Cheap to clone: every field shares its value.
#[derive(Debug, Clone)]
pub struct RealtimeMetrics {
    /// WebSocket connections open on /graphql.
    pub sockets_open: Gauge,
    /// Subscriptions running.
    pub subscriptions_active: Gauge,
    /// Change events sent to subscribers (replayed ones included).
    pub events_delivered: Counter,
    /// Changes replayed from the audit log per subscription that asked for `after`.
    pub replay_length: Histogram,
    /// Subscriptions ended because their subscriber fell too far behind.
    pub overflow_closes: Counter,
    /// Connections or subscriptions refused by a cap.
    pub refused: Counter,
}

impl Default for RealtimeMetrics {
    fn default() -> Self {
        Self {
            sockets_open: Gauge::default(),
            subscriptions_active: Gauge::default(),
            events_delivered: Counter::default(),
            replay_length: Histogram::new(exponential_buckets(1.0, 4.0, 10)),
            overflow_closes: Counter::default(),
            refused: Counter::default(),
        }
    }
}

impl RealtimeMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "websocket_connections",
            "WebSocket connections open on /graphql",
            self.sockets_open.clone(),
        );
        registry.register(
            "subscriptions_active",
            "GraphQL subscriptions running",
            self.subscriptions_active.clone(),
        );
        registry.register(
            "subscription_events_delivered",
            "Change events sent to subscribers, replayed ones included",
            self.events_delivered.clone(),
        );
        registry.register(
            "subscription_replay_length",
            "Changes replayed from the audit log by a subscription resuming with `after`",
            self.replay_length.clone(),
        );
        registry.register(
            "subscription_overflow_closes",
            "Subscriptions ended with SUBSCRIPTION_OVERFLOW (the subscriber fell too far behind)",
            self.overflow_closes.clone(),
        );
        registry.register(
            "subscription_refusals",
            "WebSocket connections and subscriptions refused by a cap",
            self.refused.clone(),
        );
    }
}

/// The server's metrics registry.
pub struct Metrics {
    registry: Registry,
    /// Subscriptions and sockets.
    pub realtime: RealtimeMetrics,
    graphql_requests: Family<OperationLabels, Counter>,
    graphql_duration: Family<OperationLabel, Histogram, fn() -> Histogram>,
    statements_per_request: Histogram,
    statements: Counter,
    http_responses: Family<StatusLabel, Counter>,
    in_flight: Gauge,
    pool_connections: Family<StateLabel, Gauge>,
    pool_max: Gauge,
    reads: Family<ServerLabel, Counter>,
    compiled_reads: Counter,
    replica_up: Family<ReplicaLabel, Gauge>,
    replica_lag: Family<ReplicaLabel, Gauge<f64, AtomicU64>>,
    operations: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("partnerships");
        let graphql_requests = Family::<OperationLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests by operation name and outcome (ok, error, rejected, unavailable, internal)",
            graphql_requests.clone(),
        );
        let graphql_duration =
            Family::<OperationLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "graphql_request_duration_seconds",
            "Time from a GraphQL request's arrival to its answer, by operation name",
            graphql_duration.clone(),
        );
        let statements_per_request = statements_histogram();
        registry.register(
            "graphql_sql_statements_per_request",
            "SQL statements one GraphQL request sent to the database",
            statements_per_request.clone(),
        );
        let compiled_reads = Counter::default();
        registry.register(
            "graphql_compiled_reads",
            "GraphQL reads answered by a compiled plan, rows written straight into the response, instead of field by field",
            compiled_reads.clone(),
        );
        let statements = Counter::default();
        registry.register(
            "sql_statements",
            "SQL statements sent to the database by GraphQL requests",
            statements.clone(),
        );
        let http_responses = Family::<StatusLabel, Counter>::default();
        registry.register(
            "http_responses",
            "HTTP responses by status code, every route included",
            http_responses.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being served right now",
            in_flight.clone(),
        );
        let pool_connections = Family::<StateLabel, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Open database connections, in use or idle",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "Most connections the pool may open (DB_MAX_CONNECTIONS)",
            pool_max.clone(),
        );
        let reads = Family::<ServerLabel, Counter>::default();
        registry.register(
            "graphql_reads",
            "Read-only GraphQL requests by the database server that answered them (primary or a replica's URL)",
            reads.clone(),
        );
        let replica_up = Family::<ReplicaLabel, Gauge>::default();
        registry.register(
            "db_replica_up",
            "1 while a replica answers as a standby, 0 while it does not (DATABASE_REPLICA_URLS)",
            replica_up.clone(),
        );
        let replica_lag = Family::<ReplicaLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "db_replica_lag_seconds",
            "How stale a replica may be: time since the primary last had nothing it has not replayed (+Inf: unknown)",
            replica_lag.clone(),
        );
        let realtime = RealtimeMetrics::default();
        realtime.register(&mut registry);
        Self {
            registry,
            realtime,
            reads,
            compiled_reads,
            replica_up,
            replica_lag,
            graphql_requests,
            graphql_duration,
            statements_per_request,
            statements,
            http_responses,
            in_flight,
            pool_connections,
            pool_max,
            operations: Mutex::new(HashSet::new()),
        }
    }

    /// The label an operation name is counted under: itself while fewer than
    /// [`MAX_OPERATION_LABELS`] names were seen, `other` past that.
    fn operation_label(&self, operation: &str) -> String {
        let mut seen = self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if seen.contains(operation) {
            return operation.to_owned();
        }
        if seen.len() < MAX_OPERATION_LABELS {
            seen.insert(operation.to_owned());
            return operation.to_owned();
        }
        "other".to_owned()
    }

    pub fn record_graphql(&self, record: &GraphqlRecord<'_>) {
        let operation = self.operation_label(record.operation);
        self.graphql_requests
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
                outcome: record.outcome.as_str(),
            })
            .inc();
        self.graphql_duration
            .get_or_create(&OperationLabel { operation })
            .observe(record.duration.as_secs_f64());
        self.statements_per_request
            .observe(record.statements as f64);
        self.statements.inc_by(record.statements);
    }

    pub fn record_response(&self, status: u16) {
        self.http_responses
            .get_or_create(&StatusLabel { status })
            .inc();
    }

    /// Counts a read-only request answered by `server` ("primary" or a replica's name).
    pub fn record_read(&self, server: &str) {
        self.reads
            .get_or_create(&ServerLabel {
                server: server.to_owned(),
            })
            .inc();
    }

    /// Counts a read answered by a compiled plan (`graphql::direct`).
    pub fn record_compiled(&self) {
        self.compiled_reads.inc();
    }

    /// Counts a request in flight until the guard drops.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// The Prometheus text exposition of every metric, the pool as `pool` shows it.
    pub fn render(&self, pool: PoolStats, replicas: &[ReplicaStats]) -> String {
        for replica in replicas {
            let label = ReplicaLabel {
                replica: replica.name.clone(),
            };
            self.replica_up
                .get_or_create(&label)
                .set(i64::from(replica.up));
            self.replica_lag
                .get_or_create(&label)
                .set(replica.lag.map_or(f64::INFINITY, |lag| lag.as_secs_f64()));
        }
        let in_use = pool.size.saturating_sub(pool.idle);
        self.pool_connections
            .get_or_create(&StateLabel { state: "in_use" })
            .set(i64::from(in_use));
        self.pool_connections
            .get_or_create(&StateLabel { state: "idle" })
            .set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Decrements the in-flight gauge when dropped (also when the request is cancelled).
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_past_the_cap_are_counted_as_other() {
        let metrics = Metrics::new();
        for n in 0..MAX_OPERATION_LABELS {
            assert_eq!(metrics.operation_label(&format!("Op{n}")), format!("Op{n}"));
        }
        assert_eq!(metrics.operation_label("OneTooMany"), "other");
        assert_eq!(metrics.operation_label("Op7"), "Op7");
    }

    #[test]
    fn the_text_names_each_family_with_its_help() {
        let metrics = Metrics::new();
        metrics.record_graphql(&GraphqlRecord {
            operation: "Partners",
            outcome: Outcome::Ok,
            duration: Duration::from_millis(3),
            statements: 4,
        });
        metrics.record_read("primary");
        let text = metrics.render(
            PoolStats {
                size: 3,
                idle: 1,
                max: 10,
            },
            &[ReplicaStats {
                name: "postgres://replica/db".into(),
                up: true,
                lag: Some(Duration::from_millis(250)),
            }],
        );
        for line in [
            "partnerships_graphql_requests_total{operation=\"Partners\",outcome=\"ok\"} 1",
            "partnerships_graphql_sql_statements_per_request_sum 4.0",
            "partnerships_db_pool_connections{state=\"in_use\"} 2",
            "partnerships_db_pool_connections{state=\"idle\"} 1",
            "partnerships_db_pool_max_connections 10",
            "partnerships_graphql_reads_total{server=\"primary\"} 1",
            "partnerships_db_replica_up{replica=\"postgres://replica/db\"} 1",
            "partnerships_db_replica_lag_seconds{replica=\"postgres://replica/db\"} 0.25",
            "# HELP partnerships_graphql_request_duration_seconds",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
    }
}
