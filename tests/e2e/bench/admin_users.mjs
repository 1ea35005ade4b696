// Benchmark (issue 14): the administrator's user list on the demo city (6,357 accounts), 1,280×900.
// Run: `cargo xtask bench admin-users` (a few minutes: the demo city is seeded at start, no
// history is needed). Reports figures; asserts nothing about time.
//
//   - a new device: signed in, the Admin tab clicked at once (no sync awaited) → the count holds
//     the total and the first rows are drawn; five fresh browser contexts;
//   - the same device again (median of 5 navigations away and back);
//   - a search typed ("community_manager") → the count of matches shown; the next page;
//   - the first open right after a reload.
// The same script measures a build from before the server paged the list (the selectors are
// the same), for a before/after on one machine.

import { ADMIN, launchBrowser, signIn, startServer, waitReady } from '../harness.mjs';

const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };
const WIDE = { viewport: { width: 1280, height: 900 } };
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Click the Admin tab; ms until the count holds a total and the first rows are drawn. */
async function open(page) {
  const started = Date.now();
  await page.locator('nav.tabs a[href="/admin"]').click();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=users-count]')?.dataset.total) > 0 && document.querySelector('[data-testid=admin-user]') !== null,
    null,
    { timeout: 600000, polling: 'raf' },
  );
  return Date.now() - started;
}

async function home(page) {
  await page.locator('nav.tabs a[href="/"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=today]') !== null, null, { timeout: 60000 });
}

try {
  const server = await startServer(t, { demo: true, log: 'warn' });
  const browser = await launchBrowser(t);
  const fresh = [];
  let page;
  for (let i = 0; i < 5; i++) {
    page = await (await browser.newContext(WIDE)).newPage();
    await signIn(page, server.url, ADMIN.username, ADMIN.password);
    fresh.push(await open(page));
    if (i < 4) await page.context().close();
  }
  const total = await page.getAttribute('[data-testid=users-count]', 'data-total');
  const rows = await page.evaluate(() => document.querySelectorAll('[data-testid=admin-user]').length);
  console.log(`admin-users: ${total} accounts, ${rows} rows in the DOM`);
  console.log(`  a new device, navigation → first page: median ${pct(fresh, 50)} ms, max ${pct(fresh, 100)} ms (all: ${fresh.join(', ')})`);
  const again = [];
  for (let i = 0; i < 5; i++) {
    await home(page);
    again.push(await open(page));
  }
  console.log(`  the same device again: median ${pct(again, 50)} ms, max ${pct(again, 100)} ms (all: ${again.join(', ')})`);
  const before = await page.getAttribute('[data-testid=users-count]', 'data-shown');
  const s0 = Date.now();
  await page.locator('[data-testid=list-search]').pressSequentially('community_manager');
  await page.waitForFunction((b) => {
    const c = document.querySelector('[data-testid=users-count]');
    return c && c.dataset.shown !== b && document.querySelector('[data-testid=admin-users]')?.getAttribute('aria-busy') !== 'true';
  }, before, { timeout: 60000, polling: 'raf' });
  const searched = Date.now() - s0;
  const matched = await page.getAttribute('[data-testid=users-count]', 'data-shown');
  await page.locator('[data-testid=list-search]').fill('');
  await page.waitForFunction((b) => document.querySelector('[data-testid=users-count]')?.dataset.shown === b, before, { timeout: 60000 });
  const firstName = await page.getAttribute('[data-testid=admin-user]', 'data-username');
  const p0 = Date.now();
  await page.locator('[data-testid=page-next]').click();
  await page.waitForFunction((f) => {
    const first = document.querySelector('[data-testid=admin-user]')?.dataset.username;
    return first && first !== f && document.querySelector('[data-testid=admin-users]')?.getAttribute('aria-busy') !== 'true';
  }, firstName, { timeout: 60000, polling: 'raf' });
  const paged = Date.now() - p0;
  console.log(`  search "community_manager" typed → ${matched} shown: ${searched} ms (typing and the 200 ms pause included); next page: ${paged} ms`);
  await page.goto(`${server.url}/`);
  await waitReady(page);
  console.log(`  first open right after a reload: ${await open(page)} ms`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
