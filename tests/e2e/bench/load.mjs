// Benchmark (issue 13): a warden's first load, in headless Chromium against the release server.
// Run: `cargo xtask bench load`. Reports figures; asserts nothing about time.
//
// For each network profile, a fresh browser profile (empty HTTP cache, no service worker) opens
// the app and we wait until the sign-in is usable: the wasm app has rendered the login form and
// its submit button is enabled. Measured:
// - time from the navigation's start to the usable sign-in: `performance.now()` in the first
//   animation frame after a mutation observer (installed before any page script) saw the
//   enabled, visible button (the page's clock starts at the navigation);
// - bytes over the wire: CDP `Network.loadingFinished.encodedDataLength` (headers and compressed
//   body) of the document and of every resource the page started (Resource Timing `startTime`,
//   on the page's clock) before the observer saw the sign-in, whenever it finished, and which
//   files they were;
// - then the field screens' module (`split_field`, fetched once the sign-in is usable, while the
//   warden types): its bytes and when it had arrived (CDP's clock, from the navigation request),
//   i.e. from when on a sign-in opens the home screen without waiting for it.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser, startServer } from '../harness.mjs';

const RUNS = Number(process.env.TONGXIN_BENCH_RUNS || 3);
const PROFILES = [
  { name: 'unthrottled', conditions: null },
  { name: 'fast 3G (1.6 Mbps, 150 ms)', conditions: { latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 } },
  { name: 'slow 3G (400 kbps, 400 ms)', conditions: { latency: 400, downloadThroughput: 400_000 / 8, uploadThroughput: 400_000 / 8 } },
];

// A minimal stand-in for node:test's context: collects cleanups.
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

async function firstLoad(browser, url, conditions) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const seen = () => {
      const button = document.querySelector('[data-testid=login-submit]');
      if (window.__usableAt === undefined && button && !button.disabled && button.offsetParent !== null) {
        window.__usableAt = performance.now();
        requestAnimationFrame(() => {
          window.__paintedAt = performance.now();
        });
      }
    };
    new MutationObserver(seen).observe(document, { subtree: true, childList: true, attributes: true });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (conditions) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...conditions });
  }
  const requests = new Map();
  let navigationStart;
  cdp.on('Network.requestWillBeSent', (e) => {
    navigationStart ??= e.timestamp;
    requests.set(e.requestId, { path: new URL(e.request.url).pathname, type: e.type });
  });
  cdp.on('Network.responseReceived', (e) => {
    const encoding = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '';
    const request = requests.get(e.requestId);
    if (request && encoding) request.encoding = encoding;
  });
  const finished = [];
  cdp.on('Network.loadingFinished', (e) => {
    const request = requests.get(e.requestId);
    if (request) finished.push({ ...request, bytes: e.encodedDataLength, doneMs: (e.timestamp - navigationStart) * 1000 });
  });
  await page.goto(`${url}/`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__paintedAt !== undefined, undefined, { timeout: 120000, polling: 100 });
  // The field module arrives while the warden types.
  // (A build without the field split, e.g. the one before it, has none to wait for.)
  const deadline = HAS_FIELD_MODULE ? Date.now() + 120000 : 0;
  let field;
  while (!(field = finished.find((f) => /^\/assets\/split_field\./.test(f.path))) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { time, before } = await page.evaluate(() => ({
    time: window.__paintedAt,
    before: performance
      .getEntriesByType('resource')
      .filter((e) => e.startTime <= window.__usableAt)
      .map((e) => new URL(e.name).pathname),
  }));
  const loaded = finished.filter((f) => f.type === 'Document' || before.includes(f.path));
  const bytes = loaded.reduce((sum, f) => sum + f.bytes, 0);
  await context.close();
  return { time, bytes, loaded, field };
}

const HAS_FIELD_MODULE = (await readdir(path.join(process.env.TONGXIN_DIST, 'assets'))).some((n) => n.startsWith('split_field.'));

const label = (f) => `${f.path}${f.encoding ? ` (${f.encoding})` : ''}`;

try {
  const server = await startServer(t);
  const browser = await launchBrowser(t);
  for (const profile of PROFILES) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await firstLoad(browser, server.url, profile.conditions));
    runs.sort((a, b) => a.time - b.time);
    const median = runs[Math.floor(runs.length / 2)];
    console.log(
      `load: ${profile.name}: navigation -> usable sign-in median ${Math.round(median.time)} ms ` +
        `(all: ${runs.map((r) => Math.round(r.time)).join(', ')} ms); ${median.bytes} B over the wire before it`,
    );
    const fields = runs.map((r) => r.field).filter(Boolean);
    if (fields.length === runs.length) {
      const done = fields.map((f) => Math.round(f.doneMs)).sort((a, b) => a - b);
      console.log(
        `load: ${profile.name}: then the field module, ${median.field.bytes} B (${label(median.field)}), ` +
          `arrived at median ${done[Math.floor(done.length / 2)]} ms (all: ${done.join(', ')} ms)`,
      );
    } else if (HAS_FIELD_MODULE) {
      console.log(`load: ${profile.name}: the field module was fetched in only ${fields.length} of ${runs.length} runs`);
    }
    if (profile.conditions === null) {
      for (const f of median.loaded) console.log(`    ${String(f.bytes).padStart(9)} B  ${label(f)}`);
    }
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
