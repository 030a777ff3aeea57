// Commit-to-client latency of the change feed: N subscribers (one graphql-ws socket each, the
// way Apollo and urql connect) subscribe to `changes(types: [EVENT])`; then M events are created
// one after another over HTTP, and every subscriber records when each change reaches it. The
// latency of a delivery is its arrival minus the moment the mutation's response came back (the
// commit is done by then), so it measures the feed alone: NOTIFY, the feed's read of the log,
// the fan-out, the record's load and the socket. Prints one JSON line.
//
// Then, with HOLD seconds, it keeps the sockets open that long (writing the file READY when it
// starts holding), for scripts/bench-subscriptions to measure write throughput meanwhile, and
// reports the deliveries and SUBSCRIPTION_OVERFLOW endings of that time.
//
// Usage: node bench/subscriptions.mjs URL TOKEN [subscribers=1000] [writes=50] [HOLD READY]
// Run by scripts/bench-subscriptions, which starts the server; graphql-ws and ws come from
// tests/clients (npm ci --prefix tests/clients).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/clients/package.json', import.meta.url));
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

import { writeFileSync } from 'node:fs';

const [url, token, subscribersArg = '1000', writesArg = '50', holdArg = '0', readyFile] =
  process.argv.slice(2);
const hold = Number(holdArg);
const subscribers = Number(subscribersArg);
const writes = Number(writesArg);
const wsUrl = url.replace(/^http/, 'ws');
const run = `${Date.now()}`;

const SUBSCRIPTION = `subscription { changes(types: [EVENT]) { cursor action record { ... on Event { slug name } } } }`;
const CREATE = `mutation($slug: String!, $name: String!) {
  createEvent(input: { slug: $slug, name: $name, kind: FORUM, startsOn: "2026-11" }) { record { id } }
}`;

const committedAt = new Map(); // slug -> ms when the mutation's response arrived
const arrivals = []; // [slug, ms]
let ready = 0;
let holding = false;
let heldDeliveries = 0;
const endings = {}; // extensions.code -> count, while holding
const clients = [];

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

await new Promise((resolve, reject) => {
  for (let i = 0; i < subscribers; i++) {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => {
          ready += 1;
          if (ready === subscribers) setTimeout(resolve, 500);
        },
      },
    });
    clients.push(client);
    client.subscribe(
      { query: SUBSCRIPTION },
      {
        next: (message) => {
          if (holding) {
            heldDeliveries += 1;
            return;
          }
          const slug = message?.data?.changes?.record?.slug;
          if (slug && slug.startsWith(`sub-bench-${run}-`)) arrivals.push([slug, performance.now()]);
        },
        error: (error) => {
          if (!holding) reject(new Error(`subscriber ${i}: ${JSON.stringify(error)}`));
          const code = (Array.isArray(error) && error[0]?.extensions?.code) || 'OTHER';
          endings[code] = (endings[code] || 0) + 1;
        },
        complete: () => {},
      },
    );
  }
  setTimeout(() => reject(new Error(`only ${ready} of ${subscribers} sockets connected in 60 s`)), 60_000);
});

const started = performance.now();
for (let n = 0; n < writes; n++) {
  const slug = `sub-bench-${run}-${n}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: CREATE, variables: { slug, name: `Subscription bench ${n}` } }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  committedAt.set(slug, performance.now());
  await new Promise((r) => setTimeout(r, 20));
}
const expected = subscribers * writes;
const deadline = performance.now() + 30_000;
while (arrivals.length < expected && performance.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
}
const elapsed = (performance.now() - started) / 1000;
const latencies = arrivals
  .filter(([slug]) => committedAt.has(slug))
  .map(([slug, at]) => at - committedAt.get(slug))
  .sort((a, b) => a - b);
const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
const complete = arrivals.length === expected;
if (hold > 0) {
  holding = true;
  writeFileSync(readyFile, 'holding');
  await new Promise((r) => setTimeout(r, hold * 1000));
}
console.log(
  JSON.stringify({
    subscribers,
    writes,
    expected_deliveries: expected,
    deliveries: arrivals.length,
    p50_ms: round(percentile(latencies, 50)),
    p95_ms: round(percentile(latencies, 95)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(latencies.at(-1) ?? null),
    seconds: round(elapsed),
    held_seconds: hold,
    held_deliveries: heldDeliveries,
    held_endings: endings,
  }),
);
for (const client of clients) client.dispose();
process.exit(complete ? 0 : 1);
