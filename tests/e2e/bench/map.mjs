// Benchmark (issue 7): the city manager's map with the demo city's 1,200 grids. (1) First paint
// from local data: with everything already synced, navigate to /map and time until all 1,200
// grid paths are in the DOM, coloured (median of 5). (2) Push → recolour: a warden pushes a case
// over HTTP; time until the manager's page shows the grid's new value (live poke → pull →
// recolour), 20 pushes one at a time, p50/p95. Run: `cargo xtask bench map`. Asserts nothing
// about time.

import { DEMO_PASSWORD, api, launchBrowser, login, signIn, startServer, waitAttr, waitReady } from '../harness.mjs';

const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

try {
  const server = await startServer(t, { demo: true });
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await waitAttr(page, '[data-testid=sync-badge]', 'data-state', 'synced', 120000);

  const paints = [];
  for (let run = 0; run < 5; run++) {
    await page.goto(`${server.url}/`);
    await waitReady(page);
    const started = Date.now();
    await page.locator('a[href="/map"]').first().click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=grid-shape][fill]').length === 1200, null, { timeout: 60000, polling: 'raf' });
    paints.push(Date.now() - started);
  }
  paints.sort((a, b) => a - b);

  const token = await login(server.url, 'w0001', DEMO_PASSWORD);
  const me = await api(server.url, token, 'GET', '/api/v1/auth/me');
  const grid = me.grids[0];
  const shape = `[data-testid=grid-shape][data-id="${grid}"]`;
  const lags = [];
  for (let i = 1; i <= 20; i++) {
    const now = Date.now();
    const started = performance.now();
    await api(server.url, token, 'POST', '/api/v1/sync/push', {
      protocol: 1,
      actor: '00000000-0000-4000-a000-00000000beef',
      ops: [{
        id: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`,
        actor: '00000000-0000-4000-a000-00000000beef',
        hlc: `${String(now).padStart(15, '0')}-000000`,
        collection: 'cases',
        record: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        body: { kind: 'set', fields: { grid, title: `压测 ${i}`, status: 'reported', reporter: 'w0001', category: 'other', reported_at: now, deadline: now + 86400000 } },
        schema: 1,
      }],
    });
    await page.waitForFunction(([s, n]) => document.querySelector(s)?.getAttribute('data-value') === String(n), [shape, i], { timeout: 30000, polling: 'raf' });
    lags.push(performance.now() - started);
  }
  lags.sort((a, b) => a - b);
  console.log(`map: first paint of 1,200 grids from local data: median ${pct(paints, 50)} ms (all: ${paints.join(', ')} ms)`);
  console.log(`map: push -> recolour on the manager's page, 20 pushes: p50 ${pct(lags, 50).toFixed(0)} ms, p95 ${pct(lags, 95).toFixed(0)} ms, max ${lags[lags.length - 1].toFixed(0)} ms`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
