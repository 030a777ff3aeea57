// Real clients against a running server: the GraphQL-over-HTTP audit suite (graphql-http),
// Apollo Client, urql and graphql-request. Usage: node run.mjs http://127.0.0.1:PORT/graphql
// Prints one JSON line with the figures and exits non-zero when a check fails.
import { serverAudits } from 'graphql-http';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { GraphQLClient, ClientError } from 'graphql-request';

const url = process.argv[2];
if (!url) {
  console.error('usage: node run.mjs URL');
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

console.log(JSON.stringify({ audits, failed, failures }));
process.exit(failures.length === 0 ? 0 : 1);
