// A warden's first sync stores each pull page as one IndexedDB value, and writes the records and
// the lists' rows from them after its round (`LocalStore::stage_page`, `defer_rows`,
// docs/SYNC.md). A case opened at once is there; whenever the page is reloaded — while the pages
// are still staged or once they are unpacked — and online or not, the case list shows every case,
// newest first, and pages on in that order; and the records and rows do get written, with no
// staged page left.

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  api, CITY, eventually, goOffline, launchBrowser, login, PASSWORD, setupCity, signIn, startServer, waitAttr,
  waitFor, waitReady,
} from './harness.mjs';

const N = 1200;
const PAGE = 50;

/** N cases of grid G1 reported by its warden through the API, one a minute; newest first. */
async function seedCases(server) {
  const token = await login(server.url, 'wa', PASSWORD);
  const actor = '00000000-0000-4000-a000-0000000f1a01';
  const start = Date.now() - N * 60000;
  const ids = [];
  for (let b = 0; b < N / 400; b++) {
    const ops = [];
    for (let k = 0; k < 400; k++) {
      const i = b * 400 + k + 1;
      const record = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      ids.push(record);
      ops.push({
        id: `00000000-0000-4000-9f00-${String(i).padStart(12, '0')}`,
        actor,
        hlc: `${String(Date.now()).padStart(15, '0')}-${String(i).padStart(6, '0')}`,
        collection: 'cases',
        record,
        body: {
          kind: 'set',
          fields: {
            grid: CITY.g1, title: `楼道堆物 ${i}`, category: 'environment', source: 'patrol', status: 'reported',
            reporter: 'wa', reported_at: start + i * 60000, deadline: start + i * 60000 + 72 * 3600000,
          },
        },
        schema: 1,
      });
    }
    const res = await api(server.url, token, 'POST', '/api/v1/sync/push', { protocol: 2, actor, ops });
    assert.ok(res.results.every((r) => 'seq' in r), 'every case stored');
  }
  return ids.reverse();
}

/** The case list's count and the ids of its rows. */
const listed = (page) =>
  page.evaluate(() => {
    const el = document.querySelector('[data-testid=cases-count]');
    return {
      total: Number(el?.dataset.total),
      ids: [...document.querySelectorAll('[data-testid=case-item]')].map((e) => e.dataset.id),
    };
  });

/** Opens the case list from the tabs and checks its count, first page and second page. */
async function expectList(page, newest, what) {
  await page.locator('nav.tabs a[href="/cases"]').click();
  await waitAttr(page, '[data-testid=cases-count]', 'data-total', String(N));
  await waitAttr(page, '[data-testid=cases-count]', 'data-to', String(PAGE));
  assert.deepEqual((await listed(page)).ids, newest.slice(0, PAGE), `${what}: newest first`);
  await page.locator('[data-testid=page-next]').click();
  await waitAttr(page, '[data-testid=cases-count]', 'data-from', String(PAGE + 1));
  assert.deepEqual((await listed(page)).ids, newest.slice(PAGE, 2 * PAGE), `${what}: the next page`);
}

/**
 * What the device has written: case records, case rows under their order keys, whether the
 * counts are kept, and the staged pages left.
 */
const orderStored = (page) =>
  page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('tongxin-data-wa');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(['order', 'records', 'meta'], 'readonly');
        const keys = tx.objectStore('order').getAllKeys();
        const records = tx.objectStore('records').getAllKeys();
        const meta = tx.objectStore('meta').getAllKeys();
        const cursor = tx.objectStore('meta').get('cursor');
        tx.oncomplete = () => resolve({
          records: records.result.filter((k) => k.startsWith('cases/')).length,
          cases: keys.result.filter((k) => k.startsWith('c/')).length,
          counted: keys.result.includes('#live'),
          staged: meta.result.filter((k) => k.startsWith('stage/')).length,
          cursor: Number(cursor.result),
        });
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  });

test('a warden\'s first sync: the case list is whole at once, after a reload at any moment, and offline', async (t) => {
  const server = await startServer(t);
  await setupCity(server);
  const newest = await seedCases(server);
  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();

  await signIn(page, server.url, 'wa');
  await expectList(page, newest, 'right after the first sync');
  // The sign-in's answer carried the account: the first round pulled without asking for it.
  const calls = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((e) => new URL(e.name))
    .filter((u) => u.pathname === '/api/v1/auth/me' || u.pathname === '/api/v1/sync/pull')
    .map((u) => u.pathname + u.search));
  assert.match(calls[0], /^\/api\/v1\/sync\/pull\?/, `requests in order: ${calls.join(', ')}`);
  // Each page was asked for once and in order, though the next one was always asked for
  // before the one before it was read (the answers' headers name it). Only the cursor the
  // sync ended at is asked again, by the rounds after it.
  const end = (await orderStored(page)).cursor;
  const cursors = calls.filter((c) => c.startsWith('/api/v1/sync/pull'))
    .map((c) => Number(new URLSearchParams(c.split('?')[1]).get('cursor')));
  const paged = cursors.filter((c) => c !== end);
  assert.ok(paged.length >= 2, `${N} cases take more than a page: ${cursors} (end ${end})`);
  assert.deepEqual(paged, [...new Set(paged)].sort((a, b) => a - b), `pages asked: ${cursors}`);
  // A case opened at once (its page may still be staged) shows what was pulled: the first of
  // the list's second page, where `expectList` left it.
  await page.locator(`[data-testid=case-item][data-id="${newest[PAGE]}"]`).click();
  await waitFor(page, 'the case open', (title) =>
    document.querySelector('[data-testid=case-title]')?.textContent === title, `楼道堆物 ${N - PAGE}`);
  // Reloaded at once: the rows may still be missing (the list then waits for its index) or
  // written; the list is the same either way.
  await page.reload();
  await waitReady(page);
  await expectList(page, newest, 'after a reload');
  // The rows do get written: by the round after the sync, or by the reloaded page's list.
  await eventually('every case row and the counts stored', async () => {
    const { cursor: _, ...stored } = await orderStored(page);
    assert.deepEqual(stored, { records: N, cases: N, counted: true, staged: 0 });
    return true;
  });
  await goOffline(page);
  await page.reload();
  await waitReady(page);
  await expectList(page, newest, 'offline, after a reload');
});
