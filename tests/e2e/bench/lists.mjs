// Benchmark (issue 14): the long lists on the demo city with history. Run: `cargo xtask bench
// lists` (TONGXIN_BENCH_MONTHS, default 12). Reports figures; asserts nothing about time.
//
// For the city manager (1,280×900) after the device has synced the whole city: navigation by the
// tab → the first rows of the case list and of the visit list drawn (the count says the device's
// total and the first page of rows is in the DOM), timed
//   - at the first open after the sync (the rows' index may still be building in the background),
//   - again, from memory (median of 5 navigations away and back),
//   - right after a reload, once synced (the index is rebuilt from IndexedDB's rows in the
//     background when sync goes quiet), and at once after a reload (built on demand);
// a search typed into each list (keystrokes → the count updated, debounce included), the next
// page, and the frame intervals while the page scrolls from top to bottom.
// For the administrator: navigation → the first page of users (one page from the server, which
// searches, sorts and pages; later opens, and the first after a reload, show the first page kept
// on the device while the server is asked again). `bench/admin_users.mjs` measures that alone.

import { ADMIN, DEMO_PASSWORD, launchBrowser, signIn, waitReady } from '../harness.mjs';
import { waitSynced } from '../badge.mjs';
import { historyCity } from '../lists_city.mjs';

const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };
const MONTHS = Number(process.env.TONGXIN_BENCH_MONTHS || 12);
const SYNC_MS = 60 * 60 * 1000;
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const LISTS = [
  { name: 'cases', href: '/cases', count: 'cases-count', item: 'case-item', query: '楼道' },
  { name: 'visits', href: '/visits', count: 'visits-count', item: 'visit-item', query: 'w0001' },
];

/** Click the tab to `href`; ms until the count holds a total and the first rows are drawn. */
async function open(page, href, count, item) {
  const started = Date.now();
  await page.locator(`nav.tabs a[href="${href}"]`).click();
  await page.waitForFunction(
    ([c, i]) => Number(document.querySelector(`[data-testid=${c}]`)?.dataset.total) > 0 && document.querySelector(`[data-testid=${i}]`) !== null,
    [count, item],
    { timeout: 600000, polling: 'raf' },
  );
  return Date.now() - started;
}

/** The page's User Timing measures of the lists (`app/src/ui/list/index.rs`), as text. */
async function timings(page) {
  const m = await page.evaluate(() => performance.getEntriesByType('measure')
    .filter((e) => e.name.startsWith('tongxin:list-'))
    .map((e) => [e.name.replace('tongxin:list-', ''), Math.round(e.startTime), Math.round(e.duration)]));
  return m.map(([n, at, d]) => `${n} ${d} ms (from ${at} ms)`).join(', ');
}

async function home(page) {
  await page.locator('nav.tabs a[href="/"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=today]') !== null, null, { timeout: 60000 });
}

/** Frame intervals (ms) while the window scrolls to the bottom in 60 frames. */
function scrollFrames(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const gaps = [];
    const end = document.documentElement.scrollHeight - window.innerHeight;
    let last = performance.now();
    let i = 0;
    const step = (now) => {
      gaps.push(now - last);
      last = now;
      window.scrollTo(0, (end * ++i) / 60);
      if (i < 60) requestAnimationFrame(step);
      else resolve(gaps.slice(1));
    };
    requestAnimationFrame(step);
  }));
}

try {
  const { server, seededMs } = await historyCity(t, MONTHS);
  console.log(`lists: demo city with ${MONTHS} months of history seeded in ${seededMs} ms`);
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const syncStart = Date.now();
  await signIn(page, server.url, 'city', DEMO_PASSWORD);
  await waitSynced(page, { timeout: SYNC_MS });
  console.log(`lists: the city manager's first sync took ${Date.now() - syncStart} ms`);

  for (const l of LISTS) {
    const first = await open(page, l.href, l.count, l.item);
    const total = await page.getAttribute(`[data-testid=${l.count}]`, 'data-total');
    const rows = await page.locator(`[data-testid=${l.item}]`).count();
    const again = [];
    for (let i = 0; i < 5; i++) {
      await home(page);
      again.push(await open(page, l.href, l.count, l.item));
    }
    // Search: type, and wait until the count changes (the 200 ms pause included).
    const before = await page.getAttribute(`[data-testid=${l.count}]`, 'data-shown');
    const s0 = Date.now();
    await page.locator('[data-testid=list-search]').pressSequentially(l.query);
    await page.waitForFunction(([c, b]) => document.querySelector(`[data-testid=${c}]`)?.dataset.shown !== b, [l.count, before], { timeout: 60000, polling: 'raf' });
    const searched = Date.now() - s0;
    const matched = await page.getAttribute(`[data-testid=${l.count}]`, 'data-shown');
    await page.locator('[data-testid=list-search]').fill('');
    await page.waitForFunction(([c, b]) => document.querySelector(`[data-testid=${c}]`)?.dataset.shown === b, [l.count, before], { timeout: 60000 });
    const p0 = Date.now();
    await page.locator('[data-testid=page-next]').click();
    await page.waitForFunction((c) => document.querySelector(`[data-testid=${c}]`)?.dataset.from === '51', l.count, { timeout: 60000, polling: 'raf' });
    const paged = Date.now() - p0;
    const gaps = await scrollFrames(page);
    console.log(`lists: ${l.name}: ${total} on the device, ${rows} rows in the DOM`);
    console.log(`  first open after the sync: ${first} ms; again (from memory): median ${pct(again, 50)} ms, max ${pct(again, 100)} ms (all: ${again.join(', ')})`);
    console.log(`  search "${l.query}" typed → ${matched} shown: ${searched} ms (typing and the 200 ms pause included); next page: ${paged} ms`);
    console.log(`  scrolling the page: frame interval p50 ${pct(gaps, 50).toFixed(1)} ms, p95 ${pct(gaps, 95).toFixed(1)} ms, max ${pct(gaps, 100).toFixed(1)} ms`);
    await home(page);
  }

  // After a reload the rows are rebuilt from IndexedDB.
  for (const l of LISTS) {
    await page.goto(`${server.url}/`);
    await waitReady(page);
    await waitSynced(page, { timeout: SYNC_MS });
    const cold = await open(page, l.href, l.count, l.item);
    console.log(`lists: ${l.name}: first open after a reload, once the sync badge is up to date (the index may be built by then): ${cold} ms`);
  }
  // At once after a reload: the index is built from the stored rows when the list opens.
  for (const l of LISTS) {
    await page.goto(`${server.url}/`);
    await waitReady(page);
    const atOnce = await open(page, l.href, l.count, l.item);
    console.log(`lists: ${l.name}: first open at once after a reload (the first page read from the device's list order, the index built from the stored rows in the background): ${atOnce} ms`);
    await waitSynced(page, { timeout: SYNC_MS });
    await page.waitForFunction(() => performance.getEntriesByName('tongxin:list-rows-index').length > 0, null, { timeout: 600000 });
    console.log(`  where the time went (User Timing): ${await timings(page)}`);
    const builtRows = await page.evaluate(() => document.querySelectorAll('[data-testid$=-item]').length);
    console.log(`  rows in the DOM once the index is built: ${builtRows}`);
  }

  // The administrator's users (a page at a time from the server, their areas named by it).
  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(admin, server.url, ADMIN.username, ADMIN.password);
  const adminTimes = [];
  for (let i = 0; i < 5; i++) {
    adminTimes.push(await open(admin, '/admin', 'users-count', 'admin-user'));
    await home(admin);
  }
  const users = await (async () => {
    await open(admin, '/admin', 'users-count', 'admin-user');
    return admin.getAttribute('[data-testid=users-count]', 'data-total');
  })();
  const u0 = Date.now();
  await admin.locator('[data-testid=list-search]').pressSequentially('community_manager');
  await admin.waitForFunction(() => document.querySelector('[data-testid=users-count]')?.dataset.shown !== document.querySelector('[data-testid=users-count]')?.dataset.total, null, { timeout: 60000, polling: 'raf' });
  console.log(`lists: admin users: ${users} accounts; navigation → first page median ${pct(adminTimes, 50)} ms, max ${pct(adminTimes, 100)} ms (all: ${adminTimes.join(', ')}); search typed → shown ${Date.now() - u0} ms`);
  // After a reload: the list kept on the device shows first (the fetch refreshes it).
  await admin.goto(`${server.url}/`);
  await waitReady(admin);
  const adminCold = await open(admin, '/admin', 'users-count', 'admin-user');
  console.log(`lists: admin users: first open after a reload (the copy kept on the device): ${adminCold} ms`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
