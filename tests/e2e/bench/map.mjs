// Benchmark (issue 7): the managers' live map on the demo city. Run: `cargo xtask bench map`.
// Reports figures; asserts nothing about time.
//
// 1. First paint from local data, 1,200 grids: everything synced, click 一张图 and time until
//    all grid paths are in the DOM with their fill (median of 5).
// 2. Live recolour: a warden pushes a case; the page's User Timing measure `tongxin:recolour`
//    (new grid states handed to the map → the next animation frame, i.e. the DOM updated) and
//    `tongxin:grid-states` (recomputing the states from the device's records).
// 3. Push → recolour with 200 managers watching: one real manager page plus 199 live-stream
//    clients in this process that follow the app's protocol (SSE poke → scoped pull until the
//    pushed seq arrives), sharing one city-manager session. 100 pushes one at a time; per push
//    the ack time (server side), the poke arrival at every client, every client's pull, and the
//    page's recolour.
// 4. First paint with 2,000 grids: 800 more grids are imported through the admin import API
//    (south of the demo city), the page syncs them, then as in 1.

import { DEMO_PASSWORD, api, launchBrowser, login, signIn, startServer, waitAttr, waitReady } from '../harness.mjs';

const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const CLIENTS = Number(process.env.TONGXIN_BENCH_MANAGERS || 199);
const PUSHES = Number(process.env.TONGXIN_BENCH_PUSHES || 100);
const HEADERS = (token) => ({ 'x-tongxin-protocol': '2', authorization: `Bearer ${token}` });

/** A manager's live stream and pulls, as the app does them, timing when each seq arrives. */
class StreamClient {
  constructor(url, token, scope) {
    Object.assign(this, { url, token, scope, cursor: null, waiters: [], pulling: false, latest: 0 });
    this.controller = new AbortController();
  }

  async start() {
    const res = await fetch(`${this.url}/api/v1/live`, { headers: HEADERS(this.token), signal: this.controller.signal });
    if (!res.ok) throw new Error(`live: ${res.status}`);
    const ready = new Promise((resolve) => { this.onFirst = resolve; });
    (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk, { stream: true });
          let at;
          while ((at = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, at);
            buf = buf.slice(at + 2);
            const id = block.split('\n').find((l) => l.startsWith('id:'));
            if (id) this.poke(Number(id.slice(3).trim()));
          }
        }
      } catch (e) {
        if (e.name !== 'AbortError') throw e;
      }
    })();
    return ready;
  }

  poke(seq) {
    this.pokedAt = performance.now();
    if (this.cursor === null) {
      // The first poke on connect names the current seq: the baseline, nothing to pull.
      this.cursor = seq;
      this.onFirst();
      return;
    }
    this.latest = Math.max(this.latest, seq);
    this.pull();
  }

  async pull() {
    if (this.pulling) return;
    this.pulling = true;
    try {
      while (this.cursor < this.latest) {
        const q = `cursor=${this.cursor}&limit=500&scope=${encodeURIComponent(this.scope)}`;
        const res = await fetch(`${this.url}/api/v1/sync/pull?${q}`, { headers: HEADERS(this.token) });
        const page = await res.json();
        this.cursor = page.cursor;
        if (!page.more) break;
      }
    } finally {
      this.pulling = false;
    }
    const now = performance.now();
    this.waiters = this.waiters.filter(([seq, resolve]) => (this.cursor >= seq ? (resolve(now), false) : true));
    if (this.cursor < this.latest) this.pull();
  }

  /** Resolves with the time the client's cursor reaches `seq` (and when the poke came). */
  reached(seq) {
    if (this.cursor >= seq) return Promise.resolve(performance.now());
    return new Promise((resolve) => this.waiters.push([seq, resolve]));
  }

  stop() {
    this.controller.abort();
  }
}

async function firstPaint(page, url, n) {
  const paints = [];
  for (let run = 0; run < 5; run++) {
    await page.goto(`${url}/`);
    await waitReady(page);
    const started = Date.now();
    await page.locator('a[href="/map"]').first().click();
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid=grid-shape][fill]').length === k, n, { timeout: 60000, polling: 'raf' });
    paints.push(Date.now() - started);
  }
  return paints.sort((a, b) => a - b);
}

/** 800 grids south of the demo city (which spans 25.50–25.70 N), in community S1-C01. */
function extraGrids() {
  const features = [];
  for (let row = 0; row < 20; row++) {
    for (let col = 0; col < 40; col++) {
      const [w, s] = [100.1 + col * 0.005, 25.3 + row * 0.005];
      const r = (x) => Math.round(x * 1e6) / 1e6;
      const ring = [[w, s], [w + 0.005, s], [w + 0.005, s + 0.005], [w, s + 0.005], [w, s]].map(([x, y]) => [r(x), r(y)]);
      features.push({ type: 'Feature', properties: { code: `X-${row}-${col}`, name: `扩展网格 ${row}-${col}`, community: 'S1-C01' }, geometry: { type: 'Polygon', coordinates: [ring] } });
    }
  }
  return JSON.stringify({ type: 'FeatureCollection', features });
}

try {
  const server = await startServer(t, { demo: true });
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await waitAttr(page, '[data-testid=sync-badge]', 'data-state', 'synced', 120000);
  const paints1200 = await firstPaint(page, server.url, 1200);
  console.log(`map: first paint of 1,200 grids from local data: median ${pct(paints1200, 50)} ms (all: ${paints1200.join(', ')} ms)`);

  // 199 more managers on the live stream.
  const cityToken = await login(server.url, 'city', DEMO_PASSWORD);
  const me = await api(server.url, cityToken, 'GET', '/api/v1/auth/me');
  const clients = Array.from({ length: CLIENTS }, () => new StreamClient(server.url, cityToken, me.scope));
  await Promise.all(clients.map((c) => c.start()));

  const token = await login(server.url, 'w0001', DEMO_PASSWORD);
  const warden = await api(server.url, token, 'GET', '/api/v1/auth/me');
  const grid = warden.grids[0];
  const shape = `[data-testid=grid-shape][data-id="${grid}"]`;
  await page.evaluate(() => performance.clearMeasures());
  const acks = [];
  const pokes = [];
  const pulls = [];
  const pages = [];
  for (let i = 1; i <= PUSHES; i++) {
    const now = Date.now();
    const started = performance.now();
    const res = await api(server.url, token, 'POST', '/api/v1/sync/push', {
      protocol: 2,
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
    acks.push(performance.now() - started);
    const seq = res.results[0].seq;
    const [reachedAt, pageAt] = await Promise.all([
      Promise.all(clients.map((c) => c.reached(seq))),
      page.waitForFunction(([s, n]) => document.querySelector(s)?.getAttribute('data-value') === String(n), [shape, i], { timeout: 30000, polling: 'raf' })
        .then(() => performance.now()),
    ]);
    for (const c of clients) pokes.push(c.pokedAt - started);
    for (const at of reachedAt) pulls.push(at - started);
    pages.push(pageAt - started);
  }
  for (const c of clients) c.stop();
  const timing = await page.evaluate(() => ({
    recolour: performance.getEntriesByName('tongxin:recolour').map((e) => e.duration),
    states: performance.getEntriesByName('tongxin:grid-states').map((e) => e.duration),
  }));
  const f = (xs) => `p50 ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms, max ${pct(xs, 100).toFixed(0)} ms`;
  console.log(`map: ${PUSHES} pushes with ${CLIENTS + 1} managers watching (1 page + ${CLIENTS} stream clients):`);
  console.log(`  push acknowledged (server side): ${f(acks)}`);
  console.log(`  poke arrived at the stream clients: ${f(pokes)}`);
  console.log(`  stream clients pulled the change: ${f(pulls)}`);
  console.log(`  the manager's page recoloured: ${f(pages)}`);
  console.log(`  live recolour applied on the page (tongxin:recolour, ${timing.recolour.length} samples): ${f(timing.recolour)}`);
  console.log(`  grid states recomputed from local records (tongxin:grid-states): ${f(timing.states)}`);

  // 2,000 grids.
  const report = await api(server.url, server.adminToken, 'POST', '/api/v1/admin/grids/import', { geojson: extraGrids(), crs: 'wgs84', apply: true });
  if (report.grids.length !== 800) throw new Error(`import: ${JSON.stringify(report).slice(0, 300)}`);
  await page.goto(`${server.url}/`);
  await waitReady(page);
  await page.waitForFunction(() => document.querySelector('[data-testid=sync-badge]')?.dataset.state === 'synced', null, { timeout: 120000 });
  await page.locator('a[href="/map"]').first().click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=grid-shape]').length === 2000, null, { timeout: 120000 });
  const paints2000 = await firstPaint(page, server.url, 2000);
  console.log(`map: first paint of 2,000 grids from local data: median ${pct(paints2000, 50)} ms (all: ${paints2000.join(', ')} ms)`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
