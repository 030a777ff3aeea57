// One PostGraphile worker per core, as our server runs one actix worker per core: node's
// `cluster` primary forks PEER_WORKERS workers (default: the cores node sees) that share the
// port (the primary hands connections out in turn). GET /healthz answers 200 only once every
// worker has built its schema and listens, so `bench/tools.py wait` returns when all can serve.
// SIGTERM/SIGINT on the primary stop the workers, then the primary.
import cluster from "node:cluster";
import { createServer } from "node:http";
import os from "node:os";

export const WORKERS = Number(process.env.PEER_WORKERS || os.availableParallelism());
// The same total of database connections as our server's pool (DB_MAX_CONNECTIONS, 10 by
// default), shared among the workers: each worker has its own pool.
export const POOL_MAX = Number(
  process.env.PEER_POOL_MAX ||
    Math.max(1, Math.ceil(Number(process.env.DB_MAX_CONNECTIONS || 10) / WORKERS)),
);
// Every connection of the peer is read-only: the benchmark reads, and a peer must not write.
export const PG_OPTIONS = "-c default_transaction_read_only=on";

export function settings() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is required");
  return {
    url,
    host: process.env.HOST || "127.0.0.1",
    port: Number(process.env.PORT || 5000),
    schema: process.env.PG_SCHEMA || "public",
  };
}

/**
 * Runs `makeHandler` in each worker: it returns (after building its schema) a node request
 * handler for everything but /healthz.
 */
export function runCluster(makeHandler) {
  const { host, port } = settings();
  if (cluster.isPrimary) {
    let listening = 0;
    let stopping = false;
    for (let i = 0; i < WORKERS; i++) cluster.fork();
    cluster.on("listening", () => {
      listening += 1;
      if (listening === WORKERS) {
        for (const w of Object.values(cluster.workers)) w.send("ready");
        console.log(`peer: ${WORKERS} workers on http://${host}:${port}/graphql, pool ${POOL_MAX} each`);
      }
    });
    cluster.on("exit", (w, code, signal) => {
      if (!stopping) {
        console.error(`peer: worker ${w.process.pid} exited (${signal || code}); stopping`);
        stop(1);
      } else if (Object.keys(cluster.workers).length === 0) {
        process.exit(0);
      }
    });
    const stop = (code = 0) => {
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.process.kill("SIGTERM");
      setTimeout(() => process.exit(code), 3000).unref();
      if (Object.keys(cluster.workers).length === 0) process.exit(code);
    };
    process.on("SIGTERM", () => stop(0));
    process.on("SIGINT", () => stop(0));
    return;
  }
  let ready = false;
  process.on("message", (m) => {
    if (m === "ready") ready = true;
  });
  process.on("SIGTERM", () => process.exit(0));
  Promise.resolve(makeHandler())
    .then((handler) => {
      const server = createServer((req, res) => {
        if (req.url === "/healthz") {
          res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
          res.end(ready ? "ok\n" : "starting\n");
          return;
        }
        handler(req, res);
      });
      server.keepAliveTimeout = 65_000;
      server.listen(port, host);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
