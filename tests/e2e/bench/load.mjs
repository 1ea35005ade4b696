// Benchmark (issue 13): a warden's first load, in headless Chromium against the release server.
// Run: `cargo xtask bench load`. Reports figures; asserts nothing about time.
//
// For each network profile, a fresh browser profile (empty HTTP cache, no service worker) opens
// the app and we wait until the sign-in is usable: the wasm app has rendered the login form and
// its submit button is enabled. Measured:
// - bytes over the wire: CDP `Network.loadingFinished.encodedDataLength` (headers and compressed
//   body) of every request the page made until then, and which files they were;
// - time from the navigation's start to the usable sign-in (`performance.now()` at the first
//   animation frame that shows it; the page's clock starts at the navigation).
// Profiles (CDP `Network.emulateNetworkConditions`): none, fast 3G (1.6 Mbps, 150 ms RTT), slow
// 3G (400 kbps, 400 ms RTT). Headless Chromium asks the local server for brotli as well (each
// file's encoding is printed), so the bytes are those an HTTPS deployment sends.

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
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (conditions) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...conditions });
  }
  const urls = new Map();
  const finished = [];
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, new URL(e.request.url).pathname));
  cdp.on('Network.responseReceived', (e) => {
    const encoding = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '';
    const entry = urls.get(e.requestId);
    if (entry !== undefined) urls.set(e.requestId, `${entry}${encoding ? ` (${encoding})` : ''}`);
  });
  let usable = false;
  cdp.on('Network.loadingFinished', (e) => {
    finished.push({ path: urls.get(e.requestId) ?? '?', bytes: e.encodedDataLength, beforeUsable: !usable });
  });
  await page.goto(`${url}/`, { waitUntil: 'commit' });
  const ms = await page.waitForFunction(
    () => {
      const button = document.querySelector('[data-testid=login-submit]');
      if (button && !button.disabled && button.offsetParent !== null) {
        window.__usableAt ??= performance.now();
        return window.__usableAt;
      }
      return false;
    },
    undefined,
    { timeout: 120000, polling: 'raf' },
  );
  usable = true;
  const time = await ms.jsonValue();
  const loaded = finished.filter((f) => f.beforeUsable);
  const bytes = loaded.reduce((sum, f) => sum + f.bytes, 0);
  await context.close();
  return { time, bytes, loaded };
}

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
    if (profile.conditions === null) {
      for (const f of median.loaded) console.log(`    ${String(f.bytes).padStart(9)} B  ${f.path}`);
    }
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
