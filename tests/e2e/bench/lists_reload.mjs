// Benchmark (issue 14), the lists' first rows after a reload, on a city seeded and synced once
// and kept: `bench/lists.mjs` seeds the city and pulls it into a new browser on every run (for
// 12 months of history ten minutes and more on two cores); this measures only what a change to
// the app's start or the lists' first read changes, against the same device again and again.
//
//   cargo xtask bench lists-reload     (or, in tests/e2e: TONGXIN_BIN=… TONGXIN_DIST=…
//   TONGXIN_BENCH_KEEP=/tmp/city12 TONGXIN_BENCH_MONTHS=12 node bench/lists_reload.mjs)
//
// TONGXIN_BENCH_KEEP defaults to target/bench/lists-<months>m. The first run seeds `$KEEP/data`
// (`tongxin demo-city --months N`) and syncs the city manager into the Chromium profile
// `$KEEP/profile`; later runs (any dist: the server is started on the
// same port, so the page's origin and its IndexedDB stay) sign in nowhere and pull nothing new.
// For each list, TONGXIN_BENCH_RUNS times (default 5): the list opened by its address (page load
// → first rows, the home screen never drawn); the page reloaded on `/` and the tab clicked at
// once (navigation → the count holds a total and the first row is drawn); and again once the
// page has synced and its index is built (from memory). Reports the lists' User Timing measures
// of each run. Asserts nothing about time.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PASSWORD, launchPersistent, signIn, waitReady } from '../harness.mjs';
import { waitSynced } from '../badge.mjs';

const MONTHS = Number(process.env.TONGXIN_BENCH_MONTHS || 12);
/** Where the seeded city and the profile are kept (default: target/bench/lists-<months>m). */
const KEEP = process.env.TONGXIN_BENCH_KEEP
  || path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../target/bench', `lists-${MONTHS}m`);
const RUNS = Number(process.env.TONGXIN_BENCH_RUNS || 5);
const PORT = Number(process.env.TONGXIN_BENCH_PORT || 18431);
const BIN = process.env.TONGXIN_BIN;
const DIST = process.env.TONGXIN_DIST;
const LISTS = [
  { name: 'cases', href: '/cases', count: 'cases-count', item: 'case-item' },
  { name: 'visits', href: '/visits', count: 'visits-count', item: 'visit-item' },
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const data = path.join(KEEP, 'data');
const profile = path.join(KEEP, 'profile');
if (!existsSync(data)) {
  mkdirSync(data, { recursive: true });
  const started = Date.now();
  execFileSync(BIN, ['demo-city', '--seed', '1', '--months', String(MONTHS), '--data-dir', data], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  console.log(`lists_reload: ${MONTHS} months seeded in ${Date.now() - started} ms`);
}

const server = spawn(BIN, ['--addr', `127.0.0.1:${PORT}`, '--data-dir', data, '--dist-dir', DIST], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, RUST_LOG: 'warn' },
});
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (c) => {
    out += c;
    const m = out.match(/tongxin listening on (http:\/\/\S+)/);
    if (m) resolve(m[1].replace(/\/$/, ''));
  });
  server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
});

/** Click the tab to `href`; ms until the count holds a total and the first row is drawn. */
async function open(page, l) {
  const started = Date.now();
  await page.locator(`nav.tabs a[href="${l.href}"]`).click();
  await page.waitForFunction(
    ([c, i]) => Number(document.querySelector(`[data-testid=${c}]`)?.dataset.total) > 0 && document.querySelector(`[data-testid=${i}]`) !== null,
    [l.count, l.item],
    { timeout: 600000, polling: 'raf' },
  );
  return Date.now() - started;
}

async function timings(page) {
  const m = await page.evaluate(() => performance.getEntriesByType('measure')
    .filter((e) => e.name.startsWith('tongxin:'))
    .map((e) => [e.name.replace('tongxin:', ''), Math.round(e.startTime), Math.round(e.duration)]));
  const click = await page.evaluate(() => Math.round(performance.getEntriesByName('bench:click').at(-1)?.startTime ?? -1));
  return `${m.map(([n, at, d]) => `${n} ${d} (at ${at})`).join(', ')}${click >= 0 ? `; tab clicked at ${click}` : ''}`;
}

const context = await launchPersistent(profile, { viewport: { width: 1280, height: 900 } });
// The moment a tab is clicked, on the page's clock (a capturing listener runs before the app's).
await context.addInitScript(() => {
  document.addEventListener('click', (e) => {
    if (e.target.closest?.('nav.tabs a')) performance.mark('bench:click');
  }, true);
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${url}/`);
  await waitReady(page);
  if ((await page.locator('[data-testid=whoami]').count()) === 0) {
    const started = Date.now();
    await signIn(page, url, 'city', DEMO_PASSWORD);
    await waitSynced(page, { timeout: 3 * 60 * 60 * 1000 });
    console.log(`lists_reload: the city manager's first sync took ${Date.now() - started} ms`);
  }
  // Once more, so the page runs this dist (the service worker of an earlier one may have served
  // the first load), and until its index is built: a device from before a change to the stored
  // rows, order or counts rebuilds them then, once; that is not what is measured.
  await page.goto(`${url}/`);
  await waitReady(page);
  await waitSynced(page, { timeout: 600000 });
  await page.waitForFunction(() => performance.getEntriesByName('tongxin:list-rows-index').length > 0, null, { timeout: 600000 });
  console.log(`lists_reload: ${await page.evaluate(() => document.querySelector('script[src*="boot."]')?.src ?? '')}; ${await timings(page)}`);
  for (const l of LISTS) {
    const atOnce = [];
    const warm = [];
    const deep = [];
    for (let i = 0; i < RUNS; i++) {
      // Opened by its address (the home screen never drawn): page load → first rows.
      await page.goto(`${url}${l.href}`);
      await page.waitForFunction(
        ([c, it]) => Number(document.querySelector(`[data-testid=${c}]`)?.dataset.total) > 0 && document.querySelector(`[data-testid=${it}]`) !== null,
        [l.count, l.item],
        { timeout: 600000, polling: 'raf' },
      );
      deep.push(Math.round(await page.evaluate(() => performance.now())));
      console.log(`  ${l.name} run ${i + 1}: opened by its address, first rows ${deep[i]} ms after the navigation started; ${await timings(page)}`);
      await page.goto(`${url}/`);
      await waitReady(page);
      atOnce.push(await open(page, l));
      const total = await page.getAttribute(`[data-testid=${l.count}]`, 'data-total');
      console.log(`  ${l.name} run ${i + 1}: at once after a reload ${atOnce[i]} ms (${total} on the device); ${await timings(page)}`);
      await waitSynced(page, { timeout: 600000 });
      await page.waitForFunction(() => performance.getEntriesByName('tongxin:list-rows-index').length > 0, null, { timeout: 600000 });
      await page.locator('nav.tabs a[href="/"]').click();
      await page.waitForFunction(() => document.querySelector('[data-testid=today]') !== null, null, { timeout: 600000 });
      warm.push(await open(page, l));
    }
    console.log(`lists_reload: ${l.name}: at once after a reload median ${median(atOnce)} ms (${atOnce.join(', ')}); from memory median ${median(warm)} ms (${warm.join(', ')}); opened by its address median ${median(deep)} ms after the navigation (${deep.join(', ')})`);
  }
} finally {
  await context.close();
  server.kill('SIGTERM');
}
