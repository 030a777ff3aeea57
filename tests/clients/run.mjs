// Real clients against a running server: the GraphQL-over-HTTP audit suite (graphql-http),
// Apollo Client, urql and graphql-request, and subscriptions over WebSocket with graphql-ws,
// Apollo's GraphQLWsLink, urql's subscriptionExchange and the legacy subscriptions-transport-ws.
// Usage: node run.mjs http://127.0.0.1:PORT/graphql EDITOR_TOKEN
// Prints one JSON line with the figures and exits non-zero when a check fails.
import { serverAudits } from 'graphql-http';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { GraphQLClient, ClientError } from 'graphql-request';
import { createClient } from 'graphql-ws';
import legacy from 'subscriptions-transport-ws';
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node run.mjs URL EDITOR_TOKEN');
  process.exit(2);
}
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

// 1. The GraphQL-over-HTTP audits, counted by requirement level.
const audits = {};
const failed = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const level = audit.name.split(' ')[0];
  const result = await audit.fn();
  audits[level] ??= { passed: 0, total: 0 };
  audits[level].total += 1;
  if (result.status === 'ok') {
    audits[level].passed += 1;
  } else {
    failed.push({ level, name: audit.name, status: result.status, reason: result.reason });
  }
}
check(audits.MUST && audits.MUST.passed === audits.MUST.total, 'every MUST audit passes');

const GFA = `query { agreement(by: { slug: "ilo-undp-global-framework-of-action" }) { signedOn parties { nodes { acronym } } } }`;
const BAD = `{ organizations(first: 1000) { totalCount } }`;
const acronyms = (data) => data.agreement.parties.nodes.map((n) => n.acronym).sort().join(',');

// 2. Apollo Client.
const apollo = new ApolloClient({ link: new HttpLink({ uri: url, fetch }), cache: new InMemoryCache() });
const apolloData = (await apollo.query({ query: gql(GFA) })).data;
check(acronyms(apolloData) === 'ILO,UNDP' && apolloData.agreement.signedOn === '2020', 'Apollo Client reads the Global Framework');
let apolloCode;
try {
  await apollo.query({ query: gql(BAD), fetchPolicy: 'no-cache' });
} catch (error) {
  apolloCode = error.graphQLErrors?.[0]?.extensions?.code;
}
check(apolloCode === 'BAD_USER_INPUT', `Apollo Client sees the error code (got ${apolloCode})`);

// 3. urql (queries go as GET when they fit in a URL).
const urqlMethods = [];
const recordingFetch = (input, init) => {
  urqlMethods.push((init?.method ?? 'GET').toUpperCase());
  return fetch(input, init);
};
const urql = new Client({ url, exchanges: [cacheExchange, fetchExchange], preferGetMethod: true, fetch: recordingFetch });
const urqlResult = await urql.query(GFA, {}).toPromise();
check(!urqlResult.error && acronyms(urqlResult.data) === 'ILO,UNDP', 'urql reads the Global Framework over GET');
const urqlBad = await urql.query(BAD, {}, { requestPolicy: 'network-only' }).toPromise();
const urqlCode = urqlBad.error?.graphQLErrors?.[0]?.extensions?.code;
check(urqlCode === 'BAD_USER_INPUT', `urql sees the error code (got ${urqlCode})`);
check(urqlMethods.length === 2 && urqlMethods.every((m) => m === 'GET'), `urql sent its queries as GET (${urqlMethods})`);

// 4. graphql-request.
const plain = new GraphQLClient(url);
check(acronyms(await plain.request(GFA)) === 'ILO,UNDP', 'graphql-request reads the Global Framework');
let plainCode;
try {
  await plain.request(BAD);
} catch (error) {
  if (error instanceof ClientError) plainCode = error.response.errors?.[0]?.extensions?.code;
}
check(plainCode === 'BAD_USER_INPUT', `graphql-request sees the error code (got ${plainCode})`);

// 5. Subscriptions over WebSocket: each client subscribes, a mutation goes over HTTP, and the
// client receives the change with a nested field (the new organization's parent, the ILO).
const wsUrl = url.replace(/^http/, 'ws');
// The position before any change: cursors are opaque to clients, but this test starts from the
// beginning of a fresh database's log, so that no change made after subscribing can be missed.
const origin = Buffer.from('change:0').toString('base64url');
const CHANGES = `subscription($after: String) {
  changes(types: [ORGANIZATION], after: $after) { action cursor record { ... on Organization { name parent { acronym } } } }
}`;
const ilo = (await plain.request(`{ organization(by: { slug: "ilo" }) { id } }`)).organization.id;
const create = async (slug, name) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation($s: String!, $n: String!, $p: ID) { createOrganization(input: {slug: $s, name: $n, kind: OTHER, parent: $p}) { record { id } } }',
      variables: { s: slug, n: name, p: ilo },
    }),
  });
  const body = await response.json();
  check(!body.errors, `creating ${slug}: ${JSON.stringify(body.errors)}`);
};
const within = (promise, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no event within 15 s`)), 15000))]);
// Resolves with the first change whose record is named `name`.
const awaitChange = (subscribe, name) =>
  new Promise((resolve, reject) => {
    subscribe({
      next: (result) => {
        if (result.errors?.length) reject(new Error(JSON.stringify(result.errors)));
        const change = result.data?.changes;
        if (change?.record?.name === name) resolve(change);
      },
      error: (error) => reject(error instanceof Error ? error : new Error(`socket error ${error?.code ?? ''} ${error?.reason ?? JSON.stringify(error)}`)),
    });
  });
const subscriptions = {};
const expectChange = async (client, subscribe, slug, name) => {
  try {
    const pending = awaitChange(subscribe, name);
    await create(slug, name);
    const change = await within(pending, client);
    const ok = change.action === 'CREATED' && change.record.parent?.acronym === 'ILO' && typeof change.cursor === 'string';
    check(ok, `${client} receives the change with its nested parent (${JSON.stringify(change)})`);
    subscriptions[client] = ok;
  } catch (error) {
    check(false, `${client}: ${error.message}`);
    subscriptions[client] = false;
  }
};

// graphql-ws, the protocol library itself.
const wsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
await expectChange('graphql-ws', (sink) => wsClient.subscribe({ query: CHANGES, variables: { after: origin } }, sink), 'via-graphql-ws', 'Via graphql-ws');

// graphql-ws with a bad token: the server closes the socket with 4403 (Forbidden).
const badClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: 'Bearer not-a-token' } });
const badClose = await new Promise((resolve) => {
  badClient.subscribe({ query: CHANGES }, { next: () => resolve('next'), error: (e) => resolve(e?.code ?? String(e)), complete: () => resolve('complete') });
});
check(badClose === 4403, `a bad token closes the socket with 4403 (got ${badClose})`);
subscriptions.badTokenClose = badClose;

// Apollo Client with GraphQLWsLink.
const apolloWsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
const apolloWs = new ApolloClient({ link: new GraphQLWsLink(apolloWsClient), cache: new InMemoryCache() });
await expectChange(
  'apollo',
  (sink) => apolloWs.subscribe({ query: gql(CHANGES), variables: { after: origin }, fetchPolicy: 'no-cache' }).subscribe(sink),
  'via-apollo',
  'Via Apollo',
);

// urql with subscriptionExchange over graphql-ws.
const urqlWsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
const urqlWs = new Client({
  url,
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: urqlWsClient.subscribe({ ...request, query: request.query || '' }, sink) }),
      }),
    }),
  ],
});
await expectChange(
  'urql',
  (sink) =>
    urqlWs.subscription(CHANGES, { after: origin }).subscribe((result) => {
      if (result.error) sink.error(result.error);
      else sink.next({ data: result.data });
    }),
  'via-urql',
  'Via urql',
);

// The legacy protocol (graphql-ws subprotocol) with subscriptions-transport-ws.
const legacyClient = new legacy.SubscriptionClient(wsUrl, { reconnect: false }, WebSocket);
await expectChange(
  'subscriptions-transport-ws',
  (sink) => legacyClient.request({ query: CHANGES, variables: { after: origin } }).subscribe(sink),
  'via-legacy',
  'Via Legacy',
);

await Promise.allSettled([wsClient.dispose(), badClient.dispose(), apolloWsClient.dispose(), urqlWsClient.dispose()]);
legacyClient.close();

console.log(JSON.stringify({ audits, failed, failures, subscriptions }));
process.exit(failures.length === 0 ? 0 : 1);
