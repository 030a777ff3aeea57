# Multi-stage build: compile in the Rust image, run from a small Debian image as a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin partnerships \
    && cp target/release/partnerships /partnerships

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app partnerships
WORKDIR /app
COPY --from=build /partnerships /usr/local/bin/partnerships
COPY data/ilo-partnerships.yaml /app/data/ilo-partnerships.yaml
RUN chown -R partnerships /app
USER partnerships
ENV HOST=0.0.0.0 PORT=8080 LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["partnerships"]
CMD ["serve"]
