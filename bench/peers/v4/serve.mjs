// PostGraphile 4 (simplified inflection, connection filter with relation filters) over
// DATABASE_URL, read-only, production settings: no GraphiQL, no watch, no explain, no stack
// traces or extended errors, no query log. bench/peers/cluster.mjs forks one worker per core.
// HOST, PORT, PG_SCHEMA (public).
import pg from "pg";
import { postgraphile } from "postgraphile";
import PgSimplifyInflectorPlugin from "@graphile-contrib/pg-simplify-inflector";
import ConnectionFilterPlugin from "postgraphile-plugin-connection-filter";
import { PG_OPTIONS, POOL_MAX, runCluster, settings } from "../cluster.mjs";

process.env.NODE_ENV ||= "production";

runCluster(async () => {
  const { url, schema } = settings();
  const pool = new pg.Pool({ connectionString: url, max: POOL_MAX, options: PG_OPTIONS });
  const middleware = postgraphile(pool, schema, {
    appendPlugins: [PgSimplifyInflectorPlugin, ConnectionFilterPlugin],
    graphileBuildOptions: { connectionFilterRelations: true },
    disableDefaultMutations: true,
    graphqlRoute: "/graphql",
    graphiql: false,
    watchPg: false,
    showErrorStack: false,
    extendedErrors: [],
    allowExplain: false,
    disableQueryLog: true,
    enableQueryBatching: false,
    ignoreRBAC: false,
    legacyRelations: "omit",
    setofFunctionsContainNulls: false,
    retryOnInitFail: false,
  });
  await middleware.getGraphQLSchema();
  return middleware;
});
