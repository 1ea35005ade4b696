// Benchmark (issue 16, "what each level's device holds"): the first sign-in of the city,
// subdistrict and community managers on a new browser until synced, on the demo city with
// history, for each of TONGXIN_BENCH_MONTHS (comma-separated, default "3,12"). Run: `cargo
// xtask bench city-sync`. Reports figures; asserts nothing about time.
//
// For each manager, on a fresh browser profile: the login page's navigation → the sync badge
// says synced (split into the page, the sign-in and the sync), and how much later the staged
// pages are unpacked into records and rows (`tongxin:rows-complete`); the records the server's
// pull gives that user (by collection, with the JSON bytes); the device's storage as the
// browser reports it (`navigator.storage.estimate()`) once unpacked; and the dashboard's first
// figures after a navigation (the summary profile computes them from summaries).

import { DEMO_PASSWORD, launchBrowser, login, signIn, waitReady } from '../harness.mjs';
import { waitSynced } from '../badge.mjs';
import { historyCity } from '../lists_city.mjs';

const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };
const MONTHS = (process.env.TONGXIN_BENCH_MONTHS || '3,12').split(',').map(Number);
const SYNC_MS = 60 * 60 * 1000;
const MANAGERS = [
  ['city', 'city manager (summary profile)'],
  ['s1', 'subdistrict manager (summary profile)'],
  ['c01', 'community manager (full profile)'],
];

/** What the pull gives `token`: records by collection and the JSON bytes. */
async function pulled(server, token) {
  const by = {};
  let bytes = 0;
  let cursor = 0;
  for (;;) {
    const res = await fetch(`${server.url}/api/v1/sync/pull?cursor=${cursor}&limit=500`, {
      headers: { 'x-tongxin-protocol': '2', authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    bytes += text.length;
    const page = JSON.parse(text);
    for (const r of page.records) by[r.c] = (by[r.c] ?? 0) + 1;
    cursor = page.cursor;
    if (!page.more) return { by, bytes };
  }
}

try {
  for (const months of MONTHS) {
    const { server, seededMs } = await historyCity(t, months);
    console.log(`city-sync: demo city with ${months} months of history seeded in ${seededMs} ms`);
    for (const [user, who] of MANAGERS) {
      const { by, bytes } = await pulled(server, await login(server.url, user, DEMO_PASSWORD));
      const total = Object.values(by).reduce((a, b) => a + b, 0);
      const browser = await launchBrowser(t);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      // Timed apart: the page until its sign-in form is usable, the sign-in (the password's
      // hash on the server, the session, the shell), and the sync.
      const started = Date.now();
      const { submitted, signedIn } = await signIn(page, server.url, user, DEMO_PASSWORD);
      await waitSynced(page, { timeout: SYNC_MS });
      const syncMs = Date.now() - started;
      const split = `page ${submitted - started} ms, sign-in ${signedIn - submitted} ms, signed in → synced ${Date.now() - signedIn} ms`;
      // A first sync stages its pages and unpacks them after the round (docs/SYNC.md): the
      // device's storage and the reload are taken once that is done.
      await page.waitForFunction(() => performance.getEntriesByName('tongxin:rows-complete', 'measure').length > 0, null, { timeout: SYNC_MS, polling: 50 });
      const unpackedMs = Date.now() - started - syncMs;
      const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
      const d0 = Date.now();
      await page.goto(`${server.url}/dashboard`);
      await waitReady(page);
      await page.waitForFunction(() => document.querySelector('[data-testid=fig-reported]')?.dataset.n !== undefined, null, { timeout: 600000 });
      const dashMs = Date.now() - d0;
      const reported = await page.getAttribute('[data-testid=fig-reported]', 'data-n');
      console.log(`city-sync: ${months} months, ${who} "${user}": first sync ${syncMs} ms (${split}), unpacked ${unpackedMs} ms later; ${total} records pulled (${(bytes / 1e6).toFixed(1)} MB of JSON: ${Object.entries(by).map(([c, n]) => `${c} ${n}`).join(', ')}); device storage ${(usage / 1e6).toFixed(1)} MB; dashboard (reload → figures) ${dashMs} ms, ${reported} cases reported in 30 days`);
      await context.close();
    }
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
