// The partnership explorer. It asks the public GraphQL API the questions a frontend would, with
// the `explore-*` operations of the repository's examples/ folder (the page's JSON block carries
// their text, so an allow-list of examples/ lets them through), and draws the answers with
// Cytoscape. Everything it loads comes from the server it is served by.
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('page-config').textContent);
  const $ = (id) => document.getElementById(id);

  // ---- GraphQL ------------------------------------------------------------------------------

  /** Runs one of the explorer's operations; throws with the server's messages on errors. */
  async function graphql(operation, variables) {
    const response = await fetch(config.endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
      },
      body: JSON.stringify({ query: config.operations[operation], variables }),
    });
    let body;
    try {
      body = await response.json();
    } catch (_) {
      throw new Error(`The server answered ${response.status} without a GraphQL response.`);
    }
    if (body.errors && body.errors.length) {
      throw new Error(body.errors.map((e) => e.message).join(' '));
    }
    return body.data;
  }

  // ---- small DOM helpers --------------------------------------------------------------------

  /** An element with attributes and children (strings become text, never HTML). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'className') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /**
   * A search snippet as DOM: the API escapes the text and marks matches with <mark>; it is
   * parsed inertly and only its text and <mark>s are kept.
   */
  function snippet(html) {
    const parsed = new DOMParser().parseFromString(html, 'text/html');
    const out = el('span', { className: 'snippet' });
    for (const node of parsed.body.childNodes) {
      if (node.nodeName === 'MARK') out.append(el('mark', {}, node.textContent));
      else out.append(node.textContent);
    }
    return out;
  }

  function showStatus(message, isError) {
    const status = $('status');
    status.textContent = message || '';
    status.className = isError ? 'error' : '';
    delete status.dataset.search;
  }

  const label = (org) => org.acronym || org.name;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // ---- search -------------------------------------------------------------------------------

  /** A search box that lists organizations as buttons and calls `pick` with the chosen one. */
  function searchBox(input, list, pick) {
    let timer;
    let asked = 0;
    async function run() {
      const text = input.value.trim();
      const ask = ++asked;
      if (text.length < 2) {
        list.replaceChildren();
        return;
      }
      try {
        const data = await graphql('search', { query: text, first: 10 });
        if (ask !== asked) return; // a newer search is on its way
        if ($('status').dataset.search) showStatus('');
        const hits = data.search.nodes.filter((hit) => hit.record && hit.record.slug);
        list.replaceChildren(
          ...(hits.length
            ? hits.map((hit) =>
                el(
                  'li',
                  {},
                  el(
                    'button',
                    { type: 'button', 'data-slug': hit.record.slug, onclick: () => pick(hit.record) },
                    el('strong', {}, hit.record.acronym || hit.record.name),
                    hit.record.acronym ? ` ${hit.record.name}` : '',
                    snippet(hit.snippet),
                  ),
                ),
              )
            : [el('li', { className: 'hint' }, `No organization matches “${text}”.`)]),
        );
      } catch (error) {
        if (ask === asked) {
          showStatus(`Search failed: ${error.message}`, true);
          $('status').dataset.search = 'failed';
        }
      }
    }
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
    input.form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearTimeout(timer);
      const first = list.querySelector('button');
      if (first) first.click();
      else run();
    });
  }

  // ---- the selected organization ------------------------------------------------------------

  const state = { slug: null, organization: null, nodes: new Map(), cy: null };

  async function select(slug) {
    state.slug = slug;
    const url = new URL(window.location.href);
    url.searchParams.set('org', slug);
    window.history.replaceState(null, '', url);
    $('search-results').replaceChildren();
    $('path-results').replaceChildren();
    $('paths').replaceChildren();
    showStatus('Loading…');
    await Promise.all([drawNetwork(), drawTimeline()]);
  }

  function via() {
    const kinds = [...document.querySelectorAll('input[name="via"]:checked')].map((i) => i.value);
    return kinds.length === 3 ? null : kinds;
  }

  // ---- network ------------------------------------------------------------------------------

  const DEPTH_COLOURS = ['#1d2733', '#1f5f99', '#5e9bd1', '#a9c9e6'];
  const DEPTH_SIZES = [46, 32, 24, 18];
  const KIND_COLOURS = { AGREEMENT: '#c0662b', PROJECT: '#2f8a4c', EVENT: '#7b4fa6' };

  async function drawNetwork() {
    const slug = state.slug;
    const kinds = via();
    const graph = $('graph');
    graph.dataset.state = 'loading';
    if (kinds && kinds.length === 0) {
      showStatus('Pick at least one kind of record to draw links through.', true);
      return;
    }
    let data;
    try {
      data = await graphql('network', { slug, depth: Number($('depth').value), via: kinds });
    } catch (error) {
      showStatus(`The network could not be loaded: ${error.message}`, true);
      graph.dataset.state = 'error';
      return;
    }
    if (slug !== state.slug) return;
    const organization = data.organization;
    if (!organization) {
      showStatus(`There is no organization “${slug}”.`, true);
      return;
    }
    state.organization = organization;
    $('organization').hidden = false;
    $('org-name').textContent = organization.acronym
      ? `${organization.name} (${organization.acronym})`
      : organization.name;
    $('org-meta').replaceChildren(
      organization.kind.toLowerCase().replace(/_/g, ' '),
      organization.website ? ' · ' : '',
      organization.website
        ? el('a', { href: organization.website, rel: 'noopener noreferrer' }, organization.website)
        : '',
    );

    const { nodes, links } = organization.network;
    state.nodes = new Map(nodes.map((n) => [n.id, n]));
    const maxWeight = Math.max(1, ...links.map((l) => l.weight));
    const elements = [
      ...nodes.map((n, i) => ({
        group: 'nodes',
        data: {
          id: n.id,
          slug: n.organization.slug,
          label: label(n.organization),
          depth: n.depth,
        },
        // A deterministic start (rings by distance) for the force-directed layout.
        position: ring(i, n.depth, nodes),
      })),
      ...links.map((l) => ({
        group: 'edges',
        data: {
          id: `${l.source}|${l.target}`,
          source: l.source,
          target: l.target,
          weight: l.weight,
          colour: l.kinds.length === 1 ? KIND_COLOURS[l.kinds[0]] : '#7d8896',
          summary: linkSummary(l),
        },
      })),
    ];
    if (state.cy) state.cy.destroy();
    state.cy = cytoscape({
      container: graph,
      elements,
      minZoom: 0.2,
      maxZoom: 3,
      style: [
        {
          selector: 'node',
          style: {
            label: 'data(label)',
            'font-size': 11,
            'text-valign': 'bottom',
            'text-margin-y': 3,
            color: '#1d2733',
            'text-outline-color': '#ffffff',
            'text-outline-width': 2,
            'text-wrap': 'ellipsis',
            'text-max-width': '110px',
            width: (n) => DEPTH_SIZES[n.data('depth')] || 16,
            height: (n) => DEPTH_SIZES[n.data('depth')] || 16,
            'background-color': (n) => DEPTH_COLOURS[n.data('depth')] || '#c7d9ea',
          },
        },
        {
          selector: 'edge',
          style: {
            width: `mapData(weight, 1, ${Math.max(2, maxWeight)}, 1.5, 9)`,
            'line-color': 'data(colour)',
            opacity: 0.7,
            'curve-style': 'haystack',
          },
        },
        { selector: 'edge:selected', style: { opacity: 1, 'line-color': '#e0a100' } },
        { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#e0a100' } },
      ],
      layout: {
        name: 'cose',
        animate: false,
        randomize: false,
        fit: true,
        padding: 30,
        // Spread enough for the labels of a few dozen organizations (the seed's largest
        // neighbourhoods) to stay apart.
        nodeRepulsion: () => 400000,
        idealEdgeLength: () => 100,
        nodeOverlap: 20,
        gravity: 0.25,
        componentSpacing: 60,
      },
    });
    state.cy.on('tap', 'node', (event) => {
      const target = event.target.data('slug');
      if (target && target !== state.slug) select(target);
    });
    state.cy.on('tap', 'edge', (event) => showShared(event.target.data()));

    $('members-title').textContent =
      `${plural(nodes.length, 'organization', 'organizations')} and ` +
      `${plural(links.length, 'link', 'links')} in this network`;
    $('members-list').replaceChildren(
      ...nodes.map((n) =>
        el(
          'li',
          {},
          el(
            'button',
            { type: 'button', onclick: () => n.organization.slug !== state.slug && select(n.organization.slug) },
            label(n.organization),
          ),
          n.organization.acronym ? ` ${n.organization.name}` : '',
          n.depth ? el('span', { className: 'kind' }, ` · ${plural(n.depth, 'hop', 'hops')}`) : '',
        ),
      ),
    );
    $('shared-title').textContent = 'Shared records';
    $('shared-hint').textContent = links.length
      ? 'Click a link in the drawing.'
      : 'No partner shares a record of these kinds.';
    $('shared-list').replaceChildren();
    graph.setAttribute(
      'aria-label',
      `The partnership network of ${organization.name}: ${nodes.map((n) => label(n.organization)).join(', ')}`,
    );
    graph.dataset.centre = organization.slug;
    graph.dataset.state = 'ready';
    showStatus('');
  }

  /** A starting position on the ring of the node's distance. */
  function ring(index, depth, nodes) {
    const same = nodes.filter((n) => n.depth === depth);
    const at = same.indexOf(nodes[index]);
    const angle = (2 * Math.PI * at) / Math.max(1, same.length);
    return { x: Math.cos(angle) * depth * 140, y: Math.sin(angle) * depth * 140 };
  }

  function linkSummary(link) {
    return [
      link.agreements && plural(link.agreements, 'agreement', 'agreements'),
      link.projects && plural(link.projects, 'project', 'projects'),
      link.events && plural(link.events, 'event', 'events'),
    ]
      .filter(Boolean)
      .join(', ');
  }

  /** What the two ends of a link share: the one-step connection between them. */
  async function showShared(link) {
    const from = state.nodes.get(link.source);
    const to = state.nodes.get(link.target);
    if (!from || !to) return;
    $('shared-title').textContent = `${label(from.organization)} and ${label(to.organization)}`;
    $('shared-hint').textContent = `They share ${link.summary}.`;
    $('shared-list').replaceChildren(el('li', { className: 'hint' }, 'Loading…'));
    try {
      const data = await graphql('connection', {
        from: from.organization.slug,
        to: to.organization.slug,
        maxHops: 1,
        first: 1,
      });
      const step = data.connection[0] && data.connection[0].steps[0];
      const kinds = via();
      const records = step
        ? step.via.filter((r) => !kinds || kinds.includes(r.__typename.toUpperCase()))
        : [];
      $('shared-list').replaceChildren(...records.map(recordItem));
      $('shared').dataset.state = 'ready';
    } catch (error) {
      $('shared-list').replaceChildren(el('li', {}, `Could not load them: ${error.message}`));
    }
  }

  function recordItem(record) {
    const start = record.signedOn || record.startsOn;
    const end = record.endsOn && record.endsOn !== start ? record.endsOn : null;
    return el(
      'li',
      {},
      el('span', { className: 'kind' }, record.__typename),
      ' ',
      record.title || record.name,
      start ? ` (${formatDate(start)}${end ? ` – ${formatDate(end)}` : ''})` : '',
      record.location ? `, ${record.location}` : '',
    );
  }

  // ---- timeline -----------------------------------------------------------------------------

  const MONTHS = [
    'January', 'February', 'March', 'April', 'May', 'June',
    'July', 'August', 'September', 'October', 'November', 'December',
  ];

  /** A partial date (`2020`, `2014-10`, `2024-03-28`) as the period it names, in UTC ms. */
  function period(date) {
    const [y, m, d] = date.split('-').map(Number);
    if (d) return { precision: 'day', start: Date.UTC(y, m - 1, d), end: Date.UTC(y, m - 1, d + 1) };
    if (m) return { precision: 'month', start: Date.UTC(y, m - 1, 1), end: Date.UTC(y, m, 1) };
    return { precision: 'year', start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) };
  }

  /** A partial date in words, no more precise than it is. */
  function formatDate(date) {
    const [y, m, d] = date.split('-').map(Number);
    if (d) return `${d} ${MONTHS[m - 1]} ${y}`;
    if (m) return `${MONTHS[m - 1]} ${y}`;
    return String(y);
  }

  const WHAT = {
    AGREEMENT_SIGNED: 'Agreement signed',
    PROJECT_STARTED: 'Project started',
    PROJECT_ENDED: 'Project ended',
    EVENT_HELD: 'Event held',
    JOINED_AGREEMENT: 'Joined',
  };

  async function drawTimeline() {
    const slug = state.slug;
    const box = $('timeline');
    box.dataset.state = 'loading';
    const entries = [];
    let after = null;
    let total = 0;
    try {
      // Pages of 100, up to 500 entries.
      for (let page = 0; page < 5; page++) {
        const data = await graphql('timeline', { slug, first: 100, after });
        if (slug !== state.slug) return;
        entries.push(...data.timeline.nodes);
        total = data.timeline.totalCount;
        if (!data.timeline.pageInfo.hasNextPage) break;
        after = data.timeline.pageInfo.endCursor;
      }
    } catch (error) {
      box.replaceChildren(el('p', { className: 'hint' }, `The timeline could not be loaded: ${error.message}`));
      box.dataset.state = 'error';
      return;
    }
    if (!entries.length) {
      box.replaceChildren(el('p', { className: 'hint' }, 'No dated agreement, project or event.'));
      box.dataset.state = 'ready';
      return;
    }
    const periods = entries.map((e) => period(e.date));
    const firstYear = new Date(Math.min(...periods.map((p) => p.start))).getUTCFullYear();
    const lastYear = new Date(Math.max(...periods.map((p) => p.end)) - 1).getUTCFullYear() + 1;
    const t0 = Date.UTC(firstYear, 0, 1);
    const t1 = Date.UTC(lastYear, 0, 1);
    const at = (t) => `${(100 * (t - t0)) / (t1 - t0)}%`;

    const step = Math.max(1, Math.ceil((lastYear - firstYear) / 8));
    const ticks = [];
    // A label at the start of each year it names (the axis ends where the last year ends).
    for (let year = firstYear; year < lastYear; year += step) {
      const tick = el('span', { className: 'tick' }, year);
      tick.style.left = at(Date.UTC(year, 0, 1));
      ticks.push(tick);
    }
    const axis = el(
      'div',
      { className: 'timeline-row timeline-axis', 'aria-hidden': 'true' },
      el('span', {}, 'Date'),
      el('span', { className: 'track' }, ticks),
      el('span', {}, 'What happened'),
    );
    const rows = entries.map((entry, i) => {
      const p = periods[i];
      const mark = el('span', {
        className: `mark ${entry.kind} ${p.precision}`,
        title: `${formatDate(entry.date)} (${p.precision === 'day' ? 'the day' : `the ${p.precision} only`})`,
      });
      mark.style.left = at(p.precision === 'day' ? (p.start + p.end) / 2 : p.start);
      if (p.precision !== 'day') mark.style.width = `${(100 * (p.end - p.start)) / (t1 - t0)}%`;
      const record = entry.agreement || entry.project || entry.event || {};
      return el(
        'li',
        { className: 'timeline-row', 'data-kind': entry.kind, 'data-date': entry.date },
        el('span', { className: 'when' }, formatDate(entry.date)),
        el('span', { className: 'track' }, mark),
        el(
          'span',
          { className: 'what' },
          el('span', { className: 'kind' }, WHAT[entry.kind] || entry.kind),
          ' ',
          record.title || record.name || '',
          record.location ? `, ${record.location}` : '',
        ),
      );
    });
    const note =
      total > entries.length
        ? el('p', { className: 'hint' }, `The first ${entries.length} of ${total} entries.`)
        : null;
    box.replaceChildren(axis, el('ol', { className: 'timeline-list' }, rows), note || '');
    box.dataset.state = 'ready';
  }

  // ---- paths --------------------------------------------------------------------------------

  async function drawPaths(target) {
    const from = state.organization;
    $('path-results').replaceChildren();
    $('path-search').value = target.acronym || target.name;
    const box = $('paths');
    box.dataset.state = 'loading';
    box.replaceChildren(el('p', { className: 'hint' }, 'Looking for paths…'));
    let data;
    try {
      data = await graphql('connection', {
        from: from.slug,
        to: target.slug,
        maxHops: Number($('max-hops').value),
        first: 5,
      });
    } catch (error) {
      box.replaceChildren(el('p', { className: 'hint' }, `No paths: ${error.message}`));
      box.dataset.state = 'error';
      return;
    }
    const paths = data.connection;
    if (!paths.length) {
      box.replaceChildren(
        el('p', { className: 'hint' }, `${label(from)} and ${label(target)} are not connected within ${plural(Number($('max-hops').value), 'step', 'steps')}.`),
      );
    } else {
      box.replaceChildren(
        el('p', {}, `${plural(paths.length, 'shortest path', 'shortest paths')} of ${plural(paths[0].hops, 'step', 'steps')}:`),
        el(
          'ol',
          {},
          paths.map((path) =>
            el(
              'li',
              { className: 'path' },
              path.steps.map((step, i) => [
                i === 0 ? orgButton(step.from) : '',
                el(
                  'span',
                  { className: 'via' },
                  ` —(${step.via.map((r) => r.title || r.name).join('; ')})→ `,
                ),
                orgButton(step.to),
              ]),
            ),
          ),
        ),
      );
    }
    box.dataset.state = 'ready';
  }

  function orgButton(org) {
    return el(
      'button',
      { type: 'button', className: 'org-link', title: org.name, onclick: () => select(org.slug) },
      label(org),
    );
  }

  // ---- wiring -------------------------------------------------------------------------------

  searchBox($('search'), $('search-results'), (org) => {
    $('search').value = '';
    select(org.slug);
  });
  searchBox($('path-search'), $('path-results'), drawPaths);
  $('depth').addEventListener('change', () => state.slug && drawNetwork());
  for (const box of document.querySelectorAll('input[name="via"]')) {
    box.addEventListener('change', () => state.slug && drawNetwork());
  }
  $('network-form').addEventListener('submit', (event) => event.preventDefault());

  // For tests and the browser console: the drawing's Cytoscape instance.
  window.partnershipsExplorer = {
    get cy() {
      return state.cy;
    },
  };

  const start = new URL(window.location.href).searchParams.get('org');
  if (start) select(start);
})();
