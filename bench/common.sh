# shellcheck shell=bash
# The parts scripts/bench and scripts/bench-peers share, sourced by both after they have read
# their arguments: installing what is missing (PostgreSQL, pgbench, Python, oha), starting the
# PostgreSQL cluster and the role, building the release server, creating and generating the
# database (marked with `COMMENT ON DATABASE` so that `--reuse-db` knows its scale and seed), and
# capturing the SQL of one request from PostgreSQL's own statement log.
#
# The caller sets DB_NAME, OUT, SCALE, SEED, REUSE_DB, MIGRATE and BUILD before sourcing.

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_ROLE="${PG_ROLE:-partnerships}"
PG_PASSWORD="${PG_PASSWORD:-partnerships}"
PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_LOG="${PG_LOG:-/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log}"
OHA_VERSION="${OHA_VERSION:-1.16.0}"
TOOLS="python3 bench/tools.py"

log() { printf '==> %s\n' "$*" >&2; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi
}
# Superuser SQL on stdin (only the role and log_statement need it).
psql_super() { as_postgres "psql -q -X -v ON_ERROR_STOP=1 -p $PG_PORT"; }

SERVER_URL="postgres://$PG_ROLE:$PG_PASSWORD@$PG_HOST:$PG_PORT"
psql_role() { psql -q -X -v ON_ERROR_STOP=1 "$SERVER_URL/${PSQL_DB:-postgres}" "$@"; }
log_statements() { # all | RESET
  if [ "$1" = RESET ]; then
    echo "ALTER DATABASE \"$DB_NAME\" RESET log_statement;" | psql_super
  else
    echo "ALTER DATABASE \"$DB_NAME\" SET log_statement = '$1';" | psql_super
  fi
}
# Without TLS: the peers' driver (node-postgres) speaks plain TCP unless told otherwise, and
# sqlx would otherwise negotiate TLS with the local server (about 3 % of our nested list).
DATABASE_URL_BENCH="$SERVER_URL/$DB_NAME?sslmode=disable"

# --- tools -----------------------------------------------------------------------------------
need_apt() {
  log "Installing $* from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
bench_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v pg_ctlcluster >/dev/null 2>&1 || need_apt "postgresql-$PG_VERSION"
  command -v pgbench >/dev/null 2>&1 || need_apt "postgresql-client-$PG_VERSION"
  command -v python3 >/dev/null 2>&1 || need_apt python3
  if ! command -v oha >/dev/null 2>&1; then
    log "Installing the load generator oha $OHA_VERSION (cargo install, a few minutes)"
    cargo install oha --locked --version "$OHA_VERSION"
  fi
}

# --- PostgreSQL --------------------------------------------------------------------------------
bench_postgres() {
  if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {f=1} END {exit !f}'; then
    pg_createcluster "$PG_VERSION" "$PG_CLUSTER" >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 1; done
  psql_super <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
    CREATE ROLE "$PG_ROLE" LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SQL
}

# --- build -------------------------------------------------------------------------------------
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${PARTNERSHIPS_BIN:-$TARGET/release/partnerships}"
bench_build() {
  if [ -n "$BUILD" ]; then
    log "cargo build --release"
    cargo build --release --locked --bin partnerships
  fi
}

# --- data --------------------------------------------------------------------------------------
bench_database() {
  local mark="scale=$SCALE seed=$SEED" current started
  current=$(psql_role -Atc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB_NAME'" || true)
  if [ -n "$REUSE_DB" ] && [ "$current" = "$mark" ]; then
    log "Reusing $DB_NAME ($mark)"
    if [ -n "$MIGRATE" ]; then
      DATABASE_URL="$DATABASE_URL_BENCH" LOG_LEVEL=warn "$BIN" migrate up
    fi
  else
    log "Creating $DB_NAME and generating $mark"
    psql_role -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" -c "CREATE DATABASE \"$DB_NAME\""
    started=$(date +%s.%N)
    DATABASE_URL="$DATABASE_URL_BENCH" LOG_LEVEL=warn "$BIN" generate --migrate --scale "$SCALE" --seed "$SEED" \
      | tee "$OUT/generate.txt"
    psql_role -c "COMMENT ON DATABASE \"$DB_NAME\" IS '$mark'"
    log "generate took $(python3 -c "import time; print(round(time.time() - $started, 1))") s"
  fi
  log "VACUUM ANALYZE"
  PGOPTIONS="-c client_min_messages=error" PSQL_DB="$DB_NAME" psql_role -c "VACUUM ANALYZE"
}

# --- capture: the SQL of one request, from PostgreSQL's own statement log ------------------------
# capture_request URL WARM_BODY BODY TOKEN SQL_OUT: sends WARM_BODY once (prepared statements,
# caches, a peer's plan cache), then BODY, and writes the statements PostgreSQL logged for
# $DB_NAME during BODY to SQL_OUT as a pgbench script; prints how many there were. Needs
# `log_statements all` and no other client of $DB_NAME meanwhile.
capture_request() {
  local url="$1" warm="$2" body="$3" token="$4" out="$5" offset
  $TOOLS sample "$url" "$warm" -n 1 --token "$token" >/dev/null
  sleep 0.3
  offset=$(stat -c %s "$PG_LOG")
  $TOOLS sample "$url" "$body" -n 1 --token "$token" >/dev/null
  sleep 0.5
  $TOOLS capture "$PG_LOG" "$offset" "$DB_NAME" "$out"
}
