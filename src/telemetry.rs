//! Logging setup: human-readable by default, JSON on request; and, when an OTLP endpoint is
//! configured, the same spans exported as OpenTelemetry traces.

use anyhow::Context;
use opentelemetry::{KeyValue, trace::TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Pretty,
    /// One JSON object per event, for log collectors.
    Json,
}

/// Where traces go, for `serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TraceSettings {
    /// Base URL of an OpenTelemetry collector speaking OTLP over HTTP (protobuf), e.g.
    /// `http://localhost:4318`; spans go to `<url>/v1/traces`. Unset: no traces are exported.
    /// Plain HTTP only: send to a collector or agent beside the server.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<url::Url>,
    /// The `service.name` the traces carry.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = "partnerships")]
    pub service_name: String,
}

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] sends the spans still buffered.
#[must_use = "dropping it loses the spans still buffered; call shutdown() before exiting"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(err) = provider.shutdown()
        {
            tracing::warn!(error = %err, "Failed to send the last traces");
        }
    }
}

fn filter(level: &str) -> EnvFilter {
    // sqlx logs every statement at INFO: its query target is held at WARN unless asked for.
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},sqlx::query=warn")))
}

fn log_layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    match format {
        LogFormat::Pretty => fmt::layer().boxed(),
        LogFormat::Json => fmt::layer().json().boxed(),
    }
}

/// Installs the global subscriber. `RUST_LOG` wins over `level` when set.
pub fn init(level: &str, format: LogFormat) {
    // A second init (tests spawning several apps) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter(level))
        .with(log_layer(format))
        .try_init();
}

/// Like [`init`], and with an OTLP endpoint also exports every span (one per request, with its
/// id, method, path, status, operation and outcome) as an OpenTelemetry trace.
pub fn init_with_traces(
    level: &str,
    format: LogFormat,
    traces: &TraceSettings,
) -> anyhow::Result<Telemetry> {
    let Some(endpoint) = &traces.otlp_endpoint else {
        init(level, format);
        return Ok(Telemetry { provider: None });
    };
    let url = endpoint
        .join("v1/traces")
        .context("OTEL_EXPORTER_OTLP_ENDPOINT is not a base URL")?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.as_str())
        .build()
        .context("Failed to set up the OTLP trace exporter")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(traces.service_name.clone())
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        )
        .build();
    let tracer = provider.tracer("partnerships");
    let _ = tracing_subscriber::registry()
        .with(filter(level))
        .with(log_layer(format))
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init();
    tracing::info!(endpoint = %url, "Exporting traces over OTLP");
    Ok(Telemetry {
        provider: Some(provider),
    })
}
