// What the lossy-link test and bench share (issue 15): a warden's offline work driven through the
// app's own screens, what the device holds (read from its IndexedDB), what the server holds (read
// from its SQLite file, not through the API under test), and the check that nothing was lost or
// applied twice.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readable, sel, waitAttr, waitFor, waitReady, waitText } from './harness.mjs';

/**
 * A busy test picture (PNG bytes) of `w`×`h`: at 1600×1200 the app's JPEG of it is ~160 KB, the
 * size of a phone photo after the app's resize (harness.mjs's `picture` gives ~110 KB).
 */
export async function photo(page, w, h, seed) {
  const base64 = await page.evaluate(async ([w, h, seed]) => {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    const g = ctx.createLinearGradient(0, 0, w, h);
    g.addColorStop(0, `hsl(${seed * 40}, 70%, 50%)`);
    g.addColorStop(1, `hsl(${seed * 40 + 180}, 70%, 40%)`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    for (let i = 0; i < 1000; i++) {
      ctx.fillStyle = `hsla(${(i * 37 + seed * 11) % 360}, 80%, ${40 + ((i * 13) % 40)}%, 0.6)`;
      ctx.fillRect((i * 97 + seed * 31) % w, (i * 53 + seed * 17) % h, 6 + (i % 50), 4 + (i % 40));
    }
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, [w, h, seed]);
  return Buffer.from(base64, 'base64');
}

/**
 * Works offline through the app's screens (the page must already be offline and signed in):
 * `visits` visits, one in `householdEvery` (at most `maxHouseholds`) to a new household registered
 * on the spot, every other one to a compound; `cases` cases, the first `photoCases` with `photosPerCase` photos; the first
 * `worked` cases started and resolved with timeline notes. Returns the case ids.
 */
export async function workOffline(page, url, plan) {
  const { visits, householdEvery = 0, maxHouseholds = Infinity, cases, photoCases = 0, photosPerCase = 1, worked = 0, photoSize = [1600, 1200] } = plan;
  let households = 0;
  for (let i = 1; i <= visits; i++) {
    await page.goto(`${url}/visits/new`);
    await waitReady(page);
    const form = page.locator('[data-testid=visit-form]');
    const newHousehold = householdEvery > 0 && i % householdEvery === 1 % householdEvery && households < maxHouseholds;
    await form.locator('[name=kind]').selectOption(i % 3 || newHousehold ? 'household_visit' : 'patrol');
    if (i % 2) {
      // Every other visit is to a compound of the grid (the demo city has them on the device).
      await form.locator('[name=compound] option').nth(1).waitFor({ state: 'attached' });
      await form.locator('[name=compound]').selectOption({ index: 1 });
    }
    if (newHousehold) {
      households += 1;
      await form.locator('[name=household]').selectOption('new');
      await form.locator('[name=address]').fill(`${households}号楼${(i % 6) + 1}单元${100 + i}`);
      await form.locator('[name=head_name]').fill(`住户${households}`);
      await form.locator('[name=phone]').fill(`138-0000-${String(1000 + households).slice(-4)}`);
    }
    await form.locator('[name=notes]').fill(`第 ${i} 次走访：情况正常`);
    await page.locator(sel.save).click();
    await waitFor(page, `visit ${i} listed`, (n) => document.querySelector('[data-testid=visits-count]')?.dataset.total === String(n), i);
  }
  const caseIds = [];
  for (let i = 1; i <= cases; i++) {
    await page.goto(`${url}/cases/new`);
    await waitReady(page);
    await page.locator('form [name=title]').fill(`弱网事件 ${i}`);
    await page.locator('form [name=description]').fill(`第 ${i} 件：巷道积水，需要疏通`);
    await page.locator('form [name=category]').selectOption(i % 2 ? 'environment' : 'infrastructure');
    if (i <= photoCases) {
      const files = [];
      for (let k = 0; k < photosPerCase; k++) {
        files.push({ name: `p${i}-${k}.png`, mimeType: 'image/png', buffer: await photo(page, photoSize[0], photoSize[1], i * 10 + k) });
      }
      await page.locator('form input[name=photos]').setInputFiles(files);
      await waitFor(page, 'the photos in the form', (n) => document.querySelectorAll('form [data-testid=photo]').length === n, photosPerCase);
    }
    await page.locator(sel.save).click();
    await waitText(page, sel.caseTitle, `弱网事件 ${i}`);
    caseIds.push(new URL(page.url()).pathname.split('/').pop());
  }
  for (const id of caseIds.slice(0, worked)) {
    await page.goto(`${url}/cases/${id}`);
    await waitReady(page);
    await page.locator('[data-testid=lifecycle] [name=note]').fill('到现场查看，已联系物业');
    await page.locator('[data-testid=case-action][data-action=start]').click();
    await waitAttr(page, '[data-testid=case-status]', 'data-value', 'in_progress');
    await page.locator('[data-testid=lifecycle] [name=note]').fill('已疏通，居民满意');
    await page.locator('[data-testid=case-action][data-action=resolve]').click();
    await waitAttr(page, '[data-testid=case-status]', 'data-value', 'resolved');
  }
  return caseIds;
}

/**
 * What the device holds, read from the app's IndexedDB (`tongxin-data-<username>`): the ops in
 * its outbox, its records, how many ops were refused, the photos on the device and those still
 * to upload.
 */
export function deviceState(page, username) {
  return page.evaluate(async (name) => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const request = (store, what) =>
      new Promise((resolve, reject) => {
        const r = db.transaction(store, 'readonly').objectStore(store)[what]();
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    try {
      return {
        outbox: (await request('outbox', 'getAll')).map((s) => JSON.parse(s)),
        records: (await request('records', 'getAll')).map((s) => JSON.parse(s)),
        rejected: (await request('rejected', 'getAll')).map((s) => JSON.parse(s)),
        blobs: await request('blobs', 'getAllKeys'),
        pendingBlobs: await request('blobs_pending', 'getAllKeys'),
      };
    } finally {
      db.close();
    }
  }, `tongxin-data-${username}`);
}

/** A query on the server's SQLite file (read-only, through the sqlite3 command line tool). */
export function sql(server, query) {
  const file = path.join(server.dataDir, 'tongxin.sqlite3');
  let out;
  try {
    out = execFileSync('sqlite3', ['-readonly', '-json', file, query], { encoding: 'utf8', maxBuffer: 256 << 20 });
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('the sqlite3 command line tool is needed to read the server database: apt-get install sqlite3');
    throw new Error(`sqlite3 ${query.slice(0, 200)}: ${err.code ?? err.status} ${String(err.stderr ?? '').slice(0, 500)}`);
  }
  return out.trim() ? JSON.parse(out) : [];
}

/** The op log rows of `actor` on the server: `{ rows, distinct }`. */
export function opLog(server, actor) {
  const [r] = sql(server, `SELECT COUNT(*) AS rows, COUNT(DISTINCT op_id) AS ops FROM ops WHERE actor = '${actor}'`);
  return { rows: r.rows, distinct: r.ops };
}

/** The op ids of the device's outbox, with its actor (one per device install). */
export function outboxSummary(device) {
  const actors = [...new Set(device.outbox.map((op) => op.actor))];
  assert.equal(actors.length, 1, 'one device, one actor');
  return { actor: actors[0], ids: new Set(device.outbox.map((op) => op.id)) };
}

/**
 * The proof that nothing was lost and nothing applied twice: every op the device had queued is
 * in the server's op log exactly once (rows = distinct ids = the outbox, and the same ids); no op
 * of the device was refused; every record the device touched is stored with the same fields,
 * stamps and timeline entries as on the device; every photo is on the server.
 */
export function assertNothingLost(server, before, after) {
  const { actor, ids } = outboxSummary(before);
  const log = opLog(server, actor);
  assert.equal(log.rows, ids.size, `the op log holds ${log.rows} rows for the device's ${ids.size} ops`);
  assert.equal(log.distinct, ids.size, 'no op twice, none missing');
  const stored = new Set(sql(server, `SELECT op_id FROM ops WHERE actor = '${actor}'`).map((r) => r.op_id));
  assert.deepEqual([...stored].sort(), [...ids].sort(), 'the very ops the device sent');
  assert.deepEqual(after.rejected, [], 'no op refused');
  assert.deepEqual(after.outbox, [], 'the outbox is empty');
  assert.deepEqual(after.pendingBlobs, [], 'no photo waits');

  const touched = new Set(before.outbox.map((op) => `${op.collection}/${op.record}`));
  const local = new Map(before.records.map(readable).map((r) => [`${r.collection}/${r.id}`, r]));
  const touchedIds = [...new Set(before.outbox.map((op) => `'${op.record}'`))].join(', ');
  const rows = sql(server, `SELECT collection, id, body FROM records WHERE id IN (${touchedIds})`);
  const remote = new Map(rows.map((r) => [`${r.collection}/${r.id}`, readable(JSON.parse(r.body))]));
  for (const key of touched) {
    const mine = local.get(key);
    const theirs = remote.get(key);
    assert.ok(mine, `the device holds ${key}`);
    assert.ok(theirs, `the server holds ${key}`);
    assert.deepEqual(theirs.fields, mine.fields, `${key}: the same fields and stamps`);
    assert.deepEqual(Object.keys(theirs.log ?? {}).sort(), Object.keys(mine.log ?? {}).sort(), `${key}: the same timeline`);
  }
  const blobs = new Set(sql(server, 'SELECT sha256 FROM blobs').map((r) => r.sha256));
  for (const sha of before.blobs) assert.ok(blobs.has(sha), `photo ${sha} is on the server`);
  return { ops: ids.size, records: touched.size, photos: before.blobs.length };
}

/** Polls `check` every 100 ms until it is truthy or `deadline` (ms since the epoch) passes; returns the time it became true or null. */
export async function until(check, deadline) {
  for (;;) {
    try {
      if (await check()) return Date.now();
    } catch (_) {
      // The page may be busy or navigating: try again.
    }
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
