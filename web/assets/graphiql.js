// Starts GraphiQL on the server's endpoint, with the example operations as tabs, the Headers
// tab for tokens and the query-builder (explorer) plugin. The settings come from the page's
// JSON block; this file is served by the server, like every library the page loads.
(function () {
  'use strict';
  const config = JSON.parse(document.getElementById('page-config').textContent);
  const http = new URL(config.endpoint, window.location.href);
  // Subscriptions go over the same origin's WebSocket (graphql-ws protocol), once the server
  // speaks it; GraphiQL opens the socket only when a subscription runs.
  const ws = new URL(http.href);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  const tabs = config.tabs.map((tab) => ({ query: tab.query }));
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: http.href, subscriptionUrl: ws.href }),
      defaultTabs: tabs,
      defaultQuery: tabs.length ? tabs[0].query : undefined,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    }),
  );
})();
