// Starts GraphQL Playground on the server's endpoint with the example operations as tabs. The
// settings come from the page's JSON block; this file, like Playground itself, is served by the
// server.
(function () {
  'use strict';
  const config = JSON.parse(document.getElementById('page-config').textContent);
  const http = new URL(config.endpoint, window.location.href);
  // Subscriptions use the legacy subscriptions-transport-ws protocol (`graphql-ws`) on the same
  // origin, once the server speaks it.
  const ws = new URL(http.href);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  window.addEventListener('load', function () {
    document.getElementById('loading').remove();
    GraphQLPlayground.init(document.getElementById('root'), {
      endpoint: http.href,
      subscriptionEndpoint: ws.href,
      tabs: config.tabs.map((tab) => ({ endpoint: http.href, name: tab.name, query: tab.query })),
      settings: {
        // Playground asks for the schema every two seconds by default; once is enough here.
        'schema.polling.enable': false,
        'request.credentials': 'same-origin',
      },
    });
  });
})();
