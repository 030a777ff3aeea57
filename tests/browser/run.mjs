// The server's web pages in a real browser: Debian's Chromium, headless, driven by
// playwright-core. Every request that is not to the server's origin is refused and recorded,
// and so is every console error, page error, CSP violation and failed response; any of them
// fails the run.
//
// Usage: node run.mjs http://127.0.0.1:PORT ARTIFACT_DIR
// Prints one JSON line (what was checked, what failed) and exits non-zero when a check fails.
// Screenshots go to ARTIFACT_DIR. CHROMIUM overrides the browser (default /usr/bin/chromium).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node run.mjs BASE_URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;
const host = new URL(base).host;

const failures = [];
const passed = [];
const offOrigin = [];
const problems = [];
const check = (ok, what) => (ok ? passed : failures).push(what);

/** A URL on the server: same origin, or its WebSocket (same host and port). */
const ours = (url) => {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:' || url === 'about:blank') return true;
    if (u.protocol === 'ws:' || u.protocol === 'wss:') return u.host === host;
    return u.origin === origin;
  } catch {
    return false;
  }
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Playwright turns Chromium's sandbox off by default (it cannot run as root, and CI is root).
  args: ['--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
// Refuse and record every request leaving the origin.
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (ours(url)) return route.continue();
  offOrigin.push(url);
  return route.abort('blockedbyclient');
});

/** A page whose console errors, page errors, failed requests and WebSockets are recorded. */
async function open(name, path) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (ours(request.url())) {
      problems.push(`${name}: request failed: ${request.url()} (${request.failure()?.errorText})`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${name}: ${response.status()} for ${response.url()}`);
  });
  page.on('websocket', (socket) => {
    if (!ours(socket.url())) offOrigin.push(socket.url());
  });
  const response = await page.goto(`${origin}${path}`, { waitUntil: 'load' });
  check(response?.status() === 200, `${name}: ${path} answers 200 (got ${response?.status()})`);
  const csp = (await response?.allHeaders())?.['content-security-policy'] ?? '';
  check(csp.includes("default-src 'self'"), `${name}: a CSP with default-src 'self' (got "${csp}")`);
  const scripts = / script-src ([^;]*)/.exec(csp)?.[1] ?? '';
  check(scripts.trim() === "'self'", `${name}: scripts from its own origin only (script-src ${scripts})`);
  return page;
}

const shot = (page, file) => page.screenshot({ path: join(artifacts, file), fullPage: false });

/** The text of a CodeMirror 5 editor (GraphiQL's and Playground's result panes). */
const editorText = (page, selector) =>
  page.$eval(selector, (node) => node.innerText).catch(() => '');

async function step(name, run) {
  try {
    await run();
  } catch (error) {
    failures.push(`${name}: ${error.message.split('\n')[0]}`);
  }
}

// 1. GraphiQL: loads, opens on the examples, runs the first one and shows its data.
await step('graphiql', async () => {
  const page = await open('graphiql', '/graphql');
  await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
  const tabs = await page.$$('.graphiql-tab');
  check(tabs.length >= 12, `graphiql: one tab per example (${tabs.length})`);
  const headers = await page.getByRole('button', { name: 'Headers' }).count();
  check(headers === 1, 'graphiql: a Headers tab for tokens');
  const explorer = await page.locator('[aria-label="Show GraphiQL Explorer"]').count();
  check(explorer === 1, 'graphiql: the explorer plugin is there');
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => document.querySelector('.result-window')?.innerText.includes('United Nations Development Programme'),
    null,
    { timeout: 20_000 },
  );
  const result = await editorText(page, '.result-window');
  check(result.includes('"signedOn": "2020"'), 'graphiql: the first example answers with the Global Framework');
  await shot(page, 'graphiql.png');
  await page.close();
});

// 2. GraphQL Playground: loads, opens on the examples, runs the first one and shows its data.
await step('playground', async () => {
  const page = await open('playground', '/playground');
  await page.waitForSelector('.playground', { timeout: 30_000 });
  // Playground's markup has generated class names only: tabs are found by their titles.
  const tabs = await page.evaluate(() =>
    [...document.querySelectorAll('.playground div')]
      .filter((d) => d.childElementCount === 0)
      .map((d) => d.textContent.trim())
      .filter((t) => ['global-framework-parties', 'ilo-network', 'waipa-network', 'explore-search'].includes(t)),
  );
  check(tabs.length === 4, `playground: one tab per example (found ${tabs})`);
  await page.click('[title^="Execute Query"]', { timeout: 20_000 });
  await page.waitForFunction(
    () => document.querySelector('.playground').innerText.includes('United Nations Development Programme'),
    null,
    { timeout: 20_000 },
  );
  await shot(page, 'playground.png');
  await page.close();
});

// 3. The explorer: search, network, re-centre, shared records, timeline, path.
await step('explorer', async () => {
  const page = await open('explorer', '/explore');
  await page.fill('#search', 'WAIPA');
  const waipa = page.locator('#search-results button[data-slug="waipa"]');
  await waipa.waitFor({ timeout: 15_000 });
  await waipa.click();
  await page.waitForSelector('#graph[data-state="ready"][data-centre="waipa"]', { timeout: 20_000 });
  const labels = await page.evaluate(() => window.partnershipsExplorer.cy.nodes().map((n) => n.data('label')));
  check(labels.includes('ILO') && labels.includes('UNCTAD'), `explorer: WAIPA's network holds the ILO and UNCTAD (${labels})`);
  check((await page.textContent('#org-name')).includes('WAIPA'), 'explorer: the heading names WAIPA');
  await page.waitForSelector('#timeline[data-state="ready"]', { timeout: 20_000 });
  const entries = await page.$$eval('#timeline li.timeline-row', (rows) => rows.map((r) => r.dataset.date));
  check(entries.length > 0, `explorer: WAIPA's timeline has entries (${entries.length})`);
  const yearOnly = await page.$$eval('#timeline li.timeline-row', (rows) =>
    rows.filter((r) => /^\d{4}$/.test(r.dataset.date)).map((r) => r.querySelector('.when').textContent));
  check(yearOnly.every((text) => /^\d{4}$/.test(text)), `explorer: a year-only date reads as its year (${yearOnly})`);
  await shot(page, 'explorer-waipa.png');

  // A click on a link lists what its two ends share.
  // The middle of a link of the ILO's that no organization covers.
  const link = await page.evaluate(() => {
    const cy = window.partnershipsExplorer.cy;
    const free = (p) => cy.nodes().every((n) => {
      const b = n.renderedBoundingBox({ includeLabels: true });
      return p.x < b.x1 - 4 || p.x > b.x2 + 4 || p.y < b.y1 - 4 || p.y > b.y2 + 4;
    });
    const edge = cy.edges().filter((e) =>
      [e.source(), e.target()].some((n) => n.data('label') === 'ILO') && free(e.renderedMidpoint()))[0];
    return edge ? edge.renderedMidpoint() : null;
  });
  check(link !== null, 'explorer: a link of the ILO is drawn where it can be clicked');
  if (link) {
    const box = await page.locator('#graph').boundingBox();
    await page.mouse.click(box.x + link.x, box.y + link.y);
    await page.waitForSelector('#shared[data-state="ready"] #shared-list li', { timeout: 15_000 });
    const shared = await page.textContent('#shared-list');
    check(/Agreement|Project|Event/.test(shared), `explorer: the link lists shared records (${shared.slice(0, 120)})`);
  }

  // A click on the ILO's node re-centres the network on it.
  const ilo = await page.evaluate(() => {
    const node = window.partnershipsExplorer.cy.nodes().filter((n) => n.data('label') === 'ILO')[0];
    return node ? node.renderedPosition() : null;
  });
  check(ilo !== null, 'explorer: the ILO is drawn');
  if (ilo) {
    const box = await page.locator('#graph').boundingBox();
    await page.mouse.click(box.x + ilo.x, box.y + ilo.y);
    await page.waitForSelector('#graph[data-state="ready"][data-centre="ilo"]', { timeout: 20_000 });
    check((await page.textContent('#org-name')).includes('International Labour Organization'), 'explorer: a click re-centres on the ILO');
    await page.waitForSelector('#timeline[data-state="ready"]', { timeout: 20_000 });
    await shot(page, 'explorer-ilo.png');
  }

  // The path from the ILO to OHCHR.
  await page.fill('#path-search', 'OHCHR');
  const ohchr = page.locator('#path-results button[data-slug="ohchr"]');
  await ohchr.waitFor({ timeout: 15_000 });
  await ohchr.click();
  await page.waitForSelector('#paths[data-state="ready"]', { timeout: 15_000 });
  const paths = await page.$$eval('#paths li.path', (items) => items.map((i) => i.innerText));
  check(paths.length > 0 && paths.every((p) => p.startsWith('ILO') && p.endsWith('OHCHR')), `explorer: paths from the ILO to OHCHR (${paths})`);
  await page.locator('#find').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, 'explorer-full.png'), fullPage: true });
  await page.close();
});

await browser.close();
check(offOrigin.length === 0, `no request left the server's origin (${offOrigin.join(', ')})`);
check(problems.length === 0, `no console error, page error or failed request (${problems.join(' | ')})`);
console.log(JSON.stringify({ passed, failures, offOrigin, problems }));
process.exit(failures.length === 0 ? 0 : 1);
